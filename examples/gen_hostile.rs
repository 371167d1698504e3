//! Writes hostile captures for benchmarks and robustness runs: traffic built to exhaust a
//! passive analyzer's tables and buffers.
//!
//! ```text
//! cargo run --release --example gen_hostile -- KIND N OUT.pcap
//! ```
//!
//! | KIND | N | what |
//! |---|---|---|
//! | `syn-ports` | SYNs | one client sends N SYNs to distinct ports of one server, never answered |
//! | `syn-flood` | SYNs | N SYNs to one server's port 80 from N distinct sources (spoofed addresses) |
//! | `dns-unanswered` | queries | N DNS queries (distinct ids, ports and names), never answered |
//! | `dns-loops` | responses | N DNS responses whose names are compression-pointer loops (self, two-pointer, forward) |
//! | `slowloris` | connections | N connections to port 80 complete the handshake, then each sends one byte of a request every 60 s, 8 times, and never finishes |
//! | `frags` | fragments | N first IPv4 fragments (more-fragments set) of N distinct datagrams that never complete |
//! | `lookups-and-syns` | lookups | N answered DNS lookups of distinct names and addresses, each followed by a SYN to its address |
//! | `quic-initials` | datagrams | N QUIC v1 Initials from distinct client ports and connection ids, never answered |
//! | `hash-collisions` | SYNs | N IPv6 SYNs whose flow keys all hash alike under an unkeyed FxHash (crafted addresses) |
//!
//! Ethernet/IPv4, one classic pcap, written as it is generated (memory stays flat whatever
//! N). Dependency-free: the writers, and the traffic itself (`gen::hostile`, which the tests
//! in `tests/hostile.rs` run at small sizes), are `tests/common/gen.rs`.

#[path = "../tests/common/gen.rs"]
#[allow(dead_code)]
mod gen;

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use gen::{PcapWriter, LINKTYPE_ETHERNET};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_hostile KIND N OUT.pcap\n  KIND: syn-ports syn-flood dns-unanswered dns-loops slowloris frags lookups-and-syns quic-initials hash-collisions";
    let [kind, n, out] = args.as_slice() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("N must be a number\n{usage}");
        return ExitCode::from(2);
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{out}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = PcapWriter::new(BufWriter::new(file), LINKTYPE_ETHERNET).and_then(|mut w| {
        let known = gen::hostile(kind, n, &mut w)?;
        w.into_inner().flush()?;
        Ok(known)
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("unknown KIND {kind:?}\n{usage}");
            let _ = std::fs::remove_file(out);
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}
