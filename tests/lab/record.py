#!/usr/bin/env python3
"""record.py - record a REAL page load (Chromium or an aioquic HTTP/3 client)
between private network namespaces, for pagetrace's tests.

    tests/lab/record.py --scenario h3|browser|doq --out DIR
        [--client chromium|aioquic] [--runs N] [--delay MS] [--loss PCT]
        [--drop SPEC]... [--quic-version 1|2] [--paths P,P,...]
        [--h3-page late|plain] [--ipv4-only] [--keep-tmp] [--max-seconds S]
        [--chromium-arg ARG]...

Check a recording with tests/lab/check.py DIR; smoke-test all with
tests/lab/selftest.sh.

Writes into DIR: capture.pcap (tcpdump on the client's interface, Ethernet,
full snaplen), capture.pcapng (the same with the key log in a Decryption
Secrets Block), keys.log (the client's SSLKEYLOGFILE), server-keys.log (the
aioquic server's key log, h3 only), manifest.json (what the SERVERS logged,
the DNS zone and queries, addresses, options, the CA), devtools.json
(Chromium runs: CDP Network events, a per-request list, Resource/Navigation
Timing), client.json (aioquic client runs), ca.crt, and the raw server logs
(nginx-access.jsonl, h3server.jsonl, doqserver.jsonl, dnsmasq.log,
relay-drops.jsonl).  --scenario doq: DNS over QUIC (doq.py server on UDP 853,
doq.py client), no nginx, no HTTP.

Layout (every name carries this process's id; all removed on exit, error,
Ctrl-C or TERM):

  netns lab<pid>c  10.77.0.1 fd77::1  eth0 --veth-- eth0  netns lab<pid>s
  (tcpdump, Chromium/                                     10.77.0.2 fd77::2 www.lab.test
   aioquic client,                                        10.77.0.3 fd77::3 static.lab.test
   /etc/netns/lab<pid>c/resolv.conf -> 10.77.0.53)        10.77.0.53 dnsmasq
                                                          nginx :80 :443/tcp, aioquic :443/udp
With --delay/--loss/--drop the veth pair becomes two, joined by relay.py in a
third namespace lab<pid>w.  See README.md.  Stdlib only.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

LAB = os.path.dirname(os.path.abspath(__file__))
PROG = "record.py"
FORMAT = "pagetrace-lab-manifest/1"

CLI4, SRV4, STA4, DNS4 = "10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.53"
CLI6, SRV6, STA6 = "fd77::1", "fd77::2", "fd77::3"
CLI_MAC, SRV_MAC = "02:00:0a:4d:00:01", "02:00:0a:4d:00:02"
WWW, STATIC = "www.lab.test", "static.lab.test"
ZONE = "lab.test"

QUIET = False


def log(msg):
    if not QUIET:
        print("%s: %s" % (PROG, msg), file=sys.stderr, flush=True)


class Die(Exception):
    pass


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__("signal %d" % signum)
        self.signum = signum


def die(msg):
    raise Die(msg)


def run(argv, ns=None, check=True, capture=True, **kw):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    r = subprocess.run(full, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True, **kw)
    if check and r.returncode != 0:
        die("command failed (%d): %s\n%s" % (r.returncode, " ".join(full),
                                              (r.stderr or "").strip()))
    return r


def have(cmd):
    return shutil.which(cmd) is not None


# ---------------------------------------------------------------------------
# Everything the lab creates, undone in reverse order on every exit path
# ---------------------------------------------------------------------------
class Lab:
    def __init__(self, keep_tmp=False):
        self.procs = []      # (name, Popen, logfile handles)
        self.netns = []
        self.links = []
        self.etc = []
        self.tmp = None
        self.keep_tmp = keep_tmp
        self.cleaned = False

    def start(self, name, argv, ns=None, stdout=None, stderr=None, env=None, cwd=None):
        full = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
        out = open(stdout, "ab") if isinstance(stdout, str) else (stdout or subprocess.DEVNULL)
        err = open(stderr, "ab") if isinstance(stderr, str) else (stderr or subprocess.DEVNULL)
        p = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env, cwd=cwd)
        self.procs.append((name, p))
        return p

    def stop(self, p, name="", sig=signal.SIGTERM, timeout=5.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) did not stop on %s; sending KILL" % (name, p.pid, sig.name))
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        return p.returncode

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        for name, p in reversed(self.procs):
            try:
                self.stop(p, name)
            except Exception as e:  # keep cleaning
                log("stopping %s: %s" % (name, e))
        # anything still living in our namespaces was started by us: end it
        for ns in self.netns:
            r = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
            for pid in (r.stdout or "").split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for l in self.links:
            subprocess.run(["ip", "link", "del", l], stderr=subprocess.DEVNULL)
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        for d in self.etc:
            shutil.rmtree(d, ignore_errors=True)
        if self.tmp and os.path.isdir(self.tmp):
            if self.keep_tmp:
                log("temp dir kept: %s" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(what, fn, secs=15.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.05)
    die("timed out waiting for %s" % what)


def listening(ns, port, udp=False):
    r = run(["ss", "-Hlun" if udp else "-Hltn", "sport = :%d" % port], ns=ns, check=False)
    return bool(r.stdout.strip())


def file_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------
def setup_net(lab, a, T):
    pid = os.getpid()
    ns_c, ns_s, ns_w = "lab%dc" % pid, "lab%ds" % pid, "lab%dw" % pid
    net = {"client_ns": ns_c, "server_ns": ns_s, "relay_ns": None}
    for ns in (ns_c, ns_s):
        run(["ip", "netns", "add", ns])
        lab.netns.append(ns)
    shaped = a.delay > 0 or a.loss > 0 or bool(a.drop)
    if shaped:
        run(["ip", "netns", "add", ns_w])
        lab.netns.append(ns_w)
        net["relay_ns"] = ns_w
        vc, vs = "lab%dc0" % pid, "lab%ds0" % pid
        run(["ip", "link", "add", vc, "address", CLI_MAC, "type", "veth", "peer", "name", "lab%dw0" % pid])
        lab.links.append(vc)
        run(["ip", "link", "add", vs, "address", SRV_MAC, "type", "veth", "peer", "name", "lab%dw1" % pid])
        lab.links.append(vs)
        for i in (0, 1):
            run(["ip", "link", "set", "lab%dw%d" % (pid, i), "netns", ns_w])
            run(["ip", "-n", ns_w, "link", "set", "lab%dw%d" % (pid, i), "name", "w%d" % i])
        # the relay's namespace stays silent: no IPv6 of its own, no offloads
        run(["sh", "-c", "for k in all default w0 w1; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done"],
            ns=ns_w, check=False)
        for w in ("w0", "w1"):
            run(["ethtool", "-K", w, "tx", "off", "tso", "off", "gso", "off", "gro", "off"], ns=ns_w, check=False)
            run(["ip", "-n", ns_w, "link", "set", w, "up"])
    else:
        vc, vs = "lab%dc0" % pid, "lab%ds0" % pid
        run(["ip", "link", "add", vc, "address", CLI_MAC, "type", "veth", "peer", "name", vs, "address", SRV_MAC])
        lab.links.append(vc)
    run(["ip", "link", "set", vc, "netns", ns_c])
    run(["ip", "link", "set", vs, "netns", ns_s])
    run(["ip", "-n", ns_c, "link", "set", vc, "name", "eth0"])
    run(["ip", "-n", ns_s, "link", "set", vs, "name", "eth0"])
    v6 = not a.ipv4_only
    if v6:
        for ns in (ns_c, ns_s):
            r = run(["sh", "-c", "for k in all default eth0; do echo 0 > /proc/sys/net/ipv6/conf/$k/disable_ipv6 && "
                     "echo 0 > /proc/sys/net/ipv6/conf/$k/accept_ra && "
                     # no duplicate address detection on the link-local address either:
                     # its end, a second after the link came up, is a netlink change that
                     # Chromium answers with net::ERR_NETWORK_CHANGED mid-navigation
                     "echo 0 > /proc/sys/net/ipv6/conf/$k/accept_dad && "
                     "echo 0 > /proc/sys/net/ipv6/conf/$k/router_solicitations || exit 1; done"], ns=ns, check=False)
            if r.returncode != 0:
                log("IPv6 unavailable; continuing IPv4-only")
                v6 = False
                break
    net["ipv6"] = v6
    run(["ip", "-n", ns_c, "addr", "add", CLI4 + "/24", "dev", "eth0"])
    for addr in (SRV4, STA4, DNS4):
        run(["ip", "-n", ns_s, "addr", "add", addr + "/24", "dev", "eth0"])
    if v6:
        run(["ip", "-n", ns_c, "addr", "add", CLI6 + "/64", "dev", "eth0", "nodad"])
        for addr in (SRV6, STA6):
            run(["ip", "-n", ns_s, "addr", "add", addr + "/64", "dev", "eth0", "nodad"])
    for ns in (ns_c, ns_s):
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # a real wire: no >MTU super-packets, checksums computed (so they verify)
        run(["ip", "-n", ns, "link", "set", "dev", "eth0", "gso_max_segs", "1"], check=False)
        run(["ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off", "gro", "off"], ns=ns, check=False)
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    if v6:
        # Every address settled (none tentative) before any client starts.
        for ns in (ns_c, ns_s):
            wait_for("IPv6 addresses in %s to settle" % ns,
                     lambda ns=ns: run(["ip", "-n", ns, "-6", "addr", "show", "tentative"],
                                       check=False).stdout.strip() == "", secs=5.0)
    # Default routes inside the lab only (nothing leaves it: there is no other
    # interface): browsers skip AAAA lookups on a host with no IPv6 route.
    run(["ip", "-n", ns_c, "route", "add", "default", "dev", "eth0"], check=False)
    if v6:
        run(["ip", "-n", ns_c, "-6", "route", "add", "default", "dev", "eth0"], check=False)
    # The client's resolver: `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc/*
    etc = "/etc/netns/" + ns_c
    os.makedirs(etc, exist_ok=True)
    lab.etc.append(etc)
    with open(etc + "/resolv.conf", "w") as f:
        f.write("nameserver %s\noptions timeout:2 attempts:2\n" % DNS4)
    with open(etc + "/hosts", "w") as f:
        f.write("127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n" % os.uname().nodename)
    with open(etc + "/nsswitch.conf", "w") as f:
        f.write("hosts: files dns\n")
    if shaped:
        relay_args = [sys.executable, "-u", os.path.join(LAB, "relay.py"), "--client-if", "w0",
                      "--server-if", "w1", "--delay-c2s", str(a.delay / 2.0), "--delay-s2c", str(a.delay / 2.0),
                      "--loss", str(a.loss), "--seed", str(a.seed),
                      "--log", os.path.join(a.out, "relay-drops.jsonl"), "--stats", os.path.join(T, "relay-stats.json")]
        for d in a.drop:
            relay_args += ["--drop", d]
        out = os.path.join(T, "relay.out")
        p = lab.start("relay", relay_args, ns=ns_w, stdout=out, stderr=out)
        net["relay_proc"] = p
        wait_for("the relay to start", lambda: file_has(out, "ready") or p.poll() is not None)
        if p.poll() is not None:
            die("relay.py failed: " + open(out).read())
    return net


# ---------------------------------------------------------------------------
# PKI: a throw-away root CA and one leaf for both hosts
# ---------------------------------------------------------------------------
def make_pki(P):
    os.makedirs(P)
    ossl = lambda *args: run(["openssl"] + list(args))
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
         "-keyout", P + "/ca.key", "-out", P + "/ca.crt", "-subj", "/O=pagetrace lab/CN=pagetrace lab throw-away root CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", P + "/server.key",
         "-out", P + "/server.csr", "-subj", "/O=pagetrace lab/CN=" + WWW)
    with open(P + "/server.ext", "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,DNS:%s\n" % (WWW, STATIC))
    ossl("x509", "-req", "-in", P + "/server.csr", "-CA", P + "/ca.crt", "-CAkey", P + "/ca.key",
         "-set_serial", "0x%x" % random.getrandbits(63), "-days", "30", "-extfile", P + "/server.ext",
         "-out", P + "/server.crt")
    # leaf + CA: what the servers send
    with open(P + "/chain.crt", "w") as f:
        f.write(open(P + "/server.crt").read() + open(P + "/ca.crt").read())
    spki = subprocess.run("openssl x509 -in %s/server.crt -pubkey -noout | openssl pkey -pubin -outform der "
                          "| openssl dgst -sha256 -binary | base64" % P, shell=True, check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()

    def fp(path):
        der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "der"], check=True,
                             stdout=subprocess.PIPE).stdout
        return hashlib.sha256(der).hexdigest()

    return {"ca_pem": open(P + "/ca.crt").read(), "ca_sha256": fp(P + "/ca.crt"),
            "leaf_sha256": fp(P + "/server.crt"), "leaf_spki_sha256_base64": spki,
            "leaf_names": [WWW, STATIC], "key_type": "EC P-256"}


# ---------------------------------------------------------------------------
# The sites (deterministic bytes: seeded PRNG, gzip with mtime 0)
# ---------------------------------------------------------------------------
def prand(size, name, magic=b""):
    rng = random.Random(hashlib.sha256(name.encode()).digest())
    return (magic + rng.randbytes(size))[:size]


def css(size):
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append(".c%d { color: #%06x; margin: %dpx %dpx; padding: 0 %dpx; }\n"
                   % (i, (i * 2654435761) % 16777216, i % 17, i % 13, i % 7))
        i += 1
    return "".join(out).encode()


def js(size, tag):
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append("function %s%d(a, b) { return (a * %d + b) %% 997; } // helper %d\n" % (tag, i, i, i))
        i += 1
    return "".join(out).encode()


def paras(n):
    return "".join("<p>Paragraph %d: the quick brown fox jumps over the lazy dog, again and again.</p>\n" % i
                   for i in range(n))


class Site:
    """Files per host, and what each one is served as."""

    def __init__(self, root):
        self.root = root
        self.res = {}  # (host, path) -> dict

    def add(self, host, path, data, ctype, mode="identity", note=None):
        """mode: identity | gzip-static (pre-compressed .gz sent with
        Content-Encoding: gzip) | br-static (.br, Content-Encoding: br) |
        gzip-dynamic (nginx compresses on the fly)"""
        d = os.path.join(self.root, host)
        fname = path.lstrip("/") or "index.html"
        if fname.endswith("/"):
            fname += "index.html"
        full = os.path.join(d, fname)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        r = {"host": host, "path": path, "file": fname, "content_type": ctype, "mode": mode,
             "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if mode == "gzip-static":
            enc = gzip.compress(data, compresslevel=9, mtime=0)
            r.update(encoding="gzip", encoded_file=fname + ".gz")
        elif mode == "br-static":
            enc = subprocess.run(["brotli", "-c", "-q", "11", "-w", "22"], input=data,
                                 stdout=subprocess.PIPE, check=True).stdout
            r.update(encoding="br", encoded_file=fname + ".br")
        else:
            enc = None
            r["encoding"] = "gzip" if mode == "gzip-dynamic" else None
        if enc is not None:
            with open(full + (".gz" if mode == "gzip-static" else ".br"), "wb") as f:
                f.write(enc)
            r["encoded_size"] = len(enc)
            r["encoded_sha256"] = hashlib.sha256(enc).hexdigest()
        if note:
            r["note"] = note
        self.res[(host, path)] = r
        return r

    def list(self):
        return [self.res[k] for k in sorted(self.res)]


def build_site(scenario, S, page="late", gate_ms=500):
    site = Site(S)
    img = lambda n, size, magic: prand(size, n, magic)
    PNG, JPG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    if scenario == "h3":
        imgs = ["/img/p%d.png" % i for i in range(1, 6)]
        late = ["/js/app.js"] + imgs + ["/img/missing.png", "/img/big.jpg"]
        head = ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>pagetrace lab: h3</title>\n<link rel=\"icon\" href=\"/favicon.ico\">\n"
                "<link rel=\"stylesheet\" href=\"/css/site.css\">\n")
        if page == "late":
            # The document and its stylesheet come over h2 (the connection is
            # there); the stylesheet's request also starts Chromium's QUIC
            # "alternative job" for the Alt-Svc just received.  The rest is
            # requested gate_ms after "load", by which time the QUIC
            # connection is up and Chromium sends them over HTTP/3.
            html = (head + "</head>\n<body>\n<h1>HTTP/3 journey</h1>\n<div id=\"late\"></div>\n"
                    "<script>\nwindow.addEventListener('load', function () {\n  setTimeout(function () {\n"
                    "    var d = document.getElementById('late');\n"
                    "    var s = document.createElement('script'); s.src = '/js/app.js'; document.head.appendChild(s);\n"
                    "    %s.forEach(function (p) { var i = new Image(); i.src = p; d.appendChild(i); });\n"
                    "  }, %d);\n});\n</script>\n" % (json.dumps(late[1:]), gate_ms)
                    + paras(40) + "</body>\n</html>\n")
        else:
            html = (head + "<script src=\"/js/app.js\" defer></script>\n"
                    "</head>\n<body>\n<h1>HTTP/3 journey</h1>\n"
                    + "".join("<img src=\"%s\" alt=\"\" width=\"64\" height=\"64\">\n" % p for p in imgs)
                    + "<img src=\"/img/missing.png\" alt=\"missing\" width=\"8\" height=\"8\">\n"
                    "<img src=\"/img/big.jpg\" alt=\"big\" width=\"800\" height=\"600\">\n"
                    + paras(40) + "</body>\n</html>\n")
        site.add(WWW, "/", html.encode(), "text/html")
        site.add(WWW, "/favicon.ico", img("favicon", 1150, b"\x00\x00\x01\x00"), "image/x-icon")
        site.add(WWW, "/css/site.css", css(12000), "text/css")
        site.add(WWW, "/js/app.js", js(60000, "h"), "application/javascript", "gzip-static")
        for i, p in enumerate(imgs):
            site.add(WWW, p, img(p, 6000 + 7000 * i, PNG), "image/png")
        site.add(WWW, "/img/big.jpg", img("big", 1310720, JPG), "image/jpeg")
    else:
        html = ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>pagetrace lab: browser</title>\n<link rel=\"icon\" href=\"/favicon.ico\">\n"
                "<link rel=\"stylesheet\" href=\"/css/site.css\">\n<script src=\"/js/app.js\" defer></script>\n"
                "<script src=\"https://%s/js/lib.js\" defer></script>\n</head>\n<body>\n<h1>Browser timing page</h1>\n"
                "<img src=\"/img/logo.png\" alt=\"logo\" width=\"64\" height=\"64\">\n"
                "<img src=\"/img/hero.jpg\" alt=\"hero\" width=\"1200\" height=\"600\">\n"
                "<img src=\"https://%s/img/g1.jpg\" alt=\"g1\">\n<img src=\"https://%s/img/g2.webp\" alt=\"g2\">\n"
                "<img src=\"https://%s/img/g3.png\" alt=\"g3\">\n" % (STATIC, STATIC, STATIC, STATIC)
                + paras(60) + "</body>\n</html>\n")
        site.add(WWW, "/", html.encode(), "text/html", "gzip-dynamic")
        site.add(WWW, "/favicon.ico", img("favicon", 1150, b"\x00\x00\x01\x00"), "image/x-icon")
        site.add(WWW, "/css/site.css", css(24000), "text/css", "gzip-dynamic")
        site.add(WWW, "/js/app.js", js(80000, "a"), "application/javascript", "gzip-static")
        site.add(WWW, "/img/logo.png", img("logo", 1800, PNG), "image/png")
        site.add(WWW, "/img/hero.jpg", img("hero", 184320, JPG), "image/jpeg")
        site.add(STATIC, "/js/lib.js", js(50000, "lib"), "application/javascript", "br-static")
        site.add(STATIC, "/img/g1.jpg", img("g1", 65536, JPG), "image/jpeg")
        site.add(STATIC, "/img/g2.webp", img("g2", 32768, b"RIFF\x00\x80\x00\x00WEBPVP8 "), "image/webp")
        site.add(STATIC, "/img/g3.png", img("g3", 20000, PNG), "image/png")
    subprocess.run(["chmod", "-R", "a+rX", S], check=True)
    return site


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------
NGINX_LOG = ("'{\"time\":\"$time_iso8601\",\"msec\":$msec,\"remote_addr\":\"$remote_addr\","
             "\"remote_port\":\"$remote_port\",\"server_addr\":\"$server_addr\",\"server_port\":\"$server_port\","
             "\"host\":\"$host\",\"method\":\"$request_method\",\"uri\":\"$request_uri\","
             "\"server_protocol\":\"$server_protocol\",\"status\":$status,\"body_bytes_sent\":$body_bytes_sent,"
             "\"bytes_sent\":$bytes_sent,\"request_length\":$request_length,\"request_time\":$request_time,"
             "\"ssl_protocol\":\"$ssl_protocol\",\"ssl_cipher\":\"$ssl_cipher\",\"alpn\":\"$ssl_alpn_protocol\","
             "\"sni\":\"$ssl_server_name\",\"ssl_session_reused\":\"$ssl_session_reused\","
             "\"connection\":$connection,\"connection_requests\":$connection_requests,"
             "\"content_type\":\"$sent_http_content_type\",\"content_encoding\":\"$sent_http_content_encoding\","
             "\"content_length\":\"$sent_http_content_length\",\"user_agent\":\"$http_user_agent\"}'")


def nginx_conf(scenario, site, N, P, v6, a):
    S = site.root

    def listen(addr4, addr6, port, extra=""):
        s = "        listen %s:%d %s;\n" % (addr4, port, extra)
        if v6:
            s += "        listen [%s]:%d %s;\n" % (addr6, port, extra)
        return s

    def static_locations(host, hsts=""):
        out = []
        for r in site.list():
            if r["host"] != host or r["mode"] not in ("gzip-static", "br-static"):
                continue
            out.append("        location = %s {\n            gzip off;\n            alias %s/%s/%s;\n"
                       "            types { } default_type %s;\n            add_header Content-Encoding %s;\n"
                       "            add_header Vary Accept-Encoding;\n%s        }\n"
                       % (r["path"], S, host, r["encoded_file"], r["content_type"], r["encoding"], hsts))
        return "".join(out)

    alt = ""
    if scenario == "h3":
        alt = "        add_header Alt-Svc 'h3=\":443\"; ma=86400' always;\n"
    www_extra = alt
    conf = ["# generated by pagetrace tests/lab/record.py\n",
            "user root root;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n" % (N, N),
            "events { worker_connections 512; }\nhttp {\n",
            "    types { text/html html; text/css css; application/javascript js; image/png png;\n"
            "            image/jpeg jpg; image/webp webp; image/x-icon ico; application/json json; }\n",
            "    default_type application/octet-stream;\n",
            "    log_format lab escape=json %s;\n" % NGINX_LOG,
            "    access_log %s/access.jsonl lab;\n" % N,
            "    client_body_temp_path %s/tmp/body; proxy_temp_path %s/tmp/proxy; fastcgi_temp_path %s/tmp/fcgi;\n"
            "    uwsgi_temp_path %s/tmp/uwsgi; scgi_temp_path %s/tmp/scgi;\n" % (N, N, N, N, N),
            "    server_tokens off;\n    sendfile off;\n    etag off;\n    if_modified_since off;\n",
            "    keepalive_timeout %ds;\n" % a.keepalive,
            "    gzip %s;\n    gzip_comp_level 6;\n    gzip_min_length 256;\n"
            "    gzip_types text/css application/javascript application/json;\n"
            % ("on" if scenario == "browser" else "off"),
            "    ssl_certificate %s/chain.crt;\n    ssl_certificate_key %s/server.key;\n" % (P, P),
            "    ssl_session_cache off;\n    ssl_session_tickets off;\n",
            # port 80 on both hosts: redirect to https
            "    server {\n" + listen(SRV4, SRV6, 80, "default_server") + listen(STA4, STA6, 80, "default_server")
            + "        server_name _;\n        location / { return 301 https://$host$request_uri; }\n    }\n",
            # www: TLS 1.3 only, h2 (and http/1.1 by ALPN)
            "    server {\n" + listen(SRV4, SRV6, 443, "ssl http2 default_server")
            + "        server_name %s;\n        ssl_protocols TLSv1.3;\n        root %s/%s;\n" % (WWW, S, WWW)
            + "        keepalive_requests %d;\n" % a.h2_requests
            + www_extra + "        add_header Timing-Allow-Origin *;\n"
            + "        location /sleep/ { proxy_pass http://%s:%d; proxy_http_version 1.1; }\n"
            % (SRV4, SLEEPER_PORT)
            + static_locations(WWW, www_extra)
            + "    }\n"]
    if scenario == "browser":
        conf.append(
            # static: its own address, so its own listen socket: TLS 1.2, HTTP/1.1 only
            "    server {\n" + listen(STA4, STA6, 443, "ssl default_server")
            + "        server_name %s;\n        ssl_protocols TLSv1.2;\n" % STATIC
            + "        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305;\n"
            + "        root %s/%s;\n" % (S, STATIC)
            + "        add_header Timing-Allow-Origin *;\n        add_header Access-Control-Allow-Origin *;\n"
            + "        add_header Cache-Control \"public, max-age=31536000, immutable\";\n"
            + static_locations(STATIC).replace("add_header Vary Accept-Encoding;\n",
                                               "add_header Vary Accept-Encoding;\n"
                                               "            add_header Timing-Allow-Origin *;\n"
                                               "            add_header Access-Control-Allow-Origin *;\n")
            + "    }\n")
    conf.append("}\n")
    return "".join(conf)


def h3_site_json(site, T):
    files = {}
    for r in site.list():
        if r["host"] != WWW:
            continue
        rule = {"file": r.get("encoded_file") or r["file"], "type": r["content_type"],
                "encoding": r["encoding"] if r["mode"] in ("gzip-static", "br-static") else None,
                "decoded_size": r["size"]}
        files[r["path"]] = rule
    cfg = {"hosts": {WWW: {"root": os.path.join(site.root, WWW), "files": files,
                           "not_found": "<!doctype html><title>404</title><h1>404 Not Found</h1>\n"}},
           "common_headers": [["alt-svc", 'h3=":443"; ma=86400'], ["timing-allow-origin", "*"]]}
    path = os.path.join(T, "h3site.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def aioquic_python():
    venv = os.path.join(LAB, ".venv", "bin", "python")
    for py in (venv, sys.executable, shutil.which("python3")):
        if py and os.path.exists(py):
            if subprocess.run([py, "-c", "import aioquic"], stderr=subprocess.DEVNULL).returncode == 0:
                return py
    die("aioquic is not installed: run tests/lab/setup.sh (it makes tests/lab/.venv)")


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
# Debian's /usr/bin/chromium is a shell wrapper that adds flags from
# /etc/chromium.d (and Google API keys, which make Chromium look up
# accounts.google.com and update.googleapis.com); the binary behind it is
# the same browser without those extras.
CHROMIUM = "/usr/lib/chromium/chromium" if os.path.exists("/usr/lib/chromium/chromium") else "/usr/bin/chromium"
# Playwright's own --disable-features list (it passes one switch; a second
# --disable-features would replace it, so ours is the union).
PW_DISABLED = ["AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
               "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
               "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "OptimizationHints",
               "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch"]


def chromium_args(a, pki):
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps",
            "--disable-features=" + ",".join(PW_DISABLED)]
    if a.scenario == "h3":
        args += ["--enable-quic"]
        args += H3_LEVERS(a, pki)
    else:
        args += ["--disable-quic"]
    return args + list(a.chromium_arg)


UNUSED_QUIC_PORT = 8443


def H3_LEVERS(a, pki):
    levers = []
    if "spki" in a.h3_levers:
        levers.append("--ignore-certificate-errors-spki-list=" + pki["leaf_spki_sha256_base64"])
    if "force" in a.h3_levers:
        levers.append("--origin-to-force-quic-on=%s:443" % WWW)
    elif "allow-root" in a.h3_levers:
        # Chromium's QUIC proof verifier refuses certificates that do not chain
        # to a *public* root (ERR_QUIC_CERT_ROOT_NOT_KNOWN) unless the host is
        # among the hosts of --origin-to-force-quic-on.  An origin on a port
        # the page never uses puts the host on that list without forcing QUIC
        # on :443, so TCP (h2) and Alt-Svc still decide as on the real web.
        levers.append("--origin-to-force-quic-on=%s:%d" % (WWW, UNUSED_QUIC_PORT))
    return levers


def run_chromium(lab, a, net, pki, T, P):
    home = os.path.join(T, "home")
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    run(["certutil", "-d", "sql:" + nssdb, "-N", "--empty-password"])
    run(["certutil", "-d", "sql:" + nssdb, "-A", "-t", "C,,", "-n", "pagetrace-lab", "-i", P + "/ca.crt"])
    keys = os.path.join(a.out, "keys.log")
    urls = ["http://%s/" % WWW] * a.runs
    cfg = {"executable": CHROMIUM, "user_data_dir": os.path.join(T, "chromium-profile"),
           "env": {"HOME": home, "SSLKEYLOGFILE": keys, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                   "XDG_CACHE_HOME": os.path.join(home, ".cache")},
           "args": chromium_args(a, pki), "urls": urls, "cache_disabled": True,
           "settle_ms": 700 + 3 * int(a.delay) + (a.gate_ms if a.scenario == "h3" else 0), "timeout_ms": 60000, "pause_ms": a.pause_ms,
           "out": os.path.join(a.out, "devtools.json")}
    cfgp = os.path.join(T, "drive.json")
    with open(cfgp, "w") as f:
        json.dump(cfg, f, indent=1)
    node = shutil.which("node") or die("node is not installed")
    outp = os.path.join(T, "drive.out")
    log("Chromium: %d navigation(s) to %s" % (len(urls), urls[0]))
    p = lab.start("drive.js", [node, os.path.join(LAB, "drive.js"), cfgp], ns=net["client_ns"],
                  stdout=outp, stderr=outp, cwd=LAB, env=dict(os.environ, NODE_PATH=os.path.join(LAB, "node_modules")))
    try:
        rc = p.wait(a.max_seconds)
    except subprocess.TimeoutExpired:
        die("drive.js did not finish within --max-seconds")
    out = open(outp, errors="replace").read()
    log(out.strip().splitlines()[-1] if out.strip() else "drive.js: no output")
    if rc != 0:
        die("drive.js failed (exit %d):\n%s" % (rc, out[-3000:]))
    return {"client": "chromium", "args": cfg["args"], "urls": urls}


def run_simple_client(lab, a, net, T, P):
    """curl (HTTP/2, one connection for every path) or slowread.py (HTTP/1.1, a small receive
    buffer read slowly), in the client namespace, with the key log."""
    paths = a.paths.split(",") if a.paths else ["/", "/css/site.css", "/img/hero.jpg"]
    urls = ["https://%s%s" % (WWW, p) for p in paths]
    keys = os.path.join(a.out, "keys.log")
    outp = os.path.join(T, "client.out")
    if a.client == "curl":
        argv = ["curl", "-sS", "--http2", "--cacert", P + "/ca.crt", "--compressed",
                "-w", "%{url_effective} %{http_code} %{size_download} %{time_connect}\n"]
        for u in urls:
            argv += ["-o", "/dev/null", u]
    else:
        argv = [sys.executable, os.path.join(LAB, "slowread.py"), "--ca", P + "/ca.crt",
                "--read-delay-ms", str(a.read_delay_ms)] + urls
    log("%s: %d URL(s)" % (a.client, len(urls)))
    p = lab.start(a.client, argv, ns=net["client_ns"], stdout=outp, stderr=outp,
                  env=dict(os.environ, SSLKEYLOGFILE=keys))
    try:
        rc = p.wait(min(a.max_seconds, 120))
    except subprocess.TimeoutExpired:
        die("%s did not finish" % a.client)
    out = open(outp, errors="replace").read()
    if rc != 0:
        die("%s failed (exit %d):\n%s" % (a.client, rc, out[-3000:]))
    with open(os.path.join(a.out, "client.txt"), "w") as f:
        f.write(out)
    return {"client": a.client, "urls": urls}


def run_aioquic_client(lab, a, net, T, P):
    py = aioquic_python()
    paths = a.paths.split(",") if a.paths else ["/", "/css/site.css", "/js/app.js", "/img/p1.png",
                                               "/img/p2.png", "/img/missing.png"]
    urls = ["https://%s%s" % (WWW, p) for p in paths]
    keys = os.path.join(a.out, "keys.log")
    results = []
    for i in range(a.runs):
        outj = os.path.join(T, "client-%d.json" % i)
        argv = [py, os.path.join(LAB, "h3client.py"), "--ca", P + "/ca.crt", "--secrets-log", keys,
                "--out", outj, "--quic-version", a.quic_version, "--parallel", "4"] + \
               (["--ipv4"] if not net["ipv6"] else []) + urls
        outp = os.path.join(T, "h3client.out")
        log("aioquic client run %d: %d URL(s) over QUIC v%s" % (i + 1, len(urls), a.quic_version))
        p = lab.start("h3client", argv, ns=net["client_ns"], stdout=outp, stderr=outp)
        try:
            rc = p.wait(min(a.max_seconds, 120))
        except subprocess.TimeoutExpired:
            die("h3client.py did not finish")
        if rc != 0:
            die("h3client.py failed (exit %d):\n%s" % (rc, open(outp, errors="replace").read()[-3000:]))
        results.append(json.load(open(outj)))
        if a.pause_ms and i + 1 < a.runs:
            time.sleep(a.pause_ms / 1000.0)
    with open(os.path.join(a.out, "client.json"), "w") as f:
        json.dump({"format": "pagetrace-lab-h3client/1", "runs": results}, f, indent=1)
    return {"client": "aioquic", "urls": urls, "quic_version": a.quic_version}


DOQ_PORT = 853
# sleeper.py, behind nginx's /sleep/ on www: answers /sleep/N after N ms.
SLEEPER_PORT = 8081
# Rounds (';') of queries sent at once on parallel streams (','): A first, then AAAA,
# an NXDOMAIN, another name and a NODATA together, then the same question twice at
# once (two streams, both with DNS ID 0: only the stream tells them apart).
DOQ_QUERIES = ("www.lab.test/A;www.lab.test/AAAA,missing.lab.test/A,static.lab.test/AAAA,"
               "www.lab.test/HTTPS;www.lab.test/A,www.lab.test/A")


def doq_zone_json(net, T):
    recs = [{"name": WWW, "type": "A", "value": SRV4}, {"name": STATIC, "type": "A", "value": STA4}]
    if net["ipv6"]:
        recs += [{"name": WWW, "type": "AAAA", "value": SRV6}, {"name": STATIC, "type": "AAAA", "value": STA6}]
    path = os.path.join(T, "doqzone.json")
    with open(path, "w") as f:
        json.dump({"zone": ZONE, "records": recs}, f, indent=1)
    return path


def start_doq_server(lab, a, net, T, P):
    py = aioquic_python()
    out = os.path.join(T, "doqserver.out")
    argv = [py, "-u", os.path.join(LAB, "doq.py"), "server", "--listen", SRV4, "--port", str(DOQ_PORT),
            "--cert", P + "/chain.crt", "--key", P + "/server.key", "--zone", doq_zone_json(net, T),
            "--log", os.path.join(a.out, "doqserver.jsonl"),
            "--secrets-log", os.path.join(a.out, "server-keys.log")]
    if net["ipv6"]:
        argv += ["--listen", SRV6]
    p = lab.start("doqserver", argv, ns=net["server_ns"], stdout=out, stderr=out)
    wait_for("the DoQ server", lambda: file_has(out, "ready") or p.poll() is not None)
    if p.poll() is not None:
        die("doq.py server failed:\n" + open(out).read())


def run_doq_client(lab, a, net, T, P):
    py = aioquic_python()
    keys = os.path.join(a.out, "keys.log")
    queries = a.queries or DOQ_QUERIES
    results = []
    for i in range(a.runs):
        outj = os.path.join(T, "doqclient-%d.json" % i)
        argv = [py, os.path.join(LAB, "doq.py"), "client", "--host", WWW, "--port", str(DOQ_PORT),
                "--ca", P + "/ca.crt", "--secrets-log", keys, "--out", outj,
                "--quic-version", a.quic_version, "--queries", queries] + \
               (["--ipv4"] if not net["ipv6"] else [])
        outp = os.path.join(T, "doqclient.out")
        log("DoQ client run %d: %s over QUIC v%s" % (i + 1, queries, a.quic_version))
        p = lab.start("doqclient", argv, ns=net["client_ns"], stdout=outp, stderr=outp)
        try:
            rc = p.wait(min(a.max_seconds, 120))
        except subprocess.TimeoutExpired:
            die("doq.py client did not finish")
        if rc != 0:
            die("doq.py client failed (exit %d):\n%s" % (rc, open(outp, errors="replace").read()[-3000:]))
        results.append(json.load(open(outj)))
        if a.pause_ms and i + 1 < a.runs:
            time.sleep(a.pause_ms / 1000.0)
    with open(os.path.join(a.out, "client.json"), "w") as f:
        json.dump({"format": "pagetrace-lab-doqclient/1", "runs": results}, f, indent=1)
    return {"client": "aioquic-doq", "server": "%s:%d" % (WWW, DOQ_PORT), "queries": queries,
            "quic_version": a.quic_version}


# ---------------------------------------------------------------------------
# The manifest: what the servers said
# ---------------------------------------------------------------------------
def read_jsonl(path):
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        out.append({"unparsed": line})
    except FileNotFoundError:
        pass
    return out


def nginx_requests(path, site):
    reqs = []
    for r in read_jsonl(path):
        if "unparsed" in r:
            continue
        proto = {"HTTP/1.1": "h1", "HTTP/1.0": "h1", "HTTP/2.0": "h2"}.get(r["server_protocol"], r["server_protocol"])
        upath = r["uri"].split("?", 1)[0]
        res = site.res.get((r["host"], upath)) or (site.res.get((r["host"], "/")) if upath.endswith("/") else None)
        enc = r["content_encoding"] or None
        wire = r["body_bytes_sent"]
        decoded = wire
        if res is not None and r["status"] == 200 and r["method"] != "HEAD" and enc:
            decoded = res["size"]
        reqs.append({
            "server": "nginx", "time": r["msec"], "method": r["method"], "host": r["host"], "path": r["uri"],
            "status": r["status"], "protocol": proto, "http_version": r["server_protocol"],
            "tls_version": r["ssl_protocol"] or None, "tls_cipher": r["ssl_cipher"] or None,
            "alpn": r["alpn"] or None, "sni": r["sni"] or None,
            "client_addr": r["remote_addr"], "client_port": int(r["remote_port"]),
            "server_addr": r["server_addr"], "server_port": int(r["server_port"]),
            "connection": "nginx:%d" % r["connection"], "connection_request": r["connection_requests"],
            "content_type": r["content_type"] or None, "content_encoding": enc,
            "content_length": int(r["content_length"]) if r["content_length"] else None,
            "body_bytes_wire": wire, "body_bytes_decoded": decoded, "response_bytes_total": r["bytes_sent"],
            "request_bytes": r["request_length"], "request_time": r["request_time"],
            "user_agent": r["user_agent"] or None,
        })
    return reqs


def h3_requests(path):
    reqs, conns = [], []
    for r in read_jsonl(path):
        if r.get("event") == "connection_closed":
            conns.append(r)
            continue
        if "unparsed" in r:
            continue
        reqs.append({
            "server": "aioquic", "time": r["time"], "method": r["method"], "host": r["host"], "path": r["path"],
            "status": r["status"], "protocol": "h3", "http_version": "HTTP/3", "tls_version": "TLSv1.3",
            "tls_cipher": r.get("tls_cipher"), "alpn": r.get("alpn"), "quic_version": r.get("quic_version"),
            "client_addr": r["client_addr"], "client_port": r["client_port"],
            "server_addr": r["server_addr"], "server_port": r["server_port"],
            "connection": "quic:" + (r.get("odcid") or ""), "odcid": r.get("odcid"), "scid": r.get("scid"),
            "stream_id": r["stream_id"], "connection_request": r.get("conn_request"),
            "content_type": r.get("content_type"), "content_encoding": r.get("content_encoding"),
            "body_bytes_wire": r["body_bytes_sent"], "body_bytes_decoded": r["body_decoded_bytes"],
            "request_body_bytes": r.get("request_body_bytes"), "user_agent": r.get("user_agent"),
        })
    return reqs, conns


def doq_queries(path):
    """doq.py server's log -> (queries sorted by time, connection-closed records)."""
    qs, conns = [], []
    for r in read_jsonl(path):
        if r.get("event") == "connection_closed":
            conns.append(r)
        elif r.get("event") == "query":
            qs.append({
                "server": "aioquic-doq", "time": r["time"], "transport": "doq",
                "client_addr": r["client_addr"], "client_port": r["client_port"],
                "server_addr": r["server_addr"], "server_port": r["server_port"],
                "connection": "quic:" + (r.get("odcid") or ""), "odcid": r.get("odcid"), "scid": r.get("scid"),
                "quic_version": r.get("quic_version"), "alpn": r.get("alpn"), "tls_cipher": r.get("tls_cipher"),
                "stream_id": r["stream_id"], "connection_query": r.get("conn_query"), "id": r["id"],
                "name": r["name"], "type": r["type"], "rcode": r["rcode"], "answers": r["answers"],
                "authority": r["authority"], "edns": r.get("edns"), "query_bytes": r["query_bytes"],
                "response_bytes": r["response_bytes"], "client_fin": r.get("client_fin"),
            })
        elif "unparsed" not in r:
            conns.append(r)  # bad_query: kept where it shows
    qs.sort(key=lambda q: q["time"])
    return qs, conns


DNS_Q = re.compile(r"dnsmasq\[\d+\]: (\d+) ([0-9a-fA-F.:]+)/(\d+) query\[(\w+)\] (\S+) from")
DNS_A = re.compile(r"dnsmasq\[\d+\]: (\d+) ([0-9a-fA-F.:]+)/(\d+) (reply|config|cached|forwarded) (\S+) is (.*)$")


def dns_queries(path):
    qs, by = [], {}
    try:
        lines = open(path, errors="replace").read().splitlines()
    except FileNotFoundError:
        return qs
    for line in lines:
        m = DNS_Q.search(line)
        if m:
            q = {"id": int(m.group(1)), "client_addr": m.group(2), "client_port": int(m.group(3)),
                 "type": m.group(4), "name": m.group(5), "answers": [],
                 "in_zone": m.group(5).lower().rstrip(".").endswith("." + ZONE)}
            qs.append(q)
            by[(q["id"], q["type"])] = q
            by[q["id"]] = q
            continue
        m = DNS_A.search(line)
        if m and int(m.group(1)) in by:
            by[int(m.group(1))]["answers"].append(m.group(6).strip())
    return qs


def write_manifest(a, net, pki, site, client_info, T, versions, started, ended):
    reqs = nginx_requests(os.path.join(a.out, "nginx-access.jsonl"), site) if site else []
    h3, h3conns = h3_requests(os.path.join(a.out, "h3server.jsonl"))
    doq, doqconns = doq_queries(os.path.join(a.out, "doqserver.jsonl"))
    reqs = sorted(reqs + h3, key=lambda r: r["time"])
    zone = [{"name": WWW, "type": "A", "value": SRV4}, {"name": STATIC, "type": "A", "value": STA4}]
    if net["ipv6"]:
        zone += [{"name": WWW, "type": "AAAA", "value": SRV6}, {"name": STATIC, "type": "AAAA", "value": STA6}]
    relay = None
    rs = os.path.join(T, "relay-stats.json")
    if os.path.exists(rs):
        relay = json.load(open(rs))
        relay["drops"] = read_jsonl(os.path.join(a.out, "relay-drops.jsonl"))
    counts = {}
    for r in reqs:
        counts[r["protocol"]] = counts.get(r["protocol"], 0) + 1
    m = {
        "format": FORMAT,
        "scenario": a.scenario,
        "client": client_info,
        "options": {"runs": a.runs, "delay_ms": a.delay, "loss_pct": a.loss, "drop": a.drop, "seed": a.seed,
                    "ipv6": net["ipv6"], "quic_version": a.quic_version if a.client == "aioquic" else None,
                    "h2_keepalive_requests": a.h2_requests,
                    "https_rr": a.https_rr, "https_rr_ech": a.https_rr_ech,
                    "h3_page": a.h3_page if a.scenario == "h3" else None,
                    "gate_ms": a.gate_ms if a.scenario == "h3" and a.h3_page == "late" else None, "keepalive_timeout_s": a.keepalive},
        "started": started, "ended": ended,
        "addresses": {"client": {"ipv4": CLI4, "ipv6": CLI6 if net["ipv6"] else None, "mac": CLI_MAC},
                      WWW: {"ipv4": SRV4, "ipv6": SRV6 if net["ipv6"] else None, "mac": SRV_MAC},
                      STATIC: {"ipv4": STA4, "ipv6": STA6 if net["ipv6"] else None, "mac": SRV_MAC},
                      "dns": {"ipv4": DNS4, "port": 53},
                      "capture_interface": "eth0 in the client namespace",
                      "namespaces": {k: net[k] for k in ("client_ns", "server_ns", "relay_ns")}},
        "dns": {"server": "dnsmasq", "zone": zone, "queries": dns_queries(os.path.join(a.out, "dnsmasq.log"))},
        "servers": {"nginx": {"http": "80 on both hosts: 301 to https",
                              WWW: "443/tcp TLS 1.3 only, ALPN h2,http/1.1"
                                   + (", Alt-Svc h3" if a.scenario == "h3" else ""),
                              STATIC: "443/tcp TLS 1.2 only, HTTP/1.1 only" if a.scenario == "browser" else None}
                    if a.scenario != "doq" else None,
                    "aioquic": {WWW: "443/udp QUIC v1 and v2, ALPN h3"} if a.scenario == "h3" else None,
                    "doq": {WWW: "%d/udp QUIC v1 and v2, ALPN doq, zone %s (A, AAAA; NODATA/NXDOMAIN "
                                 "with the SOA)" % (DOQ_PORT, ZONE)} if a.scenario == "doq" else None},
        "ca": {k: pki[k] for k in ("ca_pem", "ca_sha256", "leaf_sha256", "leaf_spki_sha256_base64",
                                    "leaf_names", "key_type")},
        "site": site.list() if site else [],
        "requests": reqs,
        "request_counts": counts,
        "doq": {"queries": doq, "query_counts": {k: sum(1 for q in doq if q["rcode"] == k)
                                                 for k in sorted({q["rcode"] for q in doq})}}
        if a.scenario == "doq" else None,
        "quic_connections": h3conns + doqconns,
        "relay": relay,
        "versions": versions,
        "files": sorted(f for f in os.listdir(a.out) if f != "manifest.json") + ["manifest.json"],
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=1)
    return m


def tool_versions(a):
    def first(cmd):
        if not have(cmd[0]):
            return None
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return (r.stdout or "").strip().splitlines()[0] if r.stdout else None

    v = {"nginx": first(["nginx", "-v"]), "dnsmasq": first(["dnsmasq", "--version"]),
         "tcpdump": first(["tcpdump", "--version"]), "kernel": os.uname().release,
         "editcap": first(["editcap", "--version"]) if have("editcap") else None,
         "python": sys.version.split()[0]}
    if a.scenario in ("h3", "doq"):
        py = aioquic_python()
        v["aioquic"] = subprocess.run([py, "-c", "import aioquic; print(aioquic.__version__)"],
                                      stdout=subprocess.PIPE, text=True).stdout.strip()
    if a.client == "chromium":
        v["chromium"] = first([CHROMIUM, "--version"])
        try:
            v["playwright-core"] = json.load(open(os.path.join(LAB, "node_modules", "playwright-core",
                                                                "package.json")))["version"]
        except (OSError, ValueError):
            v["playwright-core"] = None
        v["node"] = first(["node", "--version"])
    return v


# ---------------------------------------------------------------------------
def record(lab, a):
    started = time.time()
    T = tempfile.mkdtemp(prefix="pagetrace-lab.")
    lab.tmp = T
    os.chmod(T, 0o755)
    os.makedirs(a.out, exist_ok=True)
    for f in ("capture.pcap", "capture.pcapng", "keys.log", "server-keys.log", "manifest.json", "devtools.json",
              "client.json", "ca.crt", "nginx-access.jsonl", "h3server.jsonl", "doqserver.jsonl", "dnsmasq.log",
              "relay-drops.jsonl", "nginx-error.log"):
        try:
            os.unlink(os.path.join(a.out, f))
        except FileNotFoundError:
            pass
    open(os.path.join(a.out, "keys.log"), "w").close()
    os.chmod(os.path.join(a.out, "keys.log"), 0o666)
    versions = tool_versions(a)

    log("namespaces and addresses")
    net = setup_net(lab, a, T)
    P = os.path.join(T, "pki")
    pki = make_pki(P)
    shutil.copy(P + "/ca.crt", os.path.join(a.out, "ca.crt"))
    site = build_site(a.scenario, os.path.join(T, "site"), a.h3_page, a.gate_ms) if a.scenario != "doq" else None

    # dnsmasq: the zone, in the server namespace
    dargs = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--no-poll", "--bind-interfaces", "--listen-address=" + DNS4, "--port=53", "--user=root",
             "--group=root", "--pid-file=", "--local=/%s/" % ZONE, "--local-ttl=300",
             # every other name: NXDOMAIN at once (Chromium looks up a few Google
             # names even with --disable-background-networking)
             "--address=/#/",
             "--log-queries=extra", "--log-facility=" + os.path.join(a.out, "dnsmasq.log")]
    for name, v4, v6 in ((WWW, SRV4, SRV6), (STATIC, STA4, STA6)):
        dargs.append("--host-record=%s,%s%s" % (name, v4, ("," + v6) if net["ipv6"] else ""))
        if a.https_rr:
            ech = ech_config_list(name) if a.https_rr_ech else None
            dargs.append("--dns-rr=%s,65,%s" % (name, https_rr_hex(a.https_rr, ech)))
    lab.start("dnsmasq", dargs, ns=net["server_ns"], stderr=os.path.join(T, "dnsmasq.err"))
    wait_for("dnsmasq", lambda: listening(net["server_ns"], 53, udp=True))

    # nginx (no HTTP in the doq scenario), and the slow application behind its /sleep/
    N = os.path.join(T, "nginx")
    if a.scenario != "doq":
        sout = os.path.join(T, "sleeper.out")
        p = lab.start("sleeper", [sys.executable, "-u", os.path.join(LAB, "sleeper.py"), "--listen", SRV4,
                                  "--port", str(SLEEPER_PORT)], ns=net["server_ns"], stdout=sout, stderr=sout)
        wait_for("sleeper.py", lambda: file_has(sout, "ready") or p.poll() is not None)
        if p.poll() is not None:
            die("sleeper.py failed:\n" + open(sout).read())
        os.makedirs(N + "/tmp")
        with open(N + "/nginx.conf", "w") as f:
            f.write(nginx_conf(a.scenario, site, N, P, net["ipv6"], a))
        r = run(["nginx", "-t", "-q", "-p", N, "-c", N + "/nginx.conf"], ns=net["server_ns"], check=False)
        if r.returncode != 0:
            die("nginx config test failed:\n" + r.stderr)
        lab.start("nginx", ["nginx", "-p", N, "-c", N + "/nginx.conf", "-g", "daemon off;"], ns=net["server_ns"],
                  stderr=os.path.join(T, "nginx.err"))
        wait_for("nginx", lambda: listening(net["server_ns"], 443))

    # aioquic HTTP/3 server
    if a.scenario == "h3":
        py = aioquic_python()
        h3out = os.path.join(T, "h3server.out")
        argv = [py, "-u", os.path.join(LAB, "h3server.py"), "--listen", SRV4, "--port", "443",
                "--cert", P + "/chain.crt", "--key", P + "/server.key", "--site", h3_site_json(site, T),
                "--log", os.path.join(a.out, "h3server.jsonl"),
                "--secrets-log", os.path.join(a.out, "server-keys.log")]
        if net["ipv6"]:
            argv += ["--listen", SRV6]
        p = lab.start("h3server", argv, ns=net["server_ns"], stdout=h3out, stderr=h3out)
        wait_for("the aioquic server", lambda: file_has(h3out, "ready") or p.poll() is not None)
        if p.poll() is not None:
            die("h3server.py failed:\n" + open(h3out).read())

    # aioquic DNS-over-QUIC server
    if a.scenario == "doq":
        start_doq_server(lab, a, net, T, P)

    # capture
    pcap = os.path.join(a.out, "capture.pcap")
    terr = os.path.join(T, "tcpdump.err")
    tcpdump = lab.start("tcpdump", ["tcpdump", "-i", "eth0", "-n", "-s", "0", "-B", "16384", "--immediate-mode",
                                    "-Z", "root", "-w", pcap], ns=net["client_ns"], stderr=terr)
    wait_for("tcpdump", lambda: file_has(terr, "listening on") or tcpdump.poll() is not None)
    if tcpdump.poll() is not None:
        die("tcpdump failed: " + open(terr).read())
    time.sleep(0.2)

    if a.scenario == "doq":
        client_info = run_doq_client(lab, a, net, T, P)
    elif a.client == "chromium":
        client_info = run_chromium(lab, a, net, pki, T, P)
    elif a.client in ("curl", "slowread"):
        client_info = run_simple_client(lab, a, net, T, P)
    else:
        client_info = run_aioquic_client(lab, a, net, T, P)

    # let the last packets (FIN, CONNECTION_CLOSE) pass, then stop the capture
    time.sleep(0.5 + 2 * a.delay / 1000.0)
    lab.stop(tcpdump, "tcpdump", signal.SIGTERM)
    tcpdump_summary = [l for l in open(terr, errors="replace").read().splitlines() if "packets" in l]
    # stop the servers so that their logs are complete
    for name, p in reversed(lab.procs):
        if name in ("h3server", "doqserver", "nginx", "dnsmasq", "relay"):
            lab.stop(p, name)
    if a.scenario != "doq":
        shutil.copy(os.path.join(N, "access.jsonl"), os.path.join(a.out, "nginx-access.jsonl"))
        if os.path.getsize(os.path.join(N, "error.log")):
            shutil.copy(os.path.join(N, "error.log"), os.path.join(a.out, "nginx-error.log"))

    # pcapng with the key log embedded
    if have("editcap") and os.path.getsize(os.path.join(a.out, "keys.log")) > 0:
        run(["editcap", "--inject-secrets", "tls," + os.path.join(a.out, "keys.log"), pcap,
             os.path.join(a.out, "capture.pcapng")])
    elif not have("editcap"):
        log("editcap not installed: no capture.pcapng (apt-get install wireshark-common)")
    m = write_manifest(a, net, pki, site, client_info, T, versions, started, time.time())
    m["capture"] = {"tcpdump": tcpdump_summary}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=1)
    for f in os.listdir(a.out):
        os.chmod(os.path.join(a.out, f), 0o644)
    if a.scenario == "doq":
        log("done: %s (%s; DNS over QUIC queries: %d)" % (a.out, "; ".join(tcpdump_summary),
                                                         len(m["doq"]["queries"])))
    else:
        log("done: %s (%s; requests by protocol: %s)" % (a.out, "; ".join(tcpdump_summary),
                                                         json.dumps(m["request_counts"], sort_keys=True)))


def https_rr_hex(alpn, ech=None):
    """HTTPS rdata (RFC 9460 2.2) in ServiceMode for the owner itself: priority 1, target
    '.', and the SvcParams in key order: alpn (key 1), a list of length-prefixed ids, and
    with `ech` (bytes of an ECHConfigList) the ech parameter (key 5)."""
    ids = b"".join(bytes([len(x)]) + x.encode() for x in alpn.split(","))
    rdata = struct.pack("!H", 1) + b"\x00" + struct.pack("!HH", 1, len(ids)) + ids
    if ech:
        rdata += struct.pack("!HH", 5, len(ech)) + ech
    return rdata.hex()


def ech_config_list(public_name):
    """An ECHConfigList (draft-ietf-tls-esni-22 4) with one ECHConfig, version 0xfe0d:
    config id 1, DHKEM(X25519, HKDF-SHA256) with a throw-away public key (32 random bytes:
    no server here holds its private key, so a client that uses it finds ECH not
    accepted and, with no retry configs, falls back to a plain ClientHello after checking
    the certificate against `public_name`), HKDF-SHA256 with AES-128-GCM, the public
    name, no extensions."""
    pk = os.urandom(32)
    name = public_name.encode()
    contents = (bytes([1]) + struct.pack("!H", 0x0020) + struct.pack("!H", len(pk)) + pk
                + struct.pack("!H", 4) + struct.pack("!HH", 0x0001, 0x0001)
                + bytes([0]) + bytes([len(name)]) + name + struct.pack("!H", 0))
    config = struct.pack("!HH", 0xfe0d, len(contents)) + contents
    return struct.pack("!H", len(config)) + config


def main():
    global QUIET
    ap = argparse.ArgumentParser(prog=PROG, description="Record a real page load in network namespaces.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Drop specs (--drop): see tests/lab/relay.py --help.  Must run as root.")
    ap.add_argument("--scenario", choices=["h3", "browser", "doq"], required=True)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--client", choices=["chromium", "aioquic", "curl", "slowread"], default=None,
                    help="who loads the page (default chromium; aioquic: h3 scenario only, no browser; "
                         "doq: always doq.py's aioquic client; curl and slowread: browser scenario, "
                         "--paths on https://www.lab.test/, one connection; slowread: Python's ssl over "
                         "HTTP/1.1 with a small receive buffer, reading --read-delay-ms apart)")
    ap.add_argument("--read-delay-ms", type=int, default=40, help="slowread: pause between 4 KiB reads")
    ap.add_argument("--runs", type=int, default=None,
                    help="Chromium: navigations to http://www.lab.test/ in one browser (default 1; "
                         "2 with --h3-page plain: see README); aioquic: client runs, one connection each "
                         "(default 1)")
    ap.add_argument("--delay", type=float, default=0, help="ms added to every round trip (relay.py, half each way)")
    ap.add_argument("--loss", type=float, default=0, help="percent of packets lost at random, both ways (relay.py)")
    ap.add_argument("--drop", action="append", default=[], metavar="SPEC",
                    help="drop chosen packets, e.g. 'c2s tcp syn dst port 443:1' (relay.py --help)")
    ap.add_argument("--seed", type=int, default=1, help="seed of --loss")
    ap.add_argument("--quic-version", choices=["1", "2"], default="1", help="aioquic client's QUIC version")
    ap.add_argument("--paths", help="aioquic client: comma-separated paths on www.lab.test")
    ap.add_argument("--queries", help="doq: NAME/TYPE queries, ',' at once on parallel streams, ';' "
                                      "between rounds (default: %s)" % DOQ_QUERIES)
    ap.add_argument("--ipv4-only", action="store_true", help="no IPv6 addresses, no AAAA records")
    ap.add_argument("--https-rr", metavar="ALPN", default=None,
                    help="answer HTTPS queries for the lab's hosts with '1 . alpn=ALPN' (e.g. h3,h2; RFC 9460)")
    ap.add_argument("--https-rr-ech", action="store_true",
                    help="with --https-rr: add an ech parameter, an ECHConfigList whose public name is "
                         "the host itself and whose key no server holds (the client tries ECH, then "
                         "falls back)")
    ap.add_argument("--pause-ms", type=int, default=None, help="pause between navigations/runs")
    ap.add_argument("--h2-requests", type=int, default=None,
                    help="nginx keepalive_requests on www:443 (default 1000)")
    ap.add_argument("--keepalive", type=int, default=30, help="nginx keepalive_timeout, seconds")
    ap.add_argument("--h3-levers", default="allow-root", help="Chromium h3 levers, comma-separated: allow-root (default), spki, force, none")
    ap.add_argument("--h3-page", choices=["late", "plain"], default="late",
                    help="h3 page: late (default: stylesheet in <head>, everything else requested by a "
                         "script --gate-ms after load, so one navigation has h2 then h3) or plain (all in "
                         "the HTML: Chromium keeps them on the h2 connection; h3 from the 2nd navigation)")
    ap.add_argument("--gate-ms", type=int, default=None, help="late page: wait after load (default 500 + 4*delay)")
    ap.add_argument("--chromium-arg", action="append", default=[], help="extra Chromium switch (repeatable)")
    ap.add_argument("--max-seconds", type=int, default=240, help="give up after this long")
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    QUIET = a.quiet
    if a.scenario == "doq":
        if a.client == "chromium":
            ap.error("--scenario doq has its own client (doq.py)")
        a.client = "aioquic"
    elif a.client is None:
        a.client = "chromium"
    if a.client == "aioquic" and a.scenario not in ("h3", "doq"):
        ap.error("--client aioquic needs --scenario h3")
    if a.client in ("curl", "slowread") and a.scenario != "browser":
        ap.error("--client %s needs --scenario browser" % a.client)
    if a.queries and a.scenario != "doq":
        ap.error("--queries needs --scenario doq")
    if a.gate_ms is None:
        a.gate_ms = int(500 + 4 * a.delay)
    if a.runs is None:
        a.runs = 2 if (a.scenario == "h3" and a.client == "chromium" and a.h3_page == "plain") else 1
    if not 1 <= a.runs <= 20:
        ap.error("--runs must be 1..20")
    if a.pause_ms is None:
        a.pause_ms = 0
    if a.h2_requests is None:
        a.h2_requests = 1000
    if not 0 <= a.delay <= 5000 or not 0 <= a.loss < 50:
        ap.error("--delay must be 0..5000 ms and --loss 0..50 %")
    a.h3_levers = [x for x in a.h3_levers.split(",") if x and x != "none"]
    a.out = os.path.abspath(a.out)
    if os.geteuid() != 0:
        sys.exit("%s: must run as root (network namespaces, packet capture)" % PROG)
    need = ["ip", "dnsmasq", "tcpdump", "openssl", "ethtool", "ss"] + (["nginx"] if a.scenario != "doq" else [])
    if a.client == "chromium":
        need += ["node", "certutil", CHROMIUM]
    if a.scenario == "browser":
        need += ["brotli"]
    missing = [t for t in need if not have(t)]
    if a.client == "chromium" and not os.path.isdir(os.path.join(LAB, "node_modules", "playwright-core")):
        missing.append("playwright-core (npm ci in tests/lab)")
    if missing:
        sys.exit("%s: missing: %s\n  run tests/lab/setup.sh" % (PROG, ", ".join(missing)))
    if a.drop:
        r = subprocess.run([sys.executable, os.path.join(LAB, "relay.py"), "--client-if", "x", "--server-if", "y",
                            "--check"] + sum((["--drop", d] for d in a.drop), []), stderr=subprocess.PIPE, text=True,
                           stdout=subprocess.DEVNULL)
        if r.returncode:
            sys.exit(r.stderr.strip())

    lab = Lab(keep_tmp=a.keep_tmp)

    def on_signal(signum, frame):
        raise Interrupted(signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    def on_alarm(signum, frame):
        raise Die("--max-seconds (%d) exceeded" % a.max_seconds)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(a.max_seconds)
    rc = 0
    try:
        record(lab, a)
    except Interrupted as e:
        print("%s: interrupted (signal %d); cleaning up" % (PROG, e.signum), file=sys.stderr)
        rc = 128 + e.signum
    except Die as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        rc = 1
    finally:
        signal.alarm(0)
        lab.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
