//! Initial packet protection (RFC 9001 5.2): keys from the client's first Destination
//! Connection ID, opened with the generic QUIC packet protection of
//! [`crate::decrypt::quic`] (header protection removal, packet number reconstruction,
//! AES-128-GCM with nonce = IV XOR packet number).
//!
//! No key log is needed: "Initial packets apply the packet protection process, but use a
//! secret derived from the Destination Connection ID field from the client's first Initial
//! packet" (RFC 9001 5.2). Anyone on the path can read them, and so can pagetrace.

use super::packet::{QuicError, V2};
use crate::decrypt::kdf::Prk;
use crate::decrypt::quic::{self as qp, Labels, QuicCryptoError, QuicKeys, QuicSuite};

pub use crate::decrypt::quic::Unprotected;

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
    let prk = Prk::extract_sha256(salt, dcid);
    let mut client = [0u8; 32];
    let mut server = [0u8; 32];
    prk.expand_label(b"client in", b"", &mut client).ok()?;
    prk.expand_label(b"server in", b"", &mut server).ok()?;
    Some((client, server))
}

/// Key, IV and header protection key from a secret. RFC 9369 3.3.2: version 2 uses the
/// labels "quicv2 key", "quicv2 iv" and "quicv2 hp".
pub fn key_material(version: u32, secret: &[u8]) -> Option<KeyMaterial> {
    let m =
        qp::KeyMaterial::derive(Labels::for_version(version), QuicSuite::INITIAL, secret).ok()?;
    Some(KeyMaterial {
        key: m.key().try_into().ok()?,
        iv: *m.iv(),
        hp: m.hp().try_into().ok()?,
    })
}

/// One direction's Initial keys, expanded once.
#[derive(Clone)]
pub struct InitialKeys(QuicKeys);

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKeys(<redacted>)")
    }
}

/// Both directions' Initial keys of one connection; the server's are expanded when its
/// first Initial asks for them (a flood of client Initials that no server answers never
/// pays for them: the key schedule is most of the work such a flood costs).
#[derive(Clone)]
pub struct InitialKeyPair {
    pub client: InitialKeys,
    version: u32,
    server_secret: [u8; 32],
    server: std::cell::OnceCell<Option<InitialKeys>>,
}

impl std::fmt::Debug for InitialKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKeyPair(<redacted>)")
    }
}

impl InitialKeyPair {
    pub fn new(version: u32, client_dcid: &[u8]) -> Option<InitialKeyPair> {
        let (c, s) = initial_secrets(version, client_dcid)?;
        Some(InitialKeyPair {
            client: InitialKeys::new(&key_material(version, &c)?)?,
            version,
            server_secret: s,
            server: std::cell::OnceCell::new(),
        })
    }

    /// The server's Initial keys (`None` only if their expansion failed).
    pub fn server(&self) -> Option<&InitialKeys> {
        self.server
            .get_or_init(|| {
                key_material(self.version, &self.server_secret).and_then(|m| InitialKeys::new(&m))
            })
            .as_ref()
    }
}

impl InitialKeys {
    pub fn new(m: &KeyMaterial) -> Option<InitialKeys> {
        let m = qp::KeyMaterial::from_parts(&m.key, m.iv, &m.hp).ok()?;
        QuicKeys::from_material(QuicSuite::INITIAL, &m)
            .ok()
            .map(InitialKeys)
    }

    /// Removes header and packet protection of a long header packet (`packet` is the whole
    /// packet, `pn_offset` where its packet number starts). The plaintext payload (frames)
    /// goes to `out`, the unprotected header to `header` (both caller-owned and reused, so
    /// nothing is allocated per packet); on failure both are empty and nothing
    /// unauthenticated escapes.
    pub fn unprotect(
        &self,
        packet: &[u8],
        pn_offset: usize,
        largest_pn: Option<u64>,
        header: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<Unprotected, QuicError> {
        self.0
            .unprotect_long(packet, pn_offset, largest_pn, header, out)
            .map_err(QuicError::from)
    }
}

impl From<QuicCryptoError> for QuicError {
    fn from(e: QuicCryptoError) -> QuicError {
        match e {
            QuicCryptoError::Truncated(w) => QuicError::Truncated(w),
            QuicCryptoError::Invalid(w) => QuicError::Invalid(w),
            QuicCryptoError::AuthFailed => QuicError::AuthFailed,
            QuicCryptoError::UnsupportedSuite(_) | QuicCryptoError::BadSecret => {
                QuicError::Invalid("keys")
            }
        }
    }
}
