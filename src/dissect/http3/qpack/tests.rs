//! QPACK decoder tests: RFC 9204 Appendix B, malformed and truncated input, blocked
//! sections, partial mode, the decoder stream, and round trips through a small encoder.
//! The offline-interop corpus is `tests/qpack.rs`.

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;
use crate::dissect::http2::hpack::huffman;
use crate::dissect::http2::hpack::tests::{encode_int, hex, p, pairs};

fn decode(d: &mut Decoder, stream: u64, block: &[u8]) -> Result<Vec<(String, String)>, QpackError> {
    let mut out = HeaderList::new();
    match d.decode_section(stream, block, &mut out)? {
        Decoded::Done => Ok(pairs(&out)),
        Decoded::Blocked { required } => panic!("blocked on {required}"),
    }
}

// ---- RFC 9204 Appendix B ----

const B2_ENCODER: &str = "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d
                          c10c 2f73 616d 706c 652f 7061 7468";
const B3_ENCODER: &str = "4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565";
const B5_ENCODER: &str = "810d 6375 7374 6f6d 2d76 616c 7565 32";

#[test]
fn rfc9204_b1_literal_with_static_name_reference() {
    let mut d = Decoder::with_settings(0, 0);
    let block = hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");
    assert_eq!(
        decode(&mut d, 0, &block),
        Ok(p(&[(":path", "/index.html")]))
    );
    assert_eq!(d.insert_count(), 0);
}

#[test]
fn rfc9204_b2_to_b5_dynamic_table() {
    let mut d = Decoder::with_settings(220, 100);
    // B.2: capacity 220, two inserts with static name references; a post-base section.
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    assert_eq!(
        (d.table_capacity(), d.insert_count(), d.table_size()),
        (220, 2, 106)
    );
    assert_eq!(
        decode(&mut d, 4, &hex("0381 10 11")),
        Ok(p(&[
            (":authority", "www.example.com"),
            (":path", "/sample/path")
        ]))
    );
    d.handle_decoder_stream(&hex("84")).unwrap();
    assert_eq!(d.stats().known_received_count, 2);
    // B.3: insert with a literal name; the decoder acknowledges it.
    d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
    assert_eq!((d.insert_count(), d.table_size()), (3, 160));
    d.handle_decoder_stream(&hex("01")).unwrap();
    assert_eq!(d.stats().known_received_count, 3);
    // B.4: duplicate of relative index 2 (absolute 0); relative indices from Base 4.
    d.handle_encoder_stream(&hex("02")).unwrap();
    assert_eq!((d.insert_count(), d.table_size()), (4, 217));
    assert_eq!(
        decode(&mut d, 8, &hex("0500 80 c1 81")),
        Ok(p(&[
            (":authority", "www.example.com"),
            (":path", "/"),
            ("custom-key", "custom-value"),
        ]))
    );
    d.handle_decoder_stream(&hex("48")).unwrap();
    // B.5: insert with a dynamic name reference evicts absolute index 0.
    d.handle_encoder_stream(&hex(B5_ENCODER)).unwrap();
    assert_eq!(
        (d.insert_count(), d.table_size(), d.table_len()),
        (5, 215, 4)
    );
    d.handle_decoder_stream(&hex("01")).unwrap();
    let s = *d.stats();
    assert_eq!(
        (
            s.section_acks,
            s.stream_cancellations,
            s.insert_count_increments
        ),
        (1, 1, 2)
    );
    assert_eq!(
        (s.known_received_count, s.decoder_stream_violations),
        (4, 0)
    );
    assert_eq!((s.inserts, s.duplicates, s.capacity_updates), (5, 1, 1));
    assert_eq!((s.sections, s.fields, s.overstated_required), (2, 5, 0));
    // The evicted entry: Required Insert Count 5 (encoded 6 with MaxEntries 6), Base 5,
    // relative index 4 is absolute 0.
    assert_eq!(
        decode(&mut d, 12, &hex("0600 84")),
        Err(QpackError::EvictedEntry { absolute: 0 })
    );
    assert_eq!(
        decode(&mut d, 12, &hex("0600 80")),
        Ok(p(&[("custom-key", "custom-value2")]))
    );
}

#[test]
fn encoder_stream_split_at_every_byte() {
    let all: Vec<u8> = [B2_ENCODER, B3_ENCODER, "02", B5_ENCODER]
        .iter()
        .flat_map(|s| hex(s))
        .collect();
    for cut in 0..=all.len() {
        let mut d = Decoder::with_settings(220, 100);
        d.handle_encoder_stream(&all[..cut]).unwrap();
        d.handle_encoder_stream(&all[cut..]).unwrap();
        assert_eq!((d.insert_count(), d.table_size()), (5, 215), "cut {cut}");
    }
    let mut d = Decoder::with_settings(220, 100);
    for b in &all {
        d.handle_encoder_stream(std::slice::from_ref(b)).unwrap();
    }
    assert_eq!((d.insert_count(), d.table_size()), (5, 215));
    assert_eq!(
        decode(&mut d, 0, &hex("0600 80 81")),
        Ok(p(&[
            ("custom-key", "custom-value2"),
            (":authority", "www.example.com")
        ]))
    );
}

#[test]
fn decoder_stream_split_and_violations() {
    let mut d = Decoder::with_settings(220, 100);
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    decode(&mut d, 300, &hex("0381 10 11")).unwrap();
    // Section Acknowledgment of stream 300 (7-bit prefix: 0xff 0xad 0x01), split.
    d.handle_decoder_stream(&[0xff]).unwrap();
    d.handle_decoder_stream(&[0xad]).unwrap();
    assert_eq!(d.stats().section_acks, 0);
    d.handle_decoder_stream(&[0x01, 0x00]).unwrap();
    let s = *d.stats();
    assert_eq!((s.section_acks, s.known_received_count), (1, 2));
    // The zero increment above, an acknowledgment with nothing outstanding, an increment
    // past the Insert Count: three violations, counted.
    d.handle_decoder_stream(&hex("84 01")).unwrap();
    assert_eq!(d.stats().decoder_stream_violations, 3);
    // An integer overflow ends the stream; the rest is ignored.
    let e = d.handle_decoder_stream(&hex("ff ff ff ff ff ff ff ff ff ff 01"));
    assert_eq!(e, Err(QpackError::IntegerOverflow));
    d.handle_decoder_stream(&hex("01")).unwrap();
    assert_eq!(d.stats().decoder_bytes_ignored, 1);
}

// ---- malformed input ----

#[test]
fn integers_up_to_62_bits() {
    // 2^62 - 1 with a 6-bit prefix: 63 + (2^62 - 64) in nine continuation bytes.
    let mut b = vec![0x3f];
    let mut v = MAX_INT - 63;
    while v >= 128 {
        b.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    b.push(v as u8);
    let mut pos = 0;
    assert_eq!(read_int(&b, &mut pos, 6), Ok(MAX_INT));
    assert_eq!(pos, b.len());
    // One more overflows; so does a tenth continuation byte, even of zeros.
    let last = b.len() - 1;
    b[last] += 1;
    assert_eq!(read_int(&b, &mut 0, 6), Err(QpackError::IntegerOverflow));
    let zeros = hex("3f 80 80 80 80 80 80 80 80 80 00");
    assert_eq!(
        read_int(&zeros, &mut 0, 6),
        Err(QpackError::IntegerOverflow)
    );
    assert_eq!(
        read_int(&hex("3f 80"), &mut 0, 6),
        Err(QpackError::Truncated)
    );
    assert_eq!(read_int(&[], &mut 0, 6), Err(QpackError::Truncated));
}

#[test]
fn malformed_field_sections() {
    let mut d = Decoder::with_settings(220, 0);
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    let cases: &[(&str, QpackError)] = &[
        // Static index 99 (indexed, then as a name).
        ("0000 ff24", QpackError::InvalidStaticIndex(99)),
        ("0000 5f54 00", QpackError::InvalidStaticIndex(99)),
        // Relative index 0 with Base 0.
        (
            "0381 80",
            QpackError::InvalidRelativeIndex { base: 0, index: 0 },
        ),
        (
            "0381 40 00",
            QpackError::InvalidRelativeIndex { base: 0, index: 0 },
        ),
        // Post-base index 2 with Required Insert Count 2 (entries 0 and 1 exist).
        (
            "0381 12",
            QpackError::IndexBeyondRequired {
                absolute: 2,
                required: 2,
            },
        ),
        (
            "0381 02 00",
            QpackError::IndexBeyondRequired {
                absolute: 2,
                required: 2,
            },
        ),
        // Required Insert Count 1, Base 2: relative 0 is absolute 1, past the count.
        (
            "0201 80",
            QpackError::IndexBeyondRequired {
                absolute: 1,
                required: 1,
            },
        ),
        // A dynamic reference with Required Insert Count 0.
        (
            "0000 80",
            QpackError::InvalidRelativeIndex { base: 0, index: 0 },
        ),
        (
            "0001 80",
            QpackError::IndexBeyondRequired {
                absolute: 0,
                required: 0,
            },
        ),
        // Encoded Required Insert Count above 2 * MaxEntries (MaxEntries = 220 / 32 = 6).
        (
            "0d00",
            QpackError::InvalidRequiredInsertCount { encoded: 13 },
        ),
        // With 2 inserts MaxValue is 8: encoded 1 decodes to 0, which is always encoded
        // as 0; encoded 10 to 9, above MaxValue but not above FullRange, so unwrappable.
        (
            "0100",
            QpackError::InvalidRequiredInsertCount { encoded: 1 },
        ),
        (
            "0a00",
            QpackError::InvalidRequiredInsertCount { encoded: 10 },
        ),
        // Sign bit with Delta Base >= Required Insert Count.
        (
            "0382",
            QpackError::InvalidBase {
                required: 2,
                delta: 2,
            },
        ),
        (
            "0383",
            QpackError::InvalidBase {
                required: 2,
                delta: 3,
            },
        ),
        // Truncations: prefix, index, name and value lengths, strings.
        ("", QpackError::Truncated),
        ("00", QpackError::Truncated),
        ("0000 ff", QpackError::Truncated),
        ("0000 51", QpackError::Truncated),
        ("0000 5103 6162", QpackError::Truncated),
        ("0000 2361 62", QpackError::Truncated),
        ("0000 27ff", QpackError::Truncated),
        // A value length of about 2^33: larger than the block, never allocated.
        ("0000 517f ff ff ff ff 1f", QpackError::Truncated),
        // Huge integers.
        (
            "ff ff ff ff ff ff ff ff ff ff 01",
            QpackError::IntegerOverflow,
        ),
        (
            "00 7f ff ff ff ff ff ff ff ff ff 01",
            QpackError::IntegerOverflow,
        ),
        // Huffman EOS and bad padding.
        ("0000 5184 ffff ffff", QpackError::HuffmanEos),
        ("0000 5181 00", QpackError::HuffmanPadding),
    ];
    for (block, want) in cases {
        assert_eq!(decode(&mut d, 0, &hex(block)), Err(*want), "{block}");
    }
    // The table is untouched by failed sections.
    assert_eq!((d.insert_count(), d.table_size()), (2, 106));
    assert_eq!(d.stats().sections_failed, cases.len() as u64);
}

#[test]
fn required_insert_count_wraps() {
    // MaxEntries 4 (capacity 128): the count is encoded modulo 8.
    let mut d = Decoder::with_settings(128, 0);
    d.handle_encoder_stream(&hex("3f61")).unwrap(); // capacity 128
    for i in 0..12u8 {
        // Insert "a" = i with a literal name: 32 + 2 bytes each, at most 3 held.
        d.handle_encoder_stream(&[0x41, b'a', 0x01, b'0' + i])
            .unwrap();
    }
    assert_eq!((d.insert_count(), d.table_len()), (12, 3));
    // Required Insert Count 12 is encoded 12 mod 8 + 1 = 5; Base 12; relative 0 is entry 11.
    assert_eq!(decode(&mut d, 0, &hex("0500 80")), Ok(p(&[("a", ";")])));
    // Encoded 3 means 10: relative 0 is entry 9, the oldest held.
    assert_eq!(decode(&mut d, 0, &hex("0300 80")), Ok(p(&[("a", "9")])));
    // Encoded 2 means 9: entry 8 was evicted.
    assert_eq!(
        decode(&mut d, 0, &hex("0200 80")),
        Err(QpackError::EvictedEntry { absolute: 8 })
    );
    // Encoded 1 means 16 (MaxValue 12 + 4): four inserts ahead, so blocked.
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode_section(0, &hex("0100 80"), &mut out),
        Err(QpackError::TooManyBlockedStreams { limit: 0 })
    );
    // Encoded 9 is above FullRange 8.
    assert_eq!(
        decode(&mut d, 0, &hex("0900")),
        Err(QpackError::InvalidRequiredInsertCount { encoded: 9 })
    );
}

#[test]
fn malformed_encoder_instructions() {
    let cases: &[(&str, QpackError)] = &[
        (
            "3fe21f",
            QpackError::CapacityTooLarge {
                requested: 4097,
                limit: 4096,
            },
        ),
        // Duplicate and dynamic name reference with an empty table.
        (
            "3fe11f 00",
            QpackError::InvalidRelativeIndex { base: 0, index: 0 },
        ),
        (
            "3fe11f 8000",
            QpackError::InvalidRelativeIndex { base: 0, index: 0 },
        ),
        // Static name index 99.
        ("3fe11f ff24 00", QpackError::InvalidStaticIndex(99)),
        // Insert before any capacity: the table holds 0 bytes.
        (
            "c000",
            QpackError::EntryTooLarge {
                size: 42,
                capacity: 0,
            },
        ),
        // A value of 4,065 bytes with a 10-byte name does not fit 4,096, and is rejected
        // before its bytes arrive.
        (
            "3fe11f c07f e21e",
            QpackError::EntryTooLarge {
                size: 4107,
                capacity: 4096,
            },
        ),
        // A Huffman name of 2^30 bytes: at least (2^33 - 7) / 30 symbols.
        (
            "3fe11f 7fe1 ffff ff03",
            QpackError::EntryTooLarge {
                size: ((1 << 33) - 7) / 30 + 32,
                capacity: 4096,
            },
        ),
        (
            "3fe11f ffff ffff ffff ffff ffff 01",
            QpackError::IntegerOverflow,
        ),
        ("3fe11f c081 00", QpackError::HuffmanPadding),
    ];
    for (bytes, want) in cases {
        let mut d = Decoder::with_settings(4096, 0);
        assert_eq!(d.handle_encoder_stream(&hex(bytes)), Err(*want), "{bytes}");
        assert!(d.is_partial());
        // After an error the stream is ignored.
        d.handle_encoder_stream(&hex("3fe11f")).unwrap();
        assert_eq!(d.stats().encoder_bytes_ignored, 3);
    }
    // Capacity reduced below the table size evicts; inserts never exceed it.
    let mut d = Decoder::with_settings(220, 0);
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    d.handle_encoder_stream(&hex("3f21")).unwrap(); // capacity 64
    assert_eq!((d.table_len(), d.table_size()), (1, 49));
    assert_eq!(
        decode(&mut d, 0, &hex("0381 10")),
        Err(QpackError::EvictedEntry { absolute: 0 })
    );
}

#[test]
fn settings_unknown_uses_hard_caps_and_largest_capacity() {
    let mut d = Decoder::new();
    assert_eq!(d.capacity_limit(), MAX_TABLE_CAPACITY_LIMIT as u64);
    // 1 MiB + 1 is refused; 220 is taken as the maximum for MaxEntries.
    let mut over = Decoder::new();
    assert_eq!(
        over.handle_encoder_stream(&hex("3fe2ff3f")),
        Err(QpackError::CapacityTooLarge {
            requested: (1 << 20) + 1,
            limit: 1 << 20,
        })
    );
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    assert_eq!(
        decode(&mut d, 4, &hex("0381 10 11")),
        Ok(p(&[
            (":authority", "www.example.com"),
            (":path", "/sample/path")
        ]))
    );
    // SETTINGS seen later: the announced maximum decides.
    d.apply_settings(100, 0);
    assert_eq!(d.capacity_limit(), 100);
}

// ---- blocked sections ----

#[test]
fn blocked_sections_wait_for_inserts_in_stream_order() {
    let mut d = Decoder::with_settings(220, 2);
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode_section(4, &hex("0381 10 11"), &mut out),
        Ok(Decoded::Blocked { required: 2 })
    );
    // A later section of the same stream waits behind it, even with no references.
    assert_eq!(
        d.decode_section(4, &hex("0000 d1"), &mut out),
        Ok(Decoded::Blocked { required: 0 })
    );
    assert_eq!(
        d.decode_section(8, &hex("0500 80 c1 81"), &mut out),
        Ok(Decoded::Blocked { required: 4 })
    );
    assert_eq!(d.blocked_streams(), 2);
    // A third stream is one too many.
    assert_eq!(
        d.decode_section(12, &hex("0381 10"), &mut out),
        Err(QpackError::TooManyBlockedStreams { limit: 2 })
    );
    // Unrelated streams decode meanwhile.
    assert_eq!(
        d.decode_section(16, &hex("0000 d1"), &mut out),
        Ok(Decoded::Done)
    );
    assert!(d.poll_unblocked(&mut out).is_none());
    // The first insert is not enough.
    let b2 = hex(B2_ENCODER);
    d.handle_encoder_stream(&b2[..20]).unwrap();
    assert!(d.poll_unblocked(&mut out).is_none());
    d.handle_encoder_stream(&b2[20..]).unwrap();
    let (s, r) = d.poll_unblocked(&mut out).unwrap();
    assert_eq!((s, r), (4, Ok(())));
    assert_eq!(
        pairs(&out),
        p(&[(":authority", "www.example.com"), (":path", "/sample/path")])
    );
    let (s, r) = d.poll_unblocked(&mut out).unwrap();
    assert_eq!((s, r), (4, Ok(())));
    assert_eq!(pairs(&out), p(&[(":method", "GET")]));
    assert!(d.poll_unblocked(&mut out).is_none());
    assert_eq!(d.blocked_streams(), 1);
    d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
    d.handle_encoder_stream(&hex("02")).unwrap();
    let (s, r) = d.poll_unblocked(&mut out).unwrap();
    assert_eq!((s, r), (8, Ok(())));
    assert_eq!(pairs(&out)[2], ("custom-key".into(), "custom-value".into()));
    assert!(d.poll_unblocked(&mut out).is_none());
    assert_eq!(d.blocked_streams(), 0);
    let st = *d.stats();
    assert_eq!(
        (st.sections, st.sections_blocked, st.sections_failed),
        (4, 3, 1)
    );
}

#[test]
fn blocked_queue_bounds_and_cancellation() {
    // No blocked streams allowed.
    let mut d = Decoder::with_settings(220, 0);
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode_section(4, &hex("0381 10"), &mut out),
        Err(QpackError::TooManyBlockedStreams { limit: 0 })
    );
    // Bytes: one section of almost MAX_BLOCKED_BYTES, then nothing more fits.
    let mut d = Decoder::with_settings(220, 100);
    let mut big = hex("0381");
    big.resize(MAX_BLOCKED_BYTES - BLOCKED_SECTION_OVERHEAD + 2, 0x10);
    assert_eq!(
        d.decode_section(4, &big, &mut out),
        Ok(Decoded::Blocked { required: 2 })
    );
    assert_eq!(
        d.decode_section(8, &hex("0381 10"), &mut out),
        Err(QpackError::BlockedBytesExceeded {
            limit: MAX_BLOCKED_BYTES
        })
    );
    assert_eq!(d.cancel_stream(4), 1);
    assert_eq!(d.cancel_stream(4), 0);
    assert_eq!(
        d.decode_section(8, &hex("0381 10"), &mut out),
        Ok(Decoded::Blocked { required: 2 })
    );
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    assert_eq!(d.poll_unblocked(&mut out), Some((8, Ok(()))));
    // A section that fails once unblocked reports its error.
    assert_eq!(
        d.decode_section(12, &hex("0481 10 13"), &mut out),
        Ok(Decoded::Blocked { required: 3 })
    );
    d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
    assert_eq!(
        d.poll_unblocked(&mut out),
        Some((
            12,
            Err(QpackError::IndexBeyondRequired {
                absolute: 4,
                required: 3
            })
        ))
    );
    assert_eq!(pairs(&out), p(&[(":path", "/sample/path")]));
}

// ---- partial mode ----

#[test]
fn partial_mode_counts_unknown_fields() {
    let mut d = Decoder::with_settings(220, 100);
    let mut out = HeaderList::new();
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    assert_eq!(
        d.decode_section(8, &hex("0500 80 c1 81"), &mut out),
        Ok(Decoded::Blocked { required: 4 })
    );
    // Encoder stream bytes lost: the queued section is released with unknown fields.
    d.handle_encoder_gap(30);
    assert!(d.is_partial());
    assert_eq!(d.poll_unblocked(&mut out), Some((8, Ok(()))));
    assert_eq!(pairs(&out), p(&[(":path", "/")]));
    assert_eq!(out.unknown_fields(), 2);
    // Every kind of dynamic reference is unknown; static ones and literals decode; the
    // prefix is not validated (its count cannot be unwrapped).
    let block = hex("0f81 10 d1 80 2161 0162 4a 0163 0a 0164 2161 0163");
    assert_eq!(d.decode_section(4, &block, &mut out), Ok(Decoded::Done));
    assert_eq!(
        pairs(&out),
        p(&[(":method", "GET"), ("a", "b"), ("a", "c")])
    );
    assert_eq!(out.unknown_fields(), 4);
    // The encoder stream is ignored from now on.
    d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
    assert_eq!(d.insert_count(), 2);
    let s = *d.stats();
    assert_eq!((s.unknown_fields, s.encoder_bytes_ignored), (6, 30 + 24));
    // Syntax errors are still errors.
    assert_eq!(
        d.decode_section(4, &hex("0000 5f54 00"), &mut out),
        Err(QpackError::InvalidStaticIndex(99))
    );
}

#[test]
fn partial_mode_keeps_a_streams_sections_in_order() {
    let mut d = Decoder::with_settings(220, 100);
    let mut out = HeaderList::new();
    assert_eq!(
        d.decode_section(8, &hex("0381 10 c1"), &mut out),
        Ok(Decoded::Blocked { required: 2 })
    );
    d.desynchronise();
    // The stream's next section waits behind the released one; other streams do not.
    assert_eq!(
        d.decode_section(8, &hex("0000 d1"), &mut out),
        Ok(Decoded::Blocked { required: 0 })
    );
    assert_eq!(
        d.decode_section(4, &hex("0000 d1"), &mut out),
        Ok(Decoded::Done)
    );
    assert_eq!(d.poll_unblocked(&mut out), Some((8, Ok(()))));
    assert_eq!(
        (pairs(&out), out.unknown_fields()),
        (p(&[(":path", "/")]), 1)
    );
    assert_eq!(d.poll_unblocked(&mut out), Some((8, Ok(()))));
    assert_eq!(pairs(&out), p(&[(":method", "GET")]));
    assert_eq!((d.poll_unblocked(&mut out), d.blocked_streams()), (None, 0));
}

#[test]
fn never_indexed_bit_is_kept() {
    let mut d = Decoder::with_settings(220, 0);
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    // Base 1. Literal with static name (N=1), literal name (N=1), post-base name (N=1),
    // and a relative dynamic name (N=0).
    let block = hex("0380 7100 3161 0162 0800 4000");
    let mut out = HeaderList::new();
    assert_eq!(d.decode_section(0, &block, &mut out), Ok(Decoded::Done));
    assert_eq!(
        pairs(&out),
        p(&[(":path", ""), ("a", "b"), (":path", ""), (":authority", "")])
    );
    let never: Vec<bool> = (0..out.len()).map(|i| out.never_indexed(i)).collect();
    assert_eq!(never, [true, true, true, false]);
}

#[test]
fn header_list_cap_keeps_fields_before_it() {
    let mut d = Decoder::with_settings(0, 0);
    d.set_max_header_list_size(100);
    let mut out = HeaderList::new();
    // :path / (38), :method GET (42), then :authority (42) passes 100.
    assert_eq!(
        d.decode_section(0, &hex("0000 c1 d1 c0"), &mut out),
        Err(QpackError::HeaderListTooLarge { limit: 100 })
    );
    assert_eq!(pairs(&out), p(&[(":path", "/"), (":method", "GET")]));
}

#[test]
fn truncated_sections_at_every_offset() {
    let mut d = Decoder::with_settings(220, 100);
    d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
    d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
    let mut out = HeaderList::new();
    let mut enc = TestEncoder::new(220, 220, &mut Vec::new());
    enc.huffman = true;
    enc.index = false;
    let mut block = Vec::new();
    enc.encode(
        &[
            (b"user-agent", b"Mozilla/5.0 (X11) Gecko Firefox"),
            (b"x-id", b"12345"),
        ],
        &mut Vec::new(),
        &mut block,
    );
    let blocks = [
        hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"),
        hex("0381 10 11"),
        hex("0400 80 c1 81 5101 61 2361 6263 0162"),
        block,
    ];
    for b in &blocks {
        for cut in 0..b.len() {
            match d.decode_section(0, &b[..cut], &mut out) {
                Ok(Decoded::Done) => {}
                Err(QpackError::Truncated | QpackError::HuffmanPadding) => {}
                other => panic!("cut {cut} of {b:02x?}: {other:?}"),
            }
        }
        assert_eq!(d.decode_section(0, b, &mut out), Ok(Decoded::Done));
    }
}

// ---- a small encoder for round trips ----

/// Encodes field lists the way a simple real encoder would: exact static matches indexed,
/// other fields inserted (by static or dynamic name reference, literal name, or Duplicate
/// of an old entry) when they fit, then referenced from Base (relative) or past it
/// (post-base); the rest as literals with a name reference or a literal name.
pub(crate) struct TestEncoder {
    max_entries: u64,
    capacity: usize,
    /// Oldest first.
    entries: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    inserted: u64,
    pub huffman: bool,
    pub index: bool,
    pub post_base: bool,
    pub never_indexed: bool,
}

impl TestEncoder {
    pub(crate) fn new(max_capacity: usize, capacity: usize, enc: &mut Vec<u8>) -> TestEncoder {
        if capacity > 0 {
            encode_int(enc, 0x20, 5, capacity);
        }
        TestEncoder {
            max_entries: (max_capacity / 32) as u64,
            capacity,
            entries: VecDeque::new(),
            size: 0,
            inserted: 0,
            huffman: false,
            index: true,
            post_base: false,
            never_indexed: false,
        }
    }

    fn string(&self, out: &mut Vec<u8>, flags: u8, prefix: u8, s: &[u8]) {
        if self.huffman && huffman::encoded_len(s) < s.len() {
            encode_int(out, flags | 1 << prefix, prefix, huffman::encoded_len(s));
            huffman::encode(s, out);
        } else {
            encode_int(out, flags, prefix, s.len());
            out.extend_from_slice(s);
        }
    }

    fn first_absolute(&self) -> u64 {
        self.inserted - self.entries.len() as u64
    }

    fn find(&self, name: &[u8], value: Option<&[u8]>) -> Option<u64> {
        let i = self
            .entries
            .iter()
            .rposition(|(n, v)| n == name && value.is_none_or(|value| v == value))?;
        Some(self.first_absolute() + i as u64)
    }

    fn static_find(name: &[u8], value: Option<&[u8]>) -> Option<usize> {
        static_table::STATIC
            .iter()
            .position(|(n, v)| *n == name && value.is_none_or(|value| *v == value))
    }

    fn insert(&mut self, enc: &mut Vec<u8>, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + 32;
        if size > self.capacity {
            return;
        }
        // Relative indices count from the newest entry before this insertion.
        let newest = self.inserted.wrapping_sub(1);
        if let Some(a) = self.find(name, Some(value)) {
            encode_int(enc, 0x00, 5, (newest - a) as usize);
        } else if let Some(i) = Self::static_find(name, None) {
            encode_int(enc, 0xc0, 6, i);
            self.string(enc, 0, 7, value);
        } else if let Some(a) = self.find(name, None) {
            encode_int(enc, 0x80, 6, (newest - a) as usize);
            self.string(enc, 0, 7, value);
        } else {
            self.string(enc, 0x40, 5, name);
            self.string(enc, 0, 7, value);
        }
        while self.size + size > self.capacity {
            let (n, v) = self.entries.pop_front().unwrap();
            self.size -= n.len() + v.len() + 32;
        }
        self.entries.push_back((name.to_vec(), value.to_vec()));
        self.size += size;
        self.inserted += 1;
    }

    /// Appends the encoder stream instructions to `enc` and the section to `block`.
    pub(crate) fn encode(
        &mut self,
        fields: &[(&[u8], &[u8])],
        enc: &mut Vec<u8>,
        block: &mut Vec<u8>,
    ) {
        let start = self.inserted;
        if self.index {
            for &(n, v) in fields {
                if Self::static_find(n, Some(v)).is_some() {
                    continue;
                }
                match self.find(n, Some(v)) {
                    // Duplicate the oldest entry, as an encoder refreshing it would.
                    Some(a) if a == self.first_absolute() && self.entries.len() > 1 => {
                        self.insert(enc, n, v)
                    }
                    Some(_) => {}
                    None => self.insert(enc, n, v),
                }
            }
        }
        let base = if self.post_base { start } else { self.inserted };
        let mut lines = Vec::new();
        let mut required = 0;
        let n_bit = |set: u8| if self.never_indexed { set } else { 0 };
        for &(n, v) in fields {
            if let Some(i) = Self::static_find(n, Some(v)) {
                encode_int(&mut lines, 0xc0, 6, i);
            } else if let Some(a) = self.find(n, Some(v)) {
                required = required.max(a + 1);
                if a < base {
                    encode_int(&mut lines, 0x80, 6, (base - 1 - a) as usize);
                } else {
                    encode_int(&mut lines, 0x10, 4, (a - base) as usize);
                }
            } else if let Some(i) = Self::static_find(n, None) {
                encode_int(&mut lines, 0x50 | n_bit(0x20), 4, i);
                self.string(&mut lines, 0, 7, v);
            } else if let Some(a) = self.find(n, None) {
                required = required.max(a + 1);
                if a < base {
                    encode_int(&mut lines, 0x40 | n_bit(0x20), 4, (base - 1 - a) as usize);
                } else {
                    encode_int(&mut lines, n_bit(0x08), 3, (a - base) as usize);
                }
                self.string(&mut lines, 0, 7, v);
            } else {
                self.string(&mut lines, 0x20 | n_bit(0x10), 3, n);
                self.string(&mut lines, 0, 7, v);
            }
        }
        let encoded = if required == 0 {
            0
        } else {
            required % (2 * self.max_entries) + 1
        };
        encode_int(block, 0, 8, encoded as usize);
        if required == 0 {
            block.push(0);
        } else if base >= required {
            encode_int(block, 0x00, 7, (base - required) as usize);
        } else {
            encode_int(block, 0x80, 7, (required - base - 1) as usize);
        }
        block.extend_from_slice(&lines);
    }
}

/// Encodes `sections`, delivers each section before or after its encoder bytes (split at
/// `cuts`), and checks every decoded list.
fn round_trip(
    sections: &[Vec<(Vec<u8>, Vec<u8>)>],
    max_capacity: usize,
    capacity: usize,
    flags: u8,
    cuts: &[usize],
) -> QpackStats {
    let mut enc = Vec::new();
    let mut e = TestEncoder::new(max_capacity, capacity, &mut enc);
    e.huffman = flags & 1 != 0;
    e.index = flags & 2 == 0;
    e.never_indexed = flags & 4 != 0;
    let mut d = Decoder::with_settings(max_capacity as u64, 100);
    d.handle_encoder_stream(&enc).unwrap();
    let mut out = HeaderList::new();
    let mut cut = cuts.iter().cycle();
    for (i, fields) in sections.iter().enumerate() {
        e.post_base = (flags >> 3) as usize & (i + 1) != 0;
        let fields: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let (mut enc, mut block) = (Vec::new(), Vec::new());
        e.encode(&fields, &mut enc, &mut block);
        let stream = 4 * i as u64;
        let want: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        let early = i % 2 == 1;
        let mut blocked = false;
        if early {
            match d.decode_section(stream, &block, &mut out).unwrap() {
                Decoded::Done => assert_eq!(pairs(&out), want),
                Decoded::Blocked { .. } => blocked = true,
            }
        }
        let mut rest = enc.as_slice();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).clamp(1, rest.len());
            d.handle_encoder_stream(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        if blocked {
            assert_eq!(d.poll_unblocked(&mut out), Some((stream, Ok(()))));
            assert_eq!(pairs(&out), want);
        } else if !early {
            assert_eq!(
                d.decode_section(stream, &block, &mut out),
                Ok(Decoded::Done)
            );
            assert_eq!(pairs(&out), want);
        }
        assert!(d.poll_unblocked(&mut out).is_none());
        assert_eq!(d.insert_count(), e.inserted);
        assert_eq!(d.table_size(), e.size);
    }
    assert_eq!(d.stats().sections_failed, 0);
    assert_eq!(d.stats().overstated_required, 0);
    *d.stats()
}

fn field() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let names = prop::sample::select(vec![
        &b":path"[..],
        b":authority",
        b":method",
        b"user-agent",
        b"cookie",
        b"x-custom",
        b"content-type",
        b"accept",
    ]);
    let values = prop::sample::select(vec![
        &b"/"[..],
        b"GET",
        b"text/css",
        b"*/*",
        b"www.example.com",
        b"a=1; b=2",
        b"",
    ]);
    (
        prop_oneof![
            names.prop_map(|n| n.to_vec()),
            "[a-z-]{1,12}".prop_map(String::into_bytes)
        ],
        prop_oneof![
            values.prop_map(|v| v.to_vec()),
            prop::collection::vec(any::<u8>(), 0..40)
        ],
    )
}

#[test]
fn round_trip_fixed() {
    let s = |f: &[(&str, &str)]| -> Vec<(Vec<u8>, Vec<u8>)> {
        f.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    };
    let sections = vec![
        s(&[
            (":method", "GET"),
            (":path", "/a"),
            ("x-a", "1"),
            ("x-b", "2"),
        ]),
        s(&[
            (":method", "GET"),
            (":path", "/b"),
            ("x-a", "1"),
            ("x-b", "3"),
        ]),
        s(&[("x-a", "1"), ("x-b", "2"), ("x-c", "4"), (":path", "/a")]),
        s(&[("x-a", "1"), ("x-a", "1"), ("cookie", "z"), ("x-a", "5")]),
    ];
    let mut total = QpackStats::default();
    for flags in 0..32 {
        for capacity in [0, 40, 100, 220, 4096] {
            let s = round_trip(&sections, 4096, capacity, flags, &[1, 3, 7, 1000]);
            total.sections += s.sections;
            total.sections_blocked += s.sections_blocked;
            total.inserts += s.inserts;
            total.duplicates += s.duplicates;
        }
    }
    // Every path was taken: blocked sections, inserts and duplicates.
    assert_eq!(total.sections, 32 * 5 * 4);
    assert!(
        total.sections_blocked > 0 && total.duplicates > 0,
        "{total:?}"
    );
    assert!(total.inserts > total.duplicates);
}

proptest! {
    #[test]
    fn round_trips(
        sections in prop::collection::vec(prop::collection::vec(field(), 0..8), 1..12),
        capacity in prop_oneof![Just(0usize), 33usize..300, Just(4096)],
        flags in 0u8..32,
        cuts in prop::collection::vec(1usize..20, 1..6),
    ) {
        round_trip(&sections, 4096, capacity, flags, &cuts);
    }

    #[test]
    fn random_bytes_never_panic(
        enc in prop::collection::vec(any::<u8>(), 0..200),
        blocks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..60), 0..8),
        dec in prop::collection::vec(any::<u8>(), 0..40),
        partial in any::<bool>(),
    ) {
        let mut d = Decoder::with_settings(4096, 3);
        if partial {
            d.desynchronise();
        }
        let mut out = HeaderList::new();
        for (i, b) in blocks.iter().enumerate() {
            let _ = d.decode_section(i as u64 % 5, b, &mut out);
        }
        for chunk in enc.chunks(7) {
            let _ = d.handle_encoder_stream(chunk);
            while d.poll_unblocked(&mut out).is_some() {}
        }
        let _ = d.handle_decoder_stream(&dec);
        for b in &blocks {
            let _ = d.decode_section(1, b, &mut out);
        }
        prop_assert!(d.table_size() <= d.table_capacity());
        prop_assert!(d.blocked_streams() <= 3);
    }

    #[test]
    fn valid_prefix_random_lines_never_panic(
        lines in prop::collection::vec(any::<u8>(), 0..80),
        prefix in prop::sample::select(vec!["0000", "0381", "0500", "0300", "0201"]),
    ) {
        let mut d = Decoder::with_settings(220, 100);
        d.handle_encoder_stream(&hex(B2_ENCODER)).unwrap();
        d.handle_encoder_stream(&hex(B3_ENCODER)).unwrap();
        let mut block = hex(prefix);
        block.extend_from_slice(&lines);
        let mut out = HeaderList::new();
        let _ = d.decode_section(0, &block, &mut out);
        prop_assert_eq!(d.table_size(), 160);
    }
}
