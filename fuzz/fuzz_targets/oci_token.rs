//! Fuzzes `cloudauth::oci::token::parse_token` with arbitrary response bodies and statuses.
#![no_main]

use cloudauth_fuzz::{check_error, check_value, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = response(data);
    match cloudauth::oci::token::parse_token(&response, 1_705_320_000) {
        Ok(v) => {
            check_value("token", v.token.expose());
        }
        Err(e) => check_error(&response, &e),
    }
});
