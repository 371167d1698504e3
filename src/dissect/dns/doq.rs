//! DNS over QUIC (RFC 9250): each query and its response travel on one client-initiated
//! bidirectional stream, "encoded as a 2-octet length field followed by the message content
//! as specified in RFC 1035" (RFC 9250 4.2). Stream bytes in, whole DNS messages out, for
//! the DNS parser.

use std::collections::HashMap;

use super::doh::{DohMessage, MAX_DOH_MESSAGE};
use crate::dissect::quic::streams::StreamEvent;
use crate::dissect::stream::StreamCtx;
use crate::warning::WarningKind;

/// Streams buffered at once (a query and its answer each are small).
const MAX_STREAMS: usize = 1024;

/// The DNS messages of one DoQ connection's streams.
#[derive(Default)]
pub struct DoqStreams {
    /// Bytes of a message not yet whole, per (direction, stream).
    partial: HashMap<(usize, u64), Vec<u8>>,
    out: Vec<DohMessage>,
    /// Streams cut by a gap or the cap: their messages are not decoded.
    broken: u64,
}

impl DoqStreams {
    pub fn handle_event(&mut self, ev: &StreamEvent<'_>, ctx: &mut StreamCtx) {
        match *ev {
            StreamEvent::Data {
                dir, id, bytes, ts, ..
            } => {
                let k = (dir.index(), id.0);
                if !self.partial.contains_key(&k) && self.partial.len() >= MAX_STREAMS {
                    self.broken += 1;
                    return;
                }
                let buf = self.partial.entry(k).or_default();
                buf.extend_from_slice(bytes);
                while buf.len() >= 2 {
                    let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
                    if buf.len() < 2 + len {
                        break;
                    }
                    let msg: Vec<u8> = buf.drain(..2 + len).skip(2).collect();
                    self.out.push(DohMessage {
                        dir,
                        ts,
                        bytes: msg,
                        exchange: id.0,
                    });
                }
                if buf.len() > MAX_DOH_MESSAGE + 2 {
                    self.partial.remove(&k);
                    self.broken += 1;
                    ctx.warn(
                        WarningKind::Cap,
                        "DNS over QUIC message over the cap; dropped",
                    );
                }
            }
            StreamEvent::Gap { dir, id, .. } => {
                if self.partial.remove(&(dir.index(), id.0)).is_some() {
                    self.broken += 1;
                }
            }
            StreamEvent::Fin { dir, id, .. } | StreamEvent::Reset { dir, id, .. } => {
                if self
                    .partial
                    .remove(&(dir.index(), id.0))
                    .is_some_and(|b| !b.is_empty())
                {
                    ctx.warn(
                        WarningKind::Truncated,
                        format!("DNS over QUIC stream {} ended inside a message", id.0),
                    );
                }
            }
            StreamEvent::StopSending { .. } => {}
        }
    }

    /// Whole DNS messages so far, in order of completion.
    pub fn take_messages(&mut self) -> Vec<DohMessage> {
        std::mem::take(&mut self.out)
    }
}
