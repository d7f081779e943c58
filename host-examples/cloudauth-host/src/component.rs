//! Loading the cloudauth component into wasmtime.
//!
//! The component imports nothing, so the linker stays empty: the host gives
//! it no capability at all, and it could not do I/O if it tried.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "cloudauth",
});

pub use exports::cloudauth::auth as api;

/// A running instance of the component.
pub struct Instance {
    pub store: Store<()>,
    pub api: Cloudauth,
}

/// Where the component is by default: `<workspace>/target/cloudauth.wasm`,
/// where `cargo xtask build` writes it.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/cloudauth.wasm")
}

/// Loads and instantiates the component at `path`.
pub fn load(path: &Path) -> Result<Instance> {
    if !path.is_file() {
        bail!(
            "no component at {}\n  build it first: cargo xtask build\n  (or point --component / CLOUDAUTH_WASM at a cloudauth.wasm)",
            path.display()
        );
    }
    let engine = Engine::default();
    let component = Component::from_file(&engine, path)
        .map_err(|e| anyhow!("cannot load the component {}: {e:#}", path.display()))?;
    let linker: Linker<()> = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let api = Cloudauth::instantiate(&mut store, &component, &linker).map_err(|e| {
        anyhow!("cannot instantiate {} (is it a cloudauth component of this version?): {e:#}", path.display())
    })?;
    Ok(Instance { store, api })
}

/// A WIT error in one line: `kind: message`.
pub fn describe(error: &api::types::Error) -> String {
    use api::types::Error;
    match error {
        Error::InvalidInput(m) => format!("invalid-input: {m}"),
        Error::Unsupported(m) => format!("unsupported: {m}"),
        Error::HttpStatus(e) => match &e.code {
            Some(code) => format!("http-status {} ({code}): {}", e.status, e.message),
            None => format!("http-status {}: {}", e.status, e.message),
        },
        Error::MalformedResponse(m) => format!("malformed-response: {m}"),
    }
}

/// Flattens a component call: a trap and a WIT error both become text.
pub fn flatten<T>(result: wasmtime::Result<Result<T, api::types::Error>>) -> Result<T, String> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(describe(&error)),
        Err(trap) => Err(format!("the component trapped: {trap:#}")),
    }
}
