//! The QPACK offline-interop corpus (`../shared/qifs`, read in place): what four real
//! encoders made of the QIF header lists decodes back to exactly those lists, and the error
//! inputs are rejected cleanly. Skipped, with a message, when the corpus is absent.
//!
//! A file `encoded/qpack-05/<encoder>/<qif>.out.<table size>.<max blocked>.<ack mode>` is a
//! sequence of records (stream id: 8 bytes, length: 4 bytes, data) in the order the encoder
//! emitted them: stream 0 is the encoder stream, every other stream one field section, which
//! may need encoder stream bytes that come later (a blocked section).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pagetrace::dissect::http3::qpack::{Decoded, Decoder, HeaderList, QpackError, QpackStats};

type Fields = Vec<(String, String)>;

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qifs");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// The records of an offline-interop file.
fn records(bytes: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        assert!(rest.len() >= 12, "record head cut");
        let id = u64::from_be_bytes(rest[..8].try_into().unwrap());
        let len = u32::from_be_bytes(rest[8..12].try_into().unwrap()) as usize;
        let data = rest.get(12..12 + len).expect("record data cut");
        out.push((id, data));
        rest = &rest[12 + len..];
    }
    out
}

/// A QIF file: header lists separated by blank lines, `name<TAB>value` lines, `#` comments.
fn qif(text: &str) -> Vec<Fields> {
    let mut lists = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !cur.is_empty() {
                lists.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let (n, v) = line.split_once('\t').unwrap_or((line, ""));
        cur.push((n.to_string(), v.to_string()));
    }
    if !cur.is_empty() {
        lists.push(cur);
    }
    lists
}

fn fields(out: &HeaderList) -> Fields {
    out.iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// Decodes a file with the given settings: every section's list by stream id. Encoder
/// stream records are fed in two pieces, cut at a different place each time, so split
/// instructions are exercised too.
fn run(
    bytes: &[u8],
    table: u64,
    blocked: u64,
) -> Result<(BTreeMap<u64, Fields>, QpackStats), QpackError> {
    let mut d = Decoder::with_settings(table, blocked);
    // These pre-RFC encoders start with the table at its maximum capacity (f5 sets it, the
    // others assume it).
    d.assume_capacity(table)?;
    let mut out = HeaderList::new();
    let mut lists = BTreeMap::new();
    for (n, (id, data)) in records(bytes).into_iter().enumerate() {
        if id == 0 {
            let cut = data.len() * (n % 7) / 7;
            d.handle_encoder_stream(&data[..cut])?;
            d.handle_encoder_stream(&data[cut..])?;
            while let Some((id, r)) = d.poll_unblocked(&mut out) {
                r?;
                assert!(
                    lists.insert(id, fields(&out)).is_none(),
                    "stream {id} twice"
                );
            }
        } else if d.decode_section(id, data, &mut out)? == Decoded::Done {
            assert!(
                lists.insert(id, fields(&out)).is_none(),
                "stream {id} twice"
            );
        }
    }
    assert_eq!(d.blocked_streams(), 0, "sections still blocked at the end");
    let s = d.stats();
    assert_eq!((s.sections_failed, s.unknown_fields), (0, 0));
    Ok((lists, *s))
}

#[test]
fn every_encoder_output_decodes_exactly() {
    let Some(dir) = corpus() else { return };
    let mut qifs = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("qifs")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        qifs.insert(name, qif(&std::fs::read_to_string(&p).unwrap()));
    }
    let (mut files, mut blocks, mut fields, mut bytes) = (0, 0, 0, 0);
    let mut encoders = Vec::new();
    let root = dir.join("encoded/qpack-05");
    for e in std::fs::read_dir(&root).unwrap() {
        let enc = e.unwrap().path();
        if enc.is_dir() && enc.file_name().unwrap() != "examples" {
            encoders.push(enc);
        }
    }
    encoders.sort();
    for enc in &encoders {
        let mut paths: Vec<_> = std::fs::read_dir(enc)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        let (mut f, mut b, mut waited) = (0, 0, 0);
        for path in &paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // <qif>.out.<table size>.<max blocked>.<ack mode>
            let parts: Vec<&str> = name.split('.').collect();
            assert_eq!((parts.len(), parts[1]), (5, "out"), "{name}");
            let table: u64 = parts[2].parse().unwrap();
            let blocked: u64 = parts[3].parse().unwrap();
            let want = &qifs[parts[0]];
            let data = std::fs::read(path).unwrap();
            let (got, stats) = run(&data, table, blocked).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got: Vec<Fields> = got.into_values().collect();
            if blocked == 0 {
                assert_eq!(stats.sections_blocked, 0, "{name}");
            }
            waited += stats.sections_blocked;
            assert_eq!(got.len(), want.len(), "{}: section count", path.display());
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert_eq!(g, w, "{}: section {}", path.display(), i + 1);
            }
            f += 1;
            b += got.len();
            fields += got.iter().map(Vec::len).sum::<usize>();
            bytes += data.len();
        }
        eprintln!(
            "{}: {f} files, {b} sections ({waited} blocked on arrival)",
            enc.file_name().unwrap().to_string_lossy()
        );
        files += f;
        blocks += b;
    }
    eprintln!("qifs: {files} files, {blocks} sections, {fields} fields, {bytes} bytes, all exact");
    assert!(files >= 4 * 72, "{files} files");
}

#[test]
fn rfc_examples_decode() {
    let Some(dir) = corpus() else { return };
    // RFC 9204 Appendix B, its streams renumbered 4, 8 and 12.
    let data = std::fs::read(dir.join("encoded/qpack-05/examples/examples.out.220.100.1")).unwrap();
    let got = run(&data, 220, 100).unwrap().0;
    let s = |l: &[(&str, &str)]| -> Fields {
        l.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(got[&4], s(&[(":path", "/index.html")]));
    assert_eq!(
        got[&8],
        s(&[(":authority", "www.example.com"), (":path", "/sample/path")])
    );
    assert_eq!(
        got[&12],
        s(&[
            (":authority", "www.example.com"),
            (":path", "/"),
            ("custom-key", "custom-value"),
        ])
    );
    // The draft's examples, against their QIF; no settings in the name: defaults that fit.
    let data = std::fs::read(dir.join("encoded/qpack-05/draft-examples.out")).unwrap();
    let want = qif(&std::fs::read_to_string(dir.join("qifs/draft-examples.qif")).unwrap());
    let got: Vec<Fields> = run(&data, 4096, 100).unwrap().0.into_values().collect();
    assert_eq!(got, want);
}

/// Feeds an error file to a decoder with generous settings: the first error, or the lists.
fn run_error_file(bytes: &[u8]) -> Result<Vec<Fields>, QpackError> {
    let mut d = Decoder::with_settings(4096, 100);
    let mut out = HeaderList::new();
    let mut lists = Vec::new();
    for (id, data) in records(bytes) {
        if id == 0 {
            d.handle_encoder_stream(data)?;
        } else if d.decode_section(id, data, &mut out)? == Decoded::Done {
            lists.push(fields(&out));
        }
    }
    Ok(lists)
}

#[test]
fn error_inputs_are_rejected() {
    let Some(dir) = corpus() else { return };
    use QpackError::*;
    let s = |n: &str, v: &str| Ok(vec![vec![(n.to_string(), v.to_string())]]);
    // err1 to err8 are field sections on stream 1, err11 and err12 encoder instructions.
    // err9 and err10 index the static table at 0 and 62: invalid in the drafts whose static
    // table was HPACK's (1 to 61), valid since RFC 9204's 99-entry table, so they decode.
    let want: [(&str, Result<Vec<Fields>, QpackError>); 12] = [
        ("err1", Err(Truncated)),
        ("err2", Err(Truncated)),
        ("err3", Err(Truncated)),
        (
            "err4",
            Err(InvalidBase {
                required: 0,
                delta: 1,
            }),
        ),
        ("err5", Err(InvalidRelativeIndex { base: 0, index: 1 })),
        ("err6", Err(Truncated)),
        ("err7", Err(Truncated)),
        ("err8", Err(Truncated)),
        ("err9", s(":authority", "")),
        ("err10", s("x-xss-protection", "1; mode=block")),
        ("err11", Err(InvalidRelativeIndex { base: 0, index: 1 })),
        ("err12", Err(InvalidStaticIndex(63 + (1 << 36) - 128))),
    ];
    let mut rejected = 0;
    for (name, want) in want {
        let data = std::fs::read(dir.join("encoded/errors").join(name)).unwrap();
        let got = run_error_file(&data);
        assert_eq!(got, want, "{name}");
        // Every prefix too: an error or a shorter list, never a panic.
        for cut in 0..data.len().saturating_sub(12) {
            let mut short = data.clone();
            short.truncate(12 + cut);
            short[8..12].copy_from_slice(&(cut as u32).to_be_bytes());
            let _ = run_error_file(&short);
        }
        rejected += got.is_err() as usize;
    }
    eprintln!("qifs errors: {rejected} of 12 rejected; err9 and err10 are valid in RFC 9204");
    let count = std::fs::read_dir(dir.join("encoded/errors"))
        .unwrap()
        .count();
    assert_eq!(count, 12, "new error inputs to classify");
}
