//! HPACK decoding throughput over the hpack-test-case corpus (`../shared/hpack-test-case`,
//! read in place), or over a synthetic set of header blocks when the corpus is absent.
//! Throughput counts wire bytes of header blocks. Target: at least 100 MB/s.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pagetrace::dissect::http2::hpack::{Decoder, HeaderList, DEFAULT_TABLE_SIZE};

/// One story: header blocks decoded in order with a shared dynamic table.
struct Story {
    blocks: Vec<(Option<usize>, Vec<u8>)>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}

fn corpus() -> Option<Vec<Story>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hpack-test-case");
    let mut files = Vec::new();
    for enc in std::fs::read_dir(&dir).ok()? {
        let enc = enc.ok()?.path();
        if enc.is_dir() {
            for f in std::fs::read_dir(&enc).ok()? {
                let f = f.ok()?.path();
                let name = f.file_name()?.to_string_lossy().into_owned();
                if name.starts_with("story_") && name.ends_with(".json") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    let mut stories = Vec::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).ok()?).ok()?;
        let blocks: Vec<_> = v["cases"]
            .as_array()?
            .iter()
            .filter_map(|c| {
                let wire = unhex(c.get("wire")?.as_str()?)?;
                let size = c
                    .get("header_table_size")
                    .and_then(|s| s.as_u64())
                    .map(|s| s as usize);
                Some((size, wire))
            })
            .collect();
        if !blocks.is_empty() {
            stories.push(Story { blocks });
        }
    }
    (!stories.is_empty()).then_some(stories)
}

fn push_int(out: &mut Vec<u8>, flags: u8, prefix: u8, mut v: usize) {
    let mask = (1usize << prefix) - 1;
    if v < mask {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | mask as u8);
    v -= mask;
    while v >= 128 {
        out.push((v % 128 + 128) as u8);
        v /= 128;
    }
    out.push(v as u8);
}

fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    push_int(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

/// Browser-like request blocks: static indices, literals added to the dynamic table and
/// referenced by later blocks, and per-request literal paths.
fn synthetic() -> Vec<Story> {
    let mut stories = Vec::new();
    for s in 0..20 {
        let mut blocks = Vec::new();
        for r in 0..100 {
            let mut b = Vec::new();
            b.extend_from_slice(&[0x82, 0x87]); // :method GET, :scheme https
            if r == 0 {
                push_int(&mut b, 0x40, 6, 1); // :authority, indexed
                push_str(&mut b, format!("www{s}.example.com").as_bytes());
                push_int(&mut b, 0x40, 6, 58); // user-agent
                push_str(
                    &mut b,
                    b"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
                );
                push_int(&mut b, 0x40, 6, 19); // accept
                push_str(&mut b, b"text/html,application/xhtml+xml,*/*;q=0.8");
            } else {
                b.extend_from_slice(&[0xc0, 0xbf, 0xbe]); // the three entries above
            }
            push_int(&mut b, 0x00, 4, 4); // :path, without indexing
            push_str(
                &mut b,
                format!("/assets/{s}/file-{r}.js?v=0123456789abcdef").as_bytes(),
            );
            push_int(&mut b, 0x00, 4, 32); // cookie
            push_str(
                &mut b,
                format!("session={s:08}{r:08}; theme=dark; lang=en").as_bytes(),
            );
            blocks.push((None, b));
        }
        stories.push(Story { blocks });
    }
    stories
}

fn decode_all(stories: &[Story], out: &mut HeaderList) -> usize {
    let mut fields = 0;
    for story in stories {
        let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
        for (size, wire) in &story.blocks {
            if let Some(s) = size {
                d.set_table_size_limit(*s);
            }
            d.decode(wire, out).expect("corpus block decodes");
            fields += out.len();
        }
    }
    fields
}

fn bench_hpack(c: &mut Criterion) {
    let (name, stories) = match corpus() {
        Some(s) => ("hpack-test-case", s),
        None => ("synthetic", synthetic()),
    };
    let bytes: usize = stories
        .iter()
        .flat_map(|s| s.blocks.iter())
        .map(|(_, w)| w.len())
        .sum();
    let mut out = HeaderList::new();
    let mut group = c.benchmark_group("hpack");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(name, |b| b.iter(|| decode_all(&stories, &mut out)));
    group.finish();
}

criterion_group!(benches, bench_hpack);
criterion_main!(benches);
