//! Fuzzes `cloudauth::oci::challenge::parse` (`WWW-Authenticate` values).
#![no_main]

use cloudauth_fuzz::check_message;
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
            // Scopes are split on spaces only (the token spec's separator);
            // a tab stays inside one, and the token request refuses it.
            for s in &c.scopes {
                assert!(!s.is_empty() && !s.contains(' '), "{s:?}");
            }
        }
        Err(e) => check_message(&e),
    }
});
