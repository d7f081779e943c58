//! Every request builder of the WIT with valid parameters, as a list the
//! robustness tests walk: `tests/robustness/` makes each parameter hostile
//! in turn (control characters, hostile hosts), `tests/error_bounds.rs`
//! makes each one long and hostile and bounds the error.

use crate::support::Instance;
use crate::support::api::aws::{EcrTokenParams, EndpointOptions, Service, WebIdentityParams};
use crate::support::api::azure::{Authority, ManagedIdentity};
use crate::support::api::gcp::StsExchangeParams;
use crate::support::api::sigv4::SigningParams;
use crate::support::api::types::{self, AzureEnvironment, Error as WitError, HttpRequest};

/// The `now` every builder is called with.
pub const NOW: i64 = 1_705_320_000;

/// What a builder produced.
pub enum Built {
    Request(HttpRequest),
    /// A string that ends up in a request (a scope, an endpoint URL, a token).
    Text(String),
    Texts(Vec<String>),
}

pub type BuildResult = wasmtime::Result<Result<Built, WitError>>;

/// A builder of the WIT with its string parameters. Parameters are passed
/// as a list of strings, in the order of `params`, so that each can be made
/// hostile in turn. A name starting with `*` is a secret (its valid value
/// holds the marker); one starting with `~` is JSON text (CR and LF are JSON
/// whitespace there, so outside strings they change nothing).
pub struct Builder {
    pub name: &'static str,
    pub params: &'static [(&'static str, &'static str)],
    pub call: fn(&mut Instance, &[String]) -> BuildResult,
}

const OPTS: EndpointOptions = EndpointOptions { fips: false, dualstack: false, legacy: false };

fn request(r: Result<HttpRequest, WitError>) -> Result<Built, WitError> {
    r.map(Built::Request)
}

fn aws_credentials(v: &[String]) -> types::AwsCredentials {
    types::AwsCredentials {
        access_key_id: v[0].clone(),
        secret_access_key: v[1].clone(),
        session_token: Some(v[2].clone()),
        expires_at: None,
    }
}

fn signing_params(v: &[String]) -> SigningParams {
    SigningParams {
        credentials: aws_credentials(&v[4..7]),
        region: v[7].clone(),
        service: v[8].clone(),
        now: NOW,
        normalize_path: true,
        sign_body_header: true,
        unsigned_headers: vec![v[9].clone()],
        omit_session_token: false,
    }
}

fn http_request(v: &[String]) -> HttpRequest {
    HttpRequest {
        method: v[0].clone(),
        url: v[1].clone(),
        headers: vec![(v[2].clone(), v[3].clone())],
        body: b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
    }
}

const SIGV4_PARAMS: &[(&str, &str)] = &[
    ("method", "POST"),
    ("url", "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"),
    ("header name", "Content-Type"),
    ("header value", "application/x-www-form-urlencoded; charset=utf-8"),
    ("access key id", "AKIDEXAMPLE"),
    ("*secret access key", "SECRETMARKERwJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ("*session token", "SECRETMARKER-session-token"),
    ("region", "us-east-1"),
    ("service", "sts"),
    ("unsigned header", "x-amz-user-agent"),
];

pub const CUSTOM_ENV_PARAMS: [(&str, &str); 3] = [
    ("resource manager endpoint", "https://management.contoso.example"),
    ("token audience", "https://management.core.contoso.example"),
    ("registry DNS suffix", "azurecr.contoso.example"),
];

pub fn custom_env(v: &[String]) -> AzureEnvironment {
    AzureEnvironment {
        resource_manager_endpoint: Some(v[0].clone()),
        token_audience: Some(v[1].clone()),
        container_registry_dns_suffix: v.get(2).cloned(),
    }
}

pub fn builders() -> Vec<Builder> {
    vec![
        Builder {
            name: "azure.entra-token-request (authority host)",
            params: &[
                ("authority host", "https://login.microsoftonline.com"),
                ("tenant id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
                ("client id", "0d0e0a0d-beef-4000-8000-00000000c1d0"),
                ("scope", "https://management.azure.com/.default"),
                ("*client assertion", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.SECRETMARKER"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_entra_token_request(
                    &mut i.store,
                    &Authority::Host(v[0].clone()),
                    &v[1],
                    &v[2],
                    &v[3],
                    &v[4],
                )?))
            },
        },
        Builder {
            name: "azure.entra-token-request (cloud)",
            params: &[
                ("tenant id", "contoso.onmicrosoft.com"),
                ("client id", "0d0e0a0d-beef-4000-8000-00000000c1d0"),
                ("scope", "https://management.azure.com/.default"),
                ("*client assertion", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.SECRETMARKER"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_entra_token_request(
                    &mut i.store,
                    &Authority::Cloud(types::AzureCloud::AzureChina),
                    &v[0],
                    &v[1],
                    &v[2],
                    &v[3],
                )?))
            },
        },
        Builder {
            name: "azure.imds-token-request (client id)",
            params: &[
                ("scope", "https://management.azure.com/.default"),
                ("client id", "0d0e0a0d-beef-4000-8000-00000000c1d0"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_imds_token_request(
                    &mut i.store,
                    &v[0],
                    &ManagedIdentity::ClientId(v[1].clone()),
                )?))
            },
        },
        Builder {
            name: "azure.imds-token-request (object id)",
            params: &[("scope", "https://vault.azure.net"), ("object id", "00000000-0000-4000-8000-0000000000aa")],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_imds_token_request(
                    &mut i.store,
                    &v[0],
                    &ManagedIdentity::ObjectId(v[1].clone()),
                )?))
            },
        },
        Builder {
            name: "azure.imds-token-request (resource id)",
            params: &[
                ("scope", "https://management.azure.com/.default"),
                (
                    "resource id",
                    "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
                ),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_imds_token_request(
                    &mut i.store,
                    &v[0],
                    &ManagedIdentity::ResourceId(v[1].clone()),
                )?))
            },
        },
        Builder {
            name: "azure.acr-exchange-request",
            params: &[
                ("registry", "myregistry.azurecr.io"),
                ("*access token", "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.SECRETMARKER"),
                ("tenant id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_acr_exchange_request(
                    &mut i.store,
                    &v[0],
                    &v[1],
                    Some(&v[2]),
                )?))
            },
        },
        Builder {
            name: "azure.acr-token-request",
            params: &[
                ("registry", "myregistry.azurecr.io:443"),
                ("*refresh token", "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.SECRETMARKER"),
                ("scope", "repository:team/app:pull"),
                ("second scope", "repository:b:pull,push"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_azure().call_acr_token_request(
                    &mut i.store,
                    &v[0],
                    &v[1],
                    &v[2..4],
                )?))
            },
        },
        Builder {
            name: "azure.arm-scope (custom cloud)",
            // The registry suffix plays no part in the ARM scope; resolve-registry covers it.
            params: &[CUSTOM_ENV_PARAMS[0], CUSTOM_ENV_PARAMS[1]],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_azure()
                    .call_arm_scope(&mut i.store, types::AzureCloud::AzureCustom, Some(&custom_env(v)))?
                    .map(Built::Text))
            },
        },
        Builder {
            name: "aws.resolve-endpoint",
            params: &[("region", "eu-west-1")],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_aws()
                    .call_resolve_endpoint(&mut i.store, Service::Sts, &v[0], OPTS)?
                    .map(|e| Built::Texts(vec![e.url, e.signing_region])))
            },
        },
        Builder {
            name: "aws.sts-web-identity-request",
            params: &[
                ("region", "us-west-2"),
                ("role arn", "arn:aws:iam::123456789012:role/path/wirecap-role"),
                ("role session name", "wirecap-session"),
                ("*web identity token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.SECRETMARKER"),
                ("policy arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
            ],
            call: |i, v| {
                let params = WebIdentityParams {
                    region: v[0].clone(),
                    role_arn: v[1].clone(),
                    role_session_name: v[2].clone(),
                    web_identity_token: v[3].clone(),
                    duration_seconds: Some(3600),
                    policy_arns: vec![v[4].clone()],
                    endpoint: OPTS,
                };
                Ok(request(i.api.cloudauth_auth_aws().call_sts_web_identity_request(&mut i.store, &params)?))
            },
        },
        Builder {
            name: "aws.ecr-token-request (private)",
            params: &[
                ("region", "us-east-1"),
                ("access key id", "AKIDEXAMPLE"),
                ("*secret access key", "SECRETMARKERwJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                ("*session token", "SECRETMARKER-session-token"),
                ("registry id", "123456789012"),
            ],
            call: |i, v| {
                let params = EcrTokenParams {
                    region: v[0].clone(),
                    credentials: aws_credentials(&v[1..4]),
                    registry_ids: vec![v[4].clone()],
                    public: false,
                    endpoint: OPTS,
                };
                Ok(request(i.api.cloudauth_auth_aws().call_ecr_token_request(&mut i.store, &params, NOW)?))
            },
        },
        Builder {
            name: "aws.ecr-token-request (public)",
            params: &[
                ("region", "us-east-1"),
                ("access key id", "AKIDEXAMPLE"),
                ("*secret access key", "SECRETMARKERwJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                ("*session token", "SECRETMARKER-session-token"),
            ],
            call: |i, v| {
                let params = EcrTokenParams {
                    region: v[0].clone(),
                    credentials: aws_credentials(&v[1..4]),
                    registry_ids: Vec::new(),
                    public: true,
                    endpoint: OPTS,
                };
                Ok(request(i.api.cloudauth_auth_aws().call_ecr_token_request(&mut i.store, &params, NOW)?))
            },
        },
        Builder {
            name: "aws.eks-token",
            params: &[
                ("cluster", "my-cluster"),
                ("region", "us-east-1"),
                ("access key id", "AKIDEXAMPLE"),
                ("*secret access key", "SECRETMARKERwJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                ("*session token", "SECRETMARKER-session-token"),
            ],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_aws()
                    .call_eks_token(&mut i.store, &v[0], &v[1], &aws_credentials(&v[2..5]), NOW, OPTS)?
                    .map(|t| Built::Text(t.token)))
            },
        },
        Builder {
            name: "sigv4.sign-request",
            params: SIGV4_PARAMS,
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_sigv4()
                    .call_sign_request(&mut i.store, &http_request(v), &signing_params(v))?
                    .map(|s| Built::Request(s.request)))
            },
        },
        Builder {
            name: "sigv4.sign-headers",
            params: SIGV4_PARAMS,
            call: |i, v| {
                // The request as the host sends it: the set headers replace
                // same-named ones, so every check on a signed request applies.
                let mut request = http_request(v);
                Ok(i.api.cloudauth_auth_sigv4().call_sign_headers(&mut i.store, &request, &signing_params(v))?.map(
                    |set| {
                        crate::support::set_headers(&mut request.headers, set);
                        Built::Request(request)
                    },
                ))
            },
        },
        Builder {
            name: "sigv4.presign-request",
            params: SIGV4_PARAMS,
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_sigv4()
                    .call_presign_request(&mut i.store, &http_request(v), &signing_params(v), 900)?
                    .map(|s| Built::Request(s.request)))
            },
        },
        Builder {
            name: "gcp.sts-exchange-request",
            params: &[
                (
                    "audience",
                    "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/pool/providers/provider",
                ),
                ("scope", "https://www.googleapis.com/auth/cloud-platform"),
                ("*subject token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.SECRETMARKER"),
                ("subject token type", "urn:ietf:params:oauth:token-type:jwt"),
                ("~options", r#"{"userProject": "my-project"}"#),
                ("client id", "client-id"),
                ("*client secret", "SECRETMARKER-client-secret"),
            ],
            call: |i, v| {
                let params = StsExchangeParams {
                    audience: v[0].clone(),
                    scopes: vec![v[1].clone()],
                    subject_token: v[2].clone(),
                    subject_token_type: Some(v[3].clone()),
                    impersonation: false,
                    options: Some(v[4].clone()),
                    client_id: Some(v[5].clone()),
                    client_secret: Some(v[6].clone()),
                };
                Ok(request(i.api.cloudauth_auth_gcp().call_sts_exchange_request(&mut i.store, &params)?))
            },
        },
        Builder {
            name: "gcp.impersonation-request",
            params: &[
                ("service account", "wirecap-sa@my-project.iam.gserviceaccount.com"),
                ("*access token", "ya29.SECRETMARKER"),
                ("scope", "https://www.googleapis.com/auth/cloud-platform"),
                ("delegate", "projects/-/serviceAccounts/delegate@my-project.iam.gserviceaccount.com"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_gcp().call_impersonation_request(
                    &mut i.store,
                    &v[0],
                    &v[1],
                    &v[2..3],
                    Some(3600),
                    &v[3..4],
                )?))
            },
        },
        Builder {
            name: "gcp.metadata-token-request",
            params: &[
                ("scope", "https://www.googleapis.com/auth/cloud-platform"),
                ("service account", "wirecap-sa@my-project.iam.gserviceaccount.com"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_gcp().call_metadata_token_request(
                    &mut i.store,
                    &v[0..1],
                    Some(&v[1]),
                )?))
            },
        },
        Builder {
            name: "kubernetes.token-request",
            params: &[
                ("api server", "https://10.0.0.1:6443/k8s/clusters/c-1"),
                ("namespace", "default"),
                ("service account", "workload-sa"),
                ("audience", "sts.amazonaws.com"),
                ("*bearer token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjIn0.SECRETMARKER"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_kubernetes().call_token_request(
                    &mut i.store,
                    &v[0],
                    &v[1],
                    &v[2],
                    &v[3..4],
                    Some(3600),
                    Some(&v[4]),
                )?))
            },
        },
        Builder {
            name: "oci.token-request",
            params: &[
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:library/alpine:pull"),
                ("username", "robot"),
                ("*password", "SECRETMARKER-password"),
            ],
            call: |i, v| {
                Ok(request(i.api.cloudauth_auth_oci().call_token_request(
                    &mut i.store,
                    &v[0],
                    Some(&v[1]),
                    &v[2..3],
                    Some(&v[3]),
                    Some(&v[4]),
                )?))
            },
        },
        Builder {
            name: "oci.parse-challenge",
            params: &[(
                "header",
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull repository:c:pull,push""#,
            )],
            call: |i, v| {
                Ok(i.api.cloudauth_auth_oci().call_parse_challenge(&mut i.store, &v[0])?.map(|c| {
                    let mut all = vec![c.scheme];
                    all.extend(c.realm);
                    all.extend(c.service);
                    all.extend(c.scopes);
                    Built::Texts(all)
                }))
            },
        },
        Builder {
            name: "resolve.resolve-registry",
            params: &[("reference", "myregistry.azurecr.io/team/app:v1")],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_resolve()
                    .call_resolve_registry(&mut i.store, &v[0], None)?
                    .map(|t| Built::Text(t.registry)))
            },
        },
        Builder {
            name: "resolve.resolve-registry (custom cloud)",
            params: &[
                (
                    "reference",
                    "myregistry.azurecr.contoso.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                ),
                CUSTOM_ENV_PARAMS[0],
                CUSTOM_ENV_PARAMS[1],
                CUSTOM_ENV_PARAMS[2],
            ],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_resolve()
                    .call_resolve_registry(&mut i.store, &v[0], Some(&custom_env(&v[1..])))?
                    .map(|t| Built::Text(t.registry)))
            },
        },
        Builder {
            name: "resolve.registry-scopes (custom cloud)",
            params: &[
                ("reference", "oci://myregistry.azurecr.contoso.example"),
                CUSTOM_ENV_PARAMS[0],
                CUSTOM_ENV_PARAMS[1],
                CUSTOM_ENV_PARAMS[2],
            ],
            call: |i, v| {
                Ok(i.api
                    .cloudauth_auth_resolve()
                    .call_registry_scopes(&mut i.store, &v[0], Some(&custom_env(&v[1..])))?
                    .map(Built::Texts))
            },
        },
    ]
}
