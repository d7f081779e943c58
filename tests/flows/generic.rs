//! Generic registries: the distribution token flow with configured credentials.

use super::*;

fn challenge(id: &str) -> String {
    cases::input("oci.challenge.json", id, "header")
}

fn ping(url: &str) -> Value {
    json!({"method": "GET", "url": url, "absent_headers": ["Authorization"]})
}

pub(crate) fn with_basic(mut o: Options, user: &str, password: &str) -> Options {
    o.registry_username = Some(user.into());
    o.registry_password = Some(password.into());
    o
}

/// A generic registry's outcome: the host's credentials, validated, as
/// docker-login credentials without expiry.
pub(crate) fn generic_scenarios() -> Vec<Scenario> {
    let (anon_status, anon_body) = cases::response("oci.token.response.json", "anonymous");
    let (acr_status, acr_body) = cases::response("oci.token.response.json", "acr-style");
    let basic_input = cases::case("oci.token.request.json", "basic")["input"].clone();
    let (user, password) = (basic_input["username"].as_str().unwrap(), basic_input["password"].as_str().unwrap());
    let mut out = Vec::new();

    // A Bearer challenge: a token request with the credentials validates
    // them; the token is dropped, the credentials are the outcome.
    out.push(scenario(
        "generic-basic-token",
        registry("registry.example.test/team/app", Identity::Controller, with_basic(options(&[]), user, password)),
        vec![
            Exchange::http(
                ping("https://registry.example.test/v2/"),
                response(401, &[("www-authenticate", &challenge("oras-nested-repo"))], ""),
                None,
            ),
            Exchange::http(
                cases::request("oci.token.request.json", "basic"),
                response(acr_status, &[], &acr_body),
                Some("{\"token\": 7}"),
            ),
        ],
        Outcome::Done(registry_credentials(user, password, None)),
    ));
    // The token server refuses the credentials: failed, with its status and code.
    out.push(scenario(
        "generic-token-server-refuses",
        registry(
            "registry.example.test/team/app",
            Identity::Controller,
            with_basic(options(&[]), user, "wrong"),
        ),
        vec![
            Exchange::http(
                ping("https://registry.example.test/v2/"),
                response(
                    401,
                    &[("WWW-Authenticate", &challenge("oras-nested-repo"))],
                    "",
                ),
                None,
            ),
            Exchange::http(
                json!({"method": "GET", "url": cases::request("oci.token.request.json", "basic")["url"].clone(), "headers": {"Authorization": format!("Basic {}", b64(&format!("{user}:wrong")))}}),
                response(
                    401,
                    &[],
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                ),
                None,
            ),
        ],
        Outcome::Failed {
            kind: "http-status",
            code: Some("UNAUTHORIZED"),
        },
    ));
    // Docker Hub: the API host and its token server are a built-in pair.
    out.push(scenario(
        "generic-docker-hub-basic",
        registry("alpine", Identity::Controller, with_basic(options(&[]), "u", "p")),
        vec![
            Exchange::http(ping("https://registry-1.docker.io/v2/"), response(401, &[("WWW-Authenticate", r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#)], ""), None),
            Exchange::http(
                json!({"method": "GET", "url": "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull", "headers": {"Authorization": "Basic dTpw"}}),
                response(anon_status, &[], &anon_body),
                None,
            ),
        ],
        Outcome::Done(registry_credentials("u", "p", None)),
    ));
    // 200 on /v2/ or a Basic challenge: nothing to validate against, the
    // credentials as they are.
    out.push(scenario(
        "generic-open-registry",
        registry("localhost:5000/app", Identity::Controller, with_basic(options(&[]), "u", "p")),
        vec![Exchange::http(ping("https://localhost:5000/v2/"), response(200, &[], "{}"), None)],
        Outcome::Done(registry_credentials("u", "p", None)),
    ));
    out.push(scenario(
        "generic-basic-challenge",
        registry("registry.example.test/app", Identity::Controller, with_basic(options(&[]), "u", "p")),
        vec![Exchange::http(
            ping("https://registry.example.test/v2/"),
            response(401, &[("WWW-Authenticate", &challenge("basic"))], ""),
            None,
        )],
        Outcome::Done(registry_credentials("u", "p", None)),
    ));
    out.push(scenario(
        "generic-challenge-without-realm",
        registry("registry.example.test/app", Identity::Controller, with_basic(options(&[]), "u", "p")),
        vec![Exchange::http(
            ping("https://registry.example.test/v2/"),
            response(401, &[("WWW-Authenticate", &challenge("no-realm"))], ""),
            None,
        )],
        Outcome::Failed { kind: "malformed-response", code: None },
    ));

    // The generic provider's access token: the Kubernetes token itself.
    let sa_token = jwt(&json!({"sub": "system:serviceaccount:apps:puller", "exp": FAR}));
    out.push(scenario(
        "generic-access-token-service-account",
        access_token(Provider::Generic, &["https://kubernetes.example"], sa("apps", "puller", &[]), options(&[])),
        vec![Exchange::token("https://kubernetes.example", Some(("apps", "puller")), None, &sa_token)],
        Outcome::Done(Credentials::AccessToken(AccessToken { token: sa_token.clone(), expires_at: FAR })),
    ));
    out
}
