#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one after another,
# and prints one summary line per target. Crashes land in
# fuzz/artifacts/<target>/; logs in fuzz/logs/<target>.log.
#   fuzz/run_all.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
mkdir -p logs
python3 seed_corpus.py >/dev/null 2>&1 || echo "note: no conformance cases found to seed from"
RUSTC_BOOTSTRAP=1 cargo fuzz build >/dev/null 2>&1 || { echo "cargo fuzz build failed" >&2; exit 1; }
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 >"logs/$t.log" 2>&1
  rc=$?
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "logs/$t.log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "$t: ok, ${runs:-no summary}"
  else
    status=1
    echo "$t: CRASH (exit $rc), see fuzz/logs/$t.log and fuzz/artifacts/$t/"
  fi
done
exit $status
