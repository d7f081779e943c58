//! Azure flows: an Entra token (workload identity or managed identity), then
//! what the target does with it (ACR exchange, DevOps Git credentials, or
//! the token itself).

use crate::azure::client_certificate::ClientCertificate;
use crate::azure::{acr, app_service, entra, imds};
use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;

use super::super::check_identity_token;
use super::super::git::AZURE_DEVOPS_USERNAME;
use super::super::identity::{AZURE_AUDIENCE, AzureIdentity};
use super::super::outcome::{Credentials, GitCredentials};
use super::super::plan::TargetPlan;
use super::{Action, Carries, Machine, Poll, send, unexpected};

/// Getting an Entra access token for one scope.
pub struct AzureToken {
    identity: AzureIdentity,
    scope: String,
    state: TokenState,
}

#[derive(Debug, PartialEq, Eq)]
enum TokenState {
    Start,
    /// Waiting for the service-account token (the client assertion).
    AwaitingAssertion,
    /// Waiting for the Entra token response.
    AwaitingEntraToken,
    /// Waiting for the IMDS token response.
    AwaitingImdsToken,
    /// Waiting for the App Service managed identity endpoint.
    AwaitingAppServiceToken,
    /// Waiting for the client certificate file.
    AwaitingCertificate,
    Finished,
}

impl AzureToken {
    pub fn new(identity: AzureIdentity, scope: String) -> Self {
        AzureToken { identity, scope, state: TokenState::Start }
    }
}

impl Machine for AzureToken {
    type Output = AccessToken;

    fn begin(&mut self, _now: i64) -> Result<Poll<AccessToken>> {
        if self.state != TokenState::Start {
            return Err(unexpected("Azure token", "a second start"));
        }
        match &self.identity {
            AzureIdentity::WorkloadIdentity { token, .. } => {
                let action = token.action(AZURE_AUDIENCE)?;
                self.state = TokenState::AwaitingAssertion;
                Ok(Poll::Pending(action))
            }
            AzureIdentity::ManagedIdentity(id) => {
                let request = imds::token_request(&self.scope, id)?;
                self.state = TokenState::AwaitingImdsToken;
                Ok(send(request, Carries::Metadata))
            }
            AzureIdentity::ClientSecret { tenant_id, client_id, authority, secret } => {
                let request = entra::secret_token_request(&entra::SecretTokenRequest {
                    authority,
                    tenant_id,
                    client_id,
                    scope: &self.scope,
                    client_secret: secret,
                })?;
                self.state = TokenState::AwaitingEntraToken;
                Ok(send(request, Carries::CloudCredential))
            }
            AzureIdentity::ClientCertificate { path, .. } => {
                self.state = TokenState::AwaitingCertificate;
                Ok(Poll::Pending(Action::ReadFile(path.clone())))
            }
            AzureIdentity::AppService { endpoint, header, id } => {
                let request = app_service::token_request(endpoint, header, &self.scope, id)?;
                self.state = TokenState::AwaitingAppServiceToken;
                Ok(send(request, Carries::LocalCredential))
            }
        }
    }

    fn on_identity_token(&mut self, assertion: &Secret, _now: i64) -> Result<Poll<AccessToken>> {
        let (TokenState::AwaitingAssertion, AzureIdentity::WorkloadIdentity { tenant_id, client_id, authority, .. }) =
            (&self.state, &self.identity)
        else {
            return Err(unexpected("Azure token", "an identity token"));
        };
        let request = entra::token_request(&entra::AssertionTokenRequest {
            authority,
            tenant_id,
            client_id,
            scope: &self.scope,
            client_assertion: assertion,
        })?;
        self.state = TokenState::AwaitingEntraToken;
        Ok(send(request, Carries::CloudCredential))
    }

    /// The client certificate file: the assertion is signed with it (read
    /// on every flow, so a rotated certificate is used at once).
    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<AccessToken>> {
        let (
            TokenState::AwaitingCertificate,
            AzureIdentity::ClientCertificate { tenant_id, client_id, authority, path, send_chain },
        ) = (&self.state, &self.identity)
        else {
            return Err(unexpected("Azure token", "a file"));
        };
        let what = format!("EnvironmentCredential: AZURE_CLIENT_CERTIFICATE_PATH {path}");
        let text = contents.ok_or_else(|| Error::invalid(format!("{what} does not exist")))?;
        let certificate = ClientCertificate::from_pem(text, &what)?;
        let token_url = entra::token_url(authority, tenant_id)?;
        let assertion = certificate.assertion(client_id, &token_url, now, *send_chain)?;
        let request = entra::token_request(&entra::AssertionTokenRequest {
            authority,
            tenant_id,
            client_id,
            scope: &self.scope,
            client_assertion: &assertion,
        })?;
        self.state = TokenState::AwaitingEntraToken;
        Ok(send(request, Carries::CloudCredential))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<AccessToken>> {
        let token = match self.state {
            // The client assertion from an Actions CI.
            TokenState::AwaitingAssertion => {
                let assertion = crate::actions_oidc::parse(response)?;
                check_identity_token(&assertion, now)?;
                return self.on_identity_token(&assertion, now);
            }
            TokenState::AwaitingEntraToken => entra::parse_token(response, now)?,
            TokenState::AwaitingImdsToken => imds::parse_token(response, now)?,
            TokenState::AwaitingAppServiceToken => app_service::parse_token(response, now)?,
            _ => return Err(unexpected("Azure token", "an HTTP response")),
        };
        self.state = TokenState::Finished;
        Ok(Poll::Ready(token))
    }
}

/// What an Azure flow does with its token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Purpose {
    /// Exchange it at this registry for an ACR refresh token.
    Acr { registry: String },
    /// Hand it out as Azure DevOps Git credentials.
    Git,
    /// Hand it out as it is.
    AccessToken,
}

#[derive(Debug, PartialEq, Eq)]
enum FlowState {
    /// Getting the Entra token.
    Token,
    /// Waiting for the ACR exchange response.
    AwaitingAcrExchange,
    Finished,
}

/// A complete Azure flow.
pub struct AzureFlow {
    token: AzureToken,
    purpose: Purpose,
    state: FlowState,
}

impl AzureFlow {
    pub fn new(identity: AzureIdentity, target: &TargetPlan) -> Result<Self> {
        let (purpose, scope) = match target {
            TargetPlan::Acr { registry, scope } => (Purpose::Acr { registry: registry.clone() }, scope.clone()),
            TargetPlan::AzureDevOps => (Purpose::Git, crate::azure::cloud::DEVOPS_SCOPE.to_owned()),
            TargetPlan::AccessToken { scopes } => match scopes.as_slice() {
                [scope] => (Purpose::AccessToken, scope.clone()),
                _ => return Err(crate::error::Error::invalid("an Azure access token is for exactly one scope")),
            },
            other => return Err(crate::error::Error::unsupported(format!("Azure does not serve {other:?}"))),
        };
        Ok(AzureFlow { token: AzureToken::new(identity, scope), purpose, state: FlowState::Token })
    }

    /// Continues once the Entra token is there.
    fn with_token(&mut self, token: AccessToken) -> Result<Poll<Credentials>> {
        match &self.purpose {
            Purpose::Acr { registry } => {
                // Flux sends neither a tenant nor a refresh token.
                let request = acr::exchange_request(registry, &token.token, None)?;
                self.state = FlowState::AwaitingAcrExchange;
                Ok(send(request, Carries::CloudCredential))
            }
            Purpose::Git => {
                self.state = FlowState::Finished;
                Ok(Poll::Ready(Credentials::Git(GitCredentials {
                    username: Secret::new(AZURE_DEVOPS_USERNAME),
                    password: token.token.clone(),
                    bearer_token: token.token,
                    expires_at: token.expires_at,
                })))
            }
            Purpose::AccessToken => {
                self.state = FlowState::Finished;
                Ok(Poll::Ready(Credentials::AccessToken(token)))
            }
        }
    }
}

impl Machine for AzureFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.token.begin(now)?.then(|t| self.with_token(t))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        if self.state != FlowState::Token {
            return Err(unexpected("Azure", "an identity token"));
        }
        self.token.on_identity_token(token, now)?.then(|t| self.with_token(t))
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        if self.state != FlowState::Token {
            return Err(unexpected("Azure", "a file"));
        }
        self.token.on_file(contents, now)?.then(|t| self.with_token(t))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match self.state {
            FlowState::Token => self.token.on_http(response, now)?.then(|t| self.with_token(t)),
            FlowState::AwaitingAcrExchange => {
                let credentials = acr::parse_exchange(response, now)?;
                self.state = FlowState::Finished;
                Ok(Poll::Ready(Credentials::Registry(credentials)))
            }
            FlowState::Finished => Err(unexpected("Azure", "an HTTP response")),
        }
    }
}
