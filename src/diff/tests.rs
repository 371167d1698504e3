use super::*;
use crate::pageload::model::{Connection, HttpExchange};

fn conn(id: u64, server: &str, host: Option<&str>) -> Connection {
    Connection {
        id,
        client: "10.0.0.1:40000".parse().unwrap(),
        server: server.parse().unwrap(),
        hostname: host.map(str::to_string),
        ..Connection::default()
    }
}

fn get(url: Option<&str>, path: Option<&str>) -> HttpExchange {
    HttpExchange {
        version: "HTTP/1.1".into(),
        method: Some("GET".into()),
        url: url.map(str::to_string),
        path: path.map(str::to_string),
        ..HttpExchange::default()
    }
}

#[test]
fn host_and_path_from_url_strips_default_ports_and_userinfo() {
    let c = conn(1, "10.0.0.2:443", Some("x.test"));
    let cases = [
        (
            "https://WWW.Example.test:443/a?b=1",
            "www.example.test",
            "/a?b=1",
        ),
        ("http://www.example.test:80/", "www.example.test", "/"),
        (
            "http://www.example.test:8080/",
            "www.example.test:8080",
            "/",
        ),
        ("http://u:p@h.test/x#frag", "h.test", "/x"),
        ("https://h.test", "h.test", "/"),
        ("https://h.test?q", "h.test", "?q"),
        ("http://[fd99::2]:8080/p", "[fd99::2]:8080", "/p"),
    ];
    for (url, host, path) in cases {
        let h = get(Some(url), None);
        assert_eq!(
            host_and_path(&h, c.hostname.as_deref(), c.server),
            (host.to_string(), path.to_string()),
            "{url}"
        );
    }
}

#[test]
fn host_and_path_falls_back_to_the_connection() {
    let h = get(None, Some("/p"));
    assert_eq!(
        host_and_path(&h, Some("Named.test"), "10.0.0.2:80".parse().unwrap()),
        ("named.test".to_string(), "/p".to_string())
    );
    assert_eq!(
        host_and_path(&h, None, "10.0.0.2:8080".parse().unwrap()),
        ("10.0.0.2:8080".to_string(), "/p".to_string())
    );
}

#[test]
fn host_and_path_never_panics_on_odd_urls() {
    let c = conn(1, "10.0.0.2:80", None);
    for u in [
        "://",
        "a://",
        "://@",
        "é://ü/ä",
        "http://@@@/",
        "http://:443",
        "http://?#/",
    ] {
        let _ = host_and_path(&get(Some(u), None), c.hostname.as_deref(), c.server);
    }
}

#[test]
fn median_and_sum() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[3.0]), Some(3.0));
    assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    assert_eq!(sum(&[]), None);
    assert_eq!(sum(&[0.1, 0.2]), Some(0.3));
}

#[test]
fn deltas_round_to_the_microsecond() {
    assert_eq!(delta(Some(0.1), Some(0.3)), Some(0.2));
    assert_eq!(delta(Some(1.0), Some(1.0000004)), Some(0.0));
    assert_eq!(delta(None, Some(1.0)), None);
    assert_eq!(delta(Some(1.0), None), None);
}

#[test]
fn origins_name_scheme_host_and_non_default_port() {
    let mut c = conn(1, "[fd99::2]:443", Some("WWW.example.test."));
    c.tls = Some(Box::default());
    assert_eq!(origin_of(&c), "https://www.example.test");
    let mut c = conn(2, "[fd99::2]:8080", Some("www.example.test"));
    c.http.push(get(None, Some("/")));
    assert_eq!(origin_of(&c), "http://www.example.test:8080");
    assert_eq!(
        origin_of(&conn(3, "[fd99::2]:80", None)),
        "http://[fd99::2]"
    );
    assert_eq!(
        origin_of(&conn(4, "10.0.0.2:5555", None)),
        "tcp://10.0.0.2:5555"
    );
    let mut c = conn(5, "10.0.0.53:53", None);
    c.app_protocol = Some(AppProtocol::Dns);
    assert_eq!(origin_of(&c), "dns://10.0.0.53:53");
}

#[test]
fn empty_reports_diff_to_empty() {
    let d = diff(
        &Report::default(),
        &Report::default(),
        &DiffOptions::default(),
    );
    assert!(d.requests.is_empty() && d.only_a.is_empty() && d.only_b.is_empty());
    assert!(d.origins.is_empty());
    let page = d.summary.iter().find(|r| r.metric == "page_ms").unwrap();
    assert_eq!((page.a, page.b, page.delta), (None, None, None));
    let req = d.summary.iter().find(|r| r.metric == "requests").unwrap();
    assert_eq!(req.delta, Some(Num::Int(0)));
    let mut out = Vec::new();
    write_table(&mut out, &d, &DiffTableOptions::default()).unwrap();
    write_json(&mut out, &d).unwrap();
}

#[test]
fn unknown_http_version_is_not_a_change() {
    let known = OriginSide {
        http_versions: vec!["HTTP/2".into()],
        ..OriginSide::default()
    };
    let unknown = OriginSide::default();
    assert!(origin_changes(&known, &unknown).is_empty());
    assert!(origin_changes(&unknown, &known).is_empty());
    let h1 = OriginSide {
        http_versions: vec!["HTTP/1.1".into()],
        ..OriginSide::default()
    };
    assert_eq!(origin_changes(&known, &h1), ["http_version"]);
}
