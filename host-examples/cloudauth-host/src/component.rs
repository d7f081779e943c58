//! The cloudauth component, loaded through cloudauth-runtime.
//!
//! The library compiles the component once and keeps the compiled artifact
//! in `~/.cache/cloudauth` (keyed by the wasm's SHA-256 and the engine), so
//! a helper run once per pull does not compile it each time. The component
//! imports nothing: it gets no capability and could not do I/O if it tried.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use cloudauth_runtime::{LoadOptions, LoadedComponent, Pool};

pub use cloudauth_runtime::api;
pub use cloudauth_runtime::describe;

/// An instance checked out of the library's pool.
pub type Instance = cloudauth_runtime::PooledInstance;

/// Where the component is by default: `<workspace>/target/cloudauth.wasm`,
/// where `cargo xtask build` writes it.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/cloudauth.wasm")
}

/// The component this executable was built with, if it was built after
/// the component (see `build.rs`).
#[cfg(embedded_component)]
const EMBEDDED: Option<&[u8]> = Some(include_bytes!(concat!(env!("OUT_DIR"), "/cloudauth.wasm")));
#[cfg(not(embedded_component))]
const EMBEDDED: Option<&[u8]> = None;

/// Where the component comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// Built into this executable.
    Embedded,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Embedded => f.write_str("built into this executable"),
        }
    }
}

/// `explicit` (`--component`), else `$CLOUDAUTH_WASM`, else the component
/// built into the executable, else [`default_path`].
pub fn locate(explicit: Option<PathBuf>) -> Location {
    let from_env = || std::env::var_os("CLOUDAUTH_WASM").filter(|v| !v.is_empty()).map(PathBuf::from);
    match explicit.or_else(from_env) {
        Some(path) => Location::File(path),
        None if EMBEDDED.is_some() => Location::Embedded,
        None => Location::File(default_path()),
    }
}

/// Loads the component.
pub fn load_component(location: &Location) -> Result<Arc<LoadedComponent>> {
    let loaded = match (location, EMBEDDED) {
        (Location::Embedded, Some(bytes)) => LoadedComponent::from_bytes(bytes, &LoadOptions::default()),
        (Location::Embedded, None) => bail!("no component is built into this executable"),
        (Location::File(path), _) => {
            if !path.is_file() {
                bail!(
                    "no component at {}\n  build it first: cargo xtask build\n  (or point --component / CLOUDAUTH_WASM at a cloudauth.wasm)",
                    path.display()
                );
            }
            LoadedComponent::load(path, &LoadOptions::default())
        }
    };
    let component = loaded.map_err(|e| anyhow!("{e} (is it a cloudauth component of this version?)"))?;
    Ok(Arc::new(component))
}

/// Loads the component and checks out one instance of it.
pub fn load(location: &Location) -> Result<Instance> {
    let pool = Pool::new(load_component(location)?, 1);
    match pool.try_get() {
        Some(instance) => instance.map_err(|e| anyhow!("{e}")),
        None => bail!("no instance of the component is free"),
    }
}

/// Flattens a component call: a trap and a WIT error both become text.
pub fn flatten<T>(result: Result<Result<T, api::types::Error>, cloudauth_runtime::Error>) -> Result<T, String> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(describe(&error)),
        Err(error) => Err(error.to_string()),
    }
}
