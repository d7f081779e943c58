//! `demo`: a complete credential flow, step by step, against a fake cloud.
//!
//! The demo starts a `session` of the component for a registry target, as
//! a real host would, and does what each step asks: it answers `send-http`
//! from the fake cloud ([`crate::canned`]) and `fetch-identity-token` with
//! a service-account token the fake cloud mints. Every request is shown as
//! the component built it, with its secrets redacted; every secret is shown
//! as its first few characters and its length. Then it starts the same
//! session again, which the component serves from its credential cache
//! (credentials without an expiry, a generic registry's, are not cached:
//! that session validates them again).
//!
//! The identity is the host's own (controller level, from environment
//! variables set to fake values) or a fake `default/app` service account
//! with the provider's annotations (object level); a generic registry
//! takes fake registry credentials instead. Nothing leaves the machine and
//! no cloud account is needed.

use std::fmt::Write;

use cloudauth_runtime::wasmtime::component::ResourceAny;
use serde_json::{Value, json};

use crate::canned::{self, FakeCloud};
use crate::component::api::session::{
    Credentials, Identity, IdentityTokenRequest, Options, ServiceAccount, SessionRequest, Step, Target,
};
use crate::component::api::types::Provider;
use crate::component::{Instance, flatten};
use crate::plan::{Body, ShownRequest, provider_name};
use crate::render;

/// The most steps a flow may take; real flows take fewer than ten.
const MAX_STEPS: usize = 32;

/// How many leading characters of a secret are shown, at most.
const SHOWN_PREFIX: usize = 6;

/// The service account of `--identity service-account`.
pub const SERVICE_ACCOUNT: (&str, &str) = ("default", "app");

/// The host's own service account, whose projected token the SDK
/// conventions' token files hold.
const CONTROLLER_ACCOUNT: (&str, &str) = ("flux-system", "source-controller");

/// Fake Azure ids: GUID-shaped, obviously not real.
const AZURE_TENANT_ID: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const AZURE_CLIENT_ID: &str = "cccccccc-0000-4000-8000-000000000002";
const AWS_ACCOUNT: &str = "123456789012";

/// Whose identity the demo's session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityMode {
    /// The host's own (controller level).
    Controller,
    /// The fake `default/app` service account (object level).
    ServiceAccount,
}

impl IdentityMode {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "controller" => Ok(IdentityMode::Controller),
            "service-account" => Ok(IdentityMode::ServiceAccount),
            other => Err(format!("unknown identity {other:?} (expected controller or service-account)")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            IdentityMode::Controller => "controller",
            IdentityMode::ServiceAccount => "service-account",
        }
    }
}

/// Everything the demo shows.
pub struct Demo {
    pub target: String,
    pub mode: IdentityMode,
    /// The resolved provider and registry, or why the target did not resolve.
    pub resolved: Result<(&'static str, String), String>,
    pub setup: Option<Setup>,
    pub notes: Vec<String>,
    pub runs: Vec<Run>,
    /// Requests the fake cloud did not recognise.
    pub warnings: Vec<String>,
}

/// What the demo hands the session, and how to describe it.
pub struct Setup {
    identity: Identity,
    options: Options,
    /// One line per setting, for people.
    lines: Vec<String>,
}

/// One session, start to end.
pub struct Run {
    pub title: &'static str,
    pub steps: Vec<Event>,
    pub outcome: Outcome,
    pub cache_key: Option<String>,
    pub from_cache: bool,
    /// Why the run went the way it did, when that needs saying.
    pub note: Option<String>,
}

/// One step the host did for the session.
pub enum Event {
    IdentityToken {
        request: IdentityTokenRequest,
        /// Whose token was minted: `namespace/name`.
        account: String,
        /// The minted token, redacted.
        token: String,
    },
    Http {
        request: ShownRequest,
        response: ShownResponse,
    },
}

/// The fake cloud's answer as printed: secrets redacted.
pub struct ShownResponse {
    pub status: u16,
    pub what: String,
    pub content_type: Option<String>,
    pub body: String,
}

pub enum Outcome {
    /// The credentials: their kind, fields (secrets redacted) and expiry.
    Done {
        kind: &'static str,
        fields: Vec<(&'static str, String)>,
        expires_at: Option<i64>,
    },
    Failed(String),
}

impl Outcome {
    fn is_done(&self) -> bool {
        matches!(self, Outcome::Done { .. })
    }

    /// Credentials that never expire, which the component does not cache.
    fn never_expires(&self) -> bool {
        matches!(self, Outcome::Done { expires_at: None, .. })
    }
}

impl Demo {
    /// True when the flow gave credentials, the second session came from the
    /// cache without a step (or, for credentials that never expire, ran
    /// again), and the fake cloud knew every request.
    pub fn succeeded(&self) -> bool {
        match self.runs.as_slice() {
            [first, second] => {
                let cached = second.from_cache && second.steps.is_empty();
                let again = !second.from_cache && first.outcome.never_expires();
                self.warnings.is_empty()
                    && first.outcome.is_done()
                    && second.outcome.is_done()
                    && (cached || again)
                    && first.cache_key == second.cache_key
            }
            _ => false,
        }
    }
}

/// Runs the demo for `target`; `clock` gives the current Unix time.
pub fn demo(instance: &mut Instance, target: &str, mode: IdentityMode, clock: &dyn Fn() -> i64) -> Demo {
    let i = instance;
    let mut demo = Demo {
        target: target.to_owned(),
        mode,
        resolved: Err(String::new()),
        setup: None,
        notes: Vec::new(),
        runs: Vec::new(),
        warnings: Vec::new(),
    };
    let resolved = match flatten(i.call("resolve.resolve-registry", |api, store| {
        api.cloudauth_auth_resolve().call_resolve_registry(store, target, None)
    })) {
        Ok(resolved) => resolved,
        Err(e) => {
            demo.resolved = Err(e);
            return demo;
        }
    };
    demo.resolved = Ok((provider_name(resolved.provider), resolved.registry.clone()));
    let mut setup = fake_settings(resolved.provider, mode);
    if resolved.provider == Provider::Generic && mode == IdentityMode::ServiceAccount {
        // A registry outside the clouds takes its own credentials: show that
        // the component refuses a service account, then run its own flow.
        match start(i, &request(target, &setup, clock())) {
            Err(e) => demo.notes.push(format!(
                "A service account does not apply to {}: the component refuses it ({e}). \
                 The demo runs the registry's own flow instead, with the registry credentials.",
                resolved.registry
            )),
            Ok(session) => {
                let _ = i.call("session.drop", |_, store| session.resource_drop(store));
                demo.notes.push("Unexpected: the component accepted a service account for a generic registry.".into());
            }
        }
        setup = fake_settings(Provider::Generic, IdentityMode::Controller);
    }
    let mut cloud = FakeCloud::new();
    let first =
        run(i, &mut cloud, "Run 1: a new session", &request(target, &setup, clock()), clock, &mut demo.warnings);
    let finished = first.outcome.is_done();
    let never_expires = first.outcome.never_expires();
    demo.runs.push(first);
    if finished {
        let again = request(target, &setup, clock());
        let mut second = run(i, &mut cloud, "Run 2: the same session again", &again, clock, &mut demo.warnings);
        second.note = Some(if second.from_cache {
            "served from the component's cache: no request, no token".to_owned()
        } else if never_expires {
            "not from the cache: credentials without an expiry are not cached, so the session validates them again"
                .to_owned()
        } else {
            "not from the cache, though the credentials have an expiry".to_owned()
        });
        demo.runs.push(second);
    }
    demo.setup = Some(setup);
    demo
}

fn request(target: &str, setup: &Setup, now: i64) -> SessionRequest {
    SessionRequest {
        target: Target::Registry(target.to_owned()),
        identity: setup.identity.clone(),
        options: setup.options.clone(),
        now,
    }
}

/// The fake settings of a provider's identity.
fn fake_settings(provider: Provider, mode: IdentityMode) -> Setup {
    let mut options = Options {
        environment: Vec::new(),
        azure_environment: None,
        sts_endpoint: None,
        object_level_workload_identity: false,
        registry_username: None,
        registry_password: None,
        trusted_realm_hosts: Vec::new(),
        skip_cache: false,
        rules: None,
    };
    if mode == IdentityMode::ServiceAccount {
        let annotations: Vec<(String, String)> = match provider {
            Provider::Azure => vec![
                ("azure.workload.identity/client-id".into(), AZURE_CLIENT_ID.into()),
                ("azure.workload.identity/tenant-id".into(), AZURE_TENANT_ID.into()),
            ],
            Provider::Aws => {
                vec![("eks.amazonaws.com/role-arn".into(), format!("arn:aws:iam::{AWS_ACCOUNT}:role/app"))]
            }
            Provider::Gcp => vec![(
                "iam.gke.io/gcp-service-account".into(),
                format!("app@{}.iam.gserviceaccount.com", canned::GKE_PROJECT),
            )],
            Provider::Generic => Vec::new(),
        };
        let (namespace, name) = SERVICE_ACCOUNT;
        let mut lines = vec![format!("service account {namespace}/{name} (object-level workload identity enabled)")];
        lines.extend(annotations.iter().map(|(k, v)| format!("  annotation {k}: {v}")));
        options.object_level_workload_identity = true;
        let identity =
            Identity::ServiceAccount(ServiceAccount { namespace: namespace.into(), name: name.into(), annotations });
        return Setup { identity, options, lines };
    }
    let environment: &[(&str, &str)] = match provider {
        Provider::Azure => &[
            ("AZURE_CLIENT_ID", AZURE_CLIENT_ID),
            ("AZURE_TENANT_ID", AZURE_TENANT_ID),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"),
        ],
        Provider::Aws => &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/demo-controller"),
            // Without it the session name is the Go SDK's default, which
            // holds the time, and the component's cache key holds the name:
            // the second session would miss the cache.
            ("AWS_ROLE_SESSION_NAME", "cloudauth-demo"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
        ],
        Provider::Gcp | Provider::Generic => &[],
    };
    options.environment = environment.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let mut lines: Vec<String> = environment.iter().map(|(k, v)| format!("{k}={v}")).collect();
    match provider {
        Provider::Gcp => lines.push("no environment: the metadata server speaks for the node".into()),
        Provider::Generic => {
            options.registry_username = Some(canned::REGISTRY_USERNAME.into());
            options.registry_password = Some(canned::REGISTRY_PASSWORD.into());
            lines.push(format!("registry-username={}", canned::REGISTRY_USERNAME));
            lines.push(format!("registry-password={}", redact(canned::REGISTRY_PASSWORD)));
        }
        _ => {}
    }
    Setup { identity: Identity::Controller, options, lines }
}

fn start(i: &mut Instance, request: &SessionRequest) -> Result<ResourceAny, String> {
    flatten(i.call("session.start", |api, store| api.cloudauth_auth_session().session().call_start(store, request)))
}

/// Runs one session to its end, against the fake cloud.
fn run(
    i: &mut Instance,
    cloud: &mut FakeCloud,
    title: &'static str,
    request: &SessionRequest,
    clock: &dyn Fn() -> i64,
    warnings: &mut Vec<String>,
) -> Run {
    let mut run = Run {
        title,
        steps: Vec::new(),
        outcome: Outcome::Failed(String::new()),
        cache_key: None,
        from_cache: false,
        note: None,
    };
    let session = match start(i, request) {
        Ok(session) => session,
        Err(e) => {
            run.outcome = Outcome::Failed(format!("the session did not start: {e}"));
            return run;
        }
    };
    run.cache_key = i
        .call("session.cache-key", |api, store| api.cloudauth_auth_session().session().call_cache_key(store, session))
        .ok();
    run.outcome = drive(i, session, cloud, clock, &mut run.steps, warnings);
    run.from_cache = i
        .call("session.from-cache", |api, store| api.cloudauth_auth_session().session().call_from_cache(store, session))
        .unwrap_or(false);
    if let Err(trap) = i.call("session.drop", |_, store| session.resource_drop(store)) {
        run.outcome = Outcome::Failed(format!("dropping the session failed: {trap}"));
    }
    run
}

fn drive(
    i: &mut Instance,
    session: ResourceAny,
    cloud: &mut FakeCloud,
    clock: &dyn Fn() -> i64,
    steps: &mut Vec<Event>,
    warnings: &mut Vec<String>,
) -> Outcome {
    for _ in 0..MAX_STEPS {
        let step = match i
            .call("session.next", |api, store| api.cloudauth_auth_session().session().call_next(store, session))
        {
            Ok(step) => step,
            Err(trap) => return Outcome::Failed(trap.to_string()),
        };
        // A receive that fails moves the session to `failed` with the same
        // error, so the error is the outcome.
        let received = match step {
            Step::Done(credentials) => return shown_credentials(&credentials),
            Step::Failed(error) => return Outcome::Failed(crate::component::describe(&error)),
            // The demo's identities read no files.
            Step::ReadFile(path) => return Outcome::Failed(format!("the demo cloud has no file {path}")),
            Step::FetchIdentityToken(request) => {
                let now = clock();
                let account =
                    request.service_account.as_ref().map_or(CONTROLLER_ACCOUNT, |(ns, n)| (ns.as_str(), n.as_str()));
                let token = cloud.identity_token(&request.audience, account, now);
                let (namespace, name) = account;
                steps.push(Event::IdentityToken {
                    request: request.clone(),
                    account: format!("{namespace}/{name}"),
                    token: redact(&token),
                });
                flatten(i.call("session.receive-identity-token", |api, store| {
                    api.cloudauth_auth_session().session().call_receive_identity_token(store, session, &token, now)
                }))
            }
            Step::SendHttp(request) => {
                let now = clock();
                let shown = scrub_request(ShownRequest::from_built(request.clone()), cloud.secrets());
                let answer = cloud.answer(&request, now);
                warnings.extend(answer.warning.clone());
                let response = &answer.response;
                let content_type = response
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone());
                let body = scrub(&String::from_utf8_lossy(&response.body), cloud.secrets());
                steps.push(Event::Http {
                    request: shown,
                    response: ShownResponse { status: response.status, what: answer.what.clone(), content_type, body },
                });
                flatten(i.call("session.receive-http", |api, store| {
                    api.cloudauth_auth_session().session().call_receive_http(store, session, response, now)
                }))
            }
        };
        if let Err(e) = received {
            return Outcome::Failed(e);
        }
    }
    Outcome::Failed(format!("the flow did not finish within {MAX_STEPS} steps"))
}

// ---------------------------------------------------------------- redaction

/// A secret as printed: its first few characters (a quarter of it at most)
/// and its length.
pub fn redact(secret: &str) -> String {
    let length = secret.chars().count();
    if length == 0 {
        return "(empty)".into();
    }
    let shown: String = secret.chars().take((length / 4).min(SHOWN_PREFIX)).collect();
    format!("{shown}... ({length} chars)")
}

/// `text` with every one of `secrets` redacted (longest first, so that a
/// secret containing another is redacted whole).
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), &redact(secret)))
}

/// A request as `plan` shows it (credential headers redacted), and every
/// secret the demo knows redacted wherever else it appears.
fn scrub_request(mut request: ShownRequest, secrets: &[String]) -> ShownRequest {
    request.url = scrub(&request.url, secrets);
    for (_, value) in &mut request.headers {
        *value = scrub(value, secrets);
    }
    match &mut request.body {
        Body::Empty => {}
        Body::Form(pairs) => pairs.iter_mut().for_each(|(_, v)| *v = scrub(v, secrets)),
        Body::Text(text) => *text = scrub(text, secrets),
    }
    request
}

fn expiry(expires_at: Option<i64>) -> String {
    expires_at.map_or_else(|| "never".to_owned(), canned::rfc3339)
}

fn shown_credentials(credentials: &Credentials) -> Outcome {
    let expires_at = match credentials {
        Credentials::Registry(c) => c.expires_at,
        Credentials::Aws(c) => c.expires_at,
        Credentials::Git(c) => Some(c.expires_at),
        Credentials::RestConfig(c) => Some(c.expires_at),
        Credentials::AccessToken(c) => Some(c.expires_at),
    };
    let (kind, fields) = match credentials {
        Credentials::Registry(c) => (
            "registry credentials",
            vec![
                ("username", if c.username.is_empty() { "(anonymous)".to_owned() } else { c.username.clone() }),
                ("password", redact(&c.password)),
                ("expires", expiry(expires_at)),
            ],
        ),
        Credentials::Git(c) => (
            "Git credentials",
            vec![("username", c.username.clone()), ("password", redact(&c.password)), ("expires", expiry(expires_at))],
        ),
        Credentials::RestConfig(c) => (
            "REST config",
            vec![("host", c.host.clone()), ("token", redact(&c.bearer_token)), ("expires", expiry(expires_at))],
        ),
        Credentials::AccessToken(c) => {
            ("access token", vec![("token", redact(&c.token)), ("expires", expiry(expires_at))])
        }
        Credentials::Aws(c) => (
            "AWS credentials",
            vec![
                ("key id", c.access_key_id.clone()),
                ("secret", redact(&c.secret_access_key)),
                ("expires", expiry(expires_at)),
            ],
        ),
    };
    Outcome::Done { kind, fields, expires_at }
}

// ---------------------------------------------------------------- text

/// The demo as text.
pub fn text(demo: &Demo) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "cloudauth demo for {}", demo.target);
    let _ = writeln!(o);
    let _ = writeln!(o, "Target");
    match &demo.resolved {
        Err(e) => {
            let _ = writeln!(o, "  error      {e}");
        }
        Ok((provider, registry)) => {
            let _ = writeln!(o, "  provider   {provider}");
            let _ = writeln!(o, "  registry   {registry}");
            let _ = writeln!(o, "  identity   {}", demo.mode.name());
        }
    }
    if let Some(setup) = &demo.setup {
        let _ = writeln!(o);
        let _ = writeln!(o, "Fake settings (the demo sets these; none is real)");
        for line in &setup.lines {
            let _ = writeln!(o, "  {line}");
        }
        let _ = writeln!(
            o,
            "The cloud is fake too: canned answers, nothing goes over the network. Secrets are shown as \
             their first characters and length."
        );
    }
    for note in &demo.notes {
        let _ = writeln!(o, "note: {note}");
    }
    for run in &demo.runs {
        let _ = writeln!(o);
        run_text(o, run);
    }
    let _ = writeln!(o);
    for warning in &demo.warnings {
        let _ = writeln!(o, "warning: {warning}");
    }
    let from_cache = demo.runs.get(1).is_some_and(|run| run.from_cache);
    let verdict = match (demo.succeeded(), from_cache) {
        (true, true) => "The flow gave credentials, and the second session was served from the component's cache.",
        (true, false) => "The flow gave credentials, and the second session validated them again.",
        (false, _) if demo.resolved.is_err() => "The component could not resolve the target.",
        (false, _) => "The demo did not complete: see above.",
    };
    let _ = writeln!(o, "{verdict}");
    out
}

fn run_text(o: &mut String, run: &Run) {
    let _ = writeln!(o, "{}", run.title);
    if let Some(note) = &run.note {
        let _ = writeln!(o, "  ({note})");
    }
    for (n, event) in run.steps.iter().enumerate() {
        match event {
            Event::IdentityToken { request, account, token } => {
                let _ = writeln!(o, "  {}. fetch-identity-token", n + 1);
                let audience =
                    if request.audience.is_empty() { "(the API server's default)" } else { &request.audience };
                let _ = writeln!(o, "     audience        {audience}");
                if let Some((namespace, name)) = &request.service_account {
                    let _ = writeln!(o, "     service account {namespace}/{name}");
                }
                if let Some(file) = &request.file {
                    let _ = writeln!(o, "     file            {file}");
                }
                let _ = writeln!(o, "     -> a fake token of service account {account}: {token}");
            }
            Event::Http { request, response } => {
                let _ = writeln!(o, "  {}. send-http", n + 1);
                render::request_text(o, request);
                let content_type = response.content_type.as_deref().unwrap_or("no content type");
                let _ = writeln!(o, "     <- {} ({content_type}) {}", response.status, response.what);
                for line in response.body.lines() {
                    let _ = writeln!(o, "        {line}");
                }
            }
        }
    }
    match &run.outcome {
        Outcome::Done { kind, fields, .. } => {
            let _ = writeln!(o, "  => done: {kind}");
            for (name, value) in fields {
                let _ = writeln!(o, "     {name:<11} {value}");
            }
        }
        Outcome::Failed(e) => {
            let _ = writeln!(o, "  => failed: {e}");
        }
    }
    if let Some(key) = &run.cache_key {
        let _ = writeln!(o, "     {:<11} {key}", "cache key");
    }
    let _ = writeln!(o, "     {:<11} {}", "from cache", if run.from_cache { "yes" } else { "no" });
}

// ---------------------------------------------------------------- JSON

/// The demo as JSON, with the same content as the text.
pub fn json(demo: &Demo) -> Value {
    let resolved = match &demo.resolved {
        Ok((provider, registry)) => json!({"provider": provider, "registry": registry}),
        Err(e) => json!({"error": e}),
    };
    let setup = demo.setup.as_ref().map(|s| {
        let service_account = match &s.identity {
            Identity::ServiceAccount(sa) => {
                json!({"namespace": sa.namespace, "name": sa.name, "annotations": sa.annotations})
            }
            Identity::Controller => Value::Null,
        };
        json!({
            "environment": s.options.environment,
            "service_account": service_account,
            "object_level_workload_identity": s.options.object_level_workload_identity,
        })
    });
    json!({
        "target": demo.target,
        "identity": demo.mode.name(),
        "resolved": resolved,
        "settings": setup,
        "notes": demo.notes,
        "runs": demo.runs.iter().map(run_json).collect::<Vec<_>>(),
        "warnings": demo.warnings,
        "succeeded": demo.succeeded(),
    })
}

fn run_json(run: &Run) -> Value {
    let steps: Vec<Value> = run
        .steps
        .iter()
        .map(|event| match event {
            Event::IdentityToken { request, account, token } => json!({
                "step": "fetch-identity-token",
                "audience": request.audience,
                "service_account": request.service_account,
                "file": request.file,
                "minted_for": account,
                "token": token,
            }),
            Event::Http { request, response } => json!({
                "step": "send-http",
                "request": render::request_json(request),
                "response": {
                    "status": response.status,
                    "what": response.what,
                    "content_type": response.content_type,
                    "body": response.body,
                },
            }),
        })
        .collect();
    let outcome = match &run.outcome {
        Outcome::Done { kind, fields, .. } => {
            let fields: serde_json::Map<String, Value> =
                fields.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
            json!({"done": {"kind": kind, "credentials": fields}})
        }
        Outcome::Failed(e) => json!({"failed": e}),
    };
    json!({
        "title": run.title,
        "steps": steps,
        "outcome": outcome,
        "cache_key": run.cache_key,
        "from_cache": run.from_cache,
        "note": run.note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_show_a_short_prefix_and_their_length() {
        assert_eq!(redact("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.FAKE"), "eyJhbG... (38 chars)");
        assert_eq!(redact("hunter2"), "h... (7 chars)");
        assert_eq!(redact("abc"), "... (3 chars)");
        assert_eq!(redact(""), "(empty)");
        assert_eq!(redact("ééééééééééééééééééééééééééééé"), "éééééé... (29 chars)");
    }

    #[test]
    fn scrubbing_redacts_every_known_secret_whole() {
        let secrets = vec!["abcdefghijklmnop".to_owned(), "abcdefghijklmnopQRSTUVWX".to_owned(), String::new()];
        assert_eq!(
            scrub("a=abcdefghijklmnopQRSTUVWX&b=abcdefghijklmnop&c=x", &secrets),
            "a=abcdef... (24 chars)&b=abcd... (16 chars)&c=x"
        );
        let request = ShownRequest {
            method: "POST".into(),
            url: "https://h/p?t=abcdefghijklmnop".into(),
            headers: vec![("X-Token".into(), "abcdefghijklmnop".into())],
            body: Body::Form(vec![("client_assertion".into(), "abcdefghijklmnop".into())]),
        };
        let shown = scrub_request(request, &secrets);
        assert_eq!(shown.url, "https://h/p?t=abcd... (16 chars)");
        assert_eq!(shown.headers[0].1, "abcd... (16 chars)");
        assert!(matches!(&shown.body, Body::Form(pairs) if pairs[0].1 == "abcd... (16 chars)"));
    }

    #[test]
    fn identities_parse() {
        assert_eq!(IdentityMode::parse("controller"), Ok(IdentityMode::Controller));
        assert_eq!(IdentityMode::parse("service-account"), Ok(IdentityMode::ServiceAccount));
        assert!(IdentityMode::parse("root").is_err());
    }

    #[test]
    fn settings_per_provider() {
        let azure = fake_settings(Provider::Azure, IdentityMode::Controller);
        let names: Vec<&str> = azure.options.environment.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"]);
        assert!(!azure.options.object_level_workload_identity && !azure.options.skip_cache);

        let aws = fake_settings(Provider::Aws, IdentityMode::ServiceAccount);
        assert!(aws.options.object_level_workload_identity && aws.options.environment.is_empty());
        let Identity::ServiceAccount(sa) = &aws.identity else { panic!("a service account") };
        assert_eq!((sa.namespace.as_str(), sa.name.as_str()), SERVICE_ACCOUNT);
        assert_eq!(sa.annotations[0].0, "eks.amazonaws.com/role-arn");

        let gcp = fake_settings(Provider::Gcp, IdentityMode::ServiceAccount);
        let Identity::ServiceAccount(sa) = &gcp.identity else { panic!("a service account") };
        assert_eq!(
            sa.annotations[0],
            ("iam.gke.io/gcp-service-account".into(), "app@demo-project.iam.gserviceaccount.com".into())
        );
        assert!(matches!(fake_settings(Provider::Generic, IdentityMode::Controller).identity, Identity::Controller));
    }
}
