#!/usr/bin/env bash
# Runs a command while the e2e's loopback registry is up.
#
#   host-examples/e2e/with_registry.sh COMMAND [ARGS...]
#
# Starts, on 127.0.0.1 only and with TLS from a throw-away CA, the same pair
# as run.sh: token_server.py (a distribution token server checking basic
# credentials) and Debian's docker-registry (distribution 2.8) with token
# authentication. COMMAND then runs with these variables set:
#
#   CLOUDAUTH_E2E_REGISTRY       the registry, 127.0.0.1:PORT
#   CLOUDAUTH_E2E_REALM_HOST     the token server, 127.0.0.1:PORT (the token realm's host)
#   CLOUDAUTH_E2E_CA             the CA certificate (PEM) both servers' certificates chain to
#   CLOUDAUTH_E2E_USER           the user the token server accepts
#   CLOUDAUTH_E2E_PASSWORD       and its password
#   CLOUDAUTH_E2E_TOKEN_LOG      the token server's log (one line per request)
#
# The exit status is COMMAND's. Every server is stopped on exit and every
# wait is bounded. Installs docker-registry, openssl and curl with apt-get
# if missing. Used by the JavaScript and Python package tests.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq
      break
    fi
  done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "error: $what did not come up" >&2
  return 1
}

# A throw-away CA, a 127.0.0.1 server certificate, a token signing key.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth e2e CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tmp/tls.ext"
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 1 \
  -extfile "$tmp/tls.ext" -out "$tmp/tls.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth e2e token signer" \
  -keyout "$tmp/signing.key" -out "$tmp/signing.crt" 2>/dev/null

user=e2e-user
password="e2e-pass-$(openssl rand -hex 4)"
issuer="cloudauth-e2e-token-server"
service="cloudauth-e2e-registry"

timeout 1800 python3 "$here/token_server.py" --port-file "$tmp/token.port" \
  --tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key" --signing-key "$tmp/signing.key" --signing-cert "$tmp/signing.crt" \
  --issuer "$issuer" --service "$service" --user "$user:$password" --max-seconds 1790 2>"$tmp/token-server.log" &
pids+=($!)
wait_for "the token server" test -s "$tmp/token.port"
token_port=$(cat "$tmp/token.port")
realm="https://127.0.0.1:$token_port/token"
wait_for "the token server" curl -sf --cacert "$tmp/ca.crt" -o /dev/null "$realm?service=$service" -u "$user:$password"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/storage
http:
  addr: $registry
  secret: $(openssl rand -hex 16)
  tls:
    certificate: $tmp/tls.crt
    key: $tmp/tls.key
auth:
  token:
    realm: $realm
    service: $service
    issuer: $issuer
    rootcertbundle: $tmp/signing.crt
EOF
timeout 1800 docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
pids+=($!)
registry_says_401() {
  [ "$(curl -s --cacert "$tmp/ca.crt" -o /dev/null -w '%{http_code}' "https://$registry/v2/")" = 401 ]
}
wait_for "the registry" registry_says_401

export CLOUDAUTH_E2E_REGISTRY="$registry"
export CLOUDAUTH_E2E_REALM_HOST="127.0.0.1:$token_port"
export CLOUDAUTH_E2E_CA="$tmp/ca.crt"
export CLOUDAUTH_E2E_USER="$user"
export CLOUDAUTH_E2E_PASSWORD="$password"
export CLOUDAUTH_E2E_TOKEN_LOG="$tmp/token-server.log"
echo "loopback registry https://$registry, token realm $realm"

status=0
"$@" || status=$?
exit "$status"
