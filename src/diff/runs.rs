//! Many page loads on each side (`pagetrace diff before/ after/`): per page metric and per
//! request, the distribution of each side's runs and whether the change is beyond the
//! run-to-run noise.
//!
//! - **Per request:** its TTFB, download (first response byte to last) and total time.
//! - **Matching.** Within a run, requests are keyed by method, host and path as in
//!   [`super::diff`] (the k-th request with a key in a run is occurrence k); across runs
//!   the same key and occurrence is the same request. A request seen in only some runs
//!   has fewer values on that side (`n`).
//! - **Each side's runs:** the median, the 90th percentile and the spread (the
//!   interquartile range, p75 − p25), percentiles interpolated between the closest ranks
//!   (numpy's default).
//! - **The change** is B's median minus A's. It is **significant** when a two-sided
//!   Mann–Whitney U test (ranks, so a single slow run cannot decide it) gives p below
//!   `alpha` (0.05) *and* the medians differ by more than the noise threshold (5 ms): a
//!   change too small to matter is not flagged however consistent. The test is exact (the
//!   distribution of the rank sum over every way of splitting the values, ties given
//!   their mean rank) up to 60 values, then the normal approximation with the tie and
//!   continuity corrections. With 5 runs a side the smallest two-sided p is 2/252 ≈ 0.008;
//!   with 3, 0.1: at least 4 runs a side are needed for anything to be significant at 0.05.
//!
//! - **Many comparisons.** A page of 20 requests makes 60 request tests: at 0.05, about
//!   three would pass by chance with nothing changed. So a change is significant on its
//!   **q-value**, the p-value adjusted by the Benjamini–Hochberg procedure over its family
//!   (the page metrics are one family, every request's metrics another), which keeps the
//!   expected share of false discoveries among the flagged below `alpha`. When most
//!   requests did change (a slower network), q stays close to p; when none did, a lone
//!   small p is not enough. The threshold still keeps tiny consistent changes out.

use std::collections::HashMap;
use std::io::{self, Write};

use comfy_table::Color;
use serde::Serialize;

use super::table::fmt_delta_ms;
use super::{page_metrics, requests_of, Unit};
use crate::pageload::model::Report;
use crate::report::fmt::{fit_first, fmt_bytes, fmt_ms, plural, round_us, Col, Fit, Paint, Text};

#[derive(Debug, Clone, Copy)]
pub struct RunsOptions {
    /// Changes of the median at or below this (ms, either way) are never significant.
    pub threshold_ms: f64,
    /// The rank test's level.
    pub alpha: f64,
}

impl Default for RunsOptions {
    fn default() -> RunsOptions {
        RunsOptions {
            threshold_ms: 5.0,
            alpha: 0.05,
        }
    }
}

/// The comparison of two sets of runs: the `--format json` document.
#[derive(Debug, Clone, Serialize)]
pub struct RunsDiff {
    pub runs_a: usize,
    pub runs_b: usize,
    pub threshold_ms: f64,
    pub alpha: f64,
    /// Page-level metrics (`page_ms`, phase sums and medians, counts), one value a run.
    pub page: Vec<MetricStats>,
    /// Every request seen in some run, in order of first request time in A's runs (then
    /// B's).
    pub requests: Vec<RequestStats>,
}

/// One side's values of a metric over its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Runs with a value.
    pub n: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    /// p75 − p25.
    pub iqr: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Every run's value, in run order (`null` where the run had none).
    pub values: Vec<Option<f64>>,
}

/// A metric on both sides, the change of its median and the rank test.
#[derive(Debug, Clone, Serialize)]
pub struct MetricStats {
    pub metric: &'static str,
    pub label: &'static str,
    #[serde(skip)]
    pub unit: Unit,
    pub a: Sample,
    pub b: Sample,
    /// B's median minus A's.
    pub delta: Option<f64>,
    /// Two-sided Mann–Whitney U p-value; `null` when a side has no value.
    pub p_value: Option<f64>,
    /// The p-value adjusted for its family's many tests (Benjamini–Hochberg).
    pub q_value: Option<f64>,
    /// `q_value` below `alpha` and the change beyond the threshold.
    pub significant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestStats {
    pub method: String,
    /// The URL of its first run.
    pub url: String,
    /// Which request with this method, host and path it is within a run (0 the first).
    pub occurrence: usize,
    pub ttfb_ms: MetricStats,
    pub download_ms: MetricStats,
    pub total_ms: MetricStats,
}

impl RequestStats {
    pub fn significant(&self) -> bool {
        self.metrics().iter().any(|m| m.significant)
    }

    /// TTFB, download and total, in the table's order.
    pub fn metrics(&self) -> [&MetricStats; 3] {
        [&self.ttfb_ms, &self.download_ms, &self.total_ms]
    }
}

/// Compares the runs of `a` with those of `b`.
pub fn compare_runs(a: &[Report], b: &[Report], opts: &RunsOptions) -> RunsDiff {
    let reqs_a: Vec<_> = a.iter().map(requests_of).collect();
    let reqs_b: Vec<_> = b.iter().map(requests_of).collect();
    // Page metrics: one list of (name, label, unit, value) per run, same order every run.
    let pages_a: Vec<_> = a
        .iter()
        .zip(&reqs_a)
        .map(|(r, q)| page_metrics(r, q))
        .collect();
    let pages_b: Vec<_> = b
        .iter()
        .zip(&reqs_b)
        .map(|(r, q)| page_metrics(r, q))
        .collect();
    let template = pages_a.first().or(pages_b.first());
    let mut page: Vec<MetricStats> = template
        .map(|t| {
            t.iter()
                .enumerate()
                .map(|(i, m)| {
                    let va: Vec<Option<f64>> = pages_a.iter().map(|p| p[i].value).collect();
                    let vb: Vec<Option<f64>> = pages_b.iter().map(|p| p[i].value).collect();
                    metric_stats(m.metric, m.label, m.unit, va, vb, opts)
                })
                .collect()
        })
        .unwrap_or_default();

    // Requests: key → per side, per run, the (ttfb, total) of that occurrence.
    type Key = (String, String, String, usize);
    let mut order: Vec<(Key, String)> = Vec::new();
    let mut values: HashMap<Key, [Vec<[Option<f64>; 3]>; 2]> = HashMap::new();
    for (side, runs) in [&reqs_a, &reqs_b].into_iter().enumerate() {
        for (run, reqs) in runs.iter().enumerate() {
            let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
            for r in reqs {
                let k = seen
                    .entry((r.method.as_str(), r.host.as_str(), r.path.as_str()))
                    .or_insert(0);
                let key = (r.method.clone(), r.host.clone(), r.path.clone(), *k);
                *k += 1;
                let v = values.entry(key.clone()).or_insert_with(|| {
                    order.push((key, r.url.clone()));
                    [vec![[None; 3]; a.len()], vec![[None; 3]; b.len()]]
                });
                v[side][run] = [r.side.ttfb_ms, r.side.download_ms, r.side.total_ms];
            }
        }
    }
    let mut requests: Vec<RequestStats> = order
        .into_iter()
        .map(|(key, url)| {
            let v = &values[&key];
            let col = |side: usize, i: usize| v[side].iter().map(|x| x[i]).collect::<Vec<_>>();
            RequestStats {
                method: key.0.clone(),
                url,
                occurrence: key.3,
                ttfb_ms: metric_stats("ttfb_ms", "TTFB", Unit::Ms, col(0, 0), col(1, 0), opts),
                download_ms: metric_stats(
                    "download_ms",
                    "download",
                    Unit::Ms,
                    col(0, 1),
                    col(1, 1),
                    opts,
                ),
                total_ms: metric_stats("total_ms", "total", Unit::Ms, col(0, 2), col(1, 2), opts),
            }
        })
        .collect();
    adjust(page.iter_mut(), opts);
    adjust(
        requests
            .iter_mut()
            .flat_map(|r| [&mut r.ttfb_ms, &mut r.download_ms, &mut r.total_ms]),
        opts,
    );
    RunsDiff {
        runs_a: a.len(),
        runs_b: b.len(),
        threshold_ms: opts.threshold_ms,
        alpha: opts.alpha,
        page,
        requests,
    }
}

fn metric_stats(
    metric: &'static str,
    label: &'static str,
    unit: Unit,
    a: Vec<Option<f64>>,
    b: Vec<Option<f64>>,
    opts: &RunsOptions,
) -> MetricStats {
    let xa: Vec<f64> = a
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let xb: Vec<f64> = b
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let (sa, sb) = (sample(&xa, a), sample(&xb, b));
    let delta = match (sa.median, sb.median) {
        (Some(x), Some(y)) => Some(round_us(y - x)),
        _ => None,
    };
    let p_value = mann_whitney(&xa, &xb);
    // Counts and bytes have no noise threshold: any consistent change is one.
    let beyond = match unit {
        Unit::Ms => delta.is_some_and(|d| d.abs() > opts.threshold_ms),
        Unit::Count | Unit::Bytes => delta.is_some_and(|d| d != 0.0),
    };
    MetricStats {
        metric,
        label,
        unit,
        // Set by `adjust`, over the family.
        significant: beyond,
        q_value: None,
        a: sa,
        b: sb,
        delta,
        p_value,
    }
}

/// Sets each test's q-value (Benjamini–Hochberg over the family's tests with a p-value)
/// and its significance: beyond the threshold (as `metric_stats` left it) and q < alpha.
fn adjust<'a>(family: impl Iterator<Item = &'a mut MetricStats>, opts: &RunsOptions) {
    let mut tests: Vec<&mut MetricStats> = family.collect();
    let q = bh_adjust(&tests.iter().map(|m| m.p_value).collect::<Vec<_>>());
    for (m, q) in tests.iter_mut().zip(q) {
        m.q_value = q;
        m.significant = m.significant && q.is_some_and(|q| q < opts.alpha);
    }
}

/// Benjamini–Hochberg adjusted p-values: with the m p-values sorted, the i-th (from 1)
/// becomes min over j ≥ i of p_(j)·m/j, at most 1. `None`s are not tests and stay `None`.
pub fn bh_adjust(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = p
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    order.sort_by(|x, y| x.1.total_cmp(&y.1));
    let m = order.len() as f64;
    let mut q = vec![None; p.len()];
    let mut running = 1.0f64;
    for (rank, &(i, pv)) in order.iter().enumerate().rev() {
        running = running.min(pv * m / (rank + 1) as f64);
        q[i] = Some(running.min(1.0));
    }
    q
}

fn sample(x: &[f64], values: Vec<Option<f64>>) -> Sample {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| percentile(&s, p).map(round_us);
    Sample {
        n: s.len(),
        median: q(0.5),
        p90: q(0.9),
        iqr: match (percentile(&s, 0.75), percentile(&s, 0.25)) {
            (Some(h), Some(l)) => Some(round_us(h - l)),
            _ => None,
        },
        min: s.first().copied(),
        max: s.last().copied(),
        values,
    }
}

/// The `p` quantile of sorted values, interpolated between the closest ranks.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    let last = n.checked_sub(1)?;
    let h = p.clamp(0.0, 1.0) * last as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    let (x, y) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(x + (h - lo as f64) * (y - x))
}

/// Most values for the exact test.
const EXACT_MAX: usize = 60;

/// The two-sided p-value of the Mann–Whitney U test of `a` against `b` (see the module
/// doc); `None` when either is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<f64> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let n = na + nb;
    // Ranks of the pooled values, ties at their mean, doubled to stay integers.
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut ranks2 = vec![0u64; n];
    let mut ties = 0f64;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1..=j+1; their mean, doubled: i + j + 2.
        for r in ranks2.iter_mut().take(j + 1).skip(i) {
            *r = (i + j + 2) as u64;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let observed: u64 = pooled
        .iter()
        .zip(&ranks2)
        .filter(|((_, in_a), _)| *in_a)
        .map(|(_, r)| r)
        .sum();
    // Doubled expected rank sum of A: na(n+1).
    let expected = (na * (n + 1)) as f64;
    let dev = (observed as f64 - expected).abs();
    if n <= EXACT_MAX {
        // counts[k][s]: ways to choose k of the values seen so far with doubled rank sum s.
        let max_sum: usize = ranks2.iter().map(|&r| r as usize).sum();
        let mut counts = vec![vec![0f64; max_sum + 1]; na + 1];
        counts[0][0] = 1.0;
        for &r in &ranks2 {
            let r = r as usize;
            for k in (1..=na).rev() {
                let (lower, upper) = counts.split_at_mut(k);
                let (from, to) = (&lower[k - 1], &mut upper[0]);
                for s in (r..=max_sum).rev() {
                    to[s] += from[s - r];
                }
            }
        }
        let total: f64 = counts[na].iter().sum();
        let extreme: f64 = counts[na]
            .iter()
            .enumerate()
            .filter(|(s, _)| (*s as f64 - expected).abs() >= dev - 1e-9)
            .map(|(_, c)| c)
            .sum();
        return Some((extreme / total).min(1.0));
    }
    let (fa, fb, fn_) = (na as f64, nb as f64, n as f64);
    let var = fa * fb / 12.0 * ((fn_ + 1.0) - ties / (fn_ * (fn_ - 1.0)));
    if var <= 0.0 {
        return Some(1.0);
    }
    // U's deviation is the rank sum's (undoubled); continuity correction of one half.
    let z = ((dev / 2.0) - 0.5).max(0.0) / var.sqrt();
    Some((2.0 * normal_tail(z)).min(1.0))
}

/// P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26, error under 1.5e-7).
fn normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

// ---------------------------------------------------------------------------------------
// The table

pub struct RunsTableOptions {
    pub color: bool,
    pub width: Option<u16>,
    pub a_label: String,
    pub b_label: String,
}

/// Writes the comparison as text tables: the page metrics, then every request.
pub fn write_runs_table<W: Write>(
    out: &mut W,
    d: &RunsDiff,
    opts: &RunsTableOptions,
) -> io::Result<()> {
    let p = Paint(opts.color);
    writeln!(out, "{}", p.bold("pagetrace diff"))?;
    writeln!(
        out,
        "  A: {} ({})",
        opts.a_label,
        plural(d.runs_a as u64, "run")
    )?;
    writeln!(
        out,
        "  B: {} ({})",
        opts.b_label,
        plural(d.runs_b as u64, "run")
    )?;
    writeln!(
        out,
        "  each side's median, p90 and spread (p75 − p25) over its runs; Δ = B − A of the \
         medians; q = Mann–Whitney U p adjusted for the many tests (Benjamini–Hochberg); \
         * = significant (q < {}, |Δ| > {})",
        d.alpha,
        fmt_ms(d.threshold_ms)
    )?;
    writeln!(out)?;
    writeln!(out, "{}", p.bold("Page"))?;
    let mut wide = Fit::new(metric_cols("metric"));
    for m in &d.page {
        wide.row(metric_row(m.label.to_string(), m));
    }
    writeln!(out, "{}", fit_first(vec![wide], opts.width, opts.color))?;
    let n_sig = d.requests.iter().filter(|r| r.significant()).count();
    writeln!(out)?;
    writeln!(
        out,
        "{} {}, {} changed significantly",
        p.bold("Requests:"),
        d.requests.len(),
        n_sig
    )?;
    let mut cols = metric_cols("request");
    cols[0] = Col::cut("request", 24, 1);
    cols.insert(1, Col::left("phase"));
    let mut t = Fit::new(cols);
    for r in &d.requests {
        let name = match r.occurrence {
            0 => format!("{} {}", r.method, r.url),
            k => format!("{} {} (#{})", r.method, r.url, k + 1),
        };
        for (i, m) in r.metrics().into_iter().enumerate() {
            let mut row = metric_row(if i == 0 { name.clone() } else { String::new() }, m);
            row.insert(1, m.label.into());
            t.row(row);
        }
    }
    writeln!(out, "{}", fit_first(vec![t], opts.width, opts.color))
}

fn metric_cols(first: &'static str) -> Vec<Col> {
    vec![
        Col::left(first),
        Col::right("A median"),
        Col::right("A p90"),
        Col::right("A spread"),
        Col::right("B median"),
        Col::right("B p90"),
        Col::right("B spread"),
        Col::right("Δ median"),
        Col::right("q"),
    ]
}

fn metric_row(name: String, m: &MetricStats) -> Vec<Text> {
    let v = |x: Option<f64>| match (x, m.unit) {
        (None, _) => "–".to_string(),
        (Some(x), Unit::Ms) => fmt_ms(x),
        (Some(x), Unit::Bytes) => fmt_bytes(x.max(0.0) as u64),
        (Some(x), Unit::Count) => format!("{x}"),
    };
    let delta = match m.unit {
        Unit::Ms => fmt_delta_ms(m.delta),
        _ => m.delta.map_or("–".into(), |d| format!("{d:+}")),
    };
    let colour = m.significant.then(|| {
        if m.delta.unwrap_or(0.0) > 0.0 {
            Color::Red
        } else {
            Color::Green
        }
    });
    let mark = if m.significant { " *" } else { "" };
    vec![
        name.into(),
        v(m.a.median).into(),
        v(m.a.p90).into(),
        v(m.a.iqr).into(),
        v(m.b.median).into(),
        v(m.b.p90).into(),
        v(m.b.iqr).into(),
        Text {
            text: format!("{delta}{mark}"),
            fg: colour,
        },
        m.q_value.map_or("–".into(), |q| format!("{q:.3}")).into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&s, 0.5), Some(3.0));
        assert_eq!(percentile(&s, 0.9), Some(4.6));
        assert_eq!(percentile(&s, 0.25), Some(2.0));
        assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn mann_whitney_exact_matches_the_tables() {
        // Complete separation of 5 and 5: 2 of the 252 splits are as extreme.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let p = mann_whitney(&a, &b).unwrap();
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        assert_eq!(mann_whitney(&b, &a), Some(p));
        // 3 and 3 cannot go below 2/20.
        assert!((mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap() - 0.1).abs() < 1e-12);
        // Identical samples (all ties): nothing.
        assert_eq!(mann_whitney(&[1.0; 4], &[1.0; 4]), Some(1.0));
        // Interleaved: p = 1 (U at its mean).
        assert_eq!(
            mann_whitney(&[1.0, 4.0, 5.0, 8.0], &[2.0, 3.0, 6.0, 7.0]),
            Some(1.0)
        );
        // U = 1: the splits with U 0 or 1, at either end, are 4 of 252.
        let p = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 6.0], &[5.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 4.0 / 252.0).abs() < 1e-12, "{p}");
        assert_eq!(mann_whitney(&[], &[1.0]), None);
    }

    #[test]
    fn mann_whitney_normal_approximation_beyond_60_values() {
        // 40 against 40, shifted by 10 with values 0..40: far beyond noise.
        let a: Vec<f64> = (0..40).map(f64::from).collect();
        let b: Vec<f64> = (10..50).map(f64::from).collect();
        let p = mann_whitney(&a, &b).unwrap();
        // U = 450 of 1600, z = 3.3637 with the tie and continuity corrections:
        // erfc(z / sqrt 2) = 0.00076917.
        assert!((p - 0.000_769_17).abs() < 1e-6, "{p}");
        let same = mann_whitney(&a, &a).unwrap();
        assert!(same > 0.95, "{same}");
    }

    #[test]
    fn benjamini_hochberg_matches_r_p_adjust() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02.
        let q = bh_adjust(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005)]);
        let want = [Some(0.02), Some(0.04), None, Some(0.04), Some(0.02)];
        for (q, w) in q.iter().zip(want) {
            assert_eq!(q.is_some(), w.is_some());
            assert!(
                (q.unwrap_or(0.0) - w.unwrap_or(0.0)).abs() < 1e-12,
                "{q:?} {w:?}"
            );
        }
        // 60 tests with nothing changed and one small p: not a discovery at 0.05.
        let mut p = vec![Some(0.5); 59];
        p.push(Some(0.0023));
        assert!(bh_adjust(&p)[59].unwrap() > 0.05);
    }
}
