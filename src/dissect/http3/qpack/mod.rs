//! QPACK field section decoding (RFC 9204), written for a passive observer.
//!
//! One [`Decoder`] follows one direction of one HTTP/3 connection: the sender's *encoder
//! stream* (unidirectional stream type 0x02), the encoded field sections of its request and
//! push streams (HEADERS and PUSH_PROMISE payloads), and, for statistics only, the peer's
//! *decoder stream* (type 0x03) that acknowledges them.
//!
//! # Feeding it
//!
//! - [`Decoder::apply_settings`]: the SETTINGS_QPACK_MAX_TABLE_CAPACITY and
//!   SETTINGS_QPACK_BLOCKED_STREAMS the *decoding* side announced. Until then the decoder
//!   accepts capacities up to [`MAX_TABLE_CAPACITY_LIMIT`] and up to
//!   [`MAX_BLOCKED_STREAMS_LIMIT`] blocked streams, and takes the largest capacity the encoder
//!   has set as the maximum capacity that Required Insert Counts are encoded against
//!   (RFC 9204 §4.5.1.1 needs it; encoders usually set the capacity to the decoder's maximum).
//! - [`Decoder::handle_encoder_stream`]: encoder stream bytes in stream order, in pieces of
//!   any size. An instruction split across calls is buffered; its declared lengths are
//!   checked against the table capacity as soon as they are read, so the buffer never holds
//!   more than about four times the capacity (Huffman strings included).
//! - [`Decoder::decode_section`]: one complete encoded field section of a stream. It either
//!   decodes into the caller's reusable [`HeaderList`] ([`Decoded::Done`]) or, when it needs
//!   entries the encoder stream has not delivered yet, is **blocked**
//!   ([`Decoded::Blocked`]): the decoder keeps a copy, bounded by the blocked-streams setting
//!   (and [`MAX_BLOCKED_STREAMS_LIMIT`]) and [`MAX_BLOCKED_BYTES`]. After more encoder stream
//!   bytes, [`Decoder::poll_unblocked`] hands back, one per call, every queued section that
//!   can now be decoded, with its stream id; sections of one stream come out in their order.
//!   [`Decoder::cancel_stream`] drops a reset stream's queued sections.
//! - [`Decoder::handle_decoder_stream`]: the peer's decoder stream, parsed incrementally and
//!   only counted in [`QpackStats`] (acknowledgments, cancellations, Known Received Count,
//!   and the protocol violations an encoder would reject).
//!
//! # Guarantees
//!
//! - Never panics and never reads outside its input, whatever the bytes.
//! - Integers are decoded up to 2^62 - 1 (§4.1.1 "QPACK implementations MUST be able to
//!   decode integers up to and including 62 bits long"); longer ones are
//!   [`QpackError::IntegerOverflow`]. Lengths are checked against the input before any copy.
//! - Memory is bounded: the table by the capacity limit, a partial instruction as above, the
//!   blocked queue by count and bytes, a decoded list by [`DEFAULT_MAX_HEADER_LIST_SIZE`]
//!   (settable). No allocation per field once the buffers are warm: strings are copied from
//!   the tables or the block (Huffman strings through one reused scratch buffer) into the
//!   list's single byte buffer.
//! - Errors are typed ([`QpackError`]). [`QpackError::Truncated`] means the section ended
//!   inside a representation (a field section is always complete when decoded, so it is the
//!   section's fault; a split *instruction* is never an error). A field section's error
//!   leaves the table untouched (field lines never modify it), so decoding goes on with the
//!   next section. An encoder stream error cannot be stepped over (instructions are unframed):
//!   the decoder enters partial mode.
//!
//! # Partial mode
//!
//! A capture that starts mid-connection, or loses encoder stream bytes, or carries an invalid
//! instruction, leaves the decoder without the table the encoder uses, and no instruction
//! boundary to resynchronise on. [`Decoder::desynchronise`] (called by the decoder itself on
//! an encoder stream error, and by [`Decoder::handle_encoder_gap`]) switches to *partial*
//! mode for the rest of the connection: encoder stream bytes are counted and ignored, nothing
//! blocks (queued sections are released), and every field line that refers to the dynamic
//! table yields an unknown field, counted in [`HeaderList::unknown_fields`], instead of an
//! error. Static references and literals still decode exactly. Unlike HPACK's partial mode,
//! the entries held before the loss are dropped too: their absolute indices stay valid, but
//! resolving a reference needs the Required Insert Count, whose wrapped encoding (§4.5.1.1)
//! can no longer be unwrapped once inserts went unseen, so a kept entry could be matched to
//! the wrong reference. An unknown field is better than a wrong one.

mod decoder;
mod dynamic;
pub mod static_table;

#[cfg(test)]
pub(crate) mod tests;

use std::fmt;

pub use decoder::{Decoded, Decoder};

use crate::dissect::http2::hpack::huffman::{self, HuffmanError};
pub use crate::dissect::http2::hpack::{HeaderList, DEFAULT_MAX_HEADER_LIST_SIZE};

/// Largest dynamic table capacity this decoder agrees to hold, whatever SETTINGS announced
/// (HPACK's bound).
pub const MAX_TABLE_CAPACITY_LIMIT: usize = 1 << 20;
/// Most streams with blocked field sections held at once, whatever SETTINGS announced.
pub const MAX_BLOCKED_STREAMS_LIMIT: usize = 256;
/// Bytes of blocked field sections held at once (each counts its length plus
/// [`BLOCKED_SECTION_OVERHEAD`]).
pub const MAX_BLOCKED_BYTES: usize = 1 << 20;
/// What a queued blocked section costs beyond its bytes, so empty sections are bounded too.
pub const BLOCKED_SECTION_OVERHEAD: usize = 64;
/// Largest integer decoded (§4.1.1).
pub const MAX_INT: u64 = (1 << 62) - 1;

/// Why an instruction or a field section could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QpackError {
    /// The field section ends inside a representation.
    Truncated,
    /// An integer above 2^62 - 1.
    IntegerOverflow,
    /// A Huffman string contains the EOS code.
    HuffmanEos,
    /// A Huffman string ends in padding longer than 7 bits or not all 1-bits.
    HuffmanPadding,
    /// A static table index past 98.
    InvalidStaticIndex(u64),
    /// A relative index that reaches below absolute index 0: in a field line, `index` is not
    /// below Base; in an encoder instruction, not below the Insert Count (`base` is then it).
    InvalidRelativeIndex { base: u64, index: u64 },
    /// A field line refers to an entry at or past the section's Required Insert Count.
    IndexBeyondRequired { absolute: u64, required: u64 },
    /// The referenced entry was evicted (or, on the encoder stream, never inserted).
    EvictedEntry { absolute: u64 },
    /// An encoded Required Insert Count no conformant encoder produces (§4.5.1.1).
    InvalidRequiredInsertCount { encoded: u64 },
    /// Sign bit 1 with a Delta Base not below the Required Insert Count (§4.5.1.2), or a
    /// Base past 2^64.
    InvalidBase { required: u64, delta: u64 },
    /// Set Dynamic Table Capacity above the maximum (§4.3.1).
    CapacityTooLarge { requested: u64, limit: u64 },
    /// An entry larger than the table capacity (§3.2.2).
    EntryTooLarge { size: u64, capacity: u64 },
    /// A partial encoder stream instruction longer than any valid one could be.
    InstructionTooLarge { limit: usize },
    /// One blocked stream more than allowed (§2.2.1).
    TooManyBlockedStreams { limit: usize },
    /// The blocked sections would hold more than [`MAX_BLOCKED_BYTES`].
    BlockedBytesExceeded { limit: usize },
    /// The decoded list exceeds the cap; the fields before it are kept.
    HeaderListTooLarge { limit: usize },
}

impl fmt::Display for QpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QpackError::Truncated => write!(f, "field section ends inside a representation"),
            QpackError::IntegerOverflow => write!(f, "integer above 2^62 - 1"),
            QpackError::HuffmanEos => write!(f, "Huffman string contains EOS"),
            QpackError::HuffmanPadding => write!(f, "invalid Huffman padding"),
            QpackError::InvalidStaticIndex(i) => write!(f, "invalid static table index {i}"),
            QpackError::InvalidRelativeIndex { base, index } => {
                write!(
                    f,
                    "relative index {index} reaches below entry 0 (base {base})"
                )
            }
            QpackError::IndexBeyondRequired { absolute, required } => write!(
                f,
                "reference to entry {absolute}, at or past the Required Insert Count {required}"
            ),
            QpackError::EvictedEntry { absolute } => {
                write!(
                    f,
                    "reference to entry {absolute}, which is not in the table"
                )
            }
            QpackError::InvalidRequiredInsertCount { encoded } => {
                write!(f, "invalid encoded Required Insert Count {encoded}")
            }
            QpackError::InvalidBase { required, delta } => write!(
                f,
                "negative Base (Required Insert Count {required}, Delta Base {delta})"
            ),
            QpackError::CapacityTooLarge { requested, limit } => {
                write!(f, "table capacity {requested} above the maximum {limit}")
            }
            QpackError::EntryTooLarge { size, capacity } => {
                write!(
                    f,
                    "entry of {size} bytes larger than the capacity {capacity}"
                )
            }
            QpackError::InstructionTooLarge { limit } => {
                write!(f, "encoder instruction longer than {limit} bytes")
            }
            QpackError::TooManyBlockedStreams { limit } => {
                write!(f, "more than {limit} blocked streams")
            }
            QpackError::BlockedBytesExceeded { limit } => {
                write!(f, "blocked field sections above {limit} bytes")
            }
            QpackError::HeaderListTooLarge { limit } => {
                write!(f, "decoded field list larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for QpackError {}

impl From<HuffmanError> for QpackError {
    fn from(e: HuffmanError) -> QpackError {
        match e {
            HuffmanError::Eos => QpackError::HuffmanEos,
            HuffmanError::Padding => QpackError::HuffmanPadding,
        }
    }
}

/// What one [`Decoder`] has seen, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QpackStats {
    /// Encoder stream bytes received, and those ignored (partial mode).
    pub encoder_bytes: u64,
    pub encoder_bytes_ignored: u64,
    /// Set Dynamic Table Capacity instructions.
    pub capacity_updates: u64,
    /// Entries inserted, Duplicates included (the Insert Count).
    pub inserts: u64,
    pub duplicates: u64,
    /// Field sections decoded (also after waiting), blocked on arrival, and failed.
    pub sections: u64,
    pub sections_blocked: u64,
    pub sections_failed: u64,
    pub fields: u64,
    /// Fields that referred to entries lost to partial mode.
    pub unknown_fields: u64,
    /// Sections whose Required Insert Count is above their largest reference plus one
    /// (§2.2.1: the decoder MAY treat it as an error; an observer only counts it).
    pub overstated_required: u64,
    /// Decoder stream bytes received, and those ignored after an invalid instruction.
    pub decoder_bytes: u64,
    pub decoder_bytes_ignored: u64,
    pub section_acks: u64,
    pub stream_cancellations: u64,
    pub insert_count_increments: u64,
    /// The encoder's Known Received Count as the decoder stream builds it (§2.1.4).
    pub known_received_count: u64,
    /// Decoder instructions an encoder must reject (§4.4): an acknowledgment with no
    /// section outstanding on its stream, a zero increment, or a Known Received Count
    /// beyond the Insert Count.
    pub decoder_stream_violations: u64,
}

/// RFC 7541 §5.1 integer with a `prefix`-bit prefix (1..=8) at `buf[*pos]`, bounded at
/// [`MAX_INT`]. `*pos` moves past it only on success.
#[inline]
pub(crate) fn read_int(buf: &[u8], pos: &mut usize, prefix: u8) -> Result<u64, QpackError> {
    let mask = (1u64 << prefix) - 1;
    let first = *buf.get(*pos).ok_or(QpackError::Truncated)?;
    let mut v = first as u64 & mask;
    let mut p = *pos + 1;
    if v == mask {
        let mut shift = 0u32;
        loop {
            let b = *buf.get(p).ok_or(QpackError::Truncated)?;
            p += 1;
            // v <= MAX_INT and shift <= 56, so the sum stays below 2^64.
            v += ((b & 0x7f) as u64) << shift;
            if v > MAX_INT {
                return Err(QpackError::IntegerOverflow);
            }
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 56 {
                // A tenth continuation byte: 62 bits never need it.
                return Err(QpackError::IntegerOverflow);
            }
        }
    }
    *pos = p;
    Ok(v)
}

/// A string literal read by [`read_string`]: a range of the input, or of the scratch buffer
/// it was Huffman-decoded into.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Str {
    Wire(usize, usize),
    Scratch(usize, usize),
}

impl Str {
    #[inline]
    pub(crate) fn get<'a>(self, wire: &'a [u8], scratch: &'a [u8]) -> &'a [u8] {
        match self {
            Str::Wire(s, e) => wire.get(s..e).unwrap_or_default(),
            Str::Scratch(s, e) => scratch.get(s..e).unwrap_or_default(),
        }
    }

    #[inline]
    pub(crate) fn len(self) -> usize {
        match self {
            Str::Wire(s, e) | Str::Scratch(s, e) => e - s,
        }
    }
}

/// The H flag and length of a string literal whose length has a `prefix`-bit integer, the
/// flag being the bit above it (§4.1.2: "an N-bit prefix string literal").
#[inline]
pub(crate) fn read_string_head(
    buf: &[u8],
    pos: &mut usize,
    prefix: u8,
) -> Result<(bool, usize), QpackError> {
    let huffman = buf.get(*pos).ok_or(QpackError::Truncated)? & (1 << prefix) != 0;
    let len = read_int(buf, pos, prefix)?;
    Ok((
        huffman,
        usize::try_from(len).map_err(|_| QpackError::Truncated)?,
    ))
}

/// The bytes of a string literal whose head was read: raw strings stay in `buf`, Huffman
/// strings are decoded into `scratch` from offset `at` (grown as needed, never shrunk).
#[inline]
pub(crate) fn read_string_body(
    buf: &[u8],
    pos: &mut usize,
    (huffman, len): (bool, usize),
    scratch: &mut Vec<u8>,
    at: usize,
) -> Result<Str, QpackError> {
    let start = *pos;
    let end = start.checked_add(len).ok_or(QpackError::Truncated)?;
    if end > buf.len() {
        return Err(QpackError::Truncated);
    }
    if !huffman {
        *pos = end;
        return Ok(Str::Wire(start, end));
    }
    let need = at + huffman::max_decoded_len(len);
    if scratch.len() < need {
        scratch.resize(need, 0);
    }
    // The rest of the input rides along as read-ahead slack for the Huffman decoder.
    let n = huffman::decode_into(&buf[start..], len, &mut scratch[at..])?;
    *pos = end;
    Ok(Str::Scratch(at, at + n))
}

/// [`read_string_head`] then [`read_string_body`].
#[inline]
pub(crate) fn read_string(
    buf: &[u8],
    pos: &mut usize,
    prefix: u8,
    scratch: &mut Vec<u8>,
    at: usize,
) -> Result<Str, QpackError> {
    let head = read_string_head(buf, pos, prefix)?;
    read_string_body(buf, pos, head, scratch, at)
}

/// The fewest bytes a string of `len` wire bytes decodes to: a Huffman code takes at most
/// 30 bits, and at most 7 bits are padding.
#[inline]
pub(crate) fn min_decoded_len((huffman, len): (bool, usize)) -> usize {
    if huffman {
        len.saturating_mul(8).saturating_sub(7) / 30
    } else {
        len
    }
}
