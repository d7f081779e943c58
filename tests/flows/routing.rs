//! Routing safety: no token to a look-alike host, the registry password only to trusted realms.

use super::*;

/// Starts a request and answers its first request; returns the host, the
/// session and the first request.
fn first_request(
    request: &SessionRequest,
) -> (Host, wasmtime::component::ResourceAny, support::api::types::HttpRequest) {
    let mut host = Host::new();
    let s = host.start(request).unwrap_or_else(|e| panic!("start: {}", message(&e)));
    let Step::SendHttp(first) = host.next(s) else { panic!("no request first") };
    (host, s, first)
}

#[test]
fn look_alike_cloud_hosts_get_no_cloud_token() {
    for reference in [
        "myregistry.azurecr.io.evil.example/app",
        "evil.example/myregistry.azurecr.io/app",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app",
        "us-docker.pkg.dev.evil.example/p/r/app",
        "evil-gcr.io/app",
    ] {
        // Even with a cloud identity configured, the look-alike is a generic
        // registry: without registry credentials it is refused at start, and
        // the environment's cloud identity is never used.
        let env = options(&[
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        let err =
            Host::new().start(&registry(reference, Identity::Controller, env.clone())).map(drop).expect_err(reference);
        assert_eq!(kind(&err), "unsupported", "{reference}: {}", message(&err));
        // With registry credentials, the first request is a ping of it that
        // carries nothing.
        let (mut host, s, first) = first_request(&registry(reference, Identity::Controller, with_basic(env, "u", "p")));
        assert_eq!(first.method, "GET", "{reference}");
        assert!(
            first.url.ends_with("/v2/") && first.headers.iter().all(|(k, _)| !k.eq_ignore_ascii_case("authorization")),
            "{reference}: {}",
            first.url
        );
        // Its challenge sends us to an evil realm: refused, nothing sent.
        let challenge = r#"Bearer realm="https://realm.evil.test/token",service="evil""#;
        let err = host.http(s, &response(401, &[("WWW-Authenticate", challenge)], ""), NOW).expect_err(reference);
        assert_eq!(kind(&err), "invalid-input", "{reference}");
        assert!(matches!(host.next(s), Step::Failed(_)), "{reference}");
        // With a service account it is refused outright.
        let err = host.start(&registry(reference, azure_sa(), options(&[]))).map(drop).expect_err(reference);
        assert_eq!(kind(&err), "unsupported", "{reference}");
    }
}

#[test]
fn registry_password_goes_only_to_trusted_realms() {
    let creds = with_basic(options(&[]), "u", "p");
    let untrusted = [
        r#"Bearer realm="https://evil.example/token""#,
        r#"Bearer realm="https://registry.example.test.evil.example/token""#,
        r#"Bearer realm="https://registry.example.test@evil.example/token""#,
        r#"Bearer realm="https://evil.example\@registry.example.test/token""#,
        r#"Bearer realm="https://registry.example.test:8443/token""#,
        r#"Bearer realm="http://registry.example.test/token""#,
        r#"Bearer realm="//evil.example/token""#,
        r#"Bearer realm="https://auth.docker.io/token""#,
    ];
    for challenge in untrusted {
        let (mut host, s, _) =
            first_request(&registry("registry.example.test/app", Identity::Controller, creds.clone()));
        let err = host.http(s, &response(401, &[("WWW-Authenticate", challenge)], ""), NOW).expect_err(challenge);
        assert!(matches!(kind(&err), "invalid-input" | "malformed-response"), "{challenge}: {}", message(&err));
        assert!(matches!(host.next(s), Step::Failed(_)), "{challenge}");
    }
    // A realm host the caller trusts gets the credentials.
    let mut trusted = creds.clone();
    trusted.trusted_realm_hosts = vec!["auth.example.test".into()];
    let (mut host, s, _) = first_request(&registry("registry.example.test/app", Identity::Controller, trusted));
    host.http(
        s,
        &response(401, &[("WWW-Authenticate", r#"Bearer realm="https://auth.example.test/token",service="r""#)], ""),
        NOW,
    )
    .unwrap();
    let Step::SendHttp(req) = host.next(s) else { panic!() };
    let expect = json!({"method": "GET", "url": "https://auth.example.test/token?service=r&scope=repository%3Aapp%3Apull", "headers": {"Authorization": "Basic dTpw"}});
    check_request(&expect, &req).unwrap();
}

#[test]
fn cloud_token_requests_go_to_the_cloud_only() {
    // Every request of every successful scenario goes to a host of the
    // target or of the provider, checked by the session's guard; here the
    // final destinations are listed explicitly.
    let (_, _, first) = first_request(&registry("myregistry.azurecr.io/app", Identity::Controller, options(&[])));
    assert!(first.url.starts_with("http://169.254.169.254/metadata/identity/oauth2/token?"));
    let (_, _, first) = first_request(&registry("us-docker.pkg.dev/p/r/app", Identity::Controller, options(&[])));
    assert!(
        first
            .url
            .starts_with("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token")
    );
    let (_, _, first) = first_request(&registry(
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app",
        Identity::Controller,
        options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
    ));
    assert!(first.url.starts_with("https://api.ecr.eu-central-1.amazonaws.com/"), "{}", first.url);
}
