//! TLS handshake dissector: one [`TlsDissector`] per TCP connection that carries TLS.
//!
//! # Consumes
//! The reassembled byte stream of each direction through the [`crate::dissect::stream`]
//! contract (`handle_data`, `handle_gap`, `handle_close`), in capture order across the two
//! directions. Detection is by content ([`looks_like_tls`]), never by port.
//!
//! # Produces
//! [`TlsDissector::facts`]: a [`TlsFacts`] snapshot (hellos in detail, negotiated version and
//! cipher, SNI, ALPN, JA3/JA3S/JA4, resumption, HelloRetryRequest, certificate chain,
//! key exchange, alerts, timing, application-data counters); [`TlsDissector::outcome`] for
//! the connection's outcome (a fatal alert, a handshake that never finished); the randoms,
//! cipher and version the decryptor needs. Problems are warnings in the [`StreamCtx`].
//!
//! # Guarantees
//! No panic on any input; bounded state: one partial record per direction (2^14 + 2048
//! bytes; an 18 KB window while resynchronising), one handshake message per direction
//! (capped at 1 MiB: bigger ones are skipped with a `cap` warning), at most
//! [`MAX_CERTIFICATES`] certificates and [`MAX_ALERTS`] alerts.
//!
//! # Layers, and the seam for decryption
//! ```text
//!  bytes ─► Framer ─► on_record ─┬─ readable ─► on_plaintext ─┬─ handshake ─► HsAssembler
//!          (records   (THE SEAM) │                            │     ─► on_handshake_message
//!          across                │                            ├─ alert, change_cipher_spec
//!          segments,             │                            └─ application data
//!          gaps, resync)         │                                (decrypted) ─► [HTTP]
//!                                └─ protected ─► on_ciphertext (counts, timing, alerts)
//! ```
//! The record loop exists once ([`record::Framer::push`] feeding `on_record`). `on_record`
//! decides whether a record can be read. With a key log ([`TlsDissector::handle_data_decrypting`])
//! a protected record goes through the connection's key state ([`keys`]): what opens goes to
//! `on_plaintext` (so TLS 1.3 EncryptedExtensions, Certificate and Finished reach the same
//! handshake parser as clear-text hellos) and decrypted application data goes to the
//! [`PlaintextSink`] (the HTTP dissectors, chosen by content as on clear streams); records
//! without keys, or that fail authentication, go to `on_ciphertext` (counts, timing) and a
//! failure is a `decrypt` warning plus a plaintext gap, never bytes upward. An
//! application-data record whose first bytes the sink would only count (the rest of a
//! response body that nothing hashes or decodes) is read in parts once its side's key is
//! proven (`TlsDissector::read_in_parts`): what the sink only counts is never decrypted,
//! and the record's tag is not checked. With a key log
//! still being written (a live capture), a protected record whose side's secrets are not
//! logged yet is kept, with everything after it, and replayed through `on_record` when they
//! come ([`late`]: bounded, in order, with the original times and frame numbers).
//!
//! Decrypted application data is stamped with the capture time of the **last** byte of its
//! record: a receiver can read none of it before the whole record is in and its tag checked.
//! So an HTTP response over TLS "starts" when its first record is readable, as a browser's
//! network stack and tshark's `http.time` see it. Handshake messages keep the time of the
//! record holding their first byte.
//!
//! Handshake messages are parsed by this module's own parsers ([`handshake`]), not
//! tls-parser: tls-parser neither joins a message split over records nor keeps the
//! extensions that parsed when a later one is malformed, and JA3/JA4 need the raw code-point
//! order. x509-parser reads certificates.
//!
//! # Records
//! - A record is stamped with the capture time of the segment that carried its first byte;
//!   a handshake message with that of the record holding its first byte.
//! - Record boundaries after a gap: when the gap falls inside a record whose length is known,
//!   the rest of that record is skipped exactly. Otherwise the framer resynchronises on two
//!   chained plausible headers (content type 20..=24, version 3.0..=3.4, length <= 2^14+2048);
//!   after 256 KiB without one it gives up on that direction, with a warning.
//! - Handshake records after a change_cipher_spec (TLS <= 1.2) and every application_data
//!   record are protected. In TLS 1.3 the change_cipher_spec is the middlebox-compatibility
//!   dummy (RFC 8446 D.4) and changes nothing; one seen before any ServerHello from a client
//!   that offered TLS 1.3 is taken as that dummy.
//! - An alert record that is not whole (level 1|2, description) pairs is protected even
//!   without a change_cipher_spec (captures that start mid-connection).
//!
//! # Roles
//! The client is the side that sent the ClientHello (or the other side of the one that sent
//! a ServerHello); until a hello is seen it is [`Dir::ToServer`]. [`TlsDissector::client_dir`]
//! tells the caller when the SYN-based guess was wrong.
//!
//! # Timing rules
//! - `client_hello_ts`: the first ClientHello (a second one after a HelloRetryRequest does
//!   not move it: the retry is part of the handshake's cost).
//! - `server_hello_ts`: the ServerHello that settled the parameters (after a
//!   HelloRetryRequest, the second one; the HelloRetryRequest's when no other came).
//! - `handshake_done_ts` is the Finished of the side that speaks last:
//!   - TLS <= 1.2 full handshake: the server's Finished, i.e. its first protected handshake
//!     record after its change_cipher_spec (RFC 5246 7.3: the server's Finished closes the
//!     full handshake; the client may send data only after it unless False Start).
//!   - TLS <= 1.2 resumed (abbreviated handshake, RFC 5246 7.3 figure 2): the client's
//!     Finished, its first protected handshake record after its change_cipher_spec.
//!   - TLS 1.3 without keys: the client's Finished, taken to be the client's first protected
//!     record after the ServerHello (RFC 8446 2: the client's Finished follows the server's
//!     flight; early data is sent before the ServerHello arrives). With keys, the decrypted
//!     client Finished (the same record).
//! - `handshake_ms` = `handshake_done_ts - client_hello_ts`.
//! - Application data: TLS <= 1.2: every application_data record. TLS 1.3 without keys: the
//!   client's protected records after its Finished, plus 0-RTT records sent before the
//!   ServerHello; the server's protected records after the client's Finished (a
//!   NewSessionTicket is indistinguishable from data there). Bytes are record payload bytes
//!   as on the wire (ciphertext, headers excluded).
//!
//! # Resumption
//! TLS <= 1.2: resumed when the server neither sent Certificate, ServerKeyExchange,
//! CertificateRequest nor ServerHelloDone after its ServerHello and either echoed the
//! client's non-empty session id (RFC 5246 7.4.1.3) or went straight to change_cipher_spec
//! (RFC 5077 3.1: ticket resumption). TLS 1.3: the ServerHello carries pre_shared_key
//! (RFC 8446 4.2.11). 0-RTT: offered is the ClientHello's early_data; accepted lives in the
//! encrypted EncryptedExtensions and stays `false` without keys.
//!
//! # HelloRetryRequest
//! A ServerHello whose random is SHA-256("HelloRetryRequest") (RFC 8446 4.1.3). SNI, offered
//! ALPN, JA3 and JA4 come from the first ClientHello, which is what the client chose freely
//! (the second may differ only as RFC 8446 4.1.2 allows).

pub mod cert;
pub mod fingerprint;
pub mod handshake;
pub mod keys;
pub mod late;
pub mod names;
pub mod record;
#[cfg(test)]
mod tests;

use crate::decrypt::{KeyLog, Unsealed};
use crate::dissect::stream::{Dir, PlaintextSink, StreamCtx};
use crate::time::Ts;

use crate::warning::WarningKind;
pub use cert::CertInfo;
pub use handshake::{ClientHello, KeyExchangeParams, ServerHello};
use record::{
    FrameEvent, Framer, HsAssembler, HsMessage, CT_ALERT, CT_APPLICATION_DATA,
    CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE,
};

/// Certificates kept from one Certificate message.
pub const MAX_CERTIFICATES: usize = 16;
/// Alerts kept per connection (more are counted in a warning).
pub const MAX_ALERTS: usize = 32;

const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const HS_NEW_SESSION_TICKET: u8 = 4;
const HS_ENCRYPTED_EXTENSIONS: u8 = 8;
const HS_CERTIFICATE: u8 = 11;
const HS_SERVER_KEY_EXCHANGE: u8 = 12;
const HS_CERTIFICATE_REQUEST: u8 = 13;
const HS_SERVER_HELLO_DONE: u8 = 14;
const HS_FINISHED: u8 = 20;
const HS_KEY_UPDATE: u8 = 24;
/// RFC 7366 encrypt_then_mac.
const EXT_ENCRYPT_THEN_MAC: u16 = 22;
/// Decryption failures listed as warnings per connection (the rest are counted).
const MAX_DECRYPT_WARNINGS: u64 = 4;
/// A record this long is read in parts ([`TlsDissector::read_in_parts`]) even when its
/// first bytes are needed: most of it may not be (the next HTTP/2 DATA payload).
const READ_IN_PARTS_FROM: usize = 2048;
/// The first window decrypted of a record read in parts.
const FIRST_WINDOW: usize = 512;

/// The warning of a session whose client random no key log line names (the CLI counts
/// these connections by this exact text for its one-line summary on standard error).
pub const NO_SECRETS: &str = "TLS: the key log has no secrets for this session's client random";

/// A plaintext gap of unknown length (see [`PlaintextSink::gap`]).
pub const UNKNOWN_LEN: u64 = u64::MAX;

/// The keys to open protected records and where their plaintext goes.
pub struct Decrypting<'a> {
    pub keys: &'a KeyLog,
    pub sink: &'a mut dyn PlaintextSink,
}

/// Whether the first bytes of a stream look like TLS: a record header with content type
/// 20..=24, version 3.0..=3.4 and a length the RFCs allow (a handshake record must then
/// start with a known handshake type), or an SSL 2.0-compatible ClientHello.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    if record::sslv2_client_hello_len(first_bytes).is_some() {
        return true;
    }
    let Some((ct, _, len)) = record::plausible_header(first_bytes) else {
        return false;
    };
    if len == 0 {
        return false;
    }
    if ct == CT_HANDSHAKE {
        if let Some(&t) = first_bytes.get(record::HEADER_LEN) {
            return names::is_known_handshake_type(t);
        }
    }
    true
}

/// How the TLS part of a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsOutcome {
    /// No handshake message was seen (a capture that starts mid-connection).
    NoHandshake,
    /// A ClientHello that got no ServerHello.
    NoServerHello,
    /// Hellos were exchanged but the handshake did not finish within the capture.
    Incomplete,
    /// The handshake finished (by the timing rules in the module doc).
    Established,
    /// A fatal alert in clear text; `from` is `client` or `server`.
    FatalAlert {
        from: &'static str,
        description: String,
    },
}

#[derive(Debug, Default)]
struct DirState {
    framer: Framer,
    hs: HsAssembler,
    /// Handshake and alert records are protected from here on (TLS <= 1.2 after CCS).
    protected: bool,
    /// First protected handshake record after CCS (TLS <= 1.2) / the client's first
    /// protected record after the ServerHello (TLS 1.3 client) / the last protected record
    /// of the server's flight (TLS 1.3 server, an approximation of its Finished).
    finished_ts: Option<Ts>,
    ccs_ts: Option<Ts>,
    ccs: u64,
    app_records: u64,
    app_bytes: u64,
    /// Application data records too short to hold a DNS message ([`MIN_DNS_RECORD`]).
    app_small: u64,
    first_app_ts: Option<Ts>,
}

/// The TLS dissector of one connection (see the module doc).
#[derive(Debug, Default)]
pub struct TlsDissector {
    /// Indexed by [`Dir::index`].
    dirs: [DirState; 2],
    client_dir: Option<Dir>,
    ch: Option<Box<ClientHello>>,
    /// The ClientHello that answered a HelloRetryRequest.
    ch2: Option<Box<ClientHello>>,
    client_hello_ts: Option<Ts>,
    client_hellos: u32,
    sh: Option<Box<ServerHello>>,
    server_hello_ts: Option<Ts>,
    hrr: Option<Box<ServerHello>>,
    hrr_ts: Option<Ts>,
    /// The server sent Certificate/ServerKeyExchange/CertificateRequest/ServerHelloDone.
    server_full_flight: bool,
    ticket_issued: bool,
    certificates: Vec<CertInfo>,
    ske: Option<KeyExchangeParams>,
    alerts: Vec<Alert>,
    alerts_dropped: u64,
    fatal: Option<(&'static str, String)>,
    early_data_accepted: bool,
    /// ALPN from the ServerHello (TLS <= 1.2) or decrypted EncryptedExtensions.
    alpn: Option<String>,
    decrypted: bool,
    keys: keys::ConnKeys,
    /// Reused plaintext buffer.
    plain: Vec<u8>,
    /// Set while a decrypted record's handshake messages are being read: TLS 1.3 key
    /// changes they announce, applied once the record is done (RFC 8446 5.1: handshake
    /// messages never span a key change).
    pending_finished: [bool; 2],
    pending_key_update: [bool; 2],
    in_decrypted: bool,
    /// Capture time of the last gap (for the plaintext gap it causes).
    gap_ts: Ts,
    /// Frame events waiting for secrets a growing key log has not brought yet ([`late`]).
    kept: late::KeptRecords,
}

impl TlsDissector {
    pub fn new() -> TlsDissector {
        TlsDissector::default()
    }

    /// As [`TlsDissector::handle_data`], decrypting with `keys` where they match this
    /// session and handing the plaintext to `sink` (in order, with record timestamps).
    pub fn handle_data_decrypting(
        &mut self,
        dir: Dir,
        ts: Ts,
        data: &[u8],
        ctx: &mut StreamCtx,
        keys: &KeyLog,
        sink: &mut dyn PlaintextSink,
    ) {
        self.push(dir, ts, data, ctx, &mut Some(Decrypting { keys, sink }));
    }

    /// As [`TlsDissector::handle_gap`], telling `sink` that plaintext was lost.
    pub fn handle_gap_decrypting(
        &mut self,
        dir: Dir,
        len: u64,
        ts: Ts,
        ctx: &mut StreamCtx,
        keys: &KeyLog,
        sink: &mut dyn PlaintextSink,
    ) {
        self.gap(dir, len, ts, ctx, &mut Some(Decrypting { keys, sink }));
    }

    /// As [`TlsDissector::handle_close`], decrypting the records still buffered.
    pub fn handle_close_decrypting(
        &mut self,
        ts: Ts,
        ctx: &mut StreamCtx,
        keys: &KeyLog,
        sink: &mut dyn PlaintextSink,
    ) {
        self.close(ts, ctx, &mut Some(Decrypting { keys, sink }));
    }

    /// Handshake messages that travel without TLS records: QUIC's CRYPTO frames (RFC 9001
    /// 4.1.3, "QUIC carries TLS handshake data in CRYPTO frames"). `bytes` are the next
    /// bytes of one direction's handshake stream in one encryption level, in order;
    /// `protected` says they came from packets that needed the key log (Handshake level),
    /// so the session counts as decrypted. The messages go to the same parser as TCP's:
    /// EncryptedExtensions gives the chosen ALPN, Certificate the chain, each side's Finished
    /// its handshake end.
    pub fn handle_handshake_bytes(
        &mut self,
        dir: Dir,
        ts: Ts,
        bytes: &[u8],
        protected: bool,
        ctx: &mut StreamCtx,
    ) {
        if protected {
            self.decrypted = true;
        }
        let i = dir.index();
        let mut hs = std::mem::take(&mut self.dirs[i].hs);
        hs.push(bytes, ts, ctx, &mut |m, ctx| {
            self.on_handshake_message(dir, m, ctx)
        });
        self.dirs[i].hs = hs;
    }

    /// QUIC: one direction's handshake stream moves to the next encryption level; a message
    /// cut at the boundary (a loss) is dropped with a warning.
    pub fn handshake_level_changed(&mut self, dir: Dir, ctx: &mut StreamCtx) {
        if self.dirs[dir.index()].hs.pending() > 0 && self.dirs[dir.index()].hs.reset() {
            ctx.warn(
                WarningKind::Truncated,
                format!(
                    "TLS: {} handshake message cut at an encryption level change",
                    dir.sender()
                ),
            );
        }
    }

    /// The next bytes of one direction (see [`crate::dissect::stream`]).
    pub fn handle_data(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut StreamCtx) {
        self.push(dir, ts, data, ctx, &mut None);
    }

    /// `len` bytes of one direction were never captured.
    pub fn handle_gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx) {
        self.gap(dir, len, ts, ctx, &mut None);
    }

    /// The connection ended: flushes partial records with a warning.
    pub fn handle_close(&mut self, ts: Ts, ctx: &mut StreamCtx) {
        self.close(ts, ctx, &mut None);
    }

    fn push(
        &mut self,
        dir: Dir,
        ts: Ts,
        data: &[u8],
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        if data.is_empty() {
            return;
        }
        let i = dir.index();
        let mut framer = std::mem::take(&mut self.dirs[i].framer);
        framer.skip_app_data = self.app_data_unreadable(dir, env);
        framer.push(data, ts, ctx, &mut |ev, ctx| {
            self.on_frame(dir, ev, ctx, env)
        });
        self.dirs[i].framer = framer;
    }

    fn gap(
        &mut self,
        dir: Dir,
        len: u64,
        ts: Ts,
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        let i = dir.index();
        self.gap_ts = ts;
        let mut framer = std::mem::take(&mut self.dirs[i].framer);
        framer.skip_app_data = self.app_data_unreadable(dir, env);
        framer.gap(len, ctx, &mut |ev, ctx| self.on_frame(dir, ev, ctx, env));
        self.dirs[i].framer = framer;
    }

    fn close(&mut self, _ts: Ts, ctx: &mut StreamCtx, env: &mut Option<Decrypting<'_>>) {
        // With records kept for late keys, the cut-handshake check waits for their replay.
        let mut check_later = [false; 2];
        for (i, later) in check_later.iter_mut().enumerate() {
            let dir = Dir::from_index(i);
            let mut framer = std::mem::take(&mut self.dirs[i].framer);
            framer.skip_app_data = self.app_data_unreadable(dir, env);
            framer.finish(ctx, &mut |ev, ctx| self.on_frame(dir, ev, ctx, env));
            self.dirs[i].framer = framer;
            if self.kept.is_empty() {
                self.check_cut_handshake(dir, ctx);
            } else {
                *later = true;
            }
        }
        // The end: whatever was kept goes as it can, and nothing more is kept.
        self.kept.closed = true;
        let unopened = self.replay_kept(ctx, env, true);
        for (i, later) in check_later.into_iter().enumerate() {
            if later {
                self.check_cut_handshake(Dir::from_index(i), ctx);
            }
        }
        if let Some(env) = env.as_ref() {
            if self.keys.missing_secrets(env.keys) {
                if unopened > 0 {
                    ctx.warn(
                        WarningKind::Keys,
                        format!(
                            "{NO_SECRETS}; {unopened} protected records kept waiting for them \
                             were not decrypted"
                        ),
                    );
                } else {
                    ctx.warn(WarningKind::Keys, NO_SECRETS);
                }
            }
        }
        if self.keys.failed > MAX_DECRYPT_WARNINGS {
            ctx.warn_always(
                WarningKind::Decrypt,
                format!(
                    "TLS: {} records did not decrypt ({} did)",
                    self.keys.failed, self.keys.opened
                ),
            );
        }
    }

    /// No key can open `dir`'s application data now ([`keys::Keys::would_not_open`]), nor
    /// before the bytes being pushed are framed: the hellos were seen already (a
    /// ServerHello in these bytes would change what opens), and no key log is being
    /// followed (that keeps records instead, [`late`]). The framer may then count a record
    /// cut across segments instead of copying it together.
    fn app_data_unreadable(&self, dir: Dir, env: &Option<Decrypting<'_>>) -> bool {
        match env {
            None => true,
            Some(e) => {
                self.ch.is_some()
                    && self.sh.is_some()
                    && !e.keys.growing()
                    && self.keys.would_not_open(self.is_client(dir), true, e.keys)
            }
        }
    }

    /// The stream ended inside a handshake message of `dir`: said, and the message dropped.
    fn check_cut_handshake(&mut self, dir: Dir, ctx: &mut StreamCtx) {
        let i = dir.index();
        let pending = self.dirs[i].hs.pending();
        if pending > 0 {
            ctx.warn(
                WarningKind::Truncated,
                format!(
                    "TLS: stream ended inside a {} handshake message ({pending} bytes)",
                    dir.sender()
                ),
            );
            self.dirs[i].hs.reset();
        }
    }

    /// Every frame event of both directions, in arrival order: kept while it must wait for
    /// secrets a growing key log has not brought yet ([`late`]), else handled now.
    fn on_frame(
        &mut self,
        dir: Dir,
        ev: FrameEvent<'_>,
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        let growing = env.as_ref().map(|e| e.keys).filter(|k| k.growing());
        if let Some(keys) = growing {
            if self.keep(dir, &ev, ctx, env, keys) {
                return;
            }
        }
        self.on_frame_now(dir, ev, ctx, env);
    }

    /// Keys that come late ([`late`]): replays what was kept if the key log moved, then keeps
    /// `ev` if something is still kept (order) or it is a record that must wait for its
    /// side's secrets. False when `ev` is to be handled now.
    fn keep(
        &mut self,
        dir: Dir,
        ev: &FrameEvent<'_>,
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
        keys: &KeyLog,
    ) -> bool {
        if !self.kept.is_empty() && self.kept.tried_at != keys.generation() {
            self.replay_kept(ctx, env, false);
        }
        if self.kept.is_empty() {
            let waits = match ev {
                FrameEvent::Record {
                    content_type,
                    payload,
                    ..
                } => self.waits_for_keys(dir, *content_type, payload, keys),
                _ => false,
            };
            if self.kept.closed || !waits {
                return false;
            }
        }
        match self
            .kept
            .push(late::Kept::new(dir, ctx.packet, self.gap_ts, ev))
        {
            Ok(()) => {
                self.kept.tried_at = keys.generation();
                true
            }
            Err(_) => {
                // Past the cap: everything kept goes as it can, then `ev`, and nothing more
                // is kept on this connection.
                self.kept.closed = true;
                self.kept.overflowed = true;
                self.replay_kept(ctx, env, true);
                false
            }
        }
    }

    /// Hands the kept events to [`Self::on_frame_now`] in order, each with its own frame
    /// number and gap time, up to the first record whose side still lacks its secrets (or
    /// all of them with `all`). Returns how many records went without keys that way.
    fn replay_kept(
        &mut self,
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
        all: bool,
    ) -> u64 {
        let keys = env.as_ref().map(|e| e.keys);
        let mut unopened = 0;
        while let Some(front) = self.kept.front() {
            let waits = match (front.record(), keys) {
                (Some((ct, payload)), Some(keys)) => {
                    self.waits_for_keys(front.dir, ct, payload, keys)
                }
                _ => false,
            };
            if waits && !all {
                break;
            }
            let Some(k) = self.kept.pop() else {
                break;
            };
            let (packet, gap_ts) = (ctx.packet, self.gap_ts);
            ctx.packet = k.frame;
            self.gap_ts = k.gap_ts;
            self.on_frame_now(k.dir, k.event(), ctx, env);
            ctx.packet = packet;
            self.gap_ts = gap_ts;
            if waits && self.keys.awaiting(self.is_client(k.dir)) {
                unopened += 1;
            }
        }
        if let Some(keys) = keys {
            self.kept.tried_at = keys.generation();
        }
        unopened
    }

    /// Whether a record of `dir` is protected and its side has no keys yet only because the
    /// key log lacks some of its secrets (the hellos were seen).
    fn waits_for_keys(&self, dir: Dir, content_type: u8, payload: &[u8], keys: &KeyLog) -> bool {
        if !self.is_protected(dir, content_type, payload) {
            return false;
        }
        let Some(facts) = self.session_facts() else {
            return false;
        };
        let from_client = self.is_client(dir);
        self.keys.awaiting(from_client) && !keys::secrets_logged(&facts, keys, from_client)
    }

    /// Whether a record must be decrypted to be read (see "Records" in the module doc).
    fn is_protected(&self, dir: Dir, content_type: u8, payload: &[u8]) -> bool {
        match content_type {
            CT_APPLICATION_DATA => true,
            CT_HANDSHAKE => self.dirs[dir.index()].protected,
            // A clear alert is level (1 or 2) + description, two bytes (RFC 5246 7.2); an
            // alert record of another shape is protected even when the change_cipher_spec
            // was not captured (a capture that starts mid-connection).
            CT_ALERT => self.dirs[dir.index()].protected || !plausible_clear_alerts(payload),
            _ => false,
        }
    }

    fn on_frame_now(
        &mut self,
        dir: Dir,
        ev: FrameEvent<'_>,
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        match ev {
            FrameEvent::Record {
                content_type,
                version,
                payload,
                ts,
                end_ts,
            } => self.on_record(dir, (ts, end_ts), content_type, version, payload, ctx, env),
            FrameEvent::Opaque {
                version,
                len,
                ts,
                end_ts: _,
            } => self.on_opaque(dir, ts, (version, len), ctx, env),
            FrameEvent::Sslv2 { body, ts } => self.on_sslv2(dir, ts, body, ctx),
            FrameEvent::Lost {
                content_type,
                record_len,
            } => {
                let from_client = self.is_client(dir);
                if self.keys.ready(from_client) {
                    self.keys.lost(from_client);
                    if let Some(env) = env.as_mut() {
                        // The plaintext lost: exact when one AEAD record went missing,
                        // else unknown and the inner dissector resynchronises.
                        let plain = match (content_type, record_len) {
                            (Some(CT_APPLICATION_DATA), Some(n)) => {
                                self.keys.plaintext_len(from_client, n)
                            }
                            (Some(CT_HANDSHAKE | CT_ALERT), Some(_)) => Some(0),
                            _ => None,
                        };
                        if plain != Some(0) {
                            let ts = self.gap_ts;
                            env.sink.gap(dir, plain.unwrap_or(UNKNOWN_LEN), ts, ctx);
                        }
                    }
                }
                let handshake_hit = matches!(content_type, None | Some(CT_HANDSHAKE));
                if handshake_hit && self.dirs[dir.index()].hs.reset() {
                    ctx.warn(
                        WarningKind::Gap,
                        format!(
                            "TLS: {} handshake message cut by a capture gap; dropped",
                            dir.sender()
                        ),
                    );
                }
            }
        }
    }

    /// THE SEAM between record framing and record contents (see the module doc). Every
    /// record of both directions passes here exactly once, in stream order.
    #[allow(clippy::too_many_arguments)]
    fn on_record(
        &mut self,
        dir: Dir,
        (ts, end_ts): (Ts, Ts),
        content_type: u8,
        version: u16,
        payload: &[u8],
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        if !self.is_protected(dir, content_type, payload) {
            self.on_plaintext(dir, ts, content_type, payload, ctx);
            return;
        }
        let Some(env) = env.as_mut() else {
            self.on_ciphertext(dir, ts, content_type, payload.len(), ctx);
            return;
        };
        let from_client = self.is_client(dir);
        if content_type == CT_APPLICATION_DATA {
            let parts = env.sink.skippable(dir);
            if parts.is_some_and(|first| first > 0 || payload.len() >= READ_IN_PARTS_FROM) {
                let mut plain = std::mem::take(&mut self.plain);
                let unsealed = self
                    .keys
                    .unsealed(from_client, content_type, payload, &mut plain);
                self.plain = plain;
                if let Some(u) = unsealed {
                    self.read_in_parts(dir, (ts, end_ts), payload.len(), &u, ctx, env);
                    return;
                }
            }
        }
        let facts = self.session_facts();
        let mut plain = std::mem::take(&mut self.plain);
        let (opened, problem) = self.keys.open(
            from_client,
            facts.as_ref(),
            env.keys,
            (content_type, version, payload),
            &mut plain,
        );
        if let Some(n) = self.keys.take_late() {
            self.warn_late(dir, n, ctx);
            // No gap for the HTTP dissector: it has seen nothing of this side yet, and finds
            // its footing in what comes (a request line, a status line, HTTP/2 frames).
        }
        if let Some(p) = problem {
            let side = dir.sender();
            let msg = match p {
                keys::Unavailable::NoSecrets => NO_SECRETS.to_string(),
                keys::Unavailable::Suite(id) => format!(
                    "TLS: cannot decrypt {} records of suite {}",
                    side,
                    names::cipher_name(id)
                ),
                keys::Unavailable::WrongSecrets(why) => format!("TLS: {why}"),
                keys::Unavailable::Setup(e) => format!("TLS: {side} keys: {e}"),
                keys::Unavailable::LostTrack => format!(
                    "TLS: lost the {side}'s record sequence after a gap ({} records in a row \
                     did not open); the rest of its records stay encrypted",
                    keys::MAX_FAILED_SEARCHES
                ),
            };
            ctx.warn(WarningKind::Keys, msg);
        }
        match opened {
            keys::Opened::Plain(inner) => {
                self.decrypted = true;
                self.in_decrypted = true;
                if inner == CT_APPLICATION_DATA {
                    // Plaintext is readable once the whole record is in and its tag checked.
                    let first = self.app_data_readable(dir, ts, payload.len(), ctx, env);
                    env.sink.data(dir, end_ts, &plain, ctx);
                    ctx.first_byte = first;
                } else {
                    self.on_plaintext(dir, ts, inner, &plain, ctx);
                }
                self.in_decrypted = false;
                self.apply_key_changes(dir, ctx);
            }
            keys::Opened::Clear => self.on_plaintext(dir, ts, content_type, payload, ctx),
            keys::Opened::NoKeys => self.on_ciphertext(dir, ts, content_type, payload.len(), ctx),
            keys::Opened::Failed(e) => {
                if self.keys.failed <= MAX_DECRYPT_WARNINGS {
                    ctx.warn(
                        WarningKind::Decrypt,
                        format!(
                            "TLS: {} record of {} bytes: {e}",
                            dir.sender(),
                            payload.len()
                        ),
                    );
                }
                let lost = self
                    .keys
                    .plaintext_len(from_client, payload.len())
                    .unwrap_or(UNKNOWN_LEN);
                self.on_ciphertext(dir, ts, content_type, payload.len(), ctx);
                if content_type == CT_APPLICATION_DATA {
                    env.sink.gap(dir, lost, end_ts, ctx);
                }
            }
        }
        self.plain = plain;
    }

    /// A decrypted application-data record of `record_len` bytes, first sent at `ts`, is
    /// about to go to the sink: counted, the session's ALPN and SNI told first, and `ts`
    /// noted as when its bytes began to arrive. Returns the note it replaces, for the
    /// caller to put back once the record's plaintext went up.
    fn app_data_readable(
        &mut self,
        dir: Dir,
        ts: Ts,
        record_len: usize,
        ctx: &mut StreamCtx,
        env: &mut Decrypting<'_>,
    ) -> Option<Ts> {
        self.count_app_data(dir, ts, record_len);
        let sni = self.ch.as_ref().and_then(|c| c.sni.as_deref());
        env.sink.session_hint(self.alpn.as_deref(), sni);
        ctx.first_byte.replace(ts)
    }

    /// An application-data record read in parts ([`crate::decrypt::Unsealed`]): what the
    /// sink only counts is passed by undecrypted ([`PlaintextSink::skip`]), the rest is
    /// decrypted in windows that start at [`FIRST_WINDOW`] bytes and double while the sink
    /// reads on, since what it needs next (an HTTP/2 frame head, a status line) is known
    /// only once it has read what comes before.
    fn read_in_parts(
        &mut self,
        dir: Dir,
        (ts, end_ts): (Ts, Ts),
        record_len: usize,
        u: &Unsealed<'_>,
        ctx: &mut StreamCtx,
        env: &mut Decrypting<'_>,
    ) {
        self.decrypted = true;
        // As a record opened whole: readable at its last byte.
        let first = self.app_data_readable(dir, ts, record_len, ctx, env);
        let mut plain = std::mem::take(&mut self.plain);
        let len = u.len();
        let mut pos = 0;
        let mut window = FIRST_WINDOW;
        while pos < len {
            let left = len - pos;
            let skip = env.sink.skippable(dir).unwrap_or(0);
            let skip = usize::try_from(skip).unwrap_or(usize::MAX).min(left);
            if skip > 0 {
                env.sink.skip(dir, end_ts, skip as u64, ctx);
                pos += skip;
                window = FIRST_WINDOW;
                continue;
            }
            let end = pos + window.min(left);
            match u.read(pos, end, &mut plain) {
                Some(bytes) => env.sink.data(dir, end_ts, bytes, ctx),
                None => {
                    env.sink.gap(dir, left as u64, end_ts, ctx);
                    break;
                }
            }
            pos = end;
            window = window.saturating_mul(2);
        }
        ctx.first_byte = first;
        self.plain = plain;
    }

    /// A side's secrets came after `n` of its protected records (they went by unread: the
    /// key log was not followed, or more came than a connection keeps, [`late`]).
    fn warn_late(&self, dir: Dir, n: u64, ctx: &mut StreamCtx) {
        let why = if self.kept.overflowed {
            format!(
                " (more came before them than the {} records or {} KiB a connection keeps \
                 waiting for its keys)",
                late::MAX_KEPT_RECORDS,
                late::MAX_KEPT_BYTES >> 10
            )
        } else {
            String::new()
        };
        ctx.warn(
            WarningKind::Keys,
            format!(
                "TLS: the {} secrets came after {n} of its protected records; those were not \
                 decrypted{why}",
                dir.sender()
            ),
        );
    }

    /// What the key state needs from the hellos, once both were seen.
    fn session_facts(&self) -> Option<keys::SessionFacts> {
        let ch = self.ch.as_ref()?;
        let sh = self.sh.as_ref()?;
        let etm = ch.extensions.contains(&EXT_ENCRYPT_THEN_MAC)
            && sh.extensions.contains(&EXT_ENCRYPT_THEN_MAC);
        Some(keys::SessionFacts {
            client_random: ch.random,
            server_random: sh.random,
            version: sh.version(),
            cipher: sh.cipher,
            encrypt_then_mac: etm,
            tls13: names::is_tls13(sh.version()),
            early_data_offered: ch.early_data,
        })
    }

    /// TLS 1.3 key changes announced by the record just decrypted.
    fn apply_key_changes(&mut self, dir: Dir, ctx: &mut StreamCtx) {
        let i = dir.index();
        let from_client = self.is_client(dir);
        if std::mem::take(&mut self.pending_finished[i]) && self.tls13() {
            self.keys.finished(from_client);
        }
        if std::mem::take(&mut self.pending_key_update[i]) {
            if let Err(e) = self.keys.key_update(from_client) {
                ctx.warn(WarningKind::Decrypt, format!("TLS: KeyUpdate: {e}"));
            }
        }
    }

    /// A record whose content can be read: clear text, or the output of a decryptor.
    fn on_plaintext(
        &mut self,
        dir: Dir,
        ts: Ts,
        content_type: u8,
        payload: &[u8],
        ctx: &mut StreamCtx,
    ) {
        match content_type {
            CT_HANDSHAKE => {
                let i = dir.index();
                let mut hs = std::mem::take(&mut self.dirs[i].hs);
                hs.push(payload, ts, ctx, &mut |m, ctx| {
                    self.on_handshake_message(dir, m, ctx)
                });
                self.dirs[i].hs = hs;
            }
            CT_ALERT => self.on_alert_record(dir, ts, payload, ctx),
            CT_CHANGE_CIPHER_SPEC => self.on_change_cipher_spec(dir, ts, payload, ctx),
            CT_APPLICATION_DATA => {
                // Decrypted application data: counted here; the HTTP dissector hook goes here.
                self.count_app_data(dir, ts, payload.len());
            }
            _ => {}
        }
    }

    /// A record that cannot be read: counted, and used for timing.
    /// An application-data record counted, not copied ([`record::FrameEvent::Opaque`]):
    /// what [`Self::on_record`] does with a record no key opens. Keys that came while it
    /// went by find it lost, as a record the capture missed.
    fn on_opaque(
        &mut self,
        dir: Dir,
        ts: Ts,
        (version, len): (u16, usize),
        ctx: &mut StreamCtx,
        env: &mut Option<Decrypting<'_>>,
    ) {
        let content_type = CT_APPLICATION_DATA;
        if let Some(e) = env.as_ref() {
            let from_client = self.is_client(dir);
            let facts = self.session_facts();
            if !self
                .keys
                .would_not_open(from_client, facts.is_some(), e.keys)
            {
                let lost = FrameEvent::Lost {
                    content_type: Some(content_type),
                    record_len: Some(len),
                };
                self.on_frame_now(dir, lost, ctx, env);
                return;
            }
            // `open` counts the record (a side's records before its keys) and reads nothing.
            let mut none = Vec::new();
            let _ = self.keys.open(
                from_client,
                facts.as_ref(),
                e.keys,
                (content_type, version, &[]),
                &mut none,
            );
        }
        self.on_ciphertext(dir, ts, content_type, len, ctx);
    }

    fn on_ciphertext(
        &mut self,
        dir: Dir,
        ts: Ts,
        content_type: u8,
        len: usize,
        ctx: &mut StreamCtx,
    ) {
        let i = dir.index();
        match content_type {
            CT_HANDSHAKE => {
                // TLS <= 1.2: the first protected handshake record is the Finished.
                self.dirs[i].finished_ts.get_or_insert(ts);
            }
            CT_ALERT => self.push_alert(dir, ts, AlertLevel::Encrypted, None, ctx),
            CT_APPLICATION_DATA => {
                let tls13 = self
                    .sh
                    .as_ref()
                    .is_some_and(|s| names::is_tls13(s.version()));
                if tls13 {
                    let client_done = self.dirs[self.client_dir().index()].finished_ts.is_some();
                    if self.is_client(dir) {
                        if !client_done {
                            self.dirs[i].finished_ts = Some(ts);
                            return;
                        }
                    } else if !client_done {
                        // Still the server's encrypted flight (EE .. Finished).
                        self.dirs[i].finished_ts = Some(ts);
                        return;
                    }
                }
                self.count_app_data(dir, ts, len);
            }
            _ => {}
        }
    }

    fn count_app_data(&mut self, dir: Dir, ts: Ts, len: usize) {
        let d = &mut self.dirs[dir.index()];
        d.app_records += 1;
        d.app_bytes = d.app_bytes.saturating_add(len as u64);
        if len < MIN_DNS_RECORD {
            d.app_small += 1;
        }
        d.first_app_ts.get_or_insert(ts);
    }

    fn on_change_cipher_spec(&mut self, dir: Dir, ts: Ts, payload: &[u8], ctx: &mut StreamCtx) {
        if payload != [1] {
            ctx.warn(
                WarningKind::Malformed,
                format!(
                    "TLS: change_cipher_spec of {} bytes, not the single byte 1",
                    payload.len()
                ),
            );
        }
        // RFC 5246 7.1: records after change_cipher_spec use the new keys. In TLS 1.3 it is
        // the RFC 8446 D.4 compatibility dummy, which a client may send before it has seen
        // the ServerHello: without one, a client that offered TLS 1.3 is given the benefit
        // of the doubt (its next handshake record may be a second ClientHello).
        let tls12 = match &self.sh {
            Some(s) => !names::is_tls13(s.version()),
            None => !self
                .ch
                .as_ref()
                .is_some_and(|c| c.supported_versions.iter().any(|&v| names::is_tls13(v))),
        };
        let d = &mut self.dirs[dir.index()];
        d.ccs += 1;
        d.ccs_ts.get_or_insert(ts);
        if tls12 {
            d.protected = true;
        }
    }

    fn on_alert_record(&mut self, dir: Dir, ts: Ts, payload: &[u8], ctx: &mut StreamCtx) {
        let mut pairs = payload.chunks_exact(2);
        for p in pairs.by_ref() {
            let level = match p[0] {
                1 => AlertLevel::Warning,
                2 => AlertLevel::Fatal,
                l => AlertLevel::Other(l),
            };
            if p[0] == 2 && self.fatal.is_none() {
                self.fatal = Some((self.role(dir), names::alert_name(p[1])));
            }
            self.push_alert(dir, ts, level, Some(p[1]), ctx);
        }
        if !pairs.remainder().is_empty() || payload.is_empty() {
            ctx.warn(
                WarningKind::Malformed,
                format!("TLS: alert record of {} bytes", payload.len()),
            );
        }
    }

    fn push_alert(
        &mut self,
        dir: Dir,
        ts: Ts,
        level: AlertLevel,
        description: Option<u8>,
        ctx: &mut StreamCtx,
    ) {
        if self.alerts.len() >= MAX_ALERTS {
            self.alerts_dropped += 1;
            if self.alerts_dropped == 1 {
                ctx.warn(
                    WarningKind::Cap,
                    format!("TLS: more than {MAX_ALERTS} alerts; the rest are not listed"),
                );
            }
            return;
        }
        let from_client = self.is_client(dir);
        self.alerts.push(Alert {
            ts,
            from_client,
            level,
            description,
        });
    }

    fn on_sslv2(&mut self, dir: Dir, ts: Ts, body: &[u8], ctx: &mut StreamCtx) {
        match handshake::parse_sslv2_client_hello(body) {
            Ok(ch) => {
                ctx.warn(
                    WarningKind::Legacy,
                    "TLS: SSL 2.0-compatible ClientHello (RFC 6101 E.2)",
                );
                self.accept_client_hello(dir, ts, ch, ctx);
            }
            Err(e) => ctx.warn(
                WarningKind::Malformed,
                format!("TLS: SSL 2.0 ClientHello {e}"),
            ),
        }
    }

    fn on_handshake_message(&mut self, dir: Dir, m: HsMessage<'_>, ctx: &mut StreamCtx) {
        let from_server = self.client_dir.is_some_and(|c| c != dir);
        match m.msg_type {
            HS_CLIENT_HELLO => match handshake::parse_client_hello(m.body) {
                Ok((ch, notes)) => {
                    for n in notes {
                        ctx.warn(WarningKind::Malformed, format!("TLS: {n}"));
                    }
                    self.accept_client_hello(dir, m.ts, ch, ctx);
                }
                Err(e) => ctx.warn(WarningKind::Malformed, format!("TLS: ClientHello {e}")),
            },
            HS_SERVER_HELLO => match handshake::parse_server_hello(m.body) {
                Ok((sh, notes)) => {
                    for n in notes {
                        ctx.warn(WarningKind::Malformed, format!("TLS: {n}"));
                    }
                    self.accept_server_hello(dir, m.ts, sh, ctx);
                }
                Err(e) => ctx.warn(WarningKind::Malformed, format!("TLS: ServerHello {e}")),
            },
            HS_CERTIFICATE if from_server => self.on_certificate(m.ts, m.body, ctx),
            HS_SERVER_KEY_EXCHANGE if from_server => {
                self.server_full_flight = true;
                let kx = self
                    .sh
                    .as_ref()
                    .and_then(|s| names::key_exchange_of(s.cipher));
                self.ske = handshake::parse_server_key_exchange(m.body, kx);
                if self.ske.is_none() {
                    ctx.warn(
                        WarningKind::Malformed,
                        "TLS: ServerKeyExchange parameters unreadable",
                    );
                }
            }
            // TLS 1.3 CertificateRequest is encrypted; once decrypted it must not count here.
            HS_CERTIFICATE_REQUEST | HS_SERVER_HELLO_DONE if from_server && !self.tls13() => {
                self.server_full_flight = true;
            }
            HS_NEW_SESSION_TICKET if from_server => self.ticket_issued = true,
            HS_ENCRYPTED_EXTENSIONS if from_server => self.on_encrypted_extensions(m.body, ctx),
            HS_FINISHED => {
                self.dirs[dir.index()].finished_ts.get_or_insert(m.ts);
                if self.in_decrypted {
                    self.pending_finished[dir.index()] = true;
                }
            }
            HS_KEY_UPDATE if self.in_decrypted => {
                self.pending_key_update[dir.index()] = true;
            }
            _ => {}
        }
    }

    fn accept_client_hello(&mut self, dir: Dir, ts: Ts, ch: ClientHello, ctx: &mut StreamCtx) {
        match self.client_dir {
            None => self.client_dir = Some(dir),
            Some(c) if c != dir => {
                ctx.warn(
                    WarningKind::Unexpected,
                    "TLS: ClientHello from the server side ignored",
                );
                return;
            }
            Some(_) => {}
        }
        self.client_hellos += 1;
        if self.ch.is_none() {
            self.ch = Some(Box::new(ch));
            self.client_hello_ts = Some(ts);
        } else if self.hrr.is_some() && self.ch2.is_none() {
            self.ch2 = Some(Box::new(ch));
        } else {
            let msg =
                "TLS: another ClientHello in clear text (renegotiation?); the first is reported";
            ctx.warn(WarningKind::Unexpected, msg);
        }
    }

    fn accept_server_hello(&mut self, dir: Dir, ts: Ts, sh: ServerHello, ctx: &mut StreamCtx) {
        match self.client_dir {
            None => self.client_dir = Some(dir.reverse()),
            Some(c) if c == dir => {
                ctx.warn(
                    WarningKind::Unexpected,
                    "TLS: ServerHello from the client side ignored",
                );
                return;
            }
            Some(_) => {}
        }
        if sh.is_hrr {
            if self.hrr.is_none() && self.sh.is_none() {
                self.hrr = Some(Box::new(sh));
                self.hrr_ts = Some(ts);
            } else {
                ctx.warn(
                    WarningKind::Unexpected,
                    "TLS: a second HelloRetryRequest ignored",
                );
            }
            return;
        }
        if self.sh.is_some() {
            ctx.warn(
                WarningKind::Unexpected,
                "TLS: another ServerHello in clear text ignored",
            );
            return;
        }
        if !names::is_tls13(sh.version()) {
            // TLS <= 1.2 carries the chosen ALPN in the clear ServerHello (RFC 7301 3.1).
            self.alpn = sh.alpn.clone();
        }
        self.sh = Some(Box::new(sh));
        self.server_hello_ts = Some(ts);
    }

    fn on_certificate(&mut self, ts: Ts, body: &[u8], ctx: &mut StreamCtx) {
        if !self.tls13() {
            self.server_full_flight = true;
        }
        if !self.certificates.is_empty() {
            ctx.warn(
                WarningKind::Unexpected,
                "TLS: a second server Certificate message ignored",
            );
            return;
        }
        match handshake::parse_certificate_list(body, self.tls13(), MAX_CERTIFICATES) {
            Ok((ders, total)) => {
                if total > ders.len() {
                    ctx.warn(
                        WarningKind::Cap,
                        format!(
                            "TLS: certificate chain of {total}; the first {MAX_CERTIFICATES} kept"
                        ),
                    );
                }
                let at = self.server_hello_ts.or(Some(ts));
                let sni = self.ch.as_ref().and_then(|c| c.sni.clone());
                for (k, der) in ders.into_iter().enumerate() {
                    let (c, err) = cert::summarize(der, at, sni.as_deref(), k == 0);
                    if let Some((kind, e)) = err {
                        ctx.warn(kind, format!("TLS: certificate {k}: {e}"));
                    }
                    self.certificates.push(c);
                }
            }
            Err(e) => ctx.warn(
                WarningKind::Malformed,
                format!("TLS: Certificate message {e}"),
            ),
        }
    }

    /// EncryptedExtensions (TLS 1.3, readable only once decrypted): ALPN and early_data.
    fn on_encrypted_extensions(&mut self, body: &[u8], ctx: &mut StreamCtx) {
        let mut r = handshake::Reader::new(body);
        let Some(exts) = r.vec16() else {
            ctx.warn(WarningKind::Malformed, "TLS: EncryptedExtensions truncated");
            return;
        };
        let mut er = handshake::Reader::new(exts);
        while let (Some(t), Some(data)) = (er.u16(), er.vec16()) {
            match t {
                16 => {
                    let p = handshake::Reader::new(data)
                        .vec16()
                        .and_then(|l| handshake::Reader::new(l).vec8());
                    self.alpn = p.map(|p| String::from_utf8_lossy(p).into_owned());
                }
                42 => self.early_data_accepted = true,
                _ => {}
            }
        }
    }

    /// `client` or `server` for bytes travelling `dir`.
    fn role(&self, dir: Dir) -> &'static str {
        if self.is_client(dir) {
            "client"
        } else {
            "server"
        }
    }

    fn is_client(&self, dir: Dir) -> bool {
        dir == self.client_dir()
    }

    fn tls13(&self) -> bool {
        self.sh
            .as_ref()
            .is_some_and(|s| names::is_tls13(s.version()))
    }

    fn server_dir(&self) -> Dir {
        self.client_dir().reverse()
    }

    /// The direction the client writes in: who sent the ClientHello (or the reverse of who
    /// sent the ServerHello); [`Dir::ToServer`] until a hello decides.
    pub fn client_dir(&self) -> Dir {
        self.client_dir.unwrap_or(Dir::ToServer)
    }

    /// Whether a hello decided the roles (else [`Self::client_dir`] is the default).
    pub fn roles_known(&self) -> bool {
        self.client_dir.is_some()
    }

    /// The first ClientHello's random (the key log's `CLIENT_RANDOM`; a second ClientHello
    /// after a HelloRetryRequest keeps it, RFC 8446 4.1.2).
    pub fn client_random(&self) -> Option<[u8; 32]> {
        self.ch.as_ref().map(|c| c.random)
    }

    /// The ALPN the server chose (ServerHello in TLS <= 1.2, EncryptedExtensions in 1.3).
    pub fn alpn(&self) -> Option<&str> {
        self.alpn.as_deref()
    }

    /// The (final) ServerHello's random.
    pub fn server_random(&self) -> Option<[u8; 32]> {
        self.sh.as_ref().map(|s| s.random)
    }

    /// Negotiated cipher suite.
    pub fn cipher_id(&self) -> Option<u16> {
        self.sh.as_ref().or(self.hrr.as_ref()).map(|s| s.cipher)
    }

    /// Negotiated version (supported_versions' choice for TLS 1.3), e.g. `0x0303`.
    pub fn version(&self) -> Option<u16> {
        self.sh.as_ref().or(self.hrr.as_ref()).map(|s| s.version())
    }

    /// The parsed first ClientHello.
    pub fn client_hello(&self) -> Option<&ClientHello> {
        self.ch.as_deref()
    }

    /// The parsed (final) ServerHello.
    pub fn server_hello(&self) -> Option<&ServerHello> {
        self.sh.as_deref()
    }

    /// The ClientHello that answered a HelloRetryRequest.
    pub fn second_client_hello(&self) -> Option<&ClientHello> {
        self.ch2.as_deref()
    }

    /// ClientHellos seen in clear text (2 after a HelloRetryRequest).
    pub fn client_hello_count(&self) -> u32 {
        self.client_hellos
    }

    /// A NewSessionTicket was seen in clear text (TLS <= 1.2).
    pub fn ticket_issued(&self) -> bool {
        self.ticket_issued
    }

    /// Whether any handshake message was seen (the stream is TLS with a handshake).
    pub fn saw_handshake(&self) -> bool {
        self.ch.is_some() || self.sh.is_some() || self.hrr.is_some()
    }

    /// For a decryptor: marks the connection as decrypted (reported in `TlsInfo::decrypted`).
    pub fn set_decrypted(&mut self, yes: bool) {
        self.decrypted = yes;
    }

    /// Whether the handshake was resumed (see the module doc).
    pub fn resumed(&self) -> bool {
        let Some(sh) = &self.sh else {
            return false;
        };
        if names::is_tls13(sh.version()) {
            return sh.psk_identity.is_some();
        }
        if self.server_full_flight {
            return false;
        }
        let echoed = !sh.session_id.is_empty()
            && self
                .ch
                .as_ref()
                .is_some_and(|c| c.session_id == sh.session_id);
        let abbreviated = self.dirs[self.server_dir().index()].ccs_ts.is_some();
        echoed || abbreviated
    }

    /// When the handshake completed, by the rules in the module doc.
    pub fn handshake_done_ts(&self) -> Option<Ts> {
        let sh = self.sh.as_ref()?;
        let client = self.dirs[self.client_dir().index()].finished_ts;
        let server = self.dirs[self.server_dir().index()].finished_ts;
        if names::is_tls13(sh.version()) || self.resumed() {
            client
        } else {
            server
        }
    }

    /// TLS <= 1.2 False Start (RFC 7918): a full handshake in which the client's first
    /// application data went out before the server's Finished arrived.
    pub fn false_start(&self) -> bool {
        let Some(sh) = self.sh.as_ref() else {
            return false;
        };
        if names::is_tls13(sh.version()) || self.resumed() {
            return false;
        }
        let c = &self.dirs[self.client_dir().index()];
        let server_finished = self.dirs[self.server_dir().index()].finished_ts;
        match (c.finished_ts, c.first_app_ts) {
            (Some(_), Some(data)) => server_finished.is_none_or(|f| data < f),
            _ => false,
        }
    }

    /// When the client could send application data: its own Finished in TLS 1.3, in an
    /// abbreviated TLS <= 1.2 handshake and with False Start; the server's Finished in a
    /// full TLS <= 1.2 handshake otherwise (RFC 5246 7.3, RFC 7918 3).
    pub fn client_ready_ts(&self) -> Option<Ts> {
        if self.false_start() {
            return self.dirs[self.client_dir().index()].finished_ts;
        }
        self.handshake_done_ts()
    }

    /// How the TLS part of the connection ended.
    pub fn outcome(&self) -> TlsOutcome {
        if let Some((from, description)) = &self.fatal {
            return TlsOutcome::FatalAlert {
                from,
                description: description.clone(),
            };
        }
        if !self.saw_handshake() {
            return TlsOutcome::NoHandshake;
        }
        if self.sh.is_none() && self.hrr.is_none() {
            return TlsOutcome::NoServerHello;
        }
        if self.handshake_done_ts().is_some() {
            TlsOutcome::Established
        } else {
            TlsOutcome::Incomplete
        }
    }

    /// Everything the handshake told, for the report (built in `pageload`).
    pub fn facts(&self) -> TlsFacts {
        let c = self.client_dir().index();
        let s = self.server_dir().index();
        let per_role = |i: usize| AppDataStats {
            records: self.dirs[i].app_records,
            bytes: self.dirs[i].app_bytes,
            small_records: self.dirs[i].app_small,
            first_ts: self.dirs[i].first_app_ts,
            change_cipher_spec: self.dirs[i].ccs,
        };
        TlsFacts {
            client_hello: self.ch.as_deref().cloned(),
            server_hello: self.sh.as_deref().cloned(),
            hello_retry: self.hrr.as_deref().cloned(),
            client_hello_ts: self.client_hello_ts,
            server_hello_ts: self.server_hello_ts.or(self.hrr_ts),
            handshake_done_ts: self.handshake_done_ts(),
            client_ready_ts: self.client_ready_ts(),
            client_finished_ts: self.dirs[c].finished_ts,
            server_finished_ts: self.dirs[s].finished_ts,
            false_start: self.false_start(),
            resumed: self.resumed(),
            alpn: self.alpn.clone(),
            certificates: self.certificates.clone(),
            server_key_exchange: self.ske.clone(),
            early_data_accepted: self.early_data_accepted,
            decrypted: self.decrypted,
            client: per_role(c),
            server: per_role(s),
            alerts: self.alerts.clone(),
        }
    }
}

/// The shortest record payload that can carry a DNS message over TCP: a 2-byte length,
/// a 12-byte header and a question for the root (5 bytes), plus the 17 bytes TLS 1.3
/// adds (content type and AEAD tag; TLS 1.2's AEAD suites add more). A decrypted record
/// is compared as it is, which never counts a DNS message as too short.
pub const MIN_DNS_RECORD: usize = 2 + 12 + 5 + 17;

/// Application data and change_cipher_spec records one side sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppDataStats {
    pub records: u64,
    /// Record payload bytes as on the wire.
    pub bytes: u64,
    /// Records whose payload is shorter than [`MIN_DNS_RECORD`]: encrypted, too short to
    /// hold even the smallest DNS message over TCP (DNS over TLS counts queries by this).
    pub small_records: u64,
    pub first_ts: Option<Ts>,
    pub change_cipher_spec: u64,
}

/// An alert: who sent it, its level and description (`None` when it was encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub ts: Ts,
    pub from_client: bool,
    pub level: AlertLevel,
    pub description: Option<u8>,
}

/// A TLS alert's level byte (RFC 8446 6), or `Encrypted` when the record was not readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    Warning,
    Fatal,
    Encrypted,
    Other(u8),
}

/// What a TLS handshake told (see the module doc for each timing rule). The same type
/// describes TLS over TCP and the TLS inside QUIC.
#[derive(Debug, Clone, Default)]
pub struct TlsFacts {
    /// The first ClientHello (after a HelloRetryRequest the client's choice is the first).
    pub client_hello: Option<ClientHello>,
    /// The ServerHello that settled the parameters.
    pub server_hello: Option<ServerHello>,
    pub hello_retry: Option<ServerHello>,
    pub client_hello_ts: Option<Ts>,
    /// The settling ServerHello's time (the HelloRetryRequest's when no other came).
    pub server_hello_ts: Option<Ts>,
    pub handshake_done_ts: Option<Ts>,
    /// When the client could send application data ([`TlsDissector::client_ready_ts`]).
    pub client_ready_ts: Option<Ts>,
    /// Each side's Finished (TLS <= 1.2: its first protected handshake record; TLS 1.3
    /// without keys: the client's first protected record after the ServerHello, the
    /// server's last protected record before it).
    pub client_finished_ts: Option<Ts>,
    pub server_finished_ts: Option<Ts>,
    pub false_start: bool,
    pub resumed: bool,
    /// The ALPN the server chose (ServerHello in TLS <= 1.2, EncryptedExtensions in 1.3).
    pub alpn: Option<String>,
    pub certificates: Vec<CertInfo>,
    pub server_key_exchange: Option<KeyExchangeParams>,
    pub early_data_accepted: bool,
    pub decrypted: bool,
    pub client: AppDataStats,
    pub server: AppDataStats,
    pub alerts: Vec<Alert>,
}

impl TlsFacts {
    /// The ServerHello to describe: the settling one, else the HelloRetryRequest.
    pub fn server_hello_or_retry(&self) -> Option<&ServerHello> {
        self.server_hello.as_ref().or(self.hello_retry.as_ref())
    }
}

/// Whether an alert record reads as clear-text alerts: whole (level, description) pairs
/// with level warning(1) or fatal(2).
fn plausible_clear_alerts(payload: &[u8]) -> bool {
    !payload.is_empty()
        && payload.len().is_multiple_of(2)
        && payload.chunks_exact(2).all(|p| p[0] == 1 || p[0] == 2)
}
