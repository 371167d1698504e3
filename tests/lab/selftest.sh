#!/usr/bin/env bash
# selftest.sh - smoke test of the recording lab (root, ~1 minute).
#
#   tests/lab/selftest.sh [OUTDIR]
#
# Records every scenario once with record.py and checks each recording with
# check.py (tshark: DNS, TCP/QUIC connections, TLS versions, decrypted HTTP/2
# and HTTP/3 HEADERS frames vs. what nginx/aioquic logged, the key log, the
# client's own per-protocol counts vs. the servers', relay delay/drops):
#   h3-chromium     Chromium, 2 navigations: 301 (h1) -> doc h2 + Alt-Svc ->
#                   subresources h3; the second navigation all h3
#   h3-aioquic      the aioquic client over QUIC v1
#   h3-aioquic-v2   the aioquic client over QUIC v2, one short-header packet
#                   from the server dropped by the relay
#   browser         Chromium, h2 (TLS 1.3) + HTTP/1.1 (TLS 1.2), gzip and br,
#                   --delay 20 through the relay
#   doq             DNS over QUIC (doq.py): 7 queries on one connection, one
#                   query packet and one answer packet dropped by the relay
# Then checks that no namespace, /etc/netns entry or process was left behind.
# Recordings stay in OUTDIR (default: a new /tmp/lab-selftest.* dir).
set -uo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$(mktemp -d /tmp/lab-selftest.XXXXXX)}
mkdir -p "$OUT"
(( EUID == 0 )) || { echo "selftest.sh: must run as root" >&2; exit 2; }
command -v tshark >/dev/null || { echo "selftest.sh: tshark missing (tests/lab/setup.sh)" >&2; exit 2; }

PASS=0; FAIL=0; SUMMARY=()
before_ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^lab[0-9]+[csw]$' | sort)
before_etc=$(ls /etc/netns 2>/dev/null | grep -E '^lab[0-9]+c$' | sort)

case_() {   # case_ NAME RECORD-ARGS...
    local name=$1; shift
    local dir="$OUT/$name" t0 t1 rc
    echo "== $name: record.py $*"
    t0=$(date +%s.%N)
    nice -n 5 python3 "$LAB/record.py" --out "$dir" -q "$@" 2> "$OUT/$name.log"
    rc=$?
    t1=$(date +%s.%N)
    local secs; secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
    if (( rc != 0 )); then
        echo "  FAIL record.py exited $rc:"; sed 's/^/    /' "$OUT/$name.log" | tail -20
        FAIL=$((FAIL + 1)); SUMMARY+=("$(printf '%-15s %6ss  FAIL (record.py exit %d)' "$name" "$secs" "$rc")")
        return
    fi
    if python3 "$LAB/check.py" "$dir"; then
        PASS=$((PASS + 1)); SUMMARY+=("$(printf '%-15s %6ss  ok   %s' "$name" "$secs" "$(python3 -c '
import json,sys; m=json.load(open(sys.argv[1])); c=dict(m["request_counts"])
if m.get("doq"): c["doq"] = len(m["doq"]["queries"])
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$dir/manifest.json")")")
    else
        FAIL=$((FAIL + 1)); SUMMARY+=("$(printf '%-15s %6ss  FAIL (check.py)' "$name" "$secs")")
    fi
}

start=$(date +%s)
case_ h3-chromium   --scenario h3 --runs 2
case_ h3-aioquic    --scenario h3 --client aioquic
case_ h3-aioquic-v2 --scenario h3 --client aioquic --quic-version 2 \
                    --paths /,/js/app.js,/img/p1.png,/img/missing.png \
                    --drop 's2c udp src port 443 and quic-short:3'
case_ browser       --scenario browser --delay 20
case_ doq           --scenario doq \
                    --drop 'c2s udp dst port 853 and quic-short and len>150:3' \
                    --drop 's2c udp src port 853 and quic-short and len>400:2'

echo "== leftovers"
after_ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^lab[0-9]+[csw]$' | sort)
after_etc=$(ls /etc/netns 2>/dev/null | grep -E '^lab[0-9]+c$' | sort)
left=$(comm -13 <(echo "$before_ns") <(echo "$after_ns"); comm -13 <(echo "$before_etc") <(echo "$after_etc"))
if [[ -z ${left//[[:space:]]/} ]]; then
    echo "  ok   no namespace or /etc/netns entry left"; PASS=$((PASS + 1))
    SUMMARY+=("$(printf '%-15s %6s   ok' cleanup -)")
else
    echo "  FAIL left behind: $left"; FAIL=$((FAIL + 1))
    SUMMARY+=("$(printf '%-15s %6s   FAIL (%s)' cleanup - "$left")")
fi

echo
echo "selftest summary ($(( $(date +%s) - start )) s, recordings in $OUT):"
printf '  %s\n' "${SUMMARY[@]}"
echo "selftest: $PASS passed, $FAIL failed"
(( FAIL == 0 ))
