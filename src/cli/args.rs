//! Raw command-line arguments (clap). Nothing outside `cli` sees these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
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
    /// Never colour the output (NO_COLOR in the environment does the same).
    #[arg(long)]
    pub no_color: bool,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture on (`any` for all).
    #[arg(short = 'i', long)]
    pub interface: Option<String>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    pub a: String,
    pub b: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}
