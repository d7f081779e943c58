//! Azure Container Registry hosts: `<name>.azurecr.io` and the sovereign
//! clouds' suffixes, plus the suffix a custom cloud's environment file names.
//!
//! fluxcd/pkg also accepts `azurecr.de`, a leftover of the Kubernetes
//! credential provider's list. Microsoft Cloud Deutschland closed in 2021 and
//! has no cloud (authority, scopes) to get a token from; giving its hosts a
//! public-cloud token, as fluxcd/pkg's fallback does, would send the token to
//! a cloud it is not for. So `azurecr.de` hosts are generic registries here.

use crate::azure::cloud::{AzureCloud, AzureEnvironment, check_environment};
use crate::error::{Error, Result, quoted};
use crate::host::{Authority, check_dns_name};

/// The registry DNS suffixes of the known clouds (azcontainerregistry and
/// the Azure SDKs' cloud configurations).
const CLOUD_SUFFIXES: &[(&str, AzureCloud)] =
    &[("azurecr.io", AzureCloud::Public), ("azurecr.cn", AzureCloud::China), ("azurecr.us", AzureCloud::UsGovernment)];

/// A custom cloud whose environment file has been checked.
pub(super) struct CustomCloud {
    /// Its registries' DNS suffix, lower case, without a leading dot; None
    /// when the file names none (the cloud has no registry service).
    registry_suffix: Option<String>,
}

impl CustomCloud {
    /// Checks an environment file: `resourceManagerEndpoint` and
    /// `tokenAudience` as fluxcd/pkg requires them (the shared
    /// [`check_environment`]), and `containerRegistryDNSSuffix`, if set, a DNS
    /// name of at least two labels (a bare TLD would claim the registries of
    /// every other owner under it). A leading dot, as some environment files
    /// write it, is allowed; an empty suffix means no registry service.
    pub(super) fn new(environment: &AzureEnvironment) -> Result<Self> {
        check_environment(environment)?;
        let suffix = match environment.container_registry_dns_suffix.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(registry_suffix(raw)?),
        };
        Ok(CustomCloud { registry_suffix: suffix })
    }
}

fn registry_suffix(raw: &str) -> Result<String> {
    let suffix = raw.strip_prefix('.').unwrap_or(raw);
    let bad = |why: &str| Error::invalid(format!("containerRegistryDNSSuffix {} {why}", quoted(raw)));
    check_dns_name(suffix).map_err(bad)?;
    if !suffix.contains('.') {
        return Err(bad("must have at least two labels"));
    }
    Ok(suffix.to_ascii_lowercase())
}

/// The cloud of an ACR host: a host strictly under a cloud's suffix (a
/// registry name, then the suffix). The custom cloud's suffix is tried first:
/// its environment file describes the caller's own cloud.
pub(super) fn cloud_of(host: &Authority, custom: Option<&CustomCloud>) -> Option<AzureCloud> {
    let custom_suffix = custom.and_then(|c| c.registry_suffix.as_deref());
    if custom_suffix.is_some_and(|s| host.is_under(s)) {
        return Some(AzureCloud::Custom);
    }
    CLOUD_SUFFIXES.iter().find(|(suffix, _)| host.is_under(suffix)).map(|&(_, cloud)| cloud)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(suffix: Option<&str>) -> AzureEnvironment {
        AzureEnvironment {
            resource_manager_endpoint: Some("https://management.contoso.example".into()),
            token_audience: Some("https://management.core.contoso.example".into()),
            container_registry_dns_suffix: suffix.map(str::to_owned),
        }
    }

    fn cloud(host: &str, custom: Option<&CustomCloud>) -> Option<AzureCloud> {
        cloud_of(&Authority::parse(host).unwrap(), custom)
    }

    #[test]
    fn known_clouds() {
        assert_eq!(cloud("myreg.azurecr.io", None), Some(AzureCloud::Public));
        assert_eq!(cloud("myreg.azurecr.io:443", None), Some(AzureCloud::Public));
        assert_eq!(cloud("myreg.westeurope.data.azurecr.io", None), Some(AzureCloud::Public));
        assert_eq!(cloud("myreg.azurecr.cn", None), Some(AzureCloud::China));
        assert_eq!(cloud("myreg.azurecr.us", None), Some(AzureCloud::UsGovernment));
        for other in [
            "azurecr.io",
            "azurecr.cn",
            "myreg.azurecr.de",
            "myreg.azurecr.com",
            "myregazurecr.io",
            "myreg.azurecr.io.evil.example",
            "azurecr.io.evil.example",
            "myreg.azurecr.contoso.example",
        ] {
            assert_eq!(cloud(other, None), None, "{other}");
        }
    }

    #[test]
    fn custom_cloud() {
        let custom = CustomCloud::new(&env(Some("azurecr.contoso.example"))).unwrap();
        assert_eq!(cloud("myreg.azurecr.contoso.example", Some(&custom)), Some(AzureCloud::Custom));
        assert_eq!(cloud("MyReg.AzureCR.Contoso.Example", Some(&custom)), Some(AzureCloud::Custom));
        assert_eq!(cloud("azurecr.contoso.example", Some(&custom)), None);
        assert_eq!(cloud("myreg.azurecr.contoso.example.evil", Some(&custom)), None);
        assert_eq!(cloud("myreg.xazurecr.contoso.example", Some(&custom)), None);
        // The public clouds stay what they are.
        assert_eq!(cloud("myreg.azurecr.io", Some(&custom)), Some(AzureCloud::Public));

        let dotted = CustomCloud::new(&env(Some(".AzureCR.Contoso.Example"))).unwrap();
        assert_eq!(cloud("myreg.azurecr.contoso.example", Some(&dotted)), Some(AzureCloud::Custom));

        for none in [None, Some("")] {
            let no_acr = CustomCloud::new(&env(none)).unwrap();
            assert_eq!(cloud("myreg.azurecr.contoso.example", Some(&no_acr)), None);
            assert_eq!(cloud("myreg.azurecr.io", Some(&no_acr)), Some(AzureCloud::Public));
        }
    }

    #[test]
    fn bad_environments() {
        for suffix in [
            "example",
            "azurecr..example",
            "azurecr.example.",
            "azurecr.example/x",
            "azurecr example",
            "*.azurecr.example",
            "..azurecr.example",
        ] {
            assert_eq!(CustomCloud::new(&env(Some(suffix))).err().map(|e| e.kind()), Some("invalid-input"), "{suffix}");
        }
        let mut incomplete = env(Some("azurecr.contoso.example"));
        incomplete.resource_manager_endpoint = None;
        assert!(CustomCloud::new(&incomplete).is_err());
        let mut incomplete = env(Some("azurecr.contoso.example"));
        incomplete.token_audience = None;
        assert!(CustomCloud::new(&incomplete).is_err());
    }
}
