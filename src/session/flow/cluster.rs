//! Cluster flows: a REST config for AKS, EKS, GKE or any cluster. Each gets
//! the provider token with the provider's token machine, then, when the
//! address or CA is missing, looks the cluster up (`super::super::cluster`
//! builds and parses those calls).

use crate::aws::eks;
use crate::credentials::{AccessToken, AwsCredentials};
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;

use super::super::cluster::{self as clusters, AksLookup, ClusterPlan, EksCluster, GkeCluster};
use super::super::identity::{AwsPlan, AzureIdentity, GcpIdentity, StsEndpoint, TokenSource};
use super::super::outcome::{Credentials, RestConfig};
use super::aws::AwsCredentialsMachine;
use super::azure::AzureToken;
use super::gcp::GcpToken;
use super::{Action, Carries, Flow, Machine, Poll, send, unexpected};

/// Flux gives an EKS REST config 15 minutes from the start of the flow.
const EKS_LIFETIME: i64 = 15 * 60;

/// The flow of a cluster plan.
pub fn build(plan: &ClusterPlan, identity: &super::super::plan::ProviderIdentity) -> Result<Flow> {
    use super::super::plan::ProviderIdentity as P;
    match (plan, identity) {
        (ClusterPlan::Aks { id, address, ca, lookup }, P::Azure(azure)) => {
            Ok(Box::new(AksFlow::new(azure.clone(), id.clone(), address.clone(), ca.clone(), lookup.clone())))
        }
        (ClusterPlan::Eks { cluster, address, ca, .. }, P::Aws(aws)) => {
            Ok(Box::new(EksFlow::new(aws.clone(), cluster.clone(), address.clone(), ca.clone())))
        }
        (ClusterPlan::Gke { cluster, address, ca, .. }, P::Gcp(gcp)) => {
            Ok(Box::new(GkeFlow::new(gcp.clone(), cluster.clone(), address.clone(), ca.clone())))
        }
        (ClusterPlan::Generic { address, ca, .. }, P::Generic(Some(source))) => {
            Ok(Box::new(GenericClusterFlow::new(source.clone(), address.clone(), ca.clone())))
        }
        _ => Err(Error::invalid("the cluster and the identity are of different providers")),
    }
}

fn rest_config(host: String, ca_data: Option<String>, bearer_token: Secret, expires_at: i64) -> Poll<Credentials> {
    Poll::Ready(Credentials::RestConfig(RestConfig { host, ca_data, bearer_token, expires_at }))
}

// ---------------------------------------------------------------- AKS

enum AksState {
    /// Getting the AKS-scoped token.
    AksToken,
    /// Getting the ARM token.
    ArmToken {
        aks: AccessToken,
    },
    /// Waiting for the managed cluster.
    AwaitingManagedCluster {
        aks: AccessToken,
        arm: Secret,
    },
    /// Waiting for the user credentials (kubeconfigs).
    AwaitingCredentials {
        aks: AccessToken,
    },
    Finished,
}

/// AKS: the AKS token, then (without address or CA) ARM lookups.
pub struct AksFlow {
    identity: AzureIdentity,
    id: String,
    address: Option<String>,
    ca: Option<String>,
    lookup: Option<AksLookup>,
    aks_token: AzureToken,
    arm_token: Option<AzureToken>,
    /// The service-account token, reused for the ARM token's exchange.
    assertion: Option<Secret>,
    state: AksState,
}

impl AksFlow {
    fn new(
        identity: AzureIdentity,
        id: String,
        address: Option<String>,
        ca: Option<String>,
        lookup: Option<AksLookup>,
    ) -> Self {
        let aks_token = AzureToken::new(identity.clone(), crate::azure::cloud::AKS_SCOPE.to_owned());
        AksFlow {
            identity,
            id,
            address,
            ca,
            lookup,
            aks_token,
            arm_token: None,
            assertion: None,
            state: AksState::AksToken,
        }
    }

    fn with_aks_token(&mut self, aks: AccessToken, now: i64) -> Result<Poll<Credentials>> {
        let Some(lookup) = &self.lookup else {
            self.state = AksState::Finished;
            let host =
                self.address.clone().ok_or_else(|| Error::invalid("an AKS cluster without lookup has an address"))?;
            return Ok(rest_config(host, self.ca.clone(), aks.token, aks.expires_at));
        };
        let mut arm = AzureToken::new(self.identity.clone(), lookup.arm_scope.clone());
        let mut poll = arm.begin(now)?;
        if let (Poll::Pending(Action::FetchIdentityToken(_)), Some(assertion)) = (&poll, &self.assertion) {
            poll = arm.on_identity_token(assertion, now)?;
        }
        self.arm_token = Some(arm);
        self.state = AksState::ArmToken { aks };
        poll.then(|arm| self.with_arm_token(arm))
    }

    fn with_arm_token(&mut self, arm: AccessToken) -> Result<Poll<Credentials>> {
        let AksState::ArmToken { aks } = std::mem::replace(&mut self.state, AksState::Finished) else {
            return Err(unexpected("AKS", "an ARM token"));
        };
        let lookup = self.lookup.as_ref().ok_or_else(|| unexpected("AKS", "an ARM token"))?;
        let request = clusters::managed_cluster_request(&lookup.arm_base, &lookup.cluster, &arm.token)?;
        self.state = AksState::AwaitingManagedCluster { aks, arm: arm.token };
        Ok(send(request, Carries::CloudCredential))
    }
}

impl Machine for AksFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.aks_token.begin(now)?.then(|t| self.with_aks_token(t, now))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        self.assertion = Some(token.clone());
        match self.state {
            AksState::AksToken => self.aks_token.on_identity_token(token, now)?.then(|t| self.with_aks_token(t, now)),
            AksState::ArmToken { .. } => match self.arm_token.as_mut() {
                Some(arm) => arm.on_identity_token(token, now)?.then(|t| self.with_arm_token(t)),
                None => Err(unexpected("AKS", "an identity token")),
            },
            _ => Err(unexpected("AKS", "an identity token")),
        }
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match std::mem::replace(&mut self.state, AksState::Finished) {
            AksState::AksToken => {
                self.state = AksState::AksToken;
                self.aks_token.on_http(response, now)?.then(|t| self.with_aks_token(t, now))
            }
            AksState::ArmToken { aks } => {
                self.state = AksState::ArmToken { aks };
                match self.arm_token.as_mut() {
                    Some(arm) => arm.on_http(response, now)?.then(|t| self.with_arm_token(t)),
                    None => Err(unexpected("AKS", "an HTTP response")),
                }
            }
            AksState::AwaitingManagedCluster { aks, arm } => {
                clusters::parse_managed_cluster(response, &self.id)?;
                let lookup = self.lookup.as_ref().ok_or_else(|| unexpected("AKS", "an HTTP response"))?;
                let request = clusters::user_credentials_request(&lookup.arm_base, &lookup.cluster, &arm)?;
                self.state = AksState::AwaitingCredentials { aks };
                Ok(send(request, Carries::CloudCredential))
            }
            AksState::AwaitingCredentials { aks } => {
                let (server, ca) = clusters::parse_user_credentials(response, &self.id, self.address.as_deref())?;
                let host = self.address.clone().unwrap_or(server);
                Ok(rest_config(host, self.ca.clone().or(ca), aks.token, aks.expires_at))
            }
            AksState::Finished => Err(unexpected("AKS", "an HTTP response")),
        }
    }
}

// ---------------------------------------------------------------- EKS

enum EksState {
    Credentials,
    AwaitingDescribe { credentials: AwsCredentials },
    Finished,
}

/// EKS: AWS credentials, then (without address or CA) `DescribeCluster`,
/// then the token.
pub struct EksFlow {
    aws: AwsPlan,
    cluster: EksCluster,
    address: Option<String>,
    ca: Option<String>,
    credentials: AwsCredentialsMachine,
    state: EksState,
    started: i64,
}

impl EksFlow {
    fn new(aws: AwsPlan, cluster: EksCluster, address: Option<String>, ca: Option<String>) -> Self {
        let credentials = AwsCredentialsMachine::new(aws.clone());
        EksFlow { aws, cluster, address, ca, credentials, state: EksState::Credentials, started: 0 }
    }

    fn with_credentials(&mut self, credentials: AwsCredentials, now: i64) -> Result<Poll<Credentials>> {
        match (&self.address, &self.ca) {
            (Some(address), Some(ca)) => {
                let (address, ca) = (address.clone(), ca.clone());
                self.finish(&credentials, address, ca, now)
            }
            _ => {
                let request = clusters::describe_cluster_request(&self.cluster, &credentials, now)?;
                self.state = EksState::AwaitingDescribe { credentials };
                Ok(send(request, Carries::CloudCredential))
            }
        }
    }

    fn finish(
        &mut self,
        credentials: &AwsCredentials,
        host: String,
        ca: String,
        now: i64,
    ) -> Result<Poll<Credentials>> {
        let endpoint = match &self.aws.sts {
            StsEndpoint::Resolved(options) => *options,
            StsEndpoint::Explicit(_) => {
                return Err(Error::unsupported("an explicit STS endpoint is not supported for EKS tokens"));
            }
        };
        let token = eks::token(&self.cluster.name, &self.cluster.region, credentials, now, endpoint)?;
        let expires_at = self.started.checked_add(EKS_LIFETIME).ok_or_else(|| Error::invalid("now is out of range"))?;
        self.state = EksState::Finished;
        Ok(rest_config(host, Some(ca), token.token, expires_at))
    }
}

impl Machine for EksFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.started = now;
        self.credentials.begin(now)?.then(|c| self.with_credentials(c, now))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        if !matches!(self.state, EksState::Credentials) {
            return Err(unexpected("EKS", "an identity token"));
        }
        self.credentials.on_identity_token(token, now)?.then(|c| self.with_credentials(c, now))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match std::mem::replace(&mut self.state, EksState::Finished) {
            EksState::Credentials => {
                self.state = EksState::Credentials;
                self.credentials.on_http(response, now)?.then(|c| self.with_credentials(c, now))
            }
            EksState::AwaitingDescribe { credentials } => {
                let (endpoint, ca) = clusters::parse_describe_cluster(response)?;
                let host = self.address.clone().unwrap_or(endpoint);
                let ca = self.ca.clone().unwrap_or(ca);
                self.finish(&credentials, host, ca, now)
            }
            EksState::Finished => Err(unexpected("EKS", "an HTTP response")),
        }
    }
}

// ---------------------------------------------------------------- GKE

/// GKE: the Google token, then (without address or CA) the container API.
pub struct GkeFlow {
    token: GcpToken,
    cluster: Option<GkeCluster>,
    address: Option<String>,
    ca: Option<String>,
    /// The token, while the cluster is looked up.
    awaiting_cluster: Option<AccessToken>,
}

impl GkeFlow {
    fn new(identity: GcpIdentity, cluster: Option<GkeCluster>, address: Option<String>, ca: Option<String>) -> Self {
        let scopes = crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        GkeFlow { token: GcpToken::new(identity, scopes), cluster, address, ca, awaiting_cluster: None }
    }

    fn with_token(&mut self, token: AccessToken) -> Result<Poll<Credentials>> {
        match (&self.address, &self.ca, &self.cluster) {
            (Some(address), Some(ca), _) => {
                Ok(rest_config(address.clone(), Some(ca.clone()), token.token, token.expires_at))
            }
            (_, _, Some(cluster)) => {
                let request = clusters::gke_cluster_request(cluster, &token.token)?;
                self.awaiting_cluster = Some(token);
                Ok(send(request, Carries::CloudCredential))
            }
            _ => Err(Error::invalid("a GKE cluster without address or CA needs its resource name")),
        }
    }
}

impl Machine for GkeFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.token.begin(now)?.then(|t| self.with_token(t))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        self.token.on_identity_token(token, now)?.then(|t| self.with_token(t))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match self.awaiting_cluster.take() {
            None => self.token.on_http(response, now)?.then(|t| self.with_token(t)),
            Some(token) => {
                let (endpoint, ca) = clusters::parse_gke_cluster(response)?;
                let host = self.address.clone().unwrap_or(endpoint);
                Ok(rest_config(host, Some(self.ca.clone().unwrap_or(ca)), token.token, token.expires_at))
            }
        }
    }
}

// ---------------------------------------------------------------- generic

/// Any cluster: a Kubernetes token for the address as audience (Flux's
/// generic provider), expiring at its `exp` claim.
pub struct GenericClusterFlow {
    source: TokenSource,
    address: String,
    ca: Option<String>,
    started: bool,
}

impl GenericClusterFlow {
    fn new(source: TokenSource, address: String, ca: Option<String>) -> Self {
        GenericClusterFlow { source, address, ca, started: false }
    }
}

impl Machine for GenericClusterFlow {
    type Output = Credentials;

    fn begin(&mut self, _now: i64) -> Result<Poll<Credentials>> {
        if self.started {
            return Err(unexpected("cluster", "a second start"));
        }
        self.started = true;
        Ok(Poll::Pending(Action::FetchIdentityToken(self.source.request(&self.address))))
    }

    fn on_identity_token(&mut self, token: &Secret, _now: i64) -> Result<Poll<Credentials>> {
        let expires_at = crate::jwt::expiry(token.expose())
            .map_err(|e| Error::invalid(format!("the service account token: {e}")))?;
        Ok(rest_config(self.address.clone(), self.ca.clone(), token.clone(), expires_at))
    }

    fn on_http(&mut self, _response: &HttpResponse, _now: i64) -> Result<Poll<Credentials>> {
        Err(unexpected("cluster", "an HTTP response"))
    }
}
