//! The application side of a QUIC connection: what its streams carry, decided by the ALPN
//! the handshake agreed on (`h3` → HTTP/3, `doq` → DNS over QUIC), else by the only
//! protocol the client offered.

use crate::dissect::dns::doh::DohMessage;
use crate::dissect::dns::doq::DoqStreams;
use crate::dissect::http::Exchange;
use crate::dissect::http3::Http3Dissector;
use crate::dissect::quic::streams::StreamEvent;
use crate::dissect::quic::{QuicHandler, QuicMeta};
use crate::dissect::stream::StreamCtx;
use crate::time::Ts;

/// What a QUIC connection's streams carry.
pub enum QuicApp {
    /// No stream data yet.
    Undecided,
    Http3(Box<Http3Dissector>),
    Doq(Box<DoqStreams>),
    /// An ALPN pagetrace does not decode: stream bytes are only counted.
    Other,
}

/// Drives a QUIC connection's application from its stream events.
pub struct QuicDriver {
    pub body_hash: bool,
}

impl QuicHandler<QuicApp> for QuicDriver {
    fn open(&mut self, _meta: &QuicMeta) -> QuicApp {
        QuicApp::Undecided
    }

    fn stream(
        &mut self,
        app: &mut QuicApp,
        alpn: Option<&str>,
        ev: &StreamEvent<'_>,
        ctx: &mut StreamCtx,
    ) {
        if let QuicApp::Undecided = app {
            *app = match alpn {
                Some(a) if a == "h3" || a.starts_with("h3-") => {
                    QuicApp::Http3(Box::new(Http3Dissector::new(self.body_hash)))
                }
                Some(a) if a == "doq" || a.starts_with("doq-") => QuicApp::Doq(Box::default()),
                _ => QuicApp::Other,
            };
        }
        match app {
            QuicApp::Http3(h) => h.handle_event(ev, ctx),
            QuicApp::Doq(d) => d.handle_event(ev, ctx),
            QuicApp::Undecided | QuicApp::Other => {}
        }
    }

    fn closed(&mut self, app: &mut QuicApp, ts: Ts, ctx: &mut StreamCtx) {
        if let QuicApp::Http3(h) = app {
            h.handle_close(ts, ctx);
        }
    }
}

impl QuicApp {
    /// The HTTP/3 exchanges, in stream order.
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        match self {
            QuicApp::Http3(h) => h.take_exchanges(),
            _ => Vec::new(),
        }
    }

    /// DNS messages: DNS over QUIC (with the frame that completed each), and DNS over HTTPS
    /// inside HTTP/3 (no frame kept).
    pub fn take_dns(&mut self) -> Vec<(DohMessage, Option<u64>)> {
        match self {
            QuicApp::Http3(h) => h
                .take_doh_messages()
                .into_iter()
                .map(|m| (m, None))
                .collect(),
            QuicApp::Doq(d) => d
                .take_messages()
                .into_iter()
                .map(|(m, f)| (m, Some(f)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the messages of [`QuicApp::take_dns`] are DNS over QUIC (else DoH).
    pub fn is_doq(&self) -> bool {
        matches!(self, QuicApp::Doq(_))
    }
}
