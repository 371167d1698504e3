//! DNS over HTTPS (RFC 8484) pieces: the `dns` query parameter of a GET and its base64url.

use crate::dissect::stream::Dir;
use crate::time::Ts;

/// A DNS message carried by HTTP/1.x (RFC 8484), in DNS wire format, for the DNS decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DohMessage {
    /// `ToServer` for the query, `ToClient` for the answer.
    pub dir: Dir,
    /// When the message was whole: the end of the request (GET target or POST body) or of
    /// the response body.
    pub ts: Ts,
    /// The DNS message (a GET's `dns` parameter already base64url-decoded).
    pub bytes: Vec<u8>,
    /// Index of the exchange in this connection's order (as
    /// [`super::Http1Dissector::first_index`] counts).
    pub exchange_index: usize,
}

/// The value of the `dns` parameter in a request-target's query, if any.
pub(super) fn dns_param(target: &str) -> Option<&str> {
    let (_, query) = target.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|kv| kv.strip_prefix("dns="))
}

fn b64url_value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes base64url (RFC 4648 section 5) without padding, as RFC 8484 section 6 sends it;
/// trailing `=` padding and the standard alphabet's `+` `/` are tolerated. `None` when the
/// text is not base64 or decodes to more than `cap` bytes.
pub(super) fn base64url_decode(text: &str, cap: usize) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 || text.len() / 4 * 3 > cap {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in text {
        acc = (acc << 6) | b64url_value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (out.len() <= cap).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8484_get_example_decodes() {
        // RFC 8484 section 4.1.1: the query for www.example.com, type A, id 0.
        let target = "/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB";
        let q = base64url_decode(dns_param(target).unwrap(), 512).unwrap();
        assert_eq!(q.len(), 33);
        assert_eq!(&q[..4], &[0, 0, 1, 0]);
        assert_eq!(&q[12..17], b"\x03www\x07");
        assert_eq!(&q[29..], &[0, 1, 0, 1]);
    }

    #[test]
    fn param_is_found_among_others() {
        assert_eq!(dns_param("/q?ct=x&dns=AAAB#frag"), Some("AAAB"));
        assert_eq!(dns_param("/q?xdns=AAAB"), None);
        assert_eq!(dns_param("/q"), None);
    }

    #[test]
    fn malformed_base64_is_refused() {
        assert_eq!(base64url_decode("A", 100), None);
        assert_eq!(base64url_decode("AA*A", 100), None);
        assert_eq!(base64url_decode("AAAAAAAA", 5), None);
        assert_eq!(base64url_decode("", 5), Some(vec![]));
        assert_eq!(base64url_decode("_-8", 5), Some(vec![0xff, 0xef]));
        assert_eq!(base64url_decode("AQ==", 5), Some(vec![1]));
    }
}
