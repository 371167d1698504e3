//! Link layers: stateless views from a frame to the network-layer payload.
//!
//! Ethernet II with any number of 802.1Q / 802.1ad (QinQ) tags, Linux cooked capture v1
//! (SLL, DLT 113) and v2 (SLL2, DLT 276), raw IP (DLT 101, 12, 14, 228, 229), and BSD
//! loopback (NULL, DLT 0, host byte order; LOOP, DLT 108, network order).
//!
//! SLL and SLL2 headers are parsed here rather than by etherparse: a check found etherparse
//! rejected every packet of a real `-i any` SLL v1 capture, and it has no SLL2.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LinkType {
    Ethernet,
    LinuxSll,
    LinuxSll2,
    Raw,
    Ipv4,
    Ipv6,
    Null,
    Loop,
    Unknown(u32),
}

impl LinkType {
    /// From a pcap LINKTYPE / DLT value.
    pub fn from_dlt(v: u32) -> LinkType {
        match v {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            101 | 12 | 14 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            other => LinkType::Unknown(other),
        }
    }

    /// The name libpcap gives the link type (`ETHERNET`, `LINUX_SLL`, ...).
    pub fn name(self) -> String {
        match self {
            LinkType::Ethernet => "ETHERNET".into(),
            LinkType::LinuxSll => "LINUX_SLL".into(),
            LinkType::LinuxSll2 => "LINUX_SLL2".into(),
            LinkType::Raw => "RAW".into(),
            LinkType::Ipv4 => "IPV4".into(),
            LinkType::Ipv6 => "IPV6".into(),
            LinkType::Null => "NULL".into(),
            LinkType::Loop => "LOOP".into(),
            LinkType::Unknown(n) => format!("LINKTYPE_{n}"),
        }
    }
}

/// The network-layer protocol of a frame's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetProto {
    Ipv4,
    Ipv6,
    /// ARP, LLDP, ... by EtherType: counted and skipped.
    Other(u16),
}

/// A frame's network payload, borrowed from the capture buffer.
#[derive(Debug, Clone, Copy)]
pub struct LinkFrame<'a> {
    pub proto: NetProto,
    pub payload: &'a [u8],
    /// Outermost VLAN id, if tagged.
    pub vlan: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The frame is shorter than its link header.
    Truncated { need: usize, have: usize },
    /// A link type this build does not decode.
    Unsupported(LinkType),
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// Most VLAN tags followed before giving up (hostile frames could stack them).
const MAX_VLAN_TAGS: usize = 8;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn need(data: &[u8], n: usize) -> Result<(), LinkError> {
    if data.len() < n {
        Err(LinkError::Truncated {
            need: n,
            have: data.len(),
        })
    } else {
        Ok(())
    }
}

fn by_ethertype(ethertype: u16) -> NetProto {
    match ethertype {
        ETHERTYPE_IPV4 => NetProto::Ipv4,
        ETHERTYPE_IPV6 => NetProto::Ipv6,
        other => NetProto::Other(other),
    }
}

fn by_version(payload: &[u8]) -> NetProto {
    match payload.first().map(|b| b >> 4) {
        Some(4) => NetProto::Ipv4,
        Some(6) => NetProto::Ipv6,
        _ => NetProto::Other(0),
    }
}

/// Strips VLAN tags starting at `at` (which holds an EtherType).
fn after_ethertype(data: &[u8], mut at: usize) -> Result<LinkFrame<'_>, LinkError> {
    let mut vlan = None;
    for _ in 0..=MAX_VLAN_TAGS {
        need(data, at + 2)?;
        let ethertype = be16(data, at).unwrap_or(0);
        if ETHERTYPE_VLAN.contains(&ethertype) {
            need(data, at + 6)?;
            if vlan.is_none() {
                vlan = Some(be16(data, at + 2).unwrap_or(0) & 0x0fff);
            }
            at += 4;
            continue;
        }
        let proto = if ethertype < 0x0600 {
            NetProto::Other(ethertype)
        } else {
            by_ethertype(ethertype)
        };
        return Ok(LinkFrame {
            proto,
            payload: &data[at + 2..],
            vlan,
        });
    }
    Ok(LinkFrame {
        proto: NetProto::Other(0x8100),
        payload: &[],
        vlan,
    })
}

/// Decodes a frame of the given link type down to its network payload.
pub fn decode(link: LinkType, data: &[u8]) -> Result<LinkFrame<'_>, LinkError> {
    match link {
        LinkType::Ethernet => {
            need(data, 14)?;
            after_ethertype(data, 12)
        }
        LinkType::LinuxSll => {
            // pkttype(2) arphrd(2) addrlen(2) addr(8) protocol(2)
            need(data, 16)?;
            let arphrd = be16(data, 2).unwrap_or(0);
            sll_payload(data, 16, arphrd, be16(data, 14).unwrap_or(0))
        }
        LinkType::LinuxSll2 => {
            // protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8)
            need(data, 20)?;
            let arphrd = be16(data, 8).unwrap_or(0);
            sll_payload(data, 20, arphrd, be16(data, 0).unwrap_or(0))
        }
        LinkType::Raw => Ok(LinkFrame {
            proto: by_version(data),
            payload: data,
            vlan: None,
        }),
        LinkType::Ipv4 => Ok(LinkFrame {
            proto: NetProto::Ipv4,
            payload: data,
            vlan: None,
        }),
        LinkType::Ipv6 => Ok(LinkFrame {
            proto: NetProto::Ipv6,
            payload: data,
            vlan: None,
        }),
        LinkType::Null | LinkType::Loop => {
            need(data, 4)?;
            let word = [data[0], data[1], data[2], data[3]];
            let family = if link == LinkType::Loop {
                u32::from_be_bytes(word)
            } else {
                // Host byte order of the capturing machine: take whichever reading is small.
                let le = u32::from_le_bytes(word);
                let be = u32::from_be_bytes(word);
                le.min(be)
            };
            let payload = &data[4..];
            let proto = match family {
                2 => NetProto::Ipv4,
                // AF_INET6 differs by OS: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
                10 | 24 | 28 | 30 => NetProto::Ipv6,
                _ => by_version(payload),
            };
            Ok(LinkFrame {
                proto,
                payload,
                vlan: None,
            })
        }
        LinkType::Unknown(_) => Err(LinkError::Unsupported(link)),
    }
}

fn sll_payload(
    data: &[u8],
    header: usize,
    arphrd: u16,
    protocol: u16,
) -> Result<LinkFrame<'_>, LinkError> {
    let payload = &data[header..];
    // ARPHRD_NETLINK (824) and friends carry no IP; protocol 0x0004 is 802.2 LLC.
    if arphrd == 824 {
        return Ok(LinkFrame {
            proto: NetProto::Other(protocol),
            payload,
            vlan: None,
        });
    }
    if ETHERTYPE_VLAN.contains(&protocol) {
        // The tag follows the cooked header as in Ethernet: TCI(2) then EtherType(2).
        return after_ethertype(data, header - 2);
    }
    let proto = match protocol {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => by_ethertype(protocol),
        _ => NetProto::Other(protocol),
    };
    Ok(LinkFrame {
        proto,
        payload,
        vlan: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ethertype: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend_from_slice(ethertype);
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn ethernet_ipv4() {
        let f = eth(&[0x08, 0x00], &[0x45, 1, 2]);
        let l = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!(l.proto, NetProto::Ipv4);
        assert_eq!(l.payload, &[0x45, 1, 2]);
        assert_eq!(l.vlan, None);
    }

    #[test]
    fn qinq_tags_are_stripped() {
        let f = eth(
            &[0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x2a, 0x86, 0xdd],
            &[0x60],
        );
        let l = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!(l.proto, NetProto::Ipv6);
        assert_eq!(l.vlan, Some(7));
        assert_eq!(l.payload, &[0x60]);
    }

    #[test]
    fn arp_is_other() {
        let f = eth(&[0x08, 0x06], &[0; 28]);
        assert_eq!(
            decode(LinkType::Ethernet, &f).unwrap().proto,
            NetProto::Other(0x0806)
        );
    }

    #[test]
    fn sll_v1_and_v2() {
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.push(0x45);
        let l = decode(LinkType::LinuxSll, &sll).unwrap();
        assert_eq!((l.proto, l.payload), (NetProto::Ipv4, &[0x45u8][..]));
        let mut sll2 = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        sll2.push(0x60);
        let l = decode(LinkType::LinuxSll2, &sll2).unwrap();
        assert_eq!((l.proto, l.payload), (NetProto::Ipv6, &[0x60u8][..]));
    }

    #[test]
    fn null_in_either_byte_order() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 30, 0x60];
        assert_eq!(decode(LinkType::Null, &le).unwrap().proto, NetProto::Ipv4);
        assert_eq!(decode(LinkType::Null, &be).unwrap().proto, NetProto::Ipv6);
        assert_eq!(
            decode(LinkType::Loop, &[0, 0, 0, 2, 0x45]).unwrap().proto,
            NetProto::Ipv4
        );
    }

    #[test]
    fn truncated_at_every_offset_never_panics() {
        let f = eth(&[0x81, 0x00, 0x00, 0x07, 0x08, 0x00], &[0x45; 20]);
        for link in [
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Null,
            LinkType::Loop,
            LinkType::Raw,
        ] {
            for n in 0..f.len() {
                let _ = decode(link, &f[..n]);
            }
        }
        assert!(matches!(
            decode(LinkType::Ethernet, &f[..13]),
            Err(LinkError::Truncated { need: 14, have: 13 })
        ));
    }

    #[test]
    fn endless_vlan_stack_stops() {
        let mut f = vec![0u8; 12];
        for _ in 0..20 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let l = decode(LinkType::Ethernet, &f).unwrap();
        assert_eq!(l.proto, NetProto::Other(0x8100));
    }
}
