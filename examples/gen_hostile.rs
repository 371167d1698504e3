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
//!
//! Ethernet/IPv4, one classic pcap, written as it is generated (memory stays flat whatever
//! N). Dependency-free: the writers are `tests/common/gen.rs`.

#[path = "../tests/common/gen.rs"]
#[allow(dead_code)]
mod gen;

use std::io::{BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;

use gen::{PcapWriter, ACK, LINKTYPE_ETHERNET, PSH, SYN};

const START_MICROS: u64 = 1_700_000_000_000_000;

/// The `i`-th address of 10.0.0.0/8 from 10.1.0.0 on (16 million distinct sources).
fn source(i: u64) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | ((0x1_0000 + i as u32) & 0x00ff_ffff))
}

fn dns_name(out: &mut Vec<u8>, i: u64) {
    let label = format!("q{i}");
    out.push(label.len() as u8);
    out.extend_from_slice(label.as_bytes());
    for l in ["example", "com"] {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
}

fn generate(kind: &str, n: u64, w: &mut PcapWriter<impl Write>) -> std::io::Result<bool> {
    let mut buf = Vec::with_capacity(2048);
    let client = Ipv4Addr::new(10, 0, 0, 1);
    let server = Ipv4Addr::new(192, 0, 2, 80);
    let resolver = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 53), 53);
    // Packets 100 µs apart unless the kind says otherwise.
    let at = |i: u64| START_MICROS + i * 100;
    match kind {
        "syn-ports" => {
            for i in 0..n {
                let port = 1 + (i % 65_535) as u16;
                let sport = 10_000 + (i / 65_535) as u16;
                let (src, dst) = (
                    SocketAddrV4::new(client, sport),
                    SocketAddrV4::new(server, port),
                );
                gen::tcp_frame(&mut buf, src, dst, i as u32, 0, SYN, b"");
                w.packet(at(i), &buf)?;
            }
        }
        "syn-flood" => {
            for i in 0..n {
                let src = SocketAddrV4::new(source(i), 1024 + (i % 60_000) as u16);
                let dst = SocketAddrV4::new(server, 80);
                gen::tcp_frame(&mut buf, src, dst, i as u32, 0, SYN, b"");
                w.packet(at(i), &buf)?;
            }
        }
        "dns-unanswered" => {
            for i in 0..n {
                let src = SocketAddrV4::new(client, 1024 + (i % 60_000) as u16);
                let mut q = Vec::with_capacity(64);
                q.extend_from_slice(&(i as u16).to_be_bytes());
                q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
                dns_name(&mut q, i);
                q.extend_from_slice(&[0, 1, 0, 1]);
                gen::udp_frame(&mut buf, src, resolver, &q);
                w.packet(at(i), &buf)?;
            }
        }
        "dns-loops" => {
            for i in 0..n {
                let dst = SocketAddrV4::new(client, 1024 + (i % 60_000) as u16);
                let mut r = Vec::with_capacity(64);
                r.extend_from_slice(&(i as u16).to_be_bytes());
                // Response, one question, one answer.
                r.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
                match i % 3 {
                    // The question name points at itself (offset 12).
                    0 => r.extend_from_slice(&[0xc0, 12]),
                    // A label, then a pointer back to the start of that name.
                    1 => r.extend_from_slice(&[1, b'a', 0xc0, 12]),
                    // A pointer forward to the answer's name, which points back here.
                    _ => r.extend_from_slice(&[0xc0, 18]),
                }
                r.extend_from_slice(&[0, 1, 0, 1]);
                // Answer: name pointer to the question, A record.
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
                gen::udp_frame(&mut buf, resolver, dst, &r);
                w.packet(at(i), &buf)?;
            }
        }
        "slowloris" => {
            let request = b"GET / HTTP/1.1\r\nHost: victim.example\r\nX-a: ";
            let conn = |i: u64| {
                (
                    SocketAddrV4::new(source(i), 1024 + (i % 60_000) as u16),
                    SocketAddrV4::new(server, 80),
                )
            };
            let (iss, irs) = (1000u32, 5000u32);
            // Handshakes over the first 10 s.
            let step = (10_000_000 / n.max(1)).max(1);
            for i in 0..n {
                let (c, s) = conn(i);
                let t = START_MICROS + i * step;
                gen::tcp_frame(&mut buf, c, s, iss, 0, SYN, b"");
                w.packet(t, &buf)?;
                gen::tcp_frame(&mut buf, s, c, irs, iss + 1, SYN | ACK, b"");
                w.packet(t + 1, &buf)?;
                gen::tcp_frame(&mut buf, c, s, iss + 1, irs + 1, ACK, b"");
                w.packet(t + 2, &buf)?;
            }
            // Then one byte per connection every 60 s, under any idle timeout.
            for round in 0..8u64 {
                let base = START_MICROS + 60_000_000 * (round + 1);
                for i in 0..n {
                    let (c, s) = conn(i);
                    let seq = iss + 1 + round as u32;
                    let byte = [request[round as usize]];
                    gen::tcp_frame(&mut buf, c, s, seq, irs + 1, PSH | ACK, &byte);
                    w.packet(base + i * step, &buf)?;
                }
            }
        }
        "frags" => {
            let payload = [0x42u8; 16];
            for i in 0..n {
                let src = source(i / 65_536);
                gen::fragment_frame(
                    &mut buf,
                    src,
                    server,
                    gen::PROTO_UDP,
                    i as u16,
                    0,
                    true,
                    &payload,
                );
                w.packet(at(i), &buf)?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_hostile KIND N OUT.pcap\n  KIND: syn-ports syn-flood dns-unanswered dns-loops slowloris frags";
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
        let known = generate(kind, n, &mut w)?;
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
