//! HTTP/3 from real traffic: QUIC decrypted with a key log, HTTP/3 and QPACK decoded, every
//! request the server logged in the report.
//!
//! `fixtures/h3-aioquic` is a recording of tests/lab (aioquic's HTTP/3 server and client in
//! network namespaces, `record.py --scenario h3 --client aioquic`): six requests over one
//! QUIC v1 connection, a gzip body and a 404 among them; `manifest.json` is what the server
//! logged. The corpus capture `quic-v2-http3-dsb-sll.pcapng` (QUIC v2, picoquic, keys in its
//! secrets block) is checked against tshark's HTTP/3 streams when `../shared` is there.

mod common;

use std::path::PathBuf;

use common::*;
use pagetrace::pageload::model::{QuicConnection, Report};
use pagetrace::pipeline::AnalyzerConfig;
use pagetrace::warning::WarningKind;

fn dir() -> PathBuf {
    fixture("h3-aioquic")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).expect("fixture file")
}

fn keys() -> String {
    std::fs::read_to_string(dir().join("capture.keys")).expect("capture.keys")
}

fn with_keys(capture: &str, keys: Option<&str>) -> Report {
    analyze_with(read(capture), capture, AnalyzerConfig::default(), keys)
}

fn only_quic(r: &Report) -> &QuicConnection {
    assert_eq!(r.quic.len(), 1, "one QUIC connection");
    &r.quic[0]
}

/// Every request of the manifest, by stream: method, path, status and body size as sent.
fn check_against_manifest(q: &QuicConnection, how: &str) {
    let m = manifest("h3-aioquic");
    let requests = m["requests"].as_array().expect("requests");
    assert!(!requests.is_empty());
    for r in requests {
        let stream = r["stream_id"].as_u64().unwrap();
        let h = q
            .http
            .iter()
            .find(|h| h.stream == Some(stream))
            .unwrap_or_else(|| panic!("{how}: stream {stream} missing: {r}"));
        assert_eq!(h.version, "HTTP/3", "{how}");
        assert_eq!(h.method.as_deref(), r["method"].as_str(), "{how} {stream}");
        assert_eq!(h.path.as_deref(), r["path"].as_str(), "{how} {stream}");
        assert_eq!(
            h.url.as_deref(),
            Some(format!("https://www.lab.test{}", r["path"].as_str().unwrap()).as_str())
        );
        assert_eq!(
            h.status.map(u64::from),
            r["status"].as_u64(),
            "{how} {stream}"
        );
        assert_eq!(
            Some(h.body_bytes),
            r["body_bytes_wire"].as_u64(),
            "{how} {stream}"
        );
        assert_eq!(
            h.body_decoded_bytes,
            r["body_bytes_decoded"].as_u64(),
            "{how} {stream}: decoded (the gzip body too)"
        );
        assert_eq!(
            h.content_encoding.as_deref(),
            r["content_encoding"].as_str(),
            "{how} {stream}"
        );
        assert!(h.complete, "{how}: stream {stream} incomplete");
        assert!(h.ttfb_ms.is_some_and(|t| t >= 0.0), "{how} {stream}");
    }
    assert_eq!(q.http.len(), requests.len(), "{how}: no invented request");
}

#[test]
fn every_request_the_server_logged_from_the_key_log() {
    let r = with_keys("capture.pcap", Some(&keys()));
    let q = only_quic(&r);
    check_against_manifest(q, "key log file");
    let tls = q.tls.as_ref().unwrap();
    assert_eq!(tls.alpn.as_deref(), Some("h3"));
    assert!(tls.decrypted);
    assert_eq!(tls.sni.as_deref(), Some("www.lab.test"));
    assert!(
        !tls.certificates.is_empty(),
        "the certificate from the Handshake packets"
    );
    assert!(tls.certificates[0].subject.contains("www.lab.test"));
    assert!(tls.handshake_done_ts.is_some(), "the client's Finished");
    let d = q.decryption.as_ref().unwrap();
    assert!(d.handshake > 0 && d.one_rtt > 0);
    assert_eq!((d.failed, d.no_keys), (0, 0));
    assert!(q.warnings.is_empty(), "{:?}", q.warnings);
}

#[test]
fn every_request_from_the_pcapng_secrets_block_alone() {
    let r = with_keys("capture.pcapng", None);
    check_against_manifest(only_quic(&r), "pcapng secrets block");
}

#[test]
fn without_keys_only_the_initials_open() {
    let r = with_keys("capture.pcap", None);
    let q = only_quic(&r);
    assert!(q.http.is_empty());
    assert!(q.decryption.is_none());
    let tls = q.tls.as_ref().unwrap();
    assert_eq!(tls.alpn, None, "EncryptedExtensions is not readable");
    assert_eq!(tls.alpn_offered, vec!["h3".to_string()]);
    assert!(!tls.decrypted);
}

#[test]
fn another_capture_s_keys_decrypt_nothing_and_say_so() {
    let wrong = std::fs::read_to_string(fixture("pageload/pageload.keys")).unwrap();
    let r = with_keys("capture.pcap", Some(&wrong));
    let q = only_quic(&r);
    assert!(q.http.is_empty());
    assert!(q.decryption.as_ref().is_some_and(|d| d.no_keys > 0));
    assert!(
        q.warnings.iter().any(|w| w.kind == WarningKind::Keys),
        "{:?}",
        q.warnings
    );
}

/// A flipped byte in one protected packet costs that packet: a `decrypt` warning, its
/// stream data a gap, every other request intact.
#[test]
fn a_flipped_byte_costs_one_packet() {
    let mut bytes = read("capture.pcap");
    // The largest response (p2.png, 13,000 bytes) arrives in full-size 1-RTT packets: flip
    // a byte near the end of the first packet of the capture that is that large.
    let mut pos = 24;
    let mut flipped = false;
    while pos + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let data = pos + 16;
        // Ethernet + IPv6 + UDP; short header (0x40 set, 0x80 clear) from port 443.
        if caplen > 1200 && data + caplen <= bytes.len() {
            let udp = data + 14 + 40;
            let src_port = u16::from_be_bytes([bytes[udp], bytes[udp + 1]]);
            let first = bytes[udp + 8];
            if src_port == 443 && first & 0x80 == 0 {
                bytes[data + caplen - 30] ^= 0x55;
                flipped = true;
                break;
            }
        }
        pos = data + caplen;
    }
    assert!(flipped, "a large 1-RTT packet from the server");
    let r = analyze_with(bytes, "flipped", AnalyzerConfig::default(), Some(&keys()));
    let q = only_quic(&r);
    assert_eq!(q.decryption.as_ref().unwrap().failed, 1);
    assert!(q.warnings.iter().any(|w| w.kind == WarningKind::Decrypt));
    let complete = q.http.iter().filter(|h| h.complete).count();
    assert!(
        complete >= q.http.len() - 1,
        "{complete} of {} complete",
        q.http.len()
    );
    assert_eq!(q.http.len(), 6, "every request still reported");
}

/// The corpus capture against tshark's HTTP/3 streams (its `.h3.json`): which streams
/// carried a request and which a response.
#[test]
fn corpus_http3_streams_agree_with_tshark() {
    let Some(dir) = shared_captures() else {
        eprintln!("../shared/captures not found: skipped");
        return;
    };
    let name = "quic-v2-http3-dsb-sll.pcapng";
    let r = analyze_with(
        std::fs::read(dir.join(name)).unwrap(),
        name,
        AnalyzerConfig::default(),
        None,
    );
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.h3.json"))).unwrap(),
    )
    .unwrap();
    let q = only_quic(&r);
    let mut ours = Vec::new();
    for h in &q.http {
        if h.method.is_some() {
            ours.push((h.stream.unwrap(), "req"));
        }
        if h.status.is_some() {
            ours.push((h.stream.unwrap(), "resp"));
        }
    }
    let mut want: Vec<(u64, &str)> = truth["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stream"].as_u64().unwrap(), s["dir"].as_str().unwrap()))
        .collect();
    ours.sort();
    want.sort();
    assert_eq!(ours, want);
    // QUIC v2 (RFC 9369) all the way: Handshake and 1-RTT packets opened with v2's labels.
    assert_eq!(q.version, "v2");
    assert_eq!(q.tls.as_ref().unwrap().alpn.as_deref(), Some("h3"));
}
