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
pub enum QuicProto {
    /// No stream data yet.
    Undecided,
    Http3(Box<Http3Dissector>),
    Doq(Box<DoqStreams>),
    /// An ALPN pagetrace does not decode: stream bytes are only counted.
    Other,
}

/// The pipeline's state for one QUIC connection: its application, and the DNS messages
/// it carried (DNS over QUIC, DoH inside HTTP/3) with the frame that completed each.
pub struct QuicApp {
    proto: QuicProto,
    dns: Vec<(DohMessage, u64)>,
}

/// Drives a QUIC connection's application from its stream events.
pub struct QuicDriver {
    pub body_hash: bool,
}

impl QuicHandler<QuicApp> for QuicDriver {
    fn open(&mut self, _meta: &QuicMeta) -> QuicApp {
        QuicApp {
            proto: QuicProto::Undecided,
            dns: Vec::new(),
        }
    }

    fn stream(
        &mut self,
        app: &mut QuicApp,
        alpn: Option<&str>,
        ev: &StreamEvent<'_>,
        ctx: &mut StreamCtx,
    ) {
        if let QuicProto::Undecided = app.proto {
            app.proto = match alpn {
                Some(a) if a == "h3" || a.starts_with("h3-") => {
                    QuicProto::Http3(Box::new(Http3Dissector::new(self.body_hash)))
                }
                Some(a) if a == "doq" || a.starts_with("doq-") => QuicProto::Doq(Box::default()),
                _ => QuicProto::Other,
            };
        }
        match &mut app.proto {
            QuicProto::Http3(h) => {
                h.handle_event(ev, ctx);
                // A DoH message is whole at the packet being handled.
                let frame = ctx.packet;
                app.dns
                    .extend(h.take_doh_messages().into_iter().map(|m| (m, frame)));
            }
            QuicProto::Doq(d) => {
                d.handle_event(ev, ctx);
                app.dns.extend(d.take_messages());
            }
            QuicProto::Undecided | QuicProto::Other => {}
        }
    }

    fn closed(&mut self, app: &mut QuicApp, ts: Ts, ctx: &mut StreamCtx) {
        if let QuicProto::Http3(h) = &mut app.proto {
            h.handle_close(ts, ctx);
            let frame = ctx.packet;
            app.dns
                .extend(h.take_doh_messages().into_iter().map(|m| (m, frame)));
        }
    }
}

impl QuicApp {
    /// The HTTP/3 exchanges, in stream order.
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        match &mut self.proto {
            QuicProto::Http3(h) => h.take_exchanges(),
            _ => Vec::new(),
        }
    }

    /// DNS messages (DNS over QUIC, DoH inside HTTP/3), each with the frame that completed
    /// it.
    pub fn take_dns(&mut self) -> Vec<(DohMessage, u64)> {
        std::mem::take(&mut self.dns)
    }

    /// Whether the messages of [`QuicApp::take_dns`] are DNS over QUIC (else DoH).
    pub fn is_doq(&self) -> bool {
        matches!(self.proto, QuicProto::Doq(_))
    }
}
