//! Fuzzes `cloudauth::jwt::{claims, expiry}` with arbitrary token text, and
//! with arbitrary payload bytes wrapped in a well-formed JWT.
#![no_main]

use base64_shim::encode;
use cloudauth_fuzz::check_message;
use libfuzzer_sys::fuzz_target;

/// URL-safe unpadded base64, written here to keep the fuzz crate's
/// dependencies to libfuzzer-sys and cloudauth.
mod base64_shim {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(data: &[u8]) -> String {
        let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
        for chunk in data.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            }
        }
        out
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = cloudauth::jwt::expiry(text) {
            check_message(&e);
        }
    }
    let wrapped = format!("eyJhbGciOiJub25lIn0.{}.sig", encode(data));
    match cloudauth::jwt::expiry(&wrapped) {
        Ok(_) => {}
        Err(e) => check_message(&e),
    }
});
