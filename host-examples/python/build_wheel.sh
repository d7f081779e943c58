#!/usr/bin/env bash
# Builds the `cloudauth` wheel, carrying the component, into DIR (default:
# host-examples/python/dist) and prints the wheel's path. The component is
# $CLOUDAUTH_WASM, else target/cloudauth.wasm (`cargo xtask build`). The
# package is staged in a temporary copy, so the source folder never holds
# a stale component.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here/dist}" && cd "${1:-$here/dist}" && pwd)
wasm="${CLOUDAUTH_WASM:-$here/../../target/cloudauth.wasm}"
[ -f "$wasm" ] || { echo "error: $wasm is missing: run cargo xtask build" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r "$here/pyproject.toml" "$here/README.md" "$stage/"
mkdir "$stage/cloudauth"
cp "$here"/cloudauth/*.py "$here/cloudauth/py.typed" "$stage/cloudauth/"
cp "$wasm" "$stage/cloudauth/cloudauth.wasm"
python3 -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$out" "$stage" >&2
ls -t "$out"/cloudauth-*.whl | head -1
