//! Session options from environment variables, for hosts configured the
//! way the cloud SDKs are (a credential helper, a kubelet plugin, a proxy
//! started with `env`).
//!
//! Only the variables the flows read reach them: those of the SDKs'
//! prefixes (`AWS_*`, `AZURE_*`, `GOOGLE_*`, `CLOUDSDK_*`, `GCE_*`) and the
//! unprefixed ones the component lists (`session.environment-names`:
//! `HOME` for the AWS shared files, App Service managed identity's, the CI
//! token endpoint's). Others may hold unrelated secrets.
//! cloudauth's own: `CLOUDAUTH_REGISTRY_USERNAME` /
//! `CLOUDAUTH_REGISTRY_PASSWORD` (basic credentials for generic
//! registries), `CLOUDAUTH_TRUSTED_REALM_HOSTS` (comma-separated),
//! `CLOUDAUTH_STS_ENDPOINT`; and `AZURE_ENVIRONMENT_FILEPATH` (a custom
//! Azure cloud, read as fluxcd/pkg reads it).

use std::collections::BTreeMap;
use std::path::Path;

use crate::bindings::api::session::Options;
use crate::bindings::api::types::AzureEnvironment;
use crate::error::{Error, ErrorKind};

/// Environment variables handed to the component as the flow's environment.
const ENVIRONMENT_PREFIXES: &[&str] = &["AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "GCE_"];
/// The unprefixed variables of the component's `session.environment-names`:
/// `HOME` (the AWS shared files), App Service / Functions / Arc managed
/// identity, and Actions-style CI OIDC tokens. A test holds this to the
/// built component's list (`cloudauth-runtime/tests/flows.rs`).
const ENVIRONMENT_NAMES: &[&str] = &[
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "HOME",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
];

/// True for a variable handed to the flow.
pub fn passed_to_flow(name: &str) -> bool {
    ENVIRONMENT_PREFIXES.iter().any(|p| name.starts_with(p)) || ENVIRONMENT_NAMES.contains(&name)
}

/// The process environment as a sorted map (non-UTF-8 variables skipped).
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// Session options from `vars`.
pub fn options_from_env(vars: &BTreeMap<String, String>) -> Result<Options, Error> {
    let environment = vars.iter().filter(|(k, _)| passed_to_flow(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let get = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();
    let azure_environment = match get("AZURE_ENVIRONMENT_FILEPATH") {
        Some(file) => Some(read_azure_environment(Path::new(&file))?),
        None => None,
    };
    let trusted_realm_hosts = get("CLOUDAUTH_TRUSTED_REALM_HOSTS")
        .map(|hosts| hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(Options {
        environment,
        azure_environment,
        sts_endpoint: get("CLOUDAUTH_STS_ENDPOINT"),
        object_level_workload_identity: false,
        registry_username: get("CLOUDAUTH_REGISTRY_USERNAME"),
        registry_password: get("CLOUDAUTH_REGISTRY_PASSWORD"),
        trusted_realm_hosts,
        skip_cache: false,
        // A rules document (docs/policy.md) the sessions enforce.
        rules: get("CLOUDAUTH_RULES"),
    })
}

/// The Azure environment file as fluxcd/pkg reads it.
pub fn read_azure_environment(file: &Path) -> Result<AzureEnvironment, Error> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        resource_manager_endpoint: Option<String>,
        token_audience: Option<String>,
        #[serde(rename = "containerRegistryDNSSuffix")]
        container_registry_dns_suffix: Option<String>,
    }
    let setup = |m: String| Error::new(ErrorKind::Setup, m);
    let text = std::fs::read(file)
        .map_err(|e| setup(format!("cannot read AZURE_ENVIRONMENT_FILEPATH {}: {e}", file.display())))?;
    // The error gives a position only: the file may hold secrets.
    let parsed: File = serde_json::from_slice(&text).map_err(|e| {
        setup(format!(
            "AZURE_ENVIRONMENT_FILEPATH {} is not the expected JSON: line {} column {}",
            file.display(),
            e.line(),
            e.column()
        ))
    })?;
    Ok(AzureEnvironment {
        resource_manager_endpoint: parsed.resource_manager_endpoint,
        token_audience: parsed.token_audience,
        container_registry_dns_suffix: parsed.container_registry_dns_suffix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn options_pass_only_the_cloud_sdk_variables() {
        let options = options_from_env(&vars(&[
            ("AWS_REGION", "eu-west-1"),
            ("AZURE_CLIENT_ID", "c"),
            ("GITHUB_TOKEN", "unrelated-secret"),
            ("HOME", "/root"),
            ("PATH", "/usr/bin"),
        ]))
        .unwrap();
        assert_eq!(
            options.environment,
            vec![
                ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
                ("AZURE_CLIENT_ID".to_owned(), "c".to_owned()),
                ("HOME".to_owned(), "/root".to_owned())
            ]
        );
        assert_eq!(options.registry_username, None);
    }

    #[test]
    fn options_read_registry_credentials_and_realm_hosts() {
        let options = options_from_env(&vars(&[
            ("CLOUDAUTH_REGISTRY_USERNAME", "alice"),
            ("CLOUDAUTH_REGISTRY_PASSWORD", "wonderland"),
            ("CLOUDAUTH_TRUSTED_REALM_HOSTS", " auth.example.test, ,login.example.test"),
            ("CLOUDAUTH_STS_ENDPOINT", ""),
        ]))
        .unwrap();
        assert_eq!(options.registry_username.as_deref(), Some("alice"));
        assert_eq!(options.registry_password.as_deref(), Some("wonderland"));
        assert_eq!(options.trusted_realm_hosts, vec!["auth.example.test", "login.example.test"]);
        assert_eq!(options.sts_endpoint, None);
        assert_eq!(options.rules, None);
        let ruled = options_from_env(&vars(&[("CLOUDAUTH_RULES", r#"{"version":1}"#)])).unwrap();
        assert_eq!(ruled.rules.as_deref(), Some(r#"{"version":1}"#));
    }

    #[test]
    fn azure_environment_file_is_read_and_bad_json_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("cloudauth-runtime-env-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(&good, r#"{"resourceManagerEndpoint":"https://management.contoso.example","containerRegistryDNSSuffix":"azurecr.contoso.example"}"#).unwrap();
        let options = options_from_env(&vars(&[("AZURE_ENVIRONMENT_FILEPATH", good.to_str().unwrap())])).unwrap();
        let env = options.azure_environment.unwrap();
        assert_eq!(env.resource_manager_endpoint.as_deref(), Some("https://management.contoso.example"));
        assert_eq!(env.container_registry_dns_suffix.as_deref(), Some("azurecr.contoso.example"));
        assert_eq!(env.token_audience, None);
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{\"resourceManagerEndpoint\": 42, \"secret\": \"hunter2\"}").unwrap();
        let err = options_from_env(&vars(&[("AZURE_ENVIRONMENT_FILEPATH", bad.to_str().unwrap())])).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("not the expected JSON"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
