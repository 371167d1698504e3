#!/usr/bin/env python3
"""check.py - check a lab recording with tshark against what the servers logged.

    tests/lab/check.py DIR [--json]

Reads DIR/capture.pcapng (keys embedded) with tshark, and DIR/capture.pcap
with `-o tls.keylog_file:DIR/keys.log`, and compares with DIR/manifest.json
(the servers' view) and DIR/devtools.json or DIR/client.json (the client's).
Prints one line per check and exits 1 if any failed.  Stdlib + tshark only.

Checks (each only where it applies to the recording):
  dns        the capture has DNS queries and answers for the lab names
  tcp        TCP connections (SYNs) to :80 / :443 when the servers saw h1/h2
  quic       QUIC Initials from the client to :443 when the servers saw h3,
             in the QUIC version the manifest says
  tls13/12   ServerHellos of each TLS version the servers logged
  h1         decrypted HTTP/1.1 responses == requests nginx logged as h1
  h2         decrypted HTTP/2 response HEADERS frames == nginx's h2 requests
  h3         decrypted HTTP/3 response HEADERS frames == aioquic's requests
  keys.log   the same h2/h3 counts from capture.pcap + keys.log (not the DSB)
  client     the client's h3/h2/h1 request counts == the servers' (devtools
             response.protocol for Chromium, client.json for aioquic)
  doq        (--scenario doq; tshark decodes :853 as QUIC, `-d
             udp.port==853,quic`, then its DNS-over-QUIC dissector the
             streams) client Initials to :853 in the logged QUIC version;
             per client-initiated bidirectional stream the query (name,
             type) and the answer (name, type, rcode) == what the DoQ server
             logged on that stream, every answer address logged; the same
             from capture.pcap + keys.log; client.json's answered queries
             == the server's count
"""

import json
import os
import subprocess
import sys

FIELDS = ["frame.number", "ip.src", "ipv6.src", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "tcp.flags.syn", "tcp.flags.ack", "quic.long.packet_type", "quic.long.packet_type_v2", "quic.version", "http2.type",
          "http3.frame_type", "http.response.code", "dns.qry.name", "dns.flags.response",
          "tls.handshake.type", "tls.handshake.extensions.supported_version", "tcp.analysis.ack_rtt",
          "quic.stream.stream_id", "dns.qry.type", "dns.flags.rcode", "dns.a", "dns.aaaa"]
DOQ_PORT = "853"


def tshark(pcap, extra=()):
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE"] + list(extra) + ["-T", "fields", "-E", "separator=\t",
                                                                     "-E", "occurrence=a", "-E", "aggregator=,"]
                       + sum((["-e", f] for f in FIELDS), []),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("tshark failed: %s" % r.stderr.strip())
    rows = []
    for line in r.stdout.splitlines():
        parts = line.split("\t")
        parts += [""] * (len(FIELDS) - len(parts))
        rows.append({f: (v.split(",") if v else []) for f, v in zip(FIELDS, parts)})
    return rows


def first(row, f):
    return row[f][0] if row[f] else ""


def stats(rows):
    s = {"syn80": 0, "syn443": 0, "quic_initials": 0, "quic_versions": set(), "h2_resp_headers": 0,
         "h2_req_headers": 0, "h3_resp_headers": 0, "h3_req_headers": 0, "h1_responses": 0,
         "dns_lab_queries": 0, "dns_lab_answers": 0, "tls13_server_hellos": 0, "tls12_server_hellos": 0,
         "synack_rtts_ms": [], "doq_initials": 0, "doq_versions": set(), "doq_client_streams": set(),
         "doq_server_streams": set(), "doq_messages": set(), "doq_addrs": set(), "doq_unpaired": 0}
    for r in rows:
        tsp, tdp = first(r, "tcp.srcport"), first(r, "tcp.dstport")
        usp, udp = first(r, "udp.srcport"), first(r, "udp.dstport")
        if first(r, "tcp.flags.syn") in ("1", "True") and first(r, "tcp.flags.ack") in ("0", "False"):
            if tdp == "80":
                s["syn80"] += 1
            elif tdp == "443":
                s["syn443"] += 1
        # Initial: type 0 in QUIC v1, 1 in v2 (RFC 9369), a separate tshark field
        if first(r, "tcp.flags.syn") in ("1", "True") and first(r, "tcp.flags.ack") in ("1", "True") \
                and r["tcp.analysis.ack_rtt"]:
            s["synack_rtts_ms"].append(round(float(r["tcp.analysis.ack_rtt"][0]) * 1000, 3))
        if udp == "443" and ("0" in r["quic.long.packet_type"] or "1" in r["quic.long.packet_type_v2"]):
            s["quic_initials"] += 1
            for v in r["quic.version"]:
                s["quic_versions"].add(v)
        if udp == DOQ_PORT and ("0" in r["quic.long.packet_type"] or "1" in r["quic.long.packet_type_v2"]):
            s["doq_initials"] += 1
            s["doq_versions"].update(r["quic.version"])
        # client-initiated bidirectional streams (id % 4 == 0): one DoQ query each
        if DOQ_PORT in (usp, udp):
            sids = [int(x, 0) for x in r["quic.stream.stream_id"] if int(x, 0) % 4 == 0]
            s["doq_client_streams" if udp == DOQ_PORT else "doq_server_streams"].update(sids)
            resp = [x in ("1", "True") for x in r["dns.flags.response"]]
            if resp:
                rcodes = iter(r["dns.flags.rcode"])
                if len(resp) == len(sids) == len(r["dns.qry.name"]) == len(r["dns.qry.type"]):
                    for sid, is_resp, name, qtype in zip(sids, resp, r["dns.qry.name"], r["dns.qry.type"]):
                        s["doq_messages"].add((sid, is_resp, name, int(qtype), int(next(rcodes, "-1")) if is_resp else None))
                else:
                    s["doq_unpaired"] += 1
                s["doq_addrs"].update(r["dns.a"] + r["dns.aaaa"])
        ftypes = r["http2.type"]
        if ftypes:
            n = sum(1 for t in ftypes if t == "1")
            s["h2_resp_headers" if tsp == "443" else "h2_req_headers"] += n
        h3 = r["http3.frame_type"]
        if h3:
            n = sum(1 for t in h3 if t in ("1", "0x01", "0x0000000000000001"))
            s["h3_resp_headers" if usp == "443" else "h3_req_headers"] += n
        if tsp in ("80", "443"):
            s["h1_responses"] += len(r["http.response.code"])
        names = [n for n in r["dns.qry.name"] if n.endswith("lab.test")]
        if names:
            s["dns_lab_answers" if first(r, "dns.flags.response") in ("1", "True") else "dns_lab_queries"] += 1
        if "2" in r["tls.handshake.type"]:
            if "0x0304" in r["tls.handshake.extensions.supported_version"]:
                s["tls13_server_hellos"] += 1
            else:
                s["tls12_server_hellos"] += 1
    s["quic_versions"] = sorted(s["quic_versions"])
    s["doq_versions"] = sorted(s["doq_versions"])
    for k in ("doq_client_streams", "doq_server_streams", "doq_addrs"):
        s[k] = sorted(s[k])
    s["doq_messages"] = sorted(s["doq_messages"], key=lambda m: (m[0], m[1]))
    return s


def client_counts(d):
    """-> ({protocol: n}, source) from devtools.json or client.json"""
    dv = os.path.join(d, "devtools.json")
    if os.path.exists(dv):
        dev = json.load(open(dv))
        c = {}
        for r in dev["requests"]:
            if r.get("status") is None or r.get("from_disk_cache") or r.get("served_from_cache"):
                continue
            p = {"http/1.1": "h1", "h2": "h2", "h3": "h3"}.get(r.get("protocol"), r.get("protocol"))
            c[p] = c.get(p, 0) + 1
        return c, "devtools.json (response.protocol)"
    cj = os.path.join(d, "client.json")
    if os.path.exists(cj):
        runs = json.load(open(cj))["runs"]
        if runs and "queries" in runs[0]:
            return {"doq": sum(len([q for q in run["queries"] if q.get("rcode")]) for run in runs)}, "client.json"
        n = sum(len([q for q in run["requests"] if q["status"] is not None]) for run in runs)
        return {"h3": n}, "client.json"
    return None, None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        raise SystemExit(__doc__)
    d = args[0]
    m = json.load(open(os.path.join(d, "manifest.json")))
    want = {}
    for r in m["requests"]:
        want[r["protocol"]] = want.get(r["protocol"], 0) + 1
    tls = {r["tls_version"] for r in m["requests"] if r.get("tls_version") and r["protocol"] != "h3"}
    doq = (m.get("doq") or {}).get("queries") or []
    # tshark 4.0 has no DoQ dissector: decode :853 as QUIC to see its streams
    dec = ["-d", "udp.port==%s,quic" % DOQ_PORT] if m["scenario"] == "doq" else []
    s = stats(tshark(os.path.join(d, "capture.pcapng"), dec))
    k = stats(tshark(os.path.join(d, "capture.pcap"), dec + ["-o", "tls.keylog_file:" + os.path.join(d, "keys.log")]))
    results = []
    relay = m.get("relay")
    # With packets lost on the way, tshark 4.0 does not always reassemble
    # what follows a hole in a TCP stream: then "at least one, at most the
    # servers' count" instead of "equal".
    lossy = bool(relay) and (sum(relay["lost"].values()) + sum(relay["dropped_by_rule"].values())) > 0

    def check(name, ok, detail):
        results.append((name, bool(ok), detail))

    def same(n, logged):
        return 0 < n <= logged if lossy else n == logged

    check("dns", s["dns_lab_queries"] > 0 and s["dns_lab_answers"] > 0,
          "%d queries, %d answers for *.lab.test" % (s["dns_lab_queries"], s["dns_lab_answers"]))
    if want.get("h1") or want.get("h2"):
        check("tcp", s["syn443"] + s["syn80"] > 0, "SYNs: %d to :80, %d to :443" % (s["syn80"], s["syn443"]))
    if want.get("h3"):
        qv = {r.get("quic_version") for r in m["requests"] if r["protocol"] == "h3"}
        qv_ts = {"0x%08x" % int(v, 16) if v.startswith("0x") else "0x%08x" % int(v) for v in s["quic_versions"]}
        check("quic", s["quic_initials"] > 0 and qv <= qv_ts,
              "%d client Initials, versions in capture %s, servers logged %s"
              % (s["quic_initials"], sorted(qv_ts), sorted(qv)))
    if "TLSv1.3" in tls:
        check("tls13", s["tls13_server_hellos"] > 0, "%d TLS 1.3 ServerHellos" % s["tls13_server_hellos"])
    if "TLSv1.2" in tls:
        check("tls12", s["tls12_server_hellos"] > 0, "%d TLS 1.2 ServerHellos" % s["tls12_server_hellos"])
    if want.get("h1"):
        check("h1", same(s["h1_responses"], want["h1"]),
              "%d HTTP/1.1 responses decoded, nginx logged %d" % (s["h1_responses"], want["h1"]))
    if want.get("h2"):
        check("h2", same(s["h2_resp_headers"], want["h2"]),
              "%d HTTP/2 response HEADERS decrypted (%d request HEADERS), nginx logged %d"
              % (s["h2_resp_headers"], s["h2_req_headers"], want["h2"]))
    if want.get("h3"):
        check("h3", same(s["h3_resp_headers"], want["h3"]),
              "%d HTTP/3 response HEADERS decrypted (%d request HEADERS), aioquic logged %d"
              % (s["h3_resp_headers"], s["h3_req_headers"], want["h3"]))
    if want.get("h2") or want.get("h3"):
        check("keys.log", k["h2_resp_headers"] == s["h2_resp_headers"] and k["h3_resp_headers"] == s["h3_resp_headers"],
              "capture.pcap + keys.log: %d h2, %d h3 response HEADERS" % (k["h2_resp_headers"], k["h3_resp_headers"]))
    delay = m["options"].get("delay_ms") or 0
    if s["synack_rtts_ms"]:
        # the smallest: a connection's first SYN may wait for ARP/NDP (one more round trip)
        rtts = sorted(s["synack_rtts_ms"])
        if delay:
            check("rtt", delay <= rtts[0] <= delay + 15,
                  "smallest SYN -> SYN/ACK %.1f ms with --delay %g (%d handshakes)" % (rtts[0], delay, len(rtts)))
    if relay:
        for rule in relay.get("rules", []):
            expect = len([w for w in rule["which"] if w <= rule["matched"]])
            check("drop", len(rule["dropped"]) == expect,
                  "%r matched %d, dropped %s" % (rule["spec"], rule["matched"], rule["dropped"]))
    if m["scenario"] == "h3" and (m.get("client") or {}).get("client") == "chromium":
        h3r = [r for r in m["requests"] if r["protocol"] == "h3"]
        doc = [r for r in m["requests"] if r["path"] == "/" and r["status"] == 200]
        feats = {"301 over h1": any(r["status"] == 301 and r["protocol"] == "h1" for r in m["requests"]),
                 "first document over h2": bool(doc) and doc[0]["protocol"] == "h2",
                 "h3 404": any(r["status"] == 404 for r in h3r),
                 "h3 gzip body": any(r["content_encoding"] == "gzip" for r in h3r),
                 "h3 body >= 1 MiB": any(r["body_bytes_wire"] >= 1 << 20 for r in h3r),
                 ">= 5 h3 requests on one connection": max(
                     [sum(1 for r in h3r if r["connection"] == c) for c in {r["connection"] for r in h3r}] or [0]) >= 5}
        check("journey", all(feats.values()),
              ", ".join(("" if v else "NOT ") + k for k, v in feats.items()))
    if m["scenario"] == "doq":
        qv = {q.get("quic_version") for q in doq}
        vs = {"0x%08x" % int(v, 0) for v in s["doq_versions"]}
        check("quic", s["doq_initials"] > 0 and qv <= vs,
              "%d client Initials to :%s, versions in capture %s, server logged %s"
              % (s["doq_initials"], DOQ_PORT, sorted(vs), sorted(qv)))
        logged = sorted(q["stream_id"] for q in doq)
        qtypes = {"A": 1, "AAAA": 28, "HTTPS": 65, "SVCB": 64, "TXT": 16, "MX": 15, "NS": 2, "SOA": 6, "CNAME": 5}
        rcodes = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}
        want_msgs = []
        for q in doq:
            t = qtypes.get(q["type"], q["type"])
            want_msgs += [(q["stream_id"], False, q["name"], t, None),
                          (q["stream_id"], True, q["name"], t, rcodes.get(q["rcode"], q["rcode"]))]
        want_msgs.sort(key=lambda m: (m[0], m[1]))
        want_addrs = sorted({a["value"] for q in doq for a in q["answers"]})
        check("doq", bool(doq) and s["doq_client_streams"] == logged and s["doq_server_streams"] == logged,
              "client streams %s, server streams %s decrypted; the DoQ server logged %d queries on %s"
              % (s["doq_client_streams"], s["doq_server_streams"], len(doq), logged))
        bad = [m for m in want_msgs if m not in s["doq_messages"]] + \
              [m for m in s["doq_messages"] if m not in want_msgs]
        check("doq dns", not bad and s["doq_addrs"] == want_addrs and not s["doq_unpaired"],
              "%d DNS messages on %d streams as the server logged (questions, rcodes), answers %s%s%s"
              % (len(s["doq_messages"]), len(logged), s["doq_addrs"],
                 "; differ: %s" % bad if bad else "",
                 "; %d packets not attributed" % s["doq_unpaired"] if s["doq_unpaired"] else ""))
        check("keys.log", k["doq_client_streams"] == s["doq_client_streams"]
              and k["doq_server_streams"] == s["doq_server_streams"] and k["doq_messages"] == s["doq_messages"],
              "capture.pcap + keys.log: client streams %s, server streams %s, %d DNS messages"
              % (k["doq_client_streams"], k["doq_server_streams"], len(k["doq_messages"])))
    cc, src = client_counts(d)
    if cc is not None and "doq" in cc:
        check("client doq", cc["doq"] == len(doq),
              "%s says %d queries answered, the DoQ server logged %d" % (src, cc["doq"], len(doq)))
    elif cc is not None:
        ok = cc.get("h3", 0) == want.get("h3", 0) and (cc.get("h3", 0) > 0 or m["scenario"] != "h3")
        check("client h3", ok, "%s says h3=%d, servers logged h3=%d" % (src, cc.get("h3", 0), want.get("h3", 0)))
        for p in ("h2", "h1"):
            if cc.get(p, 0) or want.get(p, 0):
                check("client " + p, cc.get(p, 0) == want.get(p, 0),
                      "%s says %s=%d, servers logged %d" % (src, p, cc.get(p, 0), want.get(p, 0)))
    if lossy:
        results.append(("note", True, "packets were lost/dropped: h1/h2/h3 frame counts need only be 1..logged"))
    failed = [r for r in results if not r[1]]
    if "--json" in sys.argv:
        print(json.dumps({"dir": d, "ok": not failed, "checks": [{"name": n, "ok": o, "detail": t} for n, o, t in results],
                          "capture": s}, indent=1))
    else:
        for n, o, t in results:
            print("  %-4s %-10s %s" % ("ok" if o else "FAIL", n, t))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
