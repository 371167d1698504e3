//! The HTTP/3 connection dissector on stream events built here: requests and responses,
//! blocked field sections, pushes, resets, and a hostile peer.

use super::*;
use crate::dissect::http3::qpack::tests::TestEncoder;
use crate::dissect::quic::streams::StreamId;

fn ts(ms: i64) -> Ts {
    Ts::from_nanos(1_000_000_000_000 + ms * 1_000_000)
}

fn varint(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=63 => out.push(v as u8),
        64..=16_383 => out.extend_from_slice(&(0x4000 | v as u16).to_be_bytes()),
        _ => out.extend_from_slice(&(0x8000_0000 | v as u32).to_be_bytes()),
    }
}

fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    varint(&mut f, ty);
    varint(&mut f, payload.len() as u64);
    f.extend_from_slice(payload);
    f
}

struct Conn {
    d: Http3Dissector,
    ctx: StreamCtx,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            d: Http3Dissector::new(true),
            ctx: StreamCtx::new(),
        }
    }

    fn data(&mut self, dir: Dir, id: u64, ms: i64, bytes: &[u8]) {
        let ev = StreamEvent::Data {
            dir,
            id: StreamId(id),
            offset: 0,
            bytes,
            ts: ts(ms),
            first_seen: ts(ms),
        };
        self.d.handle_event(&ev, &mut self.ctx);
    }

    fn fin(&mut self, dir: Dir, id: u64, ms: i64) {
        let ev = StreamEvent::Fin {
            dir,
            id: StreamId(id),
            final_size: 0,
            ts: ts(ms),
        };
        self.d.handle_event(&ev, &mut self.ctx);
    }

    fn reset(&mut self, dir: Dir, id: u64, ms: i64, code: u64) {
        let ev = StreamEvent::Reset {
            dir,
            id: StreamId(id),
            error_code: code,
            final_size: 0,
            delivered: 0,
            ts: ts(ms),
        };
        self.d.handle_event(&ev, &mut self.ctx);
    }

    fn done(mut self) -> (Vec<Exchange>, StreamCtx) {
        self.d.handle_close(ts(10_000), &mut self.ctx);
        (self.d.take_exchanges(), self.ctx)
    }
}

type Fields<'a> = &'a [(&'a [u8], &'a [u8])];

fn request(path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (b":method".to_vec(), b"GET".to_vec()),
        (b":scheme".to_vec(), b"https".to_vec()),
        (b":authority".to_vec(), b"h3.test".to_vec()),
        (b":path".to_vec(), path.as_bytes().to_vec()),
        (b"user-agent".to_vec(), b"pagetrace-test".to_vec()),
    ]
}

fn pairs(v: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    v.iter()
        .map(|(n, x)| (n.as_slice(), x.as_slice()))
        .collect()
}

/// One side's encoder stream (type 0x02) and its field sections.
struct Side {
    enc: TestEncoder,
    stream: Vec<u8>,
}

impl Side {
    fn new(capacity: usize) -> Side {
        let mut stream = vec![0x02];
        let enc = TestEncoder::new(4096, capacity, &mut stream);
        Side { enc, stream }
    }

    /// A HEADERS frame; the encoder stream bytes it needs stay in `self.stream`.
    fn headers(&mut self, fields: Fields<'_>) -> Vec<u8> {
        let mut block = Vec::new();
        self.enc.encode(fields, &mut self.stream, &mut block);
        frame(0x01, &block)
    }
}

#[test]
fn request_and_response_with_the_dynamic_table() {
    let mut c = Conn::new();
    let (mut cl, mut sv) = (Side::new(4096), Side::new(4096));
    let req = cl.headers(&pairs(&request("/index.html")));
    let resp = sv.headers(&[
        (b":status", b"200"),
        (b"content-type", b"text/html"),
        (b"alt-svc", b"h3=\":443\""),
    ]);
    // Encoder streams first (client 2, server 3), as a client sends them.
    c.data(Dir::ToServer, 2, 0, &cl.stream);
    c.data(Dir::ToClient, 3, 1, &sv.stream);
    c.data(Dir::ToServer, 0, 2, &req);
    c.fin(Dir::ToServer, 0, 2);
    let mut body = resp.clone();
    body.extend(frame(0x00, &[b'x'; 1000]));
    c.data(Dir::ToClient, 0, 20, &body);
    c.data(Dir::ToClient, 0, 25, &frame(0x00, &[b'y'; 500]));
    c.fin(Dir::ToClient, 0, 25);
    let (ex, ctx) = c.done();
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.version, HttpVersion::Http3);
    assert_eq!(e.stream, Some(0));
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.url.as_deref(), Some("https://h3.test/index.html"));
    assert_eq!(e.status, Some(200));
    assert_eq!(e.body_bytes, 1500);
    assert_eq!(e.content_type.as_deref(), Some("text/html"));
    assert_eq!((e.request_ts, e.request_end_ts), (Some(ts(2)), Some(ts(2))));
    assert_eq!(
        (e.response_ts, e.response_end_ts),
        (Some(ts(20)), Some(ts(25)))
    );
    assert!(e.complete);
    assert!(e.body_sha256.is_some());
    assert!(
        e.response_headers
            .iter()
            .any(|(n, v)| n == "alt-svc" && v == "h3=\":443\""),
        "{:?}",
        e.response_headers
    );
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
}

/// RFC 9204 2.1.2: a section that needs entries the encoder stream has not delivered yet
/// waits for them, and keeps the time its HEADERS frame was whole.
#[test]
fn a_blocked_section_decodes_when_its_inserts_arrive() {
    let mut c = Conn::new();
    // The server's SETTINGS (control stream 3): QPACK_MAX_TABLE_CAPACITY 4096 and
    // QPACK_BLOCKED_STREAMS 16 for what the client encodes.
    let mut settings = Vec::new();
    for v in [0x01, 4096, 0x07, 16] {
        varint(&mut settings, v);
    }
    let mut control = vec![0x00];
    control.extend(frame(0x04, &settings));
    c.data(Dir::ToClient, 3, 0, &control);
    let mut cl = Side::new(4096);
    let req = cl.headers(&pairs(&request("/late")));
    c.data(Dir::ToServer, 0, 1, &req);
    c.fin(Dir::ToServer, 0, 1);
    assert_eq!(c.d.stats().blocked_sections, 1);
    c.data(Dir::ToServer, 2, 5, &cl.stream);
    let (ex, _) = c.done();
    assert_eq!(ex[0].path.as_deref(), Some("/late"));
    assert_eq!(ex[0].request_ts, Some(ts(1)), "the HEADERS frame's time");
}

#[test]
fn interim_responses_trailers_and_a_reset() {
    let mut c = Conn::new();
    let (mut cl, mut sv) = (Side::new(0), Side::new(0));
    let r0 = cl.headers(&pairs(&request("/a")));
    let r4 = cl.headers(&pairs(&request("/b")));
    let early = sv.headers(&[(b":status", b"103"), (b"link", b"</s.css>; rel=preload")]);
    let final_ = sv.headers(&[(b":status", b"200")]);
    let trailer = sv.headers(&[(b"server-timing", b"db;dur=5")]);
    c.data(Dir::ToServer, 0, 0, &r0);
    c.fin(Dir::ToServer, 0, 0);
    c.data(Dir::ToServer, 4, 1, &r4);
    c.fin(Dir::ToServer, 4, 1);
    let mut resp = early;
    resp.extend(final_);
    resp.extend(frame(0x00, b"hello"));
    resp.extend(trailer);
    c.data(Dir::ToClient, 0, 10, &resp);
    c.fin(Dir::ToClient, 0, 11);
    // H3_REQUEST_CANCELLED (0x10c) on the second.
    c.reset(Dir::ToClient, 4, 12, 0x10c);
    let (ex, _) = c.done();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].informational, vec![103]);
    assert_eq!(ex[0].status, Some(200));
    assert_eq!(ex[0].body_bytes, 5);
    assert!(ex[0]
        .response_headers
        .iter()
        .any(|(n, _)| n == "server-timing"));
    assert!(ex[0].complete);
    assert_eq!(ex[1].reset, Some(StreamReset::Http3(0x10c)));
    assert!(!ex[1].complete);
}

#[test]
fn server_push_is_an_exchange_of_its_own() {
    let mut c = Conn::new();
    let (mut cl, mut sv) = (Side::new(0), Side::new(0));
    let req = cl.headers(&pairs(&request("/")));
    c.data(Dir::ToServer, 0, 0, &req);
    c.fin(Dir::ToServer, 0, 0);
    // PUSH_PROMISE (push id 0) for /pushed.css on stream 0, then push stream 3: type 0x01,
    // push id 0, the response.
    let mut promise = Vec::new();
    varint(&mut promise, 0);
    let mut block = Vec::new();
    let mut enc = Vec::new();
    sv.enc
        .encode(&pairs(&request("/pushed.css")), &mut enc, &mut block);
    promise.extend_from_slice(&block);
    let mut s0 = frame(0x05, &promise);
    s0.extend(sv.headers(&[(b":status", b"200")]));
    c.data(Dir::ToClient, 0, 5, &s0);
    c.fin(Dir::ToClient, 0, 6);
    let mut push = vec![0x01, 0x00];
    push.extend(sv.headers(&[(b":status", b"200"), (b"content-type", b"text/css")]));
    push.extend(frame(0x00, b"body{}"));
    c.data(Dir::ToClient, 3, 7, &push);
    c.fin(Dir::ToClient, 3, 8);
    let (ex, _) = c.done();
    assert_eq!(ex.len(), 2);
    let p = &ex[1];
    assert_eq!(p.pushed_by, Some(0));
    assert_eq!(p.path.as_deref(), Some("/pushed.css"));
    assert_eq!(p.status, Some(200));
    assert_eq!(p.body_bytes, 6);
    assert!(p.complete, "{p:?}");
}

/// A hostile peer: an encoder stream of huge inserts and capacity changes, and thousands of
/// requests whose sections need entries that never come. Memory stays bounded by the caps
/// (QPACK's table and blocked queue, the open exchanges), and every problem is a warning.
#[test]
fn a_hostile_encoder_costs_bounded_memory() {
    let mut c = Conn::new();
    let mut enc = vec![0x02];
    // Set Dynamic Table Capacity 2^30, then literal-name inserts claiming 2^30-byte values.
    enc.extend_from_slice(&[0x3f, 0xe1, 0xff, 0xff, 0xff, 0x03]);
    for _ in 0..1000 {
        enc.extend_from_slice(&[0x43, b'a', b'b', b'c', 0x7f, 0xff, 0xff, 0xff, 0xff, 0x03]);
    }
    c.data(Dir::ToServer, 2, 0, &enc);
    // Sections requiring insert count 1000 (encoded with MaxEntries 2^30/32).
    for i in 0..10_000u64 {
        let block = [0xff, 0xff, 0x0f, 0x00, 0x80];
        c.data(Dir::ToServer, i * 4, 1, &frame(0x01, &block));
    }
    assert!(c.d.blocked.len() <= 256, "{}", c.d.blocked.len());
    assert!(c.d.open.len() <= MAX_EXCHANGES);
    let (ex, ctx) = c.done();
    assert!(ex.len() <= MAX_EXCHANGES);
    assert!(!ctx.warnings.is_empty());
}
