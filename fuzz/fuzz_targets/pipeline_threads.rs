#![no_main]
//! Differential: a capture (with the fixtures' key logs) analyzed on one thread and with
//! `--threads` (read ahead, every connection's dissectors moved to a worker at its first
//! byte) must give the same report, byte for byte.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static KEYS: OnceLock<String> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let keys = KEYS.get_or_init(pagetrace_fuzz::keylog);
    let one = pagetrace_fuzz::report_json(data, Some(keys), 0);
    let threaded = pagetrace_fuzz::report_json(data, Some(keys), 1);
    assert!(one == threaded, "--threads changed the report");
});
