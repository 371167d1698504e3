//! Byte-identical output across refactors: the SHA-256 of every report format of every
//! committed fixture and every capture in `../shared/captures` (with and without its key
//! log), compared with `tests/golden/digests.txt`.
//!
//! The digests were taken from the binary before the typed-event refactor; a line that
//! changes must be a fix named in the commit that changes it. `PAGETRACE_UPDATE_GOLDEN=1`
//! rewrites the file; on a mismatch the new output is written under
//! `target/golden-diff/` beside the old one's digest, so `diff` shows what moved.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use sha2::{Digest, Sha256};

fn digests_file() -> PathBuf {
    common::root().join("tests/golden/digests.txt")
}

fn run(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .args(args)
        .current_dir(common::root())
        .env_remove("SSLKEYLOGFILE")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pagetrace");
    assert!(
        out.status.success(),
        "pagetrace {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// (label, output) for one capture: JSON without keys, and every format with them.
fn outputs(cap: &str, keys: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![(
        format!("{cap} json"),
        run(&["analyze", cap, "--format", "json"]),
    )];
    if let Some(k) = keys {
        for fmt in ["json", "table", "har", "waterfall", "html"] {
            v.push((
                format!("{cap} keys {fmt}"),
                run(&["analyze", cap, "--keylog", k, "--format", fmt]),
            ));
        }
    } else {
        for fmt in ["table", "har", "waterfall", "html"] {
            v.push((
                format!("{cap} {fmt}"),
                run(&["analyze", cap, "--format", fmt]),
            ));
        }
    }
    v
}

#[test]
fn every_format_of_every_capture_is_byte_identical() {
    let mut got = BTreeMap::new();
    let mut bodies = BTreeMap::new();
    for (cap, keys) in common::captures() {
        for (label, out) in outputs(&cap, keys.as_deref()) {
            got.insert(label.clone(), hex(&Sha256::digest(&out)));
            bodies.insert(label, out);
        }
    }
    let path = digests_file();
    if std::env::var_os("PAGETRACE_UPDATE_GOLDEN").is_some() {
        let text: String = got.iter().map(|(k, v)| format!("{v}  {k}\n")).collect();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).expect("tests/golden/digests.txt");
    let want: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(d, k)| (k.to_string(), d.to_string()))
        .collect();
    let diff_dir = common::root().join("target/golden-diff");
    let mut bad = Vec::new();
    for (label, digest) in &got {
        match want.get(label) {
            Some(w) if w == digest => {}
            // A capture of ../shared that this checkout's digests do not know yet.
            None if label.starts_with("../shared") => {}
            other => {
                let file = diff_dir.join(label.replace(['/', ' '], "_"));
                std::fs::create_dir_all(&diff_dir).unwrap();
                std::fs::write(&file, &bodies[label]).unwrap();
                bad.push(format!(
                    "{label}: {} (now written to {})",
                    other.map_or("not in digests.txt", |_| "differs"),
                    file.display()
                ));
            }
        }
    }
    // A fixture dropped from the run is a failure too (its line would silently go).
    let fixtures_missing: Vec<_> = want
        .keys()
        .filter(|k| k.starts_with("fixtures/") && !got.contains_key(*k))
        .collect();
    assert!(
        fixtures_missing.is_empty(),
        "fixtures not analyzed: {fixtures_missing:?}"
    );
    assert!(
        bad.is_empty(),
        "{} outputs changed (PAGETRACE_UPDATE_GOLDEN=1 rewrites tests/golden/digests.txt \
         once the change is a named fix):\n{}",
        bad.len(),
        bad.join("\n")
    );
}
