//! The ops of SPEC.md's tables, each mapped onto its typed WIT call.
//!
//! An op reads its case's `input` into the WIT types, calls the component,
//! and turns the result into an [`Actual`]: the request it built, an output
//! object with SPEC's field names, or the error it returned. A trap is a
//! FAIL, never a panic.

mod aws;
mod azure;
mod gcp;
mod kubernetes;
mod oci;
mod policy;
mod registry;
mod session;

use serde_json::{Value, json};

use crate::case::{Input, Stop};
use crate::compare::{Actual, Request};
use crate::support::Instance;
use crate::support::api::types;

/// What an op does with a case's input.
type Run = fn(&Input, &mut Instance) -> Result<Actual, Stop>;

/// Every op SPEC.md defines. A case file naming any other op fails.
const OPS: &[(&str, Run)] = &[
    ("azure.entra-token.request", azure::entra_token_request),
    ("azure.entra-token.response", azure::entra_token_response),
    ("azure.imds-token.request", azure::imds_token_request),
    ("azure.imds-token.response", azure::imds_token_response),
    ("azure.acr-exchange.request", azure::acr_exchange_request),
    ("azure.acr-exchange.response", azure::acr_exchange_response),
    ("azure.acr-token.request", azure::acr_token_request),
    ("azure.acr-token.response", azure::acr_token_response),
    ("aws.sts-web-identity.request", aws::sts_web_identity_request),
    ("aws.sts-web-identity.response", aws::sts_web_identity_response),
    ("aws.ecr-token.request", aws::ecr_token_request),
    ("aws.ecr-token.response", aws::ecr_token_response),
    ("aws.eks-token", aws::eks_token),
    ("aws.endpoint", aws::endpoint),
    ("aws.codecommit-credentials", aws::codecommit_credentials),
    ("gcp.sts-exchange.request", gcp::sts_exchange_request),
    ("gcp.sts-exchange.response", gcp::sts_exchange_response),
    ("gcp.impersonation.request", gcp::impersonation_request),
    ("gcp.impersonation.response", gcp::impersonation_response),
    ("gcp.metadata-token.request", gcp::metadata_token_request),
    ("gcp.metadata-token.response", gcp::metadata_token_response),
    ("kubernetes.token-request.request", kubernetes::token_request_request),
    ("kubernetes.token-request.response", kubernetes::token_request_response),
    ("oci.challenge", oci::challenge),
    ("oci.token.request", oci::token_request),
    ("oci.token.response", oci::token_response),
    ("registry.resolve", registry::resolve),
    ("registry.scope", registry::scope),
    ("session.request", session::request),
    ("policy.explain", policy::explain),
    ("policy.evaluate", policy::evaluate),
];

/// The op's runner, if the op is known.
pub fn find(op: &str) -> Option<Run> {
    OPS.iter().find(|(name, _)| *name == op).map(|(_, run)| *run)
}

/// The names of all ops, for messages.
pub fn names() -> impl Iterator<Item = &'static str> {
    OPS.iter().map(|(name, _)| *name)
}

// ------------------------------------------------ shared input mapping

/// The `now`, `status`, `headers?` and `body` of a response op. `now` is
/// read by the ops that take it.
pub(crate) fn response(input: &Input) -> Result<types::HttpResponse, Stop> {
    let status = input.i64("status")?;
    let status = u16::try_from(status).map_err(|_| crate::case::out_of_range("status", status, "u16"))?;
    Ok(types::HttpResponse { status, headers: input.headers("headers")?, body: input.str("body")?.into_bytes() })
}

/// The fields of a response op, `now` aside.
pub(crate) const RESPONSE_FIELDS: &[&str] = &["status", "headers", "body"];

/// An unknown name for a WIT enum: a typed host cannot make the call.
pub(crate) fn unknown_name(field: &str, name: &str, known: &[&str]) -> Stop {
    Stop::Inexpressible(format!("input.{field} {name:?} is not one of {}", known.join(", ")))
}

// ------------------------------------------------ shared result mapping

/// Maps a component call's result. A trap is a FAIL; a WIT error becomes
/// [`Actual::Error`]; a success goes through `output`.
pub(crate) fn called<T>(
    result: wasmtime::Result<Result<T, types::Error>>,
    output: impl FnOnce(T) -> Actual,
) -> Result<Actual, Stop> {
    match result {
        Err(trap) => Err(Stop::Fail(format!("the component trapped: {trap:#}"))),
        Ok(Err(error)) => Ok(error_of(error)),
        Ok(Ok(value)) => Ok(output(value)),
    }
}

fn error_of(error: types::Error) -> Actual {
    let (kind, code, message) = match error {
        types::Error::InvalidInput(m) => ("invalid-input", None, m),
        types::Error::Unsupported(m) => ("unsupported", None, m),
        types::Error::HttpStatus(e) => ("http-status", e.code, format!("status {}: {}", e.status, e.message)),
        types::Error::MalformedResponse(m) => ("malformed-response", None, m),
    };
    Actual::Error { kind, code, message }
}

pub(crate) fn request(r: types::HttpRequest) -> Actual {
    Actual::Request(Request { method: r.method, url: r.url, headers: r.headers, body: r.body })
}

/// A token as `{access_token, expires_at}` (OAuth2-style ops).
pub(crate) fn access_token(t: types::AccessToken) -> Actual {
    Actual::Output(json!({"access_token": t.token, "expires_at": t.expires_at}))
}

/// A token as `{token, expires_at}` (OCI, Kubernetes, EKS).
pub(crate) fn token(t: types::AccessToken) -> Actual {
    Actual::Output(json!({"token": t.token, "expires_at": t.expires_at}))
}

pub(crate) fn registry_credentials(c: types::RegistryCredentials) -> Actual {
    Actual::Output(json!({"username": c.username, "password": c.password, "expires_at": c.expires_at}))
}

pub(crate) fn aws_credentials(c: types::AwsCredentials) -> Actual {
    Actual::Output(json!({
        "access_key_id": c.access_key_id,
        "secret_access_key": c.secret_access_key,
        "session_token": c.session_token,
        "expires_at": c.expires_at,
    }))
}

pub(crate) fn output(value: Value) -> Actual {
    Actual::Output(value)
}
