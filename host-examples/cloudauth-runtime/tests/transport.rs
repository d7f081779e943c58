//! The HTTP client under the flows: timeouts, response size limits, and
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, against servers and a CONNECT
//! proxy on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudauth_runtime::api::session::{Identity, Target};
use cloudauth_runtime::{CredentialRequest, ErrorKind, ProxyConfig, RuntimeConfig, TokenFiles};
use support::*;

fn registry_request() -> CredentialRequest {
    CredentialRequest {
        target: Target::Registry("registry.test/team/app".into()),
        identity: Identity::Controller,
        options: registry_options(REGISTRY_USER, REGISTRY_PASSWORD),
    }
}

fn proxies(vars: &[(&str, String)]) -> ProxyConfig {
    ProxyConfig::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap()
}

#[tokio::test]
async fn a_slow_answer_times_out_and_names_the_step() {
    let server = https(registry_handler(Duration::from_secs(20))).await;
    let clock = TestClock::new();
    let mut config = http_config(Some(&server), &["registry.test"]);
    config.timeout = Duration::from_millis(300);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let started = Instant::now();
    let error = runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(error.kind(), &ErrorKind::Timeout);
    assert_eq!(
        error.to_string(),
        "step 1 of the flow, GET https://registry.test/v2/, failed at host registry.test: no complete answer within 0.3s"
    );
}

#[tokio::test]
async fn the_whole_flow_has_a_deadline() {
    let server = https(registry_handler(Duration::from_secs(20))).await;
    let clock = TestClock::new();
    let config = http_config(Some(&server), &["registry.test"]);
    let runtime = runtime(
        config,
        1,
        &clock,
        RuntimeConfig { flow_timeout: Duration::from_millis(300), ..RuntimeConfig::default() },
    );
    let error = runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Timeout);
    let text = error.to_string();
    assert!(text.starts_with("step 1 of the flow, GET https://registry.test/v2/, failed at host registry.test: waiting for the answer: the flow took longer than 0.3s"), "{text}");
}

fn big_token_answer(chunked: bool) -> Handler {
    Arc::new(move |seen: &Seen| {
        if seen.path() == "/token" {
            let mut reply = Reply::json(200, serde_json::json!({"token": "t", "pad": "a".repeat(2 << 20)}));
            reply.chunked = chunked;
            return reply;
        }
        registry_handler(Duration::ZERO)(seen)
    })
}

#[tokio::test]
async fn answers_over_the_size_limit_fail_with_or_without_a_length() {
    for chunked in [false, true] {
        let server = https(big_token_answer(chunked)).await;
        let clock = TestClock::new();
        let runtime = runtime(http_config(Some(&server), &["registry.test"]), 1, &clock, RuntimeConfig::default());
        let error = runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::TooLarge, "chunked {chunked}: {error}");
        assert_eq!(
            error.to_string(),
            "step 2 of the flow, GET https://registry.test/token, failed at host registry.test: the answer is larger than the limit of 1048576 bytes"
        );
    }
}

#[tokio::test]
async fn the_size_limit_is_configurable() {
    let server = https(registry_handler(Duration::ZERO)).await;
    let clock = TestClock::new();
    let mut config = http_config(Some(&server), &["registry.test"]);
    // The registry's 401 answer (about 75 bytes) is over this limit.
    config.max_response_bytes = 50;
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::TooLarge, "{error}");
    assert_eq!(error.step().unwrap().number, 1, "{error}");
    assert!(error.to_string().ends_with("the answer is larger than the limit of 50 bytes"), "{error}");
}

#[tokio::test]
async fn https_goes_through_the_proxy_in_a_tunnel_with_its_credentials() {
    let server = https(registry_handler(Duration::ZERO)).await;
    let proxy = connect_proxy(server.addr, false).await;
    let clock = TestClock::new();
    let mut config = http_config(None, &[]);
    config.proxy = proxies(&[("HTTPS_PROXY", format!("http://proxy-user:proxy%20pass@{}", proxy.addr))]);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let login = runtime
        .registry_credentials(
            "registry.test/team/app",
            Identity::Controller,
            registry_options(REGISTRY_USER, REGISTRY_PASSWORD),
            &TokenFiles::default(),
        )
        .await
        .unwrap();
    assert_eq!(login.username, REGISTRY_USER);
    let connects = proxy.connects.lock().unwrap().clone();
    assert!(!connects.is_empty());
    for (line, auth) in &connects {
        assert_eq!(line, "CONNECT registry.test:443 HTTP/1.1");
        assert_eq!(auth.as_deref(), Some(basic("proxy-user", "proxy pass").as_str()));
    }
    // The registry saw both requests, through the tunnel.
    assert_eq!(server.count("/v2/") + server.count("/token"), 2);
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let server = https(registry_handler(Duration::ZERO)).await;
    let proxy = connect_proxy(server.addr, false).await;
    let clock = TestClock::new();
    let mut config = http_config(Some(&server), &["registry.test"]);
    config.proxy = proxies(&[
        ("HTTPS_PROXY", format!("http://{}", proxy.addr)),
        ("NO_PROXY", ".example.com,registry.test".into()),
    ]);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap();
    assert!(proxy.connects.lock().unwrap().is_empty(), "NO_PROXY host went through the proxy");
    assert_eq!(server.count("/v2/"), 1);
}

#[tokio::test]
async fn a_proxy_that_refuses_is_named() {
    let server = https(registry_handler(Duration::ZERO)).await;
    let proxy = connect_proxy(server.addr, true).await;
    let clock = TestClock::new();
    let mut config = http_config(None, &[]);
    config.proxy = proxies(&[("HTTPS_PROXY", format!("http://user:hunter2@{}", proxy.addr))]);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime.credentials(&registry_request(), &TokenFiles::default()).await.unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Transport);
    let text = error.to_string();
    assert_eq!(
        text,
        format!(
            "step 1 of the flow, GET https://registry.test/v2/, failed at host registry.test: the proxy {}: it refused CONNECT registry.test:443: HTTP/1.1 403 Forbidden",
            proxy.addr
        )
    );
    assert!(!text.contains("hunter2"));
}

#[tokio::test]
async fn plain_http_goes_to_the_proxy_in_absolute_form() {
    // The "proxy" answers as the metadata service would, and records the
    // absolute-form request it got.
    let proxy = http(Arc::new(|_: &Seen| Reply::json(403, serde_json::json!({"error": "forbidden"})))).await;
    let clock = TestClock::new();
    let mut config = http_config(None, &[]);
    config.proxy = proxies(&[("HTTP_PROXY", format!("http://u:p@{}", proxy.addr))]);
    let runtime = runtime(config, 1, &clock, RuntimeConfig::default());
    let error = runtime
        .registry_credentials("myregistry.azurecr.io/app", Identity::Controller, options(&[]), &TokenFiles::default())
        .await
        .unwrap_err();
    assert_eq!(error.host(), Some("169.254.169.254"));
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].target.starts_with("http://169.254.169.254/metadata/identity/oauth2/token?"), "{}", seen[0].target);
    assert_eq!(seen[0].header("proxy-authorization"), Some(basic("u", "p").as_str()));
}

#[test]
fn unsupported_proxies_fail_at_start() {
    let error =
        ProxyConfig::from_vars(|n| (n == "HTTPS_PROXY").then(|| "socks5://127.0.0.1:1080".to_owned())).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Setup);
    assert!(error.to_string().contains("HTTPS_PROXY: the proxy scheme socks5:// is not supported"), "{error}");
}
