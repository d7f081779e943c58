#!/usr/bin/env bash
# The mirror benchmark (docs/benchmarks.md, "Registry mirror under load"):
# PULLS concurrent pulls (default 10,000) directly against the loopback
# registry, then through cloudauth-proxy's mirrors (two identities, half the
# pulls each), in one run; then the same mirror run again with one component
# instance made to trap in the middle (CLOUDAUTH_PROXY_TRAP_AT). Every pull
# is in flight at once; they run on CLIENTS simulated clients with POOL
# keep-alive connections each (load.py).
#
#   host-examples/e2e/clouds/load.sh [PULLS] [REPOS] [CLIENTS] [POOL]
#
# Prebuilt binaries: CLOUDAUTH_WASM and CLOUDAUTH_PROXY (else it builds them).
#
# A benchmark, not a test: not run by test.sh. Bounded (every pull and
# every server has a timeout) and stops by itself. Prints the figures as
# JSON and a Markdown table.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
pulls=${1:-10000}
repos=${2:-250}
clients=${3:-100}
pool=${4:-4}

if [ -z "${CLOUDAUTH_CLOUDS_NETNS:-}" ]; then
  for tool in docker-registry skopeo openssl curl python3 unshare ip; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install docker-registry skopeo openssl curl iproute2)"
  done
  if [ -z "${CLOUDAUTH_PROXY:-}" ] || [ -z "${CLOUDAUTH_WASM:-}" ]; then
    (cd "$root" && cargo xtask build && cargo build --release -p cloudauth-proxy)
  fi
  export CLOUDAUTH_WASM="${CLOUDAUTH_WASM:-$root/target/cloudauth.wasm}"
  export CLOUDAUTH_PROXY="${CLOUDAUTH_PROXY:-$root/target/release/cloudauth-proxy}"
  enter_namespaces "$0" "$@"
fi

ip link set lo up
# Room for 10,000 client connections and the upstream ones (the mirror bounds those).
ulimit -n "$(ulimit -Hn)"
sysctl -qw net.core.somaxconn=16384 2>/dev/null || true
tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

override_names "127.0.0.10 registry.example.test" "127.0.0.11 auth.example.test" "127.0.0.12 blobs.example.test"
make_certs
issuer=cloudauth-load
service=cloudauth-load-registry
step "registry and token server"
start_registry 127.0.0.10:443 registry.example.test "$service" "$issuer"
pass_admin=$(openssl rand -hex 12)
pass_a=$(openssl rand -hex 12)
pass_b=$(openssl rand -hex 12)
timeout 3600 python3 "$here/registry_auth.py" --tls-cert tls.crt --tls-key tls.key --ca-file "$ca" \
  --signing-key signing.key --signing-cert signing.crt --issuer "$issuer" --registry-service "$service" \
  --ready-file auth.ready --token-listen 127.0.0.11:443 --blobs-listen 127.0.0.12:443 --storage "$tmp/storage" \
  --max-seconds 3600 --user "admin:$pass_admin:" --user "user-a:$pass_a:load-a/,team-a/" \
  --user "user-b:$pass_b:load-b/,team-b/" 2>auth.log &
pids+=($!)
wait_for "the token server" auth.log test -s auth.ready
policy="$tmp/policy.json"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$policy"
python3 "$here/../oci_image.py" "$tmp/image" v1 >/dev/null
for repo in team-a/app team-b/app; do
  timeout 120 skopeo --policy "$policy" copy --quiet --dest-creds "admin:$pass_admin" "oci:$tmp/image:v1" \
    "docker://registry.example.test/$repo:v1"
done

echo -n "$pass_a" >pass-a
echo -n "$pass_b" >pass-b
cat >proxy.toml <<EOF
component = "$CLOUDAUTH_WASM"
ca-file = "$ca"
[identities.a]
registry-username = "user-a"
registry-password-file = "pass-a"
trusted-realm-hosts = ["auth.example.test"]
[identities.b]
registry-username = "user-b"
registry-password-file = "pass-b"
trusted-realm-hosts = ["auth.example.test"]
[[mirror]]
listen = "127.0.0.1:5101"
upstream = "registry.example.test"
identity = "a"
[[mirror]]
listen = "127.0.0.1:5102"
upstream = "registry.example.test"
identity = "b"
EOF

# Starts the proxy (extra environment as arguments), waits for it.
start_proxy() {
  env "$@" RUST_LOG=warn "$CLOUDAUTH_PROXY" --config proxy.toml >proxy.out 2>proxy.log &
  proxy_pid=$!
  pids+=($proxy_pid)
  proxy_up() { [ "$(grep -c 'listening on' proxy.out)" = 2 ]; }
  wait_for "cloudauth-proxy" proxy.log proxy_up
}
stop_proxy() { # -> peak memory (VmHWM, kB) and the proxy's own counters
  peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$proxy_pid/status")
  kill -TERM "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
}
load() { # extra load.py args
  timeout 2400 python3 "$here/load.py" --registry https://registry.example.test \
    --token-url https://auth.example.test/token --service "$service" --admin "admin:$pass_admin" \
    --user-a "user-a:$pass_a" --user-b "user-b:$pass_b" --mirror-a http://127.0.0.1:5101 \
    --mirror-b http://127.0.0.1:5102 --ca-file "$ca" --pulls "$pulls" --repos "$repos" \
    --clients "$clients" --pool "$pool" "$@"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
step "run 1: $pulls pulls direct, then through the mirrors"
start_proxy
load >run1.json
stop_proxy
peak1=$peak_kb
stats1=$(grep -o 'stats: .*' proxy.log | tail -1 || true)
denied1=$(curl -s https://auth.example.test/stats)

step "run 2: the same mirror run, one instance trapping in the middle"
# A fresh proxy: the same cold scopes again. Trap at a pure call in the
# middle of the cold phase (one per repository scope: challenge parse,
# token request, token parse).
start_proxy CLOUDAUTH_PROXY_TRAP_AT=$((3 * repos))
load --skip-setup --phases mirror >run2.json
stop_proxy
peak2=$peak_kb
stats2=$(grep -o 'stats: .*' proxy.log | tail -1 || true)
traps=$(grep -c 'trapped' proxy.log || true)

python3 - "$pulls" "$peak1" "$peak2" "$stats1" "$stats2" "$denied1" "$traps" "$load_before" run1.json run2.json <<'EOF'
import json, os, sys
pulls, peak1, peak2, stats1, stats2, tokens, traps, load_before = sys.argv[1:9]
r1, r2 = (json.load(open(f)) for f in sys.argv[9:11])
print(json.dumps({"run1": r1, "run2": r2, "peak_rss_mb": round(int(peak1) / 1024, 1),
                  "peak_rss_mb_run2": round(int(peak2) / 1024, 1), "proxy_stats_run1": stats1,
                  "proxy_stats_run2": stats2, "token_server": json.loads(tokens), "trap_log_lines": int(traps),
                  "load_average_before": load_before, "load_average_after": " ".join(open("/proc/loadavg").read().split()[:3])},
                 indent=1))
EOF
