//! Why a request was slow, on a fault made on purpose. `tests/lab` records real Chromium
//! loading a page through a relay adding 20 ms per round trip and dropping exactly one
//! chosen segment: the 20th full-size segment the server sends on port 443, in the middle of
//! a response on the HTTP/2 connection. The segment is lost between the server and the
//! capture (taken at the client), so the capture shows a hole, later segments waiting
//! behind it, and the server's resend.
//!
//! The truth comes from tcpdump's own reading of the capture, not from pagetrace: the hole
//! opens when a segment arrives beyond the highest byte so far, and closes when a segment
//! arrives below it (the resend). pagetrace must put a loss delay (fast or timeout
//! retransmission, or head-of-line on HTTP/2) on the exchanges of that connection with a
//! cost within 5 ms or 20% of the hole's life; a connection's loss delays never name more
//! resends than it counted (the relay's own latency sometimes makes a sender resend, which
//! is real and may delay a request on another connection).
//!
//! Needs root and `sudo tests/lab/setup.sh`; skipped with a message otherwise, unless
//! `PAGETRACE_LAB_REQUIRED=1` (CI sets it). About 20 seconds.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const DROP: &str = "s2c tcp src port 443 and len>1000:20";
const LOSS_KINDS: [&str; 3] = ["fast_retransmission", "rto_retransmission", "head_of_line"];

fn skip() -> bool {
    common::lab::skip_lab(common::lab::missing(true))
}

fn record(out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    let o = Command::new("python3")
        .arg(common::lab::dir().join("record.py"))
        .args([
            "--scenario",
            "browser",
            "--delay",
            "20",
            "--drop",
            DROP,
            "-q",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .expect("run tests/lab/record.py");
    assert!(
        o.status.success(),
        "the lab failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The client port of the connection whose segment the relay dropped.
fn dropped_port(dir: &Path) -> u16 {
    let log = std::fs::read_to_string(dir.join("relay-drops.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "exactly one frame dropped: {log}");
    // "tcp6 443>47192 A len=1428"
    let packet = lines[0]["packet"].as_str().unwrap();
    let ports = packet.split_whitespace().nth(1).unwrap();
    ports.split('>').nth(1).unwrap().parse().unwrap()
}

/// From tcpdump's reading: when the hole opened (the first segment beyond the highest
/// byte), when it closed (the first segment below the highest byte after that), in
/// seconds since the epoch.
fn hole(dir: &Path, port: u16) -> (f64, f64) {
    let o = Command::new("tcpdump")
        .args(["-r"])
        .arg(dir.join("capture.pcap"))
        .args(["-n", "-tt", "-S"])
        .arg(format!("tcp src port 443 and tcp dst port {port}"))
        .output()
        .expect("tcpdump");
    let text = String::from_utf8_lossy(&o.stdout);
    let mut highest: Option<u64> = None;
    let mut opened: Option<f64> = None;
    for line in text.lines() {
        let Some(seq) = line.split(", seq ").nth(1) else {
            continue;
        };
        let range = seq.split(',').next().unwrap();
        let Some((a, b)) = range.split_once(':') else {
            continue;
        };
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        let t: f64 = line.split_whitespace().next().unwrap().parse().unwrap();
        match (highest, opened) {
            (Some(h), None) if a > h => opened = Some(t),
            (Some(h), Some(o)) if a < h => return (o, t),
            _ => {}
        }
        highest = Some(highest.map_or(b, |h| h.max(b)));
    }
    panic!("no hole in the server's segments to port {port}:\n{text}");
}

#[test]
fn a_dropped_response_segment_is_the_delay_of_the_requests_it_held_up() {
    if skip() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pagetrace-lab-diag-{}", std::process::id()));
    record(&dir);
    let port = dropped_port(&dir);
    let (opened, closed) = hole(&dir, port);
    let truth_ms = (closed - opened) * 1000.0;

    let o = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .arg("analyze")
        .arg(dir.join("capture.pcapng"))
        .args(["--format", "json"])
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert!(o.status.success());
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let table = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .arg("analyze")
        .arg(dir.join("capture.pcapng"))
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&table.stdout));
    eprintln!("the hole to port {port} lived {truth_ms:.1} ms");

    let mut found = false;
    for c in report["connections"].as_array().unwrap() {
        let client_port = c["client"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap();
        let delays: Vec<&Value> = c["http"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["diagnosis"].as_array().unwrap())
            .chain(c["diagnosis"].as_array().unwrap())
            .filter(|d| LOSS_KINDS.contains(&d["kind"].as_str().unwrap()))
            .collect();
        // A loss delay names a retransmission the connection counted (the relay's own
        // latency sometimes makes a sender resend: those are real, and counted).
        let t = &c["tcp"]["retransmissions"];
        let counted = t["client"].as_u64().unwrap() + t["server"].as_u64().unwrap();
        let frames: std::collections::BTreeSet<u64> = delays
            .iter()
            .map(|d| {
                d["frames"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(
            frames.len() as u64 <= counted,
            "connection {}: {} resends named, {counted} counted: {delays:?}",
            c["id"],
            frames.len()
        );
        if client_port != port {
            continue;
        }
        found = true;
        assert!(
            !delays.is_empty(),
            "no loss delay on connection {}",
            c["id"]
        );
        // The request whose bytes sat in the hole carries its full life.
        assert!(
            delays
                .iter()
                .any(|d| (d["ms"].as_f64().unwrap() - truth_ms).abs() <= (truth_ms * 0.2).max(5.0)),
            "{delays:?}"
        );
    }
    assert!(found, "the connection to port {port} is in the report");
    let _ = std::fs::remove_dir_all(&dir);
}
