//! Saved captures: `.pcap` (micro- and nanosecond, either byte order) and `.pcapng` (several
//! interfaces of different link types, per-interface timestamp resolution and offset,
//! enhanced and simple packet blocks, Decryption Secrets Blocks).
//!
//! The only I/O in the library. Built on pcap-parser's streaming reader (zero-copy: a
//! packet's bytes borrow the reader's buffer until the callback returns), so memory is the
//! buffer whatever the file size; read ahead on a thread of its own, the same block
//! parsers run on the chunks that thread reads ([`readahead`]). The format is found by
//! magic number, never by extension, and so is a compression: a gzip (`1f 8b`) or zstd
//! (`28 b5 2f fd`) file is decompressed as it is read (flate2, zstd; streaming, so memory
//! stays the decoders' windows), as tshark reads them. A read or decompression error after
//! the header ends reading like the end of the file, with a warning saying what failed.
//!
//! Damage is not fatal once the file is known to be a capture: a record cut by the end of the
//! file, a record header claiming an impossible length, or an unparsable block ends reading
//! with a warning, and everything before it is analyzed. Only input that is not a capture
//! at all is an error ([`CaptureError`]).

#[cfg(feature = "live")]
pub mod live;
pub mod readahead;

use std::fmt;
use std::io::Read;
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapBlock, PcapBlockOwned, PcapError, PcapHeader};

use crate::link::LinkType;
use crate::time::Ts;
use crate::warning::Warning;
use crate::warning::WarningKind;

/// Largest packet a capture may hold (libpcap's MAXIMUM_SNAPLEN); a record claiming more
/// is damage, as tshark and capinfos also say.
pub const MAX_PACKET: u32 = 262_144;
/// Initial read buffer; it grows for larger pcapng blocks up to [`MAX_BLOCK`].
const BUFFER: usize = 1 << 20;
const MAX_BLOCK: usize = 64 << 20;

#[derive(Debug)]
pub enum CaptureError {
    Io(std::io::Error),
    Empty,
    NotACapture,
    /// A compressed file whose content is not a capture.
    NotACaptureInside(Compression),
    /// A compressed file that does not decompress.
    Compressed(Compression, std::io::Error),
    /// Reading failed before the capture's header (the reason in words).
    Unreadable(String),
    /// The file starts like a capture but its header is damaged.
    BadHeader(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io(e) => write!(f, "{e}"),
            CaptureError::Empty => write!(f, "the file is empty"),
            CaptureError::NotACapture => {
                write!(f, "not a pcap or pcapng capture (unknown magic number)")
            }
            CaptureError::NotACaptureInside(c) => write!(
                f,
                "{c}-compressed, but what it holds is not a pcap or pcapng capture"
            ),
            CaptureError::Compressed(c, e) => write!(f, "{c}: {e}"),
            CaptureError::Unreadable(why) => f.write_str(why),
            CaptureError::BadHeader(m) => write!(f, "damaged capture header: {m}"),
        }
    }
}

/// A compression found by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `1f 8b` (RFC 1952); several members are read one after the other, as `zcat` does.
    Gzip,
    /// `28 b5 2f fd` (RFC 8878); several frames likewise.
    Zstd,
}

impl Compression {
    fn of(head: &[u8; 4]) -> Option<Compression> {
        match head {
            [0x1f, 0x8b, _, _] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd] => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// A streaming decoder: memory stays the decoder's window, whatever the file size.
    fn decoder(self, input: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The first four bytes of `input` (fewer when it is shorter), and a reader that yields
/// them again before the rest.
type Sniffed = ([u8; 4], usize, Box<dyn Read + Send>);

fn sniff(mut input: Box<dyn Read + Send>) -> Result<Sniffed, CaptureError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CaptureError::Io(e)),
        }
    }
    if got == 0 {
        return Err(CaptureError::Empty);
    }
    let again = std::io::Cursor::new(head[..got].to_vec()).chain(input);
    Ok((head, got, Box::new(again)))
}

/// The capture format of a file starting with `head`.
fn capture_format(head: &[u8; 4]) -> Option<&'static str> {
    match head {
        [0x0a, 0x0d, 0x0d, 0x0a] => Some("pcapng"),
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x34, 0xcd, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xcd, 0x34] => Some("pcap"),
        _ => None,
    }
}

/// What is wrong with a file header pcap-parser refused, in words.
fn header_problem<I>(format: &str, e: PcapError<I>) -> String {
    match e {
        PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
            "the file ends inside the file header".into()
        }
        PcapError::ReadError => "read error in the file header".into(),
        PcapError::HeaderNotRecognized if format == "pcapng" => {
            "the pcapng section header is not valid (its byte-order magic or length is wrong)"
                .into()
        }
        PcapError::HeaderNotRecognized => "the pcap file header is not valid".into(),
        PcapError::BufferTooSmall => format!(
            "the {format} file header claims more than {} MiB",
            BUFFER >> 20
        ),
        _ => format!("the {format} file header does not parse"),
    }
}

/// Reads `inner`; its first error is kept for the reader's warning and reads as the end of
/// the input from then on (pcap-parser would only say "read error").
struct Lenient {
    inner: Box<dyn Read + Send>,
    compression: Option<Compression>,
    error: Arc<Mutex<Option<String>>>,
}

impl Read for Lenient {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if let Ok(mut slot) = self.error.lock() {
                        if slot.is_none() {
                            *slot = Some(match self.compression {
                                Some(c) => format!(
                                    "{c}: the compressed data is damaged or cut short ({e})"
                                ),
                                None => format!("read error: {e}"),
                            });
                        }
                    }
                    return Ok(0);
                }
                ok => return ok,
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// A packet as read from the capture; `data` borrows the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// 1-based frame number.
    pub frame: u64,
    pub ts: Ts,
    pub link: LinkType,
    pub data: &'a [u8],
    /// Length on the wire; more than `data.len()` when the snaplen cut the packet.
    pub orig_len: u32,
}

/// What reading a capture yields, in file order.
#[derive(Debug)]
pub enum CaptureEvent<'a> {
    Packet(Packet<'a>),
    /// A Decryption Secrets Block: for TLS, NSS key log text.
    Secrets {
        kind: SecretsKind,
        data: &'a [u8],
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsKind {
    TlsKeyLog,
    Other(u32),
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Units per second.
    resolution: u64,
    offset_secs: i64,
}

/// The block parser: pcap-parser's reader, or the same reading ahead on a thread.
enum Inner {
    Parser(Box<dyn PcapReaderIterator + Send>),
    Ahead(Box<readahead::Chunked>),
}

impl Inner {
    fn get(&mut self) -> &mut dyn PcapReaderIterator {
        match self {
            Inner::Parser(p) => p.as_mut(),
            Inner::Ahead(c) => c.as_mut(),
        }
    }

    fn data(&self) -> &[u8] {
        match self {
            Inner::Parser(p) => p.data(),
            Inner::Ahead(c) => c.data(),
        }
    }
}

/// Reads a capture from any `Read` (a file, standard input).
pub struct CaptureReader {
    inner: Inner,
    pub format: &'static str,
    /// How the file was compressed, when it was.
    pub compression: Option<Compression>,
    /// The first error reading the input (or decompressing it) after the header: reading
    /// ends there as at the end of the file, and this becomes a warning.
    read_error: Arc<Mutex<Option<String>>>,
    interfaces: Vec<Interface>,
    legacy: Option<Interface>,
    legacy_big_endian: Option<bool>,
    /// Byte order of the current pcapng section.
    ng_big_endian: bool,
    frame: u64,
    done: bool,
}

impl CaptureReader {
    /// A reader over `input`: pcap or pcapng, either of them possibly gzip- or
    /// zstd-compressed (found by magic bytes, as tshark does; decompressed as it is read).
    pub fn new<R: Read + Send + 'static>(input: R) -> Result<CaptureReader, CaptureError> {
        CaptureReader::with_read_ahead(input, false)
    }

    /// [`CaptureReader::new`]; with `read_ahead`, [`CaptureReader::for_each_while`] reads
    /// and decompresses the input on a thread of its own, chunks ahead of its caller, and
    /// parses the blocks where they lie in them ([`readahead`]).
    pub fn with_read_ahead<R: Read + Send + 'static>(
        input: R,
        read_ahead: bool,
    ) -> Result<CaptureReader, CaptureError> {
        CaptureReader::open(input, read_ahead.then_some(readahead::CHUNK))
    }

    /// [`CaptureReader::with_read_ahead`] in chunks of `chunk` bytes
    /// ([`readahead::chunk_for`]; tests make them small, so that blocks fall across chunks).
    pub fn with_read_ahead_chunks<R: Read + Send + 'static>(
        input: R,
        chunk: usize,
    ) -> Result<CaptureReader, CaptureError> {
        CaptureReader::open(input, Some(chunk))
    }

    fn open<R: Read + Send + 'static>(
        input: R,
        read_ahead: Option<usize>,
    ) -> Result<CaptureReader, CaptureError> {
        // Sniff the magic ourselves so "not a capture" is told apart from damage.
        let (head, _, input) = sniff(Box::new(input))?;
        let read_error = Arc::new(Mutex::new(None));
        let (compression, head, input) = match Compression::of(&head) {
            None => (None, head, input),
            Some(c) => {
                let inner = c
                    .decoder(input)
                    .map_err(|e| CaptureError::Compressed(c, e))?;
                let inner = Box::new(Lenient {
                    inner,
                    compression: Some(c),
                    error: read_error.clone(),
                });
                let (head, _, input) = sniff(inner).map_err(|e| {
                    let failed = read_error.lock().ok().and_then(|mut s| s.take());
                    match (e, failed) {
                        (_, Some(why)) => CaptureError::Unreadable(why),
                        (CaptureError::Io(e), None) => CaptureError::Compressed(c, e),
                        (other, None) => other,
                    }
                })?;
                (Some(c), head, input)
            }
        };
        let Some(format) = capture_format(&head) else {
            return Err(match compression {
                Some(c) => CaptureError::NotACaptureInside(c),
                None => CaptureError::NotACapture,
            });
        };
        let input: Box<dyn Read + Send> = match compression {
            Some(_) => input,
            None => Box::new(Lenient {
                inner: input,
                compression: None,
                error: read_error.clone(),
            }),
        };
        let inner = match read_ahead {
            Some(chunk) => {
                readahead::Chunked::new(BUFFER, chunk, input).map(|c| Inner::Ahead(Box::new(c)))
            }
            None => pcap_parser::create_reader(BUFFER, FillRead(input)).map(Inner::Parser),
        }
        .map_err(|e| CaptureError::BadHeader(header_problem(format, e)))?;
        Ok(CaptureReader {
            inner,
            format,
            compression,
            read_error,
            interfaces: Vec::new(),
            legacy: None,
            legacy_big_endian: None,
            ng_big_endian: false,
            frame: 0,
            done: false,
        })
    }

    /// Link types of the interfaces seen so far.
    pub fn link_types(&self) -> Vec<LinkType> {
        let mut v: Vec<LinkType> = Vec::new();
        for i in self.legacy.iter().chain(self.interfaces.iter()) {
            if !v.contains(&i.link) {
                v.push(i.link);
            }
        }
        v
    }

    /// Reads the whole capture, calling `on_event` for each packet and secrets block.
    /// Problems after the header end reading with a warning in `warnings`.
    pub fn for_each(
        &mut self,
        warnings: &mut Vec<Warning>,
        mut on_event: impl FnMut(CaptureEvent<'_>),
    ) {
        while let Some(()) = self.step(warnings, &mut on_event) {}
        let error = self.read_error.lock().ok().and_then(|mut e| e.take());
        if let Some(e) = error {
            warnings.push(Warning::new(
                Some(self.frame + 1),
                WarningKind::Io,
                format!("{e}; reading stopped"),
            ));
        }
    }

    /// As [`CaptureReader::for_each`], stopping after the block in which `on_event` first
    /// returned `false` (the reader of the output went away).
    pub fn for_each_while(
        &mut self,
        warnings: &mut Vec<Warning>,
        on_event: impl FnMut(CaptureEvent<'_>) -> bool,
    ) {
        if matches!(self.inner, Inner::Ahead(_)) {
            readahead::for_each_while(self, warnings, on_event);
        } else {
            self.read_here_while(warnings, on_event);
        }
    }

    /// [`CaptureReader::for_each_while`] on this thread.
    fn read_here_while(
        &mut self,
        warnings: &mut Vec<Warning>,
        mut on_event: impl FnMut(CaptureEvent<'_>) -> bool,
    ) {
        let go = std::cell::Cell::new(true);
        let mut each = |ev: CaptureEvent<'_>| {
            if go.get() {
                go.set(on_event(ev));
            }
        };
        while go.get() && self.step(warnings, &mut each).is_some() {}
    }

    /// Reads up to one block; `None` at the end.
    fn step(
        &mut self,
        warnings: &mut Vec<Warning>,
        on_event: &mut impl FnMut(CaptureEvent<'_>),
    ) -> Option<()> {
        if self.done {
            return None;
        }
        if self.format == "pcapng" {
            if let Some(w) = self.short_ng_block() {
                warnings.push(w);
                self.done = true;
                return None;
            }
        }
        match self.inner.get().next() {
            Ok((offset, block)) => {
                let mut bad: Option<Warning> = None;
                if let PcapBlockOwned::NG(Block::SectionHeader(shb)) = &block {
                    self.ng_big_endian = shb.big_endian();
                }
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        self.legacy_big_endian = Some(h.is_bigendian());
                        self.legacy = Some(legacy_interface(&h));
                    }
                    PcapBlockOwned::Legacy(b) => {
                        self.frame += 1;
                        if b.caplen > MAX_PACKET {
                            bad = Some(damage(self.frame, b.caplen));
                        } else {
                            on_event(CaptureEvent::Packet(legacy_packet(
                                self.frame,
                                self.legacy,
                                &b,
                            )));
                        }
                    }
                    PcapBlockOwned::NG(block) => {
                        ng_block(
                            &mut self.interfaces,
                            &mut self.frame,
                            block,
                            warnings,
                            on_event,
                        );
                    }
                }
                // Not `consume`, which moves the unread half of the buffer to its start
                // each time half of it was read (a copy of the whole file, 3% of a run):
                // the unread bytes move only when a block no longer fits, on refill, and
                // then they are less than one block.
                self.inner.get().consume_noshift(offset);
                if let Some(w) = bad {
                    warnings.push(w);
                    self.done = true;
                }
                Some(())
            }
            Err(PcapError::Eof) => {
                self.done = true;
                None
            }
            Err(PcapError::Incomplete(_)) => {
                if self.inner.get().refill().is_err() {
                    warnings.push(Warning::new(None, WarningKind::Io, "read error"));
                    self.done = true;
                }
                Some(())
            }
            Err(PcapError::BufferTooSmall) => self.grow_buffer(warnings),
            Err(PcapError::UnexpectedEof) => {
                self.cut_short(warnings);
                None
            }
            Err(e) => {
                let msg = match e {
                    PcapError::ReadError => "read error".to_string(),
                    PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                        format!(
                            "unparsable block ({kind:?}): damaged or corrupt file, reading stopped"
                        )
                    }
                    other => format!("{other:?}: reading stopped"),
                };
                warnings.push(Warning::new(
                    Some(self.frame + 1),
                    WarningKind::Corrupt,
                    msg,
                ));
                self.done = true;
                None
            }
        }
    }

    /// The next block does not fit the buffer: grows it (up to [`MAX_BLOCK`]) unless the
    /// block is a legacy record claiming an impossible length. `None` ends reading.
    fn grow_buffer(&mut self, warnings: &mut Vec<Warning>) -> Option<()> {
        if let Some(w) = self.oversized_record() {
            warnings.push(w);
            self.done = true;
            return None;
        }
        let size = self.inner.data().len().max(BUFFER) * 2;
        if size > MAX_BLOCK || !self.inner.get().grow(size) {
            warnings.push(Warning::new(
                Some(self.frame + 1),
                WarningKind::Corrupt,
                format!(
                    "a block larger than {} MiB: damaged or corrupt file, reading stopped",
                    MAX_BLOCK >> 20
                ),
            ));
            self.done = true;
            return None;
        }
        if self.inner.get().refill().is_err() {
            self.done = true;
        }
        Some(())
    }

    /// The file ends inside a record: says why (an impossible record length, or a cut
    /// file) and ends reading.
    fn cut_short(&mut self, warnings: &mut Vec<Warning>) {
        if let Some(w) = self.oversized_record() {
            warnings.push(w);
        } else {
            warnings.push(Warning::new(
                Some(self.frame + 1),
                WarningKind::Truncated,
                format!(
                    "the capture was cut short in the middle of a record after {} packet{}",
                    self.frame,
                    if self.frame == 1 { "" } else { "s" }
                ),
            ));
        }
        self.done = true;
    }

    /// The next pcapng block, when its header claims fewer bytes than a block header holds.
    /// pcapng (draft-ietf-opsawg-pcapng section 3.1): the Block Total Length counts the type,
    /// both lengths and the body, so it is at least 12. pcap-parser 0.17 subtracts 12 from it
    /// unchecked, and lets a Process Information Block's be as small as 4: an overflow (a
    /// panic in debug builds, a 4 GiB read in release), so such a block is refused here.
    fn short_ng_block(&self) -> Option<Warning> {
        let head = self.inner.data().get(..8)?;
        if head[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            return None; // a section header: its own byte order, and pcap-parser checks it
        }
        let b = [head[4], head[5], head[6], head[7]];
        let len = if self.ng_big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        (len < 12).then(|| {
            Warning::new(
                Some(self.frame + 1),
                WarningKind::Corrupt,
                format!(
                    "a pcapng block claims {len} bytes, less than a block's 12-byte frame: damaged or corrupt file, reading stopped"
                ),
            )
        })
    }

    /// A legacy record header claiming more than [`MAX_PACKET`] bytes.
    fn oversized_record(&self) -> Option<Warning> {
        let big_endian = self.legacy_big_endian?;
        let b: [u8; 4] = self.inner.data().get(8..12)?.try_into().ok()?;
        let caplen = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        (caplen > MAX_PACKET).then(|| damage(self.frame + 1, caplen))
    }
}

/// The interface of a legacy pcap file, from its header.
fn legacy_interface(h: &PcapHeader) -> Interface {
    let resolution = if h.is_nanosecond_precision() {
        1_000_000_000
    } else {
        1_000_000
    };
    Interface {
        link: LinkType::from_dlt(h.network.0 as u32),
        resolution,
        offset_secs: h.thiszone as i64,
    }
}

/// A legacy pcap record as packet number `frame`, on the file header's interface.
#[inline]
fn legacy_packet<'a>(frame: u64, legacy: Option<Interface>, b: &LegacyPcapBlock<'a>) -> Packet<'a> {
    let iface = legacy.unwrap_or(Interface {
        link: LinkType::Unknown(0),
        resolution: 1_000_000,
        offset_secs: 0,
    });
    let ts = Ts::from_parts(
        b.ts_sec as i64 + iface.offset_secs,
        b.ts_usec as u64,
        iface.resolution,
    );
    Packet {
        frame,
        ts,
        link: iface.link,
        data: b.data,
        orig_len: b.origlen,
    }
}

/// One pcapng block: interfaces are remembered, packets and secrets passed on.
fn ng_block(
    interfaces: &mut Vec<Interface>,
    frame: &mut u64,
    block: Block<'_>,
    warnings: &mut Vec<Warning>,
    on_event: &mut impl FnMut(CaptureEvent<'_>),
) {
    {
        match block {
            Block::SectionHeader(_) => interfaces.clear(),
            Block::InterfaceDescription(idb) => {
                let resolution = idb.ts_resolution().unwrap_or_else(|| {
                    warnings.push(Warning::new(
                        None,
                        WarningKind::Malformed,
                        format!("interface {} has an invalid timestamp resolution; microseconds assumed", interfaces.len()),
                    ));
                    1_000_000
                });
                interfaces.push(Interface {
                    link: LinkType::from_dlt(idb.linktype.0 as u32),
                    resolution,
                    offset_secs: idb.ts_offset(),
                });
            }
            Block::EnhancedPacket(epb) => {
                *frame += 1;
                let Some(iface) = interfaces.get(epb.if_id as usize).copied() else {
                    warnings.push(Warning::new(
                        Some(*frame),
                        WarningKind::Malformed,
                        format!(
                            "packet names interface {} which was never described",
                            epb.if_id
                        ),
                    ));
                    return;
                };
                let raw = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                let secs = (raw / iface.resolution) as i64 + iface.offset_secs;
                let ts = Ts::from_parts(secs, raw % iface.resolution, iface.resolution);
                let len = (epb.caplen as usize).min(epb.data.len());
                on_event(CaptureEvent::Packet(Packet {
                    frame: *frame,
                    ts,
                    link: iface.link,
                    data: &epb.data[..len],
                    orig_len: epb.origlen,
                }));
            }
            Block::SimplePacket(spb) => {
                *frame += 1;
                let Some(iface) = interfaces.first().copied() else {
                    return;
                };
                // A simple packet block has no timestamp; it inherits none (time 0 would lie),
                // so it is given the previous packet's time by the pipeline's clock.
                on_event(CaptureEvent::Packet(Packet {
                    frame: *frame,
                    ts: Ts(i64::MIN),
                    link: iface.link,
                    data: spb.data,
                    orig_len: spb.origlen,
                }));
            }
            Block::DecryptionSecrets(dsb) => {
                let kind = if dsb.secrets_type.0 == 0x544c_534b {
                    SecretsKind::TlsKeyLog
                } else {
                    SecretsKind::Other(dsb.secrets_type.0)
                };
                let len = (dsb.secrets_len as usize).min(dsb.data.len());
                on_event(CaptureEvent::Secrets {
                    kind,
                    data: &dsb.data[..len],
                });
            }
            _ => {}
        }
    }
}

/// Fills the caller's buffer as far as the input allows: pcap-parser sniffs the format from
/// a single `read`, and pipes and chained readers return short reads.
struct FillRead<R>(R);

impl<R: Read> Read for FillRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.0.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if n > 0 => {
                    let _ = e;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

fn damage(frame: u64, caplen: u32) -> Warning {
    Warning::new(
        Some(frame),
        WarningKind::Corrupt,
        format!(
            "record {frame} claims {caplen} bytes, more than the {MAX_PACKET}-byte maximum: damaged or corrupt file, reading stopped"
        ),
    )
}
