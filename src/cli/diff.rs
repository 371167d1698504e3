//! `pagetrace diff A B`. STUB: replaced by the diff work.

use clap::Args;

use super::CliError;

#[derive(Args, Debug)]
pub struct DiffArgs {
    pub a: String,
    pub b: String,
}

pub fn run(_a: DiffArgs) -> Result<(), CliError> {
    Err(CliError::Usage("diff is not implemented yet".into()))
}
