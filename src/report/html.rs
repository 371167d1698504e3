//! `--format html`. STUB: replaced by the HAR/waterfall work.
use std::io::{self, Write};

use crate::pageload::model::Report;

pub fn write_html<W: Write>(_out: &mut W, _r: &Report) -> io::Result<()> {
    Err(io::Error::other("HTML output is not implemented yet"))
}
