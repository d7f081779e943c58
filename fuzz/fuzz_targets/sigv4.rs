//! Fuzzes the SigV4 signer (`sign_with`, `presign_with`) with arbitrary
//! requests and parameters: no panic; a signed request has only clean
//! headers; the secret key never shows in Debug output or errors.
#![no_main]

use cloudauth::aws::sigv4::{SessionTokenMode, SigningParams, presign_with, sign_with};
use cloudauth::credentials::AwsCredentials;
use cloudauth::http::{HttpRequest, check_header};
use cloudauth::secret::Secret;
use cloudauth_fuzz::check_message;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    access_key_id: String,
    session_token: Option<String>,
    region: String,
    service: String,
    now: i64,
    normalize_path: bool,
    sign_body_header: bool,
    unsigned_headers: Vec<String>,
    token_after_signing: bool,
    presign_expires: Option<u32>,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

fuzz_target!(|input: Input| {
    let credentials = AwsCredentials {
        access_key_id: input.access_key_id,
        secret_access_key: Secret::new(SECRET_KEY),
        session_token: input.session_token.map(Secret::new),
        expires_at: None,
    };
    let request = HttpRequest {
        method: METHODS[usize::from(input.method) % METHODS.len()],
        url: input.url,
        headers: input.headers,
        body: input.body,
    };
    let params = SigningParams {
        credentials: &credentials,
        region: &input.region,
        service: &input.service,
        now: input.now,
        normalize_path: input.normalize_path,
        sign_body_header: input.sign_body_header,
        unsigned_headers: &input.unsigned_headers,
    };
    let mode = if input.token_after_signing { SessionTokenMode::AddedAfterSigning } else { SessionTokenMode::Signed };
    let signed = match input.presign_expires {
        Some(expires) => presign_with(&request, &params, expires, mode),
        None => sign_with(&request, &params, mode),
    };
    match signed {
        Ok(s) => {
            for (name, value) in &s.request.headers {
                assert!(check_header(name, value).is_ok(), "{name:?}: {value:?}");
            }
            assert!(!s.request.url.chars().any(char::is_control), "{:?}", s.request.url);
            assert_eq!(s.signature.len(), 64);
            let debug = format!("{s:?}");
            assert!(!debug.contains(SECRET_KEY), "{debug}");
        }
        Err(e) => {
            check_message(&e);
            assert!(!e.to_string().contains(SECRET_KEY), "{e}");
        }
    }
});
