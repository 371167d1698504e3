//! X.509 certificate summaries (x509-parser) for the report: subject and issuer in RFC 4514
//! string form, validity in RFC 3339 UTC, DNS SANs, key type, serial, SHA-256 of the DER,
//! validity at the capture's time and, for the leaf, whether a name matches the SNI.

use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

use super::fingerprint::hex;
use crate::time::{civil_from_days, Ts};
use crate::warning::WarningKind;

/// One certificate, summarised: subject and issuer in RFC 4514 form, validity in RFC 3339.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub san: Vec<String>,
    /// `EC P-256`, `RSA 2048`, ...
    pub key_type: Option<String>,
    pub serial: Option<String>,
    pub sha256: Option<String>,
    /// Valid at the capture's time (the ServerHello's timestamp).
    pub valid_at_capture: Option<bool>,
    /// For the leaf: one of its names matches the SNI.
    pub matches_sni: Option<bool>,
}

/// DNS names kept per certificate (all are matched against the SNI).
pub const MAX_SANS: usize = 256;

/// Summarises one DER certificate. `at` is the capture time validity is judged at;
/// `sni` is matched when this is the leaf. A certificate x509-parser cannot read still
/// yields its SHA-256. The second value is a warning (kind, message) for the caller.
pub fn summarize(
    der: &[u8],
    at: Option<Ts>,
    sni: Option<&str>,
    leaf: bool,
) -> (CertInfo, Option<(WarningKind, String)>) {
    let sha256 = Some(hex(&Sha256::digest(der)));
    let cert = match X509Certificate::from_der(der) {
        Ok((_, c)) => c,
        Err(e) => {
            let c = CertInfo {
                sha256,
                ..CertInfo::default()
            };
            return (
                c,
                Some((
                    WarningKind::Malformed,
                    format!("certificate not parsed: {e}"),
                )),
            );
        }
    };
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before.timestamp();
    let not_after = tbs.validity.not_after.timestamp();
    let mut san = Vec::new();
    let mut san_total = 0usize;
    let mut san_match = false;
    if let Ok(Some(ext)) = tbs.subject_alternative_name() {
        for n in &ext.value.general_names {
            if let GeneralName::DNSName(d) = n {
                san_total += 1;
                san_match |= leaf && sni.is_some_and(|h| name_matches(d, h));
                if san.len() < MAX_SANS {
                    san.push((*d).to_string());
                }
            }
        }
    }
    let note = (san_total > MAX_SANS).then(|| {
        (
            WarningKind::Cap,
            format!("{san_total} DNS names in subjectAltName; the first {MAX_SANS} kept"),
        )
    });
    let valid_at_capture = at.map(|t| {
        let secs = t.nanos().div_euclid(1_000_000_000);
        not_before <= secs && secs <= not_after
    });
    let matches_sni = match (leaf, sni) {
        // RFC 6125 6.4.4: the CN is consulted only when there is no DNS SAN.
        (true, Some(host)) if san_total == 0 => Some(
            tbs.subject
                .iter_common_name()
                .filter_map(|a| a.as_str().ok())
                .any(|n| name_matches(n, host)),
        ),
        (true, Some(_)) => Some(san_match),
        _ => None,
    };
    let c = CertInfo {
        subject: rfc4514(&tbs.subject),
        issuer: rfc4514(&tbs.issuer),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        san,
        key_type: key_type(&cert),
        serial: Some(serial_hex(tbs.raw_serial())),
        sha256,
        valid_at_capture,
        matches_sni,
    };
    (c, note)
}

/// RFC 6125 6.4.3 wildcard rules: case-insensitive, a trailing dot ignored, `*` only as the
/// whole leftmost label, matching exactly one non-empty label (`*.example.com` matches
/// `a.example.com`, not `example.com` nor `a.b.example.com`), and never a public-suffix-like
/// two-label wildcard such as `*.com`.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if p.is_empty() || h.is_empty() {
        return false;
    }
    match p.strip_prefix("*.") {
        Some(rest) => {
            if !rest.contains('.') || rest.contains('*') {
                return false;
            }
            match h.split_once('.') {
                Some((first, tail)) => !first.is_empty() && tail == rest,
                None => false,
            }
        }
        None => !p.contains('*') && p == h,
    }
}

/// RFC 4514 2.3 short names; other attribute types print as their dotted OID.
fn attr_short(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// RFC 4514 2.4 escaping of an attribute value.
fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i + 1 == n => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// The text of an attribute value: the string types as text (BMPString as UTF-16,
/// TeletexString and others as Latin-1), else `#` and the hex of the value.
fn attr_text(any: &x509_parser::der_parser::asn1_rs::Any<'_>) -> String {
    use x509_parser::der_parser::asn1_rs::Tag;
    let data = any.data;
    match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}')
            })
            .collect(),
        Tag::TeletexString | Tag::GeneralString | Tag::GraphicString => {
            data.iter().map(|&b| b as char).collect()
        }
        _ => format!("#{}", hex(data)),
    }
}

/// RFC 4514 string: RDNs in reverse order of the sequence, joined with `,`; the values of a
/// multi-valued RDN joined with `+`.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = attr_short(&oid).map(str::to_string).unwrap_or(oid);
                    format!("{key}={}", escape_value(&attr_text(atv.attr_value())))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The serial as lowercase hex of its integer value, without leading zeros (as Python's
/// `format(serial, "x")` and tshark's truth files write it).
fn serial_hex(raw: &[u8]) -> String {
    let h = hex(raw);
    let t = h.trim_start_matches('0');
    if t.is_empty() {
        "0".to_string()
    } else {
        t.to_string()
    }
}

fn bit_len(be: &[u8]) -> usize {
    let lead = be.iter().take_while(|&&b| b == 0).count();
    match be.get(lead) {
        Some(&b) => (be.len() - lead - 1) * 8 + (8 - b.leading_zeros() as usize),
        None => 0,
    }
}

/// `EC P-256`, `RSA 2048`, `Ed25519`, `DSA 2048`, ... from the SubjectPublicKeyInfo.
fn key_type(cert: &X509Certificate<'_>) -> Option<String> {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.3.101.112" => return Some("Ed25519".to_string()),
        "1.3.101.113" => return Some("Ed448".to_string()),
        "1.3.101.110" => return Some("X25519".to_string()),
        "1.3.101.111" => return Some("X448".to_string()),
        "1.2.840.113549.1.1.10" => {
            // RSASSA-PSS keys carry an RSAPublicKey too.
            let key =
                x509_parser::public_key::RSAPublicKey::from_der(&spki.subject_public_key.data)
                    .ok()?;
            return Some(format!("RSA-PSS {}", bit_len(key.1.modulus)));
        }
        _ => {}
    }
    match spki.parsed().ok()? {
        PublicKey::RSA(k) => Some(format!("RSA {}", bit_len(k.modulus))),
        PublicKey::EC(p) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|a| a.as_oid().ok())
                .map(|o| o.to_id_string());
            let name = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "P-256".to_string(),
                Some("1.3.132.0.34") => "P-384".to_string(),
                Some("1.3.132.0.35") => "P-521".to_string(),
                Some("1.3.132.0.10") => "secp256k1".to_string(),
                Some("1.2.840.10045.3.1.1") => "P-192".to_string(),
                Some("1.3.132.0.33") => "P-224".to_string(),
                Some("1.3.36.3.3.2.8.1.1.7") => "brainpoolP256r1".to_string(),
                Some("1.3.36.3.3.2.8.1.1.11") => "brainpoolP384r1".to_string(),
                Some("1.3.36.3.3.2.8.1.1.13") => "brainpoolP512r1".to_string(),
                Some(other) => other.to_string(),
                None => format!("{} bits", p.key_size()),
            };
            Some(format!("EC {name}"))
        }
        PublicKey::DSA(y) => Some(format!("DSA {}", bit_len(y))),
        PublicKey::GostR3410(_) | PublicKey::GostR3410_2012(_) => Some("GOST".to_string()),
        PublicKey::Unknown(_) => Some(alg),
    }
}

/// Seconds since the epoch as RFC 3339 UTC, `2018-10-05T01:38:17+00:00`.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
