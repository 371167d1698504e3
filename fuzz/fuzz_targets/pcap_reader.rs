#![no_main]
//! See `pagetrace_fuzz::leaf::pcap_reader`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pagetrace_fuzz::leaf::pcap_reader(data));
