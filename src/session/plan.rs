//! A session request, decided: which target, which provider identity, which
//! scopes. Everything a flow, the routing guard and the cache key need is
//! computed here once, from validated input, before anything is sent.

use crate::azure::cloud::{self, AzureCloud};
use crate::error::{Error, Result};
use crate::host::Authority;
use crate::registry::{self, AwsRegistry, Provider};
use crate::secret::Secret;

use super::cluster::{self, ClusterKind, ClusterPlan};
use super::git;
use super::identity::{AwsPlan, AzureIdentity, GcpIdentity, ProviderIdentity, TokenSource, generic_token_source};
use super::request::{Identity, SessionRequest, Target};

/// The validated target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetPlan {
    /// Azure Container Registry: an Entra token for `scope`, exchanged at the registry.
    Acr { registry: String, scope: String },
    /// Amazon ECR or ECR Public.
    Ecr(AwsRegistry),
    /// Artifact Registry or Container Registry: the Google token itself.
    Gar,
    /// Any other registry: the host's credentials, validated.
    GenericRegistry(GenericRegistry),
    /// A plain provider token.
    AccessToken { scopes: Vec<String> },
    /// An Azure DevOps repository: an Entra token for the DevOps scope.
    AzureDevOps,
    /// An AWS CodeCommit repository: AWS credentials, signed into Git
    /// credentials for this URL.
    CodeCommit { url: String },
    /// A Kubernetes cluster: a REST config.
    Cluster(ClusterPlan),
    /// A GitHub repository: a GitHub App installation token for it.
    GitHubApp(crate::github_app::GitHubApp),
}

/// A generic registry, the host's credentials for it, and where they may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericRegistry {
    /// The registry as the reference names it (`docker.io` for Docker Hub).
    pub registry: Authority,
    /// The host its API is served on (`registry-1.docker.io` for Docker Hub).
    pub api: Authority,
    /// The repository to ask a `pull` token for, if the reference named one.
    pub repository: Option<String>,
    /// The host's credentials for the registry: validated, then the outcome.
    pub username: String,
    pub password: Secret,
    /// Hosts that may receive the basic credentials as a token realm.
    pub trusted_realms: Vec<Authority>,
}

/// Docker Hub's names: the reference registry, its API host and its token
/// server, which may receive the Docker Hub credentials.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
pub const DOCKER_HUB_AUTH: &str = "auth.docker.io";

/// A decided session request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: TargetPlan,
    pub identity: ProviderIdentity,
}

impl Plan {
    /// Decides a validated request.
    pub fn new(request: &SessionRequest) -> Result<Plan> {
        request.validate()?;
        let options = &request.options;
        let identity = &request.identity;
        let custom = options.azure_environment.as_ref();
        if let Some(env) = custom {
            cloud::check_environment(env)?;
        }
        match &request.target {
            Target::Registry(reference) => {
                let resolved = registry::resolve_registry(reference, custom)?;
                match resolved.provider {
                    Provider::Azure => {
                        let cloud = resolved.azure_cloud.unwrap_or(AzureCloud::Public);
                        let scope = first_scope(registry::registry_scopes(reference, custom)?)?;
                        let identity = ProviderIdentity::Azure(AzureIdentity::plan(identity, options, cloud)?);
                        Ok(Plan { target: TargetPlan::Acr { registry: resolved.registry, scope }, identity })
                    }
                    Provider::Aws => {
                        let ecr = resolved
                            .aws
                            .ok_or_else(|| Error::invalid("an ECR registry resolved without its region"))?;
                        let identity =
                            ProviderIdentity::Aws(AwsPlan::plan(identity, options, Some(&ecr.region), request.now)?);
                        Ok(Plan { target: TargetPlan::Ecr(ecr), identity })
                    }
                    Provider::Gcp => Ok(Plan {
                        target: TargetPlan::Gar,
                        identity: ProviderIdentity::Gcp(GcpIdentity::plan(identity, options)?),
                    }),
                    Provider::Generic => {
                        if matches!(identity, Identity::ServiceAccount(_)) {
                            return Err(Error::unsupported(format!(
                                "{} is not a cloud registry: it takes the registry's own credentials (registry-username, registry-password), not a service account",
                                resolved.registry
                            )));
                        }
                        let generic = GenericRegistry::new(reference, request)?;
                        Ok(Plan {
                            target: TargetPlan::GenericRegistry(generic),
                            identity: ProviderIdentity::Generic(None),
                        })
                    }
                }
            }
            Target::AccessToken { provider, scopes } => {
                let identity = match provider {
                    Provider::Azure => {
                        let cloud = if custom.is_some() { AzureCloud::Custom } else { AzureCloud::Public };
                        ProviderIdentity::Azure(AzureIdentity::plan(identity, options, cloud)?)
                    }
                    Provider::Aws => ProviderIdentity::Aws(AwsPlan::plan(identity, options, None, request.now)?),
                    Provider::Gcp => ProviderIdentity::Gcp(GcpIdentity::plan(identity, options)?),
                    Provider::Generic => {
                        if scopes.len() > 1 {
                            return Err(Error::invalid(
                                "a generic access token has one audience: give at most one scope",
                            ));
                        }
                        ProviderIdentity::Generic(Some(
                            generic_token_source(identity, options)?.unwrap_or(TokenSource::Host),
                        ))
                    }
                };
                let scopes = match (provider, scopes.is_empty()) {
                    (_, false) => scopes.clone(),
                    (Provider::Azure, true) => {
                        let cloud = if custom.is_some() { AzureCloud::Custom } else { AzureCloud::Public };
                        vec![cloud::arm_scope(cloud, custom)?]
                    }
                    (Provider::Gcp, true) => crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                    (Provider::Aws | Provider::Generic, true) => Vec::new(),
                };
                if *provider == Provider::Azure && scopes.len() != 1 {
                    return Err(Error::invalid("an Azure access token is for exactly one scope"));
                }
                if *provider == Provider::Aws && !scopes.is_empty() {
                    return Err(Error::invalid("AWS credentials have no scopes"));
                }
                Ok(Plan { target: TargetPlan::AccessToken { scopes }, identity })
            }
            Target::Git(url) if git::names_codecommit(url) => {
                // The region comes from the URL, as Flux's STS region does.
                let repository = crate::aws::codecommit::parse_url(url)?;
                let identity =
                    ProviderIdentity::Aws(AwsPlan::plan(identity, options, Some(&repository.region), request.now)?);
                Ok(Plan { target: TargetPlan::CodeCommit { url: url.clone() }, identity })
            }
            Target::Git(url) => {
                git::check_azure_devops_url(url)?;
                let identity = ProviderIdentity::Azure(AzureIdentity::plan(identity, options, AzureCloud::Public)?);
                Ok(Plan { target: TargetPlan::AzureDevOps, identity })
            }
            Target::GitHubApp(target) => {
                if matches!(identity, Identity::ServiceAccount(_)) {
                    return Err(Error::unsupported(
                        "a GitHub App target takes the app's own key, not a service account",
                    ));
                }
                let app = git::github_app(target)?;
                Ok(Plan { target: TargetPlan::GitHubApp(app), identity: ProviderIdentity::Generic(None) })
            }
            Target::Cluster(c) => {
                let (cluster, identity) = cluster::plan(c, identity, options, request.now)?;
                Ok(Plan { target: TargetPlan::Cluster(cluster), identity })
            }
        }
    }

    /// The scopes of the provider token this plan asks for, as Flux's cache
    /// key lists them.
    pub fn token_scopes(&self) -> Vec<String> {
        match &self.target {
            TargetPlan::Acr { scope, .. } => vec![scope.clone()],
            TargetPlan::AccessToken { scopes } => scopes.clone(),
            TargetPlan::AzureDevOps => vec![cloud::DEVOPS_SCOPE.to_owned()],
            TargetPlan::Cluster(cluster) => match cluster.kind {
                ClusterKind::Aks { .. } => vec![cloud::AKS_SCOPE.to_owned()],
                ClusterKind::Generic => cluster.address.iter().cloned().collect(),
                ClusterKind::Eks { .. } | ClusterKind::Gke { .. } => Vec::new(),
            },
            TargetPlan::Ecr(_)
            | TargetPlan::Gar
            | TargetPlan::GenericRegistry(_)
            | TargetPlan::CodeCommit { .. }
            | TargetPlan::GitHubApp(_) => Vec::new(),
        }
    }
}

fn first_scope(scopes: Vec<String>) -> Result<String> {
    match <[String; 1]>::try_from(scopes) {
        Ok([scope]) => Ok(scope),
        Err(_) => Err(Error::invalid("an ACR token is for exactly one scope")),
    }
}

impl GenericRegistry {
    fn new(reference: &str, request: &SessionRequest) -> Result<Self> {
        let parsed = registry::parse_reference(reference)?;
        let registry = parsed.registry;
        let api = if registry.host() == DOCKER_HUB && registry.port().is_none() {
            Authority::parse(DOCKER_HUB_API)?
        } else {
            registry.clone()
        };
        let options = &request.options;
        let (Some(username), Some(password)) = (&options.registry_username, &options.registry_password) else {
            return Err(Error::unsupported(format!("no credentials configured for generic registry {registry}")));
        };
        Ok(GenericRegistry {
            registry,
            api,
            repository: parsed.repository,
            username: username.clone(),
            password: password.clone(),
            trusted_realms: options.trusted_realm_hosts()?,
        })
    }

    /// The hosts that may receive the basic credentials: the registry and its
    /// API host, the trusted realms, and Docker Hub's token server for Docker Hub.
    pub fn basic_hosts(&self) -> Vec<Authority> {
        let mut hosts = vec![self.registry.clone(), self.api.clone()];
        if self.api.host() == DOCKER_HUB_API
            && self.api.port().is_none()
            && let Ok(auth) = Authority::parse(DOCKER_HUB_AUTH)
        {
            hosts.push(auth);
        }
        hosts.extend(self.trusted_realms.iter().cloned());
        hosts
    }
}
