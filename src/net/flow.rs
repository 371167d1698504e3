//! Flows: the two directions of a conversation between two endpoints, and its key.
//!
//! Shared by the stateful stages above the views (TCP reassembly, the dissectors, QUIC):
//! a direction is named from the client's point of view, the client being whoever opened
//! the conversation (the SYN's sender for TCP, the first Initial's for QUIC).

use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};

/// Direction of a byte stream or a packet within a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server (`>` in teardown sequences).
    ToServer,
    /// Server to client (`<`).
    ToClient,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }

    pub fn from_index(i: usize) -> Dir {
        if i == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        }
    }

    pub fn reverse(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }

    /// `client` or `server`: who sent bytes travelling this way (for warnings in words).
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ToServer => "client",
            Dir::ToClient => "server",
        }
    }
}

/// The canonical key of a conversation: both endpoints, the lower first, so both
/// directions find the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey((IpAddr, u16), (IpAddr, u16));

impl FlowKey {
    pub fn new(a: SocketAddr, b: SocketAddr) -> FlowKey {
        let (a, b) = ((a.ip(), a.port()), (b.ip(), b.port()));
        if a <= b {
            FlowKey(a, b)
        } else {
            FlowKey(b, a)
        }
    }

    /// 0 when `src` is the key's first (lower) endpoint, else 1: a direction that does not
    /// depend on who is the client.
    pub fn side_of(&self, src: SocketAddr) -> usize {
        usize::from(self.0 != (src.ip(), src.port()))
    }
}

/// A small, fast hasher for flow keys (FxHash's multiply-rotate): keys are not chosen by
/// an attacker who can see the hash, and SipHash would cost a tenth of the pipeline.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    /// Eight bytes at a time, little-endian, the last word zero-padded; fixed-size copies
    /// (a copy of a chunk's variable length had been a `memcpy` call per word: 3% of a run
    /// of DNS queries).
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let w = rest
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i));
            self.add(w);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64)
    }
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i)
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64)
    }
    /// Rotated, as rustc-hash 2 does: a multiply carries entropy only upward, and the table
    /// takes its bucket from the low bits (without it, 200,000 DNS queries of which only
    /// the name and port differ probed long chains: key comparisons were 6% of the run).
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "[fd99::2]:443".parse().unwrap();
        assert_eq!(FlowKey::new(a, b), FlowKey::new(b, a));
        assert_ne!(
            FlowKey::new(a, b),
            FlowKey::new(a, "10.0.0.1:40001".parse().unwrap())
        );
        assert_eq!(Dir::ToServer.reverse(), Dir::ToClient);
        assert_eq!(Dir::from_index(Dir::ToClient.index()), Dir::ToClient);
    }

    /// `write` hashes any length as eight-byte little-endian words, the last zero-padded.
    #[test]
    fn fx_write_is_zero_padded_words() {
        let bytes: Vec<u8> = (1..=23).collect();
        for n in 0..=bytes.len() {
            let mut h = FxHasher::default();
            h.write(&bytes[..n]);
            let mut want = FxHasher::default();
            for chunk in bytes[..n].chunks(8) {
                let mut b = [0u8; 8];
                b[..chunk.len()].copy_from_slice(chunk);
                want.add(u64::from_le_bytes(b));
            }
            assert_eq!(h.finish(), want.finish(), "{n} bytes");
        }
    }
}
