//! `--format table`: each connection told as a story, in the order things happened on the
//! wire (DNS → TCP handshake → TLS → requests → teardown, and where the time went), then the
//! QUIC connections (what the Initials said, the packets, and, when the key log opened
//! them, the TLS handshake and the HTTP/3 requests as a TCP connection's), summary tables
//! of all connections, requests (HTTP/3 ones as connection `quic-N`, protocol `h3`) and DNS
//! transactions, and the text waterfall of the whole capture
//! ([`crate::report::waterfall`]).
//!
//! The story is the connection's [`Narrative`]: this module decides only how each step
//! reads (labels, separators, colour, which value is cut to 60 bytes), one function per
//! step; the facts come from the narrative, shared with the HTML journey and the live line.
//!
//! Times are shown relative to the first packet of the capture (`+1.234 s`), as Wireshark
//! shows them by default. Colour only when the caller says so (a terminal, and NO_COLOR
//! unset); the text reads the same without it.

use std::io::{self, Write};

use comfy_table::{Cell, Table};

use crate::pageload::model::{
    AlertLevel, CloseKind, Delay, DnsTransaction, DnsTransport, EncryptedDns, HostnameSource,
    HttpsRecordUse, Report,
};
use crate::report::fmt::{
    ellipsize, fmt_bytes, fmt_decoded, fmt_ms, fmt_opt_ms, new_table, plural, rel, right,
    write_first_fit, Col, Fit, Give, Paint, Wrapped, NONE,
};

use crate::report::fold;
use crate::report::narrative::{
    self, Alpn, CloseStep, DnsStep, HttpStep, Issues, Narrative, QuicHello, QuicNarrative, Step,
    TcpStep, TimeStep, TlsStep,
};
use crate::report::timing;
use crate::time::Ts;
use crate::warning::Warning;

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    pub color: bool,
    /// Terminal width for the summary tables; `None` lets them be as wide as they need.
    pub width: Option<u16>,
    /// A key log was given (a file or the capture's own secrets): the head does not point
    /// to `--keylog` when none of it matched (standard error says why).
    pub keys_given: bool,
    /// Which sections to write (`--only`).
    pub sections: Sections,
    /// Every connection and lookup told, also past [`fold::FOLD_AT`] unanswered alike
    /// (`--all`).
    pub all: bool,
}

/// The capture line, its span, and the count of requests (HTTP/3 among them), TLS
/// connections and decrypted QUIC connections.
fn write_head<W: Write>(out: &mut W, r: &Report, p: Paint, keys_given: bool) -> io::Result<()> {
    writeln!(
        out,
        "{} {} ({}, {}): {}, {}, {}{}, {}",
        p.bold("pagetrace"),
        r.capture.path,
        r.capture.format,
        if r.capture.link_types.is_empty() {
            "no packets".to_string()
        } else {
            r.capture.link_types.join(", ")
        },
        plural(r.capture.packets, "packet"),
        fmt_bytes(r.capture.bytes),
        plural(r.connections.len(), "connection"),
        if r.quic.is_empty() {
            String::new()
        } else {
            format!(" (+{} QUIC)", r.quic.len())
        },
        plural(r.dns.len(), "DNS transaction")
    )?;
    if let (Some(a), Some(b)) = (r.capture.first_ts, r.capture.last_ts) {
        let load = timing::load_span_of(r)
            .map(|(s, e)| {
                format!(
                    "; the page load {} (first lookup to last response byte)",
                    fmt_ms(e.ms_since(s))
                )
            })
            .unwrap_or_default();
        writeln!(out, "  capture spans {}{load}", fmt_ms(b.ms_since(a)))?;
    }
    let tls = r.connections.iter().filter(|c| c.tls.is_some()).count();
    let requests: usize = r.connections.iter().map(|c| c.http.len()).sum();
    let h3: usize = r.quic.iter().map(|q| q.http.len()).sum();
    let quic_decrypted = r
        .quic
        .iter()
        .filter(|q| q.tls.as_ref().is_some_and(|t| t.decrypted))
        .count();
    if tls > 0 || requests + h3 > 0 || quic_decrypted > 0 {
        let decrypted = r
            .connections
            .iter()
            .filter(|c| c.tls.as_ref().is_some_and(|t| t.decrypted))
            .count();
        let tls_part = match (tls, decrypted) {
            (0, _) => String::new(),
            (t, 0) if keys_given => format!(", {} (none decrypted)", plural(t, "TLS connection")),
            (t, 0) => format!(
                ", {} (none decrypted: --keylog shows what is inside)",
                plural(t, "TLS connection")
            ),
            (t, d) => format!(", {} ({d} decrypted)", plural(t, "TLS connection")),
        };
        // Said only when keys opened QUIC: without them the QUIC section tells the rest.
        let h3_part = if h3 > 0 {
            format!(" ({h3} over HTTP/3)")
        } else {
            String::new()
        };
        let quic_part = if quic_decrypted > 0 {
            format!(
                ", {} ({quic_decrypted} decrypted)",
                plural(r.quic.len(), "QUIC connection")
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {}{h3_part}{tls_part}{quic_part}",
            plural(requests + h3, "HTTP request")
        )?;
    }
    let worst = narrative::worst_delays(r, 3);
    if !worst.is_empty() {
        let list: Vec<String> = worst
            .iter()
            .map(|w| {
                format!(
                    "{} {} ({})",
                    fmt_ms(w.delay.ms),
                    w.delay.kind.as_str(),
                    ellipsize(&w.what, 60)
                )
            })
            .collect();
        writeln!(out, "  worst delays: {}", list.join("; "))?;
    }
    if let Some(f) = &r.filter {
        let b = f.before;
        let quic = if b.quic > 0 {
            format!(", {} of {} QUIC", r.quic.len(), b.quic)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  filter {}: {} of {} requests, {} of {} connections{quic}, {} of {} DNS transactions",
            f.expression,
            requests + h3,
            b.requests,
            r.connections.len(),
            b.connections,
            r.dns.len(),
            b.dns
        )?;
    }
    Ok(())
}

/// The sections of the table, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The capture line, the counts and the filter.
    Summary,
    /// Each TCP connection's story.
    Stories,
    /// Each QUIC connection's story.
    Quic,
    /// The table of connections.
    Connections,
    /// The table of requests.
    Requests,
    /// The per-host summary ([`crate::report::hosts`]).
    Hosts,
    /// A table of TLS handshakes (not in the default table: the stories tell them).
    Tls,
    /// The table of DNS transactions.
    Dns,
    /// The waterfall ([`crate::report::waterfall`]).
    Waterfall,
    /// The capture's warnings.
    Warnings,
}

impl Section {
    /// Every section, in order.
    pub const ALL: [Section; 10] = [
        Section::Summary,
        Section::Stories,
        Section::Quic,
        Section::Connections,
        Section::Requests,
        Section::Hosts,
        Section::Tls,
        Section::Dns,
        Section::Waterfall,
        Section::Warnings,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Which sections to write (`--only`); the default is every one but [`Section::Tls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections(u16);

impl Default for Sections {
    fn default() -> Sections {
        Sections::of(&Section::ALL).without(Section::Tls)
    }
}

impl Sections {
    pub fn of(list: &[Section]) -> Sections {
        Sections(list.iter().fold(0, |m, s| m | s.bit()))
    }

    pub fn without(self, s: Section) -> Sections {
        Sections(self.0 & !s.bit())
    }

    pub fn has(self, s: Section) -> bool {
        self.0 & s.bit() != 0
    }
}

/// Writes the sections the options name, a blank line between two.
pub fn write_report<W: Write>(out: &mut W, r: &Report, opts: &TableOptions) -> io::Result<()> {
    let p = Paint(opts.color);
    let mut first = true;
    let mut start = |out: &mut W, title: Option<&str>| -> io::Result<()> {
        if !std::mem::take(&mut first) {
            writeln!(out)?;
        }
        match title {
            Some(t) => writeln!(out, "{}", p.bold(t)),
            None => Ok(()),
        }
    };
    // A scan or a flood: the unanswered are counted after the summary, the rest told.
    let folded = if opts.all { None } else { fold::fold(r) };
    let view = folded.as_ref().map_or(r, |f| &f.report);
    for section in Section::ALL {
        if !opts.sections.has(section) {
            continue;
        }
        if let (Section::Summary, Some(f)) = (section, &folded) {
            write_section(out, r, opts, section, &mut start)?;
            write_folded(out, r, &f.groups, opts)?;
        } else if has_section(view, section) {
            write_section(out, view, opts, section, &mut start)?;
        }
    }
    Ok(())
}

/// Most groups shown in the folded table.
const FOLDED_ROWS: usize = 20;

/// The table of what [`fold::fold`] took out of the stories, tables and waterfall.
fn write_folded<W: Write>(
    out: &mut W,
    r: &Report,
    groups: &[fold::Group],
    opts: &TableOptions,
) -> io::Result<()> {
    let p = Paint(opts.color);
    writeln!(out)?;
    let headline = fold::headline(groups);
    match headline.split_once(' ') {
        Some((first, rest)) => writeln!(out, "{} {rest}", p.bold(first))?,
        None => writeln!(out, "{headline}")?,
    }
    let mut t = table(opts);
    t.set_header(vec![
        "kind", "server", "outcome", "count", "clients", "ports", "first", "last",
    ]);
    let origin = r.capture.first_ts;
    for g in groups.iter().take(FOLDED_ROWS) {
        t.add_row(vec![
            Cell::new(g.kind),
            Cell::new(g.servers_text()),
            Cell::new(g.outcome),
            right(g.count.to_string()),
            Cell::new(g.clients_text()),
            Cell::new(g.ports_text()),
            Cell::new(rel(Some(g.first_ts), origin)),
            Cell::new(rel(Some(g.last_ts), origin)),
        ]);
    }
    writeln!(out, "{t}")?;
    if let Some(rest) = groups.get(FOLDED_ROWS..).filter(|r| !r.is_empty()) {
        let n: usize = rest.iter().map(|g| g.count).sum();
        writeln!(
            out,
            "  and {} more ({})",
            plural(rest.len(), "group"),
            plural(n, "item")
        )?;
    }
    Ok(())
}

/// Whether the report has anything for a section.
fn has_section(r: &Report, s: Section) -> bool {
    let any_http = r.connections.iter().any(|c| !c.http.is_empty())
        || r.quic.iter().any(|q| !q.http.is_empty());
    match s {
        Section::Summary => true,
        Section::Stories | Section::Connections => !r.connections.is_empty(),
        Section::Quic => !r.quic.is_empty(),
        Section::Requests => any_http,
        Section::Hosts => !crate::report::hosts::hosts(r).is_empty(),
        Section::Tls => {
            r.connections.iter().any(|c| c.tls.is_some()) || r.quic.iter().any(|q| q.tls.is_some())
        }
        Section::Dns => !r.dns.is_empty(),
        Section::Waterfall => any_http || r.connections.iter().any(|c| c.tcp.syn_ts.is_some()),
        Section::Warnings => !r.capture.warnings.is_empty(),
    }
}

fn write_section<W: Write>(
    out: &mut W,
    r: &Report,
    opts: &TableOptions,
    section: Section,
    start: &mut impl FnMut(&mut W, Option<&str>) -> io::Result<()>,
) -> io::Result<()> {
    let p = Paint(opts.color);
    let origin = r.capture.first_ts;
    match section {
        // The story's lines wrap at spaces to the width; the tables and the waterfall fit it
        // by themselves.
        Section::Summary => {
            start(out, None)?;
            write_head(&mut Wrapped::new(out, opts.width), r, p, opts.keys_given)
        }
        Section::Stories => {
            for (i, c) in r.connections.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                } else {
                    start(out, None)?;
                }
                let mut w = Wrapped::new(&mut *out, opts.width);
                write_connection(&mut w, &narrative::of_report(r, c), &r.dns, origin, p)?;
            }
            Ok(())
        }
        Section::Quic => {
            start(out, Some("QUIC"))?;
            let mut w = Wrapped::new(out, opts.width);
            for q in &r.quic {
                write_quic(&mut w, &narrative::quic_of_report(r, q), &r.dns, origin, p)?;
            }
            Ok(())
        }
        Section::Connections => fit_section(out, start, "Connections", connection_fits(r), opts),
        Section::Requests => fit_section(out, start, "Requests", request_fits(r), opts),
        Section::Hosts => table_section(out, start, "Hosts", hosts_table(r, opts)),
        Section::Tls => table_section(out, start, "TLS", tls_table(r, opts)),
        Section::Dns => fit_section(out, start, "DNS", dns_fits(r), opts),
        Section::Waterfall => {
            start(out, Some("Waterfall"))?;
            crate::report::waterfall::write_waterfall(
                out,
                r,
                &crate::report::waterfall::WaterfallOptions {
                    color: opts.color,
                    width: opts.width.unwrap_or(120),
                },
            )
        }
        Section::Warnings => {
            start(out, None)?;
            write_warnings(&mut Wrapped::new(out, opts.width), r, p)
        }
    }
}

/// A section drawn from its layouts ([`write_first_fit`]): a long one in parts.
fn fit_section<W: Write, const N: usize>(
    out: &mut W,
    start: &mut impl FnMut(&mut W, Option<&str>) -> io::Result<()>,
    title: &str,
    layouts: [Fit; N],
    opts: &TableOptions,
) -> io::Result<()> {
    start(out, Some(title))?;
    write_first_fit(out, layouts.into(), opts.width, opts.color)
}

fn table_section<W: Write>(
    out: &mut W,
    start: &mut impl FnMut(&mut W, Option<&str>) -> io::Result<()>,
    title: &str,
    t: Table,
) -> io::Result<()> {
    start(out, Some(title))?;
    writeln!(out, "{t}")
}

/// One QUIC connection: a line with what the Initials said, a line of packet counts.
fn write_quic<W: Write>(
    out: &mut W,
    n: &QuicNarrative,
    dns: &[DnsTransaction],
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let q = n.conn;
    let mut parts = Vec::new();
    match n.hello {
        QuicHello::Read {
            sni,
            alpn_offered,
            version,
            cipher,
        } => {
            if let Some(sni) = sni {
                parts.push(format!("SNI {sni}"));
            }
            if !alpn_offered.is_empty() {
                parts.push(format!("ALPN offered {}", alpn_offered.join(",")));
            }
            match (version, cipher) {
                (Some(v), Some(c)) => parts.push(format!("{v} {c}")),
                (Some(v), None) => parts.push(v.to_string()),
                _ => parts.push("no ServerHello".to_string()),
            }
        }
        QuicHello::Unread => parts.push("no TLS hello read".to_string()),
    }
    // Decrypted, the TLS line below tells the handshake to the client's Finished; this one
    // is only when the server's first Handshake packet came.
    parts.push(match (q.handshake_ms, &n.tls) {
        (Some(ms), None) => format!("handshake {}", fmt_ms(ms)),
        (Some(ms), Some(_)) => format!("server Handshake after {}", fmt_ms(ms)),
        (None, _) => "no server Handshake packet".to_string(),
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
    let stream = q
        .udp_stream
        .map(|s| format!("  {}", p.dim(&format!("udp.stream eq {s}"))))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} {} → {}{host}  {}  at {}{stream}",
        p.cyan("QUIC"),
        q.version,
        q.client,
        q.server,
        parts.join(", "),
        rel(Some(q.first_ts), origin)
    )?;
    write_quic_packets(out, n, origin)?;
    for why in &n.why {
        writeln!(out, "  Why     {}", why.describe(origin))?;
    }
    if let Some(t) = &n.tls {
        write_tls(out, t, origin, p)?;
    }
    if let Some(e) = &q.encrypted_dns {
        write_encrypted_dns(out, e, q.server, p)?;
    }
    if let Some(u) = &q.https_record {
        write_https_record(out, u, dns, origin, p)?;
    }
    for h in &n.requests {
        write_request(out, h, origin, p)?;
    }
    for cl in n.close {
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
    for w in n.warnings_shown {
        writeln!(
            out,
            "            {} {}",
            p.yellow(w.kind.as_str()),
            w.message
        )?;
    }
    if n.warnings_more > 0 {
        writeln!(
            out,
            "            … {}",
            plural(n.warnings_more, "more warning")
        )?;
    }
    Ok(())
}

/// The packet counts of a QUIC connection, and its lookup.
fn write_quic_packets<W: Write>(
    out: &mut W,
    n: &QuicNarrative,
    origin: Option<Ts>,
) -> io::Result<()> {
    let q = n.conn;
    let c = &q.client_packets;
    let s = &q.server_packets;
    let dns = match n.lookup() {
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
    )
}

fn write_warnings<W: Write>(out: &mut W, r: &Report, p: Paint) -> io::Result<()> {
    let w = &r.capture.warnings;
    if w.is_empty() {
        return Ok(());
    }
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

/// One connection's story: its head line, then each step of its [`Narrative`].
fn write_connection<W: Write>(
    out: &mut W,
    n: &Narrative,
    dns: &[DnsTransaction],
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let c = n.conn;
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
    // The Wireshark display filter that shows this connection alone.
    let stream = c
        .tcp_stream
        .map(|s| format!("  {}", p.dim(&format!("tcp.stream eq {s}"))))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} → {}{host}{proto}{stream}",
        p.bold(&format!("Connection #{}", c.id)),
        c.client,
        c.server
    )?;
    for step in &n.steps {
        match step {
            Step::Dns(d) => write_dns(out, d, origin, p)?,
            Step::Tcp(t) => {
                write_handshake(out, t, origin, p)?;
                write_delays(out, &c.diagnosis, p)?;
            }
            Step::Tls(t) => {
                write_tls(out, t, origin, p)?;
                if let Some(e) = &c.encrypted_dns {
                    write_encrypted_dns(out, e, c.server, p)?;
                }
                if let Some(u) = &c.https_record {
                    write_https_record(out, u, dns, origin, p)?;
                }
            }
            Step::Requests(reqs) => {
                for h in reqs {
                    write_request(out, h, origin, p)?;
                }
            }
            Step::Time(t) => write_time(out, t, p)?,
            Step::Transfer { bytes, packets } => writeln!(
                out,
                "{} client→server {} in {}, server→client {} in {}",
                label(p, "Data"),
                fmt_bytes(bytes.client),
                plural(packets.client, "packet"),
                fmt_bytes(bytes.server),
                plural(packets.server, "packet")
            )?,
            Step::Issues(i) => write_issues(out, i, p)?,
            Step::Warnings { shown, more } => write_conn_warnings(out, shown, *more, p)?,
            Step::Close(cl) => write_close(out, cl, origin, p)?,
        }
    }
    Ok(())
}

fn write_dns<W: Write>(out: &mut W, d: &DnsStep, origin: Option<Ts>, p: Paint) -> io::Result<()> {
    match d {
        DnsStep::Lookup {
            tx,
            question,
            answers,
        } => {
            writeln!(
                out,
                "{} {} → {} via {} ({}) in {}{}  at {}",
                label(p, "DNS"),
                question,
                answers.join(", "),
                tx.server,
                tx.transport,
                fmt_opt_ms(tx.latency_ms),
                tx.dnssec
                    .verdict()
                    .map(|v| format!(", {v}"))
                    .unwrap_or_default(),
                rel(Some(tx.ts), origin)
            )?;
            write_chain(out, tx, origin, p)
        }
        DnsStep::NotLinked { note } => writeln!(
            out,
            "{} {}",
            label(p, "DNS"),
            p.dim(note.unwrap_or("not linked"))
        ),
    }
}

/// The HTTPS record a connection followed, and what it used of it.
fn write_https_record<W: Write>(
    out: &mut W,
    u: &HttpsRecordUse,
    dns: &[DnsTransaction],
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let t = dns.get(u.dns);
    let owner = t
        .and_then(|t| t.answers.get(u.answer))
        .map_or("", |a| a.name.as_str());
    let at = rel(t.and_then(|t| t.response_ts), origin);
    let mut used = Vec::new();
    match &u.alpn_used {
        Some(a) => used.push(format!("ALPN {a} of {}", u.alpn.join(","))),
        None if !u.alpn.is_empty() => used.push(format!("offered {}", u.alpn.join(","))),
        None => {}
    }
    if u.hinted_address {
        used.push("the server address was one of its hints".into());
    }
    match (u.ech, u.ech_sent) {
        (true, true) => used.push("its ECH config: the ClientHello was encrypted (ECH)".into()),
        (true, false) => used.push("an ECH config the ClientHello did not use".into()),
        (false, true) => used.push("ECH sent without an ECH config in it".into()),
        (false, false) => {}
    }
    writeln!(
        out,
        "{} HTTPS record of {owner} answered at {at}: {}",
        label(p, "DNS"),
        used.join("; ")
    )
}

/// What an encrypted DNS connection carried: the queries read, or counted.
fn write_encrypted_dns<W: Write>(
    out: &mut W,
    e: &EncryptedDns,
    resolver: std::net::SocketAddr,
    p: Paint,
) -> io::Result<()> {
    let name = match e.protocol {
        DnsTransport::Doq => "DNS over QUIC",
        _ => "DNS over TLS",
    };
    let queries = match e.queries {
        Some(1) => "1 query".to_string(),
        Some(n) => format!("{n} queries"),
        None => "queries not countable without keys".to_string(),
    };
    let how = if e.decrypted {
        "decrypted: the DNS table lists them"
    } else {
        "encrypted: counted by record sizes (--keylog reads them)"
    };
    writeln!(
        out,
        "{} {name} to the resolver {resolver}: {queries}, {how}",
        label(p, "DNS")
    )
}

/// The resolver's side of a lookup, when the capture holds it: answered from its cache,
/// or its queries upstream, one line each.
fn write_chain<W: Write>(
    out: &mut W,
    tx: &DnsTransaction,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let Some(chain) = &tx.chain else {
        return Ok(());
    };
    if chain.is_empty() {
        return writeln!(
            out,
            "{}   {}",
            label(p, ""),
            p.dim("answered from the resolver's cache: no queries upstream")
        );
    }
    writeln!(
        out,
        "{}   the resolver's walk: {} upstream",
        label(p, ""),
        crate::report::fmt::queries(chain.len())
    )?;
    for s in chain {
        let role = s.role_text();
        let got = s.outcome_text();
        writeln!(
            out,
            "{}     {} {} → {} ({}): {} in {}  at {}",
            label(p, ""),
            s.qname,
            s.qtype,
            s.server,
            role,
            got,
            fmt_opt_ms(s.latency_ms),
            rel(Some(s.ts), origin)
        )?;
    }
    Ok(())
}

fn write_handshake<W: Write>(
    out: &mut W,
    t: &TcpStep,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    // The story spells the sequence numbers: it needs the client's ISN too.
    let data_rtt = |out: &mut W| match t.data_rtt {
        Some((ms, n)) => writeln!(
            out,
            "{}   RTT {} from data and ACKs (min of {n} samples)",
            label(p, ""),
            fmt_ms(ms)
        ),
        None => Ok(()),
    };
    let (Some(cisn), Some(_)) = (t.client_isn, t.syn_at) else {
        writeln!(
            out,
            "{} {}",
            label(p, "TCP"),
            p.dim("handshake not captured (the connection was already open)")
        )?;
        return data_rtt(out);
    };
    let mut s = format!("SYN seq={cisn}");
    match t.server_isn {
        Some(sisn) => {
            s += &format!(" → SYN/ACK seq={sisn} ack={}", cisn.wrapping_add(1));
            if t.ack_seen {
                s += &format!(" → ACK ack={}", sisn.wrapping_add(1));
            }
        }
        None => s += &p.red(" → no SYN/ACK"),
    }
    let rtt = t
        .rtt_ms
        .map(|m| format!("  RTT {}", fmt_ms(m)))
        .unwrap_or_default();
    let valid = if t.isn_mismatch {
        p.red("  (acks do not match the ISNs)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} {s}{rtt}{valid}  at {}",
        label(p, "TCP"),
        rel(t.syn_at, origin)
    )?;
    if !t.options.is_empty() {
        writeln!(out, "{}   options {}", label(p, ""), join(&t.options, ", "))?;
    }
    data_rtt(out)
}

fn write_tls<W: Write>(out: &mut W, s: &TlsStep, origin: Option<Ts>, p: Paint) -> io::Result<()> {
    let t = s.tls;
    let mut parts = vec![s.version.to_string()];
    if let Some(cs) = &t.cipher {
        parts.push(cs.clone());
    }
    if let Some(sni) = &t.sni {
        parts.push(format!("SNI {sni}"));
    }
    if !t.alpn_offered.is_empty() {
        parts.push(format!("ALPN offered {}", t.alpn_offered.join(",")));
    }
    match s.alpn {
        Alpn::Chosen(a) => parts.push(format!("chose {a}")),
        Alpn::Encrypted => parts.push("chosen ALPN encrypted".into()),
        Alpn::NotSeen => {}
    }
    if t.resumed {
        parts.push("resumed".into());
    }
    if t.hello_retry {
        parts.push("HelloRetryRequest".into());
    }
    // With False Start the client was ready at its own Finished, before the server's.
    let handshake = match (t.false_start, t.ready_ms, t.handshake_ms) {
        (true, Some(ready), Some(full)) => format!(
            "handshake {} (False Start: the client sent data at its Finished, {} before the server's)",
            fmt_ms(ready),
            fmt_ms((full - ready).max(0.0))
        ),
        (true, Some(ready), None) => format!("handshake {} (False Start)", fmt_ms(ready)),
        _ => format!("handshake {}", fmt_opt_ms(t.ready_ms.or(t.handshake_ms))),
    };
    writeln!(
        out,
        "{} {}  {handshake}  at {}",
        label(p, "TLS"),
        parts.join(", "),
        rel(t.client_hello_ts, origin)
    )?;
    if let Some(leaf) = s.leaf {
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
    Ok(())
}

/// A request's line, where its redirect came from and went, and its headers worth a word.
fn write_request<W: Write>(
    out: &mut W,
    s: &HttpStep,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let h = s.exchange;
    let version = match h.version.as_str() {
        "HTTP/2" => "HTTP/2",
        "HTTP/3" => "HTTP/3",
        _ => "HTTP/1",
    };
    writeln!(out, "{} {}", label(p, version), http_line(s, origin, p))?;
    if let Some(digest) = &h.body_sha256 {
        writeln!(out, "{}   body SHA-256 {digest}", label(p, ""))?;
    }
    if let Some(from) = s.redirected_from {
        let what = from
            .source
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
    if let Some(n) = s.followed_on {
        writeln!(
            out,
            "{}   {}",
            label(p, ""),
            p.dim(&format!("the client followed it on connection #{n}"))
        )?;
    }
    write_delays(out, &h.diagnosis, p)?;
    for note in &s.notes {
        writeln!(
            out,
            "{}   {} — {}",
            label(p, ""),
            p.dim(&format!("{}: {}", note.name, ellipsize(note.value, 60))),
            note.meaning
        )?;
    }
    Ok(())
}

/// What delayed a request (or a connection's setup), one line each.
fn write_delays<W: Write>(out: &mut W, delays: &[Delay], p: Paint) -> io::Result<()> {
    for d in delays {
        writeln!(
            out,
            "{}   delay {} ({}): {}",
            label(p, ""),
            p.bold(&fmt_ms(d.ms)),
            d.kind.as_str(),
            d.note
        )?;
    }
    Ok(())
}

fn http_line(s: &HttpStep, origin: Option<Ts>, p: Paint) -> String {
    let h = s.exchange;
    let what = format!("{} {}", h.method.as_deref().unwrap_or("?"), s.target);
    let status = p.status(h.status);
    let mut extra = vec![fmt_bytes(h.body_bytes)];
    if let Some(ct) = s.media_type {
        extra.push(ct.to_string());
    }
    if let Some(ce) = &h.content_encoding {
        extra.push(ce.clone());
    }
    extra.extend(fmt_decoded(h));
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

fn write_time<W: Write>(out: &mut W, t: &TimeStep, p: Paint) -> io::Result<()> {
    let phases: Vec<String> = t
        .phases
        .iter()
        .map(|(ph, v)| format!("{} {}", ph.label(), fmt_ms(*v)))
        .collect();
    // The phases are the first request's, one after the other with the client's own
    // moments between them; the connection's time runs from its lookup (or SYN) to its
    // last response, so it is not their sum and is not written as one.
    let first = if phases.is_empty() {
        String::new()
    } else {
        format!("{} (first request)", phases.join(", "))
    };
    let total = t
        .total_ms
        .map(|t| {
            let sep = if first.is_empty() { "" } else { "; " };
            format!(
                "{sep}{} from the lookup (or SYN) to the last response",
                fmt_ms(t)
            )
        })
        .unwrap_or_default();
    writeln!(out, "{} {first}{total}", label(p, "Time"))
}

fn write_issues<W: Write>(out: &mut W, i: &Issues, p: Paint) -> io::Result<()> {
    let mut issues = Vec::new();
    for (what, v) in [
        ("retransmissions", i.retransmissions),
        ("out-of-order", i.out_of_order),
        ("zero-window", i.zero_window),
        ("bytes never captured", i.gaps),
    ] {
        if let Some(v) = v {
            issues.push(format!("{what} {}/{}", v.client, v.server));
        }
    }
    writeln!(
        out,
        "{} {} {}",
        label(p, "Issues"),
        p.yellow(&issues.join(", ")),
        p.dim("(client/server)")
    )
}

fn write_conn_warnings<W: Write>(
    out: &mut W,
    shown: &[Warning],
    more: usize,
    p: Paint,
) -> io::Result<()> {
    for w in shown {
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
    if more > 0 {
        writeln!(
            out,
            "{} … {} in --format json",
            label(p, ""),
            plural(more, "more warning")
        )?;
    }
    Ok(())
}

fn write_close<W: Write>(
    out: &mut W,
    cl: &CloseStep,
    origin: Option<Ts>,
    p: Paint,
) -> io::Result<()> {
    let who = cl.who();
    let line = match cl.kind {
        CloseKind::Open => p.dim("still open at the end of the capture"),
        CloseKind::Rst => p.red(&format!("reset by the {who}: {}", cl.steps)),
        CloseKind::Fin => {
            let tw = if cl.time_wait {
                format!("; the {who} waits in TIME_WAIT")
            } else {
                String::new()
            };
            format!("{}: the {who} closed first{tw}", cl.steps)
        }
    };
    writeln!(
        out,
        "{} {}  at {}",
        label(p, "Close"),
        line,
        rel(cl.at, origin)
    )
}

fn join<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The client, server and host columns give way (cut in the middle) before the others.
fn connection_fits(r: &Report) -> [Fit; 2] {
    let mut wide = Fit::new(vec![
        Col::right("#"),
        Col::cut("client", 14, 2),
        Col::cut("server", 14, 2),
        Col::cut("host", 16, 1),
        Col::left("proto"),
        Col::right("TCP"),
        Col::right("TLS"),
        Col::right("requests"),
        Col::right("→ server"),
        Col::right("← client"),
        Col::left("close"),
    ]);
    let mut stacked = Fit::new(vec![
        Col::right("#"),
        Col::cut("client\nserver", 12, 2),
        Col::cut("host\nproto", 12, 1),
        Col::right("TCP\nTLS"),
        Col::right("→ server\n← client"),
        Col::left("requests\nclose"),
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
        let host = c.hostname.as_deref().unwrap_or("–");
        let tcp = fmt_opt_ms(c.tcp.handshake_ms);
        let tls = fmt_opt_ms(c.tls.as_ref().and_then(|t| t.handshake_ms));
        let sent = fmt_bytes(c.tcp.bytes.client);
        let received = fmt_bytes(c.tcp.bytes.server);
        wide.row(vec![
            c.id.to_string().into(),
            c.client.to_string().into(),
            c.server.to_string().into(),
            host.into(),
            proto.as_str().into(),
            tcp.as_str().into(),
            tls.as_str().into(),
            c.http.len().to_string().into(),
            sent.as_str().into(),
            received.as_str().into(),
            close.as_str().into(),
        ]);
        stacked.row(vec![
            c.id.to_string().into(),
            format!("{}\n{}", c.client, c.server).into(),
            format!("{host}\n{proto}").into(),
            format!("{tcp}\n{tls}").into(),
            format!("{sent}\n{received}").into(),
            format!("{}\n{close}", c.http.len()).into(),
        ]);
    }
    [wide, stacked]
}

/// Every exchange: the TCP connections' in connection order, then the QUIC connections'
/// (connection `quic-N`, protocol `h3`). Wide, the URL keeps at least 40 characters; else
/// two lines a request (connection over method, status over protocol, size over type,
/// TTFB over download) and the URL cut harder.
fn request_fits(r: &Report) -> [Fit; 2] {
    let mut wide = Fit::new(vec![
        Col::right("conn"),
        Col::left("method"),
        Col::cut("url", 40, 2),
        Col::right("status"),
        Col::left("proto"),
        Col::right("size"),
        Col::cut("type", 16, 1),
        Col::right("TTFB"),
        Col::right("download"),
    ]);
    let mut stacked = Fit::new(vec![
        Col::left("conn\nmethod"),
        Col::cut("url", 16, 2),
        Col::right("status\nproto"),
        Col {
            header: "size\ntype",
            right: true,
            give: Give::Middle { min: 10, rank: 1 },
        },
        Col::right("TTFB\ndownload"),
    ]);
    let tcp = r
        .connections
        .iter()
        .flat_map(|c| c.http.iter().map(move |h| (format!("#{}", c.id), h)));
    let quic = r
        .quic
        .iter()
        .flat_map(|q| q.http.iter().map(move |h| (format!("quic-{}", q.id), h)));
    for (conn, h) in tcp.chain(quic) {
        let url = h.url.as_deref().or(h.path.as_deref()).unwrap_or("?");
        let proto = if h.version == "HTTP/3" {
            "h3"
        } else {
            &h.version
        };
        let method = h.method.as_deref().unwrap_or("?");
        let status = h
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| NONE.into());
        let size = fmt_bytes(h.body_bytes);
        let kind = h
            .content_type
            .as_deref()
            .map(|ct| ct.split(';').next().unwrap_or(ct))
            .unwrap_or(NONE);
        let (ttfb, download) = (fmt_opt_ms(h.ttfb_ms), fmt_opt_ms(h.download_ms));
        wide.row(vec![
            conn.as_str().into(),
            method.into(),
            url.into(),
            status.as_str().into(),
            proto.into(),
            size.as_str().into(),
            kind.into(),
            ttfb.as_str().into(),
            download.as_str().into(),
        ]);
        stacked.row(vec![
            format!("{conn}\n{method}").into(),
            url.into(),
            format!("{status}\n{proto}").into(),
            format!("{size}\n{kind}").into(),
            format!("{ttfb}\n{download}").into(),
        ]);
    }
    [wide, stacked]
}

/// A table for the sections without a fitted layout (hosts, TLS): comfy-table wraps their
/// cells to the width when one is set.
fn table(opts: &TableOptions) -> Table {
    let mut t = new_table(opts.color);
    if let Some(w) = opts.width {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        t.set_width(w);
    }
    t
}

/// One row per host ([`crate::report::hosts`]).
fn hosts_table(r: &Report, opts: &TableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "host",
        "conns",
        "requests",
        "bytes",
        "protocols",
        "median TTFB",
        "slowest TTFB",
        "errors",
    ]);
    for h in crate::report::hosts::hosts(r) {
        t.add_row(vec![
            Cell::new(&h.host),
            right(h.connections.to_string()),
            right(h.requests.to_string()),
            right(fmt_bytes(h.bytes)),
            Cell::new(h.protocols.join(",")),
            right(fmt_opt_ms(h.median_ttfb_ms)),
            right(fmt_opt_ms(h.slowest_ttfb_ms)),
            right(h.errors.to_string()),
        ]);
    }
    t
}

/// One row per TLS handshake, TCP then QUIC.
fn tls_table(r: &Report, opts: &TableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "conn",
        "SNI",
        "version",
        "cipher",
        "ALPN",
        "resumed",
        "decrypted",
        "handshake",
    ]);
    let tcp = r
        .connections
        .iter()
        .filter_map(|c| Some((format!("#{}", c.id), c.tls.as_deref()?)));
    let quic = r
        .quic
        .iter()
        .filter_map(|q| Some((format!("quic-{}", q.id), q.tls.as_deref()?)));
    let dash = |v: Option<&str>| v.unwrap_or("–").to_string();
    let yes = |b: bool| if b { "yes" } else { "no" };
    for (conn, tls) in tcp.chain(quic) {
        t.add_row(vec![
            right(conn),
            Cell::new(dash(tls.sni.as_deref())),
            Cell::new(dash(tls.version.as_deref())),
            Cell::new(dash(tls.cipher.as_deref())),
            Cell::new(dash(tls.alpn.as_deref())),
            Cell::new(yes(tls.resumed)),
            Cell::new(yes(tls.decrypted)),
            right(fmt_opt_ms(tls.handshake_ms)),
        ]);
    }
    t
}

fn dns_fits(r: &Report) -> [Fit; 2] {
    let mut wide = Fit::new(vec![
        Col::left("at"),
        Col::cut("client", 14, 3),
        Col::cut("server", 14, 3),
        Col::left("via"),
        Col::cut("question", 20, 1),
        Col::left("rcode"),
        Col::cut("answers", 24, 1),
        Col::right("latency"),
    ]);
    let mut stacked = Fit::new(vec![
        Col::left("at\nlatency"),
        Col::cut("client\nserver", 12, 3),
        Col::cut("question\nrcode, via", 12, 1),
        Col::cut("answers", 14, 1),
    ]);
    let origin = r.capture.first_ts;
    for d in &r.dns {
        // A resolver's query upstream is a sub-row of the lookup it served.
        if d.upstream_of.is_some_and(|c| c < r.dns.len()) {
            continue;
        }
        let q = d
            .questions
            .first()
            .map(|q| format!("{} {}", q.name, q.qtype))
            .unwrap_or_else(|| NONE.into());
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
        let answers = answers.join("\n");
        let rcode = match (&d.rcode, d.truncated) {
            (Some(r), true) => format!("{r} (TC)"),
            (Some(r), false) => r.to_string(),
            (None, _) => "no answer".into(),
        };
        // DNSSEC: validated (AD), or asked for / signed and not validated; CD when the
        // client turned validation off.
        let sec = &d.dnssec;
        let mut flags = Vec::new();
        if sec.ad {
            flags.push("AD");
        } else if sec.dnssec_ok || !sec.records.is_empty() {
            flags.push("DO, no AD");
        }
        if sec.cd {
            flags.push("CD");
        }
        if d.cached == Some(true) {
            flags.push("cached");
        }
        let rcode = if flags.is_empty() {
            rcode
        } else {
            format!("{rcode} ({})", flags.join(", "))
        };
        let at = rel(Some(d.ts), origin);
        let latency = fmt_opt_ms(d.latency_ms);
        wide.row(vec![
            at.as_str().into(),
            d.client.to_string().into(),
            d.server.to_string().into(),
            d.transport.to_string().into(),
            q.as_str().into(),
            rcode.as_str().into(),
            answers.as_str().into(),
            latency.as_str().into(),
        ]);
        stacked.row(vec![
            format!("{at}\n{latency}").into(),
            format!("{}\n{}", d.client, d.server).into(),
            format!("{q}\n{rcode}, {}", d.transport).into(),
            answers.into(),
        ]);
        for step in d.chain.iter().flatten() {
            let at = rel(Some(step.ts), origin);
            let latency = fmt_opt_ms(step.latency_ms);
            let q = format!("↳ {} {}", step.qname, step.qtype);
            let role = step.role_text();
            let got = step.outcome_text();
            let records: Vec<String> = step
                .dns
                .and_then(|i| r.dns.get(i))
                .map(|u| {
                    u.answers
                        .iter()
                        .take(2)
                        .map(|a| format!("{} {}", a.rtype, a.data))
                        .collect()
                })
                .unwrap_or_default();
            let records = records.join("\n");
            wide.row(vec![
                at.as_str().into(),
                "".into(),
                step.server.to_string().into(),
                role.as_str().into(),
                q.as_str().into(),
                got.as_str().into(),
                records.as_str().into(),
                latency.as_str().into(),
            ]);
            stacked.row(vec![
                format!("{at}\n{latency}").into(),
                format!("{}\n{role}", step.server).into(),
                format!("{q}\n{got}").into(),
                records.into(),
            ]);
        }
    }
    [wide, stacked]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::h3_sample;

    fn render(r: &Report) -> String {
        let mut out = Vec::new();
        let opts = TableOptions {
            color: false,
            width: None,
            keys_given: false,
            sections: Sections::default(),
            all: false,
        };
        write_report(&mut out, r, &opts).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The whole table of a small page load whose subresources came over HTTP/3, compared
    /// with `tests/snapshots/table/http3-sample.txt` (`UPDATE_SNAPSHOTS=1` rewrites it).
    #[test]
    fn http3_report_snapshot() {
        let text = render(&h3_sample());
        for want in [
            "  5 HTTP requests (2 over HTTP/3), 3 TLS connections (2 decrypted), 1 QUIC connection (1 decrypted)",
            "  TLS     TLS 1.3, TLS_AES_128_GCM_SHA256, SNI static.example.test, ALPN offered h3, chose h3",
            "            cert CN=static.example.test SAN static.example.test issued by CN=Example CA",
            "  HTTP/3  GET https://static.example.test/app.js → 200 6.8 KiB, application/javascript  TTFB 4.000 ms, download 6.000 ms  at +0.050000 s",
            "            alt-svc: h3=\":443\"; ma=86400 — also offered: HTTP/3 (QUIC) on UDP port 443",
            "│ quic-1 ┆ GET    ┆ https://static.example.test/img.png",
        ] {
            assert!(text.contains(want), "{want:?} missing:\n{text}");
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots/table/http3-sample.txt");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
        assert!(want == text, "{} differs; got:\n{text}", path.display());
    }
}
