//! `--format waterfall`. STUB: replaced by the HAR/waterfall work.
use std::io::{self, Write};

use crate::pageload::model::Report;

#[derive(Debug, Clone, Copy)]
pub struct WaterfallOptions {
    pub color: bool,
    pub width: u16,
}

pub fn write_waterfall<W: Write>(
    _out: &mut W,
    _r: &Report,
    _o: &WaterfallOptions,
) -> io::Result<()> {
    Err(io::Error::other("waterfall output is not implemented yet"))
}
