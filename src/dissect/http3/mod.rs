//! HTTP/3 (RFC 9114) on reassembled QUIC streams.
//!
//! **Consumes** the in-order bytes of one QUIC stream at a time, in pieces of any size, as
//! [`crate::dissect::quic::streams`] delivers them (with explicit gaps for bytes never
//! captured): request streams (client-initiated bidirectional) start with frames,
//! unidirectional streams with a stream type (control, push, QPACK encoder and decoder).
//!
//! **Produces** typed events per stream from [`frame::FrameReader`]: the stream type,
//! frame heads, DATA payload pieces as they arrive (never buffered), whole HEADERS,
//! PUSH_PROMISE, SETTINGS, GOAWAY, CANCEL_PUSH, MAX_PUSH_ID and PRIORITY_UPDATE frames
//! (buffered up to a cap), and the raw bytes of QPACK streams for the QPACK decoder.
//!
//! **Guarantees**: no panic on any input; every buffer is capped and hitting a cap is an
//! event and a counter, never the end of the stream; a gap inside a payload of known
//! length is skipped, and only a gap inside a frame head (where the next boundary cannot
//! be known) ends parsing of that one stream.

//! [`qpack`] decodes the field sections of one direction of a connection from its encoder
//! stream and the header blocks of its request and push streams (RFC 9204).

pub mod conn;
pub mod frame;
pub mod qpack;

pub use conn::Http3Dissector;
