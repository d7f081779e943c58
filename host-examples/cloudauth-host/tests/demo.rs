//! The `demo` command: complete flows against the fake cloud, for each kind
//! of registry and both identities, run as a newcomer would run them.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// Builds the component once for all tests (the same code as `cargo xtask build`).
fn component() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match cloudauth_build::build_component() {
        Ok(path) => path,
        Err(e) => panic!("building the component failed: {e}"),
    })
}

fn host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudauth-host"))
        .env_remove("CLOUDAUTH_WASM")
        .arg("--component")
        .arg(component())
        .args(args)
        .output()
        .expect("the cloudauth-host binary runs")
}

/// Runs a command that must succeed, and returns its output, checked for leaks.
fn succeeds(args: &[&str]) -> String {
    let output = host(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?} exited with {}: {}\n{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_no_secret(&stdout);
    stdout
}

/// No secret of the fake cloud appears unredacted. Each one contains `FAKE`
/// past the few characters shown, and the secrets whose shape gives them a
/// known start (JWTs, Google tokens, the ECR authorization token, the STS
/// secret key and session token) appear only as that start and `... (`.
fn assert_no_secret(out: &str) {
    assert!(!out.contains("FAKE"), "a secret leaked:\n{out}");
    for start in ["eyJ", "ya29.", "QVdTO", "IQoJb3", "demoSe"] {
        for (at, _) in out.match_indices(start) {
            let rest = out.get(at..).unwrap_or_default();
            let redacted = rest.find("... (").is_some_and(|end| end <= 6);
            assert!(redacted, "unredacted {start}...: {}", rest.chars().take(60).collect::<String>());
        }
    }
    for line in out.lines().filter(|l| l.contains("Signature=")) {
        assert!(line.contains("Signature=<signature>"), "{line}");
    }
}

fn assert_contains(out: &str, wanted: &str) {
    assert!(out.contains(wanted), "output lacks {wanted:?}:\n{out}");
}

/// A step in one line: `token <audience> <whose>` or `<METHOD> <url without query>`.
fn step_line(step: &Value) -> String {
    match step["step"].as_str() {
        Some("fetch-identity-token") => {
            let whose = match (&step["service_account"], &step["file"]) {
                (Value::Array(sa), _) => {
                    format!("sa {}/{}", sa[0].as_str().unwrap_or("?"), sa[1].as_str().unwrap_or("?"))
                }
                (_, Value::String(file)) => format!("file {file}"),
                _ => "host".to_owned(),
            };
            format!("token {} {whose}", step["audience"].as_str().unwrap_or("?"))
        }
        Some("send-http") => {
            let url = step["request"]["url"].as_str().unwrap_or("?");
            format!("{} {}", step["request"]["method"].as_str().unwrap_or("?"), url.split('?').next().unwrap_or(url))
        }
        other => panic!("unknown step {other:?}"),
    }
}

/// What the second session of a demo does.
#[derive(PartialEq)]
enum Second {
    /// It is served from the cache: no step.
    FromCache,
    /// The credentials never expire, so it is not cached: the same steps again.
    Again,
}

/// Runs the demo in JSON and checks it: the steps of the first session, its
/// user name, and the second session, with the same cache key.
fn demo(target: &str, identity: &str, steps: &[&str], username: &str, second_is: Second) -> Value {
    let out = succeeds(&["--json", "demo", target, "--identity", identity]);
    let demo: Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(demo["succeeded"], true, "{out}");
    assert_eq!(demo["warnings"], Value::Array(Vec::new()), "{out}");
    let runs = demo["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "{out}");
    let (first, second) = (&runs[0], &runs[1]);

    let actual: Vec<String> = first["steps"].as_array().expect("steps").iter().map(step_line).collect();
    assert_eq!(actual, steps, "{target} as {identity}");
    for step in first["steps"].as_array().into_iter().flatten().filter(|s| s["step"] == "send-http") {
        let status = step["response"]["status"].as_u64().unwrap_or(0);
        assert!(status == 200 || (status == 401 && step_line(step).ends_with("/v2/")), "{step}");
    }
    let credentials = &first["outcome"]["done"]["credentials"];
    assert_eq!(credentials["username"], username, "{out}");
    let expires = credentials["expires"].as_str().unwrap_or_default();
    if second_is == Second::FromCache {
        assert!(expires.len() == 20 && expires.ends_with('Z') && expires.as_bytes()[10] == b'T', "{expires}");
        assert_eq!(second["from_cache"], true, "{out}");
        assert_eq!(second["steps"], Value::Array(Vec::new()), "no request, no token from the cache");
    } else {
        assert_eq!(expires, "never");
        assert_eq!(second["from_cache"], false, "{out}");
        assert_eq!(second["steps"], first["steps"], "the same steps again");
    }
    assert_eq!(first["from_cache"], false);
    assert_eq!(second["outcome"], first["outcome"], "the same credentials");
    let key = first["cache_key"].as_str().unwrap_or_default();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_eq!(second["cache_key"], first["cache_key"]);
    demo
}

const ACR: &str = "myregistry.azurecr.io/app:v1";
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";
const ECR_PUBLIC: &str = "public.ecr.aws/x/y";
const GAR: &str = "europe-docker.pkg.dev/p/r/app";
const GENERIC: &str = "ghcr.io/o/app";

const ENTRA: &str = "POST https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-000000000001/oauth2/v2.0/token";
const ACR_EXCHANGE: &str = "POST https://myregistry.azurecr.io/oauth2/exchange";
const ACR_USER: &str = "00000000-0000-0000-0000-000000000000";
const STS: &str = "POST https://sts.us-east-1.amazonaws.com/";
const METADATA: &str = "GET http://metadata.google.internal/computeMetadata/v1";

#[test]
fn acr_as_the_controller() {
    let demo = demo(
        ACR,
        "controller",
        &[
            "token api://AzureADTokenExchange file /var/run/secrets/azure/tokens/azure-identity-token",
            ENTRA,
            ACR_EXCHANGE,
        ],
        ACR_USER,
        Second::FromCache,
    );
    let environment = demo["settings"]["environment"].to_string();
    for name in ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] {
        assert_contains(&environment, name);
    }
    assert_eq!(demo["settings"]["object_level_workload_identity"], false);
}

#[test]
fn acr_as_a_service_account() {
    let demo = demo(
        ACR,
        "service-account",
        &["token api://AzureADTokenExchange sa default/app", ENTRA, ACR_EXCHANGE],
        ACR_USER,
        Second::FromCache,
    );
    assert_eq!(demo["settings"]["service_account"]["name"], "app");
    assert_eq!(demo["settings"]["object_level_workload_identity"], true);
    assert_contains(
        &demo["settings"]["service_account"]["annotations"].to_string(),
        "azure.workload.identity/client-id",
    );
}

#[test]
fn ecr_as_the_controller() {
    demo(
        ECR,
        "controller",
        &[
            "token sts.amazonaws.com file /var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            STS,
            "POST https://api.ecr.us-east-1.amazonaws.com/",
        ],
        "AWS",
        Second::FromCache,
    );
}

#[test]
fn ecr_as_a_service_account() {
    let demo = demo(
        ECR,
        "service-account",
        &["token sts.amazonaws.com sa default/app", STS, "POST https://api.ecr.us-east-1.amazonaws.com/"],
        "AWS",
        Second::FromCache,
    );
    // Flux's role session name for a service account.
    let sts = &demo["runs"][0]["steps"][1]["request"]["body"]["form"];
    assert_contains(&sts.to_string(), r#"["RoleSessionName","app.default.us-east-1.fluxcd.io"]"#);
}

#[test]
fn ecr_public_as_the_controller() {
    demo(
        ECR_PUBLIC,
        "controller",
        &[
            "token sts.amazonaws.com file /var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            STS,
            "POST https://api.ecr-public.us-east-1.amazonaws.com/",
        ],
        "AWS",
        Second::FromCache,
    );
}

#[test]
fn ecr_public_as_a_service_account() {
    demo(
        ECR_PUBLIC,
        "service-account",
        &["token sts.amazonaws.com sa default/app", STS, "POST https://api.ecr-public.us-east-1.amazonaws.com/"],
        "AWS",
        Second::FromCache,
    );
}

#[test]
fn gar_as_the_controller() {
    let token = format!("{METADATA}/instance/service-accounts/default/token");
    demo(GAR, "controller", &[&token], "oauth2accesstoken", Second::FromCache);
}

#[test]
fn gar_as_a_service_account_on_gke() {
    let (project, location, name) = (
        format!("{METADATA}/project/project-id"),
        format!("{METADATA}/instance/attributes/cluster-location"),
        format!("{METADATA}/instance/attributes/cluster-name"),
    );
    demo(
        GAR,
        "service-account",
        &[
            &project,
            &location,
            &name,
            "token demo-project.svc.id.goog sa default/app",
            "POST https://sts.googleapis.com/v1/token",
            "POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/app@demo-project.iam.gserviceaccount.com:generateAccessToken",
        ],
        "oauth2accesstoken",
        Second::FromCache,
    );
}

#[test]
fn generic_registry_as_the_controller() {
    let demo = demo(
        GENERIC,
        "controller",
        &["GET https://ghcr.io/v2/", "GET https://ghcr.io/token"],
        "demo-user",
        Second::Again,
    );
    let token_request = &demo["runs"][0]["steps"][1]["request"];
    assert_contains(token_request["url"].as_str().unwrap_or_default(), "scope=repository%3Ao%2Fapp%3Apull");
    assert_contains(&token_request["headers"].to_string(), r#"["Authorization","Basic <base64 user:password>"]"#);
    assert_contains(&demo["runs"][1]["note"].to_string(), "credentials without an expiry are not cached");
}

#[test]
fn generic_registry_refuses_a_service_account_and_runs_anonymously() {
    let demo = demo(
        GENERIC,
        "service-account",
        &["GET https://ghcr.io/v2/", "GET https://ghcr.io/token"],
        "demo-user",
        Second::Again,
    );
    let notes = demo["notes"].to_string();
    assert_contains(&notes, "the component refuses it (unsupported: ghcr.io is not a cloud registry");
    assert_eq!(demo["settings"]["service_account"], Value::Null);
}

#[test]
fn text_shows_each_step_and_the_cache() {
    let out = succeeds(&["demo", ACR]);
    assert_contains(&out, "cloudauth demo for myregistry.azurecr.io/app:v1");
    assert_contains(&out, "Fake settings");
    assert_contains(&out, "AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token");
    let order = [
        "Run 1: a new session",
        "1. fetch-identity-token",
        "audience        api://AzureADTokenExchange",
        "-> a fake token of service account flux-system/source-controller: eyJhbG... (",
        "2. send-http",
        "client_assertion = eyJhbG... (",
        "<- 200 (application/json) Entra ID",
        "3. send-http",
        "access_token = eyJhbG... (",
        "<- 200 (application/json) ACR",
        "=> done: registry credentials",
        "username    00000000-0000-0000-0000-000000000000",
        "password    eyJhbG... (",
        "from cache  no",
        "Run 2: the same session again",
        "(served from the component's cache: no request, no token)",
        "from cache  yes",
        "served from the component's cache.",
    ];
    let mut from = 0;
    for wanted in order {
        match out.get(from..).and_then(|rest| rest.find(wanted)) {
            Some(at) => from += at + wanted.len(),
            None => panic!("{wanted:?} missing or out of order:\n{out}"),
        }
    }
    let run2 = out.split("Run 2:").nth(1).unwrap_or_default();
    assert!(!run2.contains("send-http") && !run2.contains("fetch-identity-token"), "{run2}");
    let key = |run: &str| run.lines().find(|l| l.trim_start().starts_with("cache key")).map(str::to_owned);
    assert_eq!(key(out.split("Run 2:").next().unwrap_or_default()), key(run2));

    // The longest flow, in text, shows no secret either.
    let out = succeeds(&["demo", GAR, "--identity", "service-account"]);
    assert_contains(&out, "authorization: Bearer <redacted>");
    assert_contains(&out, "subject_token = eyJhbG... (");
}

#[test]
fn the_bare_command_plans_then_demonstrates_the_default_target() {
    let out = succeeds(&[]);
    let plan = out.find("cloudauth plan for myregistry.azurecr.io/app:v1");
    let demo = out.find("cloudauth demo for myregistry.azurecr.io/app:v1");
    assert!(matches!((plan, demo), (Some(p), Some(d)) if p < d), "{out}");
    assert_contains(&out, "from cache  yes");

    let both: Value = serde_json::from_str(&succeeds(&["--json"])).expect("--json prints JSON");
    assert_eq!(both["plan"]["resolved"]["provider"], "azure");
    assert_eq!(both["demo"]["succeeded"], true);
}

#[test]
fn a_target_the_component_refuses_fails() {
    let output = host(&["demo", "user:pass@myregistry.azurecr.io/app"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert_contains(&stdout, "invalid-input");
    assert!(!stdout.contains("Run 1"), "{stdout}");

    let output = host(&["demo", ACR, "--identity", "root"]);
    assert_eq!(output.status.code(), Some(2));
    assert_contains(&String::from_utf8_lossy(&output.stderr), "expected controller or service-account");
    let output = host(&["plan", ACR, "--identity", "controller"]);
    assert_eq!(output.status.code(), Some(2));
}
