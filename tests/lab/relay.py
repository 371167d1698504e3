#!/usr/bin/env python3
"""relay.py - a userspace Ethernet "wire" with delay, random loss and chosen drops.

This kernel has no tc netem, so the lab joins the client and server namespaces
through a third namespace where this relay bridges two interfaces with
AF_PACKET sockets: every frame read on one side is written to the other, late
(--delay-c2s/--delay-s2c), randomly lost (--loss, seeded: the same run drops
the same packets, timing permitting) or dropped on purpose (--drop).

    relay.py --client-if w0 --server-if w1 [--delay-c2s MS] [--delay-s2c MS]
             [--loss PCT] [--loss-dir both|c2s|s2c] [--seed N]
             [--drop SPEC]... [--log FILE] [--stats FILE]

--drop SPEC drops chosen packets:   FILTER[:WHICH]
  FILTER  words (an optional "and" between them; "not WORD" negates one):
    c2s | s2c          direction (client->server | server->client)
    tcp | udp          transport;  ip4 | ip6  address family
    [src|dst] port N   a port (either side without src/dst)
    syn                SYN without ACK (a connection attempt)
    synack             SYN+ACK;  fin, rst, ack: that TCP flag is set
    data               transport payload longer than 0 bytes
    len OP N           transport payload length (TCP segment data / UDP
                       payload), OP one of > >= < <= = !=, e.g. len>1000
    quic-long | quic-short | quic-initial | quic-handshake
                       UDP payload is a QUIC long/short header packet, or an
                       Initial / Handshake one (QUIC v1 and v2 types)
  WHICH   which matches to drop, 1-based, counted per --drop rule over every
          frame that matches FILTER (retransmissions are new matches):
          "3", "3,5", "2-4" (default 1)
  examples:  'c2s tcp syn dst port 443:1'          the first SYN to :443
             'c2s tcp dst port 443 and len>0:2'    the second request segment
             's2c tcp src port 443 and len>1000:10' a middle response segment
             's2c udp src port 443 and quic-short:5'
Frames that are not IPv4/IPv6 TCP/UDP (ARP, NDP...) never match and are never
dropped.  Dropped frames (rule or loss) are written to --log as JSON lines.

Prints "ready" when listening.  Ends on SIGTERM/SIGINT, writing --stats (JSON).
Stdlib only.
"""

import argparse
import heapq
import json
import random
import re
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3


class Pkt:
    """The few fields the filters need, parsed from an Ethernet frame."""

    __slots__ = ("fam", "proto", "sport", "dport", "flags", "plen", "first", "version")

    def __init__(self, frame):
        self.fam = self.proto = self.sport = self.dport = None
        self.flags = 0
        self.plen = 0
        self.first = None
        self.version = None
        if len(frame) < 14:
            return
        etype = struct.unpack_from("!H", frame, 12)[0]
        off = 14
        if etype == 0x8100 and len(frame) >= 18:
            etype = struct.unpack_from("!H", frame, 16)[0]
            off = 18
        if etype == 0x0800 and len(frame) >= off + 20:
            ihl = (frame[off] & 0x0F) * 4
            total = struct.unpack_from("!H", frame, off + 2)[0]
            frag = struct.unpack_from("!H", frame, off + 6)[0] & 0x1FFF
            if frag:
                return
            self.fam, proto = 4, frame[off + 9]
            l4, end = off + ihl, off + total
        elif etype == 0x86DD and len(frame) >= off + 40:
            plen = struct.unpack_from("!H", frame, off + 4)[0]
            proto = frame[off + 6]
            l4, end = off + 40, off + 40 + plen
            # skip a few extension headers (hop-by-hop, routing, dest options)
            while proto in (0, 43, 60) and len(frame) >= l4 + 8:
                proto, l4 = frame[l4], l4 + 8 + frame[l4 + 1] * 8
            self.fam = 6
        else:
            return
        end = min(end, len(frame))
        if proto == 6 and end >= l4 + 20:
            self.proto = "tcp"
            self.sport, self.dport = struct.unpack_from("!HH", frame, l4)
            doff = (frame[l4 + 12] >> 4) * 4
            self.flags = frame[l4 + 13]
            self.plen = max(0, end - l4 - doff)
        elif proto == 17 and end >= l4 + 8:
            self.proto = "udp"
            self.sport, self.dport = struct.unpack_from("!HH", frame, l4)
            self.plen = max(0, end - l4 - 8)
            if self.plen:
                self.first = frame[l4 + 8]
                if self.first & 0x80 and self.plen >= 5:
                    self.version = struct.unpack_from("!I", frame, l4 + 9)[0]

    def summary(self):
        if self.proto is None:
            return "non-ip"
        fl = ""
        if self.proto == "tcp":
            fl = "".join(c for b, c in ((2, "S"), (16, "A"), (1, "F"), (4, "R"), (8, "P")) if self.flags & b)
        return "%s%d %d>%d %s len=%d" % (self.proto, self.fam, self.sport, self.dport, fl, self.plen)


def quic_long_type(p):
    """-> 'initial' | '0rtt' | 'handshake' | 'retry' | None"""
    if p.proto != "udp" or p.first is None or not p.first & 0x80 or p.version is None:
        return None
    t = (p.first & 0x30) >> 4
    if p.version == 0x6B3343CF:  # QUIC v2 (RFC 9369) renumbers the types
        names = {1: "initial", 2: "0rtt", 3: "handshake", 0: "retry"}
    else:
        names = {0: "initial", 1: "0rtt", 2: "handshake", 3: "retry"}
    return names[t]


OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
       "<=": lambda a, b: a <= b, "=": lambda a, b: a == b, "==": lambda a, b: a == b,
       "!=": lambda a, b: a != b}


class Rule:
    def __init__(self, spec):
        self.spec = spec
        m = re.match(r"^(.*?)(?::\s*([0-9,\- ]+))?\s*$", spec)
        expr, which = m.group(1), m.group(2) or "1"
        self.which = set()
        for part in which.replace(" ", "").split(","):
            if not part:
                continue
            if "-" in part:
                a, b = part.split("-", 1)
                self.which.update(range(int(a), int(b) + 1))
            else:
                self.which.add(int(part))
        if not self.which or min(self.which) < 1:
            raise ValueError("--drop %r: WHICH must be 1-based numbers" % spec)
        expr = re.sub(r"len\s*(>=|<=|==|!=|>|<|=)\s*(\d+)", r"len\1\2", expr)
        toks = expr.split()
        self.tests = []  # (negate, fn)
        i = 0
        neg = False
        while i < len(toks):
            t = toks[i].lower()
            i += 1
            if t == "and":
                continue
            if t == "not":
                neg = not neg
                continue
            if t in ("src", "dst") and i < len(toks) and toks[i] == "port":
                i += 1
                t = t + "port"
            if t in ("port", "srcport", "dstport"):
                if i >= len(toks) or not toks[i].isdigit():
                    raise ValueError("--drop %r: 'port' needs a number" % spec)
                n = int(toks[i])
                i += 1
                fn = {"port": lambda p, d, n=n: n in (p.sport, p.dport),
                      "srcport": lambda p, d, n=n: p.sport == n,
                      "dstport": lambda p, d, n=n: p.dport == n}[t]
            elif t.startswith("len"):
                mm = re.match(r"^len(>=|<=|==|!=|>|<|=)(\d+)$", t)
                if not mm:
                    raise ValueError("--drop %r: bad length test %r" % (spec, t))
                op, n = OPS[mm.group(1)], int(mm.group(2))
                fn = lambda p, d, op=op, n=n: p.proto is not None and op(p.plen, n)
            else:
                fn = {
                    "c2s": lambda p, d: d == "c2s",
                    "s2c": lambda p, d: d == "s2c",
                    "tcp": lambda p, d: p.proto == "tcp",
                    "udp": lambda p, d: p.proto == "udp",
                    "ip4": lambda p, d: p.fam == 4,
                    "ip6": lambda p, d: p.fam == 6,
                    "syn": lambda p, d: p.proto == "tcp" and p.flags & 0x12 == 0x02,
                    "synack": lambda p, d: p.proto == "tcp" and p.flags & 0x12 == 0x12,
                    "fin": lambda p, d: p.proto == "tcp" and bool(p.flags & 0x01),
                    "rst": lambda p, d: p.proto == "tcp" and bool(p.flags & 0x04),
                    "ack": lambda p, d: p.proto == "tcp" and bool(p.flags & 0x10),
                    "data": lambda p, d: p.proto is not None and p.plen > 0,
                    "quic-long": lambda p, d: p.proto == "udp" and p.first is not None and bool(p.first & 0x80),
                    "quic-short": lambda p, d: p.proto == "udp" and p.first is not None and not p.first & 0x80,
                    "quic-initial": lambda p, d: quic_long_type(p) == "initial",
                    "quic-handshake": lambda p, d: quic_long_type(p) == "handshake",
                }.get(t)
                if fn is None:
                    raise ValueError("--drop %r: unknown word %r" % (spec, t))
            self.tests.append((neg, fn))
            neg = False
        if not self.tests:
            raise ValueError("--drop %r: empty filter" % spec)
        self.count = 0
        self.dropped = []

    def matches(self, p, d):
        if p.proto is None:
            return False
        return all(bool(fn(p, d)) != neg for neg, fn in self.tests)


def main():
    ap = argparse.ArgumentParser(description="userspace Ethernet wire (see the module doc)",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index("--drop SPEC drops"):])
    ap.add_argument("--client-if", required=True)
    ap.add_argument("--server-if", required=True)
    ap.add_argument("--delay-c2s", type=float, default=0, help="ms added client->server")
    ap.add_argument("--delay-s2c", type=float, default=0, help="ms added server->client")
    ap.add_argument("--loss", type=float, default=0, help="percent of frames lost at random")
    ap.add_argument("--loss-dir", choices=["both", "c2s", "s2c"], default="both")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop", action="append", default=[], metavar="SPEC")
    ap.add_argument("--log", help="JSON lines: every dropped frame")
    ap.add_argument("--stats", help="JSON summary written at exit")
    ap.add_argument("--check", action="store_true", help="only parse --drop specs and exit")
    args = ap.parse_args()
    try:
        rules = [Rule(s) for s in args.drop]
    except ValueError as e:
        sys.exit("relay: %s" % e)
    if args.check:
        print(json.dumps([{"spec": r.spec, "which": sorted(r.which)} for r in rules]))
        return

    def sock(name):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 << 20)
        s.bind((name, 0))
        s.setblocking(False)
        return s

    c, s = sock(args.client_if), sock(args.server_if)
    delay = {"c2s": args.delay_c2s / 1000.0, "s2c": args.delay_s2c / 1000.0}
    loss = args.loss / 100.0
    rng = {"c2s": random.Random(args.seed), "s2c": random.Random(args.seed + 1)}
    logf = open(args.log, "a", buffering=1) if args.log else None
    st = {"forwarded": {"c2s": 0, "s2c": 0}, "lost": {"c2s": 0, "s2c": 0},
          "dropped_by_rule": {"c2s": 0, "s2c": 0}, "send_errors": 0}
    q, seq = [], 0
    t0 = time.time()

    def finish(*_):
        if args.stats:
            st["rules"] = [{"spec": r.spec, "which": sorted(r.which), "matched": r.count,
                            "dropped": r.dropped} for r in rules]
            st["delay_ms"] = {"c2s": args.delay_c2s, "s2c": args.delay_s2c}
            st["loss_pct"], st["loss_dir"], st["seed"] = args.loss, args.loss_dir, args.seed
            with open(args.stats, "w") as f:
                json.dump(st, f, indent=1)
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)

    def send(out, frame):
        try:
            out.send(frame)
        except OSError:
            st["send_errors"] += 1

    print("ready", flush=True)
    while True:
        now = time.monotonic()
        while q and q[0][0] <= now:
            _, _, out, frame = heapq.heappop(q)
            send(out, frame)
        timeout = max(0.0, q[0][0] - now) if q else 1.0
        ready, _, _ = select.select([c, s], [], [], timeout)
        for sk in ready:
            d, out = ("c2s", s) if sk is c else ("s2c", c)
            while True:
                try:
                    frame, addr = sk.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                p = None
                drop_rule = None
                if rules:
                    p = Pkt(frame)
                    for r in rules:
                        if r.matches(p, d):
                            r.count += 1
                            if r.count in r.which and drop_rule is None:
                                drop_rule = r
                                r.dropped.append(r.count)
                if drop_rule is not None:
                    st["dropped_by_rule"][d] += 1
                    if logf:
                        logf.write(json.dumps({"time": time.time(), "t": round(time.time() - t0, 6),
                                               "dir": d, "why": "rule", "rule": drop_rule.spec,
                                               "match": drop_rule.count, "packet": p.summary()}) + "\n")
                    continue
                if loss and args.loss_dir in ("both", d) and rng[d].random() < loss:
                    st["lost"][d] += 1
                    if logf:
                        p = p or Pkt(frame)
                        logf.write(json.dumps({"time": time.time(), "t": round(time.time() - t0, 6),
                                               "dir": d, "why": "loss", "packet": p.summary()}) + "\n")
                    continue
                st["forwarded"][d] += 1
                if delay[d] > 0:
                    heapq.heappush(q, (time.monotonic() + delay[d], seq, out, frame))
                    seq += 1
                else:
                    send(out, frame)


if __name__ == "__main__":
    main()
