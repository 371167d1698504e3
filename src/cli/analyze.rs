//! `pagetrace analyze`: read a capture, print the report, then the diagnostics on standard
//! error. The record formats (`jsonl`, `csv`) stream instead: [`super::records`].

use std::io::{self, IsTerminal};

use pagetrace::capture::CaptureReader;
use pagetrace::pageload::model::Report;
use pagetrace::pipeline::{Analyzer, AnalyzerConfig};
use pagetrace::report::{har, html, json, table, waterfall};
use pagetrace::tcp::TcpConfig;

use super::args::{AnalyzeArgs, Format};
use super::{diagnose, input, CliError, Output, Say};

pub fn run(a: AnalyzeArgs) -> Result<(), CliError> {
    let say = Say { quiet: a.quiet };
    let filter = super::parse_filter(a.filter.as_deref())?;
    if !a.only.is_empty() && a.format != Format::Table {
        return Err(CliError::Usage(
            "--only names sections of --format table".into(),
        ));
    }
    let keylog = input::read_keylog(a.keylog.as_deref(), "--keylog", say)?;
    let (file, size) = input::open(&a.capture)?;
    let cfg = AnalyzerConfig {
        body_hash: a.body_hash,
        streaming: super::records::is_record(a.format),
        tcp: TcpConfig {
            max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
            ..TcpConfig::default()
        },
    };
    if cfg.streaming {
        let mut reader =
            CaptureReader::new(file).map_err(|e| CliError::Usage(format!("{}: {e}", a.capture)))?;
        let mut analyzer = Analyzer::new(cfg, &a.capture, reader.format);
        if let Some(k) = &keylog {
            analyzer.add_keylog_text(&String::from_utf8_lossy(&k.text));
        }
        return super::records::run(&mut reader, analyzer, &a, filter.as_ref(), say);
    }
    // Opened before the long read, so a path that cannot be written fails at once.
    let mut out = Output::open(a.output.as_deref())?;
    if a.body_hash && a.format == Format::Waterfall {
        say.line("--body-hash: the waterfall has no room for hashes; --format json, har, table or html show them");
    }
    let mut loaded = input::analyze(
        file,
        size,
        &a.capture,
        cfg,
        keylog.as_ref(),
        "--keylog FILE, or SSLKEYLOGFILE",
        say,
    )?;
    if let Some(f) = &filter {
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
    let sections = if a.only.is_empty() {
        table::Sections::default()
    } else {
        let only: Vec<_> = a.only.iter().map(|s| s.section()).collect();
        table::Sections::of(&only)
    };
    let written = out.write_with(|w| {
        let opts = table::TableOptions {
            color,
            width,
            keys_given,
            sections,
        };
        render(w, report, a.format, &opts)
    });
    // Said whether the report reached its reader or the pipe closed early.
    if !matches!(written, Err(CliError::Usage(_))) {
        for line in diagnose::lines(report, loaded.keys.as_ref()) {
            say.line(&line);
        }
    }
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
        Format::Html => html::write_html(&mut w, report),
        Format::Waterfall => waterfall::write_waterfall(
            &mut w,
            report,
            &waterfall::WaterfallOptions {
                color: opts.color,
                width: opts.width.unwrap_or(120),
            },
        ),
        Format::Table => table::write_report(&mut w, report, opts),
        // Streamed by records::run, never rendered from a whole report.
        Format::Jsonl | Format::Csv => Ok(()),
    }
}
