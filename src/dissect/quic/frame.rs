//! QUIC frames (RFC 9000 19, RFC 9221 DATAGRAM) as borrowed views, and CRYPTO reassembly
//! by offset.
//!
//! **Consumes** the plaintext payload of one packet (from packet protection removal).
//! **Produces** one [`QuicFrame`] per frame, in order, borrowing its data (STREAM, CRYPTO,
//! DATAGRAM bytes, tokens, reasons, connection IDs) from the payload: nothing is copied or
//! allocated. ACK ranges are checked while parsing but not stored: [`AckFrame::ranges`]
//! walks them again from the borrowed bytes.
//!
//! **Guarantees**: no panic on any input; every length is checked against the payload.
//! Parsing stops at the first frame that cannot be read, with a typed [`FrameError`] that
//! says where and why; the frames before it were delivered. An unknown frame type stops
//! parsing too, and that is what the RFC intends: "An endpoint MUST treat the receipt of
//! a frame of unknown type as a connection error of type FRAME_ENCODING_ERROR" (RFC 9000
//! 12.4), since its length cannot be known. [`parse_frames_in`] also stops at a frame
//! that RFC 9000 12.4 (Table 3) does not allow in the packet type (an Initial carries only
//! PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE of type 0x1c).

use super::packet::read_varint;

/// Most CRYPTO bytes buffered per direction and packet number space.
pub const CRYPTO_CAP: u64 = 64 * 1024;
/// Most disjoint CRYPTO ranges tracked per direction.
const MAX_RANGES: usize = 64;
/// RFC 9000 19.8: "The largest offset delivered on a stream -- the sum of the offset and
/// data length -- cannot exceed 2^62-1".
pub const MAX_STREAM_OFFSET: u64 = (1 << 62) - 1;
/// RFC 9000 19.11: "This value cannot exceed 2^60".
const MAX_STREAMS_LIMIT: u64 = 1 << 60;

/// The packet types of RFC 9000 12.4 Table 3 ("Frame Types"), for [`frame_allowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    Initial,
    ZeroRtt,
    Handshake,
    OneRtt,
}

impl PacketKind {
    pub fn name(self) -> &'static str {
        match self {
            PacketKind::Initial => "Initial",
            PacketKind::ZeroRtt => "0-RTT",
            PacketKind::Handshake => "Handshake",
            PacketKind::OneRtt => "1-RTT",
        }
    }
}

/// ECN counts of an ACK_ECN frame (RFC 9000 19.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EcnCounts {
    pub ect0: u64,
    pub ect1: u64,
    pub ce: u64,
}

/// An ACK or ACK_ECN frame (RFC 9000 19.3). The ACK Delay is as sent: scaling it needs
/// the peer's ack_delay_exponent transport parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckFrame<'a> {
    pub largest: u64,
    pub delay: u64,
    pub first_range: u64,
    /// The ACK Range Count: ranges after the first.
    pub range_count: u64,
    /// The encoded (Gap, ACK Range Length) pairs, checked while parsing.
    ranges: &'a [u8],
    pub ecn: Option<EcnCounts>,
}

impl<'a> AckFrame<'a> {
    /// The acknowledged packet numbers as inclusive `(smallest, largest)` ranges, largest
    /// first, starting with the First ACK Range.
    pub fn ranges(&self) -> AckRanges<'a> {
        AckRanges {
            bytes: self.ranges,
            pos: 0,
            left: self.range_count,
            next: self
                .largest
                .checked_sub(self.first_range)
                .map(|smallest| (smallest, self.largest)),
        }
    }
}

/// Iterator over an ACK frame's ranges (see [`AckFrame::ranges`]).
#[derive(Debug, Clone)]
pub struct AckRanges<'a> {
    bytes: &'a [u8],
    pos: usize,
    left: u64,
    next: Option<(u64, u64)>,
}

impl Iterator for AckRanges<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let cur = self.next.take()?;
        if self.left > 0 {
            self.left -= 1;
            self.next = next_ack_range(cur.0, self.bytes, &mut self.pos);
        }
        Some(cur)
    }
}

/// RFC 9000 19.3.1: "largest = previous_smallest - gap - 2; smallest = largest -
/// ack_range". `None` when a packet number would be negative (or the bytes end).
fn next_ack_range(prev_smallest: u64, bytes: &[u8], pos: &mut usize) -> Option<(u64, u64)> {
    let gap = read_varint(bytes, pos)?;
    let len = read_varint(bytes, pos)?;
    let largest = prev_smallest.checked_sub(gap)?.checked_sub(2)?;
    Some((largest.checked_sub(len)?, largest))
}

/// One frame, borrowing its bytes from the packet payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicFrame<'a> {
    /// A run of PADDING bytes (type 0x00), one event: `len` bytes.
    Padding {
        len: usize,
    },
    Ping,
    Ack(AckFrame<'a>),
    ResetStream {
        stream_id: u64,
        error_code: u64,
        final_size: u64,
    },
    StopSending {
        stream_id: u64,
        error_code: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    NewToken {
        token: &'a [u8],
    },
    /// Types 0x08-0x0f: the OFF bit (0x04) gives an offset (else 0), the LEN bit (0x02) a
    /// length (else the data runs to the end of the packet), the FIN bit (0x01) the end.
    Stream {
        stream_id: u64,
        offset: u64,
        data: &'a [u8],
        fin: bool,
    },
    MaxData {
        max: u64,
    },
    MaxStreamData {
        stream_id: u64,
        max: u64,
    },
    /// 0x12 (bidirectional) or 0x13 (unidirectional).
    MaxStreams {
        bidi: bool,
        max: u64,
    },
    DataBlocked {
        limit: u64,
    },
    StreamDataBlocked {
        stream_id: u64,
        limit: u64,
    },
    /// 0x16 (bidirectional) or 0x17 (unidirectional).
    StreamsBlocked {
        bidi: bool,
        limit: u64,
    },
    NewConnectionId {
        sequence: u64,
        retire_prior_to: u64,
        cid: &'a [u8],
        reset_token: &'a [u8; 16],
    },
    RetireConnectionId {
        sequence: u64,
    },
    PathChallenge {
        data: [u8; 8],
    },
    PathResponse {
        data: [u8; 8],
    },
    ConnectionClose {
        /// 0x1c transport error, 0x1d application error.
        application: bool,
        error_code: u64,
        /// The frame type that caused a transport error (0x1c only).
        frame_type: Option<u64>,
        reason: &'a [u8],
    },
    HandshakeDone,
    /// RFC 9221 4: 0x30 (to the end of the packet) or 0x31 (with a length).
    Datagram {
        data: &'a [u8],
    },
}

impl QuicFrame<'_> {
    /// The frame type's name (for STREAM and DATAGRAM whatever the flag bits).
    pub fn name(&self) -> &'static str {
        match self {
            QuicFrame::Padding { .. } => "PADDING",
            QuicFrame::Ping => "PING",
            QuicFrame::Ack(a) if a.ecn.is_some() => "ACK_ECN",
            QuicFrame::Ack(_) => "ACK",
            QuicFrame::ResetStream { .. } => "RESET_STREAM",
            QuicFrame::StopSending { .. } => "STOP_SENDING",
            QuicFrame::Crypto { .. } => "CRYPTO",
            QuicFrame::NewToken { .. } => "NEW_TOKEN",
            QuicFrame::Stream { .. } => "STREAM",
            QuicFrame::MaxData { .. } => "MAX_DATA",
            QuicFrame::MaxStreamData { .. } => "MAX_STREAM_DATA",
            QuicFrame::MaxStreams { .. } => "MAX_STREAMS",
            QuicFrame::DataBlocked { .. } => "DATA_BLOCKED",
            QuicFrame::StreamDataBlocked { .. } => "STREAM_DATA_BLOCKED",
            QuicFrame::StreamsBlocked { .. } => "STREAMS_BLOCKED",
            QuicFrame::NewConnectionId { .. } => "NEW_CONNECTION_ID",
            QuicFrame::RetireConnectionId { .. } => "RETIRE_CONNECTION_ID",
            QuicFrame::PathChallenge { .. } => "PATH_CHALLENGE",
            QuicFrame::PathResponse { .. } => "PATH_RESPONSE",
            QuicFrame::ConnectionClose { .. } => "CONNECTION_CLOSE",
            QuicFrame::HandshakeDone => "HANDSHAKE_DONE",
            QuicFrame::Datagram { .. } => "DATAGRAM",
        }
    }

    /// RFC 9002 2: ack-eliciting unless ACK, PADDING or CONNECTION_CLOSE.
    pub fn is_ack_eliciting(&self) -> bool {
        !matches!(
            self,
            QuicFrame::Ack(_) | QuicFrame::Padding { .. } | QuicFrame::ConnectionClose { .. }
        )
    }
}

/// The name of a frame type, `None` for types RFC 9000 and RFC 9221 do not define.
pub fn frame_name(ty: u64) -> Option<&'static str> {
    Some(match ty {
        0x00 => "PADDING",
        0x01 => "PING",
        0x02 => "ACK",
        0x03 => "ACK_ECN",
        0x04 => "RESET_STREAM",
        0x05 => "STOP_SENDING",
        0x06 => "CRYPTO",
        0x07 => "NEW_TOKEN",
        0x08..=0x0f => "STREAM",
        0x10 => "MAX_DATA",
        0x11 => "MAX_STREAM_DATA",
        0x12 | 0x13 => "MAX_STREAMS",
        0x14 => "DATA_BLOCKED",
        0x15 => "STREAM_DATA_BLOCKED",
        0x16 | 0x17 => "STREAMS_BLOCKED",
        0x18 => "NEW_CONNECTION_ID",
        0x19 => "RETIRE_CONNECTION_ID",
        0x1a => "PATH_CHALLENGE",
        0x1b => "PATH_RESPONSE",
        0x1c | 0x1d => "CONNECTION_CLOSE",
        0x1e => "HANDSHAKE_DONE",
        0x30 | 0x31 => "DATAGRAM",
        _ => return None,
    })
}

/// RFC 9000 12.4 Table 3 (and RFC 9221 4 for DATAGRAM): whether a frame type may appear
/// in a packet type. Unknown types are allowed nowhere.
pub fn frame_allowed(ty: u64, kind: PacketKind) -> bool {
    use PacketKind::*;
    match ty {
        // PADDING, PING: "IH01".
        0x00 | 0x01 => true,
        // ACK, CRYPTO: "IH_1" ("ACK frames ... cannot be sent in 0-RTT packets").
        0x02 | 0x03 | 0x06 => kind != ZeroRtt,
        // "Only a CONNECTION_CLOSE frame of type 0x1c can appear in Initial or Handshake
        // packets": 0x1c is "ih01", 0x1d "__01".
        0x1c => true,
        // NEW_TOKEN, PATH_RESPONSE, HANDSHAKE_DONE: "___1".
        0x07 | 0x1b | 0x1e => kind == OneRtt,
        // The stream and flow control frames, NEW/RETIRE_CONNECTION_ID, PATH_CHALLENGE,
        // application CONNECTION_CLOSE: "__01"; DATAGRAM: "0-RTT and 1-RTT".
        0x04 | 0x05 | 0x08..=0x1a | 0x1d | 0x30 | 0x31 => matches!(kind, ZeroRtt | OneRtt),
        _ => false,
    }
}

/// Why frame parsing stopped. `at` is the offset of the frame's first byte in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The payload ends inside the frame (`frame_type` is `None` when even the type was
    /// cut).
    Truncated { frame_type: Option<u64>, at: usize },
    /// A field has a value the RFC forbids (a negative ACK range, an offset beyond 2^62-1,
    /// a connection ID longer than 20 bytes, ...).
    Invalid {
        frame_type: u64,
        at: usize,
        what: &'static str,
    },
    /// A frame type RFC 9000 and RFC 9221 do not define: its length cannot be known.
    UnknownType { frame_type: u64, at: usize },
    /// A frame the packet type may not carry (RFC 9000 12.4).
    NotAllowed {
        frame_type: u64,
        at: usize,
        packet: PacketKind,
    },
}

impl FrameError {
    /// Offset of the frame that stopped parsing.
    pub fn at(&self) -> usize {
        match *self {
            FrameError::Truncated { at, .. }
            | FrameError::Invalid { at, .. }
            | FrameError::UnknownType { at, .. }
            | FrameError::NotAllowed { at, .. } => at,
        }
    }
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |ty: u64| frame_name(ty).unwrap_or("unknown");
        match *self {
            FrameError::Truncated {
                frame_type: Some(ty),
                ..
            } => write!(f, "{} frame truncated", name(ty)),
            FrameError::Truncated {
                frame_type: None, ..
            } => f.write_str("frame type truncated"),
            FrameError::Invalid {
                frame_type, what, ..
            } => write!(f, "invalid {} frame: {what}", name(frame_type)),
            FrameError::UnknownType { frame_type, .. } => write!(
                f,
                "unknown frame type 0x{frame_type:x}: its length cannot be known, the rest \
                 of the packet is skipped"
            ),
            FrameError::NotAllowed {
                frame_type, packet, ..
            } => write!(
                f,
                "frame type 0x{frame_type:x} ({}) is not allowed in an {} packet (RFC 9000 \
                 12.4): the rest of the packet is skipped",
                name(frame_type),
                packet.name()
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads one frame at `*pos`, advancing `*pos` past it on success (and leaving it on the
/// frame's first byte on error).
pub fn parse_frame<'a>(payload: &'a [u8], pos: &mut usize) -> Result<QuicFrame<'a>, FrameError> {
    let at = *pos;
    let mut p = at;
    let ty = read_varint(payload, &mut p).ok_or(FrameError::Truncated {
        frame_type: None,
        at,
    })?;
    let (frame, end) = FrameReader {
        buf: payload,
        pos: p,
        ty,
        at,
    }
    .read()?;
    *pos = end;
    Ok(frame)
}

/// The fields of one frame after its type.
struct FrameReader<'a> {
    buf: &'a [u8],
    pos: usize,
    ty: u64,
    at: usize,
}

impl<'a> FrameReader<'a> {
    fn truncated(&self) -> FrameError {
        FrameError::Truncated {
            frame_type: Some(self.ty),
            at: self.at,
        }
    }

    fn invalid(&self, what: &'static str) -> FrameError {
        FrameError::Invalid {
            frame_type: self.ty,
            at: self.at,
            what,
        }
    }

    fn varint(&mut self) -> Result<u64, FrameError> {
        read_varint(self.buf, &mut self.pos).ok_or_else(|| self.truncated())
    }

    fn bytes(&mut self, len: u64) -> Result<&'a [u8], FrameError> {
        let len = usize::try_from(len).map_err(|_| self.truncated())?;
        let end = self.pos.checked_add(len).ok_or_else(|| self.truncated())?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(b)
    }

    /// A varint length, then that many bytes.
    fn prefixed(&mut self) -> Result<&'a [u8], FrameError> {
        let len = self.varint()?;
        self.bytes(len)
    }

    fn rest(&mut self) -> &'a [u8] {
        let b = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        b
    }

    fn array8(&mut self) -> Result<[u8; 8], FrameError> {
        let b = self.bytes(8)?;
        b.try_into().map_err(|_| self.truncated())
    }

    fn read(mut self) -> Result<(QuicFrame<'a>, usize), FrameError> {
        let frame = match self.ty {
            0x00 => self.padding(),
            0x01 => QuicFrame::Ping,
            0x02 | 0x03 => self.ack()?,
            0x04 => QuicFrame::ResetStream {
                stream_id: self.varint()?,
                error_code: self.varint()?,
                final_size: self.varint()?,
            },
            0x05 => QuicFrame::StopSending {
                stream_id: self.varint()?,
                error_code: self.varint()?,
            },
            0x06 => {
                let offset = self.varint()?;
                let data = self.prefixed()?;
                if offset.saturating_add(data.len() as u64) > MAX_STREAM_OFFSET {
                    return Err(self.invalid("CRYPTO data beyond offset 2^62-1"));
                }
                QuicFrame::Crypto { offset, data }
            }
            0x07 => {
                let token = self.prefixed()?;
                // RFC 9000 19.7: "A client MUST treat receipt of a NEW_TOKEN frame with an
                // empty Token field as a connection error of type FRAME_ENCODING_ERROR."
                if token.is_empty() {
                    return Err(self.invalid("empty token"));
                }
                QuicFrame::NewToken { token }
            }
            0x08..=0x0f => self.stream()?,
            0x10 => QuicFrame::MaxData {
                max: self.varint()?,
            },
            0x11 => QuicFrame::MaxStreamData {
                stream_id: self.varint()?,
                max: self.varint()?,
            },
            0x12 | 0x13 => QuicFrame::MaxStreams {
                bidi: self.ty == 0x12,
                max: self.stream_count()?,
            },
            0x14 => QuicFrame::DataBlocked {
                limit: self.varint()?,
            },
            0x15 => QuicFrame::StreamDataBlocked {
                stream_id: self.varint()?,
                limit: self.varint()?,
            },
            0x16 | 0x17 => QuicFrame::StreamsBlocked {
                bidi: self.ty == 0x16,
                limit: self.stream_count()?,
            },
            0x18 => self.new_connection_id()?,
            0x19 => QuicFrame::RetireConnectionId {
                sequence: self.varint()?,
            },
            0x1a => QuicFrame::PathChallenge {
                data: self.array8()?,
            },
            0x1b => QuicFrame::PathResponse {
                data: self.array8()?,
            },
            0x1c | 0x1d => self.connection_close()?,
            0x1e => QuicFrame::HandshakeDone,
            0x30 => QuicFrame::Datagram { data: self.rest() },
            0x31 => QuicFrame::Datagram {
                data: self.prefixed()?,
            },
            other => {
                return Err(FrameError::UnknownType {
                    frame_type: other,
                    at: self.at,
                })
            }
        };
        Ok((frame, self.pos))
    }

    /// PADDING (0x00): a run of PADDING is one event.
    fn padding(&mut self) -> QuicFrame<'a> {
        let run = self
            .buf
            .get(self.pos..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&b| b == 0)
            .count();
        self.pos += run;
        QuicFrame::Padding {
            len: self.pos - self.at,
        }
    }

    /// ACK and ACK_ECN (0x02, 0x03): the ranges are checked here and kept as bytes.
    fn ack(&mut self) -> Result<QuicFrame<'a>, FrameError> {
        let largest = self.varint()?;
        let delay = self.varint()?;
        let range_count = self.varint()?;
        let first_range = self.varint()?;
        // RFC 9000 19.3.1: "If any computed packet number is negative, an endpoint
        // MUST generate a connection error of type FRAME_ENCODING_ERROR."
        let mut smallest = largest
            .checked_sub(first_range)
            .ok_or_else(|| self.invalid("first ACK range below packet number 0"))?;
        let start = self.pos;
        for _ in 0..range_count {
            let gap = self.varint()?;
            let len = self.varint()?;
            smallest = smallest
                .checked_sub(gap)
                .and_then(|v| v.checked_sub(2))
                .and_then(|largest| largest.checked_sub(len))
                .ok_or_else(|| self.invalid("ACK range below packet number 0"))?;
        }
        let ranges = self.buf.get(start..self.pos).unwrap_or(&[]);
        let ecn = if self.ty == 0x03 {
            Some(EcnCounts {
                ect0: self.varint()?,
                ect1: self.varint()?,
                ce: self.varint()?,
            })
        } else {
            None
        };
        Ok(QuicFrame::Ack(AckFrame {
            largest,
            delay,
            first_range,
            range_count,
            ranges,
            ecn,
        }))
    }

    /// STREAM (0x08 to 0x0f): the type's low bits say which fields are present.
    fn stream(&mut self) -> Result<QuicFrame<'a>, FrameError> {
        let stream_id = self.varint()?;
        let offset = if self.ty & 0x04 != 0 {
            self.varint()?
        } else {
            0
        };
        let data = if self.ty & 0x02 != 0 {
            self.prefixed()?
        } else {
            self.rest()
        };
        if offset.saturating_add(data.len() as u64) > MAX_STREAM_OFFSET {
            return Err(self.invalid("STREAM data beyond offset 2^62-1"));
        }
        Ok(QuicFrame::Stream {
            stream_id,
            offset,
            data,
            fin: self.ty & 0x01 != 0,
        })
    }

    /// The stream count of MAX_STREAMS and STREAMS_BLOCKED, at most 2^60.
    fn stream_count(&mut self) -> Result<u64, FrameError> {
        let count = self.varint()?;
        if count > MAX_STREAMS_LIMIT {
            return Err(self.invalid("stream count above 2^60"));
        }
        Ok(count)
    }

    /// NEW_CONNECTION_ID (0x18).
    fn new_connection_id(&mut self) -> Result<QuicFrame<'a>, FrameError> {
        let sequence = self.varint()?;
        let retire_prior_to = self.varint()?;
        let len = *self.buf.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        let cid = self.bytes(u64::from(len))?;
        let reset_token: &[u8; 16] = self.bytes(16)?.try_into().map_err(|_| self.truncated())?;
        // RFC 9000 19.15: "Values less than 1 and greater than 20 are invalid" and
        // "The value in the Retire Prior To field MUST be less than or equal to the
        // value in the Sequence Number field."
        if !(1..=20).contains(&len) {
            return Err(self.invalid("connection ID length not 1 to 20"));
        }
        if retire_prior_to > sequence {
            return Err(self.invalid("Retire Prior To above the sequence number"));
        }
        Ok(QuicFrame::NewConnectionId {
            sequence,
            retire_prior_to,
            cid,
            reset_token,
        })
    }

    /// CONNECTION_CLOSE (0x1c, transport, with the frame type; 0x1d, application).
    fn connection_close(&mut self) -> Result<QuicFrame<'a>, FrameError> {
        let error_code = self.varint()?;
        let frame_type = if self.ty == 0x1c {
            Some(self.varint()?)
        } else {
            None
        };
        let reason = self.prefixed()?;
        Ok(QuicFrame::ConnectionClose {
            application: self.ty == 0x1d,
            error_code,
            frame_type,
            reason,
        })
    }
}

/// The frames of one payload, in order; after the first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    payload: &'a [u8],
    pos: usize,
    kind: Option<PacketKind>,
    done: bool,
}

impl<'a> Frames<'a> {
    /// Every frame type RFC 9000 and RFC 9221 define.
    pub fn new(payload: &'a [u8]) -> Frames<'a> {
        Frames {
            payload,
            pos: 0,
            kind: None,
            done: false,
        }
    }

    /// Only the frames RFC 9000 12.4 allows in `kind` of packet.
    pub fn new_in(payload: &'a [u8], kind: PacketKind) -> Frames<'a> {
        Frames {
            kind: Some(kind),
            ..Frames::new(payload)
        }
    }

    /// Offset of the next frame.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<QuicFrame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.payload.len() {
            return None;
        }
        if let Some(kind) = self.kind {
            let mut p = self.pos;
            if let Some(ty) = read_varint(self.payload, &mut p) {
                if frame_name(ty).is_some() && !frame_allowed(ty, kind) {
                    self.done = true;
                    return Some(Err(FrameError::NotAllowed {
                        frame_type: ty,
                        at: self.pos,
                        packet: kind,
                    }));
                }
            }
        }
        let r = parse_frame(self.payload, &mut self.pos);
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// Parses all frames of a plaintext payload, calling `f` for each. Returns why parsing
/// stopped early, if it did (the frames before were delivered).
pub fn parse_frames<'a>(
    payload: &'a [u8],
    mut f: impl FnMut(QuicFrame<'a>),
) -> Result<(), FrameError> {
    for frame in Frames::new(payload) {
        f(frame?);
    }
    Ok(())
}

/// As [`parse_frames`], stopping at a frame RFC 9000 12.4 does not allow in `kind`.
pub fn parse_frames_in<'a>(
    payload: &'a [u8],
    kind: PacketKind,
    mut f: impl FnMut(QuicFrame<'a>),
) -> Result<(), FrameError> {
    for frame in Frames::new_in(payload, kind) {
        f(frame?);
    }
    Ok(())
}

/// Extension frames real stacks send when the peer agreed to them in transport parameters,
/// which an observer may not have seen: their layouts, as field lists (`true` a varint,
/// `false` one byte). Drafts changed some of them, so there can be several.
fn extension_layouts(frame_type: u64) -> &'static [&'static [bool]] {
    match frame_type {
        // draft-ietf-quic-ack-frequency: IMMEDIATE_ACK (0x1f; 0xac before -04).
        0x1f | 0xac => &[&[]],
        // ACK_FREQUENCY: Sequence Number, Packet Tolerance, Update Max Ack Delay, Ignore
        // Order (8) in -01 to -03; Sequence Number, Ack-Eliciting Threshold, Request Max Ack
        // Delay, Reordering Threshold from -04.
        0xaf => &[&[true, true, true, false], &[true, true, true, true]],
        // draft-huitema-quic-ts TIME_STAMP: one varint.
        0x2f5 => &[&[true]],
        // draft-ietf-quic-reliable-stream-reset RESET_STREAM_AT: Stream ID, Application
        // Protocol Error Code, Final Size, Reliable Size.
        0x24 => &[&[true, true, true, true]],
        _ => &[],
    }
}

/// Where an extension frame of a type RFC 9000 does not define ends, when one of its
/// known layouts leaves a payload whose every following frame parses (padding included):
/// an observer that missed the transport parameters can still read the frames after it.
/// `at` is the offset of the frame (its type). `None` when no layout fits.
pub fn skip_extension(payload: &[u8], at: usize, frame_type: u64) -> Option<usize> {
    skip_extension_depth(payload, at, frame_type, 8)
}

fn skip_extension_depth(payload: &[u8], at: usize, frame_type: u64, depth: u32) -> Option<usize> {
    if depth == 0 {
        return None;
    }
    let mut type_end = at;
    read_varint(payload, &mut type_end)?;
    extension_layouts(frame_type).iter().find_map(|fields| {
        let mut pos = type_end;
        for &varint in fields.iter() {
            if varint {
                read_varint(payload, &mut pos)?;
            } else {
                pos = pos.checked_add(1).filter(|&p| p <= payload.len())?;
            }
        }
        parses_to_end(payload, pos, depth - 1).then_some(pos)
    })
}

/// Whether every frame from `pos` to the end of `payload` parses.
fn parses_to_end(payload: &[u8], pos: usize, depth: u32) -> bool {
    let rest = payload.get(pos..).unwrap_or_default();
    for f in Frames::new(rest) {
        match f {
            Ok(_) => {}
            Err(FrameError::UnknownType { frame_type, at }) => {
                return skip_extension_depth(payload, pos + at, frame_type, depth).is_some();
            }
            Err(_) => return false,
        }
    }
    true
}

/// CRYPTO stream bytes of one direction, placed by offset (RFC 9000 19.6: "The stream does
/// not have an explicit end"), with at most [`CRYPTO_CAP`] bytes.
#[derive(Debug, Default, Clone)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// Disjoint, sorted `[start, end)` ranges that were received.
    ranges: Vec<(u64, u64)>,
    /// Bytes beyond the cap (or beyond the range table), dropped.
    pub dropped: u64,
}

impl CryptoStream {
    pub fn insert(&mut self, offset: u64, data: &[u8]) {
        let end = offset.saturating_add(data.len() as u64);
        let keep_end = end.min(CRYPTO_CAP);
        if keep_end <= offset {
            self.dropped += data.len() as u64;
            return;
        }
        self.dropped += end - keep_end;
        let (s, e) = (offset as usize, keep_end as usize);
        if self.ranges.len() >= MAX_RANGES
            && !self
                .ranges
                .iter()
                .any(|&(a, b)| a <= offset && keep_end <= b)
        {
            self.dropped += (e - s) as u64;
            return;
        }
        if self.buf.len() < e {
            self.buf.resize(e, 0);
        }
        self.buf[s..e].copy_from_slice(&data[..e - s]);
        self.ranges.push((offset, keep_end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ranges = merged;
    }

    /// Frees the buffer (the hello was read); the dropped count stays.
    pub fn release(&mut self) {
        self.buf = Vec::new();
        self.ranges = Vec::new();
    }

    /// The bytes received without a hole from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => self.buf.get(..end as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The complete handshake messages at the start of `stream`: `(type, body)` in order.
pub fn handshake_messages(stream: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(h) = stream.get(pos..pos + 4) {
        let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let Some(body) = stream.get(pos + 4..pos + 4 + len) else {
            break;
        };
        out.push((h[0], body));
        pos += 4 + len;
    }
    out
}

#[cfg(test)]
mod tests;
