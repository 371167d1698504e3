//! The diagnostics of a run: one line per kind of problem, for standard error, as tshark
//! says "the capture appears to have been cut short" whatever else it prints.
//!
//! The source is the report's warnings ([`WarningKind`]) and facts, plus what the CLI knows
//! of the key logs it read ([`KeyFacts`]); a saved JSON report (a `diff` side) has no key
//! facts and gets what its warnings say. In order:
//!
//! 1. The file: cut short, corrupt, a read or decompression error, a link type not
//!    supported ("0 packets decoded: link type LINKTYPE_147 is not supported"), packets cut
//!    by the snaplen.
//! 2. Each key log file: empty, no usable line, some lines skipped.
//! 3. TLS and QUIC connections not decrypted, grouped by why: no key for their client
//!    random (counted by the dissectors' own warning text, [`tls::NO_SECRETS`] and
//!    [`quic_conn::NO_SECRETS`]), no key log at all, the handshake not captured, or the
//!    first key warning of the group.
//! 4. Every other kind of warning: how many, and the first in full.

use std::collections::BTreeMap;

use pagetrace::dissect::quic::conn as quic_conn;
use pagetrace::dissect::tls;
use pagetrace::pageload::model::{Report, TlsInfo};
use pagetrace::report::fmt::plural;
use pagetrace::warning::{Warning, WarningKind};

use super::input::KeyFacts;

/// The lines to print (without the `pagetrace: ` prefix), in the order above.
pub fn lines(r: &Report, keys: Option<&KeyFacts>) -> Vec<String> {
    let mut out = file_lines(r, keys.is_some());
    if let Some(k) = keys {
        out.extend(keylog_lines(k));
    }
    out.extend(undecrypted_lines(r, keys));
    out.extend(other_lines(r));
    out
}

fn name(r: &Report) -> &str {
    match r.capture.path.as_str() {
        "-" => "standard input",
        p => p,
    }
}

/// A capture-level warning that is about the file, not a packet in it.
fn is_cut(r: &Report, w: &Warning) -> bool {
    w.kind == WarningKind::Truncated && w.packet.is_none_or(|n| n > r.capture.packets)
}

fn file_lines(r: &Report, keys_known: bool) -> Vec<String> {
    let c = &r.capture;
    let mut out = Vec::new();
    for w in &c.warnings {
        match w.kind {
            _ if is_cut(r, w) => out.push(format!("{}: {}", name(r), w.message)),
            WarningKind::Corrupt | WarningKind::Io => {
                out.push(format!("{}: {}", name(r), w.message))
            }
            WarningKind::Unsupported => {
                let decoded = c.stats.tcp + c.stats.udp;
                out.push(if decoded == 0 {
                    format!("{}: 0 packets decoded: {}", name(r), w.message)
                } else {
                    format!("{}: {}; those packets were not decoded", name(r), w.message)
                });
            }
            // The CLI says it per key log file instead.
            WarningKind::Keylog if keys_known => {}
            WarningKind::Keylog => out.push(w.message.to_string()),
            _ => {}
        }
    }
    if c.stats.truncated > 0 {
        out.push(format!(
            "{}: {} cut by the snapshot length (snaplen): what was past it was not captured",
            name(r),
            plural(c.stats.truncated, "packet")
        ));
    }
    out
}

fn keylog_lines(k: &KeyFacts) -> Vec<String> {
    let mut out = Vec::new();
    for (name, s) in &k.files {
        if s.lines == 0 {
            out.push(format!("{name}: the key log is empty"));
        } else if s.accepted == 0 && s.bad > 0 {
            out.push(format!(
                "{name}: the key log has no usable line ({} of {} are not NSS key log lines)",
                s.bad,
                plural(s.lines, "line")
            ));
        } else if s.accepted == 0 {
            out.push(format!("{name}: the key log has no TLS secrets"));
        } else if s.bad > 0 {
            out.push(format!(
                "{name}: {} of {} are not NSS key log lines and were skipped",
                s.bad,
                plural(s.lines, "line")
            ));
        }
    }
    out
}

/// One connection not decrypted: its TLS facts and warnings, and the text of "no key".
struct Undecrypted<'a> {
    tls: Option<&'a TlsInfo>,
    warnings: &'a [Warning],
    no_secrets: &'static str,
}

/// Why a connection was not decrypted, in words; `None` when it cannot be told (a saved
/// report without key facts and no key warning).
/// `matched` says how many of the keys opened a connection (`none matched`).
fn why(u: &Undecrypted, keys: Option<&KeyFacts>, matched: &str) -> Option<String> {
    if u.warnings.iter().any(|w| w.message == u.no_secrets) {
        return Some(match keys {
            Some(k) => format!(
                "no key for their client random (the key log has {}, {matched})",
                plural(k.sessions, "key"),
            ),
            None => "no key for their client random".to_string(),
        });
    }
    if let Some(k) = keys.filter(|k| k.sessions == 0) {
        return Some(format!("no key log ({})", k.hint));
    }
    if u.tls.is_some_and(|t| t.client_hello.is_none()) {
        return Some("their handshake was not captured (no client random to look up)".into());
    }
    u.warnings
        .iter()
        .find(|w| matches!(w.kind, WarningKind::Keys | WarningKind::Decrypt))
        .map(|w| w.message.to_string())
}

fn undecrypted_lines(r: &Report, keys: Option<&KeyFacts>) -> Vec<String> {
    let tcp = r.connections.iter().filter_map(|c| {
        let t = c.tls.as_ref()?;
        let data = t.app_data.client.records + t.app_data.server.records;
        (!t.decrypted && data > 0).then_some(Undecrypted {
            tls: Some(t),
            warnings: &c.warnings,
            no_secrets: tls::NO_SECRETS,
        })
    });
    let quic = r.quic.iter().filter_map(|q| {
        let protected = q.client_packets.one_rtt + q.server_packets.one_rtt;
        let decrypted = q.tls.as_ref().is_some_and(|t| t.decrypted);
        (!decrypted && protected > 0).then_some(Undecrypted {
            tls: None,
            warnings: &q.warnings,
            no_secrets: quic_conn::NO_SECRETS,
        })
    });
    let decrypted = r
        .connections
        .iter()
        .filter_map(|c| c.tls.as_deref())
        .chain(r.quic.iter().filter_map(|q| q.tls.as_deref()))
        .filter(|t| t.decrypted)
        .count();
    let matched = match decrypted {
        0 => "none matched".to_string(),
        n => format!("{n} matched"),
    };
    let mut out = Vec::new();
    for (what, conns) in [
        ("TLS connection", tcp.collect::<Vec<_>>()),
        ("QUIC connection", quic.collect()),
    ] {
        // Reasons in order of first appearance, each with its count.
        let mut reasons: Vec<(String, u64)> = Vec::new();
        for u in &conns {
            let Some(why) = why(u, keys, &matched) else {
                continue;
            };
            match reasons.iter_mut().find(|(r, _)| *r == why) {
                Some((_, n)) => *n += 1,
                None => reasons.push((why, 1)),
            }
        }
        for (why, n) in reasons {
            out.push(format!("{} not decrypted: {why}", plural(n, what)));
        }
    }
    out
}

/// Every warning not said above, one line per kind: how many, and the first.
fn other_lines(r: &Report) -> Vec<String> {
    let capture = r.capture.warnings.iter().filter(|w| {
        !is_cut(r, w)
            && !matches!(
                w.kind,
                WarningKind::Corrupt
                    | WarningKind::Io
                    | WarningKind::Unsupported
                    | WarningKind::Keylog
                    | WarningKind::Truncated
            )
    });
    let tls_decrypted =
        |c: &pagetrace::pageload::model::Connection| c.tls.as_ref().is_some_and(|t| t.decrypted);
    // Key and decryption warnings of connections not decrypted were said as a group.
    let conns = r.connections.iter().flat_map(|c| {
        c.warnings.iter().filter(move |w| {
            tls_decrypted(c) || !matches!(w.kind, WarningKind::Keys | WarningKind::Decrypt)
        })
    });
    let quic = r.quic.iter().flat_map(|q| {
        let decrypted = q.tls.as_ref().is_some_and(|t| t.decrypted);
        q.warnings.iter().filter(move |w| {
            decrypted || !matches!(w.kind, WarningKind::Keys | WarningKind::Decrypt)
        })
    });
    let mut kinds: BTreeMap<WarningKind, (u64, &Warning)> = BTreeMap::new();
    for w in capture.chain(conns).chain(quic) {
        kinds.entry(w.kind).or_insert((0, w)).0 += 1;
    }
    kinds
        .into_iter()
        .map(|(kind, (n, first))| {
            let at = first
                .packet
                .map(|p| format!("packet {p}: "))
                .unwrap_or_default();
            format!(
                "{}, the first: {at}{}",
                plural(n, &format!("{kind} warning")),
                first.message
            )
        })
        .collect()
}
