//! Generic flows: validating the host's registry credentials against any
//! registry, and the Kubernetes token itself as an access token.
//!
//! A generic registry has no cloud identity: its credentials are the ones
//! the host configured (`registry-username`, `registry-password`), and the
//! outcome is exactly those, as docker-login credentials without expiry
//! that docker, skopeo and containerd use as they are. A session without
//! them is `unsupported` at start. The flow only validates them, with the
//! distribution token protocol: `GET /v2/`; a 200 or a `Basic` challenge
//! leaves nothing to validate; a `Bearer` challenge names a realm (and
//! service and scopes), and a token request there with the credentials as
//! basic auth must succeed (a 401 from the token server fails the session).
//! The token itself is dropped: registry clients run the same protocol with
//! the credentials. The credentials only go to a realm on the registry
//! itself, on a host the caller trusted (`trusted-realm-hosts`), or to
//! Docker Hub's own token server.

use crate::credentials::{AccessToken, RegistryCredentials};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::jwt;
use crate::oci::{challenge, token};
use crate::response::{ErrorFormat, success_body};
use crate::secret::Secret;

use super::super::identity::TokenSource;
use super::super::outcome::Credentials;
use super::super::plan::GenericRegistry;
use super::{Action, Carries, Machine, Poll, send, unexpected};
use crate::host::https_authority;

#[derive(Debug, PartialEq, Eq)]
enum RegistryState {
    Start,
    /// Waiting for the `GET /v2/` answer.
    AwaitingPing,
    /// Waiting for the token server's answer.
    AwaitingToken,
    Finished,
}

/// Validation of the host's credentials against a generic registry.
pub struct RegistryFlow {
    registry: GenericRegistry,
    state: RegistryState,
}

impl RegistryFlow {
    pub fn new(registry: GenericRegistry) -> Self {
        RegistryFlow { registry, state: RegistryState::Start }
    }

    /// The outcome: the host's credentials, validated.
    fn done(&mut self) -> Poll<Credentials> {
        self.state = RegistryState::Finished;
        Poll::Ready(Credentials::Registry(RegistryCredentials {
            username: self.registry.username.clone(),
            password: self.registry.password.clone(),
            expires_at: None,
        }))
    }

    /// Answers the `/v2/` response: done, or a token request.
    fn on_ping(&mut self, response: &HttpResponse) -> Result<Poll<Credentials>> {
        if response.is_success() {
            return Ok(self.done());
        }
        let header = match (response.status, response.header_value("WWW-Authenticate")) {
            (401, Some(header)) => header,
            _ => {
                success_body(response, ErrorFormat::Distribution)?;
                return Err(Error::malformed("the registry answered 401 without a WWW-Authenticate challenge"));
            }
        };
        let challenge = challenge::parse(header).map_err(|e| match e {
            Error::InvalidInput(m) => Error::malformed(format!("the registry's WWW-Authenticate challenge: {m}")),
            other => other,
        })?;
        if challenge.scheme == "Basic" {
            return Ok(self.done());
        }
        let realm = challenge
            .realm
            .as_deref()
            .ok_or_else(|| Error::malformed("the registry's Bearer challenge has no realm"))?;
        let realm_host =
            https_authority(realm).map_err(|e| Error::malformed(format!("the registry's token realm: {e}")))?;
        if !self.registry.basic_hosts().contains(&realm_host) {
            return Err(Error::invalid(format!(
                "the registry's token realm {realm_host} is not the registry and not a trusted realm host: the registry credentials are not sent there (add it to trusted-realm-hosts to allow it)"
            )));
        }
        let mut scopes = challenge.scopes.clone();
        if let Some(repository) = &self.registry.repository {
            let pull = format!("repository:{repository}:pull");
            if !scopes.contains(&pull) {
                scopes.push(pull);
            }
        }
        let basic = token::BasicAuth { username: &self.registry.username, password: &self.registry.password };
        let request = token::token_request(realm, challenge.service.as_deref(), &scopes, Some(&basic))?;
        self.state = RegistryState::AwaitingToken;
        Ok(send(request, Carries::RegistryPassword))
    }
}

impl Machine for RegistryFlow {
    type Output = Credentials;

    fn begin(&mut self, _now: i64) -> Result<Poll<Credentials>> {
        if self.state != RegistryState::Start {
            return Err(unexpected("registry", "a second start"));
        }
        let request = HttpRequest::get(format!("https://{}/v2/", self.registry.api));
        self.state = RegistryState::AwaitingPing;
        Ok(send(request, Carries::Nothing))
    }

    fn on_identity_token(&mut self, _token: &Secret, _now: i64) -> Result<Poll<Credentials>> {
        Err(unexpected("registry", "an identity token"))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match self.state {
            RegistryState::AwaitingPing => self.on_ping(response),
            RegistryState::AwaitingToken => {
                // A token issued for the credentials is the proof they work.
                token::parse_token(response, now)?;
                Ok(self.done())
            }
            _ => Err(unexpected("registry", "an HTTP response")),
        }
    }
}

/// The generic provider's access token: a Kubernetes token for the
/// audience, used as it is (expiry from its `exp` claim).
pub struct KubernetesTokenFlow {
    source: TokenSource,
    audience: String,
    started: bool,
}

impl KubernetesTokenFlow {
    pub fn new(source: TokenSource, audience: String) -> Self {
        KubernetesTokenFlow { source, audience, started: false }
    }
}

impl Machine for KubernetesTokenFlow {
    type Output = Credentials;

    fn begin(&mut self, _now: i64) -> Result<Poll<Credentials>> {
        if self.started {
            return Err(unexpected("Kubernetes token", "a second start"));
        }
        self.started = true;
        Ok(Poll::Pending(Action::FetchIdentityToken(self.source.request(&self.audience))))
    }

    fn on_identity_token(&mut self, token: &Secret, _now: i64) -> Result<Poll<Credentials>> {
        let expires_at =
            jwt::expiry(token.expose()).map_err(|e| Error::invalid(format!("the service account token: {e}")))?;
        Ok(Poll::Ready(Credentials::AccessToken(AccessToken { token: token.clone(), expires_at })))
    }

    fn on_http(&mut self, _response: &HttpResponse, _now: i64) -> Result<Poll<Credentials>> {
        Err(unexpected("Kubernetes token", "an HTTP response"))
    }
}
