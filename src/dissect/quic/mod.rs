//! QUIC (RFC 9000, RFC 9369 version 2) as a passive observer sees it: without keys, the
//! Initial packets anyone on the path can open; with a TLS key log, everything.
//!
//! **Consumes** UDP datagrams with their capture time, frame number and addresses
//! ([`QuicTable::handle_datagram`]), and the key log. A datagram starts a connection when it
//! is a long header with the fixed bit and a known version (v1 `0x00000001`, v2
//! `0x6b3343cf`), on any port: detection is by content, 443 is only a hint for who the client
//! is when its first Initial was not captured. Later datagrams of the same 5-tuple belong to
//! it, whatever their header, and so do datagrams from a new address whose Destination
//! Connection ID the connection issued (migration, NAT rebinding: [`table`]).
//!
//! **Produces**, per connection, [`QuicFacts`] (packets, datagrams and bytes each way,
//! packet counts by type, versions, connection IDs, handshake times, CONNECTION_CLOSE
//! frames, packets decrypted, address changes, the TLS handshake as
//! [`crate::dissect::tls::TlsFacts`]) with the caller's state, and hands the events of every
//! application stream to the caller's [`QuicHandler`] (the pipeline runs HTTP/3 or DNS over
//! QUIC on them).
//!
//! **How**: [`packet`] walks coalesced packets (RFC 9000 12.2) as borrowed views;
//! [`crypto`] derives Initial keys from the client's first Destination Connection ID
//! (RFC 9001 5.2, RFC 9369 3.3); [`keys`] builds Handshake, 0-RTT and 1-RTT keys from the
//! key log (1-RTT following key updates); the generic packet protection is
//! [`crate::decrypt::quic`]; [`frame`] parses every RFC 9000 frame type (and RFC 9221
//! DATAGRAM, and the extension frames real stacks send) as borrowed views; [`streams`]
//! reassembles CRYPTO and STREAM data by offset into in-order pieces with explicit gaps;
//! CRYPTO goes to the same TLS handshake parser as TCP's ([`conn`]).
//!
//! **Guarantees**: no panic on any input (lengths are checked with `get`, varints bounded);
//! every buffer has a cap: the stream reassembly's limits ([`streams::StreamLimits`]),
//! [`table::MAX_QUIC_CONNS`] connections (the least recently active is reported early), idle
//! connections finish after [`conn::IDLE_NANOS`] of capture time. A packet that does not
//! authenticate is a `decrypt` warning and its bytes are never parsed. Sans-IO: time is
//! the capture's; the header and plaintext buffers are reused across packets.

pub mod conn;
pub mod crypto;
pub mod frame;
pub mod keys;
pub mod late;
pub mod packet;
pub mod streams;
pub mod table;

#[cfg(test)]
mod tests;

pub use conn::{QuicFacts, QuicHandler, QuicMeta};
pub use packet::{looks_like_quic, parse_packet, QuicError, QuicPacket};
pub use table::QuicTable;
