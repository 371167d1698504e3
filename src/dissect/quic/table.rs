//! QUIC connections: a bounded, sans-IO table driven by capture time, keyed by UDP 5-tuple
//! and by the connection IDs each side issued, so a connection whose client moved (a new
//! address after NAT rebinding or migration, RFC 9000 9) stays one connection.
//!
//! Eviction (the table full) and idle expiry take the least recently active connection
//! from an ordered queue ([`crate::expiry::LazyHeap`]), and a connection leaving the table
//! drops only its own aliases: no operation scans the table.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::conn::{QuicClientBy, QuicConn, QuicFacts, QuicHandler, QuicMeta, Side, IDLE_NANOS};
use super::packet::looks_like_quic;
use crate::decrypt::KeyLog;
use crate::expiry::LazyHeap;
use crate::net::flow::SeededHash;
use crate::time::Ts;
use crate::warning::CapCount;

/// Most QUIC connections tracked at once; the least recently active one is reported early
/// when a new one would exceed it (counted in [`QuicTable::evicted`]).
pub const MAX_QUIC_CONNS: usize = 4096;
/// Most connection IDs indexed (all connections together).
const MAX_INDEXED_CIDS: usize = 65_536;

/// A connection's key: its first (client, server) 5-tuple.
type Key = (SocketAddr, SocketAddr);

/// How recently a connection was active: its last packet's time (which never goes back),
/// then its id.
type Activity = (Ts, u64);

/// QUIC connections, with the caller's state `A` for each.
pub struct QuicTable<A> {
    /// Boxed: a connection's state is kilobytes, and the map moves its entries when it
    /// grows, inserts and removes (a flood of Initials spent 12% of its time copying them).
    conns: HashMap<Key, Box<QuicConn<A>>, SeededHash>,
    /// Other 5-tuples of known connections (after an address change), with the side that
    /// sends from the first address to the second.
    aliases: HashMap<Key, (Key, Side), SeededHash>,
    /// Each connection's aliases, to drop them with it.
    aliases_of: HashMap<Key, Vec<Key>, SeededHash>,
    /// Every connection by last activity, with its id and key.
    active: LazyHeap<Activity, (u64, Key)>,
    /// Connection IDs to their connection and the side that issued them.
    cids: HashMap<Vec<u8>, (Key, Side), SeededHash>,
    /// The lengths of the indexed connection IDs (a short header does not carry its own).
    cid_lens: Vec<usize>,
    next_id: u64,
    /// Most connections at once ([`MAX_QUIC_CONNS`]).
    cap: usize,
    done: Vec<(QuicFacts, A)>,
    /// Connections reported early because the table was full.
    pub evicted: CapCount,
}

impl<A> Default for QuicTable<A> {
    fn default() -> QuicTable<A> {
        QuicTable {
            conns: HashMap::default(),
            aliases: HashMap::default(),
            aliases_of: HashMap::default(),
            active: LazyHeap::new(),
            cids: HashMap::default(),
            cid_lens: Vec::new(),
            next_id: 0,
            cap: MAX_QUIC_CONNS,
            done: Vec::new(),
            evicted: CapCount::default(),
        }
    }
}

impl<A> QuicTable<A> {
    pub fn new() -> QuicTable<A> {
        QuicTable::default()
    }

    pub fn live(&self) -> usize {
        self.conns.len()
    }

    /// A UDP datagram. Returns whether it was QUIC (of a known connection, or a long header
    /// of a known version that starts one).
    pub fn handle_datagram<H: QuicHandler<A>>(
        &mut self,
        (ts, frame): (Ts, u64),
        (src, dst): (SocketAddr, SocketAddr),
        payload: &[u8],
        log: &KeyLog,
        h: &mut H,
    ) -> bool {
        // The common case first: a datagram of a known 5-tuple, one hash per direction.
        for (key, side) in [((src, dst), Side::Client), ((dst, src), Side::Server)] {
            if let Some(c) = self.conns.get_mut(&key) {
                c.handle_datagram((ts, frame, side), payload, log, h);
                let new = std::mem::take(&mut c.new_cids);
                self.index_cids(new, key);
                return true;
            }
        }
        let Some((key, side)) = self.route((ts, frame), (src, dst), payload, (log, h)) else {
            return false;
        };
        if let Some(c) = self.conns.get_mut(&key) {
            c.handle_datagram((ts, frame, side), payload, log, h);
            let new = std::mem::take(&mut c.new_cids);
            self.index_cids(new, key);
        }
        true
    }

    fn index_cids(&mut self, new: Vec<(Side, Vec<u8>)>, key: Key) {
        for (issuer, cid) in new {
            self.index_cid(cid, key, issuer);
        }
    }

    /// The connection of a datagram not of a known 5-tuple, and who sent it (an alias
    /// after an address change, a connection ID); a new connection for a long header of a
    /// known version.
    fn route<H: QuicHandler<A>>(
        &mut self,
        (ts, frame): (Ts, u64),
        (src, dst): (SocketAddr, SocketAddr),
        payload: &[u8],
        (log, h): (&KeyLog, &mut H),
    ) -> Option<(Key, Side)> {
        if let Some(&(key, side)) = self.aliases.get(&(src, dst)) {
            return Some((key, side));
        }
        if let Some(&(key, side)) = self.aliases.get(&(dst, src)) {
            return Some((key, other(side)));
        }
        if let Some(found) = self.by_cid(ts, (src, dst), payload) {
            return Some(found);
        }
        if !looks_like_quic(payload) {
            return None;
        }
        // The client is the sender of the first long header, unless the ports say the
        // sender is a server on 443 (the client's first Initial was not captured).
        let (key, side, by) = if src.port() == 443 && dst.port() != 443 {
            ((dst, src), Side::Server, QuicClientBy::Port)
        } else {
            ((src, dst), Side::Client, QuicClientBy::Initial)
        };
        if self.conns.len() >= self.cap {
            self.evict_one(frame, log, h);
        }
        self.next_id += 1;
        let meta = QuicMeta {
            id: self.next_id,
            client: key.0,
            server: key.1,
        };
        let app = h.open(&meta);
        self.conns
            .insert(key, Box::new(QuicConn::new(meta, by, (ts, frame), app)));
        self.active.push((ts, meta.id), (meta.id, key));
        if self.active.wants_compact(self.conns.len()) {
            let live = self
                .conns
                .iter()
                .map(|(k, c)| ((c.last_ts(), c.id()), (c.id(), *k)));
            self.active.compact(live);
        }
        Some((key, side))
    }

    /// A datagram from an unknown 5-tuple whose Destination Connection ID is one a known
    /// connection's side issued: the other side has a new address.
    fn by_cid(&mut self, ts: Ts, (src, dst): Key, payload: &[u8]) -> Option<(Key, Side)> {
        let first = *payload.first()?;
        let dcid: Vec<&[u8]> = if first & 0x80 == 0 {
            self.cid_lens
                .iter()
                .filter_map(|&l| payload.get(1..1 + l))
                .collect()
        } else {
            let len = usize::from(*payload.get(5)?);
            vec![payload.get(6..6 + len)?]
        };
        let (key, issuer) = dcid.iter().find_map(|d| self.cids.get(*d).copied())?;
        let sender = other(issuer);
        let c = self.conns.get_mut(&key)?;
        c.moved(ts, sender, src);
        // Datagrams from `src` to `dst` are the sender's from now on (and the way back the
        // other side's).
        if self.aliases.len() < MAX_INDEXED_CIDS {
            self.aliases.insert((src, dst), (key, sender));
            self.aliases_of.entry(key).or_default().push((src, dst));
        }
        Some((key, sender))
    }

    fn index_cid(&mut self, cid: Vec<u8>, key: Key, issuer: Side) {
        if cid.is_empty() || self.cids.len() >= MAX_INDEXED_CIDS {
            return;
        }
        if !self.cid_lens.contains(&cid.len()) {
            self.cid_lens.push(cid.len());
        }
        self.cids.insert(cid, (key, issuer));
    }

    fn remove(&mut self, key: &Key) -> Option<Box<QuicConn<A>>> {
        let c = self.conns.remove(key)?;
        for list in &c.cids {
            for cid in list {
                if self.cids.get(cid).is_some_and(|(k, _)| k == key) {
                    self.cids.remove(cid);
                }
            }
        }
        for alias in self.aliases_of.remove(key).unwrap_or_default() {
            // An alias taken over by another connection since is that one's.
            if self.aliases.get(&alias).is_some_and(|(k, _)| k == key) {
                self.aliases.remove(&alias);
            }
        }
        Some(c)
    }

    /// The least recently active connection, if `due` says so of its last packet's time,
    /// out of the queue.
    fn pop_oldest(&mut self, due: impl Fn(Ts) -> bool) -> Option<Key> {
        let conns = &self.conns;
        let current = |(id, key): (u64, Key)| {
            let c = conns.get(&key).filter(|c| c.id() == id)?;
            Some((c.last_ts(), id))
        };
        let ((last, _), (_, key)) = self.active.peek(current)?;
        if !due(last) {
            return None;
        }
        self.active.pop(current);
        Some(key)
    }

    /// The table is full: the least recently active connection (the oldest last packet,
    /// the lower id on a tie) is reported early.
    fn evict_one<H: QuicHandler<A>>(&mut self, frame: u64, log: &KeyLog, h: &mut H) {
        if let Some(k) = self.pop_oldest(|_| true) {
            if let Some(c) = self.remove(&k) {
                self.evicted.hit(Some(frame));
                self.done.push(c.finish(log, h));
            }
        }
    }

    /// Finishes connections idle for [`IDLE_NANOS`] at capture time `now`.
    pub fn expire<H: QuicHandler<A>>(&mut self, now: Ts, log: &KeyLog, h: &mut H) {
        while let Some(k) = self.pop_oldest(|last| last.saturating_add_nanos(IDLE_NANOS) < now) {
            if let Some(c) = self.remove(&k) {
                self.done.push(c.finish(log, h));
            }
        }
    }

    pub fn finish_all<H: QuicHandler<A>>(&mut self, log: &KeyLog, h: &mut H) {
        let keys: Vec<Key> = self.conns.keys().copied().collect();
        for k in keys {
            if let Some(c) = self.remove(&k) {
                self.done.push(c.finish(log, h));
            }
        }
        self.active.clear();
    }

    /// Connections finished since the last call, in order of first packet, with the
    /// caller's state for each.
    pub fn take_finished(&mut self) -> Vec<(QuicFacts, A)> {
        let mut v = std::mem::take(&mut self.done);
        crate::order::sort_large_by_key(&mut v, |(f, _)| f.id);
        v
    }
}

fn other(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::quic::streams::StreamEvent;
    use crate::dissect::stream::StreamCtx;

    struct Quiet;

    impl QuicHandler<()> for Quiet {
        fn open(&mut self, _: &QuicMeta) {}
        fn stream(&mut self, _: &mut (), _: Option<&str>, _: &StreamEvent<'_>, _: &mut StreamCtx) {}
        fn closed(&mut self, _: &mut (), _: Ts, _: &mut StreamCtx) {}
    }

    /// A QUIC v1 Initial's long header from `port` (its own DCID, no SCID), then bytes that
    /// do not decrypt.
    fn initial(port: u16) -> Vec<u8> {
        let mut d = vec![0xc0, 0, 0, 0, 1, 8, 0xaa, 0xbb, 0, 0, 0, 0];
        d.extend_from_slice(&port.to_be_bytes());
        d.extend_from_slice(&[0, 0, 0x40, 0x20]);
        d.extend_from_slice(&[0x5a; 40]);
        d
    }

    /// The table full and idle expiry, against a scan: the connection with the oldest last
    /// packet (the lower id on a tie) is reported early, and every connection idle for
    /// [`IDLE_NANOS`] is finished.
    #[test]
    fn eviction_and_expiry_match_a_scan() {
        let mut t: QuicTable<()> = QuicTable {
            cap: 6,
            ..QuicTable::default()
        };
        let log = KeyLog::new();
        let server: SocketAddr = "10.0.0.2:443".parse().unwrap();
        // Live connections by client port: (last time, id).
        let mut live: HashMap<u16, (i64, u64)> = HashMap::new();
        let mut next_id = 0;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut now = 0i64;
        for frame in 1..3_000u64 {
            now += rnd(3) as i64 * 1_000_000_000;
            let port = 1000 + rnd(15) as u16;
            let client = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
            let mut want: Vec<u16> = Vec::new();
            match live.get_mut(&port) {
                Some(k) => k.0 = k.0.max(now),
                None => {
                    if live.len() == 6 {
                        let (&p, _) = live.iter().min_by_key(|(_, k)| **k).unwrap();
                        live.remove(&p);
                        want.push(p);
                    }
                    next_id += 1;
                    live.insert(port, (now, next_id));
                }
            }
            let d = initial(port);
            assert!(t.handle_datagram((Ts(now), frame), (client, server), &d, &log, &mut Quiet));
            if rnd(40) == 0 {
                let at = now + rnd(40) as i64 * 1_000_000_000;
                live.retain(|p, (last, _)| {
                    let idle = last.saturating_add(IDLE_NANOS) < at;
                    if idle {
                        want.push(*p);
                    }
                    !idle
                });
                t.expire(Ts(at), &log, &mut Quiet);
            }
            let mut got: Vec<u16> = t
                .take_finished()
                .iter()
                .map(|(f, _)| f.client.port())
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "frame {frame}");
            assert_eq!(t.live(), live.len());
        }
        assert!(t.evicted.count > 100, "{:?} evicted", t.evicted);
    }
}
