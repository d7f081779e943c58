//! Fuzzes `cloudauth::aws::ecr::parse_token`, private and public. The last
//! input byte's low bit picks ECR Public, so seeds (JSON ending in `}`,
//! 0x7D, odd) are tried as ECR Public first; the fuzzer flips it freely.
#![no_main]

use cloudauth_fuzz::{check_error, check_value, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let public = data.last().is_some_and(|b| b & 1 == 1);
    let response = response(data);
    for public in [public, !public] {
        match cloudauth::aws::ecr::parse_token(&response, public) {
            Ok(v) => {
                check_value("username", &v.username);
                check_value("password", v.password.expose());
            }
            Err(e) => check_error(&response, &e),
        }
    }
});
