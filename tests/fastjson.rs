//! `report::fastjson` (the JSON writer of `--format json`, `jsonl`, HAR and `live`) writes
//! the bytes serde_json writes: the whole report of every fixture and corpus capture, with
//! its key log, pretty-printed and compact, and each connection, DNS transaction and QUIC
//! connection on its own; and through `json::write_pretty`, whose 64 KiB flushes must not
//! show.

mod common;

use std::io::Cursor;

use pagetrace::capture::CaptureReader;
use pagetrace::pipeline::{self, AnalyzerConfig};
use pagetrace::report::{fastjson, json};
use serde::Serialize;

fn agree<T: Serialize>(what: &str, v: &T, bad: &mut Vec<String>) {
    for pretty in [false, true] {
        let theirs = if pretty {
            serde_json::to_vec_pretty(v).unwrap()
        } else {
            serde_json::to_vec(v).unwrap()
        };
        let mut ours = Vec::new();
        fastjson::extend(&mut ours, v, pretty).unwrap();
        if ours != theirs {
            let at = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
            bad.push(format!(
                "{what} (pretty {pretty}) differs at byte {at}: {:?} against {:?}",
                String::from_utf8_lossy(&ours[at.saturating_sub(40)..(at + 40).min(ours.len())]),
                String::from_utf8_lossy(
                    &theirs[at.saturating_sub(40)..(at + 40).min(theirs.len())]
                )
            ));
        }
    }
}

#[test]
fn fastjson_writes_what_serde_json_writes_for_every_capture() {
    let files = common::capture_files();
    assert!(files.len() >= 5, "{} captures", files.len());
    let mut bad = Vec::new();
    let mut largest = 0;
    for (f, keys) in files {
        let keys = keys.map(|k| std::fs::read_to_string(k).unwrap());
        let reader = CaptureReader::new(Cursor::new(std::fs::read(&f).unwrap())).unwrap();
        let report = pipeline::analyze(reader, "c", AnalyzerConfig::default(), keys.as_deref());
        let name = f.display().to_string();
        agree(&name, &report, &mut bad);
        for c in &report.connections {
            agree(&format!("{name} connection {}", c.id), c, &mut bad);
        }
        for (i, t) in report.dns.iter().enumerate() {
            agree(&format!("{name} dns {i}"), t, &mut bad);
        }
        for q in &report.quic {
            agree(&format!("{name} quic {}", q.id), q, &mut bad);
        }
        let mut through = Vec::new();
        json::write_pretty(&mut through, &report).unwrap();
        let mut expected = serde_json::to_vec_pretty(&report).unwrap();
        expected.push(b'\n');
        if through != expected {
            bad.push(format!("{name}: json::write_pretty differs"));
        }
        largest = largest.max(expected.len());
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // At least one report crossed write_pretty's 64 KiB flushes.
    assert!(largest > 200 << 10, "the largest report is {largest} bytes");
}
