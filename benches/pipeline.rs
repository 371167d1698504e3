//! Stage throughput on a committed fixture (criterion, `Throughput::Bytes`):
//! capture reading alone, and the whole pipeline (link → TCP → dissectors → report).
//!
//! `cargo bench --bench pipeline`. The end-to-end figures against tcpdump on a 1 GiB
//! recording come from `benches/big.sh`.

use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::pipeline::{Analyzer, AnalyzerConfig};

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

fn analyze(bytes: &[u8]) -> usize {
    let mut r = CaptureReader::new(Cursor::new(bytes.to_vec())).expect("fixture is a capture");
    let mut a = Analyzer::new(AnalyzerConfig::default(), "bench", r.format);
    let mut w = Vec::new();
    r.for_each(&mut w, |ev| match ev {
        CaptureEvent::Packet(p) => a.handle_packet(&p),
        CaptureEvent::Secrets { kind, data } => a.handle_secrets(kind, data),
    });
    a.finish().connections.len()
}

fn bench(c: &mut Criterion) {
    let bytes = std::fs::read(FIXTURE).expect("fixtures/pageload/pageload.pcap");
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read_capture", |b| b.iter(|| read_only(&bytes)));
    g.bench_function("analyze", |b| b.iter(|| analyze(&bytes)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
