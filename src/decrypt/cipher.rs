//! Keyed cipher and MAC instances shared by the TLS 1.2 and TLS 1.3 record layers and QUIC.
//!
//! Keys are expanded once per direction (AES round keys, GHASH key, HMAC pads) and reused
//! for every record. Decryption writes into the caller's `Vec`, reusing its capacity; on any
//! failure the `Vec` is left empty, so unauthenticated bytes never reach a caller, except
//! through [`Unsealed`], which reads an AES-GCM record in parts and says so.
//!
//! The AEADs are aws-lc-rs's (AES-NI, VAES, CLMUL and AVX2/AVX-512 chosen at run time);
//! CBC and HMAC, for the TLS 1.0-1.2 CBC suites, are RustCrypto's.

use std::fmt;
use std::sync::Arc;

use aes::cipher::consts::U16;
use aes::cipher::{BlockModeDecrypt, InOutBuf, InnerIvInit, KeyInit};
use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{DecryptingKey, DecryptionContext, UnboundCipherKey, AES_128, AES_256};
use aws_lc_rs::iv::FixedLength;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::suite::{BulkCipher, MacAlg};
use super::DecryptError;

/// AEAD tag length: 16 for every AEAD we support.
pub(crate) const TAG_LEN: usize = 16;

/// An AEAD keyed for one direction.
#[derive(Clone)]
pub(crate) struct AeadKey {
    cipher: BulkCipher,
    key: Arc<LessSafeKey>,
    /// AES-GCM: the same key in counter mode, for reading a record in parts
    /// ([`Unsealed`]).
    ctr: Option<Arc<DecryptingKey>>,
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.cipher {
            BulkCipher::Aes128Gcm => "AES-128-GCM",
            BulkCipher::Aes256Gcm => "AES-256-GCM",
            _ => "ChaCha20-Poly1305",
        };
        write!(f, "AeadKey({name}, <redacted>)")
    }
}

impl AeadKey {
    pub(crate) fn new(cipher: BulkCipher, key: &[u8]) -> Result<AeadKey, DecryptError> {
        let alg = match cipher {
            BulkCipher::Aes128Gcm => &aead::AES_128_GCM,
            BulkCipher::Aes256Gcm => &aead::AES_256_GCM,
            BulkCipher::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
            BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc => return Err(DecryptError::BadSecret),
        };
        let ctr = match cipher {
            BulkCipher::Aes128Gcm => Some(&AES_128),
            BulkCipher::Aes256Gcm => Some(&AES_256),
            _ => None,
        }
        .and_then(|alg| UnboundCipherKey::new(alg, key).ok())
        .and_then(|k| DecryptingKey::ctr(k).ok())
        .map(Arc::new);
        let key = UnboundKey::new(alg, key).map_err(|_| DecryptError::BadSecret)?;
        Ok(AeadKey {
            cipher,
            key: Arc::new(LessSafeKey::new(key)),
            ctr,
        })
    }

    /// `sealed` (ciphertext and tag) under `nonce`, to be read in parts without its tag
    /// checked ([`Unsealed`]); `None` for ChaCha20-Poly1305 or a record shorter than a tag.
    pub(crate) fn unsealed<'p>(&self, nonce: [u8; 12], sealed: &'p [u8]) -> Option<Unsealed<'p>> {
        let ct = sealed.get(..sealed.len().checked_sub(TAG_LEN)?)?;
        Some(Unsealed {
            key: Arc::clone(self.ctr.as_ref()?),
            nonce,
            ct,
        })
    }

    /// Decrypts `ciphertext || tag` into `out` (replacing what it held). On failure `out`
    /// is empty.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        let Some(ct_len) = sealed.len().checked_sub(TAG_LEN) else {
            out.clear();
            return Err(DecryptError::BadLength(sealed.len()));
        };
        let (ct, tag) = sealed.split_at(ct_len);
        // Decrypted straight from the capture's bytes into `out`; resizing keeps what a
        // previous record left (no zeroing when records are alike), all of it overwritten.
        out.resize(ct_len, 0);
        let nonce = Nonce::assume_unique_for_key(*nonce);
        match self
            .key
            .open_separate_gather(nonce, Aad::from(aad), ct, tag, out)
        {
            Ok(()) => Ok(()),
            Err(_) => {
                out.clear();
                Err(DecryptError::AuthFailed)
            }
        }
    }

    /// Encrypts `plaintext` into `out` as `ciphertext || tag` (tests build records with it).
    #[cfg(test)]
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buf,
            )
            .expect("sealing never fails below 2^36 bytes");
        buf
    }
}

/// An AES-GCM record read in parts, each decrypted on its own without the tag checked.
///
/// GCM encrypts in counter mode (NIST SP 800-38D 7.1): with a 96-bit nonce, plaintext
/// block `i` is the ciphertext XOR AES(key, nonce || 2 + i), so any range of a record
/// decrypts alone, and what a reader only counts (a response body it neither hashes nor
/// decodes) need not be decrypted at all. The tag covers the whole record, so nothing read
/// this way is authenticated: the caller reads a side's records so only once one of them
/// with the same key opened whole, which proves the key.
pub(crate) struct Unsealed<'p> {
    key: Arc<DecryptingKey>,
    nonce: [u8; 12],
    /// The ciphertext, without the tag.
    ct: &'p [u8],
}

impl fmt::Debug for Unsealed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Unsealed({} bytes)", self.ct.len())
    }
}

impl<'p> Unsealed<'p> {
    /// Plaintext bytes in the record.
    pub(crate) fn len(&self) -> usize {
        self.ct.len()
    }

    /// Only the first `len` bytes (TLS 1.3: the content, without its type and padding).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.ct = self.ct.get(..len).unwrap_or(self.ct);
    }

    /// The plaintext of `start..end` (clamped to the record), decrypted into `out`, which
    /// it replaces; `None` if the cipher refused (it does not for AES in counter mode).
    pub(crate) fn read<'o>(
        &self,
        start: usize,
        end: usize,
        out: &'o mut Vec<u8>,
    ) -> Option<&'o [u8]> {
        let end = end.min(self.ct.len());
        let start = start.min(end);
        let skip = start % 16;
        out.clear();
        out.resize(skip, 0);
        out.extend_from_slice(self.ct.get(start..end).unwrap_or_default());
        let mut counter = [0u8; 16];
        counter[..12].copy_from_slice(&self.nonce);
        // J0 + 1 is the first block's counter (SP 800-38D 7.1, steps 2 and 3); a record's
        // 1,041 blocks at most never carry out of the 32-bit counter.
        let block = u32::try_from(start / 16).unwrap_or(u32::MAX);
        counter[12..].copy_from_slice(&block.wrapping_add(2).to_be_bytes());
        let iv = DecryptionContext::Iv128(FixedLength::from(counter));
        if self.key.decrypt(out, iv).is_err() {
            out.clear();
            return None;
        }
        out.get(skip..)
    }

    /// The plaintext byte at `at`.
    pub(crate) fn byte(&self, at: usize, scratch: &mut Vec<u8>) -> Option<u8> {
        self.read(at, at + 1, scratch)?.first().copied()
    }
}

/// An AES-CBC decryption key for one direction.
#[derive(Clone)]
pub(crate) enum CbcKey {
    Aes128(Box<aes::Aes128Dec>),
    Aes256(Box<aes::Aes256Dec>),
}

impl fmt::Debug for CbcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CbcKey(<redacted>)")
    }
}

impl CbcKey {
    pub(crate) fn new(cipher: BulkCipher, key: &[u8]) -> Result<CbcKey, DecryptError> {
        let bad = |_| DecryptError::BadSecret;
        Ok(match cipher {
            BulkCipher::Aes128Cbc => {
                CbcKey::Aes128(Box::new(aes::Aes128Dec::new_from_slice(key).map_err(bad)?))
            }
            BulkCipher::Aes256Cbc => {
                CbcKey::Aes256(Box::new(aes::Aes256Dec::new_from_slice(key).map_err(bad)?))
            }
            _ => return Err(DecryptError::BadSecret),
        })
    }

    /// CBC-decrypts `ct` (a whole number of 16-byte blocks, checked by the caller) with `iv`
    /// into `out` (cleared first). No padding is removed here.
    pub(crate) fn decrypt(
        &self,
        iv: &[u8; 16],
        ct: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        out.clear();
        if !ct.len().is_multiple_of(16) {
            return Err(DecryptError::BadLength(ct.len()));
        }
        out.resize(ct.len(), 0);
        let buf =
            InOutBuf::new(ct, out.as_mut_slice()).map_err(|_| DecryptError::BadLength(ct.len()))?;
        let (blocks, _tail) = buf.into_chunks::<U16>();
        let iv = iv.into();
        match self {
            CbcKey::Aes128(k) => {
                cbc::Decryptor::<aes::Aes128Dec>::inner_iv_init((**k).clone(), iv)
                    .decrypt_blocks_inout(blocks);
            }
            CbcKey::Aes256(k) => {
                cbc::Decryptor::<aes::Aes256Dec>::inner_iv_init((**k).clone(), iv)
                    .decrypt_blocks_inout(blocks);
            }
        }
        Ok(())
    }
}

/// An HMAC keyed for one direction (the pads are computed once).
#[derive(Clone)]
pub(crate) enum MacKey {
    Sha1(Box<Hmac<Sha1>>),
    Sha256(Box<Hmac<Sha256>>),
    Sha384(Box<Hmac<Sha384>>),
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

impl MacKey {
    pub(crate) fn new(alg: MacAlg, key: &[u8]) -> Result<MacKey, DecryptError> {
        let bad = |_| DecryptError::BadSecret;
        Ok(match alg {
            MacAlg::HmacSha1 => MacKey::Sha1(Box::new(
                <Hmac<Sha1> as KeyInit>::new_from_slice(key).map_err(bad)?,
            )),
            MacAlg::HmacSha256 => MacKey::Sha256(Box::new(
                <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(bad)?,
            )),
            MacAlg::HmacSha384 => MacKey::Sha384(Box::new(
                <Hmac<Sha384> as KeyInit>::new_from_slice(key).map_err(bad)?,
            )),
            MacAlg::Aead => return Err(DecryptError::BadSecret),
        })
    }

    /// True if HMAC over the concatenation of `parts` equals `expected` (constant time).
    pub(crate) fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]], expected: &[u8]) -> bool {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.verify_slice(expected).is_ok()
        }
        match self {
            MacKey::Sha1(m) => run(m.as_ref(), parts, expected),
            MacKey::Sha256(m) => run(m.as_ref(), parts, expected),
            MacKey::Sha384(m) => run(m.as_ref(), parts, expected),
        }
    }

    /// HMAC over the concatenation of `parts` (tests build records with it).
    #[cfg(test)]
    pub(crate) fn compute(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]]) -> Vec<u8> {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        match self {
            MacKey::Sha1(m) => run(m.as_ref(), parts),
            MacKey::Sha256(m) => run(m.as_ref(), parts),
            MacKey::Sha384(m) => run(m.as_ref(), parts),
        }
    }
}
