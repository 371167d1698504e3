//! Keyed cipher and MAC instances shared by the TLS 1.2 and TLS 1.3 record layers and QUIC.
//!
//! Keys are expanded once per direction (AES round keys, GHASH key, HMAC pads) and reused
//! for every record. Decryption writes into the caller's `Vec`, reusing its capacity; on any
//! failure the `Vec` is left empty, so unauthenticated bytes never reach a caller.
//!
//! The AEADs are aws-lc-rs's (AES-NI, VAES, CLMUL and AVX2/AVX-512 chosen at run time);
//! CBC and HMAC, for the TLS 1.0-1.2 CBC suites, are RustCrypto's.

use std::fmt;
use std::sync::Arc;

use aes::cipher::consts::U16;
use aes::cipher::{BlockModeDecrypt, InOutBuf, InnerIvInit, KeyInit};
use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
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
        let key = UnboundKey::new(alg, key).map_err(|_| DecryptError::BadSecret)?;
        Ok(AeadKey {
            cipher,
            key: Arc::new(LessSafeKey::new(key)),
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
