//! The small helpers every renderer and the diff share: numbers, sizes, durations, capture
//! offsets, dates, plurals, padding, ANSI colour and the summary-table frame.
//!
//! # Contract
//! - Pure functions of their arguments: no terminal is looked at (the caller decides colour
//!   and width), no clock is read.
//! - One spelling per quantity across the outputs: a duration is [`fmt_ms`] in the story,
//!   the tables, the waterfall, the HTML page and the diff; a size is [`fmt_bytes`]; a value
//!   not observed is `–`.
//! - This module imports nothing from the other renderers (ripgrep's `printer/src/util.rs`
//!   idea): every file of `report/` and `diff/` may import it, it imports none of them.

use std::fmt::Display;

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

/// A summary table as every renderer draws them: fitted to `width` when given (else as wide
/// as it needs), styled cells only with `color`. comfy-table never looks at the terminal
/// itself: the caller decided, so output to a pipe or a test buffer is the same anywhere.
pub fn new_table(width: Option<u16>, color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.force_no_tty();
    if color {
        t.enforce_styling();
        t.style_text_only();
    }
    match width {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// A right-aligned cell (numbers).
pub fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn dates() {
        assert_eq!(iso8601(Ts::from_nanos(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_secs(951_782_400, 5).unwrap(),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(iso8601_secs(-62_167_219_201, 0), None);
    }
}
