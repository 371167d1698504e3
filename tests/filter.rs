//! `--filter` (`-Y`) through the binary: on every fixture `status >= 400` keeps exactly the
//! 4xx and 5xx requests of the unfiltered report, in every format; a filter that does not
//! parse exits 2 with a caret under the column.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .args(args)
        .current_dir(root())
        .env_remove("SSLKEYLOGFILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pagetrace")
}

/// Each fixture capture with its key log.
fn fixtures() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let d = d.unwrap().path();
        let Some(keys) = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "keys"))
        else {
            continue;
        };
        for f in std::fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push((f, keys.clone()));
            }
        }
    }
    out.sort();
    out
}

fn json(cap: &Path, keys: &Path, filter: Option<&str>) -> Value {
    let mut args = vec![
        "analyze",
        cap.to_str().unwrap(),
        "--keylog",
        keys.to_str().unwrap(),
        "--format",
        "json",
    ];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every request as (connection, url, status), TCP then QUIC.
fn requests(r: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for (key, prefix) in [("connections", "#"), ("quic", "quic-")] {
        for c in r[key].as_array().unwrap() {
            for h in c["http"].as_array().unwrap() {
                out.push((
                    format!("{prefix}{}", c["id"]),
                    h["url"].as_str().unwrap_or("?").to_string(),
                    h["status"].as_u64().unwrap_or(0),
                ));
            }
        }
    }
    out
}

#[test]
fn status_at_least_400_lists_exactly_the_error_requests() {
    let mut errors = 0;
    for (cap, keys) in fixtures() {
        let all = requests(&json(&cap, &keys, None));
        let want: Vec<_> = all.into_iter().filter(|r| r.2 >= 400).collect();
        let got = requests(&json(&cap, &keys, Some("status >= 400")));
        assert_eq!(got, want, "{}", cap.display());
        errors += want.len();
        // The other formats show the same requests.
        let har = run(&[
            "analyze",
            cap.to_str().unwrap(),
            "--keylog",
            keys.to_str().unwrap(),
            "--format",
            "har",
            "-Y",
            "status >= 400",
        ]);
        let har: Value = serde_json::from_slice(&har.stdout).unwrap();
        assert_eq!(har["log"]["entries"].as_array().unwrap().len(), want.len());
        for fmt in ["table", "waterfall", "html"] {
            let out = run(&[
                "analyze",
                cap.to_str().unwrap(),
                "--format",
                fmt,
                "-Y",
                "status >= 400",
            ]);
            assert!(out.status.success(), "{fmt}");
        }
    }
    assert!(errors > 0, "the fixtures have 404s");
}

#[test]
fn the_report_says_what_was_filtered() {
    let cap = fixture("pageload/pageload.pcap");
    let keys = fixture("pageload/pageload.keys");
    let r = json(&cap, &keys, Some(r#"host == "static.example.test""#));
    assert_eq!(r["filter"]["expression"], "host == \"static.example.test\"");
    assert!(r["filter"]["before"]["requests"].as_u64().unwrap() > 0);
    for (_, url, _) in requests(&r) {
        assert!(url.starts_with("https://static.example.test/"), "{url}");
    }
    // Without a filter the report has no `filter` at all (the contract is unchanged).
    assert!(json(&cap, &keys, None).get("filter").is_none());
    let table = run(&[
        "analyze",
        cap.to_str().unwrap(),
        "-Y",
        "status >= 400",
        "--keylog",
        keys.to_str().unwrap(),
    ]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("  filter status >= 400: 1 of 20 requests, 1 of 6 connections"),
        "{text}"
    );
}

#[test]
fn a_bad_filter_exits_2_with_a_caret() {
    let cap = fixture("pageload/pageload.pcap");
    let out = run(&["analyze", cap.to_str().unwrap(), "-Y", "status >= 4xx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "pagetrace: --filter: `status` takes a number\n  status >= 4xx\n            ^^^\n"
    );
    let out = run(&[
        "diff",
        cap.to_str().unwrap(),
        cap.to_str().unwrap(),
        "-Y",
        "(",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn diff_compares_what_the_filter_keeps() {
    let a = fixture("pageload/pageload.pcap");
    let b = fixture("pageload-delay40/pageload.pcap");
    let out = run(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
        "-Y",
        "host == www.example.test",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = d.to_string();
    assert!(!text.contains("static.example.test"), "{text}");
    assert!(text.contains("www.example.test"));
}
