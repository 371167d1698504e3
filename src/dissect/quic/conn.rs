//! QUIC connections by UDP 5-tuple: a bounded, sans-IO table driven by capture time.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::crypto::InitialKeyPair;
use super::frame::{handshake_messages, parse_frames_in, CryptoStream, PacketKind, QuicFrame};
use super::packet::{parse_packet, LongType, QuicError, QuicPacket};
use crate::dissect::tls::handshake::{
    parse_client_hello, parse_server_hello, ClientHello, ServerHello,
};
use crate::dissect::tls::names;
use crate::dissect::tls::TlsFacts;
use crate::time::Ts;
use crate::warning::Warning;
use crate::warning::WarningKind;

/// Most QUIC connections tracked at once; the least recently active one is reported early
/// when a new one would exceed it (counted in [`QuicTable::evicted`]).
pub const MAX_QUIC_CONNS: usize = 4096;
/// A connection idle this long (capture time) is finished. RFC 9000 10.1 leaves the idle
/// timeout to the endpoints; browsers use 30 s.
pub const IDLE_NANOS: i64 = 30_000_000_000;
/// Most warnings listed per connection.
const MAX_WARNINGS: usize = 32;

/// Which side sent a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    fn index(self) -> usize {
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
    /// QUIC packets (coalesced ones counted one by one), UDP payload bytes, datagrams.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub datagrams: [u64; 2],
    pub packet_counts: [PacketCounts; 2],
    pub client_initial_ts: Option<Ts>,
    pub server_initial_ts: Option<Ts>,
    pub server_handshake_ts: Option<Ts>,
    pub initials_decrypted: u64,
    pub initials_failed: u64,
    pub closes: Vec<CloseFrame>,
    /// The TLS handshake read from the Initial CRYPTO frames (ClientHello, ServerHello).
    pub tls: Option<TlsFacts>,
    pub warnings: Vec<Warning>,
}

/// State of one QUIC connection.
pub struct QuicConn {
    facts: QuicFacts,
    client: SocketAddr,
    version: Option<u32>,
    keys: Option<InitialKeyPair>,
    /// The version the keys were derived for.
    keys_version: Option<u32>,
    key_dcid: Vec<u8>,
    retry_seen: bool,
    largest_pn: [Option<u64>; 2],
    crypto: [CryptoStream; 2],
    ch: Option<(ClientHello, Ts)>,
    sh: Option<(ServerHello, Ts)>,
    warnings_dropped: u64,
    /// Reused buffers: the unprotected header (AAD) and the plaintext of an Initial.
    header: Vec<u8>,
    plain: Vec<u8>,
}

impl QuicConn {
    fn new(id: u64, ts: Ts, client: SocketAddr, server: SocketAddr, by: QuicClientBy) -> QuicConn {
        QuicConn {
            facts: QuicFacts {
                id,
                client,
                server,
                client_by: by,
                version: None,
                versions: Vec::new(),
                dcid: Vec::new(),
                scid: Vec::new(),
                server_scid: None,
                first_ts: ts,
                last_ts: ts,
                packets: [0; 2],
                bytes: [0; 2],
                datagrams: [0; 2],
                packet_counts: [PacketCounts::default(), PacketCounts::default()],
                client_initial_ts: None,
                server_initial_ts: None,
                server_handshake_ts: None,
                initials_decrypted: 0,
                initials_failed: 0,
                closes: Vec::new(),
                tls: None,
                warnings: Vec::new(),
            },
            client,
            version: None,
            keys: None,
            keys_version: None,
            key_dcid: Vec::new(),
            retry_seen: false,
            largest_pn: [None; 2],
            crypto: [CryptoStream::default(), CryptoStream::default()],
            ch: None,
            sh: None,
            warnings_dropped: 0,
            header: Vec::new(),
            plain: Vec::new(),
        }
    }

    fn warn(&mut self, frame: u64, kind: WarningKind, msg: String) {
        if self.facts.warnings.len() < MAX_WARNINGS {
            self.facts
                .warnings
                .push(Warning::new(Some(frame), kind, msg));
        } else {
            self.warnings_dropped += 1;
        }
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

    /// One UDP datagram: every coalesced packet in it (RFC 9000 12.2).
    pub fn handle_datagram(&mut self, ts: Ts, frame: u64, side: Side, dgram: &[u8]) {
        self.facts.last_ts = self.facts.last_ts.max(ts);
        self.facts.datagrams[side.index()] += 1;
        self.facts.bytes[side.index()] += dgram.len() as u64;
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
            self.handle_packet(ts, frame, side, pkt);
            rest = rest.get(len..).unwrap_or(&[]);
        }
    }

    fn handle_packet(&mut self, ts: Ts, frame: u64, side: Side, pkt: QuicPacket<'_>) {
        if let Some(v) = pkt.version() {
            self.add_version(v);
        }
        match pkt {
            QuicPacket::Short { .. } => self.counts(side).one_rtt += 1,
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
                match kind {
                    LongType::Initial => self.counts(side).initial += 1,
                    LongType::ZeroRtt => self.counts(side).zero_rtt += 1,
                    LongType::Handshake => self.counts(side).handshake += 1,
                    LongType::Retry => {}
                }
                if side == Side::Server && self.facts.server_scid.is_none() {
                    self.facts.server_scid = Some(scid.to_vec());
                }
                match (side, kind) {
                    (Side::Client, LongType::Initial) => {
                        if self.facts.client_initial_ts.is_none() {
                            self.facts.client_initial_ts = Some(ts);
                            self.facts.dcid = dcid.to_vec();
                            self.facts.scid = scid.to_vec();
                        }
                        if self.keys.is_none() || (self.retry_seen && dcid != self.key_dcid) {
                            self.keys = InitialKeyPair::new(version, dcid);
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
                if kind == LongType::Initial {
                    // Compatible version negotiation (RFC 9368 4): the server may answer a
                    // v1 Initial with v2 Initials; their keys come from the same DCID with
                    // the other version's salt and labels.
                    if self.keys_version != Some(version) && !self.key_dcid.is_empty() {
                        self.keys = InitialKeyPair::new(version, &self.key_dcid);
                        self.keys_version = Some(version);
                    }
                    self.unprotect_initial(ts, frame, side, bytes, pn_offset);
                }
            }
        }
    }

    fn unprotect_initial(&mut self, ts: Ts, frame: u64, side: Side, bytes: &[u8], pn: usize) {
        let Some(keys) = &self.keys else {
            self.facts.initials_failed += 1;
            self.warn(
                frame,
                WarningKind::Decrypt,
                "QUIC Initial before the client's first Initial was seen: no keys".into(),
            );
            return;
        };
        let k = match side {
            Side::Client => &keys.client,
            Side::Server => &keys.server,
        };
        let i = side.index();
        let mut plain = std::mem::take(&mut self.plain);
        match k.unprotect(bytes, pn, self.largest_pn[i], &mut self.header, &mut plain) {
            Ok(u) => {
                self.facts.initials_decrypted += 1;
                self.largest_pn[i] =
                    Some(self.largest_pn[i].map_or(u.packet_number, |l| l.max(u.packet_number)));
                let mut closes = Vec::new();
                // Once this side's hello is read its CRYPTO bytes are not needed: nothing
                // more is kept (the buffer is freed in `read_handshake`).
                let hello_read = match side {
                    Side::Client => self.ch.is_some(),
                    Side::Server => self.sh.is_some(),
                };
                let crypto = &mut self.crypto[i];
                let res = parse_frames_in(&plain, PacketKind::Initial, |f| match f {
                    QuicFrame::Crypto { offset, data } if !hello_read => {
                        crypto.insert(offset, data)
                    }
                    QuicFrame::ConnectionClose {
                        application,
                        error_code,
                        frame_type,
                        reason,
                    } => closes.push(CloseFrame {
                        ts,
                        from: side,
                        application,
                        error_code,
                        frame_type,
                        reason: String::from_utf8_lossy(reason).into_owned(),
                    }),
                    _ => {}
                });
                self.facts.closes.extend(closes);
                if let Err(note) = res {
                    self.warn(
                        frame,
                        WarningKind::Malformed,
                        format!("QUIC Initial: {note}"),
                    );
                }
                self.read_handshake(ts, frame, side);
            }
            Err(e) => {
                self.facts.initials_failed += 1;
                let kind = match e {
                    QuicError::Truncated(_) => WarningKind::Truncated,
                    _ => WarningKind::Decrypt,
                };
                self.warn(frame, kind, format!("QUIC {} Initial: {e}", side.name()));
            }
        }
        self.plain = plain;
    }

    fn read_handshake(&mut self, ts: Ts, frame: u64, side: Side) {
        let done = match side {
            Side::Client => self.ch.is_some(),
            Side::Server => self.sh.is_some(),
        };
        if done {
            return;
        }
        let stream = self.crypto[side.index()].contiguous();
        let mut note = None;
        for (ty, body) in handshake_messages(stream) {
            match (side, ty) {
                (Side::Client, 1) => {
                    match parse_client_hello(body) {
                        Ok((ch, _)) => self.ch = Some((ch, ts)),
                        Err(e) => note = Some(format!("QUIC ClientHello: {e}")),
                    }
                    break;
                }
                (Side::Server, 2) => {
                    match parse_server_hello(body) {
                        Ok((sh, _)) => self.sh = Some((sh, ts)),
                        Err(e) => note = Some(format!("QUIC ServerHello: {e}")),
                    }
                    break;
                }
                _ => {}
            }
        }
        let read = match side {
            Side::Client => self.ch.is_some(),
            Side::Server => self.sh.is_some(),
        };
        if read {
            self.crypto[side.index()].release();
        }
        if let Some(n) = note {
            self.warn(frame, WarningKind::Malformed, n);
        }
    }

    /// What was seen of this connection, as it stands.
    pub fn facts(self) -> QuicFacts {
        let mut f = self.facts;
        let dropped: u64 = self.crypto.iter().map(|c| c.dropped).sum();
        if dropped > 0 {
            f.warnings.push(Warning::new(
                None,
                WarningKind::Cap,
                format!("{dropped} CRYPTO bytes beyond the 64 KiB buffer were not kept"),
            ));
        }
        if self.warnings_dropped > 0 {
            f.warnings.push(Warning::new(
                None,
                WarningKind::Cap,
                format!(
                    "{} more warnings on this connection not listed",
                    self.warnings_dropped
                ),
            ));
        }
        if self.ch.is_some() || self.sh.is_some() {
            f.tls = Some(TlsFacts {
                client_hello_ts: self.ch.as_ref().map(|c| c.1),
                server_hello_ts: self.sh.as_ref().map(|s| s.1),
                client_hello: self.ch.map(|c| c.0),
                // The server's chosen ALPN is in EncryptedExtensions (RFC 9001 8.1), which
                // Initial keys do not open: only a TLS 1.2-style ServerHello would carry it.
                alpn: self.sh.as_ref().and_then(|s| s.0.alpn.clone()),
                server_hello: self.sh.map(|s| s.0),
                ..TlsFacts::default()
            });
        }
        f
    }
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

/// QUIC connections by UDP 5-tuple (client, server).
#[derive(Default)]
pub struct QuicTable {
    conns: HashMap<(SocketAddr, SocketAddr), QuicConn>,
    next_id: u64,
    done: Vec<QuicFacts>,
    /// Connections reported early because the table was full.
    pub evicted: u64,
}

impl QuicTable {
    pub fn new() -> QuicTable {
        QuicTable::default()
    }

    pub fn live(&self) -> usize {
        self.conns.len()
    }

    /// A UDP datagram. Returns whether it was QUIC (of a known connection, or a long header
    /// of a known version that starts one).
    pub fn handle_datagram(
        &mut self,
        ts: Ts,
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> bool {
        let (key, side) = if self.conns.contains_key(&(src, dst)) {
            ((src, dst), Side::Client)
        } else if self.conns.contains_key(&(dst, src)) {
            ((dst, src), Side::Server)
        } else if super::packet::looks_like_quic(payload) {
            // The client is the sender of the first long header, unless the ports say
            // the sender is a server on 443 (the client's first Initial was not captured).
            let (key, side, by) = if src.port() == 443 && dst.port() != 443 {
                ((dst, src), Side::Server, QuicClientBy::Port)
            } else {
                ((src, dst), Side::Client, QuicClientBy::Initial)
            };
            if self.conns.len() >= MAX_QUIC_CONNS {
                self.evict_one();
            }
            self.next_id += 1;
            self.conns
                .insert(key, QuicConn::new(self.next_id, ts, key.0, key.1, by));
            (key, side)
        } else {
            return false;
        };
        if let Some(c) = self.conns.get_mut(&key) {
            debug_assert_eq!(c.client, key.0);
            c.handle_datagram(ts, frame, side, payload);
        }
        true
    }

    fn evict_one(&mut self) {
        let oldest = self
            .conns
            .iter()
            .min_by_key(|(_, c)| (c.facts.last_ts, c.facts.id))
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            if let Some(c) = self.conns.remove(&k) {
                self.evicted += 1;
                self.done.push(c.facts());
            }
        }
    }

    /// Finishes connections idle for [`IDLE_NANOS`] at capture time `now`.
    pub fn expire(&mut self, now: Ts) {
        let idle: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.facts.last_ts.saturating_add_nanos(IDLE_NANOS) < now)
            .map(|(k, _)| *k)
            .collect();
        for k in idle {
            if let Some(c) = self.conns.remove(&k) {
                self.done.push(c.facts());
            }
        }
    }

    pub fn finish_all(&mut self) {
        let all: Vec<_> = self.conns.drain().map(|(_, c)| c).collect();
        for c in all {
            self.done.push(c.facts());
        }
    }

    /// Connections finished since the last call, in order of first packet.
    pub fn take_finished(&mut self) -> Vec<QuicFacts> {
        let mut v = std::mem::take(&mut self.done);
        v.sort_by_key(|c| c.id);
        v
    }
}
