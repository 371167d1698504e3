//! `pagetrace live`: capture from an interface (libpcap, behind the `live` feature).
//! STUB: replaced by the live-capture work.

use clap::Args;

use super::CliError;

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture on (`any` for all).
    #[arg(short = 'i', long)]
    pub interface: Option<String>,
}

pub fn run(_a: LiveArgs) -> Result<(), CliError> {
    Err(CliError::Usage(
        "live capture needs the `live` feature: install libpcap (apt-get install libpcap-dev) and build with `cargo build --release --features live`".into(),
    ))
}
