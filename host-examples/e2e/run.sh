#!/usr/bin/env bash
# End-to-end: cloudauth's credential helpers against a real OCI registry and
# a real client.
#
# Starts, on 127.0.0.1 only and with TLS from a throw-away CA:
#   - token_server.py: a distribution token server (RS256 JWTs, x5c header)
#     that checks basic credentials;
#   - Debian's docker-registry (distribution 2.8) with token authentication
#     trusting that server's signing certificate.
# Then pushes a tiny image with skopeo and the token server's credentials,
# and checks that
#   - skopeo inspects and pulls it with `credHelpers: cloudauth`, i.e. with
#     credentials from docker-credential-cloudauth, which runs a cloudauth
#     session (generic registry flow) with real HTTP;
#   - without credentials the same pull is refused (so the helper's were used);
#   - `cloudauth-host kubelet-credential-provider` answers a
#     CredentialProviderRequest with credentials the registry accepts;
#   - a wrong password, or a token realm on a host nobody trusted, fails
#     with a clear message and a non-zero exit;
#   - an ACR pull whose managed identity endpoint refuses says which step
#     and which host failed.
#
# Self-contained and idempotent: installs docker-registry and skopeo with
# apt-get if missing, builds what it needs, works in a temporary directory,
# bounds every wait, and stops every server on exit. Ends with the line
# `e2e: N passed, N failed` and exits non-zero if any check failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

step() { printf "\n==> %s (%ss)\n" "$*" "$SECONDS"; }

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }

# --- tools ----------------------------------------------------------------------------------
step "tools"
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  # Refresh the package lists only when they do not know a package yet.
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq
      break
    fi
  done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
docker-registry --version
skopeo --version

step "build the component and the host"
(cd "$root" && cargo xtask build)
wasm="$root/target/cloudauth.wasm"
# CLOUDAUTH_HOST: an already built cloudauth-host to use instead.
host="${CLOUDAUTH_HOST:-$root/target/release/cloudauth-host}"
if [ -z "${CLOUDAUTH_HOST:-}" ]; then
  (cd "$root" && cargo build --release -p cloudauth-host)
fi

# --- servers --------------------------------------------------------------------------------
tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

step "certificates (a throw-away CA, a 127.0.0.1 server certificate, a token signing key)"
cd "$tmp"
mkdir certs
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth e2e CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out certs/ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout tls.key -out tls.csr 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >tls.ext
openssl x509 -req -in tls.csr -CA certs/ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile tls.ext -out tls.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth e2e token signer" \
  -keyout signing.key -out signing.crt 2>/dev/null

# Waits (bounded) until a command succeeds.
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

user=e2e-user
password='e2e-pass-4x!'
issuer="cloudauth-e2e-token-server"
service="cloudauth-e2e-registry"

step "token server"
timeout 600 python3 "$here/token_server.py" --port-file token.port \
  --tls-cert tls.crt --tls-key tls.key --signing-key signing.key --signing-cert signing.crt \
  --issuer "$issuer" --service "$service" --user "$user:$password" --max-seconds 590 2>token-server.log &
pids+=($!)
wait_for "the token server" test -s token.port
token_port=$(cat token.port)
realm="https://127.0.0.1:$token_port/token"
wait_for "the token server" curl -sf --cacert certs/ca.crt -o /dev/null "$realm?service=$service" -u "$user:$password"
echo "token server: $realm"

step "registry (distribution 2.8, token auth)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
cat >registry.yml <<EOF
version: 0.1
log:
  level: info
  formatter: text
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
timeout 600 docker-registry serve registry.yml >registry.log 2>&1 &
pids+=($!)
registry_says_401() {
  [ "$(curl -s --cacert certs/ca.crt -o /dev/null -w '%{http_code}' "https://$registry/v2/")" = 401 ]
}
wait_for "the registry" registry_says_401
echo "registry: https://$registry"

# skopeo: no host configuration, an explicit policy, our CA for the registry.
mkdir home
export HOME="$tmp/home"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >policy.json
echo '{}' >no-auth.json
echo "{\"credHelpers\": {\"$registry\": \"cloudauth\"}}" >helper-auth.json
skopeo_bin=$(command -v skopeo)
skopeo() { timeout 120 "$skopeo_bin" --policy "$tmp/policy.json" "$@"; }

step "push an image with skopeo and the token server's credentials"
image="docker://$registry/e2e/hello:v1"
pushed=$(python3 "$here/oci_image.py" "$tmp/image" v1)
skopeo copy --dest-cert-dir certs --dest-creds "$user:$password" "oci:$tmp/image:v1" "$image"
echo "pushed $pushed"

# --- the credential helper ------------------------------------------------------------------
mkdir bin
ln -s "$host" bin/docker-credential-cloudauth
export PATH="$tmp/bin:$PATH"
export CLOUDAUTH_WASM="$wasm"
export CLOUDAUTH_CA_FILE="$tmp/certs/ca.crt"
export CLOUDAUTH_REGISTRY_USERNAME="$user"
export CLOUDAUTH_REGISTRY_PASSWORD="$password"
export CLOUDAUTH_TRUSTED_REALM_HOSTS="127.0.0.1:$token_port"
export CLOUDAUTH_LOG=1

step "without credentials the registry refuses (the control)"
if skopeo inspect --authfile no-auth.json --cert-dir certs "$image" >anonymous.out 2>&1; then
  not_ok "an anonymous inspect succeeded: the registry does not require authentication"
elif grep -qi "unauthorized\|authentication required" anonymous.out; then
  ok "anonymous inspect refused: $(grep -oi 'unauthorized[^"]*' anonymous.out | head -1)"
else
  not_ok "anonymous inspect failed for another reason: $(cat anonymous.out)"
fi

step "docker-credential-cloudauth get (the protocol itself)"
if echo "$registry" | docker-credential-cloudauth get >get.json 2>get.err; then
  if python3 - "$registry" get.json <<'EOF'; then ok "get: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print({k: (v if k != "Secret" else v[:3] + "...") for k, v in d.items()})' get.json)"; else not_ok "get answered $(cat get.json)"; fi
import json, sys
d = json.load(open(sys.argv[2]))
assert set(d) == {"ServerURL", "Username", "Secret"}, d.keys()
assert d["ServerURL"] == sys.argv[1]
# A generic registry's credentials are the configured ones, once the token
# server accepted them.
import os
assert d["Username"] == os.environ["CLOUDAUTH_REGISTRY_USERNAME"], d["Username"]
assert d["Secret"] == os.environ["CLOUDAUTH_REGISTRY_PASSWORD"], "the secret is not the configured password"
EOF
else
  not_ok "get failed: $(cat get.json get.err)"
fi
sed 's/^/  /' get.err
if [ "$(docker-credential-cloudauth list)" = "{}" ]; then ok "list is {}"; else not_ok "list"; fi
if echo '{"ServerURL":"x","Username":"u","Secret":"s"}' | docker-credential-cloudauth store >store.out; then
  not_ok "store succeeded"
else
  ok "store refused: $(cat store.out)"
fi

step "skopeo inspect and copy with credHelpers: cloudauth"
if skopeo inspect --authfile helper-auth.json --cert-dir certs "$image" >inspect.json 2>inspect.err; then
  digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Digest"])' inspect.json)
  if [ "$digest" = "$pushed" ]; then ok "inspect through the helper: $digest"; else not_ok "inspect digest $digest, pushed $pushed"; fi
else
  not_ok "inspect through the helper failed: $(cat inspect.err)"
fi
if skopeo copy --authfile helper-auth.json --src-cert-dir certs "$image" "oci:$tmp/pulled:v1" >copy.out 2>&1; then
  if diff <(ls "$tmp/image/blobs/sha256") <(ls "$tmp/pulled/blobs/sha256") >/dev/null; then
    ok "pulled through the helper: the same blobs"
  else
    not_ok "pulled image differs"
  fi
else
  not_ok "copy through the helper failed: $(cat copy.out)"
fi

step "kubelet credential provider"
request='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"'"$registry"'/e2e/hello:v1"}'
if echo "$request" | "$host" kubelet-credential-provider >kubelet.json 2>kubelet.err; then
  if python3 - "$registry" kubelet.json <<'EOF' >kubelet.creds; then
import json, re, sys
d = json.load(open(sys.argv[2]))
assert d["apiVersion"] == "credentialprovider.kubelet.k8s.io/v1", d
assert d["kind"] == "CredentialProviderResponse", d
assert d["cacheKeyType"] == "Registry", d
# Generic-registry credentials (the configured username and password) have
# no expiry, so the provider leaves the cache duration to the kubelet.
assert "cacheDuration" not in d, d["cacheDuration"]
assert list(d["auth"]) == [sys.argv[1]], d["auth"].keys()
auth = d["auth"][sys.argv[1]]
assert auth["username"] and auth["password"], auth
print(f'{auth["username"]}:{auth["password"]}')
EOF
    ok "kubelet response: cacheKeyType Registry, no cacheDuration (credentials without expiry), auth for $registry"
    if skopeo inspect --authfile no-auth.json --cert-dir certs --creds "$(cat kubelet.creds)" "$image" >/dev/null 2>kubelet-use.err; then
      ok "the registry accepts the kubelet provider's credentials"
    else
      not_ok "the kubelet provider's credentials were refused: $(cat kubelet-use.err)"
    fi
  else
    not_ok "kubelet response: $(cat kubelet.json)"
  fi
else
  not_ok "kubelet provider failed: $(cat kubelet.err)"
fi

step "a wrong password fails clearly"
if echo "$registry" | CLOUDAUTH_REGISTRY_PASSWORD=wrong docker-credential-cloudauth get >wrong.out 2>/dev/null; then
  not_ok "get with a wrong password succeeded"
elif grep -q "401" wrong.out && ! grep -q "wrong" wrong.out; then
  ok "get with a wrong password: exit non-zero, $(cat wrong.out)"
else
  not_ok "get with a wrong password: unclear message: $(cat wrong.out)"
fi
if echo "$request" | CLOUDAUTH_REGISTRY_PASSWORD=wrong "$host" kubelet-credential-provider >wrong-kubelet.out 2>wrong-kubelet.err; then
  not_ok "kubelet provider with a wrong password succeeded"
elif grep -q "401" wrong-kubelet.err && [ ! -s wrong-kubelet.out ]; then
  ok "kubelet provider with a wrong password: exit non-zero, $(grep -v '^cloudauth: ' wrong-kubelet.err)"
else
  not_ok "kubelet provider with a wrong password: unclear: $(cat wrong-kubelet.err)"
fi
if CLOUDAUTH_LOG= CLOUDAUTH_REGISTRY_PASSWORD=wrong skopeo inspect --authfile helper-auth.json --cert-dir certs "$image" >/dev/null 2>wrong-skopeo.err; then
  not_ok "skopeo with the helper and a wrong password succeeded"
elif grep -q "401 (UNAUTHORIZED)" wrong-skopeo.err; then
  ok "skopeo with the helper and a wrong password fails: $(grep -o 'msg=.*' wrong-skopeo.err | head -1)"
else
  not_ok "skopeo with the helper and a wrong password: unclear: $(cat wrong-skopeo.err)"
fi

step "no configured credentials: the helpers have nothing for a generic registry"
if echo "$registry" | CLOUDAUTH_REGISTRY_USERNAME= docker-credential-cloudauth get >none.out 2>/dev/null; then
  not_ok "get without configured credentials succeeded"
elif [ "$(cat none.out)" = "credentials not found in native keychain" ]; then
  ok "get without configured credentials: the protocol's not-found answer"
else
  not_ok "get without configured credentials: $(cat none.out)"
fi
if echo "$request" | CLOUDAUTH_REGISTRY_USERNAME= "$host" kubelet-credential-provider >none-kubelet.json 2>none-kubelet.err \
  && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["auth"] == {}' none-kubelet.json; then
  ok "kubelet provider without configured credentials: empty auth"
else
  not_ok "kubelet provider without configured credentials: $(cat none-kubelet.json none-kubelet.err)"
fi

step "basic credentials never go to an untrusted realm"
before=$(grep -c '' token-server.log || true)
if echo "$registry" | CLOUDAUTH_TRUSTED_REALM_HOSTS= docker-credential-cloudauth get >untrusted.out 2>/dev/null; then
  not_ok "get with an untrusted realm succeeded"
elif grep -q "trusted" untrusted.out && [ "$(grep -c '' token-server.log || true)" = "$before" ]; then
  ok "untrusted realm refused before any request to it: $(cat untrusted.out)"
else
  not_ok "untrusted realm: $(cat untrusted.out)"
fi

step "an identity endpoint that refuses: the error names the step and the host"
# A new user's ACR pull on a machine whose managed identity endpoint says
# 403. The endpoint is reached through HTTP_PROXY, which a small server
# here answers as a refusing IMDS would.
python3 - "$tmp/refusing.port" <<'PY' 2>/dev/null &
import http.server, sys, time
class Refuse(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"error":"forbidden","error_description":"Forbidden"}'
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
server.timeout = 1
open(sys.argv[1], "w").write(str(server.server_address[1]))
end = time.time() + 300
while time.time() < end:
    server.handle_request()
PY
pids+=($!)
wait_for "the refusing identity endpoint" test -s refusing.port
if echo myregistry.azurecr.io | HTTP_PROXY="http://127.0.0.1:$(cat refusing.port)" docker-credential-cloudauth get >imds.out 2>/dev/null; then
  not_ok "get for ACR with a refusing IMDS succeeded"
elif grep -q "step 1 of the flow, GET http://169.254.169.254/metadata/identity/oauth2/token, failed at host 169.254.169.254: http-status 403" imds.out; then
  ok "ACR with a refusing IMDS: $(cat imds.out)"
else
  not_ok "ACR with a refusing IMDS: unclear: $(cat imds.out)"
fi

echo
echo "token server log:"
sed 's/^/  /' token-server.log
echo
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
