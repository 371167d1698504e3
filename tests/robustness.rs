//! Hostile and damaged input: every capture we can reach (our fixtures, and the third-party
//! corpus in ../shared/captures when it is there) is cut and corrupted at many offsets. The
//! analyzer must never panic or hang, and must keep what it read before the damage.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use pagetrace::pipeline::AnalyzerConfig;

fn captures() -> Vec<PathBuf> {
    let mut v = vec![
        fixture("pageload/pageload.pcap"),
        fixture("pageload/pageload.pcapng"),
    ];
    if let Some(dir) = shared_captures() {
        let mut more: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pcap" | "pcapng")
                )
            })
            .collect();
        more.sort();
        v.extend(more);
    } else {
        eprintln!(
            "../shared/captures not found: only the committed fixtures are cut and corrupted"
        );
    }
    v
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A budget per variant well above what a correct run needs, so a hang fails the test.
const BUDGET: Duration = Duration::from_secs(20);

fn run(bytes: Vec<u8>, what: &str) {
    let t = Instant::now();
    if bytes.len() < 24 {
        return; // too short to be opened: the CLI test covers the error
    }
    let magic_ok = matches!(
        bytes[..4],
        [0x0a, 0x0d, 0x0d, 0x0a]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
    );
    if !magic_ok {
        return;
    }
    let r = std::panic::catch_unwind(|| {
        let mut reader = match pagetrace::capture::CaptureReader::new(std::io::Cursor::new(bytes)) {
            Ok(r) => r,
            Err(_) => return 0,
        };
        let mut a =
            pagetrace::pipeline::Analyzer::new(AnalyzerConfig::default(), "t", reader.format);
        let mut w = Vec::new();
        reader.for_each(&mut w, |ev| match ev {
            pagetrace::capture::CaptureEvent::Packet(p) => a.handle_packet(&p),
            pagetrace::capture::CaptureEvent::Secrets { kind, data } => {
                a.handle_secrets(kind, data)
            }
        });
        let report = a.finish();
        serde_json::to_vec(&report).unwrap().len()
    });
    assert!(r.is_ok(), "panic on {what}");
    assert!(t.elapsed() < BUDGET, "{what} took {:?}", t.elapsed());
}

#[test]
fn cut_at_many_offsets_never_panics() {
    for path in captures() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let n = bytes.len();
        let steps = if n > 500_000 { 8 } else { 40 };
        for k in 1..steps {
            let cut = n * k / steps;
            run(bytes[..cut].to_vec(), &format!("{name} cut at {cut}"));
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let mut rng = XorShift(0x9e3779b97f4a7c15);
    for path in captures() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rounds = if bytes.len() > 500_000 { 3 } else { 25 };
        for round in 0..rounds {
            let mut b = bytes.clone();
            // Leave the file header alone so the damage reaches the packets.
            for _ in 0..(1 + round % 7) * 8 {
                let at = 24 + (rng.next() as usize) % (b.len() - 24);
                b[at] = rng.next() as u8;
            }
            run(b, &format!("{name} corrupted, round {round}"));
        }
    }
}

#[test]
fn truncated_file_keeps_what_came_before() {
    let bytes = std::fs::read(fixture("pageload/pageload.pcap")).unwrap();
    let whole = analyze_bytes(bytes.clone(), AnalyzerConfig::default());
    let cut = analyze_bytes(
        bytes[..bytes.len() / 2 + 7].to_vec(),
        AnalyzerConfig::default(),
    );
    assert!(cut.capture.packets > whole.capture.packets / 3);
    assert!(cut.capture.packets < whole.capture.packets);
    assert!(!cut.connections.is_empty());
    let w = cut
        .capture
        .warnings
        .iter()
        .find(|w| w.kind == "truncated")
        .expect("a truncation warning");
    assert!(w.message.contains("cut short"), "{}", w.message);
}
