//! `pagetrace analyze`: read a capture, print the report.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};

use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::pipeline::{Analyzer, AnalyzerConfig};
use pagetrace::report::{har, html, json, table, waterfall};

use super::args::{AnalyzeArgs, Format};
use super::CliError;

pub fn run(a: AnalyzeArgs) -> Result<(), CliError> {
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
    let input: Box<dyn io::Read + Send> = if a.capture == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(
            File::open(&a.capture)
                .map_err(|e| CliError::Usage(format!("cannot open {}: {e}", a.capture)))?,
        )
    };
    let mut reader =
        CaptureReader::new(input).map_err(|e| CliError::Usage(format!("{}: {e}", a.capture)))?;
    let cfg = AnalyzerConfig {
        body_hash: a.body_hash,
        ..AnalyzerConfig::default()
    };
    let mut analyzer = Analyzer::new(cfg, &a.capture, reader.format);
    if let Some(text) = &keylog {
        analyzer.add_keylog_text(&String::from_utf8_lossy(text));
    }
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| match ev {
        CaptureEvent::Packet(p) => analyzer.handle_packet(&p),
        CaptureEvent::Secrets { kind, data } => analyzer.handle_secrets(kind, data),
    });
    for w in warnings {
        analyzer.warn(w);
    }
    let ks = analyzer.keylog_stats();
    if ks.bad > 0 {
        let msg = format!(
            "key log: {} of {} lines were not NSS key log lines and were skipped",
            ks.bad, ks.lines
        );
        analyzer.warn(pagetrace::pageload::model::Warning::new(
            None, "keylog", msg,
        ));
    }
    let report = analyzer.finish();

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
            let color = to_terminal
                && !a.no_color
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = if to_terminal { terminal_width() } else { None };
            waterfall::write_waterfall(
                &mut out,
                &report,
                &waterfall::WaterfallOptions {
                    color,
                    width: width.unwrap_or(120),
                },
            )?;
        }
        Format::Table => {
            let color = to_terminal
                && !a.no_color
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = if to_terminal { terminal_width() } else { None };
            table::write_report(&mut out, &report, &table::TableOptions { color, width })?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The terminal's width from $COLUMNS (comfy-table asks the terminal itself when dynamic).
fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(120))
}
