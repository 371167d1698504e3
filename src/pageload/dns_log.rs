//! DNS transactions: queries paired with their responses.
//!
//! A response is paired with the earliest unanswered query that has the same client,
//! server, transaction id and first question (RFC 5452 section 9.1: id, addresses, ports and
//! question must all match). A query repeated before its answer (a client retry) joins the
//! transaction it repeats; the latency is measured from the first query, as tshark's
//! `dns.time` is. A response with no captured query is a transaction of its own with no
//! latency. Memory: unanswered queries wait at most [`PENDING_NANOS`] of capture time and at
//! most [`MAX_PENDING`] at once; the transactions themselves are the report.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::dissect::dns::{self as wire, DnsMessage};
use crate::pageload::model::{DnsAnswer, DnsQuestion, DnsTransaction, DnsTransport};
use crate::time::{ms_between, Ts};

pub const PENDING_NANOS: i64 = 30_000_000_000;
pub const MAX_PENDING: usize = 65_536;
/// How long a streamed query waits for its answer before it is shown unanswered.
pub const STREAM_WAIT_NANOS: i64 = 5_000_000_000;

/// (client, server, id, first question name lowercased, first question type)
type Key = (SocketAddr, SocketAddr, u16, String, String);

#[derive(Default)]
pub struct DnsLog {
    txs: Vec<DnsTransaction>,
    pending: HashMap<Key, usize>,
    /// Which transactions [`DnsLog::take_ready`] has handed out, and the first that it has not.
    emitted: Vec<bool>,
    first_unemitted: usize,
}

impl DnsLog {
    pub fn new() -> DnsLog {
        DnsLog::default()
    }

    pub fn transactions(&self) -> &[DnsTransaction] {
        &self.txs
    }

    pub fn into_transactions(mut self) -> Vec<DnsTransaction> {
        // In order of time (DNS over TCP arrives when its connection ends).
        self.txs.sort_by_key(|t| t.ts);
        self.txs
    }

    /// A parsed message; `src`/`dst` are the packet's endpoints.
    pub fn handle_message(
        &mut self,
        ts: Ts,
        frame: u64,
        src: SocketAddr,
        dst: SocketAddr,
        transport: DnsTransport,
        msg: &DnsMessage,
    ) {
        let response = msg.is_response();
        let (client, server) = if response { (dst, src) } else { (src, dst) };
        let questions: Vec<DnsQuestion> = msg.questions.iter().map(question).collect();
        let q = questions.first();
        let key: Key = (
            client,
            server,
            msg.id(),
            q.map(|q| q.name.to_ascii_lowercase()).unwrap_or_default(),
            q.map(|q| q.qtype.clone()).unwrap_or_default(),
        );
        if !response {
            if let Some(&i) = self.pending.get(&key) {
                if self.txs[i].response_ts.is_none() {
                    return; // a retry of a query still waiting
                }
            }
            self.expire(ts);
            let i = self.txs.len();
            self.txs.push(DnsTransaction {
                ts,
                client,
                server,
                transport,
                id: msg.id(),
                questions: questions.clone(),
                response_ts: None,
                latency_ms: None,
                rcode: None,
                truncated: false,
                answers: Vec::new(),
                authority: Vec::new(),
                query_packet: Some(frame),
                response_packet: None,
            });
            if self.pending.len() < MAX_PENDING {
                self.pending.insert(key, i);
            }
            return;
        }
        let waiting = self
            .pending
            .get(&key)
            .copied()
            .filter(|&i| self.txs[i].response_ts.is_none());
        let i = match waiting {
            Some(i) => {
                self.pending.remove(&key);
                i
            }
            None => {
                self.txs.push(DnsTransaction {
                    ts,
                    client,
                    server,
                    transport,
                    id: msg.id(),
                    questions: questions.clone(),
                    response_ts: None,
                    latency_ms: None,
                    rcode: None,
                    truncated: false,
                    answers: Vec::new(),
                    authority: Vec::new(),
                    query_packet: None,
                    response_packet: None,
                });
                self.txs.len() - 1
            }
        };
        let t = &mut self.txs[i];
        t.response_ts = Some(ts);
        if t.query_packet.is_some() {
            t.latency_ms = ms_between(Some(t.ts), Some(ts));
        }
        t.rcode = Some(msg.rcode_name());
        t.truncated = msg.header.truncated;
        t.answers = msg.answers.iter().map(answer).collect();
        t.authority = msg.authority.iter().map(answer).collect();
        t.response_packet = Some(frame);
    }

    fn expire(&mut self, now: Ts) {
        if self.pending.len() < MAX_PENDING / 2 {
            return;
        }
        let txs = &self.txs;
        self.pending
            .retain(|_, &mut i| now.nanos().saturating_sub(txs[i].ts.nanos()) < PENDING_NANOS);
    }

    /// For streaming output: transactions answered, or unanswered for [`STREAM_WAIT_NANOS`],
    /// that were not handed out before.
    pub fn take_ready(&mut self, now: Ts) -> Vec<DnsTransaction> {
        self.emitted.resize(self.txs.len(), false);
        let mut out = Vec::new();
        for i in self.first_unemitted..self.txs.len() {
            let t = &self.txs[i];
            let ready = t.response_ts.is_some()
                || now.nanos().saturating_sub(t.ts.nanos()) > STREAM_WAIT_NANOS;
            if !self.emitted[i] && ready {
                self.emitted[i] = true;
                out.push(t.clone());
            }
        }
        while self.first_unemitted < self.emitted.len() && self.emitted[self.first_unemitted] {
            self.first_unemitted += 1;
        }
        out
    }
}

/// The addresses an answer section resolves to (A and AAAA records, whatever the CNAME chain).
pub fn answer_addresses(t: &DnsTransaction) -> impl Iterator<Item = IpAddr> + '_ {
    t.answers.iter().filter_map(|a| a.addr)
}

/// A question as the report shows it.
pub fn question(q: &wire::Question) -> DnsQuestion {
    DnsQuestion {
        name: q.name.clone(),
        qtype: q.qtype.name(),
    }
}

/// A record as the report shows it.
pub fn answer(r: &wire::DnsRecord) -> DnsAnswer {
    DnsAnswer {
        name: r.name.clone(),
        rtype: r.rtype.name(),
        ttl: r.ttl,
        data: r.data.clone(),
        addr: r.addr,
    }
}
