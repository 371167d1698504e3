//! The packet protection keys of one QUIC connection beyond Initial, from a TLS key log
//! (RFC 9001 5.1: "Keys used for packet protection are computed from the TLS secrets").
//!
//! ```text
//!  client random (ClientHello) + cipher suite (ServerHello) + version
//!        │  lookup in the key log, on every protected packet until found (keys that come
//!        ▼  late, as a browser writes its log, open the packets kept meanwhile: `late.rs`)
//!  CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET ──► Handshake keys, one per direction
//!  CLIENT_EARLY_TRAFFIC_SECRET             ──► 0-RTT keys (client only)
//!  CLIENT_/SERVER_TRAFFIC_SECRET_0         ──► 1-RTT keys, following key updates (RFC 9001 6)
//! ```
//!
//! A secret that is logged but does not fit the suite (a wrong length) is a `keys` warning
//! once; a packet that fails authentication is counted and never parsed.

use crate::decrypt::quic::{OneRttKeys, QuicKeys};
use crate::decrypt::{KeyLog, SecretKind};
use crate::net::flow::Dir;

/// Which keys a packet needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Handshake,
    ZeroRtt,
    OneRtt,
}

/// What the handshake told that the keys depend on.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub client_random: [u8; 32],
    pub cipher: u16,
    pub version: u32,
}

/// The keys of one connection, built as the key log and the handshake allow.
#[derive(Default)]
pub struct ConnKeys {
    handshake: [Option<QuicKeys>; 2],
    zero_rtt: Option<QuicKeys>,
    one_rtt: [Option<OneRttKeys>; 2],
    /// A problem building keys from logged secrets, said once.
    pub problem: Option<String>,
    /// The key log was consulted and had nothing for this client random.
    pub missing: bool,
}

impl std::fmt::Debug for ConnKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnKeys(<redacted>)")
    }
}

/// TLS 1.3 suites QUIC uses (RFC 9001 5.3), most common first: 0-RTT packets may come before
/// the ServerHello names the suite, and the AEAD tag tells which one is right.
const QUIC_SUITES: [u16; 3] = [0x1301, 0x1302, 0x1303];

impl ConnKeys {
    /// Builds whatever keys are still missing for `level` from the key log; true when the
    /// level's keys for `dir` are there.
    pub fn ensure(&mut self, level: Level, dir: Dir, s: Option<Session>, log: &KeyLog) -> bool {
        if self.has(level, dir) {
            return true;
        }
        let Some(s) = s else {
            return false;
        };
        let Some(secrets) = log.lookup(&s.client_random) else {
            self.missing = true;
            return false;
        };
        self.missing = false;
        let client = dir == Dir::ToServer;
        let kind = match (level, client) {
            (Level::Handshake, true) => SecretKind::ClientHandshake,
            (Level::Handshake, false) => SecretKind::ServerHandshake,
            (Level::ZeroRtt, _) => SecretKind::ClientEarly,
            (Level::OneRtt, true) => SecretKind::ClientTraffic0,
            (Level::OneRtt, false) => SecretKind::ServerTraffic0,
        };
        let Some(secret) = secrets.get(kind) else {
            return false;
        };
        let i = dir.index();
        let built = match level {
            Level::Handshake => QuicKeys::new(s.version, s.cipher, secret).map(|k| {
                self.handshake[i] = Some(k);
            }),
            Level::ZeroRtt => QuicKeys::new(s.version, s.cipher, secret).map(|k| {
                self.zero_rtt = Some(k);
            }),
            Level::OneRtt => OneRttKeys::new(s.version, s.cipher, secret).map(|k| {
                self.one_rtt[i] = Some(k);
            }),
        };
        if let Err(e) = built {
            self.problem
                .get_or_insert_with(|| format!("QUIC: {} secret unusable: {e:?}", kind.label()));
            return false;
        }
        true
    }

    /// 0-RTT keys for each suite QUIC uses, for packets sent before the ServerHello named
    /// one (RFC 8446 4.2.10: 0-RTT uses the suite of the session it resumes).
    pub fn zero_rtt_guesses(&self, s: Session, log: &KeyLog) -> Vec<QuicKeys> {
        let Some(secret) = log
            .lookup(&s.client_random)
            .and_then(|x| x.get(SecretKind::ClientEarly))
        else {
            return Vec::new();
        };
        QUIC_SUITES
            .iter()
            .filter_map(|&c| QuicKeys::new(s.version, c, secret).ok())
            .collect()
    }

    /// The 0-RTT keys that opened a packet.
    pub fn set_zero_rtt(&mut self, k: QuicKeys) {
        self.zero_rtt = Some(k);
    }

    pub fn has(&self, level: Level, dir: Dir) -> bool {
        let i = dir.index();
        match level {
            Level::Handshake => self.handshake[i].is_some(),
            Level::ZeroRtt => self.zero_rtt.is_some(),
            Level::OneRtt => self.one_rtt[i].is_some(),
        }
    }

    pub fn handshake(&self, dir: Dir) -> Option<&QuicKeys> {
        self.handshake[dir.index()].as_ref()
    }

    pub fn zero_rtt(&self) -> Option<&QuicKeys> {
        self.zero_rtt.as_ref()
    }

    pub fn one_rtt(&mut self, dir: Dir) -> Option<&mut OneRttKeys> {
        self.one_rtt[dir.index()].as_mut()
    }

    /// Key updates followed, per direction.
    pub fn key_updates(&self) -> [u32; 2] {
        [0, 1].map(|i| self.one_rtt[i].as_ref().map_or(0, |k| k.key_updates()))
    }
}
