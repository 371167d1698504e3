//! `pagetrace analyze`: read a capture, print the report, then the diagnostics on standard
//! error. The record formats (`jsonl`, `csv`, `parquet`) stream instead:
//! [`super::records`].

use std::io::{self, IsTerminal};

use pagetrace::capture::{readahead, CaptureReader};
use pagetrace::pageload::model::Report;
use pagetrace::pipeline::TcpConfig;
use pagetrace::pipeline::{Analyzer, AnalyzerConfig};
use pagetrace::report::parquet::ParquetTables;
use pagetrace::report::{fold, har, html, json, table, waterfall};

use super::args::{AnalyzeArgs, Format};
use super::input::{KeyFile, Loaded};
use super::{diagnose, input, CliError, Output, Say};
use pagetrace::pageload::filter::Filter;

pub fn run(a: AnalyzeArgs) -> Result<(), CliError> {
    let say = Say { quiet: a.quiet };
    let filter = super::parse_filter(a.filter.as_deref())?;
    if !a.only.is_empty() && a.format != Format::Table {
        return Err(CliError::Usage(
            "--only names sections of --format table".into(),
        ));
    }
    if a.format == Format::Parquet {
        let dir = parquet_dir(&a)?;
        pagetrace::report::parquet::clear(dir)
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", dir.display())))?;
    }
    let keylog = input::read_keylog(a.keylog.as_deref(), "--keylog", say)?;
    let captures = input::capture_list(&a.captures)?;
    if let [one] = captures.as_slice() {
        return run_one(&a, one, keylog.as_ref(), filter.as_ref(), say);
    }
    run_many(&a, &captures, keylog.as_ref(), filter.as_ref(), say)
}

/// The analyzer's configuration; `threaded`: the one capture of the run, which gets the
/// threads beyond its own for its connections' dissectors.
fn config(a: &AnalyzeArgs, threaded: bool) -> AnalyzerConfig {
    AnalyzerConfig {
        body_hash: a.body_hash,
        streaming: super::records::is_record(a.format),
        tcp: TcpConfig {
            max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
            ..TcpConfig::default()
        },
        // The reading thread is one of the N.
        app_threads: if threaded {
            one_capture_threads(a).saturating_sub(2)
        } else {
            0
        },
        app_move_after: None,
    }
}

/// `--threads`, else the machine's cores.
fn threads(a: &AnalyzeArgs) -> usize {
    a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    )
}

/// Threads for the one capture of a run: `--threads`, else the machine's cores. Two read
/// the capture on one and analyze it on the other, each busy about as long (the kernel's
/// copy of the file, the analysis); a third and more run the dissectors of the larger
/// connections (README, Speed and memory). Streamed records are written on one more
/// (`records::write_all`), busy when a flood makes many.
fn one_capture_threads(a: &AnalyzeArgs) -> usize {
    a.threads.map_or_else(|| threads(a), usize::from)
}

/// A capture's reader and the streaming analyzer for it; `threaded` as [`config`] takes
/// it, and the capture is then read on a thread of its own too.
fn open_stream(
    a: &AnalyzeArgs,
    capture: &str,
    keylog: Option<&KeyFile>,
    threaded: bool,
) -> Result<(CaptureReader, Analyzer), CliError> {
    let (file, _) = input::open(capture)?;
    let reader = if threaded {
        CaptureReader::with_read_ahead_chunks(file, readahead::chunk_for_stream(keylog.is_some()))
    } else {
        CaptureReader::new(file)
    }
    .map_err(|e| CliError::Usage(format!("{capture}: {e}")))?;
    let mut analyzer = Analyzer::new(config(a, threaded), capture, reader.format);
    if let Some(k) = keylog {
        analyzer.add_keylog_text(&String::from_utf8_lossy(&k.text));
    }
    Ok((reader, analyzer))
}

/// Where `--format parquet` writes its tables: `-o DIR`, which it cannot do without.
fn parquet_dir(a: &AnalyzeArgs) -> Result<&std::path::Path, CliError> {
    a.output.as_deref().ok_or_else(|| {
        CliError::Usage("--format parquet writes a directory of tables: -o DIR".into())
    })
}

/// A streamed (jsonl, csv) analysis of one capture, to `out` (else `--output`); the one
/// capture (no `tag`) gets the threads of [`one_capture_threads`].
fn stream_one(
    a: &AnalyzeArgs,
    capture: &str,
    keylog: Option<&KeyFile>,
    filter: Option<&Filter>,
    say: Say,
    out: (Option<Box<dyn io::Write + Send>>, Option<&str>),
) -> Result<(), CliError> {
    let threaded = out.1.is_none() && one_capture_threads(a) > 1;
    let (mut reader, analyzer) = open_stream(a, capture, keylog, threaded)?;
    super::records::run(&mut reader, analyzer, a, filter, say, out, threaded)
}

/// `--format parquet`: the capture at position `n` of the list into its files under
/// `-o DIR` (`DIR/<table>/<n>.parquet`); `tag` as [`super::records::run`] takes it.
fn parquet_one(
    a: &AnalyzeArgs,
    (n, capture): (usize, &str),
    keylog: Option<&KeyFile>,
    filter: Option<&Filter>,
    say: Say,
    tag: Option<&str>,
) -> Result<(), CliError> {
    let dir = parquet_dir(a)?;
    let threaded = tag.is_none() && one_capture_threads(a) > 1;
    let (mut reader, analyzer) = open_stream(a, capture, keylog, threaded)?;
    let tables = ParquetTables::create(dir, n, capture)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", dir.display())))?;
    super::records::run_parquet(&mut reader, analyzer, filter, say, (tables, tag), threaded)
}

/// Several captures, each on its own, `--threads` at once, written in the order given.
fn run_many(
    a: &AnalyzeArgs,
    captures: &[String],
    keylog: Option<&KeyFile>,
    filter: Option<&Filter>,
    say: Say,
) -> Result<(), CliError> {
    if !matches!(
        a.format,
        Format::Table | Format::Json | Format::Jsonl | Format::Parquet
    ) {
        return Err(CliError::Usage(
            "several captures: --format table, json, jsonl or parquet (the others take one capture)"
                .into(),
        ));
    }
    if captures.iter().any(|c| c == "-") {
        return Err(CliError::Usage(
            "standard input (-) can only be the one capture".into(),
        ));
    }
    let threads = threads(a);
    if a.format == Format::Parquet {
        // Each capture writes files of its own: nothing to put in order.
        for (b, batch) in captures.chunks(threads.max(1)).enumerate() {
            let first = b * threads.max(1);
            each_on_a_thread(batch, |i, c| {
                parquet_one(a, (first + i, c), keylog, filter, say, Some(c))
            })
            .into_iter()
            .collect::<Result<(), CliError>>()?;
        }
        return Ok(());
    }
    let mut out = Output::open(a.output.as_deref())?;
    let to_terminal = a.output.is_none() && io::stdout().is_terminal();
    let opts = table::TableOptions {
        color: super::use_color(to_terminal, a.color, a.no_color),
        width: super::output_width(to_terminal),
        keys_given: keylog.is_some(),
        sections: sections(a),
        all: a.all,
    };
    let mut first = true;
    for batch in captures.chunks(threads.max(1)) {
        if a.format == Format::Jsonl {
            // Each capture streams into a file of its own, copied out in order.
            let dir = std::env::temp_dir();
            let files: Vec<std::path::PathBuf> = (0..batch.len())
                .map(|i| dir.join(format!("pagetrace-{}-{i}.jsonl", std::process::id())))
                .collect();
            let results = each_on_a_thread(batch, |i, c| {
                let f = &files[i];
                let file = std::fs::File::create(f)
                    .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", f.display())))?;
                let w: Box<dyn io::Write + Send> = Box::new(io::BufWriter::new(file));
                stream_one(a, c, keylog, filter, say, (Some(w), Some(c)))
            });
            for (r, f) in results.into_iter().zip(&files) {
                let copied = r.and_then(|()| {
                    let mut file = std::fs::File::open(f).map_err(CliError::Io)?;
                    out.write_with(|w| io::copy(&mut file, w).map(|_| ()))
                });
                let _ = std::fs::remove_file(f);
                copied?;
            }
            continue;
        }
        let loaded = each_on_a_thread(batch, |_, c| {
            let (file, _) = input::open(c)?;
            // No progress bar: several would share the terminal.
            let src = input::Source {
                input: file,
                size: None,
                read_ahead: false,
            };
            let mut l: Loaded = input::analyze(
                src,
                c,
                config(a, false),
                keylog,
                "--keylog FILE, or SSLKEYLOGFILE",
                say,
            )?;
            if let Some(f) = filter {
                l.report = f.apply(l.report);
            }
            Ok(l)
        });
        for (l, c) in loaded.into_iter().zip(batch) {
            let l = l?;
            let comma = !first;
            first = false;
            out.write_with(|mut w| match a.format {
                Format::Json => {
                    w.write_all(if comma { b",\n" } else { b"[\n" })?;
                    json::write_pretty(&mut w, &l.report)
                }
                _ => {
                    if comma {
                        writeln!(w)?;
                    }
                    table::write_report(&mut w, &l.report, &opts)
                }
            })?;
            for line in diagnose::lines(&l.report, l.keys.as_ref()) {
                say.line(&format!("{c}: {line}"));
            }
        }
    }
    if a.format == Format::Json {
        out.write_with(|w| w.write_all(b"]\n"))?;
    }
    Ok(())
}

/// `f(position, item)` for every item of `batch`, each on a thread of its own; the results
/// in the batch's order, a panic said as an error rather than passed on.
fn each_on_a_thread<I: Sync, T: Send>(
    batch: &[I],
    f: impl Fn(usize, &I) -> Result<T, CliError> + Sync,
) -> Vec<Result<T, CliError>> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = batch
            .iter()
            .enumerate()
            .map(|(i, x)| s.spawn(move || f(i, x)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CliError::Usage("an analysis thread failed".into())))
            })
            .collect()
    })
}

fn sections(a: &AnalyzeArgs) -> table::Sections {
    if a.only.is_empty() {
        table::Sections::default()
    } else {
        let only: Vec<_> = a.only.iter().map(|s| s.section()).collect();
        table::Sections::of(&only)
    }
}

fn run_one(
    a: &AnalyzeArgs,
    capture: &str,
    keylog: Option<&KeyFile>,
    filter: Option<&Filter>,
    say: Say,
) -> Result<(), CliError> {
    let threaded = one_capture_threads(a) > 1;
    let cfg = config(a, threaded);
    if a.format == Format::Parquet {
        return parquet_one(a, (0, capture), keylog, filter, say, None);
    }
    if cfg.streaming {
        return stream_one(a, capture, keylog, filter, say, (None, None));
    }
    let (file, size) = input::open(capture)?;
    // Opened before the long read, so a path that cannot be written fails at once.
    let mut out = Output::open(a.output.as_deref())?;
    if a.body_hash && a.format == Format::Waterfall {
        say.line("--body-hash: the waterfall has no room for hashes; --format json, har, table or html show them");
    }
    let src = input::Source {
        input: file,
        size,
        read_ahead: threaded,
    };
    let mut loaded = input::analyze(
        src,
        capture,
        cfg,
        keylog,
        "--keylog FILE, or SSLKEYLOGFILE",
        say,
    )?;
    if let Some(f) = filter {
        loaded.report = f.apply(loaded.report);
    }
    let report = &loaded.report;
    let to_terminal = a.output.is_none() && io::stdout().is_terminal();
    let color = super::use_color(to_terminal, a.color, a.no_color);
    let width = super::output_width(to_terminal);
    let keys_given = loaded
        .keys
        .as_ref()
        .is_some_and(|k| k.sessions > 0 || !k.files.is_empty());
    let sections = sections(a);
    let written = out.write_with(|w| {
        let opts = table::TableOptions {
            color,
            width,
            keys_given,
            sections,
            all: a.all,
        };
        render(w, report, a.format, &opts)
    });
    // Said whether the report reached its reader or the pipe closed early.
    if !matches!(written, Err(CliError::Usage(_))) {
        for line in diagnose::lines(report, loaded.keys.as_ref()) {
            say.line(&line);
        }
    }
    // The run ends with its one capture: the system takes the report's memory back at
    // exit, where freeing 200,000 connections' values one allocation at a time had taken
    // 8% of a flood's run.
    std::mem::forget(loaded);
    written
}

fn render(
    mut w: &mut dyn io::Write,
    report: &Report,
    format: Format,
    opts: &table::TableOptions,
) -> io::Result<()> {
    match format {
        Format::Json => json::write_report(&mut w, report),
        Format::Har => har::write_har(&mut w, report),
        Format::Html => html::write_html(&mut w, report, opts.all),
        Format::Waterfall => {
            // A scan or a flood: what was one-sided is counted under the bars.
            let folded = (!opts.all).then(|| fold::fold(report)).flatten();
            waterfall::write_waterfall(
                &mut w,
                folded.as_ref().map_or(report, |f| &f.report),
                &waterfall::WaterfallOptions {
                    color: opts.color,
                    width: opts.width.unwrap_or(120),
                },
            )?;
            if let Some(f) = folded {
                writeln!(w, "\n{}", fold::headline(&f.groups))?;
                for g in &f.groups {
                    writeln!(w, "  {}", g.line())?;
                }
            }
            Ok(())
        }
        Format::Table => table::write_report(&mut w, report, opts),
        // Streamed by records::run, never rendered from a whole report.
        Format::Jsonl | Format::Csv | Format::Parquet => Ok(()),
    }
}
