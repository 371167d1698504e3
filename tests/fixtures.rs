//! Our own recordings (fixtures/, made with ../shared/tools/record-pageload.sh) against
//! their manifests: every TCP connection and every DNS lookup the manifest lists is in the
//! report with the right endpoints, handshake, answers and close initiator.

mod common;

use common::*;
use pagetrace::pageload::model::{ClientBy, CloseKind, DnsTransport, Report, Side};

fn check_connections(dir: &str, report: &Report) {
    let m = manifest(dir);
    let conns = m["connections"].as_array().expect("connections");
    assert!(!conns.is_empty());
    let requests = m["requests"].as_array().expect("requests");
    for mc in conns {
        let client = endpoint(
            mc["client_ip"].as_str().unwrap(),
            mc["client_port"].as_u64().unwrap(),
        );
        let server = endpoint(
            mc["server_ip"].as_str().unwrap(),
            mc["server_port"].as_u64().unwrap(),
        );
        let c = report
            .connections
            .iter()
            .find(|c| c.client == client && c.server == server)
            .unwrap_or_else(|| panic!("{dir}: connection {client} -> {server} missing"));
        assert_eq!(c.client_by, ClientBy::Syn, "{client}");
        let t = &c.tcp;
        assert!(
            t.syn_ts.is_some() && t.synack_ts.is_some() && t.ack_ts.is_some(),
            "{client}: handshake"
        );
        assert_eq!(t.handshake_valid, Some(true), "{client}");
        assert!(t.handshake_ms.unwrap() > 0.0);
        assert_eq!(
            t.gaps.client + t.gaps.server,
            0,
            "{client}: no capture loss in our recordings"
        );
        // Connection: close makes the server close first; curl closes the others.
        let ids: Vec<&str> = mc["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let server_closes = requests
            .iter()
            .filter(|r| ids.contains(&r["id"].as_str().unwrap()))
            .any(|r| r["connection_close"].as_bool() == Some(true));
        assert_eq!(t.close.kind, CloseKind::Fin, "{client}: {:?}", t.close);
        let want = if server_closes { "server" } else { "client" };
        assert_eq!(
            t.close.initiator.map(Side::as_str),
            Some(want),
            "{client}: {:?}",
            t.close.sequence
        );
        assert!(t.bytes.client > 0 && t.bytes.server > 0);
    }
}

fn check_dns(dir: &str, report: &Report) {
    let m = manifest(dir);
    for l in m["dns"]["lookups_per_load"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        for qtype in l["qtypes"].as_array().unwrap() {
            let qtype = qtype.as_str().unwrap();
            let t = report
                .dns
                .iter()
                .find(|d| {
                    d.questions
                        .first()
                        .is_some_and(|q| q.name == name && q.qtype == qtype)
                        && d.response_ts.is_some()
                })
                .unwrap_or_else(|| panic!("{dir}: lookup {name} {qtype} missing"));
            assert_eq!(t.rcode.as_deref(), l["rcode"].as_str(), "{name} {qtype}");
            assert_eq!(t.transport, DnsTransport::Udp);
            assert!(t.latency_ms.unwrap() >= 0.0);
            let key = if qtype == "A" { "a" } else { "aaaa" };
            let mut want: Vec<&str> = l[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let mut got: Vec<&str> = t
                .answers
                .iter()
                .filter(|a| a.rtype == qtype)
                .map(|a| a.data.as_str())
                .collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name} {qtype}");
            let chain: Vec<&str> = l["cname_chain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            if qtype == "A" {
                let cnames: Vec<&str> = t
                    .answers
                    .iter()
                    .filter(|a| a.rtype == "CNAME")
                    .map(|a| a.data.as_str())
                    .collect();
                assert_eq!(cnames, chain, "{name} CNAME chain");
            }
        }
    }
    // Every connection to a name is linked to the lookup that gave its address.
    for c in &report.connections {
        let i = c
            .dns
            .unwrap_or_else(|| panic!("{}: not linked to DNS", c.client));
        let d = &report.dns[i];
        assert!(d.response_ts.unwrap() <= c.tcp.syn_ts.unwrap());
        assert!(c.timeline.dns_ms.is_some());
    }
}

#[test]
fn pageload_connections_match_manifest() {
    let r = analyze(&fixture("pageload/pageload.pcap"));
    check_connections("pageload", &r);
}

#[test]
fn pageload_dns_matches_manifest() {
    let r = analyze(&fixture("pageload/pageload.pcap"));
    check_dns("pageload", &r);
}

#[test]
fn pcapng_gives_the_same_connections_as_pcap() {
    let a = analyze(&fixture("pageload/pageload.pcap"));
    let b = analyze(&fixture("pageload/pageload.pcapng"));
    assert_eq!(b.capture.format, "pcapng");
    assert_eq!(a.connections.len(), b.connections.len());
    for (x, y) in a.connections.iter().zip(&b.connections) {
        assert_eq!(
            (&x.client, &x.server, x.tcp.handshake_ms),
            (&y.client, &y.server, y.tcp.handshake_ms)
        );
        assert_eq!(x.tcp.bytes, y.tcp.bytes);
    }
}

#[test]
fn lossy_pageload_reassembles_every_connection() {
    let r = analyze(&fixture("pageload-loss/pageload.pcap"));
    check_connections("pageload-loss", &r);
    check_dns("pageload-loss", &r);
    // The loss happens before the capture point, so every resent segment is the first copy
    // the capture holds. Each is flagged once, as a retransmission or (when it came within
    // the initial RTT of the highest segment) out-of-order, exactly as the recorder counted.
    let m = manifest("pageload-loss");
    let want = m["capture"]["tcp_retransmitted_segments"]["server"]
        .as_u64()
        .unwrap();
    let retrans: u64 = r
        .connections
        .iter()
        .map(|c| c.tcp.retransmissions.server)
        .sum();
    let ooo: u64 = r
        .connections
        .iter()
        .map(|c| c.tcp.out_of_order.server)
        .sum();
    assert_eq!(want, 21, "the recording has server retransmissions");
    assert_eq!(retrans + ooo, want);
    // tshark 4.0 on this file: `tcp.analysis.retransmission` 9, `tcp.analysis.out_of_order` 12.
    assert_eq!((retrans, ooo), (9, 12));
}

/// Decrypted, the same recording's resends are each named once as the delay they caused:
/// on the exchange whose bytes the resent segment carried (HTTP/2 streams share a
/// connection: the one whose frames were in it), or on the connection when it carried no
/// exchange's bytes; the streams that only waited behind it get `head_of_line`, never the
/// retransmission itself.
#[test]
fn lossy_pageload_names_every_resend_once_on_the_stream_it_carried() {
    use pagetrace::pageload::model::DelayKind;
    let keys = std::fs::read_to_string(fixture("pageload-loss/pageload.keys")).unwrap();
    let r = analyze_with(
        std::fs::read(fixture("pageload-loss/pageload.pcap")).unwrap(),
        "pageload-loss",
        Default::default(),
        Some(&keys),
    );
    // Every resend here carried data the receiver waited for (the capture is at the
    // client, the loss before it): each is named, out-of-order fillers Wireshark counts
    // apart included.
    for (c, (named, _)) in r.connections.iter().zip(resends_named_once(&r)) {
        let t = &c.tcp;
        let counted = t.retransmissions.server + t.out_of_order.server;
        assert_eq!(named as u64, counted, "connection {}", c.id);
    }
    let on_a_stream = r
        .connections
        .iter()
        .flat_map(|c| &c.http)
        .filter(|h| h.stream.is_some())
        .flat_map(|h| &h.diagnosis)
        .filter(|d| {
            matches!(
                d.kind,
                DelayKind::FastRetransmission | DelayKind::RtoRetransmission
            )
        })
        .count();
    // hero.jpg's stream carried the four resends on the HTTP/2 connection, favicon.ico's
    // waited behind three of them.
    assert_eq!(on_a_stream, 4);
}

/// The h2c phase runs two curl processes at once, each resolving www.example.test itself
/// (two A + AAAA pairs from two client ports): each connection is linked to its own lookup.
#[test]
fn two_clients_resolving_at_once_each_get_their_lookup() {
    let r = analyze(&fixture("pageload/pageload.pcap"));
    let h2c: Vec<_> = r
        .connections
        .iter()
        .filter(|c| c.server.port() == 8080)
        .collect();
    assert_eq!(h2c.len(), 2);
    let lookups: Vec<usize> = h2c.iter().map(|c| c.dns.expect("linked")).collect();
    assert_ne!(lookups[0], lookups[1], "one lookup each");
    for (c, &i) in h2c.iter().zip(&lookups) {
        let d = &r.dns[i];
        assert_eq!(d.questions[0].name, "www.example.test");
        assert!(d.response_ts.unwrap() <= c.tcp.syn_ts.unwrap());
        assert!(d.answers.iter().any(|a| a.data == "fd99::2"), "{d:?}");
    }
    let ports: std::collections::HashSet<_> = lookups.iter().map(|&i| &r.dns[i].client).collect();
    assert_eq!(ports.len(), 2, "from the two processes' ports");
}

/// The classic journey: `http://` answered by a 301 to `https://`, and the HTTPS request
/// that followed on another connection is linked to it (both ways).
#[test]
fn the_301_is_linked_to_the_https_request_that_followed() {
    let dir = "pageload";
    let keys = std::fs::read_to_string(fixture(dir).join("pageload.keys")).unwrap();
    let r = analyze_with(
        std::fs::read(fixture(dir).join("pageload.pcap")).unwrap(),
        "t",
        pagetrace::pipeline::AnalyzerConfig::default(),
        Some(&keys),
    );
    let (from_c, from_i, redirect) = r
        .connections
        .iter()
        .flat_map(|c| c.http.iter().enumerate().map(move |(i, h)| (c, i, h)))
        .find(|(_, _, h)| h.status == Some(301))
        .map(|(c, i, h)| (c.id, i, h))
        .expect("the 301");
    assert_eq!(redirect.url.as_deref(), Some("http://www.example.test/"));
    assert_eq!(
        redirect.redirect_to.as_deref(),
        Some("https://www.example.test/")
    );
    let (c, h) = r
        .connections
        .iter()
        .flat_map(|c| c.http.iter().map(move |h| (c, h)))
        .find(|(_, h)| h.redirected_from.is_some())
        .expect("a request linked to the redirect");
    let link = h.redirected_from.unwrap();
    assert_eq!((link.connection, link.index), (from_c, from_i));
    assert_eq!(h.url.as_deref(), Some("https://www.example.test/"));
    assert_ne!(c.id, from_c, "on the HTTPS connection");
    assert!(c.tls.is_some());
    assert!(h.request_ts > redirect.response_ts);
}
