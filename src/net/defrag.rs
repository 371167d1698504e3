//! Bounded IP fragment reassembly (IPv4 and IPv6 Fragment headers).
//!
//! Fragments are keyed by (source, destination, protocol, identification), as RFC 791 and
//! RFC 8200 section 4.5 define a datagram. Memory is bounded by a cap on datagrams in
//! progress and on buffered bytes; a datagram not completed within [`TIMEOUT_NANOS`] of
//! capture time (RFC 8200's 60 s) is dropped. Overlapping fragments are an evasion technique
//! and are counted; where they overlap, the fragment with the lower offset wins.
//!
//! Expiry takes the oldest datagram from a queue ordered by its first fragment's time
//! ([`crate::expiry::LazyHeap`]): a fragment costs O(log n), never a scan of the table.
//! A fragment dropped at a cap is [`DefragResult::Capped`], for the caller to count and say
//! once.

use std::collections::HashMap;
use std::net::IpAddr;

use super::IpPacket;
use crate::expiry::LazyHeap;
use crate::net::flow::SeededHash;
use crate::time::Ts;
use crate::warning::Cap;

pub const TIMEOUT_NANOS: i64 = 60_000_000_000;
pub const MAX_DATAGRAMS: usize = 256;
pub const MAX_BUFFERED: usize = 8 << 20;
/// Largest reassembled datagram (IPv4 total length is 16 bits; jumbograms are not fragmented).
pub const MAX_DATAGRAM: u32 = 65_535;

type Key = (IpAddr, IpAddr, u8, u32);

#[derive(Debug)]
struct Partial {
    /// Numbers the datagrams in order of creation (a key may come again later).
    seq: u64,
    first_ts: Ts,
    pieces: Vec<(u32, Vec<u8>)>,
    total: Option<u32>,
    bytes: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DefragResult {
    /// Buffered; the datagram is not complete yet.
    Pending,
    /// The whole transport payload.
    Complete(Vec<u8>),
    /// Dropped, with the reason (a bad offset).
    Dropped(&'static str),
    /// Dropped at a cap ([`Cap::FragmentDatagrams`], [`Cap::FragmentBytes`]).
    Capped(Cap),
}

#[derive(Debug, Default)]
pub struct Defragmenter {
    table: HashMap<Key, Partial, SeededHash>,
    /// Datagrams by their first fragment's time, for expiry.
    by_age: LazyHeap<Ts, (u64, Key)>,
    next_seq: u64,
    buffered: usize,
    pub overlaps: u64,
    pub expired: u64,
}

impl Defragmenter {
    pub fn new() -> Defragmenter {
        Defragmenter::default()
    }

    pub fn in_progress(&self) -> usize {
        self.table.len()
    }

    /// Adds a fragment; `ip.frag` must be set.
    pub fn add(&mut self, ts: Ts, ip: &IpPacket<'_>) -> DefragResult {
        let Some(f) = ip.frag else {
            return DefragResult::Complete(ip.payload.to_vec());
        };
        let end = f.offset as u64 + ip.payload.len() as u64;
        if end > MAX_DATAGRAM as u64 {
            return DefragResult::Dropped("fragment ends beyond 65535 bytes");
        }
        let key = (ip.src, ip.dst, ip.proto, f.id);
        if !self.table.contains_key(&key) {
            self.expire(ts);
            if self.table.len() >= MAX_DATAGRAMS {
                return DefragResult::Capped(Cap::FragmentDatagrams);
            }
        }
        if self.buffered + ip.payload.len() > MAX_BUFFERED {
            return DefragResult::Capped(Cap::FragmentBytes);
        }
        let p = self.table.entry(key).or_insert_with(|| {
            self.next_seq += 1;
            self.by_age.push(ts, (self.next_seq, key));
            Partial {
                seq: self.next_seq,
                first_ts: ts,
                pieces: Vec::new(),
                total: None,
                bytes: 0,
            }
        });
        if !f.more {
            p.total = Some(end as u32);
        }
        p.pieces.push((f.offset, ip.payload.to_vec()));
        p.bytes += ip.payload.len();
        self.buffered += ip.payload.len();
        let Some(total) = p.total else {
            return DefragResult::Pending;
        };
        p.pieces.sort_by_key(|(o, _)| *o);
        let mut cursor = 0u32;
        let mut overlaps = 0;
        for (o, d) in &p.pieces {
            if *o > cursor {
                return DefragResult::Pending;
            }
            if *o < cursor {
                overlaps += 1;
            }
            cursor = cursor.max(o + d.len() as u32);
        }
        if cursor < total {
            return DefragResult::Pending;
        }
        let Some(p) = self.table.remove(&key) else {
            return DefragResult::Pending;
        };
        self.buffered -= p.bytes;
        self.overlaps += overlaps;
        let mut out = Vec::with_capacity(total as usize);
        for (o, d) in p.pieces {
            let have = out.len() as u32;
            if o + d.len() as u32 > have {
                let skip = (have - o) as usize;
                out.extend_from_slice(&d[skip..]);
            }
        }
        out.truncate(total as usize);
        DefragResult::Complete(out)
    }

    /// Drops datagrams older than the timeout, oldest first.
    pub fn expire(&mut self, now: Ts) {
        loop {
            let table = &self.table;
            let first_ts = |(seq, key): (u64, Key)| {
                let p = table.get(&key).filter(|p| p.seq == seq)?;
                Some(p.first_ts)
            };
            let Some((t, (_, key))) = self.by_age.peek(first_ts) else {
                break;
            };
            if now.nanos().saturating_sub(t.nanos()) < TIMEOUT_NANOS {
                break;
            }
            self.by_age.pop(first_ts);
            if let Some(p) = self.table.remove(&key) {
                self.buffered -= p.bytes;
                self.expired += 1;
            }
        }
        if self.by_age.wants_compact(self.table.len()) {
            let live = self.table.iter().map(|(k, p)| (p.first_ts, (p.seq, *k)));
            self.by_age.compact(live);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::FragInfo;

    fn frag<'a>(offset: u32, more: bool, payload: &'a [u8]) -> IpPacket<'a> {
        IpPacket {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 17,
            payload,
            incomplete: false,
            frag: Some(FragInfo {
                id: 9,
                offset,
                more,
            }),
        }
    }

    #[test]
    fn reassembles_out_of_order_fragments() {
        let mut d = Defragmenter::new();
        assert_eq!(
            d.add(Ts(0), &frag(8, false, b"world")),
            DefragResult::Pending
        );
        assert_eq!(
            d.add(Ts(1), &frag(0, true, b"hello, w")),
            DefragResult::Complete(b"hello, wworld".to_vec())
        );
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.buffered, 0);
    }

    #[test]
    fn overlap_keeps_lower_offset_and_is_counted() {
        let mut d = Defragmenter::new();
        d.add(Ts(0), &frag(0, true, b"abcdefgh"));
        let r = d.add(Ts(0), &frag(4, false, b"XXXXij"));
        assert_eq!(r, DefragResult::Complete(b"abcdefghij".to_vec()));
        assert_eq!(d.overlaps, 1);
    }

    #[test]
    fn old_fragments_expire_and_caps_hold() {
        let mut d = Defragmenter::new();
        d.add(Ts(0), &frag(0, true, b"abcdefgh"));
        d.expire(Ts(TIMEOUT_NANOS + 1));
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.expired, 1);
        assert_eq!(
            d.add(Ts(0), &frag(65_530, false, b"0123456789")),
            DefragResult::Dropped("fragment ends beyond 65535 bytes")
        );
        let mut capped = 0;
        for id in 0..(MAX_DATAGRAMS as u32 + 10) {
            let mut p = frag(0, true, b"x");
            p.frag = Some(FragInfo {
                id,
                offset: 0,
                more: true,
            });
            if d.add(Ts(1), &p) == DefragResult::Capped(Cap::FragmentDatagrams) {
                capped += 1;
            }
        }
        assert_eq!(d.in_progress(), MAX_DATAGRAMS);
        assert_eq!(capped, 10);
        d.expire(Ts(TIMEOUT_NANOS));
        assert_eq!(d.in_progress(), MAX_DATAGRAMS);
        d.expire(Ts(TIMEOUT_NANOS + 1));
        assert_eq!(
            (d.in_progress(), d.buffered, d.expired),
            (0, 0, 1 + MAX_DATAGRAMS as u64)
        );
    }
}
