//! Why an exchange was slow: the waits TCP saw ([`crate::tcp::events`]) laid over the
//! exchanges they delayed, and the server's own time.
//!
//! **Which exchange a wait delayed.** Each exchange is exposed to the network, per
//! direction, over a window of capture time: the client's bytes from its request's first
//! byte until the response began (until then a lost request segment holds the answer back),
//! the server's from the request's end to the response's last byte. Bytes are dated when
//! they became deliverable in order ([`crate::tcp::reassembly`]), so bytes that sat behind a
//! hole end the window at the resend or later. A wait delayed an exchange when it ended
//! (the resend, the window update) inside that exchange's window in the wait's direction;
//! its cost there is the part of the wait inside the window. On a connection carrying
//! several exchanges at once (HTTP/2), every exchange exposed at that moment waited: a window
//! (receive or congestion) held them all, and behind a resend they waited because TCP hands
//! bytes over in order. The resend's own bytes tell whose loss it was: the
//! exchange whose frames they carried (the dissectors note them,
//! [`crate::dissect::stream::StreamCtx::late`]; the first of them, if several, so that each
//! resend is named once) gets the retransmission, the others `head_of_line`; when they
//! carried no exchange's bytes (TLS or HTTP/2 framing only, or a capture taken near the
//! sender, where the resend delivers nothing new) the retransmission is the connection's
//! and every exposed exchange gets `head_of_line`. A wait no exchange was exposed to (during the handshakes, between
//! requests) stays on the connection, as do resent SYNs and SYN/ACKs.
//!
//! **Where the capture was taken** matters for bytes resent after their first copy was
//! captured: near the sender, the copy may have been lost after the capture point (the
//! resend is the delay); near the receiver, the receiver had them (the sender missed an
//! ACK) and nothing was held back. The handshake tells which end the capture was near
//! ([`capture_near`]).
//!
//! A congestion-window wait ([`TcpEventKind::CongestionWindow`]) is laid only on exchanges
//! whose request was sent before the pause began: a request sent during it, answered a round
//! trip later, shows the same pause, which is then its round trip and nobody's wait.
//!
//! **Server think time** is the time to first byte minus one round trip (the TCP
//! handshake's, or QUIC's first Initial exchange) minus the waits inside the wait phase,
//! reported from [`THINK_MS`].
//!
//! Every cost is a difference of two packets' capture times; an exchange's costs are cut so
//! that they never add up to more than its time.

use crate::dissect::stream::Late;
use crate::pageload::model::{Delay, DelayKind, HttpExchange, Side};
use crate::tcp::events::{TcpEvent, TcpEventKind};
use crate::time::{round_ms, Ts};

use super::build::side;

/// Server think time is reported from this many milliseconds.
pub const THINK_MS: f64 = 10.0;

/// Which end the capture was taken near, from the handshake: near the client the SYN/ACK
/// comes a round trip after the SYN and the ACK right after it; near the server the other
/// way round. `None` without the three packets or when they do not tell.
pub fn capture_near(syn: Option<Ts>, synack: Option<Ts>, ack: Option<Ts>) -> Option<Side> {
    let (syn, synack, ack) = (syn?, synack?, ack?);
    let (a, b) = (synack.ms_since(syn), ack.ms_since(synack));
    if a < 0.0 || b < 0.0 {
        return None;
    }
    if a > 2.0 * b {
        Some(Side::Client)
    } else if b > 2.0 * a {
        Some(Side::Server)
    } else {
        None
    }
}

/// Lays a TCP connection's waits over its exchanges (filling their `diagnosis`) and
/// returns the connection's own: resent SYNs and waits no exchange was exposed to.
/// `rtt_ms` is the handshake's round trip; `near` the end the capture was taken near
/// ([`capture_near`]): bytes resent to that end after their first copy was captured had
/// already arrived (the sender missed an ACK), so they held nothing back. `hints[i]`: what
/// the dissectors saw of `http[i]`'s bytes ([`WireHints`]); may be shorter.
pub fn diagnose_tcp(
    events: &[TcpEvent],
    rtt_ms: Option<f64>,
    near: Option<Side>,
    http: &mut [HttpExchange],
    hints: &[WireHints],
) -> Vec<Delay> {
    let mut conn = Vec::new();
    // Per exchange, the part of the waits that fell in its wait phase (request sent to
    // first response byte), which server think time leaves out.
    let mut in_wait = vec![0.0f64; http.len()];
    for e in events {
        let dir = side(e.dir);
        let receiver = dir.other();
        let had_them = matches!(e.kind, TcpEventKind::Retransmission { .. })
            && e.from_frame.is_some()
            && near == Some(receiver);
        match e.kind {
            TcpEventKind::SynRetransmission | TcpEventKind::SynAckRetransmission => {
                conn.push(syn_delay(e, dir));
                continue;
            }
            // Accounted for on the connection, at no cost: the receiver had the bytes.
            TcpEventKind::SpuriousRetransmission => {
                conn.push(delay(
                    e,
                    DelayKind::SpuriousRetransmission,
                    dir,
                    0.0,
                    note(e, None),
                ));
                continue;
            }
            _ if had_them => {
                let why = format!(
                    "the {}'s bytes sent again, {:.1} ms after a first copy the capture, taken near \
                     the {}, saw arrive: nothing waited ({})",
                    dir.as_str(),
                    e.ms(),
                    receiver.as_str(),
                    frames_text(e)
                );
                conn.push(delay(e, DelayKind::SpuriousRetransmission, dir, 0.0, why));
                continue;
            }
            // The close waited; no exchange did.
            TcpEventKind::FinRetransmission => {
                conn.push(delay(e, own_kind(e), dir, e.ms(), note(e, None)));
                continue;
            }
            _ => {}
        }
        let cwnd = e.kind == TcpEventKind::CongestionWindow;
        let hit: Vec<usize> = (0..http.len())
            .filter(|&i| window(&http[i], dir).is_some_and(|(a, b)| e.to >= a && e.to <= b))
            .filter(|&i| !cwnd || asked_before(&http[i], dir, e.from))
            .collect();
        if hit.is_empty() && cwnd {
            // A pause no exchange's bytes could have waited in: the round trip of a request
            // sent during it.
            continue;
        }
        if hit.is_empty() {
            conn.push(delay(e, own_kind(e), dir, e.ms(), note(e, None)));
            continue;
        }
        let shared = hit.len() > 1;
        let carried = |i: usize| {
            hints
                .get(i)
                .is_some_and(|h| h.resent.iter().any(|l| l.contains(e.to_frame)))
        };
        let resend = matches!(e.kind, TcpEventKind::Retransmission { .. });
        // One owner, so that every resend is named once: the first exchange whose bytes it
        // carried (a segment may end one stream's frame and begin another's).
        let owner = if shared && resend {
            hit.iter().copied().find(|&i| carried(i))
        } else {
            None
        };
        if shared && resend && owner.is_none() {
            let what = format!(
                "{}; no exchange's bytes in it, {} exchanges waited behind it",
                note(e, None),
                hit.len()
            );
            conn.push(delay(e, own_kind(e), dir, e.ms(), what));
        }
        for &i in &hit {
            let Some((a, b)) = window(&http[i], dir) else {
                continue;
            };
            let cost = overlap_ms((e.from, e.to), (a, b));
            let kind = match e.kind {
                TcpEventKind::Gap { .. } => DelayKind::CaptureGap,
                _ if owner == Some(i) => own_kind(e),
                _ if shared && resend => DelayKind::HeadOfLine,
                _ => own_kind(e),
            };
            let others = (shared && kind == DelayKind::HeadOfLine).then(|| hit.len() - 1);
            if kind != DelayKind::CaptureGap {
                let first = wire_first(&http[i], hints.get(i));
                if let (Some(sent), Some(first)) = (http[i].request_end_ts, first) {
                    in_wait[i] += overlap_ms((e.from, e.to), (sent, first));
                }
            }
            let mut text = note(e, others);
            if owner == Some(i) {
                let n = hit.len() - 1;
                let s = if n == 1 { "" } else { "s" };
                text = format!("{text}; {n} other exchange{s} waited behind it");
            }
            let mut d = delay(e, kind, dir, cost, text);
            // The part of the wait inside the exchange's exposure.
            d.from_ts = Some(e.from.max(a));
            d.to_ts = Some(e.to.min(b));
            http[i].diagnosis.push(d);
        }
    }
    let busy = busy_sending_others(http, rtt_ms);
    for (i, ((h, network), busy)) in http.iter_mut().zip(in_wait).zip(busy).enumerate() {
        merge_waits(h, DelayKind::WindowLimited);
        merge_waits(h, DelayKind::CongestionWindow);
        let first = wire_first(h, hints.get(i));
        server_think(h, rtt_ms, network + busy, first);
        cap_to_duration(h);
    }
    conn
}

/// What the dissectors saw of an exchange's bytes on the wire, for its diagnosis.
#[derive(Debug, Clone, Default)]
pub struct WireHints {
    /// Frames of resends that carried its bytes ([`crate::dissect::stream::StreamCtx::late`]).
    pub resent: Vec<Late>,
    /// When its response's first bytes began to arrive: before `response_ts` when they came
    /// in a TLS record, which is read whole.
    pub response_wire_ts: Option<Ts>,
}

/// When `h`'s response began to arrive: the record's first byte when known, else its first
/// byte handed over.
fn wire_first(h: &HttpExchange, hints: Option<&WireHints>) -> Option<Ts> {
    match (hints.and_then(|w| w.response_wire_ts), h.response_ts) {
        (Some(w), Some(r)) => Some(w.min(r)),
        (w, r) => r.or(w),
    }
}

/// Server think time on exchanges that had no TCP below them to explain (HTTP/3), with
/// the round trip the QUIC handshake showed.
pub fn diagnose_quic(rtt_ms: Option<f64>, http: &mut [HttpExchange]) {
    let busy = busy_sending_others(http, rtt_ms);
    for (h, busy) in http.iter_mut().zip(busy) {
        server_think(h, rtt_ms, busy, h.response_ts);
        cap_to_duration(h);
    }
}

/// Whether `dir`'s sender had `h`'s bytes to send at `t`: the request was complete by then
/// (for the server's bytes), or had begun (for the client's). A congestion window can hold
/// back only bytes the sender has.
fn asked_before(h: &HttpExchange, dir: Side, t: Ts) -> bool {
    let since = match dir {
        Side::Server => h.request_end_ts.or(h.request_ts),
        Side::Client => h.request_ts,
    };
    since.is_some_and(|s| s <= t)
}

/// When `h` was exposed to waits of bytes sent by `dir`.
fn window(h: &HttpExchange, dir: Side) -> Option<(Ts, Ts)> {
    let (a, b) = match dir {
        Side::Client => (
            h.request_ts.or(h.request_end_ts)?,
            h.response_ts.or(h.response_end_ts).or(h.request_end_ts)?,
        ),
        Side::Server => (
            h.request_end_ts.or(h.request_ts)?,
            h.response_end_ts.or(h.response_ts)?,
        ),
    };
    (b >= a).then_some((a, b))
}

fn overlap_ms(x: (Ts, Ts), y: (Ts, Ts)) -> f64 {
    let a = x.0.max(y.0);
    let b = x.1.min(y.1);
    if b > a {
        b.ms_since(a)
    } else {
        0.0
    }
}

fn own_kind(e: &TcpEvent) -> DelayKind {
    match e.kind {
        TcpEventKind::SynRetransmission | TcpEventKind::SynAckRetransmission => {
            DelayKind::SynRetransmission
        }
        TcpEventKind::Retransmission { fast: true } => DelayKind::FastRetransmission,
        TcpEventKind::Retransmission { fast: false } => DelayKind::RtoRetransmission,
        TcpEventKind::ZeroWindow => DelayKind::ZeroWindow,
        TcpEventKind::WindowLimited => DelayKind::WindowLimited,
        TcpEventKind::CongestionWindow => DelayKind::CongestionWindow,
        TcpEventKind::Gap { .. } => DelayKind::CaptureGap,
        TcpEventKind::SpuriousRetransmission => DelayKind::SpuriousRetransmission,
        TcpEventKind::FinRetransmission => DelayKind::FinRetransmission,
    }
}

fn frames(e: &TcpEvent) -> Vec<u64> {
    e.from_frame.into_iter().chain([e.to_frame]).collect()
}

fn frames_text(e: &TcpEvent) -> String {
    match e.from_frame {
        Some(f) => format!("frames {f} → {}", e.to_frame),
        None => format!("frame {}", e.to_frame),
    }
}

fn delay(e: &TcpEvent, kind: DelayKind, dir: Side, ms: f64, note: String) -> Delay {
    let ms = if kind == DelayKind::CaptureGap {
        0.0
    } else {
        ms
    };
    Delay {
        kind,
        dir,
        ms: round_ms(ms),
        frames: frames(e),
        note,
        from_ts: Some(e.from),
        to_ts: Some(e.to),
    }
}

fn syn_delay(e: &TcpEvent, dir: Side) -> Delay {
    let what = match e.kind {
        TcpEventKind::SynAckRetransmission => "the server's SYN/ACK",
        _ => "the client's SYN",
    };
    delay(
        e,
        DelayKind::SynRetransmission,
        dir,
        e.ms(),
        format!(
            "{what} went unanswered and was sent again {:.1} ms later ({})",
            e.ms(),
            frames_text(e)
        ),
    )
}

/// The sentence for a wait; `others` is how many other exchanges waited with this one.
fn note(e: &TcpEvent, others: Option<usize>) -> String {
    let whose = match e.dir {
        crate::net::flow::Dir::ToServer => "the client's",
        crate::net::flow::Dir::ToClient => "the server's",
    };
    // The first send was captured (a capture at the sender): the wait ran from it; else
    // from when later bytes began to wait behind the hole, or from the flow's last bytes.
    let since = if e.from_frame.is_some() {
        "after the first send"
    } else {
        "while later bytes waited behind the hole"
    };
    let what = match e.kind {
        TcpEventKind::Retransmission { fast: false } => format!(
            "{whose} bytes resent after a timeout, {:.1} ms {since} ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::Retransmission { fast: true } => format!(
            "{whose} bytes resent after duplicate ACKs, {:.1} ms {since} ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::ZeroWindow => format!(
            "{whose} bytes held {:.1} ms by the receiver's zero window ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::WindowLimited => format!(
            "{whose} bytes waited {:.1} ms for room in the receiver's full window ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::CongestionWindow => format!(
            "{whose} bytes waited {:.1} ms for ACKs: the sender had sent all its congestion \
             window allowed (slow start) ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::SpuriousRetransmission if e.from_frame.is_none() => format!(
            "{whose} bytes sent again though the receiver had acknowledged them: nothing \
             waited ({})",
            frames_text(e)
        ),
        TcpEventKind::SpuriousRetransmission => format!(
            "{whose} bytes sent again, {:.1} ms after their first send, though the receiver \
             had acknowledged them: nothing waited ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::FinRetransmission if e.from_frame.is_none() => format!(
            "{whose} FIN sent again, its first copy never captured: how long the close \
             waited cannot be told ({})",
            frames_text(e)
        ),
        TcpEventKind::FinRetransmission => format!(
            "{whose} FIN sent again {:.1} ms after the first: the close waited ({})",
            e.ms(),
            frames_text(e)
        ),
        TcpEventKind::Gap { len } => format!(
            "{len} of {whose} bytes never captured ({}): a delay there cannot be told",
            frames_text(e)
        ),
        TcpEventKind::SynRetransmission | TcpEventKind::SynAckRetransmission => {
            unreachable!("handled by syn_delay")
        }
    };
    match others {
        Some(n) if !matches!(e.kind, TcpEventKind::Gap { .. }) => format!(
            "waited in order behind {what}, with {n} other exchange{} on the connection",
            if n == 1 { "" } else { "s" }
        ),
        _ => what,
    }
}

/// Per exchange, how much of its wait phase the server spent sending other exchanges'
/// responses on the same connection (HTTP/2, HTTP/3; pipelined HTTP/1.1) right before its
/// own: the run of other responses' bytes (their spans, first to last byte, merged) that its
/// first byte came straight behind, within a quarter of the round trip (at least 1 ms). Its
/// answer was queued behind them, not being thought of. Other responses sent earlier, with
/// an idle pause before this one's first byte, do not count: a server answering
/// concurrently was thinking meanwhile. O(n log n) in the connection's exchanges: the union
/// is merged once, each exchange looks up its run.
fn busy_sending_others(http: &[HttpExchange], rtt_ms: Option<f64>) -> Vec<f64> {
    let mut spans: Vec<(Ts, Ts)> = http
        .iter()
        .filter_map(|o| {
            let (a, b) = (o.response_ts?, o.response_end_ts.or(o.response_ts)?);
            (b > a).then_some((a, b))
        })
        .collect();
    spans.sort_unstable();
    let mut union: Vec<(Ts, Ts)> = Vec::new();
    for (a, b) in spans {
        match union.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => union.push((a, b)),
        }
    }
    let slack = rtt_ms.map_or(1.0, |r| (r / 4.0).max(1.0));
    http.iter()
        .map(|h| {
            let (Some(sent), Some(first)) = (h.request_end_ts, h.response_ts) else {
                return 0.0;
            };
            let i = union.partition_point(|&(a, _)| a < first);
            match i.checked_sub(1).and_then(|j| union.get(j)) {
                Some(&(a, b)) if first > sent && first.ms_since(b) <= slack => {
                    overlap_ms((a, b.min(first)), (sent, first))
                }
                _ => 0.0,
            }
        })
        .collect()
}

/// Adds `server_think` when the wait phase holds more than a round trip and `network`, the
/// milliseconds of it the network's waits (and the server's sending of other responses)
/// took.
fn server_think(h: &mut HttpExchange, rtt_ms: Option<f64>, network: f64, first: Option<Ts>) {
    // From the request to the response's first byte on the wire (a TLS record's first
    // byte, before its last one made it readable): the rest of the time to first byte was
    // the record arriving.
    let on_wire = match (h.request_end_ts, first) {
        (Some(sent), Some(first)) if first >= sent => Some(first.ms_since(sent)),
        _ => None,
    };
    let (Some(rtt), Some(ttfb)) = (rtt_ms, on_wire.or(h.ttfb_ms)) else {
        return;
    };
    let think = ttfb - rtt - network;
    if think >= THINK_MS {
        h.diagnosis.push(Delay {
            kind: DelayKind::ServerThink,
            dir: Side::Server,
            ms: round_ms(think),
            frames: h
                .request_packet
                .into_iter()
                .chain(h.response_packet)
                .collect(),
            note: format!(
                "the server answered {think:.1} ms after the request, beyond the round trip \
                 ({rtt:.1} ms){}",
                if network > 0.0 {
                    format!(" and {network:.1} ms of network delays and other responses")
                } else {
                    String::new()
                }
            ),
            from_ts: None,
            to_ts: None,
        });
    }
}

/// A window-limited flow waits once per round trip: one line per exchange and `kind` says
/// how often and how long in all, from the first wait's frame to the last one's.
fn merge_waits(h: &mut HttpExchange, kind: DelayKind) {
    let waits: Vec<Delay> = h
        .diagnosis
        .iter()
        .filter(|d| d.kind == kind)
        .cloned()
        .collect();
    if waits.len() < 2 {
        return;
    }
    let ms: f64 = waits.iter().map(|d| d.ms).sum();
    let first = waits.first().and_then(|d| d.frames.first().copied());
    let last = waits.last().and_then(|d| d.frames.last().copied());
    let at = h.diagnosis.iter().position(|d| d.kind == kind).unwrap_or(0);
    h.diagnosis.retain(|d| d.kind != kind);
    let whose = waits[0].dir.as_str();
    let why = match kind {
        DelayKind::CongestionWindow => "for ACKs to open the congestion window (slow start)",
        _ => "for room in the receiver's full window",
    };
    h.diagnosis.insert(
        at,
        Delay {
            kind,
            dir: waits[0].dir,
            ms: round_ms(ms),
            frames: first.into_iter().chain(last).collect(),
            note: format!(
                "the {whose}'s bytes waited {} times {why}, {ms:.1} ms in all (frames {} → {})",
                waits.len(),
                first.unwrap_or(0),
                last.unwrap_or(0)
            ),
            from_ts: waits.first().and_then(|d| d.from_ts),
            to_ts: waits.last().and_then(|d| d.to_ts),
        },
    );
}

/// The costs never add up to more than the exchange's time: later ones are cut.
fn cap_to_duration(h: &mut HttpExchange) {
    let start = h.request_ts.or(h.request_end_ts);
    let end = h.response_end_ts.or(h.response_ts);
    let (Some(a), Some(b)) = (start, end) else {
        return;
    };
    let mut left = b.ms_since(a).max(0.0);
    for d in &mut h.diagnosis {
        if d.ms > left {
            d.ms = round_ms(left);
        }
        left -= d.ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::flow::Dir;

    fn ts(ms: f64) -> Ts {
        Ts::from_nanos((ms * 1e6) as i64)
    }

    fn exchange(req: f64, req_end: f64, resp: f64, resp_end: f64) -> HttpExchange {
        HttpExchange {
            request_ts: Some(ts(req)),
            request_end_ts: Some(ts(req_end)),
            response_ts: Some(ts(resp)),
            response_end_ts: Some(ts(resp_end)),
            ttfb_ms: Some(resp - req_end),
            request_packet: Some(10),
            response_packet: Some(20),
            ..HttpExchange::default()
        }
    }

    fn event(kind: TcpEventKind, dir: Dir, from: f64, to: f64) -> TcpEvent {
        TcpEvent {
            kind,
            dir,
            from: ts(from),
            from_frame: Some(5),
            to: ts(to),
            to_frame: 9,
        }
    }

    #[test]
    fn a_request_resent_after_a_timeout_is_its_cost_and_not_server_time() {
        // Request at 100, resent at 310 (RTO), the answer one RTT (20 ms) later.
        let mut http = vec![exchange(100.0, 100.0, 330.0, 331.0)];
        let rto = TcpEventKind::Retransmission { fast: false };
        let conn = diagnose_tcp(
            &[event(rto, Dir::ToServer, 100.0, 310.0)],
            Some(20.0),
            Some(Side::Client),
            &mut http,
            &[],
        );
        assert!(conn.is_empty());
        let d = &http[0].diagnosis;
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, DelayKind::RtoRetransmission);
        assert_eq!(d[0].dir, Side::Client);
        assert!((d[0].ms - 210.0).abs() < 1e-6);
        assert_eq!(d[0].frames, vec![5, 9]);
    }

    #[test]
    fn a_slow_server_is_think_time_beyond_the_round_trip() {
        let mut http = vec![exchange(0.0, 0.0, 170.0, 175.0)];
        diagnose_tcp(&[], Some(20.0), None, &mut http, &[]);
        let d = &http[0].diagnosis;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DelayKind::ServerThink);
        assert!((d[0].ms - 150.0).abs() < 1e-6);
        // Under the threshold: nothing.
        let mut quick = vec![exchange(0.0, 0.0, 25.0, 26.0)];
        diagnose_tcp(&[], Some(20.0), None, &mut quick, &[]);
        assert!(quick[0].diagnosis.is_empty());
    }

    #[test]
    fn a_wait_shared_by_streams_is_head_of_line_on_each_and_setup_waits_stay_on_the_connection() {
        let mut http = vec![
            exchange(100.0, 100.0, 120.0, 400.0),
            exchange(101.0, 101.0, 121.0, 390.0),
            exchange(500.0, 500.0, 520.0, 530.0),
        ];
        let fast = TcpEventKind::Retransmission { fast: true };
        let events = [
            event(TcpEventKind::SynRetransmission, Dir::ToServer, 0.0, 1000.0),
            event(fast, Dir::ToClient, 150.0, 180.0),
            event(TcpEventKind::ZeroWindow, Dir::ToClient, 440.0, 460.0),
        ];
        let fresh = http.clone();
        let conn = diagnose_tcp(&events, Some(20.0), None, &mut http, &[]);
        // The resend carried no exchange's bytes (say, HTTP/2 framing): the retransmission
        // is the connection's, and both streams waited behind it.
        assert_eq!(conn.len(), 3, "{conn:?}");
        assert_eq!(conn[0].kind, DelayKind::SynRetransmission);
        assert!((conn[0].ms - 1000.0).abs() < 1e-6);
        assert_eq!(conn[1].kind, DelayKind::FastRetransmission);
        assert!((conn[1].ms - 30.0).abs() < 1e-6);
        assert_eq!(conn[2].kind, DelayKind::ZeroWindow, "between the requests");
        for h in &http[..2] {
            assert_eq!(h.diagnosis.len(), 1, "{:?}", h.diagnosis);
            assert_eq!(h.diagnosis[0].kind, DelayKind::HeadOfLine);
            assert!((h.diagnosis[0].ms - 30.0).abs() < 1e-6);
        }
        assert!(http[2].diagnosis.is_empty());

        // The resend (frame 9) carried the second stream's bytes: the loss is its own, and
        // only the first waited behind it.
        let mut http = fresh;
        let conn = diagnose_tcp(
            &events,
            Some(20.0),
            None,
            &mut http,
            &[
                WireHints::default(),
                WireHints {
                    resent: vec![Late::at(7), Late { first: 8, last: 10 }],
                    response_wire_ts: None,
                },
            ],
        );
        assert_eq!(conn.len(), 2, "{conn:?}");
        assert_eq!(http[0].diagnosis[0].kind, DelayKind::HeadOfLine);
        assert!(http[0].diagnosis[0].note.contains("1 other exchange"));
        assert_eq!(http[1].diagnosis.len(), 1);
        assert_eq!(http[1].diagnosis[0].kind, DelayKind::FastRetransmission);
        assert!((http[1].diagnosis[0].ms - 30.0).abs() < 1e-6);
        assert!(http[2].diagnosis.is_empty());
    }

    #[test]
    fn bytes_resent_to_the_capture_side_after_it_got_them_held_nothing_back() {
        let near = capture_near(Some(ts(0.0)), Some(ts(20.0)), Some(ts(20.1)));
        assert_eq!(near, Some(Side::Client));
        assert_eq!(
            capture_near(Some(ts(0.0)), Some(ts(0.1)), Some(ts(20.0))),
            Some(Side::Server)
        );
        let mut http = vec![exchange(100.0, 100.0, 120.0, 400.0)];
        let rto = TcpEventKind::Retransmission { fast: false };
        // The server's bytes, first copy captured at the client: the client had them.
        diagnose_tcp(
            &[event(rto, Dir::ToClient, 150.0, 180.0)],
            Some(20.0),
            near,
            &mut http,
            &[],
        );
        assert!(http[0]
            .diagnosis
            .iter()
            .all(|d| d.kind == DelayKind::ServerThink));
    }

    #[test]
    fn a_server_busy_sending_other_responses_is_not_thinking() {
        // Stream 1 answered at 20..150; stream 3 asked at 0 and answered at 155: the server
        // was sending stream 1 meanwhile.
        let mut http = vec![
            exchange(0.0, 0.0, 20.0, 150.0),
            exchange(0.0, 0.0, 155.0, 170.0),
        ];
        diagnose_tcp(&[], Some(20.0), None, &mut http, &[]);
        assert!(http[1].diagnosis.is_empty(), "{:?}", http[1].diagnosis);
    }

    #[test]
    fn busy_time_is_the_run_of_other_responses_the_answer_came_straight_behind() {
        // Waits 0..100; responses of others at 10..30 (idle after it), then 60..70, 70..80
        // and 75..99.5 (touching and overlapping: one run, 60..99.5): the answer at 100 came
        // right behind that run (within a quarter round trip). Its own at 100..110 does not
        // count.
        let http = vec![
            exchange(0.0, 0.0, 100.0, 110.0),
            exchange(0.0, 0.0, 10.0, 30.0),
            exchange(0.0, 0.0, 60.0, 70.0),
            exchange(0.0, 0.0, 70.0, 80.0),
            exchange(0.0, 0.0, 75.0, 99.5),
        ];
        let busy = busy_sending_others(&http, Some(20.0));
        assert!((busy[0] - 39.5).abs() < 1e-9, "{busy:?}");
        // An idle pause of 30 ms before the answer: the server was thinking, whatever it
        // sent before.
        let http = vec![
            exchange(0.0, 0.0, 100.0, 110.0),
            exchange(0.0, 0.0, 10.0, 70.0),
        ];
        assert_eq!(busy_sending_others(&http, Some(20.0))[0], 0.0);
        // 100,000 exchanges on one connection: quick (it was quadratic).
        let many: Vec<HttpExchange> = (0..100_000)
            .map(|i| {
                let t = i as f64;
                exchange(t, t, t + 5.0, t + 6.0)
            })
            .collect();
        let started = std::time::Instant::now();
        let busy = busy_sending_others(&many, Some(20.0));
        assert_eq!(busy.len(), 100_000);
        assert!(started.elapsed().as_secs_f64() < 2.0);
    }

    #[test]
    fn costs_never_exceed_the_exchange_time() {
        // A wait that began long before the exchange counts only inside its window.
        let mut http = vec![exchange(100.0, 100.0, 110.0, 150.0)];
        let rto = TcpEventKind::Retransmission { fast: false };
        diagnose_tcp(
            &[event(rto, Dir::ToClient, 0.0, 140.0)],
            Some(5.0),
            None,
            &mut http,
            &[],
        );
        let total: f64 = http[0].diagnosis.iter().map(|d| d.ms).sum();
        assert!(total <= 50.0 + 1e-9, "{:?}", http[0].diagnosis);
    }
}
