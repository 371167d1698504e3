//! Reading a capture on a thread of its own (`analyze --threads` of 2 or more).
//!
//! The reading thread does only the file's `read` calls (the kernel's copy out of the page
//! cache, about as long as the whole analysis of a page load on one thread) and a
//! compressed capture's decompression, into chunks of [`CHUNK`] bytes. The analysis thread
//! parses the blocks where they lie ([`Chunked`]: pcap-parser's block parsers on the chunk)
//! and hands each chunk back when it is done with it: no packet byte is copied on the way.
//! A block cut between two chunks is joined alone: its length read from its header, the
//! rest of the cut part of it read from the next chunk, which is then parsed from there.
//! The blocks, frame numbers, times and bytes are those read on one thread, and so is the
//! report.
//!
//! When a header cannot say (damage: a length the parser stops at), the chunks are joined
//! whole, as pcap-parser's reader would refill its buffer: what the parser makes of the
//! damage, and the warning, are the same.
//!
//! Memory: at most [`AHEAD`] chunks wait, and [`AHEAD`] + 2 exist (the analysis's first
//! window is one of them; a chunk grown for a long block goes back a chunk's size).

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
pub const CHUNK: usize = 1 << 20;
/// The same when decrypting ([`chunk_for`]).
pub const CHUNK_DECRYPTING: usize = 4 << 20;

/// The chunk size for an analysis that decrypts or not. Decrypting, the analysis reads every
/// byte of a record (to open it) where otherwise it reads the headers, and it is the slower
/// thread: on this project's two cores, larger chunks halved the cost of its copy of records
/// out of the segments (0.35 s against 0.40 s for the 1 GiB benchmark), and cost 12 MiB
/// more, which a run without keys keeps (1.5 million SYNs stream in under 128 MiB).
pub fn chunk_for(decrypting: bool) -> usize {
    if decrypting {
        CHUNK_DECRYPTING
    } else {
        CHUNK
    }
}
/// The chunk size for a streamed analysis (`jsonl`, `csv`, Parquet), whose memory tracks
/// the connections open: half a chunk where the analysis does not decrypt (a flood of 1.5
/// million SYNs streams in under 128 MiB with the writing thread beside it; a whole report
/// of the 1 GiB benchmark read 4% faster in 1 MiB chunks than in these).
pub fn chunk_for_stream(decrypting: bool) -> usize {
    if decrypting {
        CHUNK_DECRYPTING
    } else {
        CHUNK_STREAMED
    }
}
/// [`CHUNK`] when streamed.
pub const CHUNK_STREAMED: usize = 512 << 10;
/// Chunks read ahead of the analysis.
const AHEAD: usize = 2;
/// Spent chunks given back to the reading thread at once.
const HELD: usize = 2;

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
    /// A chunk whose first bytes completed a block cut at the end of the one before, and
    /// where the next block starts in it.
    rest: Option<(Vec<u8>, usize)>,
    /// Spent buffers not given back yet ([`Self::give_back`]).
    held: Vec<Vec<u8>>,
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
            rest: None,
            held: Vec::new(),
        })
    }

    /// Hands the input to a reading thread; `None` when it went already.
    fn start(&mut self) -> Option<Start> {
        match std::mem::replace(&mut self.source, Source::Gone) {
            Source::Input(input) => Some((input, self.chunk)),
            other => {
                self.source = other;
                None
            }
        }
    }

    /// The length of the block `head` starts (its first bytes, up to 24), when its header
    /// says one the parser takes: a legacy record up to [`MAX_PACKET`], a pcapng block of
    /// 12 bytes to [`MAX_BLOCK`] (a section header in its own byte order).
    fn block_len(&self, head: &[u8]) -> Option<usize> {
        match &self.format {
            Format::Legacy { header, .. } => {
                let caplen = word(head, 8, header.is_bigendian())?;
                let record = if header.is_modified_format() { 24 } else { 16 };
                (caplen <= MAX_PACKET).then_some(record + caplen as usize)
            }
            Format::Ng { big_endian } => {
                let big = if head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                    match head.get(8..12)? {
                        [0x1a, 0x2b, 0x3c, 0x4d] => true,
                        [0x4d, 0x3c, 0x2b, 0x1a] => false,
                        _ => return None,
                    }
                } else {
                    *big_endian
                };
                let len = word(head, 4, big)? as usize;
                (12..=MAX_BLOCK).contains(&len).then_some(len)
            }
        }
    }

    /// The chunk to go on with: the rest of one a cut block was joined from, else the
    /// reading thread's next.
    fn next_chunk(&mut self) -> Option<(Vec<u8>, usize)> {
        if let Some(rest) = self.rest.take() {
            return Some(rest);
        }
        let Source::Thread { chunks, .. } = &self.source else {
            return None;
        };
        let chunk = match chunks.try_recv() {
            Ok(c) => Some(c),
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => {
                // About to wait for the reading thread: it gets what was held back first.
                self.give_back_held();
                match &self.source {
                    Source::Thread { chunks, .. } => chunks.recv().ok(),
                    _ => None,
                }
            }
        };
        if chunk.is_none() {
            self.source = Source::Gone;
        }
        chunk.map(|c| (c, 0))
    }

    /// Sends the spent buffers held back to the reading thread.
    fn give_back_held(&mut self) {
        if let Source::Thread { spent: back, .. } = &self.source {
            for b in self.held.drain(..) {
                let _ = back.try_send(b);
            }
        }
    }

    /// Gives a spent buffer back to the reading thread (one grown for a long block goes
    /// back a chunk's size; a cut block's, much smaller, goes), [`HELD`] at a time: a
    /// reading thread that waits for one is woken once for them (each waking costs both
    /// threads, most where the analysis is the slower, when decrypting).
    fn give_back(&mut self, mut spent: Vec<u8>) {
        if spent.capacity() < self.chunk / 2 || !matches!(self.source, Source::Thread { .. }) {
            return;
        }
        if spent.capacity() > 2 * self.chunk {
            spent.truncate(self.chunk);
            spent.shrink_to(self.chunk);
        }
        self.held.push(spent);
        if self.held.len() >= HELD {
            self.give_back_held();
        }
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
            Source::Thread { .. } => {
                let Some((chunk, at)) = self.next_chunk() else {
                    self.exhausted = true;
                    return Ok(());
                };
                if self.pos == self.window.len() {
                    // The window is used up: the chunk takes its place as it is.
                    let spent = std::mem::replace(&mut self.window, chunk);
                    self.pos = at;
                    self.give_back(spent);
                    return Ok(());
                }
                // A block cut between chunks: joined alone when its header tells its
                // length and the chunk holds the rest of it.
                let tail = self.window.len() - self.pos;
                let mut head = self.window[self.pos..].to_vec();
                head.extend(chunk.iter().skip(at).take(24usize.saturating_sub(tail)));
                let more = self
                    .block_len(&head)
                    .filter(|&len| len > tail && len - tail <= chunk.len() - at)
                    .map(|len| len - tail);
                if let Some(more) = more {
                    let mut joined = Vec::with_capacity(tail + more);
                    joined.extend_from_slice(&self.window[self.pos..]);
                    joined.extend_from_slice(&chunk[at..at + more]);
                    let spent = std::mem::replace(&mut self.window, joined);
                    self.pos = 0;
                    self.give_back(spent);
                    self.rest = Some((chunk, at + more));
                    return Ok(());
                }
                // Otherwise (damage, or a block longer than the chunk): chunks joined whole,
                // up to the capacity or the end, as a refill of pcap-parser's buffer would.
                self.window.drain(..self.pos);
                self.pos = 0;
                let mut next = Some((chunk, at));
                while let Some((chunk, at)) = next.take() {
                    self.window.extend_from_slice(&chunk[at..]);
                    self.give_back(chunk);
                    if self.window.len() < self.capacity {
                        next = self.next_chunk();
                        self.exhausted = next.is_none();
                    }
                }
            }
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

/// The 32-bit word at `at` of `b`, in the given byte order.
fn word(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    })
}

/// The reading thread: chunks of the input as it comes until it ends or the analysis
/// stops taking them.
fn read_ahead((mut input, chunk): Start, chunks: SyncSender<Vec<u8>>, spent: Receiver<Vec<u8>>) {
    let mut made = 0;
    loop {
        let mut buf = match spent.try_recv() {
            Ok(b) => b,
            // The analysis's first window comes back as one more.
            Err(TryRecvError::Empty) if made < AHEAD + 1 => {
                made += 1;
                Vec::with_capacity(chunk)
            }
            Err(TryRecvError::Empty) => match spent.recv() {
                Ok(b) => b,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        let ended = fill(&mut *input, &mut buf, 0, chunk) < chunk;
        if !buf.is_empty() && chunks.send(buf).is_err() {
            return;
        }
        if ended {
            return;
        }
    }
}

/// What the reading thread starts from: the input (read up to the analysis's window) and
/// the chunk size.
type Start = (Box<dyn Read + Send>, usize);

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
