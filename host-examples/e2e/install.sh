#!/usr/bin/env bash
# The CLI installed the way a user installs it:
#   cargo install --path host-examples/cloudauth-host
# gives `cloudauth-host`, with the component built into it (so the installed
# executable works away from the checkout); `--version` names the
# component's version and SHA-256; a link named docker-credential-cloudauth
# on PATH is the docker credential helper.
#
# Reuses the workspace's build artifacts (CARGO_TARGET_DIR), so only the
# binary is linked again. Ends with `install: N passed, N failed`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

(cd "$root" && cargo xtask build)
wasm="$root/target/cloudauth.wasm"
sha=$(sha256sum "$wasm" | cut -d' ' -f1)
package=$(sed -n 's/^package \(.*\);$/\1/p' "$root/wit/cloudauth.wit")

CARGO_TARGET_DIR="$root/target" cargo install --locked --quiet --path "$root/host-examples/cloudauth-host" --root "$tmp/root"
bin="$tmp/root/bin"
if [ -x "$bin/cloudauth-host" ]; then ok "cargo install --path gives $bin/cloudauth-host"; else not_ok "no cloudauth-host installed"; fi

# Away from the checkout: another directory, no CLOUDAUTH_WASM, a fresh cache.
mkdir "$tmp/elsewhere"
cp "$bin/cloudauth-host" "$tmp/elsewhere/cloudauth-host"
run() { (cd "$tmp" && env -u CLOUDAUTH_WASM HOME="$tmp/home" XDG_CACHE_HOME= "$@"); }
if run "$tmp/elsewhere/cloudauth-host" --version >version.out 2>version.err; then
  if [ "$(sed -n 2p version.out)" = "component $package sha256:$sha" ] && grep -q "built into this executable" version.out; then
    ok "--version: $(tr '\n' ' ' <version.out)"
  else
    not_ok "--version printed: $(cat version.out)"
  fi
else
  not_ok "--version failed: $(cat version.err)"
fi
if run "$tmp/elsewhere/cloudauth-host" plan myregistry.azurecr.io/app >plan.out 2>&1 && grep -q "provider   azure" plan.out; then
  ok "the installed executable plans with its built-in component"
else
  not_ok "plan with the built-in component: $(cat plan.out)"
fi
if [ -n "$(ls "$tmp/home/.cache/cloudauth/" 2>/dev/null)" ]; then
  ok "the compiled component is cached in ~/.cache/cloudauth"
else
  not_ok "no compiled component in ~/.cache/cloudauth"
fi

# The documented way to get the helper on PATH: a link next to the executable.
ln -s cloudauth-host "$bin/docker-credential-cloudauth"
export PATH="$bin:$PATH"
if [ "$(run docker-credential-cloudauth list)" = "{}" ]; then ok "docker-credential-cloudauth list"; else not_ok "docker-credential-cloudauth list"; fi
if [ "$(echo ghcr.io | run env -u CLOUDAUTH_REGISTRY_USERNAME docker-credential-cloudauth get || true)" = "credentials not found in native keychain" ]; then
  ok "docker-credential-cloudauth get: not found for a registry it does not serve"
else
  not_ok "docker-credential-cloudauth get"
fi

echo "install: $passed passed, $failed failed"
[ "$failed" = 0 ]
