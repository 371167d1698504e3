//! HTTP/3 page loads recorded on the spot by `tests/lab` (root, network namespaces): real
//! Chromium (http:// → 301 → a document over h2 whose `Alt-Svc` offers h3 → subresources
//! over HTTP/3, several at once, a 404, a 1.25 MiB body, a gzip body) and aioquic's client
//! over QUIC v1 and v2, one run with 3% loss on the path. Every request the servers logged
//! must be in the report with its protocol, status and body size, from the key log file and
//! from the pcapng's secrets block; the journey's links (the 301, the Alt-Svc) must be made.
//!
//! Needs root and `sudo tests/lab/setup.sh` (Debian's chromium, nginx-light, dnsmasq-base,
//! tcpdump, wireshark-common; aioquic in tests/lab/.venv; playwright-core in
//! tests/lab/node_modules). Skipped with a message otherwise, unless
//! `PAGETRACE_LAB_REQUIRED=1` (CI sets it) makes that a failure. About a minute.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use pagetrace::pageload::model::{HttpExchange, Report};
use pagetrace::pipeline::AnalyzerConfig;

fn skip() -> bool {
    common::lab::skip_lab(common::lab::missing(true))
}

fn record(name: &str, args: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("pagetrace-lab-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut all: Vec<&std::ffi::OsStr> = ["--scenario", "h3", "-q", "--out"]
        .iter()
        .map(std::ffi::OsStr::new)
        .collect();
    all.push(out.as_os_str());
    all.extend(args.iter().map(std::ffi::OsStr::new));
    if let Err(why) = common::lab::record(&all) {
        panic!("{name}: the lab failed:\n{why}");
    }
    out
}

fn analyze_dir(dir: &Path, pcapng: bool) -> Report {
    let (file, keys) = if pcapng {
        ("capture.pcapng", None)
    } else {
        (
            "capture.pcap",
            Some(std::fs::read_to_string(dir.join("keys.log")).expect("keys.log")),
        )
    };
    analyze_with(
        std::fs::read(dir.join(file)).expect("capture"),
        file,
        AnalyzerConfig::default(),
        keys.as_deref(),
    )
}

/// Every exchange of the report with its protocol as the manifest names them.
fn exchanges(r: &Report) -> Vec<(&'static str, u16, &HttpExchange)> {
    let mut v = Vec::new();
    for c in &r.connections {
        for h in &c.http {
            let p = if h.version == "HTTP/2" { "h2" } else { "h1" };
            v.push((p, c.server.port(), h));
        }
    }
    for q in &r.quic {
        for h in &q.http {
            v.push(("h3", q.server.port(), h));
        }
    }
    v
}

/// Every request the servers logged, matched once each by protocol, method, host, path;
/// status and body size equal. Returns how many per protocol.
fn check(name: &str, dir: &Path, r: &Report) -> [usize; 3] {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut seen = exchanges(r);
    let mut counts = [0usize; 3];
    for q in m["requests"].as_array().unwrap() {
        let proto = q["protocol"].as_str().unwrap();
        let (method, host, path) = (
            q["method"].as_str().unwrap(),
            q["host"].as_str().unwrap(),
            q["path"].as_str().unwrap(),
        );
        let at = seen
            .iter()
            .position(|(p, _, h)| {
                *p == proto
                    && h.method.as_deref() == Some(method)
                    && h.path.as_deref() == Some(path)
                    && h.url.as_deref().is_some_and(|u| u.contains(host))
            })
            .unwrap_or_else(|| panic!("{name}: {proto} {method} {host}{path} not in the report"));
        let (_, _, h) = seen.remove(at);
        assert_eq!(
            h.status.map(u64::from),
            q["status"].as_u64(),
            "{name}: {path} status"
        );
        assert_eq!(
            Some(h.body_bytes),
            q["body_bytes_wire"].as_u64(),
            "{name}: {proto} {path} body bytes"
        );
        counts[["h1", "h2", "h3"].iter().position(|p| *p == proto).unwrap()] += 1;
    }
    // Chromium's own lookups (accounts.google.com, ...) open no connection; every request
    // in the report was logged by a server.
    assert!(
        seen.is_empty(),
        "{name}: requests no server logged: {}",
        seen.len()
    );
    counts
}

#[test]
fn chromium_page_load_over_h2_then_h3() {
    if skip() {
        return;
    }
    let dir = record("chromium", &[]);
    for pcapng in [false, true] {
        let how = if pcapng {
            "pcapng secrets block"
        } else {
            "key log"
        };
        let r = analyze_dir(&dir, pcapng);
        let [h1, h2, h3] = check(&format!("chromium, {how}"), &dir, &r);
        eprintln!("chromium, {how}: {h1} HTTP/1.1, {h2} HTTP/2, {h3} HTTP/3 requests agree");
        assert!(h1 >= 1 && h2 >= 1 && h3 >= 6, "{how}: {h1} {h2} {h3}");
        // The journey: the 301 is followed over h2; the QUIC connection was offered by the
        // h2 responses' Alt-Svc.
        let q = r
            .quic
            .iter()
            .find(|q| !q.http.is_empty())
            .expect("an h3 connection");
        let offer = q.h3_offer.as_ref().expect("linked to its Alt-Svc");
        let c = r
            .connections
            .iter()
            .find(|c| c.id == offer.connection)
            .unwrap();
        assert_eq!(c.app_protocol.map(|a| a.as_str()), Some("tls/http2"));
        assert!(offer.value.starts_with("h3="));
        let doc = r
            .connections
            .iter()
            .flat_map(|c| &c.http)
            .find(|h| h.url.as_deref() == Some("https://www.lab.test/"))
            .expect("the document");
        assert!(doc.redirected_from.is_some(), "{how}: the 301 is linked");
        let tls = q.tls.as_ref().unwrap();
        assert_eq!(tls.alpn.as_deref(), Some("h3"));
        assert!(tls.decrypted && !tls.certificates.is_empty());
        assert!(q.dns.is_some(), "{how}: the QUIC connection's lookup");
        assert_eq!(q.decryption.as_ref().unwrap().failed, 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The lab's DNS answers HTTPS queries with `1 . alpn="h3,h2"` (RFC 9460): Chromium needs
/// no Alt-Svc to use HTTP/3 (and upgrades http:// itself, RFC 9460 9.5), and the QUIC
/// connection is linked to the record that offered h3, in JSON and in words.
#[test]
fn chromium_page_load_offered_h3_by_an_https_record() {
    if skip() {
        return;
    }
    let dir = record("chromium-https-rr", &["--https-rr", "h3,h2"]);
    let r = analyze_dir(&dir, true);
    let [h1, h2, h3] = check("chromium, HTTPS record", &dir, &r);
    eprintln!("chromium, HTTPS record: {h1} HTTP/1.1, {h2} HTTP/2, {h3} HTTP/3 requests agree");
    assert!(h3 >= 6, "{h1} {h2} {h3}");
    let q = r
        .quic
        .iter()
        .find(|q| !q.http.is_empty())
        .expect("an h3 connection");
    let offer = q.h3_dns_offer.as_ref().expect("linked to the HTTPS record");
    let t = &r.dns[offer.dns];
    assert_eq!(t.questions[0].qtype, "HTTPS");
    assert_eq!(t.questions[0].name, "www.lab.test");
    assert!(t.response_ts.unwrap() <= q.first_ts);
    assert_eq!(offer.value, "1 . alpn=\"h3,h2\"");
    assert_eq!(offer.ttl_s, t.answers[offer.answer].ttl);
    let mut text = Vec::new();
    pagetrace::report::table::write_report(&mut text, &r, &Default::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("Why     HTTP/3 because the HTTPS record of www.lab.test answered at"),
        "{text}"
    );
    // The same record on the connection: h3 used of the ALPNs it offered.
    let u = q.https_record.as_ref().expect("https_record");
    assert_eq!(u.dns, offer.dns);
    assert_eq!(u.alpn, ["h3", "h2"]);
    assert_eq!(u.alpn_used.as_deref(), Some("h3"));
    assert!(!u.ech && !u.ech_sent);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The HTTPS record also carries an ECH config whose key no server here holds (public
/// name: the host itself). Chromium encrypts its ClientHello to it; the servers, which
/// know nothing of ECH, answer the outer hello; Chromium finds ECH not accepted, checks the
/// certificate against the public name and connects again without it. The report links
/// the first connection to the record, says its ClientHello used the record's ECH config,
/// and the page still loads.
#[test]
fn chromium_tries_the_ech_config_of_an_https_record() {
    if skip() {
        return;
    }
    let dir = record("chromium-ech", &["--https-rr", "h3,h2", "--https-rr-ech"]);
    let r = analyze_dir(&dir, true);
    let uses: Vec<(&str, &pagetrace::pageload::model::HttpsRecordUse)> = r
        .connections
        .iter()
        .filter_map(|c| Some(("tcp", c.https_record.as_deref()?)))
        .chain(
            r.quic
                .iter()
                .filter_map(|q| Some(("quic", q.https_record.as_deref()?))),
        )
        .collect();
    assert!(!uses.is_empty(), "no connection linked to the HTTPS record");
    for (_, u) in &uses {
        assert!(u.ech, "the record carried ech: {}", u.value);
        assert!(u.value.contains("ech="), "{}", u.value);
        assert_eq!(r.dns[u.dns].questions[0].qtype, "HTTPS");
    }
    let sent = uses.iter().filter(|(_, u)| u.ech_sent).count();
    assert!(sent >= 1, "no ClientHello used the ECH config: {uses:?}");
    // ECH was not accepted: Chromium closed that connection (ech_required) and the page
    // came over another, whose ClientHello named no config of the record (none, or
    // GREASE with a random id). That one is looked for among every connection: when
    // Chromium opened it after a lookup of its own, it links to that lookup instead.
    let hellos = r
        .connections
        .iter()
        .map(|c| (c.tls.as_deref(), c.https_record.as_ref()))
        .chain(
            r.quic
                .iter()
                .map(|q| (q.tls.as_deref(), q.https_record.as_ref())),
        );
    let (mut used_ids, mut others) = (Vec::new(), Vec::new());
    for (tls, u) in hellos {
        let Some(hello) = tls.and_then(|t| t.client_hello.as_ref()) else {
            continue;
        };
        if u.is_some_and(|u| u.ech_sent) {
            used_ids.push(hello.ech_config_id);
        } else {
            others.push(hello.ech_config_id);
        }
    }
    assert!(
        others.iter().any(|id| !used_ids.contains(id)),
        "no connection without the record's ECH: {uses:?}, ids used {used_ids:?}, others {others:?}"
    );
    let ok = r
        .connections
        .iter()
        .flat_map(|c| &c.http)
        .chain(r.quic.iter().flat_map(|q| &q.http))
        .filter(|h| h.status == Some(200))
        .count();
    assert!(ok >= 1, "the page loaded after the fallback");
    let mut text = Vec::new();
    pagetrace::report::table::write_report(&mut text, &r, &Default::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("its ECH config: the ClientHello was encrypted (ECH)"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn aioquic_client_over_quic_v1_and_v2_and_with_loss() {
    if skip() {
        return;
    }
    for (name, args) in [
        ("v1", &["--client", "aioquic"][..]),
        ("v2", &["--client", "aioquic", "--quic-version", "2"][..]),
        (
            "loss3",
            &["--client", "aioquic", "--loss", "3", "--seed", "7"][..],
        ),
    ] {
        let dir = record(name, args);
        for pcapng in [false, true] {
            let r = analyze_dir(&dir, pcapng);
            let [_, _, h3] = check(name, &dir, &r);
            eprintln!("aioquic {name}: {h3} HTTP/3 requests agree");
            assert!(h3 >= 6, "{name}: {h3}");
            let q = r.quic.iter().find(|q| !q.http.is_empty()).unwrap();
            let want = if name == "v2" { "v2" } else { "v1" };
            assert_eq!(q.version, want, "{name}");
            assert!(
                q.http.iter().all(|h| h.complete),
                "{name}: every exchange whole"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
