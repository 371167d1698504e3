//! HPACK Huffman decoding (RFC 7541 §5.2 and Appendix B).
//!
//! The code of Appendix B is canonical (codes of one length are consecutive and ordered by
//! symbol, shorter codes first), so a long code is decoded by comparing its prefixes with the
//! first code of each length. Short codes, which carry nearly all header text, go through
//! `FAST` (32 KiB): indexed by the next 13 bits, each entry gives the one or two symbols
//! those bits start with and how many bits they take. The main loop keeps at least 56 unread
//! bits in a 64-bit register (refilled with one 8-byte load, which may read into the rest of
//! the header block) and decodes three entries per refill without branching on the symbol
//! count. The last bits go through a careful loop that checks the end. All tables are built
//! at compile time from the code list below, which is the only source of truth.
//!
//! RFC 7541 §5.2: "A padding strictly longer than 7 bits MUST be treated as a decoding error.
//! A padding not corresponding to the most significant bits of the code for the EOS symbol
//! MUST be treated as a decoding error. A Huffman-encoded string literal containing the EOS
//! symbol MUST be treated as a decoding error." No code is all 1-bits (they are all prefixes
//! of EOS), so a string ends validly when at most 7 bits remain and they are all 1-bits.

/// Why a Huffman string was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuffmanError {
    /// The EOS code appeared inside the string.
    Eos,
    /// The string ended in padding longer than 7 bits or not made of 1-bits.
    Padding,
}

/// `(code, bit length)` for symbols 0..=255 and EOS (256), RFC 7541 Appendix B.
const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

const EOS: u16 = 256;
const MAX_LEN: usize = 30;
/// Width of the [`FAST`] index.
const FAST_BITS: u32 = 13;

/// Canonical decoding data: per code length, the first code and where its symbols start in
/// `sorted` (symbols ordered by code length, then value).
struct Canonical {
    first_code: [u32; MAX_LEN + 1],
    count: [u32; MAX_LEN + 1],
    first_index: [u32; MAX_LEN + 1],
    sorted: [u16; 257],
}

const CANON: Canonical = build_canonical();
/// The same data for run-time lookups (one copy in read-only memory).
static CANON_RT: Canonical = CANON;

const fn build_canonical() -> Canonical {
    let mut c = Canonical {
        first_code: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        first_index: [0; MAX_LEN + 1],
        sorted: [0; 257],
    };
    let mut n = 0usize;
    let mut len = 1usize;
    while len <= MAX_LEN {
        c.first_index[len] = n as u32;
        let mut sym = 0usize;
        while sym < 257 {
            if CODES[sym].1 as usize == len {
                if c.count[len] == 0 {
                    c.first_code[len] = CODES[sym].0;
                }
                // Canonical: consecutive codes in symbol order.
                assert!(CODES[sym].0 == c.first_code[len] + c.count[len]);
                c.count[len] += 1;
                c.sorted[n] = sym as u16;
                n += 1;
            }
            sym += 1;
        }
        len += 1;
    }
    assert!(n == 257);
    c
}

/// The symbol whose code starts the `width`-bit window `w` (MSB first), with its length, or
/// `None` when no code of `min_len..=width` bits starts it.
const fn canonical_decode(
    canon: &Canonical,
    w: u32,
    width: u32,
    min_len: u32,
) -> Option<(u16, u32)> {
    let mut len = min_len;
    while len <= width {
        let c = w >> (width - len);
        let k = c.wrapping_sub(canon.first_code[len as usize]);
        if k < canon.count[len as usize] {
            return Some((
                canon.sorted[(canon.first_index[len as usize] + k) as usize],
                len,
            ));
        }
        len += 1;
    }
    None
}

/// Entry layout: bits 0..8 first symbol, 8..16 second symbol, 16..21 bits taken by the
/// entry's symbols, 21..26 length of the first code, 26..28 symbol count; `SLOW` when the
/// window starts with a code longer than 13 bits.
const SLOW: u32 = 1 << 31;

static FAST: [u32; 1 << FAST_BITS] = build_fast();

const fn build_fast() -> [u32; 1 << FAST_BITS] {
    let mut t = [0u32; 1 << FAST_BITS];
    let mut w = 0u32;
    while w < (1 << FAST_BITS) {
        t[w as usize] = match canonical_decode(&CANON, w, FAST_BITS, 5) {
            None => SLOW,
            Some((s1, l1)) => {
                let rest = FAST_BITS - l1;
                let tail = w & ((1 << rest) - 1);
                match canonical_decode(&CANON, tail, rest, 5) {
                    Some((s2, l2)) => {
                        s1 as u32 | (s2 as u32) << 8 | (l1 + l2) << 16 | l1 << 21 | 2 << 26
                    }
                    None => s1 as u32 | l1 << 16 | l1 << 21 | 1 << 26,
                }
            }
        };
        w += 1;
    }
    t
}

/// Decodes one symbol from the top of `acc`; `valid` bits of it are input, the others are
/// read as 1-bits. Returns the symbol and its length.
#[inline(always)]
fn one_symbol(acc: u64, valid: u32) -> (u16, u32) {
    let acc = if valid >= 64 {
        acc
    } else {
        acc | (u64::MAX >> valid)
    };
    let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
    if e & SLOW == 0 {
        return ((e & 0xff) as u16, (e >> 21) & 0x1f);
    }
    // Every 30-bit window starts with some code (the code is complete), so this finds one.
    let w = (acc >> (64 - MAX_LEN)) as u32;
    canonical_decode(&CANON_RT, w, MAX_LEN as u32, FAST_BITS + 1).unwrap_or((EOS, MAX_LEN as u32))
}

/// Room [`decode_into`] needs for `src_len` input bytes: every symbol takes at least 5 bits,
/// plus two bytes for the speculative two-symbol writes.
pub fn max_decoded_len(src_len: usize) -> usize {
    src_len * 8 / 5 + 2
}

/// Appends the Huffman decoding of `src` to `dst`. On error `dst` is left as it was.
pub fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let start = dst.len();
    dst.resize(start + max_decoded_len(src.len()), 0);
    match decode_into(src, src.len(), &mut dst[start..]) {
        Ok(n) => {
            dst.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Decodes the string `data[..len]` into the start of `out` and returns the length written.
/// The bytes of `data` after `len` (the rest of the header block) are never decoded, but the
/// main loop may load them with the string's last bytes, so short strings run on the fast
/// path too. With `out` shorter than [`max_decoded_len`] the output is cut (never a panic).
pub fn decode_into(data: &[u8], len: usize, out: &mut [u8]) -> Result<usize, HuffmanError> {
    let len = len.min(data.len());
    let src = &data[..len];
    let mut n = 0usize;
    let mut pos = 0usize;
    // Unread bits, MSB first; `bits` of them are counted (the ones below may already hold
    // the following input bytes, which later refills OR in again unchanged).
    let mut acc = 0u64;
    let mut bits = 0u32;
    let mut result = Ok(());

    while let Some(word) = data.get(pos..pos + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(word);
        acc |= u64::from_be_bytes(b) >> bits;
        // Count only the string's bytes; bits loaded past its end are never looked at.
        let take = ((63 - bits) >> 3).min((len - pos) as u32);
        pos += take as usize;
        bits += take * 8;
        if bits < 56 {
            break;
        }
        // bits >= 56: three entries of at most 13 bits, or up to two and a slow code of at
        // most 30 (56 - 2 * 13 = 30).
        let mut k = 0;
        while k < 3 {
            let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
            if e & SLOW != 0 {
                break;
            }
            if let Some(o) = out.get_mut(n..n + 2) {
                o[0] = e as u8;
                o[1] = (e >> 8) as u8;
            }
            n += ((e >> 26) & 3) as usize;
            let l = (e >> 16) & 0x1f;
            acc <<= l;
            bits -= l;
            k += 1;
        }
        if k < 3 {
            // bits >= 56 - 2 * 13 = 30.
            let (sym, l) = one_symbol(acc, bits);
            if sym == EOS {
                result = Err(HuffmanError::Eos);
                break;
            }
            if let Some(o) = out.get_mut(n) {
                *o = sym as u8;
            }
            n += 1;
            acc <<= l;
            bits -= l;
        }
    }

    // The last bytes (fewer than 8 unread): byte-wise refills, two-symbol entries while at
    // least 13 counted bits remain, then one symbol at a time, checking the end.
    while result.is_ok() {
        if bits < 32 {
            while bits <= 56 {
                match src.get(pos) {
                    Some(&byte) => {
                        acc |= (byte as u64) << (56 - bits);
                        bits += 8;
                        pos += 1;
                    }
                    None => break,
                }
            }
        }
        // From here, bits < 32 means the input is exhausted.
        if bits >= FAST_BITS {
            let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
            if e & SLOW == 0 {
                if let Some(o) = out.get_mut(n..n + 2) {
                    o[0] = e as u8;
                    o[1] = (e >> 8) as u8;
                }
                n += ((e >> 26) & 3) as usize;
                let l = (e >> 16) & 0x1f;
                acc <<= l;
                bits -= l;
                continue;
            }
        }
        if bits == 0 {
            break;
        }
        if bits <= 7 && acc >> (64 - bits) == (1u64 << bits) - 1 {
            // Valid padding: at most 7 bits, the most significant bits of EOS.
            break;
        }
        let (sym, l) = one_symbol(acc, bits);
        if l > bits {
            // The code would run past the end: the padding is too long or not all 1-bits.
            result = Err(HuffmanError::Padding);
        } else if sym == EOS {
            result = Err(HuffmanError::Eos);
        } else {
            if let Some(o) = out.get_mut(n) {
                *o = sym as u8;
            }
            n += 1;
            acc <<= l;
            bits -= l;
        }
    }

    result.map(|()| n.min(out.len()))
}

/// Huffman-encodes `src` onto `dst`, padding with 1-bits (tests build wire data with it).
#[cfg(test)]
pub(crate) fn encode(src: &[u8], dst: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in src {
        let (code, len) = CODES[b as usize];
        acc = (acc << len) | code as u64;
        bits += len as u32;
        while bits >= 8 {
            bits -= 8;
            dst.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        dst.push(((acc << (8 - bits)) | (0xff >> bits)) as u8);
    }
}

/// Length in bytes of the Huffman encoding of `src`.
#[cfg(test)]
pub(crate) fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| CODES[b as usize].1 as usize).sum();
    bits.div_ceil(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(src: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let mut v = Vec::new();
        decode(src, &mut v).map(|_| v)
    }

    #[test]
    fn rfc7541_c4_examples() {
        // C.4.1: "www.example.com"
        assert_eq!(
            dec(&[0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]).unwrap(),
            b"www.example.com"
        );
        // C.4.2: "no-cache"
        assert_eq!(
            dec(&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]).unwrap(),
            b"no-cache"
        );
        // C.4.3: "custom-value"
        assert_eq!(
            dec(&[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf]).unwrap(),
            b"custom-value"
        );
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        let mut enc = Vec::new();
        encode(&all, &mut enc);
        assert_eq!(enc.len(), encoded_len(&all));
        assert_eq!(dec(&enc).unwrap(), all);
        for b in 0..=255u8 {
            let mut e = Vec::new();
            encode(&[b, b, b], &mut e);
            assert_eq!(dec(&e).unwrap(), vec![b, b, b], "byte {b}");
        }
    }

    #[test]
    fn empty_string_is_valid() {
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn malformed_eos_in_string() {
        // EOS is 30 one-bits: 0xff 0xff 0xff 0xfc.. padded with ones.
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(HuffmanError::Eos));
        // 'a' (00011) then EOS.
        assert_eq!(dec(&[0x1f, 0xff, 0xff, 0xff, 0xff]), Err(HuffmanError::Eos));
    }

    #[test]
    fn malformed_padding_too_long() {
        // A full byte of 1-bits after a complete symbol is 8 bits of padding.
        let mut e = Vec::new();
        encode(b"a", &mut e); // 00011111: 5 bits + 3 of padding
        assert_eq!(dec(&e).unwrap(), b"a");
        e.push(0xff);
        assert_eq!(dec(&e), Err(HuffmanError::Padding));
        assert_eq!(dec(&[0xff]), Err(HuffmanError::Padding));
    }

    #[test]
    fn malformed_padding_not_ones() {
        // 'a' = 00011 then padding 000 (must be 111).
        assert_eq!(dec(&[0x18]), Err(HuffmanError::Padding));
        // 'a' then padding 110.
        assert_eq!(dec(&[0x1e]), Err(HuffmanError::Padding));
    }

    /// Bit-by-bit reference decoder straight from the code list.
    fn reference(src: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let mut out = Vec::new();
        let (mut code, mut len) = (0u32, 0u8);
        for i in 0..src.len() * 8 {
            code = code << 1 | ((src[i / 8] >> (7 - i % 8)) & 1) as u32;
            len += 1;
            if let Some(sym) = CODES.iter().position(|&(c, l)| l == len && c == code) {
                if sym == 256 {
                    return Err(HuffmanError::Eos);
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            }
        }
        if len > 7 || code != (1u32 << len) - 1 {
            return Err(HuffmanError::Padding);
        }
        Ok(out)
    }

    #[test]
    fn agrees_with_reference_on_random_and_encoded_input() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let len = (next() % 40) as usize;
            let v: Vec<u8> = if round % 2 == 0 {
                // Random bytes: mostly errors, of both kinds.
                (0..len).map(|_| next() as u8).collect()
            } else {
                // Valid encodings of random text, sometimes with a byte flipped or cut.
                let text: Vec<u8> = (0..len)
                    .map(|_| {
                        if next() % 4 == 0 {
                            next() as u8
                        } else {
                            b'a' + (next() % 26) as u8
                        }
                    })
                    .collect();
                let mut e = Vec::new();
                encode(&text, &mut e);
                match round % 6 {
                    1 => assert_eq!(dec(&e).unwrap(), text),
                    3 if !e.is_empty() => {
                        let i = (next() as usize) % e.len();
                        e[i] ^= 1 << (next() % 8);
                    }
                    5 if !e.is_empty() => e.truncate((next() as usize) % e.len()),
                    _ => {}
                }
                e
            };
            assert_eq!(dec(&v), reference(&v), "{v:02x?}");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        for len in 0..200 {
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            out.clear();
            let _ = decode(&v, &mut out);
            assert!(out.len() <= len * 8 / 5 + 1);
        }
    }
}
