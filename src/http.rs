//! The HTTP messages the component hands to the host and gets back.
//!
//! Requests are built here with every value checked: a header value with CR,
//! LF or NUL would let a caller inject headers or split the request, so it is
//! rejected rather than escaped. `Debug` never shows header values of
//! credential-carrying headers nor bodies, which carry tokens.

use std::fmt;

use crate::error::{Error, Result, excerpt, quoted};

/// Largest response body the parsers accept. Token responses are a few KiB;
/// anything far larger is a misbehaving or hostile server.
pub const MAX_RESPONSE_BODY: usize = 1 << 20;

/// An HTTP request for the host to send.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An HTTP response as the host received it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Headers whose values are credentials.
const SENSITIVE_HEADERS: &[&str] = &["authorization", "x-amz-security-token", "proxy-authorization", "cookie"];

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    fn new(method: &'static str, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// Appends a header, rejecting names and values that could split the request.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        check_header(name, &value)?;
        self.headers.push((name.to_owned(), value));
        Ok(self)
    }

    /// Sets an `application/x-www-form-urlencoded` body from the pairs, in order.
    pub fn form(self, pairs: &[(&str, &str)]) -> Result<Self> {
        self.form_with_content_type(pairs, "application/x-www-form-urlencoded")
    }

    /// As [`form`](Self::form), with an explicit content type (AWS query APIs add a charset).
    pub fn form_with_content_type(mut self, pairs: &[(&str, &str)], content_type: &str) -> Result<Self> {
        self.body = encode_form(pairs).into_bytes();
        self.header("Content-Type", content_type)
    }

    /// Sets a JSON body with its content type. The body is serialized
    /// straight from `body`, with no `Value` in between; serde_json's error
    /// is not displayed (its messages cost the component ~3 KB, and the
    /// request bodies built here, strings and integers, cannot fail).
    pub fn json(mut self, body: &impl serde::Serialize, content_type: &str) -> Result<Self> {
        self.body = serde_json::to_vec(body).map_err(|_| Error::invalid("cannot encode JSON body"))?;
        self.header("Content-Type", content_type)
    }

    /// The value of a header (first match, case-insensitive name).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl HttpResponse {
    /// A response with no headers, as hosts and tests that have only a
    /// status and a body hand it over.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    /// The value of a header (first match, case-insensitive name).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Checks a header for characters that would corrupt the request on the wire.
pub fn check_header(name: &str, value: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(crate::ascii::is_tchar) {
        return Err(Error::invalid(format!("header name {} is not an HTTP token", quoted(name))));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::invalid(format!("value of header {} contains CR, LF or NUL", excerpt(name))));
    }
    Ok(())
}

/// Rejects a value that must be a single line of visible text (identifiers,
/// tokens, names): control characters are never legitimate in them and could
/// smuggle content into a header or URL.
pub fn check_single_line(what: &str, value: &str) -> Result<()> {
    if has_control(value) {
        return Err(Error::invalid(format!("{what} contains control characters")));
    }
    Ok(())
}

/// Whether `s` holds a control character (`char::is_control`: U+0000 to
/// U+001F and U+007F to U+009F). A byte scan: session tokens of a KiB and
/// more are checked on every signature, and in the component, built for
/// size, decoding `chars()` costs several times this.
pub fn has_control(s: &str) -> bool {
    let bytes = s.as_bytes();
    // In UTF-8, U+0080..=U+009F are 0xC2 followed by 0x80..=0x9F.
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b < 0x20 || b == 0x7f || (b == 0xc2 && bytes.get(i + 1).is_some_and(|&next| next <= 0x9f)))
}

/// Rejects an empty or control-character-laden value.
pub fn check_non_empty(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    check_single_line(what, value)
}

/// `application/x-www-form-urlencoded` encoding, as the SDKs write it
/// (space as `+`, everything but `*-._` and alphanumerics percent-encoded).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Percent-encodes a query component or path segment: everything but the
/// RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    percent_encode_bytes(s.as_bytes())
}

/// [`percent_encode`] for bytes that need not be UTF-8 (a percent-decoded
/// query component may not be).
pub fn percent_encode_bytes(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, URI_COMPONENT).to_string()
}

const URI_COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Builds `base?k=v&k=v` with each name and value percent-encoded.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = String::from(base);
    for (i, (k, v)) in pairs.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&percent_encode(k));
        url.push('=');
        url.push_str(&percent_encode(v));
    }
    url
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_url(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// A presigned URL carries its credentials in the query, so Debug shows only
/// the part before `?`.
fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<query redacted>"),
        None => url.to_owned(),
    }
}

struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if SENSITIVE_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                list.entry(&format_args!("{name}: <redacted>"));
            } else {
                list.entry(&format_args!("{name}: {value}"));
            }
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_is_rejected() {
        assert!(HttpRequest::get("https://x").header("A", "b\r\nEvil: 1").is_err());
        assert!(HttpRequest::get("https://x").header("A", "b\n").is_err());
        assert!(HttpRequest::get("https://x").header("A\r\nB", "c").is_err());
        assert!(HttpRequest::get("https://x").header("", "c").is_err());
        assert!(HttpRequest::get("https://x").header("A", "ok value").is_ok());
    }

    #[test]
    fn debug_redacts_credentials_and_bodies() {
        let req = HttpRequest::post("https://h/p?X-Amz-Signature=abc")
            .header("Authorization", "Bearer topsecret")
            .unwrap()
            .form(&[("client_assertion", "topsecret")])
            .unwrap();
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("topsecret"), "{dbg}");
        assert!(!dbg.contains("X-Amz-Signature"), "{dbg}");
        assert!(dbg.contains("Content-Type: application/x-www-form-urlencoded"));
    }

    #[test]
    fn has_control_agrees_with_char_is_control_for_every_char() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.encode_utf8(&mut buf).to_owned();
            assert_eq!(has_control(&alone), c.is_control(), "{c:?}");
            // Around other text, so a look-ahead past the end is tested too.
            let framed = format!("a{alone}\u{a0}");
            assert_eq!(has_control(&framed), c.is_control(), "{c:?}");
        }
        assert!(!has_control(""));
    }

    #[test]
    fn form_and_query_encoding() {
        assert_eq!(encode_form(&[("a b", "c&d=e/f:g")]), "a+b=c%26d%3De%2Ff%3Ag");
        assert_eq!(
            with_query("https://h/p", &[("resource", "https://x/y"), ("k", "a b")]),
            "https://h/p?resource=https%3A%2F%2Fx%2Fy&k=a%20b"
        );
    }
}
