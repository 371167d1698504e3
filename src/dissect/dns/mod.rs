//! DNS messages (RFC 1035 §4) over UDP, TCP (RFC 7766) and DoH (RFC 8484).
//!
//! Consumes: one DNS message as bytes (a UDP payload, a reassembled TCP message from
//! [`DnsTcpStream`], a DoH body or `dns=` parameter from [`doh::get_query`]).
//!
//! Produces: a [`DnsMessage`]: header fields, questions, answer/authority/additional
//! records with their data in dig's presentation form (see [`rdata`]), the EDNS OPT
//! pseudo-record apart in [`DnsMessage::edns`], and `stopped`: where and why parsing ended
//! early, if it did. Records keep their presentation form (RFC 1035 master-file syntax);
//! [`DnsMessage::addresses`] and [`DnsMessage::cnames`] give stitching typed values.
//!
//! Guarantees:
//! - Keep what parsed. The only hard error is a message shorter than its 12-byte header.
//!   After that, a question or record that cannot be located (cut short, or an owner name
//!   that does not decode) stops parsing with [`DnsMessage::stopped`] set and everything
//!   before it kept. A record whose envelope is sound (its `RDLENGTH` fits the message)
//!   but whose rdata is not is listed with `data` = [`MALFORMED_DATA`] and
//!   [`DnsRecord::rdata_error`], and parsing goes on with the next record: unknown or
//!   broken types never cost the rest of the message.
//! - Never trusts a count, length or pointer from the wire: every read is bounds-checked,
//!   compression pointers go strictly backwards with a jump cap and a 255-octet name cap
//!   ([`name`]), vectors are reserved no larger than the bytes left can fill.
//! - Zero-copy while parsing: names and rdata are read in place from the borrowed
//!   buffer; the only allocations are the presentation strings and the vectors that hold them.
//! - Never panics, whatever the input (truncation-at-every-offset and random-input tests).

pub mod doh;
pub mod doq;
pub mod encoding;
pub mod name;
pub mod names;
pub mod rdata;
mod tcp;

use std::fmt;
use std::net::IpAddr;

use crate::warning::WarningKind;
pub use doh::DohMessage;
pub use name::NameError;
pub use names::{class_name, opcode_name, rcode_name, type_name, RrType};
pub use rdata::RdataError;
pub use tcp::{DnsTcpMessage, DnsTcpStream, MAX_QUEUED_MESSAGES, MAX_TCP_MESSAGE};

/// The fixed header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// `data` of a record whose envelope is sound but whose rdata is not.
pub const MALFORMED_DATA: &str = "<malformed>";

/// The four parts of a message after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Question => "question",
            Section::Answer => "answer",
            Section::Authority => "authority",
            Section::Additional => "additional",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why parsing stopped. Offsets are from the start of the message; `index` is the 0-based
/// entry within its section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// Fewer than [`HEADER_LEN`] bytes: not a DNS message at all.
    ShortHeader { len: usize },
    /// The message ends inside this entry (need more bytes: a snaplen cut, a partial TCP
    /// message, a counts field promising more than was sent).
    Truncated {
        section: Section,
        index: u16,
        offset: usize,
    },
    /// The entry's owner name at `offset` does not decode, so no later entry can be found.
    BadName {
        section: Section,
        index: u16,
        offset: usize,
        error: NameError,
    },
}

impl DnsError {
    /// The warning kind for this error: `truncated` or `malformed`.
    pub fn kind(&self) -> WarningKind {
        match self {
            DnsError::ShortHeader { .. } | DnsError::Truncated { .. } => WarningKind::Truncated,
            DnsError::BadName { .. } => WarningKind::Malformed,
        }
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DnsError::ShortHeader { len } => write!(
                f,
                "DNS message of {len} bytes is shorter than its 12-byte header"
            ),
            DnsError::Truncated {
                section,
                index,
                offset,
            } => {
                write!(
                    f,
                    "DNS message cut short in {section}[{index}] at offset {offset}"
                )
            }
            DnsError::BadName {
                section,
                index,
                offset,
                error,
            } => {
                write!(f, "DNS {section}[{index}] at offset {offset}: {error}")
            }
        }
    }
}

impl std::error::Error for DnsError {}

/// The header fields (RFC 1035 §4.1.1, AD and CD from RFC 4035 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    /// QR: this is a response.
    pub response: bool,
    pub opcode: u8,
    pub authoritative: bool,
    /// TC: the answer did not fit (RFC 1035 §4.1.1; retry over TCP per RFC 7766 §5).
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    /// The reserved Z bit.
    pub z: bool,
    pub authentic_data: bool,
    pub checking_disabled: bool,
    /// The header's 4 RCODE bits alone; [`DnsMessage::rcode`] adds the EDNS bits.
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    /// Reads the header; [`DnsError::ShortHeader`] when `buf` is shorter than 12 bytes.
    pub fn parse(buf: &[u8]) -> Result<Header, DnsError> {
        let h: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DnsError::ShortHeader { len: buf.len() })?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let flags = word(2);
        let bit = |n: u16| flags & (1 << n) != 0;
        Ok(Header {
            id: word(0),
            response: bit(15),
            opcode: ((flags >> 11) & 0xF) as u8,
            authoritative: bit(10),
            truncated: bit(9),
            recursion_desired: bit(8),
            recursion_available: bit(7),
            z: bit(6),
            authentic_data: bit(5),
            checking_disabled: bit(4),
            rcode: (flags & 0xF) as u8,
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Presentation form, case as on the wire, no trailing dot.
    pub name: String,
    pub qtype: RrType,
    pub qclass: u16,
}

/// One resource record of the answer, authority or additional section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name, presentation form.
    pub name: String,
    pub rtype: RrType,
    /// CLASS (for OPT: the requestor's UDP payload size).
    pub class: u16,
    /// TTL (for OPT: extended RCODE, version and flags).
    pub ttl: u32,
    /// Presentation form of the rdata, or [`MALFORMED_DATA`].
    pub data: String,
    /// The address of an A or AAAA record whose rdata is sound.
    pub addr: Option<IpAddr>,
    /// What a sound SVCB or HTTPS record offers (ALPN ids, port).
    pub svcb: Option<Box<rdata::SvcbFacts>>,
    /// Why `data` is [`MALFORMED_DATA`].
    pub rdata_error: Option<RdataError>,
    /// Offset of the record's owner name in the message.
    pub offset: usize,
}

impl DnsRecord {
    /// The target of a sound CNAME record.
    pub fn cname_target(&self) -> Option<&str> {
        (self.rtype == RrType::CNAME && self.rdata_error.is_none()).then_some(self.data.as_str())
    }
}

/// The EDNS(0) OPT pseudo-record (RFC 6891 §6.1), taken out of the additional section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (the OPT record's CLASS).
    pub udp_payload_size: u16,
    /// Upper 8 bits of the 12-bit RCODE.
    pub ext_rcode: u8,
    pub version: u8,
    /// DO: DNSSEC answers wanted (RFC 3225).
    pub dnssec_ok: bool,
    /// The 15 Z bits after DO.
    pub z: u16,
    /// The record itself; its `data` reads `udp=1232 version=0 do ECS=192.0.2.0/24/0 ...`.
    pub record: DnsRecord,
}

impl Edns {
    fn from_record(record: DnsRecord) -> Edns {
        let ttl = record.ttl;
        Edns {
            udp_payload_size: record.class,
            ext_rcode: (ttl >> 24) as u8,
            version: (ttl >> 16) as u8,
            dnssec_ok: ttl & 0x8000 != 0,
            z: (ttl & 0x7FFF) as u16,
            record,
        }
    }
}

/// One DNS message: what parsed, and where parsing stopped if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    pub header: Header,
    /// The full 12-bit RCODE: the header's 4 bits plus the OPT record's extended bits
    /// (RFC 6891 §6.1.3: "EXTENDED-RCODE ... Forms the upper 8 bits of extended 12-bit RCODE").
    pub rcode: u16,
    pub questions: Vec<Question>,
    pub answers: Vec<DnsRecord>,
    pub authority: Vec<DnsRecord>,
    /// The additional section without the first OPT record (that one is [`Self::edns`]).
    pub additional: Vec<DnsRecord>,
    pub edns: Option<Edns>,
    /// Why the message did not parse to the end of the counts; `None` when it did.
    pub stopped: Option<DnsError>,
    /// Bytes after the last entry the counts announced (0 when `stopped`).
    pub trailing: usize,
}

impl DnsMessage {
    pub fn id(&self) -> u16 {
        self.header.id
    }

    pub fn is_response(&self) -> bool {
        self.header.response
    }

    /// All four sections parsed as the counts announced.
    pub fn is_complete(&self) -> bool {
        self.stopped.is_none()
    }

    /// `NOERROR`, `NXDOMAIN`, ... of the 12-bit RCODE.
    pub fn rcode_name(&self) -> std::borrow::Cow<'static, str> {
        rcode_name(self.rcode)
    }

    /// `(owner, address)` of every sound A and AAAA record in the answer section.
    pub fn addresses(&self) -> impl Iterator<Item = (&str, IpAddr)> + '_ {
        self.answers
            .iter()
            .filter_map(|r| r.addr.map(|a| (r.name.as_str(), a)))
    }

    /// `(owner, target)` of every sound CNAME record in the answer section.
    pub fn cnames(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.answers
            .iter()
            .filter_map(|r| r.cname_target().map(|t| (r.name.as_str(), t)))
    }

    /// The addresses `qname` resolves to in the answer section, following CNAMEs (names
    /// compared ASCII case-insensitively, RFC 4343; at most one step per answer record, so
    /// a CNAME loop ends).
    pub fn addresses_for(&self, qname: &str) -> Vec<IpAddr> {
        let mut names: Vec<&str> = vec![qname];
        for _ in 0..self.answers.len() {
            let Some(next) = self.cnames().find_map(|(owner, target)| {
                (names.iter().any(|n| n.eq_ignore_ascii_case(owner))
                    && !names.iter().any(|n| n.eq_ignore_ascii_case(target)))
                .then_some(target)
            }) else {
                break;
            };
            names.push(next);
        }
        self.addresses()
            .filter(|(owner, _)| names.iter().any(|n| n.eq_ignore_ascii_case(owner)))
            .map(|(_, a)| a)
            .collect()
    }

    /// Records listed with [`MALFORMED_DATA`].
    pub fn malformed_records(&self) -> usize {
        self.answers
            .iter()
            .chain(&self.authority)
            .chain(&self.additional)
            .chain(self.edns.as_ref().map(|e| &e.record))
            .filter(|r| r.rdata_error.is_some())
            .count()
    }

    /// One warning (`kind`, message) summing up what was wrong with the message, if anything.
    pub fn problem(&self) -> Option<(WarningKind, String)> {
        if let Some(e) = self.stopped {
            return Some((e.kind(), e.to_string()));
        }
        let malformed = self.malformed_records();
        if malformed > 0 {
            let first = self
                .answers
                .iter()
                .chain(&self.authority)
                .chain(&self.additional)
                .chain(self.edns.as_ref().map(|e| &e.record))
                .find_map(|r| r.rdata_error.map(|e| (r.rtype, r.offset, e)));
            let detail = first
                .map(|(t, o, e)| format!(" (first: {t} at offset {o}: {e})"))
                .unwrap_or_default();
            return Some((
                WarningKind::Malformed,
                format!(
                    "DNS message {:#06x}: {malformed} record(s) with malformed rdata{detail}",
                    self.header.id
                ),
            ));
        }
        if self.trailing > 0 {
            return Some((
                WarningKind::Malformed,
                format!(
                    "DNS message {:#06x}: {} bytes after the last record",
                    self.header.id, self.trailing
                ),
            ));
        }
        None
    }
}

/// Parses one DNS message. `Err` only when even the 12-byte header is missing; otherwise
/// everything that parsed is returned and [`DnsMessage::stopped`] says where and why
/// parsing ended early.
pub fn parse_message(buf: &[u8]) -> Result<DnsMessage, DnsError> {
    let header = Header::parse(buf)?;
    let mut msg = DnsMessage {
        header,
        rcode: u16::from(header.rcode),
        questions: Vec::new(),
        answers: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        edns: None,
        stopped: None,
        trailing: 0,
    };
    let mut pos = HEADER_LEN;
    match parse_body(buf, &mut pos, &mut msg) {
        Ok(()) => msg.trailing = buf.len().saturating_sub(pos),
        Err(e) => msg.stopped = Some(e),
    }
    if let Some(edns) = &msg.edns {
        msg.rcode = (u16::from(edns.ext_rcode) << 4) | u16::from(header.rcode);
    }
    Ok(msg)
}

/// Smallest question (root name, type, class) and record (root, 10 fixed bytes), used to
/// size vectors from the bytes left rather than from the counts.
const MIN_QUESTION: usize = 5;
const MIN_RECORD: usize = 11;

fn parse_body(buf: &[u8], pos: &mut usize, msg: &mut DnsMessage) -> Result<(), DnsError> {
    let h = msg.header;
    let left = |pos: usize| buf.len().saturating_sub(pos);
    msg.questions
        .reserve(usize::from(h.qdcount).min(left(*pos) / MIN_QUESTION));
    for index in 0..h.qdcount {
        let q = parse_question(buf, pos, index)?;
        msg.questions.push(q);
    }
    let mut name = String::new();
    let mut data = String::new();
    for (section, count) in [
        (Section::Answer, h.ancount),
        (Section::Authority, h.nscount),
        (Section::Additional, h.arcount),
    ] {
        let want = usize::from(count).min(left(*pos) / MIN_RECORD);
        match section {
            Section::Answer => msg.answers.reserve(want),
            Section::Authority => msg.authority.reserve(want),
            _ => msg.additional.reserve(want),
        }
        for index in 0..count {
            let rec = parse_record(buf, pos, section, index, &mut name, &mut data)?;
            match section {
                Section::Answer => msg.answers.push(rec),
                Section::Authority => msg.authority.push(rec),
                // RFC 6891 §6.1.1: at most one OPT, in the additional section; a second
                // one stays listed as an ordinary record.
                _ if rec.rtype == RrType::OPT && msg.edns.is_none() => {
                    msg.edns = Some(Edns::from_record(rec))
                }
                _ => msg.additional.push(rec),
            }
        }
    }
    Ok(())
}

fn name_error(e: NameError, section: Section, index: u16, offset: usize) -> DnsError {
    match e {
        // Running out of bytes is "need more", not "invalid".
        NameError::Truncated { offset } => DnsError::Truncated {
            section,
            index,
            offset,
        },
        error => DnsError::BadName {
            section,
            index,
            offset,
            error,
        },
    }
}

fn parse_question(buf: &[u8], pos: &mut usize, index: u16) -> Result<Question, DnsError> {
    let section = Section::Question;
    let start = *pos;
    let mut name = String::new();
    let p = name::read_name(buf, start, buf.len(), &mut name)
        .map_err(|e| name_error(e, section, index, start))?;
    let fixed = buf.get(p..p + 4).ok_or(DnsError::Truncated {
        section,
        index,
        offset: p,
    })?;
    *pos = p + 4;
    Ok(Question {
        name,
        qtype: RrType(u16::from_be_bytes([fixed[0], fixed[1]])),
        qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
    })
}

/// Reads one record; `name` and `data` are scratch strings reused between records so each
/// record allocates its two strings at their final size.
fn parse_record(
    buf: &[u8],
    pos: &mut usize,
    section: Section,
    index: u16,
    name: &mut String,
    data: &mut String,
) -> Result<DnsRecord, DnsError> {
    let start = *pos;
    name.clear();
    let p = name::read_name(buf, start, buf.len(), name)
        .map_err(|e| name_error(e, section, index, start))?;
    let f = buf.get(p..p + 10).ok_or(DnsError::Truncated {
        section,
        index,
        offset: p,
    })?;
    let rtype = RrType(u16::from_be_bytes([f[0], f[1]]));
    let class = u16::from_be_bytes([f[2], f[3]]);
    let ttl = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let rstart = p + 10;
    let rend = rstart + rdlen;
    if rend > buf.len() {
        return Err(DnsError::Truncated {
            section,
            index,
            offset: rstart,
        });
    }
    data.clear();
    if rtype == RrType::OPT {
        push_opt_header(class, ttl, data);
    }
    let mark = data.len();
    if rtype == RrType::OPT && rdlen > 0 {
        data.push(' ');
    }
    let (addr, rdata_error) = match rdata::render(buf, rtype, rstart, rend, data) {
        Ok(addr) => (addr, None),
        Err(e) => (None, Some(e)),
    };
    let data = if rdata_error.is_some() {
        if rtype == RrType::OPT {
            data.truncate(mark);
            format!("{data} {MALFORMED_DATA}")
        } else {
            MALFORMED_DATA.to_string()
        }
    } else {
        data.as_str().to_owned()
    };
    let svcb = (rdata_error.is_none() && matches!(rtype, RrType::SVCB | RrType::HTTPS))
        .then(|| rdata::svcb_facts(buf, rstart, rend).map(Box::new))
        .flatten();
    *pos = rend;
    Ok(DnsRecord {
        name: name.as_str().to_owned(),
        rtype,
        class,
        ttl,
        data,
        addr,
        svcb,
        rdata_error,
        offset: start,
    })
}

/// `udp=1232 version=0 do ext-rcode=1`: the OPT fields that sit in CLASS and TTL
/// (RFC 6891 §6.1.3); `ext-rcode` only when non-zero.
fn push_opt_header(class: u16, ttl: u32, out: &mut String) {
    use fmt::Write as _;
    let _ = write!(out, "udp={class} version={}", (ttl >> 16) as u8);
    if ttl & 0x8000 != 0 {
        out.push_str(" do");
    }
    if ttl >> 24 != 0 {
        let _ = write!(out, " ext-rcode={}", ttl >> 24);
    }
}

#[cfg(test)]
mod tests;
