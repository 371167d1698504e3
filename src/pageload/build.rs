//! The report of one TCP connection, from what the TCP stage and the dissectors found.
//!
//! The only place their typed facts become the report's fields: TCP's counters indexed by
//! direction become `client`/`server` pairs, its teardown steps the `FIN>`/`<ACK` sequence,
//! the hostname is taken from the SNI, else an HTTP `Host`/`:authority` (DNS fills it later,
//! in [`super::stitch::link_dns`]).

use crate::dissect::http::{DecodeStop, Decoded, Exchange, HttpVersion, StreamReset};
use crate::dissect::http2::frame::error_code_name;
use crate::dissect::tls::TlsFacts;
use crate::net::flow::Dir;
use crate::net::TcpOptionSummary;
use crate::pageload::model::{
    AppProtocol, ClientBy, CloseKind, Connection, DataRtt, DecodePartial, DnsTransport,
    EncryptedDns, HostnameSource, HttpExchange, PerDir, RttStats, Side, TcpClose, TcpInfo,
    TcpOptions, TeardownFlags, TeardownStep, Timeline, Warning, WarningKind,
};
use crate::tcp::{self, TcpFacts};
use crate::time::round_ms;

/// What the pipeline hands over when a TCP connection has ended.
pub struct TcpOutcome {
    pub facts: TcpFacts,
    pub protocol: Option<AppProtocol>,
    pub tls: Option<TlsFacts>,
    pub http: Vec<Exchange>,
    /// The connection's warnings in the order they happened, and how many more the cap
    /// dropped.
    pub warnings: Vec<Warning>,
    pub warnings_dropped: u64,
    /// DNS queries read from the stream (DNS over TCP, or decrypted DNS over TLS).
    pub dns_queries: u64,
}

/// The report of a finished connection (DNS is linked later, by
/// [`super::stitch::link_dns`]).
pub fn tcp_connection(o: TcpOutcome) -> Connection {
    let TcpOutcome {
        facts,
        protocol,
        tls,
        mut http,
        mut warnings,
        warnings_dropped,
        dns_queries,
    } = o;
    let encrypted_dns = encrypted_dns(facts.server.port(), protocol, tls.as_ref(), dns_queries);
    let hints: Vec<super::diagnosis::WireHints> = http
        .iter_mut()
        .map(|e| super::diagnosis::WireHints {
            resent: std::mem::take(&mut e.resent_in),
            response_wire_ts: e.response_wire_ts,
        })
        .collect();
    let mut http: Vec<HttpExchange> = http.into_iter().map(exchange).collect();
    let near = super::diagnosis::capture_near(facts.syn_ts, facts.synack_ts, facts.ack_ts);
    // One round trip: the handshake's, else (a capture that began with the connection open)
    // the data's.
    let tcp = tcp_info(&facts);
    let rtt_ms = facts.handshake_ms.or(tcp.rtt.min_ms);
    let diagnosis =
        super::diagnosis::diagnose_tcp(&facts.events.list, rtt_ms, near, &mut http, &hints);
    let tls = tls.map(|t| super::tls::tls_info(&t, false));
    if warnings_dropped > 0 {
        warnings.push(Warning::new(
            None,
            WarningKind::Cap,
            format!("{warnings_dropped} more warnings on this connection not listed"),
        ));
    }
    let (hostname, hostname_source) = if let Some(sni) = tls.as_ref().and_then(|t| t.sni.clone()) {
        (Some(sni), Some(HostnameSource::Sni))
    } else if let Some(host) = http.iter().find_map(|h| host_header(&h.request_headers)) {
        (Some(host), Some(HostnameSource::Http))
    } else {
        (None, None)
    };
    Connection {
        id: facts.id,
        tcp_stream: facts.stream,
        first_packet: facts.first_frame,
        last_packet: facts.last_frame,
        client: facts.client,
        server: facts.server,
        hostname,
        hostname_source,
        dns: None,
        dns_note: None,
        client_by: client_by(facts.client_by),
        app_protocol: protocol,
        encrypted_dns,
        https_record: None,
        tcp,
        tls: tls.map(Box::new),
        http,
        diagnosis,
        timeline: Timeline::default(),
        warnings,
    }
}

/// DNS over TLS: decrypted (the queries read), or told by port 853 or the ALPN `dot`
/// offered or chosen (the client's records long enough to hold a DNS message).
fn encrypted_dns(
    port: u16,
    protocol: Option<AppProtocol>,
    tls: Option<&TlsFacts>,
    dns_queries: u64,
) -> Option<EncryptedDns> {
    if protocol == Some(AppProtocol::TlsDns) {
        return Some(EncryptedDns {
            protocol: DnsTransport::Dot,
            decrypted: true,
            queries: Some(dns_queries),
        });
    }
    let tls = tls?;
    if protocol.is_some_and(|p| p != AppProtocol::Tls) {
        return None;
    }
    let offered = tls
        .client_hello
        .as_ref()
        .is_some_and(|ch| ch.alpn.iter().any(|a| a == "dot"));
    if port != 853 && !offered && tls.alpn.as_deref() != Some("dot") {
        return None;
    }
    let c = &tls.client;
    Some(EncryptedDns {
        protocol: DnsTransport::Dot,
        decrypted: false,
        queries: Some(c.records.saturating_sub(c.small_records)),
    })
}

/// `HTTP/1.1`, `HTTP/2`, ... as the report spells versions.
pub fn version_name(v: HttpVersion) -> &'static str {
    match v {
        HttpVersion::Http10 => "HTTP/1.0",
        HttpVersion::Http11 => "HTTP/1.1",
        HttpVersion::Http2 => "HTTP/2",
        HttpVersion::Http3 => "HTTP/3",
    }
}

/// The name of a stream reset's error code.
pub fn reset_name(r: StreamReset) -> String {
    match r {
        StreamReset::Http2(code) => error_code_name(code),
        StreamReset::Http3(code) => crate::dissect::http3::frame::error_name(code)
            .map_or_else(|| format!("0x{code:x}"), str::to_string),
    }
}

/// One exchange of the report, from a dissector's.
pub fn exchange(e: Exchange) -> HttpExchange {
    HttpExchange {
        version: version_name(e.version).to_string(),
        stream: e.stream,
        request_version: e.request_version.map(|v| version_name(v).to_string()),
        response_version: e.response_version.map(|v| version_name(v).to_string()),
        ttfb_ms: e.ttfb_ms(),
        download_ms: e.download_ms(),
        informational: e.informational,
        method: e.method,
        path: e.path,
        url: e.url,
        status: e.status,
        reason: e.reason,
        request_ts: e.request_ts,
        request_end_ts: e.request_end_ts,
        response_ts: e.response_ts,
        response_end_ts: e.response_end_ts,
        request_packet: e.request_frame,
        response_packet: e.response_frame,
        request_headers: e.request_headers,
        response_headers: e.response_headers,
        request_body_bytes: e.request_body_bytes,
        body_bytes: e.body_bytes,
        body_decoded_bytes: match e.decoded {
            Decoded::Unknown => None,
            Decoded::Identity => Some(e.body_bytes),
            Decoded::Bytes { bytes, .. } => Some(bytes),
        },
        body_decoded_partial: match e.decoded {
            Decoded::Bytes {
                stop: Some(stop), ..
            } => Some(match stop {
                DecodeStop::Cap => DecodePartial::Cap,
                DecodeStop::Corrupt => DecodePartial::Corrupt,
                DecodeStop::Truncated => DecodePartial::Truncated,
            }),
            _ => None,
        },
        content_encoding: e.content_encoding,
        transfer_encoding: e.transfer_encoding,
        content_type: e.content_type,
        body_sha256: e.body_sha256,
        upgrade: e.upgrade.map(|u| u.as_str().to_string()),
        headers_truncated: e.headers_truncated,
        complete: e.complete,
        reset: e.reset.map(reset_name),
        pushed_by: e.pushed_by,
        redirected_from: None,
        redirect_to: None,
        diagnosis: Vec::new(),
    }
}

fn client_by(b: tcp::ClientBy) -> ClientBy {
    match b {
        tcp::ClientBy::Syn => ClientBy::Syn,
        tcp::ClientBy::SynAck => ClientBy::SynAck,
        tcp::ClientBy::Port => ClientBy::Port,
        tcp::ClientBy::FirstPacket => ClientBy::FirstPacket,
    }
}

/// The client or the server, for bytes travelling `dir`.
pub fn side(dir: Dir) -> Side {
    match dir {
        Dir::ToServer => Side::Client,
        Dir::ToClient => Side::Server,
    }
}

fn per_dir(v: tcp::PerDir) -> PerDir {
    PerDir {
        client: v[Dir::ToServer.index()],
        server: v[Dir::ToClient.index()],
    }
}

fn options(o: &TcpOptionSummary) -> TcpOptions {
    TcpOptions {
        mss: o.mss,
        wscale: o.wscale,
        sack: o.sack_permitted,
        timestamps: o.timestamps,
        fastopen: o.fastopen,
    }
}

fn close(c: &tcp::Close) -> TcpClose {
    TcpClose {
        kind: match c.kind {
            tcp::CloseKind::Open => CloseKind::Open,
            tcp::CloseKind::Fin => CloseKind::Fin,
            tcp::CloseKind::Rst => CloseKind::Rst,
        },
        initiator: c.initiator.map(side),
        ts: c.ts,
        sequence: c
            .steps
            .iter()
            .map(|s| TeardownStep {
                from: side(s.dir),
                flags: match s.flags {
                    tcp::StepFlags::Fin => TeardownFlags::Fin,
                    tcp::StepFlags::Ack => TeardownFlags::Ack,
                    tcp::StepFlags::FinAck => TeardownFlags::FinAck,
                    tcp::StepFlags::Rst => TeardownFlags::Rst,
                },
            })
            .collect(),
    }
}

/// The `tcp` part of the report.
pub fn tcp_info(f: &TcpFacts) -> TcpInfo {
    TcpInfo {
        syn_ts: f.syn_ts,
        synack_ts: f.synack_ts,
        ack_ts: f.ack_ts,
        handshake_ms: f.handshake_ms,
        client_isn: f.client_isn,
        server_isn: f.server_isn,
        handshake_valid: f.handshake_valid,
        options: options(&f.options),
        server_options: options(&f.server_options),
        bytes: per_dir(f.bytes),
        packets: per_dir(f.packets),
        retransmissions: per_dir(f.retransmissions),
        out_of_order: per_dir(f.out_of_order),
        zero_window: per_dir(f.zero_window),
        gaps: per_dir(f.gaps),
        close: close(&f.close),
        rtt: rtt(&f.rtt),
    }
}

/// The round-trip samples of both directions' data (TCP segments or QUIC packets).
pub(super) fn rtt(r: &[tcp::events::RttSamples; 2]) -> DataRtt {
    let stats = |s: &tcp::events::RttSamples| {
        (s.count > 0).then(|| {
            Box::new(RttStats {
                samples: s.count,
                min_ms: round_ms(s.min_ns as f64 / 1e6),
                mean_ms: round_ms(s.sum_ns as f64 / s.count as f64 / 1e6),
                max_ms: round_ms(s.max_ns as f64 / 1e6),
            })
        })
    };
    let (client, server) = (stats(&r[0]), stats(&r[1]));
    let min_ms = match (&client, &server) {
        (Some(c), Some(s)) => Some(round_ms(c.min_ms + s.min_ms)),
        _ => None,
    };
    DataRtt {
        client,
        server,
        min_ms,
    }
}

/// `Host` or `:authority`, without a port.
fn host_header(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host") || k == ":authority")
        .map(|(_, v)| strip_port(v).to_string())
        .filter(|h| !h.is_empty())
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ports_from_hosts() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("[fd99::2]:443"), "fd99::2");
        assert_eq!(strip_port("fd99::2"), "fd99::2");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
