//! Stream reassembly: in order, out of order, overlaps, FIN, RESET, STOP_SENDING, caps,
//! giving up holes, and a randomised retransmission test.

use super::*;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;

fn t(n: i64) -> Ts {
    Ts::from_nanos(n)
}

/// What a sink saw, with data copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Data(u64, u64, Vec<u8>, i64, i64),
    Gap(u64, u64, u64),
    Fin(u64, u64),
    Reset(u64, u64, u64, u64),
    Stop(Dir, u64, u64),
}

fn rec(out: &mut Vec<Ev>) -> impl FnMut(StreamEvent<'_>) + '_ {
    |e| {
        out.push(match e {
            StreamEvent::Data {
                id,
                offset,
                bytes,
                ts,
                first_seen,
                ..
            } => Ev::Data(id.0, offset, bytes.to_vec(), ts.nanos(), first_seen.nanos()),
            StreamEvent::Gap {
                id, offset, len, ..
            } => Ev::Gap(id.0, offset, len),
            StreamEvent::Fin { id, final_size, .. } => Ev::Fin(id.0, final_size),
            StreamEvent::Reset {
                id,
                error_code,
                final_size,
                delivered,
                ..
            } => Ev::Reset(id.0, error_code, final_size, delivered),
            StreamEvent::StopSending {
                dir,
                id,
                error_code,
                ..
            } => Ev::Stop(dir, id.0, error_code),
        })
    }
}

/// The stream's bytes as delivered (gaps as zeros), checking offsets are contiguous.
fn assemble(events: &[Ev], id: u64) -> Vec<u8> {
    let mut v = Vec::new();
    for e in events {
        match e {
            Ev::Data(i, off, b, ..) if *i == id => {
                assert_eq!(*off, v.len() as u64, "{events:?}");
                v.extend_from_slice(b);
            }
            Ev::Gap(i, off, len) if *i == id => {
                assert_eq!(*off, v.len() as u64);
                v.resize(v.len() + *len as usize, 0);
            }
            _ => {}
        }
    }
    v
}

#[test]
fn stream_id_bits() {
    assert_eq!(StreamId(0).initiator(), Initiator::Client);
    assert!(StreamId(0).is_bidi());
    assert_eq!(StreamId(1).initiator(), Initiator::Server);
    assert!(StreamId(1).is_bidi());
    assert_eq!(StreamId(2).initiator(), Initiator::Client);
    assert!(StreamId(2).is_uni());
    assert_eq!(StreamId(3).initiator(), Initiator::Server);
    assert!(StreamId(3).is_uni());
    assert_eq!(StreamId(14).sequence(), 3);
    assert!(StreamId(0).can_send(C) && StreamId(0).can_send(S));
    assert!(StreamId(2).can_send(C) && !StreamId(2).can_send(S));
    assert!(!StreamId(3).can_send(C) && StreamId(3).can_send(S));
}

#[test]
fn in_order_is_delivered_from_the_frame_itself() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let data = b"GET / HTTP/3".to_vec();
    let mut seen = 0;
    st.handle_stream(C, t(5), StreamId(0), 0, &data, false, &mut |e| {
        if let StreamEvent::Data { bytes, offset, .. } = e {
            // Zero copy: the very bytes of the frame.
            assert!(std::ptr::eq(bytes.as_ptr(), data.as_ptr()));
            assert_eq!(offset, 0);
            seen += 1;
        }
    });
    assert_eq!(seen, 1);
    assert_eq!(st.next_offset(C, StreamId(0)), Some(12));
    assert_eq!(st.stats().streams, 1);
}

#[test]
fn out_of_order_waits_for_the_hole_and_keeps_times() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let mut ev = Vec::new();
    st.handle_stream(S, t(1), StreamId(1), 5, b"world", false, &mut rec(&mut ev));
    assert!(ev.is_empty());
    st.handle_stream(S, t(2), StreamId(1), 0, b"hello", true, &mut rec(&mut ev));
    // Final size is 5 from that FIN but data to 10 was seen: a contradiction, counted,
    // and the FIN is not believed.
    assert_eq!(st.stats().final_size_errors, 1);
    assert_eq!(
        ev,
        vec![
            Ev::Data(1, 0, b"hello".to_vec(), 2, 2),
            Ev::Data(1, 5, b"world".to_vec(), 2, 1),
        ]
    );
    ev.clear();
    st.handle_stream(S, t(3), StreamId(1), 10, b"", true, &mut rec(&mut ev));
    assert_eq!(ev, vec![Ev::Fin(1, 10)]);
    assert!(st.is_closed(S, StreamId(1)));
    assert_eq!(st.open_streams(), 0);
}

#[test]
fn retransmissions_and_overlaps_deliver_each_byte_once() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let mut ev = Vec::new();
    let text = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let id = StreamId(4);
    let put = |st: &mut QuicStreams, a: usize, b: usize, ev: &mut Vec<Ev>| {
        st.handle_stream(
            C,
            t(a as i64),
            id,
            a as u64,
            &text[a..b],
            false,
            &mut rec(ev),
        );
    };
    put(&mut st, 10, 20, &mut ev);
    put(&mut st, 15, 25, &mut ev); // overlaps the buffered segment
    put(&mut st, 30, 36, &mut ev); // another hole before it
    put(&mut st, 5, 12, &mut ev); // overlaps the front of the buffer
    put(&mut st, 12, 18, &mut ev); // entirely buffered already
    assert!(ev.is_empty());
    put(&mut st, 0, 8, &mut ev); // fills the first hole
    assert_eq!(assemble(&ev, 4), text[..25].to_vec());
    put(&mut st, 2, 6, &mut ev); // old retransmission
    put(&mut st, 24, 31, &mut ev); // fills the second hole, overlapping both sides
    assert_eq!(assemble(&ev, 4), text.to_vec());
    let s = st.stats();
    // 15..20, 10..12, 12..18, 5..8, 2..6, 24..25 and 30..31: 5+2+6+3+4+1+1.
    assert_eq!(s.duplicate_bytes, 22);
    assert_eq!(s.gap_bytes, 0);
    assert_eq!(s.buffered_peak, 26);
}

#[test]
fn fin_and_final_size() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let mut ev = Vec::new();
    let id = StreamId(0);
    // FIN arrives first, out of order.
    st.handle_stream(C, t(1), id, 4, b"5678", true, &mut rec(&mut ev));
    assert!(ev.is_empty());
    // Bytes beyond the final size are dropped and counted; a changed final size counted.
    st.handle_stream(C, t(2), id, 6, b"78xx", true, &mut rec(&mut ev));
    assert_eq!(st.stats().beyond_final_size, 2);
    assert_eq!(st.stats().final_size_errors, 1);
    st.handle_stream(C, t(3), id, 0, b"1234", false, &mut rec(&mut ev));
    assert_eq!(assemble(&ev, 0), b"12345678".to_vec());
    assert_eq!(ev.last(), Some(&Ev::Fin(0, 8)));
    // A late retransmission of a closed stream is a duplicate, not a new stream.
    ev.clear();
    st.handle_stream(C, t(4), id, 0, b"1234", false, &mut rec(&mut ev));
    assert!(ev.is_empty());
    assert_eq!(st.stats().streams, 1);
    // An empty stream with FIN at once.
    st.handle_stream(S, t(5), StreamId(3), 0, b"", true, &mut rec(&mut ev));
    assert_eq!(ev, vec![Ev::Fin(3, 0)]);
}

#[test]
fn reset_and_stop_sending() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let mut ev = Vec::new();
    let id = StreamId(1);
    st.handle_stream(S, t(1), id, 0, b"abc", false, &mut rec(&mut ev));
    st.handle_stream(S, t(2), id, 10, b"later", false, &mut rec(&mut ev));
    let frame = QuicFrame::ResetStream {
        stream_id: 1,
        error_code: 0x10c,
        final_size: 15,
    };
    assert!(st.handle_frame(S, t(3), &frame, &mut rec(&mut ev)));
    assert_eq!(ev.last(), Some(&Ev::Reset(1, 0x10c, 15, 3)));
    assert_eq!(st.stats().reset_dropped_bytes, 5);
    assert!(st.is_closed(S, id));
    // Data after the reset is not delivered.
    let n = ev.len();
    st.handle_stream(S, t(4), id, 3, b"defg", false, &mut rec(&mut ev));
    assert_eq!(ev.len(), n);
    // STOP_SENDING from the client concerns the server's sending.
    let frame = QuicFrame::StopSending {
        stream_id: 5,
        error_code: 0x10b,
    };
    assert!(st.handle_frame(C, t(5), &frame, &mut rec(&mut ev)));
    assert_eq!(ev.last(), Some(&Ev::Stop(S, 5, 0x10b)));
    assert_eq!(st.stats().stop_sending, 1);
    // Other frames are not for the stream table.
    assert!(!st.handle_frame(C, t(6), &QuicFrame::Ping, &mut rec(&mut ev)));
    // A reset whose final size is below data already seen.
    st.handle_stream(
        C,
        t(7),
        StreamId(8),
        0,
        b"0123456789",
        false,
        &mut rec(&mut ev),
    );
    st.handle_reset(C, t(8), StreamId(8), 0, 4, &mut rec(&mut ev));
    assert_eq!(st.stats().final_size_errors, 1);
}

#[test]
fn flush_gives_up_holes_with_gap_events() {
    let mut st = QuicStreams::new(StreamLimits::default());
    let mut ev = Vec::new();
    let id = StreamId(0);
    st.handle_stream(C, t(1), id, 0, b"ab", false, &mut rec(&mut ev));
    st.handle_stream(C, t(2), id, 5, b"fg", false, &mut rec(&mut ev));
    st.handle_stream(C, t(3), id, 9, b"j", true, &mut rec(&mut ev));
    ev.clear();
    // Another stream still in order: flush_all leaves it alone.
    st.handle_stream(S, t(3), StreamId(1), 0, b"x", false, &mut rec(&mut ev));
    ev.clear();
    st.flush_all(t(9), &mut rec(&mut ev));
    assert_eq!(
        ev,
        vec![
            Ev::Gap(0, 2, 3),
            Ev::Data(0, 5, b"fg".to_vec(), 9, 2),
            Ev::Gap(0, 7, 2),
            Ev::Data(0, 9, b"j".to_vec(), 9, 3),
            Ev::Fin(0, 10),
        ]
    );
    assert_eq!(st.stats().gap_bytes, 5);
    assert_eq!(st.stats().forced_gaps, 0);
    assert!(st.is_closed(C, id));
    assert!(!st.is_closed(S, StreamId(1)));
    // FIN known, hole at the end only: the flush gaps to the final size.
    st.handle_stream(S, t(10), StreamId(5), 0, b"a", false, &mut rec(&mut ev));
    st.handle_stream(S, t(11), StreamId(5), 4, b"", true, &mut rec(&mut ev));
    ev.clear();
    st.flush(S, StreamId(5), t(12), &mut rec(&mut ev));
    assert_eq!(ev, vec![Ev::Gap(5, 1, 3), Ev::Fin(5, 4)]);
    // Flushing an unknown stream does nothing.
    st.flush(C, StreamId(400), t(13), &mut rec(&mut ev));
}

#[test]
fn buffer_cap_gives_up_the_oldest_hole() {
    let limits = StreamLimits {
        max_buffered: 10,
        ..StreamLimits::default()
    };
    let mut st = QuicStreams::new(limits);
    let mut ev = Vec::new();
    let id = StreamId(0);
    st.handle_stream(C, t(1), id, 2, b"cdef", false, &mut rec(&mut ev));
    st.handle_stream(C, t(2), id, 8, b"ijkl", false, &mut rec(&mut ev));
    assert!(ev.is_empty());
    // 8 bytes buffered; 4 more would exceed 10: the hole at 0..2 is given up.
    st.handle_stream(C, t(3), id, 14, b"opqr", false, &mut rec(&mut ev));
    assert_eq!(
        ev,
        vec![Ev::Gap(0, 0, 2), Ev::Data(0, 2, b"cdef".to_vec(), 3, 1),]
    );
    assert_eq!(st.stats().forced_gaps, 1);
    // A frame larger than the cap on its own: every hole before it goes.
    ev.clear();
    st.handle_stream(C, t(4), id, 30, &[7; 12], false, &mut rec(&mut ev));
    assert_eq!(ev[0], Ev::Gap(0, 6, 2));
    assert_eq!(st.next_offset(C, id), Some(42));
    // The segment cap works the same way.
    let mut st = QuicStreams::new(StreamLimits {
        max_segments: 2,
        ..StreamLimits::default()
    });
    ev.clear();
    for off in [10u64, 20, 30] {
        st.handle_stream(S, t(1), StreamId(1), off, b"x", false, &mut rec(&mut ev));
    }
    assert_eq!(ev[0], Ev::Gap(1, 0, 10));
    assert_eq!(st.stats().forced_gaps, 1);
}

#[test]
fn total_cap_over_streams() {
    let limits = StreamLimits {
        max_buffered_total: 8,
        ..StreamLimits::default()
    };
    let mut st = QuicStreams::new(limits);
    let mut ev = Vec::new();
    st.handle_stream(C, t(1), StreamId(0), 1, b"aaaa", false, &mut rec(&mut ev));
    st.handle_stream(C, t(1), StreamId(4), 1, b"bbbb", false, &mut rec(&mut ev));
    assert!(ev.is_empty());
    // Stream 8's frame does not fit the connection's buffer and stream 8 has nothing
    // buffered: its own hole is given up and the frame is delivered.
    st.handle_stream(C, t(2), StreamId(8), 1, b"cccc", false, &mut rec(&mut ev));
    assert_eq!(
        ev,
        vec![Ev::Gap(8, 0, 1), Ev::Data(8, 1, b"cccc".to_vec(), 2, 2)]
    );
    assert_eq!(st.stats().buffered_peak, 8);
}

#[test]
fn stream_count_cap_and_wrong_direction() {
    let mut st = QuicStreams::new(StreamLimits {
        max_streams: 2,
        max_closed: 1,
        ..StreamLimits::default()
    });
    let mut ev = Vec::new();
    st.handle_stream(C, t(1), StreamId(0), 0, b"a", false, &mut rec(&mut ev));
    st.handle_stream(S, t(1), StreamId(2), 0, b"a", false, &mut rec(&mut ev));
    assert_eq!(st.stats().wrong_direction, 1, "stream 2 is the client's");
    st.handle_stream(C, t(1), StreamId(4), 0, b"a", false, &mut rec(&mut ev));
    assert_eq!(st.stats().frames_refused, 1);
    assert_eq!(ev.len(), 2);
    // Closing makes room; only one closed stream is remembered.
    st.handle_stream(C, t(2), StreamId(0), 1, b"", true, &mut rec(&mut ev));
    st.handle_stream(S, t(2), StreamId(2), 1, b"", true, &mut rec(&mut ev));
    assert_eq!(st.stats().closed_forgotten, 1);
    st.handle_stream(C, t(3), StreamId(4), 0, b"a", false, &mut rec(&mut ev));
    assert_eq!(st.open_streams(), 1);
}

/// Random chunks of a stream, retransmitted with different boundaries, in random order,
/// some lost for good: the delivered bytes are the stream's, each once, with gaps only
/// where nothing was captured.
#[test]
fn random_retransmissions_reassemble_exactly() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..200 {
        let len = 1 + rnd(3000) as usize;
        let text: Vec<u8> = (0..len).map(|i| (i * 7 + round) as u8).collect();
        // Chunks covering the stream, twice with different cuts.
        let mut chunks = Vec::new();
        for _ in 0..2 {
            let mut a = 0;
            while a < len {
                let b = (a + 1 + rnd(400) as usize).min(len);
                chunks.push((a, b));
                a = b;
            }
        }
        // Shuffle; drop a few (loss) when the round says so.
        for i in (1..chunks.len()).rev() {
            chunks.swap(i, rnd(i as u64 + 1) as usize);
        }
        let lossy = round % 3 == 0;
        if lossy {
            chunks.retain(|_| rnd(5) != 0);
        }
        let limits = StreamLimits {
            max_buffered: if round % 2 == 0 { 1 << 20 } else { 700 },
            ..StreamLimits::default()
        };
        let mut st = QuicStreams::new(limits);
        let mut ev = Vec::new();
        for (k, &(a, b)) in chunks.iter().enumerate() {
            st.handle_stream(
                C,
                t(k as i64),
                StreamId(0),
                a as u64,
                &text[a..b],
                b == len,
                &mut rec(&mut ev),
            );
        }
        st.flush_all(t(1_000_000), &mut rec(&mut ev));
        let got = assemble(&ev, 0);
        let captured: Vec<bool> = (0..len)
            .map(|i| chunks.iter().any(|&(a, b)| a <= i && i < b))
            .collect();
        let ends_with_fin = chunks.iter().any(|&(_, b)| b == len);
        if ends_with_fin {
            assert_eq!(got.len(), len, "round {round}");
            assert_eq!(ev.last(), Some(&Ev::Fin(0, len as u64)));
        }
        for (i, &b) in got.iter().enumerate() {
            // A byte differs only where it was given up (gaps are zeros here).
            assert!(b == text[i] || b == 0, "round {round} byte {i}");
        }
        if limits.max_buffered > len {
            // No cap in play: exactly the bytes never captured were given up, and every
            // captured byte was delivered.
            let lost = (0..got.len()).filter(|&i| !captured[i]).count();
            assert_eq!(st.stats().gap_bytes as usize, lost, "round {round}");
            for i in (0..got.len()).filter(|&i| captured[i]) {
                assert_eq!(got[i], text[i], "round {round} byte {i}");
            }
            let highest = chunks.iter().map(|&(_, b)| b).max().unwrap_or(0);
            assert_eq!(got.len(), highest, "round {round}");
        }
        assert_eq!(
            st.open_streams(),
            usize::from(!ends_with_fin && !chunks.is_empty())
        );
    }
}
