//! QUIC packet headers (RFC 9000 17, RFC 9369 3): borrowed views over one datagram.
//!
//! [`parse_packet`] reads the packet at the start of a datagram and says how many bytes it
//! occupies, so coalesced packets (RFC 9000 12.2) are walked by calling it again on the rest.
//! Nothing here decrypts; the packet number offset is returned for [`super::crypto`].

/// QUIC version 1 (RFC 9000).
pub const V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 3.1).
pub const V2: u32 = 0x6b33_43cf;

/// Versions whose Initial packets pagetrace can unprotect.
pub fn is_known_version(v: u32) -> bool {
    v == V1 || v == V2
}

/// `v1`, `v2`, or the version in hex.
pub fn version_name(v: u32) -> String {
    match v {
        V1 => "v1".to_string(),
        V2 => "v2".to_string(),
        0 => "negotiation".to_string(),
        _ => format!("0x{v:08x}"),
    }
}

/// Errors reading a packet header. "Need more bytes" is not "invalid": a snaplen cut
/// datagram is `Truncated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicError {
    Truncated(&'static str),
    Invalid(&'static str),
    UnknownVersion(u32),
    /// Packet protection did not authenticate (wrong keys or damaged bytes).
    AuthFailed,
}

impl std::fmt::Display for QuicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuicError::Truncated(w) => write!(f, "truncated {w}"),
            QuicError::Invalid(w) => write!(f, "invalid {w}"),
            QuicError::UnknownVersion(v) => write!(f, "unknown version 0x{v:08x}"),
            QuicError::AuthFailed => f.write_str("packet protection did not authenticate"),
        }
    }
}

/// Long header packet types, independent of how a version encodes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongType {
    /// RFC 9000 17.2: Initial 0, 0-RTT 1, Handshake 2, Retry 3. RFC 9369 3.2: "Initial:
    /// 0b01, 0-RTT: 0b10, Handshake: 0b11, Retry: 0b00".
    pub fn from_bits(version: u32, bits: u8) -> LongType {
        let bits = bits & 0x03;
        let v1_bits = if version == V2 {
            bits.wrapping_sub(1) & 0x03
        } else {
            bits
        };
        match v1_bits {
            0 => LongType::Initial,
            1 => LongType::ZeroRtt,
            2 => LongType::Handshake,
            _ => LongType::Retry,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LongType::Initial => "Initial",
            LongType::ZeroRtt => "0-RTT",
            LongType::Handshake => "Handshake",
            LongType::Retry => "Retry",
        }
    }
}

/// Reads a variable-length integer (RFC 9000 16): two high bits give 1, 2, 4 or 8 bytes.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = buf.get(*pos..pos.checked_add(len)?)?;
    let mut v = u64::from(first & 0x3f);
    for b in &bytes[1..] {
        v = (v << 8) | u64::from(*b);
    }
    *pos += len;
    Some(v)
}

/// One packet at the start of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicPacket<'a> {
    /// Initial, 0-RTT or Handshake: `bytes` is the whole packet (header through tag).
    Long {
        kind: LongType,
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
        token: &'a [u8],
        /// Offset of the (protected) packet number inside `bytes`.
        pn_offset: usize,
        bytes: &'a [u8],
    },
    Retry {
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
    },
    /// RFC 9000 17.2.1: version 0; `versions` is the raw list of 4-byte versions.
    VersionNegotiation {
        dcid: &'a [u8],
        scid: &'a [u8],
        versions: &'a [u8],
    },
    /// 1-RTT (RFC 9000 17.3): the rest of the datagram; the DCID length is not on the wire.
    Short { bytes: &'a [u8] },
}

impl QuicPacket<'_> {
    /// The version named in a long header (0 for Version Negotiation, `None` for short).
    pub fn version(&self) -> Option<u32> {
        match self {
            QuicPacket::Long { version, .. } | QuicPacket::Retry { version, .. } => Some(*version),
            QuicPacket::VersionNegotiation { .. } => Some(0),
            QuicPacket::Short { .. } => None,
        }
    }
}

/// Whether a datagram starts with a long header of a known version (or a Version
/// Negotiation): the content test that picks QUIC out of UDP (RFC 8999 5.1).
pub fn looks_like_quic(dgram: &[u8]) -> bool {
    let Some(&first) = dgram.first() else {
        return false;
    };
    let Some(v) = dgram.get(1..5) else {
        return false;
    };
    let version = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    // RFC 9000 17.2: "Header Form: The most significant bit (0x80) of byte 0 (the first
    // byte) is set to 1 for long headers." and "Fixed Bit: ... MUST be set to 1" (RFC 9287
    // grease aside: a capture of a greasing peer would not be recognised by its first packet).
    first & 0x80 != 0 && first & 0x40 != 0 && is_known_version(version)
}

fn cid<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], QuicError> {
    let len = usize::from(
        *buf.get(*pos)
            .ok_or(QuicError::Truncated("connection ID length"))?,
    );
    // RFC 9000 17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes." Version
    // Negotiation may carry longer ones (RFC 8999 allows 255), so the cap is the byte.
    let s = buf
        .get(*pos + 1..*pos + 1 + len)
        .ok_or(QuicError::Truncated("connection ID"))?;
    *pos += 1 + len;
    Ok(s)
}

/// Reads the packet at the start of `dgram`; returns it and its length in bytes.
pub fn parse_packet(dgram: &[u8]) -> Result<(QuicPacket<'_>, usize), QuicError> {
    let first = *dgram.first().ok_or(QuicError::Truncated("first byte"))?;
    if first & 0x80 == 0 {
        return Ok((QuicPacket::Short { bytes: dgram }, dgram.len()));
    }
    let v = dgram.get(1..5).ok_or(QuicError::Truncated("version"))?;
    let version = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    let mut pos = 5;
    let dcid = cid(dgram, &mut pos)?;
    let scid = cid(dgram, &mut pos)?;
    if version == 0 {
        let versions = &dgram[pos..];
        return Ok((
            QuicPacket::VersionNegotiation {
                dcid,
                scid,
                versions,
            },
            dgram.len(),
        ));
    }
    if !is_known_version(version) {
        return Err(QuicError::UnknownVersion(version));
    }
    if dcid.len() > 20 || scid.len() > 20 {
        return Err(QuicError::Invalid("connection ID longer than 20 bytes"));
    }
    let kind = LongType::from_bits(version, first >> 4);
    let mut token: &[u8] = &[];
    match kind {
        LongType::Retry => {
            // RFC 9000 17.2.5: Retry Token then a 128-bit Retry Integrity Tag; no Length,
            // so it runs to the end of the datagram.
            return Ok((
                QuicPacket::Retry {
                    version,
                    dcid,
                    scid,
                },
                dgram.len(),
            ));
        }
        LongType::Initial => {
            let tlen = read_varint(dgram, &mut pos).ok_or(QuicError::Truncated("token length"))?;
            let tlen = usize::try_from(tlen).map_err(|_| QuicError::Invalid("token length"))?;
            let end = pos
                .checked_add(tlen)
                .ok_or(QuicError::Invalid("token length"))?;
            token = dgram.get(pos..end).ok_or(QuicError::Truncated("token"))?;
            pos = end;
        }
        LongType::ZeroRtt | LongType::Handshake => {}
    }
    let len = read_varint(dgram, &mut pos).ok_or(QuicError::Truncated("length"))?;
    let len = usize::try_from(len).map_err(|_| QuicError::Invalid("length"))?;
    let end = pos.checked_add(len).ok_or(QuicError::Invalid("length"))?;
    let bytes = dgram
        .get(..end)
        .ok_or(QuicError::Truncated("packet (Length beyond the datagram)"))?;
    Ok((
        QuicPacket::Long {
            kind,
            version,
            dcid,
            scid,
            token,
            pn_offset: pos,
            bytes,
        },
        end,
    ))
}

/// RFC 9000 A.3 packet number reconstruction; it lives with packet protection.
pub use crate::decrypt::quic::decode_packet_number;
