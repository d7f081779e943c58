//! Fuzzes the SigV4 signer (`sign_with`, `presign_with`) with arbitrary
//! requests and parameters: no panic; a signed request has only clean
//! headers; the secret key never shows in Debug output or errors.
//!
//! The input is a small binary format, so that `seed_corpus.py` can write
//! the official SigV4 suites' requests as seeds (an `arbitrary`-derived
//! struct has no encoder) and the fuzzer starts past the input checks:
//!
//! - byte 0: flags. Bit 0 normalize the path, bit 1 sign the body hash
//!   header, bit 2 add the session token after signing, bit 3 presign, bit 4
//!   with a session token; bits 5 to 7 the method (an index into `METHODS`).
//! - bytes 1..9: the time, Unix seconds, i64 big-endian.
//! - bytes 9..13: the presigned URL's lifetime in seconds, u32 big-endian.
//! - fields, each a u16 big-endian length and that many bytes (UTF-8; invalid
//!   sequences become U+FFFD): URL, access key id, session token, region,
//!   service, body.
//! - a count byte and that many unsigned header names (fields as above).
//! - header name and value fields, in pairs, to the end.
//!
//! An input that ends early leaves the remaining fields empty.
#![no_main]

use cloudauth::aws::sigv4::{SessionTokenMode, SigningParams, presign_with, sign_with};
use cloudauth::credentials::AwsCredentials;
use cloudauth::http::{HttpRequest, check_header};
use cloudauth::secret::Secret;
use cloudauth_fuzz::check_message;
use libfuzzer_sys::fuzz_target;

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "GET"];

/// Reads the format above; past the end every read is empty.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    fn bytes(&mut self) -> &'a [u8] {
        let len = u16::from_be_bytes(self.array());
        self.take(usize::from(len))
    }

    fn string(&mut self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }
}

/// Set `SIGV4_FUZZ_TRACE=1` to print whether each input was signed (to check
/// that the seeds get past the input checks:
/// `cargo fuzz run sigv4 fuzz/corpus/sigv4 -- -runs=0`).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SIGV4_FUZZ_TRACE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let [flags] = r.array();
    let now = i64::from_be_bytes(r.array());
    let expires = u32::from_be_bytes(r.array());
    let url = r.string();
    let access_key_id = r.string();
    let session_token = r.string();
    let region = r.string();
    let service = r.string();
    let body = r.bytes().to_vec();
    let [count] = r.array();
    let unsigned_headers: Vec<String> = (0..count).map(|_| r.string()).collect();
    let mut headers = Vec::new();
    while !r.0.is_empty() {
        headers.push((r.string(), r.string()));
    }

    // libFuzzer copies the bytes the code compares into its input, so the
    // key may turn up in a header name that an error then quotes: the key
    // is the caller's to hide only where the caller put it as the key.
    let fields = [&url, &access_key_id, &session_token, &region, &service]
        .into_iter()
        .chain(&unsigned_headers)
        .chain(headers.iter().flat_map(|(n, v)| [n, v]))
        .any(|f| f.contains(SECRET_KEY));
    let key_elsewhere = fields || body.windows(SECRET_KEY.len()).any(|w| w == SECRET_KEY.as_bytes());

    let credentials = AwsCredentials {
        access_key_id,
        secret_access_key: Secret::new(SECRET_KEY),
        session_token: (flags & 16 != 0).then(|| Secret::new(session_token)),
        expires_at: None,
    };
    let request = HttpRequest { method: METHODS[usize::from(flags >> 5)], url, headers, body };
    let params = SigningParams {
        credentials: &credentials,
        region: &region,
        service: &service,
        now,
        normalize_path: flags & 1 != 0,
        sign_body_header: flags & 2 != 0,
        unsigned_headers: &unsigned_headers,
    };
    let mode = if flags & 4 != 0 { SessionTokenMode::AddedAfterSigning } else { SessionTokenMode::Signed };
    let signed = if flags & 8 != 0 {
        presign_with(&request, &params, expires, mode)
    } else {
        sign_with(&request, &params, mode)
    };
    if tracing() {
        match &signed {
            Ok(_) => eprintln!("trace: signed"),
            Err(e) => eprintln!("trace: refused: {e}"),
        }
    }
    match signed {
        Ok(s) => {
            for (name, value) in &s.request.headers {
                assert!(check_header(name, value).is_ok(), "{name:?}: {value:?}");
            }
            assert!(!s.request.url.chars().any(char::is_control), "{:?}", s.request.url);
            assert_eq!(s.signature.len(), 64);
            let debug = format!("{s:?}");
            assert!(key_elsewhere || !debug.contains(SECRET_KEY), "{debug}");
        }
        Err(e) => {
            check_message(&e);
            assert!(key_elsewhere || !e.to_string().contains(SECRET_KEY), "{e}");
        }
    }
});
