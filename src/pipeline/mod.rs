//! The stage order, and the only place that knows it.
//!
//! ```text
//! capture ─► link ─► net (+ defrag) ─┬─► tcp flow table ─► reassembly ─► dissect::App ─┐
//!                                    └─► udp ─┬─► DNS (port 53)                        ├─► pageload::stitch ─► Report
//!                                             └─► dissect::quic (by content)           ┘
//! ```
//!
//! [`Analyzer`] is sans-IO: the file reader ([`drive`]), the live capture and the tests all
//! call [`Analyzer::handle_packet`] with a packet and its capture time. What comes out goes
//! one of two ways, chosen when the analyzer is made:
//! - **a report** ([`Analyzer::finish`]): everything kept to the end, then linked (DNS to
//!   connections, redirects) into one [`Report`];
//! - **a stream** ([`AnalyzerConfig::streaming`]): [`Analyzer::poll`] hands out each DNS
//!   transaction, TCP connection and QUIC connection as it is finished, already linked, and
//!   forgets it; [`Analyzer::finish_stream`] hands out the rest. Memory then tracks what is
//!   open, not the capture.
//!
//! Nothing here reads the wall clock.

mod quic_app;
mod stream;
pub mod workers;

use std::collections::{HashMap, HashSet, VecDeque};

use crate::capture::{CaptureEvent, CaptureReader, Packet, SecretsKind};
use crate::decrypt::KeyLog;
/// What a key log gave: lines read, secrets taken, lines skipped.
pub use crate::decrypt::KeyLogStats;
use crate::dissect::quic::table::MAX_QUIC_CONNS;
use crate::dissect::quic::QuicTable;
use crate::link::{self, LinkError, LinkType, NetProto};
use crate::net::defrag::{self as defrag, DefragResult, Defragmenter};
use crate::net::flow::{Dir, FlowKey, SeededHash};
use crate::net::{self, IpPacket, TcpSegment, UdpDatagram, PROTO_TCP, PROTO_UDP};
use crate::pageload::dns_log::{DnsLog, MAX_PENDING};
use crate::pageload::model::{
    AppProtocol, CaptureInfo, Connection, DnsTransaction, DnsTransport, EncryptedDns,
    QuicConnection, Report, Warning, SCHEMA,
};
use crate::pageload::{build, quic, resolution, stitch};
use crate::tcp::FlowTable;
/// The TCP stage's settings, part of [`AnalyzerConfig`].
pub use crate::tcp::{TcpConfig, MAX_CONNECTIONS};
use quic_app::{QuicApp, QuicDriver};
use std::net::SocketAddr;
use std::sync::Arc;
use stream::{StreamDriver, TcpApp};

use crate::time::Ts;
use crate::warning::{Cap, CapCount, WarningKind};

/// Most per-packet warnings listed in `capture.warnings`; the rest are counted. Warnings
/// about the whole capture ([`Analyzer::warn_always`]) are listed whatever this says.
pub const MAX_CAPTURE_WARNINGS: usize = 1000;
/// How often (capture time) the flow table is swept for ended connections.
const SWEEP_NANOS: i64 = 1_000_000_000;

/// Most handed-out DNS transactions a stream remembers to link later connections to.
pub const DNS_WINDOW: usize = resolution::LINK_WINDOW;
/// Most UDP 5-tuples numbered as tshark's `udp.stream` (about 70 MiB at the cap); QUIC
/// connections on 5-tuples first seen after that get no number.
pub const MAX_UDP_STREAMS: usize = 1 << 20;
/// The same when results are streamed, where memory tracks what is open (about 8 MiB).
pub const MAX_UDP_STREAMS_STREAMING: usize = 100_000;

#[derive(Debug, Clone, Default)]
pub struct AnalyzerConfig {
    pub tcp: TcpConfig,
    /// Hash response bodies (SHA-256) for `body_sha256`.
    pub body_hash: bool,
    /// Hand results out as they finish ([`Analyzer::poll`]) instead of keeping them for a
    /// report.
    /// Streamed, as many 5-tuples are numbered as `tcp.stream` as connections may be live
    /// ([`TcpConfig::max_connections`]): memory then tracks open connections.
    pub streaming: bool,
    /// Worker threads for the TCP connections' dissectors ([`workers`]); 0: on the
    /// analyzer's own thread. The results are the same either way.
    pub app_threads: usize,
    /// With workers: the bytes a connection carries before its dissectors move to one
    /// (`None`: [`stream::MOVE_AFTER`]).
    pub app_move_after: Option<u64>,
}

/// What a streaming analyzer hands out, in the order things finished (a connection's
/// lookup always before it).
#[derive(Debug, Clone)]
pub enum Output {
    /// A DNS transaction, answered or given up on; `index` numbers them from 0 in the
    /// stream, and a connection's `dns` is that number.
    Dns {
        index: u64,
        /// Shared with the window that links later connections to it.
        transaction: Arc<DnsTransaction>,
    },
    /// A TCP connection that ended.
    Connection(Box<Connection>),
    /// A QUIC connection that ended (idle, evicted, or the end of the capture).
    Quic(Box<QuicConnection>),
}

/// A stream's memory: what is ready to hand out, and the DNS handed out lately.
#[derive(Default)]
struct Stream {
    out: VecDeque<Output>,
    /// The window's lookups by the addresses they answered, numbered as the stream numbers
    /// them: a finished connection finds its lookup without a scan of the window.
    index: stitch::AddrIndex,
    /// Stream index of the next DNS transaction.
    next_index: u64,
    /// The last [`DNS_WINDOW`] DNS transactions handed out (the window), client lookups
    /// linked to their resolver's queries upstream as they are handed out.
    chains: resolution::ChainLinker,
}

pub struct Analyzer {
    cfg: AnalyzerConfig,
    info: CaptureInfo,
    links: Vec<LinkType>,
    flows: FlowTable<TcpApp>,
    /// TLS session secrets, available to every connection.
    keys: KeyLog,
    defrag: Defragmenter,
    /// Fragments dropped at the defragmenter's caps: datagrams, then bytes.
    defrag_capped: [CapCount; 2],
    dns: DnsLog,
    quic: QuicTable<QuicApp>,
    /// tshark's `udp.stream` numbering: every UDP 5-tuple, in order of first datagram.
    udp_streams: HashMap<FlowKey, u64, SeededHash>,
    max_udp_streams: usize,
    /// UDP 5-tuples left unnumbered, the numbering being full.
    udp_unnumbered: CapCount,
    /// Reports of QUIC connections that ended.
    quic_done: Vec<QuicConnection>,
    /// Reports of connections that ended, in order of ending.
    done: Vec<Connection>,
    /// Streaming: what is ready and the DNS window (`None` when building a report).
    stream: Option<Stream>,
    last_ts: Option<Ts>,
    next_sweep: Option<Ts>,
    keylog_stats: KeyLogStats,
    /// `cfg.app_threads` workers, when there are any.
    workers: Option<workers::AppWorkers>,
}

impl Analyzer {
    pub fn new(cfg: AnalyzerConfig, path: &str, format: &str) -> Analyzer {
        let mut tcp = cfg.tcp;
        let streaming = cfg.streaming;
        let mut max_udp_streams = MAX_UDP_STREAMS;
        if streaming {
            tcp.max_stream_keys = tcp.max_stream_keys.min(tcp.max_connections);
            max_udp_streams = MAX_UDP_STREAMS_STREAMING;
        }
        Analyzer {
            info: CaptureInfo {
                path: path.to_string(),
                format: format.to_string(),
                ..CaptureInfo::default()
            },
            links: Vec::new(),
            flows: FlowTable::new(tcp),
            keys: KeyLog::new(),
            defrag: Defragmenter::new(),
            defrag_capped: [CapCount::default(); 2],
            dns: if streaming {
                DnsLog::streaming()
            } else {
                DnsLog::new()
            },
            quic: QuicTable::new(),
            udp_streams: HashMap::default(),
            max_udp_streams,
            udp_unnumbered: CapCount::default(),
            quic_done: Vec::new(),
            done: Vec::new(),
            stream: streaming.then(Stream::default),
            last_ts: None,
            next_sweep: None,
            keylog_stats: KeyLogStats::default(),
            workers: (cfg.app_threads > 0)
                .then_some(cfg.app_move_after.unwrap_or(stream::MOVE_AFTER))
                .and_then(|after| workers::AppWorkers::new(cfg.app_threads, cfg.body_hash, after)),
            cfg,
        }
    }

    pub fn config(&self) -> &AnalyzerConfig {
        &self.cfg
    }

    /// Live connections in the flow table.
    pub fn live_connections(&self) -> usize {
        self.flows.live()
    }

    /// A warning about one packet: listed while fewer than [`MAX_CAPTURE_WARNINGS`] are,
    /// counted in `warnings_suppressed` after.
    pub fn warn(&mut self, w: Warning) {
        if self.info.warnings.len() < MAX_CAPTURE_WARNINGS {
            self.info.warnings.push(w);
        } else {
            self.info.stats.warnings_suppressed += 1;
        }
    }

    /// A warning about the whole capture, said once (the file cut short or damaged, a cap
    /// hit, the key log's bad lines): always listed, however many per-packet warnings came
    /// before it.
    pub fn warn_always(&mut self, w: Warning) {
        self.info.warnings.push(w);
    }

    /// One warning per table cap the capture hit so far ([`Cap`]), with how often and
    /// where first. [`Analyzer::finish`] lists them; the CLI also says them on standard
    /// error.
    pub fn cap_warnings(&self) -> Vec<Warning> {
        let [datagrams, bytes] = self.defrag_capped;
        [
            (
                Cap::FlowTable,
                self.flows.max_connections(),
                self.flows.evicted,
            ),
            (
                Cap::AfterEviction,
                self.flows.max_connections(),
                self.flows.after_eviction,
            ),
            (Cap::QuicTable, MAX_QUIC_CONNS, self.quic.evicted),
            (Cap::DnsPending, MAX_PENDING, self.dns.pending_capped),
            (Cap::FragmentDatagrams, defrag::MAX_DATAGRAMS, datagrams),
            (Cap::FragmentBytes, defrag::MAX_BUFFERED, bytes),
            (
                Cap::TcpStreams,
                self.flows.max_stream_keys(),
                self.flows.unnumbered,
            ),
            (Cap::UdpStreams, self.max_udp_streams, self.udp_unnumbered),
        ]
        .into_iter()
        .filter(|(_, _, n)| n.count > 0)
        .map(|(cap, limit, n)| cap.warning(limit, n))
        .collect()
    }

    /// A Decryption Secrets Block. An empty TLS key log block is how a live capture's `-w`
    /// file says the key log was followed while it was written ([`Analyzer::follow_keylog`]),
    /// so the file analyzes like the live run.
    pub fn handle_secrets(&mut self, kind: SecretsKind, data: &[u8]) {
        if kind == SecretsKind::TlsKeyLog {
            if data.is_empty() {
                self.follow_keylog();
            }
            self.add_keylog_text(&String::from_utf8_lossy(data));
        }
    }

    /// The key log is still being written while packets come (a live capture following
    /// `SSLKEYLOGFILE`): a TLS record that arrives before its side's secrets is kept
    /// (bounded, see [`crate::dissect::tls::late`]) and handled when they come, rather than
    /// left encrypted. Without this call nothing is kept.
    pub fn follow_keylog(&mut self) {
        self.keys.set_growing(true);
        if let Some(w) = &mut self.workers {
            w.keys_growing();
        }
    }

    /// NSS key log text (`--keylog`, `SSLKEYLOGFILE`, a secrets block, or lines appended to a
    /// followed file): available to every connection from now on.
    /// Returns what this text held (lines, accepted secrets, bad lines).
    pub fn add_keylog_text(&mut self, text: &str) -> KeyLogStats {
        let stats = self.keys.add_text(text);
        if let Some(w) = &mut self.workers {
            w.key_text(text);
        }
        self.keylog_stats.lines += stats.lines;
        self.keylog_stats.accepted += stats.accepted;
        self.keylog_stats.bad += stats.bad;
        stats
    }

    /// Client randoms with at least one secret, from every key log given so far (files,
    /// followed files and the capture's own secrets blocks).
    pub fn keylog_sessions(&self) -> usize {
        self.keys.len()
    }

    /// What the key logs given so far held (lines, accepted secrets, bad lines).
    pub fn keylog_stats(&self) -> &KeyLogStats {
        &self.keylog_stats
    }

    /// Advances capture time without a packet (live capture on a quiet interface): connections
    /// closed or idle long enough by `now` are finished, ready for [`Analyzer::poll`] (streaming) or the report.
    pub fn tick(&mut self, now: Ts) {
        if self.last_ts.is_some_and(|t| now < t) {
            return;
        }
        self.next_sweep = None;
        self.sweep(now);
    }

    /// Handles one captured packet.
    pub fn handle_packet(&mut self, p: &Packet<'_>) {
        // A packet without a time (pcapng simple packet block) takes the previous one's.
        let ts = if p.ts.nanos() == i64::MIN {
            self.last_ts.unwrap_or_default()
        } else {
            p.ts
        };
        self.info.packets += 1;
        self.info.bytes += p.data.len() as u64;
        if self.info.first_ts.is_none() {
            self.info.first_ts = Some(ts);
        }
        self.info.last_ts = Some(self.info.last_ts.map_or(ts, |t| t.max(ts)));
        self.last_ts = Some(ts);
        if !self.links.contains(&p.link) {
            self.links.push(p.link);
        }
        if (p.orig_len as usize) > p.data.len() {
            self.info.stats.truncated += 1;
            self.warn(Warning::new(
                Some(p.frame),
                WarningKind::Truncated,
                format!(
                    "snaplen cut the packet: {} of {} bytes captured",
                    p.data.len(),
                    p.orig_len
                ),
            ));
        }
        self.sweep(ts);

        let frame = match link::decode(p.link, p.data) {
            Ok(f) => f,
            Err(LinkError::Truncated { need, have }) => {
                self.info.stats.malformed += 1;
                self.warn(Warning::new(
                    Some(p.frame),
                    WarningKind::Malformed,
                    format!("link header needs {need} bytes, {have} captured"),
                ));
                return;
            }
            Err(LinkError::Unsupported(l)) => {
                self.info.stats.other += 1;
                if self.info.stats.other == 1 {
                    self.warn(Warning::new(
                        Some(p.frame),
                        WarningKind::Unsupported,
                        format!("link type {} is not supported", l.name()),
                    ));
                }
                return;
            }
        };
        if let NetProto::Other(_) = frame.proto {
            self.info.stats.other += 1;
            return;
        }
        let ip = match net::parse_ip(frame.proto, frame.payload) {
            Ok(ip) => ip,
            Err(net::NetError::NotIp) => {
                self.info.stats.other += 1;
                return;
            }
            Err(net::NetError::Malformed(m)) => {
                self.info.stats.malformed += 1;
                self.warn(Warning::new(
                    Some(p.frame),
                    WarningKind::Malformed,
                    format!("IP: {m}"),
                ));
                return;
            }
        };
        match ip.src {
            std::net::IpAddr::V4(_) => self.info.stats.ipv4 += 1,
            std::net::IpAddr::V6(_) => self.info.stats.ipv6 += 1,
        }
        if ip.frag.is_some() {
            self.info.stats.ip_fragments += 1;
            match self.defrag.add(ts, &ip) {
                DefragResult::Pending => {}
                DefragResult::Dropped(why) => {
                    self.warn(Warning::new(Some(p.frame), WarningKind::Fragment, why));
                }
                DefragResult::Capped(cap) => {
                    let i = usize::from(cap == Cap::FragmentBytes);
                    self.defrag_capped[i].hit(Some(p.frame));
                }
                DefragResult::Complete(payload) => {
                    self.info.stats.reassembled_datagrams += 1;
                    let whole = IpPacket {
                        payload: &payload,
                        frag: None,
                        ..ip
                    };
                    self.transport(ts, p.frame, &whole);
                }
            }
            return;
        }
        self.transport(ts, p.frame, &ip);
    }

    fn transport(&mut self, ts: Ts, frame: u64, ip: &IpPacket<'_>) {
        match ip.proto {
            PROTO_TCP => match TcpSegment::new_checked(ip.payload) {
                Ok(seg) => {
                    self.info.stats.tcp += 1;
                    let ends = (
                        SocketAddr::new(ip.src, seg.src_port),
                        SocketAddr::new(ip.dst, seg.dst_port),
                    );
                    let mut driver = StreamDriver {
                        keys: &self.keys,
                        body_hash: self.cfg.body_hash,
                        workers: self.workers.as_mut(),
                    };
                    self.flows.handle(ends, ts, frame, &seg, &mut driver);
                }
                Err(e) => {
                    self.info.stats.malformed += 1;
                    let kind = if ip.incomplete {
                        WarningKind::Truncated
                    } else {
                        WarningKind::Malformed
                    };
                    self.warn(Warning::new(
                        Some(frame),
                        kind,
                        format!("TCP header: {e:?}"),
                    ));
                }
            },
            PROTO_UDP => match UdpDatagram::new_checked(ip.payload) {
                Some(udp) => {
                    self.info.stats.udp += 1;
                    let (src, dst) = (
                        SocketAddr::new(ip.src, udp.src_port),
                        SocketAddr::new(ip.dst, udp.dst_port),
                    );
                    self.number_udp_stream(FlowKey::new(src, dst), frame);
                    if udp.src_port == 53 || udp.dst_port == 53 {
                        self.dns_datagram(ts, frame, (src, dst), udp.payload);
                    } else {
                        // QUIC by content (RFC 8999 5.1), on any port.
                        let mut driver = QuicDriver {
                            body_hash: self.cfg.body_hash,
                        };
                        self.quic.handle_datagram(
                            (ts, frame),
                            (src, dst),
                            udp.payload,
                            &self.keys,
                            &mut driver,
                        );
                    }
                }
                None => {
                    self.info.stats.malformed += 1;
                    self.warn(Warning::new(
                        Some(frame),
                        WarningKind::Malformed,
                        "UDP header shorter than 8 bytes",
                    ));
                }
            },
            _ => self.info.stats.other += 1,
        }
    }

    /// Gives a UDP 5-tuple never seen before the next `udp.stream` index, as tshark does.
    fn number_udp_stream(&mut self, key: FlowKey, frame: u64) {
        let n = self.udp_streams.len();
        if n < self.max_udp_streams {
            self.udp_streams.entry(key).or_insert(n as u64);
        } else if !self.udp_streams.contains_key(&key) {
            self.udp_unnumbered.hit(Some(frame));
        }
    }

    /// A DNS message over UDP: parsed here, paired with its query or answer in the log.
    fn dns_datagram(
        &mut self,
        ts: Ts,
        frame: u64,
        (src, dst): (SocketAddr, SocketAddr),
        payload: &[u8],
    ) {
        match crate::dissect::dns::parse_message(payload) {
            Ok(msg) => {
                if let Some((kind, m)) = msg.problem() {
                    self.warn(Warning::new(Some(frame), kind, format!("DNS: {m}")));
                }
                self.dns
                    .handle_message(ts, frame, src, dst, DnsTransport::Udp, &msg);
            }
            Err(e) => self.warn(Warning::new(
                Some(frame),
                WarningKind::Malformed,
                format!("DNS: {e}"),
            )),
        }
    }

    /// Every second of capture time: finish ended connections, expire fragments.
    fn sweep(&mut self, ts: Ts) {
        match self.next_sweep {
            Some(t) if ts < t => {}
            _ => {
                self.next_sweep = Some(ts.saturating_add_nanos(SWEEP_NANOS));
                let mut driver = StreamDriver {
                    keys: &self.keys,
                    body_hash: self.cfg.body_hash,
                    workers: self.workers.as_mut(),
                };
                self.flows.expire(ts, &mut driver);
                self.defrag.expire(ts);
                let mut driver = QuicDriver {
                    body_hash: self.cfg.body_hash,
                };
                self.quic.expire(ts, &self.keys, &mut driver);
                self.collect();
            }
        }
    }

    /// Turns ended connections into reports: TCP, then QUIC.
    fn collect(&mut self) {
        self.collect_tcp();
        self.collect_quic();
    }

    /// QUIC connections that ended: DNS over QUIC and DoH inside HTTP/3 to the DNS log, the
    /// rest into their reports. A DoQ message is paired by its stream (RFC 9250 4.2.1: every
    /// Message ID is 0).
    fn collect_quic(&mut self) {
        for (facts, mut app) in self.quic.take_finished() {
            let transport = if app.is_doq() {
                DnsTransport::Doq
            } else {
                DnsTransport::Doh
            };
            let mut doq_queries = 0;
            for (m, frame) in app.take_dns() {
                doq_queries += u64::from(m.dir == Dir::ToServer);
                let ends = if m.dir == Dir::ToServer {
                    (facts.client, facts.server)
                } else {
                    (facts.server, facts.client)
                };
                // One query and its answer per stream (DoQ) or per exchange (DoH): they pair
                // by it, whatever their DNS id (RFC 9250 and RFC 8484 send 0).
                if let Ok(msg) = crate::dissect::dns::parse_message(&m.bytes) {
                    let exchange = Some(m.exchange);
                    self.dns
                        .handle_stream_message(m.ts, frame, ends, transport, exchange, &msg);
                }
            }
            let http = app.take_exchanges();
            let stream = self
                .udp_streams
                .get(&FlowKey::new(facts.client, facts.server))
                .copied();
            let doq = app.is_doq();
            let mut q = quic::quic_connection(facts, http);
            q.udp_stream = stream;
            // DNS over QUIC: read (decrypted), or told by the ALPN its Initial offered.
            let offered = q
                .tls
                .as_ref()
                .is_some_and(|t| t.alpn_offered.iter().any(|a| a == "doq"));
            if doq || offered {
                q.encrypted_dns = Some(EncryptedDns {
                    protocol: DnsTransport::Doq,
                    decrypted: doq,
                    queries: doq.then_some(doq_queries),
                });
            }
            self.quic_done.push(q);
        }
    }

    /// Turns ended TCP connections into reports.
    fn collect_tcp(&mut self) {
        let mut finished = self.flows.take_finished();
        if finished.is_empty() {
            self.flows.give_back_finished(finished);
            return;
        }
        // Dissectors on workers come back, done with everything sent them: all of this
        // call's at once, one wait per worker rather than per connection.
        if let Some(w) = self.workers.as_mut() {
            w.take_back(finished.iter_mut().map(|(_, a)| a));
        }
        for (facts, mut a) in finished.drain(..) {
            let ends = |dir: Dir| {
                let (c, s) = (facts.client, facts.server);
                if dir == Dir::ToServer {
                    (c, s)
                } else {
                    (s, c)
                }
            };
            // DNS carried over TCP goes to the DNS log, with the frame that completed each
            // message.
            let protocol = a.app.protocol();
            let transport = if protocol == Some(AppProtocol::TlsDns) {
                DnsTransport::Dot
            } else {
                DnsTransport::Tcp
            };
            let mut dns_queries = 0;
            for (dir, ts, msg, frame) in std::mem::take(&mut a.dns) {
                let (src, dst) = ends(dir);
                dns_queries += u64::from(!msg.is_response());
                self.dns
                    .handle_message(ts, frame, src, dst, transport, &msg);
            }
            // DNS carried in HTTP (DoH): one query and its answer per exchange.
            for (m, frame) in std::mem::take(&mut a.doh) {
                if let Ok(msg) = crate::dissect::dns::parse_message(&m.bytes) {
                    let exchange = Some(m.exchange);
                    self.dns.handle_stream_message(
                        m.ts,
                        frame,
                        ends(m.dir),
                        DnsTransport::Doh,
                        exchange,
                        &msg,
                    );
                }
            }
            let conn = build::tcp_connection(build::TcpOutcome {
                protocol,
                dns_queries,
                tls: a.app.tls_facts(),
                http: a.app.take_exchanges(),
                warnings: std::mem::take(&mut a.ctx.warnings),
                warnings_dropped: a.ctx.warnings_dropped,
                facts,
            });
            self.done.push(conn);
        }
        self.flows.give_back_finished(finished);
    }

    /// Streaming: the next finished result, or `None` until more packets (or
    /// [`Analyzer::tick`]) finish something. DNS transactions come before the connections
    /// that used them.
    pub fn poll(&mut self) -> Option<Output> {
        if self.stream.as_ref()?.out.is_empty() {
            self.refill(false);
        }
        self.stream.as_mut()?.out.pop_front()
    }

    /// Moves what finished into the stream, DNS first, linking connections to the lookups
    /// handed out.
    fn refill(&mut self, all: bool) {
        self.collect();
        let now = self.last_ts.unwrap_or_default();
        let dns = self.dns.take_ready(now, all);
        let mut quic = std::mem::take(&mut self.quic_done);
        let mut conns = std::mem::take(&mut self.done);
        let Some(st) = self.stream.as_mut() else {
            return;
        };
        let first = st.next_index as usize;
        for (k, t) in dns.iter().enumerate() {
            st.index.push(first + k, t);
        }
        let by_addr = &mut st.index;
        let dns = st.chains.link(first, dns, |i, old| by_addr.remove(i, old));
        for t in dns {
            let index = st.next_index;
            st.next_index += 1;
            st.out.push_back(Output::Dns {
                index,
                transaction: t,
            });
        }
        let none = HashSet::default();
        let lookup = |i: usize| st.chains.get(i).map(|t| (i, t));
        for mut c in conns.drain(..) {
            let start = stitch::connection_start(&c, self.info.first_ts);
            let i = st.index.find(c.server.ip(), start, &none);
            stitch::link_connection(&mut c, i.and_then(lookup));
            st.out.push_back(Output::Connection(Box::new(c)));
        }
        for mut q in quic.drain(..) {
            let i = st.index.find(q.server.ip(), q.first_ts, &none);
            stitch::link_quic(&mut q, i.and_then(lookup));
            st.out.push_back(Output::Quic(Box::new(q)));
        }
    }

    /// Streaming: ends the capture. Every connection still open is reported as it stands,
    /// every DNS transaction not yet handed out is; they come back in order with what the
    /// capture was.
    pub fn finish_stream(self) -> (Vec<Output>, CaptureInfo) {
        let mut out = Vec::new();
        let info = self.finish_stream_with(|o| out.push(o));
        (out, info)
    }

    /// [`Analyzer::finish_stream`], handing each result to `emit` as it is ready: when many
    /// connections are still open at the end, they are reported a batch at a time, so they
    /// and their reports are never all in memory at once. (A batch is linked to the lookups
    /// handed out before it, as during the capture; the last batch, and so every capture
    /// that ends with few connections open, sees every lookup.)
    pub fn finish_stream_with(mut self, mut emit: impl FnMut(Output)) -> CaptureInfo {
        self.close_all(&mut |a: &mut Analyzer| {
            a.refill(true);
            while let Some(o) = a.stream.as_mut().and_then(|s| s.out.pop_front()) {
                emit(o);
            }
        });
        self.refill(true);
        for o in self.stream.take().map(|s| s.out).unwrap_or_default() {
            emit(o);
        }
        self.info
    }

    /// Finishes every connection, TCP and QUIC, and fills the capture's counters. TCP
    /// connections become reports a batch at a time, so the open ones and their reports are
    /// not all in memory at once.
    fn close_all(&mut self, batch_done: &mut dyn FnMut(&mut Analyzer)) {
        loop {
            let mut driver = StreamDriver {
                keys: &self.keys,
                body_hash: self.cfg.body_hash,
                workers: self.workers.as_mut(),
            };
            let more = self.flows.finish_open(1024, &mut driver);
            self.collect_tcp();
            if !more {
                break;
            }
            batch_done(self);
        }
        let mut driver = QuicDriver {
            body_hash: self.cfg.body_hash,
        };
        self.quic.finish_all(&self.keys, &mut driver);
        self.info.stats.flow_table_full = self.flows.evicted.count;
        self.info.stats.quic_table_full = self.quic.evicted.count;
        for w in self.cap_warnings() {
            self.warn_always(w);
        }
        self.info.link_types = self.links.iter().map(|l| l.name()).collect();
        let ks = self.keylog_stats;
        if ks.bad > 0 {
            self.warn_always(Warning::new(
                None,
                WarningKind::Keylog,
                format!(
                    "key log: {} of {} line{} were not NSS key log lines and were skipped",
                    ks.bad,
                    ks.lines,
                    if ks.lines == 1 { "" } else { "s" }
                ),
            ));
        }
    }

    /// Ends the capture: every open connection is reported as it stands.
    pub fn finish(mut self) -> Report {
        self.close_all(&mut |_| {});
        self.collect();
        let mut connections = std::mem::take(&mut self.done);
        // Each connection moves once, not once per comparison round (664 bytes each).
        crate::order::sort_large_by_key(&mut connections, |c| c.id);
        let mut quic = std::mem::take(&mut self.quic_done);
        let mut dns = self.dns.into_transactions();
        resolution::link_chains(&mut dns);
        stitch::link_dns(&mut connections, &dns, self.info.first_ts);
        stitch::link_dns_quic(&mut quic, &dns);
        let mut report = Report {
            schema: SCHEMA,
            capture: self.info,
            dns,
            connections,
            quic,
            filter: None,
        };
        stitch::link_redirects(&mut report);
        stitch::link_h3_offers(&mut report);
        report
    }
}

/// Feeds every record of a capture to `analyzer`: packets, and the key logs of Decryption
/// Secrets Blocks where they stand; then the reader's own warnings (a file cut short, a
/// damaged block). `each` sees every packet after the analyzer has (a progress bar).
pub fn drive(
    reader: &mut CaptureReader,
    analyzer: &mut Analyzer,
    mut each: impl FnMut(&Packet<'_>),
) {
    drive_while(reader, analyzer, |_, p| {
        each(p);
        true
    });
}

/// As [`drive`], `each` also seeing the analyzer (to [`Analyzer::poll`] what finished) and
/// stopping the read when it returns `false`.
pub fn drive_while(
    reader: &mut CaptureReader,
    analyzer: &mut Analyzer,
    mut each: impl FnMut(&mut Analyzer, &Packet<'_>) -> bool,
) {
    let mut warnings = Vec::new();
    reader.for_each_while(&mut warnings, |ev| match ev {
        CaptureEvent::Packet(p) => {
            analyzer.handle_packet(&p);
            each(analyzer, &p)
        }
        CaptureEvent::Secrets { kind, data } => {
            analyzer.handle_secrets(kind, data);
            true
        }
    });
    for w in warnings {
        analyzer.warn_always(w);
    }
}

/// A whole capture into its report: `name` is the path it shows, `keylog` NSS key log text
/// given besides the capture's own secrets blocks.
pub fn analyze(
    mut reader: CaptureReader,
    name: &str,
    cfg: AnalyzerConfig,
    keylog: Option<&str>,
) -> Report {
    let mut a = Analyzer::new(cfg, name, reader.format);
    if let Some(k) = keylog {
        a.add_keylog_text(k);
    }
    drive(&mut reader, &mut a, |_| {});
    a.finish()
}
