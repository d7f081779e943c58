//! Robustness: the project's standard, checked with generated hostile input.
//!
//! > Bad input gets a clear error, never a trap or a panic. This includes
//! > hostile image references, oversized or malformed responses, CR/LF in
//! > values, and unexpected status codes. A token must never be sent to a
//! > host that the validated target does not allow. Secrets never appear in
//! > Debug output, errors or logs.
//!
//! Through the built component (wasmtime), where a Rust panic is a trap:
//! - every response parser of the WIT gets thousands of inputs: mutations of
//!   valid bodies (the conformance cases' bodies when the cases directory is
//!   there, and built-in samples), truncations at every byte, random bytes,
//!   bodies over the size limit, deep nesting, XML bombs, invalid UTF-8,
//!   numbers and times out of range, and every status from 100 to 599;
//! - every request builder gets CR, LF and NUL in each string parameter, and
//!   the builders that pick a host get hostile hosts;
//! - `resolve-registry` gets a generated corpus of hostile references.
//!
//! Every call must return normally; an error must be one of the four kinds
//! with a bounded message free of raw control characters; an answer to a
//! non-2xx status must be `http-status`; a value parsed out of a response
//! (a token, a user name) must hold no control character; a built request
//! must hold no CR, LF or NUL in its method, URL or headers. Secret inputs
//! carry the marker `SECRETMARKER`, which must never appear in an error.
//!
//! Natively: `Debug` of every type that holds a secret never shows it.
//!
//! Deterministic (fixed seeds, a small xorshift generator) and bounded: the
//! whole suite runs in seconds in release. A failure names the input; inputs
//! too long to print are written to `$CARGO_TARGET_TMPDIR/robustness/`.
//!
//! This file holds the harness (the generator, the probe that checks each
//! outcome, the parsers and their samples); the tests are split by concern:
//! `parsers`, `builders_hostile`, `hosts`, `debug`, and `findings`, the
//! defects this suite found (all fixed), kept as regression tests.
//! `mutations` makes the hostile bodies.

#[path = "../support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../../fuzz/src/cloud_hosts.rs"]
mod cloud_hosts;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use builders::{Builder, Built, CUSTOM_ENV_PARAMS, builders, custom_env};
use cloud_hosts::{Cloud, check_registry, check_written_first};
use mutations::{mutate_bytes, mutate_json, random_body};
use support::Instance;
use support::api::types::{self, AzureEnvironment, Error as WitError, HttpRequest, HttpResponse, Provider};

/// Planted inside every secret input; it must never show in an error.
const MARKER: &str = "SECRETMARKER";
const NOW: i64 = 1_705_320_000;
/// The component's response size limit (`http::MAX_RESPONSE_BODY`).
const MAX_BODY: usize = 1 << 20;
/// Longest error message accepted: messages are built from names and short
/// excerpts; a longer one is echoing its input.
const MAX_ERROR_MESSAGE: usize = 4096;
/// Longest time one call may take. Generous, so that only a runaway (an
/// entity expansion, a quadratic loop) trips it, even in a debug build.
fn call_budget() -> Duration {
    Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 3 })
}

// ------------------------------------------------------------------ rng

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 once, so that small seeds give well-mixed states.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

// ------------------------------------------------------------------ probe

/// Calls the component and collects every broken rule, so that one run
/// reports all of them. A trap poisons the instance, so it is replaced.
struct Probe {
    name: &'static str,
    instance: Instance,
    calls: usize,
    failures: Vec<String>,
    slowest: (Duration, String),
}

impl Probe {
    fn new(name: &'static str) -> Self {
        Probe {
            name,
            instance: support::instantiate(),
            calls: 0,
            failures: Vec::new(),
            slowest: (Duration::ZERO, String::new()),
        }
    }

    /// Runs one call, timing it and replacing the instance after a trap.
    fn call<T>(
        &mut self,
        label: &str,
        input: &[u8],
        f: impl FnOnce(&mut Instance) -> wasmtime::Result<T>,
    ) -> Option<T> {
        let start = Instant::now();
        let result = f(&mut self.instance);
        let elapsed = start.elapsed();
        self.calls += 1;
        if elapsed > self.slowest.0 {
            self.slowest = (elapsed, label.to_owned());
        }
        if elapsed > call_budget() {
            self.fail(format!("{label}: took {elapsed:?}"), input);
        }
        match result {
            Ok(value) => Some(value),
            Err(trap) => {
                self.fail(format!("{label}: the component trapped: {trap:#}"), input);
                self.instance = support::instantiate();
                None
            }
        }
    }

    /// Records a broken rule with its input: printed when short, else saved.
    fn fail(&mut self, what: String, input: &[u8]) {
        if self.failures.len() >= 200 {
            return;
        }
        let shown = if input.len() <= 300 {
            format!("input {:?}", String::from_utf8_lossy(input))
        } else {
            format!(
                "input of {} bytes saved as {}",
                input.len(),
                save_reproducer(self.name, self.failures.len(), input).display()
            )
        };
        self.failures.push(format!("{what}\n      {shown}"));
    }

    /// Checks an error returned by the component.
    fn check_error(&mut self, label: &str, input: &[u8], error: &WitError) {
        if let Some(problem) = error_problem(error) {
            self.fail(format!("{label}: {problem}: {}", describe(error)), input);
        }
    }

    /// Prints the run's size and fails with every broken rule.
    fn finish(self) {
        eprintln!(
            "{}: {} calls, slowest {:.1} ms ({}), {} failures",
            self.name,
            self.calls,
            self.slowest.0.as_secs_f64() * 1e3,
            self.slowest.1,
            self.failures.len()
        );
        if !self.failures.is_empty() {
            let mut report = format!("{}: {} rule(s) broken:\n", self.name, self.failures.len());
            for f in &self.failures {
                let _ = writeln!(report, "  - {f}");
            }
            panic!("{report}");
        }
    }
}

fn save_reproducer(test: &str, n: usize, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("robustness");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{test}-{n}.bin"));
    let _ = std::fs::write(&path, input);
    path
}

fn kind(error: &WitError) -> &'static str {
    match error {
        WitError::InvalidInput(_) => "invalid-input",
        WitError::Unsupported(_) => "unsupported",
        WitError::HttpStatus(_) => "http-status",
        WitError::MalformedResponse(_) => "malformed-response",
    }
}

/// Everything an error says: its message, and the service code if any.
fn error_text(error: &WitError) -> String {
    match error {
        WitError::InvalidInput(m) | WitError::Unsupported(m) | WitError::MalformedResponse(m) => m.clone(),
        WitError::HttpStatus(e) => format!("{} {}", e.code.as_deref().unwrap_or_default(), e.message),
    }
}

fn describe(error: &WitError) -> String {
    let text = error_text(error);
    let short: String = text.chars().take(160).collect();
    let more = if short.len() < text.len() { "..." } else { "" };
    format!("{} {short:?}{more}", kind(error))
}

/// What is wrong with an error, if anything: a clear error has a message,
/// a bounded one, with no raw control characters (a log line stays one
/// line) and no planted secret.
fn error_problem(error: &WitError) -> Option<String> {
    let text = error_text(error);
    let message = match error {
        WitError::HttpStatus(e) => &e.message,
        WitError::InvalidInput(m) | WitError::Unsupported(m) | WitError::MalformedResponse(m) => m,
    };
    if text.contains(MARKER) {
        Some("the error shows a planted secret".into())
    } else if message.trim().is_empty() {
        Some("the error has no message".into())
    } else if text.len() > MAX_ERROR_MESSAGE {
        Some(format!("the error message has {} bytes", text.len()))
    } else if text.chars().any(|c| c.is_control() && c != '\t') {
        Some("the error message has raw control characters".into())
    } else {
        None
    }
}

/// Why a built request is unsafe to send, if it is.
fn request_problem(request: &HttpRequest) -> Option<String> {
    let bad = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
    if !["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"].contains(&request.method.as_str()) {
        return Some(format!("method {:?}", request.method));
    }
    if request.url.chars().any(|c| c.is_control() || c == ' ') {
        return Some(format!("URL with a control character or space: {:?}", request.url));
    }
    for (name, value) in &request.headers {
        let token =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token || bad(value) {
            return Some(format!("header {name:?}: {value:?}"));
        }
    }
    None
}

/// `host[:port]` of nothing but host characters: no userinfo, no escapes.
fn plain_authority(authority: &str) -> bool {
    !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// `host[:port]` of an absolute URL.
fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

// ------------------------------------------------------------------ parsers

/// Every response parser of the WIT (ECR twice: private and public).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parser {
    EntraToken,
    ImdsToken,
    AcrExchange,
    AcrToken,
    StsWebIdentity,
    EcrPrivate,
    EcrPublic,
    GcpSts,
    GcpImpersonation,
    GcpMetadata,
    KubernetesToken,
    OciToken,
}

const PARSERS: [Parser; 12] = [
    Parser::EntraToken,
    Parser::ImdsToken,
    Parser::AcrExchange,
    Parser::AcrToken,
    Parser::StsWebIdentity,
    Parser::EcrPrivate,
    Parser::EcrPublic,
    Parser::GcpSts,
    Parser::GcpImpersonation,
    Parser::GcpMetadata,
    Parser::KubernetesToken,
    Parser::OciToken,
];

/// The values a parser hands back that go on into requests.
type Values = Vec<(&'static str, String)>;

fn token_values(t: types::AccessToken) -> Values {
    vec![("token", t.token)]
}

fn registry_values(c: types::RegistryCredentials) -> Values {
    vec![("username", c.username), ("password", c.password)]
}

impl Parser {
    /// The conformance op whose case bodies seed this parser.
    fn op(self) -> &'static str {
        match self {
            Parser::EntraToken => "azure.entra-token.response",
            Parser::ImdsToken => "azure.imds-token.response",
            Parser::AcrExchange => "azure.acr-exchange.response",
            Parser::AcrToken => "azure.acr-token.response",
            Parser::StsWebIdentity => "aws.sts-web-identity.response",
            Parser::EcrPrivate | Parser::EcrPublic => "aws.ecr-token.response",
            Parser::GcpSts => "gcp.sts-exchange.response",
            Parser::GcpImpersonation => "gcp.impersonation.response",
            Parser::GcpMetadata => "gcp.metadata-token.response",
            Parser::KubernetesToken => "kubernetes.token-request.response",
            Parser::OciToken => "oci.token.response",
        }
    }

    fn is_xml(self) -> bool {
        self == Parser::StsWebIdentity
    }

    fn call(self, i: &mut Instance, r: &HttpResponse) -> wasmtime::Result<Result<Values, WitError>> {
        let s = &mut i.store;
        Ok(match self {
            Parser::EntraToken => i.api.cloudauth_auth_azure().call_parse_entra_token(s, r, NOW)?.map(token_values),
            Parser::ImdsToken => i.api.cloudauth_auth_azure().call_parse_imds_token(s, r, NOW)?.map(token_values),
            Parser::AcrExchange => {
                i.api.cloudauth_auth_azure().call_parse_acr_exchange(s, r, NOW)?.map(registry_values)
            }
            Parser::AcrToken => i.api.cloudauth_auth_azure().call_parse_acr_token(s, r, NOW)?.map(token_values),
            Parser::StsWebIdentity => i.api.cloudauth_auth_aws().call_parse_sts_web_identity(s, r)?.map(|c| {
                vec![
                    ("access key id", c.access_key_id),
                    ("secret access key", c.secret_access_key),
                    ("session token", c.session_token.unwrap_or_default()),
                ]
            }),
            Parser::EcrPrivate => i.api.cloudauth_auth_aws().call_parse_ecr_token(s, r, false)?.map(registry_values),
            Parser::EcrPublic => i.api.cloudauth_auth_aws().call_parse_ecr_token(s, r, true)?.map(registry_values),
            Parser::GcpSts => i.api.cloudauth_auth_gcp().call_parse_sts_exchange(s, r, NOW)?.map(token_values),
            Parser::GcpImpersonation => i.api.cloudauth_auth_gcp().call_parse_impersonation(s, r)?.map(token_values),
            Parser::GcpMetadata => i.api.cloudauth_auth_gcp().call_parse_metadata_token(s, r, NOW)?.map(token_values),
            Parser::KubernetesToken => {
                i.api.cloudauth_auth_kubernetes().call_parse_token_request(s, r)?.map(token_values)
            }
            Parser::OciToken => i.api.cloudauth_auth_oci().call_parse_token(s, r, NOW)?.map(token_values),
        })
    }

    /// A valid 2xx body, with the marker inside every secret.
    fn sample(self) -> (u16, String) {
        let jwt = jwt(r#"{"exp":4102444800,"iss":"robustness"}"#);
        let ecr_token = STANDARD.encode(format!("AWS:{MARKER}ecrpassword"));
        let body = match self {
            Parser::EntraToken => format!(
                r#"{{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "{jwt}"}}"#
            ),
            Parser::ImdsToken => format!(
                r#"{{"access_token": "{MARKER}-imds", "client_id": "0d0e0a0d-beef-4000-8000-00000000c1d0", "expires_in": "86399", "expires_on": "1705406399", "ext_expires_in": "86399", "not_before": "1705319700", "resource": "https://management.azure.com/", "token_type": "Bearer"}}"#
            ),
            Parser::AcrExchange => format!(r#"{{"refresh_token": "{jwt}"}}"#),
            Parser::AcrToken => format!(r#"{{"access_token": "{jwt}"}}"#),
            Parser::StsWebIdentity => format!(
                "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>system:serviceaccount:default:sa</SubjectFromWebIdentityToken>\n    <AssumedRoleUser>\n      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>\n      <Arn>arn:aws:sts::123456789012:assumed-role/role/session</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n      <SecretAccessKey>{MARKER}secretkey</SecretAccessKey>\n      <SessionToken>{MARKER}sessiontoken</SessionToken>\n      <Expiration>2024-01-15T13:00:00Z</Expiration>\n    </Credentials>\n    <Audience>sts.amazonaws.com</Audience>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>00000000-0000-4000-8000-000000000000</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n"
            ),
            Parser::EcrPrivate => format!(
                r#"{{"authorizationData": [{{"authorizationToken": "{ecr_token}", "expiresAt": 1705406400.0, "proxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}}]}}"#
            ),
            Parser::EcrPublic => format!(
                r#"{{"authorizationData": {{"authorizationToken": "{ecr_token}", "expiresAt": 1705406400.0}}}}"#
            ),
            Parser::GcpSts => format!(
                r#"{{"access_token": "ya29.{MARKER}", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3599}}"#
            ),
            Parser::GcpImpersonation => {
                format!(r#"{{"accessToken": "ya29.{MARKER}", "expireTime": "2024-01-15T13:00:00Z"}}"#)
            }
            Parser::GcpMetadata => {
                format!(r#"{{"access_token": "ya29.{MARKER}", "expires_in": 3599, "token_type": "Bearer"}}"#)
            }
            Parser::KubernetesToken => format!(
                r#"{{"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {{"name": "sa", "namespace": "default", "creationTimestamp": null}}, "spec": {{"audiences": ["sts.amazonaws.com"], "expirationSeconds": 3600, "boundObjectRef": null}}, "status": {{"token": "{jwt}", "expirationTimestamp": "2024-01-15T13:00:00Z"}}}}"#
            ),
            Parser::OciToken => format!(
                r#"{{"token": "{MARKER}-registry", "access_token": "{MARKER}-registry", "expires_in": 300, "issued_at": "2024-01-15T12:00:00Z"}}"#
            ),
        };
        (if self == Parser::KubernetesToken { 201 } else { 200 }, body)
    }

    /// Error bodies in the shape of this parser's protocol.
    fn error_bodies(self) -> Vec<String> {
        let mut bodies = vec![
            String::new(),
            "<html><body>502 Bad Gateway</body></html>".to_owned(),
            format!(r#"{{"error": "invalid_grant", "error_description": "bad {MARKER}\r\nX: y"}}"#).replace(MARKER, "assertion"),
            r#"{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "denied\u0000\r\n"}}"#.to_owned(),
            r#"{"__type": "com.amazonaws#AccessDeniedException", "message": "no"}"#.to_owned(),
            r#"{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "message": "forbidden", "code": 403}"#.to_owned(),
            r#"{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": null}]}"#.to_owned(),
            r#"{"errors": []}"#.to_owned(),
            r#"{"error": 5, "errors": "x", "reason": [], "__type": {}}"#.to_owned(),
            format!(r#"{{"error": "{}"}}"#, "E".repeat(10_000)),
        ];
        if self.is_xml() {
            bodies.push(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>No OpenIDConnect provider found</Message></Error><RequestId>x</RequestId></ErrorResponse>"
                    .to_owned(),
            );
            bodies.push("<ErrorResponse><Error><Code>&#13;&#10;X</Code><Message><![CDATA[\r\n]]></Message></Error></ErrorResponse>".to_owned());
        }
        bodies
    }
}

/// A JWT with this payload and the marker in its (ignored) signature.
fn jwt(payload: &str) -> String {
    format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{MARKER}-signature", URL_SAFE_NO_PAD.encode(payload))
}

/// A response with no headers.
fn response(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse { status, headers: Vec::new(), body: body.into() }
}

/// The conformance cases directory: `CLOUDAUTH_CASES`, else `shared/`
/// beside the repository; None when it is not there.
fn cases_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("CLOUDAUTH_CASES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"),
    };
    dir.is_dir().then_some(dir)
}

/// The case responses of a parser (status and body, secrets marked).
fn case_samples(parser: Parser) -> Vec<(u16, Vec<u8>)> {
    let Some(dir) = cases_dir() else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".response.json")).collect();
    paths.sort();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(doc) = serde_json::from_str::<Value>(&text) else { continue };
        if doc["op"] != parser.op() {
            continue;
        }
        for case in doc["cases"].as_array().into_iter().flatten() {
            let input = &case["input"];
            let public = input["public"].as_bool().unwrap_or(false);
            if parser.op() == "aws.ecr-token.response" && public != (parser == Parser::EcrPublic) {
                continue;
            }
            let (Some(status), Some(body)) = (input["status"].as_u64(), input["body"].as_str()) else { continue };
            let Ok(status) = u16::try_from(status) else { continue };
            out.push((status, plant_marker(parser, body).into_bytes()));
        }
    }
    out
}

/// JSON members that hold secrets.
const SECRET_KEYS: &[&str] = &["access_token", "token", "refresh_token", "accessToken", "authorizationToken"];

/// Whether the marker stands somewhere in a body other than a secret:
/// a service's own error text may be quoted in an `http-status` error, so
/// a mutation that moved the marker there is not a leak.
fn marker_outside_secrets(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    if !text.contains(MARKER) {
        return false;
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        fn walk(v: &Value, key: Option<&str>) -> bool {
            match v {
                Value::String(s) => s.contains(MARKER) && !key.is_some_and(|k| SECRET_KEYS.contains(&k)),
                Value::Array(items) => items.iter().any(|i| walk(i, key)),
                Value::Object(map) => map.iter().any(|(k, v)| k.contains(MARKER) || walk(v, Some(k))),
                _ => false,
            }
        }
        return walk(&json, None);
    }
    // XML, or text no JSON reader takes: cut out the secret elements.
    let mut rest = text.into_owned();
    for tag in ["SecretAccessKey", "SessionToken"] {
        while let (Some(start), Some(end)) = (rest.find(&format!("<{tag}>")), rest.find(&format!("</{tag}>"))) {
            if end < start {
                break;
            }
            rest.replace_range(start..end + tag.len() + 3, "");
        }
    }
    rest.contains(MARKER)
}

/// Puts the marker into every secret of a case body: JSON token fields
/// (a JWT gets it in its signature, so its claims still parse), the ECR
/// password inside its base64 pair, the STS keys.
fn plant_marker(parser: Parser, body: &str) -> String {
    if parser.is_xml() {
        return body
            .replace("<SecretAccessKey>", &format!("<SecretAccessKey>{MARKER}"))
            .replace("<SessionToken>", &format!("<SessionToken>{MARKER}"));
    }
    let Ok(mut json) = serde_json::from_str::<Value>(body) else { return body.to_owned() };
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match (key.as_str(), value) {
                        ("access_token" | "token" | "refresh_token" | "accessToken", Value::String(s)) => {
                            *s = with_marker(s)
                        }
                        ("authorizationToken", Value::String(s)) => {
                            if let Some((user, password)) = STANDARD
                                .decode(s.as_bytes())
                                .ok()
                                .and_then(|b| String::from_utf8(b).ok())
                                .and_then(|t| t.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())))
                            {
                                *s = STANDARD.encode(format!("{user}:{MARKER}{password}"));
                            }
                        }
                        (_, other) => walk(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut json);
    json.to_string()
}

fn with_marker(token: &str) -> String {
    match token.rsplit_once('.') {
        Some((head, _)) if token.split('.').count() == 3 => format!("{head}.{MARKER}-signature"),
        _ => format!("{MARKER}{token}"),
    }
}

/// Every sample of a parser: the built-in one first, then the cases'.
fn samples(parser: Parser) -> Vec<(u16, Vec<u8>)> {
    let (status, body) = parser.sample();
    let mut all = vec![(status, body.into_bytes())];
    all.extend(case_samples(parser));
    all
}

impl Probe {
    /// Parses a response and checks every rule; returns the outcome.
    fn parse(&mut self, parser: Parser, r: &HttpResponse, what: &str) -> Option<Result<Values, WitError>> {
        let label = format!("{parser:?} {what} (status {})", r.status);
        let outcome = self.call(&label, &r.body, |i| parser.call(i, r))?;
        match &outcome {
            Ok(values) => {
                for (name, value) in values {
                    if has_control(value) {
                        self.fail(format!("{label}: the parsed {name} has a control character: {value:?}"), &r.body);
                    }
                    if value.is_empty() && *name != "session token" {
                        self.fail(format!("{label}: the parsed {name} is empty"), &r.body);
                    }
                }
                if !(200..300).contains(&r.status) {
                    self.fail(format!("{label}: a non-2xx response was parsed as a success"), &r.body);
                }
            }
            Err(e) => {
                let quoted = matches!(e, WitError::HttpStatus(_)) && marker_outside_secrets(&r.body);
                match error_problem(e) {
                    Some(problem) if !(quoted && problem.contains("planted secret")) => {
                        self.fail(format!("{label}: {problem}: {}", describe(e)), &r.body);
                    }
                    _ => {}
                }
                let over = r.body.len() > MAX_BODY;
                match e {
                    WitError::HttpStatus(s) if s.status != r.status => {
                        self.fail(format!("{label}: http-status says status {}", s.status), &r.body);
                    }
                    WitError::HttpStatus(_) if (200..300).contains(&r.status) => {
                        self.fail(format!("{label}: a 2xx response gave http-status"), &r.body);
                    }
                    WitError::HttpStatus(_) => {}
                    _ if !(200..300).contains(&r.status) && !over => {
                        self.fail(format!("{label}: a non-2xx response gave {}", describe(e)), &r.body);
                    }
                    WitError::InvalidInput(_) | WitError::Unsupported(_) if !over => {
                        // A response is never the caller's input.
                        self.fail(format!("{label}: a response gave {}", describe(e)), &r.body);
                    }
                    _ => {}
                }
            }
        }
        Some(outcome)
    }

    /// Parses and requires an error of this kind.
    fn expect_error(&mut self, parser: Parser, r: &HttpResponse, what: &str, want: &str) {
        if let Some(outcome) = self.parse(parser, r, what) {
            match outcome {
                Err(e) if kind(&e) == want => {}
                other => {
                    let got = match other {
                        Ok(_) => "success".to_owned(),
                        Err(e) => describe(&e),
                    };
                    self.fail(format!("{parser:?} {what}: expected {want}, got {got}"), &r.body);
                }
            }
        }
    }

    /// Parses and requires success.
    fn expect_ok(&mut self, parser: Parser, r: &HttpResponse, what: &str) {
        if let Some(Err(e)) = self.parse(parser, r, what) {
            self.fail(format!("{parser:?} {what}: expected success, got {}", describe(&e)), &r.body);
        }
    }
}

#[path = "../builders/mod.rs"]
mod builders;
mod builders_hostile;
mod debug;
mod findings;
mod hosts;
mod mutations;
mod parsers;
