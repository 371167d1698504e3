//! HPACK decoder tests: RFC 7541 Appendix C, malformed input, and the hpack-test-case corpus
//! read in place from `../shared/hpack-test-case`.

use super::table::{DynamicTable, STATIC};
use super::*;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub(crate) fn pairs(h: &HeaderList) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// A small HPACK encoder for tests: indexed fields when the table has the pair, otherwise a
/// literal with incremental indexing (name by index when known), Huffman when shorter.
pub(crate) struct TestEncoder {
    table: DynamicTable,
    pub huffman: bool,
    pub index: bool,
}

impl TestEncoder {
    pub(crate) fn new() -> TestEncoder {
        TestEncoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE),
            huffman: true,
            index: true,
        }
    }

    fn find(&self, name: &[u8], value: &[u8]) -> (Option<usize>, Option<usize>) {
        let mut name_idx = None;
        for (i, (n, v)) in STATIC.iter().enumerate() {
            if *n == name {
                if *v == value {
                    return (Some(i + 1), Some(i + 1));
                }
                name_idx.get_or_insert(i + 1);
            }
        }
        for i in 0..self.table.len() {
            let (n, v) = self.table.get(i).unwrap();
            if n == name {
                if v == value {
                    return (Some(i + 62), Some(i + 62));
                }
                name_idx.get_or_insert(i + 62);
            }
        }
        (None, name_idx)
    }

    pub(crate) fn encode(&mut self, headers: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(name, value) in headers {
            let (full, name_idx) = self.find(name, value);
            if let (true, Some(i)) = (self.index, full) {
                encode_int(&mut out, 0x80, 7, i);
                continue;
            }
            let (flag, prefix) = if self.index { (0x40, 6) } else { (0x00, 4) };
            match name_idx {
                Some(i) => encode_int(&mut out, flag, prefix, i),
                None => {
                    out.push(flag);
                    self.string(&mut out, name);
                }
            }
            self.string(&mut out, value);
            if self.index {
                self.table.insert(name, value);
            }
        }
        out
    }

    fn string(&self, out: &mut Vec<u8>, s: &[u8]) {
        if self.huffman && huffman::encoded_len(s) < s.len() {
            encode_int(out, 0x80, 7, huffman::encoded_len(s));
            huffman::encode(s, out);
        } else {
            encode_int(out, 0x00, 7, s.len());
            out.extend_from_slice(s);
        }
    }
}

pub(crate) fn encode_int(out: &mut Vec<u8>, flags: u8, prefix: u8, mut v: usize) {
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

#[test]
fn rfc7541_c1_integers() {
    let mut pos = 0;
    assert_eq!(decode_int(&[0x0a], &mut pos, 5), Ok(10));
    let mut pos = 0;
    assert_eq!(decode_int(&[0x1f, 0x9a, 0x0a], &mut pos, 5), Ok(1337));
    assert_eq!(pos, 3);
    let mut pos = 0;
    assert_eq!(decode_int(&[0x2a], &mut pos, 8), Ok(42));
    // 2^32 - 1 is the largest accepted value.
    let mut max = Vec::new();
    encode_int(&mut max, 0, 5, u32::MAX as usize);
    let mut pos = 0;
    assert_eq!(decode_int(&max, &mut pos, 5), Ok(u32::MAX));
    let mut big = Vec::new();
    encode_int(&mut big, 0, 5, u32::MAX as usize + 1);
    let mut pos = 0;
    assert_eq!(
        decode_int(&big, &mut pos, 5),
        Err(HpackError::IntegerOverflow)
    );
    // Six continuation bytes overflow even when they add zero.
    let mut pos = 0;
    assert_eq!(
        decode_int(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], &mut pos, 5),
        Err(HpackError::IntegerOverflow)
    );
    let mut pos = 0;
    assert_eq!(
        decode_int(&[0x1f, 0x80], &mut pos, 5),
        Err(HpackError::Truncated)
    );
}

fn run_story(table: usize, blocks: &[&str], want: &[&[(&str, &str)]], sizes: &[usize]) {
    let mut d = Decoder::new(table);
    let mut out = HeaderList::new();
    for ((b, w), size) in blocks.iter().zip(want).zip(sizes) {
        d.decode(&hex(b), &mut out).unwrap();
        assert_eq!(pairs(&out), p(w));
        assert_eq!(d.table_size(), *size);
    }
}

const C3_1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const C3_2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const C3_3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const C5_1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const C5_2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const C5_3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
];

const C3: [&str; 3] = [
    "828684410f7777772e6578616d706c652e636f6d",
    "828684be58086e6f2d6361636865",
    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
];
const C4: [&str; 3] = [
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
];
const C5: [&str; 3] = [
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54\
     6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f\
     3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076\
     657273696f6e3d31",
];
const C6: [&str; 3] = [
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f\
     0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df\
     dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
];

#[test]
fn rfc7541_c3_requests_without_huffman() {
    run_story(4096, &C3, &[C3_1, C3_2, C3_3], &[57, 110, 164]);
}

#[test]
fn rfc7541_c4_requests_with_huffman() {
    run_story(4096, &C4, &[C3_1, C3_2, C3_3], &[57, 110, 164]);
}

#[test]
fn rfc7541_c5_responses_with_eviction() {
    run_story(256, &C5, &[C5_1, C5_2, C5_3], &[222, 222, 215]);
}

#[test]
fn rfc7541_c6_responses_huffman_with_eviction() {
    run_story(256, &C6, &[C5_1, C5_2, C5_3], &[222, 222, 215]);
}

#[test]
fn never_indexed_flag_is_kept() {
    // §6.2.3 with a literal name "password" = "secret".
    let mut b = vec![0x10, 0x08];
    b.extend_from_slice(b"password");
    b.push(0x06);
    b.extend_from_slice(b"secret");
    let mut d = Decoder::default();
    let mut out = HeaderList::new();
    d.decode(&b, &mut out).unwrap();
    assert_eq!(pairs(&out), p(&[("password", "secret")]));
    assert!(out.never_indexed(0));
    assert_eq!(d.table_len(), 0);
    assert_eq!(out.value(b"password"), Some(&b"secret"[..]));
}

#[test]
fn malformed_byte_0x3f_alone() {
    // A size update whose integer continues past the end of the block.
    let mut d = Decoder::default();
    let mut out = HeaderList::new();
    assert_eq!(d.decode(&[0x3f], &mut out), Err(HpackError::Truncated));
    assert_eq!(
        d.decode(&[0x3f, 0xe1], &mut out),
        Err(HpackError::Truncated)
    );
    // 0x3f 0xe1 0x1f = 31 + 0x61 + (0x1f << 7) = 4096: a valid update to 4096.
    assert_eq!(d.decode(&[0x3f, 0xe1, 0x1f], &mut out), Ok(()));
    assert!(out.is_empty());
}

#[test]
fn malformed_index_zero_and_past_tables() {
    let mut d = Decoder::default();
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode(&[0x80], &mut out),
        Err(HpackError::InvalidIndex(0))
    );
    assert_eq!(
        d.decode(&[0xbe], &mut out),
        Err(HpackError::InvalidIndex(62))
    );
    // Literal with a name index past the tables.
    assert_eq!(
        d.decode(&[0x7e, 0x00], &mut out),
        Err(HpackError::InvalidIndex(62))
    );
}

#[test]
fn size_update_bounds_and_position() {
    let mut d = Decoder::new(4096);
    let mut out = HeaderList::new();
    // Update to 4097 (0x3f e2 1f) is above the limit.
    assert_eq!(
        d.decode(&[0x3f, 0xe2, 0x1f], &mut out),
        Err(HpackError::SizeUpdateTooLarge {
            requested: 4097,
            limit: 4096
        })
    );
    // Two updates at the start are fine; one after a field is not.
    assert_eq!(d.decode(&[0x20, 0x3f, 0x01, 0x82], &mut out), Ok(()));
    assert_eq!(d.table_max_size(), 32);
    assert_eq!(
        d.decode(&[0x82, 0x20], &mut out),
        Err(HpackError::SizeUpdateNotAtStart)
    );
    d.set_table_size_limit(65536);
    let mut b = Vec::new();
    encode_int(&mut b, 0x20, 5, 65536);
    assert_eq!(d.decode(&b, &mut out), Ok(()));
    assert_eq!(d.table_max_size(), 65536);
}

#[test]
fn header_list_cap_keeps_table_in_step() {
    let mut enc = TestEncoder::new();
    let big = vec![b'x'; 300];
    let block = enc.encode(&[(b"a", &big), (b"b", &big), (b"c", b"1")]);
    let mut d = Decoder::default();
    d.set_max_header_list_size(400);
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode(&block, &mut out),
        Err(HpackError::HeaderListTooLarge { limit: 400 })
    );
    assert_eq!(pairs(&out).len(), 1);
    assert_eq!(out.get(0).unwrap().0, b"a");
    // All three fields were inserted, so a block referring to them decodes.
    assert_eq!(d.table_len(), 3);
    d.set_max_header_list_size(DEFAULT_MAX_HEADER_LIST_SIZE);
    let again = enc.encode(&[(b"c", b"1"), (b"b", &big)]);
    d.decode(&again, &mut out).unwrap();
    assert_eq!(out.get(1).unwrap().1, &big[..]);
}

#[test]
fn partial_mode_decodes_new_entries_and_counts_lost_ones() {
    let mut enc = TestEncoder::new();
    let mut d = Decoder::default();
    let mut out = HeaderList::new();
    // The decoder misses the first block (capture started after it).
    let _lost = enc.encode(&[(b"x-old", b"1"), (b"x-older", b"2")]);
    d.desynchronise();
    let b2 = enc.encode(&[(b":method", b"GET"), (b"x-new", b"3"), (b"x-old", b"1")]);
    d.decode(&b2, &mut out).unwrap();
    assert_eq!(pairs(&out), p(&[(":method", "GET"), ("x-new", "3")]));
    assert_eq!(out.unknown_fields(), 1);
    let b3 = enc.encode(&[(b"x-new", b"3"), (b"x-older", b"2")]);
    d.decode(&b3, &mut out).unwrap();
    assert_eq!(pairs(&out), p(&[("x-new", "3")]));
    assert_eq!(out.unknown_fields(), 1);
    assert!(d.is_partial());
}

#[test]
fn partial_mode_accepts_size_updates_above_the_limit() {
    let mut d = Decoder::new(4096);
    let mut out = HeaderList::new();
    let mut b = Vec::new();
    encode_int(&mut b, 0x20, 5, 12288);
    assert!(d.decode(&b, &mut out).is_err());
    d.desynchronise();
    assert_eq!(d.decode(&b, &mut out), Ok(()));
    assert_eq!(d.table_max_size(), 12288);
    let mut b = Vec::new();
    encode_int(&mut b, 0x20, 5, MAX_TABLE_SIZE_LIMIT + 1);
    assert!(d.decode(&b, &mut out).is_err());
}

#[test]
fn partial_mode_unknown_name_with_indexing_forgets_table() {
    let mut d = Decoder::default();
    d.desynchronise();
    let mut out = HeaderList::new();
    // Literal with indexing, name index 70 (lost), value "v".
    d.decode(&[0x40 | 0x3f, 70 - 63, 0x01, b'v'], &mut out)
        .unwrap();
    assert_eq!(out.unknown_fields(), 1);
    assert_eq!(d.table_len(), 0);
}

#[test]
fn truncated_at_every_offset_never_panics() {
    let mut blocks: Vec<Vec<u8>> = C4.iter().chain(C6.iter()).map(|s| hex(s)).collect();
    blocks.extend(C3.iter().chain(C5.iter()).map(|s| hex(s)));
    for b in &blocks {
        for cut in 0..b.len() {
            let mut d = Decoder::new(256);
            let mut out = HeaderList::new();
            let r = d.decode(&b[..cut], &mut out);
            if cut == 0 {
                assert_eq!(r, Ok(()));
            }
            // A cut at a field boundary is a valid shorter block; elsewhere it is an error.
            if let Err(e) = r {
                assert!(
                    matches!(
                        e,
                        HpackError::Truncated
                            | HpackError::HuffmanPadding
                            | HpackError::HuffmanEos
                            | HpackError::InvalidIndex(_)
                    ),
                    "{e:?}"
                );
            }
        }
    }
    // Cutting the first C.4 block inside the Huffman authority is an error, not a field.
    let b = hex(C4[0]);
    let mut out = HeaderList::new();
    assert_eq!(
        Decoder::default().decode(&b[..b.len() - 1], &mut out),
        Err(HpackError::Truncated)
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = HeaderList::new();
    for round in 0..20_000 {
        let len = (next() % 64) as usize;
        let block: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut d = Decoder::new(if round % 2 == 0 { 4096 } else { 1 << 30 });
        if round % 3 == 0 {
            d.desynchronise();
        }
        let _ = d.decode(&block, &mut out);
        let _ = d.decode(&block, &mut out);
        assert!(d.table_size() <= d.table_max_size());
        assert!(d.table_max_size() <= MAX_TABLE_SIZE_LIMIT);
    }
}

// ---- the hpack-test-case corpus, read in place ----

fn corpus_dir() -> Option<std::path::PathBuf> {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hpack-test-case");
    d.is_dir().then_some(d)
}

/// Every story of every encoder: `(path, [(header_table_size, wire, headers)])`.
#[allow(clippy::type_complexity)]
pub(crate) fn corpus_stories(
    dir: &std::path::Path,
) -> Vec<(String, Vec<(Option<usize>, Vec<u8>, Vec<(String, String)>)>)> {
    let mut files = Vec::new();
    for enc in std::fs::read_dir(dir).unwrap() {
        let enc = enc.unwrap().path();
        if !enc.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&enc).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("story_") && name.ends_with(".json") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut stories = Vec::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let mut cases = Vec::new();
        for c in v["cases"].as_array().unwrap() {
            let Some(wire) = c.get("wire").and_then(|w| w.as_str()) else {
                continue;
            };
            let size = c
                .get("header_table_size")
                .and_then(|s| s.as_u64())
                .map(|s| s as usize);
            let headers = c["headers"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|h| h.as_object().unwrap().iter())
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            cases.push((size, hex(wire), headers));
        }
        if !cases.is_empty() {
            stories.push((f.display().to_string(), cases));
        }
    }
    stories
}

#[test]
fn hpack_test_case_corpus() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/hpack-test-case is not there");
        return;
    };
    let stories = corpus_stories(&dir);
    let mut blocks = 0usize;
    let mut out = HeaderList::new();
    for (path, cases) in &stories {
        let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
        for (i, (size, wire, headers)) in cases.iter().enumerate() {
            if let Some(s) = size {
                // "the header table size sent in SETTINGS_HEADER_TABLE_SIZE and ACKed just
                // before this case": the bound for the encoder's size updates.
                d.set_table_size_limit(*s);
            }
            d.decode(wire, &mut out)
                .unwrap_or_else(|e| panic!("{path} case {i}: {e}"));
            assert_eq!(&pairs(&out), headers, "{path} case {i}");
            blocks += 1;
        }
    }
    eprintln!(
        "hpack-test-case: {} stories, {blocks} header blocks decoded",
        stories.len()
    );
    assert!(blocks >= 20_000, "only {blocks} blocks");
}

#[test]
fn corpus_blocks_truncated_never_panic() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/hpack-test-case is not there");
        return;
    };
    let stories = corpus_stories(&dir);
    let mut out = HeaderList::new();
    // The first blocks of a few stories, cut at every offset, and with every byte flipped.
    for (_, cases) in stories.iter().step_by(7) {
        let wire = &cases[0].1;
        for cut in 0..wire.len() {
            let _ = Decoder::default().decode(&wire[..cut], &mut out);
            let mut flipped = wire.clone();
            flipped[cut] ^= 0xff;
            let _ = Decoder::default().decode(&flipped, &mut out);
        }
    }
}
