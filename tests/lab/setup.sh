#!/usr/bin/env bash
# setup.sh - install what tests/lab needs on Debian 12 (root): Debian packages,
# aioquic in tests/lab/.venv, playwright-core in tests/lab/node_modules.
# Never downloads a browser: drive.js runs the system /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
PKGS=(chromium nginx-light dnsmasq-base tcpdump tshark wireshark-common libnss3-tools
      openssl iproute2 ethtool brotli
      bind9 bind9-utils bind9-dnsutils unbound knot-dnsutils curl)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# node and npm: from Debian (nodejs npm) unless some other node is already there
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if (( ${#missing[@]} )); then
    apt-get update -q
    # tshark asks whether non-root users may capture: keep the default (no)
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# nginx-light's package starts a system nginx on :80; the lab runs its own.
if systemctl is-active --quiet nginx 2>/dev/null; then systemctl stop nginx; systemctl disable nginx 2>/dev/null || true; fi
# bind9 and unbound start system servers on :53 when installed; dnstree.py runs its
# own inside namespaces: stop those this run installed (a resolver already in use stays).
for pkg_svc in bind9:named unbound:unbound; do
    [[ " ${missing[*]:-} " == *" ${pkg_svc%%:*} "* ]] || continue
    if systemctl is-active --quiet "${pkg_svc#*:}" 2>/dev/null; then
        systemctl stop "${pkg_svc#*:}"; systemctl disable "${pkg_svc#*:}" 2>/dev/null || true
    fi
done
PY=${PYTHON:-python3}
if ! .venv/bin/python -c 'import aioquic' 2>/dev/null; then
    "$PY" -m venv .venv
    .venv/bin/pip install -q 'aioquic==1.7.2'
fi
if [[ ! -d node_modules/playwright-core ]]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
echo "setup.sh: ok ($(/usr/bin/chromium --version 2>/dev/null | head -1); aioquic $(.venv/bin/python -c 'import aioquic; print(aioquic.__version__)'); playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'))"
