//! Parsers for single handshake message bodies (already joined across records).
//!
//! Written here rather than with tls-parser: tls-parser stops at the first malformed
//! extension and does not keep the raw code-point order JA3/JA4 need alongside typed
//! values, while a passive observer must "keep what parsed, say where it stopped". These
//! parsers return the fixed part or an error, and collect per-extension problems as notes
//! (turned into warnings by the caller) while keeping every extension that parsed.

use super::names;

/// A bounds-checked cursor over wire bytes: every read is `Option`, nothing can panic.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Option<usize> {
        self.bytes(3)
            .map(|b| ((b[0] as usize) << 16) | ((b[1] as usize) << 8) | b[2] as usize)
    }

    /// A vector with a 1-byte length prefix.
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.bytes(n)
    }

    /// A vector with a 2-byte length prefix.
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.bytes(n)
    }

    /// A vector with a 3-byte length prefix.
    pub fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.bytes(n)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        s
    }
}

/// A list of u16 values (cipher suites, groups, signature schemes, versions).
fn u16_list(b: &[u8]) -> Option<Vec<u16>> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    Some(
        b.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

/// Why a handshake message could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The body ends before the named field.
    Truncated(&'static str),
    /// A field holds an impossible value.
    Invalid(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Truncated(w) => write!(f, "truncated at {w}"),
            ParseError::Invalid(w) => write!(f, "invalid {w}"),
        }
    }
}

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_EC_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_SESSION_TICKET: u16 = 35;
const EXT_PRE_SHARED_KEY: u16 = 41;
const EXT_EARLY_DATA: u16 = 42;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_PSK_KEY_EXCHANGE_MODES: u16 = 45;
const EXT_KEY_SHARE: u16 = 51;
const EXT_ECH: u16 = 0xfe0d;

/// Everything read from a ClientHello (RFC 8446 4.1.2; RFC 5246 7.4.1.2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub ciphers: Vec<u16>,
    pub compression: Vec<u8>,
    /// Extension types in wire order (GREASE included).
    pub extensions: Vec<u16>,
    /// First host_name of server_name.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// The first ALPN protocol's raw bytes (JA4 looks at bytes, not text).
    pub alpn_first_raw: Option<Vec<u8>>,
    pub supported_versions: Vec<u16>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub key_share_groups: Vec<u16>,
    pub sig_algs: Vec<u16>,
    /// session_ticket extension present, with the ticket's length.
    pub session_ticket: Option<usize>,
    pub psk: bool,
    pub psk_modes: Vec<u8>,
    pub early_data: bool,
    pub ech: bool,
    /// The config id an outer encrypted_client_hello names (draft-ietf-tls-esni 5: type 0,
    /// cipher suite, config_id); a GREASE one names a random id.
    pub ech_config_id: Option<u8>,
    /// Came as an SSL 2.0 CLIENT-HELLO (RFC 6101 E.2).
    pub sslv2: bool,
}

/// Parses a ClientHello body. Problems inside extensions are returned as notes.
pub fn parse_client_hello(body: &[u8]) -> Result<(ClientHello, Vec<String>), ParseError> {
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        legacy_version: r.u16().ok_or(ParseError::Truncated("legacy_version"))?,
        ..ClientHello::default()
    };
    let random = r.bytes(32).ok_or(ParseError::Truncated("random"))?;
    ch.random.copy_from_slice(random);
    let sid = r.vec8().ok_or(ParseError::Truncated("legacy_session_id"))?;
    if sid.len() > 32 {
        return Err(ParseError::Invalid("legacy_session_id length"));
    }
    ch.session_id = sid.to_vec();
    let suites = r.vec16().ok_or(ParseError::Truncated("cipher_suites"))?;
    ch.ciphers = u16_list(suites).ok_or(ParseError::Invalid("cipher_suites length"))?;
    ch.compression = r
        .vec8()
        .ok_or(ParseError::Truncated("legacy_compression_methods"))?
        .to_vec();
    let mut notes = Vec::new();
    if r.is_empty() {
        // RFC 5246 7.4.1.2: extensions may be absent (SSL 3.0, old TLS clients).
        return Ok((ch, notes));
    }
    let exts = match r.vec16() {
        Some(e) => e,
        None => {
            notes.push(
                "ClientHello extensions block overruns the message; kept the fixed part"
                    .to_string(),
            );
            return Ok((ch, notes));
        }
    };
    if !r.is_empty() {
        notes.push(format!(
            "{} bytes after the ClientHello extensions ignored",
            r.remaining()
        ));
    }
    let mut er = Reader::new(exts);
    while !er.is_empty() {
        let (Some(t), Some(data)) = (er.u16(), er.vec16()) else {
            notes.push(
                "ClientHello extension list truncated; kept the extensions before it".to_string(),
            );
            break;
        };
        ch.extensions.push(t);
        if parse_client_ext(&mut ch, t, data).is_none() {
            notes.push(format!(
                "malformed {} extension in ClientHello",
                names::extension_name(t)
            ));
        }
    }
    Ok((ch, notes))
}

fn parse_client_ext(ch: &mut ClientHello, t: u16, data: &[u8]) -> Option<()> {
    let mut r = Reader::new(data);
    match t {
        EXT_SERVER_NAME => {
            // RFC 6066 3: ServerNameList; an empty extension is legal from a server only.
            if data.is_empty() {
                return Some(());
            }
            let mut l = Reader::new(r.vec16()?);
            while !l.is_empty() {
                let kind = l.u8()?;
                let name = l.vec16()?;
                if kind == 0 && ch.sni.is_none() {
                    ch.sni = Some(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        EXT_ALPN => {
            let mut l = Reader::new(r.vec16()?);
            while !l.is_empty() {
                let p = l.vec8()?;
                if ch.alpn_first_raw.is_none() {
                    ch.alpn_first_raw = Some(p.to_vec());
                }
                ch.alpn.push(String::from_utf8_lossy(p).into_owned());
            }
        }
        EXT_SUPPORTED_GROUPS => ch.groups = u16_list(r.vec16()?)?,
        EXT_EC_POINT_FORMATS => ch.point_formats = r.vec8()?.to_vec(),
        EXT_SIGNATURE_ALGORITHMS => ch.sig_algs = u16_list(r.vec16()?)?,
        EXT_SUPPORTED_VERSIONS => ch.supported_versions = u16_list(r.vec8()?)?,
        EXT_SESSION_TICKET => ch.session_ticket = Some(data.len()),
        EXT_PRE_SHARED_KEY => ch.psk = true,
        EXT_EARLY_DATA => ch.early_data = true,
        EXT_PSK_KEY_EXCHANGE_MODES => ch.psk_modes = r.vec8()?.to_vec(),
        EXT_ECH => {
            ch.ech = true;
            // ECHClientHello: type (0 outer, 1 inner), then for outer the cipher suite
            // (KDF and AEAD ids) and the config id.
            if r.u8()? == 0 {
                r.u16()?;
                r.u16()?;
                ch.ech_config_id = Some(r.u8()?);
            }
        }
        EXT_KEY_SHARE => {
            let mut l = Reader::new(r.vec16()?);
            while !l.is_empty() {
                let g = l.u16()?;
                l.vec16()?;
                ch.key_share_groups.push(g);
            }
        }
        _ => return Some(()),
    }
    if r.is_empty()
        || matches!(
            t,
            EXT_SESSION_TICKET | EXT_PRE_SHARED_KEY | EXT_EARLY_DATA | EXT_ECH
        )
    {
        Some(())
    } else {
        None
    }
}

/// Parses an SSL 2.0 CLIENT-HELLO body (after the 2-byte record header): msg type 1,
/// version, cipher-spec/session-id/challenge lengths, then the three fields. Cipher specs
/// are 3 bytes; those starting with 0 are TLS cipher suites (RFC 5246 E.2).
pub fn parse_sslv2_client_hello(body: &[u8]) -> Result<ClientHello, ParseError> {
    let mut r = Reader::new(body);
    if r.u8() != Some(1) {
        return Err(ParseError::Invalid("SSL 2.0 message type"));
    }
    let version = r.u16().ok_or(ParseError::Truncated("version"))?;
    let spec_len = r.u16().ok_or(ParseError::Truncated("cipher_spec_length"))? as usize;
    let sid_len = r.u16().ok_or(ParseError::Truncated("session_id_length"))? as usize;
    let chal_len = r.u16().ok_or(ParseError::Truncated("challenge_length"))? as usize;
    if !spec_len.is_multiple_of(3) || sid_len > 32 || !(16..=32).contains(&chal_len) {
        return Err(ParseError::Invalid("SSL 2.0 CLIENT-HELLO lengths"));
    }
    let specs = r
        .bytes(spec_len)
        .ok_or(ParseError::Truncated("cipher_specs"))?;
    let sid = r
        .bytes(sid_len)
        .ok_or(ParseError::Truncated("session_id"))?;
    let challenge = r
        .bytes(chal_len)
        .ok_or(ParseError::Truncated("challenge"))?;
    let mut ch = ClientHello {
        legacy_version: version,
        sslv2: true,
        session_id: sid.to_vec(),
        ..Default::default()
    };
    ch.ciphers = specs
        .chunks_exact(3)
        .filter(|c| c[0] == 0)
        .map(|c| u16::from_be_bytes([c[1], c[2]]))
        .collect();
    // RFC 5246 E.2: the challenge is right-aligned in the 32-byte ClientHello.random.
    let off = 32 - challenge.len();
    ch.random[off..].copy_from_slice(challenge);
    ch.compression = vec![0];
    Ok(ch)
}

/// RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello whose random is
/// SHA-256("HelloRetryRequest").
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Everything read from a ServerHello or HelloRetryRequest (RFC 8446 4.1.3).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher: u16,
    pub compression: u8,
    pub extensions: Vec<u16>,
    /// supported_versions' selected_version.
    pub selected_version: Option<u16>,
    /// key_share's group (for a HelloRetryRequest, the selected_group).
    pub key_share_group: Option<u16>,
    /// pre_shared_key's selected_identity.
    pub psk_identity: Option<u16>,
    pub alpn: Option<String>,
    pub is_hrr: bool,
}

impl ServerHello {
    /// The version in force: supported_versions when present (RFC 8446 4.2.1), else the
    /// legacy field.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

pub fn parse_server_hello(body: &[u8]) -> Result<(ServerHello, Vec<String>), ParseError> {
    let mut r = Reader::new(body);
    let mut sh = ServerHello {
        legacy_version: r.u16().ok_or(ParseError::Truncated("legacy_version"))?,
        ..ServerHello::default()
    };
    let random = r.bytes(32).ok_or(ParseError::Truncated("random"))?;
    sh.random.copy_from_slice(random);
    sh.is_hrr = sh.random == HRR_RANDOM;
    let sid = r
        .vec8()
        .ok_or(ParseError::Truncated("legacy_session_id_echo"))?;
    if sid.len() > 32 {
        return Err(ParseError::Invalid("legacy_session_id_echo length"));
    }
    sh.session_id = sid.to_vec();
    sh.cipher = r.u16().ok_or(ParseError::Truncated("cipher_suite"))?;
    sh.compression = r
        .u8()
        .ok_or(ParseError::Truncated("legacy_compression_method"))?;
    let mut notes = Vec::new();
    if r.is_empty() {
        return Ok((sh, notes));
    }
    let Some(exts) = r.vec16() else {
        notes.push(
            "ServerHello extensions block overruns the message; kept the fixed part".to_string(),
        );
        return Ok((sh, notes));
    };
    let mut er = Reader::new(exts);
    while !er.is_empty() {
        let (Some(t), Some(data)) = (er.u16(), er.vec16()) else {
            notes.push(
                "ServerHello extension list truncated; kept the extensions before it".to_string(),
            );
            break;
        };
        sh.extensions.push(t);
        let mut d = Reader::new(data);
        let ok = match t {
            EXT_SUPPORTED_VERSIONS => d.u16().map(|v| sh.selected_version = Some(v)),
            EXT_KEY_SHARE => d.u16().map(|g| {
                sh.key_share_group = Some(g);
                // ServerHello: KeyShareEntry (group + key); HRR: selected_group only.
                d.rest();
            }),
            EXT_PRE_SHARED_KEY => d.u16().map(|i| sh.psk_identity = Some(i)),
            EXT_ALPN => d
                .vec16()
                .and_then(|l| Reader::new(l).vec8())
                .map(|p| sh.alpn = Some(String::from_utf8_lossy(p).into_owned())),
            _ => {
                d.rest();
                Some(())
            }
        };
        if ok.is_none() || !d.is_empty() {
            notes.push(format!(
                "malformed {} extension in ServerHello",
                names::extension_name(t)
            ));
        }
    }
    Ok((sh, notes))
}

/// The DER certificates of a Certificate message: TLS <= 1.2 `certificate_list<0..2^24-1>`
/// of `ASN.1Cert<1..2^24-1>` (RFC 5246 7.4.2); TLS 1.3 adds a request context and
/// per-entry extensions (RFC 8446 4.4.2). Stops at `max` entries.
pub fn parse_certificate_list(
    body: &[u8],
    tls13: bool,
    max: usize,
) -> Result<(Vec<&[u8]>, usize), ParseError> {
    let mut r = Reader::new(body);
    if tls13 {
        r.vec8()
            .ok_or(ParseError::Truncated("certificate_request_context"))?;
    }
    let list = r.vec24().ok_or(ParseError::Truncated("certificate_list"))?;
    let mut l = Reader::new(list);
    let mut out = Vec::new();
    let mut total = 0;
    while !l.is_empty() {
        let der = l
            .vec24()
            .ok_or(ParseError::Truncated("certificate entry"))?;
        if tls13 {
            l.vec16()
                .ok_or(ParseError::Truncated("certificate entry extensions"))?;
        }
        total += 1;
        if out.len() < max {
            out.push(der);
        }
    }
    Ok((out, total))
}

/// What a ServerKeyExchange says about the key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyExchangeParams {
    /// ECDHE over a named curve (RFC 8422 5.4, curve_type 3).
    NamedCurve(u16),
    /// ECDHE over explicit curve parameters (curve_type 1 or 2, deprecated).
    ExplicitCurve,
    /// Finite-field DHE with a prime of this many bits (RFC 5246 7.4.3 ServerDHParams).
    Dh { prime_bits: usize },
    /// Something else (RSA export, SRP, unknown).
    Other,
}

/// Reads the parameters at the front of a ServerKeyExchange. `kx` is the cipher suite's
/// key-exchange name from [`names::key_exchange_of`]; PSK variants start with a
/// psk_identity_hint (RFC 4279 2, RFC 5489 2).
pub fn parse_server_key_exchange(body: &[u8], kx: Option<&str>) -> Option<KeyExchangeParams> {
    let mut r = Reader::new(body);
    let kx = kx.unwrap_or("");
    if kx.contains("PSK") {
        r.vec16()?;
        if kx == "PSK" || kx == "RSA_PSK" {
            return Some(KeyExchangeParams::Other);
        }
    }
    let ec = kx.starts_with("ECDH");
    let dh = kx.starts_with("DH");
    if ec || (!dh && r.clone().u8() == Some(3)) {
        return Some(match r.u8()? {
            3 => KeyExchangeParams::NamedCurve(r.u16()?),
            1 | 2 => KeyExchangeParams::ExplicitCurve,
            _ => return None,
        });
    }
    if dh {
        let p = r.vec16()?;
        let lead = p.iter().take_while(|&&b| b == 0).count();
        let sig = p.get(lead..).unwrap_or_default();
        let bits = match sig.first() {
            Some(&b) => (sig.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
            None => 0,
        };
        return Some(KeyExchangeParams::Dh { prime_bits: bits });
    }
    Some(KeyExchangeParams::Other)
}
