//! `session.request`: the request a controller-level session sends, for
//! credential sources that have no builder of their own in the WIT surface
//! (AWS container credentials, App Service managed identity, Entra client
//! secret, Actions OIDC). The session starts with `environment`, the
//! `answers` are handed over in order (`{"file": text | null}` for a
//! `read-file` step, `{"status", "body"}` for a `send-http` step,
//! `{"token"}` for `fetch-identity-token`), and the next step must be the
//! expected request, or the start or an answer fails with the expected error.

use serde_json::Value;

use super::{called, request as built, unknown_name};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::session::{GithubApp, Identity, Options, SessionRequest, Step, Target};
use crate::support::api::types::{self, HttpResponse, Provider};

fn provider(name: &str) -> Result<Provider, Stop> {
    match name {
        "azure" => Ok(Provider::Azure),
        "aws" => Ok(Provider::Aws),
        "gcp" => Ok(Provider::Gcp),
        "generic" => Ok(Provider::Generic),
        other => Err(unknown_name("provider", other, &["azure", "aws", "gcp", "generic"])),
    }
}

pub fn request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["provider", "scopes", "registry", "github_app", "environment", "answers"])?;
    let target = match (input.opt_str("registry")?, input.opt_str("provider")?, input.opt_object("github_app")?) {
        (Some(reference), None, None) => Target::Registry(reference),
        (None, Some(p), None) => Target::AccessToken((provider(&p)?, input.opt_strings("scopes")?)),
        (None, None, Some(app)) => Target::GithubApp(github_app(app)?),
        _ => return Err(Stop::Fail("give exactly one of input.registry, input.provider and input.github_app".into())),
    };
    let environment = input
        .opt_object("environment")?
        .map(|m| {
            m.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(Stop::Fail(format!("input.environment.{k} is not a string"))),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let now = input.opt_i64("now")?.unwrap_or(0);
    let session_request = SessionRequest {
        target,
        identity: Identity::Controller,
        options: Options {
            environment,
            azure_environment: None,
            sts_endpoint: None,
            object_level_workload_identity: false,
            registry_username: None,
            registry_password: None,
            trusted_realm_hosts: Vec::new(),
            skip_cache: true,
            rules: None,
        },
        now,
    };
    let api = i.api.cloudauth_auth_session();
    let s = match api.session().call_start(&mut i.store, &session_request) {
        Err(trap) => return Err(Stop::Fail(format!("the component trapped: {trap:#}"))),
        Ok(Err(e)) => return called::<()>(Ok(Err(e)), |_| unreachable!()),
        Ok(Ok(s)) => s,
    };
    let answers = match input.opt_value("answers") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(Stop::Fail("input.answers is not a list".into())),
    };
    for answer in &answers {
        let result = if let Some(file) = answer.get("file") {
            let contents = file.as_str().map(str::as_bytes);
            api.session().call_receive_file(&mut i.store, s, contents, now)
        } else if let Some(token) = answer.get("token").and_then(Value::as_str) {
            api.session().call_receive_identity_token(&mut i.store, s, token, now)
        } else {
            let status = answer.get("status").and_then(Value::as_u64).and_then(|n| u16::try_from(n).ok());
            let body = answer.get("body").and_then(Value::as_str);
            let (Some(status), Some(body)) = (status, body) else {
                return Err(Stop::Fail(format!("answer {answer} is not a file, token or response")));
            };
            let response = HttpResponse { status, headers: Vec::new(), body: body.as_bytes().to_vec() };
            api.session().call_receive_http(&mut i.store, s, &response, now)
        };
        match result {
            Err(trap) => return Err(Stop::Fail(format!("the component trapped: {trap:#}"))),
            Ok(Err(e)) => return called::<()>(Ok(Err(e)), |_| unreachable!()),
            Ok(Ok(())) => {}
        }
    }
    match api.session().call_next(&mut i.store, s) {
        Err(trap) => Err(Stop::Fail(format!("the component trapped: {trap:#}"))),
        Ok(Step::SendHttp(r)) => Ok(built(r)),
        Ok(Step::Failed(e)) => called::<types::HttpRequest>(Ok(Err(e)), built),
        Ok(other) => Err(Stop::Fail(format!("the next step is not send-http: {}", step_name(&other)))),
    }
}

/// `input.github_app`: `{url, app_id, installation_id?, installation_owner?, private_key, base_url?}`.
fn github_app(app: &serde_json::Map<String, Value>) -> Result<GithubApp, Stop> {
    if let Some(unknown) = app.keys().find(|k| {
        !["url", "app_id", "installation_id", "installation_owner", "private_key", "base_url"].contains(&k.as_str())
    }) {
        return Err(Stop::Fail(format!("input.github_app.{unknown} is not a field of the op")));
    }
    let opt = |k: &str| -> Result<Option<String>, Stop> {
        match app.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Stop::Fail(format!("input.github_app.{k} is not a string"))),
        }
    };
    let req = |k: &str| opt(k)?.ok_or_else(|| Stop::Fail(format!("input.github_app.{k} is missing")));
    Ok(GithubApp {
        url: req("url")?,
        app_id: req("app_id")?,
        installation_id: opt("installation_id")?,
        installation_owner: opt("installation_owner")?,
        private_key: req("private_key")?,
        base_url: opt("base_url")?,
    })
}

fn step_name(step: &Step) -> String {
    match step {
        Step::SendHttp(_) => "send-http".into(),
        Step::FetchIdentityToken(r) => format!("fetch-identity-token {r:?}"),
        Step::ReadFile(p) => format!("read-file {p}"),
        Step::Done(_) => "done".into(),
        Step::Failed(_) => "failed".into(),
    }
}
