#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack`, install the tarball into a
# scratch project (with TypeScript), `tsc --noEmit` a TypeScript consumer
# against it, then run the consumer against the loopback registry
# (host-examples/e2e/with_registry.sh) and the Google metadata fake. Then
# bundle the installed package for browsers with esbuild and run the pure
# calls in headless Chromium (Debian's `chromium` and `esbuild`, installed
# with apt-get if missing), checked against the same calls in Node.
# Needs target/cloudauth.wasm (or $CLOUDAUTH_WASM) and `npm ci` done in
# host-examples/js (jco, for `prepack`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
js=$(cd "$here/../.." && pwd)
e2e=$(cd "$js/../e2e" && pwd)

if [ -z "${CLOUDAUTH_E2E_REGISTRY:-}" ]; then
  exec "$e2e/with_registry.sh" "$0" "$@"
fi

scratch=$(mktemp -d)
metadata_pid=
cleanup() {
  if [ -n "$metadata_pid" ]; then kill "$metadata_pid" 2>/dev/null || true; wait "$metadata_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "npm pack"
tarball=$(cd "$js" && npm pack --silent --pack-destination "$scratch" | tail -1)
tar -tzf "$scratch/$tarball" | sed 's/^/  /' | sort >"$scratch/contents"
for f in package/lib/node.js package/lib/index.d.ts package/generated/cloudauth.js package/generated/cloudauth.core.wasm package/generated/cloudauth.d.ts; do
  grep -qx "  $f" "$scratch/contents" || { echo "error: $f is not in the package" >&2; exit 1; }
done
echo "packed $tarball: $(wc -l <"$scratch/contents") files, $(stat -c %s "$scratch/$tarball") bytes"

cd "$scratch"
mkdir project && cd project
npm init -y >/dev/null
npm pkg set type=module
npm install --no-audit --no-fund --loglevel=error "../$tarball" typescript@5.9 @types/node@20
cp "$here/consumer.ts" "$here/tsconfig.json" .
echo "tsc --noEmit"
npx tsc --noEmit -p .
npx tsc -p .
# The types are real: a misspelt option is a type error.
printf "import { getRegistryCredentials } from '@cloudauth/cloudauth';\nawait getRegistryCredentials('r.example/app', { registryUser: 'x' });\n" >misspelt.ts
echo '{"extends": "./tsconfig.json", "files": ["misspelt.ts"]}' >tsconfig.misspelt.json
if npx tsc --noEmit -p tsconfig.misspelt.json >misspelt.out; then
  echo "error: tsc accepted a misspelt option" >&2
  exit 1
fi
grep -q "'registryUser' does not exist" misspelt.out
echo "ok: tsc rejects a misspelt option"

export CLOUDAUTH_E2E_METADATA_TOKEN="ya29.e2e-$(openssl rand -hex 8)"
python3 "$e2e/fakes/gcp_metadata.py" --port-file "$scratch/metadata.port" --log "$scratch/metadata.log" \
  --token "$CLOUDAUTH_E2E_METADATA_TOKEN" --max-seconds 300 >"$scratch/metadata.out" 2>&1 &
metadata_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/metadata.port" ] && break; sleep 0.1; done
export CLOUDAUTH_E2E_METADATA_HOST="127.0.0.1:$(cat "$scratch/metadata.port")"
export CLOUDAUTH_E2E_METADATA_LOG="$scratch/metadata.log"
touch "$scratch/metadata.log"

# Node's fetch trusts the throw-away CA through NODE_EXTRA_CA_CERTS.
NODE_EXTRA_CA_CERTS="$CLOUDAUTH_E2E_CA" node out/consumer.js
echo "browser bundle"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v esbuild >/dev/null || missing+=(esbuild)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cp -r "$js/test/browser" browser
mkdir site
# node:* only appears in the generated code's Node branch, never run in a browser.
esbuild browser/browser.js --bundle --format=esm --platform=browser --target=es2022 --external:'node:*' \
  --log-level=warning --outfile=site/bundle.js
cp node_modules/@cloudauth/cloudauth/generated/cloudauth.core.wasm browser/index.html site/
echo "bundle: $(stat -c %s site/bundle.js) bytes of JavaScript, $(stat -c %s site/cloudauth.core.wasm) of wasm"
python3 -m http.server --bind 127.0.0.1 0 --directory site >"$scratch/http.out" 2>&1 &
http_pid=$!
for _ in $(seq 1 100); do grep -q 'port' "$scratch/http.out" && break; sleep 0.1; done
http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$scratch/http.out" | head -1)
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$scratch/chromium" --virtual-time-budget=30000 --dump-dom "http://127.0.0.1:$http_port/index.html" \
  >"$scratch/dom.html" 2>"$scratch/chromium.err" || { cat "$scratch/chromium.err" >&2; kill "$http_pid"; exit 1; }
kill "$http_pid"
wait "$http_pid" 2>/dev/null || true
node browser/node.js >"$scratch/node.json"
python3 browser/check.py "$scratch/dom.html" "$scratch/node.json"
echo "js package: all checks passed"
