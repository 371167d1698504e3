//! `--format json`: exactly one JSON document (REPORT.md schema 1). The `jsonl` lines of
//! `pagetrace live` are written by `report::live`.

use std::io::{self, Write};

use crate::pageload::model::Report;

/// Writes the whole report as one pretty-printed JSON document and a newline.
pub fn write_report<W: Write>(out: &mut W, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
