//! Stage throughput on a committed fixture (criterion, `Throughput::Bytes`):
//! capture reading alone, the whole pipeline (link → TCP → dissectors → report), and the
//! whole pipeline with the fixture's key log (TLS decryption, HTTP/1.1 and HTTP/2 inside).
//!
//! Then the report's JSON text: the whole report pretty-printed and every connection as a
//! compact line, by serde_json and by `report::fastjson` (which must write the same bytes).
//!
//! And the keys of a QUIC client Initial, what a flood of them costs per connection.
//!
//! `cargo bench --bench pipeline`. The end-to-end figures against tcpdump on a 1 GiB
//! recording come from `benches/big.sh`.

use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::dissect::quic::crypto::InitialKeyPair;
use pagetrace::pipeline::{self, AnalyzerConfig};
use pagetrace::report::fastjson;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/pageload/pageload.pcap"
);

fn read_only(bytes: &[u8]) -> u64 {
    let mut r = CaptureReader::new(Cursor::new(bytes.to_vec())).expect("fixture is a capture");
    let mut n = 0u64;
    let mut w = Vec::new();
    r.for_each(&mut w, |ev| {
        if let CaptureEvent::Packet(p) = ev {
            n += p.data.len() as u64;
        }
    });
    n
}

const KEYS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/pageload/pageload.keys"
);

fn analyze(bytes: &[u8], keys: Option<&str>) -> usize {
    let r = CaptureReader::new(Cursor::new(bytes.to_vec())).expect("fixture is a capture");
    pipeline::analyze(r, "bench", AnalyzerConfig::default(), keys)
        .connections
        .len()
}

fn bench(c: &mut Criterion) {
    let bytes = std::fs::read(FIXTURE).expect("fixtures/pageload/pageload.pcap");
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read_capture", |b| b.iter(|| read_only(&bytes)));
    g.bench_function("analyze", |b| b.iter(|| analyze(&bytes, None)));
    let keys = std::fs::read_to_string(KEYS).expect("fixtures/pageload/pageload.keys");
    g.bench_function("analyze_with_keys", |b| {
        b.iter(|| analyze(&bytes, Some(&keys)))
    });
    g.finish();
}

fn json(c: &mut Criterion) {
    let bytes = std::fs::read(FIXTURE).expect("fixtures/pageload/pageload.pcap");
    let keys = std::fs::read_to_string(KEYS).expect("fixtures/pageload/pageload.keys");
    let r = CaptureReader::new(Cursor::new(bytes)).expect("fixture is a capture");
    let report = pipeline::analyze(r, "bench", AnalyzerConfig::default(), Some(&keys));
    let text = serde_json::to_vec_pretty(&report).expect("JSON");
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("report_serde_json", |b| {
        b.iter(|| serde_json::to_vec_pretty(&report).map(|v| v.len()))
    });
    g.bench_function("report_fastjson", |b| {
        b.iter(|| {
            let mut v = Vec::new();
            fastjson::extend(&mut v, &report, true).map(|_| v.len())
        })
    });
    let mut buf = Vec::new();
    g.bench_function("lines_serde_json", |b| {
        b.iter(|| {
            buf.clear();
            for c in &report.connections {
                serde_json::to_writer(&mut buf, c).expect("JSON");
            }
            buf.len()
        })
    });
    g.bench_function("lines_fastjson", |b| {
        b.iter(|| {
            buf.clear();
            for c in &report.connections {
                fastjson::extend(&mut buf, c, false).expect("JSON");
            }
            buf.len()
        })
    });
    g.finish();
}

/// A QUIC client Initial's keys (RFC 9001 5.2: HKDF-Extract over its destination
/// connection ID, the client's secret, key, IV and header protection key, the AEAD set
/// up): the per-connection cost a flood of Initials pays.
fn quic_initial_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("quic");
    let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    g.bench_function("initial_keys", |b| {
        b.iter(|| InitialKeyPair::new(1, std::hint::black_box(&dcid)).is_some())
    });
    g.finish();
}

criterion_group!(benches, bench, json, quic_initial_keys);
criterion_main!(benches);
