//! The sources whose assertion the component signs, over real HTTPS on
//! 127.0.0.1: an Azure client certificate (the runtime reads the PEM file
//! for the session's `read-file` step) and a GitHub App (the key passed in
//! the `github-app` target, the installation looked up by owner, on a
//! GitHub Enterprise Server base URL).
//!
//! The fakes follow the services' documents: Entra's token endpoint takes a
//! `jwt-bearer` client assertion whose header names the certificate by
//! `x5t#S256` (Microsoft identity platform, "Certificate credentials");
//! GitHub's REST API answers `GET /orgs/{org}/installation` (404 for a
//! user), `GET /users/{user}/installation` and `POST
//! /app/installations/{id}/access_tokens` (201, `token`, `expires_at`) to a
//! `Bearer` app JWT with `iss` the app id ("Generating a JSON Web Token
//! (JWT) for a GitHub App"). Signatures are checked elsewhere (the
//! component's tests verify them with openssl and python `cryptography`).

mod support;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cloudauth_runtime::api::session::{Credentials, GithubApp, Identity, Target};
use cloudauth_runtime::api::types::Provider;
use cloudauth_runtime::{CredentialRequest, RuntimeConfig, Source, TokenFiles};
use support::*;

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(name)
}

fn decode(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or_default()
}

/// Header and claims of a compact JWT.
fn parts(jwt: &str) -> (serde_json::Value, serde_json::Value) {
    let mut it = jwt.split('.');
    (decode(it.next().unwrap_or_default()), decode(it.next().unwrap_or_default()))
}

const ARM: &str = "https://management.azure.com/.default";

#[tokio::test]
async fn azure_client_certificate_from_a_pem_file() {
    let handler: Handler = Arc::new(|seen: &Seen| {
        let assertion = seen.form("client_assertion").unwrap_or_default();
        let (header, claims) = parts(&assertion);
        let ok = seen.path() == format!("/{TENANT}/oauth2/v2.0/token")
            && seen.form("client_assertion_type").as_deref()
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            && header["alg"] == "RS256"
            && header["x5t#S256"].is_string()
            && claims["aud"] == format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
            && claims["iss"] == CLIENT
            && claims["sub"] == CLIENT;
        if !ok {
            return Reply::json(
                401,
                serde_json::json!({"error": "invalid_client", "error_description": "AADSTS700027"}),
            );
        }
        Reply::json(
            200,
            serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "entra-certificate-token"}),
        )
    });
    let server = https(handler).await;
    let clock = TestClock::new();
    let runtime =
        runtime(http_config(Some(&server), &["login.microsoftonline.com"]), 1, &clock, RuntimeConfig::default());
    let file = data("test-client-cert-and-key.pem");
    let mut request = CredentialRequest {
        target: Target::AccessToken((Provider::Azure, vec![ARM.into()])),
        identity: Identity::Controller,
        options: options(&[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_CERTIFICATE_PATH", file.to_str().unwrap()),
        ]),
    };
    let got = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    let Credentials::AccessToken(token) = got.credentials.expose() else { panic!("an access token") };
    assert_eq!(token.token, "entra-certificate-token");
    assert_eq!(server.seen().len(), 1);

    // A missing file fails, naming the variable and the path; nothing is sent.
    request.options.environment[2].1 = "/nonexistent/client.pem".into();
    let err = runtime.credentials(&request, &TokenFiles::default()).await.unwrap_err();
    assert!(err.to_string().contains("AZURE_CLIENT_CERTIFICATE_PATH /nonexistent/client.pem"), "{err}");
    assert_eq!(server.seen().len(), 1);
}

const APP_ID: &str = "123456";
const INSTALLATION: u64 = 4242;
const TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

fn github_handler() -> Handler {
    Arc::new(|seen: &Seen| {
        let jwt = seen.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
        let (header, claims) = parts(jwt);
        let now = NOW;
        let valid = header["alg"] == "RS256"
            && claims["iss"] == APP_ID
            && claims["iat"].as_i64().is_some_and(|iat| iat <= now)
            && claims["exp"].as_i64().is_some_and(|exp| exp > now && exp - claims["iat"].as_i64().unwrap_or(0) <= 600)
            && seen.header("accept") == Some("application/vnd.github.v3+json");
        if !valid {
            return Reply::json(
                401,
                serde_json::json!({"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"}),
            );
        }
        // GitHub Enterprise Server serves the API under /api/v3.
        let path = seen.path().strip_prefix("/api/v3").unwrap_or_default();
        match (seen.method.as_str(), path) {
            ("GET", "/orgs/octocat/installation") => Reply::json(
                404,
                serde_json::json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
            ),
            ("GET", "/users/octocat/installation") => Reply::json(
                200,
                serde_json::json!({"id": INSTALLATION, "account": {"login": "octocat", "type": "User"}}),
            ),
            ("POST", path) if path == format!("/app/installations/{INSTALLATION}/access_tokens") => Reply::json(
                201,
                serde_json::json!({"token": TOKEN, "expires_at": "2026-01-01T01:00:00Z", "permissions": {"contents": "read"}}),
            ),
            _ => Reply::json(404, serde_json::json!({"message": "Not Found"})),
        }
    })
}

#[tokio::test]
async fn github_app_installation_token_by_owner_then_the_cache() {
    let server = https(github_handler()).await;
    let clock = TestClock::new();
    // GitHub Enterprise Server on `localhost` (a name the test certificate holds).
    let runtime = runtime(http_config(Some(&server), &["localhost"]), 1, &clock, RuntimeConfig::default());
    let request = CredentialRequest {
        target: Target::GithubApp(GithubApp {
            url: "https://localhost/octocat/hello-world.git".into(),
            app_id: APP_ID.into(),
            installation_id: None,
            installation_owner: Some("octocat".into()),
            private_key: std::fs::read_to_string(data("test-rsa-pkcs1.pem")).unwrap(),
            base_url: Some("https://localhost/api/v3".into()),
        }),
        identity: Identity::Controller,
        options: options(&[]),
    };
    let first = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    let Credentials::Git(git) = first.credentials.expose() else { panic!("Git credentials") };
    assert_eq!((git.username.as_str(), git.password.as_str()), ("x-access-token", TOKEN));
    assert_eq!(git.expires_at, 1_767_229_200);
    let paths: Vec<String> = server.seen().iter().map(|s| format!("{} {}", s.method, s.path())).collect();
    assert_eq!(
        paths,
        [
            "GET /api/v3/orgs/octocat/installation".to_owned(),
            "GET /api/v3/users/octocat/installation".to_owned(),
            format!("POST /api/v3/app/installations/{INSTALLATION}/access_tokens"),
        ]
    );
    clock.advance(60);
    let second = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    assert_eq!(second.source, Source::Cache);
    assert_eq!(server.seen().len(), 3);
}
