//! The session state machine, natively: step order, the end states, the
//! guard at the exit, and the cache around it. Complete flows are tested
//! through the component in `tests/flows/`.

use super::*;
use crate::credentials::AccessToken;
use crate::registry::Provider;

const NOW: i64 = 1_705_320_000;

fn jwt(exp: i64) -> Secret {
    use base64::Engine;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
    Secret::new(format!("eyJhbGciOiJub25lIn0.{claims}.c2ln"))
}

fn request(target: Target, identity: Identity, skip_cache: bool) -> SessionRequest {
    let options = Options { object_level_workload_identity: true, skip_cache, ..Options::default() };
    SessionRequest { target, identity, options, now: NOW }
}

fn sa(name: &str) -> Identity {
    Identity::ServiceAccount(ServiceAccount { namespace: "apps".into(), name: name.into(), annotations: vec![] })
}

fn kubernetes_token(audience: &str, name: &str, skip_cache: bool) -> SessionRequest {
    request(Target::AccessToken { provider: Provider::Generic, scopes: vec![audience.into()] }, sa(name), skip_cache)
}

fn imds(status: u16, body: &str) -> HttpResponse {
    HttpResponse::new(status, body)
}

#[test]
fn steps_in_order_and_end_states() {
    let mut s = Session::start(kubernetes_token("aud", "a", true)).unwrap();
    let asked = s.next();
    assert_eq!(
        asked,
        Step::FetchIdentityToken(IdentityTokenRequest {
            audience: "aud".into(),
            service_account: Some(("apps".into(), "a".into())),
            file: None
        })
    );
    assert_eq!(s.next(), asked, "asking again gives the same step");
    // A response now is out of order: an error, and nothing changes.
    assert_eq!(s.receive_http(imds(200, "{}"), NOW).unwrap_err().kind(), "invalid-input");
    assert_eq!(s.next(), asked);
    s.receive_identity_token(jwt(NOW + 600), NOW).unwrap();
    assert_eq!(
        s.next(),
        Step::Done(Credentials::AccessToken(AccessToken { token: jwt(NOW + 600), expires_at: NOW + 600 }))
    );
    // After done, every receive is an error.
    assert!(s.receive_identity_token(jwt(NOW + 600), NOW).is_err());
    assert!(s.receive_http(imds(200, "{}"), NOW).is_err());
    assert!(matches!(s.next(), Step::Done(_)));
}

#[test]
fn failures_are_final_and_returned() {
    let mut s = Session::start(kubernetes_token("aud", "b", true)).unwrap();
    let err = s.receive_identity_token(jwt(NOW), NOW).unwrap_err();
    assert_eq!(err.kind(), "invalid-input", "a token that expires now is expired");
    assert_eq!(s.next(), Step::Failed(err));
    assert!(s.receive_identity_token(jwt(NOW + 600), NOW).is_err());
    assert!(matches!(s.next(), Step::Failed(_)));

    let azure = request(Target::AccessToken { provider: Provider::Azure, scopes: vec![] }, Identity::Controller, true);
    let mut s = Session::start(azure).unwrap();
    let Step::SendHttp(req) = s.next() else { panic!("{:?}", s.next()) };
    assert!(req.url.starts_with("http://169.254.169.254/metadata/identity/oauth2/token?"), "{}", req.url);
    assert_eq!(s.receive_identity_token(jwt(NOW + 600), NOW).unwrap_err().kind(), "invalid-input");
    assert!(matches!(s.next(), Step::SendHttp(_)));
    let err = s.receive_http(imds(500, "{}"), NOW).unwrap_err();
    assert_eq!(err.kind(), "http-status");
    assert_eq!(s.next(), Step::Failed(err));
}

#[test]
fn bad_identity_tokens() {
    for token in ["", "a b", "a\nb", "\u{7f}"] {
        let mut s = Session::start(kubernetes_token("aud", "c", true)).unwrap();
        assert_eq!(s.receive_identity_token(Secret::new(token), NOW).unwrap_err().kind(), "invalid-input", "{token:?}");
    }
    let mut s = Session::start(kubernetes_token("aud", "c", true)).unwrap();
    let err = s.receive_identity_token(Secret::new("x".repeat(MAX_IDENTITY_TOKEN + 1)), NOW).unwrap_err();
    assert!(!err.to_string().contains("xxxx"), "{err}");
}

#[test]
fn start_errors() {
    let mut no_gate = kubernetes_token("aud", "d", true);
    no_gate.options.object_level_workload_identity = false;
    assert_eq!(Session::start(no_gate).unwrap_err(), Error::invalid(identity::ERR_OBJECT_LEVEL_DISABLED));
    let cluster =
        Target::Cluster(Cluster { provider: Provider::Aws, resource_id: "x".into(), address: None, ca_data: None });
    assert!(Session::start(request(cluster, Identity::Controller, true)).is_err());
    let generic_sa = request(Target::Registry("ghcr.io/o/app".into()), sa("e"), true);
    assert_eq!(Session::start(generic_sa).unwrap_err().kind(), "unsupported");
}

#[test]
fn cache_hit_skip_and_clear() {
    // Keys are unique to this test, so parallel tests do not interfere.
    let first = Session::start(kubernetes_token("cache-test", "f", false)).unwrap();
    let key = first.cache_key().to_owned();
    let mut first = first;
    first.receive_identity_token(jwt(NOW + 1000), NOW).unwrap();

    let hit = Session::start(kubernetes_token("cache-test", "f", false)).unwrap();
    assert!(hit.from_cache());
    assert_eq!(hit.cache_key(), key);
    assert_eq!(hit.next(), first.next());

    let skipped = Session::start(kubernetes_token("cache-test", "f", true)).unwrap();
    assert!(!skipped.from_cache());
    assert_eq!(skipped.cache_key(), key, "the key does not depend on skip-cache");

    let mut later = kubernetes_token("cache-test", "f", false);
    later.now = NOW + 800;
    assert!(!Session::start(later).unwrap().from_cache(), "80% of the lifetime has passed");

    let other = Session::start(kubernetes_token("cache-test", "g", false)).unwrap();
    assert_ne!(other.cache_key(), key);
    assert!(!other.from_cache());
}

#[test]
fn debug_shows_no_secrets() {
    let mut s = Session::start(kubernetes_token("aud", "h", true)).unwrap();
    s.receive_identity_token(Secret::new("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.topsecret"), NOW).unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("topsecret"), "{dbg}");
}

/// Flux starts an EKS REST config's 15 minutes when it starts building it:
/// at the first cluster step (here `DescribeCluster`, after the credentials),
/// not when the session began nor when it finished.
#[test]
fn eks_rest_config_lives_15_minutes_from_the_first_cluster_step() {
    let arn = "arn:aws:eks:us-west-2:123456789012:cluster/my-cluster";
    let cluster =
        Target::Cluster(Cluster { provider: Provider::Aws, resource_id: arn.into(), address: None, ca_data: None });
    let role = ("eks.amazonaws.com/role-arn".into(), "arn:aws:iam::123456789012:role/r".into());
    let identity = Identity::ServiceAccount(ServiceAccount {
        namespace: "apps".into(),
        name: "eks".into(),
        annotations: vec![role],
    });
    let mut s = Session::start(request(cluster, identity, true)).unwrap();
    assert!(matches!(s.next(), Step::FetchIdentityToken(_)));
    s.receive_identity_token(jwt(NOW + 3600), NOW + 1).unwrap();
    let Step::SendHttp(sts) = s.next() else { panic!("{:?}", s.next()) };
    assert_eq!(sts.url, "https://sts.us-west-2.amazonaws.com/");
    let credentials = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>session</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    s.receive_http(imds(200, credentials), NOW + 10).unwrap();
    let Step::SendHttp(describe) = s.next() else { panic!("{:?}", s.next()) };
    assert_eq!(describe.url, "https://eks.us-west-2.amazonaws.com/clusters/my-cluster");
    let body = format!(
        r#"{{"cluster":{{"endpoint":"https://ABC.gr7.us-west-2.eks.amazonaws.com","certificateAuthority":{{"data":"{}"}}}}}}"#,
        crate::cluster::tests::TEST_PEM_BASE64
    );
    s.receive_http(imds(200, &body), NOW + 20).unwrap();
    let Step::Done(Credentials::RestConfig(config)) = s.next() else { panic!("{:?}", s.next()) };
    assert_eq!(config.host, "https://ABC.gr7.us-west-2.eks.amazonaws.com");
    assert_eq!(config.ca_data.as_deref(), Some(crate::cluster::tests::TEST_PEM));
    assert!(config.bearer_token.expose().starts_with("k8s-aws-v1."));
    assert_eq!(config.expires_at, NOW + 10 + 900);
}

#[test]
fn a_credentials_file_is_read_first_then_the_session_is_decided_again() {
    let key = include_str!("../../tests/data/test-rsa-pkcs8.pem");
    let file = serde_json::json!({
        "type": "service_account", "private_key": key,
        "client_email": "builder@my-project.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    .to_string();
    let with = |rules: Option<&str>| SessionRequest {
        target: Target::AccessToken { provider: Provider::Gcp, scopes: vec![] },
        identity: Identity::Controller,
        options: Options {
            environment: vec![("GOOGLE_APPLICATION_CREDENTIALS".into(), "/etc/gcp/key.json".into())],
            skip_cache: true,
            rules: rules.map(str::to_owned),
            ..Options::default()
        },
        now: NOW,
    };
    // Before the file is read, its identity and hosts are run-time facts.
    let e = explain::explain(&with(None)).unwrap();
    assert!(
        e.run_time.iter().any(|(c, what)| *c == crate::policy::Category::Hosts && what.contains("/etc/gcp/key.json"))
    );
    assert!(e.contacts.is_empty(), "{:?}", e.contacts);

    let mut s = Session::start(with(None)).unwrap();
    assert_eq!(s.next(), Step::ReadFile("/etc/gcp/key.json".into()));
    // Out of order input leaves the session as it is.
    assert!(s.receive_http(HttpResponse::new(200, "{}"), NOW).is_err());
    s.receive_file(Some(file.clone().into_bytes()), NOW).unwrap();
    match s.next() {
        Step::SendHttp(r) => assert_eq!(r.url, "https://oauth2.googleapis.com/token"),
        other => panic!("{other:?}"),
    }

    // Rules are decided again on the file's principal and hosts.
    let only = |principal: &str| {
        format!(
            r#"{{"version":1,"allow":{{"providers":["gcp"],"principals":["{principal}"],"hosts":["oauth2.googleapis.com"]}}}}"#
        )
    };
    let allowed = only("*@my-project.iam.gserviceaccount.com");
    let mut s = Session::start(with(Some(&allowed))).unwrap();
    s.receive_file(Some(file.clone().into_bytes()), NOW).unwrap();
    assert!(matches!(s.next(), Step::SendHttp(_)));
    let denied = only("*@other-project.iam.gserviceaccount.com");
    let mut s = Session::start(with(Some(&denied))).unwrap();
    let e = s.receive_file(Some(file.into_bytes()), NOW).unwrap_err();
    assert!(e.to_string().contains("builder@my-project.iam.gserviceaccount.com"), "{e}");
    assert!(matches!(s.next(), Step::Failed(_)));
}
