#!/usr/bin/env python3
"""DNS over QUIC (RFC 9250) on aioquic for pagetrace's recording lab: a server and a client.

    doq.py server --listen 10.77.0.2 --listen fd77::2 --port 853 \
        --cert chain.pem --key key.pem --zone zone.json \
        --log doqserver.jsonl [--secrets-log server-keys.log]
    doq.py client --host www.lab.test --port 853 --ca ca.crt \
        --secrets-log keys.log --out client.json \
        [--quic-version 1|2] [--ipv4] [--queries 'NAME/TYPE,NAME/TYPE;NAME/TYPE']

RFC 9250 4.2: ALPN "doq"; one query per client-initiated bidirectional stream, "encoded
as a 2-octet length field followed by the message content"; the client sends the STREAM
FIN after its query, the server after its answer; the DNS Message ID is 0 (4.2.1).
DNS messages are built and parsed here by hand (stdlib + aioquic only).

Server: answers A and AAAA for the names of --zone ({"zone": "lab.test", "records":
[{"name", "type", "value"}]}), authoritatively (AA), with compressed names; a name of the
zone without a record of the type asked is NODATA, an unknown name in the zone NXDOMAIN,
both with the zone's SOA in the authority section; a name outside the zone NXDOMAIN with
no authority.  A query with EDNS(0) gets an OPT record back, padded (RFC 7830, block 468
as RFC 8467 suggests for responses).  One JSON line per answer: time, event "query",
server "aioquic-doq", stream_id, id, name, type, qtype, rcode, answers / authority
[{name, type, ttl, value}], query_bytes, response_bytes (DNS message sizes, without the
length prefix), client_fin (the client had closed its side), client_addr, client_port,
server_addr, server_port, odcid, scid, quic_version, alpn, tls_cipher, conn_query (n-th on
the connection).  "event": "connection_closed" when a connection ends.

Client: looks the host up with the system resolver (a real lookup on the wire in the
lab's client namespace; IPv6 first unless --ipv4), opens ONE QUIC connection, and sends
the queries round by round (';' separates rounds, ',' the queries of a round, which go
out at once on parallel streams), each with ID 0, RD, and EDNS(0) padded to 128 bytes
(RFC 8467).  Writes its TLS/QUIC secrets to --secrets-log (SSLKEYLOGFILE format) and its
view to --out: {host, server_addr, server_port, local_port, odcid, quic_version, alpn,
started, ended, queries: [{round, name, type, stream_id, id, rcode, answers, authority,
query_bytes, response_bytes, started, ended}]}.  Exit 1 when a query got no answer.
"""

import argparse
import asyncio
import ipaddress
import json
import socket
import ssl
import struct
import sys
import time

from aioquic.asyncio import QuicConnectionProtocol
from aioquic.asyncio.client import connect
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, StreamDataReceived, StreamReset

from quiclab import VERSIONS, addr_of, cipher_name, log, open_log, serve_until_signalled, server_config

ALPN = ["doq"]
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41, "SVCB": 64, "HTTPS": 65, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
CLASS_IN = 1
TTL = 300
OPT_PADDING = 12  # RFC 7830


# ---------------------------------------------------------------------------
# DNS wire format (RFC 1035), by hand
# ---------------------------------------------------------------------------
def type_name(t):
    return TYPE_NAMES.get(t, "TYPE%d" % t)


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode("ascii")
            out += bytes([len(b)]) + b
    return out + b"\x00"


def read_name(msg, off):
    """-> (name, offset after the name where it was read); follows compression pointers."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg) or jumps > 32:
                raise ValueError("bad compression pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def opt_record(payload_size, pad_to, length_so_far):
    """An OPT RR with a Padding option bringing the message to a multiple of pad_to."""
    base = 11 + 4  # root name, type, class, ttl, rdlength + the option's code and length
    total = length_so_far + base
    pad = (-total) % pad_to
    rdata = struct.pack("!HH", OPT_PADDING, pad) + b"\x00" * pad
    return b"\x00" + struct.pack("!HHIH", TYPES["OPT"], payload_size, 0, len(rdata)) + rdata


def build_query(name, qtype, pad_to=128):
    # ID 0 (RFC 9250 4.2.1), RD, one question, one additional (OPT)
    head = struct.pack("!HHHHHH", 0, 0x0100, 1, 0, 0, 1)
    q = encode_name(name) + struct.pack("!HH", qtype, CLASS_IN)
    msg = head + q
    return msg + opt_record(1232, pad_to, len(msg))


def parse_rr(msg, off):
    name, off = read_name(msg, off)
    rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", msg, off)
    off += 10
    rdata_off = off
    off += rdlen
    if off > len(msg):
        raise ValueError("record runs past the message")
    value = None
    if rtype == TYPES["A"] and rdlen == 4:
        value = str(ipaddress.IPv4Address(msg[rdata_off:off]))
    elif rtype == TYPES["AAAA"] and rdlen == 16:
        value = str(ipaddress.IPv6Address(msg[rdata_off:off]))
    elif rtype == TYPES["SOA"]:
        mname, o = read_name(msg, rdata_off)
        rname, o = read_name(msg, o)
        serial, refresh, retry, expire, minimum = struct.unpack_from("!IIIII", msg, o)
        value = "%s %s %d %d %d %d %d" % (mname, rname, serial, refresh, retry, expire, minimum)
    elif rtype == TYPES["OPT"]:
        value = "udp %d, %d bytes of options" % (rclass, rdlen)
    else:
        value = msg[rdata_off:off].hex()
    return {"name": name, "type": type_name(rtype), "ttl": ttl, "value": value}, off


def parse_message(msg):
    if len(msg) < 12:
        raise ValueError("shorter than a DNS header")
    mid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", msg, 0)
    off, questions = 12, []
    for _ in range(qd):
        name, off = read_name(msg, off)
        qtype, qclass = struct.unpack_from("!HH", msg, off)
        off += 4
        questions.append({"name": name, "qtype": qtype, "qclass": qclass})
    sections = []
    for count in (an, ns, ar):
        recs = []
        for _ in range(count):
            rr, off = parse_rr(msg, off)
            recs.append(rr)
        sections.append(recs)
    return {"id": mid, "flags": flags, "rcode": flags & 0xF, "questions": questions,
            "answers": sections[0], "authority": sections[1], "additional": sections[2]}


class Zone:
    def __init__(self, cfg):
        self.origin = cfg["zone"].lower().rstrip(".")
        self.records = {}
        for r in cfg["records"]:
            self.records.setdefault((r["name"].lower().rstrip("."), TYPES[r["type"]]), []).append(r["value"])
        self.names = {n for n, _ in self.records} | {self.origin}

    def in_zone(self, name):
        n = name.lower().rstrip(".")
        return n == self.origin or n.endswith("." + self.origin)

    def answer(self, query):
        """-> (response bytes, log fields)"""
        q = parse_message(query)
        if q["flags"] & 0x8000 or len(q["questions"]) != 1:
            raise ValueError("not a query with one question")
        qu = q["questions"][0]
        name, qtype = qu["name"], qu["qtype"]
        key = name.lower().rstrip(".")
        values = self.records.get((key, qtype), []) if qu["qclass"] == CLASS_IN else []
        if values:
            rcode, auth = 0, False
        elif key in self.names:
            rcode, auth = 0, True   # NODATA
        elif self.in_zone(key):
            rcode, auth = 3, True   # NXDOMAIN in our zone
        else:
            rcode, auth = 3, False  # NXDOMAIN, not ours
        edns = any(r["type"] == "OPT" for r in q["additional"])
        # header: QR, opcode 0, AA, RD copied; RA 0 (no recursion here)
        flags = 0x8000 | 0x0400 | (q["flags"] & 0x0100) | rcode
        qsec = encode_name(name) + struct.pack("!HH", qtype, qu["qclass"])
        body = b""
        answers = []
        for v in values:
            rdata = ipaddress.ip_address(v).packed
            body += struct.pack("!HHHIH", 0xC00C, qtype, CLASS_IN, TTL, len(rdata)) + rdata
            answers.append({"name": name, "type": type_name(qtype), "ttl": TTL, "value": v})
        authority = []
        if auth:
            # the zone's name: a pointer into the question's name where it ends in it
            labels = key.split(".")
            suffix = 12 + sum(1 + len(l) for l in labels[:len(labels) - len(self.origin.split("."))])
            zptr = struct.pack("!H", 0xC000 | suffix)
            mname, rname = b"\x02ns" + zptr, b"\x0ahostmaster" + zptr
            serial, refresh, retry, expire, minimum = 1, 3600, 600, 86400, TTL
            rdata = mname + rname + struct.pack("!IIIII", serial, refresh, retry, expire, minimum)
            body += zptr + struct.pack("!HHIH", TYPES["SOA"], CLASS_IN, TTL, len(rdata)) + rdata
            authority.append({"name": self.origin, "type": "SOA", "ttl": TTL,
                              "value": "ns.%s hostmaster.%s %d %d %d %d %d"
                                       % (self.origin, self.origin, serial, refresh, retry, expire, minimum)})
        head = struct.pack("!HHHHHH", q["id"], flags, 1, len(answers), len(authority), 1 if edns else 0)
        msg = head + qsec + body
        if edns:
            msg += opt_record(1232, 468, len(msg))
        return msg, {"id": q["id"], "name": name, "type": type_name(qtype), "qtype": qtype,
                     "rcode": RCODES.get(rcode, str(rcode)), "answers": answers, "authority": authority,
                     "edns": edns}


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------
ZONE = None


class DoqServer(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bufs = {}      # stream id -> bytes received
        self._answered = set()
        self._count = 0

    def _conn_info(self):
        q = self._quic
        try:
            client = addr_of(q._network_paths[0].addr)
        except (IndexError, AttributeError):
            client = (None, None)
        server = self._transport.get_extra_info("sockname") if self._transport else None
        return {
            "client_addr": client[0], "client_port": client[1],
            "server_addr": addr_of(server)[0] if server else None,
            "server_port": addr_of(server)[1] if server else None,
            "odcid": q.original_destination_connection_id.hex()
            if getattr(q, "original_destination_connection_id", None) else None,
            "scid": q.host_cid.hex(),
            "quic_version": "0x%08x" % (q._version or 0),
            "alpn": q.tls.alpn_negotiated if getattr(q, "tls", None) else None,
            "tls_cipher": cipher_name(q),
        }

    def quic_event_received(self, event):
        if isinstance(event, StreamDataReceived):
            sid = event.stream_id
            if sid & 0x3 != 0:  # only client-initiated bidirectional streams carry queries
                return
            buf = self._bufs.get(sid, b"") + event.data
            self._bufs[sid] = buf
            if sid not in self._answered and len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                self.respond(sid, buf, event.end_stream)
        elif isinstance(event, StreamReset):
            self._bufs.pop(event.stream_id, None)
        elif isinstance(event, ConnectionTerminated):
            rec = {"time": time.time(), "event": "connection_closed", "server": "aioquic-doq",
                   "error_code": event.error_code, "reason": event.reason_phrase, "queries": self._count}
            rec.update(self._conn_info())
            log(rec)

    def respond(self, sid, buf, fin):
        self._answered.add(sid)
        n = struct.unpack("!H", buf[:2])[0]
        query = buf[2:2 + n]
        try:
            resp, fields = ZONE.answer(query)
        except (ValueError, struct.error, IndexError) as e:
            # RFC 9250 4.3.3: a malformed query is a stream error
            self._quic.reset_stream(sid, 0x2)  # DOQ_PROTOCOL_ERROR
            self.transmit()
            log({"time": time.time(), "event": "bad_query", "stream_id": sid, "error": str(e)})
            return
        self._quic.send_stream_data(sid, struct.pack("!H", len(resp)) + resp, end_stream=True)
        self.transmit()
        self._count += 1
        rec = {"time": time.time(), "event": "query", "server": "aioquic-doq", "stream_id": sid,
               "query_bytes": len(query), "response_bytes": len(resp), "client_fin": fin,
               "conn_query": self._count}
        rec.update(fields)
        rec.update(self._conn_info())
        log(rec)


async def server_main(args):
    global ZONE
    with open(args.zone) as f:
        ZONE = Zone(json.load(f))
    open_log(args.log)
    cfg = server_config(ALPN, args.cert, args.key, args.secrets_log, args.quic_versions)
    await serve_until_signalled(args.listen, args.port, cfg, DoqServer)


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------
class DoqClient(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bufs = {}
        self._waiters = {}

    def quic_event_received(self, event):
        if isinstance(event, StreamDataReceived):
            self._bufs[event.stream_id] = self._bufs.get(event.stream_id, b"") + event.data
            if event.end_stream:
                w = self._waiters.pop(event.stream_id, None)
                if w and not w.done():
                    w.set_result(self._bufs.pop(event.stream_id))
        elif isinstance(event, StreamReset):
            w = self._waiters.pop(event.stream_id, None)
            if w and not w.done():
                w.set_exception(ConnectionError("stream %d reset (%d)" % (event.stream_id, event.error_code)))

    async def query(self, name, qtype, rnd):
        msg = build_query(name, TYPES[qtype])
        sid = self._quic.get_next_available_stream_id()
        r = {"round": rnd, "name": name, "type": qtype, "stream_id": sid, "id": 0,
             "query_bytes": len(msg), "started": time.time()}
        fut = asyncio.get_running_loop().create_future()
        self._waiters[sid] = fut
        # the query, then the FIN (RFC 9250 4.2: the client MUST send the FIN after it)
        self._quic.send_stream_data(sid, struct.pack("!H", len(msg)) + msg, end_stream=True)
        self.transmit()
        data = await fut
        r["ended"] = time.time()
        n = struct.unpack("!H", data[:2])[0]
        resp = parse_message(data[2:2 + n])
        r.update(id=resp["id"], rcode=RCODES.get(resp["rcode"], str(resp["rcode"])),
                 answers=resp["answers"], authority=resp["authority"], response_bytes=n)
        return r


def parse_rounds(spec):
    rounds = []
    for part in spec.split(";"):
        qs = []
        for q in part.split(","):
            q = q.strip()
            if q:
                name, _, t = q.partition("/")
                t = (t or "A").upper()
                if t not in TYPES:
                    sys.exit("doq client: unknown type %s" % t)
                qs.append((name, t))
        if qs:
            rounds.append(qs)
    return rounds


async def client_main(args):
    rounds = parse_rounds(args.queries)
    cfg = QuicConfiguration(is_client=True, alpn_protocols=ALPN, server_name=args.host,
                            max_datagram_size=1350)
    cfg.load_verify_locations(args.ca)
    cfg.verify_mode = ssl.CERT_REQUIRED
    cfg.supported_versions = [VERSIONS[args.quic_version]]
    keylog = open(args.secrets_log, "a", buffering=1)
    cfg.secrets_log_file = keylog
    # The DoQ server's own address: a real lookup through the system resolver (a
    # "bootstrap" lookup over UDP, as DoQ stubs make); IPv6 first unless --ipv4.
    infos = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_DGRAM)
    infos.sort(key=lambda i: 0 if i[0] == socket.AF_INET6 and not args.ipv4 else 1)
    addr = infos[0][4][0]
    out = {"host": args.host, "server_addr": addr, "server_port": args.port, "queries": []}
    started = time.time()
    async with connect(addr, args.port, configuration=cfg, create_protocol=DoqClient,
                       wait_connected=True) as client:
        q = client._quic
        out["odcid"] = q.original_destination_connection_id.hex()
        out["quic_version"] = "0x%08x" % q._version
        out["alpn"] = q.tls.alpn_negotiated
        out["local_port"] = client._transport.get_extra_info("sockname")[1]
        for i, rnd in enumerate(rounds):
            res = await asyncio.wait_for(
                asyncio.gather(*(client.query(n, t, i) for n, t in rnd)), args.timeout)
            out["queries"] += res
        # DOQ_NO_ERROR (RFC 9250 4.3): the client is done
        client.close(error_code=0x0, reason_phrase="")
        await client.wait_closed()
    out["started"], out["ended"] = started, time.time()
    keylog.close()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print("doq client: %d queries answered: %s" % (
        len(out["queries"]), ", ".join("%s/%s %s" % (r["name"], r["type"], r["rcode"]) for r in out["queries"])))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--listen", action="append", required=True, help="address (repeatable)")
    s.add_argument("--port", type=int, default=853)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--zone", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--secrets-log")
    s.add_argument("--quic-versions", default="1,2")
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, default=853)
    c.add_argument("--ca", required=True)
    c.add_argument("--secrets-log", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--quic-version", choices=["1", "2"], default="1")
    c.add_argument("--ipv4", action="store_true", help="prefer IPv4 addresses")
    c.add_argument("--timeout", type=float, default=20)
    c.add_argument("--queries", default="www.lab.test/A;www.lab.test/AAAA,missing.lab.test/A,"
                                        "static.lab.test/AAAA,www.lab.test/HTTPS;www.lab.test/A")
    args = ap.parse_args()
    if args.role == "server":
        asyncio.run(server_main(args))
    else:
        sys.exit(asyncio.run(client_main(args)))


if __name__ == "__main__":
    main()
