//! The small helpers every renderer and the diff share: numbers, sizes, durations, capture
//! offsets, dates, plurals, padding, ANSI colour and the summary-table frame.
//!
//! # Contract
//! - Pure functions of their arguments: no terminal is looked at (the caller decides colour
//!   and width), no clock is read.
//! - One spelling per quantity across the outputs: a duration is [`fmt_ms`] in the story,
//!   the tables, the waterfall, the HTML page and the diff; a size is [`fmt_bytes`]; a value
//!   not observed is `–`.
//! - Fitting to a width is decided here and nowhere else: [`Fit`] sizes table columns by
//!   content and cuts the ones that may give in the middle with `…` (never a line break in
//!   a cell), [`fit_first`] picks the first of a table's layouts that fits, [`wrap`] breaks
//!   a story line at its fields, then its words, with a hanging indent. The caller says the
//!   width (`COLUMNS`, the terminal, or none for a pipe).
//! - This module imports nothing from the other renderers (ripgrep's `printer/src/util.rs`
//!   idea): every file of `report/` and `diff/` may import it, it imports none of them.

use std::fmt::Display;
use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use crate::pageload::model::{DecodePartial, HttpExchange};
use crate::time::{civil_from_days, Ts};

/// What every output writes for a value that was not observed.
pub const NONE: &str = "–";

/// ANSI styling that disappears when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn cyan(self, s: &str) -> String {
        self.wrap("36", s)
    }

    /// `s` in the SGR `code` (`"1"`, `"31"`, `"90"`); an empty `s` stays empty (no codes
    /// around nothing), as the waterfall's bars need.
    pub fn sgr(self, code: &str, s: &str) -> String {
        if s.is_empty() {
            String::new()
        } else {
            self.wrap(code, s)
        }
    }

    /// An HTTP status in the colour of its class: red 4xx/5xx, yellow 3xx, green otherwise;
    /// a dim `no response` without one.
    pub fn status(self, status: Option<u16>) -> String {
        match status {
            Some(s) if s >= 400 => self.red(&s.to_string()),
            Some(s) if s >= 300 => self.yellow(&s.to_string()),
            Some(s) => self.green(&s.to_string()),
            None => self.dim("no response"),
        }
    }
}

/// `1.234 ms`, `12.3 ms`, `1.235 s`.
pub fn fmt_ms(ms: f64) -> String {
    if ms.abs() >= 1000.0 {
        format!("{:.3} s", ms / 1000.0)
    } else if ms.abs() >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// [`fmt_ms`], or `–` when not observed.
pub fn fmt_opt_ms(ms: Option<f64>) -> String {
    ms.map(fmt_ms).unwrap_or_else(|| NONE.to_string())
}

/// `512 B`, `1.2 KiB`, `3.4 MiB`, `1.25 GiB`.
pub fn fmt_bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / 1048576.0)
    } else {
        format!("{:.2} GiB", n as f64 / 1073741824.0)
    }
}

/// `26.3 KiB decoded` for a response whose content differs from its body as transferred
/// (a content coding was undone), with why it is partial when it is: `1.2 KiB decoded,
/// truncated`.
pub fn fmt_decoded(h: &HttpExchange) -> Option<String> {
    let n = h.body_decoded_bytes?;
    let partial = h.body_decoded_partial.map(|p| match p {
        DecodePartial::Cap => ", cap",
        DecodePartial::Corrupt => ", corrupt",
        DecodePartial::Truncated => ", truncated",
    });
    (n != h.body_bytes || partial.is_some())
        .then(|| format!("{} decoded{}", fmt_bytes(n), partial.unwrap_or_default()))
}

/// An offset in seconds with `decimals` places: `+0.123 s`.
pub fn fmt_offset(ms: f64, decimals: usize) -> String {
    format!("+{:.decimals$} s", ms / 1000.0)
}

/// Offset from the capture's first packet to the microsecond, as the text story shows
/// times: `+0.123456 s`, `–` without either end.
pub fn rel(ts: Option<Ts>, origin: Option<Ts>) -> String {
    match (ts, origin) {
        (Some(t), Some(o)) => fmt_offset(t.ms_since(o), 6),
        _ => NONE.to_string(),
    }
}

/// Offset from the capture's first packet to the millisecond, as the pages and the HTML
/// show times: `+0.123 s`, `–` without either end.
pub fn rel_ms(ts: Option<Ts>, origin: Option<Ts>) -> String {
    match (ts, origin) {
        (Some(t), Some(o)) => fmt_offset(t.ms_since(o), 3),
        _ => NONE.to_string(),
    }
}

/// `1 request`, `2 requests`, `0 requests`.
pub fn plural<N: Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    if n == N::from(1) {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `1 query`, `2 queries`.
pub fn queries(n: usize) -> String {
    match n {
        1 => "1 query".to_string(),
        n => format!("{n} queries"),
    }
}

/// `s` right-aligned in `w` columns.
pub fn pad_left(s: &str, w: usize) -> String {
    format!("{s:>w$}")
}

/// The largest char boundary of `s` at or below `at` (`str::floor_char_boundary` is newer
/// than this crate's MSRV).
pub fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

/// `s` cut to at most `max` bytes (at a char boundary) with `…` after the cut; as it is
/// when it fits.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.len() > max {
        format!("{}…", &s[..floor_char_boundary(s, max)])
    } else {
        s.to_string()
    }
}

/// A "nice" tick step (1, 2, 5 × 10^k ms) giving at most `max_ticks` intervals over `span`.
pub fn tick_step(span_ms: f64, max_ticks: usize) -> f64 {
    let max_ticks = max_ticks.max(1) as f64;
    let raw = (span_ms / max_ticks).max(1e-6);
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// A tick label: as many decimals as the step needs.
pub fn fmt_tick(ms: f64, step: f64) -> String {
    if step >= 1000.0 {
        let decimals = if (step / 1000.0).fract() == 0.0 { 0 } else { 1 };
        format!("{:.*} s", decimals, ms / 1000.0)
    } else {
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10().floor()) as usize
        };
        format!("{ms:.decimals$} ms")
    }
}

/// Milliseconds rounded to the microsecond (HAR figures, diff deltas).
pub fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Unix seconds and milliseconds as ISO 8601 UTC, `2026-11-22T02:49:17.123Z`; `None`
/// outside years 0..=9999.
pub fn iso8601_secs(secs: i64, millis: i64) -> Option<String> {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    ))
}

/// A capture time as ISO 8601 with milliseconds (truncated, so an entry never appears to
/// start after its first packet).
pub fn iso8601(ts: Ts) -> String {
    let secs = ts.nanos().div_euclid(1_000_000_000);
    let millis = ts.nanos().rem_euclid(1_000_000_000) / 1_000_000;
    iso8601_secs(secs, millis).unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_string())
}

/// `s` cut to `width` characters by taking out its middle: its head (two fifths) and its
/// tail (the file name of a URL, the end of a host) around `…`. As it is when it fits.
pub fn shorten_middle(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    if width <= 1 {
        return "…".chars().take(width).collect();
    }
    let keep = width - 1;
    let head = keep * 2 / 5;
    let tail = keep - head;
    let h: String = s.chars().take(head).collect();
    let t: String = s.chars().skip(n - tail).collect();
    format!("{h}…{t}")
}

/// Characters `s` shows on a terminal: its chars less ANSI escape sequences (`ESC [ … m`).
pub fn visible_width(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (false, _) => n += 1,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
        }
    }
    n
}

/// `s` without its ANSI escape sequences.
fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (false, c) => out.push(c),
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
        }
    }
    out
}

/// The SGR sequence in force after `word`, given the one before it: the last sequence it
/// holds, none after a reset (`ESC[0m`).
fn sgr_after(word: &str, before: Option<String>) -> Option<String> {
    let mut active = before;
    let mut rest = word;
    while let Some(i) = rest.find('\x1b') {
        let tail = &rest[i..];
        let end = tail
            .char_indices()
            .find(|&(_, c)| c.is_ascii_alphabetic())
            .map_or(tail.len(), |(j, c)| j + c.len_utf8());
        let seq = &tail[..end];
        active = (seq != "\x1b[0m").then(|| seq.to_string());
        rest = &tail[end..];
    }
    active
}

/// Words that stay with the word before them (`0.277 ms`, `1.7 MiB`).
const UNITS: [&str; 7] = ["ms", "s", "B", "KiB", "MiB", "GiB", "µs"];

/// `text` split into the pieces a line may break between: groups of words separated by
/// two or more spaces (the story's fields; each with the spaces before it), each group a
/// list of words where a unit stays with its number and `at` with its time.
fn break_groups(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut groups = Vec::new();
    let mut rest = text;
    let mut gap = 0;
    while !rest.is_empty() {
        let end = rest.find("  ").unwrap_or(rest.len());
        let words = glue_words(&rest[..end]);
        if !words.is_empty() {
            groups.push((gap, words));
        }
        let after = &rest[end..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        gap = spaces;
        rest = &after[spaces..];
    }
    groups
}

fn glue_words(group: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in group.split(' ').filter(|w| !w.is_empty()) {
        let glue = UNITS.contains(&strip_escapes(w).as_str())
            || words.last().is_some_and(|p| {
                let p = strip_escapes(p);
                p == "at" || p.ends_with(" at")
            });
        match words.last_mut() {
            Some(prev) if glue => {
                prev.push(' ');
                prev.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    words
}

/// A line being filled by [`wrap`].
struct Filling {
    width: usize,
    hang: usize,
    out: Vec<String>,
    cur: String,
    cur_w: usize,
    fresh: bool,
    active: Option<String>,
}

impl Filling {
    fn room(&self, gap: usize) -> usize {
        let gap = if self.fresh { 0 } else { gap };
        self.width.saturating_sub(self.cur_w + gap)
    }

    fn break_line(&mut self) {
        if self.active.is_some() {
            self.cur.push_str("\x1b[0m");
        }
        self.out.push(std::mem::take(&mut self.cur));
        let reopen = self.active.clone().unwrap_or_default();
        self.cur = format!("{}{reopen}", " ".repeat(self.hang));
        self.cur_w = self.hang;
        self.fresh = true;
    }

    /// Appends `piece` after `gap` spaces, cut in the middle when even a fresh line is too
    /// short for it.
    fn push(&mut self, gap: usize, piece: &str) {
        let gap = if self.fresh { 0 } else { gap };
        let room = self.room(gap);
        let w = visible_width(piece);
        let (text, w) = if w > room {
            let cut = shorten_middle(&strip_escapes(piece), room.max(1));
            let n = cut.chars().count();
            (cut, n)
        } else {
            (piece.to_string(), w)
        };
        self.cur.push_str(&" ".repeat(gap));
        self.cur.push_str(&text);
        self.cur_w += gap + w;
        self.active = sgr_after(piece, self.active.take());
        self.fresh = false;
    }
}

/// One line broken into lines of at most `width` characters (escape sequences count
/// nothing): between the story's fields (two spaces) when it can, else between words, a
/// number never parted from its unit. The lines after the first hang at column 12 (under
/// the story's values), or two past a deeper indent. A word longer than a whole line is cut
/// in the middle with `…`; a colour open at a break is closed there and opened again on the
/// next line.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    if visible_width(line) <= width {
        return vec![line.to_string()];
    }
    let body = line.trim_start_matches(' ');
    let lead = line.len() - body.len();
    let mut f = Filling {
        width,
        hang: if lead < 12 { 12 } else { lead + 2 }.min(width / 2),
        out: Vec::new(),
        cur: " ".repeat(lead),
        cur_w: lead,
        fresh: true,
        active: None,
    };
    for (gap, group) in break_groups(body) {
        let joined = group.join(" ");
        let w = visible_width(&joined);
        if !f.fresh && w > f.room(gap) && w <= width - f.hang {
            f.break_line();
        }
        if w <= f.room(gap) {
            f.push(gap, &joined);
            continue;
        }
        // Longer than a line: word by word.
        for (i, word) in group.iter().enumerate() {
            let gap = if i == 0 { gap } else { 1 };
            if !f.fresh && visible_width(word) > f.room(gap) {
                f.break_line();
            }
            f.push(gap, word);
        }
    }
    f.out.push(f.cur);
    f.out
}

/// Writes through to `out`, each line [`wrap`]ped to `width` (as it is without one).
pub struct Wrapped<'a, W: Write + ?Sized> {
    out: &'a mut W,
    width: Option<usize>,
    line: Vec<u8>,
}

impl<'a, W: Write + ?Sized> Wrapped<'a, W> {
    pub fn new(out: &'a mut W, width: Option<u16>) -> Self {
        Wrapped {
            out,
            width: width.map(usize::from),
            line: Vec::new(),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        let text = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        match self.width {
            Some(w) => {
                for l in wrap(&text, w) {
                    writeln!(self.out, "{l}")?;
                }
                Ok(())
            }
            None => writeln!(self.out, "{text}"),
        }
    }
}

impl<W: Write + ?Sized> Write for Wrapped<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..i]);
            self.emit()?;
            rest = &rest[i + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            let text = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            write!(self.out, "{text}")?;
        }
        self.out.flush()
    }
}

impl<W: Write + ?Sized> Drop for Wrapped<'_, W> {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let _ = self.out.write_all(&std::mem::take(&mut self.line));
        }
    }
}

/// A summary table as every renderer draws them: rows on one line each, columns as wide as
/// their content (the caller fitted it, [`Fit`]), styled cells only with `color`.
/// comfy-table never looks at the terminal itself: the caller decided, so output to a pipe
/// or a test buffer is the same anywhere.
pub fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.force_no_tty();
    if color {
        t.enforce_styling();
        t.style_text_only();
    }
    t.set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// A right-aligned cell (numbers).
pub fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

/// How a column of a [`Fit`] gives way when the table is wider than the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Give {
    /// Never (numbers, statuses, short words): a table that cannot fit without cutting one
    /// takes its narrow layout instead.
    No,
    /// Its lines are cut in the middle ([`shorten_middle`]) down to `min` characters;
    /// columns of a lower `rank` give way first, the widest of a rank first.
    Middle { min: usize, rank: u8 },
}

/// A column of a [`Fit`]: its header (lines split by `\n`), alignment and give.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub right: bool,
    pub give: Give,
}

impl Col {
    pub const fn left(header: &'static str) -> Col {
        Col {
            header,
            right: false,
            give: Give::No,
        }
    }
    pub const fn right(header: &'static str) -> Col {
        Col {
            header,
            right: true,
            give: Give::No,
        }
    }
    /// A left-aligned column cut in the middle down to `min` characters.
    pub const fn cut(header: &'static str, min: usize, rank: u8) -> Col {
        Col {
            header,
            right: false,
            give: Give::Middle { min, rank },
        }
    }
}

/// A cell of a [`Fit`]: its lines (split by `\n`) and its colour.
#[derive(Debug, Clone, Default)]
pub struct Text {
    pub text: String,
    pub fg: Option<comfy_table::Color>,
}

impl<S: Into<String>> From<S> for Text {
    fn from(s: S) -> Text {
        Text {
            text: s.into(),
            fg: None,
        }
    }
}

/// A table fitted to a width before comfy-table draws it: columns as wide as their widest
/// line, and, when that is too wide, the columns that may give cut in the middle with `…`
/// (never broken across lines, never mid-word onto the next line).
#[derive(Debug, Clone)]
pub struct Fit {
    cols: Vec<Col>,
    rows: Vec<Vec<Text>>,
}

/// Characters of a line of the table that are not content: `│ ` + ` ┆ ` between + ` │`.
fn frame_width(cols: usize) -> usize {
    3 * cols + 1
}

fn text_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

impl Fit {
    pub fn new(cols: Vec<Col>) -> Fit {
        Fit {
            cols,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Text>) {
        self.rows.push(cells);
    }

    /// Each column's widest line, its header's included.
    fn natural(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.cols.iter().map(|c| text_width(c.header)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(w.len()) {
                w[i] = w[i].max(text_width(&cell.text));
            }
        }
        w
    }

    /// The width of each column for a table at most `width` characters wide (`None`: no
    /// limit); `None` when it cannot fit with every column at its minimum.
    pub fn widths(&self, width: Option<u16>) -> Option<Vec<usize>> {
        let mut w = self.natural();
        let Some(limit) = width.map(usize::from) else {
            return Some(w);
        };
        let total = w.iter().sum::<usize>() + frame_width(w.len());
        let mut excess = total.saturating_sub(limit);
        let mut ranks: Vec<u8> = self
            .cols
            .iter()
            .filter_map(|c| match c.give {
                Give::Middle { rank, .. } => Some(rank),
                Give::No => None,
            })
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        for rank in ranks {
            while excess > 0 {
                // The widest column of this rank that can still give.
                let widest = self
                    .cols
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| match c.give {
                        Give::Middle { min, rank: r }
                            if r == rank && w[i] > min.max(text_width(c.header)) =>
                        {
                            Some(i)
                        }
                        _ => None,
                    })
                    .max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
                let Some(i) = widest else { break };
                w[i] -= 1;
                excess -= 1;
            }
        }
        (excess == 0).then_some(w)
    }

    /// Whether the table fits in `width` (always without one).
    pub fn fits(&self, width: Option<u16>) -> bool {
        self.widths(width).is_some()
    }

    /// The comfy-table of this table at `width` (as narrow as its minimums allow when it
    /// cannot fit).
    pub fn table(self, width: Option<u16>, color: bool) -> Table {
        let widths = self.widths(width).unwrap_or_else(|| self.minimums());
        let mut t = new_table(color);
        t.set_header(self.cols.iter().map(|c| Cell::new(c.header)));
        for row in self.rows {
            let cells = row
                .into_iter()
                .zip(&self.cols)
                .zip(&widths)
                .map(|((cell, col), &w)| {
                    let text = cell
                        .text
                        .lines()
                        .map(|l| shorten_middle(l, w))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let mut c = Cell::new(text);
                    if col.right {
                        c = c.set_alignment(CellAlignment::Right);
                    }
                    match cell.fg {
                        Some(fg) => c.fg(fg),
                        None => c,
                    }
                });
            t.add_row(cells);
        }
        t
    }

    /// Writes the table at `width` and a newline. A table longer than [`CHUNK_ROWS`] is drawn
    /// that many rows at a time, each cell padded to its column's width so that every part
    /// has the whole table's columns, and joined without the parts' own header and borders:
    /// the same text as [`Fit::table`] draws (without colour, byte for byte), while
    /// comfy-table's copy of it (several times the rows' size) stays small.
    pub fn write<W: Write + ?Sized>(
        self,
        out: &mut W,
        width: Option<u16>,
        color: bool,
    ) -> io::Result<()> {
        if self.rows.len() <= CHUNK_ROWS {
            return writeln!(out, "{}", self.table(width, color));
        }
        let widths = self.widths(width).unwrap_or_else(|| self.minimums());
        let head_lines = self
            .cols
            .iter()
            .map(|c| c.header.lines().count().max(1))
            .max()
            .unwrap_or(1);
        let Fit { cols, rows } = self;
        let parts = rows.len().div_ceil(CHUNK_ROWS);
        let mut rows = rows.into_iter();
        for k in 0..parts {
            let chunk = rows
                .by_ref()
                .take(CHUNK_ROWS)
                .map(|row| {
                    row.into_iter()
                        .zip(&cols)
                        .zip(&widths)
                        .map(|((cell, col), &w)| Text {
                            text: cell
                                .text
                                .lines()
                                .map(|l| {
                                    let l = shorten_middle(l, w);
                                    if col.right {
                                        format!("{l:>w$}")
                                    } else {
                                        format!("{l:<w$}")
                                    }
                                })
                                .collect::<Vec<_>>()
                                .join("\n"),
                            fg: cell.fg,
                        })
                        .collect()
                })
                .collect();
            let part = Fit {
                cols: cols.clone(),
                rows: chunk,
            }
            .table(width, color)
            .to_string();
            let lines: Vec<&str> = part.lines().collect();
            // The top border, the header and the line under it; the bottom border.
            let from = if k == 0 { 0 } else { head_lines + 2 };
            let to = if k + 1 == parts {
                lines.len()
            } else {
                lines.len().saturating_sub(1)
            };
            for l in lines.get(from..to).unwrap_or_default() {
                writeln!(out, "{l}")?;
            }
        }
        Ok(())
    }

    /// Every column that may give at its minimum (or its content, when narrower).
    fn minimums(&self) -> Vec<usize> {
        self.natural()
            .into_iter()
            .zip(&self.cols)
            .map(|(w, c)| match c.give {
                Give::Middle { min, .. } => w.min(min.max(text_width(c.header))),
                Give::No => w,
            })
            .collect()
    }
}

/// The first of `layouts` (widest first) that fits `width`, else the last one as narrow as
/// it goes. Without a width, the first.
pub fn fit_first(layouts: Vec<Fit>, width: Option<u16>, color: bool) -> Table {
    match choose(layouts, width) {
        Some(f) => f.table(width, color),
        None => new_table(color),
    }
}

/// [`fit_first`], written to `out` with a newline; a long table is drawn a few thousand rows
/// at a time ([`Fit::write`]).
pub fn write_first_fit<W: Write + ?Sized>(
    out: &mut W,
    layouts: Vec<Fit>,
    width: Option<u16>,
    color: bool,
) -> io::Result<()> {
    match choose(layouts, width) {
        Some(f) => f.write(out, width, color),
        None => writeln!(out, "{}", new_table(color)),
    }
}

fn choose(layouts: Vec<Fit>, width: Option<u16>) -> Option<Fit> {
    let n = layouts.len();
    layouts
        .into_iter()
        .enumerate()
        .find(|(i, f)| i + 1 == n || f.fits(width))
        .map(|(_, f)| f)
}

/// Rows comfy-table draws at once when [`Fit::write`] draws a long table.
const CHUNK_ROWS: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    /// A long table drawn in parts reads exactly as drawn whole, also cut to a width and
    /// with rows of two lines.
    #[test]
    fn a_long_table_in_parts_is_the_table_whole() {
        let layout = || {
            let mut f = Fit::new(vec![
                Col::right("n"),
                Col::cut("url", 10, 1),
                Col::left("two\nlines"),
            ]);
            for i in 0..(2 * CHUNK_ROWS + 17) {
                let url = format!("https://example.test/{}", "x".repeat(i % 37));
                f.row(vec![
                    i.to_string().into(),
                    url.into(),
                    format!("a{i}\nb").into(),
                ]);
            }
            f
        };
        for width in [None, Some(40)] {
            let whole = format!("{}\n", layout().table(width, false));
            let mut parts = Vec::new();
            layout().write(&mut parts, width, false).unwrap();
            assert!(whole == String::from_utf8(parts).unwrap(), "{width:?}");
        }
    }

    #[test]
    fn durations_sizes_and_offsets() {
        assert_eq!(fmt_ms(1.2345), "1.234 ms");
        assert_eq!(fmt_ms(12.34), "12.3 ms");
        assert_eq!(fmt_ms(1234.5), "1.234 s");
        assert_eq!(fmt_opt_ms(None), "–");
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(1536), "1.5 KiB");
        assert_eq!(fmt_bytes(3 << 20), "3.0 MiB");
        let o = Ts::from_nanos(1_000_000_000);
        let t = Ts::from_nanos(1_123_456_789);
        assert_eq!(rel(Some(t), Some(o)), "+0.123457 s");
        assert_eq!(rel_ms(Some(t), Some(o)), "+0.123 s");
        assert_eq!(rel(None, Some(o)), "–");
    }

    #[test]
    fn plurals_and_padding() {
        assert_eq!(plural(1usize, "request"), "1 request");
        assert_eq!(plural(0usize, "request"), "0 requests");
        assert_eq!(plural(2u64, "day"), "2 days");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(ellipsize("abcdef", 3), "abc…");
        assert_eq!(ellipsize("é", 1), "…");
        assert_eq!(ellipsize("abc", 3), "abc");
    }

    #[test]
    fn paint_only_with_colour() {
        assert_eq!(Paint(false).red("x"), "x");
        assert_eq!(Paint(true).red("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(Paint(true).sgr("2", ""), "");
        assert_eq!(Paint(false).status(Some(404)), "404");
        assert_eq!(Paint(false).status(None), "no response");
    }

    #[test]
    fn wrapping_keeps_fields_units_and_colour() {
        let line = "  TLS     TLS 1.3, TLS_AES_256_GCM_SHA384, SNI www.example.test  handshake 3.396 ms  at +0.144540 s";
        let lines = wrap(line, 64);
        assert_eq!(
            lines,
            [
                "  TLS     TLS 1.3, TLS_AES_256_GCM_SHA384, SNI www.example.test",
                "            handshake 3.396 ms  at +0.144540 s",
            ]
        );
        // A number never leaves its unit, even word by word.
        for l in wrap(
            "  Time    DNS 0.153 ms + connect 0.042 ms + TTFB 0.124 ms",
            30,
        ) {
            assert!(l.chars().count() <= 30, "{l}");
            assert!(!l.trim_start().starts_with("ms"), "{l}");
        }
        // A word longer than a line is cut in the middle.
        let long = format!("  HTTP/1  GET https://example.test/{}", "a".repeat(80));
        assert!(wrap(&long, 40).iter().all(|l| l.chars().count() <= 40));
        assert!(wrap(&long, 40).concat().contains('…'));
        // Colour open at a break is closed and reopened.
        let red = Paint(true).red("one two three four five six");
        let w = wrap(&format!("  x {red}"), 16);
        assert!(w.len() > 1);
        assert!(
            w[0].ends_with("\x1b[0m") && w[1].contains("\x1b[31m"),
            "{w:?}"
        );
        assert!(w.iter().all(|l| visible_width(l) <= 16));
        assert_eq!(wrap("short", 80), ["short"]);
    }

    #[test]
    fn fitted_tables_cut_the_widest_column_first() {
        let mut f = Fit::new(vec![
            Col::right("n"),
            Col::cut("url", 10, 1),
            Col::left("status"),
        ]);
        f.row(vec![
            "1".into(),
            "https://www.example.test/a/very/long/path/file.js".into(),
            "200".into(),
        ]);
        assert!(f.fits(None) && f.fits(Some(200)));
        let w = f.widths(Some(40)).unwrap();
        assert_eq!(w.iter().sum::<usize>() + 3 * 3 + 1, 40);
        assert!(!f.fits(Some(20)), "url's minimum is 10");
        let text = f.clone().table(Some(40), false).to_string();
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains("https://…g/path/file.js"), "{text}");
        // The narrow layout is taken when the wide one cannot fit.
        let mut narrow = Fit::new(vec![Col::cut("url\nstatus", 5, 1)]);
        narrow.row(vec!["https://x.test/\n200".into()]);
        let t = fit_first(vec![f, narrow], Some(20), false).to_string();
        assert!(t.contains("status"), "{t}");
        assert_eq!(shorten_middle("abcdefghij", 5), "a…hij");
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(Ts::from_nanos(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_secs(951_782_400, 5).unwrap(),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(iso8601_secs(-62_167_219_201, 0), None);
    }
}
