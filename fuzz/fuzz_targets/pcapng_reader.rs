#![no_main]
//! See `pagetrace_fuzz::leaf::pcapng_reader`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pagetrace_fuzz::leaf::pcapng_reader(data));
