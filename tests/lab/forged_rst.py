#!/usr/bin/env python3
"""forged_rst.py - a download during which a forged RST arrives, and is ignored.

Two network namespaces joined by a veth pair; python3's http.server in one serves a 4 MiB
file, curl in the other downloads it slowly (--limit-rate), tcpdump captures on the client.
Half way, a RST claiming to come from the server, with a sequence number outside the
client's window, is sent from the server's namespace through a raw socket (not by its TCP
stack). The client drops it (RFC 5961 3.2: a RST out of the window is ignored), the download
goes on and ends with FINs. Writes DIR/capture.pcap and DIR/manifest.json.

    sudo tests/lab/forged_rst.py --out DIR

Stdlib only; needs root, iproute2, tcpdump, curl. Everything it makes (namespaces, veths,
processes) is removed on exit, error or signal.
"""
import argparse, json, os, random, shutil, signal, socket, struct, subprocess, sys, tempfile, time

PID = os.getpid()
CLI, SRV = f"frst{PID}c", f"frst{PID}s"
C_IP, S_IP = "10.78.0.1", "10.78.0.2"
S_PORT, C_PORT = 8000, 41000
SIZE = 4 * 1024 * 1024
procs = []


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def ns(name, *cmd):
    return ["ip", "netns", "exec", name, *cmd]


dirs = []


def cleanup(*_):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    for n in (CLI, SRV):
        sh("ip", "netns", "del", n, check=False)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def bg(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    procs.append(p)
    return p


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def forged_rst(seq):
    """A TCP RST from the server's address and port to the client's, sent raw."""
    hdr = struct.pack("!HHIIBBHHH", S_PORT, C_PORT, seq, 0, 5 << 4, 0x04, 0, 0, 0)
    pseudo = socket.inet_aton(S_IP) + socket.inet_aton(C_IP) + struct.pack("!BBH", 0, 6, len(hdr))
    hdr = hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]
    return hdr


def tcp_flags(path):
    """The TCP flags of each IPv4 TCP frame in a pcap written by tcpdump (Ethernet), in order."""
    with open(path, "rb") as f:
        data = f.read()
    out, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        p = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if len(p) >= 14 + 20 and p[12:14] == b"\x08\x00" and p[23] == 6:
            ihl = (p[14] & 0x0F) * 4
            if len(p) >= 14 + ihl + 14:
                out.append(p[14 + ihl + 13])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (cleanup(), sys.exit(130)))
    try:
        for n in (CLI, SRV):
            sh("ip", "netns", "add", n)
        sh("ip", "link", "add", "eth0", "netns", CLI, "type", "veth", "peer", "eth0", "netns", SRV)
        for n, ip in ((CLI, C_IP), (SRV, S_IP)):
            sh(*ns(n, "ip", "addr", "add", f"{ip}/24", "dev", "eth0"))
            sh(*ns(n, "ip", "link", "set", "eth0", "up"))
            sh(*ns(n, "ip", "link", "set", "lo", "up"))
            sh(*ns(n, "ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off", "gro", "off"), check=False)
        # A small receive buffer, so the slow reader's window paces the server.
        sh(*ns(CLI, "sysctl", "-q", "-w", "net.ipv4.tcp_rmem=4096 32768 65536"))
        site = tempfile.mkdtemp(prefix="frst-")
        dirs.append(site)
        with open(os.path.join(site, "big.bin"), "wb") as f:
            f.write(random.Random(7).randbytes(SIZE))
        bg(ns(SRV, "python3", "-m", "http.server", str(S_PORT), "--bind", S_IP, "--directory", site),
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cap = os.path.join(out, "capture.pcap")
        tcpdump = bg(ns(CLI, "tcpdump", "-i", "eth0", "-U", "-s", "0", "-w", cap, "tcp"),
                     stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        # The server listening before curl starts (a slow start had looked like a download
        # that ended too soon): up to 10 s.
        deadline = time.time() + 10
        while f"{S_IP}:{S_PORT}" not in sh(*ns(SRV, "ss", "-ltnH"), check=False).stdout:
            if time.time() > deadline:
                raise SystemExit("forged_rst.py: the server did not start listening")
            time.sleep(0.1)
        # A raw socket in the server's namespace, ready before curl starts: it writes each
        # hex line it reads to the client and says "sent".
        sender = bg(ns(SRV, "python3", "-u", "-c",
                       "import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_TCP);"
                       "print('ready')\n"
                       f"for l in sys.stdin: s.sendto(bytes.fromhex(l.strip()),('{C_IP}',0)); print('sent')"),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if sender.stdout.readline().strip() != "ready":
            raise SystemExit("forged_rst.py: the raw socket did not open")
        curl = bg(ns(CLI, "curl", "-sS", "-o", "/dev/null", "--limit-rate", "1M", "--local-port", str(C_PORT),
                     "-w", "%{http_code} %{size_download}", f"http://{S_IP}:{S_PORT}/big.bin"),
                  stdout=subprocess.PIPE, text=True)
        time.sleep(0.7)
        # The forged RST, from the server's namespace but not from its TCP stack, through the
        # raw socket opened before curl started (starting a process for it had taken seconds
        # on a starved machine, and the RST had gone out after the download's FIN).
        sender.stdin.write(forged_rst(random.Random(PID).randrange(1 << 32)).hex() + "\n")
        sender.stdin.flush()
        if sender.stdout.readline().strip() != "sent":
            raise SystemExit("forged_rst.py: the raw send failed")
        rst_at = time.time()
        if curl.poll() is not None:
            said = curl.communicate()[0].strip()
            raise SystemExit("forged_rst.py: the download ended before the forged RST was sent "
                             f"(curl exit {curl.returncode}, {said!r}; a starved machine); "
                             "run it again")
        result = curl.communicate(timeout=30)[0].split()
        # tcpdump drops what it has not read from the kernel when it is stopped: wait until
        # the file has not grown for 1.2 s (a busy machine starves it), up to 20 s.
        last, still, deadline = -1, 0, time.time() + 20
        while time.time() < deadline and still < 3:
            time.sleep(0.4)
            size = os.path.getsize(cap) if os.path.exists(cap) else 0
            still = still + 1 if size == last else 0
            last = size
        os.killpg(tcpdump.pid, signal.SIGINT)
        tcpdump.wait(5)
        # The RST must be on the wire before the server's FIN, else the download was over
        # before it went out (a starved machine): say so, and the test records once more.
        order = [f for f in tcp_flags(cap) if f & 0x05]
        if not order or not order[0] & 0x04:
            raise SystemExit("forged_rst.py: the forged RST went out after the download's FIN "
                             f"(RST/FIN order {['RST' if f & 4 else 'FIN' for f in order]}; "
                             "a starved machine); run it again")
        manifest = {
            "client": f"{C_IP}:{C_PORT}", "server": f"{S_IP}:{S_PORT}", "path": "/big.bin",
            "status": int(result[0]), "body_bytes": int(result[1]), "size": SIZE,
            "forged_rst_at": rst_at,
        }
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(json.dumps(manifest))
    finally:
        cleanup()


if __name__ == "__main__":
    main()
