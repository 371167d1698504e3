//! One HTTP/3 connection (RFC 9114): the QUIC streams' events in, one [`Exchange`] per
//! request stream (and per server push) out, in the model HTTP/1.x and HTTP/2 share.
//!
//! - **Streams.** Client-initiated bidirectional streams are request streams (RFC 9114
//!   6.1); unidirectional streams start with their type: control (SETTINGS, GOAWAY), push
//!   (a Push ID, then the pushed response's frames), the QPACK encoder and decoder streams
//!   (RFC 9204 4.2), reserved and unknown types (ignored).
//! - **Field sections.** HEADERS and PUSH_PROMISE payloads are QPACK-decoded with the
//!   decoder of their direction: requests with the table the client's encoder stream built,
//!   responses with the server's. A section that refers to entries the encoder stream has not
//!   delivered yet is *blocked* (RFC 9204 2.1.2); it is decoded when they arrive, and the
//!   exchange takes the time its HEADERS frame was complete, not the unblocking's.
//!   SETTINGS_QPACK_MAX_TABLE_CAPACITY and _BLOCKED_STREAMS from a side's control stream set
//!   the limits of the decoder of what the *other* side encodes for it.
//! - **Times.** `request_ts` / `response_ts`: when the first HEADERS frame of that direction
//!   was whole (readable); `request_end_ts` / `response_end_ts`: the stream's FIN in that
//!   direction (or its RESET_STREAM). An exchange is complete when both directions ended
//!   with FIN and nothing was lost.
//! - **Interim responses** (1xx HEADERS before the final one) are listed in `informational`;
//!   a second HEADERS after DATA is a trailer section, stored with the headers.
//! - **DNS over HTTPS** (RFC 8484) inside HTTP/3 is handed out as for HTTP/2.
//! - **Bodies**: a response's DATA payloads go through its [`BodySink`] (hash, content
//!   decoding); a gap or a lost frame in the response stops its decoding, its FIN checks the
//!   coded stream ended.
//!
//! Bounded: at most [`MAX_EXCHANGES`] exchanges open, [`MAX_HEADER_BYTES`] of header
//! names and values per direction of an exchange (values cut at [`MAX_HEADER_VALUE`]),
//! DoH bodies up to [`MAX_DOH_MESSAGE`]; hitting a cap is a warning, never the end.

use std::collections::{BTreeMap, HashMap};

use super::frame::{FrameLimits, FrameReader, H3Event, H3Frame, UniStreamType};
use super::qpack::{Decoded, Decoder, HeaderList};
use crate::dissect::body::{BodyOf, BodySink, Codings, DecoderBudget};
use crate::dissect::dns::doh::{self, DohMessage, MAX_DOH_MESSAGE};
use crate::dissect::http::{Exchange, HttpVersion, StreamReset};
use crate::dissect::http2::dissector::content_encodings;
use crate::dissect::quic::streams::{Initiator, StreamEvent, StreamId};
use crate::dissect::stream::{Dir, StreamCtx};
use crate::net::flow::SeededHash;
use crate::time::Ts;
use crate::warning::WarningKind;

/// Exchanges open at once; beyond, new request streams are not recorded (a warning).
pub const MAX_EXCHANGES: usize = 4096;
/// Header name and value bytes kept per direction of an exchange.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// A header value is cut at this many bytes.
pub const MAX_HEADER_VALUE: usize = 8 * 1024;
/// Warnings listed per connection about HTTP/3 framing; the rest are counted.
const MAX_FRAME_WARNINGS: u32 = 8;

/// What a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Request,
    /// A unidirectional stream whose type has not arrived yet.
    Uni,
    Control,
    /// A push stream, and the Push ID once read.
    Push(Option<u64>),
    Encoder,
    Decoder,
    Ignored,
}

struct Reader {
    frames: FrameReader,
    role: Role,
}

/// DoH bodies of one exchange being collected.
#[derive(Default)]
struct Doh {
    want: [bool; 2],
    body: [Vec<u8>; 2],
    broken: [bool; 2],
}

struct Rec {
    ex: Exchange,
    headers_seen: [bool; 2],
    ended: [bool; 2],
    cut: bool,
    header_bytes: [usize; 2],
    /// The response body's hash (`body_hash`) and decoding.
    body: BodySink,
    doh: Option<Box<Doh>>,
}

/// A field section waiting for QPACK entries, and where it goes when decoded.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// A HEADERS section of the exchange `key` (a request stream id, or a push's key),
    /// queued in QPACK under the QUIC stream `stream` that carried it.
    Headers {
        key: u64,
        stream: u64,
        dir: Dir,
        ts: Ts,
        /// The frame that carried the HEADERS frame (where Wireshark shows it).
        frame: Option<u64>,
    },
    Promise {
        parent: u64,
        push_id: u64,
        ts: Ts,
    },
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Http3Stats {
    pub requests: u64,
    pub responses: u64,
    pub pushes: u64,
    /// Field sections that had to wait for encoder stream entries.
    pub blocked_sections: u64,
    /// Field sections QPACK could not decode.
    pub undecodable_sections: u64,
    /// Request streams not recorded because [`MAX_EXCHANGES`] were open.
    pub dropped_streams: u64,
}

/// The HTTP/3 side of one QUIC connection.
pub struct Http3Dissector {
    body_hash: bool,
    /// Decoder memory of the open exchanges' response bodies.
    decoders: DecoderBudget,
    readers: HashMap<(usize, u64), Box<Reader>, SeededHash>,
    /// The reader used last, kept out of `readers`: a download is one stream's DATA packet
    /// after packet, so most events need no map lookup.
    hot: Option<((usize, u64), Box<Reader>)>,
    /// Decoders of the field sections travelling each way ([`Dir::index`]).
    qpack: [Decoder; 2],
    open: BTreeMap<u64, Rec>,
    /// Pushed exchanges by Push ID, until their push stream ends.
    pushes: BTreeMap<u64, Rec>,
    done: Vec<(u64, Exchange)>,
    blocked: Vec<Pending>,
    doh: Vec<DohMessage>,
    /// Reused decoded field list.
    fields: HeaderList,
    stats: Http3Stats,
    frame_warnings: u32,
}

impl Http3Dissector {
    pub fn new(body_hash: bool) -> Http3Dissector {
        Http3Dissector {
            body_hash,
            decoders: DecoderBudget::new(),
            readers: HashMap::default(),
            hot: None,
            qpack: [Decoder::new(), Decoder::new()],
            open: BTreeMap::new(),
            pushes: BTreeMap::new(),
            done: Vec::new(),
            blocked: Vec::new(),
            doh: Vec::new(),
            fields: HeaderList::new(),
            stats: Http3Stats::default(),
            frame_warnings: 0,
        }
    }

    pub fn stats(&self) -> Http3Stats {
        self.stats
    }

    /// One event of the connection's streams.
    pub fn handle_event(&mut self, ev: &StreamEvent<'_>, ctx: &mut StreamCtx) {
        match *ev {
            StreamEvent::Data {
                dir, id, bytes, ts, ..
            } => self.with_reader(dir, id, ctx, |r, mut sink| r.feed(bytes, &mut sink), ts),
            StreamEvent::Gap {
                dir, id, len, ts, ..
            } => {
                if let Some(rec) = self.open.get_mut(&id.0) {
                    rec.cut = true;
                }
                self.with_reader(dir, id, ctx, |r, mut sink| r.gap(len, &mut sink), ts);
            }
            StreamEvent::Fin { dir, id, ts, .. } => {
                self.with_reader(dir, id, ctx, |r, mut sink| r.finish(&mut sink), ts);
                self.end(dir, id, ts, None, ctx);
                self.drop_reader((dir.index(), id.0));
            }
            StreamEvent::Reset {
                dir,
                id,
                error_code,
                ts,
                ..
            } => {
                self.qpack[dir.index()].cancel_stream(id.0);
                self.blocked.retain(|p| match *p {
                    Pending::Headers { stream, dir: d, .. } => !(stream == id.0 && d == dir),
                    Pending::Promise { parent, .. } => !(parent == id.0 && dir == Dir::ToClient),
                });
                self.end(dir, id, ts, Some(error_code), ctx);
                self.drop_reader((dir.index(), id.0));
            }
            StreamEvent::StopSending { .. } => {}
        }
    }

    /// Feeds a stream's reader, creating it on the stream's first bytes, and handles what
    /// it reads.
    fn with_reader(
        &mut self,
        dir: Dir,
        id: StreamId,
        ctx: &mut StreamCtx,
        feed: impl FnOnce(&mut FrameReader, &mut dyn FnMut(H3Event<'_>)),
        ts: Ts,
    ) {
        let k = (dir.index(), id.0);
        let mut r = match self.take_reader(k) {
            Some(r) => r,
            None => {
                let role = if id.is_uni() {
                    Role::Uni
                } else if id.initiator() == Initiator::Client {
                    Role::Request
                } else {
                    // RFC 9114 6.1: servers do not open bidirectional streams.
                    Role::Ignored
                };
                let frames = if role == Role::Request {
                    FrameReader::request(FrameLimits::default())
                } else {
                    FrameReader::unidirectional(FrameLimits::default())
                };
                Box::new(Reader { frames, role })
            }
        };
        let mut role = r.role;
        feed(&mut r.frames, &mut |e| {
            self.on_event(dir, id, &mut role, e, ts, ctx)
        });
        r.role = role;
        self.put_reader(k, r);
    }

    fn take_reader(&mut self, k: (usize, u64)) -> Option<Box<Reader>> {
        match self.hot.take() {
            Some((hk, r)) if hk == k => Some(r),
            hot => {
                self.hot = hot;
                self.readers.remove(&k)
            }
        }
    }

    fn put_reader(&mut self, k: (usize, u64), r: Box<Reader>) {
        if let Some((hk, old)) = self.hot.replace((k, r)) {
            self.readers.insert(hk, old);
        }
    }

    fn drop_reader(&mut self, k: (usize, u64)) {
        if self.hot.as_ref().is_some_and(|(hk, _)| *hk == k) {
            self.hot = None;
        } else {
            self.readers.remove(&k);
        }
    }

    fn reader_role(&self, k: (usize, u64)) -> Option<Role> {
        match &self.hot {
            Some((hk, r)) if *hk == k => Some(r.role),
            _ => self.readers.get(&k).map(|r| r.role),
        }
    }

    fn on_event(
        &mut self,
        dir: Dir,
        id: StreamId,
        role: &mut Role,
        e: H3Event<'_>,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        match e {
            H3Event::StreamType(t) => {
                *role = match t {
                    UniStreamType::Control => Role::Control,
                    UniStreamType::Push => Role::Push(None),
                    UniStreamType::QpackEncoder => Role::Encoder,
                    UniStreamType::QpackDecoder => Role::Decoder,
                    _ => Role::Ignored,
                };
            }
            H3Event::PushId(p) => *role = Role::Push(Some(p)),
            H3Event::Data(bytes) => self.body(dir, *role, id, bytes, ctx),
            H3Event::DataGap(_) => self.cut(dir, *role, id),
            H3Event::Frame(f) => self.frame(dir, *role, id, f, ts, ctx),
            H3Event::Raw(bytes) => match role {
                // The encoder stream of the side sending `dir` feeds the decoder of what
                // that side encodes; the decoder stream only acknowledges (statistics).
                Role::Encoder => {
                    if let Err(err) = self.qpack[dir.index()].handle_encoder_stream(bytes) {
                        self.frame_warning(
                            ctx,
                            format!("QPACK encoder stream of the {}: {err}", dir.sender()),
                        );
                    }
                    self.unblock(dir, ctx);
                }
                Role::Decoder => {
                    let _ = self.qpack[dir.reverse().index()].handle_decoder_stream(bytes);
                }
                _ => {}
            },
            H3Event::RawGap(len) => {
                if *role == Role::Encoder {
                    self.qpack[dir.index()].handle_encoder_gap(len);
                    self.frame_warning(
                        ctx,
                        format!(
                            "QPACK encoder stream of the {} lost {len} bytes: dynamic table \
                             entries after it are unknown",
                            dir.sender()
                        ),
                    );
                    self.unblock(dir, ctx);
                }
            }
            H3Event::Malformed { ty, error } => {
                self.frame_warning(ctx, format!("HTTP/3 {} frame: {error:?}", ty.name()));
            }
            H3Event::Oversize { ty, len } => {
                self.cut(dir, *role, id);
                self.frame_warning(
                    ctx,
                    format!(
                        "HTTP/3 {} frame of {len} bytes over the cap; skipped",
                        ty.name()
                    ),
                );
            }
            H3Event::FrameLost { .. } | H3Event::Desynced { .. } => self.cut(dir, *role, id),
            H3Event::Truncated { .. } | H3Event::FrameHead { .. } => {}
        }
    }

    fn frame_warning(&mut self, ctx: &mut StreamCtx, msg: String) {
        self.frame_warnings += 1;
        if self.frame_warnings <= MAX_FRAME_WARNINGS {
            ctx.warn(WarningKind::Malformed, msg);
        }
    }

    fn frame(
        &mut self,
        dir: Dir,
        role: Role,
        id: StreamId,
        f: H3Frame<'_>,
        ts: Ts,
        ctx: &mut StreamCtx,
    ) {
        match (role, f) {
            (Role::Control, H3Frame::Settings(s)) => {
                // A side's SETTINGS limit what the other side may encode for it: they are the
                // limits of the decoder of the opposite direction.
                let s = s.settings();
                self.qpack[dir.reverse().index()].apply_settings(
                    s.qpack_max_table_capacity.unwrap_or(0),
                    s.qpack_blocked_streams.unwrap_or(0),
                );
            }
            (Role::Request, H3Frame::Headers { field_section }) => {
                let p = Pending::Headers {
                    key: id.0,
                    stream: id.0,
                    dir,
                    ts,
                    frame: ctx.frame(),
                };
                self.section(dir, id.0, field_section, p, ctx);
            }
            (Role::Push(Some(push)), H3Frame::Headers { field_section }) => {
                let p = Pending::Headers {
                    key: push_key(push),
                    stream: id.0,
                    dir,
                    ts,
                    frame: ctx.frame(),
                };
                self.section(dir, id.0, field_section, p, ctx);
            }
            (
                Role::Request,
                H3Frame::PushPromise {
                    push_id,
                    field_section,
                },
            ) if dir == Dir::ToClient => {
                let p = Pending::Promise {
                    parent: id.0,
                    push_id,
                    ts,
                };
                self.section(dir, id.0, field_section, p, ctx);
            }
            _ => {}
        }
    }

    /// A field section to decode now or when it unblocks.
    fn section(&mut self, dir: Dir, stream: u64, block: &[u8], p: Pending, ctx: &mut StreamCtx) {
        let mut fields = std::mem::take(&mut self.fields);
        match self.qpack[dir.index()].decode_section(stream, block, &mut fields) {
            Ok(Decoded::Done) => self.apply(p, &fields, ctx),
            Ok(Decoded::Blocked { .. }) => {
                self.stats.blocked_sections += 1;
                self.blocked.push(p);
            }
            Err(e) => {
                self.stats.undecodable_sections += 1;
                self.frame_warning(ctx, format!("QPACK field section on stream {stream}: {e}"));
                // What decoded before the error is still the best account of the message.
                self.apply(p, &fields, ctx);
            }
        }
        self.fields = fields;
    }

    /// Sections of `dir` that more encoder stream bytes let decode.
    fn unblock(&mut self, dir: Dir, ctx: &mut StreamCtx) {
        let mut fields = std::mem::take(&mut self.fields);
        while let Some((stream, res)) = self.qpack[dir.index()].poll_unblocked(&mut fields) {
            let Some(i) = self.blocked.iter().position(|p| match *p {
                Pending::Headers {
                    dir: d, stream: s, ..
                } => d == dir && s == stream,
                Pending::Promise { parent, .. } => dir == Dir::ToClient && parent == stream,
            }) else {
                continue;
            };
            let p = self.blocked.remove(i);
            if let Err(e) = res {
                self.stats.undecodable_sections += 1;
                self.frame_warning(ctx, format!("QPACK field section on stream {stream}: {e}"));
            }
            self.apply(p, &fields, ctx);
        }
        self.fields = fields;
    }

    /// A decoded field section into its exchange.
    fn apply(&mut self, p: Pending, fields: &HeaderList, ctx: &mut StreamCtx) {
        match p {
            Pending::Headers {
                key,
                dir,
                ts,
                frame,
                ..
            } => {
                let sink = (self.body_hash, self.decoders.clone());
                let mut stats = self.stats;
                let Some(rec) = self.rec(key, ctx) else {
                    return;
                };
                match dir {
                    Dir::ToServer => request_section(rec, fields, (ts, frame), &mut stats),
                    Dir::ToClient => response_section(rec, fields, (ts, frame), sink, &mut stats),
                }
                let msg = doh_get(rec, dir, fields, key, ts);
                self.stats = stats;
                self.doh.extend(msg);
            }
            Pending::Promise {
                parent,
                push_id,
                ts,
            } => {
                self.stats.pushes += 1;
                let rec = self
                    .pushes
                    .entry(push_id)
                    .or_insert_with(|| new_rec(push_key(push_id)));
                request_section(rec, fields, (ts, ctx.frame()), &mut self.stats);
                rec.ex.pushed_by = Some(parent);
                rec.ex.request_end_ts = Some(ts);
                rec.ended[0] = true;
            }
        }
    }

    /// The exchange of a request stream (or of a push, by its key), opened if new.
    fn rec(&mut self, stream: u64, ctx: &mut StreamCtx) -> Option<&mut Rec> {
        if let Some(push) = push_of(stream) {
            return Some(self.pushes.entry(push).or_insert_with(|| new_rec(stream)));
        }
        if !self.open.contains_key(&stream) {
            if self.open.len() >= MAX_EXCHANGES {
                self.stats.dropped_streams += 1;
                if self.stats.dropped_streams == 1 {
                    ctx.warn(
                        WarningKind::Cap,
                        format!("more than {MAX_EXCHANGES} HTTP/3 requests open; new ones are not recorded"),
                    );
                }
                return None;
            }
            self.open.insert(stream, new_rec(stream));
        }
        self.open.get_mut(&stream)
    }

    fn rec_of(&mut self, role: Role, id: StreamId) -> Option<&mut Rec> {
        match role {
            Role::Request => self.open.get_mut(&id.0),
            Role::Push(Some(p)) => self.pushes.get_mut(&p),
            _ => None,
        }
    }

    /// DATA payload.
    fn body(&mut self, dir: Dir, role: Role, id: StreamId, bytes: &[u8], ctx: &mut StreamCtx) {
        let Some(rec) = self.rec_of(role, id) else {
            return;
        };
        let d = dir.index();
        let n = bytes.len() as u64;
        match dir {
            Dir::ToServer => rec.ex.request_body_bytes += n,
            Dir::ToClient => {
                rec.ex.body_bytes += n;
                rec.body.data(bytes, ctx);
            }
        }
        let mut over = false;
        if let Some(doh) = rec.doh.as_mut() {
            if doh.want[d] && !doh.broken[d] {
                if doh.body[d].len() + bytes.len() > MAX_DOH_MESSAGE {
                    doh.broken[d] = true;
                    doh.body[d] = Vec::new();
                    over = true;
                } else {
                    doh.body[d].extend_from_slice(bytes);
                }
            }
        }
        if over {
            ctx.warn(
                WarningKind::Cap,
                format!(
                    "DoH message on stream {} over {MAX_DOH_MESSAGE} bytes; not decoded",
                    id.0
                ),
            );
        }
    }

    fn cut(&mut self, dir: Dir, role: Role, id: StreamId) {
        if let Some(rec) = self.rec_of(role, id) {
            rec.cut = true;
            if dir == Dir::ToClient {
                rec.body.cut();
            }
            if let Some(doh) = rec.doh.as_mut() {
                doh.broken = [true, true];
            }
        }
    }

    /// A direction of a stream ended: FIN, or RESET_STREAM with its error code.
    fn end(&mut self, dir: Dir, id: StreamId, ts: Ts, reset: Option<u64>, ctx: &mut StreamCtx) {
        let push = match self.reader_role((dir.index(), id.0)) {
            Some(Role::Push(p)) => p,
            _ => None,
        };
        let key = match push {
            Some(p) => push_key(p),
            None if id.is_bidi() && id.initiator() == Initiator::Client => id.0,
            None => return,
        };
        let rec = match push_of(key) {
            Some(p) => self.pushes.get_mut(&p),
            None => self.open.get_mut(&key),
        };
        let Some(rec) = rec else {
            return;
        };
        let d = dir.index();
        rec.ended[d] = true;
        match dir {
            Dir::ToServer => {
                rec.ex.request_end_ts.get_or_insert(ts);
            }
            Dir::ToClient => {
                rec.ex.response_end_ts.get_or_insert(ts);
                if reset.is_none() && !rec.cut {
                    rec.body.end(ctx);
                }
            }
        }
        if let Some(code) = reset {
            rec.ex.reset.get_or_insert(StreamReset::Http3(code));
        }
        if let Some(doh) = rec.doh.as_mut() {
            if doh.want[d] && !doh.broken[d] && !doh.body[d].is_empty() && reset.is_none() {
                self.doh.push(DohMessage {
                    dir,
                    ts,
                    bytes: std::mem::take(&mut doh.body[d]),
                    exchange: key,
                });
            }
        }
        if rec.ended[0] && rec.ended[1] {
            let rec = match push_of(key) {
                Some(p) => self.pushes.remove(&p),
                None => self.open.remove(&key),
            };
            if let Some(rec) = rec {
                self.done.push((key, finalize(rec)));
            }
        }
    }

    /// The connection ended: open exchanges are reported as they stand.
    pub fn handle_close(&mut self, _ts: Ts, _ctx: &mut StreamCtx) {
        for (k, rec) in std::mem::take(&mut self.open) {
            self.done.push((k, finalize(rec)));
        }
        for (p, rec) in std::mem::take(&mut self.pushes) {
            self.done.push((push_key(p), finalize(rec)));
        }
    }

    /// Exchanges finished so far (all of them after [`Self::handle_close`]), requests in
    /// stream order, pushes after them in Push ID order.
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        let mut v = std::mem::take(&mut self.done);
        v.sort_by_key(|(k, _)| *k);
        v.into_iter().map(|(_, e)| e).collect()
    }

    /// DNS messages carried in DoH exchanges.
    pub fn take_doh_messages(&mut self) -> Vec<DohMessage> {
        std::mem::take(&mut self.doh)
    }
}

/// Pushes are keyed above every stream id (stream ids are below 2^62).
const PUSH_BASE: u64 = 1 << 62;

fn push_key(push_id: u64) -> u64 {
    PUSH_BASE | (push_id & (PUSH_BASE - 1))
}

fn push_of(key: u64) -> Option<u64> {
    (key & PUSH_BASE != 0).then_some(key & (PUSH_BASE - 1))
}

fn new_rec(key: u64) -> Rec {
    Rec {
        ex: Exchange {
            version: HttpVersion::Http3,
            stream: push_of(key).is_none().then_some(key),
            ..Exchange::default()
        },
        headers_seen: [false; 2],
        ended: [false; 2],
        cut: false,
        header_bytes: [0; 2],
        body: BodySink::default(),
        doh: None,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Appends `fields` to one direction's headers within the caps.
fn store(rec: &mut Rec, d: usize, fields: &HeaderList) {
    for (name, value) in fields.iter() {
        let v = &value[..value.len().min(MAX_HEADER_VALUE)];
        let cost = name.len() + v.len();
        if rec.header_bytes[d] + cost > MAX_HEADER_BYTES {
            rec.ex.headers_truncated = true;
            break;
        }
        if v.len() < value.len() {
            rec.ex.headers_truncated = true;
        }
        rec.header_bytes[d] += cost;
        let pair = (lossy(name), lossy(v));
        if d == 0 {
            rec.ex.request_headers.push(pair);
        } else {
            rec.ex.response_headers.push(pair);
        }
    }
}

/// The request's HEADERS (or a PUSH_PROMISE's): method, path and URL from the
/// pseudo-header fields (RFC 9114 4.3.1); a later section is the trailers.
fn request_section(
    rec: &mut Rec,
    fields: &HeaderList,
    (ts, frame): (Ts, Option<u64>),
    stats: &mut Http3Stats,
) {
    if !rec.headers_seen[0] {
        rec.headers_seen[0] = true;
        stats.requests += 1;
        rec.ex.request_ts = Some(ts);
        rec.ex.request_frame = frame;
        let path = fields.value(b":path").map(lossy);
        let authority = fields
            .value(b":authority")
            .or_else(|| fields.value(b"host"))
            .map(lossy);
        let scheme = fields.value(b":scheme").map(lossy);
        rec.ex.method = fields.value(b":method").map(lossy);
        rec.ex.url = match (&scheme, &authority, &path) {
            (Some(s), Some(a), Some(p)) => Some(format!("{s}://{a}{p}")),
            (None, Some(a), Some(p)) => Some(format!("https://{a}{p}")),
            _ => None,
        };
        rec.ex.path = path;
        let ct = fields
            .value(b"content-type")
            .is_some_and(doh::is_dns_message);
        let accept = fields.value(b"accept").is_some_and(doh::is_dns_message);
        let post = rec.ex.method.as_deref() == Some("POST");
        if (post && ct) || accept {
            let d = rec.doh.get_or_insert_with(Box::default);
            d.want = [post && ct, true];
        }
    }
    store(rec, 0, fields);
}

/// A response HEADERS: interim (1xx), final, or trailers after DATA.
fn response_section(
    rec: &mut Rec,
    fields: &HeaderList,
    (ts, frame): (Ts, Option<u64>),
    (hash, decoders): (bool, DecoderBudget),
    stats: &mut Http3Stats,
) {
    let status = fields
        .value(b":status")
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u16>().ok());
    if !rec.headers_seen[1] {
        if let Some(s @ 100..=199) = status {
            // RFC 9114 4.1: "one or more interim responses ... precede the final response".
            if rec.ex.informational.len() < 8 {
                rec.ex.informational.push(s);
            }
            rec.ex.response_ts.get_or_insert(ts);
            return;
        }
        rec.headers_seen[1] = true;
        stats.responses += 1;
        rec.ex.response_ts = Some(ts);
        rec.ex.response_frame = frame;
        rec.ex.status = status;
        rec.ex.content_type = fields.value(b"content-type").map(lossy);
        rec.ex.content_encoding = fields.value(b"content-encoding").map(lossy);
        let codings = Codings::for_response(status, content_encodings(fields));
        let of = BodyOf {
            protocol: "HTTP/3",
            stream: rec.ex.stream,
        };
        rec.body = BodySink::new(hash, codings, of, &decoders);
        if fields
            .value(b"content-type")
            .is_some_and(doh::is_dns_message)
        {
            let encoded = rec
                .ex
                .content_encoding
                .as_deref()
                .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
            let d = rec.doh.get_or_insert_with(Box::default);
            d.want[1] = !encoded;
        }
    }
    store(rec, 1, fields);
}

/// A DoH GET's query (RFC 8484 4.1), once its request headers are read.
fn doh_get(
    rec: &mut Rec,
    dir: Dir,
    fields: &HeaderList,
    stream: u64,
    ts: Ts,
) -> Option<DohMessage> {
    if dir != Dir::ToServer || rec.ex.method.as_deref() != Some("GET") {
        return None;
    }
    let path = fields.value(b":path")?;
    let accept = fields.value(b"accept").is_some_and(doh::is_dns_message);
    let route = path.split(|&b| b == b'?').next().unwrap_or_default();
    if !(accept || route.ends_with(b"dns-query")) || doh::dns_param(path).is_none() {
        return None;
    }
    let bytes = doh::get_query(path, MAX_DOH_MESSAGE)?;
    rec.doh.get_or_insert_with(Box::default).want[1] = true;
    Some(DohMessage {
        dir,
        ts,
        bytes,
        exchange: stream,
    })
}

fn finalize(rec: Rec) -> Exchange {
    let mut ex = rec.ex;
    ex.complete = rec.ended[0]
        && rec.ended[1]
        && !rec.cut
        && ex.reset.is_none()
        && ex.method.is_some()
        && ex.status.is_some();
    if ex.complete {
        ex.body_sha256 = rec.body.sha256();
    }
    ex.decoded = rec.body.decoded();
    ex
}

#[cfg(test)]
mod tests;
