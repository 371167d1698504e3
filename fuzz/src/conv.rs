//! The `tcp_frames` and `quic` harnesses: structured inputs turned into whole conversations
//! (a TCP handshake and fuzzed payloads both ways; QUIC Initials that authenticate) fed to
//! the analyzer as Ethernet frames.
//!
//! `tcp_frames` input: a mode byte, then operations `[op][u16 length][bytes]`.
//! - mode bits 0-1: the service, by server port: 80 (HTTP/1), 8080 (h2c, the client preface
//!   sent first unless bit 4), 443 (TLS: a session whose secrets are in the key log is set up
//!   first unless bit 7, so operations 0 and 1 are decrypted), 53 (DNS over TCP);
//!   bit 2: TLS 1.3 (else 1.2); bit 3: ALPN `h2` (else `http/1.1`); bit 5: no TCP handshake
//!   (a capture that starts mid-connection); bit 6: end with RST (else FIN both ways).
//! - op bit 0: direction (0: client to server); bits 1-3: what to do with the bytes:
//!   0 send (sealed as application data on a TLS session), 1 send as one record of content
//!   type `bytes[0]` (sealed on a TLS session), 2 send raw, 3 lose that many bytes (a gap),
//!   4 send the two halves in reverse order, 5 send then retransmit the second half with
//!   different bytes, 6 send one byte per segment (the first 64), 7 control (`bytes[0]`:
//!   0 idle for `bytes[1]` seconds, 1 FIN, 2 RST, else a bare ACK).
//!
//! `quic` input: operations `[op][u16 length][bytes]`; op bit 0: direction; bits 1-2:
//! 0 and 1 a protected Initial carrying the bytes as frames (packet number skipped ahead by
//! `op >> 4`), 2 the bytes as a raw datagram, 3 idle 31 s (past the QUIC idle timeout),
//! then a protected Initial.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::gen::{self, ACK, FIN, PSH, RST, SYN};
use crate::quic::InitialSealer;
use crate::tls::{self, Sealer, CT_APPDATA};
use pagetrace::pageload::model::Report;

use crate::{Feed, Ops};

pub const PORTS: [u16; 4] = [80, 8080, 443, 53];
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One TCP connection's two sequence spaces over a [`Feed`].
pub struct TcpConv {
    pub feed: Feed,
    client: SocketAddrV4,
    server: SocketAddrV4,
    /// Next sequence number to send: client, server.
    seq: [u32; 2],
    buf: Vec<u8>,
}

impl TcpConv {
    pub fn new(feed: Feed, server_port: u16) -> TcpConv {
        TcpConv {
            feed,
            client: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40_000),
            server: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), server_port),
            seq: [1_000, 5_000],
            buf: Vec::new(),
        }
    }

    fn side(to_server: bool) -> usize {
        usize::from(!to_server)
    }

    pub fn segment(&mut self, to_server: bool, seq: u32, flags: u8, payload: &[u8]) {
        let (src, dst) = if to_server {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let ack = if flags & SYN != 0 && to_server {
            0
        } else {
            self.seq[Self::side(!to_server)]
        };
        gen::tcp_frame(&mut self.buf, src, dst, seq, ack, flags, payload);
        self.feed.packet(&self.buf);
    }

    pub fn handshake(&mut self) {
        let (c, s) = (self.seq[0], self.seq[1]);
        self.segment(true, c, SYN, b"");
        self.seq[0] += 1;
        self.segment(false, s, SYN | ACK, b"");
        self.seq[1] += 1;
        self.segment(true, self.seq[0], ACK, b"");
    }

    /// Sends `data` in segments of at most `mss` bytes.
    pub fn send_mss(&mut self, to_server: bool, data: &[u8], mss: usize) {
        for chunk in data.chunks(mss.max(1)) {
            let seq = self.seq[Self::side(to_server)];
            self.segment(to_server, seq, PSH | ACK, chunk);
            self.seq[Self::side(to_server)] = seq.wrapping_add(chunk.len() as u32);
        }
    }

    pub fn send(&mut self, to_server: bool, data: &[u8]) {
        self.send_mss(to_server, data, 1400);
    }

    /// The bytes are never captured: the receiver sees a hole.
    pub fn lose(&mut self, to_server: bool, n: usize) {
        let s = &mut self.seq[Self::side(to_server)];
        *s = s.wrapping_add(n as u32);
    }

    pub fn reordered(&mut self, to_server: bool, data: &[u8]) {
        let side = Self::side(to_server);
        let seq = self.seq[side];
        let (a, b) = data.split_at(data.len() / 2);
        self.segment(to_server, seq.wrapping_add(a.len() as u32), PSH | ACK, b);
        self.segment(to_server, seq, PSH | ACK, a);
        self.seq[side] = seq.wrapping_add(data.len() as u32);
    }

    /// Sends `data`, then the second half again with every byte flipped (an overlap that
    /// disagrees with what was first captured).
    pub fn conflicting_retransmission(&mut self, to_server: bool, data: &[u8]) {
        let side = Self::side(to_server);
        let seq = self.seq[side];
        self.send(to_server, data);
        let half = data.len() / 2;
        let again: Vec<u8> = data[half..].iter().map(|b| !b).collect();
        self.segment(to_server, seq.wrapping_add(half as u32), PSH | ACK, &again);
    }

    pub fn flag(&mut self, to_server: bool, flags: u8) {
        let side = Self::side(to_server);
        let seq = self.seq[side];
        self.segment(to_server, seq, flags, b"");
        if flags & FIN != 0 {
            self.seq[side] = seq.wrapping_add(1);
        }
    }
}

/// Splits `data` into TLS-sized pieces sealed as `content_type` records.
fn seal_all(sealer: &mut Sealer, content_type: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if data.is_empty() {
        out.extend_from_slice(&sealer.seal(content_type, data));
    }
    for piece in data.chunks(16_384) {
        out.extend_from_slice(&sealer.seal(content_type, piece));
    }
    out
}

/// The `tcp_frames` harness (see the module doc for the input).
pub fn tcp_frames(data: &[u8], keylog: &str) -> Option<Report> {
    let mut ops = Ops::new(data);
    let mode = ops.byte()?;
    let service = usize::from(mode & 3);
    let tls13 = mode & 0x04 != 0;
    let alpn = if mode & 0x08 != 0 { "h2" } else { "http/1.1" };
    let mut conv = TcpConv::new(Feed::new(Some(keylog)), PORTS[service]);
    if mode & 0x20 == 0 {
        conv.handshake();
    }
    if service == 1 && mode & 0x10 == 0 {
        conv.send(true, H2_PREFACE);
    }
    let mut sealers = None;
    if service == 2 && mode & 0x80 == 0 {
        let (flights, c, s) = tls::prelude(tls13, alpn);
        for (from_client, bytes) in flights {
            conv.send(from_client, &bytes);
        }
        sealers = Some([c, s]);
    }
    while let Some(op) = ops.byte() {
        let Some(bytes) = ops.chunk() else { break };
        let to_server = op & 1 == 0;
        let sealer = sealers.as_mut().map(|s| &mut s[TcpConv::side(to_server)]);
        match (op >> 1) & 7 {
            0 => match sealer {
                Some(s) => {
                    let records = seal_all(s, CT_APPDATA, bytes);
                    conv.send(to_server, &records);
                }
                None => conv.send(to_server, bytes),
            },
            1 => match (sealer, bytes.split_first()) {
                (Some(s), Some((&ct, rest))) => {
                    let records = seal_all(s, ct, rest);
                    conv.send(to_server, &records);
                }
                _ => conv.send(to_server, bytes),
            },
            2 => conv.send(to_server, bytes),
            3 => conv.lose(to_server, bytes.len() + 1),
            4 => conv.reordered(to_server, bytes),
            5 => conv.conflicting_retransmission(to_server, bytes),
            6 => conv.send_mss(to_server, &bytes[..bytes.len().min(64)], 1),
            _ => match bytes.first() {
                Some(0) => {
                    let secs = bytes.get(1).copied().unwrap_or(0);
                    conv.feed.advance_ms(i64::from(secs) * 1000);
                }
                Some(1) => conv.flag(to_server, FIN | ACK),
                Some(2) => conv.flag(to_server, RST),
                _ => conv.flag(to_server, ACK),
            },
        }
    }
    if mode & 0x40 != 0 {
        conv.flag(true, RST);
    } else {
        conv.flag(true, FIN | ACK);
        conv.flag(false, FIN | ACK);
        conv.flag(true, ACK);
    }
    Some(conv.feed.finish())
}

/// The `quic` harness (see the module doc for the input).
pub fn quic(data: &[u8]) -> Report {
    let mut feed = Feed::new(None);
    let client = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 50_000);
    let server = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);
    let mut sealers = [InitialSealer::new(true), InitialSealer::new(false)];
    let mut ops = Ops::new(data);
    let mut buf = Vec::new();
    while let Some(op) = ops.byte() {
        let Some(bytes) = ops.chunk() else { break };
        let to_server = op & 1 == 0;
        let sealer = &mut sealers[usize::from(!to_server)];
        let dgram = match (op >> 1) & 3 {
            2 => bytes.to_vec(),
            3 => {
                feed.advance_ms(31_000);
                sealer.seal(bytes, 0)
            }
            _ => sealer.seal(bytes, op >> 4),
        };
        let (src, dst) = if to_server {
            (client, server)
        } else {
            (server, client)
        };
        gen::udp_frame(&mut buf, src, dst, &dgram);
        feed.packet(&buf);
    }
    feed.finish()
}
