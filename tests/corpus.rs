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
        let Ok(f) = link::decode(p.link, p.data) else { return };
        let Ok(ip) = net::parse_ip(f.proto, f.payload) else { return };
        if ip.proto != net::PROTO_UDP {
            return;
        }
        let Some(u) = UdpDatagram::new_checked(ip.payload) else { return };
        if u.dst_port != 5353 {
            return;
        }
        let m = dns::parse_message(u.payload).unwrap();
        assert_eq!(ip.dst, "ff02::fb".parse::<IpAddr>().unwrap());
        if m.is_response() {
            announcements += 1;
            assert!(m.questions.is_empty(), "an announcement answers no question");
        } else {
            probes += 1;
            assert!(!m.authority.is_empty(), "a probe carries its proposed records");
        }
        if !senders.contains(&ip.src) {
            senders.push(ip.src);
        }
    });
    assert!(probes >= 3 && announcements >= 2);
    assert_eq!(senders.len(), 1, "every mDNS message comes from one host: {senders:?}");
    let r = analyze(&path);
    assert!(r.dns.is_empty(), "mDNS is not reported as DNS lookups");
}
