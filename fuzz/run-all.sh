#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on its corpus (seeded by seed.sh when
# absent), with debug assertions on (so std's UB precondition checks and overflow checks
# fire) and AddressSanitizer. Exits non-zero if any target crashed, timed out (>10 s on one
# input) or went over 2 GiB; the input is in fuzz/artifacts/<target>/.
#   fuzz/run-all.sh [SECONDS] [TARGET...]
# RUNS=N runs each target for N executions instead (the long run: RUNS=1000000), and
# SANITIZER=none drops AddressSanitizer (debug assertions stay) for speed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
secs="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ -d corpus ] || ./seed.sh || exit 1
san=(--sanitizer "${SANITIZER:-address}")
if [ -n "${RUNS:-}" ]; then limit=(-runs="$RUNS"); what="$RUNS runs"; else limit=(-max_total_time="$secs"); what="${secs}s"; fi
cargo +nightly fuzz build --debug-assertions "${san[@]}" || exit 1
mkdir -p logs
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="logs/$t.log"
    start=$(date +%s)
    if cargo +nightly fuzz run --debug-assertions "${san[@]}" "$t" "corpus/$t" -- \
        "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "$t: ok, ${runs:-?} runs in $(( $(date +%s) - start ))s, peak ${rss:-?} MB"
    else
        echo "$t: FAILED (full log: fuzz/$log)"
        tail -n 60 "$log"
        failed+=("$t")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz/run-all.sh: failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz/run-all.sh: ${#targets[@]} targets, $what each, no crash"
