//! The content codings (RFC 9110 8.4.1) as push decoders: bytes in, decoded bytes out into a
//! caller's buffer, nothing kept beyond each format's own window.
//!
//! - `gzip` (and `x-gzip`, RFC 9110 8.4.1.3): RFC 1952 members; the header is parsed here, a
//!   byte at a time (FEXTRA, FNAME, FCOMMENT and FHCRC skipped), the DEFLATE data is inflated
//!   raw by flate2 and the trailer's CRC-32 and length are checked. Bytes after the first
//!   member are ignored, as Chromium does.
//! - `deflate` (RFC 9110 8.4.1.2): "the zlib data format containing a deflate compressed
//!   data stream", Adler-32 checked; a stream whose first two bytes are not a zlib header is
//!   inflated as raw DEFLATE, which servers send and browsers accept.
//! - `br` (RFC 7932): brotli-decompressor, standard windows only (up to 16 MiB; "large
//!   window" brotli is not a content coding).
//! - `zstd` (RFC 8878): the reference library, concatenated frames and skippable frames
//!   included, the window limited to 8 MiB as RFC 9659 has HTTP do.
//!
//! A [`Stage`] reports how many input bytes it took, how many it wrote and whether its
//! stream ended; bytes after the end are the caller's to ignore.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::{Decompress, FlushDecompress, Status};

/// A content coding this build decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The coding a Content-Encoding token names (case-insensitive, RFC 9110 8.4.1);
    /// `None` for a token this build does not decode.
    pub fn from_token(token: &str) -> Option<Coding> {
        let t = token.trim();
        Some(
            if t.eq_ignore_ascii_case("gzip") || t.eq_ignore_ascii_case("x-gzip") {
                Coding::Gzip
            } else if t.eq_ignore_ascii_case("deflate") {
                Coding::Deflate
            } else if t.eq_ignore_ascii_case("br") {
                Coding::Brotli
            } else if t.eq_ignore_ascii_case("zstd") {
                Coding::Zstd
            } else {
                return None;
            },
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }
}

/// Largest brotli window (RFC 7932 9.1: WBITS up to 24).
const BROTLI_MAX_WBITS: u32 = 24;
/// zstd windows accepted: 8 MiB ("Window_Size ... MUST be less than or equal to 8 MB" for
/// the `zstd` content coding, RFC 9659 3).
pub const ZSTD_MAX_WINDOW_LOG: u32 = 23;
/// Memory estimates beside each window: inflate's state with its 32 KiB dictionary, brotli's
/// Huffman tables and ring-buffer slack, zstd's context and one 128 KiB block.
const INFLATE_MEMORY: usize = 48 << 10;
const BROTLI_OVERHEAD: usize = 64 << 10;
const ZSTD_OVERHEAD: usize = 256 << 10;

/// Bytes of memory a decoder of `coding` may hold; `first` is the first byte of its
/// stream when known (a brotli stream says its window there, RFC 7932 9.1).
pub fn memory(coding: Coding, first: Option<u8>) -> usize {
    match coding {
        Coding::Gzip | Coding::Deflate => INFLATE_MEMORY,
        Coding::Brotli => {
            let wbits = first.map_or(BROTLI_MAX_WBITS, brotli_wbits);
            (1usize << wbits) + BROTLI_OVERHEAD
        }
        Coding::Zstd => (1usize << ZSTD_MAX_WINDOW_LOG) + ZSTD_OVERHEAD,
    }
}

/// WBITS from a brotli stream's first byte (RFC 7932 9.1); the large-window escape, which
/// the decoder refuses, counts as the largest window.
fn brotli_wbits(b: u8) -> u32 {
    if b & 1 == 0 {
        return 16;
    }
    match (b >> 1) & 7 {
        0 => match (b >> 4) & 7 {
            0 => 17,
            1 => BROTLI_MAX_WBITS,
            m => 8 + u32::from(m),
        },
        n => 17 + u32::from(n),
    }
}

/// What one call of [`Stage::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub read: usize,
    pub written: usize,
    /// The coded stream ended (its trailer checked): bytes after it are not part of it.
    pub end: bool,
}

/// Why a coded stream does not decode, in words for the warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodingError(pub String);

/// One decoder of a chain.
pub enum Stage {
    Gzip(Box<Gzip>),
    Deflate(Box<Deflate>),
    Brotli(Box<BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>>),
    Zstd(Box<Zstd>),
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.coding().name())
    }
}

impl Stage {
    /// A decoder for `coding`; `Err` only when the zstd library cannot make a context.
    pub fn new(coding: Coding) -> Result<Stage, CodingError> {
        Ok(match coding {
            Coding::Gzip => Stage::Gzip(Box::default()),
            Coding::Deflate => Stage::Deflate(Box::default()),
            Coding::Brotli => Stage::Brotli(Box::new(BrotliState::new_strict(
                StandardAlloc::default(),
                StandardAlloc::default(),
                StandardAlloc::default(),
            ))),
            Coding::Zstd => {
                let mut d = zstd::stream::raw::Decoder::new().map_err(zstd_error)?;
                d.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(
                    ZSTD_MAX_WINDOW_LOG,
                ))
                .map_err(zstd_error)?;
                Stage::Zstd(Box::new(Zstd {
                    d,
                    at_frame_end: false,
                }))
            }
        })
    }

    pub fn coding(&self) -> Coding {
        match self {
            Stage::Gzip(_) => Coding::Gzip,
            Stage::Deflate(_) => Coding::Deflate,
            Stage::Brotli(_) => Coding::Brotli,
            Stage::Zstd(_) => Coding::Zstd,
        }
    }

    /// Decodes from `input` into `out`. A step that reads and writes nothing needs more
    /// input; a step that fills `out` may have more to give with no more input.
    pub fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, CodingError> {
        match self {
            Stage::Gzip(g) => g.step(input, out),
            Stage::Deflate(d) => d.step(input, out),
            Stage::Brotli(s) => brotli_step(s, input, out),
            Stage::Zstd(z) => z.step(input, out),
        }
    }

    /// Whether the bytes given so far are whole streams without having `end`ed: zstd
    /// frames may be followed by more, so a body may end after any complete one.
    pub fn at_rest(&self) -> bool {
        matches!(self, Stage::Zstd(z) if z.at_frame_end)
    }
}

/// Inflates from `input` into `out`: (read, written, stream end).
fn inflate(z: &mut Decompress, input: &[u8], out: &mut [u8]) -> Result<Step, CodingError> {
    let (in0, out0) = (z.total_in(), z.total_out());
    let status = z
        .decompress(input, out, FlushDecompress::None)
        .map_err(|e| CodingError(e.to_string()))?;
    Ok(Step {
        read: (z.total_in() - in0) as usize,
        written: (z.total_out() - out0) as usize,
        end: status == Status::StreamEnd,
    })
}

/// `deflate`: a zlib stream, or raw DEFLATE when the first two bytes are no zlib header.
#[derive(Default)]
pub struct Deflate {
    head: [u8; 2],
    got: usize,
    /// Of `head`, the bytes already given to the inflater.
    fed: usize,
    z: Option<Decompress>,
}

impl Deflate {
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, CodingError> {
        let Some(z) = &mut self.z else {
            let n = (2 - self.got).min(input.len());
            self.head[self.got..self.got + n].copy_from_slice(&input[..n]);
            self.got += n;
            if self.got == 2 {
                self.z = Some(Decompress::new(is_zlib_header(self.head)));
            }
            return Ok(Step {
                read: n,
                written: 0,
                end: false,
            });
        };
        let mut written = 0;
        if self.fed < 2 {
            // The sniffed bytes first, then, in the same call, `input`.
            let s = inflate(z, &self.head[self.fed..], out)?;
            self.fed += s.read;
            if self.fed < 2 || s.end {
                return Ok(Step { read: 0, ..s });
            }
            written = s.written;
        }
        let s = inflate(z, input, &mut out[written..])?;
        Ok(Step {
            written: written + s.written,
            ..s
        })
    }
}

/// RFC 1950 2.2: CM 8 with a window of at most 32 KiB, FCHECK making the pair a multiple
/// of 31, and no preset dictionary (HTTP has none to offer).
fn is_zlib_header(h: [u8; 2]) -> bool {
    h[0] & 0x0f == 8
        && h[0] >> 4 <= 7
        && (u16::from(h[0]) << 8 | u16::from(h[1])) % 31 == 0
        && h[1] & 0x20 == 0
}

/// Where a gzip member is (RFC 1952 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum GzPart {
    /// The 10 fixed bytes; `n` read so far.
    #[default]
    Fixed,
    /// FEXTRA's XLEN, then that many bytes.
    ExtraLen,
    Extra,
    /// Zero-terminated FNAME, FCOMMENT.
    Name,
    Comment,
    /// FHCRC's two bytes.
    HeaderCrc,
    Data,
    /// CRC32 and ISIZE.
    Trailer,
    Done,
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// `gzip`: one member, header and trailer checked.
#[derive(Default)]
pub struct Gzip {
    part: GzPart,
    flags: u8,
    /// Bytes of the current fixed-size part read, and the bytes themselves where kept.
    n: usize,
    buf: [u8; 10],
    /// FEXTRA bytes left.
    left: usize,
    z: Option<Decompress>,
    crc: crc32fast::Hasher,
}

impl Gzip {
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, CodingError> {
        let mut read = 0;
        while !matches!(self.part, GzPart::Data | GzPart::Done) && read < input.len() {
            read += self.header_or_trailer(&input[read..])?;
        }
        if self.part != GzPart::Data {
            return Ok(Step {
                read,
                written: 0,
                end: self.part == GzPart::Done,
            });
        }
        let z = self.z.get_or_insert_with(|| Decompress::new(false));
        let s = inflate(z, &input[read..], out)?;
        self.crc.update(&out[..s.written]);
        if s.end {
            self.part = GzPart::Trailer;
        }
        Ok(Step {
            read: read + s.read,
            written: s.written,
            end: false,
        })
    }

    /// Takes header or trailer bytes from `input`; returns how many.
    fn header_or_trailer(&mut self, input: &[u8]) -> Result<usize, CodingError> {
        match self.part {
            GzPart::Fixed | GzPart::ExtraLen | GzPart::HeaderCrc | GzPart::Trailer => {
                let want = match self.part {
                    GzPart::Fixed => 10,
                    GzPart::Trailer => 8,
                    _ => 2,
                };
                let k = (want - self.n).min(input.len());
                self.buf[self.n..self.n + k].copy_from_slice(&input[..k]);
                self.n += k;
                if self.part == GzPart::Fixed {
                    // Not gzip: say so at its first byte.
                    let magic = &self.buf[..self.n.min(3)];
                    if magic != &[0x1f, 0x8b, 8][..magic.len()] {
                        return Err(CodingError(format!("not a gzip member: {magic:02x?}")));
                    }
                }
                if self.n == want {
                    self.n = 0;
                    self.fixed_part_done()?;
                }
                Ok(k)
            }
            GzPart::Extra => {
                let k = self.left.min(input.len());
                self.left -= k;
                if self.left == 0 {
                    self.part = self.next_part(1);
                }
                Ok(k)
            }
            GzPart::Name | GzPart::Comment => {
                let skip = if self.part == GzPart::Name { 2 } else { 3 };
                match input.iter().position(|&b| b == 0) {
                    Some(i) => {
                        self.part = self.next_part(skip);
                        Ok(i + 1)
                    }
                    None => Ok(input.len()),
                }
            }
            GzPart::Data | GzPart::Done => Ok(0),
        }
    }

    /// A fixed-size part is in `buf`: check it and move on.
    fn fixed_part_done(&mut self) -> Result<(), CodingError> {
        match self.part {
            GzPart::Fixed => {
                if self.buf[3] & 0xe0 != 0 {
                    return Err(CodingError("reserved gzip header flags set".into()));
                }
                self.flags = self.buf[3];
                self.part = self.next_part(0);
            }
            GzPart::ExtraLen => {
                self.left = usize::from(u16::from_le_bytes([self.buf[0], self.buf[1]]));
                self.part = if self.left == 0 {
                    self.next_part(1)
                } else {
                    GzPart::Extra
                };
            }
            GzPart::HeaderCrc => self.part = GzPart::Data,
            _ => self.check_trailer()?,
        }
        Ok(())
    }

    /// The first optional header part the flags announce, of those after the first `skip`
    /// (RFC 1952 2.3: FEXTRA, FNAME, FCOMMENT, FHCRC, in that order).
    fn next_part(&self, skip: usize) -> GzPart {
        const OPTIONAL: [(u8, GzPart); 4] = [
            (FEXTRA, GzPart::ExtraLen),
            (FNAME, GzPart::Name),
            (FCOMMENT, GzPart::Comment),
            (FHCRC, GzPart::HeaderCrc),
        ];
        OPTIONAL
            .iter()
            .skip(skip)
            .find(|(f, _)| self.flags & f != 0)
            .map_or(GzPart::Data, |&(_, p)| p)
    }

    /// RFC 1952 2.3.1: CRC32 and ISIZE (the length modulo 2^32), little-endian.
    fn check_trailer(&mut self) -> Result<(), CodingError> {
        let crc = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        let size = u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
        let total = self.z.as_ref().map_or(0, |z| z.total_out());
        let got = std::mem::take(&mut self.crc).finalize();
        if crc != got {
            return Err(CodingError(format!(
                "gzip CRC-32 {crc:08x} in the trailer, {got:08x} decoded"
            )));
        }
        if u64::from(size) != total & 0xffff_ffff {
            return Err(CodingError(format!(
                "gzip trailer says {size} bytes, {total} decoded"
            )));
        }
        self.part = GzPart::Done;
        self.z = None;
        Ok(())
    }
}

fn brotli_step(
    s: &mut BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    input: &[u8],
    out: &mut [u8],
) -> Result<Step, CodingError> {
    let (mut avail_in, mut in_off) = (input.len(), 0);
    let (mut avail_out, mut out_off, mut total) = (out.len(), 0, 0);
    let r = BrotliDecompressStream(
        &mut avail_in,
        &mut in_off,
        input,
        &mut avail_out,
        &mut out_off,
        out,
        &mut total,
        s,
    );
    match r {
        BrotliResult::ResultFailure => Err(CodingError(format!("brotli: {:?}", s.error_code))),
        _ => Ok(Step {
            read: in_off,
            written: out_off,
            end: matches!(r, BrotliResult::ResultSuccess),
        }),
    }
}

/// `zstd`: frames, one after another.
pub struct Zstd {
    d: zstd::stream::raw::Decoder<'static>,
    /// The bytes so far end where a frame ends (decoded and flushed).
    at_frame_end: bool,
}

impl Zstd {
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, CodingError> {
        use zstd::stream::raw::Operation;
        let s = self.d.run_on_buffers(input, out).map_err(zstd_error)?;
        if s.bytes_read > 0 || s.bytes_written > 0 {
            // ZSTD_decompressStream returns 0 once a frame is decoded and flushed.
            self.at_frame_end = s.remaining == 0;
        }
        Ok(Step {
            read: s.bytes_read,
            written: s.bytes_written,
            // Frames may follow one another (RFC 8878 3): the stream does not end by
            // itself; a body that ends where a frame does is whole (`Stage::at_rest`).
            end: false,
        })
    }
}

fn zstd_error(e: std::io::Error) -> CodingError {
    CodingError(format!("zstd: {e}"))
}
