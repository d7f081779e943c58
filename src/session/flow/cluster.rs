//! Cluster flows: a REST config for AKS, EKS, GKE or any cluster, as state
//! machines over `crate::cluster`. Each gets the provider token with the
//! provider's token machine; when the address or CA is missing it looks the
//! cluster up with `crate::cluster`'s requests and parsers; and
//! [`cluster::rest_config`] assembles the result (the caller's address and
//! CA win, the looked-up values fill the gaps).

use crate::aws::endpoint::EndpointOptions;
use crate::cluster::{self, Discovered, RestConfig, aks, eks, gke};
use crate::credentials::{AccessToken, AwsCredentials};
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;

use super::super::cluster::{AksLookup, ClusterKind, ClusterPlan};
use super::super::identity::ProviderIdentity;
use super::super::identity::{AwsPlan, AzureIdentity, GcpIdentity, TokenSource};
use super::super::outcome::Credentials;
use super::aws::AwsCredentialsMachine;
use super::azure::AzureToken;
use super::gcp::GcpToken;
use super::{Action, Carries, Flow, Machine, Poll, send, unexpected};

/// The flow of a cluster plan.
pub fn build(plan: &ClusterPlan, identity: &ProviderIdentity) -> Result<Flow> {
    match (&plan.kind, identity) {
        (ClusterKind::Aks { lookup }, ProviderIdentity::Azure(azure)) => {
            Ok(Box::new(AksFlow::new(plan.clone(), lookup.clone(), azure.clone())))
        }
        (ClusterKind::Eks { arn, endpoint }, ProviderIdentity::Aws(aws)) => {
            Ok(Box::new(EksFlow::new(plan.clone(), arn.clone(), *endpoint, aws.clone())))
        }
        (ClusterKind::Gke { lookup }, ProviderIdentity::Gcp(gcp)) => {
            Ok(Box::new(GkeFlow::new(plan.clone(), lookup.clone(), gcp.clone())))
        }
        (ClusterKind::Generic, ProviderIdentity::Generic(Some(source))) => {
            Ok(Box::new(GenericClusterFlow::new(plan.clone(), source.clone())))
        }
        _ => Err(Error::invalid("the cluster and the identity are of different providers")),
    }
}

/// The REST config of `plan`, with what a lookup discovered, if anything.
fn finish(
    plan: &ClusterPlan,
    discovered: Option<&Discovered>,
    bearer_token: Secret,
    expires_at: i64,
) -> Result<Poll<Credentials>> {
    let config =
        cluster::rest_config(plan.address.as_deref(), plan.ca.as_deref(), discovered, bearer_token, expires_at)?;
    Ok(Poll::Ready(Credentials::RestConfig(config)))
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
    AwaitingCluster {
        aks: AccessToken,
        arm: Secret,
    },
    /// Waiting for the user credentials (kubeconfigs).
    AwaitingCredentials {
        aks: AccessToken,
    },
    Finished,
}

/// AKS: the AKS token, then (without address or CA) the ARM token and the
/// two ARM calls.
pub struct AksFlow {
    plan: ClusterPlan,
    lookup: Option<AksLookup>,
    identity: AzureIdentity,
    aks_token: AzureToken,
    arm_token: Option<AzureToken>,
    /// The service-account token, reused for the ARM token's exchange.
    assertion: Option<Secret>,
    state: AksState,
}

impl AksFlow {
    fn new(plan: ClusterPlan, lookup: Option<AksLookup>, identity: AzureIdentity) -> Self {
        let aks_token = AzureToken::new(identity.clone(), crate::azure::cloud::AKS_SCOPE.to_owned());
        AksFlow { plan, lookup, identity, aks_token, arm_token: None, assertion: None, state: AksState::AksToken }
    }

    fn with_aks_token(&mut self, aks: AccessToken, now: i64) -> Result<Poll<Credentials>> {
        let Some(lookup) = &self.lookup else {
            self.state = AksState::Finished;
            return finish(&self.plan, None, aks.token, aks.expires_at);
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
        let request = aks::get_cluster_request(&lookup.id, lookup.cloud, lookup.environment.as_ref(), &arm.token)?;
        self.state = AksState::AwaitingCluster { aks, arm: arm.token };
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

    /// An Azure client certificate file, read for each of the two tokens.
    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        match self.state {
            AksState::AksToken => self.aks_token.on_file(contents, now)?.then(|t| self.with_aks_token(t, now)),
            AksState::ArmToken { .. } => match self.arm_token.as_mut() {
                Some(arm) => arm.on_file(contents, now)?.then(|t| self.with_arm_token(t)),
                None => Err(unexpected("AKS", "a file")),
            },
            _ => Err(unexpected("AKS", "a file")),
        }
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        let lookup = self.lookup.as_ref();
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
            AksState::AwaitingCluster { aks, arm } => {
                let lookup = lookup.ok_or_else(|| unexpected("AKS", "an HTTP response"))?;
                aks::parse_cluster(response, &lookup.id)?;
                let request =
                    aks::list_user_credentials_request(&lookup.id, lookup.cloud, lookup.environment.as_ref(), &arm)?;
                self.state = AksState::AwaitingCredentials { aks };
                Ok(send(request, Carries::CloudCredential))
            }
            AksState::AwaitingCredentials { aks } => {
                let lookup = lookup.ok_or_else(|| unexpected("AKS", "an HTTP response"))?;
                let discovered = aks::parse_user_credentials(response, &lookup.id, self.plan.address.as_deref())?;
                finish(&self.plan, Some(&discovered), aks.token, aks.expires_at)
            }
            AksState::Finished => Err(unexpected("AKS", "an HTTP response")),
        }
    }
}

// ---------------------------------------------------------------- EKS

enum EksState {
    Credentials,
    /// Waiting for `DescribeCluster`; `started` is when the REST config's
    /// life began.
    AwaitingDescribe {
        credentials: AwsCredentials,
        started: i64,
    },
    Finished,
}

/// EKS: AWS credentials, then (without address or CA) `DescribeCluster`,
/// then the token.
pub struct EksFlow {
    plan: ClusterPlan,
    arn: eks::ClusterArn,
    endpoint: EndpointOptions,
    credentials: AwsCredentialsMachine,
    state: EksState,
}

impl EksFlow {
    fn new(plan: ClusterPlan, arn: eks::ClusterArn, endpoint: EndpointOptions, aws: AwsPlan) -> Self {
        EksFlow { plan, arn, endpoint, credentials: AwsCredentialsMachine::new(aws), state: EksState::Credentials }
    }

    /// The first cluster step: `now` starts the REST config's life, as
    /// Flux's `time.Now()` when it starts building it.
    fn with_credentials(&mut self, credentials: AwsCredentials, now: i64) -> Result<Poll<Credentials>> {
        if !self.plan.needs_lookup() {
            return self.finish(&credentials, None, now, now);
        }
        let request = eks::describe_cluster_request(&self.arn, &credentials, now, self.endpoint)?;
        self.state = EksState::AwaitingDescribe { credentials, started: now };
        Ok(send(request, Carries::CloudCredential))
    }

    fn finish(
        &mut self,
        credentials: &AwsCredentials,
        discovered: Option<&Discovered>,
        started: i64,
        now: i64,
    ) -> Result<Poll<Credentials>> {
        self.state = EksState::Finished;
        let token = crate::aws::eks::token(self.arn.name(), self.arn.region(), credentials, now, self.endpoint)?;
        finish(&self.plan, discovered, token.token, eks::rest_config_expiry(started)?)
    }
}

impl Machine for EksFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.credentials.begin(now)?.then(|c| self.with_credentials(c, now))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        if !matches!(self.state, EksState::Credentials) {
            return Err(unexpected("EKS", "an identity token"));
        }
        self.credentials.on_identity_token(token, now)?.then(|c| self.with_credentials(c, now))
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        if !matches!(self.state, EksState::Credentials) {
            return Err(unexpected("EKS", "a file"));
        }
        self.credentials.on_file(contents, now)?.then(|c| self.with_credentials(c, now))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match std::mem::replace(&mut self.state, EksState::Finished) {
            EksState::Credentials => {
                self.state = EksState::Credentials;
                self.credentials.on_http(response, now)?.then(|c| self.with_credentials(c, now))
            }
            EksState::AwaitingDescribe { credentials, started } => {
                let discovered = eks::parse_describe_cluster(response, &self.arn)?;
                self.finish(&credentials, Some(&discovered), started, now)
            }
            EksState::Finished => Err(unexpected("EKS", "an HTTP response")),
        }
    }
}

// ---------------------------------------------------------------- GKE

/// GKE: the Google token, then (without address or CA) `clusters.get`.
pub struct GkeFlow {
    plan: ClusterPlan,
    lookup: Option<gke::ClusterName>,
    token: GcpToken,
    /// The token, while the cluster is looked up.
    awaiting_cluster: Option<AccessToken>,
}

impl GkeFlow {
    fn new(plan: ClusterPlan, lookup: Option<gke::ClusterName>, identity: GcpIdentity) -> Self {
        let scopes = crate::gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        GkeFlow { plan, lookup, token: GcpToken::new(identity, scopes), awaiting_cluster: None }
    }

    fn with_token(&mut self, token: AccessToken) -> Result<Poll<Credentials>> {
        match &self.lookup {
            None => finish(&self.plan, None, token.token, token.expires_at),
            Some(name) => {
                let request = gke::get_cluster_request(name, &token.token)?;
                self.awaiting_cluster = Some(token);
                Ok(send(request, Carries::CloudCredential))
            }
        }
    }
}

impl Machine for GkeFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.token.begin(now)?.then(|t| self.with_token(t))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        if self.awaiting_cluster.is_some() {
            return Err(unexpected("GKE", "an identity token"));
        }
        self.token.on_identity_token(token, now)?.then(|t| self.with_token(t))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match (self.awaiting_cluster.take(), &self.lookup) {
            (None, _) => self.token.on_http(response, now)?.then(|t| self.with_token(t)),
            (Some(token), Some(name)) => {
                let discovered = gke::parse_cluster(response, name)?;
                finish(&self.plan, Some(&discovered), token.token, token.expires_at)
            }
            (Some(_), None) => Err(unexpected("GKE", "an HTTP response")),
        }
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        if self.awaiting_cluster.is_some() {
            return Err(unexpected("GKE", "a file"));
        }
        self.token.on_file(contents, now)?.then(|t| self.with_token(t))
    }
}

// ---------------------------------------------------------------- generic

/// Any cluster: a Kubernetes token for the address as audience (Flux's
/// generic provider), expiring at its `exp` claim. The CA is optional here:
/// without one the host trusts its own roots.
pub struct GenericClusterFlow {
    plan: ClusterPlan,
    source: TokenSource,
    started: bool,
}

impl GenericClusterFlow {
    fn new(plan: ClusterPlan, source: TokenSource) -> Self {
        GenericClusterFlow { plan, source, started: false }
    }

    fn address(&self) -> Result<&str> {
        self.plan
            .address
            .as_deref()
            .ok_or_else(|| Error::invalid("cluster address is required to create a REST config"))
    }
}

impl Machine for GenericClusterFlow {
    type Output = Credentials;

    fn begin(&mut self, _now: i64) -> Result<Poll<Credentials>> {
        if self.started {
            return Err(unexpected("cluster", "a second start"));
        }
        self.started = true;
        Ok(Poll::Pending(Action::FetchIdentityToken(self.source.request(self.address()?))))
    }

    fn on_identity_token(&mut self, token: &Secret, _now: i64) -> Result<Poll<Credentials>> {
        let expires_at = crate::jwt::expiry(token.expose())
            .map_err(|e| Error::invalid(format!("the service account token: {e}")))?;
        Ok(Poll::Ready(Credentials::RestConfig(RestConfig {
            host: cluster::api_server_address(self.address()?)?,
            ca_data: self.plan.ca.clone(),
            bearer_token: token.clone(),
            expires_at,
        })))
    }

    fn on_http(&mut self, _response: &HttpResponse, _now: i64) -> Result<Poll<Credentials>> {
        Err(unexpected("cluster", "an HTTP response"))
    }
}
