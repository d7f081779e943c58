//! cloudauth-proxy: cloudauth in front of real traffic.
//!
//! One binary, three services, each configured in one small file and any
//! number of them run at once:
//!
//! * `[[mirror]]`: a registry mirror that injects the identity's
//!   credentials (docker, containerd `hosts.toml`, skopeo pull through it
//!   with none of their own);
//! * `[ext-authz]`: an Envoy `ext_authz` HTTP service answering with the
//!   `Authorization` Envoy adds upstream;
//! * `[[sigv4]]`: a SigV4 signing proxy for one AWS service.

mod body;
mod cloud;
mod config;
mod ext_authz;
mod mirror;
mod secret;
mod server;
mod sigv4;
mod time;
mod upstream;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cloudauth-proxy --config FILE [--check]

Runs the registry mirrors, the Envoy ext_authz service and the SigV4 signing
proxies that FILE configures (see host-examples/cloudauth-proxy/README.md).

  --config FILE   the configuration (TOML)
  --check         validate the configuration and load the component, then exit
  -h, --help      this text

environment:
  CLOUDAUTH_WASM   the component, when the file names none
  RUST_LOG         log filter (default: info); logs never hold a secret";

struct Args {
    config: PathBuf,
    check: bool,
}

fn parse_args(args: &[String]) -> Result<Option<Args>> {
    let mut config = None;
    let mut check = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--config" => config = Some(PathBuf::from(rest.next().context("--config needs a file")?)),
            "--check" => check = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Some(Args { config: config.context("--config FILE is required")?, check }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cloudauth-proxy: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cloudauth-proxy: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudauth-proxy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let config = config::load(&args.config)?;
    let client = upstream::Client::new(config.ca_file.as_deref())?;
    let cloud = cloud::connect(&config).await?;
    if args.check {
        println!(
            "configuration OK: {} mirror(s), ext-authz {}, {} sigv4 proxy(ies)",
            config.mirrors.len(),
            if config.ext_authz.is_some() { "on" } else { "off" },
            config.sigv4.len()
        );
        return Ok(());
    }
    let mut tasks = Vec::new();
    for (i, m) in config.mirrors.iter().enumerate() {
        let mirror = Arc::new(mirror::Mirror::new(m, cloud.clone(), client.clone()));
        let name = format!("mirror[{i}] for {}", m.upstream.authority);
        tasks.push(server::serve(&name, m.listen, mirror, |m, r| async move { m.handle(r).await }).await?);
    }
    if let Some(e) = &config.ext_authz {
        let service = Arc::new(ext_authz::ExtAuthz::new(e.clone(), cloud.clone()));
        tasks.push(server::serve("ext-authz", e.listen, service, |s, r| async move { s.handle(r).await }).await?);
    }
    for (i, s) in config.sigv4.iter().enumerate() {
        let proxy = Arc::new(sigv4::Sigv4Proxy::new(s.clone(), cloud.clone(), client.clone()));
        let name = format!("sigv4[{i}] for {} {}", s.service, s.upstream.authority);
        tasks.push(server::serve(&name, s.listen, proxy, |p, r| async move { p.handle(r).await }).await?);
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    eprintln!("{}", cloud.stats_line());
    for task in tasks {
        task.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
