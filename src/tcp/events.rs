//! The moments a connection's bytes were held back, as TCP saw them: resent SYNs, resent
//! data (after a timeout or duplicate ACKs), a receiver's zero window, bytes the capture
//! never saw. Each is an interval of capture time, from when the wait began to when it
//! ended, with the frames that show it; [`crate::pageload`] lays them over the exchanges
//! they delayed.
//!
//! Bounded: at most [`MAX_EVENTS`] per connection (the rest counted), and per direction at
//! most [`MAX_FLIGHT`] segments remembered in flight (sent, not yet acknowledged), dropped
//! as ACKs cover them; a connection that never sent data allocates nothing.

use std::collections::VecDeque;

use crate::net::flow::Dir;
use crate::time::Ts;

use super::reassembly::SeqNum;

/// Events kept per connection.
pub const MAX_EVENTS: usize = 64;
/// Unacknowledged data segments remembered per direction (their first send).
pub const MAX_FLIGHT: usize = 64;
/// Of [`MAX_EVENTS`], at most this many are waits for a window (receive or congestion),
/// which a long transfer can have once per round trip: losses always find room.
pub const MAX_WINDOW_EVENTS: usize = 32;
/// Bytes unacknowledged, in segments of the receiver's MSS, from which a pause ended by
/// ACKs is a wait for the congestion window (Linux starts at 10 segments).
pub const CWND_MIN_SEGMENTS: i64 = 4;

/// What held bytes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEventKind {
    /// The client's SYN sent again (its earlier one went unanswered).
    SynRetransmission,
    /// The server's SYN/ACK sent again.
    SynAckRetransmission,
    /// Data sent again: after duplicate ACKs asked for it (`fast`), else after a timeout.
    Retransmission { fast: bool },
    /// Data sent again that the receiver already had: it had acknowledged the bytes, or the
    /// capture, taken near it, saw their first copy arrive (Wireshark's spurious
    /// retransmission when the ACK proves it). Nothing waited; listed so that every resend
    /// is accounted for.
    SpuriousRetransmission,
    /// A FIN (without data) sent again: the close waited from the first FIN.
    FinRetransmission,
    /// The receiver advertised a zero window: the sender had to stop.
    ZeroWindow,
    /// The sender filled the window the receiver advertised and waited for room: from the
    /// segment that filled it to the sender's next new data.
    WindowLimited,
    /// The sender had sent all its congestion window allowed and waited for ACKs to send
    /// more (slow start): from its last data before the pause to its next new data.
    CongestionWindow,
    /// `len` bytes never captured: what they cost cannot be told.
    Gap { len: u64 },
}

/// One wait, in capture time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpEvent {
    pub kind: TcpEventKind,
    /// The direction of the bytes that were held back.
    pub dir: Dir,
    /// When the wait began (the first send of what was resent; the first bytes that waited
    /// behind a hole; the zero window), and its frame when one shows it.
    pub from: Ts,
    pub from_frame: Option<u64>,
    /// When it ended (the resend; the window update) and its frame.
    pub to: Ts,
    pub to_frame: u64,
}

impl TcpEvent {
    /// How long the bytes waited, in milliseconds.
    pub fn ms(&self) -> f64 {
        (self.to.nanos().saturating_sub(self.from.nanos())).max(0) as f64 / 1e6
    }
}

/// A connection's events, capped.
#[derive(Debug, Clone, Default)]
pub struct Events {
    pub list: Vec<TcpEvent>,
    pub dropped: u64,
}

impl Events {
    pub fn push(&mut self, e: TcpEvent) {
        let window = |k: TcpEventKind| {
            matches!(
                k,
                TcpEventKind::WindowLimited | TcpEventKind::CongestionWindow
            )
        };
        let full = window(e.kind)
            && self.list.iter().filter(|x| window(x.kind)).count() >= MAX_WINDOW_EVENTS;
        if self.list.len() < MAX_EVENTS && !full {
            self.list.push(e);
        } else {
            self.dropped += 1;
        }
    }
}

/// One sent segment: start and end sequence numbers, when and in which frame it was first
/// sent, and whether it was sent again.
#[derive(Debug, Clone, Copy)]
struct Sent {
    start: SeqNum,
    end: SeqNum,
    ts: Ts,
    frame: u64,
    resent: bool,
}

/// One direction's data segments sent and not yet acknowledged.
#[derive(Debug, Default)]
pub struct Flight {
    segs: VecDeque<Sent>,
}

impl Flight {
    /// A segment of new data was sent.
    pub fn sent(&mut self, start: SeqNum, len: u32, ts: Ts, frame: u64) {
        if self.segs.len() < MAX_FLIGHT && len > 0 {
            self.segs.push_back(Sent {
                start,
                end: start.plus(len),
                ts,
                frame,
                resent: false,
            });
        }
    }

    /// The byte at `seq` was sent again: the ACK that covers it says nothing of the round
    /// trip (Karn's rule).
    pub fn resent(&mut self, seq: SeqNum) {
        for s in self.segs.iter_mut() {
            if seq.diff(s.start) >= 0 && s.end.diff(seq) > 0 {
                s.resent = true;
            }
        }
    }

    /// The peer acknowledged everything below `ack` (at `now`). Returns a round-trip sample
    /// in nanoseconds: from the first send of the newest segment it covered, when that
    /// segment was sent once. The queue keeps its room (at most [`MAX_FLIGHT`] entries,
    /// 2 KiB) while the connection lives: freeing it whenever the flight empties cost an
    /// allocation per request.
    pub fn acked(&mut self, ack: SeqNum, now: Ts) -> Option<i64> {
        let mut newest = None;
        while let Some(s) = self.segs.front().copied().filter(|s| ack.diff(s.end) >= 0) {
            self.segs.pop_front();
            newest = Some(s);
        }
        newest
            .filter(|s| !s.resent)
            .map(|s| now.nanos().saturating_sub(s.ts.nanos()))
            .filter(|&n| n >= 0)
    }

    /// When and in which frame the byte at `seq` was first sent, if remembered.
    pub fn first_send(&self, seq: SeqNum) -> Option<(Ts, u64)> {
        self.segs
            .iter()
            .find(|s| seq.diff(s.start) >= 0 && s.end.diff(seq) > 0)
            .map(|s| (s.ts, s.frame))
    }
}

/// Round-trip samples of one direction's data: from a segment's send to the ACK that
/// covered it, as the capture saw them (the half of the path beyond the capture point, with
/// the receiver's ACK delay). The two directions' minimums add up to the round trip.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttSamples {
    pub count: u64,
    pub min_ns: i64,
    pub max_ns: i64,
    pub sum_ns: i64,
}

impl RttSamples {
    pub fn add(&mut self, ns: i64) {
        if self.count == 0 || ns < self.min_ns {
            self.min_ns = ns;
        }
        self.max_ns = self.max_ns.max(ns);
        self.sum_ns = self.sum_ns.saturating_add(ns);
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Ts {
        Ts::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn flight_finds_the_first_send_and_forgets_what_was_acknowledged() {
        let mut f = Flight::default();
        f.sent(SeqNum(1000), 100, ts(1), 10);
        f.sent(SeqNum(1100), 100, ts(2), 11);
        assert_eq!(f.first_send(SeqNum(1150)), Some((ts(2), 11)));
        assert_eq!(f.first_send(SeqNum(1200)), None);
        // The ACK of the first segment, 20 ms after it: a round-trip sample.
        assert_eq!(f.acked(SeqNum(1100), ts(21)), Some(20_000_000));
        assert_eq!(f.first_send(SeqNum(1000)), None);
        assert_eq!(f.first_send(SeqNum(1100)), Some((ts(2), 11)));
        // Sent again: its ACK is no sample (Karn).
        f.resent(SeqNum(1150));
        assert_eq!(f.acked(SeqNum(1200), ts(50)), None);
        assert!(f.segs.is_empty());
    }

    #[test]
    fn flight_wraps_around_sequence_zero() {
        let mut f = Flight::default();
        f.sent(SeqNum(u32::MAX - 10), 100, ts(1), 5);
        assert_eq!(f.first_send(SeqNum(20)), Some((ts(1), 5)));
        f.acked(SeqNum(89), ts(2));
        assert_eq!(f.first_send(SeqNum(20)), None);
    }

    #[test]
    fn events_are_capped_and_counted() {
        let mut e = Events::default();
        for i in 0..(MAX_EVENTS + 3) {
            e.push(TcpEvent {
                kind: TcpEventKind::Gap { len: 1 },
                dir: Dir::ToClient,
                from: ts(i as i64),
                from_frame: None,
                to: ts(i as i64),
                to_frame: i as u64,
            });
        }
        assert_eq!(e.list.len(), MAX_EVENTS);
        assert_eq!(e.dropped, 3);
    }
}
