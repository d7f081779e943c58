//! Endpoint resolution for STS, ECR and ECR Public, as botocore does it.

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Sts,
    Ecr,
    EcrPublic,
}

/// Endpoint variants, as botocore's configuration names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndpointOptions {
    pub fips: bool,
    pub dualstack: bool,
    /// `sts_regional_endpoints = legacy` (STS only).
    pub legacy: bool,
}

/// A resolved endpoint: scheme and host (no trailing slash) and signing region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub signing_region: String,
}

pub fn resolve(service: Service, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    let _ = (service, region, options);
    Err(Error::unsupported("not built yet"))
}
