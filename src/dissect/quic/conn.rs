//! One QUIC connection: its packets, their protection, and what they carry.
//!
//! ```text
//!  datagram ─► packets (coalesced, RFC 9000 12.2)
//!    Initial   ── keys from the client's first DCID (RFC 9001 5.2) ─┐
//!    Handshake ── key log: *_HANDSHAKE_TRAFFIC_SECRET ──────────────┤─► frames
//!    0-RTT     ── key log: CLIENT_EARLY_TRAFFIC_SECRET ─────────────┤
//!    1-RTT     ── key log: *_TRAFFIC_SECRET_0, key updates ──────────┘
//!  frames ─┬─ CRYPTO (Initial, Handshake) ─► reassembly ─► TLS handshake parser
//!          │                                 (ClientHello, ServerHello, EncryptedExtensions,
//!          │                                  Certificate, Finished: the same parser as TCP's)
//!          ├─ STREAM, RESET_STREAM, STOP_SENDING ─► stream reassembly ─► the caller's
//!          │                                 [`QuicHandler`] (HTTP/3, DNS over QUIC)
//!          ├─ CONNECTION_CLOSE, HANDSHAKE_DONE ─► facts
//!          └─ NEW_CONNECTION_ID ─► the table's connection-ID index (migration)
//! ```
//!
//! Without a key log only Initial packets open (anyone on the path can read them): the
//! hellos, SNI, offered ALPN and cipher. With one, everything the endpoints saw. A packet
//! that does not authenticate is counted and never parsed; nothing unauthenticated goes
//! upward. With a key log still being written, packets that came before their keys are
//! kept a while and opened when the keys come ([`super::late`]). The Destination
//! Connection ID of a short header is not delimited on the wire:
//! its length is that of a connection ID the receiving side issued (its long headers'
//! Source Connection IDs, its NEW_CONNECTION_ID frames).

use std::net::SocketAddr;

use super::crypto::InitialKeyPair;
use super::frame::{parse_frames_in, skip_extension, FrameError, PacketKind, QuicFrame};
use super::keys::{ConnKeys, Level, Session};
use super::late::{KeptKind, KeptPacket, KeptPackets};
use super::packet::{parse_packet, LongType, QuicError, QuicPacket, V1};
use super::streams::{QuicStreams, StreamEvent, StreamId, StreamLimits, StreamStats};
use crate::decrypt::KeyLog;
use crate::dissect::stream::StreamCtx;
use crate::dissect::tls::{names, TlsDissector, TlsFacts};
use crate::net::flow::Dir;
use crate::tcp::events::RttSamples;
use crate::time::Ts;
use crate::warning::{Warning, WarningKind};

/// A connection idle this long (capture time) is finished. RFC 9000 10.1 leaves the idle
/// timeout to the endpoints; browsers use 30 s.
pub const IDLE_NANOS: i64 = 30_000_000_000;
/// Most connection IDs remembered per side.
const MAX_CIDS: usize = 16;

/// The warning of a connection whose client random no key log line names (counted by this
/// exact text in the CLI's summary on standard error, as TLS's [`crate::dissect::tls::NO_SECRETS`]).
pub const NO_SECRETS: &str = "QUIC: the key log has no secrets for this connection's client random";

/// Which side sent a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The direction of what this side sends.
    pub fn dir(self) -> Dir {
        match self {
            Side::Client => Dir::ToServer,
            Side::Server => Dir::ToClient,
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// How the client of a QUIC connection was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicClientBy {
    /// The sender of the first long header.
    Initial,
    /// The side not on port 443 (the client's first Initial was not captured).
    Port,
}

/// Long header packet counts of one direction, by type; `one_rtt` counts short headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketCounts {
    pub initial: u64,
    pub zero_rtt: u64,
    pub handshake: u64,
    pub retry: u64,
    pub one_rtt: u64,
    pub version_negotiation: u64,
}

/// A CONNECTION_CLOSE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    pub ts: Ts,
    pub from: Side,
    /// Frame 0x1d (an application's error code) rather than 0x1c (a transport error).
    pub application: bool,
    pub error_code: u64,
    pub frame_type: Option<u64>,
    pub reason: String,
}

/// Packets opened with keys from the key log, and those that could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decryption {
    pub handshake: u64,
    pub zero_rtt: u64,
    pub one_rtt: u64,
    /// Protected packets that came before their keys were known (or had none).
    pub no_keys: u64,
    /// Packets that did not authenticate.
    pub failed: u64,
    /// 1-RTT key updates followed (RFC 9001 6), client and server.
    pub key_updates: [u32; 2],
}

/// The client's or the server's address changed mid-connection (migration or NAT
/// rebinding, RFC 9000 9): the packet came from `addr`, known by its connection ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressChange {
    pub ts: Ts,
    pub side: Side,
    pub addr: SocketAddr,
}

/// Everything seen of one QUIC connection; indexed `[client, server]` where per side.
#[derive(Debug, Clone)]
pub struct QuicFacts {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_by: QuicClientBy,
    /// The version of the first long header.
    pub version: Option<u32>,
    /// Every version seen in long headers, in order (0 for Version Negotiation).
    pub versions: Vec<u32>,
    /// The client's first Destination and Source Connection IDs, and the server's Source
    /// Connection ID from its first long header.
    pub dcid: Vec<u8>,
    pub scid: Vec<u8>,
    pub server_scid: Option<Vec<u8>>,
    pub first_ts: Ts,
    pub last_ts: Ts,
    /// Frame numbers of its first and last datagram.
    pub first_frame: u64,
    pub last_frame: u64,
    /// QUIC packets (coalesced ones counted one by one), UDP payload bytes, datagrams.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub datagrams: [u64; 2],
    pub packet_counts: [PacketCounts; 2],
    pub client_initial_ts: Option<Ts>,
    pub server_initial_ts: Option<Ts>,
    pub server_handshake_ts: Option<Ts>,
    /// The server's HANDSHAKE_DONE (RFC 9001 4.1.2: the handshake is confirmed).
    pub handshake_done_ts: Option<Ts>,
    pub initials_decrypted: u64,
    pub initials_failed: u64,
    /// `None` when no key log had secrets for this connection.
    pub decryption: Option<Decryption>,
    pub closes: Vec<CloseFrame>,
    pub address_changes: Vec<AddressChange>,
    /// The TLS handshake: the hellos from Initial packets, the rest once decrypted.
    /// Boxed: absent from Initials that did not open (a flood's), and most of the size.
    pub tls: Option<Box<TlsFacts>>,
    pub streams: StreamStats,
    pub warnings: Vec<Warning>,
    /// Round-trip samples per side (client, server) of that side's packets: from a packet
    /// to the peer's ACK frame whose largest acknowledged it is, less the ACK delay the peer
    /// reported (1-RTT packets; RFC 9002 5.3), as the capture saw them.
    pub rtt: [RttSamples; 2],
}

/// Packets remembered per side and packet number space, for round-trip samples.
const RECENT_PNS: usize = 16;

/// The latest packets of one side in one packet number space: number and capture time.
#[derive(Debug, Clone, Copy, Default)]
struct RecentPns {
    at: [(u64, i64); RECENT_PNS],
    next: usize,
    /// The largest packet number a sample was taken for (each is sampled once).
    sampled: Option<u64>,
}

impl RecentPns {
    fn note(&mut self, pn: u64, ts: Ts) {
        self.at[self.next % RECENT_PNS] = (pn, ts.nanos());
        self.next += 1;
    }

    /// When packet `pn` was seen, once: the first ACK naming it as its largest.
    fn sample(&mut self, pn: u64) -> Option<i64> {
        if self.sampled.is_some_and(|s| s >= pn) {
            return None;
        }
        let seen = self.at.iter().take(self.next).find(|(n, _)| *n == pn)?;
        self.sampled = Some(pn);
        Some(seen.1)
    }
}

/// What the connection tells the stage above it (the application on its streams).
pub trait QuicHandler<A> {
    /// A new connection: the state to keep for it.
    fn open(&mut self, meta: &QuicMeta) -> A;
    /// The next event of an application stream, with the ALPN the handshake agreed on (or
    /// the only one the client offered) when known.
    fn stream(
        &mut self,
        app: &mut A,
        alpn: Option<&str>,
        ev: &StreamEvent<'_>,
        ctx: &mut StreamCtx,
    );
    /// The connection ended: no more stream events.
    fn closed(&mut self, app: &mut A, ts: Ts, ctx: &mut StreamCtx);
}

/// What is known of a connection when it opens.
#[derive(Debug, Clone, Copy)]
pub struct QuicMeta {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// Packet number spaces (RFC 9000 12.3).
const INITIAL: usize = 0;
const HANDSHAKE: usize = 1;
const APPLICATION: usize = 2;

/// State of one QUIC connection, and the caller's state for it (`A`).
pub struct QuicConn<A> {
    pub(super) facts: QuicFacts,
    pub(super) client: SocketAddr,
    version: Option<u32>,
    initial: Option<InitialKeyPair>,
    /// The version the Initial keys were derived for, and from which DCID.
    keys_version: Option<u32>,
    key_dcid: Vec<u8>,
    retry_seen: bool,
    keys: ConnKeys,
    /// Largest packet number opened, per side and packet number space.
    largest_pn: [[Option<u64>; 3]; 2],
    /// The latest packets opened, per side and packet number space (round-trip samples).
    recent: [[RecentPns; 3]; 2],
    /// CRYPTO data per level (pseudo stream 0: Initial, 1: Handshake), both directions.
    crypto: QuicStreams,
    /// Whether each side's Handshake-level CRYPTO has started.
    handshake_level: [bool; 2],
    tls: TlsDissector,
    streams: QuicStreams,
    pub(super) app: A,
    ctx: StreamCtx,
    /// Connection IDs each side issued (long header SCIDs, NEW_CONNECTION_ID), and the ones
    /// the table has not indexed yet.
    pub(super) cids: [Vec<Vec<u8>>; 2],
    pub(super) new_cids: Vec<(Side, Vec<u8>)>,
    closed: bool,
    /// Reused buffers: the unprotected header (AAD) and a packet's plaintext.
    header: Vec<u8>,
    plain: Vec<u8>,
    /// Packets waiting for keys a growing key log has not brought yet.
    kept: KeptPackets,
}

/// A datagram's context: when, which frame, from whom, with which key log.
struct Pkt<'k> {
    ts: Ts,
    frame: u64,
    side: Side,
    log: &'k KeyLog,
}

impl<A> QuicConn<A> {
    pub(super) fn new(
        meta: QuicMeta,
        by: QuicClientBy,
        (ts, frame): (Ts, u64),
        app: A,
    ) -> QuicConn<A> {
        let crypto_limits = StreamLimits {
            max_streams: 4,
            ..StreamLimits::default()
        };
        QuicConn {
            facts: QuicFacts {
                id: meta.id,
                client: meta.client,
                server: meta.server,
                client_by: by,
                version: None,
                versions: Vec::new(),
                dcid: Vec::new(),
                scid: Vec::new(),
                server_scid: None,
                first_ts: ts,
                last_ts: ts,
                first_frame: frame,
                last_frame: frame,
                packets: [0; 2],
                bytes: [0; 2],
                datagrams: [0; 2],
                packet_counts: [PacketCounts::default(), PacketCounts::default()],
                client_initial_ts: None,
                server_initial_ts: None,
                server_handshake_ts: None,
                handshake_done_ts: None,
                initials_decrypted: 0,
                initials_failed: 0,
                decryption: None,
                closes: Vec::new(),
                address_changes: Vec::new(),
                tls: None,
                streams: StreamStats::default(),
                warnings: Vec::new(),
                rtt: [RttSamples::default(); 2],
            },
            client: meta.client,
            version: None,
            initial: None,
            keys_version: None,
            key_dcid: Vec::new(),
            retry_seen: false,
            keys: ConnKeys::default(),
            largest_pn: [[None; 3]; 2],
            recent: [[RecentPns::default(); 3]; 2],
            crypto: QuicStreams::new(crypto_limits),
            handshake_level: [false; 2],
            tls: TlsDissector::new(),
            streams: QuicStreams::new(StreamLimits::default()),
            app,
            ctx: StreamCtx::new(),
            cids: [Vec::new(), Vec::new()],
            new_cids: Vec::new(),
            closed: false,
            header: Vec::new(),
            plain: Vec::new(),
            kept: KeptPackets::default(),
        }
    }

    pub(super) fn last_ts(&self) -> Ts {
        self.facts.last_ts
    }

    pub(super) fn id(&self) -> u64 {
        self.facts.id
    }

    fn warn(&mut self, frame: u64, kind: WarningKind, msg: String) {
        self.ctx.packet = frame;
        self.ctx.warn(kind, msg);
    }

    fn counts(&mut self, side: Side) -> &mut PacketCounts {
        &mut self.facts.packet_counts[side.index()]
    }

    fn add_version(&mut self, v: u32) {
        if !self.facts.versions.contains(&v) {
            self.facts.versions.push(v);
        }
        if v != 0 && self.version.is_none() {
            self.version = Some(v);
            self.facts.version = Some(v);
        }
    }

    /// A connection ID `side` issued.
    fn issued(&mut self, side: Side, cid: &[u8]) {
        let list = &mut self.cids[side.index()];
        if list.len() < MAX_CIDS && !list.iter().any(|c| c == cid) {
            list.push(cid.to_vec());
            self.new_cids.push((side, cid.to_vec()));
        }
    }

    /// The packet came from a new address of a known side (the table matched its
    /// connection ID).
    pub(super) fn moved(&mut self, ts: Ts, side: Side, addr: SocketAddr) {
        if self.facts.address_changes.len() < MAX_CIDS {
            self.facts
                .address_changes
                .push(AddressChange { ts, side, addr });
        }
        if side == Side::Client {
            self.client = addr;
        }
    }

    /// One UDP datagram: every coalesced packet in it (RFC 9000 12.2).
    pub(super) fn handle_datagram<H: QuicHandler<A>>(
        &mut self,
        (ts, frame, side): (Ts, u64, Side),
        dgram: &[u8],
        log: &KeyLog,
        h: &mut H,
    ) {
        self.facts.last_ts = self.facts.last_ts.max(ts);
        self.facts.last_frame = self.facts.last_frame.max(frame);
        self.facts.datagrams[side.index()] += 1;
        self.facts.bytes[side.index()] += dgram.len() as u64;
        let p = Pkt {
            ts,
            frame,
            side,
            log,
        };
        let mut rest = dgram;
        let mut first = true;
        while !rest.is_empty() {
            // RFC 9000 14.1: a datagram may be padded with zeros after its last packet;
            // those are not a packet. (The fixed bit cannot decide: a peer that greases it,
            // RFC 9287, clears it in coalesced packets too.)
            if !first && rest.iter().all(|&b| b == 0) {
                break;
            }
            first = false;
            let (pkt, len) = match parse_packet(rest) {
                Ok(p) => p,
                Err(e) => {
                    let kind = match e {
                        QuicError::Truncated(_) => WarningKind::Truncated,
                        _ => WarningKind::Malformed,
                    };
                    self.warn(frame, kind, format!("QUIC packet: {e}"));
                    break;
                }
            };
            self.facts.packets[side.index()] += 1;
            self.handle_packet(&p, pkt, h);
            rest = rest.get(len..).unwrap_or(&[]);
        }
    }

    fn handle_packet<H: QuicHandler<A>>(&mut self, p: &Pkt<'_>, pkt: QuicPacket<'_>, h: &mut H) {
        if let Some(v) = pkt.version() {
            self.add_version(v);
        }
        let side = p.side;
        match pkt {
            QuicPacket::Short { bytes } => {
                self.counts(side).one_rtt += 1;
                if !self.keep(p, KeptKind::Short, bytes, h) {
                    self.open_short(p, bytes, h);
                }
            }
            QuicPacket::VersionNegotiation { .. } => self.counts(side).version_negotiation += 1,
            QuicPacket::Retry { .. } => {
                self.counts(side).retry += 1;
                if side == Side::Server {
                    // RFC 9001 5.2: after a Retry the client's next Initial uses the DCID
                    // the server chose, and the Initial keys are derived from it.
                    self.retry_seen = true;
                }
            }
            QuicPacket::Long {
                kind,
                version,
                dcid,
                scid,
                pn_offset,
                bytes,
                ..
            } => {
                self.long_header(p, kind, version, (dcid, scid));
                match kind {
                    LongType::Initial => self.open_initial(p, version, bytes, pn_offset, h),
                    LongType::Handshake | LongType::ZeroRtt => {
                        let kept = KeptKind::Long { kind, pn_offset };
                        if !self.keep(p, kept, bytes, h) {
                            self.open_long(p, kind, bytes, pn_offset, h)
                        }
                    }
                    LongType::Retry => {}
                }
            }
        }
    }

    /// Keys that come late ([`super::late`]): replays what was kept if the key log moved,
    /// then keeps this packet if something is still kept (order) or its keys are missing.
    /// False when the packet is to be opened now.
    fn keep<H: QuicHandler<A>>(
        &mut self,
        p: &Pkt<'_>,
        kind: KeptKind,
        bytes: &[u8],
        h: &mut H,
    ) -> bool {
        if !p.log.growing() {
            return false;
        }
        if !self.kept.is_empty() && self.kept.tried_at != p.log.generation() {
            self.replay_kept(p.log, h, false);
        }
        if self.kept.is_empty() && (self.kept.closed || !self.waits(p.side, kind, p.log)) {
            return false;
        }
        let k = KeptPacket {
            ts: p.ts,
            frame: p.frame,
            side: p.side,
            kind,
            bytes: bytes.to_vec(),
        };
        if self.kept.push(k).is_err() {
            // Past the cap: what was kept goes as it can, then this packet; no more keeping.
            self.kept.closed = true;
            self.replay_kept(p.log, h, true);
            return false;
        }
        self.kept.tried_at = p.log.generation();
        true
    }

    /// Whether a Handshake or 1-RTT packet of `side` waits for keys the key log cannot
    /// build yet (the hellos gave the client random and the suite).
    fn waits(&mut self, side: Side, kind: KeptKind, log: &KeyLog) -> bool {
        let level = match kind {
            KeptKind::Long {
                kind: LongType::Handshake,
                ..
            } => Level::Handshake,
            KeptKind::Short => Level::OneRtt,
            KeptKind::Long { .. } => return false,
        };
        let Some(session) = self.session().filter(|_| self.tls.cipher_id().is_some()) else {
            return false;
        };
        !self.keys.ensure(level, side.dir(), Some(session), log)
    }

    /// Opens the kept packets in order, each with its own time and frame, up to the first
    /// whose keys are still missing (or all of them with `all`).
    fn replay_kept<H: QuicHandler<A>>(&mut self, log: &KeyLog, h: &mut H, all: bool) {
        while let Some((side, kind)) = self.kept.front() {
            if !all && self.waits(side, kind, log) {
                break;
            }
            let Some(k) = self.kept.pop() else {
                break;
            };
            let p = Pkt {
                ts: k.ts,
                frame: k.frame,
                side: k.side,
                log,
            };
            match k.kind {
                KeptKind::Long { kind, pn_offset } => {
                    self.open_long(&p, kind, &k.bytes, pn_offset, h)
                }
                KeptKind::Short => self.open_short(&p, &k.bytes, h),
            }
        }
        self.kept.tried_at = log.generation();
    }

    /// Counts, timestamps and connection IDs of a long header.
    fn long_header(
        &mut self,
        p: &Pkt<'_>,
        kind: LongType,
        version: u32,
        (dcid, scid): (&[u8], &[u8]),
    ) {
        let (ts, side) = (p.ts, p.side);
        match kind {
            LongType::Initial => self.counts(side).initial += 1,
            LongType::ZeroRtt => self.counts(side).zero_rtt += 1,
            LongType::Handshake => self.counts(side).handshake += 1,
            LongType::Retry => {}
        }
        if side == Side::Server && self.facts.server_scid.is_none() {
            self.facts.server_scid = Some(scid.to_vec());
        }
        self.issued(side, scid);
        match (side, kind) {
            (Side::Client, LongType::Initial) => {
                if self.facts.client_initial_ts.is_none() {
                    self.facts.client_initial_ts = Some(ts);
                    self.facts.dcid = dcid.to_vec();
                    self.facts.scid = scid.to_vec();
                }
                if self.initial.is_none() || (self.retry_seen && dcid != self.key_dcid) {
                    self.initial = InitialKeyPair::new(version, dcid);
                    self.keys_version = Some(version);
                    self.key_dcid = dcid.to_vec();
                    self.retry_seen = false;
                }
            }
            (Side::Server, LongType::Initial) => {
                self.facts.server_initial_ts.get_or_insert(ts);
            }
            (Side::Server, LongType::Handshake) => {
                self.facts.server_handshake_ts.get_or_insert(ts);
            }
            _ => {}
        }
    }

    fn open_initial<H: QuicHandler<A>>(
        &mut self,
        p: &Pkt<'_>,
        version: u32,
        bytes: &[u8],
        pn: usize,
        h: &mut H,
    ) {
        // Compatible version negotiation (RFC 9368 4): the server may answer a v1 Initial
        // with v2 Initials; their keys come from the same DCID with the other version's salt
        // and labels.
        if self.keys_version != Some(version) && !self.key_dcid.is_empty() {
            self.initial = InitialKeyPair::new(version, &self.key_dcid);
            self.keys_version = Some(version);
        }
        let Some(keys) = &self.initial else {
            self.facts.initials_failed += 1;
            self.warn(
                p.frame,
                WarningKind::Decrypt,
                "QUIC Initial before the client's first Initial was seen: no keys".into(),
            );
            return;
        };
        let k = match p.side {
            Side::Client => &keys.client,
            Side::Server => match keys.server() {
                Some(k) => k,
                None => {
                    self.facts.initials_failed += 1;
                    return;
                }
            },
        };
        let i = p.side.index();
        let mut plain = std::mem::take(&mut self.plain);
        match k.unprotect(
            bytes,
            pn,
            self.largest_pn[i][INITIAL],
            &mut self.header,
            &mut plain,
        ) {
            Ok(u) => {
                self.facts.initials_decrypted += 1;
                self.raise_pn(p.side, INITIAL, u.packet_number, p.ts);
                self.frames(p, PacketKind::Initial, &plain, h);
            }
            Err(e) => {
                self.facts.initials_failed += 1;
                let kind = match e {
                    QuicError::Truncated(_) => WarningKind::Truncated,
                    _ => WarningKind::Decrypt,
                };
                let msg = format!("QUIC {} Initial: {e}", p.side.name());
                self.warn(p.frame, kind, msg);
            }
        }
        self.plain = plain;
    }

    fn raise_pn(&mut self, side: Side, space: usize, pn: u64, ts: Ts) {
        let l = &mut self.largest_pn[side.index()][space];
        *l = Some(l.map_or(pn, |x| x.max(pn)));
        self.recent[side.index()][space].note(pn, ts);
    }

    /// An ACK frame `side` sent in `space` at `ts`: a round-trip sample of the peer's packet
    /// it names as largest, when that packet was seen (and not sampled before). The ACK
    /// delay counts in 1-RTT packets only, in units of 8 microseconds (the default
    /// ack_delay_exponent 3; RFC 9000 18.2).
    fn ack_sample(&mut self, side: Side, space: usize, largest: u64, delay: u64, ts: Ts) {
        let peer = 1 - side.index();
        let Some(sent) = self.recent[peer][space].sample(largest) else {
            return;
        };
        let delay_ns = if space == APPLICATION {
            (delay.min(1 << 20) as i64) * 8_000
        } else {
            0
        };
        let ns = ts.nanos().saturating_sub(sent).saturating_sub(delay_ns);
        if ns >= 0 {
            self.facts.rtt[peer].add(ns);
        }
    }

    /// The facts the key log lookup needs, once the hellos gave them. 0-RTT may come
    /// before the ServerHello: then the cipher is the client's first choice, to be tried.
    fn session(&self) -> Option<Session> {
        let client_random = self.tls.client_random()?;
        let version = self.version.unwrap_or(V1);
        // The negotiated version is the server's (compatible version negotiation).
        let version = self.keys_version.unwrap_or(version);
        Some(Session {
            client_random,
            cipher: self.tls.cipher_id().unwrap_or(0),
            version,
        })
    }

    fn decryption(&mut self) -> &mut Decryption {
        self.facts
            .decryption
            .get_or_insert_with(Decryption::default)
    }

    /// Handshake and 0-RTT packets.
    fn open_long<H: QuicHandler<A>>(
        &mut self,
        p: &Pkt<'_>,
        kind: LongType,
        bytes: &[u8],
        pn: usize,
        h: &mut H,
    ) {
        let (level, space, pk) = match kind {
            LongType::Handshake => (Level::Handshake, HANDSHAKE, PacketKind::Handshake),
            _ => (Level::ZeroRtt, APPLICATION, PacketKind::ZeroRtt),
        };
        let dir = p.side.dir();
        let session = self.session();
        let known_suite = self.tls.cipher_id().is_some();
        if level == Level::ZeroRtt && !known_suite && !self.keys.has(level, dir) {
            if let Some(s) = session {
                self.guess_zero_rtt(s, p, bytes, pn);
            }
        }
        if (known_suite || level == Level::ZeroRtt)
            && !self
                .keys
                .ensure(level, dir, session.filter(|_| known_suite), p.log)
            && !self.keys.has(level, dir)
        {
            self.no_keys(p);
            return;
        }
        let largest = self.largest_pn[p.side.index()][space];
        let mut plain = std::mem::take(&mut self.plain);
        let keys = match level {
            Level::Handshake => self.keys.handshake(dir),
            _ => self.keys.zero_rtt(),
        };
        let Some(keys) = keys else {
            self.plain = plain;
            self.no_keys(p);
            return;
        };
        match keys.unprotect_long(bytes, pn, largest, &mut self.header, &mut plain) {
            Ok(u) => {
                self.raise_pn(p.side, space, u.packet_number, p.ts);
                match level {
                    Level::Handshake => self.decryption().handshake += 1,
                    _ => self.decryption().zero_rtt += 1,
                }
                self.frames(p, pk, &plain, h);
            }
            Err(e) => self.failed(p, kind.name(), &format!("{e:?}")),
        }
        self.plain = plain;
    }

    /// 0-RTT before the ServerHello: the suites QUIC uses, until one authenticates.
    fn guess_zero_rtt(&mut self, s: Session, p: &Pkt<'_>, bytes: &[u8], pn: usize) {
        let largest = self.largest_pn[p.side.index()][APPLICATION];
        for k in self.keys.zero_rtt_guesses(s, p.log) {
            if k.unprotect_long(bytes, pn, largest, &mut self.header, &mut self.plain)
                .is_ok()
            {
                self.keys.set_zero_rtt(k);
                return;
            }
        }
    }

    /// 1-RTT packets: the DCID's length is that of a connection ID the receiver issued.
    fn open_short<H: QuicHandler<A>>(&mut self, p: &Pkt<'_>, bytes: &[u8], h: &mut H) {
        let dir = p.side.dir();
        let session = self.session().filter(|_| self.tls.cipher_id().is_some());
        if !self.keys.ensure(Level::OneRtt, dir, session, p.log) {
            self.no_keys(p);
            return;
        }
        let largest = self.largest_pn[p.side.index()][APPLICATION];
        let mut plain = std::mem::take(&mut self.plain);
        let mut opened = None;
        let QuicConn {
            keys, cids, header, ..
        } = self;
        if let Some(k) = keys.one_rtt(dir) {
            // Each distinct length of the connection IDs the receiver issued (usually one);
            // a receiver that issued none uses zero-length ones.
            let issued = &cids[p.side.other().index()];
            let mut tried = [usize::MAX; MAX_CIDS];
            let none_issued = issued.is_empty().then_some(0);
            for (n, len) in issued.iter().map(Vec::len).chain(none_issued).enumerate() {
                if tried.contains(&len) {
                    continue;
                }
                tried[n.min(MAX_CIDS - 1)] = len;
                if let Ok(o) = k.unprotect(bytes, len, largest, header, &mut plain) {
                    opened = Some(o);
                    break;
                }
            }
        }
        match opened {
            Some(o) => {
                self.raise_pn(p.side, APPLICATION, o.packet.packet_number, p.ts);
                self.decryption().one_rtt += 1;
                self.frames(p, PacketKind::OneRtt, &plain, h);
            }
            None => self.failed(p, "1-RTT", "packet protection did not authenticate"),
        }
        self.plain = plain;
    }

    /// A protected packet without its keys: counted once a key log is given (without one,
    /// only Initial packets are meant to open).
    fn no_keys(&mut self, p: &Pkt<'_>) {
        if !p.log.is_empty() && self.tls.client_random().is_some() {
            self.decryption().no_keys += 1;
        }
    }

    fn failed(&mut self, p: &Pkt<'_>, what: &str, why: &str) {
        let d = self.decryption();
        d.failed += 1;
        if d.failed <= 4 {
            let msg = format!("QUIC {} {what} packet: {why}", p.side.name());
            self.warn(p.frame, WarningKind::Decrypt, msg);
        }
    }

    /// The frames of one opened packet.
    fn frames<H: QuicHandler<A>>(
        &mut self,
        p: &Pkt<'_>,
        kind: PacketKind,
        plain: &[u8],
        h: &mut H,
    ) {
        let level = if kind == PacketKind::Handshake { 1 } else { 0 };
        let space = match kind {
            PacketKind::Initial => INITIAL,
            PacketKind::Handshake => HANDSHAKE,
            _ => APPLICATION,
        };
        let mut start = 0;
        loop {
            let rest = plain.get(start..).unwrap_or_default();
            let res = parse_frames_in(rest, kind, |f| {
                if let QuicFrame::Ack(a) = &f {
                    self.ack_sample(p.side, space, a.largest, a.delay, p.ts);
                }
                self.frame(p, level, f, h)
            });
            let Err(err) = res else {
                return;
            };
            // An extension frame (ACK_FREQUENCY, TIME_STAMP, ...) the peer agreed to: skip it
            // when a layout of it fits, and read on.
            if let FrameError::UnknownType { frame_type, at } = err {
                if let Some(end) = skip_extension(rest, at, frame_type) {
                    start += end;
                    continue;
                }
            }
            let msg = format!("QUIC {}: {err}", kind.name());
            self.warn(p.frame, WarningKind::Malformed, msg);
            return;
        }
    }

    fn frame<H: QuicHandler<A>>(&mut self, p: &Pkt<'_>, level: u64, f: QuicFrame<'_>, h: &mut H) {
        let (ts, side, dir) = (p.ts, p.side, p.side.dir());
        match f {
            QuicFrame::Crypto { offset, data } => self.crypto_data(p, level, offset, data),
            QuicFrame::Stream { .. }
            | QuicFrame::ResetStream { .. }
            | QuicFrame::StopSending { .. } => {
                let QuicConn {
                    streams,
                    app,
                    ctx,
                    tls,
                    ..
                } = self;
                ctx.packet = p.frame;
                let alpn = tls_alpn(tls);
                streams.handle_frame(dir, ts, &f, &mut |ev| h.stream(app, alpn, &ev, ctx));
            }
            QuicFrame::ConnectionClose {
                application,
                error_code,
                frame_type,
                reason,
            } => self.facts.closes.push(CloseFrame {
                ts,
                from: side,
                application,
                error_code,
                frame_type,
                reason: String::from_utf8_lossy(reason).into_owned(),
            }),
            QuicFrame::HandshakeDone => {
                self.facts.handshake_done_ts.get_or_insert(ts);
            }
            QuicFrame::NewConnectionId { cid, .. } => self.issued(side, cid),
            _ => {}
        }
    }

    /// CRYPTO data of one level, reassembled, into the TLS handshake parser.
    fn crypto_data(&mut self, p: &Pkt<'_>, level: u64, offset: u64, data: &[u8]) {
        let dir = p.side.dir();
        if level == 1 && !self.handshake_level[p.side.index()] {
            self.handshake_level[p.side.index()] = true;
            self.tls.handshake_level_changed(dir, &mut self.ctx);
        }
        let QuicConn {
            crypto, tls, ctx, ..
        } = self;
        ctx.packet = p.frame;
        crypto.handle_stream(dir, p.ts, StreamId(level), offset, data, false, &mut |ev| {
            if let StreamEvent::Data { dir, bytes, ts, .. } = ev {
                tls.handle_handshake_bytes(dir, ts, bytes, level == 1, ctx);
            }
        });
    }

    /// The connection ends (idle, evicted, end of capture): streams with holes are given
    /// up, the application told, and the facts handed out with the caller's state.
    pub(super) fn finish<H: QuicHandler<A>>(mut self, log: &KeyLog, h: &mut H) -> (QuicFacts, A) {
        let ts = self.facts.last_ts;
        self.kept.closed = true;
        self.replay_kept(log, h, true);
        if !self.closed {
            self.closed = true;
            let QuicConn {
                streams,
                app,
                ctx,
                tls,
                ..
            } = &mut self;
            let alpn = tls_alpn(tls);
            streams.flush_all(ts, &mut |ev| h.stream(app, alpn, &ev, ctx));
            h.closed(app, ts, ctx);
        }
        let mut f = self.facts;
        f.streams = self.streams.stats();
        if let Some(d) = f.decryption.as_mut() {
            d.key_updates = self.keys.key_updates();
        }
        if let Some(problem) = self.keys.problem.take() {
            self.ctx.warn(WarningKind::Keys, problem);
        }
        if self.keys.missing && f.decryption.as_ref().is_some_and(|d| d.no_keys > 0) {
            self.ctx.warn(WarningKind::Keys, NO_SECRETS);
        }
        f.warnings = std::mem::take(&mut self.ctx.warnings);
        if self.ctx.warnings_dropped > 0 {
            f.warnings.push(Warning::new(
                None,
                WarningKind::Cap,
                format!(
                    "{} more warnings on this connection not listed",
                    self.ctx.warnings_dropped
                ),
            ));
        }
        if self.tls.saw_handshake() {
            let mut t = self.tls.facts();
            // Only a TLS 1.2-style ServerHello carries the ALPN in the clear; in QUIC it is
            // in EncryptedExtensions (RFC 9001 8.1), which Initial keys do not open.
            if t.alpn.is_none() {
                t.alpn = t.server_hello.as_ref().and_then(|s| s.alpn.clone());
            }
            f.tls = Some(Box::new(t));
        }
        (f, self.app)
    }
}

/// The ALPN to dispatch on: the server's choice, else the client's only offer.
fn tls_alpn(tls: &TlsDissector) -> Option<&str> {
    tls.alpn()
        .or_else(|| match tls.client_hello().map(|c| c.alpn.as_slice()) {
            Some([only]) => Some(only.as_str()),
            _ => None,
        })
}

/// RFC 9000 20.1 transport error codes; 0x0100-0x01ff carry a TLS alert (RFC 9001 4.8).
pub fn transport_error_name(code: u64) -> String {
    let name = match code {
        0x00 => "NO_ERROR",
        0x01 => "INTERNAL_ERROR",
        0x02 => "CONNECTION_REFUSED",
        0x03 => "FLOW_CONTROL_ERROR",
        0x04 => "STREAM_LIMIT_ERROR",
        0x05 => "STREAM_STATE_ERROR",
        0x06 => "FINAL_SIZE_ERROR",
        0x07 => "FRAME_ENCODING_ERROR",
        0x08 => "TRANSPORT_PARAMETER_ERROR",
        0x09 => "CONNECTION_ID_LIMIT_ERROR",
        0x0a => "PROTOCOL_VIOLATION",
        0x0b => "INVALID_TOKEN",
        0x0c => "APPLICATION_ERROR",
        0x0d => "CRYPTO_BUFFER_EXCEEDED",
        0x0e => "KEY_UPDATE_ERROR",
        0x0f => "AEAD_LIMIT_REACHED",
        0x10 => "NO_VIABLE_PATH",
        0x100..=0x1ff => {
            return format!("CRYPTO_ERROR ({})", names::alert_name((code - 0x100) as u8))
        }
        _ => return format!("0x{code:x}"),
    };
    name.to_string()
}

#[cfg(test)]
mod rtt_tests {
    use super::*;

    #[test]
    fn a_packet_is_sampled_once_by_the_first_ack_naming_it_largest() {
        let mut r = RecentPns::default();
        for pn in 0..20u64 {
            r.note(pn, Ts::from_nanos(pn as i64 * 1000));
        }
        // Only the latest 16 are remembered.
        assert_eq!(r.sample(2), None);
        assert_eq!(r.sample(7), Some(7000));
        // Once per packet, and never for an older one.
        assert_eq!(r.sample(7), None);
        assert_eq!(r.sample(6), None);
        assert_eq!(r.sample(19), Some(19_000));
    }
}
