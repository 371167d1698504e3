//! Raw command-line arguments (clap). Nothing outside `cli` sees these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use super::diff::DiffArgs;
pub use super::live::LiveArgs;

#[derive(Parser, Debug)]
#[command(
    name = "pagetrace",
    version,
    about = "Page loads from packets: DNS → TCP → TLS → HTTP → teardown, per connection, with timings"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze a saved capture (.pcap or .pcapng; `-` reads standard input).
    Analyze(AnalyzeArgs),
    /// Capture from a network interface and report connections as they end.
    Live(LiveArgs),
    /// Compare two page loads (captures or saved JSON reports).
    Diff(DiffArgs),
    /// Print a shell completion script: `pagetrace completions bash > /etc/bash_completion.d/pagetrace`.
    #[command(hide = true)]
    Completions(CompletionsArgs),
    /// Print the man page (roff): `pagetrace man | man -l -`.
    #[command(hide = true)]
    Man(ManArgs),
    /// Print the JSON Schema of the report `--format json` writes (docs/report.schema.json).
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Each connection as a story, then summary tables.
    Table,
    /// One JSON document (REPORT.md).
    Json,
    /// HAR 1.2 with timings from the packets.
    Har,
    /// A text waterfall of every request on a shared time axis.
    Waterfall,
    /// One self-contained HTML page drawing the waterfall.
    Html,
    /// One JSON object per line (dns, connection, request, quic, then capture), written as
    /// each connection ends.
    Jsonl,
    /// One row per request, with a header line (RFC 4180), written as each connection ends.
    Csv,
    /// One Parquet file per table (captures, connections, requests, dns, tls, quic,
    /// diagnosis) under -o DIR, for DuckDB and Spark; written as each connection ends.
    Parquet,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The capture file (pcap or pcapng, found by content), or `-` for standard input.
    /// Several captures (or directories of them) are analyzed each on its own, several at
    /// once (--threads), one after the other in the output: each report in turn (table), a
    /// JSON array of reports (json), or every line tagged with its `capture` (jsonl).
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
    /// Threads. With several captures, how many are analyzed at once (default: the
    /// machine's cores). With one (default: the machine's cores), N of 2 or more read (and
    /// decompress) it on a thread of its own, and N of 3 or more run the dissectors of its
    /// larger TCP connections (TLS decryption, HTTP) on N - 2 workers. The output is the
    /// same whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// NSS key log (SSLKEYLOGFILE format) for TLS decryption; defaults to $SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report to FILE instead of standard output (`--format parquet`: the directory
    /// its tables go to).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// Keep only the requests (and their connections and lookups) EXPR matches, in every
    /// format: `status >= 400`, `host ~ "cdn" and ttfb > 100ms` (README, "Filter language").
    #[arg(short = 'Y', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Tell every connection and lookup in the table, the waterfall and the HTML page.
    /// Without it, past 64 alike that were
    /// one-sided (a SYN with no SYN/ACK, a request with no response, a query with no
    /// response or a response with no query: a scan, a flood, a slowloris) they are counted
    /// by server after the summary; json and jsonl always list each.
    #[arg(long)]
    pub all: bool,
    /// Only these sections of the table, in their usual order (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SECTIONS")]
    pub only: Vec<OnlySection>,
    /// Colour: `auto` on a terminal unless NO_COLOR is set (CLICOLOR_FORCE forces it, also
    /// in a pipe), `always`, or `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
    /// No diagnostics on standard error (damage, keys that did not match, no progress bar);
    /// errors are still said.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set or CLICOLOR is 0; CLICOLOR_FORCE forces it.
    Auto,
    /// Always, also in a pipe or a file (for `less -R`).
    Always,
    /// Never.
    Never,
}

/// `pagetrace completions SHELL`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `pagetrace man [COMMAND]`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// The subcommand whose page to print (`analyze`, `diff`, `live`); without one, pagetrace(1).
    pub command: Option<String>,
    /// Write every page (pagetrace.1, pagetrace-analyze.1, ...) into DIR instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

/// The sections of `--format table` (`report::table::Section`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnlySection {
    /// The capture line, counts and filter.
    Summary,
    /// Each TCP connection's story.
    Stories,
    /// Each QUIC connection's story.
    Quic,
    /// The table of connections.
    Connections,
    /// The table of requests.
    Requests,
    /// Per host: requests, bytes, protocols, median and slowest TTFB, errors.
    Hosts,
    /// The TLS handshakes (only on request).
    Tls,
    /// The DNS transactions.
    Dns,
    /// The waterfall.
    Waterfall,
    /// The capture's warnings.
    Warnings,
}

impl OnlySection {
    pub fn section(self) -> pagetrace::report::table::Section {
        use pagetrace::report::table::Section;
        match self {
            OnlySection::Summary => Section::Summary,
            OnlySection::Stories => Section::Stories,
            OnlySection::Quic => Section::Quic,
            OnlySection::Connections => Section::Connections,
            OnlySection::Requests => Section::Requests,
            OnlySection::Hosts => Section::Hosts,
            OnlySection::Tls => Section::Tls,
            OnlySection::Dns => Section::Dns,
            OnlySection::Waterfall => Section::Waterfall,
            OnlySection::Warnings => Section::Warnings,
        }
    }
}
