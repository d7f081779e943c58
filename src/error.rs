//! The one error type of the crate, mirrored one-to-one by the WIT `error`
//! variant. Messages describe what was wrong without echoing secrets: callers
//! build them from names and lengths, never from token values. A caller's
//! value that an error names is quoted through [`quoted`] or [`excerpt`],
//! which cut it, and every message is capped at [`MAX_MESSAGE`] bytes, so
//! the documented bound (4096 bytes, prefix included) holds whatever the
//! input: an escaped DEL byte is six characters, so a 700-byte value could
//! otherwise become a 4 KiB message.

use std::fmt::{self, Write as _};

/// Longest excerpt of a caller's value an error quotes, in bytes after
/// escaping: enough to recognise the value, too short to flood a log.
pub const MAX_QUOTED: usize = 256;

/// Longest message an error carries, in bytes. The `Display` prefix
/// (`malformed response: `) keeps the whole text under 4096 bytes.
pub const MAX_MESSAGE: usize = 4000;

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The caller's input is malformed or unsafe.
    InvalidInput(String),
    /// Well-formed, but not something this provider serves.
    Unsupported(String),
    /// The service answered with a non-2xx status.
    HttpStatus {
        status: u16,
        /// The service's own error code, when its body had one.
        code: Option<String>,
        message: String,
    },
    /// A 2xx answer whose body is not what the protocol says.
    MalformedResponse(String),
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(capped(msg.into()))
    }

    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Error::Unsupported(capped(msg.into()))
    }

    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Error::MalformedResponse(capped(msg.into()))
    }

    /// The message without the kind's prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidInput(m) | Error::Unsupported(m) | Error::MalformedResponse(m) => m,
            Error::HttpStatus { message, .. } => message,
        }
    }

    /// The short kind name used by the WIT variant and the conformance cases.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "invalid-input",
            Error::Unsupported(_) => "unsupported",
            Error::HttpStatus { .. } => "http-status",
            Error::MalformedResponse(_) => "malformed-response",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::HttpStatus { status, code: Some(code), message } => {
                write!(f, "HTTP {status} ({code}): {message}")
            }
            Error::HttpStatus { status, code: None, message } => write!(f, "HTTP {status}: {message}"),
            Error::MalformedResponse(m) => write!(f, "malformed response: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// HMAC refusing a SigV4 key cannot happen (any key length is valid); if it
/// did, it would be the caller's input.
impl From<cloudauth_sigv4::key_cache::KeyRejected> for Error {
    fn from(e: cloudauth_sigv4::key_cache::KeyRejected) -> Self {
        Error::invalid(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A caller's value for an error message, as `{:?}` writes it (in double
/// quotes, quotes, backslashes and control characters escaped), cut after
/// [`MAX_QUOTED`] bytes of escaped text; a cut value ends in `...` and its
/// length.
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    let cut = push_escaped(&mut out, value, |c, out| match c {
        // `{:?}` of a str leaves single quotes alone; `char::escape_debug` does not.
        '\'' => out.push(c),
        c => out.extend(c.escape_debug()),
    });
    out.push('"');
    if cut {
        let _ = write!(out, "... ({} bytes)", value.len());
    }
    out
}

/// A caller's value for a Flux-style message (inside `'...'`): control
/// characters escaped, so the value cannot forge log lines, everything else
/// as is, cut after [`MAX_QUOTED`] bytes with `...`.
pub(crate) fn excerpt(value: &str) -> String {
    let mut out = String::new();
    let cut = push_escaped(
        &mut out,
        value,
        |c, out| {
            if c.is_control() { out.extend(c.escape_default()) } else { out.push(c) }
        },
    );
    if cut {
        out.push_str("...");
    }
    out
}

/// Appends `value` escaped by `escape` until the escaped text would pass
/// [`MAX_QUOTED`] bytes; says whether it stopped early. The limit is checked
/// after escaping, so a run of escaped bytes cannot overshoot it.
fn push_escaped(out: &mut String, value: &str, escape: impl Fn(char, &mut String)) -> bool {
    let mut written = 0;
    let mut one = String::new();
    for c in value.chars() {
        one.clear();
        escape(c, &mut one);
        if written + one.len() > MAX_QUOTED {
            return true;
        }
        written += one.len();
        out.push_str(&one);
    }
    false
}

/// The last line of defence: a message over [`MAX_MESSAGE`] bytes is cut (at
/// a character boundary) and ends in `...`.
fn capped(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE - 3;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("...");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_matches_debug_for_short_values() {
        for v in ["", "abc", "it's", "a\"b", "back\\slash", "tab\there", "line\nbreak", "\u{7f}", "é ü 中"] {
            assert_eq!(quoted(v), format!("{v:?}"));
        }
    }

    #[test]
    fn quoted_is_bounded_after_escaping() {
        for unit in ["\u{7f}", "\"", "\\", "\n", "a", "é", "中", "😀", "\u{200b}", "\u{301}"] {
            let value = unit.repeat(5000);
            let q = quoted(&value);
            // The quotes, `...` and the length note come on top of the excerpt.
            assert!(q.len() <= MAX_QUOTED + 2 + 20, "{unit:?}: {} bytes", q.len());
            assert!(q.ends_with(&format!("\"... ({} bytes)", value.len())), "{q}");
            let e = excerpt(&value);
            assert!(e.len() <= MAX_QUOTED + 3, "{unit:?}: {} bytes", e.len());
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }

    #[test]
    fn a_value_exactly_at_the_limit_is_not_cut() {
        let value = "a".repeat(MAX_QUOTED);
        assert_eq!(quoted(&value), format!("{value:?}"));
        assert_eq!(excerpt(&value), value);
        assert!(quoted(&format!("{value}a")).ends_with("... (257 bytes)"));
    }

    #[test]
    fn excerpt_escapes_control_characters_only() {
        assert_eq!(excerpt("a'b\"c\r\nd\u{7f}é"), "a'b\"c\\r\\nd\\u{7f}é");
    }

    #[test]
    fn messages_are_capped() {
        for unit in ["a", "é", "中", "😀"] {
            let e = Error::invalid(unit.repeat(10_000));
            let text = e.to_string();
            assert!(text.len() <= 4096, "{} bytes", text.len());
            assert!(text.ends_with("..."));
        }
        assert_eq!(Error::malformed("short").to_string(), "malformed response: short");
        assert!(Error::malformed("x".repeat(MAX_MESSAGE)).to_string().ends_with('x'));
    }
}
