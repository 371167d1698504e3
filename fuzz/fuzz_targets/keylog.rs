#![no_main]
//! See `pagetrace_fuzz::leaf::keylog`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pagetrace_fuzz::leaf::keylog(data));
