//! AWS shared `config` and `credentials` files through the built component:
//! the session reads both files first, then each flow's requests must be the
//! ones botocore sends for the same profile (the captured cases in
//! `tests/cases/session.request.aws-shared-config.json`), with a failure at
//! every step; and what a broken profile says.

mod support;

#[allow(dead_code)]
#[path = "flows/cases.rs"]
mod cases;
#[allow(dead_code)]
#[path = "conformance/compare.rs"]
mod compare;
#[allow(dead_code)]
#[path = "flows/driver.rs"]
mod driver;

use serde_json::Value;

use driver::{Exchange, Host, Outcome, Scenario, kind, message, response};
use support::api::session::{Credentials, Identity, Options, SessionRequest, Step, Target};
use support::api::types::{AwsCredentials, HttpResponse, Provider, RegistryCredentials};

const NOW: i64 = 1_705_320_000;
const CONFIG: &str = "/etc/aws/config";
const CREDENTIALS: &str = "/etc/aws/credentials";
const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

/// A captured case, by id.
fn case(id: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/session.request.aws-shared-config.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no case {id}"))
}

/// The files of the captured cases (all share them).
fn files() -> (String, String) {
    let answers = &case("assume-role-source-profile")["input"]["answers"];
    (answers[0]["file"].as_str().unwrap().to_owned(), answers[1]["file"].as_str().unwrap().to_owned())
}

/// The `n`th HTTP answer of a captured case (an STS document).
fn sts_answer(id: &str, n: usize) -> HttpResponse {
    let answers = case(id)["input"]["answers"].as_array().unwrap().clone();
    let http: Vec<&Value> = answers.iter().filter(|a| a.get("status").is_some()).collect();
    response(200, &[], http[n]["body"].as_str().unwrap())
}

/// The AssumeRoleWithWebIdentity document of the STS API reference, with
/// the first captured role's credentials.
fn web_identity_answer() -> HttpResponse {
    let c = role_credentials(0);
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>system:serviceaccount:flux-system:source-controller</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>",
        c.access_key_id,
        c.secret_access_key,
        c.session_token.unwrap()
    );
    response(200, &[], &body)
}

fn options(env: &[(&str, &str)]) -> Options {
    support::session_options(env)
}

fn with_profile(target: Target, profile: &str, extra: &[(&str, &str)]) -> SessionRequest {
    let mut env =
        vec![("AWS_CONFIG_FILE", CONFIG), ("AWS_SHARED_CREDENTIALS_FILE", CREDENTIALS), ("AWS_PROFILE", profile)];
    env.extend_from_slice(extra);
    SessionRequest { target, identity: Identity::Controller, options: options(&env), now: NOW }
}

fn registry() -> Target {
    Target::Registry(REGISTRY.into())
}

fn aws_token() -> Target {
    Target::AccessToken((Provider::Aws, Vec::new()))
}

fn read_files(config: &str, credentials: &str) -> Vec<Exchange> {
    vec![
        // A missing config file only fails once both are read.
        Exchange::file(CONFIG, Some(config), None),
        Exchange::file(CREDENTIALS, Some(credentials), Some("invalid-input")),
    ]
}

const STS_MALFORMED: &str = "<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>";

fn role_credentials(n: usize) -> AwsCredentials {
    let (id, secret, token) = [
        ("ASIAROLEONEEXAMPLE", "roleOneSecret/K7MDENG+EXAMPLE", "FwoGZXIvYXdzEROLEONE//token="),
        ("ASIAROLETWOEXAMPLE", "roleTwoSecret/K7MDENG+EXAMPLE", "FwoGZXIvYXdzEROLETWO//token="),
    ][n];
    AwsCredentials {
        access_key_id: id.into(),
        secret_access_key: secret.into(),
        session_token: Some(token.into()),
        expires_at: Some(4_102_444_800),
    }
}

/// ECR's answer (the shared response case) for a captured ECR request.
fn ecr(id: &str) -> (Exchange, Credentials) {
    let (status, body) = cases::response("aws.ecr-token.response.json", "private");
    let out = &cases::case("aws.ecr-token.response.json", "private")["expect"]["output"];
    let creds = Credentials::Registry(RegistryCredentials {
        username: "AWS".into(),
        password: out["password"].as_str().unwrap().to_owned(),
        expires_at: Some(out["expires_at"].as_i64().unwrap()),
    });
    let exchange = Exchange::http(case(id)["expect"]["request"].clone(), response(status, &[], &body), Some("{}"));
    (exchange, creds)
}

fn sts(id: &str, answer_of: &str, n: usize) -> Exchange {
    Exchange::http(case(id)["expect"]["request"].clone(), sts_answer(answer_of, n), Some(STS_MALFORMED))
}

fn scenario(name: &'static str, request: SessionRequest, exchanges: Vec<Exchange>, outcome: Outcome) -> Scenario {
    Scenario { name, request, exchanges, outcome, now: NOW }
}

fn scenarios() -> Vec<Scenario> {
    let (config, credentials) = files();
    let mut out = Vec::new();

    // Static keys: the credentials file's pair wins over the config file's.
    let (ecr_static, ecr_creds) = ecr("static-keys-from-credentials-file");
    let mut exchanges = read_files(&config, &credentials);
    exchanges.push(ecr_static);
    out.push(scenario(
        "profile-static-keys-ecr",
        with_profile(registry(), "ci", &[]),
        exchanges,
        Outcome::Done(ecr_creds.clone()),
    ));

    // role_arn + source_profile: AssumeRole signed by the source's keys, then ECR.
    let mut exchanges = read_files(&config, &credentials);
    exchanges.push(sts("assume-role-source-profile", "assume-role-then-ecr", 0));
    exchanges.push(ecr("assume-role-then-ecr").0);
    out.push(scenario(
        "profile-assume-role-ecr",
        with_profile(registry(), "deploy", &[]),
        exchanges,
        Outcome::Done(ecr_creds.clone()),
    ));

    // Two roles in a row, then ECR with the outer role's credentials.
    let mut exchanges = read_files(&config, &credentials);
    exchanges.push(sts("assume-role-chain-first", "assume-role-chain-then-ecr", 0));
    exchanges.push(sts("assume-role-chain-second", "assume-role-chain-then-ecr", 1));
    exchanges.push(ecr("assume-role-chain-then-ecr").0);
    out.push(scenario(
        "profile-role-chain-ecr",
        with_profile(registry(), "chained", &[]),
        exchanges,
        Outcome::Done(ecr_creds.clone()),
    ));

    // role_arn + web_identity_token_file: the token file, then STS, then ECR
    // (the web identity's credentials are the captured role's).
    let token = case("web-identity-token-file-profile")["input"]["answers"][2]["token"].as_str().unwrap().to_owned();
    let mut exchanges = read_files(&config, &credentials);
    exchanges.push(Exchange::token("sts.amazonaws.com", None, Some(TOKEN_FILE), &token));
    exchanges.push(Exchange::http(
        case("web-identity-token-file-profile")["expect"]["request"].clone(),
        web_identity_answer(),
        Some("<AssumeRoleWithWebIdentityResponse/>"),
    ));
    exchanges.push(ecr("assume-role-then-ecr").0);
    out.push(scenario(
        "profile-web-identity-ecr",
        with_profile(registry(), "irsa", &[]),
        exchanges,
        Outcome::Done(ecr_creds),
    ));

    // Region and FIPS from the profile: no AWS_REGION; the credentials themselves.
    let mut exchanges = read_files(&config, &credentials);
    exchanges.push(sts("region-and-fips-from-profile", "assume-role-then-ecr", 0));
    out.push(scenario(
        "profile-region-fips-credentials",
        with_profile(aws_token(), "fips", &[]),
        exchanges,
        Outcome::Done(Credentials::Aws(role_credentials(0))),
    ));
    out
}

#[test]
fn aws_profiles_flow() {
    for s in scenarios() {
        s.run();
    }
}

#[test]
fn aws_profiles_fail_at_each_step() {
    for s in scenarios() {
        s.run_failures();
    }
}

/// Starts `request`, answers the two files, and returns the error of the
/// last answer (or of start).
fn error_after_files(request: &SessionRequest, config: Option<&str>, credentials: Option<&str>) -> (String, String) {
    let mut host = Host::new();
    let s = match host.start(request) {
        Ok(s) => s,
        Err(e) => return (kind(&e).to_owned(), message(&e)),
    };
    assert!(matches!(host.next(s), Step::ReadFile(ref p) if p == CONFIG));
    host.file(s, config, NOW).unwrap_or_else(|e| panic!("the config file alone: {}", message(&e)));
    assert!(matches!(host.next(s), Step::ReadFile(ref p) if p == CREDENTIALS));
    let err = host.file(s, credentials, NOW).expect_err("the profile should fail");
    match host.next(s) {
        Step::Failed(f) => assert_eq!(message(&f), message(&err)),
        _ => panic!("not failed"),
    }
    (kind(&err).to_owned(), message(&err))
}

#[test]
fn broken_profiles_name_themselves() {
    let keys = "[src]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENGEXAMPLEKEY\n";
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "missing",
            "[default]\n",
            keys,
            "invalid-input",
            &["AWS_PROFILE names profile \"missing\"", CONFIG, CREDENTIALS],
        ),
        (
            "loop",
            "[profile loop]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = other\n[profile other]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = loop\n",
            "",
            "invalid-input",
            &["cycle", "\"loop\""],
        ),
        (
            "proc",
            "[profile proc]\ncredential_process = /usr/local/bin/get-creds --token S3CR3TVALUE\n",
            "",
            "unsupported",
            &["credential_process"],
        ),
        (
            "sso",
            "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
            "",
            "unsupported",
            &["sso_session"],
        ),
        (
            "mfa",
            "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = src\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n",
            keys,
            "unsupported",
            &["mfa_serial"],
        ),
        (
            "env",
            "[profile env]\nrole_arn = arn:aws:iam::123456789012:role/e\ncredential_source = Environment\n",
            "",
            "invalid-input",
            &["credential_source = Environment", "AWS_ACCESS_KEY_ID"],
        ),
        (
            "ecs",
            "[profile ecs]\nrole_arn = arn:aws:iam::123456789012:role/e\ncredential_source = EcsContainer\n",
            "",
            "invalid-input",
            &["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"],
        ),
        (
            "badarn",
            "[profile badarn]\nrole_arn = deploy-role\nsource_profile = src\n",
            keys,
            "invalid-input",
            &["\"badarn\"", "not an IAM role ARN"],
        ),
        (
            "partial",
            "",
            "[partial]\naws_access_key_id = AKIDEXAMPLE\n",
            "invalid-input",
            &["only one of aws_access_key_id"],
        ),
        (
            "noregion",
            "[profile noregion]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = src\n",
            keys,
            "invalid-input",
            &["no AWS region", "\"noregion\""],
        ),
        (
            "garbled",
            "[profile garbled]\nthis is not ini S3CR3TVALUE\n",
            "",
            "invalid-input",
            &["line 2 of /etc/aws/config"],
        ),
    ];
    for (profile, config, credentials, want_kind, words) in cases {
        let request = with_profile(aws_token(), profile, &[]);
        let (got_kind, text) = error_after_files(&request, Some(config), Some(credentials));
        assert_eq!(&got_kind, want_kind, "{profile}: {got_kind} {text}");
        for word in *words {
            assert!(text.contains(word), "{profile}: {text:?} lacks {word:?}");
        }
        assert!(!text.contains("S3CR3TVALUE") && !text.contains("wJalr"), "{profile}: {text}");
    }
}

#[test]
fn missing_files_explicit_and_default() {
    // A file named by its variable must exist.
    let request = with_profile(aws_token(), "ci", &[("AWS_REGION", "us-east-1")]);
    let (k, text) = error_after_files(&request, None, Some("[ci]\naws_access_key_id = A\naws_secret_access_key = B\n"));
    assert_eq!(
        (k.as_str(), text.as_str()),
        ("invalid-input", "AWS_CONFIG_FILE names /etc/aws/config, which does not exist")
    );
    // Default files under HOME may be missing: the chain goes on (IMDS).
    let request = SessionRequest {
        target: aws_token(),
        identity: Identity::Controller,
        options: options(&[("HOME", "/home/flux"), ("AWS_REGION", "us-east-1")]),
        now: NOW,
    };
    let mut host = Host::new();
    let s = host.start(&request).unwrap();
    assert!(matches!(host.next(s), Step::ReadFile(ref p) if p == "/home/flux/.aws/config"));
    host.file(s, None, NOW).unwrap();
    assert!(matches!(host.next(s), Step::ReadFile(ref p) if p == "/home/flux/.aws/credentials"));
    host.file(s, None, NOW).unwrap();
    assert!(matches!(host.next(s), Step::SendHttp(ref r) if r.url == "http://169.254.169.254/latest/api/token"));
    // AWS_PROFILE with no file to read it from fails at start.
    let request = SessionRequest {
        target: aws_token(),
        identity: Identity::Controller,
        options: options(&[("AWS_PROFILE", "dev"), ("AWS_REGION", "us-east-1")]),
        now: NOW,
    };
    let err = Host::new().start(&request).unwrap_err();
    assert_eq!(kind(&err), "invalid-input");
    assert!(message(&err).contains("no HOME, AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE"), "{}", message(&err));
    // No HOME and no file variables: the files are not read at all.
    let request = SessionRequest {
        target: aws_token(),
        identity: Identity::Controller,
        options: options(&[("AWS_REGION", "us-east-1")]),
        now: NOW,
    };
    let mut host = Host::new();
    let s = host.start(&request).unwrap();
    assert!(matches!(host.next(s), Step::SendHttp(ref r) if r.url == "http://169.254.169.254/latest/api/token"));
}

#[test]
fn expired_role_credentials_fail() {
    let (config, credentials) = files();
    let expired = sts_answer("assume-role-chain-then-ecr", 0).body;
    let expired = String::from_utf8(expired).unwrap().replace("2100-01-01T00:00:00Z", "2024-01-15T11:00:00Z");
    // The last role's: the session refuses them.
    let mut host = Host::new();
    let s = host.start(&with_profile(aws_token(), "deploy", &[("AWS_REGION", "us-east-1")])).unwrap();
    host.file(s, Some(&config), NOW).unwrap();
    host.file(s, Some(&credentials), NOW).unwrap();
    let err = host.http(s, &response(200, &[], &expired), NOW).unwrap_err();
    assert_eq!(kind(&err), "malformed-response", "{}", message(&err));
    // An inner role's: they cannot sign the next AssumeRole.
    let mut host = Host::new();
    let s = host.start(&with_profile(registry(), "chained", &[])).unwrap();
    host.file(s, Some(&config), NOW).unwrap();
    host.file(s, Some(&credentials), NOW).unwrap();
    let err = host.http(s, &response(200, &[], &expired), NOW).unwrap_err();
    assert_eq!(kind(&err), "malformed-response");
    assert!(message(&err).contains("had already expired"), "{}", message(&err));
}

#[test]
fn cache_key_names_the_profile_and_files() {
    let key = |request: &SessionRequest| {
        let mut host = Host::new();
        let s = host.start(request).unwrap();
        host.cache_key(s)
    };
    let deploy = key(&with_profile(registry(), "deploy", &[]));
    assert_eq!(deploy, key(&with_profile(registry(), "deploy", &[])));
    assert_ne!(deploy, key(&with_profile(registry(), "chained", &[])));
    let mut other_file = with_profile(registry(), "deploy", &[]);
    other_file.options.environment.retain(|(k, _)| k != "AWS_CONFIG_FILE");
    other_file.options.environment.push(("AWS_CONFIG_FILE".into(), "/etc/aws/other-config".into()));
    assert_ne!(deploy, key(&other_file));
    // Static keys in the environment do not read the files: not keyed by them.
    let env_keys = |profile: &str| {
        with_profile(registry(), profile, &[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "s")])
    };
    assert_eq!(key(&env_keys("deploy")), key(&env_keys("chained")));
}
