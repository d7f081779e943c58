//! Azure Container Registry: exchanging an Entra token for a refresh token,
//! and a refresh token for a repository-scoped access token.

use crate::credentials::{AccessToken, RegistryCredentials};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

pub fn exchange_request(registry: &str, access_token: &Secret, tenant_id: Option<&str>) -> Result<HttpRequest> {
    let _ = (registry, access_token, tenant_id);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_exchange(response: &HttpResponse, now: i64) -> Result<RegistryCredentials> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}

pub fn token_request(registry: &str, refresh_token: &Secret, scopes: &[String]) -> Result<HttpRequest> {
    let _ = (registry, refresh_token, scopes);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
