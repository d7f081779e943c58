//! Real I/O for driving cloudauth sessions.
//!
//! The component is sans-IO: a `session` says "send this request" or "fetch
//! an identity token", and the host does it. This module is that host side
//! for the command-line helpers (`credential-helper`,
//! `kubelet-credential-provider`): it loads the component in wasmtime, sends
//! HTTP with a small blocking rustls client, reads identity tokens from files,
//! and builds the session's options from the process environment.
//!
//! Nothing here decides where a token may go: the component only asks for
//! requests to hosts the validated target or the provider's endpoints allow,
//! and this transport sends exactly those requests, following no redirects.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use wasmtime::component::ResourceAny;

use crate::component::{self, Instance, api};

pub use api::resolve::RegistryTarget;
pub use api::session::{
    Credentials, Identity, IdentityTokenRequest, Options, ServiceAccount, SessionRequest, Step, Target,
};
pub use api::types::{
    AzureEnvironment, Error as ComponentError, HttpRequest, HttpResponse, Provider, RegistryCredentials,
};

/// The largest response body handed to the component; it refuses bodies over
/// 1 MiB itself, so one byte more is enough to let it say so.
const MAX_BODY: u64 = (1 << 20) + 1;

/// How long one HTTP exchange may take, connection included.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The most steps a flow may take; real flows take fewer than ten.
const MAX_STEPS: usize = 32;

/// Environment variables handed to the component as the flow's environment:
/// the ones the cloud SDKs read. Others (which may hold unrelated secrets)
/// are not passed.
const ENVIRONMENT_PREFIXES: &[&str] = &["AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "GCE_"];

/// Loads the component from `$CLOUDAUTH_WASM`, else the workspace's
/// `target/cloudauth.wasm`.
pub fn load_component() -> anyhow::Result<Instance> {
    let path = std::env::var_os("CLOUDAUTH_WASM").map(PathBuf::from).unwrap_or_else(component::default_path);
    component::load(&path)
}

/// Registry credentials for an image reference or registry host, and the
/// registry host (lower case, with its port) they are for.
///
/// A generic registry (not a cloud's) for which the host configured no
/// registry credentials is answered `unsupported` without running a flow:
/// the client can talk to it anonymously by itself, and a credential helper
/// should not make up credentials for it.
pub fn registry_credentials(
    instance: &mut Instance,
    transport: &Transport,
    tokens: &IdentityTokens,
    reference: &str,
    identity: Identity,
    options: Options,
) -> Result<(String, RegistryCredentials), FlowError> {
    let target = instance
        .api
        .cloudauth_auth_resolve()
        .call_resolve_registry(&mut instance.store, reference, options.azure_environment.as_ref())
        .map_err(trapped)?
        .map_err(FlowError::Component)?;
    if !has_credentials_for(&target, &options) {
        return Err(FlowError::Component(ComponentError::Unsupported(format!(
            "{} is not a cloud registry and no registry credentials are configured for it",
            target.registry
        ))));
    }
    let request = SessionRequest { target: Target::Registry(reference.to_owned()), identity, options, now: now() };
    match run_session(instance, transport, tokens, &request)? {
        Credentials::Registry(credentials) => Ok((target.registry, credentials)),
        _ => Err(FlowError::Host(anyhow!("the flow gave credentials that are not for a registry"))),
    }
}

/// Whether a flow can give credentials for this registry: a cloud registry
/// always can, a generic one only with configured registry credentials.
fn has_credentials_for(target: &RegistryTarget, options: &Options) -> bool {
    target.provider != Provider::Generic || options.registry_username.is_some()
}

/// Why a flow did not produce credentials.
#[derive(Debug)]
pub enum FlowError {
    /// The component refused the request or the flow failed (a service said
    /// no, or answered nonsense).
    Component(ComponentError),
    /// The host could not do what the flow asked (network, files, wasm).
    Host(anyhow::Error),
}

impl FlowError {
    /// True when the component says this target is not one it serves.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, FlowError::Component(ComponentError::Unsupported(_)))
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Component(e) => write!(f, "{}", component::describe(e)),
            FlowError::Host(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<anyhow::Error> for FlowError {
    fn from(e: anyhow::Error) -> Self {
        FlowError::Host(e)
    }
}

/// A wasmtime error (a trap, which the component promises never to raise)
/// as a host error.
fn trapped(error: wasmtime::Error) -> FlowError {
    FlowError::Host(anyhow!("the component trapped: {error:#}"))
}

/// Current Unix time in seconds.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// Where identity tokens come from.
#[derive(Clone, Debug, Default)]
pub struct IdentityTokens {
    /// Read this file for every token request (`--token-file`), instead of
    /// the file the flow names.
    pub token_file: Option<PathBuf>,
    /// A service-account token handed over by the caller (the kubelet sends
    /// the pod's token), used when the flow asks for a service account's token.
    pub service_account_token: Option<String>,
}

impl IdentityTokens {
    fn fetch(&self, request: &IdentityTokenRequest) -> anyhow::Result<String> {
        if request.service_account.is_some() {
            return self
                .service_account_token
                .clone()
                .ok_or_else(|| anyhow!("the flow needs a service account's token, and none was given"));
        }
        let file = match (&self.token_file, &request.file) {
            (Some(file), _) => file.clone(),
            (None, Some(file)) => PathBuf::from(file),
            (None, None) => bail!(
                "the flow needs an identity token with audience {} and names no token file; pass --token-file",
                request.audience
            ),
        };
        let token = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read the identity token file {}", file.display()))?;
        let token = token.trim();
        if token.is_empty() {
            bail!("the identity token file {} is empty", file.display());
        }
        Ok(token.to_owned())
    }
}

/// HTTP over a blocking rustls client.
pub struct Transport {
    agent: ureq::Agent,
    log: bool,
}

impl Transport {
    /// Trust store from the environment: `SSL_CERT_FILE` (a PEM bundle used
    /// instead of Mozilla's roots, as OpenSSL and Go read it) and
    /// `CLOUDAUTH_CA_FILE` (PEM certificates trusted in addition). Logs each
    /// exchange (method, host, path, status; never query or headers) to
    /// stderr when `CLOUDAUTH_LOG` is set.
    pub fn from_env() -> anyhow::Result<Transport> {
        let base = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        let extra = std::env::var_os("CLOUDAUTH_CA_FILE").map(PathBuf::from);
        let log = std::env::var_os("CLOUDAUTH_LOG").is_some_and(|v| !v.is_empty());
        Transport::new(base.as_deref(), extra.as_deref(), log)
    }

    pub fn new(base_ca_file: Option<&Path>, extra_ca_file: Option<&Path>, log: bool) -> anyhow::Result<Transport> {
        let mut roots = match base_ca_file {
            Some(file) => read_pem_certificates(file)?,
            None => webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
                .collect(),
        };
        if let Some(file) = extra_ca_file {
            roots.extend(read_pem_certificates(file)?);
        }
        let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots))).build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            // The component judges every status, and must see redirects
            // rather than have credentials follow them somewhere else.
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(HTTP_TIMEOUT))
            .build();
        Ok(Transport { agent: config.new_agent(), log })
    }

    /// Sends a request exactly as the component built it.
    pub fn send(&self, request: &HttpRequest) -> anyhow::Result<HttpResponse> {
        let where_to = redacted_url(&request.url);
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let sent = if request.body.is_empty() {
            self.agent.run(builder.body(()).context("invalid request from the component")?)
        } else {
            self.agent.run(builder.body(request.body.clone()).context("invalid request from the component")?)
        };
        let mut response = sent.with_context(|| format!("{} {where_to} failed", request.method))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .with_context(|| format!("reading the answer of {} {where_to} failed", request.method))?;
        if self.log {
            eprintln!("cloudauth: {} {where_to} -> {status}", request.method);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

fn read_pem_certificates(file: &Path) -> anyhow::Result<Vec<ureq::tls::Certificate<'static>>> {
    let pem = std::fs::read(file).with_context(|| format!("cannot read CA file {}", file.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(cert) = item.with_context(|| format!("bad PEM in {}", file.display()))? {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        bail!("no certificate in CA file {}", file.display());
    }
    Ok(certs)
}

/// Scheme, host and path only: a query may carry a presigned signature.
fn redacted_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Session options from the process environment:
/// the cloud SDKs' variables (`AWS_*`, `AZURE_*`, `GOOGLE_*`, ...), the
/// custom Azure cloud file `AZURE_ENVIRONMENT_FILEPATH`, and cloudauth's
/// own `CLOUDAUTH_REGISTRY_USERNAME` / `CLOUDAUTH_REGISTRY_PASSWORD` (basic
/// credentials for generic registries), `CLOUDAUTH_TRUSTED_REALM_HOSTS`
/// (comma-separated) and `CLOUDAUTH_STS_ENDPOINT`.
pub fn options_from_env(vars: &BTreeMap<String, String>) -> anyhow::Result<Options> {
    let environment = vars
        .iter()
        .filter(|(k, _)| ENVIRONMENT_PREFIXES.iter().any(|p| k.starts_with(p)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
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
        // A helper process lives for one request: a cache would never be read.
        skip_cache: true,
        rules: None,
    })
}

/// The process environment as a sorted map (non-UTF-8 variables skipped).
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// The Azure environment file as fluxcd/pkg reads it.
fn read_azure_environment(file: &Path) -> anyhow::Result<AzureEnvironment> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        resource_manager_endpoint: Option<String>,
        token_audience: Option<String>,
        #[serde(rename = "containerRegistryDNSSuffix")]
        container_registry_dns_suffix: Option<String>,
    }
    let text =
        std::fs::read(file).with_context(|| format!("cannot read AZURE_ENVIRONMENT_FILEPATH {}", file.display()))?;
    let parsed: File = serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "AZURE_ENVIRONMENT_FILEPATH {} is not the expected JSON: line {} column {}",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    Ok(AzureEnvironment {
        resource_manager_endpoint: parsed.resource_manager_endpoint,
        token_audience: parsed.token_audience,
        container_registry_dns_suffix: parsed.container_registry_dns_suffix,
    })
}

/// Runs one session to its end with real I/O.
pub fn run_session(
    instance: &mut Instance,
    transport: &Transport,
    tokens: &IdentityTokens,
    request: &SessionRequest,
) -> Result<Credentials, FlowError> {
    let api = instance.api.cloudauth_auth_session();
    let session =
        api.session().call_start(&mut instance.store, request).map_err(trapped)?.map_err(FlowError::Component)?;
    let result = drive(instance, session, transport, tokens);
    // Free the session in the component whatever happened.
    let dropped = session.resource_drop(&mut instance.store);
    let credentials = result?;
    dropped.map_err(trapped)?;
    Ok(credentials)
}

fn drive(
    instance: &mut Instance,
    session: ResourceAny,
    transport: &Transport,
    tokens: &IdentityTokens,
) -> Result<Credentials, FlowError> {
    let api = instance.api.cloudauth_auth_session();
    let guest = api.session();
    for _ in 0..MAX_STEPS {
        let step = guest.call_next(&mut instance.store, session).map_err(trapped)?;
        match step {
            Step::Done(credentials) => return Ok(credentials),
            Step::Failed(error) => return Err(FlowError::Component(error)),
            Step::SendHttp(request) => {
                let response = transport.send(&request)?;
                guest
                    .call_receive_http(&mut instance.store, session, &response, now())
                    .map_err(trapped)?
                    .map_err(FlowError::Component)?;
            }
            Step::FetchIdentityToken(request) => {
                let token = tokens.fetch(&request)?;
                guest
                    .call_receive_identity_token(&mut instance.store, session, &token, now())
                    .map_err(trapped)?
                    .map_err(FlowError::Component)?;
            }
        }
    }
    Err(FlowError::Host(anyhow!("the flow did not finish within {MAX_STEPS} steps")))
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
        ]))
        .unwrap();
        assert_eq!(
            options.environment,
            vec![("AWS_REGION".to_owned(), "eu-west-1".to_owned()), ("AZURE_CLIENT_ID".to_owned(), "c".to_owned())]
        );
        assert!(options.skip_cache);
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
    }

    #[test]
    fn azure_environment_file_is_read_and_bad_json_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("cloudauth-transport-test-{}", std::process::id()));
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
        let message = format!("{err:#}");
        assert!(message.contains("not the expected JSON"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn identity_tokens_prefer_the_token_file_option_then_the_flow_file() {
        let dir = std::env::temp_dir().join(format!("cloudauth-tokens-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let flow_file = dir.join("flow");
        let option_file = dir.join("option");
        std::fs::write(&flow_file, "flow-token\n").unwrap();
        std::fs::write(&option_file, "option-token").unwrap();
        let request = IdentityTokenRequest {
            audience: "api://AzureADTokenExchange".into(),
            service_account: None,
            file: Some(flow_file.to_str().unwrap().into()),
        };
        assert_eq!(IdentityTokens::default().fetch(&request).unwrap(), "flow-token");
        let with_option = IdentityTokens { token_file: Some(option_file), service_account_token: None };
        assert_eq!(with_option.fetch(&request).unwrap(), "option-token");
        let no_file = IdentityTokenRequest { file: None, ..request.clone() };
        assert!(format!("{:#}", IdentityTokens::default().fetch(&no_file).unwrap_err()).contains("--token-file"));
        std::fs::write(&flow_file, " \n").unwrap();
        assert!(format!("{:#}", IdentityTokens::default().fetch(&request).unwrap_err()).contains("is empty"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn service_account_tokens_come_only_from_the_caller() {
        let request = IdentityTokenRequest {
            audience: "sts.amazonaws.com".into(),
            service_account: Some(("default".into(), "app".into())),
            file: None,
        };
        assert!(IdentityTokens::default().fetch(&request).is_err());
        let given = IdentityTokens { token_file: None, service_account_token: Some("pod-token".into()) };
        assert_eq!(given.fetch(&request).unwrap(), "pod-token");
    }

    #[test]
    fn generic_registries_need_configured_credentials() {
        let target = |provider| RegistryTarget { provider, registry: "r.example".into(), azure_cloud: None, aws: None };
        let none = options_from_env(&BTreeMap::new()).unwrap();
        let basic =
            options_from_env(&vars(&[("CLOUDAUTH_REGISTRY_USERNAME", "u"), ("CLOUDAUTH_REGISTRY_PASSWORD", "p")]))
                .unwrap();
        assert!(!has_credentials_for(&target(Provider::Generic), &none));
        assert!(has_credentials_for(&target(Provider::Generic), &basic));
        for cloud in [Provider::Azure, Provider::Aws, Provider::Gcp] {
            assert!(has_credentials_for(&target(cloud), &none));
        }
    }

    #[test]
    fn logged_urls_lose_their_query() {
        assert_eq!(redacted_url("https://sts.amazonaws.com/?X-Amz-Signature=abc"), "https://sts.amazonaws.com/");
        assert_eq!(redacted_url("https://r.example/v2/#frag"), "https://r.example/v2/");
    }

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("cloudauth-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        assert!(Transport::new(None, Some(&empty), false).is_err());
        assert!(Transport::new(Some(&dir.join("missing.pem")), None, false).is_err());
        assert!(Transport::new(None, None, false).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn component_errors_read_as_one_line() {
        let e = ComponentError::HttpStatus(api::types::ServiceError {
            status: 401,
            code: Some("UNAUTHORIZED".into()),
            message: "authentication required".into(),
        });
        assert_eq!(
            FlowError::Component(e.clone()).to_string(),
            "http-status 401 (UNAUTHORIZED): authentication required"
        );
        assert!(FlowError::Component(ComponentError::Unsupported("x".into())).is_unsupported());
        assert!(!FlowError::Component(e).is_unsupported());
    }
}
