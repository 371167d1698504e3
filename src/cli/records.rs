//! `analyze --format jsonl|csv|parquet`: the capture read as a stream. Each DNS
//! transaction, TCP connection and QUIC connection is written as the analyzer hands it out
//! ([`Analyzer::poll`]), so memory tracks what is open, not the capture; the filter is
//! applied to each as it comes (`report::records` says what a streamed record lacks).
//! Parquet takes the same items into its tables (`report::parquet`), one capture's files
//! at a time. With two threads or more, the writing is done on a thread of its own
//! ([`write_all`]), in the same order.
//!
//! With a filter, a DNS transaction that does not match alone waits in a window of the
//! last [`DNS_WINDOW`] lookups and is written just before the first kept connection that
//! links to it (so `dns` lines may leave index order); without one, every line is written
//! as it comes.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

use pagetrace::capture::CaptureReader;
use pagetrace::pageload::filter::Filter;
use pagetrace::pageload::model::{CaptureInfo, DnsTransaction, FilterCounts, FilterInfo, Report};
use pagetrace::pipeline::{self, Analyzer, Output, DNS_WINDOW};
use pagetrace::report::parquet::ParquetTables;
use pagetrace::report::records;

use super::args::{AnalyzeArgs, Format};
use super::{diagnose, CliError, Say};

/// Whether the format is written as a stream of records.
pub fn is_record(f: Format) -> bool {
    matches!(f, Format::Jsonl | Format::Csv | Format::Parquet)
}

/// Reads the capture through a streaming `analyzer`, writing each record as it comes (to
/// `out`, else `--output` or standard output). With a `tag` (one of several captures),
/// every line carries `"capture": tag` and the diagnostics on standard error start with it.
pub fn run(
    reader: &mut CaptureReader,
    analyzer: Analyzer,
    a: &AnalyzeArgs,
    filter: Option<&Filter>,
    say: Say,
    (out, tag): (Option<Box<dyn Write + Send>>, Option<&str>),
    threaded: bool,
) -> Result<(), CliError> {
    let out: Box<dyn Write + Send> = match (out, &a.output) {
        (Some(out), _) => out,
        (None, Some(p)) => {
            Box::new(BufWriter::new(File::create(p).map_err(|e| {
                CliError::Usage(format!("cannot write {}: {e}", p.display()))
            })?))
        }
        // Unlocked (a lock is not for another thread), the buffer large enough that
        // taking the lock per write costs nothing.
        (None, None) => Box::new(BufWriter::with_capacity(OUT_BUFFER, io::stdout())),
    };
    let out: Box<dyn Write + Send> = match tag {
        Some(t) => Box::new(Tagged::new(out, t)),
        None => out,
    };
    let to = if a.format == Format::Csv {
        To::Csv(out)
    } else {
        To::Jsonl(out)
    };
    stream(
        reader,
        analyzer,
        Sink::new(to, filter)?,
        say,
        (tag, threaded),
    )
}

/// As [`run`], into the Parquet tables of one capture (`tag` as there).
pub fn run_parquet(
    reader: &mut CaptureReader,
    analyzer: Analyzer,
    filter: Option<&Filter>,
    say: Say,
    (tables, tag): (ParquetTables, Option<&str>),
    threaded: bool,
) -> Result<(), CliError> {
    stream(
        reader,
        analyzer,
        Sink::new(To::Parquet(Box::new(tables)), filter)?,
        say,
        (tag, threaded),
    )
}

/// Standard output's buffer.
const OUT_BUFFER: usize = 64 << 10;
/// Items handed to the writing thread at once.
const WRITE_BATCH: usize = 64;
/// Batches on their way to the writing thread before the analysis waits.
const WRITE_DEPTH: usize = 2;

/// Every item of the capture through `sink`, and the sink back: on this thread, or
/// (`threaded`) written on a thread of its own while the analysis reads on, in the same
/// order (a flood's records cost as much to write as its packets to analyze). At most
/// [`WRITE_DEPTH`] batches of [`WRITE_BATCH`] items wait for it.
fn write_all<'f>(
    reader: &mut CaptureReader,
    mut analyzer: Analyzer,
    mut sink: Sink<'f>,
    threaded: bool,
) -> Result<(Sink<'f>, CaptureInfo), CliError> {
    if !threaded {
        let mut failed: Option<io::Error> = None;
        pipeline::drive_while(reader, &mut analyzer, |an, _| {
            while let Some(mut o) = an.poll() {
                if let Err(e) = sink.write(&mut o) {
                    failed = Some(e);
                    return false;
                }
            }
            true
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let capture = analyzer.finish_stream_with(|mut o| {
            if failed.is_none() {
                failed = sink.write(&mut o).err();
            }
        });
        return match failed {
            Some(e) => Err(e.into()),
            None => Ok((sink, capture)),
        };
    }
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Vec<Output>>(WRITE_DEPTH);
        // Written batches come back to be dropped here: freed on the thread that made
        // them, as glibc's allocator wants (freed on the writer, each contended its lock).
        let (written_tx, written) = sync_channel::<Vec<Output>>(WRITE_DEPTH + 2);
        let writer = std::thread::Builder::new()
            .name("pagetrace-write".into())
            .spawn_scoped(s, move || -> io::Result<Sink<'f>> {
                for mut batch in rx {
                    for o in &mut batch {
                        sink.write(o)?;
                    }
                    let _ = written_tx.try_send(batch);
                }
                Ok(sink)
            })
            .map_err(CliError::Io)?;
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        // `false` once the writer is gone (it failed: its error tells).
        let send = |o: Output, batch: &mut Vec<Output>| -> bool {
            batch.push(o);
            if batch.len() < WRITE_BATCH {
                return true;
            }
            // Every batch written since: dropped here, one kept to fill again.
            let mut next = written.try_recv().unwrap_or_default();
            while let Ok(more) = written.try_recv() {
                drop(more);
            }
            next.clear();
            tx.send(std::mem::replace(batch, next)).is_ok()
        };
        let mut open = true;
        pipeline::drive_while(reader, &mut analyzer, |an, _| {
            while let Some(o) = an.poll() {
                open = send(o, &mut batch);
                if !open {
                    return false;
                }
            }
            true
        });
        let capture = open.then(|| {
            analyzer.finish_stream_with(|o| {
                if open {
                    open = send(o, &mut batch);
                }
            })
        });
        if open && !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let sink = match writer.join() {
            Ok(r) => r?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // The writer ends only with the batches, or failing.
        Ok((sink, capture.unwrap_or_default()))
    })
}

/// Every item of the capture through `sink`, the diagnostics, then the capture's own
/// record and the end of the output.
fn stream(
    reader: &mut CaptureReader,
    analyzer: Analyzer,
    sink: Sink<'_>,
    say: Say,
    (tag, threaded): (Option<&str>, bool),
) -> Result<(), CliError> {
    let (sink, capture) = write_all(reader, analyzer, sink, threaded)?;
    // What the whole-report formats say on standard error about the file and its caps,
    // from the capture's own warnings (the records carry their connections').
    let capture = Report {
        capture,
        ..Report::default()
    };
    for line in diagnose::lines(&capture, None) {
        match tag {
            Some(t) => say.line(&format!("{t}: {line}")),
            None => say.line(&line),
        }
    }
    let capture = capture.capture;
    match sink.to {
        To::Jsonl(mut out) => {
            let info = sink.filter.map(|f| FilterInfo {
                expression: f.text().to_string(),
                before: sink.before,
            });
            records::jsonl_capture(&mut out, &capture, info.as_ref())?;
            out.flush()?;
        }
        To::Csv(mut out) => out.flush()?,
        To::Parquet(tables) => tables.finish(&capture)?,
    }
    Ok(())
}

/// Where a [`Sink`]'s records go.
enum To {
    Jsonl(Box<dyn Write + Send>),
    Csv(Box<dyn Write + Send>),
    // Boxed: its builders and writers are kilobytes, the others a pointer.
    Parquet(Box<ParquetTables>),
}

/// Where records go, with the filter and the lookups it may still need.
struct Sink<'f> {
    to: To,
    filter: Option<&'f Filter>,
    /// With a filter: the latest lookups (stream index, transaction, written yet).
    window: VecDeque<(u64, Arc<DnsTransaction>, bool)>,
    /// What there was before the filter.
    before: FilterCounts,
}

impl<'f> Sink<'f> {
    /// A sink with nothing written yet but the CSV header.
    fn new(mut to: To, filter: Option<&'f Filter>) -> io::Result<Sink<'f>> {
        if let To::Csv(out) = &mut to {
            records::csv_header(out)?;
        }
        Ok(Sink {
            to,
            filter,
            window: VecDeque::new(),
            before: FilterCounts::default(),
        })
    }

    fn write(&mut self, o: &mut Output) -> io::Result<()> {
        match o {
            Output::Dns { index, transaction } => {
                let index = *index;
                self.before.dns += 1;
                let Some(f) = self.filter else {
                    return self.dns_line(index, transaction);
                };
                let shown = f.matches_dns(transaction);
                if shown {
                    self.dns_line(index, transaction)?;
                }
                self.window.push_back((index, transaction.clone(), shown));
                if self.window.len() > DNS_WINDOW {
                    self.window.pop_front();
                }
                Ok(())
            }
            Output::Connection(c) => {
                self.before.connections += 1;
                self.before.requests += c.http.len();
                let kept = match self.filter {
                    None => (0..c.http.len()).collect(),
                    Some(f) => match f.tcp_requests(c, self.lookup(c.dns)) {
                        Some(k) => k,
                        None => return Ok(()),
                    },
                };
                c.http = keep(std::mem::take(&mut c.http), &kept);
                self.linked_dns(c.dns)?;
                match &mut self.to {
                    To::Jsonl(out) => records::jsonl_connection(out, c, &kept),
                    To::Csv(out) => records::csv_connection(out, c, &kept),
                    To::Parquet(t) => t.connection(c, &kept),
                }
            }
            Output::Quic(q) => {
                self.before.quic += 1;
                self.before.requests += q.http.len();
                let kept = match self.filter {
                    None => (0..q.http.len()).collect(),
                    Some(f) => match f.quic_requests(q, self.lookup(q.dns)) {
                        Some(k) => k,
                        None => return Ok(()),
                    },
                };
                q.http = keep(std::mem::take(&mut q.http), &kept);
                self.linked_dns(q.dns)?;
                match &mut self.to {
                    To::Jsonl(out) => records::jsonl_quic(out, q, &kept),
                    To::Csv(out) => records::csv_quic(out, q, &kept),
                    To::Parquet(t) => t.quic(q, &kept),
                }
            }
        }
    }

    fn dns_line(&mut self, index: u64, t: &DnsTransaction) -> io::Result<()> {
        match &mut self.to {
            To::Jsonl(out) => records::jsonl_dns(out, index, t),
            To::Csv(_) => Ok(()),
            To::Parquet(tables) => tables.dns(index, t),
        }
    }

    /// The lookup of stream index `i`, while in the window.
    fn lookup(&self, i: Option<usize>) -> Option<&DnsTransaction> {
        let i = i? as u64;
        self.window
            .iter()
            .rev()
            .find(|(n, _, _)| *n == i)
            .map(|(_, t, _)| &**t)
    }

    /// Writes a kept connection's lookup, if the filter held it back.
    fn linked_dns(&mut self, i: Option<usize>) -> io::Result<()> {
        let Some(i) = i.map(|i| i as u64) else {
            return Ok(());
        };
        let Some(pos) = self
            .window
            .iter()
            .position(|(n, _, shown)| *n == i && !shown)
        else {
            return Ok(());
        };
        self.window[pos].2 = true;
        let t = self.window[pos].1.clone();
        self.dns_line(i, &t)
    }
}

/// The items at `indices` (ascending).
fn keep<T>(items: Vec<T>, indices: &[usize]) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| indices.binary_search(i).is_ok())
        .map(|(_, x)| x)
        .collect()
}

/// Puts `"capture": TAG` first in every JSON line written through it (each starts with
/// `{`, as every record line does).
pub struct Tagged<W: Write> {
    out: W,
    prefix: Vec<u8>,
    at_line_start: bool,
}

impl<W: Write> Tagged<W> {
    pub fn new(out: W, tag: &str) -> Tagged<W> {
        let mut prefix = b"{\"capture\":".to_vec();
        // A string always serializes.
        prefix.extend_from_slice(serde_json::to_string(tag).unwrap_or_default().as_bytes());
        prefix.push(b',');
        Tagged {
            out,
            prefix,
            at_line_start: true,
        }
    }
}

impl<W: Write> Write for Tagged<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            if self.at_line_start {
                self.at_line_start = false;
                if let Some(rest) = buf.strip_prefix(b"{") {
                    self.out.write_all(&self.prefix)?;
                    buf = rest;
                    continue;
                }
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.out.write_all(&buf[..=i])?;
                    self.at_line_start = true;
                    buf = &buf[i + 1..];
                }
                None => {
                    self.out.write_all(buf)?;
                    buf = &[];
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_lines_carry_the_capture_first() {
        let mut t = Tagged::new(Vec::new(), "runs/a \"1\".pcap");
        t.write_all(b"{\"type\":\"dns\"}\n{\"type\":").unwrap();
        t.write_all(b"\"capture\"}\n").unwrap();
        assert_eq!(
            String::from_utf8(t.out).unwrap(),
            "{\"capture\":\"runs/a \\\"1\\\".pcap\",\"type\":\"dns\"}\n\
             {\"capture\":\"runs/a \\\"1\\\".pcap\",\"type\":\"capture\"}\n"
        );
    }
}
