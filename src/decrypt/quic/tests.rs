//! RFC 9001 Appendix A and RFC 9369 Appendix A vectors, key updates, damaged packets.

use super::seal::protect;
use super::*;
use crate::decrypt::kdf::tests::hex;

/// RFC 9001 A.1: `client_initial_secret` and `server_initial_secret` for DCID
/// 0x8394c8f03e515708.
const V1_CLIENT_INITIAL: &str = "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea";
const V1_SERVER_INITIAL: &str = "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b";

/// RFC 9001 A.5 and RFC 9369 A.5: the application traffic secret of the ChaCha20 example.
const A5_SECRET: &str = "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";
/// RFC 9001 A.5: "4cfe4189655e5cd55c41f69080575d7999c25a5bfb".
const A5_V1_PACKET: &str = "4cfe4189655e5cd55c41f69080575d7999c25a5bfb";
/// RFC 9369 A.5: the same packet protected with the v2 labels.
const A5_V2_PACKET: &str = "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba";
/// The example's packet number, 654360564, sent in 3 bytes (0xbff4 after the 0x00).
const A5_PN: u64 = 654_360_564;

fn sample(s: &str) -> [u8; 16] {
    hex(s).try_into().unwrap()
}

#[test]
fn rfc9001_a1_initial_key_material() {
    let m = KeyMaterial::derive(Labels::V1, QuicSuite::INITIAL, &hex(V1_CLIENT_INITIAL)).unwrap();
    assert_eq!(m.key(), hex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(m.iv().to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(m.hp(), hex("9f50449e04a0e810283a1e9933adedd2"));
    let m = KeyMaterial::derive(Labels::V1, QuicSuite::INITIAL, &hex(V1_SERVER_INITIAL)).unwrap();
    assert_eq!(m.key(), hex("cf3a5331653c364c88f0f379b6067e37"));
    assert_eq!(m.iv().to_vec(), hex("0ac1493ca1905853b0bba03e"));
    assert_eq!(m.hp(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    // Debug never shows the key.
    assert!(!format!("{m:?}").contains("1f36"));
}

#[test]
fn rfc9001_a2_a3_aes_header_protection_masks() {
    // A.2: "sample = d1b1c98dd7689fb8ec11d242b123dc9b  mask = AES-ECB(hp, sample)[0..4]
    // = 437b9aec36".
    let hp = HeaderKey::new(QuicSuite::INITIAL, &hex("9f50449e04a0e810283a1e9933adedd2")).unwrap();
    assert_eq!(
        hp.mask(&sample("d1b1c98dd7689fb8ec11d242b123dc9b"))
            .to_vec(),
        hex("437b9aec36")
    );
    // A.3: "sample = 2cd0991cd25b0aac406a5816b6394100  mask = 2ec0d8356a".
    let hp = HeaderKey::new(QuicSuite::INITIAL, &hex("c206b8d9b9f0f37644430b490eeaa314")).unwrap();
    assert_eq!(
        hp.mask(&sample("2cd0991cd25b0aac406a5816b6394100"))
            .to_vec(),
        hex("2ec0d8356a")
    );
}

/// RFC 9001 A.3: the server Initial, opened here with keys from the logged-style secret
/// (the dissector's tests open A.2, A.3 and RFC 9369's through `InitialKeys`).
#[test]
fn rfc9001_a3_server_initial_from_secret() {
    let packet = hex(
        "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
         5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
         dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
         022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
         2158407dd074ee",
    );
    let keys = QuicKeys::new(QUIC_V1, 0x1301, &hex(V1_SERVER_INITIAL)).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    // pn_offset: 1 + 4 (version) + 1 + 0 (DCID) + 1 + 8 (SCID) + 1 (token length 0)
    // + 2 (Length 0x4075) = 18.
    let u = keys
        .unprotect_long(&packet, 18, None, &mut header, &mut out)
        .unwrap();
    assert_eq!(u.packet_number, 1);
    assert_eq!(u.pn_len, 2);
    assert_eq!(u.header_len, 20);
    assert!(u.is_long());
    assert_eq!(u.reserved_bits(), 0);
    assert_eq!(header, hex("c1000000010008f067a5502a4262b50040750001"));
    assert_eq!(
        out,
        hex(
            "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739
             88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94
             0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00
             020304"
        )
    );
}

#[test]
fn rfc9001_a4_and_rfc9369_a4_retry_integrity() {
    let odcid = hex("8394c8f03e515708");
    let v1 = hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
    assert_eq!(retry_integrity_ok(QUIC_V1, &odcid, &v1), Some(true));
    let v2 = hex("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6");
    assert_eq!(retry_integrity_ok(QUIC_V2, &odcid, &v2), Some(true));
    // The wrong version's key, the wrong ODCID, or a flipped byte: not authentic.
    assert_eq!(retry_integrity_ok(QUIC_V2, &odcid, &v1), Some(false));
    assert_eq!(retry_integrity_ok(QUIC_V1, &odcid[1..], &v1), Some(false));
    for i in 0..v1.len() {
        let mut b = v1.clone();
        b[i] ^= 0x40;
        assert_eq!(
            retry_integrity_ok(QUIC_V1, &odcid, &b),
            Some(false),
            "byte {i}"
        );
    }
    assert_eq!(retry_integrity_ok(QUIC_V1, &odcid, &v1[..15]), None);
    assert_eq!(retry_integrity_ok(QUIC_V1, &[0; 256], &v1), None);
}

#[test]
fn rfc9001_a5_chacha20_keys_and_key_update_secret() {
    let suite = QuicSuite::from_id(0x1303).unwrap();
    let m = KeyMaterial::derive(Labels::V1, suite, &hex(A5_SECRET)).unwrap();
    assert_eq!(
        m.key(),
        hex("c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8")
    );
    assert_eq!(m.iv().to_vec(), hex("e0459b3474bdd0e44a41c144"));
    assert_eq!(
        m.hp(),
        hex("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4")
    );
    let mut ku = [0u8; 32];
    next_secret(Labels::V1, HashAlg::Sha256, &hex(A5_SECRET), &mut ku).unwrap();
    assert_eq!(
        ku.to_vec(),
        hex("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9")
    );
    // "sample = 5e5cd55c41f69080575d7999c25a5bfb  mask = aefefe7d03".
    let hp = HeaderKey::new(QuicSuite::from_id(0x1303).unwrap(), m.hp()).unwrap();
    assert_eq!(
        hp.mask(&sample("5e5cd55c41f69080575d7999c25a5bfb"))
            .to_vec(),
        hex("aefefe7d03")
    );
    // "nonce = e0459b3474bdd0e46d417eb0".
    let keys = PacketKey::new(suite, &m).unwrap();
    assert_eq!(keys.nonce(A5_PN).to_vec(), hex("e0459b3474bdd0e46d417eb0"));
}

#[test]
fn rfc9001_a5_chacha20_short_header_packet() {
    let packet = hex(A5_V1_PACKET);
    let (mut header, mut out) = (Vec::new(), Vec::new());
    // With one fixed set of keys.
    let keys = QuicKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let u = keys
        .unprotect_short(&packet, 0, Some(A5_PN - 1), &mut header, &mut out)
        .unwrap();
    assert_eq!(u.packet_number, A5_PN);
    assert_eq!(u.pn_len, 3);
    assert_eq!(header, hex("4200bff4"));
    assert_eq!(out, hex("01"), "a PING frame");
    assert!(!u.key_phase() && !u.spin() && !u.is_long());
    // Through the 1-RTT key state: generation 0, phase 0.
    let mut one = OneRttKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let o = one
        .unprotect(&packet, 0, Some(A5_PN - 1), &mut header, &mut out)
        .unwrap();
    assert_eq!(o.packet.packet_number, A5_PN);
    assert_eq!(o.keys, KeyGeneration::Current);
    assert_eq!(o.generation, 0);
    assert_eq!(out, hex("01"));
    assert_eq!(one.stats().opened, 1);
    // The sealer gives the RFC's bytes back.
    let sealed = protect(
        Labels::V1,
        QuicSuite::from_id(0x1303).unwrap(),
        &hex(A5_SECRET),
        &hex(A5_SECRET),
        &hex("4200bff4"),
        A5_PN,
        &hex("01"),
    );
    assert_eq!(sealed, packet);
}

#[test]
fn rfc9369_a5_chacha20_short_header_packet_v2() {
    let suite = QuicSuite::from_id(0x1303).unwrap();
    let m = KeyMaterial::derive(Labels::V2, suite, &hex(A5_SECRET)).unwrap();
    assert_eq!(
        m.key(),
        hex("3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2")
    );
    assert_eq!(m.iv().to_vec(), hex("a6b5bc6ab7dafce30ffff5dd"));
    assert_eq!(
        m.hp(),
        hex("d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2")
    );
    let mut ku = [0u8; 32];
    next_secret(Labels::V2, HashAlg::Sha256, &hex(A5_SECRET), &mut ku).unwrap();
    assert_eq!(
        ku.to_vec(),
        hex("c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88")
    );
    let hp = HeaderKey::new(QuicSuite::from_id(0x1303).unwrap(), m.hp()).unwrap();
    assert_eq!(
        hp.mask(&sample("e7b6b932bc27d786f4bc2bb20f2162ba"))
            .to_vec(),
        hex("97580e32bf")
    );
    let mut one = OneRttKeys::new(QUIC_V2, 0x1303, &hex(A5_SECRET)).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    let o = one
        .unprotect(
            &hex(A5_V2_PACKET),
            0,
            Some(A5_PN - 1),
            &mut header,
            &mut out,
        )
        .unwrap();
    assert_eq!(o.packet.packet_number, A5_PN);
    assert_eq!(header, hex("4200bff4"));
    assert_eq!(out, hex("01"));
    // The v1 packet does not open with v2 keys.
    assert_eq!(
        one.unprotect(
            &hex(A5_V1_PACKET),
            0,
            Some(A5_PN - 1),
            &mut header,
            &mut out
        ),
        Err(QuicCryptoError::AuthFailed)
    );
    assert!(header.is_empty() && out.is_empty());
}

#[test]
fn versions_and_suites() {
    assert_eq!(Labels::for_version(QUIC_V1), Labels::V1);
    assert_eq!(Labels::for_version(QUIC_V2), Labels::V2);
    assert_eq!(Labels::for_version(0xff00_001d), Labels::V1);
    assert_eq!(QUIC_V2, crate::dissect::quic::packet::V2);
    assert_eq!(QUIC_V1, crate::dissect::quic::packet::V1);
    assert_eq!(
        QuicSuite::from_id(0x1304).unwrap_err(),
        QuicCryptoError::UnsupportedSuite(0x1304)
    );
    assert!(QuicSuite::from_id(0xc02f).is_err());
    let s = QuicSuite::from_id(0x1302).unwrap();
    assert_eq!(
        (s.cipher, s.hash, s.key_len()),
        (BulkCipher::Aes256Gcm, HashAlg::Sha384, 32)
    );
    // A secret of the wrong length for the suite's hash.
    assert_eq!(
        QuicKeys::new(QUIC_V1, 0x1302, &[7; 32]).unwrap_err(),
        QuicCryptoError::BadSecret
    );
    assert_eq!(
        OneRttKeys::new(QUIC_V1, 0x1301, &[7; 48]).unwrap_err(),
        QuicCryptoError::BadSecret
    );
    let mut out = [0u8; 32];
    assert!(next_secret(Labels::V1, HashAlg::Sha384, &[7; 32], &mut out).is_err());
    // Debug redacts.
    let k = OneRttKeys::new(QUIC_V1, 0x1301, &[7; 32]).unwrap();
    assert!(format!("{k:?}").contains("redacted"));
}

/// aws-lc-rs's header protection against RustCrypto's AES and ChaCha20 core, on samples
/// whose ChaCha20 counter runs to the end of the keystream (0xffffffff: the last block,
/// which a keystream wrapper refuses).
#[test]
fn header_masks_agree_with_an_independent_implementation() {
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    use chacha20::cipher::{KeyIvInit, StreamCipherCore};
    let mut samples = vec![[0u8; 16], [0xff; 16]];
    for i in 0..64u8 {
        let mut s = [0u8; 16];
        for (j, b) in s.iter_mut().enumerate() {
            *b = i.wrapping_mul(31).wrapping_add(j as u8 * 7);
        }
        samples.push(s);
    }
    for counter in [0xffff_ffffu32, 0xffff_fffe, 0, 1] {
        let mut s = [0x5au8; 16];
        s[..4].copy_from_slice(&counter.to_le_bytes());
        samples.push(s);
    }
    let k16 = [0x3c; 16];
    let k32 = [0xc3; 32];
    let a128 = HeaderKey::new(QuicSuite::from_id(0x1301).unwrap(), &k16).unwrap();
    let a256 = HeaderKey::new(QuicSuite::from_id(0x1302).unwrap(), &k32).unwrap();
    let cha = HeaderKey::new(QuicSuite::from_id(0x1303).unwrap(), &k32).unwrap();
    for s in samples {
        let mut b = aes::Block::from(s);
        aes::Aes128Enc::new_from_slice(&k16)
            .unwrap()
            .encrypt_block(&mut b);
        assert_eq!(a128.mask(&s), b[..5], "AES-128 {s:02x?}");
        let mut b = aes::Block::from(s);
        aes::Aes256Enc::new_from_slice(&k32)
            .unwrap()
            .encrypt_block(&mut b);
        assert_eq!(a256.mask(&s), b[..5], "AES-256 {s:02x?}");
        let nonce: [u8; 12] = s[4..].try_into().unwrap();
        let mut core = chacha20::ChaChaCore::<chacha20::R20, chacha20::variants::Ietf>::new(
            &k32.into(),
            &chacha20::Nonce::from(nonce),
        );
        core.set_block_pos(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        let mut block = Default::default();
        core.write_keystream_block(&mut block);
        assert_eq!(cha.mask(&s), block[..5], "ChaCha20 {s:02x?}");
    }
}

#[test]
fn chacha20_counter_at_the_end_of_the_keystream() {
    let hp = HeaderKey::new(QuicSuite::from_id(0x1303).unwrap(), &[9; 32]).unwrap();
    let mut s = [0x55u8; 16];
    s[..4].copy_from_slice(&[0xff; 4]);
    let a = hp.mask(&s);
    s[..4].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
    assert_ne!(a, hp.mask(&s));
}

/// The packet numbers of RFC 9000 A.3 and the window edges.
#[test]
fn packet_number_reconstruction() {
    assert_eq!(
        decode_packet_number(Some(0xa82f30ea), 0x9b32, 16),
        0xa82f9b32
    );
    assert_eq!(decode_packet_number(None, 0, 8), 0);
    assert_eq!(decode_packet_number(Some(0xff), 0x00, 8), 0x100);
    assert_eq!(decode_packet_number(Some(0x100), 0xff, 8), 0xff);
    assert_eq!(decode_packet_number(Some(A5_PN - 1), 0xbff4, 24), A5_PN);
    // At the top of the space the candidate is not pushed past 2^62 - 1.
    let top = (1u64 << 62) - 1;
    assert_eq!(decode_packet_number(Some(top - 1), 0xff, 8), top);
    assert_eq!(decode_packet_number(Some(top - 1), 0x00, 8), top - 0xff);
    // Hostile inputs do not overflow.
    let _ = decode_packet_number(Some(u64::MAX), u64::MAX, 32);
    let _ = decode_packet_number(Some(u64::MAX), 0, 64);
    let _ = decode_packet_number(None, u64::MAX, 0);
}

/// AES-256-GCM with SHA-384 (0x1302): long and short headers built by the sealer.
#[test]
fn aes256_long_and_short_round_trip() {
    let suite = QuicSuite::from_id(0x1302).unwrap();
    let secret = [0x42u8; 48];
    let payload: Vec<u8> = (0..40u8).collect();
    // Handshake-like long header: c? 00000001, DCID 4, SCID 0, Length (2 bytes), pn 2 bytes.
    let mut hdr = hex("e1000000010401020304004020");
    hdr.extend_from_slice(&[0x12, 0x34]);
    let packet = protect(Labels::V1, suite, &secret, &secret, &hdr, 0x1234, &payload);
    let keys = QuicKeys::new(QUIC_V1, 0x1302, &secret).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    let u = keys
        .unprotect_long(&packet, hdr.len() - 2, Some(0x1200), &mut header, &mut out)
        .unwrap();
    assert_eq!((u.packet_number, u.pn_len), (0x1234, 2));
    assert_eq!(header, hdr);
    assert_eq!(out, payload);
    // A short header with an 8-byte DCID, spin bit set, 1-byte packet number.
    let hdr = hex("600102030405060708 07");
    let packet = protect(Labels::V1, suite, &secret, &secret, &hdr, 7, &payload);
    let mut one = OneRttKeys::new(QUIC_V1, 0x1302, &secret).unwrap();
    let o = one
        .unprotect(&packet, 8, None, &mut header, &mut out)
        .unwrap();
    assert_eq!(o.packet.packet_number, 7);
    assert!(o.packet.spin());
    assert_eq!(out, payload);
    // The wrong header form for the call.
    assert_eq!(
        keys.unprotect_long(&packet, 9, None, &mut header, &mut out),
        Err(QuicCryptoError::Invalid("header form"))
    );
}

/// Secrets of generations 0..n.
fn generations(labels: Labels, secret0: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut v = vec![secret0.to_vec()];
    for _ in 0..n {
        let mut next = vec![0u8; secret0.len()];
        next_secret(labels, HashAlg::Sha256, v.last().unwrap(), &mut next).unwrap();
        v.push(next);
    }
    v
}

/// A short header packet of generation `gen` (Key Phase = gen & 1), DCID `0xaabb`,
/// 2-byte packet number.
fn short_packet(labels: Labels, secrets: &[Vec<u8>], gen: usize, pn: u64) -> Vec<u8> {
    let phase = if gen & 1 == 1 { 0x04 } else { 0 };
    let hdr = [0x41 | phase, 0xaa, 0xbb, (pn >> 8) as u8, pn as u8];
    let payload = [0x01, 0x00, 0x00, 0x00, (gen as u8), pn as u8];
    protect(
        labels,
        QuicSuite::INITIAL,
        &secrets[gen],
        &secrets[0],
        &hdr,
        pn,
        &payload,
    )
}

#[test]
fn key_update_round_trip() {
    for (version, labels) in [(QUIC_V1, Labels::V1), (QUIC_V2, Labels::V2)] {
        let secrets = generations(labels, &[0x11; 32], 4);
        let mut keys = OneRttKeys::new(version, 0x1301, &secrets[0]).unwrap();
        let (mut header, mut out) = (Vec::new(), Vec::new());
        let mut largest = None;
        let mut open = |keys: &mut OneRttKeys, gen: usize, pn: u64| {
            let p = short_packet(labels, &secrets, gen, pn);
            let o = keys
                .unprotect(&p, 2, largest, &mut header, &mut out)
                .unwrap_or_else(|e| panic!("gen {gen} pn {pn}: {e}"));
            assert_eq!(o.packet.packet_number, pn);
            assert_eq!(out[4], gen as u8);
            assert_eq!(o.packet.key_phase(), gen & 1 == 1);
            largest = Some(largest.map_or(pn, |l: u64| l.max(pn)));
            o
        };
        for pn in 0..5 {
            assert_eq!(open(&mut keys, 0, pn).keys, KeyGeneration::Current);
        }
        // The phase flips: the next generation opens it and becomes current.
        let o = open(&mut keys, 1, 6);
        assert_eq!((o.keys, o.generation), (KeyGeneration::Next, 1));
        assert_eq!(keys.key_updates(), 1);
        assert!(keys.key_phase());
        // Packet 5, sent before the update, arrives late: the previous keys open it.
        let o = open(&mut keys, 0, 5);
        assert_eq!((o.keys, o.generation), (KeyGeneration::Previous, 0));
        // Reordered within the new phase.
        assert_eq!(open(&mut keys, 1, 8).keys, KeyGeneration::Current);
        assert_eq!(open(&mut keys, 1, 7).keys, KeyGeneration::Current);
        // Two more updates.
        let o = open(&mut keys, 2, 9);
        assert_eq!((o.keys, o.generation), (KeyGeneration::Next, 2));
        let o = open(&mut keys, 3, 10);
        assert_eq!((o.keys, o.generation), (KeyGeneration::Next, 3));
        let o = open(&mut keys, 2, 8);
        assert_eq!((o.keys, o.generation), (KeyGeneration::Previous, 2));
        let s = keys.stats();
        assert_eq!(s.key_updates, 3);
        assert_eq!(s.previous_phase, 2);
        assert_eq!(s.opened, 12);
        assert_eq!(s.failed, 0);
        // Generation 1's keys are gone (two updates ago): a packet of it fails cleanly.
        let p = short_packet(labels, &secrets, 1, 3);
        assert_eq!(
            keys.unprotect(&p, 2, Some(10), &mut header, &mut out),
            Err(QuicCryptoError::AuthFailed)
        );
        assert!(header.is_empty() && out.is_empty());
        assert_eq!(keys.stats().failed, 1);
        assert_eq!(keys.generation(), 3);
    }
}

/// A capture that begins after the first key update: its first packet already has
/// Key Phase 1.
#[test]
fn capture_starting_in_phase_one() {
    let secrets = generations(Labels::V1, &[0x22; 32], 2);
    let mut keys = OneRttKeys::new(QUIC_V1, 0x1301, &secrets[0]).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    let o = keys
        .unprotect(
            &short_packet(Labels::V1, &secrets, 1, 300),
            2,
            Some(299),
            &mut header,
            &mut out,
        )
        .unwrap();
    assert_eq!((o.keys, o.generation), (KeyGeneration::Next, 1));
    let o = keys
        .unprotect(
            &short_packet(Labels::V1, &secrets, 1, 301),
            2,
            Some(300),
            &mut header,
            &mut out,
        )
        .unwrap();
    assert_eq!(o.keys, KeyGeneration::Current);
}

/// A phase flip whose packet does not authenticate moves nothing.
#[test]
fn failed_flip_does_not_rotate() {
    let secrets = generations(Labels::V1, &[0x33; 32], 2);
    let mut keys = OneRttKeys::new(QUIC_V1, 0x1301, &secrets[0]).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    let mut p = short_packet(Labels::V1, &secrets, 1, 1);
    let last = p.len() - 1;
    p[last] ^= 1;
    assert!(keys
        .unprotect(&p, 2, Some(0), &mut header, &mut out)
        .is_err());
    assert_eq!(keys.generation(), 0);
    assert_eq!(keys.key_updates(), 0);
    assert!(keys
        .unprotect(
            &short_packet(Labels::V1, &secrets, 0, 2),
            2,
            Some(0),
            &mut header,
            &mut out
        )
        .is_ok());
}

#[test]
fn every_flipped_byte_fails_cleanly() {
    let packet = hex(A5_V1_PACKET);
    let keys = QuicKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let mut one = OneRttKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let (mut header, mut out) = (vec![9; 4], vec![9; 4]);
    for i in 0..packet.len() {
        for flip in [0x01u8, 0x80] {
            let mut p = packet.clone();
            p[i] ^= flip;
            // Flipping the header form bit makes it a long header: refused before the AEAD.
            let r = keys.unprotect_short(&p, 0, Some(A5_PN - 1), &mut header, &mut out);
            assert!(r.is_err(), "byte {i} flip {flip:#x}");
            assert!(header.is_empty() && out.is_empty());
            let r = one.unprotect(&p, 0, Some(A5_PN - 1), &mut header, &mut out);
            assert!(r.is_err(), "byte {i} flip {flip:#x}");
            assert!(header.is_empty() && out.is_empty());
        }
    }
    assert_eq!(one.generation(), 0);
}

#[test]
fn truncated_at_every_offset_never_panics() {
    let packet = hex(A5_V1_PACKET);
    let keys = QuicKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let mut one = OneRttKeys::new(QUIC_V1, 0x1303, &hex(A5_SECRET)).unwrap();
    let (mut header, mut out) = (Vec::new(), Vec::new());
    for cut in 0..packet.len() {
        let p = &packet[..cut];
        for dcid_len in [0, 1, 20, usize::MAX - 10, usize::MAX] {
            let r = keys.unprotect_short(p, dcid_len, None, &mut header, &mut out);
            assert!(r.is_err());
            assert!(header.is_empty() && out.is_empty());
            assert!(one
                .unprotect(p, dcid_len, None, &mut header, &mut out)
                .is_err());
        }
        for pn_offset in [0, 1, 5, 18, usize::MAX - 10, usize::MAX] {
            assert!(keys
                .unprotect_long(p, pn_offset, None, &mut header, &mut out)
                .is_err());
        }
    }
    // Shorter than the sample is "need more bytes", not "invalid".
    assert_eq!(
        keys.unprotect_short(&packet[..20], 0, None, &mut header, &mut out),
        Err(QuicCryptoError::Truncated("header protection sample"))
    );
    // A long header whose pn_offset is past the end.
    let long = hex("c300000001000000");
    assert!(keys
        .unprotect_long(&long, 40, None, &mut header, &mut out)
        .is_err());
}
