//! Loads the built cloudauth component into wasmtime for the test runners.
//! Every test that says "through the component" goes through here: the
//! `.wasm` is built by `cloudauth_build` (the same code as `cargo xtask
//! build`), instantiated with an empty linker (it imports nothing), and
//! called through bindings generated from `wit/`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

wasmtime::component::bindgen!({
    path: "wit",
    world: "cloudauth",
});

pub use exports::cloudauth::auth as api;

/// An instance of the component with its store.
pub struct Instance {
    pub store: Store<()>,
    pub api: Cloudauth,
}

/// The component file: `CLOUDAUTH_WASM` if set, else freshly built.
pub fn component_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CLOUDAUTH_WASM") {
        return PathBuf::from(p);
    }
    match cloudauth_build::build_component() {
        Ok(p) => p,
        Err(e) => panic!("building the component failed: {e}"),
    }
}

fn compiled() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let path = component_path();
        let component = Component::from_file(&engine, &path)
            .unwrap_or_else(|e| panic!("cannot load component {}: {e:#}", path.display()));
        (engine, component)
    })
}

/// A fresh instance. The linker is empty: instantiation fails if the
/// component imports anything.
pub fn instantiate() -> Instance {
    let (engine, component) = compiled();
    let linker: Linker<()> = Linker::new(engine);
    let mut store = Store::new(engine, ());
    let api = Cloudauth::instantiate(&mut store, component, &linker)
        .unwrap_or_else(|e| panic!("cannot instantiate the component: {e:#}"));
    Instance { store, api }
}

/// The number of imports the component declares.
pub fn import_count() -> usize {
    let (engine, component) = compiled();
    component.component_type().imports(engine).count()
}

/// Session options for a controller-level flow test: the environment
/// given, the cache off, nothing else set.
pub fn session_options(env: &[(&str, &str)]) -> api::session::Options {
    api::session::Options {
        environment: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        azure_environment: None,
        sts_endpoint: None,
        object_level_workload_identity: false,
        registry_username: None,
        registry_password: None,
        trusted_realm_hosts: Vec::new(),
        skip_cache: true,
        rules: None,
    }
}

/// Sets each of `set` (what `sigv4.sign-headers` returns) on `headers`, as
/// the WIT asks a host to: same-named headers (case-insensitive) go, the
/// others keep their order, the set ones follow.
pub fn set_headers(headers: &mut Vec<(String, String)>, set: Vec<(String, String)>) {
    headers.retain(|(name, _)| !set.iter().any(|(s, _)| s.eq_ignore_ascii_case(name)));
    headers.extend(set);
}
