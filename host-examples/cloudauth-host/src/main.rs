//! cloudauth-host: a small wasmtime host for the cloudauth component.
//!
//! `cloudauth-host plan [TARGET]` shows what the component decides for a
//! container registry target: which provider and cloud serve it, which
//! token it needs, and every HTTP request of the credential flow, built by
//! the component itself. It sends nothing: the component is sans-IO, and
//! the plan feeds it placeholders instead of secrets.

mod component;
mod credential_helper;
mod kubelet;
mod placeholder;
mod plan;
mod render;
mod transport;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cloudauth-host [--component PATH] [--json] [plan [TARGET]]

Shows what the cloudauth component does for a registry TARGET (an image
reference, a registry host, or an oci:// URL): the provider and cloud it
resolves, the token scopes and audience, and the chain of HTTP requests of
the credential flow, with placeholders for every secret. Nothing is sent.

  plan [TARGET]      plan TARGET (default: myregistry.azurecr.io/app:v1)
  --component PATH   the component (default: $CLOUDAUTH_WASM, else
                     target/cloudauth.wasm of the workspace; build it with
                     `cargo xtask build`)
  --json             print the plan as JSON
  -h, --help         this text

examples:
  cloudauth-host
  cloudauth-host plan 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0
  cloudauth-host plan public.ecr.aws/nginx/nginx
  cloudauth-host --json plan europe-west1-docker.pkg.dev/my-project/repo/app
  cloudauth-host plan ghcr.io/fluxcd/source-controller";

struct Args {
    component: PathBuf,
    json: bool,
    target: String,
}

enum Command {
    Help,
    Plan(Args),
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command> {
    let mut component = std::env::var_os("CLOUDAUTH_WASM").map(PathBuf::from);
    let mut json = false;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => json = true,
            "--component" => match args.next() {
                Some(path) => component = Some(PathBuf::from(path)),
                None => bail!("--component needs a path"),
            },
            flag if flag.starts_with("--component=") => {
                component = Some(PathBuf::from(&flag["--component=".len()..]));
            }
            flag if flag.starts_with('-') => bail!("unknown option {flag}"),
            _ => positional.push(arg),
        }
    }
    let target = match positional.as_slice() {
        [] => plan::DEFAULT_TARGET.to_string(),
        [cmd] if cmd == "plan" => plan::DEFAULT_TARGET.to_string(),
        [cmd, target] if cmd == "plan" => target.clone(),
        [cmd, ..] if cmd == "plan" => bail!("plan takes one target"),
        [other, ..] => bail!("unknown command {other:?} (did you mean `plan {other}`?)"),
    };
    Ok(Command::Plan(Args { component: component.unwrap_or_else(component::default_path), json, target }))
}

fn run(args: Args) -> Result<bool> {
    let mut instance = component::load(&args.component)?;
    let plan = plan::plan(&mut instance, &args.target);
    let text = if args.json { serde_json::to_string_pretty(&render::json(&plan))? + "\n" } else { render::text(&plan) };
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(plan.resolved.is_ok())
}

fn main() -> ExitCode {
    // The credential helpers: `docker-credential-cloudauth` (a link to this
    // executable) and two subcommands. They run flows with real I/O.
    let argv: Vec<String> = std::env::args().collect();
    if credential_helper::invoked_as_helper(argv.first()) {
        return credential_helper::main(argv.get(1..).unwrap_or_default());
    }
    match argv.get(1).map(String::as_str) {
        Some("credential-helper") => return credential_helper::main(argv.get(2..).unwrap_or_default()),
        Some("kubelet-credential-provider") => return kubelet::main(argv.get(2..).unwrap_or_default()),
        _ => {}
    }
    let command = match parse_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("cloudauth-host: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        // An unresolvable target still prints its plan (with the error), but fails.
        Command::Plan(args) => match run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("cloudauth-host: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
