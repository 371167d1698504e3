//! The `pagetrace` binary: argument parsing, I/O, exit codes. All analysis is in the library.

#![forbid(unsafe_code)]

mod cli;

fn main() {
    std::process::exit(cli::run());
}
