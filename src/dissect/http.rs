//! What the HTTP dissectors (HTTP/1.x, HTTP/2, HTTP/3) hand out: one [`Exchange`] per
//! request, in one model for every version, with typed values; the report's strings
//! (`"HTTP/1.1"`, `"CANCEL"`, times in milliseconds) are made in `pageload`.

use crate::dissect::stream::Late;
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

/// Why a decoded size covers only part of a body's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeStop {
    /// Decoding reached the cap on what a body may decode to (a decompression bomb, or
    /// degenerate content): the size is the cap.
    Cap,
    /// The coded bytes did not decode (bad header, bad data, a check value that did not
    /// match): the size is what decoded before.
    Corrupt,
    /// The body ended before its coded stream did: loss, a reset, the capture's end, or a
    /// sender that stopped short.
    Truncated,
}

/// A response body with its content codings undone (RFC 9110 8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoded {
    /// Not known: no response, a coding not decoded here, a range (206), or a body not
    /// decoded for the connection's decoder memory cap.
    #[default]
    Unknown,
    /// No content coding (or `identity`): the content is the body as transferred.
    Identity,
    /// Decoded to `bytes`; `stop` says why that is only part of the content.
    Bytes {
        bytes: u64,
        stop: Option<DecodeStop>,
    },
}

/// One request and its response, as far as the capture showed them.
///
/// Times: `request_ts` is the capture time of the request's first byte (its HEADERS frame
/// or request line), `request_end_ts` of its last byte, `response_ts` / `response_end_ts`
/// the same for the response. Sizes count bodies as transferred (de-chunked, before any
/// content coding is undone); `decoded` is the response's content, codings undone.
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
    /// Where Wireshark shows the request and the final response: the frames that completed
    /// them (HTTP/1.x, bodies included), or of their HEADERS frames (HTTP/2, HTTP/3).
    pub request_frame: Option<u64>,
    pub response_frame: Option<u64>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub request_body_bytes: u64,
    pub body_bytes: u64,
    pub content_encoding: Option<String>,
    pub transfer_encoding: Option<String>,
    pub content_type: Option<String>,
    /// Hex SHA-256 of the response body as transferred, with `--body-hash`.
    pub body_sha256: Option<String>,
    /// The response body with its content codings undone.
    pub decoded: Decoded,
    /// The protocol this exchange switched the connection to.
    pub upgrade: Option<SwitchProtocol>,
    /// Header values cut at the cap.
    pub headers_truncated: bool,
    /// Both messages whole: not cut by a gap, a reset or the end of the capture.
    pub complete: bool,
    pub reset: Option<StreamReset>,
    /// Server push: the stream that promised this one.
    pub pushed_by: Option<u64>,
    /// Frames of resent segments (or hole fillers) that carried bytes of this exchange
    /// ([`crate::dissect::stream::StreamCtx::late`]), at most [`MAX_RESENT`]: on a connection
    /// many exchanges share, the loss is this one's, the others only waited.
    pub resent_in: Vec<Late>,
    /// When the response's first bytes began to arrive: `response_ts`, or earlier, the first
    /// byte of the TLS record that carried them ([`crate::dissect::stream::StreamCtx::first_byte`]).
    pub response_wire_ts: Option<Ts>,
}

/// Resends an exchange remembers carrying its bytes ([`Exchange::resent_in`]).
pub const MAX_RESENT: usize = 8;

impl Exchange {
    /// Notes that bytes of this exchange arrived late in `frame` (see [`Exchange::resent_in`]).
    pub fn note_resent(&mut self, late: Late) {
        if let Some(last) = self.resent_in.last_mut() {
            if late.first <= last.last.saturating_add(1)
                && late.last.saturating_add(1) >= last.first
            {
                *last = Late::join(Some(*last), Some(late)).unwrap_or(late);
                return;
            }
        }
        if self.resent_in.len() < MAX_RESENT {
            self.resent_in.push(late);
        } else if let Some(last) = self.resent_in.last_mut() {
            // Past the cap the last range widens: a stream that carried many resends is
            // still said to have carried them.
            *last = Late::join(Some(*last), Some(late)).unwrap_or(late);
        }
    }

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

/// One alternative of an `Alt-Svc` field value (RFC 7838 3): `h3=":443"; ma=86400`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltService {
    /// The ALPN protocol id (`h3`, `h2`, `h3-29`), percent-decoding not needed for these.
    pub protocol: String,
    /// The alternative host; `None` for the same host (`":443"`).
    pub host: Option<String>,
    pub port: u16,
    /// `ma`: seconds the alternative may be used (RFC 7838 3.1).
    pub max_age: Option<u64>,
    /// The alternative as written.
    pub text: String,
}

impl AltService {
    /// An HTTP/3 alternative: `h3`, or a draft's `h3-NN`.
    pub fn is_h3(&self) -> bool {
        self.protocol == "h3" || self.protocol.starts_with("h3-")
    }
}

/// The alternatives of an `Alt-Svc` field value; `clear` and malformed entries give none.
pub fn parse_alt_svc(value: &str) -> Vec<AltService> {
    let mut out = Vec::new();
    for alt in value.split(',') {
        let mut parts = alt.split(';');
        let Some((protocol, authority)) = parts.next().and_then(|p| p.trim().split_once('='))
        else {
            continue;
        };
        let authority = authority.trim().trim_matches('"');
        let Some((host, port)) = authority.rsplit_once(':') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let max_age = parts
            .filter_map(|p| p.trim().strip_prefix("ma="))
            .find_map(|v| v.trim().parse().ok());
        out.push(AltService {
            protocol: protocol.trim().to_string(),
            host: (!host.is_empty()).then(|| host.to_string()),
            port,
            max_age,
            text: alt.trim().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_svc_alternatives() {
        let v =
            parse_alt_svc(r#"h3=":443"; ma=86400, h3-29="alt.test:8443", h2=":443"; persist=1"#);
        assert_eq!(v.len(), 3);
        assert_eq!(
            (v[0].protocol.as_str(), v[0].port, v[0].max_age),
            ("h3", 443, Some(86400))
        );
        assert!(v[0].is_h3() && v[1].is_h3() && !v[2].is_h3());
        assert_eq!(v[1].host.as_deref(), Some("alt.test"));
        assert_eq!(v[0].text, r#"h3=":443"; ma=86400"#);
        assert!(parse_alt_svc("clear").is_empty());
        assert!(parse_alt_svc("h3=nonsense, =, h3=\":x\"").is_empty());
    }
}
