//! Key derivation: the TLS 1.0-1.2 PRFs and TLS 1.3's HKDF-Expand-Label.
//!
//! All outputs are written into caller-owned buffers; nothing here allocates.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::suite::HashAlg;
use super::DecryptError;

/// TLS 1.2 PRF (RFC 5246 5): `PRF(secret, label, seed) = P_<hash>(secret, label + seed)`.
///
/// The seed is given in parts (e.g. `[server_random, client_random]`) so callers need not
/// concatenate. Fills all of `out`.
pub fn prf_tls12(hash: HashAlg, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    match hash {
        HashAlg::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seed, out, false),
        HashAlg::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seed, out, false),
    }
}

/// TLS 1.0/1.1 PRF (RFC 2246 5, RFC 4346 5):
/// `PRF(secret, label, seed) = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed)`,
/// where S1 and S2 are the two halves of the secret ("If the secret is an odd number of
/// bytes long, the last byte of S1 will be the same as the first byte of S2").
pub fn prf_tls10(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let half = secret.len().div_ceil(2);
    let s1 = secret.get(..half).unwrap_or(secret);
    let s2 = secret.get(secret.len() - half..).unwrap_or(secret);
    p_hash::<Hmac<Md5>>(s1, label, seed, out, false);
    p_hash::<Hmac<Sha1>>(s2, label, seed, out, true);
}

/// `P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...`
/// with `A(0) = seed`, `A(i) = HMAC(secret, A(i-1))`; here seed = label + seed parts.
/// With `xor`, the output is XORed into `out` instead of written.
fn p_hash<M: Mac + KeyInit + Clone>(
    secret: &[u8],
    label: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
    xor: bool,
) {
    // HMAC takes keys of any length, so this cannot fail; fall back to an empty key anyway
    // rather than panic.
    let keyed = match <M as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return,
    };
    let mut a = {
        let mut m = keyed.clone();
        m.update(label);
        for part in seed {
            m.update(part);
        }
        m.finalize().into_bytes()
    };
    let mut pos = 0;
    while pos < out.len() {
        let mut m = keyed.clone();
        m.update(&a);
        m.update(label);
        for part in seed {
            m.update(part);
        }
        let block = m.finalize().into_bytes();
        for (dst, src) in out[pos..].iter_mut().zip(block.iter()) {
            if xor {
                *dst ^= *src;
            } else {
                *dst = *src;
            }
        }
        pos += block.len();
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1):
///
/// ```text
/// HKDF-Expand-Label(Secret, Label, Context, Length) =
///      HKDF-Expand(Secret, HkdfLabel, Length)
/// struct {
///     uint16 length = Length;
///     opaque label<7..255> = "tls13 " + Label;
///     opaque context<0..255> = Context;
/// } HkdfLabel;
/// ```
///
/// `secret` must be at least the hash length (it is a PRK); `out.len()` is the Length.
/// QUIC (RFC 9001 5.1) uses the same function with labels "quic key", "quic iv", "quic hp".
pub fn hkdf_expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), DecryptError> {
    Prk::new(hash, secret)?.expand_label(label, context, out)
}

/// A secret keyed once for several HKDF-Expand-Label calls (QUIC's key, IV and header
/// protection key from one secret; the client's and server's Initial secrets from one
/// PRK): the HMAC key schedule, two hash blocks, is paid once rather than per label.
pub enum Prk {
    Sha256(Hkdf<Sha256>),
    Sha384(Hkdf<Sha384>),
}

impl Prk {
    /// `secret` must be at least the hash length (it is a PRK).
    pub fn new(hash: HashAlg, secret: &[u8]) -> Result<Prk, DecryptError> {
        let bad = |_| DecryptError::BadSecret;
        Ok(match hash {
            HashAlg::Sha256 => Prk::Sha256(Hkdf::from_prk(secret).map_err(bad)?),
            HashAlg::Sha384 => Prk::Sha384(Hkdf::from_prk(secret).map_err(bad)?),
        })
    }

    /// HKDF-Extract (RFC 5869 2.2) with SHA-256.
    pub fn extract_sha256(salt: &[u8], ikm: &[u8]) -> Prk {
        Prk::Sha256(Hkdf::<Sha256>::new(Some(salt), ikm))
    }

    /// [`hkdf_expand_label`] with this PRK.
    pub fn expand_label(
        &self,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), DecryptError> {
        let full_label = u8::try_from(label.len() + 6).map_err(|_| DecryptError::BadSecret)?;
        let ctx_len = u8::try_from(context.len()).map_err(|_| DecryptError::BadSecret)?;
        let length = u16::try_from(out.len()).map_err(|_| DecryptError::BadSecret)?;
        let length = length.to_be_bytes();
        let info: [&[u8]; 6] = [
            &length,
            &[full_label],
            b"tls13 ",
            label,
            &[ctx_len],
            context,
        ];
        let res = match self {
            Prk::Sha256(h) => h.expand_multi_info(&info, out),
            Prk::Sha384(h) => h.expand_multi_info(&info, out),
        };
        res.map_err(|_| DecryptError::BadSecret)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        assert_eq!(s.len() % 2, 0);
        s.chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect()
    }

    /// The widely published TLS 1.2 PRF (P_SHA256) test vector (IETF TLS list, 2009;
    /// also used by OASIS PKCS #11 tests).
    #[test]
    fn test_prf_tls12_sha256_known_answer() {
        let secret = hex("9bbe436ba940f017b17652849a71db35");
        let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
        let expected = hex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
             87347b66",
        );
        let mut out = [0u8; 100];
        prf_tls12(HashAlg::Sha256, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(out.to_vec(), expected);
        // Seed given in two parts gives the same output.
        let mut out2 = [0u8; 100];
        prf_tls12(
            HashAlg::Sha256,
            &secret,
            b"test label",
            &[&seed[..5], &seed[5..]],
            &mut out2,
        );
        assert_eq!(out, out2);
        // Shorter outputs are prefixes.
        let mut short = [0u8; 33];
        prf_tls12(
            HashAlg::Sha256,
            &secret,
            b"test label",
            &[&seed],
            &mut short,
        );
        assert_eq!(short[..], expected[..33]);
    }

    #[test]
    fn test_prf_tls12_sha384_differs_and_is_deterministic() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        prf_tls12(HashAlg::Sha384, b"secret", b"label", &[b"seed"], &mut a);
        prf_tls12(HashAlg::Sha384, b"secret", b"label", &[b"seed"], &mut b);
        assert_eq!(a, b);
        let mut c = [0u8; 64];
        prf_tls12(HashAlg::Sha256, b"secret", b"label", &[b"seed"], &mut c);
        assert_ne!(a, c);
    }

    /// TLS 1.0 PRF known answers, from OpenSSL 3's TLS1-PRF KDF with digest MD5-SHA1
    /// (`openssl kdf -keylen 20 -kdfopt digest:MD5-SHA1 -kdfopt secret:secret
    /// -kdfopt seed:labelseed TLS1-PRF`). The 7-byte secret checks the odd-length split.
    #[test]
    fn test_prf_tls10_known_answer() {
        let mut out = [0u8; 20];
        prf_tls10(b"secret", b"label", &[b"seed"], &mut out);
        assert_eq!(
            out.to_vec(),
            hex("b5baf4722b91851a8816d22ebd8c1d8cc2e94d55")
        );
        prf_tls10(b"secret5", b"label", &[b"se", b"ed"], &mut out);
        assert_eq!(
            out.to_vec(),
            hex("7acda973afc2c4f7d8fb5634a5a0d88f043b4171")
        );
    }

    // RFC 8448 section 3 ("Simple 1-RTT Handshake"): traffic secrets -> write key and IV.
    pub(crate) const RFC8448_CLIENT_HS: &str =
        "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
    pub(crate) const RFC8448_SERVER_HS: &str =
        "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
    pub(crate) const RFC8448_CLIENT_AP: &str =
        "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
    pub(crate) const RFC8448_SERVER_AP: &str =
        "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

    fn key_iv(secret: &str) -> (Vec<u8>, Vec<u8>) {
        let secret = hex(secret);
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        hkdf_expand_label(HashAlg::Sha256, &secret, b"key", b"", &mut key).unwrap();
        hkdf_expand_label(HashAlg::Sha256, &secret, b"iv", b"", &mut iv).unwrap();
        (key.to_vec(), iv.to_vec())
    }

    #[test]
    fn test_rfc8448_traffic_keys() {
        assert_eq!(
            key_iv(RFC8448_SERVER_HS),
            (
                hex("3fce516009c21727d0f2e4e86ee403bc"),
                hex("5d313eb2671276ee13000b30")
            )
        );
        assert_eq!(
            key_iv(RFC8448_CLIENT_HS),
            (
                hex("dbfaa693d1762c5b666af5d950258d01"),
                hex("5bd3c71b836e0b76bb73265f")
            )
        );
        assert_eq!(
            key_iv(RFC8448_SERVER_AP),
            (
                hex("9f02283b6c9c07efc26bb9f2ac92e356"),
                hex("cf782b88dd83549aadf1e984")
            )
        );
        assert_eq!(
            key_iv(RFC8448_CLIENT_AP),
            (
                hex("17422dda596ed5d9acd890e3c63f5051"),
                hex("5b78923dee08579033e523d9")
            )
        );
    }

    /// RFC 8448 3: the server's Finished key is HKDF-Expand-Label(server hs secret,
    /// "finished", "", 32) and verify_data = HMAC(finished_key, transcript hash); here we only
    /// check HKDF-Expand-Label with a non-empty context against the "derived" secret:
    /// Derive-Secret(early_secret, "derived", "") with context = SHA-256("").
    #[test]
    fn test_rfc8448_derived_secret() {
        let early = hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
        let empty_hash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let mut out = [0u8; 32];
        hkdf_expand_label(HashAlg::Sha256, &early, b"derived", &empty_hash, &mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            hex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
        );
    }

    #[test]
    fn test_hkdf_expand_label_rejects_bad_input() {
        let mut out = [0u8; 16];
        // PRK shorter than the hash.
        assert_eq!(
            hkdf_expand_label(HashAlg::Sha256, &[0u8; 31], b"key", b"", &mut out),
            Err(DecryptError::BadSecret)
        );
        assert_eq!(
            hkdf_expand_label(HashAlg::Sha384, &[0u8; 32], b"key", b"", &mut out),
            Err(DecryptError::BadSecret)
        );
        // Label and context too long.
        assert!(
            hkdf_expand_label(HashAlg::Sha256, &[0u8; 32], &[b'a'; 250], b"", &mut out).is_err()
        );
        assert!(hkdf_expand_label(HashAlg::Sha256, &[0u8; 32], b"k", &[0; 256], &mut out).is_err());
        // Output longer than 255 * hash length.
        let mut big = vec![0u8; 255 * 32 + 1];
        assert!(hkdf_expand_label(HashAlg::Sha256, &[0u8; 32], b"k", b"", &mut big).is_err());
    }
}
