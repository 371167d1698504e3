//! `pagetrace diff`: the comparison of two page loads (library and binary).
//!
//! Reports are built in code where exact values matter; the committed fixtures check that a
//! capture diffed with itself (or with its own saved JSON) shows no deltas, whatever the
//! dissectors find in it. Table output is compared with plain-text snapshots in
//! `tests/snapshots/diff/`; `UPDATE_SNAPSHOTS=1 cargo test --test diff` rewrites them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

use pagetrace::diff::{self, Diff, DiffOptions, DiffTableOptions, Num, SortBy};
use pagetrace::pageload::model::{
    ClientBy, CloseKind, Connection, DelayKind, DnsQuestion, DnsTransaction, DnsTransport,
    HttpExchange, QuicConnection, Report, Side, TcpClose, TlsInfo, SCHEMA,
};
use pagetrace::pipeline::AnalyzerConfig;
use pagetrace::time::Ts;
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Reports built in code

const BASE: i64 = 1_700_000_000_000_000_000;

fn at(ms: f64) -> Ts {
    Ts(BASE + (ms * 1e6).round() as i64)
}

/// One request: sent at `start` (ms), first response byte `ttfb` later, last `download` after.
#[allow(clippy::too_many_arguments)]
fn exchange(
    version: &str,
    method: &str,
    url: &str,
    status: u16,
    body: u64,
    start: f64,
    ttfb: f64,
    download: f64,
) -> HttpExchange {
    let path = url
        .split_once("://")
        .and_then(|(_, r)| r.find('/').map(|i| r[i..].to_string()));
    HttpExchange {
        version: version.into(),
        method: Some(method.into()),
        path,
        url: Some(url.into()),
        status: Some(status),
        request_ts: Some(at(start)),
        request_end_ts: Some(at(start)),
        response_ts: Some(at(start + ttfb)),
        response_end_ts: Some(at(start + ttfb + download)),
        ttfb_ms: Some(ttfb),
        download_ms: Some(download),
        body_bytes: body,
        complete: true,
        ..HttpExchange::default()
    }
}

fn lookup(name: &str, ts: f64, latency: f64) -> DnsTransaction {
    DnsTransaction {
        ts: at(ts),
        client: "10.0.0.1:5353".parse().unwrap(),
        server: "10.0.0.53:53".parse().unwrap(),
        transport: DnsTransport::Udp,
        id: 1,
        questions: vec![DnsQuestion {
            name: name.into(),
            qtype: "A".into(),
        }],
        response_ts: Some(at(ts + latency)),
        latency_ms: Some(latency),
        rcode: Some("NOERROR".into()),
        truncated: false,
        answers: vec![],
        authority: vec![],
        query_packet: None,
        response_packet: None,
        dnssec: Default::default(),
        ..DnsTransaction::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn connection(
    id: u64,
    server: &str,
    host: &str,
    dns: Option<usize>,
    syn: f64,
    rtt: f64,
    tls: Option<(&str, f64)>,
    http: Vec<HttpExchange>,
) -> Connection {
    let mut c = Connection {
        id,
        client: format!("10.0.0.1:{}", 40000 + id).parse().unwrap(),
        server: server.parse().unwrap(),
        hostname: Some(host.into()),
        dns,
        client_by: ClientBy::Syn,
        http,
        ..Connection::default()
    };
    c.tcp.syn_ts = Some(at(syn));
    c.tcp.ack_ts = Some(at(syn + rtt));
    c.tcp.handshake_ms = Some(rtt);
    c.tcp.bytes.client = 1000 * id;
    c.tcp.bytes.server = 10_000 * id;
    c.tcp.close = TcpClose {
        kind: CloseKind::Fin,
        initiator: Some(Side::Client),
        ts: Some(at(900.0)),
        sequence: vec![],
    };
    if let Some((version, ms)) = tls {
        c.tls = Some(Box::new(TlsInfo {
            version: Some(version.into()),
            handshake_ms: Some(ms),
            resumed: false,
            ..TlsInfo::default()
        }));
    }
    c
}

/// A page: two lookups, an HTTP/2 connection with three requests and an HTTP/1.1
/// connection fetching the same image twice. `rtt` is the round trip added to every
/// handshake and first byte (the `--delay` of a recording).
fn page(rtt: f64) -> Report {
    let www = vec![
        exchange(
            "HTTP/2",
            "GET",
            "https://www.example.test/",
            200,
            6392,
            20.0 + 3.0 * rtt,
            4.0 + rtt,
            1.0,
        ),
        exchange(
            "HTTP/2",
            "GET",
            "https://www.example.test/app.js",
            200,
            98238,
            30.0 + 5.0 * rtt,
            2.0 + rtt,
            8.0,
        ),
        exchange(
            "HTTP/2",
            "GET",
            "https://www.example.test/logo.png",
            200,
            1800,
            31.0 + 5.0 * rtt,
            3.0 + rtt,
            0.5,
        ),
    ];
    let stat = vec![
        exchange(
            "HTTP/1.1",
            "GET",
            "https://static.example.test/img/a.jpg",
            200,
            65536,
            40.0 + 6.0 * rtt,
            1.5 + rtt,
            6.0,
        ),
        exchange(
            "HTTP/1.1",
            "GET",
            "https://static.example.test/img/a.jpg",
            304,
            0,
            60.0 + 8.0 * rtt,
            1.0 + rtt,
            0.0,
        ),
    ];
    Report {
        schema: SCHEMA,
        dns: vec![
            lookup("www.example.test", 0.0, 1.5),
            lookup("static.example.test", 35.0 + 5.0 * rtt, 2.0),
        ],
        connections: vec![
            connection(
                1,
                "10.0.0.2:443",
                "www.example.test",
                Some(0),
                2.0,
                0.5 + rtt,
                Some(("TLS 1.3", 3.0 + rtt)),
                www,
            ),
            connection(
                2,
                "10.0.0.3:443",
                "static.example.test",
                Some(1),
                38.0 + 5.0 * rtt,
                0.4 + rtt,
                Some(("TLS 1.2", 4.0 + 2.0 * rtt)),
                stat,
            ),
        ],
        ..Report::default()
    }
}

fn opts() -> DiffOptions {
    DiffOptions {
        threshold_ms: 5.0,
        sort: SortBy::Order,
    }
}

fn json_of(d: &Diff) -> Value {
    let mut out = Vec::new();
    diff::write_json(&mut out, d).unwrap();
    assert!(out.ends_with(b"}\n"));
    serde_json::from_slice(&out).expect("one JSON document")
}

fn table_of(d: &Diff, color: bool, width: Option<u16>) -> String {
    let mut out = Vec::new();
    let o = DiffTableOptions {
        color,
        width,
        a_label: "a.pcap".into(),
        b_label: "b.pcap".into(),
    };
    diff::write_table(&mut out, d, &o).unwrap();
    String::from_utf8(out).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn row<'d>(d: &'d Diff, metric: &str) -> &'d diff::SummaryRow {
    d.summary
        .iter()
        .find(|r| r.metric == metric)
        .unwrap_or_else(|| panic!("no {metric}"))
}

// ---------------------------------------------------------------------------------------
// The comparison

#[test]
fn a_page_diffed_with_itself_has_no_deltas() {
    let a = page(0.0);
    let d = diff::diff(&a, &a, &opts());
    assert_eq!(d.requests.len(), 5);
    assert!(d.only_a.is_empty() && d.only_b.is_empty());
    for r in &d.summary {
        assert!(r.a.is_some(), "{} observed", r.metric);
        assert_eq!(r.delta.map(Num::as_f64), Some(0.0), "{}", r.metric);
    }
    for r in &d.requests {
        assert_eq!(r.delta_ttfb_ms, Some(0.0));
        assert_eq!(r.delta_total_ms, Some(0.0));
        assert!(r.changes.is_empty(), "{:?}", r.changes);
        assert_eq!(r.a, r.b);
    }
    assert_eq!(d.origins.len(), 2);
    assert!(d.origins.iter().all(|o| o.changes.is_empty()));
    snapshot("diff/self.txt", &table_of(&d, false, Some(120)));
}

#[test]
fn summary_counts_sums_and_medians() {
    let d = diff::diff(&page(0.0), &page(40.0), &opts());
    let expect: &[(&str, Option<f64>, Option<f64>)] = &[
        ("requests", Some(5.0), Some(5.0)),
        ("connections", Some(2.0), Some(2.0)),
        ("dns_lookups", Some(2.0), Some(2.0)),
        ("tcp_bytes", Some(33000.0), Some(33000.0)),
        ("body_bytes", Some(171966.0), Some(171966.0)),
        ("retransmissions", Some(0.0), Some(0.0)),
        ("resets", Some(0.0), Some(0.0)),
        // Last event: the second image's response at 60 + 1 = 61 ms; then 60 + 8·40 + 41.
        ("page_ms", Some(61.0), Some(421.0)),
        ("dns_sum_ms", Some(3.5), Some(3.5)),
        ("dns_median_ms", Some(1.75), Some(1.75)),
        ("connect_sum_ms", Some(0.9), Some(80.9)),
        ("connect_median_ms", Some(0.45), Some(40.45)),
        ("tls_sum_ms", Some(7.0), Some(127.0)),
        ("tls_median_ms", Some(3.5), Some(63.5)),
        ("ttfb_sum_ms", Some(11.5), Some(211.5)),
        ("ttfb_median_ms", Some(2.0), Some(42.0)),
        ("download_sum_ms", Some(15.5), Some(15.5)),
        ("download_median_ms", Some(1.0), Some(1.0)),
    ];
    assert_eq!(
        d.summary.iter().map(|r| r.metric).collect::<Vec<_>>(),
        expect.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    for (metric, a, b) in expect {
        let r = row(&d, metric);
        let close = |x: Option<Num>, y: Option<f64>| match (x.map(Num::as_f64), y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            (x, y) => x == y,
        };
        assert!(close(r.a, *a), "{metric} a {:?}", r.a);
        assert!(close(r.b, *b), "{metric} b {:?}", r.b);
        let want = a.zip(*b).map(|(a, b)| b - a);
        assert!(close(r.delta, want), "{metric} delta {:?}", r.delta);
    }
    // Counts are integers in JSON, durations floats.
    assert!(matches!(row(&d, "requests").a, Some(Num::Int(5))));
    assert!(matches!(row(&d, "page_ms").a, Some(Num::Ms(_))));
    let pct = row(&d, "connect_median_ms").change_pct().unwrap();
    assert!((pct - 40.0 / 0.45 * 100.0).abs() < 1e-6, "{pct}");
    assert_eq!(row(&d, "retransmissions").change_pct(), None);
}

#[test]
fn json_output_field_by_field() {
    let a = page(0.0);
    let mut b = page(0.0);
    // B: logo.png grew and moved to HTTP/1.1 with a slower first byte; the 304 is gone; a
    // new request appears.
    {
        let h = &mut b.connections[0].http[2];
        h.body_bytes = 1900;
        h.version = "HTTP/1.1".into();
        h.ttfb_ms = Some(13.0);
        h.response_ts = Some(at(31.0 + 13.0));
        h.response_end_ts = Some(at(31.0 + 13.0 + 0.5));
    }
    b.connections[1].http.pop();
    b.connections[1].http.push(exchange(
        "HTTP/1.1",
        "POST",
        "https://static.example.test/beacon",
        204,
        0,
        70.0,
        2.0,
        0.0,
    ));
    let d = diff::diff(&a, &b, &opts());
    let v = json_of(&d);

    // The document's keys in the issue's order (serde_json's Value sorts them).
    let mut text = Vec::new();
    diff::write_json(&mut text, &d).unwrap();
    let text = String::from_utf8(text).unwrap();
    let pos = |k: &str| text.find(&format!("\n  \"{k}\": ")).unwrap_or(usize::MAX);
    let order = ["summary", "requests", "only_a", "only_b", "origins", "why"];
    assert!(order.windows(2).all(|w| pos(w[0]) < pos(w[1])), "{text}");
    assert_eq!(keys(&v), sorted(&order));

    let s = &v["summary"][0];
    assert_eq!(keys(s), sorted(&["metric", "a", "b", "delta"]));
    assert_eq!(s["metric"], "requests");
    assert_eq!(s["a"], 5);
    assert_eq!(s["b"], 5);
    assert_eq!(s["delta"], 0);
    let body = v["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "body_bytes")
        .unwrap();
    assert_eq!(body["a"], 171966);
    assert_eq!(body["delta"], 100);

    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 4);
    let logo = &reqs[2];
    assert_eq!(
        keys(logo),
        sorted(&[
            "method",
            "url",
            "a",
            "b",
            "delta_ttfb_ms",
            "delta_total_ms",
            "changes"
        ])
    );
    assert_eq!(logo["method"], "GET");
    assert_eq!(logo["url"], "https://www.example.test/logo.png");
    assert_eq!(
        keys(&logo["a"]),
        sorted(&[
            "connection",
            "url",
            "status",
            "protocol",
            "body_bytes",
            "ttfb_ms",
            "total_ms",
            "start_ms",
            "complete"
        ])
    );
    assert_eq!(logo["a"]["connection"], 1);
    assert_eq!(logo["a"]["url"], "https://www.example.test/logo.png");
    assert_eq!(logo["a"]["status"], 200);
    assert_eq!(logo["a"]["protocol"], "HTTP/2");
    assert_eq!(logo["b"]["protocol"], "HTTP/1.1");
    assert_eq!(logo["a"]["body_bytes"], 1800);
    assert_eq!(logo["b"]["body_bytes"], 1900);
    assert_eq!(logo["a"]["ttfb_ms"], 3.0);
    assert_eq!(logo["b"]["ttfb_ms"], 13.0);
    assert_eq!(logo["a"]["total_ms"], 3.5);
    assert_eq!(logo["b"]["total_ms"], 13.5);
    assert_eq!(logo["a"]["start_ms"], 31.0);
    assert_eq!(logo["a"]["complete"], true);
    assert_eq!(logo["delta_ttfb_ms"], 10.0);
    assert_eq!(logo["delta_total_ms"], 10.0);
    assert_eq!(
        logo["changes"],
        serde_json::json!(["protocol", "body_bytes", "ttfb", "total"])
    );
    // Unchanged requests: zero deltas, no changes.
    assert_eq!(reqs[0]["delta_ttfb_ms"], 0.0);
    assert_eq!(reqs[0]["changes"], serde_json::json!([]));

    // The 304 is only in A, the beacon only in B: method, url and the side's fields.
    let only_a = v["only_a"].as_array().unwrap();
    assert_eq!(only_a.len(), 1);
    assert_eq!(only_a[0]["method"], "GET");
    assert_eq!(only_a[0]["url"], "https://static.example.test/img/a.jpg");
    assert_eq!(only_a[0]["status"], 304);
    assert_eq!(only_a[0]["protocol"], "HTTP/1.1");
    assert_eq!(only_a[0]["connection"], 2);
    let only_b = v["only_b"].as_array().unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0]["method"], "POST");
    assert_eq!(only_b[0]["url"], "https://static.example.test/beacon");
    assert_eq!(only_b[0]["status"], 204);
    assert_eq!(only_b[0]["ttfb_ms"], 2.0);

    // Origins: the www origin now speaks both versions.
    let o = v["origins"].as_array().unwrap();
    assert_eq!(o.len(), 2);
    assert_eq!(o[1]["origin"], "https://www.example.test");
    assert_eq!(o[1]["a"]["http_versions"], serde_json::json!(["HTTP/2"]));
    assert_eq!(
        o[1]["b"]["http_versions"],
        serde_json::json!(["HTTP/1.1", "HTTP/2"])
    );
    assert_eq!(o[1]["changes"], serde_json::json!(["http_version"]));
    assert_eq!(o[0]["origin"], "https://static.example.test");
    assert_eq!(o[0]["changes"], serde_json::json!([]));
}

#[test]
fn repeated_urls_match_in_order() {
    let a = page(0.0);
    let mut b = page(0.0);
    // B fetched the image three times, each first byte 10 ms later than the one before.
    let extra = exchange(
        "HTTP/1.1",
        "GET",
        "https://static.example.test/img/a.jpg",
        200,
        65536,
        80.0,
        1.5,
        6.0,
    );
    b.connections[1].http.push(extra);
    b.connections[1].http[1].ttfb_ms = Some(11.0);
    let d = diff::diff(&a, &b, &opts());
    let imgs: Vec<_> = d
        .requests
        .iter()
        .filter(|r| r.url.ends_with("/img/a.jpg"))
        .collect();
    assert_eq!(imgs.len(), 2);
    // First with first, second with second (by request time), whatever their statuses.
    assert_eq!((imgs[0].a.status, imgs[0].b.status), (Some(200), Some(200)));
    assert_eq!((imgs[1].a.status, imgs[1].b.status), (Some(304), Some(304)));
    assert_eq!(imgs[0].delta_ttfb_ms, Some(0.0));
    assert_eq!(imgs[1].delta_ttfb_ms, Some(10.0));
    assert!(d.only_a.is_empty());
    assert_eq!(d.only_b.len(), 1);
    assert_eq!(d.only_b[0].side.start_ms, Some(80.0));

    // Matching follows request time, not the order exchanges are listed in the report.
    let mut c = page(0.0);
    c.connections[1].http.swap(0, 1);
    let d = diff::diff(&a, &c, &opts());
    assert!(d.requests.iter().all(|r| r.changes.is_empty()));
}

#[test]
fn scheme_and_default_port_do_not_break_a_match() {
    let a = page(0.0);
    let mut b = page(0.0);
    let h = &mut b.connections[0].http[0];
    h.url = Some("http://WWW.example.test:80/".into());
    h.status = Some(301);
    let d = diff::diff(&a, &b, &opts());
    assert!(d.only_a.is_empty() && d.only_b.is_empty());
    let r = &d.requests[0];
    assert_eq!(r.changes, ["status", "url"]);
    assert_eq!(r.b.url.as_deref(), Some("http://WWW.example.test:80/"));
    // Another method is another request.
    b.connections[0].http[0].method = Some("HEAD".into());
    let d = diff::diff(&a, &b, &opts());
    assert_eq!((d.only_a.len(), d.only_b.len()), (1, 1));
}

#[test]
fn only_in_a_and_only_in_b() {
    let a = page(0.0);
    let mut b = page(0.0);
    b.connections.remove(1);
    let d = diff::diff(&a, &b, &opts());
    assert_eq!(d.requests.len(), 3);
    assert_eq!(
        d.only_a.iter().map(|r| r.side.status).collect::<Vec<_>>(),
        [Some(200), Some(304)]
    );
    assert!(d.only_b.is_empty());
    let o = d
        .origins
        .iter()
        .find(|o| o.origin == "https://static.example.test")
        .unwrap();
    assert_eq!(o.changes, ["only_a"]);
    assert!(o.b.is_none());
    assert_eq!(row(&d, "requests").delta, Some(Num::Int(-2)));
    // And the other way round.
    let d = diff::diff(&b, &a, &opts());
    assert_eq!((d.only_a.len(), d.only_b.len()), (0, 2));
    snapshot("diff/only.txt", &table_of(&d, false, None));
}

#[test]
fn origin_changes_are_named() {
    let a = page(0.0);
    let mut b = page(0.0);
    {
        let c = &mut b.connections[0];
        let tls = c.tls.as_mut().unwrap();
        tls.version = Some("TLS 1.2".into());
        tls.resumed = true;
        c.dns = None;
        c.tcp.retransmissions.server = 3;
        c.tcp.close.kind = CloseKind::Rst;
        for h in &mut c.http {
            h.version = "HTTP/1.1".into();
        }
    }
    // The static origin lost connection reuse: its second request on a new connection.
    let second = b.connections[1].http.pop().unwrap();
    let mut c3 = connection(
        3,
        "10.0.0.3:443",
        "static.example.test",
        Some(1),
        59.0,
        0.4,
        Some(("TLS 1.2", 4.0)),
        vec![second],
    );
    c3.tcp.bytes = Default::default();
    b.connections.push(c3);
    let d = diff::diff(&a, &b, &opts());
    let www = d
        .origins
        .iter()
        .find(|o| o.origin == "https://www.example.test")
        .unwrap();
    assert_eq!(
        www.changes,
        [
            "http_version",
            "tls_version",
            "resumption",
            "dns",
            "retransmissions",
            "resets"
        ]
    );
    let st = d
        .origins
        .iter()
        .find(|o| o.origin == "https://static.example.test")
        .unwrap();
    assert_eq!(st.changes, ["connection_reuse"]);
    assert_eq!(
        (
            st.a.as_ref().unwrap().connections,
            st.b.as_ref().unwrap().connections
        ),
        (1, 2)
    );
    // Requests on the www origin all changed protocol; nothing else about them did.
    for r in d.requests.iter().filter(|r| r.url.contains("www.")) {
        assert_eq!(r.changes, ["protocol"]);
    }
    assert_eq!(row(&d, "retransmissions").delta, Some(Num::Int(3)));
    assert_eq!(row(&d, "resets").delta, Some(Num::Int(1)));
    snapshot("diff/origins.txt", &table_of(&d, false, Some(100)));
}

/// [`page`] with the www origin's subresources moved from HTTP/2 to HTTP/3, as a browser
/// does once the document's `Alt-Svc` offered h3: the document stays on the TCP
/// connection, `app.js` and `logo.png` come over QUIC connection 1 (the same id as the TCP
/// connection's: they are separate counters), whose handshake took `quic_ms`.
fn page_with_h3(quic_ms: f64) -> Report {
    let mut r = page(0.0);
    let moved: Vec<HttpExchange> = r.connections[0]
        .http
        .drain(1..)
        .map(|mut h| {
            h.version = "HTTP/3".into();
            h
        })
        .collect();
    let mut q = QuicConnection::new(
        1,
        "10.0.0.1:50000".parse().unwrap(),
        "10.0.0.2:443".parse().unwrap(),
        ClientBy::Initial,
        at(26.0),
    );
    q.client_initial_ts = Some(at(26.0));
    q.server_handshake_ts = Some(at(27.0));
    q.handshake_ms = Some(1.0);
    q.hostname = Some("www.example.test".into());
    q.dns = Some(0);
    q.tls = Some(Box::new(TlsInfo {
        version: Some("TLS 1.3".into()),
        alpn: Some("h3".into()),
        handshake_ms: Some(quic_ms),
        decrypted: true,
        ..TlsInfo::default()
    }));
    q.http = moved;
    r.quic.push(q);
    r
}

#[test]
fn requests_that_moved_from_h2_to_h3_match_and_the_origin_says_so() {
    let a = page(0.0);
    let b = page_with_h3(2.5);
    let d = diff::diff(&a, &b, &opts());
    assert_eq!(d.requests.len(), 5, "{:#?}", d.only_b);
    assert!(d.only_a.is_empty() && d.only_b.is_empty());
    let moved: Vec<_> = d
        .requests
        .iter()
        .filter(|r| r.b.protocol == "HTTP/3")
        .collect();
    assert_eq!(moved.len(), 2);
    for r in &moved {
        assert_eq!(r.changes, ["protocol"], "{}", r.url);
        assert_eq!((r.a.protocol.as_str(), r.a.quic), ("HTTP/2", false));
        assert_eq!((r.b.connection, r.b.quic), (1, true));
    }
    // The JSON names a QUIC side; a TCP side is written as before.
    let v = json_of(&d);
    let js = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["url"] == "https://www.example.test/app.js")
        .unwrap();
    assert_eq!(js["b"]["quic"], true);
    assert!(js["a"].get("quic").is_none());
    // The origin: the HTTP version moved, one more connection (a QUIC one) carried the page,
    // and the QUIC handshake counts with the TLS ones.
    let www = d
        .origins
        .iter()
        .find(|o| o.origin == "https://www.example.test")
        .unwrap();
    assert_eq!(www.changes, ["http_version", "connection_reuse", "quic"]);
    let (oa, ob) = (www.a.as_ref().unwrap(), www.b.as_ref().unwrap());
    assert_eq!(oa.http_versions, ["HTTP/2"]);
    assert_eq!(ob.http_versions, ["HTTP/2", "HTTP/3"]);
    assert_eq!((oa.tls_connections, ob.tls_connections), (1, 2));
    assert_eq!((oa.quic_connections, ob.quic_connections), (0, 1));
    assert_eq!(ob.tls_versions, ["TLS 1.3"]);
    assert!(v["origins"][0]["a"].get("quic_connections").is_none());
    assert_eq!(row(&d, "connections").b, Some(Num::Int(3)));
    // TLS handshakes: 3 and 4 ms on TCP, and the QUIC connection's 2.5 ms.
    assert_eq!(row(&d, "tls_sum_ms").b, Some(Num::Ms(9.5)));
    // A resumed QUIC handshake is a change in resumption, as a TLS one is.
    let mut c = page_with_h3(2.5);
    c.quic[0].tls.as_mut().unwrap().resumed = true;
    let d2 = diff::diff(&b, &c, &opts());
    let www = d2
        .origins
        .iter()
        .find(|o| o.origin.contains("www"))
        .unwrap();
    assert_eq!(www.changes, ["resumption"]);
    snapshot("diff/h2-to-h3.txt", &table_of(&d, false, None));
}

#[test]
fn threshold_decides_colour_and_changes() {
    let a = page(0.0);
    let mut b = page(0.0);
    let hs = &mut b.connections[0].http;
    hs[0].ttfb_ms = Some(4.0 + 40.0); // slower by 40 ms
    hs[1].ttfb_ms = Some(2.0 + 3.0); // slower by 3 ms: noise
    hs[2].ttfb_ms = Some(13.0); // was 3
    b.connections[1].http[0].ttfb_ms = Some(0.5); // faster by 1 ms
    b.connections[1].http[1].ttfb_ms = Some(0.0); // faster by 1 ms
    let d = diff::diff(&a, &b, &opts());
    let changes: Vec<_> = d.requests.iter().map(|r| r.changes.clone()).collect();
    assert_eq!(changes[0], ["ttfb"]);
    assert!(changes[1].is_empty());
    assert_eq!(changes[2], ["ttfb"]);

    const RED: &str = "\x1b[38;5;9m";
    const GREEN: &str = "\x1b[38;5;10m";
    let text = table_of(&d, true, None);
    let line = |needle: &str| -> String {
        text.lines()
            .find(|l| l.contains(needle) && l.contains("│"))
            .unwrap_or_else(|| panic!("no row for {needle} in\n{text}"))
            .to_string()
    };
    assert!(
        line("www.example.test/ ").contains(&format!("{RED}+40.0 ms")),
        "{text}"
    );
    assert!(
        !line("app.js").contains(RED),
        "3 ms is within the threshold"
    );
    assert!(!line("app.js").contains(GREEN));
    // A higher threshold silences the 10 ms change.
    let quiet = diff::diff(
        &a,
        &b,
        &DiffOptions {
            threshold_ms: 20.0,
            ..opts()
        },
    );
    assert!(quiet.requests[2].changes.is_empty());
    let qt = table_of(&quiet, true, None);
    assert!(!qt
        .lines()
        .find(|l| l.contains("logo.png"))
        .unwrap()
        .contains(RED));
    // Faster beyond the threshold is green.
    let d = diff::diff(&b, &a, &opts());
    let text = table_of(&d, true, None);
    let l = text
        .lines()
        .find(|l| l.contains("www.example.test/ "))
        .unwrap();
    assert!(l.contains(&format!("{GREEN}-40.0 ms")), "{l}");
    // Without colour there is no escape at all.
    assert!(!table_of(&d, false, Some(120)).contains('\x1b'));
}

#[test]
fn sort_by_delta_puts_the_largest_change_first() {
    let a = page(0.0);
    let mut b = page(0.0);
    b.connections[0].http[1].ttfb_ms = Some(2.0 + 7.0); // +7 TTFB
    let h = &mut b.connections[1].http[1]; // +30 total (download)
    h.response_end_ts = Some(at(60.0 + 1.0 + 30.0));
    b.connections[0].http[2].ttfb_ms = Some(0.0); // -3 TTFB
    let d = diff::diff(
        &a,
        &b,
        &DiffOptions {
            sort: SortBy::Delta,
            ..opts()
        },
    );
    let order: Vec<(String, u16)> = d
        .requests
        .iter()
        .map(|r| {
            (
                r.url.rsplit('/').next().unwrap().to_string(),
                r.a.status.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("a.jpg".to_string(), 304),
            ("app.js".to_string(), 200),
            ("logo.png".to_string(), 200),
            // Unchanged: A's order.
            ("".to_string(), 200),
            ("a.jpg".to_string(), 200),
        ]
    );
    let d = diff::diff(&a, &b, &opts());
    assert!(d.requests[0].url.ends_with(".test/"));
}

#[test]
fn tables_fit_the_width() {
    let d = diff::diff(&page(0.0), &page(40.0), &opts());
    for width in [64u16, 80, 100, 120] {
        let text = table_of(&d, false, Some(width));
        for l in text.lines() {
            assert!(
                l.chars().count() <= width as usize,
                "{width}: {} chars: {l}",
                l.chars().count()
            );
        }
    }
    snapshot("diff/delay40-width100.txt", &table_of(&d, false, Some(100)));
    // Piped (no width): one line per row, however long.
    let text = table_of(&d, false, None);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("https://www.example.test/app.js"))
            .count(),
        1
    );
}

// ---------------------------------------------------------------------------------------
// Captures

fn analyze_with_keys(capture: &Path, keylog: Option<&Path>) -> Report {
    let keys = keylog.map(|k| std::fs::read_to_string(k).expect("key log"));
    analyze_with(
        std::fs::read(capture).expect("read capture"),
        &capture.display().to_string(),
        AnalyzerConfig::default(),
        keys.as_deref(),
    )
}

fn fixture_report(dir: &str) -> Report {
    let d = fixture(dir);
    let keys = d.join("pageload.keys");
    analyze_with_keys(
        &d.join("pageload.pcap"),
        keys.is_file().then_some(keys.as_path()),
    )
}

fn assert_no_deltas(d: &Diff) {
    assert!(d.only_a.is_empty(), "{:?}", d.only_a);
    assert!(d.only_b.is_empty(), "{:?}", d.only_b);
    for r in &d.summary {
        if let Some(x) = r.delta {
            assert_eq!(x.as_f64(), 0.0, "{}", r.metric);
        }
        assert_eq!(r.a.is_some(), r.b.is_some(), "{}", r.metric);
    }
    for r in &d.requests {
        assert!(r.changes.is_empty(), "{} {:?}", r.url, r.changes);
        assert_eq!(r.a, r.b, "{}", r.url);
    }
    assert!(d.origins.iter().all(|o| o.changes.is_empty()));
}

#[test]
fn fixture_diffed_with_itself_shows_no_deltas() {
    let r = fixture_report("pageload");
    assert!(!r.connections.is_empty());
    let d = diff::diff(&r, &r, &opts());
    assert_no_deltas(&d);
    let exchanges: usize = r.connections.iter().map(|c| c.http.len()).sum();
    assert_eq!(d.requests.len(), exchanges);
    assert!(!d.origins.is_empty());
    let page = row(&d, "page_ms");
    assert!(page.a.is_some_and(|p| p.as_f64() > 0.0), "{:?}", page.a);
}

#[test]
fn saved_json_report_diffs_like_the_capture() {
    let r = fixture_report("pageload");
    let text = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&text).expect("a saved report reads back");
    assert_no_deltas(&diff::diff(&r, &back, &opts()));
}

// ---------------------------------------------------------------------------------------
// Diffs of our own recordings (committed in fixtures/).

fn delay_of(dir: &str) -> f64 {
    manifest(dir)["options"]["delay_ms"].as_f64().unwrap_or(0.0)
}

/// `record-pageload.sh --delay 40` (in `fixtures/pageload-delay40/`, with its manifest and
/// key log, as `fixtures/pageload/`) against the default recording: every request matched,
/// connect one round trip (40 ms) slower and TTFB a whole number of round trips slower,
/// each within 10 ms, and no phantom change of status or size.
#[test]
fn delay40_recording_shows_one_round_trip_per_request() {
    let dir = "pageload-delay40";
    let a = fixture_report("pageload");
    let b = fixture_report(dir);
    let rtt = delay_of(dir) - delay_of("pageload");
    assert!(rtt > 0.0, "manifest delay_ms");
    let d = diff::diff(&a, &b, &opts());
    assert!(d.only_a.is_empty(), "unmatched in A: {:?}", d.only_a);
    assert!(d.only_b.is_empty(), "unmatched in B: {:?}", d.only_b);
    assert!(!d.requests.is_empty(), "no HTTP seen");
    // The SSI page prints the date: its size changes between any two recordings.
    let dynamic: Vec<String> = manifest(dir)["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["serving"] == "ssi")
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    let mut bad = Vec::new();
    let mut first_on_connection = std::collections::HashSet::new();
    for r in &d.requests {
        let ssi = dynamic.iter().any(|p| r.url.ends_with(p.as_str()));
        if r.a.status != r.b.status || (r.a.body_bytes != r.b.body_bytes && !ssi) {
            bad.push(format!("{} {}: status/size changed", r.method, r.url));
        }
        // The first request on a connection waits exactly one more round trip. Later ones
        // at least one: an HTTP/2 stream queued behind the others' data, or a 16 KiB TLS
        // record (readable only when whole) waits for the congestion window, up to two
        // more round trips here.
        let first = first_on_connection.insert(r.b.connection);
        let x = r.delta_ttfb_ms;
        let ok = match x {
            Some(x) if first => (x - rtt).abs() <= 10.0,
            Some(x) => x >= rtt - 10.0 && x <= 3.0 * rtt + 10.0,
            None => false,
        };
        if !ok {
            let which = if first { "first" } else { "later" };
            bad.push(format!(
                "{} {} ({which}): TTFB delta {x:?}",
                r.method, r.url
            ));
        }
    }
    match row(&d, "connect_median_ms").delta.map(Num::as_f64) {
        Some(x) if (x - rtt).abs() <= 10.0 => {}
        x => bad.push(format!("connect_median_ms delta {x:?}")),
    }
    let n = a.connections.len() as f64;
    match row(&d, "connect_sum_ms").delta.map(Num::as_f64) {
        Some(x) if (x - rtt * n).abs() <= 10.0 * n => {}
        x => bad.push(format!("connect_sum_ms delta {x:?} for {n} connections")),
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// An HTTP/2 page against `record-pageload.sh --http1` (in `fixtures/pageload-http1/`):
/// every matched request that was HTTP/2 in A is HTTP/1.1 in B. (`--http1` leaves out the
/// h2c phase, so those requests are only in A.)
#[test]
fn http1_recording_shows_the_protocol_change() {
    let dir = "pageload-http1";
    let a = fixture_report("pageload");
    let d = diff::diff(&a, &fixture_report(dir), &opts());
    let h2: Vec<_> = d
        .requests
        .iter()
        .filter(|r| r.a.protocol == "HTTP/2")
        .collect();
    // Every HTTPS request of www.example.test: HTTP/2 over TLS in A, decrypted from the key
    // log (h2c is left out by --http1, so those are only in A).
    assert_eq!(
        h2.len(),
        7,
        "{:?}",
        h2.iter().map(|r| &r.url).collect::<Vec<_>>()
    );
    assert!(d.only_b.is_empty(), "{:?}", d.only_b);
    for r in h2 {
        assert_eq!(r.b.protocol, "HTTP/1.1", "{}", r.url);
        assert!(r.changes.contains(&"protocol"));
    }
}

// ---------------------------------------------------------------------------------------
// The binary

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pagetrace"))
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pagetrace-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn cli_capture_against_its_saved_json() {
    let cap = fixture("pageload/pageload.pcap");
    let keys = fixture("pageload/pageload.keys");
    let out = bin()
        .arg("analyze")
        .arg(&cap)
        .arg("--keylog")
        .arg(&keys)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Leading white space does not hide a JSON report.
    let mut saved = b"\n  ".to_vec();
    saved.extend_from_slice(&out.stdout);
    let json = tmp("saved.json", &saved);
    let out = bin()
        .arg("diff")
        .arg(&json)
        .arg(&cap)
        .arg("--keylog-b")
        .arg(&keys)
        .args(["--format", "json"])
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    for s in v["summary"].as_array().unwrap() {
        assert!(
            s["delta"].is_null() || s["delta"].as_f64() == Some(0.0),
            "{s}"
        );
    }
    assert_eq!(v["only_a"], serde_json::json!([]));
    assert_eq!(v["only_b"], serde_json::json!([]));
    for r in v["requests"].as_array().unwrap() {
        assert_eq!(r["changes"], serde_json::json!([]), "{r}");
    }

    // The table, piped: no colour, every line readable.
    let out = bin()
        .arg("diff")
        .arg(&cap)
        .arg(&json)
        .args(["--threshold", "1", "--sort", "delta"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'));
    assert!(
        text.contains("Summary") && text.contains("page time"),
        "{text}"
    );
}

#[test]
fn cli_unreadable_inputs_exit_2_with_one_line() {
    let cap = fixture("pageload/pageload.pcap");
    let notes = tmp("notes.txt", b"not a capture\n");
    let bad_json = tmp("bad.json", b"{\"schema\": 1, \"capture\": 3}");
    let future = tmp("future.json", br#"{"schema": 99, "capture": {"path": "", "format": "", "link_types": [], "packets": 0, "bytes": 0, "first_ts": null, "last_ts": null, "warnings": [], "stats": {"ipv4":0,"ipv6":0,"tcp":0,"udp":0,"other":0,"malformed":0,"truncated":0,"ip_fragments":0,"reassembled_datagrams":0,"flow_table_full":0,"warnings_suppressed":0}}, "dns": [], "connections": []}"#);
    let empty = tmp("empty.pcap", b"");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec!["/nonexistent/a.pcap".as_ref(), cap.as_os_str()],
            "cannot open /nonexistent/a.pcap",
        ),
        (vec![cap.as_os_str(), notes.as_os_str()], "notes.txt"),
        (
            vec![bad_json.as_os_str(), cap.as_os_str()],
            "not a pagetrace JSON report",
        ),
        (vec![future.as_os_str(), cap.as_os_str()], "schema 99"),
        (vec![cap.as_os_str(), empty.as_os_str()], "empty.pcap"),
        (vec!["-".as_ref(), "-".as_ref()], "standard input"),
    ];
    for (args, want) in cases {
        let out = bin().arg("diff").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = bin()
        .arg("diff")
        .arg(&cap)
        .arg(&cap)
        .args(["--keylog-a", "/nonexistent/keys"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key log"));
    let out = bin()
        .arg("diff")
        .arg(&cap)
        .arg(&cap)
        .args(["--threshold", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A clean load against the same page over a lossy link (20 ms round trips, 2% loss):
/// the diff names the retransmissions among the causes of the slowest requests and of
/// the page, from the diagnoses of both loads.
#[test]
fn a_lossy_load_is_slower_because_of_its_retransmissions() {
    let d = diff::diff(
        &fixture_report("pageload"),
        &fixture_report("pageload-loss"),
        &opts(),
    );
    let loss = |k: DelayKind| {
        matches!(
            k,
            DelayKind::FastRetransmission | DelayKind::RtoRetransmission | DelayKind::HeadOfLine
        )
    };
    assert!(
        d.why
            .delays
            .iter()
            .any(|x| loss(x.kind) && x.delta_ms > 0.0),
        "{:?}",
        d.why
    );
    assert!(
        d.why.sentence.contains("retransmission"),
        "{}",
        d.why.sentence
    );
    // The slowest request whose diagnosis changed was held up by a lost segment.
    let slowest = d
        .requests
        .iter()
        .filter(|r| !r.because.is_empty())
        .max_by(|x, y| {
            x.delta_total_ms
                .unwrap_or(0.0)
                .total_cmp(&y.delta_total_ms.unwrap_or(0.0))
        })
        .expect("a request with a cause");
    assert!(
        slowest.because.iter().any(|x| loss(x.kind)),
        "{} {:?}",
        slowest.url,
        slowest.because
    );
    let table = table_of(&d, false, None);
    assert!(table.contains("Why: B page time +"), "{table}");
    assert!(table.contains("Slower in B, and why"), "{table}");
    // Diffed with itself: nothing to explain.
    let same = diff::diff(
        &fixture_report("pageload-loss"),
        &fixture_report("pageload-loss"),
        &opts(),
    );
    assert!(same.why.delays.is_empty() && same.why.sentence.is_empty());
}

// ---------------------------------------------------------------------------------------
// Many runs a side (`diff before/ after/`)

/// Five runs of the default recording against five of `--delay 40` (the same capture each
/// time: no run-to-run noise, every A value below every B value): every request and the
/// page time change significantly, by at least the round trip; five against five of the
/// same show nothing significant.
#[test]
fn runs_with_a_delay_change_significantly_and_runs_without_do_not() {
    let a = fixture_report("pageload");
    let b = fixture_report("pageload-delay40");
    let rtt = delay_of("pageload-delay40") - delay_of("pageload");
    let opts = diff::runs::RunsOptions::default();
    let runs = |r: &Report| vec![r.clone(); 5];
    let d = diff::runs::compare_runs(&runs(&a), &runs(&b), &opts);
    assert_eq!((d.runs_a, d.runs_b), (5, 5));
    assert!(!d.requests.is_empty());
    let mut bad = Vec::new();
    for r in &d.requests {
        let t = &r.ttfb_ms;
        let ok = t.significant
            && t.a.n == 5
            && t.b.n == 5
            && t.delta.is_some_and(|x| x >= rtt - 10.0)
            && t.p_value.is_some_and(|p| (p - 2.0 / 252.0).abs() < 1e-9)
            // Every TTFB and total moved alike: the adjustment keeps q at most 3/2 p.
            && t.q_value.is_some_and(|q| q < 1.5 * 2.0 / 252.0);
        if !ok {
            bad.push(format!("{} {}: {t:?}", r.method, r.url));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let page = d.page.iter().find(|m| m.metric == "page_ms").unwrap();
    assert!(page.significant && page.delta.unwrap() > rtt, "{page:?}");
    let requests = d.page.iter().find(|m| m.metric == "requests").unwrap();
    assert!(!requests.significant, "{requests:?}");

    let same = diff::runs::compare_runs(&runs(&a), &runs(&a), &opts);
    assert!(same.requests.iter().all(|r| !r.significant()));
    assert!(same
        .page
        .iter()
        .all(|m| !m.significant && m.p_value == Some(1.0)));
}

/// `pagetrace diff DIR DIR`: each directory's captures are its runs (in name order), a JSON
/// file that is not a report is skipped with a note, and the JSON document says so.
#[test]
fn cli_directories_of_runs() {
    let base = std::env::temp_dir().join(format!("pagetrace-runs-{}", std::process::id()));
    let (da, db) = (base.join("a"), base.join("b"));
    for (dir, fixture_dir) in [(&da, "pageload"), (&db, "pageload-delay40")] {
        std::fs::create_dir_all(dir).unwrap();
        let keys = std::fs::read(fixture(fixture_dir).join("pageload.keys")).unwrap();
        std::fs::write(dir.join("keys.txt"), keys).unwrap();
        for i in 0..4 {
            std::fs::copy(
                fixture(fixture_dir).join("pageload.pcap"),
                dir.join(format!("run{i}.pcap")),
            )
            .unwrap();
        }
        std::fs::write(dir.join("manifest.json"), "{\"not\": \"a report\"}").unwrap();
    }
    let diff = |args: &[&str]| {
        bin()
            .arg("diff")
            .args(args)
            .arg(&da)
            .arg(&db)
            .arg("--keylog-a")
            .arg(da.join("keys.txt"))
            .arg("--keylog-b")
            .arg(db.join("keys.txt"))
            .output()
            .unwrap()
    };
    let o = diff(&["--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("A: skipped") && err.contains("manifest.json: not a pagetrace JSON report"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs_a"], 4);
    assert_eq!(v["runs_b"], 4);
    let requests = v["requests"].as_array().unwrap();
    assert!(!requests.is_empty());
    // Four against four: the smallest two-sided p is 2/70.
    for r in requests {
        assert_eq!(r["ttfb_ms"]["significant"], true, "{r}");
        assert!((r["ttfb_ms"]["p_value"].as_f64().unwrap() - 2.0 / 70.0).abs() < 1e-9);
        assert_eq!(r["ttfb_ms"]["a"]["values"].as_array().unwrap().len(), 4);
    }
    // The table says the same.
    let o = diff(&["--color", "never", "-q"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("(4 runs)"), "{text}");
    assert!(
        text.contains(&format!(
            "Requests: {}, {} changed significantly",
            requests.len(),
            requests.len()
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&base);
}
