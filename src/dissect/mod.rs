//! Application dissectors on reassembled streams, and the choice between them.
//!
//! [`App`] receives a connection's two byte streams (see [`stream`] for the contract) and
//! decides what they carry **by content**, the port being only a hint (STYLE principle 12):
//! the first bytes either side sends are tested against TLS records, HTTP/1.x request and
//! response lines, the HTTP/2 preface, and DNS length-prefixed messages (port 53 only: DNS
//! has no magic). Until a decision is made nothing is buffered beyond the first segment;
//! a stream nothing recognises is counted only (`unknown`).

#[path = "dns_tmp.rs"]
pub mod dns;
pub mod stream;

use stream::{Dir, StreamCtx};

use crate::dissect::dns::DnsMessage;
use crate::pageload::model::{HttpExchange, TlsInfo};
use crate::time::Ts;

/// What a connection carries, once decided.
pub enum App {
    /// Nothing decided yet.
    Undecided { server_port: u16, tried: [bool; 2] },
    /// Nothing recognised the stream; bytes are only counted.
    Unknown,
}

impl App {
    pub fn new(server_port: u16, _client_port: u16) -> App {
        App::Undecided {
            server_port,
            tried: [false, false],
        }
    }

    /// The protocol name for the report.
    pub fn protocol(&self) -> Option<&'static str> {
        match self {
            App::Undecided { .. } => None,
            App::Unknown => Some("unknown"),
        }
    }

    pub fn handle_data(&mut self, dir: Dir, _ts: Ts, data: &[u8], _ctx: &mut StreamCtx) {
        if let App::Undecided { tried, .. } = self {
            if data.is_empty() {
                return;
            }
            tried[dir.index()] = true;
            if tried[0] && tried[1] {
                *self = App::Unknown;
            }
        }
    }

    /// The TLS handshake, when the connection carried TLS.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        None
    }

    /// HTTP exchanges completed so far (all of them after `handle_close`).
    pub fn take_exchanges(&mut self) -> Vec<HttpExchange> {
        Vec::new()
    }

    /// DNS messages carried over TCP, with the direction and time of each.
    pub fn take_dns_messages(&mut self) -> Vec<(Dir, Ts, DnsMessage)> {
        Vec::new()
    }

    pub fn handle_gap(&mut self, _dir: Dir, _len: u64, _ts: Ts, _ctx: &mut StreamCtx) {}

    pub fn handle_close(&mut self, _ts: Ts, _ctx: &mut StreamCtx) {}
}
