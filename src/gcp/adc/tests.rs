use super::*;

const KEY: &str = include_str!("../../../tests/data/test-rsa-pkcs8.pem");
const PATH: &str = "/etc/gcp/key.json";

/// How the session names the file in errors.
fn what() -> String {
    format!("the GOOGLE_APPLICATION_CREDENTIALS file {}", quoted(PATH))
}

fn parse(json: serde_json::Value) -> Result<Credentials> {
    Credentials::parse(&what(), &json.to_string(), &AwsEnvironment::default())
}

fn service_account() -> serde_json::Value {
    serde_json::json!({
        "type": "service_account",
        "private_key_id": "abc",
        "private_key": KEY,
        "client_email": "builder@my-project.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    })
}

fn external(source: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "credential_source": source,
    })
}

#[test]
fn reads_each_type() {
    let sa = parse(service_account()).unwrap();
    assert!(matches!(&sa.base, Base::ServiceAccount(k) if k.private_key_id.as_deref() == Some("abc")));
    assert_eq!(sa.principal(), "builder@my-project.iam.gserviceaccount.com");
    assert_eq!(sa.cloud_hosts().unwrap(), vec![Authority::parse("oauth2.googleapis.com").unwrap()]);

    let user = parse(
        serde_json::json!({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}),
    )
    .unwrap();
    assert!(matches!(&user.base, Base::AuthorizedUser(u) if u.token_uri == OAUTH2_TOKEN_URL));

    let ext = parse(external(serde_json::json!({"file": "/t"}))).unwrap();
    let Base::ExternalAccount(account) = &ext.base else { panic!() };
    assert_eq!(account.token_url, sts::TOKEN_URL);
    assert_eq!(account.source, SubjectTokenSource::File { path: "/t".into(), format: TokenFormat::Text });
    assert!(ext.impersonation.is_none());

    let imp = parse(serde_json::json!({
        "type": "impersonated_service_account",
        "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/t@p.iam.gserviceaccount.com:generateAccessToken",
        "delegates": ["projects/-/serviceAccounts/d@p.iam.gserviceaccount.com"],
        "source_credentials": service_account(),
    }))
    .unwrap();
    let i = imp.impersonation.as_ref().unwrap();
    assert_eq!(i.service_account, "t@p.iam.gserviceaccount.com");
    assert_eq!(i.delegates.as_ref().unwrap().len(), 1);
    assert_eq!(imp.cloud_hosts().unwrap().len(), 2);
}

#[test]
fn url_sources() {
    let ok = parse(external(serde_json::json!({
        "url": "http://169.254.169.254/token?x=1",
        "headers": {"Metadata": "True"},
        "format": {"type": "json", "subject_token_field_name": "access_token"},
    })))
    .unwrap();
    let endpoint = ok.source_endpoint().unwrap();
    assert_eq!(endpoint.url, "http://169.254.169.254/token?x=1");
    // Plain http only to link-local or loopback addresses.
    let e = parse(external(serde_json::json!({"url": "http://tokens.example/t"}))).unwrap_err();
    assert!(e.to_string().contains("plain http://"), "{e}");
    assert!(parse(external(serde_json::json!({"url": "https://tokens.example/t"}))).is_ok());
    assert!(parse(external(serde_json::json!({"url": "https://u@tokens.example/t"}))).is_err());
}

#[test]
fn refuses_what_cannot_be_used_naming_the_file() {
    let cases = [
        (serde_json::json!([1]), "invalid-input", "not a JSON object"),
        (serde_json::json!({}), "invalid-input", "type is missing"),
        (serde_json::json!({"type": "x"}), "invalid-input", "unknown type"),
        (serde_json::json!({"type": "gdch_service_account"}), "unsupported", "gdch_service_account"),
        (
            serde_json::json!({"type": "external_account_authorized_user"}),
            "unsupported",
            "external_account_authorized_user",
        ),
        (
            serde_json::json!({"type": "authorized_user", "client_id": "c", "client_secret": "s"}),
            "invalid-input",
            "refresh_token is missing",
        ),
        (
            serde_json::json!({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r", "token_uri": "http://x/"}),
            "invalid-input",
            "not an https://",
        ),
        (external(serde_json::json!({"executable": {"command": "/bin/x"}})), "unsupported", "executable"),
        (
            external(
                serde_json::json!({"environment_id": "aws2", "regional_cred_verification_url": "https://sts.{region}.amazonaws.com"}),
            ),
            "unsupported",
            "aws2",
        ),
        (
            external(
                serde_json::json!({"environment_id": "aws1", "regional_cred_verification_url": "https://sts.{region}.amazonaws.com", "url": "http://evil.example/creds"}),
            ),
            "invalid-input",
            "not an EC2 metadata URL",
        ),
        (
            external(serde_json::json!({"environment_id": "aws1"})),
            "invalid-input",
            "regional_cred_verification_url is missing",
        ),
        (
            external(serde_json::json!({"file": "/a", "url": "https://b/"})),
            "invalid-input",
            "exactly one of file and url",
        ),
        (external(serde_json::json!({"file": "/a", "format": {"type": "xml"}})), "invalid-input", "not text or json"),
        (
            external(serde_json::json!({"file": "/a", "format": {"type": "json"}})),
            "invalid-input",
            "subject_token_field_name is missing",
        ),
        (
            serde_json::json!({"type": "service_account", "universe_domain": "s3nsapis.fr"}),
            "unsupported",
            "universe_domain",
        ),
    ];
    for (json, kind, needle) in cases {
        let e = parse(json.clone()).unwrap_err();
        assert_eq!(e.kind(), kind, "{json}: {e}");
        assert!(e.to_string().contains(needle), "{json}: {e}");
        assert!(e.to_string().contains(PATH), "{json}: {e}");
    }
    let mut bad_key = service_account();
    bad_key["private_key"] = "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n".into();
    let e = parse(bad_key).unwrap_err();
    assert!(e.to_string().contains("private_key is not an RSA private key"), "{e}");
    let mut wrong_url = service_account();
    wrong_url["type"] = "impersonated_service_account".into();
    wrong_url["service_account_impersonation_url"] = "https://evil.example/x:generateAccessToken".into();
    wrong_url["source_credentials"] = service_account();
    assert!(parse(wrong_url).unwrap_err().to_string().contains("service_account_impersonation_url"));
    assert!(
        Credentials::parse(&what(), "{", &AwsEnvironment::default())
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let sa = parse(service_account()).unwrap();
    let debug = format!("{sa:?}");
    assert!(!debug.contains("PRIVATE KEY") && !debug.contains(&KEY[40..80]), "{debug}");
    let user = parse(serde_json::json!({"type": "authorized_user", "client_id": "c", "client_secret": "hunter2", "refresh_token": "1//refresh"}))
        .unwrap();
    let debug = format!("{user:?}");
    assert!(!debug.contains("hunter2") && !debug.contains("1//refresh"), "{debug}");
}

#[test]
fn subject_tokens() {
    assert_eq!(subject_token("tok\n", &TokenFormat::Text, "f").unwrap().expose(), "tok");
    let json = TokenFormat::Json("id_token".into());
    assert_eq!(subject_token(r#"{"id_token":"a.b.c"}"#, &json, "f").unwrap().expose(), "a.b.c");
    for (text, format) in [("", &TokenFormat::Text), ("a b", &TokenFormat::Text), ("{}", &json), ("[", &json)] {
        assert_eq!(subject_token(text, format, "f").unwrap_err().kind(), "invalid-input", "{text}");
    }
}

#[test]
fn grant_requests() {
    let Base::ServiceAccount(key) = parse(service_account()).unwrap().base else { panic!() };
    let request = jwt_grant_request(&key, &["s1".into(), "s2".into()], 1_700_000_000).unwrap();
    assert_eq!(request.url, "https://oauth2.googleapis.com/token");
    let body = String::from_utf8(request.body).unwrap();
    let assertion = body.strip_prefix("assertion=").unwrap().split('&').next().unwrap();
    let claims = crate::jwt::claims(assertion).unwrap();
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["exp"], 1_700_003_600);
    assert_eq!(claims["scope"], "s1 s2");
    assert!(body.ends_with("&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"), "{body}");

    let user = AuthorizedUser {
        client_id: "c".into(),
        client_secret: "s".into(),
        refresh_token: "r".into(),
        token_uri: OAUTH2_TOKEN_URL.into(),
    };
    let body = |scopes: &[String]| String::from_utf8(refresh_grant_request(&user, scopes).unwrap().body).unwrap();
    assert_eq!(body(&[]), "grant_type=refresh_token&client_id=c&client_secret=s&refresh_token=r");
    assert_eq!(body(&["a".into()]), "grant_type=refresh_token&client_id=c&client_secret=s&refresh_token=r&scope=a");
}
