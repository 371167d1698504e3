//! Reading a capture on a thread of its own (`analyze --threads` of 2 or more).
//!
//! The reading thread does the file's `read` calls (the kernel's copy out of the page cache,
//! as long as the whole analysis of a page load on one thread) and a compressed capture's
//! decompression, into chunks of about [`CHUNK`] bytes that end where a block ends: it hops
//! from block header to block header ([`Framing`]), which costs a few loads per packet. The
//! analysis thread parses the blocks where they lie ([`Chunked`], pcap-parser's block
//! parsers on the chunk) and hands the chunk back when it is done with it: no packet byte is
//! copied on the way, and the blocks, frame numbers, times and bytes are those read on one
//! thread, so the report is the same.
//!
//! The framing only decides where a chunk ends. When it cannot tell (a block header claiming
//! an impossible length: damage), the reading thread sends the bytes as they come and the
//! analysis joins a block cut between two chunks, as pcap-parser's reader would refill its
//! buffer: what the parser makes of the damage, and the warning, are the same.
//!
//! Memory: at most [`AHEAD`] chunks wait, and [`AHEAD`] + 2 exist; a block longer than a
//! chunk gets a chunk of its own (up to the parser's block limit, past which it is damage).

use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use pcap_parser::nom::{self, Needed};
use pcap_parser::pcap::{
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
};
use pcap_parser::pcapng::{parse_block_be, parse_block_le, parse_sectionheaderblock, Block};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapBlock, PcapBlockOwned, PcapError, PcapHeader};

use super::{CaptureEvent, CaptureReader, MAX_BLOCK, MAX_PACKET};
use crate::warning::Warning;

/// Bytes the reading thread gathers before handing them over.
pub const CHUNK: usize = 2 << 20;
/// Chunks read ahead of the analysis.
const AHEAD: usize = 4;

type LegacyParse = fn(&[u8]) -> nom::IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

/// The file's format, as the parser needs it.
#[derive(Clone)]
enum Format {
    Legacy {
        header: PcapHeader,
        parse: LegacyParse,
    },
    /// pcapng, in the byte order of the current section.
    Ng { big_endian: bool },
}

/// Where the bytes after the window come from.
enum Source {
    /// Read here, on the analysis thread (no reading thread, or before it starts).
    Input(Box<dyn Read + Send>),
    /// Chunks from the reading thread; spent ones go back to it.
    Thread {
        chunks: Receiver<Vec<u8>>,
        spent: SyncSender<Vec<u8>>,
    },
    /// The input went to the reading thread and it has ended.
    Gone,
}

/// pcap-parser's streaming reader, with the reading ahead on a thread of its own: the same
/// [`PcapReaderIterator`], the same blocks and the same errors (`Incomplete`,
/// `BufferTooSmall` against a capacity that grows as its buffer would).
pub(super) struct Chunked {
    /// The bytes being parsed, `window[pos..]` not yet consumed.
    window: Vec<u8>,
    pos: usize,
    consumed: usize,
    capacity: usize,
    exhausted: bool,
    format: Format,
    source: Source,
    /// The reading thread's chunk size.
    chunk: usize,
}

impl Chunked {
    /// Reads the first chunk of `input` here and finds the format in it, as
    /// `pcap_parser::create_reader` does (a section header first, else a pcap header).
    /// `chunk`: the reading thread's chunk size ([`CHUNK`]; tests make it small). The first
    /// window is a chunk, or the parser's buffer when the section header needs more.
    pub(super) fn new(
        capacity: usize,
        chunk: usize,
        mut input: Box<dyn Read + Send>,
    ) -> Result<Chunked, PcapError<&'static [u8]>> {
        let chunk = chunk.max(64);
        let mut window = Vec::with_capacity(chunk.min(capacity));
        let end = fill(&mut input, &mut window, 0, chunk.min(capacity));
        if end == 0 {
            return Err(PcapError::Eof);
        }
        let cut = matches!(
            parse_sectionheaderblock(&window),
            Err(nom::Err::Incomplete(_))
        );
        if cut && end < capacity {
            fill(&mut input, &mut window, end, capacity);
        }
        let format = if parse_sectionheaderblock(&window).is_ok() {
            Format::Ng { big_endian: false }
        } else {
            match parse_pcap_header(&window) {
                Ok((_, header)) => {
                    let parse: LegacyParse = if header.is_modified_format() {
                        parse_pcap_frame_modified
                    } else if header.is_bigendian() {
                        parse_pcap_frame_be
                    } else {
                        parse_pcap_frame
                    };
                    Format::Legacy { header, parse }
                }
                Err(nom::Err::Incomplete(Needed::Size(n))) => {
                    return Err(PcapError::Incomplete(n.into()))
                }
                Err(nom::Err::Incomplete(Needed::Unknown)) => return Err(PcapError::Incomplete(0)),
                Err(_) => return Err(PcapError::HeaderNotRecognized),
            }
        };
        Ok(Chunked {
            window,
            pos: 0,
            consumed: 0,
            capacity,
            exhausted: false,
            format,
            source: Source::Input(input),
            chunk,
        })
    }

    /// Hands the input to a reading thread: what follows the last whole block of the window
    /// goes with it, to start its first chunk. `None` when there is nothing left to read.
    fn start(&mut self) -> Option<Start> {
        let Source::Input(_) = self.source else {
            return None;
        };
        let Source::Input(input) = std::mem::replace(&mut self.source, Source::Gone) else {
            return None;
        };
        let mut framing = match &self.format {
            Format::Legacy { header, .. } => Framing::Legacy {
                file_header: self.consumed == 0,
                record_header: if header.is_modified_format() { 24 } else { 16 },
                big_endian: header.is_bigendian(),
            },
            Format::Ng { big_endian } => Framing::Ng {
                big_endian: *big_endian,
            },
        };
        let carry = match framing.whole(&self.window[self.pos..]) {
            Ok((end, _)) => self.window.split_off(self.pos + end),
            // Damage already in sight: the thread sends the bytes as they come.
            Err(Damaged) => {
                framing = Framing::Damaged;
                Vec::new()
            }
        };
        Some((input, framing, carry, self.chunk))
    }

    /// The next chunk from the reading thread, `None` at the end of the input.
    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let Source::Thread { chunks, .. } = &self.source else {
            return None;
        };
        let chunk = chunks.recv().ok();
        if chunk.is_none() {
            self.source = Source::Gone;
        }
        chunk
    }
}

impl PcapReaderIterator for Chunked {
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        let data = &self.window[self.pos..];
        let parsed = match &mut self.format {
            Format::Legacy { header, .. } if self.consumed == 0 => {
                return Ok((header.size(), PcapBlockOwned::from(header.clone())));
            }
            _ if data.is_empty() && self.exhausted => return Err(PcapError::Eof),
            Format::Legacy { parse, .. } => parse(data).map(|(rem, b)| (rem, b.into())),
            Format::Ng { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                parse(data).map(|(rem, b)| {
                    if let Block::SectionHeader(shb) = &b {
                        *big_endian = shb.big_endian();
                    }
                    (rem, b.into())
                })
            }
        };
        match parsed {
            Ok((rem, block)) => Ok((data.len() - rem.len(), block)),
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
            Err(nom::Err::Incomplete(_)) if self.exhausted => Err(PcapError::UnexpectedEof),
            Err(nom::Err::Incomplete(Needed::Size(n))) => {
                if data.len() + usize::from(n) >= self.capacity {
                    Err(PcapError::BufferTooSmall)
                } else {
                    Err(PcapError::Incomplete(n.into()))
                }
            }
            Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        }
    }

    fn consume(&mut self, offset: usize) {
        self.consume_noshift(offset);
    }

    fn consume_noshift(&mut self, offset: usize) {
        self.consumed += offset;
        self.pos = (self.pos + offset).min(self.window.len());
    }

    fn consumed(&self) -> usize {
        self.consumed
    }

    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        match &mut self.source {
            Source::Input(input) => {
                self.window.drain(..self.pos);
                self.pos = 0;
                let room = self.capacity.saturating_sub(self.window.len());
                if room > 0 {
                    let before = self.window.len();
                    let after = fill(input, &mut self.window, before, before + room);
                    self.exhausted = after == before;
                }
            }
            Source::Thread { .. } => match self.next_chunk() {
                // The window is used up (a chunk ends where a block does): the next chunk
                // takes its place as it is.
                Some(chunk) if self.pos == self.window.len() => {
                    let mut spent = std::mem::replace(&mut self.window, chunk);
                    self.pos = 0;
                    if let Source::Thread { spent: back, .. } = &self.source {
                        // A chunk grown for one long block goes back a chunk's size.
                        if spent.capacity() > 2 * self.chunk {
                            spent.truncate(self.chunk);
                            spent.shrink_to(self.chunk);
                        }
                        let _ = back.try_send(spent);
                    }
                }
                // A block cut between chunks (after damage): joined, up to the capacity or
                // the end, as a refill of pcap-parser's buffer would.
                Some(chunk) => {
                    self.window.drain(..self.pos);
                    self.pos = 0;
                    let mut next = Some(chunk);
                    while let Some(chunk) = next.take() {
                        self.window.extend_from_slice(&chunk);
                        if let Source::Thread { spent: back, .. } = &self.source {
                            let _ = back.try_send(chunk);
                        }
                        if self.window.len() < self.capacity {
                            next = self.next_chunk();
                            self.exhausted = next.is_none();
                        }
                    }
                }
                None => self.exhausted = true,
            },
            Source::Gone => self.exhausted = true,
        }
        Ok(())
    }

    fn position(&self) -> usize {
        self.pos
    }

    fn grow(&mut self, new_size: usize) -> bool {
        if self.capacity >= new_size {
            return false;
        }
        self.capacity = new_size;
        true
    }

    fn data(&self) -> &[u8] {
        &self.window[self.pos..]
    }

    fn reader_exhausted(&self) -> bool {
        self.exhausted
    }
}

/// Reads `input` into `buf` from `from` until it holds `upto` bytes or the input ends;
/// returns its length. Only bytes past what `buf` held are zeroed first: a chunk coming back
/// keeps its length, so reading into it again costs no clearing. (The input is
/// [`super::Lenient`]: an error reads as the end.)
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, from: usize, upto: usize) -> usize {
    if buf.len() < upto {
        buf.resize(upto, 0);
    }
    let mut n = from.min(upto);
    while n < upto {
        match input.read(&mut buf[n..upto]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    buf.truncate(n);
    n
}

/// A block header claiming a length the parser stops at.
#[derive(Debug)]
struct Damaged;

/// Finds where blocks end, from block header to block header.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Legacy {
        /// The 24-byte file header comes first.
        file_header: bool,
        record_header: usize,
        big_endian: bool,
    },
    Ng {
        big_endian: bool,
    },
    /// Past damage: no more framing.
    Damaged,
}

impl Framing {
    /// The end of the last whole block of `b` (which starts at a block), and the length of
    /// the block after it when its header is there.
    fn whole(&mut self, b: &[u8]) -> Result<(usize, Option<usize>), Damaged> {
        let mut at = 0;
        loop {
            let rest = &b[at..];
            let len = match self {
                Framing::Legacy {
                    file_header: true, ..
                } => 24,
                Framing::Legacy {
                    record_header,
                    big_endian,
                    ..
                } => {
                    let Some(caplen) = word(rest, 8, *big_endian) else {
                        return Ok((at, None));
                    };
                    if caplen > MAX_PACKET {
                        return Err(Damaged);
                    }
                    *record_header + caplen as usize
                }
                Framing::Ng { big_endian } => {
                    if rest.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                        match rest.get(8..12) {
                            Some([0x1a, 0x2b, 0x3c, 0x4d]) => *big_endian = true,
                            Some([0x4d, 0x3c, 0x2b, 0x1a]) => *big_endian = false,
                            Some(_) => return Err(Damaged),
                            None => return Ok((at, None)),
                        }
                    }
                    let Some(len) = word(rest, 4, *big_endian) else {
                        return Ok((at, None));
                    };
                    let len = len as usize;
                    if !(12..=MAX_BLOCK).contains(&len) {
                        return Err(Damaged);
                    }
                    len
                }
                Framing::Damaged => return Err(Damaged),
            };
            if rest.len() < len {
                return Ok((at, Some(len)));
            }
            at += len;
            if let Framing::Legacy { file_header, .. } = self {
                *file_header = false;
            }
        }
    }
}

/// The 32-bit word at `at` of `b`, in the given byte order.
fn word(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    })
}

/// The reading thread: chunks of whole blocks (after damage, of bytes as they come) until
/// the input ends or the analysis stops taking them.
fn read_ahead(
    (mut input, framing, mut carry, chunk): Start,
    chunks: SyncSender<Vec<u8>>,
    spent: Receiver<Vec<u8>>,
) {
    // `None` past damage: chunks of bytes as they come.
    let mut framing = Some(framing).filter(|f| !matches!(f, Framing::Damaged));
    let mut made = 0;
    loop {
        let mut buf = match spent.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Empty) if made < AHEAD + 2 => {
                made += 1;
                Vec::with_capacity(chunk)
            }
            Err(TryRecvError::Empty) => match spent.recv() {
                Ok(b) => b,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        // The carry first, over what the chunk held before.
        let keep = carry.len();
        if buf.len() < keep {
            buf.resize(keep, 0);
        }
        buf[..keep].copy_from_slice(&carry);
        carry.clear();
        let (mut have, mut framed, mut upto) = (keep, 0, chunk.max(keep));
        let ended = loop {
            let to = upto;
            have = fill(&mut *input, &mut buf, have, to);
            if let Some(f) = framing.as_mut() {
                match f.whole(&buf[framed..have]) {
                    Ok((end, next)) => {
                        framed += end;
                        // One block longer than a chunk: all of it in this one.
                        if let Some(len) = next.filter(|_| framed == 0) {
                            upto = upto.max(len);
                        }
                    }
                    Err(Damaged) => framing = None,
                }
            }
            if have < to {
                break true;
            }
            if have >= upto {
                break false;
            }
        };
        if !ended && framing.is_some() {
            carry.extend_from_slice(&buf[framed..]);
            buf.truncate(framed);
        }
        if !buf.is_empty() && chunks.send(buf).is_err() {
            return;
        }
        if ended {
            return;
        }
    }
}

/// What the reading thread starts from: the input, the framing where the analysis's window
/// ends, and the bytes of that window after its last whole block.
type Start = (Box<dyn Read + Send>, Framing, Vec<u8>, usize);

/// [`CaptureReader::for_each_while`] with the reading on a scoped thread of its own.
pub(super) fn for_each_while(
    reader: &mut CaptureReader,
    warnings: &mut Vec<Warning>,
    on_event: impl FnMut(CaptureEvent<'_>) -> bool,
) {
    let (start_tx, start_rx) = sync_channel::<Start>(1);
    let (chunks_tx, chunks) = sync_channel::<Vec<u8>>(AHEAD);
    let (spent, spent_rx) = sync_channel::<Vec<u8>>(AHEAD + 2);
    std::thread::scope(|s| {
        // The input goes to the thread once it runs: without one, it is read here.
        let reading = std::thread::Builder::new()
            .name("pagetrace-read".into())
            .spawn_scoped(s, move || {
                if let Ok(start) = start_rx.recv() {
                    read_ahead(start, chunks_tx, spent_rx);
                }
            });
        let started = match (&reading, &mut reader.inner) {
            (Ok(_), super::Inner::Ahead(c)) => match c.start() {
                Some(start) => {
                    c.source = Source::Thread { chunks, spent };
                    start_tx.send(start).is_ok()
                }
                None => false,
            },
            _ => false,
        };
        drop(start_tx);
        reader.read_here_while(warnings, on_event);
        if started {
            // The analysis may have stopped early: the channels' ends go with the source,
            // so the thread stops at its next hand-over.
            if let super::Inner::Ahead(c) = &mut reader.inner {
                c.source = Source::Gone;
            }
        }
        if let Ok(reading) = reading {
            if let Err(e) = reading.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}
