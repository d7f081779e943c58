//! Google STS token exchange (workload identity federation).

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct ExchangeParams<'a> {
    pub audience: &'a str,
    pub scopes: &'a [String],
    pub subject_token: &'a Secret,
    pub subject_token_type: Option<&'a str>,
    pub impersonation: bool,
    /// A JSON object, as text.
    pub options: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a Secret>,
}

pub fn exchange_request(params: &ExchangeParams<'_>) -> Result<HttpRequest> {
    let _ = params;
    Err(Error::unsupported("not built yet"))
}

pub fn parse_exchange(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let _ = (response, now);
    Err(Error::unsupported("not built yet"))
}
