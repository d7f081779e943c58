//! cloudauth-runtime: runs the cloudauth component for Rust hosts.
//!
//! The component is sans-IO: it decides what to send and what an answer
//! means, and the host does the I/O. This crate is that host side, once,
//! for every Rust embedder (the CLI, the credential helper, the kubelet
//! provider, the registry mirror, the Envoy ext_authz service):
//!
//! * [`LoadedComponent`]: the component compiled once (the artifact cached
//!   on disk, keyed by the wasm's SHA-256 and the engine), linked into an
//!   `InstancePre`;
//! * [`Pool`]: a bounded pool of instances; [`PooledInstance::call`] runs a
//!   pure export (`resolve`, request builders, parsers) on one, and a trap
//!   drops that instance only;
//! * [`Runtime`]: drives sessions asynchronously over a [`Transport`]
//!   ([`HttpClient`]: tokio, hyper, rustls, timeouts, `HTTPS_PROXY` /
//!   `NO_PROXY`, size limits), gets identity tokens from an
//!   [`IdentitySource`] ([`TokenFiles`]), passes the time in, caches
//!   credentials by `cache-key()` for all instances, and runs one flow for
//!   concurrent identical requests;
//! * [`Error`]: names the step and the host that failed.
//!
//! Logs go through `tracing` and never hold a secret: URLs lose their
//! query, headers and bodies are not logged, credentials travel in
//! [`Secret`].
//!
//! ```no_run
//! # async fn example() -> Result<(), cloudauth_runtime::Error> {
//! use std::sync::Arc;
//! use cloudauth_runtime::*;
//!
//! let component = LoadedComponent::load("cloudauth.wasm".as_ref(), &LoadOptions::default())?;
//! let pool = Pool::new(Arc::new(component), 8);
//! let http = HttpClient::new(HttpConfig::from_env()?)?;
//! let runtime = Runtime::new(pool, Arc::new(http), RuntimeConfig::default());
//! let options = options_from_env(&process_env())?;
//! let login = runtime
//!     .registry_credentials("myregistry.azurecr.io/app", api::session::Identity::Controller, options, &TokenFiles::default())
//!     .await?;
//! println!("{} for {}", login.username, login.registry);
//! # Ok(()) }
//! ```

mod bindings;
mod cache;
mod component;
mod env;
mod error;
mod flight;
mod http;
mod pool;
mod runtime;
mod secret;
mod tokens;

pub use bindings::api;
pub use bindings::{Cloudauth, CloudauthPre};
pub use cache::MAX_DURATION as CACHE_MAX_DURATION;
pub use component::{DEFAULT_FUEL_PER_CALL, LoadOptions, LoadedComponent, default_cache_dir};
pub use env::{options_from_env, passed_to_flow, process_env, read_azure_environment};
pub use error::{Error, ErrorKind, Step, describe};
pub use http::{
    HttpClient, HttpConfig, NoProxy, Proxy, ProxyConfig, Transport, read_pem_certificates, shown_url, url_host,
};
pub use pool::{Pool, PoolStats, PooledInstance};
pub use runtime::{Clock, CredentialRequest, Obtained, RegistryLogin, Runtime, RuntimeConfig, Source, system_time};
pub use secret::Secret;
pub use tokens::{IdentitySource, TokenFiles, read_token_file};

/// The wasmtime this crate runs the component with, for callers that name
/// its types (`Store`, `Engine`).
pub use wasmtime;
