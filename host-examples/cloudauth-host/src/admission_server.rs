//! The admission webhook's server: HTTPS (rustls) over tokio and hyper,
//! answering AdmissionReview POSTs with the decisions of
//! [`crate::admission`], made by the component (`policy.explain`,
//! `policy.evaluate`) on instances of a `cloudauth_runtime::Pool`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use cloudauth_runtime::api::policy::Explanation;
use cloudauth_runtime::api::session::{
    Cluster, Identity, Options, ServiceAccount, SessionRequest, Target as WitTarget,
};
use cloudauth_runtime::api::types::Provider;
use cloudauth_runtime::{Pool, describe, options_from_env, process_env};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admission::{self, Ask, Reading, Target, Verdict};

/// Largest AdmissionReview read (the API server's requests are far smaller).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The webhook's settings.
pub struct Config {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The rules document's text.
    pub rules: String,
    pub component: Option<PathBuf>,
}

/// What decides: a pool of component instances, the rules, and the
/// settings the controllers run with (their environment: `AWS_REGION`,
/// `AZURE_*`, ...; `CLOUDAUTH_STS_ENDPOINT`; the Azure environment file),
/// read from the webhook's own environment.
pub struct Decider {
    pool: Pool,
    rules: String,
    base: Options,
}

impl Decider {
    pub fn new(pool: Pool, rules: String, base: Options) -> Self {
        Decider { pool, rules, base }
    }

    /// The AdmissionReview answer to a request body; Err for a body that is
    /// not an AdmissionReview (HTTP 400).
    pub async fn review(&self, body: &[u8]) -> Result<Value, String> {
        let review: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let (uid, reading) = admission::read(&review)?;
        let (asks, message) = match reading {
            Reading::Asks(asks) => (asks, None),
            Reading::Nothing(m) | Reading::NotUnderstood(m) => (Vec::new(), Some(m)),
        };
        let mut verdicts = Vec::new();
        for ask in asks {
            let verdict = self.decide(&ask).await;
            verdicts.push((ask, verdict));
        }
        Ok(admission::answer(&uid, &verdicts, message.as_deref()))
    }

    async fn decide(&self, ask: &Ask) -> Verdict {
        let deny = |reason: String| Verdict { allowed: false, reasons: vec![reason] };
        let mut instance = match self.pool.get().await {
            Ok(i) => i,
            Err(e) => return deny(format!("no component instance: {e}")),
        };
        let mut request = self.request(ask);
        if let WitTarget::Registry(reference) = &request.target {
            let resolved = instance.call_checked("resolve.resolve-registry", |api, store| {
                api.cloudauth_auth_resolve().call_resolve_registry(store, reference, None)
            });
            match resolved {
                // A registry without a cloud provider gets no cloud identity
                // from Flux or the kubelet: only its host is decided, with
                // placeholder credentials (they are never used).
                Ok(target) if target.provider == Provider::Generic && ask.provider.is_none() => {
                    request.identity = Identity::Controller;
                    request.options.registry_username = Some("cloudauth-admission".into());
                    request.options.registry_password = Some("unused".into());
                }
                Ok(_) => {}
                Err(e) => return deny(e.to_string()),
            }
        }
        let explained: Result<Explanation, _> = instance
            .call_checked("policy.explain", |api, store| api.cloudauth_auth_policy().call_explain(store, &request));
        let explanation = match explained {
            Ok(e) => e,
            Err(e) => return deny(e.to_string()),
        };
        if let Some(named) = &ask.provider
            && provider_name(explanation.provider) != named
        {
            return deny(format!(
                "the object names provider {named}, but cloudauth resolves provider {}",
                provider_name(explanation.provider)
            ));
        }
        let decided = instance.call_checked("policy.evaluate", |api, store| {
            api.cloudauth_auth_policy().call_evaluate(store, &request, &self.rules)
        });
        match decided {
            Ok(d) if d.allowed => Verdict { allowed: true, reasons: d.allowed_by },
            Ok(d) => Verdict { allowed: false, reasons: d.denied_by },
            Err(e) => deny(e.to_string()),
        }
    }

    fn request(&self, ask: &Ask) -> SessionRequest {
        let provider = |p: &str| match p {
            "aws" => Provider::Aws,
            "azure" => Provider::Azure,
            "gcp" => Provider::Gcp,
            _ => Provider::Generic,
        };
        let target = match &ask.target {
            Target::Registry(r) => WitTarget::Registry(r.clone()),
            Target::Git(url) => WitTarget::Git(url.clone()),
            Target::Cluster { provider: p, resource_id, address } => WitTarget::Cluster(Cluster {
                provider: provider(p),
                resource_id: resource_id.clone(),
                address: address.clone(),
                ca_data: None,
            }),
            Target::AccessToken { provider: p } => WitTarget::AccessToken((provider(p), Vec::new())),
        };
        let identity = match &ask.service_account {
            Some((namespace, name, annotations)) => Identity::ServiceAccount(ServiceAccount {
                namespace: namespace.clone(),
                name: name.clone(),
                annotations: annotations.clone(),
            }),
            None => Identity::Controller,
        };
        SessionRequest {
            target,
            identity,
            options: Options {
                // The rules' `namespaces` decide who may.
                object_level_workload_identity: true,
                registry_username: None,
                registry_password: None,
                trusted_realm_hosts: Vec::new(),
                skip_cache: true,
                rules: None,
                ..self.base.clone()
            },
            now: cloudauth_runtime::system_time(),
        }
    }
}

fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::Aws => "aws",
        Provider::Azure => "azure",
        Provider::Gcp => "gcp",
        Provider::Generic => "generic",
    }
}

/// The TLS settings from PEM files.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", cert.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow!("TLS certificate and key: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves until the process ends.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, decider: Arc<Decider>) -> Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let decider = Arc::clone(&decider);
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = service_fn(move |request| handle(Arc::clone(&decider), request));
            if let Err(e) =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

async fn handle(decider: Arc<Decider>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
        Ok(response)
    };
    if request.method() != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, r#"{"error":"POST an AdmissionReview"}"#.into());
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return reply(StatusCode::PAYLOAD_TOO_LARGE, serde_json::json!({"error": e.to_string()}).to_string()),
    };
    match decider.review(&body).await {
        Ok(answer) => reply(StatusCode::OK, answer.to_string()),
        Err(why) => reply(StatusCode::BAD_REQUEST, serde_json::json!({"error": why}).to_string()),
    }
}

const USAGE: &str = "usage: cloudauth-host admission-webhook --rules FILE --tls-cert FILE --tls-key FILE [--listen ADDR] [--component PATH]";

/// `cloudauth-host admission-webhook ...`
pub fn main(args: &[String]) -> ExitCode {
    let result = parse(args).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudauth-host admission-webhook: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: &[String]) -> Result<Config> {
    let mut listen: SocketAddr = "0.0.0.0:8443".parse()?;
    let (mut cert, mut key, mut rules, mut component) = (None, None, None, None);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--listen" => listen = value()?.parse().context("--listen takes host:port")?,
            "--tls-cert" => cert = Some(PathBuf::from(value()?)),
            "--tls-key" => key = Some(PathBuf::from(value()?)),
            "--rules" => rules = Some(PathBuf::from(value()?)),
            "--component" => component = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let missing = |what: &str| anyhow!("{what} is required\n{USAGE}");
    let rules = rules.ok_or_else(|| missing("--rules"))?;
    let rules = std::fs::read_to_string(&rules).with_context(|| format!("reading {}", rules.display()))?;
    Ok(Config {
        listen,
        cert: cert.ok_or_else(|| missing("--tls-cert"))?,
        key: key.ok_or_else(|| missing("--tls-key"))?,
        rules,
        component,
    })
}

/// Loads the component, checks the rules, binds, serves.
fn run(config: Config) -> Result<()> {
    let acceptor = tls_acceptor(&config.cert, &config.key)?;
    let component = crate::component::load_component(&crate::component::locate(config.component.clone()))?;
    let pool = Pool::new(component, 4);
    let base = options_from_env(&process_env()).map_err(|e| anyhow!("{e}"))?;
    // A bad rules document fails here, with its path, not on the first review.
    cloudauth_policy_check(&pool, &config.rules)?;
    let decider = Arc::new(Decider::new(pool, config.rules, base));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        eprintln!("cloudauth admission webhook listening on https://{}", listener.local_addr()?);
        serve(listener, acceptor, decider).await
    })
}

/// Evaluates a trivial request under the rules, so a malformed document
/// fails at start with its path.
fn cloudauth_policy_check(pool: &Pool, rules: &str) -> Result<()> {
    let Some(instance) = pool.try_get() else { return Ok(()) };
    let mut instance = instance.map_err(|e| anyhow!("{e}"))?;
    let probe = SessionRequest {
        target: WitTarget::AccessToken((Provider::Gcp, Vec::new())),
        identity: Identity::Controller,
        options: Options {
            environment: Vec::new(),
            azure_environment: None,
            sts_endpoint: None,
            object_level_workload_identity: false,
            registry_username: None,
            registry_password: None,
            trusted_realm_hosts: Vec::new(),
            skip_cache: true,
            rules: None,
        },
        now: cloudauth_runtime::system_time(),
    };
    let result =
        instance.call("policy.evaluate", |api, store| api.cloudauth_auth_policy().call_evaluate(store, &probe, rules));
    match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(anyhow!("the rules document: {}", describe(&e))),
        Err(e) => Err(anyhow!("{e}")),
    }
}
