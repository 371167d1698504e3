//! The cipher suites pagetrace can decrypt, and what each one needs.
//!
//! `suite(id)` answers `None` for anything not listed here (CCM, ARIA, Camellia, 3DES, RC4,
//! NULL, export, GOST, the pre-RFC 7905 ChaCha20 code points 0xCC13..0xCC15, ...): the caller
//! reports "cannot decrypt suite X" and keeps the clear-text handshake facts.
//!
//! The key exchange of a TLS 1.2 suite does not matter to us (the key log gives the master
//! secret), so RSA, DH, DHE, ECDH, ECDHE and the PSK families are all listed. Names and code
//! points are the IANA "TLS Cipher Suites" registry's.

/// Which record protection a suite belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuiteProtocol {
    /// TLS 1.3 (RFC 8446): HKDF key schedule, AEAD only, inner content type.
    Tls13,
    /// TLS 1.2 and below (RFC 5246 / 4346 / 2246): PRF key block from the master secret.
    Tls12,
}

/// The bulk cipher of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BulkCipher {
    /// AES-128 in GCM (RFC 5288, RFC 8446).
    Aes128Gcm,
    /// AES-256 in GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 7905, RFC 8446).
    ChaCha20Poly1305,
    /// AES-128 in CBC mode with an HMAC.
    Aes128Cbc,
    /// AES-256 in CBC mode with an HMAC.
    Aes256Cbc,
}

impl BulkCipher {
    /// Encryption key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            BulkCipher::Aes128Gcm | BulkCipher::Aes128Cbc => 16,
            BulkCipher::Aes256Gcm | BulkCipher::Aes256Cbc | BulkCipher::ChaCha20Poly1305 => 32,
        }
    }

    /// True for the AEAD ciphers (GCM, ChaCha20-Poly1305).
    pub fn is_aead(self) -> bool {
        !matches!(self, BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc)
    }
}

/// The record MAC of a TLS 1.2 CBC suite (`Aead` for AEAD suites, which have none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacAlg {
    /// No separate MAC: the AEAD tag authenticates.
    Aead,
    /// HMAC-SHA1 (20-byte MAC and key).
    HmacSha1,
    /// HMAC-SHA256 (32 bytes).
    HmacSha256,
    /// HMAC-SHA384 (48 bytes).
    HmacSha384,
}

impl MacAlg {
    /// MAC length, which is also the MAC key length in TLS 1.2 (RFC 5246 6.2.3.1).
    pub fn len(self) -> usize {
        match self {
            MacAlg::Aead => 0,
            MacAlg::HmacSha1 => 20,
            MacAlg::HmacSha256 => 32,
            MacAlg::HmacSha384 => 48,
        }
    }

    /// True for `Aead` (no MAC bytes in the record).
    pub fn is_empty(self) -> bool {
        self == MacAlg::Aead
    }
}

/// The hash of the TLS 1.2 PRF or of the TLS 1.3 HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256 (32-byte output).
    Sha256,
    /// SHA-384 (48-byte output).
    Sha384,
}

impl HashAlg {
    /// Output length in bytes (the length of a TLS 1.3 traffic secret).
    pub fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }

    /// Always false (a hash has an output); present for clippy's `len_without_is_empty`.
    pub fn is_empty(self) -> bool {
        false
    }
}

/// Everything the record layer needs to know about a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SuiteInfo {
    /// IANA code point, e.g. 0x1301.
    pub id: u16,
    /// IANA name, e.g. "TLS_AES_128_GCM_SHA256".
    pub name: &'static str,
    /// TLS 1.3 suite or TLS 1.2-and-below suite.
    pub protocol: SuiteProtocol,
    /// Bulk cipher.
    pub cipher: BulkCipher,
    /// Record MAC (`Aead` for AEAD suites).
    pub mac: MacAlg,
    /// PRF hash (TLS 1.2; SHA-256 unless the suite names SHA-384) or HKDF hash (TLS 1.3).
    pub hash: HashAlg,
}

impl SuiteInfo {
    /// Key length of the bulk cipher in bytes.
    pub fn key_len(&self) -> usize {
        self.cipher.key_len()
    }

    /// True if the suite can only be used with TLS 1.2 or later (AEAD and SHA-256/384 MAC
    /// suites, RFC 5246 appendix A.5, RFC 5288, RFC 5289).
    pub fn requires_tls12(&self) -> bool {
        self.cipher.is_aead() || matches!(self.mac, MacAlg::HmacSha256 | MacAlg::HmacSha384)
    }
}

/// Every suite we decrypt, by IANA code point and name. The name says everything else
/// (`SuiteInfo::from_name`); `test_table_consistent` checks each entry parses.
const SUITES: &[(u16, &str)] = &[
    // TLS 1.3 (RFC 8446 B.4)
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    // TLS 1.2 AES-GCM (RFC 5288, RFC 5289, RFC 5487, RFC 8442)
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x00A0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256"),
    (0x00A1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384"),
    (0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"),
    (0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"),
    (0x00A4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256"),
    (0x00A5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384"),
    (0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256"),
    (0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384"),
    (0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"),
    (0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"),
    (0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"),
    (0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"),
    (0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"),
    (0xD002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384"),
    // TLS 1.2 ChaCha20-Poly1305 (RFC 7905)
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    // AES-CBC with HMAC-SHA1 (RFC 3268, RFC 4492, RFC 4279, RFC 5489): TLS 1.0 to 1.2
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA"),
    (0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA"),
    (0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA"),
    (0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA"),
    (0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA"),
    (0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA"),
    (0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"),
    (0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"),
    (0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"),
    (0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"),
    (0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"),
    (0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"),
    (0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"),
    // AES-CBC with HMAC-SHA256/384 (RFC 5246, RFC 5289, RFC 5487, RFC 5489): TLS 1.2
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x003E, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256"),
    (0x003F, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256"),
    (0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256"),
    (0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256"),
    (0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"),
    (0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256"),
    (0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384"),
    (0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256"),
    (0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384"),
    (0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256"),
    (0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384"),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"),
    (0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"),
    (0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384"),
];

impl SuiteInfo {
    /// Reads cipher, MAC and hash from an IANA suite name. TLS 1.2 rule (RFC 5246 5,
    /// RFC 5289 3.2): the PRF is P_SHA256 unless the suite specifies SHA-384; the MAC is
    /// HMAC with the hash named last (`_SHA` is SHA-1) unless the cipher is an AEAD.
    fn from_name(id: u16, name: &'static str) -> Option<SuiteInfo> {
        let cipher = [
            ("_AES_128_GCM_", BulkCipher::Aes128Gcm),
            ("_AES_256_GCM_", BulkCipher::Aes256Gcm),
            ("_CHACHA20_POLY1305_", BulkCipher::ChaCha20Poly1305),
            ("_AES_128_CBC_", BulkCipher::Aes128Cbc),
            ("_AES_256_CBC_", BulkCipher::Aes256Cbc),
        ]
        .into_iter()
        .find(|(pat, _)| name.contains(pat))?
        .1;
        let (mac_hash, hash) = if name.ends_with("_SHA384") {
            (MacAlg::HmacSha384, HashAlg::Sha384)
        } else if name.ends_with("_SHA256") {
            (MacAlg::HmacSha256, HashAlg::Sha256)
        } else if name.ends_with("_SHA") {
            (MacAlg::HmacSha1, HashAlg::Sha256)
        } else {
            return None;
        };
        Some(SuiteInfo {
            id,
            name,
            protocol: if id >> 8 == 0x13 {
                SuiteProtocol::Tls13
            } else {
                SuiteProtocol::Tls12
            },
            cipher,
            mac: if cipher.is_aead() {
                MacAlg::Aead
            } else {
                mac_hash
            },
            hash,
        })
    }
}

/// The suite with IANA code point `cipher_id`, if pagetrace can decrypt it.
pub fn suite(cipher_id: u16) -> Option<SuiteInfo> {
    SUITES
        .iter()
        .find(|(id, _)| *id == cipher_id)
        .and_then(|(id, name)| SuiteInfo::from_name(*id, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use BulkCipher::{Aes128Cbc, Aes128Gcm, Aes256Gcm, ChaCha20Poly1305};
    use HashAlg::{Sha256, Sha384};
    use MacAlg::{Aead, HmacSha1, HmacSha384};
    use SuiteProtocol::{Tls12, Tls13};

    #[test]
    fn test_tls13_suites() {
        let a = suite(0x1301).unwrap();
        assert_eq!(a.name, "TLS_AES_128_GCM_SHA256");
        assert_eq!(
            (a.protocol, a.cipher, a.mac, a.hash),
            (Tls13, Aes128Gcm, Aead, Sha256)
        );
        let b = suite(0x1302).unwrap();
        assert_eq!((b.cipher, b.hash, b.key_len()), (Aes256Gcm, Sha384, 32));
        let c = suite(0x1303).unwrap();
        assert_eq!(
            (c.cipher, c.hash, c.key_len()),
            (ChaCha20Poly1305, Sha256, 32)
        );
    }

    #[test]
    fn test_tls12_suites() {
        let g = suite(0xC030).unwrap();
        assert_eq!(g.name, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!((g.protocol, g.cipher, g.hash), (Tls12, Aes256Gcm, Sha384));
        assert!(g.requires_tls12());
        let cbc = suite(0xC013).unwrap();
        assert_eq!(
            (cbc.cipher, cbc.mac, cbc.hash),
            (Aes128Cbc, HmacSha1, Sha256)
        );
        assert_eq!(cbc.mac.len(), 20);
        assert!(!cbc.requires_tls12());
        let cbc384 = suite(0xC028).unwrap();
        assert_eq!((cbc384.mac, cbc384.hash), (HmacSha384, Sha384));
        assert!(cbc384.requires_tls12());
        let ch = suite(0xCCA8).unwrap();
        assert_eq!(ch.cipher, ChaCha20Poly1305);
    }

    #[test]
    fn test_unknown_suites() {
        for id in [
            0x0000, 0x000A, 0x0005, 0x1304, 0x1305, 0xC09C, 0xCC13, 0x00FF, 0xFFFF,
        ] {
            assert_eq!(suite(id), None, "{id:#06x}");
        }
    }

    #[test]
    fn test_table_consistent() {
        for (i, (id, name)) in SUITES.iter().enumerate() {
            assert!(
                SUITES[i + 1..].iter().all(|b| b.0 != *id),
                "duplicate {id:#06x}"
            );
            let a = suite(*id).unwrap_or_else(|| panic!("{name} does not parse"));
            assert_eq!((a.id, a.name), (*id, *name));
            assert_eq!(a.protocol == Tls13, !name.contains("_WITH_"), "{name}");
            assert!(name.starts_with("TLS_"), "{name}");
        }
        assert_eq!(SUITES.len(), 88);
    }
}
