//! Whose credentials a flow gets, per provider: read from the host's
//! environment (controller-level identity) or from a service account's
//! annotations (object-level workload identity), with fluxcd/pkg's annotation
//! keys, checks and error texts.
//!
//! The result is an identity *plan*: which token to get and how, decided
//! before the first request so that every later step (and the routing guard)
//! works from the same validated values.

use crate::aws::container;
use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::sts;
use crate::azure::cloud::{AzureCloud, authority_host};
use crate::azure::entra;
use crate::azure::imds::ManagedIdentity;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, excerpt};
use crate::host::Authority;
use crate::http::HttpRequest;
use crate::local_endpoint::LocalEndpoint;
use crate::registry::Provider;
use crate::secret::Secret;

use super::aws_profile::{PendingProfile, ProfileIdentity};
use super::flow::{Action, Carries, Outbound};
use super::outcome::IdentityTokenRequest;
use super::request::{Identity, Options, ServiceAccount};

/// The provider identity, planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderIdentity {
    Azure(AzureIdentity),
    Aws(AwsPlan),
    Gcp(GcpIdentity),
    /// The Kubernetes token itself; None for generic registries, which use
    /// the registry's own credentials.
    Generic(Option<TokenSource>),
}

impl ProviderIdentity {
    pub fn provider(&self) -> Provider {
        match self {
            ProviderIdentity::Azure(_) => Provider::Azure,
            ProviderIdentity::Aws(_) => Provider::Aws,
            ProviderIdentity::Gcp(_) => Provider::Gcp,
            ProviderIdentity::Generic(_) => Provider::Generic,
        }
    }
}

/// Flux's feature gate error.
pub const ERR_OBJECT_LEVEL_DISABLED: &str = "ObjectLevelWorkloadIdentity feature gate is not enabled";

/// Audience of the service-account token AWS STS takes.
pub const AWS_AUDIENCE: &str = "sts.amazonaws.com";
/// Audience of the service-account token Entra takes as a client assertion.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the token to exchange comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The host's own projected token, from the file the SDK convention names.
    File(String),
    /// A token the host issues for this service account (TokenRequest).
    ServiceAccount { namespace: String, name: String },
    /// A token of the host's own Kubernetes service account, issued for
    /// the audience (the generic provider's controller-level identity).
    Host,
    /// An OIDC ID token from an Actions-style CI, requested for the
    /// audience from `ACTIONS_ID_TOKEN_REQUEST_URL` with
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (an HTTP step instead of
    /// `fetch-identity-token`).
    Actions { endpoint: LocalEndpoint, request_token: Secret },
}

impl TokenSource {
    fn of(sa: &ServiceAccount) -> Self {
        TokenSource::ServiceAccount { namespace: sa.namespace.clone(), name: sa.name.clone() }
    }

    /// What to ask the host for.
    pub fn request(&self, audience: &str) -> IdentityTokenRequest {
        match self {
            TokenSource::File(path) => {
                IdentityTokenRequest { audience: audience.to_owned(), service_account: None, file: Some(path.clone()) }
            }
            TokenSource::ServiceAccount { namespace, name } => IdentityTokenRequest {
                audience: audience.to_owned(),
                service_account: Some((namespace.clone(), name.clone())),
                file: None,
            },
            TokenSource::Host | TokenSource::Actions { .. } => {
                IdentityTokenRequest { audience: audience.to_owned(), service_account: None, file: None }
            }
        }
    }

    /// What the flow does to get the token: ask the host for it, or (an
    /// Actions CI) request it over HTTP.
    pub fn action(&self, audience: &str) -> Result<Action> {
        match self {
            TokenSource::Actions { endpoint, request_token } => Ok(Action::Send(Outbound {
                request: crate::actions_oidc::request(endpoint, request_token, audience)?,
                carries: Carries::LocalCredential,
            })),
            other => Ok(Action::FetchIdentityToken(other.request(audience))),
        }
    }

    /// The CI token endpoint, when the token comes from one.
    pub fn endpoint(&self) -> Option<&LocalEndpoint> {
        match self {
            TokenSource::Actions { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, when
    /// both are set; one without the other is an error naming them.
    fn actions(options: &Options) -> Result<Option<TokenSource>> {
        match (options.env("ACTIONS_ID_TOKEN_REQUEST_URL")?, options.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")?) {
            (Some(url), Some(token)) => Ok(Some(TokenSource::Actions {
                endpoint: crate::actions_oidc::endpoint(url)?,
                request_token: Secret::new(token),
            })),
            (None, None) => Ok(None),
            _ => Err(Error::invalid(
                "Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN must be set together (the job needs the 'id-token: write' permission)",
            )),
        }
    }
}

/// The service account of an object-level request, after Flux's checks: the
/// provider reads the annotations first (so their errors come first, as in
/// Flux), then the feature gate decides.
fn object_level<'a, T>(
    identity: &'a Identity,
    options: &Options,
    read_annotations: impl FnOnce(&'a ServiceAccount) -> Result<T, String>,
) -> Result<Option<(&'a ServiceAccount, T)>> {
    let Identity::ServiceAccount(sa) = identity else { return Ok(None) };
    let value = read_annotations(sa).map_err(|why| {
        Error::invalid(format!(
            "failed to get provider identity from service account '{}/{}' annotations: {why}",
            sa.namespace, sa.name
        ))
    })?;
    if !options.object_level_workload_identity {
        return Err(Error::invalid(ERR_OBJECT_LEVEL_DISABLED));
    }
    Ok(Some((sa, value)))
}

// ---------------------------------------------------------------- Azure

/// How an Azure token is obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AzureIdentity {
    /// A federated credential: a token from `token` is the client assertion
    /// of an Entra client-credentials request.
    WorkloadIdentity { tenant_id: String, client_id: String, authority: entra::Authority, token: TokenSource },
    /// The instance metadata service (managed identity).
    ManagedIdentity(ManagedIdentity),
    /// `EnvironmentCredential` with `AZURE_CLIENT_SECRET`: the client
    /// credentials grant with the secret.
    ClientSecret { tenant_id: String, client_id: String, authority: entra::Authority, secret: Secret },
    /// `EnvironmentCredential` with `AZURE_CLIENT_CERTIFICATE_PATH`: the
    /// file (PEM key and certificate) is read when the flow runs, and a
    /// client assertion signed with it is the credential.
    ClientCertificate {
        tenant_id: String,
        client_id: String,
        authority: entra::Authority,
        path: String,
        send_chain: bool,
    },
    /// App Service / Functions managed identity: the local endpoint of
    /// `IDENTITY_ENDPOINT` with the `IDENTITY_HEADER` secret.
    AppService { endpoint: LocalEndpoint, header: Secret, id: ManagedIdentity },
}

impl AzureIdentity {
    /// Plans the Azure identity in `cloud` (whose Entra authority is the
    /// default when `AZURE_AUTHORITY_HOST` is not set).
    ///
    /// Controller level follows Flux's chain without shell-out: a client
    /// secret or certificate (`EnvironmentCredential`) is not supported
    /// here; workload identity when `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE` are set; else managed identity, with
    /// `AZURE_CLIENT_ID` as the user-assigned identity if set.
    pub fn plan(identity: &Identity, options: &Options, cloud: AzureCloud) -> Result<Self> {
        let authority = azure_authority(options, cloud)?;
        if let Some((sa, (tenant_id, client_id))) = object_level(identity, options, azure_annotations)? {
            return Ok(AzureIdentity::WorkloadIdentity {
                tenant_id,
                client_id,
                authority: authority?,
                token: TokenSource::of(sa),
            });
        }
        let client_id = options.env("AZURE_CLIENT_ID")?;
        let tenant_id = options.env("AZURE_TENANT_ID")?;
        if let Some(environment) = environment_credential(options, client_id, tenant_id, &authority)? {
            return Ok(environment);
        }
        let federated = match options.env("AZURE_FEDERATED_TOKEN_FILE")? {
            Some(file) => Some(TokenSource::File(file.to_owned())),
            // An Actions CI's ID token is the client assertion (azure/login's OIDC).
            None if client_id.is_some() && tenant_id.is_some() => TokenSource::actions(options)?,
            None => None,
        };
        match (client_id, tenant_id, federated) {
            (Some(client_id), Some(tenant_id), Some(token)) => {
                check_azure_id("AZURE_TENANT_ID", tenant_id)?;
                check_azure_id("AZURE_CLIENT_ID", client_id)?;
                Ok(AzureIdentity::WorkloadIdentity {
                    tenant_id: tenant_id.to_owned(),
                    client_id: client_id.to_owned(),
                    authority: authority?,
                    token,
                })
            }
            (client_id, ..) => {
                let id = match client_id {
                    Some(id) => {
                        check_azure_id("AZURE_CLIENT_ID", id)?;
                        ManagedIdentity::ClientId(id.to_owned())
                    }
                    None => ManagedIdentity::SystemAssigned,
                };
                managed_identity(options, id)
            }
        }
    }

    /// The identity part of the cache key, when the identity is not the
    /// default one.
    pub fn describe(&self) -> Option<String> {
        match self {
            AzureIdentity::WorkloadIdentity { tenant_id, client_id, authority, .. } => {
                let authority = match authority {
                    entra::Authority::Cloud(c) => c.name().to_owned(),
                    entra::Authority::Host(h) => h.clone(),
                };
                Some(format!("{tenant_id}/{client_id}@{authority}"))
            }
            AzureIdentity::ManagedIdentity(ManagedIdentity::SystemAssigned) => None,
            AzureIdentity::ManagedIdentity(id) => Some(format!("managed:{id:?}")),
            AzureIdentity::ClientSecret { tenant_id, client_id, authority, .. } => {
                let authority = match authority {
                    entra::Authority::Cloud(c) => c.name().to_owned(),
                    entra::Authority::Host(h) => h.clone(),
                };
                Some(format!("secret:{tenant_id}/{client_id}@{authority}"))
            }
            // The path, not the contents: the file is read when the flow
            // runs, after the key is computed (as Flux keys a certificate
            // credential by its configuration, not by the key).
            AzureIdentity::ClientCertificate { tenant_id, client_id, authority, path, send_chain } => {
                let authority = match authority {
                    entra::Authority::Cloud(c) => c.name().to_owned(),
                    entra::Authority::Host(h) => h.clone(),
                };
                let chain = if *send_chain { ":x5c" } else { "" };
                Some(format!("certificate:{tenant_id}/{client_id}@{authority}:{path}{chain}"))
            }
            AzureIdentity::AppService { endpoint, id, .. } => Some(format!("app-service:{}:{id:?}", endpoint.url)),
        }
    }

    /// The Flux provider identity of an object-level plan, `<tenant>/<client>`.
    pub fn provider_identity(&self) -> String {
        match self {
            AzureIdentity::WorkloadIdentity { tenant_id, client_id, .. } => format!("{tenant_id}/{client_id}"),
            _ => String::new(),
        }
    }
}

/// azure-identity's `EnvironmentCredential`, first in Flux's chain: with
/// `AZURE_CLIENT_SECRET` the client secret; else with
/// `AZURE_CLIENT_CERTIFICATE_PATH` the client certificate (a PEM file;
/// `AZURE_CLIENT_CERTIFICATE_PASSWORD`, for PKCS#12 or an encrypted key, is
/// `unsupported`). None when neither is set. Configured but
/// incomplete (no tenant or client id) is an error naming the source, where
/// Flux would go on to the next credential silently.
fn environment_credential(
    options: &Options,
    client_id: Option<&str>,
    tenant_id: Option<&str>,
    authority: &Result<entra::Authority>,
) -> Result<Option<AzureIdentity>> {
    let secret = options.env("AZURE_CLIENT_SECRET")?;
    let certificate = options.env("AZURE_CLIENT_CERTIFICATE_PATH")?;
    if secret.is_none() && certificate.is_none() {
        return Ok(None);
    }
    let (Some(tenant_id), Some(client_id)) = (tenant_id, client_id) else {
        return Err(Error::invalid(
            "EnvironmentCredential: AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is set, but AZURE_TENANT_ID and AZURE_CLIENT_ID are not both set",
        ));
    };
    check_azure_id("AZURE_TENANT_ID", tenant_id)?;
    check_azure_id("AZURE_CLIENT_ID", client_id)?;
    let authority = authority.clone().map_err(|e| Error::invalid(format!("EnvironmentCredential: {e}")))?;
    let Some(secret) = secret else {
        if options.env("AZURE_CLIENT_CERTIFICATE_PASSWORD")?.is_some() {
            return Err(Error::unsupported(
                "EnvironmentCredential: AZURE_CLIENT_CERTIFICATE_PASSWORD is set, but password-protected certificates (PKCS#12 or an encrypted PEM key) are not supported; use a PEM file with an unencrypted private key",
            ));
        }
        let path = certificate.unwrap_or_default();
        crate::http::check_non_empty("AZURE_CLIENT_CERTIFICATE_PATH", path)?;
        // azidentity's test: "1" or "true" in any case; anything else is false.
        let send_chain = options
            .env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")?
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        return Ok(Some(AzureIdentity::ClientCertificate {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            authority,
            path: path.to_owned(),
            send_chain,
        }));
    };
    Ok(Some(AzureIdentity::ClientSecret {
        tenant_id: tenant_id.to_owned(),
        client_id: client_id.to_owned(),
        authority,
        secret: Secret::new(secret),
    }))
}

/// azure-identity's `ManagedIdentityCredential` source: App Service /
/// Functions when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set, else
/// IMDS. Service Fabric (`IDENTITY_SERVER_THUMBPRINT`), Azure Arc
/// (`IMDS_ENDPOINT`) and Cloud Shell (`MSI_ENDPOINT`) are `unsupported`, and
/// an `IDENTITY_ENDPOINT` without its header is an error: each would
/// otherwise silently become IMDS.
fn managed_identity(options: &Options, id: ManagedIdentity) -> Result<AzureIdentity> {
    let endpoint = options.env("IDENTITY_ENDPOINT")?;
    let header = options.env("IDENTITY_HEADER")?;
    if options.env("MSI_ENDPOINT")?.is_some() && endpoint.is_none() {
        return Err(Error::unsupported("managed identity: Cloud Shell and Azure ML (MSI_ENDPOINT) are not supported"));
    }
    let Some(endpoint) = endpoint else {
        return Ok(AzureIdentity::ManagedIdentity(id));
    };
    if options.env("IMDS_ENDPOINT")?.is_some() && header.is_none() {
        return Err(Error::unsupported(
            "managed identity: Azure Arc (IDENTITY_ENDPOINT with IMDS_ENDPOINT) is not supported",
        ));
    }
    let Some(header) = header else {
        return Err(Error::invalid(
            "App Service managed identity: IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not",
        ));
    };
    if options.env("IDENTITY_SERVER_THUMBPRINT")?.is_some() {
        return Err(Error::unsupported(
            "managed identity: Service Fabric (IDENTITY_SERVER_THUMBPRINT) is not supported",
        ));
    }
    Ok(AzureIdentity::AppService {
        endpoint: crate::azure::app_service::endpoint(endpoint)?,
        header: Secret::new(header),
        id,
    })
}

/// The Entra authority: `AZURE_AUTHORITY_HOST` (the SDKs' override), else the
/// cloud's. The outer error is a bad variable; the inner one (a custom cloud
/// has no known authority) only matters when workload identity is used.
fn azure_authority(options: &Options, cloud: AzureCloud) -> Result<Result<entra::Authority>> {
    if let Some(host) = options.env("AZURE_AUTHORITY_HOST")? {
        let authority = entra::Authority::Host(host.to_owned());
        authority.base_url()?;
        return Ok(Ok(authority));
    }
    Ok(authority_host(cloud).map(|_| entra::Authority::Cloud(cloud)))
}

/// `azure.workload.identity/tenant-id` and `client-id`, tenant first, as Flux
/// reads them. Flux only checks presence; both end up in the token request
/// (the tenant in its path), so their characters are checked too.
fn azure_annotations(sa: &ServiceAccount) -> Result<(String, String), String> {
    const TENANT: &str = "azure.workload.identity/tenant-id";
    const CLIENT: &str = "azure.workload.identity/client-id";
    let tenant = sa
        .annotation(TENANT)
        .ok_or_else(|| format!("azure tenant ID is not set in the service account annotation {TENANT}"))?;
    let client = sa
        .annotation(CLIENT)
        .ok_or_else(|| format!("azure client ID is not set in the service account annotation {CLIENT}"))?;
    for (key, value) in [(TENANT, tenant), (CLIENT, client)] {
        if !is_azure_id(value) {
            return Err(format!("invalid {key} annotation: '{}'. must be a GUID or a domain name", excerpt(value)));
        }
    }
    Ok((tenant.to_owned(), client.to_owned()))
}

/// Tenant and client ids: GUIDs, or (tenants) verified domain names, so
/// dot-separated labels of letters, digits and `-` (no empty label: the
/// tenant becomes a path segment, where `..` would climb).
fn is_azure_id(value: &str) -> bool {
    (1..=253).contains(&value.len())
        && value
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn check_azure_id(name: &str, value: &str) -> Result<()> {
    if is_azure_id(value) {
        Ok(())
    } else {
        Err(Error::invalid(format!("environment variable {name} must be a GUID or a domain name")))
    }
}

// ---------------------------------------------------------------- AWS

/// How AWS credentials are obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsIdentity {
    /// Keys from the environment, used as they are.
    StaticKeys(AwsCredentials),
    /// STS AssumeRoleWithWebIdentity with a token from `token`.
    WebIdentity { role_arn: String, session_name: String, token: TokenSource },
    /// The EC2 instance metadata service (IMDSv2).
    InstanceMetadata,
    /// Container credentials (ECS, EKS Pod Identity): a GET to the
    /// endpoint with the authorization token, if any.
    Container { endpoint: container::Endpoint, token: ContainerToken },
    /// The shared `config` / `credentials` files, not read yet: the session
    /// reads them before any request (`super::configure`) and replaces this
    /// with what the profile says.
    SharedConfig(Box<PendingProfile>),
    /// A shared config profile that assumes roles: its base credentials,
    /// then `AssumeRole` for each role.
    Profile(Box<ProfileIdentity>),
}

/// Where the container credentials' authorization token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerToken {
    /// No token (ECS task roles need none).
    None,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Value(Secret),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read when the flow runs
    /// (EKS Pod Identity rotates it).
    File(String),
}

/// The STS endpoint: resolved from the region, or configured explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StsEndpoint {
    Resolved(EndpointOptions),
    /// A validated `https://host` (Flux's `sts-endpoint` / `STSEndpoint`).
    Explicit(String),
}

impl StsEndpoint {
    /// The options the STS request is built with: an explicit endpoint
    /// replaces the resolved address afterwards, so it resolves plainly.
    pub fn request_options(&self) -> EndpointOptions {
        match self {
            StsEndpoint::Resolved(options) => *options,
            StsEndpoint::Explicit(_) => EndpointOptions::default(),
        }
    }
}

/// An AWS identity plan and where its STS calls go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsPlan {
    pub identity: AwsIdentity,
    /// The STS region.
    pub region: String,
    pub sts: StsEndpoint,
}

const ROLE_ARN_KEY: &str = "eks.amazonaws.com/role-arn";
const ROLE_ARN_PATTERN: &str = r"^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$";
const STS_ENDPOINT_PATTERN: &str = r"^https://(.+\.)?sts(-fips)?(\.[^.]+)?(\.vpce)?\.amazonaws\.com$";

pub(super) const ERR_NO_CONTROLLER_REGION: &str = "AWS_REGION environment variable is not set in the Flux controller. if you have properly configured IAM Roles for Service Accounts (IRSA) or EKS Pod Identity, please delete/replace the controller pod so the EKS admission controllers can inject this environment variable, or set it manually if the cluster is not EKS";
const ERR_NO_OBJECT_REGION: &str =
    "an AWS region is required for authenticating with a service account. please configure one in the object spec";

impl AwsPlan {
    /// Plans the AWS identity. `region` is the one the target implies (the
    /// ECR or EKS region), which Flux uses as the STS region; without it the
    /// region is `AWS_REGION` (for an object-level identity too, since a
    /// session request has no region field of its own).
    ///
    /// Controller level follows the Go SDK's chain: static keys
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
    /// then web identity (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
    /// `AWS_ROLE_SESSION_NAME`), then EC2 IMDSv2.
    pub fn plan(identity: &Identity, options: &Options, region: Option<&str>, now: i64) -> Result<Self> {
        let sts = sts_endpoint(options)?;
        let object = object_level(identity, options, |sa| role_arn(sa.annotation(ROLE_ARN_KEY).unwrap_or_default()))?;
        let region = match (region, options.env("AWS_REGION")?) {
            (Some(r), _) | (None, Some(r)) => Some(r.to_owned()),
            (None, None) if object.is_some() => return Err(Error::invalid(ERR_NO_OBJECT_REGION)),
            (None, None) => None,
        };
        let identity = match (object, &region) {
            (Some((sa, role_arn)), Some(region)) => {
                let session_name = format!("{}.{}.{region}.fluxcd.io", sa.name, sa.namespace);
                AwsIdentity::WebIdentity { role_arn, session_name, token: TokenSource::of(sa) }
            }
            _ => controller_aws_identity(options, now)?,
        };
        let region = match region {
            Some(region) => region,
            // The profile may name it: `aws_profile::configure` decides.
            None if matches!(identity, AwsIdentity::SharedConfig(_)) => String::new(),
            None => return Err(Error::invalid(ERR_NO_CONTROLLER_REGION)),
        };
        if let AwsIdentity::WebIdentity { role_arn, session_name, .. } = &identity {
            // STS's own checks (IAM role ARN, session name of 2 to 64
            // characters, a region with an STS endpoint), now rather than
            // after the host fetched a token.
            sts::check_role_arn(role_arn)?;
            sts::check_session_name(session_name)?;
            endpoint::resolve(Service::Sts, &region, sts.request_options())?;
        }
        Ok(AwsPlan { identity, region, sts })
    }

    /// The AssumeRoleWithWebIdentity request with `token`, to the configured
    /// STS endpoint when there is one (the request is unsigned: the token is
    /// the credential, so only its address changes).
    pub fn sts_request(&self, token: &Secret) -> Result<HttpRequest> {
        let AwsIdentity::WebIdentity { role_arn, session_name, .. } = &self.identity else {
            return Err(Error::invalid("this AWS identity makes no STS web identity request"));
        };
        let mut request = sts::web_identity_request(&sts::WebIdentityParams {
            region: &self.region,
            role_arn,
            role_session_name: session_name,
            web_identity_token: token,
            duration_seconds: None,
            policy_arns: &[],
            endpoint: self.sts.request_options(),
        })?;
        if let StsEndpoint::Explicit(base) = &self.sts {
            request.url = rebase(&request.url, base)?;
        }
        Ok(request)
    }

    /// True when the credentials come from STS calls (web identity or
    /// roles), which need the region's STS endpoint.
    pub fn makes_sts_calls(&self) -> bool {
        matches!(self.identity, AwsIdentity::WebIdentity { .. } | AwsIdentity::Profile(_))
    }

    /// The endpoint options STS requests are built with.
    pub fn sts_options(&self) -> EndpointOptions {
        self.sts.request_options()
    }

    /// The identity part of the cache key, when the identity is not the
    /// default one (IMDS).
    pub fn describe(&self) -> Option<String> {
        match &self.identity {
            AwsIdentity::SharedConfig(pending) => Some(pending.describe()),
            AwsIdentity::Profile(profile) => Some(profile.key.clone()),
            AwsIdentity::StaticKeys(c) => Some(format!("accessKeyID={}", c.access_key_id)),
            // The role alone, as Flux keys it: the session name does not change
            // what the credentials can do, and the SDK's default one carries
            // the time, which would make every key new.
            AwsIdentity::WebIdentity { role_arn, .. } => Some(role_arn.clone()),
            AwsIdentity::InstanceMetadata => None,
            AwsIdentity::Container { endpoint, .. } => Some(format!("container:{}", endpoint.url)),
        }
    }

    /// The Flux provider identity of an object-level plan: the role ARN.
    pub fn provider_identity(&self) -> String {
        match &self.identity {
            AwsIdentity::WebIdentity { role_arn, .. } => role_arn.clone(),
            _ => String::new(),
        }
    }
}

/// `url` with its scheme and authority replaced by `base` (`https://host`).
fn rebase(url: &str, base: &str) -> Result<String> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| Error::invalid("the STS request has no absolute URL"))?;
    let path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    Ok(format!("{base}{path}"))
}

fn controller_aws_identity(options: &Options, now: i64) -> Result<AwsIdentity> {
    let key_id = options.env("AWS_ACCESS_KEY_ID")?;
    let secret = options.env("AWS_SECRET_ACCESS_KEY")?;
    match (key_id, secret) {
        (Some(key_id), Some(secret)) => {
            return Ok(AwsIdentity::StaticKeys(AwsCredentials {
                access_key_id: key_id.to_owned(),
                secret_access_key: Secret::new(secret),
                session_token: options.env("AWS_SESSION_TOKEN")?.map(Secret::new),
                expires_at: None,
            }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::invalid("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"));
        }
        (None, None) => {}
    }
    let token_file = match options.env("AWS_WEB_IDENTITY_TOKEN_FILE")? {
        Some(file) => Some(TokenSource::File(file.to_owned())),
        // An Actions CI's ID token is the web identity token
        // (aws-actions/configure-aws-credentials' OIDC).
        None if options.env("AWS_ROLE_ARN")?.is_some() => TokenSource::actions(options)?,
        None => None,
    };
    match (options.env("AWS_ROLE_ARN")?, token_file) {
        (Some(arn), Some(token)) => {
            let role_arn = role_arn(arn).map_err(Error::invalid)?;
            let session_name = match options.env("AWS_ROLE_SESSION_NAME")? {
                Some(name) => name.to_owned(),
                // The Go SDK's default: `aws-go-sdk-` and the time in nanoseconds.
                None => default_session_name(now)?,
            };
            Ok(AwsIdentity::WebIdentity { role_arn, session_name, token })
        }
        (Some(_), None) => Err(Error::invalid(
            "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE (or an Actions OIDC token, ACTIONS_ID_TOKEN_REQUEST_URL) is not",
        )),
        (None, Some(_)) => Err(Error::invalid("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")),
        (None, None) => match PendingProfile::plan(options, now)? {
            // The shared files come next in the chain.
            Some(pending) => Ok(AwsIdentity::SharedConfig(Box::new(pending))),
            None => Ok(container_identity(options)?.unwrap_or(AwsIdentity::InstanceMetadata)),
        },
    }
}

/// The Go SDK's default role session name: `aws-go-sdk-` and the time in
/// nanoseconds.
pub(super) fn default_session_name(now: i64) -> Result<String> {
    let nanos = now.checked_mul(1_000_000_000).ok_or_else(|| Error::invalid("now is out of range"))?;
    Ok(format!("aws-go-sdk-{nanos}"))
}

/// Container credentials, as the SDKs and Tools reference guide orders
/// them: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on the ECS endpoint),
/// else `AWS_CONTAINER_CREDENTIALS_FULL_URI` (an allowed host only); the
/// token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. None when neither URI is set.
pub(super) fn container_identity(options: &Options) -> Result<Option<AwsIdentity>> {
    let endpoint = match (
        options.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")?,
        options.env("AWS_CONTAINER_CREDENTIALS_FULL_URI")?,
    ) {
        (Some(path), _) => container::relative(path)?,
        (None, Some(uri)) => container::full(uri)?,
        (None, None) => return Ok(None),
    };
    let token = match (
        options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")?,
        options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN")?,
    ) {
        (Some(file), _) => ContainerToken::File(file.to_owned()),
        (None, Some(value)) => {
            let token = Secret::new(value);
            container::check_token(&token, "AWS_CONTAINER_AUTHORIZATION_TOKEN")?;
            ContainerToken::Value(token)
        }
        (None, None) => ContainerToken::None,
    };
    Ok(Some(AwsIdentity::Container { endpoint, token }))
}

/// Flux's role ARN check, `^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$`.
fn role_arn(arn: &str) -> Result<String, String> {
    let bad = || format!("invalid {ROLE_ARN_KEY} annotation: '{}'. must match {ROLE_ARN_PATTERN}", excerpt(arn));
    let rest = arn.strip_prefix("arn:aws").ok_or_else(bad)?;
    let (partition_suffix, rest) = rest.split_once(":iam::").ok_or_else(bad)?;
    let (account, role) = rest.split_once(":role/").ok_or_else(bad)?;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let role_len = role.chars().count();
    let ok = partition_suffix.bytes().all(word)
        && (1..=30).contains(&account.len())
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=200).contains(&role_len)
        && !role.contains('\n');
    if ok { Ok(arn.to_owned()) } else { Err(bad()) }
}

/// The STS endpoint: the explicit one if configured (checked with Flux's
/// pattern), else resolved per region with the Go SDK's environment
/// switches.
fn sts_endpoint(options: &Options) -> Result<StsEndpoint> {
    if let Some(endpoint) = &options.sts_endpoint {
        return check_sts_endpoint(endpoint).map(StsEndpoint::Explicit);
    }
    Ok(StsEndpoint::Resolved(EndpointOptions {
        fips: options.env_flag("AWS_USE_FIPS_ENDPOINT")?,
        dualstack: options.env_flag("AWS_USE_DUALSTACK_ENDPOINT")?,
        legacy: false,
    }))
}

/// Flux's `ValidateSTSEndpoint`: `https://`, a host under `amazonaws.com`
/// whose last or second-to-last label before an optional `.vpce` is `sts`
/// or `sts-fips`, nothing after the host.
pub fn check_sts_endpoint(endpoint: &str) -> Result<String> {
    let bad =
        || Error::invalid(format!("invalid STS endpoint: '{}'. must match {STS_ENDPOINT_PATTERN}", excerpt(endpoint)));
    let host = endpoint.strip_prefix("https://").ok_or_else(bad)?;
    if host.contains(':') {
        return Err(bad());
    }
    let authority = Authority::parse(host).map_err(|_| bad())?;
    if authority.host() != host {
        return Err(bad());
    }
    let rest = host.strip_suffix(".amazonaws.com").ok_or_else(bad)?;
    let rest = rest.strip_suffix(".vpce").unwrap_or(rest);
    let labels: Vec<&str> = rest.split('.').collect();
    let is_sts = |l: &&str| *l == "sts" || *l == "sts-fips";
    let n = labels.len();
    let ok = labels.last().is_some_and(is_sts) || (n >= 2 && labels.get(n - 2).is_some_and(is_sts));
    if ok { Ok(endpoint.to_owned()) } else { Err(bad()) }
}

// ---------------------------------------------------------------- GCP

/// The audience of a GCP workload identity exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpAudience {
    /// Workload identity federation: `//iam.googleapis.com/projects/...`,
    /// the audience of both the service-account token and the exchange.
    Federation(String),
    /// GKE: the pool and provider come from the GKE metadata server.
    Gke,
}

/// How a Google token is obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpIdentity {
    /// The GCE metadata server (the node's or the host's service account).
    Metadata,
    /// STS exchange of a service-account token, then impersonation of
    /// `impersonate` when set (else the federated token is used directly).
    WorkloadIdentity { audience: GcpAudience, impersonate: Option<String>, token: TokenSource },
    /// `GOOGLE_APPLICATION_CREDENTIALS`, not read yet: the session reads
    /// the file before any request and replaces this with [`GcpIdentity::File`]
    /// (`super::configure`).
    CredentialsFile { path: String, aws: crate::gcp::adc::AwsEnvironment },
    /// A credentials file, read and parsed.
    File { path: String, credentials: Box<crate::gcp::adc::Credentials> },
}

const GCP_SA_KEY: &str = "iam.gke.io/gcp-service-account";
const GCP_SA_PATTERN: &str = r"^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$";
const GCP_WIP_KEY: &str = "gcp.auth.fluxcd.io/workload-identity-provider";
const GCP_WIP_PATTERN: &str =
    r"^projects/\d{1,30}/locations/global/workloadIdentityPools/[^/]{1,100}/providers/[^/]{1,100}$";

impl GcpIdentity {
    /// Plans the Google identity: the metadata server at controller level,
    /// else the service account's workload identity.
    pub fn plan(identity: &Identity, options: &Options) -> Result<Self> {
        let object = object_level(identity, options, |sa| Ok((gcp_audience(sa)?, gcp_service_account(sa)?)))?;
        if object.is_none()
            && let Some(path) = options.env("GOOGLE_APPLICATION_CREDENTIALS")?
        {
            // Application default credentials read the file before asking
            // the metadata server (an empty variable counts as unset, as in
            // google-auth).
            return Ok(GcpIdentity::CredentialsFile { path: path.to_owned(), aws: gcp_aws_environment(options)? });
        }
        Ok(match object {
            Some((sa, (audience, impersonate))) => {
                GcpIdentity::WorkloadIdentity { audience, impersonate, token: TokenSource::of(sa) }
            }
            None => GcpIdentity::Metadata,
        })
    }

    /// The Flux provider identity of an object-level plan: the e-mail, or
    /// empty for direct access.
    pub fn provider_identity(&self) -> String {
        match self {
            GcpIdentity::WorkloadIdentity { impersonate: Some(email), .. } => email.clone(),
            _ => String::new(),
        }
    }

    /// The controller identity the cache key names: the credentials file
    /// (its path: the file is only read on a cache miss).
    pub fn describe(&self) -> Option<String> {
        match self {
            GcpIdentity::CredentialsFile { path, .. } | GcpIdentity::File { path, .. } => {
                Some(format!("gcp-credentials-file:{path}"))
            }
            _ => None,
        }
    }

    /// The service-account token audience as the cache key names it. On GKE
    /// it is only known after the metadata lookup, and it is fixed per
    /// cluster, so a stable marker stands in for it.
    pub fn key_audience(&self) -> String {
        match self {
            GcpIdentity::WorkloadIdentity { audience: GcpAudience::Federation(a), .. } => a.clone(),
            _ => "gke-workload-identity-pool".to_owned(),
        }
    }
}

/// What an AWS credential source of a Google credentials file takes from
/// the environment, as google-auth reads it.
fn gcp_aws_environment(options: &Options) -> Result<crate::gcp::adc::AwsEnvironment> {
    let region = match options.env("AWS_REGION")? {
        Some(r) => Some(r),
        None => options.env("AWS_DEFAULT_REGION")?,
    };
    let credentials = match (options.env("AWS_ACCESS_KEY_ID")?, options.env("AWS_SECRET_ACCESS_KEY")?) {
        (Some(id), Some(secret)) => Some(AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: options.env("AWS_SESSION_TOKEN")?.map(Secret::new),
            expires_at: None,
        }),
        _ => None,
    };
    Ok(crate::gcp::adc::AwsEnvironment { region: region.map(str::to_owned), credentials })
}

fn gcp_service_account(sa: &ServiceAccount) -> Result<Option<String>, String> {
    let email = sa.annotation(GCP_SA_KEY).unwrap_or_default();
    if email.is_empty() {
        return Ok(None);
    }
    let ok = email.strip_suffix(".iam.gserviceaccount.com").and_then(|s| s.split_once('@')).is_some_and(
        |(user, project)| {
            let part =
                |s: &str| (1..=100).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            part(user) && part(project)
        },
    );
    if ok {
        Ok(Some(email.to_owned()))
    } else {
        Err(format!("invalid {GCP_SA_KEY} annotation: '{}'. must match {GCP_SA_PATTERN}", excerpt(email)))
    }
}

fn gcp_audience(sa: &ServiceAccount) -> Result<GcpAudience, String> {
    let wip = sa.annotation(GCP_WIP_KEY).unwrap_or_default();
    if wip.is_empty() {
        return Ok(GcpAudience::Gke);
    }
    let bad = || format!("invalid {GCP_WIP_KEY} annotation: '{}'. must match {GCP_WIP_PATTERN}", excerpt(wip));
    if !wip.starts_with("projects/") {
        return Err(bad());
    }
    crate::gcp::workload_identity_provider_audience(wip).map(GcpAudience::Federation).map_err(|_| bad())
}

// ---------------------------------------------------------------- generic

/// Where a generic provider's token (the Kubernetes token itself) comes from.
pub fn generic_token_source(identity: &Identity, options: &Options) -> Result<Option<TokenSource>> {
    Ok(object_level(identity, options, |_| Ok(()))?.map(|(sa, ())| TokenSource::of(sa)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(annotations: &[(&str, &str)]) -> Identity {
        Identity::ServiceAccount(ServiceAccount {
            namespace: "apps".into(),
            name: "puller".into(),
            annotations: annotations.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        })
    }

    fn env(vars: &[(&str, &str)]) -> Options {
        Options {
            environment: vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            object_level_workload_identity: true,
            ..Options::default()
        }
    }

    fn message(e: Error) -> String {
        match e {
            Error::InvalidInput(m) => m,
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }

    #[test]
    fn aws_object_level() {
        let id = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::123456789012:role/puller")]);
        let plan = AwsPlan::plan(&id, &env(&[]), Some("us-west-2"), 0).unwrap();
        assert_eq!(
            plan.identity,
            AwsIdentity::WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/puller".into(),
                session_name: "puller.apps.us-west-2.fluxcd.io".into(),
                token: TokenSource::ServiceAccount { namespace: "apps".into(), name: "puller".into() },
            }
        );
        assert_eq!(plan.provider_identity(), "arn:aws:iam::123456789012:role/puller");
        assert!(
            AwsPlan::plan(
                &sa(&[(ROLE_ARN_KEY, "arn:aws-us-gov:iam::123456789012:role/a/b")]),
                &env(&[]),
                Some("us-gov-west-1"),
                0
            )
            .is_ok()
        );

        let err = message(AwsPlan::plan(&sa(&[]), &env(&[]), Some("us-west-2"), 0).unwrap_err());
        assert_eq!(
            err,
            r"failed to get provider identity from service account 'apps/puller' annotations: invalid eks.amazonaws.com/role-arn annotation: ''. must match ^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$"
        );
        for bad in [
            "arn:aws:iam::12x:role/a",
            "arn:aws:iam::1:role/",
            "arn:aws:s3::1:role/a",
            "arn:aws!:iam::1:role/a",
            "xarn:aws:iam::1:role/a",
        ] {
            assert!(AwsPlan::plan(&sa(&[(ROLE_ARN_KEY, bad)]), &env(&[]), Some("us-west-2"), 0).is_err(), "{bad}");
        }
        assert_eq!(message(AwsPlan::plan(&id, &env(&[]), None, 0).unwrap_err()), ERR_NO_OBJECT_REGION);
        let mut off = env(&[]);
        off.object_level_workload_identity = false;
        assert_eq!(message(AwsPlan::plan(&id, &off, Some("us-west-2"), 0).unwrap_err()), ERR_OBJECT_LEVEL_DISABLED);
    }

    #[test]
    fn aws_controller_chain() {
        let keys = env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ]);
        let plan = AwsPlan::plan(&Identity::Controller, &keys, Some("us-east-1"), 0).unwrap();
        assert!(
            matches!(plan.identity, AwsIdentity::StaticKeys(ref c) if c.access_key_id == "AKID" && c.session_token.is_none())
        );

        let wi = env(&[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        let plan = AwsPlan::plan(&Identity::Controller, &wi, None, 1_700_000_000).unwrap();
        assert_eq!(plan.region, "eu-west-1");
        assert_eq!(
            plan.identity,
            AwsIdentity::WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                session_name: "aws-go-sdk-1700000000000000000".into(),
                token: TokenSource::File("/var/run/token".into()),
            }
        );
        // The cache identity does not move with the clock.
        let later = AwsPlan::plan(&Identity::Controller, &wi, None, 1_700_000_002).unwrap();
        assert_eq!(plan.describe(), later.describe());
        assert_eq!(plan.describe().as_deref(), Some("arn:aws:iam::123456789012:role/r"));
        let imds = AwsPlan::plan(&Identity::Controller, &env(&[]), Some("us-east-1"), 0).unwrap();
        assert_eq!(imds.identity, AwsIdentity::InstanceMetadata);
        assert_eq!(imds.describe(), None);
        assert_eq!(
            message(AwsPlan::plan(&Identity::Controller, &env(&[]), None, 0).unwrap_err()),
            ERR_NO_CONTROLLER_REGION
        );
        assert!(
            AwsPlan::plan(&Identity::Controller, &env(&[("AWS_ACCESS_KEY_ID", "A")]), Some("us-east-1"), 0).is_err()
        );
        assert!(
            AwsPlan::plan(
                &Identity::Controller,
                &env(&[("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")]),
                Some("us-east-1"),
                0
            )
            .is_err()
        );
    }

    #[test]
    fn rebase_keeps_path_and_query() {
        assert_eq!(
            rebase("https://sts.us-east-1.amazonaws.com/", "https://sts.amazonaws.com").unwrap(),
            "https://sts.amazonaws.com/"
        );
        assert_eq!(
            rebase("https://h/a?b=c", "https://x.sts.amazonaws.com").unwrap(),
            "https://x.sts.amazonaws.com/a?b=c"
        );
        assert_eq!(rebase("https://h", "https://x").unwrap(), "https://x/");
        assert!(rebase("nourl", "https://x").is_err());
    }

    #[test]
    fn sts_parameters_are_checked_at_plan_time() {
        // A session name over STS's 64 characters fails before any token is fetched.
        let long = Identity::ServiceAccount(ServiceAccount {
            namespace: "a-rather-long-namespace-name".into(),
            name: "and-a-rather-long-service-account-name".into(),
            annotations: vec![(ROLE_ARN_KEY.into(), "arn:aws:iam::123456789012:role/r".into())],
        });
        assert_eq!(AwsPlan::plan(&long, &env(&[]), Some("us-east-1"), 0).unwrap_err().kind(), "invalid-input");
        let bad_name = env(&[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/f"),
            ("AWS_ROLE_SESSION_NAME", "a b"),
        ]);
        assert!(AwsPlan::plan(&Identity::Controller, &bad_name, Some("us-east-1"), 0).is_err());
        // Flux's pattern takes a 1-digit account; STS wants 12 digits.
        let short_account = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::1:role/r")]);
        let err = AwsPlan::plan(&short_account, &env(&[]), Some("us-east-1"), 0).unwrap_err();
        assert_eq!(err, Error::invalid("\"arn:aws:iam::1:role/r\" is not an IAM role ARN"));
        // A region without an STS endpoint fails too, also with an explicit endpoint.
        let id = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::123456789012:role/r")]);
        let mut explicit = env(&[]);
        explicit.sts_endpoint = Some("https://sts.amazonaws.com".into());
        for options in [env(&[]), explicit] {
            assert!(AwsPlan::plan(&id, &options, Some("not-a-region"), 0).is_err());
            assert!(AwsPlan::plan(&id, &options, Some("us-east-1"), 0).is_ok());
        }
    }

    #[test]
    fn aws_container_credentials() {
        let plan = |vars: &[(&str, &str)]| AwsPlan::plan(&Identity::Controller, &env(vars), Some("us-east-1"), 0);
        let pod_identity = plan(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"),
        ])
        .unwrap();
        assert!(matches!(
            pod_identity.identity,
            AwsIdentity::Container { ref endpoint, token: ContainerToken::File(_) } if endpoint.url == "http://169.254.170.23/v1/credentials"
        ));
        assert_eq!(pod_identity.describe().as_deref(), Some("container:http://169.254.170.23/v1/credentials"));
        // The relative URI wins over the full one (SDKs and Tools reference guide).
        let ecs = plan(&[
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
        ])
        .unwrap();
        assert!(matches!(
            ecs.identity,
            AwsIdentity::Container { ref endpoint, token: ContainerToken::None } if endpoint.url == "http://169.254.170.2/v2/credentials/abc"
        ));
        // Static keys and web identity come first.
        let keys = plan(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
        ])
        .unwrap();
        assert!(matches!(keys.identity, AwsIdentity::StaticKeys(_)));
        // A host the SDKs do not allow, or a bad token, is invalid input.
        for bad in [
            vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example/v1/credentials")],
            vec![("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/no-slash")],
            vec![
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/creds"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nb"),
            ],
        ] {
            let err = plan(&bad).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{bad:?}");
            assert!(err.to_string().contains("AWS_CONTAINER"), "{err}");
        }
        let adc = env(&[("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/gcp/creds.json")]);
        assert_eq!(
            GcpIdentity::plan(&Identity::Controller, &adc).unwrap(),
            GcpIdentity::CredentialsFile { path: "/var/run/gcp/creds.json".into(), aws: Default::default() }
        );
        // Object-level identities do not read them.
        assert!(GcpIdentity::plan(&sa(&[]), &adc).is_ok());
    }

    #[test]
    fn sts_endpoints() {
        for ok in [
            "https://sts.amazonaws.com",
            "https://sts.us-east-1.amazonaws.com",
            "https://sts-fips.us-east-1.amazonaws.com",
            "https://vpce-002b7cc8966426bc6-njisq19r.sts.us-east-1.vpce.amazonaws.com",
            "https://vpce-002b7cc8966426bc6-njisq19r-us-east-1a.sts.us-east-1.vpce.amazonaws.com",
        ] {
            assert_eq!(check_sts_endpoint(ok).unwrap(), ok);
        }
        for bad in [
            "http://sts.amazonaws.com",
            "https://sts.amazonaws.com/",
            "https://sts.amazonaws.com:443",
            "https://evil.example/sts.amazonaws.com",
            "https://sts.amazonaws.com.evil.example",
            "https://u@sts.amazonaws.com",
            "https://sts.a.b.amazonaws.com",
            "https://STS.amazonaws.com",
            "https://ec2.amazonaws.com",
        ] {
            let err = message(check_sts_endpoint(bad).unwrap_err());
            assert!(err.starts_with(&format!("invalid STS endpoint: '{bad}'. must match ^https://")), "{err}");
        }
    }

    #[test]
    fn azure_modes() {
        let id = sa(&[
            ("azure.workload.identity/tenant-id", "72f988bf-0000-4000-8000-00000000a11e"),
            ("azure.workload.identity/client-id", "c1"),
        ]);
        let plan = AzureIdentity::plan(&id, &env(&[]), AzureCloud::China).unwrap();
        assert_eq!(plan.provider_identity(), "72f988bf-0000-4000-8000-00000000a11e/c1");
        assert!(matches!(
            plan,
            AzureIdentity::WorkloadIdentity { authority: entra::Authority::Cloud(AzureCloud::China), .. }
        ));

        let err = message(
            AzureIdentity::plan(&sa(&[("azure.workload.identity/client-id", "c")]), &env(&[]), AzureCloud::Public)
                .unwrap_err(),
        );
        assert!(
            err.ends_with(
                "azure tenant ID is not set in the service account annotation azure.workload.identity/tenant-id"
            ),
            "{err}"
        );
        let err = message(AzureIdentity::plan(&sa(&[]), &env(&[]), AzureCloud::Public).unwrap_err());
        assert!(err.ends_with("tenant-id"), "tenant is checked first: {err}");
        let err = message(
            AzureIdentity::plan(&sa(&[("azure.workload.identity/tenant-id", "t")]), &env(&[]), AzureCloud::Public)
                .unwrap_err(),
        );
        assert!(
            err.ends_with(
                "azure client ID is not set in the service account annotation azure.workload.identity/client-id"
            ),
            "{err}"
        );
        for bad in ["t/../x", "..", "a..b", "", "t?x", "t x"] {
            let annotations = [("azure.workload.identity/tenant-id", bad), ("azure.workload.identity/client-id", "c")];
            assert!(AzureIdentity::plan(&sa(&annotations), &env(&[]), AzureCloud::Public).is_err(), "{bad:?}");
        }

        let wi = env(&[
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ]);
        let plan = AzureIdentity::plan(&Identity::Controller, &wi, AzureCloud::Public).unwrap();
        assert!(
            matches!(plan, AzureIdentity::WorkloadIdentity { authority: entra::Authority::Host(ref h), token: TokenSource::File(ref f), .. } if h == "https://login.microsoftonline.us/" && f == "/f")
        );
        let mi =
            AzureIdentity::plan(&Identity::Controller, &env(&[("AZURE_CLIENT_ID", "c")]), AzureCloud::Public).unwrap();
        assert_eq!(mi, AzureIdentity::ManagedIdentity(ManagedIdentity::ClientId("c".into())));
        let mi = AzureIdentity::plan(&Identity::Controller, &env(&[]), AzureCloud::Custom).unwrap();
        assert_eq!(mi, AzureIdentity::ManagedIdentity(ManagedIdentity::SystemAssigned));
        // A custom cloud has no known authority host: workload identity needs AZURE_AUTHORITY_HOST.
        let wi_custom =
            env(&[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/f")]);
        assert!(AzureIdentity::plan(&Identity::Controller, &wi_custom, AzureCloud::Custom).is_err());
        assert!(
            AzureIdentity::plan(
                &Identity::Controller,
                &env(&[("AZURE_AUTHORITY_HOST", "http://login.example")]),
                AzureCloud::Public
            )
            .is_err()
        );
        // EnvironmentCredential: a secret without tenant and client fails, naming it.
        let err = AzureIdentity::plan(&Identity::Controller, &env(&[("AZURE_CLIENT_SECRET", "s")]), AzureCloud::Public)
            .unwrap_err();
        assert!(err.to_string().contains("EnvironmentCredential"), "{err}");
        let secret = env(&[
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]);
        let plan = AzureIdentity::plan(&Identity::Controller, &secret, AzureCloud::Public).unwrap();
        assert!(
            matches!(plan, AzureIdentity::ClientSecret { ref tenant_id, .. } if tenant_id == "t"),
            "the secret comes first"
        );
        assert!(!format!("{plan:?}").contains("\"s\""), "the secret is redacted: {plan:?}");
        let cert =
            env(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"), ("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t")]);
        let plan = AzureIdentity::plan(&Identity::Controller, &cert, AzureCloud::Public).unwrap();
        assert!(
            matches!(plan, AzureIdentity::ClientCertificate { ref path, send_chain: false, .. } if path == "/c.pem"),
            "{plan:?}"
        );
        let mut with = cert.clone();
        with.environment.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "true".into()));
        let chain = AzureIdentity::plan(&Identity::Controller, &with, AzureCloud::Public).unwrap();
        assert!(matches!(chain, AzureIdentity::ClientCertificate { send_chain: true, .. }));
        assert_ne!(chain.describe(), plan.describe());
        let mut bad = cert.clone();
        bad.environment.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "yes".into()));
        assert!(matches!(
            AzureIdentity::plan(&Identity::Controller, &bad, AzureCloud::Public).unwrap(),
            AzureIdentity::ClientCertificate { send_chain: false, .. }
        ));
        let mut password = cert.clone();
        password.environment.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD".into(), "p".into()));
        let err = AzureIdentity::plan(&Identity::Controller, &password, AzureCloud::Public).unwrap_err();
        assert_eq!(err.kind(), "unsupported");
        assert!(err.to_string().contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{err}");
        assert!(!err.to_string().contains("\"p\""), "{err}");
        // App Service managed identity, and the sources that are refused, not skipped.
        let app = env(&[
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", "h"),
            ("AZURE_CLIENT_ID", "c"),
        ]);
        let plan = AzureIdentity::plan(&Identity::Controller, &app, AzureCloud::Public).unwrap();
        assert!(matches!(plan, AzureIdentity::AppService { id: ManagedIdentity::ClientId(ref c), .. } if c == "c"));
        for (vars, kind) in [
            (vec![("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")], "invalid-input"),
            (vec![("IDENTITY_ENDPOINT", "http://evil.example/msi/token"), ("IDENTITY_HEADER", "h")], "invalid-input"),
            (
                vec![
                    ("IDENTITY_ENDPOINT", "https://10.0.0.4:2377/metadata/identity/oauth2/token"),
                    ("IDENTITY_HEADER", "h"),
                    ("IDENTITY_SERVER_THUMBPRINT", "t"),
                ],
                "unsupported",
            ),
            (
                vec![
                    ("IDENTITY_ENDPOINT", "http://localhost:40342/metadata/identity/oauth2/token"),
                    ("IMDS_ENDPOINT", "http://localhost:40342"),
                ],
                "unsupported",
            ),
            (vec![("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")], "unsupported"),
        ] {
            let err = AzureIdentity::plan(&Identity::Controller, &env(&vars), AzureCloud::Public).unwrap_err();
            assert_eq!(err.kind(), kind, "{vars:?}: {err}");
        }
    }

    #[test]
    fn gcp_modes() {
        assert_eq!(GcpIdentity::plan(&Identity::Controller, &env(&[])).unwrap(), GcpIdentity::Metadata);
        let direct = GcpIdentity::plan(&sa(&[]), &env(&[])).unwrap();
        assert_eq!(
            direct,
            GcpIdentity::WorkloadIdentity {
                audience: GcpAudience::Gke,
                impersonate: None,
                token: TokenSource::ServiceAccount { namespace: "apps".into(), name: "puller".into() }
            }
        );
        let wip = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
        let plan = GcpIdentity::plan(
            &sa(&[(GCP_WIP_KEY, wip), (GCP_SA_KEY, "puller@my-project.iam.gserviceaccount.com")]),
            &env(&[]),
        )
        .unwrap();
        assert!(
            matches!(plan, GcpIdentity::WorkloadIdentity { audience: GcpAudience::Federation(ref a), impersonate: Some(_), .. } if a == &format!("//iam.googleapis.com/{wip}"))
        );
        assert_eq!(plan.provider_identity(), "puller@my-project.iam.gserviceaccount.com");

        let err = message(GcpIdentity::plan(&sa(&[(GCP_SA_KEY, "puller@evil.example")]), &env(&[])).unwrap_err());
        assert!(
            err.ends_with(&format!(
                "invalid iam.gke.io/gcp-service-account annotation: 'puller@evil.example'. must match {GCP_SA_PATTERN}"
            )),
            "{err}"
        );
        let err = message(
            GcpIdentity::plan(&sa(&[(GCP_WIP_KEY, "//iam.googleapis.com/projects/1/x")]), &env(&[])).unwrap_err(),
        );
        assert!(err.contains("invalid gcp.auth.fluxcd.io/workload-identity-provider annotation"), "{err}");
    }
}
