//! Wireshark's `tcp.analysis` classification, one rule per test, on segments built here.
//! Each rule is what tshark 4.0 does on a corpus capture (named in the test) and what the
//! `tcpa` fidelity category compares.

use super::*;
use crate::net::TcpFlags;
use std::mem::size_of;

const C: &str = "10.0.0.1:40000";
const S: &str = "10.0.0.2:80";

fn segment(seq: u32, ack: u32, flags: u8, window: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 20];
    let (sp, dp) = (40000u16, 80u16);
    b[0..2].copy_from_slice(&sp.to_be_bytes());
    b[2..4].copy_from_slice(&dp.to_be_bytes());
    b[4..8].copy_from_slice(&seq.to_be_bytes());
    b[8..12].copy_from_slice(&ack.to_be_bytes());
    b[12] = 5 << 4;
    b[13] = flags;
    b[14..16].copy_from_slice(&window.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// Records nothing: these tests look at the counters.
struct Quiet;

impl TcpHandler<()> for Quiet {
    fn open(&mut self, _: &ConnMeta) {}
    fn segment(&mut self, _: &mut (), _: u64) {}
    fn data(&mut self, _: &mut (), _: Dir, _: Ts, _: &[u8], _: bool) {}
    fn gap(&mut self, _: &mut (), _: Dir, _: u64, _: Ts) {}
    fn closed(&mut self, _: &mut (), _: Ts) {}
    fn warn(&mut self, _: &mut (), _: WarningKind, _: std::borrow::Cow<'static, str>) {}
}

struct Conn {
    t: FlowTable<()>,
    frame: u64,
}

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const FIN: u8 = TcpFlags::FIN;
const PSH: u8 = TcpFlags::PSH;

impl Conn {
    /// A handshake at 0 ms: client ISN 1000, server ISN 5000, RTT 10 ms.
    fn new() -> Conn {
        Conn::handshake(5, 10)
    }

    /// A handshake with the SYN at 0 ms, the SYN/ACK at `synack` ms and the ACK at `ack`.
    fn handshake(synack: i64, ack: i64) -> Conn {
        let mut c = Conn {
            t: FlowTable::new(TcpConfig::default()),
            frame: 0,
        };
        c.client(0, 1000, 0, SYN, 64240, b"");
        c.server(synack, 5000, 1001, SYN | ACK, 65535, b"");
        c.client(ack, 1001, 5001, ACK, 64240, b"");
        c
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        from_client: bool,
        ms: i64,
        seq: u32,
        ack: u32,
        flags: u8,
        win: u16,
        p: &[u8],
    ) {
        self.frame += 1;
        let bytes = segment(seq, ack, flags, win, p);
        let seg = TcpSegment::new_checked(&bytes).unwrap();
        let (c, s) = (C.parse().unwrap(), S.parse().unwrap());
        let ends = if from_client { (c, s) } else { (s, c) };
        let ts = Ts::from_nanos(1_000_000_000 + ms * 1_000_000);
        self.t.handle(ends, ts, self.frame, &seg, &mut Quiet);
    }

    fn client(&mut self, ms: i64, seq: u32, ack: u32, flags: u8, win: u16, p: &[u8]) {
        self.send(true, ms, seq, ack, flags, win, p)
    }

    fn server(&mut self, ms: i64, seq: u32, ack: u32, flags: u8, win: u16, p: &[u8]) {
        self.send(false, ms, seq, ack, flags, win, p)
    }

    fn facts(mut self) -> TcpFacts {
        self.t.finish_all(&mut Quiet);
        self.t.poll_finished().unwrap().0
    }
}

/// tls13-psk-resumption.pcap frames 17-19: the server's FIN was not captured, its next
/// pure ACK already stands one past it, and the FIN sent again is a retransmission.
#[test]
fn a_fin_below_what_its_sender_reached_is_a_retransmission() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK, 65535, b"");
    c.server(21, 5002, 1001, ACK, 65535, b""); // its FIN at 5001 went by uncaptured
    c.server(22, 5001, 1001, ACK | FIN, 65535, b"");
    assert_eq!(c.facts().retransmissions, [0, 1]);
}

/// tcp-zero-window-tls.pcapng frames 89-94: a pure ACK whose sequence number is past bytes
/// the capture never saw; the bytes that come later fill what was sent before.
#[test]
fn data_below_a_pure_ack_s_sequence_number_was_sent_before() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK | PSH, 65535, &[b'a'; 100]);
    c.server(30, 5301, 1001, ACK, 65535, b""); // 5101..5301 not captured
    c.server(5000, 5101, 1001, ACK | PSH, 65535, &[b'b'; 150]);
    c.server(5001, 5251, 1001, ACK | PSH, 65535, &[b'c'; 50]);
    let f = c.facts();
    assert_eq!((f.retransmissions, f.out_of_order), ([0, 2], [0, 0]));
}

/// tcp-zero-window-tls.pcapng frame 163: one byte just below `nextseq` keeps the
/// connection alive; it is not a retransmission.
#[test]
fn a_keep_alive_is_not_a_retransmission() {
    let mut c = Conn::new();
    c.client(20, 1001, 5001, ACK | PSH, 64240, &[b'x'; 10]);
    c.client(60_000, 1010, 5001, ACK, 64240, &[0]);
    c.client(120_000, 1010, 5001, ACK, 64240, b"");
    assert_eq!(c.facts().retransmissions, [0, 0]);
}

/// trunc-cut-mid-record-http.pcap frames 398-402: one byte at `nextseq` while the peer's
/// window is zero is a probe; the segment after the window opens starts at that byte and
/// is in order.
#[test]
fn a_zero_window_probe_is_neither_data_nor_out_of_order() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK, 65535, &[b'a'; 1000]);
    c.client(21, 1001, 6001, ACK, 0, b""); // window full
    c.server(21, 6001, 1001, ACK, 65535, b"p"); // probe
    c.client(22, 1001, 6001, ACK, 64240, b""); // window update
    c.server(22, 6001, 1001, ACK, 65535, &[b'b'; 1000]);
    let f = c.facts();
    assert_eq!((f.retransmissions, f.out_of_order), ([0, 0], [0, 0]));
    assert_eq!(
        f.bytes[1], 2000,
        "the probe's byte came again with the data"
    );
}

/// http-pipelining.pcap frame 22: data and FIN sent again count one retransmission.
#[test]
fn data_and_fin_sent_again_count_once() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK | PSH | FIN, 65535, &[b'a'; 100]);
    c.server(300, 5001, 1001, ACK | PSH | FIN, 65535, &[b'a'; 100]);
    assert_eq!(c.facts().retransmissions, [0, 1]);
}

/// tcp-retrans-dupack-ooo.pcap frames 1-10: SYNs sent again before any data are
/// retransmissions; one that comes within the initial RTT of data is out of order.
#[test]
fn a_syn_again_is_retransmitted_or_reordered() {
    let mut c = Conn {
        t: FlowTable::new(TcpConfig::default()),
        frame: 0,
    };
    c.client(0, 1000, 0, SYN, 64240, b"");
    c.client(1, 1000, 0, SYN, 64240, b"");
    c.server(2, 5000, 1001, SYN | ACK, 65535, b"");
    c.client(4, 1001, 5001, ACK, 64240, b""); // initial RTT 3 ms (from the last SYN)
    c.client(5, 1001, 5001, ACK | PSH, 64240, &[b'q'; 200]);
    c.client(6, 1000, 0, SYN, 64240, b"");
    let f = c.facts();
    assert_eq!((f.retransmissions, f.out_of_order), ([1, 0], [1, 0]));
}

const RST: u8 = TcpFlags::RST;

/// A forged RST (any sequence number, here far outside the window) that the client dropped:
/// the server's data goes on and the client acknowledges it, so the connection did not end
/// there; its close is the FINs that come later, and the data after the RST is new, not
/// sent again (tshark moves `nextseq` to the RST's number and calls all of it
/// retransmissions).
#[test]
fn a_rst_both_sides_went_on_after_was_ignored() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK | PSH, 65535, &[b'a'; 1000]);
    c.client(21, 1001, 6001, ACK, 64240, b"");
    c.server(22, 0x9000_0000, 0, RST, 0, b""); // forged
    c.server(23, 6001, 1001, ACK | PSH, 65535, &[b'b'; 1000]);
    c.client(24, 1001, 7001, ACK, 64240, b"");
    c.server(25, 7001, 1001, ACK | FIN, 65535, b"");
    c.client(26, 1001, 7002, ACK | FIN, 64240, b"");
    c.server(27, 7002, 1002, ACK, 65535, b"");
    let f = c.facts();
    assert_eq!(f.close.kind, CloseKind::Fin);
    assert_eq!(f.retransmissions, [0, 0]);
    assert_eq!(f.bytes[1], 2000);
}

/// A RST that did end the connection: what follows is data that was already in flight and
/// the other side's RSTs answering it, and no ACK of anything sent after the RST.
#[test]
fn a_rst_nothing_went_on_after_ends_the_connection() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK | PSH, 65535, &[b'a'; 1000]);
    c.client(21, 1001, 6001, ACK | RST, 64240, b"");
    c.server(22, 6001, 1001, ACK | PSH, 65535, &[b'b'; 1000]); // was in flight
    c.client(23, 1001, 0, RST, 0, b"");
    c.client(24, 1001, 6001, ACK, 64240, b""); // acknowledges nothing new
    let f = c.facts();
    assert_eq!(f.close.kind, CloseKind::Rst);
    assert_eq!(f.close.initiator, Some(Dir::ToServer));
}

/// A segment from `10.0.0.1:<port>` to the server, with `flags`.
fn from_port(port: u16, flags: u8) -> Vec<u8> {
    let mut b = segment(u32::from(port), 0, flags, 64240, b"");
    b[0..2].copy_from_slice(&port.to_be_bytes());
    b
}

/// The table full and idle expiry, against what a scan of the table finds: the connection
/// with the oldest last packet (the earlier frame on a tie) is evicted, and every connection
/// idle past the timeout is finished. Capture time steps back now and then, and several
/// packets share a timestamp.
#[test]
fn eviction_and_expiry_match_a_scan() {
    let cfg = TcpConfig {
        max_connections: 8,
        ..TcpConfig::default()
    };
    let mut t: FlowTable<()> = FlowTable::new(cfg);
    // Live flows by client port: (last time, last frame), as a scan would see them.
    let mut live: HashMap<u16, (i64, u64)> = HashMap::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let server: SocketAddr = S.parse().unwrap();
    let mut now: i64 = 0;
    for frame in 1..5_000u64 {
        now += rnd(3) as i64 * 1_000_000_000;
        let ts = now - rnd(4) as i64 * 2_000_000_000;
        let port = 1000 + rnd(20) as u16;
        let flags = if live.contains_key(&port) { ACK } else { SYN };
        let bytes = from_port(port, flags);
        let seg = TcpSegment::new_checked(&bytes).unwrap();
        let client = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
        let mut want: Vec<u16> = Vec::new();
        if !live.contains_key(&port) && live.len() == 8 {
            let (&p, _) = live.iter().min_by_key(|(_, k)| **k).unwrap();
            live.remove(&p);
            want.push(p);
        }
        t.handle((client, server), Ts(ts), frame, &seg, &mut Quiet);
        let e = live.entry(port).or_insert((ts, frame));
        *e = (ts, frame);
        if rnd(50) == 0 {
            let at = now + rnd(400) as i64 * 1_000_000_000;
            let mut idle: Vec<u16> = live
                .iter()
                .filter(|(_, (last, _))| at.saturating_sub(*last) > IDLE_TIMEOUT_NANOS)
                .map(|(p, _)| *p)
                .collect();
            idle.sort_unstable();
            live.retain(|p, _| !idle.contains(p));
            t.expire(Ts(at), &mut Quiet);
            want.extend(idle);
        }
        let mut got: Vec<u16> = std::iter::from_fn(|| t.poll_finished())
            .map(|(f, _)| f.client.port())
            .collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "frame {frame}");
        assert_eq!(t.live(), live.len());
    }
    assert!(t.evicted.count > 500, "{:?} evicted", t.evicted);
}

impl Conn {
    /// The `tcp.stream` of every connection finished so far, by id.
    fn streams(&mut self) -> Vec<(u64, Option<u64>)> {
        self.t.finish_all(&mut Quiet);
        let mut v = Vec::new();
        while let Some((f, ())) = self.t.poll_finished() {
            v.push((f.id, f.stream));
        }
        v.sort();
        v
    }
}

#[test]
fn a_new_syn_with_another_isn_is_a_new_tcp_stream_as_in_tshark() {
    let mut c = Conn::new();
    c.client(20, 1001, 5001, FIN | ACK, 64240, b"");
    c.server(25, 5001, 1002, FIN | ACK, 65535, b"");
    c.client(30, 1002, 5002, ACK, 64240, b"");
    // The port is used again: a new connection and a new stream.
    c.client(40, 9000, 0, SYN, 64240, b"");
    assert_eq!(c.streams(), vec![(1, Some(0)), (2, Some(1))]);
}

#[test]
fn a_5_tuple_back_after_its_connection_expired_keeps_its_tcp_stream() {
    let mut c = Conn::new();
    // Idle past the timeout: pagetrace reports two connections, tshark sees one
    // conversation (no new SYN).
    let later = IDLE_TIMEOUT_NANOS / 1_000_000 + 1_000;
    c.t.expire(
        Ts::from_nanos(1_000_000_000 + later * 1_000_000),
        &mut Quiet,
    );
    c.client(later + 10, 1001, 5001, PSH | ACK, 64240, b"late");
    assert_eq!(c.streams(), vec![(1, Some(0)), (2, Some(0))]);
}

/// A handshake seen near the client (the SYN/ACK a round trip of 20 ms after the SYN, the
/// ACK at once), then the server's burst of `burst` 1000-byte segments at 40 ms, ACKed by
/// the client at 41 ms, and its next data at `resume` ms.
fn slow_start(burst: u32, resume: i64) -> Vec<TcpEvent> {
    let mut c = Conn::handshake(20, 20);
    c.client(21, 1001, 5001, ACK | PSH, 64240, &[b'g'; 100]);
    for i in 0..burst {
        c.server(40, 5001 + i * 1000, 1101, ACK, 65535, &[b'x'; 1000]);
    }
    c.client(41, 1101, 5001 + burst * 1000, ACK, 64240, b"");
    c.server(resume, 5001 + burst * 1000, 1101, ACK, 65535, &[b'y'; 1000]);
    c.facts().events.list
}

#[test]
fn a_burst_then_a_round_trip_s_pause_ended_by_acks_is_a_congestion_window_wait() {
    let events = slow_start(6, 61);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = events[0];
    assert_eq!(e.kind, TcpEventKind::CongestionWindow);
    assert_eq!(e.dir, Dir::ToClient);
    assert!((e.ms() - 21.0).abs() < 1e-9, "{e:?}");
    // Longer than a round trip and a half after the ACK: the server was thinking.
    assert!(slow_start(6, 80).is_empty());
    // Two segments are no window's worth: a small response and a pause.
    assert!(slow_start(2, 61).is_empty());
}

#[test]
fn data_and_its_ack_are_a_round_trip_sample_unless_the_data_was_sent_again() {
    let mut c = Conn::new();
    c.client(20, 1001, 5001, ACK | PSH, 64240, &[b'q'; 100]);
    c.server(30, 5001, 1101, ACK | PSH, 65535, &[b'r'; 100]);
    c.client(32, 1101, 5101, ACK, 64240, b"");
    // Sent again before its ACK: that ACK is no sample (Karn's rule).
    c.client(40, 1101, 5101, ACK | PSH, 64240, &[b's'; 100]);
    c.client(300, 1101, 5101, ACK | PSH, 64240, &[b's'; 100]);
    c.server(310, 5101, 1201, ACK, 65535, b"");
    let rtt = c.facts().rtt;
    assert_eq!(rtt[0].count, 1, "{rtt:?}");
    assert_eq!(rtt[0].min_ns, 10_000_000);
    assert_eq!(rtt[1].count, 1);
    assert_eq!(rtt[1].min_ns, 2_000_000);
}

#[test]
fn a_fin_sent_again_and_bytes_resent_after_their_ack_are_events() {
    let mut c = Conn::new();
    c.server(20, 5001, 1001, ACK | PSH, 65535, &[b'a'; 100]);
    c.client(21, 1001, 5101, ACK, 64240, b"");
    // Sent again although acknowledged: nothing waited.
    c.server(300, 5001, 1001, ACK | PSH, 65535, &[b'a'; 100]);
    c.client(400, 1001, 5101, ACK | FIN, 64240, b"");
    c.client(700, 1001, 5101, ACK | FIN, 64240, b"");
    let events = c.facts().events.list;
    let kinds: Vec<TcpEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            TcpEventKind::SpuriousRetransmission,
            TcpEventKind::FinRetransmission
        ],
        "{events:?}"
    );
    assert!((events[1].ms() - 300.0).abs() < 1e-9);
}
/// The connection in the table (there is one).
fn only(t: &FlowTable<()>) -> &TcpConn<()> {
    t.slab.iter().flatten().next().unwrap()
}

#[test]
fn a_connection_makes_its_phase_when_bytes_can_flow() {
    let mut c = Conn {
        t: FlowTable::new(TcpConfig::default()),
        frame: 0,
    };
    c.client(0, 1000, 0, SYN, 64240, b"");
    c.client(1000, 1000, 0, SYN, 64240, b""); // sent again
    assert!(only(&c.t).phase.is_none(), "a SYN alone");
    c.server(1005, 5000, 1001, SYN | ACK, 65535, b"");
    assert!(only(&c.t).phase.is_none(), "a SYN answered");
    c.client(1010, 1001, 5001, ACK, 64240, b"");
    assert!(only(&c.t).phase.is_some(), "the handshake complete");
    // What a SYN-only connection costs, well under what one that carried bytes does
    // (README: memory per connection).
    let (conn, phase) = (size_of::<TcpConn<()>>(), size_of::<Phase>());
    assert!(conn <= 720 && phase >= conn, "{conn} {phase}");
}

#[test]
fn a_synack_acknowledging_bytes_never_seen_makes_the_phase() {
    // The SYN/ACK acknowledges 100 bytes past the client's ISN: they were sent and not
    // captured, which only reassembly can tell (a gap).
    let mut c = Conn {
        t: FlowTable::new(TcpConfig::default()),
        frame: 0,
    };
    c.client(0, 1000, 0, SYN, 64240, b"");
    c.server(5, 5000, 1101, SYN | ACK, 65535, b"");
    assert!(only(&c.t).phase.is_some());
}

/// Connections still open at the end of the capture finish in order of id, not in the flow
/// table's hash order (streamed output must not depend on the hasher).
#[test]
fn connections_open_at_the_end_finish_in_order_of_id() {
    let mut t: FlowTable<()> = FlowTable::new(TcpConfig::default());
    let bytes = segment(1000, 0, SYN, 64240, b"");
    let seg = TcpSegment::new_checked(&bytes).unwrap();
    let server: SocketAddr = S.parse().unwrap();
    for i in 0..500u16 {
        let client = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 40000 + i));
        let ts = Ts::from_nanos(1_000_000_000 + i64::from(i));
        t.handle((client, server), ts, u64::from(i) + 1, &seg, &mut Quiet);
    }
    t.finish_all(&mut Quiet);
    let mut ids = Vec::new();
    while let Some((f, ())) = t.poll_finished() {
        ids.push(f.id);
    }
    assert_eq!(ids.len(), 500);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}
