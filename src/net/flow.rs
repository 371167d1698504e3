//! Flows: the two directions of a conversation between two endpoints, and its key.
//!
//! Shared by the stateful stages above the views (TCP reassembly, the dissectors, QUIC):
//! a direction is named from the client's point of view, the client being whoever opened
//! the conversation (the SYN's sender for TCP, the first Initial's for QUIC).

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

/// The hasher of every table keyed by what the wire (or a capture file) says: flows, DNS
/// queries, connection IDs. foldhash, as fast as the FxHash it replaced, and seeded at
/// random per process and per table: with an unkeyed hash, a capture's keys can be chosen
/// to collide (an IPv6 address is two hashed words, the second can cancel the first), and
/// each table becomes a list (40,000 such SYNs took 15 s, 400 times their time as distinct
/// keys; `gen_hostile hash-collisions`).
pub type SeededHash = foldhash::fast::RandomState;

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
}
