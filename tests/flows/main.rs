//! Flow tests: complete sessions driven step by step through the built
//! component (wasmtime), for every flow and identity mode.
//!
//! Each scenario checks every emitted request against the matching
//! conformance case's expectation where one exists (the same comparison the
//! conformance runner makes), answers with the cases' captured responses,
//! and checks the outcome; at every step it also hands over input of the
//! wrong kind and checks it is refused without changing the session. Each
//! scenario is then replayed with a failure at each step in turn (401, 403,
//! 500, 503, a malformed body, an expired or empty identity token). Further
//! tests cover start errors with Flux's texts, routing safety and the cache.
//!
//! One module per provider's scenarios (`azure`, `aws`, `gcp`, `generic`,
//! `clusters`) and per concern (`start_errors`, `routing`, `cache`,
//! `explain`); `driver` runs a scenario, `cases` loads the conformance cases.

#[path = "../support/mod.rs"]
mod support;

#[allow(dead_code)]
mod cases;
#[allow(dead_code)]
#[path = "../conformance/compare.rs"]
mod compare;
#[allow(dead_code)]
mod driver;

mod aws;
mod azure;
mod cache;
mod clusters;
mod explain;
mod gcp;
mod generic;
mod routing;
mod start_errors;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use aws::*;
use azure::*;
use clusters::*;
use driver::{Exchange, Host, Outcome, Scenario, check_request, jwt, kind, message, response};
use gcp::*;
use generic::*;
use support::api::session::{
    Cluster, Credentials, GitCredentials, Identity, Options, RestConfig, ServiceAccount, SessionRequest, Step, Target,
};
use support::api::types::{AccessToken, AwsCredentials, HttpResponse, Provider, RegistryCredentials};

const NOW: i64 = 1_705_320_000;
/// 2100-01-01, the expiry of the cases' tokens.
const FAR: i64 = 4_102_444_800;

// ---------------------------------------------------------------- inputs

fn options(env: &[(&str, &str)]) -> Options {
    Options { object_level_workload_identity: true, ..support::session_options(env) }
}

fn sa(namespace: &str, name: &str, annotations: &[(&str, &str)]) -> Identity {
    Identity::ServiceAccount(ServiceAccount {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        annotations: annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    })
}

fn registry(reference: &str, identity: Identity, options: Options) -> SessionRequest {
    SessionRequest { target: Target::Registry(reference.to_owned()), identity, options, now: NOW }
}

fn access_token(provider: Provider, scopes: &[&str], identity: Identity, options: Options) -> SessionRequest {
    SessionRequest {
        target: Target::AccessToken((provider, scopes.iter().map(|s| (*s).to_owned()).collect())),
        identity,
        options,
        now: NOW,
    }
}

fn scenario(name: &'static str, request: SessionRequest, exchanges: Vec<Exchange>, outcome: Outcome) -> Scenario {
    Scenario { name, request, exchanges, outcome, now: NOW }
}

fn json_field(body: &str, field: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("case body is JSON");
    v[field].as_str().unwrap_or_else(|| panic!("no {field} in {body}")).to_owned()
}

/// Replaces the value of a form field of an expected request.
fn with_form(mut request: Value, field: &str, value: &str) -> Value {
    for pair in request["form"].as_array_mut().expect("form") {
        if pair[0] == field {
            pair[1] = json!(value);
        }
    }
    request
}

fn registry_credentials(username: &str, password: &str, expires_at: Option<i64>) -> Credentials {
    Credentials::Registry(RegistryCredentials {
        username: username.to_owned(),
        password: password.to_owned(),
        expires_at,
    })
}

fn all_scenarios() -> Vec<Scenario> {
    let mut all = azure_scenarios();
    all.extend(cluster_scenarios());
    all.extend(aws_scenarios());
    all.extend(gcp_scenarios());
    all.extend(generic_scenarios());
    all
}

#[test]
fn flows_run_step_by_step() {
    let all = all_scenarios();
    assert!(all.len() >= 30, "{} scenarios", all.len());
    for s in &all {
        s.run();
    }
}

#[test]
fn flows_fail_at_each_step() {
    for s in all_scenarios() {
        s.run_failures();
    }
}
