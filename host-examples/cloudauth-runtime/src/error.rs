//! Errors that say which step of a flow failed and at which host.
//!
//! A bare `http-status 403: forbidden` leaves an operator guessing which of
//! the three services of a flow said it. Every [`Error`] of a flow carries
//! the [`Step`]: its number, what it did (`GET http://169.254.169.254/...`,
//! never the query, which may hold a presigned signature) and the host. No
//! error holds a secret: component errors never quote one, transport errors
//! name hosts and paths only, and identity-token errors name the file.

use std::fmt;

use crate::bindings::api::types::Error as ComponentError;

/// What kind of failure.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component refused the request (`invalid-input`).
    InvalidInput,
    /// The component does not serve this target or identity (`unsupported`).
    Unsupported,
    /// A service answered with a non-2xx status, and its own error code.
    HttpStatus { status: u16, code: Option<String> },
    /// A service answered something the component could not use.
    MalformedResponse,
    /// Connecting, TLS, the proxy or the connection failed.
    Transport,
    /// A step, or the whole flow, took longer than allowed.
    Timeout,
    /// A response was larger than the configured limit.
    TooLarge,
    /// The identity token could not be had.
    IdentityToken,
    /// The component trapped; the instance was dropped and will be replaced.
    Trap,
    /// The component could not be loaded or instantiated, or the host is
    /// misconfigured.
    Setup,
    /// The flow misbehaved: too many steps, or credentials of another kind
    /// than asked for.
    Flow,
}

/// A step of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1 for the first thing the host did for the session; 0 for starting it.
    pub number: usize,
    /// What the step did: `GET https://host/path` (no query), or
    /// `reading the identity token (audience ...)`.
    pub action: String,
    /// The host the step talked to, with its port when not the default.
    pub host: Option<String>,
}

/// Why a call or a flow failed. `Display` is one line that names the step
/// and the host; [`Error::kind`], [`Error::step`] and
/// [`Error::component_error`] are there for programs.
#[derive(Clone, Debug)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<T, Error>` stays one pointer wide on the error
/// side: flows pass results through many layers of async calls.
#[derive(Clone, Debug)]
struct Inner {
    kind: ErrorKind,
    step: Option<Step>,
    message: String,
    component: Option<ComponentError>,
}

impl Error {
    /// An error of `kind`, for [`Transport`](crate::Transport) and
    /// [`IdentitySource`](crate::IdentitySource) implementations: the
    /// message names the host or the file, never a secret. The session
    /// driver adds the step.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner { kind, step: None, message: message.into(), component: None }))
    }

    /// An error the component returned (`describe` gives the message).
    pub fn component(error: ComponentError) -> Self {
        let kind = match &error {
            ComponentError::InvalidInput(_) => ErrorKind::InvalidInput,
            ComponentError::Unsupported(_) => ErrorKind::Unsupported,
            ComponentError::HttpStatus(e) => ErrorKind::HttpStatus { status: e.status, code: e.code.clone() },
            ComponentError::MalformedResponse(_) => ErrorKind::MalformedResponse,
        };
        Error(Box::new(Inner { kind, step: None, message: describe(&error), component: Some(error) }))
    }

    /// A trap (or another wasmtime failure) in the component export `export`.
    pub(crate) fn trap(export: &str, error: &wasmtime::Error) -> Self {
        let cause = match error.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => format!("wasm trap: {trap}"),
            None => format!("{error}"),
        };
        Error::new(
            ErrorKind::Trap,
            format!("the component trapped in `{export}` ({cause}); the instance was dropped and will be replaced"),
        )
    }

    /// The same error, attributed to `step` (unless it already names one).
    pub(crate) fn at(mut self, step: &Step) -> Self {
        if self.0.step.is_none() {
            self.0.step = Some(step.clone());
        }
        self
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The step of the flow that failed, if the error happened in a flow.
    pub fn step(&self) -> Option<&Step> {
        self.0.step.as_ref()
    }

    /// The host that failed, if any.
    pub fn host(&self) -> Option<&str> {
        self.0.step.as_ref().and_then(|s| s.host.as_deref())
    }

    /// The component's own error, when the component (or a service, through
    /// it) said no.
    pub fn component_error(&self) -> Option<&ComponentError> {
        self.0.component.as_ref()
    }

    /// True when the component does not serve this target or identity.
    pub fn is_unsupported(&self) -> bool {
        self.0.kind == ErrorKind::Unsupported
    }

    /// The message without the step.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.step {
            None => f.write_str(&self.0.message),
            Some(Step { number: 0, action, .. }) => write!(f, "{action} failed: {}", self.0.message),
            Some(Step { number, action, host: Some(host) }) => {
                write!(f, "step {number} of the flow, {action}, failed at host {host}: {}", self.0.message)
            }
            Some(Step { number, action, host: None }) => {
                write!(f, "step {number} of the flow, {action}, failed: {}", self.0.message)
            }
        }
    }
}

impl std::error::Error for Error {}

/// A component error in one line: `kind: message`.
pub fn describe(error: &ComponentError) -> String {
    match error {
        ComponentError::InvalidInput(m) => format!("invalid-input: {m}"),
        ComponentError::Unsupported(m) => format!("unsupported: {m}"),
        ComponentError::HttpStatus(e) => match &e.code {
            Some(code) => format!("http-status {} ({code}): {}", e.status, e.message),
            None => format!("http-status {}: {}", e.status, e.message),
        },
        ComponentError::MalformedResponse(m) => format!("malformed-response: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::api::types::ServiceError;

    #[test]
    fn names_the_step_and_the_host() {
        let e = Error::component(ComponentError::HttpStatus(ServiceError {
            status: 403,
            code: None,
            message: "forbidden".into(),
        }))
        .at(&Step {
            number: 1,
            action: "GET http://169.254.169.254/metadata/identity/oauth2/token".into(),
            host: Some("169.254.169.254".into()),
        });
        assert_eq!(
            e.to_string(),
            "step 1 of the flow, GET http://169.254.169.254/metadata/identity/oauth2/token, failed at host 169.254.169.254: http-status 403: forbidden"
        );
        assert_eq!(e.kind(), &ErrorKind::HttpStatus { status: 403, code: None });
        assert_eq!(e.host(), Some("169.254.169.254"));
    }

    #[test]
    fn starting_is_step_zero() {
        let e = Error::component(ComponentError::Unsupported("no".into())).at(&Step {
            number: 0,
            action: "starting the session".into(),
            host: None,
        });
        assert_eq!(e.to_string(), "starting the session failed: unsupported: no");
        assert!(e.is_unsupported());
    }
}
