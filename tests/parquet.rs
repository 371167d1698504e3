//! `analyze --format parquet -o DIR` read back with the `parquet` crate's Arrow reader and
//! checked against `--format json` of the same capture: the rows of every table, each
//! request's status, body bytes and time to first byte, the `capture` key of every row with
//! several captures in one run; and DuckDB and Spark reading the directory as it is
//! (`tests/parquet_check.py`), each skipped with a message when its Python module cannot be
//! imported, unless `PAGETRACE_PARQUET_REQUIRED=1`.
#![cfg(feature = "parquet")]

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use common::fixture;

use pagetrace::report::parquet::TABLES;

/// (capture, key log) of the fixtures checked: HTTP/1 and HTTP/2 over TCP, HTTP/3, and one
/// with losses (rows in `diagnosis`).
fn fixtures() -> Vec<(PathBuf, PathBuf)> {
    vec![
        (
            fixture("pageload/pageload.pcap"),
            fixture("pageload/pageload.keys"),
        ),
        (
            fixture("h3-aioquic/capture.pcap"),
            fixture("h3-aioquic/capture.keys"),
        ),
        (
            fixture("pageload-loss/pageload.pcap"),
            fixture("pageload-loss/pageload.keys"),
        ),
    ]
}

fn pagetrace(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .arg("analyze")
        .args(args)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run pagetrace")
}

fn json(cap: &Path, keys: &Path) -> Value {
    let o = pagetrace(&[
        "--format".as_ref(),
        "json".as_ref(),
        "--keylog".as_ref(),
        keys.as_os_str(),
        cap.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON report")
}

/// A fresh directory for one test's tables.
fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pagetrace-parquet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `analyze --format parquet -o dir` of `caps` with the key log `keys`.
fn write_parquet(caps: &[&Path], keys: &Path, dir: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--format".as_ref(),
        "parquet".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--keylog".as_ref(),
        keys.as_os_str(),
    ];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    args.extend(caps.iter().map(|c| c.as_os_str()));
    let o = pagetrace(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Every row of `DIR/<table>/<n>.parquet`, as one batch.
fn read(dir: &Path, table: &str, n: usize) -> RecordBatch {
    let path = dir.join(table).join(format!("{n}.parquet"));
    let f = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // One batch holds every row: the reader's batch size is capped at the file's rows.
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .with_batch_size(usize::MAX);
    let schema = reader.schema().clone();
    let mut batches: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    assert!(batches.len() <= 1, "{}: one batch", path.display());
    batches
        .pop()
        .unwrap_or_else(|| RecordBatch::new_empty(schema))
}

fn u64s(b: &RecordBatch, col: &str) -> Vec<Option<u64>> {
    b.column_by_name(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .as_primitive::<UInt64Type>()
        .iter()
        .collect()
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    b.column_by_name(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

/// One request as both sides give it: (quic, connection, index, status, body bytes, TTFB).
type Request = (bool, u64, u64, Option<u64>, u64, Option<f64>);

/// What `--format json` holds, per table: the rows, and the requests in (quic, connection,
/// index) order.
struct Expected {
    counts: [(&'static str, usize); 7],
    request_headers: usize,
    requests: Vec<Request>,
}

fn expected(r: &Value) -> Expected {
    let arr = |k: &str| r[k].as_array().unwrap().clone();
    let (conns, quic, dns) = (arr("connections"), arr("quic"), arr("dns"));
    let mut requests = Vec::new();
    let mut headers = 0;
    let mut delays = 0;
    for (is_quic, list) in [(false, &conns), (true, &quic)] {
        for c in list {
            delays += c["diagnosis"].as_array().map_or(0, |d| d.len());
            for (i, h) in c["http"].as_array().unwrap().iter().enumerate() {
                headers += h["request_headers"].as_array().unwrap().len();
                delays += h["diagnosis"].as_array().unwrap().len();
                requests.push((
                    is_quic,
                    c["id"].as_u64().unwrap(),
                    i as u64,
                    h["status"].as_u64(),
                    h["body_bytes"].as_u64().unwrap(),
                    h["ttfb_ms"].as_f64(),
                ));
            }
        }
    }
    requests.sort_by_key(|r| (r.0, r.1, r.2));
    let tls = conns
        .iter()
        .chain(&quic)
        .filter(|c| !c["tls"].is_null())
        .count();
    Expected {
        counts: [
            ("captures", 1),
            ("connections", conns.len()),
            ("requests", requests.len()),
            ("dns", dns.len()),
            ("tls", tls),
            ("quic", quic.len()),
            ("diagnosis", delays),
        ],
        request_headers: headers,
        requests,
    }
}

/// The requests of a `requests` table, in (quic, connection, index) order.
fn parquet_requests(b: &RecordBatch) -> Vec<Request> {
    let quic = b.column_by_name("quic").unwrap().as_boolean();
    let index = b
        .column_by_name("index")
        .unwrap()
        .as_primitive::<UInt32Type>();
    let status = b
        .column_by_name("status")
        .unwrap()
        .as_primitive::<UInt16Type>();
    let ttfb = b
        .column_by_name("ttfb_ms")
        .unwrap()
        .as_primitive::<Float64Type>();
    let conn = u64s(b, "connection");
    let body = u64s(b, "body_bytes");
    let mut rows: Vec<Request> = (0..b.num_rows())
        .map(|i| {
            (
                quic.value(i),
                conn[i].unwrap(),
                u64::from(index.value(i)),
                status.is_valid(i).then(|| u64::from(status.value(i))),
                body[i].unwrap(),
                ttfb.is_valid(i).then(|| ttfb.value(i)),
            )
        })
        .collect();
    rows.sort_by_key(|r| (r.0, r.1, r.2));
    rows
}

#[test]
fn each_table_holds_what_json_holds() {
    for (n, (cap, keys)) in fixtures().iter().enumerate() {
        let dir = out_dir(&format!("one-{n}"));
        write_parquet(&[cap], keys, &dir, &[]);
        let want = expected(&json(cap, keys));
        for (table, rows) in want.counts {
            let b = read(&dir, table, 0);
            assert_eq!(b.num_rows(), rows, "{}: {table}", cap.display());
            assert_eq!(b.schema().field(0).name(), "capture", "{table}");
            let capture = cap.to_str().unwrap();
            assert!(
                strings(&b, "capture")
                    .iter()
                    .all(|c| c.as_deref() == Some(capture)),
                "{table}"
            );
        }
        let requests = read(&dir, "requests", 0);
        assert_eq!(
            parquet_requests(&requests),
            want.requests,
            "{}",
            cap.display()
        );
        let headers = requests
            .column_by_name("request_headers")
            .unwrap()
            .as_list::<i32>();
        assert_eq!(
            headers.values().len(),
            want.request_headers,
            "{}",
            cap.display()
        );
        assert_eq!(
            requests
                .schema()
                .field_with_name("request_ts")
                .unwrap()
                .data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        let captures = read(&dir, "captures", 0);
        let counted = |col: &str| u64s(&captures, col)[0].unwrap() as usize;
        for (col, table) in [("connections", 1), ("requests", 2), ("dns", 3), ("quic", 5)] {
            assert_eq!(counted(col), want.counts[table].1, "captures.{col}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Captured at a resolver: each client lookup's walk, as its number of queries upstream
/// and whether the cache answered, is what `--format json` says of it (the rows streamed,
/// so compared as sets).
#[test]
fn a_resolvers_walk_is_counted_in_the_dns_table() {
    let (cap, keys) = (
        fixture("dnstree/resolver.pcap"),
        fixture("dnstree/resolver.keys"),
    );
    let dir = out_dir("walk");
    write_parquet(&[&cap], &keys, &dir, &[]);
    let b = read(&dir, "dns", 0);
    let walks = b
        .column_by_name("upstream_queries")
        .unwrap()
        .as_primitive::<UInt32Type>();
    let cached = b.column_by_name("cached").unwrap().as_boolean();
    let mut got: Vec<(Option<String>, Option<u64>, Option<bool>)> = strings(&b, "qname")
        .into_iter()
        .zip(walks.iter().zip(cached.iter()))
        .map(|(q, (w, c))| (q, w.map(u64::from), c))
        .collect();
    let mut want: Vec<(Option<String>, Option<u64>, Option<bool>)> = json(&cap, &keys)["dns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["questions"][0]["name"].as_str().map(str::to_string),
                t["chain"].as_array().map(|c| c.len() as u64),
                t["cached"].as_bool(),
            )
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(got.iter().filter(|r| r.1 > Some(0)).count() >= 5, "{got:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The first request's times, exactly: the JSON's seconds (to the microsecond) as a UTC
/// timestamp.
#[test]
fn times_are_timestamps_of_the_capture() {
    let (cap, keys) = &fixtures()[0];
    let dir = out_dir("times");
    write_parquet(&[cap], keys, &dir, &[]);
    let r = json(cap, keys);
    let requests = read(&dir, "requests", 0);
    let conn = u64s(&requests, "connection");
    let index = requests
        .column_by_name("index")
        .unwrap()
        .as_primitive::<UInt32Type>();
    let ts = requests
        .column_by_name("request_ts")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let mut checked = 0;
    for c in r["connections"].as_array().unwrap() {
        for (i, h) in c["http"].as_array().unwrap().iter().enumerate() {
            let Some(secs) = h["request_ts"].as_f64() else {
                continue;
            };
            let row = (0..requests.num_rows())
                .find(|&k| conn[k] == c["id"].as_u64() && index.value(k) as usize == i)
                .expect("the request's row");
            let micros = ts.value(row);
            assert!(
                (micros as f64 / 1e6 - secs).abs() < 2e-6,
                "{micros} vs {secs}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The two key logs as one file, for a run of both captures.
fn both_keys(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut text = std::fs::read(fixture("pageload/pageload.keys")).unwrap();
    text.push(b'\n');
    text.extend(std::fs::read(fixture("h3-aioquic/capture.keys")).unwrap());
    let p = dir.join("keys.log");
    std::fs::write(&p, text).unwrap();
    p
}

fn two_captures() -> [PathBuf; 2] {
    [
        fixture("pageload/pageload.pcap"),
        fixture("h3-aioquic/capture.pcap"),
    ]
}

#[test]
fn two_captures_one_file_each_every_row_keyed() {
    let caps = two_captures();
    let keys_dir = out_dir("two-keys");
    let keys = both_keys(&keys_dir);
    let dir = out_dir("two");
    write_parquet(&[&caps[0], &caps[1]], &keys, &dir, &["--threads", "2"]);
    let mut capture_rows = Vec::new();
    for (n, cap) in caps.iter().enumerate() {
        let name = cap.to_str().unwrap();
        let want = expected(&json(cap, &keys));
        for (table, rows) in want.counts {
            let b = read(&dir, table, n);
            assert_eq!(b.num_rows(), rows, "{table}/{n}.parquet");
            assert!(
                strings(&b, "capture")
                    .iter()
                    .all(|c| c.as_deref() == Some(name)),
                "{table}/{n}.parquet: every row names {name}"
            );
        }
        assert_eq!(parquet_requests(&read(&dir, "requests", n)), want.requests);
        capture_rows.extend(strings(&read(&dir, "captures", n), "capture"));
    }
    let names: Vec<Option<String>> = caps
        .iter()
        .map(|c| c.to_str().map(str::to_string))
        .collect();
    assert_eq!(
        capture_rows, names,
        "captures: two rows, in the order given"
    );
    for table in TABLES {
        let files = std::fs::read_dir(dir.join(table)).unwrap().count();
        assert_eq!(files, 2, "{table}");
    }
    // Run again into the same directory with one capture: the second capture's files of
    // the first run are gone (the engines would read them with the new one), anything
    // else there stays.
    std::fs::write(dir.join("requests").join("notes.txt"), "mine").unwrap();
    write_parquet(&[&caps[0]], &keys, &dir, &[]);
    for table in TABLES {
        assert!(dir.join(table).join("0.parquet").is_file(), "{table}");
        assert!(!dir.join(table).join("1.parquet").exists(), "{table}");
    }
    assert!(dir.join("requests").join("notes.txt").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&keys_dir).unwrap();
}

#[test]
fn a_filter_keeps_the_same_requests_as_json() {
    let (cap, keys) = &fixtures()[0];
    let filter = "status >= 300 or host ~ \"static\"";
    let dir = out_dir("filter");
    write_parquet(&[cap], keys, &dir, &["--filter", filter]);
    let o = pagetrace(&[
        "--format".as_ref(),
        "json".as_ref(),
        "--keylog".as_ref(),
        keys.as_os_str(),
        "--filter".as_ref(),
        filter.as_ref(),
        cap.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = expected(&r);
    let before = r["filter"]["before"]["requests"].as_u64().unwrap() as usize;
    assert!(
        (1..before).contains(&want.requests.len()),
        "the filter keeps some requests, not all"
    );
    let got = read(&dir, "requests", 0);
    // Positions in `http` are those before the filter in the table, after it in the JSON.
    let strip = |v: Vec<Request>| -> Vec<(bool, u64, Option<u64>, u64)> {
        v.into_iter()
            .map(|(q, c, _, s, b, _)| (q, c, s, b))
            .collect()
    };
    assert_eq!(strip(parquet_requests(&got)), strip(want.requests));
    assert_eq!(read(&dir, "connections", 0).num_rows(), want.counts[1].1);
    assert_eq!(
        read(&dir, "dns", 0).num_rows(),
        want.counts[3].1,
        "the lookups kept"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parquet_without_a_directory_is_a_usage_error() {
    let cap = fixture("pageload/pageload.pcap");
    let o = pagetrace(&["--format".as_ref(), "parquet".as_ref(), cap.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-o DIR"));
}

/// `$PAGETRACE_PYTHON` (CI's venv with DuckDB and pyspark, as `tests/records.rs` uses),
/// else the Python of the lab's venv, else `python3`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PAGETRACE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = common::root().join("tests/lab/.venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

#[test]
fn duckdb_and_spark_read_the_directory() {
    let caps = two_captures();
    let keys_dir = out_dir("engines-keys");
    let keys = both_keys(&keys_dir);
    let dir = out_dir("engines");
    write_parquet(&[&caps[0], &caps[1]], &keys, &dir, &[]);
    // What the engines should see: both captures' rows, requests ordered by capture.
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut headers = 0;
    let mut requests = Vec::new();
    let mut ordered: Vec<&PathBuf> = caps.iter().collect();
    ordered.sort();
    for cap in ordered {
        let want = expected(&json(cap, &keys));
        for (table, n) in want.counts {
            *counts.entry(table).or_default() += n;
        }
        headers += want.request_headers;
        let name = cap.to_str().unwrap().to_string();
        requests.extend(want.requests.into_iter().map(|r| (name.clone(), r)));
    }
    let required = std::env::var("PAGETRACE_PARQUET_REQUIRED").is_ok_and(|v| v == "1");
    let py = python();
    for (engine, module) in [("duckdb", "duckdb"), ("spark", "pyspark")] {
        let have = Command::new(&py)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !have {
            assert!(
                !required,
                "PAGETRACE_PARQUET_REQUIRED=1 but {} cannot import {module}",
                py.display()
            );
            eprintln!(
                "skipped: {} cannot import {module} ({engine})",
                py.display()
            );
            continue;
        }
        let o = Command::new(&py)
            .arg(common::root().join("tests/parquet_check.py"))
            .args(["--engine", engine])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got: Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
        for (table, n) in &counts {
            assert_eq!(
                got["counts"][table].as_u64(),
                Some(*n as u64),
                "{engine}: {table}"
            );
        }
        assert_eq!(
            got["request_headers"].as_u64(),
            Some(headers as u64),
            "{engine}"
        );
        let ts = got["types"]["requests.request_ts"].as_str().unwrap_or("");
        assert!(
            ts.to_lowercase().contains("timestamp"),
            "{engine}: request_ts is {ts}"
        );
        let rows: Vec<(String, Request)> = got["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_string(),
                    (
                        r[2].as_bool().unwrap(),
                        r[1].as_u64().unwrap(),
                        r[3].as_u64().unwrap(),
                        r[4].as_u64(),
                        r[5].as_u64().unwrap(),
                        r[6].as_f64(),
                    ),
                )
            })
            .collect();
        assert_eq!(rows, requests, "{engine}: the requests in order");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&keys_dir).unwrap();
}
