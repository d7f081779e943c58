//! GitHub App installation tokens through the built component: the happy
//! paths (installation id, owner lookup as organization and as user,
//! GitHub Enterprise Server), a failure at every step, Flux's input checks,
//! the cache key, and the app JWT verified with python `cryptography`.
//!
//! Expected requests are the conformance cases of
//! `tests/cases/session.request.github-app.json` (JWTs signed by openssl
//! from GitHub's documented claims); canned answers follow GitHub's REST
//! docs (the `POST .../access_tokens` example with a 2024 expiry, the
//! installation example, `Bad credentials`).

mod support;

#[allow(dead_code)]
#[path = "conformance/compare.rs"]
mod compare;
#[allow(dead_code)]
#[path = "flows/driver.rs"]
mod driver;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use driver::{Exchange, Host, Outcome, Scenario, kind, message, response};
use support::api::session::{Credentials, GitCredentials, GithubApp, Identity, Options, SessionRequest, Step, Target};

const NOW: i64 = 1_705_320_000;
const CASES: &str = "session.request.github-app.json";
/// GitHub's example token, expiring an hour after NOW (2024-01-15T13:00:00Z).
const TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

fn case(id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(CASES);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no {id}"))
}

fn app_of(id: &str) -> GithubApp {
    let a = &case(id)["input"]["github_app"];
    let s = |k: &str| a[k].as_str().map(str::to_owned);
    GithubApp {
        url: s("url").unwrap(),
        app_id: s("app_id").unwrap(),
        installation_id: s("installation_id"),
        installation_owner: s("installation_owner"),
        private_key: s("private_key").unwrap(),
        base_url: s("base_url"),
    }
}

fn request(app: GithubApp, skip_cache: bool) -> SessionRequest {
    SessionRequest {
        target: Target::GithubApp(app),
        identity: Identity::Controller,
        options: Options {
            environment: Vec::new(),
            azure_environment: None,
            sts_endpoint: None,
            object_level_workload_identity: false,
            registry_username: None,
            registry_password: None,
            trusted_realm_hosts: Vec::new(),
            skip_cache,
            rules: None,
        },
        now: NOW,
    }
}

fn token_reply() -> support::api::types::HttpResponse {
    let body = json!({
        "token": TOKEN,
        "expires_at": "2024-01-15T13:00:00Z",
        "permissions": {"issues": "write", "contents": "read"},
        "repository_selection": "selected"
    });
    response(201, &[("Content-Type", "application/json; charset=utf-8")], &body.to_string())
}

fn done() -> Outcome {
    Outcome::Done(Credentials::Git(GitCredentials {
        username: "x-access-token".into(),
        password: TOKEN.into(),
        bearer_token: String::new(),
        expires_at: NOW + 3600,
    }))
}

fn installation(id: u64) -> support::api::types::HttpResponse {
    response(200, &[], &json!({"id": id, "account": {"login": "octo-org", "type": "Organization"}}).to_string())
}

fn expected(id: &str) -> Value {
    case(id)["expect"]["request"].clone()
}

fn with_url(mut request: Value, url: &str) -> Value {
    request["url"] = json!(url);
    request
}

/// Scenarios whose every step can fail (no lookup fallback).
fn scenarios() -> Vec<Scenario> {
    let id = "github-app-installation-id";
    let ghes = "github-enterprise-server-base-url";
    let malformed = Some(r#"{"token": "ghs_x"}"#);
    vec![
        Scenario {
            name: "github-app-installation-id",
            request: request(app_of(id), true),
            exchanges: vec![Exchange::http(expected(id), token_reply(), malformed)],
            outcome: done(),
            now: NOW,
        },
        Scenario {
            name: "github-enterprise-server",
            request: request(app_of(ghes), true),
            exchanges: vec![Exchange::http(expected(ghes), token_reply(), malformed)],
            outcome: done(),
            now: NOW,
        },
    ]
}

#[test]
fn github_app_flow() {
    for s in scenarios() {
        s.run();
    }
}

#[test]
fn github_app_fails_at_each_step() {
    for s in scenarios() {
        s.run_failures();
    }
}

#[test]
fn github_app_looks_the_installation_up_by_owner() {
    let owner = "github-app-owner-organization-lookup";
    let token_after_lookup = expected("github-app-owner-token-after-lookup");
    // The organization has the app installed.
    Scenario {
        name: "github-app-owner-organization",
        request: request(app_of(owner), true),
        exchanges: vec![
            Exchange::http(expected(owner), installation(1), None),
            Exchange::http(token_after_lookup.clone(), token_reply(), None),
        ],
        outcome: done(),
        now: NOW,
    }
    .run();
    // Not an organization: the user's installation, as Flux tries it next.
    let not_found = r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#;
    Scenario {
        name: "github-app-owner-user",
        request: request(app_of(owner), true),
        exchanges: vec![
            Exchange::http(expected(owner), response(404, &[], not_found), None),
            Exchange::http(expected("github-app-owner-user-lookup-after-404"), installation(7), None),
            Exchange::http(
                with_url(token_after_lookup, "https://api.github.com/app/installations/7/access_tokens"),
                token_reply(),
                None,
            ),
        ],
        outcome: done(),
        now: NOW,
    }
    .run();
    // Both lookups fail: one error that says both, with the user lookup's status.
    let mut host = Host::new();
    let s = host.start(&request(app_of(owner), true)).unwrap();
    host.http(s, &response(404, &[], not_found), NOW).unwrap();
    let err = host.http(s, &response(403, &[], r#"{"message":"Forbidden"}"#), NOW).unwrap_err();
    assert_eq!(kind(&err), "http-status");
    assert_eq!(
        message(&err),
        "failed to find organization installation: HTTP 404; failed to find user installation: Forbidden"
    );
    // A malformed organization answer is a failed lookup too; a malformed user answer ends the flow.
    let mut host = Host::new();
    let s = host.start(&request(app_of(owner), true)).unwrap();
    host.http(s, &response(200, &[], "{}"), NOW).unwrap();
    let err = host.http(s, &response(200, &[], r#"{"id":"7"}"#), NOW).unwrap_err();
    assert_eq!(kind(&err), "malformed-response", "{}", message(&err));
}

#[test]
fn github_app_refuses_expired_tokens_and_bad_inputs() {
    // GitHub's own example answer, received after its expiry.
    let c = case("github-app-token-expired");
    let mut host = Host::new();
    let s = host.start(&request(app_of("github-app-token-expired"), true)).unwrap();
    let body = c["input"]["answers"][0]["body"].as_str().unwrap();
    let err = host.http(s, &response(201, &[], body), NOW).unwrap_err();
    assert_eq!(kind(&err), "malformed-response");
    assert!(!message(&err).contains(TOKEN));

    let base = app_of("github-app-installation-id");
    let with = |f: &dyn Fn(&mut GithubApp)| {
        let mut a = base.clone();
        f(&mut a);
        a
    };
    let cases: Vec<(GithubApp, &str, &str)> = vec![
        (
            with(&|a| a.app_id = String::new()),
            "invalid-input",
            "app ID must be provided to use github app authentication",
        ),
        (with(&|a| a.installation_id = None), "invalid-input", "app installation owner or ID must be provided"),
        (
            with(&|a| a.installation_owner = Some("octo-org".into())),
            "invalid-input",
            "only one of app installation owner or ID",
        ),
        (with(&|a| a.private_key = String::new()), "invalid-input", "private key must be provided"),
        (
            with(&|a| a.private_key = "-----BEGIN RSA PRIVATE KEY-----\nAQID\n-----END RSA PRIVATE KEY-----\n".into()),
            "invalid-input",
            "could not parse private key",
        ),
        (
            with(&|a| {
                a.private_key =
                    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n".into()
            }),
            "unsupported",
            "encrypted",
        ),
        (with(&|a| a.url = "https://github.com.evil.example/o/r".into()), "invalid-input", "github.com"),
        (with(&|a| a.url = "http://github.com/o/r".into()), "invalid-input", "https://"),
        (with(&|a| a.url = "https://user:pw@github.com/o/r".into()), "invalid-input", "password"),
        (with(&|a| a.base_url = Some("https://api.github.com.evil.example".into())), "invalid-input", "is not on"),
        (with(&|a| a.base_url = Some("http://127.0.0.1:8080".into())), "invalid-input", "https://"),
        (
            with(&|a| a.base_url = Some("https://ghe.example.com/api/v3?x=1".into())),
            "invalid-input",
            "githubAppBaseURL",
        ),
        (with(&|a| a.installation_id = Some("-1".into())), "invalid-input", "githubAppInstallationID"),
    ];
    for (app, want, text) in cases {
        let mut host = Host::new();
        let err = host.start(&request(app.clone(), true)).err().unwrap_or_else(|| panic!("{app:?} started"));
        assert_eq!(kind(&err), want, "{}", message(&err));
        assert!(message(&err).contains(text), "{text}: {}", message(&err));
        assert!(!message(&err).contains("PRIVATE KEY-----\nMII"), "{}", message(&err));
    }
    // A service account is not a GitHub App's identity.
    let mut sa = request(base, true);
    sa.identity = Identity::ServiceAccount(support::api::session::ServiceAccount {
        namespace: "apps".into(),
        name: "puller".into(),
        annotations: Vec::new(),
    });
    assert_eq!(kind(&Host::new().start(&sa).err().unwrap()), "unsupported");
}

/// The cache key is Flux's (`buildCacheKey`), and a second session is
/// served from the component's cache.
#[test]
fn github_app_cache_key_is_fluxs() {
    let app = app_of("github-app-installation-id");
    let raw = format!(
        "githubAppID=123456,githubAppInstallationOwner=,githubAppInstallationID=42,githubAppBaseURL=,githubAppPrivateKey={},reflectSlug=false",
        app.private_key
    );
    let want: String = Sha256::digest(raw.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let mut host = Host::new();
    let s = host.start(&request(app.clone(), false)).unwrap();
    assert_eq!(host.cache_key(s), want);
    host.http(s, &token_reply(), NOW).unwrap();
    assert!(matches!(host.next(s), Step::Done(_)));
    assert!(host.hit(&request(app, false)), "the second session comes from the cache");
}

/// The app JWT the component sends verifies with python `cryptography`
/// against the key's public half, with GitHub's claims.
#[test]
fn github_app_jwt_verifies_with_python_cryptography() {
    let app = app_of("github-app-installation-id");
    let mut host = Host::new();
    let s = host.start(&request(app.clone(), true)).unwrap();
    let Step::SendHttp(r) = host.next(s) else { panic!("no request") };
    let auth = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).unwrap().1.clone();
    let jwt = auth.strip_prefix("Bearer ").unwrap();
    let script = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), None).public_key()
h, c, s = sys.argv[2].split('.')
pad = lambda x: base64.urlsafe_b64decode(x + '=' * (-len(x) % 4))
key.verify(pad(s), (h + '.' + c).encode(), padding.PKCS1v15(), hashes.SHA256())
print(json.dumps({"header": json.loads(pad(h)), "claims": json.loads(pad(c))}, sort_keys=True))
"#;
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-rsa-pkcs1.pem");
    let out = std::process::Command::new("python3")
        .args(["-c", script, key.to_str().unwrap(), jwt])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["header"], json!({"alg": "RS256", "typ": "JWT"}));
    assert_eq!(got["claims"], json!({"iss": "123456", "iat": NOW - 30, "exp": NOW - 30 + 120}));
    // A tampered signature does not verify.
    let tampered = format!("{}A", &jwt[..jwt.len() - 1]);
    let tampered = if tampered == jwt { format!("{}B", &jwt[..jwt.len() - 1]) } else { tampered };
    let out = std::process::Command::new("python3")
        .args(["-c", script, key.to_str().unwrap(), &tampered])
        .output()
        .expect("python3");
    assert!(!out.status.success());
}
