//! The per-host summary: for each host a page talked to, its requests, bytes, protocols,
//! median and slowest time to first byte, and errors.
//!
//! # Consumes
//! The report only. A request's host is its URL's (so HTTP/2 connection coalescing splits
//! by host); a connection whose requests could not be read (TLS without keys) counts for
//! its `hostname`, with its ALPN (`h3` for QUIC) as protocol.
//!
//! # Produces
//! One [`HostSummary`] per host, in order of first request (or first packet, for a host
//! seen only on encrypted connections). `bytes` adds the response bodies as transferred
//! and, for connections whose requests could not be read, what the server sent on them;
//! `errors` counts responses of status 400 or more and reset streams. The median of an even
//! number of times is the mean of the middle two.

use std::collections::BTreeSet;

use crate::pageload::model::{Connection, HttpExchange, Report};
use crate::time::Ts;

#[derive(Debug, Clone, PartialEq)]
pub struct HostSummary {
    pub host: String,
    /// TCP and QUIC connections that carried its requests (or were opened to it).
    pub connections: usize,
    pub requests: usize,
    pub bytes: u64,
    /// `h1`, `h2`, `h3`, in that order.
    pub protocols: Vec<&'static str>,
    pub median_ttfb_ms: Option<f64>,
    pub slowest_ttfb_ms: Option<f64>,
    pub errors: usize,
}

#[derive(Default)]
struct Acc {
    first: Option<Ts>,
    conns: BTreeSet<(bool, u64)>,
    requests: usize,
    bytes: u64,
    protocols: BTreeSet<&'static str>,
    ttfb: Vec<f64>,
    errors: usize,
}

impl Acc {
    fn seen(&mut self, ts: Option<Ts>) {
        if let Some(t) = ts {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
        }
    }

    fn request(&mut self, conn: (bool, u64), h: &HttpExchange) {
        self.seen(h.request_ts);
        self.conns.insert(conn);
        self.requests += 1;
        self.bytes += h.body_bytes;
        self.protocols.extend(h.proto());
        self.ttfb.extend(h.ttfb_ms);
        if h.status.is_some_and(|s| s >= 400) || h.reset.is_some() {
            self.errors += 1;
        }
    }
}

/// The ALPN of a TCP connection as `h1`/`h2`.
fn alpn_proto(c: &Connection) -> Option<&'static str> {
    match c.tls.as_ref()?.alpn.as_deref()? {
        "h2" => Some("h2"),
        "http/1.1" | "http/1.0" => Some("h1"),
        _ => None,
    }
}

/// The summary of every host, in order of first sight.
pub fn hosts(r: &Report) -> Vec<HostSummary> {
    let mut by: Vec<(String, Acc)> = Vec::new();
    let mut acc = |host: &str| -> usize {
        match by.iter().position(|(h, _)| h == host) {
            Some(i) => i,
            None => {
                by.push((host.to_string(), Acc::default()));
                by.len() - 1
            }
        }
    };
    let mut slots = Vec::new();
    for c in &r.connections {
        let fallback = c.hostname.as_deref();
        for h in &c.http {
            if let Some(host) = h.host().or(fallback) {
                slots.push((acc(host), (false, c.id), Some(h)));
            }
        }
        if c.http.is_empty() && c.tls.is_some() {
            if let Some(host) = fallback {
                slots.push((acc(host), (false, c.id), None));
            }
        }
    }
    for q in &r.quic {
        let fallback = q.hostname.as_deref();
        for h in &q.http {
            if let Some(host) = h.host().or(fallback) {
                slots.push((acc(host), (true, q.id), Some(h)));
            }
        }
        if q.http.is_empty() {
            if let Some(host) = fallback {
                slots.push((acc(host), (true, q.id), None));
            }
        }
    }
    for (i, conn, h) in slots {
        let a = &mut by[i].1;
        match h {
            Some(h) => a.request(conn, h),
            None => opaque(a, r, conn),
        }
    }
    let mut out: Vec<(Option<Ts>, HostSummary)> = by
        .into_iter()
        .map(|(h, a)| (a.first, summary(h, a)))
        .collect();
    out.sort_by_key(|(t, _)| t.map_or(i64::MAX, |t| t.nanos()));
    out.into_iter().map(|(_, s)| s).collect()
}

/// A connection whose requests were not read: its time, bytes and ALPN.
fn opaque(a: &mut Acc, r: &Report, (quic, id): (bool, u64)) {
    a.conns.insert((quic, id));
    if quic {
        if let Some(q) = r.quic.iter().find(|q| q.id == id) {
            a.seen(Some(q.first_ts));
            a.bytes += q.bytes.server;
            a.protocols.insert("h3");
        }
    } else if let Some(c) = r.connections.iter().find(|c| c.id == id) {
        a.seen(
            c.tcp
                .syn_ts
                .or(c.tls.as_ref().and_then(|t| t.client_hello_ts)),
        );
        a.bytes += c.tcp.bytes.server;
        a.protocols.extend(alpn_proto(c));
    }
}

fn summary(host: String, mut a: Acc) -> HostSummary {
    a.ttfb.sort_by(f64::total_cmp);
    let n = a.ttfb.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(a.ttfb[n / 2]),
        _ => Some((a.ttfb[n / 2 - 1] + a.ttfb[n / 2]) / 2.0),
    };
    HostSummary {
        host,
        connections: a.conns.len(),
        requests: a.requests,
        bytes: a.bytes,
        protocols: a.protocols.into_iter().collect(),
        median_ttfb_ms: median,
        slowest_ttfb_ms: a.ttfb.last().copied(),
        errors: a.errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::{h3_sample, sample};

    #[test]
    fn one_row_per_host_with_its_requests() {
        let r = h3_sample();
        let hs = hosts(&r);
        let total: usize = hs.iter().map(|h| h.requests).sum();
        let requests: usize = r.connections.iter().map(|c| c.http.len()).sum::<usize>()
            + r.quic.iter().map(|q| q.http.len()).sum::<usize>();
        assert_eq!(total, requests);
        let st = hs.iter().find(|h| h.host == "static.example.test").unwrap();
        assert!(st.protocols.contains(&"h3"), "{st:?}");
        for h in &hs {
            assert!(h.median_ttfb_ms <= h.slowest_ttfb_ms, "{h:?}");
        }
    }

    #[test]
    fn encrypted_connections_count_for_their_hostname() {
        let r = sample();
        let hs = hosts(&r);
        let opaque: Vec<_> = r
            .connections
            .iter()
            .filter(|c| c.http.is_empty() && c.tls.is_some())
            .collect();
        for c in opaque {
            let h = hs
                .iter()
                .find(|h| Some(h.host.as_str()) == c.hostname.as_deref())
                .unwrap();
            assert!(h.connections >= 1 && h.bytes >= c.tcp.bytes.server);
        }
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let a = Acc {
            ttfb: vec![4.0, 1.0, 3.0, 2.0],
            ..Acc::default()
        };
        let s = summary("x".into(), a);
        assert_eq!(s.median_ttfb_ms, Some(2.5));
        assert_eq!(s.slowest_ttfb_ms, Some(4.0));
    }
}
