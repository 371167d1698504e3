//! DNS over HTTPS (RFC 8484): the one place that knows how HTTP carries DNS messages. The
//! HTTP dissectors (HTTP/1.x, HTTP/2, HTTP/3) find the exchanges with these helpers and hand
//! out [`DohMessage`]s; the pipeline gives their bytes to the DNS parser.

use super::encoding::decode_base64url;
use crate::net::flow::Dir;
use crate::time::Ts;

/// RFC 8484 §6: the media type of DoH request and response bodies.
pub const DOH_MEDIA_TYPE: &str = "application/dns-message";

/// Largest DNS message kept from one DoH request or response (the largest DNS message).
pub const MAX_DOH_MESSAGE: usize = 64 * 1024;

/// A DNS message carried by HTTP, in DNS wire format, for the DNS parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DohMessage {
    /// `ToServer` for the query, `ToClient` for the answer.
    pub dir: Dir,
    /// When the message was whole: the end of the request (GET target or POST body) or of
    /// the response body.
    pub ts: Ts,
    /// The DNS message (a GET's `dns` parameter already base64url-decoded).
    pub bytes: Vec<u8>,
    /// The exchange that carried it: its index on an HTTP/1.x connection, its stream id on
    /// HTTP/2 and HTTP/3.
    pub exchange: u64,
}

/// The `dns` parameter of a request target's query (RFC 8484 §4.1), still encoded.
pub fn dns_param(target: &[u8]) -> Option<&[u8]> {
    let q = target.iter().position(|&b| b == b'?')?;
    let query = target.get(q + 1..)?;
    let query = match query.iter().position(|&b| b == b'#') {
        Some(h) => &query[..h],
        None => query,
    };
    query
        .split(|&b| b == b'&')
        .find_map(|kv| kv.strip_prefix(b"dns="))
}

/// The DNS message in a GET request's `dns` parameter: "the content of the 'dns' parameter
/// is the DNS request ... encoded with base64url" (RFC 8484 §4.1). A percent-encoded `=`
/// padding (`%3D`) is tolerated. `None` when there is no parameter, it is empty, not
/// base64url, or decodes to more than `cap` bytes.
pub fn get_query(target: &[u8], cap: usize) -> Option<Vec<u8>> {
    let mut v = dns_param(target)?;
    while let Some(rest) = v.strip_suffix(b"%3D").or_else(|| v.strip_suffix(b"%3d")) {
        v = rest;
    }
    if v.is_empty() {
        return None;
    }
    decode_base64url(v, cap)
}

/// One media type (parameters and case ignored) naming DoH's.
pub fn is_dns_media_type(member: &[u8]) -> bool {
    member
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .eq_ignore_ascii_case(DOH_MEDIA_TYPE.as_bytes())
}

/// A `Content-Type` or `Accept` value (a comma-separated list) naming DoH's media type.
pub fn is_dns_message(value: &[u8]) -> bool {
    value.split(|&b| b == b',').any(is_dns_media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameter() {
        let q = get_query(
            b"/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB",
            512,
        )
        .unwrap();
        assert_eq!(&q[..4], &[0, 0, 1, 0]);
        let want = vec![0, 0, 1, 0];
        assert_eq!(
            get_query(b"/q?ct=x&dns=AAABAA&z=1", 512),
            Some(want.clone())
        );
        assert_eq!(get_query(b"/q?dns=AAABAA%3D%3D", 512), Some(want.clone()));
        assert_eq!(get_query(b"/q?dns=AAABAA==#frag", 512), Some(want));
        assert_eq!(
            get_query(b"/q?ct=x&dns=AB-_#frag", 512),
            Some(vec![0x00, 0x1f, 0xbf])
        );
        assert_eq!(get_query(b"/dns-query", 512), None);
        assert_eq!(get_query(b"/dns-query?name=example.com&type=A", 512), None);
        assert_eq!(get_query(b"/dns-query?xdns=AAAB", 512), None);
        assert_eq!(get_query(b"/dns-query?dns=", 512), None);
        assert_eq!(get_query(b"/dns-query?dns", 512), None);
        assert_eq!(get_query(b"/dns-query?dns=AA+B", 512), None);
        assert_eq!(get_query(b"/dns-query?dns=AAABA", 512), None);
        assert_eq!(get_query(b"/q?dns=AAAAAAAA", 5), None);
    }

    #[test]
    fn media_type() {
        assert!(is_dns_message(b"application/dns-message"));
        assert!(is_dns_message(b"text/html, Application/DNS-Message; q=0.9"));
        assert!(is_dns_media_type(b" application/dns-message ; charset=x"));
        assert!(!is_dns_message(b"application/dns-json"));
        assert!(!is_dns_message(b""));
    }
}
