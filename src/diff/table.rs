//! The diff as terminal tables: page summary, matched requests, requests on one side only,
//! and what changed per origin.
//!
//! A pure renderer over `io::Write`. Deltas are `B − A`; timing deltas beyond the diff's
//! threshold are red (slower in B) or green (faster) when colour is on, and read the same
//! without it (the sign carries the meaning). Tables fit `width` with comfy-table's dynamic
//! arrangement; without a width (output piped) each row stays on one line.

use std::io::{self, Write};

use comfy_table::{Cell, Color, Table};

use super::{Diff, Num, OnlyRequest, OriginSide, RequestDiff, SummaryRow, Unit};
use crate::report::fmt::{fmt_bytes, fmt_ms, fmt_opt_ms, new_table, plural, right, Paint};

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
            "{} no changes ({} origins)",
            p.bold("Origins:"),
            d.origins.len()
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

fn table(opts: &DiffTableOptions) -> Table {
    new_table(opts.width, opts.color)
}

/// Red for slower (positive), green for faster, nothing within the threshold.
fn timing_colour(delta: Option<f64>, threshold: f64) -> Option<Color> {
    match delta {
        Some(d) if d > threshold => Some(Color::Red),
        Some(d) if d < -threshold => Some(Color::Green),
        _ => None,
    }
}

fn paint(cell: Cell, colour: Option<Color>) -> Cell {
    match colour {
        Some(c) => cell.fg(c),
        None => cell,
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

fn summary_table(d: &Diff, opts: &DiffTableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec!["metric", "A", "B", "Δ", "Δ %"]);
    for r in &d.summary {
        let c = summary_colour(r, d.options.threshold_ms);
        t.add_row(vec![
            Cell::new(r.label),
            right(fmt_value(r.a, r.unit)),
            right(fmt_value(r.b, r.unit)),
            paint(right(fmt_delta(r.delta, r.unit)), c),
            paint(right(fmt_pct(r.change_pct())), c),
        ]);
    }
    t
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

fn changed(cell: Cell, is_changed: bool) -> Cell {
    paint(cell, is_changed.then_some(Color::Yellow))
}

/// Narrowest the request column may get before the table stacks A over B.
const MIN_REQUEST_WIDTH: usize = 30;

/// One matched request's cells, before they are laid out.
struct RequestCells {
    what: String,
    status: (String, bool),
    protocol: (String, bool),
    size: (String, bool),
    ttfb: (String, String, String, Option<Color>),
    total: (String, String, String, Option<Color>),
}

fn request_cells(r: &RequestDiff, th: f64) -> RequestCells {
    let mut what = format!("{} {}", r.method, r.url);
    if let Some(bu) = r.b.url.as_deref().filter(|u| *u != r.url) {
        what += &format!(" → {bu}");
    }
    RequestCells {
        what,
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

const WIDE_HEADER: [&str; 10] = [
    "request", "status", "protocol", "size", "TTFB A", "TTFB B", "Δ TTFB", "total A", "total B",
    "Δ total",
];
const STACKED_HEADER: [&str; 8] = [
    "request",
    "status",
    "protocol",
    "size",
    "TTFB A/B",
    "Δ TTFB",
    "total A/B",
    "Δ total",
];

fn wide_row(c: &RequestCells) -> Vec<String> {
    vec![
        c.what.clone(),
        c.status.0.clone(),
        c.protocol.0.clone(),
        c.size.0.clone(),
        c.ttfb.0.clone(),
        c.ttfb.1.clone(),
        c.ttfb.2.clone(),
        c.total.0.clone(),
        c.total.1.clone(),
        c.total.2.clone(),
    ]
}

/// Columns as wide as their widest line, and the borders around them.
fn needed_width(header: &[&str], rows: &[Vec<String>], skip_first: bool) -> usize {
    let mut total = 1 + 3 * header.len();
    for (i, h) in header.iter().enumerate() {
        if skip_first && i == 0 {
            continue;
        }
        let content = rows
            .iter()
            .filter_map(|r| r.get(i))
            .flat_map(|s| s.lines())
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        total += content.max(h.chars().count());
    }
    total
}

/// Matched requests. One column per value when the width allows a readable request column
/// (or there is no width: piped); otherwise B's times are stacked under A's.
fn requests_table(d: &Diff, opts: &DiffTableOptions) -> Table {
    let th = d.options.threshold_ms;
    let cells: Vec<RequestCells> = d.requests.iter().map(|r| request_cells(r, th)).collect();
    let wide_rows: Vec<Vec<String>> = cells.iter().map(wide_row).collect();
    let wide = match opts.width {
        None => true,
        Some(w) => needed_width(&WIDE_HEADER, &wide_rows, true) + MIN_REQUEST_WIDTH <= w as usize,
    };
    let mut t = table(opts);
    if wide {
        t.set_header(WIDE_HEADER.to_vec());
    } else {
        t.set_header(STACKED_HEADER.to_vec());
    }
    for c in &cells {
        let mut row = vec![
            Cell::new(&c.what),
            changed(Cell::new(&c.status.0), c.status.1),
            changed(Cell::new(&c.protocol.0), c.protocol.1),
            changed(right(c.size.0.clone()), c.size.1),
        ];
        for (a, b, delta, colour) in [&c.ttfb, &c.total] {
            if wide {
                row.push(right(a.clone()));
                row.push(right(b.clone()));
            } else {
                row.push(right(format!("{a}\n{b}")));
            }
            row.push(paint(right(delta.clone()), *colour));
        }
        t.add_row(row);
    }
    t
}

fn only_table(list: &[OnlyRequest], opts: &DiffTableOptions) -> Table {
    let mut t = table(opts);
    t.set_header(vec![
        "request",
        "status",
        "protocol",
        "size",
        "TTFB",
        "total",
        "starts at",
    ]);
    for r in list {
        t.add_row(vec![
            Cell::new(format!("{} {}", r.method, r.url)),
            Cell::new(status(r.side.status)),
            Cell::new(&r.side.protocol),
            right(fmt_bytes(r.side.body_bytes)),
            right(fmt_opt_ms(r.side.ttfb_ms)),
            right(fmt_opt_ms(r.side.total_ms)),
            right(
                r.side
                    .start_ms
                    .map(|m| format!("+{}", fmt_ms(m)))
                    .unwrap_or_else(|| "–".into()),
            ),
        ]);
    }
    t
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
    let mut t = table(opts);
    t.set_header(vec!["origin", "change", "A", "B"]);
    for o in d.origins.iter().filter(|o| !o.changes.is_empty()) {
        for (i, ch) in o.changes.iter().enumerate() {
            let (a, b) = (o.a.as_ref(), o.b.as_ref());
            let colour = origin_colour(ch, a, b);
            t.add_row(vec![
                Cell::new(if i == 0 { o.origin.as_str() } else { "" }),
                Cell::new(origin_label(ch)).fg(colour),
                Cell::new(origin_value(ch, a)),
                Cell::new(origin_value(ch, b)),
            ]);
        }
    }
    t
}
