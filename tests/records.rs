//! `analyze --format jsonl` and `--format csv` against `--format json` on every fixture and
//! corpus capture: the same requests, connections, QUIC connections and lookups, line by
//! line; with a filter too. And DuckDB (its Python package) reading the jsonl: skipped
//! with a message when `duckdb` cannot be imported, unless `PAGETRACE_LAB_REQUIRED=1`
//! (CI installs it in a venv and names its python in `PAGETRACE_PYTHON`).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

/// (capture, key log) for every fixture (with and without its keys) and corpus capture.
fn runs() -> Vec<(PathBuf, Option<PathBuf>)> {
    capture_runs()
}

fn analyze(cap: &PathBuf, keys: &Option<PathBuf>, format: &str, filter: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagetrace"));
    cmd.arg("analyze").arg(cap).args(["--format", format]);
    cmd.env_remove("SSLKEYLOGFILE");
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    if let Some(f) = filter {
        cmd.args(["--filter", f]);
    }
    let out = cmd.output().expect("run pagetrace");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// (requests, connections, QUIC connections, DNS transactions) of a JSON report.
fn json_counts(r: &Value) -> [usize; 4] {
    let arr = |k: &str| r[k].as_array().unwrap();
    let http = |k: &str| -> usize {
        arr(k)
            .iter()
            .map(|c| c["http"].as_array().unwrap().len())
            .sum()
    };
    [
        http("connections") + http("quic"),
        arr("connections").len(),
        arr("quic").len(),
        arr("dns").len(),
    ]
}

/// The same counts from jsonl lines, checking every line's shape on the way.
fn jsonl_counts(text: &str) -> [usize; 4] {
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let last = lines.last().expect("a capture line");
    assert_eq!(last["type"], "capture");
    let mut n = [0; 4];
    let mut dns_seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        // A connection's lookup (its `dns`) is a `dns` line written before it.
        if let Some(d) = l["dns"].as_u64() {
            assert!(
                dns_seen.contains(&d),
                "line {i}: dns {d} not written before: {l}"
            );
        }
        match l["type"].as_str() {
            Some("request") => {
                n[0] += 1;
                assert!(l["connection"].is_u64() && l["client"].is_string(), "{l}");
            }
            Some("connection") => n[1] += 1,
            Some("quic") => n[2] += 1,
            Some("dns") => {
                n[3] += 1;
                dns_seen.insert(l["index"].as_u64().expect("an index"));
            }
            Some("capture") => assert_eq!(i, lines.len() - 1),
            other => panic!("line {i}: type {other:?}"),
        }
    }
    n
}

#[test]
fn jsonl_and_csv_hold_what_json_holds() {
    for (cap, keys) in runs() {
        let r: Value = serde_json::from_str(&analyze(&cap, &keys, "json", None)).unwrap();
        let want = json_counts(&r);
        let got = jsonl_counts(&analyze(&cap, &keys, "jsonl", None));
        assert_eq!(got, want, "{} keys {}", cap.display(), keys.is_some());
        let csv = analyze(&cap, &keys, "csv", None);
        let mut rows = csv.split("\r\n").filter(|l| !l.is_empty());
        let header = rows.next().expect("a header line");
        assert_eq!(
            header,
            pagetrace::report::records::CSV_COLUMNS.join(","),
            "{}",
            cap.display()
        );
        // Header values never hold a line break; URLs and types no quote: rows are lines.
        assert_eq!(rows.count(), want[0], "{}", cap.display());
    }
}

#[test]
fn the_filter_streams_what_it_keeps_of_the_report() {
    let cap = fixture("pageload/pageload.pcap");
    let keys = Some(fixture("pageload/pageload.keys"));
    for filter in [
        "status >= 400",
        "host == static.example.test",
        "proto == h1",
        "not tls.version",
    ] {
        let r: Value = serde_json::from_str(&analyze(&cap, &keys, "json", Some(filter))).unwrap();
        let text = analyze(&cap, &keys, "jsonl", Some(filter));
        // The same requests, connections and lookups (those that match alone, and those
        // of kept connections, held back until then).
        assert_eq!(jsonl_counts(&text), json_counts(&r), "{filter}");
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["filter"]["expression"], filter);
        assert_eq!(last["filter"]["before"], r["filter"]["before"], "{filter}");
    }
}

/// The python that has `duckdb`: `PAGETRACE_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("PAGETRACE_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn duckdb_counts_the_same_requests() {
    let py = python();
    let have = Command::new(&py)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("PAGETRACE_LAB_REQUIRED").is_none(),
            "PAGETRACE_LAB_REQUIRED is set but {py} cannot import duckdb"
        );
        eprintln!("skipped: {py} cannot import duckdb (pip install duckdb; PAGETRACE_PYTHON)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("pagetrace-duckdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    for (i, (cap, keys)) in runs().into_iter().enumerate() {
        let r: Value = serde_json::from_str(&analyze(&cap, &keys, "json", None)).unwrap();
        let want = json_counts(&r)[0];
        let path = dir.join(format!("{i}.jsonl"));
        std::fs::write(&path, analyze(&cap, &keys, "jsonl", None)).unwrap();
        let query = format!(
            "import duckdb; print(duckdb.sql(\"select count(*) filter (where type = 'request') \
             from read_json_auto('{}')\").fetchall()[0][0])",
            path.display()
        );
        let out = Command::new(&py).args(["-c", &query]).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            cap.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let got: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert_eq!(got, want, "{} keys {}", cap.display(), keys.is_some());
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked > 0);
}
