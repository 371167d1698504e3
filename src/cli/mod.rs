//! Command line: clap's raw arguments become library configuration here (two phases:
//! `args` → the `analyze`/`live`/`diff` runners), and only here are exit codes decided:
//! 0 the report was produced, 2 bad usage or an input that cannot be opened. A closed
//! standard output (`pagetrace … | head`) is success, not an error.
//!
//! Standard error carries, besides the one line of an error, the diagnostics of a run
//! ([`diagnose`]: damage, keys that did not match, a stale `SSLKEYLOGFILE`), one line per
//! kind, whatever the format and `-o`; `--quiet` silences them (and the progress bar).

mod analyze;
mod args;
mod diagnose;
mod diff;
mod input;
mod live;
mod records;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use pagetrace::pageload::filter::Filter;

pub use args::Cli;
use args::{ColorWhen, CompletionsArgs, ManArgs};

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
        args::Command::Completions(a) => completions(&a),
        args::Command::Man(a) => man(&a),
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
            CliError::Io(e) => write!(f, "{}", reason(e)),
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> CliError {
        CliError::Io(e)
    }
}

/// An I/O error in words, without Rust's ` (os error N)`: `No such file or directory`.
pub fn reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// `--filter EXPR` parsed, or the usage error with its caret line.
pub fn parse_filter(text: Option<&str>) -> Result<Option<Filter>, CliError> {
    text.map(Filter::parse)
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Where a report goes: standard output, or the file of `-o`. Errors writing it name it
/// ("cannot write /dev/full: No space left on device"); a closed standard output stays a
/// broken pipe, which is success.
pub struct Output {
    out: Box<dyn Write>,
    name: Option<PathBuf>,
}

impl Output {
    pub fn open(path: Option<&Path>) -> Result<Output, CliError> {
        let out: Box<dyn Write> = match path {
            Some(p) => Box::new(io::BufWriter::new(std::fs::File::create(p).map_err(
                |e| CliError::Usage(format!("cannot write {}: {}", p.display(), reason(&e))),
            )?)),
            None => Box::new(io::BufWriter::new(io::stdout().lock())),
        };
        Ok(Output {
            out,
            name: path.map(Path::to_path_buf),
        })
    }

    /// Writes with `f`, flushes, and names the destination in an error.
    pub fn write_with(
        &mut self,
        f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let result = f(&mut self.out).and_then(|()| self.out.flush());
        result.map_err(|e| match &self.name {
            Some(p) => CliError::Usage(format!("cannot write {}: {}", p.display(), reason(&e))),
            None if e.kind() == io::ErrorKind::BrokenPipe => CliError::Io(e),
            None => CliError::Usage(format!("cannot write to standard output: {}", reason(&e))),
        })
    }
}

/// Lines for standard error besides errors: diagnostics and warnings, unless `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Say {
    pub quiet: bool,
}

impl Say {
    pub fn line(self, s: &str) {
        if !self.quiet {
            eprintln!("pagetrace: {s}");
        }
    }
}

/// The width to fit tables to, as `ls` and `git` decide it: `$COLUMNS` when set to a
/// number (also in a pipe or with `-o`), else the terminal's width when the output is one,
/// else `None`: no limit, each table row on one line (the waterfall, which needs a width,
/// takes 120).
pub fn output_width(to_terminal: bool) -> Option<u16> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0);
    columns.or_else(|| {
        if to_terminal {
            comfy_table::Table::new().width().or(Some(120))
        } else {
            None
        }
    })
}

/// Whether to colour. `--color always|never` (and `--no-color`) decide; `auto` colours a
/// terminal, unless NO_COLOR is set and not empty (no-color.org) or CLICOLOR is `0`, and
/// colours anything when CLICOLOR_FORCE is set and not `0` (bixense.com/clicolors).
pub fn use_color(to_terminal: bool, when: ColorWhen, no_color_flag: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match (no_color_flag, when) {
        (true, _) | (false, ColorWhen::Never) => false,
        (false, ColorWhen::Always) => true,
        (false, ColorWhen::Auto) => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let clicolor_off = std::env::var_os("CLICOLOR").is_some_and(|v| v == "0");
            !no_color && (set("CLICOLOR_FORCE") || (to_terminal && !clicolor_off))
        }
    }
}

/// `pagetrace completions SHELL`: the script clap_complete writes from the definitions.
fn completions(a: &CompletionsArgs) -> Result<(), CliError> {
    let mut cmd = Cli::command();
    let mut out = Output::open(None)?;
    out.write_with(|w| {
        clap_complete::generate(a.shell, &mut cmd, "pagetrace", w);
        Ok(())
    })
}

/// `pagetrace man [COMMAND]`: a roff page from the definitions (clap_mangen); `--out-dir`
/// writes one per command.
fn man(a: &ManArgs) -> Result<(), CliError> {
    let cmd = Cli::command();
    if let Some(dir) = &a.out_dir {
        return clap_mangen::generate_to(cmd, dir).map_err(|e| {
            CliError::Usage(format!("cannot write {}: {}", dir.display(), reason(&e)))
        });
    }
    let page = match &a.command {
        None => cmd,
        Some(name) => {
            let title = match name.as_str() {
                "analyze" => "pagetrace-analyze",
                "diff" => "pagetrace-diff",
                "live" => "pagetrace-live",
                _ => {
                    return Err(CliError::Usage(format!(
                        "no page for `{name}`: pagetrace man analyze, diff or live"
                    )))
                }
            };
            match cmd.find_subcommand(name) {
                Some(sub) => sub.clone().name(title),
                None => return Err(CliError::Usage(format!("no command `{name}`"))),
            }
        }
    };
    let mut out = Output::open(None)?;
    out.write_with(|w| clap_mangen::Man::new(page).render(w))
}
