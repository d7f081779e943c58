//! Fuzzes `cloudauth::time::parse_rfc3339`: no panic, and every time in the
//! representable range formats back to a timestamp that parses to itself.
#![no_main]

use cloudauth::time::{DateTime, parse_rfc3339};
use cloudauth_fuzz::check_message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_rfc3339(text) {
        Ok(secs) => {
            if let Ok(dt) = DateTime::from_unix(secs) {
                assert_eq!(parse_rfc3339(&dt.rfc3339()).ok(), Some(secs), "{text:?}");
            }
        }
        Err(e) => check_message(&e),
    }
    if let Ok(n) = text.trim().parse::<i64>()
        && let Ok(dt) = DateTime::from_unix(n)
    {
        assert_eq!(parse_rfc3339(&dt.rfc3339()).ok(), Some(n));
        let _ = (dt.amz_date(), dt.date_stamp());
    }
});
