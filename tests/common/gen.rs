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

/// An Ethernet frame with one IPv6 TCP segment without payload (no options, window
/// 65535, checksum not computed).
pub fn tcp6_frame(
    buf: &mut Vec<u8>,
    (src, sport): ([u8; 16], u16),
    (dst, dport): ([u8; 16], u16),
    seq: u32,
    flags: u8,
) {
    buf.clear();
    buf.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd]);
    buf.extend_from_slice(&[0x60, 0, 0, 0, 0, 20, PROTO_TCP, 64]);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
}

/// The server of [`fx_colliding_v6`]'s clients, `::80`: below every one of them, so it is
/// the first endpoint of each flow key.
pub const FX_COLLIDING_SERVER: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];

/// The `i`th IPv6 client address (`2000::/8`, above the server) of a set whose flow keys
/// (each with port 40000, to `[::80]:80`) all hash to the same value under FxHash without
/// a seed (`h = (h.rotate_left(5) ^ word) * K` over the key's words: the server's family,
/// its address's two halves as little-endian words, its port, then the client's family
/// and address halves, its port). The first half holds `i`; the second is chosen to
/// cancel what the first made of the state.
pub fn fx_colliding_v6(i: u64) -> [u8; 16] {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let add = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let half = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let s = FX_COLLIDING_SERVER;
    let mut h = 0;
    for w in [1, half(&s[..8]), half(&s[8..]), 80, 1] {
        h = add(h, w);
    }
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1..8].copy_from_slice(&i.to_le_bytes()[..7]);
    let second = 0x0123_4567_89ab_cdef ^ add(h, half(&a[..8])).rotate_left(5);
    a[8..].copy_from_slice(&second.to_le_bytes());
    a
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

/// The first packet's time in the hostile captures.
pub const START_MICROS: u64 = 1_700_000_000_000_000;

/// The `i`-th address of 10.0.0.0/8 from 10.1.0.0 on (16 million distinct sources).
fn source(i: u64) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | ((0x1_0000 + i as u32) & 0x00ff_ffff))
}

fn dns_name(out: &mut Vec<u8>, i: u64) {
    let label = format!("q{i}");
    out.push(label.len() as u8);
    out.extend_from_slice(label.as_bytes());
    for l in ["example", "com"] {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
}

/// Writes `n` units of the hostile traffic `kind` (the table in `examples/gen_hostile.rs`:
/// `syn-ports`, `syn-flood`, `dns-unanswered`, `dns-loops`, `slowloris`, `frags`,
/// `lookups-and-syns`, `quic-initials`, `hash-collisions`); `false`
/// for an unknown kind. Memory stays flat whatever `n`.
pub fn hostile(kind: &str, n: u64, w: &mut PcapWriter<impl Write>) -> io::Result<bool> {
    let mut buf = Vec::with_capacity(2048);
    let client = Ipv4Addr::new(10, 0, 0, 1);
    let server = Ipv4Addr::new(192, 0, 2, 80);
    let resolver = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 53), 53);
    // Packets 100 µs apart unless the kind says otherwise.
    let at = |i: u64| START_MICROS + i * 100;
    match kind {
        "syn-ports" => {
            for i in 0..n {
                let port = 1 + (i % 65_535) as u16;
                let sport = 10_000 + (i / 65_535) as u16;
                let (src, dst) = (
                    SocketAddrV4::new(client, sport),
                    SocketAddrV4::new(server, port),
                );
                tcp_frame(&mut buf, src, dst, i as u32, 0, SYN, b"");
                w.packet(at(i), &buf)?;
            }
        }
        "syn-flood" => {
            for i in 0..n {
                let src = SocketAddrV4::new(source(i), 1024 + (i % 60_000) as u16);
                let dst = SocketAddrV4::new(server, 80);
                tcp_frame(&mut buf, src, dst, i as u32, 0, SYN, b"");
                w.packet(at(i), &buf)?;
            }
        }
        "dns-unanswered" => {
            for i in 0..n {
                let src = SocketAddrV4::new(client, 1024 + (i % 60_000) as u16);
                let mut q = Vec::with_capacity(64);
                q.extend_from_slice(&(i as u16).to_be_bytes());
                q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
                dns_name(&mut q, i);
                q.extend_from_slice(&[0, 1, 0, 1]);
                udp_frame(&mut buf, src, resolver, &q);
                w.packet(at(i), &buf)?;
            }
        }
        "dns-loops" => {
            for i in 0..n {
                let dst = SocketAddrV4::new(client, 1024 + (i % 60_000) as u16);
                let mut r = Vec::with_capacity(64);
                r.extend_from_slice(&(i as u16).to_be_bytes());
                // Response, one question, one answer.
                r.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
                match i % 3 {
                    // The question name points at itself (offset 12).
                    0 => r.extend_from_slice(&[0xc0, 12]),
                    // A label, then a pointer back to the start of that name.
                    1 => r.extend_from_slice(&[1, b'a', 0xc0, 12]),
                    // A pointer forward to the answer's name, which points back here.
                    _ => r.extend_from_slice(&[0xc0, 18]),
                }
                r.extend_from_slice(&[0, 1, 0, 1]);
                // Answer: name pointer to the question, A record.
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
                udp_frame(&mut buf, resolver, dst, &r);
                w.packet(at(i), &buf)?;
            }
        }
        "slowloris" => {
            let request = b"GET / HTTP/1.1\r\nHost: victim.example\r\nX-a: ";
            let conn = |i: u64| {
                (
                    SocketAddrV4::new(source(i), 1024 + (i % 60_000) as u16),
                    SocketAddrV4::new(server, 80),
                )
            };
            let (iss, irs) = (1000u32, 5000u32);
            // Handshakes over the first 10 s.
            let step = (10_000_000 / n.max(1)).max(1);
            for i in 0..n {
                let (c, s) = conn(i);
                let t = START_MICROS + i * step;
                tcp_frame(&mut buf, c, s, iss, 0, SYN, b"");
                w.packet(t, &buf)?;
                tcp_frame(&mut buf, s, c, irs, iss + 1, SYN | ACK, b"");
                w.packet(t + 1, &buf)?;
                tcp_frame(&mut buf, c, s, iss + 1, irs + 1, ACK, b"");
                w.packet(t + 2, &buf)?;
            }
            // Then one byte per connection every 60 s, under any idle timeout.
            for round in 0..8u64 {
                let base = START_MICROS + 60_000_000 * (round + 1);
                for i in 0..n {
                    let (c, s) = conn(i);
                    let seq = iss + 1 + round as u32;
                    let byte = [request[round as usize]];
                    tcp_frame(&mut buf, c, s, seq, irs + 1, PSH | ACK, &byte);
                    w.packet(base + i * step, &buf)?;
                }
            }
        }
        "frags" => {
            let payload = [0x42u8; 16];
            for i in 0..n {
                let src = source(i / 65_536);
                fragment_frame(
                    &mut buf, src, server, PROTO_UDP, i as u16, 0, true, &payload,
                );
                w.packet(at(i), &buf)?;
            }
        }
        "lookups-and-syns" => {
            // Lookup i answers q{i}.example.com with its own address, then a SYN goes there:
            // every connection must find its lookup among all of them.
            for i in 0..n {
                let src = SocketAddrV4::new(client, 1024 + (i % 60_000) as u16);
                let addr = Ipv4Addr::from(0xac10_0000 | (i as u32 & 0x000f_ffff));
                let mut q = Vec::with_capacity(80);
                q.extend_from_slice(&(i as u16).to_be_bytes());
                q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
                dns_name(&mut q, i);
                q.extend_from_slice(&[0, 1, 0, 1]);
                udp_frame(&mut buf, src, resolver, &q);
                w.packet(at(3 * i), &buf)?;
                let mut r = q.clone();
                r[2] = 0x81;
                r[3] = 0x80;
                r[7] = 1;
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                r.extend_from_slice(&addr.octets());
                udp_frame(&mut buf, resolver, src, &r);
                w.packet(at(3 * i + 1), &buf)?;
                let c = SocketAddrV4::new(client, 20_000 + (i % 40_000) as u16);
                tcp_frame(
                    &mut buf,
                    c,
                    SocketAddrV4::new(addr, 443),
                    i as u32,
                    0,
                    SYN,
                    b"",
                );
                w.packet(at(3 * i + 2), &buf)?;
            }
        }
        "quic-initials" => {
            // A QUIC v1 Initial (RFC 9000 17.2.2) from each of N client ports, each with its
            // own connection ids, padded to 1200 bytes, never answered; the payload is not
            // protected with the DCID's keys, so it does not open.
            for i in 0..n {
                let src = SocketAddrV4::new(source(i / 60_000), 1024 + (i % 60_000) as u16);
                let dst = SocketAddrV4::new(server, 443);
                let mut p = Vec::with_capacity(1200);
                p.push(0xc3);
                p.extend_from_slice(&1u32.to_be_bytes());
                p.push(8);
                p.extend_from_slice(&i.to_be_bytes());
                p.push(8);
                p.extend_from_slice(&(!i).to_be_bytes());
                p.push(0); // no token
                let len = 1200 - (p.len() + 2);
                p.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
                p.resize(1200, 0x5a);
                udp_frame(&mut buf, src, dst, &p);
                w.packet(at(i), &buf)?;
            }
        }
        "hash-collisions" => {
            // SYNs over IPv6 whose flow keys all hash alike under an unkeyed FxHash (the
            // flow table's hasher before it was seeded): a hash table of them is a list.
            for i in 0..n {
                let client = fx_colliding_v6(i);
                let server = FX_COLLIDING_SERVER;
                tcp6_frame(&mut buf, (client, 40_000), (server, 80), i as u32, SYN);
                w.packet(at(i), &buf)?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}
