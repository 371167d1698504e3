//! What the HTTP dissectors (HTTP/1.x, HTTP/2, HTTP/3) hand out: one [`Exchange`] per
//! request, in one model for every version, with typed values; the report's strings
//! (`"HTTP/1.1"`, `"CANCEL"`, times in milliseconds) are made in `pageload`.

use crate::time::{ms_between, Ts};

/// The HTTP version spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum HttpVersion {
    Http10,
    #[default]
    Http11,
    Http2,
    Http3,
}

impl HttpVersion {
    /// HTTP/1.x from its minor version (httparse gives 0 or 1).
    pub fn http1(minor: u8) -> HttpVersion {
        if minor == 0 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        }
    }
}

/// The protocol a connection switched to (HTTP/1.1 `101` or a CONNECT tunnel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchProtocol {
    /// HTTP/2 over cleartext (RFC 7540 section 3.2): hand both directions to HTTP/2.
    H2c,
    /// RFC 6455: count the frames.
    WebSocket,
    /// A CONNECT request answered 2xx: the bytes are whatever was tunnelled (often TLS).
    Tunnel,
    /// Any other Upgrade token (lowercased), empty when the 101 named none.
    Other(String),
}

impl SwitchProtocol {
    pub fn as_str(&self) -> &str {
        match self {
            SwitchProtocol::H2c => "h2c",
            SwitchProtocol::WebSocket => "websocket",
            SwitchProtocol::Tunnel => "tunnel",
            SwitchProtocol::Other(s) => s,
        }
    }

    pub fn from_token(token: Option<&str>) -> SwitchProtocol {
        match token {
            Some("h2c") => SwitchProtocol::H2c,
            Some("websocket") => SwitchProtocol::WebSocket,
            Some(other) => SwitchProtocol::Other(other.to_string()),
            None => SwitchProtocol::Other(String::new()),
        }
    }
}

/// Why a stream was reset, with the code of the protocol that reset it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamReset {
    /// HTTP/2 RST_STREAM (RFC 9113 section 7).
    Http2(u32),
    /// QUIC RESET_STREAM with an HTTP/3 error code (RFC 9114 section 8.1).
    Http3(u64),
}

/// One request and its response, as far as the capture showed them.
///
/// Times: `request_ts` is the capture time of the request's first byte (its HEADERS frame
/// or request line), `request_end_ts` of its last byte, `response_ts` / `response_end_ts`
/// the same for the response. Sizes count bodies as transferred (de-chunked, before any
/// content coding is undone).
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// For HTTP/1.x, the higher of the request's and the response's versions: what was
    /// spoken on the wire by the side that could.
    pub version: HttpVersion,
    /// HTTP/2 or QUIC stream id; `None` for HTTP/1.x.
    pub stream: Option<u64>,
    /// The versions on the request line and the status line (HTTP/1.x).
    pub request_version: Option<HttpVersion>,
    pub response_version: Option<HttpVersion>,
    /// Interim (1xx) statuses seen before the final response, e.g. `[100]`.
    pub informational: Vec<u16>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub request_ts: Option<Ts>,
    pub request_end_ts: Option<Ts>,
    pub response_ts: Option<Ts>,
    pub response_end_ts: Option<Ts>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub request_body_bytes: u64,
    pub body_bytes: u64,
    pub content_encoding: Option<String>,
    pub transfer_encoding: Option<String>,
    pub content_type: Option<String>,
    /// Hex SHA-256 of the response body as transferred, with `--body-hash`.
    pub body_sha256: Option<String>,
    /// The protocol this exchange switched the connection to.
    pub upgrade: Option<SwitchProtocol>,
    /// Header values cut at the cap.
    pub headers_truncated: bool,
    /// Both messages whole: not cut by a gap, a reset or the end of the capture.
    pub complete: bool,
    pub reset: Option<StreamReset>,
    /// Server push: the stream that promised this one.
    pub pushed_by: Option<u64>,
}

impl Exchange {
    /// Time to first byte: `response_ts - request_end_ts` (negative when a server answers
    /// before the request is complete).
    pub fn ttfb_ms(&self) -> Option<f64> {
        ms_between(self.request_end_ts, self.response_ts)
    }

    /// `response_end_ts - response_ts`.
    pub fn download_ms(&self) -> Option<f64> {
        ms_between(self.response_ts, self.response_end_ts)
    }
}
