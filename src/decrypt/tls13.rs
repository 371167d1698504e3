//! TLS 1.3 record decryption from a traffic secret (RFC 8446 5.2-5.4, 7.1-7.3).
//!
//! ```text
//! [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
//! [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
//! nonce = write_iv XOR (64-bit sequence number, left-padded with zeros to 12 bytes)
//! additional_data = TLSCiphertext.opaque_type || TLSCiphertext.legacy_record_version ||
//!                   TLSCiphertext.length
//! TLSInnerPlaintext = content || ContentType type || uint8 zeros[length_of_padding]
//! application_traffic_secret_N+1 =
//!     HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
//! ```

use super::cipher::{AeadKey, Unsealed, TAG_LEN};
use super::kdf::hkdf_expand_label;
use super::keylog::Secret;
use super::suite::{SuiteInfo, SuiteProtocol};
use super::DecryptError;

/// RFC 8446 5.2: "The length MUST NOT exceed 2^14 + 256 bytes."
pub(crate) const MAX_CIPHERTEXT: usize = (1 << 14) + 256;

/// change_cipher_spec: sent in the clear in TLS 1.3 for middlebox compatibility (RFC 8446
/// 5: "An implementation may receive an unencrypted record of type change_cipher_spec").
const CHANGE_CIPHER_SPEC: u8 = 20;
const APPLICATION_DATA: u8 = 23;

#[derive(Clone, Debug)]
pub(crate) struct Tls13State {
    suite: SuiteInfo,
    key: AeadKey,
    iv: [u8; 12],
    secret: Secret,
}

impl Tls13State {
    pub(crate) fn new(suite: SuiteInfo, traffic_secret: &[u8]) -> Result<Tls13State, DecryptError> {
        if suite.protocol != SuiteProtocol::Tls13 {
            return Err(DecryptError::UnsupportedSuite(suite.id));
        }
        if traffic_secret.len() != suite.hash.len() {
            return Err(DecryptError::BadSecret);
        }
        let secret = Secret::from_slice(traffic_secret).ok_or(DecryptError::BadSecret)?;
        let mut key = [0u8; 32];
        let key = &mut key[..suite.key_len()];
        hkdf_expand_label(suite.hash, traffic_secret, b"key", b"", key)?;
        let mut iv = [0u8; 12];
        hkdf_expand_label(suite.hash, traffic_secret, b"iv", b"", &mut iv)?;
        let aead = AeadKey::new(suite.cipher, key)?;
        key.fill(0);
        Ok(Tls13State {
            suite,
            key: aead,
            iv,
            secret,
        })
    }

    /// Moves to the next application traffic secret ("traffic upd").
    pub(crate) fn key_update(&mut self) -> Result<(), DecryptError> {
        let mut next = [0u8; 48];
        let next = &mut next[..self.suite.hash.len()];
        hkdf_expand_label(
            self.suite.hash,
            self.secret.as_bytes(),
            b"traffic upd",
            b"",
            next,
        )?;
        let state = Tls13State::new(self.suite, next)?;
        next.fill(0);
        *self = state;
        Ok(())
    }

    /// True for a record that TLS 1.3 never protects (so it has no sequence number).
    pub(crate) fn is_cleartext(content_type: u8) -> bool {
        content_type == CHANGE_CIPHER_SPEC
    }

    /// RFC 8446 5.3: the IV XOR the sequence number, padded on the left to 12 bytes.
    fn nonce(&self, seq: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// The record at `seq` to read in parts ([`Unsealed`]) when it is application data
    /// under AES-GCM without padding (its last plaintext byte, the only one decrypted here,
    /// is its type): its content, without that byte. `None` leaves the record to
    /// [`Self::decrypt`] (another type, padding, ChaCha20-Poly1305, a length out of range).
    pub(crate) fn unsealed<'p>(
        &self,
        seq: u64,
        payload: &'p [u8],
        scratch: &mut Vec<u8>,
    ) -> Option<Unsealed<'p>> {
        if payload.len() > MAX_CIPHERTEXT {
            return None;
        }
        let mut u = self.key.unsealed(self.nonce(seq), payload)?;
        let last = u.len().checked_sub(1)?;
        if u.byte(last, scratch)? != APPLICATION_DATA {
            return None;
        }
        u.truncate(last);
        Some(u)
    }

    pub(crate) fn decrypt(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, DecryptError> {
        // `out` is not cleared first: the cipher resizes it, keeping (and overwriting) what
        // the previous record left, so a record's plaintext costs no zeroing.
        if payload.len() > MAX_CIPHERTEXT {
            out.clear();
            return Err(DecryptError::RecordOverflow(payload.len()));
        }
        // At least the tag and the inner content type byte.
        if payload.len() < TAG_LEN + 1 {
            out.clear();
            return Err(DecryptError::BadLength(payload.len()));
        }
        let nonce = self.nonce(seq);
        let len = u16::try_from(payload.len())
            .map_err(|_| DecryptError::RecordOverflow(payload.len()))?
            .to_be_bytes();
        let ver = version.to_be_bytes();
        let aad = [content_type, ver[0], ver[1], len[0], len[1]];
        self.key.open(&nonce, &aad, payload, out)?;
        // RFC 8446 5.4: "the receiving implementation scans the field from the end toward the
        // beginning until it finds a non-zero octet. This non-zero octet is the content type
        // of the message. [...] If a receiving implementation does not find a non-zero octet
        // in the cleartext, it MUST terminate the connection with an unexpected_message".
        match out.iter().rposition(|&b| b != 0) {
            Some(i) => {
                let inner_type = out[i];
                out.truncate(i);
                Ok(inner_type)
            }
            None => {
                out.clear();
                Err(DecryptError::MissingContentType)
            }
        }
    }
}
