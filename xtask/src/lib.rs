//! Builds the cloudauth component: compile the crate for
//! `wasm32-unknown-unknown` with the size-tuned `component` profile, then wrap
//! the core module into a component with `wit-component` (what
//! `wasm-tools component new` does). No WASI adapter is involved, so the
//! component imports nothing.
//!
//! Size steps beyond the profile (docs/size.md has the numbers):
//! - none for SHA-256: sha2's unrolled software SHA-256 is used, not its
//!   `compact` form. SigV4 signing is on the hot path of signing proxies;
//!   the unrolled form costs a few KB (docs/size.md) for a much faster hash.
//! - binaryen's `wasm-opt -Oz` on the core module, only when a pinned
//!   binaryen is installed (`cargo xtask tools` fetches it from npm). Without
//!   it the build is the same component, only larger; a wasm-opt that fails
//!   or emits an invalid module is reported and skipped, never fatal.
//! - the component's `component-name` custom section (debug names for
//!   component-level items, no meaning at run time) is dropped, always.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target the component is compiled for.
pub const TARGET: &str = "wasm32-unknown-unknown";
/// The cargo profile used for the component.
pub const PROFILE: &str = "component";

/// The binaryen release `cargo xtask tools` installs (npm package `binaryen`,
/// which ships wasm-opt as JavaScript + wasm: nothing native to download).
pub const BINARYEN_NPM: &str = "binaryen@132.0.0";

/// Overrides where wasm-opt is found: a path to the executable, or `off`
/// (also `0`, `false`, empty) to skip the step.
pub const WASM_OPT_ENV: &str = "CLOUDAUTH_WASM_OPT";

/// The wasm features rustc enables by default for `wasm32-unknown-unknown`
/// (its `target_features` section), so wasm-opt neither rejects what the
/// module uses nor introduces anything a host may not support.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-call-indirect-overlong",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-simd",
];

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

/// The core module cargo writes (before wasm-opt and component encoding).
pub fn core_module_path() -> PathBuf {
    target_dir().join(TARGET).join(PROFILE).join("cloudauth.wasm")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { workspace_root().join(p) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where `cargo xtask tools` installs binaryen.
fn tools_dir() -> PathBuf {
    target_dir().join("tools")
}

/// Compiles the crate to a core module and encodes it as a component.
/// Returns the path of the component. Cargo makes this a no-op when
/// nothing changed, apart from the (fast) encoding step; wasm-opt's output
/// is cached for an unchanged core module.
pub fn build_component() -> Result<PathBuf, String> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "--lib", "--package", "cloudauth"])
        .args(["--target", TARGET, "--profile", PROFILE])
        // A test or build script may run us with its own flags set; the
        // component build must not inherit them, only take the wasm target's
        // flags from `.cargo/config.toml`.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build for {TARGET} failed ({status}); is the target installed? `rustup target add {TARGET}`"
        ));
    }
    let core = core_module_path();
    let module = std::fs::read(&core).map_err(|e| format!("cannot read {}: {e}", core.display()))?;
    let optimized = wasm_opt().and_then(|tool| optimize(&tool, &module, &core));
    let component = match optimized.map(|optimized| encode(&optimized)) {
        Some(Ok(component)) => component,
        Some(Err(e)) => {
            eprintln!("warning: wasm-opt's module was rejected, using cargo's: {e}");
            encode(&module)?
        }
        None => encode(&module)?,
    };
    let component = drop_custom_sections(&component, &["component-name"])?;
    let out = component_path();
    std::fs::write(&out, component).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}

fn encode(module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .map_err(|e| format!("not a component-ready module: {e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("component encoding failed: {e:#}"))
}

/// The wasm-opt to run, if any: `CLOUDAUTH_WASM_OPT`, else the one
/// `cargo xtask tools` installed. A wasm-opt merely on `PATH` is not used:
/// another binaryen release gives another size, and old ones reject the
/// features rustc emits.
fn wasm_opt() -> Option<PathBuf> {
    if let Some(value) = std::env::var_os(WASM_OPT_ENV) {
        let off = ["", "0", "off", "false", "no"].iter().any(|v| value.eq_ignore_ascii_case(v));
        return (!off).then(|| PathBuf::from(value));
    }
    let installed = tools_dir().join("node_modules").join(".bin").join("wasm-opt");
    installed.is_file().then_some(installed)
}

/// Runs `wasm-opt -Oz` on `module` (read from `core`), caching the result
/// beside `core`. On failure it warns and returns `None`: the step only
/// makes the component smaller, never different in behaviour.
fn optimize(tool: &Path, module: &[u8], core: &Path) -> Option<Vec<u8>> {
    let cached_input = core.with_extension("wasm-opt-input.wasm");
    let cached_output = core.with_extension("wasm-opt.wasm");
    let cached_tool = core.with_extension("wasm-opt-tool.txt");
    let tool_name = tool.display().to_string();
    if std::fs::read(&cached_input).is_ok_and(|previous| previous == module)
        && std::fs::read_to_string(&cached_tool).is_ok_and(|previous| previous == tool_name)
        && let Ok(optimized) = std::fs::read(&cached_output)
    {
        return Some(optimized);
    }
    // Write to a name of our own, then rename: test binaries may build at
    // the same time.
    let scratch = core.with_extension(format!("wasm-opt-{}.wasm", std::process::id()));
    let output = Command::new(tool).arg("-Oz").args(WASM_OPT_FEATURES).arg(core).arg("-o").arg(&scratch).output();
    let optimized = match output {
        Ok(out) if out.status.success() => std::fs::read(&scratch).map_err(|e| e.to_string()),
        Ok(out) => Err(format!("{} {}", out.status, String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => Err(e.to_string()),
    };
    match optimized {
        Ok(optimized) => {
            // Output first: a stale input or tool stamp only costs a re-run.
            let _ = std::fs::rename(&scratch, &cached_output);
            let _ = std::fs::write(&cached_input, module);
            let _ = std::fs::write(&cached_tool, &tool_name);
            Some(optimized)
        }
        Err(e) => {
            eprintln!("warning: wasm-opt ({}) skipped: {e}", tool.display());
            let _ = std::fs::remove_file(&scratch);
            None
        }
    }
}

/// `component` without its top-level custom sections named in `names`.
fn drop_custom_sections(component: &[u8], names: &[&str]) -> Result<Vec<u8>, String> {
    let malformed = || "the encoder wrote a malformed component".to_string();
    let header = component.get(..8).ok_or_else(malformed)?;
    let mut out = header.to_vec();
    let mut rest = &component[8..];
    while let Some((&id, after_id)) = rest.split_first() {
        let (size, after_size) = read_leb_u32(after_id).ok_or_else(malformed)?;
        let size = usize::try_from(size).map_err(|_| malformed())?;
        let body = after_size.get(..size).ok_or_else(malformed)?;
        let section_len = 1 + (after_id.len() - after_size.len()) + size;
        let drop = id == 0 && custom_section_name(body).is_some_and(|name| names.contains(&name));
        if !drop {
            out.extend_from_slice(&rest[..section_len]);
        }
        rest = &rest[section_len..];
    }
    Ok(out)
}

fn custom_section_name(body: &[u8]) -> Option<&str> {
    let (len, rest) = read_leb_u32(body)?;
    std::str::from_utf8(rest.get(..usize::try_from(len).ok()?)?).ok()
}

/// An unsigned LEB128 `u32` and the bytes after it.
fn read_leb_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut value: u32 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= u32::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// Installs the pinned binaryen (wasm-opt) from npm into `target/tools`.
pub fn install_tools() -> Result<PathBuf, String> {
    add_wasm_target()?;
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&dir)
        .arg(BINARYEN_NPM)
        .status()
        .map_err(|e| format!("cannot run npm (is Node.js installed?): {e}"))?;
    if !status.success() {
        return Err(format!("npm install {BINARYEN_NPM} failed ({status})"));
    }
    let tool = dir.join("node_modules").join(".bin").join("wasm-opt");
    if !tool.is_file() {
        return Err(format!("npm installed {BINARYEN_NPM} but {} is missing", tool.display()));
    }
    Ok(tool)
}

/// `rustup target add` for the component's target, so that a fresh machine
/// can run `cargo xtask tools && cargo xtask build` and nothing else.
/// Without rustup (a distribution's Rust) the build's own error says what
/// is missing.
fn add_wasm_target() -> Result<(), String> {
    match Command::new("rustup").args(["target", "add", TARGET]).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("rustup target add {TARGET} failed ({status})")),
        Err(_) => Ok(()),
    }
}

/// Sizes of the last build, for `cargo xtask size`.
pub fn size_report() -> Result<String, String> {
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).map_err(|e| format!("{}: {e}", p.display()));
    let core = core_module_path();
    let mut report = format!("core module (cargo):   {:>8} bytes  {}\n", len(&core)?, core.display());
    let optimized = core.with_extension("wasm-opt.wasm");
    // The cached output counts only if it was made from the current module.
    let current = std::fs::read(core.with_extension("wasm-opt-input.wasm"))
        .is_ok_and(|input| std::fs::read(&core).is_ok_and(|module| module == input));
    match wasm_opt() {
        Some(tool) if current && optimized.is_file() => {
            report.push_str(&format!("core after wasm-opt:   {:>8} bytes  ({})\n", len(&optimized)?, tool.display()))
        }
        _ => report.push_str("core after wasm-opt:        (not run; `cargo xtask tools` installs it)\n"),
    }
    let component = component_path();
    report.push_str(&format!("component:             {:>8} bytes  {}\n", len(&component)?, component.display()));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![id, body.len() as u8];
        s.extend_from_slice(body);
        s
    }

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        section(0, &body)
    }

    const HEADER: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn drops_only_the_named_custom_sections() {
        let kept = [section(1, b"abc"), custom("producers", b"x"), section(7, b"")].concat();
        let input = [
            HEADER,
            &section(1, b"abc"),
            &custom("component-name", b"names"),
            &custom("producers", b"x"),
            &section(7, b""),
        ]
        .concat();
        let out = drop_custom_sections(&input, &["component-name"]).unwrap();
        assert_eq!(out, [HEADER, &kept[..]].concat());
    }

    #[test]
    fn rejects_truncated_sections() {
        let mut input = [HEADER, &section(1, b"abcdef")].concat();
        input.truncate(input.len() - 2);
        assert!(drop_custom_sections(&input, &["component-name"]).is_err());
        assert!(drop_custom_sections(b"\0asm", &[]).is_err());
    }

    #[test]
    fn reads_leb128() {
        assert_eq!(read_leb_u32(&[0x05, 9]), Some((5, &[9u8][..])));
        assert_eq!(read_leb_u32(&[0xe5, 0x8e, 0x26]), Some((624485, &[][..])));
        assert_eq!(read_leb_u32(&[0x80]), None);
        assert_eq!(read_leb_u32(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), None);
    }
}
