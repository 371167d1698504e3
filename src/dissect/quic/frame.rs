//! Frames of Initial packets (RFC 9000 12.4, 19) and CRYPTO reassembly by offset.
//!
//! RFC 9000 12.4 (Table 3): an Initial packet may carry PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE (type 0x1c). Other frame types cannot have their length known without
//! parsing them, so parsing stops at the first one (a note, not a failure) and the frames
//! before it are kept.

use super::packet::read_varint;

/// Most CRYPTO bytes buffered per direction and packet number space.
pub const CRYPTO_CAP: u64 = 64 * 1024;
/// Most disjoint CRYPTO ranges tracked per direction.
const MAX_RANGES: usize = 64;

/// What a frame said that the connection keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuicFrame<'a> {
    Padding,
    Ping,
    Ack {
        largest: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    ConnectionClose {
        /// 0x1c transport error, 0x1d application error.
        application: bool,
        error_code: u64,
        frame_type: Option<u64>,
        reason: &'a [u8],
    },
}

/// Parses all frames of a plaintext payload, calling `f` for each. Returns a note when
/// parsing stopped early (an unexpected frame type, a truncated frame).
pub fn parse_frames<'a>(payload: &'a [u8], mut f: impl FnMut(QuicFrame<'a>)) -> Result<(), String> {
    let mut pos = 0;
    let bad = |w: &str| format!("{w} frame truncated");
    while pos < payload.len() {
        let ty = read_varint(payload, &mut pos).ok_or_else(|| bad("frame type"))?;
        match ty {
            0x00 => {
                // A run of PADDING is one event.
                while payload.get(pos) == Some(&0) {
                    pos += 1;
                }
                f(QuicFrame::Padding);
            }
            0x01 => f(QuicFrame::Ping),
            0x02 | 0x03 => {
                let mut v = || read_varint(payload, &mut pos).ok_or_else(|| bad("ACK"));
                let largest = v()?;
                let _delay = v()?;
                let ranges = v()?;
                let _first = v()?;
                for _ in 0..ranges {
                    v()?;
                    v()?;
                }
                if ty == 0x03 {
                    v()?;
                    v()?;
                    v()?;
                }
                f(QuicFrame::Ack { largest });
            }
            0x06 => {
                let offset = read_varint(payload, &mut pos).ok_or_else(|| bad("CRYPTO"))?;
                let len = read_varint(payload, &mut pos).ok_or_else(|| bad("CRYPTO"))?;
                let len = usize::try_from(len).map_err(|_| bad("CRYPTO"))?;
                let end = pos.checked_add(len).ok_or_else(|| bad("CRYPTO"))?;
                let data = payload.get(pos..end).ok_or_else(|| bad("CRYPTO"))?;
                pos = end;
                f(QuicFrame::Crypto { offset, data });
            }
            0x1c | 0x1d => {
                let error_code =
                    read_varint(payload, &mut pos).ok_or_else(|| bad("CONNECTION_CLOSE"))?;
                let frame_type = if ty == 0x1c {
                    Some(read_varint(payload, &mut pos).ok_or_else(|| bad("CONNECTION_CLOSE"))?)
                } else {
                    None
                };
                let len = read_varint(payload, &mut pos).ok_or_else(|| bad("CONNECTION_CLOSE"))?;
                let len = usize::try_from(len).map_err(|_| bad("CONNECTION_CLOSE"))?;
                let end = pos
                    .checked_add(len)
                    .ok_or_else(|| bad("CONNECTION_CLOSE"))?;
                let reason = payload
                    .get(pos..end)
                    .ok_or_else(|| bad("CONNECTION_CLOSE"))?;
                pos = end;
                f(QuicFrame::ConnectionClose {
                    application: ty == 0x1d,
                    error_code,
                    frame_type,
                    reason,
                });
            }
            other => {
                return Err(format!(
                    "frame type 0x{other:x} is not allowed in an Initial packet (RFC 9000 \
                     12.4): the rest of the packet is skipped"
                ))
            }
        }
    }
    Ok(())
}

/// CRYPTO stream bytes of one direction, placed by offset (RFC 9000 19.6: "The stream does
/// not have an explicit end"), with at most [`CRYPTO_CAP`] bytes.
#[derive(Debug, Default, Clone)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// Disjoint, sorted `[start, end)` ranges that were received.
    ranges: Vec<(u64, u64)>,
    /// Bytes beyond the cap (or beyond the range table), dropped.
    pub dropped: u64,
}

impl CryptoStream {
    pub fn insert(&mut self, offset: u64, data: &[u8]) {
        let end = offset.saturating_add(data.len() as u64);
        let keep_end = end.min(CRYPTO_CAP);
        if keep_end <= offset {
            self.dropped += data.len() as u64;
            return;
        }
        self.dropped += end - keep_end;
        let (s, e) = (offset as usize, keep_end as usize);
        if self.ranges.len() >= MAX_RANGES
            && !self
                .ranges
                .iter()
                .any(|&(a, b)| a <= offset && keep_end <= b)
        {
            self.dropped += (e - s) as u64;
            return;
        }
        if self.buf.len() < e {
            self.buf.resize(e, 0);
        }
        self.buf[s..e].copy_from_slice(&data[..e - s]);
        self.ranges.push((offset, keep_end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ranges = merged;
    }

    /// Frees the buffer (the hello was read); the dropped count stays.
    pub fn release(&mut self) {
        self.buf = Vec::new();
        self.ranges = Vec::new();
    }

    /// The bytes received without a hole from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => self.buf.get(..end as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The complete handshake messages at the start of `stream`: `(type, body)` in order.
pub fn handshake_messages(stream: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(h) = stream.get(pos..pos + 4) {
        let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let Some(body) = stream.get(pos + 4..pos + 4 + len) else {
            break;
        };
        out.push((h[0], body));
        pos += 4 + len;
    }
    out
}
