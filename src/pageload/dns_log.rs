//! DNS transactions: queries paired with their responses.
//!
//! A response is paired with the earliest unanswered query that has the same client,
//! server, transaction id and first question (RFC 5452 section 9.1: id, addresses, ports and
//! question must all match), and for DNS over QUIC the same stream: there every Message ID
//! is 0 and "the stream mapping ... allows for unambiguous correlation of queries and
//! responses" (RFC 9250 4.2.1), so two like questions asked at once on two streams are two
//! transactions. A query repeated before its answer (a client retry) joins the
//! transaction it repeats; the latency is measured from the first query, as tshark's
//! `dns.time` is. A response with no captured query is a transaction of its own with no
//! latency. Memory: unanswered queries wait at most [`PENDING_NANOS`] of capture time and at
//! most [`MAX_PENDING`] at once; the transactions themselves are the report (or, streaming,
//! are dropped once handed out).
//!
//! Cost: a message is one hash lookup and amortised O(1) expiry from a queue in order of
//! arrival; streaming, what is ready to hand out comes from a list of the answered and a
//! queue of the unanswered by time ([`crate::expiry::LazyHeap`]), never from a scan of
//! what waits.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::dissect::dns::{self as wire, DnsMessage};
use crate::expiry::LazyHeap;
use crate::net::flow::SeededHash;
use crate::pageload::model::{DnsAnswer, DnsQuestion, DnsSec, DnsTransaction, DnsTransport};
use crate::time::{ms_between, Ts};
use crate::warning::CapCount;

pub const PENDING_NANOS: i64 = 30_000_000_000;
pub const MAX_PENDING: usize = 65_536;
/// How long a streamed query waits for its answer before it is shown unanswered.
pub const STREAM_WAIT_NANOS: i64 = 5_000_000_000;

/// (client, server, id, stream (DNS over QUIC), first question name lowercased, first
/// question type). The name is shared by the pending map and the expiry queue.
type Key = (
    SocketAddr,
    SocketAddr,
    u16,
    Option<u64>,
    Arc<str>,
    Option<u16>,
);

/// `name` lowercased (ASCII, RFC 4343), in one allocation when it already is.
fn key_name(name: &str) -> Arc<str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Arc::from(name.to_ascii_lowercase())
    } else {
        Arc::from(name)
    }
}

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
    pending: HashMap<Key, usize, SeededHash>,
    /// Pending queries in order of arrival, for expiry.
    order: VecDeque<(Ts, Key, usize)>,
    /// Streaming: drop transactions once handed out.
    streaming: bool,
    /// Streaming: transactions answered since the last [`DnsLog::take_ready`].
    answered: Vec<usize>,
    /// Streaming: transactions not answered yet, by the time of their query.
    unanswered: LazyHeap<Ts, usize>,
    /// Queries that stopped waiting because [`MAX_PENDING`] were waiting.
    pub pending_capped: CapCount,
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
        let ts = t.ts;
        self.txs.push_back(t);
        self.emitted.push_back(false);
        let i = self.base + self.txs.len() - 1;
        if self.streaming {
            self.unanswered.push(ts, i);
        }
        i
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
        self.handle_stream_message(ts, frame, (src, dst), transport, None, msg);
    }

    /// [`DnsLog::handle_message`] for a message of a stream that carries one query and its
    /// response (DNS over QUIC): a response pairs only with a query of its `stream`.
    pub fn handle_stream_message(
        &mut self,
        ts: Ts,
        frame: u64,
        (src, dst): (SocketAddr, SocketAddr),
        transport: DnsTransport,
        stream: Option<u64>,
        msg: &DnsMessage,
    ) {
        let response = msg.is_response();
        let (client, server) = if response { (dst, src) } else { (src, dst) };
        let q = msg.questions.first();
        let key: Key = (
            client,
            server,
            msg.id(),
            stream,
            q.map_or_else(|| Arc::from(""), |q| key_name(&q.name)),
            q.map(|q| q.qtype.0),
        );
        let blank = |query_packet| DnsTransaction {
            ts,
            client,
            server,
            transport,
            id: msg.id(),
            questions: msg.questions.iter().map(question).collect(),
            query_packet,
            dnssec: DnsSec {
                dnssec_ok: msg.edns.as_ref().is_some_and(|e| e.dnssec_ok),
                cd: msg.header.checking_disabled,
                ..DnsSec::default()
            },
            ..DnsTransaction::default()
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
            self.expire(ts, frame);
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
        t.dnssec.ad = msg.header.authentic_data;
        t.dnssec.records = dnssec_records(msg);
        t.aa = msg.header.authoritative;
        t.ra = msg.header.recursion_available;
        t.glue = glue(msg);
        if self.streaming {
            self.answered.push(i);
        }
    }

    /// Forgets queries unanswered for [`PENDING_NANOS`], and the oldest beyond
    /// [`MAX_PENDING`] (counted, with the `frame` of the query that made one too many):
    /// their answers, if they come, stand alone.
    fn expire(&mut self, now: Ts, frame: u64) {
        while let Some((at, _, _)) = self.order.front() {
            let old = now.nanos().saturating_sub(at.nanos()) >= PENDING_NANOS;
            if !old && self.order.len() < MAX_PENDING {
                break;
            }
            if let Some((_, key, i)) = self.order.pop_front() {
                if self.pending.get(&key) == Some(&i) {
                    self.pending.remove(&key);
                    if !old {
                        self.pending_capped.hit(Some(frame));
                    }
                }
            }
        }
    }

    /// For streaming output: transactions answered, or unanswered for [`STREAM_WAIT_NANOS`]
    /// (every one when `all`), that were not handed out before, in order of creation.
    pub fn take_ready(&mut self, now: Ts, all: bool) -> Vec<DnsTransaction> {
        let mut ready = if all {
            self.unanswered.clear();
            (self.base..self.base + self.txs.len()).collect()
        } else {
            self.ready_by(now)
        };
        ready.sort_unstable();
        ready.dedup();
        let mut out = Vec::with_capacity(ready.len());
        for i in ready {
            let Some(at) = i.checked_sub(self.base) else {
                continue;
            };
            if let (Some(t), Some(done)) = (self.txs.get_mut(at), self.emitted.get_mut(at)) {
                if !*done {
                    *done = true;
                    // Streaming, what is handed out is not read again (a late answer to
                    // it is not shown either way): moved out, not copied.
                    out.push(if self.streaming {
                        std::mem::take(t)
                    } else {
                        t.clone()
                    });
                }
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

impl DnsLog {
    /// Streaming: the transactions answered since the last call, and the unanswered ones
    /// whose query is more than [`STREAM_WAIT_NANOS`] older than `now` (unsorted, perhaps
    /// some already handed out).
    fn ready_by(&mut self, now: Ts) -> Vec<usize> {
        let mut ready = std::mem::take(&mut self.answered);
        let (txs, base) = (&self.txs, self.base);
        let waiting = |i: usize| {
            let t = txs.get(i.checked_sub(base)?)?;
            t.response_ts.is_none().then_some(t.ts)
        };
        while let Some((ts, i)) = self.unanswered.peek(waiting) {
            if now.nanos().saturating_sub(ts.nanos()) <= STREAM_WAIT_NANOS {
                break;
            }
            self.unanswered.pop(waiting);
            ready.push(i);
        }
        ready
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
        alpn: r
            .svcb
            .as_ref()
            .filter(|s| s.priority > 0)
            .map(|s| s.alpn.clone())
            .unwrap_or_default(),
        svc_port: r.svcb.as_ref().and_then(|s| s.port),
        svc_ech: r.svcb.as_ref().is_some_and(|s| s.ech),
        svc_ech_ids: r
            .svcb
            .as_ref()
            .map(|s| s.ech_config_ids.clone())
            .unwrap_or_default(),
        svc_hints: r.svcb.as_ref().map(|s| s.hints.clone()).unwrap_or_default(),
    }
}

/// A referral's glue: the addresses in the additional section of a response whose
/// authority section names servers (NS) and whose answer section is empty.
fn glue(msg: &DnsMessage) -> Vec<(String, IpAddr)> {
    if !msg.answers.is_empty() || !msg.authority.iter().any(|r| r.rtype.0 == 2) {
        return Vec::new();
    }
    msg.additional
        .iter()
        .filter_map(|r| Some((r.name.to_ascii_lowercase(), r.addr?)))
        .collect()
}

/// The DNSSEC record types of a response (RFC 4034: DS 43, RRSIG 46, NSEC 47, DNSKEY 48;
/// RFC 5155: NSEC3 50, NSEC3PARAM 51), each once, in the order they first appear.
fn dnssec_records(msg: &DnsMessage) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in msg
        .answers
        .iter()
        .chain(&msg.authority)
        .chain(&msg.additional)
    {
        if matches!(r.rtype.0, 43 | 46..=48 | 50 | 51) {
            let name = r.rtype.name();
            if !out.iter().any(|n| *n == name) {
                out.push(name.into_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::dns::parse_message;

    /// www.lab.test A, Message ID 0 (as DNS over QUIC sends it); `answer` adds one A.
    fn msg(answer: Option<[u8; 4]>) -> DnsMessage {
        let mut m = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
        m.extend_from_slice(b"\x03www\x03lab\x04test\x00\x00\x01\x00\x01");
        if let Some(a) = answer {
            m[2] = 0x84;
            m[7] = 1;
            m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04");
            m.extend_from_slice(&a);
        }
        parse_message(&m).unwrap()
    }

    fn ends() -> (SocketAddr, SocketAddr) {
        (
            "[fd77::1]:40000".parse().unwrap(),
            "[fd77::2]:853".parse().unwrap(),
        )
    }

    /// `(query frame, response frame, answer)` of each transaction.
    fn pairs(log: DnsLog) -> Vec<(Option<u64>, Option<u64>, Vec<String>)> {
        log.into_transactions()
            .iter()
            .map(|t| {
                let answers = t.answers.iter().map(|a| a.data.clone()).collect();
                (t.query_packet, t.response_packet, answers)
            })
            .collect()
    }

    /// RFC 9250 4.2.1: every DoQ Message ID is 0 and the stream pairs query and response.
    /// The same question asked at once on streams 0 and 4, answered in the other order:
    /// two transactions, each with its own answer.
    #[test]
    fn doq_like_questions_on_two_streams_are_two_transactions() {
        let (c, s) = ends();
        let mut log = DnsLog::new();
        let doq = DnsTransport::Doq;
        log.handle_stream_message(Ts(10), 3, (c, s), doq, Some(0), &msg(None));
        log.handle_stream_message(Ts(11), 4, (c, s), doq, Some(4), &msg(None));
        let r4 = msg(Some([10, 77, 0, 4]));
        log.handle_stream_message(Ts(20), 5, (s, c), doq, Some(4), &r4);
        let r0 = msg(Some([10, 77, 0, 0]));
        log.handle_stream_message(Ts(21), 6, (s, c), doq, Some(0), &r0);
        assert_eq!(
            pairs(log),
            [
                (Some(3), Some(6), vec!["10.77.0.0".to_string()]),
                (Some(4), Some(5), vec!["10.77.0.4".to_string()]),
            ]
        );
    }

    /// Without a stream (UDP), a like query before the answer is a retry: it joins.
    #[test]
    fn a_repeated_udp_query_joins_the_one_waiting() {
        let (c, s) = ends();
        let mut log = DnsLog::new();
        log.handle_message(Ts(10), 3, c, s, DnsTransport::Udp, &msg(None));
        log.handle_message(Ts(11), 4, c, s, DnsTransport::Udp, &msg(None));
        let r = msg(Some([10, 77, 0, 2]));
        log.handle_message(Ts(20), 5, s, c, DnsTransport::Udp, &r);
        assert_eq!(
            pairs(log),
            [(Some(3), Some(5), vec!["10.77.0.2".to_string()])]
        );
    }
}
