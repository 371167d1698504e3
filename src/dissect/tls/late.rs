//! Records kept while their secrets are not in the key log yet: keys that come late.
//!
//! # Why
//! A live capture reads the browser's key log as it is written. In TLS 1.3 the server's
//! EncryptedExtensions, Certificate, CertificateVerify and Finished come in the same flight
//! as its ServerHello, so they are captured before the client has even derived the
//! handshake secrets, let alone logged them; a TLS 1.2 server's Finished and a client's first
//! application data can be too. Handled as they came, they could not be opened: no ALPN, no
//! certificate chain, no first request.
//!
//! # Contract
//! - **Only while the key log is growing**
//!   ([`KeyLog::growing`](crate::decrypt::KeyLog::growing)): a live capture following a key
//!   log, or a file such a capture wrote (it opens with an empty Decryption Secrets Block
//!   that says so). A key log known from the start has a session's secrets or never will,
//!   and without a key log there is nothing to wait for: nothing is kept, memory stays flat,
//!   results are those of the plain path.
//! - **What is kept:** once both hellos were seen, the first protected record of a side whose
//!   secrets are not all logged yet ([`secrets_logged`](super::keys::secrets_logged)), and
//!   from there every frame event of the connection, both directions, in arrival order, each
//!   with its capture times and frame number. Both directions, because what a record means
//!   can depend on what the other side sent before it (a TLS 1.3 client's Finished ends the
//!   server's flight).
//! - **Replay:** when the key log moved (its
//!   [`generation`](crate::decrypt::KeyLog::generation)), at the connection's next frame
//!   event or its close, the kept events go through the dissector's ordinary path, in order,
//!   with their own times and frame numbers (as if they had just arrived), up to the next
//!   record whose side still lacks its secrets. Handshake timing, the ALPN, the certificates
//!   and the application data come out as from a saved capture with its whole key log.
//! - **Bounded:** at most [`MAX_KEPT_RECORDS`] events and [`MAX_KEPT_BYTES`] of record
//!   payload per connection (both directions together). Past either, or when the connection
//!   ends with secrets still missing, everything kept is replayed at once as it would have
//!   gone without keeping: records without keys are counted in their side's warning ("the
//!   secrets came after N of its protected records", or "no secrets" at the close), and the
//!   connection keeps nothing more.

use std::collections::VecDeque;

use super::record::FrameEvent;
use crate::dissect::stream::Dir;
use crate::time::Ts;

/// Most frame events one connection keeps while waiting for secrets: a server's TLS 1.3
/// flight is 4 to 6 records, a client's Finished and first request 2 more.
pub const MAX_KEPT_RECORDS: usize = 64;
/// Most record payload bytes one connection keeps while waiting for secrets (a certificate
/// chain is a few KiB; a response that started meanwhile may be more).
pub const MAX_KEPT_BYTES: usize = 256 << 10;

/// One frame event, owned.
#[derive(Debug)]
enum Event {
    Record {
        content_type: u8,
        version: u16,
        payload: Vec<u8>,
        ts: Ts,
        end_ts: Ts,
    },
    Opaque {
        version: u16,
        len: usize,
        ts: Ts,
        end_ts: Ts,
    },
    Sslv2 {
        body: Vec<u8>,
        ts: Ts,
    },
    Lost {
        content_type: Option<u8>,
        record_len: Option<usize>,
    },
}

/// A kept frame event with what it arrived with.
#[derive(Debug)]
pub struct Kept {
    pub dir: Dir,
    /// The frame it arrived in (warnings name it).
    pub frame: u64,
    /// The capture time of the last gap when it arrived (a `Lost` event's plaintext gap).
    pub gap_ts: Ts,
    event: Event,
}

impl Kept {
    pub fn new(dir: Dir, frame: u64, gap_ts: Ts, ev: &FrameEvent<'_>) -> Kept {
        let event = match *ev {
            FrameEvent::Record {
                content_type,
                version,
                payload,
                ts,
                end_ts,
            } => Event::Record {
                content_type,
                version,
                payload: payload.to_vec(),
                ts,
                end_ts,
            },
            FrameEvent::Opaque {
                version,
                len,
                ts,
                end_ts,
            } => Event::Opaque {
                version,
                len,
                ts,
                end_ts,
            },
            FrameEvent::Sslv2 { body, ts } => Event::Sslv2 {
                body: body.to_vec(),
                ts,
            },
            FrameEvent::Lost {
                content_type,
                record_len,
            } => Event::Lost {
                content_type,
                record_len,
            },
        };
        Kept {
            dir,
            frame,
            gap_ts,
            event,
        }
    }

    /// The event as the framer handed it out.
    pub fn event(&self) -> FrameEvent<'_> {
        match &self.event {
            Event::Record {
                content_type,
                version,
                payload,
                ts,
                end_ts,
            } => FrameEvent::Record {
                content_type: *content_type,
                version: *version,
                payload,
                ts: *ts,
                end_ts: *end_ts,
            },
            Event::Opaque {
                version,
                len,
                ts,
                end_ts,
            } => FrameEvent::Opaque {
                version: *version,
                len: *len,
                ts: *ts,
                end_ts: *end_ts,
            },
            Event::Sslv2 { body, ts } => FrameEvent::Sslv2 { body, ts: *ts },
            Event::Lost {
                content_type,
                record_len,
            } => FrameEvent::Lost {
                content_type: *content_type,
                record_len: *record_len,
            },
        }
    }

    /// The record's content type and payload, for a record.
    pub fn record(&self) -> Option<(u8, &[u8])> {
        match &self.event {
            Event::Record {
                content_type,
                payload,
                ..
            } => Some((*content_type, payload)),
            _ => None,
        }
    }

    fn bytes(&self) -> usize {
        match &self.event {
            Event::Record { payload, .. } => payload.len(),
            Event::Sslv2 { body, .. } => body.len(),
            Event::Opaque { .. } | Event::Lost { .. } => 0,
        }
    }
}

/// The kept events of one connection (see the module doc).
#[derive(Debug, Default)]
pub struct KeptRecords {
    queue: VecDeque<Kept>,
    bytes: usize,
    /// The key log's generation when the first kept record last found its secrets missing.
    pub tried_at: u64,
    /// Nothing more is kept on this connection (a cap was hit, or it ended).
    pub closed: bool,
    /// A cap was hit: records went by without keys although the key log was followed.
    pub overflowed: bool,
}

impl KeptRecords {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Frame events kept now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Keeps `k` at the end; gives it back when it would pass [`MAX_KEPT_RECORDS`] or
    /// [`MAX_KEPT_BYTES`].
    pub fn push(&mut self, k: Kept) -> Result<(), Kept> {
        let bytes = self.bytes.saturating_add(k.bytes());
        if self.queue.len() >= MAX_KEPT_RECORDS || bytes > MAX_KEPT_BYTES {
            return Err(k);
        }
        self.bytes = bytes;
        self.queue.push_back(k);
        Ok(())
    }

    pub fn front(&self) -> Option<&Kept> {
        self.queue.front()
    }

    pub fn pop(&mut self) -> Option<Kept> {
        let k = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(k.bytes());
        Some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: usize) -> Kept {
        let payload = vec![0u8; len];
        let ev = FrameEvent::Record {
            content_type: 23,
            version: 0x0303,
            payload: &payload,
            ts: Ts(1),
            end_ts: Ts(2),
        };
        Kept::new(Dir::ToClient, 7, Ts(0), &ev)
    }

    #[test]
    fn caps_on_records_and_bytes() {
        let mut k = KeptRecords::default();
        for _ in 0..MAX_KEPT_RECORDS {
            assert!(k.push(record(1)).is_ok());
        }
        assert!(k.push(record(1)).is_err());
        let mut k = KeptRecords::default();
        assert!(k.push(record(MAX_KEPT_BYTES - 10)).is_ok());
        assert!(k.push(record(11)).is_err());
        assert!(k.push(record(10)).is_ok());
        assert!(k.pop().is_some());
        assert!(k.push(record(100)).is_ok());
    }

    #[test]
    fn an_event_comes_back_as_it_went_in() {
        let k = record(3);
        match k.event() {
            FrameEvent::Record {
                content_type,
                version,
                payload,
                ts,
                end_ts,
            } => {
                assert_eq!(
                    (content_type, version, payload),
                    (23, 0x0303, &[0u8; 3][..])
                );
                assert_eq!((ts, end_ts), (Ts(1), Ts(2)));
            }
            _ => panic!("not a record"),
        }
        assert_eq!((k.frame, k.dir), (7, Dir::ToClient));
    }
}
