//! Command line: clap's raw arguments become library configuration here (two phases:
//! `args` → the `analyze`/`live`/`diff` runners), and only here are exit codes decided:
//! 0 the report was produced, 2 bad usage or an input that cannot be opened. A closed
//! standard output (`pagetrace … | head`) is success, not an error.

mod analyze;
mod args;
mod diff;
mod live;
mod records;

use std::io::{self, Write};

use clap::Parser;
use pagetrace::pageload::filter::Filter;

pub use args::Cli;

/// Exit status for bad usage or unreadable input (REPORT.md).
pub const EXIT_USAGE: i32 = 2;

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        args::Command::Analyze(a) => analyze::run(a),
        args::Command::Live(a) => live::run(a),
        args::Command::Diff(a) => diff::run(a),
        args::Command::Schema => schema(),
    };
    match result {
        Ok(()) => 0,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("pagetrace: {e}");
            EXIT_USAGE
        }
    }
}

/// `pagetrace schema`: the report's JSON Schema, pretty, and a newline.
fn schema() -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &pagetrace::pageload::model::json_schema())
        .map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Debug)]
pub enum CliError {
    /// Bad usage or input that cannot be used: one line, exit 2.
    Usage(String),
    Io(io::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> CliError {
        CliError::Io(e)
    }
}

/// `--filter EXPR` parsed, or the usage error with its caret line.
pub fn parse_filter(text: Option<&str>) -> Result<Option<Filter>, CliError> {
    text.map(Filter::parse)
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// The width to fit a terminal's output to: `$COLUMNS` when set (as `ls` does), else the
/// terminal's own size (crossterm, through comfy-table), else 120.
pub fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| comfy_table::Table::new().width())
        .or(Some(120))
}

/// Whether to colour: only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`
/// (no-color.org).
pub fn use_color(to_terminal: bool, no_color_flag: bool) -> bool {
    to_terminal && !no_color_flag && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
