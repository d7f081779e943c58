//! Google credentials files (`GOOGLE_APPLICATION_CREDENTIALS`, and gcloud's
//! well-known file under `HOME`) through the built component: the session reads the file first, then each file type's
//! requests must be the ones google-auth sends (the captured cases in
//! `tests/cases/session.request.gcp-credentials-file.json`), with a failure
//! at every step.

mod support;

#[allow(dead_code)]
#[path = "conformance/compare.rs"]
mod compare;
#[allow(dead_code)]
#[path = "flows/driver.rs"]
mod driver;

use serde_json::{Value, json};

use driver::{Exchange, Host, Outcome, Scenario, kind, message, response};
use support::api::session::{Credentials, Identity, Options, SessionRequest, Step, Target};
use support::api::types::{AccessToken, Provider, RegistryCredentials};

const NOW: i64 = 1_705_320_000;
const CASES: &str = "tests/cases/session.request.gcp-credentials-file.json";
const CREDENTIALS: &str = "/etc/gcp/credentials.json";

/// A captured case, by id.
fn case(id: &str) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/cases/session.request.gcp-credentials-file.json"
    ))
    .unwrap_or_else(|e| panic!("{CASES}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no case {id}"))
}

/// The file, subject token and HTTP answers of the last case of a file
/// type, and each request the cases expect, in order.
struct Captured {
    answers: Vec<Value>,
    requests: Vec<Value>,
}

fn captured(name: &str, requests: usize) -> Captured {
    let last = case(&format!("{name}-request-{requests}"));
    let requests = (1..=requests).map(|i| case(&format!("{name}-request-{i}"))["expect"]["request"].clone()).collect();
    Captured { answers: last["input"]["answers"].as_array().unwrap().clone(), requests }
}

fn options(env: &[(&str, &str)]) -> Options {
    support::session_options(env)
}

fn request(target: Target) -> SessionRequest {
    SessionRequest {
        target,
        identity: Identity::Controller,
        options: options(&[("GOOGLE_APPLICATION_CREDENTIALS", CREDENTIALS)]),
        now: NOW,
    }
}

fn scopes() -> Target {
    Target::AccessToken((
        Provider::Gcp,
        vec![
            "https://www.googleapis.com/auth/cloud-platform".into(),
            "https://www.googleapis.com/auth/userinfo.email".into(),
        ],
    ))
}

/// A token endpoint's answer (google-auth's captured one), and a body the
/// step must refuse.
const TOKEN_MALFORMED: &str = r#"{"expires_in": 3599, "token_type": "Bearer"}"#;
const IAM_MALFORMED: &str = r#"{"accessToken": "ya29.x"}"#;

/// The exchanges of a captured flow: the credentials file, then per
/// answer a file read or the HTTP request the case expects.
fn exchanges(c: &Captured, subject_path: Option<&str>) -> Vec<Exchange> {
    let mut out = Vec::new();
    let mut requests = c.requests.iter();
    for (k, answer) in c.answers.iter().enumerate() {
        if let Some(file) = answer.get("file") {
            let path = if k == 0 { CREDENTIALS } else { subject_path.expect("a subject token file") };
            out.push(Exchange::file(path, file.as_str(), Some("invalid-input")));
            continue;
        }
        let expect = requests.next().expect("a request for the answer").clone();
        let malformed = if expect["url"].as_str().unwrap().contains("generateAccessToken") {
            IAM_MALFORMED
        } else if expect["method"] == "GET" {
            r#"{"other": "field"}"#
        } else {
            TOKEN_MALFORMED
        };
        out.push(Exchange::http(
            expect,
            response(answer["status"].as_u64().unwrap() as u16, &[], answer["body"].as_str().unwrap()),
            Some(malformed),
        ));
    }
    // The last request's answer is not in the last case's answers.
    let last = requests.next().expect("the last request").clone();
    let (reply, malformed) = if last["url"].as_str().unwrap().contains("generateAccessToken") {
        (json!({"accessToken": "ya29.impersonated", "expireTime": "2024-01-15T13:00:00Z"}), IAM_MALFORMED)
    } else {
        (json!({"access_token": "ya29.final", "expires_in": 3599, "token_type": "Bearer"}), TOKEN_MALFORMED)
    };
    out.push(Exchange::http(last, response(200, &[], &reply.to_string()), Some(malformed)));
    out
}

fn token(c: &Captured) -> (String, i64) {
    let last = c.requests.last().unwrap();
    if last["url"].as_str().unwrap().contains("generateAccessToken") {
        ("ya29.impersonated".into(), 1_705_323_600)
    } else {
        ("ya29.final".into(), NOW + 3599)
    }
}

fn scenarios() -> Vec<Scenario> {
    let subject = "/tmp/cloudauth-capture/gcp-ksa/token";
    let flows: [(&'static str, usize, Option<&str>); 11] = [
        ("service-account", 1, None),
        ("authorized-user", 1, None),
        ("impersonated-user", 2, None),
        ("impersonated-sa", 2, None),
        ("external-file-text", 1, Some(subject)),
        ("external-file-json", 1, Some(subject)),
        ("external-file-impersonated", 2, Some(subject)),
        ("external-url", 2, None),
        ("external-url-github-actions", 2, None),
        ("external-aws-env", 1, None),
        ("external-aws-imdsv2", 6, None),
    ];
    let mut out = Vec::new();
    for (name, requests, subject) in flows {
        let c = captured(name, requests);
        let (token, expires_at) = token(&c);
        let mut session = request(scopes());
        let env = case(&format!("{name}-request-1"))["input"]["environment"].clone();
        session.options.environment =
            env.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
        out.push(Scenario {
            name,
            request: session,
            exchanges: exchanges(&c, subject),
            outcome: Outcome::Done(Credentials::AccessToken(AccessToken { token: token.clone(), expires_at })),
            now: NOW,
        });
    }
    // Artifact Registry with a service-account key: docker credentials.
    let c = captured("service-account", 1);
    out.push(Scenario {
        name: "gar-service-account",
        request: request(Target::Registry("us-docker.pkg.dev/my-project/repo/app:1".into())),
        exchanges: exchanges(&c, None),
        outcome: Outcome::Done(Credentials::Registry(RegistryCredentials {
            username: "oauth2accesstoken".into(),
            password: "ya29.final".into(),
            expires_at: Some(NOW + 3599),
        })),
        now: NOW,
    });
    out
}

#[test]
fn each_file_type_sends_what_google_auth_sends() {
    for s in scenarios() {
        s.run();
    }
}

#[test]
fn each_file_type_fails_at_each_step() {
    for s in scenarios() {
        s.run_failures();
    }
}

/// Starts a session and hands over the credentials file.
fn with_file(contents: &str) -> (Host, wasmtime::component::ResourceAny, Result<(), String>) {
    let mut host = Host::new();
    let s = host.start(&request(scopes())).unwrap_or_else(|e| panic!("{}", message(&e)));
    match host.next(s) {
        Step::ReadFile(path) => assert_eq!(path, CREDENTIALS),
        _ => panic!("the first step is not read-file"),
    }
    let result = host.file(s, Some(contents), NOW).map_err(|e| format!("{}: {}", kind(&e), message(&e)));
    (host, s, result)
}

#[test]
fn broken_files_fail_naming_the_file() {
    let sa = case("service-account-request-1")["input"]["answers"][0]["file"].as_str().unwrap().to_owned();
    let mut sa: Value = serde_json::from_str(&sa).unwrap();
    let mut no_key = sa.clone();
    no_key.as_object_mut().unwrap().remove("private_key");
    let mut http_token_uri = sa.clone();
    http_token_uri["token_uri"] = "http://oauth2.googleapis.com/token".into();
    let executable = json!({
        "type": "external_account", "audience": "//iam.googleapis.com/x", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "credential_source": {"executable": {"command": "/usr/bin/token"}}
    });
    for (contents, want) in [
        (
            "not json".to_owned(),
            r#"invalid-input: the GOOGLE_APPLICATION_CREDENTIALS file "/etc/gcp/credentials.json" is not valid JSON"#,
        ),
        (no_key.to_string(), "private_key is missing"),
        (http_token_uri.to_string(), "token_uri"),
        (executable.to_string(), "unsupported: "),
    ] {
        let (_, _, result) = with_file(&contents);
        let err = result.expect_err(&contents);
        assert!(err.contains(want), "{err}");
        assert!(err.contains(CREDENTIALS), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
    }
    // A missing file is an error, not a fallback to the metadata server.
    let mut host = Host::new();
    let s = host.start(&request(scopes())).unwrap();
    let err = host.file(s, None, NOW).unwrap_err();
    assert_eq!(message(&err), r#"the GOOGLE_APPLICATION_CREDENTIALS file "/etc/gcp/credentials.json" does not exist"#);
    // The token goes to the file's own token_uri, over https only.
    sa["token_uri"] = "https://oauth2.example.internal/token".into();
    let (mut host, s, result) = with_file(&sa.to_string());
    result.unwrap();
    match host.next(s) {
        Step::SendHttp(r) => assert_eq!(r.url, "https://oauth2.example.internal/token"),
        _ => panic!("expected the grant"),
    }
}

#[test]
fn the_cache_key_names_the_file() {
    let mut host = Host::new();
    let a = host.start(&request(scopes())).unwrap();
    let mut other = request(scopes());
    other.options.environment = vec![("GOOGLE_APPLICATION_CREDENTIALS".into(), "/etc/gcp/other.json".into())];
    let b = host.start(&other).unwrap();
    let mut metadata = request(scopes());
    metadata.options.environment.clear();
    let c = host.start(&metadata).unwrap();
    let keys = [host.cache_key(a), host.cache_key(b), host.cache_key(c)];
    assert!(keys[0] != keys[1] && keys[0] != keys[2] && keys[1] != keys[2], "{keys:?}");
}

/// gcloud's well-known file under HOME, where golang.org/x/oauth2 (Flux's
/// library) looks when `GOOGLE_APPLICATION_CREDENTIALS` is unset: read
/// first; a missing one leads on to the metadata server, one that is there
/// is used as the variable's file would be, and a broken one fails naming it.
#[test]
fn gclouds_well_known_file_comes_before_the_metadata_server() {
    const WELL_KNOWN: &str = "/home/dev/.config/gcloud/application_default_credentials.json";
    let at_home = |env: &[(&str, &str)]| SessionRequest { options: options(env), ..request(scopes()) };
    let first_file = |host: &mut Host, s| match host.next(s) {
        Step::ReadFile(path) => path,
        _ => panic!("the first step is not read-file"),
    };

    // No file: the metadata server, as without HOME.
    let mut host = Host::new();
    let s = host.start(&at_home(&[("HOME", "/home/dev/")])).unwrap();
    assert_eq!(first_file(&mut host, s), WELL_KNOWN);
    host.file(s, None, NOW).unwrap();
    match host.next(s) {
        Step::SendHttp(r) => assert!(
            r.url.starts_with(
                "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
            ),
            "{}",
            r.url
        ),
        _ => panic!("expected the metadata token request"),
    }

    // A service-account key there: google-auth's own grant, as for the variable's file.
    let c = captured("service-account", 1);
    let s = host.start(&at_home(&[("HOME", "/home/dev")])).unwrap();
    assert_eq!(first_file(&mut host, s), WELL_KNOWN);
    host.file(s, c.answers[0]["file"].as_str(), NOW).unwrap();
    match host.next(s) {
        Step::SendHttp(r) => assert_eq!(r.url, c.requests[0]["url"].as_str().unwrap()),
        _ => panic!("expected the JWT-bearer grant"),
    }

    // Broken: an error naming the file, not a fallback.
    let s = host.start(&at_home(&[("HOME", "/home/dev")])).unwrap();
    first_file(&mut host, s);
    let err = host.file(s, Some("not json"), NOW).unwrap_err();
    assert_eq!(message(&err), format!("the application default credentials file \"{WELL_KNOWN}\" is not valid JSON"));

    // The variable wins over the well-known file; no HOME, no file.
    let s = host.start(&at_home(&[("HOME", "/home/dev"), ("GOOGLE_APPLICATION_CREDENTIALS", CREDENTIALS)])).unwrap();
    assert_eq!(first_file(&mut host, s), CREDENTIALS);
    let s = host.start(&at_home(&[])).unwrap();
    assert!(matches!(host.next(s), Step::SendHttp(_)));
}
