//! IAM Credentials generateAccessToken: service-account impersonation.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

pub fn impersonation_request(service_account: &str, access_token: &Secret, scopes: &[String], lifetime_seconds: Option<u32>, delegates: &[String]) -> Result<HttpRequest> {
    let _ = (service_account, access_token, scopes, lifetime_seconds, delegates);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_impersonation(response: &HttpResponse) -> Result<AccessToken> {
    let _ = response;
    Err(Error::unsupported("not built yet"))
}
