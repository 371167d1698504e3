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

# BEFORE=path/to/an/older/pagetrace adds its two runs, to compare builds in the same run.
# H3DIR=dir adds an HTTP/3 recording (tests/lab/record.py: capture.pcap and keys.log).
# `--threads 1` is one thread; `--threads 2` reads the file on a second one.
names=(cat tcpdump analyze analyze+keys "analyze --threads 2" "analyze+keys --threads 2")
cmds=("cat $cap" "tcpdump -r $cap -w /dev/null"
  "$bin analyze $cap --threads 1 --format json -o /dev/null"
  "$bin analyze $cap --threads 1 --keylog $keys --format json -o /dev/null"
  "$bin analyze $cap --threads 2 --format json -o /dev/null"
  "$bin analyze $cap --threads 2 --keylog $keys --format json -o /dev/null")
if [[ -n ${BEFORE:-} ]]; then
  names+=(before before+keys)
  cmds+=("$BEFORE analyze $cap --format json -o /dev/null"
    "$BEFORE analyze $cap --keylog $keys --format json -o /dev/null")
fi
args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$dir/hyperfine.json" --output null "${args[@]}"

rss() { /usr/bin/time -v sh -c "$1 >/dev/null" 2>&1 | awk -F': ' '/Maximum resident/ {print $2}'; }
rsslist=()
for c in "${cmds[@]}"; do rsslist+=("$(rss "$c")"); done
echo
table() {
python3 - "$1" "$2" "$3" "${@:4}" <<'PY'
import json, sys
runs = [(r["command"], r["mean"]) for r in json.load(open(sys.argv[1]))["results"]]
size = int(sys.argv[2]); base_name = sys.argv[3]; rss = sys.argv[4:]
base = dict(runs)[base_name]
print("| command | mean time | throughput | vs tcpdump | peak RSS |")
print("| --- | --- | --- | --- | --- |")
for (name, t), r in zip(runs, rss):
    print("| %s | %.2f s | %.0f MB/s | %.2f | %.1f MiB |" % (name, t, size / t / 1e6, base / t, int(r) / 1024))
PY
}
table "$dir/hyperfine.json" "$bytes" tcpdump "${rsslist[@]}"

if [[ -n ${H3DIR:-} ]]; then
  h3=$H3DIR/capture.pcap
  h3bytes=$(stat -c %s "$h3")
  echo
  echo "HTTP/3 input: $h3 ($((h3bytes / 1048576)) MiB)"
  hnames=(cat tcpdump analyze analyze+keys)
  hcmds=("cat $h3" "tcpdump -r $h3 -w /dev/null"
    "$bin analyze $h3 --format json -o /dev/null"
    "$bin analyze $h3 --keylog $H3DIR/keys.log --format json -o /dev/null")
  args=()
  for i in "${!hnames[@]}"; do args+=(-n "${hnames[$i]}" "${hcmds[$i]}"); done
  hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$H3DIR/hyperfine.json" --output null "${args[@]}"
  rsslist=()
  for c in "${hcmds[@]}"; do rsslist+=("$(rss "$c")"); done
  table "$H3DIR/hyperfine.json" "$h3bytes" tcpdump "${rsslist[@]}"
fi
