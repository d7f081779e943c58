//! AWS: ECR and CodeCommit through web identity, static keys, the shared files, container credentials and IMDS.

use super::*;

pub(crate) const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/wirecap-role";
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

pub(crate) fn web_identity_token() -> String {
    cases::input("aws.sts-web-identity.request.json", "minimal", "web_identity_token")
}

/// An STS response carrying the credentials of an ECR request case, so that
/// the signed ECR request can be compared with that case byte for byte.
fn sts_reply_for(ecr_case: &str) -> HttpResponse {
    sts_reply_with("aws.ecr-token.request.json", ecr_case)
}

/// An STS response carrying the credentials of any AWS case.
pub(crate) fn sts_reply_with(file: &str, id: &str) -> HttpResponse {
    let c = cases::case(file, id);
    let i = &c["input"];
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        i["access_key_id"].as_str().unwrap(),
        i["secret_access_key"].as_str().unwrap(),
        i["session_token"].as_str().unwrap()
    );
    response(200, &[], &body)
}

fn ecr_reply() -> (HttpResponse, Credentials) {
    let (status, body) = cases::response("aws.ecr-token.response.json", "private");
    let out = &cases::case("aws.ecr-token.response.json", "private")["expect"]["output"];
    let creds =
        registry_credentials("AWS", out["password"].as_str().unwrap(), Some(out["expires_at"].as_i64().unwrap()));
    (response(status, &[], &body), creds)
}

fn ecr_exchange(case: &str) -> (Exchange, Credentials) {
    let (reply, creds) = ecr_reply();
    (
        Exchange::http(cases::request("aws.ecr-token.request.json", case), reply, Some(r#"{"authorizationData": []}"#)),
        creds,
    )
}

fn static_keys(case: &str) -> Vec<(String, String)> {
    let c = cases::case("aws.ecr-token.request.json", case);
    let i = &c["input"];
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), i["access_key_id"].as_str().unwrap().to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), i["secret_access_key"].as_str().unwrap().to_owned()),
    ];
    if let Some(t) = i["session_token"].as_str() {
        env.push(("AWS_SESSION_TOKEN".to_owned(), t.to_owned()));
    }
    env
}

pub(crate) fn aws_scenarios() -> Vec<Scenario> {
    let sts_json = cases::response("aws.sts-web-identity.response.json", "json-body-rejected").1;
    let mut out = Vec::new();
    let controller_env = options(&[
        ("AWS_ROLE_ARN", ROLE_ARN),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE),
        ("AWS_ROLE_SESSION_NAME", "wirecap-session"),
    ]);

    // Controller-level web identity (IRSA), ECR in us-west-2.
    let (ecr, creds) = ecr_exchange("ecr-us-west-2");
    out.push(scenario(
        "ecr-controller-web-identity",
        registry("123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v1", Identity::Controller, controller_env.clone()),
        vec![
            Exchange::token("sts.amazonaws.com", None, Some(TOKEN_FILE), &web_identity_token()),
            Exchange::http(
                cases::request("aws.sts-web-identity.request.json", "minimal"),
                sts_reply_for("ecr-us-west-2"),
                Some(&sts_json),
            ),
            ecr,
        ],
        Outcome::Done(creds),
    ));

    // The explicitly configured STS endpoint receives the token.
    let mut with_endpoint = controller_env.clone();
    with_endpoint.sts_endpoint = Some("https://sts.amazonaws.com".into());
    let (ecr, creds) = ecr_exchange("ecr-us-west-2");
    out.push(scenario(
        "ecr-controller-web-identity-sts-endpoint",
        registry("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", Identity::Controller, with_endpoint),
        vec![
            Exchange::token("sts.amazonaws.com", None, Some(TOKEN_FILE), &web_identity_token()),
            Exchange::http(
                cases::request("aws.sts-web-identity.request.json", "endpoint-legacy"),
                sts_reply_for("ecr-us-west-2"),
                None,
            ),
            ecr,
        ],
        Outcome::Done(creds),
    ));

    // Object-level: role from the annotation, Flux's role session name.
    let mut sts_expect = cases::request("aws.sts-web-identity.request.json", "minimal");
    sts_expect["url"] = json!("https://sts.us-east-1.amazonaws.com/");
    let sts_expect = with_form(sts_expect, "RoleSessionName", "source-controller.flux-system.us-east-1.fluxcd.io");
    let (ecr, creds) = ecr_exchange("ecr-us-east-1");
    out.push(scenario(
        "ecr-service-account",
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            sa("flux-system", "source-controller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
            options(&[]),
        ),
        vec![
            Exchange::token(
                "sts.amazonaws.com",
                Some(("flux-system", "source-controller")),
                None,
                &web_identity_token(),
            ),
            Exchange::http(sts_expect, sts_reply_for("ecr-us-east-1"), None),
            ecr,
        ],
        Outcome::Done(creds),
    ));

    // Static keys: ECR Public (us-east-1, public API), FIPS in GovCloud.
    let public_env: Vec<(String, String)> = static_keys("ecr-public-us-east-1-no-session-token");
    let public_env: Vec<(&str, &str)> = public_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let public_body =
        r#"{"authorizationData": {"authorizationToken": "QVdTOnB1YmxpYy1wYXNzd29yZA==", "expiresAt": 1705406400.0}}"#;
    out.push(scenario(
        "ecr-public-static-keys",
        registry("public.ecr.aws/org/app:v1", Identity::Controller, options(&public_env)),
        vec![Exchange::http(
            cases::request("aws.ecr-token.request.json", "ecr-public-us-east-1-no-session-token"),
            response(200, &[], public_body),
            Some("{}"),
        )],
        Outcome::Done(registry_credentials("AWS", "public-password", Some(1_705_406_400))),
    ));
    let fips_env = static_keys("ecr-us-gov-east-1-fips-no-session-token");
    let fips_env: Vec<(&str, &str)> = fips_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (ecr, creds) = ecr_exchange("ecr-us-gov-east-1-fips-no-session-token");
    out.push(scenario(
        "ecr-fips-govcloud-static-keys",
        registry("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/app", Identity::Controller, options(&fips_env)),
        vec![ecr],
        Outcome::Done(creds),
    ));

    // EC2 instance metadata (IMDSv2): token, role, credentials.
    let c = cases::case("aws.ecr-token.request.json", "ecr-us-east-1");
    let i = &c["input"];
    let imds_creds = json!({
        "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2024-01-15T11:00:00Z",
        "AccessKeyId": i["access_key_id"], "SecretAccessKey": i["secret_access_key"], "Token": i["session_token"],
        "Expiration": "2100-01-01T00:00:00Z"
    });
    let (ecr, creds) = ecr_exchange("ecr-us-east-1");
    out.push(scenario(
        "ecr-controller-instance-metadata",
        registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Identity::Controller, options(&[])),
        vec![
            Exchange::http(
                json!({"method": "PUT", "url": "http://169.254.169.254/latest/api/token", "headers": {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}}),
                response(200, &[], "AQAEAimdsSessionToken=="),
                Some(""),
            ),
            Exchange::http(
                json!({"method": "GET", "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "headers": {"X-aws-ec2-metadata-token": "AQAEAimdsSessionToken=="}}),
                response(200, &[], "node-role\n"),
                Some("../../latest/user-data"),
            ),
            Exchange::http(
                json!({"method": "GET", "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/node-role", "headers": {"X-aws-ec2-metadata-token": "AQAEAimdsSessionToken=="}}),
                response(200, &[], &imds_creds.to_string()),
                Some(r#"{"Code": "Failure"}"#),
            ),
            ecr,
        ],
        Outcome::Done(creds),
    ));

    // AWS credentials as the access-token target: static keys need no request.
    out.push(scenario(
        "aws-access-token-static-keys",
        access_token(
            Provider::Aws,
            &[],
            Identity::Controller,
            options(&[
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ]),
        ),
        vec![],
        Outcome::Done(Credentials::Aws(AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
            expires_at: None,
        })),
    ));
    // ... and a service account's role gives the STS credentials.
    let (status, body) = cases::response("aws.sts-web-identity.response.json", "xml");
    let out_xml = &cases::case("aws.sts-web-identity.response.json", "xml")["expect"]["output"];
    let mut sts_expect = cases::request("aws.sts-web-identity.request.json", "minimal");
    sts_expect = with_form(sts_expect, "RoleSessionName", "puller.apps.us-west-2.fluxcd.io");
    out.push(scenario(
        "aws-access-token-service-account",
        access_token(
            Provider::Aws,
            &[],
            sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
            options(&[("AWS_REGION", "us-west-2")]),
        ),
        vec![
            Exchange::token("sts.amazonaws.com", Some(("apps", "puller")), None, &web_identity_token()),
            Exchange::http(sts_expect, response(status, &[], &body), Some("<x/>")),
        ],
        Outcome::Done(Credentials::Aws(AwsCredentials {
            access_key_id: out_xml["access_key_id"].as_str().unwrap().into(),
            secret_access_key: out_xml["secret_access_key"].as_str().unwrap().into(),
            session_token: out_xml["session_token"].as_str().map(Into::into),
            expires_at: out_xml["expires_at"].as_i64(),
        })),
    ));

    out.extend(codecommit_scenarios());

    // Service error codes come through.
    let (status, body) = cases::response("aws.sts-web-identity.response.json", "invalid-identity-token");
    out.push(scenario(
        "ecr-sts-invalid-identity-token",
        registry("123456789012.dkr.ecr.us-west-2.amazonaws.com/app", Identity::Controller, controller_env.clone()),
        vec![
            Exchange::token("sts.amazonaws.com", None, Some(TOKEN_FILE), &web_identity_token()),
            Exchange::http(
                cases::request("aws.sts-web-identity.request.json", "minimal"),
                response(status, &[], &body),
                None,
            ),
        ],
        Outcome::Failed { kind: "http-status", code: Some("InvalidIdentityToken") },
    ));
    let (status, body) = cases::response("aws.ecr-token.response.json", "access-denied");
    out.push(scenario(
        "ecr-access-denied",
        registry("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/app", Identity::Controller, options(&fips_env)),
        vec![Exchange::http(
            cases::request("aws.ecr-token.request.json", "ecr-us-gov-east-1-fips-no-session-token"),
            response(status, &[], &body),
            None,
        )],
        Outcome::Failed { kind: "http-status", code: Some("AccessDeniedException") },
    ));
    // Credentials that already expired are not handed out.
    let expired = r#"{"authorizationData": [{"authorizationToken": "QVdTOnB3", "expiresAt": 1705319000.0}]}"#;
    out.push(scenario(
        "ecr-token-already-expired",
        registry("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/app", Identity::Controller, options(&fips_env)),
        vec![Exchange::http(
            cases::request("aws.ecr-token.request.json", "ecr-us-gov-east-1-fips-no-session-token"),
            response(200, &[], expired),
            None,
        )],
        Outcome::Failed { kind: "malformed-response", code: None },
    ));
    out
}

/// CodeCommit Git credentials: the AWS credentials, then a signature made in
/// the component; the expected password is the shared case's, captured from
/// git-remote-codecommit.
fn codecommit_scenarios() -> Vec<Scenario> {
    let case = cases::case("aws.codecommit-credentials.json", "us-east-1");
    let (i, want) = (&case["input"], &case["expect"]["output"]);
    let url = i["url"].as_str().unwrap().to_owned();
    let now = i["now"].as_i64().unwrap();
    let field = |name: &str| i[name].as_str().unwrap().to_owned();
    let git = Credentials::Git(GitCredentials {
        username: want["username"].as_str().unwrap().into(),
        password: want["password"].as_str().unwrap().into(),
        bearer_token: String::new(),
        expires_at: want["expires_at"].as_i64().unwrap(),
    });
    let git_request = |identity, options| SessionRequest { target: Target::Git(url.clone()), identity, options, now };
    let sts_body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        field("access_key_id"),
        field("secret_access_key"),
        field("session_token")
    );
    // Object level: the STS region is the repository's (Flux's
    // GetAccessTokenOptionsForGitRepository), so no AWS_REGION is needed.
    let mut sts_expect = cases::request("aws.sts-web-identity.request.json", "minimal");
    sts_expect["url"] = json!("https://sts.us-east-1.amazonaws.com/");
    let sts_expect = with_form(sts_expect, "RoleSessionName", "source-controller.flux-system.us-east-1.fluxcd.io");
    let service_account = sa("flux-system", "source-controller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]);
    let mut out = vec![Scenario {
        name: "git-codecommit-service-account",
        request: git_request(service_account, options(&[])),
        exchanges: vec![
            Exchange::token(
                "sts.amazonaws.com",
                Some(("flux-system", "source-controller")),
                None,
                &web_identity_token(),
            ),
            Exchange::http(sts_expect, response(200, &[], &sts_body), Some("<x/>")),
        ],
        outcome: Outcome::Done(git.clone()),
        now,
    }];
    // Controller level with temporary keys from the environment: nothing to send.
    let env = [
        ("AWS_ACCESS_KEY_ID", field("access_key_id")),
        ("AWS_SECRET_ACCESS_KEY", field("secret_access_key")),
        ("AWS_SESSION_TOKEN", field("session_token")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    out.push(Scenario {
        name: "git-codecommit-controller-keys",
        request: git_request(Identity::Controller, options(&env)),
        exchanges: vec![],
        outcome: Outcome::Done(git),
        now,
    });
    out
}
