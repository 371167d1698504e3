//! The contract in the repository: `pagetrace schema` prints the report's JSON Schema
//! (derived from the model's types with schemars), `docs/report.schema.json` is that
//! output (`PAGETRACE_UPDATE_SCHEMA=1` rewrites it), and the report of every fixture, with
//! and without its key log, of every corpus capture when `../shared/captures` is here, and
//! a filtered one validates against it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

fn pagetrace(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .args(args)
        .current_dir(root())
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run pagetrace");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(&pagetrace(&["schema"])).expect("JSON");
    jsonschema::draft202012::options()
        .build(&schema)
        .expect("the schema compiles")
}

#[test]
fn docs_report_schema_json_is_up_to_date() {
    let now = pagetrace(&["schema"]);
    let path = root().join("docs/report.schema.json");
    if std::env::var_os("PAGETRACE_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read(&path).expect("docs/report.schema.json");
    assert!(
        committed == now,
        "docs/report.schema.json differs from `pagetrace schema`: \
         PAGETRACE_UPDATE_SCHEMA=1 cargo test --test schema rewrites it"
    );
}

/// Every capture of the fixtures and the corpus, as (path, key log).
fn captures() -> Vec<(PathBuf, Option<PathBuf>)> {
    capture_runs()
}

#[test]
fn every_report_validates_against_the_schema() {
    let v = validator();
    let mut checked = 0;
    for (cap, keys) in captures() {
        let mut args = vec![
            "analyze".to_string(),
            cap.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        if let Some(k) = &keys {
            args.extend(["--keylog".into(), k.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let report: Value = serde_json::from_slice(&pagetrace(&args)).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&report)
            .take(5)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            cap.display(),
            errors.join("\n")
        );
        checked += 1;
    }
    assert!(checked >= 8);
}

#[test]
fn a_filtered_report_validates_too() {
    let v = validator();
    let report: Value = serde_json::from_slice(&pagetrace(&[
        "analyze",
        "fixtures/pageload/pageload.pcap",
        "--keylog",
        "fixtures/pageload/pageload.keys",
        "--format",
        "json",
        "-Y",
        "status >= 400",
    ]))
    .unwrap();
    assert!(report["filter"].is_object());
    assert!(v.is_valid(&report));
    // And the schema is not vacuous: a wrong type is caught.
    let mut bad = report.clone();
    bad["connections"][0]["tcp_stream"] = Value::from("three");
    assert!(!v.is_valid(&bad));
    let mut bad = report;
    bad["connections"][0]
        .as_object_mut()
        .unwrap()
        .remove("first_packet");
    assert!(!v.is_valid(&bad));
}
