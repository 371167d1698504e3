#!/usr/bin/env python3
"""Compare pagetrace's HAR timings with Chromium's own (DevTools `Network` events).

    compare_timing.py HAR DEVTOOLS_JSON [--json]

HAR is `pagetrace analyze CAPTURE --format har`; DEVTOOLS_JSON is the `devtools.json` that
`record.py --scenario browser` writes. Requests are matched by method and URL, in order.
Chromium's ResourceTiming is turned into HAR phases as DevTools' HAR export does:
dns = dnsEnd - dnsStart, connect = connectEnd - connectStart (TLS inside), ssl = sslEnd -
sslStart, send = sendEnd - sendStart, wait = receiveHeadersStart - sendEnd (the first byte
of the response head, as pagetrace's wait ends), receive = loadingFinished -
receiveHeadersStart; -1 where Chromium says -1. Prints one line per request and, per
phase, the median and the largest difference (pagetrace - Chromium) over the requests
where both have the phase; with --json, that summary as JSON. Stdlib only.
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


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    har = json.load(open(args[0]))
    dev = json.load(open(args[1]))
    entries = har["log"]["entries"]
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
    # TLS 1.2 connections: every one's ssl (the 5 ms bound).
    summary["tls12_ssl"] = [o["ssl"] - c["ssl"] for url, o, c in rows
                            if o is not None and o["ssl"] is not None and c["ssl"] is not None
                            and url.startswith("https://static.")]
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
    # Phases one side has and the other lacks (a lookup on one connection only, ...).
    summary["one_sided"] = {p: sum(1 for _, o, c in rows if o is not None and (o[p] is None) != (c[p] is None))
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
