#![no_main]
//! Arbitrary bytes as a capture file (pcap or pcapng) through the whole analysis.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pagetrace_fuzz::run_capture(data, None));
