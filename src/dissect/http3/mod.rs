//! HTTP/3 (RFC 9114) on decrypted QUIC streams.
//!
//! [`qpack`] decodes the field sections of one direction of a connection from its encoder
//! stream and the header blocks of its request and push streams (RFC 9204).

pub mod qpack;
