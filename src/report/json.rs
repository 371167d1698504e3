//! `--format json`: exactly one JSON document (REPORT.md schema 1), and `jsonl` lines.

use std::io::{self, Write};

use serde::Serialize;

use crate::pageload::model::Report;

/// Writes the whole report as one pretty-printed JSON document and a newline.
pub fn write_report<W: Write>(out: &mut W, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Writes one object on one line (for `jsonl` streaming) and flushes.
pub fn write_line<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}
