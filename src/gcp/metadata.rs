//! The GCE metadata server's access tokens.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};

pub fn token_request(scopes: &[String], service_account: Option<&str>) -> Result<HttpRequest> {
    let _ = (scopes, service_account);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
