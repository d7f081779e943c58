//! The error-length bound, through the built component: every error message
//! is at most 4096 bytes, whatever the input, and has no raw control
//! character.
//!
//! Errors quote the caller's offending value (a host, a header name, an
//! ARN), so the bound only holds if each quote is cut, and cut after
//! escaping: `{:?}` turns one DEL byte into six characters and a `"` into
//! two, so a 700-byte header name once made a 4100-byte message.
//!
//! Every request builder of the WIT (the list in `tests/builders`) and
//! `session.start` get, in each string parameter in turn, long hostile
//! values: runs of DEL, quotes, backslashes, control characters,
//! zero-width and multi-byte characters, alone, after the valid value and
//! before it (so that the value passes the early checks and reaches the
//! later ones), and a 1 MiB value.

#[allow(dead_code)]
mod builders;
mod support;

use builders::{Builder, builders};
use support::Instance;
use support::api::session::{Cluster, Identity, Options, ServiceAccount, SessionRequest, Step, Target};
use support::api::types::{AzureEnvironment, Error as WitError, Provider};

/// The documented bound on an error's text.
const MAX_ERROR_MESSAGE: usize = 4096;

/// Long hostile values: each escapes to several bytes per input byte.
fn hostile_values() -> Vec<(&'static str, String)> {
    vec![
        ("DEL", "\u{7f}".repeat(5000)),
        ("quotes", "\"".repeat(5000)),
        ("backslashes", "\\".repeat(5000)),
        ("control characters", "\u{1}\r\n\u{1b}[31m".repeat(1000)),
        ("zero-width spaces", "\u{200b}".repeat(3000)),
        ("combining marks", "\u{301}".repeat(3000)),
        ("multi-byte text", "é中😀'".repeat(2000)),
        ("C1 controls", "\u{85}\u{9f}".repeat(2000)),
        ("an https:// URL of quotes", format!("https://{}", "\"".repeat(2100))),
        ("an https:// URL of DEL", format!("https://{}/x", "\u{7f}".repeat(3000))),
        ("a long host", format!("https://{}.example.com", "a".repeat(5000))),
        ("a long label list", format!("{}example.com", "a.".repeat(3000))),
    ]
}

/// The inputs tried for one parameter whose valid value is `valid`.
fn variants(valid: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in hostile_values() {
        out.push((name.to_owned(), value.clone()));
        out.push((format!("valid value, then {name}"), format!("{valid}{value}")));
        out.push((format!("{name}, then the valid value"), format!("{value}{valid}")));
    }
    out.push(("1 MiB of DEL".into(), "\u{7f}".repeat(1 << 20)));
    out
}

fn error_text(error: &WitError) -> String {
    match error {
        WitError::InvalidInput(m) | WitError::Unsupported(m) | WitError::MalformedResponse(m) => m.clone(),
        WitError::HttpStatus(e) => format!("{} {}", e.code.as_deref().unwrap_or_default(), e.message),
    }
}

/// Calls and the rules they broke.
#[derive(Default)]
struct Tally {
    calls: usize,
    errors: usize,
    longest: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, label: &str, error: &WitError) {
        let text = error_text(error);
        self.errors += 1;
        self.longest = self.longest.max(text.len());
        if text.len() > MAX_ERROR_MESSAGE {
            let head: String = text.chars().take(120).collect();
            self.failures.push(format!("{label}: an error of {} bytes: {head:?}...", text.len()));
        } else if text.trim().is_empty() {
            self.failures.push(format!("{label}: an empty error"));
        } else if text.chars().any(|c| c.is_control() && c != '\t') {
            let head: String = text.chars().take(200).collect();
            self.failures.push(format!("{label}: an error with a raw control character: {head:?}"));
        }
    }

    fn finish(self, test: &str) {
        println!("{test}: {} calls, {} errors, longest error {} bytes", self.calls, self.errors, self.longest);
        assert!(self.calls > 0 && self.errors > 0, "{test}: nothing was tried");
        let shown: Vec<&String> = self.failures.iter().take(40).collect();
        assert!(self.failures.is_empty(), "{test}: {} failures:\n{shown:#?}", self.failures.len());
    }
}

/// A trap poisons the instance; a fresh one replaces it so the test goes on.
fn call<T>(
    instance: &mut Instance,
    tally: &mut Tally,
    label: &str,
    f: impl FnOnce(&mut Instance) -> wasmtime::Result<T>,
) -> Option<T> {
    tally.calls += 1;
    match f(instance) {
        Ok(v) => Some(v),
        Err(e) => {
            tally.failures.push(format!("{label}: trapped: {e:#}"));
            *instance = support::instantiate();
            None
        }
    }
}

/// Every builder, every parameter, every hostile variant.
#[test]
fn builder_errors_are_bounded_whatever_the_input() {
    let mut instance = support::instantiate();
    let mut tally = Tally::default();
    for Builder { name, params, call: build } in builders() {
        for (i, (param, valid)) in params.iter().enumerate() {
            for (what, value) in variants(valid) {
                let mut values: Vec<String> = params.iter().map(|(_, v)| (*v).to_owned()).collect();
                values[i] = value;
                let label = format!("{name}, {param}: {what}");
                if let Some(Err(e)) = call(&mut instance, &mut tally, &label, |i| build(i, &values)) {
                    tally.check(&label, &e);
                }
            }
        }
    }
    tally.finish("builder_errors_are_bounded_whatever_the_input");
}

/// The issue's reproducers, kept as they were found: a header name of 675
/// DEL bytes (sign-request, 4100 bytes before) and `https://` followed by
/// 2100 quotes (a host, 4247 bytes before).
#[test]
fn reported_reproducers_stay_bounded() {
    let mut instance = support::instantiate();
    let mut tally = Tally::default();
    let builders = builders();
    let find = |name: &str| builders.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("no builder {name}"));
    let sign = find("sigv4.sign-request");
    let mut values: Vec<String> = sign.params.iter().map(|(_, v)| (*v).to_owned()).collect();
    values[2] = "\u{7f}".repeat(675);
    match call(&mut instance, &mut tally, "sign-request", |i| (sign.call)(i, &values)) {
        Some(Err(e)) => tally.check("sign-request with a DEL header name", &e),
        _ => panic!("a header name of DEL bytes was not refused"),
    }
    let entra = find("azure.entra-token-request (authority host)");
    let mut values: Vec<String> = entra.params.iter().map(|(_, v)| (*v).to_owned()).collect();
    values[0] = format!("https://{}", "\"".repeat(2100));
    match call(&mut instance, &mut tally, "entra-token-request", |i| (entra.call)(i, &values)) {
        Some(Err(e)) => {
            tally.check("entra-token-request with a host of quotes", &e);
            // The message still names the value, cut.
            assert!(error_text(&e).contains(r#"\"\"\""#), "{}", error_text(&e));
        }
        _ => panic!("a host of quotes was not refused"),
    }
    tally.finish("reported_reproducers_stay_bounded");
}

// ------------------------------------------------------------------ session

fn options() -> Options {
    Options { object_level_workload_identity: true, ..support::session_options(&[]) }
}

fn sa(annotations: Vec<(String, String)>) -> Identity {
    Identity::ServiceAccount(ServiceAccount { namespace: "apps".into(), name: "puller".into(), annotations })
}

fn registry(reference: &str, identity: Identity, options: Options) -> SessionRequest {
    SessionRequest { target: Target::Registry(reference.into()), identity, options, now: builders::NOW }
}

fn cluster(provider: Provider, resource_id: &str, address: Option<String>) -> SessionRequest {
    SessionRequest {
        target: Target::Cluster(Cluster { provider, resource_id: resource_id.into(), address, ca_data: None }),
        identity: Identity::Controller,
        options: options(),
        now: builders::NOW,
    }
}

const ECR: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v1";
const ACR: &str = "myreg.azurecr.io/app:v1";
const GAR: &str = "us-docker.pkg.dev/proj/repo/app:v1";

/// Session requests with `v` in one caller-given field each, every field a
/// session quotes in an error somewhere.
fn session_requests(v: &str) -> Vec<(&'static str, SessionRequest)> {
    let with_env = |pairs: &[(&str, &str)]| {
        let mut o = options();
        o.environment = pairs.iter().map(|(k, x)| (k.to_string(), x.to_string())).collect();
        o
    };
    let generic = |trusted: Vec<String>| {
        let mut o = options();
        o.registry_username = Some("robot".into());
        o.registry_password = Some("pw".into());
        o.trusted_realm_hosts = trusted;
        o
    };
    let a = |k: &str, x: &str| vec![(k.to_owned(), x.to_owned())];
    vec![
        ("registry reference", registry(v, Identity::Controller, generic(vec![]))),
        (
            "registry reference (ACR prefix)",
            registry(&format!("myreg.azurecr.io/{v}"), Identity::Controller, options()),
        ),
        ("trusted realm host", registry("registry.example.com/app", Identity::Controller, generic(vec![v.into()]))),
        (
            "Git URL",
            SessionRequest {
                target: Target::Git(v.into()),
                identity: Identity::Controller,
                options: options(),
                now: builders::NOW,
            },
        ),
        (
            "Git URL (https)",
            SessionRequest {
                target: Target::Git(format!("https://dev.azure.com/{v}")),
                identity: Identity::Controller,
                options: options(),
                now: builders::NOW,
            },
        ),
        (
            "access-token scope",
            SessionRequest {
                target: Target::AccessToken((Provider::Gcp, vec![v.into()])),
                identity: Identity::Controller,
                options: options(),
                now: builders::NOW,
            },
        ),
        ("EKS cluster ARN", cluster(Provider::Aws, v, None)),
        ("AKS cluster ID", cluster(Provider::Azure, v, None)),
        ("GKE cluster name", cluster(Provider::Gcp, v, None)),
        ("cluster address", cluster(Provider::Gcp, "projects/p/locations/us-central1/clusters/c", Some(v.into()))),
        ("environment variable name", registry(ECR, Identity::Controller, with_env(&[(v, "x")]))),
        ("AWS_REGION", registry("public.ecr.aws/app:v1", Identity::Controller, with_env(&[("AWS_REGION", v)]))),
        (
            "AWS_ROLE_ARN",
            registry(
                ECR,
                Identity::Controller,
                with_env(&[("AWS_ROLE_ARN", v), ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")]),
            ),
        ),
        (
            "AWS_ROLE_SESSION_NAME",
            registry(
                ECR,
                Identity::Controller,
                with_env(&[
                    ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                    ("AWS_ROLE_SESSION_NAME", v),
                ]),
            ),
        ),
        ("AZURE_AUTHORITY_HOST", registry(ACR, Identity::Controller, with_env(&[("AZURE_AUTHORITY_HOST", v)]))),
        ("AZURE_CLIENT_ID", registry(ACR, Identity::Controller, with_env(&[("AZURE_CLIENT_ID", v)]))),
        ("AWS_USE_FIPS_ENDPOINT", registry(ECR, Identity::Controller, with_env(&[("AWS_USE_FIPS_ENDPOINT", v)]))),
        (
            "sts-endpoint",
            registry(ECR, Identity::Controller, {
                let mut o = options();
                o.sts_endpoint = Some(v.into());
                o
            }),
        ),
        (
            "registry DNS suffix",
            registry(ACR, Identity::Controller, {
                let mut o = options();
                o.azure_environment = Some(AzureEnvironment {
                    resource_manager_endpoint: None,
                    token_audience: None,
                    container_registry_dns_suffix: Some(v.into()),
                });
                o
            }),
        ),
        ("annotation name", registry(ECR, sa(a(v, "x")), options())),
        ("role-arn annotation", registry(ECR, sa(a("eks.amazonaws.com/role-arn", v)), options())),
        (
            "tenant-id annotation",
            registry(
                ACR,
                sa(vec![
                    ("azure.workload.identity/tenant-id".into(), v.into()),
                    ("azure.workload.identity/client-id".into(), "0d0e0a0d-beef-4000-8000-00000000c1d0".into()),
                ]),
                options(),
            ),
        ),
        ("gcp-service-account annotation", registry(GAR, sa(a("iam.gke.io/gcp-service-account", v)), options())),
        (
            "workload-identity-provider annotation",
            registry(GAR, sa(a("gcp.auth.fluxcd.io/workload-identity-provider", v)), options()),
        ),
        (
            "service account namespace",
            registry(
                ECR,
                Identity::ServiceAccount(ServiceAccount {
                    namespace: v.into(),
                    name: "puller".into(),
                    annotations: vec![],
                }),
                options(),
            ),
        ),
    ]
}

/// `session.start` with each caller-given field made hostile; a session
/// that starts must not fail later with an unbounded error either.
#[test]
fn session_errors_are_bounded_whatever_the_input() {
    let mut instance = support::instantiate();
    let mut tally = Tally::default();
    for (name, value) in hostile_values().into_iter().chain([("1 MiB of DEL", "\u{7f}".repeat(1 << 20))]) {
        for (field, request) in session_requests(&value) {
            let label = format!("session.start, {field}: {name}");
            let started = call(&mut instance, &mut tally, &label, |i| {
                i.api.cloudauth_auth_session().session().call_start(&mut i.store, &request)
            });
            match started {
                Some(Err(e)) => tally.check(&label, &e),
                Some(Ok(session)) => {
                    let step = call(&mut instance, &mut tally, &label, |i| {
                        i.api.cloudauth_auth_session().session().call_next(&mut i.store, session)
                    });
                    if let Some(Step::Failed(e)) = step {
                        tally.check(&label, &e);
                    }
                    let _ = session.resource_drop(&mut instance.store);
                }
                None => {}
            }
        }
    }
    tally.finish("session_errors_are_bounded_whatever_the_input");
}
