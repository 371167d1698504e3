//! Stitching: from a finished TCP connection and the DNS log to one connection report.
//!
//! - `hostname` comes from the TLS SNI, else the HTTP `Host`/`:authority`, else the DNS
//!   lookup that gave the server's address; `hostname_source` says which.
//! - `dns` points at the **latest answered lookup before the SYN** (before the first packet
//!   when no SYN was captured) whose A/AAAA answers, at the end of any CNAME chain, contain
//!   the server's address; when an earlier connection already took it and another lookup
//!   with that answer came just before, that one (two clients resolving at once). A
//!   connection with no such lookup says why in `dns_note`.
//! - `timeline`: `dns_ms` is that lookup's latency; `connect_ms` the TCP handshake from
//!   the client's first SYN (a SYN resent after a timeout is part of the wait; the TCP
//!   line's RTT, `tcp.handshake_ms`, runs from the last SYN, as Wireshark's initial RTT);
//!   `tls_ms` the TLS handshake to the moment the client could send (`ready_ms`: with False
//!   Start its own Finished); `ttfb_ms` and `download_ms` those of the first request;
//!   `total_ms` runs from the start of the lookup (or the SYN, or the first packet) to the end
//!   of the last response (or the close, or the last packet).
//! - Redirects: a 3xx response with a `Location` is linked to the first later request, on
//!   any connection, whose URL is that location.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::net::flow::SeededHash;

use crate::dissect::http::parse_alt_svc;
use crate::pageload::dns_log::answer_addresses;
use crate::pageload::model::{
    Connection, DnsTransaction, H3DnsOffer, H3Offer, HostnameSource, HttpExchange, HttpsRecordUse,
    QuicConnection, RedirectRef, Report, Timeline, TlsInfo,
};
use crate::time::{ms_between, round_ms, Ts};

/// Addresses of one answer deduplicated on the stack ([`AddrIndex::push`]).
const FEW: usize = 8;

pub const NO_DNS_NOTE: &str = "not observed: resolved from a cache or before the capture";

/// Lookups answered this long before the latest candidate still count as "the same
/// moment" when two connections each made their own (see [`AddrIndex::find`]).
pub const SAME_BURST: Ts = Ts::from_nanos(1_000_000_000);

/// The answered lookups by the addresses they answered, each list in order of answer
/// time: a connection finds its lookup by one hash probe and a binary search, however
/// many lookups and connections the capture holds.
///
/// Keyed with a seeded hash ([`SeededHash`]): addresses come from the wire, and a weak
/// unseeded hash of sequential or chosen addresses collides.
#[derive(Default)]
pub struct AddrIndex {
    by_addr: HashMap<IpAddr, Lookups, SeededHash>,
}

/// One address's lookups, (answer time, lookup) in order: the one most addresses have
/// inline, more on the heap (a flood of lookups, each answering its own address, paid an
/// allocation per address).
enum Lookups {
    One((Ts, usize)),
    Many(Vec<(Ts, usize)>),
}

impl Lookups {
    fn as_slice(&self) -> &[(Ts, usize)] {
        match self {
            Lookups::One(e) => std::slice::from_ref(e),
            Lookups::Many(v) => v,
        }
    }

    fn insert(&mut self, e: (Ts, usize)) {
        match self {
            Lookups::One(x) => {
                let (a, b) = if *x <= e { (*x, e) } else { (e, *x) };
                *self = Lookups::Many(vec![a, b]);
            }
            // Usually the latest: an append.
            Lookups::Many(v) => {
                let at = v.partition_point(|&x| x <= e);
                v.insert(at, e);
            }
        }
    }

    /// Takes `e` out; `true` when none are left.
    fn remove(&mut self, e: (Ts, usize)) -> bool {
        match self {
            Lookups::One(x) => *x == e,
            Lookups::Many(v) => {
                if let Ok(at) = v.binary_search(&e) {
                    v.remove(at);
                }
                v.is_empty()
            }
        }
    }
}

impl AddrIndex {
    pub fn new(dns: &[DnsTransaction]) -> AddrIndex {
        let mut index = AddrIndex::default();
        for (i, t) in dns.iter().enumerate() {
            index.push(i, t);
        }
        index
    }

    /// Adds lookup `i` (any numbering the caller keeps, such as a stream's).
    pub fn push(&mut self, i: usize, t: &DnsTransaction) {
        let Some(r) = t.response_ts else {
            return;
        };
        // The addresses indexed so far: the first few on the stack (a lookup answers one or
        // two; a flood of lookups paid an allocation each here).
        let mut few = [IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED); FEW];
        let mut n = 0;
        let mut more: Vec<IpAddr> = Vec::new();
        for a in answer_addresses(t) {
            if !few[..n].contains(&a) && !more.contains(&a) {
                if n < FEW {
                    few[n] = a;
                    n += 1;
                } else {
                    more.push(a);
                }
                match self.by_addr.entry(a) {
                    Entry::Vacant(v) => {
                        v.insert(Lookups::One((r, i)));
                    }
                    Entry::Occupied(mut o) => o.get_mut().insert((r, i)),
                }
            }
        }
    }

    /// Forgets lookup `i` (as pushed with `t`).
    pub fn remove(&mut self, i: usize, t: &DnsTransaction) {
        let Some(r) = t.response_ts else {
            return;
        };
        for a in answer_addresses(t) {
            if self.by_addr.get_mut(&a).is_some_and(|v| v.remove((r, i))) {
                self.by_addr.remove(&a);
            }
        }
    }

    /// The lookup that gave `ip`: the latest answered one before `start`. When an earlier
    /// connection already took that one (`used`) and another lookup with the same answer
    /// came within [`SAME_BURST`] before it, that one is taken: two clients resolving the
    /// same name at once (two curl processes, two browser profiles) each made their own,
    /// and each connection is linked to one.
    pub fn find(&self, ip: IpAddr, start: Ts, used: &HashSet<usize, SeededHash>) -> Option<usize> {
        let v = self.by_addr.get(&ip)?.as_slice();
        let candidates = &v[..v.partition_point(|&(r, _)| r <= start)];
        let &(latest_ts, latest) = candidates.last()?;
        if !used.contains(&latest) {
            return Some(latest);
        }
        let floor = Ts(latest_ts.0.saturating_sub(SAME_BURST.0));
        candidates
            .iter()
            .rev()
            .take_while(|&&(r, _)| r >= floor)
            .find(|(_, i)| !used.contains(i))
            .map_or(Some(latest), |&(_, i)| Some(i))
    }
}

fn start_ts(c: &Connection) -> Option<Ts> {
    c.tcp
        .syn_ts
        .or(c.tcp.synack_ts)
        .or(c.tcp.ack_ts)
        .or_else(|| c.http.first().and_then(|h| h.request_ts))
        .or(c.tcp.close.ts)
}

/// Links connections to lookups, fills hostnames from DNS and computes timelines. A
/// connection's lookup is found from its start (the SYN, else its first packet, else
/// `first_ts`) by [`AddrIndex::find`].
pub fn link_dns(connections: &mut [Connection], dns: &[DnsTransaction], first_ts: Option<Ts>) {
    let index = AddrIndex::new(dns);
    let mut used = HashSet::default();
    for c in connections.iter_mut() {
        let start = connection_start(c, first_ts);
        let i = index.find(c.server.ip(), start, &used);
        used.extend(i);
        link_connection(c, i.map(|i| (i, &dns[i])));
    }
}

/// When a connection began, for its lookup: the SYN, else its first packet, else
/// `first_ts`.
pub fn connection_start(c: &Connection, first_ts: Option<Ts>) -> Ts {
    start_ts(c).or(first_ts).unwrap_or_default()
}

/// Links `c` to its lookup (its index and the transaction), or says why it has none;
/// fills its hostname from DNS when nothing else named it, and its timeline.
pub fn link_connection(c: &mut Connection, lookup: Option<(usize, &DnsTransaction)>) {
    c.dns = lookup.map(|(i, _)| i);
    match lookup {
        Some((_, t)) => name_from(t, &mut c.hostname, &mut c.hostname_source),
        None => c.dns_note = Some(NO_DNS_NOTE.into()),
    }
    c.timeline = timeline(c, lookup.map(|(_, t)| t));
}

/// The lookup's question as the hostname, when nothing else named the server.
fn name_from(t: &DnsTransaction, name: &mut Option<String>, source: &mut Option<HostnameSource>) {
    if name.is_none() {
        *name = t.questions.first().map(|q| q.name.clone());
        *source = Some(HostnameSource::Dns);
    }
}

/// Links QUIC connections to lookups as [`link_dns`] does for TCP (the lookup before the
/// client's first packet; its own `used` set, since a browser racing QUIC and TCP to one
/// host uses one lookup for both), and fills hostnames from DNS when there was no SNI.
pub fn link_dns_quic(quic: &mut [QuicConnection], dns: &[DnsTransaction]) {
    if quic.is_empty() {
        return;
    }
    let index = AddrIndex::new(dns);
    let mut used = HashSet::default();
    for q in quic.iter_mut() {
        let i = index.find(q.server.ip(), q.first_ts, &used);
        used.extend(i);
        link_quic(q, i.map(|i| (i, &dns[i])));
    }
}

/// [`link_connection`] for a QUIC connection (it has no timeline).
pub fn link_quic(q: &mut QuicConnection, lookup: Option<(usize, &DnsTransaction)>) {
    q.dns = lookup.map(|(i, _)| i);
    match lookup {
        Some((_, t)) => name_from(t, &mut q.hostname, &mut q.hostname_source),
        None => q.dns_note = Some(NO_DNS_NOTE.into()),
    }
}

pub fn timeline(c: &Connection, lookup: Option<&DnsTransaction>) -> Timeline {
    let first = c.http.first();
    let begin = lookup
        .map(|t| t.ts)
        .or(c.tcp.syn_ts)
        .or_else(|| start_ts(c));
    let end = c
        .http
        .iter()
        .filter_map(|h| h.response_end_ts.or(h.response_ts))
        .max()
        .or(c.tcp.close.ts);
    Timeline {
        dns_ms: lookup.and_then(|t| t.latency_ms),
        connect_ms: ms_between(c.tcp.syn_ts, c.tcp.ack_ts)
            .filter(|v| *v >= 0.0)
            .map(round_ms)
            .or(c.tcp.handshake_ms),
        tls_ms: c.tls.as_ref().and_then(|t| t.ready_ms.or(t.handshake_ms)),
        ttfb_ms: first.and_then(|h| h.ttfb_ms),
        download_ms: first.and_then(|h| h.download_ms),
        total_ms: ms_between(begin, end).map(round_ms).filter(|v| *v >= 0.0),
    }
}

/// An exchange of the report: on a TCP connection (`quic` false) or a QUIC one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    quic: bool,
    connection: u64,
    index: usize,
}

/// Every exchange of the report with where it is.
fn exchanges(report: &Report) -> impl Iterator<Item = (At, &HttpExchange)> {
    let tcp = report.connections.iter().flat_map(|c| {
        c.http.iter().enumerate().map(move |(index, h)| {
            let at = At {
                quic: false,
                connection: c.id,
                index,
            };
            (at, h)
        })
    });
    let quic = report.quic.iter().flat_map(|q| {
        q.http.iter().enumerate().map(move |(index, h)| {
            let at = At {
                quic: true,
                connection: q.id,
                index,
            };
            (at, h)
        })
    });
    tcp.chain(quic)
}

fn exchange_mut(report: &mut Report, at: At) -> Option<&mut HttpExchange> {
    let http = if at.quic {
        &mut report.quic.iter_mut().find(|q| q.id == at.connection)?.http
    } else {
        &mut report
            .connections
            .iter_mut()
            .find(|c| c.id == at.connection)?
            .http
    };
    http.get_mut(at.index)
}

/// Links each redirect to the request that followed it, over TCP or QUIC.
pub fn link_redirects(report: &mut Report) {
    // A 3xx response's Location (RFC 9110 10.2.2), made absolute against the request's URL.
    let all = report
        .connections
        .iter_mut()
        .flat_map(|c| c.http.iter_mut())
        .chain(report.quic.iter_mut().flat_map(|q| q.http.iter_mut()));
    for h in all {
        if h.redirect_to.is_some() || !h.status.is_some_and(|s| (300..400).contains(&s)) {
            continue;
        }
        if let Some((_, loc)) = h
            .response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        {
            h.redirect_to = Some(absolute(loc.trim(), h.url.as_deref()));
        }
    }
    let mut requests: Vec<(Ts, At, &str)> = exchanges(report)
        .filter_map(|(at, h)| Some((h.request_ts?, at, h.url.as_deref()?)))
        .collect();
    requests.sort_by_key(|r| r.0);
    let mut links: Vec<(At, At)> = Vec::new();
    for (from, h) in exchanges(report) {
        let (Some(status), Some(to), Some(at)) = (h.status, &h.redirect_to, h.response_ts) else {
            continue;
        };
        if !(300..400).contains(&status) {
            continue;
        }
        let target = absolute(to, h.url.as_deref());
        if let Some(next) = requests
            .iter()
            .find(|r| r.0 >= at && same_url(r.2, &target))
        {
            links.push((next.1, from));
        }
    }
    for (to, from) in links {
        if let Some(h) = exchange_mut(report, to) {
            h.redirected_from = Some(RedirectRef {
                connection: from.connection,
                index: from.index,
                quic: from.quic,
            });
        }
    }
}

/// How long an Alt-Svc offer holds without `ma` (RFC 7838 3.1: 24 hours).
const ALT_SVC_DEFAULT_MA: u64 = 86_400;

/// Links each QUIC connection that carried HTTP/3 (or offered it in its ALPN) to the
/// response whose `Alt-Svc` told the client to try it: the latest before the connection's
/// first packet, from the same host, offering `h3` (or a draft `h3-NN`) on the connection's
/// port, still fresh (its `ma`).
pub fn link_h3_offers(report: &mut Report) {
    let mut found = Vec::new();
    for (qi, q) in report.quic.iter().enumerate() {
        let Some(host) = q.hostname.as_deref() else {
            continue;
        };
        let port = q.server.port();
        let mut best: Option<(Ts, H3Offer)> = None;
        for c in &report.connections {
            for (index, h) in c.http.iter().enumerate() {
                let Some(ts) = h.response_ts.filter(|&t| t <= q.first_ts) else {
                    continue;
                };
                if !c
                    .hostname
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(host))
                {
                    continue;
                }
                let offer = h
                    .response_headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("alt-svc"))
                    .flat_map(|(_, v)| parse_alt_svc(v))
                    .find(|a| {
                        a.is_h3()
                            && a.port == port
                            && a.host
                                .as_deref()
                                .is_none_or(|x| x.eq_ignore_ascii_case(host))
                    });
                let Some(a) = offer else {
                    continue;
                };
                let ma = a.max_age.unwrap_or(ALT_SVC_DEFAULT_MA);
                let fresh = ts.saturating_add_nanos((ma as i64).saturating_mul(1_000_000_000))
                    >= q.first_ts;
                if fresh && best.as_ref().is_none_or(|(t, _)| ts >= *t) {
                    let o = H3Offer {
                        connection: c.id,
                        index,
                        value: a.text.clone(),
                        max_age_s: ma,
                    };
                    best = Some((ts, o));
                }
            }
        }
        if let Some((_, o)) = best {
            found.push((qi, o));
        }
    }
    for (qi, o) in found {
        report.quic[qi].h3_offer = Some(o);
    }
    let dns_offers: Vec<_> = report
        .quic
        .iter()
        .map(|q| h3_dns_offer(q, &report.dns))
        .collect();
    for (q, o) in report.quic.iter_mut().zip(dns_offers) {
        q.h3_dns_offer = o;
    }
    link_https_records(report);
}

/// Links every TLS connection (TCP and QUIC) to the HTTPS record it followed: the latest
/// answered for its host and port before it began, while fresh (see [`https_record`]).
pub fn link_https_records(report: &mut Report) {
    let dns = &report.dns;
    let tcp: Vec<Option<HttpsRecordUse>> = report
        .connections
        .iter()
        .map(|c| {
            let tls = c.tls.as_deref()?;
            let start = start_ts(c)?;
            let host = tls.sni.as_deref().or(c.hostname.as_deref())?;
            https_record(host, c.server, start, tls, dns)
        })
        .collect();
    for (c, u) in report.connections.iter_mut().zip(tcp) {
        c.https_record = u.map(Box::new);
    }
    let quic: Vec<Option<HttpsRecordUse>> = report
        .quic
        .iter()
        .map(|q| {
            let tls = q.tls.as_ref()?;
            let host = tls.sni.as_deref().or(q.hostname.as_deref())?;
            https_record(host, q.server, q.first_ts, tls, dns)
        })
        .collect();
    for (q, u) in report.quic.iter_mut().zip(quic) {
        q.https_record = u.map(Box::new);
    }
}

/// The latest HTTPS record in ServiceMode answered before `start` for `host` and the
/// server's port (the record of `host` is for origin port 443, of `_P._https.host` for
/// port P, RFC 9460 9.1; its endpoint's port is its `port` parameter, else the origin's),
/// while fresh (its TTL); with what the connection used of it.
fn https_record(
    host: &str,
    server: std::net::SocketAddr,
    start: Ts,
    tls: &TlsInfo,
    dns: &[DnsTransaction],
) -> Option<HttpsRecordUse> {
    let host = host.trim_end_matches('.');
    let origin_port = |name: &str| origin_port(name, host);
    let mut best: Option<(Ts, usize, usize)> = None;
    for (i, t) in dns.iter().enumerate() {
        let Some(ts) = t.response_ts.filter(|&r| r <= start) else {
            continue;
        };
        let Some(origin) = t.questions.iter().find_map(|x| origin_port(&x.name)) else {
            continue;
        };
        for (ai, a) in t.answers.iter().enumerate() {
            let fresh =
                ts.saturating_add_nanos(i64::from(a.ttl).saturating_mul(1_000_000_000)) >= start;
            let service = a.rtype == "HTTPS" && !a.data.starts_with("0 ");
            if service
                && fresh
                && a.svc_port.unwrap_or(origin) == server.port()
                && best.is_none_or(|(b, _, _)| ts >= b)
            {
                best = Some((ts, i, ai));
            }
        }
    }
    let (_, i, ai) = best?;
    let a = &dns[i].answers[ai];
    Some(HttpsRecordUse {
        dns: i,
        answer: ai,
        value: a.data.clone(),
        alpn: a.alpn.clone(),
        alpn_used: tls.alpn.clone().filter(|p| a.alpn.contains(p)),
        hinted_address: a.svc_hints.contains(&server.ip()),
        ech: a.svc_ech,
        ech_sent: tls
            .client_hello
            .as_ref()
            .and_then(|ch| ch.ech_config_id)
            .is_some_and(|id| a.svc_ech_ids.contains(&id)),
    })
}

/// The latest HTTPS record answered before `q` began that offered `h3` (or a draft) for its
/// host and port while fresh (its TTL). The record of `host` is for origin port 443, of
/// `_P._https.host` for port P (RFC 9460 9.1); its endpoint's port is its `port` parameter,
/// else the origin's.
fn h3_dns_offer(q: &QuicConnection, dns: &[DnsTransaction]) -> Option<H3DnsOffer> {
    let host = q.hostname.as_deref()?.trim_end_matches('.');
    let port = q.server.port();
    let origin_port = |name: &str| origin_port(name, host);
    let mut best: Option<(Ts, H3DnsOffer)> = None;
    for (i, t) in dns.iter().enumerate() {
        let Some(ts) = t.response_ts.filter(|&r| r <= q.first_ts) else {
            continue;
        };
        let Some(origin) = t.questions.iter().find_map(|x| origin_port(&x.name)) else {
            continue;
        };
        for (ai, a) in t.answers.iter().enumerate() {
            let offers_h3 = a.rtype == "HTTPS"
                && a.alpn.iter().any(|p| p == "h3" || p.starts_with("h3-"))
                && a.svc_port.unwrap_or(origin) == port;
            let fresh = ts.saturating_add_nanos(i64::from(a.ttl).saturating_mul(1_000_000_000))
                >= q.first_ts;
            if offers_h3 && fresh && best.as_ref().is_none_or(|(b, _)| ts >= *b) {
                let o = H3DnsOffer {
                    dns: i,
                    answer: ai,
                    value: a.data.clone(),
                    ttl_s: a.ttl,
                };
                best = Some((ts, o));
            }
        }
    }
    best.map(|(_, o)| o)
}

/// The origin port an HTTPS question's name stands for when it names `host`: 443 for
/// `host` itself, P for `_P._https.host` (RFC 9460 9.1).
fn origin_port(name: &str, host: &str) -> Option<u16> {
    let name = name.trim_end_matches('.');
    if name.eq_ignore_ascii_case(host) {
        return Some(443);
    }
    let rest = name.strip_prefix('_')?;
    let (p, tail) = rest.split_once("._https.")?;
    tail.eq_ignore_ascii_case(host)
        .then(|| p.parse().ok())
        .flatten()
}

/// Resolves a Location against the request URL (absolute, scheme-relative or path).
fn absolute(location: &str, base: Option<&str>) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let Some(base) = base else {
        return location.to_string();
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(l) = location.strip_prefix("//") {
        return format!("{scheme}://{l}");
    }
    let authority = rest.split('/').next().unwrap_or("");
    if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        format!("{scheme}://{authority}/{location}")
    }
}

/// URLs equal up to a default port and a trailing slash on the bare authority.
fn same_url(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(u: &str) -> String {
    let u = u.to_ascii_lowercase();
    let u = u.replacen(":443/", "/", 1).replacen(":80/", "/", 1);
    let slashes = u.matches('/').count();
    if slashes == 2 {
        format!("{u}/")
    } else {
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::DnsTransport;

    #[test]
    fn resolves_locations() {
        assert_eq!(
            absolute("https://a.test/", Some("http://a.test/")),
            "https://a.test/"
        );
        assert_eq!(
            absolute("/x", Some("http://a.test:8080/y")),
            "http://a.test:8080/x"
        );
        assert_eq!(
            absolute("//b.test/z", Some("https://a.test/")),
            "https://b.test/z"
        );
        assert!(same_url("https://a.test:443/", "https://a.test"));
    }

    #[test]
    fn an_https_record_offers_h3_to_its_host_and_port_while_fresh() {
        use crate::pageload::model::{DnsAnswer, DnsQuestion};
        let at = |ms: i64| Ts::from_nanos(1_000_000_000_000 + ms * 1_000_000);
        let https =
            |owner: &str, ms: i64, ttl: u32, alpn: &[&str], port: Option<u16>| DnsTransaction {
                ts: at(ms),
                client: "10.0.0.1:5353".parse().unwrap(),
                server: "10.0.0.53:53".parse().unwrap(),
                transport: DnsTransport::Udp,
                id: 1,
                questions: vec![DnsQuestion {
                    name: owner.into(),
                    qtype: "HTTPS".into(),
                }],
                response_ts: Some(at(ms + 1)),
                latency_ms: Some(1.0),
                rcode: Some("NOERROR".into()),
                truncated: false,
                answers: vec![DnsAnswer {
                    name: owner.into(),
                    rtype: "HTTPS".into(),
                    ttl,
                    data: format!("1 . alpn=\"{}\"", alpn.join(",")),
                    addr: None,
                    alpn: alpn.iter().map(|a| a.to_string()).collect(),
                    svc_port: port,
                    ..DnsAnswer::default()
                }],
                authority: Vec::new(),
                query_packet: None,
                response_packet: None,
                dnssec: Default::default(),
                ..DnsTransaction::default()
            };
        let conn = |port: u16, ms: i64| QuicConnection {
            server: format!("192.0.2.7:{port}").parse().unwrap(),
            hostname: Some("a.test".into()),
            first_ts: at(ms),
            ..QuicConnection::default()
        };
        let offer =
            |dns: &[DnsTransaction], q: &QuicConnection| h3_dns_offer(q, dns).map(|o| o.dns);
        let dns = vec![
            https("a.test", 0, 60, &["h2"], None),        // no h3
            https("a.test", 10, 60, &["h3", "h2"], None), // the offer
            https("a.test", 20, 60, &["h3"], Some(8443)), // another port
            https("_8443._https.a.test", 30, 60, &["h3-29"], Some(8443)),
        ];
        assert_eq!(offer(&dns, &conn(443, 50)), Some(1));
        assert_eq!(offer(&dns[..1], &conn(443, 50)), None);
        // Before the answer, or after its TTL: no offer.
        assert_eq!(offer(&dns, &conn(443, 5)), None);
        assert_eq!(offer(&dns, &conn(443, 61_000)), None);
        // Port 8443: the origin https://a.test:8443's record, or https://a.test's whose
        // endpoint is on port 8443, the latest.
        assert_eq!(offer(&dns, &conn(8443, 50)), Some(3));
        assert_eq!(offer(&dns[..3], &conn(8443, 50)), Some(2));
        assert_eq!(offer(&dns[..2], &conn(8443, 50)), None);
    }

    /// A TLS connection over TCP is linked to the HTTPS record of its SNI: the ALPN it
    /// chose of those offered, whether its address was a hint, whether the ClientHello
    /// used the record's ECH config; an AliasMode record, another host or a record
    /// answered after the SYN is not linked.
    #[test]
    fn a_tls_connection_follows_the_https_record_of_its_host() {
        use crate::pageload::model::{ClientHelloInfo, DnsAnswer, TcpInfo};
        let at = |ms: i64| Ts::from_nanos(1_000_000_000_000 + ms * 1_000_000);
        let https = |owner: &str, ms: i64, data: &str| {
            let mut t = report_lookup(owner, at(ms), at(ms + 1));
            t.questions[0].qtype = "HTTPS".into();
            t.answers = vec![DnsAnswer {
                name: owner.into(),
                rtype: "HTTPS".into(),
                ttl: 300,
                data: data.into(),
                addr: None,
                alpn: vec!["h3".into(), "h2".into()],
                svc_port: None,
                svc_ech: data.contains("ech="),
                svc_ech_ids: if data.contains("ech=") {
                    vec![7]
                } else {
                    Vec::new()
                },
                svc_hints: vec!["192.0.2.7".parse().unwrap()],
            }];
            t
        };
        // `ech`: the config id the ClientHello's ECH extension names.
        let conn = |sni: &str, ms: i64, ech: Option<u8>| {
            let mut c = Connection {
                server: "192.0.2.7:443".parse().unwrap(),
                tcp: TcpInfo {
                    syn_ts: Some(at(ms)),
                    ..TcpInfo::default()
                },
                ..Connection::default()
            };
            c.tls = Some(Box::new(TlsInfo {
                sni: Some(sni.into()),
                alpn: Some("h2".into()),
                client_hello: Some(ClientHelloInfo {
                    ech: ech.is_some(),
                    ech_config_id: ech,
                    ..ClientHelloInfo::default()
                }),
                ..TlsInfo::default()
            }));
            c
        };
        let mut report = Report {
            dns: vec![
                https(
                    "a.test",
                    0,
                    "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.7 ech=AEX+DQ==",
                ),
                https("b.test", 0, "0 alias.test"),
                https("c.test", 100, "1 . alpn=\"h3,h2\""),
            ],
            connections: vec![
                conn("a.test", 10, Some(7)),
                conn("b.test", 10, None),
                conn("c.test", 10, None),
                conn("d.test", 10, None),
                // GREASE ECH: a random config id, not the record's.
                conn("a.test", 20, Some(99)),
            ],
            ..Report::default()
        };
        link_https_records(&mut report);
        let u = report.connections[0].https_record.as_ref().expect("linked");
        assert_eq!((u.dns, u.answer), (0, 0));
        assert_eq!(u.alpn_used.as_deref(), Some("h2"));
        assert!(u.hinted_address && u.ech && u.ech_sent);
        assert!(report.connections[1..4]
            .iter()
            .all(|c| c.https_record.is_none()));
        let grease = report.connections[4].https_record.as_ref().expect("linked");
        assert!(grease.ech && !grease.ech_sent);
    }

    /// A bare answered A lookup for the tests.
    fn report_lookup(name: &str, ts: Ts, answered: Ts) -> DnsTransaction {
        DnsTransaction {
            ts,
            client: "10.0.0.1:5353".parse().unwrap(),
            server: "10.0.0.53:53".parse().unwrap(),
            transport: DnsTransport::Udp,
            id: 1,
            questions: vec![crate::pageload::model::DnsQuestion {
                name: name.into(),
                qtype: "A".into(),
            }],
            response_ts: Some(answered),
            latency_ms: Some(answered.ms_since(ts)),
            rcode: Some("NOERROR".into()),
            truncated: false,
            answers: Vec::new(),
            authority: Vec::new(),
            query_packet: None,
            response_packet: None,
            dnssec: Default::default(),
            ..DnsTransaction::default()
        }
    }

    #[test]
    fn quic_connections_link_to_the_lookup_before_them() {
        use crate::pageload::model::{DnsAnswer, DnsQuestion};
        let at = |ms: i64| Ts::from_nanos(1_000_000_000_000 + ms * 1_000_000);
        let lookup = |name: &str, ip: &str, ms: i64| DnsTransaction {
            ts: at(ms),
            client: "10.0.0.1:5353".parse().unwrap(),
            server: "10.0.0.53:53".parse().unwrap(),
            transport: DnsTransport::Udp,
            id: 1,
            questions: vec![DnsQuestion {
                name: name.into(),
                qtype: "A".into(),
            }],
            response_ts: Some(at(ms + 2)),
            latency_ms: Some(2.0),
            rcode: Some("NOERROR".into()),
            truncated: false,
            answers: vec![DnsAnswer {
                name: name.into(),
                rtype: "A".into(),
                ttl: 60,
                data: ip.into(),
                addr: ip.parse().ok(),
                alpn: Vec::new(),
                svc_port: None,
                ..DnsAnswer::default()
            }],
            authority: Vec::new(),
            query_packet: None,
            response_packet: None,
            dnssec: Default::default(),
            ..DnsTransaction::default()
        };
        let dns = vec![
            lookup("a.test", "192.0.2.7", 0),
            lookup("b.test", "2001:db8::7", 1),
            lookup("late.test", "192.0.2.7", 500),
        ];
        let mut quic = vec![
            QuicConnection {
                server: "192.0.2.7:443".parse().unwrap(),
                first_ts: at(10),
                ..QuicConnection::default()
            },
            QuicConnection {
                server: "[2001:db8::7]:443".parse().unwrap(),
                first_ts: at(10),
                hostname: Some("sni.test".into()),
                hostname_source: Some(HostnameSource::Sni),
                ..QuicConnection::default()
            },
            QuicConnection {
                server: "192.0.2.99:443".parse().unwrap(),
                first_ts: at(10),
                ..QuicConnection::default()
            },
        ];
        link_dns_quic(&mut quic, &dns);
        assert_eq!(quic[0].dns, Some(0));
        assert_eq!(quic[0].hostname.as_deref(), Some("a.test"));
        assert_eq!(quic[0].hostname_source, Some(HostnameSource::Dns));
        assert_eq!(quic[1].dns, Some(1));
        assert_eq!(quic[1].hostname.as_deref(), Some("sni.test"));
        assert_eq!(quic[2].dns, None);
        assert_eq!(quic[2].dns_note.as_deref(), Some(NO_DNS_NOTE));
    }
}
