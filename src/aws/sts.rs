//! STS AssumeRoleWithWebIdentity (IRSA-style workload identity).

use crate::aws::endpoint::EndpointOptions;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct WebIdentityParams<'a> {
    pub region: &'a str,
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub web_identity_token: &'a Secret,
    pub duration_seconds: Option<u32>,
    pub policy_arns: &'a [String],
    pub endpoint: EndpointOptions,
}

pub fn web_identity_request(params: &WebIdentityParams<'_>) -> Result<HttpRequest> {
    let _ = params;
    Err(Error::unsupported("not built yet"))
}

pub fn parse_web_identity(response: &HttpResponse) -> Result<AwsCredentials> {
    let _ = response;
    Err(Error::unsupported("not built yet"))
}
