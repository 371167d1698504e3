//! What the fuzz targets share. Each target in `fuzz_targets/` is a few lines over this, and
//! this file is the only place that knows pagetrace's entry points ([`run_capture`],
//! [`Feed`]): when the middle of the pipeline changes, re-pointing the targets is an edit
//! here.
//!
//! - [`gen`]: the tests' packet and pcap writers (`tests/common/gen.rs`, included by path).
//! - [`tls`]: a synthetic TLS 1.2 and TLS 1.3 session whose secrets are in [`keylog`], so
//!   fuzzed plaintext can be sealed into records the analyzer decrypts.
//! - [`quic`]: QUIC v1 Initial packet protection, so fuzzed frames reach the frame parser.
//! - [`conv`]: the structured harnesses (`tcp_frames`, `quic`) over these.
//! - [`leaf`]: the parser targets, one leaf parser each.

pub mod conv;
#[path = "../../tests/common/gen.rs"]
pub mod gen;
pub mod leaf;
pub mod quic;
pub mod tls;

use std::io::Cursor;

use pagetrace::capture::{CaptureEvent, CaptureReader, Packet};
use pagetrace::link::LinkType;
use pagetrace::pageload::model::Report;
use pagetrace::pipeline::{Analyzer, AnalyzerConfig, Output};
use pagetrace::time::Ts;

/// The fixtures' key logs and the synthetic sessions' secrets ([`tls::keylog_lines`]).
pub fn keylog() -> String {
    let mut k = String::new();
    for text in [
        include_str!("../../fixtures/pageload/pageload.keys"),
        include_str!("../../fixtures/pageload-delay40/pageload.keys"),
        include_str!("../../fixtures/pageload-http1/pageload.keys"),
        include_str!("../../fixtures/pageload-loss/pageload.keys"),
        include_str!("../../fixtures/pageload-tls12-h2/pageload.keys"),
    ] {
        k.push_str(text);
        k.push('\n');
    }
    k.push_str(&tls::keylog_lines());
    k
}

/// A capture file's bytes through the reader, the analyzer, the report and its JSON, as
/// `pagetrace analyze` runs them.
pub fn run_capture(data: &[u8], keylog: Option<&str>) {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data.to_vec())) else {
        return;
    };
    let mut a = Analyzer::new(AnalyzerConfig::default(), "fuzz", reader.format);
    if let Some(k) = keylog {
        a.add_keylog_text(k);
    }
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| match ev {
        CaptureEvent::Packet(p) => a.handle_packet(&p),
        CaptureEvent::Secrets { kind, data } => a.handle_secrets(kind, data),
    });
    for w in warnings {
        a.warn(w);
    }
    let report = a.finish();
    json_agrees(&report);
    run_stream(data, keylog);
}

/// The same bytes analyzed as `--format jsonl` and `live` do: each result handed out as it
/// finishes (DNS with its resolver's walk, connections linked to lookups handed out
/// before), every one serialized.
fn run_stream(data: &[u8], keylog: Option<&str>) {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data.to_vec())) else {
        return;
    };
    let cfg = AnalyzerConfig {
        streaming: true,
        ..AnalyzerConfig::default()
    };
    let mut a = Analyzer::new(cfg, "fuzz", reader.format);
    if let Some(k) = keylog {
        a.add_keylog_text(k);
    }
    let mut out = Vec::new();
    let emit = |o: Output, out: &mut Vec<u8>| {
        out.clear();
        match o {
            Output::Dns { transaction, .. } => serde_json::to_writer(&mut *out, &*transaction),
            Output::Connection(c) => serde_json::to_writer(&mut *out, &*c),
            Output::Quic(q) => serde_json::to_writer(&mut *out, &*q),
        }
        .expect("a streamed result serializes");
    };
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| {
        match ev {
            CaptureEvent::Packet(p) => a.handle_packet(&p),
            CaptureEvent::Secrets { kind, data } => a.handle_secrets(kind, data),
        }
        while let Some(o) = a.poll() {
            emit(o, &mut out);
        }
    });
    a.finish_stream_with(|o| emit(o, &mut out));
}

/// `report::fastjson` writes what serde_json writes, pretty and compact, for a report made
/// from fuzzed input (its strings hold whatever the wire held).
pub fn json_agrees(report: &Report) {
    for pretty in [false, true] {
        let theirs = if pretty {
            serde_json::to_vec_pretty(report)
        } else {
            serde_json::to_vec(report)
        };
        let mut ours = Vec::new();
        pagetrace::report::fastjson::extend(&mut ours, report, pretty).expect("a report serializes");
        assert!(
            theirs.expect("a report serializes") == ours,
            "fastjson differs from serde_json (pretty: {pretty})"
        );
    }
}

/// The report of a capture's bytes as JSON (`None`: not a capture), analyzed as
/// `pagetrace analyze` does; with `workers`, read on a thread of its own (in 64-byte chunks,
/// so that every block lies across chunks) and every TCP connection's dissectors moved at
/// its first byte to one of that many workers.
pub fn report_json(data: &[u8], keylog: Option<&str>, workers: usize) -> Option<Vec<u8>> {
    let input = Cursor::new(data.to_vec());
    let mut reader = if workers > 0 {
        CaptureReader::with_read_ahead_chunks(input, 64)
    } else {
        CaptureReader::new(input)
    }
    .ok()?;
    let cfg = AnalyzerConfig {
        app_threads: workers,
        app_move_after: Some(0),
        ..AnalyzerConfig::default()
    };
    let mut a = Analyzer::new(cfg, "fuzz", reader.format);
    if let Some(k) = keylog {
        a.add_keylog_text(k);
    }
    pagetrace::pipeline::drive(&mut reader, &mut a, |_| {});
    Some(serde_json::to_vec(&a.finish()).expect("a report serializes"))
}

/// Ethernet frames straight into an analyzer (no capture file), one millisecond apart.
pub struct Feed {
    a: Analyzer,
    frame: u64,
    ts: i64,
}

impl Feed {
    pub fn new(keylog: Option<&str>) -> Feed {
        let mut a = Analyzer::new(AnalyzerConfig::default(), "fuzz", "pcap");
        if let Some(k) = keylog {
            a.add_keylog_text(k);
        }
        Feed {
            a,
            frame: 0,
            ts: 1_700_000_000_000_000_000,
        }
    }

    pub fn packet(&mut self, data: &[u8]) {
        self.frame += 1;
        self.ts += 1_000_000;
        self.a.handle_packet(&Packet {
            frame: self.frame,
            ts: Ts(self.ts),
            link: LinkType::Ethernet,
            data,
            orig_len: data.len() as u32,
        });
    }

    /// Moves capture time on (idle timeouts, fragment expiry).
    pub fn advance_ms(&mut self, ms: i64) {
        self.ts += ms * 1_000_000;
    }

    /// Ends the capture; the report goes through JSON, and is returned (for the seed
    /// tool's self-check).
    pub fn finish(self) -> Report {
        let report = self.a.finish();
        serde_json::to_vec(&report).expect("a report serializes");
        report
    }
}

/// Reads a byte-split structured input: bytes, and chunks with a 16-bit big-endian length
/// (cut to what is left, so every input is valid).
pub struct Ops<'a> {
    data: &'a [u8],
}

impl<'a> Ops<'a> {
    pub fn new(data: &'a [u8]) -> Ops<'a> {
        Ops { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    pub fn chunk(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?).min(self.data.len());
        let (c, rest) = self.data.split_at(n);
        self.data = rest;
        Some(c)
    }
}

/// Writes what [`Ops::chunk`] reads (the seed generator uses it).
pub fn put_chunk(out: &mut Vec<u8>, data: &[u8]) {
    let n = data.len().min(65_535);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&data[..n]);
}
