//! Dependency-free packet and capture writers, shared by the tests (`common::gen`), the fuzz
//! targets (`fuzz/src/lib.rs`) and `examples/gen_hostile.rs` (both include this file by
//! path): Ethernet + IPv4 frames carrying TCP, UDP or a fragment, and a classic pcap writer
//! (little-endian, microseconds, Ethernet).
//!
//! Checksums: the IPv4 header checksum is right; TCP and UDP checksums are zero ("none" for
//! UDP; pagetrace and tshark's defaults do not check TCP's).

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

/// pcap LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// Appends an Ethernet II header (fixed locally administered MACs) and an IPv4 header for a
/// payload of `payload_len` bytes. `frag` is the flags-and-offset word (`0x4000`: don't
/// fragment; `0x2000 | offset/8`: more fragments).
pub fn eth_ipv4(
    buf: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    frag: u16,
    payload_len: usize,
) {
    buf.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let start = buf.len();
    let total = (20 + payload_len).min(65_535) as u16;
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&frag.to_be_bytes());
    buf.extend_from_slice(&[64, proto, 0, 0]);
    buf.extend_from_slice(&src.octets());
    buf.extend_from_slice(&dst.octets());
    let mut sum = 0u32;
    for w in buf[start..start + 20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    buf[start + 10..start + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// An Ethernet frame with one TCP segment (no options, window 65535).
pub fn tcp_frame(
    buf: &mut Vec<u8>,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) {
    buf.clear();
    eth_ipv4(
        buf,
        *src.ip(),
        *dst.ip(),
        PROTO_TCP,
        0,
        0x4000,
        20 + payload.len(),
    );
    buf.extend_from_slice(&src.port().to_be_bytes());
    buf.extend_from_slice(&dst.port().to_be_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&ack.to_be_bytes());
    buf.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    buf.extend_from_slice(payload);
}

/// An Ethernet frame with one UDP datagram.
pub fn udp_frame(buf: &mut Vec<u8>, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
    buf.clear();
    eth_ipv4(
        buf,
        *src.ip(),
        *dst.ip(),
        PROTO_UDP,
        0,
        0,
        8 + payload.len(),
    );
    buf.extend_from_slice(&src.port().to_be_bytes());
    buf.extend_from_slice(&dst.port().to_be_bytes());
    buf.extend_from_slice(&((8 + payload.len()).min(65_535) as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
}

/// An Ethernet frame with one IPv4 fragment: `payload` sits at byte `offset` (a multiple of
/// 8) of datagram `id`'s transport payload.
#[allow(clippy::too_many_arguments)]
pub fn fragment_frame(
    buf: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    offset: u16,
    more: bool,
    payload: &[u8],
) {
    buf.clear();
    let frag = (offset / 8) | if more { 0x2000 } else { 0 };
    eth_ipv4(buf, src, dst, proto, id, frag, payload.len());
    buf.extend_from_slice(payload);
}

/// Writes a classic pcap: little-endian, microsecond timestamps.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, linktype: u32) -> io::Result<PcapWriter<W>> {
        out.write_all(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&linktype.to_le_bytes())?;
        Ok(PcapWriter { out })
    }

    /// One record at `micros` since the epoch.
    pub fn packet(&mut self, micros: u64, data: &[u8]) -> io::Result<()> {
        let mut head = [0u8; 16];
        head[0..4].copy_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        head[4..8].copy_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        head[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        head[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A capture in memory of Ethernet `frames`, one millisecond apart.
pub fn pcap_of(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).expect("in memory");
    for (i, f) in frames.iter().enumerate() {
        w.packet(1_700_000_000_000_000 + i as u64 * 1000, f)
            .expect("in memory");
    }
    w.into_inner()
}
