//! The printers of `pagetrace live`: what is written as each DNS transaction is answered
//! and each connection ends, and at the end of the capture.
//!
//! # Consumes
//! Model types only ([`DnsTransaction`], [`Connection`], [`QuicConnection`],
//! [`CaptureInfo`]) and [`PcapCounters`], this module's copy of libpcap's counters (a
//! renderer takes no capture type). The capture loop (`cli/live.rs`) decides when to print,
//! numbers the DNS lines and re-points each connection's `dns` at that number.
//!
//! # Produces
//! - `jsonl`: one JSON object per line, `"type"` first: `dns` (a REPORT.md DNS transaction
//!   plus `"index"`), `connection`, `quic`, and the last `capture` (REPORT.md `capture` plus
//!   `"pcap"` and `"end"`). Each line is flushed.
//! - `table`: one line per DNS transaction, per connection (from its
//!   [`Narrative`](crate::report::narrative::Narrative)) and per QUIC connection (from its
//!   [`QuicNarrative`](crate::report::narrative::QuicNarrative): its first HTTP/3 request
//!   and how many followed, as the TCP line tells them), times from
//!   the capture's first packet; at the end a summary, the capture warnings and the
//!   statistics line ([`stats_line`], which the loop also writes to standard error for
//!   `jsonl`).
//!
//! # Guarantees
//! Pure functions over any `io::Write`: the same values give the same bytes; colour only
//! through the caller's [`Paint`].

use std::io::{self, Write};

use serde::Serialize;

use crate::pageload::model::{
    CaptureInfo, CloseKind, Connection, DnsTransaction, HttpExchange, QuicConnection, Side,
};
use crate::report::fmt::{fmt_bytes, fmt_ms, fmt_opt_ms, plural, queries, rel, Paint, NONE};
use crate::report::narrative::{self, QuicHello};
use crate::time::Ts;

/// Capture warnings listed at the end of a `table` capture; the rest are counted.
pub const END_WARNINGS_SHOWN: usize = 10;

/// libpcap's counters for the capture (`pcap_stats`), as the `capture` line reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PcapCounters {
    pub received: u64,
    /// No room in the kernel buffer: the reader was too slow.
    pub dropped_by_kernel: u64,
    /// Dropped by the interface or its driver.
    pub dropped_by_interface: u64,
}

impl PcapCounters {
    pub fn dropped(&self) -> u64 {
        self.dropped_by_kernel + self.dropped_by_interface
    }
}

/// What the end of a capture reports.
#[derive(Debug, Clone, Copy)]
pub struct CaptureEnd<'a> {
    pub capture: &'a CaptureInfo,
    /// `None`: libpcap gave no statistics.
    pub pcap: Option<PcapCounters>,
    /// Why the capture stopped: `signal`, `duration`, `count` or `error`.
    pub end: &'a str,
    pub interface: &'a str,
    pub connections_printed: u64,
    pub dns_printed: u64,
}

#[derive(Serialize)]
struct DnsLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u64,
    #[serde(flatten)]
    dns: &'a DnsTransaction,
}

#[derive(Serialize)]
struct ConnectionLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    connection: &'a Connection,
}

#[derive(Serialize)]
struct QuicLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    quic: &'a QuicConnection,
}

#[derive(Serialize)]
struct CaptureLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    capture: &'a CaptureInfo,
    pcap: Option<PcapCounters>,
    end: &'a str,
}

/// Writes one object on one line and flushes.
fn write_line<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    super::fastjson::extend(&mut buf, value, false).map_err(io::Error::from)?;
    buf.push(b'\n');
    out.write_all(&buf)?;
    out.flush()
}

/// The `dns` object of DNS line number `index`.
pub fn write_dns_json<W: Write>(out: &mut W, index: u64, t: &DnsTransaction) -> io::Result<()> {
    write_line(
        out,
        &DnsLine {
            kind: "dns",
            index,
            dns: t,
        },
    )
}

/// The `connection` object.
pub fn write_connection_json<W: Write>(out: &mut W, c: &Connection) -> io::Result<()> {
    write_line(
        out,
        &ConnectionLine {
            kind: "connection",
            connection: c,
        },
    )
}

/// The `quic` object.
pub fn write_quic_json<W: Write>(out: &mut W, q: &QuicConnection) -> io::Result<()> {
    write_line(
        out,
        &QuicLine {
            kind: "quic",
            quic: q,
        },
    )
}

/// The last object: the capture, libpcap's counters and why it ended.
pub fn write_capture_json<W: Write>(out: &mut W, e: &CaptureEnd) -> io::Result<()> {
    write_line(
        out,
        &CaptureLine {
            kind: "capture",
            capture: e.capture,
            pcap: e.pcap,
            end: e.end,
        },
    )
}

/// One DNS transaction: `+0.123456 s  DNS   name A → answers  latency  client → server (udp)`.
pub fn write_dns_line<W: Write>(
    out: &mut W,
    t: &DnsTransaction,
    first_ts: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let q = t
        .questions
        .first()
        .map(|q| format!("{} {}", q.name, q.qtype))
        .unwrap_or_else(|| NONE.into());
    let answers: Vec<String> = t
        .answers
        .iter()
        .map(|a| format!("{} {}", a.rtype, a.data))
        .collect();
    let result = match (&t.rcode, answers.is_empty()) {
        (None, _) => p.red("no answer"),
        (Some(r), true) => r.to_string(),
        (Some(r), false) if r == "NOERROR" => answers.join(", "),
        (Some(r), false) => format!("{r} {}", answers.join(", ")),
    };
    // The resolver's side, when the capture shows it: its walk upstream, or its cache.
    let walk = match (t.cached, t.chain.as_deref()) {
        (Some(true), _) => ", from the resolver's cache".to_string(),
        (_, Some(steps)) if !steps.is_empty() => {
            format!(", the resolver's walk: {} upstream", queries(steps.len()))
        }
        _ => String::new(),
    };
    writeln!(
        out,
        "{}  {}  {} → {}  {}  {} → {} ({}){walk}",
        rel(Some(t.ts), first_ts),
        p.cyan("DNS "),
        p.bold(&q),
        result,
        fmt_opt_ms(t.latency_ms),
        t.client,
        t.server,
        t.transport
    )
}

/// One connection that ended, on one line: endpoints, host, protocol, handshakes, its first
/// request, bytes each way, how it closed, its total time. The line names no lookup and
/// follows no redirect, so the story is built without them.
pub fn write_connection_line<W: Write>(
    out: &mut W,
    c: &Connection,
    first_ts: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let n = narrative::connection(c, None, &[]);
    let start = c
        .tcp
        .syn_ts
        .or_else(|| c.http.first().and_then(|h| h.request_ts))
        .or(c.tcp.close.ts);
    let mut parts = vec![format!("{} → {}", c.client, c.server)];
    if let Some(h) = &c.hostname {
        parts.push(p.bold(h));
    }
    parts.push(match (&c.tls, c.app_protocol) {
        (Some(t), _) => format!(
            "{}{}",
            t.version.as_deref().unwrap_or("TLS"),
            t.alpn
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default()
        ),
        (None, Some(a)) => a.to_string(),
        (None, None) => NONE.into(),
    });
    parts.push(format!(
        "TCP {}",
        fmt_opt_ms(n.tcp().and_then(|t| t.rtt_ms))
    ));
    if let Some(t) = &c.tls {
        parts.push(format!("TLS {}", fmt_opt_ms(t.handshake_ms)));
    }
    if let Some(first) = n.requests().first() {
        parts.push(first_request(first.exchange, n.requests().len(), p));
    }
    parts.push(format!(
        "↑{} ↓{}",
        fmt_bytes(c.tcp.bytes.client),
        fmt_bytes(c.tcp.bytes.server)
    ));
    if let Some(close) = n.close() {
        parts.push(match (close.kind, close.initiator) {
            (CloseKind::Open, _) => p.dim("open"),
            (CloseKind::Rst, who) => p.red(&format!("rst by {}", who.map_or("?", Side::as_str))),
            (k, Some(who)) => format!("{k} by {who}"),
            (k, None) => k.to_string(),
        });
    }
    if let Some(t) = n.total_ms() {
        parts.push(format!("total {}", fmt_ms(t)));
    }
    writeln!(
        out,
        "{}  {}  {}",
        rel(start, first_ts),
        p.bold(&format!("#{:<3}", c.id)),
        parts.join("  ")
    )
}

/// One QUIC connection that ended, on one line: endpoints, host, what its Initials
/// offered, the handshake, and, as the TCP line, its first HTTP/3 request (`GET /x → 200
/// (+7 more)`) when the key log opened it. Redirects are not followed, so the story is
/// built without the other connections.
pub fn write_quic_line<W: Write>(
    out: &mut W,
    q: &QuicConnection,
    first_ts: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let n = narrative::quic(q, None, &[]);
    let mut parts = vec![format!("{} → {}", q.client, q.server)];
    if let Some(h) = &q.hostname {
        parts.push(p.bold(h));
    }
    if let QuicHello::Read {
        alpn_offered,
        version,
        ..
    } = n.hello
    {
        if !alpn_offered.is_empty() {
            parts.push(format!("ALPN offered {}", alpn_offered.join(",")));
        }
        if let Some(v) = version {
            parts.push(v.to_string());
        }
    }
    parts.push(format!("handshake {}", fmt_opt_ms(q.handshake_ms)));
    if let Some(first) = n.requests.first() {
        parts.push(first_request(first.exchange, n.requests.len(), p));
    }
    writeln!(
        out,
        "{} {} {}  at {}",
        p.cyan("QUIC"),
        q.version,
        parts.join("  "),
        rel(Some(q.first_ts), first_ts)
    )
}

/// `GET /path → 200 (+k more)`: a connection's first request, and how many followed.
fn first_request(h: &HttpExchange, count: usize, p: Paint) -> String {
    let more = match count {
        0 | 1 => String::new(),
        k => format!(" (+{} more)", k - 1),
    };
    format!(
        "{} {} → {}{more}",
        h.method.as_deref().unwrap_or("?"),
        h.path.as_deref().unwrap_or("?"),
        p.status(h.status)
    )
}

/// `pagetrace: N packets captured on IFACE: libpcap received …, dropped …`.
pub fn stats_line(e: &CaptureEnd) -> String {
    let packets = e.capture.packets;
    let iface = e.interface;
    match e.pcap {
        Some(s) => format!(
            "pagetrace: {} captured on {iface}: libpcap received {}, dropped {} by the kernel, {} by the interface{}",
            plural(packets, "packet"),
            s.received,
            s.dropped_by_kernel,
            s.dropped_by_interface,
            if s.dropped() > 0 {
                " (the report misses those packets: a larger --buffer-size or a narrower -f filter helps)"
            } else {
                ""
            }
        ),
        None => format!(
            "pagetrace: {} captured on {iface}: libpcap gave no statistics",
            plural(packets, "packet")
        ),
    }
}

/// The end of a `table` capture: the summary, the capture warnings and the statistics
/// line (red when packets were dropped).
pub fn write_end_table<W: Write>(out: &mut W, e: &CaptureEnd, p: Paint) -> io::Result<()> {
    let capture = e.capture;
    writeln!(
        out,
        "{}: {}, {}, {}, {}{}",
        p.bold("Capture ended"),
        plural(capture.packets, "packet"),
        fmt_bytes(capture.bytes),
        plural(e.connections_printed, "connection"),
        plural(e.dns_printed, "DNS transaction"),
        match (capture.first_ts, capture.last_ts) {
            (Some(a), Some(b)) => format!(", spanning {}", fmt_ms(b.ms_since(a))),
            _ => String::new(),
        }
    )?;
    let w = &capture.warnings;
    let total = w.len() as u64 + capture.stats.warnings_suppressed;
    if total > 0 {
        writeln!(out, "{}", p.yellow(&format!("Capture warnings ({total})")))?;
        for x in w.iter().take(END_WARNINGS_SHOWN) {
            let at = x
                .packet
                .map(|n| format!("packet {n}: "))
                .unwrap_or_default();
            writeln!(out, "  {at}{} ({})", x.message, x.kind)?;
        }
        if total > END_WARNINGS_SHOWN as u64 {
            writeln!(
                out,
                "  … {} more in --format jsonl",
                total - END_WARNINGS_SHOWN as u64
            )?;
        }
    }
    let line = stats_line(e);
    if e.pcap.is_some_and(|s| s.dropped() > 0) {
        writeln!(out, "{}", p.red(&line))
    } else {
        writeln!(out, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::{at, quic_conn, sample};

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_lines_tell_dns_connections_and_the_end() {
        let r = sample();
        let first = Some(at(0.0));
        let p = Paint(false);
        let dns = text(|o| write_dns_line(o, &r.dns[0], first, p));
        assert!(
            dns.starts_with("+0.000000 s  DNS   www.example.test A → "),
            "{dns}"
        );
        assert!(dns.ends_with("(udp)\n"), "{dns}");
        // Captured at the resolver: its walk, or its cache.
        let mut walked = r.dns[0].clone();
        let step = crate::pageload::model::ChainStep {
            dns: Some(0),
            server: "192.0.2.53:53".parse().unwrap(),
            role: crate::pageload::model::ServerRole::Root,
            zone: Some(".".into()),
            qname: "test".into(),
            qtype: "A".into(),
            outcome: crate::pageload::model::StepOutcome::Referral,
            referral: Some("test".into()),
            ts: walked.ts,
            latency_ms: Some(1.0),
        };
        walked.chain = Some(vec![step.clone(), step]);
        walked.cached = Some(false);
        let line = text(|o| write_dns_line(o, &walked, first, p));
        assert!(
            line.ends_with("(udp), the resolver's walk: 2 queries upstream\n"),
            "{line}"
        );
        walked.chain = Some(Vec::new());
        walked.cached = Some(true);
        let line = text(|o| write_dns_line(o, &walked, first, p));
        assert!(
            line.ends_with("(udp), from the resolver's cache\n"),
            "{line}"
        );
        for c in &r.connections {
            let line = text(|o| write_connection_line(o, c, first, p));
            assert!(line.contains(&format!("#{:<3}", c.id)), "{line}");
            assert!(line.contains(" → ") && line.ends_with('\n'), "{line}");
        }
        let doc = text(|o| write_connection_line(o, &r.connections[0], first, p));
        assert!(doc.contains("GET / → 200"), "{doc}");
        let e = CaptureEnd {
            capture: &r.capture,
            pcap: Some(PcapCounters {
                received: 10,
                dropped_by_kernel: 1,
                dropped_by_interface: 0,
            }),
            end: "signal",
            interface: "eth0",
            connections_printed: 2,
            dns_printed: 1,
        };
        let end = text(|o| write_end_table(o, &e, p));
        assert!(end.starts_with("Capture ended: "), "{end}");
        assert!(end.contains("dropped 1 by the kernel"), "{end}");
        assert!(end.contains("(the report misses those packets"), "{end}");
    }

    #[test]
    fn quic_line_tells_its_requests_like_the_tcp_line() {
        let p = Paint(false);
        let mut q = quic_conn();
        let line = text(|o| write_quic_line(o, &q, Some(at(0.0)), p));
        assert!(
            line.contains("handshake 1.500 ms  GET /app.js → 200 (+1 more)"),
            "{line}"
        );
        q.http.truncate(1);
        q.http[0].status = None;
        let line = text(|o| write_quic_line(o, &q, Some(at(0.0)), p));
        assert!(line.contains("GET /app.js → no response  at"), "{line}");
        q.http.clear();
        let line = text(|o| write_quic_line(o, &q, Some(at(0.0)), p));
        assert!(
            line.contains("handshake 1.500 ms  at +0.042000 s"),
            "{line}"
        );
    }

    #[test]
    fn json_lines_are_typed_objects() {
        let r = sample();
        let dns = text(|o| write_dns_json(o, 7, &r.dns[0]));
        let v: serde_json::Value = serde_json::from_str(&dns).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["index"].as_u64()),
            (Some("dns"), Some(7))
        );
        let c = text(|o| write_connection_json(o, &r.connections[0]));
        let v: serde_json::Value = serde_json::from_str(&c).unwrap();
        assert_eq!(v["type"], "connection");
        let e = CaptureEnd {
            capture: &r.capture,
            pcap: None,
            end: "count",
            interface: "lo",
            connections_printed: 0,
            dns_printed: 0,
        };
        let cap = text(|o| write_capture_json(o, &e));
        let v: serde_json::Value = serde_json::from_str(&cap).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["end"].as_str()),
            (Some("capture"), Some("count"))
        );
        assert!(v["pcap"].is_null());
        assert!(stats_line(&e).ends_with("libpcap gave no statistics"));
    }
}
