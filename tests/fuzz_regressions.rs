//! Inputs the fuzzers (`fuzz/`) found, minimized, each named after what it caught. They run
//! in debug (`cargo test`), so a standard-library precondition check (`get_unchecked`,
//! `from_raw_parts`) that fires on undefined behaviour aborts the test run.

mod common;

use common::*;
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::pipeline::AnalyzerConfig;
use pagetrace::{link, net};

/// One Ethernet frame in a little-endian microsecond pcap.
fn pcap(frame: &[u8]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    v.extend_from_slice(frame);
    v
}

/// etherparse 0.21's IPv6 extension iterator read the header after a Hop-by-Hop header
/// with `get_unchecked` when the payload ended there (UB; an abort with debug assertions).
#[test]
fn ipv6_hop_by_hop_then_nothing() {
    #[rustfmt::skip]
    let frame = [
        // Ethernet: dst, src, IPv6.
        2, 0, 0, 0, 0, 2,  2, 0, 0, 0, 0, 1,  0x86, 0xdd,
        // IPv6: payload length 8, next header Hop-by-Hop (0), hop limit 64.
        0x60, 0, 0, 0,  0, 8,  0, 64,
        0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
        // Hop-by-Hop: next header Routing (43), length 0 (8 bytes), PadN; no Routing header.
        43, 0, 1, 4, 0, 0, 0, 0,
    ];
    let r = analyze_bytes(pcap(&frame), AnalyzerConfig::default());
    assert_eq!(r.capture.packets, 1);
    assert!(r.connections.is_empty());
    // Counted as IPv6 carrying another protocol (the Routing header it stopped at).
    assert_eq!((r.capture.stats.ipv6, r.capture.stats.other), (1, 1));
}

/// pagetrace's own IPv6 walk (which replaced etherparse's after the bug above) reads every
/// IPv6 packet of every capture we have as etherparse's lax slice does: same protocol,
/// payload and length flag. Only etherparse's slicing is used here, never its iterator.
#[test]
fn ipv6_walk_agrees_with_etherparse_on_real_captures() {
    let mut paths = vec![
        fixture("pageload/pageload.pcap"),
        fixture("pageload/pageload.pcapng"),
    ];
    paths.extend(corpus_files());
    let mut compared = 0;
    for path in paths {
        let Ok(mut reader) = CaptureReader::new(std::fs::File::open(&path).unwrap()) else {
            continue;
        };
        let mut w = Vec::new();
        reader.for_each(&mut w, |ev| {
            let CaptureEvent::Packet(p) = ev else { return };
            let Ok(f) = link::decode(p.link, p.data) else {
                return;
            };
            if f.payload.first().is_none_or(|b| b >> 4 != 6) {
                return;
            }
            let Ok((etherparse::LaxIpSlice::Ipv6(theirs), None)) =
                etherparse::LaxIpSlice::from_slice(f.payload)
            else {
                return;
            };
            if theirs.is_payload_fragmented() {
                return; // we stop at a fragmenting Fragment header, by design
            }
            let ours = net::parse_ip(f.proto, f.payload).unwrap();
            let tp = theirs.payload();
            assert_eq!(
                (ours.proto, ours.payload, ours.incomplete),
                (tp.ip_number.0, tp.payload, tp.incomplete),
                "{} frame {}",
                path.display(),
                p.frame
            );
            compared += 1;
        });
    }
    eprintln!("{compared} IPv6 packets compared");
}

/// pcap-parser 0.17 computes a block's body length as `block_total_length - 12` without a
/// check; a Process Information Block (which it lets be as short as 4 bytes) claiming 8
/// overflowed: a panic in debug builds, a bogus 4 GiB read in release. Refused as damage.
#[test]
fn pcapng_block_shorter_than_its_header() {
    #[rustfmt::skip]
    let file = [
        // Section Header Block, little-endian, 28 bytes.
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
        // Process Information Block (0x80000001) claiming a total length of 8.
        0x01, 0, 0, 0x80, 8, 0, 0, 0, 0, 0, 0, 0,
    ];
    let r = analyze_bytes(file.to_vec(), AnalyzerConfig::default());
    assert_eq!(r.capture.packets, 0);
    let w = r
        .capture
        .warnings
        .iter()
        .find(|w| w.kind == pagetrace::warning::WarningKind::Corrupt)
        .expect("a corrupt-file warning");
    assert!(w.message.contains("8 bytes"), "{}", w.message);
}
