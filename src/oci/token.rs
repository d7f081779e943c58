//! Registry token requests and responses.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

/// Basic credentials for the token server.
#[derive(Clone, Debug)]
pub struct BasicAuth<'a> {
    pub username: &'a str,
    pub password: &'a Secret,
}

pub fn token_request(realm: &str, service: Option<&str>, scopes: &[String], basic: Option<&BasicAuth<'_>>) -> Result<HttpRequest> {
    let _ = (realm, service, scopes, basic);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
