//! Initial packet protection (RFC 9001 5): keys from the client's first Destination
//! Connection ID, header protection removal (5.4, AES-128-ECB mask) and AEAD opening
//! (5.3, AES-128-GCM, nonce = IV XOR packet number).
//!
//! No key log is needed: "Initial packets apply the packet protection process, but use a
//! secret derived from the Destination Connection ID field from the client's first Initial
//! packet" (RFC 9001 5.2). Anyone on the path can read them, and so can pagetrace.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;

use super::packet::{decode_packet_number, QuicError, V2};
use crate::decrypt::cipher::AeadKey;
use crate::decrypt::{hkdf_expand_label, BulkCipher, HashAlg};

/// RFC 9001 5.2: `initial_salt = 0x38762cf7f55934b34d179ae6a4c80cadccbb7f0a`.
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 3.3.1: `initial_salt = 0x0dede3def700a6db819381be6e269dcbf9bd2ed9`.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];

/// Raw key material of one direction (for tests and for building [`InitialKeys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

/// `client_initial_secret` and `server_initial_secret` (RFC 9001 5.2).
pub fn initial_secrets(version: u32, dcid: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let salt: &[u8] = if version == V2 { &SALT_V2 } else { &SALT_V1 };
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    let mut client = [0u8; 32];
    let mut server = [0u8; 32];
    hkdf_expand_label(HashAlg::Sha256, &prk, b"client in", b"", &mut client).ok()?;
    hkdf_expand_label(HashAlg::Sha256, &prk, b"server in", b"", &mut server).ok()?;
    Some((client, server))
}

/// Key, IV and header protection key from a secret. RFC 9369 3.3.2: version 2 uses the
/// labels "quicv2 key", "quicv2 iv" and "quicv2 hp".
pub fn key_material(version: u32, secret: &[u8]) -> Option<KeyMaterial> {
    let (lk, li, lh): (&[u8], &[u8], &[u8]) = if version == V2 {
        (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")
    } else {
        (b"quic key", b"quic iv", b"quic hp")
    };
    let mut m = KeyMaterial {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    hkdf_expand_label(HashAlg::Sha256, secret, lk, b"", &mut m.key).ok()?;
    hkdf_expand_label(HashAlg::Sha256, secret, li, b"", &mut m.iv).ok()?;
    hkdf_expand_label(HashAlg::Sha256, secret, lh, b"", &mut m.hp).ok()?;
    Some(m)
}

/// One direction's Initial keys, expanded once.
#[derive(Clone)]
pub struct InitialKeys {
    aead: AeadKey,
    iv: [u8; 12],
    hp: aes::Aes128,
}

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKeys(<redacted>)")
    }
}

/// Both directions' Initial keys of one connection.
#[derive(Debug, Clone)]
pub struct InitialKeyPair {
    pub client: InitialKeys,
    pub server: InitialKeys,
}

impl InitialKeyPair {
    pub fn new(version: u32, client_dcid: &[u8]) -> Option<InitialKeyPair> {
        let (c, s) = initial_secrets(version, client_dcid)?;
        Some(InitialKeyPair {
            client: InitialKeys::new(&key_material(version, &c)?)?,
            server: InitialKeys::new(&key_material(version, &s)?)?,
        })
    }
}

/// A packet with its protection removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unprotected {
    pub packet_number: u64,
    /// Header length including the packet number.
    pub header_len: usize,
}

impl InitialKeys {
    pub fn new(m: &KeyMaterial) -> Option<InitialKeys> {
        Some(InitialKeys {
            aead: AeadKey::new(BulkCipher::Aes128Gcm, &m.key).ok()?,
            iv: m.iv,
            hp: aes::Aes128::new_from_slice(&m.hp).ok()?,
        })
    }

    /// Removes header and packet protection of a long header packet (`packet` is the whole
    /// packet, `pn_offset` where its packet number starts). The plaintext payload (frames)
    /// goes to `out`, the unprotected header to `header` (both caller-owned and reused, so
    /// nothing is allocated per packet); on failure `out` is empty and nothing
    /// unauthenticated escapes.
    pub fn unprotect(
        &self,
        packet: &[u8],
        pn_offset: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<Unprotected, QuicError> {
        out.clear();
        header.clear();
        // RFC 9001 5.4.2: "the sampled bytes start at pn_offset + 4", 16 bytes of them.
        let sample = packet
            .get(pn_offset + 4..pn_offset + 20)
            .ok_or(QuicError::Truncated("header protection sample"))?;
        let mut block = aes::Block::default();
        block.copy_from_slice(sample);
        self.hp.encrypt_block(&mut block);
        let mask = block;
        // RFC 9001 5.4.1: "first_byte ^= mask[0] & 0x0f" for long headers.
        let first = packet[0] ^ (mask[0] & 0x0f);
        let pn_len = usize::from(first & 0x03) + 1;
        let header_len = pn_offset + pn_len;
        header.push(first);
        header.extend_from_slice(packet.get(1..pn_offset).unwrap_or(&[]));
        let mut truncated = 0u64;
        for i in 0..pn_len {
            let b = packet[pn_offset + i] ^ mask[1 + i];
            header.push(b);
            truncated = (truncated << 8) | u64::from(b);
        }
        let pn = decode_packet_number(largest_pn, truncated, (pn_len * 8) as u32);
        // RFC 9001 5.3: "The 62 bits of the reconstructed QUIC packet number in network
        // byte order are left-padded with zeros to the size of the IV. The exclusive OR
        // of the padded packet number and the IV forms the AEAD nonce."
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        let sealed = packet
            .get(header_len..)
            .ok_or(QuicError::Truncated("payload"))?;
        self.aead
            .open(&nonce, header, sealed, out)
            .map_err(|_| QuicError::AuthFailed)?;
        Ok(Unprotected {
            packet_number: pn,
            header_len,
        })
    }
}
