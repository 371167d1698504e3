//! Record formats of `pagetrace analyze`: `--format jsonl` (one JSON object per line) and
//! `--format csv` (one row per request), written as the analyzer hands out finished items.
//!
//! # Consumes
//! Model types only, one at a time, in the order the caller got them from
//! [`Analyzer::poll`](crate::pipeline::Analyzer::poll): a DNS transaction with its stream
//! index, a TCP or QUIC connection with the indices (in its `http`) of the requests to
//! write, and at the end the capture.
//!
//! # Produces
//! - `jsonl`, each object's `"type"` first:
//!   - `dns`: a REPORT.md DNS transaction plus `"index"`, the number a connection's `dns`
//!     names;
//!   - `connection` and `quic`: a REPORT.md connection (as `pagetrace live --format jsonl`
//!     writes it), `http` holding the requests written after it;
//!   - `request`: one per exchange, after its connection's line: [`RequestHead`] (its
//!     connection's id, transport, `tcp_stream`/`udp_stream`, client, server, hostname,
//!     TLS version, ALPN, lookup, and its `index` in the connection's `http`) followed by
//!     every field of the REPORT.md exchange;
//!   - last, `capture`: REPORT.md's `capture`, and `filter` when one was given.
//! - `csv`: a header line ([`CSV_COLUMNS`]), then one row per request with the same
//!   values as the `request` lines (no headers, no nested values); RFC 4180 quoting, CRLF
//!   line ends.
//!
//! # Guarantees
//! Pure functions over any `io::Write`. What a streamed record lacks beside `--format
//! json`, because those links are made only once the whole capture is read: an exchange's
//! `redirected_from` and a QUIC connection's `h3_offer` and `h3_dns_offer` are `null`
//! (`redirect_to` is there: a redirect joins its target by URL). A connection's `dns` is
//! the `index` of a `dns` line, not a position in an array.

use std::borrow::Cow;
use std::io::{self, Write};
use std::net::SocketAddr;

use serde::Serialize;

use crate::pageload::model::{
    CaptureInfo, Connection, DnsTransaction, FilterInfo, HttpExchange, QuicConnection,
};

/// What a request line says about its connection.
#[derive(Debug, Clone, Serialize)]
pub struct RequestHead<'a> {
    /// `tcp` or `quic`.
    pub transport: &'static str,
    /// The connection's id (in `connections` or, for QUIC, `quic`).
    pub connection: u64,
    /// The exchange's position in its connection's `http` (before any filter).
    pub index: usize,
    pub tcp_stream: Option<u64>,
    pub udp_stream: Option<u64>,
    #[serde(serialize_with = "super::fastjson::socket_addr")]
    pub client: SocketAddr,
    #[serde(serialize_with = "super::fastjson::socket_addr")]
    pub server: SocketAddr,
    pub hostname: Option<&'a str>,
    pub tls_version: Option<&'a str>,
    pub alpn: Option<&'a str>,
    /// The `index` of the connection's DNS lookup.
    pub dns: Option<usize>,
}

impl<'a> RequestHead<'a> {
    pub fn tcp(c: &'a Connection, index: usize) -> RequestHead<'a> {
        let tls = c.tls.as_ref();
        RequestHead {
            transport: "tcp",
            connection: c.id,
            index,
            tcp_stream: c.tcp_stream,
            udp_stream: None,
            client: c.client,
            server: c.server,
            hostname: c.hostname.as_deref(),
            tls_version: tls.and_then(|t| t.version.as_deref()),
            alpn: tls.and_then(|t| t.alpn.as_deref()),
            dns: c.dns,
        }
    }

    pub fn quic(q: &'a QuicConnection, index: usize) -> RequestHead<'a> {
        let tls = q.tls.as_ref();
        RequestHead {
            transport: "quic",
            connection: q.id,
            index,
            tcp_stream: None,
            udp_stream: q.udp_stream,
            client: q.client,
            server: q.server,
            hostname: q.hostname.as_deref(),
            tls_version: tls.and_then(|t| t.version.as_deref()),
            alpn: tls.and_then(|t| t.alpn.as_deref()),
            dns: q.dns,
        }
    }
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    #[serde(flatten)]
    value: &'a T,
}

#[derive(Serialize)]
struct RequestLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    head: &'a RequestHead<'a>,
    #[serde(flatten)]
    exchange: &'a HttpExchange,
}

#[derive(Serialize)]
struct CaptureLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    capture: &'a CaptureInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<&'a FilterInfo>,
}

fn line<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    // Serialized into memory, then written at once: the serializer's many small writes
    // would each go through `out` (often a `dyn Write`), which cost more than the JSON.
    thread_local!(static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        super::fastjson::extend(buf, value, false).map_err(io::Error::from)?;
        buf.push(b'\n');
        let written = out.write_all(buf);
        // A huge line's buffer is not kept.
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
        written
    })
}

/// A `dns` line.
pub fn jsonl_dns<W: Write>(out: &mut W, index: u64, t: &DnsTransaction) -> io::Result<()> {
    line(
        out,
        &Line {
            kind: "dns",
            index: Some(index),
            value: t,
        },
    )
}

/// A `connection` line, then a `request` line for each exchange of its `http`, whose
/// positions before any filter are `indices`.
pub fn jsonl_connection<W: Write>(
    out: &mut W,
    c: &Connection,
    indices: &[usize],
) -> io::Result<()> {
    line(
        out,
        &Line {
            kind: "connection",
            index: None,
            value: c,
        },
    )?;
    for (h, &i) in c.http.iter().zip(indices) {
        jsonl_request(out, &RequestHead::tcp(c, i), h)?;
    }
    Ok(())
}

/// A `quic` line and its `request` lines, as [`jsonl_connection`].
pub fn jsonl_quic<W: Write>(out: &mut W, q: &QuicConnection, indices: &[usize]) -> io::Result<()> {
    line(
        out,
        &Line {
            kind: "quic",
            index: None,
            value: q,
        },
    )?;
    for (h, &i) in q.http.iter().zip(indices) {
        jsonl_request(out, &RequestHead::quic(q, i), h)?;
    }
    Ok(())
}

/// One `request` line.
pub fn jsonl_request<W: Write>(
    out: &mut W,
    head: &RequestHead<'_>,
    h: &HttpExchange,
) -> io::Result<()> {
    line(
        out,
        &RequestLine {
            kind: "request",
            head,
            exchange: h,
        },
    )
}

/// The last line.
pub fn jsonl_capture<W: Write>(
    out: &mut W,
    capture: &CaptureInfo,
    filter: Option<&FilterInfo>,
) -> io::Result<()> {
    line(
        out,
        &CaptureLine {
            kind: "capture",
            capture,
            filter,
        },
    )
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 30] = [
    "transport",
    "connection",
    "index",
    "tcp_stream",
    "udp_stream",
    "client",
    "server",
    "hostname",
    "tls_version",
    "alpn",
    "version",
    "stream",
    "method",
    "url",
    "status",
    "content_type",
    "content_encoding",
    "request_body_bytes",
    "body_bytes",
    "request_ts",
    "response_ts",
    "response_end_ts",
    "ttfb_ms",
    "download_ms",
    "complete",
    "reset",
    "redirect_to",
    "request_packet",
    "response_packet",
    "dns",
];

/// The header line.
pub fn csv_header<W: Write>(out: &mut W) -> io::Result<()> {
    csv_row(out, &CSV_COLUMNS.map(Cow::Borrowed))
}

/// One row per exchange of `c.http` (positions before any filter: `indices`).
pub fn csv_connection<W: Write>(out: &mut W, c: &Connection, indices: &[usize]) -> io::Result<()> {
    for (h, &i) in c.http.iter().zip(indices) {
        csv_request(out, &RequestHead::tcp(c, i), h)?;
    }
    Ok(())
}

/// As [`csv_connection`], for a QUIC connection.
pub fn csv_quic<W: Write>(out: &mut W, q: &QuicConnection, indices: &[usize]) -> io::Result<()> {
    for (h, &i) in q.http.iter().zip(indices) {
        csv_request(out, &RequestHead::quic(q, i), h)?;
    }
    Ok(())
}

/// A value as JSON writes it (numbers, booleans), empty for `None`.
fn cell<T: Serialize>(v: Option<T>) -> Cow<'static, str> {
    v.and_then(|v| serde_json::to_string(&v).ok())
        .map_or(Cow::Borrowed(""), Cow::Owned)
}

fn text(v: Option<&str>) -> Cow<'_, str> {
    Cow::Borrowed(v.unwrap_or(""))
}

/// One request's row, in [`CSV_COLUMNS`] order.
pub fn csv_request<W: Write>(
    out: &mut W,
    head: &RequestHead<'_>,
    h: &HttpExchange,
) -> io::Result<()> {
    let row: [Cow<'_, str>; 30] = [
        Cow::Borrowed(head.transport),
        cell(Some(head.connection)),
        cell(Some(head.index)),
        cell(head.tcp_stream),
        cell(head.udp_stream),
        Cow::Owned(head.client.to_string()),
        Cow::Owned(head.server.to_string()),
        text(head.hostname),
        text(head.tls_version),
        text(head.alpn),
        Cow::Borrowed(&h.version),
        cell(h.stream),
        text(h.method.as_deref()),
        text(h.url.as_deref()),
        cell(h.status),
        text(h.content_type.as_deref()),
        text(h.content_encoding.as_deref()),
        cell(Some(h.request_body_bytes)),
        cell(Some(h.body_bytes)),
        cell(h.request_ts),
        cell(h.response_ts),
        cell(h.response_end_ts),
        cell(h.ttfb_ms),
        cell(h.download_ms),
        cell(Some(h.complete)),
        text(h.reset.as_deref()),
        text(h.redirect_to.as_deref()),
        cell(h.request_packet),
        cell(h.response_packet),
        cell(head.dns),
    ];
    csv_row(out, &row)
}

/// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled;
/// records end in CRLF.
fn csv_row<W: Write>(out: &mut W, fields: &[Cow<'_, str>]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\r', '\n']) {
            write!(out, "\"{}\"", f.replace('"', "\"\""))?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::sample;

    #[test]
    fn csv_quotes_as_rfc_4180_says() {
        let mut out = Vec::new();
        let fields = ["a", "b,c", "say \"hi\"", "two\nlines", ""].map(Cow::Borrowed);
        csv_row(&mut out, &fields).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn a_request_line_is_its_connection_s_head_then_the_exchange() {
        let r = sample();
        let c = &r.connections[0];
        let mut out = Vec::new();
        let indices: Vec<usize> = (0..c.http.len()).collect();
        jsonl_connection(&mut out, c, &indices).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1 + c.http.len());
        assert_eq!(lines[0]["type"], "connection");
        assert_eq!(lines[1]["type"], "request");
        assert_eq!(lines[1]["connection"], c.id);
        assert_eq!(lines[1]["hostname"], c.hostname.as_deref().unwrap());
        assert_eq!(lines[1]["url"], c.http[0].url.as_deref().unwrap());
        assert!(text.starts_with("{\"type\":\"connection\""));
        let mut csv = Vec::new();
        csv_header(&mut csv).unwrap();
        csv_connection(&mut csv, c, &indices).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(csv.lines().count(), 1 + c.http.len());
        assert!(csv.starts_with("transport,connection,index,tcp_stream,"));
    }
}
