//! IPv6: the fixed header and a bounds-checked walk of the extension header chain.
//!
//! Our own rather than etherparse's: etherparse 0.21 (the newest release) slices the chain
//! lax, keeping the headers that parsed, but its iterator over that slice then reads the
//! header that did *not* parse with `get_unchecked`, out of bounds, when a Hop-by-Hop
//! header is followed by a truncated one (undefined behaviour from a single packet; see
//! `tests/fuzz_regressions.rs`). Here every length from the wire goes through `get`.
//!
//! Consumes the bytes after the link header; produces an [`IpPacket`] whose `proto` and
//! `payload` are what follows the last extension header that was walked. The walk stops,
//! keeping what parsed (etherparse's lax semantics, which the rest of the pipeline expects),
//! at the first of:
//! - a protocol that is not an extension header (TCP, UDP, ICMPv6, No Next Header, ...);
//! - ESP (50): what follows is encrypted;
//! - a header cut short by the capture or the payload length, or malformed (an AH shorter
//!   than its fixed part, a Hop-by-Hop header that is not first);
//! - a Fragment header that fragments: RFC 8200 section 4.5, "the Next Header field of the
//!   Fragment header identifies the initial header type of the Fragmentable Part of the
//!   original packet", which only the first fragment carries, so what follows is payload;
//! - [`MAX_EXTENSIONS`] headers.
//!
//! When it stops early, `proto` is the extension header's own number, so the transport
//! layer counts the packet as another protocol instead of misreading it.

use std::net::{IpAddr, Ipv6Addr};

use super::{FragInfo, IpPacket, NetError};

/// Fixed header length (RFC 8200 section 3).
pub const HEADER_LEN: usize = 40;
/// Most extension headers walked in one packet. RFC 8200 section 4.1 recommends an order
/// with at most one of each (Destination Options twice): seven; the rest is hostile.
pub const MAX_EXTENSIONS: usize = 16;

pub const HOP_BY_HOP: u8 = 0;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const ESP: u8 = 50;
pub const AUTH: u8 = 51;
pub const DEST_OPTIONS: u8 = 60;

/// Parses an IPv6 packet; `data` starts at the version nibble, which must be 6.
pub fn parse(data: &[u8]) -> Result<IpPacket<'_>, NetError> {
    let Some(head) = data.get(..HEADER_LEN) else {
        return Err(NetError::Malformed(format!(
            "IPv6 header needs {HEADER_LEN} bytes, {} captured",
            data.len()
        )));
    };
    let version = head[0] >> 4;
    if version != 6 {
        return Err(NetError::Malformed(format!(
            "IP version {version} in an IPv6 header"
        )));
    }
    let payload_len = usize::from(u16::from_be_bytes([head[4], head[5]]));
    let next_header = head[6];
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&head[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let body = &data[HEADER_LEN..];
    // Payload length 0 with bytes after the header: a jumbogram (RFC 2675) or segmentation
    // offload; take what is there.
    let (body, incomplete) = if payload_len == 0 && !body.is_empty() {
        (body, false)
    } else if body.len() < payload_len {
        (body, true)
    } else {
        (&body[..payload_len], false)
    };
    let (proto, payload, frag) = walk(next_header, body);
    Ok(IpPacket {
        src: addr(8),
        dst: addr(24),
        proto,
        payload,
        incomplete,
        frag,
    })
}

/// Walks the extension headers from `next` over `rest`: the transport protocol (or the
/// header the walk stopped at), its bytes, and the fragment, if a Fragment header fragments.
fn walk(mut next: u8, mut rest: &[u8]) -> (u8, &[u8], Option<FragInfo>) {
    for walked in 0..MAX_EXTENSIONS {
        let len = match next {
            // RFC 8200 section 4.3: Hop-by-Hop "is restricted to appear immediately after
            // an IPv6 header".
            HOP_BY_HOP if walked > 0 => return (next, rest, None),
            // Hdr Ext Len: 8-octet units, not including the first 8 octets.
            HOP_BY_HOP | ROUTING | DEST_OPTIONS => match rest.get(1) {
                Some(&n) => (usize::from(n) + 1) * 8,
                None => return (next, rest, None),
            },
            FRAGMENT => 8,
            // RFC 4302 section 2.2: Payload Len is in 4-octet units, minus 2; the fixed
            // part (next header to sequence number) is 12 octets.
            AUTH => match rest.get(1) {
                Some(&n) if (usize::from(n) + 2) * 4 >= 12 => (usize::from(n) + 2) * 4,
                _ => return (next, rest, None),
            },
            _ => return (next, rest, None),
        };
        let Some(header) = rest.get(..len) else {
            return (next, rest, None);
        };
        let after = &rest[len..];
        if next == FRAGMENT {
            // Fragment Offset (13 bits, 8-octet units), Res, M; Identification.
            let word = u16::from_be_bytes([header[2], header[3]]);
            let offset = u32::from(word >> 3) * 8;
            let more = word & 1 != 0;
            if offset != 0 || more {
                let id = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
                return (header[0], after, Some(FragInfo { id, offset, more }));
            }
        }
        next = header[0];
        rest = after;
    }
    (next, rest, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, payload_len: Option<u16>, exts: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        let len = payload_len.unwrap_or(exts.len() as u16);
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(exts);
        p
    }

    #[test]
    fn no_extensions() {
        let p = packet(17, None, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, 17);
        assert_eq!(ip.payload.len(), 8);
        assert_eq!(ip.src, "fd99::1".parse::<IpAddr>().unwrap());
        assert_eq!(ip.dst, "fd99::2".parse::<IpAddr>().unwrap());
        assert!(!ip.incomplete && ip.frag.is_none());
    }

    #[test]
    fn chain_to_tcp() {
        // Hop-by-Hop (8) -> Destination Options (16) -> Routing (8) -> AH (12) -> TCP.
        let mut e = vec![DEST_OPTIONS, 0, 1, 4, 0, 0, 0, 0];
        e.extend_from_slice(&[ROUTING, 1]);
        e.extend_from_slice(&[0; 14]);
        e.extend_from_slice(&[AUTH, 0, 0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&[6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        e.extend_from_slice(b"tcp");
        let p = packet(HOP_BY_HOP, None, &e);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload), (6, &b"tcp"[..]));
    }

    #[test]
    fn fragment_header() {
        let e = [17, 0, 0x00, 0x11, 0, 0, 0x12, 0x34, 9, 9];
        let p = packet(FRAGMENT, None, &e);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, 17);
        assert_eq!(ip.payload, &[9, 9]);
        assert_eq!(
            ip.frag,
            Some(FragInfo {
                id: 0x1234,
                offset: 16,
                more: true
            })
        );
        // An atomic fragment (offset 0, no more) does not fragment: walked through.
        let e = [17, 0, 0, 0, 0, 0, 0, 1, 9];
        let p = packet(FRAGMENT, None, &e);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload, ip.frag), (17, &[9u8][..], None));
    }

    #[test]
    fn stops_where_parsing_stops() {
        // Hop-by-Hop, then a Routing header with no bytes: stop at Routing.
        let p = packet(HOP_BY_HOP, None, &[ROUTING, 0, 1, 4, 0, 0, 0, 0]);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload), (ROUTING, &[][..]));
        // Hop-by-Hop twice: the second is not first.
        let p = packet(HOP_BY_HOP, None, &[HOP_BY_HOP, 0, 1, 4, 0, 0, 0, 0]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, HOP_BY_HOP);
        // ESP: encrypted.
        let p = packet(ESP, None, &[1, 2, 3, 4]);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload.len()), (ESP, 4));
        // AH with Payload Len 0: shorter than its fixed part.
        let p = packet(AUTH, None, &[6, 0, 0, 0, 0, 0, 0, 0]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, AUTH);
        // A header claiming more than there is.
        let p = packet(DEST_OPTIONS, None, &[6, 200, 1, 4, 0, 0, 0, 0]);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload.len()), (DEST_OPTIONS, 8));
    }

    #[test]
    fn chain_is_capped() {
        let mut e = Vec::new();
        for _ in 0..100 {
            e.extend_from_slice(&[DEST_OPTIONS, 0, 1, 4, 0, 0, 0, 0]);
        }
        let p = packet(DEST_OPTIONS, None, &e);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, DEST_OPTIONS);
        assert_eq!(ip.payload.len(), (100 - MAX_EXTENSIONS) * 8);
    }

    #[test]
    fn lengths_from_the_header() {
        // Payload length beyond the capture: incomplete.
        let p = packet(17, Some(100), &[0; 8]);
        let ip = parse(&p).unwrap();
        assert!(ip.incomplete);
        assert_eq!(ip.payload.len(), 8);
        // Shorter than the capture (Ethernet padding): cut.
        let p = packet(17, Some(4), &[0; 8]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.payload.len(), 4);
        // Zero with bytes after the header: all of them.
        let p = packet(17, Some(0), &[0; 8]);
        let ip = parse(&p).unwrap();
        assert!(!ip.incomplete);
        assert_eq!(ip.payload.len(), 8);
    }

    /// Every prefix and every single-byte value at every offset of a packet with a full
    /// chain: never a panic.
    #[test]
    fn truncated_and_corrupted_at_every_offset() {
        let mut e = vec![DEST_OPTIONS, 0, 1, 4, 0, 0, 0, 0];
        e.extend_from_slice(&[ROUTING, 0, 0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&[FRAGMENT, 0, 0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&[AUTH, 0, 0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&[6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        e.extend_from_slice(&[0; 20]);
        let p = packet(HOP_BY_HOP, None, &e);
        for n in 0..=p.len() {
            let _ = parse(&p[..n]);
        }
        for at in 0..p.len() {
            for v in [0u8, 1, 6, 43, 44, 50, 51, 60, 0x7f, 0xff] {
                let mut q = p.clone();
                q[at] = v;
                let _ = parse(&q);
            }
        }
    }
}
