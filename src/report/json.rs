//! `--format json`: exactly one JSON document (REPORT.md schema 1). The `jsonl` lines of
//! `pagetrace live` are written by `report::live`.

use std::io::{self, Write};

use crate::pageload::model::Report;

/// Writes the whole report as one pretty-printed JSON document and a newline.
pub fn write_report<W: Write>(out: &mut W, report: &Report) -> io::Result<()> {
    write_pretty(out, report)
}

/// One value as a pretty-printed JSON document and a newline, as serde_json writes it
/// ([`super::fastjson`]), written out 64 KiB at a time.
pub fn write_pretty<W: Write + ?Sized, T: serde::Serialize>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    super::fastjson::write_pretty(&mut &mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}
