//! The parser targets: one leaf parser each, called as the dissector that owns it calls it.

use std::io::Cursor;

use pagetrace::capture::{CaptureEvent, CaptureReader};
use pagetrace::decrypt::KeyLog;
use pagetrace::dissect::dns;
use pagetrace::dissect::http2::hpack::{Decoder, HeaderList, HpackError};
use pagetrace::dissect::http3::{frame as h3frame, qpack};
use pagetrace::dissect::tls::{cert, fingerprint, handshake, names};
use pagetrace::pageload::dns_log;
use pagetrace::time::Ts;

use crate::Ops;

/// Capture time certificates are judged at (2023-11-14).
const AT: Ts = Ts(1_700_000_000_000_000_000);

/// `[selector][handshake message body]`: the hello parsers and the fingerprints built on
/// them, the Certificate list (TLS 1.2 and 1.3 forms, each certificate summarised as the
/// dissector does), the ServerKeyExchange under a chosen suite.
pub fn tls_handshake(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    match sel % 6 {
        0 => {
            if let Ok((ch, _notes)) = handshake::parse_client_hello(body) {
                fingerprint::md5_hex(&fingerprint::ja3_string(&ch));
                fingerprint::ja4(&ch, false);
                fingerprint::ja4_raw(&ch, true);
            }
        }
        1 => {
            if let Ok((sh, _notes)) = handshake::parse_server_hello(body) {
                fingerprint::md5_hex(&fingerprint::ja3s_string(&sh));
                sh.version();
            }
        }
        2 => {
            if let Ok(ch) = handshake::parse_sslv2_client_hello(body) {
                fingerprint::ja4(&ch, false);
            }
        }
        3 | 4 => {
            if let Ok((ders, _total)) = handshake::parse_certificate_list(body, sel % 6 == 4, 10) {
                for (k, der) in ders.into_iter().enumerate() {
                    cert::summarize(der, Some(AT), Some("fuzz.example"), k == 0);
                }
            }
        }
        _ => {
            // The suite's key exchange decides how the parameters start.
            let suite = (u16::from(sel >> 3) * 0x101) ^ 0xc000;
            let kx = [
                None,
                Some("ECDHE"),
                Some("DHE"),
                Some("ECDHE_PSK"),
                Some("DHE_PSK"),
                names::key_exchange_of(suite),
            ];
            for k in kx {
                handshake::parse_server_key_exchange(body, k);
            }
        }
    }
}

/// One DER certificate, as the leaf and as an intermediate.
pub fn x509(data: &[u8]) {
    cert::summarize(data, Some(AT), Some("fuzz.example"), true);
    cert::summarize(data, None, None, false);
}

/// `[table size byte][max list size byte]`, then header blocks `[u16 length][block]` on
/// one connection's decoder, desynchronised after an error as the HTTP/2 dissector does.
pub fn hpack(data: &[u8]) {
    let mut ops = Ops::new(data);
    let (Some(t), Some(l)) = (ops.byte(), ops.byte()) else {
        return;
    };
    let mut d = Decoder::new(usize::from(t) * 64);
    d.set_max_header_list_size(usize::from(l) * 256 + 1);
    let mut out = HeaderList::new();
    while let Some(block) = ops.chunk() {
        match d.decode(block, &mut out) {
            Ok(()) | Err(HpackError::HeaderListTooLarge { .. }) => {}
            Err(_) => d.desynchronise(),
        }
        for (name, _value) in out.iter() {
            out.value(name);
        }
        out.list_size();
        out.unknown_fields();
    }
}

/// One DNS message and everything the DNS log reads from it.
pub fn dns(data: &[u8]) {
    let Ok(m) = dns::parse_message(data) else {
        return;
    };
    m.id();
    m.is_response();
    m.is_complete();
    m.rcode_name();
    m.malformed_records();
    m.problem();
    let qs: Vec<_> = m.questions.iter().map(dns_log::question).collect();
    m.answers.iter().chain(&m.authority).for_each(|r| {
        dns_log::answer(r);
    });
    m.addresses().count();
    m.cnames().count();
    if let Some(q) = qs.first() {
        m.addresses_for(&q.name);
    }
}

/// Key log text, as bytes and as (lossy) text, then looked up.
pub fn keylog(data: &[u8]) {
    let mut k = KeyLog::new();
    k.add_bytes(data);
    k.add_text(&String::from_utf8_lossy(data));
    let mut random = [0u8; 32];
    for (r, b) in random.iter_mut().zip(data) {
        *r = *b;
    }
    if let Some(s) = k.lookup(&random) {
        s.has_tls13();
    }
    k.stats();
}

const PCAP_MAGICS: [[u8; 4]; 6] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

fn read_capture(bytes: Vec<u8>) {
    let Ok(mut r) = CaptureReader::new(Cursor::new(bytes)) else {
        return;
    };
    let mut w = Vec::new();
    let mut n = 0usize;
    r.for_each(&mut w, |ev| {
        n += match ev {
            CaptureEvent::Packet(p) => p.data.len(),
            CaptureEvent::Secrets { data, .. } => data.len(),
        }
    });
    r.link_types();
}

/// The capture reader on a pcap (a pcap magic is put in front when the input has none).
pub fn pcap_reader(data: &[u8]) {
    let mut v = Vec::with_capacity(data.len() + 4);
    if !data
        .get(..4)
        .is_some_and(|m| PCAP_MAGICS.iter().any(|p| p == m))
    {
        v.extend_from_slice(&PCAP_MAGICS[0]);
    }
    v.extend_from_slice(data);
    read_capture(v);
}

/// The capture reader on a pcapng (a section header's block type is put in front when the
/// input has none).
pub fn pcapng_reader(data: &[u8]) {
    let mut v = Vec::with_capacity(data.len() + 4);
    if !data.starts_with(&PCAPNG_MAGIC) {
        v.extend_from_slice(&PCAPNG_MAGIC);
    }
    v.extend_from_slice(data);
    read_capture(v);
}

/// `[capacity byte][blocked-streams byte]`, then operations `[op][u16 length][bytes]` on one
/// connection's QPACK decoder (RFC 9204): encoder-stream bytes, decoder-stream bytes, a field
/// section on stream `op >> 2`, a stream cancelled; queued sections are polled after each,
/// as the HTTP/3 dissector does. Every section also goes through the HTTP/3 frame payload
/// parser under a type chosen by its first byte.
pub fn qpack(data: &[u8]) {
    let mut ops = Ops::new(data);
    let (Some(c), Some(b)) = (ops.byte(), ops.byte()) else {
        return;
    };
    let mut d = qpack::Decoder::with_settings(u64::from(c) * 64, u64::from(b));
    d.set_max_header_list_size(64 * 1024);
    let mut out = HeaderList::new();
    while let (Some(op), Some(bytes)) = (ops.byte(), ops.chunk()) {
        let stream = u64::from(op >> 2) * 4;
        match op & 3 {
            0 => {
                if d.handle_encoder_stream(bytes).is_err() {
                    d.desynchronise();
                }
            }
            1 => {
                let _ = d.handle_decoder_stream(bytes);
            }
            2 => {
                let _ = d.decode_section(stream, bytes, &mut out);
                if let Some(&t) = bytes.first() {
                    let _ =
                        h3frame::parse_payload(h3frame::FrameType::from_u64(u64::from(t)), bytes);
                }
            }
            _ => {
                d.cancel_stream(stream);
            }
        }
        while d.poll_unblocked(&mut out).is_some() {}
        d.stats();
    }
}
