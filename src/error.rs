//! The one error type of the crate, mirrored one-to-one by the WIT `error`
//! variant. Messages describe what was wrong without echoing secrets: callers
//! build them from names and lengths, never from token values.

use std::fmt;

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
        Error::InvalidInput(msg.into())
    }

    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Error::Unsupported(msg.into())
    }

    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Error::MalformedResponse(msg.into())
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
