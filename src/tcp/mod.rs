//! TCP: the flow table, each connection's handshake and teardown, and reassembly.
//!
//! Consumes checked [`TcpSegment`] views with their capture time; produces, per connection,
//! the `tcp` part of the report and the two reassembled byte streams, which it hands to the
//! connection's application dissector ([`crate::dissect::App`]).
//!
//! - **Who is the client.** The sender of the SYN (without ACK). When the handshake is not
//!   in the capture: the sender of a SYN/ACK is the server; otherwise the side using a
//!   well-known port (below 1024, or a common service port) is the server; otherwise the
//!   sender of the first packet seen is the client. `client_by` in the report says which
//!   rule decided (`syn`, `synack`, `port`, `first-packet`).
//! - **Connection life.** A new SYN on a 5-tuple whose connection has closed (FIN both
//!   ways, or RST) or whose client ISN differs starts a new connection. A closed connection
//!   stays in the table for [`CLOSE_GRACE_NANOS`] of capture time to absorb the last ACKs and
//!   retransmitted FINs, then is finished and dropped; an idle one after
//!   [`IDLE_TIMEOUT_NANOS`]. At most [`MAX_CONNECTIONS`] live at once: beyond that the
//!   oldest idle connection is finished early (counted in `flow_table_full`).
//! - **Handshake time.** As Wireshark's `tcp.analysis.initial_rtt`: from the most recent SYN
//!   (a retransmitted SYN restarts the clock, because the SYN/ACK answers the last one the
//!   server got) to the first packet with ACK and without SYN after it.

pub mod reassembly;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::decrypt::KeyLog;
use crate::dissect::stream::{Dir, StreamCtx};
use crate::dissect::{App, AppConfig};
use crate::net::{endpoint, TcpSegment};
use crate::pageload::model::{
    ClientBy, CloseKind, Side, TcpClose, TcpInfo, TcpOptions, TeardownFlags, TeardownStep,
};
use crate::time::{ms_between, Ts};
use crate::warning::WarningKind;
use reassembly::{Reassembler, SeqNum, StreamSink, DEFAULT_OOO_CAP};

pub const CLOSE_GRACE_NANOS: i64 = 5_000_000_000;
/// Zeek's default `tcp_inactivity_timeout` is 5 minutes.
pub const IDLE_TIMEOUT_NANOS: i64 = 300_000_000_000;
pub const MAX_CONNECTIONS: usize = 100_000;
/// Teardown steps kept in `close.sequence`.
const MAX_SEQUENCE: usize = 12;

/// An endpoint: address and port.
pub type Endpoint = (IpAddr, u16);

/// The canonical 5-tuple of a TCP connection (lower endpoint first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey(Endpoint, Endpoint);

impl FlowKey {
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if a <= b {
            FlowKey(a, b)
        } else {
            FlowKey(b, a)
        }
    }
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
    /// Both FINs seen or a RST: no more data, waiting out the grace period.
    Closed,
}

/// Configuration of the TCP stage.
#[derive(Debug, Clone, Copy)]
pub struct TcpConfig {
    pub ooo_cap: usize,
    pub max_connections: usize,
    /// Passed on to the HTTP dissectors (`--body-hash`).
    pub body_hash: bool,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            ooo_cap: DEFAULT_OOO_CAP,
            max_connections: MAX_CONNECTIONS,
            body_hash: false,
        }
    }
}

/// One TCP connection in progress.
pub struct TcpConn {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub client_by: ClientBy,
    pub info: TcpInfo,
    pub first_ts: Ts,
    pub last_ts: Ts,
    pub first_frame: u64,
    re: [Reassembler; 2],
    fin_seq: [Option<SeqNum>; 2],
    fin_acked: [bool; 2],
    last_syn_ts: Option<Ts>,
    /// Per direction: the last ACK number sent, its window, how many pure ACKs repeated it,
    /// and when the last of them was seen.
    acks: [Option<(u32, u16, u32, Ts)>; 2],
    state: State,
    closed_ts: Option<Ts>,
    pub app: App,
    pub ctx: StreamCtx,
}

/// Hands reassembled bytes to the application dissector.
struct AppSink<'a> {
    app: &'a mut App,
    ctx: &'a mut StreamCtx,
    keys: &'a KeyLog,
}

impl StreamSink for AppSink<'_> {
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8]) {
        self.app.handle_data(dir, ts, bytes, self.ctx, self.keys);
    }
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts) {
        self.ctx.warn(
            WarningKind::Gap,
            format!("{len} bytes {} never captured", dir_words(dir)),
        );
        self.app.handle_gap(dir, len, ts, self.ctx, self.keys);
    }
}

fn dir_words(dir: Dir) -> &'static str {
    match dir {
        Dir::ToServer => "from the client",
        Dir::ToClient => "from the server",
    }
}

fn side(dir: Dir) -> Side {
    match dir {
        Dir::ToServer => Side::Client,
        Dir::ToClient => Side::Server,
    }
}

fn arrow(dir: Dir, flags: TeardownFlags) -> TeardownStep {
    TeardownStep {
        from: side(dir),
        flags,
    }
}

impl TcpConn {
    fn new(
        id: u64,
        client: Endpoint,
        server: Endpoint,
        client_by: ClientBy,
        ts: Ts,
        frame: u64,
        cfg: &TcpConfig,
    ) -> TcpConn {
        TcpConn {
            id,
            client,
            server,
            client_by,
            info: TcpInfo {
                close: TcpClose::default(),
                ..TcpInfo::default()
            },
            first_ts: ts,
            last_ts: ts,
            first_frame: frame,
            re: [
                Reassembler::new(Dir::ToServer, cfg.ooo_cap),
                Reassembler::new(Dir::ToClient, cfg.ooo_cap),
            ],
            fin_seq: [None, None],
            fin_acked: [false, false],
            last_syn_ts: None,
            acks: [None, None],
            state: State::Open,
            closed_ts: None,
            app: App::new(AppConfig {
                server_port: server.1,
                client_port: client.1,
                server_authority: authority(server),
                body_hash: cfg.body_hash,
                in_tls: false,
            }),
            ctx: StreamCtx::new(),
        }
    }

    pub fn client_str(&self) -> String {
        endpoint(self.client.0, self.client.1)
    }

    pub fn server_str(&self) -> String {
        endpoint(self.server.0, self.server.1)
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn push_step(&mut self, step: TeardownStep) {
        if self.info.close.sequence.len() < MAX_SEQUENCE {
            self.info.close.sequence.push(step);
        }
    }

    fn begin_close(&mut self, kind: CloseKind, dir: Dir, ts: Ts) {
        if self.info.close.kind == CloseKind::Open {
            self.info.close.kind = kind;
            self.info.close.initiator = Some(side(dir));
            self.info.close.ts = Some(ts);
        }
    }

    /// Handles one segment travelling in `dir`.
    pub fn handle_segment(
        &mut self,
        dir: Dir,
        ts: Ts,
        frame: u64,
        seg: &TcpSegment<'_>,
        keys: &KeyLog,
    ) {
        let d = dir.index();
        self.last_ts = ts;
        self.ctx.packet = frame;
        let f = seg.flags;
        match dir {
            Dir::ToServer => self.info.packets.client += 1,
            Dir::ToClient => self.info.packets.server += 1,
        }
        if seg.window == 0 && !f.syn() && !f.fin() && !f.rst() {
            match dir {
                Dir::ToServer => self.info.zero_window.client += 1,
                Dir::ToClient => self.info.zero_window.server += 1,
            }
        }

        // Handshake.
        if f.syn() && !f.ack() && dir == Dir::ToServer {
            self.last_syn_ts = Some(ts);
            if self.info.syn_ts.is_none() {
                self.info.syn_ts = Some(ts);
                self.info.client_isn = Some(seg.seq);
                self.info.options = options(seg);
                self.re[0].set_isn(SeqNum(seg.seq));
            } else {
                self.count_retransmission(dir);
            }
        } else if f.syn() && f.ack() && dir == Dir::ToClient {
            if self.info.synack_ts.is_none() {
                self.info.synack_ts = Some(ts);
                self.info.server_isn = Some(seg.seq);
                self.info.server_options = options(seg);
                self.re[1].set_isn(SeqNum(seg.seq));
                let ok = self
                    .info
                    .client_isn
                    .map(|isn| isn.wrapping_add(1) == seg.ack);
                self.info.handshake_valid = ok;
                if ok == Some(false) {
                    self.ctx.warn(
                        WarningKind::Tcp,
                        "the SYN/ACK does not acknowledge the client's ISN+1",
                    );
                }
            } else {
                self.count_retransmission(dir);
            }
        }
        if f.ack() && !f.syn() && self.info.ack_ts.is_none() {
            if let Some(syn_ts) = self.last_syn_ts {
                self.info.ack_ts = Some(ts);
                self.info.handshake_ms = ms_between(Some(syn_ts), Some(ts));
                let rtt = ts.nanos().saturating_sub(syn_ts.nanos());
                self.re[0].set_rtt(rtt);
                self.re[1].set_rtt(rtt);
                if dir == Dir::ToServer {
                    if let Some(isn) = self.info.server_isn {
                        let ok = isn.wrapping_add(1) == seg.ack;
                        self.info.handshake_valid =
                            Some(self.info.handshake_valid.unwrap_or(true) && ok);
                        if !ok {
                            self.ctx.warn(
                                WarningKind::Tcp,
                                "the handshake's ACK does not acknowledge the server's ISN+1",
                            );
                        }
                    }
                }
            }
        }

        // The peer's ACK proves what it received: holes below it are capture loss.
        let other = 1 - d;
        if f.ack() {
            // The FIN occupies one sequence number that carries no byte.
            let mut ack = SeqNum(seg.ack);
            if let Some(fs) = self.fin_seq[other] {
                if ack.diff(fs) > 0 {
                    ack = fs;
                }
            }
            let mut sink = AppSink {
                app: &mut self.app,
                ctx: &mut self.ctx,
                keys,
            };
            self.re[other].ack(ack, ts, &mut sink);
            if let Some(fs) = self.fin_seq[other] {
                if !self.fin_acked[other] && SeqNum(seg.ack).diff(fs.plus(1)) >= 0 {
                    self.fin_acked[other] = true;
                    if f.fin() && self.fin_seq[d].is_none() {
                        self.push_step(arrow(dir, TeardownFlags::FinAck));
                    } else {
                        self.push_step(arrow(dir, TeardownFlags::Ack));
                    }
                }
            }
        }

        // Payload.
        let data_seq = SeqNum(seg.seq).plus(u32::from(f.syn()));
        if !seg.payload.is_empty() {
            if self.state == State::Closed && !f.syn() {
                // Data after the close: a retransmission or the tail of a RST race.
                self.count_retransmission(dir);
            } else {
                // Wireshark's fast retransmission: two or more duplicate ACKs asked for exactly
                // this segment, the last of them less than 20 ms ago.
                let asked = self.acks[other].is_some_and(|(a, _, dups, at)| {
                    dups >= 2
                        && a == data_seq.0
                        && ts.nanos().saturating_sub(at.nanos()) < 20_000_000
                });
                let mut sink = AppSink {
                    app: &mut self.app,
                    ctx: &mut self.ctx,
                    keys,
                };
                let v =
                    self.re[d].segment_after_dupacks(data_seq, seg.payload, ts, asked, &mut sink);
                if v.retransmission {
                    self.count_retransmission(dir);
                }
                if v.out_of_order {
                    match dir {
                        Dir::ToServer => self.info.out_of_order.client += 1,
                        Dir::ToClient => self.info.out_of_order.server += 1,
                    }
                }
                if v.hit_cap {
                    self.ctx.warn(
                        WarningKind::Cap,
                        "out-of-order buffer full: the hole before it was declared lost",
                    );
                }
            }
        }

        // Duplicate ACKs (RFC 5681 section 2: no data, no SYN/FIN, same ACK and window).
        if f.ack() {
            let pure = seg.payload.is_empty() && !f.syn() && !f.fin() && !f.rst();
            self.acks[d] = match self.acks[d] {
                Some((a, w, dups, _)) if pure && a == seg.ack && w == seg.window => {
                    Some((a, w, dups + 1, ts))
                }
                _ => Some((seg.ack, seg.window, 0, ts)),
            };
        }

        // Teardown.
        if f.fin() {
            let fin_at = data_seq.plus(seg.payload.len() as u32);
            match self.fin_seq[d] {
                None => {
                    self.fin_seq[d] = Some(fin_at);
                    self.begin_close(CloseKind::Fin, dir, ts);
                    let acked_peer = self
                        .info
                        .close
                        .sequence
                        .last()
                        .is_some_and(|s| s.flags == TeardownFlags::FinAck);
                    if !acked_peer {
                        self.push_step(arrow(dir, TeardownFlags::Fin));
                    }
                }
                Some(_) => self.count_retransmission(dir),
            }
        }
        if f.rst() {
            self.begin_close(CloseKind::Rst, dir, ts);
            self.push_step(arrow(dir, TeardownFlags::Rst));
            self.close(ts, keys);
        } else if self.fin_seq[0].is_some()
            && self.fin_seq[1].is_some()
            && self.state == State::Open
        {
            self.close(ts, keys);
        }
    }

    fn count_retransmission(&mut self, dir: Dir) {
        match dir {
            Dir::ToServer => self.info.retransmissions.client += 1,
            Dir::ToClient => self.info.retransmissions.server += 1,
        }
    }

    /// No more data will flow: deliver what is buffered and tell the dissector.
    fn close(&mut self, ts: Ts, keys: &KeyLog) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.closed_ts = Some(ts);
        self.flush(ts, keys);
    }

    fn flush(&mut self, ts: Ts, keys: &KeyLog) {
        let mut sink = AppSink {
            app: &mut self.app,
            ctx: &mut self.ctx,
            keys,
        };
        self.re[0].flush(ts, &mut sink);
        self.re[1].flush(ts, &mut sink);
        self.app.handle_close(ts, &mut self.ctx, keys);
    }

    /// Ends the connection for good (end of capture, expiry, eviction).
    pub fn finish(&mut self, keys: &KeyLog) {
        if self.state == State::Open {
            let ts = self.last_ts;
            self.flush(ts, keys);
            self.state = State::Closed;
        }
        self.info.bytes.client = self.re[0].delivered_bytes();
        self.info.bytes.server = self.re[1].delivered_bytes();
        self.info.gaps.client = self.re[0].gap_bytes();
        self.info.gaps.server = self.re[1].gap_bytes();
    }

    /// Whether a SYN seen now starts a new connection on this 5-tuple.
    fn is_reused_by(&self, seg: &TcpSegment<'_>) -> bool {
        self.state == State::Closed
            || (self.info.client_isn.is_some_and(|isn| isn != seg.seq)
                && (self.info.synack_ts.is_some() || self.re[0].delivered_bytes() > 0))
    }
}

/// The server as a URL authority: the port only when it is not 80 or 443.
fn authority(server: Endpoint) -> String {
    let host = match server.0 {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    match server.1 {
        80 | 443 => host,
        p => format!("{host}:{p}"),
    }
}

fn options(seg: &TcpSegment<'_>) -> TcpOptions {
    let o = seg.options();
    TcpOptions {
        mss: o.mss,
        wscale: o.wscale,
        sack: o.sack_permitted,
        timestamps: o.timestamps,
        fastopen: o.fastopen,
    }
}

/// A small, fast hasher for flow keys (FxHash's multiply-rotate): keys are not chosen by
/// an attacker who can see the hash, and SipHash would cost a tenth of the pipeline.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64)
    }
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i)
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64)
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

/// All live connections, addressed by small `Copy` handles (slab indices).
pub struct FlowTable {
    cfg: TcpConfig,
    map: HashMap<FlowKey, usize, FxBuild>,
    slab: Vec<Option<TcpConn>>,
    free: Vec<usize>,
    next_id: u64,
    /// Connections that ended, waiting to be collected by the pipeline.
    finished: Vec<TcpConn>,
    pub evicted: u64,
    /// TLS session secrets, available to every connection.
    keys: KeyLog,
}

impl FlowTable {
    pub fn new(cfg: TcpConfig) -> FlowTable {
        FlowTable {
            cfg,
            map: HashMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            next_id: 1,
            finished: Vec::new(),
            evicted: 0,
            keys: KeyLog::new(),
        }
    }

    /// Adds NSS key log text; connections decrypt with it from now on.
    pub fn add_keylog_text(&mut self, text: &str) -> crate::decrypt::KeyLogStats {
        self.keys.add_text(text)
    }

    pub fn keys(&self) -> &KeyLog {
        &self.keys
    }

    pub fn live(&self) -> usize {
        self.map.len()
    }

    /// Handles a segment between `src` and `dst`.
    pub fn handle(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        ts: Ts,
        frame: u64,
        seg: &TcpSegment<'_>,
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
                    self.finish_slot(slot);
                    self.map.remove(&key);
                    self.open(key, src, dst, ts, frame, seg)
                } else {
                    slot
                }
            }
            None => self.open(key, src, dst, ts, frame, seg),
        };
        let Some(conn) = self.slab[slot].as_mut() else {
            return;
        };
        let dir = if src == conn.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        conn.handle_segment(dir, ts, frame, seg, &self.keys);
    }

    fn open(
        &mut self,
        key: FlowKey,
        src: Endpoint,
        dst: Endpoint,
        ts: Ts,
        frame: u64,
        seg: &TcpSegment<'_>,
    ) -> usize {
        if self.map.len() >= self.cfg.max_connections {
            self.evict_oldest();
        }
        let f = seg.flags;
        let (client, server, by) = if f.syn() && !f.ack() {
            (src, dst, ClientBy::Syn)
        } else if f.syn() && f.ack() {
            (dst, src, ClientBy::SynAck)
        } else if is_service_port(dst.1) && !is_service_port(src.1) {
            (src, dst, ClientBy::Port)
        } else if is_service_port(src.1) && !is_service_port(dst.1) {
            (dst, src, ClientBy::Port)
        } else if is_service_port(src.1) && is_service_port(dst.1) && src.1 != dst.1 {
            // Both look like services: the lower port is the server.
            if src.1 < dst.1 {
                (dst, src, ClientBy::Port)
            } else {
                (src, dst, ClientBy::Port)
            }
        } else {
            (src, dst, ClientBy::FirstPacket)
        };
        let id = self.next_id;
        self.next_id += 1;
        let conn = TcpConn::new(id, client, server, by, ts, frame, &self.cfg);
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
        slot
    }

    fn finish_slot(&mut self, slot: usize) {
        if let Some(mut c) = self.slab[slot].take() {
            c.finish(&self.keys);
            self.finished.push(c);
            self.free.push(slot);
        }
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .map
            .iter()
            .filter_map(|(k, &s)| self.slab[s].as_ref().map(|c| (c.last_ts, *k, s)))
            .min_by_key(|(t, _, _)| *t);
        if let Some((_, key, slot)) = oldest {
            self.map.remove(&key);
            if let Some(c) = self.slab[slot].as_mut() {
                c.ctx.warn(
                    WarningKind::Cap,
                    "flow table full: connection finished early",
                );
            }
            self.finish_slot(slot);
            self.evicted += 1;
        }
    }

    /// Finishes closed connections past their grace period and idle ones.
    pub fn expire(&mut self, now: Ts) {
        let mut done: Vec<(FlowKey, usize)> = Vec::new();
        for (k, &s) in &self.map {
            if let Some(c) = &self.slab[s] {
                let idle = now.nanos().saturating_sub(c.last_ts.nanos());
                let closed_for = c.closed_ts.map(|t| now.nanos().saturating_sub(t.nanos()));
                if closed_for.is_some_and(|d| d > CLOSE_GRACE_NANOS) || idle > IDLE_TIMEOUT_NANOS {
                    done.push((*k, s));
                }
            }
        }
        for (k, s) in done {
            self.map.remove(&k);
            self.finish_slot(s);
        }
    }

    /// Finishes every connection (end of capture).
    pub fn finish_all(&mut self) {
        let slots: Vec<usize> = self.map.drain().map(|(_, s)| s).collect();
        for s in slots {
            self.finish_slot(s);
        }
    }

    /// Takes the connections that have ended since the last call.
    pub fn take_finished(&mut self) -> Vec<TcpConn> {
        std::mem::take(&mut self.finished)
    }
}
