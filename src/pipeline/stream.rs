//! The application side of a TCP connection: which dissector reads its bytes, decided by
//! content, and the TLS → plaintext → HTTP chain when a key log opens the records.
//!
//! [`App`] receives a connection's two byte streams (see [`crate::dissect::stream`] for the contract) and
//! decides what they carry **by content**, the port being only a hint (STYLE principle 12):
//! the first bytes either side sends are tested against TLS records, the HTTP/2 preface,
//! and HTTP/1.x request and response lines. DNS has no magic, so port 53 decides it.
//!
//! Detection buffers at most [`DETECT_BYTES`] per direction (a request line or a record
//! header split over tiny segments), then replays them to the chosen dissector. A
//! direction whose first bytes nothing recognises is marked tried; when both are, the
//! stream is `unknown` and its bytes are only counted.

use crate::dissect::dns::{DnsMessage, DnsTcpStream, DohMessage};
use crate::dissect::http1::{self, Http1Dissector, Http1Options, SwitchProtocol};
use crate::dissect::http2::{self, Http2Dissector, Http2Options};
use crate::dissect::stream::{Dir, Late, PlaintextSink, StreamCtx};
use crate::dissect::tls::{self, TlsDissector};

use std::net::{IpAddr, SocketAddr};

use super::workers::{AppWorkers, Call};
use crate::decrypt::KeyLog;
use crate::dissect::http::Exchange;
use crate::dissect::tls::TlsFacts;
use crate::pageload::model::AppProtocol;
use crate::tcp::{ConnMeta, TcpHandler};
use crate::time::Ts;
use crate::warning::WarningKind;

/// Bytes a direction may buffer while the protocol is undecided.
pub const DETECT_BYTES: usize = 16;

/// What the first bytes of a direction look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dns,
    Tls,
    Http1,
    Http2,
    /// Not enough bytes to tell yet.
    NeedMore,
    Unknown,
}

fn detect(_dir: Dir, first: &[u8], ports: (u16, u16)) -> Kind {
    if ports.0 == 53 || ports.1 == 53 {
        return Kind::Dns;
    }
    if first.len() >= 6 && tls::looks_like_tls(first) {
        return Kind::Tls;
    }
    if http2::looks_like_http2(_dir, first) {
        return Kind::Http2;
    }
    if http1::looks_like_http1(_dir, first) {
        return Kind::Http1;
    }
    if first.len() < DETECT_BYTES {
        return Kind::NeedMore;
    }
    Kind::Unknown
}

/// What the dissectors of one connection need to know about it.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    pub server_port: u16,
    pub client_port: u16,
    /// The server as a URL authority (`192.0.2.1`, `[2001:db8::1]:8080`), for requests
    /// without a Host header.
    pub server_authority: String,
    /// Hash HTTP response bodies (`--body-hash`).
    pub body_hash: bool,
    /// The bytes are TLS plaintext: URLs are `https`.
    pub in_tls: bool,
}

/// Detection state: what each direction has sent so far (bounded).
pub struct Detect {
    cfg: AppConfig,
    /// TLS plaintext: the ALPN the handshake agreed on, used when content cannot decide.
    alpn: Option<String>,
    /// TLS plaintext: the SNI, the fallback host of URLs (before the server's address).
    sni: Option<String>,
    buf: [Vec<u8>; 2],
    buf_ts: [Ts; 2],
    tried: [bool; 2],
}

/// The protocol a well-known web port promises, for the warning when the bytes are not it.
fn expected_on(port: u16) -> Option<&'static str> {
    match port {
        80 | 8000 | 8080 => Some("HTTP"),
        443 | 8443 | 853 => Some("TLS"),
        _ => None,
    }
}

/// What a connection carries, once decided.
pub enum App {
    /// No byte yet (a connection that never gets one, as in a SYN flood, costs no
    /// detection state): [`App::Undecided`] at the first byte.
    Fresh,
    Undecided(Box<Detect>),
    /// Nothing recognised the stream; bytes are only counted.
    Unknown,
    Dns(Box<DnsTcpStream>),
    Tls(Box<TlsApp>),
    Http1(Box<Http1App>),
    Http2(Box<Http2Dissector>),
}

/// HTTP/1.x, and HTTP/2 after an `Upgrade: h2c` (RFC 7540 section 3.2).
pub struct Http1App {
    pub h1: Http1Dissector,
    /// Boxed: an HTTP/2 dissector is large, and rare after an HTTP/1 start.
    pub h2: Option<Box<Http2Dissector>>,
    h2_opts: Http2Options,
}

/// TLS, and what its plaintext carries once decrypted.
pub struct TlsApp {
    pub tls: TlsDissector,
    /// The dissector of the decrypted bytes (detected by content, as on clear streams).
    pub inner: App,
}

/// Hands decrypted bytes to the inner dissector.
struct InnerSink<'a> {
    inner: &'a mut App,
    keys: &'a KeyLog,
}

impl PlaintextSink for InnerSink<'_> {
    fn session_hint(&mut self, alpn: Option<&str>, sni: Option<&str>) {
        if let App::Undecided(d) = self.inner {
            if d.alpn.is_none() {
                d.alpn = alpn.map(str::to_string);
            }
            if d.sni.is_none() {
                d.sni = sni.map(str::to_string);
            }
        }
    }
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8], ctx: &mut StreamCtx) {
        self.inner.handle_data(dir, ts, bytes, ctx, self.keys);
    }
    fn skippable(&self, dir: Dir) -> Option<u64> {
        self.inner.skippable(dir)
    }
    fn skip(&mut self, dir: Dir, ts: Ts, len: u64, ctx: &mut StreamCtx) {
        self.inner.skip(dir, ts, len, ctx);
    }
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx) {
        self.inner.handle_gap(dir, len, ts, ctx, self.keys);
    }
}

impl App {
    pub fn new(cfg: AppConfig) -> App {
        App::Undecided(Box::new(Detect {
            cfg,
            alpn: None,
            sni: None,
            buf: [Vec::new(), Vec::new()],
            buf_ts: [Ts::default(); 2],
            tried: [false, false],
        }))
    }

    /// The protocol name for the report.
    pub fn protocol(&self) -> Option<AppProtocol> {
        Some(match self {
            App::Fresh | App::Undecided(_) => return None,
            App::Unknown => AppProtocol::Unknown,
            App::Dns(_) => AppProtocol::Dns,
            App::Tls(t) => match t.inner.protocol() {
                Some(AppProtocol::Http1) => AppProtocol::TlsHttp1,
                Some(AppProtocol::Http2) => AppProtocol::TlsHttp2,
                Some(AppProtocol::Dns) => AppProtocol::TlsDns,
                _ => AppProtocol::Tls,
            },
            App::Http1(h) if h.h2.is_some() => AppProtocol::Http1H2c,
            App::Http1(_) => AppProtocol::Http1,
            App::Http2(_) => AppProtocol::Http2,
        })
    }

    pub fn handle_data(
        &mut self,
        dir: Dir,
        ts: Ts,
        data: &[u8],
        ctx: &mut StreamCtx,
        keys: &KeyLog,
    ) {
        if data.is_empty() {
            return;
        }
        match self {
            App::Undecided(d) => {
                let i = dir.index();
                if d.tried[i] {
                    return;
                }
                // DNS has no magic: inside TLS, the ALPN `dot` or port 853 (RFC 7858 3.1)
                // says it, unless the ALPN chose something else.
                let dot = match d.alpn.as_deref() {
                    Some(a) => a == "dot",
                    None => d.cfg.server_port == 853,
                };
                let mut kind = if d.cfg.in_tls && dot {
                    Kind::Dns
                } else if d.buf[i].is_empty() {
                    detect(dir, data, (d.cfg.server_port, d.cfg.client_port))
                } else {
                    let mut joined = d.buf[i].clone();
                    joined.extend_from_slice(&data[..data.len().min(DETECT_BYTES)]);
                    detect(dir, &joined, (d.cfg.server_port, d.cfg.client_port))
                };
                if kind == Kind::Unknown {
                    // Decryption that began mid-connection: no preface, no request line at
                    // the start. The handshake's ALPN says what the bytes are.
                    kind = match d.alpn.as_deref() {
                        Some("h2") => Kind::Http2,
                        Some("http/1.1" | "http/1.0") => Kind::Http1,
                        // TLS 1.3 keys that came after EncryptedExtensions: no ALPN, so the
                        // first decrypted record must read as HTTP/2 frames.
                        _ if d.cfg.in_tls && http2::looks_like_http2_frames(data) => Kind::Http2,
                        _ => kind,
                    };
                }
                match kind {
                    Kind::NeedMore => {
                        if d.buf[i].is_empty() {
                            d.buf_ts[i] = ts;
                        }
                        d.buf[i].extend_from_slice(data);
                    }
                    Kind::Unknown => {
                        d.tried[i] = true;
                        d.buf[i].clear();
                        if d.tried[0] && d.tried[1] {
                            let port = d.cfg.server_port;
                            let expected = expected_on(port).filter(|_| !d.cfg.in_tls);
                            if let Some(expected) = expected {
                                ctx.warn(
                                    WarningKind::Unknown,
                                    format!(
                                        "port {port} usually carries {expected}, but neither \
                                         side's first bytes are TLS or HTTP: only counted"
                                    ),
                                );
                            }
                            *self = App::Unknown;
                        }
                    }
                    decided => {
                        let mut d = match std::mem::replace(self, App::Unknown) {
                            App::Undecided(d) => d,
                            _ => return,
                        };
                        let mut cfg = d.cfg.clone();
                        if let Some(sni) = &d.sni {
                            cfg.server_authority = if cfg.server_port == 443 {
                                sni.clone()
                            } else {
                                format!("{sni}:{}", cfg.server_port)
                            };
                        }
                        *self = App::start(decided, &cfg);
                        // Replay what each direction buffered, then this segment.
                        for j in [dir.reverse().index(), i] {
                            let buffered = std::mem::take(&mut d.buf[j]);
                            if !buffered.is_empty() {
                                self.handle_data(
                                    Dir::from_index(j),
                                    d.buf_ts[j],
                                    &buffered,
                                    ctx,
                                    keys,
                                );
                            }
                        }
                        self.handle_data(dir, ts, data, ctx, keys);
                    }
                }
            }
            // The connection's driver made it [`App::Undecided`] before its first byte.
            App::Fresh | App::Unknown => {}
            App::Dns(s) => s.handle_data(dir, ts, data, ctx),
            App::Tls(t) => {
                let TlsApp { tls, inner } = &mut **t;
                tls.handle_data_decrypting(
                    dir,
                    ts,
                    data,
                    ctx,
                    keys,
                    &mut InnerSink { inner, keys },
                );
            }
            App::Http1(h) => h.handle_data(dir, ts, data, ctx),
            App::Http2(h) => h.handle_data(dir, ts, data, ctx),
        }
    }

    /// Decrypted HTTP: how many of `dir`'s next bytes its dissector only counts
    /// ([`PlaintextSink::skippable`]); `None` for the other dissectors, which read all.
    fn skippable(&self, dir: Dir) -> Option<u64> {
        match self {
            App::Http1(h) => match &h.h2 {
                Some(h2) if h.h1.is_switched(dir) => h2.skippable(dir),
                // Switched to something else (WebSocket, a tunnel): only counted.
                None if h.h1.is_switched(dir) => Some(u64::MAX),
                _ => h.h1.skippable(dir),
            },
            App::Http2(h) => h.skippable(dir),
            _ => None,
        }
    }

    /// `len` bytes of `dir` that [`Self::skippable`] allowed went by unread.
    fn skip(&mut self, dir: Dir, ts: Ts, len: u64, ctx: &mut StreamCtx) {
        match self {
            App::Http1(h) => match &mut h.h2 {
                Some(h2) if h.h1.is_switched(dir) => h2.skip(dir, ts, len, ctx),
                _ => h.h1.skip(dir, ts, len, ctx),
            },
            App::Http2(h) => h.skip(dir, ts, len, ctx),
            _ => {}
        }
    }

    fn start(kind: Kind, cfg: &AppConfig) -> App {
        let scheme = if cfg.in_tls { "https" } else { "http" };
        match kind {
            Kind::Http1 => App::Http1(Box::new(Http1App {
                h1: Http1Dissector::new(Http1Options {
                    scheme: scheme.to_string(),
                    fallback_host: Some(cfg.server_authority.clone()),
                    body_hash: cfg.body_hash,
                    ..Http1Options::default()
                }),
                h2: None,
                h2_opts: Http2Options {
                    scheme: scheme.to_string(),
                    authority: Some(cfg.server_authority.clone()),
                    body_hash: cfg.body_hash,
                },
            })),
            Kind::Http2 => App::Http2(Box::new(Http2Dissector::new(Http2Options {
                scheme: scheme.to_string(),
                authority: Some(cfg.server_authority.clone()),
                body_hash: cfg.body_hash,
            }))),
            Kind::Dns => App::Dns(Box::new(DnsTcpStream::new())),
            Kind::Tls => App::Tls(Box::new(TlsApp {
                tls: TlsDissector::new(),
                inner: App::new(AppConfig {
                    in_tls: true,
                    ..cfg.clone()
                }),
            })),
            Kind::NeedMore | Kind::Unknown => App::Unknown,
        }
    }

    pub fn handle_gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx, keys: &KeyLog) {
        match self {
            App::Undecided(d) => {
                // Bytes before a gap cannot be trusted to start a message.
                d.buf[dir.index()].clear();
            }
            App::Fresh | App::Unknown => {}
            App::Dns(s) => s.handle_gap(dir, len, ts, ctx),
            App::Tls(t) => {
                let TlsApp { tls, inner } = &mut **t;
                tls.handle_gap_decrypting(dir, len, ts, ctx, keys, &mut InnerSink { inner, keys });
            }
            App::Http1(h) => match &mut h.h2 {
                Some(h2) if h.h1.is_switched(dir) => h2.handle_gap(dir, len, ts, ctx),
                _ => h.h1.handle_gap(dir, len, ts, ctx),
            },
            App::Http2(h) => h.handle_gap(dir, len, ts, ctx),
        }
    }

    pub fn handle_close(&mut self, ts: Ts, ctx: &mut StreamCtx, keys: &KeyLog) {
        match self {
            App::Undecided(d) => {
                // A stream that ended before detection had enough bytes: try what there is.
                let ports = (d.cfg.server_port, d.cfg.client_port);
                let kinds = [0, 1].map(|i| {
                    (!d.buf[i].is_empty()).then(|| detect(Dir::from_index(i), &d.buf[i], ports))
                });
                if kinds
                    .iter()
                    .all(|k| k.is_none() || *k == Some(Kind::NeedMore))
                    && d.buf.iter().any(|b| !b.is_empty())
                {
                    *self = App::Unknown;
                }
            }
            App::Fresh | App::Unknown => {}
            App::Dns(s) => s.handle_close(ts, ctx),
            App::Tls(t) => {
                let TlsApp { tls, inner } = &mut **t;
                tls.handle_close_decrypting(ts, ctx, keys, &mut InnerSink { inner, keys });
                inner.handle_close(ts, ctx, keys);
            }
            App::Http1(h) => {
                h.h1.handle_close(ts, ctx);
                if let Some(h2) = &mut h.h2 {
                    h2.handle_close(ts, ctx);
                }
            }
            App::Http2(h) => h.handle_close(ts, ctx),
        }
    }

    /// The TLS handshake, when the connection carried TLS.
    pub fn tls_facts(&self) -> Option<TlsFacts> {
        match self {
            App::Tls(t) => Some(t.tls.facts()),
            _ => None,
        }
    }

    /// HTTP exchanges completed so far (all of them after `handle_close`).
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        match self {
            App::Http1(h) => {
                let mut v = h.h1.exchanges().to_vec();
                if let Some(h2) = &mut h.h2 {
                    v.extend(h2.take_finished());
                    v.extend(h2.exchanges());
                }
                v
            }
            App::Http2(h) => {
                let mut v = h.take_finished();
                v.extend(h.exchanges());
                v
            }
            App::Tls(t) => t.inner.take_exchanges(),
            _ => Vec::new(),
        }
    }

    /// DNS messages carried in HTTP (DoH, RFC 8484), raw, with direction and time.
    pub fn take_doh_messages(&mut self) -> Vec<DohMessage> {
        match self {
            App::Http1(h) => {
                let mut v = h.h1.take_doh_messages();
                if let Some(h2) = &mut h.h2 {
                    // HTTP/2 stream ids after an h2c upgrade, apart from HTTP/1 indices.
                    v.extend(h2.take_doh_messages().into_iter().map(|mut m| {
                        m.exchange |= 1 << 40;
                        m
                    }));
                }
                v
            }
            App::Http2(h) => h.take_doh_messages(),
            App::Tls(t) => t.inner.take_doh_messages(),
            _ => Vec::new(),
        }
    }

    /// DNS messages carried over TCP, with the direction and the time each was complete.
    pub fn take_dns_messages(&mut self) -> Vec<(Dir, Ts, DnsMessage)> {
        match self {
            App::Tls(t) => t.inner.take_dns_messages(),
            App::Dns(s) => s
                .take_messages()
                .into_iter()
                .filter_map(|m| m.message.ok().map(|msg| (m.dir, m.ts, msg)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Http1App {
    fn handle_data(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut StreamCtx) {
        if let Some(h2) = &mut self.h2 {
            if self.h1.is_switched(dir) {
                h2.handle_data(dir, ts, data, ctx);
                return;
            }
        }
        let used = self.h1.handle_data(dir, ts, data, ctx).min(data.len());
        if used == data.len() {
            return;
        }
        // The direction switched protocols (101): h2c goes to HTTP/2, anything else
        // (WebSocket, a CONNECT tunnel) is only counted.
        if self.h2.is_none() {
            if let Some(sw) = self.h1.switched() {
                if sw.protocol == SwitchProtocol::H2c {
                    let opts = self.h2_opts.clone();
                    self.h2 = Some(Box::new(match sw.request.clone() {
                        Some(req) => Http2Dissector::new_after_upgrade(opts, req),
                        None => Http2Dissector::new(opts),
                    }));
                }
            }
        }
        if let Some(h2) = &mut self.h2 {
            h2.handle_data(dir, ts, &data[used..], ctx);
        }
    }
}

/// What the pipeline keeps for each TCP connection: its dissector and its warnings.
pub struct TcpApp {
    pub app: App,
    /// The connection's server and client port, for [`AppConfig`] at its first byte.
    server: SocketAddr,
    client_port: u16,
    pub ctx: StreamCtx,
    /// DNS messages the connection carried (DoH, DNS over TCP), each with the frame that
    /// completed it.
    pub doh: Vec<(DohMessage, u64)>,
    pub dns: Vec<(Dir, Ts, DnsMessage, u64)>,
    /// Whether the dissectors are on a worker thread ([`super::workers`]).
    pub remote: Remote,
}

/// Where a connection's dissectors run, with worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remote {
    /// Here (no workers).
    No,
    /// Here until [`MOVE_AFTER`] bytes (`bytes` so far) have come (a connection that
    /// carries few, as in a SYN flood or a slowloris, never costs a worker anything, nor
    /// its results a wait); then, with its dissectors' state, on the worker of `id`.
    Later { id: u64, bytes: u64 },
    /// On the worker of this connection id: this is a stand-in, whose `ctx.packet` is the
    /// frame being handled.
    On(u64),
}

impl TcpApp {
    /// Collects the DNS messages the dissectors finished while the current frame was
    /// handled.
    fn collect_dns(&mut self) {
        let frame = self.ctx.packet;
        self.doh
            .extend(self.app.take_doh_messages().into_iter().map(|m| (m, frame)));
        self.dns.extend(
            self.app
                .take_dns_messages()
                .into_iter()
                .map(|(d, t, m)| (d, t, m, frame)),
        );
    }
}

/// Drives a connection's dissectors from the TCP stage's events.
pub struct StreamDriver<'a> {
    pub keys: &'a KeyLog,
    pub body_hash: bool,
    /// Worker threads to run the dissectors on, instead of here.
    pub workers: Option<&'a mut AppWorkers>,
}

impl TcpHandler<TcpApp> for StreamDriver<'_> {
    fn open(&mut self, c: &ConnMeta) -> TcpApp {
        let mut a = TcpApp::new(c.server, c.client.port(), StreamCtx::new());
        if self.workers.is_some() {
            a.remote = Remote::Later { id: c.id, bytes: 0 };
        }
        a
    }

    fn segment(&mut self, a: &mut TcpApp, frame: u64) {
        a.ctx.packet = frame;
    }

    fn data(&mut self, a: &mut TcpApp, dir: Dir, ts: Ts, bytes: &[u8], late: bool) {
        if let Some((id, w)) = self.remote(a, bytes.len()) {
            let call = Call::Data {
                dir,
                ts,
                start: 0,
                len: 0,
                late,
            };
            return w.call(id, a.ctx.packet, call, bytes);
        }
        if matches!(a.app, App::Fresh) && !bytes.is_empty() {
            a.app = App::new(AppConfig {
                server_port: a.server.port(),
                client_port: a.client_port,
                server_authority: authority(a.server),
                body_hash: self.body_hash,
                in_tls: false,
            });
        }
        a.ctx.late = late.then(|| Late::at(a.ctx.packet));
        a.app.handle_data(dir, ts, bytes, &mut a.ctx, self.keys);
        a.ctx.late = None;
        a.collect_dns();
    }

    fn gap(&mut self, a: &mut TcpApp, dir: Dir, len: u64, ts: Ts) {
        if let (Remote::On(id), Some(w)) = (a.remote, self.workers.as_deref_mut()) {
            return w.call(id, a.ctx.packet, Call::Gap { dir, len, ts }, &[]);
        }
        a.app.handle_gap(dir, len, ts, &mut a.ctx, self.keys);
        a.collect_dns();
    }

    fn closed(&mut self, a: &mut TcpApp, ts: Ts) {
        if let (Remote::On(id), Some(w)) = (a.remote, self.workers.as_deref_mut()) {
            return w.call(id, a.ctx.packet, Call::Closed { ts }, &[]);
        }
        a.app.handle_close(ts, &mut a.ctx, self.keys);
        a.collect_dns();
    }

    fn warn(&mut self, a: &mut TcpApp, kind: WarningKind, message: std::borrow::Cow<'static, str>) {
        if let (Remote::On(id), Some(w)) = (a.remote, self.workers.as_deref_mut()) {
            return w.call(id, a.ctx.packet, Call::Warn { kind, message }, &[]);
        }
        a.ctx.warn(kind, message);
    }
}

/// Bytes a connection carries before its dissectors move to a worker thread.
pub const MOVE_AFTER: u64 = 64 << 10;

impl StreamDriver<'_> {
    /// The worker the next `len` bytes of this connection go to, if any. When they take
    /// it past [`MOVE_AFTER`], the connection's dissectors move there first, as they stand.
    fn remote(&mut self, a: &mut TcpApp, len: usize) -> Option<(u64, &mut AppWorkers)> {
        let w = self.workers.as_deref_mut()?;
        match a.remote {
            Remote::No => None,
            Remote::On(id) => Some((id, w)),
            Remote::Later { id, bytes } => {
                let bytes = bytes + len as u64;
                if bytes < w.move_after {
                    a.remote = Remote::Later { id, bytes };
                    return None;
                }
                let mut stand_in = TcpApp::new(a.server, a.client_port, StreamCtx::new());
                stand_in.ctx.packet = a.ctx.packet;
                stand_in.remote = Remote::On(id);
                let mut app = std::mem::replace(a, stand_in);
                // Run on the worker as here: its calls are its own from now on.
                app.remote = Remote::No;
                w.open(id, app);
                Some((id, w))
            }
        }
    }
}

impl TcpApp {
    /// The dissectors a worker gathered for this connection, in place of the stand-in.
    pub fn came_back(&mut self, app: TcpApp) {
        *self = app;
    }

    /// A stand-in for dissectors on a worker: their connection id.
    pub fn on_worker(&self) -> Option<u64> {
        match self.remote {
            Remote::On(id) => Some(id),
            _ => None,
        }
    }

    /// Dissectors for a connection to `server` from `client_port`, with `ctx`.
    fn new(server: SocketAddr, client_port: u16, ctx: StreamCtx) -> TcpApp {
        TcpApp {
            app: App::Fresh,
            server,
            client_port,
            ctx,
            doh: Vec::new(),
            dns: Vec::new(),
            remote: Remote::No,
        }
    }
}

/// The server as a URL authority, for requests without a Host: the port only when it is
/// not 80 or 443.
fn authority(server: SocketAddr) -> String {
    let host = match server.ip() {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    match server.port() {
        80 | 443 => host,
        p => format!("{host}:{p}"),
    }
}
