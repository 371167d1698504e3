//! Record decryption tests.
//!
//! Known answers come from two places:
//! - RFC 8448 section 3 ("Simple 1-RTT Handshake"): the client's Finished record under the
//!   client handshake keys and its application_data record (bytes 00..31) under the client
//!   application keys, both sequence 0.
//! - Sessions between OpenSSL 3.0 `s_client` and `s_server` on loopback with throwaway keys
//!   and `-keylogfile`: the client's records after ChangeCipherSpec (Finished, then
//!   "GET / HTTP/1.0\r\n\r\n"). These check interoperability with a real implementation for
//!   every record format: GCM, ChaCha20 (TLS 1.2 and 1.3), CBC MAC-then-encrypt, CBC
//!   encrypt-then-MAC, TLS 1.0 chained IVs, and TLS 1.3 KeyUpdate against OpenSSL's logged
//!   `CLIENT_TRAFFIC_SECRET_N`.
//!
//! The rest builds records with this module's own primitives to reach the error paths.

use super::cipher::{AeadKey, MacKey};
use super::kdf::tests::{hex, RFC8448_CLIENT_AP, RFC8448_CLIENT_HS, RFC8448_SERVER_AP};
use super::*;

const HANDSHAKE: u8 = 22;
const APPDATA: u8 = 23;
const ALERT: u8 = 21;
const GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn random32(h: &str) -> [u8; 32] {
    hex(h).try_into().unwrap()
}

fn open(
    dec: &mut RecordDecryptor,
    ty: u8,
    ver: u16,
    frag: &str,
) -> Result<(u8, Vec<u8>), DecryptError> {
    let mut out = Vec::new();
    let t = dec.decrypt(ty, ver, &hex(frag), &mut out)?;
    Ok((t, out))
}

// ---------------------------------------------------------------------------------------
// RFC 8448

const RFC8448_CLIENT_FINISHED: &str = "75ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d8\
     7f38f80338ac98fc46deb384bd1caeacab6867d726c40546";
const RFC8448_CLIENT_APPDATA: &str = "a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b98\
     19a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";

fn tls13_aes128() -> SuiteInfo {
    suite(0x1301).unwrap()
}

#[test]
fn test_rfc8448_client_finished_record() {
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_HS)).unwrap();
    let (ty, pt) = open(&mut dec, APPDATA, 0x0303, RFC8448_CLIENT_FINISHED).unwrap();
    assert_eq!(ty, HANDSHAKE);
    assert_eq!(
        pt,
        hex("14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61")
    );
    assert_eq!(dec.seq(), 1);
}

#[test]
fn test_rfc8448_client_application_record() {
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let (ty, pt) = open(&mut dec, APPDATA, 0x0303, RFC8448_CLIENT_APPDATA).unwrap();
    assert_eq!(ty, APPDATA);
    assert_eq!(pt, (0u8..=0x31).collect::<Vec<u8>>());
    // Replayed at sequence 1: the nonce differs, authentication fails.
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, RFC8448_CLIENT_APPDATA),
        Err(DecryptError::AuthFailed)
    );
}

#[test]
fn test_rfc8448_wrong_key_fails() {
    // The server's application key on the client's record.
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_SERVER_AP)).unwrap();
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, RFC8448_CLIENT_APPDATA),
        Err(DecryptError::AuthFailed)
    );
    // A SHA-384 suite with a 32-byte secret is refused up front.
    assert_eq!(
        RecordDecryptor::tls13(suite(0x1302).unwrap(), &hex(RFC8448_CLIENT_AP)).err(),
        Some(DecryptError::BadSecret)
    );
}

#[test]
fn test_rfc8448_flipped_byte_at_every_offset_fails() {
    let frag = hex(RFC8448_CLIENT_APPDATA);
    let good = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let mut out = Vec::with_capacity(128);
    for i in 0..frag.len() {
        for bit in [0x01, 0x80] {
            let mut bad = frag.clone();
            bad[i] ^= bit;
            let mut dec = good.clone();
            out.extend_from_slice(b"stale");
            assert_eq!(
                dec.decrypt(APPDATA, 0x0303, &bad, &mut out),
                Err(DecryptError::AuthFailed),
                "byte {i}"
            );
            assert!(out.is_empty(), "garbage after failure at byte {i}");
            assert_eq!(dec.seq(), 1);
        }
    }
    // The header is authenticated too: a different type or version fails.
    for (ty, ver) in [(HANDSHAKE, 0x0303), (APPDATA, 0x0301)] {
        let mut dec = good.clone();
        assert_eq!(
            dec.decrypt(ty, ver, &frag, &mut out),
            Err(DecryptError::AuthFailed)
        );
    }
}

#[test]
fn test_rfc8448_truncated_at_every_offset_fails() {
    let frag = hex(RFC8448_CLIENT_APPDATA);
    let good = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let mut out = Vec::new();
    for cut in 0..frag.len() {
        let mut dec = good.clone();
        let r = dec.decrypt(APPDATA, 0x0303, &frag[..cut], &mut out);
        let expected = if cut < 17 {
            DecryptError::BadLength(cut)
        } else {
            DecryptError::AuthFailed
        };
        assert_eq!(r, Err(expected), "cut {cut}");
        assert!(out.is_empty());
        assert_eq!(
            dec.seq(),
            1,
            "every attempted record uses a sequence number"
        );
    }
}

// ---------------------------------------------------------------------------------------
// TLS 1.2 from OpenSSL sessions

struct Tls12Vector {
    suite: u16,
    version: u16,
    etm: bool,
    client_random: &'static str,
    server_random: &'static str,
    master: &'static str,
    /// Client records after ChangeCipherSpec: (type, fragment hex).
    records: &'static [(u8, &'static str)],
}

const GCM128: Tls12Vector = Tls12Vector {
    suite: 0xC02F,
    version: 0x0303,
    etm: false,
    client_random: "447c5411c4f368bc6c88c3f1ee64bbaf128f3ce74ccba4f8d60508dc2c8cc438",
    server_random: "150a455c45945f3d7228918abc9a13e5ae5646aae5eb722d444f574e47524401",
    master: "d78b1062d4afd56ad0575f9f91e816bb2cd31f2851d9a1c3533befee908540512bc0c215e2213563\
             cee8b660d2400d1a",
    records: &[
        (
            HANDSHAKE,
            "082a7f6e1b989eb91615e616d5532f3454c02b1cd4f2047295bd7771b6c638496cc2781a0d21b750",
        ),
        (
            APPDATA,
            "082a7f6e1b989eba1e03d174f90873d38219a3f1498626bb3589df15c2f0a476b5870f7fe9d87cbbbad5",
        ),
    ],
};

const CHACHA: Tls12Vector = Tls12Vector {
    suite: 0xCCA8,
    version: 0x0303,
    etm: false,
    client_random: "4d5c4bf4745bc880354e87a7ee77cfe39f26d0f50aef361c1861ac2a2f4d37a7",
    server_random: "c1d15d2963dbc5353dffbe59c9ec64ab6ca3d2af69f5a098444f574e47524401",
    master: "cf21459773cb2afc33a49b7890a65a961ba321885e57fdb3926e3c1a1b3e16049d95bf20e4d5d934\
             0ad77205d886b39e",
    records: &[
        (
            HANDSHAKE,
            "b21581d22c84f77eeedea6f284018035fe39f020369581217067cf46f2afe390",
        ),
        (
            APPDATA,
            "a59aa5b94ebe02798edefce48bdfb8035bf21271331ba8a648ec89f74c03da139e7c",
        ),
    ],
};

const CBC_SHA_MTE: Tls12Vector = Tls12Vector {
    suite: 0xC013,
    version: 0x0303,
    etm: false,
    client_random: "418d72fbc5f1b76f2d5bc39930ecb0d420d1881384680e627b6097902d41a64d",
    server_random: "b098c265e33739e898a63bbdad66f58611cdd251356d0f7a444f574e47524401",
    master: "1bfbdb47459def00605d34f0b865fdce9bcdebe727a411485e6b9b90dee85bd0704d9cf6528f3609\
             e0661fe10d997081",
    records: &[
        (
            HANDSHAKE,
            "8c8f924b79f4698c5f55c0b897ae28783d4f5f3c88b5ab3ec8cea9f707c117262d72719739b8\
                     afe3d6fe471a4e543743fc56a88b4b6d0b3413908bd142ebb65e",
        ),
        (
            APPDATA,
            "9f2aafc4d06030f001daf9203eb046f8e3dad73f44014045915b9d87630352e5d94da7796b986a\
                   2d2dc7b3f083a46b7e6073d658eb3dd4bf913126c4c7dbd9ee",
        ),
    ],
};

const CBC_SHA384_ETM: Tls12Vector = Tls12Vector {
    suite: 0xC028,
    version: 0x0303,
    etm: true,
    client_random: "e85f495e88c57541e173a30d25e634f95a6f250286418d0132dcee47fd38689d",
    server_random: "7ec7ecb0c2bd587bb72886a313ff6057deed29f993b7128e444f574e47524401",
    master: "71125f9d4912ebc78dce1e5880344904e9a464997d6c34faed6762aa4e423a6924c57bc08741ae74\
             c51d0c9b77335f38",
    records: &[
        (
            HANDSHAKE,
            "2646a151178139803296cb579763fd7dc41e2bc9e5d3021c7f5e1f364863434fe7e8a6a38c4e\
                     0489670a9278db970bb7f543e2e96628681f806b2e5cb49c7e13a09546d987c04694b1745407\
                     454d3b65aaf7c2dd0bd8c5fd234d07e2bcee16ac",
        ),
        (
            APPDATA,
            "5c51912badc91031eee234f5a2d126660fcb041828f76e26327d110b61c14f23043ee9151f83ec\
                   08f568da4da8bf2e0a08371aa6a59f56fb43c1ef6c461f0f8f949c3055e793234019a05a91cb1e\
                   3e3e1594956d48a11d78f1a70fcab902f1f1",
        ),
    ],
};

/// TLS 1.0 with 1/n-1 record splitting ("G", then "ET / HTTP/1.0\r\n\r\n"): each record's
/// IV is the previous record's last ciphertext block.
const TLS10_CBC_MTE: Tls12Vector = Tls12Vector {
    suite: 0xC014,
    version: 0x0301,
    etm: false,
    client_random: "e22e949af1952f12e1dbd6f22c0dcc01195212e1ea9eb151761811aa3061ffa1",
    server_random: "4ae4258de7d73ef6b7a9d91d987e19f9d505e077ca360130444f574e47524400",
    master: "12f90dc5cba95e4012f4dedf1e08b7967019a8facb6c006df88df7fb9ad5997c12c8c88afb3bc5c5\
             71aba32ce18a098d",
    records: &[
        (
            HANDSHAKE,
            "8f8d675ab47d2249f547908be84f54b8f4868709a3435018e31321f91e4d6fb490e88676debf\
                     60049f115eecd9b48f3c",
        ),
        (
            APPDATA,
            "b2890a3cf8f0afbac47a6c1c398ebdae3f245513e4d8c393abf19cb7ddefdf95",
        ),
        (
            APPDATA,
            "cbf5c2b680ac24418dd9d28a6ccde4a013677231239109ab37de1876d084c807cbb0d4f8ad76c1\
                   f3156b06ec320c301c",
        ),
    ],
};

fn decryptor(v: &Tls12Vector, etm: bool) -> RecordDecryptor {
    RecordDecryptor::tls1x(
        v.version,
        suite(v.suite).unwrap(),
        &hex(v.master),
        &random32(v.client_random),
        &random32(v.server_random),
        true,
        etm,
    )
    .unwrap()
}

/// Decrypts every record of the vector in order; returns the application data.
fn run(v: &Tls12Vector) -> Vec<u8> {
    let mut dec = decryptor(v, v.etm);
    let mut app = Vec::new();
    let mut out = Vec::new();
    for (i, (ty, frag)) in v.records.iter().enumerate() {
        let t = dec
            .decrypt(*ty, v.version, &hex(frag), &mut out)
            .unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(t, *ty);
        if t == HANDSHAKE {
            // Finished: type 20, 12 bytes of verify_data (RFC 5246 7.4.9).
            assert_eq!(out[..4], [0x14, 0, 0, 0x0c]);
            assert_eq!(out.len(), 16);
        } else {
            app.extend_from_slice(&out);
        }
    }
    assert_eq!(dec.seq(), v.records.len() as u64);
    app
}

#[test]
fn test_tls12_aes128_gcm_openssl() {
    assert_eq!(run(&GCM128), GET);
}

#[test]
fn test_tls12_chacha20_poly1305_openssl() {
    assert_eq!(run(&CHACHA), GET);
}

#[test]
fn test_tls12_cbc_sha_mac_then_encrypt_openssl() {
    assert_eq!(run(&CBC_SHA_MTE), GET);
}

#[test]
fn test_tls12_cbc_sha384_encrypt_then_mac_openssl() {
    assert_eq!(run(&CBC_SHA384_ETM), GET);
}

#[test]
fn test_tls10_cbc_chained_iv_openssl() {
    assert_eq!(run(&TLS10_CBC_MTE), GET);
    // Without the Finished record the chained IV and the sequence number are both wrong:
    // the first application record fails and yields nothing.
    let mut dec = decryptor(&TLS10_CBC_MTE, false);
    let mut out = Vec::new();
    let r = dec.decrypt(APPDATA, 0x0301, &hex(TLS10_CBC_MTE.records[1].1), &mut out);
    assert!(
        matches!(r, Err(DecryptError::BadMac | DecryptError::BadPadding)),
        "{r:?}"
    );
    assert!(out.is_empty());
}

#[test]
fn test_tls12_wrong_direction_or_etm_flag_fails() {
    for v in [
        &GCM128,
        &CHACHA,
        &CBC_SHA_MTE,
        &CBC_SHA384_ETM,
        &TLS10_CBC_MTE,
    ] {
        // Server keys on a client record.
        let mut dec = RecordDecryptor::tls1x(
            v.version,
            suite(v.suite).unwrap(),
            &hex(v.master),
            &random32(v.client_random),
            &random32(v.server_random),
            false,
            v.etm,
        )
        .unwrap();
        let mut out = Vec::new();
        let (ty, frag) = v.records[0];
        assert!(dec.decrypt(ty, v.version, &hex(frag), &mut out).is_err());
        assert!(out.is_empty());
        // Randoms swapped: a different key block.
        let mut dec = RecordDecryptor::tls1x(
            v.version,
            suite(v.suite).unwrap(),
            &hex(v.master),
            &random32(v.server_random),
            &random32(v.client_random),
            true,
            v.etm,
        )
        .unwrap();
        assert!(dec.decrypt(ty, v.version, &hex(frag), &mut out).is_err());
        assert!(out.is_empty());
    }
    // The EtM flag flipped on CBC vectors.
    for v in [&CBC_SHA_MTE, &CBC_SHA384_ETM] {
        let mut dec = decryptor(v, !v.etm);
        let mut out = Vec::new();
        let (ty, frag) = v.records[0];
        assert!(dec.decrypt(ty, v.version, &hex(frag), &mut out).is_err());
        assert!(out.is_empty());
    }
}

#[test]
fn test_tls12_flipped_byte_at_every_offset_fails() {
    for v in [&GCM128, &CHACHA, &CBC_SHA_MTE, &CBC_SHA384_ETM] {
        let (ty, frag) = v.records[0];
        let frag = hex(frag);
        let good = decryptor(v, v.etm);
        let mut out = Vec::new();
        for i in 0..frag.len() {
            let mut bad = frag.clone();
            bad[i] ^= 0x01;
            let mut dec = good.clone();
            out.extend_from_slice(b"stale");
            let r = dec.decrypt(ty, v.version, &bad, &mut out);
            assert!(r.is_err(), "suite {:#x} byte {i}", v.suite);
            assert!(out.is_empty());
            assert_eq!(dec.seq(), 1);
            // The next record still decrypts: one bad record costs only itself.
            let (ty2, frag2) = v.records[1];
            assert_eq!(
                dec.decrypt(ty2, v.version, &hex(frag2), &mut out),
                Ok(APPDATA)
            );
            assert_eq!(out, GET);
        }
        // Which check catches what, for the CBC formats.
        if v.suite == 0xC028 {
            // EtM: the MAC covers IV and ciphertext, so any change there is BadMac.
            for i in [0, 16, frag.len() - 49, frag.len() - 1] {
                let mut bad = frag.clone();
                bad[i] ^= 0x01;
                let mut dec = good.clone();
                assert_eq!(
                    dec.decrypt(ty, v.version, &bad, &mut out),
                    Err(DecryptError::BadMac)
                );
            }
        }
    }
}

#[test]
fn test_tls12_truncated_at_every_offset_fails() {
    for v in [
        &GCM128,
        &CHACHA,
        &CBC_SHA_MTE,
        &CBC_SHA384_ETM,
        &TLS10_CBC_MTE,
    ] {
        let (ty, frag) = v.records[0];
        let frag = hex(frag);
        let good = decryptor(v, v.etm);
        let mut out = Vec::new();
        for cut in 0..frag.len() {
            let mut dec = good.clone();
            assert!(
                dec.decrypt(ty, v.version, &frag[..cut], &mut out).is_err(),
                "{cut}"
            );
            assert!(out.is_empty());
        }
    }
}

#[test]
fn test_tls12_constructor_errors() {
    let v = &GCM128;
    let cr = random32(v.client_random);
    let sr = random32(v.server_random);
    let ms = hex(v.master);
    let gcm = suite(0xC02F).unwrap();
    assert_eq!(
        RecordDecryptor::tls12(gcm, &ms[..47], &cr, &sr, true, false).err(),
        Some(DecryptError::BadSecret)
    );
    assert_eq!(
        RecordDecryptor::tls12(tls13_aes128(), &ms, &cr, &sr, true, false).err(),
        Some(DecryptError::UnsupportedSuite(0x1301))
    );
    // AEAD needs TLS 1.2; so do SHA-256 MACs. SSL 3.0 and unknown versions are refused.
    for (version, id) in [
        (0x0302, 0xC02F),
        (0x0301, 0xCCA8),
        (0x0301, 0x003C),
        (0x0300, 0x002F),
        (0x0304, 0x002F),
    ] {
        assert_eq!(
            RecordDecryptor::tls1x(version, suite(id).unwrap(), &ms, &cr, &sr, true, false).err(),
            Some(DecryptError::UnsupportedVersion(version))
        );
    }
    let mut dec = RecordDecryptor::tls12(gcm, &ms, &cr, &sr, true, false).unwrap();
    assert_eq!(
        dec.key_update(),
        Err(DecryptError::UnsupportedVersion(0x0303))
    );
    assert!(!dec.is_tls13());
    assert_eq!(dec.suite().id, 0xC02F);
}

#[test]
fn test_tls12_record_overflow() {
    let mut dec = decryptor(&GCM128, false);
    let mut out = Vec::new();
    let big = vec![0u8; (1 << 14) + 2049];
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &big, &mut out),
        Err(DecryptError::RecordOverflow(big.len()))
    );
    assert_eq!(dec.seq(), 1);
}

/// CBC records built here with the real key block, to reach each failure.
#[test]
fn test_tls12_cbc_padding_and_mac_checks() {
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    let v = &CBC_SHA_MTE;
    let cr = random32(v.client_random);
    let sr = random32(v.server_random);
    let mut kb = [0u8; 2 * (20 + 16)];
    prf_tls12(
        HashAlg::Sha256,
        &hex(v.master),
        b"key expansion",
        &[&sr, &cr],
        &mut kb,
    );
    let (mac_key, enc_key) = (&kb[..20], &kb[40..56]);
    let mac = MacKey::new(MacAlg::HmacSha1, mac_key).unwrap();
    let aes = aes::Aes128::new_from_slice(enc_key).unwrap();
    let iv = [7u8; 16];
    let encrypt = |pt: &[u8]| -> Vec<u8> {
        assert_eq!(pt.len() % 16, 0);
        let mut out = iv.to_vec();
        let mut prev = iv;
        for block in pt.chunks(16) {
            let mut b = [0u8; 16];
            for i in 0..16 {
                b[i] = block[i] ^ prev[i];
            }
            let mut arr = b.into();
            aes.encrypt_block(&mut arr);
            prev.copy_from_slice(&arr);
            out.extend_from_slice(&arr);
        }
        out
    };
    let mac_of = |seq: u64, content: &[u8]| {
        let mut hdr = seq.to_be_bytes().to_vec();
        hdr.extend_from_slice(&[APPDATA, 3, 3]);
        hdr.extend_from_slice(&(content.len() as u16).to_be_bytes());
        mac.compute(&[&hdr, content])
    };
    let content = b"hello, world";
    // content(12) + mac(20) + padding: 32 + 15 + 1 = 48.
    let build = |seq: u64, pad_byte: u8, mac_ok: bool| {
        let mut pt = content.to_vec();
        let mut m = mac_of(seq, content);
        if !mac_ok {
            m[0] ^= 1;
        }
        pt.extend_from_slice(&m);
        pt.extend_from_slice(&[pad_byte; 15]);
        pt.push(15);
        encrypt(&pt)
    };
    let base = decryptor(v, false);
    let mut out = Vec::new();
    // Skip the Finished (seq 0): our records use seq 0 directly.
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &build(0, 15, true), &mut out),
        Ok(APPDATA)
    );
    assert_eq!(out, content);
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &build(0, 14, true), &mut out),
        Err(DecryptError::BadPadding)
    );
    assert!(out.is_empty());
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &build(0, 15, false), &mut out),
        Err(DecryptError::BadMac)
    );
    assert!(out.is_empty());
    // Padding length larger than the record.
    let mut pt = vec![0xffu8; 32];
    pt[31] = 200;
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &encrypt(&pt), &mut out),
        Err(DecryptError::BadPadding)
    );
    // Padding fits but leaves no room for the MAC.
    let pt = vec![20u8; 32];
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &encrypt(&pt), &mut out),
        Err(DecryptError::BadPadding)
    );
    // Not a whole number of blocks / too short for a MAC.
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &[0u8; 40], &mut out),
        Err(DecryptError::BadLength(40))
    );
    let mut dec = base.clone();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &[0u8; 32], &mut out),
        Err(DecryptError::BadLength(32))
    );
}

// ---------------------------------------------------------------------------------------
// TLS 1.3 from OpenSSL sessions, with KeyUpdate

struct Tls13Vector {
    suite: u16,
    client_hs: &'static str,
    client_ap0: &'static str,
    /// OpenSSL's `CLIENT_TRAFFIC_SECRET_N` after one KeyUpdate.
    client_ap1: &'static str,
    finished: &'static str,
    key_update: &'static str,
    /// Application records after the KeyUpdate, and the final alert.
    after: &'static [&'static str],
}

const T13_CHACHA: Tls13Vector = Tls13Vector {
    suite: 0x1303,
    client_hs: "240395f83084b45e8b099a8a5fb733f66b1588f66fdfdbcbfb4e6802b7228b95",
    client_ap0: "1fbd6b740f615d1254f991096f52a41c38b3e04cd2d4bcf828bc16c9230845ef",
    client_ap1: "2c675966207bd62a582b73c9428702962b5da9a2dd690718fdce00ead64022f8",
    finished: "24e2e966b4c07dc9809e2e79bad1a3258be7528dd18f4d9b2067012feff938297c2ee87fc544e2cca6\
               9673e825a74c4be9c4f4db01",
    key_update: "3170badcebb73465226d74244a690b0a57097d62ce22",
    after: &[
        "7409a2a24528aefc0c0b2581f65f0d71f063b422a3d49e23bc2c7f93796aae7295",
        "9d5444991487dbb6b5bc357d197bd85aed2812",
        "965ec9f079c8529ece3bd579e8a5f939f2df60",
    ],
};

const T13_AES256: Tls13Vector = Tls13Vector {
    suite: 0x1302,
    client_hs: "010208f4d0712fcf84f3937dc68cd0e254a4d4d5ea2347fb9f1089ef460a6678afea6a0ff622474f8c\
                0cdaf5c0b9159c",
    client_ap0:
        "5e2e556811e1fef87880f7388f6164e175f64e56129d3bc739401025c09816dca9aefaaa7786dbb07f\
                 839c1eb9846642",
    client_ap1:
        "f69202a8446b0cfca38f9275ee441d9fc126d5e46a312da8ee4992d008dd792a2f4fdda7be237798ea\
                 ee2554004911a1",
    finished:
        "637fb2c6a58b33203acf3610c9c06530e772e4a51c864a3d60d1edce45f762ac2fbca4e05b0909e18df7\
               d3108c8367f776a1f7494feaa29a6e5e9942585444125f4fd131a5",
    key_update: "48deae5da9692483007499800738403e33047db137dd",
    after: &[
        "1038436de293c9b324395abc311f5c4975a22b929d6fcdbcffd194ad67e79348bf37f6",
        "b997ecbd94b8dd7eeedc848819cb58eb41ed68",
    ],
};

fn run13(v: &Tls13Vector) {
    let s = suite(v.suite).unwrap();
    // "traffic upd" against OpenSSL's own next secret.
    let mut next = vec![0u8; s.hash.len()];
    hkdf_expand_label(s.hash, &hex(v.client_ap0), b"traffic upd", b"", &mut next).unwrap();
    assert_eq!(next, hex(v.client_ap1));

    let mut dec = RecordDecryptor::tls13(s, &hex(v.client_hs)).unwrap();
    let (ty, fin) = open(&mut dec, APPDATA, 0x0303, v.finished).unwrap();
    assert_eq!(ty, HANDSHAKE);
    assert_eq!(fin[..4], [0x14, 0, 0, s.hash.len() as u8]);
    assert_eq!(fin.len(), 4 + s.hash.len());

    let mut dec = RecordDecryptor::tls13(s, &hex(v.client_ap0)).unwrap();
    // KeyUpdate, update_requested (s_client's "K" command).
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, v.key_update),
        Ok((HANDSHAKE, vec![24, 0, 0, 1, 1]))
    );
    assert_eq!(dec.seq(), 1);
    let before = dec.clone();
    dec.key_update().unwrap();
    assert_eq!((dec.seq(), dec.key_updates()), (0, 1));
    let mut app = Vec::new();
    for (i, frag) in v.after.iter().enumerate() {
        let (ty, pt) = open(&mut dec, APPDATA, 0x0303, frag).unwrap();
        if i + 1 == v.after.len() {
            // close_notify alert.
            assert_eq!((ty, pt), (ALERT, vec![1, 0]));
        } else {
            assert_eq!(ty, APPDATA);
            app.extend_from_slice(&pt);
        }
    }
    assert_eq!(app, GET);
    // Without the KeyUpdate the old keys fail.
    let mut stale = before;
    assert_eq!(
        open(&mut stale, APPDATA, 0x0303, v.after[0]),
        Err(DecryptError::AuthFailed)
    );
    // The updated secret given directly gives the same result as key_update().
    let mut direct = RecordDecryptor::tls13(s, &hex(v.client_ap1)).unwrap();
    assert_eq!(
        open(&mut direct, APPDATA, 0x0303, v.after[0]).unwrap().0,
        APPDATA
    );
}

#[test]
fn test_tls13_chacha20_key_update_openssl() {
    run13(&T13_CHACHA);
}

#[test]
fn test_tls13_aes256_gcm_key_update_openssl() {
    run13(&T13_AES256);
}

#[test]
fn test_tls13_failed_record_costs_only_itself() {
    let v = &T13_AES256;
    let s = suite(v.suite).unwrap();
    let mut dec = RecordDecryptor::tls13(s, &hex(v.client_ap1)).unwrap();
    let mut bad = hex(v.after[0]);
    bad[3] ^= 0x40;
    let mut out = Vec::new();
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &bad, &mut out),
        Err(DecryptError::AuthFailed)
    );
    assert!(out.is_empty());
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, v.after[1]),
        Ok((ALERT, vec![1, 0]))
    );
}

// ---------------------------------------------------------------------------------------
// TLS 1.3 records built here

/// Seals `inner` (content || type || zeros) as a TLS 1.3 record fragment.
fn seal13(s: SuiteInfo, secret: &[u8], seq: u64, header: [u8; 3], inner: &[u8]) -> Vec<u8> {
    let mut key = vec![0u8; s.key_len()];
    let mut iv = [0u8; 12];
    hkdf_expand_label(s.hash, secret, b"key", b"", &mut key).unwrap();
    hkdf_expand_label(s.hash, secret, b"iv", b"", &mut iv).unwrap();
    for (n, b) in iv[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= b;
    }
    let len = ((inner.len() + 16) as u16).to_be_bytes();
    let aad = [header[0], header[1], header[2], len[0], len[1]];
    AeadKey::new(s.cipher, &key).unwrap().seal(&iv, &aad, inner)
}

#[test]
fn test_tls13_inner_type_and_padding() {
    for id in [0x1301, 0x1302, 0x1303] {
        let s = suite(id).unwrap();
        let secret = vec![0x5a; s.hash.len()];
        let hdr = [APPDATA, 3, 3];
        type Case = (&'static [u8], Result<(u8, &'static [u8]), DecryptError>);
        let cases: [Case; 5] = [
            (b"padded\x17\0\0\0\0\0\0\0", Ok((APPDATA, b"padded"))),
            (b"\x17", Ok((APPDATA, b""))),
            (b"a\0b\x16", Ok((HANDSHAKE, b"a\0b"))),
            (b"\0\0\0\0\0", Err(DecryptError::MissingContentType)),
            (b"\0", Err(DecryptError::MissingContentType)),
        ];
        for (inner, expected) in cases {
            let frag = seal13(s, &secret, 0, hdr, inner);
            let mut dec = RecordDecryptor::tls13(s, &secret).unwrap();
            let mut out = Vec::new();
            let r = dec.decrypt(APPDATA, 0x0303, &frag, &mut out);
            match expected {
                Ok((ty, pt)) => {
                    assert_eq!(r, Ok(ty));
                    assert_eq!(out, pt);
                }
                Err(e) => {
                    assert_eq!(r, Err(e));
                    assert!(out.is_empty());
                }
            }
            assert_eq!(dec.seq(), 1);
        }
    }
}

#[test]
fn test_tls13_nonce_uses_full_sequence_number() {
    let s = tls13_aes128();
    let secret = [0x11u8; 32];
    let seq = 0x0102_0304_0506_0708;
    let frag = seal13(s, &secret, seq, [APPDATA, 3, 3], b"late\x17");
    let mut dec = RecordDecryptor::tls13(s, &secret).unwrap();
    let mut out = Vec::new();
    dec.set_seq(seq - 1);
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &frag, &mut out),
        Err(DecryptError::AuthFailed)
    );
    dec.set_seq(seq);
    assert_eq!(dec.decrypt(APPDATA, 0x0303, &frag, &mut out), Ok(APPDATA));
    assert_eq!(out, b"late");
    assert_eq!(dec.seq(), seq + 1);
    // Wraps instead of overflowing.
    dec.set_seq(u64::MAX);
    let _ = dec.decrypt(APPDATA, 0x0303, &frag, &mut out);
    assert_eq!(dec.seq(), 0);
}

#[test]
fn test_tls13_change_cipher_spec_is_not_decrypted() {
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let mut out = vec![9];
    assert_eq!(
        dec.decrypt(20, 0x0303, &[1], &mut out),
        Err(DecryptError::NotEncrypted)
    );
    assert!(out.is_empty());
    assert_eq!(dec.seq(), 0);
    // The next record still uses sequence 0.
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, RFC8448_CLIENT_APPDATA)
            .unwrap()
            .0,
        APPDATA
    );
}

#[test]
fn test_tls13_record_limits_and_constructor_errors() {
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let mut out = Vec::new();
    let big = vec![0u8; (1 << 14) + 257];
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &big, &mut out),
        Err(DecryptError::RecordOverflow(big.len()))
    );
    assert_eq!(
        dec.decrypt(APPDATA, 0x0303, &[0; 16], &mut out),
        Err(DecryptError::BadLength(16))
    );
    assert_eq!(dec.seq(), 2);
    assert_eq!(
        RecordDecryptor::tls13(suite(0xC02F).unwrap(), &[0; 32]).err(),
        Some(DecryptError::UnsupportedSuite(0xC02F))
    );
    assert_eq!(
        RecordDecryptor::tls13(tls13_aes128(), &[0; 48]).err(),
        Some(DecryptError::BadSecret)
    );
    assert_eq!(
        RecordDecryptor::tls13(tls13_aes128(), &[]).err(),
        Some(DecryptError::BadSecret)
    );
}

// ---------------------------------------------------------------------------------------
// Properties

fn all_decryptors() -> Vec<RecordDecryptor> {
    let mut v: Vec<RecordDecryptor> = [
        &GCM128,
        &CHACHA,
        &CBC_SHA_MTE,
        &CBC_SHA384_ETM,
        &TLS10_CBC_MTE,
    ]
    .iter()
    .map(|v| decryptor(v, v.etm))
    .collect();
    for id in [0x1301, 0x1302, 0x1303] {
        let s = suite(id).unwrap();
        v.push(RecordDecryptor::tls13(s, &vec![3; s.hash.len()]).unwrap());
    }
    v
}

#[test]
fn test_random_bytes_never_decrypt_or_panic() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    for mut dec in all_decryptors() {
        for _ in 0..300 {
            let len = (next() % 700) as usize;
            let frag: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let ty = [20, 21, 22, 23, 99][(next() % 5) as usize];
            let seq = dec.seq();
            let r = dec.decrypt(ty, 0x0303, &frag, &mut out);
            assert!(r.is_err());
            assert!(out.is_empty());
            if r != Err(DecryptError::NotEncrypted) {
                assert_eq!(dec.seq(), seq.wrapping_add(1));
            }
        }
    }
}

#[test]
fn test_output_buffer_reused() {
    let s = tls13_aes128();
    let secret = [0x42u8; 32];
    let mut inner = vec![b'x'; 16000];
    inner.push(APPDATA);
    let mut dec = RecordDecryptor::tls13(s, &secret).unwrap();
    let mut out = Vec::new();
    for seq in 0..4 {
        let frag = seal13(s, &secret, seq, [APPDATA, 3, 3], &inner);
        assert_eq!(dec.decrypt(APPDATA, 0x0303, &frag, &mut out), Ok(APPDATA));
        assert_eq!(out.len(), 16000);
    }
    let cap = out.capacity();
    let ptr = out.as_ptr();
    let frag = seal13(s, &secret, 4, [APPDATA, 3, 3], &inner);
    dec.decrypt(APPDATA, 0x0303, &frag, &mut out).unwrap();
    assert_eq!((out.capacity(), out.as_ptr()), (cap, ptr));
}

#[test]
fn test_debug_never_shows_keys() {
    let v = &GCM128;
    let dec = decryptor(v, false);
    let shown = format!("{dec:?}");
    assert!(
        shown.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>"), "{shown}");
    // No run of hex from the master secret or derived keys (they would show as numbers or
    // hex): Debug output must be short and free of long digit runs.
    assert!(shown.len() < 160, "{shown}");
    assert!(!shown.contains("d78b"), "{shown}");
    let t13 = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let shown = format!("{t13:?}");
    assert!(!shown.contains("9e40") && shown.len() < 160, "{shown}");
}

#[test]
fn test_error_display() {
    assert_eq!(
        DecryptError::UnsupportedSuite(0x0005).to_string(),
        "cannot decrypt suite 0x0005"
    );
    assert_eq!(
        DecryptError::AuthFailed.to_string(),
        "record authentication failed (wrong key or corrupted record)"
    );
}

/// End to end through the key log: lines as a browser writes them, looked up by client
/// random, secrets handed to the decryptors.
#[test]
fn test_keylog_to_decryptor() {
    let v = &GCM128;
    let s13 = &T13_CHACHA;
    let cr13 = "bba5d55b0383985f18b34772a63b7387b3578d2bdb723d2307c83e36d5572c77";
    let mut log = KeyLog::new();
    let st = log.add_text(&format!(
        "# comment\nCLIENT_RANDOM {} {}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {cr13} {}\n\
         CLIENT_TRAFFIC_SECRET_0 {cr13} {}\nCLIENT_TRAFFIC_SECRET_N {cr13} {}\n",
        v.client_random,
        v.master.replace(' ', ""),
        s13.client_hs,
        s13.client_ap0,
        s13.client_ap1,
    ));
    assert_eq!((st.accepted, st.ignored, st.bad), (3, 2, 0));
    let ms = log
        .lookup(&random32(v.client_random))
        .unwrap()
        .master_secret()
        .unwrap()
        .to_vec();
    let mut dec = RecordDecryptor::tls12(
        suite(v.suite).unwrap(),
        &ms,
        &random32(v.client_random),
        &random32(v.server_random),
        true,
        false,
    )
    .unwrap();
    assert_eq!(
        open(&mut dec, HANDSHAKE, 0x0303, v.records[0].1).unwrap().0,
        HANDSHAKE
    );
    let hs = log
        .lookup(&random32(cr13))
        .unwrap()
        .get(SecretKind::ClientHandshake)
        .unwrap();
    let mut dec = RecordDecryptor::tls13(suite(0x1303).unwrap(), hs).unwrap();
    assert_eq!(
        open(&mut dec, APPDATA, 0x0303, s13.finished).unwrap().0,
        HANDSHAKE
    );
}

// ---------------------------------------------------------------------------------------
// Records read in parts (Unsealed)

/// Every range of `u` against `content`, the plaintext opening the record whole gives.
fn check_ranges(u: &Unsealed<'_>, content: &[u8]) {
    assert_eq!(u.len(), content.len());
    let mut out = Vec::new();
    let n = content.len();
    let mut edges: Vec<usize> = [0, 1, 15, 16, 17, 31, 32, 33, 500, n / 2]
        .into_iter()
        .filter(|&e| e <= n)
        .collect();
    edges.extend([n.saturating_sub(17), n.saturating_sub(1), n]);
    for &a in &edges {
        for &b in edges.iter().filter(|&&b| b >= a) {
            assert_eq!(
                u.read(a, b, &mut out),
                Some(&content[a..b]),
                "{a}..{b} of {n}"
            );
        }
    }
    // Past the end: clamped.
    assert_eq!(u.read(n, n + 10, &mut out), Some(&[][..]));
}

#[test]
fn test_unsealed_reads_real_records_as_decrypt_does() {
    // RFC 8448's client application record (AES-128-GCM, sequence 0): bytes 00..31.
    let mut dec = RecordDecryptor::tls13(tls13_aes128(), &hex(RFC8448_CLIENT_AP)).unwrap();
    let frag = hex(RFC8448_CLIENT_APPDATA);
    let mut scratch = Vec::new();
    let u = dec.unsealed(APPDATA, &frag, &mut scratch).unwrap();
    check_ranges(&u, &(0u8..=0x31).collect::<Vec<u8>>());
    assert_eq!(dec.seq(), 1);

    // OpenSSL's TLS 1.2 AES-128-GCM session: the Finished (a handshake record) is left to
    // decrypt, which takes sequence 0; the request is read in parts at sequence 1 (the
    // explicit nonce in the record, not the counter, makes the nonce).
    let mut dec = decryptor(&GCM128, false);
    let (fin_type, fin) = GCM128.records[0];
    assert!(dec.unsealed(fin_type, &hex(fin), &mut scratch).is_none());
    assert_eq!(dec.seq(), 0);
    assert_eq!(open(&mut dec, fin_type, 0x0303, fin).unwrap().0, HANDSHAKE);
    let frag = hex(GCM128.records[1].1);
    let u = dec.unsealed(APPDATA, &frag, &mut scratch).unwrap();
    check_ranges(&u, GET);
    assert_eq!(dec.seq(), 2);

    // ChaCha20-Poly1305 (TLS 1.2 and 1.3) and CBC are opened whole.
    for v in [&CHACHA, &CBC_SHA_MTE] {
        let mut dec = decryptor(v, v.etm);
        let frag = hex(v.records[1].1);
        assert!(dec.unsealed(APPDATA, &frag, &mut scratch).is_none());
        assert_eq!(dec.seq(), 0);
    }
}

#[test]
fn test_unsealed_takes_only_unpadded_application_data() {
    for id in [0x1301, 0x1302, 0x1303] {
        let s = suite(id).unwrap();
        let secret = vec![0x5a; s.hash.len()];
        let aes = id != 0x1303;
        for len in [0usize, 1, 15, 16, 17, 100, 4096, 16384] {
            let content: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let mut scratch = Vec::new();
            for (tail, opens_in_parts) in [
                (&[APPDATA][..], aes),
                (&[APPDATA, 0, 0][..], false),
                (&[HANDSHAKE][..], false),
                (&[ALERT][..], false),
            ] {
                let inner = [&content[..], tail].concat();
                let frag = seal13(s, &secret, 9, [APPDATA, 3, 3], &inner);
                let mut dec = RecordDecryptor::tls13(s, &secret).unwrap();
                dec.set_seq(9);
                match dec.unsealed(APPDATA, &frag, &mut scratch) {
                    Some(u) => {
                        assert!(opens_in_parts, "{id:#x} {len} {tail:?}");
                        check_ranges(&u, &content);
                        assert_eq!(dec.seq(), 10);
                    }
                    None => {
                        assert!(!opens_in_parts, "{id:#x} {len} {tail:?}");
                        // Nothing taken: the record still opens whole at its number.
                        assert_eq!(dec.seq(), 9);
                        let mut out = Vec::new();
                        assert_eq!(dec.decrypt(APPDATA, 0x0303, &frag, &mut out), Ok(tail[0]));
                        assert_eq!(out, content);
                    }
                }
            }
        }
        // Too short for a tag and a type.
        let mut dec = RecordDecryptor::tls13(s, &secret).unwrap();
        assert!(dec.unsealed(APPDATA, &[0; 16], &mut Vec::new()).is_none());
        assert!(dec.unsealed(APPDATA, &[], &mut Vec::new()).is_none());
        assert_eq!(dec.seq(), 0);
    }
}
