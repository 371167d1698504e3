//! `--format har`: the report as a HAR 1.2 document
//! (<https://w3c.github.io/web-performance/specs/HAR/Overview.html>), with timings from the
//! packets rather than from a browser.
//!
//! # Consumes
//! The finished [`Report`]; the timing model, rows and pages come from
//! [`crate::report::timing`] (its module doc states the rules for every phase and for the
//! grouping into pages), so the HAR, the terminal waterfall and the HTML page agree.
//!
//! # Produces
//! - `log.pages`: one page per page load found (a navigation and the requests that followed
//!   it; see [`timing::pages`]), `pageTimings` -1: a capture holds no browser events.
//! - `log.entries`: one entry per HTTP exchange, HTTP/1.x and HTTP/2 over TCP and HTTP/3
//!   over QUIC, sorted by `startedDateTime`. TCP connections with no readable request (TLS
//!   without keys) have no entry; `log.comment` counts them.
//! - `timings`: `blocked`, `dns`, `connect` (TCP and TLS handshakes; for HTTP/3 the QUIC
//!   handshake), `ssl` (TLS alone, inside `connect` as HAR 1.2 says; for HTTP/3 the same
//!   span as `connect`, as Chromium reports QUIC), `send`, `wait`, `receive`, in milliseconds rounded to
//!   the microsecond. `blocked`, `dns`, `connect` and `ssl` are -1 when not observed or not
//!   applicable (`dns` is set only on the first request that needed the lookup). HAR 1.2
//!   says "the send, wait and receive timings are not optional and must have non-negative
//!   values", so one of those that the capture did not show (a response never seen, a
//!   request whose end was lost) is 0 and is named in `timings._notObserved`. `time` is the
//!   sum of the non-negative phases except `ssl`, computed from the rounded values so it adds
//!   up exactly.
//! - `startedDateTime`: ISO 8601 in UTC with milliseconds.
//! - `httpVersion`: the exchange's version (`HTTP/1.1`, `HTTP/2`), and `h3` for HTTP/3, as
//!   Chrome spells it.
//! - `headersSize`: reconstructed for HTTP/1.x (start line, `name: value` CRLF per header,
//!   the empty line); -1 for HTTP/2 and HTTP/3 (HPACK and QPACK compress them on the wire)
//!   and when a header value was cut at the dissector's cap.
//! - `content.size`: the content, as DevTools gives it: the body with its content codings
//!   undone (`body_decoded_bytes`; the body as transferred when it has none), -1 when the
//!   coding was not decoded; `content.compression` the bytes the codings saved (the decoded
//!   size less the transferred one), only when positive. `response.bodySize` is always the
//!   bytes as transferred (chunk framing excluded), -1 without a response.
//! - `queryString` parsed from the URL (percent escapes and `+` decoded, as browsers export
//!   it), `cookies` from `Cookie` and `Set-Cookie` (dates per RFC 6265 5.1.1, `Max-Age`
//!   counted from the response's capture time).
//! - `connection`: the connection's [`ConnKey`](crate::report::timing::ConnKey): the
//!   decimal `id` of a TCP connection (`"3"`), `quic-` and the `id` of a QUIC connection
//!   (`"quic-1"`); TCP and QUIC ids are separate counters, the prefix keeps them apart.
//! - Custom fields (HAR 1.2 allows names starting with `_`): `_connectionId` (the `id` of
//!   the connection in `--format json`: in `connections` for a TCP entry, in `quic` for a
//!   QUIC one; a consumer tells them apart by `connection`, which starts with `quic-` for
//!   QUIC only, or by `httpVersion` `h3`, the only version QUIC carries), `_httpIndex` (the
//!   exchange's index in that connection's `http` array), `_hostname`, `_tlsVersion`,
//!   `_alpn`, `_retransmissions` (both directions of a TCP connection; absent for QUIC,
//!   which pagetrace does not count them for), `_http2Stream` (HTTP/2), `_quicStream` (the
//!   QUIC stream id of an HTTP/3 exchange), `_complete`, `_diagnosis` (what delayed the
//!   request, as `diagnosis` in `--format json`; absent when nothing did);
//!   `timings._notObserved`;
//!   `response._error` when no response was captured; `response._bodySha256` with
//!   `--body-hash` (the SHA-256 of the body as transferred).
//!
//! # Guarantees
//! Pure: the same report gives the same bytes. Text from the capture is JSON-escaped by
//! serde_json; nothing is dropped for being odd.

use std::io::{self, Write};

use serde::{Serialize, Serializer};

use crate::pageload::model::{Delay, HttpExchange, Report};
/// `2026-11-22T02:49:17.123Z`: HAR dates (re-exported from [`crate::report::fmt`]).
pub use crate::report::fmt::iso8601;
use crate::report::fmt::{iso8601_secs, plural, round_us};
use crate::report::timing::{self, header, mime_type, Conn, Row, Timings};
use crate::time::{days_from_civil, Ts};

/// A HAR millisecond figure: rounded to the microsecond, written as an integer when whole.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ms(f64);

impl Serialize for Ms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.fract() == 0.0 && v.abs() < 1e15 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

/// An observed duration, or HAR's -1.
fn ms(v: Option<f64>) -> Ms {
    Ms(v.filter(|x| x.is_finite() && *x >= 0.0)
        .map(round_us)
        .unwrap_or(-1.0))
}

#[derive(Serialize)]
struct Har {
    log: Log,
}

#[derive(Serialize)]
struct Log {
    version: &'static str,
    creator: Creator,
    pages: Vec<HarPage>,
    entries: Vec<Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Creator {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HarPage {
    started_date_time: String,
    id: String,
    title: String,
    page_timings: PageTimings,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageTimings {
    on_content_load: Ms,
    on_load: Ms,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pageref: Option<String>,
    started_date_time: String,
    time: Ms,
    request: Request,
    response: Response,
    cache: Cache,
    timings: HarTimings,
    #[serde(rename = "serverIPAddress", skip_serializing_if = "Option::is_none")]
    server_ip_address: Option<String>,
    connection: String,
    #[serde(rename = "_connectionId")]
    connection_id: u64,
    #[serde(rename = "_httpIndex")]
    http_index: usize,
    #[serde(rename = "_hostname", skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    #[serde(rename = "_tlsVersion", skip_serializing_if = "Option::is_none")]
    tls_version: Option<String>,
    #[serde(rename = "_alpn", skip_serializing_if = "Option::is_none")]
    alpn: Option<String>,
    #[serde(rename = "_retransmissions", skip_serializing_if = "Option::is_none")]
    retransmissions: Option<u64>,
    #[serde(rename = "_http2Stream", skip_serializing_if = "Option::is_none")]
    http2_stream: Option<u64>,
    #[serde(rename = "_quicStream", skip_serializing_if = "Option::is_none")]
    quic_stream: Option<u64>,
    #[serde(rename = "_complete")]
    complete: bool,
    #[serde(rename = "_diagnosis", skip_serializing_if = "Vec::is_empty")]
    diagnosis: Vec<Delay>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    method: String,
    url: String,
    http_version: String,
    cookies: Vec<Cookie>,
    headers: Vec<NameValue>,
    query_string: Vec<NameValue>,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    status: u16,
    status_text: String,
    http_version: String,
    cookies: Vec<Cookie>,
    headers: Vec<NameValue>,
    content: Content,
    #[serde(rename = "redirectURL")]
    redirect_url: String,
    headers_size: i64,
    body_size: i64,
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// SHA-256 of the body as transferred (`--body-hash`).
    #[serde(rename = "_bodySha256", skip_serializing_if = "Option::is_none")]
    body_sha256: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<i64>,
    mime_type: String,
}

#[derive(Serialize)]
struct Cache {}

#[derive(Serialize)]
struct HarTimings {
    blocked: Ms,
    dns: Ms,
    connect: Ms,
    send: Ms,
    wait: Ms,
    receive: Ms,
    ssl: Ms,
    /// Of `send`, `wait` and `receive` (which HAR 1.2 wants non-negative), those written as 0
    /// because the capture did not show them.
    #[serde(rename = "_notObserved", skip_serializing_if = "Vec::is_empty")]
    not_observed: Vec<&'static str>,
}

#[derive(Serialize, Debug, PartialEq)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Serialize, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
struct Cookie {
    name: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure: Option<bool>,
}

/// Writes the report as one pretty-printed HAR 1.2 document and a newline.
pub fn write_har<W: Write>(out: &mut W, r: &Report) -> io::Result<()> {
    let har = build(r);
    super::json::write_pretty(out, &har)
}

fn build(r: &Report) -> Har {
    let rows = timing::rows(r);
    let pages = timing::pages(&rows);
    let mut page_id: Vec<Option<String>> = vec![None; rows.len()];
    let mut har_pages = Vec::new();
    for page in &pages {
        let requests: Vec<&Row> = page
            .rows
            .iter()
            .map(|&i| &rows[i])
            .filter(|row| row.exchange.is_some())
            .collect();
        let Some(first) = requests.first() else {
            continue;
        };
        let id = format!("page_{}", har_pages.len() + 1);
        for &i in &page.rows {
            page_id[i] = Some(id.clone());
        }
        let title = page
            .document
            .map(|d| rows[d].url.clone())
            .unwrap_or_else(|| first.url.clone());
        let how = if page.document.is_some() {
            "a navigation"
        } else {
            "requests close in time (no navigation seen)"
        };
        har_pages.push(HarPage {
            started_date_time: iso8601(first.start),
            id,
            title,
            page_timings: PageTimings {
                on_content_load: Ms(-1.0),
                on_load: Ms(-1.0),
            },
            comment: format!(
                "{} grouped by pagetrace from {how}; a capture holds no browser events",
                plural(requests.len(), "request")
            ),
        });
    }
    let mut entries = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if let Some((index, h)) = row.exchange {
            entries.push(entry(row, index, h, page_id[i].clone()));
        }
    }
    let opaque = r.connections.iter().filter(|c| c.http.is_empty()).count();
    let comment = (opaque > 0).then(|| {
        format!(
            "{opaque} of {} carried no readable HTTP (TLS without keys, or another protocol) \
             and {} no entries",
            plural(r.connections.len(), "connection"),
            if opaque == 1 { "has" } else { "have" }
        )
    });
    Har {
        log: Log {
            version: "1.2",
            creator: Creator {
                name: "pagetrace",
                version: env!("CARGO_PKG_VERSION"),
            },
            pages: har_pages,
            entries,
            comment,
        },
    }
}

fn har_timings(t: &Timings) -> (HarTimings, Ms) {
    let mut not_observed = Vec::new();
    // HAR 1.2: "The send, wait and receive timings are not optional and must have
    // non-negative values."
    let mut required = |name: &'static str, v: Option<f64>| {
        let m = ms(v);
        if m.0 < 0.0 {
            not_observed.push(name);
            Ms(0.0)
        } else {
            m
        }
    };
    let send = required("send", t.send);
    let wait = required("wait", t.wait);
    let receive = required("receive", t.receive);
    let h = HarTimings {
        blocked: ms(t.blocked),
        dns: ms(t.dns),
        connect: ms(t.connect),
        send,
        wait,
        receive,
        ssl: ms(t.ssl),
        not_observed,
    };
    let total: f64 = [h.blocked, h.dns, h.connect, h.send, h.wait, h.receive]
        .iter()
        .map(|m| m.0)
        .filter(|v| *v >= 0.0)
        .sum();
    (h, Ms(round_us(total)))
}

fn entry(row: &Row, index: usize, h: &HttpExchange, pageref: Option<String>) -> Entry {
    let c = row.conn;
    let (timings, time) = har_timings(&row.timings);
    let tls = c.tls();
    let (retransmissions, http2_stream, quic_stream) = match c {
        Conn::Tcp(t) => (
            Some(
                t.tcp
                    .retransmissions
                    .client
                    .saturating_add(t.tcp.retransmissions.server),
            ),
            h.stream,
            None,
        ),
        Conn::Quic(_) => (None, None, h.stream),
    };
    Entry {
        pageref,
        started_date_time: iso8601(row.start),
        time,
        request: request(row, h),
        response: response(h),
        cache: Cache {},
        timings,
        server_ip_address: Some(c.server().ip().to_string()),
        connection: c.key().to_string(),
        connection_id: c.id(),
        http_index: index,
        hostname: c.hostname().map(str::to_string),
        tls_version: tls.and_then(|t| t.version.clone()),
        alpn: tls.and_then(|t| t.alpn.clone()),
        retransmissions,
        http2_stream,
        quic_stream,
        complete: h.complete,
        diagnosis: h.diagnosis.clone(),
    }
}

/// HTTP/2 and HTTP/3: header blocks compressed on the wire (HPACK, QPACK), so no size.
fn headers_compressed(h: &HttpExchange) -> bool {
    h.version.starts_with("HTTP/2") || h.version.starts_with("HTTP/3")
}

/// The `httpVersion` of an exchange: `h3` for HTTP/3 (Chrome's spelling), else as the
/// report has it.
fn har_version(h: &HttpExchange) -> String {
    if h.version.starts_with("HTTP/3") {
        "h3".to_string()
    } else {
        h.version.clone()
    }
}

fn name_values(headers: &[(String, String)]) -> Vec<NameValue> {
    headers
        .iter()
        .map(|(n, v)| NameValue {
            name: n.clone(),
            value: v.clone(),
        })
        .collect()
}

/// `name: value` CRLF per header, and the empty line.
fn header_block_len(headers: &[(String, String)]) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.len() + 2 + v.len() + 2)
        .sum::<usize>()
        + 2
}

fn request(row: &Row, h: &HttpExchange) -> Request {
    let headers_size = match (&h.method, &h.path) {
        (Some(m), Some(p)) if !headers_compressed(h) && !h.headers_truncated => {
            (m.len() + 1 + p.len() + 1 + h.version.len() + 2 + header_block_len(&h.request_headers))
                as i64
        }
        _ => -1,
    };
    Request {
        method: h.method.clone().unwrap_or_default(),
        url: row.url.clone(),
        http_version: har_version(h),
        cookies: request_cookies(&h.request_headers),
        headers: name_values(&h.request_headers),
        query_string: query_string(&row.url),
        headers_size,
        body_size: i64::try_from(h.request_body_bytes).unwrap_or(i64::MAX),
    }
}

fn response(h: &HttpExchange) -> Response {
    let Some(status) = h.status else {
        let error = match &h.reset {
            Some(code) => format!("stream reset ({code}) before a response"),
            None => "no response captured".to_string(),
        };
        return Response {
            status: 0,
            status_text: String::new(),
            http_version: String::new(),
            cookies: Vec::new(),
            headers: Vec::new(),
            content: Content {
                size: 0,
                compression: None,
                mime_type: "x-unknown".into(),
            },
            redirect_url: String::new(),
            headers_size: -1,
            body_size: -1,
            error: Some(error),
            body_sha256: None,
        };
    };
    let reason = h.reason.clone().unwrap_or_default();
    let headers_size = if !headers_compressed(h) && !h.headers_truncated {
        // `HTTP/1.1 200 OK` CRLF.
        (h.version.len() + 1 + 3 + 1 + reason.len() + 2 + header_block_len(&h.response_headers))
            as i64
    } else {
        -1
    };
    let body = i64::try_from(h.body_bytes).unwrap_or(i64::MAX);
    let encoded = h
        .content_encoding
        .as_deref()
        .or_else(|| header(&h.response_headers, "content-encoding"))
        .is_some_and(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("identity"));
    // A report from before decoded sizes has none: -1 for a coded body, as then.
    let size = h
        .body_decoded_bytes
        .map_or(if encoded { -1 } else { body }, |n| {
            i64::try_from(n).unwrap_or(i64::MAX)
        });
    let at = h.response_ts.or(h.request_ts);
    Response {
        status,
        status_text: reason,
        http_version: har_version(h),
        cookies: h
            .response_headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| set_cookie(v, at))
            .collect(),
        headers: name_values(&h.response_headers),
        content: Content {
            size,
            compression: (size > body).then(|| size - body),
            mime_type: mime_type(h).unwrap_or("x-unknown").to_string(),
        },
        redirect_url: h
            .redirect_to
            .clone()
            .or_else(|| header(&h.response_headers, "location").map(str::to_string))
            .unwrap_or_default(),
        headers_size,
        body_size: body,
        error: None,
        body_sha256: h.body_sha256.clone(),
    }
}

/// Percent escapes and `+` decoded (application/x-www-form-urlencoded), invalid UTF-8
/// replaced.
fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_string(url: &str) -> Vec<NameValue> {
    let Some((_, q)) = url.split_once('?') else {
        return Vec::new();
    };
    let q = q.split('#').next().unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            NameValue {
                name: form_decode(n),
                value: form_decode(v),
            }
        })
        .collect()
}

/// Every `name=value` pair of every `Cookie` header (RFC 6265 4.2.1).
fn request_cookies(headers: &[(String, String)]) -> Vec<Cookie> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            Cookie {
                name: n.trim().to_string(),
                value: v.trim().to_string(),
                ..Cookie::default()
            }
        })
        .collect()
}

/// One `Set-Cookie` value (RFC 6265 5.2). `now` is when the response was captured, for
/// `Max-Age`.
fn set_cookie(v: &str, now: Option<Ts>) -> Option<Cookie> {
    let mut parts = v.split(';');
    let pair = parts.next()?.trim();
    // 5.2 step 2: a name-value-pair without "=" is ignored.
    let (name, value) = pair.split_once('=')?;
    let mut c = Cookie {
        name: name.trim().to_string(),
        value: value.trim().to_string(),
        ..Cookie::default()
    };
    let mut max_age: Option<String> = None;
    for attr in parts {
        let (k, val) = attr.split_once('=').unwrap_or((attr, ""));
        let (k, val) = (k.trim(), val.trim());
        if k.eq_ignore_ascii_case("path") {
            c.path = Some(val.to_string());
        } else if k.eq_ignore_ascii_case("domain") {
            c.domain = Some(val.to_string());
        } else if k.eq_ignore_ascii_case("expires") {
            if let Some(secs) = cookie_date(val) {
                c.expires = iso8601_secs(secs, 0);
            }
        } else if k.eq_ignore_ascii_case("max-age") {
            max_age = Some(val.to_string());
        } else if k.eq_ignore_ascii_case("httponly") {
            c.http_only = Some(true);
        } else if k.eq_ignore_ascii_case("secure") {
            c.secure = Some(true);
        }
    }
    // 5.3 step 3: Max-Age wins over Expires. 5.2.2: a delta of zero or less means "the
    // earliest representable time"; a value not starting with a digit or "-" is ignored.
    if let (Some(age), Some(now)) = (max_age, now) {
        let ok = age
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'-');
        if let (true, Ok(delta)) = (ok, age.parse::<i64>()) {
            let base = now.nanos().div_euclid(1_000_000_000);
            let secs = if delta <= 0 {
                0
            } else {
                base.saturating_add(delta)
            };
            c.expires = iso8601_secs(secs, 0);
        }
    }
    Some(c)
}

/// RFC 6265 5.1.1: the cookie-date algorithm, to Unix seconds.
fn cookie_date(s: &str) -> Option<i64> {
    let delimiter =
        |c: char| matches!(c as u32, 0x09 | 0x20..=0x2F | 0x3B..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E);
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for tok in s.split(delimiter).filter(|t| !t.is_empty()) {
        if time.is_none() {
            if let Some(t) = hms(tok) {
                time = Some(t);
                continue;
            }
        }
        if day.is_none() {
            if let Some(d) = leading_digits(tok, 1, 2) {
                day = Some(d);
                continue;
            }
        }
        if month.is_none() {
            let m = tok.get(..3).map(str::to_ascii_lowercase);
            const MONTHS: [&str; 12] = [
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ];
            if let Some(i) = m.and_then(|m| MONTHS.iter().position(|x| *x == m)) {
                month = Some(i as i64 + 1);
                continue;
            }
        }
        if year.is_none() {
            if let Some(y) = leading_digits(tok, 2, 4) {
                year = Some(y);
                continue;
            }
        }
    }
    let (h, mi, se) = time?;
    let (d, mo, mut y) = (day?, month?, year?);
    // Steps 3 and 4: two-digit years.
    if (70..=99).contains(&y) {
        y += 1900;
    } else if (0..=69).contains(&y) {
        y += 2000;
    }
    // Step 5.
    if !(1..=31).contains(&d) || y < 1601 || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se)
}

/// `1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT ( non-digit *OCTET )`.
fn hms(tok: &str) -> Option<(i64, i64, i64)> {
    let mut it = tok.splitn(3, ':');
    let h = it.next()?;
    let m = it.next()?;
    let s = it.next()?;
    if !(1..=2).contains(&h.len()) || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(1..=2).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let s = leading_digits(s, 1, 2)?;
    Some((h.parse().ok()?, m.parse().ok()?, s))
}

/// `min*maxDIGIT ( non-digit *OCTET )`.
fn leading_digits(tok: &str, min: usize, max: usize) -> Option<i64> {
    let n = tok.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    tok.get(..n)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::{at, h3_sample, sample};
    use serde_json::Value;

    fn har(r: &Report) -> Value {
        let mut out = Vec::new();
        write_har(&mut out, r).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(Ts(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(Ts(1_795_315_757_123_999_000)),
            "2026-11-22T02:49:17.123Z"
        );
        assert_eq!(iso8601(Ts(-1_000_000)), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            iso8601(Ts(951_782_400_000_000_000)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn cookie_dates_per_rfc6265() {
        // IMF-fixdate, the RFC 850 form, asctime, and Netscape's with dashes.
        let want = Some(784_111_777);
        assert_eq!(cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), want);
        assert_eq!(cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), want);
        assert_eq!(cookie_date("Sun Nov  6 08:49:37 1994"), want);
        assert_eq!(
            cookie_date("Wed, 09-Jun-2021 10:18:14 GMT"),
            Some(1_623_233_894)
        );
        assert_eq!(cookie_date("not a date"), None);
        assert_eq!(cookie_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(cookie_date("Sun, 32 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(cookie_date(""), None);
    }

    #[test]
    fn cookies() {
        let c = request_cookies(&[
            ("Cookie".into(), "a=1; b=x=y;  ;c".into()),
            ("cookie".into(), "d=4".into()),
        ]);
        let pairs: Vec<(&str, &str)> = c.iter().map(|c| (&*c.name, &*c.value)).collect();
        assert_eq!(pairs, [("a", "1"), ("b", "x=y"), ("c", ""), ("d", "4")]);
        let s = set_cookie(
            "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; Path=/; Domain=example.test",
            None,
        )
        .unwrap();
        assert_eq!(s.name, "id");
        assert_eq!(s.value, "a3fWa");
        assert_eq!(s.expires.as_deref(), Some("2015-10-21T07:28:00.000Z"));
        assert_eq!(s.secure, Some(true));
        assert_eq!(s.http_only, Some(true));
        assert_eq!(s.path.as_deref(), Some("/"));
        assert_eq!(s.domain.as_deref(), Some("example.test"));
        let now = Ts(1_000_000_000_000_000_000);
        let s = set_cookie(
            "x=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60",
            Some(now),
        )
        .unwrap();
        assert_eq!(s.expires.as_deref(), Some("2001-09-09T01:47:40.000Z"));
        let s = set_cookie("x=1; Max-Age=-5", Some(now)).unwrap();
        assert_eq!(s.expires.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        let s = set_cookie("x=1; Max-Age=9223372036854775807", Some(now)).unwrap();
        assert_eq!(s.expires, None);
        assert!(set_cookie("novalue", None).is_none());
    }

    #[test]
    fn query_strings() {
        let q = query_string("https://a.test/p?x=1&y=%20b+c&flag&&z=%zz#frag=1");
        let pairs: Vec<(&str, &str)> = q.iter().map(|q| (&*q.name, &*q.value)).collect();
        assert_eq!(
            pairs,
            [("x", "1"), ("y", " b c"), ("flag", ""), ("z", "%zz")]
        );
        assert!(query_string("https://a.test/").is_empty());
        assert_eq!(form_decode("%E2%82%AC%FF"), "€\u{fffd}");
        assert_eq!(form_decode("%"), "%");
        assert_eq!(form_decode("%4"), "%4");
    }

    #[test]
    fn document_shape_and_timings() {
        let v = har(&sample());
        let log = &v["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["creator"]["name"], "pagetrace");
        let pages = log["pages"].as_array().unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0]["id"], "page_1");
        assert_eq!(pages[0]["title"], "https://www.example.test/");
        assert_eq!(pages[0]["startedDateTime"], iso8601(at(0.0)));
        assert_eq!(pages[0]["pageTimings"]["onLoad"], -1);
        let entries = log["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        let doc = &entries[0];
        assert_eq!(doc["pageref"], "page_1");
        assert_eq!(doc["request"]["url"], "https://www.example.test/");
        assert_eq!(doc["serverIPAddress"], "10.0.0.2");
        assert_eq!(doc["connection"], "1");
        assert_eq!(doc["_connectionId"], 1);
        assert_eq!(doc["_tlsVersion"], "TLS 1.3");
        assert_eq!(doc["_alpn"], "h2");
        assert_eq!(doc["_retransmissions"], 0);
        let t = &doc["timings"];
        assert_eq!(t["dns"], 2);
        assert_eq!(t["connect"], 6);
        assert_eq!(t["ssl"], 3.5);
        assert_eq!(t["blocked"], 0.5);
        assert_eq!(t["send"], 0.5);
        assert_eq!(t["wait"], 10);
        assert_eq!(t["receive"], 5);
        assert_eq!(doc["time"], 24);
        // `GET / HTTP/1.1` CRLF, `Host: www.example.test` CRLF, `Accept: text/html,*/*`
        // CRLF, CRLF.
        assert_eq!(doc["request"]["headersSize"], 16 + 24 + 23 + 2);
        assert_eq!(doc["response"]["headersSize"], 17 + 25 + 2);
        assert_eq!(doc["response"]["content"]["size"], 6000);
        assert_eq!(doc["response"]["content"]["mimeType"], "text/html");
        assert_eq!(doc["response"]["bodySize"], 6000);
        assert_eq!(doc["response"]["redirectURL"], "");
        let img = &entries[1];
        assert_eq!(img["timings"]["dns"], -1);
        assert_eq!(img["timings"]["connect"], 4);
        let qs = img["request"]["queryString"].as_array().unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[1]["value"], " b");
        let css = &entries[2];
        for k in ["blocked", "dns", "connect", "ssl"] {
            assert_eq!(css["timings"][k], -1, "{k}");
        }
        assert_eq!(css["time"], 7.2);
        assert!(log["comment"]
            .as_str()
            .unwrap()
            .starts_with("1 of 3 connections"));
    }

    #[test]
    fn missing_response_and_compressed_body() {
        let mut r = sample();
        let h = &mut r.connections[0].http[1];
        h.status = None;
        h.response_ts = None;
        h.response_end_ts = None;
        h.ttfb_ms = None;
        h.download_ms = None;
        let h = &mut r.connections[0].http[0];
        h.content_encoding = Some("gzip".into());
        h.version = "HTTP/2".into();
        h.stream = Some(1);
        let v = har(&r);
        let e = v["log"]["entries"].as_array().unwrap();
        assert_eq!(e[0]["response"]["content"]["size"], -1);
        assert!(e[0]["response"]["content"].get("compression").is_none());
        assert_eq!(e[0]["response"]["bodySize"], 6000);
        // Decoded: the content's size, and what the coding saved.
        r.connections[0].http[0].body_decoded_bytes = Some(26270);
        let v = har(&r);
        let c = &v["log"]["entries"][0]["response"]["content"];
        assert_eq!(
            (c["size"].as_i64(), c["compression"].as_i64()),
            (Some(26270), Some(20270))
        );
        assert_eq!(e[0]["request"]["headersSize"], -1);
        assert_eq!(e[0]["_http2Stream"], 1);
        let css = &e[2];
        assert_eq!(css["response"]["status"], 0);
        assert_eq!(css["response"]["bodySize"], -1);
        assert_eq!(css["response"]["_error"], "no response captured");
        // HAR 1.2 wants send, wait and receive non-negative: 0, and named as not observed.
        assert_eq!(css["timings"]["wait"], 0);
        assert_eq!(css["timings"]["receive"], 0);
        assert_eq!(
            css["timings"]["_notObserved"],
            serde_json::json!(["wait", "receive"])
        );
        assert_eq!(css["_httpIndex"], 1);
        assert_eq!(css["time"], 0.2);
        assert!(e[0]["timings"].get("_notObserved").is_none());
    }

    #[test]
    fn http3_entries_name_their_quic_connection() {
        let v = har(&h3_sample());
        let entries = v["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 5);
        let h3: Vec<&Value> = entries
            .iter()
            .filter(|e| e["request"]["httpVersion"] == "h3")
            .collect();
        assert_eq!(h3.len(), 2);
        let js = h3[0];
        assert_eq!(js["request"]["url"], "https://static.example.test/app.js");
        assert_eq!(js["response"]["httpVersion"], "h3");
        assert_eq!(js["connection"], "quic-1");
        assert_eq!(js["_connectionId"], 1);
        assert_eq!(js["_httpIndex"], 0);
        assert_eq!(js["_quicStream"], 0);
        assert_eq!(h3[1]["_quicStream"], 4);
        assert_eq!(js["serverIPAddress"], "10.0.0.4");
        assert_eq!(js["_tlsVersion"], "TLS 1.3");
        assert_eq!(js["_alpn"], "h3");
        assert_eq!(js["pageref"], "page_1");
        for absent in ["_retransmissions", "_http2Stream"] {
            assert!(js.get(absent).is_none(), "{absent}");
        }
        // QPACK-compressed headers have no size on the wire to report.
        assert_eq!(js["request"]["headersSize"], -1);
        assert_eq!(js["response"]["headersSize"], -1);
        let t = &js["timings"];
        assert_eq!(t["dns"], 1.5);
        assert_eq!(t["connect"], 3.5);
        assert_eq!(t["ssl"], 3.5);
        assert_eq!(t["blocked"], 5);
        assert_eq!(js["time"], 20);
        assert_eq!(js["startedDateTime"], iso8601(at(40.0)));
        for k in ["blocked", "dns", "connect", "ssl"] {
            assert_eq!(h3[1]["timings"][k], -1, "{k}");
        }
        // TCP connection 1 and QUIC connection 1 stay apart.
        let tcp1 = entries.iter().filter(|e| e["connection"] == "1").count();
        assert_eq!(tcp1, 2);
        assert_eq!(entries[0]["_retransmissions"], 0);
    }

    #[test]
    fn empty_report_is_a_valid_log() {
        let v = har(&Report::default());
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 0);
        assert_eq!(v["log"]["pages"].as_array().unwrap().len(), 0);
        // An exchange with nothing observed still makes an entry with -1 timings.
        let mut r = Report::default();
        let mut c = crate::pageload::model::Connection::default();
        c.http.push(HttpExchange::default());
        r.connections.push(c);
        r.capture.first_ts = Some(at(0.0));
        let v = har(&r);
        let e = &v["log"]["entries"][0];
        assert_eq!(e["time"], 0);
        assert_eq!(e["request"]["method"], "");
        assert_eq!(e["timings"]["send"], 0);
        assert_eq!(
            e["timings"]["_notObserved"],
            serde_json::json!(["send", "wait", "receive"])
        );
    }
}
