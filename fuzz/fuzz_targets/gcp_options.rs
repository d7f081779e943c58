//! Fuzzes `cloudauth::gcp::python_json::redump_object`, the hand-written
//! JSON reader behind the Google STS `options` parameter: no panic, and its
//! output is printable ASCII and, unless it holds Python's `Infinity`,
//! itself accepted and stable (a fixed point).
#![no_main]

use cloudauth::gcp::python_json::redump_object;
use cloudauth_fuzz::check_message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match redump_object("options", text) {
        Ok(out) => {
            assert!(out.bytes().all(|b| (0x20..0x7f).contains(&b)), "{out:?}");
            // Python writes an overflowed float as `Infinity`, which is not
            // JSON: only output without it must read back unchanged.
            if !out.contains("Infinity") {
                assert_eq!(redump_object("options", &out).as_deref(), Ok(out.as_str()));
            }
        }
        Err(e) => check_message(&e),
    }
});
