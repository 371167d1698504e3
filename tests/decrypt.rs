//! TLS decryption end to end on our own recordings: every request the manifest lists, over
//! HTTP/1.1 and HTTP/2, TLS 1.2 and 1.3, is in the report with its status and body size,
//! decrypted from the key log file and, separately, from the pcapng's Decryption Secrets
//! Block, its gzip bodies decoded to the sizes curl saved; a flipped byte fails
//! authentication with a warning and costs nothing else.

mod common;

use common::*;
use pagetrace::pageload::model::{Connection, HttpExchange, Report};
use pagetrace::pipeline::{Analyzer, AnalyzerConfig};

fn analyze_with_keys(capture: &[u8], keys: Option<&str>, body_hash: bool) -> Report {
    let cfg = AnalyzerConfig {
        body_hash,
        ..AnalyzerConfig::default()
    };
    analyze_with(capture.to_vec(), "test", cfg, keys)
}

fn read(dir: &str, file: &str) -> Vec<u8> {
    std::fs::read(fixture(dir).join(file)).expect("fixture")
}

fn keys(dir: &str) -> String {
    String::from_utf8(read(dir, "pageload.keys")).expect("key log text")
}

/// The exchanges of the report with their connection, in capture order.
fn exchanges(r: &Report) -> Vec<(&Connection, &HttpExchange)> {
    r.connections
        .iter()
        .flat_map(|c| c.http.iter().map(move |h| (c, h)))
        .collect()
}

/// Checks every answered request of the manifest against the report; returns how many
/// went over TLS.
fn check_requests(dir: &str, r: &Report, hashes: bool) -> usize {
    let m = manifest(dir);
    let mut seen = exchanges(r);
    let mut over_tls = 0;
    for req in m["requests"].as_array().unwrap() {
        let obs = &req["observed"];
        let code = obs["http_code"].as_u64().unwrap_or(0);
        if code == 0 {
            continue; // never answered (the manifest's deliberate failure)
        }
        let id = req["id"].as_str().unwrap();
        let method = req["method"].as_str().unwrap();
        let url = req["url"].as_str().unwrap();
        let pos = seen
            .iter()
            .position(|(_, h)| h.method.as_deref() == Some(method) && h.url.as_deref() == Some(url))
            .unwrap_or_else(|| panic!("{dir}: {id} {method} {url} not in the report"));
        let (c, h) = seen.remove(pos);
        assert_eq!(h.status, Some(code as u16), "{dir}: {id} status");
        assert_eq!(
            h.body_bytes,
            obs["size_download"].as_u64().unwrap(),
            "{dir}: {id} body bytes"
        );
        // The content's size, as curl --compressed saved it: gzip bodies decoded, others
        // as they came.
        if let Some(size) = req["body_size"].as_u64() {
            assert_eq!(h.body_decoded_bytes, Some(size), "{dir}: {id} decoded size");
            assert_eq!(h.body_decoded_partial, None, "{dir}: {id}");
        }
        let want_version = match req["http_version"].as_str().unwrap() {
            "2" => "HTTP/2".to_string(),
            v => format!("HTTP/{v}"),
        };
        assert_eq!(h.version, want_version, "{dir}: {id} version");
        assert!(h.ttfb_ms.is_some_and(|t| t >= 0.0), "{dir}: {id} ttfb");
        if req["scheme"] == "https" {
            over_tls += 1;
            let tls = c.tls.as_ref().expect("a TLS connection");
            assert!(tls.decrypted, "{dir}: {id} connection decrypted");
            let v = req["tls_version"].as_str().unwrap();
            assert_eq!(tls.version.as_deref(), Some(&*format!("TLS {v}")), "{id}");
            // TLS 1.3 hides the chosen ALPN in EncryptedExtensions: decrypted, it is known.
            let alpn = if h.version == "HTTP/2" {
                "h2"
            } else {
                "http/1.1"
            };
            assert_eq!(tls.alpn.as_deref(), Some(alpn), "{dir}: {id} ALPN");
        }
        let identity = req["content_encoding"].is_null() && obs["content_type"].is_string();
        if hashes && identity {
            if let Some(sha) = req["body_sha256"].as_str() {
                assert_eq!(h.body_sha256.as_deref(), Some(sha), "{dir}: {id} body hash");
            }
        }
        let warned: Vec<_> = c
            .warnings
            .iter()
            .filter(|w| w.kind == pagetrace::warning::WarningKind::Decrypt)
            .collect();
        assert!(warned.is_empty(), "{dir}: {id}: {warned:?}");
    }
    over_tls
}

#[test]
fn every_request_decrypted_from_the_key_log_file() {
    for dir in [
        "pageload",
        "pageload-tls12-h2",
        "pageload-http1",
        "pageload-delay40",
        "pageload-loss",
    ] {
        let r = analyze_with_keys(&read(dir, "pageload.pcap"), Some(&keys(dir)), true);
        let n = check_requests(dir, &r, true);
        assert!(n >= 10, "{dir}: only {n} requests over TLS");
    }
}

#[test]
fn every_request_decrypted_from_the_pcapng_secrets_block() {
    // No key log file: the secrets come from the capture itself.
    let r = analyze_with_keys(&read("pageload", "pageload.pcapng"), None, false);
    let n = check_requests("pageload", &r, false);
    assert!(n >= 10, "only {n} requests over TLS");
}

#[test]
fn without_keys_nothing_is_decrypted_and_the_handshake_stays() {
    let r = analyze_with_keys(&read("pageload", "pageload.pcap"), None, false);
    for c in &r.connections {
        if let Some(tls) = &c.tls {
            assert!(!tls.decrypted);
            assert!(c.http.is_empty(), "no requests without keys");
            assert!(tls.handshake_ms.is_some());
        }
    }
}

#[test]
fn keys_of_another_recording_decrypt_nothing_and_say_why() {
    let r = analyze_with_keys(
        &read("pageload", "pageload.pcap"),
        Some(&keys("pageload-http1")),
        false,
    );
    let tls: Vec<_> = r.connections.iter().filter(|c| c.tls.is_some()).collect();
    assert!(!tls.is_empty());
    for c in tls {
        assert!(!c.tls.as_ref().unwrap().decrypted);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.kind == pagetrace::warning::WarningKind::Keys
                    && w.message.contains("no secrets")),
            "{:?}",
            c.warnings
        );
    }
}

/// Offsets (into the file) of each packet's TCP payload, for a classic pcap of Ethernet
/// frames: (frame offset, payload offset, payload length, source port).
fn tcp_payloads(pcap: &[u8]) -> Vec<(usize, usize, u16)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = at + 16;
        at = frame + caplen;
        let f = &pcap[frame..at.min(pcap.len())];
        let ethertype = u16::from_be_bytes([f[12], f[13]]);
        let (ip_len, proto) = match ethertype {
            0x0800 => (usize::from(f[14] & 0x0f) * 4, f[23]),
            0x86dd => (40, f[20]),
            _ => continue,
        };
        if proto != 6 {
            continue;
        }
        let tcp = 14 + ip_len;
        let sport = u16::from_be_bytes([f[tcp], f[tcp + 1]]);
        let hl = usize::from(f[tcp + 12] >> 4) * 4;
        let payload = frame + tcp + hl;
        if payload < at {
            out.push((payload, at - payload, sport));
        }
    }
    out
}

/// The decryption warnings of a report, per connection.
fn auth_failures(r: &Report) -> Vec<u64> {
    r.connections
        .iter()
        .filter(|c| {
            c.warnings.iter().any(|w| {
                w.kind == pagetrace::warning::WarningKind::Decrypt
                    && w.message.contains("authentication failed")
            })
        })
        .map(|c| c.id)
        .collect()
}

#[test]
fn a_flipped_byte_in_a_record_opened_whole_fails_authentication_with_a_warning() {
    let dir = "pageload";
    let mut pcap = read(dir, "pageload.pcap");
    // The first large server segment on 443: the server's handshake flight (its
    // certificate), whose records are opened whole and their tags checked.
    let (off, len, _) = tcp_payloads(&pcap)
        .into_iter()
        .find(|p| p.2 == 443 && p.1 > 1000)
        .expect("a server segment");
    pcap[off + len / 2] ^= 0x01;
    let r = analyze_with_keys(&pcap, Some(&keys(dir)), false);
    let warned = auth_failures(&r);
    assert_eq!(warned.len(), 1, "exactly the damaged connection warns");
    let c = r.connections.iter().find(|c| c.id == warned[0]).unwrap();
    assert!(
        c.tls.as_ref().unwrap().decrypted,
        "the rest still decrypted"
    );
    // Every request is still there: the application keys do not depend on the record.
    let clean = analyze_with_keys(&read(dir, "pageload.pcap"), Some(&keys(dir)), false);
    let before = exchanges(&clean);
    let after = exchanges(&r);
    assert_eq!(before.len(), after.len());
    for ((_, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!((&a.url, a.status), (&b.url, b.status));
    }
}

#[test]
fn a_flipped_byte_inside_a_body_read_in_parts_changes_nothing_reported() {
    let dir = "pageload";
    let mut pcap = read(dir, "pageload.pcap");
    // The largest server segment on 443: in the middle of a 16 KiB record of hero.jpg or
    // gallery-3.jpg, far from any record header. Such a record is read in parts: the body
    // bytes, only counted, are never decrypted, and the tag (covering them) is not checked.
    let (off, len, _) = tcp_payloads(&pcap)
        .into_iter()
        .filter(|p| p.2 == 443)
        .max_by_key(|p| p.1)
        .expect("a server segment");
    pcap[off + len / 2] ^= 0x01;
    let r = analyze_with_keys(&pcap, Some(&keys(dir)), false);
    assert!(auth_failures(&r).is_empty());
    let clean = analyze_with_keys(&read(dir, "pageload.pcap"), Some(&keys(dir)), false);
    let before = exchanges(&clean);
    let after = exchanges(&r);
    assert_eq!(before.len(), after.len());
    for ((_, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(
            (&a.url, a.status, a.body_bytes),
            (&b.url, b.status, b.body_bytes)
        );
    }
    // With --body-hash every body byte is read, so the record is opened whole: the flip
    // fails its tag, as before reading in parts.
    let hashed = analyze_with_keys(&pcap, Some(&keys(dir)), true);
    assert_eq!(auth_failures(&hashed).len(), 1);
}

/// The capture without the record whose TCP payload starts at `payload_at`.
fn without_packet(pcap: &[u8], payload_at: usize) -> Vec<u8> {
    let mut out = pcap[..24].to_vec();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let end = (at + 16 + caplen).min(pcap.len());
        if !(at..end).contains(&payload_at) {
            out.extend_from_slice(&pcap[at..end]);
        }
        at = end;
    }
    out
}

#[test]
fn a_lost_segment_costs_one_response_and_decryption_resumes() {
    let dir = "pageload";
    let clean_pcap = read(dir, "pageload.pcap");
    let clean = analyze_with_keys(&clean_pcap, Some(&keys(dir)), false);
    let segs = tcp_payloads(&clean_pcap);
    let mut tested = Vec::new();
    for (client_port, proto) in clean
        .connections
        .iter()
        .filter(|c| c.tls.is_some() && c.http.len() > 2)
        .map(|c| {
            let port: u16 = c.client.port();
            (port, c.http[0].version.clone())
        })
        .collect::<Vec<_>>()
    {
        // A full-size server segment a quarter of the way into this connection's data.
        let server: Vec<_> = segs
            .iter()
            .filter(|(off, len, sport)| {
                *sport == 443
                    && *len > 1000
                    && tcp_dport_before(&clean_pcap, *off) == Some(client_port)
            })
            .collect();
        if server.len() < 20 {
            continue; // too small to lose a segment that is not the last response's head
        }
        tested.push(proto.clone());
        let (drop_at, _, _) = *server[server.len() / 4];
        let r = analyze_with_keys(
            &without_packet(&clean_pcap, drop_at),
            Some(&keys(dir)),
            false,
        );
        let c = r
            .connections
            .iter()
            .find(|c| c.client.port() == client_port)
            .unwrap();
        let clean_c = clean
            .connections
            .iter()
            .find(|c| c.client.port() == client_port)
            .unwrap();
        assert!(c.tcp.gaps.server > 0, "{proto}: the loss is a gap");
        assert_eq!(
            c.http.len(),
            clean_c.http.len(),
            "{proto}: every request kept"
        );
        let (last, clean_last) = (c.http.last().unwrap(), clean_c.http.last().unwrap());
        assert_eq!(last.url, clean_last.url, "{proto}");
        assert_eq!(last.status, clean_last.status, "{proto}: after the gap");
        assert_eq!(
            last.body_bytes, clean_last.body_bytes,
            "{proto}: after the gap"
        );
        let cut = c
            .http
            .iter()
            .zip(&clean_c.http)
            .filter(|(a, b)| a.body_bytes != b.body_bytes)
            .count();
        assert_eq!(cut, 1, "{proto}: exactly one response lost bytes");
    }
    // The HTTP/2 connection over TLS 1.3 and the HTTP/1.1 one over TLS 1.2.
    tested.sort();
    assert_eq!(tested, ["HTTP/1.1", "HTTP/2"]);
}

/// The TCP destination port of the packet whose payload starts at `payload_at`: scans back
/// over the TCP header (20..=60 bytes) for a header whose data offset lands on the payload.
fn tcp_dport_before(pcap: &[u8], payload_at: usize) -> Option<u16> {
    (20..=60).step_by(4).find_map(|hl| {
        let tcp = payload_at.checked_sub(hl)?;
        let off = usize::from(pcap[tcp + 12] >> 4) * 4;
        let sport = u16::from_be_bytes([pcap[tcp], pcap[tcp + 1]]);
        (off == hl && sport == 443).then(|| u16::from_be_bytes([pcap[tcp + 2], pcap[tcp + 3]]))
    })
}

/// As a live capture sees it: the browser's key log is read a moment after the connection
/// started, so the first records went by without keys. Once the secrets arrive, the
/// sequence number is found and the rest of the connection decrypts.
#[test]
fn keys_that_arrive_late_decrypt_the_rest_of_the_connection() {
    use pagetrace::capture::{CaptureEvent, CaptureReader};
    let dir = "pageload";
    let pcap = read(dir, "pageload.pcap");
    let keys = keys(dir);
    let clean = analyze_with_keys(&pcap, Some(&keys), false);
    // For the TLS 1.3 HTTP/2 connection and the TLS 1.2 HTTP/1.1 one: the keys come once the
    // third response is complete.
    for (port, proto) in [(443u16, "HTTP/2"), (443, "HTTP/1.1")] {
        let c = clean
            .connections
            .iter()
            .find(|c| c.server.port() == port && c.http[0].version == proto)
            .unwrap();
        let late = c.http[2].response_end_ts.unwrap();
        let mut reader = CaptureReader::new(std::io::Cursor::new(pcap.clone())).unwrap();
        let mut a = Analyzer::new(AnalyzerConfig::default(), "late", reader.format);
        let mut added = false;
        let mut w = Vec::new();
        reader.for_each(&mut w, |ev| {
            if let CaptureEvent::Packet(p) = ev {
                if !added && p.ts > late {
                    a.add_keylog_text(&keys);
                    added = true;
                }
                a.handle_packet(&p);
            }
        });
        let r = a.finish();
        let got = r.connections.iter().find(|x| x.client == c.client).unwrap();
        assert!(got.tls.as_ref().unwrap().decrypted, "{proto}");
        // The report says what went by before the keys, for each side that had sent some.
        let said: Vec<_> = got
            .warnings
            .iter()
            .filter(|w| w.kind == pagetrace::warning::WarningKind::Keys)
            .map(|w| w.message.as_ref())
            .collect();
        assert_eq!(said.len(), 2, "{proto}: {said:?}");
        assert!(
            said.iter()
                .all(|m| m.contains("secrets came after") && m.contains("not decrypted")),
            "{proto}: {said:?}"
        );
        // Every request that started after the keys is there, with its status and size.
        let after: Vec<_> = c
            .http
            .iter()
            .filter(|h| h.request_ts.unwrap() > late)
            .collect();
        assert!(!after.is_empty(), "{proto}");
        for h in after {
            let g = got
                .http
                .iter()
                .find(|g| g.url == h.url && g.method == h.method && g.request_ts == h.request_ts)
                .unwrap_or_else(|| panic!("{proto}: {:?} missing", h.url));
            assert_eq!(g.status, h.status, "{proto} {:?}", h.url);
            assert_eq!(g.body_bytes, h.body_bytes, "{proto} {:?}", h.url);
        }
    }
}

/// Keys that do not fit and a capture gap: every record after the gap would be searched at
/// hundreds of sequence numbers. The side is given up after a few searches, with a warning,
/// and the run stays fast.
#[test]
fn a_search_that_never_succeeds_gives_up() {
    let dir = "pageload";
    let clean_pcap = read(dir, "pageload.pcap");
    let clean = analyze_with_keys(&clean_pcap, Some(&keys(dir)), false);
    // The TLS 1.2 connection: its CLIENT_RANDOM line gets a wrong master secret.
    let c = clean
        .connections
        .iter()
        .find(|c| {
            c.tls
                .as_ref()
                .is_some_and(|t| t.version.as_deref() == Some("TLS 1.2"))
        })
        .unwrap();
    let port: u16 = c.client.port();
    let wrong: String = keys(dir)
        .lines()
        .map(|l| {
            if l.starts_with("CLIENT_RANDOM ") {
                let (head, last) = l.split_at(l.len() - 1);
                format!("{head}{}\n", if last == "0" { "1" } else { "0" })
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let segs = tcp_payloads(&clean_pcap);
    let server: Vec<_> = segs
        .iter()
        .filter(|(off, len, sport)| {
            *sport == 443 && *len > 1000 && tcp_dport_before(&clean_pcap, *off) == Some(port)
        })
        .collect();
    let started = std::time::Instant::now();
    let r = analyze_with_keys(
        &without_packet(&clean_pcap, server[server.len() / 4].0),
        Some(&wrong),
        false,
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let got = r.connections.iter().find(|x| x.client == c.client).unwrap();
    assert!(!got.tls.as_ref().unwrap().decrypted);
    assert!(got.http.is_empty());
    assert!(
        got.warnings
            .iter()
            .any(|w| w.kind == pagetrace::warning::WarningKind::Keys
                && w.message.contains("lost the server's record sequence")),
        "{:?}",
        got.warnings
    );
}

/// Feeds `capture` to an analyzer that follows a key log still being written (as `live
/// --keylog` does), adding `keys` just before the first packet at or after `at`.
fn analyze_keys_at(capture: &[u8], keys: &str, at: pagetrace::time::Ts) -> Report {
    use pagetrace::capture::{CaptureEvent, CaptureReader};
    let mut reader = CaptureReader::new(std::io::Cursor::new(capture.to_vec())).unwrap();
    let mut a = Analyzer::new(AnalyzerConfig::default(), "test", reader.format);
    a.follow_keylog();
    let mut added = false;
    let mut w = Vec::new();
    reader.for_each(&mut w, |ev| {
        if let CaptureEvent::Packet(p) = ev {
            if !added && p.ts >= at {
                a.add_keylog_text(keys);
                added = true;
            }
            a.handle_packet(&p);
        }
    });
    a.finish()
}

/// A live capture reads the key log as the browser writes it: the server's encrypted
/// flight (TLS 1.3 EncryptedExtensions, Certificate, Finished; a TLS 1.2 server's
/// Finished) is captured before its secrets are logged. Kept until they come (here with
/// the client's Finished), it is read as if the keys had been there from the start: the
/// connection's whole report is the same, for TLS 1.3 and 1.2 over TCP and for QUIC.
#[test]
fn a_followed_key_log_that_lags_the_servers_flight_changes_nothing() {
    let pcap = read("pageload", "pageload.pcap");
    let keys = keys("pageload");
    let clean = analyze_with_keys(&pcap, Some(&keys), false);
    let mut tested = Vec::new();
    for c in clean.connections.iter().filter(|c| c.tls.is_some()) {
        let tls = c.tls.as_ref().unwrap();
        let (Some(done), Some(version)) = (tls.handshake_done_ts, tls.version.clone()) else {
            continue;
        };
        assert!(
            tls.alpn.is_some() && !tls.certificates.is_empty(),
            "{version}"
        );
        let late = analyze_keys_at(&pcap, &keys, done);
        let got = late
            .connections
            .iter()
            .find(|x| x.client == c.client)
            .unwrap();
        assert_eq!(
            serde_json::to_value(got).unwrap(),
            serde_json::to_value(c).unwrap(),
            "{version} {}",
            c.client
        );
        tested.push(version);
    }
    tested.sort();
    tested.dedup();
    assert_eq!(tested, ["TLS 1.2", "TLS 1.3"]);

    let pcap = std::fs::read(fixture("h3-aioquic").join("capture.pcap")).unwrap();
    let keys = std::fs::read_to_string(fixture("h3-aioquic").join("capture.keys")).unwrap();
    let clean = analyze_with_keys(&pcap, Some(&keys), false);
    assert!(!clean.quic.is_empty());
    for q in &clean.quic {
        let tls = q.tls.as_ref().unwrap();
        assert!(tls.alpn.is_some() && !tls.certificates.is_empty());
        let late = analyze_keys_at(&pcap, &keys, tls.handshake_done_ts.unwrap());
        let got = late.quic.iter().find(|x| x.client == q.client).unwrap();
        assert_eq!(
            serde_json::to_value(got).unwrap(),
            serde_json::to_value(q).unwrap(),
            "QUIC {}",
            q.client
        );
    }
}
