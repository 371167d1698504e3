//! The report's `tls` object, from a TLS dissector's [`TlsFacts`] (TLS over TCP, and the
//! TLS inside QUIC): IANA names for versions, suites, groups and extensions, JA3/JA3S/JA4,
//! the key exchange in words, and the handshake time.

use crate::dissect::tls::{
    fingerprint, names, AlertLevel as WireLevel, AppDataStats, ClientHello, KeyExchangeParams,
    ServerHello, TlsFacts,
};
use crate::pageload::model::{
    AlertLevel, Certificate, ClientHelloInfo, EarlyData, PerDir, RecordStats, ServerHelloInfo,
    Side, TlsAlert, TlsInfo, TlsPerDirStats,
};
use crate::time::ms_between;

/// How the report shows what a handshake told. `quic` marks the TLS inside QUIC (JA4's
/// `q` prefix).
pub fn tls_info(f: &TlsFacts, quic: bool) -> TlsInfo {
    let ch = f.client_hello.as_ref();
    let sh = f.server_hello_or_retry();
    let ja3_string = ch.filter(|c| !c.sslv2).map(fingerprint::ja3_string);
    let ja3 = ja3_string.as_deref().map(fingerprint::md5_hex);
    let ja3s = f
        .server_hello
        .as_ref()
        .map(|s| fingerprint::md5_hex(&fingerprint::ja3s_string(s)));
    let (key_exchange, key_exchange_group) = key_exchange(f);
    let done = f.handshake_done_ts;
    TlsInfo {
        version: sh.map(|s| names::version_name(s.version())),
        cipher: sh.map(|s| names::cipher_name(s.cipher)),
        cipher_id: sh.map(|s| s.cipher),
        sni: ch.and_then(|c| c.sni.clone()),
        alpn_offered: ch.map(|c| c.alpn.clone()).unwrap_or_default(),
        alpn: f.alpn.clone(),
        ja3,
        ja3_string,
        ja3s,
        ja4: ch.filter(|c| !c.sslv2).map(|c| fingerprint::ja4(c, quic)),
        resumed: f.resumed,
        hello_retry: f.hello_retry.is_some(),
        client_hello_ts: f.client_hello_ts,
        server_hello_ts: f.server_hello_ts,
        handshake_done_ts: done,
        handshake_ms: ms_between(f.client_hello_ts, done),
        client_ready_ts: f.client_ready_ts,
        ready_ms: ms_between(f.client_hello_ts, f.client_ready_ts),
        server_finished_ts: f.server_finished_ts,
        false_start: f.false_start,
        certificates: f.certificates.iter().map(certificate).collect(),
        decrypted: f.decrypted,
        client_hello: ch.map(client_hello_info),
        server_hello: sh.map(server_hello_info),
        key_exchange,
        key_exchange_group,
        early_data: EarlyData {
            offered: ch.is_some_and(|c| c.early_data),
            accepted: f.early_data_accepted,
        },
        client_first_app_data_ts: f.client.first_ts,
        server_first_app_data_ts: f.server.first_ts,
        app_data: TlsPerDirStats {
            client: record_stats(&f.client),
            server: record_stats(&f.server),
        },
        alerts: f.alerts.iter().map(alert).collect(),
        change_cipher_spec: PerDir {
            client: f.client.change_cipher_spec,
            server: f.server.change_cipher_spec,
        },
    }
}

fn record_stats(s: &AppDataStats) -> RecordStats {
    RecordStats {
        records: s.records,
        bytes: s.bytes,
    }
}

fn alert(a: &crate::dissect::tls::Alert) -> TlsAlert {
    TlsAlert {
        ts: a.ts,
        from: if a.from_client {
            Side::Client
        } else {
            Side::Server
        },
        level: match a.level {
            WireLevel::Warning => AlertLevel::Warning,
            WireLevel::Fatal => AlertLevel::Fatal,
            WireLevel::Encrypted => AlertLevel::Encrypted,
            WireLevel::Other(n) => AlertLevel::Other(n),
        },
        description: a
            .description
            .map_or_else(|| "encrypted".to_string(), names::alert_name),
    }
}

fn certificate(c: &crate::dissect::tls::CertInfo) -> Certificate {
    Certificate {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        not_before: c.not_before.clone(),
        not_after: c.not_after.clone(),
        san: c.san.clone(),
        key_type: c.key_type.clone(),
        serial: c.serial.clone(),
        sha256: c.sha256.clone(),
        valid_at_capture: c.valid_at_capture,
        matches_sni: c.matches_sni,
    }
}

/// The key exchange in words, and its group.
fn key_exchange(f: &TlsFacts) -> (Option<String>, Option<String>) {
    let Some(sh) = f.server_hello_or_retry() else {
        return (None, None);
    };
    if names::is_tls13(sh.version()) {
        return match sh.key_share_group {
            Some(g) => (
                Some(names::group_kx(g).to_string()),
                Some(names::group_name(g)),
            ),
            None if sh.psk_identity.is_some() => (Some("PSK".to_string()), None),
            None => (None, None),
        };
    }
    if f.resumed {
        // An abbreviated handshake (RFC 5246 7.3) exchanges no keys.
        return (None, None);
    }
    let kx = names::key_exchange_of(sh.cipher).map(str::to_string);
    let group = match &f.server_key_exchange {
        Some(KeyExchangeParams::NamedCurve(g)) => Some(names::group_name(*g)),
        Some(KeyExchangeParams::ExplicitCurve) => Some("explicit curve".to_string()),
        Some(KeyExchangeParams::Dh { prime_bits }) => Some(format!("DH {prime_bits}-bit")),
        _ => None,
    };
    (kx, group)
}

fn session_hex(id: &[u8]) -> Option<String> {
    (!id.is_empty()).then(|| fingerprint::hex(id))
}

fn client_hello_info(ch: &ClientHello) -> ClientHelloInfo {
    ClientHelloInfo {
        legacy_version: names::version_name(ch.legacy_version),
        session_id: session_hex(&ch.session_id),
        cipher_suites: ch.ciphers.iter().map(|&c| names::cipher_name(c)).collect(),
        compression_methods: ch.compression.clone(),
        extensions: ch
            .extensions
            .iter()
            .map(|&e| names::extension_name(e))
            .collect(),
        supported_versions: ch
            .supported_versions
            .iter()
            .map(|&v| names::version_name(v))
            .collect(),
        supported_groups: ch.groups.iter().map(|&g| names::group_name(g)).collect(),
        key_share_groups: ch
            .key_share_groups
            .iter()
            .map(|&g| names::group_name(g))
            .collect(),
        signature_algorithms: ch.sig_algs.iter().map(|&s| names::sigalg_name(s)).collect(),
        session_ticket: ch.session_ticket.is_some(),
        psk_offered: ch.psk,
        psk_modes: ch
            .psk_modes
            .iter()
            .map(|&m| names::psk_mode_name(m))
            .collect(),
        early_data: ch.early_data,
        ech: ch.ech,
        ech_config_id: ch.ech_config_id,
        grease: ch
            .ciphers
            .iter()
            .chain(&ch.extensions)
            .chain(&ch.groups)
            .chain(&ch.supported_versions)
            .any(|&v| names::is_grease(v)),
    }
}

fn server_hello_info(sh: &ServerHello) -> ServerHelloInfo {
    ServerHelloInfo {
        legacy_version: names::version_name(sh.legacy_version),
        session_id: session_hex(&sh.session_id),
        extensions: sh
            .extensions
            .iter()
            .map(|&e| names::extension_name(e))
            .collect(),
        key_share_group: sh.key_share_group.map(names::group_name),
        psk_accepted: sh.psk_identity.is_some(),
    }
}
