//! Client and server fingerprints: JA3, JA3S (Salesforce, BSD-3) and JA4 (FoxIO, BSD-3;
//! only the JA4 client fingerprint, not the JA4+ family, which has another licence).
//!
//! JA3 = MD5 of `SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats`: decimal
//! values joined with `-`, in wire order, GREASE (RFC 8701) removed from ciphers,
//! extensions and groups. This is the ordering tshark's `tls.handshake.ja3_full` uses.
//! JA3S = MD5 of `SSLVersion,Cipher,Extensions`.
//!
//! JA4 (technical_details/JA4.md): `a_b_c` where
//! - a = `t` (TCP; `q` QUIC) + version (highest supported_versions value without GREASE,
//!   else the ClientHello version: `13`, `12`, `11`, `10`, `s3`, `s2`, DTLS `d1..d3`,
//!   else `00`) + `d` if server_name is present, else `i` + two-digit cipher count + two-digit
//!   extension count (GREASE excluded, SNI and ALPN included, capped at 99) + first and last
//!   character of the first ALPN value (`00` if none; if either byte is not ASCII
//!   alphanumeric, the first and last hex digits of the value instead);
//! - b = first 12 hex digits of SHA-256 of the sorted cipher list (4-digit lowercase hex,
//!   comma-joined, GREASE removed), `000000000000` when empty;
//! - c = the same over the sorted extension list without GREASE, SNI (0000) and ALPN (0010),
//!   then `_` and the signature algorithms in wire order (the `_` only when there are some),
//!   `000000000000` when the extension list is empty.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::handshake::{ClientHello, ServerHello};
use super::names::is_grease;

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 0xf) as usize]));
    }
    s
}

fn join_dec<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join("-")
}

/// The JA3 string of a ClientHello.
pub fn ja3_string(ch: &ClientHello) -> String {
    format!(
        "{},{},{},{},{}",
        ch.legacy_version,
        join_dec(ch.ciphers.iter().filter(|c| !is_grease(**c))),
        join_dec(ch.extensions.iter().filter(|e| !is_grease(**e))),
        join_dec(ch.groups.iter().filter(|g| !is_grease(**g))),
        join_dec(ch.point_formats.iter()),
    )
}

/// The JA3S string of a ServerHello.
pub fn ja3s_string(sh: &ServerHello) -> String {
    format!(
        "{},{},{}",
        sh.legacy_version,
        sh.cipher,
        join_dec(sh.extensions.iter().filter(|e| !is_grease(**e))),
    )
}

pub fn md5_hex(s: &str) -> String {
    hex(&Md5::digest(s.as_bytes()))
}

fn sha256_12(s: &str) -> String {
    let mut h = hex(&Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(p) = first.filter(|p| !p.is_empty()) else {
        return "00".to_string();
    };
    // A GREASE ALPN value (RFC 8701 reserves 0x?A?A identifiers too) counts as none, as the
    // FoxIO implementation does.
    if let [a, b] = p {
        if is_grease(u16::from_be_bytes([*a, *b])) {
            return "00".to_string();
        }
    }
    let (f, l) = (p[0], p[p.len() - 1]);
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        format!("{}{}", f as char, l as char)
    } else {
        let hexd = b"0123456789abcdef";
        format!(
            "{}{}",
            hexd[(f >> 4) as usize] as char,
            hexd[(l & 0xf) as usize] as char
        )
    }
}

fn hex_list(v: &[u16]) -> String {
    v.iter()
        .map(|x| format!("{x:04x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The JA4 fingerprint of a ClientHello; `quic` picks the `q` prefix.
pub fn ja4(ch: &ClientHello, quic: bool) -> String {
    let ja4_r = ja4_raw(ch, quic);
    // ja4_r = a_ciphers_exts[_sigs]; hash the b and c parts.
    let mut parts = ja4_r.splitn(3, '_');
    let a = parts.next().unwrap_or_default();
    let ciphers = parts.next().unwrap_or_default();
    let c_src = parts.next().unwrap_or_default();
    let b = if ciphers.is_empty() {
        "000000000000".to_string()
    } else {
        sha256_12(ciphers)
    };
    let c = if c_src.is_empty() || c_src.starts_with('_') {
        "000000000000".to_string()
    } else {
        sha256_12(c_src)
    };
    format!("{a}_{b}_{c}")
}

/// The raw (sorted, unhashed) JA4 form, `JA4_r`.
pub fn ja4_raw(ch: &ClientHello, quic: bool) -> String {
    let version = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(ch.legacy_version);
    let sni = if ch.extensions.contains(&0) { 'd' } else { 'i' };
    let mut ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let ext_count = ch.extensions.iter().filter(|e| !is_grease(**e)).count();
    let a = format!(
        "{}{}{}{:02}{:02}{}",
        if quic { 'q' } else { 't' },
        ja4_version(version),
        sni,
        ciphers.len().min(99),
        ext_count.min(99),
        ja4_alpn(ch.alpn_first_raw.as_deref()),
    );
    ciphers.sort_unstable();
    let mut exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e) && *e != 0x0000 && *e != 0x0010)
        .collect();
    exts.sort_unstable();
    let sigs: Vec<u16> = ch
        .sig_algs
        .iter()
        .copied()
        .filter(|s| !is_grease(*s))
        .collect();
    let mut c = hex_list(&exts);
    if !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex_list(&sigs));
    }
    format!("{a}_{}_{c}", hex_list(&ciphers))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of the JA4 specification's "ALPN Extension Value" section.
    #[test]
    fn alpn_characters_per_the_specification() {
        assert_eq!(ja4_alpn(Some(b"h2")), "h2");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(Some(b"q")), "qq");
        assert_eq!(ja4_alpn(None), "00");
        assert_eq!(ja4_alpn(Some(b"")), "00");
        assert_eq!(ja4_alpn(Some(&[0xab])), "ab");
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab])), "3b");
        assert_eq!(ja4_alpn(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
        assert_eq!(ja4_alpn(Some(&[0x3a, 0x3a])), "00");
    }

    #[test]
    fn ja3s_string_and_md5() {
        let sh = ServerHello {
            legacy_version: 0x0303,
            cipher: 0x1302,
            extensions: vec![43, 51],
            ..Default::default()
        };
        // tshark's ja3s_full / ja3s for tls13.xargs.org's ServerHello.
        assert_eq!(ja3s_string(&sh), "771,4866,43-51");
        assert_eq!(
            md5_hex(&ja3s_string(&sh)),
            "15af977ce25de452b96affa2addb1036"
        );
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
