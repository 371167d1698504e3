//! `pagetrace diff A B`: compare two page loads, each a capture or a saved JSON report; or
//! two sets of them (`diff before/ after/`), each side's runs summarised and the changes
//! tested against the run-to-run noise ([`pagetrace::diff::runs`]).
//!
//! A side is a file, a directory (its captures, `*.pcap`, `*.pcapng`, `*.cap`, maybe
//! `.gz` or `.zst`, and its JSON reports, in name order; other JSON files are skipped with
//! a note) or a comma-separated list of them. When either side holds more than one page
//! load, the runs are compared.
//!
//! An input is a JSON report when its first non-space byte is `{` (what
//! `pagetrace analyze --format json` writes); otherwise it is read as a capture, pcap or
//! pcapng (gzip- or zstd-compressed or not) found by content. `-` reads one of them from
//! standard input. After the tables, each side's diagnostics on standard error, prefixed
//! `A:` and `B:`.

use std::io::{self, Cursor, IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use pagetrace::diff::{self, runs, DiffOptions, DiffTableOptions, SortBy};
use pagetrace::pageload::filter::Filter;
use pagetrace::pageload::model::{Report, SCHEMA};
use pagetrace::pipeline::AnalyzerConfig;

use super::args::ColorWhen;
use super::input::{self, KeyFile, Loaded};
use super::{diagnose, CliError, Output, Say};

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
    /// The first page load: a capture (pcap, pcapng), a JSON report, or `-` for standard
    /// input; or several: a directory of them, or a comma-separated list.
    pub a: String,
    /// The second page load (or loads), compared against the first (deltas are B − A).
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
    /// Never colour the output: the same as `--color never`.
    #[arg(long)]
    pub no_color: bool,
    /// Colour: `auto` on a terminal unless NO_COLOR is set (CLICOLOR_FORCE forces it, also
    /// in a pipe), `always`, or `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
    /// No diagnostics on standard error (damage, keys that did not match, for A and B; no
    /// progress bar); errors are still said.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Compare only what EXPR keeps of each side (`analyze --filter`'s language).
    #[arg(short = 'Y', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Several loads a side: the level a change's q-value (its rank test's p, adjusted
    /// for the many tests by Benjamini–Hochberg) must be below to be significant.
    #[arg(long, value_name = "P", default_value_t = 0.05)]
    pub alpha: f64,
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
    let say = Say { quiet: a.quiet };
    // $SSLKEYLOGFILE serves both sides: read (or warned about) once.
    let env = match (&a.keylog_a, &a.keylog_b) {
        (Some(_), Some(_)) => None,
        _ => input::read_keylog(None, "", say)?,
    };
    let ka = match &a.keylog_a {
        Some(p) => input::read_keylog(Some(p), "--keylog-a", say)?,
        None => env.clone(),
    };
    let kb = match &a.keylog_b {
        Some(p) => input::read_keylog(Some(p), "--keylog-b", say)?,
        None => env,
    };
    let filter = super::parse_filter(a.filter.as_deref())?;
    let (inputs_a, inputs_b) = (side_inputs(&a.a)?, side_inputs(&a.b)?);
    if inputs_a.len() > 1 || inputs_b.len() > 1 {
        if !(a.alpha > 0.0 && a.alpha < 1.0) {
            return Err(CliError::Usage(format!(
                "--alpha must be between 0 and 1, not {}",
                a.alpha
            )));
        }
        let hint_a = "--keylog-a FILE, or SSLKEYLOGFILE";
        let hint_b = "--keylog-b FILE, or SSLKEYLOGFILE";
        let ra = load_runs("A", &inputs_a, ka.as_ref(), hint_a, filter.as_ref(), say)?;
        let rb = load_runs("B", &inputs_b, kb.as_ref(), hint_b, filter.as_ref(), say)?;
        let opts = runs::RunsOptions {
            threshold_ms: a.threshold,
            alpha: a.alpha,
        };
        let d = runs::compare_runs(&ra, &rb, &opts);
        let to_terminal = io::stdout().is_terminal();
        let mut out = Output::open(None)?;
        return out.write_with(|mut w| match a.format {
            DiffFormat::Json => pagetrace::report::json::write_pretty(&mut w, &d),
            DiffFormat::Table => {
                let topts = runs::RunsTableOptions {
                    color: super::use_color(to_terminal, a.color, a.no_color),
                    width: super::output_width(to_terminal),
                    a_label: a.a.clone(),
                    b_label: a.b.clone(),
                };
                runs::write_runs_table(&mut w, &d, &topts)
            }
        });
    }
    let mut la = load(
        &inputs_a[0].0,
        ka.as_ref(),
        "--keylog-a FILE, or SSLKEYLOGFILE",
        say,
    )?;
    let mut lb = load(
        &inputs_b[0].0,
        kb.as_ref(),
        "--keylog-b FILE, or SSLKEYLOGFILE",
        say,
    )?;
    if let Some(f) = &filter {
        la.report = f.apply(la.report.clone());
        lb.report = f.apply(lb.report.clone());
    }

    let opts = DiffOptions {
        threshold_ms: a.threshold,
        sort: match a.sort {
            DiffSort::Order => SortBy::Order,
            DiffSort::Delta => SortBy::Delta,
        },
    };
    let d = diff::diff(&la.report, &lb.report, &opts);

    let to_terminal = io::stdout().is_terminal();
    let mut out = Output::open(None)?;
    let written = out.write_with(|mut w| match a.format {
        DiffFormat::Json => diff::write_json(&mut w, &d),
        DiffFormat::Table => {
            let topts = DiffTableOptions {
                color: super::use_color(to_terminal, a.color, a.no_color),
                width: super::output_width(to_terminal),
                a_label: a.a.clone(),
                b_label: a.b.clone(),
            };
            diff::write_table(&mut w, &d, &topts)
        }
    });
    if !matches!(written, Err(CliError::Usage(_))) {
        for (side, l) in [("A", &la), ("B", &lb)] {
            for line in diagnose::lines(&l.report, l.keys.as_ref()) {
                say.line(&format!("{side}: {line}"));
            }
        }
    }
    written
}

/// The inputs a side names (see the module doc), each with whether it came from a
/// directory scan (a JSON file there that is not a report is skipped).
fn side_inputs(arg: &str) -> Result<Vec<(String, bool)>, CliError> {
    if arg == "-" {
        return Ok(vec![(arg.to_string(), false)]);
    }
    let parts: Vec<&str> = if Path::new(arg).exists() {
        vec![arg]
    } else {
        arg.split(',').filter(|p| !p.is_empty()).collect()
    };
    let mut out = Vec::new();
    for part in parts {
        let path = Path::new(part);
        if !path.is_dir() {
            out.push((part.to_string(), false));
            continue;
        }
        let files = input::dir_files(part, true)?;
        out.extend(files.into_iter().map(|f| (f, true)));
    }
    if out.is_empty() {
        return Err(CliError::Usage(format!("{arg}: no input")));
    }
    Ok(out)
}

/// Every page load of one side, filtered, with each one's diagnostics on standard error
/// (`A: path: ...`).
fn load_runs(
    side: &str,
    inputs: &[(String, bool)],
    keylog: Option<&KeyFile>,
    hint: &'static str,
    filter: Option<&Filter>,
    say: Say,
) -> Result<Vec<Report>, CliError> {
    let mut out = Vec::new();
    for (path, scanned) in inputs {
        let l = match load(path, keylog, hint, say) {
            Ok(l) => l,
            Err(CliError::Usage(m)) if *scanned && path.to_ascii_lowercase().ends_with(".json") => {
                let _ = m;
                say.line(&format!(
                    "{side}: skipped {path}: not a pagetrace JSON report"
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        for line in diagnose::lines(&l.report, l.keys.as_ref()) {
            say.line(&format!("{side}: {path}: {line}"));
        }
        out.push(match filter {
            Some(f) => f.apply(l.report),
            None => l.report,
        });
    }
    if out.is_empty() {
        return Err(CliError::Usage(format!("{side}: no page load to compare")));
    }
    Ok(out)
}

/// Reads one input: a JSON report or a capture (analysed here, with the key log if any).
fn load(
    path: &str,
    keylog: Option<&KeyFile>,
    hint: &'static str,
    say: Say,
) -> Result<Loaded, CliError> {
    let (mut file, size) = input::open(path)?;
    // Peek far enough to see past leading white space.
    let mut head = Vec::with_capacity(4096);
    (&mut file)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| CliError::Usage(format!("cannot read {path}: {}", super::reason(&e))))?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let rest: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(file));
    if first == Some(b'{') {
        return Ok(Loaded {
            report: load_json(path, rest)?,
            keys: None,
        });
    }
    // The key log goes to the analyzer the same way `analyze --keylog` and pcapng
    // Decryption Secrets Blocks do.
    input::analyze(
        input::Source {
            input: rest,
            size,
            read_ahead: false,
        },
        path,
        AnalyzerConfig::default(),
        keylog,
        hint,
        say,
    )
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
