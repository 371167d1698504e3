//! Live capture (feature `live`): packets from a network interface through libpcap, in the
//! same [`Packet`] form the file reader yields, so the very same `Analyzer` sees them; a
//! pcapng writer for `-w`; and a follower for a key log that is still being written.
//!
//! Consumes: an interface name and a [`LiveConfig`]. Produces: [`Packet`]s numbered from 1
//! with nanosecond kernel timestamps (Linux; microseconds elsewhere), capture statistics
//! ([`LiveStats`]), and typed [`LiveError`]s for the cases a user must be told about (no
//! permission, no such interface, a filter libpcap rejects).
//!
//! Guarantees:
//! - **Never blocks forever.** The handle is non-blocking; [`LiveCapture::wait`] polls its
//!   file descriptor with a timeout and [`LiveCapture::read_available`] only takes what is
//!   already buffered. On Linux `pcap_next_ex` blocks forever on an idle interface even with a
//!   read timeout (libpcap #572/#1001, rust-pcap #103), so the caller's clock, signals,
//!   `--duration` and `--count` all work with no traffic at all.
//! - **Bounded memory.** The kernel ring is `buffer_size` bytes (default
//!   [`DEFAULT_BUFFER`], 64 MiB: a 4 MiB ring dropped 8,001 of 14,532 packets of a loopback
//!   burst); each packet borrows it only for the callback. The key log follower keeps at
//!   most one partial line ([`MAX_KEYLOG_LINE`]) and reads at most [`MAX_KEYLOG_READ`] per call.
//! - **A `-w` file analyzes like the live run.** [`PcapngWriter`] writes every packet handed
//!   out, in order, with the same link type, timestamps (if_tsresol = 9, nanoseconds) and
//!   lengths, and key log text as Decryption Secrets Blocks at the point the live run learned
//!   it (after an empty one at the start when the key log is followed, which tells the reader
//!   that secrets may come after their records, as they did live), so frame numbers and
//!   results agree.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::capture::{Packet, MAX_PACKET};
use crate::link::LinkType;
use crate::time::Ts;

/// Default kernel buffer: large enough for a page load at full speed.
pub const DEFAULT_BUFFER: u32 = 64 << 20;
/// Default snapshot length: whole packets (libpcap's maximum).
pub const DEFAULT_SNAPLEN: u32 = MAX_PACKET;
/// libpcap read timeout: with TPACKET_V3 a ring block is handed over at the latest this
/// long after its first packet, so a quiet interface delivers within this bound.
pub const READ_TIMEOUT_MS: u16 = 100;
/// A key log line longer than this is not a key log line; it is dropped.
pub const MAX_KEYLOG_LINE: usize = 64 << 10;
/// Most key log bytes read in one [`KeylogFollower::poll`]; the rest waits for the next.
pub const MAX_KEYLOG_READ: u64 = 16 << 20;

/// How to open the capture.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub interface: String,
    /// A BPF filter expression (tcpdump syntax).
    pub filter: Option<String>,
    pub snaplen: u32,
    /// Kernel buffer in bytes.
    pub buffer_size: u32,
    pub promisc: bool,
}

impl LiveConfig {
    pub fn new(interface: &str) -> LiveConfig {
        LiveConfig {
            interface: interface.to_string(),
            filter: None,
            snaplen: DEFAULT_SNAPLEN,
            buffer_size: DEFAULT_BUFFER,
            promisc: true,
        }
    }
}

#[derive(Debug)]
pub enum LiveError {
    /// The process may not capture: not root and without the capabilities.
    Permission {
        interface: String,
        message: String,
    },
    NoSuchInterface(String),
    /// libpcap did not accept the filter; its message.
    Filter {
        filter: String,
        message: String,
    },
    /// Anything else libpcap or the system reported.
    Pcap(String),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Permission { interface, message } => write!(
                f,
                "no permission to capture on {interface} ({message}): capturing needs root or the \
                 CAP_NET_RAW and CAP_NET_ADMIN capabilities (for example \
                 `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v pagetrace)`)"
            ),
            LiveError::NoSuchInterface(i) => write!(
                f,
                "no such interface: {i} (`pagetrace live --list` shows the interfaces)"
            ),
            LiveError::Filter { filter, message } => {
                write!(f, "invalid capture filter \"{filter}\": {message}")
            }
            LiveError::Pcap(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for LiveError {}

/// libpcap's counters for the capture (`pcap_stats`). On Linux `received` counts every
/// packet that passed the filter, dropped or not; on a loopback interface the kernel counts
/// each packet twice (sent and received) while libpcap hands out one copy, so `received` is
/// twice the packets there. libpcap keeps them as 32-bit counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LiveStats {
    pub received: u64,
    /// No room in the kernel buffer: the reader was too slow.
    pub dropped_by_kernel: u64,
    /// Dropped by the interface or its driver.
    pub dropped_by_interface: u64,
}

/// One interface libpcap can capture on.
#[derive(Debug, Clone)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub wireless: bool,
}

/// The interfaces libpcap can capture on (`pcap_findalldevs`), in its order.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devices = pcap::Device::list().map_err(|e| LiveError::Pcap(e.to_string()))?;
    Ok(devices
        .into_iter()
        .map(|d| InterfaceInfo {
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            name: d.name,
            description: d.desc,
        })
        .collect())
}

/// An open, non-blocking capture.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    interface: String,
    link: LinkType,
    dlt: u32,
    snaplen: u32,
    /// Units per second of the timestamps libpcap hands out.
    resolution: u64,
    /// Packets handed out so far (the last frame number).
    frame: u64,
}

impl LiveCapture {
    /// Opens `cfg.interface`: checks it exists, activates it, sets non-blocking mode and the
    /// filter.
    pub fn open(cfg: &LiveConfig) -> Result<LiveCapture, LiveError> {
        let name = cfg.interface.as_str();
        // pcap_create accepts any name; activation's "no such device" text varies by
        // platform, so ask the device list first (it needs no privileges).
        if let Ok(devices) = pcap::Device::list() {
            if !devices.iter().any(|d| d.name == name) {
                return Err(LiveError::NoSuchInterface(name.to_string()));
            }
        }
        let snaplen = cfg.snaplen.clamp(1, MAX_PACKET);
        // The `any` device cannot be promiscuous; libpcap says so with a warning that
        // pcap_activate's caller must treat as an error through the pcap crate.
        let promisc = cfg.promisc && name != "any";
        let inactive = pcap::Capture::from_device(name)
            .map_err(|e| classify(name, e))?
            .snaplen(snaplen as i32)
            .buffer_size(cfg.buffer_size.min(i32::MAX as u32) as i32)
            .promisc(promisc)
            .timeout(READ_TIMEOUT_MS as i32);
        // Linux hands out nanoseconds when asked; elsewhere the request may be refused
        // silently, and the pcap crate cannot tell, so stay with microseconds there.
        #[cfg(target_os = "linux")]
        let (inactive, resolution) = (inactive.precision(pcap::Precision::Nano), 1_000_000_000);
        #[cfg(not(target_os = "linux"))]
        let resolution = 1_000_000;
        let cap = inactive.open().map_err(|e| classify(name, e))?;
        let mut cap = cap.setnonblock().map_err(|e| classify(name, e))?;
        if let Some(f) = &cfg.filter {
            cap.filter(f, true).map_err(|e| LiveError::Filter {
                filter: f.clone(),
                message: pcap_message(&e),
            })?;
        }
        let dlt = cap.get_datalink().0 as u32;
        Ok(LiveCapture {
            cap,
            interface: name.to_string(),
            link: LinkType::from_dlt(dlt),
            dlt,
            snaplen,
            resolution,
            frame: 0,
        })
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The link type number (DLT / LINKTYPE) for the pcapng interface block.
    pub fn dlt(&self) -> u32 {
        self.dlt
    }

    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Packets handed out so far.
    pub fn packets(&self) -> u64 {
        self.frame
    }

    /// Waits up to `timeout` for packets. `Ok(false)` on timeout or when a signal interrupted
    /// the wait: the caller checks its flags and comes back.
    pub fn wait(&self, timeout: Duration) -> Result<bool, LiveError> {
        let ms = timeout.as_millis().min(u16::MAX as u128) as u16;
        let mut fds = [PollFd::new(self.cap.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => Ok(n > 0),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(LiveError::Pcap(format!("poll on the capture: {e}"))),
        }
    }

    /// Hands every packet already buffered, at most `max`, to `on_packet`; never blocks.
    /// Returns how many were handed out.
    pub fn read_available(
        &mut self,
        max: u64,
        mut on_packet: impl FnMut(&Packet<'_>),
    ) -> Result<u64, LiveError> {
        let mut total = 0u64;
        let link = self.link;
        let resolution = self.resolution;
        while total < max {
            let want = (max - total).min(1 << 16) as usize;
            let frame = &mut self.frame;
            let n = self
                .cap
                .dispatch(Some(want), |p| {
                    *frame += 1;
                    let h = p.header;
                    // time_t and suseconds_t are 32-bit on some targets.
                    #[allow(clippy::unnecessary_cast)]
                    let ts =
                        Ts::from_parts(h.ts.tv_sec as i64, h.ts.tv_usec.max(0) as u64, resolution);
                    on_packet(&Packet {
                        frame: *frame,
                        ts,
                        link,
                        data: p.data,
                        orig_len: h.len,
                    });
                })
                .map_err(|e| {
                    LiveError::Pcap(format!("reading the capture: {}", pcap_message(&e)))
                })?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        Ok(total)
    }

    /// libpcap's counters since the capture opened.
    pub fn stats(&mut self) -> Result<LiveStats, LiveError> {
        let s = self
            .cap
            .stats()
            .map_err(|e| LiveError::Pcap(format!("capture statistics: {}", pcap_message(&e))))?;
        Ok(LiveStats {
            received: s.received as u64,
            dropped_by_kernel: s.dropped as u64,
            dropped_by_interface: s.if_dropped as u64,
        })
    }
}

fn pcap_message(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(m) if !m.is_empty() => m.clone(),
        other => other.to_string(),
    }
}

/// Tells permission and missing-device failures apart from the rest by libpcap's text
/// (PCAP_ERROR_PERM_DENIED and PCAP_ERROR_NO_SUCH_DEVICE do not reach us as codes).
fn classify(interface: &str, e: pcap::Error) -> LiveError {
    let message = pcap_message(&e);
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            message,
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface(interface.to_string())
    } else {
        LiveError::Pcap(format!("cannot capture on {interface}: {message}"))
    }
}

// ---------------------------------------------------------------------------------------
// pcapng writer
// ---------------------------------------------------------------------------------------

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const DSB: u32 = 0x0000_000A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Decryption Secrets Block type for an NSS key log (draft-ietf-opsawg-pcapng, 4.7).
pub const SECRETS_TLS_KEYLOG: u32 = 0x544C_534B;
const OPT_ENDOFOPT: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
/// A secrets block larger than this is split (readers cap block sizes; pagetrace at 64 MiB).
const MAX_SECRETS_BLOCK: usize = 1 << 20;

/// Writes a pcapng file (little-endian, one section, one interface) as packets arrive.
///
/// Block layouts from draft-ietf-opsawg-pcapng: every block is `type, total length, body,
/// total length`, the body padded to 32 bits; the interface says `if_tsresol = 9`, so an
/// Enhanced Packet Block's 64-bit timestamp counts nanoseconds since the epoch.
pub struct PcapngWriter<W: Write> {
    out: W,
    snaplen: u32,
    /// Bytes written so far.
    pub bytes: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block and the one Interface Description Block.
    pub fn new(out: W, dlt: u32, snaplen: u32, if_name: &str) -> io::Result<PcapngWriter<W>> {
        let mut w = PcapngWriter {
            out,
            snaplen,
            bytes: 0,
        };
        // SHB: magic, major 1, minor 0, section length -1 (unknown), options.
        let appl = concat!("pagetrace ", env!("CARGO_PKG_VERSION")).as_bytes();
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        push_option(&mut body, OPT_SHB_USERAPPL, appl);
        push_option(&mut body, OPT_ENDOFOPT, &[]);
        w.block(SHB, &body)?;
        // IDB: link type, reserved, snaplen, options.
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&((dlt & 0xffff) as u16).to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&snaplen.to_le_bytes());
        let name = if_name.as_bytes();
        if !name.is_empty() && name.len() <= 256 {
            push_option(&mut body, OPT_IF_NAME, name);
        }
        push_option(&mut body, OPT_IF_TSRESOL, &[9]);
        push_option(&mut body, OPT_ENDOFOPT, &[]);
        w.block(IDB, &body)?;
        Ok(w)
    }

    fn block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let total = 12 + padded(body.len());
        self.out.write_all(&kind.to_le_bytes())?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.out.write_all(body)?;
        self.out
            .write_all(&[0u8; 3][..padded(body.len()) - body.len()])?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.bytes += total as u64;
        Ok(())
    }

    /// One Enhanced Packet Block on interface 0. Writes no allocation.
    pub fn write_packet(&mut self, p: &Packet<'_>) -> io::Result<()> {
        let data = p.data.get(..self.snaplen as usize).unwrap_or(p.data);
        let caplen = data.len();
        let total = 32 + padded(caplen);
        let nanos = p.ts.nanos().max(0) as u64;
        let mut head = [0u8; 28];
        head[0..4].copy_from_slice(&EPB.to_le_bytes());
        head[4..8].copy_from_slice(&(total as u32).to_le_bytes());
        // head[8..12]: interface 0.
        head[12..16].copy_from_slice(&((nanos >> 32) as u32).to_le_bytes());
        head[16..20].copy_from_slice(&(nanos as u32).to_le_bytes());
        head[20..24].copy_from_slice(&(caplen as u32).to_le_bytes());
        head[24..28].copy_from_slice(&p.orig_len.max(caplen as u32).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..padded(caplen) - caplen])?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.bytes += total as u64;
        Ok(())
    }

    /// An empty key log Decryption Secrets Block: written first when the key log is followed,
    /// it tells the reader that secrets come later in the file, as they came to the live run
    /// (`Analyzer::follow_keylog`), so records that came before their keys are kept there
    /// too.
    pub fn write_keylog_follows(&mut self) -> io::Result<()> {
        let mut body = Vec::with_capacity(8);
        body.extend_from_slice(&SECRETS_TLS_KEYLOG.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        self.block(DSB, &body)
    }

    /// Key log text as Decryption Secrets Blocks (split at line ends past 1 MiB).
    pub fn write_keylog(&mut self, text: &[u8]) -> io::Result<()> {
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(MAX_SECRETS_BLOCK);
            if cut < rest.len() {
                if let Some(nl) = rest[..cut].iter().rposition(|&b| b == b'\n') {
                    cut = nl + 1;
                }
            }
            let (chunk, tail) = rest.split_at(cut);
            let mut body = Vec::with_capacity(8 + chunk.len());
            body.extend_from_slice(&SECRETS_TLS_KEYLOG.to_le_bytes());
            body.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
            body.extend_from_slice(chunk);
            self.block(DSB, &body)?;
            rest = tail;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn padded(n: usize) -> usize {
    (n + 3) & !3
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.resize(body.len() + padded(value.len()) - value.len(), 0);
}

// ---------------------------------------------------------------------------------------
// Key log follower
// ---------------------------------------------------------------------------------------

/// Follows an NSS key log that a browser is still appending to, like `tail -F`: each
/// [`KeylogFollower::poll`] returns the complete lines added since the last one. A file that
/// shrank was replaced or truncated, and is read again from its start; a file that does not
/// exist yet is waited for.
pub struct KeylogFollower {
    path: PathBuf,
    offset: u64,
    /// The end of the file when it did not end with a newline: the writer is mid-line.
    partial: Vec<u8>,
    /// Lines dropped for being longer than [`MAX_KEYLOG_LINE`].
    pub dropped_lines: u64,
}

impl KeylogFollower {
    pub fn new(path: &Path) -> KeylogFollower {
        KeylogFollower {
            path: path.to_path_buf(),
            offset: 0,
            partial: Vec::new(),
            dropped_lines: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The complete lines appended since the last call, `None` when there are none (or the
    /// file does not exist yet). Errors other than "not found" are returned.
    pub fn poll(&mut self) -> io::Result<Option<String>> {
        let mut f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        if len < self.offset {
            // Truncated or replaced: start again.
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset {
            return Ok(None);
        }
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        f.take((len - self.offset).min(MAX_KEYLOG_READ))
            .read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        Ok(self.take_lines(&buf))
    }

    /// Joins `buf` to the pending partial line and returns the complete lines.
    fn take_lines(&mut self, buf: &[u8]) -> Option<String> {
        let Some(last_nl) = buf.iter().rposition(|&b| b == b'\n') else {
            self.extend_partial(buf);
            return None;
        };
        let (complete, tail) = buf.split_at(last_nl + 1);
        let mut text = std::mem::take(&mut self.partial);
        text.extend_from_slice(complete);
        self.extend_partial(tail);
        // Drop over-long lines (and a partial line that overflowed, marked by a leading NUL).
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&0) || line.len() > MAX_KEYLOG_LINE {
                self.dropped_lines += 1;
                continue;
            }
            out.push_str(&String::from_utf8_lossy(line));
        }
        (!out.is_empty()).then_some(out)
    }

    fn extend_partial(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.partial.len() + bytes.len() > MAX_KEYLOG_LINE {
            // Keep a marker so the rest of this line is dropped when its newline comes.
            self.partial.clear();
            self.partial.push(0);
            return;
        }
        self.partial.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureEvent, CaptureReader, SecretsKind};

    fn packet(frame: u64, ts: i64, data: &[u8], orig_len: u32) -> Packet<'_> {
        Packet {
            frame,
            ts: Ts(ts),
            link: LinkType::Ethernet,
            data,
            orig_len,
        }
    }

    #[test]
    fn pcapng_round_trip_through_the_reader() {
        let mut w = PcapngWriter::new(Vec::new(), 1, 65535, "veth0").unwrap();
        w.write_keylog_follows().unwrap();
        w.write_keylog(b"CLIENT_RANDOM 00 11\n").unwrap();
        let a = [1u8, 2, 3, 4, 5];
        let b = [9u8; 8];
        w.write_packet(&packet(1, 1_700_000_000_123_456_789, &a, 60))
            .unwrap();
        w.write_packet(&packet(2, 1_700_000_001_000_000_001, &b, 8))
            .unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len() % 4, 0);
        let mut r = CaptureReader::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(r.format, "pcapng");
        let mut warnings = Vec::new();
        let mut seen: Vec<(u64, i64, Vec<u8>, u32, LinkType)> = Vec::new();
        let mut secrets = Vec::new();
        r.for_each(&mut warnings, |ev| match ev {
            CaptureEvent::Packet(p) => {
                seen.push((p.frame, p.ts.nanos(), p.data.to_vec(), p.orig_len, p.link))
            }
            CaptureEvent::Secrets { kind, data } => {
                assert_eq!(kind, SecretsKind::TlsKeyLog);
                secrets.push(data.to_vec());
            }
        });
        assert!(warnings.is_empty(), "{warnings:?}");
        // The empty block that says the key log follows, then the key log.
        assert_eq!(secrets, vec![Vec::new(), b"CLIENT_RANDOM 00 11\n".to_vec()]);
        assert_eq!(
            seen,
            vec![
                (
                    1,
                    1_700_000_000_123_456_789,
                    a.to_vec(),
                    60,
                    LinkType::Ethernet
                ),
                (
                    2,
                    1_700_000_001_000_000_001,
                    b.to_vec(),
                    8,
                    LinkType::Ethernet
                ),
            ]
        );
    }

    #[test]
    fn pcapng_block_layout() {
        let w = PcapngWriter::new(Vec::new(), 113, 262_144, "any").unwrap();
        let bytes = w.into_inner();
        // SHB: type, length, magic, version 1.0, section length -1.
        assert_eq!(&bytes[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        let shb_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(&bytes[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
        assert_eq!(&bytes[12..16], &[1, 0, 0, 0]);
        assert_eq!(&bytes[16..24], &[0xff; 8]);
        assert_eq!(&bytes[shb_len - 4..shb_len], &bytes[4..8]);
        // IDB: type 1, LINKTYPE_LINUX_SLL (113), snaplen, if_name "any", if_tsresol 9.
        let idb = &bytes[shb_len..];
        assert_eq!(&idb[0..4], &[1, 0, 0, 0]);
        let idb_len = u32::from_le_bytes(idb[4..8].try_into().unwrap()) as usize;
        assert_eq!(idb.len(), idb_len);
        assert_eq!(&idb[8..10], &[113, 0]);
        assert_eq!(&idb[12..16], &262_144u32.to_le_bytes());
        assert_eq!(&idb[16..24], &[2, 0, 3, 0, b'a', b'n', b'y', 0]);
        assert_eq!(&idb[24..32], &[9, 0, 1, 0, 9, 0, 0, 0]);
        assert_eq!(&idb[32..36], &[0, 0, 0, 0]);
    }

    #[test]
    fn epb_is_cut_to_the_snaplen_and_padded() {
        let mut w = PcapngWriter::new(Vec::new(), 1, 4, "").unwrap();
        let start = w.bytes as usize;
        w.write_packet(&packet(1, 5, &[1, 2, 3, 4, 5, 6], 6))
            .unwrap();
        let bytes = w.into_inner();
        let epb = &bytes[start..];
        assert_eq!(epb.len(), 36);
        assert_eq!(&epb[20..24], &4u32.to_le_bytes()); // caplen
        assert_eq!(&epb[24..28], &6u32.to_le_bytes()); // orig_len
        assert_eq!(&epb[28..32], &[1, 2, 3, 4]);
        assert_eq!(&epb[32..36], &36u32.to_le_bytes());
    }

    #[test]
    fn big_key_logs_are_split_at_line_ends() {
        let line = format!("CLIENT_RANDOM {} {}\n", "a".repeat(64), "b".repeat(96));
        let text = line.repeat(MAX_SECRETS_BLOCK / line.len() + 10);
        let mut w = PcapngWriter::new(Vec::new(), 1, 100, "x").unwrap();
        w.write_keylog(text.as_bytes()).unwrap();
        let bytes = w.into_inner();
        let mut r = CaptureReader::new(std::io::Cursor::new(bytes)).unwrap();
        let mut warnings = Vec::new();
        let mut chunks = Vec::new();
        r.for_each(&mut warnings, |ev| {
            if let CaptureEvent::Secrets { data, .. } = ev {
                chunks.push(data.to_vec());
            }
        });
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| c.ends_with(b"\n")));
        assert_eq!(chunks.concat(), text.as_bytes());
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("pagetrace-live-{}-{name}", std::process::id()))
    }

    #[test]
    fn keylog_follower_returns_complete_appended_lines() {
        let p = temp_path("follow");
        let _ = std::fs::remove_file(&p);
        let mut f = KeylogFollower::new(&p);
        assert_eq!(f.poll().unwrap(), None); // not there yet
        std::fs::write(&p, "CLIENT_RANDOM 01 02\nCLIENT_RAN").unwrap();
        assert_eq!(f.poll().unwrap().as_deref(), Some("CLIENT_RANDOM 01 02\n"));
        assert_eq!(f.poll().unwrap(), None);
        let mut h = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        h.write_all(b"DOM 03 04\n").unwrap();
        assert_eq!(f.poll().unwrap().as_deref(), Some("CLIENT_RANDOM 03 04\n"));
        // Replaced by a shorter file: read from the start.
        std::fs::write(&p, "X 1 2\n").unwrap();
        assert_eq!(f.poll().unwrap().as_deref(), Some("X 1 2\n"));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn keylog_follower_drops_overlong_lines() {
        let mut f = KeylogFollower::new(Path::new("/nonexistent"));
        let long = vec![b'a'; MAX_KEYLOG_LINE + 1];
        assert_eq!(f.take_lines(&long), None);
        assert_eq!(f.take_lines(b"aaa\nOK 1 2\n").as_deref(), Some("OK 1 2\n"));
        assert_eq!(f.dropped_lines, 1);
        let mut long = vec![b'b'; MAX_KEYLOG_LINE + 1];
        long.push(b'\n');
        assert_eq!(f.take_lines(&long), None);
        assert_eq!(f.dropped_lines, 2);
    }

    #[test]
    fn missing_interface_is_named() {
        let e = LiveCapture::open(&LiveConfig::new("pt-no-such-if0"))
            .err()
            .unwrap();
        assert!(
            matches!(e, LiveError::NoSuchInterface(ref n) if n == "pt-no-such-if0"),
            "{e}"
        );
    }
}
