//! HTTP/3 frames from byte arrays: every frame, split at every byte boundary, truncated,
//! grease, caps, gaps.

use super::*;

/// Minimal varint encoding (RFC 9000 16).
fn v(x: u64) -> Vec<u8> {
    if x < 1 << 6 {
        vec![x as u8]
    } else if x < 1 << 14 {
        ((x as u16) | 0x4000).to_be_bytes().to_vec()
    } else if x < 1 << 30 {
        ((x as u32) | 0x8000_0000).to_be_bytes().to_vec()
    } else {
        (x | 0xc000_0000_0000_0000).to_be_bytes().to_vec()
    }
}

fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    [v(ty), v(payload.len() as u64), payload.to_vec()].concat()
}

/// Events with their data copied out; consecutive Data and Raw pieces merged so that
/// different splits compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    StreamType(UniStreamType),
    PushId(u64),
    Head(FrameType, u64),
    Data(Vec<u8>),
    DataGap(u64),
    Headers(Vec<u8>),
    CancelPush(u64),
    Settings(Vec<Setting>),
    PushPromise(u64, Vec<u8>),
    Goaway(u64),
    MaxPushId(u64),
    Priority(bool, u64, Vec<u8>),
    Malformed(FrameType, H3FrameError),
    Oversize(FrameType, u64),
    Lost(FrameType),
    Raw(Vec<u8>),
    RawGap(u64),
    Desynced(u64),
    Truncated(Option<FrameType>),
}

fn push(out: &mut Vec<Ev>, e: H3Event<'_>) {
    let ev = match e {
        H3Event::StreamType(t) => Ev::StreamType(t),
        H3Event::PushId(id) => Ev::PushId(id),
        H3Event::FrameHead { ty, len } => Ev::Head(ty, len),
        H3Event::Data(b) => {
            if let Some(Ev::Data(d)) = out.last_mut() {
                d.extend_from_slice(b);
                return;
            }
            Ev::Data(b.to_vec())
        }
        H3Event::DataGap(n) => Ev::DataGap(n),
        H3Event::Frame(f) => match f {
            H3Frame::Headers { field_section } => Ev::Headers(field_section.to_vec()),
            H3Frame::CancelPush { push_id } => Ev::CancelPush(push_id),
            H3Frame::Settings(s) => Ev::Settings(s.iter().collect()),
            H3Frame::PushPromise {
                push_id,
                field_section,
            } => Ev::PushPromise(push_id, field_section.to_vec()),
            H3Frame::Goaway { id } => Ev::Goaway(id),
            H3Frame::MaxPushId { push_id } => Ev::MaxPushId(push_id),
            H3Frame::PriorityUpdate {
                push,
                element_id,
                priority_field,
            } => Ev::Priority(push, element_id, priority_field.to_vec()),
        },
        H3Event::Malformed { ty, error } => Ev::Malformed(ty, error),
        H3Event::Oversize { ty, len } => Ev::Oversize(ty, len),
        H3Event::FrameLost { ty } => Ev::Lost(ty),
        H3Event::Raw(b) => {
            if let Some(Ev::Raw(d)) = out.last_mut() {
                d.extend_from_slice(b);
                return;
            }
            Ev::Raw(b.to_vec())
        }
        H3Event::RawGap(n) => Ev::RawGap(n),
        H3Event::Desynced { lost } => Ev::Desynced(lost),
        H3Event::Truncated { ty } => Ev::Truncated(ty),
    };
    out.push(ev);
}

fn read(mut r: FrameReader, pieces: &[&[u8]], finish: bool) -> (Vec<Ev>, FrameReader) {
    let mut out = Vec::new();
    for p in pieces {
        r.feed(p, &mut |e| push(&mut out, e));
    }
    if finish {
        r.finish(&mut |e| push(&mut out, e));
    }
    (out, r)
}

fn request() -> FrameReader {
    FrameReader::request(FrameLimits::default())
}

fn uni() -> FrameReader {
    FrameReader::unidirectional(FrameLimits::default())
}

/// A request stream: HEADERS, DATA, grease, unknown, empty DATA, trailers, PUSH_PROMISE.
/// Returns the bytes and the offsets where frames end.
fn request_stream() -> (Vec<u8>, Vec<usize>) {
    let frames = [
        frame(0x01, b"hdrs!"),
        frame(0x00, b"hello world"),
        frame(0x21, b"gre"),
        frame(0x1f * 7 + 0x21, b""),
        frame(0x0a, b"??"),
        frame(0x00, b""),
        frame(0x01, b"tr"),
        frame(0x05, &[v(3), b"ab".to_vec()].concat()),
    ];
    let mut bytes = Vec::new();
    let mut ends = vec![0];
    for f in frames {
        bytes.extend(f);
        ends.push(bytes.len());
    }
    (bytes, ends)
}

fn request_events() -> Vec<Ev> {
    vec![
        Ev::Head(FrameType::Headers, 5),
        Ev::Headers(b"hdrs!".to_vec()),
        Ev::Head(FrameType::Data, 11),
        Ev::Data(b"hello world".to_vec()),
        Ev::Head(FrameType::Reserved(0x21), 3),
        Ev::Head(FrameType::Reserved(0x1f * 7 + 0x21), 0),
        Ev::Head(FrameType::Unknown(0x0a), 2),
        Ev::Head(FrameType::Data, 0),
        Ev::Head(FrameType::Headers, 2),
        Ev::Headers(b"tr".to_vec()),
        Ev::Head(FrameType::PushPromise, 3),
        Ev::PushPromise(3, b"ab".to_vec()),
    ]
}

/// A control stream: type, SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH, PRIORITY_UPDATEs.
fn control_stream() -> Vec<u8> {
    let settings = [
        v(0x01),
        v(4096),
        v(0x06),
        v(16384),
        v(0x07),
        v(16),
        v(0x08),
        v(1),
        v(0x33),
        v(1),
        v(0x21 + 0x1f * 1000),
        v(5),
        v(0x4242),
        v(7),
    ]
    .concat();
    [
        v(0x00),
        frame(0x04, &settings),
        frame(0x07, &v(8)),
        frame(0x0d, &v(100)),
        frame(0x03, &v(2)),
        frame(0xf0700, &[v(4), b"u=1, i".to_vec()].concat()),
        frame(0xf0701, &v(9)),
    ]
    .concat()
}

fn control_events() -> Vec<Ev> {
    vec![
        Ev::StreamType(UniStreamType::Control),
        Ev::Head(FrameType::Settings, 24),
        Ev::Settings(vec![
            Setting::QpackMaxTableCapacity(4096),
            Setting::MaxFieldSectionSize(16384),
            Setting::QpackBlockedStreams(16),
            Setting::EnableConnectProtocol(1),
            Setting::H3Datagram(1),
            Setting::Unknown {
                id: 0x21 + 0x1f * 1000,
                value: 5,
            },
            Setting::Unknown {
                id: 0x4242,
                value: 7,
            },
        ]),
        Ev::Head(FrameType::Goaway, 1),
        Ev::Goaway(8),
        Ev::Head(FrameType::MaxPushId, 2),
        Ev::MaxPushId(100),
        Ev::Head(FrameType::CancelPush, 1),
        Ev::CancelPush(2),
        Ev::Head(FrameType::PriorityUpdateRequest, 7),
        Ev::Priority(false, 4, b"u=1, i".to_vec()),
        Ev::Head(FrameType::PriorityUpdatePush, 1),
        Ev::Priority(true, 9, Vec::new()),
    ]
}

#[test]
fn request_stream_frames() {
    let (bytes, _) = request_stream();
    let (ev, r) = read(request(), &[&bytes], true);
    assert_eq!(ev, request_events());
    let s = r.stats();
    assert_eq!(s.frames, 8);
    assert_eq!(s.data_bytes, 11);
    assert_eq!(s.reserved_frames, 2);
    assert_eq!(s.unknown_frames, 1);
    assert_eq!(s.skipped_bytes, 5);
}

#[test]
fn control_stream_frames_and_settings() {
    let bytes = control_stream();
    let (ev, _) = read(uni(), &[&bytes], true);
    assert_eq!(ev, control_events());
    // The summary of that SETTINGS frame.
    let mut settings = None;
    uni().feed(&bytes, &mut |e| {
        if let H3Event::Frame(H3Frame::Settings(s)) = e {
            settings = Some(s.settings());
        }
    });
    let s = settings.unwrap();
    assert_eq!(s.qpack_max_table_capacity, Some(4096));
    assert_eq!(s.max_field_section_size, Some(16384));
    assert_eq!(s.qpack_blocked_streams, Some(16));
    assert_eq!(s.enable_connect_protocol, Some(1));
    assert_eq!(s.h3_datagram, Some(1));
    assert_eq!(s.unknown, vec![(0x4242, 7)]);
    assert_eq!(s.reserved, 1);
    assert_eq!((s.duplicates, s.http2_only), (0, 0));
}

#[test]
fn settings_duplicates_http2_ids_and_caps() {
    let mut payload = [v(0x01), v(1), v(0x01), v(2), v(0x02), v(0), v(0x00), v(0)].concat();
    for id in 0..40u64 {
        payload.extend([v(0x1000 + id), v(id)].concat());
    }
    let s = SettingsFrame::new(&payload).unwrap().settings();
    assert_eq!(
        s.qpack_max_table_capacity,
        Some(1),
        "the first value is kept"
    );
    assert_eq!(s.duplicates, 1);
    assert_eq!(s.http2_only, 2);
    assert_eq!(s.unknown.len(), MAX_UNKNOWN_SETTINGS);
    // 0x02, 0x00 and 40 more, of which 0x101d (0x1f * 132 + 0x21) is grease.
    assert_eq!(s.reserved, 1);
    assert_eq!(s.unknown_dropped as usize, 41 - MAX_UNKNOWN_SETTINGS);
    assert!(Setting::Unknown { id: 3, value: 0 }.is_http2_only());
    assert!(!Setting::H3Datagram(1).is_http2_only());
    // An identifier without its value.
    assert_eq!(
        SettingsFrame::new(&v(0x06)),
        Err(H3FrameError::Truncated(FrameType::Settings))
    );
    assert_eq!(SettingsFrame::new(&[]).unwrap().iter().count(), 0);
}

#[test]
fn push_qpack_and_grease_unidirectional_streams() {
    let push = [v(0x01), v(7), frame(0x01, b"h"), frame(0x00, b"body")].concat();
    let (ev, _) = read(uni(), &[&push], true);
    assert_eq!(
        ev,
        vec![
            Ev::StreamType(UniStreamType::Push),
            Ev::PushId(7),
            Ev::Head(FrameType::Headers, 1),
            Ev::Headers(b"h".to_vec()),
            Ev::Head(FrameType::Data, 4),
            Ev::Data(b"body".to_vec()),
        ]
    );
    for (ty, t) in [
        (0x02, UniStreamType::QpackEncoder),
        (0x03, UniStreamType::QpackDecoder),
        (0x21 + 0x1f, UniStreamType::Reserved(0x40)),
        (0x54, UniStreamType::Unknown(0x54)),
    ] {
        let bytes = [v(ty), b"\x3f\xe1\x1f instructions".to_vec()].concat();
        let (ev, _) = read(uni(), &[&bytes[..2], &bytes[2..]], true);
        assert_eq!(
            ev,
            vec![
                Ev::StreamType(t),
                Ev::Raw(b"\x3f\xe1\x1f instructions".to_vec())
            ]
        );
        assert_eq!(t.value(), ty);
        assert_eq!(UniStreamType::from_u64(ty), t);
    }
    assert_eq!(UniStreamType::Control.name(), "control");
}

#[test]
fn split_at_every_byte_boundary() {
    let (req, _) = request_stream();
    let ctl = control_stream();
    for (bytes, make, expect) in [
        (&req, request as fn() -> FrameReader, request_events()),
        (&ctl, uni as fn() -> FrameReader, control_events()),
    ] {
        for i in 0..=bytes.len() {
            let (ev, r) = read(make(), &[&bytes[..i], &bytes[i..]], true);
            assert_eq!(ev, expect, "split at {i}");
            assert_eq!(r.buffered(), 0);
        }
        // Three pieces, and one byte at a time.
        for i in 0..bytes.len() {
            for j in i..=bytes.len() {
                let (ev, _) = read(make(), &[&bytes[..i], &bytes[i..j], &bytes[j..]], true);
                assert_eq!(ev, expect, "split at {i} and {j}");
            }
        }
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        let (ev, _) = read(make(), &pieces, true);
        assert_eq!(ev, expect);
    }
}

#[test]
fn truncated_streams() {
    let (bytes, ends) = request_stream();
    for cut in 0..bytes.len() {
        let (ev, _) = read(request(), &[&bytes[..cut]], true);
        let truncated = matches!(ev.last(), Some(Ev::Truncated(_)));
        assert_eq!(truncated, !ends.contains(&cut), "cut {cut}: {ev:?}");
        // Everything before the cut frame is as in the whole stream.
        let whole = request_events();
        let n = ev.len() - usize::from(truncated);
        for (a, b) in ev[..n].iter().zip(&whole) {
            match (a, b) {
                (Ev::Data(x), Ev::Data(y)) => assert!(y.starts_with(x)),
                _ => assert_eq!(a, b, "cut {cut}"),
            }
        }
    }
    // Inside a frame head, the type is said when known.
    let (ev, _) = read(request(), &[&[0x01]], true);
    assert_eq!(ev, vec![Ev::Truncated(Some(FrameType::Headers))]);
    let (ev, _) = read(request(), &[&[0x40]], true);
    assert_eq!(ev, vec![Ev::Truncated(None)]);
    let (ev, _) = read(uni(), &[&[]], true);
    assert!(
        ev.is_empty(),
        "an empty unidirectional stream is not truncated"
    );
    // After the end nothing more is read.
    let (ev, r) = read(request(), &[], true);
    let mut r = r;
    let mut more = Vec::new();
    r.feed(&frame(0x00, b"x"), &mut |e| push(&mut more, e));
    assert!(ev.is_empty() && more.is_empty());
    assert_eq!(r.stats().ignored_bytes, 3);
}

#[test]
fn oversize_frames_are_skipped_and_data_is_never_buffered() {
    let limits = FrameLimits {
        max_field_section: 4,
        max_frame: 1,
    };
    let bytes = [
        frame(0x01, b"12345"),
        frame(0x07, &v(100)),
        frame(0x00, b"ok"),
        frame(0x01, b"1234"),
    ]
    .concat();
    let (ev, r) = read(FrameReader::request(limits), &[&bytes], true);
    assert_eq!(
        ev,
        vec![
            Ev::Head(FrameType::Headers, 5),
            Ev::Oversize(FrameType::Headers, 5),
            Ev::Head(FrameType::Goaway, 2),
            Ev::Oversize(FrameType::Goaway, 2),
            Ev::Head(FrameType::Data, 2),
            Ev::Data(b"ok".to_vec()),
            Ev::Head(FrameType::Headers, 4),
            Ev::Headers(b"1234".to_vec()),
        ]
    );
    assert_eq!(r.stats().oversize, 2);
    // A huge DATA frame fed in pieces: handed on as it comes, nothing held.
    let mut r = request();
    let head = [v(0x00), v(1 << 40)].concat();
    let mut n = 0u64;
    r.feed(&head, &mut |_| {});
    let piece = vec![0xab; 4096];
    for _ in 0..100 {
        r.feed(&piece, &mut |e| {
            if let H3Event::Data(b) = e {
                assert!(std::ptr::eq(b.as_ptr(), piece.as_ptr()));
                n += b.len() as u64;
            }
        });
        assert_eq!(r.buffered(), 0);
    }
    assert_eq!(n, 409_600);
    // A frame length of 2^62-1 skips without overflow.
    let bytes = [v(0x21), v((1 << 62) - 1), b"xyz".to_vec()].concat();
    let (_, r) = read(request(), &[&bytes], true);
    assert_eq!(r.stats().skipped_bytes, 3);
}

#[test]
fn malformed_payloads_do_not_stop_the_stream() {
    let bytes = [
        v(0x00),
        frame(0x07, &[v(8), vec![0]].concat()), // trailing byte
        frame(0x03, b""),                       // no push id
        frame(0x04, &v(0x06)),                  // setting without value
        frame(0x05, b""),                       // PUSH_PROMISE without push id
        frame(0xf0700, b""),                    // PRIORITY_UPDATE without element id
        frame(0x06, b"pingpong"),               // HTTP/2 PING
        frame(0x07, &v(4)),
    ]
    .concat();
    let (ev, r) = read(uni(), &[&bytes], true);
    let malformed: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Ev::Malformed(_, err) => Some(*err),
            _ => None,
        })
        .collect();
    assert_eq!(
        malformed,
        vec![
            H3FrameError::TrailingBytes(FrameType::Goaway),
            H3FrameError::Truncated(FrameType::CancelPush),
            H3FrameError::Truncated(FrameType::Settings),
            H3FrameError::Truncated(FrameType::PushPromise),
            H3FrameError::Truncated(FrameType::PriorityUpdateRequest),
        ]
    );
    assert_eq!(ev.last(), Some(&Ev::Goaway(4)));
    assert_eq!(r.stats().malformed, 5);
    assert_eq!(r.stats().http2_frames, 1);
    assert!(malformed[0].to_string().contains("GOAWAY"));
    assert_eq!(
        parse_payload(FrameType::Data, b""),
        Err(H3FrameError::NotBuffered(FrameType::Data))
    );
}

#[test]
fn gaps() {
    // Inside DATA: a DataGap, then the rest of the payload and the next frame.
    let bytes = [frame(0x00, b"0123456789"), frame(0x01, b"hh")].concat();
    let mut out = Vec::new();
    let mut r = request();
    r.feed(&bytes[..4], &mut |e| push(&mut out, e));
    r.gap(5, &mut |e| push(&mut out, e));
    r.feed(&bytes[9..], &mut |e| push(&mut out, e));
    assert_eq!(
        out,
        vec![
            Ev::Head(FrameType::Data, 10),
            Ev::Data(b"01".to_vec()),
            Ev::DataGap(5),
            Ev::Data(b"789".to_vec()),
            Ev::Head(FrameType::Headers, 2),
            Ev::Headers(b"hh".to_vec()),
        ]
    );
    // Inside HEADERS: the frame is lost, the next one is read.
    let bytes = [frame(0x01, b"abcdef"), frame(0x00, b"z")].concat();
    let mut out = Vec::new();
    let mut r = request();
    r.feed(&bytes[..4], &mut |e| push(&mut out, e));
    r.gap(2, &mut |e| push(&mut out, e));
    assert_eq!(r.buffered(), 0);
    r.feed(&bytes[6..], &mut |e| push(&mut out, e));
    assert_eq!(
        out,
        vec![
            Ev::Head(FrameType::Headers, 6),
            Ev::Lost(FrameType::Headers),
            Ev::Head(FrameType::Data, 1),
            Ev::Data(b"z".to_vec()),
        ]
    );
    // A gap that runs past the end of a DATA payload into the next head: desynced.
    let mut out = Vec::new();
    let mut r = request();
    r.feed(&frame(0x00, b"0123")[..3], &mut |e| push(&mut out, e));
    r.gap(10, &mut |e| push(&mut out, e));
    r.feed(&frame(0x01, b"x"), &mut |e| push(&mut out, e));
    r.gap(1, &mut |e| push(&mut out, e));
    r.finish(&mut |e| push(&mut out, e));
    assert_eq!(
        out,
        vec![
            Ev::Head(FrameType::Data, 4),
            Ev::Data(b"0".to_vec()),
            Ev::DataGap(3),
            Ev::Desynced(7),
        ]
    );
    assert_eq!(r.stats().ignored_bytes, 3);
    assert_eq!(r.stats().gap_bytes, 11);
    // At a frame boundary a gap desyncs too (what was lost may hold frame heads).
    let mut out = Vec::new();
    let mut r = uni();
    r.gap(1, &mut |e| push(&mut out, e));
    assert_eq!(out, vec![Ev::Desynced(1)]);
    // QPACK streams only pass the gap on.
    let mut out = Vec::new();
    let mut r = uni();
    r.feed(&[0x02, 0xaa], &mut |e| push(&mut out, e));
    r.gap(4, &mut |e| push(&mut out, e));
    r.feed(&[0xbb], &mut |e| push(&mut out, e));
    assert_eq!(
        out,
        vec![
            Ev::StreamType(UniStreamType::QpackEncoder),
            Ev::Raw(vec![0xaa]),
            Ev::RawGap(4),
            Ev::Raw(vec![0xbb]),
        ]
    );
    // A gap of 0 is nothing.
    let mut r = request();
    r.gap(0, &mut |_| panic!());
    // A gap inside a skipped frame just shortens the skip.
    let bytes = [frame(0x21, b"abcd"), frame(0x00, b"q")].concat();
    let mut out = Vec::new();
    let mut r = request();
    r.feed(&bytes[..3], &mut |e| push(&mut out, e));
    r.gap(2, &mut |e| push(&mut out, e));
    r.feed(&bytes[5..], &mut |e| push(&mut out, e));
    assert_eq!(out.last(), Some(&Ev::Data(b"q".to_vec())));
}

#[test]
fn types_names_and_where_frames_go() {
    for (v, t) in [
        (0x00, FrameType::Data),
        (0x01, FrameType::Headers),
        (0x03, FrameType::CancelPush),
        (0x04, FrameType::Settings),
        (0x05, FrameType::PushPromise),
        (0x07, FrameType::Goaway),
        (0x0d, FrameType::MaxPushId),
        (0xf0700, FrameType::PriorityUpdateRequest),
        (0xf0701, FrameType::PriorityUpdatePush),
        (0x02, FrameType::Http2(0x02)),
        (0x06, FrameType::Http2(0x06)),
        (0x08, FrameType::Http2(0x08)),
        (0x09, FrameType::Http2(0x09)),
        (0x21, FrameType::Reserved(0x21)),
        (0x40, FrameType::Reserved(0x40)),
        (0x0c, FrameType::Unknown(0x0c)),
    ] {
        assert_eq!(FrameType::from_u64(v), t);
        assert_eq!(t.value(), v);
    }
    assert!(is_reserved(0x21) && is_reserved(0x1f * 3 + 0x21) && !is_reserved(0x22));
    assert!(!is_reserved(0) && !is_reserved(0x20));
    use StreamKind::*;
    assert!(FrameType::Data.allowed_on(Request) && FrameType::Data.allowed_on(Push));
    assert!(!FrameType::Data.allowed_on(Control));
    assert!(FrameType::Settings.allowed_on(Control) && !FrameType::Settings.allowed_on(Request));
    assert!(FrameType::PushPromise.allowed_on(Request));
    assert!(!FrameType::PushPromise.allowed_on(Push));
    assert!(FrameType::PriorityUpdateRequest.allowed_on(Control));
    assert!(!FrameType::Goaway.allowed_on(Request));
    assert!(!FrameType::Http2(6).allowed_on(Request));
    assert!(FrameType::Reserved(0x21).allowed_on(Control));
    assert_eq!(FrameType::PriorityUpdatePush.name(), "PRIORITY_UPDATE");
}

#[test]
fn error_code_names() {
    assert_eq!(error_name(0x100), Some("H3_NO_ERROR"));
    assert_eq!(error_name(0x10c), Some("H3_REQUEST_CANCELLED"));
    assert_eq!(error_name(0x110), Some("H3_VERSION_FALLBACK"));
    assert_eq!(error_name(0x200), Some("QPACK_DECOMPRESSION_FAILED"));
    assert_eq!(error_name(0x202), Some("QPACK_DECODER_STREAM_ERROR"));
    assert_eq!(error_name(0x33), Some("H3_DATAGRAM_ERROR"));
    assert_eq!(error_name(0x111), None);
    assert_eq!(error_name(0x21), None);
    let named = (0x100..=0x110).filter(|&c| error_name(c).is_some()).count();
    assert_eq!(named, 17);
}

#[test]
fn garbage_never_panics() {
    for seed in 0u32..2000 {
        let buf: Vec<u8> = (0..64u32)
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 131) >> 9) as u8)
            .collect();
        for make in [request as fn() -> FrameReader, uni] {
            let mut r = make();
            let (a, b) = buf.split_at((seed % 64) as usize);
            r.feed(a, &mut |_| {});
            if seed % 5 == 0 {
                r.gap(u64::from(seed % 7), &mut |_| {});
            }
            r.feed(b, &mut |_| {});
            r.finish(&mut |_| {});
        }
    }
}
