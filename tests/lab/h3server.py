#!/usr/bin/env python3
"""A small HTTP/3 server on aioquic for pagetrace's recording lab.

Serves files from per-host document roots and writes one JSON line per request
(what the server really sent) so that record.py can build its manifest from the
server's view, not from what the client meant to do.

    h3server.py --listen 10.77.0.2 --listen fd77::2 --port 443 \
        --cert chain.pem --key key.pem --site site.json \
        --log requests.jsonl --secrets-log server-keys.log

site.json: {"hosts": {"www.lab.test": {"root": DIR, "files": {PATH: RULE}}}}
where RULE is {"file": NAME, "type": MIME, "encoding": "gzip"|null,
"headers": [[k, v], ...]}; a PATH not in "files" is looked up under root (a
plain file, content type from its extension) and otherwise answered 404.

Log line fields: time (unix seconds), server "aioquic", protocol "h3",
http_version "HTTP/3", tls_version "TLSv1.3", alpn, quic_version (hex),
tls_cipher, client_addr, client_port, server_addr, server_port, odcid (the client's
original destination connection id, hex), scid (the server's connection id:
the destination connection id of the client's short-header packets), stream_id,
method, host (:authority without port), path, status, content_type,
content_encoding, body_bytes_sent (bytes of the body as sent, i.e. encoded),
body_decoded_bytes, request_body_bytes, user_agent.  A line with
"event": "connection_closed" is written when a connection ends.

Stdlib + aioquic only.  Ends on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import mimetypes
import os
import sys
import time

from aioquic.asyncio import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.events import ConnectionTerminated, ProtocolNegotiated

from quiclab import addr_of, cipher_name, log, open_log, serve_until_signalled, server_config

SITE = {}


def lookup(host, path):
    """-> (status, headers, body, decoded_size, content_type, encoding)"""
    site = SITE["hosts"].get(host)
    path = path.split("?", 1)[0]
    if site is None:
        return 421, [], b"misdirected request\n", None, "text/plain", None
    rule = site.get("files", {}).get(path)
    if rule is None and path.endswith("/"):
        rule = site.get("files", {}).get(path + "index.html")
    if rule is not None:
        fname = os.path.join(site["root"], rule["file"])
        ctype = rule.get("type") or "application/octet-stream"
        enc = rule.get("encoding")
        extra = [tuple(h) for h in rule.get("headers", [])]
        decoded = rule.get("decoded_size")
    else:
        rel = os.path.normpath(path.lstrip("/"))
        if rel.startswith("..") or rel == ".":
            rel = "index.html"
        fname = os.path.join(site["root"], rel)
        ctype = mimetypes.guess_type(fname)[0] or "application/octet-stream"
        enc, extra, decoded = None, [], None
    try:
        with open(fname, "rb") as f:
            body = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        nf = site.get("not_found")
        body = nf.encode() if nf else b"not found\n"
        return 404, [], body, len(body), "text/html", None
    if decoded is None:
        decoded = len(body)
    headers = [("content-type", ctype)]
    if enc:
        headers.append(("content-encoding", enc))
    headers += extra
    return 200, headers, body, decoded, ctype, enc


class H3Server(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http = None
        self._requests = {}  # stream_id -> dict(headers, body_len)
        self._count = 0

    def _conn_info(self):
        q = self._quic
        try:
            client = addr_of(q._network_paths[0].addr)
        except (IndexError, AttributeError):
            client = (None, None)
        server = self._transport.get_extra_info("sockname") if self._transport else None
        return {
            "client_addr": client[0],
            "client_port": client[1],
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
        if isinstance(event, ProtocolNegotiated):
            if event.alpn_protocol in H3_ALPN:
                self._http = H3Connection(self._quic)
        elif isinstance(event, ConnectionTerminated):
            rec = {"time": time.time(), "event": "connection_closed", "server": "aioquic",
                   "error_code": event.error_code, "reason": event.reason_phrase,
                   "requests": self._count}
            rec.update(self._conn_info())
            log(rec)
        if self._http is not None:
            for ev in self._http.handle_event(event):
                self.http_event(ev)

    def http_event(self, ev):
        if isinstance(ev, HeadersReceived):
            self._requests[ev.stream_id] = {"headers": ev.headers, "body": 0}
            if ev.stream_ended:
                self.respond(ev.stream_id)
        elif isinstance(ev, DataReceived):
            r = self._requests.get(ev.stream_id)
            if r is not None:
                r["body"] += len(ev.data)
                if ev.stream_ended:
                    self.respond(ev.stream_id)

    def respond(self, stream_id):
        """Answers now, or for /sleep/N (as sleeper.py behind nginx) after N ms."""
        req = self._requests.pop(stream_id)
        h = {}
        for k, v in req["headers"]:
            h.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        parts = h.get(":path", "/").split("?", 1)[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "sleep" and parts[1].isdigit():
            delay = min(int(parts[1]), 10_000) / 1000
            asyncio.get_event_loop().call_later(delay, self.respond_now, stream_id, req, h)
        else:
            self.respond_now(stream_id, req, h)

    def respond_now(self, stream_id, req, h):
        method = h.get(":method", "GET")
        authority = h.get(":authority", "")
        host = authority.rsplit(":", 1)[0] if not authority.startswith("[") else authority
        path = h.get(":path", "/")
        if path.startswith("/sleep/"):
            body = ("slept %s ms\n" % path.split("/")[2]).encode()
            status, headers, decoded, ctype, enc = 200, [("content-type", "text/plain")], len(body), \
                "text/plain", None
        else:
            status, headers, body, decoded, ctype, enc = lookup(host, path)
        if method == "HEAD":
            send_body = b""
        else:
            send_body = body
        hdrs = [(b":status", str(status).encode()), (b"server", b"pagetrace-lab-h3")]
        hdrs += [(k.encode(), v.encode()) for k, v in headers]
        hdrs.append((b"content-length", str(len(body)).encode()))
        hdrs += [(k.encode(), v.encode()) for k, v in SITE.get("common_headers", [])]
        self._http.send_headers(stream_id=stream_id, headers=hdrs, end_stream=not send_body)
        if send_body:
            self._http.send_data(stream_id=stream_id, data=send_body, end_stream=True)
        self.transmit()
        self._count += 1
        rec = {"time": time.time(), "server": "aioquic", "protocol": "h3",
               "http_version": "HTTP/3", "tls_version": "TLSv1.3",
               "stream_id": stream_id, "method": method, "host": host, "path": path,
               "status": status, "content_type": ctype, "content_encoding": enc,
               "body_bytes_sent": len(send_body),
               "body_decoded_bytes": decoded if send_body else 0,
               "request_body_bytes": req["body"],
               "user_agent": h.get("user-agent"), "conn_request": self._count}
        rec.update(self._conn_info())
        log(rec)


async def main():
    global SITE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", action="append", required=True, help="address (repeatable)")
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--secrets-log")
    ap.add_argument("--quic-versions", default="1,2",
                    help="versions offered, comma separated: 1 (RFC 9000), 2 (RFC 9369)")
    args = ap.parse_args()
    with open(args.site) as f:
        SITE = json.load(f)
    open_log(args.log)
    cfg = server_config(H3_ALPN, args.cert, args.key, args.secrets_log, args.quic_versions)
    await serve_until_signalled(args.listen, args.port, cfg, H3Server)


if __name__ == "__main__":
    asyncio.run(main())
