//! TLS record decryption from NSS key logs: the cryptographic core between TCP reassembly
//! and the TLS/HTTP dissectors.
//!
//! Consumes: key log text ([`KeyLog`], fed from `--keylog`, `SSLKEYLOGFILE` or pcapng
//! Decryption Secrets Blocks), the facts the TLS dissector learns from the hellos (version,
//! cipher suite, client and server randoms, encrypt_then_mac), and then whole TLS records
//! of one direction, in order: `(content_type, version, fragment)`.
//!
//! Produces: plaintext into a caller-owned buffer plus the real content type (TLS 1.3's
//! inner type), or a typed [`DecryptError`].
//!
//! Guarantees:
//! - **No garbage upward.** On every error the output buffer is empty: a record that fails
//!   authentication (wrong key, flipped byte, truncated) never yields plaintext. The one
//!   reading without the tag is `RecordDecryptor::unsealed` (`Unsealed`: an AES-GCM
//!   application-data record read in parts, in counter mode), which the TLS dissector uses
//!   only once a record of the same key opened whole, and only to pass by what the HTTP
//!   dissector would only count.
//! - **Sequence numbers advance on every record attempted**, success or failure, exactly as
//!   the sender's did when it sent the record. So one corrupted record costs that record
//!   only: the next one still decrypts. The one exception is a TLS 1.3 cleartext
//!   change_cipher_spec record, which is not protected, has no sequence number and is
//!   refused with [`DecryptError::NotEncrypted`] without advancing.
//! - **No allocation per record** in steady state: keys are expanded once per direction and
//!   `out` is reused (it grows to the largest record once).
//! - **Secrets never printed**: every `Debug` in this module redacts key material, nothing
//!   here logs.
//! - Performance: AES-GCM runs on AES-NI + CLMUL where the CPU has them (runtime detection
//!   in the RustCrypto `aes`/`ghash` crates).
//!
//! What the caller does (TLS dissector): look the client random up in the [`KeyLog`]; build
//! one [`RecordDecryptor`] per direction with [`RecordDecryptor::tls12`] (or
//! [`RecordDecryptor::tls1x`] for TLS 1.0/1.1) from the master secret, or
//! [`RecordDecryptor::tls13`] from the handshake traffic secret, replacing it by one built
//! from `*_TRAFFIC_SECRET_0` after that side's Finished; call [`RecordDecryptor::key_update`]
//! after a decrypted KeyUpdate handshake message of that direction. [`suite()`] says whether a
//! negotiated cipher suite can be decrypted at all.
//!
//! QUIC packet protection (RFC 9001) lives in [`quic`]: the same secrets, expanded with
//! QUIC's labels, open whole packets instead of records.

pub(crate) mod cipher;
pub mod kdf;
pub mod keylog;
pub mod quic;
pub mod suite;
mod tls12;
mod tls13;

#[cfg(test)]
mod tests;

use std::fmt;

pub use kdf::{hkdf_expand_label, prf_tls10, prf_tls12};
pub use keylog::{
    BadLine, KeyLog, KeyLogStats, LineOutcome, Secret, SecretKind, SessionSecrets, MAX_SESSIONS,
};
pub use suite::{suite, BulkCipher, HashAlg, MacAlg, SuiteInfo, SuiteProtocol};

pub(crate) use cipher::Unsealed;
use tls12::Tls12State;
use tls13::Tls13State;

/// Why a decryptor could not be built or a record could not be decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecryptError {
    /// The cipher suite is not one we decrypt (or not of the protocol asked for).
    UnsupportedSuite(u16),
    /// The protocol version cannot use this suite, or is not TLS 1.0-1.2.
    UnsupportedVersion(u16),
    /// A secret of the wrong length for the suite (or an internal key-length mismatch).
    BadSecret,
    /// The fragment is too short, or not a whole number of cipher blocks (its length).
    BadLength(usize),
    /// The fragment exceeds the protocol's ciphertext limit (its length).
    RecordOverflow(usize),
    /// AEAD tag check failed: wrong key, wrong sequence number, or a corrupted record.
    AuthFailed,
    /// CBC padding malformed (wrong key or corrupted record).
    BadPadding,
    /// CBC record MAC mismatch (wrong key or corrupted record).
    BadMac,
    /// TLS 1.3: authentic plaintext that is all zeros, so it has no content type.
    MissingContentType,
    /// TLS 1.3: a cleartext change_cipher_spec record, which is never encrypted.
    NotEncrypted,
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::UnsupportedSuite(id) => write!(f, "cannot decrypt suite {id:#06x}"),
            DecryptError::UnsupportedVersion(v) => {
                write!(f, "cannot decrypt version {v:#06x} with this suite")
            }
            DecryptError::BadSecret => f.write_str("secret has the wrong length for the suite"),
            DecryptError::BadLength(n) => write!(f, "bad encrypted record length {n}"),
            DecryptError::RecordOverflow(n) => {
                write!(
                    f,
                    "encrypted record of {n} bytes exceeds the protocol limit"
                )
            }
            DecryptError::AuthFailed => {
                f.write_str("record authentication failed (wrong key or corrupted record)")
            }
            DecryptError::BadPadding => {
                f.write_str("bad CBC padding (wrong key or corrupted record)")
            }
            DecryptError::BadMac => f.write_str("bad record MAC (wrong key or corrupted record)"),
            DecryptError::MissingContentType => {
                f.write_str("TLS 1.3 record without a content type")
            }
            DecryptError::NotEncrypted => f.write_str("record is not encrypted"),
        }
    }
}

impl std::error::Error for DecryptError {}

#[derive(Clone, Debug)]
enum State {
    Tls12(Tls12State),
    Tls13(Tls13State),
}

/// Decrypts the records of one direction of one TLS connection: keys plus the record
/// sequence number. `Debug` shows the suite and sequence number only.
#[derive(Clone)]
pub struct RecordDecryptor {
    suite: SuiteInfo,
    seq: u64,
    key_updates: u32,
    state: State,
}

impl fmt::Debug for RecordDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordDecryptor")
            .field("suite", &self.suite.name)
            .field("seq", &self.seq)
            .field("key_updates", &self.key_updates)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl RecordDecryptor {
    /// TLS 1.2 keys for one direction from the 48-byte master secret (`CLIENT_RANDOM` key log
    /// line): `from_client` picks the client_write or server_write half of the key block;
    /// `encrypt_then_mac` is whether both hellos carried the RFC 7366 extension (it matters
    /// for CBC suites only). Extended master secret needs nothing: the log has the result.
    pub fn tls12(
        suite: SuiteInfo,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        from_client: bool,
        encrypt_then_mac: bool,
    ) -> Result<RecordDecryptor, DecryptError> {
        RecordDecryptor::tls1x(
            0x0303,
            suite,
            master,
            client_random,
            server_random,
            from_client,
            encrypt_then_mac,
        )
    }

    /// As [`RecordDecryptor::tls12`] for a negotiated `version` of 0x0301 (TLS 1.0: MD5/SHA-1
    /// PRF, chained CBC IVs), 0x0302 (TLS 1.1: that PRF, explicit IVs) or 0x0303 (TLS 1.2).
    /// AEAD and SHA-256/384 suites need TLS 1.2.
    pub fn tls1x(
        version: u16,
        suite: SuiteInfo,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        from_client: bool,
        encrypt_then_mac: bool,
    ) -> Result<RecordDecryptor, DecryptError> {
        let state = Tls12State::new(
            version,
            suite,
            master,
            client_random,
            server_random,
            from_client,
            encrypt_then_mac,
        )?;
        Ok(RecordDecryptor {
            suite,
            seq: 0,
            key_updates: 0,
            state: State::Tls12(state),
        })
    }

    /// TLS 1.3 keys from one traffic secret (handshake, application `_0`, or early), whose
    /// length must be the suite's hash length. The sequence number starts at 0, as it does
    /// whenever TLS 1.3 changes keys (RFC 8446 5.3).
    pub fn tls13(suite: SuiteInfo, traffic_secret: &[u8]) -> Result<RecordDecryptor, DecryptError> {
        Ok(RecordDecryptor {
            suite,
            seq: 0,
            key_updates: 0,
            state: State::Tls13(Tls13State::new(suite, traffic_secret)?),
        })
    }

    /// Decrypts one record's fragment (the bytes after the 5-byte record header) into `out`,
    /// which is cleared first and reused between records. `content_type` and `version` are
    /// the record header's, as seen on the wire (they are authenticated). Returns the real
    /// content type: the record's own for TLS 1.2, the inner one for TLS 1.3.
    ///
    /// Consumes one sequence number whatever the result (see the module doc), except for
    /// [`DecryptError::NotEncrypted`]. On error `out` is empty.
    pub fn decrypt(
        &mut self,
        content_type: u8,
        version: u16,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, DecryptError> {
        if matches!(self.state, State::Tls13(_)) && Tls13State::is_cleartext(content_type) {
            out.clear();
            return Err(DecryptError::NotEncrypted);
        }
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        match &mut self.state {
            State::Tls12(s) => s.decrypt(seq, content_type, version, payload, out),
            State::Tls13(s) => s.decrypt(seq, content_type, version, payload, out),
        }
    }

    /// TLS 1.3 KeyUpdate (RFC 8446 4.6.3, 7.2): moves this direction to
    /// `application_traffic_secret_N+1` and resets the sequence number to 0. Call it after
    /// decrypting this direction's KeyUpdate message; the next record uses the new keys.
    /// Refused for TLS 1.2 (`UnsupportedVersion`).
    /// The next record, when it can be read in parts without its tag checked
    /// ([`Unsealed`]: AES-GCM application data, in TLS 1.3 unpadded). It takes the
    /// record's sequence number as [`Self::decrypt`] would; `None` takes nothing, and the
    /// record is for `decrypt`.
    pub(crate) fn unsealed<'p>(
        &mut self,
        content_type: u8,
        payload: &'p [u8],
        scratch: &mut Vec<u8>,
    ) -> Option<Unsealed<'p>> {
        let u = match &self.state {
            State::Tls12(s) => s.unsealed(content_type, payload),
            State::Tls13(_) if content_type != 23 => None,
            State::Tls13(s) => s.unsealed(self.seq, payload, scratch),
        }?;
        self.seq = self.seq.wrapping_add(1);
        Some(u)
    }

    pub fn key_update(&mut self) -> Result<(), DecryptError> {
        match &mut self.state {
            State::Tls13(s) => {
                s.key_update()?;
                self.seq = 0;
                self.key_updates = self.key_updates.saturating_add(1);
                Ok(())
            }
            State::Tls12(_) => Err(DecryptError::UnsupportedVersion(0x0303)),
        }
    }

    /// The suite this decryptor was built for.
    pub fn suite(&self) -> SuiteInfo {
        self.suite
    }

    /// Sequence number of the next record.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Sets the sequence number of the next record (e.g. to retry a record, or to resume
    /// after records the caller knows were lost).
    pub fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// How many KeyUpdates this decryptor has applied.
    pub fn key_updates(&self) -> u32 {
        self.key_updates
    }

    /// True if this is a TLS 1.3 decryptor.
    pub fn is_tls13(&self) -> bool {
        matches!(self.state, State::Tls13(_))
    }
}
