//! Hostile traffic at small sizes (issue 17): the captures `examples/gen_hostile.rs`
//! writes, built here in memory, must finish with their tables bounded and the caps they
//! hit said once; warnings about the whole capture survive any number of per-packet ones.
//! The time limits (a fifth of tshark's time at full size) live in `benches/hostile.sh`,
//! not here: these run in a debug `cargo test`.

mod common;

use common::gen::{self, PcapWriter, LINKTYPE_ETHERNET, START_MICROS};
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::pageload::model::{CloseKind, Report};
use pagetrace::pipeline::{Analyzer, AnalyzerConfig, Output, MAX_CAPTURE_WARNINGS};
use pagetrace::tcp::TcpConfig;
use pagetrace::warning::{Warning, WarningKind};

/// 10,000 frames too short for an Ethernet header (a warning each), then a record cut
/// short by the end of the file: the per-packet list stops at its cap, the truncation is
/// listed all the same.
#[test]
fn truncation_warning_present_after_10000_packet_warnings() {
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
    for i in 0..10_000u64 {
        w.packet(START_MICROS + i * 1000, &[0u8; 6]).unwrap();
    }
    let mut bytes = w.into_inner();
    // A record header promising 100 bytes, and 10 of them.
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&100u32.to_le_bytes());
    bytes.extend_from_slice(&100u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 10]);
    let r = common::analyze_bytes(bytes, AnalyzerConfig::default());
    let w = &r.capture.warnings;
    assert_eq!(r.capture.stats.malformed, 10_000);
    assert_eq!(w.len(), MAX_CAPTURE_WARNINGS + 1);
    assert_eq!(
        r.capture.stats.warnings_suppressed,
        10_000 - MAX_CAPTURE_WARNINGS as u64
    );
    let last = w.last().unwrap();
    assert_eq!(last.kind, WarningKind::Truncated);
    assert!(
        last.message.contains("cut short") && last.message.contains("10000 packets"),
        "{last:?}"
    );
}

/// The capture of `n` units of the hostile traffic `kind` (`common::gen::hostile`).
fn capture(kind: &str, n: u64) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
    assert!(gen::hostile(kind, n, &mut w).unwrap(), "{kind}");
    w.into_inner()
}

fn with_flow_table(max_connections: usize) -> AnalyzerConfig {
    AnalyzerConfig {
        tcp: TcpConfig {
            max_connections,
            ..TcpConfig::default()
        },
        ..AnalyzerConfig::default()
    }
}

/// The capture's warnings of kind `cap`.
fn cap_warnings(r: &Report) -> Vec<&Warning> {
    r.capture
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::Cap)
        .collect()
}

/// 20,000 SYNs to distinct ports through a table of 5,000: every connection is reported,
/// the 15,000 finished early are the oldest, each says so, and the cap is said once, at
/// the SYN that first found the table full.
#[test]
fn syn_ports_through_a_full_flow_table() {
    let r = common::analyze_bytes(capture("syn-ports", 20_000), with_flow_table(5_000));
    assert_eq!(r.connections.len(), 20_000);
    assert_eq!(r.capture.stats.flow_table_full, 15_000);
    let caps = cap_warnings(&r);
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert_eq!(caps[0].packet, Some(5_001));
    assert!(caps[0].message.starts_with(
        "flow table full (5000 TCP connections at once; --max-connections raises it): 15000 \
         connections finished early"
    ));
    for c in &r.connections {
        let evicted = c.warnings.iter().any(|w| w.kind == WarningKind::Cap);
        assert_eq!(evicted, c.id <= 15_000, "connection {}", c.id);
    }
}

/// The same streamed (`--format jsonl`): the `tcp.stream` numbering holds as many 5-tuples
/// as the table, later connections carry none and the cap says so; the 5,000 still open at
/// the end come out a batch at a time, each once.
#[test]
fn streamed_syn_ports_number_as_many_5_tuples_as_the_table_holds() {
    let cfg = AnalyzerConfig {
        streaming: true,
        ..with_flow_table(5_000)
    };
    let mut reader =
        CaptureReader::new(std::io::Cursor::new(capture("syn-ports", 20_000))).unwrap();
    let mut a = Analyzer::new(cfg, "test", reader.format);
    let mut conns = Vec::new();
    let take = |o: Output, conns: &mut Vec<(u64, Option<u64>)>| {
        if let Output::Connection(c) = o {
            conns.push((c.id, c.tcp_stream));
        }
    };
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| {
        if let CaptureEvent::Packet(p) = ev {
            a.handle_packet(&p);
            while let Some(o) = a.poll() {
                take(o, &mut conns);
            }
        }
    });
    let before_end = conns.len();
    let info = a.finish_stream_with(|o| take(o, &mut conns));
    assert_eq!(before_end, 15_000);
    conns.sort_unstable();
    let ids: Vec<u64> = conns.iter().map(|c| c.0).collect();
    assert_eq!(ids, (1..=20_000).collect::<Vec<u64>>());
    for &(id, stream) in &conns {
        assert_eq!(stream, (id <= 5_000).then(|| id - 1), "connection {id}");
    }
    let caps: Vec<&str> = info
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::Cap)
        .map(|w| w.message.as_ref())
        .collect();
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert_eq!(
        caps[1],
        "5000 TCP 5-tuples numbered as tcp.stream: 15000 later connections carry no stream number"
    );
}

/// A SYN flood from 20,000 sources under the default table: no cap, every connection a
/// lone SYN.
#[test]
fn syn_flood_from_many_sources() {
    let r = common::analyze_bytes(capture("syn-flood", 20_000), AnalyzerConfig::default());
    assert_eq!(r.connections.len(), 20_000);
    assert!(cap_warnings(&r).is_empty());
    assert!(r
        .connections
        .iter()
        .all(|c| c.tcp.packets.client == 1 && c.tcp.synack_ts.is_none()));
}

/// 20,000 DNS queries never answered: each is a transaction without a response.
#[test]
fn dns_queries_never_answered() {
    let r = common::analyze_bytes(capture("dns-unanswered", 20_000), AnalyzerConfig::default());
    assert_eq!(r.dns.len(), 20_000);
    assert!(r
        .dns
        .iter()
        .all(|t| t.response_ts.is_none() && t.query_packet.is_some()));
    assert!(cap_warnings(&r).is_empty());
}

/// 70,000 queries within 7 s: past 65,536 waiting at once the oldest stop waiting (one
/// for each query after the 65,536th), said once.
#[test]
fn dns_pending_cap_said_once() {
    let r = common::analyze_bytes(capture("dns-unanswered", 70_000), AnalyzerConfig::default());
    assert_eq!(r.dns.len(), 70_000);
    let caps = cap_warnings(&r);
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert!(
        caps[0].message.starts_with("65536 DNS queries waiting"),
        "{caps:?}"
    );
    assert!(
        caps[0].message.contains(": 4464 stopped waiting"),
        "{caps:?}"
    );
}

/// Streaming, the same queries come out as they stop waiting (5 s of capture time), in
/// order, without waiting for the end.
#[test]
fn streamed_unanswered_queries_come_out_in_order() {
    let bytes = capture("dns-unanswered", 70_000);
    let cfg = AnalyzerConfig {
        streaming: true,
        ..AnalyzerConfig::default()
    };
    let mut reader = CaptureReader::new(std::io::Cursor::new(bytes)).unwrap();
    let mut a = Analyzer::new(cfg, "test", reader.format);
    let mut seen = Vec::new();
    let take = |a: &mut Analyzer, seen: &mut Vec<u64>| {
        while let Some(o) = a.poll() {
            if let Output::Dns { index, .. } = o {
                seen.push(index);
            }
        }
    };
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| {
        if let CaptureEvent::Packet(p) = ev {
            a.handle_packet(&p);
            take(&mut a, &mut seen);
        }
    });
    let before_end = seen.len();
    let (rest, _) = a.finish_stream();
    for o in rest {
        if let Output::Dns { index, .. } = o {
            seen.push(index);
        }
    }
    assert_eq!(seen, (0..70_000).collect::<Vec<u64>>());
    // The queries span 7 s: at the last packet those of the first 2 s had waited 5 s.
    assert!(before_end >= 19_000, "{before_end}");
}

/// 20,000 responses whose names are compression-pointer loops: each is a transaction
/// with a warning; the per-packet list stops at its cap and counts the rest.
#[test]
fn dns_pointer_loops() {
    let r = common::analyze_bytes(capture("dns-loops", 20_000), AnalyzerConfig::default());
    assert_eq!(r.capture.packets, 20_000);
    assert!(r.capture.warnings.len() <= MAX_CAPTURE_WARNINGS);
    assert_eq!(
        r.capture.warnings.len() as u64 + r.capture.stats.warnings_suppressed,
        20_000
    );
}

/// A slowloris of 2,000 half-finished requests, one byte a minute: every connection open
/// to the end with its 8 bytes, none expired (a minute is under the idle timeout).
#[test]
fn slowloris_connections_stay_open() {
    let r = common::analyze_bytes(capture("slowloris", 2_000), AnalyzerConfig::default());
    assert_eq!(r.connections.len(), 2_000);
    for c in &r.connections {
        assert_eq!(c.tcp.bytes.client, 8, "connection {}", c.id);
        assert_eq!(c.tcp.close.kind, CloseKind::Open);
    }
}

/// The same slowloris through a table of 1,000: the handshakes of the second thousand
/// evict the first, whose later bytes (8,000 segments) are counted and said, not read as
/// 8,000 new connections caught mid-stream (as they were). Each connection is one record:
/// the first thousand with their handshake and the eviction, the rest whole.
#[test]
fn slowloris_through_a_full_flow_table_stays_one_record_each() {
    let r = common::analyze_bytes(capture("slowloris", 2_000), with_flow_table(1_000));
    assert_eq!(r.connections.len(), 2_000);
    for c in &r.connections {
        let evicted = c.warnings.iter().any(|w| w.kind == WarningKind::Cap);
        assert_eq!(evicted, c.id <= 1_000, "connection {}", c.id);
        let bytes = if evicted { 0 } else { 8 };
        assert_eq!(c.tcp.bytes.client, bytes, "connection {}", c.id);
        assert!(c.tcp.handshake_ms.is_some(), "connection {}", c.id);
    }
    let caps = cap_warnings(&r);
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert!(caps[0]
        .message
        .contains(": 1000 connections finished early"));
    assert!(caps[1]
        .message
        .starts_with("8000 later TCP segments of connections finished early"));
    // The first of them: connection 1's first byte, after the 2,000 handshakes.
    assert_eq!(caps[1].packet, Some(6_001));

    // A new SYN on an evicted connection's 5-tuple is a new connection again.
    let mut bytes = capture("slowloris", 2_000);
    bytes.extend_from_slice(&capture("slowloris", 1)[24..]);
    let r = common::analyze_bytes(bytes, with_flow_table(1_000));
    assert_eq!(r.connections.len(), 2_001);
}

/// 20,000 first fragments that never complete: the defragmenter's table stays at its cap,
/// said once at the fragment that found it full.
#[test]
fn fragments_that_never_complete() {
    let r = common::analyze_bytes(capture("frags", 20_000), AnalyzerConfig::default());
    assert_eq!(r.capture.stats.ip_fragments, 20_000);
    assert_eq!(r.capture.stats.reassembled_datagrams, 0);
    let caps = cap_warnings(&r);
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert_eq!(caps[0].packet, Some(257));
    assert!(caps[0].message.contains(": 19744 fragments"), "{caps:?}");
    assert!(r.capture.warnings.len() < 10);
}

/// 20,000 lookups of distinct names, each followed by a SYN to its own address: every
/// connection is linked to its own lookup (found by address, not by a scan of them all).
#[test]
fn every_connection_finds_its_own_lookup_among_many() {
    let r = common::analyze_bytes(
        capture("lookups-and-syns", 20_000),
        AnalyzerConfig::default(),
    );
    assert_eq!(r.dns.len(), 20_000);
    assert_eq!(r.connections.len(), 20_000);
    for c in &r.connections {
        let t = &r.dns[c.dns.expect("linked")];
        assert_eq!(t.answers[0].data, c.server.ip().to_string());
        assert_eq!(
            c.hostname.as_deref(),
            Some(t.questions[0].name.as_str()),
            "hostname from its lookup"
        );
    }
}

/// SYNs whose flow keys were crafted to collide in an unkeyed FxHash (the tables' hasher
/// before it was seeded: 40,000 of them took 15 s, each table a list): under the tables'
/// hasher they spread like any keys, and 20,000 are 20,000 connections.
#[test]
fn flow_keys_crafted_to_collide_do_not() {
    use pagetrace::net::flow::{FlowKey, SeededHash};
    use std::hash::{BuildHasher, Hash, Hasher};
    use std::net::{IpAddr, Ipv6Addr, SocketAddr};
    /// FxHash as the tables had it: eight-byte little-endian words, the last zero-padded.
    #[derive(Default)]
    struct Fx(u64);
    impl Fx {
        fn add(&mut self, w: u64) {
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    impl Hasher for Fx {
        fn write(&mut self, bytes: &[u8]) {
            for chunk in bytes.chunks(8) {
                let mut b = [0u8; 8];
                b[..chunk.len()].copy_from_slice(chunk);
                self.add(u64::from_le_bytes(b));
            }
        }
        fn write_u16(&mut self, i: u16) {
            self.add(u64::from(i));
        }
        fn write_usize(&mut self, i: usize) {
            self.add(i as u64);
        }
        fn finish(&self) -> u64 {
            self.0
        }
    }
    let server = SocketAddr::new(IpAddr::V6(Ipv6Addr::from(gen::FX_COLLIDING_SERVER)), 80);
    let keys: Vec<FlowKey> = (0..1000)
        .map(|i| {
            let client = Ipv6Addr::from(gen::fx_colliding_v6(i));
            FlowKey::new(SocketAddr::new(IpAddr::V6(client), 40_000), server)
        })
        .collect();
    let fx: std::collections::HashSet<u64> = keys
        .iter()
        .map(|k| {
            let mut h = Fx::default();
            k.hash(&mut h);
            h.finish()
        })
        .collect();
    assert_eq!(fx.len(), 1, "the generator's keys collide in FxHash");
    let seeded = SeededHash::default();
    let spread: std::collections::HashSet<u64> = keys.iter().map(|k| seeded.hash_one(k)).collect();
    assert_eq!(
        spread.len(),
        keys.len(),
        "the tables' hasher tells them apart"
    );
    let r = common::analyze_bytes(
        capture("hash-collisions", 20_000),
        AnalyzerConfig::default(),
    );
    assert_eq!(r.connections.len(), 20_000);
    assert!(r.connections.iter().all(|c| c.server == server));
}

/// 20,000 QUIC Initials from distinct clients, never answered, through the QUIC table's
/// cap: every one is a QUIC connection of the report, the cap said once.
#[test]
fn quic_initials_from_many_clients() {
    let r = common::analyze_bytes(capture("quic-initials", 20_000), AnalyzerConfig::default());
    assert_eq!(r.quic.len(), 20_000);
    let caps = cap_warnings(&r);
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert!(caps[0].message.starts_with("QUIC table full"), "{caps:?}");
    assert_eq!(r.capture.stats.quic_table_full, 20_000 - 4_096);
}

/// The table of a scan or a flood counts what was one-sided instead of telling it: a few
/// lines whatever the size (the stories, tables and waterfall of 2,000 unanswered SYNs were
/// 16,000 lines), each kind counted in full; `all` tells every one. The HTML page counts
/// them in a table under its header, and the waterfall (`analyze --format waterfall`) under
/// its bars.
#[test]
fn the_table_folds_what_got_no_answer() {
    use pagetrace::report::table::{write_report, Sections, TableOptions};
    let table = |r: &Report, all: bool| {
        let opts = TableOptions {
            color: false,
            width: None,
            keys_given: false,
            sections: Sections::default(),
            all,
        };
        let mut out = Vec::new();
        write_report(&mut out, r, &opts).unwrap();
        String::from_utf8(out).unwrap()
    };
    for (kind, outcome) in [
        ("syn-ports", "no SYN/ACK"),
        ("syn-flood", "no SYN/ACK"),
        ("dns-unanswered", "no response"),
        ("dns-loops", "response, no query"),
        ("slowloris", "request, no response"),
        ("quic-initials", "no server packet"),
        ("lookups-and-syns", "no SYN/ACK"),
        ("lookups-and-syns", "answered, its connection folded"),
    ] {
        let r = common::analyze_bytes(capture(kind, 2_000), AnalyzerConfig::default());
        let folded = table(&r, false);
        let row = folded
            .lines()
            .find(|l| l.contains(outcome))
            .unwrap_or_else(|| panic!("{kind}: no {outcome:?} row in\n{folded}"));
        assert!(row.contains(" 2000 "), "{kind}: {row}");
        assert!(folded.contains("Folded: 2000 "), "{kind}:\n{folded}");
        assert!(
            folded.lines().count() < 40,
            "{kind}: {} lines",
            folded.lines().count()
        );
        // The HTML page: a table of the groups under its header, not a row per connection.
        let mut html = Vec::new();
        pagetrace::report::html::write_html(&mut html, &r, false).unwrap();
        let html = String::from_utf8(html).unwrap();
        assert!(html.contains("<section class=\"folded\">"), "{kind}");
        assert!(html.contains(outcome), "{kind}");
        assert!(
            html.len() < 64 << 10,
            "{kind}: {} bytes of HTML",
            html.len()
        );
        let mut every = Vec::new();
        pagetrace::report::html::write_html(&mut every, &r, true).unwrap();
        // (The page draws TCP connections; lookups and QUIC connections without requests
        // have no rows of their own.)
        if !r.connections.is_empty() {
            assert!(
                every.len() > 4 * html.len(),
                "{kind}: {} bytes",
                every.len()
            );
        }
        let all = table(&r, true);
        assert!(!all.contains("Folded:"), "{kind}");
        assert!(
            all.lines().count() > 2_000,
            "{kind}: {} lines",
            all.lines().count()
        );
    }
}

/// `analyze --format waterfall` of a port scan: the groups under the bars, one line each;
/// `--all` draws a bar per connection.
#[test]
fn the_waterfall_folds_a_scan() {
    let path = std::env::temp_dir().join(format!("pagetrace-scan-{}.pcap", std::process::id()));
    std::fs::write(&path, capture("syn-ports", 2_000)).unwrap();
    let run = |all: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pagetrace"));
        cmd.args(["analyze", "--format", "waterfall", "--color", "never"]);
        if all {
            cmd.arg("--all");
        }
        let out = cmd.arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (folded, all) = (run(false), run(true));
    std::fs::remove_file(&path).ok();
    assert!(folded.contains("Folded: 2000 TCP connections"), "{folded}");
    assert!(
        folded.contains("  2000 TCP no SYN/ACK to 192.0.2.80 port 1-2000 (2000) from 10.0.0.1"),
        "{folded}"
    );
    assert!(folded.lines().count() < 20, "{folded}");
    assert!(!all.contains("Folded:"));
    assert!(all.lines().count() > 2_000, "{} lines", all.lines().count());
}
