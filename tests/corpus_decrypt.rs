//! Decryption on the third-party corpus (../shared/captures, read in place; skipped with a
//! message where absent): what pagetrace decrypts agrees with what tshark 4.0 decrypted
//! with the same secrets, request by request; the pcapng Decryption Secrets Block alone is
//! enough; a TLS 1.3 certificate chain comes out of the decrypted handshake; coded bodies
//! (gzip, brotli) decode to the sizes tshark decoded them to.

mod common;

use std::path::{Path, PathBuf};

use common::*;

use pagetrace::pageload::model::Report;
use pagetrace::pipeline::AnalyzerConfig;

fn corpus(name: &str) -> Option<PathBuf> {
    match shared_captures() {
        Some(d) => Some(d.join(name)),
        None => {
            eprintln!("skipped: ../shared/captures is not here");
            None
        }
    }
}

fn run(path: &Path, keylog: Option<&str>) -> Report {
    let bytes = std::fs::read(path).expect("capture");
    analyze_with(bytes, "corpus", AnalyzerConfig::default(), keylog)
}

fn keys_of(path: &Path) -> String {
    let mut k = path.as_os_str().to_owned();
    k.push(".keys");
    std::fs::read_to_string(k).expect("key log beside the capture")
}

fn truth(path: &Path) -> serde_json::Value {
    let mut t = path.as_os_str().to_owned();
    t.push(".truth.json");
    serde_json::from_str(&std::fs::read_to_string(t).unwrap()).unwrap()
}

/// (method, URL) of every request tshark decoded, HTTP/1 and HTTP/2, sorted.
fn truth_requests(t: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for h in t["http"].as_array().into_iter().flatten() {
        if h["kind"] == "request" {
            v.push((
                h["request.method"].as_str().unwrap().to_string(),
                h["request.full_uri"].as_str().unwrap().to_string(),
            ));
        }
    }
    for h in t["http2"].as_array().into_iter().flatten() {
        if h["frame_type"] == "HEADERS" && h[":method"].is_string() {
            v.push((
                h[":method"].as_str().unwrap().to_string(),
                format!(
                    "{}://{}{}",
                    h[":scheme"].as_str().unwrap_or("https"),
                    h[":authority"].as_str().unwrap_or(""),
                    h[":path"].as_str().unwrap_or("")
                ),
            ));
        }
    }
    v.sort();
    v
}

fn our_requests(r: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .connections
        .iter()
        .flat_map(|c| &c.http)
        .map(|h| (h.method.clone().unwrap(), h.url.clone().unwrap()))
        .collect();
    v.sort();
    v
}

fn decrypt_warnings(r: &Report) -> Vec<String> {
    r.connections
        .iter()
        .flat_map(|c| &c.warnings)
        .filter(|w| w.kind == pagetrace::warning::WarningKind::Decrypt)
        .map(|w| w.message.to_string())
        .collect()
}

#[test]
fn decrypted_requests_agree_with_tshark() {
    for name in [
        "tls12-ecdhe-http-keylog.pcap",
        "https-chunked-keylog.pcapng",
        "http2-tls-h2-16.pcapng",
        "http2-tls13-dsb.pcapng",
    ] {
        let Some(path) = corpus(name) else { return };
        let r = run(&path, Some(&keys_of(&path)));
        let want = truth_requests(&truth(&path));
        assert!(!want.is_empty(), "{name}: tshark saw requests");
        assert_eq!(our_requests(&r), want, "{name}");
        assert!(
            decrypt_warnings(&r).is_empty(),
            "{name}: {:?}",
            decrypt_warnings(&r)
        );
        assert!(
            r.connections
                .iter()
                .filter(|c| !c.http.is_empty())
                .all(|c| c.tls.as_ref().is_some_and(|t| t.decrypted)),
            "{name}: every connection with requests was decrypted"
        );
    }
}

#[test]
fn the_secrets_block_alone_decrypts_the_capture() {
    let Some(path) = corpus("http2-tls13-dsb.pcapng") else {
        return;
    };
    let r = run(&path, None);
    let want = truth_requests(&truth(&path));
    assert_eq!(our_requests(&r), want);
    // TLS 1.3 hides the server's ALPN choice; decrypted, EncryptedExtensions shows it.
    let tls = r.connections[0].tls.as_ref().unwrap();
    assert_eq!(tls.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(tls.alpn.as_deref(), Some("h2"));
}

#[test]
fn tls13_certificate_comes_out_of_the_decrypted_handshake() {
    let Some(path) = corpus("tls13-illustrated.pcap") else {
        return;
    };
    let without = run(&path, None);
    let tls = without.connections[0].tls.as_ref().unwrap();
    assert!(tls.certificates.is_empty(), "encrypted without keys");
    assert!(!tls.decrypted);

    let r = run(&path, Some(&keys_of(&path)));
    let tls = r.connections[0].tls.as_ref().unwrap();
    assert!(tls.decrypted);
    let t = truth(&path);
    let subjects: Vec<&str> = t["tls_handshakes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["certificates"].as_array().into_iter().flatten())
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["CN=example.ulfheim.net,C=US"]);
    let ours: Vec<&str> = tls
        .certificates
        .iter()
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(ours, subjects);
    // The application data ("ping" and "pong") decrypts cleanly.
    assert!(
        decrypt_warnings(&r).is_empty(),
        "{:?}",
        decrypt_warnings(&r)
    );
    assert!(tls.handshake_ms.is_some());
}

#[test]
fn another_captures_keys_decrypt_nothing() {
    let (Some(a), Some(b)) = (
        corpus("tls12-ecdhe-http-keylog.pcap"),
        corpus("https-chunked-keylog.pcapng"),
    ) else {
        return;
    };
    let r = run(&a, Some(&keys_of(&b)));
    assert!(our_requests(&r).is_empty());
    for c in r.connections.iter().filter(|c| c.tls.is_some()) {
        assert!(!c.tls.as_ref().unwrap().decrypted);
        assert!(c
            .warnings
            .iter()
            .any(|w| w.kind == pagetrace::warning::WarningKind::Keys));
    }
}

/// tshark 4.0's "Content-encoded entity body (gzip): 165 bytes -> 197 bytes" lines for the
/// corpus's coded responses (`tshark -V`, with the key log for the HTTP/2 one), as
/// (capture, with keys, wire bytes, decoded bytes).
const TSHARK_DECODED: &[(&str, bool, u64, u64)] = &[
    ("http-gzip.pcap", false, 165, 197),
    ("trunc-cut-mid-record-http.pcap", false, 36, 29),
    ("trunc-cut-mid-record-http.pcap", false, 22, 2),
    ("http2-tls13-dsb.pcapng", true, 99552, 1010942),
    ("http2-tls13-dsb.pcapng", true, 1631054, 10153383),
    ("http2-tls13-dsb.pcapng", true, 15164, 50695),
    ("http2-tls13-dsb.pcapng", true, 747, 1980),
    ("http2-tls13-dsb.pcapng", true, 22933, 78637),
    ("http2-tls13-dsb.pcapng", true, 2090, 5547),
    ("http2-tls13-dsb.pcapng", true, 3661, 9553),
    ("http2-tls13-dsb.pcapng", true, 1670, 5863),
    ("http2-tls13-dsb.pcapng", true, 4052, 10999),
    ("http2-tls13-dsb.pcapng", true, 1849, 12389),
    ("http2-tls13-dsb.pcapng", true, 256, 1011),
    ("http2-tls13-dsb.pcapng", true, 16512, 146933),
    ("http2-tls13-dsb.pcapng", true, 14310, 41762),
    ("http2-tls13-dsb.pcapng", true, 6158, 16626),
];

#[test]
fn coded_bodies_decode_to_the_sizes_tshark_gives() {
    let mut names: Vec<(&str, bool)> = TSHARK_DECODED.iter().map(|t| (t.0, t.1)).collect();
    names.dedup();
    for (name, with_keys) in names {
        let Some(path) = corpus(name) else { return };
        let keys = with_keys.then(|| keys_of(&path));
        let r = run(&path, keys.as_deref());
        let mut got: Vec<(u64, Option<u64>)> = r
            .connections
            .iter()
            .flat_map(|c| &c.http)
            .filter(|h| h.content_encoding.is_some())
            .inspect(|h| assert_eq!(h.body_decoded_partial, None, "{name}: {h:?}"))
            .map(|h| (h.body_bytes, h.body_decoded_bytes))
            .collect();
        let mut want: Vec<(u64, Option<u64>)> = TSHARK_DECODED
            .iter()
            .filter(|t| t.0 == name)
            .map(|t| (t.2, Some(t.3)))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}");
    }
}
