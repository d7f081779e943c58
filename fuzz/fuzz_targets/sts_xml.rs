//! Fuzzes `cloudauth::aws::sts::parse_web_identity (XML)` with arbitrary response bodies and statuses.
#![no_main]

use cloudauth_fuzz::{check_error, check_value, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = response(data);
    match cloudauth::aws::sts::parse_web_identity(&response) {
        Ok(v) => {
            check_value("access key id", &v.access_key_id);
            check_value("secret access key", v.secret_access_key.expose());
            check_value("session token", v.session_token.as_ref().map_or("", |t| t.expose()));
        }
        Err(e) => check_error(&response, &e),
    }
});
