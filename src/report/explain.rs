//! One-line meanings for the HTTP headers a reader of a page load cares about, as a
//! knowledgeable colleague would explain them. Pure functions: header name and value in,
//! a sentence out (`None` for headers not worth a word).

use crate::report::fmt::plural;

/// Explains a header; `name` is matched case-insensitively.
pub fn explain(name: &str, value: &str) -> Option<String> {
    let v = value.trim();
    let s = match name.to_ascii_lowercase().as_str() {
        "strict-transport-security" => hsts(v),
        "alt-svc" => alt_svc(v),
        "content-encoding" => format!("body compressed with {v}; the client decompresses it"),
        "transfer-encoding" if v.eq_ignore_ascii_case("chunked") => {
            "body sent in chunks: its length was not known when the response started".into()
        }
        "cache-control" => cache_control(v),
        "expires" => "when cached copies go stale".into(),
        "etag" => {
            "a version tag: a later request can send If-None-Match and get 304 Not Modified".into()
        }
        "last-modified" => {
            "a later request can send If-Modified-Since and get 304 Not Modified".into()
        }
        "connection" if v.eq_ignore_ascii_case("close") => {
            "the connection closes after this message".into()
        }
        "connection" if v.eq_ignore_ascii_case("keep-alive") => {
            "the connection stays open for more requests".into()
        }
        "keep-alive" => format!("idle connections are kept: {v}"),
        "upgrade-insecure-requests" => {
            "the browser prefers HTTPS: the server may redirect it there".into()
        }
        "x-frame-options" => match v.to_ascii_uppercase().as_str() {
            "DENY" => "may not be shown in a frame (clickjacking protection)".into(),
            "SAMEORIGIN" => "may be framed only by pages of the same origin".into(),
            _ => format!("framing restricted: {v}"),
        },
        "content-type" => format!("the body is {}", v.split(';').next().unwrap_or(v).trim()),
        "content-length" => match v.parse::<u64>() {
            Ok(n) => format!("the body is {n} bytes"),
            Err(_) => return None,
        },
        "location" => format!("go to {v} instead"),
        "upgrade" => format!("switch this connection to {v}"),
        "content-security-policy" => "limits where scripts, styles and frames may come from".into(),
        "vary" => format!("caches must key the response on {v} too"),
        _ => return None,
    };
    Some(s)
}

/// `1 day`, `2 hours`, `90 seconds`: a duration in whole seconds, in the largest unit
/// that divides it.
pub fn seconds(n: u64) -> String {
    match n {
        0 => "0 seconds".into(),
        n if n % 86_400 == 0 => plural(n / 86_400, "day"),
        n if n % 3600 == 0 => plural(n / 3600, "hour"),
        n if n % 60 == 0 => plural(n / 60, "minute"),
        n => plural(n, "second"),
    }
}

fn directives(v: &str) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    v.split([';', ',']).filter_map(|d| {
        let d = d.trim();
        if d.is_empty() {
            return None;
        }
        match d.split_once('=') {
            Some((k, val)) => Some((
                k.trim().to_ascii_lowercase(),
                Some(val.trim().trim_matches('"').to_string()),
            )),
            None => Some((d.to_ascii_lowercase(), None)),
        }
    })
}

/// RFC 6797.
fn hsts(v: &str) -> String {
    let mut age = None;
    let (mut subs, mut preload) = (false, false);
    for (k, val) in directives(v) {
        match k.as_str() {
            "max-age" => age = val.and_then(|x| x.parse::<u64>().ok()),
            "includesubdomains" => subs = true,
            "preload" => preload = true,
            _ => {}
        }
    }
    let mut s = match age {
        Some(0) => "forget this site's HTTPS-only rule".to_string(),
        Some(n) => format!("HTTPS only for this host for {}", seconds(n)),
        None => "HTTPS only (no max-age: ignored by browsers)".to_string(),
    };
    if subs {
        s += ", subdomains included";
    }
    if preload {
        s += ", and asks to be in the browsers' preload list";
    }
    s
}

/// RFC 7838: `h3=":443"; ma=86400, h2="alt.example:443"`.
fn alt_svc(v: &str) -> String {
    if v.eq_ignore_ascii_case("clear") {
        return "forget alternative services offered before".into();
    }
    let mut offers = Vec::new();
    for alt in v.split(',') {
        let mut parts = alt.split(';');
        let Some((proto, authority)) = parts.next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        let proto = proto.trim();
        let authority = authority.trim().trim_matches('"');
        let name = match proto {
            "h3" => "HTTP/3 (QUIC)".to_string(),
            p if p.starts_with("h3-") => format!("HTTP/3 draft {}", &p[3..]),
            "h2" => "HTTP/2".to_string(),
            p => p.to_string(),
        };
        let transport = if proto.starts_with("h3") {
            "UDP"
        } else {
            "TCP"
        };
        let where_ = match authority.rsplit_once(':') {
            Some(("", port)) => format!("{transport} port {port} of this host"),
            Some((host, port)) => format!("{host} {transport} port {port}"),
            None => authority.to_string(),
        };
        let ma = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("ma=")
                    .and_then(|x| x.parse::<u64>().ok())
            })
            .next();
        let life = ma
            .map(|n| format!(" for {}", seconds(n)))
            .unwrap_or_else(|| " for 24 hours".into());
        offers.push(format!("{name} on {where_}{life}"));
    }
    if offers.is_empty() {
        format!("alternative services: {v}")
    } else {
        format!("also offered: {}", offers.join("; "))
    }
}

/// RFC 9111 section 5.2.
fn cache_control(v: &str) -> String {
    let mut parts = Vec::new();
    for (k, val) in directives(v) {
        let n = val.as_deref().and_then(|x| x.parse::<u64>().ok());
        parts.push(match (k.as_str(), n) {
            ("max-age", Some(0)) => "must be revalidated before every use".into(),
            ("max-age", Some(n)) => format!("fresh for {}", seconds(n)),
            ("s-maxage", Some(n)) => format!("shared caches keep it {}", seconds(n)),
            ("no-cache", _) => "caches must revalidate before using it".into(),
            ("no-store", _) => "must not be stored at all".into(),
            ("private", _) => "only the browser may cache it, not shared caches".into(),
            ("public", _) => "any cache may store it".into(),
            ("immutable", _) => "will never change while fresh".into(),
            ("must-revalidate", _) => "once stale, must be revalidated".into(),
            ("stale-while-revalidate", Some(n)) => {
                format!("may be served stale for {} while refreshing", seconds(n))
            }
            _ => continue,
        });
    }
    if parts.is_empty() {
        format!("caching: {v}")
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_in_words() {
        assert_eq!(
            explain("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload").unwrap(),
            "HTTPS only for this host for 365 days, subdomains included, and asks to be in the browsers' preload list"
        );
        assert_eq!(
            explain("strict-transport-security", "max-age=0").unwrap(),
            "forget this site's HTTPS-only rule"
        );
    }

    #[test]
    fn alt_svc_offers_http3() {
        assert_eq!(
            explain("alt-svc", r#"h3=":443"; ma=86400, h3-29=":8443""#).unwrap(),
            "also offered: HTTP/3 (QUIC) on UDP port 443 of this host for 1 day; HTTP/3 draft 29 on UDP port 8443 of this host for 24 hours"
        );
        assert_eq!(
            explain("alt-svc", "clear").unwrap(),
            "forget alternative services offered before"
        );
    }

    #[test]
    fn cache_control_and_friends() {
        assert_eq!(
            explain("cache-control", "public, max-age=3600").unwrap(),
            "any cache may store it, fresh for 1 hour"
        );
        assert_eq!(
            explain("Cache-Control", "no-store").unwrap(),
            "must not be stored at all"
        );
        assert!(explain("etag", "\"abc\"").unwrap().contains("304"));
        assert_eq!(
            explain("content-length", "12").unwrap(),
            "the body is 12 bytes"
        );
        assert_eq!(explain("x-powered-by", "php"), None);
        assert_eq!(
            explain("connection", "close").unwrap(),
            "the connection closes after this message"
        );
    }
}
