//! Ordered expiry for the bounded tables (TCP flows, QUIC connections, IP fragments, DNS
//! queries): which entry is the oldest, in amortised O(log n) per packet whatever the number
//! of entries, instead of a scan of the table.
//!
//! [`LazyHeap`] is a min-heap of `(key, handle)` entries that the table does not keep in
//! step with its items: an item touched again keeps its old entry, and an item that left
//! the table leaves its entry behind. The table answers, for a handle, the item's key now
//! (or that it is gone), and the heap fixes its top lazily:
//!
//! - an entry whose handle is gone is dropped;
//! - an entry older than its item's key now is queued again at that key;
//! - an entry equal to it is the oldest item of the table.
//!
//! That is right as long as every item has an entry no newer than its key, which holds if
//! the table pushes an entry when an item enters and whenever its key goes *down* (a capture
//! whose timestamps step back); a key that grows needs nothing. Each re-queue pays for one
//! touch, so the cost is amortised over the packets; [`LazyHeap::compact`] rebuilds the heap
//! from the live items when dead entries outnumber them.
//!
//! Keys carry their own tie-breaks (a frame number, an id), so the order is total and the
//! output reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-heap with lazy invalidation (see the module doc).
#[derive(Debug)]
pub struct LazyHeap<K: Ord, H: Ord> {
    heap: BinaryHeap<Reverse<(K, H)>>,
}

impl<K: Ord, H: Ord> Default for LazyHeap<K, H> {
    fn default() -> Self {
        LazyHeap {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord + Copy, H: Ord + Copy> LazyHeap<K, H> {
    pub fn new() -> Self {
        LazyHeap::default()
    }

    /// Entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// An item entered, or its key went down.
    pub fn push(&mut self, key: K, handle: H) {
        self.heap.push(Reverse((key, handle)));
    }

    /// The oldest live item and its key, left in the heap. `current` gives an item's key now,
    /// `None` when the handle no longer names one (it left the table, or no longer waits).
    pub fn peek(&mut self, current: impl Fn(H) -> Option<K>) -> Option<(K, H)> {
        loop {
            let Reverse((key, h)) = *self.heap.peek()?;
            match current(h) {
                Some(now) if now == key => return Some((key, h)),
                Some(now) => {
                    // Touched since (`now` is later): queue it again where it stands now.
                    self.heap.pop();
                    self.heap.push(Reverse((now, h)));
                }
                None => {
                    self.heap.pop();
                }
            }
        }
    }

    /// [`LazyHeap::peek`], taken out of the heap.
    pub fn pop(&mut self, current: impl Fn(H) -> Option<K>) -> Option<(K, H)> {
        let top = self.peek(current)?;
        self.heap.pop();
        Some(top)
    }

    /// Whether dead entries are enough to pay for a rebuild: more than the `live` items
    /// again, plus some slack.
    pub fn wants_compact(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + 1024
    }

    /// Rebuilds the heap from the live items' keys now (O(n)).
    pub fn compact(&mut self, live: impl Iterator<Item = (K, H)>) {
        let v: Vec<Reverse<(K, H)>> = live.map(Reverse).collect();
        self.heap = BinaryHeap::from(v);
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Random touches (timestamps that also step back) and removals: the heap's oldest is
    /// always the scan's.
    #[test]
    fn oldest_matches_a_scan() {
        let mut items: BTreeMap<u32, (i64, u64)> = BTreeMap::new();
        let mut heap: LazyHeap<(i64, u64), u32> = LazyHeap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for tick in 0..20_000u64 {
            let h = rnd(300) as u32;
            match rnd(10) {
                0 => {
                    items.remove(&h);
                }
                1 => {
                    let oldest = items.iter().map(|(h, k)| (*k, *h)).min();
                    let got = heap.pop(|h| items.get(&h).copied());
                    assert_eq!(got, oldest);
                    if let Some((_, h)) = got {
                        items.remove(&h);
                    }
                }
                _ => {
                    let ts = tick as i64 - rnd(50) as i64;
                    let key = (ts, tick);
                    match items.insert(h, key) {
                        Some(old) if old <= key => {}
                        _ => heap.push(key, h),
                    }
                }
            }
            if heap.wants_compact(items.len()) {
                heap.compact(items.iter().map(|(h, k)| (*k, *h)));
            }
        }
    }
}
