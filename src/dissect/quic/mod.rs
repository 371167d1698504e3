//! QUIC (RFC 9000, RFC 9369 version 2) as a passive observer sees it without keys.
//!
//! **Consumes** UDP datagrams with their capture time, frame number and addresses
//! ([`QuicTable::handle_datagram`]). A datagram starts a connection when it is a long header
//! with the fixed bit and a known version (v1 `0x00000001`, v2 `0x6b3343cf`), on any port:
//! detection is by content, 443 is only a hint for who the client is when its first
//! Initial was not captured. Later datagrams of the same 5-tuple belong to it, whatever
//! their header.
//!
//! **Produces** one [`QuicConnection`](crate::pageload::model::QuicConnection) per
//! connection: packets, datagrams and bytes each way, packet counts by type, versions,
//! connection IDs, the time from the client's first Initial to the server's first Initial
//! and first Handshake packet, CONNECTION_CLOSE frames read from Initials, and the TLS
//! ClientHello and ServerHello carried in the Initial CRYPTO frames (SNI, offered ALPN,
//! cipher, version, key share group, JA3 and JA4 with its `q` prefix).
//!
//! **How**: [`packet`] walks coalesced packets (RFC 9000 12.2) as borrowed views;
//! [`crypto`] derives Initial keys from the client's first Destination Connection ID
//! (RFC 9001 5.2, RFC 9369 3.3) and opens Initials with the generic packet protection of
//! [`crate::decrypt::quic`]; [`frame`] parses every RFC 9000 frame type (and RFC 9221
//! DATAGRAM) as borrowed views, checks which frames a packet type may carry, and
//! reassembles CRYPTO data by offset; [`streams`] reassembles STREAM data per stream into
//! in-order pieces with explicit gaps. The connection table does not open Handshake, 0-RTT
//! and 1-RTT packets yet: it counts them. Their keys come from a TLS key log
//! ([`crate::decrypt::quic::QuicKeys`], [`crate::decrypt::quic::OneRttKeys`] for 1-RTT key
//! updates), and their STREAM frames feed [`streams::QuicStreams`] and then
//! [`crate::dissect::http3`].
//!
//! **Guarantees**: no panic on any input (lengths are checked with `get`, varints bounded);
//! every buffer has a cap: [`frame::CRYPTO_CAP`] CRYPTO bytes per direction (freed once
//! that side's hello is read),
//! [`conn::MAX_QUIC_CONNS`] connections (the least recently active is reported early), idle
//! connections finish after [`conn::IDLE_NANOS`] of capture time. A packet that does not
//! authenticate is a `decrypt` warning and its bytes are never parsed. Sans-IO: time is
//! the capture's; the header and plaintext buffers are reused across packets.

pub mod conn;
pub mod crypto;
pub mod frame;
pub mod keys;
pub mod packet;
pub mod streams;
pub mod table;

#[cfg(test)]
mod tests;

pub use conn::{QuicFacts, QuicHandler, QuicMeta};
pub use packet::{looks_like_quic, parse_packet, QuicError, QuicPacket};
pub use table::QuicTable;
