//! IANA names for the TLS registries the dissector reports: cipher suites, supported groups,
//! signature schemes, extensions, alerts, versions, handshake types.
//!
//! Unknown codes are values, not errors: they print as `0x1234` (cipher suites, groups,
//! signature schemes, extensions) so a new code point never stops a report. GREASE values
//! (RFC 8701: `0x?A?A` with both bytes equal) print as `GREASE` wherever they appear.
//!
//! The cipher-suite table is the IANA "TLS Cipher Suites" registry (with its key-exchange
//! column), sorted by value for a binary search.

/// RFC 8701 section 2: GREASE values are `{0x0A0A, 0x1A1A, ..., 0xFAFA}`: both bytes equal,
/// low nibble of each `0xA`.
pub fn is_grease(v: u16) -> bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// `0x1234` form for a code point without a name.
pub fn hex16(v: u16) -> String {
    format!("0x{v:04x}")
}

/// Protocol version as users read it: `TLS 1.2`, `SSL 3.0`, `TLS 1.3 (draft 28)`, else `0x....`.
pub fn version_name(v: u16) -> String {
    match v {
        0x0002 => "SSL 2.0".to_string(),
        0x0300 => "SSL 3.0".to_string(),
        0x0301 => "TLS 1.0".to_string(),
        0x0302 => "TLS 1.1".to_string(),
        0x0303 => "TLS 1.2".to_string(),
        0x0304 => "TLS 1.3".to_string(),
        0xfeff => "DTLS 1.0".to_string(),
        0xfefd => "DTLS 1.2".to_string(),
        0xfefc => "DTLS 1.3".to_string(),
        v if v >> 8 == 0x7f => format!("TLS 1.3 (draft {})", v & 0xff),
        v if is_grease(v) => "GREASE".to_string(),
        v => hex16(v),
    }
}

/// TLS 1.3 or one of its drafts (`0x7fNN`, RFC 8446 development versions).
pub fn is_tls13(v: u16) -> bool {
    v == 0x0304 || v >> 8 == 0x7f
}

/// Key-exchange family of a cipher suite, from the registry's key-exchange column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kx {
    None,
    Rsa,
    Dhe,
    Dh,
    Ecdhe,
    Ecdh,
    Psk,
    Srp,
    Krb5,
    Tls13,
    EccPwd,
}

fn cipher_entry(id: u16) -> Option<&'static (u16, &'static str, Kx)> {
    CIPHER_SUITES
        .binary_search_by_key(&id, |e| e.0)
        .ok()
        .and_then(|i| CIPHER_SUITES.get(i))
}

/// IANA name of a cipher suite, `GREASE`, or `0x....`.
pub fn cipher_name(id: u16) -> String {
    if is_grease(id) {
        return "GREASE".to_string();
    }
    match cipher_entry(id) {
        Some(e) => e.1.to_string(),
        None => hex16(id),
    }
}

/// The static name of a registered cipher suite.
pub fn cipher_static_name(id: u16) -> Option<&'static str> {
    cipher_entry(id).map(|e| e.1)
}

/// Key-exchange family of a registered cipher suite.
pub fn cipher_kx(id: u16) -> Option<Kx> {
    cipher_entry(id).map(|e| e.2)
}

/// How a TLS <= 1.2 cipher suite agrees on keys, as reported in `key_exchange`:
/// `ECDHE`, `DHE`, `RSA` (key transport), `ECDH`/`DH` (static), `PSK`, `ECDHE_PSK`,
/// `DHE_PSK`, `RSA_PSK`, `DH_anon`, `ECDH_anon`, `SRP`, `KRB5`, `ECCPWD`; `None` for
/// TLS 1.3 suites (the group decides there), signalling values and unknown suites.
pub fn key_exchange_of(id: u16) -> Option<&'static str> {
    let name = cipher_static_name(id)?;
    let rest = name.strip_prefix("TLS_")?;
    let kx = rest.split("_WITH_").next().unwrap_or(rest);
    let out = if kx.starts_with("ECDHE_PSK") {
        "ECDHE_PSK"
    } else if kx.starts_with("ECDHE") {
        "ECDHE"
    } else if kx.starts_with("DHE_PSK") {
        "DHE_PSK"
    } else if kx.starts_with("DHE") {
        "DHE"
    } else if kx.starts_with("ECDH_anon") {
        "ECDH_anon"
    } else if kx.starts_with("DH_anon") {
        "DH_anon"
    } else if kx.starts_with("ECDH_") {
        "ECDH"
    } else if kx.starts_with("DH_") {
        "DH"
    } else if kx.starts_with("RSA_PSK") {
        "RSA_PSK"
    } else if kx.starts_with("RSA") {
        "RSA"
    } else if kx.starts_with("PSK") {
        "PSK"
    } else if kx.starts_with("SRP") {
        "SRP"
    } else if kx.starts_with("KRB5") {
        "KRB5"
    } else if kx.starts_with("ECCPWD") {
        "ECCPWD"
    } else {
        return None;
    };
    Some(out)
}

/// Supported group (named curve / finite-field group / KEM) name, `GREASE`, or `0x....`.
pub fn group_name(id: u16) -> String {
    if is_grease(id) {
        return "GREASE".to_string();
    }
    let s = match id {
        1 => "sect163k1",
        2 => "sect163r1",
        3 => "sect163r2",
        4 => "sect193r1",
        5 => "sect193r2",
        6 => "sect233k1",
        7 => "sect233r1",
        8 => "sect239k1",
        9 => "sect283k1",
        10 => "sect283r1",
        11 => "sect409k1",
        12 => "sect409r1",
        13 => "sect571k1",
        14 => "sect571r1",
        15 => "secp160k1",
        16 => "secp160r1",
        17 => "secp160r2",
        18 => "secp192k1",
        19 => "secp192r1",
        20 => "secp224k1",
        21 => "secp224r1",
        22 => "secp256k1",
        23 => "secp256r1",
        24 => "secp384r1",
        25 => "secp521r1",
        26 => "brainpoolP256r1",
        27 => "brainpoolP384r1",
        28 => "brainpoolP512r1",
        29 => "x25519",
        30 => "x448",
        31 => "brainpoolP256r1tls13",
        32 => "brainpoolP384r1tls13",
        33 => "brainpoolP512r1tls13",
        34 => "GC256A",
        35 => "GC256B",
        36 => "GC256C",
        37 => "GC256D",
        38 => "GC512A",
        39 => "GC512B",
        40 => "GC512C",
        41 => "curveSM2",
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        512 => "MLKEM512",
        513 => "MLKEM768",
        514 => "MLKEM1024",
        0x11eb => "SecP256r1MLKEM768",
        0x11ec => "X25519MLKEM768",
        0x11ed => "SecP384r1MLKEM1024",
        0x6399 => "X25519Kyber768Draft00",
        0x639a => "SecP256r1Kyber768Draft00",
        0xff01 => "arbitrary_explicit_prime_curves",
        0xff02 => "arbitrary_explicit_char2_curves",
        _ => return hex16(id),
    };
    s.to_string()
}

/// Key-exchange family a TLS 1.3 key_share group implies: `ECDHE`, `DHE`, `MLKEM` or
/// the hybrid `ECDHE-MLKEM`.
pub fn group_kx(id: u16) -> &'static str {
    match id {
        256..=511 => "DHE",
        512..=514 => "MLKEM",
        0x11eb..=0x11ed | 0x6399 | 0x639a => "ECDHE-MLKEM",
        _ => "ECDHE",
    }
}

/// SignatureScheme (RFC 8446 4.2.3) name; TLS 1.2 hash/signature pairs (RFC 5246 7.4.1.4.1)
/// without a scheme name print as `rsa_pkcs1_sha224` style; GREASE; else `0x....`.
pub fn sigalg_name(id: u16) -> String {
    if is_grease(id) {
        return "GREASE".to_string();
    }
    let s = match id {
        0x0201 => "rsa_pkcs1_sha1",
        0x0203 => "ecdsa_sha1",
        0x0401 => "rsa_pkcs1_sha256",
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0420 => "rsa_pkcs1_sha256_legacy",
        0x0501 => "rsa_pkcs1_sha384",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0520 => "rsa_pkcs1_sha384_legacy",
        0x0601 => "rsa_pkcs1_sha512",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0620 => "rsa_pkcs1_sha512_legacy",
        0x0704 => "eccsi_sha256",
        0x0705 => "iso_ibs1",
        0x0706 => "iso_ibs2",
        0x0707 => "iso_chinese_ibs",
        0x0708 => "sm2sig_sm3",
        0x0709 => "gostr34102012_256a",
        0x070a => "gostr34102012_256b",
        0x070b => "gostr34102012_256c",
        0x070c => "gostr34102012_256d",
        0x070d => "gostr34102012_512a",
        0x070e => "gostr34102012_512b",
        0x070f => "gostr34102012_512c",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0809 => "rsa_pss_pss_sha256",
        0x080a => "rsa_pss_pss_sha384",
        0x080b => "rsa_pss_pss_sha512",
        0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
        0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
        0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
        0x0904 => "mldsa44",
        0x0905 => "mldsa65",
        0x0906 => "mldsa87",
        _ => {
            // RFC 5246 7.4.1.4.1: HashAlgorithm (1 md5 .. 6 sha512) x SignatureAlgorithm
            // (1 rsa, 2 dsa, 3 ecdsa).
            let hash = match id >> 8 {
                1 => "md5",
                2 => "sha1",
                3 => "sha224",
                4 => "sha256",
                5 => "sha384",
                6 => "sha512",
                _ => return hex16(id),
            };
            return match id & 0xff {
                1 => format!("rsa_pkcs1_{hash}"),
                2 => format!("dsa_{hash}"),
                3 => format!("ecdsa_{hash}"),
                _ => hex16(id),
            };
        }
    };
    s.to_string()
}

/// TLS ExtensionType name (IANA registry), `GREASE`, or `0x....`.
pub fn extension_name(id: u16) -> String {
    if is_grease(id) {
        return "GREASE".to_string();
    }
    let s = match id {
        0 => "server_name",
        1 => "max_fragment_length",
        2 => "client_certificate_url",
        3 => "trusted_ca_keys",
        4 => "truncated_hmac",
        5 => "status_request",
        6 => "user_mapping",
        7 => "client_authz",
        8 => "server_authz",
        9 => "cert_type",
        10 => "supported_groups",
        11 => "ec_point_formats",
        12 => "srp",
        13 => "signature_algorithms",
        14 => "use_srtp",
        15 => "heartbeat",
        16 => "application_layer_protocol_negotiation",
        17 => "status_request_v2",
        18 => "signed_certificate_timestamp",
        19 => "client_certificate_type",
        20 => "server_certificate_type",
        21 => "padding",
        22 => "encrypt_then_mac",
        23 => "extended_master_secret",
        24 => "token_binding",
        25 => "cached_info",
        26 => "tls_lts",
        27 => "compress_certificate",
        28 => "record_size_limit",
        29 => "pwd_protect",
        30 => "pwd_clear",
        31 => "password_salt",
        32 => "ticket_pinning",
        33 => "tls_cert_with_extern_psk",
        34 => "delegated_credential",
        35 => "session_ticket",
        36 => "TLMSP",
        37 => "TLMSP_proxying",
        38 => "TLMSP_delegate",
        39 => "supported_ekt_ciphers",
        41 => "pre_shared_key",
        42 => "early_data",
        43 => "supported_versions",
        44 => "cookie",
        45 => "psk_key_exchange_modes",
        47 => "certificate_authorities",
        48 => "oid_filters",
        49 => "post_handshake_auth",
        50 => "signature_algorithms_cert",
        51 => "key_share",
        52 => "transparency_info",
        53 => "connection_id_deprecated",
        54 => "connection_id",
        55 => "external_id_hash",
        56 => "external_session_id",
        57 => "quic_transport_parameters",
        58 => "ticket_request",
        59 => "dnssec_chain",
        60 => "sequence_number_encryption_algorithms",
        61 => "rrc",
        62 => "tls_flags",
        13172 => "next_protocol_negotiation",
        17513 => "application_settings_old",
        17613 => "application_settings",
        30031 => "channel_id_old",
        30032 => "channel_id",
        0xfe0d => "encrypted_client_hello",
        0xff01 => "renegotiation_info",
        0xffa5 => "quic_transport_parameters_draft",
        0xffce => "encrypted_server_name",
        _ => return hex16(id),
    };
    s.to_string()
}

/// AlertDescription name (RFC 8446 6, RFC 5246 7.2 and later registrations), else `alert_N`.
pub fn alert_name(desc: u8) -> String {
    let s = match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        117 => "general_error",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return format!("alert_{desc}"),
    };
    s.to_string()
}

/// PskKeyExchangeMode (RFC 8446 4.2.9).
pub fn psk_mode_name(m: u8) -> String {
    match m {
        0 => "psk_ke".to_string(),
        1 => "psk_dhe_ke".to_string(),
        // RFC 8701 section 2: 0x0B, 0x2A, 0x49, ... 0xE4 (0x0B + 0x1F * n).
        m if m % 0x1f == 0x0b => "GREASE".to_string(),
        m => format!("0x{m:02x}"),
    }
}

/// HandshakeType name (RFC 8446 4, RFC 5246 7.4 and later registrations).
pub fn handshake_name(t: u8) -> &'static str {
    match t {
        0 => "hello_request",
        1 => "client_hello",
        2 => "server_hello",
        3 => "hello_verify_request",
        4 => "new_session_ticket",
        5 => "end_of_early_data",
        6 => "hello_retry_request",
        8 => "encrypted_extensions",
        9 => "request_connection_id",
        10 => "new_connection_id",
        11 => "certificate",
        12 => "server_key_exchange",
        13 => "certificate_request",
        14 => "server_hello_done",
        15 => "certificate_verify",
        16 => "client_key_exchange",
        17 => "client_certificate_request",
        20 => "finished",
        21 => "certificate_url",
        22 => "certificate_status",
        23 => "supplemental_data",
        24 => "key_update",
        25 => "compressed_certificate",
        26 => "ekt_key",
        67 => "next_protocol",
        254 => "message_hash",
        _ => "unknown",
    }
}

/// Whether a handshake type is one a peer can send (used to reject garbage after a loss).
pub fn is_known_handshake_type(t: u8) -> bool {
    handshake_name(t) != "unknown"
}

/// The IANA TLS Cipher Suites registry: value, description, key-exchange family.
#[rustfmt::skip]
static CIPHER_SUITES: &[(u16, &str, Kx)] = &[
    (0x0000, "TLS_NULL_WITH_NULL_NULL", Kx::None),
    (0x0001, "TLS_RSA_WITH_NULL_MD5", Kx::Rsa),
    (0x0002, "TLS_RSA_WITH_NULL_SHA", Kx::Rsa),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", Kx::Rsa),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", Kx::Rsa),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", Kx::Rsa),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", Kx::Rsa),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", Kx::Rsa),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", Kx::Rsa),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", Kx::Rsa),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Rsa),
    (0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA", Kx::Dh),
    (0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA", Kx::Dh),
    (0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA", Kx::Dh),
    (0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA", Kx::Dh),
    (0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA", Kx::Dh),
    (0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Dh),
    (0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", Kx::Dhe),
    (0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", Kx::Dhe),
    (0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", Kx::Dhe),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", Kx::Dhe),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", Kx::Dhe),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Dhe),
    (0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", Kx::Dh),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", Kx::Dh),
    (0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", Kx::Dh),
    (0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA", Kx::Dh),
    (0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", Kx::Dh),
    (0x001e, "TLS_KRB5_WITH_DES_CBC_SHA", Kx::Krb5),
    (0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA", Kx::Krb5),
    (0x0020, "TLS_KRB5_WITH_RC4_128_SHA", Kx::Krb5),
    (0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA", Kx::Krb5),
    (0x0022, "TLS_KRB5_WITH_DES_CBC_MD5", Kx::Krb5),
    (0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5", Kx::Krb5),
    (0x0024, "TLS_KRB5_WITH_RC4_128_MD5", Kx::Krb5),
    (0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5", Kx::Krb5),
    (0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", Kx::Krb5),
    (0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA", Kx::Krb5),
    (0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA", Kx::Krb5),
    (0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5", Kx::Krb5),
    (0x002a, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5", Kx::Krb5),
    (0x002b, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5", Kx::Krb5),
    (0x002c, "TLS_PSK_WITH_NULL_SHA", Kx::Psk),
    (0x002d, "TLS_DHE_PSK_WITH_NULL_SHA", Kx::Dhe),
    (0x002e, "TLS_RSA_PSK_WITH_NULL_SHA", Kx::Rsa),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", Kx::Rsa),
    (0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", Kx::Dh),
    (0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", Kx::Dh),
    (0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", Kx::Dhe),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", Kx::Dhe),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", Kx::Dh),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", Kx::Rsa),
    (0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", Kx::Dh),
    (0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", Kx::Dh),
    (0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", Kx::Dhe),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", Kx::Dhe),
    (0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA", Kx::Dh),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256", Kx::Rsa),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", Kx::Rsa),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", Kx::Rsa),
    (0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256", Kx::Dh),
    (0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256", Kx::Dh),
    (0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", Kx::Dhe),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", Kx::Rsa),
    (0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA", Kx::Dh),
    (0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA", Kx::Dh),
    (0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", Kx::Dhe),
    (0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", Kx::Dhe),
    (0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", Kx::Dh),
    (0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5", Kx::Rsa),
    (0x0061, "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5", Kx::Rsa),
    (0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", Kx::Rsa),
    (0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA", Kx::Dhe),
    (0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", Kx::Rsa),
    (0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA", Kx::Dhe),
    (0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA", Kx::Dhe),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", Kx::Dhe),
    (0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256", Kx::Dh),
    (0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256", Kx::Dh),
    (0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", Kx::Dhe),
    (0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", Kx::Dhe),
    (0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", Kx::Dh),
    (0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", Kx::Dh),
    (0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", Kx::Rsa),
    (0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA", Kx::Dh),
    (0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA", Kx::Dh),
    (0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", Kx::Dhe),
    (0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", Kx::Dhe),
    (0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", Kx::Dh),
    (0x008a, "TLS_PSK_WITH_RC4_128_SHA", Kx::Psk),
    (0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", Kx::Psk),
    (0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", Kx::Psk),
    (0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA", Kx::Psk),
    (0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA", Kx::Dhe),
    (0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", Kx::Dhe),
    (0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", Kx::Dhe),
    (0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", Kx::Dhe),
    (0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA", Kx::Rsa),
    (0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", Kx::Rsa),
    (0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", Kx::Rsa),
    (0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", Kx::Rsa),
    (0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", Kx::Rsa),
    (0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA", Kx::Dh),
    (0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA", Kx::Dh),
    (0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA", Kx::Dhe),
    (0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", Kx::Dhe),
    (0x009b, "TLS_DH_anon_WITH_SEED_CBC_SHA", Kx::Dh),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", Kx::Rsa),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", Kx::Rsa),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", Kx::Dhe),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", Kx::Dhe),
    (0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256", Kx::Dh),
    (0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384", Kx::Dh),
    (0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", Kx::Dhe),
    (0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", Kx::Dhe),
    (0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256", Kx::Dh),
    (0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384", Kx::Dh),
    (0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", Kx::Dh),
    (0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", Kx::Dh),
    (0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256", Kx::Psk),
    (0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384", Kx::Psk),
    (0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", Kx::Dhe),
    (0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", Kx::Dhe),
    (0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", Kx::Rsa),
    (0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", Kx::Rsa),
    (0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256", Kx::Psk),
    (0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384", Kx::Psk),
    (0x00b0, "TLS_PSK_WITH_NULL_SHA256", Kx::Psk),
    (0x00b1, "TLS_PSK_WITH_NULL_SHA384", Kx::Psk),
    (0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", Kx::Dhe),
    (0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", Kx::Dhe),
    (0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256", Kx::Dhe),
    (0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384", Kx::Dhe),
    (0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", Kx::Rsa),
    (0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", Kx::Rsa),
    (0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256", Kx::Rsa),
    (0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384", Kx::Rsa),
    (0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Rsa),
    (0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dh),
    (0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dh),
    (0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dhe),
    (0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dhe),
    (0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dh),
    (0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", Kx::Rsa),
    (0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256", Kx::Dh),
    (0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256", Kx::Dh),
    (0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", Kx::Dhe),
    (0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", Kx::Dhe),
    (0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", Kx::Dh),
    (0x00c6, "TLS_SM4_GCM_SM3", Kx::Tls13),
    (0x00c7, "TLS_SM4_CCM_SM3", Kx::Tls13),
    (0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", Kx::None),
    (0x1301, "TLS_AES_128_GCM_SHA256", Kx::Tls13),
    (0x1302, "TLS_AES_256_GCM_SHA384", Kx::Tls13),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256", Kx::Tls13),
    (0x1304, "TLS_AES_128_CCM_SHA256", Kx::Tls13),
    (0x1305, "TLS_AES_128_CCM_8_SHA256", Kx::Tls13),
    (0x1306, "TLS_AEGIS_256_SHA512", Kx::Tls13),
    (0x1307, "TLS_AEGIS_128L_SHA256", Kx::Tls13),
    (0x5600, "TLS_FALLBACK_SCSV", Kx::None),
    (0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", Kx::Ecdh),
    (0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", Kx::Ecdh),
    (0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", Kx::Ecdh),
    (0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", Kx::Ecdh),
    (0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", Kx::Ecdh),
    (0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", Kx::Ecdhe),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", Kx::Ecdhe),
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", Kx::Ecdhe),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", Kx::Ecdhe),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", Kx::Ecdhe),
    (0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA", Kx::Ecdh),
    (0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA", Kx::Ecdh),
    (0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Ecdh),
    (0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", Kx::Ecdh),
    (0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", Kx::Ecdh),
    (0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA", Kx::Ecdhe),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", Kx::Ecdhe),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Ecdhe),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Kx::Ecdhe),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", Kx::Ecdhe),
    (0xc015, "TLS_ECDH_anon_WITH_NULL_SHA", Kx::Ecdh),
    (0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA", Kx::Ecdh),
    (0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", Kx::Ecdh),
    (0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", Kx::Ecdh),
    (0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", Kx::Ecdh),
    (0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", Kx::Srp),
    (0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA", Kx::Srp),
    (0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", Kx::Srp),
    (0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", Kx::Srp),
    (0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", Kx::Srp),
    (0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", Kx::Srp),
    (0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", Kx::Srp),
    (0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", Kx::Srp),
    (0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", Kx::Srp),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", Kx::Ecdhe),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", Kx::Ecdhe),
    (0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", Kx::Ecdh),
    (0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", Kx::Ecdh),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", Kx::Ecdhe),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", Kx::Ecdhe),
    (0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", Kx::Ecdh),
    (0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", Kx::Ecdh),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Kx::Ecdhe),
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", Kx::Ecdhe),
    (0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", Kx::Ecdh),
    (0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", Kx::Ecdh),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Kx::Ecdhe),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", Kx::Ecdhe),
    (0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", Kx::Ecdh),
    (0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", Kx::Ecdh),
    (0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA", Kx::Ecdhe),
    (0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA", Kx::Ecdhe),
    (0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", Kx::Ecdhe),
    (0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", Kx::Ecdhe),
    (0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", Kx::Ecdhe),
    (0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", Kx::Ecdhe),
    (0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA", Kx::Ecdhe),
    (0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256", Kx::Ecdhe),
    (0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384", Kx::Ecdhe),
    (0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", Kx::Rsa),
    (0xc03d, "TLS_RSA_WITH_ARIA_256_CBC_SHA384", Kx::Rsa),
    (0xc03e, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256", Kx::Dh),
    (0xc03f, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384", Kx::Dh),
    (0xc040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256", Kx::Dh),
    (0xc041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384", Kx::Dh),
    (0xc042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256", Kx::Dhe),
    (0xc043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384", Kx::Dhe),
    (0xc044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256", Kx::Dhe),
    (0xc045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384", Kx::Dhe),
    (0xc046, "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256", Kx::Dh),
    (0xc047, "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384", Kx::Dh),
    (0xc048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc04a, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256", Kx::Ecdh),
    (0xc04b, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384", Kx::Ecdh),
    (0xc04c, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc04d, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc04e, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256", Kx::Ecdh),
    (0xc04f, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384", Kx::Ecdh),
    (0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", Kx::Rsa),
    (0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", Kx::Rsa),
    (0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", Kx::Dhe),
    (0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", Kx::Dhe),
    (0xc054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256", Kx::Dh),
    (0xc055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384", Kx::Dh),
    (0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", Kx::Dhe),
    (0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", Kx::Dhe),
    (0xc058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256", Kx::Dh),
    (0xc059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384", Kx::Dh),
    (0xc05a, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256", Kx::Dh),
    (0xc05b, "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384", Kx::Dh),
    (0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", Kx::Ecdhe),
    (0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", Kx::Ecdhe),
    (0xc05e, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256", Kx::Ecdh),
    (0xc05f, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384", Kx::Ecdh),
    (0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", Kx::Ecdhe),
    (0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", Kx::Ecdhe),
    (0xc062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256", Kx::Ecdh),
    (0xc063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384", Kx::Ecdh),
    (0xc064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256", Kx::Psk),
    (0xc065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384", Kx::Psk),
    (0xc066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256", Kx::Dhe),
    (0xc067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384", Kx::Dhe),
    (0xc068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256", Kx::Rsa),
    (0xc069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384", Kx::Rsa),
    (0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256", Kx::Psk),
    (0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384", Kx::Psk),
    (0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", Kx::Dhe),
    (0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", Kx::Dhe),
    (0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", Kx::Rsa),
    (0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", Kx::Rsa),
    (0xc070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Ecdh),
    (0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", Kx::Ecdh),
    (0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256", Kx::Ecdh),
    (0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384", Kx::Ecdh),
    (0xc07a, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Rsa),
    (0xc07b, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Rsa),
    (0xc07c, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dhe),
    (0xc07d, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dhe),
    (0xc07e, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dh),
    (0xc07f, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dh),
    (0xc080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dhe),
    (0xc081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dhe),
    (0xc082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dh),
    (0xc083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dh),
    (0xc084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dh),
    (0xc085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dh),
    (0xc086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Ecdhe),
    (0xc087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Ecdhe),
    (0xc088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Ecdh),
    (0xc089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Ecdh),
    (0xc08a, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Ecdhe),
    (0xc08b, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Ecdhe),
    (0xc08c, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256", Kx::Ecdh),
    (0xc08d, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384", Kx::Ecdh),
    (0xc08e, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256", Kx::Psk),
    (0xc08f, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384", Kx::Psk),
    (0xc090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256", Kx::Dhe),
    (0xc091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384", Kx::Dhe),
    (0xc092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256", Kx::Rsa),
    (0xc093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384", Kx::Rsa),
    (0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256", Kx::Psk),
    (0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384", Kx::Psk),
    (0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", Kx::Dhe),
    (0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", Kx::Dhe),
    (0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256", Kx::Rsa),
    (0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384", Kx::Rsa),
    (0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", Kx::Ecdhe),
    (0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", Kx::Ecdhe),
    (0xc09c, "TLS_RSA_WITH_AES_128_CCM", Kx::Rsa),
    (0xc09d, "TLS_RSA_WITH_AES_256_CCM", Kx::Rsa),
    (0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM", Kx::Dhe),
    (0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM", Kx::Dhe),
    (0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8", Kx::Rsa),
    (0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8", Kx::Rsa),
    (0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", Kx::Dhe),
    (0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", Kx::Dhe),
    (0xc0a4, "TLS_PSK_WITH_AES_128_CCM", Kx::Psk),
    (0xc0a5, "TLS_PSK_WITH_AES_256_CCM", Kx::Psk),
    (0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM", Kx::Dhe),
    (0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM", Kx::Dhe),
    (0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8", Kx::Psk),
    (0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8", Kx::Psk),
    (0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", Kx::Psk),
    (0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8", Kx::Psk),
    (0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", Kx::Ecdhe),
    (0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", Kx::Ecdhe),
    (0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", Kx::Ecdhe),
    (0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", Kx::Ecdhe),
    (0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", Kx::EccPwd),
    (0xc0b1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384", Kx::EccPwd),
    (0xc0b2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256", Kx::EccPwd),
    (0xc0b3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384", Kx::EccPwd),
    (0xc0b4, "TLS_SHA256_SHA256", Kx::Tls13),
    (0xc0b5, "TLS_SHA384_SHA384", Kx::Tls13),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Kx::Ecdhe),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", Kx::Ecdhe),
    (0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Kx::Dhe),
    (0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", Kx::Psk),
    (0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", Kx::Ecdhe),
    (0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", Kx::Dhe),
    (0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", Kx::Rsa),
    (0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", Kx::Ecdhe),
    (0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", Kx::Ecdhe),
    (0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", Kx::Ecdhe),
    (0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", Kx::Ecdhe),
];
