//! TCP: the flow table, each connection's handshake and teardown, and reassembly.
//! Protocol-blind: nothing here knows what the bytes carry.
//!
//! **Consumes** checked [`TcpSegment`] views with their endpoints, capture time and frame
//! number ([`FlowTable::handle`]).
//!
//! **Produces**, through the caller's [`TcpHandler`], per connection and in capture order:
//! its opening (the handler returns the state it keeps for the connection, an opaque `A`
//! the table stores beside its own and hands back with every event), the reassembled bytes
//! of each direction with the capture time of the segment that carried them, explicit gaps
//! for bytes never captured, warnings, and the close (no more bytes will come). A connection
//! that has ended is handed out once, with its [`TcpFacts`] (handshake, counters, teardown)
//! and the caller's state, by [`FlowTable::poll_finished`].
//!
//! - **Who is the client.** The sender of the SYN (without ACK). When the handshake is not
//!   in the capture: the sender of a SYN/ACK is the server; otherwise the side using a
//!   well-known port (below 1024, or a common service port) is the server; otherwise the
//!   sender of the first packet seen is the client. [`TcpFacts::client_by`] says which
//!   rule decided.
//! - **Connection life.** A new SYN on a 5-tuple whose connection has closed (FIN both
//!   ways, or RST) or whose client ISN differs starts a new connection. A closed connection
//!   stays in the table for [`CLOSE_GRACE_NANOS`] of capture time to absorb the last ACKs and
//!   retransmitted FINs, then is finished and dropped; an idle one after
//!   [`IDLE_TIMEOUT_NANOS`]. At most [`MAX_CONNECTIONS`] live at once: beyond that the
//!   least recently active connection (the oldest last packet, the earlier frame on a tie)
//!   is finished early (counted in [`FlowTable::evicted`]); if it was past its handshake,
//!   its later segments, until a new SYN on its 5-tuple, are counted in
//!   [`FlowTable::after_eviction`] rather than read as new connections caught mid-stream.
//!   Both come from ordered queues ([`crate::expiry`]), so a packet's cost does not grow
//!   with the table.
//! - **Handshake time.** As Wireshark's `tcp.analysis.initial_rtt`: from the most recent SYN
//!   (a retransmitted SYN restarts the clock, because the SYN/ACK answers the last one the
//!   server got) to the first packet with ACK and without SYN after it.
//! - **Ids** are a counter in order of first packet, so reports are reproducible.

pub mod events;
pub mod reassembly;

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use crate::expiry::LazyHeap;
use crate::net::flow::{Dir, FlowKey, SeededHash};
use crate::net::{TcpOptionSummary, TcpSegment};
use crate::time::{ms_between, Ts};
use crate::warning::{CapCount, WarningKind};
use events::{Events, Flight, RttSamples, TcpEvent, TcpEventKind, CWND_MIN_SEGMENTS};
use reassembly::{Reassembler, SeqNum, StreamSink, DEFAULT_OOO_CAP};

pub const CLOSE_GRACE_NANOS: i64 = 5_000_000_000;
/// Zeek's default `tcp_inactivity_timeout` is 5 minutes.
pub const IDLE_TIMEOUT_NANOS: i64 = 300_000_000_000;
pub const MAX_CONNECTIONS: usize = 100_000;
/// Most 5-tuples whose `tcp.stream` index is remembered (about 130 MiB at the cap); past it
/// new connections get none, rather than a number tshark would not give.
pub const MAX_STREAM_KEYS: usize = 1 << 20;
/// Teardown steps kept in [`Close::steps`].
const MAX_SEQUENCE: usize = 12;

/// What the TCP stage tells the stage above it about one connection. `A` is the state the
/// caller keeps per connection (created by [`TcpHandler::open`]).
pub trait TcpHandler<A> {
    /// A new connection: the state to keep for it.
    fn open(&mut self, conn: &ConnMeta) -> A;
    /// A segment of this connection is being handled; `frame` is its frame number.
    fn segment(&mut self, app: &mut A, frame: u64);
    /// The next bytes of one direction, in stream order; `late` as in
    /// [`reassembly::StreamSink::data`] (the bytes a lost segment carried, arriving now).
    fn data(&mut self, app: &mut A, dir: Dir, ts: Ts, bytes: &[u8], late: bool);
    /// `len` bytes of one direction were never captured, at this point of the stream.
    fn gap(&mut self, app: &mut A, dir: Dir, len: u64, ts: Ts);
    /// No more bytes will come (FIN both ways, RST, expiry or the end of the capture).
    fn closed(&mut self, app: &mut A, ts: Ts);
    /// Something about the connection itself worth a warning.
    fn warn(&mut self, app: &mut A, kind: WarningKind, message: Cow<'static, str>);
}

/// What is known of a connection when it opens.
#[derive(Debug, Clone, Copy)]
pub struct ConnMeta {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// tshark's `tcp.stream` for this conversation (see [`FlowTable`]); `None` once more
    /// than [`TcpConfig::max_stream_keys`] 5-tuples were numbered.
    pub stream: Option<u64>,
}

/// How the client side was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBy {
    Syn,
    SynAck,
    Port,
    FirstPacket,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloseKind {
    #[default]
    Open,
    Fin,
    Rst,
}

/// The flags of one teardown step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepFlags {
    Fin,
    Ack,
    /// A FIN that also acknowledges the peer's FIN.
    FinAck,
    Rst,
}

/// One teardown step: who sent which flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub dir: Dir,
    pub flags: StepFlags,
}

/// How the connection ended, in order.
#[derive(Debug, Clone, Default)]
pub struct Close {
    pub kind: CloseKind,
    /// The direction of whoever closed first; `None` while open.
    pub initiator: Option<Dir>,
    pub ts: Option<Ts>,
    pub steps: Vec<Step>,
}

/// Per-direction counters, indexed by [`Dir::index`].
pub type PerDir = [u64; 2];

/// Everything TCP learned about one connection.
#[derive(Debug, Clone)]
pub struct TcpFacts {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_by: ClientBy,
    pub first_ts: Ts,
    pub last_ts: Ts,
    pub first_frame: u64,
    /// The frame being handled when the connection was last touched.
    pub last_frame: u64,
    /// tshark's `tcp.stream` index of the conversation ([`ConnMeta::stream`]).
    pub stream: Option<u64>,
    pub syn_ts: Option<Ts>,
    pub synack_ts: Option<Ts>,
    pub ack_ts: Option<Ts>,
    pub handshake_ms: Option<f64>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// SYN/ACK acknowledges client ISN+1 and the ACK acknowledges server ISN+1.
    pub handshake_valid: Option<bool>,
    /// Options of the client's SYN and of the server's SYN/ACK.
    pub options: TcpOptionSummary,
    pub server_options: TcpOptionSummary,
    /// Stream bytes delivered (retransmissions not counted twice) and never captured.
    pub bytes: PerDir,
    pub gaps: PerDir,
    pub packets: PerDir,
    pub retransmissions: PerDir,
    pub out_of_order: PerDir,
    pub zero_window: PerDir,
    pub close: Close,
    /// When bytes were held back (resent SYNs and data, zero windows, capture gaps), in
    /// capture order, capped ([`events`]).
    pub events: Events,
    /// Per direction (client, server): round-trip samples of that side's data, each from a
    /// segment sent once to the ACK that covered it ([`events::RttSamples`]).
    pub rtt: [RttSamples; 2],
}

/// Ports that name a service: the side using one is the server when no SYN was seen.
fn is_service_port(p: u16) -> bool {
    p < 1024
        || matches!(
            p,
            1080 | 1433
                | 1521
                | 3000
                | 3128
                | 3306
                | 4000
                | 5000
                | 5432
                | 5672
                | 6379
                | 8000
                | 8008
                | 8080
                | 8081
                | 8443
                | 8888
                | 9000
                | 9200
                | 9443
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// A RST was seen: the connection ends at it unless both sides go on (the RST was forged,
    /// or rejected, RFC 5961 3), which the data after it shows.
    Reset,
    /// Both FINs seen or a RST: no more data, waiting out the grace period.
    Closed,
}

/// A RST, and how far each side had gone when it came.
#[derive(Debug, Clone, Copy)]
struct ResetSeen {
    dir: Dir,
    frame: u64,
    next_seq: [Option<SeqNum>; 2],
}

/// Configuration of the TCP stage.
#[derive(Debug, Clone, Copy)]
pub struct TcpConfig {
    pub ooo_cap: usize,
    pub max_connections: usize,
    /// Most 5-tuples numbered as tshark's `tcp.stream` ([`MAX_STREAM_KEYS`]).
    pub max_stream_keys: usize,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            ooo_cap: DEFAULT_OOO_CAP,
            max_connections: MAX_CONNECTIONS,
            max_stream_keys: MAX_STREAM_KEYS,
        }
    }
}

/// One TCP connection in progress, and the caller's state for it.
///
/// What only matters once bytes flow (reassembly, the flight of unacknowledged segments,
/// the window and congestion analyses) lives in [`Phase`], allocated the first time a
/// segment needs it: a connection that never got past its SYN or SYN/ACK (a port scan, a
/// SYN flood, an unreachable server) keeps about half the memory of one that did.
struct TcpConn<A> {
    facts: TcpFacts,
    phase: Option<Box<Phase>>,
    /// The out-of-order buffer cap of each direction's reassembly ([`TcpConfig::ooo_cap`]).
    ooo_cap: usize,
    fin_seq: [Option<SeqNum>; 2],
    fin_acked: [bool; 2],
    /// The last SYN and SYN/ACK: when, in which frame (a resend waited from there).
    last_syn: Option<(Ts, u64)>,
    last_synack: Option<(Ts, u64)>,
    /// From the handshake: the capture was taken near the client (`Some(true)`) or near the
    /// server (`Some(false)`), which tells how soon after an ACK its release shows.
    near_client: Option<bool>,
    /// Per direction: the last ACK number sent, its window, how many pure ACKs repeated it,
    /// and when the last of them was seen.
    acks: [Option<(u32, u16, u32, Ts)>; 2],
    state: State,
    closed_ts: Option<Ts>,
    /// Per direction, Wireshark's `nextseq`: the highest sequence number a segment of that
    /// side reached (payload, SYN and FIN count; a pure ACK's own number too).
    next_seq: [Option<SeqNum>; 2],
    /// The segment being handled is a retransmission (counted once, whatever flagged it).
    retransmitted: bool,
    /// The RST that may have ended the connection ([`State::Reset`]).
    reset: Option<ResetSeen>,
    app: A,
}

/// A connection's state once bytes flow ([`TcpConn::phase`]).
struct Phase {
    re: [Reassembler; 2],
    /// When and in which frame each side's first FIN was seen (a FIN sent again waited
    /// from there).
    fin_first: [Option<(Ts, u64)>; 2],
    /// Per direction: data segments sent and not yet acknowledged, and a zero window the
    /// side has advertised and not yet opened.
    flight: [Flight; 2],
    zero_window_open: [Option<(Ts, u64)>; 2],
    /// Per direction: the sender filled the window its peer advertised (Wireshark's
    /// "window full"), when and in which frame; its next new data ends the wait.
    window_full: [Option<(Ts, u64)>; 2],
    /// Per direction: the sender's latest new data (when, its frame, and the bytes of the
    /// burst it ended: new data with no pause of half a round trip), and when the side's ACK
    /// number last moved forward: a pause after a burst that ACKs ended is a wait for the
    /// congestion window.
    last_new: [Option<(Ts, u64, i64)>; 2],
    ack_advanced: [AckTimes; 2],
}

impl Phase {
    /// Made late, it starts as it would have at the SYNs: each direction's stream begins
    /// after the ISN its SYN (or SYN/ACK) carried.
    fn new(ooo_cap: usize, isn: [Option<u32>; 2]) -> Phase {
        let mut re = [
            Reassembler::new(Dir::ToServer, ooo_cap),
            Reassembler::new(Dir::ToClient, ooo_cap),
        ];
        for (r, isn) in re.iter_mut().zip(isn) {
            if let Some(isn) = isn {
                r.set_isn(SeqNum(isn));
            }
        }
        Phase {
            re,
            fin_first: [None, None],
            flight: [Flight::default(), Flight::default()],
            zero_window_open: [None, None],
            window_full: [None, None],
            last_new: [None, None],
            ack_advanced: [AckTimes::default(); 2],
        }
    }
}

/// The connection's [`Phase`], made now if it does not exist yet (a free function, so
/// that the caller keeps its other fields borrowed).
fn phase_of<'p>(
    phase: &'p mut Option<Box<Phase>>,
    ooo_cap: usize,
    facts: &TcpFacts,
) -> &'p mut Phase {
    phase.get_or_insert_with(|| Box::new(Phase::new(ooo_cap, [facts.client_isn, facts.server_isn])))
}

/// Hands reassembled bytes to the caller's handler.
struct Sink<'a, A, H: TcpHandler<A>> {
    app: &'a mut A,
    handler: &'a mut H,
    events: &'a mut Events,
    frame: u64,
}

impl<A, H: TcpHandler<A>> StreamSink for Sink<'_, A, H> {
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8], late: bool) {
        self.handler.data(self.app, dir, ts, bytes, late);
    }
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts) {
        let from = match dir {
            Dir::ToServer => "from the client",
            Dir::ToClient => "from the server",
        };
        self.handler.warn(
            self.app,
            WarningKind::Gap,
            format!("{len} bytes {from} never captured").into(),
        );
        self.handler.gap(self.app, dir, len, ts);
        self.events.push(TcpEvent {
            kind: TcpEventKind::Gap { len },
            dir,
            from: ts,
            from_frame: None,
            to: ts,
            to_frame: self.frame,
        });
    }
}

/// When a side's ACK number moved forward over the last two round trips, one time per
/// eighth of a round trip (the first in it): enough to tell whether an ACK came within a
/// quarter round trip of a moment, in 128 bytes whatever the ACK rate. Times before the
/// epoch (a hostile capture's) bucket like any other.
#[derive(Debug, Clone, Copy)]
struct AckTimes {
    /// Nanoseconds; `i64::MIN` is none.
    at: [i64; 16],
}

impl Default for AckTimes {
    fn default() -> AckTimes {
        AckTimes { at: [i64::MIN; 16] }
    }
}

impl AckTimes {
    fn note(&mut self, ts: Ts, rtt: i64) {
        let width = (rtt / 8).max(1);
        let t = ts.nanos();
        let bucket = t.div_euclid(width);
        let slot = &mut self.at[bucket.rem_euclid(16) as usize];
        if *slot == i64::MIN || slot.div_euclid(width) != bucket {
            *slot = t;
        }
    }

    fn any_between(&self, from: i64, to: i64) -> bool {
        self.at
            .iter()
            .any(|&t| t != i64::MIN && t >= from && t <= to)
    }
}

fn step(dir: Dir, flags: StepFlags) -> Step {
    Step { dir, flags }
}

impl<A> TcpConn<A> {
    fn new(
        meta: ConnMeta,
        client_by: ClientBy,
        ts: Ts,
        frame: u64,
        cfg: &TcpConfig,
        app: A,
    ) -> Self {
        TcpConn {
            facts: TcpFacts {
                id: meta.id,
                client: meta.client,
                server: meta.server,
                client_by,
                first_ts: ts,
                last_ts: ts,
                first_frame: frame,
                last_frame: frame,
                stream: meta.stream,
                syn_ts: None,
                synack_ts: None,
                ack_ts: None,
                handshake_ms: None,
                client_isn: None,
                server_isn: None,
                handshake_valid: None,
                options: TcpOptionSummary::default(),
                server_options: TcpOptionSummary::default(),
                bytes: [0; 2],
                gaps: [0; 2],
                packets: [0; 2],
                retransmissions: [0; 2],
                out_of_order: [0; 2],
                zero_window: [0; 2],
                close: Close::default(),
                events: Events::default(),
                rtt: [RttSamples::default(); 2],
            },
            phase: None,
            ooo_cap: cfg.ooo_cap,
            fin_seq: [None, None],
            fin_acked: [false, false],
            last_syn: None,
            last_synack: None,
            near_client: None,
            acks: [None, None],
            state: State::Open,
            closed_ts: None,
            next_seq: [None, None],
            retransmitted: false,
            reset: None,
            app,
        }
    }

    /// The connection's [`Phase`], made now if needed.
    fn ph(&mut self) -> &mut Phase {
        phase_of(&mut self.phase, self.ooo_cap, &self.facts)
    }

    /// One direction's reassembly, when bytes flowed.
    fn re(&self, d: usize) -> Option<&Reassembler> {
        self.phase.as_deref().map(|p| &p.re[d])
    }

    fn delivered(&self, d: usize) -> u64 {
        self.re(d).map_or(0, Reassembler::delivered_bytes)
    }

    fn push_step(&mut self, s: Step) {
        if self.facts.close.steps.len() < MAX_SEQUENCE {
            self.facts.close.steps.push(s);
        }
    }

    fn begin_close(&mut self, kind: CloseKind, dir: Dir, ts: Ts) {
        if self.facts.close.kind == CloseKind::Open {
            self.facts.close.kind = kind;
            self.facts.close.initiator = Some(dir);
            self.facts.close.ts = Some(ts);
        }
    }

    /// Handles one segment travelling in `dir`.
    fn handle_segment<H: TcpHandler<A>>(
        &mut self,
        dir: Dir,
        ts: Ts,
        frame: u64,
        seg: &TcpSegment<'_>,
        h: &mut H,
    ) {
        let d = dir.index();
        self.facts.last_ts = ts;
        self.facts.last_frame = frame;
        h.segment(&mut self.app, frame);
        let f = seg.flags;
        self.facts.packets[d] += 1;
        if seg.window == 0 && !f.syn() && !f.fin() && !f.rst() {
            self.facts.zero_window[d] += 1;
        }
        self.track_zero_window(dir, ts, frame, seg);
        self.retransmitted = false;
        self.check_reset_ignored(dir, seg, h);
        let keepalive = self.is_keepalive(dir, seg);
        let probe = self.is_zero_window_probe(dir, seg);
        self.handshake(dir, ts, seg, h);
        self.acknowledged(dir, ts, seg, h);
        let data_seq = SeqNum(seg.seq).plus(u32::from(f.syn()));
        if probe {
            // Wireshark's zero window probe: one byte at `nextseq` while the peer's window is
            // zero. The receiver drops it (it has no room) and the byte comes again with the
            // data after the window opens, so it is neither data nor a retransmission here,
            // and `nextseq` stays.
        } else if !seg.payload.is_empty() {
            self.payload((dir, ts, f.syn()), data_seq, seg.payload, h);
        } else {
            // A segment without data still says how far its sender has gone (Wireshark
            // advances `nextseq` with it): a later segment below that is a retransmission.
            // A RST does not (see below).
            // A SYN at its own ISN is below its stream's first byte: nothing to note (and
            // no reason to make the connection's phase).
            let isn = [self.facts.client_isn, self.facts.server_isn][d];
            let at_isn = f.syn() && isn == Some(seg.seq) && self.phase.is_none();
            if !f.rst() && !at_isn {
                self.ph().re[d].observe(SeqNum(seg.seq));
            }
            // RFC 9293 3.4: a FIN occupies a sequence number; one below what its sender
            // already reached was sent before (Wireshark: seq < nextseq).
            if f.fin() && self.next_seq[d].is_some_and(|n| n.diff(SeqNum(seg.seq)) > 0) {
                self.retransmitted = true;
            }
        }
        if keepalive || probe {
            // Wireshark's keep-alive: one byte (or none) just below `nextseq`, not a
            // retransmission.
            self.retransmitted = false;
        } else if f.rst() && seg.payload.is_empty() {
            // A RST occupies no sequence space, and one out of the window (or forged, with
            // any number) says nothing of how far its sender went: Wireshark moves `nextseq`
            // to it and then counts every later byte as a retransmission.
        } else {
            let end = SeqNum(seg.seq)
                .plus(seg.payload.len() as u32 + u32::from(f.syn()) + u32::from(f.fin()));
            if self.next_seq[d].is_none_or(|n| end.diff(n) > 0) {
                self.next_seq[d] = Some(end);
            }
        }
        // Duplicate ACKs (RFC 5681 section 2: no data, no SYN/FIN, same ACK and window).
        if f.ack() {
            let pure = seg.payload.is_empty() && !f.syn() && !f.fin() && !f.rst();
            if self.acks[d].is_none_or(|(a, ..)| SeqNum(seg.ack).is_after(SeqNum(a))) {
                if let Some(ms) = self.facts.handshake_ms {
                    self.ph().ack_advanced[d].note(ts, (ms * 1e6) as i64);
                }
            }
            self.acks[d] = match self.acks[d] {
                Some((a, w, dups, _)) if pure && a == seg.ack && w == seg.window => {
                    Some((a, w, dups + 1, ts))
                }
                _ => Some((seg.ack, seg.window, 0, ts)),
            };
        }
        self.teardown(dir, ts, data_seq, seg, h);
        if self.retransmitted {
            self.facts.retransmissions[d] += 1;
        }
    }

    /// A zero window advertised by `dir`'s sender holds the peer's bytes back until the
    /// same side advertises room again.
    fn track_zero_window(&mut self, dir: Dir, ts: Ts, frame: u64, seg: &TcpSegment<'_>) {
        let f = seg.flags;
        if f.syn() || f.rst() {
            return;
        }
        let d = dir.index();
        if seg.window == 0 && !f.fin() {
            let p = self.ph();
            p.zero_window_open[d].get_or_insert((ts, frame));
            // The zero window is the wait from here on, not the window being full.
            p.window_full[1 - d] = None;
        } else if seg.window > 0 {
            let open = self
                .phase
                .as_mut()
                .and_then(|p| p.zero_window_open[d].take());
            if let Some((t0, f0)) = open {
                self.facts.events.push(TcpEvent {
                    kind: TcpEventKind::ZeroWindow,
                    dir: dir.reverse(),
                    from: t0,
                    from_frame: Some(f0),
                    to: ts,
                    to_frame: frame,
                });
            }
        }
    }

    /// New data from `dir`'s sender: it ends a wait for room in the window, and when it
    /// leaves less room than one more segment of its size in what the peer advertised (its
    /// last ACK plus its window, scaled when both SYNs offered scaling), starts one. Data
    /// from the peer meanwhile (a new request) cancels the peer's sender's wait: its next
    /// bytes answer that, not the window.
    fn track_window_full(&mut self, dir: Dir, ts: Ts, frame: u64, seq: SeqNum, len: u32) {
        let (d, other) = (dir.index(), 1 - dir.index());
        let p = self.ph();
        p.window_full[other] = None;
        let end = seq.plus(len);
        let (zero_window, full) = (p.zero_window_open[other].is_some(), p.window_full[d].take());
        // Waits under a millisecond are the ACK clock of any window-limited flow, not a
        // delay worth a line (and would fill the event cap).
        if let Some((t0, f0)) =
            full.filter(|(t0, _)| ts.nanos().saturating_sub(t0.nanos()) >= 1_000_000)
        {
            self.facts.events.push(TcpEvent {
                kind: TcpEventKind::WindowLimited,
                dir,
                from: t0,
                from_frame: Some(f0),
                to: ts,
                to_frame: frame,
            });
        }
        if zero_window {
            return;
        }
        let Some((ack, window, ..)) = self.acks[other] else {
            return;
        };
        let shift = match (self.facts.options.wscale, self.facts.server_options.wscale) {
            (Some(c), Some(s)) => u32::from(if other == 0 { c } else { s }.min(14)),
            _ => 0,
        };
        let room = (u64::from(window) << shift) as i64;
        if window > 0 && room - end.diff(SeqNum(ack)) < i64::from(len) {
            self.ph().window_full[d] = Some((ts, frame));
        }
    }

    /// New data from `dir`'s sender after a pause (before [`TcpConn::track_window_full`]
    /// takes a full receive window as the reason): the sender was waiting for ACKs to open
    /// its congestion window (slow start: a response's first round trips) when the burst
    /// before the pause held at least [`CWND_MIN_SEGMENTS`] segments, the pause lasted half a
    /// round trip to one and a half, and the data resumed as the receiver's latest ACK would
    /// release it: one came a round trip before (within a quarter) when the capture is near
    /// the receiver, during the pause and at most a quarter round trip before when near the
    /// sender. Not server think time, not the receiver's
    /// window. Not during loss recovery (a hole open, a resend during the pause: the loss's
    /// delay). A request sent during the pause and answered a round trip later reads the
    /// same: the diagnosis lays such a wait only on exchanges whose request was sent before
    /// it began. (A server that thinks for about one round trip right after a burst would
    /// also read the same; longer thinking never does.)
    fn track_congestion_window(&mut self, dir: Dir, ts: Ts, frame: u64, len: u32) {
        let (d, other) = (dir.index(), 1 - dir.index());
        let Some(rtt) = self.facts.handshake_ms.map(|ms| (ms * 1e6) as i64) else {
            return;
        };
        let pause = (rtt / 2).max(1_000_000);
        let near_client = self.near_client;
        let p = phase_of(&mut self.phase, self.ooo_cap, &self.facts);
        let prev = p.last_new[d];
        let gap = prev.map_or(i64::MAX, |(t0, ..)| ts.nanos().saturating_sub(t0.nanos()));
        let burst = match prev {
            Some((_, _, b)) if gap < pause => b.saturating_add(i64::from(len)),
            _ => i64::from(len),
        };
        p.last_new[d] = Some((ts, frame, burst));
        let (Some((t0, f0, burst)), Some(near_client)) = (prev, near_client) else {
            return;
        };
        if gap < pause || gap > rtt.saturating_mul(3) / 2 {
            return;
        }
        if p.window_full[d].is_some() || p.zero_window_open[other].is_some() {
            return;
        }
        // Loss recovery (a hole still open, a resend during the pause) is the loss's delay.
        let recovering = p.re[d].first_pending_ts().is_some()
            || self.facts.events.list.iter().any(|e| {
                e.dir == dir && matches!(e.kind, TcpEventKind::Retransmission { .. }) && e.to >= t0
            });
        if recovering {
            return;
        }
        let mss = match dir {
            Dir::ToClient => self.facts.options.mss,
            Dir::ToServer => self.facts.server_options.mss,
        };
        if burst < CWND_MIN_SEGMENTS * i64::from(mss.unwrap_or(1460)) {
            return;
        }
        let acks = &self.ph().ack_advanced[other];
        let now = ts.nanos();
        let before = |k: i64| now.saturating_sub(rtt.saturating_mul(k) / 4);
        let released = if near_client == (dir == Dir::ToClient) {
            acks.any_between(before(5), before(3))
        } else {
            let recent = now.saturating_sub((rtt / 4).max(1_000_000));
            acks.any_between(t0.nanos().max(recent), now)
        };
        if released {
            self.facts.events.push(TcpEvent {
                kind: TcpEventKind::CongestionWindow,
                dir,
                from: t0,
                from_frame: Some(f0),
                to: ts,
                to_frame: frame,
            });
        }
    }

    /// Wireshark's zero window probe test: exactly one byte at the sender's `nextseq` while
    /// the last window the peer advertised is zero.
    fn is_zero_window_probe(&self, dir: Dir, seg: &TcpSegment<'_>) -> bool {
        let peer = 1 - dir.index();
        seg.payload.len() == 1
            && self.acks[peer].is_some_and(|(_, window, _, _)| window == 0)
            && self.next_seq[dir.index()] == Some(SeqNum(seg.seq))
    }

    /// Wireshark's keep-alive test: no SYN, FIN or RST, at most one byte, starting one
    /// below the sender's `nextseq`.
    fn is_keepalive(&self, dir: Dir, seg: &TcpSegment<'_>) -> bool {
        let f = seg.flags;
        seg.payload.len() <= 1
            && !f.syn()
            && !f.fin()
            && !f.rst()
            && self.next_seq[dir.index()].is_some_and(|n| n.diff(SeqNum(seg.seq)) == 1)
    }

    /// SYN, SYN/ACK and the ACK that completes the handshake.
    fn handshake<H: TcpHandler<A>>(&mut self, dir: Dir, ts: Ts, seg: &TcpSegment<'_>, h: &mut H) {
        let f = seg.flags;
        let t = &mut self.facts;
        let frame = t.last_frame;
        if f.syn() && !f.ack() && dir == Dir::ToServer {
            let prev = self.last_syn.replace((ts, frame));
            if t.syn_ts.is_none() {
                t.syn_ts = Some(ts);
                t.client_isn = Some(seg.seq);
                t.options = seg.options();
                if let Some(p) = self.phase.as_mut() {
                    p.re[0].set_isn(SeqNum(seg.seq));
                }
            } else if self
                .phase
                .as_ref()
                .is_some_and(|p| p.re[0].delivered_bytes() > 0 && p.re[0].soon_after_highest(ts))
            {
                // A SYN again just after data: reordered on the way, as Wireshark judges
                // any segment below `nextseq` that comes within the initial RTT.
                t.out_of_order[dir.index()] += 1;
            } else {
                self.retransmitted = true;
                if let Some((t0, f0)) = prev {
                    t.events.push(TcpEvent {
                        kind: TcpEventKind::SynRetransmission,
                        dir,
                        from: t0,
                        from_frame: Some(f0),
                        to: ts,
                        to_frame: frame,
                    });
                }
            }
        } else if f.syn() && f.ack() && dir == Dir::ToClient {
            let prev = self.last_synack.replace((ts, frame));
            if t.synack_ts.is_none() {
                t.synack_ts = Some(ts);
                t.server_isn = Some(seg.seq);
                t.server_options = seg.options();
                if let Some(p) = self.phase.as_mut() {
                    p.re[1].set_isn(SeqNum(seg.seq));
                }
                let ok = t.client_isn.map(|isn| isn.wrapping_add(1) == seg.ack);
                t.handshake_valid = ok;
                if ok == Some(false) {
                    h.warn(
                        &mut self.app,
                        WarningKind::Tcp,
                        "the SYN/ACK does not acknowledge the client's ISN+1".into(),
                    );
                }
            } else {
                self.retransmitted = true;
                if let Some((t0, f0)) = prev {
                    t.events.push(TcpEvent {
                        kind: TcpEventKind::SynAckRetransmission,
                        dir,
                        from: t0,
                        from_frame: Some(f0),
                        to: ts,
                        to_frame: frame,
                    });
                }
            }
        }
        if !(f.ack() && !f.syn() && t.ack_ts.is_none()) {
            return;
        }
        let Some((syn_ts, _)) = self.last_syn else {
            return;
        };
        t.ack_ts = Some(ts);
        t.handshake_ms = ms_between(Some(syn_ts), Some(ts));
        if let Some(synack) = t.synack_ts {
            // As `pageload::diagnosis::capture_near`: near the client the SYN/ACK comes a
            // round trip after the SYN and the ACK right after it; near the server the
            // other way round.
            let (a, b) = (synack.ms_since(syn_ts), ts.ms_since(synack));
            if a >= 0.0 && b >= 0.0 {
                self.near_client = (a > 2.0 * b)
                    .then_some(true)
                    .or((b > 2.0 * a).then_some(false));
            }
        }
        let rtt = ts.nanos().saturating_sub(syn_ts.nanos());
        let p = phase_of(&mut self.phase, self.ooo_cap, t);
        p.re[0].set_rtt(rtt);
        p.re[1].set_rtt(rtt);
        if dir == Dir::ToServer {
            if let Some(isn) = t.server_isn {
                let ok = isn.wrapping_add(1) == seg.ack;
                t.handshake_valid = Some(t.handshake_valid.unwrap_or(true) && ok);
                if !ok {
                    h.warn(
                        &mut self.app,
                        WarningKind::Tcp,
                        "the handshake's ACK does not acknowledge the server's ISN+1".into(),
                    );
                }
            }
        }
    }

    /// The peer's ACK proves what it received: holes below it are capture loss.
    fn acknowledged<H: TcpHandler<A>>(
        &mut self,
        dir: Dir,
        ts: Ts,
        seg: &TcpSegment<'_>,
        h: &mut H,
    ) {
        let f = seg.flags;
        if !f.ack() {
            return;
        }
        let (d, other) = (dir.index(), 1 - dir.index());
        if let Some(p) = self.phase.as_mut() {
            if let Some(ns) = p.flight[other].acked(SeqNum(seg.ack), ts) {
                self.facts.rtt[other].add(ns);
            }
        }
        // The FIN occupies one sequence number that carries no byte.
        let mut ack = SeqNum(seg.ack);
        if let Some(fs) = self.fin_seq[other] {
            if ack.diff(fs) > 0 {
                ack = fs;
            }
        }
        // Without a phase, the peer's stream starts after its ISN: an ACK at that start (the
        // SYN/ACK's, the handshake's) moves nothing.
        let isn = [self.facts.client_isn, self.facts.server_isn][other];
        if self.phase.is_some() || isn.is_some_and(|isn| ack.diff(SeqNum(isn).plus(1)) > 0) {
            let p = phase_of(&mut self.phase, self.ooo_cap, &self.facts);
            let mut sink = Sink {
                app: &mut self.app,
                handler: h,
                events: &mut self.facts.events,
                frame: self.facts.last_frame,
            };
            p.re[other].ack(ack, ts, &mut sink);
        }
        if let Some(fs) = self.fin_seq[other] {
            if !self.fin_acked[other] && SeqNum(seg.ack).diff(fs.plus(1)) >= 0 {
                self.fin_acked[other] = true;
                if f.fin() && self.fin_seq[d].is_none() {
                    self.push_step(step(dir, StepFlags::FinAck));
                } else {
                    self.push_step(step(dir, StepFlags::Ack));
                }
            }
        }
    }

    /// A segment's payload, into reassembly.
    fn payload<H: TcpHandler<A>>(
        &mut self,
        (dir, ts, syn): (Dir, Ts, bool),
        data_seq: SeqNum,
        payload: &[u8],
        h: &mut H,
    ) {
        let (d, other) = (dir.index(), 1 - dir.index());
        if self.state == State::Closed && !syn {
            // Data after the close: a retransmission or the tail of a RST race.
            self.retransmitted = true;
            return;
        }
        // Wireshark's fast retransmission: two or more duplicate ACKs asked for exactly
        // this segment, the last of them less than 20 ms ago.
        let asked = self.acks[other].is_some_and(|(a, _, dups, at)| {
            dups >= 2 && a == data_seq.0 && ts.nanos().saturating_sub(at.nanos()) < 20_000_000
        });
        // Before the segment is placed: where its bytes were first sent, and since when
        // bytes have waited behind a hole it may fill.
        let frame = self.facts.last_frame;
        let p = phase_of(&mut self.phase, self.ooo_cap, &self.facts);
        let first_send = p.flight[d].first_send(data_seq);
        let pending_before = p.re[d].first_pending_ts();
        let waiting = pending_before.or(p.re[d].highest_ts());
        let mut sink = Sink {
            app: &mut self.app,
            handler: h,
            events: &mut self.facts.events,
            frame,
        };
        let v = p.re[d].segment_after_dupacks(data_seq, payload, ts, asked, &mut sink);
        if v.retransmission {
            p.flight[d].resent(data_seq);
            self.retransmitted = true;
            // Resent bytes the peer had already acknowledged held nothing back.
            let end = data_seq.plus(payload.len() as u32);
            let acked = self.acks[other].is_some_and(|(a, ..)| SeqNum(a).diff(end) >= 0);
            let from = first_send
                .map(|(t, f)| (t, Some(f)))
                .or(waiting.map(|t| (t, None)));
            match (acked, from) {
                (false, Some((from, from_frame))) if from < ts => {
                    self.facts.events.push(TcpEvent {
                        kind: TcpEventKind::Retransmission { fast: asked },
                        dir,
                        from,
                        from_frame,
                        to: ts,
                        to_frame: frame,
                    });
                }
                (true, _) => self.facts.events.push(TcpEvent {
                    kind: TcpEventKind::SpuriousRetransmission,
                    dir,
                    from: first_send.map_or(ts, |(t, _)| t),
                    from_frame: first_send.map(|(_, f)| f),
                    to: ts,
                    to_frame: frame,
                }),
                _ => {}
            }
        } else if v.new_bytes > 0 {
            p.flight[d].sent(data_seq, payload.len() as u32, ts, frame);
            self.track_congestion_window(dir, ts, frame, payload.len() as u32);
            self.track_window_full(dir, ts, frame, data_seq, payload.len() as u32);
        }
        if v.out_of_order {
            self.facts.out_of_order[d] += 1;
            // Wireshark calls a hole's filler out-of-order when it comes soon after the
            // latest new data, as a fast resend does while the sender keeps sending. Bytes
            // that waited behind the hole half a round trip or more were held up by a loss
            // recovered after duplicate ACKs, not by reordering (which costs microseconds).
            let rtt_half = self
                .facts
                .handshake_ms
                .map_or(1_000_000, |ms| ((ms * 1e6) as i64 / 2).max(1_000_000));
            if let Some(since) = pending_before {
                if ts.nanos().saturating_sub(since.nanos()) >= rtt_half {
                    self.facts.events.push(TcpEvent {
                        kind: TcpEventKind::Retransmission { fast: true },
                        dir,
                        from: since,
                        from_frame: None,
                        to: ts,
                        to_frame: frame,
                    });
                }
            }
        }
        if v.hit_cap {
            h.warn(
                &mut self.app,
                WarningKind::Cap,
                "out-of-order buffer full: the hole before it was declared lost".into(),
            );
        }
    }

    /// FIN and RST.
    fn teardown<H: TcpHandler<A>>(
        &mut self,
        dir: Dir,
        ts: Ts,
        data_seq: SeqNum,
        seg: &TcpSegment<'_>,
        h: &mut H,
    ) {
        let d = dir.index();
        let f = seg.flags;
        if f.fin() {
            let fin_at = data_seq.plus(seg.payload.len() as u32);
            match self.fin_seq[d] {
                None => {
                    if self.retransmitted && seg.payload.is_empty() {
                        // Below what its sender had reached: a resend whose first copy the
                        // capture never saw. How long the close waited cannot be told.
                        self.facts.events.push(TcpEvent {
                            kind: TcpEventKind::FinRetransmission,
                            dir,
                            from: ts,
                            from_frame: None,
                            to: ts,
                            to_frame: self.facts.last_frame,
                        });
                    }
                    self.fin_seq[d] = Some(fin_at);
                    self.begin_close(CloseKind::Fin, dir, ts);
                    let acked_peer = self
                        .facts
                        .close
                        .steps
                        .last()
                        .is_some_and(|s| s.flags == StepFlags::FinAck);
                    if !acked_peer {
                        self.push_step(step(dir, StepFlags::Fin));
                    }
                }
                Some(_) => {
                    self.retransmitted = true;
                    let first = self.phase.as_ref().and_then(|p| p.fin_first[d]);
                    if let (Some((t0, f0)), true) = (first, seg.payload.is_empty()) {
                        self.facts.events.push(TcpEvent {
                            kind: TcpEventKind::FinRetransmission,
                            dir,
                            from: t0,
                            from_frame: Some(f0),
                            to: ts,
                            to_frame: self.facts.last_frame,
                        });
                    }
                }
            }
            let frame = self.facts.last_frame;
            self.ph().fin_first[d].get_or_insert((ts, frame));
        }
        if f.rst() {
            self.begin_close(CloseKind::Rst, dir, ts);
            self.push_step(step(dir, StepFlags::Rst));
            if self.state == State::Open {
                // RFC 9293 3.10.7.4: a RST in the window ends the connection; one that is
                // not (RFC 5961 3.2), or a forged one, is dropped by the receiver. Which it was
                // shows in what follows: until then the bytes still flow.
                self.state = State::Reset;
                self.closed_ts = Some(ts);
                self.reset = Some(ResetSeen {
                    dir,
                    frame: self.facts.last_frame,
                    next_seq: self.next_seq,
                });
            }
        } else if self.fin_seq[0].is_some()
            && self.fin_seq[1].is_some()
            && self.state != State::Closed
        {
            self.close(ts, h);
        }
    }

    /// After a RST: an ACK that acknowledges data its peer sent after the RST shows both
    /// sides went on, so the RST ended nothing (a warning says so, and the connection's close
    /// is what ends it later).
    fn check_reset_ignored<H: TcpHandler<A>>(&mut self, dir: Dir, seg: &TcpSegment<'_>, h: &mut H) {
        let (State::Reset, Some(r)) = (self.state, self.reset) else {
            return;
        };
        let other = 1 - dir.index();
        let acked_new = seg.flags.ack()
            && !seg.flags.rst()
            && r.next_seq[other].is_some_and(|n| SeqNum(seg.ack).diff(n) > 0);
        if !acked_new {
            return;
        }
        self.state = State::Open;
        self.closed_ts = None;
        self.reset = None;
        self.facts.close = Close::default();
        let msg = format!(
            "a RST from the {} (frame {}) was ignored: both sides went on, and the {} \
             acknowledged data sent after it (RFC 5961: a RST out of the window, or forged)",
            r.dir.sender(),
            r.frame,
            dir.sender()
        );
        h.warn(&mut self.app, WarningKind::Tcp, msg.into());
    }

    /// No more data will flow: deliver what is buffered and tell the handler.
    fn close<H: TcpHandler<A>>(&mut self, ts: Ts, h: &mut H) {
        if self.state == State::Closed {
            return;
        }
        self.reset = None;
        self.state = State::Closed;
        self.closed_ts = Some(ts);
        self.flush(ts, h);
    }

    fn flush<H: TcpHandler<A>>(&mut self, ts: Ts, h: &mut H) {
        let mut sink = Sink {
            app: &mut self.app,
            handler: h,
            events: &mut self.facts.events,
            frame: self.facts.last_frame,
        };
        if let Some(p) = self.phase.as_mut() {
            p.re[0].flush(ts, &mut sink);
            p.re[1].flush(ts, &mut sink);
        }
        h.closed(&mut self.app, ts);
    }

    /// Ends the connection for good (end of capture, expiry, eviction).
    /// Ends the connection where it lies and hands out its facts and state: only those two
    /// move out of the box, not the whole connection (a flood finishes hundreds of
    /// thousands).
    #[allow(clippy::boxed_local)] // The box is the point: moving `self` out of it is the cost.
    fn finish<H: TcpHandler<A>>(mut self: Box<Self>, h: &mut H) -> (TcpFacts, A) {
        if self.state != State::Closed {
            let ts = self.facts.last_ts;
            self.flush(ts, h);
            self.state = State::Closed;
        }
        for d in 0..2 {
            self.facts.bytes[d] = self.delivered(d);
            self.facts.gaps[d] = self.re(d).map_or(0, Reassembler::gap_bytes);
        }
        let TcpConn { facts, app, .. } = *self;
        (facts, app)
    }

    /// Whether a SYN seen now starts a new connection on this 5-tuple.
    fn is_reused_by(&self, seg: &TcpSegment<'_>) -> bool {
        self.state != State::Open
            || (self.facts.client_isn.is_some_and(|isn| isn != seg.seq)
                && (self.facts.synack_ts.is_some() || self.delivered(0) > 0))
    }
}

/// A connection's place in the table: its slab index, and its id (a slot is reused, an id
/// never is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Handle {
    id: u64,
    slot: usize,
}

/// How recently a connection was active: the capture time of its last packet, then that
/// packet's frame number (unique, so the order is total).
type Activity = (Ts, u64);

/// All live connections, addressed by small `Copy` handles (slab indices).
///
/// Eviction and expiry come from ordered queues ([`crate::expiry::LazyHeap`]), never from a
/// scan of the table: `active` orders every live connection by its last activity (the
/// oldest is evicted when the table is full, and finished once idle), `closing` orders the
/// closed ones by the time they closed. A packet costs a comparison of timestamps, and an
/// amortised O(log n) when it opens a connection or its capture time steps back.
pub struct FlowTable<A> {
    cfg: TcpConfig,
    map: HashMap<FlowKey, usize, SeededHash>,
    /// Boxed: a slot costs a pointer, and a live connection exactly its size (a vector of
    /// connections would hold up to twice the live ones' memory after it grows).
    slab: Vec<Option<Box<TcpConn<A>>>>,
    free: Vec<usize>,
    next_id: u64,
    active: LazyHeap<Activity, Handle>,
    closing: LazyHeap<Ts, Handle>,
    /// tshark's conversation numbering: each 5-tuple's current `tcp.stream` and the first
    /// sequence number seen each way (canonical key order), kept after its connection ends.
    streams: HashMap<FlowKey, (u64, [Option<u32>; 2]), SeededHash>,
    next_stream: u64,
    streams_full: bool,
    /// At the end of the capture: the slots still to finish, the next last.
    ending: Vec<usize>,
    /// Connections that ended, waiting for [`FlowTable::poll_finished`].
    finished: VecDeque<(TcpFacts, A)>,
    /// Connections finished early because the table was full.
    pub evicted: CapCount,
    /// The 5-tuples of connections finished early past their handshake, each with the id
    /// of its connection and the time of its last segment, at most as many as the table
    /// holds (oldest dropped first, through `evicted_order`): their later segments are
    /// counted in `after_eviction`, not taken for new connections caught mid-stream (a
    /// slowloris of 200,000 through a table of 100,000 had become 1.8 million records).
    evicted_keys: HashMap<FlowKey, (u64, Ts), SeededHash>,
    evicted_order: VecDeque<(FlowKey, u64)>,
    /// Segments of evicted connections, counted and not analyzed.
    pub after_eviction: CapCount,
    /// Connections opened without a `tcp.stream` number, the numbering being full.
    pub unnumbered: CapCount,
}

impl<A> FlowTable<A> {
    pub fn new(cfg: TcpConfig) -> FlowTable<A> {
        FlowTable {
            cfg,
            map: HashMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            next_id: 1,
            active: LazyHeap::new(),
            closing: LazyHeap::new(),
            streams: HashMap::default(),
            next_stream: 0,
            streams_full: false,
            ending: Vec::new(),
            finished: VecDeque::new(),
            evicted: CapCount::default(),
            evicted_keys: HashMap::default(),
            evicted_order: VecDeque::new(),
            after_eviction: CapCount::default(),
            unnumbered: CapCount::default(),
        }
    }

    pub fn live(&self) -> usize {
        self.map.len()
    }

    /// Most connections live at once.
    pub fn max_connections(&self) -> usize {
        self.cfg.max_connections
    }

    /// Most 5-tuples numbered as `tcp.stream`.
    pub fn max_stream_keys(&self) -> usize {
        self.cfg.max_stream_keys
    }

    /// Handles a segment from `src` to `dst`.
    pub fn handle<H: TcpHandler<A>>(
        &mut self,
        (src, dst): (SocketAddr, SocketAddr),
        ts: Ts,
        frame: u64,
        seg: &TcpSegment<'_>,
        h: &mut H,
    ) {
        let key = FlowKey::new(src, dst);
        let slot = match self.map.get(&key) {
            Some(&slot) => {
                let reuse = seg.flags.syn()
                    && !seg.flags.ack()
                    && self.slab[slot]
                        .as_ref()
                        .is_some_and(|c| c.is_reused_by(seg));
                if reuse {
                    self.finish_slot(slot, h);
                    self.map.remove(&key);
                    let stream = self.stream_of(key, src, (seg, frame), true);
                    self.open(key, (src, dst), (ts, frame, stream), seg, h)
                } else {
                    slot
                }
            }
            None => {
                if self.after_evicted(key, ts, frame, seg) {
                    return;
                }
                let stream = self.stream_of(key, src, (seg, frame), false);
                self.open(key, (src, dst), (ts, frame, stream), seg, h)
            }
        };
        let Some(conn) = self.slab[slot].as_mut() else {
            return;
        };
        let dir = if src == conn.facts.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let (last_ts, closed_ts) = (conn.facts.last_ts, conn.closed_ts);
        conn.handle_segment(dir, ts, frame, seg, h);
        let handle = Handle {
            id: conn.facts.id,
            slot,
        };
        // The queues hold an entry no later than each connection's key: one is added only
        // when the key went back (a capture whose time steps back) or a close began.
        if ts < last_ts {
            self.active.push((ts, frame), handle);
        }
        if let Some(t) = conn.closed_ts {
            if closed_ts.is_none_or(|before| t < before) {
                self.closing.push(t, handle);
            }
        }
    }

    /// Whether `seg`, on a 5-tuple with no live connection, belongs to one finished early
    /// for room: then it is counted and goes no further. A SYN (a new connection), or a
    /// segment after the idle timeout, ends that.
    fn after_evicted(&mut self, key: FlowKey, ts: Ts, frame: u64, seg: &TcpSegment<'_>) -> bool {
        let Some((_, last)) = self.evicted_keys.get_mut(&key) else {
            return false;
        };
        let new = seg.flags.syn() && !seg.flags.ack();
        if new || ts.nanos().saturating_sub(last.nanos()) > IDLE_TIMEOUT_NANOS {
            self.evicted_keys.remove(&key);
            return false;
        }
        *last = (*last).max(ts);
        self.after_eviction.hit(Some(frame));
        true
    }

    /// Remembers an evicted connection's 5-tuple (see `evicted_keys`).
    fn remember_evicted(&mut self, key: FlowKey, id: u64, ts: Ts) {
        // Whether a queue entry still names its key's current connection.
        let current = |keys: &HashMap<FlowKey, (u64, Ts), SeededHash>,
                       &(k, id): &(FlowKey, u64)| {
            keys.get(&k).is_some_and(|&(i, _)| i == id)
        };
        self.evicted_keys.insert(key, (id, ts));
        self.evicted_order.push_back((key, id));
        while self.evicted_keys.len() > self.cfg.max_connections {
            let Some(oldest) = self.evicted_order.pop_front() else {
                break;
            };
            if current(&self.evicted_keys, &oldest) {
                self.evicted_keys.remove(&oldest.0);
            }
        }
        // Entries whose key went (a SYN, the idle timeout) or was evicted again: dropped
        // once they outnumber the live ones, so the queue stays within twice the map.
        if self.evicted_order.len() > 2 * self.evicted_keys.len() + 1024 {
            let keys = &self.evicted_keys;
            self.evicted_order.retain(|e| current(keys, e));
        }
    }

    /// tshark's `tcp.stream` for a connection opening on `key` with `seg` from `src`: the
    /// 5-tuple's index as before, unless this is a SYN whose sequence number differs from
    /// the first one its sender used there (tshark's port-reuse rule; when that number is
    /// unknown, a connection pagetrace saw end counts as reused), or a 5-tuple never seen,
    /// which takes the next index in order of first packet.
    fn stream_of(
        &mut self,
        key: FlowKey,
        src: SocketAddr,
        (seg, frame): (&TcpSegment<'_>, u64),
        reused: bool,
    ) -> Option<u64> {
        if self.streams_full {
            self.unnumbered.hit(Some(frame));
            return None;
        }
        let side = key.side_of(src);
        let syn = seg.flags.syn() && !seg.flags.ack();
        let next = self.next_stream;
        if let Some((stream, base)) = self.streams.get_mut(&key) {
            let new = syn && base[side].map_or(reused, |b| b != seg.seq);
            if new {
                *stream = next;
                *base = [None, None];
                self.next_stream += 1;
            }
            base[side].get_or_insert(seg.seq);
            return Some(*stream);
        }
        if self.streams.len() >= self.cfg.max_stream_keys {
            self.streams_full = true;
            self.unnumbered.hit(Some(frame));
            return None;
        }
        let mut base = [None, None];
        base[side] = Some(seg.seq);
        self.streams.insert(key, (next, base));
        self.next_stream += 1;
        Some(next)
    }

    fn open<H: TcpHandler<A>>(
        &mut self,
        key: FlowKey,
        (src, dst): (SocketAddr, SocketAddr),
        (ts, frame, stream): (Ts, u64, Option<u64>),
        seg: &TcpSegment<'_>,
        h: &mut H,
    ) -> usize {
        if self.map.len() >= self.cfg.max_connections {
            self.evict_oldest(frame, h);
        }
        let (client, server, by) = roles(src, dst, seg);
        let meta = ConnMeta {
            id: self.next_id,
            client,
            server,
            stream,
        };
        self.next_id += 1;
        let app = h.open(&meta);
        let conn = Box::new(TcpConn::new(meta, by, ts, frame, &self.cfg, app));
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s] = Some(conn);
                s
            }
            None => {
                self.slab.push(Some(conn));
                self.slab.len() - 1
            }
        };
        self.map.insert(key, slot);
        self.active.push((ts, frame), Handle { id: meta.id, slot });
        if self.active.wants_compact(self.map.len()) {
            self.compact();
        }
        slot
    }

    /// Rebuilds both queues from the live connections, once dead entries outnumber them.
    fn compact(&mut self) {
        let live = || {
            self.slab.iter().enumerate().filter_map(|(slot, c)| {
                let c = c.as_ref()?;
                Some((
                    c,
                    Handle {
                        id: c.facts.id,
                        slot,
                    },
                ))
            })
        };
        self.active
            .compact(live().map(|(c, h)| ((c.facts.last_ts, c.facts.last_frame), h)));
        self.closing
            .compact(live().filter_map(|(c, h)| Some((c.closed_ts?, h))));
    }

    /// The connection a handle names, if it is still in the table.
    fn conn(slab: &[Option<Box<TcpConn<A>>>], h: Handle) -> Option<&TcpConn<A>> {
        slab.get(h.slot)?.as_deref().filter(|c| c.facts.id == h.id)
    }

    fn finish_slot<H: TcpHandler<A>>(&mut self, slot: usize, h: &mut H) {
        if let Some(c) = self.slab[slot].take() {
            self.finished.push_back(c.finish(h));
            self.free.push(slot);
        }
    }

    /// Removes a connection from the table and finishes it.
    fn finish_handle<H: TcpHandler<A>>(&mut self, handle: Handle, h: &mut H) {
        let Some(c) = Self::conn(&self.slab, handle) else {
            return;
        };
        let key = FlowKey::new(c.facts.client, c.facts.server);
        if self.map.get(&key) == Some(&handle.slot) {
            self.map.remove(&key);
        }
        self.finish_slot(handle.slot, h);
    }

    /// The table is full: the connection least recently active (oldest last packet, the
    /// earlier frame on a tie) is finished early.
    fn evict_oldest<H: TcpHandler<A>>(&mut self, frame: u64, h: &mut H) {
        let slab = &self.slab;
        let Some((_, handle)) = self
            .active
            .pop(|hd| Self::conn(slab, hd).map(|c| (c.facts.last_ts, c.facts.last_frame)))
        else {
            return;
        };
        let Some(c) = self.slab[handle.slot].as_mut() else {
            return;
        };
        h.warn(
            &mut c.app,
            WarningKind::Cap,
            Cow::Borrowed("flow table full: connection finished early"),
        );
        // Only one past its handshake: a half-open one's later segments are SYNs (a new
        // connection either way) or a late SYN/ACK, and a scan's 5-tuples would cost as
        // much memory as the table (1.5 million SYNs streamed: 124 -> 146 MiB).
        let established = c.facts.ack_ts.is_some() || c.facts.bytes != PerDir::default();
        let left = established.then(|| {
            let f = &c.facts;
            (FlowKey::new(f.client, f.server), f.id, f.last_ts)
        });
        if let Some((key, id, last)) = left {
            self.remember_evicted(key, id, last);
        }
        self.finish_handle(handle, h);
        self.evicted.hit(Some(frame));
    }

    /// Finishes closed connections past their grace period and idle ones, in order of id.
    pub fn expire<H: TcpHandler<A>>(&mut self, now: Ts, h: &mut H) {
        let mut done: Vec<Handle> = Vec::new();
        let slab = &self.slab;
        let closed_at = |hd| Self::conn(slab, hd).and_then(|c| c.closed_ts);
        while let Some((t, hd)) = self.closing.peek(closed_at) {
            if now.nanos().saturating_sub(t.nanos()) <= CLOSE_GRACE_NANOS {
                break;
            }
            self.closing.pop(closed_at);
            done.push(hd);
        }
        let active = |hd| Self::conn(slab, hd).map(|c| (c.facts.last_ts, c.facts.last_frame));
        while let Some(((t, _), hd)) = self.active.peek(active) {
            if now.nanos().saturating_sub(t.nanos()) <= IDLE_TIMEOUT_NANOS {
                break;
            }
            self.active.pop(active);
            done.push(hd);
        }
        done.sort_unstable();
        done.dedup();
        for hd in done {
            self.finish_handle(hd, h);
        }
    }

    /// Finishes every connection (end of capture).
    pub fn finish_all<H: TcpHandler<A>>(&mut self, h: &mut H) {
        while self.finish_open(usize::MAX, h) {}
    }

    /// The end of the capture, `n` connections at a time: finishes up to `n` of those still
    /// open, for the caller to take with [`FlowTable::poll_finished`] before the next ones
    /// (the finished and the open are then never all in memory at once). Returns whether
    /// some are left; once none are, the table's memory is given back.
    pub fn finish_open<H: TcpHandler<A>>(&mut self, n: usize, h: &mut H) -> bool {
        if self.ending.is_empty() {
            self.ending = self.map.drain().map(|(_, s)| s).collect();
            // In order of id (popped from the end): what streams out does not depend on the
            // table's hash order.
            let slab = &self.slab;
            let id = |s: usize| slab[s].as_ref().map_or(0, |c| c.facts.id);
            self.ending
                .sort_unstable_by_key(|&s| std::cmp::Reverse(id(s)));
            self.active.clear();
            self.closing.clear();
        }
        for _ in 0..n {
            let Some(s) = self.ending.pop() else {
                break;
            };
            self.finish_slot(s, h);
        }
        if !self.ending.is_empty() {
            return true;
        }
        self.slab = Vec::new();
        self.free = Vec::new();
        self.ending = Vec::new();
        false
    }

    /// The next connection that has ended, with the caller's state for it.
    pub fn poll_finished(&mut self) -> Option<(TcpFacts, A)> {
        self.finished.pop_front()
    }

    /// Every connection that has ended, in order, at once (the queue is swapped out, its
    /// entries not moved); [`Self::give_back_finished`] returns its room when drained.
    pub fn take_finished(&mut self) -> VecDeque<(TcpFacts, A)> {
        std::mem::take(&mut self.finished)
    }

    /// The queue [`Self::take_finished`] handed out, drained: its room is kept for the next
    /// connections that end (nothing ended meanwhile, as only the caller finishes them).
    pub fn give_back_finished(&mut self, mut queue: VecDeque<(TcpFacts, A)>) {
        queue.clear();
        if self.finished.is_empty() {
            self.finished = queue;
        }
    }
}

/// Who is the client (see the module doc).
fn roles(
    src: SocketAddr,
    dst: SocketAddr,
    seg: &TcpSegment<'_>,
) -> (SocketAddr, SocketAddr, ClientBy) {
    let f = seg.flags;
    let (sp, dp) = (src.port(), dst.port());
    if f.syn() && !f.ack() {
        (src, dst, ClientBy::Syn)
    } else if f.syn() && f.ack() {
        (dst, src, ClientBy::SynAck)
    } else if is_service_port(dp) && !is_service_port(sp) {
        (src, dst, ClientBy::Port)
    } else if is_service_port(sp) && !is_service_port(dp) {
        (dst, src, ClientBy::Port)
    } else if is_service_port(sp) && is_service_port(dp) && sp != dp {
        // Both look like services: the lower port is the server.
        if sp < dp {
            (dst, src, ClientBy::Port)
        } else {
            (src, dst, ClientBy::Port)
        }
    } else {
        (src, dst, ClientBy::FirstPacket)
    }
}

#[cfg(test)]
mod tests;
