//! The `policy` interface through the built component: `evaluate` against
//! hostile rules documents, and rules enforced by sessions, where a response
//! tries to steer the flow to a host the rules forbid.

mod support;

#[allow(dead_code)]
#[path = "flows/cases.rs"]
mod cases;

use support::Instance;
use support::api::policy::Decision;
use support::api::session::{Cluster, Credentials, Identity, Options, ServiceAccount, SessionRequest, Step, Target};
use support::api::types::{Error, HttpResponse, Provider};

const NOW: i64 = 1_705_320_000;

fn options() -> Options {
    Options { object_level_workload_identity: true, ..support::session_options(&[]) }
}

fn registry(reference: &str, identity: Identity, options: Options) -> SessionRequest {
    SessionRequest { target: Target::Registry(reference.into()), identity, options, now: NOW }
}

fn sa(namespace: &str, annotations: &[(&str, &str)]) -> Identity {
    Identity::ServiceAccount(ServiceAccount {
        namespace: namespace.into(),
        name: "puller".into(),
        annotations: annotations.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    })
}

fn message(e: &Error) -> String {
    match e {
        Error::InvalidInput(m) | Error::Unsupported(m) | Error::MalformedResponse(m) => m.clone(),
        Error::HttpStatus(s) => s.message.clone(),
    }
}

fn evaluate(i: &mut Instance, request: &SessionRequest, rules: &str) -> Result<Decision, Error> {
    i.api.cloudauth_auth_policy().call_evaluate(&mut i.store, request, rules).expect("evaluate trapped")
}

fn allowed(i: &mut Instance, request: &SessionRequest, rules: &str) -> bool {
    let d = evaluate(i, request, rules).unwrap_or_else(|e| panic!("{rules}: {}", message(&e)));
    assert_eq!(d.allowed, d.denied_by.is_empty(), "{d:?}");
    d.allowed
}

fn invalid(i: &mut Instance, request: &SessionRequest, rules: &str) -> String {
    match evaluate(i, request, rules) {
        Err(Error::InvalidInput(m)) => m,
        other => panic!("{}: expected invalid-input, got {other:?}", &rules[..rules.len().min(80)]),
    }
}

fn acr(host: &str) -> SessionRequest {
    registry(&format!("{host}/app"), Identity::Controller, options())
}

fn hosts_rule(patterns: &[&str]) -> String {
    serde_json::json!({"version": 1, "allow": {"hosts": patterns}}).to_string()
}

#[test]
fn question_from_the_issue_may_team_a_assume_the_admin_role() {
    let mut i = support::instantiate();
    let rules = r#"{"version":1,"allow":{"providers":["aws"],"awsAccounts":["123456789012"]},
        "namespaces":{"team-a":{"objectLevelIdentity":true,"principals":["arn:aws:iam::123456789012:role/team-a-*"]}}}"#;
    let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";
    let admin = registry(
        ecr,
        sa("team-a", &[("eks.amazonaws.com/role-arn", "arn:aws:iam::999999999999:role/admin")]),
        options(),
    );
    let d = evaluate(&mut i, &admin, rules).unwrap();
    assert!(!d.allowed);
    assert_eq!(
        d.denied_by,
        vec![
            "AWS account 999999999999 matches nothing in allow.awsAccounts",
            "principal arn:aws:iam::999999999999:role/admin matches nothing in namespaces.team-a.principals",
        ]
    );
    let own = registry(
        ecr,
        sa("team-a", &[("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/team-a-pull")]),
        options(),
    );
    let d = evaluate(&mut i, &own, rules).unwrap();
    assert!(d.allowed, "{d:?}");
    assert!(d.allowed_by.iter().any(|r| r.starts_with("namespaces.team-a.principals[0]")), "{d:?}");
    // team-b is not in namespaces: no object-level identity at all.
    let other = registry(
        ecr,
        sa("team-b", &[("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/team-a-pull")]),
        options(),
    );
    assert!(!allowed(&mut i, &other, rules));
}

#[test]
fn host_wildcards_cannot_cross_labels_or_match_look_alikes() {
    let mut i = support::instantiate();
    let rules = hosts_rule(&["*.azurecr.io"]);
    assert!(allowed(&mut i, &acr("team.azurecr.io"), &rules));
    // A look-alike is not an ACR registry (generic), and its host is not under azurecr.io.
    let mut look_alike = registry("team.azurecr.io.evil.example/app", Identity::Controller, options());
    look_alike.options.registry_username = Some("u".into());
    look_alike.options.registry_password = Some("p".into());
    let d = evaluate(&mut i, &look_alike, &rules).unwrap();
    assert_eq!(d.denied_by, vec!["host team.azurecr.io.evil.example matches nothing in allow.hosts"]);
    for (host, ok) in [("a.b.azurecr.io", false), ("azurecr.io", false), ("TEAM.AZURECR.IO", true)] {
        let mut r = acr(host);
        r.options.azure_environment = None;
        let result = evaluate(&mut i, &r, &rules);
        match result {
            Ok(d) => assert_eq!(d.allowed, ok, "{host}: {d:?}"),
            Err(e) => assert!(!ok, "{host}: {}", message(&e)),
        }
    }
    // A wildcard of its own in the middle of a pattern is malformed, not a wider match.
    for bad in ["*.*.azurecr.io", "team*.azurecr.io", "*azurecr.io", "*", "*.io"] {
        let m = invalid(&mut i, &acr("team.azurecr.io"), &hosts_rule(&[bad]));
        assert!(m.starts_with("rules: $.allow.hosts[0]: "), "{bad}: {m}");
    }
}

#[test]
fn unicode_hosts_and_regex_metacharacters_mean_nothing_special() {
    let mut i = support::instantiate();
    let request = acr("team.azurecr.io");
    // Cyrillic "а" (U+0430) in a look-alike pattern: refused, with the path.
    let m = invalid(&mut i, &request, &hosts_rule(&["team.\u{0430}zurecr.io"]));
    assert!(m.starts_with("rules: $.allow.hosts[0]: ") && m.contains("xn--"), "{m}");
    let m = invalid(&mut i, &request, &hosts_rule(&["ghcr.io", "team.azurecr.io\u{200b}"]));
    assert!(m.starts_with("rules: $.allow.hosts[1]: "), "{m}");
    // Regular-expression syntax is refused in hosts ...
    for bad in [".*", "team\\.azurecr\\.io", "(team).azurecr.io", "team.azurecr.io$", "[a-z]+.azurecr.io"] {
        let m = invalid(&mut i, &request, &hosts_rule(&[bad]));
        assert!(m.starts_with("rules: $.allow.hosts[0]: "), "{bad}: {m}");
    }
    // ... and literal in principals: `.*` matches a dot and anything, not any account.
    let role = |arn: &str| {
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            sa("team-a", &[("eks.amazonaws.com/role-arn", arn)]),
            options(),
        )
    };
    let rules = r#"{"version":1,"allow":{"principals":["arn:aws:iam::.*:role/puller"]},"namespaces":{"team-a":{"objectLevelIdentity":true}}}"#;
    let d = evaluate(&mut i, &role("arn:aws:iam::123456789012:role/puller"), rules).unwrap();
    assert_eq!(
        d.denied_by,
        vec!["principal arn:aws:iam::123456789012:role/puller matches nothing in allow.principals"]
    );
    let rules = r#"{"version":1,"allow":{"principals":["arn:aws:iam::123456789012:role/pull?r"]},"namespaces":{"team-a":{"objectLevelIdentity":true}}}"#;
    assert!(!allowed(&mut i, &role("arn:aws:iam::123456789012:role/puller"), rules));
    let m = invalid(&mut i, &request, r#"{"version":1,"allow":{"principals":["arn:aws:iam::*:role/r\u00f4le"]}}"#);
    assert!(m.starts_with("rules: $.allow.principals[0]: "), "{m}");
}

#[test]
fn huge_deep_and_duplicate_documents_are_refused() {
    let mut i = support::instantiate();
    let request = acr("team.azurecr.io");
    let many: Vec<String> = (0..20_000).map(|n| format!("h{n}.example.com")).collect();
    let huge = serde_json::json!({"version": 1, "allow": {"hosts": many}}).to_string();
    assert!(invalid(&mut i, &request, &huge).contains("bytes, more than"));
    let many: Vec<String> = (0..1001).map(|n| format!("h{n}.example.com")).collect();
    let long_list = serde_json::json!({"version": 1, "allow": {"hosts": many}}).to_string();
    assert!(invalid(&mut i, &request, &long_list).starts_with("rules: $.allow.hosts: has 1001 entries"));
    let deep = format!(r#"{{"version":1,"allow":{}{}}}"#, "[".repeat(5000), "]".repeat(5000));
    assert!(invalid(&mut i, &request, &deep).starts_with("rules: "));
    let nested = r#"{"version":1,"allow":{"hosts":[["team.azurecr.io"]]}}"#;
    assert!(invalid(&mut i, &request, nested).starts_with("rules: $.allow.hosts[0]: must be a string"));
    for dup in [
        r#"{"version":1,"allow":{"hosts":["team.azurecr.io"]},"allow":{"hosts":["evil.example"]}}"#,
        r#"{"version":1,"deny":{"hosts":["team.azurecr.io"],"hosts":[]},"allow":{"hosts":["team.azurecr.io"]}}"#,
        r#"{"version":1,"version":1}"#,
    ] {
        assert!(invalid(&mut i, &request, dup).contains("duplicate key"), "{dup}");
    }
    let unknown = r#"{"version":1,"allow":{"hosts":["team.azurecr.io"],"registries":["x"]}}"#;
    assert!(invalid(&mut i, &request, unknown).starts_with("rules: $.allow.registries: unknown key"));
    // The component survives all of that.
    assert!(allowed(&mut i, &request, &hosts_rule(&["team.azurecr.io"])));
}

#[test]
fn deny_wins_and_no_match_denies() {
    let mut i = support::instantiate();
    let request = acr("team.azurecr.io");
    let both = r#"{"version":1,"allow":{"hosts":["*.azurecr.io"],"providers":["azure"]},"deny":{"hosts":["team.azurecr.io"]}}"#;
    let d = evaluate(&mut i, &request, both).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.denied_by, vec![r#"deny.hosts[0] "team.azurecr.io" matches host team.azurecr.io"#]);
    assert_eq!(d.allowed_by.len(), 2, "{d:?}");
    let d = evaluate(&mut i, &request, r#"{"version":1,"deny":{"hosts":["evil.example"]}}"#).unwrap();
    assert_eq!(d.denied_by, vec!["no allow rule matches this request"]);
    // The request itself must be one start accepts: its error comes first.
    let bad = registry("ghcr.io/o/app", Identity::Controller, options());
    assert!(matches!(evaluate(&mut i, &bad, both), Err(Error::Unsupported(_))));
}

// ------------------------------------------------ enforcement in sessions

fn start(i: &mut Instance, request: &SessionRequest) -> Result<wasmtime::component::ResourceAny, Error> {
    i.api.cloudauth_auth_session().session().call_start(&mut i.store, request).expect("start trapped")
}

fn next(i: &mut Instance, s: wasmtime::component::ResourceAny) -> Step {
    i.api.cloudauth_auth_session().session().call_next(&mut i.store, s).expect("next trapped")
}

fn receive(i: &mut Instance, s: wasmtime::component::ResourceAny, r: &HttpResponse) -> Result<(), Error> {
    i.api.cloudauth_auth_session().session().call_receive_http(&mut i.store, s, r, NOW).expect("receive trapped")
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn url_of(step: &Step) -> String {
    match step {
        Step::SendHttp(r) => r.url.clone(),
        other => panic!("expected send-http, got {other:?}"),
    }
}

#[test]
fn start_refuses_what_the_rules_deny() {
    let mut i = support::instantiate();
    let mut request = acr("team.azurecr.io");
    request.options.rules =
        Some(r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]},"deny":{"hosts":["team.azurecr.io"]}}"#.into());
    let err = start(&mut i, &request).unwrap_err();
    assert_eq!(message(&err), r#"denied by the rules: deny.hosts[0] "team.azurecr.io" matches host team.azurecr.io"#);
    request.options.rules = Some(r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]}}"#.into());
    let s = start(&mut i, &request).unwrap();
    assert!(url_of(&next(&mut i, s)).starts_with("http://169.254.169.254/"));
    request.options.rules = Some(r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]}"#.into());
    assert!(message(&start(&mut i, &request).unwrap_err()).starts_with("rules: not a valid JSON document"));
}

/// A Bearer challenge sends the registry password to a realm on a host the
/// caller trusts (trusted-realm-hosts) but the rules forbid: the session
/// fails instead of sending it. Without the rules the same challenge is
/// followed, so it is the rules that stop it.
#[test]
fn a_bearer_realm_cannot_steer_the_password_to_a_forbidden_host() {
    let mut i = support::instantiate();
    let mut o = options();
    o.registry_username = Some("u".into());
    o.registry_password = Some("p".into());
    o.trusted_realm_hosts = vec!["auth.example.test".into(), "login.evil.example".into()];
    let rules = r#"{"version":1,"allow":{"hosts":["registry.example.test","auth.example.test"]}}"#;
    let challenge = |realm: &str| format!(r#"Bearer realm="https://{realm}/token",service="r""#);
    for (realm, ruled, ok) in
        [("login.evil.example", true, false), ("login.evil.example", false, true), ("auth.example.test", true, true)]
    {
        let mut request = registry("registry.example.test/app", Identity::Controller, o.clone());
        request.options.rules = ruled.then(|| rules.to_owned());
        let s = start(&mut i, &request).unwrap();
        assert_eq!(url_of(&next(&mut i, s)), "https://registry.example.test/v2/");
        let result = receive(&mut i, s, &response(401, &[("WWW-Authenticate", &challenge(realm))], ""));
        if ok {
            result.unwrap();
            assert!(url_of(&next(&mut i, s)).starts_with(&format!("https://{realm}/token?")));
        } else {
            let err = result.unwrap_err();
            assert_eq!(
                message(&err),
                "denied by the rules: the request host login.evil.example matches nothing in allow.hosts"
            );
            assert!(matches!(next(&mut i, s), Step::Failed(Error::InvalidInput(_))));
        }
    }
}

/// A GKE lookup answers with the cluster's address: an address the rules
/// forbid fails the session, so the host never gets a REST config that
/// would send the token there.
#[test]
fn a_looked_up_cluster_address_cannot_steer_the_token_to_a_forbidden_host() {
    let mut i = support::instantiate();
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let rules = r#"{"version":1,"allow":{"providers":["gcp"],"hosts":["*.gke.example.com"]},"maxCredentialLifetimeSeconds":7200}"#;
    for (endpoint, ok) in [("34.118.1.2", false), ("evil.example", false), ("c1.gke.example.com", true)] {
        let mut request = SessionRequest {
            target: Target::Cluster(Cluster {
                provider: Provider::Gcp,
                resource_id: "projects/my-project/locations/us-central1/clusters/my-cluster".into(),
                address: None,
                ca_data: None,
            }),
            identity: Identity::Controller,
            options: options(),
            now: NOW,
        };
        request.options.rules = Some(rules.into());
        let s = start(&mut i, &request).unwrap();
        assert!(url_of(&next(&mut i, s)).starts_with("http://metadata.google.internal/"));
        receive(&mut i, s, &response(md_status, &[], &md_body)).unwrap();
        assert!(url_of(&next(&mut i, s)).starts_with("https://container.googleapis.com/v1/projects/my-project/"));
        let cluster = serde_json::json!({"name": "my-cluster", "endpoint": endpoint, "masterAuth": {"clusterCaCertificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJmYWtlQ0E9PQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="}});
        let result = receive(&mut i, s, &response(200, &[], &cluster.to_string()));
        if ok {
            result.unwrap();
            assert!(
                matches!(next(&mut i, s), Step::Done(Credentials::RestConfig(c)) if c.host == format!("https://{endpoint}"))
            );
        } else {
            let m = message(&result.unwrap_err());
            assert_eq!(
                m,
                format!("denied by the rules: the cluster API server {endpoint} matches nothing in allow.hosts")
            );
            assert!(matches!(next(&mut i, s), Step::Failed(_)));
        }
    }
}

/// Credentials that live longer than the rules allow are not handed out.
#[test]
fn credentials_longer_than_the_maximum_lifetime_are_refused() {
    let mut i = support::instantiate();
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let expires_in: i64 = serde_json::from_str::<serde_json::Value>(&md_body).unwrap()["expires_in"].as_i64().unwrap();
    for (max, ok) in [(expires_in - 1, false), (expires_in, true)] {
        let mut request = registry("europe-docker.pkg.dev/my-project/r/app", Identity::Controller, options());
        request.options.rules =
            Some(format!(r#"{{"version":1,"allow":{{"providers":["gcp"]}},"maxCredentialLifetimeSeconds":{max}}}"#));
        let s = start(&mut i, &request).unwrap();
        let result = receive(&mut i, s, &response(md_status, &[], &md_body));
        assert_eq!(result.is_ok(), ok, "max {max}: {result:?}");
        if !ok {
            assert!(message(&result.unwrap_err()).contains("longer than maxCredentialLifetimeSeconds"));
        }
    }
}
