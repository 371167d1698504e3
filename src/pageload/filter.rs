//! `--filter EXPR` (`-Y`): a small expression language over the report's fields, and what
//! it keeps of a report.
//!
//! # The language
//!
//! ```text
//! expr    := and { ("or" | "||") and }
//! and     := unary { ("and" | "&&") unary }
//! unary   := ("not" | "!") unary | "(" expr ")" | test
//! test    := FIELD                       the field is present and not false
//!          | FIELD OP VALUE              OP: == != < <= > >= (or eq ne lt le gt ge)
//!          | FIELD ("~" | "matches") "regex"   unanchored, case-sensitive (Rust regex)
//!          | FIELD "contains" "text"           substring
//!          | FIELD "in" "{" VALUE[..VALUE] ... "}"   any of, ranges inclusive
//! ```
//!
//! Values are typed by their field and checked when the filter is parsed: strings are
//! quoted (`"cdn.example"`) or a bare word (`POST`, `h2`); numbers are decimal; durations
//! take `us`, `ms` (the default) or `s`; sizes `B` (the default), `kB`, `MB`, `GB` (powers
//! of 1000) or `KiB`, `MiB`, `GiB`; booleans are `true`/`false`; `conn` takes a TCP
//! connection id (`3`) or a QUIC one (`quic-1`). An error names the column with a caret.
//!
//! # Fields
//!
//! A request's own: `method`, `url`, `path`, `status`, `version` (`HTTP/1.1`...), `proto`
//! (`h1` for HTTP/1.x, `h2`, `h3`; `http/1.1`, `HTTP/2`... are read as these), `ttfb`,
//! `download`, `size` (response body as transferred), `request_size`, `type` (media type,
//! no parameters), `encoding`, `stream`, `complete`, `reset`, `redirect` (its Location).
//! Its connection's: `conn`, `transport` (`tcp`, `quic`), `host` (the request URL's host,
//! else the connection's hostname), `sni`, `client`, `server` (`ip:port`), `ip` (the
//! server's), `port` (the server's), `tls.version`, `tls.cipher`, `tls.alpn`,
//! `tls.resumed`, `tls.decrypted`, `tls.handshake`, `tcp.handshake`, `retransmissions`
//! (both ways), `tcp.stream`, `udp.stream`, `close` (`fin`, `rst`, `open`), `bytes` (both
//! ways). Its connection's DNS lookup: `dns.name`, `dns.type`, `dns.rcode`,
//! `dns.latency`, `dns.transport`, `dns.ad`, `dns.cached` (answered from the resolver's
//! cache), `dns.upstream` (the queries the resolver sent upstream for it); the last two
//! only where the capture shows the resolver's side.
//!
//! # What is kept
//!
//! A field the record does not have (no response, no TLS, no lookup) makes every test on
//! it false, `!=` included; `not` turns that to true, as Wireshark does.
//! - A **request** (TCP or QUIC) is kept when the expression holds for its fields, its
//!   connection's and its lookup's.
//! - A **connection** (TCP or QUIC) with requests is kept when one of them is, with only
//!   those; one without requests (TLS without keys) when the expression holds for it alone.
//! - A **DNS transaction** is kept when a kept connection links to it, or when the
//!   expression holds for it alone: its `dns.*` fields, and `host` (its first question).
//! - The capture's facts (packets, warnings, counters) are the whole capture's; the report
//!   says what was filtered in `filter` (expression and counts before it).
//! - Links are re-pointed at what is kept: a redirect or Alt-Svc whose other end was
//!   filtered out is `null`.

use std::borrow::Cow;
use std::fmt;

use regex::Regex;

use super::model::{
    AppProtocol, Connection, DelayKind, DnsTransaction, FilterCounts, FilterInfo, H3Offer,
    HttpExchange, QuicConnection, RedirectRef, Report,
};

/// A parsed filter.
#[derive(Debug, Clone)]
pub struct Filter {
    text: String,
    expr: Expr,
}

/// A filter that does not parse: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub text: String,
    /// 0-based position (in characters) of the first offending character, and how many.
    pub column: usize,
    pub width: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--filter: {}", self.message)?;
        writeln!(f, "  {}", self.text)?;
        write!(
            f,
            "  {}{}",
            " ".repeat(self.column),
            "^".repeat(self.width.max(1))
        )
    }
}

impl std::error::Error for FilterError {}

/// The kind of value a field holds, which decides how its literals are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    /// `h1`, `h2`, `h3`: literals are normalised.
    Proto,
    Num,
    /// Milliseconds.
    Dur,
    /// Bytes.
    Size,
    Bool,
    Conn,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Proto => "h1, h2 or h3",
            Kind::Num => "a number",
            Kind::Dur => "a duration (250us, 100ms, 1.5s)",
            Kind::Size => "a size (512B, 10kB, 1.5MB, 2MiB)",
            Kind::Bool => "true or false",
            Kind::Conn => "a connection id (3) or a QUIC one (quic-1)",
        }
    }
}

/// Every field: its name and kind.
const FIELDS: &[(&str, Kind)] = &[
    ("method", Kind::Str),
    ("url", Kind::Str),
    ("path", Kind::Str),
    ("status", Kind::Num),
    ("version", Kind::Str),
    ("proto", Kind::Proto),
    ("ttfb", Kind::Dur),
    ("download", Kind::Dur),
    ("delay", Kind::Dur),
    ("server_think", Kind::Dur),
    ("size", Kind::Size),
    ("request_size", Kind::Size),
    ("type", Kind::Str),
    ("encoding", Kind::Str),
    ("stream", Kind::Num),
    ("complete", Kind::Bool),
    ("reset", Kind::Str),
    ("redirect", Kind::Str),
    ("conn", Kind::Conn),
    ("transport", Kind::Str),
    ("host", Kind::Str),
    ("sni", Kind::Str),
    ("client", Kind::Str),
    ("server", Kind::Str),
    ("ip", Kind::Str),
    ("port", Kind::Num),
    ("tls.version", Kind::Str),
    ("tls.cipher", Kind::Str),
    ("tls.alpn", Kind::Str),
    ("tls.resumed", Kind::Bool),
    ("tls.decrypted", Kind::Bool),
    ("tls.handshake", Kind::Dur),
    ("tcp.handshake", Kind::Dur),
    ("retransmissions", Kind::Num),
    ("tcp.stream", Kind::Num),
    ("udp.stream", Kind::Num),
    ("close", Kind::Str),
    ("bytes", Kind::Size),
    ("dns.name", Kind::Str),
    ("dns.type", Kind::Str),
    ("dns.rcode", Kind::Str),
    ("dns.latency", Kind::Dur),
    ("dns.transport", Kind::Str),
    ("dns.ad", Kind::Bool),
    ("dns.cached", Kind::Bool),
    ("dns.upstream", Kind::Num),
];

/// The names of every field, for `--help` and error messages.
pub fn field_names() -> Vec<&'static str> {
    FIELDS.iter().map(|(n, _)| *n).collect()
}

/// A field's value in one record.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    /// (QUIC, id).
    Conn(bool, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Test {
    Present,
    Cmp(Cmp, Val<'static>),
    Matches(Regex),
    Contains(String),
    /// Values and inclusive ranges.
    In(Vec<(Val<'static>, Option<Val<'static>>)>),
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(&'static str, Test),
}

/// What one evaluation looks at: a request (or none), its connection (or none) and the DNS
/// lookup linked to it, or a DNS transaction alone (`dns_alone`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub request: Option<&'a HttpExchange>,
    pub tcp: Option<&'a Connection>,
    pub quic: Option<&'a QuicConnection>,
    pub dns: Option<&'a DnsTransaction>,
    /// The record is the DNS transaction itself (`host` is then its question).
    pub dns_alone: bool,
}

mod parse;

impl Filter {
    /// Parses `text`; the error names the column of the first thing wrong.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let expr = parse::parse(text)?;
        Ok(Filter {
            text: text.to_string(),
            expr,
        })
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the expression holds for one record.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        eval(&self.expr, s)
    }

    /// Whether a DNS transaction matches alone (its `dns.*` fields and `host`).
    pub fn matches_dns(&self, t: &DnsTransaction) -> bool {
        self.matches(&Subject {
            dns: Some(t),
            dns_alone: true,
            ..Subject::default()
        })
    }

    /// The indices of a TCP connection's requests that match, or `None` when the connection
    /// is dropped; a connection without requests is kept (with `Some(empty)`) when it
    /// matches alone.
    pub fn tcp_requests(&self, c: &Connection, dns: Option<&DnsTransaction>) -> Option<Vec<usize>> {
        let base = Subject {
            tcp: Some(c),
            dns,
            ..Subject::default()
        };
        self.requests(&c.http, base)
    }

    /// As [`Filter::tcp_requests`], for a QUIC connection.
    pub fn quic_requests(
        &self,
        q: &QuicConnection,
        dns: Option<&DnsTransaction>,
    ) -> Option<Vec<usize>> {
        let base = Subject {
            quic: Some(q),
            dns,
            ..Subject::default()
        };
        self.requests(&q.http, base)
    }

    fn requests(&self, http: &[HttpExchange], base: Subject<'_>) -> Option<Vec<usize>> {
        if http.is_empty() {
            return self.matches(&base).then(Vec::new);
        }
        let kept: Vec<usize> = (0..http.len())
            .filter(|&i| {
                self.matches(&Subject {
                    request: Some(&http[i]),
                    ..base
                })
            })
            .collect();
        (!kept.is_empty()).then_some(kept)
    }

    /// What the filter keeps of a report (module doc), with links re-pointed.
    pub fn apply(&self, r: Report) -> Report {
        let before = counts(&r);
        let lookup = |i: Option<usize>| i.and_then(|i| r.dns.get(i));
        let tcp_kept: Vec<Option<Vec<usize>>> = r
            .connections
            .iter()
            .map(|c| self.tcp_requests(c, lookup(c.dns)))
            .collect();
        let quic_kept: Vec<Option<Vec<usize>>> = r
            .quic
            .iter()
            .map(|q| self.quic_requests(q, lookup(q.dns)))
            .collect();
        let mut linked = vec![false; r.dns.len()];
        for (c, k) in r.connections.iter().zip(&tcp_kept) {
            if k.is_some() {
                for i in c
                    .dns
                    .into_iter()
                    .chain(c.https_record.as_ref().map(|o| o.dns))
                {
                    if let Some(l) = linked.get_mut(i) {
                        *l = true;
                    }
                }
            }
        }
        for (q, k) in r.quic.iter().zip(&quic_kept) {
            if k.is_some() {
                for i in q
                    .dns
                    .into_iter()
                    .chain(q.h3_dns_offer.as_ref().map(|o| o.dns))
                    .chain(q.https_record.as_ref().map(|o| o.dns))
                {
                    if let Some(l) = linked.get_mut(i) {
                        *l = true;
                    }
                }
            }
        }
        let dns_keep: Vec<bool> = r
            .dns
            .iter()
            .zip(&linked)
            .map(|(t, &l)| l || self.matches_dns(t))
            .collect();
        let mut out = prune(r, &tcp_kept, &quic_kept, &dns_keep);
        out.filter = Some(FilterInfo {
            expression: self.text.clone(),
            before,
        });
        out
    }
}

/// Keeps what was decided and re-points every index at the kept items.
fn prune(
    r: Report,
    tcp_kept: &[Option<Vec<usize>>],
    quic_kept: &[Option<Vec<usize>>],
    dns_keep: &[bool],
) -> Report {
    let mut dns_map = vec![None; dns_keep.len()];
    let mut dns = Vec::new();
    for (i, t) in r.dns.into_iter().enumerate() {
        if dns_keep[i] {
            dns_map[i] = Some(dns.len());
            dns.push(t);
        }
    }
    let remap_dns = |i: Option<usize>| i.and_then(|i| dns_map.get(i).copied().flatten());
    // A kept lookup keeps its whole chain; a step whose own transaction was left out
    // points nowhere.
    for t in &mut dns {
        t.upstream_of = remap_dns(t.upstream_of);
        for s in t.chain.iter_mut().flatten() {
            s.dns = remap_dns(s.dns);
        }
    }
    // (QUIC, connection id, old index) → new index.
    let mut moved = std::collections::HashMap::new();
    let mut connections = Vec::new();
    for (mut c, k) in r.connections.into_iter().zip(tcp_kept) {
        let Some(k) = k else { continue };
        c.http = keep(std::mem::take(&mut c.http), k, |old, new| {
            moved.insert((false, c.id, old), new);
        });
        c.dns = remap_dns(c.dns);
        c.https_record = c.https_record.take().and_then(|mut o| {
            o.dns = remap_dns(Some(o.dns))?;
            Some(o)
        });
        connections.push(c);
    }
    let mut quic = Vec::new();
    for (mut q, k) in r.quic.into_iter().zip(quic_kept) {
        let Some(k) = k else { continue };
        q.http = keep(std::mem::take(&mut q.http), k, |old, new| {
            moved.insert((true, q.id, old), new);
        });
        q.dns = remap_dns(q.dns);
        q.h3_dns_offer = q.h3_dns_offer.take().and_then(|mut o| {
            o.dns = remap_dns(Some(o.dns))?;
            Some(o)
        });
        q.https_record = q.https_record.take().and_then(|mut o| {
            o.dns = remap_dns(Some(o.dns))?;
            Some(o)
        });
        quic.push(q);
    }
    let redirect = |r: RedirectRef| {
        let index = *moved.get(&(r.quic, r.connection, r.index))?;
        Some(RedirectRef { index, ..r })
    };
    let offer = |o: H3Offer| {
        let index = *moved.get(&(false, o.connection, o.index))?;
        Some(H3Offer { index, ..o })
    };
    for h in connections
        .iter_mut()
        .flat_map(|c| c.http.iter_mut())
        .chain(quic.iter_mut().flat_map(|q| q.http.iter_mut()))
    {
        h.redirected_from = h.redirected_from.and_then(redirect);
    }
    for q in &mut quic {
        q.h3_offer = q.h3_offer.take().and_then(offer);
    }
    Report {
        dns,
        connections,
        quic,
        ..r
    }
}

/// The exchanges at `indices` (ascending), telling `moved` each one's old and new index.
fn keep(
    http: Vec<HttpExchange>,
    indices: &[usize],
    mut moved: impl FnMut(usize, usize),
) -> Vec<HttpExchange> {
    let mut out = Vec::with_capacity(indices.len());
    for (old, h) in http.into_iter().enumerate() {
        if indices.binary_search(&old).is_ok() {
            moved(old, out.len());
            out.push(h);
        }
    }
    out
}

fn eval(e: &Expr, s: &Subject<'_>) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, s) || eval(b, s),
        Expr::And(a, b) => eval(a, s) && eval(b, s),
        Expr::Not(a) => !eval(a, s),
        Expr::Test(field, t) => match value(field, s) {
            None => false,
            Some(v) => test(&v, t),
        },
    }
}

fn test(v: &Val<'_>, t: &Test) -> bool {
    match t {
        Test::Present => !matches!(v, Val::Bool(false)),
        Test::Cmp(op, lit) => compare(v, lit).is_some_and(|o| match op {
            Cmp::Eq => o.is_eq(),
            Cmp::Ne => o.is_ne(),
            Cmp::Lt => o.is_lt(),
            Cmp::Le => o.is_le(),
            Cmp::Gt => o.is_gt(),
            Cmp::Ge => o.is_ge(),
        }),
        Test::Matches(re) => as_text(v).is_some_and(|s| re.is_match(&s)),
        Test::Contains(needle) => as_text(v).is_some_and(|s| s.contains(needle.as_str())),
        Test::In(set) => set.iter().any(|(lo, hi)| match hi {
            None => compare(v, lo).is_some_and(|o| o.is_eq()),
            Some(hi) => {
                compare(v, lo).is_some_and(|o| o.is_ge())
                    && compare(v, hi).is_some_and(|o| o.is_le())
            }
        }),
    }
}

fn as_text<'a>(v: &'a Val<'_>) -> Option<Cow<'a, str>> {
    match v {
        Val::Str(s) => Some(Cow::Borrowed(s)),
        Val::Num(n) => Some(Cow::Owned(n.to_string())),
        Val::Bool(b) => Some(Cow::Owned(b.to_string())),
        Val::Conn(q, id) => Some(Cow::Owned(if *q {
            format!("quic-{id}")
        } else {
            id.to_string()
        })),
    }
}

fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Conn(qa, a), Val::Conn(qb, b)) if qa == qb => Some(a.cmp(b)),
        _ => None,
    }
}

/// `h1`, `h2`, `h3` for a protocol name as a user or the report spells it.
fn proto_name(s: &str) -> Option<&'static str> {
    match s.to_ascii_lowercase().as_str() {
        "h1" | "http/1" | "http/1.0" | "http/1.1" | "http1" => Some("h1"),
        "h2" | "h2c" | "http/2" | "http2" => Some("h2"),
        "h3" | "http/3" | "http3" => Some("h3"),
        _ => None,
    }
}

fn s<'a>(v: &'a str) -> Val<'a> {
    Val::Str(Cow::Borrowed(v))
}

fn n(v: impl Into<f64>) -> Val<'static> {
    Val::Num(v.into())
}

/// A field's value in the record, `None` when it has none.
fn value<'a>(field: &str, x: &Subject<'a>) -> Option<Val<'a>> {
    if let Some(v) = field.strip_prefix("dns.") {
        return dns_value(v, x.dns?);
    }
    if let Some(v) = request_value(field, x) {
        return v;
    }
    connection_value(field, x)
}

/// A request field: `Some(value or None)`, or `None` when `field` is not one.
fn request_value<'a>(field: &str, x: &Subject<'a>) -> Option<Option<Val<'a>>> {
    let h = x.request;
    let v = match field {
        "method" => h.and_then(|h| h.method.as_deref()).map(s),
        "url" => h.and_then(|h| h.url.as_deref()).map(s),
        "path" => h.and_then(|h| h.path.as_deref()).map(s),
        "status" => h.and_then(|h| h.status).map(n),
        "version" => h.map(|h| s(&h.version)),
        "ttfb" => h.and_then(|h| h.ttfb_ms).map(n),
        "download" => h.and_then(|h| h.download_ms).map(n),
        // What the network cost the request (its diagnosis, server think time left out: 0
        // when nothing held it up), and the server's own time beyond the round trip (absent
        // under the threshold).
        "delay" => h.map(|h| {
            n(h.diagnosis
                .iter()
                .filter(|d| d.kind != DelayKind::ServerThink)
                .map(|d| d.ms)
                .sum::<f64>())
        }),
        "server_think" => h.and_then(|h| {
            h.diagnosis
                .iter()
                .find(|d| d.kind == DelayKind::ServerThink)
                .map(|d| n(d.ms))
        }),
        "size" => h.map(|h| n(h.body_bytes as f64)),
        "request_size" => h.map(|h| n(h.request_body_bytes as f64)),
        "type" => h
            .and_then(|h| h.content_type.as_deref())
            .map(|t| s(t.split(';').next().unwrap_or(t).trim())),
        "encoding" => h.and_then(|h| h.content_encoding.as_deref()).map(s),
        "stream" => h.and_then(|h| h.stream).map(|v| n(v as f64)),
        "complete" => h.map(|h| Val::Bool(h.complete)),
        "reset" => h.and_then(|h| h.reset.as_deref()).map(s),
        "redirect" => h.and_then(|h| h.redirect_to.as_deref()).map(s),
        "proto" => match h {
            Some(h) => proto_name(&h.version).map(s),
            None => connection_proto(x).map(s),
        },
        "host" => match h.and_then(HttpExchange::host) {
            Some(host) => Some(s(host)),
            None if x.dns_alone => x.dns?.questions.first().map(|q| s(&q.name)),
            None => x
                .tcp
                .and_then(|c| c.hostname.as_deref())
                .or_else(|| x.quic.and_then(|q| q.hostname.as_deref()))
                .map(s),
        },
        _ => return None,
    };
    Some(v)
}

/// A connection without requests: what its ALPN or its bytes said.
fn connection_proto(x: &Subject<'_>) -> Option<&'static str> {
    if x.quic.is_some() {
        return Some("h3");
    }
    let c = x.tcp?;
    if let Some(a) = c.tls.as_ref().and_then(|t| t.alpn.as_deref()) {
        return proto_name(a);
    }
    match c.app_protocol? {
        AppProtocol::Http1 | AppProtocol::TlsHttp1 => Some("h1"),
        AppProtocol::Http2 | AppProtocol::TlsHttp2 | AppProtocol::Http1H2c => Some("h2"),
        _ => None,
    }
}

fn connection_value<'a>(field: &str, x: &Subject<'a>) -> Option<Val<'a>> {
    let tls = x
        .tcp
        .and_then(|c| c.tls.as_deref())
        .or_else(|| x.quic.and_then(|q| q.tls.as_deref()));
    let ends = x
        .tcp
        .map(|c| (c.client, c.server))
        .or_else(|| x.quic.map(|q| (q.client, q.server)));
    match field {
        "conn" => x
            .tcp
            .map(|c| Val::Conn(false, c.id))
            .or_else(|| x.quic.map(|q| Val::Conn(true, q.id))),
        "transport" => x
            .tcp
            .map(|_| s("tcp"))
            .or_else(|| x.quic.map(|_| s("quic"))),
        "sni" => tls.and_then(|t| t.sni.as_deref()).map(s),
        "client" => ends.map(|e| Val::Str(Cow::Owned(e.0.to_string()))),
        "server" => ends.map(|e| Val::Str(Cow::Owned(e.1.to_string()))),
        "ip" => ends.map(|e| Val::Str(Cow::Owned(e.1.ip().to_string()))),
        "port" => ends.map(|e| n(e.1.port())),
        "tls.version" => tls.and_then(|t| t.version.as_deref()).map(s),
        "tls.cipher" => tls.and_then(|t| t.cipher.as_deref()).map(s),
        "tls.alpn" => tls.and_then(|t| t.alpn.as_deref()).map(s),
        "tls.resumed" => tls.map(|t| Val::Bool(t.resumed)),
        "tls.decrypted" => tls.map(|t| Val::Bool(t.decrypted)),
        "tls.handshake" => tls.and_then(|t| t.handshake_ms).map(n),
        "tcp.handshake" => x.tcp.and_then(|c| c.tcp.handshake_ms).map(n),
        "retransmissions" => x.tcp.map(|c| {
            let r = c.tcp.retransmissions;
            n((r.client + r.server) as f64)
        }),
        "tcp.stream" => x.tcp.and_then(|c| c.tcp_stream).map(|v| n(v as f64)),
        "udp.stream" => x.quic.and_then(|q| q.udp_stream).map(|v| n(v as f64)),
        "close" => x.tcp.map(|c| s(c.tcp.close.kind.as_str())),
        "bytes" => x
            .tcp
            .map(|c| c.tcp.bytes)
            .or_else(|| x.quic.map(|q| q.bytes))
            .map(|b| n((b.client + b.server) as f64)),
        _ => None,
    }
}

fn dns_value<'a>(field: &str, t: &'a DnsTransaction) -> Option<Val<'a>> {
    match field {
        "name" => t.questions.first().map(|q| s(&q.name)),
        "type" => t.questions.first().map(|q| s(&q.qtype)),
        "rcode" => t.rcode.as_deref().map(s),
        "latency" => t.latency_ms.map(n),
        "transport" => Some(s(t.transport.as_str())),
        "ad" => Some(Val::Bool(t.dnssec.ad)),
        "cached" => t.cached.map(Val::Bool),
        "upstream" => t.chain.as_ref().map(|c| n(c.len() as f64)),
        _ => None,
    }
}

/// Counts before filtering, for [`FilterInfo`].
pub fn counts(r: &Report) -> FilterCounts {
    FilterCounts {
        requests: r.connections.iter().map(|c| c.http.len()).sum::<usize>()
            + r.quic.iter().map(|q| q.http.len()).sum::<usize>(),
        connections: r.connections.len(),
        quic: r.quic.len(),
        dns: r.dns.len(),
    }
}

#[cfg(test)]
mod tests;
