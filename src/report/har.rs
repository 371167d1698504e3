//! `--format har`. STUB: replaced by the HAR work.
use std::io::{self, Write};

use crate::pageload::model::Report;

pub fn write_har<W: Write>(_out: &mut W, _r: &Report) -> io::Result<()> {
    Err(io::Error::other("HAR output is not implemented yet"))
}
