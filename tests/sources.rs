//! Credential sources through the built component: each source's happy
//! path and a failure at every step (the `flows/driver.rs` machinery), and
//! what a configured but broken source says at `start`.
//!
//! Canned answers follow the services' documented formats (AWS container
//! credentials: the ECS task and EKS Pod Identity agent documents; Entra
//! and App Service: Microsoft's token endpoint docs); requests that have a
//! conformance case are compared with it.

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

use serde_json::json;

use driver::{Exchange, Host, Outcome, Scenario, kind, message, response};
use support::api::session::{Credentials, Identity, Options, SessionRequest, Target};
use support::api::types::{AwsCredentials, HttpResponse, Provider, RegistryCredentials};

const NOW: i64 = 1_705_320_000;

fn options(env: &[(&str, &str)]) -> Options {
    support::session_options(env)
}

fn registry(reference: &str, env: &[(&str, &str)]) -> SessionRequest {
    SessionRequest {
        target: Target::Registry(reference.to_owned()),
        identity: Identity::Controller,
        options: options(env),
        now: NOW,
    }
}

fn access_token(provider: Provider, scopes: &[&str], env: &[(&str, &str)]) -> SessionRequest {
    SessionRequest {
        target: Target::AccessToken((provider, scopes.iter().map(|s| (*s).to_owned()).collect())),
        identity: Identity::Controller,
        options: options(env),
        now: NOW,
    }
}

fn scenario(name: &'static str, request: SessionRequest, exchanges: Vec<Exchange>, outcome: Outcome) -> Scenario {
    Scenario { name, request, exchanges, outcome, now: NOW }
}

fn start_error(request: &SessionRequest) -> (String, String) {
    let mut host = Host::new();
    match host.start(request) {
        Ok(_) => panic!("start succeeded"),
        Err(e) => (kind(&e).to_owned(), message(&e)),
    }
}

// ---------------------------------------------------------------- AWS container credentials

const POD_IDENTITY_URI: &str = "http://169.254.170.23/v1/credentials";
const POD_IDENTITY_TOKEN_FILE: &str = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token";
/// A projected service-account token (dummy signature, far expiry).
const POD_IDENTITY_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsicGtzLmVrcy5hbWF6b25hd3MuY29tIl0sImV4cCI6NDEwMjQ0NDgwMH0.c2ln";

/// The credentials of the ECR request case `ecr-us-east-1`, as the container
/// endpoint documents them (`AccessKeyId`, `SecretAccessKey`, `Token`,
/// `Expiration`, and the agent's `AccountId`), so the signed ECR request can
/// be compared with that case.
fn container_document() -> (HttpResponse, AwsCredentials) {
    let c = cases::case("aws.ecr-token.request.json", "ecr-us-east-1");
    let i = &c["input"];
    let body = json!({
        "AccessKeyId": i["access_key_id"], "SecretAccessKey": i["secret_access_key"], "Token": i["session_token"],
        "AccountId": "123456789012", "Expiration": "2100-01-01T00:00:00Z"
    });
    let creds = AwsCredentials {
        access_key_id: i["access_key_id"].as_str().unwrap().to_owned(),
        secret_access_key: i["secret_access_key"].as_str().unwrap().to_owned(),
        session_token: i["session_token"].as_str().map(str::to_owned),
        expires_at: Some(4_102_444_800),
    };
    (response(200, &[], &body.to_string()), creds)
}

const CONTAINER_MALFORMED: &str = r#"{"AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t"}"#;

fn ecr_exchange() -> (Exchange, Credentials) {
    let (status, body) = cases::response("aws.ecr-token.response.json", "private");
    let out = &cases::case("aws.ecr-token.response.json", "private")["expect"]["output"];
    let creds = Credentials::Registry(RegistryCredentials {
        username: "AWS".into(),
        password: out["password"].as_str().unwrap().to_owned(),
        expires_at: Some(out["expires_at"].as_i64().unwrap()),
    });
    (
        Exchange::http(
            cases::request("aws.ecr-token.request.json", "ecr-us-east-1"),
            response(status, &[], &body),
            Some(r#"{"authorizationData": []}"#),
        ),
        creds,
    )
}

fn aws_container_scenarios() -> Vec<Scenario> {
    let (document, creds) = container_document();
    let mut out = Vec::new();

    // EKS Pod Identity: the token file, then the agent, then ECR.
    let (ecr, ecr_creds) = ecr_exchange();
    out.push(scenario(
        "ecr-eks-pod-identity",
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            &[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", POD_IDENTITY_URI),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", POD_IDENTITY_TOKEN_FILE),
            ],
        ),
        vec![
            Exchange::file(POD_IDENTITY_TOKEN_FILE, Some(POD_IDENTITY_TOKEN), Some("invalid-input")),
            Exchange::http(
                json!({"method": "GET", "url": POD_IDENTITY_URI, "headers": {"Authorization": POD_IDENTITY_TOKEN}}),
                document.clone(),
                Some(CONTAINER_MALFORMED),
            ),
            ecr,
        ],
        Outcome::Done(ecr_creds),
    ));

    // EKS Pod Identity over IPv6, the credentials themselves.
    let v6 = "http://[fd00:ec2::23]/v1/credentials";
    out.push(scenario(
        "aws-credentials-eks-pod-identity-ipv6",
        access_token(
            Provider::Aws,
            &[],
            &[
                ("AWS_REGION", "us-east-1"),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", v6),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", POD_IDENTITY_TOKEN_FILE),
            ],
        ),
        vec![
            Exchange::file(POD_IDENTITY_TOKEN_FILE, Some(POD_IDENTITY_TOKEN), Some("invalid-input")),
            Exchange::http(
                json!({"method": "GET", "url": v6, "headers": {"Authorization": POD_IDENTITY_TOKEN}}),
                document.clone(),
                Some("[]"),
            ),
        ],
        Outcome::Done(Credentials::Aws(creds.clone())),
    ));

    // ECS task role: the relative URI on 169.254.170.2, no token.
    out.push(scenario(
        "aws-credentials-ecs-relative-uri",
        access_token(
            Provider::Aws,
            &[],
            &[("AWS_REGION", "us-east-1"), ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/3f1c-task")],
        ),
        vec![Exchange::http(
            json!({"method": "GET", "url": "http://169.254.170.2/v2/credentials/3f1c-task", "absent_headers": ["Authorization"]}),
            document.clone(),
            Some(CONTAINER_MALFORMED),
        )],
        Outcome::Done(Credentials::Aws(creds.clone())),
    ));

    // A loopback full URI with the token from the environment.
    let local = "http://127.0.0.1:51679/creds";
    out.push(scenario(
        "aws-credentials-loopback-token-env",
        access_token(
            Provider::Aws,
            &[],
            &[
                ("AWS_REGION", "us-east-1"),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", local),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0"),
            ],
        ),
        vec![Exchange::http(
            json!({"method": "GET", "url": local, "headers": {"Authorization": "Basic c2VjcmV0"}}),
            document,
            Some(CONTAINER_MALFORMED),
        )],
        Outcome::Done(Credentials::Aws(creds)),
    ));
    out
}

#[test]
fn aws_container_credentials_flow() {
    for s in aws_container_scenarios() {
        s.run();
    }
}

#[test]
fn aws_container_credentials_fail_at_each_step() {
    for s in aws_container_scenarios() {
        s.run_failures();
    }
}

#[test]
fn aws_container_credentials_refuse_hosts_the_sdks_do_not_allow() {
    for uri in [
        "http://169.254.169.254/latest/meta-data/",
        "http://evil.example/v1/credentials",
        "http://169.254.170.23.evil.example/v1/credentials",
        "http://evil.example@169.254.170.23/v1/credentials",
        "https://10.0.0.8/creds",
    ] {
        let request = access_token(
            Provider::Aws,
            &[],
            &[
                ("AWS_REGION", "us-east-1"),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token"),
            ],
        );
        let (kind, message) = start_error(&request);
        assert_eq!(kind, "invalid-input", "{uri}: {message}");
        assert!(message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"), "{uri}: {message}");
    }
}

#[test]
fn aws_container_token_file_problems_name_the_source() {
    let request = access_token(
        Provider::Aws,
        &[],
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", POD_IDENTITY_URI),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", POD_IDENTITY_TOKEN_FILE),
        ],
    );
    // Missing, empty, or with a trailing newline (the Go SDK refuses CR/LF).
    for contents in [None, Some(""), Some("token\n")] {
        let mut host = Host::new();
        let s = host.start(&request).unwrap_or_else(|e| panic!("{}", message(&e)));
        let err = host.file(s, contents, NOW).expect_err("a bad token file");
        assert_eq!(kind(&err), "invalid-input");
        assert!(message(&err).contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), "{}", message(&err));
        assert!(!message(&err).contains("token\n"));
    }
}

// ---------------------------------------------------------------- Azure

const TENANT: &str = "72f988bf-0000-4000-8000-00000000a11e";
const CLIENT: &str = "0d0e0a0d-beef-4000-8000-00000000c1d0";
const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The captured Entra token response of the shared cases.
fn entra_reply() -> (HttpResponse, String, i64) {
    let (status, body) = cases::response("azure.entra-token.response.json", "azure-workload-identity-token-0");
    let c = cases::case("azure.entra-token.response.json", "azure-workload-identity-token-0");
    let token = c["expect"]["output"]["access_token"].as_str().unwrap().to_owned();
    let now = c["input"]["now"].as_i64().unwrap();
    let expires_in = c["expect"]["output"]["expires_at"].as_i64().unwrap() - now;
    (response(status, &[], &body), token, NOW + expires_in)
}

/// The ACR exchange request case, for `registry` and `token`.
fn acr_exchange_request(registry: &str, token: &str) -> serde_json::Value {
    let mut expect = cases::request("azure.acr-exchange.request.json", "exchange");
    expect["url"] = json!(format!("https://{registry}/oauth2/exchange?api-version=2021-07-01"));
    for pair in expect["form"].as_array_mut().expect("form") {
        match pair[0].as_str() {
            Some("service") => pair[1] = json!(registry),
            Some("access_token") => pair[1] = json!(token),
            _ => {}
        }
    }
    expect
}

fn azure_scenarios() -> Vec<Scenario> {
    let (entra, token, expires_at) = entra_reply();
    let mut out = Vec::new();

    // EnvironmentCredential with a client secret (the client credentials
    // grant with client_secret, Microsoft identity platform docs).
    out.push(scenario(
        "azure-client-secret",
        access_token(
            Provider::Azure,
            &[],
            &[("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT), ("AZURE_CLIENT_SECRET", "s3cr3t~value")],
        ),
        vec![Exchange::http(
            json!({
                "method": "POST",
                "url": format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
                "form": [["client_id", CLIENT], ["client_secret", "s3cr3t~value"], ["grant_type", "client_credentials"], ["scope", ARM_SCOPE]]
            }),
            entra.clone(),
            Some("{}"),
        )],
        Outcome::Done(Credentials::AccessToken(support::api::types::AccessToken { token: token.clone(), expires_at })),
    ));

    // The same in the US Government cloud, for ACR: the cloud's authority.
    let acr_body = cases::response("azure.acr-exchange.response.json", "exchange").1;
    let refresh: serde_json::Value = serde_json::from_str(&acr_body).unwrap();
    let refresh = refresh["refresh_token"].as_str().unwrap().to_owned();
    out.push(scenario(
        "acr-client-secret-usgov",
        registry(
            "myregistry.azurecr.us/app",
            &[("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT), ("AZURE_CLIENT_SECRET", "s3cr3t~value")],
        ),
        vec![
            Exchange::http(
                json!({
                    "method": "POST",
                    "url": format!("https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token"),
                    "form": [["client_id", CLIENT], ["client_secret", "s3cr3t~value"], ["grant_type", "client_credentials"], ["scope", "https://containerregistry.azure.net/.default"]]
                }),
                entra.clone(),
                Some("[]"),
            ),
            Exchange::http(
                acr_exchange_request("myregistry.azurecr.us", &token),
                response(200, &[], &acr_body),
                Some(r#"{"refresh_token": "not-a-jwt"}"#),
            ),
        ],
        Outcome::Done(Credentials::Registry(RegistryCredentials {
            username: "00000000-0000-0000-0000-000000000000".into(),
            password: refresh,
            expires_at: Some(4_102_444_800),
        })),
    ));

    // App Service / Functions managed identity (api-version 2019-08-01,
    // X-IDENTITY-HEADER; expires_on in Unix seconds, as a string).
    let app_body = json!({
        "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-service.sig",
        "expires_on": (NOW + 3600).to_string(),
        "resource": "https://management.azure.com",
        "token_type": "Bearer",
        "client_id": CLIENT
    });
    out.push(scenario(
        "azure-app-service-managed-identity",
        access_token(
            Provider::Azure,
            &[],
            &[
                ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
                ("IDENTITY_HEADER", "853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a"),
                ("AZURE_CLIENT_ID", CLIENT),
            ],
        ),
        vec![Exchange::http(
            json!({
                "method": "GET",
                "url": format!("http://localhost:8081/msi/token?api-version=2019-08-01&resource=https://management.azure.com&client_id={CLIENT}"),
                "headers": {"X-IDENTITY-HEADER": "853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a"}
            }),
            response(200, &[], &app_body.to_string()),
            Some(r#"{"access_token": "t"}"#),
        )],
        Outcome::Done(Credentials::AccessToken(support::api::types::AccessToken {
            token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-service.sig".into(),
            expires_at: NOW + 3600,
        })),
    ));
    out
}

#[test]
fn azure_sources_flow() {
    for s in azure_scenarios() {
        s.run();
    }
}

#[test]
fn azure_sources_fail_at_each_step() {
    for s in azure_scenarios() {
        s.run_failures();
    }
}

// ---------------------------------------------------------------- Azure client certificates

/// A case of this repository's own case files (`tests/cases`).
fn own_case(file: &str, id: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(file);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("no {id}"))
}

const CERT_CASES: &str = "session.request.azure-client-certificate.json";

/// A scenario from a certificate case: the file, then the Entra request the
/// case expects (its assertion signed by openssl from the documented format).
fn certificate_scenario(name: &'static str, id: &str) -> Scenario {
    let c = own_case(CERT_CASES, id);
    let env: Vec<(String, String)> = c["input"]["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = c["input"]["environment"]["AZURE_CLIENT_CERTIFICATE_PATH"].as_str().unwrap();
    let pem = c["input"]["answers"][0]["file"].as_str().unwrap();
    let (entra, token, expires_at) = entra_reply();
    scenario(
        name,
        access_token(Provider::Azure, &[ARM_SCOPE], &env),
        vec![
            Exchange::file(path, Some(pem), Some("invalid-input")),
            Exchange::http(c["expect"]["request"].clone(), entra, Some("{}")),
        ],
        Outcome::Done(Credentials::AccessToken(support::api::types::AccessToken { token, expires_at })),
    )
}

fn certificate_scenarios() -> Vec<Scenario> {
    vec![
        certificate_scenario("azure-client-certificate", "azure-client-certificate-pem"),
        certificate_scenario("azure-client-certificate-chain", "azure-client-certificate-chain-authority-host"),
    ]
}

#[test]
fn azure_client_certificate_flow() {
    for s in certificate_scenarios() {
        s.run();
    }
}

#[test]
fn azure_client_certificate_fails_at_each_step() {
    for s in certificate_scenarios() {
        s.run_failures();
    }
}

fn data(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

#[test]
fn azure_client_certificate_bad_files_name_the_variable() {
    let path = "/var/run/secrets/azure/client-certificate.pem";
    let env = [("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT), ("AZURE_CLIENT_CERTIFICATE_PATH", path)];
    let key = data("test-rsa-pkcs8.pem");
    let cert = data("test-client-cert.pem");
    let other = format!("{}{key}", data("test-ca-cert.pem"));
    let truncated = key[..key.len() / 2].to_owned();
    let encrypted = data("test-client-cert-encrypted-key.pem");
    let legacy = format!(
        "{cert}-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n"
    );
    for (contents, want) in [
        (None, "invalid-input"),
        (Some(key.as_str()), "invalid-input"),
        (Some(cert.as_str()), "invalid-input"),
        (Some(other.as_str()), "invalid-input"),
        (Some(truncated.as_str()), "invalid-input"),
        (Some("not pem"), "invalid-input"),
        (Some(encrypted.as_str()), "unsupported"),
        (Some(legacy.as_str()), "unsupported"),
    ] {
        let mut host = Host::new();
        let s = host.start(&access_token(Provider::Azure, &[ARM_SCOPE], &env)).unwrap();
        let err = host.file(s, contents, NOW).expect_err("a bad certificate file");
        assert_eq!(kind(&err), want, "{}", message(&err));
        assert!(message(&err).contains(&format!("AZURE_CLIENT_CERTIFICATE_PATH {path}")), "{}", message(&err));
        assert!(!message(&err).contains("MII"), "{}", message(&err));
    }
}

/// The assertion the component sends verifies with openssl against the
/// certificate's public key, and its `x5t#S256` is the certificate's
/// SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it.
#[test]
fn azure_client_assertion_verifies_with_openssl() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let c = own_case(CERT_CASES, "azure-client-certificate-pem");
    let path = "/var/run/secrets/azure/client-certificate.pem";
    let env = [("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT), ("AZURE_CLIENT_CERTIFICATE_PATH", path)];
    let mut host = Host::new();
    let s = host.start(&access_token(Provider::Azure, &[ARM_SCOPE], &env)).unwrap();
    host.file(s, c["input"]["answers"][0]["file"].as_str(), NOW + 7).unwrap();
    let support::api::session::Step::SendHttp(request) = host.next(s) else { panic!("no request") };
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let jwt = &form.iter().find(|(k, _)| k == "client_assertion").unwrap().1;
    let parts: Vec<&str> = jwt.split('.').collect();
    let dir = std::env::temp_dir().join(format!("cloudauth-assertion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-client-cert.pem");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let pubkey = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-pubkey"]).1;
    std::fs::write(dir.join("pub.pem"), pubkey).unwrap();
    std::fs::write(dir.join("input"), format!("{}.{}", parts[0], parts[1])).unwrap();
    std::fs::write(dir.join("sig"), URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let (ok, out) = openssl(&["dgst", "-sha256", "-verify", &p("pub.pem"), "-signature", &p("sig"), &p("input")]);
    assert!(ok && out.contains("Verified OK"), "{out}");
    // A changed claim does not verify.
    std::fs::write(dir.join("input"), format!("{}.{}x", parts[0], parts[1])).unwrap();
    assert!(!openssl(&["dgst", "-sha256", "-verify", &p("pub.pem"), "-signature", &p("sig"), &p("input")]).0);
    let fingerprint = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-fingerprint", "-sha256"]).1;
    let hex = fingerprint.trim().rsplit('=').next().unwrap().replace(':', "");
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(header["alg"], "RS256");
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["nbf"], NOW + 7, "the assertion is made at the time of the file");
    assert_eq!(claims["aud"], format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn azure_configured_but_broken_sources_name_themselves() {
    // (environment, error kind, the source the error names)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("AZURE_CLIENT_SECRET", "s")], "invalid-input", "EnvironmentCredential"),
        (&[("AZURE_CLIENT_SECRET", "s"), ("AZURE_CLIENT_ID", CLIENT)], "invalid-input", "EnvironmentCredential"),
        (
            &[
                ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"),
                ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "s3cr3t"),
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
            ],
            "unsupported",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ),
        (
            &[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"), ("AZURE_CLIENT_ID", CLIENT)],
            "invalid-input",
            "EnvironmentCredential",
        ),
        (&[("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")], "invalid-input", "IDENTITY_HEADER"),
        (
            &[("IDENTITY_ENDPOINT", "http://evil.example/msi/token"), ("IDENTITY_HEADER", "h")],
            "invalid-input",
            "IDENTITY_ENDPOINT",
        ),
        (
            &[
                ("IDENTITY_ENDPOINT", "https://10.0.0.4:2377/metadata/identity/oauth2/token"),
                ("IDENTITY_HEADER", "h"),
                ("IDENTITY_SERVER_THUMBPRINT", "t"),
            ],
            "unsupported",
            "Service Fabric",
        ),
    ];
    for (env, want_kind, names) in cases {
        let (kind, message) = start_error(&access_token(Provider::Azure, &[], env));
        assert_eq!(kind, *want_kind, "{env:?}: {message}");
        assert!(message.contains(names), "{env:?}: {message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}

// ---------------------------------------------------------------- Actions OIDC

const ACTIONS_URL: &str =
    "https://pipelines.actions.githubusercontent.com/Ab12/00000000-0000-0000-0000-000000000000/idtoken?api-version=2.0";
const ACTIONS_REQUEST_TOKEN: &str = "actions-request-token";

/// The token request GitHub's docs show (`&audience=`), answered with
/// `{"count": .., "value": <token>}`.
fn actions_exchange(audience: &str, token: &str) -> Exchange {
    Exchange::http(
        json!({
            "method": "GET",
            "url": format!("{ACTIONS_URL}&audience={audience}"),
            "headers": {"Authorization": format!("bearer {ACTIONS_REQUEST_TOKEN}")}
        }),
        response(200, &[], &json!({"count": 1764, "value": token}).to_string()),
        Some(r#"{"value": ""}"#),
    )
}

fn actions_scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let actions =
        [("ACTIONS_ID_TOKEN_REQUEST_URL", ACTIONS_URL), ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ACTIONS_REQUEST_TOKEN)];

    // AWS web identity with the CI's ID token (audience sts.amazonaws.com).
    let sts = cases::case("aws.sts-web-identity.request.json", "minimal");
    let i = &sts["input"];
    let token = i["web_identity_token"].as_str().unwrap();
    let sts_reply = "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>session</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    let mut env = vec![
        ("AWS_REGION", i["region"].as_str().unwrap()),
        ("AWS_ROLE_ARN", i["role_arn"].as_str().unwrap()),
        ("AWS_ROLE_SESSION_NAME", i["role_session_name"].as_str().unwrap()),
    ];
    env.extend(actions);
    out.push(scenario(
        "aws-web-identity-actions-oidc",
        access_token(Provider::Aws, &[], &env),
        vec![
            actions_exchange("sts.amazonaws.com", token),
            Exchange::http(
                cases::request("aws.sts-web-identity.request.json", "minimal"),
                response(200, &[], sts_reply),
                Some("{}"),
            ),
        ],
        Outcome::Done(Credentials::Aws(AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: Some("session".into()),
            expires_at: Some(4_102_444_800),
        })),
    ));

    // Azure: the CI's ID token is the client assertion (audience api://AzureADTokenExchange).
    let id = "azure-workload-identity-token-0";
    let input = |f: &str| cases::input("azure.entra-token.request.json", id, f);
    let (entra, access, expires_at) = entra_reply();
    let (tenant, client, scope, assertion) =
        (input("tenant_id"), input("client_id"), input("scope"), input("client_assertion"));
    let mut env = vec![("AZURE_TENANT_ID", tenant.as_str()), ("AZURE_CLIENT_ID", client.as_str())];
    env.extend(actions);
    out.push(scenario(
        "azure-client-assertion-actions-oidc",
        access_token(Provider::Azure, &[scope.as_str()], &env),
        vec![
            actions_exchange("api://AzureADTokenExchange", &assertion),
            Exchange::http(cases::request("azure.entra-token.request.json", id), entra, Some("{}")),
        ],
        Outcome::Done(Credentials::AccessToken(support::api::types::AccessToken { token: access, expires_at })),
    ));
    out
}

#[test]
fn actions_oidc_flow() {
    for s in actions_scenarios() {
        s.run();
    }
}

#[test]
fn actions_oidc_fails_at_each_step() {
    for s in actions_scenarios() {
        s.run_failures();
    }
}

#[test]
fn actions_oidc_bad_configuration_and_tokens() {
    // One variable without the other, or a URL the request token may not go to.
    for env in [
        vec![
            ("AWS_REGION", "us-east-1"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", ACTIONS_URL),
        ],
        vec![
            ("AWS_REGION", "us-east-1"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://ci.example/token"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
        ],
    ] {
        let (kind, message) = start_error(&access_token(Provider::Aws, &[], &env));
        assert_eq!(kind, "invalid-input", "{env:?}");
        assert!(message.contains("ACTIONS_ID_TOKEN_REQUEST"), "{message}");
    }
    // An expired ID token from the CI is refused like an expired service-account token.
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", ACTIONS_URL),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ACTIONS_REQUEST_TOKEN),
    ];
    let mut host = Host::new();
    let s = host.start(&access_token(Provider::Aws, &[], &env)).unwrap_or_else(|e| panic!("{}", message(&e)));
    let expired = driver::expired_jwt(NOW);
    let err = host.http(s, &response(200, &[], &json!({"value": expired}).to_string()), NOW).unwrap_err();
    assert_eq!(kind(&err), "invalid-input", "{}", message(&err));
}
