//! ECR and ECR Public GetAuthorizationToken.

use crate::aws::endpoint::EndpointOptions;
use crate::credentials::{AwsCredentials, RegistryCredentials};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};

#[derive(Clone, Debug)]
pub struct EcrTokenParams<'a> {
    pub region: &'a str,
    pub credentials: &'a AwsCredentials,
    pub registry_ids: &'a [String],
    pub public: bool,
    pub endpoint: EndpointOptions,
}

pub fn token_request(params: &EcrTokenParams<'_>, now: i64) -> Result<HttpRequest> {
    let _ = (params, now);
    Err(Error::unsupported("not built yet"))
}

pub fn parse_token(response: &HttpResponse, public: bool) -> Result<RegistryCredentials> {
    let _ = (response, public);
    Err(Error::unsupported("not built yet"))
}
