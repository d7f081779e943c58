//! What a host asks a session for, and the first check of it.
//!
//! These types mirror the WIT `session` records one to one. Validation here
//! is only about shape (names, single-line values, hosts); which provider,
//! cloud and identity a request means is decided by [`super::identity`] and
//! [`super::flow`].

use std::fmt;

use crate::azure::cloud::AzureEnvironment;
use crate::error::{Error, Result, excerpt, quoted};
use crate::host::Authority;
use crate::http::check_single_line;
use crate::kubernetes::{check_dns1123_label, check_dns1123_subdomain};
use crate::registry::Provider;
use crate::secret::Secret;

/// A Kubernetes service account, for object-level workload identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    /// The account's annotations, as read from the API server.
    pub annotations: Vec<(String, String)>,
}

impl ServiceAccount {
    /// The value of an annotation. Kubernetes annotations are a map, so a key
    /// given twice is rejected by [`SessionRequest::validate`].
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn validate(&self) -> Result<()> {
        check_dns1123_label("service account namespace", &self.namespace)?;
        check_dns1123_subdomain("service account name", &self.name)?;
        for (i, (key, value)) in self.annotations.iter().enumerate() {
            check_single_line("service account annotation name", key)?;
            check_single_line(&format!("service account annotation {}", excerpt(key)), value)?;
            if self.annotations.iter().skip(i + 1).any(|(k, _)| k == key) {
                return Err(Error::invalid(format!("service account annotation {} is given twice", excerpt(key))));
            }
        }
        Ok(())
    }
}

/// Whose identity the credentials are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The host's own identity (Flux's controller-level identity).
    Controller,
    /// A service account's identity (object-level workload identity).
    ServiceAccount(ServiceAccount),
}

/// A Kubernetes cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub provider: Provider,
    /// AKS resource ID, EKS cluster ARN or GKE resource name.
    pub resource_id: String,
    /// The API server address, when known.
    pub address: Option<String>,
    /// The API server's CA bundle (PEM), when known.
    pub ca_data: Option<String>,
}

/// What the credentials are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A container registry: image reference, registry host or `oci://` URL.
    Registry(String),
    /// A Git repository `https://` URL.
    Git(String),
    /// A Kubernetes cluster.
    Cluster(Cluster),
    /// A plain provider token for these scopes (empty: the provider's default).
    AccessToken { provider: Provider, scopes: Vec<String> },
    /// A Git repository on GitHub or GitHub Enterprise, with a GitHub App's
    /// installation token.
    GitHubApp(GitHubAppTarget),
}

/// A GitHub repository and the GitHub App whose installation token is the
/// Git password; the fields are Flux's secret keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitHubAppTarget {
    /// The repository's `https://` URL.
    pub url: String,
    /// `githubAppID`.
    pub app_id: String,
    /// `githubAppInstallationID`.
    pub installation_id: Option<String>,
    /// `githubAppInstallationOwner`.
    pub installation_owner: Option<String>,
    /// `githubAppPrivateKey` (PEM).
    pub private_key: Secret,
    /// `githubAppBaseURL`.
    pub base_url: Option<String>,
}

/// Settings that change how a flow runs. Its `Debug` shows the names of
/// the environment variables, not their values: secrets are among them
/// (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The environment variables the host exposes to the flow.
    pub environment: Vec<(String, String)>,
    /// A custom Azure cloud (`AZURE_ENVIRONMENT_FILEPATH`).
    pub azure_environment: Option<AzureEnvironment>,
    /// An explicit AWS STS endpoint.
    pub sts_endpoint: Option<String>,
    /// Flux's `ObjectLevelWorkloadIdentity` feature gate.
    pub object_level_workload_identity: bool,
    /// Generic registries: basic credentials for the token server.
    pub registry_username: Option<String>,
    pub registry_password: Option<Secret>,
    /// Generic registries: hosts besides the registry that may receive the
    /// basic credentials as a token realm.
    pub trusted_realm_hosts: Vec<String>,
    /// Neither use nor fill the credential cache.
    pub skip_cache: bool,
    /// A rules document (`docs/policy.md`): `start` refuses a request it
    /// denies, and every later request and the result are checked against it.
    pub rules: Option<String>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.environment.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Options")
            .field("environment (values hidden)", &names)
            .field("azure_environment", &self.azure_environment)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("object_level_workload_identity", &self.object_level_workload_identity)
            .field("registry_username", &self.registry_username)
            .field("registry_password", &self.registry_password)
            .field("trusted_realm_hosts", &self.trusted_realm_hosts)
            .field("skip_cache", &self.skip_cache)
            .field("rules (bytes)", &self.rules.as_ref().map(String::len))
            .finish()
    }
}

/// A request for credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRequest {
    pub target: Target,
    pub identity: Identity,
    pub options: Options,
    /// Unix seconds.
    pub now: i64,
}

/// Longest environment variable value read (token file paths, ARNs, ids).
const MAX_ENV_VALUE: usize = 4096;

/// Every environment variable a flow reads, sorted: the cloud SDKs' own, the
/// Actions-style CI token endpoint, and `HOME` (where the AWS shared files
/// are). Exported (`session.environment-names`) so that a host hands over
/// these and nothing else of its process environment, which may hold
/// unrelated secrets; [`Options::env`] refuses, in debug builds, to read a
/// name missing here, so the list cannot fall behind the flows.
pub const ENVIRONMENT_NAMES: &[&str] = &[
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TENANT_ID",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "HOME",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
];

impl SessionRequest {
    /// Checks the shape of everything that is not provider-specific.
    pub fn validate(&self) -> Result<()> {
        if self.now < 0 {
            return Err(Error::invalid("now is negative"));
        }
        if let Identity::ServiceAccount(sa) = &self.identity {
            sa.validate()?;
        }
        if let Target::AccessToken { scopes, .. } = &self.target {
            for scope in scopes {
                crate::http::check_non_empty("scope", scope)?;
            }
        }
        self.options.validate()
    }
}

impl Options {
    fn validate(&self) -> Result<()> {
        for (i, (name, _)) in self.environment.iter().enumerate() {
            let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !plain {
                return Err(Error::invalid(format!("environment variable name {} is not [A-Za-z0-9_]+", quoted(name))));
            }
            if self.environment.iter().skip(i + 1).any(|(n, _)| n == name) {
                return Err(Error::invalid(format!("environment variable {} is given twice", excerpt(name))));
            }
        }
        if let Some(user) = &self.registry_username {
            crate::http::check_non_empty("registry username", user)?;
            if user.contains(':') {
                return Err(Error::invalid("registry username contains ':'"));
            }
        }
        if let Some(password) = &self.registry_password {
            crate::http::check_non_empty("registry password", password.expose())?;
        }
        if self.registry_password.is_some() != self.registry_username.is_some() {
            return Err(Error::invalid("registry username and password must be given together"));
        }
        self.trusted_realm_hosts()?;
        Ok(())
    }

    /// The trusted realm hosts, parsed.
    pub fn trusted_realm_hosts(&self) -> Result<Vec<Authority>> {
        self.trusted_realm_hosts.iter().map(|h| Authority::parse(h)).collect()
    }

    /// An environment variable, as Go's `os.Getenv` reads it: unset and
    /// empty are the same. Values are checked when read, so a variable the
    /// flow never looks at cannot fail it; the error names the variable,
    /// never its value (it may be a secret key).
    pub fn env(&self, name: &str) -> Result<Option<&str>> {
        debug_assert!(ENVIRONMENT_NAMES.contains(&name), "{name} is read but not in ENVIRONMENT_NAMES");
        let Some((_, value)) = self.environment.iter().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > MAX_ENV_VALUE || crate::http::has_control(value) {
            return Err(Error::invalid(format!(
                "environment variable {name} is longer than {MAX_ENV_VALUE} bytes or contains control characters"
            )));
        }
        Ok(Some(value))
    }

    /// A boolean environment variable (`true`/`false`, any case; unset is false).
    pub fn env_flag(&self, name: &str) -> Result<bool> {
        match self.env(name)? {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(Error::invalid(format!("environment variable {name} must be true or false"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_environment_names_not_values() {
        let options = Options {
            environment: vec![("AWS_SECRET_ACCESS_KEY".into(), "topsecret-key".into())],
            registry_username: Some("robot".into()),
            registry_password: Some(Secret::new("topsecret-password")),
            ..Options::default()
        };
        for dbg in [format!("{options:?}"), format!("{options:#?}")] {
            assert!(dbg.contains("AWS_SECRET_ACCESS_KEY") && dbg.contains("robot"), "{dbg}");
            assert!(!dbg.contains("topsecret"), "{dbg}");
        }
    }

    fn request() -> SessionRequest {
        SessionRequest {
            target: Target::Registry("myregistry.azurecr.io".into()),
            identity: Identity::Controller,
            options: Options::default(),
            now: 1_705_320_000,
        }
    }

    fn sa(namespace: &str, name: &str, annotations: &[(&str, &str)]) -> Identity {
        Identity::ServiceAccount(ServiceAccount {
            namespace: namespace.into(),
            name: name.into(),
            annotations: annotations.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        })
    }

    #[test]
    fn accepts_plain_requests() {
        let mut r = request();
        r.identity = sa("flux-system", "source.controller", &[("a/b", "c")]);
        r.options.environment = vec![("AWS_REGION".into(), "us-east-1".into())];
        r.options.registry_username = Some("u".into());
        r.options.registry_password = Some("p".into());
        r.options.trusted_realm_hosts = vec!["auth.example.com".into()];
        r.validate().unwrap();
        assert_eq!(r.options.env("AWS_REGION").unwrap(), Some("us-east-1"));
        assert_eq!(r.options.env("AWS_PROFILE").unwrap(), None);
    }

    #[test]
    fn rejects_bad_requests() {
        type Mutation = Box<dyn Fn(&mut SessionRequest)>;
        let bad: Vec<Mutation> = vec![
            Box::new(|r| r.now = -1),
            Box::new(|r| r.identity = sa("../kube-system", "sa", &[])),
            Box::new(|r| r.identity = sa("ns", "SA", &[])),
            Box::new(|r| r.identity = sa("ns", "sa", &[("k", "v\r\nX: y")])),
            Box::new(|r| r.identity = sa("ns", "sa", &[("k", "1"), ("k", "2")])),
            Box::new(|r| r.options.environment = vec![("A B".into(), "x".into())]),
            Box::new(|r| r.options.environment = vec![("A".into(), "1".into()), ("A".into(), "2".into())]),
            Box::new(|r| r.options.registry_username = Some("u".into())),
            Box::new(|r| {
                r.options.registry_username = Some("u:x".into());
                r.options.registry_password = Some("p".into());
            }),
            Box::new(|r| r.options.trusted_realm_hosts = vec!["https://auth.example.com".into()]),
            Box::new(|r| r.target = Target::AccessToken { provider: Provider::Azure, scopes: vec!["".into()] }),
        ];
        for (i, mutate) in bad.iter().enumerate() {
            let mut r = request();
            mutate(&mut r);
            assert_eq!(r.validate().unwrap_err().kind(), "invalid-input", "case {i}");
        }
    }

    #[test]
    fn env_values_are_checked_when_read_without_echoing_them() {
        let mut o = Options {
            environment: vec![
                ("AWS_SECRET_ACCESS_KEY".into(), "hunter2\n".into()),
                ("AWS_USE_FIPS_ENDPOINT".into(), "TRUE".into()),
            ],
            ..Options::default()
        };
        let err = o.env("AWS_SECRET_ACCESS_KEY").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(o.env_flag("AWS_USE_FIPS_ENDPOINT").unwrap());
        assert!(!o.env_flag("AWS_USE_DUALSTACK_ENDPOINT").unwrap());
        o.environment = vec![("AWS_USE_FIPS_ENDPOINT".into(), "yes".into())];
        assert!(o.env_flag("AWS_USE_FIPS_ENDPOINT").is_err());
    }

    #[test]
    fn environment_names_are_sorted_and_unique() {
        assert!(ENVIRONMENT_NAMES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not in ENVIRONMENT_NAMES")]
    fn reading_an_unlisted_variable_is_caught_in_tests() {
        let _ = Options::default().env("PATH");
    }
}
