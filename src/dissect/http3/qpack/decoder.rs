//! The decoder: encoder stream instructions (§4.3), field sections (§4.5) with blocked
//! sections queued, and decoder stream instructions (§4.4) counted. See the module doc of
//! [`super`] for the contract.

use std::collections::VecDeque;

use super::dynamic::Table;
use super::{
    min_decoded_len, read_int, read_string, read_string_body, read_string_head, static_table,
    HeaderList, QpackError, QpackStats, Str, BLOCKED_SECTION_OVERHEAD,
    DEFAULT_MAX_HEADER_LIST_SIZE, MAX_BLOCKED_BYTES, MAX_BLOCKED_STREAMS_LIMIT,
    MAX_TABLE_CAPACITY_LIMIT,
};
use crate::dissect::http2::hpack::table::ENTRY_OVERHEAD;

/// Backstop for a buffered encoder instruction. A valid one inserts an entry no larger
/// than the capacity (and [`encoder_instruction`](Decoder::encoder_instruction) checks each
/// declared length against it as soon as it is read); a Huffman code takes at most 30 bits a
/// byte, and its three integers at most 30 bytes.
const MAX_ENCODER_INSTRUCTION: usize = 4 * MAX_TABLE_CAPACITY_LIMIT + 64;
/// The longest valid decoder instruction: one prefix byte and nine continuation bytes.
const MAX_DECODER_INSTRUCTION: usize = 10;
/// Sections remembered for matching Section Acknowledgments (oldest forgotten first).
const MAX_OUTSTANDING: usize = 1024;
/// Buffers of released blocked sections kept for reuse.
const MAX_SPARE_BUFFERS: usize = 16;

/// What [`Decoder::decode_section`] did with a field section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// The fields are in the output list.
    Done,
    /// The section needs `required` inserts and fewer have arrived (or an earlier section of
    /// the same stream is still waiting): the decoder queued it, and
    /// [`Decoder::poll_unblocked`] returns it once it can be decoded.
    Blocked { required: u64 },
}

/// A queued blocked section: its prefix, already decoded against the Insert Count of its
/// arrival, and its field lines.
#[derive(Debug, Clone)]
struct BlockedSection {
    stream_id: u64,
    required: u64,
    base: u64,
    lines: Vec<u8>,
}

/// One direction's QPACK decoding context (module doc of [`super`]).
#[derive(Debug, Clone)]
pub struct Decoder {
    table: Table,
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY of the decoding side, when seen.
    settings_capacity: Option<u64>,
    /// SETTINGS_QPACK_BLOCKED_STREAMS of the decoding side, when seen.
    settings_blocked: Option<u64>,
    /// The largest capacity the encoder has set: the maximum capacity assumed while the
    /// SETTINGS are unknown.
    largest_capacity: u64,
    max_list_size: usize,
    /// Entries are lost (module doc).
    partial: bool,
    encoder_pending: Vec<u8>,
    decoder_pending: Vec<u8>,
    decoder_stream_dead: bool,
    /// Huffman-decoded strings and entries being built.
    scratch: Vec<u8>,
    blocked: VecDeque<BlockedSection>,
    blocked_streams: usize,
    blocked_bytes: usize,
    spare: Vec<Vec<u8>>,
    /// `(stream id, Required Insert Count)` of sections with dynamic references that the
    /// decoder stream has not acknowledged yet.
    outstanding: VecDeque<(u64, u64)>,
    stats: QpackStats,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new()
    }
}

/// A table entry as `(name, value)`.
type Field<'a> = (&'a [u8], &'a [u8]);

/// What field lines are resolved against.
struct Lines<'a> {
    table: &'a Table,
    partial: bool,
    required: u64,
    base: u64,
    max_list_size: usize,
}

impl Decoder {
    /// A decoder whose SETTINGS are not known yet (module doc).
    pub fn new() -> Decoder {
        Decoder {
            table: Table::new(),
            settings_capacity: None,
            settings_blocked: None,
            largest_capacity: 0,
            max_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            partial: false,
            encoder_pending: Vec::new(),
            decoder_pending: Vec::new(),
            decoder_stream_dead: false,
            scratch: Vec::new(),
            blocked: VecDeque::new(),
            blocked_streams: 0,
            blocked_bytes: 0,
            spare: Vec::new(),
            outstanding: VecDeque::new(),
            stats: QpackStats::default(),
        }
    }

    /// A decoder for the settings the decoding side announced.
    pub fn with_settings(max_table_capacity: u64, blocked_streams: u64) -> Decoder {
        let mut d = Decoder::new();
        d.apply_settings(max_table_capacity, blocked_streams);
        d
    }

    /// The decoding side's SETTINGS_QPACK_MAX_TABLE_CAPACITY and
    /// SETTINGS_QPACK_BLOCKED_STREAMS (0 when its SETTINGS frame omitted them). The capacity
    /// the decoder accepts is also capped at [`MAX_TABLE_CAPACITY_LIMIT`], the blocked
    /// streams at [`MAX_BLOCKED_STREAMS_LIMIT`].
    pub fn apply_settings(&mut self, max_table_capacity: u64, blocked_streams: u64) {
        self.settings_capacity = Some(max_table_capacity);
        self.settings_blocked = Some(blocked_streams);
    }

    pub fn set_max_header_list_size(&mut self, n: usize) {
        self.max_list_size = n;
    }

    /// Applies a capacity as if the encoder had sent Set Dynamic Table Capacity. Drafts
    /// before RFC 9204 started the table at its maximum capacity instead of 0, and so do the
    /// nghttp3 and ls-qpack outputs of the QPACK offline-interop corpus.
    pub fn assume_capacity(&mut self, capacity: u64) -> Result<(), QpackError> {
        self.set_capacity(capacity)
    }

    /// Capacities above this are rejected.
    pub fn capacity_limit(&self) -> u64 {
        let hard = MAX_TABLE_CAPACITY_LIMIT as u64;
        self.settings_capacity.map_or(hard, |c| c.min(hard))
    }

    fn max_blocked_streams(&self) -> usize {
        self.settings_blocked
            .map_or(MAX_BLOCKED_STREAMS_LIMIT, |b| {
                usize::try_from(b).unwrap_or(usize::MAX)
            })
            .min(MAX_BLOCKED_STREAMS_LIMIT)
    }

    /// §4.5.1.1: "MaxEntries = floor( MaxTableCapacity / 32 )", the maximum capacity being
    /// the decoding side's setting (the largest capacity set, while it is unknown).
    fn max_entries(&self) -> u64 {
        self.settings_capacity.unwrap_or(self.largest_capacity) / ENTRY_OVERHEAD as u64
    }

    /// The Insert Count: entries inserted so far, Duplicates included.
    pub fn insert_count(&self) -> u64 {
        self.table.insert_count()
    }

    /// Current size of the dynamic table (sum of entry sizes).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Streams with queued blocked sections.
    pub fn blocked_streams(&self) -> usize {
        self.blocked_streams
    }

    /// Whether entries were lost (see [`Decoder::desynchronise`]).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    pub fn stats(&self) -> &QpackStats {
        &self.stats
    }

    /// Switches to partial mode for good (module doc of [`super`]): the table is forgotten,
    /// encoder stream bytes are ignored, and queued sections can be polled at once.
    pub fn desynchronise(&mut self) {
        self.partial = true;
        self.table.clear();
        self.encoder_pending = Vec::new();
    }

    /// Encoder stream bytes were lost: the instruction boundaries with them.
    pub fn handle_encoder_gap(&mut self, len: u64) {
        self.stats.encoder_bytes_ignored += len;
        self.desynchronise();
    }

    /// The next bytes of the encoder stream. On an error the decoder is desynchronised
    /// (module doc): later bytes are ignored.
    pub fn handle_encoder_stream(&mut self, bytes: &[u8]) -> Result<(), QpackError> {
        self.stats.encoder_bytes += bytes.len() as u64;
        if self.partial {
            self.stats.encoder_bytes_ignored += bytes.len() as u64;
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.encoder_pending);
        let r = run_instructions(&mut pending, bytes, MAX_ENCODER_INSTRUCTION, |ins| {
            self.encoder_instruction(ins)
        });
        self.encoder_pending = pending;
        if r.is_err() {
            self.desynchronise();
        }
        r
    }

    /// The next bytes of the peer's decoder stream. After an invalid instruction the rest
    /// of the stream is ignored.
    pub fn handle_decoder_stream(&mut self, bytes: &[u8]) -> Result<(), QpackError> {
        self.stats.decoder_bytes += bytes.len() as u64;
        if self.decoder_stream_dead {
            self.stats.decoder_bytes_ignored += bytes.len() as u64;
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.decoder_pending);
        let r = run_instructions(&mut pending, bytes, MAX_DECODER_INSTRUCTION, |ins| {
            self.decoder_instruction(ins)
        });
        self.decoder_pending = pending;
        if r.is_err() {
            self.decoder_stream_dead = true;
            self.decoder_pending = Vec::new();
        }
        r
    }

    /// Decodes one complete encoded field section of stream `stream_id` into `out`
    /// (cleared first), or queues it when it is blocked.
    ///
    /// On error `out` holds the fields decoded before it; the table is unchanged, so the
    /// next section decodes normally.
    pub fn decode_section(
        &mut self,
        stream_id: u64,
        block: &[u8],
        out: &mut HeaderList,
    ) -> Result<Decoded, QpackError> {
        out.clear();
        let r = self.section(stream_id, block, out);
        match r {
            Ok(Decoded::Done) => self.count_done(out),
            Ok(Decoded::Blocked { .. }) => self.stats.sections_blocked += 1,
            Err(_) => self.stats.sections_failed += 1,
        }
        r
    }

    /// The next queued section that can be decoded now, decoded into `out` (cleared first),
    /// with its stream id; `None` when none can. Call it after
    /// [`Decoder::handle_encoder_stream`] until it returns `None`.
    pub fn poll_unblocked(
        &mut self,
        out: &mut HeaderList,
    ) -> Option<(u64, Result<(), QpackError>)> {
        let inserted = self.table.insert_count();
        let i = (0..self.blocked.len()).find(|&i| {
            let s = &self.blocked[i];
            (self.partial || s.required <= inserted)
                && !self
                    .blocked
                    .iter()
                    .take(i)
                    .any(|e| e.stream_id == s.stream_id)
        })?;
        let s = self.remove_blocked(i)?;
        out.clear();
        let lines = Lines {
            table: &self.table,
            partial: self.partial,
            required: s.required,
            base: s.base,
            max_list_size: self.max_list_size,
        };
        let r = lines.decode(&s.lines, &mut self.scratch, out);
        let r = match r {
            Ok(largest) => {
                self.check_required(s.required, largest);
                self.count_done(out);
                Ok(())
            }
            Err(e) => {
                self.stats.sections_failed += 1;
                Err(e)
            }
        };
        self.recycle(s.lines);
        Some((s.stream_id, r))
    }

    /// Drops the queued sections of a stream that was reset or abandoned; returns how many.
    pub fn cancel_stream(&mut self, stream_id: u64) -> usize {
        let mut n = 0;
        while let Some(i) = self.blocked.iter().position(|s| s.stream_id == stream_id) {
            if let Some(s) = self.remove_blocked(i) {
                self.recycle(s.lines);
            }
            n += 1;
        }
        n
    }

    fn remove_blocked(&mut self, i: usize) -> Option<BlockedSection> {
        let s = self.blocked.remove(i)?;
        self.blocked_bytes -= s.lines.len() + BLOCKED_SECTION_OVERHEAD;
        if !self.blocked.iter().any(|e| e.stream_id == s.stream_id) {
            self.blocked_streams -= 1;
        }
        Some(s)
    }

    /// Keeps a released section's buffer for the next blocked one.
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < MAX_SPARE_BUFFERS {
            self.spare.push(buf);
        }
    }

    fn count_done(&mut self, out: &HeaderList) {
        self.stats.sections += 1;
        self.stats.fields += out.len() as u64;
        self.stats.unknown_fields += out.unknown_fields() as u64;
    }

    fn section(
        &mut self,
        stream_id: u64,
        block: &[u8],
        out: &mut HeaderList,
    ) -> Result<Decoded, QpackError> {
        // §4.5.1: Required Insert Count (8+), then S and Delta Base (7+).
        let mut pos = 0;
        let encoded = read_int(block, &mut pos, 8)?;
        let sign = block.get(pos).ok_or(QpackError::Truncated)? & 0x80 != 0;
        let delta = read_int(block, &mut pos, 7)?;
        let lines = block.get(pos..).unwrap_or_default();
        let (required, base) = if self.partial {
            // Nothing dynamic resolves, and the count cannot be unwrapped (module doc).
            (0, 0)
        } else {
            let required = self.required_insert_count(encoded)?;
            // §4.5.1.2: "if Sign == 0: Base = ReqInsertCount + DeltaBase, else: Base =
            // ReqInsertCount - DeltaBase - 1". "An endpoint MUST treat a field block with a
            // Sign bit of 1 as invalid if the value of Required Insert Count is less than or
            // equal to the value of Delta Base."
            let base = if sign {
                required.checked_sub(delta).and_then(|b| b.checked_sub(1))
            } else {
                required.checked_add(delta)
            };
            (
                required,
                base.ok_or(QpackError::InvalidBase { required, delta })?,
            )
        };
        // §2.2.1: "When the Required Insert Count is less than or equal to the decoder's
        // Insert Count, the field section can be processed immediately. Otherwise, the stream
        // on which the field section was received becomes blocked." A stream's later
        // sections wait behind its queued one (also in partial mode, until it is polled).
        if required > self.table.insert_count()
            || self.blocked.iter().any(|s| s.stream_id == stream_id)
        {
            self.enqueue(stream_id, required, base, lines)?;
            self.note_outstanding(stream_id, required);
            return Ok(Decoded::Blocked { required });
        }
        let ctx = Lines {
            table: &self.table,
            partial: self.partial,
            required,
            base,
            max_list_size: self.max_list_size,
        };
        let largest = ctx.decode(lines, &mut self.scratch, out)?;
        self.check_required(required, largest);
        self.note_outstanding(stream_id, required);
        Ok(Decoded::Done)
    }

    /// §4.5.1.1, the decoder's reconstruction of the Required Insert Count.
    fn required_insert_count(&self, encoded: u64) -> Result<u64, QpackError> {
        if encoded == 0 {
            return Ok(0);
        }
        let invalid = QpackError::InvalidRequiredInsertCount { encoded };
        let max_entries = self.max_entries();
        let full_range = 2 * max_entries;
        if encoded > full_range {
            return Err(invalid);
        }
        let max_value = self.table.insert_count().saturating_add(max_entries);
        let max_wrapped = max_value / full_range * full_range;
        let mut required = max_wrapped + encoded - 1;
        // "If ReqInsertCount exceeds MaxValue, the Encoder's value must have wrapped one
        // fewer time."
        if required > max_value {
            if required <= full_range {
                return Err(invalid);
            }
            required -= full_range;
        }
        // "Value of 0 must be encoded as 0."
        if required == 0 {
            return Err(invalid);
        }
        Ok(required)
    }

    /// §2.2.1: a Required Insert Count larger than the largest reference plus one "MAY" be
    /// treated as an error; an observer counts it.
    fn check_required(&mut self, required: u64, largest: Option<u64>) {
        if !self.partial && required > largest.map_or(0, |a| a + 1) {
            self.stats.overstated_required += 1;
        }
    }

    fn enqueue(
        &mut self,
        stream_id: u64,
        required: u64,
        base: u64,
        lines: &[u8],
    ) -> Result<(), QpackError> {
        let new_stream = !self.blocked.iter().any(|s| s.stream_id == stream_id);
        // §2.2.1: "If the decoder encounters more blocked streams than it promised to
        // support, it MUST treat this as a connection error".
        let limit = self.max_blocked_streams();
        if new_stream && self.blocked_streams >= limit {
            return Err(QpackError::TooManyBlockedStreams { limit });
        }
        let cost = lines.len() + BLOCKED_SECTION_OVERHEAD;
        if self.blocked_bytes + cost > MAX_BLOCKED_BYTES {
            return Err(QpackError::BlockedBytesExceeded {
                limit: MAX_BLOCKED_BYTES,
            });
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(lines);
        self.blocked.push_back(BlockedSection {
            stream_id,
            required,
            base,
            lines: buf,
        });
        self.blocked_bytes += cost;
        if new_stream {
            self.blocked_streams += 1;
        }
        Ok(())
    }

    /// Remembers a section with dynamic references for the decoder stream's acknowledgment.
    fn note_outstanding(&mut self, stream_id: u64, required: u64) {
        if required == 0 {
            return;
        }
        if self.outstanding.len() >= MAX_OUTSTANDING {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back((stream_id, required));
    }

    fn set_capacity(&mut self, capacity: u64) -> Result<(), QpackError> {
        // §4.3.1: "The decoder MUST treat a new dynamic table capacity value that exceeds
        // this limit as a connection error of type QPACK_ENCODER_STREAM_ERROR."
        let limit = self.capacity_limit();
        if capacity > limit {
            return Err(QpackError::CapacityTooLarge {
                requested: capacity,
                limit,
            });
        }
        self.largest_capacity = self.largest_capacity.max(capacity);
        // capacity <= MAX_TABLE_CAPACITY_LIMIT, so it fits a usize.
        self.table.set_capacity(capacity as usize);
        self.stats.capacity_updates += 1;
        Ok(())
    }

    /// Parses and applies the encoder instruction at the start of `buf`; returns its length.
    /// Nothing changes until the instruction is complete.
    fn encoder_instruction(&mut self, buf: &[u8]) -> Result<usize, QpackError> {
        let b = *buf.first().ok_or(QpackError::Truncated)?;
        let mut pos = 0;
        let capacity = self.table.capacity();
        let too_large = |size: usize| QpackError::EntryTooLarge {
            size: size as u64,
            capacity: capacity as u64,
        };
        if b & 0xe0 == 0x20 {
            // §4.3.1 Set Dynamic Table Capacity: 001, capacity (5+).
            let capacity = read_int(buf, &mut pos, 5)?;
            self.set_capacity(capacity)?;
            return Ok(pos);
        }
        if b & 0xe0 == 0x00 {
            // §4.3.4 Duplicate: 000, relative index (5+).
            let index = read_int(buf, &mut pos, 5)?;
            let absolute = self.table.absolute_of_relative(index)?;
            let (joined, name_len) = self
                .table
                .get(absolute)
                .ok_or(QpackError::EvictedEntry { absolute })?;
            self.scratch.clear();
            self.scratch.extend_from_slice(joined);
            self.table.insert(&self.scratch, name_len)?;
            self.stats.inserts += 1;
            self.stats.duplicates += 1;
            return Ok(pos);
        }
        // Both inserts build the entry as name then value in `scratch`.
        let name_len;
        if b & 0x80 != 0 {
            // §4.3.2 Insert with Name Reference: 1, T, name index (6+), value.
            let index = read_int(buf, &mut pos, 6)?;
            let name = if b & 0x40 != 0 {
                static_table::get(index)
                    .ok_or(QpackError::InvalidStaticIndex(index))?
                    .0
            } else {
                let absolute = self.table.absolute_of_relative(index)?;
                let (joined, name_len) = self
                    .table
                    .get(absolute)
                    .ok_or(QpackError::EvictedEntry { absolute })?;
                joined.get(..name_len).unwrap_or_default()
            };
            // §3.2.2: the name is copied before the insertion may evict its entry.
            name_len = name.len();
            self.scratch.clear();
            self.scratch.extend_from_slice(name);
        } else {
            // §4.3.3 Insert with Literal Name: 01, H, name length (5+), name, value.
            let head = read_string_head(buf, &mut pos, 5)?;
            if min_decoded_len(head) + ENTRY_OVERHEAD > capacity {
                return Err(too_large(min_decoded_len(head) + ENTRY_OVERHEAD));
            }
            let name = read_string_body(buf, &mut pos, head, &mut self.scratch, 0)?;
            name_len = name.len();
            if let Str::Wire(s, e) = name {
                self.scratch.clear();
                self.scratch
                    .extend_from_slice(buf.get(s..e).unwrap_or_default());
            }
        }
        // The value: 8-bit prefix string literal, checked against the capacity before its
        // bytes are all there (so a partial instruction stays bounded).
        let head = read_string_head(buf, &mut pos, 7)?;
        let min_size = name_len + min_decoded_len(head) + ENTRY_OVERHEAD;
        if min_size > capacity {
            return Err(too_large(min_size));
        }
        let value = read_string_body(buf, &mut pos, head, &mut self.scratch, name_len)?;
        if let Str::Wire(s, e) = value {
            self.scratch.truncate(name_len);
            self.scratch
                .extend_from_slice(buf.get(s..e).unwrap_or_default());
        }
        let end = name_len + value.len();
        let joined = self.scratch.get(..end).ok_or(QpackError::Truncated)?;
        self.table.insert(joined, name_len)?;
        self.stats.inserts += 1;
        Ok(pos)
    }

    /// Parses and counts the decoder instruction at the start of `buf`; returns its length.
    fn decoder_instruction(&mut self, buf: &[u8]) -> Result<usize, QpackError> {
        let b = *buf.first().ok_or(QpackError::Truncated)?;
        let mut pos = 0;
        if b & 0x80 != 0 {
            // §4.4.1 Section Acknowledgment: 1, stream id (7+). §2.1.4: "If the Required
            // Insert Count of the acknowledged field section is greater than the current
            // Known Received Count, the Known Received Count is updated to that Required
            // Insert Count value."
            let stream_id = read_int(buf, &mut pos, 7)?;
            self.stats.section_acks += 1;
            match self.outstanding.iter().position(|&(s, _)| s == stream_id) {
                Some(i) => {
                    let (_, required) = self.outstanding.remove(i).unwrap_or_default();
                    let krc = &mut self.stats.known_received_count;
                    *krc = (*krc).max(required);
                }
                // "If an encoder receives a Section Acknowledgment instruction referring to
                // a stream on which every encoded field section with a non-zero Required
                // Insert Count has already been acknowledged, this MUST be treated as a
                // connection error".
                None => self.stats.decoder_stream_violations += 1,
            }
        } else if b & 0x40 != 0 {
            // §4.4.2 Stream Cancellation: 01, stream id (6+).
            let stream_id = read_int(buf, &mut pos, 6)?;
            self.stats.stream_cancellations += 1;
            self.outstanding.retain(|&(s, _)| s != stream_id);
        } else {
            // §4.4.3 Insert Count Increment: 00, increment (6+). "An encoder that receives
            // an Increment field equal to zero, or one that increases the Known Received
            // Count beyond what the encoder has sent, MUST treat this as a connection error".
            let increment = read_int(buf, &mut pos, 6)?;
            self.stats.insert_count_increments += 1;
            let krc = self.stats.known_received_count.saturating_add(increment);
            // In partial mode the Insert Count is not the encoder's any more.
            if increment == 0 || (krc > self.table.insert_count() && !self.partial) {
                self.stats.decoder_stream_violations += 1;
            }
            self.stats.known_received_count = krc;
        }
        Ok(pos)
    }
}

impl Lines<'_> {
    /// Decodes field lines (§4.5.2 to §4.5.6) into `out`; returns the largest absolute index
    /// referred to.
    fn decode(
        &self,
        lines: &[u8],
        scratch: &mut Vec<u8>,
        out: &mut HeaderList,
    ) -> Result<Option<u64>, QpackError> {
        let mut pos = 0;
        let mut largest = None;
        while let Some(&b) = lines.get(pos) {
            if b & 0x80 != 0 {
                // §4.5.2 Indexed Field Line: 1, T, index (6+).
                let index = read_int(lines, &mut pos, 6)?;
                let entry = if b & 0x40 != 0 {
                    Some(static_entry(index)?)
                } else {
                    self.dynamic(self.relative(index)?, &mut largest)?
                };
                self.push_entry(out, entry)?;
            } else if b & 0x40 != 0 {
                // §4.5.4 Literal Field Line with Name Reference: 01, N, T, index (4+), value.
                let index = read_int(lines, &mut pos, 4)?;
                let name = if b & 0x10 != 0 {
                    Some(static_entry(index)?)
                } else {
                    self.dynamic(self.relative(index)?, &mut largest)?
                };
                let value = read_string(lines, &mut pos, 7, scratch, 0)?;
                self.push_named(out, name, value, lines, scratch, b & 0x20 != 0)?;
            } else if b & 0x20 != 0 {
                // §4.5.6 Literal Field Line with Literal Name: 001, N, H, name length (3+),
                // name, value.
                let name = read_string(lines, &mut pos, 3, scratch, 0)?;
                let at = match name {
                    Str::Scratch(_, e) => e,
                    Str::Wire(..) => 0,
                };
                let value = read_string(lines, &mut pos, 7, scratch, at)?;
                let (name, value) = (name.get(lines, scratch), value.get(lines, scratch));
                push(out, self.max_list_size, name, value, b & 0x10 != 0)?;
            } else if b & 0x10 != 0 {
                // §4.5.3 Indexed Field Line with Post-Base Index: 0001, index (4+).
                let index = read_int(lines, &mut pos, 4)?;
                let entry = self.dynamic(self.post_base(index)?, &mut largest)?;
                self.push_entry(out, entry)?;
            } else {
                // §4.5.5 Literal Field Line with Post-Base Name Reference: 0000, N,
                // index (3+), value.
                let index = read_int(lines, &mut pos, 3)?;
                let name = self.dynamic(self.post_base(index)?, &mut largest)?;
                let value = read_string(lines, &mut pos, 7, scratch, 0)?;
                self.push_named(out, name, value, lines, scratch, b & 0x08 != 0)?;
            }
        }
        Ok(largest)
    }

    /// §3.2.5: "a relative index of 0 refers to the entry with absolute index equal to
    /// Base - 1". `None` in partial mode.
    fn relative(&self, index: u64) -> Result<Option<u64>, QpackError> {
        if self.partial {
            return Ok(None);
        }
        let absolute = self.base.checked_sub(index).and_then(|a| a.checked_sub(1));
        absolute.map(Some).ok_or(QpackError::InvalidRelativeIndex {
            base: self.base,
            index,
        })
    }

    /// §3.2.6: "Post-Base indices ... starting at 0 for the entry with absolute index equal
    /// to Base". `None` in partial mode.
    fn post_base(&self, index: u64) -> Result<Option<u64>, QpackError> {
        if self.partial {
            return Ok(None);
        }
        let absolute = self.base.checked_add(index);
        absolute.map(Some).ok_or(QpackError::IndexBeyondRequired {
            absolute: u64::MAX,
            required: self.required,
        })
    }

    /// The dynamic entry at `absolute` as `(name, value)`; `None` in partial mode. §2.2.3:
    /// a reference to an entry "that has already been evicted or that has an absolute index
    /// greater than or equal to the declared Required Insert Count" is an error.
    #[inline]
    fn dynamic(
        &self,
        absolute: Option<u64>,
        largest: &mut Option<u64>,
    ) -> Result<Option<Field<'_>>, QpackError> {
        let Some(absolute) = absolute else {
            return Ok(None);
        };
        if absolute >= self.required {
            return Err(QpackError::IndexBeyondRequired {
                absolute,
                required: self.required,
            });
        }
        let (joined, name_len) = self
            .table
            .get(absolute)
            .ok_or(QpackError::EvictedEntry { absolute })?;
        *largest = (*largest).max(Some(absolute));
        let (name, value) = joined.split_at(name_len.min(joined.len()));
        Ok(Some((name, value)))
    }

    /// An indexed field: the entry's name and value, or an unknown field.
    #[inline]
    fn push_entry(&self, out: &mut HeaderList, entry: Option<Field<'_>>) -> Result<(), QpackError> {
        match entry {
            Some((name, value)) => push(out, self.max_list_size, name, value, false),
            None => {
                out.push_unknown();
                Ok(())
            }
        }
    }

    /// A literal with a referenced name: the entry's name and the literal value, or an
    /// unknown field.
    #[inline]
    fn push_named(
        &self,
        out: &mut HeaderList,
        name: Option<Field<'_>>,
        value: Str,
        lines: &[u8],
        scratch: &[u8],
        never_indexed: bool,
    ) -> Result<(), QpackError> {
        match name {
            Some((name, _)) => push(
                out,
                self.max_list_size,
                name,
                value.get(lines, scratch),
                never_indexed,
            ),
            None => {
                out.push_unknown();
                Ok(())
            }
        }
    }
}

#[inline]
fn static_entry(index: u64) -> Result<(&'static [u8], &'static [u8]), QpackError> {
    static_table::get(index).ok_or(QpackError::InvalidStaticIndex(index))
}

/// Appends a field unless the list would pass its cap (RFC 9114 §4.2.2 counts a field as
/// its name, its value and 32 bytes, as RFC 7541 §4.1 does).
#[inline]
fn push(
    out: &mut HeaderList,
    max_list_size: usize,
    name: &[u8],
    value: &[u8],
    never_indexed: bool,
) -> Result<(), QpackError> {
    if out.list_size() + name.len() + value.len() + ENTRY_OVERHEAD > max_list_size {
        return Err(QpackError::HeaderListTooLarge {
            limit: max_list_size,
        });
    }
    out.push_field(name, value, never_indexed);
    Ok(())
}

/// Runs `step` over the instructions of a stream: the partial instruction buffered in
/// `pending` completed with `bytes`, then the whole instructions of `bytes`, then buffers
/// what remains. `step` parses (and applies) the instruction at the start of its input and
/// returns its length, or [`QpackError::Truncated`] when the input ends inside it. A partial
/// instruction longer than `cap` is an error.
fn run_instructions(
    pending: &mut Vec<u8>,
    bytes: &[u8],
    cap: usize,
    mut step: impl FnMut(&[u8]) -> Result<usize, QpackError>,
) -> Result<(), QpackError> {
    let mut input = bytes;
    if !pending.is_empty() {
        // Complete the buffered instruction, copying `input` in doubling pieces so a long
        // input holding many instructions is not copied whole.
        let old = pending.len();
        let mut taken = 0;
        loop {
            let piece = pending
                .len()
                .max(64)
                .min(input.len() - taken)
                .min(cap.saturating_sub(pending.len()));
            pending.extend_from_slice(&input[taken..taken + piece]);
            taken += piece;
            match step(pending) {
                Ok(n) => {
                    // The buffered bytes alone were incomplete: the instruction ends in
                    // `input`.
                    input = input.get(n.saturating_sub(old)..).unwrap_or_default();
                    pending.clear();
                    break;
                }
                Err(QpackError::Truncated) if pending.len() >= cap => {
                    return Err(QpackError::InstructionTooLarge { limit: cap })
                }
                Err(QpackError::Truncated) if taken < input.len() => {}
                Err(QpackError::Truncated) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
    while !input.is_empty() {
        match step(input) {
            Ok(n) => input = input.get(n..).unwrap_or_default(),
            Err(QpackError::Truncated) if input.len() < cap => {
                pending.extend_from_slice(input);
                return Ok(());
            }
            Err(QpackError::Truncated) => {
                return Err(QpackError::InstructionTooLarge { limit: cap })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
