//! Target resolution: which provider and cloud serve a registry, and which
//! token it needs.
//!
//! A cloud token is only ever associated with a host the cloud owns: the
//! reference is parsed strictly ([`reference`]), and each provider matches
//! the whole registry host against its own registry host shapes ([`azure`],
//! [`aws`], [`gcp`]). A host that merely contains a cloud's name
//! (`x.azurecr.io.evil.example`, `evil.example/x.azurecr.io`) is generic, and
//! a generic registry has no cloud scopes.

mod aws;
mod azure;
mod gcp;
mod reference;

pub use reference::{DEFAULT_REGISTRY, NAME_MAX, Reference, parse_reference, parse_registry};

use crate::azure::cloud::{ACR_SCOPE, AzureCloud, AzureEnvironment, arm_scope};
use crate::error::{Error, Result};
use crate::host::Authority;

/// The cloud provider of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Azure,
    Aws,
    Gcp,
    Generic,
}

impl Provider {
    /// The name the WIT enum and the conformance cases use.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Azure => "azure",
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Generic => "generic",
        }
    }
}

/// An Amazon ECR registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsRegistry {
    /// The 12-digit account; None for ECR Public.
    pub account_id: Option<String>,
    /// The region to authenticate in (`us-east-1` for ECR Public).
    pub region: String,
    /// botocore's partition id.
    pub partition: &'static str,
    /// The registry host is a FIPS endpoint.
    pub fips: bool,
    /// ECR Public (`public.ecr.aws`).
    pub public: bool,
}

/// A resolved container registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryTarget {
    pub provider: Provider,
    /// Host in lower case, with port if any.
    pub registry: String,
    /// Set for [`Provider::Azure`].
    pub azure_cloud: Option<AzureCloud>,
    /// Set for [`Provider::Aws`].
    pub aws: Option<AwsRegistry>,
}

/// Resolves an image reference, a registry host (with optional port) or an
/// `oci://` / `https://` URL. `custom_cloud`, when given, must be a valid
/// Azure environment file (see [`crate::azure::cloud::check_environment`]);
/// hosts under its `containerRegistryDNSSuffix` are of cloud `AzureCustom`.
pub fn resolve_registry(reference: &str, custom_cloud: Option<&AzureEnvironment>) -> Result<RegistryTarget> {
    let registry = parse_registry(reference)?;
    let (provider, azure_cloud, aws) = classify(&registry, custom_cloud)?;
    // The parsed host's buffer becomes the result's `registry`: no copy.
    Ok(RegistryTarget { provider, registry: registry.into_host_port(), azure_cloud, aws })
}

/// Resolves an already parsed registry host.
pub fn resolve_authority(registry: &Authority, custom_cloud: Option<&AzureEnvironment>) -> Result<RegistryTarget> {
    let (provider, azure_cloud, aws) = classify(registry, custom_cloud)?;
    Ok(RegistryTarget { provider, registry: registry.clone().into_host_port(), azure_cloud, aws })
}

/// The provider of a registry host and its cloud details.
fn classify(
    registry: &Authority,
    custom_cloud: Option<&AzureEnvironment>,
) -> Result<(Provider, Option<AzureCloud>, Option<AwsRegistry>)> {
    let custom = custom_cloud.map(azure::CustomCloud::new).transpose()?;
    if let Some(cloud) = azure::cloud_of(registry, custom.as_ref()) {
        return Ok((Provider::Azure, Some(cloud), None));
    }
    if let Some(ecr) = aws::registry(registry) {
        return Ok((Provider::Aws, None, Some(ecr)));
    }
    if gcp::is_registry(registry) {
        return Ok((Provider::Gcp, None, None));
    }
    Ok((Provider::Generic, None, None))
}

/// The scopes of the cloud token to request for a registry: the ACR scope in
/// the three known Azure clouds (fluxcd/pkg PR 1130), the ARM scope of a
/// custom cloud (its environment file defines no ACR audience), the Google
/// scopes for GCP, none for AWS (ECR is signed with SigV4, not a bearer
/// token). A generic registry has no cloud token: `unsupported`.
pub fn registry_scopes(reference: &str, custom_cloud: Option<&AzureEnvironment>) -> Result<Vec<String>> {
    let target = resolve_registry(reference, custom_cloud)?;
    match (target.provider, target.azure_cloud) {
        // With an environment file fluxcd/pkg takes the scope from the file
        // for every registry host, not only for those under its suffix.
        (Provider::Azure, _) if custom_cloud.is_some() => Ok(vec![arm_scope(AzureCloud::Custom, custom_cloud)?]),
        (Provider::Azure, _) => Ok(vec![ACR_SCOPE.to_owned()]),
        (Provider::Gcp, _) => Ok(crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect()),
        (Provider::Aws, _) => Ok(Vec::new()),
        (Provider::Generic, _) => {
            Err(Error::unsupported(format!("{} is not a cloud registry; it takes no cloud token", target.registry)))
        }
    }
}

/// The audience of the Kubernetes service-account token a provider exchanges
/// (fluxcd/pkg's `GetAudiences`). GCP's is the workload identity pool or
/// provider, which only the caller knows.
pub fn service_account_audience(provider: Provider) -> Result<&'static str> {
    match provider {
        Provider::Azure => Ok("api://AzureADTokenExchange"),
        Provider::Aws => Ok("sts.amazonaws.com"),
        Provider::Gcp => {
            Err(Error::unsupported("the GCP audience is the workload identity pool or provider, not a fixed value"))
        }
        Provider::Generic => Err(Error::unsupported("a generic registry exchanges no service-account token")),
    }
}

#[cfg(test)]
mod tests;
