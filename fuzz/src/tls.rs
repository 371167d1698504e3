//! A synthetic TLS session whose secrets are in the fuzz key log, so the harness can seal
//! fuzzed plaintext into records pagetrace decrypts (the fuzzer cannot forge AEAD tags).
//!
//! - TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256 (0xc02f): `CLIENT_RANDOM` [`CR12`] with master
//!   secret [`MASTER12`]; RFC 5246 6.3 key block, RFC 5288 GCM records.
//! - TLS 1.3, TLS_AES_128_GCM_SHA256 (0x1301): client random [`CR13`] with fixed handshake
//!   and application traffic secrets; RFC 8446 5.2 records.

use aes_gcm::aead::{AeadInOut, Nonce};
use aes_gcm::{Aes128Gcm, KeyInit};
use pagetrace::decrypt::{hkdf_expand_label, prf_tls12, HashAlg};

pub const CR12: [u8; 32] = [0x12; 32];
pub const SR12: [u8; 32] = [0x21; 32];
pub const MASTER12: [u8; 48] = [0x4d; 48];
pub const CR13: [u8; 32] = [0x13; 32];
pub const SR13: [u8; 32] = [0x31; 32];
pub const CHTS: [u8; 32] = [0xc1; 32];
pub const SHTS: [u8; 32] = [0x51; 32];
pub const CATS: [u8; 32] = [0xca; 32];
pub const SATS: [u8; 32] = [0x5a; 32];

pub const CT_CCS: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPDATA: u8 = 23;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// NSS key log lines of the synthetic sessions.
pub fn keylog_lines() -> String {
    let mut s = format!("CLIENT_RANDOM {} {}\n", hex(&CR12), hex(&MASTER12));
    for (label, secret) in [
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", CHTS),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", SHTS),
        ("CLIENT_TRAFFIC_SECRET_0", CATS),
        ("SERVER_TRAFFIC_SECRET_0", SATS),
    ] {
        s.push_str(&format!("{label} {} {}\n", hex(&CR13), hex(&secret)));
    }
    s
}

/// A record: header and fragment.
pub fn record(content_type: u8, fragment: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    r.extend_from_slice(fragment);
    r
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut m = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn alpn_ext(protocols: &[&str]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protocols {
        list.push(p.len() as u8);
        list.extend_from_slice(p.as_bytes());
    }
    let mut d = (list.len() as u16).to_be_bytes().to_vec();
    d.extend_from_slice(&list);
    d
}

/// A ClientHello (handshake message) offering the session's suite, with SNI
/// `fuzz.example` and ALPN `h2`, `http/1.1`.
pub fn client_hello(tls13: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(if tls13 { &CR13 } else { &CR12 });
    b.push(0);
    let suite: u16 = if tls13 { 0x1301 } else { 0xc02f };
    b.extend_from_slice(&2u16.to_be_bytes());
    b.extend_from_slice(&suite.to_be_bytes());
    b.extend_from_slice(&[1, 0]);
    let mut e = Vec::new();
    let host = b"fuzz.example";
    let mut sni = ((host.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0);
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host);
    ext(&mut e, 0, &sni);
    ext(&mut e, 16, &alpn_ext(&["h2", "http/1.1"]));
    if tls13 {
        ext(&mut e, 43, &[2, 3, 4]);
        let mut ks = 36u16.to_be_bytes().to_vec();
        ks.extend_from_slice(&[0, 0x1d, 0, 32]);
        ks.extend_from_slice(&[0x77; 32]);
        ext(&mut e, 51, &ks);
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    handshake(1, &b)
}

/// The ServerHello choosing the session's suite; TLS 1.2 carries ALPN `alpn` here (TLS 1.3
/// in EncryptedExtensions, see [`encrypted_extensions`]).
pub fn server_hello(tls13: bool, alpn: &str) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(if tls13 { &SR13 } else { &SR12 });
    b.push(0);
    let suite: u16 = if tls13 { 0x1301 } else { 0xc02f };
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    let mut e = Vec::new();
    if tls13 {
        ext(&mut e, 43, &[3, 4]);
        let mut ks = vec![0, 0x1d, 0, 32];
        ks.extend_from_slice(&[0x66; 32]);
        ext(&mut e, 51, &ks);
    } else {
        ext(&mut e, 16, &alpn_ext(&[alpn]));
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    handshake(2, &b)
}

/// TLS 1.3 EncryptedExtensions with ALPN `alpn`.
pub fn encrypted_extensions(alpn: &str) -> Vec<u8> {
    let mut e = Vec::new();
    ext(&mut e, 16, &alpn_ext(&[alpn]));
    let mut b = (e.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(&e);
    handshake(8, &b)
}

/// One direction's record protection, with its sequence number.
pub struct Sealer {
    aead: Aes128Gcm,
    iv: [u8; 12],
    seq: u64,
    tls13: bool,
}

impl Sealer {
    /// TLS 1.2 keys of one direction of the [`CR12`] session.
    pub fn tls12(from_client: bool) -> Sealer {
        // RFC 5246 6.3; AES-128-GCM: no MAC keys, 16-byte keys, 4-byte implicit IVs.
        let mut kb = [0u8; 40];
        prf_tls12(
            HashAlg::Sha256,
            &MASTER12,
            b"key expansion",
            &[&SR12, &CR12],
            &mut kb,
        );
        let (key, salt) = if from_client {
            (&kb[0..16], &kb[32..36])
        } else {
            (&kb[16..32], &kb[36..40])
        };
        let mut iv = [0u8; 12];
        iv[..4].copy_from_slice(salt);
        Sealer {
            aead: Aes128Gcm::new_from_slice(key).expect("16-byte key"),
            iv,
            seq: 0,
            tls13: false,
        }
    }

    /// TLS 1.3 keys from a traffic secret.
    pub fn tls13(secret: &[u8; 32]) -> Sealer {
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        hkdf_expand_label(HashAlg::Sha256, secret, b"key", b"", &mut key).expect("key");
        hkdf_expand_label(HashAlg::Sha256, secret, b"iv", b"", &mut iv).expect("iv");
        Sealer {
            aead: Aes128Gcm::new_from_slice(&key).expect("16-byte key"),
            iv,
            seq: 0,
            tls13: true,
        }
    }

    /// A whole protected record carrying `plaintext` of `content_type`.
    pub fn seal(&mut self, content_type: u8, plaintext: &[u8]) -> Vec<u8> {
        let seq = self.seq.to_be_bytes();
        self.seq += 1;
        if self.tls13 {
            // RFC 8446 5.2: inner plaintext = content || type; outer type application_data;
            // nonce = iv XOR seq; additional data = the record header.
            let mut buf = plaintext.to_vec();
            buf.push(content_type);
            let mut nonce = self.iv;
            for (n, s) in nonce[4..].iter_mut().zip(seq) {
                *n ^= s;
            }
            let len = ((buf.len() + 16) as u16).to_be_bytes();
            let aad = [CT_APPDATA, 3, 3, len[0], len[1]];
            let tag = self
                .aead
                .encrypt_inout_detached(
                    &Nonce::<Aes128Gcm>::from(nonce),
                    &aad,
                    buf.as_mut_slice().into(),
                )
                .expect("seal");
            buf.extend_from_slice(&tag);
            record(CT_APPDATA, &buf)
        } else {
            // RFC 5288 3: nonce = salt || explicit (the sequence number); RFC 5246 6.2.3.3:
            // additional data = seq || type || version || plaintext length.
            let mut nonce = self.iv;
            nonce[4..].copy_from_slice(&seq);
            let len = (plaintext.len() as u16).to_be_bytes();
            let mut aad = seq.to_vec();
            aad.extend_from_slice(&[content_type, 3, 3, len[0], len[1]]);
            let mut buf = plaintext.to_vec();
            let tag = self
                .aead
                .encrypt_inout_detached(
                    &Nonce::<Aes128Gcm>::from(nonce),
                    &aad,
                    buf.as_mut_slice().into(),
                )
                .expect("seal");
            let mut frag = seq.to_vec();
            frag.extend_from_slice(&buf);
            frag.extend_from_slice(&tag);
            record(content_type, &frag)
        }
    }
}

/// The flights that set the session up, in order, `(from_client, bytes)`, ending with both
/// sides' Finished; then the client's and the server's sealers for what follows.
pub fn prelude(tls13: bool, alpn: &str) -> (Vec<(bool, Vec<u8>)>, Sealer, Sealer) {
    let mut flights = vec![(true, record(CT_HANDSHAKE, &client_hello(tls13)))];
    let mut server = record(CT_HANDSHAKE, &server_hello(tls13, alpn));
    let finished = handshake(20, &[0xf1; 32]);
    if tls13 {
        server.extend_from_slice(&record(CT_CCS, &[1]));
        let mut flight = encrypted_extensions(alpn);
        flight.extend_from_slice(&finished);
        server.extend_from_slice(&Sealer::tls13(&SHTS).seal(CT_HANDSHAKE, &flight));
        flights.push((false, server));
        let mut client = record(CT_CCS, &[1]);
        client.extend_from_slice(&Sealer::tls13(&CHTS).seal(CT_HANDSHAKE, &finished));
        flights.push((true, client));
        (flights, Sealer::tls13(&CATS), Sealer::tls13(&SATS))
    } else {
        server.extend_from_slice(&record(CT_HANDSHAKE, &handshake(14, &[])));
        flights.push((false, server));
        let (mut c, mut s) = (Sealer::tls12(true), Sealer::tls12(false));
        let mut cke = vec![65];
        cke.extend_from_slice(&[0x04; 65]);
        let mut client = record(CT_HANDSHAKE, &handshake(16, &cke));
        client.extend_from_slice(&record(CT_CCS, &[1]));
        client.extend_from_slice(&c.seal(CT_HANDSHAKE, &handshake(20, &[0xf1; 12])));
        flights.push((true, client));
        let mut server = record(CT_CCS, &[1]);
        server.extend_from_slice(&s.seal(CT_HANDSHAKE, &handshake(20, &[0xf2; 12])));
        flights.push((false, server));
        (flights, c, s)
    }
}
