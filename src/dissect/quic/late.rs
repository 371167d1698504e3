//! QUIC packets kept while their keys are not in the key log yet: the same idea as TLS over
//! TCP ([`crate::dissect::tls::late`] says why), per packet.
//!
//! - Only while the key log is growing ([`crate::decrypt::KeyLog::growing`]): a live
//!   capture following a key log, or the `-w` file it wrote.
//! - Kept: once the ClientHello and the ServerHello were read (client random and suite
//!   known), the first Handshake or 1-RTT packet whose keys the key log cannot build yet,
//!   and from there every Handshake, 0-RTT and 1-RTT packet of the connection, in arrival
//!   order, with its capture time, frame number and sender. Initial packets never wait
//!   (their keys come from the wire) and everything counted at arrival (packet counts,
//!   connection IDs, the server's first Handshake time) is counted then.
//! - Replayed through the ordinary path (`open_long`, `open_short`) when the key log moved,
//!   at the connection's next packet or its end, up to the next packet whose keys are still
//!   missing: the TLS handshake inside (ALPN, certificates), HANDSHAKE_DONE and the stream
//!   events come out with their own times.
//! - Bounded: at most [`MAX_KEPT_PACKETS`] packets and [`MAX_KEPT_BYTES`] per connection.
//!   Past either, or at the end, everything kept goes through at once as it would have
//!   without keeping (packets without keys counted in `no_keys`), and the connection keeps
//!   nothing more.

use std::collections::VecDeque;

use super::conn::Side;
use super::packet::LongType;
use crate::time::Ts;

/// Most packets one connection keeps while waiting for keys.
pub const MAX_KEPT_PACKETS: usize = 64;
/// Most packet bytes one connection keeps while waiting for keys.
pub const MAX_KEPT_BYTES: usize = 256 << 10;

/// How a kept packet is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptKind {
    Long { kind: LongType, pn_offset: usize },
    Short,
}

/// One packet, owned, with what it arrived with.
#[derive(Debug)]
pub struct KeptPacket {
    pub ts: Ts,
    pub frame: u64,
    pub side: Side,
    pub kind: KeptKind,
    pub bytes: Vec<u8>,
}

/// The kept packets of one connection.
#[derive(Debug, Default)]
pub struct KeptPackets {
    queue: VecDeque<KeptPacket>,
    bytes: usize,
    /// The key log's generation when the first kept packet last found its keys missing.
    pub tried_at: u64,
    /// Nothing more is kept (a cap was hit, or the connection ended).
    pub closed: bool,
}

impl KeptPackets {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Keeps `k` at the end; gives it back when it would pass a cap.
    pub fn push(&mut self, k: KeptPacket) -> Result<(), KeptPacket> {
        let bytes = self.bytes.saturating_add(k.bytes.len());
        if self.queue.len() >= MAX_KEPT_PACKETS || bytes > MAX_KEPT_BYTES {
            return Err(k);
        }
        self.bytes = bytes;
        self.queue.push_back(k);
        Ok(())
    }

    /// The sender and kind of the first kept packet.
    pub fn front(&self) -> Option<(Side, KeptKind)> {
        self.queue.front().map(|k| (k.side, k.kind))
    }

    pub fn pop(&mut self) -> Option<KeptPacket> {
        let k = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(k.bytes.len());
        Some(k)
    }
}
