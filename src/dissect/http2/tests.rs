//! HTTP/2 dissector tests on frames built here (with the test HPACK encoder).

use super::frame::flags::*;
use super::hpack::tests::TestEncoder;
use super::*;
use crate::dissect::http::{DecodeStop, Decoded, Exchange, HttpVersion, StreamReset};
use crate::dissect::stream::StreamCtx;
use crate::time::Ts;
use crate::warning::WarningKind;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;

fn ms(n: i64) -> Ts {
    Ts::from_nanos(1_700_000_000_000_000_000 + n * 1_000_000)
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let l = (payload.len() as u32).to_be_bytes();
    let mut f = vec![l[1], l[2], l[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn settings(entries: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in entries {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(0x4, 0, 0, &p)
}

fn headers(enc: &mut TestEncoder, flags: u8, stream: u32, h: &[(&str, &str)]) -> Vec<u8> {
    let list: Vec<(&[u8], &[u8])> = h
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    frame(0x1, flags | END_HEADERS, stream, &enc.encode(&list))
}

fn opts() -> Http2Options {
    Http2Options {
        scheme: "https".into(),
        authority: Some("fallback.example".into()),
        body_hash: false,
    }
}

fn pairs(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Feeds `(dir, ts, bytes)` events and closes at `close`.
fn run(d: &mut Http2Dissector, events: &[(Dir, Ts, Vec<u8>)], ctx: &mut StreamCtx) {
    for (dir, ts, b) in events {
        d.handle_data(*dir, *ts, b, ctx);
    }
}

const REQ: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/index.html"),
    ("user-agent", "test/1.0"),
];
const RESP: &[(&str, &str)] = &[
    (":status", "200"),
    ("content-type", "text/html"),
    // A coding not decoded here: these tests are about framing (decoding: `gzip_body_*`).
    ("content-encoding", "compress"),
];

/// A complete GET on stream 1: preface, SETTINGS both ways, request, response in two DATA
/// frames (the second padded with END_STREAM).
fn simple_conversation() -> Vec<(Dir, Ts, Vec<u8>)> {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c1 = PREFACE.to_vec();
    c1.extend(settings(&[(1, 4096), (4, 65535)]));
    c1.extend(frame(0x8, 0, 0, &[0, 0x0f, 0, 1]));
    c1.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let mut s1 = settings(&[(3, 100)]);
    s1.extend(frame(0x4, ACK, 0, &[]));
    let s2 = headers(&mut se, 0, 1, RESP);
    let s3 = frame(0x0, 0, 1, &[b'x'; 10]);
    let mut padded = vec![3u8];
    padded.extend_from_slice(b"hello");
    padded.extend_from_slice(&[0, 0, 0]);
    let s4 = frame(0x0, END_STREAM | PADDED, 1, &padded);
    vec![
        (C, ms(0), c1),
        (S, ms(5), s1),
        (S, ms(20), s2),
        (S, ms(22), s3),
        (S, ms(30), s4),
        (C, ms(31), frame(0x4, ACK, 0, &[])),
    ]
}

#[test]
fn simple_get_exchange() {
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &simple_conversation(), &mut ctx);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.version, HttpVersion::Http2);
    assert_eq!(e.stream, Some(1));
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.path.as_deref(), Some("/index.html"));
    assert_eq!(e.url.as_deref(), Some("https://example.com/index.html"));
    assert_eq!(e.status, Some(200));
    assert_eq!(e.request_headers, pairs(REQ));
    assert_eq!(e.response_headers, pairs(RESP));
    assert_eq!(e.request_ts, Some(ms(0)));
    assert_eq!(e.request_end_ts, Some(ms(0)));
    assert_eq!(e.response_ts, Some(ms(20)));
    assert_eq!(e.response_end_ts, Some(ms(30)));
    assert_eq!(e.ttfb_ms(), Some(20.0));
    assert_eq!(e.download_ms(), Some(10.0));
    assert_eq!(e.body_bytes, 15);
    assert_eq!(e.request_body_bytes, 0);
    assert_eq!(e.content_type.as_deref(), Some("text/html"));
    assert_eq!(e.content_encoding.as_deref(), Some("compress"));
    assert_eq!(e.decoded, Decoded::Unknown);
    assert!(e.complete);
    assert_eq!(e.reset, None);
    assert!(d.saw_preface());
    assert!(!d.headers_unknown());
    assert_eq!(d.stats().frames, [4, 5]);
    assert_eq!(d.stats().data_bytes, [0, 15]);
    assert!(d.take_finished().is_empty());
}

fn serialized(d: &Http2Dissector, ctx: &StreamCtx) -> String {
    format!("{:?}|{:?}", &d.exchanges(), ctx.warnings)
}

#[test]
fn split_at_every_offset_gives_identical_results() {
    let events = simple_conversation();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &events, &mut ctx);
    let want = serialized(&d, &ctx);
    for (i, (dir, ts, bytes)) in events.iter().enumerate() {
        for k in 0..=bytes.len() {
            let mut d = Http2Dissector::new(opts());
            let mut ctx = StreamCtx::new();
            for (j, e) in events.iter().enumerate() {
                if i == j {
                    d.handle_data(*dir, *ts, &bytes[..k], &mut ctx);
                    d.handle_data(*dir, *ts, &bytes[k..], &mut ctx);
                } else {
                    d.handle_data(e.0, e.1, &e.2, &mut ctx);
                }
            }
            assert_eq!(serialized(&d, &ctx), want, "event {i} split at {k}");
        }
    }
    // And one byte at a time.
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    for (dir, ts, bytes) in &events {
        for b in bytes.chunks(1) {
            d.handle_data(*dir, *ts, b, &mut ctx);
        }
    }
    assert_eq!(serialized(&d, &ctx), want);
}

#[test]
fn every_frame_type_is_handled() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(headers(&mut ce, 0, 1, REQ));
    c.extend(frame(0x2, 0, 1, &[0, 0, 0, 0, 15])); // PRIORITY
    c.extend(frame(0x6, 0, 0, &[1, 2, 3, 4, 5, 6, 7, 8])); // PING
    c.extend(frame(0x8, 0, 1, &[0, 0, 1, 0])); // WINDOW_UPDATE
    c.extend(frame(0xb, 0x3, 1, b"unknown type")); // unknown: skipped
    c.extend(frame(0x0, END_STREAM, 1, b"body!")); // DATA
    let mut s = settings(&[(5, 32768)]);
    s.extend(frame(0x6, ACK, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
    s.extend(frame(0xa, 0, 0, b"\x00\x0bexample.comh2=\":443\"")); // ALTSVC
    s.extend(frame(0xc, 0, 0, b"\x00\x13https://example.com")); // ORIGIN
    s.extend(headers(&mut se, END_STREAM, 1, &[(":status", "204")]));
    s.extend(frame(0x7, 0, 0, b"\x00\x00\x00\x01\x00\x00\x00\x00bye")); // GOAWAY
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(C, ms(1), c), (S, ms(2), s)], &mut ctx);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status, Some(204));
    assert_eq!(ex[0].request_body_bytes, 5);
    assert!(ex[0].complete);
    assert_eq!(d.stats().frames, [7, 6]);
    assert_eq!(d.stats().unknown_frames, 1);
    assert_eq!(
        d.goaways(),
        &[GoAway {
            dir: S,
            ts: ms(2),
            last_stream_id: 1,
            error: "NO_ERROR".into(),
            debug: "bye".into()
        }]
    );
}

#[test]
fn padding_and_priority_in_headers() {
    let mut ce = TestEncoder::new();
    let block = ce.encode(&[(b":method", b"GET"), (b":path", b"/p")]);
    let mut payload = vec![4u8, 0x80, 0, 0, 0, 200];
    payload.extend_from_slice(&block);
    payload.extend_from_slice(&[0; 4]);
    let mut c = PREFACE.to_vec();
    c.extend(frame(
        0x1,
        END_HEADERS | END_STREAM | PADDED | PRIORITY,
        1,
        &payload,
    ));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    let ex = d.exchanges();
    assert_eq!(ex[0].method.as_deref(), Some("GET"));
    assert_eq!(ex[0].path.as_deref(), Some("/p"));
    // No :scheme nor :authority: the options fill the URL.
    assert_eq!(ex[0].url.as_deref(), Some("https://fallback.example/p"));
    assert!(ctx.warnings.is_empty());
}

#[test]
fn malformed_padding_is_a_warning() {
    let mut c = PREFACE.to_vec();
    let mut se = TestEncoder::new();
    c.extend(headers(&mut TestEncoder::new(), END_STREAM, 1, REQ));
    let mut s = settings(&[]);
    s.extend(headers(&mut se, 0, 1, RESP));
    s.extend(frame(0x0, END_STREAM | PADDED, 1, &[9, 1, 2, 3])); // pad 9 > 3
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(C, ms(0), c), (S, ms(1), s)], &mut ctx);
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].kind, WarningKind::Malformed);
    let ex = d.take_finished();
    assert_eq!(ex[0].body_bytes, 0);
    assert!(ex[0].complete);
}

#[test]
fn continuation_frames_assemble_a_block() {
    let mut ce = TestEncoder::new();
    let cookie = "c".repeat(300);
    let block = ce.encode(&[
        (b":method", b"GET"),
        (b":path", b"/big"),
        (b":scheme", b"https"),
        (b":authority", b"a.example"),
        (b"cookie", cookie.as_bytes()),
    ]);
    let (a, rest) = block.split_at(10);
    let (b, c3) = rest.split_at(100);
    let mut c = PREFACE.to_vec();
    c.extend(frame(0x1, END_STREAM, 3, a));
    c.extend(frame(0x9, 0, 3, b));
    c.extend(frame(0x9, END_HEADERS, 3, c3));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(7), &c, &mut ctx);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.exchanges();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].stream, Some(3));
    assert_eq!(ex[0].url.as_deref(), Some("https://a.example/big"));
    assert_eq!(ex[0].request_headers[4], ("cookie".to_string(), cookie));
    assert_eq!(ex[0].request_end_ts, Some(ms(7)));
}

#[test]
fn interrupted_continuation_desynchronises() {
    let mut ce = TestEncoder::new();
    let block = ce.encode(&[(b":method", b"GET"), (b":path", b"/x")]);
    let mut c = PREFACE.to_vec();
    c.extend(frame(0x1, 0, 1, &block[..2]));
    c.extend(frame(0x6, 0, 0, &[0; 8])); // PING where CONTINUATION must be
    c.extend(frame(0x9, END_HEADERS, 1, &block[2..]));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    assert!(d.headers_unknown());
    assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
    assert_eq!(ctx.warnings[0].kind, WarningKind::Hpack);
    assert_eq!(d.stats().malformed_frames, 2);
}

#[test]
fn rst_stream_marks_reset_and_drains_frames_in_flight() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    c.extend(frame(0x3, 0, 1, &[0, 0, 0, 8]));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(3), &c, &mut ctx);
    assert!(d.take_finished().is_empty());
    assert_eq!(d.exchanges()[0].reset, Some(StreamReset::Http2(0x8)));
    // The server's response was already on its way.
    let s = [
        settings(&[]),
        headers(&mut se, 0, 1, RESP),
        frame(0x0, END_STREAM, 1, b"late"),
    ]
    .concat();
    d.handle_data(S, ms(4), &s, &mut ctx);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].reset, Some(StreamReset::Http2(0x8)));
    assert_eq!(ex[0].status, Some(200));
    assert_eq!(ex[0].body_bytes, 4);
    assert!(!ex[0].complete);
    // Later frames of the stream do not open it again.
    d.handle_data(S, ms(5), &frame(0x0, END_STREAM, 1, b"later"), &mut ctx);
    assert!(d.exchanges().is_empty());
    assert!(ctx.warnings.is_empty());
}

#[test]
fn draining_streams_are_bounded() {
    let mut ce = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    for i in 0..100u32 {
        c.extend(headers(
            &mut ce,
            END_STREAM,
            2 * i + 1,
            &[(":method", "GET"), (":path", "/")],
        ));
        c.extend(frame(0x3, 0, 2 * i + 1, &[0, 0, 0, 8]));
    }
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    assert_eq!(d.take_finished().len(), 36);
    assert_eq!(d.exchanges().len(), 64);
}

#[test]
fn push_promise_creates_pushed_stream() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let mut s = settings(&[]);
    let promise = se.encode(&[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.com"),
        (b":path", b"/style.css"),
    ]);
    let mut pp = vec![0, 0, 0, 2];
    pp.extend_from_slice(&promise);
    s.extend(frame(0x5, END_HEADERS, 1, &pp));
    s.extend(headers(&mut se, 0, 1, RESP));
    s.extend(frame(0x0, END_STREAM, 1, b"<html>"));
    let s2 = [
        headers(
            &mut se,
            0,
            2,
            &[(":status", "200"), ("content-type", "text/css")],
        ),
        frame(0x0, END_STREAM, 2, b"body{}"),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(
        &mut d,
        &[(C, ms(0), c), (S, ms(10), s), (S, ms(15), s2)],
        &mut ctx,
    );
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[1].stream, Some(2));
    assert_eq!(ex[1].pushed_by, Some(1));
    assert_eq!(ex[1].url.as_deref(), Some("https://example.com/style.css"));
    assert_eq!(ex[1].request_ts, Some(ms(10)));
    assert_eq!(ex[1].response_ts, Some(ms(15)));
    assert_eq!(ex[1].status, Some(200));
    assert_eq!(ex[1].body_bytes, 6);
    assert!(ex[1].complete);
}

#[test]
fn informational_response_and_trailers() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let mut s = settings(&[]);
    s.extend(headers(
        &mut se,
        0,
        1,
        &[(":status", "103"), ("link", "</a.css>")],
    ));
    let s2 = [
        headers(&mut se, 0, 1, &[(":status", "200")]),
        frame(0x0, 0, 1, b"abc"),
        headers(&mut se, END_STREAM, 1, &[("grpc-status", "0")]),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(
        &mut d,
        &[(C, ms(0), c), (S, ms(2), s), (S, ms(4), s2)],
        &mut ctx,
    );
    let ex = d.take_finished();
    assert_eq!(ex[0].status, Some(200));
    assert_eq!(ex[0].response_ts, Some(ms(4)));
    assert_eq!(
        ex[0].response_headers,
        pairs(&[(":status", "200"), ("grpc-status", "0")])
    );
    assert!(ex[0].complete);
}

#[test]
fn mid_connection_start_keeps_timings() {
    // Both encoders sent earlier blocks the capture missed.
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let _ = ce.encode(&[(b":authority", b"old.example"), (b"user-agent", b"ua")]);
    let _ = se.encode(&[(b"server", b"srv")]);
    let c = [
        frame(0x6, 0, 0, &[0; 8]),
        headers(
            &mut ce,
            END_STREAM,
            7,
            &[
                (":method", "GET"),
                (":path", "/late"),
                (":authority", "old.example"),
                ("user-agent", "ua"),
            ],
        ),
    ]
    .concat();
    let s = [
        headers(&mut se, 0, 7, &[(":status", "200"), ("server", "srv")]),
        frame(0x0, END_STREAM, 7, b"0123456789"),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(C, ms(100), c), (S, ms(150), s)], &mut ctx);
    assert!(d.mid_connection());
    assert!(d.headers_unknown());
    assert!(!ctx.warnings.is_empty());
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.path.as_deref(), Some("/late"));
    // :authority referred to a lost entry: the options fill the URL.
    assert_eq!(e.url.as_deref(), Some("https://fallback.example/late"));
    assert_eq!(e.status, Some(200));
    assert_eq!(e.request_ts, Some(ms(100)));
    assert_eq!(e.response_ts, Some(ms(150)));
    assert_eq!(e.body_bytes, 10);
    assert_eq!(d.stats().unknown_header_fields, 3);
}

#[test]
fn mid_connection_start_inside_a_frame_resynchronises() {
    let mut se = TestEncoder::new();
    let s = [
        frame(0x0, 0, 5, &[b'z'; 300]),
        headers(&mut se, 0, 9, &[(":status", "404")]),
        frame(0x0, END_STREAM, 9, b"nope"),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    // The client side shows no preface; the server side starts 100 bytes into a DATA frame.
    d.handle_data(C, ms(0), &frame(0x6, 0, 0, &[0; 8]), &mut ctx);
    d.handle_data(S, ms(1), &s[100..], &mut ctx);
    let ex = d.exchanges();
    let e = ex.iter().find(|e| e.stream == Some(9)).expect("stream 9");
    assert_eq!(e.status, Some(404));
    assert_eq!(e.body_bytes, 4);
    assert_eq!(d.stats().resyncs, 2);
    assert_eq!(d.stats().bytes_skipped, 209);
}

#[test]
fn hpack_error_keeps_stream_records() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(0x1, END_HEADERS | END_STREAM, 1, &[0xbe])); // index 62: empty table
    let mut se = TestEncoder::new();
    let mut s = settings(&[]);
    s.extend(headers(&mut se, END_STREAM, 1, &[(":status", "200")]));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(C, ms(0), c), (S, ms(9), s)], &mut ctx);
    assert!(d.headers_unknown());
    assert_eq!(d.stats().hpack_errors, 1);
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].kind, WarningKind::Hpack);
    let ex = d.take_finished();
    assert_eq!(ex[0].method, None);
    assert_eq!(ex[0].request_ts, Some(ms(0)));
    assert_eq!(ex[0].status, Some(200));
    assert_eq!(ex[0].ttfb_ms(), Some(9.0));
}

#[test]
fn oversized_frame_resynchronises() {
    let mut ce = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    // A DATA head announcing 20,000 bytes (above 16,384) with only garbage after it.
    c.extend_from_slice(&[0x00, 0x4e, 0x20, 0x0, 0x0, 0, 0, 0, 1]);
    c.extend_from_slice(&[0xee; 40]);
    c.extend(headers(
        &mut ce,
        END_STREAM,
        3,
        &[(":method", "GET"), (":path", "/after")],
    ));
    c.extend(frame(0x6, 0, 0, &[0; 8]));
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    assert!(
        ctx.warnings
            .iter()
            .any(|w| w.kind == WarningKind::Malformed),
        "{:?}",
        ctx.warnings
    );
    let ex = d.exchanges();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].path.as_deref(), Some("/after"));
    assert_eq!(d.stats().resyncs, 1);
}

#[test]
fn gap_inside_data_keeps_framing() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let s = [
        settings(&[]),
        headers(&mut se, 0, 1, RESP),
        frame(0x0, END_STREAM, 1, &[7; 1000]),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    let cut = s.len() - 600;
    d.handle_data(S, ms(1), &s[..cut], &mut ctx);
    d.handle_gap(S, 500, ms(2), &mut ctx);
    d.handle_data(S, ms(3), &s[cut + 500..], &mut ctx);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].body_bytes, 1000);
    assert_eq!(ex[0].response_end_ts, Some(ms(3)));
    assert!(!ex[0].complete);
    assert!(!d.headers_unknown());
}

#[test]
fn gap_across_frames_resynchronises() {
    let mut ce = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let lost = headers(
        &mut ce,
        END_STREAM,
        3,
        &[(":method", "GET"), (":path", "/lost")],
    );
    let after = [
        headers(
            &mut ce,
            END_STREAM,
            5,
            &[(":method", "GET"), (":path", "/five")],
        ),
        frame(0x6, 0, 0, &[0; 8]),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    d.handle_gap(C, lost.len() as u64 + 3, ms(1), &mut ctx);
    d.handle_data(C, ms(2), &after, &mut ctx);
    let ex = d.exchanges();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[1].path.as_deref(), Some("/five"));
    assert!(ctx.warnings.iter().any(|w| w.kind == WarningKind::Gap));
}

#[test]
fn h2c_after_upgrade() {
    let upgrade = Exchange {
        version: HttpVersion::Http11,
        method: Some("GET".into()),
        path: Some("/eicar".into()),
        url: Some("http://127.0.0.1:8080/eicar".into()),
        status: Some(101),
        request_ts: Some(ms(0)),
        request_end_ts: Some(ms(0)),
        response_ts: Some(ms(1)),
        request_headers: vec![
            ("Host".into(), "127.0.0.1:8080".into()),
            ("HTTP2-Settings".into(), "AAMAAABkAAQCAAAAAAIAAAAA".into()),
        ],
        upgrade: Some(crate::dissect::http::SwitchProtocol::H2c),
        ..Exchange::default()
    };
    let mut se = TestEncoder::new();
    let c = [PREFACE.to_vec(), settings(&[])].concat();
    let s = [
        settings(&[]),
        headers(
            &mut se,
            0,
            1,
            &[(":status", "206"), ("content-range", "bytes 0-10/69")],
        ),
        frame(0x0, END_STREAM, 1, b"0123456789a"),
    ]
    .concat();
    let mut d = Http2Dissector::new_after_upgrade(
        Http2Options {
            scheme: "http".into(),
            authority: None,
            body_hash: false,
        },
        upgrade,
    );
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(S, ms(2), s), (C, ms(3), c)], &mut ctx);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.take_finished();
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.version, HttpVersion::Http2);
    assert_eq!(e.stream, Some(1));
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.status, Some(206));
    assert_eq!(e.response_ts, Some(ms(2)));
    assert_eq!(e.ttfb_ms(), Some(2.0));
    assert_eq!(e.body_bytes, 11);
    assert_eq!(e.upgrade, None);
    assert!(e.complete);
}

#[test]
fn doh_get_and_post_messages() {
    let query = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
                  \x03www\x07example\x03com\x00\x00\x01\x00\x01";
    let answer = [
        &query[..],
        b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd8\x22",
    ]
    .concat();
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let c = [
        PREFACE.to_vec(),
        headers(
            &mut ce,
            END_STREAM,
            1,
            &[
                (":method", "GET"),
                (
                    ":path",
                    "/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB",
                ),
                ("accept", "application/dns-message"),
            ],
        ),
        headers(
            &mut ce,
            0,
            3,
            &[
                (":method", "POST"),
                (":path", "/dns-query"),
                ("content-type", "application/dns-message"),
            ],
        ),
        frame(0x0, END_STREAM, 3, query),
    ]
    .concat();
    let resp = [
        (":status", "200"),
        ("content-type", "application/dns-message"),
    ];
    let s = [
        settings(&[]),
        headers(&mut se, 0, 1, &resp),
        frame(0x0, END_STREAM, 1, &answer),
        headers(&mut se, 0, 3, &resp),
        frame(0x0, 0, 3, &answer[..10]),
        frame(0x0, END_STREAM, 3, &answer[10..]),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    run(&mut d, &[(C, ms(0), c), (S, ms(8), s)], &mut ctx);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let m = d.take_doh_messages();
    assert_eq!(m.len(), 4);
    assert_eq!(
        m[0],
        DohMessage {
            dir: C,
            ts: ms(0),
            exchange: 1,
            bytes: query.to_vec()
        }
    );
    assert_eq!(
        m[1],
        DohMessage {
            dir: C,
            ts: ms(0),
            exchange: 3,
            bytes: query.to_vec()
        }
    );
    assert_eq!(
        m[2],
        DohMessage {
            dir: S,
            ts: ms(8),
            exchange: 1,
            bytes: answer.clone()
        }
    );
    assert_eq!(
        m[3],
        DohMessage {
            dir: S,
            ts: ms(8),
            exchange: 3,
            bytes: answer.clone()
        }
    );
    assert!(d.take_doh_messages().is_empty());
}

#[test]
fn stream_table_is_bounded() {
    let mut ce = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    for i in 0..(MAX_ACTIVE_STREAMS as u32 + 5) {
        c.extend(headers(
            &mut ce,
            0,
            2 * i + 1,
            &[(":method", "POST"), (":path", "/up")],
        ));
    }
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    assert_eq!(d.stats().streams_dropped, 5);
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(d.exchanges().len(), MAX_ACTIVE_STREAMS);
    d.handle_close(ms(1), &mut ctx);
    let ex = d.take_finished();
    assert_eq!(ex.len(), MAX_ACTIVE_STREAMS);
    assert!(ex.iter().all(|e| !e.complete));
    assert_eq!(ex[0].stream, Some(1));
}

#[test]
fn close_inside_a_frame_counts_what_arrived() {
    let mut ce = TestEncoder::new();
    let mut se = TestEncoder::new();
    let mut c = PREFACE.to_vec();
    c.extend(headers(&mut ce, END_STREAM, 1, REQ));
    let s = [
        settings(&[]),
        headers(&mut se, 0, 1, RESP),
        frame(0x0, END_STREAM, 1, &[1; 100]),
    ]
    .concat();
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    d.handle_data(S, ms(1), &s[..s.len() - 40], &mut ctx);
    d.handle_close(ms(2), &mut ctx);
    let ex = d.take_finished();
    assert_eq!(ex[0].body_bytes, 60);
    assert!(!ex[0].complete);
    assert_eq!(ex[0].response_end_ts, None);
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].kind, WarningKind::Truncated);
}

#[test]
fn looks_like_http2_by_content() {
    assert!(looks_like_http2(C, PREFACE));
    assert!(looks_like_http2(C, b"PRI * HT"));
    assert!(!looks_like_http2(C, b"PRI"));
    assert!(!looks_like_http2(C, b"POST / HTTP/1.1\r\n"));
    assert!(looks_like_http2(S, &settings(&[(3, 100)])));
    assert!(looks_like_http2(S, &frame(0x4, 0, 0, &[])));
    assert!(!looks_like_http2(S, &frame(0x4, 0, 1, &[])));
    assert!(!looks_like_http2(S, b"HTTP/1.1 200 OK\r\n"));
    assert!(!looks_like_http2(S, &[0, 0, 0, 4]));
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn garbage_after_preface_gives_up_on_that_direction() {
    let mut next = xorshift(99);
    let mut d = Http2Dissector::new(opts());
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), PREFACE, &mut ctx);
    // Bytes that never form two chained plausible heads: a run of 0xff.
    let junk = vec![0xffu8; 64 * 1024];
    for _ in 0..80 {
        d.handle_data(C, ms(1), &junk, &mut ctx);
    }
    assert!(
        ctx.warnings.iter().any(|w| w.message.contains("giving up")),
        "{:?}",
        ctx.warnings
    );
    // Random bytes on the server side never panic.
    for _ in 0..200 {
        let v: Vec<u8> = (0..(next() % 3000)).map(|_| next() as u8).collect();
        d.handle_data(S, ms(2), &v, &mut ctx);
    }
    d.handle_close(ms(3), &mut ctx);
}

#[test]
fn random_bytes_splits_and_gaps_never_panic() {
    let mut next = xorshift(0x5eed);
    let base: Vec<u8> = simple_conversation()
        .into_iter()
        .flat_map(|e| e.2)
        .collect();
    for round in 0..3000 {
        let mut d = Http2Dissector::new(opts());
        let mut ctx = StreamCtx::new();
        for _ in 0..(next() % 12) {
            let dir = if next().is_multiple_of(2) { C } else { S };
            let v: Vec<u8> = if round % 3 == 0 {
                // Mutated real frames.
                let mut v = base.clone();
                for _ in 0..(next() % 8) {
                    let i = (next() as usize) % v.len();
                    v[i] = next() as u8;
                }
                let a = (next() as usize) % v.len();
                v[a..].to_vec()
            } else {
                (0..(next() % 600)).map(|_| next() as u8).collect()
            };
            match next() % 5 {
                0 => d.handle_gap(dir, next() % 5000, ms(1), &mut ctx),
                _ => d.handle_data(dir, ms(1), &v, &mut ctx),
            }
        }
        let _ = d.exchanges();
        d.handle_close(ms(2), &mut ctx);
        let _ = d.take_finished();
        let _ = d.take_doh_messages();
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// The request HEADERS of stream `id` from the client, and the response's with
/// `content-encoding: coding` from the server.
fn coded_stream(
    enc: &mut [TestEncoder; 2],
    id: u32,
    coding: &str,
    c: &mut Vec<u8>,
    s: &mut Vec<u8>,
) {
    c.extend(headers(&mut enc[0], END_STREAM, id, REQ));
    let resp = [(":status", "200"), ("content-encoding", coding)];
    s.extend(headers(&mut enc[1], 0, id, &resp));
}

/// Two streams' coded bodies interleaved, in DATA frames of a few hundred bytes, padded
/// ones among them: each decodes to its content, and is hashed as transferred.
#[test]
fn gzip_body_decoded_across_frames_and_interleaved_streams() {
    let plain: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("line {} of the page\n", i % 97).into_bytes())
        .collect();
    let one = gzip(&plain);
    let three = zstd::encode_all(&plain[..50_000], 3).unwrap();
    let mut enc = [TestEncoder::new(), TestEncoder::new()];
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    let mut s = settings(&[]);
    coded_stream(&mut enc, 1, "gzip", &mut c, &mut s);
    coded_stream(&mut enc, 3, "zstd", &mut c, &mut s);
    let (mut a, mut b) = (one.chunks(300).peekable(), three.chunks(200).peekable());
    while a.peek().is_some() || b.peek().is_some() {
        if let Some(p) = a.next() {
            let end = if a.peek().is_none() { END_STREAM } else { 0 };
            let mut padded = vec![2u8];
            padded.extend_from_slice(p);
            padded.extend_from_slice(&[0, 0]);
            s.extend(frame(0x0, end | PADDED, 1, &padded));
        }
        if let Some(p) = b.next() {
            let end = if b.peek().is_none() { END_STREAM } else { 0 };
            s.extend(frame(0x0, end, 3, p));
        }
    }
    let mut d = Http2Dissector::new(Http2Options {
        body_hash: true,
        ..opts()
    });
    let mut ctx = StreamCtx::new();
    d.handle_data(C, ms(0), &c, &mut ctx);
    for piece in s.chunks(97) {
        d.handle_data(S, ms(1), piece, &mut ctx);
    }
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let ex = d.take_finished();
    let got: Vec<_> = ex
        .iter()
        .map(|e| (e.stream, e.body_bytes, e.decoded))
        .collect();
    let whole = |n: usize| Decoded::Bytes {
        bytes: n as u64,
        stop: None,
    };
    assert_eq!(
        got,
        [
            (Some(1), one.len() as u64, whole(plain.len())),
            (Some(3), three.len() as u64, whole(50_000)),
        ]
    );
    use sha2::Digest;
    let hex = crate::dissect::tls::fingerprint::hex(&sha2::Sha256::digest(&one));
    assert_eq!(ex[0].body_sha256, Some(hex), "hashed as transferred");
}

/// A gap inside a DATA frame stops the decoding there, quietly; a stream reset mid-body is
/// truncated without a warning of its own.
#[test]
fn gzip_body_cut_by_loss_or_reset_is_truncated() {
    let plain = vec![b'a'; 100_000];
    let body = gzip(&plain);
    for reset in [false, true] {
        let mut enc = [TestEncoder::new(), TestEncoder::new()];
        let mut d = Http2Dissector::new(opts());
        let mut ctx = StreamCtx::new();
        let mut c = PREFACE.to_vec();
        c.extend(settings(&[]));
        let mut s = settings(&[]);
        coded_stream(&mut enc, 1, "gzip", &mut c, &mut s);
        d.handle_data(C, ms(0), &c, &mut ctx);
        let half = body.len() / 2;
        s.extend(frame(0x0, 0, 1, &body[..half]));
        d.handle_data(S, ms(1), &s, &mut ctx);
        let rest = frame(0x0, END_STREAM, 1, &body[half..]);
        if reset {
            d.handle_data(S, ms(2), &frame(0x3, 0, 1, &[0, 0, 0, 8]), &mut ctx);
            d.handle_data(C, ms(2), &frame(0x3, 0, 1, &[0, 0, 0, 8]), &mut ctx);
        } else {
            d.handle_data(S, ms(2), &rest[..20], &mut ctx);
            d.handle_gap(S, 10, ms(2), &mut ctx);
            d.handle_data(S, ms(2), &rest[30..], &mut ctx);
        }
        d.handle_close(ms(3), &mut ctx);
        let ex = d.take_finished();
        let Decoded::Bytes {
            bytes,
            stop: Some(DecodeStop::Truncated),
        } = ex[0].decoded
        else {
            panic!("reset {reset}: {:?}", ex[0].decoded);
        };
        assert!(bytes > 0 && bytes < plain.len() as u64, "{bytes}");
        assert!(
            ctx.warnings
                .iter()
                .all(|w| w.kind != WarningKind::Truncated),
            "{:?}",
            ctx.warnings
        );
    }
}

/// Feeds `bytes` as a decryptor reading records in parts does: what
/// [`Http2Dissector::skippable`] allows is skipped, the rest given `window` bytes at a time.
/// Returns the bytes skipped.
fn feed_skipping(
    d: &mut Http2Dissector,
    dir: Dir,
    ts: Ts,
    bytes: &[u8],
    window: usize,
    ctx: &mut StreamCtx,
) -> u64 {
    let (mut pos, mut skipped) = (0, 0);
    while pos < bytes.len() {
        let left = bytes.len() - pos;
        let s = d.skippable(dir).unwrap().min(left as u64);
        if s > 0 {
            d.skip(dir, ts, s, ctx);
            pos += s as usize;
            skipped += s;
            continue;
        }
        let end = pos + window.min(left);
        d.handle_data(dir, ts, &bytes[pos..end], ctx);
        pos = end;
    }
    skipped
}

/// Bodies counted only (identity, no hash), decoded (gzip), padded, a frame of an unknown
/// type skipped whole: skipping what the dissector only counts gives what reading it does.
#[test]
fn skipping_what_it_only_counts_gives_identical_results() {
    let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let gz = gzip(&big);
    let mut enc = [TestEncoder::new(), TestEncoder::new()];
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    let mut s = settings(&[]);
    coded_stream(&mut enc, 1, "identity", &mut c, &mut s);
    coded_stream(&mut enc, 3, "gzip", &mut c, &mut s);
    coded_stream(&mut enc, 5, "identity", &mut c, &mut s);
    let (mut a, mut b) = (big.chunks(16000).peekable(), gz.chunks(5000).peekable());
    while a.peek().is_some() || b.peek().is_some() {
        if let Some(p) = a.next() {
            let end = if a.peek().is_none() { END_STREAM } else { 0 };
            s.extend(frame(0x0, end, 1, p));
            let mut padded = vec![7u8];
            padded.extend_from_slice(p);
            padded.extend_from_slice(&[0; 7]);
            s.extend(frame(0x0, end | PADDED, 5, &padded));
        }
        if let Some(p) = b.next() {
            let end = if b.peek().is_none() { END_STREAM } else { 0 };
            s.extend(frame(0x0, end, 3, p));
            // An extension frame, skipped whole.
            s.extend(frame(0xfa, 0, 0, &[9; 3000]));
        }
    }
    let run = |skip: bool, cut: usize, window: usize| {
        let mut d = Http2Dissector::new(opts());
        let mut ctx = StreamCtx::new();
        let mut skipped = 0;
        for (dir, bytes) in [(C, &c), (S, &s)] {
            for (i, part) in bytes.chunks(cut).enumerate() {
                if skip {
                    skipped += feed_skipping(&mut d, dir, ms(i as i64), part, window, &mut ctx);
                } else {
                    for w in part.chunks(window) {
                        d.handle_data(dir, ms(i as i64), w, &mut ctx);
                    }
                }
            }
        }
        d.handle_close(ms(999), &mut ctx);
        let out = format!(
            "{:?}\n{:?}\n{:?}",
            d.take_finished(),
            ctx.warnings,
            d.stats()
        );
        (out, skipped)
    };
    // With --body-hash every body byte is read: nothing is offered.
    let hashing = Http2Dissector::new(Http2Options {
        body_hash: true,
        ..opts()
    });
    assert_eq!(hashing.skippable(S), None);
    for cut in [1, 1448, 16384, 1 << 20] {
        for window in [1, 9, 512] {
            let (whole, _) = run(false, cut, window);
            let (parts, skipped) = run(true, cut, window);
            assert_eq!(parts, whole, "cut {cut}, window {window}");
            assert!(
                whole.contains("decoded: Bytes { bytes: 40000, stop: None }"),
                "{whole}"
            );
            // The two identity bodies and the extension frames, less what the windows
            // took before each was known to be skippable.
            assert!(skipped > 60_000, "cut {cut}, window {window}: {skipped}");
        }
    }
}
