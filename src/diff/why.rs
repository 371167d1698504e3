//! What made B slower (or faster): the requests' diagnoses ([`crate::pageload::diagnosis`])
//! totalled per kind on each side, and the difference.
//!
//! A request's delays are its exchange's `diagnosis`, plus its connection's own (a resent
//! SYN, loss in the handshakes) when it is the connection's first request, whose time holds
//! the setup. The page's are every request's and every connection's, summed: requests that
//! ran at once each count the waits they shared, so the sums say what held requests back,
//! not a share of the page time. Capture gaps cost nothing and are left out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pageload::model::{Delay, DelayKind, Report};
use crate::report::fmt::round_us;

/// One kind of delay on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelayDelta {
    pub kind: DelayKind,
    pub a_count: usize,
    pub b_count: usize,
    pub a_ms: f64,
    pub b_ms: f64,
    /// `b_ms - a_ms`.
    pub delta_ms: f64,
}

/// Delays per kind: how many, how many milliseconds.
pub type Totals = BTreeMap<DelayKind, (usize, f64)>;

/// Adds `delays` to `t`.
pub fn add(t: &mut Totals, delays: &[Delay]) {
    for d in delays.iter().filter(|d| d.kind != DelayKind::CaptureGap) {
        let e = t.entry(d.kind).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += d.ms;
    }
}

/// The page's delays: every exchange's and every connection's.
pub fn page_totals(r: &Report) -> Totals {
    let mut t = Totals::new();
    for c in &r.connections {
        add(&mut t, &c.diagnosis);
        for h in &c.http {
            add(&mut t, &h.diagnosis);
        }
    }
    for q in &r.quic {
        for h in &q.http {
            add(&mut t, &h.diagnosis);
        }
    }
    t
}

/// The kinds whose time changed by more than `threshold_ms`, the largest change first.
pub fn deltas(a: &Totals, b: &Totals, threshold_ms: f64) -> Vec<DelayDelta> {
    let kinds: std::collections::BTreeSet<DelayKind> = a.keys().chain(b.keys()).copied().collect();
    let mut out: Vec<DelayDelta> = kinds
        .into_iter()
        .map(|kind| {
            let (ac, am) = a.get(&kind).copied().unwrap_or((0, 0.0));
            let (bc, bm) = b.get(&kind).copied().unwrap_or((0, 0.0));
            DelayDelta {
                kind,
                a_count: ac,
                b_count: bc,
                a_ms: round_us(am),
                b_ms: round_us(bm),
                delta_ms: round_us(bm - am),
            }
        })
        .filter(|d| d.delta_ms.abs() > threshold_ms)
        .collect();
    out.sort_by(|x, y| y.delta_ms.abs().total_cmp(&x.delta_ms.abs()));
    out
}

/// What a kind is called in a sentence, and whether counting it says something.
fn name(kind: DelayKind) -> (&'static str, bool) {
    match kind {
        DelayKind::SynRetransmission => ("resent SYN", true),
        DelayKind::RtoRetransmission => ("retransmission timeout", true),
        DelayKind::FastRetransmission => ("fast retransmission", true),
        DelayKind::SpuriousRetransmission => ("spurious retransmission", true),
        DelayKind::FinRetransmission => ("resent FIN", true),
        DelayKind::ZeroWindow => ("zero window", true),
        DelayKind::WindowLimited => ("full receive window", true),
        DelayKind::CongestionWindow => ("congestion window wait", true),
        DelayKind::HeadOfLine => ("head-of-line wait", true),
        DelayKind::ServerThink => ("server think time", false),
        DelayKind::CaptureGap => ("capture gap", true),
    }
}

/// `2 retransmission timeouts (+380.2 ms), server think time +31.0 ms`.
pub fn sentence(deltas: &[DelayDelta]) -> String {
    let parts: Vec<String> = deltas
        .iter()
        .map(|d| {
            let (what, counted) = name(d.kind);
            if counted {
                let n = d.b_count;
                let counts = if d.a_count > 0 {
                    format!(
                        "{n} {what}{} (A {})",
                        if n == 1 { "" } else { "s" },
                        d.a_count
                    )
                } else {
                    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
                };
                format!("{counts} ({:+.1} ms)", d.delta_ms)
            } else {
                format!("{what} {:+.1} ms", d.delta_ms)
            }
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::Side;

    fn delay(kind: DelayKind, ms: f64) -> Delay {
        Delay {
            kind,
            dir: Side::Server,
            ms,
            frames: vec![],
            note: String::new(),
            from_ts: None,
            to_ts: None,
        }
    }

    #[test]
    fn totals_per_kind_and_the_sentence_names_the_largest_change_first() {
        let mut a = Totals::new();
        add(&mut a, &[delay(DelayKind::ServerThink, 100.0)]);
        let mut b = Totals::new();
        add(
            &mut b,
            &[
                delay(DelayKind::RtoRetransmission, 200.0),
                delay(DelayKind::RtoRetransmission, 180.2),
                delay(DelayKind::ServerThink, 131.0),
                delay(DelayKind::CaptureGap, 0.0),
                delay(DelayKind::FastRetransmission, 2.0),
            ],
        );
        let d = deltas(&a, &b, 5.0);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].kind, DelayKind::RtoRetransmission);
        assert_eq!(
            sentence(&d),
            "2 retransmission timeouts (+380.2 ms), server think time +31.0 ms"
        );
    }
}
