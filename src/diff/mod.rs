//! Two page-load reports → one typed, serializable comparison (`pagetrace diff A B`).
//!
//! Consumes two [`Report`]s (from captures or from saved `analyze --format json` documents:
//! the diff does not care which) and produces a [`Diff`]:
//!
//! - `summary`: page-level metrics for A and B with the delta: requests, connections, DNS
//!   lookups, bytes, retransmissions, resets, total page time, and the sum and median of each
//!   phase (DNS latency per lookup; TCP connect and TLS handshake per connection, a QUIC
//!   connection's handshake counted as its TLS handshake, which it is; TTFB and download per
//!   HTTP exchange). `connections` counts TCP and QUIC connections.
//! - `requests`: exchanges of TCP connections (HTTP/1.x, HTTP/2) and of QUIC connections
//!   (HTTP/3) alike, matched by method, host and path, so a request that moved from HTTP/2
//!   to HTTP/3 is one row whose `protocol` changed. When the same key repeats, the
//!   k-th occurrence in A (in order of request time) is matched with the k-th in B. The host
//!   is the URL's authority, lower-cased, without a default port (`:80`, `:443`), so an
//!   `http://` request that became `https://` still matches; the path keeps its query.
//! - `only_a` / `only_b`: exchanges left unmatched on one side.
//! - `origins`: per origin (scheme, host, port; a QUIC connection's is `https://host`):
//!   HTTP and TLS versions, resumption, connection reuse, how many connections were QUIC,
//!   DNS looked up or cached, retransmissions and resets, with the names of what changed.
//!   QUIC handshakes count with the TLS ones (version, resumption): `h2` → `h3` shows as
//!   `http_version` (and `quic`), a resumed QUIC handshake as resumption.
//!
//! - `why`: the page time's change and what the requests' diagnoses say about it, per kind
//!   of delay (retransmission timeouts, server think time, ...), the largest change first,
//!   with a sentence; each request's own as `because` ([`why`]).
//!
//! Guarantees: pure and deterministic (no I/O, no clock); a report diffed with itself has
//! every delta zero and every `changes` list empty. Deltas are `b - a`, rounded to the
//! microsecond (the precision of saved JSON timestamps), `None` (JSON `null`) unless both
//! sides were observed. `threshold_ms` decides which timing deltas count as changes (`ttfb`,
//! `total` in a request's `changes`) and which the table colours; it never hides a row.

pub mod runs;
mod table;
mod why;

pub use why::DelayDelta;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Write};
use std::net::SocketAddr;

use serde::Serialize;

use crate::pageload::model::{
    AppProtocol, CloseKind, Connection, HttpExchange, QuicConnection, Report, TlsInfo,
};
use crate::report::fmt::round_us;
use crate::report::timing;
use crate::time::Ts;

pub use table::{write_table, DiffTableOptions};

/// How `requests` are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// A's request order (then B's for nothing: unmatched B requests are in `only_b`).
    #[default]
    Order,
    /// Largest absolute change first (the larger of the total and TTFB deltas).
    Delta,
}

#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Timing deltas at or below this (absolute, in ms) are noise: no colour, no `changes` entry.
    pub threshold_ms: f64,
    pub sort: SortBy,
}

impl Default for DiffOptions {
    fn default() -> DiffOptions {
        DiffOptions {
            threshold_ms: 5.0,
            sort: SortBy::Order,
        }
    }
}

/// The comparison. Serializes as the `--format json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub summary: Vec<SummaryRow>,
    pub requests: Vec<RequestDiff>,
    pub only_a: Vec<OnlyRequest>,
    pub only_b: Vec<OnlyRequest>,
    pub origins: Vec<OriginDiff>,
    pub why: Why,
    /// The options the diff was made with (the table colours by the same threshold).
    #[serde(skip)]
    pub options: DiffOptions,
}

/// What made B slower or faster, from the diagnoses of both loads.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    /// B's page time minus A's.
    pub page_ms_delta: Option<f64>,
    /// The delays whose total changed beyond the threshold, the largest change first.
    pub delays: Vec<DelayDelta>,
    /// `2 retransmission timeouts (+380.2 ms), server think time +31.0 ms`; empty when no
    /// delay changed.
    pub sentence: String,
}

/// A number as JSON shows it: counts and bytes as integers, durations as floats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Ms(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Ms(m) => m,
        }
    }
}

/// What a summary metric counts; decides its formatting and whether the threshold applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Ms,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// A stable snake_case name: `requests`, `page_ms`, `ttfb_median_ms`, ...
    pub metric: &'static str,
    pub a: Option<Num>,
    pub b: Option<Num>,
    pub delta: Option<Num>,
    /// What the table shows: `TTFB (median)`.
    #[serde(skip)]
    pub label: &'static str,
    #[serde(skip)]
    pub unit: Unit,
}

impl SummaryRow {
    /// `delta / a` in per cent; `None` when either is missing or `a` is zero.
    pub fn change_pct(&self) -> Option<f64> {
        let a = self.a?.as_f64();
        let d = self.delta?.as_f64();
        (a != 0.0).then(|| d / a * 100.0)
    }
}

/// One side of a matched (or unmatched) request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestSide {
    /// `Connection::id` in that report, or `QuicConnection::id` when `quic`.
    pub connection: u64,
    /// The request went over QUIC (HTTP/3): `connection` is an id in the report's `quic`.
    /// Left out when false.
    #[serde(skip_serializing_if = "is_false")]
    pub quic: bool,
    pub url: Option<String>,
    pub status: Option<u16>,
    /// `HTTP/1.1`, `HTTP/2`, ...
    pub protocol: String,
    /// Response body bytes as transferred.
    pub body_bytes: u64,
    pub ttfb_ms: Option<f64>,
    /// From the first byte of the request to the last byte of the response.
    pub total_ms: Option<f64>,
    /// From the page's first event (first DNS query or SYN) to the request.
    pub start_ms: Option<f64>,
    pub complete: bool,
    /// Its delays per kind (its diagnosis; its connection's too when it is the first).
    #[serde(skip)]
    pub delays: why::Totals,
    /// From the first response byte to the last (many runs compare it; a two-load diff
    /// shows the total).
    #[serde(skip)]
    pub download_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestDiff {
    pub method: String,
    /// A's URL (B's carries its own in `b.url`, which differs when the scheme changed).
    pub url: String,
    pub a: RequestSide,
    pub b: RequestSide,
    pub delta_ttfb_ms: Option<f64>,
    pub delta_total_ms: Option<f64>,
    /// The delays (from the diagnoses) whose total changed beyond the threshold, the
    /// largest change first; left out when none did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<DelayDelta>,
    /// What changed: `status`, `protocol`, `body_bytes`, `url`, `complete`, and `ttfb` /
    /// `total` when the delta is beyond the threshold.
    pub changes: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OnlyRequest {
    pub method: String,
    pub url: String,
    #[serde(flatten)]
    pub side: RequestSide,
}

/// What one side saw of one origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OriginSide {
    pub connections: usize,
    pub requests: usize,
    /// Distinct HTTP versions of its exchanges (or from ALPN when none were readable).
    pub http_versions: Vec<String>,
    pub tls_versions: Vec<String>,
    pub tls_connections: usize,
    pub tls_resumed: usize,
    /// Distinct DNS lookups linked to its connections; 0 means the address was cached.
    pub dns_lookups: usize,
    /// Retransmitted segments, both directions.
    pub retransmissions: u64,
    /// Connections ended by a TCP RST.
    pub tcp_resets: usize,
    /// HTTP/2 streams reset (RST_STREAM), HTTP/3 streams reset.
    pub stream_resets: usize,
    /// Of `connections`, those over QUIC (also counted in `tls_connections`). Left out when
    /// zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub quic_connections: usize,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct OriginDiff {
    /// `https://www.example.test`, `http://www.example.test:8080`.
    pub origin: String,
    pub a: Option<OriginSide>,
    pub b: Option<OriginSide>,
    /// `only_a`, `only_b`, or what differs: `http_version`, `tls_version`, `resumption`,
    /// `connection_reuse`, `quic`, `dns`, `retransmissions`, `resets`.
    pub changes: Vec<&'static str>,
}

/// Compares two page loads.
pub fn diff(a: &Report, b: &Report, opts: &DiffOptions) -> Diff {
    let ra = requests_of(a);
    let rb = requests_of(b);
    let (mut requests, only_a, only_b) = match_requests(&ra, &rb, opts);
    if opts.sort == SortBy::Delta {
        // Stable: equal changes keep A's order.
        requests.sort_by(|x, y| magnitude(y).total_cmp(&magnitude(x)));
    }
    Diff {
        summary: summary(a, b, &ra, &rb),
        requests,
        only_a,
        only_b,
        origins: origins(a, b),
        why: {
            let delays = why::deltas(
                &why::page_totals(a),
                &why::page_totals(b),
                opts.threshold_ms,
            );
            Why {
                page_ms_delta: delta(page_ms(a), page_ms(b)),
                sentence: why::sentence(&delays),
                delays,
            }
        },
        options: *opts,
    }
}

/// Writes the diff as one pretty-printed JSON document and a newline.
pub fn write_json<W: Write>(out: &mut W, d: &Diff) -> io::Result<()> {
    crate::report::json::write_pretty(out, d)
}

fn delta(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(round_us(b? - a?))
}

fn magnitude(r: &RequestDiff) -> f64 {
    let t = r.delta_total_ms.map_or(0.0, f64::abs);
    let f = r.delta_ttfb_ms.map_or(0.0, f64::abs);
    t.max(f)
}

// ---------------------------------------------------------------------------------------
// Requests

/// One exchange with what matching needs.
struct Req {
    method: String,
    host: String,
    path: String,
    url: String,
    side: RequestSide,
}

/// Every exchange of a report, TCP and QUIC, in order of request time (response time when
/// the request was not captured), TCP connections then QUIC ones breaking ties.
fn requests_of(r: &Report) -> Vec<Req> {
    let page_start = page_span(r).0;
    // A request's time is its timing row's (the HAR `time`: from the setup it waited on, or
    // its first byte, to its last response byte), the one definition every output uses.
    let times: HashMap<(bool, u64, usize), f64> = timing::rows(r)
        .iter()
        .filter_map(|row| {
            let (i, _) = row.exchange?;
            Some(((row.conn.is_quic(), row.conn.id(), i), row.duration_ms()))
        })
        .collect();
    let tcp = r.connections.iter().flat_map(|c| {
        c.http.iter().enumerate().map(move |(i, h)| {
            let setup: &[crate::pageload::model::Delay] = if i == 0 { &c.diagnosis } else { &[] };
            (i, h, c.id, false, c.hostname.as_deref(), c.server, setup)
        })
    });
    let quic = r.quic.iter().flat_map(|q| {
        q.http.iter().enumerate().map(move |(i, h)| {
            let setup: &[crate::pageload::model::Delay] = &[];
            (i, h, q.id, true, q.hostname.as_deref(), q.server, setup)
        })
    });
    let mut all: Vec<(Option<Ts>, usize, Req)> = Vec::new();
    for (index, h, connection, quic, hostname, server, setup) in tcp.chain(quic) {
        let mut delays = why::Totals::new();
        why::add(&mut delays, setup);
        why::add(&mut delays, &h.diagnosis);
        let (host, path) = host_and_path(h, hostname, server);
        let method = h.method.clone().unwrap_or_else(|| "?".into());
        let url = h.url.clone().unwrap_or_else(|| format!("{host}{path}"));
        let start = h.request_ts.or(h.response_ts);
        let end = h.response_end_ts.or(h.response_ts);
        let side = RequestSide {
            connection,
            quic,
            url: h.url.clone(),
            status: h.status,
            protocol: h.version.clone(),
            body_bytes: h.body_bytes,
            ttfb_ms: h.ttfb_ms.map(round_us),
            total_ms: times
                .get(&(quic, connection, index))
                .map(|&ms| round_us(ms))
                .filter(|_| end.is_some()),
            start_ms: match (page_start, start) {
                (Some(p), Some(s)) => Some(round_us(s.ms_since(p))),
                _ => None,
            },
            complete: h.complete,
            delays,
            download_ms: h.download_ms.map(round_us),
        };
        let n = all.len();
        all.push((
            start,
            n,
            Req {
                method,
                host,
                path,
                url,
                side,
            },
        ));
    }
    // None sorts first in Option's order; put unknown times last instead.
    all.sort_by_key(|(t, n, _)| (t.is_none(), *t, *n));
    all.into_iter().map(|(_, _, r)| r).collect()
}

/// The matching key's host (authority without a default port, lower case) and path; without
/// a URL, the connection's `hostname` (else its `server` address).
fn host_and_path(h: &HttpExchange, hostname: Option<&str>, server: SocketAddr) -> (String, String) {
    let from_url = h.url.as_deref().and_then(|u| {
        let (_, rest) = u.split_once("://")?;
        let (auth, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (rest.get(..i)?, rest.get(i..)?),
            None => (rest, "/"),
        };
        Some((auth.to_string(), path.to_string()))
    });
    let (auth, url_path) = match from_url {
        Some((a, p)) => (a, Some(p)),
        None => (
            hostname.map_or_else(|| server.to_string(), str::to_string),
            None,
        ),
    };
    let path = h
        .path
        .clone()
        .or(url_path)
        .unwrap_or_else(|| "/".to_string());
    let path = path.split('#').next().unwrap_or("").to_string();
    // Userinfo is not part of the host (RFC 3986 section 3.2).
    let auth = auth.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    let host = auth
        .strip_suffix(":80")
        .or_else(|| auth.strip_suffix(":443"))
        .unwrap_or(&auth)
        .to_string();
    (host, path)
}

fn match_requests(
    ra: &[Req],
    rb: &[Req],
    opts: &DiffOptions,
) -> (Vec<RequestDiff>, Vec<OnlyRequest>, Vec<OnlyRequest>) {
    // Key → B's indices in order; the k-th A with a key takes the k-th B.
    let mut queues: HashMap<(&str, &str, &str), VecDeque<usize>> = HashMap::new();
    for (i, r) in rb.iter().enumerate() {
        queues
            .entry((r.method.as_str(), r.host.as_str(), r.path.as_str()))
            .or_default()
            .push_back(i);
    }
    let mut used = vec![false; rb.len()];
    let mut matched = Vec::new();
    let mut only_a = Vec::new();
    for x in ra {
        let key = (x.method.as_str(), x.host.as_str(), x.path.as_str());
        match queues.get_mut(&key).and_then(VecDeque::pop_front) {
            Some(j) => {
                if let (Some(u), Some(y)) = (used.get_mut(j), rb.get(j)) {
                    *u = true;
                    matched.push(request_diff(x, y, opts));
                }
            }
            None => only_a.push(only(x)),
        }
    }
    let only_b = rb
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(r, _)| only(r))
        .collect();
    (matched, only_a, only_b)
}

fn only(r: &Req) -> OnlyRequest {
    OnlyRequest {
        method: r.method.clone(),
        url: r.url.clone(),
        side: r.side.clone(),
    }
}

fn request_diff(x: &Req, y: &Req, opts: &DiffOptions) -> RequestDiff {
    let (a, b) = (&x.side, &y.side);
    let delta_ttfb_ms = delta(a.ttfb_ms, b.ttfb_ms);
    let delta_total_ms = delta(a.total_ms, b.total_ms);
    let beyond = |d: Option<f64>| d.is_some_and(|d| d.abs() > opts.threshold_ms);
    let mut changes = Vec::new();
    if a.status != b.status {
        changes.push("status");
    }
    if a.protocol != b.protocol {
        changes.push("protocol");
    }
    if a.body_bytes != b.body_bytes {
        changes.push("body_bytes");
    }
    if x.url != y.url {
        changes.push("url");
    }
    if a.complete != b.complete {
        changes.push("complete");
    }
    if beyond(delta_ttfb_ms) {
        changes.push("ttfb");
    }
    if beyond(delta_total_ms) {
        changes.push("total");
    }
    RequestDiff {
        method: x.method.clone(),
        url: x.url.clone(),
        a: a.clone(),
        b: b.clone(),
        delta_ttfb_ms,
        delta_total_ms,
        because: why::deltas(&a.delays, &b.delays, opts.threshold_ms),
        changes,
    }
}

// ---------------------------------------------------------------------------------------
// Summary

/// The page's first and last events: DNS queries and answers, SYNs, requests, the ends of
/// responses and closes. Falls back to the capture's first and last packets.
fn page_span(r: &Report) -> (Option<Ts>, Option<Ts>) {
    let mut first: Option<Ts> = None;
    let mut last: Option<Ts> = None;
    let mut see = |t: Option<Ts>, is_end: bool| {
        if let Some(t) = t {
            first = Some(first.map_or(t, |f| f.min(t)));
            if is_end {
                last = Some(last.map_or(t, |l| l.max(t)));
            }
        }
    };
    for d in &r.dns {
        see(Some(d.ts), false);
        see(d.response_ts, true);
    }
    for c in &r.connections {
        see(c.tcp.syn_ts.or(c.tcp.synack_ts), false);
        let mut any_http = false;
        for h in &c.http {
            see(h.request_ts, false);
            let end = h.response_end_ts.or(h.response_ts);
            any_http |= end.is_some();
            see(end, true);
        }
        if !any_http {
            // No response seen: the connection's own end is the best we have.
            see(c.tcp.close.ts.or(c.tcp.ack_ts), true);
        }
    }
    for q in &r.quic {
        see(q.client_initial_ts.or(Some(q.first_ts)), false);
        let mut any_http = false;
        for h in &q.http {
            see(h.request_ts, false);
            let end = h.response_end_ts.or(h.response_ts);
            any_http |= end.is_some();
            see(end, true);
        }
        if !any_http {
            see(q.close.first().map(|c| c.ts).or(Some(q.last_ts)), true);
        }
    }
    (first.or(r.capture.first_ts), last.or(r.capture.last_ts))
}

/// The page load's time, as every output says it ([`timing::load_span`]).
fn page_ms(r: &Report) -> Option<f64> {
    timing::load_span(&timing::rows(r)).map(|(a, b)| round_us(b.ms_since(a)))
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v.get(n / 2).copied()?
    } else {
        (v.get(n / 2 - 1).copied()? + v.get(n / 2).copied()?) / 2.0
    };
    Some(round_us(m))
}

fn sum(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| round_us(v.iter().filter(|x| x.is_finite()).sum()))
}

/// The values of one phase over a report.
fn phase_values(r: &Report, phase: Phase) -> Vec<f64> {
    match phase {
        Phase::Dns => r.dns.iter().filter_map(|d| d.latency_ms).collect(),
        Phase::Connect => r
            .connections
            .iter()
            .filter_map(|c| c.tcp.handshake_ms)
            .collect(),
        Phase::Tls => r
            .connections
            .iter()
            .filter_map(|c| c.tls.as_ref().and_then(|t| t.handshake_ms))
            .chain(r.quic.iter().filter_map(quic_handshake_ms))
            .collect(),
        Phase::Ttfb => all_http(r).filter_map(|h| h.ttfb_ms).collect(),
        Phase::Download => all_http(r).filter_map(|h| h.download_ms).collect(),
    }
}

#[derive(Clone, Copy)]
enum Phase {
    Dns,
    Connect,
    Tls,
    Ttfb,
    Download,
}

/// A QUIC connection's handshake, as the timing model measures it: to the client's
/// Finished when decrypted (the TLS handshake's own duration), else to the server's first
/// Handshake packet.
fn quic_handshake_ms(q: &QuicConnection) -> Option<f64> {
    q.tls
        .as_ref()
        .filter(|t| t.decrypted)
        .and_then(|t| t.handshake_ms)
        .or(q.handshake_ms)
}

/// Every exchange, TCP's then QUIC's.
fn all_http(r: &Report) -> impl Iterator<Item = &HttpExchange> {
    r.connections
        .iter()
        .flat_map(|c| c.http.iter())
        .chain(r.quic.iter().flat_map(|q| q.http.iter()))
}

fn count(a: usize, b: usize) -> (Option<Num>, Option<Num>, Option<Num>) {
    let (a, b) = (a as i64, b as i64);
    (Some(Num::Int(a)), Some(Num::Int(b)), Some(Num::Int(b - a)))
}

fn ms(a: Option<f64>, b: Option<f64>) -> (Option<Num>, Option<Num>, Option<Num>) {
    (a.map(Num::Ms), b.map(Num::Ms), delta(a, b).map(Num::Ms))
}

fn tcp_bytes(r: &Report) -> usize {
    r.connections
        .iter()
        .map(|c| c.tcp.bytes.client.saturating_add(c.tcp.bytes.server))
        .fold(0u64, u64::saturating_add)
        .try_into()
        .unwrap_or(usize::MAX)
}

fn body_bytes(r: &Report) -> usize {
    all_http(r)
        .map(|h| h.body_bytes)
        .fold(0u64, u64::saturating_add)
        .try_into()
        .unwrap_or(usize::MAX)
}

fn retransmissions(r: &Report) -> usize {
    r.connections
        .iter()
        .map(|c| {
            c.tcp
                .retransmissions
                .client
                .saturating_add(c.tcp.retransmissions.server)
        })
        .fold(0u64, u64::saturating_add)
        .try_into()
        .unwrap_or(usize::MAX)
}

fn resets(r: &Report) -> usize {
    let tcp = r
        .connections
        .iter()
        .filter(|c| c.tcp.close.kind == CloseKind::Rst)
        .count();
    tcp + all_http(r).filter(|h| h.reset.is_some()).count()
}

/// One page-level metric of one report: its stable name, its label and its value.
struct PageMetric {
    metric: &'static str,
    label: &'static str,
    unit: Unit,
    value: Option<f64>,
}

/// The page-level metrics of one report (its requests `reqs`), in the summary's order.
fn page_metrics(r: &Report, reqs: &[Req]) -> Vec<PageMetric> {
    let n = |v: usize| Some(v as f64);
    let mut out = vec![
        ("requests", "requests", Unit::Count, n(reqs.len())),
        (
            "connections",
            "connections",
            Unit::Count,
            n(r.connections.len() + r.quic.len()),
        ),
        ("dns_lookups", "DNS lookups", Unit::Count, n(r.dns.len())),
        (
            "tcp_bytes",
            "bytes (TCP payload)",
            Unit::Bytes,
            n(tcp_bytes(r)),
        ),
        (
            "body_bytes",
            "bytes (response bodies)",
            Unit::Bytes,
            n(body_bytes(r)),
        ),
        (
            "retransmissions",
            "retransmissions",
            Unit::Count,
            n(retransmissions(r)),
        ),
        ("resets", "resets", Unit::Count, n(resets(r))),
        ("page_ms", "page time", Unit::Ms, page_ms(r)),
    ];
    for (phase, sum_metric, median_metric, sum_label, median_label) in PHASES {
        let v = phase_values(r, phase);
        out.push((sum_metric, sum_label, Unit::Ms, sum(&v)));
        out.push((median_metric, median_label, Unit::Ms, median(&v)));
    }
    out.into_iter()
        .map(|(metric, label, unit, value)| PageMetric {
            metric,
            label,
            unit,
            value,
        })
        .collect()
}

fn summary(a: &Report, b: &Report, ra: &[Req], rb: &[Req]) -> Vec<SummaryRow> {
    page_metrics(a, ra)
        .into_iter()
        .zip(page_metrics(b, rb))
        .map(|(x, y)| {
            let (a, b, delta) = match x.unit {
                // Counts and bytes are never missing.
                Unit::Count | Unit::Bytes => count(
                    x.value.unwrap_or(0.0) as usize,
                    y.value.unwrap_or(0.0) as usize,
                ),
                Unit::Ms => ms(x.value, y.value),
            };
            SummaryRow {
                metric: x.metric,
                a,
                b,
                delta,
                label: x.label,
                unit: x.unit,
            }
        })
        .collect()
}

/// Each timeline phase: its sum and median metrics over the requests, and their labels.
const PHASES: [(Phase, &str, &str, &str, &str); 5] = [
    (
        Phase::Dns,
        "dns_sum_ms",
        "dns_median_ms",
        "DNS (sum)",
        "DNS (median)",
    ),
    (
        Phase::Connect,
        "connect_sum_ms",
        "connect_median_ms",
        "connect (sum)",
        "connect (median)",
    ),
    (
        Phase::Tls,
        "tls_sum_ms",
        "tls_median_ms",
        "TLS (sum)",
        "TLS (median)",
    ),
    (
        Phase::Ttfb,
        "ttfb_sum_ms",
        "ttfb_median_ms",
        "TTFB (sum)",
        "TTFB (median)",
    ),
    (
        Phase::Download,
        "download_sum_ms",
        "download_median_ms",
        "download (sum)",
        "download (median)",
    ),
];

// ---------------------------------------------------------------------------------------
// Origins

/// The host part of an origin: the hostname (lower case, without a final dot), else the
/// server's address.
fn origin_host(hostname: Option<&str>, server: SocketAddr) -> String {
    let ip = match server {
        SocketAddr::V4(v) => v.ip().to_string(),
        SocketAddr::V6(v) => format!("[{}]", v.ip()),
    };
    hostname
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or(ip)
}

/// `scheme://host[:port]` of a connection, the port left out when it is the scheme's default.
fn origin_of(c: &Connection) -> String {
    let port = Some(c.server.port());
    let host = origin_host(c.hostname.as_deref(), c.server);
    let app = c.app_protocol.map_or("unknown", AppProtocol::as_str);
    let scheme = if c.tls.is_some() {
        "https"
    } else if !c.http.is_empty() || app.starts_with("http") || app == "h2c" {
        "http"
    } else {
        match port {
            Some(80) => "http",
            Some(443) => "https",
            _ if app != "unknown" => app,
            _ => "tcp",
        }
    };
    let default = match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    match port {
        Some(p) if Some(p) != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    }
}

/// A QUIC connection's origin: `https://host[:port]` (HTTP/3 is `https` only).
fn quic_origin_of(q: &QuicConnection) -> String {
    let host = origin_host(q.hostname.as_deref(), q.server);
    match q.server.port() {
        443 => format!("https://{host}"),
        p => format!("https://{host}:{p}"),
    }
}

fn http_version_from_alpn(alpn: &str) -> Option<&'static str> {
    match alpn {
        "h2" => Some("HTTP/2"),
        "http/1.1" => Some("HTTP/1.1"),
        "http/1.0" => Some("HTTP/1.0"),
        "h3" => Some("HTTP/3"),
        _ => None,
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn origin_sides(r: &Report) -> BTreeMap<String, OriginSide> {
    let mut map: BTreeMap<String, OriginSide> = BTreeMap::new();
    let mut lookups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut note_lookup = |key: String, dns: Option<usize>| {
        if let Some(i) = dns {
            let l = lookups.entry(key).or_default();
            if !l.contains(&i) {
                l.push(i);
            }
        }
    };
    for c in &r.connections {
        let key = origin_of(c);
        let s = map.entry(key.clone()).or_default();
        add_connection(s, &c.http, c.tls.as_deref());
        s.retransmissions = s.retransmissions.saturating_add(
            c.tcp
                .retransmissions
                .client
                .saturating_add(c.tcp.retransmissions.server),
        );
        if c.tcp.close.kind == CloseKind::Rst {
            s.tcp_resets += 1;
        }
        note_lookup(key, c.dns);
    }
    for q in &r.quic {
        let key = quic_origin_of(q);
        let s = map.entry(key.clone()).or_default();
        add_connection(s, &q.http, q.tls.as_deref());
        s.quic_connections += 1;
        note_lookup(key, q.dns);
    }
    for (k, l) in lookups {
        if let Some(s) = map.get_mut(&k) {
            s.dns_lookups = l.len();
        }
    }
    for s in map.values_mut() {
        s.http_versions.sort();
        s.tls_versions.sort();
    }
    map
}

/// What a TCP or QUIC connection adds to its origin: its requests and their versions (or
/// the version its ALPN names when none was readable), its TLS (or QUIC) handshake, its
/// reset streams.
fn add_connection(s: &mut OriginSide, http: &[HttpExchange], tls: Option<&TlsInfo>) {
    s.connections += 1;
    s.requests += http.len();
    for h in http {
        push_unique(&mut s.http_versions, &h.version);
    }
    if http.is_empty() {
        if let Some(v) = tls
            .and_then(|t| t.alpn.as_deref())
            .and_then(http_version_from_alpn)
        {
            push_unique(&mut s.http_versions, v);
        }
    }
    if let Some(t) = tls {
        s.tls_connections += 1;
        if t.resumed {
            s.tls_resumed += 1;
        }
        if let Some(v) = &t.version {
            push_unique(&mut s.tls_versions, v);
        }
    }
    s.stream_resets += http.iter().filter(|h| h.reset.is_some()).count();
}

fn origin_changes(a: &OriginSide, b: &OriginSide) -> Vec<&'static str> {
    let mut ch = Vec::new();
    // No readable exchange and no ALPN (TLS 1.3 without keys) is "unknown", not a version.
    let known = !a.http_versions.is_empty() && !b.http_versions.is_empty();
    if known && a.http_versions != b.http_versions {
        ch.push("http_version");
    }
    if a.tls_versions != b.tls_versions {
        ch.push("tls_version");
    }
    // None, some or all of the TLS connections resumed: one more full handshake on a new
    // connection is connection reuse's business, not a change in resumption.
    let resumption = |s: &OriginSide| (s.tls_resumed > 0, s.tls_resumed == s.tls_connections);
    if resumption(a) != resumption(b) {
        ch.push("resumption");
    }
    if (a.connections, a.requests) != (b.connections, b.requests) {
        ch.push("connection_reuse");
    }
    if a.quic_connections != b.quic_connections {
        ch.push("quic");
    }
    if a.dns_lookups != b.dns_lookups {
        ch.push("dns");
    }
    if a.retransmissions != b.retransmissions {
        ch.push("retransmissions");
    }
    if (a.tcp_resets, a.stream_resets) != (b.tcp_resets, b.stream_resets) {
        ch.push("resets");
    }
    ch
}

fn origins(a: &Report, b: &Report) -> Vec<OriginDiff> {
    let mut sa = origin_sides(a);
    let sb = origin_sides(b);
    let mut out = Vec::new();
    for (origin, ob) in sb {
        let oa = sa.remove(&origin);
        let changes = match &oa {
            Some(oa) => origin_changes(oa, &ob),
            None => vec!["only_b"],
        };
        out.push(OriginDiff {
            origin,
            a: oa,
            b: Some(ob),
            changes,
        });
    }
    for (origin, oa) in sa {
        out.push(OriginDiff {
            origin,
            a: Some(oa),
            b: None,
            changes: vec!["only_a"],
        });
    }
    out.sort_by(|x, y| x.origin.cmp(&y.origin));
    out
}

#[cfg(test)]
mod tests;
