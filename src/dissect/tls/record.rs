//! Record framing (one [`Framer`] per direction) and handshake-message joining (one
//! [`HsAssembler`] per direction).
//!
//! Both are incremental and bounded: a [`Framer`] holds at most one partial record (or,
//! while resynchronising, a window of one record plus the next header); an
//! [`HsAssembler`] holds at most one handshake message of up to [`MAX_HANDSHAKE_MESSAGE`]
//! bytes plus the rest of the record that completed it. Records and messages that are
//! wholly inside one input slice are handed out as borrowed slices without copying.

use crate::dissect::stream::{Late, StreamCtx};
use crate::time::Ts;

use super::names;
use crate::warning::WarningKind;

pub const HEADER_LEN: usize = 5;
/// RFC 5246 6.2.3: "The length (in bytes) of the following TLSCiphertext.fragment. The
/// length MUST NOT exceed 2^14 + 2048." (RFC 8446 5.2 lowers it to 2^14 + 256.)
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Handshake messages larger than this are skipped with a warning (issue 3).
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 20;
/// Bytes examined while looking for a record boundary before giving up on a direction.
pub const RESYNC_SCAN_LIMIT: u64 = 256 * 1024;
/// Resynchronisation window: a candidate record plus the header of the one after it.
const RESYNC_WINDOW: usize = HEADER_LEN + MAX_RECORD_LEN + HEADER_LEN;

pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_HEARTBEAT: u8 = 24;

/// What the framer hands to the dissector.
pub enum FrameEvent<'a> {
    /// One whole TLSPlaintext/TLSCiphertext record; `ts` is the capture time of its first
    /// byte, `end_ts` of its last (when a receiver could first decrypt it).
    Record {
        content_type: u8,
        version: u16,
        payload: &'a [u8],
        ts: Ts,
        end_ts: Ts,
    },
    /// A whole application-data record whose payload was counted, not kept
    /// ([`Framer::skip_app_data`]): what a record without keys is read for.
    Opaque {
        version: u16,
        len: usize,
        ts: Ts,
        end_ts: Ts,
    },
    /// An SSL 2.0 record at the start of a stream (RFC 6101 appendix E.2 compatible hello);
    /// `body` follows the 2-byte header.
    Sslv2 { body: &'a [u8], ts: Ts },
    /// Bytes of the stream were lost or skipped: `content_type` of the record that lost
    /// bytes when known, and its payload length when that record alone was lost (the
    /// stream goes on at the next header). Anything spanning records (a handshake message)
    /// is broken.
    Lost {
        content_type: Option<u8>,
        record_len: Option<usize>,
    },
}

enum Header {
    NeedMore,
    Bad,
    /// A TLS record header: content type, version, total length including the header.
    Tls(u8, u16, usize),
    /// An SSL 2.0 record with a 2-byte header: total length including the header.
    Sslv2(usize),
}

/// Whether five bytes are a plausible TLS record header: a known content type, major
/// version 3 with minor 0..=4, and a length the RFCs allow.
pub fn plausible_header(b: &[u8]) -> Option<(u8, u16, usize)> {
    let ct = *b.first()?;
    let major = *b.get(1)?;
    let minor = *b.get(2)?;
    let len = u16::from_be_bytes([*b.get(3)?, *b.get(4)?]) as usize;
    let ct_ok = (CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&ct);
    if ct_ok && major == 3 && minor <= 4 && len <= MAX_RECORD_LEN {
        Some((ct, u16::from_be_bytes([major, minor]), len))
    } else {
        None
    }
}

/// An SSL 2.0 CLIENT-HELLO header (RFC 6101 E.2, 2-byte form): high bit set, message type 1,
/// version 0x0002 or 0x0300..=0x0304. Returns the total record length.
pub fn sslv2_client_hello_len(b: &[u8]) -> Option<usize> {
    let b0 = *b.first()?;
    let b1 = *b.get(1)?;
    if b0 & 0x80 == 0 || *b.get(2)? != 1 {
        return None;
    }
    let ver = u16::from_be_bytes([*b.get(3)?, *b.get(4)?]);
    let len = (((b0 & 0x7f) as usize) << 8) | b1 as usize;
    // The fixed part of the body: type, version, three lengths = 9 bytes.
    if (ver == 0x0002 || (0x0300..=0x0304).contains(&ver)) && len >= 9 {
        Some(2 + len)
    } else {
        None
    }
}

fn parse_header(b: &[u8], at_stream_start: bool) -> Header {
    if at_stream_start && b.first().is_some_and(|&x| x & 0x80 != 0) {
        if b.len() < HEADER_LEN {
            return Header::NeedMore;
        }
        return match sslv2_client_hello_len(b) {
            Some(n) => Header::Sslv2(n),
            None => Header::Bad,
        };
    }
    if b.len() < HEADER_LEN {
        // Reject early on the bytes we have, so garbage is found without waiting.
        let ct_ok =
            !matches!(b.first(), Some(c) if !(CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(c));
        let major_ok = !matches!(b.get(1), Some(&m) if m != 3);
        let minor_ok = !matches!(b.get(2), Some(&m) if m > 4);
        return if ct_ok && major_ok && minor_ok {
            Header::NeedMore
        } else {
            Header::Bad
        };
    }
    match plausible_header(b) {
        Some((ct, ver, len)) => Header::Tls(ct, ver, HEADER_LEN + len),
        None => Header::Bad,
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Framing,
    /// Looking for a record boundary after a loss or a malformed header.
    Resync,
    /// Stopped decoding this direction.
    GaveUp,
}

/// Cuts one direction's byte stream into records.
#[derive(Debug, Default)]
pub struct Framer {
    /// Framing: the start of one partial record. Resync: the scan window.
    buf: Vec<u8>,
    /// Capture time of `buf`'s first byte.
    buf_ts: Ts,
    /// Bytes of a record cut by a gap still to discard before the next header.
    skip: usize,
    mode: Mode,
    /// Bytes discarded while resynchronising, since the last good record.
    scanned: u64,
    /// No byte of this direction seen yet (an SSL 2.0 header is only accepted there).
    started: bool,
    /// Capture time of the bytes being pushed (the last byte of a record completed now).
    now: Ts,
    /// Some of `buf`'s bytes were late ([`StreamCtx::late`]): the frames they came in.
    buf_late: Option<Late>,
    /// Set by the dissector before each call: an application-data record cut across
    /// segments may be counted instead of copied together, as no key can open it
    /// ([`FrameEvent::Opaque`]). Records inside one segment are handed out as they are.
    pub skip_app_data: bool,
    /// The application-data record being counted: its header, and bytes still to come.
    skipping: Option<Skipping>,
}

/// An application-data record counted as its bytes go by ([`Framer::skip_app_data`]).
#[derive(Debug, Clone, Copy)]
struct Skipping {
    version: u16,
    /// Payload length.
    len: usize,
    /// Bytes of the record still to come.
    left: usize,
    /// Capture time of its first byte.
    ts: Ts,
}

impl Skipping {
    /// A record of `total` bytes (header included) of which `have` went by.
    fn new(version: u16, total: usize, have: usize, ts: Ts) -> Skipping {
        Skipping {
            version,
            len: total - HEADER_LEN,
            left: total - have,
            ts,
        }
    }
}

impl Framer {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Bytes held (a partial record or the resynchronisation window).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Stops decoding this direction (the caller decided the bytes are not TLS).
    pub fn give_up(&mut self) {
        self.mode = Mode::GaveUp;
        self.buf = Vec::new();
        self.skipping = None;
    }

    /// Feeds the next bytes of the direction; calls `f` for each record completed.
    pub fn push<F>(&mut self, data: &[u8], ts: Ts, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        self.now = ts;
        let mut input = data;
        while !input.is_empty() {
            let used = match self.mode {
                Mode::GaveUp => return,
                Mode::Framing => self.step_framing(input, ts, ctx, f),
                Mode::Resync => self.step_resync(input, ts, ctx, f),
            };
            input = input.get(used..).unwrap_or_default();
        }
        // Late bytes left in a partial record make that record late when it completes.
        if self.buf.is_empty() {
            self.buf_late = None;
        } else if ctx.late.is_some() {
            self.buf_late = Late::join(self.buf_late, ctx.late);
        }
    }

    /// Consumes some of `input` in framing mode; returns how many bytes.
    fn step_framing<F>(&mut self, input: &[u8], ts: Ts, ctx: &mut StreamCtx, f: &mut F) -> usize
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        if self.skip > 0 {
            let n = self.skip.min(input.len());
            self.skip -= n;
            return n;
        }
        if let Some(sk) = &mut self.skipping {
            let n = sk.left.min(input.len());
            sk.left -= n;
            if sk.left == 0 {
                let sk = *sk;
                self.skipping = None;
                self.emit_opaque(sk, ctx, f);
            }
            return n;
        }
        if !self.buf.is_empty() {
            return self.fill_partial(input, ctx, f);
        }
        // Fast path: records wholly inside `input` are handed out without copying.
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            let start = !self.started;
            match parse_header(rest, start) {
                Header::NeedMore => {
                    self.buf.extend_from_slice(rest);
                    self.buf_ts = ts;
                    return input.len();
                }
                Header::Bad => {
                    self.enter_resync(ctx, rest);
                    return pos;
                }
                Header::Tls(ct, version, total) => match rest.get(..total) {
                    Some(rec) => {
                        self.started = true;
                        self.scanned = 0;
                        let payload = rec.get(HEADER_LEN..).unwrap_or_default();
                        f(
                            FrameEvent::Record {
                                content_type: ct,
                                version,
                                payload,
                                ts,
                                end_ts: ts,
                            },
                            ctx,
                        );
                        pos += total;
                    }
                    None if self.skip_app_data && ct == CT_APPLICATION_DATA => {
                        self.skipping = Some(Skipping::new(version, total, rest.len(), ts));
                        return input.len();
                    }
                    None => {
                        self.buf.extend_from_slice(rest);
                        self.buf_ts = ts;
                        return input.len();
                    }
                },
                Header::Sslv2(total) => match rest.get(..total) {
                    Some(rec) => {
                        self.started = true;
                        f(
                            FrameEvent::Sslv2 {
                                body: rec.get(2..).unwrap_or_default(),
                                ts,
                            },
                            ctx,
                        );
                        pos += total;
                    }
                    None => {
                        self.buf.extend_from_slice(rest);
                        self.buf_ts = ts;
                        return input.len();
                    }
                },
            }
        }
        input.len()
    }

    /// Completes the partial record in `buf` from `input`; returns bytes used.
    fn fill_partial<F>(&mut self, input: &[u8], ctx: &mut StreamCtx, f: &mut F) -> usize
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        let mut used = 0;
        // Complete the header first (5 bytes; an SSL 2.0 header is decided on 5 too).
        if self.buf.len() < HEADER_LEN {
            let n = (HEADER_LEN - self.buf.len()).min(input.len());
            self.buf
                .extend_from_slice(input.get(..n).unwrap_or_default());
            used = n;
        }
        let total = match parse_header(&self.buf, !self.started) {
            Header::NeedMore => return used,
            Header::Bad => {
                let window = std::mem::take(&mut self.buf);
                self.enter_resync(ctx, &window);
                // The window's bytes are examined again by the scanner.
                self.buf = window;
                return used;
            }
            Header::Tls(CT_APPLICATION_DATA, version, total)
                if self.skip_app_data && self.buf.len() < total =>
            {
                self.skipping = Some(Skipping::new(version, total, self.buf.len(), self.buf_ts));
                self.buf.clear();
                return used;
            }
            Header::Tls(_, _, total) | Header::Sslv2(total) => total,
        };
        let need = total.saturating_sub(self.buf.len());
        let n = need.min(input.len().saturating_sub(used));
        self.buf
            .extend_from_slice(input.get(used..used + n).unwrap_or_default());
        used += n;
        if self.buf.len() == total {
            let rec = std::mem::take(&mut self.buf);
            self.emit_buffered(&rec, ctx, f);
            // Keep the allocation for the next partial record.
            self.buf = rec;
            self.buf.clear();
        }
        used
    }

    /// A counted record is complete (what [`Self::emit_buffered`] does for a copied one).
    fn emit_opaque<F>(&mut self, sk: Skipping, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        f(
            FrameEvent::Opaque {
                version: sk.version,
                len: sk.len,
                ts: sk.ts,
                end_ts: self.now.max(sk.ts),
            },
            ctx,
        );
        self.started = true;
        self.scanned = 0;
    }

    fn emit_buffered<F>(&mut self, rec: &[u8], ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        let ts = self.buf_ts;
        match parse_header(rec, !self.started) {
            Header::Tls(ct, version, _) => {
                let payload = rec.get(HEADER_LEN..).unwrap_or_default();
                // The record is late if any of its bytes were: earlier ones, or these.
                let late = ctx.late;
                ctx.late = Late::join(late, self.buf_late.take());
                f(
                    FrameEvent::Record {
                        content_type: ct,
                        version,
                        payload,
                        ts,
                        end_ts: self.now.max(ts),
                    },
                    ctx,
                );
                ctx.late = late;
            }
            Header::Sslv2(_) => f(
                FrameEvent::Sslv2 {
                    body: rec.get(2..).unwrap_or_default(),
                    ts,
                },
                ctx,
            ),
            Header::NeedMore | Header::Bad => {}
        }
        self.started = true;
        self.scanned = 0;
    }

    fn enter_resync(&mut self, ctx: &mut StreamCtx, at: &[u8]) {
        let head: Vec<String> = at
            .iter()
            .take(HEADER_LEN)
            .map(|b| format!("{b:02x}"))
            .collect();
        ctx.warn(
            WarningKind::Malformed,
            format!(
                "TLS: no valid record header ({}); resynchronising",
                head.join(" ")
            ),
        );
        self.mode = Mode::Resync;
        self.started = true;
        self.buf.clear();
    }

    /// Resync mode: buffers a window and looks for two chained plausible headers.
    fn step_resync<F>(&mut self, input: &[u8], ts: Ts, ctx: &mut StreamCtx, f: &mut F) -> usize
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        let room = RESYNC_WINDOW.saturating_sub(self.buf.len());
        if room == 0 {
            // Cannot happen (a full window always decides its first candidate); guarantee
            // progress anyway.
            self.buf.remove(0);
            self.scanned = self.scanned.saturating_add(1);
            return 0;
        }
        let n = room.min(input.len());
        if self.buf.is_empty() {
            self.buf_ts = ts;
        }
        self.buf
            .extend_from_slice(input.get(..n).unwrap_or_default());
        self.scan(false, ctx, f);
        n
    }

    /// Scans the window; on success switches back to framing and frames what the window
    /// holds (without recursion: a bad header inside it starts another scan).
    /// `at_end`: no more bytes will come, so a candidate that ends exactly at the end of
    /// the window is accepted without a following header.
    fn scan<F>(&mut self, at_end: bool, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        loop {
            let Some(start) = self.find_candidate(at_end) else {
                if self.scanned > RESYNC_SCAN_LIMIT {
                    ctx.warn(
                        WarningKind::Malformed,
                        format!(
                            "TLS: no record boundary in {} bytes; giving up on this direction",
                            self.scanned
                        ),
                    );
                    self.give_up();
                }
                return;
            };
            ctx.warn(
                WarningKind::Gap,
                format!(
                    "TLS: resynchronised on a record boundary after skipping {} bytes",
                    self.scanned
                ),
            );
            self.mode = Mode::Framing;
            self.scanned = 0;
            let window = std::mem::take(&mut self.buf);
            let ts = self.buf_ts;
            let mut pos = start;
            loop {
                let rest = window.get(pos..).unwrap_or_default();
                if rest.is_empty() {
                    self.buf = window;
                    self.buf.clear();
                    return;
                }
                match parse_header(rest, false) {
                    Header::Tls(ct, version, total) if rest.len() >= total => {
                        let payload = rest.get(HEADER_LEN..total).unwrap_or_default();
                        f(
                            FrameEvent::Record {
                                content_type: ct,
                                version,
                                payload,
                                ts,
                                end_ts: self.now.max(ts),
                            },
                            ctx,
                        );
                        pos += total;
                    }
                    Header::Tls(..) | Header::NeedMore => {
                        // A partial record: framing goes on from here with the next input.
                        self.buf = rest.to_vec();
                        return;
                    }
                    Header::Bad | Header::Sslv2(_) => {
                        self.enter_resync(ctx, rest);
                        self.buf = rest.to_vec();
                        break;
                    }
                }
            }
        }
    }

    /// Looks for two chained plausible headers in the window. Drops the bytes that cannot
    /// start a record (counted in `scanned`) and returns the candidate's offset in `buf`.
    fn find_candidate(&mut self, at_end: bool) -> Option<usize> {
        let mut found = None;
        let mut keep_from = self.buf.len();
        let mut i = 0;
        while i < self.buf.len() {
            let rest = self.buf.get(i..).unwrap_or_default();
            if rest.len() < HEADER_LEN {
                keep_from = i;
                break;
            }
            if let Some((_, _, len)) = plausible_header(rest) {
                let next = HEADER_LEN + len;
                match rest.get(next..next + HEADER_LEN) {
                    Some(h2) if plausible_header(h2).is_some() => {
                        found = Some(i);
                        break;
                    }
                    Some(_) => {}
                    None if at_end && rest.len() == next => {
                        found = Some(i);
                        break;
                    }
                    None if !at_end => {
                        // Undecided: wait for the bytes that confirm or refute it.
                        keep_from = i;
                        break;
                    }
                    None => {}
                }
            }
            i += 1;
        }
        let drop = found.unwrap_or(keep_from).min(self.buf.len());
        self.scanned = self.scanned.saturating_add(drop as u64);
        self.buf.drain(..drop);
        found.map(|_| 0)
    }

    /// `len` bytes of the direction were never captured.
    pub fn gap<F>(&mut self, len: u64, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        match self.mode {
            Mode::GaveUp => {}
            Mode::Resync => {
                // Bytes on both sides of a hole cannot confirm each other.
                self.buf.clear();
                f(
                    FrameEvent::Lost {
                        content_type: None,
                        record_len: None,
                    },
                    ctx,
                );
            }
            Mode::Framing => {
                self.started = true;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if self.skip > 0 {
                    if len <= self.skip {
                        self.skip -= len;
                        return;
                    }
                    self.skip = 0;
                    self.start_resync_after_gap(ctx, f, None);
                    return;
                }
                // The record the gap falls in: its type, payload length and bytes to come.
                let header = if let Some(sk) = self.skipping.take() {
                    Some((CT_APPLICATION_DATA, sk.len, sk.left))
                } else if self.buf.len() >= HEADER_LEN {
                    plausible_header(&self.buf).map(|(ct, _, plen)| {
                        (ct, plen, (HEADER_LEN + plen).saturating_sub(self.buf.len()))
                    })
                } else {
                    None
                };
                match header {
                    Some((ct, plen, remaining)) => {
                        // The gap falls inside a record whose length we know: skip exactly.
                        self.buf.clear();
                        f(
                            FrameEvent::Lost {
                                content_type: Some(ct),
                                record_len: (len <= remaining).then_some(plen),
                            },
                            ctx,
                        );
                        if len < remaining {
                            self.skip = remaining - len;
                        } else if len > remaining {
                            self.start_resync_after_gap(ctx, f, Some(ct));
                        }
                    }
                    None => self.start_resync_after_gap(ctx, f, None),
                }
            }
        }
    }

    fn start_resync_after_gap<F>(&mut self, ctx: &mut StreamCtx, f: &mut F, reported: Option<u8>)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        self.buf.clear();
        self.mode = Mode::Resync;
        if reported.is_none() {
            f(
                FrameEvent::Lost {
                    content_type: None,
                    record_len: None,
                },
                ctx,
            );
        }
        ctx.warn(
            WarningKind::Gap,
            "TLS: capture gap across a record boundary; resynchronising",
        );
    }

    /// End of the stream: a resync candidate ending exactly at the end is accepted; a
    /// partial record is reported as truncated.
    pub fn finish<F>(&mut self, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(FrameEvent<'_>, &mut StreamCtx),
    {
        if self.mode == Mode::Resync && !self.buf.is_empty() {
            self.scan(true, ctx, f);
        }
        if let Some(sk) = self.skipping.take() {
            let total = HEADER_LEN + sk.len;
            ctx.warn(
                WarningKind::Truncated,
                format!(
                    "TLS: stream ended inside a record ({} of {total} bytes)",
                    total - sk.left
                ),
            );
        }
        if self.mode == Mode::Framing && !self.buf.is_empty() {
            let total = match parse_header(&self.buf, !self.started) {
                Header::Tls(_, _, t) | Header::Sslv2(t) => Some(t),
                _ => None,
            };
            let msg = match total {
                Some(t) => format!(
                    "TLS: stream ended inside a record ({} of {} bytes)",
                    self.buf.len(),
                    t
                ),
                None => format!(
                    "TLS: stream ended inside a record header ({} bytes)",
                    self.buf.len()
                ),
            };
            ctx.warn(WarningKind::Truncated, msg);
            self.buf.clear();
        }
    }
}

/// What the handshake assembler hands out.
pub struct HsMessage<'a> {
    pub msg_type: u8,
    pub body: &'a [u8],
    /// Capture time of the record that carried the message's first byte.
    pub ts: Ts,
}

/// Joins handshake-record payloads into handshake messages (a message may span records and
/// a record may hold several messages: RFC 8446 5.1, RFC 5246 6.2.1).
#[derive(Debug, Default)]
pub struct HsAssembler {
    buf: Vec<u8>,
    ts: Ts,
    /// Bytes of an over-cap message still to discard.
    skip: usize,
    /// After a loss the next record must begin a message; garbage is dropped once.
    desynced: bool,
}

impl HsAssembler {
    /// Bytes of a partial message held (for tests and the cap).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Discards any partial message (bytes were lost). Returns whether one was pending.
    pub fn reset(&mut self) -> bool {
        let had = !self.buf.is_empty() || self.skip > 0;
        self.buf.clear();
        if self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::new();
        }
        self.skip = 0;
        self.desynced = true;
        had
    }

    /// Feeds the payload of one plaintext handshake record.
    pub fn push<F>(&mut self, payload: &[u8], ts: Ts, ctx: &mut StreamCtx, f: &mut F)
    where
        F: FnMut(HsMessage<'_>, &mut StreamCtx),
    {
        let mut input = payload;
        if self.skip > 0 {
            let n = self.skip.min(input.len());
            self.skip -= n;
            input = input.get(n..).unwrap_or_default();
            if input.is_empty() {
                return;
            }
            // The skipped message ended inside this record: the rest starts a message.
            self.ts = ts;
        }
        if self.buf.is_empty() {
            self.ts = ts;
            let (used, skip) = split_messages(input, ts, ts, self.desynced, ctx, f);
            self.desynced = false;
            self.skip = skip;
            if let Some(rest) = input.get(used..) {
                self.buf.extend_from_slice(rest);
            }
            return;
        }
        self.buf.extend_from_slice(input);
        let buf = std::mem::take(&mut self.buf);
        let (used, skip) = split_messages(&buf, self.ts, ts, false, ctx, f);
        self.buf = buf;
        self.buf.drain(..used.min(self.buf.len()));
        self.skip = skip;
        if !self.buf.is_empty() && used > 0 {
            // What remains begins a new message in this record.
            self.ts = ts;
        }
    }
}

/// Calls `f` for each whole message at the front of `input`. Returns (bytes consumed, bytes
/// of an over-cap message still to skip after `input`). With `desynced`, input that does
/// not start with a known message type is dropped with one warning. The first message is
/// stamped `first_ts`, the ones after it `later_ts` (they began in the newest record).
fn split_messages<F>(
    input: &[u8],
    first_ts: Ts,
    later_ts: Ts,
    desynced: bool,
    ctx: &mut StreamCtx,
    f: &mut F,
) -> (usize, usize)
where
    F: FnMut(HsMessage<'_>, &mut StreamCtx),
{
    let mut pos = 0;
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        let (Some(&t), Some(l)) = (rest.first(), rest.get(1..4)) else {
            return (pos, 0);
        };
        let len = ((l[0] as usize) << 16) | ((l[1] as usize) << 8) | l[2] as usize;
        if !names::is_known_handshake_type(t) {
            let why = if desynced && pos == 0 {
                "after a loss, record does not start a message"
            } else {
                "unknown"
            };
            ctx.warn(
                WarningKind::Malformed,
                format!("TLS: handshake message type {t} ({why}); rest of the record dropped"),
            );
            return (input.len(), 0);
        }
        if len > MAX_HANDSHAKE_MESSAGE {
            ctx.warn(
                WarningKind::Cap,
                format!(
                    "TLS: {} message of {len} bytes is over the {MAX_HANDSHAKE_MESSAGE}-byte cap; skipped",
                    names::handshake_name(t)
                ),
            );
            // The header shows as soon as the record carrying it arrives, so fewer than
            // `len` body bytes are held here.
            let have = rest.len().saturating_sub(4);
            return (input.len(), len.saturating_sub(have));
        }
        match rest.get(4..4 + len) {
            Some(body) => {
                let ts = if pos == 0 { first_ts } else { later_ts };
                f(
                    HsMessage {
                        msg_type: t,
                        body,
                        ts,
                    },
                    ctx,
                );
                pos += 4 + len;
            }
            None => return (pos, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ct: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![ct, 3, 3, (payload.len() >> 8) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[derive(Debug, PartialEq)]
    enum Ev {
        Rec(u8, Vec<u8>, Ts),
        V2(usize),
        Lost(Option<u8>),
    }

    fn push_all(f: &mut Framer, parts: &[(&[u8], i64)], ctx: &mut StreamCtx) -> Vec<Ev> {
        let mut out = Vec::new();
        for (p, ts) in parts {
            f.push(p, Ts(*ts), ctx, &mut |e, _| {
                out.push(match e {
                    FrameEvent::Record {
                        content_type,
                        payload,
                        ts,
                        ..
                    } => Ev::Rec(content_type, payload.to_vec(), ts),
                    FrameEvent::Opaque { .. } => unreachable!("not counting here"),
                    FrameEvent::Sslv2 { body, .. } => Ev::V2(body.len()),
                    FrameEvent::Lost { content_type, .. } => Ev::Lost(content_type),
                })
            });
        }
        out
    }

    /// What a framer hands out, with payloads as their lengths, and the warnings.
    fn framed(skip: bool, stream: &[u8], cuts: &[usize], gap_at: Option<usize>) -> String {
        let mut ctx = StreamCtx::new();
        let mut f = Framer {
            skip_app_data: skip,
            ..Framer::default()
        };
        let mut out = String::new();
        let mut ev = |e: FrameEvent<'_>, _: &mut StreamCtx| {
            let line = match e {
                FrameEvent::Record {
                    content_type,
                    payload,
                    ts,
                    end_ts,
                    ..
                } => format!(
                    "record {content_type} {} {ts:?} {end_ts:?}\n",
                    payload.len()
                ),
                FrameEvent::Opaque {
                    len, ts, end_ts, ..
                } => format!("record {CT_APPLICATION_DATA} {len} {ts:?} {end_ts:?}\n"),
                FrameEvent::Sslv2 { body, ts } => format!("sslv2 {} {ts:?}\n", body.len()),
                FrameEvent::Lost {
                    content_type,
                    record_len,
                } => format!("lost {content_type:?} {record_len:?}\n"),
            };
            out.push_str(&line);
        };
        let mut from = 0;
        for (i, &to) in cuts.iter().chain([&stream.len()]).enumerate() {
            let to = to.min(stream.len()).max(from);
            if gap_at == Some(i) {
                f.gap((to - from) as u64, &mut ctx, &mut ev);
            } else {
                f.push(&stream[from..to], Ts(i as i64), &mut ctx, &mut ev);
            }
            from = to;
        }
        f.finish(&mut ctx, &mut ev);
        for w in &ctx.warnings {
            out.push_str(&format!("{}\n", w.message));
        }
        out
    }

    /// Counting application data instead of copying it changes nothing a reader sees: the
    /// same records (type, length, first and last byte's times), the same losses after a
    /// gap, the same warning for a record cut by the end, whatever the segments.
    #[test]
    fn counted_records_read_as_copied_ones() {
        let stream = [
            rec(22, &[1; 40]),
            rec(23, &[2; 3000]),
            rec(23, &[3; 10]),
            rec(21, &[1, 0]),
            rec(23, &[4; 16_000]),
            rec(23, &[5; 700]),
        ]
        .concat();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut counted = 0;
        for round in 0..400 {
            let mut cuts: Vec<usize> = (0..1 + round % 12).map(|_| next(stream.len())).collect();
            cuts.sort_unstable();
            let gap = (round % 3 == 0).then(|| next(cuts.len() + 1));
            let end = if round % 5 == 0 {
                next(stream.len())
            } else {
                stream.len()
            };
            let s = &stream[..end];
            let copied = framed(false, s, &cuts, gap);
            assert_eq!(
                framed(true, s, &cuts, gap),
                copied,
                "cuts {cuts:?}, gap {gap:?}, end {end}"
            );
            counted += usize::from(copied.contains("record 23"));
        }
        assert!(counted > 300);
    }

    #[test]
    fn several_records_in_one_push_and_one_record_over_three() {
        let mut ctx = StreamCtx::new();
        let mut f = Framer::default();
        let data = [rec(22, b"abc"), rec(23, b""), rec(21, &[1, 0])].concat();
        let ev = push_all(&mut f, &[(&data, 7)], &mut ctx);
        assert_eq!(
            ev,
            vec![
                Ev::Rec(22, b"abc".to_vec(), Ts(7)),
                Ev::Rec(23, vec![], Ts(7)),
                Ev::Rec(21, vec![1, 0], Ts(7))
            ]
        );
        let r = rec(23, &[9; 100]);
        let ev = push_all(
            &mut f,
            &[(&r[..2], 10), (&r[2..50], 11), (&r[50..], 12)],
            &mut ctx,
        );
        // Stamped with the segment that carried the first byte.
        assert_eq!(ev, vec![Ev::Rec(23, vec![9; 100], Ts(10))]);
        assert!(ctx.warnings.is_empty());
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn gap_inside_known_record_skips_exactly_and_gap_at_boundary_resyncs() {
        let mut ctx = StreamCtx::new();
        let mut f = Framer::default();
        let r = rec(23, &[1; 50]);
        let mut out = push_all(&mut f, &[(&r[..10], 1)], &mut ctx);
        f.gap(20, &mut ctx, &mut |e, _| {
            if let FrameEvent::Lost { content_type, .. } = e {
                out.push(Ev::Lost(content_type))
            }
        });
        out.extend(push_all(
            &mut f,
            &[(&r[30..], 2), (&rec(22, b"x"), 3)],
            &mut ctx,
        ));
        assert_eq!(
            out,
            vec![Ev::Lost(Some(23)), Ev::Rec(22, b"x".to_vec(), Ts(3))]
        );
        assert!(ctx.warnings.is_empty());
        // A gap at a record boundary: resynchronise on two chained headers.
        let mut lost = 0;
        f.gap(7, &mut ctx, &mut |_, _| lost += 1);
        assert_eq!((lost, f.mode()), (1, Mode::Resync));
        let data = [
            vec![0x16, 3, 3, 0xff, 0xff, 0, 0],
            rec(23, b"ab"),
            rec(23, b"cd"),
        ]
        .concat();
        let ev = push_all(&mut f, &[(&data, 4)], &mut ctx);
        assert_eq!(
            ev,
            vec![
                Ev::Rec(23, b"ab".to_vec(), Ts(4)),
                Ev::Rec(23, b"cd".to_vec(), Ts(4))
            ]
        );
        assert_eq!(f.mode(), Mode::Framing);
    }

    #[test]
    fn resync_candidate_is_confirmed_at_the_end_of_the_stream() {
        let mut ctx = StreamCtx::new();
        let mut f = Framer::default();
        f.gap(3, &mut ctx, &mut |_, _| {});
        let data = [vec![1, 2, 3], rec(21, &[1, 0])].concat();
        assert!(push_all(&mut f, &[(&data, 5)], &mut ctx).is_empty());
        let mut out = Vec::new();
        f.finish(&mut ctx, &mut |e, _| {
            if let FrameEvent::Record { payload, .. } = e {
                out.push(payload.to_vec())
            }
        });
        assert_eq!(out, vec![vec![1, 0]]);
    }

    #[test]
    fn truncated_record_at_the_end_is_a_warning() {
        let mut ctx = StreamCtx::new();
        let mut f = Framer::default();
        let r = rec(22, &[0; 40]);
        push_all(&mut f, &[(&r[..20], 1)], &mut ctx);
        f.finish(&mut ctx, &mut |_, _| {});
        assert_eq!(ctx.warnings.len(), 1);
        assert_eq!(ctx.warnings[0].kind, WarningKind::Truncated);
        assert_eq!(
            ctx.warnings[0].message,
            "TLS: stream ended inside a record (20 of 45 bytes)"
        );
    }

    #[test]
    fn sslv2_header_only_at_the_start() {
        let mut ctx = StreamCtx::new();
        let mut f = Framer::default();
        let body = [
            1, 0, 2, 0, 3, 0, 0, 0, 16, 0, 0, 4, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7,
        ];
        let mut v2 = vec![0x80, body.len() as u8];
        v2.extend(body);
        let ev = push_all(&mut f, &[(&v2, 1), (&v2, 2)], &mut ctx);
        assert_eq!(ev, vec![Ev::V2(body.len())]);
        assert_eq!(f.mode(), Mode::Resync);
        assert_eq!(ctx.warnings.len(), 1);
    }

    fn hs_push(
        a: &mut HsAssembler,
        parts: &[(&[u8], i64)],
        ctx: &mut StreamCtx,
    ) -> Vec<(u8, usize, Ts)> {
        let mut out = Vec::new();
        for (p, ts) in parts {
            a.push(p, Ts(*ts), ctx, &mut |m, _| {
                out.push((m.msg_type, m.body.len(), m.ts))
            });
        }
        out
    }

    #[test]
    fn handshake_messages_join_across_records_and_split_within_one() {
        let mut ctx = StreamCtx::new();
        let mut a = HsAssembler::default();
        let msgs = [
            vec![2, 0, 0, 3, 1, 2, 3],
            vec![11, 0, 0, 5, 1, 2, 3, 4, 5],
            vec![14, 0, 0, 0],
        ]
        .concat();
        // SH whole in record 1 with the start of the Certificate; the rest in record 2.
        let out = hs_push(&mut a, &[(&msgs[..9], 1), (&msgs[9..], 2)], &mut ctx);
        assert_eq!(out, vec![(2, 3, Ts(1)), (11, 5, Ts(1)), (14, 0, Ts(2))]);
        assert_eq!(a.pending(), 0);
        assert!(ctx.warnings.is_empty());
    }

    #[test]
    fn over_cap_message_is_skipped_across_records() {
        let mut ctx = StreamCtx::new();
        let mut a = HsAssembler::default();
        let n = MAX_HANDSHAKE_MESSAGE + 10;
        let mut first = vec![11, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        first.extend(vec![0; 100]);
        let middle = vec![0; n - 100 - 5];
        let last = [vec![0; 5], vec![14, 0, 0, 0]].concat();
        let out = hs_push(&mut a, &[(&first, 1), (&middle, 2), (&last, 3)], &mut ctx);
        assert_eq!(out, vec![(14, 0, Ts(3))]);
        assert_eq!(ctx.warnings.len(), 1);
        assert_eq!(ctx.warnings[0].kind, WarningKind::Cap);
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn after_a_reset_a_record_that_is_not_a_message_start_is_dropped() {
        let mut ctx = StreamCtx::new();
        let mut a = HsAssembler::default();
        hs_push(&mut a, &[(&[11, 0, 1, 0, 5, 5], 1)], &mut ctx);
        assert!(a.reset());
        let out = hs_push(
            &mut a,
            &[(&[0xee, 1, 2, 3, 4], 2), (&[14, 0, 0, 0], 3)],
            &mut ctx,
        );
        assert_eq!(out, vec![(14, 0, Ts(3))]);
        assert_eq!(ctx.warnings.len(), 1);
        assert!(ctx.warnings[0].message.contains("after a loss"));
    }

    #[test]
    fn plausible_header_bounds() {
        assert_eq!(
            plausible_header(&[23, 3, 3, 0x48, 0x00]),
            Some((23, 0x0303, MAX_RECORD_LEN))
        );
        assert_eq!(plausible_header(&[23, 3, 3, 0x48, 0x01]), None);
        assert_eq!(plausible_header(&[19, 3, 3, 0, 1]), None);
        assert_eq!(plausible_header(&[25, 3, 3, 0, 1]), None);
        assert_eq!(plausible_header(&[22, 2, 0, 0, 1]), None);
        assert_eq!(plausible_header(&[22, 3, 5, 0, 1]), None);
        assert_eq!(plausible_header(&[22, 3, 0]), None);
    }
}
