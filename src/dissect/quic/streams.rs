//! QUIC stream reassembly (RFC 9000 2-4): STREAM frame data placed by offset and handed on
//! in order, per stream and sending direction.
//!
//! **Consumes** the stream frames of decrypted packets with their capture time:
//! [`QuicStreams::handle_stream`] (STREAM: id, offset, data, FIN),
//! [`QuicStreams::handle_reset`] (RESET_STREAM), [`QuicStreams::handle_stop_sending`]
//! (STOP_SENDING), or all three through [`QuicStreams::handle_frame`]. `dir` is the
//! direction of the packet that carried the frame ([`Dir::ToServer`] when the client sent
//! it).
//!
//! **Produces** [`StreamEvent`]s through the caller's sink, per stream in offset order:
//! `Data` (the next bytes, never twice), `Gap` (bytes given up as never captured), `Fin`
//! (every byte up to the final size was delivered or given up), `Reset`, `StopSending`.
//! A `Data` event's `ts` is the capture time of the packet that completed it (made it
//! contiguous), `first_seen` when its bytes were first captured.
//!
//! **Guarantees**:
//! - **Retransmissions are normal**: overlapping and duplicate frames deliver each byte
//!   once (the first copy wins; counted in [`StreamStats::duplicate_bytes`]).
//! - **No allocation on the in-order fast path**: a frame that starts at or before the next
//!   expected offset is delivered as a sub-slice of the frame's own bytes. Only out-of-order
//!   data is copied, into per-stream segments.
//! - **Bounded, counted**: at most [`StreamLimits::max_buffered`] out-of-order bytes and
//!   [`StreamLimits::max_segments`] holes per stream, [`StreamLimits::max_buffered_total`]
//!   for the connection, [`StreamLimits::max_streams`] open streams (frames of further new
//!   streams are refused and counted), [`StreamLimits::max_closed`] closed streams
//!   remembered (so a late retransmission is not taken for a new stream).
//! - **Loss is normal**: a hole that never fills (capture loss: the peer received the
//!   packet, so it is never sent again) stays until the caller gives up on it with
//!   [`QuicStreams::flush`] / [`QuicStreams::flush_all`] (on FIN, CONNECTION_CLOSE, end of
//!   capture), which deliver the buffered data after explicit `Gap` events. When a cap
//!   would be exceeded the oldest hole is given up the same way instead of dropping new
//!   data ([`StreamStats::forced_gaps`]): a sender retransmits only what its peer did not
//!   receive, so bytes captured after a long-standing hole are the ones that cannot come
//!   again.
//!
//! ```text
//!   receiving ── all bytes < final size delivered or gapped ──► Fin ──► closed
//!       │
//!       └── RESET_STREAM ──► Reset (buffered bytes dropped) ──────────► closed
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::frame::QuicFrame;
use crate::dissect::stream::Dir;
use crate::time::Ts;

/// A QUIC stream ID (RFC 9000 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u64);

/// Who opened a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    Client,
    Server,
}

impl StreamId {
    /// RFC 9000 2.1: "The least significant bit (0x01) of the stream ID identifies the
    /// initiator of the stream. Client-initiated streams have even-numbered stream IDs
    /// (with the bit set to 0), and server-initiated streams have odd-numbered stream IDs".
    pub fn initiator(self) -> Initiator {
        if self.0 & 0x01 == 0 {
            Initiator::Client
        } else {
            Initiator::Server
        }
    }

    /// RFC 9000 2.1: "The second least significant bit (0x02) of the stream ID
    /// distinguishes between bidirectional streams (with the bit set to 0) and
    /// unidirectional streams (with the bit set to 1)."
    pub fn is_bidi(self) -> bool {
        self.0 & 0x02 == 0
    }

    pub fn is_uni(self) -> bool {
        !self.is_bidi()
    }

    /// The stream's place among the streams of its type (the ID without its two type bits).
    pub fn sequence(self) -> u64 {
        self.0 >> 2
    }

    /// Whether data travelling `dir` may belong to this stream: both directions of a
    /// bidirectional stream, only the initiator's of a unidirectional one.
    pub fn can_send(self, dir: Dir) -> bool {
        let from = match dir {
            Dir::ToServer => Initiator::Client,
            Dir::ToClient => Initiator::Server,
        };
        self.is_bidi() || self.initiator() == from
    }
}

/// What the reassembler hands on. `dir` is the direction of the stream's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next `bytes` of the stream, at `offset`.
    Data {
        dir: Dir,
        id: StreamId,
        offset: u64,
        bytes: &'a [u8],
        /// Capture time of the packet that made these bytes contiguous.
        ts: Ts,
        /// Capture time of the packet that first carried them.
        first_seen: Ts,
    },
    /// `len` bytes at `offset` were given up: never captured.
    Gap {
        dir: Dir,
        id: StreamId,
        offset: u64,
        len: u64,
        ts: Ts,
    },
    /// The stream ended: every byte below `final_size` was delivered or given up.
    Fin {
        dir: Dir,
        id: StreamId,
        final_size: u64,
        ts: Ts,
    },
    /// RESET_STREAM: the sender abandoned the stream after `final_size` bytes; `delivered`
    /// of them had been handed on.
    Reset {
        dir: Dir,
        id: StreamId,
        error_code: u64,
        final_size: u64,
        delivered: u64,
        ts: Ts,
    },
    /// STOP_SENDING: the receiver asked the sender of `dir` to stop sending on `id`.
    StopSending {
        dir: Dir,
        id: StreamId,
        error_code: u64,
        ts: Ts,
    },
}

/// Caps of one connection's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Out-of-order bytes buffered per stream and direction.
    pub max_buffered: usize,
    /// Disjoint out-of-order segments (holes) per stream and direction.
    pub max_segments: usize,
    /// Out-of-order bytes buffered over all streams of the connection.
    pub max_buffered_total: usize,
    /// Streams (per direction of data) open at once.
    pub max_streams: usize,
    /// Closed streams remembered, so that late retransmissions are recognised.
    pub max_closed: usize,
}

impl Default for StreamLimits {
    fn default() -> StreamLimits {
        StreamLimits {
            max_buffered: 256 * 1024,
            max_segments: 64,
            max_buffered_total: 4 * 1024 * 1024,
            max_streams: 1024,
            max_closed: 16 * 1024,
        }
    }
}

/// Counters of one connection's streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Streams opened (per direction of data).
    pub streams: u64,
    /// Frames of new streams refused because [`StreamLimits::max_streams`] were open.
    pub frames_refused: u64,
    /// Bytes received more than once (retransmissions, overlaps), or for closed streams.
    pub duplicate_bytes: u64,
    /// Holes given up because a cap was reached.
    pub forced_gaps: u64,
    /// Bytes given up in `Gap` events (forced or asked for).
    pub gap_bytes: u64,
    /// Bytes beyond the stream's final size (ignored).
    pub beyond_final_size: u64,
    /// A FIN or RESET_STREAM whose final size contradicts an earlier one or the data
    /// (RFC 9000 4.5: FINAL_SIZE_ERROR). The first final size is kept.
    pub final_size_errors: u64,
    /// Data on a unidirectional stream from the side that did not open it.
    pub wrong_direction: u64,
    /// Buffered bytes dropped by RESET_STREAM.
    pub reset_dropped_bytes: u64,
    /// STOP_SENDING frames seen.
    pub stop_sending: u64,
    /// Closed streams forgotten beyond [`StreamLimits::max_closed`].
    pub closed_forgotten: u64,
    /// Most out-of-order bytes buffered at once over the connection.
    pub buffered_peak: usize,
}

/// Out-of-order bytes at `offset`.
#[derive(Debug)]
struct Segment {
    offset: u64,
    first_seen: Ts,
    data: Vec<u8>,
}

impl Segment {
    fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// One direction of one stream.
#[derive(Debug, Default)]
struct RecvStream {
    /// Every byte below was delivered or given up.
    next: u64,
    /// The highest offset any data reached (for final size checks).
    highest: u64,
    final_size: Option<u64>,
    /// Sorted, disjoint, all above `next`.
    pending: Vec<Segment>,
    pending_bytes: usize,
}

type Key = (usize, u64);

fn key(dir: Dir, id: StreamId) -> Key {
    (dir.index(), id.0)
}

/// The streams of one QUIC connection, both directions.
#[derive(Debug, Default)]
pub struct QuicStreams {
    limits: StreamLimits,
    open: BTreeMap<Key, RecvStream>,
    closed: BTreeSet<Key>,
    buffered_total: usize,
    stats: StreamStats,
}

impl QuicStreams {
    pub fn new(limits: StreamLimits) -> QuicStreams {
        QuicStreams {
            limits,
            ..QuicStreams::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// Streams (per direction) open now.
    pub fn open_streams(&self) -> usize {
        self.open.len()
    }

    /// Bytes delivered or given up so far on a stream (`None` if it is unknown or closed).
    pub fn next_offset(&self, dir: Dir, id: StreamId) -> Option<u64> {
        self.open.get(&key(dir, id)).map(|s| s.next)
    }

    /// Whether the stream ended (FIN delivered or reset).
    pub fn is_closed(&self, dir: Dir, id: StreamId) -> bool {
        self.closed.contains(&key(dir, id))
    }

    /// STREAM, RESET_STREAM and STOP_SENDING frames; returns false (and does nothing) for
    /// every other frame.
    pub fn handle_frame(
        &mut self,
        dir: Dir,
        ts: Ts,
        frame: &QuicFrame<'_>,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) -> bool {
        match *frame {
            QuicFrame::Stream {
                stream_id,
                offset,
                data,
                fin,
            } => self.handle_stream(dir, ts, StreamId(stream_id), offset, data, fin, sink),
            QuicFrame::ResetStream {
                stream_id,
                error_code,
                final_size,
            } => self.handle_reset(dir, ts, StreamId(stream_id), error_code, final_size, sink),
            QuicFrame::StopSending {
                stream_id,
                error_code,
            } => self.handle_stop_sending(dir, ts, StreamId(stream_id), error_code, sink),
            _ => return false,
        }
        true
    }

    /// Opens the stream of `(dir, id)` if it is new; false when it is closed (its `bytes`
    /// are duplicates) or over the cap.
    fn ensure_stream(&mut self, dir: Dir, id: StreamId, bytes: u64) -> bool {
        let k = key(dir, id);
        if self.open.contains_key(&k) {
            return true;
        }
        if self.closed.contains(&k) {
            self.stats.duplicate_bytes += bytes;
            return false;
        }
        if self.open.len() >= self.limits.max_streams {
            self.stats.frames_refused += 1;
            return false;
        }
        self.stats.streams += 1;
        if !id.can_send(dir) {
            self.stats.wrong_direction += 1;
        }
        self.open.insert(k, RecvStream::default());
        true
    }

    /// A STREAM frame's data at `offset`, with its FIN bit.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_stream(
        &mut self,
        dir: Dir,
        ts: Ts,
        id: StreamId,
        offset: u64,
        data: &[u8],
        fin: bool,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let Some(mut end) = offset.checked_add(data.len() as u64) else {
            self.stats.beyond_final_size += data.len() as u64;
            return;
        };
        if !self.ensure_stream(dir, id, data.len() as u64) {
            return;
        }
        let QuicStreams {
            limits,
            open,
            buffered_total: total,
            stats,
            ..
        } = self;
        let Some(s) = open.get_mut(&key(dir, id)) else {
            return;
        };
        // RFC 9000 4.5: "Once a final size for a stream is known, it cannot change. If a
        // RESET_STREAM or STREAM frame is received indicating a change in the final size
        // for the stream, an endpoint SHOULD respond with an error of type
        // FINAL_SIZE_ERROR". An observer keeps the first and counts the contradiction.
        if fin {
            match s.final_size {
                Some(f) if f != end => stats.final_size_errors += 1,
                Some(_) => {}
                None if end < s.highest => stats.final_size_errors += 1,
                None => s.final_size = Some(end),
            }
        }
        let mut data = data;
        if let Some(f) = s.final_size {
            if end > f {
                let keep = f.saturating_sub(offset).min(data.len() as u64);
                stats.beyond_final_size += end - f.max(offset);
                data = &data[..keep as usize];
                end = end.min(f);
            }
        }
        s.highest = s.highest.max(end);
        let sd = StreamDir { dir, id };
        if data.is_empty() {
            // Nothing to place (a bare FIN, or bytes beyond the final size).
        } else if end <= s.next {
            stats.duplicate_bytes += data.len() as u64;
        } else {
            let len = data.len();
            let needs_room = |s: &RecvStream, total: usize| {
                s.pending_bytes + len > limits.max_buffered
                    || total + len > limits.max_buffered_total
                    || s.pending.len() >= limits.max_segments
            };
            // Out of order and over a cap: give up the oldest holes (up to the earliest
            // data known, this frame's included) until the frame fits or is in order.
            while offset > s.next && needs_room(s, *total) {
                stats.forced_gaps += 1;
                let to = s.pending.first().map_or(offset, |p| p.offset.min(offset));
                s.gap_to(sd, to, ts, stats, sink);
                s.drain(sd, ts, total, stats, sink);
            }
            if offset <= s.next {
                // In order (possibly overlapping what was delivered): the fast path hands
                // on the frame's own bytes.
                if end > s.next {
                    let skip = (s.next - offset) as usize;
                    stats.duplicate_bytes += skip as u64;
                    sink(StreamEvent::Data {
                        dir,
                        id,
                        offset: s.next,
                        bytes: &data[skip..],
                        ts,
                        first_seen: ts,
                    });
                    s.next = end;
                }
                s.drain(sd, ts, total, stats, sink);
            } else {
                s.insert(offset, data, ts, total, stats);
            }
        }
        stats.buffered_peak = stats.buffered_peak.max(*total);
        if s.finish_if_complete(sd, ts, sink) {
            self.close(dir, id);
        }
    }

    /// RESET_STREAM from the sender of `dir`.
    pub fn handle_reset(
        &mut self,
        dir: Dir,
        ts: Ts,
        id: StreamId,
        error_code: u64,
        final_size: u64,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if !self.ensure_stream(dir, id, 0) {
            return;
        }
        let Some(s) = self.open.get(&key(dir, id)) else {
            return;
        };
        let contradicts = match s.final_size {
            Some(f) => f != final_size,
            None => final_size < s.highest,
        };
        let dropped = s.pending_bytes;
        let delivered = s.next;
        if contradicts {
            self.stats.final_size_errors += 1;
        }
        self.stats.reset_dropped_bytes += dropped as u64;
        self.buffered_total = self.buffered_total.saturating_sub(dropped);
        sink(StreamEvent::Reset {
            dir,
            id,
            error_code,
            final_size,
            delivered,
            ts,
        });
        self.close(dir, id);
    }

    /// STOP_SENDING sent travelling `dir`: the receiver of stream `id` asks its sender (the
    /// other direction) to stop. Noted as an event on that direction; no state is opened.
    pub fn handle_stop_sending(
        &mut self,
        dir: Dir,
        ts: Ts,
        id: StreamId,
        error_code: u64,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        self.stats.stop_sending += 1;
        sink(StreamEvent::StopSending {
            dir: dir.reverse(),
            id,
            error_code,
            ts,
        });
    }

    /// Gives up every hole of one stream: the buffered data is delivered after `Gap`
    /// events, and a stream whose final size is known ends with a gap up to it and `Fin`.
    /// For FIN seen but data missing, CONNECTION_CLOSE, or the end of the capture.
    pub fn flush(
        &mut self,
        dir: Dir,
        id: StreamId,
        ts: Ts,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let QuicStreams {
            open,
            buffered_total: total,
            stats,
            ..
        } = self;
        let Some(s) = open.get_mut(&key(dir, id)) else {
            return;
        };
        let sd = StreamDir { dir, id };
        while !s.pending.is_empty() {
            s.give_up_front(sd, ts, total, stats, sink);
        }
        if let Some(f) = s.final_size {
            s.gap_to(sd, f, ts, stats, sink);
        }
        if s.finish_if_complete(sd, ts, sink) {
            self.close(dir, id);
        }
    }

    /// [`QuicStreams::flush`] on every open stream with buffered data or a known final
    /// size, in stream order (client's data first).
    pub fn flush_all(&mut self, ts: Ts, sink: &mut impl FnMut(StreamEvent<'_>)) {
        let keys: Vec<Key> = self
            .open
            .iter()
            .filter(|(_, s)| !s.pending.is_empty() || s.final_size.is_some())
            .map(|(k, _)| *k)
            .collect();
        for (d, id) in keys {
            self.flush(Dir::from_index(d), StreamId(id), ts, sink);
        }
    }

    fn close(&mut self, dir: Dir, id: StreamId) {
        let k = key(dir, id);
        self.open.remove(&k);
        self.closed.insert(k);
        while self.closed.len() > self.limits.max_closed {
            self.closed.pop_first();
            self.stats.closed_forgotten += 1;
        }
    }
}

#[derive(Clone, Copy)]
struct StreamDir {
    dir: Dir,
    id: StreamId,
}

impl RecvStream {
    /// Delivers the buffered segments that became contiguous.
    fn drain(
        &mut self,
        sd: StreamDir,
        ts: Ts,
        total: &mut usize,
        stats: &mut StreamStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let mut n = 0;
        for seg in &self.pending {
            if seg.offset > self.next {
                break;
            }
            n += 1;
            let end = seg.end();
            if end <= self.next {
                stats.duplicate_bytes += seg.data.len() as u64;
                continue;
            }
            let skip = (self.next - seg.offset) as usize;
            stats.duplicate_bytes += skip as u64;
            sink(StreamEvent::Data {
                dir: sd.dir,
                id: sd.id,
                offset: self.next,
                bytes: &seg.data[skip..],
                ts,
                first_seen: seg.first_seen,
            });
            self.next = end;
        }
        for seg in self.pending.drain(..n) {
            self.pending_bytes -= seg.data.len();
            *total = total.saturating_sub(seg.data.len());
        }
    }

    /// Gives up the hole before the first buffered segment, then delivers what follows.
    fn give_up_front(
        &mut self,
        sd: StreamDir,
        ts: Ts,
        total: &mut usize,
        stats: &mut StreamStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if let Some(first) = self.pending.first() {
            let to = first.offset;
            self.gap_to(sd, to, ts, stats, sink);
            self.drain(sd, ts, total, stats, sink);
        }
    }

    /// A `Gap` from `next` up to `to` (nothing if `to` is not ahead).
    fn gap_to(
        &mut self,
        sd: StreamDir,
        to: u64,
        ts: Ts,
        stats: &mut StreamStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if to > self.next {
            let len = to - self.next;
            stats.gap_bytes += len;
            sink(StreamEvent::Gap {
                dir: sd.dir,
                id: sd.id,
                offset: self.next,
                len,
                ts,
            });
            self.next = to;
        }
    }

    /// Buffers the parts of `[offset, offset + data.len())` (all above `next`) that no
    /// segment holds yet, merging adjacent segments.
    fn insert(
        &mut self,
        offset: u64,
        data: &[u8],
        ts: Ts,
        total: &mut usize,
        stats: &mut StreamStats,
    ) {
        let end = offset + data.len() as u64;
        let mut cur = offset;
        let mut i = self.pending.partition_point(|s| s.end() <= cur);
        while cur < end {
            if let Some(seg) = self.pending.get(i).filter(|s| s.offset <= cur) {
                let seg_end = seg.end();
                stats.duplicate_bytes += seg_end.min(end) - cur;
                cur = seg_end;
                i += 1;
                continue;
            }
            let piece_end = self.pending.get(i).map_or(end, |s| s.offset.min(end));
            let bytes = &data[(cur - offset) as usize..(piece_end - offset) as usize];
            match i.checked_sub(1).and_then(|p| self.pending.get_mut(p)) {
                Some(prev) if prev.end() == cur => {
                    prev.data.extend_from_slice(bytes);
                    prev.first_seen = prev.first_seen.min(ts);
                }
                _ => {
                    self.pending.insert(
                        i,
                        Segment {
                            offset: cur,
                            first_seen: ts,
                            data: bytes.to_vec(),
                        },
                    );
                    i += 1;
                }
            }
            self.pending_bytes += bytes.len();
            *total += bytes.len();
            cur = piece_end;
        }
        // A piece may now touch the segment after it.
        let mut k = 1;
        while k < self.pending.len() {
            if self.pending[k - 1].end() == self.pending[k].offset {
                let next = self.pending.remove(k);
                let prev = &mut self.pending[k - 1];
                prev.data.extend_from_slice(&next.data);
                prev.first_seen = prev.first_seen.min(next.first_seen);
            } else {
                k += 1;
            }
        }
    }

    /// Emits `Fin` once every byte below the final size was handed on; returns whether the
    /// stream is done.
    fn finish_if_complete(
        &mut self,
        sd: StreamDir,
        ts: Ts,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) -> bool {
        match self.final_size {
            Some(f) if self.next >= f => {
                sink(StreamEvent::Fin {
                    dir: sd.dir,
                    id: sd.id,
                    final_size: f,
                    ts,
                });
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
