//! RDATA to presentation form, as dig prints it on one line.
//!
//! [`render`] reads only `msg[start..end]` (plus earlier offsets that compression pointers
//! in it target), appends the text to a caller's `String` and returns the address of an A
//! or AAAA record. Any field that does not fit the rdata, a fixed-size rdata of the wrong
//! size, or bytes left over after the last field is an [`RdataError`]; the caller then
//! lists the record with a marker instead of the text and goes on with the next one.
//!
//! Types with a presentation form here: A, AAAA, NS, CNAME, PTR, DNAME, MD, MF, MB, MG, MR,
//! SOA, MINFO, RP, MX, AFSDB, RT, KX, TXT, SPF, HINFO, SRV, NAPTR, CAA, DS, CDS, DNSKEY,
//! CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, TLSA, SMIMEA, SSHFP, SVCB, HTTPS and OPT. Every
//! other type uses the generic `\# <len> <hex>` form of RFC 3597 §5.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::encoding::{encode_base32hex, encode_base64, encode_hex};
use super::name::{push_ddd, read_name, NameError};
use super::names::{edns_option_mnemonic, svc_param_mnemonic, type_name, RrType};
use crate::time::civil_from_days;

/// Why a record's rdata has no presentation form. Offsets are from the start of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdataError {
    /// A fixed-size rdata (A, AAAA) of another size.
    BadLength { len: usize },
    /// A field runs past the end of the rdata at `offset`.
    Short { offset: usize },
    /// `extra` bytes left after the last field, at `offset`.
    Trailing { offset: usize, extra: usize },
    /// A name inside the rdata could not be decoded.
    Name(NameError),
    /// An SVCB/HTTPS parameter out of order or with a value of the wrong shape (RFC 9460
    /// §2.2: keys "SHALL appear in increasing numeric order"; such an RR is malformed).
    BadSvcParam { key: u16 },
    /// An NSEC/NSEC3 type bitmap window that breaks RFC 4034 §4.1.2.
    BadTypeBitmap { offset: usize },
}

impl fmt::Display for RdataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RdataError::BadLength { len } => write!(f, "rdata of {len} bytes has the wrong size"),
            RdataError::Short { offset } => {
                write!(f, "rdata field runs past the rdata at offset {offset}")
            }
            RdataError::Trailing { offset, extra } => {
                write!(
                    f,
                    "{extra} bytes left after the rdata fields at offset {offset}"
                )
            }
            RdataError::Name(e) => write!(f, "rdata {e}"),
            RdataError::BadSvcParam { key } => {
                write!(f, "SVCB parameter key{key} out of order or malformed")
            }
            RdataError::BadTypeBitmap { offset } => write!(f, "bad type bitmap at offset {offset}"),
        }
    }
}

/// A cursor over one rdata: every read is bounds-checked against the rdata's end.
struct Cur<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RdataError> {
        let short = RdataError::Short { offset: self.pos };
        let stop = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.end)
            .ok_or(short)?;
        let s = self.msg.get(self.pos..stop).ok_or(short)?;
        self.pos = stop;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, RdataError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, RdataError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, RdataError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = self.msg.get(self.pos..self.end).unwrap_or(&[]);
        self.pos = self.end;
        s
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    fn name(&mut self, out: &mut String) -> Result<(), RdataError> {
        self.pos = read_name(self.msg, self.pos, self.end, out).map_err(RdataError::Name)?;
        Ok(())
    }

    /// A `<character-string>`: one length octet and that many bytes (RFC 1035 §3.3).
    fn char_string(&mut self) -> Result<&'a [u8], RdataError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    fn finish(&self) -> Result<(), RdataError> {
        if self.pos < self.end {
            Err(RdataError::Trailing {
                offset: self.pos,
                extra: self.end - self.pos,
            })
        } else {
            Ok(())
        }
    }
}

/// Appends the presentation form of the rdata `msg[start..end]` of type `rtype`.
///
/// Returns the address of an A or AAAA record. On error `out` holds a partial rendering
/// the caller discards. `end` must not exceed `msg.len()` (a shorter slice is an error,
/// never a panic).
pub fn render(
    msg: &[u8],
    rtype: RrType,
    start: usize,
    end: usize,
    out: &mut String,
) -> Result<Option<IpAddr>, RdataError> {
    let mut c = Cur {
        msg,
        pos: start,
        end: end.min(msg.len()),
    };
    if end > msg.len() {
        return Err(RdataError::Short { offset: msg.len() });
    }
    let rdlen = end.saturating_sub(start);
    match rtype {
        RrType::A => {
            let b: [u8; 4] = c
                .rest()
                .try_into()
                .map_err(|_| RdataError::BadLength { len: rdlen })?;
            let ip = Ipv4Addr::from(b);
            let _ = write!(out, "{ip}");
            return Ok(Some(IpAddr::V4(ip)));
        }
        RrType::AAAA => {
            let b: [u8; 16] = c
                .rest()
                .try_into()
                .map_err(|_| RdataError::BadLength { len: rdlen })?;
            // std's Display is RFC 5952 canonical (lowercase, longest zero run as `::`).
            let ip = Ipv6Addr::from(b);
            let _ = write!(out, "{ip}");
            return Ok(Some(IpAddr::V6(ip)));
        }
        RrType::NS
        | RrType::CNAME
        | RrType::PTR
        | RrType::DNAME
        | RrType::MD
        | RrType::MF
        | RrType::MB
        | RrType::MG
        | RrType::MR
        | RrType::SOA
        | RrType::MINFO
        | RrType::RP
        | RrType::MX
        | RrType::AFSDB
        | RrType::RT
        | RrType::KX
        | RrType::SRV => render_names(rtype, &mut c, out)?,
        RrType::TXT | RrType::SPF | RrType::HINFO | RrType::NAPTR | RrType::CAA => {
            render_strings(rtype, &mut c, out)?
        }
        RrType::DS
        | RrType::CDS
        | RrType::DNSKEY
        | RrType::CDNSKEY
        | RrType::RRSIG
        | RrType::NSEC
        | RrType::NSEC3
        | RrType::NSEC3PARAM => render_dnssec(rtype, &mut c, out)?,
        RrType::TLSA | RrType::SMIMEA | RrType::SSHFP => render_fingerprint(rtype, &mut c, out)?,
        RrType::SVCB | RrType::HTTPS => render_svcb(&mut c, out)?,
        RrType::OPT => render_opt_options(&mut c, out)?,
        _ => render_unknown(&mut c, out),
    }
    c.finish()?;
    Ok(None)
}

/// Records of domain names, alone or after numbers (RFC 1035, RFC 1183, RFC 2230, RFC
/// 2782). Another type gets the generic form.
fn render_names(rtype: RrType, c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    match rtype {
        RrType::NS
        | RrType::CNAME
        | RrType::PTR
        | RrType::DNAME
        | RrType::MD
        | RrType::MF
        | RrType::MB
        | RrType::MG
        | RrType::MR => {
            c.name(out)?;
        }
        RrType::SOA => {
            c.name(out)?;
            out.push(' ');
            c.name(out)?;
            for _ in 0..5 {
                let v = c.u32()?;
                let _ = write!(out, " {v}");
            }
        }
        RrType::MINFO | RrType::RP => {
            c.name(out)?;
            out.push(' ');
            c.name(out)?;
        }
        RrType::MX | RrType::AFSDB | RrType::RT | RrType::KX => {
            let pref = c.u16()?;
            let _ = write!(out, "{pref} ");
            c.name(out)?;
        }
        RrType::SRV => {
            let (prio, weight, port) = (c.u16()?, c.u16()?, c.u16()?);
            let _ = write!(out, "{prio} {weight} {port} ");
            c.name(out)?;
        }
        _ => render_unknown(c, out),
    }
    Ok(())
}

/// Records of `<character-string>`s (RFC 1035, RFC 7208, RFC 3403, RFC 8659). Another type
/// gets the generic form.
fn render_strings(rtype: RrType, c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    match rtype {
        RrType::TXT | RrType::SPF => {
            // RFC 1035 §3.3.14: "One or more <character-string>s".
            if c.is_empty() {
                return Err(RdataError::BadLength { len: 0 });
            }
            let mut first = true;
            while !c.is_empty() {
                if !first {
                    out.push(' ');
                }
                first = false;
                push_quoted(c.char_string()?, out);
            }
        }
        RrType::HINFO => {
            push_quoted(c.char_string()?, out);
            out.push(' ');
            push_quoted(c.char_string()?, out);
        }
        RrType::NAPTR => {
            let (order, pref) = (c.u16()?, c.u16()?);
            let _ = write!(out, "{order} {pref}");
            for _ in 0..3 {
                out.push(' ');
                push_quoted(c.char_string()?, out);
            }
            out.push(' ');
            c.name(out)?;
        }
        RrType::CAA => {
            // RFC 8659 §4.1: flags, tag length, tag, value (rest of the rdata).
            let flags = c.u8()?;
            let tag = c.char_string()?;
            let _ = write!(out, "{flags} ");
            push_unquoted(tag, out);
            out.push(' ');
            push_quoted(c.rest(), out);
        }
        _ => render_unknown(c, out),
    }
    Ok(())
}

/// DNSSEC records (RFC 4034, RFC 5155, RFC 7344). Another type gets the generic form.
fn render_dnssec(rtype: RrType, c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    match rtype {
        RrType::DS | RrType::CDS => {
            let (tag, alg, digest_type) = (c.u16()?, c.u8()?, c.u8()?);
            let _ = write!(out, "{tag} {alg} {digest_type} ");
            encode_hex(c.rest(), out);
        }
        RrType::DNSKEY | RrType::CDNSKEY => {
            let (flags, proto, alg) = (c.u16()?, c.u8()?, c.u8()?);
            let _ = write!(out, "{flags} {proto} {alg} ");
            encode_base64(c.rest(), out);
        }
        RrType::RRSIG => {
            let covered = RrType(c.u16()?);
            let (alg, labels, orig_ttl) = (c.u8()?, c.u8()?, c.u32()?);
            let (expiration, inception, key_tag) = (c.u32()?, c.u32()?, c.u16()?);
            let _ = write!(out, "{covered} {alg} {labels} {orig_ttl} ");
            push_rrsig_time(expiration, out);
            out.push(' ');
            push_rrsig_time(inception, out);
            let _ = write!(out, " {key_tag} ");
            c.name(out)?;
            out.push(' ');
            encode_base64(c.rest(), out);
        }
        RrType::NSEC => {
            c.name(out)?;
            push_type_bitmap(c, out)?;
        }
        RrType::NSEC3 => {
            let (alg, flags, iterations) = (c.u8()?, c.u8()?, c.u16()?);
            let _ = write!(out, "{alg} {flags} {iterations} ");
            push_salt(c.char_string()?, out);
            out.push(' ');
            encode_base32hex(c.char_string()?, out);
            push_type_bitmap(c, out)?;
        }
        RrType::NSEC3PARAM => {
            let (alg, flags, iterations) = (c.u8()?, c.u8()?, c.u16()?);
            let _ = write!(out, "{alg} {flags} {iterations} ");
            push_salt(c.char_string()?, out);
        }
        _ => render_unknown(c, out),
    }
    Ok(())
}

/// Certificate and key fingerprints (TLSA RFC 6698, SMIMEA RFC 8162, SSHFP RFC 4255).
/// Another type gets the generic form.
fn render_fingerprint(rtype: RrType, c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    match rtype {
        RrType::TLSA | RrType::SMIMEA => {
            let (usage, selector, mtype) = (c.u8()?, c.u8()?, c.u8()?);
            let _ = write!(out, "{usage} {selector} {mtype} ");
            encode_hex(c.rest(), out);
        }
        RrType::SSHFP => {
            let (alg, fp_type) = (c.u8()?, c.u8()?);
            let _ = write!(out, "{alg} {fp_type} ");
            encode_hex(c.rest(), out);
        }
        _ => render_unknown(c, out),
    }
    Ok(())
}

/// The generic form of RFC 3597 §5: "\# <length> <hex>"; a zero length has no hex part.
fn render_unknown(c: &mut Cur<'_>, out: &mut String) {
    let data = c.rest();
    let _ = write!(out, "\\# {}", data.len());
    if !data.is_empty() {
        out.push(' ');
        encode_hex(data, out);
    }
}

/// A `<character-string>` in double quotes, `"` and `\` escaped, other bytes outside
/// printable ASCII as `\DDD` (the form dig prints TXT data in).
pub fn push_quoted(s: &[u8], out: &mut String) {
    out.push('"');
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => push_ddd(b, out),
        }
    }
    out.push('"');
}

/// Unquoted text (a CAA tag): printable ASCII except space, `"` and `\`; the rest escaped.
fn push_unquoted(s: &[u8], out: &mut String) {
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x21..=0x7E => out.push(char::from(b)),
            _ => push_ddd(b, out),
        }
    }
}

/// NSEC3 salt: hex, or `-` when empty (RFC 5155 §3.3).
fn push_salt(salt: &[u8], out: &mut String) {
    if salt.is_empty() {
        out.push('-');
    } else {
        encode_hex(salt, out);
    }
}

/// RRSIG times as YYYYMMDDHHmmSS UTC (RFC 4034 §3.2). Read as plain seconds since 1970:
/// the serial-arithmetic reading needs a "now" that a passive observer does not have.
fn push_rrsig_time(secs: u32, out: &mut String) {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
}

/// The type bitmap of NSEC and NSEC3 (RFC 4034 §4.1.2): windows in increasing order, each
/// with 1 to 32 bitmap octets. Appends ` TYPE` per set bit.
fn push_type_bitmap(c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    let mut last_window: Option<u8> = None;
    while !c.is_empty() {
        let at = c.pos;
        let window = c.u8()?;
        let len = c.u8()?;
        if len == 0 || len > 32 || last_window.is_some_and(|w| window <= w) {
            return Err(RdataError::BadTypeBitmap { offset: at });
        }
        last_window = Some(window);
        for (i, &bits) in c.take(usize::from(len))?.iter().enumerate() {
            for bit in 0..8u16 {
                if bits & (0x80 >> bit) != 0 {
                    let t = (u16::from(window) << 8) | ((i as u16) << 3) | bit;
                    out.push(' ');
                    out.push_str(&type_name(t));
                }
            }
        }
    }
    Ok(())
}

/// SVCB and HTTPS (RFC 9460 §2.2), dig's one-line form:
/// `1 . alpn="h2,h3" ipv4hint=192.0.2.1 ech=<base64> ipv6hint=2001:db8::1`.
fn render_svcb(c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    let priority = c.u16()?;
    let _ = write!(out, "{priority} ");
    // RFC 9460 §2.2: TargetName is "uncompressed"; a compressed one is still decoded.
    c.name(out)?;
    let mut last_key: Option<u16> = None;
    while !c.is_empty() {
        let key = c.u16()?;
        let len = c.u16()?;
        let value = c.take(usize::from(len))?;
        if last_key.is_some_and(|k| key <= k) {
            return Err(RdataError::BadSvcParam { key });
        }
        last_key = Some(key);
        out.push(' ');
        push_svc_key(key, out);
        push_svc_value(key, value, out)?;
    }
    Ok(())
}

/// What a client reads from a sound SVCB or HTTPS record (RFC 9460) to choose a protocol:
/// the priority (0 is AliasMode), the target, the ALPN ids (`alpn`, key 1) and the `port`
/// (key 3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SvcbFacts {
    pub priority: u16,
    /// TargetName in presentation form (`.` for the owner itself in ServiceMode).
    pub target: String,
    pub alpn: Vec<String>,
    /// `no-default-alpn` (key 2): the default `http/1.1` is not offered.
    pub no_default_alpn: bool,
    pub port: Option<u16>,
    /// `ech` (key 5): an ECHConfigList the client may encrypt its ClientHello to.
    pub ech: bool,
    /// The config ids of its ECHConfigs of version 0xfe0d.
    pub ech_config_ids: Vec<u8>,
    /// `ipv4hint` (key 4) and `ipv6hint` (key 6) addresses.
    pub hints: Vec<std::net::IpAddr>,
}

/// The [`SvcbFacts`] of the SVCB/HTTPS rdata `msg[start..end]`; `None` when it is malformed
/// (the same checks as its presentation form).
pub fn svcb_facts(msg: &[u8], start: usize, end: usize) -> Option<SvcbFacts> {
    if end > msg.len() {
        return None;
    }
    let mut c = Cur {
        msg,
        pos: start,
        end,
    };
    let mut f = SvcbFacts {
        priority: c.u16().ok()?,
        ..SvcbFacts::default()
    };
    c.name(&mut f.target).ok()?;
    while !c.is_empty() {
        let key = c.u16().ok()?;
        let len = c.u16().ok()?;
        let value = c.take(usize::from(len)).ok()?;
        match key {
            1 => {
                let mut v = Cur {
                    msg: value,
                    pos: 0,
                    end: value.len(),
                };
                while !v.is_empty() {
                    let id = v.char_string().ok()?;
                    f.alpn.push(String::from_utf8_lossy(id).into_owned());
                }
            }
            2 => f.no_default_alpn = true,
            3 => f.port = Some(u16::from_be_bytes(value.try_into().ok()?)),
            4 => {
                for a in value.chunks_exact(4) {
                    f.hints
                        .push(std::net::IpAddr::from(<[u8; 4]>::try_from(a).ok()?));
                }
            }
            5 => {
                f.ech = !value.is_empty();
                f.ech_config_ids = ech_config_ids(value);
            }
            6 => {
                for a in value.chunks_exact(16) {
                    f.hints
                        .push(std::net::IpAddr::from(<[u8; 16]>::try_from(a).ok()?));
                }
            }
            _ => {}
        }
    }
    Some(f)
}

/// The config ids of an ECHConfigList (draft-ietf-tls-esni 4: a 2-byte length, then
/// ECHConfigs of version, length and contents; a 0xfe0d config's contents start with its
/// config id). Whatever does not parse ends the list.
fn ech_config_ids(list: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(body) = list.get(2..) else {
        return out;
    };
    let mut rest = body;
    while rest.len() >= 4 {
        let version = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(contents) = rest.get(4..4 + len) else {
            break;
        };
        if version == 0xfe0d {
            if let Some(&id) = contents.first() {
                out.push(id);
            }
        }
        rest = &rest[4 + len..];
    }
    out
}

/// An SvcParamKey: its mnemonic, or `key<N>` (RFC 9460 §2.1).
fn push_svc_key(key: u16, out: &mut String) {
    match svc_param_mnemonic(key) {
        Some(m) => out.push_str(m),
        None => {
            let _ = write!(out, "key{key}");
        }
    }
}

/// `=` and the value of the SvcParam `key`, or nothing for an empty value where that is its
/// form; a value of the wrong shape for its key is an error.
fn push_svc_value(key: u16, value: &[u8], out: &mut String) -> Result<(), RdataError> {
    let bad = RdataError::BadSvcParam { key };
    match key {
        // mandatory: a non-empty list of keys (RFC 9460 §8).
        0 => push_svc_list(value, 2, bad, out, |k, out| {
            push_svc_key(u16::from_be_bytes([k[0], k[1]]), out);
            Ok(())
        })?,
        // alpn: non-empty <character-string>s (RFC 9460 §7.1.1).
        1 => push_alpn(value, bad, out)?,
        // no-default-alpn and ohttp: no value.
        2 | 8 => {
            if !value.is_empty() {
                return Err(bad);
            }
        }
        3 => {
            let port: [u8; 2] = value.try_into().map_err(|_| bad)?;
            let _ = write!(out, "={}", u16::from_be_bytes(port));
        }
        4 => push_svc_list(value, 4, bad, out, |a, out| {
            let _ = write!(out, "{}", Ipv4Addr::new(a[0], a[1], a[2], a[3]));
            Ok(())
        })?,
        5 => {
            if !value.is_empty() {
                out.push('=');
                encode_base64(value, out);
            }
        }
        6 => push_svc_list(value, 16, bad, out, |a, out| {
            let b: [u8; 16] = a.try_into().map_err(|_| bad)?;
            let _ = write!(out, "{}", Ipv6Addr::from(b));
            Ok(())
        })?,
        9 => push_svc_list(value, 2, bad, out, |g, out| {
            let _ = write!(out, "{}", u16::from_be_bytes([g[0], g[1]]));
            Ok(())
        })?,
        // dohpath and unknown keys: the raw value as a quoted string.
        _ => {
            if !value.is_empty() {
                out.push('=');
                push_quoted(value, out);
            }
        }
    }
    Ok(())
}

/// `=` and a non-empty list of `width`-byte items, comma-separated, each written by `item`;
/// `bad` when the value is empty or not a whole number of items.
fn push_svc_list(
    value: &[u8],
    width: usize,
    bad: RdataError,
    out: &mut String,
    mut item: impl FnMut(&[u8], &mut String) -> Result<(), RdataError>,
) -> Result<(), RdataError> {
    if value.is_empty() || !value.len().is_multiple_of(width) {
        return Err(bad);
    }
    out.push('=');
    for (i, chunk) in value.chunks_exact(width).enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(chunk, out)?;
    }
    Ok(())
}

/// The alpn value: `="h2,h3"`, from non-empty `<character-string>`s (RFC 9460 §7.1.1).
fn push_alpn(value: &[u8], bad: RdataError, out: &mut String) -> Result<(), RdataError> {
    let mut inner = Cur {
        msg: value,
        pos: 0,
        end: value.len(),
    };
    if inner.is_empty() {
        return Err(bad);
    }
    out.push_str("=\"");
    let mut first = true;
    while !inner.is_empty() {
        let id = inner.char_string().map_err(|_| bad)?;
        if id.is_empty() {
            return Err(bad);
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_value_list_item(id, out);
    }
    out.push('"');
    Ok(())
}

/// One item of a comma-separated SVCB value list (RFC 9460 Appendix A.1): `,` and `\`
/// escaped with a backslash, `"` too since the list is quoted, the rest as `\DDD`.
fn push_value_list_item(item: &[u8], out: &mut String) {
    for &b in item {
        match b {
            b',' | b'\\' | b'"' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => push_ddd(b, out),
        }
    }
}

/// The options of an OPT record (RFC 6891 §6.1.2), each as ` NAME=<hex>`, ECS
/// (RFC 7871 §6) as ` ECS=<address>/<source>/<scope>`; an option without data prints
/// as its bare name, an unknown code as `OPTn`.
fn render_opt_options(c: &mut Cur<'_>, out: &mut String) -> Result<(), RdataError> {
    let mut first = true;
    while !c.is_empty() {
        let code = c.u16()?;
        let len = c.u16()?;
        let data = c.take(usize::from(len))?;
        if !first {
            out.push(' ');
        }
        first = false;
        match edns_option_mnemonic(code) {
            Some(m) => out.push_str(m),
            None => {
                let _ = write!(out, "OPT{code}");
            }
        }
        if data.is_empty() {
            continue;
        }
        out.push('=');
        if code == 8 && push_ecs(data, out) {
            continue;
        }
        encode_hex(data, out);
    }
    Ok(())
}

/// ECS option data as `address/source/scope`; false (nothing written) when not family 1 or 2
/// or the address is longer than the family's.
fn push_ecs(data: &[u8], out: &mut String) -> bool {
    let (Some(fam), Some(&src), Some(&scope), Some(addr)) =
        (data.get(..2), data.get(2), data.get(3), data.get(4..))
    else {
        return false;
    };
    match u16::from_be_bytes([fam[0], fam[1]]) {
        1 if addr.len() <= 4 => {
            let mut a = [0u8; 4];
            a[..addr.len()].copy_from_slice(addr);
            let _ = write!(out, "{}/{src}/{scope}", Ipv4Addr::from(a));
            true
        }
        2 if addr.len() <= 16 => {
            let mut a = [0u8; 16];
            a[..addr.len()].copy_from_slice(addr);
            let _ = write!(out, "{}/{src}/{scope}", Ipv6Addr::from(a));
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders `rdata` placed after a small prefix message holding "example.com" at 0.
    fn r(rtype: RrType, rdata: &[u8]) -> Result<String, RdataError> {
        let mut msg = b"\x07example\x03com\x00".to_vec();
        let start = msg.len();
        msg.extend_from_slice(rdata);
        let mut s = String::new();
        render(&msg, rtype, start, msg.len(), &mut s).map(|_| s)
    }

    #[test]
    fn a_and_aaaa() {
        assert_eq!(r(RrType::A, &[93, 184, 216, 34]).unwrap(), "93.184.216.34");
        let mut v6 = [0u8; 16];
        v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        v6[15] = 1;
        assert_eq!(r(RrType::AAAA, &v6).unwrap(), "2001:db8::1");
        assert_eq!(
            r(RrType::A, &[1, 2, 3]),
            Err(RdataError::BadLength { len: 3 })
        );
        assert_eq!(
            r(RrType::AAAA, &[0; 4]),
            Err(RdataError::BadLength { len: 4 })
        );
        let msg = [10, 0, 0, 1];
        let mut s = String::new();
        assert_eq!(
            render(&msg, RrType::A, 0, 4, &mut s),
            Ok(Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))))
        );
    }

    #[test]
    fn name_types() {
        for t in [RrType::CNAME, RrType::NS, RrType::PTR, RrType::DNAME] {
            assert_eq!(r(t, b"\x03www\xC0\x00").unwrap(), "www.example.com");
        }
        assert_eq!(r(RrType::CNAME, b"\x00").unwrap(), ".");
        assert_eq!(
            r(RrType::CNAME, b"\x00\x00"),
            Err(RdataError::Trailing {
                offset: 14,
                extra: 1
            })
        );
        // A name running past the rdata is Short-as-name even though the message goes on.
        assert!(matches!(
            r(RrType::CNAME, b"\x05ab"),
            Err(RdataError::Name(NameError::Truncated { .. }))
        ));
        assert!(matches!(
            r(RrType::CNAME, b"\xC0\x0D"),
            Err(RdataError::Name(NameError::ForwardPointer { .. }))
        ));
    }

    #[test]
    fn mx_srv_soa() {
        assert_eq!(
            r(RrType::MX, b"\x00\x0a\x04mail\xC0\x00").unwrap(),
            "10 mail.example.com"
        );
        assert_eq!(
            r(RrType::SRV, b"\x00\x01\x00\x05\x01\xbb\x03sip\xC0\x00").unwrap(),
            "1 5 443 sip.example.com"
        );
        let soa = b"\x02ns\xC0\x00\x0ahostmaster\xC0\x00\x78\x49\x1c\x2d\x00\x00\x1c\x20\x00\x00\x0e\x10\x00\x12\x75\x00\x00\x00\x0e\x10";
        assert_eq!(
            r(RrType::SOA, soa).unwrap(),
            "ns.example.com hostmaster.example.com 2018057261 7200 3600 1209600 3600"
        );
        assert_eq!(
            r(RrType::SOA, &soa[..soa.len() - 1]),
            Err(RdataError::Short { offset: 13 + 34 })
        );
        assert_eq!(
            r(RrType::MX, b"\x00"),
            Err(RdataError::Short { offset: 13 })
        );
    }

    #[test]
    fn txt_hinfo_caa_naptr() {
        assert_eq!(
            r(RrType::TXT, b"\x05hello\x00\x03a\"b").unwrap(),
            "\"hello\" \"\" \"a\\\"b\""
        );
        assert_eq!(r(RrType::TXT, b"\x04a b\x01").unwrap(), "\"a b\\001\"");
        assert_eq!(r(RrType::TXT, b""), Err(RdataError::BadLength { len: 0 }));
        assert_eq!(
            r(RrType::TXT, b"\x05abc"),
            Err(RdataError::Short { offset: 14 })
        );
        assert_eq!(r(RrType::SPF, b"\x06v=spf1").unwrap(), "\"v=spf1\"");
        assert_eq!(
            r(RrType::HINFO, b"\x03CPU\x02OS").unwrap(),
            "\"CPU\" \"OS\""
        );
        assert_eq!(
            r(RrType::CAA, b"\x00\x05issueletsencrypt.org").unwrap(),
            "0 issue \"letsencrypt.org\""
        );
        assert_eq!(r(RrType::CAA, b"\x80\x05iodef").unwrap(), "128 iodef \"\"");
        assert_eq!(
            r(RrType::NAPTR, b"\x00\x64\x00\x0a\x01u\x07E2U+sip\x00\x00").unwrap(),
            "100 10 \"u\" \"E2U+sip\" \"\" ."
        );
    }

    #[test]
    fn svcb_facts_read_alpn_and_port() {
        // 1 . alpn="h3,h2" no-default-alpn port=8443
        let rd =
            b"\x00\x01\x00\x00\x01\x00\x06\x02h3\x02h2\x00\x02\x00\x00\x00\x03\x00\x02\x20\xfb";
        let f = svcb_facts(rd, 0, rd.len()).unwrap();
        assert_eq!(f.priority, 1);
        assert_eq!(f.target, ".");
        assert_eq!(f.alpn, ["h3", "h2"]);
        assert!(f.no_default_alpn);
        assert_eq!(f.port, Some(8443));
        // AliasMode: priority 0 and a target, no params.
        let alias = b"\x00\x00\x03cdn\x07example\x00";
        let f = svcb_facts(alias, 0, alias.len()).unwrap();
        assert_eq!((f.priority, f.target.as_str()), (0, "cdn.example"));
        // A port of three bytes, an alpn id running past its value: malformed, no facts.
        assert_eq!(
            svcb_facts(b"\x00\x01\x00\x00\x03\x00\x03\x01\x02\x03", 0, 10),
            None
        );
        assert_eq!(svcb_facts(b"\x00\x01\x00\x00\x01\x00\x02\x05h", 0, 9), None);
        // An end past the message is refused, not read.
        assert_eq!(svcb_facts(rd, 0, rd.len() + 1), None);
    }

    #[test]
    fn dnssec_types() {
        assert_eq!(
            r(RrType::DS, b"\x4f\x66\x08\x02\xe0\x6d").unwrap(),
            "20326 8 2 E06D"
        );
        assert_eq!(
            r(RrType::DNSKEY, b"\x01\x01\x03\x08foo").unwrap(),
            "257 3 8 Zm9v"
        );
        let mut sig = vec![0x00, 0x01, 13, 2, 0, 0, 0x0e, 0x10];
        sig.extend_from_slice(&1_700_000_000u32.to_be_bytes());
        sig.extend_from_slice(&951_782_400u32.to_be_bytes());
        sig.extend_from_slice(&[0x12, 0x34, 0xC0, 0x00, b'f', b'o', b'o']);
        assert_eq!(
            r(RrType::RRSIG, &sig).unwrap(),
            "A 13 2 3600 20231114221320 20000229000000 4660 example.com Zm9v"
        );
        // NSEC next=example.com types A(1) NS(2) RRSIG(46) NSEC(47), CAA(257).
        let nsec = b"\xC0\x00\x00\x06\x60\x00\x00\x00\x00\x03\x01\x01\x40";
        assert_eq!(
            r(RrType::NSEC, nsec).unwrap(),
            "example.com A NS RRSIG NSEC CAA"
        );
        assert_eq!(
            r(RrType::NSEC, b"\x00\x00\x00"),
            Err(RdataError::BadTypeBitmap { offset: 14 })
        );
        assert_eq!(
            r(RrType::NSEC, b"\x00\x01\x01\x40\x00\x01\x40"),
            Err(RdataError::BadTypeBitmap { offset: 17 })
        );
        let nsec3 = b"\x01\x00\x00\x0a\x02\xab\xcd\x05foob\x61\x00\x01\x40";
        assert_eq!(r(RrType::NSEC3, nsec3).unwrap(), "1 0 10 ABCD CPNMUOJ1 A");
        assert_eq!(
            r(RrType::NSEC3PARAM, b"\x01\x00\x00\x00\x00").unwrap(),
            "1 0 0 -"
        );
        assert_eq!(r(RrType::TLSA, b"\x03\x01\x01\xff").unwrap(), "3 1 1 FF");
        assert_eq!(r(RrType::SSHFP, b"\x04\x02\x01").unwrap(), "4 2 01");
    }

    #[test]
    fn https_service_mode() {
        let mut rd = vec![0x00, 0x01, 0x00];
        rd.extend_from_slice(b"\x00\x01\x00\x06\x02h2\x02h3");
        rd.extend_from_slice(b"\x00\x03\x00\x02\x01\xbb");
        rd.extend_from_slice(b"\x00\x04\x00\x08\x68\x10\x84\xe5\x68\x10\x85\xe5");
        rd.extend_from_slice(b"\x00\x05\x00\x03foo");
        rd.extend_from_slice(
            b"\x00\x06\x00\x10\x26\x06\x47\x00\x00\x00\x00\x00\x00\x00\x00\x00\x68\x10\x84\xe5",
        );
        assert_eq!(
            r(RrType::HTTPS, &rd).unwrap(),
            "1 . alpn=\"h2,h3\" port=443 ipv4hint=104.16.132.229,104.16.133.229 ech=Zm9v ipv6hint=2606:4700::6810:84e5"
        );
        let f = svcb_facts(&rd, 0, rd.len()).unwrap();
        assert!(f.ech);
        // `foo` is no ECHConfigList: no config ids.
        assert!(f.ech_config_ids.is_empty());
        // One 0xfe0d config with id 7, then a config of an unknown version with id 9.
        let list = b"\x00\x0c\xfe\x0d\x00\x02\x07\x00\xfe\x0e\x00\x02\x09\x00";
        assert_eq!(ech_config_ids(list), [7]);
        assert_eq!(ech_config_ids(&list[..8]), [7]);
        assert_eq!(ech_config_ids(b"\x00"), Vec::<u8>::new());
        let hints: Vec<String> = f.hints.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            hints,
            ["104.16.132.229", "104.16.133.229", "2606:4700::6810:84e5"]
        );
    }

    #[test]
    fn svcb_other_params_and_alias_mode() {
        assert_eq!(
            r(RrType::HTTPS, b"\x00\x00\x03svc\xC0\x00").unwrap(),
            "0 svc.example.com"
        );
        let mut rd = b"\x00\x10\x03dns\xC0\x00".to_vec();
        rd.extend_from_slice(b"\x00\x00\x00\x04\x00\x01\x00\x03");
        rd.extend_from_slice(b"\x00\x02\x00\x00");
        rd.extend_from_slice(b"\x00\x07\x00\x10/dns-query{?dns}");
        rd.extend_from_slice(b"\x00\x08\x00\x00");
        rd.extend_from_slice(b"\x00\x09\x00\x04\x00\x1d\x00\x17");
        rd.extend_from_slice(b"\x02\x9b\x00\x05hello");
        rd.extend_from_slice(b"\xff\x00\x00\x00");
        assert_eq!(
            r(RrType::SVCB, &rd).unwrap(),
            "16 dns.example.com mandatory=alpn,port no-default-alpn dohpath=\"/dns-query{?dns}\" ohttp \
             tls-supported-groups=29,23 key667=\"hello\" key65280"
        );
        // alpn with a comma and a backslash inside an id.
        assert_eq!(
            r(RrType::SVCB, b"\x00\x01\x00\x00\x01\x00\x04\x03a,\\").unwrap(),
            "1 . alpn=\"a\\,\\\\\""
        );
    }

    #[test]
    fn malformed_svcb() {
        // Keys out of order.
        let rd = b"\x00\x01\x00\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x03\x02h2";
        assert_eq!(
            r(RrType::HTTPS, rd),
            Err(RdataError::BadSvcParam { key: 1 })
        );
        // Duplicate key.
        let rd = b"\x00\x01\x00\x00\x02\x00\x00\x00\x02\x00\x00";
        assert_eq!(
            r(RrType::HTTPS, rd),
            Err(RdataError::BadSvcParam { key: 2 })
        );
        // Port of 3 bytes, ipv4hint of 5, ipv6hint of 4, empty alpn id, empty mandatory.
        assert_eq!(
            r(RrType::HTTPS, b"\x00\x01\x00\x00\x03\x00\x03\x00\x00\x00"),
            Err(RdataError::BadSvcParam { key: 3 })
        );
        assert_eq!(
            r(
                RrType::HTTPS,
                b"\x00\x01\x00\x00\x04\x00\x05\x01\x02\x03\x04\x05"
            ),
            Err(RdataError::BadSvcParam { key: 4 })
        );
        assert_eq!(
            r(
                RrType::HTTPS,
                b"\x00\x01\x00\x00\x06\x00\x04\x01\x02\x03\x04"
            ),
            Err(RdataError::BadSvcParam { key: 6 })
        );
        assert_eq!(
            r(RrType::HTTPS, b"\x00\x01\x00\x00\x01\x00\x01\x00"),
            Err(RdataError::BadSvcParam { key: 1 })
        );
        assert_eq!(
            r(RrType::HTTPS, b"\x00\x01\x00\x00\x00\x00\x00"),
            Err(RdataError::BadSvcParam { key: 0 })
        );
        // Value longer than the rdata.
        assert_eq!(
            r(RrType::HTTPS, b"\x00\x01\x00\x00\x01\x00\x09\x02h2"),
            Err(RdataError::Short { offset: 20 })
        );
    }

    #[test]
    fn opt_options() {
        let rd =
            b"\x00\x08\x00\x07\x00\x01\x18\x00\xc0\xa8\x01\x00\x0a\x00\x02\xab\xcd\x00\x0c\x00\x00";
        assert_eq!(
            r(RrType::OPT, rd).unwrap(),
            "ECS=192.168.1.0/24/0 COOKIE=ABCD PADDING"
        );
        assert_eq!(r(RrType::OPT, b"").unwrap(), "");
        assert_eq!(
            r(RrType::OPT, b"\xfd\xe9\x00\x01\x07").unwrap(),
            "OPT65001=07"
        );
        assert_eq!(
            r(RrType::OPT, b"\x00\x08\x00\x02\x00\x03").unwrap(),
            "ECS=0003"
        );
        assert_eq!(
            r(RrType::OPT, b"\x00\x08\x00\x05\x00"),
            Err(RdataError::Short { offset: 17 })
        );
    }

    #[test]
    fn unknown_types_use_rfc3597() {
        assert_eq!(r(RrType(65534), &[10, 0, 0, 1]).unwrap(), "\\# 4 0A000001");
        assert_eq!(r(RrType(123), &[]).unwrap(), "\\# 0");
        assert_eq!(r(RrType(250), &[1]).unwrap(), "\\# 1 01");
    }

    #[test]
    fn end_past_message_is_an_error() {
        let mut s = String::new();
        assert_eq!(
            render(&[1, 2], RrType::A, 0, 4, &mut s),
            Err(RdataError::Short { offset: 2 })
        );
        assert_eq!(
            render(&[1, 2], RrType(999), 5, 9, &mut s),
            Err(RdataError::Short { offset: 2 })
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(49_710), (2106, 2, 7));
    }
}
