//! The parser (what reads, what errs and where) and the evaluator (what is kept).

use super::*;
use crate::report::timing::tests::{h3_sample, sample};

fn err(text: &str) -> FilterError {
    Filter::parse(text).expect_err(text)
}

/// The requests a filter keeps of a report, as `#conn:url`.
fn kept(r: &Report, text: &str) -> Vec<String> {
    let f = Filter::parse(text).unwrap();
    let r = f.apply(r.clone());
    let tcp = r.connections.iter().flat_map(|c| {
        c.http
            .iter()
            .map(move |h| format!("#{}:{}", c.id, h.path.as_deref().unwrap_or("?")))
    });
    let quic = r.quic.iter().flat_map(|q| {
        q.http
            .iter()
            .map(move |h| format!("quic-{}:{}", q.id, h.path.as_deref().unwrap_or("?")))
    });
    tcp.chain(quic).collect()
}

#[test]
fn parses_the_issue_s_examples() {
    for text in [
        "status >= 400",
        r#"host == "static.example.test""#,
        r#"host ~ "cdn""#,
        r#"method == "POST""#,
        r#"proto == "h2""#,
        "proto == http/1.1",
        r#"tls.version == "TLS 1.2""#,
        "ttfb > 100ms",
        "ttfb > 1.5s or download >= 250us",
        "size > 1MB and size < 2MiB",
        "retransmissions > 0",
        "conn == 3",
        "conn == quic-1",
        "not (status >= 400 or reset) && !tls.resumed || conn eq 1",
        "status in {301 302 400..499}",
        "url contains \"/img/\"",
        "dns.latency > 10ms and dns.rcode == NOERROR",
        "tls.decrypted == false",
    ] {
        Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn errors_point_at_the_column() {
    let e = err("stauts >= 400");
    assert_eq!((e.column, e.width), (0, 6));
    assert!(e.message.starts_with("unknown field `stauts`"), "{e}");
    let e = err("status >= 4xx");
    assert_eq!((e.column, e.width), (10, 3));
    assert!(e.message.contains("takes a number"), "{e}");
    let e = err("ttfb > 1MB");
    assert_eq!(e.column, 7);
    assert!(e.message.contains("duration"), "{e}");
    let e = err("status = 404");
    assert_eq!(e.column, 7);
    let e = err("(status >= 400");
    assert_eq!(e.column, 0);
    assert!(e.message.contains("not closed"), "{e}");
    let e = err(r#"host ~ "(""#);
    assert_eq!(e.column, 7);
    assert!(e.message.starts_with("not a regex"), "{e}");
    let e = err("status >= 400 status");
    assert_eq!(e.column, 14);
    let e = err("status >=");
    assert_eq!(e.column, 9);
    let e = err(r#"host == "open"#);
    assert_eq!(e.column, 8);
    assert!(err("").message.contains("empty"));
    assert!(err("proto == h4").message.contains("h1, h2 or h3"));
    // The caret line lines up under the text.
    let shown = err("status >= 4xx").to_string();
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        vec![
            "--filter: `status` takes a number",
            "  status >= 4xx",
            "            ^^^"
        ]
    );
}

#[test]
fn requests_match_by_their_own_fields_and_their_connection_s() {
    let r = sample();
    assert_eq!(kept(&r, "status >= 400"), Vec::<String>::new());
    let all = kept(&r, "not status >= 400");
    assert_eq!(all, kept(&r, "method"));
    assert!(!all.is_empty());
    let first = &all[0];
    let conn = first.split(':').next().unwrap().trim_start_matches('#');
    let by_conn = kept(&r, &format!("conn == {conn}"));
    assert!(by_conn.iter().all(|k| k.starts_with(&format!("#{conn}:"))));
    assert_eq!(
        kept(&r, "proto == h2 or proto == h1").len() + kept(&r, "proto == h3").len(),
        kept(&r, "proto").len()
    );
    let h3 = h3_sample();
    let quic = kept(&h3, "proto == h3");
    assert!(!quic.is_empty() && quic.iter().all(|k| k.starts_with("quic-")));
    assert_eq!(quic, kept(&h3, "transport == quic and method"));
    assert_eq!(quic, kept(&h3, "conn == quic-1"));
}

#[test]
fn missing_fields_are_false_and_not_makes_them_true() {
    let h = HttpExchange {
        status: None,
        ..HttpExchange::default()
    };
    let s = Subject {
        request: Some(&h),
        ..Subject::default()
    };
    for (text, want) in [
        ("status == 200", false),
        ("status != 200", false),
        ("not status == 200", true),
        ("status", false),
        ("tls.version", false),
        ("complete", false),
        ("not complete", true),
    ] {
        assert_eq!(Filter::parse(text).unwrap().matches(&s), want, "{text}");
    }
}

#[test]
fn units_and_sets() {
    let h = HttpExchange {
        status: Some(404),
        ttfb_ms: Some(150.0),
        body_bytes: 1_500_000,
        version: "HTTP/1.1".into(),
        url: Some("https://cdn.example.test:8443/a.js".into()),
        ..HttpExchange::default()
    };
    let s = Subject {
        request: Some(&h),
        ..Subject::default()
    };
    for (text, want) in [
        ("ttfb > 100ms", true),
        ("ttfb > 0.2s", false),
        ("ttfb < 150001us", true),
        ("ttfb == 150", true),
        ("size > 1MB", true),
        ("size > 1.5MB", false),
        ("size < 1.5MiB", true),
        ("status in {301 302}", false),
        ("status in {200, 400..499}", true),
        ("status ~ \"^4\"", true),
        ("proto == HTTP/1.0", true),
        ("proto == h2", false),
        ("host == cdn.example.test", true),
        ("host ~ \"cdn\"", true),
        ("host contains \"example\"", true),
        ("host ~ \"^example\"", false),
    ] {
        assert_eq!(Filter::parse(text).unwrap().matches(&s), want, "{text}");
    }
}

#[test]
fn apply_keeps_linked_lookups_and_repoints_links() {
    let r = sample();
    let before = r.dns.len();
    let f = Filter::parse("conn == 1").unwrap();
    let out = f.apply(r.clone());
    assert!(out.connections.iter().all(|c| c.id == 1));
    // The kept connection's lookup is kept, and its index points at it.
    let c = &out.connections[0];
    let t = &out.dns[c.dns.unwrap()];
    assert_eq!(Some(t.ts), r.dns[r.connections[0].dns.unwrap()].ts.into());
    assert!(out.dns.len() < before);
    let info = out.filter.unwrap();
    assert_eq!(info.expression, "conn == 1");
    assert_eq!(info.before.connections, r.connections.len());
    // A DNS transaction matches alone by its question.
    let out = Filter::parse("dns.name == cdn.example.test")
        .unwrap()
        .apply(r.clone());
    assert!(out
        .dns
        .iter()
        .all(|t| t.questions[0].name == "cdn.example.test"));
    assert!(!out.dns.is_empty());
}

#[test]
fn delay_and_server_think_come_from_the_diagnosis() {
    use crate::pageload::model::{Delay, DelayKind, Side};
    let d = |kind, ms| Delay {
        kind,
        dir: Side::Server,
        ms,
        frames: vec![],
        note: String::new(),
        from_ts: None,
        to_ts: None,
    };
    let h = HttpExchange {
        diagnosis: vec![
            d(DelayKind::RtoRetransmission, 201.0),
            d(DelayKind::HeadOfLine, 20.0),
            d(DelayKind::ServerThink, 150.0),
        ],
        ..HttpExchange::default()
    };
    let quiet = HttpExchange::default();
    for (h, text, want) in [
        (&h, "delay > 200ms", true),
        (&h, "delay == 221", true),
        (&h, "server_think > 100ms", true),
        (&quiet, "delay > 0ms", false),
        (&quiet, "delay == 0", true),
        (&quiet, "server_think", false),
    ] {
        let s = Subject {
            request: Some(h),
            ..Subject::default()
        };
        assert_eq!(Filter::parse(text).unwrap().matches(&s), want, "{text}");
    }
}
