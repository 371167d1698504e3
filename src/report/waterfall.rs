//! `--format waterfall`: the page load drawn on the terminal, one line per request on a
//! shared time axis, from the rows, phases and pages of [`crate::report::timing`] (the same
//! numbers as the HAR and the HTML page).
//!
//! # The terminal drawing
//! HTTP/3 requests are rows like the others: the QUIC handshake draws as the TLS phase
//! (it is one; see the timing model). One section per page, each with its own axis from the page's first byte. Each line shows
//! the method (blank on a connection's row), the URL (the middle cut to fit), the status,
//! the body size, the request's total time and
//! the bar: every cell shows the phase that covers most of its time slice (░ DNS, ▒ connect,
//! ▓ TLS, ─ send and wait, █ download, ≈ data of a connection without readable requests,
//! · the client between phases, × where the request waited on the network: a delay of its
//! diagnosis, such as a resend or a full window). Colours only when [`WaterfallOptions::color`]; the
//! characters alone tell the phases apart. Text from the capture is shown with control and
//! non-ASCII characters percent-escaped, so a hostile URL cannot move the cursor or break
//! the columns.

use std::io::{self, Write};

use crate::pageload::model::{ChainStep, DelayKind, Report, StepOutcome};
use crate::report::fmt::{
    fmt_bytes, fmt_ms, fmt_offset, fmt_tick, pad_left, plural, shorten_middle, tick_step, Paint,
};
use crate::report::timing::{pages, rows, Conn, ConnKey, Page, Phase, Row};
use crate::time::Ts;

#[derive(Debug, Clone, Copy)]
pub struct WaterfallOptions {
    pub color: bool,
    pub width: u16,
}

/// The character that draws a phase.
fn glyph(p: Phase) -> char {
    match p {
        Phase::Blocked => '·',
        Phase::Dns => '░',
        Phase::Connect => '▒',
        Phase::Tls => '▓',
        Phase::Send | Phase::Wait => '─',
        Phase::Receive => '█',
        Phase::Data => '≈',
    }
}

/// The SGR colour of a phase.
fn ansi(p: Phase) -> &'static str {
    match p {
        Phase::Blocked => "2",
        Phase::Dns => "36",
        Phase::Connect => "33",
        Phase::Tls => "35",
        Phase::Send | Phase::Wait => "32",
        Phase::Receive => "34",
        Phase::Data => "90",
    }
}

/// Capture text made safe for a terminal: control, DEL and non-ASCII characters become
/// percent escapes of their UTF-8 bytes (URLs are ASCII on the wire), so the column widths
/// hold and no escape sequence reaches the terminal.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A URL cut to `width` characters: without its scheme when it does not fit, then its
/// head and its tail (the file name) around `…`.
fn shorten_url(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let bare = s.split_once("://").map_or(s, |(_, rest)| rest);
    shorten(bare, width)
}

/// Cuts an ASCII string to `width` characters, keeping its head and tail around `…`.
fn shorten(s: &str, width: usize) -> String {
    shorten_middle(s, width)
}

struct Layout {
    /// The method column (`GET`, `HEAD`, …): as wide as the page's longest, 0 when no row
    /// has one.
    method: usize,
    label: usize,
    status: bool,
    size: bool,
    time: bool,
    bar: usize,
}

const STATUS_W: usize = 4;
/// The method column is cut beyond this (a made-up method from the wire).
const MAX_METHOD_W: usize = 7;
const SIZE_W: usize = 10;
const TIME_W: usize = 10;

fn layout(width: usize, longest_label: usize, method: usize) -> Layout {
    let width = width.max(30);
    let mut l = Layout {
        method,
        label: 0,
        status: true,
        size: true,
        time: true,
        bar: 0,
    };
    let fixed = |l: &Layout| {
        (if l.status { STATUS_W + 1 } else { 0 })
            + (if l.size { SIZE_W + 1 } else { 0 })
            + (if l.time { TIME_W + 1 } else { 0 })
    };
    if width < 70 {
        l.time = false;
    }
    if width < 55 {
        l.size = false;
    }
    let method_w = if method > 0 { method + 1 } else { 0 };
    let rest = width.saturating_sub(fixed(&l) + method_w + 1);
    let max_label = (rest * 45 / 100).max(12);
    l.label = longest_label
        .clamp(12, max_label)
        .min(rest.saturating_sub(10));
    l.bar = rest.saturating_sub(l.label).max(10);
    l
}

fn status_text(row: &Row) -> (String, &'static str) {
    match row.exchange.map(|e| e.1.status) {
        Some(Some(s)) if s >= 400 => (s.to_string(), "31"),
        Some(Some(s)) if s >= 300 => (s.to_string(), "33"),
        Some(Some(s)) => (s.to_string(), "32"),
        Some(None) => ("–".to_string(), "2"),
        None if row.conn.tls().is_some() => ("tls".to_string(), "2"),
        None => ("tcp".to_string(), "2"),
    }
}

fn size_of(row: &Row) -> u64 {
    match row.exchange {
        Some((_, h)) => h.body_bytes,
        None => row.conn.server_bytes(),
    }
}

/// The cells of one bar: per cell, the phase covering most of its slice of time.
fn bar_cells(row: &Row, origin: Ts, span_ms: f64, cells: usize) -> Vec<Option<Phase>> {
    let mut out = vec![None; cells];
    if cells == 0 || span_ms <= 0.0 {
        return out;
    }
    let per = span_ms / cells as f64;
    for (i, slot) in out.iter_mut().enumerate() {
        let c0 = i as f64 * per;
        let c1 = c0 + per;
        let mut best: Option<(f64, Phase)> = None;
        for s in &row.spans {
            let a = s.from.ms_since(origin).max(c0);
            let b = s.to.ms_since(origin).min(c1);
            let overlap = b - a;
            if overlap <= 0.0 {
                continue;
            }
            // The client's idle time shows only where nothing else does.
            let weight = if s.phase == Phase::Blocked {
                overlap * 1e-3
            } else {
                overlap
            };
            if best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, s.phase));
            }
        }
        *slot = best.map(|b| b.1);
    }
    if out.iter().all(Option::is_none) {
        // Shorter than a cell: one cell for its longest phase, where it starts.
        let main = row
            .spans
            .iter()
            .filter(|s| s.phase != Phase::Blocked)
            .max_by(|a, b| {
                a.to.ms_since(a.from)
                    .partial_cmp(&b.to.ms_since(b.from))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .map(|s| s.phase)
            .unwrap_or(Phase::Receive);
        let at = ((row.start.ms_since(origin) / per).floor().max(0.0) as usize).min(cells - 1);
        out[at] = Some(main);
    }
    out
}

/// A bar's cells: a phase, a delay (`Err`), or nothing.
fn draw_cells(cells: &[Option<Result<Phase, ()>>], color: bool) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < cells.len() {
        let p = cells[i];
        let mut j = i;
        while j < cells.len() && cells[j] == p {
            j += 1;
        }
        let (ch, sgr) = match p {
            Some(Ok(p)) => (glyph(p), Some(ansi(p))),
            Some(Err(())) => (DELAYED, Some(DELAYED_SGR)),
            None => (' ', None),
        };
        let run: String = std::iter::repeat_n(ch, j - i).collect();
        match sgr {
            Some(code) => s.push_str(&Paint(color).sgr(code, &run)),
            None => s.push_str(&run),
        }
        i = j;
    }
    s.trim_end().to_string()
}

/// Writes the terminal waterfall of every page in the report.
pub fn write_waterfall<W: Write>(out: &mut W, r: &Report, o: &WaterfallOptions) -> io::Result<()> {
    let rows = rows(r);
    if rows.is_empty() {
        writeln!(out, "No requests or connections to draw.")?;
        return Ok(());
    }
    let pages = pages(&rows);
    let mut used: Used = Used::default();
    for (pi, page) in pages.iter().enumerate() {
        if pi > 0 {
            writeln!(out)?;
        }
        write_page_head(out, &rows, page, pi, r.capture.first_ts, o)?;
        write_page_rows(out, r, &rows, page, o, &mut used)?;
    }
    write_legend(out, &used, o)
}

/// A page's title and facts (requests, connections, bytes, span, start), the facts cut
/// from the end to fit the width.
fn write_page_head<W: Write>(
    out: &mut W,
    rows: &[Row],
    page: &Page,
    pi: usize,
    origin: Option<Ts>,
    o: &WaterfallOptions,
) -> io::Result<()> {
    let width = o.width as usize;
    let requests = page
        .rows
        .iter()
        .filter(|&&i| rows[i].exchange.is_some())
        .count();
    let mut conns: Vec<ConnKey> = page.rows.iter().map(|&i| rows[i].conn.key()).collect();
    conns.sort_unstable();
    conns.dedup();
    let bytes: u64 = page.rows.iter().map(|&i| size_of(&rows[i])).sum();
    let span_ms = page.end.ms_since(page.start).max(0.0);
    let at = match origin {
        Some(o) => format!("at {}", fmt_offset(page.start.ms_since(o), 3)),
        None => String::new(),
    };
    let title = format!(
        "Page {}  {}",
        pi + 1,
        shorten_url(
            &terminal_safe(&page.title),
            width.saturating_sub(12).max(20)
        )
    );
    writeln!(out, "{}", Paint(o.color).sgr("1", &title))?;
    let mut facts: Vec<String> = [
        format!(
            "  {} on {}",
            plural(requests, "request"),
            plural(conns.len(), "connection")
        ),
        fmt_bytes(bytes),
        fmt_ms(span_ms),
        at,
    ]
    .into_iter()
    .filter(|f| !f.is_empty())
    .collect();
    while facts.len() > 1 && facts.join(", ").chars().count() > width {
        facts.pop();
    }
    writeln!(out, "{}", facts.join(", "))
}

/// What the bars drew, for the legend: the phases, and whether a delay was marked.
#[derive(Default)]
struct Used {
    phases: Vec<Phase>,
    delayed: bool,
}

/// The character and colour of a cell where the request waited on the network (a
/// diagnosis with a time span: a resend, a window, head of line), over its phase.
const DELAYED: char = '×';
const DELAYED_SGR: &str = "31";

/// Per cell of a bar: whether the row's exchange (or, on a connection's first row, the
/// connection's own setup) waited on the network there: a delay of its diagnosis covers
/// half the cell's slice, or its middle falls in it (so a short delay still shows).
fn delay_cells(row: &Row, origin: Ts, span_ms: f64, cells: usize) -> Vec<bool> {
    let mut out = vec![false; cells];
    if cells == 0 || span_ms <= 0.0 {
        return out;
    }
    let own = row
        .exchange
        .map(|(_, h)| h.diagnosis.as_slice())
        .unwrap_or_default();
    let conn = match (row.conn, row.exchange) {
        (Conn::Tcp(c), Some((0, _)) | None) => c.diagnosis.as_slice(),
        _ => &[],
    };
    let per = span_ms / cells as f64;
    for d in own.iter().chain(conn) {
        let (Some(from), Some(to)) = (d.from_ts, d.to_ts) else {
            continue;
        };
        if matches!(d.kind, DelayKind::ServerThink | DelayKind::CaptureGap) {
            continue;
        }
        let (a, b) = (from.ms_since(origin), to.ms_since(origin));
        let mid = ((a + b) / 2.0 / per).floor();
        if mid >= 0.0 && (mid as usize) < cells {
            out[mid as usize] = true;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let (c0, c1) = (i as f64 * per, (i + 1) as f64 * per);
            if b.min(c1) - a.max(c0) >= per / 2.0 {
                *slot = true;
            }
        }
    }
    out
}

/// A page's axis and one line per row; what was drawn is added to `used`.
fn write_page_rows<W: Write>(
    out: &mut W,
    r: &Report,
    rows: &[Row],
    page: &Page,
    o: &WaterfallOptions,
    used: &mut Used,
) -> io::Result<()> {
    let color = o.color;
    let labels: Vec<String> = page
        .rows
        .iter()
        .map(|&i| terminal_safe(&rows[i].url))
        .collect();
    let methods: Vec<String> = page
        .rows
        .iter()
        .map(|&i| {
            rows[i]
                .exchange
                .and_then(|(_, h)| h.method.as_deref())
                .map(terminal_safe)
                .unwrap_or_default()
        })
        .collect();
    let chain_of = |row: &Row| {
        row.dns
            .and_then(|i| r.dns.get(i))
            .and_then(|t| t.chain.as_deref())
            .unwrap_or_default()
    };
    let chain_label = |step: &ChainStep| {
        format!(
            "  ↳ {}",
            terminal_safe(&format!(
                "{} {} @{} {}",
                step.qname, step.qtype, step.server, step.role
            ))
        )
    };
    let longest = labels
        .iter()
        .map(|l| l.chars().count())
        .chain(
            page.rows
                .iter()
                .flat_map(|&i| chain_of(&rows[i]))
                .map(|s| chain_label(s).chars().count()),
        )
        .max()
        .unwrap_or(0);
    let method_w = methods.iter().map(|m| m.chars().count()).max().unwrap_or(0);
    let lay = layout(o.width as usize, longest, method_w.min(MAX_METHOD_W));
    let span_ms = page.end.ms_since(page.start).max(0.0);
    let axis_span = if span_ms > 0.0 { span_ms } else { 1.0 };
    let prefix = lay.label
        + 1
        + if lay.method > 0 { lay.method + 1 } else { 0 }
        + if lay.status { STATUS_W + 1 } else { 0 }
        + if lay.size { SIZE_W + 1 } else { 0 }
        + if lay.time { TIME_W + 1 } else { 0 };
    write_axis(out, prefix, lay.bar, axis_span, color)?;
    for ((&ri, label), method) in page.rows.iter().zip(&labels).zip(&methods) {
        let row = &rows[ri];
        let mut line = String::new();
        if lay.method > 0 {
            line.push_str(&format!(
                "{:<w$} ",
                shorten_middle(method, lay.method),
                w = lay.method
            ));
        }
        line.push_str(&format!(
            "{:<w$} ",
            shorten_url(label, lay.label),
            w = lay.label
        ));
        if lay.status {
            let (s, code) = status_text(row);
            line.push_str(&Paint(color).sgr(code, &pad_left(&s, STATUS_W)));
            line.push(' ');
        }
        if lay.size {
            line.push_str(&pad_left(&fmt_bytes(size_of(row)), SIZE_W));
            line.push(' ');
        }
        if lay.time {
            line.push_str(&pad_left(&fmt_ms(row.duration_ms()), TIME_W));
            line.push(' ');
        }
        let cells = bar_cells(row, page.start, axis_span, lay.bar);
        for p in cells.iter().flatten() {
            if !used.phases.contains(p) {
                used.phases.push(*p);
            }
        }
        let delayed = delay_cells(row, page.start, axis_span, lay.bar);
        let marked: Vec<Option<Result<Phase, ()>>> = cells
            .iter()
            .zip(&delayed)
            .map(|(c, &d)| if d { Some(Err(())) } else { c.map(Ok) })
            .collect();
        used.delayed |= marked.contains(&Some(Err(())));
        line.push_str(&draw_cells(&marked, color));
        writeln!(out, "{}", line.trim_end())?;
        // The lookup's walk, when the capture shows the resolver's side: one sub-row per
        // query it sent upstream, drawn as DNS.
        for step in chain_of(row) {
            let mut line = String::new();
            if lay.method > 0 {
                line.push_str(&" ".repeat(lay.method + 1));
            }
            let label = chain_label(step);
            line.push_str(&format!(
                "{:<w$} ",
                shorten_middle(&label, lay.label),
                w = lay.label
            ));
            if lay.status {
                let what = match step.outcome {
                    StepOutcome::Answer => "ans",
                    StepOutcome::Referral => "ref",
                    StepOutcome::Nxdomain => "nx",
                    StepOutcome::Nodata => "nodata",
                    StepOutcome::Error => "err",
                    StepOutcome::Unanswered => "–",
                };
                line.push_str(&Paint(color).sgr("2", &pad_left(what, STATUS_W)));
                line.push(' ');
            }
            if lay.size {
                line.push_str(&" ".repeat(SIZE_W + 1));
            }
            if lay.time {
                let ms = step.latency_ms.map(fmt_ms).unwrap_or_else(|| "–".into());
                line.push_str(&pad_left(&ms, TIME_W));
                line.push(' ');
            }
            let end = step
                .latency_ms
                .map_or(step.ts, |ms| Ts(step.ts.0 + (ms * 1e6) as i64));
            let cells = span_cells(step.ts, end, page.start, axis_span, lay.bar);
            if cells.iter().any(Option::is_some) && !used.phases.contains(&Phase::Dns) {
                used.phases.push(Phase::Dns);
            }
            let marked: Vec<Option<Result<Phase, ()>>> =
                cells.into_iter().map(|c| c.map(Ok)).collect();
            line.push_str(&draw_cells(&marked, color));
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

/// The cells of a bar drawn as DNS from `from` to `to`: those the span covers half of,
/// and at least the one it starts in.
fn span_cells(from: Ts, to: Ts, origin: Ts, span_ms: f64, cells: usize) -> Vec<Option<Phase>> {
    let mut out = vec![None; cells];
    if cells == 0 || span_ms <= 0.0 {
        return out;
    }
    let per = span_ms / cells as f64;
    let (a, b) = (from.ms_since(origin), to.ms_since(origin));
    for (i, slot) in out.iter_mut().enumerate() {
        let (c0, c1) = (i as f64 * per, (i + 1) as f64 * per);
        if b.min(c1) - a.max(c0) >= per / 2.0 {
            *slot = Some(Phase::Dns);
        }
    }
    let at = (a / per).floor();
    if at >= 0.0 && (at as usize) < cells {
        out[at as usize] = Some(Phase::Dns);
    }
    out
}

/// The legend, in phase order, of what was drawn, wrapped to the width (an item is never
/// split).
fn write_legend<W: Write>(out: &mut W, used: &Used, o: &WaterfallOptions) -> io::Result<()> {
    let mut legend = Vec::new();
    let phases = &used.phases;
    for p in Phase::ALL {
        if p == Phase::Send {
            continue;
        }
        let shown = phases.contains(&p) || (p == Phase::Wait && phases.contains(&Phase::Send));
        if shown {
            let name = if p == Phase::Wait {
                "send/wait"
            } else {
                p.label()
            };
            legend.push((
                format!(
                    "{} {name}",
                    Paint(o.color).sgr(ansi(p), &glyph(p).to_string())
                ),
                2 + name.chars().count(),
            ));
        }
    }
    if used.delayed {
        let name = "waited on the network (see the diagnosis)";
        legend.push((
            format!(
                "{} {name}",
                Paint(o.color).sgr(DELAYED_SGR, &DELAYED.to_string())
            ),
            2 + name.chars().count(),
        ));
    }
    writeln!(out)?;
    let width = o.width as usize;
    let mut line = String::new();
    let mut line_w = 0;
    for (item, w) in legend {
        if line_w > 0 && line_w + 3 + w > width {
            writeln!(out, "{line}")?;
            line.clear();
            line_w = 0;
        }
        if line_w > 0 {
            line.push_str("   ");
            line_w += 3;
        }
        line.push_str(&item);
        line_w += w;
    }
    writeln!(out, "{line}")
}

/// The time axis: tick labels, then a ruler with `┬` at each tick.
fn write_axis<W: Write>(
    out: &mut W,
    prefix: usize,
    bar: usize,
    span_ms: f64,
    color: bool,
) -> io::Result<()> {
    let step = tick_step(span_ms, (bar / 10).max(1));
    let mut labels = vec![' '; bar];
    let mut ruler = vec!['─'; bar];
    let mut k = 0u32;
    let mut next_free = 0usize;
    loop {
        let t = step * k as f64;
        if t > span_ms * 1.000_001 || k > 1000 {
            break;
        }
        let col = ((t / span_ms) * bar as f64).floor() as usize;
        if col >= bar {
            break;
        }
        ruler[col] = '┬';
        let text = fmt_tick(t, step);
        if col >= next_free && col + text.len() <= bar {
            for (i, ch) in text.chars().enumerate() {
                labels[col + i] = ch;
            }
            next_free = col + text.len() + 1;
        }
        k += 1;
    }
    let pad = " ".repeat(prefix);
    let labels: String = labels.into_iter().collect();
    let ruler: String = ruler.into_iter().collect();
    writeln!(out, "{pad}{}", Paint(color).sgr("2", labels.trim_end()))?;
    writeln!(out, "{pad}{}", Paint(color).sgr("2", &ruler))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::{Connection, HttpExchange};
    use crate::report::timing::tests::{at, sample};

    #[test]
    fn ticks_are_nice() {
        assert_eq!(tick_step(100.0, 10), 10.0);
        assert_eq!(tick_step(95.0, 10), 10.0);
        assert_eq!(tick_step(120.0, 10), 20.0);
        assert_eq!(tick_step(3.0, 10), 0.5);
        assert_eq!(fmt_tick(1.5, 0.5), "1.5 ms");
        assert_eq!(fmt_tick(20.0, 10.0), "20 ms");
        assert_eq!(fmt_tick(2000.0, 1000.0), "2 s");
        assert_eq!(fmt_tick(1500.0, 500.0), "1500 ms");
    }

    #[test]
    fn hostile_text_is_escaped_for_the_terminal() {
        assert_eq!(terminal_safe("a\x1b[2Jb"), "a%1B[2Jb");
        assert_eq!(terminal_safe("é\u{202e}"), "%C3%A9%E2%80%AE");
        assert_eq!(shorten("abcdefghij", 5), "a…hij");
        assert_eq!(shorten_url("https://a.test/x/file.js", 12), "a.te…file.js");
        assert_eq!(shorten("abc", 5), "abc");
    }

    fn render(r: &Report, color: bool, width: u16) -> String {
        let mut out = Vec::new();
        write_waterfall(&mut out, r, &WaterfallOptions { color, width }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn draws_fitted_lines_with_phases() {
        let r = sample();
        for width in [40u16, 60, 80, 120, 200] {
            let text = render(&r, false, width);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width as usize,
                    "width {width}: {line:?}\n{text}"
                );
            }
            assert!(!text.contains('\x1b'));
        }
        let text = render(&r, false, 120);
        assert!(text.contains("Page 1  https://www.example.test/"), "{text}");
        let doc = text
            .lines()
            .find(|l| l.starts_with("GET ") && l.contains(" https://www.example.test/ "))
            .unwrap();
        for g in ['░', '▒', '▓', '─', '█'] {
            assert!(doc.contains(g), "{g} in {doc}");
        }
        assert!(doc.contains(" 200 "));
        assert!(text.contains("0 ms"));
        assert!(text.contains("┬"));
        assert!(text.contains("≈"), "{text}");
        assert!(text.contains("░ DNS"), "{text}");
        let colored = render(&r, true, 120);
        assert!(colored.contains("\x1b[36m░"));
    }

    #[test]
    fn empty_and_odd_reports_do_not_panic() {
        let r = Report::default();
        assert!(render(&r, false, 80).contains("No requests"));
        // An exchange with no timestamps at all, and a connection with nothing seen.
        let mut r = Report::default();
        let mut c = Connection::default();
        c.http.push(HttpExchange::default());
        r.connections.push(c);
        r.connections.push(Connection::default());
        let _ = render(&r, true, 10);
        r.capture.first_ts = Some(at(0.0));
        let text = render(&r, false, 80);
        assert!(text.contains("http://"), "{text}");
        // Zero-length rows still draw one cell.
        let mut r = sample();
        for c in &mut r.connections {
            for h in &mut c.http {
                h.response_end_ts = h.response_ts;
                h.download_ms = Some(0.0);
            }
        }
        let _ = render(&r, false, 80);
    }
}
