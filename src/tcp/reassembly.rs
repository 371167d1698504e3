//! One direction of a TCP connection turned back into an ordered byte stream.
//!
//! Input: segments (`seq`, payload, capture time) in capture order, and the peer's ACKs.
//! Output, through a [`StreamSink`]: the stream's bytes in order, each piece dated when it
//! became deliverable in order (the segment that carried it, or the later one that filled
//! the hole before it: what the application saw), and explicit gaps for bytes never
//! captured.
//!
//! Rules (the receiver's view, as a passive observer can best reconstruct it):
//! - Sequence numbers are compared with wrapping arithmetic ([`SeqNum`]); a stream offset is
//!   a `u64` counted from the first byte, so wrap-around at 2^32 is invisible above.
//! - **First copy wins.** Bytes already delivered are never delivered again; a
//!   retransmission that overlaps delivered bytes contributes only its new tail. Overlaps
//!   among buffered out-of-order segments keep the bytes that arrived first. (RFC 9293
//!   lets receivers choose; Linux and Wireshark's reassembly also keep the first copy, and a
//!   retransmission that disagrees with it is the anomaly, not the original.)
//! - Out-of-order segments are buffered up to a per-direction cap. When the cap is hit the
//!   hole before the earliest buffered segment is declared a gap (a `cap` warning), so memory
//!   stays bounded and the stream keeps flowing.
//! - **Classification** follows Wireshark's `tcp.analysis`, so the counters mean what a
//!   Wireshark user expects: a segment that does not advance the highest sequence number
//!   seen is *out-of-order* when it arrives within the connection's initial RTT (3 ms when
//!   unknown) of the segment that did, and does not end exactly there; otherwise it is a
//!   *retransmission* (also when every byte was seen before). Segments that arrive after a
//!   hole advance the highest sequence number and are neither: the hole's filler is flagged.
//!   A capture taken at the receiver never sees a segment lost on the way, so the sender's
//!   retransmission is the first copy the capture holds; it is still a retransmission.
//! - **Loss is proven by ACKs.** When the peer acknowledges bytes beyond what was captured,
//!   the sender will not send them again: the hole is a gap (capture loss). At the end of a
//!   connection the remaining holes before buffered data are gaps too.

use std::collections::BTreeMap;

use crate::net::flow::Dir;
use crate::time::Ts;

/// A TCP sequence number; ordering is by wrapping distance (RFC 9293 section 3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// Signed distance `self - other`, valid while the two are within 2^31 of each other.
    pub fn diff(self, other: SeqNum) -> i64 {
        self.0.wrapping_sub(other.0) as i32 as i64
    }

    pub fn plus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    pub fn is_after(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }
}

/// Where reassembled bytes go.
pub trait StreamSink {
    /// The next bytes in order. `late`: they are the bytes of a segment that came below the
    /// highest byte seen (a resend, or an out-of-order arrival filling a hole), not bytes
    /// that waited behind it: what a lost segment carried.
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8], late: bool);
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts);
}

/// What a segment was, for the connection's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentVerdict {
    /// Wireshark's `tcp.analysis.retransmission`: below the highest sequence seen, and
    /// either seen before or arriving later than the out-of-order threshold.
    pub retransmission: bool,
    /// Wireshark's `tcp.analysis.out_of_order`: below the highest sequence seen, soon after.
    pub out_of_order: bool,
    /// Payload bytes that were new to the stream (delivered now or buffered).
    pub new_bytes: u64,
    /// The out-of-order buffer was full; a hole was declared a gap to make room.
    pub hit_cap: bool,
}

#[derive(Debug)]
struct Pending {
    ts: Ts,
    data: Vec<u8>,
}

/// One direction's reassembly state.
#[derive(Debug)]
pub struct Reassembler {
    dir: Dir,
    /// Sequence number of stream offset 0 (ISN + 1 when the SYN was seen).
    base: Option<SeqNum>,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Out-of-order segments by stream offset.
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    cap: usize,
    /// Bytes delivered and declared lost so far.
    delivered: u64,
    gap_bytes: u64,
    /// End offset of the highest segment seen, and when it was seen.
    highest: Option<(u64, Ts)>,
    /// Out-of-order threshold: the initial RTT, 3 ms until it is known.
    ooo_nanos: i64,
    /// When the bytes now buffered behind a hole began to wait (the arrival of the first
    /// segment buffered since the buffer was last empty; after a partial drain, of the
    /// first one left).
    pending_since: Option<Ts>,
}

/// Default cap on buffered out-of-order bytes per direction.
pub const DEFAULT_OOO_CAP: usize = 4 << 20;

impl Reassembler {
    pub fn new(dir: Dir, cap: usize) -> Reassembler {
        Reassembler {
            dir,
            base: None,
            next: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            cap,
            delivered: 0,
            gap_bytes: 0,
            highest: None,
            ooo_nanos: 3_000_000,
            pending_since: None,
        }
    }

    /// Sets the out-of-order threshold to the connection's initial RTT.
    pub fn set_rtt(&mut self, nanos: i64) {
        if nanos > 0 {
            self.ooo_nanos = nanos;
        }
    }

    /// The SYN carried `isn`: data starts at `isn + 1`.
    pub fn set_isn(&mut self, isn: SeqNum) {
        if self.base.is_none() {
            self.base = Some(isn.plus(1));
        }
    }

    pub fn has_base(&self) -> bool {
        self.base.is_some()
    }

    pub fn delivered_bytes(&self) -> u64 {
        self.delivered
    }

    pub fn gap_bytes(&self) -> u64 {
        self.gap_bytes
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Stream offset of a sequence number, relative to the next byte expected.
    fn offset_of(&self, seq: SeqNum) -> Option<i128> {
        let base = self.base?;
        let next_seq = base.plus(self.next as u32);
        Some(self.next as i128 + seq.diff(next_seq) as i128)
    }

    /// The sequence number the next delivered byte will have.
    pub fn next_seq(&self) -> Option<SeqNum> {
        self.base.map(|b| b.plus(self.next as u32))
    }

    /// Handles one segment's payload (`seq` is the sequence number of its first byte; for a
    /// SYN carrying data, the caller passes `isn + 1`).
    pub fn segment(
        &mut self,
        seq: SeqNum,
        payload: &[u8],
        ts: Ts,
        sink: &mut dyn StreamSink,
    ) -> SegmentVerdict {
        self.segment_after_dupacks(seq, payload, ts, false, sink)
    }

    /// As [`Reassembler::segment`]; `asked_by_dupacks` says the peer sent two or more
    /// duplicate ACKs asking for exactly `seq` (Wireshark's fast retransmission).
    pub fn segment_after_dupacks(
        &mut self,
        seq: SeqNum,
        payload: &[u8],
        ts: Ts,
        asked_by_dupacks: bool,
        sink: &mut dyn StreamSink,
    ) -> SegmentVerdict {
        if payload.is_empty() {
            return SegmentVerdict::default();
        }
        if self.base.is_none() {
            self.base = Some(seq);
        }
        let start = self.offset_of(seq).unwrap_or(0);
        let end = start + payload.len() as i128;
        let late = self.highest.is_some_and(|(h, _)| start < h as i128);
        let mut v = self.place(seq, payload, ts, late, sink);
        // Classify as Wireshark does (see the module doc).
        v.retransmission = false;
        v.out_of_order = false;
        match self.highest {
            Some((high, high_ts)) if start < high as i128 => {
                let since = ts.nanos().saturating_sub(high_ts.nanos());
                if asked_by_dupacks {
                    v.retransmission = true;
                } else if v.new_bytes > 0 && since < self.ooo_nanos && end != high as i128 {
                    v.out_of_order = true;
                } else {
                    v.retransmission = true;
                }
            }
            _ => {}
        }
        if end > 0 && self.highest.is_none_or(|(h, _)| end > h as i128) {
            self.highest = Some((end as u64, ts));
        }
        v
    }

    /// A segment without payload at `seq`: its sender has reached `seq`, so later data below
    /// it is classified as sent before (Wireshark advances its `nextseq` with every segment).
    ///
    /// The time of the highest *data* stays (Wireshark's `nextseqtime` moves with data
    /// only), so it is what the out-of-order test measures from.
    pub fn observe(&mut self, seq: SeqNum) {
        let Some(off) = self.offset_of(seq) else {
            return;
        };
        if off > 0 && self.highest.is_none_or(|(h, _)| off > h as i128) && off < (1i128 << 62) {
            let at = self
                .highest
                .map_or(Ts::from_nanos(i64::MIN / 2), |(_, t)| t);
            self.highest = Some((off as u64, at));
        }
    }

    /// Whether something sent again now is out of order rather than retransmitted: it came
    /// within the connection's initial RTT (3 ms until known) of the highest data.
    pub fn soon_after_highest(&self, ts: Ts) -> bool {
        self.highest
            .is_some_and(|(_, t)| ts.nanos().saturating_sub(t.nanos()) < self.ooo_nanos)
    }

    /// Delivers or buffers a segment's bytes (first copy wins); `late` as in
    /// [`StreamSink::data`].
    fn place(
        &mut self,
        seq: SeqNum,
        payload: &[u8],
        ts: Ts,
        late: bool,
        sink: &mut dyn StreamSink,
    ) -> SegmentVerdict {
        let mut v = SegmentVerdict::default();
        if payload.is_empty() {
            return v;
        }
        if self.base.is_none() {
            // Mid-stream start: the first segment seen defines offset 0.
            self.base = Some(seq);
        }
        let Some(off) = self.offset_of(seq) else {
            return v;
        };
        let (mut off, mut payload) = (off, payload);
        loop {
            let len = payload.len() as i128;
            let next = self.next as i128;
            if off + len <= next {
                v.retransmission = true;
                return v;
            }
            if off > next {
                break;
            }
            // In order, possibly overlapping what was delivered: deliver the new part up to
            // the next buffered segment, drain, and go on with whatever is left.
            let skip = (next - off) as usize;
            if skip > 0 {
                v.retransmission = true;
            }
            let fresh = self.trim_against_pending(&payload[skip..], self.next);
            let used = skip + fresh.len();
            v.new_bytes += fresh.len() as u64;
            self.deliver(ts, fresh, late, sink);
            self.drain(Some(ts), sink);
            if used == 0 && self.next as i128 == next {
                // Cannot happen (a buffered segment at `next` is always drained), but an
                // observer never spins: treat the rest as out of order.
                break;
            }
            payload = &payload[used..];
            off += used as i128;
            if payload.is_empty() {
                return v;
            }
        }
        // Ahead of a hole: buffer it.
        let start = off as u64;
        let added = self.insert_pending(start, payload, ts, &mut v);
        v.new_bytes += added;
        if self.pending_bytes > self.cap {
            v.hit_cap = true;
            self.skip_to_first_pending(ts, sink);
            self.drain(None, sink);
        }
        v
    }

    /// The peer acknowledged everything before `ack`. Bytes below it never captured are lost.
    pub fn ack(&mut self, ack: SeqNum, ts: Ts, sink: &mut dyn StreamSink) {
        let Some(off) = self.offset_of(ack) else {
            return;
        };
        // An ACK far outside the window is noise (or another connection's): ignore it.
        if off <= self.next as i128 || off - self.next as i128 > (1i128 << 30) {
            return;
        }
        let target = off as u64;
        while self.next < target {
            match self.pending.keys().next().copied() {
                Some(first) if first <= self.next => self.drain(None, sink),
                Some(first) if first < target => {
                    self.gap_to(first, ts, sink);
                    self.drain(None, sink);
                }
                _ => {
                    self.gap_to(target, ts, sink);
                }
            }
        }
    }

    /// End of the connection: every hole before buffered data is a gap; deliver the rest.
    pub fn flush(&mut self, ts: Ts, sink: &mut dyn StreamSink) {
        while let Some(first) = self.pending.keys().next().copied() {
            if first > self.next {
                self.gap_to(first, ts, sink);
            }
            self.drain(None, sink);
        }
    }

    fn deliver(&mut self, ts: Ts, bytes: &[u8], late: bool, sink: &mut dyn StreamSink) {
        if bytes.is_empty() {
            return;
        }
        sink.data(self.dir, ts, bytes, late);
        self.next += bytes.len() as u64;
        self.delivered += bytes.len() as u64;
    }

    fn gap_to(&mut self, offset: u64, ts: Ts, sink: &mut dyn StreamSink) {
        if offset > self.next {
            let len = offset - self.next;
            sink.gap(self.dir, len, ts);
            self.gap_bytes += len;
            self.next = offset;
        }
    }

    fn skip_to_first_pending(&mut self, ts: Ts, sink: &mut dyn StreamSink) {
        if let Some(first) = self.pending.keys().next().copied() {
            self.gap_to(first, ts, sink);
        }
    }

    /// When the bytes now waiting behind a hole began to wait: the earliest arrival among
    /// the buffered segments.
    pub fn first_pending_ts(&self) -> Option<Ts> {
        self.pending_since
    }

    /// When the highest segment so far was seen.
    pub fn highest_ts(&self) -> Option<Ts> {
        self.highest.map(|(_, t)| t)
    }

    /// Delivers buffered segments that now start at or before `next`, dated when they became
    /// deliverable in order: `now` when a segment filled the hole before them, their own
    /// arrival when the hole was declared never captured (the receiver had them then).
    fn drain(&mut self, now: Option<Ts>, sink: &mut dyn StreamSink) {
        let mut drained = false;
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let p = entry.remove();
            drained = true;
            self.pending_bytes -= p.data.len();
            let end = start + p.data.len() as u64;
            if end > self.next {
                let skip = (self.next - start) as usize;
                let ts = now.map_or(p.ts, |n| n.max(p.ts));
                let data = p.data;
                self.deliver(ts, &data[skip..], false, sink);
            }
        }
        if drained {
            self.pending_since = self.pending.first_key_value().map(|(_, p)| p.ts);
        }
    }

    /// Cuts an in-order piece short where it would run into buffered bytes (first copy wins).
    fn trim_against_pending<'p>(&self, fresh: &'p [u8], start: u64) -> &'p [u8] {
        if let Some((&first, _)) = self.pending.range(start..).next() {
            let room = (first - start) as usize;
            if room < fresh.len() {
                return &fresh[..room];
            }
        }
        fresh
    }

    /// Buffers the parts of `payload` (at `start`) not already buffered. Returns new bytes.
    fn insert_pending(
        &mut self,
        start: u64,
        payload: &[u8],
        ts: Ts,
        v: &mut SegmentVerdict,
    ) -> u64 {
        if self.pending.is_empty() {
            self.pending_since = Some(ts);
        }
        let end = start + payload.len() as u64;
        // Collect the free sub-ranges of [start, end) not covered by buffered segments.
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut cursor = start;
        // A buffered segment starting before `start` may cover its beginning.
        if let Some((&s, p)) = self.pending.range(..start).next_back() {
            let e = s + p.data.len() as u64;
            if e > cursor {
                cursor = e.min(end);
            }
        }
        for (&s, p) in self.pending.range(start..end) {
            if s > cursor {
                pieces.push((cursor, s));
            }
            cursor = cursor.max(s + p.data.len() as u64);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        let covered: u64 = pieces.iter().map(|(a, b)| b - a).sum();
        if covered < payload.len() as u64 {
            v.retransmission = true;
        }
        for (a, b) in pieces {
            let data = payload[(a - start) as usize..(b - start) as usize].to_vec();
            self.pending_bytes += data.len();
            self.pending.insert(a, Pending { ts, data });
        }
        covered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Default)]
    struct Collect {
        bytes: Vec<u8>,
        gaps: Vec<u64>,
        calls: Vec<(Ts, usize)>,
        late: Vec<bool>,
    }

    impl StreamSink for Collect {
        fn data(&mut self, _dir: Dir, ts: Ts, bytes: &[u8], late: bool) {
            self.bytes.extend_from_slice(bytes);
            self.calls.push((ts, bytes.len()));
            self.late.push(late);
        }
        fn gap(&mut self, _dir: Dir, len: u64, _ts: Ts) {
            self.gaps.push(len);
            self.bytes.extend(std::iter::repeat_n(0u8, len as usize));
        }
    }

    fn r() -> Reassembler {
        let mut r = Reassembler::new(Dir::ToServer, DEFAULT_OOO_CAP);
        r.set_isn(SeqNum(999));
        r
    }

    #[test]
    fn in_order_segments_are_delivered_with_their_timestamps() {
        let mut re = r();
        let mut c = Collect::default();
        re.segment(SeqNum(1000), b"hello ", Ts(1), &mut c);
        re.segment(SeqNum(1006), b"world", Ts(2), &mut c);
        assert_eq!(c.bytes, b"hello world");
        assert_eq!(c.calls, vec![(Ts(1), 6), (Ts(2), 5)]);
    }

    #[test]
    fn out_of_order_is_buffered_then_drained_in_order() {
        let mut re = r();
        let mut c = Collect::default();
        let v = re.segment(SeqNum(1006), b"world", Ts(2), &mut c);
        // The segment after the hole advances the highest sequence: not flagged.
        assert!(!v.out_of_order && !v.retransmission);
        assert!(c.bytes.is_empty());
        // The hole's filler, soon after: out-of-order (Wireshark's rule).
        let v = re.segment(SeqNum(1000), b"hello ", Ts(3), &mut c);
        assert!(v.out_of_order && !v.retransmission);
        assert_eq!(c.bytes, b"hello world");
        // The drained bytes are dated when they became deliverable: at the hole's filler.
        assert_eq!(c.calls, vec![(Ts(3), 6), (Ts(3), 5)]);
        // The filler's own bytes are what was missing; the drained ones only waited.
        assert_eq!(c.late, vec![true, false]);
    }

    #[test]
    fn a_resend_s_new_tail_is_late_and_in_order_data_is_not() {
        let mut re = r();
        let mut c = Collect::default();
        re.segment(SeqNum(1000), b"abc", Ts(1), &mut c);
        re.segment(SeqNum(1003), b"def", Ts(2), &mut c);
        // A tail loss the capture saw only in its resend: nothing beyond it, so not late.
        re.segment(SeqNum(1006), b"ghi", Ts(10_000_000), &mut c);
        // Bytes the capture missed the first time, sent again with earlier ones.
        re.observe(SeqNum(1012));
        re.segment(SeqNum(1009), b"jkl", Ts(20_000_000), &mut c);
        assert_eq!(c.late, vec![false, false, false, true]);
    }

    #[test]
    fn retransmission_is_not_delivered_twice_and_first_copy_wins() {
        let mut re = r();
        let mut c = Collect::default();
        re.segment(SeqNum(1000), b"abcdef", Ts(1), &mut c);
        // Later than the 3 ms out-of-order threshold: a retransmission with a new tail.
        let v = re.segment(SeqNum(1003), b"XYZghi", Ts(10_000_000), &mut c);
        assert!(v.retransmission);
        assert_eq!(v.new_bytes, 3);
        assert_eq!(c.bytes, b"abcdefghi");
        // Every byte seen before: a retransmission however soon it comes.
        let v = re.segment(SeqNum(1000), b"abc", Ts(10_000_001), &mut c);
        assert!(v.retransmission && !v.out_of_order);
        assert_eq!(v.new_bytes, 0);
    }

    #[test]
    fn sequence_wraps_around() {
        let mut re = Reassembler::new(Dir::ToClient, DEFAULT_OOO_CAP);
        re.set_isn(SeqNum(u32::MAX - 3));
        let mut c = Collect::default();
        re.segment(SeqNum(u32::MAX - 2), b"abc", Ts(1), &mut c);
        re.segment(SeqNum(0), b"def", Ts(2), &mut c);
        assert_eq!(c.bytes, b"abcdef");
    }

    #[test]
    fn ack_beyond_captured_bytes_declares_a_gap() {
        let mut re = r();
        let mut c = Collect::default();
        re.segment(SeqNum(1000), b"abc", Ts(1), &mut c);
        re.segment(SeqNum(1010), b"klm", Ts(2), &mut c);
        re.ack(SeqNum(1013), Ts(3), &mut c);
        assert_eq!(c.gaps, vec![7]);
        assert_eq!(&c.bytes[10..], b"klm");
        assert_eq!(re.gap_bytes(), 7);
        // A stale or wild ACK changes nothing.
        re.ack(SeqNum(1001), Ts(4), &mut c);
        re.ack(SeqNum(1013u32.wrapping_add(1 << 31)), Ts(4), &mut c);
        assert_eq!(c.gaps, vec![7]);
    }

    #[test]
    fn cap_turns_the_first_hole_into_a_gap() {
        let mut re = Reassembler::new(Dir::ToServer, 8);
        re.set_isn(SeqNum(0));
        let mut c = Collect::default();
        re.segment(SeqNum(11), b"12345", Ts(1), &mut c);
        let v = re.segment(SeqNum(16), b"67890", Ts(2), &mut c);
        assert!(v.hit_cap);
        assert_eq!(c.gaps, vec![10]);
        assert_eq!(&c.bytes[10..], b"1234567890");
        assert_eq!(re.pending_bytes(), 0);
    }

    #[test]
    fn flush_delivers_buffered_data_after_gaps() {
        let mut re = r();
        let mut c = Collect::default();
        re.segment(SeqNum(1005), b"fgh", Ts(1), &mut c);
        re.flush(Ts(2), &mut c);
        assert_eq!(c.gaps, vec![5]);
        assert_eq!(&c.bytes[5..], b"fgh");
    }

    #[test]
    fn mid_stream_start_uses_first_segment_as_origin() {
        let mut re = Reassembler::new(Dir::ToServer, DEFAULT_OOO_CAP);
        let mut c = Collect::default();
        re.segment(SeqNum(77), b"xy", Ts(1), &mut c);
        re.segment(SeqNum(79), b"z", Ts(1), &mut c);
        assert_eq!(c.bytes, b"xyz");
    }

    proptest! {
        /// The same stream cut into random segments, shuffled, duplicated and overlapping,
        /// reassembles to the original bytes.
        #[test]
        fn random_segmentation_reassembles_exactly(
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec((0usize..3000, 1usize..400), 1..60),
            isn in any::<u32>(),
            seed in any::<u64>(),
        ) {
            let n = data.len();
            let mut segs: Vec<(usize, usize)> = cuts.iter()
                .map(|&(s, l)| (s % n, ((s % n) + l).min(n)))
                .collect();
            // Guarantee coverage: the in-order segmentation is in there too.
            let mut o = 0;
            while o < n { let e = (o + 97).min(n); segs.push((o, e)); o = e; }
            // Deterministic shuffle.
            let mut x = seed | 1;
            for i in (1..segs.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                segs.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut re = Reassembler::new(Dir::ToServer, DEFAULT_OOO_CAP);
            re.set_isn(SeqNum(isn));
            let mut c = Collect::default();
            for (k, &(a, b)) in segs.iter().enumerate() {
                re.segment(SeqNum(isn).plus(1 + a as u32), &data[a..b], Ts(k as i64), &mut c);
            }
            re.flush(Ts(0), &mut c);
            prop_assert!(c.gaps.is_empty());
            prop_assert_eq!(c.bytes, data);
            prop_assert_eq!(re.pending_bytes(), 0);
        }
    }
}
