//! Driving sessions: the async loop that does what a session asks.
//!
//! A [`Runtime`] starts a session on a pooled instance, looks its
//! `cache-key()` up in the host cache, joins or leads the single flight for
//! that key, and then loops: `send-http` goes to the [`Transport`],
//! `fetch-identity-token` to the [`IdentitySource`], each answer goes back
//! with the current time from the clock, until `done` or `failed`. Each
//! step is bounded by the flow's deadline, and each error names the step and
//! its host.
//!
//! Sessions run with the component's own cache off: the host cache is the
//! one cache, shared by every instance. A request with `skip-cache` set
//! neither reads nor fills it, and runs its own flow.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wasmtime::component::ResourceAny;

use crate::bindings::api::resolve::RegistryTarget;
use crate::bindings::api::session::{
    Credentials, Identity, IdentityTokenRequest, Options, SessionRequest, Step as WitStep, Target,
};
use crate::bindings::api::types::{AzureEnvironment, Provider};
use crate::cache::{CredentialCache, expires_at};
use crate::error::{Error, ErrorKind, Step};
use crate::flight::{self, Flights, Join};
use crate::http::{Transport, shown_url, url_host};
use crate::pool::{Pool, PooledInstance};
use crate::secret::Secret;
use crate::tokens::IdentitySource;

/// The current Unix time in seconds; the component reads no clock.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_time() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How flows run.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The longest a whole flow may take, waiting for an instance included.
    pub flow_timeout: Duration,
    /// The most steps a flow may take; real flows take fewer than ten.
    pub max_steps: usize,
    /// The most credentials kept in the host cache.
    pub cache_capacity: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig { flow_timeout: Duration::from_secs(120), max_steps: 32, cache_capacity: 4096 }
    }
}

/// What credentials to get, and as whom.
#[derive(Clone)]
pub struct CredentialRequest {
    pub target: Target,
    pub identity: Identity,
    pub options: Options,
}

/// Where credentials came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// This call ran the flow.
    Flow,
    /// The host cache.
    Cache,
    /// Another call's flow for the same key, run at the same time.
    Shared,
}

/// Credentials, and where they came from.
#[derive(Clone, Debug)]
pub struct Obtained {
    pub credentials: Secret<Credentials>,
    /// Unix seconds, when the credentials have an expiry.
    pub expires_at: Option<i64>,
    /// The session's `cache-key()`.
    pub cache_key: String,
    pub source: Source,
}

/// Registry credentials for docker-login style clients.
#[derive(Clone, Debug)]
pub struct RegistryLogin {
    /// The registry host (lower case, with its port) they are for.
    pub registry: String,
    pub username: String,
    pub password: Secret<String>,
    pub expires_at: Option<i64>,
    pub source: Source,
}

/// Runs flows: a pool, a transport, a clock, the host cache and the single
/// flights. Cheap to share (`Arc<Runtime>`); every method takes `&self`.
pub struct Runtime {
    pool: Pool,
    transport: Arc<dyn Transport>,
    clock: Clock,
    cache: CredentialCache,
    flights: Flights,
    config: RuntimeConfig,
}

impl Runtime {
    pub fn new(pool: Pool, transport: Arc<dyn Transport>, config: RuntimeConfig) -> Runtime {
        Runtime {
            pool,
            transport,
            clock: Arc::new(system_time),
            cache: CredentialCache::new(config.cache_capacity),
            flights: Flights::default(),
            config,
        }
    }

    /// Replaces the system clock (tests, replays).
    pub fn with_clock(mut self, clock: Clock) -> Runtime {
        self.clock = clock;
        self
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The current time, as the runtime passes it to the component.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Drops every cached credential.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Credentials kept in the host cache now.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Resolves a registry reference (a pure call on a pooled instance).
    pub async fn resolve_registry(
        &self,
        reference: &str,
        azure_environment: Option<&AzureEnvironment>,
    ) -> Result<RegistryTarget, Error> {
        let mut instance = self.pool.get().await?;
        instance.call_checked("resolve.resolve-registry", |api, store| {
            api.cloudauth_auth_resolve().call_resolve_registry(store, reference, azure_environment)
        })
    }

    /// Registry credentials for an image reference or registry host.
    ///
    /// A generic registry (not a cloud's) for which `options` configure no
    /// registry credentials is `unsupported` without a flow: a client can
    /// talk to it anonymously by itself, and nothing should make up
    /// credentials for it.
    pub async fn registry_credentials(
        &self,
        reference: &str,
        identity: Identity,
        options: Options,
        tokens: &dyn IdentitySource,
    ) -> Result<RegistryLogin, Error> {
        let target = self.resolve_registry(reference, options.azure_environment.as_ref()).await?;
        if target.provider == Provider::Generic && options.registry_username.is_none() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} is not a cloud registry and no registry credentials are configured for it",
                    target.registry
                ),
            ));
        }
        let request = CredentialRequest { target: Target::Registry(reference.to_owned()), identity, options };
        let obtained = self.credentials(&request, tokens).await?;
        match obtained.credentials.into_inner() {
            Credentials::Registry(c) => Ok(RegistryLogin {
                registry: target.registry,
                username: c.username,
                password: Secret::new(c.password),
                expires_at: c.expires_at,
                source: obtained.source,
            }),
            _ => Err(Error::new(ErrorKind::Flow, "the flow gave credentials that are not for a registry")),
        }
    }

    /// Runs the flow for `request` (or serves it from the cache, or shares
    /// a flow already running for the same key).
    pub async fn credentials(
        &self,
        request: &CredentialRequest,
        tokens: &dyn IdentitySource,
    ) -> Result<Obtained, Error> {
        let deadline = Instant::now() + self.config.flow_timeout;
        let use_cache = !request.options.skip_cache;
        loop {
            let mut instance = match tokio::time::timeout_at(deadline, self.pool.get()).await {
                Ok(instance) => instance?,
                Err(_) => return Err(self.timed_out("waiting for a free component instance")),
            };
            let now = self.now();
            let session = self.start(&mut instance, request, now)?;
            let key = match instance.call("session.cache-key", |api, store| {
                api.cloudauth_auth_session().session().call_cache_key(store, session)
            }) {
                Ok(key) => key,
                Err(e) => {
                    close(&mut instance, session);
                    return Err(e);
                }
            };
            if !use_cache {
                let result = self.drive(&mut instance, session, tokens, deadline).await;
                close(&mut instance, session);
                return result.map(|c| obtained(c, key, Source::Flow));
            }
            match self.flights.join(&key, || self.cache.get(&key, now)) {
                Join::Cached((credentials, expires_at)) => {
                    close(&mut instance, session);
                    tracing::debug!(cache_key = %key, "credentials from the host cache");
                    return Ok(Obtained {
                        credentials: Secret::new(credentials),
                        expires_at: Some(expires_at),
                        cache_key: key,
                        source: Source::Cache,
                    });
                }
                Join::Follow(channel) => {
                    // Give the instance back while waiting: the leader may need it.
                    close(&mut instance, session);
                    drop(instance);
                    tracing::debug!(cache_key = %key, "waiting for the flow already running for this key");
                    match tokio::time::timeout_at(deadline, flight::wait(channel)).await {
                        Err(_) => return Err(self.timed_out("waiting for the flow of the same credentials")),
                        // The leader's instance trapped: that failure was its own; run again.
                        Ok(Some(Err(e))) if *e.kind() == ErrorKind::Trap => continue,
                        Ok(Some(outcome)) => {
                            return outcome.map(|(credentials, expires_at)| Obtained {
                                credentials: Secret::new(credentials),
                                expires_at,
                                cache_key: key,
                                source: Source::Shared,
                            });
                        }
                        // The leader went away (its caller gave up): one of us leads now.
                        Ok(None) => continue,
                    }
                }
                Join::Lead(leader) => {
                    let result = self.drive(&mut instance, session, tokens, deadline).await;
                    close(&mut instance, session);
                    drop(instance);
                    let shared = result.as_ref().map(|c| (c.clone(), expires_at(c))).map_err(Clone::clone);
                    if let Ok((credentials, expires_at)) = &shared {
                        self.cache.put(&key, credentials, *expires_at, self.now());
                    }
                    leader.finish(shared);
                    return result.map(|c| obtained(c, key, Source::Flow));
                }
            }
        }
    }

    fn start(
        &self,
        instance: &mut PooledInstance,
        request: &CredentialRequest,
        now: i64,
    ) -> Result<ResourceAny, Error> {
        let step = Step { number: 0, action: "starting the session".to_owned(), host: None };
        let mut options = request.options.clone();
        // The host cache replaces the instance's.
        options.skip_cache = true;
        let wit = SessionRequest { target: request.target.clone(), identity: request.identity.clone(), options, now };
        let session = instance
            .call_checked("session.start", |api, store| api.cloudauth_auth_session().session().call_start(store, &wit))
            .map_err(|e| e.at(&step))?;
        instance.session_opened();
        Ok(session)
    }

    /// The step loop.
    async fn drive(
        &self,
        instance: &mut PooledInstance,
        session: ResourceAny,
        tokens: &dyn IdentitySource,
        deadline: Instant,
    ) -> Result<Credentials, Error> {
        let mut last: Option<Step> = None;
        let after = |e: Error, last: &Option<Step>| match last {
            Some(step) => e.at(step),
            None => e,
        };
        for number in 1..=self.config.max_steps {
            let next = instance
                .call("session.next", |api, store| api.cloudauth_auth_session().session().call_next(store, session))
                .map_err(|e| after(e, &last))?;
            match next {
                WitStep::Done(credentials) => {
                    tracing::debug!(steps = number - 1, "flow done");
                    return Ok(credentials);
                }
                WitStep::Failed(error) => return Err(after(Error::component(error), &last)),
                WitStep::SendHttp(request) => {
                    let step = Step {
                        number,
                        action: format!("{} {}", request.method, shown_url(&request.url)),
                        host: url_host(&request.url),
                    };
                    tracing::debug!(step = number, action = %step.action, "send-http");
                    let response = match tokio::time::timeout_at(deadline, self.transport.send(&request)).await {
                        Ok(response) => response.map_err(|e| e.at(&step))?,
                        Err(_) => return Err(self.timed_out("waiting for the answer").at(&step)),
                    };
                    tracing::debug!(step = number, status = response.status, "answer");
                    let now = self.now();
                    instance
                        .call_checked("session.receive-http", |api, store| {
                            api.cloudauth_auth_session().session().call_receive_http(store, session, &response, now)
                        })
                        .map_err(|e| e.at(&step))?;
                    last = Some(step);
                }
                WitStep::FetchIdentityToken(request) => {
                    let step = Step { number, action: token_action(&request), host: None };
                    tracing::debug!(step = number, action = %step.action, "fetch-identity-token");
                    let token = match tokio::time::timeout_at(deadline, tokens.token(&request)).await {
                        Ok(token) => token.map_err(|m| Error::new(ErrorKind::IdentityToken, m).at(&step))?,
                        Err(_) => return Err(self.timed_out("waiting for the identity token").at(&step)),
                    };
                    let now = self.now();
                    instance
                        .call_checked("session.receive-identity-token", |api, store| {
                            api.cloudauth_auth_session().session().call_receive_identity_token(
                                store,
                                session,
                                token.expose(),
                                now,
                            )
                        })
                        .map_err(|e| e.at(&step))?;
                    last = Some(step);
                }
            }
        }
        Err(after(
            Error::new(ErrorKind::Flow, format!("the flow did not finish within {} steps", self.config.max_steps)),
            &last,
        ))
    }

    fn timed_out(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("{what}: the flow took longer than {}s", self.config.flow_timeout.as_secs_f32()),
        )
    }
}

fn obtained(credentials: Credentials, cache_key: String, source: Source) -> Obtained {
    let expires_at = expires_at(&credentials);
    Obtained { credentials: Secret::new(credentials), expires_at, cache_key, source }
}

/// Frees the session in the component (unless the instance trapped, and
/// will be dropped whole).
fn close(instance: &mut PooledInstance, session: ResourceAny) {
    if instance.is_broken() {
        return;
    }
    if instance.call("session.drop", |_, store| session.resource_drop(store)).is_ok() {
        instance.session_closed();
    }
}

fn token_action(request: &IdentityTokenRequest) -> String {
    let whose = match (&request.service_account, &request.file) {
        (Some((namespace, name)), _) => format!("service account {namespace}/{name}"),
        (None, Some(file)) => format!("file {file}"),
        (None, None) => "the host's own identity".to_owned(),
    };
    format!("getting the identity token for audience {:?} ({whose})", request.audience)
}
