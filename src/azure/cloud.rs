//! Azure clouds, their endpoints and the token scopes cloudauth asks for.

use crate::error::{Error, Result};

/// An Azure cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AzureCloud {
    Public,
    China,
    UsGovernment,
    /// Defined by an environment file (`AZURE_ENVIRONMENT_FILEPATH`).
    Custom,
}

impl AzureCloud {
    /// The name fluxcd/pkg and the conformance cases use.
    pub fn name(self) -> &'static str {
        match self {
            AzureCloud::Public => "AzurePublic",
            AzureCloud::China => "AzureChina",
            AzureCloud::UsGovernment => "AzureUSGovernment",
            AzureCloud::Custom => "AzureCustom",
        }
    }
}

/// The Azure environment file fluxcd/pkg reads from `AZURE_ENVIRONMENT_FILEPATH`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AzureEnvironment {
    pub resource_manager_endpoint: Option<String>,
    pub token_audience: Option<String>,
    pub container_registry_dns_suffix: Option<String>,
}

/// The scope of ACR-audience Entra tokens, the same in every public cloud.
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
/// The AKS (Azure Kubernetes Service AAD server) scope.
pub const AKS_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";
/// The Azure DevOps scope.
pub const DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// The ARM scope of a cloud.
pub fn arm_scope(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    let _ = (cloud, environment);
    Err(Error::unsupported("not built yet"))
}
