//! The resolver's walk: a client's lookup linked to the queries its resolver sent upstream.
//!
//! Captured on a recursive resolver (or on a host whose own resolver walks the tree), one
//! lookup is a client's query to the resolver and then the resolver's queries down the
//! tree: a root server refers to the TLD's servers, the TLD to the domain's, they answer,
//! and the resolver fetches DNSKEY and DS records to validate. This module links them.
//!
//! **Which queries belong to a lookup.** A query belongs to the client lookup it was sent
//! during (between the client's query and the resolver's answer), from another address
//! than the client's (the resolver's, or another address of the resolver's host), to
//! another server than the resolver, whose name is the lookup's name or leads to it: an
//! ancestor of it (QNAME minimisation asks `test.` before `www.lab.test.`; DS and DNSKEY
//! are fetched for every zone on the way; priming asks for `.`), a CNAME target an earlier
//! step answered (or an ancestor of one), or the name of a server a referral named without
//! its address (the resolver must look that name up first). Each query joins one lookup,
//! the earliest that was waiting. A lookup to a resolver whose queries the capture shows
//! elsewhere, with none of its own, was answered from the resolver's cache.
//!
//! **Roles come from the referrals, not from a list of addresses.** A referral to zone Z
//! whose glue (or a later answer) gives the address of one of Z's servers says that
//! server serves Z; a referral to a one-label zone can only come from the root; an
//! authoritative answer's SOA, or an authoritative answer with the NS of a zone (priming:
//! `. NS`), names the zone its server serves. A step's server serves the deepest of its
//! zones that holds the step's name: `.` is `root`, a one-label zone `tld`, any other
//! `authoritative`; a server no referral named is `other` (a forwarder, say).
//!
//! Cost: transactions are ordered by time once; each lookup scans at most [`MAX_SCAN`]
//! transactions sent during it and considers at most [`MAX_CANDIDATES`] of them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::mem::take;
use std::net::IpAddr;
use std::sync::Arc;

use crate::net::flow::SeededHash;
use crate::pageload::model::{ChainStep, DnsTransaction, ServerRole, StepOutcome};

/// Queries looked at per client lookup: a bound on the work a flood of overlapping
/// lookups can cause.
pub const MAX_CANDIDATES: usize = 512;

/// Transactions scanned per client lookup for those candidates (a busy resolver answers
/// other clients while it walks for one).
pub const MAX_SCAN: usize = 4096;

/// Links every client lookup of `dns` (in time order, as the report holds them) to its
/// resolver's upstream queries: fills `chain`, `cached` and `upstream_of`.
pub fn link_chains(dns: &mut [DnsTransaction]) {
    let zones = server_zones(dns);
    let mut order: Vec<usize> = (0..dns.len()).collect();
    order.sort_by_key(|&i| (dns[i].ts, i));
    let mut claimed: Vec<Option<usize>> = vec![None; dns.len()];
    let mut chains: Vec<(usize, Vec<usize>)> = Vec::new();
    // Transactions per asking address: a lookup whose client sent every query of the
    // capture (its resolver's side is not in it) needs no scan.
    let mut asked: HashMap<IpAddr, usize, SeededHash> = HashMap::default();
    for t in dns.iter() {
        *asked.entry(t.client.ip()).or_default() += 1;
    }
    for (pos, &c) in order.iter().enumerate() {
        let lookup = &dns[c];
        let (Some(end), Some(q)) = (lookup.response_ts, lookup.questions.first()) else {
            continue;
        };
        // Only a resolver's answer (RA: recursion available) has a walk behind it.
        if claimed[c].is_some() || !lookup.ra {
            continue;
        }
        let own = asked.get(&lookup.client.ip()).copied().unwrap_or(0);
        let resolver = asked.get(&lookup.server.ip()).copied().unwrap_or(0);
        if own == dns.len() && resolver == 0 {
            continue;
        }
        let candidates: Vec<(usize, &DnsTransaction)> = order[pos + 1..]
            .iter()
            .map(|&j| (j, &dns[j]))
            .take_while(|(_, u)| u.ts <= end)
            .take(MAX_SCAN)
            .filter(|&(j, u)| claimed[j].is_none() && may_serve(lookup, u))
            .take(MAX_CANDIDATES)
            .collect();
        let mut steps = walk(&q.name, &candidates);
        if steps.is_empty() {
            continue;
        }
        for &j in &steps {
            claimed[j] = Some(c);
        }
        steps.sort_by_key(|&j| (dns[j].ts, j));
        chains.push((c, steps));
    }
    // Resolvers whose upstream side the capture shows: one a lookup's chain went through,
    // or one that answered as a resolver (RA) and asked others itself.
    let askers: HashSet<IpAddr, SeededHash> = dns.iter().map(|t| t.client.ip()).collect();
    let mut resolvers: HashSet<IpAddr, SeededHash> = dns
        .iter()
        .filter(|t| t.ra)
        .map(|t| t.server.ip())
        .filter(|ip| askers.contains(ip))
        .collect();
    for &(c, _) in &chains {
        resolvers.insert(dns[c].server.ip());
    }
    for (j, c) in claimed.iter().enumerate() {
        dns[j].upstream_of = *c;
    }
    let mut chain_of: HashMap<usize, Vec<usize>, SeededHash> = chains.into_iter().collect();
    for c in 0..dns.len() {
        let steps = chain_of.remove(&c);
        let t = &dns[c];
        if t.response_ts.is_none() || t.upstream_of.is_some() && steps.is_none() {
            continue;
        }
        let Some(steps) = steps else {
            if t.ra && resolvers.contains(&t.server.ip()) {
                dns[c].chain = Some(Vec::new());
                dns[c].cached = Some(true);
            }
            continue;
        };
        let chain: Vec<ChainStep> = steps.iter().map(|&j| step(j, &dns[j], &zones)).collect();
        dns[c].chain = Some(chain);
        dns[c].cached = Some(false);
    }
}

/// Streamed transactions a [`ChainLinker`] remembers for lookups (and connections)
/// handed out later.
pub const LINK_WINDOW: usize = 4096;

/// Servers, NS names and resolvers a [`ChainLinker`] remembers at most.
const MAX_LEARNT: usize = 65_536;

/// [`link_chains`] for streamed output (`jsonl`, `live`), where a transaction is handed out
/// once answered (or given up on) and then forgotten: each client lookup is linked, as it
/// is handed out, to the upstream queries handed out with it or among the last
/// [`LINK_WINDOW`] before it. A resolver's queries upstream are answered before the lookup
/// they serve, so they are already out: the lookup's `chain` names them by stream index,
/// and their own `upstream_of` stays `null`. What only a later part of the capture tells
/// is not known yet: a referral read after the lookup (a step's role is then `other`),
/// a resolver's upstream side first seen after a lookup it answered from its cache
/// (`cached` is then `null`), and an upstream query still unanswered when the lookup is
/// (not in its chain).
pub struct ChainLinker {
    recent: VecDeque<Recent>,
    zones: ZoneLearner,
    /// Resolvers whose upstream side the stream has shown.
    resolvers: HashSet<IpAddr, SeededHash>,
    /// The first few servers that answered as resolvers (RA): one seen asking is added to
    /// `resolvers`.
    ra_servers: Vec<IpAddr>,
    /// The servers `recent` (and the batch being linked) asked, counted while they are
    /// at most [`FEW`]; past that, `diverse_until` is the stream index until which one
    /// not counted is still among them. A lookup scans for its walk only when some
    /// server other than its resolver and its client was asked lately, so a flood of
    /// lookups to one resolver costs no scan.
    servers: Vec<(IpAddr, u32)>,
    diverse_until: usize,
    /// Per transaction of the batch being linked: claimed by a lookup, counted in
    /// `servers` (kept between batches: no allocation per batch).
    claimed: Vec<bool>,
    counted: Vec<bool>,
}

/// See [`ChainLinker::servers`].
const FEW: usize = 3;

/// Resolvers (servers answering with RA) a [`ChainLinker`] watches for queries of their own.
const FEW_RESOLVERS: usize = 16;

struct Recent {
    index: usize,
    t: Arc<DnsTransaction>,
    claimed: bool,
    /// Counted in [`ChainLinker::servers`].
    counted: bool,
}

impl Default for ChainLinker {
    fn default() -> ChainLinker {
        ChainLinker {
            recent: VecDeque::new(),
            zones: ZoneLearner::new(MAX_LEARNT),
            resolvers: HashSet::default(),
            ra_servers: Vec::new(),
            servers: Vec::new(),
            diverse_until: 0,
            claimed: Vec::new(),
            counted: Vec::new(),
        }
    }
}

impl ChainLinker {
    /// A transaction, number `index` in the stream, asked `server`: whether it is counted.
    fn asked(&mut self, index: usize, server: IpAddr) -> bool {
        if let Some(e) = self.servers.iter_mut().find(|e| e.0 == server) {
            e.1 += 1;
        } else if self.servers.len() < FEW {
            self.servers.push((server, 1));
        } else {
            self.diverse_until = index + LINK_WINDOW + 1;
            return false;
        }
        true
    }

    /// A counted transaction that asked `server` left `recent`.
    fn forget(&mut self, server: IpAddr) {
        if let Some(at) = self.servers.iter().position(|e| e.0 == server) {
            self.servers[at].1 -= 1;
            if self.servers[at].1 == 0 {
                self.servers.swap_remove(at);
            }
        }
    }

    /// The transaction numbered `index` in the stream, if it is among the last
    /// [`LINK_WINDOW`].
    pub fn get(&self, index: usize) -> Option<&DnsTransaction> {
        let base = self.recent.front()?.index;
        Some(&self.recent.get(index.checked_sub(base)?)?.t)
    }

    /// Transactions handed out together, numbered from `first` in the stream: their
    /// client lookups get their `chain` and `cached`; then they are remembered, and each
    /// that leaves the window is handed to `forgotten`.
    pub fn link(
        &mut self,
        first: usize,
        mut batch: Vec<DnsTransaction>,
        mut forgotten: impl FnMut(usize, &DnsTransaction),
    ) -> Vec<Arc<DnsTransaction>> {
        for t in &batch {
            self.zones.referral(t);
        }
        let (mut claimed, mut counted) = (take(&mut self.claimed), take(&mut self.counted));
        counted.clear();
        for (k, t) in batch.iter().enumerate() {
            self.zones.answer(t);
            counted.push(self.asked(first + k, t.server.ip()));
            let server = t.server.ip();
            if t.ra && self.ra_servers.len() < FEW_RESOLVERS && !self.ra_servers.contains(&server) {
                self.ra_servers.push(server);
            }
            let client = t.client.ip();
            if self.ra_servers.contains(&client) && self.resolvers.len() < MAX_LEARNT {
                self.resolvers.insert(client);
            }
        }
        claimed.clear();
        claimed.resize(batch.len(), false);
        for p in 0..batch.len() {
            let l = &batch[p];
            if claimed[p] || !l.ra || l.response_ts.is_none() {
                continue;
            }
            let (steps, chain) = self.walk_of(first, &batch, &claimed, p);
            let l = &mut batch[p];
            if steps.is_empty() {
                if self.resolvers.contains(&l.server.ip()) {
                    l.chain = Some(Vec::new());
                    l.cached = Some(true);
                }
                continue;
            }
            for j in steps {
                match j.checked_sub(first) {
                    Some(k) => claimed[k] = true,
                    None => {
                        let base = self.recent.front().map_or(0, |r| r.index);
                        if let Some(r) = j.checked_sub(base).and_then(|i| self.recent.get_mut(i)) {
                            r.claimed = true;
                        }
                    }
                }
            }
            l.chain = Some(chain);
            l.cached = Some(false);
            if self.resolvers.len() < MAX_LEARNT {
                self.resolvers.insert(l.server.ip());
            }
        }
        let out: Vec<Arc<DnsTransaction>> = batch.into_iter().map(Arc::new).collect();
        for (k, ((t, &claimed), &counted)) in out.iter().zip(&claimed).zip(&counted).enumerate() {
            self.recent.push_back(Recent {
                index: first + k,
                t: Arc::clone(t),
                claimed,
                counted,
            });
            if self.recent.len() > LINK_WINDOW {
                if let Some(old) = self.recent.pop_front() {
                    if old.counted {
                        self.forget(old.t.server.ip());
                    }
                    forgotten(old.index, &old.t);
                }
            }
        }
        (self.claimed, self.counted) = (claimed, counted);
        out
    }

    /// The upstream queries of the lookup at `batch[p]`, by stream index, and its chain.
    fn walk_of(
        &self,
        first: usize,
        batch: &[DnsTransaction],
        claimed: &[bool],
        p: usize,
    ) -> (Vec<usize>, Vec<ChainStep>) {
        let l = &batch[p];
        let (Some(end), Some(q)) = (l.response_ts, l.questions.first()) else {
            return Default::default();
        };
        // Nothing to scan unless some recent query went to another server than the
        // resolver and the client (a flood of lookups to one resolver costs no scan).
        let (server, client) = (l.server.ip(), l.client.ip());
        let others = first + p < self.diverse_until
            || self
                .servers
                .iter()
                .any(|&(ip, _)| ip != server && ip != client);
        if !others {
            return Default::default();
        }
        let at = (l.ts, first + p);
        let during = |(j, u): &(usize, &DnsTransaction)| (u.ts, *j) > at && u.ts <= end;
        let recent = self
            .recent
            .iter()
            .rev()
            .take(MAX_SCAN)
            .filter(|r| !r.claimed)
            .map(|r| (r.index, &*r.t));
        let later = batch.iter().enumerate().skip(p + 1).take(MAX_SCAN);
        let earlier = batch.iter().enumerate().take(p).rev().take(MAX_SCAN);
        let in_batch = later
            .chain(earlier)
            .filter(|&(k, _)| !claimed[k])
            .map(|(k, u)| (first + k, u));
        let mut candidates: Vec<(usize, &DnsTransaction)> = recent
            .chain(in_batch)
            .filter(|c| during(c) && may_serve(l, c.1))
            .collect();
        candidates.sort_by_key(|&(j, u)| (u.ts, j));
        candidates.truncate(MAX_CANDIDATES);
        let mut steps = walk(&q.name, &candidates);
        steps.sort_unstable();
        let chain = candidates
            .iter()
            .filter(|(j, _)| steps.binary_search(j).is_ok())
            .map(|&(j, u)| step(j, u, &self.zones.zones))
            .collect();
        (steps, chain)
    }
}

/// Whether `u`'s addresses let it be one of `lookup`'s upstream queries: sent by another
/// address than the client's (or by the resolver's own), to another server than the
/// resolver and the client.
fn may_serve(lookup: &DnsTransaction, u: &DnsTransaction) -> bool {
    (u.client.ip() != lookup.client.ip() || u.client.ip() == lookup.server.ip())
        && u.server.ip() != lookup.server.ip()
        && u.server.ip() != lookup.client.ip()
}

/// The steps of a lookup of `qname` among `candidates` (sent during it, in time order):
/// those whose name leads to it, or to a name an earlier step led to.
fn walk(qname: &str, candidates: &[(usize, &DnsTransaction)]) -> Vec<usize> {
    let mut names = vec![normal(qname)];
    let mut steps: Vec<usize> = Vec::new();
    // Names learnt from a later step may make an earlier query relevant (a target's
    // lookup sent before the referral's answer was read): a few passes settle it.
    for _ in 0..4 {
        let before = steps.len();
        for &(j, u) in candidates {
            if steps.contains(&j) {
                continue;
            }
            let Some(uq) = u.questions.first() else {
                continue;
            };
            if !leads_to(&normal(&uq.name), &names) {
                continue;
            }
            steps.push(j);
            for r in &u.answers {
                if r.rtype == "CNAME" {
                    names.push(normal(&r.data));
                }
            }
            for r in &u.authority {
                if r.rtype == "NS" {
                    names.push(normal(&r.data));
                }
            }
        }
        if steps.len() == before {
            break;
        }
    }
    steps
}

fn step(j: usize, u: &DnsTransaction, zones: &Zones) -> ChainStep {
    let (qname, qtype) = u
        .questions
        .first()
        .map(|q| (q.name.clone(), q.qtype.clone()))
        .unwrap_or_default();
    let zone = zones.serving(u.server.ip(), &normal(&qname));
    let role = match zone.as_deref() {
        None => ServerRole::Other,
        Some(".") => ServerRole::Root,
        Some(z) if labels(z) == 1 => ServerRole::Tld,
        Some(_) => ServerRole::Authoritative,
    };
    let (outcome, referral) = outcome(u);
    ChainStep {
        dns: Some(j),
        server: u.server,
        role,
        zone,
        qname,
        qtype,
        outcome,
        referral,
        ts: u.ts,
        latency_ms: u.latency_ms,
    }
}

/// What a response said, and a referral's zone.
pub fn outcome(t: &DnsTransaction) -> (StepOutcome, Option<String>) {
    let Some(rcode) = t.rcode.as_deref() else {
        return (StepOutcome::Unanswered, None);
    };
    match rcode {
        "NOERROR" => {}
        "NXDOMAIN" => return (StepOutcome::Nxdomain, None),
        _ => return (StepOutcome::Error, None),
    }
    if !t.answers.is_empty() {
        return (StepOutcome::Answer, None);
    }
    match referral_zone(t) {
        Some(z) => (StepOutcome::Referral, Some(z)),
        None => (StepOutcome::Nodata, None),
    }
}

/// The zone a response delegates to: no answer, no SOA, NS records in the authority
/// section (RFC 1034 4.3.2: "a referral"), not an authoritative answer.
fn referral_zone(t: &DnsTransaction) -> Option<String> {
    if !t.answers.is_empty() || t.aa || t.authority.iter().any(|r| r.rtype == "SOA") {
        return None;
    }
    t.authority
        .iter()
        .find(|r| r.rtype == "NS")
        .map(|r| normal(&r.name))
}

/// The zones each server was seen to serve.
#[derive(Default)]
struct Zones {
    by_server: HashMap<IpAddr, Vec<String>, SeededHash>,
}

impl Zones {
    fn add(&mut self, ip: IpAddr, zone: String) {
        let v = self.by_server.entry(ip).or_default();
        if !v.contains(&zone) {
            v.push(zone);
        }
    }

    /// The deepest zone `ip` serves that holds `name`.
    fn serving(&self, ip: IpAddr, name: &str) -> Option<String> {
        self.by_server
            .get(&ip)?
            .iter()
            .filter(|z| within(name, z))
            .max_by_key(|z| labels(z))
            .cloned()
    }
}

/// What the capture's responses say of which server serves which zone.
fn server_zones(dns: &[DnsTransaction]) -> Zones {
    let mut learner = ZoneLearner::new(usize::MAX);
    for t in dns {
        learner.referral(t);
    }
    for t in dns {
        learner.answer(t);
    }
    learner.zones
}

/// Which server serves which zone, learnt one response at a time.
struct ZoneLearner {
    zones: Zones,
    /// NS name -> the zones it serves, from every referral.
    ns_names: HashMap<String, Vec<String>, SeededHash>,
    /// Most servers and NS names remembered (streaming: a flood of referrals must not
    /// grow them without bound); past it, new ones are not learnt.
    cap: usize,
}

impl ZoneLearner {
    fn new(cap: usize) -> ZoneLearner {
        ZoneLearner {
            zones: Zones::default(),
            ns_names: HashMap::default(),
            cap,
        }
    }

    fn add_zone(&mut self, ip: IpAddr, zone: String) {
        if self.zones.by_server.len() < self.cap || self.zones.by_server.contains_key(&ip) {
            self.zones.add(ip, zone);
        }
    }

    /// A referral: its glue's addresses serve its zone, and its NS names are remembered
    /// for the answers that give their addresses later.
    fn referral(&mut self, t: &DnsTransaction) {
        let Some(z) = referral_zone(t) else {
            return;
        };
        for r in t.authority.iter().filter(|r| r.rtype == "NS") {
            let target = normal(&r.data);
            for (owner, ip) in &t.glue {
                if normal(owner) == target {
                    self.add_zone(*ip, z.clone());
                }
            }
            if self.ns_names.len() >= self.cap && !self.ns_names.contains_key(&target) {
                continue;
            }
            let v = self.ns_names.entry(target).or_default();
            if !v.contains(&z) {
                v.push(z.clone());
            }
        }
        // Only the root can delegate a top-level domain.
        if labels(&z) == 1 {
            self.add_zone(t.server.ip(), ".".into());
        }
    }

    /// An answer: the address of a server a referral named without glue, an authoritative
    /// SOA, or a zone's own NS records.
    fn answer(&mut self, t: &DnsTransaction) {
        let named = !self.ns_names.is_empty();
        for r in t.answers.iter().filter(|_| named) {
            let zs = r
                .addr
                .and_then(|ip| Some((ip, self.ns_names.get(&normal(&r.name))?)));
            if let Some((ip, zs)) = zs {
                for z in zs.clone() {
                    self.add_zone(ip, z);
                }
            }
        }
        if !t.aa {
            return;
        }
        // An authoritative negative answer names its zone in the SOA; an authoritative
        // answer of a zone's NS records (priming asks `. NS`) says its server serves it.
        for r in &t.authority {
            if r.rtype == "SOA" {
                self.add_zone(t.server.ip(), normal(&r.name));
            }
        }
        if let Some(q) = t.questions.first().filter(|q| q.qtype == "NS") {
            let qn = normal(&q.name);
            if t.answers
                .iter()
                .any(|r| r.rtype == "NS" && normal(&r.name) == qn)
            {
                self.add_zone(t.server.ip(), qn);
            }
        }
    }
}

/// A name as compared here: lowercase, no trailing dot, the root as `.`.
fn normal(name: &str) -> String {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty() {
        ".".into()
    } else {
        n
    }
}

fn labels(zone: &str) -> usize {
    if zone == "." {
        0
    } else {
        zone.split('.').count()
    }
}

/// Whether `name` is `zone` or below it.
fn within(name: &str, zone: &str) -> bool {
    zone == "."
        || name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|head| head.ends_with('.'))
}

/// Whether a query for `qname` serves a lookup of any of `names`: it is one of them or an
/// ancestor of one, or the key-tag query a validating resolver sends to the root while it
/// uses the root's trust anchor (RFC 8145 5.1: `_ta-xxxx`).
fn leads_to(qname: &str, names: &[String]) -> bool {
    names.iter().any(|n| within(n, qname)) || qname.starts_with("_ta-") && labels(qname) == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::{DnsAnswer, DnsQuestion};
    use crate::time::Ts;
    use std::net::SocketAddr;

    fn rr(name: &str, rtype: &str, data: &str) -> DnsAnswer {
        DnsAnswer {
            name: name.into(),
            rtype: rtype.to_string().into(),
            ttl: 300,
            data: data.into(),
            addr: data.parse().ok().filter(|_| rtype == "A"),
            alpn: Vec::new(),
            svc_port: None,
            ..DnsAnswer::default()
        }
    }

    struct Tx {
        t: DnsTransaction,
    }

    impl Tx {
        fn new(ms: i64, client: &str, server: &str, name: &str, qtype: &str) -> Tx {
            let client: SocketAddr = client.parse().unwrap();
            let server: SocketAddr = server.parse().unwrap();
            Tx {
                t: DnsTransaction {
                    ts: Ts::from_nanos(ms * 1_000_000),
                    client,
                    server,
                    id: 1,
                    questions: vec![DnsQuestion {
                        name: name.into(),
                        qtype: qtype.to_string().into(),
                    }],
                    ..DnsTransaction::default()
                },
            }
        }

        fn answered(mut self, ms: i64, rcode: &str) -> Tx {
            self.t.response_ts = Some(Ts::from_nanos(ms * 1_000_000));
            self.t.latency_ms = Some((ms * 1_000_000 - self.t.ts.nanos()) as f64 / 1e6);
            self.t.rcode = Some(rcode.to_string().into());
            self
        }

        fn ra(mut self) -> Tx {
            self.t.ra = true;
            self
        }

        fn aa(mut self) -> Tx {
            self.t.aa = true;
            self
        }

        fn answer(mut self, r: DnsAnswer) -> Tx {
            self.t.answers.push(r);
            self
        }

        fn authority(mut self, r: DnsAnswer) -> Tx {
            self.t.authority.push(r);
            self
        }

        fn glue(mut self, name: &str, ip: &str) -> Tx {
            self.t.glue.push((name.into(), ip.parse().unwrap()));
            self
        }
    }

    const CLIENT: &str = "10.53.1.2:5000";
    const RESOLVER: &str = "10.53.1.53:53";
    const OUT: &str = "10.53.0.53:4000";

    /// A cold lookup walked from the root, with QNAME minimisation, an out-of-zone NS name
    /// looked up on the way, DNSKEY fetched; then the same lookup from the cache; and a
    /// query from the resolver sent outside any lookup (prefetch) left alone.
    fn walk() -> Vec<DnsTransaction> {
        vec![
            Tx::new(0, CLIENT, RESOLVER, "web.lab.test", "A")
                .answered(20, "NOERROR")
                .ra()
                .answer(rr("web.lab.test", "CNAME", "www.other.test"))
                .answer(rr("www.other.test", "A", "10.53.2.90")),
            Tx::new(1, OUT, "10.53.0.1:53", ".", "NS")
                .answered(2, "NOERROR")
                .aa()
                .answer(rr(".", "NS", "a.root.test")),
            Tx::new(3, OUT, "10.53.0.1:53", "test", "A")
                .answered(4, "NOERROR")
                .authority(rr("test", "NS", "ns.nic.test"))
                .glue("ns.nic.test", "10.53.0.2"),
            Tx::new(5, OUT, "10.53.0.2:53", "lab.test", "A")
                .answered(6, "NOERROR")
                .authority(rr("lab.test", "NS", "ns1.lab.test"))
                .glue("ns1.lab.test", "10.53.0.3"),
            Tx::new(7, OUT, "10.53.0.3:53", "web.lab.test", "A")
                .answered(8, "NOERROR")
                .aa()
                .answer(rr("web.lab.test", "CNAME", "www.other.test")),
            Tx::new(8, OUT, "10.53.0.3:53", "lab.test", "DNSKEY")
                .answered(9, "NOERROR")
                .aa()
                .answer(rr("lab.test", "DNSKEY", "257 3 13 AAAA")),
            Tx::new(9, OUT, "10.53.0.1:53", "_ta-4f66", "A").answered(10, "NXDOMAIN"),
            Tx::new(10, OUT, "10.53.0.2:53", "other.test", "A")
                .answered(11, "NOERROR")
                .authority(rr("other.test", "NS", "ns.hoster.alt")),
            Tx::new(12, OUT, "10.53.0.1:53", "alt", "A")
                .answered(13, "NOERROR")
                .authority(rr("alt", "NS", "ns.nic.alt"))
                .glue("ns.nic.alt", "10.53.0.2"),
            Tx::new(14, OUT, "10.53.0.2:53", "ns.hoster.alt", "A")
                .answered(15, "NOERROR")
                .authority(rr("hoster.alt", "NS", "ns1.hoster.alt"))
                .glue("ns1.hoster.alt", "10.53.0.3"),
            Tx::new(16, OUT, "10.53.0.3:53", "ns.hoster.alt", "A")
                .answered(17, "NOERROR")
                .aa()
                .answer(rr("ns.hoster.alt", "A", "10.53.0.4")),
            Tx::new(18, OUT, "10.53.0.4:53", "www.other.test", "A")
                .answered(19, "NOERROR")
                .aa()
                .answer(rr("www.other.test", "A", "10.53.2.90")),
            Tx::new(30, CLIENT, RESOLVER, "web.lab.test", "A")
                .answered(31, "NOERROR")
                .ra()
                .answer(rr("web.lab.test", "CNAME", "www.other.test")),
            Tx::new(40, OUT, "10.53.0.3:53", "lab.test", "DNSKEY").answered(41, "NOERROR"),
        ]
        .into_iter()
        .map(|t| t.t)
        .collect()
    }

    #[test]
    fn a_cold_lookup_is_the_walk_from_the_root_and_a_warm_one_is_cached() {
        let mut dns = walk();
        link_chains(&mut dns);
        let chain = dns[0].chain.as_ref().expect("a chain");
        let seen: Vec<(&str, &str, &str, &str, Option<&str>)> = chain
            .iter()
            .map(|s| {
                (
                    s.qname.as_str(),
                    &*s.qtype,
                    s.role.as_str(),
                    s.outcome.as_str(),
                    s.referral.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (".", "NS", "root", "answer", None),
                ("test", "A", "root", "referral", Some("test")),
                ("lab.test", "A", "tld", "referral", Some("lab.test")),
                ("web.lab.test", "A", "authoritative", "answer", None),
                ("lab.test", "DNSKEY", "authoritative", "answer", None),
                ("_ta-4f66", "A", "root", "nxdomain", None),
                ("other.test", "A", "tld", "referral", Some("other.test")),
                ("alt", "A", "root", "referral", Some("alt")),
                ("ns.hoster.alt", "A", "tld", "referral", Some("hoster.alt")),
                ("ns.hoster.alt", "A", "authoritative", "answer", None),
                ("www.other.test", "A", "authoritative", "answer", None),
            ]
        );
        assert_eq!(chain[10].zone.as_deref(), Some("other.test"));
        assert_eq!(chain[10].dns, Some(11));
        assert_eq!(dns[0].cached, Some(false));
        assert!(dns[1..12].iter().all(|t| t.upstream_of == Some(0)));
        // The second lookup: answered from the cache.
        assert_eq!(dns[12].chain.as_deref(), Some(&[][..]));
        assert_eq!(dns[12].cached, Some(true));
        // The query outside any lookup stands alone; upstream queries have no chain.
        assert_eq!(dns[13].upstream_of, None);
        assert!(dns[1..]
            .iter()
            .all(|t| t.chain.is_none() || t.client.port() == 5000));
    }

    /// Streamed, each transaction handed out once answered (the lookup after its steps):
    /// the same chains, roles and cache as the whole report's, steps named by their
    /// stream index; a batch handed out together links within itself too.
    #[test]
    fn streamed_chains_are_the_whole_reports() {
        let mut whole = walk();
        link_chains(&mut whole);
        for batch_size in [1, 3, 100] {
            let mut order: Vec<usize> = (0..whole.len()).collect();
            order.sort_by_key(|&i| (whole[i].response_ts, i));
            let mut linker = ChainLinker::default();
            let mut out: Vec<Arc<DnsTransaction>> = Vec::new();
            for chunk in order.chunks(batch_size) {
                let batch: Vec<DnsTransaction> = chunk.iter().map(|&i| walk()[i].clone()).collect();
                let first = out.len();
                out.extend(linker.link(first, batch, |_, _| {}));
            }
            for (k, &i) in order.iter().enumerate() {
                let (got, want) = (&out[k], &whole[i]);
                assert_eq!(got.ts, want.ts);
                assert_eq!(
                    got.cached, want.cached,
                    "batch {batch_size}, {:?}",
                    want.questions
                );
                let named = |c: &Option<Vec<ChainStep>>, index: &dyn Fn(usize) -> usize| {
                    c.as_ref().map(|c| {
                        c.iter()
                            .map(|s| {
                                (
                                    index(s.dns.unwrap()),
                                    s.qname.clone(),
                                    s.role,
                                    s.zone.clone(),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                };
                // A stream index names the whole report's transaction handed out there.
                assert_eq!(
                    named(&got.chain, &|j| order[j]),
                    named(&want.chain, &|j| j),
                    "batch {batch_size}"
                );
                assert_eq!(got.upstream_of, None);
            }
        }
    }

    #[test]
    fn without_the_resolver_side_there_is_no_chain() {
        let mut dns: Vec<DnsTransaction> = walk()
            .into_iter()
            .filter(|t| t.client.to_string() == CLIENT)
            .collect();
        link_chains(&mut dns);
        assert!(dns.iter().all(|t| t.chain.is_none() && t.cached.is_none()));
    }

    /// Two lookups of different names at once: each query goes to the lookup whose name
    /// it leads to; the shared ancestors to the one that started first.
    #[test]
    fn overlapping_lookups_split_by_name() {
        let mut dns: Vec<DnsTransaction> = vec![
            Tx::new(0, CLIENT, RESOLVER, "a.lab.test", "A")
                .answered(10, "NOERROR")
                .ra(),
            Tx::new(1, "10.53.1.3:7", RESOLVER, "b.other.test", "A")
                .answered(12, "NXDOMAIN")
                .ra(),
            Tx::new(2, OUT, "10.53.0.1:53", "test", "A").answered(3, "NOERROR"),
            Tx::new(4, OUT, "10.53.0.3:53", "a.lab.test", "A").answered(5, "NOERROR"),
            Tx::new(6, OUT, "10.53.0.4:53", "b.other.test", "A").answered(7, "NXDOMAIN"),
        ]
        .into_iter()
        .map(|t| t.t)
        .collect();
        link_chains(&mut dns);
        let names = |c: usize| -> Vec<String> {
            dns[c]
                .chain
                .as_ref()
                .unwrap()
                .iter()
                .map(|s| s.qname.clone())
                .collect()
        };
        assert_eq!(names(0), ["test", "a.lab.test"]);
        assert_eq!(names(1), ["b.other.test"]);
        assert_eq!(
            dns[1].chain.as_ref().unwrap()[0].outcome,
            StepOutcome::Nxdomain
        );
        // No referral named 10.53.0.4: its role is not guessed.
        assert_eq!(dns[1].chain.as_ref().unwrap()[0].role, ServerRole::Other);
    }

    #[test]
    fn names_compare_by_labels() {
        assert!(within("www.lab.test", "lab.test"));
        assert!(within("lab.test", "lab.test"));
        assert!(!within("xlab.test", "lab.test"));
        assert!(within("anything", "."));
        assert_eq!(normal("WWW.Lab.Test."), "www.lab.test");
        assert_eq!(normal("."), ".");
        assert_eq!(labels("test"), 1);
        assert_eq!(labels("."), 0);
    }
}
