//! EKS bearer tokens, as `aws eks get-token` makes them.

use crate::aws::endpoint::EndpointOptions;
use crate::credentials::{AccessToken, AwsCredentials};
use crate::error::{Error, Result};

pub fn token(cluster: &str, region: &str, credentials: &AwsCredentials, now: i64, endpoint: EndpointOptions) -> Result<AccessToken> {
    let _ = (cluster, region, credentials, now, endpoint);
    Err(Error::unsupported("not built yet"))
}
