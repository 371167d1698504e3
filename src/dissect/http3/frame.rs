//! HTTP/3 frames (RFC 9114 7, RFC 9218 7 PRIORITY_UPDATE) and unidirectional stream types
//! (RFC 9114 6.2), read incrementally from one stream's bytes as they arrive.
//!
//! **Consumes**: a stream's in-order bytes in pieces of any size
//! ([`FrameReader::feed`]), gaps of known length ([`FrameReader::gap`]) and the stream's
//! end ([`FrameReader::finish`]). A request stream starts with frames
//! ([`FrameReader::request`]); a unidirectional stream with its type
//! ([`FrameReader::unidirectional`]).
//!
//! **Produces** [`H3Event`]s through the caller's sink: the stream type (and a push
//! stream's Push ID), each frame head, DATA payload pieces *as they arrive* (borrowed from
//! the input, never buffered), whole frames of the other known types ([`H3Frame`],
//! buffered up to [`FrameLimits`]; borrowed from the input when a frame arrives in one
//! piece), and the raw bytes of streams that carry no frames (the QPACK encoder and
//! decoder streams, for the QPACK decoder; reserved and unknown stream types).
//!
//! **Guarantees**: no panic on any input; no allocation per frame on the fast path (one
//! reused buffer per stream, for frames split across pieces); a payload that does not
//! read as its frame type says is a [`H3Event::Malformed`] and the reader goes on with the
//! next frame, since the length is known; a frame over its cap is skipped by length
//! ([`H3Event::Oversize`]); reserved (grease, `0x1f * N + 0x21`) and unknown frame types
//! are skipped by length, as RFC 9114 9 requires ("Implementations MUST ignore unknown or
//! unsupported values in all extensible protocol elements"). Only a gap inside a frame
//! head loses the frame boundaries: the reader says so once ([`H3Event::Desynced`]) and
//! ignores the rest of that stream.
//!
//! ```text
//!  unidirectional: StreamType ──control──► frames
//!                      ├──push──► PushId ──► frames
//!                      └──QPACK encoder/decoder, reserved, unknown──► Raw bytes
//!  frames: type ─► length ─► DATA: Data pieces ─┐
//!                          ├► buffered: Frame / Malformed / Oversize (skipped)
//!                          └► reserved, unknown: skipped ───────────┴─► next frame
//! ```

use crate::dissect::quic::packet::read_varint;

/// RFC 9114 7.2.8 (frames), 6.2.3 (stream types), 7.2.4.1 (settings), 8.1 (errors):
/// "Frame types of the format 0x1f * N + 0x21 for non-negative integer values of N are
/// reserved to exercise the requirement that unknown types be ignored".
pub fn is_reserved(v: u64) -> bool {
    v >= 0x21 && (v - 0x21).is_multiple_of(0x1f)
}

/// An HTTP/3 frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    Data,
    Headers,
    CancelPush,
    Settings,
    PushPromise,
    Goaway,
    MaxPushId,
    /// RFC 9218 7.1: PRIORITY_UPDATE for a request stream (0xf0700).
    PriorityUpdateRequest,
    /// RFC 9218 7.1: PRIORITY_UPDATE for a push stream (0xf0701).
    PriorityUpdatePush,
    /// RFC 9114 7.2.8: HTTP/2 frame types with no HTTP/3 counterpart (0x02 PRIORITY,
    /// 0x06 PING, 0x08 WINDOW_UPDATE, 0x09 CONTINUATION): "their receipt MUST be treated
    /// as a connection error of type H3_FRAME_UNEXPECTED".
    Http2(u64),
    /// Reserved for greasing (`0x1f * N + 0x21`).
    Reserved(u64),
    Unknown(u64),
}

impl FrameType {
    pub fn from_u64(v: u64) -> FrameType {
        match v {
            0x00 => FrameType::Data,
            0x01 => FrameType::Headers,
            0x03 => FrameType::CancelPush,
            0x04 => FrameType::Settings,
            0x05 => FrameType::PushPromise,
            0x07 => FrameType::Goaway,
            0x0d => FrameType::MaxPushId,
            0xf0700 => FrameType::PriorityUpdateRequest,
            0xf0701 => FrameType::PriorityUpdatePush,
            0x02 | 0x06 | 0x08 | 0x09 => FrameType::Http2(v),
            v if is_reserved(v) => FrameType::Reserved(v),
            v => FrameType::Unknown(v),
        }
    }

    pub fn value(self) -> u64 {
        match self {
            FrameType::Data => 0x00,
            FrameType::Headers => 0x01,
            FrameType::CancelPush => 0x03,
            FrameType::Settings => 0x04,
            FrameType::PushPromise => 0x05,
            FrameType::Goaway => 0x07,
            FrameType::MaxPushId => 0x0d,
            FrameType::PriorityUpdateRequest => 0xf0700,
            FrameType::PriorityUpdatePush => 0xf0701,
            FrameType::Http2(v) | FrameType::Reserved(v) | FrameType::Unknown(v) => v,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FrameType::Data => "DATA",
            FrameType::Headers => "HEADERS",
            FrameType::CancelPush => "CANCEL_PUSH",
            FrameType::Settings => "SETTINGS",
            FrameType::PushPromise => "PUSH_PROMISE",
            FrameType::Goaway => "GOAWAY",
            FrameType::MaxPushId => "MAX_PUSH_ID",
            FrameType::PriorityUpdateRequest | FrameType::PriorityUpdatePush => "PRIORITY_UPDATE",
            FrameType::Http2(_) => "reserved (HTTP/2)",
            FrameType::Reserved(_) => "reserved",
            FrameType::Unknown(_) => "unknown",
        }
    }

    /// RFC 9114 7.2 (Table 1) and RFC 9218 7.1: whether the frame may appear on a stream of
    /// `kind`. Reserved and unknown types may appear anywhere; HTTP/2's nowhere.
    pub fn allowed_on(self, kind: StreamKind) -> bool {
        use StreamKind::*;
        match self {
            FrameType::Data | FrameType::Headers => kind != Control,
            FrameType::PushPromise => kind == Request,
            FrameType::CancelPush
            | FrameType::Settings
            | FrameType::Goaway
            | FrameType::MaxPushId
            | FrameType::PriorityUpdateRequest
            | FrameType::PriorityUpdatePush => kind == Control,
            FrameType::Http2(_) => false,
            FrameType::Reserved(_) | FrameType::Unknown(_) => true,
        }
    }
}

/// The streams frames travel on (RFC 9114 7.2, Table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Request,
    Control,
    Push,
}

/// The type of a unidirectional stream (RFC 9114 6.2, RFC 9204 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniStreamType {
    Control,
    Push,
    QpackEncoder,
    QpackDecoder,
    /// Reserved for greasing (`0x1f * N + 0x21`).
    Reserved(u64),
    Unknown(u64),
}

impl UniStreamType {
    pub fn from_u64(v: u64) -> UniStreamType {
        match v {
            0x00 => UniStreamType::Control,
            0x01 => UniStreamType::Push,
            0x02 => UniStreamType::QpackEncoder,
            0x03 => UniStreamType::QpackDecoder,
            v if is_reserved(v) => UniStreamType::Reserved(v),
            v => UniStreamType::Unknown(v),
        }
    }

    pub fn value(self) -> u64 {
        match self {
            UniStreamType::Control => 0x00,
            UniStreamType::Push => 0x01,
            UniStreamType::QpackEncoder => 0x02,
            UniStreamType::QpackDecoder => 0x03,
            UniStreamType::Reserved(v) | UniStreamType::Unknown(v) => v,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UniStreamType::Control => "control",
            UniStreamType::Push => "push",
            UniStreamType::QpackEncoder => "QPACK encoder",
            UniStreamType::QpackDecoder => "QPACK decoder",
            UniStreamType::Reserved(_) => "reserved",
            UniStreamType::Unknown(_) => "unknown",
        }
    }
}

/// One setting of a SETTINGS frame (RFC 9114 7.2.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// RFC 9204 5: SETTINGS_QPACK_MAX_TABLE_CAPACITY (0x01).
    QpackMaxTableCapacity(u64),
    /// RFC 9114 7.2.4.1: SETTINGS_MAX_FIELD_SECTION_SIZE (0x06).
    MaxFieldSectionSize(u64),
    /// RFC 9204 5: SETTINGS_QPACK_BLOCKED_STREAMS (0x07).
    QpackBlockedStreams(u64),
    /// RFC 9220 3: SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08).
    EnableConnectProtocol(u64),
    /// RFC 9297 2.1.1: SETTINGS_H3_DATAGRAM (0x33).
    H3Datagram(u64),
    /// Anything else, grease included.
    Unknown { id: u64, value: u64 },
}

impl Setting {
    fn new(id: u64, value: u64) -> Setting {
        match id {
            0x01 => Setting::QpackMaxTableCapacity(value),
            0x06 => Setting::MaxFieldSectionSize(value),
            0x07 => Setting::QpackBlockedStreams(value),
            0x08 => Setting::EnableConnectProtocol(value),
            0x33 => Setting::H3Datagram(value),
            id => Setting::Unknown { id, value },
        }
    }

    pub fn id(self) -> u64 {
        match self {
            Setting::QpackMaxTableCapacity(_) => 0x01,
            Setting::MaxFieldSectionSize(_) => 0x06,
            Setting::QpackBlockedStreams(_) => 0x07,
            Setting::EnableConnectProtocol(_) => 0x08,
            Setting::H3Datagram(_) => 0x33,
            Setting::Unknown { id, .. } => id,
        }
    }

    pub fn value(self) -> u64 {
        match self {
            Setting::QpackMaxTableCapacity(v)
            | Setting::MaxFieldSectionSize(v)
            | Setting::QpackBlockedStreams(v)
            | Setting::EnableConnectProtocol(v)
            | Setting::H3Datagram(v)
            | Setting::Unknown { value: v, .. } => v,
        }
    }

    /// RFC 9114 7.2.4.1 and 11.2.2: identifiers HTTP/2 used with no HTTP/3 counterpart
    /// (0x00, 0x02-0x05) "MUST NOT be sent, and their receipt MUST be treated as a
    /// connection error of type H3_SETTINGS_ERROR".
    pub fn is_http2_only(self) -> bool {
        matches!(self.id(), 0x00 | 0x02..=0x05)
    }
}

/// A SETTINGS payload, checked to be whole (id, value) pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsFrame<'a> {
    payload: &'a [u8],
}

impl<'a> SettingsFrame<'a> {
    /// Checks that `payload` is a sequence of (identifier, value) varint pairs.
    pub fn new(payload: &'a [u8]) -> Result<SettingsFrame<'a>, H3FrameError> {
        let mut pos = 0;
        while pos < payload.len() {
            if read_varint(payload, &mut pos).is_none() || read_varint(payload, &mut pos).is_none()
            {
                return Err(H3FrameError::Truncated(FrameType::Settings));
            }
        }
        Ok(SettingsFrame { payload })
    }

    /// The settings in order.
    pub fn iter(&self) -> impl Iterator<Item = Setting> + 'a {
        let payload = self.payload;
        let mut pos = 0;
        std::iter::from_fn(move || {
            let id = read_varint(payload, &mut pos)?;
            let value = read_varint(payload, &mut pos)?;
            Some(Setting::new(id, value))
        })
    }

    /// The settings as a summary.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        let mut seen: Vec<u64> = Vec::new();
        for setting in self.iter() {
            // RFC 9114 7.2.4: "The same setting identifier MUST NOT occur more than once
            // in the SETTINGS frame." The first value is kept.
            if seen.contains(&setting.id()) {
                s.duplicates += 1;
                continue;
            }
            if seen.len() < MAX_SETTINGS_SEEN {
                seen.push(setting.id());
            }
            if setting.is_http2_only() {
                s.http2_only += 1;
            }
            match setting {
                Setting::QpackMaxTableCapacity(v) => s.qpack_max_table_capacity = Some(v),
                Setting::MaxFieldSectionSize(v) => s.max_field_section_size = Some(v),
                Setting::QpackBlockedStreams(v) => s.qpack_blocked_streams = Some(v),
                Setting::EnableConnectProtocol(v) => s.enable_connect_protocol = Some(v),
                Setting::H3Datagram(v) => s.h3_datagram = Some(v),
                Setting::Unknown { id, value } => {
                    if is_reserved(id) {
                        s.reserved += 1;
                    } else if s.unknown.len() < MAX_UNKNOWN_SETTINGS {
                        s.unknown.push((id, value));
                    } else {
                        s.unknown_dropped += 1;
                    }
                }
            }
        }
        s
    }
}

/// Unknown settings kept per SETTINGS frame; more are counted.
pub const MAX_UNKNOWN_SETTINGS: usize = 32;
/// Setting identifiers remembered for the duplicate check.
const MAX_SETTINGS_SEEN: usize = 64;

/// What a peer's SETTINGS said. Absent settings keep their defaults (RFC 9114 7.2.4.1,
/// RFC 9204 5: both QPACK settings default to 0, the field section size to unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub qpack_max_table_capacity: Option<u64>,
    pub max_field_section_size: Option<u64>,
    pub qpack_blocked_streams: Option<u64>,
    pub enable_connect_protocol: Option<u64>,
    pub h3_datagram: Option<u64>,
    /// Unknown settings as `(id, value)`, at most [`MAX_UNKNOWN_SETTINGS`].
    pub unknown: Vec<(u64, u64)>,
    /// Unknown settings beyond the cap.
    pub unknown_dropped: u32,
    /// Grease settings (`0x1f * N + 0x21`), ignored.
    pub reserved: u32,
    /// Identifiers that occurred again (the first value is kept).
    pub duplicates: u32,
    /// HTTP/2-only identifiers (a peer error, recorded).
    pub http2_only: u32,
}

/// A whole frame of a type that is read whole (every known type but DATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3Frame<'a> {
    /// The QPACK-encoded field section (RFC 9114 7.2.2).
    Headers {
        field_section: &'a [u8],
    },
    CancelPush {
        push_id: u64,
    },
    Settings(SettingsFrame<'a>),
    PushPromise {
        push_id: u64,
        field_section: &'a [u8],
    },
    /// A client-initiated bidirectional stream ID (from a server) or a Push ID (from a
    /// client).
    Goaway {
        id: u64,
    },
    MaxPushId {
        push_id: u64,
    },
    /// RFC 9218 7.2: the Prioritized Element ID and the Priority Field Value (ASCII, a
    /// Structured Fields dictionary such as `u=1, i`).
    PriorityUpdate {
        push: bool,
        element_id: u64,
        priority_field: &'a [u8],
    },
}

/// Why a frame's payload did not read as its type says (RFC 9114 7.1: "A frame payload
/// that contains additional bytes after the identified fields or a frame payload that
/// terminates before the end of the identified fields MUST be treated as a connection
/// error of type H3_FRAME_ERROR").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3FrameError {
    /// The payload ends before its fields do.
    Truncated(FrameType),
    /// Bytes after the fields.
    TrailingBytes(FrameType),
    /// The type is not read whole (DATA, reserved, unknown).
    NotBuffered(FrameType),
}

impl std::fmt::Display for H3FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            H3FrameError::Truncated(t) => write!(f, "{} frame payload truncated", t.name()),
            H3FrameError::TrailingBytes(t) => {
                write!(f, "{} frame payload has bytes after its fields", t.name())
            }
            H3FrameError::NotBuffered(t) => write!(f, "{} frames are not read whole", t.name()),
        }
    }
}

impl std::error::Error for H3FrameError {}

/// Reads the payload of a frame of type `ty` (every known type but DATA).
pub fn parse_payload(ty: FrameType, payload: &[u8]) -> Result<H3Frame<'_>, H3FrameError> {
    let mut pos = 0;
    let mut varint = || read_varint(payload, &mut pos).ok_or(H3FrameError::Truncated(ty));
    let frame = match ty {
        FrameType::Headers => {
            return Ok(H3Frame::Headers {
                field_section: payload,
            })
        }
        FrameType::Settings => return Ok(H3Frame::Settings(SettingsFrame::new(payload)?)),
        FrameType::CancelPush => H3Frame::CancelPush { push_id: varint()? },
        FrameType::Goaway => H3Frame::Goaway { id: varint()? },
        FrameType::MaxPushId => H3Frame::MaxPushId { push_id: varint()? },
        FrameType::PushPromise => {
            let push_id = varint()?;
            return Ok(H3Frame::PushPromise {
                push_id,
                field_section: payload.get(pos..).unwrap_or(&[]),
            });
        }
        FrameType::PriorityUpdateRequest | FrameType::PriorityUpdatePush => {
            let element_id = varint()?;
            return Ok(H3Frame::PriorityUpdate {
                push: ty == FrameType::PriorityUpdatePush,
                element_id,
                priority_field: payload.get(pos..).unwrap_or(&[]),
            });
        }
        FrameType::Data | FrameType::Http2(_) | FrameType::Reserved(_) | FrameType::Unknown(_) => {
            return Err(H3FrameError::NotBuffered(ty))
        }
    };
    if pos != payload.len() {
        return Err(H3FrameError::TrailingBytes(ty));
    }
    Ok(frame)
}

/// RFC 9114 8.1 error codes, RFC 9204 6 QPACK error codes and RFC 9297 5.2's
/// H3_DATAGRAM_ERROR; `None` for anything else (reserved `0x1f * N + 0x21` codes
/// included: see [`is_reserved`]).
pub fn error_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0x0100 => "H3_NO_ERROR",
        0x0101 => "H3_GENERAL_PROTOCOL_ERROR",
        0x0102 => "H3_INTERNAL_ERROR",
        0x0103 => "H3_STREAM_CREATION_ERROR",
        0x0104 => "H3_CLOSED_CRITICAL_STREAM",
        0x0105 => "H3_FRAME_UNEXPECTED",
        0x0106 => "H3_FRAME_ERROR",
        0x0107 => "H3_EXCESSIVE_LOAD",
        0x0108 => "H3_ID_ERROR",
        0x0109 => "H3_SETTINGS_ERROR",
        0x010a => "H3_MISSING_SETTINGS",
        0x010b => "H3_REQUEST_REJECTED",
        0x010c => "H3_REQUEST_CANCELLED",
        0x010d => "H3_REQUEST_INCOMPLETE",
        0x010e => "H3_MESSAGE_ERROR",
        0x010f => "H3_CONNECT_ERROR",
        0x0110 => "H3_VERSION_FALLBACK",
        0x0200 => "QPACK_DECOMPRESSION_FAILED",
        0x0201 => "QPACK_ENCODER_STREAM_ERROR",
        0x0202 => "QPACK_DECODER_STREAM_ERROR",
        0x33 => "H3_DATAGRAM_ERROR",
        _ => return None,
    })
}

/// What a [`FrameReader`] hands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3Event<'a> {
    /// The type of a unidirectional stream (its first varint).
    StreamType(UniStreamType),
    /// A push stream's Push ID (after its type).
    PushId(u64),
    /// A frame begins: its type and payload length.
    FrameHead { ty: FrameType, len: u64 },
    /// The next piece of a DATA frame's payload, as it arrived.
    Data(&'a [u8]),
    /// `len` bytes of a DATA payload were never captured.
    DataGap(u64),
    /// A whole frame (every known type but DATA).
    Frame(H3Frame<'a>),
    /// A frame whose payload does not read as its type says; the next frame follows.
    Malformed { ty: FrameType, error: H3FrameError },
    /// A frame longer than its cap: skipped by length, counted.
    Oversize { ty: FrameType, len: u64 },
    /// A frame read whole lost bytes to a gap: the rest of it is skipped.
    FrameLost { ty: FrameType },
    /// Bytes of a stream that carries no frames (QPACK streams, reserved and unknown
    /// stream types).
    Raw(&'a [u8]),
    /// `len` bytes of such a stream were never captured.
    RawGap(u64),
    /// A gap where a stream type or frame head was: the boundaries are lost and the rest
    /// of the stream is not read. Said once.
    Desynced { lost: u64 },
    /// The stream ended inside a frame (`Some(type)` once its type was read) or inside its
    /// stream type.
    Truncated { ty: Option<FrameType> },
}

/// Caps of one stream's reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest HEADERS or PUSH_PROMISE payload buffered (an encoded field section).
    pub max_field_section: usize,
    /// Largest payload of the other frames read whole (SETTINGS, GOAWAY, ...).
    pub max_frame: usize,
}

impl Default for FrameLimits {
    fn default() -> FrameLimits {
        FrameLimits {
            max_field_section: 64 * 1024,
            max_frame: 16 * 1024,
        }
    }
}

/// Counters of one stream's reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Frame heads read.
    pub frames: u64,
    /// DATA payload bytes handed on.
    pub data_bytes: u64,
    /// Payload bytes skipped (reserved, unknown, HTTP/2 and oversize frames, and the rest
    /// of frames that lost bytes).
    pub skipped_bytes: u64,
    /// Frames over their cap.
    pub oversize: u64,
    /// Frames whose payload did not read.
    pub malformed: u64,
    /// Reserved (grease) frames.
    pub reserved_frames: u64,
    /// Unknown frame types.
    pub unknown_frames: u64,
    /// HTTP/2 frame types (a peer error, recorded).
    pub http2_frames: u64,
    /// Bytes lost to gaps.
    pub gap_bytes: u64,
    /// Bytes ignored after the reader desynchronised or the stream finished.
    pub ignored_bytes: u64,
}

/// A variable-length integer (RFC 9000 16) that may arrive split over pieces.
#[derive(Debug, Clone, Copy, Default)]
struct VarintAcc {
    bytes: [u8; 8],
    have: usize,
}

impl VarintAcc {
    /// Consumes bytes of `input` until the integer is complete.
    fn push(&mut self, input: &mut &[u8]) -> Option<u64> {
        if self.have == 0 {
            let mut pos = 0;
            if let Some(v) = read_varint(input, &mut pos) {
                *input = input.get(pos..).unwrap_or(&[]);
                return Some(v);
            }
        }
        while let Some((&b, rest)) = input.split_first() {
            *input = rest;
            self.bytes[self.have] = b;
            self.have += 1;
            let need = 1usize << (self.bytes[0] >> 6);
            if self.have >= need {
                let mut pos = 0;
                let v = read_varint(&self.bytes[..need], &mut pos);
                self.have = 0;
                return v;
            }
        }
        None
    }

    fn is_empty(&self) -> bool {
        self.have == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StreamType,
    PushId,
    FrameType,
    FrameLen {
        ty: u64,
    },
    Data {
        left: u64,
    },
    /// Reading a frame whole: `len` payload bytes.
    Buffer {
        ty: FrameType,
        len: usize,
    },
    Skip {
        ty: FrameType,
        left: u64,
    },
    Raw,
    Desynced,
    Finished,
}

/// Reads one HTTP/3 stream incrementally. Feed it the stream's bytes in order with
/// [`FrameReader::feed`], gaps with [`FrameReader::gap`], and its end with
/// [`FrameReader::finish`].
#[derive(Debug, Clone)]
pub struct FrameReader {
    state: State,
    acc: VarintAcc,
    /// A frame read whole that arrived in pieces (reused; cleared per frame).
    buf: Vec<u8>,
    limits: FrameLimits,
    stats: ReaderStats,
}

impl FrameReader {
    /// A request stream (client-initiated bidirectional): frames from the first byte.
    pub fn request(limits: FrameLimits) -> FrameReader {
        FrameReader {
            state: State::FrameType,
            acc: VarintAcc::default(),
            buf: Vec::new(),
            limits,
            stats: ReaderStats::default(),
        }
    }

    /// A unidirectional stream: a stream type first (RFC 9114 6.2).
    pub fn unidirectional(limits: FrameLimits) -> FrameReader {
        FrameReader {
            state: State::StreamType,
            ..FrameReader::request(limits)
        }
    }

    pub fn stats(&self) -> ReaderStats {
        self.stats
    }

    /// Bytes held for a frame split across pieces.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True once a gap lost the frame boundaries.
    pub fn is_desynced(&self) -> bool {
        self.state == State::Desynced
    }

    /// The next in-order bytes of the stream.
    pub fn feed(&mut self, mut input: &[u8], sink: &mut impl FnMut(H3Event<'_>)) {
        while !input.is_empty() {
            match self.state {
                State::StreamType => {
                    let Some(v) = self.acc.push(&mut input) else {
                        return;
                    };
                    let t = UniStreamType::from_u64(v);
                    sink(H3Event::StreamType(t));
                    // RFC 9114 6.2: "Recipients of unknown stream types MUST either abort
                    // reading of the stream or discard incoming data without further
                    // processing": they, like the QPACK streams, are raw bytes here.
                    self.state = match t {
                        UniStreamType::Control => State::FrameType,
                        UniStreamType::Push => State::PushId,
                        _ => State::Raw,
                    };
                }
                State::PushId => {
                    let Some(v) = self.acc.push(&mut input) else {
                        return;
                    };
                    sink(H3Event::PushId(v));
                    self.state = State::FrameType;
                }
                State::FrameType => {
                    let Some(ty) = self.acc.push(&mut input) else {
                        return;
                    };
                    self.state = State::FrameLen { ty };
                }
                State::FrameLen { ty } => {
                    let Some(len) = self.acc.push(&mut input) else {
                        return;
                    };
                    self.start_frame(FrameType::from_u64(ty), len, sink);
                }
                State::Data { left } => {
                    let n = clamp(left, input.len());
                    let (piece, rest) = input.split_at(n);
                    input = rest;
                    self.stats.data_bytes += n as u64;
                    sink(H3Event::Data(piece));
                    self.state = next_or(left - n as u64, |left| State::Data { left });
                }
                State::Skip { ty, left } => {
                    let n = clamp(left, input.len());
                    input = &input[n..];
                    self.stats.skipped_bytes += n as u64;
                    self.state = next_or(left - n as u64, |left| State::Skip { ty, left });
                }
                State::Buffer { ty, len } => {
                    if self.buf.is_empty() && input.len() >= len {
                        // The whole payload is here: read it in place.
                        let (payload, rest) = input.split_at(len);
                        input = rest;
                        self.read_whole(ty, payload, sink);
                    } else {
                        let n = (len - self.buf.len()).min(input.len());
                        self.buf.extend_from_slice(&input[..n]);
                        input = &input[n..];
                        if self.buf.len() == len {
                            let buf = std::mem::take(&mut self.buf);
                            self.read_whole(ty, &buf, sink);
                            self.buf = buf;
                            self.buf.clear();
                        }
                    }
                }
                State::Raw => {
                    sink(H3Event::Raw(input));
                    return;
                }
                State::Desynced | State::Finished => {
                    self.stats.ignored_bytes += input.len() as u64;
                    return;
                }
            }
        }
    }

    fn start_frame(&mut self, ty: FrameType, len: u64, sink: &mut impl FnMut(H3Event<'_>)) {
        self.stats.frames += 1;
        sink(H3Event::FrameHead { ty, len });
        let cap = match ty {
            FrameType::Data => {
                self.state = next_or(len, |left| State::Data { left });
                return;
            }
            FrameType::Headers | FrameType::PushPromise => Some(self.limits.max_field_section),
            FrameType::CancelPush
            | FrameType::Settings
            | FrameType::Goaway
            | FrameType::MaxPushId
            | FrameType::PriorityUpdateRequest
            | FrameType::PriorityUpdatePush => Some(self.limits.max_frame),
            FrameType::Reserved(_) => {
                self.stats.reserved_frames += 1;
                None
            }
            FrameType::Unknown(_) => {
                self.stats.unknown_frames += 1;
                None
            }
            FrameType::Http2(_) => {
                self.stats.http2_frames += 1;
                None
            }
        };
        match cap {
            Some(cap) if len <= cap as u64 => {
                let len = len as usize;
                if len == 0 {
                    self.read_whole(ty, &[], sink);
                } else {
                    self.state = State::Buffer { ty, len };
                }
            }
            Some(_) => {
                self.stats.oversize += 1;
                sink(H3Event::Oversize { ty, len });
                self.state = next_or(len, |left| State::Skip { ty, left });
            }
            None => self.state = next_or(len, |left| State::Skip { ty, left }),
        }
    }

    fn read_whole(&mut self, ty: FrameType, payload: &[u8], sink: &mut impl FnMut(H3Event<'_>)) {
        match parse_payload(ty, payload) {
            Ok(f) => sink(H3Event::Frame(f)),
            Err(error) => {
                self.stats.malformed += 1;
                sink(H3Event::Malformed { ty, error });
            }
        }
        self.state = State::FrameType;
    }

    /// `len` bytes of the stream were never captured at this point.
    pub fn gap(&mut self, len: u64, sink: &mut impl FnMut(H3Event<'_>)) {
        if len == 0 {
            return;
        }
        self.stats.gap_bytes += len;
        let rest = match self.state {
            State::Data { left } => {
                let n = left.min(len);
                sink(H3Event::DataGap(n));
                self.state = next_or(left - n, |left| State::Data { left });
                len - n
            }
            State::Skip { ty, left } => {
                let n = left.min(len);
                self.state = next_or(left - n, |left| State::Skip { ty, left });
                len - n
            }
            State::Buffer { ty, len: flen } => {
                sink(H3Event::FrameLost { ty });
                let left = (flen - self.buf.len()) as u64;
                self.buf.clear();
                let n = left.min(len);
                self.stats.skipped_bytes += left - n;
                self.state = next_or(left - n, |left| State::Skip { ty, left });
                len - n
            }
            State::Raw => {
                sink(H3Event::RawGap(len));
                0
            }
            State::Desynced | State::Finished => 0,
            State::StreamType | State::PushId | State::FrameType | State::FrameLen { .. } => len,
        };
        if rest > 0 {
            // The bytes lost held (part of) a stream type or frame head: where the next
            // frame starts cannot be known.
            self.acc = VarintAcc::default();
            self.buf.clear();
            self.state = State::Desynced;
            sink(H3Event::Desynced { lost: rest });
        }
    }

    /// The stream ended (FIN). A stream that ends inside a frame is reported
    /// (RFC 9114 7.1: "if the last frame on the stream was truncated, this MUST be
    /// treated as a connection error of type H3_FRAME_ERROR").
    pub fn finish(&mut self, sink: &mut impl FnMut(H3Event<'_>)) {
        let ty = match self.state {
            State::FrameType | State::StreamType if self.acc.is_empty() => None,
            State::Raw | State::Desynced | State::Finished => None,
            State::StreamType | State::PushId | State::FrameType => Some(None),
            State::FrameLen { ty } => Some(Some(FrameType::from_u64(ty))),
            State::Buffer { ty, .. } => Some(Some(ty)),
            State::Data { .. } => Some(Some(FrameType::Data)),
            State::Skip { ty, .. } => Some(Some(ty)),
        };
        if let Some(ty) = ty {
            sink(H3Event::Truncated { ty });
        }
        self.acc = VarintAcc::default();
        self.buf = Vec::new();
        self.state = State::Finished;
    }
}

/// `left` bounded by `avail`, as a `usize`.
fn clamp(left: u64, avail: usize) -> usize {
    usize::try_from(left).map_or(avail, |l| l.min(avail))
}

/// The frame goes on while bytes are left, else the next frame head is read.
fn next_or(left: u64, f: impl FnOnce(u64) -> State) -> State {
    if left == 0 {
        State::FrameType
    } else {
        f(left)
    }
}

#[cfg(test)]
mod tests;
