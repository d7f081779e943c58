//! Embeds the component when it has been built (`cargo xtask build` writes
//! `target/cloudauth.wasm`), so that an installed `cloudauth-host` (and its
//! `docker-credential-cloudauth` link) carries the component it was built
//! with. `CLOUDAUTH_EMBED_WASM` names another file; without any, the
//! executable looks for the component at run time.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(embedded_component)");
    println!("cargo::rerun-if-env-changed=CLOUDAUTH_EMBED_WASM");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let wasm = std::env::var_os("CLOUDAUTH_EMBED_WASM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../target/cloudauth.wasm"));
    println!("cargo::rerun-if-changed={}", wasm.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("cloudauth.wasm");
    if wasm.is_file() && std::fs::copy(&wasm, &out).is_ok() {
        println!("cargo::rustc-cfg=embedded_component");
    }
}
