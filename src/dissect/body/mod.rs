//! A response body as it streams, shared by HTTP/1.x, HTTP/2 and HTTP/3: hashed
//! (`--body-hash`) and decoded (Content-Encoding), never kept.
//!
//! **Consumes** one response body as transferred (HTTP/1.x after chunked de-framing, HTTP/2
//! and HTTP/3 DATA payloads), in order and in any split, through [`BodySink::data`]; a loss
//! inside it is [`BodySink::cut`], its framing's end (Content-Length reached, the last chunk,
//! END_STREAM, FIN) is [`BodySink::end`].
//!
//! **Produces** the body's SHA-256 as transferred ([`BodySink::sha256`]) and [`Decoded`]: the
//! size of the content once the codings of Content-Encoding are undone (RFC 9110 8.4), in
//! reverse order of their listing (`gzip, br` is brotli-decoded, then gunzipped). No coding
//! (or `identity`) is [`Decoded::Identity`]: the body is the content. A coding this build
//! does not decode (see [`coding`]), more than [`MAX_CODINGS`] of them, or a 206 (a range of
//! the coded representation, not a stream) is [`Decoded::Unknown`], without a warning.
//!
//! **Guarantees**: no panic on any input; memory per body is the decoders' windows (at
//! most 16 MiB for brotli, 8 MiB for zstd, 32 KiB for gzip and deflate) plus a 16 KiB buffer
//! per coding on the stack while a call runs; the windows of one connection's open bodies
//! together stay within [`MAX_DECODER_MEMORY`] (a body past it is not decoded: a `cap`
//! warning, [`Decoded::Unknown`]); time is linear in the bytes on the wire, since what a
//! body decodes to is capped by [`decode_limit`]. Reaching the cap stops decoding with a
//! `cap` warning ([`DecodeStop::Cap`]); a corrupt stream stops it with a `malformed` warning
//! ([`DecodeStop::Corrupt`]); a body cut by loss, a reset or the capture's end, or whose
//! framing ended before its coded stream did (the latter with a `truncated` warning), is
//! [`DecodeStop::Truncated`]. In each case the count is what decoded before the stop.

pub mod coding;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use crate::dissect::http::{DecodeStop, Decoded};
use crate::dissect::stream::StreamCtx;
use crate::warning::WarningKind;
use coding::{Coding, CodingError, Stage};

/// Most codings listed in one Content-Encoding that are decoded; a longer list is not.
pub const MAX_CODINGS: usize = 4;
/// What one body may decode to, at most.
pub const MAX_DECODED_BYTES: u64 = 64 << 20;
/// What one body may decode to per byte on the wire: twice DEFLATE's own ceiling (258 bytes
/// from 2 bits, 1032:1), so no gzip or deflate body reaches it; brotli and zstd go past it
/// only on degenerate content such as long runs of one byte.
pub const MAX_DECODE_RATIO: u64 = 2064;
/// What any body may decode to beyond the ratio (a short body of one repeated byte).
pub const DECODE_SLACK: u64 = 64 << 10;
/// Decoder memory (windows and state, as [`coding::memory`] estimates it) that the open
/// bodies of one connection may hold together.
pub const MAX_DECODER_MEMORY: usize = 64 << 20;
/// Output buffer of each decoding stage, on the stack.
const CHUNK: usize = 16 << 10;

/// What a body with `wire` bytes transferred so far may decode to: at most
/// [`MAX_DECODED_BYTES`], and at most [`MAX_DECODE_RATIO`] times `wire` plus
/// [`DECODE_SLACK`]. Each stage of a chain is held to it, so decoding costs at most a
/// constant times the bytes on the wire.
pub fn decode_limit(wire: u64) -> u64 {
    MAX_DECODED_BYTES.min(
        wire.saturating_mul(MAX_DECODE_RATIO)
            .saturating_add(DECODE_SLACK),
    )
}

/// The codings a response's Content-Encoding field values list, in the order applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codings {
    /// None, or only `identity`.
    Identity,
    Known(Vec<Coding>),
    /// A coding not decoded here, or more than [`MAX_CODINGS`].
    Unknown,
}

impl Codings {
    /// From every Content-Encoding field value (a field may be a comma-separated list and
    /// may be repeated, RFC 9110 5.3).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Codings {
        let mut v = Vec::new();
        for token in values.into_iter().flat_map(|s| s.split(',')) {
            let t = token.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("identity") {
                continue;
            }
            match Coding::from_token(t) {
                Some(c) if v.len() < MAX_CODINGS => v.push(c),
                _ => return Codings::Unknown,
            }
        }
        if v.is_empty() {
            Codings::Identity
        } else {
            Codings::Known(v)
        }
    }

    /// The codings to undo in a response of `status`: a 206 carries a range of the coded
    /// representation (RFC 9110 14.1), not a stream, so none are.
    pub fn for_response<'a>(
        status: Option<u16>,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Codings {
        match Codings::parse(values) {
            Codings::Known(_) if status == Some(206) => Codings::Unknown,
            c => c,
        }
    }
}

/// Decoder memory of one connection: each running decoder holds its share and gives it
/// back when dropped. Cloning shares the account.
#[derive(Debug, Clone, Default)]
pub struct DecoderBudget(Arc<AtomicUsize>);

impl DecoderBudget {
    pub fn new() -> DecoderBudget {
        DecoderBudget::default()
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|&t| t <= MAX_DECODER_MEMORY)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// Names the body in warnings: `HTTP/2 stream 5 response body`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyOf {
    pub protocol: &'static str,
    pub stream: Option<u64>,
}

impl std::fmt::Display for BodyOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stream {
            Some(s) => write!(f, "{} stream {s} response body", self.protocol),
            None => write!(f, "{} response body", self.protocol),
        }
    }
}

/// One response body's hash and decoding. See the module documentation.
#[derive(Debug, Default)]
pub struct BodySink {
    hasher: Option<Box<Sha256>>,
    decode: Decode,
}

#[derive(Debug, Default)]
enum Decode {
    #[default]
    Unknown,
    Identity,
    Running(Box<Decoder>),
    Stopped {
        bytes: u64,
        stop: Option<DecodeStop>,
    },
}

impl BodySink {
    /// The sink of a response body: hashed when `hash`, decoded through `codings`.
    pub fn new(hash: bool, codings: Codings, of: BodyOf, budget: &DecoderBudget) -> BodySink {
        BodySink {
            hasher: hash.then(Box::default),
            decode: match codings {
                Codings::Identity => Decode::Identity,
                Codings::Unknown => Decode::Unknown,
                Codings::Known(v) => Decode::Running(Box::new(Decoder::new(v, of, budget))),
            },
        }
    }

    /// Whether [`Self::data`] does anything: a hash or a decoding is running.
    pub fn wants_bytes(&self) -> bool {
        self.hasher.is_some() || matches!(self.decode, Decode::Running(_))
    }

    /// Hashes from here on, when nothing does yet (HTTP/2 DATA whose response HEADERS the
    /// capture did not show).
    pub fn hash_from_here(&mut self) {
        self.hasher.get_or_insert_with(Box::default);
    }

    /// The body's next bytes.
    pub fn data(&mut self, bytes: &[u8], ctx: &mut StreamCtx) {
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        }
        if let Decode::Running(d) = &mut self.decode {
            if let Some(stop) = d.feed(bytes, ctx) {
                self.decode = stop;
            }
        }
    }

    /// Bytes of the body were lost: no hash, and decoding stops where it is.
    pub fn cut(&mut self) {
        self.hasher = None;
        if let Decode::Running(d) = &self.decode {
            self.decode = Decode::Stopped {
                bytes: d.decoded(),
                stop: Some(DecodeStop::Truncated),
            };
        }
    }

    /// The body's framing ended: its coded stream should have ended too.
    pub fn end(&mut self, ctx: &mut StreamCtx) {
        if let Decode::Running(d) = &self.decode {
            self.decode = d.end(ctx);
        }
    }

    /// Hex SHA-256 of the bytes so far (`--body-hash`, no loss).
    pub fn sha256(&self) -> Option<String> {
        self.hasher
            .as_ref()
            .map(|h| crate::dissect::tls::fingerprint::hex(&(**h).clone().finalize()))
    }

    /// The decoding as it stands. A body whose framing has not said it ended (cut by the
    /// connection's end, reset, or still arriving) is [`DecodeStop::Truncated`], unless
    /// bytes came and its coded streams happen to be whole.
    pub fn decoded(&self) -> Decoded {
        match &self.decode {
            Decode::Unknown => Decoded::Unknown,
            Decode::Identity => Decoded::Identity,
            Decode::Running(d) => Decoded::Bytes {
                bytes: d.decoded(),
                stop: (d.wire == 0 || !d.whole()).then_some(DecodeStop::Truncated),
            },
            Decode::Stopped { bytes, stop } => Decoded::Bytes {
                bytes: *bytes,
                stop: *stop,
            },
        }
    }
}

/// A chain of decoders for one body, first stage first (the last coding listed).
#[derive(Debug)]
struct Decoder {
    stages: Vec<Stage>,
    /// Per stage: bytes it wrote, and whether its stream ended.
    out: Vec<u64>,
    ended: Vec<bool>,
    codings: Vec<Coding>,
    wire: u64,
    of: BodyOf,
    budget: DecoderBudget,
    /// Budget held; taken at the first byte.
    held: usize,
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.budget.give(self.held);
    }
}

/// Why decoding stopped inside a call.
enum Halt {
    Cap,
    Corrupt(Coding, CodingError),
}

impl Decoder {
    fn new(mut codings: Vec<Coding>, of: BodyOf, budget: &DecoderBudget) -> Decoder {
        // RFC 9110 8.4: "the order in which they were applied": undone last first.
        codings.reverse();
        Decoder {
            stages: Vec::new(),
            out: vec![0; codings.len()],
            ended: vec![false; codings.len()],
            codings,
            wire: 0,
            of,
            budget: budget.clone(),
            held: 0,
        }
    }

    fn decoded(&self) -> u64 {
        self.out.last().copied().unwrap_or(0)
    }

    /// Every stage's stream ended, or rests at a frame's end; an empty body is whole too.
    fn whole(&self) -> bool {
        self.wire == 0
            || (0..self.codings.len())
                .all(|i| self.ended[i] || self.stages.get(i).is_some_and(Stage::at_rest))
    }

    /// Decodes `bytes`; returns the sink's new state when decoding stopped.
    fn feed(&mut self, bytes: &[u8], ctx: &mut StreamCtx) -> Option<Decode> {
        if bytes.is_empty() {
            return None;
        }
        if self.stages.is_empty() {
            if let Some(stop) = self.start(bytes[0], ctx) {
                return Some(stop);
            }
        }
        self.wire = self.wire.saturating_add(bytes.len() as u64);
        let limit = decode_limit(self.wire);
        let halt = pump(
            &mut self.stages,
            &mut self.out,
            &mut self.ended,
            bytes,
            limit,
        )
        .err()?;
        let decoded = self.decoded().min(limit);
        let (kind, stop, msg) = match halt {
            Halt::Cap => (
                WarningKind::Cap,
                DecodeStop::Cap,
                format!(
                    "{}: decoding stopped at {limit} bytes, the cap for {} bytes on the \
                     wire (a decompression bomb?)",
                    self.of, self.wire
                ),
            ),
            Halt::Corrupt(c, e) => (
                WarningKind::Malformed,
                DecodeStop::Corrupt,
                format!(
                    "{}: {} coding does not decode after {} bytes on the wire ({}); \
                     {decoded} bytes decoded before",
                    self.of,
                    c.name(),
                    self.wire,
                    e.0
                ),
            ),
        };
        ctx.warn(kind, msg);
        Some(Decode::Stopped {
            bytes: decoded,
            stop: Some(stop),
        })
    }

    /// Takes the budget and makes the stages, at the body's first byte.
    fn start(&mut self, first: u8, ctx: &mut StreamCtx) -> Option<Decode> {
        let need: usize = self
            .codings
            .iter()
            .enumerate()
            .map(|(i, &c)| coding::memory(c, (i == 0).then_some(first)))
            .sum();
        if !self.budget.take(need) {
            ctx.warn(
                WarningKind::Cap,
                format!(
                    "{}: not decoded, its decoders would need {need} bytes beside the {} \
                     already held by this connection's open bodies (cap {MAX_DECODER_MEMORY})",
                    self.of,
                    self.budget.used()
                ),
            );
            return Some(Decode::Unknown);
        }
        self.held = need;
        for &c in &self.codings {
            match Stage::new(c) {
                Ok(s) => self.stages.push(s),
                Err(e) => {
                    ctx.warn(WarningKind::Unsupported, format!("{}: {}", self.of, e.0));
                    return Some(Decode::Unknown);
                }
            }
        }
        None
    }

    /// The framing ended the body: whole, or cut short of its coded stream's end.
    fn end(&self, ctx: &mut StreamCtx) -> Decode {
        let bytes = self.decoded();
        if self.whole() {
            return Decode::Stopped { bytes, stop: None };
        }
        let open = (0..self.codings.len())
            .find(|&i| !self.ended[i])
            .map_or("", |i| self.codings[i].name());
        ctx.warn(
            WarningKind::Truncated,
            format!(
                "{}: ended inside its {open} stream after {} bytes on the wire, {bytes} \
                 decoded",
                self.of, self.wire
            ),
        );
        Decode::Stopped {
            bytes,
            stop: Some(DecodeStop::Truncated),
        }
    }
}

/// Runs `input` through `stages` (the first decodes the wire bytes; each feeds the next),
/// counting what each writes in `out`. Bytes after a stage's stream ended are ignored, as
/// browsers do.
fn pump(
    stages: &mut [Stage],
    out: &mut [u64],
    ended: &mut [bool],
    mut input: &[u8],
    limit: u64,
) -> Result<(), Halt> {
    let (Some((stage, stages)), Some((count, out)), Some((done, ended))) = (
        stages.split_first_mut(),
        out.split_first_mut(),
        ended.split_first_mut(),
    ) else {
        return Ok(());
    };
    let mut buf = [0u8; CHUNK];
    while !*done {
        let s = stage
            .step(input, &mut buf)
            .map_err(|e| Halt::Corrupt(stage.coding(), e))?;
        input = input.get(s.read..).unwrap_or_default();
        *count = count.saturating_add(s.written as u64);
        if *count > limit {
            return Err(Halt::Cap);
        }
        if s.written > 0 {
            pump(stages, out, ended, &buf[..s.written], limit)?;
        }
        *done = s.end;
        if s.read == 0 && s.written == 0 {
            break;
        }
    }
    Ok(())
}
