//! The binary's contract (REPORT.md): exit status, one clear line on errors, exactly one
//! JSON document on standard output.

mod common;

use std::process::Command;

use common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pagetrace"))
}

fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pagetrace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn not_a_capture_exits_2_with_one_line() {
    let p = tmp("notes.txt", b"this is not a capture at all\n");
    let out = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn empty_and_missing_files_exit_2() {
    let p = tmp("empty.pcap", b"");
    let out = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    let out = bin()
        .args(["analyze", "/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("pagetrace: cannot open"));
}

#[test]
fn bad_usage_exits_2() {
    let out = bin().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["analyze", "x", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cut_mid_record_is_a_warning_and_exit_0() {
    let bytes = std::fs::read(fixture("pageload/pageload.pcap")).unwrap();
    let p = tmp("cut.pcap", &bytes[..bytes.len() - 100]);
    let out = bin()
        .arg("analyze")
        .arg(&p)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["schema"], 1);
    let w = v["capture"]["warnings"].as_array().unwrap();
    assert!(w.iter().any(|w| w["kind"] == "truncated"), "{w:?}");
}

#[test]
fn stdin_is_read_with_dash() {
    let bytes = std::fs::read(fixture("pageload/pageload.pcapng")).unwrap();
    let mut child = bin()
        .args(["analyze", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&bytes).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["capture"]["format"], "pcapng");
    assert!(v["connections"].as_array().unwrap().len() >= 6);
}

#[test]
fn json_output_follows_the_contract() {
    let out = bin()
        .arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "path",
        "format",
        "link_types",
        "packets",
        "bytes",
        "first_ts",
        "last_ts",
        "warnings",
    ] {
        assert!(v["capture"].get(k).is_some(), "capture.{k}");
    }
    assert_eq!(v["capture"]["link_types"][0], "ETHERNET");
    let c = &v["connections"][0];
    for k in [
        "id", "client", "server", "hostname", "dns", "tcp", "tls", "http", "timeline",
    ] {
        assert!(c.get(k).is_some(), "connection.{k}");
    }
    for k in [
        "syn_ts",
        "synack_ts",
        "ack_ts",
        "handshake_ms",
        "client_isn",
        "server_isn",
        "options",
        "bytes",
        "packets",
        "retransmissions",
        "out_of_order",
        "zero_window",
        "gaps",
        "close",
    ] {
        assert!(c["tcp"].get(k).is_some(), "tcp.{k}");
    }
    assert_eq!(c["id"], 1);
    assert!(c["tcp"]["handshake_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn output_file_and_closed_pipe() {
    let dir = std::env::temp_dir().join(format!("pagetrace-cli-o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = dir.join("r.json");
    let st = bin()
        .arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .args(["--format", "json", "-o"])
        .arg(&o)
        .status()
        .unwrap();
    assert!(st.success());
    let _: serde_json::Value = serde_json::from_slice(&std::fs::read(&o).unwrap()).unwrap();
    // `| head -1`: the reader goes away; that is not an error.
    let mut child = bin()
        .arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(0));
}
