//! Entra ID (Azure AD) client-credentials tokens with a client assertion.

use crate::azure::cloud::AzureCloud;
use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};

/// Where the token endpoint lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authority {
    Cloud(AzureCloud),
    /// An explicit `https://` authority host.
    Host(String),
}

/// Parameters of a client-assertion token request.
#[derive(Clone, Debug)]
pub struct AssertionTokenRequest<'a> {
    pub authority: &'a Authority,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub client_assertion: &'a crate::secret::Secret,
}

pub fn token_request(params: &AssertionTokenRequest<'_>) -> Result<HttpRequest> {
    let _ = params;
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
