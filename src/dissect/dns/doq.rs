//! DNS over QUIC (RFC 9250): each query and its response travel on one client-initiated
//! bidirectional stream, "encoded as a 2-octet length field followed by the message content
//! as specified in RFC 1035" (RFC 9250 4.2). Stream bytes in, whole DNS messages out, for
//! the DNS parser, each with its stream (`exchange`: its Message ID is 0, the stream pairs
//! it) and the frame that completed it.

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
    /// Whole messages, with the frame of the packet that completed each.
    out: Vec<(DohMessage, u64)>,
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
                    let m = DohMessage {
                        dir,
                        ts,
                        bytes: msg,
                        exchange: id.0,
                    };
                    self.out.push((m, ctx.packet));
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

    /// Whole DNS messages so far, in order of completion, with the frame that completed each.
    pub fn take_messages(&mut self) -> Vec<(DohMessage, u64)> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::quic::streams::StreamId;
    use crate::net::flow::Dir;
    use crate::time::Ts;

    fn data<'a>(dir: Dir, id: u64, offset: u64, bytes: &'a [u8], ts: i64) -> StreamEvent<'a> {
        StreamEvent::Data {
            dir,
            id: StreamId(id),
            offset,
            bytes,
            ts: Ts(ts),
            first_seen: Ts(ts),
        }
    }

    fn framed(msg: &[u8]) -> Vec<u8> {
        let mut v = (msg.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(msg);
        v
    }

    /// Two like queries at once on streams 0 and 4 (Message ID 0 both, RFC 9250 4.2.1),
    /// split across packets, answered in the other order: each message comes out with its
    /// stream and the frame that completed it.
    #[test]
    fn parallel_streams_keep_their_stream_and_frame() {
        let q = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03lab\x04test\x00\x00\x01\x00\x01";
        let (q0, q4) = (framed(q), framed(q));
        let mut d = DoqStreams::default();
        let mut ctx = StreamCtx::new();
        let mut feed = |ev: StreamEvent<'_>, frame: u64, d: &mut DoqStreams| {
            ctx.packet = frame;
            d.handle_event(&ev, &mut ctx);
        };
        // frame 7: stream 0's length prefix and a byte, stream 4 whole; frame 8: the rest of 0
        feed(data(Dir::ToServer, 0, 0, &q0[..3], 70), 7, &mut d);
        feed(data(Dir::ToServer, 4, 0, &q4, 70), 7, &mut d);
        feed(data(Dir::ToServer, 0, 3, &q0[3..], 80), 8, &mut d);
        // answers: stream 4 at frame 9, stream 0 at frame 10, each then FIN
        let mut r = q.to_vec();
        r[2] = 0x84; // QR, AA
        let r = framed(&r);
        let fin = |id: u64| StreamEvent::Fin {
            dir: Dir::ToClient,
            id: StreamId(id),
            final_size: r.len() as u64,
            ts: Ts(100),
        };
        feed(data(Dir::ToClient, 4, 0, &r, 90), 9, &mut d);
        feed(fin(4), 9, &mut d);
        feed(data(Dir::ToClient, 0, 0, &r, 100), 10, &mut d);
        feed(fin(0), 10, &mut d);
        let got: Vec<(Dir, u64, i64, u64)> = d
            .take_messages()
            .into_iter()
            .map(|(m, frame)| (m.dir, m.exchange, m.ts.0, frame))
            .collect();
        assert_eq!(
            got,
            [
                (Dir::ToServer, 4, 70, 7),
                (Dir::ToServer, 0, 80, 8),
                (Dir::ToClient, 4, 90, 9),
                (Dir::ToClient, 0, 100, 10),
            ]
        );
        assert!(ctx.warnings.is_empty());
        assert!(d.take_messages().is_empty());
    }
}
