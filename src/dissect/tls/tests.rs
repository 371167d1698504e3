//! Byte-array tests: hellos and flights built here field by field (no capture bytes), one
//! test per corner of issue 3, and truncation / corruption / random-input tests.

use super::*;
use crate::decrypt::KeyLog;
use crate::dissect::stream::{Dir, PlaintextSink, StreamCtx};
use crate::time::Ts;
use crate::warning::WarningKind;

// ---------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------

/// 2025-01-01T00:00:00Z plus `ms` milliseconds.
fn t(ms: i64) -> Ts {
    Ts(1_735_689_600_000_000_000 + ms * 1_000_000)
}

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn vec8(b: &[u8]) -> Vec<u8> {
    let mut v = vec![b.len() as u8];
    v.extend_from_slice(b);
    v
}

fn vec16(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn vec24(b: &[u8]) -> Vec<u8> {
    let n = b.len();
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(b);
    v
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut v = t.to_be_bytes().to_vec();
    v.extend(vec16(data));
    v
}

fn sni(name: &str) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend(vec16(name.as_bytes()));
    ext(0, &vec16(&entry))
}

fn alpn(protos: &[&str]) -> Vec<u8> {
    let list: Vec<u8> = protos.iter().flat_map(|p| vec8(p.as_bytes())).collect();
    ext(16, &vec16(&list))
}

fn groups(g: &[u16]) -> Vec<u8> {
    ext(10, &vec16(&u16s(g)))
}

fn point_formats(p: &[u8]) -> Vec<u8> {
    ext(11, &vec8(p))
}

fn sig_algs(s: &[u16]) -> Vec<u8> {
    ext(13, &vec16(&u16s(s)))
}

fn ch_versions(v: &[u16]) -> Vec<u8> {
    ext(43, &vec8(&u16s(v)))
}

fn ch_key_share(g: &[u16]) -> Vec<u8> {
    let entries: Vec<u8> = g
        .iter()
        .flat_map(|&g| [g.to_be_bytes().to_vec(), vec16(&[0x42; 32])].concat())
        .collect();
    ext(51, &vec16(&entries))
}

fn psk_modes(m: &[u8]) -> Vec<u8> {
    ext(45, &vec8(m))
}

/// pre_shared_key with one identity and one binder (RFC 8446 4.2.11); must be last.
fn ch_psk() -> Vec<u8> {
    let identity = [vec16(&[7u8; 16]), 0u32.to_be_bytes().to_vec()].concat();
    let ids = vec16(&identity);
    let binders = vec16(&vec8(&[9u8; 32]));
    ext(41, &[ids, binders].concat())
}

fn client_hello_body(
    version: u16,
    random: [u8; 32],
    sid: &[u8],
    ciphers: &[u16],
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.extend(vec8(sid));
    b.extend(vec16(&u16s(ciphers)));
    b.extend(vec8(&[0]));
    b.extend(vec16(&exts.concat()));
    b
}

fn server_hello_body(
    version: u16,
    random: [u8; 32],
    sid: &[u8],
    cipher: u16,
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.extend(vec8(sid));
    b.extend(cipher.to_be_bytes());
    b.push(0);
    if !exts.is_empty() {
        b.extend(vec16(&exts.concat()));
    }
    b
}

fn hs(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![msg_type];
    v.extend(vec24(body));
    v
}

fn record(ct: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![ct];
    v.extend(version.to_be_bytes());
    v.extend(vec16(payload));
    v
}

/// One handshake message cut into records of at most `max` payload bytes.
fn records(ct: u8, payload: &[u8], max: usize) -> Vec<u8> {
    payload
        .chunks(max)
        .flat_map(|c| record(ct, 0x0303, c))
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Test certificates made for this file: an EC P-256 root `CN=Example Root,O=Example\,
/// Inc.,C=US` and a leaf `CN=www.example.com,C=US` it signed, SAN `*.example.com` and
/// `example.com`, serial 0x0a1b2c3d, valid 2024-01-01 .. 2026-01-01.
const LEAF_HEX: &str = concat!(
    "3082017e30820124a00302010202040a1b2c3d300a06082a8648ce3d040302303c310b30090603550406130255533116",
    "3014060355040a0c0d4578616d706c652c20496e632e3115301306035504030c0c4578616d706c6520526f6f74301e17",
    "0d3234303130313030303030305a170d3236303130313030303030305a3027310b300906035504061302555331183016",
    "06035504030c0f7777772e6578616d706c652e636f6d3059301306072a8648ce3d020106082a8648ce3d030107034200",
    "04c2a5ef4599f9e79d877ec63f111e580cbeea31b7b24937fefd0e98a66ee0f14e1b690d520490acf9664bf86b62e498",
    "4f29a4c1e2b58471c16840145bcb726459a329302730250603551d11041e301c820d2a2e6578616d706c652e636f6d82",
    "0b6578616d706c652e636f6d300a06082a8648ce3d04030203480030450221009ec10f93bef0f0c55e6de1d8016f9918",
    "b014df591de6547bc6baf0101d6af39202204b12e8ac61abb17a4c1d06e693741cf9076c56a05471e21f789646c462b2",
    "a44f",
);
const ROOT_HEX: &str = concat!(
    "3082017a30820120a003020102020101300a06082a8648ce3d040302303c310b30090603550406130255533116301406",
    "0355040a0c0d4578616d706c652c20496e632e3115301306035504030c0c4578616d706c6520526f6f74301e170d3234",
    "303130313030303030305a170d3236303130313030303030305a303c310b300906035504061302555331163014060355",
    "040a0c0d4578616d706c652c20496e632e3115301306035504030c0c4578616d706c6520526f6f743059301306072a86",
    "48ce3d020106082a8648ce3d0301070342000426efcebd0ee9e34a669187e18b3a9122b2f733945b649cc9f9f921e9f9",
    "dad81290238bde9cc7bb330d150c67704dd25ae7055205744b6f31bf4070745872d0e6a3133011300f0603551d130101",
    "ff040530030101ff300a06082a8648ce3d040302034800304502201be70d6d4472ac1c7319f1500f9d55eaef8458c2ef",
    "0b5c913151849951ce7a7b022100ed67d8ead6616704f34fa4d8439629cbf1d6bcbf9db60774822734907b086221",
);
const LEAF_SHA256: &str = "ff8b9a8cd5431ef95c5b7425543a0a0927a140702da793d0f492f00fe752d439";

fn certificate_body(ders: &[Vec<u8>]) -> Vec<u8> {
    let list: Vec<u8> = ders.iter().flat_map(|d| vec24(d)).collect();
    vec24(&list)
}

const R_CLIENT: [u8; 32] = [0x11; 32];
const R_SERVER: [u8; 32] = [0x22; 32];
const ECDHE_RSA_AES128_GCM: u16 = 0xc02f;

/// A TLS 1.2 browser-like ClientHello handshake message.
fn ch12(sid: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut exts = vec![
        sni("www.example.com"),
        groups(&[29, 23, 24]),
        point_formats(&[0]),
        sig_algs(&[0x0403, 0x0804, 0x0401]),
        alpn(&["h2", "http/1.1"]),
        ext(23, &[]),
    ];
    exts.extend_from_slice(extra);
    hs(
        1,
        &client_hello_body(
            0x0303,
            R_CLIENT,
            sid,
            &[0xc02b, ECDHE_RSA_AES128_GCM, 0x009c, 0x00ff],
            &exts,
        ),
    )
}

fn feed(d: &mut TlsDissector, ctx: &mut StreamCtx, dir: Dir, ms: i64, bytes: &[u8]) {
    d.handle_data(dir, t(ms), bytes, ctx);
}

fn kinds(ctx: &StreamCtx) -> Vec<String> {
    ctx.warnings
        .iter()
        .map(|w| format!("{}: {}", w.kind, w.message))
        .collect()
}

/// A full TLS 1.2 handshake and some data: (client bytes, server bytes) per step.
fn tls12_full_flow() -> Vec<(Dir, i64, Vec<u8>)> {
    let leaf = unhex(LEAF_HEX);
    let root = unhex(ROOT_HEX);
    let server_flight = [
        hs(
            2,
            &server_hello_body(
                0x0303,
                R_SERVER,
                &[0x33; 32],
                ECDHE_RSA_AES128_GCM,
                &[alpn(&["h2"]), ext(23, &[])],
            ),
        ),
        hs(11, &certificate_body(&[leaf, root])),
        hs(
            12,
            &[
                &[3u8, 0, 29][..],
                &vec8(&[0x55; 32]),
                &[4, 1],
                &vec16(&[0x66; 64]),
            ]
            .concat(),
        ),
        hs(14, &[]),
    ]
    .concat();
    vec![
        (Dir::ToServer, 10, record(22, 0x0301, &ch12(&[], &[]))),
        (Dir::ToClient, 30, record(22, 0x0303, &server_flight)),
        (
            Dir::ToServer,
            40,
            [
                record(22, 0x0303, &hs(16, &vec8(&[0x77; 32]))),
                record(20, 0x0303, &[1]),
                record(22, 0x0303, &[0xee; 40]),
            ]
            .concat(),
        ),
        (Dir::ToServer, 41, record(23, 0x0303, &[0xab; 100])),
        (
            Dir::ToClient,
            60,
            [record(20, 0x0303, &[1]), record(22, 0x0303, &[0xdd; 40])].concat(),
        ),
        (Dir::ToClient, 70, record(23, 0x0303, &[0xcd; 1000])),
        (Dir::ToClient, 71, record(23, 0x0303, &[0xcd; 500])),
        (Dir::ToServer, 90, record(21, 0x0303, &[0x99; 26])),
    ]
}

fn run(flow: &[(Dir, i64, Vec<u8>)]) -> (TlsDissector, StreamCtx) {
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    for (dir, ms, bytes) in flow {
        feed(&mut d, &mut ctx, *dir, *ms, bytes);
    }
    d.handle_close(t(100), &mut ctx);
    (d, ctx)
}

// ---------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------

#[test]
fn looks_like_tls_accepts_hellos_and_rejects_other_protocols() {
    assert!(looks_like_tls(&record(22, 0x0301, &ch12(&[], &[]))));
    assert!(looks_like_tls(&[23, 3, 3, 0, 40]));
    assert!(!looks_like_tls(b"GET / HTTP/1.1\r\n"));
    assert!(!looks_like_tls(b"PRI * HTTP/2.0\r\n"));
    assert!(!looks_like_tls(&[22, 3, 1, 0]));
    assert!(!looks_like_tls(&[22, 3, 5, 0, 10, 1]));
    assert!(!looks_like_tls(&[22, 3, 3, 0x48, 0x01, 1]));
    assert!(!looks_like_tls(&[22, 3, 3, 0, 10, 99]));
    assert!(!looks_like_tls(&[22, 3, 3, 0, 0]));
    assert!(looks_like_tls(&sslv2_hello()));
}

// ---------------------------------------------------------------------------------------
// A full TLS 1.2 handshake
// ---------------------------------------------------------------------------------------

#[test]
fn tls12_full_handshake_fills_every_field() {
    let (d, ctx) = run(&tls12_full_flow());
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.version.as_deref(), Some("TLS 1.2"));
    assert_eq!(
        i.cipher.as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(i.cipher_id, Some(0xc02f));
    assert_eq!(i.sni.as_deref(), Some("www.example.com"));
    assert_eq!(i.alpn_offered, vec!["h2", "http/1.1"]);
    assert_eq!(i.alpn.as_deref(), Some("h2"));
    assert_eq!(
        i.ja3_string.as_deref(),
        Some("771,49195-49199-156-255,0-10-11-13-16-23,29-23-24,0")
    );
    assert_eq!(
        i.ja3.as_deref(),
        Some(fingerprint::md5_hex("771,49195-49199-156-255,0-10-11-13-16-23,29-23-24,0").as_str())
    );
    assert_eq!(
        i.ja3s.as_deref(),
        Some(fingerprint::md5_hex("771,49199,16-23").as_str())
    );
    assert!(!i.resumed);
    assert!(!i.hello_retry);
    assert_eq!(i.client_hello_ts, Some(t(10)));
    assert_eq!(i.server_hello_ts, Some(t(30)));
    // Full handshake: done at the server's Finished (its first protected handshake record).
    assert_eq!(i.handshake_done_ts, Some(t(60)));
    assert_eq!(i.handshake_ms, Some(50.0));
    assert_eq!(i.key_exchange.as_deref(), Some("ECDHE"));
    assert_eq!(i.key_exchange_group.as_deref(), Some("x25519"));
    assert_eq!(i.client_first_app_data_ts, Some(t(41)));
    assert_eq!(i.server_first_app_data_ts, Some(t(70)));
    assert_eq!(
        (i.app_data.client.records, i.app_data.client.bytes),
        (1, 100)
    );
    assert_eq!(
        (i.app_data.server.records, i.app_data.server.bytes),
        (2, 1500)
    );
    assert_eq!(
        (i.change_cipher_spec.client, i.change_cipher_spec.server),
        (1, 1)
    );
    assert_eq!(i.alerts.len(), 1);
    assert_eq!(
        (
            i.alerts[0].from.as_str(),
            i.alerts[0].level.to_string().as_str()
        ),
        ("client", "encrypted")
    );
    assert_eq!(d.outcome(), TlsOutcome::Established);
    assert_eq!(d.client_random(), Some(R_CLIENT));
    assert_eq!(d.server_random(), Some(R_SERVER));
    assert_eq!(d.version(), Some(0x0303));

    let ch = i.client_hello.as_ref().unwrap();
    assert_eq!(ch.legacy_version, "TLS 1.2");
    assert_eq!(ch.session_id, None);
    assert_eq!(
        ch.cipher_suites,
        vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
        ]
    );
    assert_eq!(
        ch.extensions,
        vec![
            "server_name",
            "supported_groups",
            "ec_point_formats",
            "signature_algorithms",
            "application_layer_protocol_negotiation",
            "extended_master_secret"
        ]
    );
    assert_eq!(
        ch.supported_groups,
        vec!["x25519", "secp256r1", "secp384r1"]
    );
    assert_eq!(
        ch.signature_algorithms,
        vec![
            "ecdsa_secp256r1_sha256",
            "rsa_pss_rsae_sha256",
            "rsa_pkcs1_sha256"
        ]
    );
    assert_eq!(ch.compression_methods, vec![0]);
    assert!(!ch.grease && !ch.ech && !ch.psk_offered && !ch.session_ticket && !ch.early_data);
    let sh = i.server_hello.as_ref().unwrap();
    assert_eq!(sh.session_id.as_deref(), Some("33".repeat(32).as_str()));
    assert_eq!(
        sh.extensions,
        vec![
            "application_layer_protocol_negotiation",
            "extended_master_secret"
        ]
    );

    assert_eq!(i.certificates.len(), 2);
    let leaf = &i.certificates[0];
    assert_eq!(leaf.subject, "CN=www.example.com,C=US");
    assert_eq!(leaf.issuer, "CN=Example Root,O=Example\\, Inc.,C=US");
    assert_eq!(leaf.not_before, "2024-01-01T00:00:00+00:00");
    assert_eq!(leaf.not_after, "2026-01-01T00:00:00+00:00");
    assert_eq!(leaf.san, vec!["*.example.com", "example.com"]);
    assert_eq!(leaf.key_type.as_deref(), Some("EC P-256"));
    assert_eq!(leaf.serial.as_deref(), Some("a1b2c3d"));
    assert_eq!(leaf.sha256.as_deref(), Some(LEAF_SHA256));
    assert_eq!(leaf.valid_at_capture, Some(true));
    assert_eq!(leaf.matches_sni, Some(true));
    assert_eq!(
        i.certificates[1].subject,
        "CN=Example Root,O=Example\\, Inc.,C=US"
    );
    assert_eq!(i.certificates[1].matches_sni, None);
}

#[test]
fn several_records_in_one_segment_and_whole_flow_in_one_call_per_direction() {
    // The same flow, each direction's bytes concatenated (only order within a direction
    // matters for framing; the timing differs).
    let flow = tls12_full_flow();
    let client: Vec<u8> = flow
        .iter()
        .filter(|f| f.0 == Dir::ToServer)
        .flat_map(|f| f.2.clone())
        .collect();
    let server: Vec<u8> = flow
        .iter()
        .filter(|f| f.0 == Dir::ToClient)
        .flat_map(|f| f.2.clone())
        .collect();
    let (d, ctx) = run(&[(Dir::ToServer, 10, client), (Dir::ToClient, 30, server)]);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.certificates.len(), 2);
    assert_eq!(i.key_exchange_group.as_deref(), Some("x25519"));
    assert_eq!(i.handshake_done_ts, Some(t(30)));
    assert_eq!(i.app_data.server.records, 2);
}

#[test]
fn hello_split_across_tcp_segments_at_every_offset() {
    let rec = record(22, 0x0301, &ch12(&[1; 32], &[]));
    let mut whole = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    whole.handle_data(Dir::ToServer, t(1), &rec, &mut ctx);
    let want = crate::pageload::tls::tls_info(&whole.facts(), false);
    assert!(want.ja3.is_some());
    for k in 1..rec.len() {
        let mut d = TlsDissector::new();
        let mut ctx = StreamCtx::new();
        d.handle_data(Dir::ToServer, t(1), &rec[..k], &mut ctx);
        assert!(d.client_hello().is_none(), "parsed early at {k}");
        d.handle_data(Dir::ToServer, t(2), &rec[k..], &mut ctx);
        let got = crate::pageload::tls::tls_info(&d.facts(), false);
        assert!(ctx.warnings.is_empty(), "split at {k}: {:?}", kinds(&ctx));
        assert_eq!(got.ja3, want.ja3, "split at {k}");
        assert_eq!(got.sni, want.sni, "split at {k}");
        // The hello is stamped with its first byte's segment.
        assert_eq!(got.client_hello_ts, Some(t(1)));
    }
    // One byte per call.
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    for (n, b) in rec.iter().enumerate() {
        d.handle_data(
            Dir::ToServer,
            t(n as i64),
            std::slice::from_ref(b),
            &mut ctx,
        );
    }
    assert!(ctx.warnings.is_empty());
    assert_eq!(
        crate::pageload::tls::tls_info(&d.facts(), false).client_hello,
        want.client_hello
    );
}

#[test]
fn hello_split_across_records_is_joined() {
    let msg = ch12(&[], &[]);
    for size in [1, 2, 3, 4, 5, 17, 100] {
        let (d, ctx) = run(&[(Dir::ToServer, 1, records(22, &msg, size))]);
        assert!(ctx.warnings.is_empty(), "{size}: {:?}", kinds(&ctx));
        assert_eq!(
            crate::pageload::tls::tls_info(&d.facts(), false)
                .sni
                .as_deref(),
            Some("www.example.com"),
            "record size {size}"
        );
    }
}

#[test]
fn certificate_across_many_records_and_segments() {
    // A 300 KB Certificate message (one big entry x509-parser cannot read, then the leaf)
    // in 16 KB records (~19 records), delivered in 1460-byte segments.
    let big = vec![0x30; 300_000];
    let leaf = unhex(LEAF_HEX);
    let cert_msg = hs(11, &certificate_body(&[leaf, big.clone()]));
    let flight = [
        records(
            22,
            &hs(
                2,
                &server_hello_body(0x0303, R_SERVER, &[], ECDHE_RSA_AES128_GCM, &[]),
            ),
            16384,
        ),
        records(22, &cert_msg, 16384),
        records(22, &hs(14, &[]), 16384),
    ]
    .concat();
    assert!(flight.len() > 300_000);
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        1,
        &record(22, 0x0301, &ch12(&[], &[])),
    );
    for (n, seg) in flight.chunks(1460).enumerate() {
        feed(&mut d, &mut ctx, Dir::ToClient, 2 + n as i64, seg);
    }
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.certificates.len(), 2);
    assert_eq!(i.certificates[0].subject, "CN=www.example.com,C=US");
    use sha2::Digest as _;
    assert_eq!(
        i.certificates[1].sha256.as_deref(),
        Some(fingerprint::hex(&sha2::Sha256::digest(&big)).as_str())
    );
    // Exactly one warning: the unreadable second certificate.
    assert_eq!(ctx.warnings.len(), 1, "{:?}", kinds(&ctx));
    assert_eq!(ctx.warnings[0].kind, WarningKind::Malformed);
    assert!(!d.resumed());
}

#[test]
fn handshake_message_over_the_cap_is_skipped_and_parsing_resumes() {
    let huge_len = record::MAX_HANDSHAKE_MESSAGE + 1;
    let mut msg = vec![
        11u8,
        (huge_len >> 16) as u8,
        (huge_len >> 8) as u8,
        huge_len as u8,
    ];
    msg.extend(vec![0u8; huge_len]);
    msg.extend(hs(12, &[3, 0, 23, 65, 4]));
    msg.extend(hs(14, &[]));
    let flight = [
        record(
            22,
            0x0303,
            &hs(2, &server_hello_body(0x0303, R_SERVER, &[], 0xc02f, &[])),
        ),
        records(22, &msg, 16384),
    ]
    .concat();
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        1,
        &record(22, 0x0301, &ch12(&[], &[])),
    );
    for seg in flight.chunks(5000) {
        feed(&mut d, &mut ctx, Dir::ToClient, 2, seg);
    }
    assert_eq!(ctx.warnings.len(), 1, "{:?}", kinds(&ctx));
    assert_eq!(ctx.warnings[0].kind, WarningKind::Cap);
    assert!(d.dirs[1].hs.pending() == 0);
    assert_eq!(
        crate::pageload::tls::tls_info(&d.facts(), false)
            .key_exchange_group
            .as_deref(),
        Some("secp256r1")
    );
    assert!(crate::pageload::tls::tls_info(&d.facts(), false)
        .certificates
        .is_empty());
}

// ---------------------------------------------------------------------------------------
// TLS 1.3, HelloRetryRequest, resumption, 0-RTT, ECH, GREASE
// ---------------------------------------------------------------------------------------

fn ch13(sni_name: &str, shares: &[u16], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut exts = vec![
        sni(sni_name),
        groups(&[29, 23]),
        sig_algs(&[0x0403, 0x0804]),
        alpn(&["h2"]),
        ch_versions(&[0x0304, 0x0303]),
        ch_key_share(shares),
        psk_modes(&[1]),
    ];
    exts.extend_from_slice(extra);
    hs(
        1,
        &client_hello_body(
            0x0303,
            R_CLIENT,
            &[0x44; 32],
            &[0x1301, 0x1302, 0x1303],
            &exts,
        ),
    )
}

fn sh13(random: [u8; 32], group: u16, key: bool, extra: &[Vec<u8>]) -> Vec<u8> {
    let ks = if key {
        [group.to_be_bytes().to_vec(), vec16(&[0x42; 32])].concat()
    } else {
        group.to_be_bytes().to_vec()
    };
    let mut exts = vec![ext(43, &[3, 4]), ext(51, &ks)];
    exts.extend_from_slice(extra);
    hs(
        2,
        &server_hello_body(0x0303, random, &[0x44; 32], 0x1301, &exts),
    )
}

#[test]
fn hello_retry_request_then_second_client_hello() {
    let flow = vec![
        (
            Dir::ToServer,
            10,
            record(22, 0x0301, &ch13("a.example", &[29], &[])),
        ),
        (
            Dir::ToClient,
            20,
            [
                record(22, 0x0303, &sh13(handshake::HRR_RANDOM, 23, false, &[])),
                record(20, 0x0303, &[1]),
            ]
            .concat(),
        ),
        (
            Dir::ToServer,
            30,
            [
                record(20, 0x0303, &[1]),
                record(22, 0x0303, &ch13("a.example", &[23], &[])),
            ]
            .concat(),
        ),
        (
            Dir::ToClient,
            40,
            [
                record(22, 0x0303, &sh13(R_SERVER, 23, true, &[])),
                record(23, 0x0303, &[0; 30]),
            ]
            .concat(),
        ),
        (Dir::ToClient, 41, record(23, 0x0303, &[0; 900])),
        (
            Dir::ToServer,
            50,
            [record(23, 0x0303, &[0; 53]), record(23, 0x0303, &[0; 80])].concat(),
        ),
        (Dir::ToClient, 60, record(23, 0x0303, &[0; 200])),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert!(i.hello_retry);
    assert_eq!(i.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(i.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(i.client_hello_ts, Some(t(10)));
    assert_eq!(i.server_hello_ts, Some(t(40)));
    // TLS 1.3 without keys: done at the client's first protected record after the ServerHello.
    assert_eq!(i.handshake_done_ts, Some(t(50)));
    assert_eq!(i.handshake_ms, Some(40.0));
    assert_eq!(
        i.client_hello.as_ref().unwrap().key_share_groups,
        vec!["x25519"]
    );
    assert_eq!(d.second_client_hello().unwrap().key_share_groups, vec![23]);
    assert_eq!(d.client_hello_count(), 2);
    assert_eq!(
        i.server_hello.as_ref().unwrap().key_share_group.as_deref(),
        Some("secp256r1")
    );
    assert_eq!(
        (i.key_exchange.as_deref(), i.key_exchange_group.as_deref()),
        (Some("ECDHE"), Some("secp256r1"))
    );
    assert_eq!(i.alpn, None);
    assert_eq!(
        (i.change_cipher_spec.client, i.change_cipher_spec.server),
        (1, 1)
    );
    assert_eq!(i.client_first_app_data_ts, Some(t(50)));
    assert_eq!(
        (i.app_data.client.records, i.app_data.client.bytes),
        (1, 80)
    );
    assert_eq!(i.server_first_app_data_ts, Some(t(60)));
    assert_eq!(i.app_data.server.records, 1);
    assert_eq!(d.client_random(), Some(R_CLIENT));
    assert_eq!(d.server_random(), Some(R_SERVER));
    assert_eq!(d.outcome(), TlsOutcome::Established);
    assert!(!i.resumed);
}

#[test]
fn hello_retry_request_alone_still_reports_version_and_cipher() {
    let flow = vec![
        (
            Dir::ToServer,
            10,
            record(22, 0x0301, &ch13("a.example", &[29], &[])),
        ),
        (
            Dir::ToClient,
            20,
            record(22, 0x0303, &sh13(handshake::HRR_RANDOM, 23, false, &[])),
        ),
    ];
    let (d, _) = run(&flow);
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert!(i.hello_retry);
    assert_eq!(i.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(i.cipher_id, Some(0x1301));
    assert_eq!(i.server_hello_ts, Some(t(20)));
    assert_eq!(d.server_random(), None);
    assert_eq!(d.outcome(), TlsOutcome::Incomplete);
}

#[test]
fn tls12_session_id_resumption() {
    let sid = [0x5a; 32];
    let flow = vec![
        (Dir::ToServer, 10, record(22, 0x0301, &ch12(&sid, &[]))),
        (
            Dir::ToClient,
            20,
            [
                record(
                    22,
                    0x0303,
                    &hs(2, &server_hello_body(0x0303, R_SERVER, &sid, 0xc02f, &[])),
                ),
                record(20, 0x0303, &[1]),
                record(22, 0x0303, &[0xd0; 40]),
            ]
            .concat(),
        ),
        (
            Dir::ToServer,
            30,
            [record(20, 0x0303, &[1]), record(22, 0x0303, &[0xc0; 40])].concat(),
        ),
        (Dir::ToServer, 31, record(23, 0x0303, &[0xc0; 300])),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert!(i.resumed);
    // Abbreviated handshake: the client's Finished closes it.
    assert_eq!(i.handshake_done_ts, Some(t(30)));
    assert_eq!(i.handshake_ms, Some(20.0));
    assert_eq!(i.key_exchange, None);
    assert!(i.certificates.is_empty());
    assert_eq!(i.client_first_app_data_ts, Some(t(31)));
}

#[test]
fn tls12_ticket_resumption_without_session_id_echo() {
    let flow = vec![
        (
            Dir::ToServer,
            10,
            record(22, 0x0301, &ch12(&[], &[ext(35, &[0xaa; 160])])),
        ),
        (
            Dir::ToClient,
            20,
            [
                record(
                    22,
                    0x0303,
                    &hs(
                        2,
                        &server_hello_body(0x0303, R_SERVER, &[], 0xc02f, &[ext(35, &[])]),
                    ),
                ),
                record(
                    22,
                    0x0303,
                    &hs(4, &[&[0, 0, 0x1c, 0x20][..], &vec16(&[0xbb; 160])].concat()),
                ),
                record(20, 0x0303, &[1]),
                record(22, 0x0303, &[0xd0; 40]),
            ]
            .concat(),
        ),
        (
            Dir::ToServer,
            30,
            [record(20, 0x0303, &[1]), record(22, 0x0303, &[0xc0; 40])].concat(),
        ),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    assert!(crate::pageload::tls::tls_info(&d.facts(), false).resumed);
    assert!(d.ticket_issued());
    assert!(
        crate::pageload::tls::tls_info(&d.facts(), false)
            .client_hello
            .unwrap()
            .session_ticket
    );
    assert_eq!(
        crate::pageload::tls::tls_info(&d.facts(), false).handshake_done_ts,
        Some(t(30))
    );
}

#[test]
fn tls13_psk_resumption_with_early_data() {
    let flow = vec![
        (
            Dir::ToServer,
            10,
            record(
                22,
                0x0301,
                &ch13("a.example", &[29], &[ext(42, &[]), ch_psk()]),
            ),
        ),
        (Dir::ToServer, 11, record(20, 0x0303, &[1])),
        (Dir::ToServer, 12, record(23, 0x0303, &[0xe0; 120])),
        (
            Dir::ToClient,
            20,
            record(22, 0x0303, &sh13(R_SERVER, 29, true, &[ext(41, &[0, 0])])),
        ),
        (Dir::ToClient, 21, record(23, 0x0303, &[0; 100])),
        (Dir::ToServer, 30, record(23, 0x0303, &[0; 53])),
        (Dir::ToClient, 40, record(23, 0x0303, &[0; 300])),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert!(i.resumed);
    assert!(i.server_hello.as_ref().unwrap().psk_accepted);
    let ch = i.client_hello.as_ref().unwrap();
    assert!(ch.psk_offered && ch.early_data);
    assert_eq!(ch.psk_modes, vec!["psk_dhe_ke"]);
    assert_eq!(
        ch.extensions.last().map(String::as_str),
        Some("pre_shared_key")
    );
    assert!(i.early_data.offered);
    assert!(
        !i.early_data.accepted,
        "accepted lives in the encrypted EncryptedExtensions"
    );
    // The 0-RTT record is the client's first application data.
    assert_eq!(i.client_first_app_data_ts, Some(t(12)));
    assert_eq!(
        (i.app_data.client.records, i.app_data.client.bytes),
        (1, 120)
    );
    assert_eq!(i.handshake_done_ts, Some(t(30)));
    assert_eq!(i.server_first_app_data_ts, Some(t(40)));
}

#[test]
fn encrypted_client_hello_is_flagged_and_sni_is_the_outer_name() {
    let ech = ext(0xfe0d, &[0, 0, 1, 0, 1, 7, 0, 32, 0, 0, 0, 16, 9, 9]);
    let (d, ctx) = run(&[(
        Dir::ToServer,
        1,
        record(22, 0x0301, &ch13("public.example", &[29], &[ech])),
    )]);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.sni.as_deref(), Some("public.example"));
    let ch = i.client_hello.unwrap();
    assert!(ch.ech);
    // Outer (type 0), HKDF-SHA256 with AES-128-GCM, config id 7.
    assert_eq!(ch.ech_config_id, Some(7));
    assert_eq!(
        ch.extensions.last().map(String::as_str),
        Some("encrypted_client_hello")
    );
}

/// The corpus' Chrome 1xx ClientHello field values (GREASE in ciphers, extensions, groups
/// and supported_versions). tshark 4.0.17's `ja3` for this hello is
/// 30362dc08b66392ffc0fd6d6e9e77ed9, and ours agrees: GREASE is removed from ciphers,
/// extensions and groups before hashing. The "known GREASE bug" of older tshark releases
/// (GREASE kept in one of the lists) does not show in 4.0.17 on any of the 73 GREASE
/// hellos of the corpus (84/84 JA3 agree).
#[test]
fn grease_is_named_and_removed_from_ja3() {
    let exts = vec![
        ext(0xeaea, &[]),
        psk_modes(&[1]),
        ext(18, &[]),
        sni("example.org"),
        ext(11, &vec8(&[0])),
        ext(17513, &vec16(&vec8(b"h2"))),
        ext(27, &vec8(&u16s(&[2]))),
        ext(0xff01, &[0]),
        ch_key_share(&[0x4a4a, 29]),
        sig_algs(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]),
        alpn(&["h2", "http/1.1"]),
        ext(5, &[1, 0, 0, 0, 0]),
        groups(&[0x0a0a, 29, 23, 24]),
        ext(23, &[]),
        ch_versions(&[0xfafa, 0x0304, 0x0303]),
        ext(35, &[]),
        ext(0x5a5a, &[0]),
        ext(21, &[0; 100]),
    ];
    let ciphers = [
        0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let msg = hs(
        1,
        &client_hello_body(0x0303, R_CLIENT, &[1; 32], &ciphers, &exts),
    );
    let (d, ctx) = run(&[(Dir::ToServer, 1, record(22, 0x0301, &msg))]);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(
        i.ja3_string.as_deref(),
        Some(
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
             45-18-0-11-17513-27-65281-51-13-16-5-10-23-43-35-21,29-23-24,0"
        )
    );
    assert_eq!(i.ja3.as_deref(), Some("30362dc08b66392ffc0fd6d6e9e77ed9"));
    let ch = i.client_hello.unwrap();
    assert!(ch.grease);
    assert_eq!(ch.cipher_suites[0], "GREASE");
    assert_eq!(ch.extensions[0], "GREASE");
    assert_eq!(ch.supported_groups[0], "GREASE");
    assert_eq!(ch.supported_versions, vec!["GREASE", "TLS 1.3", "TLS 1.2"]);
    assert_eq!(ch.key_share_groups, vec!["GREASE", "x25519"]);
    // FoxIO's reference output for this Chrome hello.
    assert_eq!(
        i.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
}

/// RFC 8446-era hello with tls13.xargs.org's fields; tshark's ja3 for it is
/// f146948b4a599d4d7ddf071b74696983 (ja3_full below).
#[test]
fn ja3_matches_tshark_for_the_illustrated_tls13_hello() {
    let exts = vec![
        sni("example.ulfheim.net"),
        point_formats(&[0, 1, 2]),
        groups(&[29, 23, 30, 25, 24, 256, 257, 258, 259, 260]),
        ext(35, &[]),
        ext(22, &[]),
        ext(23, &[]),
        sig_algs(&[
            0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806,
            0x0401, 0x0501, 0x0601,
        ]),
        ch_versions(&[0x0304]),
        psk_modes(&[1]),
        ch_key_share(&[29]),
    ];
    let body = client_hello_body(
        0x0303,
        R_CLIENT,
        &[0xe0; 32],
        &[0x1302, 0x1303, 0x1301, 0x00ff],
        &exts,
    );
    let (ch, notes) = handshake::parse_client_hello(&body).unwrap();
    assert!(notes.is_empty());
    assert_eq!(
        fingerprint::ja3_string(&ch),
        "771,4866-4867-4865-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2"
    );
    assert_eq!(
        fingerprint::md5_hex(&fingerprint::ja3_string(&ch)),
        "f146948b4a599d4d7ddf071b74696983"
    );
}

/// The worked example of FoxIO's JA4 specification (technical_details/JA4.md).
#[test]
fn ja4_matches_the_specification_example() {
    let order = [
        0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
        0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
    ];
    let exts: Vec<Vec<u8>> = order
        .iter()
        .map(|&e| match e {
            0x0000 => sni("example.com"),
            0x0010 => alpn(&["h2", "http/1.1"]),
            0x000d => sig_algs(&[
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ]),
            0x002b => ch_versions(&[0x0304, 0x0303]),
            e => ext(e, &[]),
        })
        .collect();
    let ciphers = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let body = client_hello_body(0x0303, R_CLIENT, &[], &ciphers, &exts);
    let (ch, _) = handshake::parse_client_hello(&body).unwrap();
    assert_eq!(
        fingerprint::ja4_raw(&ch, false),
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_\
         0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
    );
    assert_eq!(
        fingerprint::ja4(&ch, false),
        "t13d1516h2_8daaf6152771_e5627efa2ab1"
    );
    assert_eq!(
        fingerprint::ja4(&ch, true),
        "q13d1516h2_8daaf6152771_e5627efa2ab1"
    );
    // Without signature algorithms the c part hashes the extension list alone.
    let mut no_sigs = ch.clone();
    no_sigs.sig_algs.clear();
    assert!(fingerprint::ja4(&no_sigs, false).ends_with("_6d807ffa2a79"));
}

// ---------------------------------------------------------------------------------------
// Alerts, roles, SSL 2.0
// ---------------------------------------------------------------------------------------

#[test]
fn fatal_alert_in_clear_is_the_outcome() {
    let flow = vec![
        (Dir::ToServer, 10, record(22, 0x0301, &ch12(&[], &[]))),
        (Dir::ToClient, 20, record(21, 0x0303, &[2, 40])),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty());
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.alerts.len(), 1);
    assert_eq!(
        (
            i.alerts[0].from.as_str(),
            i.alerts[0].level.to_string().as_str()
        ),
        ("server", "fatal")
    );
    assert_eq!(i.alerts[0].description, "handshake_failure");
    assert_eq!(i.alerts[0].ts, t(20));
    assert_eq!(
        d.outcome(),
        TlsOutcome::FatalAlert {
            from: "server",
            description: "handshake_failure".to_string()
        }
    );
}

#[test]
fn alert_of_odd_shape_without_a_handshake_is_taken_as_encrypted() {
    let (d, ctx) = run(&[(
        Dir::ToServer,
        1,
        record(21, 0x0303, &[0, 0, 0, 0, 0, 0, 0, 1, 0x53, 0xc6, 0x56]),
    )]);
    assert!(ctx.warnings.is_empty());
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.alerts.len(), 1);
    assert_eq!(
        i.alerts[0].level,
        crate::pageload::model::AlertLevel::Encrypted
    );
    assert_eq!(d.outcome(), TlsOutcome::NoHandshake);
}

#[test]
fn client_hello_on_the_to_client_direction_swaps_roles() {
    let flow = vec![
        (Dir::ToClient, 10, record(22, 0x0301, &ch12(&[], &[]))),
        (
            Dir::ToServer,
            20,
            record(
                22,
                0x0303,
                &hs(2, &server_hello_body(0x0303, R_SERVER, &[], 0xc02f, &[])),
            ),
        ),
        (Dir::ToClient, 30, record(23, 0x0303, &[1; 10])),
    ];
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty());
    assert_eq!(d.client_dir(), Dir::ToClient);
    assert!(d.roles_known());
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.client_first_app_data_ts, Some(t(30)));
    assert_eq!(i.app_data.client.records, 1);
    assert_eq!(i.version.as_deref(), Some("TLS 1.2"));
}

fn sslv2_hello() -> Vec<u8> {
    // SSL 2.0 CLIENT-HELLO offering TLS 1.0: two cipher specs (one SSL 2.0-only), no
    // session id, a 16-byte challenge.
    let mut body = vec![1, 3, 1, 0, 6, 0, 0, 0, 16];
    body.extend([0x01, 0x00, 0x80, 0x00, 0x00, 0x2f]);
    body.extend([0xcc; 16]);
    let mut rec = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    rec.extend(body);
    rec
}

#[test]
fn sslv2_compatible_client_hello_is_recognised() {
    let flow = vec![
        (Dir::ToServer, 10, sslv2_hello()),
        (
            Dir::ToClient,
            20,
            record(
                22,
                0x0301,
                &hs(2, &server_hello_body(0x0301, R_SERVER, &[], 0x002f, &[])),
            ),
        ),
    ];
    let (d, ctx) = run(&flow);
    assert_eq!(ctx.warnings.len(), 1, "{:?}", kinds(&ctx));
    assert_eq!(ctx.warnings[0].kind, WarningKind::Legacy);
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    let ch = i.client_hello.as_ref().unwrap();
    assert_eq!(ch.legacy_version, "TLS 1.0");
    assert_eq!(ch.cipher_suites, vec!["TLS_RSA_WITH_AES_128_CBC_SHA"]);
    assert_eq!(i.ja3, None);
    assert_eq!(i.version.as_deref(), Some("TLS 1.0"));
    assert_eq!(i.key_exchange.as_deref(), Some("RSA"));
    let mut random = [0u8; 32];
    random[16..].copy_from_slice(&[0xcc; 16]);
    assert_eq!(d.client_random(), Some(random));
}

#[test]
fn ssl3_server_hello_without_extensions() {
    let flow = vec![
        (
            Dir::ToServer,
            10,
            record(
                22,
                0x0300,
                &hs(1, &client_hello_body(0x0300, R_CLIENT, &[], &[0x000a], &[]))[..],
            ),
        ),
        (
            Dir::ToClient,
            20,
            record(
                22,
                0x0300,
                &hs(2, &server_hello_body(0x0300, R_SERVER, &[], 0x000a, &[])),
            ),
        ),
    ];
    // client_hello_body always writes an (empty) extensions block; SSL 3.0 hellos may
    // have none: strip it.
    let mut flow = flow;
    let ch = hs(1, &client_hello_body(0x0300, R_CLIENT, &[], &[0x000a], &[]));
    let ch = [
        &ch[..1],
        &[0, 0, (ch.len() - 6) as u8],
        &ch[4..ch.len() - 2],
    ]
    .concat();
    flow[0].2 = record(22, 0x0300, &ch);
    let (d, ctx) = run(&flow);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.version.as_deref(), Some("SSL 3.0"));
    assert_eq!(i.cipher.as_deref(), Some("TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
    assert_eq!(i.ja3_string.as_deref(), Some("768,10,,,"));
    assert_eq!(
        i.ja4.as_deref(),
        Some("ts3i010000_a8f3e973773c_000000000000")
    );
}

// ---------------------------------------------------------------------------------------
// Malformed input, gaps, truncation, corruption
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_alpn_extension_is_a_warning_and_the_rest_is_kept() {
    let bad_alpn = ext(16, &[0, 9, 2, b'h', b'2']);
    let msg = hs(
        1,
        &client_hello_body(
            0x0303,
            R_CLIENT,
            &[],
            &[0x1301],
            &[sni("x.example"), bad_alpn, groups(&[29])],
        ),
    );
    let (d, ctx) = run(&[(Dir::ToServer, 1, record(22, 0x0301, &msg))]);
    assert_eq!(ctx.warnings.len(), 1, "{:?}", kinds(&ctx));
    assert_eq!(ctx.warnings[0].kind, WarningKind::Malformed);
    assert!(ctx.warnings[0]
        .message
        .contains("application_layer_protocol_negotiation"));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(i.sni.as_deref(), Some("x.example"));
    assert_eq!(i.client_hello.unwrap().supported_groups, vec!["x25519"]);
}

#[test]
fn malformed_record_header_resynchronises_on_the_next_records() {
    let good = record(
        22,
        0x0303,
        &hs(2, &server_hello_body(0x0303, R_SERVER, &[], 0xc02f, &[])),
    );
    let mut server = vec![0x99, 0x03, 0x03, 0x00, 0x10];
    server.extend([0x42; 37]);
    server.extend(&good);
    server.extend(record(22, 0x0303, &hs(14, &[])));
    let flow = vec![
        (Dir::ToServer, 1, record(22, 0x0301, &ch12(&[], &[]))),
        (Dir::ToClient, 2, server),
    ];
    let (d, ctx) = run(&flow);
    let w = kinds(&ctx);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("malformed: TLS: no valid record header (99 03 03 00 10)"));
    assert!(
        w[1].starts_with("gap: TLS: resynchronised on a record boundary after skipping 42 bytes")
    );
    assert_eq!(
        crate::pageload::tls::tls_info(&d.facts(), false).cipher_id,
        Some(0xc02f)
    );
}

#[test]
fn gap_inside_a_record_of_known_length_is_skipped_exactly() {
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        1,
        &record(22, 0x0301, &ch12(&[], &[])),
    );
    let app = record(23, 0x0303, &[7; 1000]);
    feed(&mut d, &mut ctx, Dir::ToServer, 2, &app[..300]);
    d.handle_gap(Dir::ToServer, 500, t(3), &mut ctx);
    feed(&mut d, &mut ctx, Dir::ToServer, 4, &app[800..]);
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        5,
        &record(23, 0x0303, &[8; 20]),
    );
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    // The cut record is lost, the next one counts.
    assert_eq!(
        (i.app_data.client.records, i.app_data.client.bytes),
        (1, 20)
    );
    assert_eq!(d.dirs[0].framer.mode(), record::Mode::Framing);
}

#[test]
fn gap_across_a_record_boundary_resynchronises() {
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        1,
        &record(22, 0x0301, &ch12(&[], &[])),
    );
    let app = record(23, 0x0303, &[7; 1000]);
    feed(&mut d, &mut ctx, Dir::ToServer, 2, &app[..300]);
    d.handle_gap(Dir::ToServer, 1000, t(3), &mut ctx);
    // 295 bytes of the next record's tail, then two whole records.
    let mut after = vec![0x17; 295];
    after.extend(record(23, 0x0303, &[8; 20]));
    after.extend(record(23, 0x0303, &[9; 30]));
    feed(&mut d, &mut ctx, Dir::ToServer, 4, &after);
    let w = kinds(&ctx);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("gap: TLS: capture gap across a record boundary"));
    assert!(w[1].starts_with("gap: TLS: resynchronised"));
    let i = crate::pageload::tls::tls_info(&d.facts(), false);
    assert_eq!(
        (i.app_data.client.records, i.app_data.client.bytes),
        (2, 50)
    );
}

#[test]
fn handshake_message_cut_by_a_gap_is_dropped_with_a_warning() {
    let cert_msg = hs(11, &certificate_body(&[unhex(LEAF_HEX), unhex(ROOT_HEX)]));
    let recs = records(22, &cert_msg, 200);
    let sh = record(
        22,
        0x0303,
        &hs(2, &server_hello_body(0x0303, R_SERVER, &[], 0xc02f, &[])),
    );
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    feed(
        &mut d,
        &mut ctx,
        Dir::ToServer,
        1,
        &record(22, 0x0301, &ch12(&[], &[])),
    );
    feed(&mut d, &mut ctx, Dir::ToClient, 2, &sh);
    // First record and half of the second; then the rest of the second is lost.
    feed(&mut d, &mut ctx, Dir::ToClient, 3, &recs[..205 + 100]);
    d.handle_gap(Dir::ToClient, 105, t(4), &mut ctx);
    feed(&mut d, &mut ctx, Dir::ToClient, 5, &recs[410..]);
    feed(
        &mut d,
        &mut ctx,
        Dir::ToClient,
        6,
        &record(22, 0x0303, &hs(14, &[])),
    );
    let w = kinds(&ctx);
    assert!(
        w.iter().any(|m| m.contains("cut by a capture gap")),
        "{w:?}"
    );
    assert!(crate::pageload::tls::tls_info(&d.facts(), false)
        .certificates
        .is_empty());
}

#[test]
fn non_tls_bytes_make_the_framer_give_up_with_bounded_memory() {
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    let junk = vec![b'A'; 64 * 1024];
    for n in 0..8 {
        feed(&mut d, &mut ctx, Dir::ToClient, n, &junk);
        assert!(d.dirs[1].framer.buffered() <= 40 * 1024);
    }
    assert_eq!(d.dirs[1].framer.mode(), record::Mode::GaveUp);
    let w = kinds(&ctx);
    assert!(
        w.last().unwrap().contains("giving up on this direction"),
        "{w:?}"
    );
    assert_eq!(d.dirs[1].framer.buffered(), 0);
}

#[test]
fn truncation_at_every_offset_never_panics_and_warns() {
    let flow = tls12_full_flow();
    let server: Vec<u8> = flow
        .iter()
        .filter(|f| f.0 == Dir::ToClient)
        .flat_map(|f| f.2.clone())
        .collect();
    let client_hello = &flow[0].2;
    for k in 0..server.len() {
        let mut d = TlsDissector::new();
        let mut ctx = StreamCtx::new();
        feed(&mut d, &mut ctx, Dir::ToServer, 1, client_hello);
        feed(&mut d, &mut ctx, Dir::ToClient, 2, &server[..k]);
        d.handle_close(t(3), &mut ctx);
        let _ = crate::pageload::tls::tls_info(&d.facts(), false);
        let at_boundary = ctx.warnings.is_empty();
        if !at_boundary {
            assert!(
                ctx.warnings
                    .iter()
                    .all(|w| w.kind == WarningKind::Truncated),
                "{k}: {:?}",
                kinds(&ctx)
            );
        }
    }
    // Every prefix of a ClientHello body parses or fails cleanly.
    let body = &ch12(&[3; 32], &[ext(42, &[])])[4..];
    for k in 0..body.len() {
        let _ = handshake::parse_client_hello(&body[..k]);
    }
    let sh = server_hello_body(
        0x0303,
        R_SERVER,
        &[1; 32],
        0x1301,
        &[ext(43, &[3, 4]), ext(51, &[0, 29, 0, 1, 9])],
    );
    for k in 0..sh.len() {
        let _ = handshake::parse_server_hello(&sh[..k]);
    }
}

#[test]
fn byte_flip_corruption_never_panics() {
    let flow = tls12_full_flow();
    let mut all: Vec<(Dir, Vec<u8>)> = flow.iter().map(|f| (f.0, f.2.clone())).collect();
    all.push((
        Dir::ToServer,
        record(
            22,
            0x0303,
            &ch13("z.example", &[29], &[ext(42, &[]), ch_psk()]),
        ),
    ));
    for idx in 0..all.len() {
        for pos in 0..all[idx].1.len() {
            // Every bit pattern near the headers; one flip deeper in (keeps debug runs short).
            let flips: &[u8] = if pos < 80 {
                &[0xff, 0x80, 0x01]
            } else {
                &[0xff]
            };
            for &flip in flips {
                let mut d = TlsDissector::new();
                let mut ctx = StreamCtx::new();
                for (j, (dir, bytes)) in all.iter().enumerate() {
                    if j == idx {
                        let mut b = bytes.clone();
                        b[pos] ^= flip;
                        d.handle_data(*dir, t(j as i64), &b, &mut ctx);
                    } else {
                        d.handle_data(*dir, t(j as i64), bytes, &mut ctx);
                    }
                }
                d.handle_close(t(99), &mut ctx);
                let _ = crate::pageload::tls::tls_info(&d.facts(), false);
                let _ = d.outcome();
            }
        }
    }
}

/// A deterministic xorshift generator (no dependency needed for fuzz-like tests).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_and_random_chunking_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200 {
        let mut d = TlsDissector::new();
        let mut ctx = StreamCtx::new();
        let len = (rng.next() % 4000) as usize;
        // Half the rounds start with a plausible header so the deeper layers get fuzzed.
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 && data.len() > 10 {
            data[..6].copy_from_slice(&[22, 3, 3, 0x0f, 0x00, (rng.next() % 26) as u8]);
        }
        let mut pos = 0;
        while pos < data.len() {
            let n = 1 + (rng.next() % 700) as usize;
            let end = (pos + n).min(data.len());
            let dir = if rng.next().is_multiple_of(2) {
                Dir::ToServer
            } else {
                Dir::ToClient
            };
            if rng.next().is_multiple_of(17) {
                d.handle_gap(dir, rng.next() % 3000, t(0), &mut ctx);
            }
            d.handle_data(dir, t(pos as i64), &data[pos..end], &mut ctx);
            pos = end;
        }
        d.handle_close(t(1), &mut ctx);
        let _ = crate::pageload::tls::tls_info(&d.facts(), false);
    }
    // Random handshake bodies straight into the parsers.
    for _ in 0..2000 {
        let len = (rng.next() % 300) as usize;
        let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = handshake::parse_client_hello(&body);
        let _ = handshake::parse_server_hello(&body);
        let _ = handshake::parse_certificate_list(&body, rng.next().is_multiple_of(2), 4);
        let _ = handshake::parse_server_key_exchange(&body, Some("DHE"));
        let _ = handshake::parse_sslv2_client_hello(&body);
        let _ = cert::summarize(&body, Some(t(0)), Some("a.example"), true);
    }
}

// ---------------------------------------------------------------------------------------
// Names, certificates helpers
// ---------------------------------------------------------------------------------------

#[test]
fn names_cover_grease_registry_and_unknowns() {
    for v in [
        0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa,
        0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa,
    ] {
        assert!(names::is_grease(v));
        assert_eq!(names::cipher_name(v), "GREASE");
        assert_eq!(names::extension_name(v), "GREASE");
        assert_eq!(names::group_name(v), "GREASE");
    }
    assert!(!names::is_grease(0x0a1a));
    assert!(!names::is_grease(0x1a0a));
    assert_eq!(names::cipher_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
    assert_eq!(
        names::cipher_name(0xcca8),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    assert_eq!(names::cipher_name(0x0005), "TLS_RSA_WITH_RC4_128_SHA");
    assert_eq!(names::cipher_name(0x5678), "0x5678");
    assert_eq!(names::key_exchange_of(0xc02f), Some("ECDHE"));
    assert_eq!(names::key_exchange_of(0x009e), Some("DHE"));
    assert_eq!(names::key_exchange_of(0x002f), Some("RSA"));
    assert_eq!(names::key_exchange_of(0xc004), Some("ECDH"));
    assert_eq!(names::key_exchange_of(0x00a8), Some("PSK"));
    assert_eq!(names::key_exchange_of(0x1301), None);
    assert_eq!(names::group_name(0x11ec), "X25519MLKEM768");
    assert_eq!(names::group_kx(0x11ec), "ECDHE-MLKEM");
    assert_eq!(names::group_kx(256), "DHE");
    assert_eq!(names::sigalg_name(0x0807), "ed25519");
    assert_eq!(names::sigalg_name(0x0303), "ecdsa_sha224");
    assert_eq!(names::sigalg_name(0x0102), "dsa_md5");
    assert_eq!(names::extension_name(0xfe0d), "encrypted_client_hello");
    assert_eq!(names::extension_name(0x1234), "0x1234");
    assert_eq!(names::alert_name(112), "unrecognized_name");
    assert_eq!(names::alert_name(200), "alert_200");
    assert_eq!(names::version_name(0x7f1c), "TLS 1.3 (draft 28)");
    assert_eq!(names::psk_mode_name(0x2a), "GREASE");
    assert_eq!(names::psk_mode_name(1), "psk_dhe_ke");
}

#[test]
fn san_wildcard_rules() {
    assert!(cert::name_matches("*.example.com", "a.example.com"));
    assert!(cert::name_matches("*.Example.com.", "A.EXAMPLE.com"));
    assert!(!cert::name_matches("*.example.com", "example.com"));
    assert!(!cert::name_matches("*.example.com", "a.b.example.com"));
    assert!(!cert::name_matches("*.com", "example.com"));
    assert!(!cert::name_matches("a*.example.com", "ab.example.com"));
    assert!(cert::name_matches("www.example.com", "www.example.com"));
    assert!(!cert::name_matches("www.example.com", "example.com"));
    assert!(!cert::name_matches("", ""));
}

#[test]
fn rfc3339_of_known_instants() {
    assert_eq!(cert::rfc3339(0), "1970-01-01T00:00:00+00:00");
    assert_eq!(cert::rfc3339(1_648_774_116), "2022-04-01T00:48:36+00:00");
    assert_eq!(cert::rfc3339(951_782_400), "2000-02-29T00:00:00+00:00");
    assert_eq!(cert::rfc3339(-1), "1969-12-31T23:59:59+00:00");
    assert_eq!(cert::rfc3339(253_402_300_799), "9999-12-31T23:59:59+00:00");
}

#[test]
fn certificate_validity_is_judged_at_the_server_hello() {
    let leaf = unhex(LEAF_HEX);
    let before = Ts(1_700_000_000_000_000_000); // 2023-11-14
    let (c, _) = cert::summarize(&leaf, Some(before), Some("www.example.com"), true);
    assert_eq!(c.valid_at_capture, Some(false));
    let (c, _) = cert::summarize(&leaf, Some(t(0)), Some("other.test"), true);
    assert_eq!(
        (c.valid_at_capture, c.matches_sni),
        (Some(true), Some(false))
    );
    let (c, _) = cert::summarize(&leaf, None, Some("example.com"), true);
    assert_eq!((c.valid_at_capture, c.matches_sni), (None, Some(true)));
}

#[test]
fn server_key_exchange_kinds() {
    use handshake::{parse_server_key_exchange as ske, KeyExchangeParams as K};
    assert_eq!(
        ske(&[3, 0, 24, 1, 4], Some("ECDHE")),
        Some(K::NamedCurve(24))
    );
    assert_eq!(ske(&[1, 9, 9], Some("ECDHE")), Some(K::ExplicitCurve));
    let mut dh = vec16(&[&[0u8][..], &[0xff; 256]].concat());
    dh.extend(vec16(&[2]));
    assert_eq!(ske(&dh, Some("DHE")), Some(K::Dh { prime_bits: 2048 }));
    let mut psk = vec16(b"hint");
    psk.extend([3, 0, 29]);
    assert_eq!(ske(&psk, Some("ECDHE_PSK")), Some(K::NamedCurve(29)));
    assert_eq!(ske(&[3, 0, 29], None), Some(K::NamedCurve(29)));
    assert_eq!(ske(&[3, 0], Some("ECDHE")), None);
}

// ---------------------------------------------------------------------------------------
// Keys that come late (late.rs): a TLS 1.3 session sealed here with secrets from a key log
// ---------------------------------------------------------------------------------------

const CHTS: [u8; 32] = [0xc1; 32];
const SHTS: [u8; 32] = [0x51; 32];
const CTS0: [u8; 32] = [0xc2; 32];
const STS0: [u8; 32] = [0x52; 32];

/// One TLS 1.3 record (TLS_AES_128_GCM_SHA256) sealed with `secret` at sequence number
/// `seq`: `content` then its real content type.
fn sealed13(secret: &[u8], seq: u64, inner_type: u8, content: &[u8]) -> Vec<u8> {
    sealed_inner13(secret, seq, &[content, &[inner_type]].concat())
}

/// As [`sealed13`], of the inner plaintext as given (content, type, any padding).
fn sealed_inner13(secret: &[u8], seq: u64, inner: &[u8]) -> Vec<u8> {
    use crate::decrypt::{cipher::AeadKey, hkdf_expand_label, suite};
    let s = suite(0x1301).unwrap();
    let mut key = vec![0u8; s.key_len()];
    let mut iv = [0u8; 12];
    hkdf_expand_label(s.hash, secret, b"key", b"", &mut key).unwrap();
    hkdf_expand_label(s.hash, secret, b"iv", b"", &mut iv).unwrap();
    for (n, b) in iv[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= b;
    }
    let len = ((inner.len() + 16) as u16).to_be_bytes();
    let aad = [23, 3, 3, len[0], len[1]];
    let frag = AeadKey::new(s.cipher, &key).unwrap().seal(&iv, &aad, inner);
    record(23, 0x0303, &frag)
}

/// NSS key log lines for R_CLIENT.
fn key_lines(secrets: &[(&str, [u8; 32])]) -> String {
    key_lines_for(R_CLIENT, secrets)
}

fn key_lines_for(random: [u8; 32], secrets: &[(&str, [u8; 32])]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    secrets
        .iter()
        .map(|(label, s)| format!("{label} {} {}\n", hex(&random), hex(s)))
        .collect()
}

const HS_SECRETS: [(&str, [u8; 32]); 2] = [
    ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", CHTS),
    ("SERVER_HANDSHAKE_TRAFFIC_SECRET", SHTS),
];
const APP_SECRETS: [(&str, [u8; 32]); 2] = [
    ("SERVER_TRAFFIC_SECRET_0", STS0),
    ("CLIENT_TRAFFIC_SECRET_0", CTS0),
];

/// A TLS 1.3 handshake with the server's encrypted flight in the ServerHello's segment,
/// then a request and a response. Step 1 is the server's flight, step 2 the client's
/// Finished.
fn tls13_sealed_flow() -> Vec<(Dir, i64, Vec<u8>)> {
    let entries: Vec<u8> = [unhex(LEAF_HEX), unhex(ROOT_HEX)]
        .iter()
        .flat_map(|d| [vec24(d), vec16(&[])].concat())
        .collect();
    let cert13 = [vec8(&[]), vec24(&entries)].concat();
    let server_flight = [
        record(22, 0x0303, &sh13(R_SERVER, 29, true, &[])),
        record(20, 0x0303, &[1]),
        sealed13(&SHTS, 0, 22, &hs(8, &vec16(&alpn(&["h2"])))),
        sealed13(&SHTS, 1, 22, &hs(11, &cert13)),
        sealed13(
            &SHTS,
            2,
            22,
            &hs(15, &[&[4u8, 3][..], &vec16(&[0x77; 64])].concat()),
        ),
        sealed13(&SHTS, 3, 22, &hs(20, &[0x88; 32])),
    ]
    .concat();
    vec![
        (
            Dir::ToServer,
            10,
            record(22, 0x0301, &ch13("www.example.com", &[29], &[])),
        ),
        (Dir::ToClient, 30, server_flight),
        (
            Dir::ToServer,
            40,
            [
                record(20, 0x0303, &[1]),
                sealed13(&CHTS, 0, 22, &hs(20, &[0x99; 32])),
            ]
            .concat(),
        ),
        (
            Dir::ToServer,
            41,
            sealed13(&CTS0, 0, 23, b"GET / HTTP/1.1\r\n\r\n"),
        ),
        (
            Dir::ToClient,
            60,
            [
                sealed13(&STS0, 0, 22, &hs(4, &[0x10; 40])),
                sealed13(&STS0, 1, 23, b"HTTP/1.1 200 OK\r\n"),
            ]
            .concat(),
        ),
        (
            Dir::ToClient,
            61,
            sealed13(&STS0, 2, 23, b"content-length: 0\r\n\r\n"),
        ),
    ]
}

/// What the decrypting dissector hands upward.
#[derive(Debug, Default, PartialEq)]
struct Collected {
    hints: Vec<Option<String>>,
    data: Vec<(Dir, Ts, Vec<u8>)>,
    gaps: Vec<(Dir, u64, Ts)>,
}

impl PlaintextSink for Collected {
    fn session_hint(&mut self, alpn: Option<&str>, _sni: Option<&str>) {
        self.hints.push(alpn.map(str::to_string));
    }
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8], _ctx: &mut StreamCtx) {
        self.data.push((dir, ts, bytes.to_vec()));
    }
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts, _ctx: &mut StreamCtx) {
        self.gaps.push((dir, len, ts));
    }
}

/// A dissector fed with a key log, what it said and handed upward, and the most frame
/// events it kept at once.
type Run = (TlsDissector, StreamCtx, Collected, usize);

/// Feeds `flow` (step i in frame i + 1) with `keys`, adding `lines[i]` to the key log just
/// before step i (`lines[flow.len()]` before the close). Checks after every step that what
/// is kept stays within the caps.
fn run_with_keys(
    flow: &[(Dir, i64, Vec<u8>)],
    keys: &mut KeyLog,
    lines: &[(usize, String)],
) -> Run {
    let mut most = 0;
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    let mut sink = Collected::default();
    for i in 0..=flow.len() {
        for (_, text) in lines.iter().filter(|(at, _)| *at == i) {
            keys.add_text(text);
        }
        ctx.packet = i as u64 + 1;
        match flow.get(i) {
            Some((dir, ms, bytes)) => {
                d.handle_data_decrypting(*dir, t(*ms), bytes, &mut ctx, keys, &mut sink)
            }
            None => d.handle_close_decrypting(t(100), &mut ctx, keys, &mut sink),
        }
        most = most.max(d.kept.len());
        assert!(d.kept.len() <= late::MAX_KEPT_RECORDS);
    }
    (d, ctx, sink, most)
}

fn growing() -> KeyLog {
    let mut k = KeyLog::new();
    k.set_growing(true);
    k
}

#[test]
fn keys_logged_after_the_servers_encrypted_flight_open_it_as_if_known_from_the_start() {
    let flow = tls13_sealed_flow();
    let all = key_lines(&[HS_SECRETS, APP_SECRETS].concat());
    let (base, base_ctx, base_sink, most) =
        run_with_keys(&flow, &mut KeyLog::new(), &[(0, all.clone())]);
    assert_eq!(most, 0);
    assert!(base_ctx.warnings.is_empty(), "{:?}", kinds(&base_ctx));
    let facts = base.facts();
    assert_eq!(facts.alpn.as_deref(), Some("h2"));
    assert_eq!(facts.certificates.len(), 2);
    assert_eq!(facts.certificates[0].sha256.as_deref(), Some(LEAF_SHA256));
    assert!(facts.decrypted && base.ticket_issued());
    assert_eq!(facts.handshake_done_ts, Some(t(40)));
    assert_eq!(base_sink.data.len(), 3, "{base_sink:?}");
    assert_eq!(
        base_sink.data[1],
        (Dir::ToClient, t(60), b"HTTP/1.1 200 OK\r\n".to_vec())
    );

    let hs = key_lines(&HS_SECRETS);
    let app = key_lines(&APP_SECRETS);
    let cases: [(&str, Vec<(usize, String)>); 5] = [
        ("from the start, growing", vec![(0, all.clone())]),
        ("after the server's flight", vec![(2, all.clone())]),
        // As a client logs them: the handshake secrets, the application ones a moment later.
        ("in two parts", vec![(2, hs.clone()), (3, app.clone())]),
        ("after the request", vec![(4, all.clone())]),
        ("only at the close", vec![(flow.len(), hs + &app)]),
    ];
    for (what, lines) in cases {
        let (d, ctx, sink, most) = run_with_keys(&flow, &mut growing(), &lines);
        assert_eq!(most > 0, what != "from the start, growing", "{what}");
        assert!(ctx.warnings.is_empty(), "{what}: {:?}", kinds(&ctx));
        // Every fact (ALPN, certificates, handshake timing, data counters) and every
        // plaintext byte with its time, as with the keys from the start.
        assert_eq!(format!("{:?}", d.facts()), format!("{facts:?}"), "{what}");
        assert_eq!(sink, base_sink, "{what}");
        assert!(d.kept.is_empty() && !d.kept.overflowed, "{what}");
    }
}

#[test]
fn records_past_the_cap_go_by_undecrypted_and_are_counted() {
    let mut flow = tls13_sealed_flow();
    flow.truncate(4);
    // The response is 100 records long; the keys come after the 90th.
    for k in 0..100u64 {
        let body = format!("chunk {k}\n");
        flow.push((
            Dir::ToClient,
            60 + k as i64,
            sealed13(&STS0, k, 23, body.as_bytes()),
        ));
    }
    let all = key_lines(&[HS_SECRETS, APP_SECRETS].concat());
    let (d, ctx, sink, most) = run_with_keys(&flow, &mut growing(), &[(94, all)]);
    assert!(d.kept.is_empty() && d.kept.closed && d.kept.overflowed);
    assert_eq!(most, late::MAX_KEPT_RECORDS);
    // The server's flight went by with the first records past the cap: no ALPN, no chain.
    let facts = d.facts();
    assert_eq!(facts.alpn, None);
    assert!(facts.certificates.is_empty());
    let said = kinds(&ctx);
    assert!(
        said.iter().any(
            |w| w.contains("server secrets came after 94 of its protected records")
                && w.contains("more came before them than the 64 records or 256 KiB")
        ),
        "{said:?}"
    );
    // Decryption picks up at the first record after the keys (its sequence number found).
    let got: Vec<&[u8]> = sink.data.iter().map(|(_, _, b)| &b[..]).collect();
    assert_eq!(
        got,
        (90..100)
            .map(|k| format!("chunk {k}\n").into_bytes())
            .collect::<Vec<_>>(),
        "{sink:?}"
    );
    assert_eq!(sink.data[0].1, t(150));
}

#[test]
fn nothing_is_kept_without_a_growing_key_log() {
    let flow = tls13_sealed_flow();
    let all = key_lines(&[HS_SECRETS, APP_SECRETS].concat());
    // A key log known from the start, or none at all: as before, records before the
    // secrets stay encrypted and nothing waits.
    let other = key_lines_for([0xab; 32], &HS_SECRETS);
    for mut keys in [KeyLog::new(), {
        let mut k = KeyLog::new();
        k.add_text(&other);
        k
    }] {
        let (d, _, _, most) = run_with_keys(&flow, &mut keys, &[]);
        assert_eq!(most, 0);
        assert_eq!(d.facts().alpn, None);
    }
    // Keys that come late to a key log not said to grow: the flight is not waited for.
    let (d, ctx, _, most) = run_with_keys(&flow, &mut KeyLog::new(), &[(2, all.clone())]);
    assert_eq!((most, d.facts().alpn), (0, None));
    assert!(
        kinds(&ctx)
            .iter()
            .any(|w| w.contains("server secrets came after 4")),
        "{:?}",
        kinds(&ctx)
    );
    // Without a key log at all (no decryption), a growing one changes nothing either.
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    for (dir, ms, bytes) in &flow {
        d.handle_data(*dir, t(*ms), bytes, &mut ctx);
        assert!(d.kept.is_empty());
    }
}

#[test]
fn a_connection_that_ends_before_its_keys_says_how_many_records_waited() {
    let flow = tls13_sealed_flow();
    // The key log has another session only.
    let other = key_lines_for([0xab; 32], &HS_SECRETS);
    let (d, ctx, sink, _) = run_with_keys(&flow, &mut growing(), &[(0, other)]);
    assert!(d.kept.is_empty() && d.kept.closed && !d.kept.overflowed);
    assert!(sink.data.is_empty());
    let said = kinds(&ctx);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains(
            "no secrets for this session's client random; 9 protected records kept \
             waiting for them were not decrypted"
        ),
        "{said:?}"
    );
    // Timing and counters as without keys: the client's Finished ends the handshake.
    let (plain, _) = run(&flow);
    assert_eq!(format!("{:?}", d.facts()), format!("{:?}", plain.facts()));
}

/// A sink that reads the server's plaintext only in places: [`NEEDED`] bytes of every
/// [`PERIOD`] (from the start of the stream), the rest only counted, as an HTTP dissector
/// counts a body. Each byte handed up is checked against the stream sent.
struct Parts {
    want: Vec<u8>,
    pos: usize,
    skipped: usize,
    skips: usize,
    reads: usize,
    gaps: usize,
}

const PERIOD: usize = 3000;
const NEEDED: usize = 700;

impl PlaintextSink for Parts {
    fn data(&mut self, dir: Dir, _ts: Ts, bytes: &[u8], _ctx: &mut StreamCtx) {
        if dir == Dir::ToClient {
            assert_eq!(bytes, &self.want[self.pos..self.pos + bytes.len()]);
            self.pos += bytes.len();
            self.reads += 1;
        }
    }
    fn skippable(&self, dir: Dir) -> Option<u64> {
        (dir == Dir::ToClient).then(|| {
            let at = self.pos % PERIOD;
            if at < NEEDED {
                0
            } else {
                (PERIOD - at) as u64
            }
        })
    }
    fn skip(&mut self, dir: Dir, _ts: Ts, len: u64, _ctx: &mut StreamCtx) {
        assert_eq!(dir, Dir::ToClient);
        let len = len as usize;
        let allowed = self.skippable(dir).unwrap() as usize;
        assert!(len > 0 && len <= allowed, "{len} of {allowed}");
        self.pos += len;
        self.skipped += len;
        self.skips += 1;
    }
    fn gap(&mut self, _dir: Dir, _len: u64, _ts: Ts, _ctx: &mut StreamCtx) {
        self.gaps += 1;
    }
}

#[test]
fn records_read_in_parts_hand_up_the_bytes_opening_them_whole_does() {
    let mut flow = tls13_sealed_flow();
    // The server's application data so far (its records 1 and 2), then more.
    let mut want = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec();
    let mut stream = Vec::new();
    let mut seq = 3;
    let mut x: u32 = 7;
    for (i, len) in [16384, 16384, 100, 5000, 1, 16384, 9000, 16384, 2, 16384]
        .into_iter()
        .enumerate()
    {
        let content: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let inner: Vec<u8> = match i {
            // Padding: opened whole.
            3 => [&content[..], &[23, 0, 0, 0]].concat(),
            _ => [&content[..], &[23]].concat(),
        };
        let frag = sealed_inner13(&STS0, seq, &inner);
        seq += 1;
        stream.extend_from_slice(&frag);
        want.extend_from_slice(&content);
        if i == 4 {
            // A NewSessionTicket among the data: a handshake record, opened whole.
            stream.extend_from_slice(&sealed13(&STS0, seq, 22, &hs(4, &[0x10; 40])));
            seq += 1;
        }
    }
    // In segments of odd sizes, so that records lie across them (copied together) as well
    // as inside them.
    let mut at = 0;
    for (ms, size) in (70..).zip([1448usize, 60_000, 3, 20_000].into_iter().cycle()) {
        if at >= stream.len() {
            break;
        }
        let end = (at + size).min(stream.len());
        flow.push((Dir::ToClient, ms, stream[at..end].to_vec()));
        at = end;
    }
    let mut keys = KeyLog::new();
    keys.add_text(&key_lines(&[HS_SECRETS, APP_SECRETS].concat()));
    let mut d = TlsDissector::new();
    let mut ctx = StreamCtx::new();
    let mut sink = Parts {
        want,
        pos: 0,
        skipped: 0,
        skips: 0,
        reads: 0,
        gaps: 0,
    };
    for (i, (dir, ms, bytes)) in flow.iter().enumerate() {
        ctx.packet = i as u64 + 1;
        d.handle_data_decrypting(*dir, t(*ms), bytes, &mut ctx, &keys, &mut sink);
    }
    d.handle_close_decrypting(t(100), &mut ctx, &keys, &mut sink);
    assert_eq!(sink.pos, sink.want.len(), "every byte handed up or skipped");
    assert_eq!(sink.gaps, 0);
    assert!(ctx.warnings.is_empty(), "{:?}", kinds(&ctx));
    // Much of what the sink only counts was never decrypted (the windows read past what it
    // needs: 512 bytes, then 1,024 of each 3,000); both kinds of calls came.
    assert!(sink.skipped * 5 > sink.want.len() * 2, "{}", sink.skipped);
    assert!(sink.skips > 10 && sink.reads > 10);
    // Every record counts as opened: the client's two, the server's flight, its records.
    assert_eq!(d.keys.failed, 0);
    assert_eq!(d.keys.opened, 2 + 4 + seq);
}
