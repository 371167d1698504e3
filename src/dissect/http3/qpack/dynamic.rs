//! The QPACK dynamic table (RFC 9204 §3.2): HPACK's joined storage and size-based eviction
//! (the same 32-byte entry overhead, §3.2.1), addressed by absolute index.
//!
//! §3.2.4: "The first entry inserted has an absolute index of 0; indices increase by one
//! with each insertion." The table counts insertions; the entry with absolute index `a` is
//! the `(inserted - 1 - a)`-th newest, when it has not been evicted.

use super::QpackError;
use crate::dissect::http2::hpack::table::{DynamicTable, ENTRY_OVERHEAD};

#[derive(Debug, Clone)]
pub(crate) struct Table {
    entries: DynamicTable,
    /// The Insert Count: entries ever inserted, evicted ones included.
    inserted: u64,
}

impl Table {
    /// §3.2.2: "The initial capacity of the dynamic table is zero."
    pub(crate) fn new() -> Table {
        Table {
            entries: DynamicTable::new(0),
            inserted: 0,
        }
    }

    pub(crate) fn insert_count(&self) -> u64 {
        self.inserted
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn size(&self) -> usize {
        self.entries.size()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.entries.max_size()
    }

    /// Entry `absolute` as its name and value joined, and the name's length.
    #[inline]
    pub(crate) fn get(&self, absolute: u64) -> Option<(&[u8], usize)> {
        let newest_first = self.inserted.checked_sub(absolute.checked_add(1)?)?;
        self.entries.get_joined(usize::try_from(newest_first).ok()?)
    }

    /// §3.2.5: in encoder instructions "a relative index of 0 refers to the entry most
    /// recently inserted".
    pub(crate) fn absolute_of_relative(&self, relative: u64) -> Result<u64, QpackError> {
        relative
            .checked_add(1)
            .and_then(|r| self.inserted.checked_sub(r))
            .ok_or(QpackError::InvalidRelativeIndex {
                base: self.inserted,
                index: relative,
            })
    }

    /// §3.2.2: reducing the capacity evicts entries until the table fits.
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.entries.set_max_size(capacity);
    }

    /// Evicts until the entry fits, then adds it (§3.2.2). "It is an error if the encoder
    /// attempts to add an entry that is larger than the dynamic table capacity."
    pub(crate) fn insert(&mut self, joined: &[u8], name_len: usize) -> Result<(), QpackError> {
        let size = joined.len() + ENTRY_OVERHEAD;
        if size > self.capacity() {
            return Err(QpackError::EntryTooLarge {
                size: size as u64,
                capacity: self.capacity() as u64,
            });
        }
        self.entries.insert_joined(joined, name_len);
        self.inserted += 1;
        Ok(())
    }

    /// Forgets every entry (partial mode); the capacity and the Insert Count stay.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}
