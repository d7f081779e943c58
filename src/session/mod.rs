//! Complete credential flows as a sans-IO state machine: "give me
//! credentials for this target as this identity" (WIT interface `session`).
//!
//! The design follows quinn-proto and rustls: no I/O, time passed in, every
//! state explicit, the caller does the I/O. A [`Session`] is started from a
//! [`SessionRequest`]; the host asks [`Session::next`] what to do, does it,
//! and hands the result back with [`Session::receive_http`] or
//! [`Session::receive_identity_token`], until the step is
//! [`Step::Done`] or [`Step::Failed`].
//!
//! ```text
//!            start ──(invalid / unsupported)──▶ Err
//!              │
//!              ├──(cache hit)──────────────────────────────▶ Done
//!              ▼
//!   ┌──▶ SendHttp ──receive_http──┐
//!   │                             ├──▶ (flow decides) ──▶ Done(credentials)
//!   └── FetchIdentityToken ◀──────┘          │
//!          └──receive_identity_token──┘      └──(error)──▶ Failed(error)
//! ```
//!
//! Input handed over at the wrong time is `InvalidInput` and leaves the
//! session unchanged; after `Done` or `Failed` every receive is an error. A
//! response that is not 2xx or does not parse, an identity token that is
//! unusable, or a next request that the routing guard refuses moves the
//! session to `Failed`, and the receive call returns that error too.
//!
//! One module per concept: [`request`] (the request types and their shape
//! checks), [`outcome`] (what a session asks of the host and produces),
//! [`identity`] (annotations and environment to an identity plan, per
//! provider),
//! [`plan`] (the decided target and identity), [`cluster`] (the decided
//! cluster target, over `crate::cluster`), [`flow`] (one state machine per
//! provider), [`guard`] (routing safety), [`cache`] (the credential cache and
//! its keys), [`git`] (which Git URLs get credentials).

pub mod cache;
pub mod cluster;
pub mod configure;
pub mod explain;
pub mod flow;
pub mod git;
pub mod guard;
pub mod identity;
pub mod outcome;
pub mod plan;
pub mod request;

pub use outcome::{Credentials, GitCredentials, IdentityTokenRequest, RestConfig, Step};
pub use request::{
    Cluster, ENVIRONMENT_NAMES, GitHubAppTarget, Identity, Options, ServiceAccount, SessionRequest, Target,
};

use std::fmt;

use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;

use explain::{Enforcement, Prepared};
use flow::{Action, Flow, Poll};
use guard::Guard;

/// Longest identity token accepted (Kubernetes tokens are a few KiB).
const MAX_IDENTITY_TOKEN: usize = 64 * 1024;
/// Largest file accepted (credentials and config files are a few KiB).
pub const MAX_FILE: usize = 1 << 20;

/// Where a session is.
#[derive(Clone, PartialEq, Eq)]
enum State {
    /// The host must send this request.
    SendHttp(crate::http::HttpRequest),
    /// The host must fetch this identity token.
    FetchIdentityToken(IdentityTokenRequest),
    /// The host must read this file.
    ReadFile(String),
    Done(Credentials),
    Failed(Error),
}

/// One credential flow.
pub struct Session {
    state: State,
    /// The provider flow; None once finished (or when served from the cache).
    flow: Option<Flow>,
    guard: Guard,
    cache_key: String,
    from_cache: bool,
    use_cache: bool,
    /// The request's rules, checked at every later step.
    enforcement: Option<Enforcement>,
    /// A plan waiting for its configuration files (`configure`).
    configuring: Option<Configuring>,
}

/// A plan waiting for its configuration files, and those read so far.
struct Configuring {
    request: SessionRequest,
    plan: plan::Plan,
    wanted: Vec<String>,
    read: Vec<(String, Option<Secret>)>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::SendHttp(r) => format!("SendHttp({} {})", r.method, r.url.split('?').next().unwrap_or_default()),
            State::FetchIdentityToken(r) => format!("FetchIdentityToken({r:?})"),
            State::ReadFile(path) => format!("ReadFile({path})"),
            State::Done(_) => "Done(<credentials>)".to_owned(),
            State::Failed(e) => format!("Failed({e})"),
        };
        f.debug_struct("Session")
            .field("state", &state)
            .field("cache_key", &self.cache_key)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

impl Session {
    /// Starts a flow. An invalid or unsupported request fails here; so does
    /// a first request the routing guard refuses.
    pub fn start(request: SessionRequest) -> Result<Session> {
        // Planning, the allow-list, the cache key and the rules' decision:
        // shared with `explain::explain`, so both fail at the same place.
        let prepared = Prepared::new(&request, true)?;
        let use_cache = !request.options.skip_cache;
        let now = request.now;
        if use_cache && let Some(credentials) = cache::lookup(&prepared.cache_key, now) {
            if let Some(enforcement) = &prepared.enforcement {
                enforcement.check_credentials(&credentials, now)?;
            }
            return Ok(Session {
                state: State::Done(credentials),
                flow: None,
                guard: prepared.guard,
                cache_key: prepared.cache_key,
                from_cache: true,
                use_cache,
                enforcement: prepared.enforcement,
                configuring: None,
            });
        }
        let files = configure::files(&prepared.plan);
        if let Some(first) = files.first() {
            // The guard made so far allows nothing the files decide; the
            // session is prepared again once they are read.
            return Ok(Session {
                state: State::ReadFile(first.clone()),
                flow: None,
                guard: prepared.guard,
                cache_key: prepared.cache_key,
                from_cache: false,
                use_cache,
                enforcement: prepared.enforcement,
                configuring: Some(Configuring { request, plan: prepared.plan, wanted: files, read: Vec::new() }),
            });
        }
        let (flow, first) = prepared.begin(now)?;
        let mut session = Session {
            state: State::Failed(Error::invalid("not started")),
            flow: Some(flow),
            guard: prepared.guard,
            cache_key: prepared.cache_key,
            from_cache: false,
            use_cache,
            enforcement: prepared.enforcement,
            configuring: None,
        };
        session.advance(Ok(first), now)?;
        Ok(session)
    }

    /// The current step. Asking again without handing anything over gives
    /// the same step.
    pub fn next(&self) -> Step {
        match &self.state {
            State::SendHttp(request) => Step::SendHttp(request.clone()),
            State::FetchIdentityToken(request) => Step::FetchIdentityToken(request.clone()),
            State::ReadFile(path) => Step::ReadFile(path.clone()),
            State::Done(credentials) => Step::Done(credentials.clone()),
            State::Failed(error) => Step::Failed(error.clone()),
        }
    }

    /// Hands over the response to the current `SendHttp` step.
    pub fn receive_http(&mut self, response: HttpResponse, now: i64) -> Result<()> {
        if !matches!(self.state, State::SendHttp(_)) {
            return Err(self.out_of_order("an HTTP response"));
        }
        let result = match self.flow.as_mut() {
            Some(flow) => flow.on_http(&response, now),
            None => Err(Error::invalid("the session has no flow")),
        };
        self.advance(result, now)
    }

    /// Hands over the token asked for by the current `FetchIdentityToken` step.
    pub fn receive_identity_token(&mut self, token: Secret, now: i64) -> Result<()> {
        if !matches!(self.state, State::FetchIdentityToken(_)) {
            return Err(self.out_of_order("an identity token"));
        }
        let result = check_identity_token(&token, now).and_then(|()| match self.flow.as_mut() {
            Some(flow) => flow.on_identity_token(&token, now),
            None => Err(Error::invalid("the session has no flow")),
        });
        self.advance(result, now)
    }

    /// Hands over the contents of the file asked for by the current
    /// `ReadFile` step; None when the file does not exist. Contents must be
    /// UTF-8 text of at most [`MAX_FILE`] bytes; they are kept as a secret
    /// (credentials files hold keys).
    pub fn receive_file(&mut self, contents: Option<Vec<u8>>, now: i64) -> Result<()> {
        let State::ReadFile(path) = &self.state else {
            return Err(self.out_of_order("a file"));
        };
        let path = path.clone();
        let text = match contents {
            None => Ok(None),
            Some(bytes) if bytes.len() > MAX_FILE => {
                Err(Error::invalid(format!("the file {path} is larger than {MAX_FILE} bytes")))
            }
            Some(bytes) => String::from_utf8(bytes)
                .map(|t| Some(Secret::new(t)))
                .map_err(|_| Error::invalid(format!("the file {path} is not UTF-8 text"))),
        };
        let result = text.and_then(|text| self.on_file(path, text, now));
        self.advance(result, now)
    }

    /// A file for the flow, or a configuration file: when the last one is
    /// read, the plan is completed and prepared again (guard, rules), and
    /// its flow begins.
    fn on_file(&mut self, path: String, text: Option<Secret>, now: i64) -> Result<Poll<Credentials>> {
        let Some(mut configuring) = self.configuring.take() else {
            return match self.flow.as_mut() {
                Some(flow) => flow.on_file(text.as_ref(), now),
                None => Err(Error::invalid("the session has no flow")),
            };
        };
        configuring.read.push((path, text));
        if let Some(next) = configuring.wanted.get(configuring.read.len()) {
            let next = next.clone();
            self.configuring = Some(configuring);
            return Ok(Poll::Pending(Action::ReadFile(next)));
        }
        let plan = configure::configure(configuring.plan, configuring.read)?;
        let prepared = Prepared::from_plan(&configuring.request, plan, self.cache_key.clone(), true)?;
        let (flow, first) = prepared.begin(now)?;
        self.guard = prepared.guard;
        self.enforcement = prepared.enforcement;
        self.flow = Some(flow);
        Ok(first)
    }

    /// The cache key of this flow (hex SHA-256).
    pub fn cache_key(&self) -> &str {
        &self.cache_key
    }

    /// True when the result came from the component's cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    fn out_of_order(&self, what: &str) -> Error {
        let now = match &self.state {
            State::SendHttp(_) => "the session waits for an HTTP response",
            State::FetchIdentityToken(_) => "the session waits for an identity token",
            State::ReadFile(_) => "the session waits for a file",
            State::Done(_) => "the session is done",
            State::Failed(_) => "the session has failed",
        };
        Error::invalid(format!("{what} was handed over at the wrong time: {now}"))
    }

    /// Moves to the state a flow event led to. Every request passes the
    /// routing guard here, the one place requests leave the session.
    fn advance(&mut self, result: Result<Poll<Credentials>>, now: i64) -> Result<()> {
        let next = result.and_then(|poll| match poll {
            Poll::Pending(Action::Send(outbound)) => {
                self.guard.check(&outbound)?;
                if let Some(enforcement) = &self.enforcement {
                    enforcement.check_request(&outbound.request)?;
                }
                Ok(State::SendHttp(outbound.request))
            }
            Poll::Pending(Action::FetchIdentityToken(request)) => Ok(State::FetchIdentityToken(request)),
            Poll::Pending(Action::ReadFile(path)) => Ok(State::ReadFile(path)),
            Poll::Ready(credentials) => {
                if credentials.expires_at().is_some_and(|t| t <= now) {
                    return Err(Error::malformed("the service returned credentials that have already expired"));
                }
                if let Some(enforcement) = &self.enforcement {
                    enforcement.check_credentials(&credentials, now)?;
                }
                if self.use_cache {
                    cache::store(&self.cache_key, &credentials, now);
                }
                Ok(State::Done(credentials))
            }
        });
        match next {
            Ok(state) => {
                if matches!(state, State::Done(_)) {
                    self.flow = None;
                }
                self.state = state;
                Ok(())
            }
            Err(error) => {
                self.flow = None;
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }
}

/// An identity token must be one line of visible text; a JWT whose `exp`
/// has passed is refused (a non-JWT token is passed on as it is).
pub(crate) fn check_identity_token(token: &Secret, now: i64) -> Result<()> {
    let value = token.expose();
    if value.is_empty() {
        return Err(Error::invalid("the identity token is empty"));
    }
    if value.len() > MAX_IDENTITY_TOKEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("the identity token is too long or not one line of visible ASCII"));
    }
    if let Ok(exp) = crate::jwt::expiry(value)
        && exp <= now
    {
        return Err(Error::invalid(format!("the identity token expired at {exp}, before now ({now})")));
    }
    Ok(())
}

/// Drops every cached credential of this component instance.
pub fn clear_cache() {
    cache::clear();
}

#[cfg(test)]
mod tests;
