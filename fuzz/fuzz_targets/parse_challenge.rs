//! Fuzzes `cloudauth::oci::challenge::parse` (`WWW-Authenticate` values).
#![no_main]

use cloudauth_fuzz::{check_message, check_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    match cloudauth::oci::challenge::parse(header) {
        Ok(c) => {
            assert!(c.scheme == "Bearer" || c.scheme == "Basic", "{c:?}");
            if c.scheme == "Bearer" {
                assert!(c.realm.as_deref().is_some_and(|r| !r.is_empty()), "{c:?}");
            }
            // Tabs may stand in a quoted string; nothing else may.
            for v in c.realm.iter().chain(&c.service).chain(&c.scopes) {
                assert!(!v.chars().any(|c| c.is_control() && c != '\t'), "{v:?}");
            }
            for s in &c.scopes {
                assert!(!s.is_empty() && !s.contains(' '), "{s:?}");
                check_value("scope", s);
            }
        }
        Err(e) => check_message(&e),
    }
});
