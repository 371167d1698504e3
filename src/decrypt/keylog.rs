//! NSS key log parsing (the `SSLKEYLOGFILE` format written by browsers, curl and OpenSSL,
//! and carried as text in pcapng Decryption Secrets Blocks of type `TLSK`).
//!
//! Consumes text, one entry per line: `<LABEL> <client_random hex> <secret hex>`.
//! Produces a map from the 32-byte ClientHello random to that session's secrets.
//!
//! Accepted labels: `CLIENT_RANDOM` (TLS 1.2 and below: the 48-byte master secret),
//! `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET`,
//! `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`, `CLIENT_EARLY_TRAFFIC_SECRET`
//! (TLS 1.3: 32- or 48-byte secrets). `EXPORTER_SECRET`, `EARLY_EXPORTER_SECRET` and the
//! post-KeyUpdate `CLIENT_TRAFFIC_SECRET_N` / `SERVER_TRAFFIC_SECRET_<n>` (OpenSSL writes a
//! literal `N`; we derive these ourselves) are checked and ignored; `RSA` and `PMS_CLIENT_RANDOM` lines (pre-master secrets, which
//! need the handshake to use) are ignored; `#` comments and blank lines are ignored.
//! Anything else is a bad line: counted and skipped, never fatal.
//!
//! Guarantees: incremental (call `add_text` / `add_line` as often as text arrives; a later
//! line for the same client random and label replaces the earlier value); bounded (at most
//! [`MAX_SESSIONS`] client randoms, further new ones are counted as `over_cap`); no
//! allocation per line beyond the map entry; secrets are never printed: every `Debug` here
//! redacts them and nothing logs.
//!
//! `add_text` treats a last line without a trailing newline as complete. A caller that
//! follows a file still being written should pass text only up to its last `\n`, and say so
//! with [`KeyLog::set_growing`]: the TLS dissector then keeps the records that arrive before
//! their secrets (bounded) instead of leaving them encrypted. [`KeyLog::generation`] changes
//! whenever a secret is stored, so a dissector waiting for secrets knows when to look again.

use std::collections::HashMap;
use std::fmt;

/// Most client randoms kept. A session's entry is about 350 bytes, so this bounds the key
/// log at roughly 35 MB however large the file is.
pub const MAX_SESSIONS: usize = 100_000;

/// Longest line considered (the longest valid line is about 140 bytes).
const MAX_LINE: usize = 1024;

/// Longest secret kept: SHA-384's 48 bytes (also the TLS 1.2 master secret length).
const MAX_SECRET: usize = 48;

/// A secret of up to 48 bytes. `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    len: u8,
    bytes: [u8; MAX_SECRET],
}

impl Secret {
    /// A copy of `b`, or `None` if it is empty or longer than 48 bytes.
    pub fn from_slice(b: &[u8]) -> Option<Secret> {
        if b.is_empty() || b.len() > MAX_SECRET {
            return None;
        }
        let mut bytes = [0u8; MAX_SECRET];
        bytes[..b.len()].copy_from_slice(b);
        Some(Secret {
            len: u8::try_from(b.len()).ok()?,
            bytes,
        })
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Never true (an empty secret is not constructed).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Secret {
    /// Best-effort wipe (no `zeroize` guarantee against the optimiser).
    fn drop(&mut self) {
        self.bytes.fill(0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted, {} bytes>)", self.len)
    }
}

/// The key log labels that carry a secret we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// `CLIENT_RANDOM`: TLS 1.2-and-below master secret (48 bytes).
    Master,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    ClientHandshake,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    ServerHandshake,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    ClientTraffic0,
    /// `SERVER_TRAFFIC_SECRET_0`.
    ServerTraffic0,
    /// `CLIENT_EARLY_TRAFFIC_SECRET` (0-RTT data).
    ClientEarly,
}

impl SecretKind {
    /// The NSS key log label.
    pub fn label(self) -> &'static str {
        match self {
            SecretKind::Master => "CLIENT_RANDOM",
            SecretKind::ClientHandshake => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            SecretKind::ServerHandshake => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            SecretKind::ClientTraffic0 => "CLIENT_TRAFFIC_SECRET_0",
            SecretKind::ServerTraffic0 => "SERVER_TRAFFIC_SECRET_0",
            SecretKind::ClientEarly => "CLIENT_EARLY_TRAFFIC_SECRET",
        }
    }

    fn index(self) -> usize {
        match self {
            SecretKind::Master => 0,
            SecretKind::ClientHandshake => 1,
            SecretKind::ServerHandshake => 2,
            SecretKind::ClientTraffic0 => 3,
            SecretKind::ServerTraffic0 => 4,
            SecretKind::ClientEarly => 5,
        }
    }
}

const KINDS: [SecretKind; 6] = [
    SecretKind::Master,
    SecretKind::ClientHandshake,
    SecretKind::ServerHandshake,
    SecretKind::ClientTraffic0,
    SecretKind::ServerTraffic0,
    SecretKind::ClientEarly,
];

/// The secrets logged for one client random. `Debug` lists which are present, never their
/// values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SessionSecrets {
    secrets: [Option<Secret>; 6],
}

impl SessionSecrets {
    /// The secret of `kind`, if logged.
    pub fn get(&self, kind: SecretKind) -> Option<&[u8]> {
        self.secrets[kind.index()].as_ref().map(Secret::as_bytes)
    }

    /// The TLS 1.2-and-below master secret (`CLIENT_RANDOM` line).
    pub fn master_secret(&self) -> Option<&[u8]> {
        self.get(SecretKind::Master)
    }

    /// True if any TLS 1.3 secret is present.
    pub fn has_tls13(&self) -> bool {
        KINDS[1..].iter().any(|k| self.get(*k).is_some())
    }

    fn set(&mut self, kind: SecretKind, secret: Secret) {
        self.secrets[kind.index()] = Some(secret);
    }
}

impl fmt::Debug for SessionSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for k in KINDS {
            if let Some(s) = &self.secrets[k.index()] {
                l.entry(&format_args!(
                    "{} (<redacted, {} bytes>)",
                    k.label(),
                    s.len()
                ));
            }
        }
        l.finish()
    }
}

/// Counters for lines seen. `lines = accepted + ignored + bad + over_cap`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyLogStats {
    /// Every line seen, blank and comment lines included.
    pub lines: u64,
    /// Lines whose secret was stored.
    pub accepted: u64,
    /// Blank lines, comments, and well-formed lines with a label we do not use.
    pub ignored: u64,
    /// Malformed lines (unknown label, wrong field count, bad hex, wrong length).
    pub bad: u64,
    /// Well-formed lines dropped because [`MAX_SESSIONS`] client randoms are already held.
    pub over_cap: u64,
}

impl KeyLogStats {
    /// Adds `other`'s counters to these.
    pub fn merge(&mut self, other: &KeyLogStats) {
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.ignored += other.ignored;
        self.bad += other.bad;
        self.over_cap += other.over_cap;
    }

    fn count(&mut self, outcome: LineOutcome) {
        self.lines += 1;
        match outcome {
            LineOutcome::Accepted(_) => self.accepted += 1,
            LineOutcome::Ignored => self.ignored += 1,
            LineOutcome::Bad(_) => self.bad += 1,
            LineOutcome::OverCap => self.over_cap += 1,
        }
    }
}

/// Why a line was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadLine {
    /// The first field is not a label we know.
    UnknownLabel,
    /// Not exactly three whitespace-separated fields.
    FieldCount,
    /// The client random is not 64 hex digits.
    ClientRandom,
    /// The secret is not hex, or not of a length the label allows.
    Secret,
    /// Longer than any valid line, or not text.
    Garbage,
}

/// What one line did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// A secret of this kind was stored.
    Accepted(SecretKind),
    /// Blank, comment, or a valid label we do not use.
    Ignored,
    /// Malformed: skipped.
    Bad(BadLine),
    /// Valid but the session table is full.
    OverCap,
}

/// Secrets from NSS key logs, by client random.
#[derive(Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], SessionSecrets>,
    stats: KeyLogStats,
    /// Secrets stored so far (a line that replaces one counts too).
    generation: u64,
    /// Lines may still come for sessions already under way (a followed file).
    growing: bool,
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("sessions", &self.sessions.len())
            .field("stats", &self.stats)
            .field("generation", &self.generation)
            .field("growing", &self.growing)
            .finish()
    }
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Parses every line of `text` (a key log file's contents, or a Decryption Secrets
    /// Block's text). Returns the counters for this text alone; [`KeyLog::stats`] has the
    /// running totals.
    pub fn add_text(&mut self, text: &str) -> KeyLogStats {
        self.add_bytes(text.as_bytes())
    }

    /// As [`KeyLog::add_text`], for bytes that may not be UTF-8 (a non-ASCII line is bad).
    pub fn add_bytes(&mut self, data: &[u8]) -> KeyLogStats {
        let mut stats = KeyLogStats::default();
        let mut rest = data;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            stats.count(self.add_line_bytes(line));
            rest = next;
        }
        self.stats.merge(&stats);
        stats
    }

    /// Parses one line (a trailing `\r` or `\n` is ignored) and counts it in the totals.
    pub fn add_line(&mut self, line: &str) -> LineOutcome {
        let outcome = self.add_line_bytes(line.as_bytes());
        self.stats.count(outcome);
        outcome
    }

    /// The secrets logged for the ClientHello random `client_random`.
    pub fn lookup(&self, client_random: &[u8; 32]) -> Option<&SessionSecrets> {
        self.sessions.get(client_random)
    }

    /// Running totals over everything added.
    pub fn stats(&self) -> KeyLogStats {
        self.stats
    }

    /// Number of client randoms with at least one secret.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True if no secret has been stored.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Changes each time a secret is stored (new or replacing): whoever found a secret
    /// missing looks again only when this moved.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Says that the key log is still being written while packets are handled (a live
    /// capture following `SSLKEYLOGFILE`, or a file such a capture wrote): a session's
    /// secrets may come after the records they open, so those records are worth keeping.
    pub fn set_growing(&mut self, growing: bool) {
        self.growing = growing;
    }

    /// See [`KeyLog::set_growing`].
    pub fn growing(&self) -> bool {
        self.growing
    }

    /// Parses and stores one line without counting it.
    fn add_line_bytes(&mut self, line: &[u8]) -> LineOutcome {
        match parse_line(line) {
            Parsed::Secret(kind, random, secret) => {
                let full = self.sessions.len() >= MAX_SESSIONS;
                match self.sessions.get_mut(&random) {
                    Some(entry) => entry.set(kind, secret),
                    None if full => return LineOutcome::OverCap,
                    None => {
                        let mut entry = SessionSecrets::default();
                        entry.set(kind, secret);
                        self.sessions.insert(random, entry);
                    }
                }
                self.generation += 1;
                LineOutcome::Accepted(kind)
            }
            Parsed::Ignored => LineOutcome::Ignored,
            Parsed::Bad(why) => LineOutcome::Bad(why),
        }
    }
}

enum Parsed {
    Secret(SecretKind, [u8; 32], Secret),
    Ignored,
    Bad(BadLine),
}

/// What a label needs from the secret field.
enum LabelUse {
    Keep(SecretKind),
    /// Valid TLS 1.3 label we do not need (exporter secrets).
    CheckAndIgnore,
    /// Valid label in a format we cannot use (pre-master secrets).
    Ignore,
}

fn label_use(label: &[u8]) -> Option<LabelUse> {
    Some(match label {
        b"CLIENT_RANDOM" => LabelUse::Keep(SecretKind::Master),
        b"CLIENT_HANDSHAKE_TRAFFIC_SECRET" => LabelUse::Keep(SecretKind::ClientHandshake),
        b"SERVER_HANDSHAKE_TRAFFIC_SECRET" => LabelUse::Keep(SecretKind::ServerHandshake),
        b"CLIENT_TRAFFIC_SECRET_0" => LabelUse::Keep(SecretKind::ClientTraffic0),
        b"SERVER_TRAFFIC_SECRET_0" => LabelUse::Keep(SecretKind::ServerTraffic0),
        b"CLIENT_EARLY_TRAFFIC_SECRET" => LabelUse::Keep(SecretKind::ClientEarly),
        b"EXPORTER_SECRET" | b"EARLY_EXPORTER_SECRET" => LabelUse::CheckAndIgnore,
        b"RSA" | b"PMS_CLIENT_RANDOM" => LabelUse::Ignore,
        // Secrets after a KeyUpdate: OpenSSL logs them as `CLIENT_TRAFFIC_SECRET_N`, others
        // with the number. We derive them from `_0` ourselves ("traffic upd").
        _ if later_traffic_secret(label) => LabelUse::CheckAndIgnore,
        _ => return None,
    })
}

fn later_traffic_secret(label: &[u8]) -> bool {
    let suffix = label
        .strip_prefix(b"CLIENT_TRAFFIC_SECRET_")
        .or_else(|| label.strip_prefix(b"SERVER_TRAFFIC_SECRET_"));
    match suffix {
        Some(b"N") => true,
        Some(n) => !n.is_empty() && n.len() <= 20 && n.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

fn parse_line(line: &[u8]) -> Parsed {
    if line.len() > MAX_LINE {
        return Parsed::Bad(BadLine::Garbage);
    }
    let line = line.trim_ascii();
    if line.is_empty() || line.first() == Some(&b'#') {
        return Parsed::Ignored;
    }
    let mut fields = line
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|f| !f.is_empty());
    let (Some(label), a, b, extra) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Parsed::Bad(BadLine::Garbage);
    };
    let Some(usage) = label_use(label) else {
        return Parsed::Bad(if label.is_ascii() {
            BadLine::UnknownLabel
        } else {
            BadLine::Garbage
        });
    };
    let (Some(random_hex), Some(secret_hex), None) = (a, b, extra) else {
        return Parsed::Bad(BadLine::FieldCount);
    };
    let kind = match usage {
        LabelUse::Ignore => return Parsed::Ignored,
        LabelUse::CheckAndIgnore => None,
        LabelUse::Keep(kind) => Some(kind),
    };
    let mut random = [0u8; 32];
    if !decode_hex(random_hex, &mut random) {
        return Parsed::Bad(BadLine::ClientRandom);
    }
    // RFC 5246 8.1: "The master secret is always exactly 48 bytes in length." TLS 1.3
    // secrets are Hash.length: 32 (SHA-256) or 48 (SHA-384).
    let len = secret_hex.len() / 2;
    let len_ok = match kind {
        Some(SecretKind::Master) => len == 48,
        _ => len == 32 || len == 48,
    };
    let mut bytes = [0u8; MAX_SECRET];
    if !secret_hex.len().is_multiple_of(2) || !len_ok || !decode_hex(secret_hex, &mut bytes[..len])
    {
        return Parsed::Bad(BadLine::Secret);
    }
    match (kind, Secret::from_slice(&bytes[..len])) {
        (Some(kind), Some(secret)) => Parsed::Secret(kind, random, secret),
        (None, _) => Parsed::Ignored,
        (Some(_), None) => Parsed::Bad(BadLine::Secret),
    }
}

/// Decodes exactly `out.len() * 2` hex digits (either case) into `out`.
fn decode_hex(hex: &[u8], out: &mut [u8]) -> bool {
    if hex.len() != out.len() * 2 {
        return false;
    }
    for (dst, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => *dst = hi << 4 | lo,
            _ => return false,
        }
    }
    true
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CR: &str = "52362c10a2665e323a2adb4b9da0c10d4a8823719272f8b4c97af24f92784812";
    const MS: &str = "9f9bf5d5e3f11fb5f9e4ab2c3c1fd6b2f1d0a5e88c7e9ce3f62a6d4f0f8a3a4b\
                      6c2b1d0e9f8a7b6c5d4e3f2a1b0c9d8e";

    fn random(hex: &str) -> [u8; 32] {
        let mut r = [0u8; 32];
        assert!(decode_hex(hex.as_bytes(), &mut r));
        r
    }

    #[test]
    fn test_client_random_line() {
        let mut log = KeyLog::new();
        let line = format!("CLIENT_RANDOM {CR} {MS}");
        assert_eq!(
            log.add_line(&line),
            LineOutcome::Accepted(SecretKind::Master)
        );
        let s = log.lookup(&random(CR)).unwrap();
        let ms = s.master_secret().unwrap();
        assert_eq!(ms.len(), 48);
        assert_eq!(ms[..4], [0x9f, 0x9b, 0xf5, 0xd5]);
        assert_eq!(ms[47], 0x8e);
        assert!(!s.has_tls13());
        assert_eq!(log.len(), 1);
        assert_eq!(
            log.stats(),
            KeyLogStats {
                lines: 1,
                accepted: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn test_tls13_lines_and_stats() {
        let s32 = "ab".repeat(32);
        let s48 = "CD".repeat(48);
        let text = format!(
            "# SSL/TLS secrets log file, generated by NSS\n\
             \n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR} {s32}\r\n\
             SERVER_HANDSHAKE_TRAFFIC_SECRET {CR} {s32}\n\
             CLIENT_TRAFFIC_SECRET_0 {CR} {s48}\n\
             SERVER_TRAFFIC_SECRET_0 {CR} {s48}\n\
             EXPORTER_SECRET {CR} {s32}\n\
             CLIENT_EARLY_TRAFFIC_SECRET {CR} {s32}\n\
             BOGUS_LABEL {CR} {s32}\n\
             CLIENT_RANDOM {CR}\n\
             CLIENT_RANDOM {CR} {s32}\n\
             CLIENT_TRAFFIC_SECRET_0 {CR} {s32}ab\n\
             CLIENT_TRAFFIC_SECRET_0 {CR}00 {s32}\n\
             CLIENT_TRAFFIC_SECRET_0 {CR} {s32} extra\n\
             RSA 0123456789abcdef {s48}\n\
             CLIENT_TRAFFIC_SECRET_N {CR} {s32}\n\
             SERVER_TRAFFIC_SECRET_12 {CR} {s48}\n\
             SERVER_TRAFFIC_SECRET_ {CR} {s48}\n\
             SERVER_TRAFFIC_SECRET_1x {CR} {s48}"
        );
        let mut log = KeyLog::new();
        let st = log.add_text(&text);
        assert_eq!(
            st,
            KeyLogStats {
                lines: 19,
                accepted: 5,
                ignored: 6,
                bad: 8,
                over_cap: 0
            }
        );
        assert_eq!(log.stats(), st);
        let s = log.lookup(&random(CR)).unwrap();
        assert_eq!(s.get(SecretKind::ClientHandshake).unwrap(), [0xab; 32]);
        assert_eq!(s.get(SecretKind::ServerHandshake).unwrap(), [0xab; 32]);
        assert_eq!(s.get(SecretKind::ClientTraffic0).unwrap(), [0xcd; 48]);
        assert_eq!(s.get(SecretKind::ServerTraffic0).unwrap(), [0xcd; 48]);
        assert_eq!(s.get(SecretKind::ClientEarly).unwrap(), [0xab; 32]);
        assert_eq!(s.master_secret(), None);
        assert!(s.has_tls13());
        assert_eq!(log.lookup(&[0u8; 32]), None);
    }

    #[test]
    fn test_bad_line_reasons() {
        let mut log = KeyLog::new();
        let s32 = "ab".repeat(32);
        let cases = [
            (format!("NOPE {CR} {s32}"), BadLine::UnknownLabel),
            (format!("CLIENT_RANDOM {CR} {MS} x"), BadLine::FieldCount),
            (format!("CLIENT_RANDOM {CR}"), BadLine::FieldCount),
            (
                format!("CLIENT_RANDOM {} {MS}", &CR[1..]),
                BadLine::ClientRandom,
            ),
            (
                format!("CLIENT_RANDOM {}g {MS}", &CR[1..]),
                BadLine::ClientRandom,
            ),
            (format!("CLIENT_RANDOM {CR} {}", &MS[1..]), BadLine::Secret),
            (format!("CLIENT_RANDOM {CR} {s32}"), BadLine::Secret),
            (
                format!("SERVER_TRAFFIC_SECRET_0 {CR} {}", "a".repeat(80)),
                BadLine::Secret,
            ),
            (
                format!("SERVER_TRAFFIC_SECRET_0 {CR} {}zz", &s32[2..]),
                BadLine::Secret,
            ),
            (
                format!("CLIENT_RANDOM {CR} {MS} {}", "x".repeat(2000)),
                BadLine::Garbage,
            ),
            ("\u{e9}t\u{e9} {CR} {MS}".to_string(), BadLine::Garbage),
        ];
        for (line, why) in cases {
            assert_eq!(log.add_line(&line), LineOutcome::Bad(why), "{line}");
        }
        assert!(log.is_empty());
        assert_eq!(log.stats().bad, 11);
    }

    #[test]
    fn test_incremental_and_replace() {
        let mut log = KeyLog::new();
        let s1 = "11".repeat(32);
        let s2 = "22".repeat(32);
        log.add_text(&format!("CLIENT_TRAFFIC_SECRET_0 {CR} {s1}\n"));
        assert_eq!(
            log.lookup(&random(CR))
                .unwrap()
                .get(SecretKind::ClientTraffic0),
            Some(&[0x11; 32][..])
        );
        // A DSB later in the file, upper-case hex, tab separated: replaces and adds.
        log.add_text(&format!(
            "CLIENT_TRAFFIC_SECRET_0\t{}\t{s2}\nSERVER_TRAFFIC_SECRET_0 {CR} {s1}",
            CR.to_uppercase()
        ));
        let s = log.lookup(&random(CR)).unwrap();
        assert_eq!(s.get(SecretKind::ClientTraffic0), Some(&[0x22; 32][..]));
        assert_eq!(s.get(SecretKind::ServerTraffic0), Some(&[0x11; 32][..]));
        assert_eq!(log.len(), 1);
        assert_eq!(log.stats().accepted, 3);
    }

    #[test]
    fn test_debug_redacts_secrets() {
        let mut log = KeyLog::new();
        log.add_text(&format!("CLIENT_RANDOM {CR} {MS}\n"));
        let s = log.lookup(&random(CR)).unwrap();
        let shown = format!(
            "{s:?} {log:?} {:?}",
            Secret::from_slice(&[0x9f; 48]).unwrap()
        );
        assert!(!shown.to_lowercase().contains("9f"), "{shown}");
        assert!(!shown.contains("159"), "{shown}"); // 0x9f in decimal
        assert!(
            shown.contains("CLIENT_RANDOM (<redacted, 48 bytes>)"),
            "{shown}"
        );
    }

    #[test]
    fn test_secret_from_slice_bounds() {
        assert!(Secret::from_slice(&[]).is_none());
        assert!(Secret::from_slice(&[1; 49]).is_none());
        let s = Secret::from_slice(&[7; 48]).unwrap();
        assert_eq!((s.len(), s.as_bytes()), (48, &[7u8; 48][..]));
    }

    #[test]
    fn test_session_cap() {
        let mut log = KeyLog::new();
        let mut text = String::new();
        for i in 0..MAX_SESSIONS + 3 {
            text.push_str(&format!("CLIENT_RANDOM {:064x} {MS}\n", i));
        }
        let st = log.add_text(&text);
        assert_eq!(st.accepted, MAX_SESSIONS as u64);
        assert_eq!(st.over_cap, 3);
        assert_eq!(log.len(), MAX_SESSIONS);
        // A known random still takes more secrets when the table is full.
        let known = format!("SERVER_TRAFFIC_SECRET_0 {:064x} {}", 5, "ab".repeat(32));
        assert_eq!(
            log.add_line(&known),
            LineOutcome::Accepted(SecretKind::ServerTraffic0)
        );
    }

    #[test]
    fn test_random_bytes_never_panic() {
        // Deterministic xorshift so the test is reproducible.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut log = KeyLog::new();
        let alphabet =
            b"CLIENT_RANDOM SERVER_TRAFFIC_SECRET_0 0123456789abcdefABCDEF\n\r\t #\xff\x00";
        for _ in 0..2000 {
            let mut buf = Vec::new();
            let n = (x % 300) as usize;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let st = log.add_bytes(&buf);
            assert_eq!(st.lines, st.accepted + st.ignored + st.bad + st.over_cap);
        }
    }

    #[test]
    fn test_truncated_line_at_every_offset() {
        let line = format!("CLIENT_RANDOM {CR} {MS}");
        for cut in 0..line.len() {
            let mut log = KeyLog::new();
            let outcome = log.add_line(&line[..cut]);
            assert!(
                matches!(outcome, LineOutcome::Bad(_) | LineOutcome::Ignored),
                "{cut}: {outcome:?}"
            );
            assert!(log.is_empty());
        }
    }
}
