//! `pagetrace analyze`: read a capture, print the report.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pagetrace::capture::CaptureReader;
use pagetrace::pipeline::{self, Analyzer, AnalyzerConfig};
use pagetrace::report::{fmt, har, html, json, table, waterfall};

use super::args::{AnalyzeArgs, Format};
use super::CliError;

pub fn run(a: AnalyzeArgs) -> Result<(), CliError> {
    let filter = super::parse_filter(a.filter.as_deref())?;
    if !a.only.is_empty() && a.format != Format::Table {
        return Err(CliError::Usage(
            "--only names sections of --format table".into(),
        ));
    }
    let keylog_path = a
        .keylog
        .clone()
        .or_else(|| std::env::var_os("SSLKEYLOGFILE").map(Into::into));
    let keylog =
        match &keylog_path {
            Some(k) => Some(std::fs::read(k).map_err(|e| {
                CliError::Usage(format!("cannot read key log {}: {e}", k.display()))
            })?),
            None => None,
        };
    // A progress bar on standard error for files that take more than a moment, only on a
    // terminal (never in pipes or CI logs).
    let size = std::fs::metadata(&a.capture).map(|m| m.len()).unwrap_or(0);
    let read_bytes = Arc::new(AtomicU64::new(0));
    let progress = (a.capture != "-" && size > PROGRESS_MIN_BYTES && io::stderr().is_terminal())
        .then(|| Progress::new(size, read_bytes.clone()));
    let input: Box<dyn io::Read + Send> = if a.capture == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(Counting {
            inner: File::open(&a.capture)
                .map_err(|e| CliError::Usage(format!("cannot open {}: {e}", a.capture)))?,
            count: read_bytes,
        })
    };
    let mut reader =
        CaptureReader::new(input).map_err(|e| CliError::Usage(format!("{}: {e}", a.capture)))?;
    let cfg = AnalyzerConfig {
        body_hash: a.body_hash,
        streaming: super::records::is_record(a.format),
        ..AnalyzerConfig::default()
    };
    let mut analyzer = Analyzer::new(cfg, &a.capture, reader.format);
    if let Some(text) = &keylog {
        analyzer.add_keylog_text(&String::from_utf8_lossy(text));
    }
    if analyzer.config().streaming {
        return super::records::run(&mut reader, analyzer, &a, filter.as_ref());
    }
    let mut progress = progress;
    pipeline::drive(&mut reader, &mut analyzer, |p| {
        if let Some(pr) = progress.as_mut() {
            pr.tick(p.frame);
        }
    });
    if let Some(pr) = progress {
        pr.done();
    }
    let mut report = analyzer.finish();
    if let Some(f) = &filter {
        report = f.apply(report);
    }

    let to_terminal = a.output.is_none() && io::stdout().is_terminal();
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::new(File::create(p).map_err(|e| {
            CliError::Usage(format!("cannot write {}: {e}", p.display()))
        })?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    match a.format {
        Format::Json => json::write_report(&mut out, &report)?,
        Format::Har => har::write_har(&mut out, &report)?,
        Format::Html => html::write_html(&mut out, &report)?,
        Format::Waterfall => {
            let color = super::use_color(to_terminal, a.no_color);
            let width = if to_terminal {
                super::terminal_width()
            } else {
                None
            };
            waterfall::write_waterfall(
                &mut out,
                &report,
                &waterfall::WaterfallOptions {
                    color,
                    width: width.unwrap_or(120),
                },
            )?;
        }
        Format::Jsonl | Format::Csv => {}
        Format::Table => {
            let color = super::use_color(to_terminal, a.no_color);
            let width = if to_terminal {
                super::terminal_width()
            } else {
                None
            };
            let sections = if a.only.is_empty() {
                table::Sections::default()
            } else {
                let only: Vec<_> = a.only.iter().map(|s| s.section()).collect();
                table::Sections::of(&only)
            };
            let opts = table::TableOptions {
                color,
                width,
                sections,
            };
            table::write_report(&mut out, &report, &opts)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Files smaller than this are read before a progress bar would be seen.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// Counts the bytes read from the capture file, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// `reading 42% (430.1 MiB of 1.0 GiB), 1.2 GB/s` on standard error, redrawn in place.
struct Progress {
    size: u64,
    read: Arc<AtomicU64>,
    start: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(size: u64, read: Arc<AtomicU64>) -> Progress {
        let now = Instant::now();
        Progress {
            size,
            read,
            start: now,
            last: now,
            shown: false,
        }
    }

    fn tick(&mut self, frame: u64) {
        if !frame.is_multiple_of(4096) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(200)
            || now.duration_since(self.start) < Duration::from_millis(500)
        {
            return;
        }
        self.last = now;
        self.shown = true;
        let read = self.read.load(Ordering::Relaxed).min(self.size);
        let pct = read * 100 / self.size.max(1);
        let rate = read as f64 / now.duration_since(self.start).as_secs_f64() / 1e6;
        let width = 30usize;
        let filled = (pct as usize * width) / 100;
        eprint!(
            "\r  [{}{}] {pct:>3}% ({} of {}), {rate:.0} MB/s ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            fmt::fmt_bytes(read),
            fmt::fmt_bytes(self.size)
        );
    }

    fn done(self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
