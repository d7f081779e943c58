//! Everything the proxy asks of cloudauth, in one place: credentials from a
//! session (run by the `cloudauth-runtime` library, on its transport and
//! its host-side cache), and the component's pure helpers (challenge
//! parsing, registry token requests and responses, SigV4 signing) on a
//! pooled instance.
//!
//! The services (mirror, ext_authz, SigV4) hold no cloud knowledge: they
//! say which identity wants what, and get credentials or an error that
//! names the step and the host that failed.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::StatusCode;

use cloudauth_runtime::api::oci::Challenge as WitChallenge;
use cloudauth_runtime::api::session::{
    Cluster, Credentials, Identity as WitIdentity, Options, ServiceAccount as WitServiceAccount, Target,
};
use cloudauth_runtime::api::sigv4::SigningParams;
use cloudauth_runtime::api::types::{AwsCredentials, HttpRequest, HttpResponse, Provider};
use cloudauth_runtime::{CredentialRequest, ErrorKind, HttpClient, HttpConfig, Pool, Runtime, TokenFiles};

use crate::config::Identity;
use crate::secret::Secret;
use crate::time::now;

/// A parsed `WWW-Authenticate` challenge.
pub type Challenge = WitChallenge;

/// Registry login credentials for one identity and registry.
pub struct Login {
    pub username: String,
    pub password: Secret,
    /// `None`: the credentials do not expire (a generic registry's own).
    pub expires_at: Option<i64>,
}

/// A bearer token and its expiry.
pub struct Token {
    pub value: Secret,
    pub expires_at: i64,
}

/// What the proxy needs from cloudauth.
pub struct Cloud {
    runtime: Runtime,
    pool: Pool,
    /// The library's transport: sessions use it, and so do the token
    /// requests the component builds for the mirror.
    http: HttpClient,
    /// Test hook (`CLOUDAUTH_PROXY_TRAP_AT`): the N-th pure call runs its
    /// instance out of fuel, a real wasm trap, to show that only that call
    /// fails.
    trap_at: Option<u64>,
    calls: AtomicU64,
    stats: Stats,
}

/// Counters for the benchmark and the shutdown log line.
#[derive(Default)]
struct Stats {
    sessions: AtomicU64,
    failed_sessions: AtomicU64,
    traps: AtomicU64,
    /// When the first session started and the last one ended.
    window: std::sync::Mutex<Option<(std::time::Instant, std::time::Instant)>>,
}

impl Cloud {
    pub fn new(runtime: Runtime, http: HttpClient, trap_at: Option<u64>) -> Arc<Cloud> {
        let pool = runtime.pool().clone();
        Arc::new(Cloud { runtime, pool, http, trap_at, calls: AtomicU64::new(0), stats: Stats::default() })
    }

    /// Registry credentials for `reference` as `identity`.
    pub async fn registry_login(&self, identity: &Identity, reference: &str) -> Result<Login, ProxyError> {
        match self.credentials(identity, Target::Registry(reference.to_owned())).await? {
            Credentials::Registry(c) => {
                Ok(Login { username: c.username, password: Secret::new(c.password), expires_at: c.expires_at })
            }
            _ => Err(ProxyError::internal(format!("the flow for {reference} gave no registry credentials"))),
        }
    }

    /// A provider's access token as `identity`.
    pub async fn access_token(
        &self,
        identity: &Identity,
        provider: Provider,
        scopes: Vec<String>,
    ) -> Result<Token, ProxyError> {
        match self.credentials(identity, Target::AccessToken((provider, scopes))).await? {
            Credentials::AccessToken(t) => Ok(Token { value: Secret::new(t.token), expires_at: t.expires_at }),
            _ => Err(ProxyError::internal("the flow gave no access token".to_owned())),
        }
    }

    /// The bearer token of a cluster's REST config as `identity`.
    pub async fn cluster_token(
        &self,
        identity: &Identity,
        provider: Provider,
        resource_id: &str,
        address: Option<String>,
        ca_data: Option<String>,
    ) -> Result<Token, ProxyError> {
        let cluster = Cluster { provider, resource_id: resource_id.to_owned(), address, ca_data };
        match self.credentials(identity, Target::Cluster(cluster)).await? {
            Credentials::RestConfig(c) => Ok(Token { value: Secret::new(c.bearer_token), expires_at: c.expires_at }),
            _ => Err(ProxyError::internal(format!("the flow for cluster {resource_id} gave no REST config"))),
        }
    }

    /// AWS credentials as `identity`.
    pub async fn aws_credentials(&self, identity: &Identity) -> Result<AwsCredentials, ProxyError> {
        match self.credentials(identity, Target::AccessToken((Provider::Aws, Vec::new()))).await? {
            Credentials::Aws(c) => Ok(c),
            _ => Err(ProxyError::internal("the flow gave no AWS credentials".to_owned())),
        }
    }

    async fn credentials(&self, identity: &Identity, target: Target) -> Result<Credentials, ProxyError> {
        let request = session_request(identity, target);
        let started = std::time::Instant::now();
        let result = async {
            // A service account's token is read for each session: projected
            // tokens rotate on disk.
            let service_account_token = match &identity.service_account {
                None => None,
                Some(sa) => {
                    Some(cloudauth_runtime::read_token_file(&sa.token_file).await.map_err(|message| ProxyError {
                        kind: Kind::Credentials,
                        message: format!("credentials for identity {}: {message}", identity.name),
                    })?)
                }
            };
            let tokens = TokenFiles { token_file: None, service_account_token };
            self.runtime
                .credentials(&request, &tokens)
                .await
                .map(|obtained| obtained.credentials.into_inner())
                .map_err(|e| ProxyError::credentials(&identity.name, e))
        }
        .await;
        self.stats.sessions.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &result {
            self.stats.failed_sessions.fetch_add(1, Ordering::Relaxed);
            if e.kind == Kind::Trap {
                self.stats.traps.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut window = self.stats.window.lock().expect("stats poisoned");
        let (first, _) = window.unwrap_or((started, started));
        *window = Some((first.min(started), std::time::Instant::now()));
        result
    }

    /// One line of counters: sessions run (and failed), the sessions per
    /// second between the first session's start and the last one's end,
    /// pure calls, traps.
    pub fn stats_line(&self) -> String {
        let sessions = self.stats.sessions.load(Ordering::Relaxed);
        let seconds = self
            .stats
            .window
            .lock()
            .expect("stats poisoned")
            .map_or(0.0, |(first, last)| last.duration_since(first).as_secs_f64());
        let rate = if seconds > 0.0 { sessions as f64 / seconds } else { 0.0 };
        format!(
            "stats: sessions={sessions} failed_sessions={} session_window_s={seconds:.2} sessions_per_s={rate:.0} pure_calls={} traps={}",
            self.stats.failed_sessions.load(Ordering::Relaxed),
            self.calls.load(Ordering::Relaxed),
            self.stats.traps.load(Ordering::Relaxed),
        )
    }

    /// Parses a `WWW-Authenticate` value.
    pub async fn parse_challenge(&self, header: &str) -> Result<Challenge, ProxyError> {
        self.pure("oci.parse-challenge", |api, store| api.cloudauth_auth_oci().call_parse_challenge(store, header))
            .await
    }

    /// A registry token for `scope` from `realm`, with `login` as basic
    /// credentials: the component builds the request and parses the answer.
    pub async fn registry_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        login: &Login,
    ) -> Result<Token, ProxyError> {
        let scopes = vec![scope.to_owned()];
        let request = self
            .pure("oci.token-request", |api, store| {
                api.cloudauth_auth_oci().call_token_request(
                    store,
                    realm,
                    service,
                    &scopes,
                    Some(&login.username),
                    Some(login.password.expose()),
                )
            })
            .await?;
        let response = self.exchange(&request).await?;
        let token = self
            .pure("oci.parse-token", |api, store| api.cloudauth_auth_oci().call_parse_token(store, &response, now()))
            .await
            .map_err(|e| ProxyError {
                kind: Kind::Credentials,
                message: format!("token from {}: {e}", host_of(realm)),
            })?;
        Ok(Token { value: Secret::new(token.token), expires_at: token.expires_at })
    }

    /// Signs an AWS request with the component's `sigv4` interface:
    /// `sign-headers`, which returns only the headers signing sets (the
    /// request does not cross back), set here as the WIT says.
    pub async fn sign(&self, mut request: HttpRequest, params: SigningParams) -> Result<HttpRequest, ProxyError> {
        let set = self
            .pure("sigv4.sign-headers", |api, store| {
                api.cloudauth_auth_sigv4().call_sign_headers(store, &request, &params)
            })
            .await?;
        request.headers.retain(|(name, _)| !set.iter().any(|(s, _)| s.eq_ignore_ascii_case(name)));
        request.headers.extend(set);
        Ok(request)
    }

    /// Runs a pure export on a pooled instance; a trap fails this call only.
    async fn pure<T>(
        &self,
        export: &str,
        f: impl FnOnce(
            &cloudauth_runtime::Cloudauth,
            &mut cloudauth_runtime::wasmtime::Store<()>,
        ) -> cloudauth_runtime::wasmtime::Result<Result<T, cloudauth_runtime::api::types::Error>>,
    ) -> Result<T, ProxyError> {
        let mut instance = self.pool.get().await.map_err(ProxyError::from_runtime)?;
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let trap = self.trap_at == Some(call);
        let result = instance
            .call_checked(export, |api, store| {
                if trap {
                    tracing::warn!(call, export, "CLOUDAUTH_PROXY_TRAP_AT: running this instance out of fuel");
                    store.set_fuel(1)?;
                }
                f(api, store)
            })
            .map_err(ProxyError::from_runtime);
        if matches!(&result, Err(e) if e.kind == Kind::Trap) {
            self.stats.traps.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Sends a small request the component built (a token request) with
    /// the library's transport, which bounds the answer.
    async fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, ProxyError> {
        self.http
            .send(request)
            .await
            .map_err(|e| ProxyError::unreachable(format!("token request to {}: {e}", host_of(&request.url))))
    }
}

/// The session request for an identity: its environment and settings as
/// configured (never the proxy's own environment).
fn session_request(identity: &Identity, target: Target) -> CredentialRequest {
    let wit_identity = match &identity.service_account {
        None => WitIdentity::Controller,
        Some(sa) => WitIdentity::ServiceAccount(WitServiceAccount {
            namespace: sa.namespace.clone(),
            name: sa.name.clone(),
            annotations: sa.annotations.clone(),
        }),
    };
    CredentialRequest {
        target,
        identity: wit_identity,
        options: Options {
            environment: identity.environment.clone(),
            azure_environment: None,
            sts_endpoint: identity.sts_endpoint.clone(),
            object_level_workload_identity: identity.service_account.is_some(),
            registry_username: identity.registry_username.clone(),
            registry_password: identity.registry_password.as_ref().map(|p| p.expose().to_owned()),
            trusted_realm_hosts: identity.trusted_realm_hosts.clone(),
            skip_cache: false,
            rules: None,
        },
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// Why the proxy could not serve a request; `Display` is one line without
/// secrets (runtime errors never hold one).
#[derive(Debug)]
pub struct ProxyError {
    kind: Kind,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The identity's credentials could not be had.
    Credentials,
    /// The upstream answered something unusable.
    Upstream,
    /// The upstream could not be reached.
    Unreachable,
    /// The component trapped (that instance is replaced).
    Trap,
    Internal,
}

impl ProxyError {
    pub fn upstream(message: String) -> Self {
        ProxyError { kind: Kind::Upstream, message }
    }
    pub fn unreachable(message: String) -> Self {
        ProxyError { kind: Kind::Unreachable, message }
    }
    pub fn internal(message: String) -> Self {
        ProxyError { kind: Kind::Internal, message }
    }
    fn credentials(identity: &str, error: cloudauth_runtime::Error) -> Self {
        let kind = if *error.kind() == ErrorKind::Trap { Kind::Trap } else { Kind::Credentials };
        ProxyError { kind, message: format!("credentials for identity {identity}: {error}") }
    }
    fn from_runtime(error: cloudauth_runtime::Error) -> Self {
        let kind = if *error.kind() == ErrorKind::Trap { Kind::Trap } else { Kind::Upstream };
        ProxyError { kind, message: error.to_string() }
    }

    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Credentials | Kind::Upstream | Kind::Unreachable => StatusCode::BAD_GATEWAY,
            Kind::Trap => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The distribution error code the mirror answers with.
    pub fn code(&self) -> &'static str {
        match self.kind {
            Kind::Credentials => "DENIED",
            Kind::Upstream | Kind::Unreachable | Kind::Trap => "UNAVAILABLE",
            Kind::Internal => "UNKNOWN",
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProxyError {}

/// Loads the component (compiled once, cached on disk by the library) and
/// starts the library's runtime: a pool of instances, its transport with
/// the configured CA file, its credential cache.
pub async fn connect(config: &crate::config::Config) -> anyhow::Result<Arc<Cloud>> {
    use anyhow::Context as _;
    let path = config
        .component
        .clone()
        .or_else(|| std::env::var_os("CLOUDAUTH_WASM").map(std::path::PathBuf::from))
        .context("no component: set `component` in the config file, or CLOUDAUTH_WASM")?;
    let component = cloudauth_runtime::LoadedComponent::load(&path, &cloudauth_runtime::LoadOptions::default())
        .with_context(|| format!("component {}", path.display()))?;
    let pool = Pool::new(Arc::new(component), pool_size());
    let mut http = HttpConfig::from_env().context("HTTP settings from the environment")?;
    http.extra_ca_files.extend(config.ca_file.clone());
    let http = HttpClient::new(http).context("the HTTP client")?;
    let runtime = Runtime::new(pool, Arc::new(http.clone()), cloudauth_runtime::RuntimeConfig::default());
    let trap_at = std::env::var("CLOUDAUTH_PROXY_TRAP_AT").ok().and_then(|v| v.parse().ok());
    Ok(Cloud::new(runtime, http, trap_at))
}

/// Instances in the pool: sessions hold one while they wait for the
/// network, so more than the cores.
fn pool_size() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 8
}
