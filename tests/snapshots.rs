//! The reports a reader sees, as plain-text snapshots of the binary's output on our own
//! recordings (piped, so no colour; `UPDATE_SNAPSHOTS=1 cargo test --test snapshots`
//! rewrites them). A reviewer sees the journey change in the diff of
//! `tests/snapshots/table/*.txt` and `tests/snapshots/diff/real-*.txt`.

mod common;

use std::process::Command;

use common::*;

fn pagetrace(args: &[&str]) -> String {
    pagetrace_at(None, args)
}

/// The output with `COLUMNS` set (piped: the width comes from the variable alone).
fn pagetrace_at(columns: Option<u16>, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagetrace"));
    cmd.current_dir(root())
        .args(args)
        .env_remove("SSLKEYLOGFILE")
        .env_remove("COLUMNS")
        .env_remove("CLICOLOR_FORCE");
    if let Some(c) = columns {
        cmd.env("COLUMNS", c.to_string());
    }
    let o = cmd.output().expect("run pagetrace");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8")
}

fn table_of(dir: &str) -> String {
    let cap = format!("fixtures/{dir}/pageload.pcap");
    let keys = format!("fixtures/{dir}/pageload.keys");
    pagetrace(&["analyze", &cap, "--keylog", &keys])
}

#[test]
fn table_default_recording() {
    let t = table_of("pageload");
    // The journey in order, on the connection that followed the redirect.
    for want in [
        "GET http://www.example.test/ → 301",
        "the client followed it on connection #2",
        "followed a redirect: 301 http://www.example.test/ on connection #1",
        "TLS 1.3, TLS_AES_256_GCM_SHA384, SNI www.example.test",
        "chose h2",
        "HTTP/2  GET https://www.example.test/img/hero.jpg → 200 180.0 KiB",
        "strict-transport-security",
        "Requests",
        "Waterfall",
    ] {
        assert!(t.contains(want), "{want:?} missing");
    }
    snapshot("table/pageload.txt", &t);
}

#[test]
fn table_http1_recording() {
    snapshot("table/pageload-http1.txt", &table_of("pageload-http1"));
}

#[test]
fn table_lossy_recording() {
    let t = table_of("pageload-loss");
    assert!(t.contains("retransmission"), "the loss shows");
    snapshot("table/pageload-loss.txt", &t);
}

#[test]
fn diff_delay40_recording() {
    let t = pagetrace(&[
        "diff",
        "fixtures/pageload/pageload.pcap",
        "fixtures/pageload-delay40/pageload.pcap",
        "--keylog-a",
        "fixtures/pageload/pageload.keys",
        "--keylog-b",
        "fixtures/pageload-delay40/pageload.keys",
    ]);
    snapshot("diff/real-delay40.txt", &t);
}

#[test]
fn diff_http1_recording() {
    let t = pagetrace(&[
        "diff",
        "fixtures/pageload/pageload.pcap",
        "fixtures/pageload-http1/pageload.pcap",
        "--keylog-a",
        "fixtures/pageload/pageload.keys",
        "--keylog-b",
        "fixtures/pageload-http1/pageload.keys",
    ]);
    assert!(t.contains("HTTP/2") && t.contains("HTTP/1.1"));
    snapshot("diff/real-http1.txt", &t);
}

/// The HTTP/3 corpus capture, when `../shared/captures` is here: its requests are told like
/// a TCP connection's (its output is not committed: the capture is a third party's).
#[test]
fn table_http3_corpus() {
    let cap = "../shared/captures/quic-v2-http3-dsb-sll.pcapng";
    if !root().join(cap).is_file() {
        println!("table_http3_corpus: skipped, {cap} is not here");
        return;
    }
    let t = pagetrace(&["analyze", cap]);
    for want in [
        "  3 HTTP requests (3 over HTTP/3), 1 QUIC connection (1 decrypted)",
        ", chose h3  handshake 2.065 ms  at +0.000000 s",
        "  HTTP/3  GET https://test/index.html → 200 386 B, text/html  TTFB 253.9 ms",
        "  HTTP/3  GET https://test/1234567 → no response 0 B",
        "│ quic-1 ┆ GET    ┆ https://test/test.html  ┆    404 ┆ h3",
        "3 requests on 1 connection",
    ] {
        assert!(t.contains(want), "{want:?} missing:\n{t}");
    }
}

/// No line wider than `width` characters (not bytes).
fn assert_fits(text: &str, width: usize) {
    for l in text.lines() {
        let n = l.chars().count();
        assert!(n <= width, "{n} > {width} chars: {l}\n{text}");
    }
}

/// The whole table report and the diff at COLUMNS=80 and 120: every line fits, long URLs
/// and hosts are cut in the middle with `…`, the story wraps at spaces.
#[test]
fn table_and_diff_fit_columns() {
    let table = [
        "analyze",
        "fixtures/pageload/pageload.pcap",
        "--keylog",
        "fixtures/pageload/pageload.keys",
    ];
    let diff = [
        "diff",
        "fixtures/pageload/pageload.pcap",
        "fixtures/pageload-http1/pageload.pcap",
        "--keylog-a",
        "fixtures/pageload/pageload.keys",
        "--keylog-b",
        "fixtures/pageload-http1/pageload.keys",
    ];
    for width in [80u16, 120] {
        let t = pagetrace_at(Some(width), &table);
        assert_fits(&t, width as usize);
        assert!(t.contains("Requests") && t.contains("Waterfall"));
        snapshot(&format!("table/pageload-{width}.txt"), &t);
        let d = pagetrace_at(Some(width), &diff);
        assert_fits(&d, width as usize);
        snapshot(&format!("diff/real-http1-{width}.txt"), &d);
    }
    let t = pagetrace_at(Some(80), &table);
    // Cut in the middle, never broken across lines mid-word.
    assert!(t.contains("https://stat…"), "{t}");
    assert!(!t.contains("http:/\n"));
}
