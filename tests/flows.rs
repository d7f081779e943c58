//! Flow tests: complete sessions driven step by step through the built
//! component (wasmtime), for every flow and identity mode.
//!
//! Each scenario checks every emitted request against the matching
//! conformance case's expectation where one exists (the same comparison the
//! conformance runner makes), answers with the cases' captured responses,
//! and checks the outcome; at every step it also hands over input of the
//! wrong kind and checks it is refused without changing the session. Each
//! scenario is then replayed with a failure at each step in turn (401, 403,
//! 500, 503, a malformed body, an expired or empty identity token). Further
//! tests cover start errors with Flux's texts, routing safety and the cache.

mod support;

#[allow(dead_code)]
#[path = "flows/cases.rs"]
mod cases;
#[allow(dead_code)]
#[path = "conformance/compare.rs"]
mod compare;
#[path = "flows/driver.rs"]
mod driver;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use driver::{Exchange, Host, Outcome, Scenario, check_request, jwt, kind, message, response};
use support::api::session::{
    Cluster, Credentials, GitCredentials, Identity, Options, RestConfig, ServiceAccount, SessionRequest, Step, Target,
};
use support::api::types::{AccessToken, AwsCredentials, HttpResponse, Provider, RegistryCredentials};

const NOW: i64 = 1_705_320_000;
/// 2100-01-01, the expiry of the cases' tokens.
const FAR: i64 = 4_102_444_800;

// ---------------------------------------------------------------- inputs

fn options(env: &[(&str, &str)]) -> Options {
    Options { object_level_workload_identity: true, ..support::session_options(env) }
}

fn sa(namespace: &str, name: &str, annotations: &[(&str, &str)]) -> Identity {
    Identity::ServiceAccount(ServiceAccount {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        annotations: annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    })
}

fn registry(reference: &str, identity: Identity, options: Options) -> SessionRequest {
    SessionRequest { target: Target::Registry(reference.to_owned()), identity, options, now: NOW }
}

fn access_token(provider: Provider, scopes: &[&str], identity: Identity, options: Options) -> SessionRequest {
    SessionRequest {
        target: Target::AccessToken((provider, scopes.iter().map(|s| (*s).to_owned()).collect())),
        identity,
        options,
        now: NOW,
    }
}

fn scenario(name: &'static str, request: SessionRequest, exchanges: Vec<Exchange>, outcome: Outcome) -> Scenario {
    Scenario { name, request, exchanges, outcome, now: NOW }
}

fn json_field(body: &str, field: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("case body is JSON");
    v[field].as_str().unwrap_or_else(|| panic!("no {field} in {body}")).to_owned()
}

/// Replaces the value of a form field of an expected request.
fn with_form(mut request: Value, field: &str, value: &str) -> Value {
    for pair in request["form"].as_array_mut().expect("form") {
        if pair[0] == field {
            pair[1] = json!(value);
        }
    }
    request
}

fn registry_credentials(username: &str, password: &str, expires_at: Option<i64>) -> Credentials {
    Credentials::Registry(RegistryCredentials {
        username: username.to_owned(),
        password: password.to_owned(),
        expires_at,
    })
}

// ---------------------------------------------------------------- Azure

const TENANT: &str = "72f988bf-0000-4000-8000-00000000a11e";
const CLIENT: &str = "0d0e0a0d-beef-4000-8000-00000000c1d0";
const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
const DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

fn azure_sa() -> Identity {
    sa(
        "default",
        "workload-sa",
        &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
    )
}

fn assertion() -> String {
    cases::input("azure.entra-token.request.json", "azure-workload-identity-token-0", "client_assertion")
}

/// The Entra token response case and its access token.
fn entra_token() -> (u16, String, String) {
    let (status, body) = cases::response("azure.entra-token.response.json", "azure-workload-identity-token-0");
    let token = json_field(&body, "access_token");
    (status, body, token)
}

/// The ACR exchange request for `registry` carrying `token`, from the case.
fn acr_exchange_request(registry: &str, token: &str) -> Value {
    let mut expect = cases::request("azure.acr-exchange.request.json", "exchange");
    expect["url"] = json!(format!("https://{registry}/oauth2/exchange?api-version=2021-07-01"));
    let expect = with_form(expect, "service", registry);
    with_form(expect, "access_token", token)
}

fn acr_exchange(registry: &str, token: &str) -> (Exchange, Credentials) {
    let (status, body) = cases::response("azure.acr-exchange.response.json", "exchange");
    let refresh = json_field(&body, "refresh_token");
    (
        Exchange::http(
            acr_exchange_request(registry, token),
            response(status, &[], &body),
            Some(r#"{"refresh_token": "not-a-jwt"}"#),
        ),
        registry_credentials("00000000-0000-0000-0000-000000000000", &refresh, Some(FAR)),
    )
}

fn azure_scenarios() -> Vec<Scenario> {
    let (entra_status, entra_body, entra_access) = entra_token();
    let entra = || response(entra_status, &[], &entra_body);
    let entra_expect = |id: &str| cases::request("azure.entra-token.request.json", id);
    let wi_file = "/var/run/secrets/azure/tokens/azure-identity-token";
    let mut out = Vec::new();

    // Object-level workload identity, ACR in the public cloud.
    let (exchange, creds) = acr_exchange("myregistry.azurecr.io", &entra_access);
    out.push(scenario(
        "acr-service-account",
        registry("myregistry.azurecr.io/app:v1", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), entra(), Some("<html>gateway</html>")),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level workload identity in China: the cloud's authority.
    let (exchange, creds) = acr_exchange("myregistry.azurecr.cn", &entra_access);
    out.push(scenario(
        "acr-controller-workload-identity-china",
        registry(
            "oci://myregistry.azurecr.cn/charts/podinfo",
            Identity::Controller,
            options(&[
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
                ("AZURE_FEDERATED_TOKEN_FILE", wi_file),
            ]),
        ),
        vec![
            Exchange::token("api://AzureADTokenExchange", None, Some(wi_file), &assertion()),
            Exchange::http(entra_expect("cloud-AzureChina"), entra(), Some("{")),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level workload identity with AZURE_AUTHORITY_HOST.
    let mut expect = entra_expect("azure-workload-identity-token-0");
    expect["url"] = json!(format!("https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token"));
    let (exchange, creds) = acr_exchange("myregistry.azurecr.us", &entra_access);
    out.push(scenario(
        "acr-controller-workload-identity-authority-host",
        registry(
            "myregistry.azurecr.us/app",
            Identity::Controller,
            options(&[
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
                ("AZURE_FEDERATED_TOKEN_FILE", wi_file),
                ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
            ]),
        ),
        vec![
            Exchange::token("api://AzureADTokenExchange", None, Some(wi_file), &assertion()),
            Exchange::http(expect, entra(), None),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level managed identity (user-assigned via AZURE_CLIENT_ID).
    let (imds_status, imds_body) = cases::response("azure.imds-token.response.json", "imds-0");
    let imds_token = json_field(&imds_body, "access_token");
    let imds_client = cases::input("azure.imds-token.request.json", "imds-client_id", "client_id");
    let (exchange, creds) = acr_exchange("myregistry.azurecr.io", &imds_token);
    out.push(scenario(
        "acr-controller-managed-identity",
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[("AZURE_CLIENT_ID", &imds_client)])),
        vec![
            Exchange::http(
                cases::request("azure.imds-token.request.json", "imds-client_id"),
                response(imds_status, &[], &imds_body),
                Some("{\"access_token\": 1}"),
            ),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // A plain token: system-assigned managed identity, default (ARM) scope.
    let imds_expires = NOW + json_field(&imds_body, "expires_in").parse::<i64>().expect("expires_in");
    out.push(scenario(
        "azure-access-token-managed-identity",
        access_token(Provider::Azure, &[], Identity::Controller, options(&[])),
        vec![Exchange::http(
            cases::request("azure.imds-token.request.json", "imds-system-assigned"),
            response(imds_status, &[], &imds_body),
            Some("[]"),
        )],
        Outcome::Done(Credentials::AccessToken(AccessToken { token: imds_token.clone(), expires_at: imds_expires })),
    ));

    // Git: Azure DevOps, object-level.
    let entra_expires = NOW + 3599;
    out.push(scenario(
        "git-azure-devops-service-account",
        SessionRequest {
            target: Target::Git("https://dev.azure.com/org/project/_git/repo".into()),
            identity: azure_sa(),
            options: options(&[]),
            now: NOW,
        },
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(
                with_form(entra_expect("azure-workload-identity-token-0"), "scope", DEVOPS_SCOPE),
                entra(),
                Some("{}"),
            ),
        ],
        Outcome::Done(Credentials::Git(GitCredentials {
            username: "azure-devops".into(),
            password: entra_access.clone(),
            bearer_token: entra_access.clone(),
            expires_at: entra_expires,
        })),
    ));

    // The service's error code comes through.
    let (status, body) = cases::response("azure.entra-token.response.json", "invalid-client-400");
    out.push(scenario(
        "acr-entra-invalid-client",
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), response(status, &[], &body), None),
        ],
        Outcome::Failed { kind: "http-status", code: Some("invalid_client") },
    ));
    let (status, body) = cases::response("azure.acr-exchange.response.json", "unauthorized");
    out.push(scenario(
        "acr-exchange-unauthorized",
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), entra(), None),
            Exchange::http(
                acr_exchange_request("myregistry.azurecr.io", &entra_access),
                response(status, &[], &body),
                None,
            ),
        ],
        Outcome::Failed { kind: "http-status", code: None },
    ));
    out
}

// ---------------------------------------------------------------- AWS

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/wirecap-role";
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

fn web_identity_token() -> String {
    cases::input("aws.sts-web-identity.request.json", "minimal", "web_identity_token")
}

/// An STS response carrying the credentials of an ECR request case, so that
/// the signed ECR request can be compared with that case byte for byte.
fn sts_reply_for(ecr_case: &str) -> HttpResponse {
    sts_reply_with("aws.ecr-token.request.json", ecr_case)
}

/// An STS response carrying the credentials of any AWS case.
fn sts_reply_with(file: &str, id: &str) -> HttpResponse {
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

fn aws_scenarios() -> Vec<Scenario> {
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

// ---------------------------------------------------------------- Google Cloud

const WIP: &str = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
const GSA: &str = "wirecap-sa@my-project.iam.gserviceaccount.com";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
const USERINFO: &str = "https://www.googleapis.com/auth/userinfo.email";

fn gcp_scenarios() -> Vec<Scenario> {
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let md_token = json_field(&md_body, "access_token");
    let (sts_status, sts_body) = cases::response("gcp.sts-exchange.response.json", "ok");
    let sts_token = json_field(&sts_body, "access_token");
    let (iam_status, iam_body) = cases::response("gcp.impersonation.response.json", "ok");
    let iam_token = json_field(&iam_body, "accessToken");
    let subject = cases::input("gcp.sts-exchange.request.json", "impersonation", "subject_token");
    let mut out = Vec::new();

    out.push(scenario(
        "gar-controller-metadata",
        registry("us-docker.pkg.dev/my-project/repo/app:v1", Identity::Controller, options(&[])),
        vec![Exchange::http(
            cases::request("gcp.metadata-token.request.json", "scopes-1"),
            response(md_status, &[], &md_body),
            Some(r#"{"expires_in": 3599}"#),
        )],
        Outcome::Done(registry_credentials("oauth2accesstoken", &md_token, Some(NOW + 3599))),
    ));

    // Federation from outside GKE with impersonation, as an access token for the case's scope.
    out.push(scenario(
        "gcp-access-token-federation-impersonation",
        access_token(
            Provider::Gcp,
            &[CLOUD_PLATFORM],
            sa(
                "default",
                "workload-sa",
                &[("gcp.auth.fluxcd.io/workload-identity-provider", WIP), ("iam.gke.io/gcp-service-account", GSA)],
            ),
            options(&[]),
        ),
        vec![
            Exchange::token(&format!("//iam.googleapis.com/{WIP}"), Some(("default", "workload-sa")), None, &subject),
            Exchange::http(
                cases::request("gcp.sts-exchange.request.json", "impersonation"),
                response(sts_status, &[], &sts_body),
                Some("{}"),
            ),
            Exchange::http(
                cases::request("gcp.impersonation.request.json", "impersonation"),
                response(iam_status, &[], &iam_body),
                Some(r#"{"accessToken": "x"}"#),
            ),
        ],
        Outcome::Done(Credentials::AccessToken(AccessToken { token: iam_token.clone(), expires_at: FAR })),
    ));

    // GKE, direct access: the pool and provider come from the metadata server.
    let provider_url =
        "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster";
    let md = |path: &str| json!({"method": "GET", "url": format!("http://metadata.google.internal/computeMetadata/v1/{path}"), "headers": {"Metadata-Flavor": "Google"}});
    let mut sts_expect = cases::request("gcp.sts-exchange.request.json", "file-source");
    sts_expect = with_form(sts_expect, "audience", &format!("identitynamespace:my-project.svc.id.goog:{provider_url}"));
    sts_expect = with_form(sts_expect, "scope", &format!("{CLOUD_PLATFORM} {USERINFO}"));
    sts_expect = with_form(sts_expect, "subject_token", &subject);
    out.push(scenario(
        "gar-gke-direct-access",
        registry("europe-docker.pkg.dev/my-project/repo/app", sa("apps", "puller", &[]), options(&[])),
        vec![
            Exchange::http(md("project/project-id"), response(200, &[], "my-project"), Some("")),
            Exchange::http(md("instance/attributes/cluster-location"), response(200, &[], "us-central1"), Some("\n")),
            Exchange::http(
                md("instance/attributes/cluster-name"),
                response(200, &[], "my-cluster"),
                Some("Not_A_Cluster"),
            ),
            Exchange::token("my-project.svc.id.goog", Some(("apps", "puller")), None, &subject),
            Exchange::http(sts_expect, response(sts_status, &[], &sts_body), Some("{\"access_token\": \"\"}")),
        ],
        Outcome::Done(registry_credentials("oauth2accesstoken", &sts_token, Some(NOW + 3599))),
    ));

    let (status, body) = cases::response("gcp.sts-exchange.response.json", "invalid-grant");
    out.push(scenario(
        "gcp-sts-invalid-grant",
        access_token(
            Provider::Gcp,
            &[CLOUD_PLATFORM],
            sa(
                "default",
                "workload-sa",
                &[("gcp.auth.fluxcd.io/workload-identity-provider", WIP), ("iam.gke.io/gcp-service-account", GSA)],
            ),
            options(&[]),
        ),
        vec![
            Exchange::token(&format!("//iam.googleapis.com/{WIP}"), Some(("default", "workload-sa")), None, &subject),
            Exchange::http(
                cases::request("gcp.sts-exchange.request.json", "impersonation"),
                response(status, &[], &body),
                None,
            ),
        ],
        Outcome::Failed { kind: "http-status", code: Some("invalid_grant") },
    ));
    out
}

// ---------------------------------------------------------------- generic

fn challenge(id: &str) -> String {
    cases::input("oci.challenge.json", id, "header")
}

fn ping(url: &str) -> Value {
    json!({"method": "GET", "url": url, "absent_headers": ["Authorization"]})
}

fn with_basic(mut o: Options, user: &str, password: &str) -> Options {
    o.registry_username = Some(user.into());
    o.registry_password = Some(password.into());
    o
}

/// A generic registry's outcome: the host's credentials, validated, as
/// docker-login credentials without expiry.
fn generic_scenarios() -> Vec<Scenario> {
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

// ---------------------------------------------------------------- clusters

/// A PEM bundle of one (fake) certificate: base64 inside, as the cluster
/// module's CA check requires.
const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBfakeCA==\n-----END CERTIFICATE-----\n";
const AKS_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1";
const AKS_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";
const ARM_SCOPE: &str = "https://management.core.windows.net//.default";

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn cluster(
    provider: Provider,
    id: &str,
    address: Option<&str>,
    ca: Option<&str>,
    identity: Identity,
    options: Options,
) -> SessionRequest {
    SessionRequest {
        target: Target::Cluster(Cluster {
            provider,
            resource_id: id.to_owned(),
            address: address.map(Into::into),
            ca_data: ca.map(Into::into),
        }),
        identity,
        options,
        now: NOW,
    }
}

fn rest(host: &str, ca: Option<&str>, token: &str, expires_at: i64) -> Credentials {
    Credentials::RestConfig(RestConfig {
        host: host.into(),
        ca_data: ca.map(Into::into),
        bearer_token: token.into(),
        expires_at,
    })
}

fn aks_kubeconfigs(server: &str) -> String {
    let kubeconfig = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: c1\ncontexts:\n- context:\n    cluster: c1\n    user: clusterUser_rg_c1\n  name: c1\ncurrent-context: c1\nkind: Config\npreferences: {{}}\nusers:\n- name: clusterUser_rg_c1\n  user:\n    exec:\n      command: kubelogin\n",
        b64(PEM)
    );
    json!({"kubeconfigs": [{"name": "clusterUser", "value": b64(&kubeconfig)}]}).to_string()
}

fn arm_call(method: &str, path: &str, token: &str) -> Value {
    json!({"method": method, "url": format!("https://management.azure.com{path}?api-version=2025-10-01"), "headers": {"Authorization": format!("Bearer {token}"), "Accept": "application/json"}})
}

fn cluster_scenarios() -> Vec<Scenario> {
    let (entra_status, entra_body, entra_access) = entra_token();
    let entra = || response(entra_status, &[], &entra_body);
    let entra_for = |scope: &str| {
        with_form(cases::request("azure.entra-token.request.json", "azure-workload-identity-token-0"), "scope", scope)
    };
    let server = "https://c1-dns-abc123.hcp.eastus.azmk8s.io:443";
    let credentials_path = format!("{AKS_ID}/listClusterUserCredential");
    let mut out = Vec::new();

    // AKS, object-level, looked up through ARM: one service-account token
    // serves both Entra exchanges (AKS scope, then ARM scope).
    out.push(scenario(
        "aks-service-account-lookup",
        cluster(Provider::Azure, AKS_ID, None, None, azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_for(AKS_SCOPE), entra(), Some("{}")),
            Exchange::http(entra_for(ARM_SCOPE), entra(), Some("{}")),
            Exchange::http(
                arm_call("GET", AKS_ID, &entra_access),
                response(200, &[], r#"{"name":"c1","properties":{"aadProfile":{"managed":true}}}"#),
                Some("not json"),
            ),
            Exchange::http(
                arm_call("POST", &credentials_path, &entra_access),
                response(200, &[], &aks_kubeconfigs(server)),
                Some(r#"{"kubeconfigs": []}"#),
            ),
        ],
        Outcome::Done(rest(server, Some(PEM), &entra_access, NOW + 3599)),
    ));
    // AKS with address and CA: the AKS token only, no lookup, no ID needed.
    out.push(scenario(
        "aks-address-and-ca",
        cluster(Provider::Azure, "", Some("https://c1.example:443"), Some(PEM), azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_for(AKS_SCOPE), entra(), None),
        ],
        Outcome::Done(rest("https://c1.example:443", Some(PEM), &entra_access, NOW + 3599)),
    ));
    // AKS, controller-level managed identity: two IMDS tokens.
    let (imds_status, imds_body) = cases::response("azure.imds-token.response.json", "imds-0");
    let imds_token = json_field(&imds_body, "access_token");
    let imds_expires = NOW + json_field(&imds_body, "expires_in").parse::<i64>().unwrap();
    let imds = |resource: &str| json!({"method": "GET", "url": format!("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}"), "headers": {"Metadata": "true"}});
    out.push(scenario(
        "aks-managed-identity-lookup-with-address",
        cluster(
            Provider::Azure,
            AKS_ID,
            Some("https://C1-DNS-ABC123.hcp.eastus.azmk8s.io"),
            None,
            Identity::Controller,
            options(&[]),
        ),
        vec![
            Exchange::http(imds("6dae42f8-4368-4678-94ff-3960e28e3630"), response(imds_status, &[], &imds_body), None),
            Exchange::http(imds("https://management.core.windows.net/"), response(imds_status, &[], &imds_body), None),
            Exchange::http(
                arm_call("GET", AKS_ID, &imds_token),
                response(200, &[], r#"{"properties":{"aadProfile":{}}}"#),
                None,
            ),
            Exchange::http(
                arm_call("POST", &credentials_path, &imds_token),
                response(200, &[], &aks_kubeconfigs(server)),
                None,
            ),
        ],
        // The given address is kept as given (Flux); the CA comes from the kubeconfig.
        Outcome::Done(rest("https://C1-DNS-ABC123.hcp.eastus.azmk8s.io", Some(PEM), &imds_token, imds_expires)),
    ));
    out.push(scenario(
        "aks-without-entra-integration",
        cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[])),
        vec![
            Exchange::http(imds("6dae42f8-4368-4678-94ff-3960e28e3630"), response(imds_status, &[], &imds_body), None),
            Exchange::http(imds("https://management.core.windows.net/"), response(imds_status, &[], &imds_body), None),
            Exchange::http(arm_call("GET", AKS_ID, &imds_token), response(200, &[], r#"{"properties":{}}"#), None),
        ],
        Outcome::Failed { kind: "unsupported", code: None },
    ));

    // EKS with address and CA and static keys: no request at all; the
    // token is the awscli one, the REST config lives 15 minutes (Flux).
    let eks_case = cases::case("aws.eks-token.json", "us-east-1-no-session-token");
    let eks_token = eks_case["expect"]["output"]["token"].as_str().unwrap().to_owned();
    out.push(scenario(
        "eks-static-keys-address-and-ca",
        cluster(
            Provider::Aws,
            "arn:aws:eks:us-east-1:123456789012:cluster/my-cluster",
            Some("https://ABC.gr7.us-east-1.eks.amazonaws.com"),
            Some(PEM),
            Identity::Controller,
            options(&[
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", eks_case["input"]["secret_access_key"].as_str().unwrap()),
            ]),
        ),
        vec![],
        Outcome::Done(rest("https://ABC.gr7.us-east-1.eks.amazonaws.com", Some(PEM), &eks_token, NOW + 900)),
    ));
    // EKS, object-level, described through the EKS API.
    let eks_case = cases::case("aws.eks-token.json", "us-west-2-default");
    let eks_token = eks_case["expect"]["output"]["token"].as_str().unwrap().to_owned();
    let sts_expect = with_form(
        cases::request("aws.sts-web-identity.request.json", "minimal"),
        "RoleSessionName",
        "puller.apps.us-west-2.fluxcd.io",
    );
    let describe = json!({"cluster": {"name": "my-cluster", "endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com", "certificateAuthority": {"data": b64(PEM)}}});
    out.push(scenario(
        "eks-service-account-describe",
        cluster(Provider::Aws, "arn:aws:eks:us-west-2:123456789012:cluster/my-cluster", None, None, sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]), options(&[])),
        vec![
            Exchange::token("sts.amazonaws.com", Some(("apps", "puller")), None, &web_identity_token()),
            Exchange::http(sts_expect, sts_reply_with("aws.eks-token.json", "us-west-2-default"), None),
            Exchange::http(
                json!({"method": "GET", "url": "https://eks.us-west-2.amazonaws.com/clusters/my-cluster", "headers": {"X-Amz-Date": "20240115T120000Z"}}),
                response(200, &[], &describe.to_string()),
                Some("{}"),
            ),
        ],
        Outcome::Done(rest("https://ABC.gr7.us-west-2.eks.amazonaws.com", Some(PEM), &eks_token, NOW + 900)),
    ));

    // GKE at controller level, described through the container API.
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let md_token = json_field(&md_body, "access_token");
    let gke = json!({"name": "c", "endpoint": "34.118.1.2", "masterAuth": {"clusterCaCertificate": b64(PEM)}});
    out.push(scenario(
        "gke-metadata-describe",
        cluster(Provider::Gcp, "projects/my-project/locations/us-central1/clusters/my-cluster", None, None, Identity::Controller, options(&[])),
        vec![
            Exchange::http(cases::request("gcp.metadata-token.request.json", "scopes-1"), response(md_status, &[], &md_body), None),
            Exchange::http(
                json!({"method": "GET", "url": "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster?alt=json&prettyPrint=false", "headers": {"Authorization": format!("Bearer {md_token}")}}),
                response(200, &[], &gke.to_string()),
                Some("{}"),
            ),
        ],
        Outcome::Done(rest("https://34.118.1.2", Some(PEM), &md_token, NOW + 3599)),
    ));

    // Any cluster: the Kubernetes token for the address as audience.
    let sa_token = jwt(&json!({"sub": "system:serviceaccount:apps:deployer", "exp": FAR}));
    out.push(scenario(
        "generic-cluster-service-account",
        cluster(
            Provider::Generic,
            "",
            Some("https://kubernetes.example:6443"),
            Some(PEM),
            sa("apps", "deployer", &[]),
            options(&[]),
        ),
        vec![Exchange::token("https://kubernetes.example:6443", Some(("apps", "deployer")), None, &sa_token)],
        Outcome::Done(rest("https://kubernetes.example:6443", Some(PEM), &sa_token, FAR)),
    ));
    out
}

fn all_scenarios() -> Vec<Scenario> {
    let mut all = azure_scenarios();
    all.extend(cluster_scenarios());
    all.extend(aws_scenarios());
    all.extend(gcp_scenarios());
    all.extend(generic_scenarios());
    all
}

#[test]
fn flows_run_step_by_step() {
    let all = all_scenarios();
    assert!(all.len() >= 30, "{} scenarios", all.len());
    for s in &all {
        s.run();
    }
}

#[test]
fn flows_fail_at_each_step() {
    for s in all_scenarios() {
        s.run_failures();
    }
}

// ---------------------------------------------------------------- start errors

#[test]
fn invalid_and_unsupported_requests_fail_at_start_with_flux_texts() {
    let gate_off = {
        let mut o = options(&[]);
        o.object_level_workload_identity = false;
        o
    };
    let role_pattern = r"^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$";
    let cases: Vec<(&str, SessionRequest, &str, String)> = vec![
        ("feature gate", registry("myregistry.azurecr.io/app", azure_sa(), gate_off), "invalid-input", "ObjectLevelWorkloadIdentity feature gate is not enabled".into()),
        (
            "role ARN missing",
            registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", sa("apps", "puller", &[]), options(&[])),
            "invalid-input",
            format!("failed to get provider identity from service account 'apps/puller' annotations: invalid eks.amazonaws.com/role-arn annotation: ''. must match {role_pattern}"),
        ),
        (
            "tenant missing",
            registry("myregistry.azurecr.io/app", sa("apps", "puller", &[("azure.workload.identity/client-id", CLIENT)]), options(&[])),
            "invalid-input",
            "failed to get provider identity from service account 'apps/puller' annotations: azure tenant ID is not set in the service account annotation azure.workload.identity/tenant-id".into(),
        ),
        (
            "client missing",
            registry("myregistry.azurecr.io/app", sa("apps", "puller", &[("azure.workload.identity/tenant-id", TENANT)]), options(&[])),
            "invalid-input",
            "failed to get provider identity from service account 'apps/puller' annotations: azure client ID is not set in the service account annotation azure.workload.identity/client-id".into(),
        ),
        (
            "bad GCP service account",
            registry("gcr.io/p/app", sa("apps", "puller", &[("iam.gke.io/gcp-service-account", "x@evil.example")]), options(&[])),
            "invalid-input",
            r"failed to get provider identity from service account 'apps/puller' annotations: invalid iam.gke.io/gcp-service-account annotation: 'x@evil.example'. must match ^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$".into(),
        ),
        (
            "bad workload identity provider",
            registry("gcr.io/p/app", sa("apps", "puller", &[("gcp.auth.fluxcd.io/workload-identity-provider", "projects/x")]), options(&[])),
            "invalid-input",
            r"failed to get provider identity from service account 'apps/puller' annotations: invalid gcp.auth.fluxcd.io/workload-identity-provider annotation: 'projects/x'. must match ^projects/\d{1,30}/locations/global/workloadIdentityPools/[^/]{1,100}/providers/[^/]{1,100}$".into(),
        ),
        (
            "controller region",
            access_token(Provider::Aws, &[], Identity::Controller, options(&[])),
            "invalid-input",
            "AWS_REGION environment variable is not set in the Flux controller. if you have properly configured IAM Roles for Service Accounts (IRSA) or EKS Pod Identity, please delete/replace the controller pod so the EKS admission controllers can inject this environment variable, or set it manually if the cluster is not EKS".into(),
        ),
        (
            "object region",
            access_token(Provider::Aws, &[], sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]), options(&[])),
            "invalid-input",
            "an AWS region is required for authenticating with a service account. please configure one in the object spec".into(),
        ),
        (
            "STS endpoint",
            {
                let mut r = registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Identity::Controller, options(&[]));
                r.options.sts_endpoint = Some("https://sts.amazonaws.com.evil.example".into());
                r
            },
            "invalid-input",
            r"invalid STS endpoint: 'https://sts.amazonaws.com.evil.example'. must match ^https://(.+\.)?sts(-fips)?(\.[^.]+)?(\.vpce)?\.amazonaws\.com$".into(),
        ),
        // A generic registry without configured credentials: nothing to
        // validate, nothing to give; decided before any request.
        (
            "generic registry without credentials",
            registry("registry.example.test/foo:v1", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry registry.example.test".into(),
        ),
        (
            "Docker Hub without credentials",
            registry("alpine", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry docker.io".into(),
        ),
        (
            "generic registry with a port, without credentials",
            registry("localhost:5000/app", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry localhost:5000".into(),
        ),
    ];
    let mut host = Host::new();
    for (name, request, want_kind, want_message) in cases {
        let err = host.start(&request).err().unwrap_or_else(|| panic!("{name}: started"));
        assert_eq!((kind(&err), message(&err)), (want_kind, want_message), "{name}");
    }
    // Shape errors and targets nobody serves.
    let shape: Vec<(&str, SessionRequest, &str)> = vec![
        ("bad reference", registry("Registry.Example/UPPER", Identity::Controller, options(&[])), "invalid-input"),
        (
            "generic with a service account",
            registry("ghcr.io/o/app", sa("apps", "puller", &[]), options(&[])),
            "unsupported",
        ),
        (
            "git outside Azure DevOps",
            SessionRequest {
                target: Target::Git("https://github.com/o/r".into()),
                identity: Identity::Controller,
                options: options(&[]),
                now: NOW,
            },
            "unsupported",
        ),
        (
            "CodeCommit over plain HTTP",
            SessionRequest {
                target: Target::Git("http://git-codecommit.us-east-1.amazonaws.com/v1/repos/r".into()),
                identity: Identity::Controller,
                options: options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
                now: NOW,
            },
            "invalid-input",
        ),
        (
            "CodeCommit look-alike host",
            SessionRequest {
                target: Target::Git("https://git-codecommit.us-east-1.amazonaws.com.evil.example/v1/repos/r".into()),
                identity: Identity::Controller,
                options: options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
                now: NOW,
            },
            "invalid-input",
        ),
        (
            "plain-http authority host",
            registry(
                "myregistry.azurecr.io/app",
                Identity::Controller,
                options(&[
                    ("AZURE_CLIENT_ID", CLIENT),
                    ("AZURE_TENANT_ID", TENANT),
                    ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
                    ("AZURE_AUTHORITY_HOST", "http://login.microsoftonline.com"),
                ]),
            ),
            "invalid-input",
        ),
        (
            "bad namespace",
            registry("myregistry.azurecr.io/app", sa("../kube-system", "x", &[]), options(&[])),
            "invalid-input",
        ),
        (
            "header injection in an annotation",
            registry(
                "myregistry.azurecr.io/app",
                sa(
                    "a",
                    "b",
                    &[("azure.workload.identity/tenant-id", "t\r\nX: y"), ("azure.workload.identity/client-id", "c")],
                ),
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "AKS ID",
            cluster(
                Provider::Azure,
                "/subscriptions/x/resourceGroups/rg",
                None,
                None,
                Identity::Controller,
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "EKS ARN",
            cluster(
                Provider::Aws,
                "my-cluster",
                Some("https://a.example"),
                Some(PEM),
                Identity::Controller,
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "GKE name",
            cluster(Provider::Gcp, "my-cluster", None, None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "plain-http address",
            cluster(Provider::Generic, "", Some("http://k.example"), None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "generic without address",
            cluster(Provider::Generic, "", None, None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "negative now",
            SessionRequest { now: -1, ..registry("ghcr.io/o/app", Identity::Controller, options(&[])) },
            "invalid-input",
        ),
    ];
    for (name, request, want_kind) in shape {
        let err = host.start(&request).err().unwrap_or_else(|| panic!("{name}: started"));
        assert_eq!(kind(&err), want_kind, "{name}: {}", message(&err));
    }
}

// ---------------------------------------------------------------- routing safety

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

// ---------------------------------------------------------------- cache

fn sha256_hex(parts: &[String]) -> String {
    Sha256::digest(parts.join("\n").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the managed-identity ACR flow in `host`; returns the session.
fn acr_managed_identity(host: &mut Host, request: &SessionRequest) -> wasmtime::component::ResourceAny {
    let s = host.start(request).unwrap();
    if host.served_from_cache(s) {
        return s;
    }
    let (status, body) = cases::response("azure.imds-token.response.json", "imds-0");
    host.http(s, &response(status, &[], &body), request.now).unwrap();
    let (status, body) = cases::response("azure.acr-exchange.response.json", "exchange");
    host.http(s, &response(status, &[], &body), request.now).unwrap();
    assert!(matches!(host.next(s), Step::Done(_)));
    s
}

fn cached(o: Options) -> Options {
    Options { skip_cache: false, ..o }
}

#[test]
fn cache_hits_expire_and_obey_skip_and_clear() {
    let mut host = Host::new();
    let request = registry("myregistry.azurecr.io/app", Identity::Controller, cached(options(&[])));
    let first = acr_managed_identity(&mut host, &request);
    assert!(!host.served_from_cache(first));
    let done = host.next(first);

    // Hit: done at start, the same credentials and key.
    let hit = host.start(&SessionRequest { now: NOW + 10, ..request.clone() }).unwrap();
    assert!(host.served_from_cache(hit));
    assert_eq!(format!("{:?}", host.next(hit)), format!("{done:?}"));
    assert_eq!(host.cache_key(hit), host.cache_key(first));
    assert_eq!(kind(&host.http(hit, &response(200, &[], "{}"), NOW).unwrap_err()), "invalid-input");

    // The refresh token lives until 2100, so the one-hour cap decides.
    assert!(host.hit(&SessionRequest { now: NOW + 3599, ..request.clone() }));
    assert!(!host.hit(&SessionRequest { now: NOW + 3600, ..request.clone() }));

    // skip-cache neither uses nor fills the cache.
    let mut host = Host::new();
    let skip = registry("myregistry.azurecr.io/app", Identity::Controller, options(&[]));
    acr_managed_identity(&mut host, &skip);
    assert!(!host.hit(&request));
    acr_managed_identity(&mut host, &request);
    assert!(!host.hit(&skip), "skip-cache ignores a cached entry");
    assert!(host.hit(&request));
    host.clear_cache();
    assert!(!host.hit(&request));
}

/// A generic registry's outcome has no expiry, so it is never cached:
/// every session validates the credentials again.
#[test]
fn generic_registry_results_are_not_cached() {
    let mut host = Host::new();
    let request =
        registry("registry.example.test/app", Identity::Controller, cached(with_basic(options(&[]), "u", "p")));
    for _ in 0..2 {
        let s = host.start(&request).unwrap();
        assert!(!host.served_from_cache(s));
        let Step::SendHttp(ping) = host.next(s) else { panic!("no ping") };
        assert_eq!(ping.url, "https://registry.example.test/v2/");
        host.http(s, &response(200, &[], "{}"), NOW).unwrap();
        assert_eq!(format!("{:?}", host.next(s)), format!("{:?}", Step::Done(registry_credentials("u", "p", None))));
    }
}

#[test]
fn cache_reuses_until_80_percent_of_the_lifetime() {
    // A token of 300 s is reused for 240 s.
    let mut host = Host::new();
    let request = access_token(
        Provider::Generic,
        &["https://kubernetes.example"],
        sa("apps", "puller", &[]),
        cached(options(&[])),
    );
    let token = jwt(&json!({"sub": "system:serviceaccount:apps:puller", "exp": NOW + 300}));
    let s = host.start(&request).unwrap();
    host.token(s, &token, NOW).unwrap();
    assert!(host.hit(&SessionRequest { now: NOW + 239, ..request.clone() }));
    assert!(!host.hit(&SessionRequest { now: NOW + 240, ..request.clone() }));
    // A clock that went back is a miss too.
    let s = host.start(&request).unwrap();
    host.token(s, &token, NOW).unwrap();
    assert!(!host.hit(&SessionRequest { now: NOW - 1, ..request.clone() }));
}

#[test]
fn cache_is_bounded() {
    let mut host = Host::new();
    let token = jwt(&json!({"exp": FAR}));
    let request = |i: usize| {
        access_token(Provider::Generic, &[&format!("aud-{i}")], sa("apps", "puller", &[]), cached(options(&[])))
    };
    for i in 0..=256 {
        let s = host.start(&request(i)).unwrap();
        assert!(!host.served_from_cache(s));
        host.token(s, &token, NOW).unwrap();
    }
    // 257 entries were stored into 256 places: the least recently used went.
    assert!(!host.hit(&request(0)), "the oldest entry was evicted");
    assert!(host.hit(&request(256)));
    assert!(host.hit(&request(1)));
}

#[test]
fn cache_keys_follow_flux_and_separate_what_differs() {
    let mut host = Host::new();
    let mut key = |request: &SessionRequest| {
        let s = host.start(request).unwrap_or_else(|e| panic!("{}", message(&e)));
        host.cache_key(s)
    };
    // Flux's keys, where Flux could make the same request.
    let access = sha256_hex(&["provider=azure".into(), format!("scopes={ACR_SCOPE}")]);
    let want = sha256_hex(&[
        format!("accessTokenCacheKey={access}"),
        "artifactRepositoryCacheKey=myregistry.azurecr.io".into(),
    ]);
    assert_eq!(key(&registry("myregistry.azurecr.io/app:v1", Identity::Controller, options(&[]))), want);
    let access = sha256_hex(&[
        "provider=azure".into(),
        format!("providerIdentity={TENANT}/{CLIENT}"),
        "serviceAccountName=workload-sa".into(),
        "serviceAccountNamespace=default".into(),
        "serviceAccountTokenAudiences=api://AzureADTokenExchange".into(),
        format!("scopes={ACR_SCOPE}"),
    ]);
    let want = sha256_hex(&[
        format!("accessTokenCacheKey={access}"),
        "artifactRepositoryCacheKey=myregistry.azurecr.io".into(),
    ]);
    assert_eq!(
        key(&registry("oci://myregistry.azurecr.io/other", azure_sa(), options(&[]))),
        want,
        "the repository does not matter"
    );
    let access = sha256_hex(&[
        "provider=aws".into(),
        format!("providerIdentity={ROLE_ARN}"),
        "serviceAccountName=puller".into(),
        "serviceAccountNamespace=apps".into(),
        "serviceAccountTokenAudiences=sts.amazonaws.com".into(),
        "stsRegion=us-east-1".into(),
    ]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), "artifactRepositoryCacheKey=us-east-1".into()]);
    assert_eq!(
        key(&registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
            options(&[])
        )),
        want
    );
    // CodeCommit: the STS region from the URL, and the URL itself (Flux's
    // ParseGitRepository), since the credentials sign it.
    let url = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/my-repo";
    let access = sha256_hex(&[
        "provider=aws".into(),
        format!("providerIdentity={ROLE_ARN}"),
        "serviceAccountName=puller".into(),
        "serviceAccountNamespace=apps".into(),
        "serviceAccountTokenAudiences=sts.amazonaws.com".into(),
        "stsRegion=us-east-1".into(),
    ]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), format!("gitRepositoryCacheKey={url}")]);
    let git = |url: &str| SessionRequest {
        target: Target::Git(url.into()),
        identity: sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
        options: options(&[]),
        now: NOW,
    };
    assert_eq!(key(&git(url)), want);
    assert_ne!(key(&git("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/other")), want);
    let access = sha256_hex(&["provider=gcp".into()]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), "artifactRepositoryCacheKey=gcp".into()]);
    assert_eq!(key(&registry("gcr.io/p/app", Identity::Controller, options(&[]))), want);

    // Flux's REST config key: one access-token key per token, the cluster, the address.
    let k0 = sha256_hex(&["provider=azure".into(), format!("scopes={AKS_SCOPE}")]);
    let k1 = sha256_hex(&["provider=azure".into(), format!("scopes={ARM_SCOPE}")]);
    let want = sha256_hex(&[
        format!("accessToken0CacheKey={k0}"),
        format!("accessToken1CacheKey={k1}"),
        format!("cluster={AKS_ID}"),
    ]);
    assert_eq!(key(&cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[]))), want);
    let k0 = sha256_hex(&[
        "provider=aws".into(),
        "stsRegion=us-east-1".into(),
        format!("caData={PEM}"),
        "controllerIdentity=accessKeyID=AKID".into(),
    ]);
    let arn = "arn:aws:eks:us-east-1:123456789012:cluster/c";
    let want = sha256_hex(&[
        format!("accessToken0CacheKey={k0}"),
        format!("cluster={arn}"),
        "address=https://c.example".into(),
    ]);
    let eks = cluster(
        Provider::Aws,
        arn,
        Some("https://c.example"),
        Some(PEM),
        Identity::Controller,
        options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
    );
    assert_eq!(key(&eks), want);

    // Everything that changes the result changes the key.
    let with_sts = {
        let mut o = options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        o.sts_endpoint = Some("https://sts.amazonaws.com".into());
        o
    };
    let requests = vec![
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[])),
        registry("other.azurecr.io/app", Identity::Controller, options(&[])),
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[("AZURE_CLIENT_ID", CLIENT)])),
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "default",
                "other-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
            ),
            options(&[]),
        ),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "other-ns",
                "workload-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
            ),
            options(&[]),
        ),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "default",
                "workload-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", "other-client")],
            ),
            options(&[]),
        ),
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID2"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry(
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Identity::Controller, with_sts),
        registry(
            "public.ecr.aws/o/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry("gcr.io/p/app", sa("apps", "puller", &[("iam.gke.io/gcp-service-account", GSA)]), options(&[])),
        registry("gcr.io/p/app", sa("apps", "puller", &[]), options(&[])),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u", "p")),
        registry("registry.example.test/bar", Identity::Controller, with_basic(options(&[]), "u", "p")),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u2", "p")),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u", "p2")),
        access_token(Provider::Azure, &[], Identity::Controller, options(&[])),
        access_token(Provider::Azure, &[DEVOPS_SCOPE], Identity::Controller, options(&[])),
        SessionRequest {
            target: Target::Git("https://dev.azure.com/o/p/_git/r".into()),
            identity: Identity::Controller,
            options: options(&[]),
            now: NOW,
        },
        cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[])),
        cluster(Provider::Azure, AKS_ID, Some("https://c1.example"), None, Identity::Controller, options(&[])),
        cluster(Provider::Azure, AKS_ID, Some("https://c1.example"), Some(PEM), Identity::Controller, options(&[])),
        cluster(
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/c",
            None,
            None,
            Identity::Controller,
            options(&[]),
        ),
        cluster(
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/d",
            None,
            None,
            Identity::Controller,
            options(&[]),
        ),
    ];
    let keys: Vec<String> = requests.iter().map(&mut key).collect();
    for (i, a) in keys.iter().enumerate() {
        assert_eq!(a.len(), 64);
        for (j, b) in keys.iter().enumerate().skip(i + 1) {
            assert_ne!(a, b, "requests {i} and {j} share a key");
        }
    }
    // The same request, at another time and with another skip-cache, has the same key.
    let mut again = requests[3].clone();
    again.now = NOW + 1000;
    again.options.skip_cache = false;
    assert_eq!(key(&again), keys[3]);
}

#[test]
fn cluster_start_errors_have_flux_texts() {
    let mut host = Host::new();
    let err = host
        .start(&cluster(Provider::Aws, "my-cluster", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("EKS");
    assert_eq!(
        message(&err),
        r"invalid EKS cluster ARN: 'my-cluster'. must match ^arn:aws[\w-]*:eks:([^:]{1,100}):[0-9]{1,30}:cluster/(.{1,200})$"
    );
    let err = host
        .start(&cluster(Provider::Gcp, "c", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("GKE");
    assert_eq!(
        message(&err),
        "invalid GKE cluster ID: 'c'. must match ^projects/[^/]{1,200}/locations/[^/]{1,200}/clusters/[^/]{1,200}$"
    );
    let err = host
        .start(&cluster(Provider::Azure, "c", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("AKS");
    assert!(
        message(&err).starts_with("invalid AKS cluster ID: 'c'. must match (?i)^/subscriptions/"),
        "{}",
        message(&err)
    );
    let err = host
        .start(&cluster(Provider::Generic, "", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("generic");
    assert_eq!(message(&err), "cluster address is required to create a REST config");
    // Segments that go into a request path are validated, never escaped.
    for (provider, id, why) in [
        (Provider::Azure, AKS_ID.replace("/c1", "/c%3F1"), "the cluster name is not valid"),
        (Provider::Azure, AKS_ID.replace("/rg/", "/my rg/"), "the resource group name is not valid"),
        (Provider::Azure, AKS_ID.replace("00000000-", "0000000x-"), "the subscription ID is not a GUID"),
        (
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/c..x".into(),
            "the cluster name is not valid",
        ),
        (Provider::Aws, "arn:aws:eks:us-east-1:123456789012:cluster/c?x".into(), "the cluster name is not valid"),
        (
            Provider::Aws,
            "arn:aws-cn:eks:us-east-1:123456789012:cluster/c".into(),
            "region us-east-1 is in partition aws",
        ),
    ] {
        let keys = options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        let err = host.start(&cluster(provider, &id, None, None, Identity::Controller, keys)).map(drop).expect_err(&id);
        assert_eq!(kind(&err), "invalid-input", "{id}");
        assert!(message(&err).ends_with(why), "{id}: {}", message(&err));
    }
    // The caller's CA must be a PEM bundle of certificates, checked at start.
    let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let err = host
        .start(&cluster(
            Provider::Generic,
            "",
            Some("https://k.example"),
            Some(key),
            Identity::Controller,
            options(&[]),
        ))
        .map(drop)
        .expect_err("a key as CA");
    assert_eq!(kind(&err), "invalid-input");
    assert!(!message(&err).contains("AAAA"), "{}", message(&err));
}

#[test]
fn aks_address_must_match_a_kubeconfig() {
    let mut host = Host::new();
    let request =
        cluster(Provider::Azure, AKS_ID, Some("https://other.example"), None, Identity::Controller, options(&[]));
    let s = host.start(&request).unwrap();
    let (status, body) = cases::response("azure.imds-token.response.json", "imds-0");
    host.http(s, &response(status, &[], &body), NOW).unwrap();
    host.http(s, &response(status, &[], &body), NOW).unwrap();
    host.http(s, &response(200, &[], r#"{"properties":{"aadProfile":{}}}"#), NOW).unwrap();
    let err =
        host.http(s, &response(200, &[], &aks_kubeconfigs("https://c1.hcp.eastus.azmk8s.io:443")), NOW).unwrap_err();
    assert_eq!(
        message(&err),
        format!(
            "no kubeconfig found for AKS cluster {AKS_ID} matching the specified address 'https://other.example'. cluster addresses: ['https://c1.hcp.eastus.azmk8s.io:443']"
        )
    );
}

/// The host of a URL as `policy.explain` names it: lower case, port 443 folded.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    authority.strip_suffix(":443").map(str::to_owned).unwrap_or(authority)
}

/// `policy.explain` lists exactly the hosts each flow requests: driving
/// every scenario, the distinct hosts of its requests, in order, are the
/// explained hosts (the optional token realms only when a challenge named
/// them); a scenario that fails part-way requested only explained hosts.
/// The explained cache key is the session's.
#[test]
fn explain_lists_exactly_the_hosts_the_flows_request() {
    use support::api::policy::Contact;
    let distinct = |hosts: Vec<String>| {
        let mut out: Vec<String> = Vec::new();
        for h in hosts {
            if !out.contains(&h) {
                out.push(h);
            }
        }
        out
    };
    let mut compared = 0;
    for scenario in all_scenarios() {
        let mut host = Host::new();
        let explanation = host
            .i
            .api
            .cloudauth_auth_policy()
            .call_explain(&mut host.i.store, &scenario.request)
            .expect("explain trapped")
            .unwrap_or_else(|e| panic!("{}: explain failed: {}", scenario.name, message(&e)));
        let explained: Vec<Contact> = explanation.hosts;
        let s = host.start(&scenario.request).unwrap();
        assert_eq!(explanation.cache_key, host.cache_key(s), "{}: cache key", scenario.name);
        let mut requested = Vec::new();
        for exchange in &scenario.exchanges {
            let result = match (host.next(s), exchange) {
                (Step::SendHttp(r), Exchange::Http { reply, .. }) => {
                    requested.push(url_host(&r.url));
                    host.http(s, reply, scenario.now)
                }
                (Step::FetchIdentityToken(_), Exchange::Token { reply, .. }) => host.token(s, reply, scenario.now),
                (step, _) => panic!("{}: unexpected step {step:?}", scenario.name),
            };
            if result.is_err() {
                break;
            }
        }
        let requested = distinct(requested);
        for h in &requested {
            assert!(explained.iter().any(|c| &c.host == h), "{}: {h} requested but not explained", scenario.name);
        }
        if matches!(scenario.outcome, Outcome::Done(_)) {
            let expected = distinct(
                explained
                    .iter()
                    .filter(|c| !c.optional || requested.contains(&c.host))
                    .map(|c| c.host.clone())
                    .collect(),
            );
            assert_eq!(requested, expected, "{}: requested vs explained hosts", scenario.name);
            compared += 1;
        }
    }
    assert!(compared >= 25, "only {compared} scenarios compared");
}
