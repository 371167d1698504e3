//! `pagetrace live`: capture from an interface (libpcap, behind the `live` feature) and
//! report each connection as it ends.
//!
//! The loop owns the wall clock, the signals and the output; the library's
//! [`LiveCapture`](pagetrace::capture::live::LiveCapture) hands packets to the same
//! `Analyzer` as `analyze`, so a connection reads the same live and from a file.
//!
//! - The capture is non-blocking and polled with a 200 ms timeout, so `--duration`,
//!   `--count`, Ctrl-C and SIGTERM (the `ctrlc` crate, "termination" feature) end it on an
//!   idle interface too. A second Ctrl-C exits at once (status 130).
//! - Once a second of wall time with no packets, the analyzer's clock is advanced
//!   (`Analyzer::tick`, half a second behind the wall clock so packets still in the kernel
//!   ring are not overtaken) so closed and idle connections are reported on a quiet
//!   interface.
//! - Output: DNS transactions as they are answered (or given up on), connections as they
//!   end. `--format jsonl` prints one JSON object per line, flushed; `"type"` tells them
//!   apart: `"dns"` (a REPORT.md DNS transaction plus `"index"`, its number in this stream),
//!   `"connection"` (a REPORT.md connection object, whose `"dns"` is that `index`), and one
//!   last `"capture"` object (REPORT.md `capture` plus `"pcap"`: libpcap's received / dropped
//!   counters, and `"end"`: why the capture stopped, `signal`, `duration`, `count` or
//!   `error` when the interface failed mid-capture). `--format table` prints one line per
//!   DNS transaction and per connection, then a summary and the statistics line.
//! - At the end (signal, duration, count) the packets still buffered are read, open
//!   connections are reported with close kind `open`, and the statistics line is printed:
//!   on standard output for `table`, on standard error for `jsonl` (whose standard output
//!   stays pure JSON lines).
//! - `-w FILE` writes every packet to pcapng, and key log text as Decryption Secrets Blocks
//!   where it was learnt, so `pagetrace analyze FILE` reports the same connections.
//! - Memory: the analyzer streams ([`Analyzer::poll`](pagetrace::pipeline::Analyzer::poll)):
//!   what it hands out is printed and dropped; the DNS window it keeps to link later
//!   connections to their `"index"` holds the last 4,096 transactions
//!   ([`DNS_WINDOW`](pagetrace::pipeline::DNS_WINDOW)).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::CliError;

/// What a build without the feature says.
#[cfg(not(feature = "live"))]
const INSTALL_HINT: &str =
    "live capture is not in this build: install libpcap's development files \
     (`apt-get install libpcap-dev`, or your distribution's libpcap-devel) and build with \
     `cargo build --release --features live`";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LiveFormat {
    /// One line per DNS transaction and per connection as it ends, then a summary.
    Table,
    /// One JSON object per line (`"type"`: `dns`, `connection`, and a final `capture`).
    Jsonl,
}

#[derive(Args, Debug)]
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub struct LiveArgs {
    /// Interface to capture on (`any` for all interfaces, Linux cooked capture).
    // Required only in a build that can capture: without the feature, `pagetrace live`
    // alone must reach `run` and explain how to get live capture, not a clap error.
    #[arg(short = 'i', long, value_name = "IFACE")]
    #[cfg_attr(feature = "live", arg(required_unless_present = "list"))]
    pub interface: Option<String>,
    /// List the interfaces that can be captured on, and exit.
    #[arg(long)]
    pub list: bool,
    /// Capture filter in BPF (tcpdump) syntax, e.g. "tcp port 443 or port 53".
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Bytes captured per packet (1 to 262144).
    #[arg(long, value_name = "N", default_value_t = 262_144)]
    pub snaplen: u32,
    /// Kernel capture buffer: bytes, or with a suffix K, M, G (KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub buffer_size: u32,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Also write every captured packet to FILE (pcapng, with the key log embedded).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after SECS seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub duration: Option<f64>,
    /// Stop after N packets.
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,
    /// NSS key log (SSLKEYLOGFILE format), followed while it grows; defaults to $SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: LiveFormat,
    /// Hash every HTTP response body (SHA-256 as transferred) into `body_sha256`.
    #[arg(long)]
    pub body_hash: bool,
    /// Most TCP connections followed at once (at least 1000): when more are open, the least
    /// recently active is reported early, said once as a cap warning. Each costs about
    /// 1 KiB until its first byte, 3 to 4 KiB once bytes flow.
    #[arg(long, value_name = "N", default_value_t = pagetrace::pipeline::MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1000..))]
    pub max_connections: u64,
    /// Never colour the output: the same as `--color never`.
    #[arg(long)]
    pub no_color: bool,
    /// Colour: `auto` on a terminal unless NO_COLOR is set (CLICOLOR_FORCE forces it, also
    /// in a pipe), `always`, or `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: super::args::ColorWhen,
}

#[cfg(not(feature = "live"))]
pub fn run(_a: LiveArgs) -> Result<(), CliError> {
    Err(CliError::Usage(INSTALL_HINT.into()))
}

#[cfg(feature = "live")]
pub fn run(a: LiveArgs) -> Result<(), CliError> {
    imp::run(a)
}

/// `65536`, `64K`, `64M`, `1G`, `64MiB` (binary multiples).
fn parse_size(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 65536, 64M, 1G)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}`: unknown unit (use K, M or G)")),
    };
    let bytes = n
        .checked_mul(mult)
        .filter(|&b| (4096..=i32::MAX as u64).contains(&b))
        .ok_or_else(|| format!("`{s}`: the buffer must be 4 KiB to 2 GiB"))?;
    Ok(bytes as u32)
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

#[cfg(feature = "live")]
mod imp {
    use std::fs::File;
    use std::io::{self, BufWriter, IsTerminal, Write};
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use pagetrace::capture::live::{
        list_interfaces, KeylogFollower, LiveCapture, LiveConfig, LiveError, LiveStats,
        PcapngWriter,
    };
    use pagetrace::capture::{Packet, MAX_PACKET};
    use pagetrace::pageload::model::CaptureInfo;
    use pagetrace::pipeline::TcpConfig;
    use pagetrace::pipeline::{Analyzer, AnalyzerConfig, Output as StreamOutput};
    use pagetrace::report::fmt::{fmt_bytes, Paint};
    use pagetrace::report::live::{self, CaptureEnd, PcapCounters};
    use pagetrace::time::Ts;

    use super::{CliError, LiveArgs, LiveFormat};

    /// Longest wait for packets before the loop looks at its clock and flags.
    const POLL: Duration = Duration::from_millis(200);
    /// How often the analyzer's clock is advanced without packets.
    const TICK_EVERY: Duration = Duration::from_secs(1);
    /// How far behind the wall clock the analyzer's clock is advanced: packets the kernel
    /// still holds (at most libpcap's 100 ms read timeout) must not be overtaken.
    const TICK_LAG_NANOS: i64 = 500_000_000;
    /// How often the key log is looked at, before the packets that are waiting are read. A
    /// TLS 1.3 server's encrypted flight is captured before the client has logged the
    /// secrets that open it: the analyzer keeps such records (bounded,
    /// `dissect::tls::late`) and handles them when the secrets come, so the shorter this
    /// is, the less it keeps. An open and an fstat each time.
    const KEYLOG_EVERY: Duration = Duration::from_millis(2);
    /// How often the `-w` file is flushed to disk.
    const FLUSH_EVERY: Duration = Duration::from_secs(1);
    /// At the end, how long packets already captured may take to leave the kernel ring.
    const DRAIN: Duration = Duration::from_millis(150);

    /// The `-w` file.
    type Writer = PcapngWriter<BufWriter<File>>;

    pub fn run(a: LiveArgs) -> Result<(), CliError> {
        if a.list {
            return list();
        }
        let iface = check_args(&a)?;
        let keylog = open_keylog(&a)?;

        let cfg = LiveConfig {
            interface: iface.clone(),
            filter: a.filter.clone(),
            snaplen: a.snaplen,
            buffer_size: a.buffer_size,
            promisc: !a.no_promisc,
        };
        let cap = LiveCapture::open(&cfg).map_err(|e| CliError::Usage(e.to_string()))?;
        let writer = match &a.write {
            Some(p) => Some(open_writer(p, &cap, &iface)?),
            None => None,
        };
        let stop = stop_on_signals()?;
        announce(&a, &iface, &cap);

        let color = a.format == LiveFormat::Table
            && crate::cli::use_color(io::stdout().is_terminal(), a.color, a.no_color);
        let out = Output::new(io::stdout().lock(), a.format, Paint(color));
        let analyzer = Analyzer::new(
            AnalyzerConfig {
                body_hash: a.body_hash,
                streaming: true,
                tcp: TcpConfig {
                    max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
                    ..TcpConfig::default()
                },
                app_threads: 0,
                app_move_after: None,
            },
            &iface,
            "live",
        );
        let mut session = Session {
            cap,
            analyzer,
            keylog,
            writer,
            write_error: None,
            out,
        };
        session.follow_keylog_from_start();
        let end = session.capture(a.count, a.duration, &stop);
        // The end: what the kernel still holds, the last keys, then everything still open.
        if end.as_ref().is_ok_and(|&e| e != "count" && e != "error") {
            session.drain(a.count);
        }
        session.finish(end, &iface, a.write.as_deref())
    }

    /// The interface to capture on, once the options that clap cannot check are checked.
    fn check_args(a: &LiveArgs) -> Result<String, CliError> {
        let Some(iface) = a.interface.clone() else {
            return Err(CliError::Usage("-i IFACE is required (or --list)".into()));
        };
        if a.snaplen == 0 || a.snaplen > MAX_PACKET {
            return Err(CliError::Usage(format!(
                "--snaplen must be 1 to {MAX_PACKET}, not {}",
                a.snaplen
            )));
        }
        if a.count == Some(0) {
            return Err(CliError::Usage("--count must be at least 1".into()));
        }
        Ok(iface)
    }

    /// The key log to follow: `--keylog`, else `$SSLKEYLOGFILE`. It may not exist yet, but
    /// its directory must.
    fn open_keylog(a: &LiveArgs) -> Result<Option<KeylogFollower>, CliError> {
        let keylog_path = a.keylog.clone().or_else(|| {
            std::env::var_os("SSLKEYLOGFILE")
                .filter(|v| !v.is_empty())
                .map(Into::into)
        });
        let Some(p) = &keylog_path else {
            return Ok(None);
        };
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(CliError::Usage(format!(
                "key log {}: no such directory",
                p.display()
            )));
        }
        if p.is_dir() {
            return Err(CliError::Usage(format!(
                "key log {} is a directory",
                p.display()
            )));
        }
        if !p.exists() {
            eprintln!(
                "pagetrace: key log {} does not exist yet; it is read when it appears",
                p.display()
            );
        }
        Ok(Some(KeylogFollower::new(p)))
    }

    /// The `-w` file, with the capture's link type and snaplen.
    fn open_writer(p: &Path, cap: &LiveCapture, iface: &str) -> Result<Writer, CliError> {
        let f = File::create(p)
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", p.display())))?;
        PcapngWriter::new(
            BufWriter::with_capacity(1 << 20, f),
            cap.dlt(),
            cap.snaplen(),
            iface,
        )
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", p.display())))
    }

    /// Ctrl-C and SIGTERM set the flag the loop looks at; a second Ctrl-C exits at once.
    fn stop_on_signals() -> Result<Arc<AtomicBool>, CliError> {
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            ctrlc::set_handler(move || {
                if stop.swap(true, Ordering::SeqCst) {
                    // A second Ctrl-C: the user does not want to wait.
                    std::process::exit(130);
                }
            })
            .map_err(|e| CliError::Usage(format!("cannot handle signals: {e}")))?;
        }
        Ok(stop)
    }

    /// What is captured, on standard error.
    fn announce(a: &LiveArgs, iface: &str, cap: &LiveCapture) {
        eprintln!(
            "pagetrace: capturing on {} ({}), snaplen {}, buffer {}{}{}; Ctrl-C ends the capture",
            iface,
            cap.link().name(),
            cap.snaplen(),
            fmt_bytes(a.buffer_size as u64),
            a.filter
                .as_deref()
                .map(|f| format!(", filter \"{f}\""))
                .unwrap_or_default(),
            a.write
                .as_deref()
                .map(|p| format!(", writing {}", p.display()))
                .unwrap_or_default(),
        );
    }

    /// One capture: the interface, where its packets and keys go, and the output.
    struct Session<W: Write> {
        cap: LiveCapture,
        analyzer: Analyzer,
        keylog: Option<KeylogFollower>,
        writer: Option<Writer>,
        /// The first error writing the `-w` file, which stops there.
        write_error: Option<io::Error>,
        out: Output<W>,
    }

    impl<W: Write> Session<W> {
        /// Captures until a signal, the duration, the count or an error, printing as it goes;
        /// returns why it stopped, or the error writing the output.
        fn capture(
            &mut self,
            count: Option<u64>,
            duration: Option<f64>,
            stop: &AtomicBool,
        ) -> io::Result<&'static str> {
            let start = Instant::now();
            let deadline = duration.map(|d| start + Duration::from_secs_f64(d));
            let mut last_tick = start;
            let mut last_keylog: Option<Instant> = None;
            let mut last_flush = start;
            let mut seen_since_tick = false;
            loop {
                if stop.load(Ordering::SeqCst) {
                    return Ok("signal");
                }
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    return Ok("duration");
                }
                if count.is_some_and(|c| self.cap.packets() >= c) {
                    return Ok("count");
                }
                let wait = deadline.map_or(POLL, |d| POLL.min(d.saturating_duration_since(now)));
                if let Err(e) = self.cap.wait(wait) {
                    eprintln!("pagetrace: {e}; capture ended");
                    return Ok("error");
                }

                if last_keylog.is_none_or(|t| t.elapsed() >= KEYLOG_EVERY) {
                    last_keylog = Some(Instant::now());
                    self.follow_keylog();
                }
                let max = count.map_or(u64::MAX, |c| c.saturating_sub(self.cap.packets()));
                let n = match self.read(max) {
                    Ok(n) => n,
                    Err(e) => {
                        // The interface went away, or the like: report what was seen.
                        eprintln!("pagetrace: {e}; capture ended");
                        return Ok("error");
                    }
                };
                seen_since_tick |= n > 0;

                if last_tick.elapsed() >= TICK_EVERY {
                    last_tick = Instant::now();
                    if !seen_since_tick {
                        self.analyzer
                            .tick(Ts(wall_nanos().saturating_sub(TICK_LAG_NANOS)));
                    }
                    seen_since_tick = false;
                }
                if last_flush.elapsed() >= FLUSH_EVERY {
                    last_flush = Instant::now();
                    self.flush_writer();
                }
                self.out.stream(&mut self.analyzer)?;
            }
        }

        /// Reads what the kernel still holds, for at most [`DRAIN`].
        fn drain(&mut self, count: Option<u64>) {
            let until = Instant::now() + DRAIN;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let max = count.map_or(u64::MAX, |c| c.saturating_sub(self.cap.packets()));
                if max == 0 || self.cap.wait(left).is_err() {
                    break;
                }
                if let Err(e) = self.read(max) {
                    eprintln!("pagetrace: {e}");
                    break;
                }
            }
        }

        /// The last keys, the connections still open, the summary and what went wrong with
        /// the key log or the `-w` file.
        fn finish(
            mut self,
            end: io::Result<&str>,
            iface: &str,
            write: Option<&Path>,
        ) -> Result<(), CliError> {
            let stats = self.cap.stats().ok();
            self.follow_keylog();
            self.flush_writer();
            let end = end.map_err(CliError::Io)?;
            self.out.stream(&mut self.analyzer)?;
            let keylog_dropped = self.keylog.as_ref().map_or(0, |k| k.dropped_lines);
            let (rest, capture) = self.analyzer.finish_stream();
            self.out.finish(rest, &capture, stats, end, iface)?;
            if keylog_dropped > 0 {
                eprintln!(
                    "pagetrace: {keylog_dropped} key log lines longer than 64 KiB were ignored"
                );
            }
            if let (Some(e), Some(p)) = (self.write_error, write) {
                eprintln!(
                    "pagetrace: writing {} failed ({e}); the file stops where the error happened",
                    p.display()
                );
            }
            Ok(())
        }

        /// Reads what the kernel holds: each packet to the `-w` file and the analyzer.
        fn read(&mut self, max: u64) -> Result<u64, LiveError> {
            let (writer, write_error) = (&mut self.writer, &mut self.write_error);
            let (analyzer, out) = (&mut self.analyzer, &mut self.out);
            self.cap.read_available(max, |p: &Packet<'_>| {
                if let Some(w) = writer {
                    if let Err(e) = w.write_packet(p) {
                        *write_error = Some(e);
                        *writer = None;
                    }
                }
                out.first_ts.get_or_insert(p.ts);
                analyzer.handle_packet(p);
            })
        }

        /// A followed key log brings secrets after the records they open: the analyzer keeps
        /// those records for a while, and the `-w` file says so first, so that it analyzes
        /// the same way.
        fn follow_keylog_from_start(&mut self) {
            if self.keylog.is_none() {
                return;
            }
            self.analyzer.follow_keylog();
            if let Some(w) = &mut self.writer {
                if let Err(e) = w.write_keylog_follows() {
                    self.write_error = Some(e);
                    self.writer = None;
                }
            }
        }

        fn follow_keylog(&mut self) {
            let Some(k) = &mut self.keylog else { return };
            match k.poll() {
                Ok(Some(text)) => {
                    self.analyzer.add_keylog_text(&text);
                    if let Some(w) = &mut self.writer {
                        if let Err(e) = w.write_keylog(text.as_bytes()) {
                            self.write_error = Some(e);
                            self.writer = None;
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    eprintln!(
                        "pagetrace: key log {}: {e}; no longer followed",
                        k.path().display()
                    );
                    self.keylog = None;
                }
            }
        }

        fn flush_writer(&mut self) {
            if let Some(w) = &mut self.writer {
                if let Err(e) = w.flush() {
                    self.write_error = Some(e);
                    self.writer = None;
                }
            }
        }
    }

    fn wall_nanos() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
    }

    fn list() -> Result<(), CliError> {
        let ifaces = list_interfaces().map_err(|e| CliError::Usage(e.to_string()))?;
        let mut out = io::stdout().lock();
        for (n, i) in ifaces.iter().enumerate() {
            let mut flags = Vec::new();
            for (on, name) in [
                (i.up, "up"),
                (i.running, "running"),
                (i.loopback, "loopback"),
                (i.wireless, "wireless"),
            ] {
                if on {
                    flags.push(name);
                }
            }
            let addrs: Vec<String> = i.addresses.iter().map(|a| a.to_string()).collect();
            writeln!(
                out,
                "{}. {}{} [{}]{}",
                n + 1,
                i.name,
                i.description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                flags.join(", "),
                if addrs.is_empty() {
                    String::new()
                } else {
                    format!(" {}", addrs.join(", "))
                }
            )?;
        }
        out.flush()?;
        Ok(())
    }

    /// The streamed output and the little it counts.
    struct Output<W: Write> {
        out: W,
        format: LiveFormat,
        paint: Paint,
        first_ts: Option<Ts>,
        dns_printed: u64,
        connections_printed: u64,
    }

    impl<W: Write> Output<W> {
        fn new(out: W, format: LiveFormat, paint: Paint) -> Output<W> {
            Output {
                out,
                format,
                paint,
                first_ts: None,
                dns_printed: 0,
                connections_printed: 0,
            }
        }

        /// Prints what the analyzer has finished, as it hands it out (a connection's lookup
        /// always before it).
        fn stream(&mut self, analyzer: &mut Analyzer) -> io::Result<()> {
            let mut any = false;
            while let Some(o) = analyzer.poll() {
                self.print(o)?;
                any = true;
            }
            if any {
                self.out.flush()?;
            }
            Ok(())
        }

        fn print(&mut self, o: StreamOutput) -> io::Result<()> {
            let (f, p) = (self.first_ts, self.paint);
            match (o, self.format) {
                (StreamOutput::Dns { index, transaction }, fmt) => {
                    self.dns_printed += 1;
                    match fmt {
                        LiveFormat::Jsonl => {
                            live::write_dns_json(&mut self.out, index, &transaction)
                        }
                        LiveFormat::Table => {
                            live::write_dns_line(&mut self.out, &transaction, f, p)
                        }
                    }
                }
                (StreamOutput::Connection(c), fmt) => {
                    self.connections_printed += 1;
                    match fmt {
                        LiveFormat::Jsonl => live::write_connection_json(&mut self.out, &c),
                        LiveFormat::Table => live::write_connection_line(&mut self.out, &c, f, p),
                    }
                }
                (StreamOutput::Quic(q), LiveFormat::Jsonl) => {
                    live::write_quic_json(&mut self.out, &q)
                }
                (StreamOutput::Quic(q), LiveFormat::Table) => {
                    live::write_quic_line(&mut self.out, &q, f, p)
                }
            }
        }

        /// The end: DNS not yet printed, the connections still open, the capture summary and
        /// the statistics line.
        fn finish(
            &mut self,
            rest: Vec<StreamOutput>,
            capture: &CaptureInfo,
            stats: Option<LiveStats>,
            end: &str,
            iface: &str,
        ) -> io::Result<()> {
            for o in rest {
                self.print(o)?;
            }
            let e = CaptureEnd {
                capture,
                pcap: stats.map(|s| PcapCounters {
                    received: s.received,
                    dropped_by_kernel: s.dropped_by_kernel,
                    dropped_by_interface: s.dropped_by_interface,
                }),
                end,
                interface: iface,
                connections_printed: self.connections_printed,
                dns_printed: self.dns_printed,
            };
            match self.format {
                LiveFormat::Jsonl => {
                    live::write_capture_json(&mut self.out, &e)?;
                    eprintln!("{}", live::stats_line(&e));
                }
                LiveFormat::Table => live::write_end_table(&mut self.out, &e, self.paint)?,
            }
            self.out.flush()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn live_args(argv: &[&str]) -> Result<LiveArgs, clap::Error> {
        let cli = Cli::try_parse_from(["pagetrace", "live"].iter().chain(argv))?;
        match cli.command {
            Command::Live(a) => Ok(a),
            other => panic!("not live: {other:?}"),
        }
    }

    #[test]
    fn sizes_take_binary_suffixes_and_stay_in_range() {
        assert_eq!(parse_size("65536"), Ok(65_536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("1K").is_err()); // under 4 KiB
        assert!(parse_size("4G").is_err()); // over libpcap's int
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn seconds_are_positive_and_finite() {
        assert_eq!(parse_secs("2"), Ok(2.0));
        assert_eq!(parse_secs("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "x"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_issue_option_parses() {
        let a = live_args(&[
            "-i",
            "eth0",
            "-f",
            "port 443",
            "--snaplen",
            "96",
            "--buffer-size",
            "8M",
            "--no-promisc",
            "-w",
            "x.pcapng",
            "--duration",
            "1.5",
            "--count",
            "10",
            "--keylog",
            "k.log",
            "--format",
            "jsonl",
        ])
        .unwrap();
        assert_eq!(a.interface.as_deref(), Some("eth0"));
        assert_eq!(a.filter.as_deref(), Some("port 443"));
        assert_eq!((a.snaplen, a.buffer_size), (96, 8 << 20));
        assert!(a.no_promisc);
        assert_eq!(a.duration, Some(1.5));
        assert_eq!(a.count, Some(10));
        assert_eq!(a.format, LiveFormat::Jsonl);
        let d = live_args(&["-i", "any"]).unwrap();
        assert_eq!((d.snaplen, d.buffer_size), (262_144, 64 << 20));
        assert_eq!(d.format, LiveFormat::Table);
        assert!(live_args(&["--list"]).unwrap().list);
    }

    /// Without the feature, `pagetrace live` (with or without -i) says how to get it.
    #[cfg(not(feature = "live"))]
    #[test]
    fn without_the_feature_live_explains_how_to_get_it() {
        for argv in [&[][..], &["-i", "eth0"][..], &["--list"][..]] {
            let a = live_args(argv).unwrap();
            match run(a) {
                Err(CliError::Usage(m)) => {
                    assert!(m.contains("--features live"), "{m}");
                    assert!(m.contains("libpcap"), "{m}");
                }
                other => panic!("{argv:?}: {other:?}"),
            }
        }
    }

    #[cfg(feature = "live")]
    #[test]
    fn with_the_feature_an_interface_or_list_is_required() {
        assert!(live_args(&[]).is_err());
    }
}
