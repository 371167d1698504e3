//! DNS over HTTPS (RFC 8484) helpers: the message of a GET request's `dns` parameter, and
//! the media type that marks POST bodies and responses.

use super::encoding::decode_base64url;

/// RFC 8484 §6: the media type of DoH request and response bodies.
pub const DOH_MEDIA_TYPE: &str = "application/dns-message";

/// Longest `dns=` value decoded: base64url of a 65535-byte message (the largest DNS message).
const MAX_PARAM_CHARS: usize = 65_535_usize.div_ceil(3) * 4;

/// The DNS message in the `dns` query parameter of an RFC 8484 §4.1 GET request:
/// "the content of the 'dns' parameter is the DNS request ... encoded with base64url".
///
/// `path_and_query` is the request target (`/dns-query?dns=AAAB...`). `None` when there is
/// no `dns` parameter or its value is not base64url. A percent-encoded `=` padding
/// (`%3D`) is tolerated; the parameter name is matched exactly, as RFC 6570 templates
/// write it.
pub fn doh_get_param(path_and_query: &str) -> Option<Vec<u8>> {
    let (_, query) = path_and_query.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("dns=").or((pair == "dns").then_some("")))?;
    if value.len() > MAX_PARAM_CHARS + 6 {
        return None;
    }
    let mut v = value;
    while let Some(rest) = v.strip_suffix("%3D").or_else(|| v.strip_suffix("%3d")) {
        v = rest;
    }
    if v.is_empty() {
        return None;
    }
    decode_base64url(v)
}

/// A `Content-Type` or `Accept` value naming DoH's media type (parameters and case ignored).
pub fn is_doh_media_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(DOH_MEDIA_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8484_get_example() {
        // RFC 8484 §4.1.1, first example.
        let q =
            doh_get_param("/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB").unwrap();
        let m = crate::dissect::dns::parse_message(&q).unwrap();
        assert!(m.is_complete());
        assert_eq!(m.questions[0].name, "www.example.com");
        assert_eq!(m.questions[0].qtype.name(), "A");
    }

    #[test]
    fn other_params_padding_and_fragment() {
        let want = vec![0u8, 0, 1, 0];
        assert_eq!(doh_get_param("/q?ct=x&dns=AAABAA&z=1"), Some(want.clone()));
        assert_eq!(doh_get_param("/q?dns=AAABAA%3D%3D"), Some(want.clone()));
        assert_eq!(doh_get_param("/q?dns=AAABAA==#frag"), Some(want));
    }

    #[test]
    fn missing_or_invalid() {
        assert_eq!(doh_get_param("/dns-query"), None);
        assert_eq!(doh_get_param("/dns-query?name=example.com&type=A"), None);
        assert_eq!(doh_get_param("/dns-query?xdns=AAAB"), None);
        assert_eq!(doh_get_param("/dns-query?dns="), None);
        assert_eq!(doh_get_param("/dns-query?dns"), None);
        assert_eq!(doh_get_param("/dns-query?dns=AA+B"), None);
        assert_eq!(doh_get_param("/dns-query?dns=AAABA"), None);
    }

    #[test]
    fn media_type() {
        assert!(is_doh_media_type("application/dns-message"));
        assert!(is_doh_media_type("Application/DNS-Message; charset=x"));
        assert!(!is_doh_media_type("application/dns-json"));
    }
}
