#!/usr/bin/env python3
"""Compare pagetrace's HAR timings with Chromium's own (DevTools `Network` events).

    compare_timing.py HAR DEVTOOLS_JSON [--report JSON] [--json]

HAR is `pagetrace analyze CAPTURE --format har`; DEVTOOLS_JSON is the `devtools.json` that
`record.py --scenario browser` writes. Requests are matched by method and URL, in order.
Chromium's ResourceTiming is turned into HAR phases as DevTools' HAR export does:
dns = dnsEnd - dnsStart, connect = connectEnd - connectStart (TLS inside), ssl = sslEnd -
sslStart, send = sendEnd - sendStart, wait = receiveHeadersStart - sendEnd (the first byte
of the response head, as pagetrace's wait ends), receive = loadingFinished -
receiveHeadersStart; -1 where Chromium says -1. Prints one line per request and, per
phase, the median and the largest difference (pagetrace - Chromium) over the requests
where both have the phase; with --json, that summary as JSON. With --report (pagetrace's
`--format json` of the same capture), TLS 1.2 requests are split by whether the wire
showed False Start (the client's request left before the server's Finished): only those
show the handshake ending at the client's Finished, as Chromium stamps it whenever False
Start is allowed, even when its own request left later. Stdlib only.
"""
import json
import statistics
import sys

PHASES = ["dns", "connect", "ssl", "send", "wait", "receive"]


def chromium_phases(r):
    t = r.get("timing") or {}
    if not t:
        return None

    def span(a, b):
        if t.get(a, -1) is None or t.get(a, -1) < 0 or t.get(b, -1) < 0:
            return None
        return t[b] - t[a]

    head = t.get("receiveHeadersStart", -1)
    if head is None or head < 0:
        head = t.get("receiveHeadersEnd", -1)
    p = {
        "dns": span("dnsStart", "dnsEnd"),
        "connect": span("connectStart", "connectEnd"),
        "ssl": span("sslStart", "sslEnd"),
        "send": span("sendStart", "sendEnd"),
        "wait": (head - t["sendEnd"]) if head >= 0 and t.get("sendEnd", -1) >= 0 else None,
        "receive": None,
    }
    fin = r.get("finished_timestamp")
    if fin is not None and head >= 0:
        p["receive"] = (fin - t["requestTime"]) * 1000.0 - head
    return p


def waited_for_server_finished(report_path):
    """URLs of TLS 1.2 requests whose connection sent no data before the server's Finished."""
    if report_path is None:
        return set()
    report = json.load(open(report_path))
    urls = set()
    for c in report["connections"]:
        t = c.get("tls") or {}
        if t.get("version") == "TLS 1.2" and not t.get("resumed") and not t.get("false_start"):
            urls.update(h["url"] for h in c.get("http") or [])
    return urls


def main():
    argv = sys.argv[1:]
    report_path = None
    if "--report" in argv:
        i = argv.index("--report")
        report_path = argv[i + 1]
        del argv[i:i + 2]
    args = [a for a in argv if not a.startswith("--")]
    har = json.load(open(args[0]))
    dev = json.load(open(args[1]))
    entries = har["log"]["entries"]
    waited = waited_for_server_finished(report_path)
    used = [False] * len(entries)
    diffs = {p: [] for p in PHASES}
    rows = []
    for r in dev["requests"]:
        c = chromium_phases(r)
        if c is None or r.get("from_disk_cache"):
            continue
        i = next((i for i, e in enumerate(entries) if not used[i]
                  and e["request"]["method"] == r["method"] and e["request"]["url"] == r["url"]), None)
        if i is None:
            rows.append((r["url"], None, c))
            continue
        used[i] = True
        t = entries[i]["timings"]
        ours = {p: (t.get(p) if t.get(p, -1) >= 0 else None) for p in PHASES}
        for p in PHASES:
            if ours[p] is not None and c[p] is not None:
                diffs[p].append(ours[p] - c[p])
        rows.append((r["url"], ours, c))
    summary = {p: {"n": len(d), "median": statistics.median(d) if d else None,
                   "max_abs": max((abs(x) for x in d), default=None)} for p, d in diffs.items()}
    # Per lookup: Chromium counts a request's DNS from when that request began waiting, so
    # requests that joined a lookup already in flight report less of it; the first one to
    # wait (the longest) is compared with the lookup pagetrace saw (the same on every
    # connection that carries it).
    lookups = {}
    for url, o, c in rows:
        if o is None or o["dns"] is None or c["dns"] is None:
            continue
        key = (url.split("/")[2], round(o["dns"], 3))
        lookups[key] = (o["dns"], max(c["dns"], lookups.get(key, (0, -1))[1]))
    d = [o - c for o, c in lookups.values()]
    summary["dns_per_lookup"] = {"n": len(d), "median": statistics.median(d) if d else None,
                                 "max_abs": max((abs(x) for x in d), default=None)}
    # Per origin, from the lookup to the connection's handshake end: the request that waited
    # longest on each side (dns + connect, which holds the ssl). Chromium counts a request's
    # connect from when that request began waiting, and ends its lookup once it has handled
    # every answer (A, AAAA, HTTPS) with its own CPU time, so its per-request line between
    # dns and connect moves by milliseconds; the lookup's start and the handshake's end do
    # not.
    setup = {}
    for url, o, c in rows:
        if o is None or o["connect"] is None or c["connect"] is None or url in waited:
            continue
        key = "/".join(url.split("/")[:3])
        ours = (o["dns"] or 0) + o["connect"]
        theirs = (c["dns"] or 0) + c["connect"]
        a, b = setup.get(key, (0, 0))
        setup[key] = (max(a, ours), max(b, theirs))
    d = [o - c for o, c in setup.values()]
    summary["setup_per_origin"] = {"n": len(d), "median": statistics.median(d) if d else None,
                                   "max_abs": max((abs(x) for x in d), default=None)}
    # TLS 1.2 connections (False Start): every one's ssl, and its connect (which holds the
    # ssl in a HAR) for the test's bound: where Chromium draws the line between the TCP
    # connect and the TLS handshake moves with its own CPU time (it builds its key shares
    # after the SYN/ACK), the handshake's end does not.
    tls12 = [(url, o, c) for url, o, c in rows
             if o is not None and o["ssl"] is not None and c["ssl"] is not None
             and url.startswith("https://static.")]
    summary["tls12_ssl"] = [o["ssl"] - c["ssl"] for url, o, c in tls12 if url not in waited]
    # Chromium was allowed False Start here but its request left after the server's
    # Finished: the wire shows the client waiting for it, Chromium does not.
    summary["tls12_ssl_waited"] = [o["ssl"] - c["ssl"] for url, o, c in tls12 if url in waited]
    summary["unmatched"] = sum(1 for r in rows if r[1] is None)
    # Decoded body sizes: the HAR's content.size against Chromium's dataLength (the bytes it
    # handed the page, after Content-Encoding), for every finished response with a body.
    sizes = []
    used = [False] * len(entries)
    for r in dev["requests"]:
        if r.get("from_disk_cache") or not r.get("finished") or r.get("status") in (None, 204, 301, 302, 304):
            continue
        i = next((i for i, e in enumerate(entries) if not used[i]
                  and e["request"]["method"] == r["method"] and e["request"]["url"] == r["url"]), None)
        if i is None:
            continue
        used[i] = True
        ours = entries[i]["response"]["content"]["size"]
        if ours != r.get("data_length"):
            sizes.append([r["url"], ours, r.get("data_length")])
    summary["sizes_compared"] = sum(used)
    summary["size_mismatches"] = sizes
    # Phases one side has and the other lacks (a lookup on one connection only, ...). A
    # phase of no time is the same as none: Chromium stamps a lookup its host cache
    # answered as dns 0.0 where the HAR has none (the connection did not wait for it).
    def one_sided(a, b):
        return (a is None and b is not None and b >= 0.05) or (b is None and a is not None and a >= 0.05)
    summary["one_sided"] = {p: sum(1 for _, o, c in rows if o is not None and one_sided(o[p], c[p]))
                            for p in PHASES}
    if "--json" in sys.argv:
        print(json.dumps(summary))
        return
    fmt = lambda v: "   -   " if v is None else "%7.1f" % v
    print("%-45s %s" % ("url", " ".join("%15s" % p for p in PHASES)))
    for url, o, c in rows:
        if o is None:
            print("%-45s not in the HAR" % url[-45:])
            continue
        print("%-45s %s" % (url[-45:], " ".join("%s/%s" % (fmt(o[p]), fmt(c[p])) for p in PHASES)))
    print("pagetrace/chromium ms; median (max) of pagetrace - chromium:")
    for p in PHASES:
        s = summary[p]
        print("  %-8s n=%2d median %s max %s  one-sided %d" % (
            p, s["n"], fmt(s["median"]), fmt(s["max_abs"]), summary["one_sided"][p]))


if __name__ == "__main__":
    main()
