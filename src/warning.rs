//! Warnings: a problem found in the input, counted and reported, never the end of the run.
//!
//! Shared by every layer (like [`crate::time`]): a reader, a dissector or the TCP stage
//! records a [`Warning`] with a [`WarningKind`] from a closed set and a message in words;
//! the report lists them as they are. The kind is what scripts and the summaries match on,
//! the message is for people.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What went wrong, in a word the report spells in lowercase (`"malformed"`, `"cap"`, ...).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum WarningKind {
    /// Cut short: by the snaplen, the end of the file, or the end of a stream.
    Truncated,
    /// Bytes that do not parse as the protocol they claim to be.
    Malformed,
    /// A buffer or table reached its cap; what went past it was counted, not kept.
    Cap,
    /// Bytes the capture never saw (loss inside a TCP stream).
    Gap,
    /// A record or packet that did not authenticate with the keys it should open with.
    Decrypt,
    /// Secrets missing, late or unusable for a session.
    Keys,
    /// A key log line that is not an NSS key log line.
    Keylog,
    /// A protocol step out of place (a second ServerHello, a hello from the wrong side).
    Unexpected,
    /// A capture file damaged beyond a cut (an impossible record length, a bad block).
    Corrupt,
    /// TCP handshake inconsistencies.
    Tcp,
    /// UDP problems.
    Udp,
    /// A link type or protocol that is not decoded.
    Unsupported,
    /// A stream no dissector recognised on a port that promised one.
    Unknown,
    /// An obsolete protocol form (SSL 2.0 hello).
    Legacy,
    /// Reading the input failed.
    Io,
    /// The HPACK dynamic table lost its footing.
    Hpack,
    /// IP fragments that could not be reassembled.
    Fragment,
    /// HTTP/2 framing or stream-state problems.
    Http2,
    /// A kind this build does not know (a report written by a newer pagetrace).
    #[serde(other)]
    Other,
}

impl WarningKind {
    /// The word the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Truncated => "truncated",
            WarningKind::Malformed => "malformed",
            WarningKind::Cap => "cap",
            WarningKind::Gap => "gap",
            WarningKind::Decrypt => "decrypt",
            WarningKind::Keys => "keys",
            WarningKind::Keylog => "keylog",
            WarningKind::Unexpected => "unexpected",
            WarningKind::Corrupt => "corrupt",
            WarningKind::Tcp => "tcp",
            WarningKind::Udp => "udp",
            WarningKind::Unsupported => "unsupported",
            WarningKind::Unknown => "unknown",
            WarningKind::Legacy => "legacy",
            WarningKind::Io => "io",
            WarningKind::Hpack => "hpack",
            WarningKind::Fragment => "fragment",
            WarningKind::Http2 => "http2",
            WarningKind::Other => "other",
        }
    }
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in the input: a counted event, never the end of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Warning {
    /// 1-based frame number, as tshark and Wireshark count them; `None` when not tied to one.
    pub packet: Option<u64>,
    pub kind: WarningKind,
    // A constant (most are) costs no allocation: a flood's million connections each carry
    // one.
    pub message: Cow<'static, str>,
}

impl Warning {
    pub fn new(
        packet: Option<u64>,
        kind: WarningKind,
        message: impl Into<Cow<'static, str>>,
    ) -> Warning {
        Warning {
            packet,
            kind,
            message: message.into(),
        }
    }
}

/// A cap on a table of the whole capture (not of one connection's buffers, which warn on
/// that connection). Hitting one is counted where it happens ([`CapCount`]) and said once,
/// in one capture warning at the end that the cap on listed warnings never suppresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cap {
    /// Live TCP connections: the least recently active one is finished early.
    FlowTable,
    /// Segments of connections the flow table finished early, counted and not analyzed
    /// (they would have started a new record caught mid-stream each).
    AfterEviction,
    /// QUIC connections at once: the least recently active one is reported early.
    QuicTable,
    /// DNS queries waiting for an answer: the oldest one stops waiting.
    DnsPending,
    /// IP datagrams being reassembled: fragments of further datagrams are dropped.
    FragmentDatagrams,
    /// Bytes of IP fragments buffered: fragments past it are dropped.
    FragmentBytes,
    /// TCP 5-tuples numbered as tshark's `tcp.stream`: later connections carry none.
    TcpStreams,
    /// UDP 5-tuples numbered as tshark's `udp.stream`: later QUIC connections carry none.
    UdpStreams,
}

/// How often a [`Cap`] was hit, and at which frame first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapCount {
    pub count: u64,
    pub first_frame: Option<u64>,
}

impl CapCount {
    /// The cap was hit once more, by frame `frame` when there is one.
    pub fn hit(&mut self, frame: Option<u64>) {
        if self.count == 0 {
            self.first_frame = frame;
        }
        self.count += 1;
    }
}

impl Cap {
    /// The one warning that says the cap, of `limit`, was hit: kind [`WarningKind::Cap`], at
    /// the first frame that hit it.
    pub fn warning(self, limit: usize, n: CapCount) -> Warning {
        let count = n.count;
        let message = match self {
            Cap::FlowTable => format!(
                "flow table full ({limit} TCP connections at once; --max-connections raises \
                 it): {count} connections finished early, the least recently active first"
            ),
            Cap::AfterEviction => format!(
                "{count} later TCP segments of connections finished early for room were \
                 counted, not analyzed (a SYN on the same 5-tuple starts a new connection)"
            ),
            Cap::QuicTable => format!(
                "QUIC table full ({limit} connections at once): {count} connections \
                 reported early, the least recently active first"
            ),
            Cap::DnsPending => format!(
                "{limit} DNS queries waiting for an answer at once: {count} stopped waiting, \
                 the oldest first (an answer that comes later stands alone)"
            ),
            Cap::FragmentDatagrams => format!(
                "{limit} fragmented IP datagrams in reassembly at once: {count} fragments of \
                 further datagrams dropped"
            ),
            Cap::FragmentBytes => {
                format!("IP fragment buffer full ({limit} bytes): {count} fragments dropped")
            }
            Cap::TcpStreams => format!(
                "{limit} TCP 5-tuples numbered as tcp.stream: {count} later connections carry \
                 no stream number"
            ),
            Cap::UdpStreams => format!(
                "{limit} UDP 5-tuples numbered as udp.stream: {count} datagrams of later ones carry \
                 no stream number"
            ),
        };
        Warning::new(n.first_frame, WarningKind::Cap, message)
    }
}
