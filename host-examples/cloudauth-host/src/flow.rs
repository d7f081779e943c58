//! Registry credentials with real I/O, for the helpers
//! (`credential-helper`, `kubelet-credential-provider`), through
//! cloudauth-runtime: the component from `$CLOUDAUTH_WASM` (else the one
//! built into the executable, else the workspace's `target/cloudauth.wasm`),
//! the library's HTTP client
//! configured from the environment (`HTTPS_PROXY`, `NO_PROXY`,
//! `SSL_CERT_FILE`, `CLOUDAUTH_CA_FILE`), and its session driver. With
//! `CLOUDAUTH_LOG` set, the library's logs (each step: method, host, path,
//! status; never a query, a header or a secret) go to stderr.

use std::fmt;
use std::sync::Arc;

use cloudauth_runtime::api::session::{Credentials, Options, Target};
use cloudauth_runtime::{
    CredentialRequest, HttpClient, HttpConfig, IdentitySource, Pool, RegistryLogin, Runtime, RuntimeConfig,
};

use crate::component;

pub use cloudauth_runtime::api::session::{Identity, ServiceAccount};
pub use cloudauth_runtime::{TokenFiles, options_from_env, process_env, system_time as now};

/// Why a helper got no credentials.
#[derive(Debug)]
pub enum FlowError {
    /// The flow failed (or the component refused): the error names the step
    /// and the host.
    Flow(cloudauth_runtime::Error),
    /// The host could not set up (component, configuration).
    Host(anyhow::Error),
}

impl FlowError {
    /// True when the component says this target is not one it serves.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, FlowError::Flow(e) if e.is_unsupported())
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Flow(e) => write!(f, "{e}"),
            FlowError::Host(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<cloudauth_runtime::Error> for FlowError {
    fn from(e: cloudauth_runtime::Error) -> Self {
        FlowError::Flow(e)
    }
}

impl From<anyhow::Error> for FlowError {
    fn from(e: anyhow::Error) -> Self {
        FlowError::Host(e)
    }
}

/// The runtime for one session (one instance, the environment's transport)
/// and the current-thread executor that drives it.
fn one_session() -> Result<(Runtime, tokio::runtime::Runtime), FlowError> {
    init_logging();
    let component = component::load_component(&component::locate(None))?;
    let http = HttpClient::new(HttpConfig::from_env()?)?;
    let runtime = Runtime::new(Pool::new(component, 1), Arc::new(http), RuntimeConfig::default());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FlowError::Host(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    Ok((runtime, tokio))
}

/// Registry credentials for `reference`: one session, as `identity`.
/// Options: the environment's, plus the caller's changes.
pub fn registry_credentials(
    reference: &str,
    identity: Identity,
    options: Options,
    tokens: &dyn IdentitySource,
) -> Result<RegistryLogin, FlowError> {
    let (runtime, tokio) = one_session()?;
    Ok(tokio.block_on(runtime.registry_credentials(reference, identity, options, tokens))?)
}

/// Credentials for any session target (Git: `git-credential`): one session.
pub fn credentials(
    target: Target,
    identity: Identity,
    options: Options,
    tokens: &dyn IdentitySource,
) -> Result<Credentials, FlowError> {
    let (runtime, tokio) = one_session()?;
    let request = CredentialRequest { target, identity, options };
    Ok(tokio.block_on(runtime.credentials(&request, tokens))?.credentials.into_inner())
}

/// The library's logs on stderr when `CLOUDAUTH_LOG` is set (any non-empty
/// value; `debug`/`trace` choose the level, default `debug`).
fn init_logging() {
    let Some(level) = std::env::var("CLOUDAUTH_LOG").ok().filter(|v| !v.is_empty()) else { return };
    let level = match level.as_str() {
        "trace" => tracing_subscriber::filter::LevelFilter::TRACE,
        "info" => tracing_subscriber::filter::LevelFilter::INFO,
        _ => tracing_subscriber::filter::LevelFilter::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .try_init();
}
