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

/// A pcap whose header's `thiszone` is about -64 years puts every packet before 1970: the
/// congestion-window bookkeeping bucketed ACK times with a remainder that came out negative
/// (an index out of bounds; found by the `pipeline` target in CI's fuzz smoke). The input as
/// the fuzzer found it: an HTTP/1.1 request and its 301 over TCP.
#[test]
fn ack_times_before_the_epoch() {
    #[rustfmt::skip]
    let file: &[u8] = &[
        212, 195, 178, 161, 2, 0, 4, 0, 128, 132, 100, 135, 126, 123, 0, 0, 255, 255, 0, 0, 1, 0, 0, 0,
        240, 114, 147, 82, 70, 92, 7, 0, 78, 0, 0, 0, 78, 0, 0, 0, 0, 0, 12, 7, 172, 1, 0, 31,
        91, 255, 81, 203, 8, 0, 69, 0, 0, 64, 233, 86, 64, 0, 64, 6, 237, 126, 10, 180, 156, 141, 192, 30,
        252, 130, 243, 133, 0, 80, 148, 213, 136, 142, 0, 0, 0, 0, 176, 2, 255, 255, 181, 201, 0, 0, 2, 4,
        5, 180, 1, 3, 3, 4, 1, 1, 8, 10, 171, 35, 96, 244, 0, 0, 0, 0, 4, 2, 0, 0, 240, 114,
        147, 82, 22, 255, 7, 0, 74, 0, 0, 0, 74, 0, 0, 0, 0, 31, 91, 255, 81, 203, 0, 208, 43, 209,
        118, 0, 8, 0, 69, 0, 0, 60, 0, 0, 64, 0, 50, 6, 228, 217, 192, 30, 252, 130, 10, 180, 156, 141,
        0, 80, 243, 133, 17, 95, 4, 102, 148, 213, 136, 143, 160, 18, 55, 160, 224, 23, 0, 0, 2, 4, 5, 156,
        4, 2, 8, 10, 198, 136, 210, 201, 171, 35, 96, 244, 1, 3, 3, 10, 240, 114, 147, 82, 95, 255, 7, 0,
        66, 0, 0, 0, 66, 0, 0, 0, 0, 0, 12, 7, 172, 1, 0, 31, 91, 255, 81, 203, 8, 0, 69, 0,
        0, 52, 197, 18, 64, 0, 64, 6, 17, 207, 10, 180, 156, 141, 192, 30, 252, 130, 243, 133, 0, 80, 148, 213,
        136, 143, 17, 95, 4, 103, 128, 16, 32, 85, 37, 241, 0, 0, 1, 1, 8, 10, 171, 35, 97, 29, 198, 136,
        210, 201, 240, 114, 147, 82, 175, 255, 7, 0, 211, 0, 0, 0, 211, 0, 0, 0, 0, 0, 12, 7, 172, 1,
        0, 31, 91, 255, 81, 203, 8, 0, 69, 0, 0, 197, 130, 116, 64, 0, 64, 6, 83, 220, 10, 180, 156, 141,
        192, 30, 252, 130, 243, 133, 0, 80, 148, 213, 136, 143, 17, 95, 4, 103, 128, 24, 32, 85, 28, 56, 0, 0,
        1, 1, 8, 10, 171, 35, 97, 29, 198, 136, 210, 201, 71, 69, 84, 32, 47, 32, 72, 84, 84, 80, 47, 49,
        46, 49, 13, 10, 85, 115, 101, 114, 45, 65, 103, 101, 110, 116, 58, 32, 99, 117, 114, 108, 47, 55, 46, 50,
        52, 46, 48, 32, 40, 120, 56, 54, 95, 54, 52, 45, 97, 112, 112, 108, 101, 45, 100, 97, 114, 119, 105, 110,
        49, 50, 46, 48, 41, 32, 108, 105, 98, 99, 117, 114, 108, 47, 55, 46, 50, 52, 46, 48, 32, 79, 112, 101,
        110, 83, 83, 76, 47, 48, 46, 57, 46, 56, 121, 32, 122, 108, 105, 98, 47, 49, 46, 50, 46, 53, 13, 10,
        72, 111, 115, 116, 58, 32, 119, 119, 119, 46, 103, 105, 116, 104, 117, 98, 46, 99, 111, 109, 13, 10, 65, 99,
        99, 101, 112, 116, 58, 32, 42, 47, 42, 13, 10, 48, 13, 10, 240, 114, 147, 82, 86, 163, 8, 0, 173, 0,
        0, 0, 173, 0, 0, 0, 0, 31, 91, 255, 81, 203, 0, 208, 43, 209, 118, 0, 8, 0, 69, 0, 0, 159,
        214, 180, 64, 0, 50, 6, 13, 194, 192, 30, 252, 130, 10, 180, 156, 141, 0, 80, 243, 133, 17, 95, 4, 103,
        148, 213, 137, 32, 128, 17, 0, 15, 28, 162, 0, 0, 1, 1, 8, 10, 198, 136, 210, 211, 171, 35, 97, 29,
        72, 84, 84, 80, 47, 49, 46, 49, 32, 51, 48, 49, 32, 77, 111, 118, 101, 100, 32, 80, 101, 114, 109, 97,
        110, 101, 110, 116, 108, 121, 13, 10, 67, 111, 110, 116, 101, 110, 116, 45, 108, 101, 110, 103, 116, 104, 58, 32,
        48, 13, 10, 76, 111, 99, 97, 116, 105, 111, 110, 58, 32, 104, 116, 116, 112, 115, 58, 47, 47, 119, 119, 119,
        46, 103, 105, 116, 104, 117, 255, 255, 255, 23, 109, 47, 13, 10, 67, 111, 110, 110, 101, 99, 116, 105, 111, 110,
        58, 32, 99, 108, 111, 115, 101, 13, 10, 13, 10, 240, 114, 147, 82, 175, 163, 8, 44, 66, 0, 0, 0, 66,
        0, 0, 0, 0, 0, 12, 7, 172, 1, 0, 31, 91, 255, 81, 203, 8, 0, 69, 0, 0, 52, 149, 64, 64,
        0, 64, 6, 65, 161, 10, 180, 156, 141, 192, 30, 252, 130, 243, 133, 0, 80, 148, 213, 137, 32, 17, 95, 4,
        211, 128, 16, 32, 78, 36, 199, 0, 0, 1, 1, 8, 10, 171, 35, 97, 71, 198, 136, 210, 211, 240, 114, 147,
        82, 72, 164, 8, 0, 66, 0, 0, 0, 66, 0, 0, 0, 0, 0, 12, 7, 172, 1, 0, 31, 91, 255, 81,
        203, 8, 0, 69, 0, 0, 52, 80, 1, 64, 0, 64, 6, 134, 224, 10, 180, 156, 141, 192, 30, 252, 130, 243,
        133, 0, 80, 148, 213, 137, 32, 17, 95, 4, 211, 128, 17, 32, 78, 36, 198, 0, 0, 1, 1, 8, 10, 171,
        35, 97, 71, 198, 136, 210, 211, 240, 114, 147, 82, 107, 71, 9, 0, 66, 0, 0, 0, 66, 0, 0, 0, 0,
        31, 91, 255, 81, 203, 0, 208, 43, 209, 118, 0, 8, 0, 69, 0, 0, 52, 0, 0, 64, 0, 50, 6, 228,
        225, 192, 30, 252, 130, 10, 180, 156, 141, 0, 80, 243, 133, 17, 95, 4, 211, 148, 213, 137, 33, 128, 16, 0,
        15, 68, 250, 0, 0, 1, 1, 8, 10, 198, 136, 210, 222, 171, 35, 97, 71,
    ];
    let r = analyze_bytes(file.to_vec(), AnalyzerConfig::default());
    assert_eq!(r.connections.len(), 1);
    assert!(r.connections[0].tcp.syn_ts.is_some_and(|t| t.nanos() < 0));
}
