#!/usr/bin/env bash
# Time and peak RSS of the release binary on hostile captures (examples/gen_hostile.rs) at
# a few sizes, as the table (the whole report) and as jsonl (streamed), next to
# `tshark -q -z conv,tcp` on the same file; 120 s timeout per run. KINDS="a b" picks kinds.
#
#   benches/hostile.sh [DIR] [SIZES...]     # DIR default /tmp/pagetrace-hostile,
#                                           # SIZES default 10000 100000 200000
#
# Needs GNU time (/usr/bin/time) and tshark. The captures are generated, never committed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/pagetrace-hostile}
shift || true
sizes=(10000 100000 200000)
if [ "$#" -gt 0 ]; then sizes=("$@"); fi
mkdir -p "$dir"
(cd "$here" && cargo build --release -q --bin pagetrace --example gen_hostile)
bin=$here/target/release/pagetrace
gen=$here/target/release/examples/gen_hostile

# "seconds peak_MiB" of one command, or "timeout" / "exit N".
measure() {
  local out rc
  out=$(mktemp)
  set +e
  /usr/bin/time -f '%e %M' -o "$out" timeout 120 "$@" >/dev/null 2>&1
  rc=$?
  set -e
  if [ "$rc" = 124 ]; then echo "timeout -"; elif [ "$rc" != 0 ]; then echo "exit$rc -";
  else awk '{printf "%s %.0f\n", $1, $2/1024}' "$out"; fi
  rm -f "$out"
}

printf '%-17s %8s %5s | %9s %8s | %8s %8s | %9s %8s\n' kind N MiB pagetrace_s MiB_rss jsonl_s MiB_rss tshark_s MiB_rss
for kind in ${KINDS:-syn-ports syn-flood dns-unanswered dns-loops slowloris frags lookups-and-syns quic-initials hash-collisions}; do
  for n in "${sizes[@]}"; do
    f=$dir/$kind-$n.pcap
    [ -s "$f" ] || "$gen" "$kind" "$n" "$f"
    mib=$(( $(stat -c %s "$f") / 1048576 ))
    read -r pt prss < <(measure "$bin" analyze "$f")
    read -r jt jrss < <(measure "$bin" analyze --format jsonl "$f")
    read -r tt trss < <(measure tshark -q -z conv,tcp -r "$f")
    printf '%-17s %8s %5s | %9s %8s | %8s %8s | %9s %8s\n' "$kind" "$n" "$mib" "$pt" "$prss" "$jt" "$jrss" "$tt" "$trss"
  done
done
