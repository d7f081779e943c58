//! Whose credentials a flow gets, per provider: read from the host's
//! environment (controller-level identity) or from a service account's
//! annotations (object-level workload identity), with fluxcd/pkg's annotation
//! keys, checks and error texts.
//!
//! The result is an identity *plan*: which token to get and how, decided
//! before the first request so that every later step (and the routing guard)
//! works from the same validated values.

use crate::error::{Error, Result};
use crate::local_endpoint::LocalEndpoint;
use crate::registry::Provider;
use crate::secret::Secret;

use super::outcome::{Action, Carries, IdentityTokenRequest, Outbound};
use super::request::{Identity, Options, ServiceAccount};

mod aws;
mod azure;
mod gcp;

pub use aws::profile;
pub use aws::*;
pub use azure::*;
pub use gcp::*;

/// The provider identity, planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderIdentity {
    Azure(AzureIdentity),
    Aws(AwsPlan),
    Gcp(GcpIdentity),
    /// The Kubernetes token itself; None for generic registries, which use
    /// the registry's own credentials.
    Generic(Option<TokenSource>),
}

impl ProviderIdentity {
    pub fn provider(&self) -> Provider {
        match self {
            ProviderIdentity::Azure(_) => Provider::Azure,
            ProviderIdentity::Aws(_) => Provider::Aws,
            ProviderIdentity::Gcp(_) => Provider::Gcp,
            ProviderIdentity::Generic(_) => Provider::Generic,
        }
    }
}

/// Flux's feature gate error.
pub const ERR_OBJECT_LEVEL_DISABLED: &str = "ObjectLevelWorkloadIdentity feature gate is not enabled";

/// Audience of the service-account token AWS STS takes.
pub const AWS_AUDIENCE: &str = "sts.amazonaws.com";
/// Audience of the service-account token Entra takes as a client assertion.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the token to exchange comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The host's own projected token, from the file the SDK convention names.
    File(String),
    /// A token the host issues for this service account (TokenRequest).
    ServiceAccount { namespace: String, name: String },
    /// A token of the host's own Kubernetes service account, issued for
    /// the audience (the generic provider's controller-level identity).
    Host,
    /// An OIDC ID token from an Actions-style CI, requested for the
    /// audience from `ACTIONS_ID_TOKEN_REQUEST_URL` with
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (an HTTP step instead of
    /// `fetch-identity-token`).
    Actions { endpoint: LocalEndpoint, request_token: Secret },
}

impl TokenSource {
    fn of(sa: &ServiceAccount) -> Self {
        TokenSource::ServiceAccount { namespace: sa.namespace.clone(), name: sa.name.clone() }
    }

    /// What to ask the host for.
    pub fn request(&self, audience: &str) -> IdentityTokenRequest {
        match self {
            TokenSource::File(path) => {
                IdentityTokenRequest { audience: audience.to_owned(), service_account: None, file: Some(path.clone()) }
            }
            TokenSource::ServiceAccount { namespace, name } => IdentityTokenRequest {
                audience: audience.to_owned(),
                service_account: Some((namespace.clone(), name.clone())),
                file: None,
            },
            TokenSource::Host | TokenSource::Actions { .. } => {
                IdentityTokenRequest { audience: audience.to_owned(), service_account: None, file: None }
            }
        }
    }

    /// What the flow does to get the token: ask the host for it, or (an
    /// Actions CI) request it over HTTP.
    pub fn action(&self, audience: &str) -> Result<Action> {
        match self {
            TokenSource::Actions { endpoint, request_token } => Ok(Action::Send(Outbound {
                request: crate::actions_oidc::request(endpoint, request_token, audience)?,
                carries: Carries::LocalCredential,
            })),
            other => Ok(Action::FetchIdentityToken(other.request(audience))),
        }
    }

    /// The CI token endpoint, when the token comes from one.
    pub fn endpoint(&self) -> Option<&LocalEndpoint> {
        match self {
            TokenSource::Actions { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, when
    /// both are set; one without the other is an error naming them.
    fn actions(options: &Options) -> Result<Option<TokenSource>> {
        match (options.env("ACTIONS_ID_TOKEN_REQUEST_URL")?, options.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")?) {
            (Some(url), Some(token)) => Ok(Some(TokenSource::Actions {
                endpoint: crate::actions_oidc::endpoint(url)?,
                request_token: Secret::new(token),
            })),
            (None, None) => Ok(None),
            _ => Err(Error::invalid(
                "Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN must be set together (the job needs the 'id-token: write' permission)",
            )),
        }
    }
}

/// The service account of an object-level request, after Flux's checks: the
/// provider reads the annotations first (so their errors come first, as in
/// Flux), then the feature gate decides.
fn object_level<'a, T>(
    identity: &'a Identity,
    options: &Options,
    read_annotations: impl FnOnce(&'a ServiceAccount) -> Result<T, String>,
) -> Result<Option<(&'a ServiceAccount, T)>> {
    let Identity::ServiceAccount(sa) = identity else { return Ok(None) };
    let value = read_annotations(sa).map_err(|why| {
        Error::invalid(format!(
            "failed to get provider identity from service account '{}/{}' annotations: {why}",
            sa.namespace, sa.name
        ))
    })?;
    if !options.object_level_workload_identity {
        return Err(Error::invalid(ERR_OBJECT_LEVEL_DISABLED));
    }
    Ok(Some((sa, value)))
}

// ---------------------------------------------------------------- generic

/// Where a generic provider's token (the Kubernetes token itself) comes from.
pub fn generic_token_source(identity: &Identity, options: &Options) -> Result<Option<TokenSource>> {
    Ok(object_level(identity, options, |_| Ok(()))?.map(|(sa, ())| TokenSource::of(sa)))
}

#[cfg(test)]
mod tests;
