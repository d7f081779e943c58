//! Drives whole `session`s with fuzzed responses: statuses (redirects
//! included), `WWW-Authenticate` challenges whose realm is fuzzed, token
//! bodies, identity tokens. The invariant is the project's routing rule: a
//! request goes only to a host the target allows, and a request that carries
//! a credential (an `Authorization`, cookie or AWS security token header, a
//! body, a signature or token in the query, or one of the planted secrets)
//! only to a host allowed for that credential.
//!
//! The allowed hosts are written here from each scenario's own data and the
//! providers' documented endpoints (the registry itself, Entra's authority
//! host per cloud, regional STS and ECR endpoints, Google's STS and IAM
//! Credentials, the link-local metadata servers), not asked of the
//! session's routing guard: the guard is what this target checks.
#![no_main]

use cloudauth::http::{HttpRequest, HttpResponse};
use cloudauth::secret::Secret;
use cloudauth::session::{Identity, Options, ServiceAccount, Session, SessionRequest, Step, Target};
use cloudauth_fuzz::check_message;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_705_320_000;
/// Planted in the generic registry's password.
const PASSWORD_MARK: &str = "PASSWORDMARK";
/// Planted in the identity token (in its signature, so its claims parse).
const ID_TOKEN_MARK: &str = "IDTOKENMARK";
/// Planted in the static AWS secret access key, which is never sent.
const AWS_KEY_MARK: &str = "AWSKEYMARK";
/// Most steps a session may take before the target stops feeding it.
const MAX_STEPS: usize = 12;

#[derive(Arbitrary, Debug)]
struct Input {
    scenario: u8,
    /// Picks the registry (and with it cloud and region) of the scenario.
    variant: u8,
    /// Option bits: trusted realm hosts, authority host, STS endpoint,
    /// impersonation, object level.
    bits: u8,
    /// A fuzzed identity token instead of the well-formed one.
    identity_token: Option<String>,
    replies: Vec<Reply>,
}

#[derive(Arbitrary, Debug)]
struct Reply {
    status: Status,
    challenge: Option<Challenge>,
    location: Option<String>,
    extra_headers: Vec<(String, String)>,
    template: u8,
    value: String,
    raw_body: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug)]
enum Status {
    Ok,
    Unauthorized,
    Redirect(u8),
    Other(u16),
}

#[derive(Arbitrary, Debug)]
enum Challenge {
    Bearer { realm: Realm, service: Option<String>, scope: Option<String> },
    Basic,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Realm {
    /// On the registry itself, with this path.
    Registry(String),
    /// On one of the trusted realm hosts.
    Trusted(u8),
    DockerHubAuth,
    /// A host that must never see the password (look-alikes, userinfo, ...).
    Foreign(u8),
    Raw(String),
}

const TRUSTED_REALMS: &[&str] = &["auth.example.com", "token.example.net:8443"];
const FOREIGN_REALMS: &[&str] = &[
    "https://evil.example/token",
    "https://registry.example.com.evil.example/token",
    "https://registry.example.com@evil.example/token",
    "https://evil.example\\@registry.example.com/token",
    "https://evil.example#@registry.example.com/token",
    "https://evil.example?@registry.example.com/token",
    "http://registry.example.com/token",
    "https://registry.example.com:444/token",
    "https://auth.docker.io.evil.example/token",
    "https://REGISTRY.example.com%2eevil.example/token",
    "https://[::1]/token",
    "https://169.254.169.254/token",
    "https://auth.example.com.:443/token",
    "//evil.example/token",
];

/// What the session is asked for, and where its requests may go.
struct Scenario {
    request: SessionRequest,
    /// `host[:port]` (port 443 left out) that may receive any HTTPS request.
    hosts: Vec<String>,
    /// Plain-HTTP metadata bases the identity uses.
    metadata: Vec<&'static str>,
    /// Hosts that may receive the registry password.
    password_hosts: Vec<String>,
    /// Hosts that may receive the identity token.
    identity_token_hosts: Vec<String>,
    /// The body templates of the flow's happy path (see [`body`]), answered
    /// once the fuzzer's replies run out, so that every input goes deep.
    happy: &'static [u8],
    /// A generic registry: the happy path starts with a Bearer challenge.
    generic: bool,
}

const IMDS: &str = "http://169.254.169.254/";
const GCE_METADATA: &str = "http://metadata.google.internal/";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn owned(hosts: &[&str]) -> Vec<String> {
    hosts.iter().map(|h| h.to_string()).collect()
}

fn service_account(annotations: &[(&str, &str)]) -> Identity {
    Identity::ServiceAccount(ServiceAccount {
        namespace: "apps".into(),
        name: "puller".into(),
        annotations: env(annotations),
    })
}

fn scenario(input: &Input) -> Scenario {
    let bit = |n: u8| input.bits & (1 << n) != 0;
    let mut options = Options { skip_cache: true, object_level_workload_identity: true, ..Options::default() };
    let pick = |items: usize| usize::from(input.variant) % items;
    match input.scenario % 10 {
        // A generic registry with basic credentials; a Bearer challenge may
        // name any realm.
        0 => {
            let registries = ["registry.example.com", "localhost:5000", "docker.io", "reg.example:8443", "ghcr.io"];
            let registry = registries[pick(registries.len())];
            options.registry_username = Some("robot".into());
            options.registry_password = Some(Secret::new(format!("pw-{PASSWORD_MARK}")));
            let mut hosts = vec![registry.to_string()];
            if registry == "docker.io" {
                // Docker Hub's API host and token server (docs.docker.com).
                hosts.push("registry-1.docker.io".into());
                hosts.push("auth.docker.io".into());
            }
            for (i, realm) in TRUSTED_REALMS.iter().enumerate() {
                if bit(i as u8) {
                    options.trusted_realm_hosts.push(realm.to_string());
                    hosts.push(realm.to_string());
                }
            }
            Scenario {
                request: SessionRequest {
                    target: Target::Registry(format!("{registry}/team/app:v1")),
                    identity: Identity::Controller,
                    options,
                    now: NOW,
                },
                password_hosts: hosts.clone(),
                hosts,
                metadata: vec![],
                identity_token_hosts: vec![],
                happy: &[2],
                generic: true,
            }
        }
        // ACR with Entra workload identity (environment or service account),
        // or with managed identity through IMDS.
        1..=3 => {
            // Entra's authority host per cloud (learn.microsoft.com, "National clouds").
            let clouds = [
                ("myreg.azurecr.io", "login.microsoftonline.com"),
                ("myreg.azurecr.cn", "login.chinacloudapi.cn"),
                ("myreg.azurecr.us", "login.microsoftonline.us"),
            ];
            let (registry, mut authority) = clouds[pick(clouds.len())];
            if bit(2) {
                options.environment.push(("AZURE_AUTHORITY_HOST".into(), "https://login.example.org/".into()));
                authority = "login.example.org";
            }
            let tenant = "72f988bf-0000-4000-8000-00000000a11e";
            let client = "0d0e0a0d-beef-4000-8000-00000000c1d0";
            let (identity, hosts, metadata, identity_token_hosts) = match input.scenario % 10 {
                1 => {
                    options.environment.extend(env(&[
                        ("AZURE_CLIENT_ID", client),
                        ("AZURE_TENANT_ID", tenant),
                        ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"),
                    ]));
                    (Identity::Controller, owned(&[registry, authority]), vec![], owned(&[authority]))
                }
                2 => (
                    service_account(&[
                        ("azure.workload.identity/tenant-id", tenant),
                        ("azure.workload.identity/client-id", client),
                    ]),
                    owned(&[registry, authority]),
                    vec![],
                    owned(&[authority]),
                ),
                _ => (Identity::Controller, owned(&[registry]), vec![IMDS], vec![]),
            };
            Scenario {
                request: SessionRequest {
                    target: Target::Registry(format!("{registry}/team/app:v1")),
                    identity,
                    options,
                    now: NOW,
                },
                hosts,
                metadata,
                password_hosts: vec![],
                identity_token_hosts,
                happy: &[0, 1, 0],
                generic: false,
            }
        }
        // ECR (private, per region and partition) with web identity,
        // static keys or EC2 instance metadata.
        4..=6 => {
            // (registry region, partition DNS suffix, role ARN partition): the
            // regional STS and ECR API endpoints (docs.aws.amazon.com,
            // "AWS service endpoints").
            let regions = [
                ("us-west-2", "amazonaws.com", "aws"),
                ("eu-central-1", "amazonaws.com", "aws"),
                ("cn-north-1", "amazonaws.com.cn", "aws-cn"),
            ];
            let (region, suffix, partition) = regions[pick(regions.len())];
            let ecr = format!("api.ecr.{region}.{suffix}");
            let mut sts = format!("sts.{region}.{suffix}");
            if bit(3) && partition == "aws" {
                options.sts_endpoint = Some("https://vpce-0abc-123.sts.us-east-1.vpce.amazonaws.com".into());
                sts = "vpce-0abc-123.sts.us-east-1.vpce.amazonaws.com".into();
            }
            let role = format!("arn:{partition}:iam::123456789012:role/puller");
            let (identity, hosts, metadata, identity_token_hosts) = match input.scenario % 10 {
                4 if bit(4) => (
                    service_account(&[("eks.amazonaws.com/role-arn", &role)]),
                    vec![ecr.clone(), sts.clone()],
                    vec![],
                    vec![sts],
                ),
                4 => {
                    options.environment.extend(env(&[
                        ("AWS_ROLE_ARN", &role),
                        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
                    ]));
                    (Identity::Controller, vec![ecr.clone(), sts.clone()], vec![], vec![sts])
                }
                5 => {
                    options.environment.extend(env(&[
                        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                        ("AWS_SECRET_ACCESS_KEY", &format!("secret-{AWS_KEY_MARK}")),
                        ("AWS_SESSION_TOKEN", "session-token-value"),
                    ]));
                    (Identity::Controller, vec![ecr.clone()], vec![], vec![])
                }
                _ => (Identity::Controller, vec![ecr.clone()], vec![IMDS], vec![]),
            };
            let happy: &[u8] = match input.scenario % 10 {
                4 => &[5, 3],
                5 => &[3],
                _ => &[9, 9, 8, 3],
            };
            Scenario {
                request: SessionRequest {
                    target: Target::Registry(format!("123456789012.dkr.ecr.{region}.{suffix}/team/app:v1")),
                    identity,
                    options,
                    now: NOW,
                },
                hosts,
                metadata,
                password_hosts: vec![],
                identity_token_hosts,
                happy,
                generic: false,
            }
        }
        // ECR Public: its API lives in us-east-1.
        7 => {
            options.environment.extend(env(&[
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", &format!("secret-{AWS_KEY_MARK}")),
            ]));
            Scenario {
                request: SessionRequest {
                    target: Target::Registry("public.ecr.aws/team/app:v1".into()),
                    identity: Identity::Controller,
                    options,
                    now: NOW,
                },
                hosts: owned(&["api.ecr-public.us-east-1.amazonaws.com"]),
                metadata: vec![],
                password_hosts: vec![],
                identity_token_hosts: vec![],
                happy: &[4],
                generic: false,
            }
        }
        // GAR and GCR with Google workload identity federation (with or
        // without impersonation), GKE's pool, or the metadata server.
        _ => {
            let registries =
                ["us-docker.pkg.dev/proj/repo/app:v1", "gcr.io/proj/app:v1", "europe-west1-docker.pkg.dev/p/r/a"];
            let target = Target::Registry(registries[pick(registries.len())].into());
            let wip = "projects/123456789012/locations/global/workloadIdentityPools/pool/providers/prov";
            let mut annotations = vec![];
            let mut hosts = owned(&["sts.googleapis.com"]);
            let mut metadata = vec![];
            if input.scenario % 10 == 8 && bit(5) {
                annotations.push(("gcp.auth.fluxcd.io/workload-identity-provider", wip));
            } else if input.scenario % 10 == 8 {
                // GKE's workload identity pool: the metadata server names it.
                metadata.push(GCE_METADATA);
            }
            if bit(6) {
                annotations.push(("iam.gke.io/gcp-service-account", "puller@proj.iam.gserviceaccount.com"));
                hosts.push("iamcredentials.googleapis.com".into());
            }
            let (identity, identity_token_hosts, happy): (_, _, &[u8]) = if input.scenario % 10 == 8 {
                let happy: &[u8] = if metadata.is_empty() { &[7, 6] } else { &[9, 9, 9, 7, 6] };
                (service_account(&annotations), owned(&["sts.googleapis.com"]), happy)
            } else {
                hosts.clear();
                metadata = vec![GCE_METADATA];
                (Identity::Controller, vec![], &[0])
            };
            Scenario {
                request: SessionRequest { target, identity, options, now: NOW },
                hosts,
                metadata,
                password_hosts: vec![],
                identity_token_hosts,
                happy,
                generic: false,
            }
        }
    }
}

// ------------------------------------------------------------------ oracle

/// `host[:port]` of an `https://` URL as a client would connect, port 443
/// dropped, lower case; None when the authority is not a plain one.
fn https_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains(['@', '\\', '%', ' ']) || authority.chars().any(char::is_control) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    Some(authority.strip_suffix(":443").map(str::to_owned).unwrap_or(authority))
}

/// What credential a request carries, by looking at the request alone.
fn carries(request: &HttpRequest) -> Option<&'static str> {
    const HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "x-amz-security-token"];
    if request.headers.iter().any(|(n, _)| HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h))) {
        return Some("a credential header");
    }
    if !request.body.is_empty() {
        return Some("a body");
    }
    let query = request.url.split_once('?').map(|(_, q)| q.to_ascii_lowercase()).unwrap_or_default();
    for key in [
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "access_token",
        "token",
        "password",
        "assertion",
    ] {
        if query.split('&').any(|pair| pair.split('=').next() == Some(key)) {
            return Some("a credential in the query");
        }
    }
    None
}

fn contains(request: &HttpRequest, mark: &str) -> bool {
    request.url.contains(mark)
        || request.headers.iter().any(|(n, v)| n.contains(mark) || v.contains(mark))
        || request.body.windows(mark.len()).any(|w| w == mark.as_bytes())
        // Basic auth hides the password in base64.
        || request.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("authorization") && v.starts_with("Basic "))
            && mark == PASSWORD_MARK
}

/// Checks one request. `marks` are the planted secrets the fuzzer did not
/// copy into a field of its own (libFuzzer copies compared strings into its
/// input; a marker that came from a response body proves nothing).
fn check_request(s: &Scenario, request: &HttpRequest, marks: &[&str]) {
    let what = format!("{} {}", request.method, request.url);
    if let Some(base) = s.metadata.iter().find(|base| request.url.starts_with(**base)) {
        // A metadata request is plain HTTP on the link-local network: it
        // may carry the metadata server's own headers, nothing else.
        assert!(carries(request).is_none(), "{what}: metadata request to {base} carries {:?}", carries(request));
        for mark in marks {
            assert!(!contains(request, mark), "{what}: a planted secret went to the metadata server");
        }
        return;
    }
    let host = https_host(&request.url).unwrap_or_else(|| panic!("{what}: not a plain https:// URL"));
    assert!(s.hosts.contains(&host), "{what}: {host} is not allowed for this target (allowed: {:?})", s.hosts);
    if marks.contains(&PASSWORD_MARK) && contains(request, PASSWORD_MARK) {
        assert!(s.password_hosts.contains(&host), "{what}: the registry password went to {host}");
    }
    if marks.contains(&ID_TOKEN_MARK) && contains(request, ID_TOKEN_MARK) {
        assert!(s.identity_token_hosts.contains(&host), "{what}: the identity token went to {host}");
    }
    if marks.contains(&AWS_KEY_MARK) {
        assert!(!contains(request, AWS_KEY_MARK), "{what}: the AWS secret access key is in the request");
    }
}

// ------------------------------------------------------------------ replies

/// JSON string content for `value` (quotes, backslashes, control characters escaped).
fn json_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A well-formed body of one of the protocols the flows speak, with the
/// fuzzed value as its token (or secret), so the fuzzer reaches the next step.
/// An empty value stands for a well-formed one: a JWT that expires in an
/// hour for tokens (some protocols read their expiry from it), a plain word
/// for metadata values (a project ID, a role name).
fn body(template: u8, value: &str) -> Vec<u8> {
    let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", claims());
    let value = match (value, template % 10) {
        ("", 9) => "proj-value",
        ("", _) => jwt.as_str(),
        (v, _) => v,
    };
    let t = json_escape(value);
    let x = value.replace('&', "&amp;").replace('<', "&lt;");
    let text = match template % 10 {
        0 => format!(r#"{{"access_token":"{t}","expires_in":3599,"token_type":"Bearer"}}"#),
        1 => format!(r#"{{"refresh_token":"{t}"}}"#),
        2 => format!(r#"{{"token":"{t}","expires_in":300}}"#),
        3 => format!(
            r#"{{"authorizationData":[{{"authorizationToken":"{}","expiresAt":4102444800,"proxyEndpoint":"https://123456789012.dkr.ecr.us-west-2.amazonaws.com"}}]}}"#,
            base64(format!("AWS:{value}").as_bytes())
        ),
        4 => format!(
            r#"{{"authorizationData":{{"authorizationToken":"{}","expiresAt":4102444800}}}}"#,
            base64(format!("AWS:{value}").as_bytes())
        ),
        5 => format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>{x}</SecretAccessKey><SessionToken>{x}</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        ),
        6 => format!(r#"{{"accessToken":"{t}","expireTime":"2100-01-01T00:00:00Z"}}"#),
        7 => format!(
            r#"{{"access_token":"{t}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}}"#
        ),
        8 => format!(
            r#"{{"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"{t}","Token":"{t}","Expiration":"2100-01-01T00:00:00Z"}}"#
        ),
        _ => value.to_string(),
    };
    text.into_bytes()
}

fn challenge(c: &Challenge, s: &Scenario) -> String {
    match c {
        Challenge::Basic => "Basic realm=\"registry\"".into(),
        Challenge::Raw(raw) => raw.clone(),
        Challenge::Bearer { realm, service, scope } => {
            let realm = match realm {
                Realm::Registry(path) => format!("https://{}/{path}", s.hosts.first().map_or("", String::as_str)),
                Realm::Trusted(i) => {
                    format!("https://{}/token", TRUSTED_REALMS[usize::from(*i) % TRUSTED_REALMS.len()])
                }
                Realm::DockerHubAuth => "https://auth.docker.io/token".into(),
                Realm::Foreign(i) => FOREIGN_REALMS[usize::from(*i) % FOREIGN_REALMS.len()].into(),
                Realm::Raw(raw) => raw.clone(),
            };
            let mut header = format!("Bearer realm=\"{realm}\"");
            if let Some(service) = service {
                header.push_str(&format!(",service=\"{service}\""));
            }
            if let Some(scope) = scope {
                header.push_str(&format!(",scope=\"{scope}\""));
            }
            header
        }
    }
}

fn response(reply: &Reply, s: &Scenario) -> HttpResponse {
    let status = match reply.status {
        Status::Ok => 200,
        Status::Unauthorized => 401,
        Status::Redirect(n) => [301, 302, 303, 307, 308][usize::from(n) % 5],
        Status::Other(n) => n,
    };
    let mut headers = reply.extra_headers.clone();
    if let Some(c) = &reply.challenge {
        headers.push(("WWW-Authenticate".into(), challenge(c, s)));
    }
    if let Some(location) = &reply.location {
        headers.push(("Location".into(), location.clone()));
    }
    let body = reply.raw_body.clone().unwrap_or_else(|| body(reply.template, &reply.value));
    HttpResponse { status, headers, body }
}

/// The `n`th answer of the happy path, once the fuzzer's replies ran out:
/// for a generic registry a Bearer challenge on the registry first, then
/// the scenario's bodies with a plain token.
fn happy_response(s: &Scenario, n: usize) -> HttpResponse {
    if s.generic && n == 0 {
        let realm = format!("https://{}/token", s.hosts[0]);
        let challenge = format!("Bearer realm=\"{realm}\",service=\"registry\",scope=\"repository:team/app:pull\"");
        return HttpResponse { status: 401, headers: vec![("WWW-Authenticate".into(), challenge)], body: Vec::new() };
    }
    let step = n - usize::from(s.generic);
    let template = s.happy[step.min(s.happy.len() - 1)];
    HttpResponse { status: 200, headers: Vec::new(), body: body(template, "") }
}

/// Set `SESSION_FUZZ_TRACE=1` to print each input's steps (to check how
/// deep the fuzzer gets: `cargo fuzz run session corpus/session -- -runs=0`).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SESSION_FUZZ_TRACE").is_some())
}

/// A JWT that expires in an hour, the marker in its signature.
fn identity_token() -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{}.sig-{ID_TOKEN_MARK}", claims())
}

/// JWT claims (base64url) that expire in an hour.
fn claims() -> String {
    let claims = base64(format!(r#"{{"exp":{},"sub":"system:serviceaccount:apps:puller"}}"#, NOW + 3600).as_bytes());
    claims.trim_end_matches('=').replace('+', "-").replace('/', "_")
}

/// The planted secrets that appear nowhere in the fuzzer's own input.
fn planted_marks(input: &Input) -> Vec<&'static str> {
    let text = format!("{input:?}");
    [PASSWORD_MARK, ID_TOKEN_MARK, AWS_KEY_MARK]
        .into_iter()
        .filter(|mark| {
            !text.contains(mark)
                && !input
                    .replies
                    .iter()
                    .filter_map(|r| r.raw_body.as_ref())
                    .any(|b| b.windows(mark.len()).any(|w| w == mark.as_bytes()))
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let s = scenario(&input);
    let marks = planted_marks(&input);
    let mut session = match Session::start(s.request.clone()) {
        Ok(session) => session,
        Err(e) => {
            check_message(&e);
            return;
        }
    };
    let mut replies = input.replies.iter();
    let mut happy = 0;
    let mut trace = Vec::new();
    for _ in 0..MAX_STEPS {
        let step = session.next();
        if tracing() {
            trace.push(match &step {
                Step::SendHttp(r) => {
                    format!("send {} {}", carries(r).unwrap_or("-"), r.url.split('?').next().unwrap_or(""))
                }
                Step::FetchIdentityToken(_) => "identity token".into(),
                Step::ReadFile(path) => format!("read {path}"),
                Step::Done(_) => "done".into(),
                Step::Failed(e) => format!("failed: {}", e.to_string().chars().take(100).collect::<String>()),
            });
        }
        let result = match step {
            Step::SendHttp(request) => {
                check_request(&s, &request, &marks);
                let response = match replies.next() {
                    Some(reply) => response(reply, &s),
                    None => {
                        happy += 1;
                        happy_response(&s, happy - 1)
                    }
                };
                session.receive_http(response, NOW)
            }
            Step::FetchIdentityToken(_) => {
                let token = input.identity_token.clone().unwrap_or_else(identity_token);
                session.receive_identity_token(Secret::new(token), NOW)
            }
            // No scenario configures a file source; a missing file is an answer.
            Step::ReadFile(_) => session.receive_file(None, NOW),
            Step::Done(credentials) => {
                if tracing() {
                    eprintln!("trace: scenario {}: {trace:?}", input.scenario % 10);
                }
                let debug = format!("{credentials:?}");
                for mark in &marks {
                    assert!(!debug.contains(mark), "Debug of the credentials shows a secret: {debug}");
                }
                return;
            }
            Step::Failed(e) => {
                if tracing() {
                    eprintln!("trace: scenario {}: {trace:?}", input.scenario % 10);
                }
                check_message(&e);
                let text = e.to_string();
                for mark in &marks {
                    assert!(!text.contains(mark), "an error shows a secret: {text}");
                }
                return;
            }
        };
        if let Err(e) = result {
            check_message(&e);
        }
    }
});
