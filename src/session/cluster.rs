//! Kubernetes cluster targets, decided: which cluster, whether the cloud API
//! must look it up, and with which identity.
//!
//! The building blocks (AKS IDs, EKS ARNs, GKE names, the lookup requests
//! and their answers, the REST config) are `crate::cluster`'s; this module
//! only applies Flux's rules for when they are needed. The flows that run
//! them live in `flow::cluster`.

use crate::aws::endpoint::EndpointOptions;
use crate::azure::cloud::{AzureCloud, AzureEnvironment};
use crate::cluster::{self, aks, eks, gke};
use crate::error::{Error, Result};
use crate::registry::Provider;

use super::identity::ProviderIdentity;
use super::identity::{AwsPlan, AzureIdentity, GcpIdentity, StsEndpoint, TokenSource, generic_token_source};
use super::request::{Cluster, Identity, Options};

/// A validated cluster target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterPlan {
    /// The resource ID as given (for the cache key).
    pub id: String,
    /// The API server address as given, checked by
    /// [`cluster::api_server_address`]; None when not given or empty.
    pub address: Option<String>,
    /// The CA bundle as given, checked by [`cluster::check_ca_pem`]; None
    /// when not given or empty.
    pub ca: Option<String>,
    pub kind: ClusterKind,
}

/// What each provider needs for its cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterKind {
    /// AKS: an AKS-scoped Entra token; with `lookup`, also an ARM token and
    /// the ARM lookup of the cluster.
    Aks { lookup: Option<AksLookup> },
    /// EKS: AWS credentials and the presigned-STS token, in the ARN's
    /// region; `DescribeCluster` when the address or CA is missing. The
    /// endpoint options (FIPS, dual-stack) serve both.
    Eks { arn: eks::ClusterArn, endpoint: EndpointOptions },
    /// GKE: a Google token; `clusters.get` of `lookup` when set.
    Gke { lookup: Option<gke::ClusterName> },
    /// Any cluster: the Kubernetes token, for the address as audience.
    Generic,
}

/// Where an AKS cluster is looked up, and the ARM token for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AksLookup {
    pub id: aks::ClusterId,
    pub cloud: AzureCloud,
    pub environment: Option<AzureEnvironment>,
    /// [`aks::arm_lookup_scope`] of the cloud.
    pub arm_scope: String,
}

impl ClusterPlan {
    /// Whether the cloud API must describe the cluster.
    pub fn needs_lookup(&self) -> bool {
        cluster::needs_lookup(self.address.as_deref(), self.ca.as_deref())
    }
}

/// Decides a cluster target and its identity. Flux's rules: the cluster is
/// looked up when the address or the CA is missing; AKS and GKE IDs are only
/// needed then, the EKS ARN always (it names the region).
pub fn plan(
    cluster: &Cluster,
    identity: &Identity,
    options: &Options,
    now: i64,
) -> Result<(ClusterPlan, ProviderIdentity)> {
    // An empty string counts as not given, as in Flux.
    let address = match cluster.address.as_deref() {
        None | Some("") => None,
        Some(address) => Some(cluster::api_server_address(address).map(|_| address.to_owned())?),
    };
    let ca = match cluster.ca_data.as_deref() {
        None | Some("") => None,
        Some(ca) => Some(cluster::check_ca_pem(ca).map(|()| ca.to_owned())?),
    };
    let lookup = cluster::needs_lookup(address.as_deref(), ca.as_deref());
    let (kind, identity) = match cluster.provider {
        Provider::Azure => {
            let environment = options.azure_environment.as_ref();
            let cloud = aks::lookup_cloud(options.env("AZURE_AUTHORITY_HOST")?, environment.is_some());
            let lookup = if lookup {
                Some(AksLookup {
                    id: aks::ClusterId::parse(&cluster.resource_id)?,
                    cloud,
                    environment: environment.cloned(),
                    arm_scope: aks::arm_lookup_scope(cloud, environment)?,
                })
            } else {
                None
            };
            let identity = ProviderIdentity::Azure(AzureIdentity::plan(identity, options, cloud)?);
            (ClusterKind::Aks { lookup }, identity)
        }
        Provider::Aws => {
            let arn = eks::ClusterArn::parse(&cluster.resource_id)?;
            let aws = AwsPlan::plan(identity, options, Some(arn.region()), now)?;
            let StsEndpoint::Resolved(endpoint) = aws.sts else {
                return Err(Error::unsupported("an explicit STS endpoint is not supported for EKS tokens"));
            };
            (ClusterKind::Eks { arn, endpoint }, ProviderIdentity::Aws(aws))
        }
        Provider::Gcp => {
            let lookup = if lookup { Some(gke::ClusterName::parse(&cluster.resource_id)?) } else { None };
            (ClusterKind::Gke { lookup }, ProviderIdentity::Gcp(GcpIdentity::plan(identity, options)?))
        }
        Provider::Generic => {
            if address.is_none() {
                return Err(Error::invalid("cluster address is required to create a REST config"));
            }
            let source = generic_token_source(identity, options)?.unwrap_or(TokenSource::Host);
            (ClusterKind::Generic, ProviderIdentity::Generic(Some(source)))
        }
    };
    Ok((ClusterPlan { id: cluster.resource_id.clone(), address, ca, kind }, identity))
}
