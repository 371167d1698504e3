//! The story of one connection, as typed steps in the order things happened on the wire:
//! DNS → TCP handshake → TLS → requests → where the time went → data → anomalies →
//! teardown. One builder, three tellers: the text story of `--format table` (`table.rs`),
//! the journey of the HTML page (`html.rs`) and the live one-liner (`live.rs`) each render
//! these steps in their own style; this module imports none of them.
//!
//! # Consumes
//! One [`Connection`] (or [`QuicConnection`]) with the DNS lookup it was linked to and the
//! report's connections (to follow redirects across connections); [`of_report`] and
//! [`quic_of_report`] find both in a [`Report`].
//!
//! # Produces
//! A [`Narrative`] for TCP, a [`QuicNarrative`] for QUIC (DNS → the QUIC handshake, by
//! packet type → TLS → HTTP/3 requests → close); both carry their requests as the same
//! [`HttpStep`]s, built by one function, so a request reads the same over HTTP/1.1, HTTP/2
//! and HTTP/3.
//!
//! A [`Narrative`]: the connection and its [`Step`]s, with every fact the tellers share
//! decided here once: which DNS answers to name and how (`CNAME x` or the address), which
//! TCP options the SYN offered, whether TLS 1.3 hid the chosen ALPN, where a redirect came
//! from and where the client followed it, which response headers deserve a word (and the
//! word, from [`crate::report::explain`]), which anomaly counters are non-zero, how many
//! warnings are shown, whether the closer waits in TIME_WAIT.
//!
//! # Guarantees
//! - No wording, colour or markup: a step holds values and model references, never a line.
//!   A teller may leave a step out (the HTML journey has no time breakdown) or show less of
//!   it (a window of the requests), but never recomputes it.
//! - Pure and bounded: at most [`EXPLAINED_HEADERS`] header names explained per connection,
//!   [`WARNINGS_SHOWN`] warnings listed; nothing panics on an odd report (an index out of
//!   range links nothing).

use std::fmt;

use crate::pageload::model::{
    Certificate, CloseKind, Connection, Delay, DelayKind, DnsTransaction, HttpExchange, PerDir,
    QuicClose, QuicConnection, QuicPacketCounts, Report, Side, TeardownFlags, TlsInfo,
};
use crate::report::explain::{explain, seconds};
use crate::report::timing::{exchange_url, Conn};
use crate::time::Ts;
use crate::warning::Warning;

/// Response headers explained under a request (Content-Type and Content-Length are on its
/// line already).
pub const NOTABLE: &[&str] = &[
    "strict-transport-security",
    "alt-svc",
    "content-encoding",
    "cache-control",
    "expires",
    "etag",
    "last-modified",
    "connection",
    "x-frame-options",
    "upgrade",
];

/// Header names explained at most per connection (each name once).
pub const EXPLAINED_HEADERS: usize = 32;
/// Warnings of a connection listed in its story; the rest are counted.
pub const WARNINGS_SHOWN: usize = 5;
/// Warnings of a QUIC connection listed; the rest are counted.
pub const QUIC_WARNINGS_SHOWN: usize = 3;

/// One connection's story.
#[derive(Debug)]
pub struct Narrative<'a> {
    pub conn: &'a Connection,
    /// In wire order; see [`Step`] for which are always present.
    pub steps: Vec<Step<'a>>,
}

/// One step of the story.
#[derive(Debug)]
pub enum Step<'a> {
    /// Always, first.
    Dns(DnsStep<'a>),
    /// Always.
    Tcp(TcpStep),
    /// When the connection carried TLS.
    Tls(TlsStep<'a>),
    /// Always; empty when no request was readable.
    Requests(Vec<HttpStep<'a>>),
    /// When the timeline has a phase or a total.
    Time(TimeStep),
    /// Always: the bytes and packets each way.
    Transfer { bytes: PerDir, packets: PerDir },
    /// When a TCP anomaly counter is non-zero.
    Issues(Issues),
    /// When the connection has warnings.
    Warnings {
        shown: &'a [Warning],
        /// Warnings not listed.
        more: usize,
    },
    /// Always, last.
    Close(CloseStep),
}

/// The lookup that gave the server's address.
#[derive(Debug)]
pub enum DnsStep<'a> {
    Lookup {
        tx: &'a DnsTransaction,
        /// `name TYPE` of the first question; empty without one.
        question: String,
        /// Every answer: `CNAME target` for aliases, the data alone otherwise.
        answers: Vec<String>,
    },
    /// Not linked to a lookup; the report's reason, if it gave one.
    NotLinked { note: Option<&'a str> },
}

/// A TCP option the client's SYN carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOpt {
    Mss(u16),
    Wscale(u8),
    Sack,
    Timestamps,
    FastOpen,
}

impl fmt::Display for TcpOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOpt::Mss(m) => write!(f, "MSS {m}"),
            TcpOpt::Wscale(w) => write!(f, "wscale {w}"),
            TcpOpt::Sack => f.write_str("SACK"),
            TcpOpt::Timestamps => f.write_str("timestamps"),
            TcpOpt::FastOpen => f.write_str("Fast Open"),
        }
    }
}

/// The three-way handshake as seen.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpStep {
    /// When the SYN was seen; `None`: the handshake was not captured (already open).
    pub syn_at: Option<Ts>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub synack_seen: bool,
    pub ack_seen: bool,
    /// SYN → ACK.
    pub rtt_ms: Option<f64>,
    /// The acknowledgements do not match the initial sequence numbers.
    pub isn_mismatch: bool,
    /// The client's SYN options, in a fixed order.
    pub options: Vec<TcpOpt>,
    /// The round trip from data/ACK pairs (both sides' minimums added) and how many
    /// samples it had.
    pub data_rtt: Option<(f64, u64)>,
}

/// The TLS handshake; the rest of its facts are read from `tls`.
#[derive(Debug)]
pub struct TlsStep<'a> {
    pub tls: &'a TlsInfo,
    /// The negotiated version, or `no ServerHello`.
    pub version: &'a str,
    pub alpn: Alpn<'a>,
    /// The server's certificate.
    pub leaf: Option<&'a Certificate>,
}

/// What is known of the protocol the server chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn<'a> {
    Chosen(&'a str),
    /// TLS 1.3 without keys: the choice is in the encrypted extensions.
    Encrypted,
    NotSeen,
}

/// One request of the connection.
#[derive(Debug)]
pub struct HttpStep<'a> {
    /// Index in the connection's `http` (`Connection::http`, `QuicConnection::http`).
    pub index: usize,
    pub exchange: &'a HttpExchange,
    /// The full URL ([`exchange_url`]).
    pub url: String,
    /// What the request line named: the URL as built, else the path, else `?`.
    pub target: &'a str,
    /// The response's media type, parameters left out.
    pub media_type: Option<&'a str>,
    /// The redirect this request followed.
    pub redirected_from: Option<RedirectFrom<'a>>,
    /// The connection on which the client followed this response's redirect.
    pub followed_on: Option<u64>,
    /// Headers worth a word, each name once per connection.
    pub notes: Vec<HeaderNote<'a>>,
}

/// The response that redirected to a request.
#[derive(Debug, Clone, Copy)]
pub struct RedirectFrom<'a> {
    pub connection: u64,
    /// That exchange, when its connection is in hand.
    pub source: Option<&'a HttpExchange>,
}

/// A header and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderNote<'a> {
    /// Lower case.
    pub name: String,
    pub value: &'a str,
    pub meaning: String,
}

/// Where the time went, as the timeline adds it up.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeStep {
    /// The observed phases, in order.
    pub phases: Vec<(TimePhase, f64)>,
    pub total_ms: Option<f64>,
}

/// A phase of the connection's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePhase {
    Dns,
    Connect,
    Tls,
    Ttfb,
    Download,
}

impl TimePhase {
    pub fn label(self) -> &'static str {
        match self {
            TimePhase::Dns => "DNS",
            TimePhase::Connect => "connect",
            TimePhase::Tls => "TLS",
            TimePhase::Ttfb => "TTFB",
            TimePhase::Download => "download",
        }
    }
}

/// The TCP anomaly counters that are non-zero (client/server), `None` for those at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Issues {
    pub retransmissions: Option<PerDir>,
    pub out_of_order: Option<PerDir>,
    pub zero_window: Option<PerDir>,
    /// Bytes never captured.
    pub gaps: Option<PerDir>,
}

/// How the connection ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseStep {
    pub kind: CloseKind,
    pub initiator: Option<Side>,
    /// The teardown segments, `FIN> → <ACK → …`.
    pub steps: String,
    /// Both FINs were seen: the side that closed first waits in TIME_WAIT.
    pub time_wait: bool,
    pub at: Option<Ts>,
}

impl CloseStep {
    /// `client`, `server`, or `?`.
    pub fn who(&self) -> &'static str {
        self.initiator.map_or("?", Side::as_str)
    }
}

/// The story of `c`, with its lookup and the other connections found in `r`.
/// One of the page's worst delays: what it cost, its kind, and the request (or the
/// connection) it held up.
#[derive(Debug, Clone, PartialEq)]
pub struct WorstDelay<'a> {
    pub delay: &'a Delay,
    /// `GET https://…`, or `connection #3` for a connection's own.
    pub what: String,
}

/// The page's `n` costliest delays (capture gaps, which cost nothing, left out), the
/// worst first; a wait shared by several requests (head of line) is listed once per request.
pub fn worst_delays(r: &Report, n: usize) -> Vec<WorstDelay<'_>> {
    let mut all: Vec<WorstDelay<'_>> = Vec::new();
    let conn_delays = r.connections.iter().flat_map(|c| {
        c.diagnosis.iter().map(move |d| WorstDelay {
            delay: d,
            what: format!("connection #{}", c.id),
        })
    });
    let tcp = r.connections.iter().flat_map(|c| c.http.iter());
    let quic = r.quic.iter().flat_map(|q| q.http.iter());
    let requests = tcp.chain(quic).flat_map(|h| {
        let what = format!(
            "{} {}",
            h.method.as_deref().unwrap_or("?"),
            h.url.as_deref().or(h.path.as_deref()).unwrap_or("?")
        );
        h.diagnosis.iter().map(move |d| WorstDelay {
            delay: d,
            what: what.clone(),
        })
    });
    all.extend(
        conn_delays
            .chain(requests)
            .filter(|w| w.delay.kind != DelayKind::CaptureGap && w.delay.ms > 0.0),
    );
    all.sort_by(|a, b| b.delay.ms.total_cmp(&a.delay.ms));
    all.truncate(n);
    all
}

pub fn of_report<'a>(r: &'a Report, c: &'a Connection) -> Narrative<'a> {
    connection(c, c.dns.and_then(|i| r.dns.get(i)), &r.connections)
}

/// The story of `c`, linked to `lookup`; `all` holds the connections redirects may point
/// to (those not in it are named by id only).
pub fn connection<'a>(
    c: &'a Connection,
    lookup: Option<&'a DnsTransaction>,
    all: &'a [Connection],
) -> Narrative<'a> {
    let mut steps = vec![
        Step::Dns(dns_step(c.dns_note.as_deref(), lookup)),
        Step::Tcp(tcp_step(c)),
    ];
    if let Some(t) = &c.tls {
        steps.push(Step::Tls(tls_step(t)));
    }
    steps.push(Step::Requests(http_steps(Conn::Tcp(c), all)));
    if let Some(t) = time_step(c) {
        steps.push(Step::Time(t));
    }
    steps.push(Step::Transfer {
        bytes: c.tcp.bytes,
        packets: c.tcp.packets,
    });
    let issues = issues(c);
    if issues != Issues::default() {
        steps.push(Step::Issues(issues));
    }
    if !c.warnings.is_empty() {
        let n = c.warnings.len().min(WARNINGS_SHOWN);
        steps.push(Step::Warnings {
            shown: &c.warnings[..n],
            more: c.warnings.len() - n,
        });
    }
    steps.push(Step::Close(close_step(c)));
    Narrative { conn: c, steps }
}

impl<'a> Narrative<'a> {
    /// The TCP step (always present).
    pub fn tcp(&self) -> Option<&TcpStep> {
        self.steps.iter().find_map(|s| match s {
            Step::Tcp(t) => Some(t),
            _ => None,
        })
    }

    /// The requests, empty when none was readable.
    pub fn requests(&self) -> &[HttpStep<'a>] {
        self.steps
            .iter()
            .find_map(|s| match s {
                Step::Requests(r) => Some(r.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The total of the time breakdown.
    pub fn total_ms(&self) -> Option<f64> {
        self.steps.iter().find_map(|s| match s {
            Step::Time(t) => t.total_ms,
            _ => None,
        })
    }

    /// The teardown (always present).
    pub fn close(&self) -> Option<&CloseStep> {
        self.steps.iter().find_map(|s| match s {
            Step::Close(c) => Some(c),
            _ => None,
        })
    }
}

fn dns_step<'a>(note: Option<&'a str>, lookup: Option<&'a DnsTransaction>) -> DnsStep<'a> {
    let Some(d) = lookup else {
        return DnsStep::NotLinked { note };
    };
    let question = d
        .questions
        .first()
        .map(|q| format!("{} {}", q.name, q.qtype))
        .unwrap_or_default();
    let answers = d
        .answers
        .iter()
        .map(|a| {
            if a.rtype == "CNAME" {
                format!("CNAME {}", a.data)
            } else {
                a.data.clone()
            }
        })
        .collect();
    DnsStep::Lookup {
        tx: d,
        question,
        answers,
    }
}

fn tcp_step(c: &Connection) -> TcpStep {
    let t = &c.tcp;
    let o = &t.options;
    let options = [
        o.mss.map(TcpOpt::Mss),
        o.wscale.map(TcpOpt::Wscale),
        o.sack.then_some(TcpOpt::Sack),
        o.timestamps.then_some(TcpOpt::Timestamps),
        o.fastopen.then_some(TcpOpt::FastOpen),
    ]
    .into_iter()
    .flatten()
    .collect();
    TcpStep {
        syn_at: t.syn_ts,
        client_isn: t.client_isn,
        server_isn: t.server_isn,
        synack_seen: t.synack_ts.is_some(),
        ack_seen: t.ack_ts.is_some(),
        rtt_ms: t.handshake_ms,
        isn_mismatch: t.handshake_valid == Some(false),
        options,
        data_rtt: t.rtt.min_ms.map(|ms| {
            let n = |s: &Option<Box<crate::pageload::model::RttStats>>| {
                s.as_ref().map_or(0, |s| s.samples)
            };
            (ms, n(&t.rtt.client) + n(&t.rtt.server))
        }),
    }
}

fn tls_step(t: &TlsInfo) -> TlsStep<'_> {
    let alpn = match &t.alpn {
        Some(a) => Alpn::Chosen(a),
        None if t.version.as_deref() == Some("TLS 1.3") && !t.decrypted => Alpn::Encrypted,
        None => Alpn::NotSeen,
    };
    TlsStep {
        tls: t,
        version: t.version.as_deref().unwrap_or("no ServerHello"),
        alpn,
        leaf: t.certificates.first(),
    }
}

/// The requests of `c`, HTTP/1.x, HTTP/2 or HTTP/3 alike. Redirects name TCP connections
/// (the stitcher links no other), so only a TCP connection's response is followed.
fn http_steps<'a>(c: Conn<'a>, all: &'a [Connection]) -> Vec<HttpStep<'a>> {
    let mut explained: Vec<String> = Vec::new();
    c.http()
        .iter()
        .enumerate()
        .map(|(i, h)| HttpStep {
            index: i,
            exchange: h,
            url: exchange_url(c, h),
            target: h.url.as_deref().or(h.path.as_deref()).unwrap_or("?"),
            media_type: h
                .content_type
                .as_deref()
                .map(|ct| ct.split(';').next().unwrap_or(ct)),
            redirected_from: h.redirected_from.map(|from| RedirectFrom {
                connection: from.connection,
                source: all
                    .iter()
                    .find(|x| !from.quic && x.id == from.connection)
                    .and_then(|x| x.http.get(from.index)),
            }),
            followed_on: match c {
                Conn::Tcp(t) if h.redirect_to.is_some() => followed_on(t.id, i, all),
                _ => None,
            },
            notes: header_notes(h, &mut explained),
        })
        .collect()
}

/// The connection whose request followed the redirect of exchange `index` of `conn`.
fn followed_on(conn: u64, index: usize, all: &[Connection]) -> Option<u64> {
    all.iter().find_map(|n| {
        n.http.iter().find_map(|x| {
            x.redirected_from
                .filter(|f| !f.quic && f.connection == conn && f.index == index)
                .map(|_| n.id)
        })
    })
}

/// The request's `Upgrade-Insecure-Requests` and the [`NOTABLE`] response headers with a
/// meaning, each name once per connection (`explained` carries the names already seen).
fn header_notes<'a>(h: &'a HttpExchange, explained: &mut Vec<String>) -> Vec<HeaderNote<'a>> {
    let notable = h
        .request_headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("upgrade-insecure-requests"))
        .chain(
            h.response_headers
                .iter()
                .filter(|(k, _)| NOTABLE.iter().any(|n| k.eq_ignore_ascii_case(n))),
        );
    let mut notes = Vec::new();
    for (k, v) in notable {
        let name = k.to_ascii_lowercase();
        if explained.contains(&name) || explained.len() >= EXPLAINED_HEADERS {
            continue;
        }
        if let Some(meaning) = explain(k, v) {
            notes.push(HeaderNote {
                name: name.clone(),
                value: v,
                meaning,
            });
        }
        explained.push(name);
    }
    notes
}

fn time_step(c: &Connection) -> Option<TimeStep> {
    let tl = &c.timeline;
    let phases: Vec<(TimePhase, f64)> = [
        (TimePhase::Dns, tl.dns_ms),
        (TimePhase::Connect, tl.connect_ms),
        (TimePhase::Tls, tl.tls_ms),
        (TimePhase::Ttfb, tl.ttfb_ms),
        (TimePhase::Download, tl.download_ms),
    ]
    .into_iter()
    .filter_map(|(p, v)| v.map(|v| (p, v)))
    .collect();
    (!phases.is_empty() || tl.total_ms.is_some()).then_some(TimeStep {
        phases,
        total_ms: tl.total_ms,
    })
}

fn issues(c: &Connection) -> Issues {
    let t = &c.tcp;
    let nonzero = |v: PerDir| (v.client + v.server > 0).then_some(v);
    Issues {
        retransmissions: nonzero(t.retransmissions),
        out_of_order: nonzero(t.out_of_order),
        zero_window: nonzero(t.zero_window),
        gaps: nonzero(t.gaps),
    }
}

fn close_step(c: &Connection) -> CloseStep {
    let close = &c.tcp.close;
    let fins = close
        .sequence
        .iter()
        .filter(|s| matches!(s.flags, TeardownFlags::Fin | TeardownFlags::FinAck))
        .count();
    CloseStep {
        kind: close.kind,
        initiator: close.initiator,
        steps: close.steps(" → "),
        time_wait: close.kind == CloseKind::Fin && fins >= 2,
        at: close.ts,
    }
}

/// The story of a QUIC connection: what its Initials said, its handshake packet by packet
/// type, the TLS handshake when decrypted, its HTTP/3 requests, how it closed.
#[derive(Debug)]
pub struct QuicNarrative<'a> {
    pub conn: &'a QuicConnection,
    pub hello: QuicHello<'a>,
    /// The lookup it was linked to, told as a TCP connection's.
    pub dns: DnsStep<'a>,
    pub handshake: QuicHandshake<'a>,
    /// The TLS handshake as the key log let it be read (the chosen ALPN, the certificate);
    /// `None` when it was not decrypted: the hello says what the Initials showed.
    pub tls: Option<TlsStep<'a>>,
    /// Why the client tried HTTP/3 here, when the capture shows it.
    pub why: Vec<H3Reason<'a>>,
    /// The HTTP/3 requests, in the connection's order; empty without keys.
    pub requests: Vec<HttpStep<'a>>,
    /// The CONNECTION_CLOSE frames read; empty: it was still open (or went idle) at
    /// `last_at`.
    pub close: &'a [QuicClose],
    /// The connection's last packet.
    pub last_at: Ts,
    pub warnings_shown: &'a [Warning],
    pub warnings_more: usize,
}

/// The QUIC handshake as seen: Initial → Handshake → 1-RTT, packet counts per type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuicHandshake<'a> {
    /// The version of the first long header (`v1`, `v2`, or hex).
    pub version: &'a str,
    /// The client's first Initial.
    pub initial_at: Option<Ts>,
    /// The client's first Initial to the server's first Initial.
    pub server_initial_ms: Option<f64>,
    /// The client's first Initial to the server's first Handshake packet.
    pub handshake_ms: Option<f64>,
    /// The client's first Initial to the client's Finished (decrypted only): the span the
    /// timing model calls the QUIC handshake.
    pub finished_ms: Option<f64>,
    /// The server's HANDSHAKE_DONE: the handshake is confirmed (RFC 9001 4.1.2).
    pub confirmed_at: Option<Ts>,
    pub client: &'a QuicPacketCounts,
    pub server: &'a QuicPacketCounts,
}

impl<'a> QuicNarrative<'a> {
    /// The lookup, when linked.
    pub fn lookup(&self) -> Option<&'a DnsTransaction> {
        match self.dns {
            DnsStep::Lookup { tx, .. } => Some(tx),
            DnsStep::NotLinked { .. } => None,
        }
    }

    /// The duration of the QUIC handshake: to the client's Finished when decrypted, else to
    /// the server's first Handshake packet.
    pub fn handshake_ms(&self) -> Option<f64> {
        self.handshake.finished_ms.or(self.handshake.handshake_ms)
    }
}

/// What told the client to try HTTP/3 on a QUIC connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3Reason<'a> {
    /// A response's `Alt-Svc` (RFC 7838): on TCP connection `connection`, answering `url`.
    AltSvc {
        connection: u64,
        url: Option<&'a str>,
        value: &'a str,
        max_age_s: u64,
    },
    /// An HTTPS DNS record's `alpn` (RFC 9460), answered at `at`.
    HttpsRecord {
        name: &'a str,
        value: &'a str,
        ttl_s: u32,
        at: Option<Ts>,
    },
}

impl H3Reason<'_> {
    /// In words: `HTTP/3 because Alt-Svc on connection #2 (https://www.lab.test/) offered
    /// h3=":443"; ma=86400, for 1 day`. Times relative to `origin`.
    pub fn describe(&self, origin: Option<Ts>) -> String {
        match *self {
            H3Reason::AltSvc {
                connection,
                url,
                value,
                max_age_s,
            } => format!(
                "HTTP/3 because Alt-Svc on connection #{connection}{} offered {value}, for {}",
                url.map(|u| format!(" ({u})")).unwrap_or_default(),
                seconds(max_age_s)
            ),
            H3Reason::HttpsRecord {
                name,
                value,
                ttl_s,
                at,
            } => format!(
                "HTTP/3 because the HTTPS record of {name} answered at {} offered it ({value}), for {}",
                crate::report::fmt::rel(at, origin),
                seconds(u64::from(ttl_s))
            ),
        }
    }
}

/// The reasons [`pageload::stitch`](crate::pageload::stitch) linked to `q`, read in `r`.
pub fn h3_reasons<'a>(r: &'a Report, q: &'a QuicConnection) -> Vec<H3Reason<'a>> {
    let mut why = Vec::new();
    if let Some(o) = &q.h3_offer {
        let url = r
            .connections
            .iter()
            .find(|c| c.id == o.connection)
            .and_then(|c| c.http.get(o.index))
            .and_then(|h| h.url.as_deref());
        why.push(H3Reason::AltSvc {
            connection: o.connection,
            url,
            value: &o.value,
            max_age_s: o.max_age_s,
        });
    }
    if let Some(o) = &q.h3_dns_offer {
        if let Some(t) = r.dns.get(o.dns) {
            let name = t.answers.get(o.answer).map_or("", |a| a.name.as_str());
            why.push(H3Reason::HttpsRecord {
                name,
                value: &o.value,
                ttl_s: o.ttl_s,
                at: t.response_ts,
            });
        }
    }
    why
}

/// What the TLS hellos in the Initial packets said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicHello<'a> {
    /// No ClientHello could be read.
    Unread,
    Read {
        sni: Option<&'a str>,
        alpn_offered: &'a [String],
        /// The ServerHello's version and cipher; `None` without a ServerHello.
        version: Option<&'a str>,
        cipher: Option<&'a str>,
    },
}

/// The story of `q`, with its lookup and the report's connections found in `r`.
pub fn quic_of_report<'a>(r: &'a Report, q: &'a QuicConnection) -> QuicNarrative<'a> {
    let mut n = quic(q, q.dns.and_then(|i| r.dns.get(i)), &r.connections);
    n.why = h3_reasons(r, q);
    n
}

/// The story of `q`, linked to `lookup`; `all` holds the connections redirects may point
/// to.
pub fn quic<'a>(
    q: &'a QuicConnection,
    lookup: Option<&'a DnsTransaction>,
    all: &'a [Connection],
) -> QuicNarrative<'a> {
    let hello = match &q.tls {
        Some(t) => QuicHello::Read {
            sni: t.sni.as_deref(),
            alpn_offered: &t.alpn_offered,
            version: t.version.as_deref(),
            cipher: t.cipher.as_deref(),
        },
        None => QuicHello::Unread,
    };
    let decrypted = q.tls.as_deref().filter(|t| t.decrypted);
    let n = q.warnings.len().min(QUIC_WARNINGS_SHOWN);
    QuicNarrative {
        conn: q,
        hello,
        dns: dns_step(q.dns_note.as_deref(), lookup),
        handshake: QuicHandshake {
            version: &q.version,
            initial_at: q.client_initial_ts,
            server_initial_ms: q.server_initial_ms,
            handshake_ms: q.handshake_ms,
            finished_ms: decrypted
                .and_then(|t| t.handshake_done_ts)
                .zip(q.client_initial_ts)
                .map(|(done, initial)| done.ms_since(initial))
                .filter(|ms| *ms >= 0.0),
            confirmed_at: q.handshake_done_ts,
            client: &q.client_packets,
            server: &q.server_packets,
        },
        tls: decrypted.map(tls_step),
        why: Vec::new(),
        requests: http_steps(Conn::Quic(q), all),
        close: &q.close,
        last_at: q.last_ts,
        warnings_shown: &q.warnings[..n],
        warnings_more: q.warnings.len() - n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::{RedirectRef, TeardownStep};
    use crate::report::timing::tests::{h3_sample, sample};

    #[test]
    fn every_connection_tells_dns_tcp_requests_transfer_and_close() {
        let r = sample();
        for c in &r.connections {
            let n = of_report(&r, c);
            assert!(matches!(n.steps.first(), Some(Step::Dns(_))));
            assert!(matches!(n.steps.last(), Some(Step::Close(_))));
            assert!(n.tcp().is_some());
            assert_eq!(n.requests().len(), c.http.len());
            assert_eq!(
                n.steps.iter().any(|s| matches!(s, Step::Tls(_))),
                c.tls.is_some()
            );
        }
    }

    #[test]
    fn quic_connections_carry_their_requests_like_tcp_ones() {
        let r = h3_sample();
        let q = &r.quic[0];
        let n = quic_of_report(&r, q);
        assert_eq!(n.requests.len(), 2);
        assert_eq!(n.requests[1].index, 1);
        assert_eq!(n.requests[0].url, "https://static.example.test/app.js");
        assert_eq!(n.requests[0].notes[0].name, "alt-svc");
        assert_eq!(n.requests[0].media_type, Some("application/javascript"));
        let tls = n.tls.as_ref().expect("decrypted: the TLS step");
        assert_eq!(tls.alpn, Alpn::Chosen("h3"));
        assert_eq!(
            tls.leaf.map(|c| c.subject.as_str()),
            Some("CN=static.example.test")
        );
        assert!(matches!(n.dns, DnsStep::Lookup { .. }));
        assert_eq!(n.lookup().map(|d| d.latency_ms), Some(Some(1.5)));
        // The handshake to the client's Finished, as the timing model has it.
        assert_eq!(n.handshake_ms(), Some(3.0));
        assert_eq!(n.handshake.handshake_ms, Some(1.5));
        // Without keys: no TLS step, the handshake to the server's Handshake packet.
        let mut q = q.clone();
        q.tls.as_mut().unwrap().decrypted = false;
        q.http.clear();
        let n = quic(&q, None, &[]);
        assert!(n.tls.is_none() && n.requests.is_empty());
        assert_eq!(n.handshake_ms(), Some(1.5));
        assert!(matches!(n.dns, DnsStep::NotLinked { .. }));
    }

    #[test]
    fn redirects_link_both_ways_and_odd_indices_link_nothing() {
        let mut a = Connection {
            id: 1,
            ..Connection::default()
        };
        a.http.push(HttpExchange {
            redirect_to: Some("https://b.test/".into()),
            status: Some(301),
            ..HttpExchange::default()
        });
        let mut b = Connection {
            id: 2,
            ..Connection::default()
        };
        b.http.push(HttpExchange {
            redirected_from: Some(RedirectRef {
                connection: 1,
                index: 0,
                quic: false,
            }),
            ..HttpExchange::default()
        });
        b.http.push(HttpExchange {
            redirected_from: Some(RedirectRef {
                connection: 1,
                index: 99,
                quic: false,
            }),
            ..HttpExchange::default()
        });
        let all = vec![a, b];
        let na = connection(&all[0], None, &all);
        assert_eq!(na.requests()[0].followed_on, Some(2));
        let nb = connection(&all[1], None, &all);
        let from = nb.requests()[0].redirected_from.unwrap();
        assert_eq!(from.connection, 1);
        assert_eq!(from.source.and_then(|h| h.status), Some(301));
        assert!(nb.requests()[1].redirected_from.unwrap().source.is_none());
        // Without the other connections, the link is by id only.
        let alone = connection(&all[1], None, &[]);
        assert!(alone.requests()[0]
            .redirected_from
            .unwrap()
            .source
            .is_none());
    }

    #[test]
    fn headers_are_explained_once_per_connection() {
        let mut c = Connection::default();
        for _ in 0..2 {
            c.http.push(HttpExchange {
                response_headers: vec![
                    ("Cache-Control".into(), "no-store".into()),
                    ("X-Other".into(), "1".into()),
                ],
                ..HttpExchange::default()
            });
        }
        let n = connection(&c, None, &[]);
        assert_eq!(n.requests()[0].notes.len(), 1);
        assert_eq!(n.requests()[0].notes[0].name, "cache-control");
        assert!(n.requests()[1].notes.is_empty());
    }

    #[test]
    fn teardown_and_anomalies() {
        let mut c = Connection::default();
        c.tcp.close.kind = CloseKind::Fin;
        c.tcp.close.initiator = Some(Side::Client);
        c.tcp.close.sequence = ["FIN>", "<ACK", "<FIN", "ACK>"]
            .iter()
            .map(|s| s.parse::<TeardownStep>().unwrap())
            .collect();
        c.tcp.gaps = PerDir {
            client: 0,
            server: 3,
        };
        let n = connection(&c, None, &[]);
        let close = n.close().unwrap();
        assert!(close.time_wait);
        assert_eq!(close.who(), "client");
        assert_eq!(close.steps, "FIN> → <ACK → <FIN → ACK>");
        assert!(n.steps.iter().any(|s| matches!(
            s,
            Step::Issues(Issues {
                gaps: Some(_),
                retransmissions: None,
                ..
            })
        )));
    }
}
