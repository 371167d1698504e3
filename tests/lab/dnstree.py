#!/usr/bin/env python3
"""dnstree.py - record REAL recursive DNS resolution through a private,
DNSSEC-signed DNS tree (root, TLDs, authoritatives) in network namespaces,
for pagetrace's "resolution chain" tests.

    tests/lab/dnstree.py --out DIR [-q] [--keep-tmp] [--max-seconds S]

A client asks a validating recursive resolver (Unbound) eight questions
(dig over UDP, kdig over DNS-over-TLS), then fetches http://page.lab.test/
with curl (glibc getaddrinfo: A and AAAA to the resolver, then HTTP/1.1 to a
tiny stdlib web server on 10.53.2.80 in the resolver's namespace); the
resolver walks the tree from the root down to four BIND9 authoritative
servers.  Two captures: the client's interface (client <-> resolver, and the
HTTP connection) and every interface of the resolver (client side and
upstream side).

Layout (every name carries this process's id; all removed on exit, error,
Ctrl-C or TERM):

  netns dt<pid>c           netns dt<pid>r                       netns dt<pid>a
  10.53.1.2 eth0 --veth-- eth0 10.53.1.53   10.53.0.53 eth1 --veth-- eth0 10.53.0.1 root  .
  dig, kdig, curl          Unbound :53, :853 (DoT)                   10.53.0.2 test. alt.
  tcpdump -i eth0          10.53.2.80/32 eth0: HTTP :80              10.53.0.3 lab.test. hoster.alt.
  10.53.2.0/24 via .1.53   tcpdump -i any                            10.53.0.4 other.test.
                                                                     (one named per address)

The client's /etc/netns/dt<pid>c/ (resolv.conf: nameserver 10.53.1.53;
nsswitch.conf: hosts: files dns) is removed on exit too.

Writes into DIR: client.pcap, resolver.pcap, keys.log (kdig's TLS key log),
unbound.log, named-<addr>.log (BIND query logs), http.log (the web server's
access log), zones/ (the zone files as written, before signing),
trust-anchor.ds, manifest.json.  See README.md.  Stdlib only; must run as root.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PROG = "dnstree.py"
FORMAT = "pagetrace-lab-dnstree/1"

CLIENT = "10.53.1.2"
RES_CLIENT_SIDE = "10.53.1.53"
RES_UPSTREAM_SIDE = "10.53.0.53"
ROOT, TLD, AUTH1, AUTH2 = "10.53.0.1", "10.53.0.2", "10.53.0.3", "10.53.0.4"
# the last step: curl fetches this page; its name is asked by nothing before
PAGE_NAME, PAGE_ADDR = "page.lab.test", "10.53.2.80"
PAGE_NET = "10.53.2.0/24"   # the client routes it via the resolver's client side
FETCH_URL = "http://%s/" % PAGE_NAME
CURL = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", FETCH_URL]
ALGO = "ECDSAP256SHA256"

# server address -> (role, [zones it serves])
SERVERS = {
    ROOT: ("root", ["."]),
    TLD: ("tld", ["test.", "alt."]),
    AUTH1: ("authoritative", ["lab.test.", "hoster.alt."]),
    AUTH2: ("authoritative", ["other.test."]),
}

# zone -> (signed?, parent zone or None, zone text).  Children come before
# their parents: each signed child's DS is put into its parent before the
# parent is signed.
SOA = "@ IN SOA %s hostmaster.%s 1 3600 600 86400 300\n"
ZONES = [
    ("lab.test.", True, "test.", "$TTL 300\n$ORIGIN lab.test.\n" + (SOA % ("ns1.lab.test.", "lab.test.")) + """\
@     IN NS    ns1.lab.test.
ns1   IN A     10.53.0.3
www   IN A     10.53.2.80
www   IN AAAA  fd53::80
web   IN CNAME www.other.test.
h3    IN HTTPS 1 . alpn="h3,h2" port=443 ipv4hint=10.53.2.81
h3    IN A     10.53.2.81
mail  IN A     10.53.2.25
txt   IN TXT   "x"
page  IN A     10.53.2.80
"""),
    ("other.test.", False, "test.", "$TTL 300\n$ORIGIN other.test.\n" + (SOA % ("ns.hoster.alt.", "other.test.")) + """\
@     IN NS    ns.hoster.alt.
www   IN A     10.53.2.90
"""),
    ("hoster.alt.", False, "alt.", "$TTL 300\n$ORIGIN hoster.alt.\n" + (SOA % ("ns1.hoster.alt.", "hoster.alt.")) + """\
@     IN NS    ns1.hoster.alt.
ns1   IN A     10.53.0.3
ns    IN A     10.53.0.4
"""),
    ("test.", True, ".", "$TTL 3600\n$ORIGIN test.\n" + (SOA % ("ns.nic.test.", "nic.test.")) + """\
@          IN NS  ns.nic.test.
ns.nic     IN A   10.53.0.2
a.root     IN A   10.53.0.1
; lab.test: signed, glue, DS below
lab        IN NS  ns1.lab.test.
ns1.lab    IN A   10.53.0.3
; other.test: insecure (no DS), its name server is out of the zone (no glue)
other      IN NS  ns.hoster.alt.
"""),
    ("alt.", True, ".", "$TTL 3600\n$ORIGIN alt.\n" + (SOA % ("ns.nic.alt.", "nic.alt.")) + """\
@          IN NS  ns.nic.alt.
ns.nic     IN A   10.53.0.2
; hoster.alt: insecure (no DS), glue
hoster     IN NS  ns1.hoster.alt.
ns1.hoster IN A   10.53.0.3
"""),
    (".", True, None, "$TTL 3600\n$ORIGIN .\n" + (SOA % ("a.root.test.", "root.test.")) + """\
@             IN NS  a.root.test.
test.         IN NS  ns.nic.test.
alt.          IN NS  ns.nic.alt.
; glue (below the test./alt. cuts)
a.root.test.  IN A   10.53.0.1
ns.nic.test.  IN A   10.53.0.2
ns.nic.alt.   IN A   10.53.0.2
"""),
]


def zone_file_name(zone):
    return "root.zone" if zone == "." else zone.rstrip(".") + ".zone"


def server_of(zone):
    for addr, (_, zones) in SERVERS.items():
        if zone in zones:
            return addr
    raise KeyError(zone)


# The client's questions, in order.  transport: udp (dig) or dot (kdig +tls).
DIG = ["dig", "+time=3", "+tries=1", "@" + RES_CLIENT_SIDE]
KDIG_TLS = ["kdig", "+tls", "+timeout=3", "+retry=0", "@" + RES_CLIENT_SIDE]
LOOKUPS = [
    # (what, argv-prefix, extra options, qname, qtype, transport, expect)
    ("cold cache: full walk from the root, validated", DIG, ["+dnssec"], "www.lab.test", "A", "udp",
     {"rcode": "NOERROR", "ad": True, "answer": "10.53.2.80"}),
    ("cache hit: nothing sent upstream", DIG, ["+dnssec"], "www.lab.test", "A", "udp",
     {"rcode": "NOERROR", "ad": True, "answer": "10.53.2.80", "upstream": 0}),
    ("CNAME into other.test (insecure; its NS ns.hoster.alt has no glue)", DIG, ["+dnssec"], "web.lab.test", "A",
     "udp", {"rcode": "NOERROR", "ad": False, "answer": "10.53.2.90"}),
    ("NXDOMAIN, validated", DIG, ["+dnssec"], "nx.lab.test", "AAAA", "udp", {"rcode": "NXDOMAIN", "ad": True}),
    ("NODATA, validated", DIG, ["+dnssec"], "www.lab.test", "MX", "udp",
     {"rcode": "NOERROR", "ad": True, "answers": 0}),
    ("HTTPS record", DIG, ["+dnssec"], "h3.lab.test", "HTTPS", "udp", {"rcode": "NOERROR", "ad": True,
                                                                     "answer": "alpn="}),
    ("DNS over TLS", KDIG_TLS, ["+dnssec"], "mail.lab.test", "A", "dot",
     {"rcode": "NOERROR", "ad": True, "answer": "10.53.2.25"}),
    ("DNS over TLS, cache hit", KDIG_TLS, [], "mail.lab.test", "A", "dot",
     {"rcode": "NOERROR", "answer": "10.53.2.25", "upstream": 0}),
]
GAP = 0.4  # seconds between one lookup's end and the next one's start

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
                                              ((r.stderr or "") + (r.stdout or "")).strip()))
    return r


def have(cmd):
    return shutil.which(cmd) is not None


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def file_has(path, text):
    return text in read(path)


def wait_for(what, fn, secs=10.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.05)
    die("timed out waiting for %s" % what)


# ---------------------------------------------------------------------------
# Everything the lab creates, undone in reverse order on every exit path
# (the same pattern as record.py)
# ---------------------------------------------------------------------------
class Lab:
    def __init__(self, keep_tmp=False):
        self.procs = []      # (name, Popen)
        self.netns = []
        self.links = []
        self.etc_netns = []  # /etc/netns/<ns> directories we created
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
        for d in reversed(self.etc_netns):  # "ip netns del" leaves /etc/netns/<ns> alone
            if d == "/etc/netns":
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            else:
                shutil.rmtree(d, ignore_errors=True)
        if self.tmp and os.path.isdir(self.tmp):
            if self.keep_tmp:
                log("temp dir kept: %s" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Network: client -- resolver -- authoritatives, two veth pairs
# ---------------------------------------------------------------------------
def setup_net(lab):
    pid = os.getpid()
    net = {"client": "dt%dc" % pid, "resolver": "dt%dr" % pid, "auth": "dt%da" % pid}
    for ns in (net["client"], net["resolver"], net["auth"]):
        run(["ip", "netns", "add", ns])
        lab.netns.append(ns)
        # IPv4 only: no link-local addresses, router solicitations or MLD in the captures
        run(["sh", "-c", "for k in all default; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done"],
            ns=ns, check=False)
    pairs = [("dt%dc0" % pid, net["client"], "eth0", "dt%dr0" % pid, net["resolver"], "eth0"),
             ("dt%dr1" % pid, net["resolver"], "eth1", "dt%da0" % pid, net["auth"], "eth0")]
    for a_if, a_ns, a_name, b_if, b_ns, b_name in pairs:
        run(["ip", "link", "add", a_if, "type", "veth", "peer", "name", b_if])
        lab.links.append(a_if)
        for i, ns, name in ((a_if, a_ns, a_name), (b_if, b_ns, b_name)):
            run(["ip", "link", "set", i, "netns", ns])
            run(["ip", "-n", ns, "link", "set", i, "name", name])
    addrs = [(net["client"], "eth0", [CLIENT]),
             (net["resolver"], "eth0", [RES_CLIENT_SIDE]),
             (net["resolver"], "eth1", [RES_UPSTREAM_SIDE]),
             (net["auth"], "eth0", [ROOT, TLD, AUTH1, AUTH2])]
    for ns, dev, ips in addrs:
        run(["sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6" % dev], ns=ns, check=False)
        for ip in ips:
            run(["ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev])
        # a real wire: no >MTU super-packets, checksums computed (so they verify)
        run(["ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1"], check=False)
        run(["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"], ns=ns, check=False)
        run(["ip", "-n", ns, "link", "set", dev, "up"])
    for ns in (net["client"], net["resolver"], net["auth"]):
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    # the web server's address: local to the resolver's namespace (on its
    # client-facing eth0; nothing is forwarded), reached by the client via
    # the resolver's client side
    run(["ip", "-n", net["resolver"], "addr", "add", PAGE_ADDR + "/32", "dev", "eth0"])
    run(["ip", "-n", net["client"], "route", "add", PAGE_NET, "via", RES_CLIENT_SIDE])
    return net


def client_etc(lab, ns):
    """/etc/netns/<ns>/: "ip netns exec" bind-mounts each file over /etc/<file>,
    so glibc in the client's namespace asks the lab's resolver (and only DNS:
    no nss-resolve or mdns from the host's nsswitch.conf)."""
    if not os.path.isdir("/etc/netns"):
        os.mkdir("/etc/netns")
        lab.etc_netns.append("/etc/netns")   # removed last, if empty
    d = os.path.join("/etc/netns", ns)
    lab.etc_netns.append(d)
    os.makedirs(d, exist_ok=True)            # named after our new namespace: ours
    with open(os.path.join(d, "resolv.conf"), "w") as f:
        f.write("nameserver %s\n" % RES_CLIENT_SIDE)
    with open(os.path.join(d, "nsswitch.conf"), "w") as f:
        f.write("passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n")
    return d


# ---------------------------------------------------------------------------
# Zones: write, sign children first, DS into the parent, sign the parent
# ---------------------------------------------------------------------------
def key_info(path):
    """Kzone.+013+12345.key -> (tag, the DNSKEY line)"""
    tag = int(re.search(r"\+(\d+)\.key$", path).group(1))
    line = [l for l in read(path).splitlines() if l and not l.startswith(";")][0]
    return tag, line


def make_zones(T, out):
    Z, K, S = os.path.join(T, "zones"), os.path.join(T, "keys"), os.path.join(T, "signed")
    for d in (Z, K, S):
        os.makedirs(d)
    os.makedirs(os.path.join(out, "zones"), exist_ok=True)
    ds_of = {}     # child zone -> [DS lines]
    info = {}
    for zone, signed, parent, text in ZONES:
        # the DS of every signed child of this zone
        for child, lines in sorted(ds_of.items()):
            if [z for z in ZONES if z[0] == child][0][2] == zone:
                text += "; DS of %s (dnssec-dsfromkey -2)\n" % child + "".join(l + "\n" for l in lines)
        fname = zone_file_name(zone)
        path = os.path.join(Z, fname)
        with open(path, "w") as f:
            f.write(text)
        shutil.copy(path, os.path.join(out, "zones", fname))
        server = server_of(zone)
        d = {"server": server, "file": "zones/" + fname, "signed": signed, "parent": parent}
        if signed:
            ksk = run(["dnssec-keygen", "-q", "-K", K, "-a", ALGO, "-f", "KSK", "-n", "ZONE", zone]).stdout.strip()
            zsk = run(["dnssec-keygen", "-q", "-K", K, "-a", ALGO, "-n", "ZONE", zone]).stdout.strip()
            kpath = os.path.join(K, ksk + ".key")
            ds = [l.strip() for l in run(["dnssec-dsfromkey", "-2", kpath]).stdout.splitlines() if l.strip()]
            ds_of[zone] = ds
            # -S: smart signing (the zone's keys from -K, DNSKEYs added); NSEC; the
            # KSK signs the DNSKEY set, the ZSK everything else; validity: now-1h .. +30 days
            run(["dnssec-signzone", "-q", "-S", "-K", K, "-d", S, "-o", zone, "-f",
                 os.path.join(S, fname + ".signed"), path])
            d.update(algorithm=ALGO, ksk_tag=key_info(kpath)[0],
                     zsk_tag=key_info(os.path.join(K, zsk + ".key"))[0], ds=ds,
                     ksk_dnskey=key_info(kpath)[1])
            if zone == ".":
                with open(os.path.join(T, "trust-anchor.ds"), "w") as f:
                    f.write("".join(l + "\n" for l in ds))
                shutil.copy(os.path.join(T, "trust-anchor.ds"), os.path.join(out, "trust-anchor.ds"))
        else:
            shutil.copy(path, os.path.join(S, fname + ".signed"))
        info[zone] = d
    return S, info


# ---------------------------------------------------------------------------
# BIND9: one named per address
# ---------------------------------------------------------------------------
def named_conf(D, addr, zones, S):
    zs = "".join('zone "%s" { type primary; file "%s"; };\n'
                 % (z, os.path.join(S, zone_file_name(z) + ".signed")) for z in zones)
    return """\
options {
    directory "%(D)s";
    pid-file "%(D)s/named.pid";
    session-keyfile none;
    listen-on port 53 { %(addr)s; };
    listen-on-v6 { none; };
    automatic-interface-scan no;
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer { none; };
    querylog yes;
};
controls { };
logging {
    channel queries_file { file "%(D)s/queries.log"; print-time iso8601-utc; severity info; };
    channel main_file { file "%(D)s/named.log"; print-time iso8601-utc; severity info; };
    category queries { queries_file; };
    category lame-servers { null; };
    category default { main_file; };
};
%(zs)s""" % {"D": D, "addr": addr, "zs": zs}


def start_named(lab, net, T, S):
    dirs = {}
    for addr, (_, zones) in SERVERS.items():
        D = os.path.join(T, "named-" + addr)
        os.makedirs(D)
        conf = os.path.join(D, "named.conf")
        with open(conf, "w") as f:
            f.write(named_conf(D, addr, zones, S))
        r = run(["named-checkconf", "-z", conf], check=False)
        if r.returncode != 0:
            die("named-checkconf failed for %s:\n%s" % (addr, (r.stdout + r.stderr).strip()))
        lab.start("named-" + addr, ["named", "-4", "-f", "-c", conf], ns=net["auth"],
                  stdout=os.path.join(D, "named.out"), stderr=os.path.join(D, "named.out"))
        dirs[addr] = D
    return dirs


# ---------------------------------------------------------------------------
# Unbound in the resolver's namespace
# ---------------------------------------------------------------------------
def start_unbound(lab, net, T):
    U = os.path.join(T, "unbound")
    os.makedirs(U)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
         "-keyout", U + "/resolver.key", "-out", U + "/resolver.pem", "-subj", "/CN=resolver.test",
         "-addext", "subjectAltName=DNS:resolver.test,IP:" + RES_CLIENT_SIDE])
    with open(U + "/root.hints", "w") as f:
        f.write(".                3600  IN NS a.root.test.\na.root.test.     3600  IN A  %s\n" % ROOT)
    conf = U + "/unbound.conf"
    with open(conf, "w") as f:
        f.write("""\
server:
    username: ""
    chroot: ""
    directory: "%(U)s"
    pidfile: "%(U)s/unbound.pid"
    logfile: "%(U)s/unbound.log"
    use-syslog: no
    verbosity: 1
    log-queries: yes
    log-replies: yes
    val-log-level: 2
    num-threads: 1
    interface: %(res)s
    interface: %(res)s@853
    tls-port: 853
    tls-service-key: "%(U)s/resolver.key"
    tls-service-pem: "%(U)s/resolver.pem"
    outgoing-interface: %(up)s
    access-control: 10.53.0.0/16 allow
    do-ip4: yes
    do-ip6: no
    root-hints: "%(U)s/root.hints"
    trust-anchor-file: "%(T)s/trust-anchor.ds"
    module-config: "validator iterator"
    qname-minimisation: yes
    prefetch: no
    use-caps-for-id: no
    # Unbound answers the special-use names (RFC 6761) test. (and, in newer
    # versions, alt.: RFC 9476) itself, NXDOMAIN: here they are real zones
    local-zone: "test." nodefault
    local-zone: "alt." nodefault
""" % {"U": U, "T": T, "res": RES_CLIENT_SIDE, "up": RES_UPSTREAM_SIDE})
    r = run(["unbound-checkconf", conf], check=False)
    if r.returncode != 0:
        die("unbound-checkconf failed:\n" + (r.stdout + r.stderr).strip())
    lab.start("unbound", ["unbound", "-d", "-c", conf], ns=net["resolver"],
              stdout=U + "/unbound.out", stderr=U + "/unbound.out")
    return U


# ---------------------------------------------------------------------------
# The web server for the fetch: stdlib http.server, in the resolver's namespace
# ---------------------------------------------------------------------------
# argv: address port file.  HTTP/1.1 with Content-Length (curl closes the
# connection when it exits); GET / only.  server_bind is TCPServer's:
# HTTPServer's calls socket.getfqdn(), a reverse lookup through the host's
# resolv.conf from inside the namespace.
HTTP_SERVER = r"""
import http.server, socketserver, sys
addr, port, body = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        ok = self.path == "/"
        data = body if ok else b"not found\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8" if ok else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)
class S(http.server.HTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = addr, port
S((addr, port), H).serve_forever()
"""
PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>page.lab.test</title>
</head>
<body>
<h1>page.lab.test</h1>
<p>Served from 10.53.2.80 inside the resolver's namespace by dnstree.py.
Its name was resolved by glibc's getaddrinfo (A and AAAA) through a
validating Unbound walking a private DNSSEC-signed tree.</p>
</body>
</html>
"""


def start_http(lab, net, T):
    W = os.path.join(T, "http")
    os.makedirs(W)
    with open(W + "/index.html", "w") as f:
        f.write(PAGE_HTML)
    p = lab.start("http", [sys.executable, "-c", HTTP_SERVER, PAGE_ADDR, "80", W + "/index.html"],
                  ns=net["resolver"], stdout=W + "/http.log", stderr=W + "/http.log")

    def up():
        if p.poll() is not None:
            die("the web server exited (%d):\n%s" % (p.returncode, read(W + "/http.log")))
        return run(["ss", "-Hltn", "src %s and sport = :80" % PAGE_ADDR], ns=net["resolver"],
                   check=False).stdout.strip() != ""

    wait_for("the web server on %s:80" % PAGE_ADDR, up)
    return W


def dig_ok(ns, argv):
    r = run(["dig", "+time=1", "+tries=1", "+norec", "-b", "127.0.0.1"] + argv, ns=ns, check=False)
    return r.returncode == 0 and "status: " in r.stdout


# ---------------------------------------------------------------------------
# dig / kdig output
# ---------------------------------------------------------------------------
def parse_answer(out):
    r = {"rcode": None, "id": None, "flags": [], "answer": [], "authority": [], "tls": None}
    m = re.search(r"status: ([A-Z]+)[,;] id: (\d+)", out)
    if m:
        r["rcode"], r["id"] = m.group(1), int(m.group(2))
    m = re.search(r"^;; [Ff]lags: ([a-z ]*);", out, re.M)
    if m:
        r["flags"] = m.group(1).split()
    m = re.search(r"^;; TLS session (\(.*\))\s*$", out, re.M)
    if m:
        r["tls"] = m.group(1)
    section = None
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            section = "answer"
        elif line.startswith(";; AUTHORITY SECTION"):
            section = "authority"
        elif not line.strip() or line.startswith(";"):
            section = None
        elif section:
            r[section].append(re.sub(r"\s+", " ", line.strip()))
    return r


def run_lookups(net, out):
    keys = os.path.join(out, "keys.log")
    env = dict(os.environ, SSLKEYLOGFILE=keys)
    res = []
    for i, (what, pre, opts, qname, qtype, transport, expect) in enumerate(LOOKUPS, 1):
        if i > 1:
            time.sleep(GAP)
        argv = pre + opts + [qname, qtype]
        sent = time.time()
        r = run(argv, ns=net["client"], check=False, env=env if transport == "dot" else None)
        ended = time.time()
        a = parse_answer(r.stdout)
        if r.returncode != 0 or a["rcode"] is None:
            die("lookup %d (%s) failed (exit %d):\n%s%s" % (i, " ".join(argv), r.returncode, r.stdout, r.stderr))
        cmd = ("SSLKEYLOGFILE=%s " % keys if transport == "dot" else "") + " ".join(argv)
        res.append({"index": i, "what": what, "command": cmd, "qname": qname, "qtype": qtype,
                    "transport": transport, "server": RES_CLIENT_SIDE, "port": 853 if transport == "dot" else 53,
                    "time": sent, "ended": ended, "id": a["id"], "rcode": a["rcode"], "flags": a["flags"],
                    "ad": "ad" in a["flags"], "answer": a["answer"], "authority": a["authority"],
                    "tls": a["tls"], "expect": expect})
        log("lookup %d: %s %s %s -> %s [%s] %s" % (i, transport, qname, qtype, a["rcode"], " ".join(a["flags"]),
                                                 "; ".join(l.split(" ", 4)[-1] for l in a["answer"]
                                                           if " RRSIG " not in l)))
    return res


def run_fetch(lab, net):
    """The last step: curl http://page.lab.test/ in the client's namespace.
    glibc's getaddrinfo reads the client's own resolv.conf (10.53.1.53)."""
    client_etc(lab, net["client"])
    # no proxy from the caller's environment: the request goes to the page
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    sent = time.time()
    try:
        r = run(CURL, ns=net["client"], check=False, env=env, timeout=15)
    except subprocess.TimeoutExpired:
        die("the fetch (%s) took more than 15 s" % shlex.join(CURL))
    ended = time.time()
    status = int(r.stdout) if r.stdout.strip().isdigit() else None
    if r.returncode != 0 or status is None:
        die("the fetch (%s) failed (exit %d, status %r):\n%s" % (shlex.join(CURL), r.returncode, r.stdout,
                                                                   r.stderr))
    log("fetch: %s -> %d" % (FETCH_URL, status))
    return {"url": FETCH_URL, "status": status, "time": sent, "address": PAGE_ADDR,
            "command": shlex.join(CURL), "ended": ended}


# ---------------------------------------------------------------------------
# BIND's query log
# ---------------------------------------------------------------------------
QUERY_RE = re.compile(r"^(\S+) client @0x[0-9a-f]+ ([0-9.]+)#(\d+) \(([^)]*)\): (?:view \S+: )?query: "
                      r"(\S+) (\S+) (\S+) (\S+) \(([^)]*)\)")


def parse_querylog(path, server):
    qs = []
    for line in read(path).splitlines():
        m = QUERY_RE.match(line)
        if not m:
            continue
        ts, caddr, cport, _, qname, qclass, qtype, flags, dst = m.groups()
        t = datetime.datetime.strptime(ts.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        e = re.search(r"E\((\d+)\)", flags)
        qs.append({"server": server, "time": round(t, 3), "client": "%s:%s" % (caddr, cport), "qname": qname,
                   "qclass": qclass, "qtype": qtype, "flags": flags, "rd": flags.startswith("+"),
                   "edns": int(e.group(1)) if e else None, "tcp": "T" in flags,
                   "do": "D" in flags, "cd": "C" in flags, "dst": dst})
    return qs


# ---------------------------------------------------------------------------
# The captures: DNS over UDP, for the wire time of each logged query; TCP to
# the web server, for the fetch
# ---------------------------------------------------------------------------
def pcap_ipv4(path):
    """[(time, IPv4 packet bytes)] of a classic pcap (Ethernet, LINUX_SLL,
    LINUX_SLL2)."""
    out = []
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return out
    if len(data) < 24:
        return out
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
        magic = struct.unpack(">I", data[:4])[0]
    frac = 1e-9 if magic == 0xa1b23c4d else 1e-6
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(data):
        sec, sub, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            proto, ip = struct.unpack("!H", pkt[12:14])[0], pkt[14:]
        elif linktype == 113:
            proto, ip = struct.unpack("!H", pkt[14:16])[0], pkt[16:]
        elif linktype == 276:
            proto, ip = struct.unpack("!H", pkt[0:2])[0], pkt[20:]
        else:
            return out
        if proto == 0x0800 and len(ip) >= 20:
            out.append((sec + sub * frac, ip))
    return out


RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def pcap_dns(path, with_rcode=False):
    """[(time, src, sport, dst, dport, id, is_response, qname, qtype)] of every
    DNS-over-UDP message in a classic pcap (Ethernet, LINUX_SLL, LINUX_SLL2);
    with_rcode: a tenth item, the header's RCODE ("NOERROR", ...)."""
    out = []
    for t, ip in pcap_ipv4(path):
        if ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        sport, dport = struct.unpack("!HH", udp[:4])
        dns = udp[8:]
        if 53 not in (sport, dport) or len(dns) < 12 or struct.unpack("!H", dns[4:6])[0] < 1:
            continue
        labels, i = [], 12
        while i < len(dns) and dns[i] and len(labels) < 128:
            labels.append(dns[i + 1:i + 1 + dns[i]].decode("ascii", "replace"))
            i += 1 + dns[i]
        if i + 5 > len(dns):
            continue
        m = (t, socket_ntoa(ip[12:16]), sport, socket_ntoa(ip[16:20]), dport,
             struct.unpack("!H", dns[:2])[0], bool(dns[2] & 0x80), ".".join(labels) or ".",
             struct.unpack("!H", dns[i + 1:i + 3])[0])
        if with_rcode:
            m += (RCODES.get(dns[3] & 15, str(dns[3] & 15)),)
        out.append(m)
    return out


def pcap_tcp(path, port):
    """[(time, src, sport, dst, dport, flags, payload)] of every TCP segment
    to or from `port`."""
    out = []
    for t, ip in pcap_ipv4(path):
        if ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack("!HH", tcp[:4])
        if port not in (sport, dport):
            continue
        out.append((t, socket_ntoa(ip[12:16]), sport, socket_ntoa(ip[16:20]), dport, tcp[13],
                    tcp[(tcp[12] >> 4) * 4:]))
    return out


def socket_ntoa(b):
    return ".".join(str(x) for x in b)


QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
          "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "SVCB": 64, "HTTPS": 65, "ANY": 255}


def qtype_num(t):
    m = re.match(r"TYPE(\d+)$", t)
    return int(m.group(1)) if m else QTYPES.get(t)


def add_wire_times(server_queries, lookups, rpcap, cpcap):
    """Each logged upstream query gets the capture time, DNS ID of its packet
    (the resolver's capture: client port, server, name and type match) and the
    time of its response; each UDP lookup those of the client's capture."""
    msgs = pcap_dns(rpcap)
    used = set()
    for q in server_queries:
        ip, port = q["client"].rsplit(":", 1)
        q.update(wire_time=None, id=None, response_time=None)
        for n, (t, src, sp, dst, dp, mid, resp, name, qt) in enumerate(msgs):
            if n in used or resp or src != ip or sp != int(port) or dst != q["server"] or dp != 53:
                continue
            if name.lower() != q["qname"].lower() or qt != qtype_num(q["qtype"]):
                continue
            used.add(n)
            q.update(wire_time=round(t, 6), id=mid)
            for t2, src2, sp2, dst2, dp2, mid2, resp2, _, _ in msgs[n + 1:]:
                if resp2 and mid2 == mid and src2 == q["server"] and dst2 == ip and dp2 == int(port):
                    q["response_time"] = round(t2, 6)
                    break
            break
    msgs = pcap_dns(cpcap)
    for l in lookups:
        l.update(wire_time=None, client_port=None, response_time=None)
        if l["transport"] != "udp":
            continue
        for n, (t, src, sp, dst, dp, mid, resp, name, qt) in enumerate(msgs):
            if not resp and src == CLIENT and dst == RES_CLIENT_SIDE and mid == l["id"] and \
                    name.lower() == l["qname"].lower() and t >= l["time"] - 0.01:
                l.update(wire_time=round(t, 6), client_port=sp)
                for t2, src2, sp2, dst2, dp2, mid2, resp2, _, _ in msgs[n + 1:]:
                    if resp2 and mid2 == mid and dp2 == sp and src2 == RES_CLIENT_SIDE:
                        l["response_time"] = round(t2, 6)
                        break
                break


def http_exchange(segs, client_port=None, after=0.0):
    """The fetch's connection in one capture's segments (pcap_tcp(.., 80)):
    {client_port, syn_time, address, request_time, response_time, status_line}
    or None when there is no SYN from the client."""
    for t, src, sp, dst, dp, fl, _ in segs:
        if src == CLIENT and dp == 80 and fl & 0x12 == 0x02 and t >= after and \
                (client_port is None or sp == client_port):
            c = {"client_port": sp, "syn_time": round(t, 6), "address": dst, "request_time": None,
                 "response_time": None, "status_line": None}
            break
    else:
        return None
    conn = [x for x in segs if (x[1], x[2], x[3], x[4]) in ((CLIENT, c["client_port"], c["address"], 80),
                                                            (c["address"], 80, CLIENT, c["client_port"]))]
    for t, src, sp, dst, dp, fl, payload in conn:
        if c["request_time"] is None and src == CLIENT and payload.startswith(b"GET "):
            c["request_time"] = round(t, 6)
        if c["response_time"] is None and sp == 80 and payload.startswith(b"HTTP/"):
            c["response_time"] = round(t, 6)
            c["status_line"] = payload.split(b"\r\n", 1)[0].decode("ascii", "replace")
    return c


def add_fetch_wire(fetch, cpcap, rpcap):
    """fetch.queries: getaddrinfo's questions on the client's wire (and their
    answers); fetch.address and fetch.tcp: the connection curl made.  Returns
    the problems found (the connection must be in both captures)."""
    names = {v: k for k, v in QTYPES.items()}
    msgs = pcap_dns(cpcap, with_rcode=True)
    qs = []
    for n, (t, src, sp, dst, dp, mid, resp, name, qt, _) in enumerate(msgs):
        if resp or src != CLIENT or dst != RES_CLIENT_SIDE or dp != 53 or t < fetch["time"] - 0.01:
            continue
        q = {"qname": name, "qtype": names.get(qt, "TYPE%d" % qt), "id": mid, "client_port": sp,
             "wire_time": round(t, 6), "response_time": None, "rcode": None}
        for t2, src2, sp2, dst2, dp2, mid2, resp2, name2, qt2, rc2 in msgs[n + 1:]:
            if resp2 and mid2 == mid and src2 == RES_CLIENT_SIDE and dp2 == sp and qt2 == qt and \
                    name2.lower() == name.lower():
                q.update(response_time=round(t2, 6), rcode=rc2)
                break
        qs.append(q)
    fetch["queries"] = qs
    problems = []
    c = http_exchange(pcap_tcp(cpcap, 80), after=fetch["time"] - 0.01)
    fetch["address"] = c.pop("address") if c else None
    fetch["tcp"] = c
    if not c:
        problems.append("fetch: no TCP SYN from %s to port 80 in client.pcap" % CLIENT)
    else:
        if fetch["address"] != PAGE_ADDR:
            problems.append("fetch: curl connected to %s, expected %s" % (fetch["address"], PAGE_ADDR))
        if c["request_time"] is None or not (c["status_line"] or "").endswith(" 200 OK"):
            problems.append("fetch: client.pcap lacks the GET or its 200 (%r)" % c["status_line"])
        r = http_exchange(pcap_tcp(rpcap, 80), client_port=c["client_port"], after=fetch["time"] - 0.01)
        if not r or r["request_time"] is None or not (r["status_line"] or "").endswith(" 200 OK"):
            problems.append("fetch: resolver.pcap lacks the connection, its GET or its 200 (%r)" % r)
    if not qs:
        problems.append("fetch: no DNS query from curl in client.pcap (nscd? another NSS module?)")
    elif not any(q["qname"].lower() == PAGE_NAME and q["qtype"] == "A" and q["rcode"] == "NOERROR" for q in qs):
        problems.append("fetch: no answered %s A in client.pcap: %s" % (PAGE_NAME, qs))
    return problems


# ---------------------------------------------------------------------------
def tool_versions():
    def first(cmd):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = [l for l in (r.stdout or "").splitlines() if l.strip()]
        return lines[0].strip() if lines else None

    return {"named": first(["named", "-v"]), "unbound": first(["unbound", "-V"]), "dig": first(["dig", "-v"]),
            "kdig": first(["kdig", "--version"]), "tcpdump": first(["tcpdump", "--version"]),
            "openssl": first(["openssl", "version"]), "curl": first(["curl", "--version"]),
            "kernel": os.uname().release, "python": sys.version.split()[0]}


def start_tcpdump(lab, name, ns, iface, pcap, T):
    err = os.path.join(T, name + ".err")
    p = lab.start(name, ["tcpdump", "-i", iface, "-n", "-s", "0", "-U", "--immediate-mode", "-B", "8192",
                         "-Z", "root", "-w", pcap], ns=ns, stderr=err)
    wait_for(name, lambda: file_has(err, "listening on") or p.poll() is not None)
    if p.poll() is not None:
        die("%s failed: %s" % (name, read(err)))
    return p, err


def record(lab, a):
    started = time.time()
    T = tempfile.mkdtemp(prefix="pagetrace-dnstree.")
    lab.tmp = T
    os.chmod(T, 0o755)
    os.makedirs(a.out, exist_ok=True)
    for f in ("client.pcap", "resolver.pcap", "keys.log", "unbound.log", "http.log", "manifest.json",
              "trust-anchor.ds") + \
            tuple("named-%s.log" % s for s in SERVERS):
        try:
            os.unlink(os.path.join(a.out, f))
        except FileNotFoundError:
            pass
    shutil.rmtree(os.path.join(a.out, "zones"), ignore_errors=True)
    open(os.path.join(a.out, "keys.log"), "w").close()
    versions = tool_versions()

    log("namespaces and addresses")
    net = setup_net(lab)
    log("zones: keys and signatures")
    S, zones = make_zones(T, a.out)
    log("named x%d, unbound" % len(SERVERS))
    ndirs = start_named(lab, net, T, S)
    U = start_unbound(lab, net, T)

    # Ready?  Every named loaded its zones and answers (probes come from
    # 127.0.0.1 inside the auth namespace, so they are told apart in the query
    # logs and never reach the captures); Unbound answers a local name
    # (localhost: nothing sent upstream, the cache stays cold) on :53 and
    # listens on :853.
    def named_up(addr):
        p = [p for n, p in lab.procs if n == "named-" + addr][0]
        if p.poll() is not None:
            die("named %s exited (%d):\n%s%s" % (addr, p.returncode, read(os.path.join(ndirs[addr], "named.out")),
                                                read(os.path.join(ndirs[addr], "named.log"))[-3000:]))
        return file_has(os.path.join(ndirs[addr], "named.log"), "running") and \
            all(dig_ok(net["auth"], ["@" + addr, z, "SOA"]) for z in SERVERS[addr][1])

    for addr in SERVERS:
        wait_for("named on %s" % addr, lambda addr=addr: named_up(addr))
    ub = [p for n, p in lab.procs if n == "unbound"][0]

    def unbound_up():
        if ub.poll() is not None:
            die("unbound exited (%d):\n%s%s" % (ub.returncode, read(U + "/unbound.out"), read(U + "/unbound.log")))
        return dig_ok(net["resolver"], ["@" + RES_CLIENT_SIDE, "localhost", "A"]) and \
            run(["ss", "-Hltn", "src %s and sport = :853" % RES_CLIENT_SIDE], ns=net["resolver"],
                check=False).stdout.strip() != ""

    wait_for("unbound", unbound_up)
    W = start_http(lab, net, T)

    log("captures")
    cpcap, rpcap = os.path.join(a.out, "client.pcap"), os.path.join(a.out, "resolver.pcap")
    tc, tc_err = start_tcpdump(lab, "tcpdump-client", net["client"], "eth0", cpcap, T)
    tr, tr_err = start_tcpdump(lab, "tcpdump-resolver", net["resolver"], "any", rpcap, T)
    time.sleep(0.2)
    capture_started = time.time()

    lookups = run_lookups(net, a.out)
    time.sleep(GAP)
    fetch = run_fetch(lab, net)

    time.sleep(0.3)
    capture_ended = time.time()
    for p, name in ((tc, "tcpdump-client"), (tr, "tcpdump-resolver")):
        lab.stop(p, name, signal.SIGINT)
    counters = {n: [l.strip() for l in read(e).splitlines() if "packets" in l]
                for n, e in (("client", tc_err), ("resolver", tr_err))}
    # stop the servers: their logs are complete and flushed
    for name, p in reversed(lab.procs):
        if name in ("unbound", "http") or name.startswith("named-"):
            lab.stop(p, name)

    shutil.copy(U + "/unbound.log", os.path.join(a.out, "unbound.log"))
    shutil.copy(W + "/http.log", os.path.join(a.out, "http.log"))
    server_queries, probes = [], 0
    for addr in SERVERS:
        ql = os.path.join(ndirs[addr], "queries.log")
        shutil.copy(ql, os.path.join(a.out, "named-%s.log" % addr))
        for q in parse_querylog(ql, addr):
            if q["client"].startswith("127.0.0.1:"):
                probes += 1
            else:
                server_queries.append(q)
    add_wire_times(server_queries, lookups, rpcap, cpcap)
    fetch_problems = add_fetch_wire(fetch, cpcap, rpcap)
    # BIND logs milliseconds: the capture gives the order within one
    server_queries.sort(key=lambda q: (q["wire_time"] if q["wire_time"] is not None else q["time"], q["time"]))
    # which step's window (its start .. the next one's start) each query falls
    # in: by its capture time (BIND's own clock is coarse), else by the log's.
    # A lookup's index, "fetch" for the last step, None before the first.
    steps = [(l["time"], l["index"]) for l in lookups] + [(fetch["time"], "fetch"), (capture_ended + 1, None)]
    for q in server_queries:
        t = q["wire_time"] if q["wire_time"] is not None else q["time"]
        q["lookup"] = None
        for (start, step), (nxt, _) in zip(steps, steps[1:]):
            if start <= t < nxt:
                q["lookup"] = step
    for l in lookups:
        l["upstream_queries"] = sum(1 for q in server_queries if q["lookup"] == l["index"])
    fetch["upstream_queries"] = sum(1 for q in server_queries if q["lookup"] == "fetch")

    # the lab is only useful if it did what the tests expect
    problems = []
    for l in lookups:
        e = l.pop("expect")
        if l["rcode"] != e["rcode"]:
            problems.append("lookup %d: rcode %s, expected %s" % (l["index"], l["rcode"], e["rcode"]))
        if "ad" in e and l["ad"] != e["ad"]:
            problems.append("lookup %d: AD %s, expected %s" % (l["index"], l["ad"], e["ad"]))
        if "answer" in e and not any(e["answer"] in x for x in l["answer"]):
            problems.append("lookup %d: no %r in the answer %s" % (l["index"], e["answer"], l["answer"]))
        if "answers" in e and len(l["answer"]) != e["answers"]:
            problems.append("lookup %d: %d answer records, expected %d" % (l["index"], len(l["answer"]),
                                                                          e["answers"]))
        if "upstream" in e and l["upstream_queries"] != e["upstream"]:
            problems.append("lookup %d: %d upstream queries, expected %d" % (l["index"], l["upstream_queries"],
                                                                            e["upstream"]))
    if fetch["status"] != 200:
        problems.append("fetch: HTTP status %s, expected 200" % fetch["status"])
    problems += fetch_problems
    if not any(q["server"] == AUTH1 and q["qname"].lower().rstrip(".") == PAGE_NAME and q["lookup"] == "fetch"
               for q in server_queries):
        problems.append("fetch: the resolver never asked %s for %s" % (AUTH1, PAGE_NAME))
    seen = {q["server"] for q in server_queries}
    if seen != set(SERVERS):
        problems.append("servers queried: %s, expected all of %s" % (sorted(seen), sorted(SERVERS)))
    if not any(q["qname"].lower().rstrip(".") == "ns.hoster.alt" for q in server_queries):
        problems.append("the resolver never looked up ns.hoster.alt")
    nkeys = len([l for l in read(os.path.join(a.out, "keys.log")).splitlines() if l.strip()])
    if nkeys == 0:
        problems.append("keys.log is empty: kdig (GnuTLS) did not write SSLKEYLOGFILE")
    if problems:
        die("the recording is not as expected (files left in %s):\n  %s" % (a.out, "\n  ".join(problems)))
    log("keys.log: %d lines (kdig/GnuTLS honoured SSLKEYLOGFILE)" % nkeys)

    m = {
        "format": FORMAT,
        "started": started,
        "ended": time.time(),
        "capture": {"started": capture_started, "ended": capture_ended, "tcpdump": counters,
                    "client": {"file": "client.pcap", "interface": "eth0", "namespace": net["client"]},
                    "resolver": {"file": "resolver.pcap", "interface": "any", "namespace": net["resolver"]}},
        "client": CLIENT,
        "resolver": {"client_side": RES_CLIENT_SIDE, "upstream_side": RES_UPSTREAM_SIDE, "software": "unbound",
                     "ports": {"udp/tcp": 53, "dot": 853}, "qname_minimisation": True, "validating": True,
                     "tls_cert_cn": "resolver.test"},
        "namespaces": net,
        "servers": {addr: {"zones": zs, "role": role} for addr, (role, zs) in SERVERS.items()},
        "zones": zones,
        "trust_anchor": zones["."]["ds"],
        "lookups": lookups,
        "fetch": fetch,
        "server_queries": server_queries,
        "readiness_probes_excluded": probes,
        "versions": versions,
    }
    m["files"] = sorted(f for f in os.listdir(a.out) if f != "manifest.json") + ["manifest.json"]
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=1)
    for root, dirs, files in os.walk(a.out):
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    log("fetch: %d queries from getaddrinfo (%s), %d upstream; connected to %s"
        % (len(fetch["queries"]), ", ".join("%s %s %s" % (q["qname"], q["qtype"], q["rcode"])
                                            for q in fetch["queries"]),
           fetch["upstream_queries"], fetch["address"]))
    log("done in %.1f s: %s (%d upstream queries; client %s; resolver %s)"
        % (time.time() - started, a.out, len(server_queries), "; ".join(counters["client"][:1]),
           "; ".join(counters["resolver"][:1])))


def main():
    global QUIET
    ap = argparse.ArgumentParser(prog=PROG, description="Record real recursive DNS resolution through a private "
                                                        "DNSSEC-signed tree in network namespaces.")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--max-seconds", type=int, default=60, help="give up after this long")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (configs, keys, signed zones)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    QUIET = a.quiet
    a.out = os.path.abspath(a.out)
    if os.geteuid() != 0:
        sys.exit("%s: must run as root (network namespaces, packet capture)" % PROG)
    need = ["ip", "ss", "ethtool", "tcpdump", "openssl", "named", "named-checkconf", "dnssec-keygen",
            "dnssec-signzone", "dnssec-dsfromkey", "unbound", "unbound-checkconf", "dig", "kdig", "curl"]
    missing = [t for t in need if not have(t)]
    if missing:
        sys.exit("%s: missing: %s\n  run tests/lab/setup.sh" % (PROG, ", ".join(missing)))

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
    except Exception:  # a bug or an OS error: say where, still clean up
        import traceback
        traceback.print_exc()
        print("%s: error: unexpected exception (above); cleaning up" % PROG, file=sys.stderr)
        rc = 1
    finally:
        signal.alarm(0)
        lab.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
