//! Loading the component once: compile (or load the compiled artifact from
//! the disk cache), link, and keep an `InstancePre` that makes instances
//! cheaply.
//!
//! Compiling the component with Cranelift takes about a second; a
//! credential helper runs once per pull, so the compiled artifact is kept on
//! disk, named by the SHA-256 of the wasm and the engine's compatibility
//! hash (wasmtime's version and every setting that changes the code, such as
//! fuel). A stale, foreign or damaged artifact fails wasmtime's own checks
//! and is compiled again. The artifact is native code: the cache directory
//! must be writable by this user only (it is created with mode 0700).
//!
//! The component imports nothing, so the linker stays empty: it gets no
//! capability and could not do I/O if it tried.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{Cloudauth, CloudauthPre};
use crate::error::{Error, ErrorKind};

/// How the component is loaded and run.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where the compiled artifact is cached; `None` compiles every time.
    /// [`default_cache_dir`] is `$XDG_CACHE_HOME/cloudauth` or
    /// `~/.cache/cloudauth`.
    pub cache_dir: Option<PathBuf>,
    /// The fuel each call into the component may burn, `None` for no limit.
    /// A call that runs out traps: the call fails, its instance is dropped.
    /// This bounds the CPU any input can cost; the default is far above
    /// what any real call needs (a whole flow needs a few million).
    pub fuel_per_call: Option<u64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { cache_dir: default_cache_dir(), fuel_per_call: Some(DEFAULT_FUEL_PER_CALL) }
    }
}

/// The default fuel per call: 10 billion units, seconds of CPU.
pub const DEFAULT_FUEL_PER_CALL: u64 = 10_000_000_000;

/// `$XDG_CACHE_HOME/cloudauth`, else `$HOME/.cache/cloudauth`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("cloudauth"))
}

/// The component, compiled and linked once; makes instances.
pub struct LoadedComponent {
    engine: Engine,
    pre: CloudauthPre<()>,
    sha256: String,
    version: Option<String>,
    fuel_per_call: Option<u64>,
    from_cache: bool,
}

/// A running instance: its own store (memory, resource table) and the
/// typed exports.
pub struct Instance {
    pub(crate) store: Store<()>,
    pub(crate) api: Cloudauth,
}

impl LoadedComponent {
    /// Loads the component at `path`.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::Setup,
                format!("cannot read the component {}: {e} (build it with `cargo xtask build`)", path.display()),
            )
        })?;
        Self::from_bytes(&bytes, options).map_err(|e| Error::new(ErrorKind::Setup, format!("{}: {e}", path.display())))
    }

    /// Loads the component from its bytes.
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Self, Error> {
        let setup = |what: &str, e: wasmtime::Error| Error::new(ErrorKind::Setup, format!("{what}: {e:#}"));
        let mut config = Config::new();
        config.consume_fuel(options.fuel_per_call.is_some());
        let engine = Engine::new(&config).map_err(|e| setup("cannot create the wasmtime engine", e))?;
        let sha256 = hex(&Sha256::digest(bytes));
        let (component, from_cache) = compile_cached(&engine, bytes, &sha256, options.cache_dir.as_deref())
            .map_err(|e| setup("cannot compile the component", e))?;
        let version = package_version(&engine, &component);
        let linker: Linker<()> = Linker::new(&engine);
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| setup("cannot link the component (is it a cloudauth component?)", e))?;
        let pre = CloudauthPre::new(instance_pre)
            .map_err(|e| setup("the component does not export the cloudauth world of this host", e))?;
        tracing::debug!(sha256 = %sha256, from_cache, "component loaded");
        Ok(LoadedComponent { engine, pre, sha256, version, fuel_per_call: options.fuel_per_call, from_cache })
    }

    /// Lower-case hex SHA-256 of the wasm file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The version of the `cloudauth:auth` package the component exports
    /// (`0.1.0`), from its export names.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// True when the compiled artifact came from the disk cache.
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn fuel_per_call(&self) -> Option<u64> {
        self.fuel_per_call
    }

    /// A new instance with its own store.
    pub(crate) fn instantiate(&self) -> Result<Instance, Error> {
        let mut store = Store::new(&self.engine, ());
        if let Some(fuel) = self.fuel_per_call {
            store.set_fuel(fuel).map_err(|e| Error::new(ErrorKind::Setup, format!("cannot set fuel: {e:#}")))?;
        }
        let api = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| Error::new(ErrorKind::Setup, format!("cannot instantiate the component: {e:#}")))?;
        Ok(Instance { store, api })
    }
}

/// The compiled component, from the cache when a valid artifact is there.
fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    sha256: &str,
    cache_dir: Option<&Path>,
) -> wasmtime::Result<(Component, bool)> {
    let Some(dir) = cache_dir else {
        return Ok((Component::new(engine, bytes)?, false));
    };
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let file = dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()));
    // Read into memory rather than mapped: a file changed under a mapping
    // (another process, a user) would crash this one.
    if let Ok(cached) = std::fs::read(&file) {
        // SAFETY: the artifact was written by `precompile_component` of a
        // compatible engine into a directory only this user can write;
        // wasmtime checks its header, version and settings, and any
        // failure falls back to compiling.
        match unsafe { Component::deserialize(engine, &cached) } {
            Ok(component) => return Ok((component, true)),
            Err(e) => tracing::warn!(file = %file.display(), error = %e, "cached component unusable; compiling"),
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    if let Err(e) = write_private(dir, &file, &compiled) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot cache the compiled component");
    }
    // SAFETY: produced just now by this engine.
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok((component, false))
}

/// Writes `bytes` to `file` atomically (a temporary file, then a rename), in
/// `dir` created with mode 0700.
fn write_private(dir: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let tmp =
        dir.join(format!(".{}.{}.tmp", std::process::id(), file.file_name().and_then(|n| n.to_str()).unwrap_or("x")));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The `@version` of the exported `cloudauth:auth/...` interfaces.
fn package_version(engine: &Engine, component: &Component) -> Option<String> {
    component.component_type().exports(engine).find_map(|(name, _)| {
        name.strip_prefix("cloudauth:auth/").and_then(|rest| rest.split_once('@')).map(|(_, v)| v.to_owned())
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
