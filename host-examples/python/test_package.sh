#!/usr/bin/env bash
# The Python package as a user gets it: build the wheel, install it into a
# fresh virtual environment, get credentials with `python -c 'import
# cloudauth; ...'` from the loopback registry (host-examples/e2e/
# with_registry.sh), `mypy --strict` example.py against the installed
# package (and the package itself), and run example.py against the registry and the Google metadata
# fake. Needs target/cloudauth.wasm (or $CLOUDAUTH_WASM).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
e2e=$(cd "$here/../e2e" && pwd)

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

wheel=$("$here/build_wheel.sh" "$scratch/dist")
echo "built $(basename "$wheel"): $(stat -c %s "$wheel") bytes"
python3 -m venv "$scratch/venv"
py="$scratch/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check "$wheel" mypy
# From outside the source folder, with no CLOUDAUTH_WASM: the installed
# package and the component it carries.
cd "$scratch"
unset CLOUDAUTH_WASM
export CLOUDAUTH_CA_FILE="$CLOUDAUTH_E2E_CA"

"$py" -c '
import os, cloudauth
assert cloudauth.default_wasm_path() == cloudauth.PACKAGED_WASM, cloudauth.default_wasm_path()
assert "site-packages" in cloudauth.__file__, cloudauth.__file__
c = cloudauth.get_registry_credentials(os.environ["CLOUDAUTH_E2E_REGISTRY"] + "/e2e/hello:v1",
    registry_username=os.environ["CLOUDAUTH_E2E_USER"], registry_password=os.environ["CLOUDAUTH_E2E_PASSWORD"],
    trusted_realm_hosts=[os.environ["CLOUDAUTH_E2E_REALM_HOST"]])
assert (c.username, c.password) == (os.environ["CLOUDAUTH_E2E_USER"], os.environ["CLOUDAUTH_E2E_PASSWORD"])
print("ok: python -c: credentials for", c.registry, c)
'

cp "$here/example.py" .
"$scratch/venv/bin/mypy" --strict --no-incremental example.py
# The hints are real: a misspelt option is a type error.
printf 'import cloudauth\ncloudauth.get_registry_credentials("r.example/app", registry_user="x")\n' >misspelt.py
if "$scratch/venv/bin/mypy" --strict --no-incremental misspelt.py >misspelt.out; then
  echo "error: mypy accepted a misspelt option" >&2
  exit 1
fi
grep -q 'Unexpected keyword argument "registry_user"' misspelt.out
echo "ok: mypy rejects a misspelt option"
# The installed package itself is strictly typed too.
"$scratch/venv/bin/mypy" --strict --no-incremental -p cloudauth

export CLOUDAUTH_E2E_METADATA_TOKEN="ya29.e2e-$(openssl rand -hex 8)"
export CLOUDAUTH_E2E_METADATA_LOG="$scratch/metadata.log"
touch "$CLOUDAUTH_E2E_METADATA_LOG"
python3 "$e2e/fakes/gcp_metadata.py" --port-file "$scratch/metadata.port" --log "$CLOUDAUTH_E2E_METADATA_LOG" \
  --token "$CLOUDAUTH_E2E_METADATA_TOKEN" --max-seconds 300 >"$scratch/metadata.out" 2>&1 &
metadata_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/metadata.port" ] && break; sleep 0.1; done
export CLOUDAUTH_E2E_METADATA_HOST="127.0.0.1:$(cat "$scratch/metadata.port")"

"$py" example.py
echo "python package: all checks passed"
