//! QUIC connections of the third-party corpus (read in place from ../shared/captures,
//! skipped with a message where absent), compared with tshark's truth files: the `quic`
//! list (versions, first DCID/SCID, addresses) and the `tls_handshakes` with `in_quic`.

mod common;

use common::*;
use pagetrace::pageload::model::{QuicConnection, Report};

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

fn truth(path: &std::path::Path) -> serde_json::Value {
    let mut name = path.as_os_str().to_owned();
    name.push(".truth.json");
    serde_json::from_str(&std::fs::read_to_string(name).unwrap()).unwrap()
}

fn version_hex(v: &str) -> &'static str {
    match v {
        "v1" => "0x00000001",
        "v2" => "0x6b3343cf",
        _ => "?",
    }
}

/// Checks every truth QUIC connection and its ClientHello/ServerHello against the report.
fn check(name: &str) -> (Report, Vec<QuicConnection>) {
    let path = shared_captures().unwrap().join(name);
    let report = analyze(&path);
    let t = truth(&path);
    let want = t["quic"].as_array().unwrap();
    assert_eq!(report.quic.len(), want.len(), "{name}: QUIC connections");
    for (q, w) in report.quic.iter().zip(want) {
        assert_eq!(
            q.client.to_string(),
            w["first_src"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            q.server.to_string(),
            w["first_dst"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(q.dcid, w["first_dcid"].as_str().unwrap(), "{name}");
        assert_eq!(q.scid, w["first_scid"].as_str().unwrap(), "{name}");
        let versions: Vec<&str> = q.versions.iter().map(|v| version_hex(v)).collect();
        let want_v: Vec<&str> = w["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(versions, want_v, "{name}");
        assert_eq!(
            q.packets.client + q.packets.server > 0,
            w["packets"].as_u64().unwrap() > 0
        );
        for ty in w["long_header_types"].as_array().unwrap() {
            let n = |c: &pagetrace::pageload::model::QuicPacketCounts| match ty.as_str().unwrap() {
                "Initial" => c.initial,
                "Handshake" => c.handshake,
                "0-RTT" => c.zero_rtt,
                "Retry" => c.retry,
                _ => 0,
            };
            assert!(
                n(&q.client_packets) + n(&q.server_packets) > 0,
                "{name}: {ty} packets"
            );
        }
        assert_eq!(q.initials_failed, 0, "{name}: {:?}", q.warnings);
        assert!(q.warnings.is_empty(), "{name}: {:?}", q.warnings);
    }
    let hellos: Vec<&serde_json::Value> = t["tls_handshakes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["in_quic"].as_bool() == Some(true))
        .collect();
    let q = &report.quic[0];
    let tls = q.tls.as_ref().expect("TLS from the Initials");
    let ch = hellos
        .iter()
        .find(|h| h["handshake_type"] == 1)
        .expect("a ClientHello in the truth");
    let sni: Vec<&str> = ch["sni"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(tls.sni.as_deref(), sni.first().copied(), "{name}");
    let alpn: Vec<String> = ch["alpn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(tls.alpn_offered, alpn, "{name}");
    assert_eq!(tls.ja3.as_deref(), ch["ja3"].as_str(), "{name}");
    assert!(tls.ja4.as_deref().unwrap().starts_with("q13"), "{name}");
    let sh = hellos
        .iter()
        .find(|h| h["handshake_type"] == 2)
        .expect("a ServerHello in the truth");
    assert_eq!(tls.cipher_id, Some(0x1301), "{name}");
    assert_eq!(sh["cipher_suite"].as_str(), Some("0x1301"));
    assert_eq!(tls.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(tls.ja3s.as_deref(), sh["ja3s"].as_str(), "{name}");
    // The chosen ALPN is in EncryptedExtensions: read when keys opened the Handshake
    // packets (the QUIC v2 capture's secrets block), else not readable from Initials.
    if tls.decrypted {
        assert!(
            tls.alpn.as_ref().is_some_and(|a| alpn.contains(a)),
            "{name}"
        );
    } else {
        assert_eq!(tls.alpn, None, "{name}");
    }
    assert_eq!(q.hostname, tls.sni);
    // QUIC leaves the TCP connections list alone.
    let tcp = t["tcp_conversations"].as_array().map_or(0, |a| a.len());
    assert_eq!(report.connections.len(), tcp, "{name}");
    let quic = report.quic.clone();
    (report, quic)
}

#[test]
fn quic_illustrated_v1() {
    corpus_or_skip!("quic-illustrated.pcap");
    let (_, q) = check("quic-illustrated.pcap");
    let tls = q[0].tls.as_ref().unwrap();
    assert_eq!(tls.sni.as_deref(), Some("example.ulfheim.net"));
    assert_eq!(tls.alpn_offered, vec!["ping/1.0".to_string()]);
    assert_eq!(q[0].version, "v1");
    assert!(q[0].handshake_ms.is_some());
}

#[test]
fn quic_v2_http3() {
    corpus_or_skip!("quic-v2-http3-dsb-sll.pcapng");
    let (_, q) = check("quic-v2-http3-dsb-sll.pcapng");
    assert_eq!(q[0].version, "v2");
    assert_eq!(
        q[0].tls.as_ref().unwrap().alpn_offered,
        vec!["h3".to_string()]
    );
    // Frame 2 coalesces Initial, Handshake, Handshake and a 1-RTT packet.
    assert_eq!(q[0].server_packets.handshake, 2);
    assert_eq!(q[0].client_packets.zero_rtt, 1);
}

#[test]
fn quic_curl_google_h3() {
    corpus_or_skip!("quic-http3-curl-nokeys.pcap");
    let (report, q) = check("quic-http3-curl-nokeys.pcap");
    let tls = q[0].tls.as_ref().unwrap();
    assert_eq!(tls.sni.as_deref(), Some("www.google.de"));
    assert_eq!(tls.alpn_offered[0], "h3");
    let hs = q[0].handshake_ms.unwrap();
    assert!(hs > 30.0 && hs < 60.0, "{hs}");
    // The table report tells it in one line.
    let mut out = Vec::new();
    pagetrace::report::table::write_report(&mut out, &report, &Default::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("QUIC v1 172.17.0.2:34347 → 64.233.166.94:443")
            && text.contains("ALPN offered h3,h3-29"),
        "{text}"
    );
}

/// Every capture of the corpus with QUIC in its truth (Chrome's QUIC attempts among TCP
/// ones in `tls-many-clienthellos-hrr.pcapng` too): connection by connection, hello by hello.
#[test]
fn every_corpus_quic_connection_and_hello() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is not here");
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    names.sort();
    let (mut conns, mut hellos) = (0, 0);
    for t_path in names {
        let t: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&t_path).unwrap()).unwrap();
        let want = t["quic"].as_array().cloned().unwrap_or_default();
        let capture = t_path
            .to_string_lossy()
            .trim_end_matches(".truth.json")
            .to_string();
        let report = analyze(std::path::Path::new(&capture));
        assert_eq!(report.quic.len(), want.len(), "{capture}");
        for w in &want {
            let q = report
                .quic
                .iter()
                .find(|q| {
                    q.client.to_string() == w["first_src"] && q.server.to_string() == w["first_dst"]
                })
                .unwrap_or_else(|| panic!("{capture}: {w}"));
            assert_eq!(q.dcid, w["first_dcid"].as_str().unwrap(), "{capture}");
            // tshark's first_scid is the first non-empty one: Chrome's client SCID is empty,
            // so there it is the server's.
            let scid = if q.scid.is_empty() {
                q.server_scid.clone().unwrap_or_default()
            } else {
                q.scid.clone()
            };
            assert_eq!(scid, w["first_scid"].as_str().unwrap(), "{capture}");
            conns += 1;
        }
        for h in t["tls_handshakes"].as_array().into_iter().flatten() {
            if h["in_quic"].as_bool() != Some(true) {
                continue;
            }
            let (src, dst) = (h["src"].as_str().unwrap(), h["dst"].as_str().unwrap());
            let tls = |client: &str, server: &str| {
                report
                    .quic
                    .iter()
                    .find(|q| q.client.to_string() == client && q.server.to_string() == server)
                    .and_then(|q| q.tls.clone())
                    .unwrap_or_else(|| panic!("{capture}: no QUIC TLS for {h}"))
            };
            match h["handshake_type"].as_u64() {
                Some(1) => {
                    let tls = tls(src, dst);
                    let sni = h["sni"].as_array().and_then(|a| a.first());
                    assert_eq!(
                        tls.sni.as_deref(),
                        sni.and_then(|s| s.as_str()),
                        "{capture}"
                    );
                    let alpn: Vec<&str> = h["alpn"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap())
                        .collect();
                    assert_eq!(tls.alpn_offered, alpn, "{capture}");
                    assert_eq!(tls.ja3.as_deref(), h["ja3"].as_str(), "{capture}");
                    hellos += 1;
                }
                Some(2) => {
                    let tls = tls(dst, src);
                    assert_eq!(tls.ja3s.as_deref(), h["ja3s"].as_str(), "{capture}");
                    let id = h["cipher_suite"].as_str().unwrap();
                    assert_eq!(
                        tls.cipher_id.map(|c| format!("0x{c:04x}")).as_deref(),
                        Some(id)
                    );
                    hellos += 1;
                }
                _ => {}
            }
        }
    }
    eprintln!("{conns} QUIC connections, {hellos} hellos agree with tshark");
    assert!(conns >= 23 && hellos >= 46, "{conns} {hellos}");
}
