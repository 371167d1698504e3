//! HTTP/2 (RFC 9113) on plaintext byte streams: h2 after TLS decryption, h2c with prior
//! knowledge, and h2c after an HTTP/1.1 `Upgrade` (RFC 7540 §3.2).
//!
//! **Consumes** the two reassembled directions of one connection through the stream contract
//! of [`crate::dissect::stream`] (`handle_data`, `handle_gap`, `handle_close`).
//!
//! **Produces** one [`Exchange`](crate::dissect::http::Exchange) per stream
//! (`version` "HTTP/2", `stream`, method, path, URL from `:scheme`/`:authority`/`:path`,
//! status, header lists with the pseudo-headers first as sent, body sizes without padding,
//! the response's content size with its Content-Encoding undone as DATA streams in (through
//! a [`crate::dissect::body::BodySink`]; a gap in the server's direction stops it),
//! RST_STREAM code, pushing stream), the DNS messages of DoH streams (RFC 8484) for the DNS
//! dissector, GOAWAY frames, and [`Http2Stats`].
//!
//! **Timestamps.** A frame's time is the capture time of the segment that completed it (as
//! tshark reports a frame at the packet that completes it). `request_ts`/`response_ts` are the
//! times of the first request HEADERS and of the first *final* response HEADERS (1xx
//! informational responses are skipped: the exchange describes the final response);
//! `request_end_ts`/`response_end_ts` are the frames carrying END_STREAM from the client and
//! the server; `ttfb_ms = response_ts - request_end_ts`, `download_ms = response_end_ts -
//! response_ts`. Trailers are appended to the header lists.
//!
//! **Guarantees.** No panic on any input. DATA payloads are parsed in place and never
//! buffered (only DoH bodies are copied, at most 64 KiB each); control and header frames
//! whose payload is complete in one call are parsed in place too. Every buffer has a cap:
//! header blocks ([`MAX_HEADER_BLOCK`], CONTINUATION included), decoded header lists (HPACK's
//! 256 KiB), headers kept per exchange ([`MAX_HEADER_BYTES`], values cut at
//! [`MAX_HEADER_VALUE`]), open streams ([`MAX_ACTIVE_STREAMS`]), bytes held by open streams
//! ([`MAX_ACTIVE_BYTES`]), content decoders' windows of the open streams
//! ([`crate::dissect::body::MAX_DECODER_MEMORY`]). Hitting one is a warning in the
//! `StreamCtx`.
//!
//! **Per direction**, a small state machine:
//!
//! ```text
//!             24 bytes
//!   Preface ───────────▶ Head ◀──────────▶ Payload
//!   (client)              │  ▲
//!      │ no preface       │  │ two chained plausible heads
//!      │                  ▼  │
//!      └───────────────▶ Hunt ── 4 MiB without a boundary ──▶ Dead
//!                 oversized frame, gap across frames
//! ```
//!
//! A frame longer than the receiver's SETTINGS_MAX_FRAME_SIZE (checked when the connection
//! was seen from its start) is malformed: the direction looks for a frame boundary again
//! (`Hunt`) rather than trusting the length. Each direction has its own HPACK decoder; a
//! capture that starts mid-connection (no preface, or a server whose first frame is not
//! SETTINGS), a gap, or an HPACK error desynchronises it: the decoder goes on in partial mode
//! (see [`hpack`]) so fields that refer only to the static table, literals or entries added
//! since still decode, the others are counted as unknown, a warning says so once, and
//! [`Http2Dissector::headers_unknown`] is set. Frame timings and stream records go on
//! regardless, since frames are length-delimited.

pub mod dissector;
pub mod frame;
pub mod hpack;

pub use crate::dissect::dns::doh::DohMessage;
pub use dissector::{
    GoAway, Http2Dissector, Http2Options, Http2Stats, MAX_ACTIVE_BYTES, MAX_ACTIVE_STREAMS,
    MAX_HEADER_BLOCK, MAX_HEADER_BYTES, MAX_HEADER_VALUE,
};

use crate::dissect::stream::Dir;
use frame::{FrameHead, FrameType, HEAD_LEN, MAX_MAX_FRAME_SIZE};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the first bytes of a direction look like HTTP/2 from the start of a connection:
/// the client preface toward the server (at least its first 4 bytes, `PRI `, which no
/// HTTP/1 method starts with), or a SETTINGS frame head from the server (RFC 9113 §3.4: the
/// server's first frame). `false` when too few bytes are there to tell.
pub fn looks_like_http2(dir: Dir, first_bytes: &[u8]) -> bool {
    match dir {
        Dir::ToServer => {
            let n = first_bytes.len().min(PREFACE.len());
            n >= 4 && first_bytes[..n] == PREFACE[..n]
        }
        Dir::ToClient => match FrameHead::peek(first_bytes) {
            Some(h) => {
                h.kind == FrameType::Settings
                    && first_bytes.len() >= HEAD_LEN
                    && h.plausible(MAX_MAX_FRAME_SIZE)
            }
            None => false,
        },
    }
}

/// Whether bytes that start somewhere inside an HTTP/2 connection (decryption that began
/// mid-connection) read as whole frames: a plausible frame head of a known type with a
/// length under the default SETTINGS_MAX_FRAME_SIZE, followed either by the end of the
/// bytes or by another plausible head. Two chained heads, or one frame that ends exactly
/// where the bytes (a TLS record) end, are rarely chance.
pub fn looks_like_http2_frames(bytes: &[u8]) -> bool {
    let Some(first) = FrameHead::peek(bytes) else {
        return false;
    };
    if !first.plausible(16_384) {
        return false;
    }
    let next = HEAD_LEN + first.length as usize;
    match bytes.len().cmp(&next) {
        std::cmp::Ordering::Equal => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => {
            FrameHead::peek(&bytes[next..]).is_some_and(|h| h.plausible(16_384))
        }
    }
}

#[cfg(test)]
mod tests;
