//! Sessions driven over real HTTP(S) on 127.0.0.1: the host cache, the
//! single flight for concurrent identical requests, errors that name the
//! step and the host, and logs without secrets.
//!
//! The services are small fakes written from their documentation (see
//! `support`): a distribution registry with token auth, Entra ID's token
//! endpoint, ACR's `/oauth2/exchange`, Azure IMDS. Names such as
//! `myregistry.azurecr.io` reach them through the client's name override.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cloudauth_runtime::api::session::{Credentials, Identity, Target};
use cloudauth_runtime::api::types::{HttpRequest, HttpResponse};
use cloudauth_runtime::{CredentialRequest, ErrorKind, RuntimeConfig, Source, TokenFiles, Transport};
use support::*;

fn registry_request(host: &str, user: &str, password: &str) -> CredentialRequest {
    CredentialRequest {
        target: Target::Registry(format!("{host}/team/app:v1")),
        identity: Identity::Controller,
        options: registry_options(user, password),
    }
}

#[tokio::test]
async fn acr_flow_then_the_host_cache_then_a_new_flow_when_due() {
    let server = https(azure_handler()).await;
    let clock = TestClock::new();
    let runtime = runtime(
        http_config(Some(&server), &["login.microsoftonline.com", "myregistry.azurecr.io"]),
        2,
        &clock,
        RuntimeConfig::default(),
    );
    let file = federated_token_file("acr-cache");
    let request = CredentialRequest {
        target: Target::Registry("myregistry.azurecr.io/app:v1".into()),
        identity: Identity::Controller,
        options: azure_options(&file),
    };
    let first = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    assert_eq!(first.source, Source::Flow);
    let Credentials::Registry(login) = first.credentials.expose() else { panic!("registry credentials") };
    assert_eq!(login.username, ACR_USER);
    assert_eq!(login.password, acr_refresh_token());
    assert_eq!(first.expires_at, Some(NOW + ACR_LIFETIME));
    let paths: Vec<String> = server.seen().iter().map(|s| format!("{} {}{}", s.method, s.host(), s.path())).collect();
    assert_eq!(
        paths,
        [
            format!("POST login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
            "POST myregistry.azurecr.io/oauth2/exchange".to_owned()
        ]
    );

    // Again, from another task and whichever instance: the host cache.
    clock.advance(60);
    let second = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    assert_eq!(second.source, Source::Cache);
    assert_eq!(second.cache_key, first.cache_key);
    let Credentials::Registry(again) = second.credentials.expose() else { panic!("registry credentials") };
    assert_eq!(again.password, login.password);
    assert_eq!(server.seen().len(), 2, "no request for a cache hit");
    assert_eq!(runtime.cached(), 1);

    // Another identity is another key: its own flow.
    let mut other = request.clone();
    other.options.environment.push(("AZURE_AUTHORITY_HOST".into(), "https://login.microsoftonline.com/".into()));
    let other_key = runtime.credentials(&other, &TokenFiles::default()).await.unwrap();
    assert_ne!(other_key.cache_key, first.cache_key);

    // Past the refresh point (80% of 3 h, capped at 1 h): a new flow.
    clock.advance(3600);
    let before = server.seen().len();
    let third = runtime.credentials(&request, &TokenFiles::default()).await.unwrap();
    assert_eq!(third.source, Source::Flow);
    assert_eq!(server.seen().len(), before + 2);

    // skip-cache neither reads nor fills the cache.
    let mut skip = request.clone();
    skip.options.skip_cache = true;
    let before = server.seen().len();
    let fourth = runtime.credentials(&skip, &TokenFiles::default()).await.unwrap();
    assert_eq!(fourth.source, Source::Flow);
    assert_eq!(server.seen().len(), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_requests_share_one_flow() {
    // `/v2/` answers slowly, so every caller arrives while the flow runs.
    let server = https(registry_handler(Duration::from_millis(400))).await;
    let clock = TestClock::new();
    let runtime =
        Arc::new(runtime(http_config(Some(&server), &["registry.test"]), 2, &clock, RuntimeConfig::default()));
    let callers = 24;
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let runtime = Arc::clone(&runtime);
        tasks.push(tokio::spawn(async move {
            runtime
                .credentials(
                    &registry_request("registry.test", REGISTRY_USER, REGISTRY_PASSWORD),
                    &TokenFiles::default(),
                )
                .await
        }));
    }
    let mut sources = Vec::new();
    for task in tasks {
        let obtained = task.await.unwrap().expect("every caller gets credentials");
        let Credentials::Registry(login) = obtained.credentials.expose() else { panic!("registry credentials") };
        assert_eq!((login.username.as_str(), login.password.as_str()), (REGISTRY_USER, REGISTRY_PASSWORD));
        sources.push(obtained.source);
    }
    assert_eq!(server.count("/v2/"), 1, "one flow for {callers} callers");
    assert_eq!(server.count("/token"), 1);
    assert_eq!(sources.iter().filter(|s| **s == Source::Flow).count(), 1);
    assert_eq!(sources.iter().filter(|s| **s == Source::Shared).count(), callers - 1);
    assert!(runtime.pool().stats().created <= 2, "followers wait without holding instances");

    // Generic registry credentials have no expiry, so they are not cached:
    // a later request validates them again.
    runtime
        .credentials(&registry_request("registry.test", REGISTRY_USER, REGISTRY_PASSWORD), &TokenFiles::default())
        .await
        .unwrap();
    assert_eq!(server.count("/v2/"), 2);

    // Different keys (another user) are different flows, concurrently.
    let (good, bad, tokens) = (
        registry_request("registry.test", REGISTRY_USER, REGISTRY_PASSWORD),
        registry_request("registry.test", "someone-else", "other"),
        TokenFiles::default(),
    );
    let a = runtime.credentials(&good, &tokens);
    let b = runtime.credentials(&bad, &tokens);
    let (a, b) = tokio::join!(a, b);
    assert!(a.is_ok());
    assert_eq!(b.unwrap_err().kind(), &ErrorKind::HttpStatus { status: 401, code: Some("UNAUTHORIZED".into()) });
    assert_eq!(server.count("/v2/"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_share_the_leaders_failure_and_it_names_the_step() {
    let server = https(registry_handler(Duration::from_millis(300))).await;
    let clock = TestClock::new();
    let runtime =
        Arc::new(runtime(http_config(Some(&server), &["registry.test"]), 2, &clock, RuntimeConfig::default()));
    let request = registry_request("registry.test", REGISTRY_USER, "wrong-password");
    let results = futures_join(&runtime, &request, 6).await;
    assert_eq!(server.count("/token"), 1);
    for result in results {
        let error = result.unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("step 2 of the flow, GET https://registry.test/token, failed at host registry.test: http-status 401 (UNAUTHORIZED)"),
            "{text}"
        );
        assert!(!text.contains("wrong-password"), "{text}");
    }
}

async fn futures_join(
    runtime: &Arc<cloudauth_runtime::Runtime>,
    request: &CredentialRequest,
    n: usize,
) -> Vec<Result<cloudauth_runtime::Obtained, cloudauth_runtime::Error>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (runtime, request) = (Arc::clone(runtime), request.clone());
        tasks.push(tokio::spawn(async move { runtime.credentials(&request, &TokenFiles::default()).await }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn an_imds_that_refuses_is_named_with_its_step_and_host() {
    // No Azure environment: the flow asks the managed identity endpoint.
    let imds = http(Arc::new(|_: &Seen| {
        Reply::json(403, serde_json::json!({"error": "forbidden", "error_description": "Forbidden"}))
    }))
    .await;
    let clock = TestClock::new();
    let config = http_config(None, &[]).override_host("169.254.169.254", 80, imds.addr);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime
        .registry_credentials(
            "myregistry.azurecr.io/app:v1",
            Identity::Controller,
            options(&[]),
            &TokenFiles::default(),
        )
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("step 1 of the flow, GET http://169.254.169.254/metadata/identity/oauth2/token, failed at host 169.254.169.254: http-status 403"),
        "{text}"
    );
    assert!(!text.contains('?'), "no query in errors: {text}");
    assert_eq!(error.host(), Some("169.254.169.254"));
    assert_eq!(error.step().unwrap().number, 1);
    assert_eq!(imds.seen()[0].header("metadata"), Some("true"));
}

#[tokio::test]
async fn an_unreachable_host_is_named() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let clock = TestClock::new();
    let config = http_config(None, &[]).override_host("registry.test", 443, closed);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime
        .credentials(&registry_request("registry.test", REGISTRY_USER, REGISTRY_PASSWORD), &TokenFiles::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Transport);
    let text = error.to_string();
    assert!(
        text.starts_with("step 1 of the flow, GET https://registry.test/v2/, failed at host registry.test: cannot connect to registry.test:443"),
        "{text}"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_named() {
    let server = https(registry_handler(Duration::ZERO)).await;
    let clock = TestClock::new();
    // Mozilla's roots only: the test CA is not trusted.
    let config = cloudauth_runtime::HttpConfig::default().override_host("registry.test", 443, server.addr);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime
        .credentials(&registry_request("registry.test", REGISTRY_USER, REGISTRY_PASSWORD), &TokenFiles::default())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("failed at host registry.test: TLS with registry.test:443 failed: invalid peer certificate"),
        "{text}"
    );
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_missing_token_file_is_named_with_its_step() {
    let clock = TestClock::new();
    let runtime = runtime(http_config(None, &[]), 1, &clock, RuntimeConfig::default());
    let request = CredentialRequest {
        target: Target::Registry("myregistry.azurecr.io/app".into()),
        identity: Identity::Controller,
        options: azure_options(std::path::Path::new("/nonexistent/azure-identity-token")),
    };
    let error = runtime.credentials(&request, &TokenFiles::default()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::IdentityToken);
    let text = error.to_string();
    assert!(
        text.starts_with("step 1 of the flow, getting the identity token for audience \"api://AzureADTokenExchange\" (file /nonexistent/azure-identity-token), failed: cannot read the identity token file /nonexistent/azure-identity-token"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_requests_fail_at_start_and_generic_registries_need_credentials() {
    let clock = TestClock::new();
    let runtime = runtime(http_config(None, &[]), 1, &clock, RuntimeConfig::default());
    let request = CredentialRequest {
        target: Target::Registry("user:pass@myregistry.azurecr.io/app".into()),
        identity: Identity::Controller,
        options: options(&[]),
    };
    let error = runtime.credentials(&request, &TokenFiles::default()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidInput);
    assert!(error.to_string().starts_with("starting the session failed: invalid-input: "), "{error}");
    assert!(!error.to_string().contains("pass@"), "{error}");

    let error = runtime
        .registry_credentials("ghcr.io/fluxcd/flux", Identity::Controller, options(&[]), &TokenFiles::default())
        .await
        .unwrap_err();
    assert!(error.is_unsupported(), "{error}");
    assert!(error.to_string().contains("ghcr.io is not a cloud registry"), "{error}");
}

#[test]
fn secrets_never_reach_the_logs() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capturing(&capture));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let azure = https(azure_handler()).await;
        let registry = https(registry_handler(Duration::ZERO)).await;
        let clock = TestClock::new();
        let mut config = http_config(Some(&azure), &["login.microsoftonline.com", "myregistry.azurecr.io"]);
        config = config.override_host("registry.test", 443, registry.addr);
        let runtime = runtime(config, 2, &clock, RuntimeConfig::default());
        let file = federated_token_file("logs");
        let acr = runtime
            .registry_credentials(
                "myregistry.azurecr.io/app",
                Identity::Controller,
                azure_options(&file),
                &TokenFiles::default(),
            )
            .await
            .unwrap();
        // Debug of what a caller holds is safe too.
        tracing::info!(login = ?acr, "obtained");
        runtime
            .registry_credentials(
                "registry.test/app",
                Identity::Controller,
                registry_options(REGISTRY_USER, REGISTRY_PASSWORD),
                &TokenFiles::default(),
            )
            .await
            .unwrap();
        let failed = runtime
            .registry_credentials(
                "registry.test/app",
                Identity::Controller,
                registry_options(REGISTRY_USER, "wrong-password-value"),
                &TokenFiles::default(),
            )
            .await
            .unwrap_err();
        tracing::warn!(error = %failed, "failed as expected");
    });
    let logs = capture.text();
    // The capture saw the flows (so the check below is not vacuous)...
    assert!(logs.contains("send-http"), "{logs}");
    assert!(logs.contains("https://login.microsoftonline.com/"), "{logs}");
    assert!(logs.contains("https://myregistry.azurecr.io/oauth2/exchange"), "{logs}");
    assert!(logs.contains("https://registry.test/token"), "{logs}");
    assert!(logs.contains("fetch-identity-token"), "{logs}");
    assert!(logs.contains("Secret(<redacted>)"), "{logs}");
    // ...and no secret.
    for secret in [
        federated_token(),
        entra_access_token(),
        acr_refresh_token(),
        REGISTRY_PASSWORD.to_owned(),
        "wrong-password-value".to_owned(),
        REGISTRY_TOKEN.to_owned(),
        basic(REGISTRY_USER, REGISTRY_PASSWORD),
    ] {
        // Whole, and the distinctive middle of JWTs (their payload).
        let probe = secret.split('.').nth(1).unwrap_or(&secret).to_owned();
        assert!(!logs.contains(&probe), "a secret reached the logs: {probe}\n{logs}");
    }
}

#[tokio::test]
async fn the_process_environment_hands_over_every_variable_the_component_reads() {
    let pool = cloudauth_runtime::Pool::new(default_component(), 1);
    let mut instance = pool.get().await.unwrap();
    let names = instance
        .call("session.environment-names", |api, store| api.cloudauth_auth_session().call_environment_names(store))
        .unwrap();
    assert!(names.iter().any(|n| n == "HOME") && names.iter().any(|n| n == "AWS_ACCESS_KEY_ID"), "{names:?}");
    for name in &names {
        assert!(cloudauth_runtime::passed_to_flow(name), "{name} is read by the flows but not handed over");
    }
}

/// Answers ECR's GetAuthorizationToken as the ECR API reference documents
/// it, and keeps the requests (the test certificate has no ECR name, so
/// this one stays off the network).
struct FakeEcr(std::sync::Mutex<Vec<HttpRequest>>);

impl Transport for FakeEcr {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, cloudauth_runtime::Error>> + Send + 'a>>
    {
        use base64::Engine as _;
        self.0.lock().unwrap().push(request.clone());
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:ecr-password");
        let body = serde_json::json!({"authorizationData": [{
            "authorizationToken": token,
            "expiresAt": NOW + 43_200,
            "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        }]});
        Box::pin(async move {
            Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/x-amz-json-1.1".into())],
                body: body.to_string().into_bytes(),
            })
        })
    }
}

#[tokio::test]
async fn home_from_the_process_environment_finds_the_aws_shared_credentials() {
    let home = std::env::temp_dir().join(format!("cloudauth-runtime-{}-home", std::process::id()));
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIAFROMHOMEFILE\naws_secret_access_key = secret-from-the-file\n",
    )
    .unwrap();
    let vars = [("HOME".to_owned(), home.to_str().unwrap().to_owned()), ("PATH".to_owned(), "/usr/bin".to_owned())];
    let options = cloudauth_runtime::options_from_env(&vars.into_iter().collect()).unwrap();
    let ecr = Arc::new(FakeEcr(std::sync::Mutex::new(Vec::new())));
    let pool = cloudauth_runtime::Pool::new(default_component(), 1);
    let clock = TestClock::new();
    let runtime =
        cloudauth_runtime::Runtime::new(pool, ecr.clone(), RuntimeConfig::default()).with_clock(clock.clock());
    let login = runtime
        .registry_credentials(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1",
            Identity::Controller,
            options,
            &TokenFiles::default(),
        )
        .await
        .unwrap();
    assert_eq!((login.username.as_str(), login.password.expose().as_str()), ("AWS", "ecr-password"));
    let sent = ecr.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url, "https://api.ecr.eu-west-1.amazonaws.com/");
    let authorization = sent[0].headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("authorization")).unwrap();
    assert!(authorization.1.contains("Credential=AKIAFROMHOMEFILE/"), "{}", authorization.1);
    std::fs::remove_dir_all(&home).ok();
}
