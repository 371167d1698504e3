//! The timing model the HAR, the terminal waterfall and the HTML page share, so the three
//! outputs tell the same numbers: rows, their phases and HAR timings, and the grouping of
//! rows into page loads.
//!
//! # Consumes
//! The finished [`Report`] only.
//!
//! # Produces
//! [`rows`] and [`pages`]; [`exchange_url`], [`header`] and [`mime_type`], the facts about
//! an exchange that the renderers need beside its timings. No text for a reader: each
//! renderer words and draws the model its own way ([`Phase::key`] and [`Phase::label`] are
//! the stable names).
//!
//! # Rows
//! One [`Row`] per HTTP exchange, of TCP connections (HTTP/1.x, HTTP/2) and of QUIC
//! connections (HTTP/3) alike, plus one per TCP connection that carried no readable request
//! (TLS without keys, a protocol pagetrace does not decode), so an encrypted capture still
//! draws its DNS, TCP, TLS and data phases. A QUIC connection without a readable request has
//! no row (without keys nothing of it but its handshake is known; the table tells it).
//! Rows are sorted by their start; a row names its connection by [`Conn`] and [`ConnKey`],
//! since TCP and QUIC connections are numbered by separate counters.
//!
//! # Phases (the HAR 1.2 `timings` model, filled from packets)
//! - The **first request of a connection** (the earliest `request_ts`) carries the setup:
//!   - `dns`: the lookup the connection was linked to (query → response), for the first
//!     connection, in SYN order, that used it; every later user of the same answer gets -1,
//!     as browsers report a cached lookup.
//!   - `connect`: the TCP handshake (SYN → ACK) **plus** the TLS handshake; `ssl` is the TLS
//!     handshake alone (ClientHello → the Finished that completes it). HAR 1.2: "If this
//!     field is defined then the time is also included in the connect field".
//!   - `blocked`: the time the client spent between those phases: after the lookup before
//!     the SYN, after the TCP handshake before the ClientHello, after the handshake before
//!     the first request byte.
//!   - the request starts at the DNS query (or the SYN, or the ClientHello).
//!   - On a **QUIC** connection the transport handshake *is* the TLS handshake (RFC 9001):
//!     `connect` and `ssl` are both the QUIC handshake, from the client's first Initial to
//!     the client's Finished (`tls.handshake_done_ts`) when the handshake was decrypted,
//!     else to the server's first Handshake packet (`server_handshake_ts`); drawn as the
//!     [`Phase::Tls`] span. Chromium reports QUIC the same way: its QUIC session's
//!     `GetConnectTiming` sets `ssl_start`/`ssl_end` to `connect_start`/`connect_end`
//!     (`net/quic/quic_chromium_client_session.cc`). A first request sent in 0-RTT,
//!     before the handshake ended, carries the handshake only up to its first byte, as a
//!     browser's `connectEnd` is when the connection could carry the request.
//! - Every other request starts at its `request_ts`, with `blocked`, `dns`, `connect` and
//!   `ssl` -1: nothing was seen of a queue on a connection that was already open.
//! - `send` = `request_ts → request_end_ts`; `wait` = the exchange's `ttfb_ms`
//!   (`request_end_ts → response_ts`, 0 when the server answered before the request ended);
//!   `receive` = its `download_ms`.
//! - A phase not observed is `None` (HAR -1). The total ([`Timings::total`]) is the sum of
//!   the non-negative phases except `ssl`, already inside `connect`; for a request whose
//!   phases are all observed and in order it equals the wall time from its start to the end
//!   of its response.
//!
//! # Pages
//! Rows are walked in start order and each joins a [`Page`]:
//! 1. the target of a redirect (`redirected_from`) joins the page of the redirect;
//! 2. a **navigation** starts a new page: a request with `Sec-Fetch-Dest: document`, or,
//!    without Fetch Metadata (plain HTTP, older clients), a request whose `Accept` asks for
//!    `text/html` and whose response is HTML, a redirect or missing;
//! 3. a request with a `Referer` joins the latest page that holds a request for that URL
//!    (fragment ignored);
//! 4. anything else joins the latest page if that page was still active (the row starts
//!    within [`IDLE_GAP_MS`] of the end of the page's last row: WebPageTest's "network
//!    quiet" idea), else it starts a page of its own, titled by its own URL.

use std::collections::HashMap;

use std::fmt;
use std::net::SocketAddr;

use crate::pageload::model::{
    CloseKind, Connection, HttpExchange, QuicConnection, Report, TlsInfo,
};
use crate::time::Ts;

/// A request that starts later than this after the last byte of the current page, with
/// nothing tying it to a page, starts a page of its own.
pub const IDLE_GAP_MS: f64 = 2000.0;

/// The phases of a request, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The client between phases (HAR `blocked`).
    Blocked,
    Dns,
    /// The TCP handshake (HAR `connect` also holds the TLS handshake).
    Connect,
    Tls,
    Send,
    Wait,
    Receive,
    /// Application data on a connection with no readable request.
    Data,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::Blocked,
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Send,
        Phase::Wait,
        Phase::Receive,
        Phase::Data,
    ];

    /// A short stable word, also the CSS class of the HTML renderer.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Blocked => "blocked",
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Send => "send",
            Phase::Wait => "wait",
            Phase::Receive => "receive",
            Phase::Data => "data",
        }
    }

    /// The name a reader sees in a legend.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Blocked => "stalled",
            Phase::Dns => "DNS",
            Phase::Connect => "TCP connect",
            Phase::Tls => "TLS",
            Phase::Send => "send",
            Phase::Wait => "wait (TTFB)",
            Phase::Receive => "download",
            Phase::Data => "encrypted or opaque data",
        }
    }
}

/// HAR `timings`, in milliseconds; `None` is HAR's -1 (not observed, or does not apply).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timings {
    pub blocked: Option<f64>,
    pub dns: Option<f64>,
    /// TCP handshake plus TLS handshake.
    pub connect: Option<f64>,
    pub ssl: Option<f64>,
    pub send: Option<f64>,
    pub wait: Option<f64>,
    pub receive: Option<f64>,
}

impl Timings {
    /// The phases that add up to the request's time (`ssl` is inside `connect`).
    pub fn summed(&self) -> [Option<f64>; 6] {
        [
            self.blocked,
            self.dns,
            self.connect,
            self.send,
            self.wait,
            self.receive,
        ]
    }

    /// HAR `time`: the sum of the non-negative phases, `ssl` excepted.
    pub fn total(&self) -> f64 {
        self.summed().iter().flatten().filter(|v| **v >= 0.0).sum()
    }
}

/// The connection a row belongs to: one of `Report::connections` (TCP) or of
/// `Report::quic`.
#[derive(Debug, Clone, Copy)]
pub enum Conn<'a> {
    Tcp(&'a Connection),
    Quic(&'a QuicConnection),
}

/// A connection's identity across both tables (TCP and QUIC ids are separate counters).
/// Written `3` for TCP connection 3 and `quic-1` for QUIC connection 1: the HAR
/// `connection` field. TCP sorts before QUIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnKey {
    Tcp(u64),
    Quic(u64),
}

impl fmt::Display for ConnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnKey::Tcp(id) => write!(f, "{id}"),
            ConnKey::Quic(id) => write!(f, "quic-{id}"),
        }
    }
}

impl<'a> Conn<'a> {
    pub fn key(self) -> ConnKey {
        match self {
            Conn::Tcp(c) => ConnKey::Tcp(c.id),
            Conn::Quic(q) => ConnKey::Quic(q.id),
        }
    }

    /// The `id` in its own table.
    pub fn id(self) -> u64 {
        match self {
            Conn::Tcp(c) => c.id,
            Conn::Quic(q) => q.id,
        }
    }

    pub fn client(self) -> SocketAddr {
        match self {
            Conn::Tcp(c) => c.client,
            Conn::Quic(q) => q.client,
        }
    }

    pub fn server(self) -> SocketAddr {
        match self {
            Conn::Tcp(c) => c.server,
            Conn::Quic(q) => q.server,
        }
    }

    pub fn hostname(self) -> Option<&'a str> {
        match self {
            Conn::Tcp(c) => c.hostname.as_deref(),
            Conn::Quic(q) => q.hostname.as_deref(),
        }
    }

    pub fn tls(self) -> Option<&'a TlsInfo> {
        match self {
            Conn::Tcp(c) => c.tls.as_deref(),
            Conn::Quic(q) => q.tls.as_deref(),
        }
    }

    pub fn http(self) -> &'a [HttpExchange] {
        match self {
            Conn::Tcp(c) => &c.http,
            Conn::Quic(q) => &q.http,
        }
    }

    /// Index into `Report::dns` of its lookup.
    pub fn dns(self) -> Option<usize> {
        match self {
            Conn::Tcp(c) => c.dns,
            Conn::Quic(q) => q.dns,
        }
    }

    /// Bytes the server sent: TCP payload, or QUIC's UDP payload.
    pub fn server_bytes(self) -> u64 {
        match self {
            Conn::Tcp(c) => c.tcp.bytes.server,
            Conn::Quic(q) => q.bytes.server,
        }
    }

    pub fn is_quic(self) -> bool {
        matches!(self, Conn::Quic(_))
    }

    /// Its URLs' scheme when a request did not say: QUIC and TLS are `https`.
    fn scheme(self) -> &'static str {
        match self {
            Conn::Tcp(c) if c.tls.is_none() => "http",
            _ => "https",
        }
    }
}

/// One phase of one row on the time axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub phase: Phase,
    pub from: Ts,
    pub to: Ts,
}

/// One line of the waterfall: an HTTP exchange, or a connection with no readable request.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub conn: Conn<'a>,
    /// The exchange and its index in the connection's `http`; `None` for a connection row
    /// (TCP only).
    pub exchange: Option<(usize, &'a HttpExchange)>,
    /// The request URL; for a connection row, `host:port`.
    pub url: String,
    pub start: Ts,
    pub end: Ts,
    pub timings: Timings,
    pub spans: Vec<Span>,
    /// Index into `Report::dns` of the lookup this row's `dns` phase is.
    pub dns: Option<usize>,
}

impl Row<'_> {
    pub fn duration_ms(&self) -> f64 {
        self.end.ms_since(self.start).max(0.0)
    }
}

/// A page load: a document request and the requests that followed it (see the module doc).
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    pub start: Ts,
    /// The end of the latest row.
    pub end: Ts,
    /// Indices into the rows, in start order.
    pub rows: Vec<usize>,
    /// The row that started the page as a navigation.
    pub document: Option<usize>,
}

/// What was seen of a connection's setup: each phase as (from, to).
#[derive(Default, Clone)]
struct Setup {
    dns_index: Option<usize>,
    dns: Option<(Ts, Ts)>,
    /// SYN → the ACK of the TCP handshake.
    tcp: Option<(Ts, Ts)>,
    /// ClientHello (QUIC: the first Initial) → the client could send data.
    tls: Option<(Ts, Ts)>,
}

impl Setup {
    fn start(&self) -> Option<Ts> {
        self.dns
            .map(|d| d.0)
            .or(self.tcp.map(|t| t.0))
            .or(self.tls.map(|t| t.0))
    }

    fn end(&self) -> Option<Ts> {
        self.tls
            .map(|t| t.1)
            .or(self.tcp.map(|t| t.1))
            .or(self.dns.map(|d| d.1))
    }

    /// Every instant cut at `at` (a request sent before the handshake ended: 0-RTT).
    fn cut(&self, at: Option<Ts>) -> Setup {
        let Some(at) = at else {
            return self.clone();
        };
        let c = |p: Option<(Ts, Ts)>| p.map(|(a, b)| (a.min(at), b.min(at)));
        Setup {
            dns_index: self.dns_index,
            dns: c(self.dns),
            tcp: c(self.tcp),
            tls: c(self.tls),
        }
    }

    /// The setup as consecutive phases from its start, each with the instant it ends (see
    /// the module doc): the lookup; connecting, from the lookup's answer when the
    /// connection waited on it (else from the SYN), to the TCP handshake's end (or the
    /// ClientHello, when later); the TLS handshake to the moment the client could send. On
    /// QUIC the handshake is all TLS, from the lookup's answer.
    fn marks(&self) -> Vec<(Phase, Option<Ts>)> {
        let mut v = vec![(Phase::Dns, self.dns.map(|d| d.1))];
        match (self.tcp, self.tls) {
            (Some((_, ack)), Some((hello, ready))) => {
                v.push((Phase::Connect, Some(ack.max(hello))));
                v.push((Phase::Tls, Some(ready)));
            }
            (Some((_, ack)), None) => v.push((Phase::Connect, Some(ack))),
            (None, Some((_, ready))) => v.push((Phase::Tls, Some(ready))),
            (None, None) => {}
        }
        v
    }
}

/// Lays `marks` (each phase with the instant it ends) end to end from `start`: an instant
/// earlier than the one before it ends its phase at once (0 ms), so phases never overlap
/// and add up to the row's time. A `None` instant merges its phase into the next.
fn lay_out(start: Ts, marks: &[(Phase, Option<Ts>)]) -> (Vec<Span>, Ts) {
    let mut spans = Vec::new();
    let mut cursor = start;
    for &(phase, to) in marks {
        let Some(to) = to else { continue };
        let to = to.max(cursor);
        spans.push(Span {
            phase,
            from: cursor,
            to,
        });
        cursor = to;
    }
    (spans, cursor)
}

/// HAR timings from laid-out spans: each phase the sum of its spans, `connect` holding
/// `ssl`; `setup` says whether the row carries its connection's setup (else `blocked`,
/// `dns`, `connect` and `ssl` are -1).
fn timings_of(spans: &[Span], setup: Option<&Setup>) -> Timings {
    let sum = |ps: &[Phase]| -> f64 {
        spans
            .iter()
            .filter(|s| ps.contains(&s.phase))
            .map(|s| s.to.ms_since(s.from))
            .sum()
    };
    let has = |p: Phase| spans.iter().any(|s| s.phase == p);
    let opt = |p: Phase| has(p).then(|| sum(&[p]));
    let mut t = Timings {
        send: opt(Phase::Send),
        wait: opt(Phase::Wait),
        receive: opt(Phase::Receive),
        ..Timings::default()
    };
    if let Some(s) = setup {
        t.blocked = Some(sum(&[Phase::Blocked]));
        t.dns = s.dns.map(|_| sum(&[Phase::Dns]));
        t.connect =
            (s.tcp.is_some() || s.tls.is_some()).then(|| sum(&[Phase::Connect, Phase::Tls]));
        t.ssl = s.tls.map(|_| sum(&[Phase::Tls]));
    }
    t
}

/// The moment a connection began, for ordering connections.
fn conn_start(c: Conn) -> Option<Ts> {
    match c {
        Conn::Tcp(c) => tcp_start(c),
        Conn::Quic(q) => Some(q.client_initial_ts.unwrap_or(q.first_ts)),
    }
}

fn tcp_start(c: &Connection) -> Option<Ts> {
    c.tcp
        .syn_ts
        .or(c.tcp.synack_ts)
        .or(c.tcp.ack_ts)
        .or(c.tls.as_ref().and_then(|t| t.client_hello_ts))
        .or_else(|| c.http.iter().filter_map(exchange_start).min())
        .or(c.tcp.close.ts)
}

fn exchange_start(h: &HttpExchange) -> Option<Ts> {
    h.request_ts
        .or(h.request_end_ts)
        .or(h.response_ts)
        .or(h.response_end_ts)
}

fn exchange_end(h: &HttpExchange) -> Option<Ts> {
    [
        h.request_ts,
        h.request_end_ts,
        h.response_ts,
        h.response_end_ts,
    ]
    .into_iter()
    .flatten()
    .max()
}

/// What was seen of `c`'s setup; `first_request` is the start of its first request.
/// `ready` holds, per lookup, when each connection that used it could first carry data.
fn setup_of(c: Conn, r: &Report, first_request: Option<Ts>, ready: &[Vec<Ts>]) -> Setup {
    let mut s = match c {
        Conn::Tcp(c) => tcp_setup(c),
        Conn::Quic(q) => quic_setup(q, first_request),
    };
    // A connection waited for its lookup when it began after the answer and no other
    // connection that used the answer was already open: every connection a browser opened
    // on the answer (several at once to one host) carries the lookup, as it reports them;
    // one opened later found it cached.
    let Some(i) = c.dns() else { return s };
    let Some(d) = r.dns.get(i) else { return s };
    let anchor = s.start().or_else(|| conn_start(c));
    let Some(resp) = d.response_ts.filter(|&a| a >= d.ts) else {
        return s;
    };
    let waited = anchor.is_none_or(|a| {
        resp <= a
            && !ready
                .get(i)
                .is_some_and(|v| v.iter().any(|&open| open >= resp && open < a))
    });
    if waited {
        s.dns = Some((d.ts, resp));
        s.dns_index = Some(i);
    }
    s
}

/// When a connection could first carry data: its TCP handshake's end, or its QUIC
/// handshake's.
fn ready_at(c: Conn) -> Option<Ts> {
    match c {
        Conn::Tcp(c) => c.tcp.ack_ts.or(c.tcp.synack_ts),
        Conn::Quic(q) => quic_setup(q, None).end(),
    }
}

/// The TCP handshake and the TLS handshake, to the moment the client could send data
/// (`client_ready_ts`: with False Start its own Finished).
fn tcp_setup(c: &Connection) -> Setup {
    let mut s = Setup::default();
    let t = &c.tcp;
    if let (Some(syn), Some(ack)) = (t.syn_ts, t.ack_ts) {
        if ack >= syn {
            s.tcp = Some((syn, ack));
        }
    }
    if let Some(tls) = &c.tls {
        let ready = tls.client_ready_ts.or(tls.handshake_done_ts);
        if let (Some(ch), Some(ready)) = (tls.client_hello_ts, ready) {
            if ready >= ch {
                s.tls = Some((ch, ready));
            }
        }
    }
    s
}

/// The QUIC handshake, as the TLS phase (see the module doc): the client's first Initial
/// to the client's Finished when decrypted, else to the server's first Handshake packet;
/// cut at a first request sent before it ended (0-RTT).
fn quic_setup(q: &QuicConnection, first_request: Option<Ts>) -> Setup {
    let mut s = Setup::default();
    let finished = q
        .tls
        .as_ref()
        .filter(|t| t.decrypted)
        .and_then(|t| t.client_ready_ts.or(t.handshake_done_ts));
    if let (Some(from), Some(to)) = (q.client_initial_ts, finished.or(q.server_handshake_ts)) {
        let to = first_request
            .filter(|&req| req >= from && req < to)
            .unwrap_or(to);
        if to >= from {
            s.tls = Some((from, to));
        }
    }
    s
}

/// The URL of an exchange: as the dissector built it, else from the connection.
pub fn exchange_url(c: Conn, h: &HttpExchange) -> String {
    if let Some(u) = &h.url {
        return u.clone();
    }
    let host = c
        .hostname()
        .map_or_else(|| c.server().to_string(), str::to_string);
    format!(
        "{}://{host}{}",
        c.scheme(),
        h.path.as_deref().unwrap_or("/")
    )
}

/// `host:port` for a connection row.
fn connection_label(c: &Connection) -> String {
    let port = c.server.port();
    match &c.hostname {
        Some(h) if h.contains(':') => format!("[{h}]:{port}"),
        Some(h) => format!("{h}:{port}"),
        None => c.server.to_string(),
    }
}

/// The start and the index of the first request of a connection.
fn first_request(http: &[HttpExchange]) -> Option<(Ts, usize)> {
    http.iter()
        .enumerate()
        .filter_map(|(i, h)| exchange_start(h).map(|t| (t, i)))
        .min()
}

/// The rows of a report, sorted by start (then connection and exchange index).
pub fn rows(r: &Report) -> Vec<Row<'_>> {
    let mut conns = conns_of(r);
    conns.sort_by_key(|&c| (conn_start(c), c.key()));
    let mut rows = Vec::new();
    each_row(r, &conns, |c, exchange, setup| {
        rows.extend(match (c, exchange) {
            (Conn::Tcp(tcp), None) => setup.and_then(|s| connection_row(tcp, r, s)),
            (_, Some((i, h))) => exchange_row(c, i, h, setup, r.capture.first_ts),
            (Conn::Quic(_), None) => None,
        });
    });
    rows.sort_by_key(|row| (row.start, row.conn.key(), row.exchange.map(|e| e.0)));
    rows
}

/// The connections with rows: every TCP one, the QUIC ones with requests.
fn conns_of(r: &Report) -> Vec<Conn<'_>> {
    r.connections
        .iter()
        .map(Conn::Tcp)
        .chain(r.quic.iter().filter(|q| !q.http.is_empty()).map(Conn::Quic))
        .collect()
}

/// Calls `row` for each row of `conns`, in their order: a connection row (a TCP
/// connection without requests: no exchange, its setup) or an exchange's (its index and
/// itself, with the setup on the first request only).
fn each_row<'a>(
    r: &Report,
    conns: &[Conn<'a>],
    mut row: impl FnMut(Conn<'a>, Option<(usize, &'a HttpExchange)>, Option<&Setup>),
) {
    let mut ready: Vec<Vec<Ts>> = vec![Vec::new(); r.dns.len()];
    for &c in conns {
        if let (Some(i), Some(t)) = (c.dns(), ready_at(c)) {
            if let Some(v) = ready.get_mut(i) {
                v.push(t);
            }
        }
    }
    for &c in conns {
        let first = first_request(c.http());
        let setup = setup_of(c, r, first.map(|f| f.0), &ready);
        if let Conn::Tcp(tcp) = c {
            if tcp.http.is_empty() {
                row(c, None, Some(&setup));
                continue;
            }
        }
        for (i, h) in c.http().iter().enumerate() {
            let setup = (Some(i) == first.map(|f| f.1)).then_some(&setup);
            row(c, Some((i, h)), setup);
        }
    }
}

/// [`load_span`] of [`rows`], without making them: their starts and ends alone (a flood's
/// table spent a tenth of its time on rows for its summary line).
pub fn load_span_of(r: &Report) -> Option<(Ts, Ts)> {
    let mut span: Option<(Ts, Ts)> = None;
    each_row(r, &conns_of(r), |c, exchange, setup| {
        let ends = match (c, exchange) {
            (Conn::Tcp(tcp), None) => setup
                .and_then(|s| connection_layout(tcp, r, s))
                .map(|l| (l.start, l.end)),
            (_, Some((_, h))) => {
                exchange_layout(c, h, setup, r.capture.first_ts).map(|l| (l.start, l.end))
            }
            (Conn::Quic(_), None) => None,
        };
        if let Some((s, e)) = ends {
            span = Some(span.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
        }
    });
    span.map(|(s, e)| (s, e.max(s)))
}

/// The page load's time, one definition for every output: from the start of the first row
/// (its lookup, or SYN, or request) to the end of the last (the last response byte; for a
/// connection without a readable request, its close). `None` without rows.
pub fn load_span(rows: &[Row]) -> Option<(Ts, Ts)> {
    let start = rows.iter().map(|r| r.start).min()?;
    let end = rows.iter().map(|r| r.end).max()?;
    Some((start, end.max(start)))
}

/// The row of exchange `i` of `c`; `setup` is given for the connection's first request,
/// which carries it. Its phases are laid end to end ([`lay_out`]): the setup, the client's
/// own time before its request, send, wait, receive; the row ends at the response's last
/// byte (or the last instant the exchange was seen).
fn exchange_row<'a>(
    c: Conn<'a>,
    i: usize,
    h: &'a HttpExchange,
    setup: Option<&Setup>,
    capture_start: Option<Ts>,
) -> Option<Row<'a>> {
    let Layout {
        start,
        spans,
        end,
        setup,
    } = exchange_layout(c, h, setup, capture_start)?;
    let timings = timings_of(&spans, setup.as_ref());
    Some(Row {
        conn: c,
        exchange: Some((i, h)),
        url: exchange_url(c, h),
        start,
        end,
        timings,
        spans: spans
            .into_iter()
            .filter(|s| s.to > s.from || s.phase != Phase::Blocked)
            .collect(),
        dns: setup.and_then(|s| s.dns_index),
    })
}

/// Where a row starts and ends, its phases laid out in between, and the setup it carries.
struct Layout {
    start: Ts,
    spans: Vec<Span>,
    end: Ts,
    setup: Option<Setup>,
}

/// [`exchange_row`]'s layout.
fn exchange_layout(
    c: Conn,
    h: &HttpExchange,
    setup: Option<&Setup>,
    capture_start: Option<Ts>,
) -> Option<Layout> {
    let own_start = exchange_start(h);
    let setup = setup
        .map(|s| s.cut(h.request_ts.or(own_start)))
        .filter(|s| s.start().is_some());
    let start = match &setup {
        Some(s) => s.start().map(|ss| own_start.map_or(ss, |o| o.min(ss))),
        None => own_start,
    };
    let start = start.or_else(|| conn_start(c)).or(capture_start)?;
    let mut marks = setup.as_ref().map(Setup::marks).unwrap_or_default();
    if setup.is_some() {
        marks.push((Phase::Blocked, h.request_ts.or(own_start)));
    }
    marks.extend([
        (Phase::Send, h.request_end_ts),
        (Phase::Wait, h.response_ts),
        (Phase::Receive, h.response_end_ts),
    ]);
    let (spans, end) = lay_out(start, &marks);
    let end = end.max(exchange_end(h).unwrap_or(start));
    Some(Layout {
        start,
        spans,
        end,
        setup,
    })
}

/// [`connection_row`]'s layout: its setup, then what it carried to its close (or the
/// capture's end).
fn connection_layout(c: &Connection, r: &Report, setup: &Setup) -> Option<Layout> {
    let start = setup.start().or_else(|| tcp_start(c))?;
    let data_from = setup
        .end()
        .or(c.tls.as_ref().and_then(|t| t.client_first_app_data_ts))
        .unwrap_or(start);
    let data_to = c
        .tcp
        .close
        .ts
        .or(if c.tcp.close.kind == CloseKind::Open {
            r.capture.last_ts
        } else {
            None
        })
        .unwrap_or(data_from);
    let mut marks = setup.marks();
    marks.push((Phase::Blocked, Some(data_from)));
    marks.push((Phase::Data, Some(data_to)));
    let (spans, end) = lay_out(start, &marks);
    Some(Layout {
        start,
        spans,
        end,
        setup: None,
    })
}

fn connection_row<'a>(c: &'a Connection, r: &Report, setup: &Setup) -> Option<Row<'a>> {
    let Layout {
        start, spans, end, ..
    } = connection_layout(c, r, setup)?;
    let mut timings = timings_of(&spans, Some(setup));
    timings.blocked = Some(
        spans
            .iter()
            .filter(|s| s.phase == Phase::Blocked)
            .map(|s| s.to.ms_since(s.from))
            .sum(),
    );
    Some(Row {
        conn: Conn::Tcp(c),
        exchange: None,
        url: connection_label(c),
        start,
        end,
        timings,
        spans: spans
            .into_iter()
            .filter(|s| s.to > s.from || s.phase != Phase::Blocked)
            .collect(),
        dns: setup.dns_index,
    })
}

/// A header's value, by case-insensitive name.
pub fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The response's MIME type, from the exchange or its `Content-Type` header.
pub fn mime_type(h: &HttpExchange) -> Option<&str> {
    h.content_type
        .as_deref()
        .or_else(|| header(&h.response_headers, "content-type"))
}

fn is_html(h: &HttpExchange) -> bool {
    mime_type(h).is_some_and(|m| {
        let m = m.split(';').next().unwrap_or("").trim();
        m.eq_ignore_ascii_case("text/html") || m.eq_ignore_ascii_case("application/xhtml+xml")
    })
}

/// Rule 2 of the module doc.
fn is_navigation(h: &HttpExchange) -> bool {
    let req = &h.request_headers;
    if let Some(dest) = header(req, "sec-fetch-dest") {
        return dest.trim().eq_ignore_ascii_case("document");
    }
    if let Some(mode) = header(req, "sec-fetch-mode") {
        return mode.trim().eq_ignore_ascii_case("navigate");
    }
    let wants_html = header(req, "accept").is_some_and(|a| a.contains("text/html"));
    let method_ok = h
        .method
        .as_deref()
        .is_none_or(|m| m == "GET" || m == "POST");
    wants_html
        && method_ok
        && (h.status.is_none() || is_html(h) || h.status.is_some_and(|s| (300..400).contains(&s)))
}

/// A URL as pages are matched on: without its fragment.
fn page_key(url: &str) -> &str {
    url.split('#').next().unwrap_or(url).trim()
}

/// Groups rows (sorted by start, as [`rows`] returns them) into pages; see the module doc.
pub fn pages(rows: &[Row]) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    let mut page_of: Vec<usize> = Vec::with_capacity(rows.len());
    let mut by_exchange: HashMap<(ConnKey, usize), usize> = HashMap::new();
    let mut by_url: HashMap<&str, usize> = HashMap::new();
    for (ri, row) in rows.iter().enumerate() {
        let h = row.exchange.map(|e| e.1);
        let redirect_page = h
            .and_then(|h| h.redirected_from)
            .and_then(|rf| {
                let conn = if rf.quic {
                    ConnKey::Quic(rf.connection)
                } else {
                    ConnKey::Tcp(rf.connection)
                };
                by_exchange.get(&(conn, rf.index))
            })
            .and_then(|&from_row| page_of.get(from_row).copied());
        let referer_page = h
            .and_then(|h| header(&h.request_headers, "referer"))
            .and_then(|r| by_url.get(page_key(r)).copied());
        let active = pages
            .len()
            .checked_sub(1)
            .filter(|&p| row.start.ms_since(pages[p].end) <= IDLE_GAP_MS);
        let chosen = if let Some(p) = redirect_page {
            Some(p)
        } else if h.is_some_and(is_navigation) {
            None
        } else {
            referer_page.or(active)
        };
        let p = match chosen {
            Some(p) => p,
            None => {
                pages.push(Page {
                    title: row.url.clone(),
                    start: row.start,
                    end: row.end,
                    rows: Vec::new(),
                    document: h.is_some_and(is_navigation).then_some(ri),
                });
                pages.len() - 1
            }
        };
        let page = &mut pages[p];
        page.rows.push(ri);
        page.end = page.end.max(row.end);
        page_of.push(p);
        if let Some((i, _)) = row.exchange {
            by_exchange.insert((row.conn.key(), i), ri);
            by_url.insert(page_key(&row.url), p);
        }
    }
    pages
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pageload::model::PerDir;
    use crate::pageload::model::{
        Certificate, ClientBy, DnsAnswer, DnsQuestion, DnsTransaction, DnsTransport,
        HostnameSource, HttpExchange, QuicClose, QuicCloseKind, RedirectRef, Side, TcpClose,
        TlsInfo,
    };

    pub const T0: i64 = 1_795_000_000_000_000_000;

    /// Capture time `ms` after [`T0`].
    pub fn at(ms: f64) -> Ts {
        Ts(T0 + (ms * 1e6).round() as i64)
    }

    pub fn dns(name: &str, q_ms: f64, r_ms: f64, addr: &str) -> DnsTransaction {
        DnsTransaction {
            ts: at(q_ms),
            client: "10.0.0.1:5353".parse().unwrap(),
            server: "10.0.0.53:53".parse().unwrap(),
            transport: DnsTransport::Udp,
            id: 7,
            questions: vec![DnsQuestion {
                name: name.into(),
                qtype: "A".into(),
            }],
            response_ts: Some(at(r_ms)),
            latency_ms: Some(r_ms - q_ms),
            rcode: Some("NOERROR".into()),
            truncated: false,
            answers: vec![DnsAnswer {
                name: name.into(),
                rtype: "A".into(),
                ttl: 300,
                data: addr.into(),
                addr: addr.parse().ok(),
                alpn: Vec::new(),
                svc_port: None,
                ..DnsAnswer::default()
            }],
            authority: vec![],
            query_packet: Some(1),
            response_packet: Some(2),
            dnssec: Default::default(),
            ..DnsTransaction::default()
        }
    }

    /// A connection with a TCP handshake at `syn_ms` lasting `rtt` ms, closed at `close_ms`.
    pub fn conn(
        id: u64,
        server: &str,
        host: &str,
        syn_ms: f64,
        rtt: f64,
        close_ms: f64,
    ) -> Connection {
        let mut c = Connection {
            id,
            client: format!("10.0.0.1:{}", 50000 + id).parse().unwrap(),
            server: server.parse().unwrap(),
            hostname: Some(host.into()),
            hostname_source: Some(HostnameSource::Sni),
            client_by: ClientBy::Syn,
            ..Connection::default()
        };
        c.tcp.syn_ts = Some(at(syn_ms));
        c.tcp.synack_ts = Some(at(syn_ms + rtt));
        c.tcp.ack_ts = Some(at(syn_ms + rtt));
        c.tcp.handshake_ms = Some(rtt);
        c.tcp.handshake_valid = Some(true);
        c.tcp.close = TcpClose {
            kind: CloseKind::Fin,
            initiator: Some(Side::Client),
            ts: Some(at(close_ms)),
            sequence: ["FIN>", "<ACK", "<FIN", "ACK>"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect(),
        };
        c.tcp.bytes.client = 500;
        c.tcp.bytes.server = 20_000;
        c
    }

    pub fn tls(ch_ms: f64, done_ms: f64) -> TlsInfo {
        TlsInfo {
            version: Some("TLS 1.3".into()),
            cipher: Some("TLS_AES_128_GCM_SHA256".into()),
            sni: Some("www.example.test".into()),
            alpn: Some("h2".into()),
            alpn_offered: vec!["h2".into(), "http/1.1".into()],
            client_hello_ts: Some(at(ch_ms)),
            handshake_done_ts: Some(at(done_ms)),
            handshake_ms: Some(done_ms - ch_ms),
            decrypted: true,
            ..TlsInfo::default()
        }
    }

    /// An exchange: request at `req`, sent in `send` ms, first response byte `ttfb` later,
    /// downloaded in `dl` ms.
    pub fn get(
        url: &str,
        req: f64,
        send: f64,
        ttfb: f64,
        dl: f64,
        status: u16,
        body: u64,
    ) -> HttpExchange {
        let path = url
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or("/".into());
        HttpExchange {
            version: "HTTP/1.1".into(),
            method: Some("GET".into()),
            path: Some(path),
            url: Some(url.into()),
            status: Some(status),
            reason: Some("OK".into()),
            request_ts: Some(at(req)),
            request_end_ts: Some(at(req + send)),
            response_ts: Some(at(req + send + ttfb)),
            response_end_ts: Some(at(req + send + ttfb + dl)),
            ttfb_ms: Some(ttfb),
            download_ms: Some(dl),
            request_headers: vec![("Host".into(), "www.example.test".into())],
            response_headers: vec![("Content-Type".into(), "text/html".into())],
            body_bytes: body,
            content_type: Some("text/html".into()),
            complete: true,
            ..HttpExchange::default()
        }
    }

    /// A small page load: DNS, TCP + TLS, two requests on one connection, one on a second
    /// connection that shares the lookup, and an encrypted connection.
    pub fn sample() -> Report {
        let mut r = Report {
            schema: 1,
            ..Report::default()
        };
        r.capture.path = "sample.pcap".into();
        r.capture.format = "pcap".into();
        r.capture.first_ts = Some(at(0.0));
        r.capture.last_ts = Some(at(200.0));
        r.dns.push(dns("www.example.test", 0.0, 2.0, "10.0.0.2"));
        r.dns.push(dns("cdn.example.test", 30.0, 31.0, "10.0.0.3"));
        let mut c1 = conn(1, "10.0.0.2:443", "www.example.test", 3.0, 1.0, 150.0);
        c1.dns = Some(0);
        c1.tls = Some(Box::new(tls(4.5, 8.0)));
        let mut doc = get("https://www.example.test/", 8.5, 0.5, 10.0, 5.0, 200, 6000);
        doc.request_headers
            .push(("Accept".into(), "text/html,*/*".into()));
        c1.http.push(doc);
        let mut css = get(
            "https://www.example.test/site.css",
            30.0,
            0.2,
            4.0,
            3.0,
            200,
            2000,
        );
        css.request_headers
            .push(("Referer".into(), "https://www.example.test/".into()));
        css.content_type = Some("text/css".into());
        c1.http.push(css);
        // A second connection to the same address: the lookup is the first one's.
        let mut c2 = conn(2, "10.0.0.2:443", "www.example.test", 20.0, 1.0, 120.0);
        c2.dns = Some(0);
        c2.tls = Some(Box::new(tls(21.0, 24.0)));
        let mut img = get(
            "https://www.example.test/a.png?x=1&y=%20b",
            25.0,
            0.1,
            3.0,
            20.0,
            200,
            50_000,
        );
        img.content_type = Some("image/png".into());
        c2.http.push(img);
        // An encrypted connection without keys.
        let mut c3 = conn(3, "10.0.0.3:443", "cdn.example.test", 32.0, 2.0, 90.0);
        c3.dns = Some(1);
        let mut t3 = tls(34.0, 40.0);
        t3.decrypted = false;
        t3.alpn = None;
        c3.tls = Some(Box::new(t3));
        r.connections = vec![c1, c2, c3];
        r
    }

    /// A QUIC connection to `static.example.test` (id 1, as the first TCP connection's:
    /// the ids are separate counters): its lookup 40 → 41.5 ms, Initial at 42, the server's
    /// Handshake at 43.5, the client's Finished at 45, two HTTP/3 requests from 50 ms.
    pub fn quic_conn() -> QuicConnection {
        let mut q = QuicConnection::new(
            1,
            "10.0.0.1:60000".parse().unwrap(),
            "10.0.0.4:443".parse().unwrap(),
            ClientBy::Initial,
            at(42.0),
        );
        q.version = "v1".into();
        q.versions = vec!["v1".into()];
        q.dcid = "0011223344556677".into();
        q.last_ts = at(150.0);
        q.client_initial_ts = Some(at(42.0));
        q.server_initial_ts = Some(at(43.0));
        q.server_handshake_ts = Some(at(43.5));
        q.server_initial_ms = Some(1.0);
        q.handshake_ms = Some(1.5);
        q.handshake_done_ts = Some(at(46.0));
        q.packets = PerDir {
            client: 12,
            server: 30,
        };
        q.bytes = PerDir {
            client: 3_000,
            server: 40_000,
        };
        q.datagrams = q.packets;
        q.client_packets.initial = 2;
        q.client_packets.handshake = 1;
        q.client_packets.one_rtt = 9;
        q.server_packets.initial = 1;
        q.server_packets.handshake = 2;
        q.server_packets.one_rtt = 27;
        q.initials_decrypted = 3;
        let mut t = tls(42.0, 45.0);
        t.sni = Some("static.example.test".into());
        t.alpn = Some("h3".into());
        t.alpn_offered = vec!["h3".into()];
        t.cipher = Some("TLS_AES_128_GCM_SHA256".into());
        t.certificates = vec![Certificate {
            subject: "CN=static.example.test".into(),
            issuer: "CN=Example CA".into(),
            not_before: "2026-01-01T00:00:00+00:00".into(),
            not_after: "2027-01-01T00:00:00+00:00".into(),
            san: vec!["static.example.test".into()],
            ..Certificate::default()
        }];
        q.tls = Some(Box::new(t));
        q.hostname = Some("static.example.test".into());
        q.hostname_source = Some(HostnameSource::Sni);
        q.dns = Some(2);
        q.close = vec![QuicClose {
            ts: at(150.0),
            from: Side::Client,
            kind: QuicCloseKind::Transport,
            error_code: 0,
            error: "NO_ERROR".into(),
            frame_type: Some(0),
            reason: String::new(),
        }];
        let h3 = |url: &str, req: f64, ttfb: f64, dl: f64, stream: u64, body: u64| {
            let mut h = get(url, req, 0.0, ttfb, dl, 200, body);
            h.version = "HTTP/3".into();
            h.stream = Some(stream);
            h.reason = None;
            h.request_headers = vec![("Referer".into(), "https://www.example.test/".into())];
            h
        };
        let mut js = h3(
            "https://static.example.test/app.js",
            50.0,
            4.0,
            6.0,
            0,
            7_000,
        );
        js.content_type = Some("application/javascript".into());
        js.response_headers = vec![
            ("content-type".into(), "application/javascript".into()),
            ("alt-svc".into(), "h3=\":443\"; ma=86400".into()),
        ];
        let mut img = h3(
            "https://static.example.test/img.png",
            52.0,
            3.0,
            20.0,
            4,
            30_000,
        );
        img.content_type = Some("image/png".into());
        q.http = vec![js, img];
        q
    }

    /// [`sample`] with its subresources also loaded over HTTP/3 ([`quic_conn`]).
    pub fn h3_sample() -> Report {
        let mut r = sample();
        r.dns
            .push(dns("static.example.test", 40.0, 41.5, "10.0.0.4"));
        r.quic.push(quic_conn());
        r
    }

    #[test]
    fn http3_exchanges_are_rows_and_the_first_carries_the_quic_handshake() {
        let r = h3_sample();
        let rows = rows(&r);
        assert_eq!(rows.len(), 6);
        let quic: Vec<&Row> = rows.iter().filter(|r| r.conn.is_quic()).collect();
        assert_eq!(quic.len(), 2);
        let js = quic[0];
        assert_eq!(js.conn.key(), ConnKey::Quic(1));
        assert_eq!(js.conn.key().to_string(), "quic-1");
        assert_eq!(js.start, at(40.0));
        assert_eq!(js.dns, Some(2));
        let t = js.timings;
        assert_eq!(t.dns, Some(1.5));
        // The QUIC handshake is both connect and ssl, from the answer (41.5; the Initial
        // left at 42) to the client's Finished at 45, as Chromium reports QUIC.
        assert_eq!(t.connect, Some(3.5));
        assert_eq!(t.ssl, Some(3.5));
        // 45 → 50 before the request.
        assert!((t.blocked.unwrap() - 5.0).abs() < 1e-9, "{t:?}");
        assert!((t.total() - js.duration_ms()).abs() < 1e-6);
        assert_eq!(
            js.spans.iter().map(|s| s.phase).collect::<Vec<_>>(),
            vec![
                Phase::Dns,
                Phase::Tls,
                Phase::Blocked,
                Phase::Send,
                Phase::Wait,
                Phase::Receive
            ]
        );
        let img = quic[1];
        assert_eq!(img.start, at(52.0));
        assert_eq!((img.timings.connect, img.timings.dns), (None, None));
        // Ordered with the TCP rows by start.
        let starts: Vec<Ts> = rows.iter().map(|r| r.start).collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        // The TCP connection with the same id keeps its own rows.
        assert_eq!(
            rows.iter()
                .filter(|r| r.conn.key() == ConnKey::Tcp(1))
                .count(),
            2
        );
        // Everything joins the one page: the HTTP/3 requests carry its Referer.
        assert_eq!(pages(&rows).len(), 1);
    }

    #[test]
    fn quic_handshake_without_keys_ends_at_the_servers_handshake_and_0rtt_cuts_it() {
        let mut q = quic_conn();
        q.tls.as_mut().unwrap().decrypted = false;
        let mut r = Report::default();
        r.quic.push(q.clone());
        assert_eq!(rows(&r)[0].timings.connect, Some(1.5));
        // 0-RTT: the first request left with the Initial, before the handshake ended.
        q.http[0].request_ts = Some(at(42.0));
        q.http[0].request_end_ts = Some(at(42.0));
        r.quic = vec![q];
        let rows = rows(&r);
        let first = &rows[0];
        assert_eq!(first.timings.connect, Some(0.0));
        assert_eq!(first.timings.ssl, Some(0.0));
        assert_eq!(first.start, at(42.0));
        // A QUIC connection without a readable request has no row.
        let mut r = Report::default();
        let mut q = quic_conn();
        q.http.clear();
        r.quic.push(q);
        assert!(rows_of(&r).is_empty());
    }

    fn rows_of(r: &Report) -> Vec<Row<'_>> {
        rows(r)
    }

    #[test]
    fn first_request_carries_the_setup() {
        let r = sample();
        let rows = rows(&r);
        assert_eq!(rows.len(), 4);
        let doc = &rows[0];
        assert_eq!(doc.url, "https://www.example.test/");
        assert_eq!(doc.start, at(0.0));
        assert_eq!(doc.dns, Some(0));
        let t = doc.timings;
        assert_eq!(t.dns, Some(2.0));
        // Connecting runs from the answer (2) to the ClientHello (4.5): the client's own
        // second before its SYN is part of it, as Chromium counts it; then TLS to 8.
        assert_eq!(t.connect, Some(2.5 + 3.5));
        assert_eq!(t.ssl, Some(3.5));
        // 8 → 8.5: the client's time before its request.
        assert!((t.blocked.unwrap() - 0.5).abs() < 1e-9, "{t:?}");
        assert_eq!(t.send, Some(0.5));
        assert_eq!(t.wait, Some(10.0));
        assert_eq!(t.receive, Some(5.0));
        assert!(
            (t.total() - doc.duration_ms()).abs() < 1e-6,
            "{t:?} {}",
            doc.duration_ms()
        );
    }

    #[test]
    fn reused_connection_and_reused_lookup_have_no_setup() {
        let r = sample();
        let rows = rows(&r);
        let css = rows.iter().find(|r| r.url.ends_with("site.css")).unwrap();
        assert_eq!(css.start, at(30.0));
        assert_eq!(css.timings.blocked, None);
        assert_eq!(css.timings.dns, None);
        assert_eq!(css.timings.connect, None);
        assert_eq!(css.timings.ssl, None);
        let img = rows.iter().find(|r| r.url.contains("a.png")).unwrap();
        // Its own connection, but the lookup was the first connection's.
        assert_eq!(img.timings.dns, None);
        assert_eq!(img.timings.connect, Some(4.0));
        assert_eq!(img.start, at(20.0));
        assert!((img.timings.total() - img.duration_ms()).abs() < 1e-6);
    }

    #[test]
    fn encrypted_connection_is_a_connection_row() {
        let r = sample();
        let rows = rows(&r);
        let c = rows.iter().find(|r| r.exchange.is_none()).unwrap();
        assert_eq!(c.url, "cdn.example.test:443");
        assert_eq!(c.start, at(30.0));
        assert_eq!(c.end, at(90.0));
        assert_eq!(c.timings.dns, Some(1.0));
        assert_eq!(
            c.spans.iter().map(|s| s.phase).collect::<Vec<_>>(),
            vec![Phase::Dns, Phase::Connect, Phase::Tls, Phase::Data]
        );
    }

    #[test]
    fn pages_follow_navigations_referers_and_time() {
        let mut r = sample();
        // A second navigation much later, and a late request with a Referer of page 1.
        let mut nav = get(
            "https://www.example.test/next",
            5000.0,
            0.1,
            2.0,
            1.0,
            200,
            10,
        );
        nav.request_headers
            .push(("Sec-Fetch-Dest".into(), "document".into()));
        let mut late = get(
            "https://www.example.test/late.js",
            5100.0,
            0.1,
            2.0,
            1.0,
            200,
            10,
        );
        late.request_headers
            .push(("Referer".into(), "https://www.example.test/#top".into()));
        let lone = get(
            "https://www.example.test/beacon",
            9000.0,
            0.1,
            2.0,
            1.0,
            204,
            0,
        );
        r.connections[0].http.extend([nav, late, lone]);
        let rows = rows(&r);
        let pages = pages(&rows);
        assert_eq!(pages.len(), 3, "{pages:#?}");
        let urls =
            |p: &Page| -> Vec<String> { p.rows.iter().map(|&i| rows[i].url.clone()).collect() };
        assert_eq!(pages[0].title, "https://www.example.test/");
        assert!(urls(&pages[0]).contains(&"https://www.example.test/late.js".to_string()));
        assert_eq!(urls(&pages[0]).len(), 5);
        assert_eq!(urls(&pages[1]), vec!["https://www.example.test/next"]);
        assert_eq!(
            pages[1].document,
            Some(rows.iter().position(|r| r.url.ends_with("/next")).unwrap())
        );
        assert_eq!(urls(&pages[2]), vec!["https://www.example.test/beacon"]);
        assert_eq!(pages[2].document, None);
    }

    #[test]
    fn redirect_target_stays_on_the_page() {
        let mut r = Report::default();
        let mut c1 = conn(1, "10.0.0.2:80", "www.example.test", 0.0, 1.0, 50.0);
        let mut nav = get("http://www.example.test/", 1.0, 0.1, 1.0, 0.1, 301, 100);
        nav.request_headers
            .push(("Accept".into(), "text/html".into()));
        nav.redirect_to = Some("https://www.example.test/".into());
        c1.http.push(nav);
        let mut c2 = conn(2, "10.0.0.2:443", "www.example.test", 10.0, 1.0, 50.0);
        let mut doc = get("https://www.example.test/", 12.0, 0.1, 1.0, 0.1, 200, 100);
        doc.request_headers
            .push(("Accept".into(), "text/html".into()));
        doc.redirected_from = Some(RedirectRef {
            connection: 1,
            index: 0,
            quic: false,
        });
        c2.http.push(doc);
        r.connections = vec![c1, c2];
        let rows = rows(&r);
        let pages = pages(&rows);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].rows, vec![0, 1]);
        assert_eq!(pages[0].document, Some(0));
    }
}
