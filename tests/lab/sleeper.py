#!/usr/bin/env python3
"""sleeper.py - the lab's slow application server: nginx hands it /sleep/N (record.py's
nginx config) and it answers after sleeping N milliseconds, so a recording holds a server
think time known in advance (tests/lab_diagnosis.rs).

usage: sleeper.py --listen ADDR --port PORT

GET /sleep/N answers 200 text/plain after N ms (at most 10 s); anything else 404.
Every request is one line on standard output: {"path", "slept_ms"}.
"""
import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sleeper(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        ms = None
        if len(parts) == 2 and parts[0] == "sleep" and parts[1].isdigit():
            ms = min(int(parts[1]), 10_000)
        if ms is None:
            body, status = b"not found\n", 404
        else:
            start = time.monotonic()
            time.sleep(ms / 1000)
            body, status = ("slept %d ms\n" % ms).encode(), 200
            print(json.dumps({"path": self.path, "slept_ms": (time.monotonic() - start) * 1000}),
                  flush=True)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.listen, a.port), Sleeper)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
