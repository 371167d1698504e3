//! Mnemonics from the IANA "Domain Name System (DNS) Parameters" registries: RR types,
//! classes, RCODEs, opcodes, EDNS option codes and SVCB parameter keys.
//!
//! Every function is total: a code without a mnemonic prints in the generic form the
//! registries' RFCs define (`TYPE123` and `CLASS3` from RFC 3597 §5, `RCODE23`, `key667`
//! from RFC 9460 §2.1), so unknown codes are values, never errors.

use std::borrow::Cow;
use std::fmt;

/// A resource-record type (also used for QTYPEs). A newtype rather than an enum: the
/// registry holds ~90 codes and grows, and every `u16` must stay representable, so the
/// known ones are associated constants that `match` can use as patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RrType(pub u16);

impl RrType {
    pub const A: RrType = RrType(1);
    pub const NS: RrType = RrType(2);
    pub const MD: RrType = RrType(3);
    pub const MF: RrType = RrType(4);
    pub const CNAME: RrType = RrType(5);
    pub const SOA: RrType = RrType(6);
    pub const MB: RrType = RrType(7);
    pub const MG: RrType = RrType(8);
    pub const MR: RrType = RrType(9);
    pub const PTR: RrType = RrType(12);
    pub const HINFO: RrType = RrType(13);
    pub const MINFO: RrType = RrType(14);
    pub const MX: RrType = RrType(15);
    pub const TXT: RrType = RrType(16);
    pub const RP: RrType = RrType(17);
    pub const AFSDB: RrType = RrType(18);
    pub const RT: RrType = RrType(21);
    pub const AAAA: RrType = RrType(28);
    pub const SRV: RrType = RrType(33);
    pub const NAPTR: RrType = RrType(35);
    pub const KX: RrType = RrType(36);
    pub const DNAME: RrType = RrType(39);
    pub const OPT: RrType = RrType(41);
    pub const DS: RrType = RrType(43);
    pub const SSHFP: RrType = RrType(44);
    pub const RRSIG: RrType = RrType(46);
    pub const NSEC: RrType = RrType(47);
    pub const DNSKEY: RrType = RrType(48);
    pub const NSEC3: RrType = RrType(50);
    pub const NSEC3PARAM: RrType = RrType(51);
    pub const TLSA: RrType = RrType(52);
    pub const SMIMEA: RrType = RrType(53);
    pub const CDS: RrType = RrType(59);
    pub const CDNSKEY: RrType = RrType(60);
    pub const SVCB: RrType = RrType(64);
    pub const HTTPS: RrType = RrType(65);
    pub const SPF: RrType = RrType(99);
    pub const ANY: RrType = RrType(255);
    pub const CAA: RrType = RrType(257);

    /// The IANA mnemonic, or `None` for a code without one.
    pub fn mnemonic(self) -> Option<&'static str> {
        type_mnemonic(self.0)
    }

    /// The mnemonic, or `TYPEn` (RFC 3597 §5).
    pub fn name(self) -> Cow<'static, str> {
        type_name(self.0)
    }
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// IANA RR TYPE mnemonic (registry of 2024), `None` when unassigned or private.
pub fn type_mnemonic(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        66 => "DSYNC",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        128 => "NXNAME",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        // IANA lists 255 as "*"; every tool (dig, tshark) prints ANY.
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        261 => "RESINFO",
        262 => "WALLET",
        263 => "CLA",
        264 => "IPN",
        32768 => "TA",
        32769 => "DLV",
        _ => return None,
    })
}

/// RR type mnemonic, `TYPEn` for a code without one (RFC 3597 §5).
pub fn type_name(t: u16) -> Cow<'static, str> {
    match type_mnemonic(t) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(format!("TYPE{t}")),
    }
}

/// RCODE mnemonic for the 12-bit value (header bits plus EDNS extended bits), `RCODEn`
/// for a code without one. 16 is BADVERS here: in a message header (as opposed to a TSIG
/// record's error field) RFC 6891 §9 gives it that meaning.
pub fn rcode_name(rcode: u16) -> Cow<'static, str> {
    let m = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => return Cow::Owned(format!("RCODE{rcode}")),
    };
    Cow::Borrowed(m)
}

/// OPCODE mnemonic, `OPCODEn` for a code without one.
pub fn opcode_name(opcode: u8) -> String {
    let m = match opcode {
        0 => "QUERY",
        1 => "IQUERY",
        2 => "STATUS",
        4 => "NOTIFY",
        5 => "UPDATE",
        6 => "DSO",
        _ => return format!("OPCODE{opcode}"),
    };
    m.to_string()
}

/// CLASS mnemonic, `CLASSn` for a code without one (RFC 3597 §5).
pub fn class_name(class: u16) -> String {
    let m = match class {
        1 => "IN",
        3 => "CH",
        4 => "HS",
        254 => "NONE",
        255 => "ANY",
        _ => return format!("CLASS{class}"),
    };
    m.to_string()
}

/// EDNS(0) option code mnemonic (IANA "DNS EDNS0 Option Codes"), `None` when unknown.
pub fn edns_option_mnemonic(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "LLQ",
        2 => "UL",
        3 => "NSID",
        5 => "DAU",
        6 => "DHU",
        7 => "N3U",
        8 => "ECS",
        9 => "EXPIRE",
        10 => "COOKIE",
        11 => "TCP-KEEPALIVE",
        12 => "PADDING",
        13 => "CHAIN",
        14 => "KEY-TAG",
        15 => "EDE",
        16 => "CLIENT-TAG",
        17 => "SERVER-TAG",
        18 => "REPORT-CHANNEL",
        19 => "ZONEVERSION",
        _ => return None,
    })
}

/// SvcParamKey mnemonic (RFC 9460 §14.3.2 registry), `None` when unknown (then `keyNNNNN`).
pub fn svc_param_mnemonic(key: u16) -> Option<&'static str> {
    Some(match key {
        0 => "mandatory",
        1 => "alpn",
        2 => "no-default-alpn",
        3 => "port",
        4 => "ipv4hint",
        5 => "ech",
        6 => "ipv6hint",
        7 => "dohpath",
        8 => "ohttp",
        9 => "tls-supported-groups",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_match_iana_mnemonics() {
        let want = [
            (1, "A"),
            (2, "NS"),
            (5, "CNAME"),
            (6, "SOA"),
            (12, "PTR"),
            (15, "MX"),
            (16, "TXT"),
            (28, "AAAA"),
            (33, "SRV"),
            (39, "DNAME"),
            (41, "OPT"),
            (43, "DS"),
            (46, "RRSIG"),
            (47, "NSEC"),
            (48, "DNSKEY"),
            (50, "NSEC3"),
            (64, "SVCB"),
            (65, "HTTPS"),
            (250, "TSIG"),
            (255, "ANY"),
            (257, "CAA"),
        ];
        for (code, name) in want {
            assert_eq!(type_name(code), name);
        }
        assert_eq!(type_name(123), "TYPE123");
        assert_eq!(type_name(65534), "TYPE65534");
        assert_eq!(type_name(0), "TYPE0");
        assert_eq!(RrType(65).to_string(), "HTTPS");
        assert_eq!(RrType(999).to_string(), "TYPE999");
        assert_eq!(RrType::HTTPS.name(), "HTTPS");
    }

    #[test]
    fn rcode_names() {
        let want = [
            (0, "NOERROR"),
            (1, "FORMERR"),
            (2, "SERVFAIL"),
            (3, "NXDOMAIN"),
            (4, "NOTIMP"),
            (5, "REFUSED"),
            (6, "YXDOMAIN"),
            (7, "YXRRSET"),
            (8, "NXRRSET"),
            (9, "NOTAUTH"),
            (10, "NOTZONE"),
            (16, "BADVERS"),
            (23, "BADCOOKIE"),
        ];
        for (code, name) in want {
            assert_eq!(rcode_name(code), name);
        }
        assert_eq!(rcode_name(12), "RCODE12");
        assert_eq!(rcode_name(24), "RCODE24");
        assert_eq!(rcode_name(4095), "RCODE4095");
    }

    #[test]
    fn class_opcode_and_param_names() {
        assert_eq!(class_name(1), "IN");
        assert_eq!(class_name(3), "CH");
        assert_eq!(class_name(32769), "CLASS32769");
        assert_eq!(opcode_name(0), "QUERY");
        assert_eq!(opcode_name(5), "UPDATE");
        assert_eq!(opcode_name(3), "OPCODE3");
        assert_eq!(svc_param_mnemonic(6), Some("ipv6hint"));
        assert_eq!(svc_param_mnemonic(667), None);
        assert_eq!(edns_option_mnemonic(8), Some("ECS"));
        assert_eq!(edns_option_mnemonic(65001), None);
    }
}
