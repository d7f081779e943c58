//! cloudauth: the pure logic of cloud workload-identity authentication.
//!
//! The crate is sans-IO: it builds HTTP requests and parses responses, and
//! the caller (a WebAssembly host) sends them. Time comes in as `now`, Unix
//! seconds. The same core is compiled natively for tests and to
//! `wasm32-unknown-unknown` as a component whose WIT glue lives in
//! [`component`] and is only compiled for wasm.

pub mod actions_oidc;
mod ascii;
pub mod aws;
pub mod azure;
pub mod cluster;
pub mod credentials;
mod der;
pub mod error;
pub mod gcp;
pub mod github_app;
pub mod host;
pub mod http;
pub mod jws;
pub mod jwt;
pub mod kubernetes;
pub mod local_endpoint;
pub mod oci;
pub mod pem;
pub mod policy;
pub mod registry;
pub mod response;
pub mod secret;
pub mod session;
pub mod time;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod component;

pub use error::{Error, Result};
