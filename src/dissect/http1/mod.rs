//! HTTP/1.0 and HTTP/1.1 over one reassembled TCP stream (RFC 9112), or over decrypted TLS.
//!
//! **Consumes** the stream contract of [`crate::dissect::stream`]: `handle_data`, `handle_gap`
//! and `handle_close`, requests on [`Dir::ToServer`] and responses on [`Dir::ToClient`], in any
//! split (a head, a chunk-size line or a CRLF may straddle calls; results do not depend on it).
//!
//! **Produces** one [`Exchange`] per request, in request order, responses paired to
//! requests in order (pipelining included; interim 1xx responses are skipped and remembered,
//! see [`Http1Dissector::informational`]); a [`Switch`] after `101 Switching Protocols` or a
//! CONNECT tunnel; [`DohMessage`]s for RFC 8484 exchanges; warnings in the [`StreamCtx`].
//! Times: `request_ts` is the capture time of the segment carrying the request's first byte,
//! `request_end_ts` of its last byte (body included), `response_ts` / `response_end_ts` the
//! same for the response; `ttfb_ms = response_ts - request_end_ts` (negative when a server
//! answers before the request is complete), `download_ms = response_end_ts - response_ts`.
//! `body_bytes` / `request_body_bytes` count the body as transferred: for chunked, the sum of
//! the chunk data sizes (framing excluded), before any content coding is undone; bytes lost
//! in a gap are not counted. `body_sha256` hashes the same bytes (`body_hash` on, no gap), and
//! `decoded` undoes the response's Content-Encoding as the body streams (see
//! [`crate::dissect::body`]; transfer codings other than chunked are not undone).
//!
//! **Guarantees**: no panic on any input; bodies are never buffered, only counted (hashed and
//! decoded within the decoders' windows, or kept up to [`Http1Options::max_doh_message`] for
//! DoH); a head is buffered only while it
//! spans calls, up to [`Http1Options::max_head`] (beyond: a `cap` warning and that direction
//! is abandoned); at most [`Http1Options::max_exchanges`] exchanges are retained.
//!
//! Framing follows RFC 9112 section 6.3: no body for responses to HEAD, 1xx, 204 and 304;
//! a 2xx to CONNECT opens a tunnel; Transfer-Encoding overrides Content-Length (both present
//! is warned about); chunked must be the final coding (else a response runs to the close, a
//! request is unrecoverable); an invalid or conflicting Content-Length is a `malformed`
//! warning and the direction resynchronises; a response with neither runs to the close, a
//! request with neither has no body. Loss: a gap inside a Content-Length body only reduces the
//! count and keeps the framing (the exchange is marked incomplete); a gap inside a head or
//! chunked framing makes the direction resynchronise at the next plausible start line (a
//! known method at a line start, or `HTTP/1.x NNN` anywhere), giving up after
//! [`Http1Options::max_resync_scan`] bytes without one.
//!
//! Per direction the state machine is:
//!
//! ```text
//!            ┌────────── body done ───────────┐
//!            v                                │
//! Idle ──> Head ──head parsed──> (no body) ──>┤ Body (Length | Chunked | UntilClose)
//!  ^  │       │                                 │
//!  │  │       └─ garbage / gap ─> Resync ──start line──> Head
//!  │  └─ HTTP/2 preface after an h2c offer ─> Switched   (no more bytes consumed)
//!  └─ 101 / CONNECT 2xx: both directions ────> Switched
//! any ── head over the cap, chunk size overflow, resync budget spent ──> Dead
//! ```

mod chunked;
mod head;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use crate::dissect::body::{BodyOf, BodySink, Codings, DecoderBudget};
pub use crate::dissect::http::SwitchProtocol;
use crate::dissect::http::{Exchange, HttpVersion};
use crate::dissect::stream::{Dir, StreamCtx};
use crate::time::Ts;

use crate::dissect::dns::doh::{self, DohMessage};
use crate::warning::WarningKind;
use chunked::{ChunkDecoder, ChunkStep};
pub use head::looks_like_http1;
use head::{ContentLength, Head, HeadScan, Plausible, ScanStop};

/// What an [`Http1Dissector`] is told about its connection, and its caps.
#[derive(Debug, Clone)]
pub struct Http1Options {
    /// `http`, or `https` on decrypted TLS: the scheme of the URLs built.
    pub scheme: String,
    /// Authority for URLs when a request has no Host (the server's address, as
    /// `192.0.2.1`, `[2001:db8::1]:8080`); used verbatim.
    pub fallback_host: Option<String>,
    /// Hash response bodies (SHA-256 of the bytes as transferred, de-chunked).
    pub body_hash: bool,
    /// Header values are cut at this many bytes (and `headers_truncated` set).
    pub max_header_value: usize,
    /// A head (start line and header section) or a trailer section may not exceed this.
    pub max_head: usize,
    /// DoH bodies kept for DNS decoding up to this size; larger ones are a `cap` warning.
    pub max_doh_message: usize,
    /// Exchanges retained (not yet taken); beyond, a `cap` warning and both directions stop.
    pub max_exchanges: usize,
    /// Bytes scanned for a start line after loss or garbage before giving up the direction.
    pub max_resync_scan: u64,
}

impl Default for Http1Options {
    fn default() -> Http1Options {
        Http1Options {
            scheme: "http".to_string(),
            fallback_host: None,
            body_hash: false,
            max_header_value: 8 * 1024,
            max_head: 64 * 1024,
            max_doh_message: 64 * 1024,
            max_exchanges: 100_000,
            max_resync_scan: 4 * 1024 * 1024,
        }
    }
}

/// The connection stopped speaking HTTP/1.x. From then on `handle_data` consumes nothing in a
/// switched direction: the caller hands `data[consumed..]` and all later bytes of that
/// direction to the new protocol.
#[derive(Debug, Clone)]
pub struct Switch {
    pub protocol: SwitchProtocol,
    /// Capture time of the 101 or the CONNECT's 2xx (or of the client's HTTP/2 preface when
    /// that is seen first).
    pub ts: Ts,
    /// The exchange that switched, in [`Http1Dissector::first_index`] numbering.
    pub exchange_index: Option<usize>,
    /// For h2c: the upgrade request; its response arrives as HTTP/2 stream 1
    /// (RFC 7540 section 3.2).
    pub request: Option<Exchange>,
}

/// Counters of what the dissector saw and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Http1Stats {
    pub requests: u64,
    /// Final responses (101 included).
    pub responses: u64,
    /// Interim 1xx responses other than 101.
    pub interim: u64,
    /// Times a direction found a message again after garbage or loss.
    pub resyncs: u64,
    /// Bytes not understood: skipped while resynchronising or after giving up, per
    /// direction ([`Dir::index`]).
    pub skipped: [u64; 2],
}

/// Most interim statuses remembered per exchange.
const MAX_INTERIM: usize = 8;
/// Bytes of the start of a head judged for plausibility (a 32-byte method and its SP fit).
const PROBE: usize = 40;
/// Warning for a message with both framings.
const BOTH_TE_CL: &str =
    "Transfer-Encoding and Content-Length both present; Transfer-Encoding wins";
/// The HTTP/2 client connection preface (RFC 9113 section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Consecutive calls that consumed nothing before the loop is declared stuck (a bug guard).
const MAX_STALLS: u32 = 8;

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(ChunkDecoder),
    UntilClose,
}

#[derive(Debug)]
struct Body {
    /// Absolute index of the exchange the body belongs to.
    index: usize,
    framing: Framing,
}

#[derive(Debug, Default)]
enum State {
    /// Between messages: empty lines are skipped (RFC 9112 section 2.2).
    #[default]
    Idle,
    /// Reading a head; it is in `DirState::buf` when it spans calls.
    Head,
    Body(Body),
    /// After loss or garbage: looking for a plausible start line.
    Resync {
        line_start: bool,
        scanned: u64,
    },
    /// Given up: bytes are dropped.
    Dead,
    /// Another protocol owns the rest of this direction.
    Switched,
}

#[derive(Debug, Default)]
struct DirState {
    state: State,
    /// The head being read, when it spans calls (never more than `max_head`).
    buf: Vec<u8>,
    /// Capture time of the head's first byte, and of the last byte buffered so far.
    head_ts: Ts,
    head_last_ts: Ts,
    /// The head's first bytes were judged a plausible start line.
    start_ok: bool,
    /// The head was found by resynchronisation: require a known method.
    strict: bool,
    scan: HeadScan,
    /// Capture time of the last body byte so far (the head's end before any).
    last_ts: Ts,
    /// The response body's hash and decoding.
    body: BodySink,
    /// The body kept for DoH, while within the cap.
    doh: Option<Vec<u8>>,
    /// Switch once the current body ends (a 101 came while the upgrade request's body was
    /// still in flight).
    switch_after_body: bool,
}

/// What the dissector knows about an exchange beyond the report fields.
#[derive(Debug, Default, Clone)]
struct Track {
    /// The request's body is still arriving.
    req_open: bool,
    /// The response has not ended.
    resp_open: bool,
    /// Something is missing: a gap, a truncation, invalid framing.
    cut: bool,
    head: bool,
    connect: bool,
    upgrade_offer: Vec<String>,
    doh_req: bool,
    interim: Vec<u16>,
}

/// The HTTP/1.x dissector of one connection. See the module documentation.
#[derive(Debug)]
pub struct Http1Dissector {
    opts: Http1Options,
    dirs: [DirState; 2],
    exchanges: Vec<Exchange>,
    tracks: Vec<Track>,
    /// Absolute index of `exchanges[0]` (exchanges already taken).
    base: usize,
    /// Absolute indices of requests awaiting their final response, oldest first.
    pending: VecDeque<usize>,
    switch: Option<Switch>,
    doh_out: Vec<DohMessage>,
    stats: Http1Stats,
    /// Decoder memory of this connection's response bodies (one at a time here).
    decoders: DecoderBudget,
    full: bool,
    closed: bool,
    /// The frame being handled: a message ends in it.
    frame: Option<u64>,
}

impl Http1Dissector {
    pub fn new(opts: Http1Options) -> Http1Dissector {
        Http1Dissector {
            opts,
            dirs: Default::default(),
            exchanges: Vec::new(),
            tracks: Vec::new(),
            base: 0,
            pending: VecDeque::new(),
            switch: None,
            doh_out: Vec::new(),
            stats: Http1Stats::default(),
            decoders: DecoderBudget::new(),
            full: false,
            closed: false,
            frame: None,
        }
    }

    /// Exchanges not yet taken, in request order.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Connection-wide index of `exchanges()[0]`: how many were taken by [`Self::take_finished`].
    pub fn first_index(&self) -> usize {
        self.base
    }

    /// Removes and returns the leading exchanges whose request and response have both ended
    /// (completely or not), for live output. Order is kept; later ones wait for earlier ones.
    pub fn take_finished(&mut self) -> Vec<Exchange> {
        let n = self
            .tracks
            .iter()
            .take_while(|t| !t.req_open && !t.resp_open)
            .count();
        self.tracks.drain(..n);
        self.base += n;
        self.exchanges.drain(..n).collect()
    }

    /// Interim (1xx) statuses seen before the final response of the exchange with this
    /// connection-wide index, e.g. `[100]` after `Expect: 100-continue`.
    pub fn informational(&self, index: usize) -> &[u16] {
        index
            .checked_sub(self.base)
            .and_then(|i| self.tracks.get(i))
            .map_or(&[][..], |t| t.interim.as_slice())
    }

    /// The protocol switch, once a 101 (or CONNECT 2xx, or h2c preface) was seen.
    pub fn switched(&self) -> Option<&Switch> {
        self.switch.as_ref()
    }

    /// Whether this direction is switched (consumes nothing more).
    pub fn is_switched(&self, dir: Dir) -> bool {
        matches!(self.dirs[dir.index()].state, State::Switched)
    }

    /// DNS messages found in DoH exchanges since the last call, in the order they completed.
    pub fn take_doh_messages(&mut self) -> Vec<DohMessage> {
        std::mem::take(&mut self.doh_out)
    }

    pub fn stats(&self) -> Http1Stats {
        self.stats
    }

    /// The next bytes of `dir`. Returns how many were consumed: all of them, except once the
    /// direction has switched protocols ([`Self::switched`]), when the rest is the new protocol's.
    pub fn handle_data(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut StreamCtx) -> usize {
        self.frame = ctx.frame();
        let d = dir.index();
        let mut pos = 0;
        let mut stalls = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let n = match self.dirs[d].state {
                State::Switched => return pos,
                State::Dead => {
                    self.skipped(dir, rest.len());
                    return data.len();
                }
                State::Idle => self.feed_idle(dir, ts, rest),
                State::Head => self.feed_head(dir, ts, rest, ctx),
                State::Body(_) => self.feed_body(dir, ts, rest, ctx),
                State::Resync { .. } => self.feed_resync(dir, ts, rest, ctx),
            };
            let n = n.min(rest.len());
            pos += n;
            if n == 0 {
                stalls += 1;
                if stalls > MAX_STALLS {
                    self.give_up(
                        dir,
                        ctx,
                        WarningKind::Malformed,
                        "HTTP/1 parser made no progress; giving up this direction",
                    );
                }
            } else {
                stalls = 0;
            }
        }
        pos
    }

    /// How many of `dir`'s next bytes are only counted, so that a decryptor may pass them
    /// by unread ([`Self::skip`]): the rest of a body (of its chunk, when chunked) whose
    /// bytes nothing hashes, decodes or keeps for DoH, or anything after the direction was
    /// given up. `None` with `--body-hash`, which reads every body byte.
    pub fn skippable(&self, dir: Dir) -> Option<u64> {
        if self.opts.body_hash {
            return None;
        }
        let ds = &self.dirs[dir.index()];
        Some(match &ds.state {
            State::Dead => u64::MAX,
            State::Body(body) if !ds.body.wants_bytes() && ds.doh.is_none() => {
                match &body.framing {
                    Framing::Length(rem) => *rem,
                    Framing::UntilClose => u64::MAX,
                    Framing::Chunked(dec) => dec.data_left(),
                }
            }
            _ => 0,
        })
    }

    /// `len` bytes of `dir` (at most [`Self::skippable`]) went by unread: what
    /// [`Self::handle_data`] does with bytes it only counts.
    pub fn skip(&mut self, dir: Dir, ts: Ts, len: u64, ctx: &mut StreamCtx) {
        self.frame = ctx.frame();
        let d = dir.index();
        let ds = &mut self.dirs[d];
        let (index, done) = match &mut ds.state {
            State::Dead => {
                self.skipped(dir, usize::try_from(len).unwrap_or(usize::MAX));
                return;
            }
            State::Body(body) => {
                let done = match &mut body.framing {
                    Framing::Length(rem) => {
                        *rem = rem.saturating_sub(len);
                        *rem == 0
                    }
                    Framing::UntilClose => false,
                    Framing::Chunked(dec) => {
                        dec.skip_data(len);
                        false
                    }
                };
                (body.index, done)
            }
            _ => return,
        };
        ds.last_ts = ts;
        self.count_body(dir, index, len);
        if done {
            self.end_body(dir, ts, ctx);
        }
    }

    /// `len` bytes of `dir` were never captured.
    pub fn handle_gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx) {
        self.frame = ctx.frame();
        enum Act {
            Stop,
            HeadLoss(bool),
            Shortened(usize),
            PastEnd(usize, u64),
            Chunked(usize),
        }
        let d = dir.index();
        let mut len = len;
        while len > 0 {
            let act = match &mut self.dirs[d].state {
                State::Switched | State::Dead => Act::Stop,
                State::Resync { line_start, .. } => {
                    *line_start = false;
                    Act::Stop
                }
                State::Idle => Act::HeadLoss(false),
                State::Head => Act::HeadLoss(true),
                State::Body(body) => match &mut body.framing {
                    // RFC 9112 section 6.3: the length frames the message; the loss only
                    // shortens what is counted.
                    Framing::Length(rem) if len < *rem => {
                        *rem -= len;
                        Act::Shortened(body.index)
                    }
                    Framing::Length(rem) => Act::PastEnd(body.index, *rem),
                    Framing::UntilClose => Act::Shortened(body.index),
                    Framing::Chunked(_) => Act::Chunked(body.index),
                },
            };
            match act {
                Act::Stop => return,
                Act::HeadLoss(inside) => {
                    let what = if inside { "inside" } else { "before" };
                    ctx.warn(
                        WarningKind::Gap,
                        format!(
                            "{} {} bytes lost {what} an HTTP/1 head; resynchronising",
                            crate::dissect::stream::gap_len(len),
                            dir.sender()
                        ),
                    );
                    if !self.salvage_head(dir, ctx) {
                        self.lost_message_start(dir, ctx);
                    }
                    self.resync(dir, false);
                    return;
                }
                Act::Shortened(index) => {
                    self.mark_cut(dir, index);
                    return;
                }
                Act::PastEnd(index, rem) => {
                    // The body ends inside the gap; the rest of the gap is the next message's.
                    self.mark_cut(dir, index);
                    self.end_body(dir, ts, ctx);
                    len -= rem;
                }
                Act::Chunked(index) => {
                    ctx.warn(
                        WarningKind::Gap,
                        format!(
                            "{} bytes lost inside a chunked {} body; resynchronising",
                            crate::dissect::stream::gap_len(len),
                            dir.sender()
                        ),
                    );
                    self.mark_cut(dir, index);
                    self.end_body(dir, ts, ctx);
                    self.resync(dir, false);
                    return;
                }
            }
        }
    }

    /// The connection ended (FIN, RST or end of capture): a body framed by the close ends;
    /// any other open message is incomplete. Messages end at their last byte, not at `_ts`.
    pub fn handle_close(&mut self, _ts: Ts, ctx: &mut StreamCtx) {
        if self.closed {
            return;
        }
        self.frame = ctx.frame();
        self.closed = true;
        for dir in [Dir::ToServer, Dir::ToClient] {
            let d = dir.index();
            match &self.dirs[d].state {
                State::Body(Body {
                    framing: Framing::UntilClose,
                    ..
                }) => {
                    let end = self.dirs[d].last_ts;
                    self.end_body(dir, end, ctx);
                }
                State::Body(Body { index, framing }) => {
                    let index = *index;
                    let left = match framing {
                        Framing::Length(rem) => {
                            format!("{rem} bytes before the end of its Content-Length")
                        }
                        _ => "inside its chunked body".to_string(),
                    };
                    ctx.warn(
                        WarningKind::Truncated,
                        format!("connection closed {left} ({} side)", dir.sender()),
                    );
                    self.mark_cut(dir, index);
                    let end = self.dirs[d].last_ts;
                    self.end_body(dir, end, ctx);
                }
                State::Head if !self.dirs[d].buf.is_empty() => {
                    ctx.warn(
                        WarningKind::Truncated,
                        format!(
                            "connection closed inside an HTTP/1 head ({} bytes from the {})",
                            self.dirs[d].buf.len(),
                            dir.sender()
                        ),
                    );
                    self.salvage_head(dir, ctx);
                }
                _ => {}
            }
            let ds = &mut self.dirs[d];
            if !matches!(ds.state, State::Switched) {
                ds.state = State::Dead;
            }
            ds.buf = Vec::new();
            ds.body = BodySink::default();
            ds.doh = None;
        }
        for t in &mut self.tracks {
            t.req_open = false;
            t.resp_open = false;
        }
        self.pending.clear();
        for i in 0..self.exchanges.len() {
            self.refresh(self.base + i);
        }
    }

    // ----- per-state feeders: each consumes at least one byte or changes state -----

    fn feed_idle(&mut self, dir: Dir, ts: Ts, rest: &[u8]) -> usize {
        // RFC 9112 section 2.2: ignore empty lines received before a start line.
        let skip = rest
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if skip > 0 {
            return skip;
        }
        if dir == Dir::ToServer {
            if let Some(index) = self.h2c_offer_pending() {
                let n = rest.len().min(H2_PREFACE.len());
                if rest.get(..n) == H2_PREFACE.get(..n) {
                    // RFC 7540 section 3.2: after the 101 the client sends the preface; it
                    // can be seen before the 101 is, when directions interleave.
                    self.dirs[0].state = State::Switched;
                    self.record_switch(SwitchProtocol::H2c, ts, index);
                    return 0;
                }
            }
        }
        let ds = &mut self.dirs[dir.index()];
        ds.state = State::Head;
        ds.head_ts = ts;
        ds.start_ok = false;
        ds.strict = false;
        ds.scan = HeadScan::default();
        ds.buf.clear();
        0
    }

    fn feed_head(&mut self, dir: Dir, ts: Ts, rest: &[u8], ctx: &mut StreamCtx) -> usize {
        let d = dir.index();
        if !self.dirs[d].start_ok {
            if let Some(n) = self.check_start(dir, rest, ctx) {
                return n;
            }
        }
        // Fast path: the whole head is in this call; parse it in place, no copy.
        if self.dirs[d].buf.is_empty() {
            if let Some(n) = self.head_in_place(dir, ts, rest, ctx) {
                return n;
            }
        }
        self.buffer_head(dir, ts, rest, ctx)
    }

    /// Looks at the first bytes of the head (buffered, then `rest`): `Some` with the bytes
    /// to consume when they cannot begin a start line, `None` to read on.
    fn check_start(&mut self, dir: Dir, rest: &[u8], ctx: &mut StreamCtx) -> Option<usize> {
        let d = dir.index();
        let ds = &self.dirs[d];
        let mut probe = [0u8; PROBE];
        let mut n = 0;
        for (slot, &b) in probe.iter_mut().zip(ds.buf.iter().chain(rest.iter())) {
            *slot = b;
            n += 1;
        }
        match head::start_plausible(dir, probe.get(..n).unwrap_or_default(), ds.strict) {
            Plausible::Yes => self.dirs[d].start_ok = true,
            Plausible::Maybe => {}
            Plausible::No => {
                let what = if dir == Dir::ToServer {
                    "a request line"
                } else {
                    "a status line"
                };
                return Some(self.reject_head(
                    dir,
                    ctx,
                    format!("{} bytes do not begin {what}", dir.sender()),
                    false,
                ));
            }
        }
        None
    }

    /// Parses a head that ends inside `rest` (within the cap) where it lies; `None` when its
    /// end is not there, so it must be buffered.
    fn head_in_place(
        &mut self,
        dir: Dir,
        ts: Ts,
        rest: &[u8],
        ctx: &mut StreamCtx,
    ) -> Option<usize> {
        let d = dir.index();
        let mut scan = self.dirs[d].scan;
        let window = rest
            .get(..rest.len().min(self.opts.max_head))
            .unwrap_or_default();
        let ScanStop::End(end) = scan.scan(window, false) else {
            return None;
        };
        let head_bytes = rest.get(..end).unwrap_or_default();
        match head::parse_head(dir, head_bytes, self.opts.max_header_value) {
            Ok(h) => {
                let start = self.dirs[d].head_ts;
                self.dirs[d].state = State::Idle;
                self.on_head(dir, start, ts, h, ctx);
                Some(end)
            }
            Err(e) => Some(self.reject_head(
                dir,
                ctx,
                format!("invalid {} head: {e}", dir.sender()),
                false,
            )),
        }
    }

    /// Buffers `rest` up to the end of the head's first line or of the head (within the
    /// cap), checks the start line once it is in, and parses the head once it ends.
    fn buffer_head(&mut self, dir: Dir, ts: Ts, rest: &[u8], ctx: &mut StreamCtx) -> usize {
        let cap = self.opts.max_head;
        let ds = &mut self.dirs[dir.index()];
        let stop = ds.scan.scan(rest, true);
        let take = match stop {
            ScanStop::FirstLine(n) | ScanStop::End(n) => n,
            ScanStop::More => rest.len(),
        };
        if ds.buf.len().saturating_add(take) > cap {
            let dropped = ds.buf.len() + rest.len();
            self.skipped(dir, dropped);
            self.give_up(
                dir,
                ctx,
                WarningKind::Cap,
                format!(
                    "{} HTTP/1 head over {cap} bytes; abandoning this direction",
                    dir.sender()
                ),
            );
            return rest.len();
        }
        ds.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        ds.head_last_ts = ts;
        match stop {
            ScanStop::FirstLine(_) => {
                if let Err(e) = head::check_first_line(dir, &ds.buf) {
                    return take
                        + self.reject_head(
                            dir,
                            ctx,
                            format!("invalid {} start line: {e}", dir.sender()),
                            true,
                        );
                }
            }
            ScanStop::End(_) => match head::parse_head(dir, &ds.buf, self.opts.max_header_value) {
                Ok(h) => {
                    ds.buf.clear();
                    let start = ds.head_ts;
                    ds.state = State::Idle;
                    self.on_head(dir, start, ts, h, ctx);
                }
                Err(e) => {
                    return take
                        + self.reject_head(
                            dir,
                            ctx,
                            format!("invalid {} head: {e}", dir.sender()),
                            true,
                        );
                }
            },
            ScanStop::More => {}
        }
        take
    }

    /// The head being read is not HTTP: warn and resynchronise. Returns how many more bytes
    /// of the current input to consume: the first byte of an unbuffered head, so the scan
    /// restarts inside it; nothing when the head was buffered (those bytes are gone).
    fn reject_head(
        &mut self,
        dir: Dir,
        ctx: &mut StreamCtx,
        msg: String,
        line_start: bool,
    ) -> usize {
        let ds = &mut self.dirs[dir.index()];
        // A candidate found while resynchronising that turns out not to be a head is part of
        // the same trouble, already warned about.
        if !ds.strict {
            ctx.warn(WarningKind::Malformed, format!("{msg}; resynchronising"));
        }
        let buffered = ds.buf.len();
        ds.buf.clear();
        self.skipped(dir, buffered);
        self.resync(dir, line_start);
        if buffered == 0 {
            self.skipped(dir, 1);
            1
        } else {
            0
        }
    }

    fn feed_resync(&mut self, dir: Dir, ts: Ts, rest: &[u8], ctx: &mut StreamCtx) -> usize {
        let d = dir.index();
        let State::Resync {
            line_start,
            scanned,
        } = self.dirs[d].state
        else {
            return 0;
        };
        match head::find_resync(dir, rest, line_start) {
            Some(k) => {
                self.skipped(dir, k);
                let ds = &mut self.dirs[d];
                ds.state = State::Head;
                ds.head_ts = ts;
                ds.start_ok = false;
                ds.strict = true;
                ds.scan = HeadScan::default();
                ds.buf.clear();
                k
            }
            None => {
                self.skipped(dir, rest.len());
                let scanned = scanned.saturating_add(rest.len() as u64);
                if scanned > self.opts.max_resync_scan {
                    self.give_up(
                        dir,
                        ctx,
                        WarningKind::Malformed,
                        format!(
                            "no HTTP/1 start line in {scanned} {} bytes; abandoning",
                            dir.sender()
                        ),
                    );
                } else {
                    self.dirs[d].state = State::Resync {
                        line_start: rest.last() == Some(&b'\n'),
                        scanned,
                    };
                }
                rest.len()
            }
        }
    }

    fn feed_body(&mut self, dir: Dir, ts: Ts, rest: &[u8], ctx: &mut StreamCtx) -> usize {
        let d = dir.index();
        let State::Body(body) = &mut self.dirs[d].state else {
            return 0;
        };
        let index = body.index;
        match &mut body.framing {
            Framing::Length(rem) => {
                let n = usize::try_from(*rem).unwrap_or(usize::MAX).min(rest.len());
                *rem -= n as u64;
                let done = *rem == 0;
                self.body_data(dir, index, rest.get(..n).unwrap_or_default(), ts, ctx);
                if done {
                    self.end_body(dir, ts, ctx);
                }
                n
            }
            Framing::UntilClose => {
                self.body_data(dir, index, rest, ts, ctx);
                rest.len()
            }
            Framing::Chunked(dec) => match dec.step(rest) {
                ChunkStep::Framing(n) => n,
                ChunkStep::Data(n) => {
                    self.body_data(dir, index, rest.get(..n).unwrap_or_default(), ts, ctx);
                    n
                }
                ChunkStep::Done(n) => {
                    self.end_body(dir, ts, ctx);
                    n
                }
                ChunkStep::Error(e @ chunked::ChunkError::SizeOverflow) => {
                    self.mark_cut(dir, index);
                    self.skipped(dir, rest.len());
                    self.give_up(
                        dir,
                        ctx,
                        WarningKind::Malformed,
                        format!("{} body: {e}; abandoning this direction", dir.sender()),
                    );
                    rest.len()
                }
                ChunkStep::Error(e) => {
                    ctx.warn(
                        WarningKind::Malformed,
                        format!("{} chunked body: {e}; resynchronising", dir.sender()),
                    );
                    self.mark_cut(dir, index);
                    self.end_body(dir, ts, ctx);
                    self.resync(dir, false);
                    0
                }
            },
        }
    }

    // ----- messages -----

    /// A head was read; returns the index of the exchange it filled.
    fn on_head(
        &mut self,
        dir: Dir,
        start: Ts,
        end: Ts,
        head: Head,
        ctx: &mut StreamCtx,
    ) -> Option<usize> {
        if self.dirs[dir.index()].strict {
            self.stats.resyncs += 1;
        }
        match dir {
            Dir::ToServer => self.on_request(start, end, head, ctx),
            Dir::ToClient => self.on_response(start, end, head, ctx),
        }
    }

    fn on_request(&mut self, start: Ts, end: Ts, head: Head, ctx: &mut StreamCtx) -> Option<usize> {
        let index = self.new_exchange(ctx)?;
        self.stats.requests += 1;
        let method = head.method.unwrap_or_default();
        let target = head.target.unwrap_or_default();
        let f = head.fields;
        let response_gone = matches!(self.dirs[1].state, State::Dead | State::Switched);
        let is_get = method == "GET";
        let doh_req = f.accept_dns
            || f.content_type
                .as_deref()
                .is_some_and(|c| doh::is_dns_message(c.as_bytes()));
        let track = Track {
            req_open: true,
            resp_open: !response_gone,
            head: method == "HEAD",
            connect: method == "CONNECT",
            upgrade_offer: f.upgrade,
            doh_req,
            ..Track::default()
        };
        let ex = Exchange {
            version: HttpVersion::http1(head.version),
            request_version: Some(HttpVersion::http1(head.version)),
            url: self.url_for(&method, &target, f.host.as_deref()),
            method: Some(method),
            path: Some(target),
            request_ts: Some(start),
            request_frame: ctx.frame(),
            request_headers: head.headers,
            headers_truncated: head.truncated,
            ..Exchange::default()
        };
        self.exchanges.push(ex);
        self.tracks.push(track);
        if !response_gone {
            self.pending.push_back(index);
        }
        if doh_req && is_get {
            self.emit_doh_query_from_target(index, end, ctx);
        }

        // RFC 9112 section 6.3, for requests.
        if f.te_present && f.content_length != ContentLength::Absent {
            ctx.warn(WarningKind::Malformed, BOTH_TE_CL);
        }
        let framing = if f.te_present {
            if !f.chunked_final {
                // "If a Transfer-Encoding header field is present in a request and the chunked
                // transfer coding is not the final encoding, the message body length cannot be
                // determined reliably" (RFC 9112 6.3 item 4).
                self.mark_cut(Dir::ToServer, index);
                self.close_request(index, end);
                let why = "request Transfer-Encoding does not end in chunked; abandoning";
                self.give_up(Dir::ToServer, ctx, WarningKind::Malformed, why);
                return Some(index);
            }
            Some(Framing::Chunked(ChunkDecoder::new(self.opts.max_head)))
        } else {
            match f.content_length {
                ContentLength::Absent | ContentLength::Valid(0) => None,
                ContentLength::Valid(n) => Some(Framing::Length(n)),
                ContentLength::Invalid(why) => {
                    ctx.warn(
                        WarningKind::Malformed,
                        format!("request {why}; resynchronising"),
                    );
                    self.mark_cut(Dir::ToServer, index);
                    self.close_request(index, end);
                    self.resync(Dir::ToServer, true);
                    return Some(index);
                }
            }
        };
        let ds = &mut self.dirs[0];
        ds.last_ts = end;
        match framing {
            None => self.end_message(Dir::ToServer, index, end, ctx),
            Some(framing) => {
                ds.doh = (doh_req && !is_get).then(Vec::new);
                ds.state = State::Body(Body { index, framing });
            }
        }
        Some(index)
    }

    fn on_response(
        &mut self,
        start: Ts,
        end: Ts,
        head: Head,
        ctx: &mut StreamCtx,
    ) -> Option<usize> {
        let status = head.status.unwrap_or(0);
        if (100..200).contains(&status) && status != 101 {
            self.on_interim(status);
            return None;
        }
        let index = self.response_exchange(head.version, ctx)?;
        self.stats.responses += 1;
        let f = head.fields;
        let codings = Codings::for_response(Some(status), f.content_encoding.as_deref());
        let t = self.track_mut(index)?;
        let (is_head, is_connect, doh_req) = (t.head, t.connect, t.doh_req);
        let interim = t.interim.clone();
        let offered_h2c = t.upgrade_offer.iter().any(|p| p == "h2c");
        let doh_resp = doh_req
            || f.content_type
                .as_deref()
                .is_some_and(|c| doh::is_dns_message(c.as_bytes()));
        if let Some(ex) = self.exchange_mut(index) {
            ex.status = Some(status);
            ex.informational = interim;
            // `version` is the highest either side declared (an HTTP/1.1 server answering an
            // HTTP/1.0 client spoke HTTP/1.1 on the wire); each side's is kept apart.
            let v = HttpVersion::http1(head.version);
            if v > ex.version {
                ex.version = v;
            }
            ex.response_version = Some(v);
            ex.reason = head.reason;
            ex.response_ts = Some(start);
            ex.response_wire_ts = Some(ctx.first_byte.map_or(start, |f| f.min(start)));
            ex.response_frame = ctx.frame();
            ex.response_headers = head.headers;
            ex.headers_truncated |= head.truncated;
            ex.content_encoding = f.content_encoding;
            ex.transfer_encoding = f.transfer_encoding;
            ex.content_type = f.content_type;
        }
        if doh_resp
            && !doh_req
            && self.exchange(index).and_then(|e| e.method.as_deref()) == Some("GET")
        {
            let query_end = self
                .exchange(index)
                .and_then(|e| e.request_end_ts)
                .unwrap_or(start);
            self.emit_doh_query_from_target(index, query_end, ctx);
        }

        self.dirs[1].last_ts = end;

        if let Some(proto) = response_switch(status, is_connect, offered_h2c, &f.upgrade) {
            if let Some(ex) = self.exchange_mut(index) {
                ex.upgrade = Some(proto.clone());
            }
            self.end_message(Dir::ToClient, index, end, ctx);
            self.switch_both(proto, end, index, ctx);
            return Some(index);
        }

        if f.te_present && f.content_length != ContentLength::Absent {
            ctx.warn(WarningKind::Malformed, BOTH_TE_CL);
        }
        let of = BodyOf {
            protocol: "HTTP/1.x",
            stream: None,
        };
        let ds = &mut self.dirs[1];
        ds.body = BodySink::new(self.opts.body_hash, codings, of, &self.decoders);
        ds.doh = doh_resp.then(Vec::new);
        let bodiless = is_head || status < 200 || status == 204 || status == 304;
        let framing = if bodiless {
            None
        } else {
            match self.response_framing(f.te_present, f.chunked_final, f.content_length) {
                Ok(framing) => framing,
                Err(why) => {
                    ctx.warn(
                        WarningKind::Malformed,
                        format!("response {why}; resynchronising"),
                    );
                    self.mark_cut(Dir::ToClient, index);
                    self.end_message(Dir::ToClient, index, end, ctx);
                    self.resync(Dir::ToClient, true);
                    return Some(index);
                }
            }
        };
        match framing {
            None => self.end_message(Dir::ToClient, index, end, ctx),
            Some(framing) => self.dirs[1].state = State::Body(Body { index, framing }),
        }
        Some(index)
    }

    /// An interim (1xx other than 101) response: counted, and its status kept with the
    /// oldest request awaiting its final response.
    fn on_interim(&mut self, status: u16) {
        // RFC 9110 section 15.2: interim responses precede the final one.
        self.stats.interim += 1;
        if let Some(&i) = self.pending.front() {
            if let Some(t) = self.track_mut(i).filter(|t| t.interim.len() < MAX_INTERIM) {
                t.interim.push(status);
            }
        }
    }

    /// The exchange a final response answers: the oldest pending request, or a new exchange
    /// of its own when no request is waiting (the request was not captured).
    fn response_exchange(&mut self, version: u8, ctx: &mut StreamCtx) -> Option<usize> {
        if let Some(i) = self.pending.pop_front() {
            return Some(i);
        }
        let i = self.new_exchange(ctx)?;
        self.exchanges.push(Exchange {
            version: HttpVersion::http1(version),
            ..Exchange::default()
        });
        self.tracks.push(Track {
            resp_open: true,
            ..Track::default()
        });
        Some(i)
    }

    /// How the body of a response that may have one is delimited (RFC 9112 section 6.3);
    /// `Err` says why its Content-Length is invalid.
    fn response_framing(
        &self,
        te_present: bool,
        chunked_final: bool,
        content_length: ContentLength,
    ) -> Result<Option<Framing>, String> {
        if te_present {
            // "If a Transfer-Encoding header field is present in a response and the chunked
            // transfer coding is not the final encoding, the message body length is determined
            // by reading the connection until it is closed" (RFC 9112 6.3 item 4).
            return Ok(Some(if chunked_final {
                Framing::Chunked(ChunkDecoder::new(self.opts.max_head))
            } else {
                Framing::UntilClose
            }));
        }
        match content_length {
            ContentLength::Valid(0) => Ok(None),
            ContentLength::Valid(n) => Ok(Some(Framing::Length(n))),
            ContentLength::Absent => Ok(Some(Framing::UntilClose)),
            ContentLength::Invalid(why) => Err(why),
        }
    }

    fn body_data(&mut self, dir: Dir, index: usize, bytes: &[u8], ts: Ts, ctx: &mut StreamCtx) {
        if bytes.is_empty() {
            return;
        }
        let cap = self.opts.max_doh_message;
        let ds = &mut self.dirs[dir.index()];
        ds.last_ts = ts;
        ds.body.data(bytes, ctx);
        let mut over = false;
        if let Some(doh) = &mut ds.doh {
            if doh.len() + bytes.len() > cap {
                over = true;
                ds.doh = None;
            } else {
                doh.extend_from_slice(bytes);
            }
        }
        if over {
            ctx.warn(
                WarningKind::Cap,
                format!("DoH message over {cap} bytes not decoded"),
            );
        }
        self.count_body(dir, index, bytes.len() as u64);
    }

    /// `n` more body bytes of `dir` in exchange `index`.
    fn count_body(&mut self, dir: Dir, index: usize, n: u64) {
        if let Some(ex) = self.exchange_mut(index) {
            let counter = match dir {
                Dir::ToServer => &mut ex.request_body_bytes,
                Dir::ToClient => &mut ex.body_bytes,
            };
            *counter = counter.saturating_add(n);
        }
    }

    /// The current body of `dir` ended (completely or not) at `ts`.
    fn end_body(&mut self, dir: Dir, ts: Ts, ctx: &mut StreamCtx) {
        let ds = &mut self.dirs[dir.index()];
        let State::Body(body) = std::mem::take(&mut ds.state) else {
            return;
        };
        self.end_message(dir, body.index, ts, ctx);
    }

    /// A message of `dir` ended at `ts`: record it, emit DoH, and move the direction on.
    fn end_message(&mut self, dir: Dir, index: usize, ts: Ts, ctx: &mut StreamCtx) {
        let d = dir.index();
        let ds = &mut self.dirs[d];
        let mut body = std::mem::take(&mut ds.body);
        let doh = ds.doh.take();
        let switch_now = std::mem::take(&mut ds.switch_after_body);
        if matches!(ds.state, State::Body(_)) {
            ds.state = State::Idle;
        }
        if switch_now {
            ds.state = State::Switched;
        }
        let cut = self.track(index).is_some_and(|t| t.cut);
        // Wireshark reassembles HTTP/1.x bodies: it shows a message in the frame that
        // completed it.
        let frame = self.frame;
        match dir {
            Dir::ToServer => {
                self.close_request(index, ts);
                if let Some(ex) = self.exchange_mut(index) {
                    ex.request_frame = frame.or(ex.request_frame);
                }
            }
            Dir::ToClient => {
                if !cut {
                    body.end(ctx);
                }
                if let Some(ex) = self.exchange_mut(index) {
                    ex.response_frame = frame.or(ex.response_frame);
                    ex.response_end_ts = Some(ts);
                    if !cut {
                        ex.body_sha256 = body.sha256();
                    }
                    ex.decoded = body.decoded();
                }
                if let Some(t) = self.track_mut(index) {
                    t.resp_open = false;
                }
            }
        }
        if let Some(bytes) = doh.filter(|_| !cut) {
            self.doh_out.push(DohMessage {
                dir,
                ts,
                bytes,
                exchange: index as u64,
            });
        }
        self.refresh(index);
    }

    fn close_request(&mut self, index: usize, ts: Ts) {
        if let Some(ex) = self.exchange_mut(index) {
            ex.request_end_ts = Some(ts);
        }
        if let Some(t) = self.track_mut(index) {
            t.req_open = false;
        }
        self.refresh(index);
    }

    /// Recomputes the derived fields of an exchange.
    fn refresh(&mut self, index: usize) {
        let Some(i) = index.checked_sub(self.base) else {
            return;
        };
        let (Some(ex), Some(t)) = (self.exchanges.get_mut(i), self.tracks.get(i)) else {
            return;
        };
        ex.complete = !t.cut
            && !t.req_open
            && !t.resp_open
            && ex.method.is_some()
            && ex.status.is_some()
            && ex.request_end_ts.is_some()
            && ex.response_end_ts.is_some();
    }

    fn emit_doh_query_from_target(&mut self, index: usize, ts: Ts, ctx: &mut StreamCtx) {
        let Some(target) = self.exchange(index).and_then(|e| e.path.as_deref()) else {
            return;
        };
        if doh::dns_param(target.as_bytes()).is_none() {
            return;
        }
        match doh::get_query(target.as_bytes(), self.opts.max_doh_message) {
            Some(bytes) => self.doh_out.push(DohMessage {
                dir: Dir::ToServer,
                ts,
                bytes,
                exchange: index as u64,
            }),
            None => ctx.warn(
                WarningKind::Malformed,
                "DoH GET dns parameter is not base64url (or over the cap)",
            ),
        }
    }

    // ----- loss, switching, giving up -----

    /// Loss swallowed the start of the next message of `dir`. Toward the client that is the
    /// response to the oldest pending request (lost, at least in part); toward the server, a
    /// request whose response will still come, so a placeholder keeps the pairing in order.
    fn lost_message_start(&mut self, dir: Dir, ctx: &mut StreamCtx) {
        match dir {
            Dir::ToClient => {
                if let Some(index) = self.pending.pop_front() {
                    if let Some(t) = self.track_mut(index) {
                        t.cut = true;
                        t.resp_open = false;
                    }
                    self.refresh(index);
                }
            }
            Dir::ToServer => {
                if matches!(self.dirs[1].state, State::Dead | State::Switched) {
                    return;
                }
                let Some(index) = self.new_exchange(ctx) else {
                    return;
                };
                let version = self
                    .exchanges
                    .last()
                    .map_or(HttpVersion::Http11, |e| e.version);
                self.exchanges.push(Exchange {
                    version,
                    ..Exchange::default()
                });
                self.tracks.push(Track {
                    resp_open: true,
                    cut: true,
                    ..Track::default()
                });
                self.pending.push_back(index);
            }
        }
    }

    fn mark_cut(&mut self, dir: Dir, index: usize) {
        if let Some(t) = self.track_mut(index) {
            t.cut = true;
        }
        // A hash, a decoding or a DNS message of a body with a hole would be wrong.
        let ds = &mut self.dirs[dir.index()];
        ds.body.cut();
        ds.doh = None;
    }

    fn resync(&mut self, dir: Dir, line_start: bool) {
        let ds = &mut self.dirs[dir.index()];
        ds.buf.clear();
        if !matches!(ds.state, State::Switched | State::Dead) {
            ds.state = State::Resync {
                line_start,
                scanned: 0,
            };
        }
    }

    /// A head was cut by loss or by the close: keep what its bytes say (see
    /// [`head::salvage`]) as an incomplete message. Returns whether anything was kept.
    fn salvage_head(&mut self, dir: Dir, ctx: &mut StreamCtx) -> bool {
        let d = dir.index();
        let ds = &mut self.dirs[d];
        if !matches!(ds.state, State::Head) || ds.buf.is_empty() {
            return false;
        }
        let head = head::salvage(dir, &ds.buf, self.opts.max_header_value);
        ds.buf.clear();
        let Some(head) = head else { return false };
        let (start, end) = (ds.head_ts, ds.head_last_ts);
        ds.state = State::Idle;
        let index = self.on_head(dir, start, end, head, ctx);
        if let Some(index) = index {
            self.mark_cut(dir, index);
        }
        // Whatever framing the partial head implied cannot be trusted: the message ends here.
        match std::mem::take(&mut self.dirs[d].state) {
            State::Body(body) => self.end_message(dir, body.index, end, ctx),
            other => self.dirs[d].state = other,
        }
        if let Some(index) = index {
            self.refresh(index);
        }
        true
    }

    /// Gives up on `dir` for good: its open message is incomplete, and toward the client no
    /// pending request will get its response.
    fn give_up(
        &mut self,
        dir: Dir,
        ctx: &mut StreamCtx,
        kind: WarningKind,
        msg: impl Into<std::borrow::Cow<'static, str>>,
    ) {
        ctx.warn(kind, msg);
        let d = dir.index();
        if let State::Body(body) = std::mem::take(&mut self.dirs[d].state) {
            self.mark_cut(dir, body.index);
            let end = self.dirs[d].last_ts;
            self.end_message(dir, body.index, end, ctx);
        }
        let ds = &mut self.dirs[d];
        ds.state = State::Dead;
        ds.buf = Vec::new();
        ds.body = BodySink::default();
        ds.doh = None;
        if dir == Dir::ToClient {
            while let Some(index) = self.pending.pop_front() {
                if let Some(t) = self.track_mut(index) {
                    t.resp_open = false;
                }
                self.refresh(index);
            }
        }
    }

    /// The exchange `index` switched protocols at `ts`: the server direction now, the client
    /// direction at its next message boundary.
    fn switch_both(&mut self, proto: SwitchProtocol, ts: Ts, index: usize, ctx: &mut StreamCtx) {
        self.dirs[1].state = State::Switched;
        let cs = &mut self.dirs[0];
        match cs.state {
            State::Body(_) => cs.switch_after_body = true,
            State::Head if !cs.buf.is_empty() => {
                ctx.warn(
                    WarningKind::Malformed,
                    format!(
                        "{} client bytes after the switch were read as HTTP/1, lost",
                        cs.buf.len()
                    ),
                );
                cs.buf.clear();
                cs.state = State::Switched;
            }
            _ => cs.state = State::Switched,
        }
        self.record_switch(proto, ts, index);
    }

    fn record_switch(&mut self, protocol: SwitchProtocol, ts: Ts, index: usize) {
        if self.switch.is_some() {
            return;
        }
        let request = if protocol == SwitchProtocol::H2c {
            self.exchange(index).cloned()
        } else {
            None
        };
        self.switch = Some(Switch {
            protocol,
            ts,
            exchange_index: Some(index),
            request,
        });
    }

    /// The newest pending request that offered `Upgrade: h2c` and was sent in full.
    fn h2c_offer_pending(&self) -> Option<usize> {
        let &index = self.pending.back()?;
        let t = self.track(index)?;
        (!t.req_open && t.upgrade_offer.iter().any(|p| p == "h2c")).then_some(index)
    }

    // ----- bookkeeping -----

    /// The absolute index a new exchange gets, or `None` (with a warning, both directions
    /// stopped) when the cap is reached.
    fn new_exchange(&mut self, ctx: &mut StreamCtx) -> Option<usize> {
        if self.exchanges.len() < self.opts.max_exchanges {
            return Some(self.base + self.exchanges.len());
        }
        if !self.full {
            self.full = true;
            ctx.warn(
                WarningKind::Cap,
                format!(
                    "more than {} HTTP/1 exchanges; stopping HTTP/1 on this connection",
                    self.opts.max_exchanges
                ),
            );
        }
        for ds in &mut self.dirs {
            if !matches!(ds.state, State::Switched) {
                ds.state = State::Dead;
                ds.buf = Vec::new();
            }
        }
        None
    }

    fn skipped(&mut self, dir: Dir, n: usize) {
        let c = &mut self.stats.skipped[dir.index()];
        *c = c.saturating_add(n as u64);
    }

    fn url_for(&self, method: &str, target: &str, host: Option<&str>) -> Option<String> {
        let authority = host.or(self.opts.fallback_host.as_deref());
        let scheme = &self.opts.scheme;
        if target.starts_with('/') {
            authority.map(|h| format!("{scheme}://{h}{target}"))
        } else if target == "*" {
            // RFC 9112 section 3.3: asterisk-form has an empty path.
            authority.map(|h| format!("{scheme}://{h}"))
        } else if method == "CONNECT" {
            None
        } else if target
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
            || target
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
            || target.contains("://")
        {
            // absolute-form (to a proxy): already the URL.
            Some(target.to_string())
        } else {
            None
        }
    }

    fn exchange(&self, index: usize) -> Option<&Exchange> {
        self.exchanges.get(index.checked_sub(self.base)?)
    }

    fn exchange_mut(&mut self, index: usize) -> Option<&mut Exchange> {
        self.exchanges.get_mut(index.checked_sub(self.base)?)
    }

    fn track(&self, index: usize) -> Option<&Track> {
        self.tracks.get(index.checked_sub(self.base)?)
    }

    fn track_mut(&mut self, index: usize) -> Option<&mut Track> {
        self.tracks.get_mut(index.checked_sub(self.base)?)
    }
}

/// The protocol a final response switches the connection to, if any: RFC 9112 section 6.3,
/// 101 and a 2xx to CONNECT end HTTP/1 on this connection.
fn response_switch(
    status: u16,
    is_connect: bool,
    offered_h2c: bool,
    upgrade: &[String],
) -> Option<SwitchProtocol> {
    if status == 101 {
        let proto = SwitchProtocol::from_token(upgrade.first().map(String::as_str));
        if proto != SwitchProtocol::H2c && offered_h2c && upgrade.is_empty() {
            Some(SwitchProtocol::H2c)
        } else {
            Some(proto)
        }
    } else if is_connect && (200..300).contains(&status) {
        Some(SwitchProtocol::Tunnel)
    } else {
        None
    }
}
