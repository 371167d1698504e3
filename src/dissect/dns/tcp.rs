//! DNS over TCP (and over a decrypted DoT stream): RFC 1035 §4.2.2 framing, "the message
//! is prefixed with a two byte length field which gives the message length, excluding the
//! two byte length field"; RFC 7766 §8 lets a peer send several messages in one segment
//! and one message over many segments.
//!
//! Per direction the state is the 2-byte prefix read so far and, once the length is known,
//! the message bytes so far: at most [`MAX_TCP_MESSAGE`] bytes, since the prefix cannot
//! announce more. A message wholly inside one `handle_data` call is parsed in place
//! without copying. Completed messages queue as [`DnsTcpMessage`] until the caller takes
//! them ([`DnsTcpStream::take_messages`]); the queue holds at most [`MAX_QUEUED_MESSAGES`]
//! (more are counted and dropped with a `cap` warning).
//!
//! A gap makes the framing of everything after it unknowable, so that direction is given
//! up (`gap` warning); the other goes on. At close, a partial message is reported with
//! `complete: false` and whatever of it parsed.

use super::{parse_message, DnsError, DnsMessage};
use crate::dissect::stream::{Dir, StreamCtx};
use crate::time::Ts;
use crate::warning::WarningKind;

/// Largest message the 2-byte length prefix can announce.
pub const MAX_TCP_MESSAGE: usize = 65_535;

/// Most messages held between two [`DnsTcpStream::take_messages`] calls.
pub const MAX_QUEUED_MESSAGES: usize = 1024;

/// One message read from a DNS-over-TCP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTcpMessage {
    pub dir: Dir,
    /// Capture time of the segment that completed the message (or of the close/gap that
    /// ended an incomplete one).
    pub ts: Ts,
    /// Capture time of the segment that carried its first byte (the length prefix).
    pub first_ts: Ts,
    /// The length the prefix announced.
    pub declared_len: usize,
    /// False when the stream ended or lost bytes before the message did.
    pub complete: bool,
    pub message: Result<DnsMessage, DnsError>,
}

#[derive(Debug, Default)]
struct Half {
    prefix: [u8; 2],
    prefix_len: usize,
    /// The announced length, once both prefix bytes are in.
    want: Option<usize>,
    buf: Vec<u8>,
    first_ts: Option<Ts>,
    /// Given up after a gap.
    dead: bool,
}

impl Half {
    fn reset(&mut self) {
        self.prefix_len = 0;
        self.want = None;
        self.buf.clear();
        self.first_ts = None;
    }

    fn in_message(&self) -> bool {
        self.prefix_len > 0
    }
}

/// Reassembles DNS messages from the two byte streams of one TCP connection.
#[derive(Debug, Default)]
pub struct DnsTcpStream {
    halves: [Half; 2],
    queue: Vec<DnsTcpMessage>,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
    /// Messages read so far, per direction (complete or not).
    pub messages: [u64; 2],
}

impl DnsTcpStream {
    pub fn new() -> DnsTcpStream {
        DnsTcpStream::default()
    }

    /// The next bytes of direction `dir`, carried by a segment captured at `ts`.
    pub fn handle_data(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut StreamCtx) {
        let mut rest = data;
        while !rest.is_empty() {
            let half = &mut self.halves[dir.index()];
            if half.dead {
                return;
            }
            let Some(want) = half.want else {
                if half.prefix_len == 0 {
                    half.first_ts = Some(ts);
                }
                let take = (2 - half.prefix_len).min(rest.len());
                half.prefix[half.prefix_len..half.prefix_len + take].copy_from_slice(&rest[..take]);
                half.prefix_len += take;
                rest = &rest[take..];
                if half.prefix_len == 2 {
                    let len = usize::from(u16::from_be_bytes(half.prefix));
                    if len == 0 {
                        // Nothing to parse; the framing itself is intact, so go on.
                        half.reset();
                        ctx.warn(
                            WarningKind::Malformed,
                            format!(
                                "DNS over TCP: zero-length message from the {}",
                                dir.sender()
                            ),
                        );
                    } else {
                        half.want = Some(len);
                    }
                }
                continue;
            };
            if half.buf.is_empty() && rest.len() >= want {
                // The whole message is in this call: parse it in place.
                let (msg, tail) = rest.split_at(want);
                rest = tail;
                let first_ts = half.first_ts.unwrap_or(ts);
                half.reset();
                self.emit(dir, ts, first_ts, want, true, msg, ctx);
                continue;
            }
            let take = (want - half.buf.len()).min(rest.len());
            if half.buf.capacity() < want {
                half.buf.reserve_exact(want - half.buf.len());
            }
            half.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if half.buf.len() == want {
                let buf = std::mem::take(&mut half.buf);
                let first_ts = half.first_ts.unwrap_or(ts);
                half.reset();
                self.emit(dir, ts, first_ts, want, true, &buf, ctx);
                // Give the allocation back for the next message of this direction.
                let half = &mut self.halves[dir.index()];
                half.buf = buf;
                half.buf.clear();
            }
        }
    }

    /// `len` bytes of direction `dir` were never captured: that direction's framing is lost.
    pub fn handle_gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx) {
        if self.halves[dir.index()].dead {
            return;
        }
        self.flush_partial(dir, ts, ctx);
        let half = &mut self.halves[dir.index()];
        half.dead = true;
        half.buf = Vec::new();
        ctx.warn(
            WarningKind::Gap,
            format!("DNS over TCP: {len} bytes from the {} not captured; no more messages decoded that way", dir.sender()),
        );
    }

    /// The connection ended: a message still incomplete is reported as such.
    pub fn handle_close(&mut self, ts: Ts, ctx: &mut StreamCtx) {
        for dir in [Dir::ToServer, Dir::ToClient] {
            if !self.halves[dir.index()].dead {
                self.flush_partial(dir, ts, ctx);
            }
            self.halves[dir.index()].buf = Vec::new();
        }
    }

    /// Messages read since the last call, in the order they completed.
    pub fn take_messages(&mut self) -> Vec<DnsTcpMessage> {
        std::mem::take(&mut self.queue)
    }

    /// Bytes buffered for a partial message in direction `dir`.
    pub fn buffered(&self, dir: Dir) -> usize {
        self.halves[dir.index()].buf.len()
    }

    /// Reports the partial message of `dir`, if any, with what of it parsed.
    fn flush_partial(&mut self, dir: Dir, ts: Ts, ctx: &mut StreamCtx) {
        let half = &mut self.halves[dir.index()];
        if !half.in_message() {
            return;
        }
        let got = half.buf.len();
        let want = half.want;
        let first_ts = half.first_ts.unwrap_or(ts);
        let buf = std::mem::take(&mut half.buf);
        half.reset();
        let announced = want.map_or_else(|| "?".to_string(), |w| w.to_string());
        ctx.warn(
            WarningKind::Truncated,
            format!(
                "DNS over TCP: message from the {} ended after {got} of {announced} bytes",
                dir.sender()
            ),
        );
        if let Some(want) = want {
            self.push(dir, ts, first_ts, want, false, parse_message(&buf), ctx);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        dir: Dir,
        ts: Ts,
        first_ts: Ts,
        len: usize,
        complete: bool,
        msg: &[u8],
        ctx: &mut StreamCtx,
    ) {
        let parsed = parse_message(msg);
        match &parsed {
            Ok(m) => {
                if let Some((kind, text)) = m.problem() {
                    ctx.warn(
                        kind,
                        format!("DNS over TCP from the {}: {text}", dir.sender()),
                    );
                }
            }
            Err(e) => ctx.warn(
                WarningKind::Malformed,
                format!("DNS over TCP from the {}: {e}", dir.sender()),
            ),
        }
        self.push(dir, ts, first_ts, len, complete, parsed, ctx);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        dir: Dir,
        ts: Ts,
        first_ts: Ts,
        declared_len: usize,
        complete: bool,
        message: Result<DnsMessage, DnsError>,
        ctx: &mut StreamCtx,
    ) {
        self.messages[dir.index()] += 1;
        if self.queue.len() >= MAX_QUEUED_MESSAGES {
            if self.dropped == 0 {
                ctx.warn(
                    WarningKind::Cap,
                    format!(
                        "DNS over TCP: more than {MAX_QUEUED_MESSAGES} messages queued; dropping"
                    ),
                );
            }
            self.dropped += 1;
            return;
        }
        self.queue.push(DnsTcpMessage {
            dir,
            ts,
            first_ts,
            declared_len,
            complete,
            message,
        });
    }
}
