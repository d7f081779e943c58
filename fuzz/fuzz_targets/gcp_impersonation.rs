//! Fuzzes `cloudauth::gcp::iam::parse_impersonation` with arbitrary response bodies and statuses.
#![no_main]

use cloudauth_fuzz::{check_error, check_value, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = response(data);
    match cloudauth::gcp::iam::parse_impersonation(&response) {
        Ok(v) => {
            check_value("token", v.token.expose());
        }
        Err(e) => check_error(&response, &e),
    }
});
