#!/usr/bin/env bash
# Fuzzes every correct scenario (those that expect a pass) with the default fuzz, and counts
# the seeds that fail: each one is a false alarm, since a correct protocol must survive every
# seed the default fuzz draws. A benchmark-style job, not part of `cargo test`.
#
#   scripts/false-alarms.sh                    # 20000 seeds per scenario, 2 jobs
#   SEEDS=2000 JOBS=4 scripts/false-alarms.sh  # fewer seeds, more workers
#   BIN=target/debug/faultline SEEDS=20 scripts/false-alarms.sh   # a quick try
#   scripts/false-alarms.sh scenarios/raft-elect-and-replicate.yaml   # some scenarios only
#
# Prints one line per scenario (seeds run, failures, seeds/s) and a total; exits 1 if any seed
# failed, with the failing seeds written under $OUT/<scenario>/ to replay with `faultline run`.
set -euo pipefail
cd "$(dirname "$0")/.."

SEEDS="${SEEDS:-20000}"
JOBS="${JOBS:-2}"
OUT="${OUT:-target/false-alarms}"

# BIN picks another build (a debug one for a quick try).
bin="${BIN:-target/release/faultline}"
if [ -z "${BIN:-}" ]; then
    cargo build --release --locked --quiet
fi

if [ "$#" -gt 0 ]; then
    files=("$@")
else
    # A scenario that expects a violation (a bug variant, or a lesson whose correct protocol
    # is shown blocking) is meant to fail: leave it out.
    mapfile -t files < <(grep -L '^expect:.*violation' scenarios/*.yaml)
fi

total_seeds=0
total_failures=0
for file in "${files[@]}"; do
    name="$(basename "$file" .yaml)"
    report="$("$bin" fuzz "$file" --count "$SEEDS" --jobs "$JOBS" --out "$OUT/$name" \
        --format json || true)"
    read -r seeds failures rate < <(python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print(r["seeds_run"], len(r["failures"]), round(r["seeds_per_second"]))' <<<"$report")
    printf '%-48s %6s seeds  %4s failing  %6s seeds/s\n' "$name" "$seeds" "$failures" "$rate"
    total_seeds=$((total_seeds + seeds))
    total_failures=$((total_failures + failures))
done
printf 'total: %s seeds, %s false alarms\n' "$total_seeds" "$total_failures"
[ "$total_failures" -eq 0 ]
