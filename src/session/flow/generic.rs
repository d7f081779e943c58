//! Generic flows: Docker token authentication against any registry, and the
//! Kubernetes token itself as an access token.
//!
//! The registry flow is the distribution token protocol: `GET /v2/`; a 200
//! means the registry needs no token; a 401 names a realm (and service and
//! scopes) in `WWW-Authenticate`; the token request goes there, anonymous or
//! with the host-supplied basic credentials. Those credentials only go to a
//! realm on the registry itself, on a host the caller trusted
//! (`trusted-realm-hosts`), or to Docker Hub's own token server.

use crate::credentials::{AccessToken, RegistryCredentials};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::jwt;
use crate::oci::{challenge, token};
use crate::response::{ErrorFormat, success_body};
use crate::secret::Secret;

use super::super::guard::https_authority;
use super::super::identity::TokenSource;
use super::super::outcome::Credentials;
use super::super::plan::GenericRegistry;
use super::{Action, Carries, Machine, Poll, send, unexpected};

/// The user name of registry credentials that hold a bearer token: the
/// docker credential-helper convention for token credentials.
pub const TOKEN_USERNAME: &str = "<token>";

#[derive(Debug, PartialEq, Eq)]
enum RegistryState {
    Start,
    /// Waiting for the `GET /v2/` answer.
    AwaitingPing,
    /// Waiting for the token server's answer.
    AwaitingToken,
    Finished,
}

/// Docker token authentication against a generic registry.
pub struct RegistryFlow {
    registry: GenericRegistry,
    state: RegistryState,
}

impl RegistryFlow {
    pub fn new(registry: GenericRegistry) -> Self {
        RegistryFlow { registry, state: RegistryState::Start }
    }

    /// The credentials when the registry takes no token: the host's basic
    /// credentials if it gave some, else anonymous (empty) ones.
    fn basic_or_anonymous(&self) -> RegistryCredentials {
        match &self.registry.basic {
            Some((user, password)) => {
                RegistryCredentials { username: user.clone(), password: password.clone(), expires_at: None }
            }
            None => RegistryCredentials { username: String::new(), password: Secret::default(), expires_at: None },
        }
    }

    /// Answers the `/v2/` response: done, or a token request.
    fn on_ping(&mut self, response: &HttpResponse) -> Result<Poll<Credentials>> {
        if response.is_success() {
            self.state = RegistryState::Finished;
            return Ok(Poll::Ready(Credentials::Registry(self.basic_or_anonymous())));
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
            if self.registry.basic.is_none() {
                return Err(Error::HttpStatus {
                    status: 401,
                    code: None,
                    message: "the registry asks for basic credentials and none were given".into(),
                });
            }
            self.state = RegistryState::Finished;
            return Ok(Poll::Ready(Credentials::Registry(self.basic_or_anonymous())));
        }
        let realm = challenge
            .realm
            .as_deref()
            .ok_or_else(|| Error::malformed("the registry's Bearer challenge has no realm"))?;
        let realm_host =
            https_authority(realm).map_err(|e| Error::malformed(format!("the registry's token realm: {e}")))?;
        let mut scopes = challenge.scopes.clone();
        if let Some(repository) = &self.registry.repository {
            let pull = format!("repository:{repository}:pull");
            if !scopes.contains(&pull) {
                scopes.push(pull);
            }
        }
        let (request, carries) = match &self.registry.basic {
            Some((username, password)) => {
                if !self.registry.basic_hosts().contains(&realm_host) {
                    return Err(Error::invalid(format!(
                        "the registry's token realm {realm_host} is not the registry and not a trusted realm host: the registry credentials are not sent there (add it to trusted-realm-hosts to allow it)"
                    )));
                }
                let basic = token::BasicAuth { username, password };
                (
                    token::token_request(realm, challenge.service.as_deref(), &scopes, Some(&basic))?,
                    Carries::RegistryPassword,
                )
            }
            None => (
                token::token_request(realm, challenge.service.as_deref(), &scopes, None)?,
                Carries::AnonymousTokenRequest,
            ),
        };
        self.state = RegistryState::AwaitingToken;
        Ok(send(request, carries))
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
                let AccessToken { token, expires_at } = token::parse_token(response, now)?;
                self.state = RegistryState::Finished;
                Ok(Poll::Ready(Credentials::Registry(RegistryCredentials {
                    username: TOKEN_USERNAME.to_owned(),
                    password: token,
                    expires_at: Some(expires_at),
                })))
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
