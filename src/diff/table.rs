//! The diff as terminal tables: page summary, matched requests, requests on one side only,
//! and what changed per origin.
//!
//! A pure renderer over `io::Write`. Deltas are `B − A`; timing deltas beyond the diff's
//! threshold are red (slower in B) or green (faster) when colour is on, and read the same
//! without it (the sign carries the meaning). Tables fit `width` ([`Fit`]): columns sized by
//! content, the request and origin columns cut in the middle with `…`, and when that is not
//! enough a narrower layout (B's values under A's, then A, B and the change in one cell);
//! without a width (output piped, no `COLUMNS`) each row stays on one line.

use std::io::{self, Write};

use comfy_table::{Color, Table};

use super::{Diff, Num, OnlyRequest, OriginSide, RequestDiff, SummaryRow, Unit};
use crate::report::fmt::{
    fit_first, fmt_bytes, fmt_ms, fmt_opt_ms, plural, Col, Fit, Give, Paint, Text,
};

#[derive(Debug, Clone, Default)]
pub struct DiffTableOptions {
    /// ANSI colour (a terminal, and NO_COLOR unset).
    pub color: bool,
    /// Fit the tables to this many columns; `None`: as wide as they need.
    pub width: Option<u16>,
    /// How A and B are named in the heading (the input paths).
    pub a_label: String,
    pub b_label: String,
}

/// Writes the whole diff as text tables.
pub fn write_table<W: Write>(out: &mut W, d: &Diff, opts: &DiffTableOptions) -> io::Result<()> {
    let p = Paint(opts.color);
    let th = d.options.threshold_ms;
    writeln!(out, "{}", p.bold("pagetrace diff"))?;
    writeln!(out, "  A: {}", opts.a_label)?;
    writeln!(out, "  B: {}", opts.b_label)?;
    writeln!(out, "  Δ = B − A, noise threshold ±{}", fmt_ms(th))?;

    writeln!(out)?;
    writeln!(out, "{}", p.bold("Summary"))?;
    writeln!(out, "{}", summary_table(d, opts))?;
    if !d.why.delays.is_empty() {
        let page = d
            .why
            .page_ms_delta
            .map(|v| format!("page time {}: ", signed_ms(v)))
            .unwrap_or_default();
        writeln!(out, "{} B {page}{}", p.bold("Why:"), d.why.sentence)?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "{} {} matched, {} only in A, {} only in B",
        p.bold("Requests:"),
        d.requests.len(),
        d.only_a.len(),
        d.only_b.len()
    )?;
    if !d.requests.is_empty() {
        writeln!(out, "{}", requests_table(d, opts))?;
    } else if d.only_a.is_empty() && d.only_b.is_empty() {
        writeln!(
            out,
            "  {}",
            p.dim("no HTTP exchange readable in either load (TLS without keys?)")
        )?;
    }
    write_slower(out, d, p)?;
    for (name, list) in [("Only in A", &d.only_a), ("Only in B", &d.only_b)] {
        if list.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{} ({})", p.bold(name), list.len())?;
        writeln!(out, "{}", only_table(list, opts))?;
    }

    writeln!(out)?;
    let changed = d.origins.iter().filter(|o| !o.changes.is_empty()).count();
    let unchanged = d.origins.len() - changed;
    if changed == 0 {
        writeln!(
            out,
            "{} no changes ({})",
            p.bold("Origins:"),
            plural(d.origins.len(), "origin")
        )?;
    } else {
        writeln!(
            out,
            "{} {changed} changed, {unchanged} unchanged",
            p.bold("Origins:")
        )?;
        writeln!(out, "{}", origins_table(d, opts))?;
    }
    Ok(())
}

/// Requests slower in B beyond the threshold whose diagnoses say why: the ten slowest.
fn write_slower<W: Write>(out: &mut W, d: &Diff, p: Paint) -> io::Result<()> {
    let th = d.options.threshold_ms;
    let mut slower: Vec<&RequestDiff> = d
        .requests
        .iter()
        .filter(|r| r.delta_total_ms.is_some_and(|v| v > th) && !r.because.is_empty())
        .collect();
    if slower.is_empty() {
        return Ok(());
    }
    slower.sort_by(|x, y| {
        y.delta_total_ms
            .unwrap_or(0.0)
            .total_cmp(&x.delta_total_ms.unwrap_or(0.0))
    });
    writeln!(out)?;
    writeln!(out, "{}", p.bold("Slower in B, and why"))?;
    for r in slower.iter().take(10) {
        writeln!(
            out,
            "  {} {} {}: {}",
            r.method,
            r.url,
            signed_ms(r.delta_total_ms.unwrap_or(0.0)),
            super::why::sentence(&r.because)
        )?;
    }
    if slower.len() > 10 {
        writeln!(
            out,
            "  {}",
            p.dim(&format!("and {} more", slower.len() - 10))
        )?;
    }
    Ok(())
}

fn signed_ms(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", fmt_ms(v))
    } else {
        format!("-{}", fmt_ms(-v))
    }
}

/// Red for slower (positive), green for faster, nothing within the threshold.
fn timing_colour(delta: Option<f64>, threshold: f64) -> Option<Color> {
    match delta {
        Some(d) if d > threshold => Some(Color::Red),
        Some(d) if d < -threshold => Some(Color::Green),
        _ => None,
    }
}

fn paint(text: impl Into<String>, colour: Option<Color>) -> Text {
    Text {
        text: text.into(),
        fg: colour,
    }
}

/// `+40.1 ms`, `-0.012 ms`, `0.000 ms`, `–`.
pub fn fmt_delta_ms(d: Option<f64>) -> String {
    match d {
        None => "–".into(),
        Some(d) if d > 0.0 => format!("+{}", fmt_ms(d)),
        Some(d) if d < 0.0 => format!("-{}", fmt_ms(-d)),
        Some(_) => fmt_ms(0.0),
    }
}

fn fmt_signed_bytes(d: i64) -> String {
    match d {
        d if d > 0 => format!("+{}", fmt_bytes(d.unsigned_abs())),
        d if d < 0 => format!("-{}", fmt_bytes(d.unsigned_abs())),
        _ => fmt_bytes(0),
    }
}

fn fmt_value(v: Option<Num>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "–".into(),
        (Some(Num::Int(n)), Unit::Bytes) => fmt_bytes(n.max(0).unsigned_abs()),
        (Some(Num::Int(n)), _) => n.to_string(),
        (Some(Num::Ms(m)), _) => fmt_ms(m),
    }
}

fn fmt_delta(v: Option<Num>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "–".into(),
        (Some(Num::Int(n)), Unit::Bytes) => fmt_signed_bytes(n),
        (Some(Num::Int(n)), _) if n > 0 => format!("+{n}"),
        (Some(Num::Int(n)), _) => n.to_string(),
        (Some(Num::Ms(m)), _) => fmt_delta_ms(Some(m)),
    }
}

fn fmt_pct(p: Option<f64>) -> String {
    match p {
        None => "–".into(),
        // Rounds to zero: no sign that would suggest a direction the figure cannot show.
        Some(p) if p.abs() < 0.05 => "0.0%".into(),
        Some(p) if p > 0.0 => format!("+{p:.1}%"),
        Some(p) => format!("{p:.1}%"),
    }
}

fn summary_colour(r: &SummaryRow, threshold: f64) -> Option<Color> {
    let d = r.delta?.as_f64();
    match (r.unit, r.metric) {
        (Unit::Ms, _) => timing_colour(Some(d), threshold),
        (_, "retransmissions" | "resets") if d > 0.0 => Some(Color::Red),
        (_, "retransmissions" | "resets") if d < 0.0 => Some(Color::Green),
        _ if d != 0.0 => Some(Color::Yellow),
        _ => None,
    }
}

/// The page summary; narrow, B under A and the change in per cent under the change.
fn summary_table(d: &Diff, opts: &DiffTableOptions) -> Table {
    let mut wide = Fit::new(vec![
        Col::left("metric"),
        Col::right("A"),
        Col::right("B"),
        Col::right("Δ"),
        Col::right("Δ %"),
    ]);
    let mut narrow = Fit::new(vec![
        Col::cut("metric", 10, 1),
        Col::right("A\nB"),
        Col::right("Δ\nΔ %"),
    ]);
    for r in &d.summary {
        let c = summary_colour(r, d.options.threshold_ms);
        let (a, b) = (fmt_value(r.a, r.unit), fmt_value(r.b, r.unit));
        let (delta, pct) = (fmt_delta(r.delta, r.unit), fmt_pct(r.change_pct()));
        narrow.row(vec![
            r.label.into(),
            format!("{a}\n{b}").into(),
            paint(format!("{delta}\n{pct}"), c),
        ]);
        wide.row(vec![
            r.label.into(),
            a.into(),
            b.into(),
            paint(delta, c),
            paint(pct, c),
        ]);
    }
    fit_first(vec![wide, narrow], opts.width, opts.color)
}

/// `x` when both sides agree, `a → b` when they do not.
fn pair(a: String, b: String) -> (String, bool) {
    if a == b {
        (a, false)
    } else {
        (format!("{a} → {b}"), true)
    }
}

fn status(s: Option<u16>) -> String {
    s.map(|s| s.to_string())
        .unwrap_or_else(|| "no response".into())
}

fn size_pair(a: u64, b: u64) -> (String, bool) {
    if a == b {
        return (fmt_bytes(a), false);
    }
    let (fa, fb) = (fmt_bytes(a), fmt_bytes(b));
    if fa == fb {
        // The rounding would hide the change: show exact bytes.
        (format!("{a} B → {b} B"), true)
    } else {
        (format!("{fa} → {fb}"), true)
    }
}

fn changed(text: impl Into<String>, is_changed: bool) -> Text {
    paint(text, is_changed.then_some(Color::Yellow))
}

/// One matched request's cells, before they are laid out.
struct RequestCells {
    what: String,
    /// The narrow layout's: the method and origin over the path (and B's URL when it
    /// differs).
    what_lines: String,
    status: (String, bool),
    protocol: (String, bool),
    size: (String, bool),
    ttfb: (String, String, String, Option<Color>),
    total: (String, String, String, Option<Color>),
}

fn request_cells(r: &RequestDiff, th: f64) -> RequestCells {
    let mut what = format!("{} {}", r.method, r.url);
    let mut what_lines = match split_url(&r.url) {
        Some((origin, path)) => format!("{} {origin}\n{path}", r.method),
        None => what.clone(),
    };
    if let Some(bu) = r.b.url.as_deref().filter(|u| *u != r.url) {
        what += &format!(" → {bu}");
        what_lines += &format!("\n→ {bu}");
    }
    RequestCells {
        what,
        what_lines,
        status: pair(status(r.a.status), status(r.b.status)),
        protocol: pair(r.a.protocol.clone(), r.b.protocol.clone()),
        size: size_pair(r.a.body_bytes, r.b.body_bytes),
        ttfb: (
            fmt_opt_ms(r.a.ttfb_ms),
            fmt_opt_ms(r.b.ttfb_ms),
            fmt_delta_ms(r.delta_ttfb_ms),
            timing_colour(r.delta_ttfb_ms, th),
        ),
        total: (
            fmt_opt_ms(r.a.total_ms),
            fmt_opt_ms(r.b.total_ms),
            fmt_delta_ms(r.delta_total_ms),
            timing_colour(r.delta_total_ms, th),
        ),
    }
}

/// `https://host:port` and `/path?query` of a URL; `None` when it has no path.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let start = url.find("://")? + 3;
    let slash = url[start..].find('/')? + start;
    Some((&url[..slash], &url[slash..]))
}

/// How a matched request's times are laid out: a column per value, B's under A's, or A,
/// B and the change in one cell of three lines (the narrowest).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Wide,
    Stacked,
    Narrow,
}

/// The request column: readable in the wide layouts, cut harder in the narrow one.
const fn request_col(min: usize) -> Col {
    Col {
        header: "request",
        right: false,
        give: Give::Middle { min, rank: 1 },
    }
}

fn request_fit(cells: &[RequestCells], layout: Layout) -> Fit {
    let mut cols = match layout {
        Layout::Narrow => vec![request_col(12)],
        _ => vec![request_col(30)],
    };
    cols.extend(match layout {
        Layout::Narrow => vec![Col::left("status\nprotocol"), Col::right("size")],
        _ => vec![
            Col::left("status"),
            Col::left("protocol"),
            Col::right("size"),
        ],
    });
    cols.extend(match layout {
        Layout::Wide => vec![
            Col::right("TTFB A"),
            Col::right("TTFB B"),
            Col::right("Δ TTFB"),
            Col::right("total A"),
            Col::right("total B"),
            Col::right("Δ total"),
        ],
        Layout::Stacked => vec![
            Col::right("TTFB A/B"),
            Col::right("Δ TTFB"),
            Col::right("total A/B"),
            Col::right("Δ total"),
        ],
        Layout::Narrow => vec![Col::right("TTFB\nA/B/Δ"), Col::right("total\nA/B/Δ")],
    });
    let mut t = Fit::new(cols);
    // The narrow layout puts the two sides of a change on two lines.
    let split = |s: &str| match layout {
        Layout::Narrow => s.replacen(" → ", " →\n", 1),
        _ => s.to_string(),
    };
    for c in cells {
        let mut row = match layout {
            Layout::Narrow => vec![
                Text::from(c.what_lines.as_str()),
                changed(
                    format!("{}\n{}", c.status.0, split(&c.protocol.0)),
                    c.status.1 || c.protocol.1,
                ),
            ],
            _ => vec![
                Text::from(c.what.as_str()),
                changed(c.status.0.as_str(), c.status.1),
                changed(c.protocol.0.as_str(), c.protocol.1),
            ],
        };
        row.push(changed(split(&c.size.0), c.size.1));
        for (a, b, delta, colour) in [&c.ttfb, &c.total] {
            match layout {
                Layout::Wide => {
                    row.extend([a.into(), b.into(), paint(delta, *colour)]);
                }
                Layout::Stacked => {
                    row.extend([format!("{a}\n{b}").into(), paint(delta, *colour)]);
                }
                Layout::Narrow => row.push(paint(format!("{a}\n{b}\n{delta}"), *colour)),
            }
        }
        t.row(row);
    }
    t
}

/// Matched requests: one column per value when the width allows a readable request column
/// (or there is no width: piped), else B's times under A's, else each time's A, B and
/// change in one cell.
fn requests_table(d: &Diff, opts: &DiffTableOptions) -> Table {
    let th = d.options.threshold_ms;
    let cells: Vec<RequestCells> = d.requests.iter().map(|r| request_cells(r, th)).collect();
    let layouts = [Layout::Wide, Layout::Stacked, Layout::Narrow]
        .into_iter()
        .map(|l| request_fit(&cells, l))
        .collect();
    fit_first(layouts, opts.width, opts.color)
}

fn only_table(list: &[OnlyRequest], opts: &DiffTableOptions) -> Table {
    let starts = |r: &OnlyRequest| {
        r.side
            .start_ms
            .map(|m| format!("+{}", fmt_ms(m)))
            .unwrap_or_else(|| "–".into())
    };
    let mut wide = Fit::new(vec![
        request_col(30),
        Col::left("status"),
        Col::left("protocol"),
        Col::right("size"),
        Col::right("TTFB"),
        Col::right("total"),
        Col::right("starts at"),
    ]);
    let mut narrow = Fit::new(vec![
        request_col(12),
        Col::left("status"),
        Col::left("protocol"),
        Col::right("size\nstarts at"),
        Col::right("TTFB\ntotal"),
    ]);
    for r in list {
        let what = format!("{} {}", r.method, r.url);
        let (ttfb, total) = (fmt_opt_ms(r.side.ttfb_ms), fmt_opt_ms(r.side.total_ms));
        let size = fmt_bytes(r.side.body_bytes);
        wide.row(vec![
            what.as_str().into(),
            status(r.side.status).into(),
            r.side.protocol.as_str().into(),
            size.as_str().into(),
            ttfb.as_str().into(),
            total.as_str().into(),
            starts(r).into(),
        ]);
        narrow.row(vec![
            what.into(),
            status(r.side.status).into(),
            r.side.protocol.as_str().into(),
            format!("{size}\n{}", starts(r)).into(),
            format!("{ttfb}\n{total}").into(),
        ]);
    }
    fit_first(vec![wide, narrow], opts.width, opts.color)
}

fn list_or(v: &[String], none: &str) -> String {
    if v.is_empty() {
        none.to_string()
    } else {
        v.join(", ")
    }
}

/// The table's words for one aspect of one side of an origin.
fn origin_value(change: &str, s: Option<&OriginSide>) -> String {
    let Some(s) = s else {
        return "–".into();
    };
    match change {
        "http_version" => list_or(&s.http_versions, "unknown"),
        "tls_version" => list_or(&s.tls_versions, "no TLS"),
        "resumption" => format!("{} of {} resumed", s.tls_resumed, s.tls_connections),
        "dns" if s.dns_lookups == 0 => "cached (no lookup)".into(),
        "dns" => format!("looked up ({})", s.dns_lookups),
        "retransmissions" => s.retransmissions.to_string(),
        "resets" => format!("{} TCP, {} stream", s.tcp_resets, s.stream_resets),
        "quic" => format!(
            "{} of {} over QUIC",
            s.quic_connections,
            plural(s.connections, "connection")
        ),
        // connection_reuse, only_a, only_b
        _ => format!(
            "{} on {}",
            plural(s.requests, "request"),
            plural(s.connections, "connection")
        ),
    }
}

fn origin_label(change: &str) -> &'static str {
    match change {
        "http_version" => "HTTP version",
        "tls_version" => "TLS version",
        "resumption" => "TLS resumption",
        "connection_reuse" => "connection reuse",
        "quic" => "QUIC",
        "dns" => "DNS",
        "retransmissions" => "retransmissions",
        "resets" => "resets",
        "only_a" => "only in A",
        "only_b" => "only in B",
        _ => "changed",
    }
}

fn origin_colour(change: &str, a: Option<&OriginSide>, b: Option<&OriginSide>) -> Color {
    let worse = match (change, a, b) {
        ("retransmissions", Some(a), Some(b)) => Some(b.retransmissions > a.retransmissions),
        ("resets", Some(a), Some(b)) => {
            Some(b.tcp_resets + b.stream_resets > a.tcp_resets + a.stream_resets)
        }
        _ => None,
    };
    match worse {
        Some(true) => Color::Red,
        Some(false) => Color::Green,
        None => Color::Yellow,
    }
}

fn origins_table(d: &Diff, opts: &DiffTableOptions) -> Table {
    let origin = Col::cut("origin", 16, 1);
    let mut wide = Fit::new(vec![
        origin,
        Col::left("change"),
        Col::left("A"),
        Col::left("B"),
    ]);
    let mut narrow = Fit::new(vec![origin, Col::left("change"), Col::left("A\nB")]);
    for o in d.origins.iter().filter(|o| !o.changes.is_empty()) {
        for (i, ch) in o.changes.iter().enumerate() {
            let (a, b) = (o.a.as_ref(), o.b.as_ref());
            let colour = origin_colour(ch, a, b);
            let name = if i == 0 { o.origin.as_str() } else { "" };
            let (va, vb) = (origin_value(ch, a), origin_value(ch, b));
            let label = paint(origin_label(ch), Some(colour));
            narrow.row(vec![
                name.into(),
                label.clone(),
                format!("{va}\n{vb}").into(),
            ]);
            wide.row(vec![name.into(), label, va.into(), vb.into()]);
        }
    }
    fit_first(vec![wide, narrow], opts.width, opts.color)
}
