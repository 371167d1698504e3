//! The table's view of a scan or a flood: connections and lookups that were one-sided
//! (nothing came back, or no query was captured), counted in groups instead of told one
//! by one.
//!
//! A port scan of 100,000 ports is 800,000 lines of stories, tables and waterfall, none of
//! which a reader can use; what they want is "100,000 SYNs from 10.0.0.1 to 192.0.2.80,
//! ports 1-100000, none answered". So when more than [`FOLD_AT`] TCP connections, QUIC
//! connections or DNS transactions are *one-sided* (below), the table tells the rest as it
//! always does and counts the one-sided ones in a "Folded" table after the summary: one row
//! per server, kind and outcome, with how many, from how many clients, to which ports, and
//! when. `--all` lists every one; `--format json`/`jsonl` always hold every one.
//!
//! One-sided:
//! - a TCP connection whose server sent no byte of payload and that carried no TLS (a SYN
//!   with no SYN/ACK, a refused port, a handshake with nothing after it, or a request with
//!   no response: a slowloris);
//! - a QUIC connection whose server sent no packet;
//! - a DNS transaction with no response, or a response with no query (a reflection flood,
//!   or responses crafted to be malformed), that no connection names as its lookup; and a
//!   lookup only folded connections name (a sweep: a lookup, then a SYN nobody answers).
//!
//! Below [`FOLD_AT`] of a kind nothing of that kind is folded: a page load's few unused
//! preconnects and lost queries are part of its story.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::net::flow::SeededHash;

use crate::pageload::model::{CloseKind, Connection, DnsTransaction, QuicConnection, Report};
use crate::time::Ts;

/// More one-sided items of one kind than this are folded.
pub const FOLD_AT: usize = 64;

/// More servers than this with one kind and outcome are one group.
pub const MERGE_AT: usize = 8;

/// What was folded, by server, kind and outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `TCP`, `QUIC` or `DNS`.
    pub kind: &'static str,
    /// The server, or the first of `servers` (more than [`MERGE_AT`] groups of one kind and
    /// outcome are one row: a sweep of addresses).
    pub server: IpAddr,
    pub servers: usize,
    pub outcome: &'static str,
    pub count: usize,
    /// Distinct client addresses, and the first.
    pub clients: usize,
    pub client: IpAddr,
    /// Lowest and highest server port, and how many distinct.
    pub ports: (u16, u16),
    pub distinct_ports: usize,
    pub first_ts: Ts,
    pub last_ts: Ts,
    /// Client bytes sent into the folded TCP connections.
    pub client_bytes: u64,
}

impl Group {
    /// The server, or how many and one of them.
    pub fn servers_text(&self) -> String {
        match self.servers {
            1 => self.server.to_string(),
            n => format!("{n}, e.g. {}", self.server),
        }
    }

    /// The client, or how many and one of them.
    pub fn clients_text(&self) -> String {
        match self.clients {
            1 => self.client.to_string(),
            n => format!("{n}, e.g. {}", self.client),
        }
    }

    /// The server port, or the range and how many.
    pub fn ports_text(&self) -> String {
        match self.distinct_ports {
            1 => self.ports.0.to_string(),
            n => format!("{}-{} ({n})", self.ports.0, self.ports.1),
        }
    }

    /// One line: `200000 TCP no SYN/ACK to 192.0.2.80:80 from 200000, e.g. 10.1.0.0`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} to {} port {} from {}",
            self.count,
            self.kind,
            self.outcome,
            self.servers_text(),
            self.ports_text(),
            self.clients_text()
        )
    }
}

/// "Folded: 100000 TCP connections, one-sided (...)": what was folded, in words.
pub fn headline(groups: &[Group]) -> String {
    let count = |kind: &str| -> usize {
        (groups.iter())
            .filter(|g| g.kind == kind)
            .map(|g| g.count)
            .sum()
    };
    let what: Vec<String> = [
        ("TCP", "TCP connection"),
        ("QUIC", "QUIC connection"),
        ("DNS", "DNS lookup"),
    ]
    .into_iter()
    .filter_map(|(kind, word)| {
        let n = count(kind);
        (n > 0).then(|| crate::report::fmt::plural(n, word))
    })
    .collect();
    format!(
        "Folded: {}, one-sided (nothing came back, or no query was captured), counted by server \
         and outcome (more than {FOLD_AT} alike: --all tells each, --format json or jsonl lists \
         each)",
        what.join(", ")
    )
}

/// The report without what was folded, and the groups it was folded into.
pub struct Folded {
    pub report: Report,
    pub groups: Vec<Group>,
}

fn tcp_outcome(c: &Connection) -> Option<&'static str> {
    if c.tls.is_some() || c.tcp.bytes.server > 0 {
        return None;
    }
    if c.http.iter().any(|h| h.status.is_some()) {
        return None;
    }
    Some(if c.tcp.synack_ts.is_none() {
        if c.tcp.close.kind == CloseKind::Rst {
            "refused (RST)"
        } else {
            "no SYN/ACK"
        }
    } else if !c.http.is_empty() {
        "request, no response"
    } else if c.tcp.bytes.client > 0 {
        "data, no response"
    } else {
        "handshake, no data"
    })
}

fn quic_outcome(q: &QuicConnection) -> Option<&'static str> {
    (q.packets.server == 0 && q.http.is_empty()).then_some("no server packet")
}

fn dns_outcome(t: &DnsTransaction) -> Option<&'static str> {
    if t.response_ts.is_none() {
        Some("no response")
    } else if t.query_packet.is_none() {
        Some("response, no query")
    } else {
        None
    }
}

/// The folded view, or `None` when no kind has more than [`FOLD_AT`] one-sided.
pub fn fold(r: &Report) -> Option<Folded> {
    let tcp: Vec<Option<&'static str>> = r.connections.iter().map(tcp_outcome).collect();
    let quic: Vec<Option<&'static str>> = r.quic.iter().map(quic_outcome).collect();
    let many = |v: &[Option<&str>]| v.iter().flatten().count() > FOLD_AT;
    let (fold_tcp, fold_quic) = (many(&tcp), many(&quic));
    // Lookups a connection that stays told names stay; those only folded connections name
    // fold with them. One mark per lookup, by its position.
    const NAMED: u8 = 1;
    const NAMED_BY_FOLDED: u8 = 2;
    let mut marks = vec![0u8; r.dns.len()];
    let tcp_uses = (r.connections.iter().zip(&tcp)).map(|(c, o)| (c.dns, o.is_some() && fold_tcp));
    let quic_uses = (r.quic.iter().zip(&quic)).map(|(q, o)| (q.dns, o.is_some() && fold_quic));
    for (dns, folded) in tcp_uses.chain(quic_uses) {
        if let Some(m) = dns.and_then(|i| marks.get_mut(i)) {
            *m |= if folded { NAMED_BY_FOLDED } else { NAMED };
        }
    }
    let dns: Vec<Option<&'static str>> = (r.dns.iter().zip(&marks))
        .map(|(t, &m)| {
            if m & NAMED != 0 {
                None
            } else if m & NAMED_BY_FOLDED != 0 && t.response_ts.is_some() {
                Some("answered, its connection folded")
            } else {
                dns_outcome(t)
            }
        })
        .collect();
    let fold_dns = many(&dns);
    if !(fold_tcp || fold_quic || fold_dns) {
        return None;
    }
    let mut groups = Groups::default();
    let mut view = Report {
        schema: r.schema,
        capture: r.capture.clone(),
        dns: Vec::new(),
        connections: Vec::new(),
        quic: Vec::new(),
        filter: r.filter.clone(),
    };
    // Lookups first: the connections' `dns` are positions in it.
    let mut position = vec![None; r.dns.len()];
    for (i, (t, outcome)) in r.dns.iter().zip(&dns).enumerate() {
        match outcome.filter(|_| fold_dns) {
            Some(o) => groups.add("DNS", o, t.client, t.server, t.ts, 0),
            None => {
                position[i] = Some(view.dns.len());
                view.dns.push(t.clone());
            }
        }
    }
    let moved = |i: Option<usize>| i.and_then(|i| position.get(i).copied().flatten());
    for (c, outcome) in r.connections.iter().zip(&tcp) {
        match outcome.filter(|_| fold_tcp) {
            Some(o) => {
                let ts = crate::pageload::stitch::connection_start(c, r.capture.first_ts);
                groups.add("TCP", o, c.client, c.server, ts, c.tcp.bytes.client);
            }
            None => {
                let mut c = c.clone();
                c.dns = moved(c.dns);
                view.connections.push(c);
            }
        }
    }
    for (q, outcome) in r.quic.iter().zip(&quic) {
        match outcome.filter(|_| fold_quic) {
            Some(o) => groups.add("QUIC", o, q.client, q.server, q.first_ts, 0),
            None => {
                let mut q = q.clone();
                q.dns = moved(q.dns);
                view.quic.push(q);
            }
        }
    }
    Some(Folded {
        report: view,
        groups: groups.finish(),
    })
}

type Key = (&'static str, IpAddr, &'static str);

/// The groups as they fill: one per key, in order of first item; the clients and server
/// ports of every item, made distinct per group at the end (a sort of two vectors, not two
/// hash sets per group: a sweep of 200,000 servers is 200,000 groups before they merge).
#[derive(Default)]
struct Groups {
    index: HashMap<Key, usize, SeededHash>,
    groups: Vec<Group>,
    clients: Vec<(usize, IpAddr)>,
    ports: Vec<(usize, u16)>,
}

impl Groups {
    fn add(
        &mut self,
        kind: &'static str,
        outcome: &'static str,
        client: std::net::SocketAddr,
        server: std::net::SocketAddr,
        ts: Ts,
        client_bytes: u64,
    ) {
        let next = self.groups.len();
        let i = *self
            .index
            .entry((kind, server.ip(), outcome))
            .or_insert(next);
        if i == next {
            self.groups.push(Group {
                kind,
                server: server.ip(),
                servers: 1,
                outcome,
                count: 0,
                clients: 0,
                client: client.ip(),
                ports: (server.port(), server.port()),
                distinct_ports: 0,
                first_ts: ts,
                last_ts: ts,
                client_bytes: 0,
            });
        }
        let g = &mut self.groups[i];
        g.count += 1;
        g.client_bytes += client_bytes;
        g.ports = (g.ports.0.min(server.port()), g.ports.1.max(server.port()));
        g.first_ts = g.first_ts.min(ts);
        g.last_ts = g.last_ts.max(ts);
        self.clients.push((i, client.ip()));
        self.ports.push((i, server.port()));
    }

    /// The groups, the largest first (then by kind, server and outcome); past
    /// [`MERGE_AT`] servers of a kind and outcome, one group for all of them.
    fn finish(self) -> Vec<Group> {
        let Groups {
            index,
            groups,
            clients,
            ports,
        } = self;
        let mut keys: Vec<(Key, usize)> = index.into_iter().collect();
        keys.sort_unstable_by_key(|&(k, _)| k);
        let mut by_outcome: BTreeMap<(&'static str, &'static str), Vec<usize>> = BTreeMap::new();
        for ((kind, _, outcome), i) in keys {
            by_outcome.entry((kind, outcome)).or_default().push(i);
        }
        // Each group's row in `out`.
        let mut row = vec![0; groups.len()];
        let mut out: Vec<Group> = Vec::new();
        for (_, members) in by_outcome {
            if members.len() <= MERGE_AT {
                for i in members {
                    row[i] = out.len();
                    out.push(groups[i].clone());
                }
                continue;
            }
            let mut merged = groups[members[0]].clone();
            for &i in &members[1..] {
                let g = &groups[i];
                merged.count += g.count;
                merged.client_bytes += g.client_bytes;
                merged.ports = (merged.ports.0.min(g.ports.0), merged.ports.1.max(g.ports.1));
                merged.first_ts = merged.first_ts.min(g.first_ts);
                merged.last_ts = merged.last_ts.max(g.last_ts);
            }
            merged.servers = members.len();
            for i in members {
                row[i] = out.len();
            }
            out.push(merged);
        }
        for (r, n) in distinct_per_row(clients, &row) {
            out[r].clients = n;
        }
        for (r, n) in distinct_per_row(ports, &row) {
            out[r].distinct_ports = n;
        }
        out.sort_by_key(|g| std::cmp::Reverse(g.count));
        out
    }
}

/// How many distinct values each row has, from (group, value) pairs and each group's row.
fn distinct_per_row<T: Ord>(mut pairs: Vec<(usize, T)>, row: &[usize]) -> Vec<(usize, usize)> {
    for (r, _) in pairs.iter_mut() {
        *r = row[*r];
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| (run[0].0, run.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(i: u16, answered: bool) -> Connection {
        let mut c = Connection {
            id: u64::from(i),
            ..Connection::default()
        };
        c.client = format!("10.0.0.1:{}", 1024 + i).parse().unwrap();
        c.server = format!("192.0.2.80:{}", i % 100 + 1).parse().unwrap();
        c.tcp.syn_ts = Some(Ts::from_nanos(i64::from(i) * 1000));
        if answered {
            c.tcp.synack_ts = c.tcp.syn_ts;
            c.tcp.bytes.server = 100;
        }
        c
    }

    #[test]
    fn a_scan_is_folded_and_what_was_answered_stays() {
        let r = Report {
            connections: (0..200).map(|i| syn(i, i % 50 == 0)).collect(),
            ..Report::default()
        };
        let f = fold(&r).expect("folded");
        assert_eq!(f.report.connections.len(), 4);
        assert!(f
            .report
            .connections
            .iter()
            .all(|c| c.tcp.bytes.server == 100));
        assert_eq!(f.groups.len(), 1);
        let g = &f.groups[0];
        assert_eq!(
            (g.kind, g.outcome, g.count, g.clients),
            ("TCP", "no SYN/ACK", 196, 1)
        );
        // Ports 1 and 51 were answered each time they were tried.
        assert_eq!((g.ports, g.distinct_ports), ((2, 100), 98));
    }

    #[test]
    fn a_sweep_of_servers_is_one_group() {
        let r = Report {
            connections: (0..100u16)
                .map(|i| {
                    let mut c = syn(i, false);
                    c.server = format!("172.16.0.{}:443", i).parse().unwrap();
                    c
                })
                .collect(),
            ..Report::default()
        };
        let f = fold(&r).expect("folded");
        assert_eq!(f.groups.len(), 1);
        let g = &f.groups[0];
        assert_eq!((g.count, g.servers, g.distinct_ports), (100, 100, 1));
        assert_eq!(g.server.to_string(), "172.16.0.0");
    }

    #[test]
    fn a_few_unanswered_are_not_folded() {
        let r = Report {
            connections: (0..FOLD_AT as u16).map(|i| syn(i, false)).collect(),
            ..Report::default()
        };
        assert!(fold(&r).is_none());
    }
}
