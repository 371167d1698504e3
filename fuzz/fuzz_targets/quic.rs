#![no_main]
//! QUIC datagrams: protected Initials around fuzzed frames, and raw (`src/conv.rs`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pagetrace_fuzz::conv::quic(data);
});
