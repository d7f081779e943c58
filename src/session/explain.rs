//! What a session request would do, computed without sending anything
//! (WIT `policy.explain`), and the rules enforcement of a session.
//!
//! Everything here is read off what `start` computes anyway: the
//! [`Plan`] (provider, identity, target), the routing [`Guard`] (every host
//! a request may go to, and what it may carry there) and the cache key.
//! [`Prepared`] is the part of `start` before its first request, shared by
//! `start` and [`explain`], so both fail at the same place with the same
//! error; explain then builds the flow and checks its first request as
//! `start` does.

use crate::aws::partition;
use crate::azure::cloud::AzureCloud;
use crate::azure::entra;
use crate::azure::imds::ManagedIdentity;
use crate::cluster::eks;
use crate::error::{Error, Result};
use crate::http::HttpRequest;
use crate::policy::{self, Category, Decision, Facts, Rules};
use crate::registry::{self, Provider};

use super::cache;
use super::cluster::ClusterKind;
use super::configure;
use super::flow::{self, Action, Carries, Flow, Outbound, Poll};
use super::guard::Guard;
use super::identity::ProviderIdentity;
use super::identity::{
    AWS_AUDIENCE, AZURE_AUDIENCE, AwsIdentity, AzureIdentity, GcpAudience, GcpIdentity, TokenSource,
};
use super::outcome::Credentials;
use super::plan::{Plan, TargetPlan};
use super::request::{Identity, SessionRequest, Target};
use crate::host::https_authority;

/// A host a flow may contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// `host[:port]`, lower case.
    pub host: String,
    /// `https`, or `http` for a metadata endpoint.
    pub scheme: &'static str,
    pub carries: Carries,
    /// Only contacted when a response leads there (a token realm).
    pub optional: bool,
}

/// What kind of principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    AwsRole,
    AwsAccessKey,
    AwsInstanceRole,
    AzureClient,
    AzureManagedIdentity,
    GcpServiceAccount,
    GcpWorkloadIdentityProvider,
    GcpWorkloadIdentityPool,
    KubernetesServiceAccount,
    RegistryUser,
}

/// Whose identity the credentials carry; `id` is None when only a response
/// reveals it (an instance role, the node's service account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub id: Option<String>,
}

/// What a flow would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub provider: Provider,
    /// The Azure cloud (`azure-public`, ...) or the AWS partition (`aws`, ...).
    pub cloud: Option<String>,
    /// The AWS region.
    pub region: Option<String>,
    pub aws_accounts: Vec<String>,
    pub azure_tenants: Vec<String>,
    pub gcp_projects: Vec<String>,
    pub principals: Vec<Principal>,
    /// The service account of an object-level identity, `(namespace, name)`;
    /// None at controller level.
    pub service_account: Option<(String, String)>,
    /// The hosts the credentials are for: registry, Git server, cluster API server.
    pub target_hosts: Vec<String>,
    /// Every host the flow may contact, in the order it first does.
    pub contacts: Vec<Contact>,
    /// Scopes of the provider tokens.
    pub scopes: Vec<String>,
    /// Audiences of the identity tokens the host is asked for.
    pub audiences: Vec<String>,
    /// The credentials' lifetime in seconds, when the flow fixes it.
    pub lifetime: Option<i64>,
    /// Facts only a response reveals: the category and what it is.
    pub run_time: Vec<(Category, String)>,
    pub cache_key: String,
}

impl Explanation {
    /// The facts the rules decide on. Hosts learned at run time are left
    /// out: a session checks them when it learns them.
    pub fn facts(&self) -> Facts {
        let mut known = vec![(Category::Providers, self.provider.name().to_owned())];
        let lists = [
            (Category::Hosts, &self.target_hosts),
            (Category::AwsAccounts, &self.aws_accounts),
            (Category::AzureTenants, &self.azure_tenants),
            (Category::GcpProjects, &self.gcp_projects),
        ];
        for (category, values) in lists {
            known.extend(values.iter().map(|v| (category, v.clone())));
        }
        if self.provider == Provider::Aws
            && let Some(cloud) = &self.cloud
        {
            known.push((Category::AwsPartitions, cloud.clone()));
        }
        // The Kubernetes service account is a principal of its own only
        // where its token is the credential (generic); with a cloud provider
        // the cloud principal it maps to is what the rules are about.
        let decisive =
            |p: &&Principal| p.kind != PrincipalKind::KubernetesServiceAccount || self.provider == Provider::Generic;
        known.extend(
            self.principals.iter().filter(decisive).filter_map(|p| p.id.clone()).map(|id| (Category::Principals, id)),
        );
        Facts {
            known,
            unknown: self.run_time.iter().filter(|(c, _)| *c != Category::Hosts).cloned().collect(),
            namespace: self.service_account.as_ref().map(|(ns, _)| ns.clone()),
            lifetime: self.lifetime,
        }
    }
}

/// Explains a request: what `start` would do. Fails where `start` fails,
/// with the same error (its rules included); nothing is sent.
pub fn explain(request: &SessionRequest) -> Result<Explanation> {
    Prepared::new(request, true)?.dry_run(request.now)
}

/// Decides a request under `rules` (the request's own rules are not used).
/// A request `start` would refuse for another reason fails with that error.
pub fn evaluate(request: &SessionRequest, rules: &str) -> Result<Decision> {
    let rules = Rules::parse(rules)?;
    let explanation = Prepared::new(request, false)?.dry_run(request.now)?;
    Ok(policy::decide(&rules, &explanation.facts()))
}

/// What `start` computes before its first request.
pub(super) struct Prepared {
    pub plan: Plan,
    pub guard: Guard,
    pub cache_key: String,
    pub explanation: Explanation,
    pub enforcement: Option<Enforcement>,
}

impl Prepared {
    /// Plans, computes the allow-list and the cache key, and (with
    /// `use_rules`) decides the request's rules: a denial fails here.
    pub(super) fn new(request: &SessionRequest, use_rules: bool) -> Result<Prepared> {
        let plan = Plan::new(request)?;
        let cache_key = cache::key(&plan, request);
        Prepared::from_plan(request, plan, cache_key, use_rules)
    }

    /// As [`Prepared::new`], for a plan already made: a plan completed by
    /// its configuration files is decided again (its identity and hosts are
    /// only known now), keeping the key the session started with.
    pub(super) fn from_plan(
        request: &SessionRequest,
        plan: Plan,
        cache_key: String,
        use_rules: bool,
    ) -> Result<Prepared> {
        let guard = Guard::for_plan(&plan)?;
        let explanation = describe(request, &plan, &guard, cache_key.clone());
        let enforcement = match (&request.options.rules, use_rules) {
            (Some(text), true) => {
                let rules = Rules::parse(text)?;
                let mut facts = explanation.facts();
                if !configure::files(&plan).is_empty() {
                    // What is unknown now, the configuration files tell: the
                    // session is decided again, on all facts, once they are read.
                    facts.unknown.clear();
                }
                let decision = policy::decide(&rules, &facts);
                if !decision.allowed {
                    return Err(Error::invalid(decision.denial()));
                }
                Some(Enforcement::new(rules, &explanation))
            }
            _ => None,
        };
        Ok(Prepared { plan, guard, cache_key, explanation, enforcement })
    }

    /// Builds the flow and begins it, as `start` does, checking a first
    /// request; returns the explanation.
    fn dry_run(self, now: i64) -> Result<Explanation> {
        if !configure::files(&self.plan).is_empty() {
            // Nothing is sent before the configuration files are read.
            return Ok(self.explanation);
        }
        let (_, first) = self.begin(now)?;
        match (&first, &self.enforcement) {
            (Poll::Pending(Action::Send(outbound)), _) => self.check(outbound)?,
            // A flow done at once (static keys, an EKS token without lookup):
            // its result is checked as `start` checks it.
            (Poll::Ready(credentials), Some(e)) => e.check_credentials(credentials, now)?,
            _ => {}
        }
        Ok(self.explanation)
    }

    /// The flow and its first event.
    pub(super) fn begin(&self, now: i64) -> Result<(Flow, Poll<Credentials>)> {
        let mut flow = flow::build(&self.plan)?;
        let first = flow.begin(now)?;
        Ok((flow, first))
    }

    fn check(&self, outbound: &Outbound) -> Result<()> {
        self.guard.check(outbound)?;
        match &self.enforcement {
            Some(e) => e.check_request(&outbound.request),
            None => Ok(()),
        }
    }
}

/// The rules a session enforces after `start`: a request to a host that
/// the plan did not name itself (a token realm a challenge names) must pass
/// the host rules, and so must a REST config's API server; the
/// credentials' lifetime must be within the maximum.
#[derive(Clone, Debug)]
pub struct Enforcement {
    rules: Rules,
    /// The hosts the plan names itself (provider endpoints, the registry's
    /// API host), decided at `start` with the target.
    endpoints: Vec<String>,
}

impl Enforcement {
    fn new(rules: Rules, explanation: &Explanation) -> Self {
        let endpoints = explanation.contacts.iter().filter(|c| !c.optional).map(|c| c.host.clone()).collect();
        Enforcement { rules, endpoints }
    }

    /// Checks a request that passed the routing guard.
    pub fn check_request(&self, request: &HttpRequest) -> Result<()> {
        if request.url.starts_with("http://") {
            // Plain HTTP goes only to the identity's metadata endpoint (the guard).
            return Ok(());
        }
        let host = https_authority(&request.url)?;
        if self.endpoints.contains(&host.to_string()) {
            return Ok(());
        }
        policy::decide::check_host(&self.rules, &host, "the request host")
            .map_err(|why| Error::invalid(format!("denied by the rules: {why}")))
    }

    /// Checks credentials before they are handed out.
    pub fn check_credentials(&self, credentials: &Credentials, now: i64) -> Result<()> {
        let deny = |why: String| Error::invalid(format!("denied by the rules: {why}"));
        if let Credentials::RestConfig(config) = credentials {
            let host = https_authority(&config.host)?;
            policy::decide::check_host(&self.rules, &host, "the cluster API server").map_err(deny)?;
        }
        if let Some(expires_at) = credentials.expires_at() {
            policy::decide::check_lifetime(&self.rules, expires_at.saturating_sub(now)).map_err(deny)?;
        }
        Ok(())
    }
}

/// The explanation of a planned request.
fn describe(request: &SessionRequest, plan: &Plan, guard: &Guard, cache_key: String) -> Explanation {
    let mut e = Explanation {
        provider: plan.identity.provider(),
        cloud: None,
        region: None,
        aws_accounts: Vec::new(),
        azure_tenants: Vec::new(),
        gcp_projects: Vec::new(),
        principals: Vec::new(),
        service_account: match &request.identity {
            Identity::ServiceAccount(sa) => Some((sa.namespace.clone(), sa.name.clone())),
            Identity::Controller => None,
        },
        target_hosts: Vec::new(),
        contacts: contacts(plan, guard),
        scopes: plan.token_scopes(),
        audiences: Vec::new(),
        lifetime: None,
        run_time: Vec::new(),
        cache_key,
    };
    describe_identity(&mut e, &plan.identity);
    describe_target(&mut e, request, plan);
    if let Some((namespace, name)) = &e.service_account {
        let id = format!("system:serviceaccount:{namespace}:{name}");
        e.principals.push(Principal { kind: PrincipalKind::KubernetesServiceAccount, id: Some(id) });
    }
    dedup(&mut e.aws_accounts);
    dedup(&mut e.gcp_projects);
    e
}

/// The cloud as the WIT `azure-cloud` enum spells it.
fn cloud_name(cloud: AzureCloud) -> &'static str {
    match cloud {
        AzureCloud::Public => "azure-public",
        AzureCloud::China => "azure-china",
        AzureCloud::UsGovernment => "azure-us-government",
        AzureCloud::Custom => "azure-custom",
    }
}

fn dedup(values: &mut Vec<String>) {
    let mut seen = Vec::new();
    values.retain(|v| {
        let new = !seen.contains(v);
        seen.push(v.clone());
        new
    });
}

fn principal(kind: PrincipalKind, id: Option<&str>) -> Principal {
    Principal { kind, id: id.map(str::to_owned) }
}

/// A managed identity (IMDS or App Service): its id when the host chose
/// one, else known only at run time; the tenant always is.
fn describe_managed_identity(e: &mut Explanation, id: &ManagedIdentity, default: &str) {
    let id = match id {
        ManagedIdentity::SystemAssigned => None,
        ManagedIdentity::ClientId(v) | ManagedIdentity::ObjectId(v) | ManagedIdentity::ResourceId(v) => {
            Some(v.as_str())
        }
    };
    e.principals.push(principal(PrincipalKind::AzureManagedIdentity, id));
    if id.is_none() {
        e.run_time.push((Category::Principals, default.into()));
    }
    e.run_time.push((Category::AzureTenants, "the managed identity's tenant".into()));
}

fn describe_identity(e: &mut Explanation, identity: &ProviderIdentity) {
    match identity {
        ProviderIdentity::Azure(AzureIdentity::WorkloadIdentity { tenant_id, client_id, authority, .. }) => {
            e.principals.push(principal(PrincipalKind::AzureClient, Some(client_id)));
            e.azure_tenants.push(tenant_id.to_ascii_lowercase());
            e.audiences.push(AZURE_AUDIENCE.to_owned());
            if let entra::Authority::Cloud(cloud) = authority {
                e.cloud = Some(cloud_name(*cloud).to_owned());
            }
        }
        ProviderIdentity::Azure(
            AzureIdentity::ClientSecret { tenant_id, client_id, authority, .. }
            | AzureIdentity::ClientCertificate { tenant_id, client_id, authority, .. },
        ) => {
            e.principals.push(principal(PrincipalKind::AzureClient, Some(client_id)));
            e.azure_tenants.push(tenant_id.to_ascii_lowercase());
            if let entra::Authority::Cloud(cloud) = authority {
                e.cloud = Some(cloud_name(*cloud).to_owned());
            }
        }
        ProviderIdentity::Azure(AzureIdentity::AppService { id, .. }) => {
            describe_managed_identity(e, id, "the App Service's managed identity");
        }
        ProviderIdentity::Azure(AzureIdentity::ManagedIdentity(id)) => {
            describe_managed_identity(e, id, "the instance's managed identity");
        }
        ProviderIdentity::Aws(aws) => {
            // A plan still waiting for its shared files has no region yet.
            e.region = (!aws.region.is_empty()).then(|| aws.region.clone());
            e.cloud = partition::for_region(&aws.region).map(|p| p.id.to_owned());
            describe_aws_identity(e, &aws.identity);
        }
        ProviderIdentity::Gcp(GcpIdentity::Metadata) => {
            e.principals.push(principal(PrincipalKind::GcpServiceAccount, None));
            e.run_time.push((Category::Principals, "the instance's service account".into()));
            e.run_time.push((Category::GcpProjects, "the instance's project".into()));
        }
        ProviderIdentity::Gcp(GcpIdentity::CredentialsFile { path, well_known, .. }) => {
            e.principals.push(principal(PrincipalKind::GcpServiceAccount, None));
            let otherwise = if *well_known { ", else (no such file) the instance's service account" } else { "" };
            e.run_time.push((Category::Principals, format!("the identity in the credentials file {path}{otherwise}")));
            e.run_time.push((Category::Hosts, format!("the endpoints the credentials file {path} names")));
            e.run_time.push((Category::GcpProjects, format!("the project of the credentials file {path}")));
        }
        ProviderIdentity::Gcp(GcpIdentity::File { credentials, .. }) => describe_credentials_file(e, credentials),
        ProviderIdentity::Gcp(GcpIdentity::WorkloadIdentity { audience, impersonate, .. }) => {
            match audience {
                GcpAudience::Federation(audience) => {
                    let provider = audience.strip_prefix("//iam.googleapis.com/").unwrap_or(audience);
                    e.principals.push(principal(PrincipalKind::GcpWorkloadIdentityProvider, Some(provider)));
                    if let Some(number) = provider.strip_prefix("projects/").and_then(|r| r.split('/').next()) {
                        e.gcp_projects.push(number.to_owned());
                    }
                    e.audiences.push(audience.clone());
                }
                GcpAudience::Gke => {
                    e.principals.push(principal(PrincipalKind::GcpWorkloadIdentityPool, None));
                    e.run_time.push((Category::GcpProjects, "the GKE cluster's project and workload pool".into()));
                }
            }
            if let Some(email) = impersonate {
                e.principals.push(principal(PrincipalKind::GcpServiceAccount, Some(email)));
                if let Some(project) =
                    email.split_once('@').and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
                {
                    e.gcp_projects.push(project.to_owned());
                }
                e.lifetime = Some(i64::from(crate::gcp::iam::DEFAULT_LIFETIME));
            }
        }
        ProviderIdentity::Generic(Some(TokenSource::Host | TokenSource::File(_))) => {
            e.principals.push(principal(PrincipalKind::KubernetesServiceAccount, None));
            e.run_time.push((Category::Principals, "the host's own service account".into()));
        }
        ProviderIdentity::Generic(_) => {}
    }
}

/// A Google credentials file, read: its base identity, then the account
/// it impersonates.
fn describe_credentials_file(e: &mut Explanation, credentials: &crate::gcp::adc::Credentials) {
    use crate::gcp::adc::Base;
    let service_account = |e: &mut Explanation, email: &str| {
        e.principals.push(principal(PrincipalKind::GcpServiceAccount, Some(email)));
        if let Some(project) = email.split_once('@').and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com")) {
            e.gcp_projects.push(project.to_owned());
        }
    };
    match &credentials.base {
        Base::ServiceAccount(key) => service_account(e, &key.client_email),
        Base::AuthorizedUser(_) => {
            e.run_time.push((Category::Principals, "the Google user of the refresh token".into()))
        }
        Base::ExternalAccount(account) => {
            let provider = account.audience.strip_prefix("//iam.googleapis.com/").unwrap_or(&account.audience);
            e.principals.push(principal(PrincipalKind::GcpWorkloadIdentityProvider, Some(provider)));
            if let Some(number) = provider.strip_prefix("projects/").and_then(|r| r.split('/').next()) {
                e.gcp_projects.push(number.to_owned());
            }
        }
    }
    if let Some(imp) = &credentials.impersonation {
        service_account(e, &imp.service_account);
        e.lifetime = Some(i64::from(imp.lifetime.unwrap_or(crate::gcp::iam::DEFAULT_LIFETIME)));
    }
}

fn describe_aws_identity(e: &mut Explanation, identity: &AwsIdentity) {
    match identity {
        AwsIdentity::StaticKeys(keys) => {
            e.principals.push(principal(PrincipalKind::AwsAccessKey, Some(&keys.access_key_id)));
            e.run_time.push((Category::AwsAccounts, "the access key's account".into()));
        }
        AwsIdentity::WebIdentity { role_arn, .. } => {
            e.principals.push(principal(PrincipalKind::AwsRole, Some(role_arn)));
            if let Some(account) = role_arn.split(':').nth(4) {
                e.aws_accounts.push(account.to_owned());
            }
            e.audiences.push(AWS_AUDIENCE.to_owned());
        }
        AwsIdentity::InstanceMetadata => {
            e.principals.push(principal(PrincipalKind::AwsInstanceRole, None));
            e.run_time.push((Category::Principals, "the EC2 instance's role".into()));
            e.run_time.push((Category::AwsAccounts, "the EC2 instance role's account".into()));
        }
        AwsIdentity::Container { .. } => {
            e.principals.push(principal(PrincipalKind::AwsInstanceRole, None));
            e.run_time.push((Category::Principals, "the container's (task or pod) role".into()));
            e.run_time.push((Category::AwsAccounts, "the container role's account".into()));
        }
        AwsIdentity::SharedConfig(pending) => {
            let profile = &pending.location.profile;
            let files = pending.files().join(", ");
            e.run_time.push((Category::Principals, format!("the identity of AWS profile {profile} in {files}")));
            e.run_time.push((Category::AwsAccounts, format!("the account of AWS profile {profile}")));
            e.run_time
                .push((Category::Hosts, format!("the STS endpoint of AWS profile {profile}, if it assumes a role")));
        }
        AwsIdentity::Profile(profile) => {
            // The credentials carry the last role; every role's account is involved.
            if let AwsIdentity::WebIdentity { .. } = profile.base {
                e.audiences.push(AWS_AUDIENCE.to_owned());
            }
            for role in &profile.roles {
                if let Some(account) = role.role_arn.split(':').nth(4) {
                    e.aws_accounts.push(account.to_owned());
                }
            }
            e.principals.push(principal(PrincipalKind::AwsRole, profile.role_arn()));
        }
    }
}

fn describe_target(e: &mut Explanation, request: &SessionRequest, plan: &Plan) {
    let reference = match &request.target {
        Target::Registry(reference) => registry::parse_reference(reference).ok(),
        _ => None,
    };
    if let Some(r) = &reference {
        e.target_hosts.push(r.registry.to_string());
    }
    match &plan.target {
        TargetPlan::Acr { .. } => {
            if let Target::Registry(reference) = &request.target
                && let Ok(resolved) = registry::resolve_registry(reference, request.options.azure_environment.as_ref())
            {
                e.cloud = Some(cloud_name(resolved.azure_cloud.unwrap_or(AzureCloud::Public)).to_owned());
            }
        }
        TargetPlan::Ecr(ecr) => {
            e.cloud = Some(ecr.partition.to_owned());
            e.region = Some(ecr.region.clone());
            e.aws_accounts.extend(ecr.account_id.iter().cloned());
        }
        TargetPlan::Gar => {
            // `<location>-docker.pkg.dev/<project>/...`, `gcr.io/<project>/...`
            if let Some(project) = reference.as_ref().and_then(|r| r.repository.as_deref()?.split('/').next()) {
                e.gcp_projects.insert(0, project.to_owned());
            }
            e.scopes = crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        }
        TargetPlan::GenericRegistry(registry) => {
            e.principals.push(principal(PrincipalKind::RegistryUser, Some(&registry.username)));
        }
        TargetPlan::AccessToken { scopes } => {
            if e.provider == Provider::Gcp && scopes.is_empty() {
                e.scopes = crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
            }
            if e.provider == Provider::Generic {
                e.audiences.extend(scopes.first().cloned());
            }
            if e.provider == Provider::Azure && e.cloud.is_none() {
                let custom = request.options.azure_environment.is_some();
                e.cloud = Some(cloud_name(if custom { AzureCloud::Custom } else { AzureCloud::Public }).to_owned());
            }
        }
        TargetPlan::CodeCommit { url } => {
            if let Ok(repository) = crate::aws::codecommit::parse_url(url) {
                e.target_hosts.push(repository.host);
                e.cloud = partition::for_region(&repository.region).map(|p| p.id.to_owned());
                e.region = Some(repository.region);
            }
        }
        TargetPlan::GitHubApp(app) => {
            if let Target::GitHubApp(target) = &request.target
                && let Ok(host) = https_authority(&target.url)
            {
                e.target_hosts.push(host.to_string());
            }
            let installation = match &app.installation {
                crate::github_app::Installation::Id(id) => format!("installation {id}"),
                crate::github_app::Installation::Owner(owner) => format!("the installation of {owner}"),
            };
            e.run_time.push((Category::Principals, format!("GitHub App {}, {installation}", app.app_id)));
        }
        TargetPlan::AzureDevOps => {
            if let Target::Git(url) = &request.target
                && let Ok(host) = https_authority(url)
            {
                e.target_hosts.push(host.to_string());
            }
        }
        TargetPlan::Cluster(cluster) => {
            match &cluster.address {
                Some(address) => e.target_hosts.extend(https_authority(address).ok().map(|h| h.to_string())),
                None => e.run_time.push((Category::Hosts, "the API server address from the cluster lookup".into())),
            }
            match &cluster.kind {
                ClusterKind::Aks { lookup } => {
                    if let Some(lookup) = lookup {
                        e.cloud = Some(cloud_name(lookup.cloud).to_owned());
                        e.scopes.push(lookup.arm_scope.clone());
                    }
                }
                ClusterKind::Eks { arn, .. } => {
                    e.cloud = Some(arn.partition().to_owned());
                    e.region = Some(arn.region().to_owned());
                    e.aws_accounts.insert(0, arn.account_id().to_owned());
                    e.lifetime = Some(eks::REST_CONFIG_LIFETIME);
                }
                ClusterKind::Gke { lookup } => {
                    if let Some(name) = lookup {
                        e.gcp_projects.insert(0, name.project().to_owned());
                    }
                    e.scopes = crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
                }
                ClusterKind::Generic => e.audiences.extend(cluster.address.iter().cloned()),
            }
        }
    }
}

/// The hosts of the guard's allow-list in the order a flow uses them: the
/// identity's metadata endpoint, then the cloud hosts (identity first, then
/// target), then for a generic registry its API host and the hosts that may
/// receive the password as a token realm (only if a challenge names them).
fn contacts(plan: &Plan, guard: &Guard) -> Vec<Contact> {
    let (metadata, cloud, registry) = guard.destinations();
    let mut out: Vec<Contact> = Vec::new();
    let mut push = |host: String, scheme, carries, optional| {
        if !out.iter().any(|c: &Contact| c.host == host && c.carries == carries) {
            out.push(Contact { host, scheme, carries, optional });
        }
    };
    // The identity's own credential endpoint comes first: container
    // credentials, App Service, or the CI token endpoint.
    if let Some(local) = guard.local_endpoint() {
        push(local.authority.to_string(), local.scheme, Carries::LocalCredential, false);
    }
    for m in metadata {
        let host = m.base().trim_start_matches("http://").trim_end_matches('/').to_owned();
        push(host, "http", Carries::Metadata, false);
    }
    for host in cloud {
        push(host.to_string(), "https", Carries::CloudCredential, false);
    }
    if let TargetPlan::GenericRegistry(generic) = &plan.target {
        push(generic.api.to_string(), "https", Carries::Nothing, false);
        for host in registry {
            push(host.to_string(), "https", Carries::RegistryPassword, true);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use crate::session::request::{Cluster, Options, ServiceAccount};

    fn request(target: Target, identity: Identity, env: &[(&str, &str)]) -> SessionRequest {
        SessionRequest {
            target,
            identity,
            options: Options {
                environment: env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                object_level_workload_identity: true,
                skip_cache: true,
                ..Options::default()
            },
            now: 1_705_320_000,
        }
    }

    fn sa(annotations: &[(&str, &str)]) -> Identity {
        Identity::ServiceAccount(ServiceAccount {
            namespace: "team-a".into(),
            name: "puller".into(),
            annotations: annotations.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        })
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/puller";

    #[test]
    fn explains_an_ecr_pull_with_a_service_account() {
        let r = request(
            Target::Registry("999999999999.dkr.ecr.eu-west-1.amazonaws.com/app".into()),
            sa(&[("eks.amazonaws.com/role-arn", ROLE)]),
            &[],
        );
        let e = explain(&r).unwrap();
        assert_eq!(e.provider, Provider::Aws);
        assert_eq!((e.cloud.as_deref(), e.region.as_deref()), (Some("aws"), Some("eu-west-1")));
        assert_eq!(e.aws_accounts, vec!["123456789012", "999999999999"]);
        assert_eq!(e.principals[0], principal(PrincipalKind::AwsRole, Some(ROLE)));
        assert_eq!(e.service_account, Some(("team-a".into(), "puller".into())));
        let hosts: Vec<&str> = e.contacts.iter().map(|c| c.host.as_str()).collect();
        assert_eq!(hosts, vec!["sts.eu-west-1.amazonaws.com", "api.ecr.eu-west-1.amazonaws.com"]);
        assert_eq!(e.audiences, vec![AWS_AUDIENCE]);
        assert_eq!(e.cache_key, Session::start(r).unwrap().cache_key());
    }

    #[test]
    fn fails_where_start_fails_with_the_same_error() {
        let bad = [
            request(Target::Registry("ghcr.io/o/app".into()), Identity::Controller, &[]),
            request(Target::Registry("x.azurecr.io".into()), sa(&[]), &[]),
            request(Target::Registry("123456789012.dkr.ecr.us-east-1.amazonaws.com".into()), sa(&[]), &[]),
            request(Target::Git("https://github.com/o/r".into()), Identity::Controller, &[]),
            request(
                Target::Cluster(Cluster {
                    provider: Provider::Generic,
                    resource_id: String::new(),
                    address: None,
                    ca_data: None,
                }),
                Identity::Controller,
                &[],
            ),
            request(
                Target::AccessToken { provider: Provider::Aws, scopes: vec![] },
                Identity::Controller,
                &[("AWS_ACCESS_KEY_ID", "A")],
            ),
        ];
        for r in bad {
            let started = Session::start(r.clone()).unwrap_err();
            assert_eq!(explain(&r).unwrap_err(), started, "{r:?}");
        }
    }

    #[test]
    fn the_requests_rules_deny_in_start_and_explain_alike() {
        let mut r = request(Target::Registry("x.azurecr.io/app".into()), Identity::Controller, &[]);
        r.options.rules = Some(r#"{"version":1,"allow":{"providers":["aws"]}}"#.into());
        let err = Session::start(r.clone()).unwrap_err();
        assert_eq!(err, Error::invalid("denied by the rules: provider azure matches nothing in allow.providers"));
        assert_eq!(explain(&r).unwrap_err(), err);
        // evaluate ignores the request's own rules.
        assert!(evaluate(&r, r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]}}"#).unwrap().allowed);
        r.options.rules = Some(r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]}}"#.into());
        assert!(Session::start(r.clone()).is_ok() && explain(&r).is_ok());
        r.options.rules = Some(r#"{"version":1,"allow":{"hosts":["*.azurecr.io"]},"allow":{}}"#.into());
        assert!(Session::start(r).unwrap_err().to_string().contains("duplicate key"));
    }
}
