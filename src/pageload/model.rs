//! The report model: typed, serializable structs that mirror `../shared/REPORT.md`.
//!
//! Every stage fills these in; the renderers in `crate::report` only read them. Field names
//! are the JSON contract (schema 1): add fields freely, rename or remove none. A value that
//! was not observed is `None` (JSON `null`), never zero.

use serde::{Deserialize, Serialize};

use crate::time::Ts;

pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Report {
    pub schema: u32,
    pub capture: CaptureInfo,
    pub dns: Vec<DnsTransaction>,
    pub connections: Vec<Connection>,
    /// QUIC connections (one per UDP 5-tuple whose first datagram was a QUIC long header),
    /// in order of first packet.
    #[serde(default)]
    pub quic: Vec<QuicConnection>,
}

pub use crate::warning::{Warning, WarningKind};

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
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

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DnsQuestion {
    pub name: String,
    /// IANA mnemonic, `TYPEn` for unknown types.
    #[serde(rename = "type")]
    pub qtype: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DnsAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    /// Presentation form: an address, a name, `mname rname serial ...` for SOA, SVCB params.
    pub data: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsTransaction {
    /// Time of the query (or of the response when the query was not captured).
    pub ts: Ts,
    pub client: String,
    pub server: String,
    /// `udp`, `tcp`, `doh` or `dot`.
    pub transport: String,
    pub id: u16,
    pub questions: Vec<DnsQuestion>,
    pub response_ts: Option<Ts>,
    pub latency_ms: Option<f64>,
    pub rcode: Option<String>,
    pub truncated: bool,
    pub answers: Vec<DnsAnswer>,
    /// Authority section (SOA of a negative answer, NS referrals).
    pub authority: Vec<DnsAnswer>,
    /// Frame numbers of the query and the response.
    pub query_packet: Option<u64>,
    pub response_packet: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Connection {
    pub id: u64,
    pub client: String,
    pub server: String,
    pub hostname: Option<String>,
    /// Where `hostname` came from: `sni`, `http`, `dns`.
    pub hostname_source: Option<String>,
    /// Index into `Report::dns` of the lookup that gave the server's address.
    pub dns: Option<usize>,
    /// Why `dns` is null, in words.
    pub dns_note: Option<String>,
    /// How the client side was decided: `syn`, or a fallback named here.
    pub client_by: String,
    /// What the stream carried: `tls`, `http1`, `http2`, `dns`, `unknown`, ...
    pub app_protocol: Option<String>,
    pub tcp: TcpInfo,
    pub tls: Option<TlsInfo>,
    pub http: Vec<HttpExchange>,
    pub timeline: Timeline,
    pub warnings: Vec<Warning>,
}

/// A pair of per-direction counters, client first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct PerDir {
    pub client: u64,
    pub server: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack: bool,
    pub timestamps: bool,
    pub fastopen: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TcpClose {
    /// `fin`, `rst` or `open` (still open at the end of the capture).
    pub kind: String,
    /// `client` or `server`; `None` for `open`.
    pub initiator: Option<String>,
    pub ts: Option<Ts>,
    /// The teardown in order, `>` toward the server: `["FIN>", "<ACK", "<FIN", "ACK>"]`.
    pub sequence: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
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
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
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

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct RecordStats {
    pub records: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
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
    pub handshake_done_ts: Option<Ts>,
    pub handshake_ms: Option<f64>,
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

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct TlsPerDirStats {
    pub client: RecordStats,
    pub server: RecordStats,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct EarlyData {
    pub offered: bool,
    pub accepted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TlsAlert {
    pub ts: Ts,
    /// `client` or `server`.
    pub from: String,
    /// `fatal`, `warning`, or `encrypted` when the alert is not readable.
    pub level: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
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
    pub grease: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ServerHelloInfo {
    pub legacy_version: String,
    pub session_id: Option<String>,
    pub extensions: Vec<String>,
    pub key_share_group: Option<String>,
    pub psk_accepted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct HttpExchange {
    /// `HTTP/1.1`, `HTTP/1.0` or `HTTP/2` (for HTTP/1.x, the higher of the request's and the
    /// response's).
    pub version: String,
    /// HTTP/2 stream id; `None` for HTTP/1.x.
    pub stream: Option<u32>,
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
    pub pushed_by: Option<u32>,
    /// Index (connection id, exchange index) of the request this one followed as a redirect.
    pub redirected_from: Option<RedirectRef>,
    pub redirect_to: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedirectRef {
    pub connection: u64,
    pub index: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Timeline {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub download_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

/// Long header packet counts of one direction, by type; `one_rtt` counts short headers.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct QuicPacketCounts {
    pub initial: u64,
    pub zero_rtt: u64,
    pub handshake: u64,
    pub retry: u64,
    pub one_rtt: u64,
    pub version_negotiation: u64,
}

/// A CONNECTION_CLOSE frame read from an Initial packet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QuicClose {
    pub ts: Ts,
    /// `client` or `server`.
    pub from: String,
    /// `transport` (frame 0x1c) or `application` (0x1d).
    pub kind: String,
    pub error_code: u64,
    /// RFC 9000 20.1 name (`PROTOCOL_VIOLATION`, `CRYPTO_ERROR (TLS alert 40)`, ...).
    pub error: String,
    pub frame_type: Option<u64>,
    pub reason: String,
}

/// One QUIC connection (a UDP 5-tuple carrying QUIC), from its Initial packets.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QuicConnection {
    pub id: u64,
    pub client: String,
    pub server: String,
    /// How the client was decided: `initial` (sender of the first Initial) or `port`.
    pub client_by: String,
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
    pub tls: Option<TlsInfo>,
    pub hostname: Option<String>,
    pub hostname_source: Option<String>,
    pub dns: Option<usize>,
    pub dns_note: Option<String>,
    pub warnings: Vec<Warning>,
}
