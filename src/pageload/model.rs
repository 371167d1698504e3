//! The report model: typed, serializable structs that mirror `../shared/REPORT.md`.
//!
//! Every stage fills these in; the renderers in `crate::report` only read them. Field names
//! are the JSON contract (schema 1): add fields freely, rename or remove none. A value that
//! was not observed is `None` (JSON `null`), never zero.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Ts;

pub const SCHEMA: u32 = 1;

/// The JSON Schema (draft 2020-12) of the report `--format json` writes, derived from these
/// types and their doc comments (`pagetrace schema`, `docs/report.schema.json`).
pub fn json_schema() -> schemars::Schema {
    let mut s = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Report>();
    s.insert(
        "title".into(),
        "pagetrace report (schema 1, REPORT.md)".into(),
    );
    s
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct Report {
    pub schema: u32,
    pub capture: CaptureInfo,
    pub dns: Vec<DnsTransaction>,
    pub connections: Vec<Connection>,
    /// QUIC connections (one per UDP 5-tuple whose first datagram was a QUIC long header),
    /// in order of first packet.
    #[serde(default)]
    pub quic: Vec<QuicConnection>,
    /// With `--filter`: the expression, and how much there was before it (absent without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterInfo>,
}

/// What `--filter` was given and what it chose from.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct FilterInfo {
    pub expression: String,
    /// The report's counts before the filter.
    pub before: FilterCounts,
}

/// Requests (TCP and QUIC), TCP connections, QUIC connections and DNS transactions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct FilterCounts {
    pub requests: usize,
    pub connections: usize,
    pub quic: usize,
    pub dns: usize,
}

pub use crate::warning::{Warning, WarningKind};

/// Which end of a connection: the client (who opened it) or the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// Spelled in words and names the way serde does, for enums whose JSON form is a string.
macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

/// How the client of a connection was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum ClientBy {
    /// The sender of the SYN (TCP).
    #[default]
    #[serde(rename = "syn")]
    Syn,
    /// The receiver of a SYN/ACK, when the SYN was not captured.
    #[serde(rename = "synack")]
    SynAck,
    /// The side not on a well-known port (TCP), or not on 443 (QUIC).
    #[serde(rename = "port")]
    Port,
    /// The sender of the first packet seen.
    #[serde(rename = "first-packet")]
    FirstPacket,
    /// The sender of the first QUIC Initial.
    #[serde(rename = "initial")]
    Initial,
}

impl ClientBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientBy::Syn => "syn",
            ClientBy::SynAck => "synack",
            ClientBy::Port => "port",
            ClientBy::FirstPacket => "first-packet",
            ClientBy::Initial => "initial",
        }
    }
}

/// Where a connection's hostname came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HostnameSource {
    /// The TLS ClientHello's server_name.
    Sni,
    /// An HTTP request's `Host` or `:authority`.
    Http,
    /// The DNS lookup that gave the server's address.
    Dns,
}

impl HostnameSource {
    pub fn as_str(self) -> &'static str {
        match self {
            HostnameSource::Sni => "sni",
            HostnameSource::Http => "http",
            HostnameSource::Dns => "dns",
        }
    }
}

/// What a TCP stream carried, as far as the bytes told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AppProtocol {
    /// Neither side's first bytes were recognised: only counted.
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "dns")]
    Dns,
    /// TLS whose plaintext was not read (no keys) or not recognised.
    #[serde(rename = "tls")]
    Tls,
    #[serde(rename = "tls/http1")]
    TlsHttp1,
    #[serde(rename = "tls/http2")]
    TlsHttp2,
    /// DNS over TLS (RFC 7858), decrypted.
    #[serde(rename = "tls/dns")]
    TlsDns,
    #[serde(rename = "http1")]
    Http1,
    /// HTTP/1.1 that switched to HTTP/2 with `Upgrade: h2c`.
    #[serde(rename = "http1/h2c")]
    Http1H2c,
    /// Cleartext HTTP/2 by prior knowledge.
    #[serde(rename = "http2")]
    Http2,
}

impl AppProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            AppProtocol::Unknown => "unknown",
            AppProtocol::Dns => "dns",
            AppProtocol::Tls => "tls",
            AppProtocol::TlsHttp1 => "tls/http1",
            AppProtocol::TlsHttp2 => "tls/http2",
            AppProtocol::TlsDns => "tls/dns",
            AppProtocol::Http1 => "http1",
            AppProtocol::Http1H2c => "http1/h2c",
            AppProtocol::Http2 => "http2",
        }
    }

    /// Whether the stream was TLS.
    pub fn is_tls(self) -> bool {
        matches!(
            self,
            AppProtocol::Tls | AppProtocol::TlsHttp1 | AppProtocol::TlsHttp2 | AppProtocol::TlsDns
        )
    }
}

/// How a DNS message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsTransport {
    Udp,
    Tcp,
    /// DNS over HTTPS (RFC 8484), in HTTP/1.1 or HTTP/2.
    Doh,
    /// DNS over TLS (RFC 7858).
    Dot,
    /// DNS over QUIC (RFC 9250).
    Doq,
}

impl DnsTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsTransport::Udp => "udp",
            DnsTransport::Tcp => "tcp",
            DnsTransport::Doh => "doh",
            DnsTransport::Dot => "dot",
            DnsTransport::Doq => "doq",
        }
    }
}

/// A connection that carried encrypted DNS: DNS over TLS (port 853, or ALPN `dot`) or
/// over QUIC (ALPN `doq`), to the resolver at its server address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EncryptedDns {
    /// `dot` or `doq`.
    pub protocol: DnsTransport,
    /// Whether the key log opened it: its messages are then DNS transactions of the
    /// report (with this transport, on this connection's addresses).
    pub decrypted: bool,
    /// Queries the client sent: decrypted, the DNS queries read; else DNS over TLS
    /// counts the client's application data records long enough to hold a DNS message
    /// (a query is at least one record; a client that packs several into one record is
    /// undercounted). `null` when it cannot be told (DNS over QUIC without keys).
    pub queries: Option<u64>,
}

/// How a TCP connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloseKind {
    /// Still open when the capture ended.
    #[default]
    Open,
    Fin,
    Rst,
}

impl CloseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseKind::Open => "open",
            CloseKind::Fin => "fin",
            CloseKind::Rst => "rst",
        }
    }
}

/// The flags of one teardown step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeardownFlags {
    Fin,
    Ack,
    /// A FIN that also acknowledges the peer's FIN.
    FinAck,
    Rst,
}

/// One step of a teardown: who sent which flags. JSON spells it `FIN>` (toward the server)
/// or `<ACK` (toward the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeardownStep {
    pub from: Side,
    pub flags: TeardownFlags,
}

impl std::fmt::Display for TeardownStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.flags {
            TeardownFlags::Fin => "FIN",
            TeardownFlags::Ack => "ACK",
            TeardownFlags::FinAck => "FIN+ACK",
            TeardownFlags::Rst => "RST",
        };
        match self.from {
            Side::Client => write!(f, "{what}>"),
            Side::Server => write!(f, "<{what}"),
        }
    }
}

impl std::str::FromStr for TeardownStep {
    type Err = String;
    fn from_str(s: &str) -> Result<TeardownStep, String> {
        let (from, what) = if let Some(w) = s.strip_suffix('>') {
            (Side::Client, w)
        } else if let Some(w) = s.strip_prefix('<') {
            (Side::Server, w)
        } else {
            return Err(format!("not a teardown step: {s}"));
        };
        let flags = match what {
            "FIN" => TeardownFlags::Fin,
            "ACK" => TeardownFlags::Ack,
            "FIN+ACK" => TeardownFlags::FinAck,
            "RST" => TeardownFlags::Rst,
            _ => return Err(format!("not a teardown step: {s}")),
        };
        Ok(TeardownStep { from, flags })
    }
}

impl JsonSchema for TeardownStep {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TeardownStep".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "One teardown step: `FIN>` (the client sent FIN toward the server) or `<ACK` (the server toward the client); FIN, ACK, FIN+ACK or RST.",
            "pattern": "^(<(FIN|ACK|FIN\\+ACK|RST)|(FIN|ACK|FIN\\+ACK|RST)>)$"
        })
    }
}

impl Serialize for TeardownStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TeardownStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TeardownStep, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A TLS alert's level; JSON spells it `warning`, `fatal`, `encrypted` (not readable) or
/// `level_N` for another byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    Warning,
    Fatal,
    Encrypted,
    Other(u8),
}

impl std::fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertLevel::Warning => f.write_str("warning"),
            AlertLevel::Fatal => f.write_str("fatal"),
            AlertLevel::Encrypted => f.write_str("encrypted"),
            AlertLevel::Other(n) => write!(f, "level_{n}"),
        }
    }
}

impl JsonSchema for AlertLevel {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AlertLevel".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`warning`, `fatal`, `encrypted` (not readable) or `level_N` for another byte.",
            "pattern": "^(warning|fatal|encrypted|level_[0-9]+)$"
        })
    }
}

impl Serialize for AlertLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AlertLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AlertLevel, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "warning" => AlertLevel::Warning,
            "fatal" => AlertLevel::Fatal,
            "encrypted" => AlertLevel::Encrypted,
            other => AlertLevel::Other(
                other
                    .strip_prefix("level_")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
            ),
        })
    }
}

/// Which frame closed a QUIC connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuicCloseKind {
    /// CONNECTION_CLOSE 0x1c: a transport error code (RFC 9000 20.1).
    Transport,
    /// CONNECTION_CLOSE 0x1d: an application's error code.
    Application,
}

impl QuicCloseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuicCloseKind::Transport => "transport",
            QuicCloseKind::Application => "application",
        }
    }
}

display_as_str!(
    Side,
    ClientBy,
    HostnameSource,
    AppProtocol,
    DnsTransport,
    CloseKind,
    QuicCloseKind,
    ServerRole,
    StepOutcome
);

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct CaptureInfo {
    pub path: String,
    /// `"pcap"` or `"pcapng"`.
    pub format: String,
    pub link_types: Vec<String>,
    pub packets: u64,
    /// Sum of captured lengths.
    pub bytes: u64,
    pub first_ts: Option<Ts>,
    pub last_ts: Option<Ts>,
    pub warnings: Vec<Warning>,
    /// Per-layer counters of what was seen and skipped.
    pub stats: CaptureStats,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct CaptureStats {
    pub ipv4: u64,
    pub ipv6: u64,
    pub tcp: u64,
    pub udp: u64,
    /// ARP, IPv6 neighbour discovery, ICMP, other EtherTypes and IP protocols.
    pub other: u64,
    pub malformed: u64,
    pub truncated: u64,
    pub ip_fragments: u64,
    pub reassembled_datagrams: u64,
    /// Connections dropped because the flow table was full.
    pub flow_table_full: u64,
    /// Warnings beyond the report's cap, counted but not listed.
    pub warnings_suppressed: u64,
    /// QUIC connections reported early because the QUIC table was full.
    #[serde(default)]
    pub quic_table_full: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DnsQuestion {
    pub name: String,
    /// IANA mnemonic, `TYPEn` for unknown types.
    #[serde(rename = "type")]
    pub qtype: Cow<'static, str>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DnsAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: Cow<'static, str>,
    pub ttl: u32,
    /// Presentation form: an address, a name, `mname rname serial ...` for SOA, SVCB params.
    pub data: String,
    /// The address of a sound A or AAAA record (not in the JSON: `data` says it).
    #[serde(skip)]
    pub addr: Option<IpAddr>,
    /// The ALPN ids a sound SVCB/HTTPS record in ServiceMode offers (not in the JSON:
    /// `data` says them); empty otherwise.
    #[serde(skip)]
    pub alpn: Vec<String>,
    /// Its `port` parameter.
    #[serde(skip)]
    pub svc_port: Option<u16>,
    /// Whether it carried an `ech` parameter.
    #[serde(skip)]
    pub svc_ech: bool,
    /// The config ids of its ECHConfigList.
    #[serde(skip)]
    pub svc_ech_ids: Vec<u8>,
    /// Its `ipv4hint` and `ipv6hint` addresses.
    #[serde(skip)]
    pub svc_hints: Vec<IpAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DnsTransaction {
    /// Time of the query (or of the response when the query was not captured).
    pub ts: Ts,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub server: SocketAddr,
    pub transport: DnsTransport,
    pub id: u16,
    pub questions: Vec<DnsQuestion>,
    pub response_ts: Option<Ts>,
    pub latency_ms: Option<f64>,
    pub rcode: Option<Cow<'static, str>>,
    pub truncated: bool,
    pub answers: Vec<DnsAnswer>,
    /// Authority section (SOA of a negative answer, NS referrals).
    pub authority: Vec<DnsAnswer>,
    /// Frame numbers of the query and the response.
    pub query_packet: Option<u64>,
    pub response_packet: Option<u64>,
    /// What the query asked of DNSSEC and what the response said of it.
    #[serde(default)]
    pub dnssec: DnsSec,
    /// A lookup sent to a resolver whose own queries upstream are in the capture: those
    /// queries, in the order sent (the resolver's walk from the root: referrals, the
    /// answer, the DNSKEY and DS fetched to validate it). Empty when the resolver answered
    /// from its cache; `null` when the capture does not show the resolver's side.
    #[serde(default)]
    pub chain: Option<Vec<ChainStep>>,
    /// Whether the resolver answered without asking upstream (a lookup with a `chain`).
    #[serde(default)]
    pub cached: Option<bool>,
    /// Index into `Report::dns` of the client lookup whose `chain` this query is a step of
    /// (`null` when streamed: the step is handed out before its lookup).
    #[serde(default)]
    pub upstream_of: Option<usize>,
    /// AA: the response came from a server authoritative for the name (not in the JSON).
    #[serde(skip)]
    pub aa: bool,
    /// RA: the responder offers recursion: a resolver (not in the JSON).
    #[serde(skip)]
    pub ra: bool,
    /// The addresses of a referral's additional section (glue), by owner name (not in the
    /// JSON): they tell which servers a referral handed the question to.
    #[serde(skip)]
    pub glue: Vec<(String, IpAddr)>,
}

impl Default for DnsTransaction {
    /// A transaction of nothing between unspecified addresses (tests, a report being built).
    fn default() -> DnsTransaction {
        DnsTransaction {
            ts: Ts::default(),
            client: UNSPECIFIED,
            server: UNSPECIFIED,
            transport: DnsTransport::Udp,
            id: 0,
            questions: Vec::new(),
            response_ts: None,
            latency_ms: None,
            rcode: None,
            truncated: false,
            answers: Vec::new(),
            authority: Vec::new(),
            query_packet: None,
            response_packet: None,
            dnssec: DnsSec::default(),
            chain: None,
            cached: None,
            upstream_of: None,
            aa: false,
            ra: false,
            glue: Vec::new(),
        }
    }
}

/// One query a resolver sent upstream for a client's lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChainStep {
    /// Index into `Report::dns` of this query's own transaction (`null` when a filter left
    /// it out); streamed, its line's `index`.
    pub dns: Option<usize>,
    /// The server asked.
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub server: SocketAddr,
    /// What the server is, from the referrals the capture holds (not from a list of
    /// addresses): `root`, `tld`, `authoritative`, or `other` (a forwarder, or a server
    /// no referral named).
    pub role: ServerRole,
    /// The zone the server answered for, when the referrals (or its SOA) tell.
    pub zone: Option<String>,
    pub qname: String,
    pub qtype: Cow<'static, str>,
    pub outcome: StepOutcome,
    /// A referral's zone: where it sent the resolver next.
    pub referral: Option<String>,
    pub ts: Ts,
    pub latency_ms: Option<f64>,
}

impl ChainStep {
    /// `tld test`: the role and, when known, the zone.
    pub fn role_text(&self) -> String {
        match &self.zone {
            Some(z) => format!("{} {z}", self.role),
            None => self.role.to_string(),
        }
    }

    /// `referral to lab.test`, or the outcome.
    pub fn outcome_text(&self) -> String {
        match &self.referral {
            Some(z) => format!("referral to {z}"),
            None => self.outcome.to_string(),
        }
    }
}

/// A server's place in the DNS tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerRole {
    Root,
    Tld,
    Authoritative,
    Other,
}

impl ServerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Root => "root",
            ServerRole::Tld => "tld",
            ServerRole::Authoritative => "authoritative",
            ServerRole::Other => "other",
        }
    }
}

/// What an upstream query got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    /// Records for the question (or a CNAME toward them).
    Answer,
    /// No answer, NS records in the authority section: ask the servers of that zone.
    Referral,
    Nxdomain,
    /// NOERROR with no records of the type asked.
    Nodata,
    /// Any other RCODE (SERVFAIL, REFUSED, ...).
    Error,
    /// No response was captured.
    Unanswered,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Answer => "answer",
            StepOutcome::Referral => "referral",
            StepOutcome::Nxdomain => "nxdomain",
            StepOutcome::Nodata => "nodata",
            StepOutcome::Error => "error",
            StepOutcome::Unanswered => "unanswered",
        }
    }
}

/// DNSSEC on one transaction (RFC 4035 3.2, RFC 3225).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnsSec {
    /// DO: the query (or, without it, the response's OPT record, which echoes it) asked for
    /// DNSSEC records.
    #[serde(rename = "do")]
    pub dnssec_ok: bool,
    /// AD: the resolver says it validated every record of the answer and authority
    /// sections. False without a response.
    pub ad: bool,
    /// CD: the client asked the resolver not to validate (checking disabled).
    pub cd: bool,
    /// The DNSSEC record types in the response (RRSIG, DNSKEY, DS, NSEC, NSEC3,
    /// NSEC3PARAM), each once, in the order they first appear.
    pub records: Vec<String>,
}

impl DnsSec {
    /// In words, for the journey: `validated by the resolver (AD)`, or `not validated`
    /// when DNSSEC was asked for or came back without AD; `None` when DNSSEC played no part.
    pub fn verdict(&self) -> Option<&'static str> {
        if self.ad {
            Some("answer validated by the resolver (AD)")
        } else if self.dnssec_ok || !self.records.is_empty() {
            Some("not validated by the resolver (no AD)")
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Connection {
    pub id: u64,
    /// tshark's `tcp.stream` of this conversation (0-based, in order of first packet,
    /// counting every TCP 5-tuple): Wireshark's display filter `tcp.stream eq N` shows it.
    /// `None` past the 5-tuples pagetrace numbers (about a million).
    pub tcp_stream: Option<u64>,
    /// Frame numbers (1-based, as Wireshark's `frame.number`) of its first and last packet.
    pub first_packet: u64,
    pub last_packet: u64,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub server: SocketAddr,
    pub hostname: Option<String>,
    /// Where `hostname` came from.
    pub hostname_source: Option<HostnameSource>,
    /// Index into `Report::dns` of the lookup that gave the server's address.
    pub dns: Option<usize>,
    /// Why `dns` is null, in words (a constant string, shared by every connection).
    pub dns_note: Option<Cow<'static, str>>,
    /// How the client side was decided: `syn`, or a fallback named here.
    pub client_by: ClientBy,
    /// What the stream carried; `None` when it carried no bytes to tell.
    pub app_protocol: Option<AppProtocol>,
    /// DNS over TLS: to which resolver, decrypted or not, how many queries.
    #[serde(default)]
    pub encrypted_dns: Option<EncryptedDns>,
    /// The HTTPS DNS record this TLS connection followed, and what it used of it.
    #[serde(default)]
    pub https_record: Option<Box<HttpsRecordUse>>,
    pub tcp: TcpInfo,
    /// Boxed: most of a connection's size when inline, and absent from every connection
    /// that carried no TLS (a scan's SYNs, plain HTTP).
    pub tls: Option<Box<TlsInfo>>,
    pub http: Vec<HttpExchange>,
    /// What delayed the connection before any exchange (its TCP and TLS handshakes), or
    /// between exchanges; each exchange carries its own.
    #[serde(default)]
    pub diagnosis: Vec<Delay>,
    pub timeline: Timeline,
    pub warnings: Vec<Warning>,
}

/// `0.0.0.0:0`: the endpoint of a connection built by hand (tests, a report being built).
pub const UNSPECIFIED: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::UNSPECIFIED,
    0,
));

impl Default for Connection {
    fn default() -> Connection {
        Connection {
            id: 0,
            tcp_stream: None,
            first_packet: 0,
            last_packet: 0,
            client: UNSPECIFIED,
            server: UNSPECIFIED,
            hostname: None,
            hostname_source: None,
            dns: None,
            dns_note: None,
            client_by: ClientBy::default(),
            app_protocol: None,
            encrypted_dns: None,
            https_record: None,
            tcp: TcpInfo::default(),
            tls: None,
            http: Vec::new(),
            diagnosis: Vec::new(),
            timeline: Timeline::default(),
            warnings: Vec::new(),
        }
    }
}

/// A pair of per-direction counters, client first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct PerDir {
    pub client: u64,
    pub server: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack: bool,
    pub timestamps: bool,
    pub fastopen: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct TcpClose {
    pub kind: CloseKind,
    /// `None` for `open`.
    pub initiator: Option<Side>,
    pub ts: Option<Ts>,
    /// The teardown in order, `>` toward the server: `["FIN>", "<ACK", "<FIN", "ACK>"]`.
    pub sequence: Vec<TeardownStep>,
}

impl TcpClose {
    /// The teardown steps joined by `sep` (`FIN> → <ACK`).
    pub fn steps(&self, sep: &str) -> String {
        let steps: Vec<String> = self.sequence.iter().map(|s| s.to_string()).collect();
        steps.join(sep)
    }

    /// `client`, `server`, or `?` when nobody closed it.
    pub fn initiator_str(&self) -> &'static str {
        self.initiator.map_or("?", Side::as_str)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct TcpInfo {
    pub syn_ts: Option<Ts>,
    pub synack_ts: Option<Ts>,
    pub ack_ts: Option<Ts>,
    pub handshake_ms: Option<f64>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// SYN/ACK acknowledges client ISN+1 and the ACK acknowledges server ISN+1.
    pub handshake_valid: Option<bool>,
    /// Options the client's SYN carried.
    pub options: TcpOptions,
    /// Options the server's SYN/ACK carried.
    pub server_options: TcpOptions,
    pub bytes: PerDir,
    pub packets: PerDir,
    pub retransmissions: PerDir,
    pub out_of_order: PerDir,
    pub zero_window: PerDir,
    pub gaps: PerDir,
    pub close: TcpClose,
    /// Round trips measured from the connection's data, all along it (the handshake's is
    /// `handshake_ms`).
    #[serde(default)]
    pub rtt: DataRtt,
}

/// Round-trip samples from data and the ACKs that covered it, per direction of the data:
/// for TCP a segment sent once to the first ACK past its end (Karn's rule), for QUIC a
/// packet to the first ACK frame naming it as its largest, less the ACK delay it reports. The capture sees, for
/// each side's data, the part of the path beyond the capture point and back, with the
/// receiver's ACK delay: near the client the client's data shows the whole round trip and
/// the server's almost none. The two minimums add up to the round trip wherever the capture
/// was taken.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, JsonSchema)]
pub struct DataRtt {
    // Boxed, as `https_record` is: absent from most connections (a scan's SYNs), 32 bytes
    // less in each connection kept for the whole report.
    pub client: Option<Box<RttStats>>,
    pub server: Option<Box<RttStats>>,
    /// `client.min_ms + server.min_ms`, when both sides sent data that was acknowledged.
    pub min_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, JsonSchema)]
pub struct RttStats {
    pub samples: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, JsonSchema)]
pub struct Certificate {
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

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct RecordStats {
    pub records: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct TlsInfo {
    /// Negotiated version, `TLS 1.3`, `TLS 1.2`, ... (`None` without a ServerHello).
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub cipher_id: Option<u16>,
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    /// The ALPN the server chose; `None` when not seen (TLS 1.3 without keys).
    pub alpn: Option<String>,
    pub ja3: Option<String>,
    pub ja3_string: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    pub resumed: bool,
    pub hello_retry: bool,
    pub client_hello_ts: Option<Ts>,
    pub server_hello_ts: Option<Ts>,
    /// The Finished that completed the handshake (the server's in a full TLS <= 1.2
    /// handshake, the client's otherwise); `handshake_ms` runs to it.
    pub handshake_done_ts: Option<Ts>,
    pub handshake_ms: Option<f64>,
    /// When the client could send application data: its own Finished with TLS 1.2 False
    /// Start (RFC 7918), in TLS 1.3 and when resumed; else the server's Finished. The
    /// `ssl` and `connect` phases end here; `ready_ms` runs from the ClientHello to it.
    #[serde(default)]
    pub client_ready_ts: Option<Ts>,
    #[serde(default)]
    pub ready_ms: Option<f64>,
    /// The server's Finished (TLS <= 1.2; TLS 1.3 without keys: its last protected
    /// handshake record).
    #[serde(default)]
    pub server_finished_ts: Option<Ts>,
    /// The client sent application data before the server's Finished (RFC 7918).
    #[serde(default)]
    pub false_start: bool,
    pub certificates: Vec<Certificate>,
    pub decrypted: bool,
    /// The ClientHello in detail.
    pub client_hello: Option<ClientHelloInfo>,
    /// The ServerHello in detail.
    pub server_hello: Option<ServerHelloInfo>,
    /// `ECDHE`, `DHE`, `RSA` (key transport), with the group when named.
    pub key_exchange: Option<String>,
    pub key_exchange_group: Option<String>,
    pub early_data: EarlyData,
    /// First application-data record each way (encrypted requests still show timing).
    pub client_first_app_data_ts: Option<Ts>,
    pub server_first_app_data_ts: Option<Ts>,
    pub app_data: TlsPerDirStats,
    pub alerts: Vec<TlsAlert>,
    pub change_cipher_spec: PerDir,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct TlsPerDirStats {
    pub client: RecordStats,
    pub server: RecordStats,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct EarlyData {
    pub offered: bool,
    pub accepted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TlsAlert {
    pub ts: Ts,
    pub from: Side,
    pub level: AlertLevel,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, JsonSchema)]
pub struct ClientHelloInfo {
    pub legacy_version: String,
    pub session_id: Option<String>,
    pub cipher_suites: Vec<String>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<String>,
    pub supported_versions: Vec<String>,
    pub supported_groups: Vec<String>,
    pub key_share_groups: Vec<String>,
    pub signature_algorithms: Vec<String>,
    pub session_ticket: bool,
    pub psk_offered: bool,
    pub psk_modes: Vec<String>,
    pub early_data: bool,
    /// encrypted_client_hello present: the SNI seen is then the outer (public) name.
    pub ech: bool,
    /// The ECH config id it names (a GREASE extension names a random one).
    #[serde(default)]
    pub ech_config_id: Option<u8>,
    pub grease: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, JsonSchema)]
pub struct ServerHelloInfo {
    pub legacy_version: String,
    pub session_id: Option<String>,
    pub extensions: Vec<String>,
    pub key_share_group: Option<String>,
    pub psk_accepted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct HttpExchange {
    /// `HTTP/1.1`, `HTTP/1.0` or `HTTP/2` (for HTTP/1.x, the higher of the request's and the
    /// response's).
    pub version: String,
    /// HTTP/2 or QUIC stream id; `None` for HTTP/1.x.
    pub stream: Option<u64>,
    /// The versions on the request line and the status line (HTTP/1.x). `version` is the
    /// highest of the two: what was spoken on the wire by the side that could.
    pub request_version: Option<String>,
    pub response_version: Option<String>,
    /// Interim (1xx) statuses seen before the final response, e.g. `[100]`.
    pub informational: Vec<u16>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub request_ts: Option<Ts>,
    pub request_end_ts: Option<Ts>,
    pub response_ts: Option<Ts>,
    pub response_end_ts: Option<Ts>,
    /// Frame numbers where Wireshark shows the request and the final response: for
    /// HTTP/1.x the packet that completed the message, body included (Wireshark reassembles
    /// bodies), for HTTP/2 and HTTP/3 the packet of its HEADERS frame.
    pub request_packet: Option<u64>,
    pub response_packet: Option<u64>,
    /// `response_ts - request_end_ts`.
    pub ttfb_ms: Option<f64>,
    /// `response_end_ts - response_ts`.
    pub download_ms: Option<f64>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// Request body bytes as transferred.
    pub request_body_bytes: u64,
    /// Response body bytes as transferred (after chunk framing is removed, before decoding).
    pub body_bytes: u64,
    /// The response's content: its body with the codings of `content_encoding` undone
    /// (gzip, x-gzip, deflate, br, zstd, and lists of them undone last first), as DevTools
    /// gives `content.size`. A body without a coding (or `identity`) is its content, so this
    /// is `body_bytes`. `null` when not known: no response, a coding not decoded here
    /// (`compress`, shared-dictionary codings), more than four codings, a 206 (a range of
    /// the coded body), or a connection whose open bodies' decoders held their memory cap
    /// (64 MiB; a `cap` warning).
    pub body_decoded_bytes: Option<u64>,
    /// Absent when `body_decoded_bytes` is the whole content; otherwise why it is only the
    /// part that decoded: `cap` (it reached the cap on what one body may decode to, 64 MiB
    /// or 2064 times its bytes on the wire plus 64 KiB, whichever is less: a decompression
    /// bomb; a `cap` warning), `corrupt` (the coded bytes stopped decoding: a `malformed`
    /// warning), `truncated` (the body ended before its coded stream did: loss, a reset,
    /// the capture's end, or a sender that stopped short, the last with a `truncated`
    /// warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_decoded_partial: Option<DecodePartial>,
    pub content_encoding: Option<String>,
    pub transfer_encoding: Option<String>,
    pub content_type: Option<String>,
    /// Hex SHA-256 of the response body as transferred, with `--body-hash`.
    pub body_sha256: Option<String>,
    /// `h2c`, `websocket` when this exchange switched protocols.
    pub upgrade: Option<String>,
    /// Header values cut at the cap.
    pub headers_truncated: bool,
    /// Incomplete at the end of the capture, or cut by a gap.
    pub complete: bool,
    /// HTTP/2 RST_STREAM error code name, when the stream was reset.
    pub reset: Option<String>,
    /// Server push: the stream that promised this one.
    pub pushed_by: Option<u64>,
    /// Index (connection id, exchange index) of the request this one followed as a redirect.
    pub redirected_from: Option<RedirectRef>,
    pub redirect_to: Option<String>,
    /// What delayed it: each network event that fell inside its phases (or the server's own
    /// time), with what it cost; empty when nothing did. See [`Delay`].
    #[serde(default)]
    pub diagnosis: Vec<Delay>,
}

/// One thing that made an exchange (or a connection's setup) take longer, measured from
/// packets: what it was, whose bytes it held back, how many milliseconds it cost, the
/// frames that show it, and a sentence. An exchange's costs never add up to more than its
/// time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Delay {
    pub kind: DelayKind,
    /// Who sent the bytes that were held back (`client` or `server`).
    pub dir: Side,
    pub ms: f64,
    /// Frame numbers of the events (the first send and the resend; the zero window and the
    /// window update), as Wireshark numbers them.
    pub frames: Vec<u64>,
    pub note: String,
    /// When the wait ran, as far as it fell in this exchange's exposure (the connection's
    /// own: its whole span): what the waterfall marks on the bar. Absent for `server_think`
    /// (what is left of the wait phase, not one stretch); for waits merged into one line
    /// (`window_limited`, `congestion_window`), from the first wait's start to the last's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ts: Option<Ts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ts: Option<Ts>,
}

/// What a [`Delay`] was.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DelayKind {
    /// The client's SYN (or the server's SYN/ACK) went unanswered and was sent again: the
    /// connect phase grew by the wait.
    SynRetransmission,
    /// Bytes of this exchange lost and resent after a timeout: from the first send (or,
    /// when the capture missed it, from when later bytes began to wait behind the hole) to
    /// the resend.
    RtoRetransmission,
    /// The same, recovered after duplicate ACKs asked for the bytes.
    FastRetransmission,
    /// Bytes sent again that the receiver already had (it had acknowledged them, or the
    /// capture near it saw their first copy arrive): nothing waited (`ms` is 0); on the
    /// connection, so that every resend is accounted for.
    SpuriousRetransmission,
    /// A FIN sent again: the close waited from the first (on the connection).
    FinRetransmission,
    /// The receiver's window was zero: the sender had to stop until it opened.
    ZeroWindow,
    /// The sender filled the window the receiver advertised and waited for room (a receive
    /// buffer too small for the round trip, or a reader too slow).
    WindowLimited,
    /// The sender had sent all its congestion window allowed (slow start: a new connection's
    /// first round trips, or after a loss) and waited a round trip for ACKs to send more.
    CongestionWindow,
    /// On a connection carrying several exchanges at once (HTTP/2), this one's bytes waited
    /// behind a segment resent for the connection: TCP delivers in order.
    HeadOfLine,
    /// The part of the time to first byte that the network does not explain: the time to
    /// first byte minus one round trip and the delays above (reported from 10 ms).
    ServerThink,
    /// Bytes the capture never saw: a delay there cannot be told (`ms` is 0).
    CaptureGap,
}

impl DelayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DelayKind::SynRetransmission => "syn_retransmission",
            DelayKind::RtoRetransmission => "rto_retransmission",
            DelayKind::FastRetransmission => "fast_retransmission",
            DelayKind::SpuriousRetransmission => "spurious_retransmission",
            DelayKind::FinRetransmission => "fin_retransmission",
            DelayKind::ZeroWindow => "zero_window",
            DelayKind::WindowLimited => "window_limited",
            DelayKind::CongestionWindow => "congestion_window",
            DelayKind::HeadOfLine => "head_of_line",
            DelayKind::ServerThink => "server_think",
            DelayKind::CaptureGap => "capture_gap",
        }
    }
}

impl HttpExchange {
    /// The host of its URL: without scheme, user, port or IPv6 brackets.
    pub fn host(&self) -> Option<&str> {
        let url = self.url.as_deref()?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        if let Some(v6) = authority.strip_prefix('[') {
            return v6.split(']').next();
        }
        authority.split(':').next().filter(|h| !h.is_empty())
    }

    /// `h1` (HTTP/1.x), `h2` or `h3`.
    pub fn proto(&self) -> Option<&'static str> {
        match self.version.as_str() {
            "HTTP/1.0" | "HTTP/1.1" => Some("h1"),
            "HTTP/2" => Some("h2"),
            "HTTP/3" => Some("h3"),
            _ => None,
        }
    }
}

/// Why a decoded body size covers only part of the content (`body_decoded_partial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecodePartial {
    Cap,
    Corrupt,
    Truncated,
}

/// Where an exchange is: `connections[]` by id and `http[index]`, or, with `quic`, the
/// QUIC connection of that id in `quic[]`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct RedirectRef {
    pub connection: u64,
    pub index: usize,
    #[serde(default, skip_serializing_if = "is_false")]
    pub quic: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The response whose `Alt-Svc` offered HTTP/3 to a QUIC connection's client (RFC 7838).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct H3Offer {
    /// The TCP connection (`connections[]` id) and the exchange (`http[index]`).
    pub connection: u64,
    pub index: usize,
    /// The alternative as offered: `h3=":443"; ma=86400`.
    pub value: String,
    /// How long the offer held (`ma`, 24 h when absent).
    pub max_age_s: u64,
}

/// The HTTPS (or SVCB) record whose `alpn` offered HTTP/3 to a QUIC connection's client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct H3DnsOffer {
    /// The lookup (`dns[]` index) and the record (its `answers[answer]`).
    pub dns: usize,
    pub answer: usize,
    /// The record as answered: `1 . alpn="h3,h2" ipv4hint=...`.
    pub value: String,
    /// Its TTL: how long the offer held.
    pub ttl_s: u32,
}

/// The HTTPS record (RFC 9460) a connection followed: the latest answered for its host and
/// port before it began, while fresh, in ServiceMode; what it offered and what the
/// connection then did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HttpsRecordUse {
    /// The lookup (`dns[]` index) and the record (its `answers[answer]`).
    pub dns: usize,
    pub answer: usize,
    /// The record as answered: `1 . alpn="h3,h2" ipv4hint=... ech=...`.
    pub value: String,
    /// The protocols it offered (`alpn`).
    pub alpn: Vec<String>,
    /// The protocol the connection settled on (TLS ALPN; `h3` for QUIC) when one of
    /// those; `null` when it chose another or was not seen (TLS 1.3 without keys).
    pub alpn_used: Option<String>,
    /// The connection's server address was one of the record's `ipv4hint`/`ipv6hint`.
    pub hinted_address: bool,
    /// The record carried an ECH config (`ech`).
    pub ech: bool,
    /// The ClientHello's `encrypted_client_hello` named one of the record's ECH configs:
    /// the client encrypted its real hello to it (the SNI seen is then the outer, public
    /// name). A GREASE extension (a random config id) is not this.
    pub ech_sent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, JsonSchema)]
pub struct Timeline {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub download_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

impl Default for QuicConnection {
    fn default() -> QuicConnection {
        QuicConnection::new(
            0,
            UNSPECIFIED,
            UNSPECIFIED,
            ClientBy::Initial,
            Ts::default(),
        )
    }
}

impl QuicConnection {
    /// A connection with nothing seen yet but its endpoints and first packet.
    pub fn new(
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
        client_by: ClientBy,
        ts: Ts,
    ) -> QuicConnection {
        QuicConnection {
            id,
            udp_stream: None,
            first_packet: 0,
            last_packet: 0,
            client,
            server,
            client_by,
            version: String::new(),
            versions: Vec::new(),
            dcid: String::new(),
            scid: String::new(),
            server_scid: None,
            first_ts: ts,
            last_ts: ts,
            packets: PerDir::default(),
            bytes: PerDir::default(),
            datagrams: PerDir::default(),
            client_packets: QuicPacketCounts::default(),
            server_packets: QuicPacketCounts::default(),
            client_initial_ts: None,
            server_initial_ts: None,
            server_handshake_ts: None,
            server_initial_ms: None,
            handshake_ms: None,
            initials_decrypted: 0,
            initials_failed: 0,
            close: Vec::new(),
            tls: None,
            encrypted_dns: None,
            https_record: None,
            hostname: None,
            hostname_source: None,
            dns: None,
            dns_note: None,
            warnings: Vec::new(),
            http: Vec::new(),
            handshake_done_ts: None,
            decryption: None,
            rtt: DataRtt::default(),
            address_changes: Vec::new(),
            h3_offer: None,
            h3_dns_offer: None,
        }
    }
}

/// Long header packet counts of one direction, by type; `one_rtt` counts short headers.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct QuicPacketCounts {
    pub initial: u64,
    pub zero_rtt: u64,
    pub handshake: u64,
    pub retry: u64,
    pub one_rtt: u64,
    pub version_negotiation: u64,
}

/// A CONNECTION_CLOSE frame read from an Initial packet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct QuicClose {
    pub ts: Ts,
    pub from: Side,
    pub kind: QuicCloseKind,
    pub error_code: u64,
    /// RFC 9000 20.1 name (`PROTOCOL_VIOLATION`, `CRYPTO_ERROR (TLS alert 40)`, ...).
    pub error: String,
    pub frame_type: Option<u64>,
    pub reason: String,
}

/// One QUIC connection (a UDP 5-tuple carrying QUIC), from its Initial packets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QuicConnection {
    pub id: u64,
    /// tshark's `udp.stream` of its first 5-tuple (0-based, in order of first packet,
    /// counting every UDP 5-tuple, DNS included): `udp.stream eq N` in Wireshark. `None`
    /// past the 5-tuples pagetrace numbers (about a million).
    pub udp_stream: Option<u64>,
    /// Frame numbers of its first and last packet.
    pub first_packet: u64,
    pub last_packet: u64,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::report::fastjson::socket_addr")]
    pub server: SocketAddr,
    /// How the client was decided: `initial` (sender of the first Initial) or `port`.
    pub client_by: ClientBy,
    /// The version of the first long header (`v1`, `v2`, or hex).
    pub version: String,
    /// Every version seen in long headers, in order (`negotiation` for Version Negotiation).
    pub versions: Vec<String>,
    /// The client's first Destination Connection ID (hex): the Initial keys' input.
    pub dcid: String,
    /// The client's Source Connection ID (hex).
    pub scid: String,
    /// The server's Source Connection ID from its first long header (hex), if seen.
    pub server_scid: Option<String>,
    pub first_ts: Ts,
    pub last_ts: Ts,
    /// QUIC packets (coalesced packets counted one by one).
    pub packets: PerDir,
    /// UDP payload bytes.
    pub bytes: PerDir,
    /// UDP datagrams.
    pub datagrams: PerDir,
    pub client_packets: QuicPacketCounts,
    pub server_packets: QuicPacketCounts,
    pub client_initial_ts: Option<Ts>,
    pub server_initial_ts: Option<Ts>,
    pub server_handshake_ts: Option<Ts>,
    /// Client's first Initial to the server's first Initial.
    pub server_initial_ms: Option<f64>,
    /// Client's first Initial to the server's first Handshake packet.
    pub handshake_ms: Option<f64>,
    /// Initial packets whose protection was removed, and those that failed.
    pub initials_decrypted: u64,
    pub initials_failed: u64,
    pub close: Vec<QuicClose>,
    /// The TLS handshake read from the Initial CRYPTO frames (ClientHello, ServerHello).
    // Boxed, as a TCP connection's: absent from Initials that did not open (a flood's).
    pub tls: Option<Box<TlsInfo>>,
    /// DNS over QUIC (ALPN `doq`): decrypted or not, how many queries.
    #[serde(default)]
    pub encrypted_dns: Option<EncryptedDns>,
    /// The HTTPS DNS record this connection followed, and what it used of it.
    #[serde(default)]
    pub https_record: Option<Box<HttpsRecordUse>>,
    pub hostname: Option<String>,
    pub hostname_source: Option<HostnameSource>,
    pub dns: Option<usize>,
    /// Why `dns` is null, in words (a constant string, shared by every connection).
    pub dns_note: Option<Cow<'static, str>>,
    pub warnings: Vec<Warning>,
    /// HTTP/3 requests, in stream order (pushed responses after them); empty without keys.
    #[serde(default)]
    pub http: Vec<HttpExchange>,
    /// The server's HANDSHAKE_DONE: the handshake is confirmed (RFC 9001 4.1.2).
    #[serde(default)]
    pub handshake_done_ts: Option<Ts>,
    /// Packets opened with the key log; `null` when it had no secrets for this connection.
    #[serde(default)]
    pub decryption: Option<QuicDecryption>,
    /// Round trips from the packets of each side and the peer's ACK frames (decrypted
    /// packets only): unlike `server_initial_ms`, free of the server's handshake work.
    #[serde(default)]
    pub rtt: DataRtt,
    /// A side's address changed mid-connection (migration, NAT rebinding), known by the
    /// connection ID it used.
    #[serde(default)]
    pub address_changes: Vec<AddressChange>,
    /// Why the client tried HTTP/3 here: the Alt-Svc that offered it.
    #[serde(default)]
    pub h3_offer: Option<H3Offer>,
    /// Why the client could try HTTP/3 here without an Alt-Svc: the HTTPS record that
    /// offered `h3` for its host and port (RFC 9460 7.1.1).
    #[serde(default)]
    pub h3_dns_offer: Option<H3DnsOffer>,
}

/// QUIC packets opened with keys from the key log (Initial packets need none).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq, JsonSchema)]
pub struct QuicDecryption {
    pub handshake: u64,
    pub zero_rtt: u64,
    pub one_rtt: u64,
    /// Protected packets seen before their keys were known (or with none logged).
    pub no_keys: u64,
    /// Packets that did not authenticate.
    pub failed: u64,
    /// 1-RTT key updates (RFC 9001 6).
    pub key_updates: PerDir,
}

/// A new address of one side of a QUIC connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct AddressChange {
    pub ts: Ts,
    pub side: Side,
    pub addr: SocketAddr,
}
