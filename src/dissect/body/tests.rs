use std::io::Write;

use super::coding::Coding;
use super::*;
use crate::warning::WarningKind;

const OF: BodyOf = BodyOf {
    protocol: "HTTP/1.1",
    stream: None,
};

/// Text that compresses as web content does (about 5:1 with gzip).
fn text(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 64);
    let mut x: u32 = 12345;
    while out.len() < n {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let word = [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "<div class=\"row\">",
            "</div>\n",
        ][(x >> 16) as usize % 6];
        out.extend_from_slice(word.as_bytes());
        out.extend_from_slice(format!(" {} ", x >> 24).as_bytes());
    }
    out.truncate(n);
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn br_window(b: &[u8], lgwin: u32) -> Vec<u8> {
    let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 5, lgwin);
    w.write_all(b).unwrap();
    w.into_inner()
}

fn br(b: &[u8]) -> Vec<u8> {
    br_window(b, 22)
}

fn zstd(b: &[u8]) -> Vec<u8> {
    zstd::encode_all(b, 3).unwrap()
}

/// Feeds `body` in pieces of `chunk` bytes and ends it.
fn run(ce: &str, body: &[u8], chunk: usize) -> (Decoded, StreamCtx) {
    let budget = DecoderBudget::new();
    let mut ctx = StreamCtx::new();
    let mut s = BodySink::new(false, Codings::parse([ce]), OF, &budget);
    for c in body.chunks(chunk.max(1)) {
        s.data(c, &mut ctx);
    }
    s.end(&mut ctx);
    assert_eq!(budget.used(), 0, "budget given back");
    (s.decoded(), ctx)
}

fn whole(n: usize) -> Decoded {
    Decoded::Bytes {
        bytes: n as u64,
        stop: None,
    }
}

fn kinds(ctx: &StreamCtx) -> Vec<WarningKind> {
    ctx.warnings.iter().map(|w| w.kind).collect()
}

#[test]
fn codings_are_listed_in_the_order_applied() {
    use Coding::*;
    let p = |v: &[&str]| Codings::parse(v.iter().copied());
    assert_eq!(p(&["gzip"]), Codings::Known(vec![Gzip]));
    assert_eq!(p(&["X-GZIP"]), Codings::Known(vec![Gzip]));
    assert_eq!(p(&["gzip, br"]), Codings::Known(vec![Gzip, Brotli]));
    assert_eq!(
        p(&["deflate", " zstd "]),
        Codings::Known(vec![Deflate, Zstd])
    );
    assert_eq!(p(&["identity"]), Codings::Identity);
    assert_eq!(p(&[]), Codings::Identity);
    assert_eq!(p(&[" , identity,"]), Codings::Identity);
    assert_eq!(p(&["compress"]), Codings::Unknown);
    assert_eq!(p(&["gzip, dcb"]), Codings::Unknown);
    assert_eq!(
        p(&["gzip, gzip, gzip, gzip"]).clone(),
        Codings::Known(vec![Gzip; 4])
    );
    assert_eq!(p(&["gzip, gzip, gzip, gzip, gzip"]), Codings::Unknown);
}

#[test]
fn every_coding_decodes_whole_and_in_tiny_pieces() {
    let plain = text(100_000);
    let cases: [(&str, Vec<u8>); 6] = [
        ("gzip", gzip(&plain)),
        ("x-gzip", gzip(&plain)),
        ("deflate", zlib(&plain)),
        ("deflate", raw_deflate(&plain)),
        ("br", br(&plain)),
        ("zstd", zstd(&plain)),
    ];
    for (ce, body) in &cases {
        assert!(body.len() < plain.len() / 3, "{ce} compresses");
        for chunk in [body.len(), 1000, 7, 1] {
            let (d, ctx) = run(ce, body, chunk);
            assert_eq!(d, whole(plain.len()), "{ce} in pieces of {chunk}");
            assert!(ctx.warnings.is_empty(), "{ce}: {:?}", ctx.warnings);
        }
    }
}

#[test]
fn uneven_pieces_straddle_every_header_and_trailer() {
    let plain = text(20_000);
    for ce in ["gzip", "deflate", "br", "zstd"] {
        let body = match ce {
            "gzip" => gzip(&plain),
            "deflate" => zlib(&plain),
            "br" => br(&plain),
            _ => zstd(&plain),
        };
        let budget = DecoderBudget::new();
        let mut ctx = StreamCtx::new();
        let mut s = BodySink::new(true, Codings::parse([ce]), OF, &budget);
        let (mut at, mut n) = (0, 1);
        while at < body.len() {
            let end = (at + n).min(body.len());
            s.data(&body[at..end], &mut ctx);
            at = end;
            n = n % 13 + 1;
        }
        s.end(&mut ctx);
        assert_eq!(s.decoded(), whole(plain.len()), "{ce}");
        let want = crate::dissect::tls::fingerprint::hex(&sha2::Sha256::digest(&body));
        assert_eq!(
            s.sha256(),
            Some(want),
            "{ce}: the hash is of the bytes as transferred"
        );
    }
}

/// A gzip member with every optional header field, built by hand.
#[test]
fn gzip_header_fields_are_skipped() {
    let plain = text(5000);
    let mut body = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3];
    body.extend_from_slice(&[5, 0, b'A', b'B', 1, 0, b'x']); // FEXTRA
    body.extend_from_slice(b"index.html\0"); // FNAME
    body.extend_from_slice(b"a comment\0"); // FCOMMENT
    body.extend_from_slice(&[0xab, 0xcd]); // FHCRC (not checked)
    body.extend_from_slice(&raw_deflate(&plain));
    let mut crc = crc32fast::Hasher::new();
    crc.update(&plain);
    body.extend_from_slice(&crc.finalize().to_le_bytes());
    body.extend_from_slice(&(plain.len() as u32).to_le_bytes());
    body.extend_from_slice(b"trailing bytes after the member are ignored");
    for chunk in [body.len(), 3, 1] {
        let (d, ctx) = run("gzip", &body, chunk);
        assert_eq!(d, whole(plain.len()), "pieces of {chunk}");
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    }
}

#[test]
fn concatenated_codings_are_undone_last_first() {
    let plain = text(50_000);
    // `gzip, br`: gzip applied first, then brotli.
    let body = br(&gzip(&plain));
    for chunk in [body.len(), 5, 1] {
        let (d, ctx) = run("gzip, br", &body, chunk);
        assert_eq!(d, whole(plain.len()));
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    }
    let body = gzip(&zstd(&zlib(&plain)));
    let (d, _) = run("deflate, zstd, gzip", &body, 100);
    assert_eq!(d, whole(plain.len()));
    // The wrong order does not decode.
    let (d, ctx) = run("br, gzip", &br(&gzip(&plain)), 100);
    assert!(matches!(
        d,
        Decoded::Bytes {
            stop: Some(DecodeStop::Corrupt),
            ..
        }
    ));
    assert_eq!(kinds(&ctx), [WarningKind::Malformed]);
}

#[test]
fn zstd_frames_may_follow_one_another() {
    let (a, b) = (text(3000), text(7000));
    let mut body = zstd(&a);
    body.extend_from_slice(&zstd(&b));
    let (d, ctx) = run("zstd", &body, 11);
    assert_eq!(d, whole(a.len() + b.len()));
    assert!(ctx.warnings.is_empty());
}

#[test]
fn corrupt_streams_stop_with_a_warning_and_keep_what_decoded() {
    let plain = text(200_000);
    let mut cases = Vec::new();
    let mut g = gzip(&plain);
    let mid = g.len() / 2;
    g[mid] ^= 0x55;
    cases.push(("gzip", g));
    let mut g = gzip(&plain);
    let n = g.len();
    g[n - 6] ^= 1; // CRC-32
    cases.push(("gzip", g));
    cases.push(("gzip", b"<html>not gzip at all</html>".to_vec()));
    let mut z = zlib(&plain);
    let n = z.len();
    z[n - 1] ^= 1; // Adler-32
    cases.push(("deflate", z));
    let mut b = br(&plain);
    let mid = b.len() / 2;
    b[mid..mid + 8].copy_from_slice(&[0xff; 8]);
    cases.push(("br", b));
    cases.push(("zstd", b"{\"not\": \"zstd\"}".to_vec()));
    for (ce, body) in &cases {
        for chunk in [body.len(), 1] {
            let (d, ctx) = run(ce, body, chunk);
            let Decoded::Bytes {
                bytes,
                stop: Some(DecodeStop::Corrupt),
            } = d
            else {
                panic!("{ce}: {d:?}");
            };
            assert!(bytes <= plain.len() as u64);
            assert_eq!(kinds(&ctx), [WarningKind::Malformed], "{ce}");
            assert!(ctx.warnings[0].message.contains(ce), "{:?}", ctx.warnings);
        }
    }
}

#[test]
fn a_body_that_ends_inside_its_stream_is_truncated() {
    // Several zstd blocks (128 KiB each), so that half the body holds whole ones.
    let plain = text(400_000);
    for ce in ["gzip", "deflate", "br", "zstd"] {
        let body = match ce {
            "gzip" => gzip(&plain),
            "deflate" => zlib(&plain),
            "br" => br(&plain),
            _ => zstd(&plain),
        };
        let (d, ctx) = run(ce, &body[..body.len() / 2], 100);
        let Decoded::Bytes {
            bytes,
            stop: Some(DecodeStop::Truncated),
        } = d
        else {
            panic!("{ce}: {d:?}");
        };
        assert!(bytes > 0 && bytes < plain.len() as u64, "{ce}: {bytes}");
        assert_eq!(kinds(&ctx), [WarningKind::Truncated], "{ce}");
    }
}

#[test]
fn loss_stops_decoding_quietly_and_drops_the_hash() {
    let plain = text(50_000);
    let body = gzip(&plain);
    let budget = DecoderBudget::new();
    let mut ctx = StreamCtx::new();
    let mut s = BodySink::new(true, Codings::parse(["gzip"]), OF, &budget);
    s.data(&body[..1000], &mut ctx);
    let before = s.decoded();
    assert!(budget.used() > 0);
    s.cut();
    assert_eq!(budget.used(), 0, "the window is given back at once");
    s.data(&body[2000..], &mut ctx);
    s.end(&mut ctx);
    let Decoded::Bytes {
        bytes,
        stop: Some(DecodeStop::Truncated),
    } = s.decoded()
    else {
        panic!("{:?}", s.decoded());
    };
    assert!(matches!(before, Decoded::Bytes { bytes: b, .. } if b == bytes));
    assert_eq!(s.sha256(), None);
    assert!(
        ctx.warnings.is_empty(),
        "the gap is the dissector's to report"
    );
}

#[test]
fn empty_identity_and_unknown_bodies() {
    assert_eq!(run("gzip", b"", 1).0, whole(0));
    assert_eq!(run("identity", b"abc", 1).0, Decoded::Identity);
    assert_eq!(run("", b"abc", 1).0, Decoded::Identity);
    assert_eq!(run("compress", b"abc", 1).0, Decoded::Unknown);
    let budget = DecoderBudget::new();
    let s = BodySink::new(false, Codings::Identity, OF, &budget);
    assert!(
        !s.wants_bytes(),
        "nothing runs for an identity body without --body-hash"
    );
    // A 206 carries a range of the coded representation.
    assert_eq!(Codings::for_response(Some(206), ["gzip"]), Codings::Unknown);
    assert_eq!(
        Codings::for_response(Some(206), ["identity"]),
        Codings::Identity
    );
}

#[test]
fn a_body_still_open_reads_as_truncated_until_its_stream_ends() {
    let plain = text(10_000);
    let body = zstd(&plain);
    let budget = DecoderBudget::new();
    let mut ctx = StreamCtx::new();
    let mut s = BodySink::new(false, Codings::parse(["zstd"]), OF, &budget);
    let truncated = Decoded::Bytes {
        bytes: 0,
        stop: Some(DecodeStop::Truncated),
    };
    assert_eq!(
        s.decoded(),
        truncated,
        "no byte yet, no end: not a whole empty body"
    );
    s.data(&body[..body.len() - 1], &mut ctx);
    assert!(matches!(
        s.decoded(),
        Decoded::Bytes {
            stop: Some(DecodeStop::Truncated),
            ..
        }
    ));
    s.data(&body[body.len() - 1..], &mut ctx);
    assert_eq!(
        s.decoded(),
        whole(plain.len()),
        "a whole frame needs no end()"
    );
}

/// Bits written least significant first, Huffman codes most significant bit first
/// (RFC 1951 3.1.1).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, v: u64, n: u32) {
        self.acc |= v << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        let rev = (0..len).fold(0, |r, i| r | ((code >> i) & 1) << (len - 1 - i));
        self.put(u64::from(rev), len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A gzip member of one fixed-Huffman block: a zero byte, then `pairs` copies of 258 bytes
/// at distance 1 (13 bits each), so 158 bytes out per byte in.
fn gzip_bomb(pairs: usize) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(1, 1); // BFINAL
    b.put(1, 2); // BTYPE 01: fixed Huffman codes
    b.code(0x30, 8); // literal 0
    for _ in 0..pairs {
        b.code(0xc5, 8); // length code 285: 258 bytes
        b.code(0, 5); // distance code 0: distance 1
    }
    b.code(0, 7); // end of block
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend_from_slice(&b.finish());
    out.extend_from_slice(&[0; 8]); // never reached
    out
}

/// A zstd frame of `blocks` RLE blocks of `size` bytes, four bytes each (RFC 8878 3.1.1.2).
fn zstd_rle(blocks: usize, size: u32) -> Vec<u8> {
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd];
    out.push(0); // no content size, no checksum, not single-segment
    out.push(7 << 3); // window 2^17
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let head = last | 1 << 1 | size << 3;
        out.extend_from_slice(&head.to_le_bytes()[..3]);
        out.push(b'A');
    }
    out
}

#[test]
fn a_zstd_bomb_stops_at_the_ratio_cap() {
    let body = zstd_rle(2000, 128 << 10); // 8 KiB for 250 MiB
    let (d, ctx) = run("zstd", &body, 1000);
    let Decoded::Bytes {
        bytes,
        stop: Some(DecodeStop::Cap),
    } = d
    else {
        panic!("{d:?}");
    };
    assert!(bytes < 64 << 20, "the ratio stops it first: {bytes}");
    assert!(bytes <= decode_limit(body.len() as u64));
    assert_eq!(kinds(&ctx), [WarningKind::Cap]);
    assert!(ctx.warnings[0].message.contains("decompression bomb"));
    // RLE blocks within the slack are fine.
    assert_eq!(run("zstd", &zstd_rle(3, 16 << 10), 1).0, whole(3 << 14));
}

#[test]
fn a_gzip_bomb_stops_at_the_size_cap() {
    let pairs = (MAX_DECODED_BYTES / 258 + 1000) as usize;
    let body = gzip_bomb(pairs); // 425 KB for 64.2 MiB
    let (d, ctx) = run("gzip", &body, 16 << 10);
    assert_eq!(
        d,
        Decoded::Bytes {
            bytes: MAX_DECODED_BYTES,
            stop: Some(DecodeStop::Cap)
        }
    );
    assert_eq!(kinds(&ctx), [WarningKind::Cap]);
    // Legitimate highly compressible content is not capped: a MiB of zeros.
    let zeros = vec![0u8; 1 << 20];
    let (d, ctx) = run("gzip", &gzip(&zeros), 4096);
    assert_eq!(d, whole(1 << 20));
    assert!(ctx.warnings.is_empty());
}

#[test]
fn the_limit_grows_with_the_wire_and_stops_at_the_cap() {
    assert_eq!(decode_limit(0), DECODE_SLACK);
    assert_eq!(decode_limit(1000), 1000 * MAX_DECODE_RATIO + DECODE_SLACK);
    assert_eq!(decode_limit(u64::MAX), MAX_DECODED_BYTES);
}

/// Brotli windows of 16 MiB: three fit in a connection's decoder memory, a fourth waits
/// for one to end.
#[test]
fn decoder_memory_is_capped_per_connection() {
    let plain = text(300_000);
    let body = br_window(&plain, 24);
    assert_eq!(
        coding::memory(Coding::Brotli, Some(body[0])),
        (16 << 20) + (64 << 10)
    );
    let budget = DecoderBudget::new();
    let mut ctx = StreamCtx::new();
    let mut sinks: Vec<BodySink> = (0..4)
        .map(|_| BodySink::new(false, Codings::parse(["br"]), OF, &budget))
        .collect();
    for s in &mut sinks {
        s.data(&body[..100], &mut ctx);
    }
    assert_eq!(sinks[3].decoded(), Decoded::Unknown);
    assert!(!sinks[3].wants_bytes());
    assert_eq!(kinds(&ctx), [WarningKind::Cap]);
    sinks.remove(0);
    let mut late = BodySink::new(false, Codings::parse(["br"]), OF, &budget);
    late.data(&body, &mut ctx);
    late.end(&mut ctx);
    assert_eq!(late.decoded(), whole(plain.len()));
    assert_eq!(ctx.warnings.len(), 1);
    drop(sinks);
    drop(late);
    assert_eq!(budget.used(), 0);
}

#[test]
fn brotli_window_bits_from_the_first_byte() {
    for lgwin in 10..=24 {
        let body = br_window(b"hello hello hello", lgwin);
        assert_eq!(
            coding::memory(Coding::Brotli, Some(body[0])),
            (1 << lgwin.max(10)) + (64 << 10),
            "lgwin {lgwin}"
        );
    }
}

fn coded(ce: &str, plain: &[u8]) -> Vec<u8> {
    match ce {
        "gzip" => gzip(plain),
        "deflate" => zlib(plain),
        "br" => br(plain),
        "zstd" => zstd(plain),
        _ => br(&gzip(plain)),
    }
}

const CODINGS: [&str; 5] = ["gzip", "deflate", "br", "zstd", "gzip, br"];

/// Cut at every offset, a body is truncated, never corrupt, and never decodes past its
/// content.
#[test]
fn truncation_at_every_offset() {
    let plain = text(3000);
    for ce in CODINGS {
        let body = coded(ce, &plain);
        for n in 0..body.len() {
            let (d, _) = run(ce, &body[..n], 7);
            let ok = match d {
                Decoded::Bytes { bytes, stop } => {
                    bytes <= plain.len() as u64
                        && (stop == Some(DecodeStop::Truncated) || (n == 0 && stop.is_none()))
                }
                _ => false,
            };
            assert!(ok, "{ce} cut at {n}: {d:?}");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Flipped bytes and any split: no panic, no endless loop, never past the limit, the
    /// budget given back.
    #[test]
    fn mutated_streams_never_panic(
        which in 0usize..5,
        flips in proptest::collection::vec((proptest::prelude::any::<usize>(), 1u8..), 0..6),
        piece in 1usize..50,
    ) {
        let ce = CODINGS[which];
        let mut body = coded(ce, &text(4000));
        let len = body.len();
        for (at, x) in flips {
            body[at % len] ^= x;
        }
        let (d, ctx) = run(ce, &body, piece);
        if let Decoded::Bytes { bytes, .. } = d {
            proptest::prop_assert!(bytes <= decode_limit(len as u64));
        }
        proptest::prop_assert!(ctx.warnings.len() <= 1);
    }
}
