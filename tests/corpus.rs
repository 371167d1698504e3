//! Tests that read the third-party corpus in place (../shared/captures; skipped with a
//! message where it is absent, as in a user's clone), for the cases where pagetrace and
//! tshark 4.0 disagree on purpose: each test shows why tshark is wrong there.

mod common;

use std::net::IpAddr;

use common::*;
use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::dissect::dns;
use pagetrace::link;
use pagetrace::net::{self, TcpSegment, UdpDatagram};
use pagetrace::time::Ts;

macro_rules! corpus_or_skip {
    ($name:expr) => {{
        match shared_captures() {
            Some(d) => d.join($name),
            None => {
                eprintln!("skipped: ../shared/captures is not here");
                return;
            }
        }
    }};
}

/// One TCP or UDP packet of a corpus capture, numbered as tshark numbers frames.
struct Frame {
    n: u64,
    ts: Ts,
    src: IpAddr,
    src_port: u16,
    /// TCP only: the raw sequence number and whether FIN is set.
    seq: u32,
    fin: bool,
    payload: Vec<u8>,
}

/// Every TCP and UDP packet of the capture, in file order.
fn frames(path: &std::path::Path) -> Vec<Frame> {
    let mut reader = CaptureReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut w = Vec::new();
    reader.for_each(&mut w, |ev| {
        let CaptureEvent::Packet(p) = ev else { return };
        let Ok(f) = link::decode(p.link, p.data) else {
            return;
        };
        let Ok(ip) = net::parse_ip(f.proto, f.payload) else {
            return;
        };
        let (src_port, seq, fin, payload) = match ip.proto {
            net::PROTO_TCP => {
                let Ok(t) = TcpSegment::new_checked(ip.payload) else {
                    return;
                };
                (t.src_port, t.seq, t.flags.fin(), t.payload)
            }
            net::PROTO_UDP => {
                let Some(u) = UdpDatagram::new_checked(ip.payload) else {
                    return;
                };
                (u.src_port, 0, false, u.payload)
            }
            _ => return,
        };
        out.push(Frame {
            n: p.frame,
            ts: p.ts,
            src: ip.src,
            src_port,
            seq,
            fin,
            payload: payload.to_vec(),
        });
    });
    out
}

fn frame(all: &[Frame], n: u64) -> &Frame {
    all.iter().find(|f| f.n == n).expect("frame in capture")
}

fn truth(path: &std::path::Path, suffix: &str) -> serde_json::Value {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    serde_json::from_str(&std::fs::read_to_string(name).unwrap()).unwrap()
}

/// tshark's `dns.time` pairs two mDNS messages in `ipv6-mdns-http.pcap` (1.248 ms and
/// 251.233 ms): but every mDNS message there is sent by the same host to ff02::fb. The
/// "queries" are the host's own probes (RFC 6762 section 8.1: a question with its proposed
/// records in the authority section, sent 250 ms apart) and the "responses" its own
/// announcements (section 8.3). No one answered anyone: there is no lookup latency to
/// report, so pagetrace lists no DNS transaction for them (tshark's own `dns` truth list
/// leaves mDNS out too; only its timing file pairs them). Its pairing is by ID, and every
/// mDNS ID here is 0 (RFC 6762 section 18.1: multicast responses MUST use ID zero and
/// receivers MUST ignore it), so it is arbitrary: frames 8 and 9 are byte-identical probes
/// and the response in frame 10 came 1.248 ms after frame 9, yet tshark's 251.233 ms
/// pairs it with frame 8.
#[test]
fn mdns_probes_and_announcements_are_not_lookups() {
    let path = corpus_or_skip!("ipv6-mdns-http.pcap");
    let mut reader = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut senders: Vec<IpAddr> = Vec::new();
    let mut probes = 0;
    let mut announcements = 0;
    let mut w = Vec::new();
    reader.for_each(&mut w, |ev| {
        let CaptureEvent::Packet(p) = ev else { return };
        let Ok(f) = link::decode(p.link, p.data) else {
            return;
        };
        let Ok(ip) = net::parse_ip(f.proto, f.payload) else {
            return;
        };
        if ip.proto != net::PROTO_UDP {
            return;
        }
        let Some(u) = UdpDatagram::new_checked(ip.payload) else {
            return;
        };
        if u.dst_port != 5353 {
            return;
        }
        let m = dns::parse_message(u.payload).unwrap();
        assert_eq!(ip.dst, "ff02::fb".parse::<IpAddr>().unwrap());
        if m.is_response() {
            announcements += 1;
            assert!(
                m.questions.is_empty(),
                "an announcement answers no question"
            );
        } else {
            probes += 1;
            assert!(
                !m.authority.is_empty(),
                "a probe carries its proposed records"
            );
        }
        if !senders.contains(&ip.src) {
            senders.push(ip.src);
        }
    });
    assert!(probes >= 3 && announcements >= 2);
    assert_eq!(
        senders.len(),
        1,
        "every mDNS message comes from one host: {senders:?}"
    );
    let all = frames(&path);
    let (f8, f9, f10) = (frame(&all, 8), frame(&all, 9), frame(&all, 10));
    assert_eq!(f8.payload, f9.payload, "two identical probes");
    assert_eq!(&f8.payload[..2], &[0, 0], "ID 0");
    assert_eq!(&f10.payload[..2], &[0, 0], "ID 0");
    assert!((f10.ts.ms_since(f9.ts) - 1.248).abs() < 0.001);
    let timing = truth(&path, ".timing.json");
    let tshark: Vec<f64> = timing["dns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["latency_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(tshark, vec![1.248, 251.233]);
    assert!(
        (f10.ts.ms_since(f8.ts) - 251.233).abs() < 0.001,
        "tshark chose 8"
    );
    let r = analyze(&path);
    assert!(r.dns.is_empty(), "mDNS is not reported as DNS lookups");
}

/// tshark pairs the first response of a pipelined batch with the *last* request of the
/// segment that carried the batch: in `http-pipelining.pcap` frame 4 holds seven complete
/// requests (`/postinfo.html` first, `/_vti_bin/fpcount.exe?...` last) and frame 6, the
/// server's first data byte (ISN + 1), the first 404; tshark's `http.time` (0.219 ms) and
/// `request_in` give it to `fpcount.exe`. Its HTTP conversation keeps only the latest
/// request, so its truth file names `fpcount.exe` as the request of 5 responses,
/// `bots.cnf` of 10 and `.bzr/README` of 25, though each was asked for once. RFC 9112
/// section 9.3.2: "A server MUST send its responses to those requests in the same order
/// that the requests were received", so the first response answers `/postinfo.html`.
/// pagetrace pairs in order: that 0.219 ms belongs to `/postinfo.html`.
#[test]
fn pipelined_responses_pair_in_request_order() {
    let path = corpus_or_skip!("http-pipelining.pcap");
    let all = frames(&path);
    let (f4, f6) = (frame(&all, 4), frame(&all, 6));
    assert!(f4.payload.starts_with(b"GET /postinfo.html HTTP/1.1\r\n"));
    let heads_ends = f4.payload.windows(4).filter(|w| w == b"\r\n\r\n").count();
    assert_eq!(heads_ends, 7, "seven complete requests in frame 4");
    let isn = frame(&all, 2).seq;
    assert_eq!(
        f6.seq,
        isn.wrapping_add(1),
        "frame 6 is the server's first byte"
    );
    assert!(f6.payload.starts_with(b"HTTP/1.1 404 "));
    assert!((f6.ts.ms_since(f4.ts) - 0.219).abs() < 0.001);

    let t = truth(&path, ".truth.json");
    let msgs = t["http"].as_array().unwrap();
    let uri_of_request = |m: &serde_json::Value| m["request.uri"].as_str().unwrap().to_string();
    let requests: Vec<String> = msgs
        .iter()
        .filter(|m| m["kind"] == "request")
        .map(uri_of_request)
        .collect();
    let mut unique = requests.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (requests.len(), unique.len()),
        (40, 40),
        "each URI asked once"
    );
    let mut per_uri: Vec<(String, usize)> = Vec::new();
    for m in msgs.iter().filter(|m| m["kind"] == "response") {
        let uri = m["response_for.uri"].as_str().unwrap().to_string();
        match per_uri.iter_mut().find(|(u, _)| *u == uri) {
            Some((_, n)) => *n += 1,
            None => per_uri.push((uri, 1)),
        }
    }
    let counts: Vec<usize> = per_uri.iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, vec![5, 10, 25], "tshark: {per_uri:?}");
    assert!(per_uri[0]
        .0
        .ends_with("/_vti_bin/fpcount.exe?Page=default.asp|Image=3"));

    let r = analyze(&path);
    let http: Vec<_> = r.connections.iter().flat_map(|c| &c.http).collect();
    assert_eq!(http.len(), 40);
    let paths: Vec<String> = http.iter().map(|h| h.path.clone().unwrap()).collect();
    assert_eq!(paths, requests, "the same requests, in the same order");
    let first = http[0];
    assert_eq!(first.path.as_deref(), Some("/postinfo.html"));
    assert_eq!(first.status, Some(404));
    assert_eq!(first.response_ts, Some(f6.ts));
    let ttfb = first.ttfb_ms.unwrap();
    assert!((ttfb - 0.219).abs() < 0.01, "{ttfb}");
    let fpcount = http
        .iter()
        .position(|h| {
            h.path
                .as_deref()
                .is_some_and(|p| p.starts_with("/_vti_bin/fpcount.exe"))
        })
        .unwrap();
    assert_eq!(fpcount, 6, "the seventh request of the batch");
    assert!(
        http[fpcount].ttfb_ms.unwrap() > ttfb,
        "its response came later"
    );
    // Every request got exactly one response, in order.
    assert!(http.iter().all(|h| h.status == Some(404) && h.complete));
}

/// `http-keepalive-page.pcap` asks for `/favicon.ico` twice (streams 3 and 6). tshark's
/// own truth file shows both answered (frames 212→237 and 697→701), but its timing file
/// (`http.time` with body reassembly off) lists only the second, so fidelity.py pairs that
/// one value with the lower of our two. Why tshark loses the first: on stream 3 the
/// fancybox.js response's body ends in frame 206, a 69-byte segment `tion(){}};...(jQuery);`
/// with no line end; with `http.desegment_body:FALSE` tshark does not track the body, takes
/// those bytes for the start of a header line and asks TCP for more, so frame 236 is shown
/// as "[2 Reassembled TCP Segments (1489 bytes): #206(69), #236(1420)]" labelled
/// `Continuation`: the favicon's status line, at byte 0 of frame 236 (offset 69 of that
/// glued PDU), is never parsed and gets no `http.time`. By RFC 9112 section 6.3 item 6 the
/// fancybox body is exactly its Content-Length, so the next response starts at frame 236's
/// first byte. pagetrace times both favicons.
#[test]
fn both_favicon_requests_are_timed() {
    let path = corpus_or_skip!("http-keepalive-page.pcap");
    let truth_http = truth(&path, ".truth.json");
    let answered = truth_http["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["kind"] == "response"
                && m["response_for.uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/favicon.ico"))
        })
        .count();
    assert_eq!(answered, 2, "tshark saw both favicon responses");
    let timing = truth(&path, ".timing.json");
    let timed = timing["http1"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["uri"] == "/favicon.ico")
        .count();
    assert_eq!(timed, 1, "tshark's timing file times only one");

    // The bytes: frame 206 ends the fancybox body without a line end; frame 236 follows it
    // in sequence and starts with the favicon's status line.
    let all = frames(&path);
    let (f206, f236) = (frame(&all, 206), frame(&all, 236));
    assert_eq!((f206.src, f206.src_port), (f236.src, f236.src_port));
    assert_eq!(f206.payload.len(), 69);
    assert!(f206.payload.ends_with(b"(jQuery);"));
    assert!(!f206.payload.contains(&b'\n'));
    assert_eq!(
        f236.seq,
        f206.seq.wrapping_add(69),
        "236 follows 206 directly"
    );
    assert!(f236.payload.starts_with(b"HTTP/1.1 200 OK\r\n"));

    let r = analyze(&path);
    let http: Vec<_> = r.connections.iter().flat_map(|c| &c.http).collect();
    let fancybox = http
        .iter()
        .find(|h| h.path.as_deref() == Some("/js/jquery.fancybox-1.3.4.pack.js"))
        .unwrap();
    let declared: u64 = fancybox
        .response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(fancybox.body_bytes, declared);
    assert!(fancybox.complete);
    assert_eq!(
        fancybox.response_end_ts,
        Some(f206.ts),
        "its body ends in 206"
    );
    let ours: Vec<_> = http
        .iter()
        .filter(|h| h.path.as_deref() == Some("/favicon.ico"))
        .collect();
    assert_eq!(ours.len(), 2);
    assert_eq!(
        ours[0].response_ts,
        Some(f236.ts),
        "the first favicon answer is 236"
    );
    let ttfb: Vec<f64> = ours.iter().map(|h| h.ttfb_ms.unwrap()).collect();
    // Request 212 -> 236 (tshark's reassembled http.time is to the last frame, 237), and
    // the second within fidelity.py's tolerance of tshark's 117.352 ms.
    let req212 = frame(&all, 212).ts;
    assert!(
        (ttfb[0] - f236.ts.ms_since(req212)).abs() < 0.001,
        "{ttfb:?}"
    );
    assert!((ttfb[1] - 117.352).abs() < 0.5, "{ttfb:?}");
}

/// tshark lists six HTTP responses in `tcp-retrans-dupack-ooo.pcap` for four requests: the
/// extra two, in frames 42 and 86, are retransmissions. Frame 42 carries the same sequence
/// number and the same 144 bytes as frame 41 (a whole `HTTP/1.1 200 OK` chunked response
/// ending in `0\r\n\r\n`), frame 86 the same as frame 85; tshark's own truth gives neither a
/// `request_in`. TCP delivers a sequence range once (RFC 9293 section 3.10.7.4: a segment
/// wholly below RCV.NXT fails the acceptability test and is dropped with an ACK), and
/// the server's FIN (frame 100) sits exactly 4 × 144 bytes after its ISN + 1: the server
/// sent room for four responses, not six. pagetrace reports four exchanges, one response
/// each.
#[test]
fn retransmitted_responses_are_not_new_responses() {
    let path = corpus_or_skip!("tcp-retrans-dupack-ooo.pcap");
    let all = frames(&path);
    for (orig, copy) in [(41, 42), (85, 86)] {
        let (a, b) = (frame(&all, orig), frame(&all, copy));
        assert_eq!((a.src, a.src_port), (b.src, b.src_port));
        assert_eq!(
            a.seq, b.seq,
            "frame {copy} repeats frame {orig}'s sequence range"
        );
        assert_eq!(a.payload, b.payload, "and its bytes");
        assert_eq!(a.payload.len(), 144);
        assert!(a.payload.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(
            a.payload.ends_with(b"\r\n0\r\n\r\n"),
            "a whole chunked response"
        );
    }
    // The server's data: ISN from its SYN-ACK (frame 4), FIN in frame 100.
    let isn = frame(&all, 4).seq;
    let fin = frame(&all, 100);
    assert!(fin.fin && fin.src == frame(&all, 41).src);
    assert_eq!(fin.seq.wrapping_sub(isn).wrapping_sub(1), 4 * 144);

    let t = truth(&path, ".truth.json");
    let responses: Vec<_> = t["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "response")
        .collect();
    let requests = t["http"].as_array().unwrap().len() - responses.len();
    assert_eq!((requests, responses.len()), (4, 6), "tshark's count");
    let unpaired: Vec<_> = responses
        .iter()
        .filter(|m| m.get("request_in").is_none())
        .map(|m| m["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(
        unpaired,
        vec![42, 86],
        "tshark's extra responses are the copies"
    );

    let r = analyze(&path);
    assert_eq!(r.connections.len(), 1);
    let http = &r.connections[0].http;
    assert_eq!(http.len(), 4);
    for (h, resp_frame) in http.iter().zip([25, 41, 65, 85]) {
        assert_eq!(
            (h.method.as_deref(), h.path.as_deref(), h.status, h.complete),
            (Some("POST"), Some("/exhmedmx"), Some(200), true)
        );
        assert_eq!(h.response_ts, Some(frame(&all, resp_frame).ts));
    }
}

/// DNSSEC on every transaction of `dns-udp-tcp-tc-cname-aaaa.pcap` (a validating
/// resolver's traffic: DO, CD, RRSIG, DNSKEY, DS, NSEC3), against tshark 4.0: the AD bit
/// is set in responses 16 and 75 (`dns.flags.response == 1 && dns.flags.authenticated ==
/// 1`), CD in frames 31-35, 37, 38, 40, 54-57, 59-61 and 63-65 (`dns.flags.checkdisable
/// == 1`), and every response whose answer section holds an RRSIG (type 46, from the
/// truth file) says so.
#[test]
fn dnssec_bits_and_records_agree_with_tshark() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is not here");
        return;
    };
    let path = dir.join("dns-udp-tcp-tc-cname-aaaa.pcap");
    let r = analyze(&path);
    let ad: Vec<u64> = r
        .dns
        .iter()
        .filter(|t| t.dnssec.ad)
        .filter_map(|t| t.response_packet)
        .collect();
    assert_eq!(ad, vec![16, 75]);
    let cd_frames = [
        31, 32, 33, 34, 35, 37, 38, 40, 54, 55, 56, 57, 59, 60, 61, 63, 64, 65,
    ];
    for t in &r.dns {
        let first = t.query_packet.or(t.response_packet).unwrap();
        assert_eq!(t.dnssec.cd, cd_frames.contains(&first), "frame {first}");
    }
    let truth = truth(&path, ".truth.json");
    let mut signed = 0;
    for m in truth["dns"].as_array().unwrap() {
        let rrsig = m["answers"]
            .as_array()
            .is_some_and(|a| a.iter().any(|rr| rr["type"] == 46));
        if m["response"] != 1 || !rrsig {
            continue;
        }
        signed += 1;
        let frame = m["frame"].as_u64().unwrap();
        let t = r
            .dns
            .iter()
            .find(|t| t.response_packet == Some(frame))
            .unwrap_or_else(|| panic!("response {frame} is a transaction"));
        assert!(
            t.dnssec.records.contains(&"RRSIG".to_string()),
            "frame {frame}: {:?}",
            t.dnssec
        );
        assert!(
            t.dnssec.dnssec_ok,
            "frame {frame}: signed answers were asked for"
        );
    }
    assert!(signed >= 5, "{signed} signed answers");
}
