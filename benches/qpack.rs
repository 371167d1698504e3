//! QPACK decoding throughput over the offline-interop corpus (`../shared/qifs`, read in
//! place): every file of every encoder, its encoder stream applied and every field section
//! decoded (blocked ones when their inserts arrive), as an HTTP/3 observer would. Throughput
//! counts the wire bytes of encoder streams and field sections (HPACK's bench counts its
//! header blocks, which carry its table insertions). Skipped when the corpus is absent.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pagetrace::dissect::http3::qpack::{Decoded, Decoder, HeaderList};

/// One encoder's output for one QIF: its settings and records `(stream id, bytes)`.
struct File {
    table: u64,
    blocked: u64,
    records: Vec<(u64, Vec<u8>)>,
}

fn records(bytes: &[u8]) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let id = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        let len = u32::from_be_bytes(rest.get(8..12)?.try_into().ok()?) as usize;
        out.push((id, rest.get(12..12 + len)?.to_vec()));
        rest = &rest[12 + len..];
    }
    Some(out)
}

fn corpus() -> Option<Vec<File>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qifs/encoded/qpack-05");
    let mut paths = Vec::new();
    for enc in std::fs::read_dir(&root).ok()? {
        let enc = enc.ok()?.path();
        if enc.is_dir() {
            for f in std::fs::read_dir(&enc).ok()? {
                paths.push(f.ok()?.path());
            }
        }
    }
    paths.sort();
    let mut files = Vec::new();
    for p in paths {
        // <qif>.out.<table size>.<max blocked streams>.<ack mode>
        let name = p.file_name()?.to_string_lossy().into_owned();
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() != 5 {
            continue;
        }
        files.push(File {
            table: parts[2].parse().ok()?,
            blocked: parts[3].parse().ok()?,
            records: records(&std::fs::read(&p).ok()?)?,
        });
    }
    (!files.is_empty()).then_some(files)
}

fn decode_all(files: &[File], out: &mut HeaderList) -> usize {
    let mut fields = 0;
    for f in files {
        let mut d = Decoder::with_settings(f.table, f.blocked);
        d.assume_capacity(f.table).expect("corpus capacity");
        for (id, data) in &f.records {
            if *id == 0 {
                d.handle_encoder_stream(data).expect("corpus instructions");
                while let Some((_, r)) = d.poll_unblocked(out) {
                    r.expect("corpus section");
                    fields += out.len();
                }
            } else if d.decode_section(*id, data, out).expect("corpus section") == Decoded::Done {
                fields += out.len();
            }
        }
    }
    fields
}

fn bench_qpack(c: &mut Criterion) {
    let Some(files) = corpus() else {
        eprintln!("qpack bench skipped: ../shared/qifs is absent");
        return;
    };
    let bytes: usize = files
        .iter()
        .flat_map(|f| f.records.iter())
        .map(|(_, d)| d.len())
        .sum();
    let mut out = HeaderList::new();
    let mut group = c.benchmark_group("qpack");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("qifs", |b| b.iter(|| decode_all(&files, &mut out)));
    group.finish();
}

criterion_group!(benches, bench_qpack);
criterion_main!(benches);
