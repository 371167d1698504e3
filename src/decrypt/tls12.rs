//! TLS 1.0-1.2 record decryption from the master secret (RFC 2246, RFC 4346, RFC 5246).
//!
//! Key block (RFC 5246 6.3):
//!
//! ```text
//! key_block = PRF(SecurityParameters.master_secret, "key expansion",
//!                 SecurityParameters.server_random + SecurityParameters.client_random);
//! client_write_MAC_key[mac_key_length] server_write_MAC_key[mac_key_length]
//! client_write_key[enc_key_length]     server_write_key[enc_key_length]
//! client_write_IV[fixed_iv_length]     server_write_IV[fixed_iv_length]
//! ```
//!
//! Record protection per cipher kind:
//! - AES-GCM (RFC 5288 3): nonce = 4-byte implicit salt (write_IV) || 8-byte explicit nonce
//!   carried at the start of the record; record = explicit || ciphertext || tag.
//! - ChaCha20-Poly1305 (RFC 7905 2): nonce = 12-byte write_IV XOR the 64-bit sequence number
//!   left-padded with zeros; record = ciphertext || tag.
//! - AEAD additional data (RFC 5246 6.2.3.3):
//!   `seq_num || type || version || length` with length the plaintext length.
//! - AES-CBC, MAC-then-encrypt (RFC 5246 6.2.3.2): record = IV (TLS 1.1+, RFC 4346 6.2.3.2)
//!   || CBC(content || MAC || padding || padding_length), with
//!   `MAC = HMAC(MAC_write_key, seq_num || type || version || length || content)`. TLS 1.0
//!   has no explicit IV: the first comes from the key block, each next one is the last
//!   ciphertext block of the previous record (RFC 2246 6.2.3.2).
//! - AES-CBC, encrypt-then-MAC (RFC 7366 3): record = IV || CBC(content || padding ||
//!   padding_length) || MAC, with the MAC over `seq_num || type || version || length ||
//!   IV || ciphertext` (length = IV + ciphertext bytes), checked before decrypting.

use super::cipher::{AeadKey, CbcKey, MacKey, Unsealed, TAG_LEN};
use super::kdf::{prf_tls10, prf_tls12};
use super::suite::{BulkCipher, SuiteInfo, SuiteProtocol};
use super::DecryptError;

/// RFC 5246 6.2.3: "The length (in bytes) of the following TLSCiphertext.fragment. The
/// length MUST NOT exceed 2^14 + 2048."
pub(crate) const MAX_CIPHERTEXT: usize = (1 << 14) + 2048;

const GCM_EXPLICIT_NONCE: usize = 8;
const APPLICATION_DATA: u8 = 23;
const BLOCK: usize = 16;

#[derive(Clone, Debug)]
pub(crate) enum Tls12State {
    Aead {
        key: AeadKey,
        /// GCM: the 4-byte salt in the first 4 bytes; ChaCha20: the whole 12-byte IV.
        iv: [u8; 12],
        chacha: bool,
    },
    Cbc {
        key: CbcKey,
        mac: MacKey,
        mac_len: usize,
        etm: bool,
        /// TLS 1.0 only: the IV for the next record (chained). `None` for TLS 1.1+.
        chained_iv: Option<[u8; BLOCK]>,
    },
}

impl Tls12State {
    pub(crate) fn new(
        version: u16,
        suite: SuiteInfo,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        from_client: bool,
        encrypt_then_mac: bool,
    ) -> Result<Tls12State, DecryptError> {
        if suite.protocol != SuiteProtocol::Tls12 {
            return Err(DecryptError::UnsupportedSuite(suite.id));
        }
        if !(0x0301..=0x0303).contains(&version) || (version < 0x0303 && suite.requires_tls12()) {
            return Err(DecryptError::UnsupportedVersion(version));
        }
        if master.len() != 48 {
            return Err(DecryptError::BadSecret);
        }
        let mac_len = suite.mac.len();
        let key_len = suite.key_len();
        let iv_len = match suite.cipher {
            BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm => 4,
            BulkCipher::ChaCha20Poly1305 => 12,
            // Generated for every version (it is after the keys, so harmless); used by
            // TLS 1.0 only.
            BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc => BLOCK,
        };
        let mut block = [0u8; 2 * (48 + 32 + 16)];
        let need = 2 * (mac_len + key_len + iv_len);
        let kb = &mut block[..need];
        let seed: [&[u8]; 2] = [server_random, client_random];
        if version >= 0x0303 {
            prf_tls12(suite.hash, master, b"key expansion", &seed, kb);
        } else {
            prf_tls10(master, b"key expansion", &seed, kb);
        }
        let (client_mac, rest) = kb.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let (mac_key, key, write_iv) = if from_client {
            (client_mac, client_key, client_iv)
        } else {
            (server_mac, server_key, server_iv)
        };
        let state = if suite.cipher.is_aead() {
            let mut iv = [0u8; 12];
            iv[..iv_len].copy_from_slice(write_iv);
            Tls12State::Aead {
                key: AeadKey::new(suite.cipher, key)?,
                iv,
                chacha: suite.cipher == BulkCipher::ChaCha20Poly1305,
            }
        } else {
            let chained_iv = if version == 0x0301 {
                let mut iv = [0u8; BLOCK];
                iv.copy_from_slice(write_iv);
                Some(iv)
            } else {
                None
            };
            Tls12State::Cbc {
                key: CbcKey::new(suite.cipher, key)?,
                mac: MacKey::new(suite.mac, mac_key)?,
                mac_len,
                etm: encrypt_then_mac,
                chained_iv,
            }
        };
        block.fill(0);
        Ok(state)
    }

    /// Decrypts one record's fragment with sequence number `seq`. Returns the content type
    /// (the record's own: TLS 1.2 has no inner type).
    /// An AES-GCM application-data record to read in parts ([`Unsealed`]); `None` leaves
    /// it to [`Self::decrypt`] (another type, another cipher, a length out of range).
    pub(crate) fn unsealed<'p>(&self, content_type: u8, payload: &'p [u8]) -> Option<Unsealed<'p>> {
        let Tls12State::Aead {
            key,
            iv,
            chacha: false,
        } = self
        else {
            return None;
        };
        if content_type != APPLICATION_DATA || payload.len() > MAX_CIPHERTEXT {
            return None;
        }
        let (explicit, sealed) = payload.split_at_checked(GCM_EXPLICIT_NONCE)?;
        let mut nonce = *iv;
        nonce[4..].copy_from_slice(explicit);
        key.unsealed(nonce, sealed)
    }

    pub(crate) fn decrypt(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, DecryptError> {
        if payload.len() > MAX_CIPHERTEXT {
            out.clear();
            return Err(DecryptError::RecordOverflow(payload.len()));
        }
        let seq_bytes = seq.to_be_bytes();
        let ver = version.to_be_bytes();
        match self {
            // `out` is not cleared first: the cipher resizes it, keeping (and overwriting)
            // what the previous record left, so a record's plaintext costs no zeroing.
            Tls12State::Aead { key, iv, chacha } => {
                let mut nonce = *iv;
                let sealed = if *chacha {
                    // RFC 7905 2: "The 64-bit record sequence number is serialized as an
                    // 8-byte, big-endian value and padded on the left with four 0x00 bytes.
                    // The padded sequence number is XORed with the client_write_IV".
                    for (n, s) in nonce[4..].iter_mut().zip(seq_bytes) {
                        *n ^= s;
                    }
                    payload
                } else {
                    let Some((explicit, sealed)) = payload.split_at_checked(GCM_EXPLICIT_NONCE)
                    else {
                        out.clear();
                        return Err(DecryptError::BadLength(payload.len()));
                    };
                    nonce[4..].copy_from_slice(explicit);
                    sealed
                };
                let opened = sealed
                    .len()
                    .checked_sub(TAG_LEN)
                    .ok_or(DecryptError::BadLength(payload.len()))
                    .and_then(len16)
                    .and_then(|len| {
                        let aad = aad13(&seq_bytes, content_type, ver, len);
                        key.open(&nonce, &aad, sealed, out)
                    });
                if opened.is_err() {
                    out.clear();
                }
                opened.map(|()| content_type)
            }
            Tls12State::Cbc {
                key,
                mac,
                mac_len,
                etm,
                chained_iv,
            } => {
                let mac_len = *mac_len;
                out.clear();
                let res = if *etm {
                    decrypt_etm(
                        key,
                        mac,
                        mac_len,
                        chained_iv,
                        &seq_bytes,
                        content_type,
                        ver,
                        payload,
                        out,
                    )
                } else {
                    decrypt_mte(
                        key,
                        mac,
                        mac_len,
                        chained_iv,
                        &seq_bytes,
                        content_type,
                        ver,
                        payload,
                        out,
                    )
                };
                if res.is_err() {
                    out.clear();
                }
                res.map(|()| content_type)
            }
        }
    }
}

fn len16(n: usize) -> Result<[u8; 2], DecryptError> {
    u16::try_from(n)
        .map(u16::to_be_bytes)
        .map_err(|_| DecryptError::RecordOverflow(n))
}

/// `seq_num || type || version || length`: the 13 bytes of additional data / MAC header.
fn aad13(seq: &[u8; 8], content_type: u8, ver: [u8; 2], len: [u8; 2]) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(seq);
    aad[8] = content_type;
    aad[9..11].copy_from_slice(&ver);
    aad[11..].copy_from_slice(&len);
    aad
}

/// Splits off the explicit IV (TLS 1.1+) or takes the chained one (TLS 1.0).
fn take_iv<'a>(
    chained_iv: &Option<[u8; BLOCK]>,
    body: &'a [u8],
) -> Result<([u8; BLOCK], &'a [u8]), DecryptError> {
    match chained_iv {
        Some(iv) => Ok((*iv, body)),
        None => {
            let (iv, ct) = body
                .split_at_checked(BLOCK)
                .ok_or(DecryptError::BadLength(body.len()))?;
            let mut a = [0u8; BLOCK];
            a.copy_from_slice(iv);
            Ok((a, ct))
        }
    }
}

/// TLS 1.0: the next record's IV is this record's last ciphertext block.
fn chain(chained_iv: &mut Option<[u8; BLOCK]>, ct: &[u8]) {
    if let (Some(iv), Some(last)) = (chained_iv.as_mut(), ct.len().checked_sub(BLOCK)) {
        iv.copy_from_slice(&ct[last..]);
    }
}

/// Checks CBC padding (RFC 5246 6.2.3.2: "Each uint8 in the padding data vector MUST be
/// filled with the padding length value") and returns the length before it.
fn unpad(out: &[u8]) -> Result<usize, DecryptError> {
    let pad = usize::from(*out.last().ok_or(DecryptError::BadPadding)?);
    let start = out
        .len()
        .checked_sub(pad + 1)
        .ok_or(DecryptError::BadPadding)?;
    if out[start..out.len() - 1]
        .iter()
        .any(|&b| usize::from(b) != pad)
    {
        return Err(DecryptError::BadPadding);
    }
    Ok(start)
}

#[allow(clippy::too_many_arguments)]
fn decrypt_mte(
    key: &CbcKey,
    mac: &MacKey,
    mac_len: usize,
    chained_iv: &mut Option<[u8; BLOCK]>,
    seq: &[u8; 8],
    content_type: u8,
    ver: [u8; 2],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DecryptError> {
    let (iv, ct) = take_iv(chained_iv, payload)?;
    // At least one block, whole blocks, room for the MAC and the padding length byte.
    if ct.is_empty() || !ct.len().is_multiple_of(BLOCK) || ct.len() < mac_len + 1 {
        return Err(DecryptError::BadLength(payload.len()));
    }
    key.decrypt(&iv, ct, out)?;
    chain(chained_iv, ct);
    let unpadded = unpad(out)?;
    let content_len = unpadded
        .checked_sub(mac_len)
        .ok_or(DecryptError::BadPadding)?;
    let (content, rest) = out.split_at(content_len);
    let record_mac = &rest[..mac_len];
    let hdr = aad13(seq, content_type, ver, len16(content_len)?);
    if !mac.verify(&[&hdr, content], record_mac) {
        return Err(DecryptError::BadMac);
    }
    out.truncate(content_len);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn decrypt_etm(
    key: &CbcKey,
    mac: &MacKey,
    mac_len: usize,
    chained_iv: &mut Option<[u8; BLOCK]>,
    seq: &[u8; 8],
    content_type: u8,
    ver: [u8; 2],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DecryptError> {
    let body_len = payload
        .len()
        .checked_sub(mac_len)
        .ok_or(DecryptError::BadLength(payload.len()))?;
    let (body, record_mac) = payload.split_at(body_len);
    let (iv, ct) = take_iv(chained_iv, body)?;
    if ct.is_empty() || !ct.len().is_multiple_of(BLOCK) {
        return Err(DecryptError::BadLength(payload.len()));
    }
    // RFC 7366 3: MAC(MAC_write_key, seq_num + type + version + length + IV + ENC(...)),
    // where length is that of IV + ciphertext.
    let hdr = aad13(seq, content_type, ver, len16(body_len)?);
    let authentic = mac.verify(&[&hdr, body], record_mac);
    // TLS 1.0 chains IVs through the ciphertext as sent, authentic or not.
    chain(chained_iv, ct);
    if !authentic {
        return Err(DecryptError::BadMac);
    }
    key.decrypt(&iv, ct, out)?;
    let content_len = unpad(out)?;
    out.truncate(content_len);
    Ok(())
}
