//! HPACK header block decoding (RFC 7541), written for a passive observer.
//!
//! Consumes complete header blocks (a HEADERS or PUSH_PROMISE fragment plus its
//! CONTINUATIONs) of one direction of one HTTP/2 connection, in order. Produces the decoded
//! field list in a caller-owned, reusable [`HeaderList`] (one byte buffer plus spans: no
//! allocation per field once warm). Guarantees:
//! - never panics and never reads outside the block, whatever the bytes;
//! - integers are bounded (at most 2^32 - 1, five continuation bytes) and string lengths are
//!   checked against the block before any copy;
//! - Huffman strings are decoded by a nibble state machine that rejects EOS and bad padding;
//! - the dynamic table is bounded by the size limit the decoder was given (and never more than
//!   [`MAX_TABLE_SIZE_LIMIT`]), with the 32-byte per-entry overhead of §4.1;
//! - the decoded list is capped ([`DEFAULT_MAX_HEADER_LIST_SIZE`] by default): past it fields
//!   are still decoded, so the dynamic table stays in step, but not stored, and the block ends
//!   in [`HpackError::HeaderListTooLarge`].
//!
//! A capture that starts mid-connection or loses bytes leaves the decoder without the entries
//! the encoder added meanwhile. [`Decoder::desynchronise`] then switches it to *partial* mode:
//! the entries it inserts afterwards are exact (eviction of an entry depends only on the entries
//! newer than it, RFC 7541 §4.4), so references to them still decode; references beyond them
//! yield an unknown field, counted in [`HeaderList::unknown_fields`], instead of an error.
//! Holding more entries than the encoder (a larger maximum size) is harmless, since the
//! encoder never refers past its own table, so in partial mode size updates are accepted up
//! to [`MAX_TABLE_SIZE_LIMIT`]: the SETTINGS that allowed them may have been missed.

pub mod huffman;
pub mod table;

use std::fmt;

use table::{DynamicTable, ENTRY_OVERHEAD, STATIC_JOINED, STATIC_LEN};

/// SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// Largest dynamic table this decoder agrees to hold, whatever SETTINGS announced.
pub const MAX_TABLE_SIZE_LIMIT: usize = 1 << 20;
/// Default cap on a decoded header list, counted as in RFC 7541 §4.1.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: usize = 256 * 1024;

/// Why a header block could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpackError {
    /// The block ends inside a field representation.
    Truncated,
    /// An integer above 2^32 - 1 or with more than five continuation bytes.
    IntegerOverflow,
    /// Index 0, or an index past the static and dynamic tables.
    InvalidIndex(u32),
    /// A Huffman string contains the EOS code.
    HuffmanEos,
    /// A Huffman string ends in padding longer than 7 bits or not all 1-bits.
    HuffmanPadding,
    /// A dynamic table size update above the limit SETTINGS allow.
    SizeUpdateTooLarge { requested: u32, limit: u32 },
    /// A dynamic table size update after the first field of the block.
    SizeUpdateNotAtStart,
    /// The decoded list exceeds the cap; the fields before it are kept.
    HeaderListTooLarge { limit: u32 },
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackError::Truncated => write!(f, "header block ends inside a field"),
            HpackError::IntegerOverflow => write!(f, "integer overflow"),
            HpackError::InvalidIndex(i) => write!(f, "invalid table index {i}"),
            HpackError::HuffmanEos => write!(f, "Huffman string contains EOS"),
            HpackError::HuffmanPadding => write!(f, "invalid Huffman padding"),
            HpackError::SizeUpdateTooLarge { requested, limit } => {
                write!(
                    f,
                    "table size update to {requested} above the limit {limit}"
                )
            }
            HpackError::SizeUpdateNotAtStart => {
                write!(f, "table size update after the first field of the block")
            }
            HpackError::HeaderListTooLarge { limit } => {
                write!(f, "decoded header list larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for HpackError {}

impl From<huffman::HuffmanError> for HpackError {
    fn from(e: huffman::HuffmanError) -> HpackError {
        match e {
            huffman::HuffmanError::Eos => HpackError::HuffmanEos,
            huffman::HuffmanError::Padding => HpackError::HuffmanPadding,
        }
    }
}

/// A byte buffer written through a cursor: its zero-filled length only grows, so decoding a
/// string needs no per-string fill or truncation.
#[derive(Debug, Clone, Default)]
struct Arena {
    buf: Vec<u8>,
    len: usize,
}

impl Arena {
    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    /// At least `extra` writable bytes after the cursor.
    #[inline]
    fn spare(&mut self, extra: usize) -> &mut [u8] {
        let need = self.len + extra;
        if self.buf.len() < need {
            let grown = need.max(self.buf.len() * 2).max(256);
            self.buf.resize(grown, 0);
        }
        &mut self.buf[self.len..]
    }

    #[inline]
    fn extend(&mut self, s: &[u8]) {
        let n = s.len();
        self.spare(n)[..n].copy_from_slice(s);
        self.len += n;
    }

    #[inline]
    fn get(&self, r: std::ops::Range<usize>) -> Option<&[u8]> {
        if r.end > self.len {
            return None;
        }
        self.buf.get(r)
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    name_end: u32,
    end: u32,
    never_indexed: bool,
}

/// A decoded field list: names and values stored back to back in one reusable buffer.
#[derive(Debug, Clone, Default)]
pub struct HeaderList {
    bytes: Arena,
    spans: Vec<Span>,
    size: usize,
    unknown: u32,
}

impl HeaderList {
    pub fn new() -> HeaderList {
        HeaderList::default()
    }

    /// Empties the list, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.len = 0;
        self.spans.clear();
        self.size = 0;
        self.unknown = 0;
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i` as `(name, value)`.
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let s = self.spans.get(i)?;
        Some((
            self.bytes.get(s.start as usize..s.name_end as usize)?,
            self.bytes.get(s.name_end as usize..s.end as usize)?,
        ))
    }

    /// Whether field `i` was sent as "never indexed" (RFC 7541 §6.2.3).
    pub fn never_indexed(&self, i: usize) -> bool {
        self.spans.get(i).is_some_and(|s| s.never_indexed)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.spans.len()).filter_map(move |i| self.get(i))
    }

    /// The first value of the field named `name` (names are lower case in HTTP/2).
    pub fn value(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Size of the list as RFC 7541 §4.1 counts it (each field plus 32).
    pub fn list_size(&self) -> usize {
        self.size
    }

    /// Fields that referred to dynamic table entries lost to a desynchronisation.
    pub fn unknown_fields(&self) -> u32 {
        self.unknown
    }

    /// Appends a field (test and tool use; the decoder writes in place).
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        self.push_field(name, value, false);
    }

    /// Appends a field with its "never indexed" flag: how the QPACK decoder, whose strings
    /// come from its own tables and scratch, fills the same list.
    pub(crate) fn push_field(&mut self, name: &[u8], value: &[u8], never_indexed: bool) {
        let start = self.bytes.len();
        self.bytes.extend(name);
        let name_end = self.bytes.len();
        self.bytes.extend(value);
        self.commit(start, name_end, never_indexed);
    }

    /// Counts a field that referred to a lost dynamic table entry (QPACK's partial mode).
    pub(crate) fn push_unknown(&mut self) {
        self.unknown += 1;
    }

    fn commit(&mut self, start: usize, name_end: usize, never_indexed: bool) {
        self.size += self.bytes.len() - start + ENTRY_OVERHEAD;
        self.spans.push(Span {
            start: start as u32,
            name_end: name_end as u32,
            end: self.bytes.len() as u32,
            never_indexed,
        });
    }
}

/// What a table index refers to.
enum Lookup<'a> {
    /// Name and value joined, and the name's length.
    Known(&'a [u8], usize),
    /// A dynamic entry lost to a desynchronisation (partial mode only).
    Unknown,
}

/// One direction's HPACK decoding context.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// Bound for dynamic table size updates (the SETTINGS_HEADER_TABLE_SIZE in force).
    limit: usize,
    max_list_size: usize,
    /// Entries older than the ones held are unknown (see the module doc).
    partial: bool,
    /// Scratch for a field decoded past the list cap.
    spill: HeaderList,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new(DEFAULT_TABLE_SIZE)
    }
}

impl Decoder {
    /// A decoder whose table size updates may go up to `max_table` (capped at
    /// [`MAX_TABLE_SIZE_LIMIT`]). The table itself starts at 4,096 bytes, the protocol's
    /// initial value; the encoder changes it with a size update.
    pub fn new(max_table: usize) -> Decoder {
        let limit = max_table.min(MAX_TABLE_SIZE_LIMIT);
        Decoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE.min(limit)),
            limit,
            max_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            partial: false,
            spill: HeaderList::new(),
        }
    }

    /// Sets the bound for size updates (a new SETTINGS_HEADER_TABLE_SIZE).
    pub fn set_table_size_limit(&mut self, max_table: usize) {
        self.limit = max_table.min(MAX_TABLE_SIZE_LIMIT);
    }

    pub fn table_size_limit(&self) -> usize {
        self.limit
    }

    pub fn set_max_header_list_size(&mut self, n: usize) {
        self.max_list_size = n;
    }

    /// Current size of the dynamic table (sum of entry sizes).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// Current maximum size of the dynamic table (the last size update).
    pub fn table_max_size(&self) -> usize {
        self.table.max_size()
    }

    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Whether entries were lost (see [`Decoder::desynchronise`]).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Marks every entry the decoder holds as lost: header blocks were missed or only partly
    /// applied. Decoding goes on in partial mode (module doc).
    pub fn desynchronise(&mut self) {
        self.table.clear();
        self.partial = true;
    }

    /// Decodes one complete header block into `out` (cleared first).
    ///
    /// On error `out` holds the fields decoded before it, and the dynamic table may hold part
    /// of the block's insertions: call [`Decoder::desynchronise`] unless the error is
    /// [`HpackError::HeaderListTooLarge`] (which decodes the whole block).
    pub fn decode(&mut self, block: &[u8], out: &mut HeaderList) -> Result<(), HpackError> {
        out.clear();
        let mut pos = 0usize;
        let mut fields_started = false;
        let mut overflow = false;
        while let Some(&b) = block.get(pos) {
            if b & 0x80 != 0 {
                // §6.1 Indexed Header Field.
                let idx = decode_int(block, &mut pos, 7)?;
                let dst = if overflow { &mut self.spill } else { &mut *out };
                let start = dst.bytes.len();
                match lookup(&self.table, self.partial, idx)? {
                    Lookup::Known(joined, name_len) => {
                        dst.bytes.extend(joined);
                        dst.commit(start, start + name_len, false);
                    }
                    Lookup::Unknown => dst.unknown += 1,
                }
            } else if b & 0x40 != 0 {
                // §6.2.1 Literal Header Field with Incremental Indexing.
                self.literal(block, &mut pos, 6, true, false, out, overflow)?;
            } else if b & 0x20 != 0 {
                // §6.3 Dynamic Table Size Update: "MUST occur at the beginning of the first
                // header block following the change to the dynamic table size".
                if fields_started {
                    return Err(HpackError::SizeUpdateNotAtStart);
                }
                let n = decode_int(block, &mut pos, 5)?;
                // In partial mode the SETTINGS that raised the limit may have been missed too.
                let limit = if self.partial {
                    MAX_TABLE_SIZE_LIMIT
                } else {
                    self.limit
                };
                if n as usize > limit {
                    return Err(HpackError::SizeUpdateTooLarge {
                        requested: n,
                        limit: limit as u32,
                    });
                }
                self.table.set_max_size(n as usize);
                continue;
            } else {
                // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001).
                self.literal(block, &mut pos, 4, false, b & 0x10 != 0, out, overflow)?;
            }
            fields_started = true;
            if !overflow && out.size > self.max_list_size {
                // Keep the fields that fit; decode the rest only to keep the table in step.
                overflow = true;
                if let Some(last) = out.spans.pop() {
                    out.bytes.truncate(last.start as usize);
                    out.size -= (last.end - last.start) as usize + ENTRY_OVERHEAD;
                }
            }
            if overflow {
                self.spill.clear();
            }
        }
        if overflow {
            return Err(HpackError::HeaderListTooLarge {
                limit: self.max_list_size.min(u32::MAX as usize) as u32,
            });
        }
        Ok(())
    }

    /// A literal field (§6.2): name by index or literal, then a literal value.
    #[allow(clippy::too_many_arguments)]
    fn literal(
        &mut self,
        block: &[u8],
        pos: &mut usize,
        prefix: u8,
        index: bool,
        never_indexed: bool,
        out: &mut HeaderList,
        overflow: bool,
    ) -> Result<(), HpackError> {
        let dst = if overflow { &mut self.spill } else { out };
        let start = dst.bytes.len();
        let name_idx = decode_int(block, pos, prefix)?;
        let mut name_known = true;
        if name_idx == 0 {
            if let Err(e) = decode_string(block, pos, &mut dst.bytes) {
                dst.bytes.truncate(start);
                return Err(e);
            }
        } else {
            match lookup(&self.table, self.partial, name_idx)? {
                Lookup::Known(joined, name_len) => {
                    dst.bytes.extend(joined.get(..name_len).unwrap_or_default())
                }
                Lookup::Unknown => name_known = false,
            }
        }
        let name_end = dst.bytes.len();
        if let Err(e) = decode_string(block, pos, &mut dst.bytes) {
            dst.bytes.truncate(start);
            return Err(e);
        }
        if !name_known {
            dst.bytes.truncate(start);
            dst.unknown += 1;
            if index {
                // The new entry's size is unknown, so are the evictions it causes: every
                // entry held becomes unknown too.
                self.table.clear();
            }
            return Ok(());
        }
        if index {
            let end = dst.bytes.len();
            let joined = dst.bytes.get(start..end).unwrap_or_default();
            self.table.insert_joined(joined, name_end - start);
        }
        dst.commit(start, name_end, never_indexed);
        Ok(())
    }
}

#[inline]
fn lookup(table: &DynamicTable, partial: bool, idx: u32) -> Result<Lookup<'_>, HpackError> {
    let i = idx as usize;
    if i == 0 {
        return Err(HpackError::InvalidIndex(idx));
    }
    if i <= STATIC_LEN {
        let (joined, name_len) = STATIC_JOINED[i - 1];
        return Ok(Lookup::Known(joined, name_len));
    }
    match table.get_joined(i - STATIC_LEN - 1) {
        Some((joined, name_len)) => Ok(Lookup::Known(joined, name_len)),
        None if partial => Ok(Lookup::Unknown),
        None => Err(HpackError::InvalidIndex(idx)),
    }
}

/// RFC 7541 §5.1 integer with an N-bit prefix, starting at `block[*pos]`.
#[inline]
pub fn decode_int(block: &[u8], pos: &mut usize, prefix: u8) -> Result<u32, HpackError> {
    let mask = (1u32 << prefix) - 1;
    let first = *block.get(*pos).ok_or(HpackError::Truncated)?;
    *pos += 1;
    let mut v = first as u32 & mask;
    if v < mask {
        return Ok(v);
    }
    let mut shift = 0u32;
    let mut acc = v as u64;
    loop {
        let b = *block.get(*pos).ok_or(HpackError::Truncated)?;
        *pos += 1;
        acc += ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
    }
    v = u32::try_from(acc).map_err(|_| HpackError::IntegerOverflow)?;
    Ok(v)
}

/// RFC 7541 §5.2 string literal appended to `dst`.
#[inline]
fn decode_string(block: &[u8], pos: &mut usize, dst: &mut Arena) -> Result<(), HpackError> {
    let huff = block.get(*pos).ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = decode_int(block, pos, 7)? as usize;
    let end = pos.checked_add(len).ok_or(HpackError::Truncated)?;
    let s = block.get(*pos..end).ok_or(HpackError::Truncated)?;
    let start = *pos;
    *pos = end;
    if huff {
        // The rest of the block rides along as read-ahead slack for the decoder.
        let data = &block[start..];
        let n = huffman::decode_into(data, len, dst.spare(huffman::max_decoded_len(len)))?;
        dst.len += n;
    } else {
        dst.extend(s);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
