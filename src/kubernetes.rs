//! The Kubernetes TokenRequest API: service-account tokens for an audience.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct TokenRequestParams<'a> {
    pub api_server: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub audiences: &'a [String],
    pub expiration_seconds: Option<i64>,
    pub bearer_token: Option<&'a Secret>,
}

pub fn token_request(params: &TokenRequestParams<'_>) -> Result<HttpRequest> {
    let _ = params;
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token_request(response: &HttpResponse) -> Result<AccessToken> {
    let _ = response;
    Err(Error::unsupported("not built yet"))
}
