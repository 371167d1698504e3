//! Network and transport views: IPv4 through etherparse's lax slicing view, which borrows
//! the capture buffer and keeps what a snaplen-cut packet still holds; IPv6 and its
//! extension headers with the same lax semantics by our own bounds-checked walk ([`ipv6`]:
//! etherparse's extension iterator reads out of bounds on a truncated chain); TCP and UDP
//! headers as small checked views of our own (etherparse's options iterator stops at unknown
//! option kinds such as TCP Fast Open's, and its UDP view rejects a datagram cut by the
//! snaplen).
//!
//! Every view is checked once at construction; after that accessors cannot panic.

pub mod defrag;
pub mod flow;
pub mod ipv6;

use std::net::IpAddr;

use etherparse::LaxIpSlice;

use crate::link::NetProto;

pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragInfo {
    pub id: u32,
    /// Offset of this fragment's payload in the datagram, in bytes.
    pub offset: u32,
    pub more: bool,
}

/// An IP packet's addressing and payload.
#[derive(Debug, Clone, Copy)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol (after IPv6 extension headers).
    pub proto: u8,
    pub payload: &'a [u8],
    /// The IP length says more bytes should follow than were captured (snaplen).
    pub incomplete: bool,
    /// Set for a fragment of a larger datagram.
    pub frag: Option<FragInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    Malformed(String),
    NotIp,
}

/// Parses an IPv4 or IPv6 header chain. The version nibble decides, as on the wire (a
/// link's EtherType and the packet may disagree).
pub fn parse_ip(proto: NetProto, data: &[u8]) -> Result<IpPacket<'_>, NetError> {
    if !matches!(proto, NetProto::Ipv4 | NetProto::Ipv6) {
        return Err(NetError::NotIp);
    }
    if data.first().is_some_and(|b| b >> 4 == 6) {
        return ipv6::parse(data);
    }
    // IPv4 (and the errors for anything else) from etherparse; its IPv6 path is not used.
    let (ip, _ext_err) =
        LaxIpSlice::from_slice(data).map_err(|e| NetError::Malformed(e.to_string()))?;
    let v4 = match &ip {
        LaxIpSlice::Ipv4(v4) => v4,
        LaxIpSlice::Ipv6(_) => return Err(NetError::Malformed("IPv6 misread".into())),
    };
    let payload = v4.payload();
    let h = v4.header();
    let offset = h.fragments_offset().value() as u32 * 8;
    let frag = (h.more_fragments() || offset != 0).then_some(FragInfo {
        id: h.identification() as u32,
        offset,
        more: h.more_fragments(),
    });
    Ok(IpPacket {
        src: ip.source_addr(),
        dst: ip.destination_addr(),
        proto: payload.ip_number.0,
        payload: payload.payload,
        incomplete: payload.incomplete,
        frag,
    })
}

/// TCP flag bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// A checked view of a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    options: &'a [u8],
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpError {
    /// Shorter than 20 bytes or than its data offset.
    Truncated { need: usize, have: usize },
    /// Data offset below 5 words.
    BadDataOffset(u8),
}

impl<'a> TcpSegment<'a> {
    pub fn new_checked(data: &'a [u8]) -> Result<TcpSegment<'a>, TcpError> {
        if data.len() < 20 {
            return Err(TcpError::Truncated {
                need: 20,
                have: data.len(),
            });
        }
        let doff = data[12] >> 4;
        if doff < 5 {
            return Err(TcpError::BadDataOffset(doff));
        }
        let hlen = doff as usize * 4;
        if data.len() < hlen {
            return Err(TcpError::Truncated {
                need: hlen,
                have: data.len(),
            });
        }
        let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        Ok(TcpSegment {
            src_port: be16(0),
            dst_port: be16(2),
            seq: be32(4),
            ack: be32(8),
            flags: TcpFlags(data[13]),
            window: be16(14),
            options: &data[20..hlen],
            payload: &data[hlen..],
        })
    }

    /// The options that matter for the handshake report.
    pub fn options(&self) -> TcpOptionSummary {
        let mut s = TcpOptionSummary::default();
        let o = self.options;
        let mut i = 0;
        while i < o.len() {
            let kind = o[i];
            match kind {
                0 => break,
                1 => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = o.get(i + 1) else { break };
            let len = len as usize;
            if len < 2 || i + len > o.len() {
                break;
            }
            let body = &o[i + 2..i + len];
            match (kind, body.len()) {
                (2, 2) => s.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (3, 1) => s.wscale = Some(body[0]),
                (4, 0) => s.sack_permitted = true,
                (8, 8) => s.timestamps = true,
                (34, _) => s.fastopen = true,
                // Experimental TFO option before kind 34 was assigned (RFC 7413 section 4.1.1).
                (254, n) if n >= 2 && body[0] == 0xf9 && body[1] == 0x89 => s.fastopen = true,
                _ => {}
            }
            i += len;
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptionSummary {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: bool,
    pub fastopen: bool,
}

/// A checked view of a UDP datagram; the payload is cut to what was captured.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
    /// The UDP length says more bytes than were captured.
    pub incomplete: bool,
}

impl<'a> UdpDatagram<'a> {
    pub fn new_checked(data: &'a [u8]) -> Option<UdpDatagram<'a>> {
        if data.len() < 8 {
            return None;
        }
        let len = u16::from_be_bytes([data[4], data[5]]) as usize;
        // Length 0 happens with IPv6 jumbograms and segmentation offload: use what is there.
        let end = if len >= 8 {
            len.min(data.len())
        } else {
            data.len()
        };
        Some(UdpDatagram {
            src_port: u16::from_be_bytes([data[0], data[1]]),
            dst_port: u16::from_be_bytes([data[2], data[3]]),
            payload: &data[8..end],
            incomplete: len > data.len(),
        })
    }
}

/// `ip:port`, with IPv6 in brackets as REPORT.md writes endpoints.
pub fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_header(flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let hlen = 20 + options.len();
        let mut v = vec![0u8; 20];
        v[0..2].copy_from_slice(&443u16.to_be_bytes());
        v[2..4].copy_from_slice(&51000u16.to_be_bytes());
        v[4..8].copy_from_slice(&7u32.to_be_bytes());
        v[8..12].copy_from_slice(&9u32.to_be_bytes());
        v[12] = ((hlen / 4) as u8) << 4;
        v[13] = flags;
        v[14..16].copy_from_slice(&512u16.to_be_bytes());
        v.extend_from_slice(options);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn tcp_view_and_options() {
        let opts = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7, 34, 2, 0, 0,
        ];
        let d = tcp_header(TcpFlags::SYN, &opts, b"");
        let s = TcpSegment::new_checked(&d).unwrap();
        assert_eq!(
            (s.src_port, s.dst_port, s.seq, s.ack, s.window),
            (443, 51000, 7, 9, 512)
        );
        assert!(s.flags.syn() && !s.flags.ack());
        let o = s.options();
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(7));
        assert!(o.sack_permitted && o.timestamps && o.fastopen);
    }

    #[test]
    fn tcp_malformed_options_stop_quietly() {
        let d = tcp_header(0x10, &[2, 40, 0, 0], b"x");
        let s = TcpSegment::new_checked(&d).unwrap();
        assert_eq!(s.options(), TcpOptionSummary::default());
        assert_eq!(s.payload, b"x");
    }

    #[test]
    fn tcp_truncated_at_every_offset() {
        let d = tcp_header(0x18, &[1, 1, 1, 1], b"data");
        for n in 0..24 {
            assert!(TcpSegment::new_checked(&d[..n]).is_err(), "{n}");
        }
        assert!(TcpSegment::new_checked(&d[..24]).is_ok());
        let mut bad = d.clone();
        bad[12] = 0x40;
        assert_eq!(
            TcpSegment::new_checked(&bad).unwrap_err(),
            TcpError::BadDataOffset(4)
        );
    }

    #[test]
    fn udp_cut_by_snaplen_keeps_what_is_there() {
        let d = [0, 53, 0xc3, 0x50, 0, 100, 0, 0, 1, 2, 3];
        let u = UdpDatagram::new_checked(&d).unwrap();
        assert_eq!((u.src_port, u.dst_port), (53, 50000));
        assert_eq!(u.payload, &[1, 2, 3]);
        assert!(u.incomplete);
        assert!(UdpDatagram::new_checked(&d[..7]).is_none());
    }

    #[test]
    fn ipv4_and_fragments() {
        let mut p = vec![
            0x45, 0, 0, 28, 0x12, 0x34, 0x20, 0x01, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[0; 8]);
        let ip = parse_ip(NetProto::Ipv4, &p).unwrap();
        assert_eq!(ip.proto, PROTO_UDP);
        assert_eq!(
            ip.frag,
            Some(FragInfo {
                id: 0x1234,
                offset: 8,
                more: true
            })
        );
        assert_eq!(endpoint(ip.src, 53), "10.0.0.1:53");
        assert!(parse_ip(NetProto::Ipv4, &p[..10]).is_err());
        assert_eq!(endpoint("fd99::1".parse().unwrap(), 443), "[fd99::1]:443");
    }
}
