//! Target resolution: which provider and cloud serve a registry, and which
//! token it needs.

use crate::azure::cloud::{AzureCloud, AzureEnvironment};
use crate::error::{Error, Result};

/// The cloud provider of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Azure,
    Aws,
    Gcp,
    Generic,
}

/// An Amazon ECR registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsRegistry {
    /// None for ECR Public.
    pub account_id: Option<String>,
    pub region: String,
    pub partition: &'static str,
    pub fips: bool,
    pub public: bool,
}

/// A resolved container registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryTarget {
    pub provider: Provider,
    /// Host in lower case, with port if any.
    pub registry: String,
    pub azure_cloud: Option<AzureCloud>,
    pub aws: Option<AwsRegistry>,
}

pub fn resolve_registry(reference: &str, custom_cloud: Option<&AzureEnvironment>) -> Result<RegistryTarget> {
    let _ = (reference, custom_cloud);
    Err(Error::unsupported("not built yet"))
}

pub fn registry_scopes(reference: &str, custom_cloud: Option<&AzureEnvironment>) -> Result<Vec<String>> {
    let _ = (reference, custom_cloud);
    Err(Error::unsupported("not built yet"))
}

pub fn service_account_audience(provider: Provider) -> Result<&'static str> {
    let _ = provider;
    Err(Error::unsupported("not built yet"))
}
