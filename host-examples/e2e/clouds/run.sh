#!/usr/bin/env bash
# End to end, every cloud over real HTTP on loopback: skopeo pulls through
# the credential helper and through cloudauth-proxy's mirror, and containerd
# (ctr, a hosts.toml mirror) and docker (the mirror as the registry; Docker
# Hub through registry-mirrors) through the mirror, for a generic registry,
# ACR, GAR and ECR; Envoy-shaped ext_authz checks; S3 through the
# SigV4 signing proxy; EKS DescribeCluster.
#
# The stand-ins (all on 127.0.0.0/8, TLS from a throw-away CA):
#   - the real distribution registry (Debian's docker-registry) with token
#     auth and the `redirect` storage middleware (blob reads go to a blob
#     store on another host, as cloud registries send them to storage);
#   - registry_auth.py: the generic registry's token server (per-user repository
#     grants) and the blob store (counts requests carrying Authorization);
#   - azure.py: Entra's token endpoint + ACR's exchange and token endpoints;
#   - google.py: the GCE metadata server + Google STS + GAR's token endpoint;
#   - aws.py: moto in server mode with request authentication on (STS, ECR,
#     EKS, S3, IAM), and the ECR registry host;
#   - containerd and dockerd (Debian's), daemons of their own on temporary
#     roots and sockets (native snapshotter, vfs, no iptables or bridge);
#     registry-1.docker.io is the loopback registry too, for docker's
#     Docker Hub mirror.
# Cloud names (myreg.azurecr.io, login.microsoftonline.com, ...) reach
# those servers through a name override for this test only: the script runs
# itself in a private network and mount namespace (`unshare`), where
# /etc/hosts is a bind mount of its own file and loopback is its own, so
# servers listen on the real ports (443, 80) and nothing leaks to the
# machine.
#
# Nothing is skipped: a tool that is missing or a server that does not come
# up fails the run and says why. Ends with `clouds: N passed, N failed`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

# shellcheck source=lib.sh
source "$here/lib.sh"

if [ -z "${CLOUDAUTH_CLOUDS_NETNS:-}" ]; then
  # --- outside: tools and builds (they may need the network) -----------------------------
  step "tools"
  for tool in docker-registry skopeo containerd ctr dockerd docker openssl curl python3 unshare ip; do
    command -v "$tool" >/dev/null || die "$tool is missing (test.sh installs it: apt-get install docker-registry skopeo containerd docker.io openssl curl iproute2)"
  done
  python3 -c 'import moto, werkzeug, boto3' 2>/dev/null || die "moto is missing (test.sh installs it: pip install 'moto[server]')"

  step "build the component, cloudauth-host and cloudauth-proxy"
  if [ -z "${CLOUDAUTH_HOST:-}" ] || [ -z "${CLOUDAUTH_PROXY:-}" ]; then
    (cd "$root" && cargo xtask build && cargo build --release -p cloudauth-host -p cloudauth-proxy)
  fi
  export CLOUDAUTH_WASM="${CLOUDAUTH_WASM:-$root/target/cloudauth.wasm}"
  export CLOUDAUTH_HOST="${CLOUDAUTH_HOST:-$root/target/release/cloudauth-host}"
  export CLOUDAUTH_PROXY="${CLOUDAUTH_PROXY:-$root/target/release/cloudauth-proxy}"
  enter_namespaces "$0" "$@"
fi

# --- inside the private namespaces ----------------------------------------------------------
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }

ip link set lo up
tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # CLOUDAUTH_CLOUDS_KEEP=1 keeps the logs and files for a look.
  if [ -n "${CLOUDAUTH_CLOUDS_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
cd "$tmp"

# Names and the loopback address each one reaches.
override_names \
  "127.0.0.10 registry.example.test registry-1.docker.io" \
  "127.0.0.11 auth.example.test" \
  "127.0.0.12 blobs.example.test" \
  "127.0.0.20 login.microsoftonline.com" \
  "127.0.0.21 myreg.azurecr.io" \
  "127.0.0.30 metadata.google.internal" \
  "127.0.0.31 sts.googleapis.com" \
  "127.0.0.32 us-docker.pkg.dev" \
  "127.0.0.33 oauth2.googleapis.com" \
  "127.0.0.40 sts.amazonaws.com sts.us-east-1.amazonaws.com api.ecr.us-east-1.amazonaws.com eks.us-east-1.amazonaws.com s3.us-east-1.amazonaws.com iam.amazonaws.com" \
  "127.0.0.41 123456789012.dkr.ecr.us-east-1.amazonaws.com"

step "certificates (a throw-away CA; one server certificate for every name)"
make_certs

issuer=cloudauth-clouds-e2e
service=cloudauth-clouds-registry
common=(--tls-cert tls.crt --tls-key tls.key --ca-file "$ca" --signing-key signing.key --signing-cert signing.crt
  --issuer "$issuer" --registry-service "$service" --backend registry.example.test:443 --max-seconds 900)

step "the distribution registry (token auth, blob reads redirected to blobs.example.test)"
start_registry 127.0.0.10:443 registry.example.test "$service" "$issuer" https://blobs.example.test/

step "the generic registry's token server and blob store"
pass_admin=$(openssl rand -hex 12)
pass_a=$(openssl rand -hex 12)
pass_b=$(openssl rand -hex 12)
timeout 900 python3 "$here/registry_auth.py" "${common[@]}" --ready-file auth.ready \
  --token-listen 127.0.0.11:443 --blobs-listen 127.0.0.12:443 --storage "$tmp/storage" \
  --user "admin:$pass_admin:" --user "user-a:$pass_a:e2e/,team-a/" --user "user-b:$pass_b:team-b/" 2>auth.log &
pids+=($!)
wait_for "the token server" auth.log test -s auth.ready

step "push the test images"
policy="$tmp/policy.json"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$policy"
skopeo_bin=$(command -v skopeo)
skopeo() { timeout 120 "$skopeo_bin" --policy "$policy" "$@"; }
pushed=$(python3 "$here/../oci_image.py" "$tmp/image" v1)
for repo in e2e/hello team-a/app team-b/app app my-project/repo/app; do
  skopeo copy --quiet --dest-creds "admin:$pass_admin" "oci:$tmp/image:v1" "docker://registry.example.test/$repo:v1"
done
echo "pushed $pushed to 5 repositories"

step "Azure (Entra + ACR), Google (metadata + STS + GAR), AWS (moto with auth on + ECR)"
echo "eyJhbGciOiJSUzI1NiJ9.$(printf '{"iss":"https://oidc.example.test","sub":"system:serviceaccount:apps:puller","aud":"api://AzureADTokenExchange","exp":%s}' $(($(date +%s) + 3600)) | base64 -w0 | tr '+/' '-_' | tr -d '=').c2ln" >azure-token
echo "eyJhbGciOiJSUzI1NiJ9.$(printf '{"iss":"https://oidc.example.test","sub":"system:serviceaccount:apps:puller","aud":"sts.amazonaws.com","exp":%s}' $(($(date +%s) + 3600)) | base64 -w0 | tr '+/' '-_' | tr -d '=').c2ln" >aws-token
echo "eyJhbGciOiJSUzI1NiJ9.$(printf '{"iss":"https://oidc.example.test","sub":"system:serviceaccount:apps:puller","aud":"gcp","exp":%s}' $(($(date +%s) + 3600)) | base64 -w0 | tr '+/' '-_' | tr -d '=').c2ln" >gcp-token
tenant=72f988bf-86f1-41af-91ab-2d7cd011db47
client=6c3a9d5f-1b2e-4f7a-9c8d-0e1f2a3b4c5d
gcp_provider="projects/123456789/locations/global/workloadIdentityPools/pool/providers/k8s"
# A service-account key file (GOOGLE_APPLICATION_CREDENTIALS) whose public
# half the fake OAuth 2.0 endpoint checks the assertion's signature with.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out gcp-key.pem 2>/dev/null
openssl pkey -in gcp-key.pem -pubout -out gcp-key.pub
python3 -c 'import json, sys; print(json.dumps({"type": "service_account", "project_id": "my-project",
  "private_key_id": "e2e-key-1", "private_key": open(sys.argv[1]).read(),
  "client_email": "builder@my-project.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"}))' \
  gcp-key.pem >gcp-sa.json
timeout 900 python3 "$here/azure.py" "${common[@]}" --ready-file azure.ready \
  --entra-listen 127.0.0.20:443 --acr-listen 127.0.0.21:443 --registry myreg.azurecr.io \
  --tenant "$tenant" --client-id "$client" --assertion-file azure-token 2>azure.log &
pids+=($!)
timeout 900 python3 "$here/google.py" "${common[@]}" --ready-file google.ready \
  --metadata-listen 127.0.0.30:80 --sts-listen 127.0.0.31:443 --gar-listen 127.0.0.32:443 --registry us-docker.pkg.dev \
  --service-account "puller@my-project.iam.gserviceaccount.com" --audience "//iam.googleapis.com/$gcp_provider" \
  --subject-token-file gcp-token \
  --oauth2-listen 127.0.0.33:443 --key-service-account "builder@my-project.iam.gserviceaccount.com" \
  --key-public gcp-key.pub 2>google.log &
pids+=($!)
timeout 900 python3 "$here/aws.py" "${common[@]}" --ready-file aws.ready \
  --moto-listen 127.0.0.40:443 --moto-endpoint https://sts.amazonaws.com --ecr-listen 127.0.0.41:443 \
  --role puller --cluster e2e --bucket cloudauth-e2e --web-identity-token-file aws-token 2>aws.log &
pids+=($!)
wait_for "the Azure fake" azure.log test -s azure.ready
wait_for "the Google fake" google.log test -s google.ready
wait_for "moto and the ECR registry" aws.log test -s aws.ready

# The identities, as environment (credential helper) and as proxy config.
azure_env=(AZURE_CLIENT_ID="$client" AZURE_TENANT_ID="$tenant" AZURE_FEDERATED_TOKEN_FILE="$tmp/azure-token")
aws_env=(AWS_ROLE_ARN=arn:aws:iam::123456789012:role/puller AWS_WEB_IDENTITY_TOKEN_FILE="$tmp/aws-token"
  AWS_ROLE_SESSION_NAME=cloudauth-e2e AWS_REGION=us-east-1)
generic_env=(CLOUDAUTH_REGISTRY_USERNAME=user-a CLOUDAUTH_REGISTRY_PASSWORD="$pass_a"
  CLOUDAUTH_TRUSTED_REALM_HOSTS=auth.example.test)

declare -A image=(
  [generic]=registry.example.test/e2e/hello:v1
  [acr]=myreg.azurecr.io/app:v1
  [gar]=us-docker.pkg.dev/my-project/repo/app:v1
  [ecr]=123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1
)
declare -A port=([generic]=5001 [acr]=5002 [gar]=5003 [ecr]=5004)

step "cloudauth-proxy: a mirror per cloud, a mirror as user-b, ext_authz, the S3 signing proxy"
echo -n "$pass_a" >pass-a
echo -n "$pass_b" >pass-b
cat >proxy.toml <<EOF
component = "$CLOUDAUTH_WASM"
ca-file = "$ca"

[identities.generic-a]
registry-username = "user-a"
registry-password-file = "pass-a"
trusted-realm-hosts = ["auth.example.test"]

[identities.generic-b]
registry-username = "user-b"
registry-password-file = "pass-b"
trusted-realm-hosts = ["auth.example.test"]

[identities.azure]
environment = { AZURE_CLIENT_ID = "$client", AZURE_TENANT_ID = "$tenant", AZURE_FEDERATED_TOKEN_FILE = "$tmp/azure-token" }

[identities.gcp-federated]
service-account = { namespace = "apps", name = "puller", token-file = "$tmp/gcp-token", annotations = { "gcp.auth.fluxcd.io/workload-identity-provider" = "$gcp_provider" } }

[identities.gcp-vm]

[identities.aws]
environment = { AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/puller", AWS_WEB_IDENTITY_TOKEN_FILE = "$tmp/aws-token", AWS_ROLE_SESSION_NAME = "cloudauth-e2e", AWS_REGION = "us-east-1" }

[[mirror]]
listen = "127.0.0.1:5001"
upstream = "registry.example.test"
identity = "generic-a"

[[mirror]]
listen = "127.0.0.1:5002"
upstream = "myreg.azurecr.io"
identity = "azure"

[[mirror]]
listen = "127.0.0.1:5003"
upstream = "us-docker.pkg.dev"
identity = "gcp-federated"

[[mirror]]
listen = "127.0.0.1:5004"
upstream = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
identity = "aws"

[[mirror]]
listen = "127.0.0.1:5005"
upstream = "registry.example.test"
identity = "generic-b"

[[mirror]]
listen = "127.0.0.1:5006"
upstream = "registry-1.docker.io"
identity = "generic-a"

[ext-authz]
listen = "127.0.0.1:9191"
path-prefix = "/ext_authz"

[[ext-authz.route]]
host = "registry.example.test"
path-prefix = "/v2/"
identity = "generic-a"
registry = "registry.example.test/e2e/hello"

[[ext-authz.route]]
host = "storage.googleapis.com"
identity = "gcp-vm"
access-token = { provider = "gcp" }

[[ext-authz.route]]
host = "k8s.example.test"
identity = "aws"
cluster = { provider = "aws", resource-id = "arn:aws:eks:us-east-1:123456789012:cluster/e2e" }

[[sigv4]]
listen = "127.0.0.1:8080"
upstream = "https://s3.us-east-1.amazonaws.com"
service = "s3"
region = "us-east-1"
identity = "aws"
EOF
"$CLOUDAUTH_PROXY" --config proxy.toml >proxy.out 2>proxy.log &
pids+=($!)
proxy_up() { [ "$(grep -c 'listening on' proxy.out)" = 8 ]; }
wait_for "cloudauth-proxy" proxy.log proxy_up
sed 's/^/  /' proxy.out

step "containerd: a daemon of its own (a temporary root and socket, no CRI)"
# Its content store is isolated per namespace, so each cloud's pull below
# fetches every blob itself (through the mirror) instead of finding it
# already there from the cloud before.
mkdir -p containerd/certs.d
cat >containerd/config.toml <<EOF
version = 2
root = "$tmp/containerd/root"
state = "$tmp/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/containerd/containerd.sock"
[plugins."io.containerd.metadata.v1.bolt"]
  content_sharing_policy = "isolated"
EOF
timeout 900 containerd --config containerd/config.toml >containerd.log 2>&1 &
pids+=($!)
ctr() { timeout 60 "$ctr_bin" --address "$tmp/containerd/containerd.sock" "$@"; }
ctr_bin=$(command -v ctr)
wait_for "containerd" containerd.log ctr version

step "dockerd: a daemon of its own on that containerd (no iptables, no bridge, vfs)"
# Docker Hub's mirror is registry-mirrors; 127.0.0.0/8 is an insecure
# registry by default, so the mirrors also answer as registries over HTTP.
mkdir -p docker/etc docker-config
# dockerd writes its trust key to /etc/docker: keep it in this run's files.
mkdir -p /etc/docker
mount --bind "$tmp/docker/etc" /etc/docker
echo '{}' >docker-config/config.json
cat >docker/daemon.json <<EOF
{"iptables": false, "ip6tables": false, "bridge": "none", "storage-driver": "vfs",
 "registry-mirrors": ["http://127.0.0.1:5006"]}
EOF
timeout 900 dockerd --config-file docker/daemon.json --containerd "$tmp/containerd/containerd.sock" \
  --data-root "$tmp/docker/data" --exec-root "$tmp/docker/exec" --pidfile "$tmp/docker/docker.pid" \
  --host "unix://$tmp/docker/docker.sock" >dockerd.log 2>&1 &
pids+=($!)
docker_bin=$(command -v docker)
# Only the empty config.json: docker has no credentials of its own.
docker() { DOCKER_CONFIG="$tmp/docker-config" timeout 120 "$docker_bin" --host "unix://$tmp/docker/docker.sock" "$@"; }

# skopeo configured with only the credential helper, or only the mirror.
mkdir bin home
ln -s "$CLOUDAUTH_HOST" bin/docker-credential-cloudauth
export PATH="$tmp/bin:$PATH" HOME="$tmp/home"
export CLOUDAUTH_CA_FILE="$ca"
echo '{}' >no-auth.json
mirror_conf() { # cloud -> registries.conf with the cloud's mirror
  local host=${image[$1]%%/*}
  printf '[[registry]]\nprefix = "%s"\nlocation = "%s"\n[[registry.mirror]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' \
    "$host" "$host" "${port[$1]}" >"mirror-$1.conf"
  echo "$tmp/mirror-$1.conf"
}
helper_env() {
  case $1 in
    generic) echo "${generic_env[@]}" ;;
    acr) echo "${azure_env[@]}" ;;
    gar) echo "" ;;
    ecr) echo "${aws_env[@]}" ;;
  esac
}
empty_conf="$tmp/empty-registries.conf"
: >"$empty_conf"

for cloud in generic acr gar ecr; do
  ref=${image[$cloud]}
  host=${ref%%/*}
  step "$cloud: $ref"
  echo "{\"credHelpers\": {\"$host\": \"cloudauth\"}}" >"helper-$cloud.json"
  # The control: no credentials, no pull.
  if skopeo --registries-conf "$empty_conf" inspect --authfile no-auth.json "docker://$ref" >/dev/null 2>"anon-$cloud.err"; then
    not_ok "$cloud: an anonymous inspect succeeded: the registry does not require authentication"
  else
    ok "$cloud: anonymous pull refused ($(grep -oiE 'unauthorized|denied|authentication required' "anon-$cloud.err" | head -1))"
  fi
  # Through the credential helper.
  rm -rf "pulled-helper-$cloud"
  if env $(helper_env "$cloud") skopeo --registries-conf "$empty_conf" copy --quiet --authfile "helper-$cloud.json" "docker://$ref" "oci:$tmp/pulled-helper-$cloud:v1" 2>"helper-$cloud.err"; then
    if diff <(ls "$tmp/image/blobs/sha256") <(ls "$tmp/pulled-helper-$cloud/blobs/sha256") >/dev/null; then
      ok "$cloud: skopeo pulled through docker-credential-cloudauth: the same blobs"
    else
      not_ok "$cloud: the image pulled through the helper differs"
    fi
  else
    not_ok "$cloud: pull through the helper failed: $(tail -3 "helper-$cloud.err")"
  fi
  # Through the mirror, with no credentials at all.
  rm -rf "pulled-mirror-$cloud"
  before=$(grep -c "mirror=https://$host.*repository" proxy.log || true)
  if skopeo --registries-conf "$(mirror_conf "$cloud")" copy --quiet --authfile no-auth.json "docker://$ref" "oci:$tmp/pulled-mirror-$cloud:v1" 2>"mirror-$cloud.err"; then
    after=$(grep -c "mirror=https://$host.*repository" proxy.log || true)
    if ! diff <(ls "$tmp/image/blobs/sha256") <(ls "$tmp/pulled-mirror-$cloud/blobs/sha256") >/dev/null; then
      not_ok "$cloud: the image pulled through the mirror differs"
    elif [ "$after" -le "$before" ]; then
      not_ok "$cloud: skopeo pulled, but not through the mirror"
    else
      ok "$cloud: skopeo pulled through the mirror with no credentials ($((after - before)) requests proxied)"
    fi
  else
    not_ok "$cloud: pull through the mirror failed: $(tail -3 "mirror-$cloud.err")"
  fi
done

step "containerd: ctr pulls each cloud's image through the mirror (certs.d/<registry>/hosts.toml), no credentials"
# containerd's documented mirror format (docs/hosts.md): the registry is the
# server; the mirror is a host with pull and resolve. A fallback to the
# server would be refused (no credentials), and the proxy's log must show
# the requests.
hello=$(printf 'hello from the cloudauth end-to-end test')
# The control: containerd alone (no hosts.toml, so straight to the
# registry) has no credentials, and is refused.
mkdir -p containerd/no-mirror.d
if ctr -n e2e-control images pull --hosts-dir "$tmp/containerd/no-mirror.d" --snapshotter native "${image[generic]}" >ctr-control.out 2>&1; then
  not_ok "containerd: a pull without the mirror succeeded: the registry does not require authentication"
else
  ok "containerd: without the mirror, ctr's pull is refused ($(grep -oiE 'unauthorized|denied|401' ctr-control.out | head -1))"
fi
for cloud in generic acr gar ecr; do
  ref=${image[$cloud]}
  host=${ref%%/*}
  mkdir -p "containerd/certs.d/$host"
  printf 'server = "https://%s"\n\n[host."http://127.0.0.1:%s"]\n  capabilities = ["pull", "resolve"]\n' \
    "$host" "${port[$cloud]}" >"containerd/certs.d/$host/hosts.toml"
  before=$(grep -c "mirror=https://$host.*status=200" proxy.log || true)
  if ctr -n "e2e-$cloud" images pull --hosts-dir "$tmp/containerd/certs.d" --snapshotter native "$ref" >"ctr-$cloud.out" 2>&1; then
    after=$(grep -c "mirror=https://$host.*status=200" proxy.log || true)
    target=$(ctr -n "e2e-$cloud" images ls | awk -v ref="$ref" '$1 == ref {print $3}')
    content=$(ctr -n "e2e-$cloud" content ls -q | sort)
    mkdir -p "rootfs-$cloud"
    file=""
    if ctr -n "e2e-$cloud" images mount --snapshotter native "$ref" "$tmp/rootfs-$cloud" >/dev/null 2>"mount-$cloud.err"; then
      file=$(cat "rootfs-$cloud/hello.txt" 2>/dev/null || true)
      ctr -n "e2e-$cloud" images unmount "$tmp/rootfs-$cloud" >/dev/null 2>&1 || umount "rootfs-$cloud" || true
    fi
    if [ "$target" != "$pushed" ]; then
      not_ok "containerd $cloud: pulled manifest ${target:-none}, pushed $pushed"
    elif [ "$content" != "$(ls "$tmp/image/blobs/sha256" | sed 's/^/sha256:/' | sort)" ]; then
      not_ok "containerd $cloud: content store differs from the pushed image: $content"
    elif [ "$file" != "$hello" ]; then
      not_ok "containerd $cloud: the unpacked rootfs does not hold the image's file: ${file:-$(cat "mount-$cloud.err")}"
    elif [ $((after - before)) -lt 3 ]; then
      not_ok "containerd $cloud: pulled, but the mirror served $((after - before)) requests (manifest, config and layer expected)"
    else
      ok "containerd $cloud: ctr pulled and unpacked through the mirror with no credentials ($((after - before)) requests proxied)"
    fi
  else
    not_ok "containerd $cloud: ctr pull through the mirror failed: $(tail -3 "ctr-$cloud.out")"
  fi
done

step "docker: pulls through the mirror with no credentials (Docker Hub's registry-mirrors; each cloud's mirror as the registry)"
wait_for "dockerd" dockerd.log docker version
config_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' \
  "$tmp/image/blobs/sha256/${pushed#sha256:}")
# docker_pull REF HOST-IN-PROXY-LOG WHAT: pulls, checks the image, removes it
# (so the next pull downloads every layer again).
docker_pull() {
  local ref=$1 host=$2 what=$3 before after id digests
  before=$(grep -c "mirror=https://$host.*status=200" proxy.log || true)
  if docker pull --quiet "$ref" >"docker-$what.out" 2>&1; then
    after=$(grep -c "mirror=https://$host.*status=200" proxy.log || true)
    id=$(docker image inspect --format '{{.Id}}' "$ref")
    digests=$(docker image inspect --format '{{join .RepoDigests " "}}' "$ref")
    if [ "$id" != "$config_digest" ] || [[ " $digests " != *"@$pushed "* ]]; then
      not_ok "docker $what: pulled image $id ($digests), pushed $config_digest ($pushed)"
    elif [ $((after - before)) -lt 3 ]; then
      not_ok "docker $what: pulled, but the mirror served $((after - before)) requests (manifest, config and layer expected)"
    else
      ok "docker $what: docker pulled $ref through the mirror with no credentials ($((after - before)) requests proxied)"
    fi
    docker rmi --force "$ref" >/dev/null 2>&1 || true
  else
    not_ok "docker $what: docker pull $ref failed: $(tail -3 "docker-$what.out")"
  fi
}
# The control: Docker Hub's registry (here the loopback registry) refuses
# docker's own anonymous pull.
if docker pull --quiet registry-1.docker.io/e2e/hello:v1 >docker-control.out 2>&1; then
  not_ok "docker: a pull without the mirror succeeded: the registry does not require authentication"
else
  ok "docker: without the mirror, docker's pull is refused ($(grep -oiE 'unauthorized|denied|authentication required' docker-control.out | head -1))"
fi
docker_pull e2e/hello:v1 registry-1.docker.io docker-hub
for cloud in generic acr gar ecr; do
  ref=${image[$cloud]}
  docker_pull "127.0.0.1:${port[$cloud]}/${ref#*/}" "${ref%%/*}" "$cloud"
done

step "gar: a service-account key file (GOOGLE_APPLICATION_CREDENTIALS), the assertion signed in the component"
rm -rf pulled-helper-gar-key
if env GOOGLE_APPLICATION_CREDENTIALS="$tmp/gcp-sa.json" skopeo --registries-conf "$empty_conf" copy --quiet \
  --authfile helper-gar.json "docker://${image[gar]}" "oci:$tmp/pulled-helper-gar-key:v1" 2>helper-gar-key.err; then
  if grep -q "token for builder@my-project.iam.gserviceaccount.com (key e2e-key-1)" google.log; then
    ok "gar: skopeo pulled through docker-credential-cloudauth with a service-account key (RS256 verified by the token endpoint)"
  else
    not_ok "gar: the pull with the key file did not use the key's grant"
  fi
else
  not_ok "gar: pull with GOOGLE_APPLICATION_CREDENTIALS failed: $(tail -3 helper-gar-key.err)"
fi

step "the registry's Authorization never reaches the blob store"
stats=$(curl -s https://blobs.example.test/stats)
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d.get("requests",0) > 0 and d.get("with-authorization",0) == 0, d' "$stats"; then
  ok "blob store: redirected reads arrived without Authorization: $stats"
else
  not_ok "blob store: $stats"
fi

step "identities are not mixed: the mirror as user-b"
if skopeo --registries-conf "$empty_conf" inspect --tls-verify=false --authfile no-auth.json \
  docker://127.0.0.1:5005/team-b/app:v1 >/dev/null 2>mix-b.err; then
  ok "user-b's mirror serves team-b/app"
else
  not_ok "user-b's mirror refused team-b/app: $(tail -2 mix-b.err)"
fi
if skopeo --registries-conf "$empty_conf" inspect --tls-verify=false --authfile no-auth.json \
  docker://127.0.0.1:5005/team-a/app:v1 >/dev/null 2>mix-a.err; then
  not_ok "user-b's mirror served team-a/app: credentials are mixed"
else
  ok "user-b's mirror cannot pull team-a/app: $(grep -oiE 'unauthorized|denied|authentication required' mix-a.err | head -1)"
fi

# Sends a check request as Envoy's ext_authz HTTP filter does (see
# docs/envoy.md): the original method, path_prefix + the original path,
# the original Host, Content-Length: 0, and what Envoy's HTTP client adds.
envoy_check() { # method host path [extra curl args]
  local method=$1 host=$2 path=$3
  shift 3
  curl -s -D - -o /dev/null -X "$method" "http://127.0.0.1:9191/ext_authz$path" \
    -H "Host: $host" -H "Content-Length: 0" -H "x-envoy-internal: true" \
    -H "x-envoy-expected-rq-timeout-ms: 5000" -H "x-forwarded-proto: https" \
    -H "x-request-id: 8a4e0d6c-5b1f-4c2e-9d3a-7f6b5e4d3c2b" -H "x-forwarded-for: 10.0.0.7" "$@"
}

step "ext_authz: Envoy-shaped check requests"
envoy_check GET registry.example.test "/v2/e2e/hello/manifests/v1?ns=x" >check-generic.txt
authorization=$(grep -i '^authorization:' check-generic.txt | cut -d' ' -f2- | tr -d '\r')
if head -1 check-generic.txt | grep -q ' 200' && [ "${authorization%% *}" = Basic ]; then
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $authorization" \
    "https://auth.example.test/token?service=$service&scope=repository:e2e/hello:pull")" = 200 ]; then
    ok "ext_authz: 200 with a Basic Authorization the registry's token server accepts"
  else
    not_ok "ext_authz: the Authorization it gave is refused by the token server"
  fi
else
  not_ok "ext_authz registry route: $(head -1 check-generic.txt)"
fi
envoy_check GET storage.googleapis.com /storage/v1/b/bucket/o >check-gcp.txt
if head -1 check-gcp.txt | grep -q ' 200' && grep -qi '^authorization: Bearer ' check-gcp.txt; then
  ok "ext_authz: 200 with the VM's Google access token (metadata server)"
else
  not_ok "ext_authz gcp route: $(cat check-gcp.txt)"
fi
envoy_check GET k8s.example.test /api/v1/namespaces >check-eks.txt
if head -1 check-eks.txt | grep -q ' 200' && grep -qi '^authorization: Bearer k8s-aws-v1\.' check-eks.txt; then
  ok "ext_authz: 200 with an EKS token (STS web identity, then EKS DescribeCluster, both through moto)"
else
  not_ok "ext_authz eks route: $(cat check-eks.txt) $(grep -i eks proxy.log | tail -2)"
fi
if grep -q "DescribeCluster\|/clusters/e2e" aws.log || grep -q 'eks' proxy.log; then :; fi
envoy_check GET other.example.test / >check-none.txt
if head -1 check-none.txt | grep -q ' 403'; then ok "ext_authz: a host without a route is denied (403)"; else not_ok "no route: $(head -1 check-none.txt)"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: registry.example.test" http://127.0.0.1:9191/v2/e2e/hello/manifests/v1)
if [ "$code" = 404 ]; then ok "ext_authz: a path without Envoy's path_prefix is refused (404)"; else not_ok "no prefix: $code"; fi

step "S3 through the SigV4 signing proxy (moto checks every signature)"
head -c 3000000 /dev/urandom >object.bin
# The control: a request signed with keys IAM does not know is refused.
forged=$(curl -s -o forged.out -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "AKIAIOSFODNN7FORGED0:not-a-secret" \
  https://s3.us-east-1.amazonaws.com/cloudauth-e2e/dir/object.bin)
if [ "$forged" = 403 ]; then ok "moto refuses S3 requests signed with unknown keys (403 $(grep -o '<Code>[^<]*' forged.out | cut -c7-)): authentication is on"; else not_ok "forged S3 request: $forged"; fi
put=$(curl -s -o put.out -w '%{http_code}' -X PUT --data-binary @object.bin -H 'Content-Type: application/octet-stream' \
  http://127.0.0.1:8080/cloudauth-e2e/dir/object.bin)
if [ "$put" = 200 ]; then ok "PUT 3 MB through the proxy (UNSIGNED-PAYLOAD, streamed)"; else not_ok "PUT: $put $(cat put.out)"; fi
if curl -s -f -o got.bin http://127.0.0.1:8080/cloudauth-e2e/dir/object.bin && cmp -s object.bin got.bin; then
  ok "GET through the proxy returns the same 3 MB"
else
  not_ok "GET through the proxy: $(head -c 300 got.bin 2>/dev/null)"
fi
# (prefix=dir, not dir/: moto 5.2.1 refuses botocore's own signature when a
# query value holds a slash.)
if curl -s -f "http://127.0.0.1:8080/cloudauth-e2e?list-type=2&prefix=dir" | grep -q '<Key>dir/object.bin</Key>'; then
  ok "ListObjectsV2 (a signed query string) through the proxy"
else
  not_ok "ListObjectsV2 through the proxy"
fi

echo
echo "fake logs (no secrets: they log paths and outcomes only):"
for log in auth azure google aws proxy; do sed "s/^/  [$log] /" "$log.log" | tail -40; done
echo
echo "clouds: $passed passed, $failed failed"
[ "$failed" = 0 ]
