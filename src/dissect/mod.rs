//! Dissectors: incremental, bounded parsers for what a connection carries (DNS, TLS and its
//! decryption, HTTP/1.x, HTTP/2, QUIC, HTTP/3 with QPACK).
//!
//! Each takes bytes in the [`stream`] contract (a reassembled TCP direction or decrypted
//! plaintext, with gaps) or datagrams (QUIC), keeps bounded state, never panics, and hands
//! out typed results of its own; problems are warnings in the connection's [`StreamCtx`].
//! Which dissector runs on which bytes is decided by the pipeline
//! ([`crate::pipeline`]), by content; the port is only a hint.
//!
//! [`StreamCtx`]: stream::StreamCtx

pub mod body;
pub mod dns;
pub mod http;
pub mod http1;
pub mod http2;
pub mod http3;
pub mod quic;
pub mod stream;
pub mod tls;
