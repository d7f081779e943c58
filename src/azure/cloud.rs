//! Azure clouds, their endpoints and the token scopes cloudauth asks for.
//!
//! The values are those of the Azure SDKs' cloud configurations
//! (`azcore/cloud` in Go, `AzureAuthorityHosts` in Python). A custom cloud
//! (Azure Stack, sovereign clouds) is described by the environment file that
//! fluxcd/pkg reads from `AZURE_ENVIRONMENT_FILEPATH`; that file names no
//! authority host, so a custom cloud's Entra requests need an explicit one.

use crate::error::{Error, Result, quoted};
use crate::host::Authority;

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

    /// The cloud a [`name`](Self::name) denotes.
    pub fn from_name(name: &str) -> Option<Self> {
        [AzureCloud::Public, AzureCloud::China, AzureCloud::UsGovernment, AzureCloud::Custom]
            .into_iter()
            .find(|c| c.name() == name)
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

/// The suffix that turns a resource (audience) into an Entra v2 scope.
pub const DEFAULT_SCOPE_SUFFIX: &str = "/.default";

/// The Entra authority host of a known cloud. A custom cloud's environment
/// file has no authority host, so the caller must name one explicitly.
pub fn authority_host(cloud: AzureCloud) -> Result<&'static str> {
    match cloud {
        AzureCloud::Public => Ok("https://login.microsoftonline.com"),
        AzureCloud::China => Ok("https://login.chinacloudapi.cn"),
        AzureCloud::UsGovernment => Ok("https://login.microsoftonline.us"),
        AzureCloud::Custom => Err(Error::invalid(
            "a custom Azure cloud has no known authority host; pass an explicit https:// authority host",
        )),
    }
}

/// The ARM scope of a cloud: its [`arm_endpoint`] plus `/.default`. A
/// custom cloud's is its `resourceManagerEndpoint` exactly as written plus
/// `/.default`, as fluxcd/pkg builds it: a trailing slash stays
/// (`https://management.example//.default`), because Entra reads the part
/// before `/.default` as the resource id, and removing the slash would ask
/// for another audience.
pub fn arm_scope(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    let endpoint = match (cloud, environment) {
        (AzureCloud::Custom, Some(env)) => required_endpoint(env)?.to_owned(),
        _ => arm_endpoint(cloud, environment)?,
    };
    Ok(format!("{endpoint}{DEFAULT_SCOPE_SUFFIX}"))
}

/// The Azure Resource Manager endpoint of a cloud, without a trailing `/`.
/// A custom cloud's is its `resourceManagerEndpoint`, so it needs its
/// (valid) environment.
pub fn arm_endpoint(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    let endpoint = match cloud {
        AzureCloud::Public => "https://management.azure.com",
        AzureCloud::China => "https://management.chinacloudapi.cn",
        AzureCloud::UsGovernment => "https://management.usgovcloudapi.net",
        AzureCloud::Custom => {
            let env = environment.ok_or_else(|| {
                Error::invalid("a custom Azure cloud needs its environment (resourceManagerEndpoint, tokenAudience)")
            })?;
            required_endpoint(env)?
        }
    };
    Ok(endpoint.trim_end_matches('/').to_owned())
}

/// Checks an environment file as fluxcd/pkg needs it: `resourceManagerEndpoint`
/// and `tokenAudience` present, each an `https://` URL with a valid host.
pub fn check_environment(environment: &AzureEnvironment) -> Result<()> {
    required_endpoint(environment).map(drop)
}

/// The `resourceManagerEndpoint` of an environment that passes [`check_environment`].
fn required_endpoint(environment: &AzureEnvironment) -> Result<&str> {
    let endpoint = required_url(&environment.resource_manager_endpoint, "resourceManagerEndpoint")?;
    required_url(&environment.token_audience, "tokenAudience")?;
    Ok(endpoint)
}

fn required_url<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    let value = value.as_deref().ok_or_else(|| Error::invalid(format!("the Azure environment has no {name}")))?;
    check_https_url(name, value)?;
    Ok(value)
}

/// Longest endpoint URL accepted from an environment file.
const MAX_ENDPOINT_URL: usize = 2048;

/// An `https://host[:port][/path]` URL: valid host, no userinfo, query or
/// fragment, and a path of visible characters (Azure Stack audiences carry a
/// path, e.g. `https://management.adfs.azurestack.local/<guid>`).
fn check_https_url(what: &str, url: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("{what} {} {why}", quoted(url)));
    if url.len() > MAX_ENDPOINT_URL {
        return Err(bad("is too long"));
    }
    let rest = url.strip_prefix("https://").ok_or_else(|| bad("is not an https:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("has userinfo"));
    }
    Authority::parse(authority).map_err(|_| bad("has no valid host"))?;
    if path.bytes().any(|b| !b.is_ascii_graphic() || b == b'?' || b == b'#') {
        return Err(bad("has a query, fragment, space or control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(rm: Option<&str>, audience: Option<&str>) -> AzureEnvironment {
        AzureEnvironment {
            resource_manager_endpoint: rm.map(str::to_owned),
            token_audience: audience.map(str::to_owned),
            container_registry_dns_suffix: Some("azurecr.example".to_owned()),
        }
    }

    #[test]
    fn known_clouds() {
        assert_eq!(arm_scope(AzureCloud::Public, None).unwrap(), "https://management.azure.com/.default");
        assert_eq!(arm_scope(AzureCloud::China, None).unwrap(), "https://management.chinacloudapi.cn/.default");
        assert_eq!(arm_scope(AzureCloud::UsGovernment, None).unwrap(), "https://management.usgovcloudapi.net/.default");
        // A known cloud ignores an environment.
        assert_eq!(
            arm_scope(AzureCloud::Public, Some(&env(None, None))).unwrap(),
            "https://management.azure.com/.default"
        );
        assert_eq!(authority_host(AzureCloud::Public).unwrap(), "https://login.microsoftonline.com");
        assert_eq!(authority_host(AzureCloud::China).unwrap(), "https://login.chinacloudapi.cn");
        assert_eq!(authority_host(AzureCloud::UsGovernment).unwrap(), "https://login.microsoftonline.us");
        assert_eq!(authority_host(AzureCloud::Custom).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn names_round_trip() {
        for c in [AzureCloud::Public, AzureCloud::China, AzureCloud::UsGovernment, AzureCloud::Custom] {
            assert_eq!(AzureCloud::from_name(c.name()), Some(c));
        }
        assert_eq!(AzureCloud::from_name("azurepublic"), None);
    }

    #[test]
    fn arm_endpoints() {
        assert_eq!(arm_endpoint(AzureCloud::Public, None).unwrap(), "https://management.azure.com");
        assert_eq!(arm_endpoint(AzureCloud::China, None).unwrap(), "https://management.chinacloudapi.cn");
        assert_eq!(arm_endpoint(AzureCloud::UsGovernment, None).unwrap(), "https://management.usgovcloudapi.net");
        let e = env(Some("https://management.azure.example/"), Some("https://management.azure.example"));
        assert_eq!(arm_endpoint(AzureCloud::Custom, Some(&e)).unwrap(), "https://management.azure.example");
        assert_eq!(arm_endpoint(AzureCloud::Custom, None).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn custom_cloud_scope() {
        let e = env(Some("https://management.azure.example/"), Some("https://management.azure.example"));
        // The endpoint as written: its trailing slash stays (fluxcd/pkg).
        assert_eq!(arm_scope(AzureCloud::Custom, Some(&e)).unwrap(), "https://management.azure.example//.default");
        let e = env(
            Some("https://management.local.azurestack.external"),
            Some("https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155"),
        );
        assert_eq!(
            arm_scope(AzureCloud::Custom, Some(&e)).unwrap(),
            "https://management.local.azurestack.external/.default"
        );
        assert!(check_environment(&e).is_ok());
    }

    #[test]
    fn bad_custom_environments() {
        assert_eq!(arm_scope(AzureCloud::Custom, None).unwrap_err().kind(), "invalid-input");
        let ok = "https://management.azure.example";
        for (rm, audience) in [
            (None, Some(ok)),
            (Some(ok), None),
            (None, None),
            (Some("http://management.azure.example"), Some(ok)),
            (Some(ok), Some("http://management.azure.example")),
            (Some("management.azure.example"), Some(ok)),
            (Some("https://"), Some(ok)),
            (Some("https://u@management.azure.example"), Some(ok)),
            (Some("https://management.azure.example/?x=1"), Some(ok)),
            (Some("https://management.azure.example/#f"), Some(ok)),
            (Some("https://management azure.example"), Some(ok)),
            (Some("https://management.azure.example/a b"), Some(ok)),
            (Some("https://management.azure.example\r\nX: y"), Some(ok)),
            (Some(ok), Some("https://evil.example/\n")),
            (Some(ok), Some("")),
        ] {
            let e = env(rm, audience);
            assert_eq!(arm_scope(AzureCloud::Custom, Some(&e)).unwrap_err().kind(), "invalid-input", "{e:?}");
            assert_eq!(check_environment(&e).unwrap_err().kind(), "invalid-input", "{e:?}");
        }
        let long = format!("https://a.example/{}", "p".repeat(MAX_ENDPOINT_URL));
        assert!(check_environment(&env(Some(&long), Some(ok))).is_err());
    }
}
