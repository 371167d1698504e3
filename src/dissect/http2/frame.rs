//! HTTP/2 frame heads and payload views (RFC 9113 §4, §6; RFC 7838 ALTSVC; RFC 8336 ORIGIN).
//!
//! Everything here is a pure function of bytes: a 9-byte head parses into a [`FrameHead`],
//! and payload helpers strip padding and priority fields with checked arithmetic, returning
//! [`FrameError`] when the lengths do not add up.

use std::fmt;

/// Length of a frame head.
pub const HEAD_LEN: usize = 9;
/// RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE initial value.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// RFC 9113 §6.5.2: the largest SETTINGS_MAX_FRAME_SIZE allowed (2^24 - 1).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

pub mod flags {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Frame types; unknown codes are values, not errors (RFC 9113 §4.1: "Implementations MUST
/// ignore and discard frames of unknown types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    AltSvc,
    Origin,
    Unknown(u8),
}

impl FrameType {
    pub fn from_u8(t: u8) -> FrameType {
        match t {
            0x0 => FrameType::Data,
            0x1 => FrameType::Headers,
            0x2 => FrameType::Priority,
            0x3 => FrameType::RstStream,
            0x4 => FrameType::Settings,
            0x5 => FrameType::PushPromise,
            0x6 => FrameType::Ping,
            0x7 => FrameType::GoAway,
            0x8 => FrameType::WindowUpdate,
            0x9 => FrameType::Continuation,
            0xa => FrameType::AltSvc,
            0xc => FrameType::Origin,
            n => FrameType::Unknown(n),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            FrameType::Data => 0x0,
            FrameType::Headers => 0x1,
            FrameType::Priority => 0x2,
            FrameType::RstStream => 0x3,
            FrameType::Settings => 0x4,
            FrameType::PushPromise => 0x5,
            FrameType::Ping => 0x6,
            FrameType::GoAway => 0x7,
            FrameType::WindowUpdate => 0x8,
            FrameType::Continuation => 0x9,
            FrameType::AltSvc => 0xa,
            FrameType::Origin => 0xc,
            FrameType::Unknown(n) => n,
        }
    }

    /// Flags this type defines (RFC 9113 §6).
    pub fn defined_flags(self) -> u8 {
        use flags::*;
        match self {
            FrameType::Data => END_STREAM | PADDED,
            FrameType::Headers => END_STREAM | END_HEADERS | PADDED | PRIORITY,
            FrameType::Settings | FrameType::Ping => ACK,
            FrameType::PushPromise => END_HEADERS | PADDED,
            FrameType::Continuation => END_HEADERS,
            _ => 0,
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameType::Data => f.write_str("DATA"),
            FrameType::Headers => f.write_str("HEADERS"),
            FrameType::Priority => f.write_str("PRIORITY"),
            FrameType::RstStream => f.write_str("RST_STREAM"),
            FrameType::Settings => f.write_str("SETTINGS"),
            FrameType::PushPromise => f.write_str("PUSH_PROMISE"),
            FrameType::Ping => f.write_str("PING"),
            FrameType::GoAway => f.write_str("GOAWAY"),
            FrameType::WindowUpdate => f.write_str("WINDOW_UPDATE"),
            FrameType::Continuation => f.write_str("CONTINUATION"),
            FrameType::AltSvc => f.write_str("ALTSVC"),
            FrameType::Origin => f.write_str("ORIGIN"),
            FrameType::Unknown(n) => write!(f, "UNKNOWN(0x{n:02x})"),
        }
    }
}

/// A parsed frame head (RFC 9113 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    /// Payload length (24 bits).
    pub length: u32,
    pub kind: FrameType,
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream: u32,
    /// The reserved bit was set ("MUST remain unset (0x0) when sending").
    pub reserved: bool,
}

impl FrameHead {
    pub fn parse(b: &[u8; HEAD_LEN]) -> FrameHead {
        let sid = u32::from_be_bytes([b[5], b[6], b[7], b[8]]);
        FrameHead {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: FrameType::from_u8(b[3]),
            flags: b[4],
            stream: sid & 0x7fff_ffff,
            reserved: sid & 0x8000_0000 != 0,
        }
    }

    /// The head at the start of `b`, if 9 bytes are there.
    pub fn peek(b: &[u8]) -> Option<FrameHead> {
        let h: &[u8; HEAD_LEN] = b.get(..HEAD_LEN)?.try_into().ok()?;
        Some(FrameHead::parse(h))
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Whether this head could start a frame of a healthy connection: a known type with only
    /// its defined flags, the stream-id rules and fixed lengths of §6, and a length within
    /// `max_len`. Used to find frame boundaries again after a gap or a mid-connection start.
    pub fn plausible(&self, max_len: u32) -> bool {
        if self.reserved || self.length > max_len {
            return false;
        }
        if let FrameType::Unknown(_) = self.kind {
            return false;
        }
        if self.flags & !self.kind.defined_flags() != 0 {
            return false;
        }
        let on_stream = self.stream != 0;
        match self.kind {
            FrameType::Data | FrameType::Headers | FrameType::Continuation => on_stream,
            FrameType::PushPromise => on_stream && self.length >= 4,
            FrameType::Priority => on_stream && self.length == 5,
            FrameType::RstStream => on_stream && self.length == 4,
            FrameType::Settings => {
                !on_stream
                    && self.length.is_multiple_of(6)
                    && (!self.has(flags::ACK) || self.length == 0)
            }
            FrameType::Ping => !on_stream && self.length == 8,
            FrameType::GoAway => !on_stream && self.length >= 8,
            FrameType::WindowUpdate => self.length == 4,
            FrameType::AltSvc => self.length >= 2,
            FrameType::Origin => !on_stream,
            FrameType::Unknown(_) => false,
        }
    }
}

/// A payload whose lengths do not add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// "If the length of the padding is the length of the frame payload or greater, the
    /// recipient MUST treat this as a connection error" (RFC 9113 §6.1).
    PaddingTooLong { pad: u8, length: u32 },
    /// A fixed-size field is missing.
    TooShort { kind: FrameType, length: u32 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::PaddingTooLong { pad, length } => {
                write!(f, "padding of {pad} bytes in a {length}-byte payload")
            }
            FrameError::TooShort { kind, length } => {
                write!(f, "{kind} payload of {length} bytes is too short")
            }
        }
    }
}

/// Strips the Pad Length byte and the padding of a PADDED frame (DATA, HEADERS,
/// PUSH_PROMISE), returning the content between them.
pub fn unpad<'a>(head: &FrameHead, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    if !head.has(flags::PADDED) {
        return Ok(payload);
    }
    let (&pad, rest) = payload.split_first().ok_or(FrameError::TooShort {
        kind: head.kind,
        length: head.length,
    })?;
    let keep = rest
        .len()
        .checked_sub(pad as usize)
        .ok_or(FrameError::PaddingTooLong {
            pad,
            length: head.length,
        })?;
    Ok(&rest[..keep])
}

/// The field block fragment of a HEADERS payload (padding and priority removed).
pub fn headers_fragment<'a>(head: &FrameHead, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    let body = unpad(head, payload)?;
    if head.has(flags::PRIORITY) {
        body.get(5..).ok_or(FrameError::TooShort {
            kind: head.kind,
            length: head.length,
        })
    } else {
        Ok(body)
    }
}

/// The promised stream id and field block fragment of a PUSH_PROMISE payload.
pub fn push_promise<'a>(
    head: &FrameHead,
    payload: &'a [u8],
) -> Result<(u32, &'a [u8]), FrameError> {
    let body = unpad(head, payload)?;
    let short = FrameError::TooShort {
        kind: head.kind,
        length: head.length,
    };
    let id: [u8; 4] = body.get(..4).ok_or(short)?.try_into().map_err(|_| short)?;
    Ok((u32::from_be_bytes(id) & 0x7fff_ffff, &body[4..]))
}

/// A big-endian u32 at `off`.
pub fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// SETTINGS parameters (RFC 9113 §6.5.2), `(identifier, value)`; a trailing partial entry is
/// ignored (the caller checks `length % 6`).
pub fn settings(payload: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    payload.chunks_exact(6).map(|c| {
        (
            u16::from_be_bytes([c[0], c[1]]),
            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
        )
    })
}

pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// RFC 9113 §7 error code names; unknown codes as `0x..`.
pub fn error_code_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        n => return format!("0x{n:x}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_head_fields() {
        let h = FrameHead::parse(&[0x00, 0x40, 0x00, 0x01, 0x25, 0x80, 0x00, 0x00, 0x03]);
        assert_eq!(h.length, 16_384);
        assert_eq!(h.kind, FrameType::Headers);
        assert_eq!(h.flags, 0x25);
        assert_eq!(h.stream, 3);
        assert!(h.reserved);
        assert!(h.has(flags::END_HEADERS) && h.has(flags::PRIORITY));
        assert_eq!(FrameType::from_u8(0xb), FrameType::Unknown(0xb));
        assert_eq!(FrameType::Unknown(0xb).code(), 0xb);
        assert_eq!(FrameHead::peek(&[0; 8]), None);
    }

    #[test]
    fn unpad_checks_lengths() {
        let h = FrameHead {
            length: 6,
            kind: FrameType::Data,
            flags: flags::PADDED,
            stream: 1,
            reserved: false,
        };
        assert_eq!(unpad(&h, &[2, b'a', b'b', b'c', 0, 0]), Ok(&b"abc"[..]));
        assert_eq!(unpad(&h, &[5, 1, 2, 3, 4, 5]), Ok(&b""[..]));
        assert_eq!(
            unpad(&h, &[6, 1, 2, 3, 4, 5]),
            Err(FrameError::PaddingTooLong { pad: 6, length: 6 })
        );
        assert!(unpad(&h, &[]).is_err());
    }

    #[test]
    fn headers_fragment_skips_priority() {
        let h = FrameHead {
            length: 9,
            kind: FrameType::Headers,
            flags: flags::PADDED | flags::PRIORITY,
            stream: 1,
            reserved: false,
        };
        let p = [1, 0, 0, 0, 1, 16, 0x82, 0x84, 0];
        assert_eq!(headers_fragment(&h, &p), Ok(&[0x82, 0x84][..]));
        assert!(headers_fragment(&h, &p[..4]).is_err());
    }

    #[test]
    fn push_promise_fields() {
        let h = FrameHead {
            length: 6,
            kind: FrameType::PushPromise,
            flags: 0,
            stream: 1,
            reserved: false,
        };
        assert_eq!(
            push_promise(&h, &[0x80, 0, 0, 2, 0x82, 0x84]),
            Ok((2, &[0x82, 0x84][..]))
        );
        assert!(push_promise(&h, &[0, 0, 2]).is_err());
    }

    #[test]
    fn settings_and_error_names() {
        let s: Vec<_> = settings(&[0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0, 9]).collect();
        assert_eq!(s, vec![(1, 4096), (5, 16_384)]);
        assert_eq!(error_code_name(8), "CANCEL");
        assert_eq!(error_code_name(0x42), "0x42");
    }

    #[test]
    fn plausibility_rules() {
        let ok = |b: [u8; 9]| FrameHead::parse(&b).plausible(DEFAULT_MAX_FRAME_SIZE);
        assert!(ok([0, 0, 18, 4, 0, 0, 0, 0, 0])); // SETTINGS
        assert!(!ok([0, 0, 18, 4, 0, 0, 0, 0, 1])); // SETTINGS on a stream
        assert!(!ok([0, 0, 17, 4, 0, 0, 0, 0, 0])); // not a multiple of 6
        assert!(ok([0, 0, 8, 6, 1, 0, 0, 0, 0])); // PING ACK
        assert!(!ok([0, 0, 8, 6, 2, 0, 0, 0, 0])); // undefined flag
        assert!(!ok([0, 0x40, 1, 0, 0, 0, 0, 0, 1])); // DATA above 16384
        assert!(!ok([0, 0, 1, 0x0b, 0, 0, 0, 0, 1])); // unknown type
        assert!(ok([0, 0, 4, 8, 0, 0, 0, 0, 0])); // WINDOW_UPDATE on the connection
    }
}
