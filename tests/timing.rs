//! The phase invariant, on every fixture and every capture of `../shared/captures` (with
//! its key log when there is one): for every request the phases are laid end to end, so
//! `blocked + dns + connect + send + wait + receive` is its time, no phase is negative
//! (HAR's -1 aside), `ssl` lies inside `connect`, and `startedDateTime + time` is the
//! request's last instant (its response's last byte, or the last packet of it seen).
//! Checked on the timing rows the HAR, waterfall and HTML share and on the HAR itself.

mod common;

use pagetrace::pageload::model::HttpExchange;
use pagetrace::pipeline::AnalyzerConfig;
use pagetrace::report::timing::{load_span, load_span_of, rows, Phase};
use pagetrace::time::Ts;

fn last_instant(h: &HttpExchange) -> Option<Ts> {
    [
        h.request_ts,
        h.request_end_ts,
        h.response_ts,
        h.response_end_ts,
    ]
    .into_iter()
    .flatten()
    .max()
}

#[test]
fn phases_never_overlap_and_add_up_to_the_time() {
    let root = common::root();
    let mut checked = 0;
    for (cap, keys) in common::captures() {
        let bytes = std::fs::read(root.join(&cap)).unwrap();
        let keylog = keys.map(|k| std::fs::read_to_string(root.join(k)).unwrap());
        let r = common::analyze_with(bytes, &cap, AnalyzerConfig::default(), keylog.as_deref());
        for row in rows(&r) {
            let t = row.timings;
            let phases = [
                t.blocked, t.dns, t.connect, t.ssl, t.send, t.wait, t.receive,
            ];
            for v in phases.into_iter().flatten() {
                assert!(v >= 0.0, "{cap} {}: a negative phase {t:?}", row.url);
            }
            if let (Some(ssl), Some(connect)) = (t.ssl, t.connect) {
                assert!(ssl <= connect + 1e-9, "{cap} {}: {t:?}", row.url);
            }
            // A connection row with no readable request ends with its data, not a phase.
            let sum = t.total()
                + row
                    .spans
                    .iter()
                    .filter(|s| s.phase == Phase::Data)
                    .map(|s| s.to.ms_since(s.from))
                    .sum::<f64>();
            assert!(
                (sum - row.duration_ms()).abs() < 1e-6,
                "{cap} {}: phases sum to {sum} ms, the row lasts {} ms ({t:?})",
                row.url,
                row.duration_ms()
            );
            // The spans tile the row: each starts where the one before ended.
            let mut at = row.start;
            for s in &row.spans {
                assert_eq!(s.from, at, "{cap} {}: {:?}", row.url, row.spans);
                assert!(s.to >= s.from);
                at = s.to;
            }
            if let Some((_, h)) = row.exchange {
                assert_eq!(at, row.end, "{cap} {}: {:?}", row.url, row.spans);
                assert_eq!(Some(row.end), last_instant(h), "{cap} {}", row.url);
                checked += 1;
            } else {
                assert!(row.spans.iter().all(|s| s.phase != Phase::Send));
            }
        }
    }
    // The fixtures hold about 60 requests; with the corpus, about 280.
    let least = if common::shared_captures().is_some() {
        250
    } else {
        40
    };
    assert!(checked > least, "only {checked} requests checked");
    eprintln!("{checked} requests: phases add up and never overlap");
}

/// The HAR of every capture holds the same invariant in its own numbers (rounded to the
/// microsecond): `time` is the sum of the phases, and `send`, `wait`, `receive` are never
/// negative.
#[test]
fn har_time_is_the_sum_of_its_phases() {
    let root = common::root();
    for (cap, keys) in common::captures() {
        let mut args = vec![
            "analyze".to_string(),
            cap.clone(),
            "--format".into(),
            "har".into(),
        ];
        if let Some(k) = keys {
            args.extend(["--keylog".into(), k]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pagetrace"))
            .args(&args)
            .current_dir(&root)
            .env_remove("SSLKEYLOGFILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{cap}");
        let har: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for e in har["log"]["entries"].as_array().unwrap() {
            let t = &e["timings"];
            let get = |k: &str| t[k].as_f64().unwrap();
            for k in ["send", "wait", "receive"] {
                assert!(get(k) >= 0.0, "{cap}: {k} {t}");
            }
            for k in ["blocked", "dns", "connect", "ssl"] {
                assert!(get(k) >= 0.0 || get(k) == -1.0, "{cap}: {k} {t}");
            }
            let sum: f64 = ["blocked", "dns", "connect", "send", "wait", "receive"]
                .iter()
                .map(|k| get(k))
                .filter(|v| *v >= 0.0)
                .sum();
            let time = e["time"].as_f64().unwrap();
            assert!(
                (sum - time).abs() < 0.002,
                "{cap}: time {time}, phases {sum}: {t}"
            );
        }
    }
}

/// The page load's span from the rows' ends alone (the table's summary line) is the span
/// of the rows themselves, on every capture, and on a folded flood of connection rows.
#[test]
fn the_load_span_without_rows_is_the_rows_span() {
    let root = common::root();
    let mut spans = 0;
    for (cap, keys) in common::captures() {
        let bytes = std::fs::read(root.join(&cap)).unwrap();
        let keylog = keys.map(|k| std::fs::read_to_string(root.join(k)).unwrap());
        let r = common::analyze_with(bytes, &cap, AnalyzerConfig::default(), keylog.as_deref());
        let span = load_span(&rows(&r));
        assert_eq!(load_span_of(&r), span, "{cap}");
        spans += usize::from(span.is_some());
    }
    let mut w = common::gen::PcapWriter::new(Vec::new(), common::gen::LINKTYPE_ETHERNET).unwrap();
    assert!(common::gen::hostile("lookups-and-syns", 2_000, &mut w).unwrap());
    let r = common::analyze_bytes(w.into_inner(), AnalyzerConfig::default());
    let span = load_span(&rows(&r));
    assert!(span.is_some());
    assert_eq!(load_span_of(&r), span);
    assert!(spans >= 30, "{spans} captures with a span");
}
