//! Routing safety: the one check every request of a session passes before
//! the host sees it.
//!
//! The allow-list is computed once per session from the validated plan,
//! independently of the flow code that builds the requests: the target's
//! own host (an ACR registry, the generic registry) and the provider's known
//! endpoints for that target and identity (Entra authority, STS and ECR
//! endpoints from `aws::endpoint`, Google STS and IAM Credentials), or the
//! endpoints the host configured (`sts-endpoint`, `AZURE_AUTHORITY_HOST`).
//! A request goes out only if
//!
//! - it is `https://` to an allowed host for what it carries: a cloud
//!   credential only to the cloud list, the registry password only to the
//!   registry, its API host, Docker Hub's token server and the trusted realm
//!   hosts; or
//! - it carries nothing secret (no `Authorization`, cookie, AWS security
//!   token or signature, no body) and goes to an allowed host; or
//! - it is plain HTTP to a link-local metadata endpoint this identity uses,
//!   carrying nothing secret.
//!
//! So no crafted target or response can send a token or password to a host
//! the plan did not name.

use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::azure::cloud;
use crate::error::{Error, Result};
use crate::host::Authority;
use crate::host::https_authority;
use crate::http::HttpRequest;
use crate::local_endpoint::LocalEndpoint;

use super::cluster::ClusterKind;
use super::identity::ProviderIdentity;
use super::identity::{AwsIdentity, AwsPlan, AzureIdentity, GcpAudience, GcpIdentity, StsEndpoint};
use super::outcome::{Carries, Outbound};
use super::plan::{Plan, TargetPlan};

/// Google STS.
const GOOGLE_STS: &str = "sts.googleapis.com";
/// Google IAM Credentials (impersonation).
const GOOGLE_IAM_CREDENTIALS: &str = "iamcredentials.googleapis.com";
/// The Kubernetes Engine API (GKE cluster lookups).
const GKE_API: &str = "container.googleapis.com";

/// A plain-HTTP metadata endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataEndpoint {
    /// `http://169.254.169.254` (Azure IMDS and EC2 IMDS).
    LinkLocal,
    /// `http://metadata.google.internal`.
    Google,
}

impl MetadataEndpoint {
    pub fn base(self) -> &'static str {
        match self {
            MetadataEndpoint::LinkLocal => "http://169.254.169.254/",
            MetadataEndpoint::Google => "http://metadata.google.internal/",
        }
    }
}

/// The allow-list of one session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guard {
    /// Hosts that may receive cloud credentials.
    cloud: Vec<Authority>,
    /// Hosts that may receive the registry password.
    registry: Vec<Authority>,
    /// Metadata endpoints the identity uses.
    metadata: Vec<MetadataEndpoint>,
    /// The host-local credential endpoint (AWS container credentials, App
    /// Service managed identity), the only destination of its secret header.
    local: Option<LocalEndpoint>,
}

impl Guard {
    /// The allow-list of a plan.
    pub fn for_plan(plan: &Plan) -> Result<Guard> {
        let mut guard = Guard::default();
        match &plan.identity {
            ProviderIdentity::Azure(AzureIdentity::WorkloadIdentity { authority, token, .. }) => {
                guard.local = token.endpoint().cloned();
                guard.cloud.push(https_authority(&authority.base_url()?)?);
            }
            ProviderIdentity::Azure(
                AzureIdentity::ClientSecret { authority, .. } | AzureIdentity::ClientCertificate { authority, .. },
            ) => {
                guard.cloud.push(https_authority(&authority.base_url()?)?);
            }
            ProviderIdentity::Azure(AzureIdentity::AppService { endpoint, .. }) => guard.local = Some(endpoint.clone()),
            ProviderIdentity::Azure(AzureIdentity::ManagedIdentity(_)) => {
                guard.metadata.push(MetadataEndpoint::LinkLocal);
            }
            ProviderIdentity::Aws(aws) => guard.aws_identity(&aws.identity, aws)?,
            ProviderIdentity::Gcp(GcpIdentity::Metadata) => guard.metadata.push(MetadataEndpoint::Google),
            // Nothing is sent before the file is read; then the file's own endpoints.
            ProviderIdentity::Gcp(GcpIdentity::CredentialsFile { .. }) => {}
            ProviderIdentity::Gcp(GcpIdentity::File { credentials, .. }) => {
                guard.cloud.extend(credentials.cloud_hosts()?);
                guard.local = credentials.source_endpoint().cloned();
                if credentials.reads_instance_metadata() {
                    guard.metadata.push(MetadataEndpoint::LinkLocal);
                }
            }
            ProviderIdentity::Gcp(GcpIdentity::WorkloadIdentity { audience, impersonate, .. }) => {
                guard.cloud.push(Authority::parse(GOOGLE_STS)?);
                if impersonate.is_some() {
                    guard.cloud.push(Authority::parse(GOOGLE_IAM_CREDENTIALS)?);
                }
                if *audience == GcpAudience::Gke {
                    guard.metadata.push(MetadataEndpoint::Google);
                }
            }
            ProviderIdentity::Generic(_) => {}
        }
        match &plan.target {
            TargetPlan::Acr { registry, .. } => guard.cloud.push(Authority::parse(registry)?),
            TargetPlan::Ecr(ecr) => {
                let service = if ecr.public { Service::EcrPublic } else { Service::Ecr };
                let options = EndpointOptions { fips: ecr.fips, ..EndpointOptions::default() };
                guard.cloud.push(https_authority(&endpoint::resolve(service, &ecr.region, options)?.url)?);
            }
            TargetPlan::GenericRegistry(registry) => guard.registry = registry.basic_hosts(),
            TargetPlan::Cluster(cluster) if cluster.needs_lookup() => match &cluster.kind {
                ClusterKind::Aks { lookup: Some(aks) } => {
                    guard.cloud.push(https_authority(&cloud::arm_endpoint(aks.cloud, aks.environment.as_ref())?)?)
                }
                ClusterKind::Eks { arn, endpoint } => {
                    guard.cloud.push(https_authority(&endpoint::resolve(Service::Eks, arn.region(), *endpoint)?.url)?)
                }
                ClusterKind::Gke { lookup: Some(_) } => guard.cloud.push(Authority::parse(GKE_API)?),
                _ => {}
            },
            TargetPlan::Cluster(_) => {}
            // The app JWT and the installation token go to the API host only.
            TargetPlan::GitHubApp(app) => guard.cloud.push(app.api.clone()),
            // CodeCommit credentials are signed here; no request goes to CodeCommit.
            TargetPlan::Gar
            | TargetPlan::AccessToken { .. }
            | TargetPlan::AzureDevOps
            | TargetPlan::CodeCommit { .. } => {}
        }
        Ok(guard)
    }

    /// The allowed destinations: metadata endpoints, hosts for cloud
    /// credentials, hosts for the registry password (for `policy.explain`).
    pub fn destinations(&self) -> (&[MetadataEndpoint], &[Authority], &[Authority]) {
        (&self.metadata, &self.cloud, &self.registry)
    }

    /// The host-local credential endpoint, if the identity uses one.
    pub fn local_endpoint(&self) -> Option<&LocalEndpoint> {
        self.local.as_ref()
    }

    /// Checks one request; the error says why it may not go out.
    pub fn check(&self, outbound: &Outbound) -> Result<()> {
        let request = &outbound.request;
        let refuse = |why: String| {
            Err(Error::invalid(format!("routing guard: {} {} refused: {why}", request.method, redacted(&request.url))))
        };
        if request.url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return refuse("the URL contains whitespace or control characters".into());
        }
        if outbound.carries == Carries::LocalCredential {
            return match &self.local {
                Some(endpoint) if endpoint.same_origin(&request.url) => Ok(()),
                _ => refuse("not the local credential endpoint of this identity".into()),
            };
        }
        if outbound.carries == Carries::Metadata {
            if !self.metadata.iter().any(|m| request.url.starts_with(m.base())) {
                return refuse("not a metadata endpoint of this identity".into());
            }
            return match secret_in(request) {
                Some(what) => refuse(format!("a metadata request carries {what}")),
                None => Ok(()),
            };
        }
        let host = match https_authority(&request.url) {
            Ok(host) => host,
            Err(e) => return refuse(e.to_string()),
        };
        let allowed = match outbound.carries {
            Carries::CloudCredential => self.cloud.contains(&host),
            Carries::RegistryPassword => self.registry.contains(&host),
            Carries::Nothing => {
                if let Some(what) = secret_in(request) {
                    return refuse(format!("a request marked as carrying nothing carries {what}"));
                }
                self.cloud.contains(&host) || self.registry.contains(&host)
            }
            Carries::Metadata | Carries::LocalCredential => false,
        };
        if allowed {
            Ok(())
        } else {
            refuse(format!("{host} is not an allowed destination for {:?}", outbound.carries))
        }
    }
}

impl Guard {
    /// The hosts an AWS identity talks to (a profile's: its base's, and STS
    /// for its roles).
    fn aws_identity(&mut self, identity: &AwsIdentity, aws: &AwsPlan) -> Result<()> {
        match identity {
            AwsIdentity::StaticKeys(_) => {}
            AwsIdentity::InstanceMetadata => self.metadata.push(MetadataEndpoint::LinkLocal),
            AwsIdentity::Container { endpoint, .. } => self.local = Some(endpoint.clone()),
            AwsIdentity::WebIdentity { token, .. } => {
                self.local = token.endpoint().cloned();
                self.cloud.push(aws_sts_host(aws)?);
            }
            // Nothing is sent before the shared files are read.
            AwsIdentity::SharedConfig(_) => {}
            AwsIdentity::Profile(profile) => {
                self.aws_identity(&profile.base, aws)?;
                let sts = aws_sts_host(aws)?;
                if !self.cloud.contains(&sts) {
                    self.cloud.push(sts);
                }
            }
        }
        Ok(())
    }
}

/// The STS host of an AWS plan: the configured endpoint, or the region's.
fn aws_sts_host(aws: &AwsPlan) -> Result<Authority> {
    match &aws.sts {
        StsEndpoint::Explicit(url) => https_authority(url),
        StsEndpoint::Resolved(options) => https_authority(&endpoint::resolve(Service::Sts, &aws.region, *options)?.url),
    }
}

/// What secret a request carries, if any.
fn secret_in(request: &HttpRequest) -> Option<&'static str> {
    const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "x-amz-security-token"];
    if request.headers.iter().any(|(name, _)| SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))) {
        return Some("a credential header");
    }
    if !request.body.is_empty() {
        return Some("a body");
    }
    let query = request.url.split_once('?').map(|(_, q)| q.to_ascii_lowercase()).unwrap_or_default();
    if query.contains("x-amz-signature") || query.contains("x-amz-credential") || query.contains("access_token") {
        return Some("credentials in the query");
    }
    None
}

/// A URL for an error message: no query (it may hold a signature), control
/// characters escaped and long URLs cut.
fn redacted(url: &str) -> String {
    crate::error::excerpt(url.split(['?', '#']).next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpRequest;
    use crate::registry::Provider;
    use crate::session::request::{Cluster, Identity, Options, SessionRequest, Target};

    fn plan(target: &str, env: &[(&str, &str)]) -> Plan {
        Plan::new(&request(target, env)).unwrap()
    }

    fn request(target: &str, env: &[(&str, &str)]) -> SessionRequest {
        SessionRequest {
            target: Target::Registry(target.into()),
            identity: Identity::Controller,
            options: Options {
                environment: env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                ..Options::default()
            },
            now: 1_705_320_000,
        }
    }

    fn out(url: &str, carries: Carries) -> Outbound {
        Outbound { request: HttpRequest::get(url), carries }
    }

    fn with_auth(url: &str, carries: Carries) -> Outbound {
        Outbound { request: HttpRequest::get(url).header("Authorization", "Bearer t").unwrap(), carries }
    }

    #[test]
    fn local_credential_goes_only_to_the_local_endpoint() {
        let env = [
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[fd00:ec2::23]:80/v1/credentials"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token"),
        ];
        let guard = Guard::for_plan(&plan("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", &env)).unwrap();
        for ok in ["http://[fd00:ec2::23]:80/v1/credentials", "http://[FD00:EC2::23]:80/other?x=1"] {
            guard.check(&with_auth(ok, Carries::LocalCredential)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://[fd00:ec2::23]/v1/credentials",
            "https://[fd00:ec2::23]:80/v1/credentials",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]:80@evil.example/x",
            "http://evil.example/v1/credentials",
            "http://169.254.169.254/latest/api/token",
        ] {
            assert!(guard.check(&with_auth(bad, Carries::LocalCredential)).is_err(), "{bad}");
        }
        // The container token goes under no other label, and no other
        // identity's guard lets it out.
        assert!(guard.check(&with_auth("http://[fd00:ec2::23]:80/v1/credentials", Carries::Metadata)).is_err());
        let imds = Guard::for_plan(&plan("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", &[])).unwrap();
        assert!(imds.check(&with_auth("http://169.254.170.23/v1/credentials", Carries::LocalCredential)).is_err());
    }

    #[test]
    fn cloud_credentials_go_only_to_the_plan_hosts() {
        let guard = Guard::for_plan(&plan(
            "myregistry.azurecr.io/app",
            &[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/f")],
        ))
        .unwrap();
        for ok in [
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "https://myregistry.azurecr.io/oauth2/exchange?api-version=2021-07-01",
            "https://MyRegistry.azurecr.io:443/oauth2/exchange",
        ] {
            guard.check(&with_auth(ok, Carries::CloudCredential)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "https://myregistry.azurecr.io.evil.example/oauth2/exchange",
            "https://evil.example/myregistry.azurecr.io",
            "https://myregistry.azurecr.io@evil.example/x",
            "https://evil.example\\@myregistry.azurecr.io/x",
            "https://myregistry.azurecr.io:8443/oauth2/exchange",
            "http://myregistry.azurecr.io/oauth2/exchange",
            "https://login.microsoftonline.com.evil.example/t",
            "https://myregistry%2eazurecr.io/x",
            "https://myregistry.azurecr.io /x",
            "http://169.254.169.254/metadata/identity/oauth2/token",
            "ftp://myregistry.azurecr.io/",
        ] {
            assert_eq!(
                guard.check(&with_auth(bad, Carries::CloudCredential)).unwrap_err().kind(),
                "invalid-input",
                "{bad}"
            );
        }
        // A cloud credential never goes out under another label.
        assert!(guard.check(&with_auth("https://myregistry.azurecr.io/x", Carries::RegistryPassword)).is_err());
        assert!(guard.check(&with_auth("https://myregistry.azurecr.io/x", Carries::Nothing)).is_err());
        // This identity uses no metadata endpoint.
        assert!(guard.check(&out("http://169.254.169.254/metadata/identity/oauth2/token", Carries::Metadata)).is_err());
    }

    /// A refused URL is named escaped and cut: a log line stays one line and
    /// bounded (the error once printed it raw, control characters included).
    #[test]
    fn refusals_quote_the_url_escaped_and_cut() {
        let guard = Guard::for_plan(&plan("myregistry.azurecr.io/app", &[])).unwrap();
        let url = format!("https://evil.example/\r\nX-Injected: yes/{}", "\u{7f}".repeat(5000));
        let message = guard.check(&out(&url, Carries::Nothing)).unwrap_err().to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(message.contains("\\r\\nX-Injected"), "{message}");
        assert!(message.len() < 1000, "{} bytes", message.len());
    }

    #[test]
    fn metadata_endpoints_only_for_their_identity_and_without_secrets() {
        let guard = Guard::for_plan(&plan("myregistry.azurecr.io/app", &[])).unwrap();
        guard
            .check(&out("http://169.254.169.254/metadata/identity/oauth2/token?resource=x", Carries::Metadata))
            .unwrap();
        for bad in [
            "http://169.254.169.254.evil.example/x",
            "http://169.254.169.2540/x",
            "http://metadata.google.internal/x",
            "https://169.254.169.254/x",
        ] {
            assert!(guard.check(&out(bad, Carries::Metadata)).is_err(), "{bad}");
        }
        assert!(
            guard
                .check(&with_auth("http://169.254.169.254/metadata/identity/oauth2/token", Carries::Metadata))
                .is_err()
        );
        let mut with_body = out("http://169.254.169.254/metadata/identity/oauth2/token", Carries::Metadata);
        with_body.request.body = b"secret".to_vec();
        assert!(guard.check(&with_body).is_err());

        let gcp = Guard::for_plan(&plan("us-docker.pkg.dev/p/r/app", &[])).unwrap();
        gcp.check(&out(
            "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
            Carries::Metadata,
        ))
        .unwrap();
        assert!(gcp.check(&out("http://169.254.169.254/latest/api/token", Carries::Metadata)).is_err());
    }

    #[test]
    fn aws_endpoints_come_from_the_region() {
        let env = [("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"), ("AWS_WEB_IDENTITY_TOKEN_FILE", "/f")];
        let guard = Guard::for_plan(&plan("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", &env)).unwrap();
        guard.check(&with_auth("https://sts.eu-west-1.amazonaws.com/", Carries::CloudCredential)).unwrap();
        guard.check(&with_auth("https://api.ecr.eu-west-1.amazonaws.com/", Carries::CloudCredential)).unwrap();
        for bad in [
            "https://sts.us-east-1.amazonaws.com/",
            "https://api.ecr.us-east-1.amazonaws.com/",
            "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
        ] {
            assert!(guard.check(&with_auth(bad, Carries::CloudCredential)).is_err(), "{bad}");
        }
    }

    #[test]
    fn github_app_credentials_go_to_the_api_host_only() {
        let mut request = request("unused", &[]);
        request.target = Target::GitHubApp(crate::session::request::GitHubAppTarget {
            url: "https://ghe.example.com/o/r.git".into(),
            app_id: "1".into(),
            installation_id: Some("2".into()),
            installation_owner: None,
            private_key: crate::secret::Secret::new(include_str!("../../tests/data/test-rsa-pkcs8.pem")),
            base_url: Some("https://ghe.example.com/api/v3".into()),
        });
        let guard = Guard::for_plan(&Plan::new(&request).unwrap()).unwrap();
        guard
            .check(&with_auth(
                "https://ghe.example.com/api/v3/app/installations/2/access_tokens",
                Carries::CloudCredential,
            ))
            .unwrap();
        for bad in [
            "http://ghe.example.com/api/v3/app/installations/2/access_tokens",
            "https://api.github.com/app/installations/2/access_tokens",
            "https://ghe.example.com:8443/api/v3/app",
            "https://ghe.example.com.evil.example/api/v3/app",
        ] {
            assert!(guard.check(&with_auth(bad, Carries::CloudCredential)).is_err(), "{bad}");
        }
        assert!(guard.check(&with_auth("https://ghe.example.com/x", Carries::RegistryPassword)).is_err());
    }

    #[test]
    fn generic_registries_get_no_cloud_credential() {
        let mut request = request("myregistry.azurecr.io.evil.example/app", &[]);
        request.options.registry_username = Some("u".into());
        request.options.registry_password = Some(crate::secret::Secret::new("p"));
        let guard = Guard::for_plan(&Plan::new(&request).unwrap()).unwrap();
        assert!(guard.cloud.is_empty());
        assert!(
            guard.check(&with_auth("https://myregistry.azurecr.io.evil.example/x", Carries::CloudCredential)).is_err()
        );
        guard.check(&out("https://myregistry.azurecr.io.evil.example/v2/", Carries::Nothing)).unwrap();
        // Nothing goes to a host the plan did not name, not even a request
        // that carries nothing.
        assert!(guard.check(&out("https://auth.example.com/token?scope=x", Carries::Nothing)).is_err());
        // The registry password goes to the registry only.
        guard.check(&with_auth("https://myregistry.azurecr.io.evil.example/token", Carries::RegistryPassword)).unwrap();
        assert!(guard.check(&with_auth("https://auth.example.com/token", Carries::RegistryPassword)).is_err());
    }

    #[test]
    fn cluster_lookups_go_to_the_clusters_cloud_api_only_when_needed() {
        let guard = |provider: Provider, id: &str, given: Option<&str>, env: &[(&str, &str)]| {
            let mut request = request("unused", env);
            request.target = Target::Cluster(Cluster {
                provider,
                resource_id: id.into(),
                address: given.map(|_| "https://c.example".into()),
                ca_data: given.map(Into::into),
            });
            Guard::for_plan(&Plan::new(&request).unwrap()).unwrap()
        };
        let allowed = |g: &Guard, url: &str| g.check(&with_auth(url, Carries::CloudCredential)).is_ok();
        let aks = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1";
        let china = guard(Provider::Azure, aks, None, &[("AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn/")]);
        assert!(allowed(&china, "https://management.chinacloudapi.cn/subscriptions"));
        assert!(!allowed(&china, "https://management.azure.com/subscriptions"));
        let eks = "arn:aws:eks:us-east-1:123456789012:cluster/c";
        let keys = [("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let fips = guard(Provider::Aws, eks, None, &[keys[0], keys[1], ("AWS_USE_FIPS_ENDPOINT", "true")]);
        assert!(allowed(&fips, "https://fips.eks.us-east-1.amazonaws.com/clusters/c"));
        assert!(!allowed(&fips, "https://eks.us-east-1.amazonaws.com/clusters/c"));
        let gke = guard(Provider::Gcp, "projects/my-project/locations/l1/clusters/c", None, &[]);
        assert!(allowed(&gke, "https://container.googleapis.com/v1/projects"));
        // Address and CA given: no lookup, so no cloud API host.
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(!allowed(&guard(Provider::Aws, eks, Some(pem), &keys), "https://eks.us-east-1.amazonaws.com/x"));
        assert!(!allowed(&guard(Provider::Gcp, "", Some(pem), &[]), "https://container.googleapis.com/v1/x"));
        assert!(!allowed(&guard(Provider::Azure, "", Some(pem), &[]), "https://management.azure.com/x"));
    }

    #[test]
    fn https_authorities() {
        assert_eq!(https_authority("https://Example.COM:443/x?y").unwrap().to_string(), "example.com");
        assert_eq!(https_authority("https://example.com:8443").unwrap().to_string(), "example.com:8443");
        for bad in
            ["http://example.com", "https://", "https://u@example.com", "https://example.com%2f@x", "example.com"]
        {
            assert!(https_authority(bad).is_err(), "{bad}");
        }
    }
}
