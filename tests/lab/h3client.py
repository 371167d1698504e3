#!/usr/bin/env python3
"""A small HTTP/3 client on aioquic for pagetrace's recording lab.

Resolves the host with the system resolver (getaddrinfo: in the lab's client
namespace that is a real DNS lookup on the wire), opens ONE QUIC connection
and fetches the URLs on it, `--parallel` at a time, writing the TLS/QUIC
secrets to `--secrets-log` (SSLKEYLOGFILE format) and the client's view of
every request to `--out` (JSON).

    h3client.py --ca ca.crt --secrets-log keys.log --out client.json \
        [--quic-version 1|2] [--parallel 4] URL...

All URLs must share one origin (scheme https, one host and port).
--out fields: {"quic_version", "alpn", "server_addr", "server_port",
"local_port", "odcid", "requests": [{"url", "method", "stream_id", "status",
"headers", "body_bytes" (as received, i.e. still encoded), "started", "ended"
(unix seconds)}]}.
"""

import argparse
import asyncio
import json
import socket
import ssl
import sys
import time
from urllib.parse import urlparse

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent
from aioquic.quic.packet import QuicProtocolVersion


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.waiters = {}
        self.results = {}

    def quic_event_received(self, event: QuicEvent):
        for ev in self.http.handle_event(event):
            r = self.results.get(ev.stream_id)
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                for k, v in ev.headers:
                    k, v = k.decode("latin-1"), v.decode("latin-1")
                    if k == ":status":
                        r["status"] = int(v)
                    else:
                        r["headers"].append([k, v])
            elif isinstance(ev, DataReceived):
                r["body_bytes"] += len(ev.data)
            if getattr(ev, "stream_ended", False):
                r["ended"] = time.time()
                w = self.waiters.pop(ev.stream_id, None)
                if w and not w.done():
                    w.set_result(r)

    async def get(self, url, method="GET"):
        u = urlparse(url)
        sid = self._quic.get_next_available_stream_id()
        r = {"url": url, "method": method, "stream_id": sid, "status": None,
             "headers": [], "body_bytes": 0, "started": time.time(), "ended": None}
        self.results[sid] = r
        fut = asyncio.get_running_loop().create_future()
        self.waiters[sid] = fut
        self.http.send_headers(
            stream_id=sid,
            headers=[(b":method", method.encode()), (b":scheme", b"https"),
                     (b":authority", u.netloc.encode()),
                     (b":path", (u.path or "/").encode() + (b"?" + u.query.encode() if u.query else b"")),
                     (b"user-agent", b"pagetrace-lab-h3client aioquic"),
                     (b"accept-encoding", b"gzip, br")],
            end_stream=True)
        self.transmit()
        return await fut


async def run(args):
    origins = {(urlparse(u).hostname, urlparse(u).port or 443) for u in args.urls}
    if len(origins) != 1:
        sys.exit("h3client: all URLs must share one host and port")
    host, port = origins.pop()
    versions = {"1": QuicProtocolVersion.VERSION_1, "2": QuicProtocolVersion.VERSION_2}
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                            server_name=host, max_datagram_size=1350)
    cfg.load_verify_locations(args.ca)
    cfg.verify_mode = ssl.CERT_REQUIRED
    # QUIC v2 (RFC 9369): start in v2 directly (the server offers both).
    cfg.supported_versions = [versions[args.quic_version]]
    keylog = open(args.secrets_log, "a", buffering=1)
    cfg.secrets_log_file = keylog
    # A real lookup through the system resolver, before connect() (which would
    # do the same); IPv6 first when the zone has it, as browsers prefer.
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    infos.sort(key=lambda i: 0 if i[0] == socket.AF_INET6 and not args.ipv4 else 1)
    addr = infos[0][4][0]
    out = {"host": host, "server_addr": addr, "server_port": port, "requests": []}
    started = time.time()
    async with connect(addr, port, configuration=cfg, create_protocol=Client,
                       wait_connected=True) as client:
        q = client._quic
        out["odcid"] = q.original_destination_connection_id.hex()
        out["quic_version"] = "0x%08x" % q._version
        out["alpn"] = q.tls.alpn_negotiated
        out["local_port"] = client._transport.get_extra_info("sockname")[1]
        sem = asyncio.Semaphore(args.parallel)

        async def one(u):
            async with sem:
                return await asyncio.wait_for(client.get(u), args.timeout)

        out["requests"] = await asyncio.gather(*(one(u) for u in args.urls))
        client.close()
        await client.wait_closed()
    out["started"], out["ended"] = started, time.time()
    keylog.close()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    bad = [r for r in out["requests"] if r["status"] is None]
    print("h3client: %d requests, %d without a response" % (len(out["requests"]), len(bad)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--secrets-log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quic-version", choices=["1", "2"], default="1")
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--ipv4", action="store_true", help="prefer IPv4 addresses")
    args = ap.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
