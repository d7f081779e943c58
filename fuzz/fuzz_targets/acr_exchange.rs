//! Fuzzes `cloudauth::azure::acr::parse_exchange` with arbitrary response bodies and statuses.
#![no_main]

use cloudauth_fuzz::{check_error, check_value, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = response(data);
    match cloudauth::azure::acr::parse_exchange(&response, 1_705_320_000) {
        Ok(v) => {
            check_value("username", &v.username);
            check_value("password", v.password.expose());
        }
        Err(e) => check_error(&response, &e),
    }
});
