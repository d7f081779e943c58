//! `plan`: what the component decides for a target, without any I/O.
//!
//! The plan asks the component to resolve the target, then calls the
//! request builders of the provider's credential flows with placeholder
//! inputs (see [`crate::placeholder`]) and collects the requests they build.
//! A builder that fails (an unfinished one says "not built yet") leaves its
//! error in the plan; the rest of the plan goes on.

use crate::component::api::aws::{EcrTokenParams, EndpointOptions, WebIdentityParams};
use crate::component::api::azure::{Authority, ManagedIdentity};
use crate::component::api::gcp::StsExchangeParams;
use crate::component::api::resolve::RegistryTarget;
use crate::component::api::types::{AwsCredentials, AzureCloud, HttpRequest, Provider};
use crate::component::{Instance, flatten};
use crate::placeholder::{self, stand_in};

/// The fixed signing time of the plan's AWS requests: 2024-01-15T12:00:00Z.
/// A real host passes its clock.
pub const SIGNING_TIME: i64 = 1_705_320_000;
const SIGNING_TIME_TEXT: &str = "2024-01-15T12:00:00Z";

/// The target planned when none is given.
pub const DEFAULT_TARGET: &str = "myregistry.azurecr.io/app:v1";

/// Everything the plan shows.
pub struct Plan {
    pub target: String,
    pub resolved: Result<Resolved, String>,
    /// The token scopes (`registry-scopes`).
    pub scopes: Result<Vec<String>, String>,
    /// The Kubernetes service-account token audience (`service-account-audience`).
    pub audience: Result<String, String>,
    pub flows: Vec<Flow>,
    pub notes: Vec<String>,
}

/// The resolved registry.
pub struct Resolved {
    pub provider: &'static str,
    pub registry: String,
    /// Azure only.
    pub cloud: Option<&'static str>,
    /// AWS only.
    pub aws: Option<AwsTarget>,
}

pub struct AwsTarget {
    pub account_id: Option<String>,
    pub region: String,
    pub partition: String,
    pub fips: bool,
    pub public: bool,
}

/// One way to get credentials: the requests, in order, and what comes out.
pub struct Flow {
    pub name: String,
    pub default: bool,
    /// What happens before the first request, when the component is not asked.
    pub intro: Vec<String>,
    pub steps: Vec<Step>,
    /// What the host does with the final answer.
    pub outcome: String,
    pub notes: Vec<String>,
}

pub struct Step {
    pub title: String,
    pub request: Result<ShownRequest, String>,
}

/// A request as printed: placeholders shown, credentials redacted.
pub struct ShownRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

pub enum Body {
    Empty,
    /// An `application/x-www-form-urlencoded` body, decoded.
    Form(Vec<(String, String)>),
    Text(String),
}

impl ShownRequest {
    pub fn from_built(request: HttpRequest) -> Self {
        let headers: Vec<(String, String)> =
            request.headers.iter().map(|(n, v)| (n.clone(), placeholder::header_value(n, v))).collect();
        let is_form = request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded"));
        let text = String::from_utf8_lossy(&request.body);
        let body = if request.body.is_empty() {
            Body::Empty
        } else if is_form {
            Body::Form(decode_form(&text).into_iter().map(|(k, v)| (k, placeholder::show(&v))).collect())
        } else {
            Body::Text(placeholder::show(&text))
        };
        ShownRequest { method: request.method, url: placeholder::show(&request.url), headers, body }
    }
}

fn step(title: &str, built: Result<HttpRequest, String>) -> Step {
    Step { title: title.to_string(), request: built.map(ShownRequest::from_built) }
}

/// Plans `target`.
pub fn plan(instance: &mut Instance, target: &str) -> Plan {
    let i = instance;
    let resolved = flatten(i.call("resolve.resolve-registry", |api, store| {
        api.cloudauth_auth_resolve().call_resolve_registry(store, target, None)
    }));
    let scopes = flatten(i.call("resolve.registry-scopes", |api, store| {
        api.cloudauth_auth_resolve().call_registry_scopes(store, target, None)
    }));
    let mut plan = Plan {
        target: target.to_string(),
        resolved: Err(String::new()),
        scopes,
        audience: Err(String::new()),
        flows: Vec::new(),
        notes: Vec::new(),
    };
    let resolved = match resolved {
        Ok(resolved) => resolved,
        Err(e) => {
            plan.resolved = Err(e);
            plan.audience = Err("(no provider)".into());
            return plan;
        }
    };
    plan.audience = flatten(i.call("resolve.service-account-audience", |api, store| {
        api.cloudauth_auth_resolve().call_service_account_audience(store, resolved.provider)
    }));
    match resolved.provider {
        Provider::Azure => azure_flows(i, &resolved, &mut plan),
        Provider::Aws => aws_flows(i, &resolved, &mut plan),
        Provider::Gcp => gcp_flows(i, &resolved, &mut plan),
        Provider::Generic => generic_flow(i, target, &resolved, &mut plan),
    }
    plan.resolved = Ok(describe_target(resolved));
    plan.notes.push(
        "Values in <angle brackets> are placeholders for what the host supplies at run time; \
         credential headers are redacted. No secret is printed."
            .into(),
    );
    plan
}

fn describe_target(t: RegistryTarget) -> Resolved {
    Resolved {
        provider: provider_name(t.provider),
        registry: t.registry,
        cloud: t.azure_cloud.map(cloud_name),
        aws: t.aws.map(|a| AwsTarget {
            account_id: a.account_id,
            region: a.region,
            partition: a.partition,
            fips: a.fips,
            public: a.public,
        }),
    }
}

pub fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::Azure => "azure",
        Provider::Aws => "aws",
        Provider::Gcp => "gcp",
        Provider::Generic => "generic",
    }
}

fn cloud_name(c: AzureCloud) -> &'static str {
    match c {
        AzureCloud::AzurePublic => "AzurePublic",
        AzureCloud::AzureChina => "AzureChina",
        AzureCloud::AzureUsGovernment => "AzureUSGovernment",
        AzureCloud::AzureCustom => "AzureCustom",
    }
}

/// The first token scope, or a placeholder when the component gave none.
fn first_scope(plan: &Plan) -> String {
    plan.scopes.as_ref().ok().and_then(|s| s.first().cloned()).unwrap_or_else(|| stand_in::SCOPE.to_string())
}

// ---------------------------------------------------------------- Azure

fn azure_flows(i: &mut Instance, t: &RegistryTarget, plan: &mut Plan) {
    let scope = first_scope(plan);
    let cloud = t.azure_cloud.unwrap_or(AzureCloud::AzurePublic);

    let entra = flatten(i.call("azure.entra-token-request", |api, store| {
        api.cloudauth_auth_azure().call_entra_token_request(
            store,
            &Authority::Cloud(cloud),
            stand_in::TENANT_ID,
            stand_in::CLIENT_ID,
            &scope,
            stand_in::SERVICE_ACCOUNT_TOKEN,
        )
    }));
    // Like fluxcd/pkg and the session, the exchange sends no tenant: the
    // Entra token already names it.
    let exchange = |i: &mut Instance| {
        flatten(i.call("azure.acr-exchange-request", |api, store| {
            api.cloudauth_auth_azure().call_acr_exchange_request(store, &t.registry, stand_in::ENTRA_ACCESS_TOKEN, None)
        }))
    };
    let exchange_title = "ACR: exchange the Entra access token for an ACR refresh token";
    let outcome = format!(
        "docker login {} --username 00000000-0000-0000-0000-000000000000 --password <acr-refresh-token>",
        t.registry
    );
    plan.flows.push(Flow {
        name: "Workload identity".into(),
        default: true,
        intro: Vec::new(),
        steps: vec![
            step("Entra ID: the Kubernetes service-account token, as a client assertion, for an access token", entra),
            step(exchange_title, exchange(i)),
        ],
        outcome: outcome.clone(),
        notes: vec![
            "<service-account-token> is the pod's projected token (AZURE_FEDERATED_TOKEN_FILE), \
             or one from a Kubernetes TokenRequest, with the audience shown above."
                .into(),
        ],
    });

    let imds = flatten(i.call("azure.imds-token-request", |api, store| {
        api.cloudauth_auth_azure().call_imds_token_request(store, &scope, &ManagedIdentity::SystemAssigned)
    }));
    plan.flows.push(Flow {
        name: "Managed identity (IMDS)".into(),
        default: false,
        intro: Vec::new(),
        steps: vec![
            step("IMDS: an access token for the VM's system-assigned identity", imds),
            step(exchange_title, exchange(i)),
        ],
        outcome,
        notes: vec!["On a VM or node with a managed identity; no Kubernetes token involved.".into()],
    });
}

// ---------------------------------------------------------------- AWS

fn aws_flows(i: &mut Instance, t: &RegistryTarget, plan: &mut Plan) {
    let Some(aws) = &t.aws else {
        plan.notes.push("The component resolved AWS without ECR details.".into());
        return;
    };
    let account = aws.account_id.as_deref().unwrap_or(stand_in::ACCOUNT_ID);
    let role_arn = format!("arn:{}:iam::{account}:role/{}", aws.partition, stand_in::ROLE_NAME);
    let no_options = EndpointOptions { fips: false, dualstack: false, legacy: false };
    let sts = flatten(i.call("aws.sts-web-identity-request", |api, store| {
        api.cloudauth_auth_aws().call_sts_web_identity_request(
            store,
            &WebIdentityParams {
                region: aws.region.clone(),
                role_arn,
                role_session_name: stand_in::SESSION_NAME.into(),
                web_identity_token: stand_in::SERVICE_ACCOUNT_TOKEN.into(),
                duration_seconds: None,
                policy_arns: Vec::new(),
                endpoint: no_options,
            },
        )
    }));
    let ecr = flatten(i.call("aws.ecr-token-request", |api, store| {
        api.cloudauth_auth_aws().call_ecr_token_request(
            store,
            &EcrTokenParams {
                region: aws.region.clone(),
                credentials: AwsCredentials {
                    access_key_id: stand_in::AWS_ACCESS_KEY_ID.into(),
                    secret_access_key: stand_in::AWS_SECRET_ACCESS_KEY.into(),
                    session_token: Some(stand_in::AWS_SESSION_TOKEN.into()),
                    expires_at: None,
                },
                registry_ids: Vec::new(),
                public: aws.public,
                endpoint: EndpointOptions { fips: aws.fips, ..no_options },
            },
            SIGNING_TIME,
        )
    }));
    let service = if aws.public { "ECR Public" } else { "ECR" };
    plan.flows.push(Flow {
        name: "IRSA (web identity)".into(),
        default: true,
        intro: Vec::new(),
        steps: vec![
            step("STS AssumeRoleWithWebIdentity: the Kubernetes service-account token for temporary credentials", sts),
            step(&format!("{service} GetAuthorizationToken, SigV4-signed with those credentials"), ecr),
        ],
        outcome: format!(
            "docker login {} --username AWS --password <the password in the decoded authorizationToken>",
            t.registry
        ),
        notes: vec![
            format!(
                "The signed request uses the public AWS example key {} (secret <aws-secret-access-key>) \
                 and the fixed time {SIGNING_TIME_TEXT}; a real host signs with the STS credentials and its clock.",
                stand_in::AWS_ACCESS_KEY_ID
            ),
            "<service-account-token> is the pod's projected token (AWS_WEB_IDENTITY_TOKEN_FILE), \
             with the audience shown above."
                .into(),
        ],
    });
}

// ---------------------------------------------------------------- Google Cloud

fn gcp_flows(i: &mut Instance, t: &RegistryTarget, plan: &mut Plan) {
    let scopes = plan.scopes.clone().unwrap_or_default();
    let metadata = flatten(i.call("gcp.metadata-token-request", |api, store| {
        api.cloudauth_auth_gcp().call_metadata_token_request(store, &scopes, None)
    }));
    let outcome = format!("docker login {} --username oauth2accesstoken --password <access-token>", t.registry);
    plan.flows.push(Flow {
        name: "GCE metadata server".into(),
        default: true,
        intro: Vec::new(),
        steps: vec![step(
            "Metadata server: an access token for the node's (or GKE workload's) service account",
            metadata,
        )],
        outcome: outcome.clone(),
        notes: Vec::new(),
    });

    let sts = flatten(i.call("gcp.sts-exchange-request", |api, store| {
        api.cloudauth_auth_gcp().call_sts_exchange_request(
            store,
            &StsExchangeParams {
                audience: stand_in::GCP_PROVIDER_AUDIENCE.into(),
                scopes: scopes.clone(),
                subject_token: stand_in::SERVICE_ACCOUNT_TOKEN.into(),
                subject_token_type: None,
                impersonation: true,
                options: None,
                client_id: None,
                client_secret: None,
            },
        )
    }));
    let impersonate = flatten(i.call("gcp.impersonation-request", |api, store| {
        api.cloudauth_auth_gcp().call_impersonation_request(
            store,
            stand_in::GCP_SERVICE_ACCOUNT,
            stand_in::FEDERATED_ACCESS_TOKEN,
            &scopes,
            None,
            &[],
        )
    }));
    plan.flows.push(Flow {
        name: "Workload identity federation, impersonating a service account".into(),
        default: false,
        intro: Vec::new(),
        steps: vec![
            step(
                "STS token exchange: the Kubernetes service-account token for a federated token",
                sts,
            ),
            step(
                "IAM Credentials generateAccessToken: the federated token for the service account's token",
                impersonate,
            ),
        ],
        outcome,
        notes: vec![
            "The service-account token's audience is the workload identity provider, \
             //iam.googleapis.com/projects/<project-number>/locations/global/workloadIdentityPools/<pool-id>/providers/<provider-id>."
                .into(),
        ],
    });
}

// ---------------------------------------------------------------- generic registries

fn generic_flow(i: &mut Instance, target: &str, t: &RegistryTarget, plan: &mut Plan) {
    plan.notes.push("Not a cloud registry: no cloud token is requested, and no cloud identity is sent to it.".into());
    // The realm comes from the registry's own challenge at run time; Docker
    // Hub's is well known, others are shown with an example realm.
    let (challenge, example) = if t.registry == "docker.io" {
        (r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#.to_string(), false)
    } else {
        (format!(r#"Bearer realm="https://{0}/token",service="{0}""#, t.registry), true)
    };
    let scope = format!("repository:{}:pull", repository(target, &t.registry));
    let parsed =
        flatten(i.call("oci.parse-challenge", |api, store| {
            api.cloudauth_auth_oci().call_parse_challenge(store, &challenge)
        }));
    let request = match parsed {
        Ok(c) => match c.realm {
            Some(realm) => flatten(i.call("oci.token-request", |api, store| {
                api.cloudauth_auth_oci().call_token_request(
                    store,
                    &realm,
                    c.service.as_deref(),
                    std::slice::from_ref(&scope),
                    Some("<registry-username>"),
                    Some("<registry-password>"),
                )
            })),
            None => Err("the challenge has no realm".into()),
        },
        Err(e) => Err(format!("parse-challenge: {e}")),
    };
    // Docker Hub's registry API is served from registry-1.docker.io.
    let api_host = if t.registry == "docker.io" { "registry-1.docker.io" } else { t.registry.as_str() };
    let mut intro = vec![format!("GET https://{api_host}/v2/ answers 401 with WWW-Authenticate: {challenge}")];
    if example {
        intro.push("(an example challenge: the real realm and service come from the registry)".into());
    }
    intro.push(
        "The component parses the challenge (parse-challenge) and builds the token request with the \
         registry credentials the host configured (session options registry-username/password); \
         without them a session refuses a generic registry at start."
            .into(),
    );
    plan.flows.push(Flow {
        name: "Docker token authentication (validating the configured credentials)".into(),
        default: true,
        intro,
        steps: vec![step("Token request to the challenge's realm", request)],
        outcome: "docker login credentials: the configured username and password, once the token server accepted them"
            .into(),
        notes: vec![
            "The password goes only to the registry itself, Docker Hub's auth.docker.io, or realms the host trusts."
                .into(),
        ],
    });
}

/// The repository path of an image reference, for the pull scope:
/// `library/` is implied for an official Docker Hub image.
fn repository(reference: &str, registry: &str) -> String {
    let rest = reference.strip_prefix("oci://").or_else(|| reference.strip_prefix("https://")).unwrap_or(reference);
    let path = match rest.split_once('/') {
        Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => path,
        Some(_) => rest,
        None if rest.contains(['.', ':']) => "",
        None => rest,
    };
    let path = path.split('@').next().unwrap_or(path);
    let path = match path.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') => p,
        _ => path,
    };
    match path {
        "" => "<repository>".into(),
        p if registry == "docker.io" && !p.contains('/') => format!("library/{p}"),
        p => p.into(),
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let mut peek = bytes.clone();
                let hex = [peek.next(), peek.next()];
                match hex {
                    [Some(h), Some(l)] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                        let value = (hex_value(h) << 4) | hex_value(l);
                        out.push(value);
                        bytes = peek;
                    }
                    _ => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths() {
        assert_eq!(repository("alpine", "docker.io"), "library/alpine");
        assert_eq!(repository("docker.io/library/alpine:3.19", "docker.io"), "library/alpine");
        assert_eq!(repository("ghcr.io/fluxcd/source-controller:v1.4.1", "ghcr.io"), "fluxcd/source-controller");
        assert_eq!(repository("registry.example.com:5000/team/app", "registry.example.com:5000"), "team/app");
        assert_eq!(repository("oci://ghcr.io/org/chart@sha256:abc", "ghcr.io"), "org/chart");
        assert_eq!(repository("ghcr.io", "ghcr.io"), "<repository>");
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            decode_form("a=b%2Fc&d=e+f&g&h=%zz"),
            vec![
                ("a".into(), "b/c".into()),
                ("d".into(), "e f".into()),
                ("g".into(), "".into()),
                ("h".into(), "%zz".into()),
            ]
        );
    }
}
