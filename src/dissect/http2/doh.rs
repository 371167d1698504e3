//! DNS over HTTPS (RFC 8484) helpers: which exchanges carry DNS messages, and the base64url
//! `dns` parameter of GET requests.

use crate::dissect::stream::Dir;
use crate::time::Ts;

/// Largest DNS message kept from one DoH request or response body.
pub const MAX_DOH_MESSAGE: usize = 64 * 1024;

/// A DNS message carried by HTTP/2, in wire format, for the DNS dissector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DohMessage {
    /// `ToServer` for a query, `ToClient` for a response.
    pub dir: Dir,
    /// Capture time of the frame that completed the message: the request HEADERS (GET), the
    /// frame with END_STREAM (POST body, response body).
    pub ts: Ts,
    /// HTTP/2 stream that carried it (pairs a response with its query).
    pub stream: u32,
    /// The DNS message (GET's `dns` parameter already base64url-decoded).
    pub bytes: Vec<u8>,
}

/// Whether a Content-Type or Accept value names `application/dns-message` (RFC 8484 §6).
pub fn is_dns_message(value: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|item| {
        let media = item.split(|&b| b == b';').next().unwrap_or_default();
        media
            .trim_ascii()
            .eq_ignore_ascii_case(b"application/dns-message")
    })
}

/// The `dns` query parameter of a `:path` (RFC 8484 §4.1), still base64url-encoded.
pub fn dns_param(path: &[u8]) -> Option<&[u8]> {
    let q = path.iter().position(|&b| b == b'?')?;
    let query = path.get(q + 1..)?;
    let query = match query.iter().position(|&b| b == b'#') {
        Some(h) => &query[..h],
        None => query,
    };
    query
        .split(|&b| b == b'&')
        .find_map(|kv| kv.strip_prefix(b"dns="))
}

/// Decodes base64url without padding (RFC 4648 §5; RFC 8484 §4.1 "padding characters for
/// base64url MUST NOT be included", trailing `=` are tolerated). `None` on a bad character,
/// an impossible length, or an output above `max`.
pub fn base64url_decode(s: &[u8], max: usize) -> Option<Vec<u8>> {
    let s = match s.iter().rposition(|&b| b != b'=') {
        Some(i) => &s[..=i],
        None => &s[..0],
    };
    if s.len() % 4 == 1 || s.len() / 4 * 3 > max {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (out.len() <= max).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(is_dns_message(b"application/dns-message"));
        assert!(is_dns_message(b"text/html, Application/DNS-Message; q=0.9"));
        assert!(!is_dns_message(b"application/dns-json"));
        assert!(!is_dns_message(b""));
    }

    #[test]
    fn dns_parameter() {
        assert_eq!(dns_param(b"/dns-query?dns=AAAB"), Some(&b"AAAB"[..]));
        assert_eq!(dns_param(b"/q?ct=x&dns=AB-_#frag"), Some(&b"AB-_"[..]));
        assert_eq!(dns_param(b"/dns-query"), None);
        assert_eq!(dns_param(b"/q?xdns=1"), None);
    }

    #[test]
    fn base64url() {
        // RFC 8484 §4.1.1 example query for www.example.com A.
        let q = base64url_decode(b"AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", 512).unwrap();
        assert_eq!(q.len(), 33);
        assert_eq!(&q[12..16], b"\x03www");
        assert_eq!(base64url_decode(b"-_8", 10), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode(b"-_8=", 10), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode(b"A", 10), None);
        assert_eq!(base64url_decode(b"AA+A", 10), None);
        assert_eq!(base64url_decode(b"AAAAAAAA", 3), None);
        assert_eq!(base64url_decode(b"", 3), Some(vec![]));
    }
}
