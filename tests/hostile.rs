//! Hostile traffic at small sizes (issue 17): the captures `examples/gen_hostile.rs`
//! writes, built here in memory, must finish with their tables bounded and the caps they
//! hit said once; warnings about the whole capture survive any number of per-packet ones.
//! The time limits (a fifth of tshark's time at full size) live in `benches/hostile.sh`,
//! not here: these run in a debug `cargo test`.

mod common;

use common::gen::{PcapWriter, LINKTYPE_ETHERNET};
use pagetrace::pipeline::{AnalyzerConfig, MAX_CAPTURE_WARNINGS};
use pagetrace::warning::WarningKind;

const START_MICROS: u64 = 1_700_000_000_000_000;

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
