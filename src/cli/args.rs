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
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The capture file (pcap or pcapng, found by content), or `-` for standard input.
    pub capture: String,
    /// NSS key log (SSLKEYLOGFILE format) for TLS decryption; defaults to $SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Hash every HTTP response body (SHA-256 as transferred) into `body_sha256`.
    #[arg(long)]
    pub body_hash: bool,
    /// Never colour the output: the same as `--color never`.
    #[arg(long)]
    pub no_color: bool,
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
