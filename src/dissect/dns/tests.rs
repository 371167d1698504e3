//! Message-level and DNS-over-TCP tests with hand-built byte arrays.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::dissect::stream::{Dir, StreamCtx};
use crate::time::Ts;
use crate::warning::WarningKind;

/// Appends a record: owner (wire bytes), type, class IN, ttl, rdata.
fn rr(msg: &mut Vec<u8>, owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) {
    msg.extend_from_slice(owner);
    msg.extend_from_slice(&rtype.to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes());
    msg.extend_from_slice(&ttl.to_be_bytes());
    msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    msg.extend_from_slice(rdata);
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        h.extend_from_slice(&c.to_be_bytes());
    }
    h
}

/// A realistic response: www.example.com A, answered by a CNAME chain, an A, an AAAA and an
/// HTTPS record, one NS in authority, glue A and an OPT with DO and ECS in additional.
fn realistic_response() -> Vec<u8> {
    let mut m = header(0xbeef, 0x8180, [1, 4, 1, 2]);
    // Question at 12: www.example.com A IN.
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    // 33: www.example.com CNAME edge.example.net
    rr(
        &mut m,
        b"\xC0\x0C",
        5,
        300,
        b"\x04edge\x07example\x03net\x00",
    );
    // 63: edge.example.net is at 45 (rdata start). A 93.184.216.34
    rr(&mut m, b"\xC0\x2D", 1, 60, &[93, 184, 216, 34]);
    let mut v6 = [0u8; 16];
    v6[..4].copy_from_slice(&[0x26, 0x06, 0x28, 0x00]);
    v6[15] = 0x46;
    rr(&mut m, b"\xC0\x2D", 28, 60, &v6);
    let https = b"\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x04\x00\x04\x5d\xb8\xd8\x22";
    rr(&mut m, b"\xC0\x2D", 65, 60, https);
    // Authority: example.com NS ns1.example.com
    rr(&mut m, b"\xC0\x10", 2, 3600, b"\x03ns1\xC0\x10");
    // Additional: glue, then OPT (udp 1232, DO, ECS 192.0.2.0/24/24).
    rr(&mut m, b"\x03ns1\xC0\x10", 1, 3600, &[192, 0, 2, 53]);
    m.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00");
    let opt = b"\x00\x08\x00\x07\x00\x01\x18\x18\xc0\x00\x02";
    m.extend_from_slice(&(opt.len() as u16).to_be_bytes());
    m.extend_from_slice(opt);
    m
}

#[test]
fn realistic_response_parses_fully() {
    let buf = realistic_response();
    let m = parse_message(&buf).unwrap();
    assert_eq!(m.stopped, None);
    assert_eq!(m.trailing, 0);
    let h = m.header;
    assert_eq!(
        (h.id, h.response, h.opcode, h.authoritative, h.truncated),
        (0xbeef, true, 0, false, false)
    );
    assert_eq!(
        (h.recursion_desired, h.recursion_available, h.rcode),
        (true, true, 0)
    );
    assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 4, 1, 2));
    assert_eq!(m.rcode_name(), "NOERROR");
    assert_eq!(
        (
            m.questions.len(),
            m.questions[0].name.as_str(),
            m.questions[0].qtype.name().into_owned()
        ),
        (1, "www.example.com", "A".to_string())
    );
    assert_eq!(m.questions[0].qclass, 1);
    let a = |name: &str, t: &str, ttl: u32, data: &str| {
        (name.to_string(), t.to_string(), ttl, data.to_string())
    };
    assert_eq!(
        m.answers.iter().map(record_view).collect::<Vec<_>>(),
        vec![
            a("www.example.com", "CNAME", 300, "edge.example.net"),
            a("edge.example.net", "A", 60, "93.184.216.34"),
            a("edge.example.net", "AAAA", 60, "2606:2800::46"),
            a(
                "edge.example.net",
                "HTTPS",
                60,
                "1 . alpn=\"h2\" ipv4hint=93.184.216.34"
            ),
        ]
    );
    assert_eq!(
        m.authority.iter().map(record_view).collect::<Vec<_>>(),
        vec![a("example.com", "NS", 3600, "ns1.example.com")]
    );
    assert_eq!(m.additional.len(), 1);
    assert_eq!(
        record_view(&m.additional[0]),
        a("ns1.example.com", "A", 3600, "192.0.2.53")
    );
    let edns = m.edns.as_ref().unwrap();
    assert_eq!(
        (
            edns.udp_payload_size,
            edns.ext_rcode,
            edns.version,
            edns.dnssec_ok,
            edns.z
        ),
        (1232, 0, 0, true, 0)
    );
    assert_eq!(edns.record.name, ".");
    assert_eq!(
        edns.record.data,
        "udp=1232 version=0 do ECS=192.0.2.0/24/24"
    );
    let v4 = IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34));
    let v6 = IpAddr::V6("2606:2800::46".parse::<Ipv6Addr>().unwrap());
    assert_eq!(
        m.addresses().collect::<Vec<_>>(),
        vec![("edge.example.net", v4), ("edge.example.net", v6)]
    );
    assert_eq!(
        m.cnames().collect::<Vec<_>>(),
        vec![("www.example.com", "edge.example.net")]
    );
    assert_eq!(m.addresses_for("WWW.example.com"), vec![v4, v6]);
    assert_eq!(m.addresses_for("other.example.com"), Vec::<IpAddr>::new());
    assert_eq!(m.malformed_records(), 0);
    assert_eq!(m.problem(), None);
}

#[test]
fn header_flags_and_extended_rcode() {
    // QR, opcode 5 (UPDATE), AA, TC, RD, RA clear, Z, AD, CD, rcode 0 + ext 1 = BADVERS.
    let mut m = header(
        7,
        0x8000 | (5 << 11) | 0x0400 | 0x0200 | 0x0100 | 0x0040 | 0x0020 | 0x0010,
        [0, 0, 0, 1],
    );
    m.extend_from_slice(b"\x00\x00\x29\x10\x00\x01\x00\x00\x00\x00\x00");
    let msg = parse_message(&m).unwrap();
    let h = msg.header;
    assert!(h.response && h.authoritative && h.truncated && h.recursion_desired);
    assert!(!h.recursion_available && h.z && h.authentic_data && h.checking_disabled);
    assert_eq!(h.opcode, 5);
    assert_eq!(msg.rcode, 16);
    assert_eq!(msg.rcode_name(), "BADVERS");
    assert_eq!(
        msg.edns.as_ref().unwrap().record.data,
        "udp=4096 version=0 ext-rcode=1"
    );
    // NXDOMAIN without EDNS.
    let msg = parse_message(&header(1, 0x8183, [0; 4])).unwrap();
    assert_eq!((msg.rcode, &*msg.rcode_name()), (3, "NXDOMAIN"));
}

#[test]
fn header_only_and_short() {
    assert_eq!(
        parse_message(&[0; 11]),
        Err(DnsError::ShortHeader { len: 11 })
    );
    assert_eq!(parse_message(&[]), Err(DnsError::ShortHeader { len: 0 }));
    let m = parse_message(&header(9, 0x0100, [1, 0, 0, 0])).unwrap();
    assert_eq!(m.id(), 9);
    assert_eq!(
        m.stopped,
        Some(DnsError::Truncated {
            section: Section::Question,
            index: 0,
            offset: 12
        })
    );
    assert!(m.questions.is_empty());
}

#[test]
fn unknown_types_do_not_stop_parsing() {
    // The failure mode of crates that reject a whole message on an unknown type.
    let mut m = header(1, 0x8180, [0, 3, 0, 0]);
    rr(&mut m, b"\x01x\x00", 65534, 5, &[1, 2, 3]);
    rr(&mut m, b"\x00", 4000, 5, &[]);
    rr(&mut m, b"\x01x\x00", 1, 5, &[10, 0, 0, 1]);
    let msg = parse_message(&m).unwrap();
    assert!(msg.is_complete());
    let data: Vec<_> = msg
        .answers
        .iter()
        .map(|r| (r.rtype.name().into_owned(), r.data.as_str()))
        .collect();
    assert_eq!(
        data,
        vec![
            ("TYPE65534".to_string(), "\\# 3 010203"),
            ("TYPE4000".to_string(), "\\# 0"),
            ("A".to_string(), "10.0.0.1")
        ]
    );
}

#[test]
fn malformed_rdata_is_listed_and_parsing_goes_on() {
    let mut m = header(1, 0x8180, [0, 3, 0, 0]);
    rr(&mut m, b"\x01x\x00", 1, 5, &[10, 0, 0, 1, 9]); // A of 5 bytes
    rr(&mut m, b"\x01x\x00", 5, 5, b"\xC0\x40"); // CNAME with a pointer forward
    rr(&mut m, b"\x01x\x00", 28, 5, &[0; 16]);
    let msg = parse_message(&m).unwrap();
    assert!(msg.is_complete());
    assert_eq!(msg.answers.len(), 3);
    assert_eq!(msg.answers[0].data, MALFORMED_DATA);
    assert_eq!(
        msg.answers[0].rdata_error,
        Some(RdataError::BadLength { len: 5 })
    );
    assert_eq!(msg.answers[0].addr, None);
    assert_eq!(msg.answers[1].data, MALFORMED_DATA);
    assert!(matches!(
        msg.answers[1].rdata_error,
        Some(RdataError::Name(NameError::ForwardPointer { .. }))
    ));
    assert_eq!(msg.answers[1].cname_target(), None);
    assert_eq!(msg.answers[2].data, "::");
    assert_eq!(msg.malformed_records(), 2);
    let (kind, text) = msg.problem().unwrap();
    assert_eq!(kind, WarningKind::Malformed);
    assert!(text.contains("2 record(s) with malformed rdata"), "{text}");
}

#[test]
fn rdlength_past_the_end_stops_and_keeps_earlier_records() {
    let mut m = header(1, 0x8180, [0, 2, 0, 0]);
    rr(&mut m, b"\x01x\x00", 1, 5, &[10, 0, 0, 1]);
    let second = m.len();
    m.extend_from_slice(b"\x01x\x00\x00\x01\x00\x01\x00\x00\x00\x05\x00\x09\x01\x02");
    let msg = parse_message(&m).unwrap();
    assert_eq!(msg.answers.len(), 1);
    assert_eq!(
        msg.stopped,
        Some(DnsError::Truncated {
            section: Section::Answer,
            index: 1,
            offset: second + 13
        })
    );
    assert_eq!(msg.problem().unwrap().0, WarningKind::Truncated);
}

#[test]
fn bad_owner_names_stop_with_the_reason() {
    // Question name is a pointer to itself.
    let mut m = header(1, 0, [1, 0, 0, 0]);
    m.extend_from_slice(b"\xC0\x0C\x00\x01\x00\x01");
    let msg = parse_message(&m).unwrap();
    assert_eq!(
        msg.stopped,
        Some(DnsError::BadName {
            section: Section::Question,
            index: 0,
            offset: 12,
            error: NameError::ForwardPointer { at: 12, target: 12 }
        })
    );
    assert_eq!(msg.problem().unwrap().0, WarningKind::Malformed);
    // Answer owner points out of bounds; the question before it is kept.
    let mut m = header(1, 0x8180, [1, 1, 0, 0]);
    m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
    rr(&mut m, b"\xFF\xFF", 1, 5, &[1, 2, 3, 4]);
    let msg = parse_message(&m).unwrap();
    assert_eq!(msg.questions.len(), 1);
    assert!(matches!(
        msg.stopped,
        Some(DnsError::BadName {
            section: Section::Answer,
            index: 0,
            offset: 19,
            error: NameError::PointerOutOfBounds { .. }
        })
    ));
    // Mutual pointer loop between two names.
    let mut m = header(1, 0x8180, [1, 1, 0, 0]);
    m.extend_from_slice(b"\x01a\xC0\x13\x00\x01\x00\x01"); // at 12: "a" -> 19
    rr(&mut m, b"\x01b\xC0\x0C", 1, 5, &[1, 2, 3, 4]); // at 20
    let msg = parse_message(&m).unwrap();
    assert!(matches!(
        msg.stopped,
        Some(DnsError::BadName {
            section: Section::Question,
            ..
        })
    ));
}

#[test]
fn second_opt_and_trailing_bytes() {
    let mut m = header(1, 0x8180, [0, 0, 0, 2]);
    for _ in 0..2 {
        m.extend_from_slice(b"\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00");
    }
    m.extend_from_slice(b"xyz");
    let msg = parse_message(&m).unwrap();
    assert!(msg.edns.is_some());
    assert_eq!(msg.additional.len(), 1);
    assert_eq!(msg.additional[0].rtype.name(), "OPT");
    assert_eq!(msg.additional[0].data, "udp=512 version=0");
    assert_eq!(msg.trailing, 3);
    assert_eq!(msg.problem().unwrap().0, WarningKind::Malformed);
    // Malformed OPT options keep the header fields.
    let mut m = header(1, 0x8180, [0, 0, 0, 1]);
    m.extend_from_slice(b"\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x03\x00\x08\x00");
    let msg = parse_message(&m).unwrap();
    assert_eq!(
        msg.edns.as_ref().unwrap().record.data,
        "udp=512 version=0 <malformed>"
    );
    assert_eq!(msg.malformed_records(), 1);
}

#[test]
fn counts_larger_than_the_message() {
    let mut m = header(1, 0x8180, [65535, 65535, 65535, 65535]);
    m.extend_from_slice(b"\x00\x00\x01\x00\x01");
    let msg = parse_message(&m).unwrap();
    assert_eq!(msg.questions.len(), 1);
    assert_eq!(
        msg.stopped,
        Some(DnsError::Truncated {
            section: Section::Question,
            index: 1,
            offset: 17
        })
    );
    assert!(msg.questions.capacity() < 100);
}

#[test]
fn truncated_at_every_offset() {
    let buf = realistic_response();
    let full = parse_message(&buf).unwrap();
    let mut last_entries = 0;
    for cut in 0..buf.len() {
        let r = parse_message(&buf[..cut]);
        if cut < HEADER_LEN {
            assert_eq!(r, Err(DnsError::ShortHeader { len: cut }));
            continue;
        }
        let m = r.unwrap();
        assert_eq!(m.header, full.header);
        assert!(
            matches!(m.stopped, Some(DnsError::Truncated { .. })),
            "cut {cut}: {:?}",
            m.stopped
        );
        let entries = m.questions.len()
            + m.answers.len()
            + m.authority.len()
            + m.additional.len()
            + usize::from(m.edns.is_some());
        assert!(entries >= last_entries);
        last_entries = entries;
        // What parsed is a prefix of the full parse.
        assert_eq!(m.questions[..], full.questions[..m.questions.len()]);
        assert_eq!(m.answers[..], full.answers[..m.answers.len()]);
        assert_eq!(m.authority[..], full.authority[..m.authority.len()]);
    }
    // Every entry but the last (the OPT) parsed at the longest cut.
    assert_eq!(last_entries, 7);
    assert!(full.edns.is_some());
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buf = Vec::new();
    for _ in 0..20_000 {
        buf.clear();
        let len = (rng.next() % 300) as usize;
        for _ in 0..len {
            buf.push(rng.next() as u8);
        }
        if let Ok(m) = parse_message(&buf) {
            let _ = m.problem();
            let _ = m.addresses_for("a");
        }
    }
}

#[test]
fn mutated_responses_never_panic() {
    let base = realistic_response();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let mut buf = base.clone();
        for _ in 0..(1 + rng.next() % 4) {
            let i = (rng.next() as usize) % buf.len();
            buf[i] = rng.next() as u8;
        }
        let m = parse_message(&buf).unwrap();
        let _ = m.problem();
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_message(&bytes);
        }

        #[test]
        fn names_never_panic_or_overrun(bytes in proptest::collection::vec(any::<u8>(), 0..300), start in 0usize..300) {
            let mut s = String::new();
            if let Ok(end) = name::read_name(&bytes, start, bytes.len(), &mut s) {
                prop_assert!(end <= bytes.len());
                prop_assert!(!s.is_empty());
            }
        }
    }
}

// ---- DNS over TCP ----

fn framed(msgs: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

fn query() -> Vec<u8> {
    let mut m = header(0x1234, 0x0100, [1, 0, 0, 0]);
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x1c\x00\x01");
    m
}

#[test]
fn tcp_several_messages_in_one_segment() {
    let (q, r) = (query(), realistic_response());
    let stream = framed(&[&q, &r, &q]);
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    s.handle_data(Dir::ToServer, Ts(5), &stream, &mut ctx);
    let got = s.take_messages();
    assert_eq!(got.len(), 3);
    for (m, want) in got.iter().zip([&q, &r, &q]) {
        assert_eq!(
            (m.dir, m.ts, m.first_ts, m.complete),
            (Dir::ToServer, Ts(5), Ts(5), true)
        );
        assert_eq!(m.declared_len, want.len());
        assert_eq!(m.message, parse_message(want));
    }
    assert!(ctx.warnings.is_empty());
    assert!(s.take_messages().is_empty());
    assert_eq!(s.messages, [3, 0]);
}

#[test]
fn tcp_split_at_every_boundary() {
    let (q, r) = (query(), realistic_response());
    let stream = framed(&[&q, &r]);
    for i in 0..=stream.len() {
        for j in i..=stream.len() {
            let mut s = DnsTcpStream::new();
            let mut ctx = StreamCtx::new();
            s.handle_data(Dir::ToClient, Ts(1), &stream[..i], &mut ctx);
            s.handle_data(Dir::ToClient, Ts(2), &stream[i..j], &mut ctx);
            s.handle_data(Dir::ToClient, Ts(3), &stream[j..], &mut ctx);
            let got = s.take_messages();
            assert_eq!(got.len(), 2, "split {i} {j}");
            assert_eq!(got[0].message, parse_message(&q));
            assert_eq!(got[1].message, parse_message(&r));
            // Times: the segment with the first byte and the one that completed each message.
            let seg = |pos: usize| {
                if pos < i {
                    Ts(1)
                } else if pos < j {
                    Ts(2)
                } else {
                    Ts(3)
                }
            };
            let q_end = 2 + q.len();
            assert_eq!((got[0].first_ts, got[0].ts), (seg(0), seg(q_end - 1)));
            assert_eq!(
                (got[1].first_ts, got[1].ts),
                (seg(q_end), seg(stream.len() - 1))
            );
            assert!(ctx.warnings.is_empty());
            assert_eq!(s.buffered(Dir::ToClient), 0);
        }
    }
}

#[test]
fn tcp_byte_by_byte_and_directions_independent() {
    let (q, r) = (query(), realistic_response());
    let (up, down) = (framed(&[&q]), framed(&[&r]));
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    for k in 0..up.len().max(down.len()) {
        if let Some(b) = up.get(k) {
            s.handle_data(
                Dir::ToServer,
                Ts(k as i64),
                std::slice::from_ref(b),
                &mut ctx,
            );
        }
        if let Some(b) = down.get(k) {
            s.handle_data(
                Dir::ToClient,
                Ts(1000 + k as i64),
                std::slice::from_ref(b),
                &mut ctx,
            );
        }
    }
    let got = s.take_messages();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].dir, got[0].first_ts, got[0].ts),
        (Dir::ToServer, Ts(0), Ts(up.len() as i64 - 1))
    );
    assert_eq!(
        (got[1].dir, got[1].first_ts, got[1].ts),
        (Dir::ToClient, Ts(1000), Ts(1000 + down.len() as i64 - 1))
    );
    assert_eq!(got[1].message, parse_message(&r));
}

#[test]
fn tcp_gap_gives_up_that_direction_only() {
    let (q, r) = (query(), realistic_response());
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    let up = framed(&[&q]);
    s.handle_data(Dir::ToServer, Ts(1), &up[..20], &mut ctx);
    s.handle_gap(Dir::ToServer, 100, Ts(2), &mut ctx);
    s.handle_data(Dir::ToServer, Ts(3), &up, &mut ctx);
    s.handle_data(Dir::ToClient, Ts(4), &framed(&[&r]), &mut ctx);
    let got = s.take_messages();
    assert_eq!(got.len(), 2);
    // The partial query, reported with what of it parsed.
    assert_eq!(
        (got[0].dir, got[0].complete, got[0].declared_len),
        (Dir::ToServer, false, q.len())
    );
    let partial = got[0].message.as_ref().unwrap();
    assert_eq!(partial.id(), 0x1234);
    assert!(matches!(partial.stopped, Some(DnsError::Truncated { .. })));
    assert_eq!((got[1].dir, got[1].complete), (Dir::ToClient, true));
    let kinds: Vec<_> = ctx.warnings.iter().map(|w| w.kind.as_str()).collect();
    assert_eq!(kinds, vec!["truncated", "gap"]);
    assert_eq!(s.buffered(Dir::ToServer), 0);
}

#[test]
fn tcp_close_mid_message_and_mid_prefix() {
    let q = query();
    let up = framed(&[&q]);
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    s.handle_data(Dir::ToServer, Ts(1), &up[..up.len() - 3], &mut ctx);
    s.handle_data(Dir::ToClient, Ts(1), &[0], &mut ctx);
    s.handle_close(Ts(9), &mut ctx);
    let got = s.take_messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].ts, got[0].first_ts, got[0].complete),
        (Ts(9), Ts(1), false)
    );
    assert_eq!(got[0].message.as_ref().unwrap().questions.len(), 0);
    assert_eq!(ctx.warnings.len(), 2);
    assert!(
        ctx.warnings[1].message.contains("after 0 of ? bytes"),
        "{}",
        ctx.warnings[1].message
    );
}

#[test]
fn tcp_zero_length_short_and_largest_messages() {
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    // Zero-length message, then a 5-byte message (shorter than a header), then a query.
    let mut stream = vec![0, 0, 0, 5, 1, 2, 3, 4, 5];
    stream.extend_from_slice(&framed(&[&query()]));
    s.handle_data(Dir::ToServer, Ts(1), &stream, &mut ctx);
    let got = s.take_messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].message, Err(DnsError::ShortHeader { len: 5 }));
    assert!(got[1].message.as_ref().unwrap().is_complete());
    assert_eq!(ctx.warnings.len(), 2);
    // A 65535-byte message over many segments: bounded buffer, one message.
    let mut big = header(1, 0x8180, [0, 1, 0, 0]);
    let rdlen = MAX_TCP_MESSAGE - big.len() - 11;
    rr(&mut big, b"\x00", 999, 0, &vec![7u8; rdlen]);
    assert_eq!(big.len(), MAX_TCP_MESSAGE);
    let stream = framed(&[&big]);
    for chunk in stream.chunks(1400) {
        s.handle_data(Dir::ToClient, Ts(2), chunk, &mut ctx);
        assert!(s.buffered(Dir::ToClient) <= MAX_TCP_MESSAGE);
    }
    let got = s.take_messages();
    assert_eq!(got.len(), 1);
    let m = got[0].message.as_ref().unwrap();
    assert!(m.is_complete());
    assert!(m.answers[0].data.starts_with("\\# 65512 0707"));
}

#[test]
fn tcp_queue_is_capped() {
    let q = query();
    let one = framed(&[&q]);
    let mut s = DnsTcpStream::new();
    let mut ctx = StreamCtx::new();
    for _ in 0..MAX_QUEUED_MESSAGES + 10 {
        s.handle_data(Dir::ToServer, Ts(1), &one, &mut ctx);
    }
    assert_eq!(s.take_messages().len(), MAX_QUEUED_MESSAGES);
    assert_eq!(s.dropped, 10);
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].kind, WarningKind::Cap);
}

#[test]
fn tcp_random_segments_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..2_000 {
        let mut s = DnsTcpStream::new();
        let mut ctx = StreamCtx::new();
        for _ in 0..(rng.next() % 8) {
            let len = (rng.next() % 200) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let dir = Dir::from_index((rng.next() % 2) as usize);
            match rng.next() % 10 {
                0 => s.handle_gap(dir, len as u64, Ts(1), &mut ctx),
                _ => s.handle_data(dir, Ts(1), &data, &mut ctx),
            }
            assert!(s.buffered(dir) <= MAX_TCP_MESSAGE);
        }
        s.handle_close(Ts(2), &mut ctx);
        let _ = s.take_messages();
    }
}

/// A record as (owner, type, TTL, presentation data).
fn record_view(r: &DnsRecord) -> (String, String, u32, String) {
    (
        r.name.clone(),
        r.rtype.name().into_owned(),
        r.ttl,
        r.data.clone(),
    )
}
