//! The contract between TCP reassembly and the stream dissectors.
//!
//! Reassembly calls each dissector with, per direction, in stream order:
//! - `handle_data(dir, ts, bytes, ctx)`: the next bytes of the stream; `ts` (a `crate::time::Ts`) is the capture
//!   time of the segment that carried them (never of an ACK). A dissector may be handed a
//!   segment in several calls; it must not assume a call is a message.
//! - `handle_gap(dir, len, ts, ctx)`: `len` bytes were never captured (capture loss) at
//!   this point of the stream. The dissector resynchronises (record or frame boundaries)
//!   or gives up on that direction only, with a warning in `ctx`.
//! - `handle_close(ts, ctx)`: the connection ended (FIN, RST or end of capture).
//!
//! Dissectors never panic on input and keep bounded state; hitting a cap is a warning.

use crate::time::Ts;
use crate::warning::{Warning, WarningKind};

pub use crate::net::flow::Dir;

/// Most warnings one connection keeps; beyond this they are only counted.
pub const MAX_WARNINGS_PER_CONNECTION: usize = 64;

/// What a dissector may tell the connection it runs on.
#[derive(Debug, Default)]
pub struct StreamCtx {
    /// 1-based frame number of the packet being handled (for warnings).
    pub packet: u64,
    /// The bytes being handled are (or, above TLS, share a record with) bytes lost segments
    /// carried, arriving in the frames `first..=last` (resends or holes' fillers; see
    /// [`crate::tcp::reassembly::StreamSink::data`]). A dissector notes it on the exchanges
    /// those bytes belong to, so a loss on a connection shared by many (HTTP/2) is laid on
    /// the stream it carried, the others having only waited behind it. A range, as a record
    /// or a frame may hold the bytes of several resends: every frame of one direction between
    /// two of them that delivered late bytes delivered them into the same record.
    pub late: Option<Late>,
    /// When the bytes being handled began to arrive, when that is earlier than the time they
    /// are handed over at: the first byte of the TLS record that carried them (a record is
    /// read whole, so its plaintext is dated at its last byte). A response's first bytes were
    /// on the wire from then: time the server was not thinking.
    pub first_byte: Option<Ts>,
    pub warnings: Vec<Warning>,
    pub warnings_dropped: u64,
}

/// Frames `first..=last` delivered late bytes ([`StreamCtx::late`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Late {
    pub first: u64,
    pub last: u64,
}

impl Late {
    pub fn at(frame: u64) -> Late {
        Late {
            first: frame,
            last: frame,
        }
    }

    /// The frames of both.
    pub fn join(a: Option<Late>, b: Option<Late>) -> Option<Late> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Late {
                first: a.first.min(b.first),
                last: a.last.max(b.last),
            }),
            (a, b) => a.or(b),
        }
    }

    pub fn contains(&self, frame: u64) -> bool {
        (self.first..=self.last).contains(&frame)
    }
}

impl StreamCtx {
    pub fn new() -> StreamCtx {
        StreamCtx::default()
    }

    /// The frame being handled, `None` when the caller gave none (unit tests).
    pub fn frame(&self) -> Option<u64> {
        (self.packet > 0).then_some(self.packet)
    }

    /// Records a warning on this connection at the current packet.
    pub fn warn(&mut self, kind: WarningKind, message: impl Into<std::borrow::Cow<'static, str>>) {
        if self.warnings.len() < MAX_WARNINGS_PER_CONNECTION {
            self.warnings
                .push(Warning::new(Some(self.packet), kind, message));
        } else {
            self.warnings_dropped += 1;
        }
    }

    /// Records a warning that sums up the connection (a count of records that did not
    /// decrypt): listed whatever the number of warnings before it.
    pub fn warn_always(
        &mut self,
        kind: WarningKind,
        message: impl Into<std::borrow::Cow<'static, str>>,
    ) {
        self.warnings
            .push(Warning::new(Some(self.packet), kind, message));
    }
}

/// Where a decrypting dissector (TLS) hands the plaintext it recovers, in order per
/// direction, with the capture time of the record that carried it: the same contract as
/// reassembly gives the dissectors above it.
pub trait PlaintextSink {
    /// What the handshake said, told before the data: the ALPN it agreed on (e.g. `h2`), a
    /// hint for choosing the dissector when the bytes alone cannot (decryption that starts
    /// mid-connection has no HTTP/2 preface), and the SNI, the host for URLs whose requests
    /// lost their `:authority` to an HPACK table the capture never saw.
    fn session_hint(&mut self, _alpn: Option<&str>, _sni: Option<&str>) {}
    fn data(&mut self, dir: Dir, ts: Ts, bytes: &[u8], ctx: &mut StreamCtx);
    /// How many of `dir`'s next plaintext bytes the sink would only count (a body it
    /// neither hashes nor decodes), which a decryptor may then pass by unread through
    /// [`Self::skip`]; `None` for a sink that reads every byte (the default).
    fn skippable(&self, _dir: Dir) -> Option<u64> {
        None
    }
    /// `len` of `dir`'s next plaintext bytes, at most what [`Self::skippable`] allowed, went
    /// by unread: the sink counts them as it would have counted them in [`Self::data`].
    fn skip(&mut self, _dir: Dir, _ts: Ts, _len: u64, _ctx: &mut StreamCtx) {}
    /// Plaintext that could not be recovered (a record that failed to decrypt, a gap);
    /// `len` is `u64::MAX` when the amount is unknown (the dissector resynchronises).
    fn gap(&mut self, dir: Dir, len: u64, ts: Ts, ctx: &mut StreamCtx);
}

/// How a gap's length reads in a warning: `u64::MAX` is a plaintext gap of unknown size
/// (see [`PlaintextSink::gap`]).
pub fn gap_len(len: u64) -> String {
    if len == u64::MAX {
        "an unknown number of".to_string()
    } else {
        len.to_string()
    }
}
