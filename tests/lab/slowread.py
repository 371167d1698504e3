#!/usr/bin/env python3
"""slowread.py - an HTTPS client that reads slowly through a small receive buffer.

    slowread.py --ca CA.crt [--read-delay-ms MS] [--rcvbuf BYTES] URL...

Fetches each URL in turn over one TLS connection per host (HTTP/1.1 keep-alive, ALPN
http/1.1), with SO_RCVBUF set before connecting, reading the response 4 KiB at a time with
--read-delay-ms between reads: the kernel's receive buffer fills, the client advertises a
zero window, and the server stops until the reader makes room.  The key log goes to
$SSLKEYLOGFILE.  Prints one line per response: URL, status, body bytes.  Stdlib only.
"""

import argparse
import os
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit


def read_response(tls, delay):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = tls.recv(4096)
        if not chunk:
            raise SystemExit("slowread.py: the server closed before the response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        time.sleep(delay)
        chunk = tls.recv(min(4096, length - len(body)))
        if not chunk:
            break
        body += chunk
    return status, len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--read-delay-ms", type=int, default=40)
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("urls", nargs="+")
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(["http/1.1"])
    if os.environ.get("SSLKEYLOGFILE"):
        ctx.keylog_filename = os.environ["SSLKEYLOGFILE"]
    conns = {}
    for url in a.urls:
        u = urlsplit(url)
        host, port = u.hostname, u.port or 443
        if (host, port) not in conns:
            addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            s = socket.socket(addr[0], socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
            s.connect(addr[4])
            conns[(host, port)] = ctx.wrap_socket(s, server_hostname=host)
        tls = conns[(host, port)]
        path = u.path or "/"
        tls.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: slowread.py\r\n"
                     "Accept-Encoding: identity\r\n\r\n" % (path, host)).encode())
        status, n = read_response(tls, a.read_delay_ms / 1000.0)
        print("%s %d %d" % (url, status, n), flush=True)
    for tls in conns.values():
        tls.close()


if __name__ == "__main__":
    sys.exit(main())
