//! Every frame type from bytes, ACK ranges, truncation at every offset, the packet type
//! table, and invalid fields.

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

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn one(bytes: &[u8]) -> QuicFrame<'_> {
    let mut pos = 0;
    let f = parse_frame(bytes, &mut pos).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
    assert_eq!(pos, bytes.len(), "{f:?} did not use all of {bytes:02x?}");
    f
}

#[test]
fn padding_ping_handshake_done() {
    assert_eq!(one(&[0, 0, 0, 0]), QuicFrame::Padding { len: 4 });
    assert_eq!(one(&[1]), QuicFrame::Ping);
    assert_eq!(one(&[0x1e]), QuicFrame::HandshakeDone);
    // A two-byte encoding of PING is still PING (shortest encoding is not enforced).
    assert_eq!(one(&[0x40, 0x01]), QuicFrame::Ping);
    let mut frames = Vec::new();
    parse_frames(&[0, 0, 1, 0, 0x1e], |f| frames.push(f)).unwrap();
    assert_eq!(
        frames,
        vec![
            QuicFrame::Padding { len: 2 },
            QuicFrame::Ping,
            QuicFrame::Padding { len: 1 },
            QuicFrame::HandshakeDone
        ]
    );
}

#[test]
fn ack_and_ack_ecn_ranges() {
    // Largest 100, delay 0x1234, two more ranges, first range 2: [98,100];
    // gap 1, len 3: largest 98-1-2 = 95, [92,95]; gap 0, len 0: [90,90].
    let b = cat(&[
        &[0x02],
        &v(100),
        &v(0x1234),
        &v(2),
        &v(2),
        &v(1),
        &v(3),
        &v(0),
        &v(0),
    ]);
    let QuicFrame::Ack(a) = one(&b) else { panic!() };
    assert_eq!(
        (a.largest, a.delay, a.first_range, a.range_count),
        (100, 0x1234, 2, 2)
    );
    assert_eq!(a.ecn, None);
    assert_eq!(
        a.ranges().collect::<Vec<_>>(),
        vec![(98, 100), (92, 95), (90, 90)]
    );
    assert_eq!(QuicFrame::Ack(a).name(), "ACK");
    assert!(!QuicFrame::Ack(a).is_ack_eliciting());
    let b = cat(&[&[0x03], &v(5), &v(0), &v(0), &v(5), &v(7), &v(8), &v(9)]);
    let QuicFrame::Ack(a) = one(&b) else { panic!() };
    assert_eq!(a.ranges().collect::<Vec<_>>(), vec![(0, 5)]);
    assert_eq!(
        a.ecn,
        Some(EcnCounts {
            ect0: 7,
            ect1: 8,
            ce: 9
        })
    );
    assert_eq!(QuicFrame::Ack(a).name(), "ACK_ECN");
}

#[test]
fn ack_below_zero_is_invalid() {
    let b = cat(&[&[0x02], &v(1), &v(0), &v(0), &v(2)]);
    assert!(matches!(
        parse_frame(&b, &mut 0),
        Err(FrameError::Invalid {
            frame_type: 2,
            at: 0,
            ..
        })
    ));
    // The second range would end below 0: 10-8-2 = 0, then len 1.
    let b = cat(&[&[0x02], &v(12), &v(0), &v(1), &v(2), &v(8), &v(1)]);
    assert!(matches!(
        parse_frame(&b, &mut 0),
        Err(FrameError::Invalid { .. })
    ));
    // A range count far beyond the bytes is truncation, found without looping 2^62 times.
    let b = cat(&[&[0x02], &v(12), &v(0), &v((1 << 62) - 1), &v(2)]);
    assert!(matches!(
        parse_frame(&b, &mut 0),
        Err(FrameError::Truncated {
            frame_type: Some(2),
            ..
        })
    ));
}

#[test]
fn stream_and_flow_control_frames() {
    assert_eq!(
        one(&cat(&[&[0x04], &v(4), &v(0x10c), &v(1000)])),
        QuicFrame::ResetStream {
            stream_id: 4,
            error_code: 0x10c,
            final_size: 1000
        }
    );
    assert_eq!(
        one(&cat(&[&[0x05], &v(8), &v(0x10c)])),
        QuicFrame::StopSending {
            stream_id: 8,
            error_code: 0x10c
        }
    );
    assert_eq!(
        one(&cat(&[&[0x10], &v(1 << 20)])),
        QuicFrame::MaxData { max: 1 << 20 }
    );
    assert_eq!(
        one(&cat(&[&[0x11], &v(3), &v(99)])),
        QuicFrame::MaxStreamData {
            stream_id: 3,
            max: 99
        }
    );
    assert_eq!(
        one(&cat(&[&[0x12], &v(100)])),
        QuicFrame::MaxStreams {
            bidi: true,
            max: 100
        }
    );
    assert_eq!(
        one(&cat(&[&[0x13], &v(3)])),
        QuicFrame::MaxStreams {
            bidi: false,
            max: 3
        }
    );
    assert_eq!(
        one(&cat(&[&[0x14], &v(7)])),
        QuicFrame::DataBlocked { limit: 7 }
    );
    assert_eq!(
        one(&cat(&[&[0x15], &v(0), &v(7)])),
        QuicFrame::StreamDataBlocked {
            stream_id: 0,
            limit: 7
        }
    );
    assert_eq!(
        one(&cat(&[&[0x16], &v(7)])),
        QuicFrame::StreamsBlocked {
            bidi: true,
            limit: 7
        }
    );
    assert_eq!(
        one(&cat(&[&[0x17], &v(7)])),
        QuicFrame::StreamsBlocked {
            bidi: false,
            limit: 7
        }
    );
    assert!(matches!(
        parse_frame(&cat(&[&[0x12], &v((1 << 60) + 1)]), &mut 0),
        Err(FrameError::Invalid { .. })
    ));
    assert!(matches!(
        parse_frame(&cat(&[&[0x17], &v((1 << 60) + 1)]), &mut 0),
        Err(FrameError::Invalid { .. })
    ));
}

#[test]
fn stream_type_bits() {
    for ty in 0x08u8..=0x0f {
        let off = ty & 0x04 != 0;
        let len = ty & 0x02 != 0;
        let fin = ty & 0x01 != 0;
        let mut b = cat(&[&[ty], &v(0x401)]);
        if off {
            b.extend(v(70000));
        }
        if len {
            b.extend(v(5));
        }
        b.extend_from_slice(b"hello");
        assert_eq!(
            one(&b),
            QuicFrame::Stream {
                stream_id: 0x401,
                offset: if off { 70000 } else { 0 },
                data: b"hello",
                fin,
            },
            "type {ty:#x}"
        );
    }
    // With LEN the frame ends and another follows; without, the data runs to the end.
    let b = cat(&[&[0x0a], &v(0), &v(2), b"hi", &[0x01]]);
    let mut frames = Vec::new();
    parse_frames(&b, |f| frames.push(f)).unwrap();
    assert_eq!(frames.len(), 2);
    let b = cat(&[&[0x08], &v(0), b"hi", &[0x01]]);
    assert_eq!(
        one(&b),
        QuicFrame::Stream {
            stream_id: 0,
            offset: 0,
            data: b"hi\x01",
            fin: false
        }
    );
    // An empty STREAM frame with FIN.
    assert_eq!(
        one(&cat(&[&[0x0f], &v(4), &v(12), &v(0)])),
        QuicFrame::Stream {
            stream_id: 4,
            offset: 12,
            data: b"",
            fin: true
        }
    );
    // Offset + length beyond 2^62-1.
    let b = cat(&[&[0x0e], &v(0), &v(MAX_STREAM_OFFSET), &v(1), b"x"]);
    assert!(matches!(
        parse_frame(&b, &mut 0),
        Err(FrameError::Invalid {
            frame_type: 0x0e,
            ..
        })
    ));
    let b = cat(&[&[0x06], &v(MAX_STREAM_OFFSET), &v(1), b"x"]);
    assert!(matches!(
        parse_frame(&b, &mut 0),
        Err(FrameError::Invalid {
            frame_type: 0x06,
            ..
        })
    ));
}

#[test]
fn crypto_token_connection_ids_paths_close_datagram() {
    assert_eq!(
        one(&cat(&[&[0x06], &v(1200), &v(3), b"abc"])),
        QuicFrame::Crypto {
            offset: 1200,
            data: b"abc"
        }
    );
    assert_eq!(
        one(&cat(&[&[0x07], &v(4), b"tokn"])),
        QuicFrame::NewToken { token: b"tokn" }
    );
    assert!(matches!(
        parse_frame(&cat(&[&[0x07], &v(0)]), &mut 0),
        Err(FrameError::Invalid { frame_type: 7, .. })
    ));
    let token = [0xaa; 16];
    let b = cat(&[&[0x18], &v(3), &v(1), &[4], &[1, 2, 3, 4], &token]);
    assert_eq!(
        one(&b),
        QuicFrame::NewConnectionId {
            sequence: 3,
            retire_prior_to: 1,
            cid: &[1, 2, 3, 4],
            reset_token: &token
        }
    );
    for (len, retire) in [(0u8, 0u64), (21, 0), (4, 4)] {
        let b = cat(&[
            &[0x18],
            &v(3),
            &v(retire),
            &[len],
            &vec![7; usize::from(len)],
            &token,
        ]);
        assert!(
            matches!(parse_frame(&b, &mut 0), Err(FrameError::Invalid { .. })),
            "len {len} retire {retire}"
        );
    }
    assert_eq!(
        one(&cat(&[&[0x19], &v(2)])),
        QuicFrame::RetireConnectionId { sequence: 2 }
    );
    assert_eq!(
        one(&[0x1a, 1, 2, 3, 4, 5, 6, 7, 8]),
        QuicFrame::PathChallenge {
            data: [1, 2, 3, 4, 5, 6, 7, 8]
        }
    );
    assert_eq!(
        one(&[0x1b, 1, 2, 3, 4, 5, 6, 7, 8]),
        QuicFrame::PathResponse {
            data: [1, 2, 3, 4, 5, 6, 7, 8]
        }
    );
    assert_eq!(
        one(&cat(&[&[0x1c], &v(0x0a), &v(0x08), &v(3), b"bad"])),
        QuicFrame::ConnectionClose {
            application: false,
            error_code: 0x0a,
            frame_type: Some(8),
            reason: b"bad"
        }
    );
    assert_eq!(
        one(&cat(&[&[0x1d], &v(0x100), &v(0)])),
        QuicFrame::ConnectionClose {
            application: true,
            error_code: 0x100,
            frame_type: None,
            reason: b""
        }
    );
    assert_eq!(one(&[0x30, 9, 9]), QuicFrame::Datagram { data: &[9, 9] });
    assert_eq!(
        one(&cat(&[&[0x31], &v(1), &[9]])),
        QuicFrame::Datagram { data: &[9] }
    );
    assert_eq!(one(&[0x30]), QuicFrame::Datagram { data: &[] });
}

/// Every frame type once; the ones that run to the end of the packet come last.
fn all_frames() -> Vec<u8> {
    cat(&[
        &[0, 0],
        &[1],
        &cat(&[&[0x02], &v(100), &v(0x1234), &v(1), &v(2), &v(1), &v(3)]),
        &cat(&[&[0x03], &v(5), &v(0), &v(0), &v(5), &v(7), &v(8), &v(9)]),
        &cat(&[&[0x04], &v(4), &v(0x10c), &v(1000)]),
        &cat(&[&[0x05], &v(8), &v(0x10c)]),
        &cat(&[&[0x06], &v(1200), &v(3), b"abc"]),
        &cat(&[&[0x07], &v(4), b"tokn"]),
        &cat(&[&[0x0f], &v(4), &v(70000), &v(2), b"hi"]),
        &cat(&[&[0x10], &v(1 << 20)]),
        &cat(&[&[0x11], &v(3), &v(99)]),
        &cat(&[&[0x12], &v(100)]),
        &cat(&[&[0x13], &v(100)]),
        &cat(&[&[0x14], &v(7)]),
        &cat(&[&[0x15], &v(0), &v(7)]),
        &cat(&[&[0x16], &v(7)]),
        &cat(&[&[0x17], &v(7)]),
        &cat(&[&[0x18], &v(3), &v(1), &[4], &[1, 2, 3, 4], &[0xaa; 16]]),
        &cat(&[&[0x19], &v(2)]),
        &[0x1a, 1, 2, 3, 4, 5, 6, 7, 8],
        &[0x1b, 1, 2, 3, 4, 5, 6, 7, 8],
        &cat(&[&[0x1c], &v(0x0a), &v(0x08), &v(3), b"bad"]),
        &cat(&[&[0x1d], &v(0x100), &v(0)]),
        &[0x1e],
        &cat(&[&[0x31], &v(1), &[9]]),
        &cat(&[&[0x08], &v(0), b"rest"]),
    ])
}

#[test]
fn every_frame_type_in_one_payload() {
    let b = all_frames();
    let frames: Vec<_> = Frames::new(&b).collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 26);
    let names: Vec<_> = frames.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"NEW_CONNECTION_ID") && names.contains(&"DATAGRAM"));
}

#[test]
fn truncated_at_every_offset() {
    let b = all_frames();
    let complete = Frames::new(&b).count();
    for cut in 0..b.len() {
        let p = &b[..cut];
        let mut n = 0;
        match parse_frames(p, |_| n += 1) {
            Ok(()) => {}
            Err(FrameError::Truncated { at, .. }) => assert!(at < cut, "cut {cut}"),
            Err(e) => panic!("cut {cut}: {e:?}"),
        }
        assert!(n <= complete);
        // The iterator says the same and stops after the error.
        let mut it = Frames::new(p);
        let mut seen_err = false;
        for r in it.by_ref() {
            assert!(!seen_err);
            seen_err = r.is_err();
        }
        assert!(it.next().is_none());
    }
}

#[test]
fn unknown_type_stops_with_a_note() {
    let b = cat(&[&[0x01, 0x00], &v(0x21), &[0x01]]);
    let mut frames = Vec::new();
    let e = parse_frames(&b, |f| frames.push(f)).unwrap_err();
    assert_eq!(
        e,
        FrameError::UnknownType {
            frame_type: 0x21,
            at: 2
        }
    );
    assert_eq!(e.at(), 2);
    assert_eq!(frames, vec![QuicFrame::Ping, QuicFrame::Padding { len: 1 }]);
    assert!(e.to_string().contains("0x21"));
    // ACK_FREQUENCY (an extension, 0xaf) is unknown here too.
    assert!(matches!(
        parse_frame(&v(0xaf), &mut 0),
        Err(FrameError::UnknownType {
            frame_type: 0xaf,
            ..
        })
    ));
    // A truncated type.
    assert_eq!(
        parse_frame(&[0x40], &mut 0),
        Err(FrameError::Truncated {
            frame_type: None,
            at: 0
        })
    );
}

#[test]
fn frames_allowed_by_packet_type() {
    use PacketKind::*;
    for ty in [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c] {
        assert!(
            frame_allowed(ty, Initial) && frame_allowed(ty, Handshake),
            "{ty:#x}"
        );
    }
    for ty in [0x02, 0x03, 0x06, 0x07, 0x1b, 0x1e] {
        assert!(!frame_allowed(ty, ZeroRtt), "{ty:#x}");
    }
    for ty in (0x04..=0x05).chain(0x08..=0x1a).chain([0x1d, 0x30, 0x31]) {
        assert!(
            !frame_allowed(ty, Initial) && !frame_allowed(ty, Handshake),
            "{ty:#x}"
        );
        assert!(
            frame_allowed(ty, ZeroRtt) && frame_allowed(ty, OneRtt),
            "{ty:#x}"
        );
    }
    for ty in 0x00..=0x1e {
        assert!(frame_allowed(ty, OneRtt), "{ty:#x}");
    }
    assert!(!frame_allowed(0x21, OneRtt));
    // A STREAM frame in an Initial stops parsing there.
    let b = cat(&[&[0x01], &[0x08, 0x00, b'x']]);
    let mut n = 0;
    let e = parse_frames_in(&b, Initial, |_| n += 1).unwrap_err();
    assert_eq!(
        e,
        FrameError::NotAllowed {
            frame_type: 0x08,
            at: 1,
            packet: Initial
        }
    );
    assert_eq!(n, 1);
    assert!(e.to_string().contains("not allowed in an Initial packet"));
    assert!(parse_frames_in(&b, OneRtt, |_| {}).is_ok());
    // The application CONNECTION_CLOSE is not for Handshake packets.
    let b = cat(&[&[0x1d], &v(0), &v(0)]);
    assert!(matches!(
        parse_frames_in(&b, Handshake, |_| {}),
        Err(FrameError::NotAllowed { .. })
    ));
}

#[test]
fn garbage_never_panics() {
    for seed in 0u32..3000 {
        let buf: Vec<u8> = (0..48u32)
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 131) >> 9) as u8)
            .collect();
        for kind in [None, Some(PacketKind::Initial), Some(PacketKind::OneRtt)] {
            let it = match kind {
                Some(k) => Frames::new_in(&buf, k),
                None => Frames::new(&buf),
            };
            for f in it.flatten() {
                if let QuicFrame::Ack(a) = f {
                    assert!(a.ranges().count() as u64 <= a.range_count + 1);
                }
            }
        }
    }
}
