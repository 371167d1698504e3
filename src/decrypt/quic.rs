//! QUIC packet protection (RFC 9001 5 and 6, RFC 9369 3.3): keys from TLS 1.3 traffic
//! secrets, header protection removal, packet number reconstruction, AEAD opening and
//! 1-RTT key updates.
//!
//! **Consumes**: a traffic secret of one direction (from the [`KeyLog`](super::KeyLog):
//! `CLIENT_EARLY_TRAFFIC_SECRET` for 0-RTT, `*_HANDSHAKE_TRAFFIC_SECRET` for Handshake
//! packets, `*_TRAFFIC_SECRET_0` for 1-RTT; or an Initial secret derived from the client's
//! Destination Connection ID), the negotiated TLS 1.3 cipher suite id and the QUIC version;
//! then whole protected packets of that direction, each with where its packet number starts
//! (long headers: from the header parser; short headers: `1 + dcid_len`, the length of the
//! connection ID the receiver chose, which the packet does not carry) and the largest
//! packet number opened so far in its packet number space.
//!
//! **Produces**: the unprotected header (the AEAD's associated data) and the plaintext
//! payload (frames), each into a caller-owned `Vec` reused between packets, plus an
//! [`Unprotected`] summary (full packet number, header length, unprotected first byte).
//!
//! **Guarantees**:
//! - **Nothing unauthenticated escapes.** On every error both `header` and `out` are
//!   empty: a packet that fails authentication (wrong key, flipped byte, truncated) yields
//!   neither plaintext nor its unmasked packet number.
//! - **Never panics on input**: every offset is checked (`get`), truncation at any byte is
//!   [`QuicCryptoError::Truncated`].
//! - **No allocation per packet**: keys are expanded once per direction (and once per key
//!   update); `header` and `out` grow to the largest packet once.
//! - **Secrets are never printed**: `Debug` redacts key material.
//!
//! The pieces, in the order a packet meets them:
//!
//! ```text
//! key = HKDF-Expand-Label(secret, "quic key", "", key_len)   v2: "quicv2 key"
//! iv  = HKDF-Expand-Label(secret, "quic iv",  "", 12)        v2: "quicv2 iv"
//! hp  = HKDF-Expand-Label(secret, "quic hp",  "", key_len)   v2: "quicv2 hp"
//! sample = packet[pn_offset + 4 .. pn_offset + 20]
//! mask   = AES-ECB(hp, sample)[0..5]                         AES suites (5.4.3)
//!        = ChaCha20(hp, counter = sample[0..4] LE, nonce = sample[4..16], 00 00 00 00 00)
//! first ^= mask[0] & (long ? 0x0f : 0x1f); pn bytes ^= mask[1..=pn_len]
//! nonce  = iv XOR packet_number (left-padded);  AAD = the unprotected header
//! next 1-RTT secret = HKDF-Expand-Label(secret, "quic ku", "", hash_len)   v2: "quicv2 ku"
//! ```
//!
//! **How a caller drives it**: [`QuicKeys`] holds one direction of one packet number
//! space whose keys never change (Initial, 0-RTT, Handshake): call
//! [`QuicKeys::unprotect_long`]. 1-RTT packets go through [`OneRttKeys`], one per
//! direction, which follows the Key Phase bit itself: it opens a packet whose bit differs
//! from the current phase with the next generation of keys (and moves to it when that
//! authenticates), and a late packet of the previous phase (a packet number below the
//! first one of the current phase) with the previous generation. The caller keeps the
//! largest packet number of each space (0-RTT and 1-RTT share one, RFC 9000 12.3) and
//! passes it in; only packets that authenticated should raise it.

use std::fmt;

use std::sync::Arc;

use aws_lc_rs::aead::quic::{self as hp_alg, HeaderProtectionKey};

use super::cipher::{AeadKey, TAG_LEN};
use super::kdf::{hkdf_expand_label, Prk};
use super::keylog::Secret;
use super::suite::{BulkCipher, HashAlg};

/// QUIC version 1 (RFC 9000).
pub const QUIC_V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 3.1).
pub const QUIC_V2: u32 = 0x6b33_43cf;

/// Why keys could not be built or a packet could not be opened. "Need more bytes"
/// (`Truncated`) is kept apart from "invalid".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicCryptoError {
    /// The cipher suite is not one QUIC can use here (TLS_AES_128_CCM_SHA256 and anything
    /// that is not a TLS 1.3 suite).
    UnsupportedSuite(u16),
    /// The secret does not have the suite's hash length.
    BadSecret,
    /// The packet ends before the named part (the 16-byte header protection sample needs
    /// at least 20 bytes after the packet number offset).
    Truncated(&'static str),
    /// The packet cannot be what the caller says it is (header form, packet number offset).
    Invalid(&'static str),
    /// AEAD authentication failed: wrong keys, wrong packet number, or damaged bytes.
    AuthFailed,
}

impl fmt::Display for QuicCryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuicCryptoError::UnsupportedSuite(id) => {
                write!(f, "cannot decrypt QUIC packets of suite {id:#06x}")
            }
            QuicCryptoError::BadSecret => f.write_str("secret has the wrong length for the suite"),
            QuicCryptoError::Truncated(w) => write!(f, "truncated {w}"),
            QuicCryptoError::Invalid(w) => write!(f, "invalid {w}"),
            QuicCryptoError::AuthFailed => f.write_str("packet protection did not authenticate"),
        }
    }
}

impl std::error::Error for QuicCryptoError {}

/// The HKDF labels of a QUIC version's key schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// RFC 9001 5.1: "quic key", "quic iv", "quic hp", and "quic ku" (6.1).
    V1,
    /// RFC 9369 3.3.2: "quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku".
    V2,
}

impl Labels {
    /// Version 2 uses its own labels; every other version (1, and the drafts and
    /// compatible versions pagetrace may meet) uses version 1's.
    pub fn for_version(version: u32) -> Labels {
        if version == QUIC_V2 {
            Labels::V2
        } else {
            Labels::V1
        }
    }

    fn key(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic key",
            Labels::V2 => b"quicv2 key",
        }
    }

    fn iv(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic iv",
            Labels::V2 => b"quicv2 iv",
        }
    }

    fn hp(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic hp",
            Labels::V2 => b"quicv2 hp",
        }
    }

    fn ku(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic ku",
            Labels::V2 => b"quicv2 ku",
        }
    }
}

/// A TLS 1.3 cipher suite as QUIC packet protection uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicSuite {
    /// IANA code point (0x1301, 0x1302, 0x1303).
    pub id: u16,
    /// The AEAD; it also picks the header protection (AES-ECB or ChaCha20, RFC 9001 5.4).
    pub cipher: BulkCipher,
    /// The HKDF hash; its length is the traffic secret's.
    pub hash: HashAlg,
}

impl QuicSuite {
    /// RFC 9001 5.2: "Initial packets use AEAD_AES_128_GCM with keys derived from the
    /// Destination Connection ID field of the first Initial packet sent by the client".
    pub const INITIAL: QuicSuite = QuicSuite {
        id: 0x1301,
        cipher: BulkCipher::Aes128Gcm,
        hash: HashAlg::Sha256,
    };

    /// The suite of a negotiated cipher suite id. RFC 9001 5.3 allows any TLS 1.3 suite
    /// but TLS_AES_128_CCM_8_SHA256; CCM (0x1304) is refused here too (no header
    /// protection for it is implemented), as is anything that is not TLS 1.3.
    pub fn from_id(id: u16) -> Result<QuicSuite, QuicCryptoError> {
        let (cipher, hash) = match id {
            0x1301 => (BulkCipher::Aes128Gcm, HashAlg::Sha256),
            0x1302 => (BulkCipher::Aes256Gcm, HashAlg::Sha384),
            0x1303 => (BulkCipher::ChaCha20Poly1305, HashAlg::Sha256),
            _ => return Err(QuicCryptoError::UnsupportedSuite(id)),
        };
        Ok(QuicSuite { id, cipher, hash })
    }

    /// Key length of the AEAD, which is also the header protection key's (RFC 9001 5.1:
    /// hp is derived "with the same length as the key").
    pub fn key_len(self) -> usize {
        self.cipher.key_len()
    }
}

/// Raw key material of one direction and generation (tests, and building [`QuicKeys`]).
/// `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    key: [u8; 32],
    iv: [u8; 12],
    hp: [u8; 32],
    key_len: usize,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial(<redacted, {}-byte key>)", self.key_len)
    }
}

impl KeyMaterial {
    /// Expands key, IV and header protection key from a traffic secret (RFC 9001 5.1).
    pub fn derive(
        labels: Labels,
        suite: QuicSuite,
        secret: &[u8],
    ) -> Result<KeyMaterial, QuicCryptoError> {
        if secret.len() != suite.hash.len() {
            return Err(QuicCryptoError::BadSecret);
        }
        let key_len = suite.key_len();
        let mut m = KeyMaterial {
            key: [0; 32],
            iv: [0; 12],
            hp: [0; 32],
            key_len,
        };
        let bad = |_| QuicCryptoError::BadSecret;
        let prk = Prk::new(suite.hash, secret).map_err(bad)?;
        prk.expand_label(labels.key(), b"", &mut m.key[..key_len])
            .map_err(bad)?;
        prk.expand_label(labels.iv(), b"", &mut m.iv).map_err(bad)?;
        prk.expand_label(labels.hp(), b"", &mut m.hp[..key_len])
            .map_err(bad)?;
        Ok(m)
    }

    /// Material given as its parts (a key and header protection key of the same length,
    /// 16 or 32 bytes).
    pub fn from_parts(key: &[u8], iv: [u8; 12], hp: &[u8]) -> Result<KeyMaterial, QuicCryptoError> {
        let key_len = key.len();
        if !matches!(key_len, 16 | 32) || hp.len() != key_len {
            return Err(QuicCryptoError::BadSecret);
        }
        let mut m = KeyMaterial {
            key: [0; 32],
            iv,
            hp: [0; 32],
            key_len,
        };
        m.key[..key_len].copy_from_slice(key);
        m.hp[..key_len].copy_from_slice(hp);
        Ok(m)
    }

    /// The AEAD key (16 or 32 bytes).
    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len]
    }

    /// The 12-byte IV.
    pub fn iv(&self) -> &[u8; 12] {
        &self.iv
    }

    /// The header protection key (as long as the AEAD key).
    pub fn hp(&self) -> &[u8] {
        &self.hp[..self.key_len]
    }
}

/// RFC 9001 6.1: the secret of the next key phase,
/// `HKDF-Expand-Label(secret, "quic ku", "", Hash.length)` ("quicv2 ku" for v2, RFC 9369
/// 3.3.2). `out` must be the hash length.
pub fn next_secret(
    labels: Labels,
    hash: HashAlg,
    secret: &[u8],
    out: &mut [u8],
) -> Result<(), QuicCryptoError> {
    if secret.len() != hash.len() || out.len() != hash.len() {
        return Err(QuicCryptoError::BadSecret);
    }
    hkdf_expand_label(hash, secret, labels.ku(), b"", out).map_err(|_| QuicCryptoError::BadSecret)
}

/// RFC 9000 A.3: the full packet number from its truncated form (`pn_nbits` = 8, 16, 24
/// or 32) and the largest packet number received so far in the same packet number space.
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, pn_nbits: u32) -> u64 {
    let pn_nbits = pn_nbits.clamp(1, 32);
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << pn_nbits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | (truncated & mask);
    // "if candidate_pn <= expected_pn - pn_hwin and candidate_pn < (1 << 62) - pn_win:
    //     return candidate_pn + pn_win"
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    // "if candidate_pn > expected_pn + pn_hwin and candidate_pn >= pn_win:
    //     return candidate_pn - pn_win"
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// A header protection key (RFC 9001 5.4): AES-128/256 in ECB mode on one block, or the
/// raw ChaCha20 stream cipher (aws-lc-rs's QUIC header protection). Never changes with key
/// updates (RFC 9001 6.1: "The header protection keys are not updated").
#[derive(Clone)]
pub struct HeaderKey {
    cipher: BulkCipher,
    key: Arc<HeaderProtectionKey>,
}

impl fmt::Debug for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.cipher {
            BulkCipher::Aes128Gcm => "AES-128-ECB",
            BulkCipher::Aes256Gcm => "AES-256-ECB",
            _ => "ChaCha20",
        };
        write!(f, "HeaderKey({name}, <redacted>)")
    }
}

impl HeaderKey {
    /// A header protection key for the suite's AEAD (`hp` as long as its key).
    pub fn new(suite: QuicSuite, hp: &[u8]) -> Result<HeaderKey, QuicCryptoError> {
        let alg = match suite.cipher {
            BulkCipher::Aes128Gcm => &hp_alg::AES_128,
            BulkCipher::Aes256Gcm => &hp_alg::AES_256,
            BulkCipher::ChaCha20Poly1305 => &hp_alg::CHACHA20,
            BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc => {
                return Err(QuicCryptoError::UnsupportedSuite(suite.id))
            }
        };
        let key = HeaderProtectionKey::new(alg, hp).map_err(|_| QuicCryptoError::BadSecret)?;
        Ok(HeaderKey {
            cipher: suite.cipher,
            key: Arc::new(key),
        })
    }

    /// The 5-byte mask for a 16-byte sample: RFC 9001 5.4.3 "mask = AES-ECB(hp_key,
    /// sample)", 5.4.4 "counter = sample[0..3]; nonce = sample[4..15]; mask =
    /// ChaCha20(hp_key, counter, nonce, {0,0,0,0,0})" (the counter little-endian, any value
    /// up to 0xffffffff).
    pub fn mask(&self, sample: &[u8; 16]) -> [u8; 5] {
        // A 16-byte sample is all new_mask asks for; it cannot fail on one.
        self.key.new_mask(sample).unwrap_or([0; 5])
    }
}

/// The AEAD key and IV of one generation of one direction.
#[derive(Clone)]
struct PacketKey {
    aead: AeadKey,
    iv: [u8; 12],
}

impl PacketKey {
    fn new(suite: QuicSuite, m: &KeyMaterial) -> Result<PacketKey, QuicCryptoError> {
        Ok(PacketKey {
            aead: AeadKey::new(suite.cipher, m.key()).map_err(|_| QuicCryptoError::BadSecret)?,
            iv: m.iv,
        })
    }

    /// RFC 9001 5.3: "The 62 bits of the reconstructed QUIC packet number in network byte
    /// order are left-padded with zeros to the size of the IV. The exclusive OR of the
    /// padded packet number and the IV forms the AEAD nonce."
    fn nonce(&self, pn: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        nonce
    }

    fn open(
        &self,
        pn: u64,
        header: &[u8],
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), QuicCryptoError> {
        self.aead
            .open(&self.nonce(pn), header, sealed, out)
            .map_err(|_| QuicCryptoError::AuthFailed)
    }
}

/// A packet whose protection was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unprotected {
    /// The full packet number (RFC 9000 A.3).
    pub packet_number: u64,
    /// Header length including the packet number: the payload starts here, and the
    /// `header` buffer holds exactly these bytes, unprotected.
    pub header_len: usize,
    /// The unprotected first byte.
    pub first_byte: u8,
    /// Packet number length on the wire, 1 to 4.
    pub pn_len: usize,
}

impl Unprotected {
    /// True for a long header (the Header Form bit).
    pub fn is_long(&self) -> bool {
        self.first_byte & 0x80 != 0
    }

    /// Short header Key Phase bit (RFC 9000 17.3.1, 0x04); false for long headers.
    pub fn key_phase(&self) -> bool {
        !self.is_long() && self.first_byte & 0x04 != 0
    }

    /// Short header Spin bit (RFC 9000 17.4, 0x20); false for long headers.
    pub fn spin(&self) -> bool {
        !self.is_long() && self.first_byte & 0x20 != 0
    }

    /// The Reserved Bits (0x0c long, 0x18 short), which "MUST be 0" once unprotected
    /// (RFC 9000 17.2 and 17.3.1). An observer records a non-zero value; the packet still
    /// authenticated, so the payload is what the peer sent.
    pub fn reserved_bits(&self) -> u8 {
        if self.is_long() {
            (self.first_byte >> 2) & 0x03
        } else {
            (self.first_byte >> 3) & 0x03
        }
    }
}

/// Removes header protection: fills `header` with the unprotected header and returns the
/// packet number fields. `header` is left empty on error.
fn unmask_header(
    hp: &HeaderKey,
    packet: &[u8],
    pn_offset: usize,
    long: bool,
    largest_pn: Option<u64>,
    header: &mut Vec<u8>,
) -> Result<Unprotected, QuicCryptoError> {
    header.clear();
    let first = *packet
        .first()
        .ok_or(QuicCryptoError::Truncated("first byte"))?;
    if (first & 0x80 != 0) != long {
        return Err(QuicCryptoError::Invalid("header form"));
    }
    if pn_offset == 0 {
        return Err(QuicCryptoError::Invalid("packet number offset"));
    }
    // RFC 9001 5.4.2: "the sampled bytes start at pn_offset + 4" and the sample is 16
    // bytes: the Packet Number field is assumed to be 4 bytes long.
    let sample_end = pn_offset
        .checked_add(20)
        .ok_or(QuicCryptoError::Invalid("packet number offset"))?;
    let sample_start = sample_end - 16;
    let sample: &[u8; 16] = packet
        .get(sample_start..sample_end)
        .and_then(|s| s.try_into().ok())
        .ok_or(QuicCryptoError::Truncated("header protection sample"))?;
    let mask = hp.mask(sample);
    // RFC 9001 5.4.1: "if (packet[0] & 0x80) == 0x80: # Long header: 4 bits masked
    // packet[0] ^= mask[0] & 0x0f  else: # Short header: 5 bits masked
    // packet[0] ^= mask[0] & 0x1f".
    let first = first ^ (mask[0] & if long { 0x0f } else { 0x1f });
    let pn_len = usize::from(first & 0x03) + 1;
    // In bounds: the sample starts 4 bytes after pn_offset.
    let (Some(before), Some(pn_bytes)) = (
        packet.get(1..pn_offset),
        packet.get(pn_offset..pn_offset + pn_len),
    ) else {
        return Err(QuicCryptoError::Truncated("packet number"));
    };
    header.reserve(pn_offset + pn_len);
    header.push(first);
    header.extend_from_slice(before);
    let mut truncated = 0u64;
    for (b, m) in pn_bytes.iter().zip(&mask[1..]) {
        let b = b ^ m;
        header.push(b);
        truncated = (truncated << 8) | u64::from(b);
    }
    let packet_number = decode_packet_number(largest_pn, truncated, 8 * pn_len as u32);
    Ok(Unprotected {
        packet_number,
        header_len: pn_offset + pn_len,
        first_byte: first,
        pn_len,
    })
}

/// One direction's keys of a packet number space whose keys never change: Initial,
/// 0-RTT, Handshake (and a 1-RTT key phase, for [`OneRttKeys`]).
#[derive(Clone)]
pub struct QuicKeys {
    packet: PacketKey,
    header: HeaderKey,
}

impl fmt::Debug for QuicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QuicKeys(<redacted>)")
    }
}

impl QuicKeys {
    /// Keys of one direction from a TLS 1.3 traffic secret, the negotiated suite id and the
    /// QUIC version (which picks the labels).
    pub fn new(version: u32, suite_id: u16, secret: &[u8]) -> Result<QuicKeys, QuicCryptoError> {
        let suite = QuicSuite::from_id(suite_id)?;
        let m = KeyMaterial::derive(Labels::for_version(version), suite, secret)?;
        QuicKeys::from_material(suite, &m)
    }

    /// Keys from already expanded material.
    pub fn from_material(suite: QuicSuite, m: &KeyMaterial) -> Result<QuicKeys, QuicCryptoError> {
        Ok(QuicKeys {
            packet: PacketKey::new(suite, m)?,
            header: HeaderKey::new(suite, m.hp())?,
        })
    }

    /// Opens a long header packet: `packet` is the whole packet (header through tag, as the
    /// Length field delimits it, RFC 9000 17.2), `pn_offset` where its protected packet
    /// number starts, `largest_pn` the largest packet number opened in this space.
    /// The unprotected header goes to `header`, the payload to `out` (both cleared first;
    /// both empty on error).
    pub fn unprotect_long(
        &self,
        packet: &[u8],
        pn_offset: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<Unprotected, QuicCryptoError> {
        self.unprotect(packet, pn_offset, true, largest_pn, header, out)
    }

    /// Opens a short header packet with this one set of keys, ignoring the Key Phase bit
    /// (use [`OneRttKeys`] to follow key updates). `dcid_len` is the length of the
    /// Destination Connection ID, which the short header does not carry.
    pub fn unprotect_short(
        &self,
        packet: &[u8],
        dcid_len: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<Unprotected, QuicCryptoError> {
        let pn_offset = dcid_len
            .checked_add(1)
            .ok_or(QuicCryptoError::Invalid("connection ID length"))?;
        self.unprotect(packet, pn_offset, false, largest_pn, header, out)
    }

    fn unprotect(
        &self,
        packet: &[u8],
        pn_offset: usize,
        long: bool,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<Unprotected, QuicCryptoError> {
        // `out` is not cleared first: the cipher resizes it, keeping (and overwriting) what
        // the previous packet left, so a packet's plaintext costs no zeroing.
        let res = unmask_header(&self.header, packet, pn_offset, long, largest_pn, header)
            .and_then(|u| {
                let sealed = sealed_part(packet, &u)?;
                self.packet.open(u.packet_number, header, sealed, out)?;
                Ok(u)
            });
        if res.is_err() {
            header.clear();
            out.clear();
        }
        res
    }
}

/// The ciphertext and tag after the header.
fn sealed_part<'a>(packet: &'a [u8], u: &Unprotected) -> Result<&'a [u8], QuicCryptoError> {
    packet
        .get(u.header_len..)
        .filter(|s| s.len() >= TAG_LEN)
        .ok_or(QuicCryptoError::Truncated("payload"))
}

/// Which generation of 1-RTT keys opened a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGeneration {
    /// The current key phase.
    Current,
    /// The previous key phase: a packet sent before the update, arriving late.
    Previous,
    /// The next key phase: this packet carried a key update, and the direction moved to it.
    Next,
}

/// A 1-RTT packet opened by [`OneRttKeys::unprotect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneRttOpened {
    pub packet: Unprotected,
    /// Which keys opened it.
    pub keys: KeyGeneration,
    /// The generation of those keys: 0 for `*_TRAFFIC_SECRET_0`, +1 per update.
    pub generation: u32,
}

/// Counters of one direction's 1-RTT key state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OneRttStats {
    /// Packets opened.
    pub opened: u64,
    /// Packets that did not authenticate with any generation tried.
    pub failed: u64,
    /// Key updates followed (RFC 9001 6).
    pub key_updates: u32,
    /// Late packets of the previous key phase opened after an update.
    pub previous_phase: u64,
}

/// One generation of 1-RTT keys, with the secret the next one is derived from.
#[derive(Clone)]
struct Generation {
    key: PacketKey,
    secret: Secret,
}

impl Generation {
    fn new(labels: Labels, suite: QuicSuite, secret: &[u8]) -> Result<Generation, QuicCryptoError> {
        let m = KeyMaterial::derive(labels, suite, secret)?;
        Ok(Generation {
            key: PacketKey::new(suite, &m)?,
            secret: Secret::from_slice(secret).ok_or(QuicCryptoError::BadSecret)?,
        })
    }

    fn next(&self, labels: Labels, suite: QuicSuite) -> Result<Generation, QuicCryptoError> {
        let mut next = [0u8; 48];
        let next = &mut next[..suite.hash.len()];
        next_secret(labels, suite.hash, self.secret.as_bytes(), next)?;
        let g = Generation::new(labels, suite, next);
        next.fill(0);
        g
    }
}

/// The 1-RTT keys of one direction, following key updates (RFC 9001 6).
///
/// ```text
///            phase bit == current                     phase bit != current
///   packet ───────────────────────► current keys      ──┬── pn < first pn of current
///                                                        │     phase: previous keys
///                                                        └── otherwise: next keys; on
///                                                              success, rotate:
///   previous := current, current := next, next := derive(current, "quic ku"), updates += 1
/// ```
///
/// The header protection key is the same for every generation, so the packet number is
/// known before the AEAD key is chosen. The previous generation is kept until the next
/// update, so packets reordered across an update still open. A capture that starts after
/// one update (its first packet has phase 1) moves to generation 1 on that packet.
#[derive(Clone)]
pub struct OneRttKeys {
    labels: Labels,
    suite: QuicSuite,
    header: HeaderKey,
    current: Generation,
    next: Generation,
    previous: Option<PacketKey>,
    generation: u32,
    /// The lowest packet number opened with the current generation.
    current_first_pn: Option<u64>,
    stats: OneRttStats,
}

impl fmt::Debug for OneRttKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneRttKeys")
            .field("suite", &self.suite.id)
            .field("generation", &self.generation)
            .field("stats", &self.stats)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl OneRttKeys {
    /// The 1-RTT keys of one direction from its `*_TRAFFIC_SECRET_0`.
    pub fn new(
        version: u32,
        suite_id: u16,
        traffic_secret_0: &[u8],
    ) -> Result<OneRttKeys, QuicCryptoError> {
        let labels = Labels::for_version(version);
        let suite = QuicSuite::from_id(suite_id)?;
        let m = KeyMaterial::derive(labels, suite, traffic_secret_0)?;
        let current = Generation::new(labels, suite, traffic_secret_0)?;
        let next = current.next(labels, suite)?;
        Ok(OneRttKeys {
            labels,
            suite,
            header: HeaderKey::new(suite, m.hp())?,
            current,
            next,
            previous: None,
            generation: 0,
            current_first_pn: None,
            stats: OneRttStats::default(),
        })
    }

    /// Opens a short header packet (`packet` is the rest of the datagram: a short header
    /// packet is always last, RFC 9000 12.2). `dcid_len` is the length of the connection
    /// ID the receiver chose; `largest_pn` the largest packet number opened in the
    /// application data space. `header` and `out` as for [`QuicKeys::unprotect_long`].
    pub fn unprotect(
        &mut self,
        packet: &[u8],
        dcid_len: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<OneRttOpened, QuicCryptoError> {
        let res = self.open(packet, dcid_len, largest_pn, header, out);
        match res {
            Ok(_) => self.stats.opened += 1,
            Err(_) => {
                header.clear();
                out.clear();
                if res == Err(QuicCryptoError::AuthFailed) {
                    self.stats.failed += 1;
                }
            }
        }
        res
    }

    fn open(
        &mut self,
        packet: &[u8],
        dcid_len: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<OneRttOpened, QuicCryptoError> {
        let pn_offset = dcid_len
            .checked_add(1)
            .ok_or(QuicCryptoError::Invalid("connection ID length"))?;
        let u = unmask_header(&self.header, packet, pn_offset, false, largest_pn, header)?;
        let sealed = sealed_part(packet, &u)?;
        let pn = u.packet_number;
        let current_phase = self.generation & 1 == 1;
        let opened = |keys: KeyGeneration, generation: u32| OneRttOpened {
            packet: u,
            keys,
            generation,
        };
        if u.key_phase() == current_phase {
            self.current.key.open(pn, header, sealed, out)?;
            self.current_first_pn = Some(self.current_first_pn.map_or(pn, |f| f.min(pn)));
            return Ok(opened(KeyGeneration::Current, self.generation));
        }
        // RFC 9001 6.5: "an endpoint can use the packet number ... packets with higher
        // packet numbers than any packet ... in the current key phase" carry the next
        // phase; a lower one than the first packet of the current phase is a late packet
        // of the previous one.
        let late = matches!(self.current_first_pn, Some(first) if pn < first);
        if !late && self.next.key.open(pn, header, sealed, out).is_ok() {
            self.rotate(pn)?;
            return Ok(opened(KeyGeneration::Next, self.generation));
        }
        if let Some(prev) = &self.previous {
            if prev.open(pn, header, sealed, out).is_ok() {
                self.stats.previous_phase += 1;
                return Ok(opened(
                    KeyGeneration::Previous,
                    self.generation.saturating_sub(1),
                ));
            }
        }
        Err(QuicCryptoError::AuthFailed)
    }

    /// Moves to the next generation after a packet of it authenticated.
    fn rotate(&mut self, pn: u64) -> Result<(), QuicCryptoError> {
        let after = self.next.next(self.labels, self.suite)?;
        let current = std::mem::replace(&mut self.next, after);
        let old = std::mem::replace(&mut self.current, current);
        self.previous = Some(old.key);
        self.generation = self.generation.saturating_add(1);
        self.current_first_pn = Some(pn);
        self.stats.key_updates = self.stats.key_updates.saturating_add(1);
        Ok(())
    }

    /// The current Key Phase bit.
    pub fn key_phase(&self) -> bool {
        self.generation & 1 == 1
    }

    /// The current generation: 0 until the first key update.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Key updates followed so far.
    pub fn key_updates(&self) -> u32 {
        self.stats.key_updates
    }

    /// Counters.
    pub fn stats(&self) -> OneRttStats {
        self.stats
    }

    /// The suite these keys were built for.
    pub fn suite(&self) -> QuicSuite {
        self.suite
    }
}

/// RFC 9001 5.8 and RFC 9369 3.3.3: whether a Retry packet's Retry Integrity Tag (its last
/// 16 bytes) authenticates it for the Original Destination Connection ID `odcid` (the
/// DCID of the client's first Initial). `None` when the packet is too short to carry a
/// tag. Allocates one pseudo-packet (a Retry is at most one per connection attempt).
pub fn retry_integrity_ok(version: u32, odcid: &[u8], retry: &[u8]) -> Option<bool> {
    // RFC 9001 5.8: "secret = 0xd9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e
    // key = 0xbe0c690b9f66575a1d766b54e368c84e  nonce = 0x461599d35d632bf2239825bb".
    // RFC 9369 3.3.3: "key = 0x8fb4b01b56ac48e260fbcbcead7ccc92
    // nonce = 0xd86969bc2d7c6d9990efb04a".
    const V1_KEY: [u8; 16] = [
        0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8,
        0x4e,
    ];
    const V1_NONCE: [u8; 12] = [
        0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb,
    ];
    const V2_KEY: [u8; 16] = [
        0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc,
        0x92,
    ];
    const V2_NONCE: [u8; 12] = [
        0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a,
    ];
    let (key, nonce) = match Labels::for_version(version) {
        Labels::V1 => (&V1_KEY, &V1_NONCE),
        Labels::V2 => (&V2_KEY, &V2_NONCE),
    };
    let odcid_len = u8::try_from(odcid.len()).ok()?;
    let body_len = retry.len().checked_sub(TAG_LEN)?;
    // "Retry Pseudo-Packet { ODCID Length (8), Original Destination Connection ID (0..160),
    // Header Form (1) = 1, ... Retry Token (..) }": the Retry packet without its tag,
    // preceded by the ODCID; the tag is the AEAD output over an empty plaintext with the
    // pseudo-packet as associated data.
    let mut pseudo = Vec::with_capacity(1 + odcid.len() + body_len);
    pseudo.push(odcid_len);
    pseudo.extend_from_slice(odcid);
    pseudo.extend_from_slice(retry.get(..body_len)?);
    let aead = AeadKey::new(BulkCipher::Aes128Gcm, key).ok()?;
    let mut out = Vec::new();
    Some(
        aead.open(nonce, &pseudo, retry.get(body_len..)?, &mut out)
            .is_ok(),
    )
}

/// Test-only packet protection: the inverse of `unprotect`, for building packets.
#[cfg(test)]
pub(crate) mod seal {
    use super::*;

    /// Protects `header` (unprotected, ending with the packet number of `pn_len` bytes)
    /// and `payload` with one generation's key and the header key.
    pub(crate) fn protect(
        labels: Labels,
        suite: QuicSuite,
        secret: &[u8],
        hp_secret: &[u8],
        header: &[u8],
        pn: u64,
        payload: &[u8],
    ) -> Vec<u8> {
        let m = KeyMaterial::derive(labels, suite, secret).unwrap();
        let hp_m = KeyMaterial::derive(labels, suite, hp_secret).unwrap();
        let key = PacketKey::new(suite, &m).unwrap();
        let hp = HeaderKey::new(suite, hp_m.hp()).unwrap();
        let sealed = key.aead.seal(&key.nonce(pn), header, payload);
        let mut packet = header.to_vec();
        packet.extend_from_slice(&sealed);
        let pn_len = usize::from(header[0] & 0x03) + 1;
        let pn_offset = header.len() - pn_len;
        let sample: [u8; 16] = packet[pn_offset + 4..pn_offset + 20].try_into().unwrap();
        let mask = hp.mask(&sample);
        let long = packet[0] & 0x80 != 0;
        packet[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
        for i in 0..pn_len {
            packet[pn_offset + i] ^= mask[1 + i];
        }
        packet
    }
}

#[cfg(test)]
mod tests;
