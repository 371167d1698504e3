//! The binary-to-text encodings DNS presentation and DoH need (RFC 4648): base64 with
//! padding (DNSKEY, RRSIG, SVCB `ech`), base64url decoding (RFC 8484 GET `dns=`), base32hex
//! without padding (NSEC3 hashes, RFC 5155 §3.3) and uppercase hex.
//!
//! Encoders append to a caller's `String`; the decoder rejects any byte outside its
//! alphabet and returns `None`, never panics.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32HEX: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the standard base64 of `data`, with `=` padding (RFC 4648 §4).
pub fn encode_base64(data: &[u8], out: &mut String) {
    out.reserve(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(B64[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
}

fn url_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes base64url (RFC 4648 §5). RFC 8484 §4.1 says the padding "MUST NOT be
/// included"; trailing `=` are tolerated anyway. Leftover bits in the last sextet are
/// ignored. `None` for any byte outside the alphabet, an impossible length (4n+1), or an
/// output longer than `cap` (checked before decoding).
pub fn decode_base64url(text: &[u8], cap: usize) -> Option<Vec<u8>> {
    let end = text.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let bytes = &text[..end];
    if bytes.len() % 4 == 1 || bytes.len() / 4 * 3 + (bytes.len() % 4).saturating_sub(1) > cap {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            n |= url_value(c)? << (18 - 6 * i as u32);
        }
        // Bytes: 2 sextets give 1 byte, 3 give 2, 4 give 3.
        let produced = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + produced]);
    }
    Some(out)
}

/// Appends base32hex without padding, uppercase (RFC 4648 §7; RFC 5155 §3.3 drops the padding).
pub fn encode_base32hex(data: &[u8], out: &mut String) {
    for chunk in data.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let n = block.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // 1..=5 bytes give 2, 4, 5, 7, 8 characters.
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(char::from(B32HEX[((n >> (35 - 5 * i)) & 31) as usize]));
        }
    }
}

/// Appends `data` as uppercase hex, as dig prints digests and RFC 3597 data.
pub fn encode_hex(data: &[u8], out: &mut String) {
    out.reserve(data.len() * 2);
    for &b in data {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(data: &[u8]) -> String {
        let mut s = String::new();
        encode_base64(data, &mut s);
        s
    }

    #[test]
    fn base64_rfc4648_vectors() {
        let v = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in v {
            assert_eq!(b64(plain.as_bytes()), enc);
            assert_eq!(
                decode_base64url(enc.as_bytes(), 64).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(b64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn base64url_alphabet_and_rejects() {
        assert_eq!(decode_base64url(b"-_8", 10).unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64url(b"-_8", 1), None);
        assert_eq!(decode_base64url(b"AAAAAAAA", 5), None);
        assert_eq!(decode_base64url(b"AAAAAAAA", 6).unwrap().len(), 6);
        assert_eq!(decode_base64url(b"+/8", 10), None);
        assert_eq!(decode_base64url(b"Zm9vY", 10), None);
        assert_eq!(decode_base64url(b"Zm 9v", 10), None);
        assert_eq!(decode_base64url(b"", 10).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn base64url_decodes_rfc8484_example() {
        // RFC 8484 §4.1.1: query for www.example.com A, id 0.
        let q = decode_base64url(b"AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", 512).unwrap();
        assert_eq!(q.len(), 33);
        assert_eq!(&q[..6], &[0, 0, 1, 0, 0, 1]);
        assert_eq!(&q[12..16], b"\x03www");
        assert_eq!(&q[29..], &[0, 1, 0, 1]);
    }

    #[test]
    fn base32hex_rfc4648_vectors() {
        let v = [
            ("", ""),
            ("f", "CO"),
            ("fo", "CPNG"),
            ("foo", "CPNMU"),
            ("foob", "CPNMUOG"),
            ("fooba", "CPNMUOJ1"),
            ("foobar", "CPNMUOJ1E8"),
        ];
        for (plain, enc) in v {
            let mut s = String::new();
            encode_base32hex(plain.as_bytes(), &mut s);
            assert_eq!(s, enc);
        }
    }

    #[test]
    fn hex_is_uppercase() {
        let mut s = String::new();
        encode_hex(&[0x0a, 0x00, 0x00, 0xff], &mut s);
        assert_eq!(s, "0A0000FF");
    }
}
