//! The HTTP/2 connection dissector: frames of both directions in, one [`Exchange`] per
//! stream out. See the module doc of `super` for the contract.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::dissect::body::{BodyOf, BodySink, Codings, DecoderBudget};
use crate::dissect::http::{Exchange, HttpVersion, StreamReset};
use crate::dissect::stream::{Dir, Late, StreamCtx};
use crate::time::Ts;

use super::frame::{
    self, be32, error_code_name, flags, setting, FrameHead, FrameType, DEFAULT_MAX_FRAME_SIZE,
    HEAD_LEN, MAX_MAX_FRAME_SIZE,
};
use super::hpack::{Decoder, HeaderList, HpackError, DEFAULT_TABLE_SIZE};
use super::PREFACE;
use crate::dissect::dns::doh::{self, DohMessage, MAX_DOH_MESSAGE};
use crate::dissect::dns::encoding::decode_base64url;
use crate::warning::WarningKind;

/// Most streams open at once; frames of further new streams are counted, not recorded.
pub const MAX_ACTIVE_STREAMS: usize = 10_000;
/// Largest header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs) decoded.
pub const MAX_HEADER_BLOCK: usize = 512 * 1024;
/// Bytes of a control frame's payload looked at (SETTINGS, GOAWAY, ...); the rest is skipped.
pub const MAX_CONTROL_PAYLOAD: usize = 16 * 1024;
/// Header bytes kept per exchange and direction (names plus values).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest header value kept; longer ones are cut.
pub const MAX_HEADER_VALUE: usize = 8 * 1024;
/// Longest `:path` kept in `path` and `url`.
pub const MAX_PATH: usize = 64 * 1024;
/// Header and DoH bytes held by all open streams of a connection together.
pub const MAX_ACTIVE_BYTES: usize = 16 * 1024 * 1024;
/// DoH messages waiting for [`Http2Dissector::take_doh_messages`].
pub const MAX_PENDING_DOH: usize = 4096;
/// Bytes buffered while looking for a frame boundary.
const HUNT_WINDOW: usize = 64 * 1024;
/// Bytes skipped looking for a frame boundary before giving up on a direction.
const HUNT_GIVE_UP: u64 = 4 * 1024 * 1024;
/// Ids of finished streams remembered (so late frames do not open them again).
const MAX_FINISHED_IDS: usize = 200_000;
const MAX_GOAWAYS: usize = 16;
/// Reset streams kept open for the frames already in flight (RFC 9113 §6.4).
const MAX_DRAINING: usize = 64;

/// What the dissector cannot learn from the streams themselves.
#[derive(Debug, Clone, Default)]
pub struct Http2Options {
    /// `https` over TLS, `http` for h2c; used when a request has no `:scheme`.
    pub scheme: String,
    /// Used in URLs when a request has neither `:authority` nor `host` (the SNI, or the
    /// server's address).
    pub authority: Option<String>,
    /// Hash response bodies as transferred (`--body-hash`).
    pub body_hash: bool,
}

/// A GOAWAY frame (RFC 9113 §6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAway {
    /// Who sent it: `ToServer` means the client.
    pub dir: Dir,
    pub ts: Ts,
    pub last_stream_id: u32,
    pub error: String,
    /// Debug data, lossy UTF-8, cut at 256 bytes.
    pub debug: String,
}

/// Counters of what the dissector saw and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Http2Stats {
    /// Frames per direction, client first.
    pub frames: [u64; 2],
    /// DATA payload bytes per direction (padding excluded).
    pub data_bytes: [u64; 2],
    pub header_blocks: u64,
    pub hpack_errors: u64,
    /// Header fields lost to a desynchronised HPACK table.
    pub unknown_header_fields: u64,
    pub unknown_frames: u64,
    pub malformed_frames: u64,
    /// Times frame boundaries were found again after a gap or a mid-connection start.
    pub resyncs: u64,
    /// Bytes skipped while looking for a frame boundary.
    pub bytes_skipped: u64,
    /// New streams not recorded because [`MAX_ACTIVE_STREAMS`] were open.
    pub streams_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The client's connection preface, `matched` bytes seen.
    Preface { matched: usize },
    /// Between frames: collecting a 9-byte head.
    Head,
    /// Inside the payload of `Side::cur`.
    Payload,
    /// Looking for a frame boundary after a gap or a mid-connection start.
    Hunt,
    /// Given up on this direction.
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// DATA: counted and, for DoH streams, copied; never buffered.
    Data,
    /// Buffered (up to a cap) and handled when complete.
    Buffer,
    /// Skipped.
    Skip,
}

#[derive(Debug, Clone, Copy)]
struct CurFrame {
    head: FrameHead,
    /// Payload bytes consumed so far.
    done: u32,
    mode: Mode,
    /// DATA: the Pad Length once seen.
    pad: Option<u8>,
    /// DATA: the content goes to a DoH buffer.
    doh: bool,
    /// DATA: the content goes to the response's body sink (hash, decoding).
    sink: bool,
}

#[derive(Debug, Clone, Copy)]
enum BlockKind {
    Headers { end_stream: bool },
    PushPromise { promised: u32 },
}

/// A header block waiting for CONTINUATION frames.
#[derive(Debug, Clone, Copy)]
struct Pending {
    stream: u32,
    kind: BlockKind,
    /// ts of the HEADERS or PUSH_PROMISE frame.
    ts: Ts,
}

/// One direction of the connection.
#[derive(Debug)]
struct Side {
    phase: Phase,
    head_buf: [u8; HEAD_LEN],
    head_len: usize,
    cur: CurFrame,
    payload: Vec<u8>,
    hpack: Decoder,
    block: Vec<u8>,
    pending: Option<Pending>,
    /// SETTINGS_MAX_FRAME_SIZE the receiver announced.
    max_frame: u32,
    /// Frame lengths are checked against `max_frame` (seen from the start of the connection).
    strict_size: bool,
    hunt: Vec<u8>,
    hunted: u64,
    frames: u64,
    warned_desync: bool,
    warned_unknown: bool,
    /// Some bytes of the current frame were late ([`StreamCtx::late`]): their frames.
    late: Option<Late>,
}

impl Side {
    fn new(phase: Phase, strict: bool) -> Side {
        Side {
            phase,
            head_buf: [0; HEAD_LEN],
            head_len: 0,
            cur: CurFrame {
                head: FrameHead {
                    length: 0,
                    kind: FrameType::Data,
                    flags: 0,
                    stream: 0,
                    reserved: false,
                },
                done: 0,
                mode: Mode::Skip,
                pad: None,
                doh: false,
                sink: false,
            },
            late: None,
            payload: Vec::new(),
            hpack: Decoder::new(DEFAULT_TABLE_SIZE),
            block: Vec::new(),
            pending: None,
            max_frame: DEFAULT_MAX_FRAME_SIZE,
            strict_size: strict,
            hunt: Vec::new(),
            hunted: 0,
            frames: 0,
            warned_desync: false,
            warned_unknown: false,
        }
    }

    fn frame_limit(&self) -> u32 {
        if self.strict_size {
            self.max_frame
        } else {
            MAX_MAX_FRAME_SIZE
        }
    }
}

#[derive(Debug, Default)]
struct DohState {
    /// Keep the request body (POST with `content-type: application/dns-message`).
    want_req: bool,
    /// Keep the response body.
    want_resp: bool,
    req: Vec<u8>,
    resp: Vec<u8>,
    /// The body went over the cap or lost bytes: not a message.
    broken: [bool; 2],
}

#[derive(Debug)]
struct StreamRec {
    seq: u64,
    ex: Exchange,
    req_headers: bool,
    resp_headers: bool,
    req_done: bool,
    resp_done: bool,
    cut_by_gap: bool,
    /// Reset by one side; the other side's frames in flight still count.
    draining: bool,
    header_bytes: [usize; 2],
    /// Bytes counted in `Http2Dissector::active_bytes`.
    held: usize,
    doh: Option<Box<DohState>>,
    /// The response body's hash (`body_hash`) and decoding.
    body: BodySink,
}

/// Decodes one HTTP/2 connection (both directions) into exchanges.
#[derive(Debug)]
pub struct Http2Dissector {
    opts: Http2Options,
    sides: [Side; 2],
    streams: HashMap<u32, StreamRec>,
    finished_ids: HashSet<u32>,
    finished: Vec<(u64, Exchange)>,
    draining: VecDeque<u32>,
    next_seq: u64,
    active_bytes: usize,
    doh: Vec<DohMessage>,
    goaways: Vec<GoAway>,
    stats: Http2Stats,
    /// Scratch list reused for every header block.
    fields: HeaderList,
    saw_preface: bool,
    mid_connection: bool,
    headers_unknown: bool,
    /// Decoder memory of the open streams' response bodies.
    decoders: DecoderBudget,
    warned_streams_cap: bool,
    warned_doh_cap: bool,
    closed: bool,
}

impl Http2Dissector {
    /// A dissector for a connection observed from its start: the client's first bytes are
    /// the connection preface (h2 after ALPN, or h2c with prior knowledge).
    pub fn new(opts: Http2Options) -> Http2Dissector {
        Http2Dissector {
            opts,
            sides: [
                Side::new(Phase::Preface { matched: 0 }, true),
                Side::new(Phase::Head, true),
            ],
            streams: HashMap::new(),
            finished_ids: HashSet::new(),
            finished: Vec::new(),
            draining: VecDeque::new(),
            next_seq: 0,
            active_bytes: 0,
            doh: Vec::new(),
            goaways: Vec::new(),
            stats: Http2Stats::default(),
            fields: HeaderList::new(),
            saw_preface: false,
            mid_connection: false,
            headers_unknown: false,
            decoders: DecoderBudget::new(),
            warned_streams_cap: false,
            warned_doh_cap: false,
            closed: false,
        }
    }

    /// A dissector for h2c after an HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): the upgrade
    /// request, already decoded as HTTP/1.1, is stream 1, half-closed by the client; its
    /// response arrives as HTTP/2 on stream 1. The client still sends the preface first. The
    /// request's `HTTP2-Settings` header is applied as the client's first SETTINGS.
    ///
    /// Feed it the client's bytes after the upgrade request (the preface) and the server's
    /// bytes after the `101 Switching Protocols` response head.
    pub fn new_after_upgrade(opts: Http2Options, upgrade_request: Exchange) -> Http2Dissector {
        let mut d = Http2Dissector::new(opts);
        let settings = upgrade_request
            .request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("http2-settings"))
            .and_then(|(_, v)| decode_base64url(v.trim().as_bytes(), MAX_CONTROL_PAYLOAD));
        if let Some(s) = settings {
            d.apply_settings(Dir::ToServer.index(), &s);
        }
        let mut ex = upgrade_request;
        ex.version = HttpVersion::Http2;
        ex.stream = Some(1);
        ex.status = None;
        ex.reason = None;
        ex.response_ts = None;
        ex.response_end_ts = None;
        ex.response_frame = None;
        ex.response_headers.clear();
        ex.body_bytes = 0;
        ex.content_encoding = None;
        ex.transfer_encoding = None;
        ex.content_type = None;
        ex.upgrade = None;
        ex.complete = false;
        if ex.request_end_ts.is_none() {
            ex.request_end_ts = ex.request_ts;
        }
        let rec = StreamRec {
            seq: d.next_seq,
            ex,
            req_headers: true,
            resp_headers: false,
            req_done: true,
            resp_done: false,
            cut_by_gap: false,
            draining: false,
            header_bytes: [0; 2],
            held: 0,
            doh: None,
            body: BodySink::default(),
        };
        d.next_seq += 1;
        d.streams.insert(1, rec);
        d
    }

    // ---- the stream contract ----

    /// The next bytes of one direction, in stream order.
    pub fn handle_data(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut StreamCtx) {
        if self.closed {
            return;
        }
        let d = dir.index();
        let mut next = self.feed(d, ts, data, ctx);
        while let Some(buf) = next {
            next = self.feed(d, ts, &buf, ctx);
            if self.sides[d].hunt.capacity() == 0 {
                let mut buf = buf;
                buf.clear();
                self.sides[d].hunt = buf;
            }
        }
    }

    /// How many of `dir`'s next bytes are only counted, so that a decryptor may pass them
    /// by unread ([`Self::skip`]): the rest of a frame skipped whole, or of a DATA payload
    /// (past its Pad Length) that no body sink or DoH message reads; everything once the
    /// direction or the connection was given up. `None` with `--body-hash`, which reads
    /// every body byte.
    pub fn skippable(&self, dir: Dir) -> Option<u64> {
        if self.opts.body_hash {
            return None;
        }
        let side = &self.sides[dir.index()];
        if self.closed || side.phase == Phase::Dead {
            return Some(u64::MAX);
        }
        if side.phase != Phase::Payload {
            return Some(0);
        }
        let cur = &side.cur;
        let rest = u64::from(cur.head.length.saturating_sub(cur.done));
        Some(match cur.mode {
            Mode::Skip => rest,
            Mode::Data
                if !(cur.doh || cur.sink)
                    && (!cur.head.has(flags::PADDED) || cur.pad.is_some()) =>
            {
                rest
            }
            _ => 0,
        })
    }

    /// `len` bytes of `dir` (at most [`Self::skippable`]) went by unread: what
    /// [`Self::handle_data`] does with bytes it only counts.
    pub fn skip(&mut self, dir: Dir, ts: Ts, len: u64, ctx: &mut StreamCtx) {
        let d = dir.index();
        let side = &mut self.sides[d];
        if self.closed || side.phase != Phase::Payload {
            return;
        }
        if ctx.late.is_some() {
            side.late = Late::join(side.late, ctx.late);
        }
        let rest = side.cur.head.length.saturating_sub(side.cur.done);
        let n = u32::try_from(len).unwrap_or(u32::MAX).min(rest);
        side.cur.done += n;
        if side.cur.done == side.cur.head.length {
            self.end_payload(d, ts, ctx);
        }
    }

    /// `len` bytes of one direction were never captured.
    pub fn handle_gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx) {
        if self.closed || len == 0 {
            return;
        }
        let d = dir.index();
        let side = &mut self.sides[d];
        if side.phase == Phase::Dead {
            return;
        }
        if side.phase == Phase::Payload {
            let remaining = (side.cur.head.length - side.cur.done) as u64;
            if len <= remaining {
                // The gap is inside this frame: frame boundaries are kept.
                let head = side.cur.head;
                side.cur.done += len as u32;
                match side.cur.mode {
                    Mode::Data => {
                        if let Some(rec) = self.streams.get_mut(&head.stream) {
                            rec.cut_by_gap = true;
                            if let Some(doh) = rec.doh.as_mut() {
                                doh.broken[d] = true;
                            }
                            if d == 1 {
                                rec.body.cut();
                            }
                        }
                    }
                    Mode::Buffer => {
                        if matches!(
                            head.kind,
                            FrameType::Headers | FrameType::PushPromise | FrameType::Continuation
                        ) {
                            self.desync(d, ctx, "a gap cut a header block");
                        }
                        self.sides[d].cur.mode = Mode::Skip;
                        self.sides[d].payload.clear();
                    }
                    Mode::Skip => {}
                }
                if len == remaining {
                    self.end_payload(d, ts, ctx);
                }
                return;
            }
        }
        // Frame boundaries are lost: any frame, of any stream, may be in the gap.
        ctx.warn(
            WarningKind::Gap,
            format!(
                "HTTP/2 {}: {} bytes lost, looking for the next frame",
                dir.sender(),
                crate::dissect::stream::gap_len(len)
            ),
        );
        self.desync(d, ctx, "a gap crossed frame boundaries");
        for rec in self.streams.values_mut() {
            rec.cut_by_gap = true;
            if d == 1 {
                rec.body.cut();
            }
        }
        let side = &mut self.sides[d];
        side.hunt.clear();
        side.head_len = 0;
        side.phase = Phase::Hunt;
    }

    /// The connection ended: every open stream is finished (incomplete).
    pub fn handle_close(&mut self, _ts: Ts, ctx: &mut StreamCtx) {
        if self.closed {
            return;
        }
        for d in 0..2 {
            let side = &mut self.sides[d];
            if side.pending.take().is_some() {
                ctx.warn(
                    WarningKind::Truncated,
                    "HTTP/2 connection closed inside a header block",
                );
            }
            if side.phase == Phase::Payload {
                let head = side.cur.head;
                ctx.warn(
                    WarningKind::Truncated,
                    format!(
                        "HTTP/2 connection closed inside a {} frame ({} of {} bytes)",
                        head.kind, side.cur.done, head.length
                    ),
                );
                if side.cur.mode == Mode::Data {
                    // Count what was transferred.
                    let skip = if head.has(flags::PADDED) { 1 } else { 0 };
                    let content = (side.cur.done as u64).saturating_sub(skip);
                    self.stats.data_bytes[d] += content;
                    if let Some(rec) = self.streams.get_mut(&head.stream) {
                        add_body(&mut rec.ex, d, content);
                    }
                }
            }
            if self.sides[d].phase == Phase::Hunt && !self.sides[d].hunt.is_empty() {
                self.stats.bytes_skipped += self.sides[d].hunt.len() as u64;
            }
        }
        let mut ids: Vec<(u64, u32)> = self.streams.iter().map(|(id, r)| (r.seq, *id)).collect();
        ids.sort_unstable();
        for (_, id) in ids {
            self.finish(id);
        }
        self.closed = true;
    }

    // ---- results ----

    /// Exchanges of finished streams since the last call, in stream order of creation.
    pub fn take_finished(&mut self) -> Vec<Exchange> {
        self.finished.sort_by_key(|(seq, _)| *seq);
        self.finished.drain(..).map(|(_, ex)| ex).collect()
    }

    /// All exchanges not yet taken: finished ones and, as incomplete, the open ones, in order
    /// of creation.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut all: Vec<(u64, Exchange)> = self.finished.clone();
        for rec in self.streams.values() {
            all.push((rec.seq, finalize(rec)));
        }
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, ex)| ex).collect()
    }

    /// DNS messages carried by DoH streams since the last call.
    pub fn take_doh_messages(&mut self) -> Vec<DohMessage> {
        std::mem::take(&mut self.doh)
    }

    pub fn goaways(&self) -> &[GoAway] {
        &self.goaways
    }

    pub fn stats(&self) -> &Http2Stats {
        &self.stats
    }

    /// The client's connection preface was seen.
    pub fn saw_preface(&self) -> bool {
        self.saw_preface
    }

    /// The capture started after the connection did (no preface, or the server's first frame
    /// was not SETTINGS).
    pub fn mid_connection(&self) -> bool {
        self.mid_connection
    }

    /// Some header fields of this connection could not be decoded (HPACK desynchronised).
    pub fn headers_unknown(&self) -> bool {
        self.headers_unknown
    }

    // ---- framing ----

    /// Consumes `data`; returns a buffer to feed next when a frame boundary was found again.
    fn feed(&mut self, d: usize, ts: Ts, mut data: &[u8], ctx: &mut StreamCtx) -> Option<Vec<u8>> {
        while !data.is_empty() {
            let side = &mut self.sides[d];
            match side.phase {
                Phase::Dead => return None,
                Phase::Preface { matched } => {
                    let want = &PREFACE[matched..];
                    let n = want.len().min(data.len());
                    if data[..n] == want[..n] {
                        data = &data[n..];
                        if matched + n == PREFACE.len() {
                            side.phase = Phase::Head;
                            self.saw_preface = true;
                        } else {
                            side.phase = Phase::Preface {
                                matched: matched + n,
                            };
                        }
                    } else {
                        ctx.warn(
                            WarningKind::Http2,
                            "no HTTP/2 connection preface: the capture started mid-connection, \
                             header fields may be unknown",
                        );
                        self.start_mid_connection(ctx);
                        let side = &mut self.sides[d];
                        side.hunt.clear();
                        side.hunt.extend_from_slice(&PREFACE[..matched]);
                        side.strict_size = false;
                        side.phase = Phase::Hunt;
                    }
                }
                Phase::Hunt => {
                    side.hunt.extend_from_slice(data);
                    data = &[];
                    if let Some(buf) = self.hunt(d, ctx) {
                        return Some(buf);
                    }
                }
                Phase::Head => {
                    let head = if side.head_len == 0 && data.len() >= HEAD_LEN {
                        let h = FrameHead::peek(data);
                        data = &data[HEAD_LEN..];
                        h
                    } else {
                        let n = (HEAD_LEN - side.head_len).min(data.len());
                        side.head_buf[side.head_len..side.head_len + n].copy_from_slice(&data[..n]);
                        side.head_len += n;
                        data = &data[n..];
                        if side.head_len < HEAD_LEN {
                            return None;
                        }
                        side.head_len = 0;
                        Some(FrameHead::parse(&side.head_buf))
                    };
                    if let Some(head) = head {
                        self.sides[d].late = ctx.late;
                        if let Some(rest) = self.begin_frame(d, head, ts, ctx) {
                            // Oversized frame: look for a boundary from the head's second byte.
                            let side = &mut self.sides[d];
                            side.hunt.clear();
                            side.hunt.extend_from_slice(&rest[1..]);
                            side.phase = Phase::Hunt;
                        }
                    }
                }
                Phase::Payload => {
                    if ctx.late.is_some() {
                        side.late = Late::join(side.late, ctx.late);
                    }
                    let cur = side.cur;
                    let remaining = (cur.head.length - cur.done) as usize;
                    let n = remaining.min(data.len());
                    match cur.mode {
                        Mode::Data => {
                            self.data_chunk(d, &data[..n], ctx);
                            self.sides[d].cur.done += n as u32;
                        }
                        Mode::Skip => side.cur.done += n as u32,
                        Mode::Buffer => {
                            if cur.done == 0 && n == remaining && side.payload.is_empty() {
                                // The whole payload is here: no copy.
                                let payload = &data[..n];
                                side.cur.done += n as u32;
                                side.phase = Phase::Head;
                                self.mark_late(d);
                                self.end_frame(d, cur.head, payload, false, ts, ctx);
                                self.mark_late(d);
                                self.sides[d].late = None;
                                data = &data[n..];
                                continue;
                            }
                            let cap = buffer_cap(cur.head.kind);
                            let room = cap.saturating_sub(side.payload.len()).min(n);
                            side.payload.extend_from_slice(&data[..room]);
                            side.cur.done += n as u32;
                        }
                    }
                    data = &data[n..];
                    if self.sides[d].cur.done == cur.head.length {
                        self.end_payload(d, ts, ctx);
                    }
                }
            }
        }
        None
    }

    /// The current frame's payload is complete (or was skipped to its end).
    fn end_payload(&mut self, d: usize, ts: Ts, ctx: &mut StreamCtx) {
        // Before (the frame may end its exchange) and after (a HEADERS frame may open it).
        self.mark_late(d);
        self.end_payload_inner(d, ts, ctx);
        self.mark_late(d);
        self.sides[d].late = None;
    }

    /// The current frame of side `d` carried late bytes: its stream's exchange notes the
    /// frame they came in.
    fn mark_late(&mut self, d: usize) {
        let side = &self.sides[d];
        let (Some(late), stream) = (side.late, side.cur.head.stream) else {
            return;
        };
        if let Some(rec) = self.streams.get_mut(&stream).filter(|_| stream != 0) {
            rec.ex.note_resent(late);
        }
    }

    fn end_payload_inner(&mut self, d: usize, ts: Ts, ctx: &mut StreamCtx) {
        let side = &mut self.sides[d];
        side.phase = Phase::Head;
        let cur = side.cur;
        match cur.mode {
            Mode::Data => self.end_data(d, ts, ctx),
            Mode::Skip => {}
            Mode::Buffer => {
                let payload = std::mem::take(&mut self.sides[d].payload);
                let truncated = payload.len() < cur.head.length as usize;
                self.end_frame(d, cur.head, &payload, truncated, ts, ctx);
                let mut payload = payload;
                payload.clear();
                if payload.capacity() > MAX_CONTROL_PAYLOAD {
                    payload.shrink_to(MAX_CONTROL_PAYLOAD);
                }
                self.sides[d].payload = payload;
            }
        }
    }

    /// A frame head arrived. Returns the head's bytes when the frame is oversized and the
    /// direction must look for a boundary again.
    fn begin_frame(
        &mut self,
        d: usize,
        head: FrameHead,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) -> Option<[u8; HEAD_LEN]> {
        let dir = Dir::from_index(d);
        self.stats.frames[d] += 1;
        let first = self.sides[d].frames == 0;
        self.sides[d].frames += 1;
        if head.length > self.sides[d].frame_limit() {
            self.stats.malformed_frames += 1;
            ctx.warn(
                WarningKind::Malformed,
                format!(
                    "HTTP/2 {}: {} frame of {} bytes exceeds SETTINGS_MAX_FRAME_SIZE {}; \
                     looking for the next frame",
                    dir.sender(),
                    head.kind,
                    head.length,
                    self.sides[d].frame_limit()
                ),
            );
            self.desync(d, ctx, "an oversized frame");
            return Some(head_bytes(&head));
        }
        if first && dir == Dir::ToClient && head.kind != FrameType::Settings && !self.mid_connection
        {
            // RFC 9113 §3.4: "The server connection preface consists of a potentially empty
            // SETTINGS frame that MUST be the first frame the server sends".
            ctx.warn(
                WarningKind::Http2,
                format!(
                    "the server's first HTTP/2 frame is {}, not SETTINGS: the capture started \
                     mid-connection, header fields may be unknown",
                    head.kind
                ),
            );
            self.start_mid_connection(ctx);
        }
        if let Some(p) = self.sides[d].pending {
            if head.kind != FrameType::Continuation || head.stream != p.stream {
                // RFC 9113 §6.10: "... MUST be followed by a CONTINUATION frame".
                self.stats.malformed_frames += 1;
                self.sides[d].pending = None;
                self.sides[d].block.clear();
                self.desync(d, ctx, "a header block without its CONTINUATION");
            }
        }
        let mut cur = CurFrame {
            head,
            done: 0,
            mode: Mode::Skip,
            pad: None,
            doh: false,
            sink: false,
        };
        match head.kind {
            FrameType::Data => {
                if head.stream == 0 {
                    self.malformed(ctx, dir, "DATA frame on stream 0");
                } else {
                    cur.mode = Mode::Data;
                    let hash = self.opts.body_hash;
                    if let Some(rec) = self.touch_stream(head.stream, ctx) {
                        cur.doh = rec.doh.as_ref().is_some_and(|s| {
                            !s.broken[d] && if d == 0 { s.want_req } else { s.want_resp }
                        });
                        if d == 1 && hash && !rec.resp_headers && !rec.cut_by_gap {
                            // DATA whose response HEADERS the capture did not show.
                            rec.body.hash_from_here();
                        }
                        cur.sink = d == 1 && rec.body.wants_bytes();
                    }
                }
            }
            FrameType::Headers | FrameType::PushPromise | FrameType::Continuation => {
                if head.length as usize > MAX_HEADER_BLOCK {
                    ctx.warn(
                        WarningKind::Cap,
                        format!(
                            "HTTP/2 {} frame of {} bytes not decoded",
                            head.kind, head.length
                        ),
                    );
                    self.sides[d].pending = None;
                    self.desync(d, ctx, "an oversized header block");
                } else {
                    cur.mode = Mode::Buffer;
                }
            }
            FrameType::Unknown(_) => self.stats.unknown_frames += 1,
            _ => cur.mode = Mode::Buffer,
        }
        let side = &mut self.sides[d];
        side.cur = cur;
        side.payload.clear();
        side.phase = Phase::Payload;
        if head.length == 0 {
            self.end_payload(d, ts, ctx);
        }
        None
    }

    /// Part of a DATA payload.
    fn data_chunk(&mut self, d: usize, chunk: &[u8], ctx: &mut StreamCtx) {
        let side = &mut self.sides[d];
        let cur = side.cur;
        let mut chunk = chunk;
        let mut at = cur.done;
        if cur.head.has(flags::PADDED) && cur.pad.is_none() && at == 0 {
            if let Some((&pad, rest)) = chunk.split_first() {
                side.cur.pad = Some(pad);
                chunk = rest;
                at = 1;
            }
        }
        if !(cur.doh || cur.sink) || chunk.is_empty() {
            return;
        }
        // Content is [start, end) of the payload: after Pad Length, before the padding.
        let start = if cur.head.has(flags::PADDED) { 1 } else { 0 };
        let pad = self.sides[d].cur.pad.unwrap_or(0) as u32;
        let end = cur.head.length.saturating_sub(pad).max(start);
        let lo = at.max(start);
        let hi = (at + chunk.len() as u32).min(end);
        if lo >= hi {
            return;
        }
        let piece = &chunk[(lo - at) as usize..(hi - at) as usize];
        if cur.sink {
            if let Some(rec) = self.streams.get_mut(&cur.head.stream) {
                rec.body.data(piece, ctx);
            }
        }
        if !cur.doh {
            return;
        }
        let budget = MAX_ACTIVE_BYTES.saturating_sub(self.active_bytes);
        if let Some(rec) = self.streams.get_mut(&cur.head.stream) {
            if let Some(doh) = rec.doh.as_mut() {
                let buf = if d == 0 { &mut doh.req } else { &mut doh.resp };
                if buf.len() + piece.len() > MAX_DOH_MESSAGE || piece.len() > budget {
                    doh.broken[d] = true;
                    self.active_bytes -= buf.len().min(rec.held);
                    rec.held -= buf.len().min(rec.held);
                    *buf = Vec::new();
                    self.sides[d].cur.doh = false;
                } else {
                    buf.extend_from_slice(piece);
                    rec.held += piece.len();
                    self.active_bytes += piece.len();
                }
            }
        }
    }

    /// A DATA frame ended.
    fn end_data(&mut self, d: usize, ts: Ts, ctx: &mut StreamCtx) {
        let cur = self.sides[d].cur;
        let head = cur.head;
        let content = if head.has(flags::PADDED) {
            match cur.pad {
                Some(pad) if (pad as u32) < head.length => head.length - 1 - pad as u32,
                Some(pad) => {
                    self.malformed(
                        ctx,
                        Dir::from_index(d),
                        &format!(
                            "DATA padding of {pad} bytes in a {}-byte payload",
                            head.length
                        ),
                    );
                    0
                }
                // The Pad Length was lost to a gap: count the payload.
                None => head.length.saturating_sub(1),
            }
        } else {
            head.length
        };
        self.stats.data_bytes[d] += content as u64;
        if let Some(rec) = self.streams.get_mut(&head.stream) {
            add_body(&mut rec.ex, d, content as u64);
        }
        if head.has(flags::END_STREAM) {
            self.end_stream(d, head.stream, ts, ctx);
        }
    }

    /// A buffered frame is complete; `payload` may be cut at the buffer cap (`truncated`).
    fn end_frame(
        &mut self,
        d: usize,
        head: FrameHead,
        payload: &[u8],
        truncated: bool,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        let dir = Dir::from_index(d);
        match head.kind {
            FrameType::Headers => self.end_headers_frame(d, head, payload, ts, ctx),
            FrameType::PushPromise => self.end_push_promise(d, head, payload, ts, ctx),
            FrameType::Continuation => self.end_continuation(d, head, payload, ts, ctx),
            FrameType::Settings => {
                if head.stream != 0 {
                    return self.malformed(ctx, dir, "SETTINGS frame on a stream");
                }
                if head.has(flags::ACK) {
                    return;
                }
                if !head.length.is_multiple_of(6) {
                    self.malformed(
                        ctx,
                        dir,
                        &format!("SETTINGS payload of {} bytes", head.length),
                    );
                }
                if truncated {
                    ctx.warn(WarningKind::Cap, "HTTP/2 SETTINGS frame only partly read");
                }
                self.apply_settings(d, payload);
            }
            FrameType::RstStream => match be32(payload, 0) {
                Some(code) if head.stream != 0 => self.reset(head.stream, code, ts),
                _ => self.malformed(ctx, dir, "RST_STREAM frame"),
            },
            FrameType::GoAway => self.end_goaway(dir, payload, ts, ctx),
            // Flow control, liveness, priorities and alternative services say nothing about
            // the exchanges; they are counted in `frames`.
            FrameType::Ping
            | FrameType::WindowUpdate
            | FrameType::Priority
            | FrameType::AltSvc
            | FrameType::Origin => {}
            FrameType::Data | FrameType::Unknown(_) => {}
        }
    }

    /// A HEADERS frame: its fragment starts a header block.
    fn end_headers_frame(
        &mut self,
        d: usize,
        head: FrameHead,
        payload: &[u8],
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        let dir = Dir::from_index(d);
        if head.stream == 0 {
            return self.malformed(ctx, dir, "HEADERS frame on stream 0");
        }
        let frag = match frame::headers_fragment(&head, payload) {
            Ok(f) => f,
            Err(e) => {
                self.malformed(ctx, dir, &format!("HEADERS: {e}"));
                self.touch_stream(head.stream, ctx);
                return self.desync(d, ctx, "a malformed HEADERS frame");
            }
        };
        let kind = BlockKind::Headers {
            end_stream: head.has(flags::END_STREAM),
        };
        self.block_start(d, head, kind, frag, ts, ctx);
    }

    /// A PUSH_PROMISE frame: its fragment starts a header block for the promised stream.
    fn end_push_promise(
        &mut self,
        d: usize,
        head: FrameHead,
        payload: &[u8],
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        let dir = Dir::from_index(d);
        if head.stream == 0 {
            return self.malformed(ctx, dir, "PUSH_PROMISE frame on stream 0");
        }
        match frame::push_promise(&head, payload) {
            Ok((promised, frag)) => {
                let kind = BlockKind::PushPromise { promised };
                self.block_start(d, head, kind, frag, ts, ctx);
            }
            Err(e) => {
                self.malformed(ctx, dir, &format!("PUSH_PROMISE: {e}"));
                self.desync(d, ctx, "a malformed PUSH_PROMISE frame");
            }
        }
    }

    /// A CONTINUATION frame: its fragment joins the pending header block, decoded at
    /// END_HEADERS.
    fn end_continuation(
        &mut self,
        d: usize,
        head: FrameHead,
        payload: &[u8],
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        let Some(p) = self.sides[d].pending else {
            // Its HEADERS was lost (gap, mid-connection start) or never sent.
            self.stats.malformed_frames += 1;
            return self.desync(d, ctx, "a CONTINUATION without its HEADERS");
        };
        let side = &mut self.sides[d];
        if side.block.len() + payload.len() > MAX_HEADER_BLOCK {
            side.pending = None;
            side.block.clear();
            ctx.warn(
                WarningKind::Cap,
                format!("HTTP/2 header block above {MAX_HEADER_BLOCK} bytes not decoded"),
            );
            return self.desync(d, ctx, "an oversized header block");
        }
        side.block.extend_from_slice(payload);
        if head.has(flags::END_HEADERS) {
            side.pending = None;
            let block = std::mem::take(&mut side.block);
            self.header_block(d, p.stream, p.kind, &block, p.ts, ts, ctx);
            let mut block = block;
            block.clear();
            if block.capacity() > MAX_CONTROL_PAYLOAD {
                block.shrink_to(MAX_CONTROL_PAYLOAD);
            }
            self.sides[d].block = block;
        }
    }

    /// A GOAWAY frame: kept for the report, up to [`MAX_GOAWAYS`].
    fn end_goaway(&mut self, dir: Dir, payload: &[u8], ts: Ts, ctx: &mut StreamCtx) {
        let (Some(last), Some(code)) = (be32(payload, 0), be32(payload, 4)) else {
            return self.malformed(ctx, dir, "GOAWAY frame shorter than 8 bytes");
        };
        if self.goaways.len() < MAX_GOAWAYS {
            let debug = payload.get(8..).unwrap_or_default();
            let debug = &debug[..debug.len().min(256)];
            self.goaways.push(GoAway {
                dir,
                ts,
                last_stream_id: last & 0x7fff_ffff,
                error: error_code_name(code),
                debug: String::from_utf8_lossy(debug).into_owned(),
            });
        }
    }

    /// SETTINGS sent by the endpoint of direction `d` (RFC 9113 §6.5.2).
    fn apply_settings(&mut self, d: usize, payload: &[u8]) {
        // The sender states what it accepts, so its values bound the other direction.
        let other = 1 - d;
        for (id, value) in frame::settings(payload) {
            match id {
                setting::HEADER_TABLE_SIZE => {
                    // A passive observer cannot tell when the encoder saw the ACK: accept the
                    // largest size announced so far.
                    let hp = &mut self.sides[other].hpack;
                    let limit = hp.table_size_limit().max(value as usize);
                    hp.set_table_size_limit(limit);
                }
                setting::MAX_FRAME_SIZE => {
                    let v = value.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
                    let side = &mut self.sides[other];
                    side.max_frame = side.max_frame.max(v);
                }
                _ => {}
            }
        }
    }

    /// HEADERS or PUSH_PROMISE fragment: decoded now, or kept until END_HEADERS.
    fn block_start(
        &mut self,
        d: usize,
        head: FrameHead,
        kind: BlockKind,
        frag: &[u8],
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        if head.has(flags::END_HEADERS) {
            self.header_block(d, head.stream, kind, frag, ts, ts, ctx);
        } else {
            let side = &mut self.sides[d];
            side.block.clear();
            side.block.extend_from_slice(frag);
            side.pending = Some(Pending {
                stream: head.stream,
                kind,
                ts,
            });
        }
    }

    /// A complete header block: `first_ts` is the HEADERS frame's time, `ts` the time of
    /// the frame that completed the block.
    #[allow(clippy::too_many_arguments)]
    fn header_block(
        &mut self,
        d: usize,
        stream: u32,
        kind: BlockKind,
        block: &[u8],
        first_ts: Ts,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        let dir = Dir::from_index(d);
        self.stats.header_blocks += 1;
        let mut fields = std::mem::take(&mut self.fields);
        match self.sides[d].hpack.decode(block, &mut fields) {
            Ok(()) => {}
            Err(e @ HpackError::HeaderListTooLarge { .. }) => {
                ctx.warn(
                    WarningKind::Cap,
                    format!("HTTP/2 stream {stream}: {e}; later fields dropped"),
                );
            }
            Err(e) => {
                self.stats.hpack_errors += 1;
                fields.clear();
                let why = format!("HPACK error on stream {stream}: {e}");
                self.desync(d, ctx, &why);
            }
        }
        if fields.unknown_fields() > 0 {
            self.headers_unknown = true;
            self.stats.unknown_header_fields += fields.unknown_fields() as u64;
            if !self.sides[d].warned_unknown {
                self.sides[d].warned_unknown = true;
                ctx.warn(
                    WarningKind::Http2,
                    format!(
                        "HTTP/2 {}: header fields refer to HPACK table entries sent before the \
                         capture or lost; those fields are unknown",
                        dir.sender()
                    ),
                );
            }
        }
        match (dir, kind) {
            (Dir::ToServer, BlockKind::Headers { end_stream }) => {
                self.request_headers(stream, &fields, first_ts, ctx);
                if end_stream {
                    self.end_stream(d, stream, ts, ctx);
                }
            }
            (Dir::ToClient, BlockKind::Headers { end_stream }) => {
                self.response_headers(stream, &fields, first_ts, ctx);
                if end_stream {
                    self.end_stream(d, stream, ts, ctx);
                }
            }
            (Dir::ToClient, BlockKind::PushPromise { promised }) => {
                self.push_promise(stream, promised, &fields, first_ts, ctx);
            }
            (Dir::ToServer, BlockKind::PushPromise { .. }) => {
                self.malformed(ctx, dir, "PUSH_PROMISE sent by the client");
            }
        }
        fields.clear();
        self.fields = fields;
    }

    // ---- streams ----

    /// The record of stream `id`, created when the id is new.
    fn touch_stream(&mut self, id: u32, ctx: &mut StreamCtx) -> Option<&mut StreamRec> {
        if !self.streams.contains_key(&id) {
            if id == 0 || self.finished_ids.contains(&id) {
                return None;
            }
            if self.streams.len() >= MAX_ACTIVE_STREAMS {
                self.stats.streams_dropped += 1;
                if !self.warned_streams_cap {
                    self.warned_streams_cap = true;
                    ctx.warn(
                        WarningKind::Cap,
                        format!(
                            "more than {MAX_ACTIVE_STREAMS} HTTP/2 streams open; \
                             new ones are not recorded"
                        ),
                    );
                }
                return None;
            }
            let ex = Exchange {
                version: HttpVersion::Http2,
                stream: Some(u64::from(id)),
                ..Exchange::default()
            };
            let rec = StreamRec {
                seq: self.next_seq,
                ex,
                req_headers: false,
                resp_headers: false,
                req_done: false,
                resp_done: false,
                cut_by_gap: false,
                draining: false,
                header_bytes: [0; 2],
                held: 0,
                doh: None,
                body: BodySink::default(),
            };
            self.next_seq += 1;
            self.streams.insert(id, rec);
        }
        self.streams.get_mut(&id)
    }

    fn request_headers(&mut self, id: u32, fields: &HeaderList, ts: Ts, ctx: &mut StreamCtx) {
        let scheme_default = self.opts.scheme.clone();
        let authority_default = self.opts.authority.clone();
        let budget = MAX_ACTIVE_BYTES.saturating_sub(self.active_bytes);
        let Some(rec) = self.touch_stream(id, ctx) else {
            return;
        };
        let mut doh_get: Option<Vec<u8>> = None;
        if !rec.req_headers {
            rec.req_headers = true;
            rec.ex.request_ts.get_or_insert(ts);
            if rec.ex.request_frame.is_none() {
                rec.ex.request_frame = ctx.frame();
            }
            let method = fields.value(b":method");
            let path = fields.value(b":path");
            rec.ex.method = method.map(lossy);
            rec.ex.path = path.map(|p| lossy(&p[..p.len().min(MAX_PATH)]));
            let authority = fields
                .value(b":authority")
                .or_else(|| fields.value(b"host"));
            let authority = authority.map(lossy).or(authority_default);
            let scheme = fields
                .value(b":scheme")
                .map(lossy)
                .or_else(|| (!scheme_default.is_empty()).then_some(scheme_default));
            rec.ex.url = match (&scheme, &authority, &rec.ex.path) {
                (Some(s), Some(a), Some(p)) => Some(format!("{s}://{a}{p}")),
                _ => None,
            };
            // RFC 8484: POST carries the query as the body, GET as the `dns` parameter.
            let ct = fields
                .value(b"content-type")
                .is_some_and(doh::is_dns_message);
            let accept = fields.value(b"accept").is_some_and(doh::is_dns_message);
            let is_get = method == Some(&b"GET"[..]);
            let is_post = method == Some(&b"POST"[..]);
            if (is_post && ct) || accept {
                let doh = rec.doh.get_or_insert_with(Box::default);
                doh.want_req = is_post && ct;
                doh.want_resp = true;
            }
            if is_get {
                let route = path.map(|p| p.split(|&b| b == b'?').next().unwrap_or_default());
                if accept || route.is_some_and(|r| r.ends_with(b"dns-query")) {
                    if let Some(p) = path.filter(|p| doh::dns_param(p).is_some()) {
                        doh_get = doh::get_query(p, MAX_DOH_MESSAGE);
                        if doh_get.is_none() {
                            ctx.warn(
                                WarningKind::Malformed,
                                format!("DoH stream {id}: bad base64url in the dns parameter"),
                            );
                        } else {
                            rec.doh.get_or_insert_with(Box::default).want_resp = true;
                        }
                    }
                }
            }
        }
        let Some(rec) = self.streams.get_mut(&id) else {
            return;
        };
        let added = store_headers(&mut rec.ex, 0, &mut rec.header_bytes, fields, budget);
        rec.held += added;
        self.active_bytes += added;
        if let Some(bytes) = doh_get {
            self.push_doh(
                DohMessage {
                    dir: Dir::ToServer,
                    ts,
                    exchange: u64::from(id),
                    bytes,
                },
                ctx,
            );
        }
    }

    fn response_headers(&mut self, id: u32, fields: &HeaderList, ts: Ts, ctx: &mut StreamCtx) {
        let budget = MAX_ACTIVE_BYTES.saturating_sub(self.active_bytes);
        let (hash, decoders) = (self.opts.body_hash, self.decoders.clone());
        let Some(rec) = self.touch_stream(id, ctx) else {
            return;
        };
        let status = fields
            .value(b":status")
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u16>().ok());
        if !rec.resp_headers {
            if let Some(100..=199) = status {
                // Informational responses (103 Early Hints, ...) precede the final one; the
                // exchange describes the final response.
                return;
            }
            rec.resp_headers = true;
            rec.ex.response_ts = Some(ts);
            rec.ex.response_wire_ts = Some(ctx.first_byte.map_or(ts, |f| f.min(ts)));
            rec.ex.response_frame = ctx.frame();
            rec.ex.status = status;
            rec.ex.content_type = fields.value(b"content-type").map(lossy);
            rec.ex.content_encoding = fields.value(b"content-encoding").map(lossy);
            if fields
                .value(b"content-type")
                .is_some_and(doh::is_dns_message)
            {
                let encoded = rec
                    .ex
                    .content_encoding
                    .as_deref()
                    .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
                let doh = rec.doh.get_or_insert_with(Box::default);
                doh.want_resp = !encoded;
            }
            let codings = Codings::for_response(status, content_encodings(fields));
            let of = BodyOf {
                protocol: "HTTP/2",
                stream: Some(u64::from(id)),
            };
            rec.body = BodySink::new(hash, codings, of, &decoders);
        }
        let added = store_headers(&mut rec.ex, 1, &mut rec.header_bytes, fields, budget);
        rec.held += added;
        self.active_bytes += added;
    }

    fn push_promise(
        &mut self,
        parent: u32,
        promised: u32,
        fields: &HeaderList,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        if self.streams.contains_key(&promised)
            || self.finished_ids.contains(&promised)
            || promised == 0
        {
            return self.malformed(
                ctx,
                Dir::ToClient,
                &format!("PUSH_PROMISE of stream {promised} already in use"),
            );
        }
        self.request_headers(promised, fields, ts, ctx);
        if let Some(rec) = self.streams.get_mut(&promised) {
            rec.ex.pushed_by = Some(u64::from(parent));
            rec.req_done = true;
            rec.ex.request_end_ts = Some(ts);
        }
    }

    /// END_STREAM from direction `d`.
    fn end_stream(&mut self, d: usize, id: u32, ts: Ts, ctx: &mut StreamCtx) {
        let Some(rec) = self.streams.get_mut(&id) else {
            return;
        };
        let mut msg = None;
        if d == 0 {
            rec.req_done = true;
            rec.ex.request_end_ts.get_or_insert(ts);
            if let Some(doh) = rec.doh.as_mut() {
                if doh.want_req && !doh.broken[0] && !doh.req.is_empty() {
                    msg = Some(DohMessage {
                        dir: Dir::ToServer,
                        ts,
                        exchange: u64::from(id),
                        bytes: std::mem::take(&mut doh.req),
                    });
                }
            }
        } else {
            rec.resp_done = true;
            rec.ex.response_end_ts.get_or_insert(ts);
            rec.body.end(ctx);
            if let Some(doh) = rec.doh.as_mut() {
                if doh.want_resp && !doh.broken[1] && !doh.resp.is_empty() {
                    msg = Some(DohMessage {
                        dir: Dir::ToClient,
                        ts,
                        exchange: u64::from(id),
                        bytes: std::mem::take(&mut doh.resp),
                    });
                }
            }
        }
        let done = (rec.req_done && rec.resp_done) || rec.draining;
        if let Some(m) = msg {
            let n = m.bytes.len().min(rec.held);
            rec.held -= n;
            self.active_bytes -= n.min(self.active_bytes);
            if self.doh.len() < MAX_PENDING_DOH {
                self.doh.push(m);
            }
        }
        if done {
            self.finish(id);
        }
    }

    /// RST_STREAM. RFC 9113 §6.4: the sender "MUST be prepared to receive any frames that
    /// were sent or enqueued for sending by the remote peer prior to the arrival of the
    /// RST_STREAM frame", so the stream stays open (draining) until the other side's next
    /// END_STREAM or RST_STREAM, the connection's end, or [`MAX_DRAINING`] later resets.
    fn reset(&mut self, id: u32, code: u32, _ts: Ts) {
        let Some(rec) = self.streams.get_mut(&id) else {
            return;
        };
        if rec.draining {
            return self.finish(id);
        }
        rec.ex.reset = Some(StreamReset::Http2(code));
        rec.draining = true;
        self.draining.push_back(id);
        while self.draining.len() > MAX_DRAINING {
            if let Some(old) = self.draining.pop_front() {
                self.finish(old);
            }
        }
    }

    /// Moves stream `id` to the finished list.
    fn finish(&mut self, id: u32) {
        let Some(rec) = self.streams.remove(&id) else {
            return;
        };
        self.active_bytes -= rec.held.min(self.active_bytes);
        if self.finished_ids.len() >= MAX_FINISHED_IDS {
            self.finished_ids.clear();
        }
        self.finished_ids.insert(id);
        let ex = finalize(&rec);
        self.finished.push((rec.seq, ex));
    }

    fn push_doh(&mut self, m: DohMessage, ctx: &mut StreamCtx) {
        if self.doh.len() < MAX_PENDING_DOH {
            self.doh.push(m);
        } else if !self.warned_doh_cap {
            self.warned_doh_cap = true;
            ctx.warn(
                WarningKind::Cap,
                format!("more than {MAX_PENDING_DOH} DoH messages pending; later ones dropped"),
            );
        }
    }

    // ---- trouble ----

    fn malformed(&mut self, ctx: &mut StreamCtx, dir: Dir, what: &str) {
        self.stats.malformed_frames += 1;
        ctx.warn(
            WarningKind::Malformed,
            format!("HTTP/2 {}: {what}", dir.sender()),
        );
    }

    /// Direction `d`'s HPACK context lost entries: decoding goes on in partial mode.
    fn desync(&mut self, d: usize, ctx: &mut StreamCtx, why: &str) {
        self.sides[d].hpack.desynchronise();
        self.headers_unknown = true;
        if !self.sides[d].warned_desync {
            self.sides[d].warned_desync = true;
            ctx.warn(
                WarningKind::Hpack,
                format!(
                    "HTTP/2 {}: {why}; HPACK table desynchronised, \
                     later header fields may be unknown",
                    Dir::from_index(d).sender()
                ),
            );
        }
    }

    /// Both HPACK contexts miss what was sent before the capture started.
    fn start_mid_connection(&mut self, _ctx: &mut StreamCtx) {
        if self.mid_connection {
            return;
        }
        self.mid_connection = true;
        self.headers_unknown = true;
        for side in &mut self.sides {
            side.hpack.desynchronise();
            side.warned_desync = true;
            side.strict_size = false;
        }
        if self.sides[1].phase == Phase::Head && self.sides[1].frames == 0 {
            // The server side has not started: it may start mid-frame too.
            self.sides[1].phase = Phase::Hunt;
        }
    }

    /// Looks for a frame boundary in the hunt buffer. On success returns the bytes from the
    /// boundary on, to feed as frames.
    fn hunt(&mut self, d: usize, ctx: &mut StreamCtx) -> Option<Vec<u8>> {
        let side = &mut self.sides[d];
        let max_len = side.max_frame.min((HUNT_WINDOW - 2 * HEAD_LEN) as u32);
        let buf = &side.hunt;
        let mut found = None;
        let mut keep_from = buf.len().saturating_sub(HEAD_LEN - 1);
        for i in 0..buf.len() {
            let Some(h) = FrameHead::peek(&buf[i..]) else {
                keep_from = i;
                break;
            };
            if !h.plausible(max_len) {
                continue;
            }
            let next = i + HEAD_LEN + h.length as usize;
            match FrameHead::peek(buf.get(next..).unwrap_or_default()) {
                Some(h2) if h2.plausible(max_len) => {
                    found = Some(i);
                    break;
                }
                Some(_) => continue,
                // A plausible frame that starts where the data starts and ends where it ends
                // (segments usually carry whole frames): accept it now rather than wait, so
                // its timestamp stays right.
                None if i == 0 && next == buf.len() => {
                    found = Some(i);
                    break;
                }
                None => {
                    // Not enough bytes to check the next head yet.
                    keep_from = i;
                    break;
                }
            }
        }
        match found {
            Some(i) => {
                side.hunted += i as u64;
                self.stats.bytes_skipped += i as u64;
                self.stats.resyncs += 1;
                let mut buf = std::mem::take(&mut side.hunt);
                buf.drain(..i);
                side.phase = Phase::Head;
                side.head_len = 0;
                side.hunted = 0;
                if i > 0 {
                    ctx.warn(
                        WarningKind::Http2,
                        format!(
                            "HTTP/2 {}: frame boundary found after skipping {i} bytes",
                            Dir::from_index(d).sender()
                        ),
                    );
                }
                Some(buf)
            }
            None => {
                side.hunted += keep_from as u64;
                self.stats.bytes_skipped += keep_from as u64;
                side.hunt.drain(..keep_from);
                if side.hunt.len() > HUNT_WINDOW {
                    let cut = side.hunt.len() - HUNT_WINDOW;
                    side.hunt.drain(..cut);
                    side.hunted += cut as u64;
                    self.stats.bytes_skipped += cut as u64;
                }
                if side.hunted > HUNT_GIVE_UP {
                    side.phase = Phase::Dead;
                    side.hunt = Vec::new();
                    ctx.warn(
                        WarningKind::Malformed,
                        format!(
                            "HTTP/2 {}: no frame boundary in {} bytes; giving up on this direction",
                            Dir::from_index(d).sender(),
                            HUNT_GIVE_UP
                        ),
                    );
                }
                None
            }
        }
    }
}

fn head_bytes(h: &FrameHead) -> [u8; HEAD_LEN] {
    let l = h.length.to_be_bytes();
    let s = (h.stream | if h.reserved { 0x8000_0000 } else { 0 }).to_be_bytes();
    [
        l[1],
        l[2],
        l[3],
        h.kind.code(),
        h.flags,
        s[0],
        s[1],
        s[2],
        s[3],
    ]
}

fn buffer_cap(kind: FrameType) -> usize {
    match kind {
        FrameType::Headers | FrameType::PushPromise | FrameType::Continuation => MAX_HEADER_BLOCK,
        _ => MAX_CONTROL_PAYLOAD,
    }
}

fn add_body(ex: &mut Exchange, d: usize, n: u64) {
    if d == 0 {
        ex.request_body_bytes += n;
    } else {
        ex.body_bytes += n;
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Appends `fields` to the request (`d` 0) or response headers within the caps; returns the
/// bytes stored.
fn store_headers(
    ex: &mut Exchange,
    d: usize,
    used: &mut [usize; 2],
    fields: &HeaderList,
    budget: usize,
) -> usize {
    let mut added = 0;
    for (name, value) in fields.iter() {
        let v = &value[..value.len().min(MAX_HEADER_VALUE)];
        let cost = name.len() + v.len();
        if used[d] + cost > MAX_HEADER_BYTES || added + cost > budget {
            ex.headers_truncated = true;
            break;
        }
        if v.len() < value.len() {
            ex.headers_truncated = true;
        }
        used[d] += cost;
        added += cost;
        let pair = (lossy(name), lossy(v));
        if d == 0 {
            ex.request_headers.push(pair);
        } else {
            ex.response_headers.push(pair);
        }
    }
    added
}

/// The exchange as reported: derived times and completeness filled in.
fn finalize(rec: &StreamRec) -> Exchange {
    let mut ex = rec.ex.clone();
    ex.complete = rec.req_done && rec.resp_done && !rec.cut_by_gap && ex.reset.is_none();
    if rec.resp_done && !rec.cut_by_gap {
        ex.body_sha256 = rec.body.sha256();
    }
    ex.decoded = rec.body.decoded();
    ex
}

/// Every Content-Encoding field value of a header list (invalid UTF-8 names no coding
/// decoded here).
pub(crate) fn content_encodings(fields: &HeaderList) -> impl Iterator<Item = &str> {
    fields
        .iter()
        .filter(|(n, _)| *n == b"content-encoding")
        .map(|(_, v)| std::str::from_utf8(v).unwrap_or("?"))
}
