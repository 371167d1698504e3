//! HPACK indexing tables (RFC 7541 §2.3, Appendix A).
//!
//! The static table is a constant. The dynamic table keeps its entries' bytes in one buffer:
//! a new entry's name and value are appended at the end, evicting an entry only moves the
//! start of the live bytes, and the dead prefix is dropped once it is as large as the live
//! part (so each byte is moved at most once on average). Lookups return contiguous slices and
//! inserting allocates nothing once the buffer has grown to its working size.

use std::collections::VecDeque;

/// RFC 7541 §4.1: "The size of an entry is the sum of its name's length in octets, its
/// value's length in octets, and 32."
pub const ENTRY_OVERHEAD: usize = 32;

/// Number of entries in the static table; dynamic indices start after it.
pub const STATIC_LEN: usize = 61;

/// RFC 7541 Appendix A, indices 1..=61.
pub static STATIC: [(&[u8], &[u8]); STATIC_LEN] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// The static table with each name and value joined, and the name's length: one copy per
/// indexed field.
pub static STATIC_JOINED: [(&[u8], usize); STATIC_LEN] = [
    (b":authority", 10),
    (b":methodGET", 7),
    (b":methodPOST", 7),
    (b":path/", 5),
    (b":path/index.html", 5),
    (b":schemehttp", 7),
    (b":schemehttps", 7),
    (b":status200", 7),
    (b":status204", 7),
    (b":status206", 7),
    (b":status304", 7),
    (b":status400", 7),
    (b":status404", 7),
    (b":status500", 7),
    (b"accept-charset", 14),
    (b"accept-encodinggzip, deflate", 15),
    (b"accept-language", 15),
    (b"accept-ranges", 13),
    (b"accept", 6),
    (b"access-control-allow-origin", 27),
    (b"age", 3),
    (b"allow", 5),
    (b"authorization", 13),
    (b"cache-control", 13),
    (b"content-disposition", 19),
    (b"content-encoding", 16),
    (b"content-language", 16),
    (b"content-length", 14),
    (b"content-location", 16),
    (b"content-range", 13),
    (b"content-type", 12),
    (b"cookie", 6),
    (b"date", 4),
    (b"etag", 4),
    (b"expect", 6),
    (b"expires", 7),
    (b"from", 4),
    (b"host", 4),
    (b"if-match", 8),
    (b"if-modified-since", 17),
    (b"if-none-match", 13),
    (b"if-range", 8),
    (b"if-unmodified-since", 19),
    (b"last-modified", 13),
    (b"link", 4),
    (b"location", 8),
    (b"max-forwards", 12),
    (b"proxy-authenticate", 18),
    (b"proxy-authorization", 19),
    (b"range", 5),
    (b"referer", 7),
    (b"refresh", 7),
    (b"retry-after", 11),
    (b"server", 6),
    (b"set-cookie", 10),
    (b"strict-transport-security", 25),
    (b"transfer-encoding", 17),
    (b"user-agent", 10),
    (b"vary", 4),
    (b"via", 3),
    (b"www-authenticate", 16),
];

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Position of the name's first byte, counted from the start of the table's life.
    pos: u64,
    name_len: u32,
    value_len: u32,
}

/// The dynamic table (RFC 7541 §2.3.2): FIFO, newest entry at the lowest index.
#[derive(Debug, Clone)]
pub struct DynamicTable {
    /// Bytes of entries; `bytes[0]` is at position `base`.
    bytes: Vec<u8>,
    base: u64,
    /// Oldest at the front, newest at the back.
    entries: VecDeque<Entry>,
    /// Sum of entry sizes (RFC 7541 §4.1).
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    pub fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            bytes: Vec::new(),
            base: 0,
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Entry `i` counted from the newest (0), as `(name, value)`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let n = self.entries.len();
        let e = self.entries.get(n.checked_sub(i + 1)?)?;
        let start = usize::try_from(e.pos.checked_sub(self.base)?).ok()?;
        let mid = start.checked_add(e.name_len as usize)?;
        let end = mid.checked_add(e.value_len as usize)?;
        Some((self.bytes.get(start..mid)?, self.bytes.get(mid..end)?))
    }

    /// Entry `i` counted from the newest (0), as the name and value joined, and the name's
    /// length.
    #[inline]
    pub fn get_joined(&self, i: usize) -> Option<(&[u8], usize)> {
        let n = self.entries.len();
        let e = self.entries.get(n.checked_sub(i + 1)?)?;
        let start = usize::try_from(e.pos.checked_sub(self.base)?).ok()?;
        let end = start.checked_add(e.name_len as usize + e.value_len as usize)?;
        Some((self.bytes.get(start..end)?, e.name_len as usize))
    }

    /// RFC 7541 §4.3: a new maximum size evicts entries until the table fits.
    pub fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Forgets every entry (the maximum size stays).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes.clear();
        self.base = 0;
        self.size = 0;
    }

    /// RFC 7541 §4.4: evicts until the new entry fits, then adds it; an entry larger than
    /// the maximum size empties the table and is not added.
    pub fn insert(&mut self, name: &[u8], value: &[u8]) {
        if self.make_room(name.len() + value.len()) {
            let pos = self.base + self.bytes.len() as u64;
            self.bytes.extend_from_slice(name);
            self.bytes.extend_from_slice(value);
            self.push_entry(pos, name.len(), value.len());
        }
    }

    /// [`DynamicTable::insert`] for a name and value already joined (one copy).
    pub fn insert_joined(&mut self, joined: &[u8], name_len: usize) {
        let name_len = name_len.min(joined.len());
        if self.make_room(joined.len()) {
            let pos = self.base + self.bytes.len() as u64;
            self.bytes.extend_from_slice(joined);
            self.push_entry(pos, name_len, joined.len() - name_len);
        }
    }

    /// Evicts for an entry of `len` bytes plus overhead; `false` when it cannot fit at all
    /// (the table is then empty).
    #[inline]
    fn make_room(&mut self, len: usize) -> bool {
        let need = len + ENTRY_OVERHEAD;
        if need > self.max_size {
            self.clear();
            return false;
        }
        self.evict_to(self.max_size - need);
        self.compact();
        true
    }

    #[inline]
    fn push_entry(&mut self, pos: u64, name_len: usize, value_len: usize) {
        // Both lengths are below max_size, which the decoder bounds far under u32::MAX.
        self.entries.push_back(Entry {
            pos,
            name_len: name_len as u32,
            value_len: value_len as u32,
        });
        self.size += name_len + value_len + ENTRY_OVERHEAD;
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_front() {
                Some(e) => {
                    self.size -= e.name_len as usize + e.value_len as usize + ENTRY_OVERHEAD;
                }
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
        if self.entries.is_empty() {
            self.bytes.clear();
            self.base = 0;
        }
    }

    /// Drops the dead prefix of `bytes` once it is at least as long as the live part.
    fn compact(&mut self) {
        let live_start = match self.entries.front() {
            Some(e) => e.pos,
            None => self.base + self.bytes.len() as u64,
        };
        let dead = (live_start - self.base) as usize;
        if dead > 0 && dead >= self.bytes.len() - dead {
            self.bytes.drain(..dead);
            self.base = live_start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_table_ends() {
        assert_eq!(STATIC[0], (&b":authority"[..], &b""[..]));
        assert_eq!(STATIC[60], (&b"www-authenticate"[..], &b""[..]));
        assert_eq!(STATIC[7], (&b":status"[..], &b"200"[..]));
    }

    #[test]
    fn joined_static_table_matches() {
        for (i, (n, v)) in STATIC.iter().enumerate() {
            let (j, l) = STATIC_JOINED[i];
            assert_eq!(&j[..l], *n);
            assert_eq!(&j[l..], *v);
        }
    }

    #[test]
    fn joined_insert_and_get() {
        let mut t = DynamicTable::new(4096);
        t.insert_joined(b"namevalue", 4);
        assert_eq!(t.get(0), Some((&b"name"[..], &b"value"[..])));
        assert_eq!(t.get_joined(0), Some((&b"namevalue"[..], 4)));
        assert_eq!(t.size(), 41);
    }

    #[test]
    fn insert_evicts_oldest_and_accounts_size() {
        let mut t = DynamicTable::new(100);
        t.insert(b"a", b"1"); // 34
        t.insert(b"b", b"22"); // 35
        assert_eq!(t.size(), 69);
        assert_eq!(t.get(0), Some((&b"b"[..], &b"22"[..])));
        assert_eq!(t.get(1), Some((&b"a"[..], &b"1"[..])));
        t.insert(b"c", b"333"); // 36: evicts "a"
        assert_eq!(t.len(), 2);
        assert_eq!(t.size(), 71);
        assert_eq!(t.get(1), Some((&b"b"[..], &b"22"[..])));
        assert_eq!(t.get(2), None);
    }

    #[test]
    fn oversized_entry_empties_table() {
        let mut t = DynamicTable::new(64);
        t.insert(b"a", b"b");
        t.insert(&[b'x'; 40], b"");
        assert_eq!(t.len(), 0);
        assert_eq!(t.size(), 0);
    }

    #[test]
    fn shrinking_max_size_evicts() {
        let mut t = DynamicTable::new(4096);
        for i in 0..10u8 {
            t.insert(&[b'n', i], &[b'v'; 10]);
        }
        assert_eq!(t.size(), 440);
        t.set_max_size(100);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(0), Some((&[b'n', 9][..], &[b'v'; 10][..])));
        t.set_max_size(0);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn many_inserts_keep_buffer_bounded() {
        let mut t = DynamicTable::new(4096);
        for i in 0..100_000u32 {
            let v = i.to_string();
            t.insert(b"k", v.as_bytes());
            assert_eq!(t.get(0).unwrap().1, v.as_bytes());
        }
        assert!(t.bytes.len() <= 2 * 4096);
        assert_eq!(t.size(), t.len() * (32 + 1 + 5));
    }
}
