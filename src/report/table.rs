//! `--format table`: each connection told as a story, in the order things happened on the
//! wire (DNS → TCP handshake → TLS → requests → teardown, and where the time went), then
//! summary tables of all connections, requests and DNS transactions, and the text waterfall
//! of the whole capture ([`crate::report::waterfall`]).
//!
//! Times are shown relative to the first packet of the capture (`+1.234 s`), as Wireshark
//! shows them by default. Colour only when the caller says so (a terminal, and NO_COLOR
//! unset); the text reads the same without it.

use std::io::{self, Write};

use comfy_table::{Cell, Table};

use crate::pageload::model::{
    AlertLevel, CloseKind, Connection, HostnameSource, HttpExchange, QuicConnection, Report,
    TcpInfo, TeardownFlags,
};
use crate::report::explain::explain;
use crate::report::fmt::{
    ellipsize, fmt_bytes, fmt_ms, fmt_opt_ms, new_table, plural, rel, right, Paint,
};

/// Response headers explained under a request (Content-Type and Content-Length are on its line).
const NOTABLE: &[&str] = &[
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
use crate::time::Ts;

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    pub color: bool,
    /// Terminal width for the summary tables; `None` lets them be as wide as they need.
    pub width: Option<u16>,
}

pub fn write_report<W: Write>(out: &mut W, r: &Report, opts: &TableOptions) -> io::Result<()> {
    let p = Paint(opts.color);
    let origin = r.capture.first_ts;
    writeln!(
        out,
        "{} {} ({}, {}): {} packets, {}, {} connections{}, {} DNS transactions",
        p.bold("pagetrace"),
        r.capture.path,
        r.capture.format,
        if r.capture.link_types.is_empty() {
            "no packets".to_string()
        } else {
            r.capture.link_types.join(", ")
        },
        r.capture.packets,
        fmt_bytes(r.capture.bytes),
        r.connections.len(),
        if r.quic.is_empty() {
            String::new()
        } else {
            format!(" (+{} QUIC)", r.quic.len())
        },
        r.dns.len()
    )?;
    if let (Some(a), Some(b)) = (r.capture.first_ts, r.capture.last_ts) {
        writeln!(out, "  spans {}", fmt_ms(b.ms_since(a)))?;
    }
    let tls = r.connections.iter().filter(|c| c.tls.is_some()).count();
    let requests: usize = r.connections.iter().map(|c| c.http.len()).sum();
    if tls > 0 || requests > 0 {
        let decrypted = r
            .connections
            .iter()
            .filter(|c| c.tls.as_ref().is_some_and(|t| t.decrypted))
            .count();
        let tls_part = match (tls, decrypted) {
            (0, _) => String::new(),
            (t, 0) => format!(
                ", {} (none decrypted: --keylog shows what is inside)",
                plural(t, "TLS connection")
            ),
            (t, d) => format!(", {} ({d} decrypted)", plural(t, "TLS connection")),
        };
        writeln!(out, "  {}{tls_part}", plural(requests, "HTTP request"))?;
    }
    for c in &r.connections {
        writeln!(out)?;
        write_connection(out, c, r, origin, p)?;
    }
    if !r.quic.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("QUIC"))?;
        for q in &r.quic {
            write_quic(out, q, r, origin, p)?;
        }
    }
    if !r.connections.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("Connections"))?;
        writeln!(out, "{}", connections_table(r, opts))?;
    }
    if r.connections.iter().any(|c| !c.http.is_empty()) {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("Requests"))?;
        writeln!(out, "{}", requests_table(r, opts))?;
    }
    if !r.dns.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("DNS"))?;
        writeln!(out, "{}", dns_table(r, opts))?;
    }
    if r.connections
        .iter()
        .any(|c| c.tcp.syn_ts.is_some() || !c.http.is_empty())
    {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("Waterfall"))?;
        crate::report::waterfall::write_waterfall(
            out,
            r,
            &crate::report::waterfall::WaterfallOptions {
                color: opts.color,
                width: opts.width.unwrap_or(120),
            },
        )?;
    }
    write_warnings(out, r, p)?;
    Ok(())
}

/// One QUIC connection: a line with what the Initials said, a line of packet counts.
fn write_quic<W: Write>(
    out: &mut W,
    q: &QuicConnection,
    r: &Report,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let mut parts = Vec::new();
    if let Some(t) = &q.tls {
        if let Some(sni) = &t.sni {
            parts.push(format!("SNI {sni}"));
        }
        if !t.alpn_offered.is_empty() {
            parts.push(format!("ALPN offered {}", t.alpn_offered.join(",")));
        }
        match (&t.version, &t.cipher) {
            (Some(v), Some(c)) => parts.push(format!("{v} {c}")),
            (Some(v), None) => parts.push(v.clone()),
            _ => parts.push("no ServerHello".to_string()),
        }
    } else {
        parts.push("no TLS hello read".to_string());
    }
    parts.push(match q.handshake_ms {
        Some(ms) => format!("handshake {}", fmt_ms(ms)),
        None => "no server Handshake packet".to_string(),
    });
    let host = q
        .hostname
        .as_ref()
        .map(|h| {
            format!(
                "  {h} ({})",
                q.hostname_source.map_or("?", HostnameSource::as_str)
            )
        })
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} {} → {}{host}  {}  at {}",
        p.cyan("QUIC"),
        q.version,
        q.client,
        q.server,
        parts.join(", "),
        rel(Some(q.first_ts), origin)
    )?;
    let c = &q.client_packets;
    let s = &q.server_packets;
    let dns = match q.dns.and_then(|i| r.dns.get(i)) {
        Some(t) => format!(
            "; DNS {} at {}",
            t.questions.first().map_or("?", |x| x.name.as_str()),
            rel(Some(t.ts), origin)
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "            packets {}/{} ({}/{}), Initial {}/{}, 0-RTT {}/{}, Handshake {}/{}, 1-RTT {}/{} (client/server){dns}",
        q.packets.client,
        q.packets.server,
        fmt_bytes(q.bytes.client),
        fmt_bytes(q.bytes.server),
        c.initial,
        s.initial,
        c.zero_rtt,
        s.zero_rtt,
        c.handshake,
        s.handshake,
        c.one_rtt,
        s.one_rtt,
    )?;
    for cl in &q.close {
        writeln!(
            out,
            "            {} CONNECTION_CLOSE from the {}: {}{}",
            p.red("closed"),
            cl.from,
            cl.error,
            if cl.reason.is_empty() {
                String::new()
            } else {
                format!(" \"{}\"", cl.reason)
            }
        )?;
    }
    for w in q.warnings.iter().take(3) {
        writeln!(
            out,
            "            {} {}",
            p.yellow(w.kind.as_str()),
            w.message
        )?;
    }
    if q.warnings.len() > 3 {
        writeln!(out, "            … {} more warnings", q.warnings.len() - 3)?;
    }
    Ok(())
}

fn write_warnings<W: Write>(out: &mut W, r: &Report, p: Paint) -> io::Result<()> {
    let w = &r.capture.warnings;
    if w.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.yellow(&format!(
            "Capture warnings ({})",
            w.len() as u64 + r.capture.stats.warnings_suppressed
        ))
    )?;
    for x in w.iter().take(20) {
        let at = x
            .packet
            .map(|n| format!("packet {n}: "))
            .unwrap_or_default();
        writeln!(out, "  {at}{} ({})", x.message, x.kind)?;
    }
    if w.len() > 20 {
        writeln!(
            out,
            "  … {} more in --format json",
            w.len() - 20 + r.capture.stats.warnings_suppressed as usize
        )?;
    }
    Ok(())
}

fn label(p: Paint, s: &str) -> String {
    p.cyan(&format!("  {s:<7}"))
}

fn write_connection<W: Write>(
    out: &mut W,
    c: &Connection,
    r: &Report,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let host = c
        .hostname
        .as_deref()
        .map(|h| {
            format!(
                "  {} ({})",
                p.bold(h),
                c.hostname_source.map_or("?", HostnameSource::as_str)
            )
        })
        .unwrap_or_default();
    let proto = c
        .app_protocol
        .map(|a| format!("  [{a}]"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} → {}{host}{proto}",
        p.bold(&format!("Connection #{}", c.id)),
        c.client,
        c.server
    )?;

    // DNS.
    match c.dns.and_then(|i| r.dns.get(i)) {
        Some(d) => {
            let q = d
                .questions
                .first()
                .map(|q| format!("{} {}", q.name, q.qtype))
                .unwrap_or_default();
            let answers: Vec<String> = d
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
            writeln!(
                out,
                "{} {} → {} via {} ({}) in {}  at {}",
                label(p, "DNS"),
                q,
                answers.join(", "),
                d.server,
                d.transport,
                fmt_opt_ms(d.latency_ms),
                rel(Some(d.ts), origin)
            )?;
        }
        None => writeln!(
            out,
            "{} {}",
            label(p, "DNS"),
            p.dim(c.dns_note.as_deref().unwrap_or("not linked"))
        )?,
    }

    // TCP handshake.
    write_handshake(out, &c.tcp, origin, p)?;

    // TLS.
    if let Some(t) = &c.tls {
        let mut parts = Vec::new();
        parts.push(t.version.clone().unwrap_or_else(|| "no ServerHello".into()));
        if let Some(cs) = &t.cipher {
            parts.push(cs.clone());
        }
        if let Some(sni) = &t.sni {
            parts.push(format!("SNI {sni}"));
        }
        if !t.alpn_offered.is_empty() {
            parts.push(format!("ALPN offered {}", t.alpn_offered.join(",")));
        }
        match &t.alpn {
            Some(a) => parts.push(format!("chose {a}")),
            None if t.version.as_deref() == Some("TLS 1.3") && !t.decrypted => {
                parts.push("chosen ALPN encrypted".into())
            }
            None => {}
        }
        if t.resumed {
            parts.push("resumed".into());
        }
        if t.hello_retry {
            parts.push("HelloRetryRequest".into());
        }
        writeln!(
            out,
            "{} {}  handshake {}  at {}",
            label(p, "TLS"),
            parts.join(", "),
            fmt_opt_ms(t.handshake_ms),
            rel(t.client_hello_ts, origin)
        )?;
        if let Some(leaf) = t.certificates.first() {
            let sans = if leaf.san.is_empty() {
                String::new()
            } else {
                format!(" SAN {}", leaf.san.join(","))
            };
            writeln!(
                out,
                "{}   cert {}{} issued by {}, valid {} – {}",
                label(p, ""),
                leaf.subject,
                sans,
                leaf.issuer,
                leaf.not_before,
                leaf.not_after
            )?;
        }
        for a in &t.alerts {
            let line = match a.level {
                AlertLevel::Encrypted => p.dim(&format!(
                    "encrypted alert from the {} (usually close_notify at the end)",
                    a.from
                )),
                AlertLevel::Fatal => p.red(&format!(
                    "fatal alert from the {}: {}",
                    a.from, a.description
                )),
                l => format!("{l} alert from the {}: {}", a.from, a.description),
            };
            writeln!(out, "{}   {line}", label(p, ""))?;
        }
    }

    // HTTP, with the headers worth a word explained once per connection.
    let mut explained: Vec<String> = Vec::new();
    for h in &c.http {
        let version = if h.version == "HTTP/2" {
            "HTTP/2"
        } else {
            "HTTP/1"
        };
        writeln!(out, "{} {}", label(p, version), http_line(h, origin, p))?;
        if let Some(from) = h.redirected_from {
            let what = r
                .connections
                .iter()
                .find(|c| c.id == from.connection)
                .and_then(|c| c.http.get(from.index))
                .map(|f| {
                    format!(
                        "{} {}",
                        f.status.map(|s| s.to_string()).unwrap_or_default(),
                        f.url.as_deref().unwrap_or("?")
                    )
                })
                .unwrap_or_default();
            writeln!(
                out,
                "{}   {}",
                label(p, ""),
                p.dim(&format!(
                    "followed a redirect: {what} on connection #{}",
                    from.connection
                ))
            )?;
        }
        if h.redirect_to.is_some() {
            let next = r.connections.iter().find_map(|n| {
                n.http.iter().find_map(|x| {
                    x.redirected_from
                        .filter(|f| f.connection == c.id && std::ptr::eq(&c.http[f.index], h))
                        .map(|_| n.id)
                })
            });
            if let Some(n) = next {
                writeln!(
                    out,
                    "{}   {}",
                    label(p, ""),
                    p.dim(&format!("the client followed it on connection #{n}"))
                )?;
            }
        }
        let notable = h
            .request_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("upgrade-insecure-requests"))
            .chain(
                h.response_headers
                    .iter()
                    .filter(|(k, _)| NOTABLE.iter().any(|n| k.eq_ignore_ascii_case(n))),
            );
        for (k, v) in notable {
            let key = k.to_ascii_lowercase();
            if explained.contains(&key) || explained.len() >= 32 {
                continue;
            }
            if let Some(meaning) = explain(k, v) {
                let shown = ellipsize(v, 60);
                writeln!(
                    out,
                    "{}   {} — {meaning}",
                    label(p, ""),
                    p.dim(&format!("{key}: {shown}"))
                )?;
            }
            explained.push(key);
        }
    }

    // Where the time went, as the timeline adds it up.
    let tl = &c.timeline;
    let phases: Vec<String> = [
        ("DNS", tl.dns_ms),
        ("connect", tl.connect_ms),
        ("TLS", tl.tls_ms),
        ("TTFB", tl.ttfb_ms),
        ("download", tl.download_ms),
    ]
    .iter()
    .filter_map(|(n, v)| v.map(|v| format!("{n} {}", fmt_ms(v))))
    .collect();
    if !phases.is_empty() || tl.total_ms.is_some() {
        writeln!(
            out,
            "{} {}{}",
            label(p, "Time"),
            phases.join(" + "),
            tl.total_ms
                .map(|t| format!("  (total {})", fmt_ms(t)))
                .unwrap_or_default()
        )?;
    }

    // Data and anomalies.
    let t = &c.tcp;
    writeln!(
        out,
        "{} client→server {} in {} packets, server→client {} in {} packets",
        label(p, "Data"),
        fmt_bytes(t.bytes.client),
        t.packets.client,
        fmt_bytes(t.bytes.server),
        t.packets.server
    )?;
    let mut issues = Vec::new();
    for (what, v) in [
        ("retransmissions", t.retransmissions),
        ("out-of-order", t.out_of_order),
        ("zero-window", t.zero_window),
    ] {
        if v.client + v.server > 0 {
            issues.push(format!("{what} {}/{}", v.client, v.server));
        }
    }
    if t.gaps.client + t.gaps.server > 0 {
        issues.push(format!(
            "bytes never captured {}/{}",
            t.gaps.client, t.gaps.server
        ));
    }
    if !issues.is_empty() {
        writeln!(
            out,
            "{} {} {}",
            label(p, "Issues"),
            p.yellow(&issues.join(", ")),
            p.dim("(client/server)")
        )?;
    }
    for w in c.warnings.iter().take(5) {
        let at = w
            .packet
            .map(|n| format!("packet {n}: "))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}",
            label(p, "Warning"),
            p.yellow(&format!("{at}{}", w.message))
        )?;
    }
    if c.warnings.len() > 5 {
        writeln!(
            out,
            "{} … {} more warnings in --format json",
            label(p, ""),
            c.warnings.len() - 5
        )?;
    }

    // Teardown.
    let close = &t.close;
    let line = match close.kind {
        CloseKind::Open => p.dim("still open at the end of the capture"),
        CloseKind::Rst => {
            let who = close.initiator_str();
            p.red(&format!("reset by the {who}: {}", close.steps(" → ")))
        }
        CloseKind::Fin => {
            let who = close.initiator_str();
            let complete = close
                .sequence
                .iter()
                .filter(|s| matches!(s.flags, TeardownFlags::Fin | TeardownFlags::FinAck))
                .count()
                >= 2;
            let tw = if complete {
                format!("; the {who} waits in TIME_WAIT")
            } else {
                String::new()
            };
            format!("{}: the {who} closed first{tw}", close.steps(" → "))
        }
    };
    writeln!(
        out,
        "{} {}  at {}",
        label(p, "Close"),
        line,
        rel(close.ts, origin)
    )?;
    Ok(())
}

fn write_handshake<W: Write>(
    out: &mut W,
    t: &TcpInfo,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let (Some(cisn), Some(_)) = (t.client_isn, t.syn_ts) else {
        writeln!(
            out,
            "{} {}",
            label(p, "TCP"),
            p.dim("handshake not captured (the connection was already open)")
        )?;
        return Ok(());
    };
    let mut s = format!("SYN seq={cisn}");
    match t.server_isn {
        Some(sisn) => {
            s += &format!(" → SYN/ACK seq={sisn} ack={}", cisn.wrapping_add(1));
            if t.ack_ts.is_some() {
                s += &format!(" → ACK ack={}", sisn.wrapping_add(1));
            }
        }
        None => s += &p.red(" → no SYN/ACK"),
    }
    let rtt = t
        .handshake_ms
        .map(|m| format!("  RTT {}", fmt_ms(m)))
        .unwrap_or_default();
    let valid = if t.handshake_valid == Some(false) {
        p.red("  (acks do not match the ISNs)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} {s}{rtt}{valid}  at {}",
        label(p, "TCP"),
        rel(t.syn_ts, origin)
    )?;
    let o = &t.options;
    let mut opts = Vec::new();
    if let Some(m) = o.mss {
        opts.push(format!("MSS {m}"));
    }
    if let Some(w) = o.wscale {
        opts.push(format!("wscale {w}"));
    }
    if o.sack {
        opts.push("SACK".into());
    }
    if o.timestamps {
        opts.push("timestamps".into());
    }
    if o.fastopen {
        opts.push("Fast Open".into());
    }
    if !opts.is_empty() {
        writeln!(out, "{}   options {}", label(p, ""), opts.join(", "))?;
    }
    Ok(())
}

fn http_line(h: &HttpExchange, origin: Option<Ts>, p: Paint) -> String {
    let what = format!(
        "{} {}",
        h.method.as_deref().unwrap_or("?"),
        h.url.as_deref().or(h.path.as_deref()).unwrap_or("?")
    );
    let status = match h.status {
        Some(s) if s >= 400 => p.red(&s.to_string()),
        Some(s) if s >= 300 => p.yellow(&s.to_string()),
        Some(s) => p.green(&s.to_string()),
        None => p.dim("no response"),
    };
    let mut extra = vec![fmt_bytes(h.body_bytes)];
    if let Some(ct) = &h.content_type {
        extra.push(ct.split(';').next().unwrap_or(ct).to_string());
    }
    if let Some(ce) = &h.content_encoding {
        extra.push(ce.clone());
    }
    if let Some(to) = &h.redirect_to {
        extra.push(format!("→ {to}"));
    }
    format!(
        "{what} → {status} {}  TTFB {}, download {}  at {}",
        extra.join(", "),
        fmt_opt_ms(h.ttfb_ms),
        fmt_opt_ms(h.download_ms),
        rel(h.request_ts, origin)
    )
}

fn table(opts: &TableOptions) -> Table {
    new_table(opts.width, false)
}

fn connections_table(r: &Report, opts: &TableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "#",
        "client",
        "server",
        "host",
        "proto",
        "TCP",
        "TLS",
        "requests",
        "→ server",
        "← client",
        "close",
    ]);
    for c in &r.connections {
        let proto = match (&c.tls, c.app_protocol) {
            (Some(tls), _) => format!(
                "{} {}",
                tls.version.as_deref().unwrap_or("TLS"),
                tls.alpn.as_deref().unwrap_or("")
            )
            .trim()
            .to_string(),
            (None, Some(a)) => a.to_string(),
            (None, None) => "–".into(),
        };
        let close = match (c.tcp.close.kind, c.tcp.close.initiator) {
            (CloseKind::Open, _) => "open".to_string(),
            (k, Some(who)) => format!("{k} by {who}"),
            (k, None) => k.to_string(),
        };
        t.add_row(vec![
            right(c.id.to_string()),
            Cell::new(c.client),
            Cell::new(c.server),
            Cell::new(c.hostname.as_deref().unwrap_or("–")),
            Cell::new(proto),
            right(fmt_opt_ms(c.tcp.handshake_ms)),
            right(fmt_opt_ms(c.tls.as_ref().and_then(|t| t.handshake_ms))),
            right(c.http.len().to_string()),
            right(fmt_bytes(c.tcp.bytes.client)),
            right(fmt_bytes(c.tcp.bytes.server)),
            Cell::new(close),
        ]);
    }
    t
}

fn requests_table(r: &Report, opts: &TableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "conn", "method", "url", "status", "proto", "size", "type", "TTFB", "download",
    ]);
    for c in &r.connections {
        for h in &c.http {
            let url = h.url.as_deref().or(h.path.as_deref()).unwrap_or("?");
            t.add_row(vec![
                right(format!("#{}", c.id)),
                Cell::new(h.method.as_deref().unwrap_or("?")),
                Cell::new(url),
                right(
                    h.status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "–".into()),
                ),
                Cell::new(&h.version),
                right(fmt_bytes(h.body_bytes)),
                Cell::new(
                    h.content_type
                        .as_deref()
                        .map(|ct| ct.split(';').next().unwrap_or(ct))
                        .unwrap_or("–"),
                ),
                right(fmt_opt_ms(h.ttfb_ms)),
                right(fmt_opt_ms(h.download_ms)),
            ]);
        }
    }
    t
}

fn dns_table(r: &Report, opts: &TableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "at", "client", "server", "via", "question", "rcode", "answers", "latency",
    ]);
    let origin = r.capture.first_ts;
    for d in &r.dns {
        let q = d
            .questions
            .first()
            .map(|q| format!("{} {}", q.name, q.qtype))
            .unwrap_or_else(|| "–".into());
        let mut answers: Vec<String> = d
            .answers
            .iter()
            .map(|a| format!("{} {}", a.rtype, a.data))
            .collect();
        if answers.len() > 4 {
            let more = answers.len() - 4;
            answers.truncate(4);
            answers.push(format!("… {more} more"));
        }
        let rcode = match (&d.rcode, d.truncated) {
            (Some(r), true) => format!("{r} (TC)"),
            (Some(r), false) => r.clone(),
            (None, _) => "no answer".into(),
        };
        t.add_row(vec![
            Cell::new(rel(Some(d.ts), origin)),
            Cell::new(d.client),
            Cell::new(d.server),
            Cell::new(d.transport),
            Cell::new(q),
            Cell::new(rcode),
            Cell::new(answers.join("\n")),
            right(fmt_opt_ms(d.latency_ms)),
        ]);
    }
    t
}
