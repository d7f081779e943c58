//! Builds the cloudauth component: compile the crate for
//! `wasm32-unknown-unknown` with the size-tuned `component` profile, then wrap
//! the core module into a component with `wit-component` (what
//! `wasm-tools component new` does). No WASI adapter is involved, so the
//! component imports nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target the component is compiled for.
pub const TARGET: &str = "wasm32-unknown-unknown";
/// The cargo profile used for the component.
pub const PROFILE: &str = "component";

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Where the built component is written.
pub fn component_path() -> PathBuf {
    target_dir().join("cloudauth.wasm")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { workspace_root().join(p) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Compiles the crate to a core module and encodes it as a component.
/// Returns the path of the component. Cargo makes this a no-op when
/// nothing changed, apart from the (fast) encoding step.
pub fn build_component() -> Result<PathBuf, String> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "--lib", "--package", "cloudauth"])
        .args(["--target", TARGET, "--profile", PROFILE])
        // A test or build script may run us with its own flags set; the
        // component build must not inherit them.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build for {TARGET} failed ({status}); is the target installed? `rustup target add {TARGET}`"
        ));
    }
    let core = target_dir().join(TARGET).join(PROFILE).join("cloudauth.wasm");
    let module = std::fs::read(&core).map_err(|e| format!("cannot read {}: {e}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .map_err(|e| format!("not a component-ready module: {e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("component encoding failed: {e:#}"))?;
    let out = component_path();
    std::fs::write(&out, component).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}
