//! DNS transactions: queries paired with their responses.
//!
//! A response is paired with the earliest unanswered query that has the same client,
//! server, transaction id and first question (RFC 5452 section 9.1: id, addresses, ports and
//! question must all match). A query repeated before its answer (a client retry) joins the
//! transaction it repeats; the latency is measured from the first query, as tshark's
//! `dns.time` is. A response with no captured query is a transaction of its own with no
//! latency. Memory: unanswered queries wait at most [`PENDING_NANOS`] of capture time and at
//! most [`MAX_PENDING`] at once; the transactions themselves are the report (or, streaming,
//! are dropped once handed out).

use std::collections::{HashMap, VecDeque};
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

/// The transaction log. Transactions are numbered in order of creation; in streaming mode
/// the ones handed out by [`DnsLog::take_ready`] are dropped, so memory holds only what is
/// still waiting. Unanswered queries expire in order of arrival from a queue (amortised
/// O(1) per message, whatever the number pending).
#[derive(Default)]
pub struct DnsLog {
    txs: VecDeque<DnsTransaction>,
    /// Whether each transaction of `txs` was handed out.
    emitted: VecDeque<bool>,
    /// Number of the first transaction in `txs`.
    base: usize,
    pending: HashMap<Key, usize>,
    /// Pending queries in order of arrival, for expiry.
    order: VecDeque<(Ts, Key, usize)>,
    /// Streaming: drop transactions once handed out.
    streaming: bool,
}

impl DnsLog {
    pub fn new() -> DnsLog {
        DnsLog::default()
    }

    /// A log that forgets what it has handed out (live capture, record formats).
    pub fn streaming() -> DnsLog {
        DnsLog {
            streaming: true,
            ..DnsLog::default()
        }
    }

    fn get(&self, i: usize) -> Option<&DnsTransaction> {
        self.txs.get(i.checked_sub(self.base)?)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut DnsTransaction> {
        self.txs.get_mut(i.checked_sub(self.base)?)
    }

    fn push(&mut self, t: DnsTransaction) -> usize {
        self.txs.push_back(t);
        self.emitted.push_back(false);
        self.base + self.txs.len() - 1
    }

    /// Every transaction, in order of time (DNS over TCP arrives when its connection ends).
    pub fn into_transactions(self) -> Vec<DnsTransaction> {
        let mut v: Vec<DnsTransaction> = self.txs.into();
        v.sort_by_key(|t| t.ts);
        v
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
        let blank = |query_packet| DnsTransaction {
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
            query_packet,
            response_packet: None,
        };
        let waiting = self
            .pending
            .get(&key)
            .copied()
            .filter(|&i| self.get(i).is_some_and(|t| t.response_ts.is_none()));
        if !response {
            if waiting.is_some() {
                return; // a retry of a query still waiting
            }
            self.expire(ts);
            let i = self.push(blank(Some(frame)));
            self.pending.insert(key.clone(), i);
            self.order.push_back((ts, key, i));
            return;
        }
        let i = match waiting {
            Some(i) => {
                self.pending.remove(&key);
                i
            }
            None => self.push(blank(None)),
        };
        let Some(t) = self.get_mut(i) else {
            return;
        };
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

    /// Forgets queries unanswered for [`PENDING_NANOS`], and the oldest beyond
    /// [`MAX_PENDING`]: their answers, if they come, stand alone.
    fn expire(&mut self, now: Ts) {
        while let Some((at, _, _)) = self.order.front() {
            let old = now.nanos().saturating_sub(at.nanos()) >= PENDING_NANOS;
            if !old && self.order.len() < MAX_PENDING {
                break;
            }
            if let Some((_, key, i)) = self.order.pop_front() {
                if self.pending.get(&key) == Some(&i) {
                    self.pending.remove(&key);
                }
            }
        }
    }

    /// For streaming output: transactions answered, or unanswered for [`STREAM_WAIT_NANOS`]
    /// (every one when `all`), that were not handed out before, in order of creation.
    pub fn take_ready(&mut self, now: Ts, all: bool) -> Vec<DnsTransaction> {
        let mut out = Vec::new();
        for (t, done) in self.txs.iter().zip(self.emitted.iter_mut()) {
            let ready = all
                || t.response_ts.is_some()
                || now.nanos().saturating_sub(t.ts.nanos()) > STREAM_WAIT_NANOS;
            if !*done && ready {
                *done = true;
                out.push(t.clone());
            }
        }
        if self.streaming {
            while self.emitted.front() == Some(&true) {
                self.emitted.pop_front();
                self.txs.pop_front();
                self.base += 1;
            }
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
