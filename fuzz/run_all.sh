#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one after another,
# and prints one summary line per target: executions, coverage (libFuzzer's
# `cov`, edges, and `ft`, features) and corpus size. Crashes land in
# fuzz/artifacts/<target>/; logs in fuzz/logs/<target>.log.
#   fuzz/run_all.sh [SECONDS] [TARGET...]
# Exits non-zero if the build fails or any target crashes, so test.sh runs it
# for a few seconds per target as a smoke test. The toolchain may be stable:
# RUSTC_BOOTSTRAP=1 unlocks the nightly flags cargo-fuzz passes.
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

# Longest input per target. Response parsers get more than the 1 MiB body
# limit (`http::MAX_RESPONSE_BODY`), the STS parser more than the 32 KiB XML
# limit (`response::MAX_XML_BODY`), so the limits themselves are fuzzed;
# seed_corpus.py seeds bodies just under and over each limit.
max_len() {
  case "$1" in
    entra_token | imds_token | acr_exchange | acr_token | ecr_token | gcp_sts | gcp_impersonation | \
      gcp_metadata | kubernetes_token | oci_token) echo 1100000 ;;
    sts_xml) echo 40000 ;;
    session) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

mkdir -p logs
python3 seed_corpus.py >/dev/null 2>&1 || echo "note: no conformance cases found to seed from"
if ! cargo fuzz build >logs/build.log 2>&1; then
  tail -30 logs/build.log >&2
  echo "cargo fuzz build failed, see fuzz/logs/build.log" >&2
  exit 1
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cargo fuzz run "$t" -- -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=4096 \
    -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "logs/$t.log" | grep -Eo '[0-9]+$' | tail -1)
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' <<<"$last" | grep -Eo '[0-9]+')
  ft=$(grep -Eo 'ft: [0-9]+' <<<"$last" | grep -Eo '[0-9]+')
  corp=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" | cut -d' ' -f2)
  if [ $rc -eq 0 ]; then
    echo "$t: ok, ${seconds} s, ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, max_len $(max_len "$t")"
  else
    status=1
    echo "$t: CRASH (exit $rc), see fuzz/logs/$t.log and fuzz/artifacts/$t/"
    grep -E -m3 'panicked|ERROR: libFuzzer|SUMMARY' "logs/$t.log" | sed 's/^/    /'
  fi
done
exit $status
