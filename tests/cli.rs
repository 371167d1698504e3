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

// ---------------------------------------------------------------------------------------
// Diagnostics on standard error, colour, compressed captures, the method column.

/// The binary with no inherited colour, width or key log variables.
fn clean() -> Command {
    let mut c = bin();
    for v in [
        "SSLKEYLOGFILE",
        "COLUMNS",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(v);
    }
    c
}

/// Exit status, standard output and standard error of `pagetrace ARGS`.
fn run(mut c: Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn pcap_bytes() -> Vec<u8> {
    std::fs::read(fixture("pageload/pageload.pcap")).unwrap()
}

/// The offset of record `n` (0-based) of a little-endian pcap.
fn record_offset(bytes: &[u8], n: usize) -> usize {
    let mut off = 24;
    for _ in 0..n {
        let cap = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + cap;
    }
    off
}

#[test]
fn a_cut_capture_is_said_on_stderr_whatever_the_output() {
    let bytes = pcap_bytes();
    let p = tmp("diag-cut.pcap", &bytes[..bytes.len() - 100]);
    let out = tmp("diag-cut.json", b"");
    let mut c = clean();
    c.arg("analyze")
        .arg(&p)
        .args(["--format", "json", "-o"])
        .arg(&out);
    let (code, stdout, err) = run(c);
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    assert!(
        err.contains(
            "diag-cut.pcap: the capture was cut short in the middle of a record after 1465 packets"
        ),
        "{err}"
    );
    // One line per kind.
    assert_eq!(
        err.lines().filter(|l| l.contains("cut short")).count(),
        1,
        "{err}"
    );
    let mut c = clean();
    c.arg("analyze").arg(&p).args(["-q", "-o"]).arg(&out);
    let (code, _, err) = run(c);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn a_corrupt_record_and_an_unknown_link_type_are_said() {
    let mut bytes = pcap_bytes();
    let off = record_offset(&bytes, 9);
    bytes[off + 8..off + 12].copy_from_slice(&(1u32 << 31).to_le_bytes());
    let mut c = clean();
    c.arg("analyze").arg(tmp("diag-corrupt.pcap", &bytes));
    let (code, _, err) = run(c);
    assert_eq!(code, 0);
    assert!(err.contains("record 10 claims 2147483648 bytes"), "{err}");

    let mut bytes = pcap_bytes();
    bytes[20..24].copy_from_slice(&147u32.to_le_bytes());
    let mut c = clean();
    c.arg("analyze").arg(tmp("diag-link.pcap", &bytes));
    let (code, _, err) = run(c);
    assert_eq!(code, 0);
    assert!(
        err.contains("0 packets decoded: link type LINKTYPE_147 is not supported"),
        "{err}"
    );
}

#[test]
fn keys_that_do_not_match_and_garbage_key_logs_are_said() {
    let mut c = clean();
    c.arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .arg("--keylog")
        .arg(fixture("pageload-http1/pageload.keys"));
    let (code, out, err) = run(c);
    assert_eq!(code, 0);
    assert!(
        err.contains(
            "3 TLS connections not decrypted: no key for their client random (the key log has"
        ),
        "{err}"
    );
    assert!(err.contains("none matched)"), "{err}");
    // The head no longer sends to --keylog when it was given.
    assert!(out.contains("(none decrypted)"), "{out}");
    assert!(!out.contains("--keylog shows"), "{out}");

    let garbage = tmp("garbage.keys", b"hello\nnot a key log\n");
    let mut c = clean();
    c.arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .arg("--keylog")
        .arg(&garbage);
    let (code, _, err) = run(c);
    assert_eq!(code, 0);
    assert!(
        err.contains("garbage.keys: the key log has no usable line"),
        "{err}"
    );
}

#[test]
fn a_stale_sslkeylogfile_is_a_warning_and_the_run_goes_on() {
    // The pcapng carries its own secrets: they still decrypt.
    let mut c = clean();
    c.env("SSLKEYLOGFILE", "/nonexistent/keys")
        .arg("analyze")
        .arg(fixture("pageload/pageload.pcapng"))
        .args(["--format", "json"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("SSLKEYLOGFILE=/nonexistent/keys: cannot read it (No such file or directory); going on without it"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let decrypted = v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["tls"]["decrypted"] == true)
        .count();
    assert_eq!(decrypted, 3);
    // An empty variable is no key log, and no warning.
    let mut c = clean();
    c.env("SSLKEYLOGFILE", "")
        .arg("analyze")
        .arg(fixture("pageload/pageload.pcapng"))
        .arg("-q");
    let (code, _, err) = run(c);
    assert_eq!((code, err.as_str()), (0, ""));
    // --keylog given and unreadable stays an error naming the flag.
    let mut c = clean();
    c.arg("analyze")
        .arg(fixture("pageload/pageload.pcapng"))
        .args(["--keylog", "/nonexistent/keys"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--keylog /nonexistent/keys: cannot read"),
        "{err}"
    );
}

#[test]
fn diff_says_each_sides_damage() {
    let bytes = pcap_bytes();
    let cut = tmp("diff-cut.pcap", &bytes[..bytes.len() - 100]);
    let mut c = clean();
    c.arg("diff")
        .arg(fixture("pageload/pageload.pcap"))
        .arg(&cut);
    let (code, _, err) = run(c);
    assert_eq!(code, 0);
    assert!(
        err.contains("B: ") && err.contains("diff-cut.pcap: the capture was cut short"),
        "{err}"
    );
    assert!(err.contains("A: 3 TLS connections not decrypted"), "{err}");
}

#[test]
fn colour_follows_the_flag_and_the_environment() {
    let has_ansi = |c: Command| run(c).1.contains("\x1b[");
    let analyze = |extra: &[&str]| {
        let mut c = clean();
        c.arg("analyze")
            .arg(fixture("pageload/pageload.pcap"))
            .args(extra);
        c
    };
    assert!(!has_ansi(analyze(&[])), "a pipe is not coloured");
    assert!(has_ansi(analyze(&["--color", "always"])));
    assert!(!has_ansi(analyze(&["--color", "always", "--no-color"])));
    let mut c = analyze(&[]);
    c.env("CLICOLOR_FORCE", "1");
    assert!(has_ansi(c), "CLICOLOR_FORCE colours a pipe");
    let mut c = analyze(&[]);
    c.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    assert!(!has_ansi(c), "NO_COLOR wins in auto");
    let mut c = analyze(&["--color", "always"]);
    c.env("NO_COLOR", "1");
    assert!(has_ansi(c), "--color always wins over NO_COLOR");
    let mut c = analyze(&["--color", "never"]);
    c.env("CLICOLOR_FORCE", "1");
    assert!(!has_ansi(c));
}

#[test]
fn gzip_and_zstd_captures_give_the_plain_files_report() {
    use std::io::Write;
    let json = |p: &std::path::Path| {
        let mut c = clean();
        c.arg("analyze").arg(p).args(["--format", "json"]);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["capture"]["path"] = serde_json::Value::Null;
        v
    };
    for plain in ["pageload/pageload.pcap", "pageload/pageload.pcapng"] {
        let bytes = std::fs::read(fixture(plain)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let gz = tmp("c.gz", &gz.finish().unwrap());
        let zst = tmp("c.zst", &zstd::encode_all(&bytes[..], 3).unwrap());
        let want = json(&fixture(plain));
        assert_eq!(json(&gz), want, "{plain}.gz");
        assert_eq!(json(&zst), want, "{plain}.zst");
    }
    // A compressed file of something else is refused in words.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"not a capture").unwrap();
    let mut c = clean();
    c.arg("analyze").arg(tmp("n.gz", &gz.finish().unwrap()));
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(
        err.contains("gzip-compressed, but what it holds is not a pcap"),
        "{err}"
    );
}

#[test]
fn the_waterfall_and_the_html_page_show_the_method() {
    for (format, want) in [
        ("waterfall", "HEAD static.example.test/img/gallery-3.jpg"),
        ("html", "<span class=\"c-m\">HEAD</span>"),
    ] {
        let mut c = clean();
        c.arg("analyze")
            .arg(fixture("pageload/pageload.pcap"))
            .arg("--keylog")
            .arg(fixture("pageload/pageload.keys"))
            .args(["--format", format]);
        let (code, out, _) = run(c);
        assert_eq!(code, 0);
        assert!(out.contains(want), "{format}: {want:?} missing");
    }
}

#[test]
fn errors_name_the_file_and_speak_words() {
    let mut c = clean();
    c.arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .args(["-q", "-o", "/dev/full"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        "pagetrace: cannot write /dev/full: No space left on device"
    );
    let mut bad = vec![
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x11, 0x22, 0x33, 0x44,
    ];
    bad.extend_from_slice(&[b'x'; 24]);
    let mut c = clean();
    c.arg("analyze").arg(tmp("bad.pcapng", &bad));
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(
        err.contains("the pcapng section header is not valid"),
        "{err}"
    );
    assert!(!err.contains("HeaderNotRecognized"), "{err}");
}

#[test]
fn one_packet_is_one_packet() {
    let bytes = pcap_bytes();
    let one = &bytes[..record_offset(&bytes, 1)];
    let mut c = clean();
    c.arg("analyze").arg(tmp("one.pcap", one));
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains(": 1 packet, "), "{out}");
    assert!(
        out.contains(", 0 connections, 0 DNS transactions\n"),
        "{out}"
    );
}

#[test]
fn body_hash_shows_in_every_format_or_is_refused_aloud() {
    for (format, want) in [
        ("table", "body SHA-256 "),
        ("har", "\"_bodySha256\""),
        ("html", "Body SHA-256"),
        ("json", "\"body_sha256\": \""),
    ] {
        let mut c = clean();
        c.arg("analyze")
            .arg(fixture("pageload/pageload.pcap"))
            .args(["-q", "--body-hash", "--format", format]);
        let (code, out, _) = run(c);
        assert_eq!(code, 0);
        assert!(out.contains(want), "{format}: {want:?} missing");
    }
    let mut c = clean();
    c.arg("analyze")
        .arg(fixture("pageload/pageload.pcap"))
        .args(["--body-hash", "--format", "waterfall"]);
    let (_, _, err) = run(c);
    assert!(
        err.contains("--body-hash: the waterfall has no room for hashes"),
        "{err}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_definitions() {
    let mut c = clean();
    c.args(["completions", "bash"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains("--keylog") && out.contains("--color"), "{out}");
    let mut c = clean();
    c.args(["man", "analyze"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.starts_with(".ie") || out.contains(".TH"), "{out}");
    assert!(
        out.contains("pagetrace\\-analyze") && out.contains("quiet"),
        "{out}"
    );
}

/// Several captures in one run (`--threads 2`, so two at a time): each analyzed on its own
/// and written in the order given, exactly as alone: jsonl lines tagged with their capture,
/// a JSON array of the reports, the tables one after the other.
#[test]
fn several_captures_each_as_alone() {
    let caps = [
        fixture("pageload").join("pageload.pcap"),
        fixture("pageload-http1").join("pageload.pcap"),
        fixture("pageload-loss").join("pageload.pcap"),
    ];
    let run = |format: &str, files: &[&std::path::PathBuf]| {
        let o = bin()
            .args([
                "analyze",
                "--format",
                format,
                "--threads",
                "2",
                "--color",
                "never",
            ])
            .args(files)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let all = run("jsonl", &caps.iter().collect::<Vec<_>>());
    let mut expected = String::new();
    for c in &caps {
        let tag = serde_json::to_string(&c.display().to_string()).unwrap();
        for line in run("jsonl", &[c]).lines() {
            expected.push_str(&format!("{{\"capture\":{tag},{}\n", &line[1..]));
        }
    }
    assert!(all == expected, "jsonl of several differs from each alone");
    let array: Vec<serde_json::Value> =
        serde_json::from_str(&run("json", &caps.iter().collect::<Vec<_>>())).unwrap();
    assert_eq!(array.len(), 3);
    for (c, r) in caps.iter().zip(&array) {
        let alone: serde_json::Value = serde_json::from_str(&run("json", &[c])).unwrap();
        assert_eq!(r, &alone, "{}", c.display());
    }
    let tables = run("table", &caps.iter().collect::<Vec<_>>());
    let alone: Vec<String> = caps.iter().map(|c| run("table", &[c])).collect();
    assert_eq!(tables, alone.join("\n"));
    // Formats of one report only say so.
    let o = bin()
        .args(["analyze", "--format", "har"])
        .args(&caps)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
