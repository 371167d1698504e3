//! QUIC connections by UDP 5-tuple: a bounded, sans-IO table driven by capture time.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::crypto::InitialKeyPair;
use super::frame::{handshake_messages, parse_frames_in, CryptoStream, PacketKind, QuicFrame};
use super::packet::{parse_packet, version_name, LongType, QuicError, QuicPacket};
use crate::dissect::tls::fingerprint;
use crate::dissect::tls::handshake::{
    parse_client_hello, parse_server_hello, ClientHello, ServerHello,
};
use crate::dissect::tls::names;
use crate::pageload::model::{
    self, ClientBy, HostnameSource, QuicClose, QuicCloseKind, QuicConnection, QuicPacketCounts,
    TlsInfo, Warning,
};
use crate::time::{ms_between, round_ms, Ts};
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
        self.model().as_str()
    }
    fn model(self) -> model::Side {
        match self {
            Side::Client => model::Side::Client,
            Side::Server => model::Side::Server,
        }
    }
}

/// State of one QUIC connection.
pub struct QuicConn {
    report: QuicConnection,
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
    fn new(id: u64, ts: Ts, client: SocketAddr, server: SocketAddr, by: ClientBy) -> QuicConn {
        QuicConn {
            report: QuicConnection::new(id, client, server, by, ts),
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
        if self.report.warnings.len() < MAX_WARNINGS {
            self.report
                .warnings
                .push(Warning::new(Some(frame), kind, msg));
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn counts(&mut self, side: Side) -> &mut QuicPacketCounts {
        match side {
            Side::Client => &mut self.report.client_packets,
            Side::Server => &mut self.report.server_packets,
        }
    }

    fn add_version(&mut self, v: u32) {
        let name = version_name(v);
        if !self.report.versions.contains(&name) {
            self.report.versions.push(name);
        }
        if v != 0 && self.version.is_none() {
            self.version = Some(v);
            self.report.version = version_name(v);
        }
    }

    /// One UDP datagram: every coalesced packet in it (RFC 9000 12.2).
    pub fn handle_datagram(&mut self, ts: Ts, frame: u64, side: Side, dgram: &[u8]) {
        self.report.last_ts = self.report.last_ts.max(ts);
        match side {
            Side::Client => {
                self.report.datagrams.client += 1;
                self.report.bytes.client += dgram.len() as u64;
            }
            Side::Server => {
                self.report.datagrams.server += 1;
                self.report.bytes.server += dgram.len() as u64;
            }
        }
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
            match side {
                Side::Client => self.report.packets.client += 1,
                Side::Server => self.report.packets.server += 1,
            }
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
                if side == Side::Server && self.report.server_scid.is_none() {
                    self.report.server_scid = Some(fingerprint::hex(scid));
                }
                match (side, kind) {
                    (Side::Client, LongType::Initial) => {
                        if self.report.client_initial_ts.is_none() {
                            self.report.client_initial_ts = Some(ts);
                            self.report.dcid = fingerprint::hex(dcid);
                            self.report.scid = fingerprint::hex(scid);
                        }
                        if self.keys.is_none() || (self.retry_seen && dcid != self.key_dcid) {
                            self.keys = InitialKeyPair::new(version, dcid);
                            self.keys_version = Some(version);
                            self.key_dcid = dcid.to_vec();
                            self.retry_seen = false;
                        }
                    }
                    (Side::Server, LongType::Initial) => {
                        self.report.server_initial_ts.get_or_insert(ts);
                    }
                    (Side::Server, LongType::Handshake) => {
                        self.report.server_handshake_ts.get_or_insert(ts);
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
            self.report.initials_failed += 1;
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
                self.report.initials_decrypted += 1;
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
                    } => closes.push(QuicClose {
                        ts,
                        from: side.model(),
                        kind: if application {
                            QuicCloseKind::Application
                        } else {
                            QuicCloseKind::Transport
                        },
                        error_code,
                        error: if application {
                            format!("0x{error_code:x}")
                        } else {
                            transport_error_name(error_code)
                        },
                        frame_type,
                        reason: String::from_utf8_lossy(reason).into_owned(),
                    }),
                    _ => {}
                });
                self.report.close.extend(closes);
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
                self.report.initials_failed += 1;
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

    /// The report of this connection as it stands.
    pub fn report(self) -> QuicConnection {
        let mut r = self.report;
        r.server_initial_ms = ms_between(r.client_initial_ts, r.server_initial_ts).map(round_ms);
        r.handshake_ms = ms_between(r.client_initial_ts, r.server_handshake_ts).map(round_ms);
        let dropped: u64 = self.crypto.iter().map(|c| c.dropped).sum();
        if dropped > 0 {
            r.warnings.push(Warning::new(
                None,
                WarningKind::Cap,
                format!("{dropped} CRYPTO bytes beyond the 64 KiB buffer were not kept"),
            ));
        }
        if self.warnings_dropped > 0 {
            r.warnings.push(Warning::new(
                None,
                WarningKind::Cap,
                format!(
                    "{} more warnings on this connection not listed",
                    self.warnings_dropped
                ),
            ));
        }
        if self.ch.is_some() || self.sh.is_some() {
            let ch = self.ch.as_ref().map(|c| &c.0);
            let sh = self.sh.as_ref().map(|s| &s.0);
            let ja3_string = ch.map(fingerprint::ja3_string);
            let group = sh.and_then(|s| s.key_share_group);
            r.tls = Some(TlsInfo {
                version: sh.map(|s| names::version_name(s.version())),
                cipher: sh.map(|s| names::cipher_name(s.cipher)),
                cipher_id: sh.map(|s| s.cipher),
                sni: ch.and_then(|c| c.sni.clone()),
                alpn_offered: ch.map(|c| c.alpn.clone()).unwrap_or_default(),
                // The server's choice is in EncryptedExtensions (RFC 9001 8.1), which
                // Initial keys do not open.
                alpn: sh.and_then(|s| s.alpn.clone()),
                ja3: ja3_string.as_deref().map(fingerprint::md5_hex),
                ja3_string,
                ja3s: sh.map(|s| fingerprint::md5_hex(&fingerprint::ja3s_string(s))),
                ja4: ch.map(|c| fingerprint::ja4(c, true)),
                client_hello_ts: self.ch.as_ref().map(|c| c.1),
                server_hello_ts: self.sh.as_ref().map(|s| s.1),
                handshake_ms: r.handshake_ms,
                client_hello: ch.map(crate::dissect::tls::client_hello_info),
                server_hello: sh.map(crate::dissect::tls::server_hello_info),
                key_exchange: group.map(|g| names::group_kx(g).to_string()),
                key_exchange_group: group.map(names::group_name),
                ..TlsInfo::default()
            });
            r.hostname = ch.and_then(|c| c.sni.clone());
            if r.hostname.is_some() {
                r.hostname_source = Some(HostnameSource::Sni);
            }
        }
        r
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
    done: Vec<QuicConnection>,
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
                ((dst, src), Side::Server, ClientBy::Port)
            } else {
                ((src, dst), Side::Client, ClientBy::Initial)
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
            .min_by_key(|(_, c)| (c.report.last_ts, c.report.id))
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            if let Some(c) = self.conns.remove(&k) {
                self.evicted += 1;
                self.done.push(c.report());
            }
        }
    }

    /// Finishes connections idle for [`IDLE_NANOS`] at capture time `now`.
    pub fn expire(&mut self, now: Ts) {
        let idle: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.report.last_ts.saturating_add_nanos(IDLE_NANOS) < now)
            .map(|(k, _)| *k)
            .collect();
        for k in idle {
            if let Some(c) = self.conns.remove(&k) {
                self.done.push(c.report());
            }
        }
    }

    pub fn finish_all(&mut self) {
        let all: Vec<_> = self.conns.drain().map(|(_, c)| c).collect();
        for c in all {
            self.done.push(c.report());
        }
    }

    /// Connections finished since the last call, in order of first packet.
    pub fn take_finished(&mut self) -> Vec<QuicConnection> {
        let mut v = std::mem::take(&mut self.done);
        v.sort_by_key(|c| c.id);
        v
    }
}
