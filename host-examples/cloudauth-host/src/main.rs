//! cloudauth-host: a small wasmtime host for the cloudauth component.
//!
//! `cloudauth-host plan [TARGET]` shows what the component decides for a
//! container registry target: which provider and cloud serve it, which
//! token it needs, and every HTTP request of the credential flow, built by
//! the component itself. It sends nothing: the component is sans-IO, and
//! the plan feeds it placeholders instead of secrets.
//!
//! `cloudauth-host demo [TARGET]` runs the whole flow against a fake cloud
//! with canned answers, step by step. With no command, the host plans and
//! then demonstrates the built-in default target.

mod admission;
mod admission_server;
mod canned;
mod component;
mod credential_helper;
mod demo;
mod flow;
mod git_credential;
mod kubelet;
mod placeholder;
mod plan;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cloudauth-host [--component PATH] [--json] [plan [TARGET] | demo [TARGET] [--identity ID]]
       cloudauth-host [--component PATH] --version

Shows what the cloudauth component does for a registry TARGET (an image
reference, a registry host, or an oci:// URL): the provider and cloud it
resolves, the token scopes and audience, and the chain of HTTP requests of
the credential flow, with placeholders for every secret. Nothing is sent.
With no command: plan, then demo, for the default target.

  plan [TARGET]      plan TARGET (default: myregistry.azurecr.io/app:v1)
  demo [TARGET]      run TARGET's whole flow, step by step, against a fake
                     cloud with canned answers and fake settings, then run
                     it again from the component's cache
  --identity ID      demo as `controller` (the host's own identity, from
                     fake environment variables; the default) or
                     `service-account` (a fake default/app service account
                     with the provider's annotations)
  --component PATH   the component (default: $CLOUDAUTH_WASM, else the one
                     built into this executable, else target/cloudauth.wasm
                     of the workspace; build it with `cargo xtask build`)
  --json             print the plan or the demo as JSON
  -V, --version      this program's version, and the component's version
                     and SHA-256
  -h, --help         this text

real I/O (credentials from the process environment; see host-examples/e2e):
  credential-helper get|store|erase|list
                     the docker credential-helper protocol (also run as
                     `docker-credential-cloudauth` through a symlink)
  kubelet-credential-provider
                     the kubelet image credential provider protocol
  git-credential [--github-app-id ID] [--github-app-installation-id ID |
                 --github-app-installation-owner OWNER]
                 [--github-app-private-key-file PATH] [--github-app-base-url URL]
                 get|store|erase
                     git's credential-helper protocol: Azure DevOps and
                     CodeCommit from the environment's identity, GitHub
                     (Enterprise) with a GitHub App (Flux's githubApp* keys;
                     also GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID,
                     GITHUB_APP_INSTALLATION_OWNER, GITHUB_APP_PRIVATE_KEY_FILE,
                     GITHUB_APP_BASE_URL)
  admission-webhook --rules FILE --tls-cert FILE --tls-key FILE [--listen ADDR]
                     a Kubernetes validating admission webhook deciding
                     Flux objects and Pods under a rules document
                     (docs/policy.md)

examples:
  cloudauth-host
  cloudauth-host plan 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0
  cloudauth-host plan public.ecr.aws/nginx/nginx
  cloudauth-host --json plan europe-west1-docker.pkg.dev/my-project/repo/app
  cloudauth-host plan ghcr.io/fluxcd/source-controller
  cloudauth-host demo 123456789012.dkr.ecr.us-east-1.amazonaws.com/app
  cloudauth-host demo europe-docker.pkg.dev/p/r/app --identity service-account";

struct Args {
    component: component::Location,
    json: bool,
    target: String,
}

enum Command {
    Help,
    Version(component::Location),
    Plan(Args),
    Demo(Args, demo::IdentityMode),
    /// No command: plan, then demo.
    PlanAndDemo(Args, demo::IdentityMode),
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command> {
    let mut component = None;
    let mut json = false;
    let mut version = false;
    let mut identity = None;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => version = true,
            "--json" => json = true,
            "--component" => match args.next() {
                Some(path) => component = Some(PathBuf::from(path)),
                None => bail!("--component needs a path"),
            },
            flag if flag.starts_with("--component=") => {
                component = Some(PathBuf::from(&flag["--component=".len()..]));
            }
            "--identity" => match args.next() {
                Some(id) => identity = Some(demo::IdentityMode::parse(&id).map_err(anyhow::Error::msg)?),
                None => bail!("--identity needs controller or service-account"),
            },
            flag if flag.starts_with("--identity=") => {
                identity = Some(demo::IdentityMode::parse(&flag["--identity=".len()..]).map_err(anyhow::Error::msg)?);
            }
            flag if flag.starts_with('-') => bail!("unknown option {flag}"),
            _ => positional.push(arg),
        }
    }
    if version {
        if !positional.is_empty() {
            bail!("--version takes no command");
        }
        return Ok(Command::Version(component::locate(component)));
    }
    let (command, target) = match positional.as_slice() {
        [] => ("", plan::DEFAULT_TARGET.to_string()),
        [cmd] if cmd == "plan" || cmd == "demo" => (cmd.as_str(), plan::DEFAULT_TARGET.to_string()),
        [cmd, target] if cmd == "plan" || cmd == "demo" => (cmd.as_str(), target.clone()),
        [cmd, ..] if cmd == "plan" || cmd == "demo" => bail!("{cmd} takes one target"),
        [other, ..] => bail!("unknown command {other:?} (did you mean `plan {other}` or `demo {other}`?)"),
    };
    let args = Args { component: component::locate(component), json, target };
    let mode = identity.unwrap_or(demo::IdentityMode::Controller);
    Ok(match command {
        "plan" if identity.is_some() => bail!("--identity is for demo"),
        "plan" => Command::Plan(args),
        "demo" => Command::Demo(args, mode),
        _ => Command::PlanAndDemo(args, mode),
    })
}

fn run(args: Args) -> Result<bool> {
    let mut instance = component::load(&args.component)?;
    let plan = plan::plan(&mut instance, &args.target);
    let text = if args.json { serde_json::to_string_pretty(&render::json(&plan))? + "\n" } else { render::text(&plan) };
    print(&text)?;
    Ok(plan.resolved.is_ok())
}

/// `demo`, after the plan when `with_plan` (one JSON document then).
fn run_demo(args: Args, identity: demo::IdentityMode, with_plan: bool) -> Result<bool> {
    let mut instance = component::load(&args.component)?;
    let plan = with_plan.then(|| plan::plan(&mut instance, &args.target));
    let demo = demo::demo(&mut instance, &args.target, identity, &flow::now);
    let text = match (&plan, args.json) {
        (None, false) => demo::text(&demo),
        (Some(plan), false) => format!("{}\n{}", render::text(plan), demo::text(&demo)),
        (None, true) => serde_json::to_string_pretty(&demo::json(&demo))? + "\n",
        (Some(plan), true) => {
            let both = serde_json::json!({"plan": render::json(plan), "demo": demo::json(&demo)});
            serde_json::to_string_pretty(&both)? + "\n"
        }
    };
    print(&text)?;
    Ok(plan.is_none_or(|p| p.resolved.is_ok()) && demo.succeeded())
}

/// `--version`: this program, and which component runs.
fn version(location: &component::Location) -> Result<bool> {
    let component = component::load_component(location)?;
    print(&format!(
        "cloudauth-host {}\ncomponent cloudauth:auth@{} sha256:{}\n  ({location})\n",
        env!("CARGO_PKG_VERSION"),
        component.version().unwrap_or("unknown"),
        component.sha256()
    ))?;
    Ok(true)
}

fn print(text: &str) -> Result<()> {
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
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
        Some("git-credential") => return git_credential::main(argv.get(2..).unwrap_or_default()),
        Some("kubelet-credential-provider") => return kubelet::main(argv.get(2..).unwrap_or_default()),
        Some("admission-webhook") => return admission_server::main(argv.get(2..).unwrap_or_default()),
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
        Command::Version(location) => exit(version(&location)),
        // An unresolvable target still prints its plan (with the error), but
        // fails; so does a demo that did not get (cached) credentials.
        Command::Plan(args) => exit(run(args)),
        Command::Demo(args, identity) => exit(run_demo(args, identity, false)),
        Command::PlanAndDemo(args, identity) => exit(run_demo(args, identity, true)),
    }
}

fn exit(outcome: Result<bool>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cloudauth-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}
