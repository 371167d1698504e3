//! Tests that read the third-party corpus in place (../shared/captures; skipped with a
//! message where it is absent, as in a user's clone), for the cases where pagetrace and
//! tshark 4.0 disagree on purpose: each test shows why tshark is wrong there.

mod common;

use std::net::IpAddr;

use common::*;
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::dissect::dns;
use pagetrace::link;
use pagetrace::net::{self, UdpDatagram};

macro_rules! corpus_or_skip {
    ($name:expr) => {{
        match shared_captures() {
            Some(d) => d.join($name),
            None => {
                eprintln!("skipped: ../shared/captures is not here");
                return;
            }
        }
    }};
}

/// tshark's `dns.time` pairs two mDNS messages in `ipv6-mdns-http.pcap` (1.248 ms and
/// 251.233 ms): but every mDNS message there is sent by the same host to ff02::fb. The
/// "queries" are the host's own probes (RFC 6762 section 8.1: a question with its proposed
/// records in the authority section, sent 250 ms apart) and the "responses" its own
/// announcements (section 8.3). No one answered anyone: there is no lookup latency to
/// report, so pagetrace lists no DNS transaction for them (tshark's own `dns` truth list
/// leaves mDNS out too; only its timing file pairs them).
#[test]
fn mdns_probes_and_announcements_are_not_lookups() {
    let path = corpus_or_skip!("ipv6-mdns-http.pcap");
    let mut reader = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut senders: Vec<IpAddr> = Vec::new();
    let mut probes = 0;
    let mut announcements = 0;
    let mut w = Vec::new();
    reader.for_each(&mut w, |ev| {
        let CaptureEvent::Packet(p) = ev else { return };
        let Ok(f) = link::decode(p.link, p.data) else {
            return;
        };
        let Ok(ip) = net::parse_ip(f.proto, f.payload) else {
            return;
        };
        if ip.proto != net::PROTO_UDP {
            return;
        }
        let Some(u) = UdpDatagram::new_checked(ip.payload) else {
            return;
        };
        if u.dst_port != 5353 {
            return;
        }
        let m = dns::parse_message(u.payload).unwrap();
        assert_eq!(ip.dst, "ff02::fb".parse::<IpAddr>().unwrap());
        if m.is_response() {
            announcements += 1;
            assert!(
                m.questions.is_empty(),
                "an announcement answers no question"
            );
        } else {
            probes += 1;
            assert!(
                !m.authority.is_empty(),
                "a probe carries its proposed records"
            );
        }
        if !senders.contains(&ip.src) {
            senders.push(ip.src);
        }
    });
    assert!(probes >= 3 && announcements >= 2);
    assert_eq!(
        senders.len(),
        1,
        "every mDNS message comes from one host: {senders:?}"
    );
    let r = analyze(&path);
    assert!(r.dns.is_empty(), "mDNS is not reported as DNS lookups");
}

/// tshark pairs the first response of a pipelined batch with the *last* request of the
/// segment that carried the batch: in `http-pipelining.pcap` frame 4 holds seven requests
/// (`/postinfo.html` first, `/_vti_bin/fpcount.exe?...` last) and frame 6 the first 404;
/// tshark's `http.time` (0.219 ms) and `request_in` give it to `fpcount.exe`. RFC 9112
/// section 9.3.2: "A server MUST send its responses to those requests in the same order
/// that the requests were received", so the first response answers `/postinfo.html`.
/// pagetrace pairs in order: that 0.219 ms belongs to `/postinfo.html`.
#[test]
fn pipelined_responses_pair_in_request_order() {
    let path = corpus_or_skip!("http-pipelining.pcap");
    let r = analyze(&path);
    let http: Vec<_> = r.connections.iter().flat_map(|c| &c.http).collect();
    assert!(http.len() >= 40);
    let first = http[0];
    assert_eq!(first.path.as_deref(), Some("/postinfo.html"));
    assert_eq!(first.status, Some(404));
    let ttfb = first.ttfb_ms.unwrap();
    assert!((ttfb - 0.219).abs() < 0.01, "{ttfb}");
    let fpcount = http
        .iter()
        .position(|h| {
            h.path
                .as_deref()
                .is_some_and(|p| p.starts_with("/_vti_bin/fpcount.exe"))
        })
        .unwrap();
    assert_eq!(fpcount, 6, "the seventh request of the batch");
    assert!(
        http[fpcount].ttfb_ms.unwrap() > ttfb,
        "its response came later"
    );
    // Every request got exactly one response, in order.
    assert!(http
        .iter()
        .all(|h| h.status == Some(404) || h.status == Some(200)));
}

/// `http-keepalive-page.pcap` asks for `/favicon.ico` twice (streams 3 and 6). tshark's
/// own truth file shows both answered (frames 212→237 and 697→701), but its timing file
/// (`http.time` with body reassembly off) lists only the second, so fidelity.py pairs that
/// one value with the lower of our two. pagetrace times both.
#[test]
fn both_favicon_requests_are_timed() {
    let path = corpus_or_skip!("http-keepalive-page.pcap");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_extension("pcap.truth.json")).unwrap(),
    )
    .unwrap();
    let answered = truth["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["kind"] == "response"
                && m["response_for.uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/favicon.ico"))
        })
        .count();
    assert_eq!(answered, 2, "tshark saw both favicon responses");
    let timing: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_extension("pcap.timing.json")).unwrap(),
    )
    .unwrap();
    let timed = timing["http1"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["uri"] == "/favicon.ico")
        .count();
    assert_eq!(timed, 1, "tshark's timing file times only one");
    let r = analyze(&path);
    let ours: Vec<f64> = r
        .connections
        .iter()
        .flat_map(|c| &c.http)
        .filter(|h| h.path.as_deref() == Some("/favicon.ico"))
        .map(|h| h.ttfb_ms.unwrap())
        .collect();
    assert_eq!(ours.len(), 2);
    // Both near tshark's reassembled http.time (76.171 ms and 117.467 ms), measured to
    // the response's first byte.
    assert!(
        (ours[0] - 76.1).abs() < 1.0 && (ours[1] - 117.4).abs() < 1.0,
        "{ours:?}"
    );
}
