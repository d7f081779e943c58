# Shared by run.sh (the end-to-end test) and load.sh (the benchmark); sourced.
#
# enter_namespaces: re-runs the calling script in a private network and mount
#   namespace, where loopback is its own and /etc/hosts can be overridden.
# override_names LINE...: "IP name name..." lines become /etc/hosts (a bind
#   mount, visible in this mount namespace only).
# make_certs: a throw-away CA, one server certificate for every overridden
#   name, and a token signing key; exports SSL_CERT_FILE and CURL_CA_BUNDLE.
# wait_for WHAT LOG CMD...: bounded wait; on failure shows LOG and exits.
# start_registry ADDR NAME SERVICE ISSUER [REDIRECT_BASEURL]: distribution
#   with token auth (realm https://auth.example.test/token) on ADDR, reached
#   as NAME.

step() { printf "\n==> %s (%ss)\n" "$*" "$SECONDS"; }
die() {
  echo "error: $*" >&2
  exit 1
}

enter_namespaces() { # script args...
  local script=$1
  shift
  unshare --mount --net true 2>/dev/null || die "cannot create a private network namespace (unshare --mount --net needs root or CAP_SYS_ADMIN)"
  exec unshare --mount --net --fork env CLOUDAUTH_CLOUDS_NETNS=1 bash "$script" "$@"
}

override_names() {
  NAMES=("$@")
  {
    echo "127.0.0.1 localhost"
    printf '%s\n' "$@"
  } >"$tmp/hosts"
  mount --bind "$tmp/hosts" /etc/hosts
  local first=${1#* }
  first=${first%% *}
  getent hosts "$first" | grep -q "${1%% *}" || die "the name override did not take effect"
}

make_certs() {
  mkdir -p "$tmp/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth clouds e2e CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tmp/ca.key" -out "$tmp/certs/ca.crt" 2>/dev/null
  local san="IP:127.0.0.1" line name
  for line in "${NAMES[@]}"; do
    for name in ${line#* }; do san="$san,DNS:$name"; done
  done
  openssl req -newkey rsa:2048 -nodes -subj "/CN=cloudauth clouds e2e" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tmp/tls.ext"
  openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/certs/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 1 \
    -extfile "$tmp/tls.ext" -out "$tmp/tls.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=cloudauth clouds token signer" \
    -keyout "$tmp/signing.key" -out "$tmp/signing.crt" 2>/dev/null
  ca="$tmp/certs/ca.crt"
  export SSL_CERT_FILE="$ca" CURL_CA_BUNDLE="$ca" # skopeo (Go) and curl trust only the test CA
}

wait_for() {
  local what=$1 log=$2
  shift 2
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "error: $what did not come up; its log:" >&2
  sed 's/^/  /' "$log" >&2 || true
  exit 1
}

start_registry() { # addr name service issuer [redirect-baseurl]
  local addr=$1 name=$2 service=$3 issuer=$4 redirect=${5:-}
  mkdir -p "$tmp/storage"
  {
    # The blob descriptor cache in memory: pulls stat the filesystem less.
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: %s\n' "$tmp/storage"
    if [ -n "$redirect" ]; then
      printf '  redirect:\n    disable: false\nmiddleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: %s\n' "$redirect"
    fi
    printf 'http:\n  addr: %s\n  secret: %s\n  tls:\n    certificate: %s\n    key: %s\n' "$addr" "$(openssl rand -hex 16)" "$tmp/tls.crt" "$tmp/tls.key"
    printf 'auth:\n  token:\n    realm: https://auth.example.test/token\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' \
      "$service" "$issuer" "$tmp/signing.crt"
  } >"$tmp/registry.yml"
  timeout 3600 docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
  pids+=($!)
  registry_says_401() { [ "$(curl -s -o /dev/null -w '%{http_code}' "https://$name/v2/")" = 401 ]; }
  wait_for "the registry" "$tmp/registry.log" registry_says_401
}
