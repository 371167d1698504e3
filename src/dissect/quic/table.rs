//! QUIC connections: a bounded, sans-IO table driven by capture time, keyed by UDP 5-tuple
//! and by the connection IDs each side issued, so a connection whose client moved (a new
//! address after NAT rebinding or migration, RFC 9000 9) stays one connection.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::conn::{QuicClientBy, QuicConn, QuicFacts, QuicHandler, QuicMeta, Side, IDLE_NANOS};
use super::packet::looks_like_quic;
use crate::decrypt::KeyLog;
use crate::net::flow::FxBuild;
use crate::time::Ts;

/// Most QUIC connections tracked at once; the least recently active one is reported early
/// when a new one would exceed it (counted in [`QuicTable::evicted`]).
pub const MAX_QUIC_CONNS: usize = 4096;
/// Most connection IDs indexed (all connections together).
const MAX_INDEXED_CIDS: usize = 65_536;

/// A connection's key: its first (client, server) 5-tuple.
type Key = (SocketAddr, SocketAddr);

/// QUIC connections, with the caller's state `A` for each.
pub struct QuicTable<A> {
    conns: HashMap<Key, QuicConn<A>, FxBuild>,
    /// Other 5-tuples of known connections (after an address change), with the side that
    /// sends from the first address to the second.
    aliases: HashMap<Key, (Key, Side), FxBuild>,
    /// Connection IDs to their connection and the side that issued them.
    cids: HashMap<Vec<u8>, (Key, Side)>,
    /// The lengths of the indexed connection IDs (a short header does not carry its own).
    cid_lens: Vec<usize>,
    next_id: u64,
    done: Vec<(QuicFacts, A)>,
    /// Connections reported early because the table was full.
    pub evicted: u64,
}

impl<A> Default for QuicTable<A> {
    fn default() -> QuicTable<A> {
        QuicTable {
            conns: HashMap::default(),
            aliases: HashMap::default(),
            cids: HashMap::new(),
            cid_lens: Vec::new(),
            next_id: 0,
            done: Vec::new(),
            evicted: 0,
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
        let Some((key, side)) = self.route((ts, frame), (src, dst), payload, h) else {
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
        h: &mut H,
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
        if self.conns.len() >= MAX_QUIC_CONNS {
            self.evict_one(h);
        }
        self.next_id += 1;
        let meta = QuicMeta {
            id: self.next_id,
            client: key.0,
            server: key.1,
        };
        let app = h.open(&meta);
        self.conns
            .insert(key, QuicConn::new(meta, by, (ts, frame), app));
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

    fn remove(&mut self, key: &Key) -> Option<QuicConn<A>> {
        let c = self.conns.remove(key)?;
        for list in &c.cids {
            for cid in list {
                if self.cids.get(cid).is_some_and(|(k, _)| k == key) {
                    self.cids.remove(cid);
                }
            }
        }
        self.aliases.retain(|_, (k, _)| k != key);
        Some(c)
    }

    fn evict_one<H: QuicHandler<A>>(&mut self, h: &mut H) {
        let oldest = self
            .conns
            .iter()
            .min_by_key(|(_, c)| (c.last_ts(), c.id()))
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            if let Some(c) = self.remove(&k) {
                self.evicted += 1;
                self.done.push(c.finish(h));
            }
        }
    }

    /// Finishes connections idle for [`IDLE_NANOS`] at capture time `now`.
    pub fn expire<H: QuicHandler<A>>(&mut self, now: Ts, h: &mut H) {
        let idle: Vec<Key> = self
            .conns
            .iter()
            .filter(|(_, c)| c.last_ts().saturating_add_nanos(IDLE_NANOS) < now)
            .map(|(k, _)| *k)
            .collect();
        for k in idle {
            if let Some(c) = self.remove(&k) {
                self.done.push(c.finish(h));
            }
        }
    }

    pub fn finish_all<H: QuicHandler<A>>(&mut self, h: &mut H) {
        let keys: Vec<Key> = self.conns.keys().copied().collect();
        for k in keys {
            if let Some(c) = self.remove(&k) {
                self.done.push(c.finish(h));
            }
        }
    }

    /// Connections finished since the last call, in order of first packet, with the
    /// caller's state for each.
    pub fn take_finished(&mut self) -> Vec<(QuicFacts, A)> {
        let mut v = std::mem::take(&mut self.done);
        v.sort_by_key(|(f, _)| f.id);
        v
    }
}

fn other(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}
