//! The report's `quic` entries, from the QUIC tracker's [`QuicFacts`].

use crate::dissect::http::Exchange;
use crate::dissect::quic::conn::{
    transport_error_name, CloseFrame, PacketCounts, QuicClientBy, QuicFacts, Side as QuicSide,
};
use crate::dissect::quic::packet::version_name;
use crate::dissect::tls::fingerprint::hex;
use crate::pageload::model::{
    AddressChange, ClientBy, HostnameSource, PerDir, QuicClose, QuicCloseKind, QuicConnection,
    QuicDecryption, QuicPacketCounts, Side,
};
use crate::time::{ms_between, round_ms};

/// One QUIC connection of the report, with its HTTP/3 exchanges (DNS is linked later, by
/// [`super::stitch::link_dns_quic`]).
pub fn quic_connection(f: QuicFacts, http: Vec<Exchange>) -> QuicConnection {
    let mut r = QuicConnection::new(
        f.id,
        f.client,
        f.server,
        match f.client_by {
            QuicClientBy::Initial => ClientBy::Initial,
            QuicClientBy::Port => ClientBy::Port,
        },
        f.first_ts,
    );
    r.version = f.version.map(version_name).unwrap_or_default();
    r.versions = f.versions.iter().map(|&v| version_name(v)).collect();
    r.dcid = hex(&f.dcid);
    r.scid = hex(&f.scid);
    r.server_scid = f.server_scid.as_deref().map(hex);
    r.last_ts = f.last_ts;
    r.first_packet = f.first_frame;
    r.last_packet = f.last_frame;
    let pair = |v: [u64; 2]| PerDir {
        client: v[0],
        server: v[1],
    };
    r.packets = pair(f.packets);
    r.bytes = pair(f.bytes);
    r.datagrams = pair(f.datagrams);
    let [c, s] = &f.packet_counts;
    r.client_packets = counts(c);
    r.server_packets = counts(s);
    r.client_initial_ts = f.client_initial_ts;
    r.server_initial_ts = f.server_initial_ts;
    r.server_handshake_ts = f.server_handshake_ts;
    r.server_initial_ms = ms_between(r.client_initial_ts, r.server_initial_ts).map(round_ms);
    r.handshake_ms = ms_between(r.client_initial_ts, r.server_handshake_ts).map(round_ms);
    r.initials_decrypted = f.initials_decrypted;
    r.initials_failed = f.initials_failed;
    r.close = f.closes.iter().map(close).collect();
    r.warnings = f.warnings;
    r.http = http.into_iter().map(super::build::exchange).collect();
    r.rtt = super::build::rtt(&f.rtt);
    // One round trip: the first Initial exchange holds the server's handshake work too; the
    // ACK frames' samples do not. Both can only be longer than the path, so the shorter.
    let rtt_ms = match (r.server_initial_ms, r.rtt.min_ms) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    super::diagnosis::diagnose_quic(rtt_ms, &mut r.http);
    r.handshake_done_ts = f.handshake_done_ts;
    r.address_changes = f
        .address_changes
        .iter()
        .map(|a| AddressChange {
            ts: a.ts,
            side: side(a.side),
            addr: a.addr,
        })
        .collect();
    r.decryption = f.decryption.as_ref().map(|d| QuicDecryption {
        handshake: d.handshake,
        zero_rtt: d.zero_rtt,
        one_rtt: d.one_rtt,
        no_keys: d.no_keys,
        failed: d.failed,
        key_updates: PerDir {
            client: u64::from(d.key_updates[0]),
            server: u64::from(d.key_updates[1]),
        },
    });
    if let Some(t) = &f.tls {
        let mut info = super::tls::tls_info(t, true);
        // The handshake ends with the client's Finished when the Handshake packets were
        // read; without keys, at the server's first Handshake packet.
        if info.handshake_done_ts.is_none() {
            info.handshake_ms = r.handshake_ms;
        }
        r.hostname = info.sni.clone();
        r.hostname_source = r.hostname.as_ref().map(|_| HostnameSource::Sni);
        r.tls = Some(Box::new(info));
    }
    r
}

fn side(s: QuicSide) -> Side {
    match s {
        QuicSide::Client => Side::Client,
        QuicSide::Server => Side::Server,
    }
}

fn counts(c: &PacketCounts) -> QuicPacketCounts {
    QuicPacketCounts {
        initial: c.initial,
        zero_rtt: c.zero_rtt,
        handshake: c.handshake,
        retry: c.retry,
        one_rtt: c.one_rtt,
        version_negotiation: c.version_negotiation,
    }
}

fn close(c: &CloseFrame) -> QuicClose {
    QuicClose {
        ts: c.ts,
        from: side(c.from),
        kind: if c.application {
            QuicCloseKind::Application
        } else {
            QuicCloseKind::Transport
        },
        error_code: c.error_code,
        error: if c.application {
            format!("0x{:x}", c.error_code)
        } else {
            transport_error_name(c.error_code)
        },
        frame_type: c.frame_type,
        reason: c.reason.clone(),
    }
}
