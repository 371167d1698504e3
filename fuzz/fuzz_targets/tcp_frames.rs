#![no_main]
//! A TCP conversation built around fuzzed payloads (input format: `src/conv.rs`).

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static KEYS: OnceLock<String> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let keys = KEYS.get_or_init(pagetrace_fuzz::keylog);
    let _ = pagetrace_fuzz::conv::tcp_frames(data, keys);
});
