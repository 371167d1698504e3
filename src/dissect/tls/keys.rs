//! Which keys open which record: the per-connection decryption state of the TLS dissector.
//!
//! # Consumes
//! Protected records of one direction, in stream order, with the facts the handshake gave
//! (client and server randoms, negotiated version and suite, encrypt_then_mac) and the
//! [`KeyLog`].
//!
//! # Produces
//! For each record either the plaintext and its real content type, or why it could not be
//! opened ([`Opened`]).
//!
//! # Key state per direction
//! ```text
//!             first protected record, both hellos seen
//!   NotTried ─────────────────────────────────────────► Ready(decryptor)
//!      │  no secrets for this client random (yet)          │  TLS 1.3: Finished → traffic
//!      ▼                                                   │  secret; KeyUpdate → next one
//!   Waiting(key log generation) ── the key log grew ───────┤
//!      │          and has them: Ready, sequence number     │  a gap: the next record is
//!      │          searched (records that went by are       │  searched within SEQ_SEARCH
//!      │          counted, not opened)                     │  sequence numbers
//!      ▼                                                   ▼
//!   (at the close: "no secrets" warning)   Unavailable: a suite we don't decrypt, secrets
//!                                          that don't fit, or MAX_FAILED_SEARCHES searches
//!                                          in a row found nothing (records stay opaque)
//! ```
//! - TLS <= 1.2: one decryptor per direction from the master secret, built at that side's
//!   first protected record (its Finished, sequence number 0, RFC 5246 6.1).
//! - TLS 1.3 (RFC 8446 7.1): the handshake traffic secret until that side's Finished, then
//!   `*_TRAFFIC_SECRET_0`, advanced by each KeyUpdate (7.2). A client that offered 0-RTT may
//!   send records under `CLIENT_EARLY_TRAFFIC_SECRET` first; a record the current key fails
//!   on is tried with the early key (the AEAD tag decides). When only the application
//!   secrets were logged, each record is tried with them until one opens (the handshake
//!   records before it stay opaque).
//! - After a capture gap the sequence number of the next record is unknown: it is searched
//!   forward from the expected one, at most [`SEQ_SEARCH`] candidates.
//! - A key log that is still being written ([`KeyLog::growing`]) may hold part of a
//!   session's lines: a side without any secret of its own is then `Waiting`, not given up.
//!   The dissector does not even hand a side's records here before [`secrets_logged`] says
//!   all of that side's secrets are in (it keeps them meanwhile, see `late.rs`), so they
//!   open from the first one, as with a key log known from the start.
//!
//! Every failure is counted; the first few are warnings on the connection. Nothing that
//! failed authentication is ever handed upward. Once a side's record opened whole, its next
//! application-data records may be read in parts without their tags checked
//! (`ConnKeys::unsealed`): the key is proven, and a byte damaged in a part never read
//! changes nothing reported.

use crate::decrypt::{
    suite, BulkCipher, DecryptError, KeyLog, RecordDecryptor, SecretKind, SessionSecrets, Unsealed,
};

/// Sequence numbers tried after a gap before a direction gives up on that record.
pub const SEQ_SEARCH: u64 = 512;
/// Records in a row whose sequence number the search did not find before a side is given up
/// (a loss of more than [`SEQ_SEARCH`] records, or keys that do not fit): searching every
/// record of a long connection would cost [`SEQ_SEARCH`] trial decryptions each.
pub const MAX_FAILED_SEARCHES: u32 = 8;

/// What the handshake tells the key state (all from clear-text hellos).
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub version: u16,
    pub cipher: u16,
    pub encrypt_then_mac: bool,
    pub tls13: bool,
    pub early_data_offered: bool,
}

#[derive(Debug, Default)]
enum Setup {
    #[default]
    NotTried,
    Ready,
    /// No secrets for this client random in the key log at this [`KeyLog::generation`]:
    /// tried again when it moves (a live capture reads the browser's log as it is written).
    Waiting(u64),
    Unavailable,
}

#[derive(Debug, Default)]
struct DirKeys {
    setup: Setup,
    current: Option<RecordDecryptor>,
    /// TLS 1.3 client: the 0-RTT key, tried when `current` fails.
    early: Option<RecordDecryptor>,
    /// TLS 1.3: `*_TRAFFIC_SECRET_0` decryptor, used after this side's Finished (or tried
    /// on every record when the handshake secret is missing).
    app: Option<RecordDecryptor>,
    /// `current` is the handshake key and `app` waits for the Finished.
    in_handshake: bool,
    /// Bytes lost since the last record that opened: search the sequence number.
    lost: bool,
    /// Protected records of this side seen so far, opened or not.
    seen: u64,
    /// Searches in a row that found no sequence number.
    failed_searches: u32,
    /// The last record of this side opened whole (its tag checked) with `current`, out of
    /// the handshake, and no gap or key change came since: the key and the sequence number
    /// are known good, so the next record may be read in parts ([`ConnKeys::unsealed`]).
    proven: bool,
}

/// The outcome of one protected record.
#[derive(Debug)]
pub enum Opened {
    /// Decrypted into the caller's buffer; the real content type.
    Plain(u8),
    /// A TLS 1.3 change_cipher_spec: not encrypted, read it as clear text.
    Clear,
    /// No keys for this direction (nothing to report per record).
    NoKeys,
    /// Keys were there but the record did not open.
    Failed(DecryptError),
}

/// Why a connection cannot be decrypted, once per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The key log has no line for this client random.
    NoSecrets,
    /// The suite is not one we decrypt.
    Suite(u16),
    /// The secrets logged do not fit the negotiated protocol.
    WrongSecrets(&'static str),
    /// Building the keys failed.
    Setup(DecryptError),
    /// After a gap, [`MAX_FAILED_SEARCHES`] records in a row did not open at any sequence
    /// number searched: the rest of this side stays encrypted.
    LostTrack,
}

/// Decryption state of one connection.
#[derive(Debug, Default)]
pub struct ConnKeys {
    dirs: [DirKeys; 2],
    /// Records decrypted, and records with keys that did not open.
    pub opened: u64,
    pub failed: u64,
    /// Set when a side's secrets came after it had sent protected records: how many went by
    /// undecrypted. Taken by the caller ([`ConnKeys::take_late`]) right after [`ConnKeys::open`].
    late: Option<u64>,
}

impl ConnKeys {
    /// Opens one protected record `(content_type, version, fragment)` sent by the client or
    /// the server (TLS roles, not TCP directions), writing the plaintext into `out`.
    /// `facts` is `None` until both hellos were seen. Returns the setup problem the first
    /// time a direction finds it cannot decrypt.
    /// [`Self::open`] would hand back [`Opened::NoKeys`] for a record of this side now,
    /// without reading it: no session facts yet (`has_facts`), an empty key log, secrets
    /// found missing at this generation of the key log, or keys that cannot be had.
    pub fn would_not_open(&self, from_client: bool, has_facts: bool, keys: &KeyLog) -> bool {
        match self.dirs[usize::from(!from_client)].setup {
            Setup::Ready => false,
            Setup::Unavailable => true,
            Setup::Waiting(n) => n == keys.generation() || keys.is_empty(),
            Setup::NotTried => !has_facts || keys.is_empty(),
        }
    }

    pub fn open(
        &mut self,
        from_client: bool,
        facts: Option<&SessionFacts>,
        keys: &KeyLog,
        (content_type, version, payload): (u8, u16, &[u8]),
        out: &mut Vec<u8>,
    ) -> (Opened, Option<Unavailable>) {
        let d = &mut self.dirs[usize::from(!from_client)];
        let seen = d.seen;
        d.seen += 1;
        let mut problem = None;
        let retry = match d.setup {
            Setup::NotTried => true,
            Setup::Waiting(n) => n != keys.generation(),
            _ => false,
        };
        if retry {
            let Some(facts) = facts else {
                return (Opened::NoKeys, None);
            };
            if keys.is_empty() {
                d.setup = Setup::Waiting(keys.generation());
                return (Opened::NoKeys, None);
            }
            match setup(d, facts, keys, from_client) {
                Ok(()) => {
                    d.setup = Setup::Ready;
                    if seen > 0 {
                        self.late = Some(seen);
                        // Keys that came late: this side already sent `seen` records under
                        // the current key (or some under the next one). Start there and let
                        // the search find the exact sequence number.
                        if let Some(c) = &mut d.current {
                            c.set_seq(seen);
                        }
                        d.lost = true;
                    }
                }
                Err(Unavailable::NoSecrets) => d.setup = Setup::Waiting(keys.generation()),
                Err(u) => {
                    d.setup = Setup::Unavailable;
                    problem = Some(u);
                }
            }
        }
        if !matches!(d.setup, Setup::Ready) {
            return (Opened::NoKeys, problem);
        }
        let searched = d.lost;
        let r = open_record(d, content_type, version, payload, out);
        d.proven = matches!(r, Opened::Plain(_)) && !d.in_handshake && d.early.is_none();
        match &r {
            Opened::Plain(_) => {
                self.opened += 1;
                d.lost = false;
                d.failed_searches = 0;
            }
            Opened::Failed(_) => {
                self.failed += 1;
                if searched {
                    // The record took a number too: the next search starts after it.
                    if let Some(c) = &mut d.current {
                        c.set_seq(c.seq().wrapping_add(1));
                    }
                    d.failed_searches += 1;
                    if d.failed_searches >= MAX_FAILED_SEARCHES {
                        d.setup = Setup::Unavailable;
                        problem = Some(Unavailable::LostTrack);
                    }
                }
            }
            _ => {}
        }
        (r, problem)
    }

    /// The next protected record of this side, to be read in parts without its tag checked
    /// ([`Unsealed`]), when the last one opened whole with the same key
    /// ([`DirKeys::proven`]) and this one is AES-GCM application data (in TLS 1.3, without
    /// padding). It counts as opened and takes its sequence number; `None` leaves the
    /// record to [`Self::open`].
    pub(crate) fn unsealed<'p>(
        &mut self,
        from_client: bool,
        content_type: u8,
        payload: &'p [u8],
        scratch: &mut Vec<u8>,
    ) -> Option<Unsealed<'p>> {
        let d = &mut self.dirs[usize::from(!from_client)];
        if !d.proven || d.lost || !matches!(d.setup, Setup::Ready) {
            return None;
        }
        let u = d
            .current
            .as_mut()?
            .unsealed(content_type, payload, scratch)?;
        d.seen += 1;
        self.opened += 1;
        Some(u)
    }

    /// Whether some side sent protected records for which the key log had no secrets, in
    /// the end (said once, at the close, since a live key log may still bring them).
    pub fn missing_secrets(&self, keys: &KeyLog) -> bool {
        !keys.is_empty()
            && self
                .dirs
                .iter()
                .any(|d| matches!(d.setup, Setup::Waiting(_)) && d.seen > 0)
    }

    /// How many protected records the side just opened sent before its secrets came (once
    /// per side).
    pub fn take_late(&mut self) -> Option<u64> {
        self.late.take()
    }

    /// Bytes of this direction were lost: the next record's sequence number is unknown.
    pub fn lost(&mut self, from_client: bool) {
        let d = &mut self.dirs[usize::from(!from_client)];
        d.lost = true;
        d.proven = false;
    }

    /// TLS 1.3: this side's Finished was decrypted; its next record uses the application
    /// traffic secret.
    pub fn finished(&mut self, from_client: bool) {
        let d = &mut self.dirs[usize::from(!from_client)];
        d.proven = false;
        if d.in_handshake {
            if let Some(app) = d.app.take() {
                d.current = Some(app);
            }
            d.in_handshake = false;
            d.early = None;
        }
    }

    /// TLS 1.3: this side sent a KeyUpdate; its next record uses the next secret.
    pub fn key_update(&mut self, from_client: bool) -> Result<(), DecryptError> {
        let d = &mut self.dirs[usize::from(!from_client)];
        d.proven = false;
        match (&mut d.current, d.in_handshake) {
            (Some(c), false) => c.key_update(),
            _ => Ok(()),
        }
    }

    /// The plaintext a record of `ciphertext_len` bytes carried, when the suite makes it
    /// exact (AEAD; TLS 1.3 assumes no padding); `None` without keys or for CBC.
    pub fn plaintext_len(&self, from_client: bool, ciphertext_len: usize) -> Option<u64> {
        let dec = self.dirs[usize::from(!from_client)].current.as_ref()?;
        let s = dec.suite();
        let overhead = match (s.cipher, dec.is_tls13()) {
            (_, true) => 17,
            (BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm, false) => 24,
            (BulkCipher::ChaCha20Poly1305, false) => 16,
            _ => return None,
        };
        Some(ciphertext_len.saturating_sub(overhead) as u64)
    }

    /// Whether a direction has keys.
    pub fn ready(&self, from_client: bool) -> bool {
        matches!(self.dirs[usize::from(!from_client)].setup, Setup::Ready)
    }

    /// Whether a direction has not built its keys yet and may still (never tried, or the
    /// key log had no secrets for it so far).
    pub fn awaiting(&self, from_client: bool) -> bool {
        matches!(
            self.dirs[usize::from(!from_client)].setup,
            Setup::NotTried | Setup::Waiting(_)
        )
    }
}

/// Whether the key log holds every secret one side's records need: TLS <= 1.2 the master
/// secret; TLS 1.3 the side's handshake and first application traffic secrets (a client
/// logs them a moment apart, around the server's Finished).
pub fn secrets_logged(f: &SessionFacts, keys: &KeyLog, from_client: bool) -> bool {
    let Some(secrets) = keys.lookup(&f.client_random) else {
        return false;
    };
    if !f.tls13 {
        return secrets.master_secret().is_some();
    }
    let (hs, app) = if from_client {
        (SecretKind::ClientHandshake, SecretKind::ClientTraffic0)
    } else {
        (SecretKind::ServerHandshake, SecretKind::ServerTraffic0)
    };
    secrets.get(hs).is_some() && secrets.get(app).is_some()
}

fn setup(
    d: &mut DirKeys,
    f: &SessionFacts,
    keys: &KeyLog,
    from_client: bool,
) -> Result<(), Unavailable> {
    let secrets: &SessionSecrets = keys
        .lookup(&f.client_random)
        .ok_or(Unavailable::NoSecrets)?;
    let suite = suite(f.cipher).ok_or(Unavailable::Suite(f.cipher))?;
    if !f.tls13 {
        let master = secrets.master_secret().ok_or(if keys.growing() {
            // The line may still come.
            Unavailable::NoSecrets
        } else {
            Unavailable::WrongSecrets("no CLIENT_RANDOM line for a TLS 1.2 session")
        })?;
        let dec = RecordDecryptor::tls1x(
            f.version,
            suite,
            master,
            &f.client_random,
            &f.server_random,
            from_client,
            f.encrypt_then_mac,
        )
        .map_err(Unavailable::Setup)?;
        d.current = Some(dec);
        return Ok(());
    }
    let (hs, app) = if from_client {
        (SecretKind::ClientHandshake, SecretKind::ClientTraffic0)
    } else {
        (SecretKind::ServerHandshake, SecretKind::ServerTraffic0)
    };
    let build = |k| {
        secrets
            .get(k)
            .map(|s| RecordDecryptor::tls13(suite, s).map_err(Unavailable::Setup))
            .transpose()
    };
    let hs = build(hs)?;
    let app = build(app)?;
    if from_client && f.early_data_offered {
        d.early = build(SecretKind::ClientEarly)?;
    }
    match (hs, app) {
        (Some(hs), app) => {
            d.current = Some(hs);
            d.app = app;
            d.in_handshake = true;
        }
        (None, Some(app)) => {
            // Only the application secret: tried on every record until one opens.
            d.app = Some(app);
            d.in_handshake = true;
        }
        // A key log still being written may have this session's other lines first.
        (None, None) if keys.growing() => return Err(Unavailable::NoSecrets),
        (None, None) => {
            return Err(Unavailable::WrongSecrets(
                "no TLS 1.3 traffic secret for this side",
            ))
        }
    }
    Ok(())
}

/// Tries `dec` at its sequence number (or, after a gap, at the next [`SEQ_SEARCH`]); on
/// failure leaves the sequence number where it was.
fn try_open(
    dec: &mut RecordDecryptor,
    search: bool,
    content_type: u8,
    version: u16,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<u8, DecryptError> {
    let seq0 = dec.seq();
    let tries = if search { SEQ_SEARCH } else { 1 };
    let mut first_err = None;
    for k in 0..tries {
        dec.set_seq(seq0.wrapping_add(k));
        match dec.decrypt(content_type, version, payload, out) {
            Ok(t) => return Ok(t),
            // Not a key or sequence problem: no other sequence number will help.
            Err(e @ (DecryptError::BadLength(_) | DecryptError::RecordOverflow(_))) => {
                dec.set_seq(seq0);
                return Err(e);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    dec.set_seq(seq0);
    Err(first_err.unwrap_or(DecryptError::AuthFailed))
}

fn open_record(
    d: &mut DirKeys,
    content_type: u8,
    version: u16,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Opened {
    let search = d.lost;
    let mut err = None;
    if let Some(cur) = &mut d.current {
        match try_open(cur, search, content_type, version, payload, out) {
            Ok(t) => return Opened::Plain(t),
            Err(DecryptError::NotEncrypted) => return Opened::Clear,
            Err(e) => {
                // The record took a sequence number of the sender's whatever we made of it.
                if !search {
                    cur.set_seq(cur.seq().wrapping_add(1));
                }
                err = Some(e);
            }
        }
    }
    if let Some(early) = &mut d.early {
        if let Ok(t) = try_open(early, search, content_type, version, payload, out) {
            if let Some(cur) = &mut d.current {
                // The record was 0-RTT data, not a handshake record: give the number back.
                if !search {
                    cur.set_seq(cur.seq().wrapping_sub(1));
                }
            }
            return Opened::Plain(t);
        }
    }
    if d.in_handshake && d.current.is_some() && d.lost {
        // Keys that came late, or a gap: the handshake may be over on this side.
        if let Some(app) = &mut d.app {
            if let Ok(t) = try_open(app, true, content_type, version, payload, out) {
                d.current = d.app.take();
                d.in_handshake = false;
                d.early = None;
                return Opened::Plain(t);
            }
        }
    }
    if d.current.is_none() {
        // Only the application secret is known: each record is a candidate.
        if let Some(app) = &mut d.app {
            match try_open(app, search, content_type, version, payload, out) {
                Ok(t) => {
                    d.current = d.app.take();
                    d.in_handshake = false;
                    return Opened::Plain(t);
                }
                Err(DecryptError::NotEncrypted) => return Opened::Clear,
                Err(_) => return Opened::NoKeys,
            }
        }
    }
    out.clear();
    Opened::Failed(err.unwrap_or(DecryptError::AuthFailed))
}
