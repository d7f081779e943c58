//! Azure instance metadata service (IMDS): managed-identity tokens.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};

/// Which managed identity IMDS should use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagedIdentity {
    SystemAssigned,
    ClientId(String),
    ObjectId(String),
    ResourceId(String),
}

pub fn token_request(scope: &str, identity: &ManagedIdentity) -> Result<HttpRequest> {
    let _ = (scope, identity);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
