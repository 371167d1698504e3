//! The chunked transfer coding (RFC 9112 section 7.1) as a byte-at-a-time state machine
//! that never buffers: it reports where chunk data lies in the bytes it is given.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! ```
//!
//! States: `Size` → (`SizeWs` | `Ext`)* → `SizeLf` → `Data` → `DataCr` → `DataLf` →
//! `Size` ...;
//! a zero size goes to `TrailerStart` ⇄ `TrailerLine` → `TrailerEndLf` → `Done`.
//! A bare LF is accepted wherever CRLF is expected (RFC 9112 section 2.2 lets a recipient).

/// Longest chunk-size line (size, whitespace and extensions) accepted.
pub(super) const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkError {
    /// A chunk size beyond 64 bits.
    SizeOverflow,
    /// A byte that cannot appear in a chunk-size line.
    BadSize(u8),
    /// Chunk data not followed by CRLF, or a CR not followed by LF.
    BadLineEnd(u8),
    /// A chunk-size line longer than [`MAX_CHUNK_LINE`].
    LineTooLong,
    /// The trailer section exceeded its cap.
    TrailersTooLong,
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkError::SizeOverflow => f.write_str("chunk size overflows 64 bits"),
            ChunkError::BadSize(b) => write!(f, "invalid byte 0x{b:02x} in chunk size"),
            ChunkError::BadLineEnd(b) => write!(f, "expected CRLF after chunk, found 0x{b:02x}"),
            ChunkError::LineTooLong => {
                write!(f, "chunk-size line longer than {MAX_CHUNK_LINE} bytes")
            }
            ChunkError::TrailersTooLong => f.write_str("trailer section over the header cap"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Hex digits; `value` so far, `digits` significant digits, `any` at least one digit.
    Size {
        value: u64,
        digits: u8,
        any: bool,
    },
    /// BWS after the size, before `;` or the line end.
    SizeWs {
        value: u64,
    },
    /// Inside chunk extensions, skipped up to the line end.
    Ext {
        value: u64,
    },
    /// After CR of the size line.
    SizeLf {
        value: u64,
    },
    Data {
        rem: u64,
    },
    /// After chunk data, expecting CR (or a bare LF).
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    TrailerLine,
    /// After CR at the start of a line: the final CRLF.
    TrailerEndLf,
    Done,
}

const SIZE_START: State = State::Size {
    value: 0,
    digits: 0,
    any: false,
};

/// One step of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkStep {
    /// This many framing bytes were consumed (all that was given, or up to chunk data).
    Framing(usize),
    /// The first `n` bytes are chunk data.
    Data(usize),
    /// The body ended after this many bytes.
    Done(usize),
    Error(ChunkError),
}

#[derive(Debug, Clone)]
pub(super) struct ChunkDecoder {
    state: State,
    /// Bytes of the current size line, or of the trailer section.
    line: usize,
    trailer_cap: usize,
    /// Trailer field lines seen.
    pub trailers: u32,
}

impl ChunkDecoder {
    pub(super) fn new(trailer_cap: usize) -> ChunkDecoder {
        ChunkDecoder {
            state: SIZE_START,
            line: 0,
            trailer_cap,
            trailers: 0,
        }
    }

    /// Ends a chunk-size line: chunk data follows, or the trailer section after the last chunk.
    fn end_size_line(&mut self, value: u64) {
        self.line = 0;
        self.state = if value == 0 {
            State::TrailerStart
        } else {
            State::Data { rem: value }
        };
    }

    /// Decodes from the start of `data` up to the next chunk data, the end of the body, an
    /// error, or the end of `data`. Always consumes or reports at least one byte of a
    /// non-empty `data`.
    ///
    /// The chunk size and the CRLFs around chunk data are decoded here, byte by byte;
    /// chunk data, extensions and the trailer section have methods of their own.
    pub(super) fn step(&mut self, data: &[u8]) -> ChunkStep {
        if let State::Data { rem } = self.state {
            return self.data(rem, data.len());
        }
        for (i, &b) in data.iter().enumerate() {
            match self.state {
                State::Size { value, digits, any } => {
                    self.line += 1;
                    if self.line > MAX_CHUNK_LINE {
                        return ChunkStep::Error(ChunkError::LineTooLong);
                    }
                    if let Some(d) = (b as char).to_digit(16) {
                        // Leading zeros are not significant; a 17th significant digit overflows.
                        let (value, digits) = if value == 0 && d == 0 {
                            (0, digits)
                        } else if digits >= 16 {
                            return ChunkStep::Error(ChunkError::SizeOverflow);
                        } else {
                            ((value << 4) | u64::from(d), digits + 1)
                        };
                        self.state = State::Size {
                            value,
                            digits,
                            any: true,
                        };
                        continue;
                    }
                    if !any {
                        return ChunkStep::Error(ChunkError::BadSize(b));
                    }
                    match b {
                        b' ' | b'\t' => self.state = State::SizeWs { value },
                        b';' => self.state = State::Ext { value },
                        b'\r' => self.state = State::SizeLf { value },
                        b'\n' => {
                            self.end_size_line(value);
                            if value != 0 {
                                return ChunkStep::Framing(i + 1);
                            }
                        }
                        _ => return ChunkStep::Error(ChunkError::BadSize(b)),
                    }
                }
                State::SizeWs { value } | State::Ext { value } => {
                    if let Some(stop) = self.size_tail_byte(i, b, value) {
                        return stop;
                    }
                }
                State::SizeLf { value } => {
                    if b != b'\n' {
                        return ChunkStep::Error(ChunkError::BadLineEnd(b));
                    }
                    self.end_size_line(value);
                    if value != 0 {
                        return ChunkStep::Framing(i + 1);
                    }
                }
                State::DataCr => match b {
                    b'\r' => self.state = State::DataLf,
                    b'\n' => self.state = SIZE_START,
                    _ => return ChunkStep::Error(ChunkError::BadLineEnd(b)),
                },
                State::DataLf => {
                    if b != b'\n' {
                        return ChunkStep::Error(ChunkError::BadLineEnd(b));
                    }
                    self.state = SIZE_START;
                }
                State::TrailerStart | State::TrailerLine | State::TrailerEndLf => {
                    if let Some(stop) = self.trailer_byte(i, b) {
                        return stop;
                    }
                }
                // Data is left by the early return above; Done is final.
                State::Data { .. } => return ChunkStep::Framing(i),
                State::Done => return ChunkStep::Done(i),
            }
        }
        ChunkStep::Framing(data.len())
    }

    /// `State::Data`: the first `rem` bytes of the `len` given (or all of them) are chunk
    /// data; the CRLF after them follows.
    /// Chunk data still to come in the current chunk (0 outside chunk data).
    pub(super) fn data_left(&self) -> u64 {
        match self.state {
            State::Data { rem } => rem,
            _ => 0,
        }
    }

    /// `n` bytes of chunk data went by unread (at most [`Self::data_left`]): as
    /// [`Self::step`] over them.
    pub(super) fn skip_data(&mut self, n: u64) {
        if let State::Data { rem } = self.state {
            let len = usize::try_from(n).unwrap_or(usize::MAX);
            self.data(rem, len);
        }
    }

    fn data(&mut self, rem: u64, len: usize) -> ChunkStep {
        let n = usize::try_from(rem).unwrap_or(usize::MAX).min(len);
        let left = rem - n as u64;
        self.state = if left == 0 {
            State::DataCr
        } else {
            State::Data { rem: left }
        };
        ChunkStep::Data(n)
    }

    /// `State::SizeWs` and `State::Ext`: byte `i` (`b`) of the size line after the size,
    /// BWS or chunk extensions, skipped up to the line end. `Some` ends the step.
    fn size_tail_byte(&mut self, i: usize, b: u8, value: u64) -> Option<ChunkStep> {
        self.line += 1;
        if self.line > MAX_CHUNK_LINE {
            return Some(ChunkStep::Error(ChunkError::LineTooLong));
        }
        let ws = matches!(self.state, State::SizeWs { .. });
        match b {
            b'\r' => self.state = State::SizeLf { value },
            b'\n' => {
                self.end_size_line(value);
                if value != 0 {
                    return Some(ChunkStep::Framing(i + 1));
                }
            }
            b';' => self.state = State::Ext { value },
            b' ' | b'\t' if ws => {}
            _ if ws => return Some(ChunkStep::Error(ChunkError::BadSize(b))),
            _ => {}
        }
        None
    }

    /// The trailer section: byte `i` (`b`). Field lines are counted and skipped; an empty
    /// line ends the body. `Some` ends the step.
    fn trailer_byte(&mut self, i: usize, b: u8) -> Option<ChunkStep> {
        if self.state == State::TrailerEndLf {
            if b != b'\n' {
                return Some(ChunkStep::Error(ChunkError::BadLineEnd(b)));
            }
            self.state = State::Done;
            return Some(ChunkStep::Done(i + 1));
        }
        self.line += 1;
        if self.line > self.trailer_cap {
            return Some(ChunkStep::Error(ChunkError::TrailersTooLong));
        }
        let start = self.state == State::TrailerStart;
        match b {
            b'\r' if start => self.state = State::TrailerEndLf,
            b'\n' if start => {
                self.state = State::Done;
                return Some(ChunkStep::Done(i + 1));
            }
            b'\n' => self.state = State::TrailerStart,
            _ => {
                if start {
                    self.trailers += 1;
                }
                self.state = State::TrailerLine;
            }
        }
        None
    }
}
