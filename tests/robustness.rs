//! Hostile and damaged input: every capture we can reach (our fixtures, and the third-party
//! corpus in ../shared/captures when it is there) is cut and corrupted at many offsets, with
//! its key log where it has one (so decryption and the HTTP inside are hit too). The
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
        fixture("h3-aioquic/capture.pcap"),
    ];
    if shared_captures().is_some() {
        v.extend(corpus_files());
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

/// The key log of a capture, where there is one (`<capture>.keys` in the corpus, the
/// fixtures' `pageload.keys` and `capture.keys`), so the damage also reaches decryption (TLS
/// and QUIC) and what is inside (HTTP/1.x, HTTP/2, HTTP/3).
fn keys_for(path: &std::path::Path) -> Option<String> {
    let mut beside = path.as_os_str().to_owned();
    beside.push(".keys");
    std::fs::read_to_string(beside)
        .or_else(|_| std::fs::read_to_string(path.with_file_name("pageload.keys")))
        .or_else(|_| std::fs::read_to_string(path.with_extension("keys")))
        .ok()
}

fn run(bytes: Vec<u8>, what: &str, keys: Option<&str>) {
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
        if let Some(k) = keys {
            a.add_keylog_text(k);
        }
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
        let keys = keys_for(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let n = bytes.len();
        let steps = if n > 500_000 { 8 } else { 40 };
        for k in 1..steps {
            let cut = n * k / steps;
            run(
                bytes[..cut].to_vec(),
                &format!("{name} cut at {cut}"),
                keys.as_deref(),
            );
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let mut rng = XorShift(0x9e3779b97f4a7c15);
    for path in captures() {
        let bytes = std::fs::read(&path).unwrap();
        let keys = keys_for(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rounds = if bytes.len() > 500_000 { 3 } else { 25 };
        for round in 0..rounds {
            let mut b = bytes.clone();
            // Leave the file header alone so the damage reaches the packets.
            for _ in 0..(1 + round % 7) * 8 {
                let at = 24 + (rng.next() as usize) % (b.len() - 24);
                b[at] = rng.next() as u8;
            }
            run(
                b,
                &format!("{name} corrupted, round {round}"),
                keys.as_deref(),
            );
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
        .find(|w| w.kind == pagetrace::warning::WarningKind::Truncated)
        .expect("a truncation warning");
    assert!(w.message.contains("cut short"), "{}", w.message);
}

/// A key log with damaged lines: the good lines still decrypt, the bad ones are counted.
#[test]
fn damaged_key_log_lines_are_skipped() {
    let keys = std::fs::read_to_string(fixture("pageload/pageload.keys")).unwrap();
    let mut rng = XorShift(0x2545f4914f6cdd1d);
    let mut damaged = String::new();
    let mut broken = 0;
    for (i, line) in keys.lines().enumerate() {
        if i % 3 == 0 {
            // Cut the secret short, or put a non-hex byte in it.
            let mut l = line.to_string();
            let at = l.len() - 1 - (rng.next() as usize) % 8;
            l.replace_range(at..at + 1, "Z");
            damaged.push_str(&l);
            broken += 1;
        } else {
            damaged.push_str(line);
        }
        damaged.push('\n');
    }
    damaged.push_str("CLIENT_RANDOM\n\u{0}\u{ff}garbage\n");
    let mut reader = pagetrace::capture::CaptureReader::new(
        std::fs::File::open(fixture("pageload/pageload.pcap")).unwrap(),
    )
    .unwrap();
    let mut a = pagetrace::pipeline::Analyzer::new(AnalyzerConfig::default(), "t", reader.format);
    a.add_keylog_text(&damaged);
    let mut w = Vec::new();
    reader.for_each(&mut w, |ev| {
        if let pagetrace::capture::CaptureEvent::Packet(p) = ev {
            a.handle_packet(&p)
        }
    });
    let stats = *a.keylog_stats();
    let r = a.finish();
    assert_eq!(stats.bad, broken + 2, "{stats:?}");
    assert!(stats.accepted > 0, "{stats:?}");
    // The secrets that survived still decrypt their sessions.
    assert!(r
        .connections
        .iter()
        .any(|c| c.tls.as_ref().is_some_and(|t| t.decrypted) && !c.http.is_empty()));
    // The message never carries key material.
    for line in keys.lines() {
        let secret = line.rsplit(' ').next().unwrap();
        assert!(!serde_json::to_string(&r).unwrap().contains(secret));
    }
}
