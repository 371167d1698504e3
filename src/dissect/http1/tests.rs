//! Byte-array tests of the HTTP/1 dissector: well-formed, malformed_*, truncated, split at
//! every offset, random bytes.

use super::*;
use crate::dissect::http::{DecodeStop, Decoded};
use crate::dissect::stream::{Dir, StreamCtx};
use crate::time::Ts;

use Dir::{ToClient as S, ToServer as C};

fn t(ms: i64) -> Ts {
    Ts::from_nanos(1_000_000_000_000 + ms * 1_000_000)
}

struct Run {
    d: Http1Dissector,
    ctx: StreamCtx,
}

impl Run {
    fn new() -> Run {
        Run::with(Http1Options::default())
    }

    fn with(opts: Http1Options) -> Run {
        Run {
            d: Http1Dissector::new(opts),
            ctx: StreamCtx::new(),
        }
    }

    fn send(&mut self, dir: Dir, ms: i64, bytes: &[u8]) -> usize {
        self.d.handle_data(dir, t(ms), bytes, &mut self.ctx)
    }

    /// Feeds everything, asserting all of it is consumed.
    fn feed(&mut self, dir: Dir, ms: i64, bytes: &[u8]) {
        assert_eq!(self.send(dir, ms, bytes), bytes.len());
    }

    fn gap(&mut self, dir: Dir, ms: i64, len: u64) {
        self.d.handle_gap(dir, len, t(ms), &mut self.ctx);
    }

    fn close(&mut self, ms: i64) {
        self.d.handle_close(t(ms), &mut self.ctx);
    }

    fn ex(&self, i: usize) -> &Exchange {
        &self.d.exchanges()[i]
    }

    fn kinds(&self) -> Vec<&str> {
        self.ctx.warnings.iter().map(|w| w.kind.as_str()).collect()
    }

    /// Everything observable, for comparing runs.
    fn snapshot(&self) -> String {
        let warnings: Vec<_> = self
            .ctx
            .warnings
            .iter()
            .map(|w| (&w.kind, &w.message))
            .collect();
        let doh: Vec<_> = self
            .d
            .doh_out
            .iter()
            .map(|m| (m.dir.index(), m.ts, m.bytes.clone(), m.exchange as usize))
            .collect();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}",
            self.d.exchanges(),
            warnings,
            doh,
            self.d
                .switched()
                .map(|s| (s.protocol.clone(), s.exchange_index)),
        )
    }
}

const SHA256_HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn keep_alive_two_transactions() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n",
    );
    r.feed(
        S,
        10,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhel",
    );
    r.feed(S, 12, b"lo");
    r.feed(C, 20, b"GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n");
    r.feed(
        S,
        25,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n\r\nabc",
    );
    assert_eq!(r.d.exchanges().len(), 2);
    let a = r.ex(0);
    assert_eq!(a.version, HttpVersion::Http11);
    assert_eq!(a.stream, None);
    assert_eq!(a.method.as_deref(), Some("GET"));
    assert_eq!(a.path.as_deref(), Some("/a?x=1"));
    assert_eq!(a.url.as_deref(), Some("http://example.com/a?x=1"));
    assert_eq!(a.status, Some(200));
    assert_eq!(a.reason.as_deref(), Some("OK"));
    assert_eq!((a.request_ts, a.request_end_ts), (Some(t(0)), Some(t(0))));
    assert_eq!(
        (a.response_ts, a.response_end_ts),
        (Some(t(10)), Some(t(12)))
    );
    assert_eq!(a.ttfb_ms(), Some(10.0));
    assert_eq!(a.download_ms(), Some(2.0));
    assert_eq!(a.body_bytes, 5);
    assert_eq!(a.request_body_bytes, 0);
    assert_eq!(a.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        a.request_headers,
        vec![
            ("Host".into(), "example.com".into()),
            ("User-Agent".into(), "t".into())
        ]
    );
    assert_eq!(a.response_headers.len(), 2);
    assert_eq!(a.body_sha256, None);
    assert!(a.complete);
    assert!(!a.headers_truncated);
    let b = r.ex(1);
    assert_eq!(
        (b.path.as_deref(), b.status, b.body_bytes),
        (Some("/b"), Some(404), 3)
    );
    assert_eq!(b.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(b.ttfb_ms(), Some(5.0));
    assert!(b.complete);
    assert_eq!(a.decoded, Decoded::Identity);
    // "abc" is no gzip member: said once, and the exchange stands.
    assert_eq!(
        b.decoded,
        Decoded::Bytes {
            bytes: 0,
            stop: Some(DecodeStop::Corrupt)
        }
    );
    let kinds: Vec<_> = r.ctx.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WarningKind::Malformed], "{:?}", r.ctx.warnings);
    assert_eq!(r.d.stats().requests, 2);
    assert_eq!(r.d.stats().responses, 2);
}

#[test]
fn pipelining_three_requests_in_one_segment() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(
        C,
        0,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        5,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| {
                (
                    e.method.clone().unwrap(),
                    e.path.clone().unwrap(),
                    e.status.unwrap(),
                    e.body_bytes,
                )
            })
            .collect();
    assert_eq!(
        got,
        vec![
            ("GET".into(), "/1".into(), 200, 5),
            ("HEAD".into(), "/2".into(), 200, 0),
            ("GET".into(), "/3".into(), 404, 0)
        ]
    );
    assert_eq!(r.ex(0).body_sha256.as_deref(), Some(SHA256_HELLO));
    assert_eq!(r.ex(1).body_sha256.as_deref(), Some(SHA256_EMPTY));
    assert!(r.d.exchanges().iter().all(|e| e.complete));
    assert!(r.ctx.warnings.is_empty());
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(
        C,
        0,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n\
2;name=\"va;l\"\r\nhe\r\n3 ; x=y ;z\r\nllo\r\n000;last\r\nExpires: never\r\nX-T: y\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    );
    let a = r.ex(0);
    assert_eq!(a.body_bytes, 5);
    assert_eq!(a.transfer_encoding.as_deref(), Some("chunked"));
    assert_eq!(a.body_sha256.as_deref(), Some(SHA256_HELLO));
    assert!(a.complete);
    let b = r.ex(1);
    assert_eq!(b.transfer_encoding.as_deref(), Some("gzip, chunked"));
    assert_eq!((b.status, b.body_bytes, b.complete), (Some(200), 0, true));
    assert!(r.ctx.warnings.is_empty(), "{:?}", r.ctx.warnings);
}

#[test]
fn chunked_request_body_and_bare_lf() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"POST /up HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n",
    );
    r.feed(S, 1, b"HTTP/1.1 204 No Content\n\n");
    let a = r.ex(0);
    assert_eq!(
        (a.request_body_bytes, a.status, a.complete),
        (3, Some(204), true)
    );
}

/// A conversation exercising most paths, fed split at every offset of each direction.
const CLIENT: &[u8] = b"\r\nPOST /form HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd\
GET /c HTTP/1.1\r\nHost: h\r\n\r\nHEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n\
GET /lie HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n";
const SERVER: &[u8] =
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdefHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ";

fn conversation(client: &[&[u8]], server: &[&[u8]]) -> String {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    for part in client {
        r.feed(C, 0, part);
    }
    for part in server {
        r.feed(S, 0, part);
    }
    r.close(0);
    r.snapshot()
}

#[test]
fn split_at_every_offset_gives_identical_results() {
    let whole = conversation(&[CLIENT], &[SERVER]);
    for k in 0..=CLIENT.len() {
        assert_eq!(
            conversation(&[&CLIENT[..k], &CLIENT[k..]], &[SERVER]),
            whole,
            "client split at {k}"
        );
    }
    for k in 0..=SERVER.len() {
        assert_eq!(
            conversation(&[CLIENT], &[&SERVER[..k], &SERVER[k..]]),
            whole,
            "server split at {k}"
        );
    }
    let bytes_c: Vec<&[u8]> = CLIENT.chunks(1).collect();
    let bytes_s: Vec<&[u8]> = SERVER.chunks(1).collect();
    assert_eq!(conversation(&bytes_c, &bytes_s), whole, "byte at a time");
}

#[test]
fn the_split_conversation_is_right() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(C, 0, CLIENT);
    r.feed(S, 0, SERVER);
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| {
                (
                    e.path.clone().unwrap(),
                    e.status,
                    e.body_bytes,
                    e.request_body_bytes,
                    e.complete,
                )
            })
            .collect();
    assert_eq!(
        got,
        vec![
            ("/form".into(), Some(201), 2, 4, true),
            ("/c".into(), Some(200), 5, 0, true),
            ("/h".into(), Some(200), 0, 0, true),
            ("/x".into(), Some(304), 0, 0, true),
            ("/lie".into(), Some(200), 3, 0, true),
            ("/after".into(), Some(200), 1, 0, true),
        ]
    );
    assert_eq!(r.d.informational(0), &[100]);
    assert_eq!(r.d.informational(1), &[] as &[u16]);
    // The 3 bytes beyond the lying Content-Length: garbage where a status line should be.
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert_eq!(r.d.stats().skipped[1], 3);
    assert_eq!(r.d.stats().interim, 1);
}

#[test]
fn head_204_304_have_no_body() {
    let mut r = Run::new();
    r.feed(C, 0, b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nDELETE /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\nGET /z HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.status, e.body_bytes, e.complete))
            .collect();
    assert_eq!(
        got,
        vec![
            (Some(200), 0, true),
            (Some(204), 0, true),
            (Some(304), 0, true),
            (Some(200), 1, true)
        ]
    );
    // Both Transfer-Encoding and Content-Length is warned about even on a HEAD response.
    assert_eq!(r.kinds(), vec!["malformed"]);
}

#[test]
fn expect_100_continue_times() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    );
    r.feed(S, 3, b"HTTP/1.1 100 Continue\r\n\r\n");
    r.feed(C, 5, b"ab");
    r.feed(C, 6, b"cd");
    r.feed(S, 9, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    let a = r.ex(0);
    assert_eq!((a.status, a.request_body_bytes), (Some(201), 4));
    assert_eq!(
        (a.request_ts, a.request_end_ts, a.response_ts),
        (Some(t(0)), Some(t(6)), Some(t(9)))
    );
    assert_eq!(a.ttfb_ms(), Some(3.0));
    assert_eq!(r.d.informational(0), &[100]);
    assert!(a.complete);
}

#[test]
fn upgrade_h2c_leaves_the_rest_unconsumed() {
    let mut r = Run::new();
    let req = b"GET /eicar HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
    r.feed(C, 0, req);
    let head = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    let mut resp = head.to_vec();
    resp.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // HTTP/2 SETTINGS
    assert_eq!(r.send(S, 2, &resp), head.len());
    assert_eq!(r.send(S, 3, b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"), 0);
    assert_eq!(r.send(C, 4, H2_PREFACE), 0);
    assert!(r.d.is_switched(C) && r.d.is_switched(S));
    let sw = r.d.switched().unwrap();
    assert_eq!(sw.protocol, SwitchProtocol::H2c);
    assert_eq!((sw.ts, sw.exchange_index), (t(2), Some(0)));
    let req_ex = sw.request.as_ref().unwrap();
    assert_eq!(
        (req_ex.method.as_deref(), req_ex.path.as_deref()),
        (Some("GET"), Some("/eicar"))
    );
    let a = r.ex(0);
    assert_eq!(
        (a.status, a.upgrade.as_ref().map(|u| u.as_str()), a.complete),
        (Some(101), Some("h2c"), true)
    );
    r.close(9);
    assert!(r.ctx.warnings.is_empty());
}

#[test]
fn h2c_preface_seen_before_the_101() {
    let mut r = Run::new();
    let mut c =
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n".to_vec();
    let req_len = c.len();
    c.extend_from_slice(H2_PREFACE);
    assert_eq!(r.send(C, 0, &c), req_len);
    assert_eq!(
        r.d.switched().map(|s| s.protocol.clone()),
        Some(SwitchProtocol::H2c)
    );
    assert_eq!(
        r.send(
            S,
            1,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nxx"
        ),
        50
    );
    assert_eq!(r.ex(0).status, Some(101));
}

#[test]
fn websocket_upgrade() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    let head =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut s = head.to_vec();
    s.extend_from_slice(b"\x81\x05hello");
    assert_eq!(r.send(S, 1, &s), head.len());
    assert_eq!(r.send(C, 2, b"\x81\x85abcd1234"), 0);
    assert_eq!(r.d.switched().unwrap().protocol, SwitchProtocol::WebSocket);
    assert!(r.d.switched().unwrap().request.is_none());
}

#[test]
fn connect_tunnel() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    );
    let head = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let mut s = head.to_vec();
    s.extend_from_slice(b"\x16\x03\x03\x00\x01x");
    assert_eq!(r.send(S, 1, &s), head.len());
    assert_eq!(r.send(C, 2, b"\x16\x03\x01\x00\x01x"), 0);
    assert_eq!(r.d.switched().unwrap().protocol, SwitchProtocol::Tunnel);
    assert_eq!(
        (
            r.ex(0).url.as_deref(),
            r.ex(0).upgrade.as_ref().map(|u| u.as_str())
        ),
        (None, Some("tunnel"))
    );
}

#[test]
fn body_until_close() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(C, 0, b"GET / HTTP/1.0\r\n\r\n");
    r.feed(S, 4, b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nhe");
    r.feed(S, 6, b"llo");
    assert!(!r.ex(0).complete);
    assert_eq!(r.d.take_finished().len(), 0);
    r.close(50);
    let a = r.ex(0);
    assert_eq!(a.version, HttpVersion::Http10);
    assert_eq!(a.url, None); // no Host, no fallback
    assert_eq!(
        (a.body_bytes, a.response_end_ts, a.complete),
        (5, Some(t(6)), true)
    );
    assert_eq!(a.body_sha256.as_deref(), Some(SHA256_HELLO));
    assert_eq!(a.download_ms(), Some(2.0));
    assert_eq!(r.d.take_finished().len(), 1);
    assert_eq!(r.d.exchanges().len(), 0);
    assert_eq!(r.d.first_index(), 1);
}

#[test]
fn malformed_content_length_shorter_than_body() {
    // More bytes than declared: the surplus is read as the next head and, being garbage, warned.
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello world\r\n",
    );
    assert_eq!((r.ex(0).body_bytes, r.ex(0).complete), (2, true));
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert!(
        r.ctx.warnings[0]
            .message
            .contains("do not begin a status line"),
        "{:?}",
        r.ctx.warnings
    );
    r.close(2);
    assert_eq!(r.d.exchanges().len(), 1);
}

#[test]
fn truncated_content_length_longer_than_body() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhell");
    r.close(5);
    let a = r.ex(0);
    assert_eq!(
        (a.body_bytes, a.complete, a.body_sha256.as_deref()),
        (4, false, None)
    );
    assert_eq!(a.response_end_ts, Some(t(1)));
    assert_eq!(r.kinds(), vec!["truncated"]);
    assert!(r.ctx.warnings[0].message.contains("6 bytes before the end"));
}

#[test]
fn malformed_chunk_size_overflow_gives_up() {
    // Chunk size FFFFFFFFFFFFFFFFF (17 hex digits, 2^68 - 1): beyond 64 bits.
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
    );
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert!(
        r.ctx.warnings[0].message.contains("overflows 64 bits"),
        "{:?}",
        r.ctx.warnings
    );
    r.feed(S, 2, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(matches!(r.d.dirs[1].state, State::Dead));
    assert_eq!((r.ex(0).complete, r.ex(1).status), (false, None));
    assert_eq!(r.d.take_finished().len(), 2);
    assert_eq!(r.d.stats().skipped[1], 19 + 38);

    // Leading zeros are not significant: 16 digits after them is the largest size; a 17th
    // significant digit split over two calls still overflows.
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00001FFFFFFF",
    );
    assert!(r.ctx.warnings.is_empty());
    r.feed(S, 1, b"FFFFFFFFF\r\n");
    assert_eq!(r.kinds(), vec!["malformed"]);

    // 2^64 - 1 itself is a valid size: the bytes that follow are its data.
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000FFFFFFFFFFFFFFFF\r\nabc",
    );
    assert!(r.ctx.warnings.is_empty());
    assert_eq!(r.ex(0).body_bytes, 3);

    // A "0x" prefix is not hex: malformed framing, the direction resynchronises.
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n");
    r.feed(S, 2, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert!(
        r.ctx.warnings[0].message.contains("invalid byte 0x78"),
        "{:?}",
        r.ctx.warnings
    );
    assert_eq!(
        (r.ex(0).complete, r.ex(1).status, r.ex(1).complete),
        (false, Some(200), true)
    );
}

#[test]
fn malformed_endless_header_line_is_bounded() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET /");
    let block = vec![b'a'; 1024];
    for i in 0..1024 {
        r.feed(C, i, &block);
        assert!(r.d.dirs[0].buf.capacity() <= 128 * 1024);
    }
    assert_eq!(r.kinds(), vec!["cap"]);
    assert!(matches!(r.d.dirs[0].state, State::Dead));
    assert_eq!(r.d.dirs[0].buf.capacity(), 0);
    // The other direction still works.
    r.feed(S, 2000, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.ex(0).status, Some(200));

    // One huge segment: never copied beyond the cap.
    let mut r = Run::new();
    let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
    huge.resize(1 << 20, b'b');
    r.feed(C, 0, &huge);
    assert_eq!(r.kinds(), vec!["cap"]);
    assert!(r.d.dirs[0].buf.capacity() <= 128 * 1024);
}

#[test]
fn header_values_are_capped() {
    let mut r = Run::new();
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\nCookie: ".to_vec();
    req.extend(std::iter::repeat_n(b'c', 10_000));
    req.extend_from_slice(b"\r\n\r\n");
    r.feed(C, 0, &req);
    let a = r.ex(0);
    assert!(a.headers_truncated);
    assert_eq!(a.request_headers[1].1.len(), 8192);
}

#[test]
fn malformed_garbage_and_tls_on_port_80() {
    let mut r = Run::new();
    r.feed(C, 0, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    r.feed(S, 1, b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56");
    assert!(r.d.exchanges().is_empty());
    assert_eq!(r.kinds(), vec!["malformed", "malformed"]);
    // A real request after garbage at a line start is found again.
    r.feed(C, 2, b"junk\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.ex(0).path.as_deref(), Some("/ok"));
    assert_eq!(r.d.stats().resyncs, 1);
}

#[test]
fn malformed_content_length_values() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    );
    r.feed(S, 2, b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab");
    r.feed(S, 3, b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.status, e.body_bytes, e.complete))
            .collect();
    assert_eq!(
        got,
        vec![
            (Some(200), 0, false),
            (Some(200), 2, true),
            (Some(200), 0, false)
        ]
    );
    assert_eq!(r.kinds(), vec!["malformed", "malformed"]);
    assert!(r.ctx.warnings[0]
        .message
        .contains("conflicting Content-Length values 3 and 4"));
    assert!(r.ctx.warnings[1].message.contains("is not a number"));
}

#[test]
fn gap_inside_length_body_keeps_framing() {
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    r.feed(
        C,
        0,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
    r.gap(S, 2, 5);
    r.feed(S, 3, b"xyzHTTP/1.1 204 No Content\r\n\r\n");
    let a = r.ex(0);
    assert_eq!(
        (
            a.body_bytes,
            a.complete,
            a.body_sha256.as_deref(),
            a.response_end_ts
        ),
        (5, false, None, Some(t(3)))
    );
    assert_eq!((r.ex(1).status, r.ex(1).complete), (Some(204), true));
    assert!(r.ctx.warnings.is_empty());
}

#[test]
fn gap_past_end_of_body_loses_next_response_start() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
    r.gap(S, 2, 10); // 2 body bytes and 8 of response 2's head
    r.feed(
        S,
        3,
        b" 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.path.clone().unwrap(), e.status, e.complete))
            .collect();
    assert_eq!(
        got,
        vec![
            ("/1".into(), Some(200), false),
            ("/2".into(), None, false),
            ("/3".into(), Some(201), true)
        ]
    );
    assert_eq!(r.kinds(), vec!["gap"]);
}

#[test]
fn gap_in_request_head_keeps_what_was_read() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET /1 HTTP/1.1\r\nHo");
    r.gap(C, 1, 30);
    r.feed(C, 2, b"t: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        3,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.path.clone(), e.status))
            .collect();
    assert_eq!(
        got,
        vec![
            (Some("/1".into()), Some(200)),
            (Some("/2".into()), Some(202))
        ]
    );
    assert_eq!(
        (r.ex(0).request_end_ts, r.ex(0).ttfb_ms()),
        (Some(t(0)), Some(3.0))
    );
    assert!(!r.ex(0).complete && r.ex(1).complete);
    assert_eq!(r.kinds(), vec!["gap"]);
}

#[test]
fn gap_before_any_request_line_keeps_pairing() {
    // Nothing of the first request survives: a placeholder takes its response.
    let mut r = Run::new();
    r.feed(C, 0, b"GE");
    r.gap(C, 1, 30);
    r.feed(C, 2, b"t: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        3,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.path.clone(), e.status))
            .collect();
    assert_eq!(got, vec![(None, Some(200)), (Some("/2".into()), Some(202))]);
    assert!(!r.ex(0).complete && r.ex(1).complete);
}

#[test]
fn truncated_start_lines_are_salvaged() {
    // Snaplen-cut segments: only the first bytes of each head were captured.
    let mut r = Run::new();
    r.feed(C, 0, b"GET /images/sf.net_box.gif HTT");
    r.gap(C, 0, 466);
    r.feed(S, 147, b"HTTP/1.1 200 OK\r\nDate: Tue, 16");
    r.gap(S, 147, 1418);
    r.feed(S, 148, b"\x91\xf8\xf6\xd6\x0c\xf2}\x00h\xbc#F");
    r.gap(S, 148, 253);
    r.close(300);
    let a = r.ex(0);
    assert_eq!(
        (a.method.as_deref(), a.path.as_deref(), a.version),
        (
            Some("GET"),
            Some("/images/sf.net_box.gif"),
            HttpVersion::Http11
        )
    );
    assert_eq!(
        (a.status, a.reason.as_deref(), a.ttfb_ms(), a.complete),
        (Some(200), Some("OK"), Some(147.0), false)
    );
    assert_eq!(a.response_headers, vec![]);
    assert_eq!(r.d.exchanges().len(), 1);
    assert_eq!(r.kinds(), vec!["gap", "gap"]);

    // A status line cut before its reason, and a head cut by the end of the capture.
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(S, 1, b"HTTP/1.0 404");
    r.gap(S, 1, 100);
    r.feed(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Len",
    );
    r.close(3);
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.status, e.content_type.clone(), e.complete))
            .collect();
    assert_eq!(
        got,
        vec![
            (Some(404), None, false),
            (Some(200), Some("text/html".into()), false)
        ]
    );
    assert_eq!(r.kinds(), vec!["gap", "truncated"]);
    assert_eq!(r.d.take_finished().len(), 2);
}

#[test]
fn gap_inside_chunked_body_resynchronises() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123",
    );
    r.gap(S, 2, 100);
    r.feed(
        S,
        3,
        b"tail of something\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    );
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.status, e.body_bytes, e.complete))
            .collect();
    assert_eq!(got, vec![(Some(200), 4, false), (Some(200), 1, true)]);
    assert_eq!(r.kinds(), vec!["gap"]);
}

#[test]
fn response_without_request() {
    let mut r = Run::new();
    r.feed(S, 0, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    let a = r.ex(0);
    assert_eq!(
        (a.method.as_deref(), a.status, a.body_bytes, a.complete),
        (None, Some(200), 2, false)
    );
    assert_eq!(a.version, HttpVersion::Http11);
    assert_eq!(r.d.take_finished().len(), 1);
}

#[test]
fn urls_from_host_fallback_and_absolute_form() {
    let mut r = Run::with(Http1Options {
        scheme: "https".into(),
        fallback_host: Some("[2001:db8::1]:8443".into()),
        ..Http1Options::default()
    });
    r.feed(
        C,
        0,
        b"GET /a HTTP/1.1\r\nHost: www.example.com\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
    );
    r.feed(C, 0, b"GET http://proxy.example/x?y HTTP/1.1\r\nHost: proxy.example\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    let urls: Vec<_> = r.d.exchanges().iter().map(|e| e.url.clone()).collect();
    assert_eq!(
        urls,
        vec![
            Some("https://www.example.com/a".to_string()),
            Some("https://[2001:db8::1]:8443/b".to_string()),
            Some("http://proxy.example/x?y".to_string()),
            Some("https://h".to_string()),
        ]
    );
    assert_eq!(r.ex(2).path.as_deref(), Some("http://proxy.example/x?y"));
}

#[test]
fn transfer_coding_not_chunked() {
    // Response: read until close. Request: unrecoverable.
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n12345",
    );
    r.close(2);
    assert_eq!((r.ex(0).body_bytes, r.ex(0).complete), (5, true));

    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nzzzz",
    );
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert!(matches!(r.d.dirs[0].state, State::Dead));
    r.feed(
        S,
        1,
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!((r.ex(0).status, r.ex(0).complete), (Some(400), false));
}

#[test]
fn doh_post_and_get() {
    let query = [
        0u8, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1,
    ];
    let mut r = Run::new();
    let mut post = format!(
        "POST /dns-query HTTP/1.1\r\nHost: dns.example\r\nContent-Type: application/dns-message\r\nContent-Length: {}\r\n\r\n",
        query.len()
    )
    .into_bytes();
    post.extend_from_slice(&query);
    r.feed(C, 0, &post);
    r.feed(C, 1, b"GET /dns-query?dns=AAABAAABAAAAAAAAA3d3dwAAAQAB HTTP/1.1\r\nHost: dns.example\r\nAccept: application/dns-message\r\n\r\n");
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: 21\r\n\r\n"
            .to_vec();
    resp.extend_from_slice(&query);
    r.feed(S, 2, &resp);
    r.feed(S, 3, &resp);
    let msgs = r.d.take_doh_messages();
    let got: Vec<_> = msgs
        .iter()
        .map(|m| (m.dir, m.ts, m.exchange as usize, m.bytes.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (C, t(0), 0, 21),
            (C, t(1), 1, 21),
            (S, t(2), 0, 21),
            (S, t(3), 1, 21)
        ]
    );
    assert!(msgs.iter().all(|m| m.bytes == query));
    assert!(r.d.take_doh_messages().is_empty());
}

#[test]
fn take_finished_streams_in_order() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert!(r.d.take_finished().is_empty());
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let got = r.d.take_finished();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path.as_deref(), Some("/1"));
    r.feed(C, 2, b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(S, 3, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    let got: Vec<_> =
        r.d.take_finished()
            .iter()
            .map(|e| (e.path.clone().unwrap(), e.status.unwrap()))
            .collect();
    assert_eq!(got, vec![("/2".into(), 200), ("/3".into(), 500)]);
    assert_eq!(r.d.first_index(), 3);
}

#[test]
fn exchange_cap_stops_both_directions() {
    let mut r = Run::with(Http1Options {
        max_exchanges: 2,
        ..Http1Options::default()
    });
    r.feed(C, 0, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n");
    assert_eq!(r.d.exchanges().len(), 2);
    assert_eq!(r.kinds(), vec!["cap"]);
}

#[test]
fn truncated_head_at_close() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(S, 1, b"HTTP/1.1 200 OK\r\nContent-");
    r.close(2);
    assert_eq!(r.kinds(), vec!["truncated"]);
    assert!(!r.ex(0).complete);
    assert_eq!(r.d.take_finished().len(), 1);
}

#[test]
fn looks_like_http1_detects_by_content() {
    assert!(looks_like_http1(C, b"GET / HTTP/1.1\r\nHost: x\r\n"));
    assert!(looks_like_http1(C, b"\r\nPOST /x HTTP/1.0\r\n"));
    assert!(looks_like_http1(C, b"GET /very/long/path/cut"));
    assert!(looks_like_http1(C, b"PROPFIND /d HTTP/1.1\n"));
    assert!(looks_like_http1(S, b"HTTP/1.1 200 OK\r\n"));
    assert!(looks_like_http1(S, b"HTTP/1.0 404"));
    assert!(!looks_like_http1(C, b"GET / HTTP/2.0\r\n"));
    assert!(!looks_like_http1(C, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    assert!(!looks_like_http1(C, b"FOO / HTTP/1.1\r\n"));
    assert!(!looks_like_http1(C, b"GET  HTTP/1.1\r\n"));
    assert!(!looks_like_http1(C, b"\x16\x03\x01\x00"));
    assert!(!looks_like_http1(C, b"GET "));
    assert!(!looks_like_http1(S, b"HTTP/1.1 20x OK"));
    assert!(!looks_like_http1(S, b"HTTP/2 200\r\n"));
    assert!(!looks_like_http1(S, b"GET / HTTP/1.1\r\n"));
    assert!(!looks_like_http1(C, b""));
}

/// xorshift64*: deterministic pseudo-random bytes.
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed >> 12;
    *seed ^= *seed << 25;
    *seed ^= *seed >> 27;
    seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn feed_random_splits(r: &mut Run, dir: Dir, bytes: &[u8], seed: &mut u64) {
    let mut pos = 0;
    while pos < bytes.len() {
        let n = (rng(seed) % 64 + 1) as usize;
        let end = (pos + n).min(bytes.len());
        let _ = r.send(dir, 0, &bytes[pos..end]);
        if rng(seed).is_multiple_of(16) {
            r.gap(dir, 0, rng(seed) % 40);
        }
        pos = end;
        assert!(r.d.dirs[dir.index()].buf.len() <= r.d.opts.max_head);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..300 {
        let len = (rng(&mut seed) % 2048) as usize;
        let c: Vec<u8> = (0..len).map(|_| rng(&mut seed) as u8).collect();
        let s: Vec<u8> = (0..len).map(|_| rng(&mut seed) as u8).collect();
        let mut r = Run::new();
        feed_random_splits(&mut r, C, &c, &mut seed);
        feed_random_splits(&mut r, S, &s, &mut seed);
        r.close(1);
    }
}

#[test]
fn mutated_conversations_never_panic() {
    let mut seed = 42u64;
    let alphabet = b"\r\n :;0123456789abcdefHTTP/1.GETPOSTHEADContent-Length: chunked\r\n\r\n";
    for _ in 0..2000 {
        let mut c = CLIENT.to_vec();
        let mut s = SERVER.to_vec();
        for buf in [&mut c, &mut s] {
            for _ in 0..(rng(&mut seed) % 6) {
                let i = (rng(&mut seed) as usize) % buf.len();
                match rng(&mut seed) % 3 {
                    0 => buf[i] = alphabet[(rng(&mut seed) as usize) % alphabet.len()],
                    1 => {
                        buf.remove(i);
                    }
                    _ => buf.insert(i, alphabet[(rng(&mut seed) as usize) % alphabet.len()]),
                }
            }
        }
        let mut r = Run::with(Http1Options {
            body_hash: true,
            ..Http1Options::default()
        });
        feed_random_splits(&mut r, C, &c, &mut seed);
        feed_random_splits(&mut r, S, &s, &mut seed);
        r.close(1);
        let _ = r.d.take_finished();
        let _ = r.d.take_doh_messages();
    }
}

#[test]
fn resync_candidates_that_fail_are_not_warned_again() {
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nab",
    );
    r.gap(S, 2, 50);
    for part in [
        &b"xxH"[..],
        b"elloHT",
        b"ml HTTP/1",
        b".x",
        b"HTTP/1.1 2",
        b"00x\r\n",
        b"\n",
    ] {
        r.feed(S, 3, part);
    }
    r.feed(S, 4, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let got: Vec<_> =
        r.d.exchanges()
            .iter()
            .map(|e| (e.status, e.complete))
            .collect();
    assert_eq!(got, vec![(Some(200), false), (Some(200), true)]);
    assert_eq!(r.kinds(), vec!["gap"]);
    assert_eq!(r.d.stats().resyncs, 1);
}

#[test]
fn malformed_chunk_size_of_exactly_2_pow_64() {
    // 0x1_0000_0000_0000_0000: one more than the largest u64, a whole second response behind.
    let mut r = Run::new();
    r.feed(
        C,
        0,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(r.kinds(), vec!["malformed"]);
    assert!(r.ctx.warnings[0].message.contains("overflows 64 bits"));
    assert_eq!((r.ex(0).status, r.ex(0).complete), (Some(200), false));
    assert_eq!(r.ex(0).body_bytes, 0);
    assert!(matches!(r.d.dirs[1].state, State::Dead));
    // The requests are intact; the client direction keeps working.
    assert_eq!(r.ex(1).path.as_deref(), Some("/2"));
    r.feed(C, 2, b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.ex(2).path.as_deref(), Some("/3"));
    assert_eq!(r.kinds(), vec!["malformed"]);
}

#[test]
fn malformed_content_length_of_2_pow_64() {
    let mut r = Run::new();
    r.feed(C, 0, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    );
    assert_eq!(r.kinds(), vec!["malformed", "malformed"]);
    assert!(r
        .ctx
        .warnings
        .iter()
        .all(|w| w.message.contains("overflows 64 bits")));
    // Both directions resynchronised on the next message.
    assert_eq!(r.ex(1).path.as_deref(), Some("/2"));
    assert_eq!((r.ex(0).complete, r.ex(1).status), (false, Some(204)));
}

/// A lying Content-Length that is far larger than what follows: the body count stops at what
/// was sent, memory does not grow with the declared length, and the close ends it.
#[test]
fn malformed_content_length_lies_long() {
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    r.feed(
        S,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
    );
    let block = vec![b'x'; 64 * 1024];
    for i in 0..64 {
        r.feed(S, 2 + i, &block);
    }
    assert!(r.d.dirs[1].buf.capacity() <= 128 * 1024);
    r.close(100);
    let a = r.ex(0);
    assert_eq!((a.body_bytes, a.complete), (64 * 64 * 1024, false));
    assert_eq!(r.kinds(), vec!["truncated"]);
}

// ----- the hostile-input list, through the whole pipeline -----

/// One raw IPv4 + TCP packet (link type Raw; checksums are not checked by the analyzer).
fn ipv4_tcp(
    client_port: u16,
    to_server: bool,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst, sport, dport) = if to_server {
        (client, server, client_port, 80)
    } else {
        (server, client, 80, client_port)
    };
    let total = (20 + 20 + payload.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// The packets of one connection: handshake, the client's bytes, the server's bytes (each cut
/// into 1400-byte segments), then FIN both ways. Times in ms from `start`.
fn tcp_conversation(
    client_port: u16,
    start: i64,
    client: &[u8],
    server: &[u8],
) -> Vec<(Ts, Vec<u8>)> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    const FIN_ACK: u8 = 0x11;
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    let mut ms = start;
    let mut out = Vec::new();
    let mut push =
        |to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8], ms: &mut i64| {
            out.push((
                t(*ms),
                ipv4_tcp(client_port, to_server, seq, ack, flags, payload),
            ));
            *ms += 1;
        };
    push(true, cseq, 0, SYN, b"", &mut ms);
    push(false, sseq, cseq + 1, SYN | ACK, b"", &mut ms);
    cseq += 1;
    sseq += 1;
    push(true, cseq, sseq, ACK, b"", &mut ms);
    for chunk in client.chunks(1400) {
        push(true, cseq, sseq, PSH_ACK, chunk, &mut ms);
        cseq += chunk.len() as u32;
    }
    for chunk in server.chunks(1400) {
        push(false, sseq, cseq, PSH_ACK, chunk, &mut ms);
        sseq += chunk.len() as u32;
    }
    push(true, cseq, sseq, FIN_ACK, b"", &mut ms);
    push(false, sseq, cseq + 1, FIN_ACK, b"", &mut ms);
    push(true, cseq + 1, sseq + 1, ACK, b"", &mut ms);
    out
}

/// The hostile inputs, each on its own port-80 connection of one capture, beside a
/// clean one: an endless header line, a Content-Length that lies, garbage, a chunk size of
/// 2^64. Each is a warning on its own connection; the clean exchange and the capture-level
/// report are untouched.
#[test]
fn hostile_connections_leave_the_rest_of_the_report_intact() {
    use crate::capture::Packet;
    use crate::link::LinkType;
    use crate::pipeline::{Analyzer, AnalyzerConfig};

    let mut endless = b"GET /".to_vec();
    endless.resize(1 << 20, b'a');
    let conns: Vec<(u16, Vec<u8>, Vec<u8>)> = vec![
        (40001, endless, Vec::new()),
        (
            40002,
            b"GET /lies HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nshort".to_vec(),
        ),
        (
            40003,
            b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n\xde\xad\xbe\xef garbage \x00\xff\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x00\x01\x02\x03 not http\r\n\r\n".to_vec(),
        ),
        (
            40004,
            b"GET /chunk HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n".to_vec(),
        ),
        (
            40006,
            b"\xde\xad\xbe\xef garbage from the first byte \x00\xff\r\n\r\n".to_vec(),
            b"\x00\x01\x02\x03 not http either\r\n\r\n".to_vec(),
        ),
        (
            40005,
            b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        ),
    ];
    let mut a = Analyzer::new(AnalyzerConfig::default(), "hostile", "pcap");
    let mut frame = 0;
    for (i, (port, client, server)) in conns.iter().enumerate() {
        for (ts, data) in tcp_conversation(*port, i as i64 * 10_000, client, server) {
            frame += 1;
            a.handle_packet(&Packet {
                frame,
                ts,
                link: LinkType::Raw,
                data: &data,
                orig_len: data.len() as u32,
            });
        }
    }
    let r = a.finish();
    assert!(r.capture.warnings.is_empty(), "{:?}", r.capture.warnings);
    assert_eq!(r.connections.len(), 6);
    let by_port = |port: u16| {
        r.connections
            .iter()
            .find(|c| c.client.port() == port)
            .unwrap()
    };
    let kinds = |port: u16| -> Vec<(String, String)> {
        by_port(port)
            .warnings
            .iter()
            .map(|w| (w.kind.to_string(), w.message.to_string()))
            .collect()
    };
    let http = |port: u16| &by_port(port).http;

    // Endless header line: a cap, the client direction abandoned, nothing buffered past it.
    assert_eq!(kinds(40001).len(), 1);
    assert_eq!(kinds(40001)[0].0, "cap");
    assert!(kinds(40001)[0].1.contains("head over 65536 bytes"));
    assert!(http(40001).is_empty());
    // Content-Length that lies: the body is what came, cut at the close.
    assert_eq!(kinds(40002).len(), 1);
    assert_eq!(kinds(40002)[0].0, "truncated");
    let lies = &http(40002)[0];
    assert_eq!(
        (lies.status, lies.body_bytes, lies.complete),
        (Some(200), 5, false)
    );
    // Garbage after a good exchange: warned both ways, the exchange before it kept.
    assert_eq!(
        kinds(40003)
            .iter()
            .map(|k| k.0.as_str())
            .collect::<Vec<_>>(),
        vec!["malformed", "malformed"]
    );
    assert_eq!(http(40003).len(), 1);
    assert!(http(40003)[0].complete);
    // Chunk size 2^64: the server direction abandoned, the exchange incomplete.
    assert_eq!(kinds(40004).len(), 1);
    assert_eq!(kinds(40004)[0].0, "malformed");
    assert!(kinds(40004)[0].1.contains("chunk size overflows 64 bits"));
    let chunk = &http(40004)[0];
    assert_eq!((chunk.status, chunk.complete), (Some(200), false));
    // Garbage from the first byte is not HTTP: nothing is dissected, the bytes are counted,
    // and the detector says port 80 promised HTTP.
    assert_eq!(
        by_port(40006).app_protocol,
        Some(crate::pageload::model::AppProtocol::Unknown)
    );
    assert!(http(40006).is_empty());
    assert_eq!(kinds(40006).len(), 1, "{:?}", kinds(40006));
    assert_eq!(kinds(40006)[0].0, "unknown");
    assert!(kinds(40006)[0].1.contains("port 80 usually carries HTTP"));
    // The clean connection is untouched.
    assert!(kinds(40005).is_empty());
    let ok = &http(40005)[0];
    assert_eq!(
        (ok.path.as_deref(), ok.status, ok.body_bytes, ok.complete),
        (Some("/ok"), Some(200), 2, true)
    );
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// A gzip body in chunks, fed a few bytes at a time: decoded after de-chunking, hashed as
/// de-chunked; then a Content-Length body whose gzip stream stops short, and one cut by loss.
#[test]
fn gzip_bodies_are_decoded_after_dechunking() {
    let plain: Vec<u8> = (0..3000)
        .flat_map(|i| format!("row {i}\n").into_bytes())
        .collect();
    let body = gzip(&plain);
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
                     Content-Encoding: gzip\r\n\r\n"
        .to_vec();
    for c in body.chunks(100) {
        wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        wire.extend_from_slice(c);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let short = &body[..body.len() - 100];
    wire.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Encoding: gzip\r\n\r\n",
            short.len()
        )
        .as_bytes(),
    );
    wire.extend_from_slice(short);
    let mut r = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    for _ in 0..2 {
        r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    }
    for piece in wire.chunks(5) {
        r.feed(S, 1, piece);
    }
    let a = r.ex(0);
    assert_eq!(a.body_bytes, body.len() as u64);
    let whole = Decoded::Bytes {
        bytes: plain.len() as u64,
        stop: None,
    };
    assert_eq!(a.decoded, whole);
    use sha2::Digest;
    let hex = crate::dissect::tls::fingerprint::hex(&sha2::Sha256::digest(&body));
    assert_eq!(a.body_sha256, Some(hex));
    let b = r.ex(1);
    assert!(b.complete, "the framing is whole");
    assert!(
        matches!(b.decoded, Decoded::Bytes { bytes, stop: Some(DecodeStop::Truncated) }
            if bytes > 0 && bytes < plain.len() as u64),
        "{:?}",
        b.decoded
    );
    let kinds: Vec<_> = r.ctx.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WarningKind::Truncated], "{:?}", r.ctx.warnings);

    // Loss inside a Content-Length body: decoding stops there, quietly.
    let mut r = Run::new();
    r.feed(C, 0, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Encoding: gzip\r\n\r\n",
        body.len()
    );
    r.feed(S, 1, head.as_bytes());
    r.feed(S, 1, &body[..500]);
    r.gap(S, 2, 100);
    r.feed(S, 3, &body[600..]);
    let a = r.ex(0);
    assert!(!a.complete);
    assert!(
        matches!(
            a.decoded,
            Decoded::Bytes {
                stop: Some(DecodeStop::Truncated),
                ..
            }
        ),
        "{:?}",
        a.decoded
    );
    assert!(r
        .ctx
        .warnings
        .iter()
        .all(|w| w.kind != WarningKind::Truncated));
}

/// Feeds `bytes` as a decryptor reading records in parts does: what
/// [`Http1Dissector::skippable`] allows is skipped, the rest given `window` bytes at a time.
/// Returns the bytes skipped.
fn feed_skipping(r: &mut Run, dir: Dir, ms: i64, bytes: &[u8], window: usize) -> u64 {
    let (mut pos, mut skipped) = (0, 0);
    while pos < bytes.len() {
        let left = bytes.len() - pos;
        let s = r.d.skippable(dir).unwrap().min(left as u64);
        if s > 0 {
            r.d.skip(dir, t(ms), s, &mut r.ctx);
            pos += s as usize;
            skipped += s;
            continue;
        }
        let end = pos + window.min(left);
        r.feed(dir, ms, &bytes[pos..end]);
        pos = end;
    }
    skipped
}

#[test]
fn skipping_what_it_only_counts_gives_identical_results() {
    let big = vec![b'x'; 5000];
    let chunk = [b"1388\r\n".as_slice(), &big, b"\r\n3\r\nabc\r\n0\r\n\r\n"].concat();
    let gz = gzip(&big);
    let gz_head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Encoding: gzip\r\n\r\n",
        gz.len()
    );
    let server: Vec<u8> = [
        SERVER,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
        &big,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunk,
        // Decoded, so read: never skipped.
        gz_head.as_bytes(),
        &gz,
        b"HTTP/1.1 200 OK\r\n\r\n",
        &big,
    ]
    .concat();
    let client: Vec<u8> = [
        CLIENT,
        b"GET /big HTTP/1.1\r\nHost: h\r\n\r\nGET /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /gz HTTP/1.1\r\nHost: h\r\n\r\nGET /close HTTP/1.1\r\nHost: h\r\n\r\n",
        b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n",
        &big,
    ]
    .concat();
    // The same cuts and windows with and without skipping.
    let run = |skip: bool, cut: usize, window: usize| {
        let mut r = Run::new();
        let mut skipped = 0;
        for (dir, bytes) in [(C, &client), (S, &server)] {
            for (i, part) in bytes.chunks(cut).enumerate() {
                if skip {
                    skipped += feed_skipping(&mut r, dir, i as i64, part, window);
                } else {
                    for w in part.chunks(window) {
                        r.feed(dir, i as i64, w);
                    }
                }
            }
        }
        r.close(99);
        (r.snapshot(), skipped)
    };
    // With --body-hash every body byte is read: nothing is offered.
    let hashing = Run::with(Http1Options {
        body_hash: true,
        ..Http1Options::default()
    });
    assert_eq!(hashing.d.skippable(S), None);
    for cut in [1, 100, 1448, 16384, 100_000] {
        for window in [1, 7, 512] {
            let (whole, _) = run(false, cut, window);
            let (parts, skipped) = run(true, cut, window);
            assert_eq!(parts, whole, "cut {cut}, window {window}");
            // The 5,000-byte bodies that are not decoded: four of them, less what the
            // windows took before each was known to be skippable.
            assert!(skipped > 3 * 5000, "cut {cut}, window {window}: {skipped}");
            assert!(whole.contains("decoded: Bytes { bytes: 5000, stop: None }"));
        }
    }
}
