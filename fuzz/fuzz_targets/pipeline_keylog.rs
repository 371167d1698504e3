#![no_main]
//! As `pipeline`, with the fixtures' key logs: mutated fixture captures still decrypt.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static KEYS: OnceLock<String> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let keys = KEYS.get_or_init(pagetrace_fuzz::keylog);
    pagetrace_fuzz::run_capture(data, Some(keys));
});
