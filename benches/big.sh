#!/usr/bin/env bash
# End-to-end speed and memory of the release binary on a big real recording, next to
# tcpdump reading the same file, in one hyperfine run; peak RSS from /usr/bin/time -v.
#
#   sudo benches/big.sh [SIZE] [DIR]     # SIZE default 1G, DIR default /tmp/pagetrace-big
#
# Needs root (the recorder uses network namespaces), hyperfine, tcpdump and GNU time
# (apt-get install -y hyperfine tcpdump time nginx-light dnsmasq-base curl openssl iproute2).
# The recording is made once and reused; it is never committed.
set -euo pipefail
size=${1:-1G}
dir=${2:-/tmp/pagetrace-big}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
bin=$here/target/release/pagetrace

if [[ ! -s $dir/pageload.pcap ]]; then
  bash "$shared/tools/record-pageload.sh" --big "$size" --out "$dir" -q
fi
(cd "$here" && cargo build --release -q)
cap=$dir/pageload.pcap
keys=$dir/pageload.keys
bytes=$(stat -c %s "$cap")
echo "input: $cap ($((bytes / 1048576)) MiB, $(tcpdump -r "$cap" 2>/dev/null | wc -l) packets)"

hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$dir/hyperfine.json" \
  -n tcpdump "tcpdump -r $cap -w /dev/null" \
  -n analyze "$bin analyze $cap --format json -o /dev/null" \
  -n analyze+keys "$bin analyze $cap --keylog $keys --format json -o /dev/null"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
echo
python3 - "$dir/hyperfine.json" "$bytes" \
  "$(rss tcpdump -r "$cap" -w /dev/null)" \
  "$(rss "$bin" analyze "$cap" --format json -o /dev/null)" \
  "$(rss "$bin" analyze "$cap" --keylog "$keys" --format json -o /dev/null)" <<'PY'
import json, sys
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]); rss = dict(zip(["tcpdump", "analyze", "analyze+keys"], sys.argv[3:6]))
base = runs["tcpdump"]
print("| command | mean time | throughput | vs tcpdump | peak RSS |")
print("| --- | --- | --- | --- | --- |")
for name, t in runs.items():
    print("| %s | %.2f s | %.0f MB/s | %.2f | %.1f MiB |" % (name, t, size / t / 1e6, base / t, int(rss[name]) / 1024))
PY
