//! "Find it in Wireshark": the numbers the report gives to go from a connection or a request
//! to the same packets in Wireshark agree with tshark's own on every fixture and corpus
//! capture: `tcp_stream` (tshark's `tcp.stream`), `udp_stream` (`udp.stream`), the first and
//! last frame of each connection, and where an HTTP message is shown (`request_packet`,
//! `response_packet`: `http.request` / `http.response` frames for HTTP/1.x, HEADERS frames
//! for HTTP/2). Skipped with a message when tshark is not installed, unless
//! `PAGETRACE_TSHARK_REQUIRED=1` (CI, once the lab setup has installed it).
//!
//! HTTP frames are compared on clean connections only (no retransmission, reordering or
//! gap, no snaplen cut): there tshark's reassembly and pagetrace's place a message in
//! different frames, and neither number is wrong.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn have_tshark() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Every capture of the fixtures and the corpus, with the key log beside it.
fn captures() -> Vec<(PathBuf, Option<PathBuf>)> {
    capture_files()
}

/// What tshark says about one capture.
#[derive(Default)]
struct Tshark {
    /// `tcp.stream` / `udp.stream` → (first frame, last frame).
    tcp: HashMap<u64, (u64, u64)>,
    udp: HashMap<u64, (u64, u64)>,
    /// (tcp.stream, frame) of HTTP/1.x requests and responses.
    http1: HashSet<(u64, u64)>,
    /// (tcp.stream, frame, HTTP/2 stream id) of HEADERS frames.
    h2_headers: HashSet<(u64, u64, u64)>,
}

fn first_number(field: &str) -> Option<u64> {
    field.split(',').next()?.parse().ok()
}

fn tshark(cap: &Path, keys: Option<&Path>) -> Tshark {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(cap);
    if let Some(k) = keys {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    cmd.args(["-T", "fields", "-E", "separator=|"]);
    for f in [
        "frame.number",
        "tcp.stream",
        "udp.stream",
        "http.request",
        "http.response",
        "http2.type",
        "http2.streamid",
    ] {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    let mut t = Tshark::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('|').collect();
        let Some(frame) = f.first().and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        if let Some(u) = f.get(2).and_then(|s| first_number(s)) {
            t.udp.entry(u).or_insert((frame, frame)).1 = frame;
        }
        let Some(s) = f.get(1).and_then(|s| first_number(s)) else {
            continue;
        };
        t.tcp.entry(s).or_insert((frame, frame)).1 = frame;
        if f.get(3).is_some_and(|x| !x.is_empty()) || f.get(4).is_some_and(|x| !x.is_empty()) {
            t.http1.insert((s, frame));
        }
        let (types, ids) = (f.get(5).unwrap_or(&""), f.get(6).unwrap_or(&""));
        for (ty, id) in types.split(',').zip(ids.split(',')) {
            if let (Ok(1), Ok(id)) = (ty.parse::<u8>(), id.parse::<u64>()) {
                t.h2_headers.insert((s, frame, id));
            }
        }
    }
    t
}

fn report(cap: &Path, keys: Option<&Path>) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagetrace"));
    cmd.arg("analyze").arg(cap).args(["--format", "json"]);
    cmd.env_remove("SSLKEYLOGFILE");
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    let out = cmd.output().expect("run pagetrace");
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// No retransmission, reordering or gap either way.
fn clean(c: &Value) -> bool {
    ["retransmissions", "out_of_order", "gaps"].iter().all(|k| {
        c["tcp"][k]["client"].as_u64() == Some(0) && c["tcp"][k]["server"].as_u64() == Some(0)
    })
}

/// The mismatches of one capture, in words.
fn compare(r: &Value, t: &Tshark) -> Vec<String> {
    let mut bad = Vec::new();
    let u = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    let cut = r["capture"]["stats"]["truncated"].as_u64() != Some(0);
    for c in r["connections"].as_array().unwrap() {
        let (id, s) = (u(&c["id"]), u(&c["tcp_stream"]));
        let ours = (u(&c["first_packet"]), u(&c["last_packet"]));
        if t.tcp.get(&s) != Some(&ours) {
            bad.push(format!(
                "connection #{id}: tcp.stream {s} frames {ours:?}, tshark {:?}",
                t.tcp.get(&s)
            ));
        }
        if cut || !clean(c) {
            continue;
        }
        for h in c["http"].as_array().unwrap() {
            for key in ["request_packet", "response_packet"] {
                let Some(frame) = h[key].as_u64() else {
                    continue;
                };
                let ok = match (h["version"].as_str(), h["stream"].as_u64()) {
                    (Some("HTTP/2"), Some(id)) => {
                        t.h2_headers.contains(&(s, frame, id)) || t.http1.contains(&(s, frame))
                    }
                    _ => t.http1.contains(&(s, frame)),
                };
                if !ok && h["complete"].as_bool() == Some(true) {
                    bad.push(format!("connection #{id} {}: {key} {frame}", h["url"]));
                }
            }
        }
    }
    for q in r["quic"].as_array().unwrap() {
        let s = u(&q["udp_stream"]);
        let ours = (u(&q["first_packet"]), u(&q["last_packet"]));
        if t.udp.get(&s) != Some(&ours) {
            bad.push(format!(
                "quic-{}: udp.stream {s} frames {ours:?}, tshark {:?}",
                q["id"],
                t.udp.get(&s)
            ));
        }
    }
    bad
}

#[test]
fn streams_and_frames_agree_with_tshark() {
    if !have_tshark() {
        assert!(
            std::env::var_os("PAGETRACE_TSHARK_REQUIRED").is_none(),
            "PAGETRACE_TSHARK_REQUIRED is set but tshark does not run"
        );
        eprintln!("skipped: tshark is not installed");
        return;
    }
    let mut bad = Vec::new();
    let mut conns = 0;
    for (cap, keys) in captures() {
        let r = report(&cap, keys.as_deref());
        conns += r["connections"].as_array().map_or(0, Vec::len);
        let t = tshark(&cap, keys.as_deref());
        for b in compare(&r, &t) {
            bad.push(format!("{}: {b}", cap.display()));
        }
    }
    assert!(conns > 0);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
