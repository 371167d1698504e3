//! Builds the seed corpora, `fuzz/corpus/<target>/`, from captures read in place (the
//! fixtures and `../shared/captures`; nothing is copied into the repository) and the HPACK
//! test cases. Run by `fuzz/seed.sh`:
//!
//! ```text
//! seed CORPUS_DIR HPACK_DIR_OR_- CAPTURE...
//! ```
//!
//! Whole-file targets get each capture cut to 64 KiB, and a reduced pcapng (the first
//! packets of every flow, with the capture's key log in a Decryption Secrets Block when
//! `<capture>.keys` or the fixture's `pageload.keys` exists). The structured and parser
//! targets get what the captures carry, extracted with pagetrace's own readers: TCP
//! conversations in `tcp_frames` form (plain HTTP also re-sealed in the synthetic TLS
//! session), QUIC datagrams raw and Initial frames unprotected, DNS messages, clear TLS
//! handshake messages and certificates, HTTP/2 header blocks, key logs.
//!
//! It ends with a self-check that the harnesses reach what they are meant to: a sealed
//! HTTP/1 exchange is decrypted, a sealed QUIC Initial yields a connection with its SNI.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::dissect::quic::crypto::InitialKeyPair;
use pagetrace::dissect::quic::packet::LongType;
use pagetrace::dissect::quic::{looks_like_quic, parse_packet, QuicPacket};
use pagetrace::link::{self, LinkType};
use pagetrace::net::{self, TcpSegment, UdpDatagram, PROTO_TCP, PROTO_UDP};
use pagetrace_fuzz::conv::H2_PREFACE;
use pagetrace_fuzz::put_chunk;

const CUT: usize = 64 << 10;
const PER_FLOW: usize = 12;

struct Corpus {
    dir: PathBuf,
    seen: HashSet<(String, u64)>,
    counts: HashMap<String, usize>,
}

impl Corpus {
    fn add(&mut self, target: &str, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // FNV-1a names the file and drops duplicates.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
        if !self.seen.insert((target.to_string(), h)) {
            return;
        }
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        std::fs::write(dir.join(format!("seed-{h:016x}")), bytes).expect("write seed");
        *self.counts.entry(target.to_string()).or_default() += 1;
    }
}

fn dlt(l: LinkType) -> u32 {
    match l {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::Raw => 101,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
        LinkType::Null => 0,
        LinkType::Loop => 108,
        LinkType::Unknown(n) => n,
    }
}

/// A pcapng: one section, an interface per link type, an optional secrets block, packets.
fn pcapng(packets: &[(LinkType, i64, Vec<u8>)], keys: Option<&str>) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let total = (12 + body.len() + pad) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&[0; 3][..pad]);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut links: Vec<LinkType> = Vec::new();
    for (l, _, _) in packets {
        if !links.contains(l) {
            links.push(*l);
            let mut idb = (dlt(*l) as u16).to_le_bytes().to_vec();
            idb.extend_from_slice(&[0, 0]);
            idb.extend_from_slice(&262_144u32.to_le_bytes());
            block(&mut out, 1, &idb);
        }
    }
    if let Some(k) = keys {
        let mut dsb = 0x544c_534bu32.to_le_bytes().to_vec();
        dsb.extend_from_slice(&(k.len() as u32).to_le_bytes());
        dsb.extend_from_slice(k.as_bytes());
        block(&mut out, 10, &dsb);
    }
    for (l, ts, data) in packets {
        let iface = links.iter().position(|x| x == l).unwrap_or(0) as u32;
        let micros = (*ts / 1000) as u64;
        let mut epb = iface.to_le_bytes().to_vec();
        epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(micros as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        block(&mut out, 6, &epb);
    }
    out
}

type FlowKey = (u8, (IpAddr, u16), (IpAddr, u16));

/// A TCP connection as captured: segments in order, `true` for client to server.
#[derive(Default)]
struct TcpFlow {
    client: Option<(IpAddr, u16)>,
    first: Option<(IpAddr, u16)>,
    segs: Vec<((IpAddr, u16), Vec<u8>)>,
}

impl TcpFlow {
    fn client(&self) -> Option<(IpAddr, u16)> {
        self.client.or(self.first)
    }
    fn server_port(&self, key: &FlowKey) -> u16 {
        match self.client() {
            Some(c) if c == key.1 => key.2 .1,
            _ => key.1 .1,
        }
    }
    fn stream(&self, to_server: bool) -> Vec<u8> {
        let c = self.client();
        let mut v = Vec::new();
        for (src, p) in &self.segs {
            if (Some(*src) == c) == to_server {
                v.extend_from_slice(p);
            }
        }
        v
    }
}

fn key_of(proto: u8, a: (IpAddr, u16), b: (IpAddr, u16)) -> FlowKey {
    if a <= b {
        (proto, a, b)
    } else {
        (proto, b, a)
    }
}

/// What one capture feeds the corpora.
fn capture(c: &mut Corpus, path: &Path, keys: Option<&str>) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return;
        }
    };
    let cut = &bytes[..bytes.len().min(CUT)];
    c.add("pipeline", cut);
    let reader_target = if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        "pcapng_reader"
    } else {
        "pcap_reader"
    };
    c.add(reader_target, cut);
    let Ok(mut reader) = CaptureReader::new(Cursor::new(bytes.clone())) else {
        return;
    };
    let mut per_flow: HashMap<Option<FlowKey>, usize> = HashMap::new();
    let mut reduced: Vec<(LinkType, i64, Vec<u8>)> = Vec::new();
    let mut reduced_len = 0usize;
    let mut tcp: HashMap<FlowKey, TcpFlow> = HashMap::new();
    let mut tcp_order: Vec<FlowKey> = Vec::new();
    let mut quic: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut warnings = Vec::new();
    reader.for_each(&mut warnings, |ev| {
        let CaptureEvent::Packet(p) = ev else { return };
        let mut flow = None;
        if let Ok(f) = link::decode(p.link, p.data) {
            if let Ok(ip) = net::parse_ip(f.proto, f.payload) {
                match ip.proto {
                    PROTO_TCP if ip.frag.is_none() => {
                        if let Ok(t) = TcpSegment::new_checked(ip.payload) {
                            let (src, dst) = ((ip.src, t.src_port), (ip.dst, t.dst_port));
                            let k = key_of(PROTO_TCP, src, dst);
                            flow = Some(k);
                            let e = tcp.entry(k).or_insert_with(|| {
                                tcp_order.push(k);
                                TcpFlow::default()
                            });
                            if t.flags.syn() && !t.flags.ack() {
                                e.client = Some(src);
                            }
                            if !t.payload.is_empty() {
                                if e.first.is_none() {
                                    // Without a SYN: the side on the higher port is the client.
                                    e.first = Some(if src.1 > dst.1 { src } else { dst });
                                }
                                e.segs.push((src, t.payload.to_vec()));
                            }
                        }
                    }
                    PROTO_UDP if ip.frag.is_none() => {
                        if let Some(u) = UdpDatagram::new_checked(ip.payload) {
                            flow = Some(key_of(
                                PROTO_UDP,
                                (ip.src, u.src_port),
                                (ip.dst, u.dst_port),
                            ));
                            if u.src_port == 53 || u.dst_port == 53 {
                                c.add("dns", u.payload);
                            } else if looks_like_quic(u.payload) || !quic.is_empty() {
                                let to_server = u.dst_port == 443 || u.src_port > u.dst_port;
                                quic.push((to_server, u.payload.to_vec()));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let n = per_flow.entry(flow).or_default();
        *n += 1;
        if *n <= PER_FLOW && reduced_len < CUT {
            reduced_len += p.data.len();
            reduced.push((p.link, p.ts.nanos(), p.data.to_vec()));
        }
    });
    let ng = pcapng(&reduced, keys);
    c.add("pipeline", &ng);
    c.add("pipeline_keylog", &ng);
    c.add("pipeline_keylog", &pcapng(&reduced, None));
    c.add("pipeline_threads", &ng);
    c.add("pcapng_reader", &ng);
    for k in &tcp_order {
        tcp_flow(c, k, &tcp[k]);
    }
    quic_seeds(c, &quic);
}

/// `tcp_frames` seeds, and DNS, TLS handshake, certificate and HPACK seeds, from one
/// TCP connection.
fn tcp_flow(c: &mut Corpus, key: &FlowKey, f: &TcpFlow) {
    if f.segs.is_empty() {
        return;
    }
    let port = f.server_port(key);
    let up = f.stream(true);
    let down = f.stream(false);
    let tls = up.first() == Some(&0x16) || down.first() == Some(&0x16);
    let h2 = up.starts_with(H2_PREFACE);
    let mode = if port == 53 {
        3
    } else if tls {
        2 | 0x80
    } else if h2 {
        1 | 0x10
    } else {
        0
    };
    let ops = |kind: u8| {
        let mut v = Vec::new();
        for (src, p) in &f.segs {
            if v.len() > CUT {
                break;
            }
            let to_server = Some(*src) == f.client();
            v.push((kind << 1) | u8::from(!to_server));
            put_chunk(&mut v, p);
        }
        v
    };
    let mut seed = vec![mode];
    seed.extend_from_slice(&ops(2));
    c.add("tcp_frames", &seed);
    if !tls && port != 53 && !up.is_empty() {
        // The same plaintext sealed in the synthetic TLS session (1.2 and 1.3).
        let alpn_h2 = up.starts_with(H2_PREFACE) || up.starts_with(b"PRI ");
        for v13 in [0u8, 0x04] {
            let mut seed = vec![2 | v13 | if alpn_h2 { 0x08 } else { 0 }];
            seed.extend_from_slice(&ops(0));
            c.add("tcp_frames", &seed);
        }
    }
    if port == 53 {
        for s in [&up, &down] {
            let mut rest = &s[..];
            while rest.len() >= 2 {
                let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let Some(m) = rest.get(2..2 + n) else { break };
                c.add("dns", m);
                rest = &rest[2 + n..];
            }
        }
    }
    if tls {
        for s in [&up, &down] {
            tls_messages(c, s);
        }
    }
    if h2 {
        h2_blocks(c, &up[H2_PREFACE.len()..]);
        h2_blocks(c, &down);
    }
}

/// Clear handshake messages of one direction's TLS stream.
fn tls_messages(c: &mut Corpus, stream: &[u8]) {
    let mut hs = Vec::new();
    let mut rest = stream;
    while rest.len() >= 5 {
        let n = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let Some(frag) = rest.get(5..5 + n) else {
            break;
        };
        match rest[0] {
            22 => hs.extend_from_slice(frag),
            20 | 23 => break,
            _ => {}
        }
        rest = &rest[5 + n..];
    }
    let mut m = &hs[..];
    while m.len() >= 4 {
        let n = (usize::from(m[1]) << 16) | (usize::from(m[2]) << 8) | usize::from(m[3]);
        let Some(body) = m.get(4..4 + n) else { break };
        let sel = match m[0] {
            1 => Some(0),
            2 => Some(1),
            11 => Some(3),
            12 => Some(5),
            _ => None,
        };
        if let Some(sel) = sel {
            let mut seed = vec![sel];
            seed.extend_from_slice(body);
            c.add("tls_handshake", &seed);
        }
        if m[0] == 11 {
            if let Ok((ders, _)) =
                pagetrace::dissect::tls::handshake::parse_certificate_list(body, false, 16)
            {
                for der in ders {
                    c.add("x509", der);
                }
            }
        }
        m = &m[4 + n..];
    }
}

/// HEADERS and CONTINUATION fragments of one direction's HTTP/2 frames, as one `hpack`
/// seed.
fn h2_blocks(c: &mut Corpus, mut s: &[u8]) {
    let mut seed = vec![64, 255];
    while s.len() >= 9 {
        let n = (usize::from(s[0]) << 16) | (usize::from(s[1]) << 8) | usize::from(s[2]);
        let (kind, flags) = (s[3], s[4]);
        let Some(mut p) = s.get(9..9 + n) else { break };
        if kind == 1 || kind == 9 {
            if kind == 1 && flags & 0x08 != 0 {
                let pad = usize::from(*p.first().unwrap_or(&0));
                p = p.get(1..p.len().saturating_sub(pad)).unwrap_or(&[]);
            }
            if kind == 1 && flags & 0x20 != 0 {
                p = p.get(5..).unwrap_or(&[]);
            }
            put_chunk(&mut seed, p);
        }
        s = &s[9 + n..];
    }
    if seed.len() > 2 {
        c.add("hpack", &seed);
    }
}

/// `quic` seeds: the capture's datagrams raw, and the frames of the Initials it can open.
fn quic_seeds(c: &mut Corpus, dgrams: &[(bool, Vec<u8>)]) {
    if dgrams.is_empty() {
        return;
    }
    let mut raw = Vec::new();
    for (to_server, d) in dgrams.iter().take(24) {
        raw.push((2 << 1) | u8::from(!to_server));
        put_chunk(&mut raw, d);
    }
    c.add("quic", &raw);
    let mut sealed = Vec::new();
    let mut keys: Option<InitialKeyPair> = None;
    for (to_server, d) in dgrams {
        let mut rest = &d[..];
        while !rest.is_empty() {
            let Ok((pkt, len)) = parse_packet(rest) else {
                break;
            };
            if let QuicPacket::Long {
                kind: LongType::Initial,
                version,
                dcid,
                pn_offset,
                bytes,
                ..
            } = pkt
            {
                if *to_server && keys.is_none() {
                    keys = InitialKeyPair::new(version, dcid);
                }
                if let Some(k) = &keys {
                    let side = if *to_server {
                        Some(&k.client)
                    } else {
                        k.server()
                    };
                    let (mut h, mut out) = (Vec::new(), Vec::new());
                    if side.is_some_and(|side| {
                        side.unprotect(bytes, pn_offset, None, &mut h, &mut out)
                            .is_ok()
                    }) {
                        sealed.push(u8::from(!to_server));
                        put_chunk(&mut sealed, &out);
                    }
                }
            }
            rest = &rest[len.min(rest.len())..];
            if len == 0 {
                break;
            }
        }
    }
    if !sealed.is_empty() {
        c.add("quic", &sealed);
    }
}

fn hpack_cases(c: &mut Corpus, dir: &Path) {
    let Ok(encoders) = std::fs::read_dir(dir) else {
        return;
    };
    for enc in encoders.filter_map(|e| e.ok()) {
        let Ok(stories) = std::fs::read_dir(enc.path()) else {
            continue;
        };
        let mut stories: Vec<_> = stories.filter_map(|e| e.ok().map(|e| e.path())).collect();
        stories.sort();
        for story in stories.iter().take(8) {
            let Ok(text) = std::fs::read_to_string(story) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let mut seed = vec![64, 255];
            for case in v["cases"].as_array().into_iter().flatten().take(32) {
                if let Some(wire) = case["wire"].as_str() {
                    let block: Vec<u8> = (0..wire.len() / 2)
                        .filter_map(|i| u8::from_str_radix(&wire[2 * i..2 * i + 2], 16).ok())
                        .collect();
                    put_chunk(&mut seed, &block);
                }
            }
            c.add("hpack", &seed);
        }
    }
}

/// QIFs interop files (`stream id u64, length u32, bytes`; stream 0 is the encoder stream,
/// RFC 9204 interop format), named `<name>.out.<capacity>.<blocked>.<ack>`, as `qpack`
/// seeds.
fn qpack_cases(c: &mut Corpus, dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files.iter().take(400) {
        let Ok(data) = std::fs::read(f) else {
            continue;
        };
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut parts = name.rsplit('.');
        let (_ack, blocked, cap) = (parts.next(), parts.next(), parts.next());
        let num = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        let mut seed = vec![(num(cap) / 64).min(255) as u8, num(blocked).min(255) as u8];
        let mut pos = 0;
        while pos + 12 <= data.len() && seed.len() < 64 * 1024 {
            let stream = u64::from_be_bytes(data[pos..pos + 8].try_into().unwrap_or_default());
            let len = u32::from_be_bytes(data[pos + 8..pos + 12].try_into().unwrap_or_default());
            let end = (pos + 12).saturating_add(len as usize).min(data.len());
            let op = if stream == 0 {
                0
            } else {
                (((stream / 4) % 64) << 2) as u8 | 2
            };
            seed.push(op);
            put_chunk(&mut seed, &data[pos + 12..end]);
            pos = end;
        }
        c.add("qpack", &seed);
    }
}

/// The DER inside a PEM file.
fn pem(text: &str) -> Vec<u8> {
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for ch in b64.bytes() {
        let v = match ch {
            b'A'..=b'Z' => ch - b'A',
            b'a'..=b'z' => ch - b'a' + 26,
            b'0'..=b'9' => ch - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn keys_for(path: &Path) -> Option<String> {
    let mut beside = path.as_os_str().to_owned();
    beside.push(".keys");
    std::fs::read_to_string(beside)
        .or_else(|_| std::fs::read_to_string(path.with_file_name("pageload.keys")))
        .ok()
}

/// The harnesses reach the paths they exist for.
fn self_check() {
    let keys = pagetrace_fuzz::keylog();
    let request = b"GET / HTTP/1.1\r\nHost: fuzz.example\r\n\r\n";
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for v13 in [0u8, 0x04] {
        let mut seed = vec![2 | v13];
        seed.push(0);
        put_chunk(&mut seed, request);
        seed.push(1);
        put_chunk(&mut seed, response);
        let r = pagetrace_fuzz::conv::tcp_frames(&seed, &keys).expect("a report");
        let c = &r.connections[0];
        let decrypted = c.tls.as_ref().is_some_and(|t| t.decrypted);
        let ok = decrypted && c.http.first().and_then(|h| h.status) == Some(200);
        eprintln!(
            "self-check: TLS 1.{} sealed HTTP/1 {}",
            if v13 != 0 { 3 } else { 2 },
            if ok { "decrypted" } else { "NOT decrypted" }
        );
        if !ok {
            eprintln!("{}", serde_json::to_string_pretty(c).unwrap_or_default());
            std::process::exit(1);
        }
    }
    // A CRYPTO frame with a minimal ClientHello carrying SNI.
    let ch = pagetrace_fuzz::tls::client_hello(true);
    let mut frames = vec![0x06, 0x00, 0x40 | (ch.len() >> 8) as u8, ch.len() as u8];
    frames.extend_from_slice(&ch);
    let mut seed = vec![0];
    put_chunk(&mut seed, &frames);
    let r = pagetrace_fuzz::conv::quic(&seed);
    let sni = r
        .quic
        .first()
        .and_then(|q| q.tls.as_ref().and_then(|t| t.sni.clone()))
        .unwrap_or_default();
    eprintln!("self-check: QUIC Initial SNI {sni:?}");
    if sni != "fuzz.example" {
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: seed CORPUS_DIR HPACK_DIR_OR_- CAPTURE... (QIFS=dir for qpack)");
        std::process::exit(2);
    }
    self_check();
    let mut c = Corpus {
        dir: PathBuf::from(&args[0]),
        seen: HashSet::new(),
        counts: HashMap::new(),
    };
    if args[1] != "-" {
        hpack_cases(&mut c, Path::new(&args[1]));
    }
    if let Ok(q) = std::env::var("QIFS") {
        qpack_cases(&mut c, Path::new(&q));
    }
    for p in &args[2..] {
        let path = Path::new(p);
        if p.ends_with(".crt") || p.ends_with(".pem") {
            if let Ok(t) = std::fs::read_to_string(path) {
                c.add("x509", &pem(&t));
            }
            continue;
        }
        if p.ends_with(".keys") {
            if let Ok(t) = std::fs::read_to_string(path) {
                let head: String = t.lines().take(24).collect::<Vec<_>>().join("\n");
                c.add("keylog", head.as_bytes());
            }
            continue;
        }
        let keys = keys_for(path);
        capture(&mut c, path, keys.as_deref());
    }
    c.add("keylog", pagetrace_fuzz::tls::keylog_lines().as_bytes());
    let mut counts: Vec<_> = c.counts.into_iter().collect();
    counts.sort();
    for (t, n) in counts {
        println!("{t}: {n} seeds");
    }
}
