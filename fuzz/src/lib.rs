//! Helpers shared by the fuzz targets: turning fuzzer bytes into an HTTP
//! response, and the invariants every parser result must keep. A broken
//! invariant panics, which libFuzzer reports as a crash like any panic.

use cloudauth::Error;
use cloudauth::http::HttpResponse;

/// Longest error message accepted. Messages are diagnostics built from
/// names and short excerpts; a longer one is echoing its input.
pub const MAX_ERROR_MESSAGE: usize = 4096;

/// The response a target parses. Plain input is a 200 response whose body is
/// the input, so seed files can be real response bodies; input starting with
/// `0xFF` carries the status in its next two bytes (big-endian) instead.
pub fn response(data: &[u8]) -> HttpResponse {
    match data {
        [0xFF, hi, lo, body @ ..] => {
            HttpResponse { status: u16::from_be_bytes([*hi, *lo]), headers: Vec::new(), body: body.to_vec() }
        }
        body => HttpResponse { status: 200, headers: Vec::new(), body: body.to_vec() },
    }
}

/// A value that goes on into a request (a token, a password, a user name)
/// must be one line of text: CR, LF or NUL would split the header it lands in.
pub fn check_value(what: &str, value: &str) {
    assert!(!value.chars().any(char::is_control), "{what} with a control character was accepted");
}

/// The invariants of a parser's error: a non-2xx response is `HttpStatus`
/// with its status (unless the body was too large to look at), and the
/// message is bounded and free of raw control characters (log injection).
pub fn check_error(response: &HttpResponse, error: &Error) {
    let oversized = response.body.len() > cloudauth::http::MAX_RESPONSE_BODY;
    if !(200..300).contains(&response.status) && !oversized {
        assert!(
            matches!(error, Error::HttpStatus { status, .. } if *status == response.status),
            "status {} gave {error:?}",
            response.status
        );
    }
    if (200..300).contains(&response.status) {
        assert!(!matches!(error, Error::HttpStatus { .. }), "a 2xx response gave {error:?}");
    }
    check_message(error);
}

/// An error message is bounded and has no raw control characters.
pub fn check_message(error: &Error) {
    let text = error.to_string();
    assert!(
        text.len() <= MAX_ERROR_MESSAGE,
        "error message of {} bytes: {}...",
        text.len(),
        text.chars().take(200).collect::<String>()
    );
    assert!(!text.chars().any(|c| c.is_control() && c != '\t'), "error message with a control character: {text:?}");
}

pub mod cloud_hosts;
