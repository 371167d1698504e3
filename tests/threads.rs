//! `analyze --threads`: a capture read on a thread of its own, its connections' dissectors
//! on worker threads, gives the same report, byte for byte, as one thread: every fixture
//! and corpus capture (with its key log and without), whole and streamed, with one worker
//! (every connection moved to it at its first byte) and with three (after 64 KiB, as
//! `analyze` does), plain and gzip-compressed.

mod common;

use std::io::{Cursor, Write};
use std::process::Command;

use pagetrace::capture::CaptureReader;
use pagetrace::pipeline::{self, Analyzer, AnalyzerConfig, Output};

/// The report as JSON; `workers` > 0: read ahead, with that many dissector workers, to
/// which a connection moves at its first byte with one worker, after 64 KiB with more.
fn report_json(bytes: &[u8], keys: Option<&str>, workers: usize) -> String {
    let reader = CaptureReader::with_read_ahead(Cursor::new(bytes.to_vec()), workers > 0)
        .expect("a capture");
    let cfg = AnalyzerConfig {
        app_threads: workers,
        app_move_after: (workers == 1).then_some(0),
        ..AnalyzerConfig::default()
    };
    let r = pipeline::analyze(reader, "c", cfg, keys);
    serde_json::to_string(&r).unwrap()
}

/// The streamed results, in the order they came, as debug text.
fn streamed(bytes: &[u8], keys: Option<&str>, workers: usize) -> String {
    let mut reader = CaptureReader::with_read_ahead(Cursor::new(bytes.to_vec()), workers > 0)
        .expect("a capture");
    let cfg = AnalyzerConfig {
        streaming: true,
        app_threads: workers,
        app_move_after: (workers == 1).then_some(0),
        ..AnalyzerConfig::default()
    };
    let mut a = Analyzer::new(cfg, "c", reader.format);
    if let Some(k) = keys {
        a.add_keylog_text(k);
    }
    let mut out = Vec::<Output>::new();
    pipeline::drive_while(&mut reader, &mut a, |an, _| {
        while let Some(o) = an.poll() {
            out.push(o);
        }
        true
    });
    let (rest, info) = a.finish_stream();
    out.extend(rest);
    format!("{out:?}\n{}", serde_json::to_string(&info).unwrap())
}

#[test]
fn threads_change_nothing_on_any_capture() {
    let files = common::capture_files();
    assert!(files.len() >= 5, "{} captures", files.len());
    let mut bad = Vec::new();
    for (f, keys) in files {
        let bytes = std::fs::read(&f).unwrap();
        let keys = keys.map(|k| std::fs::read_to_string(k).unwrap());
        for k in [keys.as_deref(), None] {
            let (one, streamed_one) = (report_json(&bytes, k, 0), streamed(&bytes, k, 0));
            for workers in [1, 3] {
                if report_json(&bytes, k, workers) != one {
                    bad.push(format!(
                        "{} (keys: {}, {workers} workers): report",
                        f.display(),
                        k.is_some()
                    ));
                }
                if streamed(&bytes, k, workers) != streamed_one {
                    bad.push(format!(
                        "{} (keys: {}, {workers} workers): streamed",
                        f.display(),
                        k.is_some()
                    ));
                }
            }
            if keys.is_none() {
                break;
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn threads_on_a_compressed_capture_and_one_cut_short() {
    let f = common::fixture("pageload/pageload.pcap");
    let bytes = std::fs::read(&f).unwrap();
    let keys = std::fs::read_to_string(common::fixture("pageload/pageload.keys")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let plain = report_json(&bytes, Some(&keys), 0);
    // The capture's path and compression differ; the rest does not.
    let strip = |s: String| s.replace("\"compression\":\"gzip\"", "\"compression\":null");
    assert_eq!(strip(report_json(&gz, Some(&keys), 2)), plain);
    // Cut short: the same warning, at the same frame, either way.
    for cut in [bytes.len() / 3, bytes.len() - 7] {
        assert_eq!(
            report_json(&bytes[..cut], Some(&keys), 2),
            report_json(&bytes[..cut], Some(&keys), 0),
            "cut at {cut}"
        );
    }
    let gz_cut = &gz[..gz.len() * 2 / 3];
    let cut = report_json(gz_cut, Some(&keys), 2);
    assert!(cut.contains("cut short"), "no truncation warning");
    assert_eq!(cut, report_json(gz_cut, Some(&keys), 0));
}

/// The command line: `--threads 1` and `--threads 2` print the same JSON and the same
/// records.
#[test]
fn cli_threads_one_and_two_agree() {
    let f = common::fixture("pageload/pageload.pcap");
    let keys = common::fixture("pageload/pageload.keys");
    for format in ["json", "jsonl", "table"] {
        let run = |threads: &str| {
            let o = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
                .args(["analyze", "-q", "--color", "never", "--format", format])
                .arg(&f)
                .arg("--keylog")
                .arg(&keys)
                .args(["--threads", threads])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        let one = run("1");
        assert!(one.len() > 1000, "{format}");
        assert!(one == run("2"), "{format}");
    }
}

/// With two threads, streamed records are written on a thread of their own while the
/// analysis reads on: the same lines in the same order as one thread, across many batches
/// of them (connections and their lookups, with a filter and without, JSON lines and CSV);
/// and a write that fails ends the run with its error, as on one thread.
#[test]
fn cli_records_written_on_their_own_thread_are_the_same() {
    let path = |kind: &str| {
        std::env::temp_dir().join(format!(
            "pagetrace-writer-{kind}-{}.pcap",
            std::process::id()
        ))
    };
    for kind in ["lookups-and-syns", "slowloris"] {
        let mut w =
            common::gen::PcapWriter::new(Vec::new(), common::gen::LINKTYPE_ETHERNET).unwrap();
        assert!(common::gen::hostile(kind, 3_000, &mut w).unwrap());
        std::fs::write(path(kind), w.into_inner()).unwrap();
    }
    let run = |threads: &str, extra: &[&str]| {
        // Requests (CSV's rows) from the slowloris, lookups and connections from the other.
        let kind = if extra.contains(&"csv") {
            "slowloris"
        } else {
            "lookups-and-syns"
        };
        Command::new(env!("CARGO_BIN_EXE_pagetrace"))
            .args(["analyze", "-q"])
            .arg(path(kind))
            .args(["--threads", threads])
            .args(extra)
            .output()
            .unwrap()
    };
    for extra in [
        &["--format", "jsonl"][..],
        &[
            "--format",
            "jsonl",
            "-Y",
            "port in {80..1000} or ip ~ \"5$\"",
        ],
        &["--format", "csv"],
    ] {
        let one = run("1", extra);
        assert!(
            one.status.success(),
            "{}",
            String::from_utf8_lossy(&one.stderr)
        );
        let lines = one.stdout.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > 300, "{extra:?}: {lines} lines");
        let two = run("2", extra);
        assert!(
            two.status.success(),
            "{}",
            String::from_utf8_lossy(&two.stderr)
        );
        assert!(one.stdout == two.stdout, "{extra:?}");
        assert_eq!(one.stderr, two.stderr, "{extra:?}");
    }
    if std::path::Path::new("/dev/full").exists() {
        for threads in ["1", "2"] {
            let o = run(threads, &["--format", "jsonl", "-o", "/dev/full"]);
            assert_eq!(o.status.code(), Some(2), "{threads} threads");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains("No space left on device"),
                "{threads} threads: {err}"
            );
        }
    }
    for kind in ["lookups-and-syns", "slowloris"] {
        std::fs::remove_file(path(kind)).unwrap();
    }
}

/// The analysis stops early (its output went away) while the reading thread is many
/// batches ahead and blocked handing over the next: the read ends there, without a hang,
/// having handed over the packets before.
#[test]
fn an_analysis_that_stops_early_stops_the_reading_thread() {
    let mut w = common::gen::PcapWriter::new(Vec::new(), common::gen::LINKTYPE_ETHERNET).unwrap();
    assert!(common::gen::hostile("syn-ports", 100_000, &mut w).unwrap());
    let bytes = w.into_inner();
    let mut reader = CaptureReader::with_read_ahead(Cursor::new(bytes), true).expect("a capture");
    let cfg = AnalyzerConfig {
        streaming: true,
        app_threads: 1,
        ..AnalyzerConfig::default()
    };
    let mut a = Analyzer::new(cfg, "c", reader.format);
    let mut seen = Vec::new();
    pipeline::drive_while(&mut reader, &mut a, |_, p| {
        seen.push(p.frame);
        seen.len() < 100
    });
    assert_eq!(seen, (1..=100).collect::<Vec<u64>>());
    let (_, info) = a.finish_stream();
    assert_eq!(info.packets, 100);
}

/// Everything a reader hands out, as text: each packet's frame, time, link type, lengths
/// and a hash of its bytes, each secrets block, and the warnings.
fn read_all(mut reader: CaptureReader) -> String {
    use std::hash::{Hash, Hasher};
    let mut out = String::new();
    let mut warnings = Vec::new();
    reader.for_each_while(&mut warnings, |ev| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match ev {
            pagetrace::capture::CaptureEvent::Packet(p) => {
                p.data.hash(&mut h);
                out.push_str(&format!(
                    "{} {:?} {:?} {} {} {:x}\n",
                    p.frame,
                    p.ts,
                    p.link,
                    p.data.len(),
                    p.orig_len,
                    h.finish()
                ));
            }
            pagetrace::capture::CaptureEvent::Secrets { kind, data } => {
                data.hash(&mut h);
                out.push_str(&format!("secrets {kind:?} {:x}\n", h.finish()));
            }
        }
        true
    });
    for w in warnings {
        out.push_str(&format!("{w:?}\n"));
    }
    out
}

/// The reading thread hands out what one thread reads, block for block, warning for
/// warning, whatever its chunk size: every fixture and corpus capture (pcap of either byte
/// order and precision, pcapng with several interfaces and secrets blocks), each cut short
/// and damaged in places, in chunks from 64 bytes (every block across chunks, many longer
/// than one) to the real size.
#[test]
fn reading_ahead_reads_what_one_thread_reads() {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for (f, _) in common::capture_files() {
        let bytes = std::fs::read(&f).unwrap();
        let name = f.display().to_string();
        let n = bytes.len();
        inputs.push((
            format!("{name} cut at {}", n * 2 / 3),
            bytes[..n * 2 / 3].to_vec(),
        ));
        let mut damaged = bytes.clone();
        for _ in 0..6 {
            let at = 24 + (next() as usize) % (n - 24);
            damaged[at] = next() as u8;
        }
        inputs.push((format!("{name} damaged"), damaged));
        inputs.push((name, bytes));
    }
    let mut bad = Vec::new();
    let mut threaded = 0;
    for (name, bytes) in &inputs {
        let Ok(one) = CaptureReader::new(Cursor::new(bytes.clone())) else {
            continue;
        };
        let one = read_all(one);
        // Small chunks on small files, so that each size stays quick.
        let sizes: &[usize] = if bytes.len() > 4 << 20 {
            &[4096, 1 << 20]
        } else {
            &[64, 1000, 65536]
        };
        for &chunk in sizes.iter().chain(&[pagetrace::capture::readahead::CHUNK]) {
            let ahead = CaptureReader::with_read_ahead_chunks(Cursor::new(bytes.clone()), chunk)
                .expect("a capture either way");
            if read_all(ahead) != one {
                bad.push(format!("{name}, chunks of {chunk}"));
            }
            threaded += usize::from(bytes.len() > chunk);
        }
    }
    assert!(threaded > 100, "{threaded} runs read on the thread");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Damage the framing cannot pass (a record claiming more than any packet, a pcapng block
/// claiming fewer bytes than its frame or more than the parser takes): the reading thread
/// sends the bytes as they come and the same warning ends the read.
#[test]
fn reading_ahead_stops_at_damage_as_one_thread_does() {
    let bytes = std::fs::read(common::fixture("pageload/pageload.pcap")).unwrap();
    // The 30th record's length, in a little-endian pcap.
    let mut at = 24;
    for _ in 0..30 {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    let mut cases = Vec::new();
    for claim in [300_000u32, 70 << 20, u32::MAX] {
        let mut b = bytes.clone();
        b[at + 8..at + 12].copy_from_slice(&claim.to_le_bytes());
        cases.push((format!("pcap record claiming {claim}"), b));
    }
    let ng = std::fs::read(common::fixture("pageload/pageload.pcapng")).unwrap();
    // The fifth block (past the section header and interfaces).
    let le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut block = 0;
    for _ in 0..4 {
        block += le(&ng, block + 4);
    }
    for claim in [8u32, 70 << 20] {
        let mut b = ng.clone();
        b[block + 4..block + 8].copy_from_slice(&claim.to_le_bytes());
        cases.push((format!("pcapng block claiming {claim}"), b));
    }
    for (name, b) in cases {
        let one = read_all(CaptureReader::new(Cursor::new(b.clone())).unwrap());
        assert!(
            one.contains("Corrupt") || one.contains("Truncated"),
            "{name}: {one}"
        );
        for chunk in [64, 4096, 1 << 20] {
            let ahead = read_all(
                CaptureReader::with_read_ahead_chunks(Cursor::new(b.clone()), chunk).unwrap(),
            );
            assert_eq!(ahead, one, "{name}, chunks of {chunk}");
        }
    }
}
