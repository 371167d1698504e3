//! What `analyze` and `diff` share to turn a capture into a report: the key log of a side
//! (its flag's file, else `$SSLKEYLOGFILE`), the capture (a file or standard input; gzip
//! and zstd are found by content in [`CaptureReader`]), the progress bar, and one drive of
//! the analyzer ([`pipeline::drive`], as every caller).
//!
//! A key log named by a flag and unreadable is an error (exit 2, the flag named); one named
//! by `$SSLKEYLOGFILE` is a warning naming the variable, and the run goes on with the keys
//! it has (the capture's own secrets blocks).

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use pagetrace::capture::{readahead, CaptureReader};
use pagetrace::pageload::model::Report;
use pagetrace::pipeline::KeyLogStats;
use pagetrace::pipeline::{self, Analyzer, AnalyzerConfig};

use super::{reason, CliError, Say};

/// A key log file's text and how to name it (`--keylog FILE`, `SSLKEYLOGFILE=FILE`).
#[derive(Debug, Clone)]
pub struct KeyFile {
    pub name: String,
    pub text: Vec<u8>,
}

/// What the keys were, beside the report, for the diagnostics.
#[derive(Debug, Clone, Default)]
pub struct KeyFacts {
    /// Each key log file given, and what its lines were.
    pub files: Vec<(String, KeyLogStats)>,
    /// Client randoms with secrets, from every source (files and secrets blocks).
    pub sessions: usize,
    /// How to give a key log, for "no key log" (`--keylog FILE or SSLKEYLOGFILE`).
    pub hint: &'static str,
}

/// A report, and its keys when it was made from a capture here.
pub struct Loaded {
    pub report: Report,
    pub keys: Option<KeyFacts>,
}

/// `$SSLKEYLOGFILE`, when set and not empty (an empty variable is no key log).
pub fn env_keylog() -> Option<PathBuf> {
    std::env::var_os("SSLKEYLOGFILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The key log of one side: `flag`'s file (`flag_name` names it in an error), else
/// `$SSLKEYLOGFILE`, whose problems are said on standard error and leave no key log.
pub fn read_keylog(
    flag: Option<&Path>,
    flag_name: &str,
    say: Say,
) -> Result<Option<KeyFile>, CliError> {
    if let Some(p) = flag {
        let text = std::fs::read(p).map_err(|e| {
            CliError::Usage(format!(
                "{flag_name} {}: cannot read the key log ({})",
                p.display(),
                reason(&e)
            ))
        })?;
        return Ok(Some(KeyFile {
            name: format!("{flag_name} {}", p.display()),
            text,
        }));
    }
    let Some(p) = env_keylog() else {
        return Ok(None);
    };
    let name = format!("SSLKEYLOGFILE={}", p.display());
    match std::fs::read(&p) {
        Ok(text) => Ok(Some(KeyFile { name, text })),
        Err(e) => {
            say.line(&format!(
                "{name}: cannot read it ({}); going on without it",
                reason(&e)
            ));
            Ok(None)
        }
    }
}

/// The captures `args` name: files as given, directories as the captures in them (name
/// order).
pub fn capture_list(args: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for a in args {
        let p = std::path::Path::new(a);
        if a != "-" && p.is_dir() {
            out.extend(dir_files(a, false)?);
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// The files of directory `dir` a run is read from, in name order: captures (`*.pcap`,
/// `*.pcapng`, `*.cap`, maybe `.gz`, `.zst` or `.zstd`), and `*.json` when `json`.
pub fn dir_files(dir: &str, json: bool) -> Result<Vec<String>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::Usage(format!("cannot read {dir}: {}", reason(&e))))?;
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.path().to_str().map(str::to_string))
        .filter(|p| {
            let p = p.to_ascii_lowercase();
            let p = [".gz", ".zst", ".zstd"]
                .iter()
                .find_map(|c| p.strip_suffix(c))
                .unwrap_or(&p);
            [".pcap", ".pcapng", ".cap"].iter().any(|e| p.ends_with(e))
                || (json && p.ends_with(".json"))
        })
        .collect();
    if files.is_empty() {
        let what = if json { " or JSON reports" } else { "" };
        return Err(CliError::Usage(format!(
            "{dir}: no captures (.pcap, .pcapng, .cap){what} in it"
        )));
    }
    files.sort();
    Ok(files)
}

/// The capture at `path` (`-`: standard input).
pub fn open(path: &str) -> Result<(Box<dyn Read + Send>, Option<u64>), CliError> {
    if path == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let f = File::open(path)
        .map_err(|e| CliError::Usage(format!("cannot open {path}: {}", reason(&e))))?;
    let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    Ok((Box::new(f), size))
}

/// Files smaller than this are read before a progress bar would be seen.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// A capture to read: its bytes, its size when known (for the progress bar), and whether
/// to read it on a thread of its own ([`CaptureReader::with_read_ahead`]).
pub struct Source {
    pub input: Box<dyn Read + Send>,
    pub size: Option<u64>,
    pub read_ahead: bool,
}

/// Analyzes the capture read from `src`.
pub fn analyze(
    Source {
        input,
        size,
        read_ahead,
    }: Source,
    path: &str,
    cfg: AnalyzerConfig,
    keylog: Option<&KeyFile>,
    hint: &'static str,
    say: Say,
) -> Result<Loaded, CliError> {
    let bar = size
        .filter(|&s| s > PROGRESS_MIN_BYTES && !say.quiet && io::stderr().is_terminal())
        .map(progress_bar);
    let input: Box<dyn Read + Send> = match &bar {
        Some(b) => Box::new(b.wrap_read(input)),
        None => input,
    };
    let reader = if read_ahead {
        let chunk = readahead::chunk_for(keylog.is_some());
        CaptureReader::with_read_ahead_chunks(input, chunk)
    } else {
        CaptureReader::new(input)
    };
    let mut reader = reader.map_err(|e| {
        let name = if path == "-" { "standard input" } else { path };
        CliError::Usage(format!("{name}: {e}"))
    })?;
    let mut analyzer = Analyzer::new(cfg, path, reader.format);
    let mut files = Vec::new();
    if let Some(k) = keylog {
        let stats = analyzer.add_keylog_text(&String::from_utf8_lossy(&k.text));
        files.push((k.name.clone(), stats));
    }
    pipeline::drive(&mut reader, &mut analyzer, |_| {});
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let keys = KeyFacts {
        files,
        sessions: analyzer.keylog_sessions(),
        hint,
    };
    Ok(Loaded {
        report: analyzer.finish(),
        keys: Some(keys),
    })
}

/// `[####----] 42% 430 MiB/1.0 GiB 1.2 GiB/s` on standard error, redrawn in place at most
/// a few times a second.
fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "  [{bar:30}] {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .map(|s| s.progress_chars("#>-"))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
