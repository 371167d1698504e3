//! `--format json`: exactly one JSON document (REPORT.md schema 1). The `jsonl` lines of
//! `pagetrace live` are written by `report::live`.

use std::io::{self, Write};

use crate::pageload::model::Report;

/// Writes the whole report as one pretty-printed JSON document and a newline.
pub fn write_report<W: Write>(out: &mut W, report: &Report) -> io::Result<()> {
    write_pretty(out, report)
}

/// One value as a pretty-printed JSON document and a newline. Through a buffer of its own:
/// the serializer's many small writes would each reach `out` (often a `dyn Write`), and
/// cost more than the JSON.
pub fn write_pretty<W: Write + ?Sized, T: serde::Serialize>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(64 << 10, out);
    serde_json::to_writer_pretty(&mut w, value).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}
