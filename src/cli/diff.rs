//! `pagetrace diff A B`: compare two page loads, each a capture or a saved JSON report.
//!
//! An input is a JSON report when its first non-space byte is `{` (what
//! `pagetrace analyze --format json` writes); otherwise it is read as a capture, pcap or
//! pcapng found by content. `-` reads one of them from standard input.

use std::fs::File;
use std::io::{self, BufWriter, Cursor, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use pagetrace::capture::CaptureReader;
use pagetrace::diff::{self, DiffOptions, DiffTableOptions, SortBy};
use pagetrace::pageload::model::{Report, SCHEMA};
use pagetrace::pipeline::{self, AnalyzerConfig};

use super::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Summary, matched requests and per-origin changes as tables.
    Table,
    /// One JSON document: {"summary", "requests", "only_a", "only_b", "origins"}.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffSort {
    /// A's request order.
    Order,
    /// Largest change (TTFB or total time) first.
    Delta,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The first page load: a capture (pcap, pcapng), a JSON report, or `-` for standard input.
    pub a: String,
    /// The second page load, compared against the first (deltas are B − A).
    pub b: String,
    /// NSS key log for A's TLS sessions (a capture; ignored for a JSON report); defaults to
    /// $SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog_a: Option<PathBuf>,
    /// NSS key log for B's TLS sessions (a capture; ignored for a JSON report); defaults to
    /// $SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog_b: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,
    /// Timing changes at or below MS (either way) are noise: not coloured, not listed as changes.
    #[arg(long, value_name = "MS", default_value_t = 5.0)]
    pub threshold: f64,
    /// Order of the matched requests.
    #[arg(long, value_enum, default_value = "order")]
    pub sort: DiffSort,
    /// Never colour the output (NO_COLOR in the environment does the same).
    #[arg(long)]
    pub no_color: bool,
    /// Compare only what EXPR keeps of each side (`analyze --filter`'s language).
    #[arg(short = 'Y', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
}

pub fn run(a: DiffArgs) -> Result<(), CliError> {
    if !a.threshold.is_finite() || a.threshold < 0.0 {
        return Err(CliError::Usage(format!(
            "--threshold must be a number of milliseconds ≥ 0, not {}",
            a.threshold
        )));
    }
    if a.a == "-" && a.b == "-" {
        return Err(CliError::Usage(
            "only one of A and B can be read from standard input".into(),
        ));
    }
    let env_keylog = std::env::var_os("SSLKEYLOGFILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let ka = a.keylog_a.clone().or_else(|| env_keylog.clone());
    let kb = a.keylog_b.clone().or(env_keylog);
    let filter = super::parse_filter(a.filter.as_deref())?;
    let mut ra = load(&a.a, ka.as_deref())?;
    let mut rb = load(&a.b, kb.as_deref())?;
    if let Some(f) = &filter {
        ra = f.apply(ra);
        rb = f.apply(rb);
    }

    let opts = DiffOptions {
        threshold_ms: a.threshold,
        sort: match a.sort {
            DiffSort::Order => SortBy::Order,
            DiffSort::Delta => SortBy::Delta,
        },
    };
    let d = diff::diff(&ra, &rb, &opts);

    let to_terminal = io::stdout().is_terminal();
    let mut out = BufWriter::new(io::stdout().lock());
    match a.format {
        DiffFormat::Json => diff::write_json(&mut out, &d)?,
        DiffFormat::Table => {
            let color = super::use_color(to_terminal, a.no_color);
            let width = if to_terminal {
                super::terminal_width()
            } else {
                None
            };
            let topts = DiffTableOptions {
                color,
                width,
                a_label: a.a.clone(),
                b_label: a.b.clone(),
            };
            diff::write_table(&mut out, &d, &topts)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Reads one input: a JSON report or a capture (analysed here, with the key log if any).
fn load(path: &str, keylog: Option<&Path>) -> Result<Report, CliError> {
    let mut input: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| CliError::Usage(format!("cannot open {path}: {e}")))?)
    };
    // Peek far enough to see past leading white space.
    let mut head = Vec::with_capacity(4096);
    (&mut input)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let input: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(input));
    if first == Some(b'{') {
        return load_json(path, input);
    }

    let reader = CaptureReader::new(input).map_err(|e| CliError::Usage(format!("{path}: {e}")))?;
    // The key log goes to the analyzer the same way `analyze --keylog` and pcapng
    // Decryption Secrets Blocks do.
    let text =
        match keylog {
            Some(k) => Some(std::fs::read(k).map_err(|e| {
                CliError::Usage(format!("cannot read key log {}: {e}", k.display()))
            })?),
            None => None,
        };
    let text = text.as_deref().map(String::from_utf8_lossy);
    Ok(pipeline::analyze(
        reader,
        path,
        AnalyzerConfig::default(),
        text.as_deref(),
    ))
}

fn load_json(path: &str, input: Box<dyn Read + Send>) -> Result<Report, CliError> {
    let report: Report = serde_json::from_reader(io::BufReader::new(input)).map_err(|e| {
        CliError::Usage(format!(
            "{path}: not a pagetrace JSON report (pagetrace analyze --format json): {e}"
        ))
    })?;
    if report.schema != SCHEMA {
        return Err(CliError::Usage(format!(
            "{path}: JSON report schema {} is not supported (this pagetrace reads schema {SCHEMA})",
            report.schema
        )));
    }
    Ok(report)
}
