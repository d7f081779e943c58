//! Kubernetes cluster targets: AKS resource IDs, EKS ARNs and GKE resource
//! names (fluxcd/pkg's patterns and error texts), API server addresses, and
//! the cloud API calls that look a cluster up when its address or CA is not
//! given (ARM for AKS, EKS `DescribeCluster`, the GKE container API), with
//! the parsing of their answers.
//!
//! The flows that use these live in `flow::cluster`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::aws::partition;
use crate::aws::sigv4::{self, SigningParams};
use crate::azure::cloud::{AzureCloud, AzureEnvironment};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse, percent_encode};
use crate::response::{ErrorFormat, json_body};
use crate::secret::Secret;
use crate::target::Provider;

use super::identity::{AwsPlan, AzureIdentity, GcpIdentity, StsEndpoint, TokenSource, generic_token_source};
use super::plan::ProviderIdentity;
use super::request::{Cluster, Identity, Options};

// ---------------------------------------------------------------- plans

/// A validated cluster target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterPlan {
    /// AKS: an AKS-scoped Entra token; with `lookup`, also an ARM token and
    /// the cluster's address and CA from ARM.
    Aks { id: String, address: Option<String>, ca: Option<String>, lookup: Option<AksLookup> },
    /// EKS: a presigned-STS token; without address or CA, `DescribeCluster`.
    Eks { id: String, cluster: EksCluster, address: Option<String>, ca: Option<String> },
    /// GKE: a Google token; without address or CA, the container API (`cluster` set).
    Gke { id: String, cluster: Option<GkeCluster>, address: Option<String>, ca: Option<String> },
    /// Any cluster: the Kubernetes token, for the address as audience.
    Generic { id: String, address: String, ca: Option<String> },
}

/// Where and how an AKS cluster is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AksLookup {
    pub cluster: AksCluster,
    pub arm_scope: String,
    pub arm_base: String,
}

impl ClusterPlan {
    /// The resource ID as given (for the cache key).
    pub fn id(&self) -> &str {
        match self {
            ClusterPlan::Aks { id, .. }
            | ClusterPlan::Eks { id, .. }
            | ClusterPlan::Gke { id, .. }
            | ClusterPlan::Generic { id, .. } => id,
        }
    }

    /// The address as given.
    pub fn address(&self) -> Option<&str> {
        match self {
            ClusterPlan::Aks { address, .. } | ClusterPlan::Eks { address, .. } | ClusterPlan::Gke { address, .. } => {
                address.as_deref()
            }
            ClusterPlan::Generic { address, .. } => Some(address),
        }
    }

    /// The CA as given.
    pub fn ca(&self) -> Option<&str> {
        match self {
            ClusterPlan::Aks { ca, .. }
            | ClusterPlan::Eks { ca, .. }
            | ClusterPlan::Gke { ca, .. }
            | ClusterPlan::Generic { ca, .. } => ca.as_deref(),
        }
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
    let id = cluster.resource_id.clone();
    let address = cluster.address.as_deref().map(check_address).transpose()?;
    let ca = match cluster.ca_data.as_deref() {
        Some(ca) if ca.is_empty() => None,
        Some(ca) if ca.len() > MAX_CA || ca.contains('\0') => {
            return Err(Error::invalid("the CA data is too long or contains NUL"));
        }
        other => other.map(str::to_owned),
    };
    let lookup = address.is_none() || ca.is_none();
    match cluster.provider {
        Provider::Azure => {
            let cloud = aks_cloud(options.azure_environment.as_ref(), options.env("AZURE_AUTHORITY_HOST")?);
            let lookup = match lookup {
                true => Some(AksLookup {
                    cluster: parse_aks(&id)?,
                    arm_scope: arm_scope(cloud, options.azure_environment.as_ref())?,
                    arm_base: arm_base(cloud, options.azure_environment.as_ref())?,
                }),
                false => None,
            };
            let identity = ProviderIdentity::Azure(AzureIdentity::plan(identity, options, cloud)?);
            Ok((ClusterPlan::Aks { id, address, ca, lookup }, identity))
        }
        Provider::Aws => {
            let eks = parse_eks(&id)?;
            eks_base(&eks.region)?;
            let aws = AwsPlan::plan(identity, options, Some(&eks.region), now)?;
            if matches!(aws.sts, StsEndpoint::Explicit(_)) {
                return Err(Error::unsupported("an explicit STS endpoint is not supported for EKS tokens"));
            }
            Ok((ClusterPlan::Eks { id, cluster: eks, address, ca }, ProviderIdentity::Aws(aws)))
        }
        Provider::Gcp => {
            let gke = if lookup { Some(parse_gke(&id)?) } else { None };
            Ok((
                ClusterPlan::Gke { id, cluster: gke, address, ca },
                ProviderIdentity::Gcp(GcpIdentity::plan(identity, options)?),
            ))
        }
        Provider::Generic => {
            let address =
                address.ok_or_else(|| Error::invalid("cluster address is required to create a REST config"))?;
            let source = generic_token_source(identity, options)?.unwrap_or(TokenSource::Host);
            Ok((ClusterPlan::Generic { id, address, ca }, ProviderIdentity::Generic(Some(source))))
        }
    }
}

/// Longest CA bundle accepted.
const MAX_CA: usize = 256 * 1024;

// ---------------------------------------------------------------- identifiers

const AKS_PATTERN: &str = r"(?i)^/subscriptions/([^/]{36})/resourceGroups/([^/]{1,200})/providers/Microsoft\.ContainerService/managedClusters/([^/]{1,200})$";
const EKS_PATTERN: &str = r"^arn:aws[\w-]*:eks:([^:]{1,100}):[0-9]{1,30}:cluster/(.{1,200})$";
const GKE_PATTERN: &str = r"^projects/[^/]{1,200}/locations/[^/]{1,200}/clusters/[^/]{1,200}$";

/// An AKS cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AksCluster {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
}

/// Parses an AKS resource ID as Flux does (case-insensitive fixed parts).
pub fn parse_aks(id: &str) -> Result<AksCluster> {
    let bad = || Error::invalid(format!("invalid AKS cluster ID: '{id}'. must match {AKS_PATTERN}"));
    let segments: Vec<&str> = id.split('/').collect();
    let [empty, subscriptions, subscription, groups, group, providers, namespace, clusters, name] = segments.as_slice()
    else {
        return Err(bad());
    };
    let fixed = [
        (*subscriptions, "subscriptions"),
        (*groups, "resourceGroups"),
        (*providers, "providers"),
        (*namespace, "Microsoft.ContainerService"),
        (*clusters, "managedClusters"),
    ];
    let ok = empty.is_empty()
        && fixed.iter().all(|(got, want)| got.eq_ignore_ascii_case(want))
        && subscription.chars().count() == 36
        && (1..=200).contains(&group.chars().count())
        && (1..=200).contains(&name.chars().count());
    if !ok || id.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(AksCluster {
        subscription: (*subscription).to_owned(),
        resource_group: (*group).to_owned(),
        name: (*name).to_owned(),
    })
}

/// An EKS cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EksCluster {
    pub region: String,
    pub name: String,
}

/// Parses an EKS cluster ARN as Flux does.
pub fn parse_eks(arn: &str) -> Result<EksCluster> {
    let bad = || Error::invalid(format!("invalid EKS cluster ARN: '{arn}'. must match {EKS_PATTERN}"));
    let rest = arn.strip_prefix("arn:aws").ok_or_else(bad)?;
    let (partition_suffix, rest) = rest.split_once(":eks:").ok_or_else(bad)?;
    let (region, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (account, name) = rest.split_once(":cluster/").ok_or_else(bad)?;
    let ok = partition_suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && (1..=100).contains(&region.chars().count())
        && (1..=30).contains(&account.len())
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=200).contains(&name.chars().count())
        && !arn.chars().any(char::is_control);
    if !ok {
        return Err(bad());
    }
    Ok(EksCluster { region: region.to_owned(), name: name.to_owned() })
}

/// A GKE cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GkeCluster {
    pub project: String,
    pub location: String,
    pub name: String,
}

impl GkeCluster {
    /// `projects/<p>/locations/<l>/clusters/<c>`.
    pub fn resource_name(&self) -> String {
        format!("projects/{}/locations/{}/clusters/{}", self.project, self.location, self.name)
    }
}

/// Parses a GKE cluster resource name as Flux does.
pub fn parse_gke(name: &str) -> Result<GkeCluster> {
    let bad = || Error::invalid(format!("invalid GKE cluster ID: '{name}'. must match {GKE_PATTERN}"));
    let segments: Vec<&str> = name.split('/').collect();
    let ["projects", project, "locations", location, "clusters", cluster] = segments.as_slice() else {
        return Err(bad());
    };
    let len_ok = |s: &str| (1..=200).contains(&s.chars().count());
    if !len_ok(project) || !len_ok(location) || !len_ok(cluster) || name.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(GkeCluster { project: (*project).to_owned(), location: (*location).to_owned(), name: (*cluster).to_owned() })
}

/// Checks an API server address given by the caller: `https://` with a
/// valid host. It is returned as given, as Flux does.
pub fn check_address(address: &str) -> Result<String> {
    crate::kubernetes::api_server_base(address)?;
    Ok(address.to_owned())
}

/// Flux's `ParseClusterAddress`, the form addresses are compared in:
/// `https://` added unless the address starts with `http`, https required,
/// `:443` added when there is no port, host and port in lower case.
pub fn canonical_address(address: &str) -> Result<String> {
    if address.is_empty() {
        return Err(Error::invalid("empty address"));
    }
    let url = if address.starts_with("http") { address.to_owned() } else { format!("https://{address}") };
    let rest = url.strip_prefix("https://").ok_or_else(|| {
        Error::invalid(format!("the Kubernetes API server address '{address}' must use https scheme"))
    })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let parsed = Authority::parse(authority)
        .map_err(|e| Error::invalid(format!("failed to parse Kubernetes API server address '{address}': {e}")))?;
    Ok(format!("https://{}:{}", parsed.host(), parsed.port().unwrap_or(443)))
}

/// A CA bundle from a base64 field: PEM text.
fn decode_ca(what: &str, data: &str) -> Result<String> {
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| Error::malformed(format!("failed to decode {what} CA certificate: not base64")))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::malformed(format!("failed to decode {what} CA certificate: not PEM text")))
}

/// An API server address from a cloud API: `https://` added to a bare host,
/// checked like a caller's.
fn api_server(what: &str, endpoint: &str) -> Result<String> {
    let url = if endpoint.contains("://") { endpoint.to_owned() } else { format!("https://{endpoint}") };
    crate::kubernetes::api_server_base(&url).map_err(|e| Error::malformed(format!("the {what} endpoint: {e}")))?;
    Ok(url)
}

// ---------------------------------------------------------------- AKS (ARM)

/// The ARM API version of the managed-cluster calls: that of the
/// `armcontainerservice` v1 module fluxcd/pkg imports.
pub const AKS_API_VERSION: &str = "2022-03-01";

/// The cloud an AKS lookup runs in, as Flux picks it: the environment file,
/// else `AZURE_AUTHORITY_HOST` naming the China or US Government authority,
/// else the public cloud.
pub fn aks_cloud(environment: Option<&AzureEnvironment>, authority_host: Option<&str>) -> AzureCloud {
    match (environment, authority_host) {
        (Some(_), _) => AzureCloud::Custom,
        (None, Some(h)) if h.contains("chinacloudapi.cn") => AzureCloud::China,
        (None, Some(h)) if h.contains("microsoftonline.us") => AzureCloud::UsGovernment,
        _ => AzureCloud::Public,
    }
}

/// The ARM token scope Flux asks for: the ARM *audience* plus `/.default`
/// (hence the double slash of the known clouds).
pub fn arm_scope(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    let audience = match cloud {
        AzureCloud::Public => "https://management.core.windows.net/",
        AzureCloud::China => "https://management.core.chinacloudapi.cn/",
        AzureCloud::UsGovernment => "https://management.core.usgovcloudapi.net/",
        AzureCloud::Custom => environment
            .and_then(|e| e.token_audience.as_deref())
            .ok_or_else(|| Error::invalid("a custom Azure cloud needs its environment's tokenAudience"))?,
    };
    Ok(format!("{audience}/.default"))
}

/// The ARM endpoint of a cloud. Flux always calls the public endpoint
/// (its client sets no cloud); each cloud's own endpoint is used here, since
/// a China or US Government cluster is only known to its cloud's ARM.
pub fn arm_base(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    Ok(match cloud {
        AzureCloud::Public => "https://management.azure.com".to_owned(),
        AzureCloud::China => "https://management.chinacloudapi.cn".to_owned(),
        AzureCloud::UsGovernment => "https://management.usgovcloudapi.net".to_owned(),
        AzureCloud::Custom => {
            let endpoint = environment.and_then(|e| e.resource_manager_endpoint.as_deref()).ok_or_else(|| {
                Error::invalid("a custom Azure cloud needs its environment's resourceManagerEndpoint")
            })?;
            endpoint.trim_end_matches('/').to_owned()
        }
    })
}

fn managed_cluster_url(base: &str, cluster: &AksCluster) -> String {
    format!(
        "{base}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
        percent_encode(&cluster.subscription),
        percent_encode(&cluster.resource_group),
        percent_encode(&cluster.name)
    )
}

/// `GET` of the managed cluster.
pub fn managed_cluster_request(base: &str, cluster: &AksCluster, arm_token: &Secret) -> Result<HttpRequest> {
    HttpRequest::get(format!("{}?api-version={AKS_API_VERSION}", managed_cluster_url(base, cluster)))
        .header("Accept", "application/json")?
        .header("Authorization", format!("Bearer {}", arm_token.expose()))
}

/// Checks the managed cluster has Entra ID integration (`aadProfile`).
pub fn parse_managed_cluster(response: &HttpResponse, id: &str) -> Result<()> {
    let body: Value = json_body(response, ErrorFormat::OAuth2)?;
    match body.get("properties").and_then(|p| p.get("aadProfile")) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(Error::unsupported(format!(
            "AKS cluster {id} does not have Microsoft Entra ID integration enabled. See docs for enabling: https://learn.microsoft.com/en-us/azure/aks/enable-authentication-microsoft-entra-id"
        ))),
    }
}

/// `POST .../listClusterUserCredential`.
pub fn user_credentials_request(base: &str, cluster: &AksCluster, arm_token: &Secret) -> Result<HttpRequest> {
    HttpRequest::post(format!(
        "{}/listClusterUserCredential?api-version={AKS_API_VERSION}",
        managed_cluster_url(base, cluster)
    ))
    .header("Accept", "application/json")?
    .header("Authorization", format!("Bearer {}", arm_token.expose()))
}

#[derive(Deserialize)]
struct CredentialResults {
    kubeconfigs: Option<Vec<CredentialResult>>,
}

#[derive(Deserialize)]
struct CredentialResult {
    value: Option<String>,
}

/// Picks the kubeconfig as Flux does (the first, or the first whose server
/// matches `address`) and returns its server and CA (PEM).
pub fn parse_user_credentials(
    response: &HttpResponse,
    id: &str,
    address: Option<&str>,
) -> Result<(String, Option<String>)> {
    let body: CredentialResults = json_body(response, ErrorFormat::OAuth2)?;
    let wanted = address.map(canonical_address).transpose()?;
    let mut servers = Vec::new();
    for (i, result) in body.kubeconfigs.unwrap_or_default().into_iter().enumerate() {
        let encoded =
            result.value.ok_or_else(|| Error::malformed(format!("failed to parse kubeconfig[{i}]: no value")))?;
        let text = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::malformed(format!("failed to parse kubeconfig[{i}]: not base64 text")))?;
        let (server, ca) =
            kubeconfig_cluster(&text).map_err(|e| Error::malformed(format!("failed to parse kubeconfig[{i}]: {e}")))?;
        let canonical = canonical_address(&server)
            .map_err(|e| Error::malformed(format!("failed to parse address '{server}' from kubeconfig[{i}]: {e}")))?;
        if wanted.as_ref().is_none_or(|w| *w == canonical) {
            let server = api_server("AKS", &server)?;
            let ca = ca.map(|c| decode_ca("AKS", &c)).transpose()?;
            return Ok((server, ca));
        }
        servers.push(format!("'{server}'"));
    }
    match address {
        None => Err(Error::malformed(format!("no kubeconfig found for AKS cluster {id}"))),
        Some(a) => Err(Error::invalid(format!(
            "no kubeconfig found for AKS cluster {id} matching the specified address '{a}'. cluster addresses: [{}]",
            servers.join(", ")
        ))),
    }
}

/// The server and base64 CA of a kubeconfig's current cluster (else its
/// first). Kubeconfigs are YAML; AKS writes plain block-style YAML, which is
/// read here line by line (JSON is accepted too). Anything fancier (flow
/// collections, anchors, multi-line scalars) in the fields read is refused.
pub fn kubeconfig_cluster(text: &str) -> Result<(String, Option<String>)> {
    let doc = match serde_json::from_str::<Value>(text) {
        Ok(json) => KubeConfig::from_json(&json),
        Err(_) => KubeConfig::from_yaml(text)?,
    };
    let cluster_name = doc
        .current_context
        .as_ref()
        .and_then(|c| doc.contexts.iter().find(|(name, _)| name == c))
        .map(|(_, cluster)| cluster.clone());
    let cluster = match cluster_name {
        Some(name) => doc.clusters.iter().find(|c| c.name.as_deref() == Some(name.as_str())),
        None => doc.clusters.first(),
    }
    .ok_or_else(|| Error::malformed("the kubeconfig names no usable cluster"))?;
    let server = cluster.server.clone().ok_or_else(|| Error::malformed("the kubeconfig cluster has no server"))?;
    Ok((server, cluster.ca.clone()))
}

#[derive(Default)]
struct KubeCluster {
    name: Option<String>,
    server: Option<String>,
    ca: Option<String>,
}

#[derive(Default)]
struct KubeConfig {
    clusters: Vec<KubeCluster>,
    /// (context name, cluster name)
    contexts: Vec<(String, String)>,
    current_context: Option<String>,
}

impl KubeConfig {
    fn from_json(json: &Value) -> Self {
        let s = |v: &Value| v.as_str().map(str::to_owned);
        let list = |key: &str| json.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        KubeConfig {
            clusters: list("clusters")
                .iter()
                .map(|c| KubeCluster {
                    name: c.get("name").and_then(s),
                    server: c.get("cluster").and_then(|c| c.get("server")).and_then(s),
                    ca: c.get("cluster").and_then(|c| c.get("certificate-authority-data")).and_then(s),
                })
                .collect(),
            contexts: list("contexts")
                .iter()
                .filter_map(|c| Some((c.get("name").and_then(s)?, c.get("context")?.get("cluster").and_then(s)?)))
                .collect(),
            current_context: json.get("current-context").and_then(s),
        }
    }

    fn from_yaml(text: &str) -> Result<Self> {
        let mut doc = KubeConfig::default();
        let mut section = "";
        // The context being read: (name, cluster).
        let mut context: Option<(Option<String>, Option<String>)> = None;
        let flush_context = |context: &mut Option<(Option<String>, Option<String>)>, doc: &mut KubeConfig| {
            if let Some((Some(name), Some(cluster))) = context.take() {
                doc.contexts.push((name, cluster));
            }
        };
        for raw in text.lines() {
            let line = raw.trim_end();
            let content = line.trim_start();
            if content.is_empty() || content.starts_with('#') || content == "---" {
                continue;
            }
            let indent = line.len() - content.len();
            if indent == 0 && !content.starts_with("- ") {
                flush_context(&mut context, &mut doc);
                let (key, value) = key_value(content)?;
                section = match key {
                    "clusters" | "contexts" => key,
                    "current-context" => {
                        doc.current_context = scalar(value)?;
                        ""
                    }
                    _ => "",
                };
                continue;
            }
            let (new_item, content) = match content.strip_prefix("- ") {
                Some(rest) => (true, rest.trim_start()),
                None => (false, content),
            };
            match section {
                "clusters" => {
                    if new_item {
                        doc.clusters.push(KubeCluster::default());
                    }
                    let Some(cluster) = doc.clusters.last_mut() else { continue };
                    let (key, value) = key_value(content)?;
                    match key {
                        "name" => cluster.name = scalar(value)?,
                        "server" => cluster.server = scalar(value)?,
                        "certificate-authority-data" => cluster.ca = scalar(value)?,
                        _ => {}
                    }
                }
                "contexts" => {
                    if new_item {
                        flush_context(&mut context, &mut doc);
                        context = Some((None, None));
                    }
                    let Some((name, cluster)) = context.as_mut() else { continue };
                    let (key, value) = key_value(content)?;
                    match key {
                        "name" => *name = scalar(value)?,
                        "cluster" if !value.is_empty() => *cluster = scalar(value)?,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        flush_context(&mut context, &mut doc);
        Ok(doc)
    }
}

/// `key: value` (value may be empty).
fn key_value(line: &str) -> Result<(&str, &str)> {
    let (key, value) =
        line.split_once(':').ok_or_else(|| Error::malformed("the kubeconfig has a line that is not key: value"))?;
    Ok((key.trim(), value.trim()))
}

/// A plain or quoted scalar; None when empty.
fn scalar(value: &str) -> Result<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    let unquoted = match (
        value.strip_prefix('"').and_then(|v| v.strip_suffix('"')),
        value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')),
    ) {
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) => {
            if value.starts_with(['{', '[', '&', '*', '|', '>', '!', '%', '@', '`']) {
                return Err(Error::malformed("the kubeconfig uses YAML this reader does not take"));
            }
            value
        }
    };
    if unquoted.contains('\\') || unquoted.chars().any(char::is_control) {
        return Err(Error::malformed("the kubeconfig has an escaped or control character in a value"));
    }
    Ok(Some(unquoted.to_owned()))
}

// ---------------------------------------------------------------- EKS

/// The EKS API endpoint of a region (`eks.<region>.<partition DNS suffix>`).
pub fn eks_base(region: &str) -> Result<String> {
    let p =
        partition::for_region(region).ok_or_else(|| Error::invalid(format!("{region:?} is not an AWS region name")))?;
    Ok(format!("https://eks.{region}.{}", p.dns_suffix))
}

/// A SigV4-signed `DescribeCluster` (`GET /clusters/<name>`).
pub fn describe_cluster_request(cluster: &EksCluster, credentials: &AwsCredentials, now: i64) -> Result<HttpRequest> {
    let url = format!("{}/clusters/{}", eks_base(&cluster.region)?, percent_encode(&cluster.name));
    let request = HttpRequest::get(url).header("Accept", "application/json")?;
    let params = SigningParams {
        credentials,
        region: &cluster.region,
        service: "eks",
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    };
    Ok(sigv4::sign(&request, &params)?.request)
}

/// The endpoint and CA (PEM) of a `DescribeCluster` answer.
pub fn parse_describe_cluster(response: &HttpResponse) -> Result<(String, String)> {
    let body: Value = json_body(response, ErrorFormat::AwsJson)?;
    let cluster = body.get("cluster").ok_or_else(|| Error::malformed("DescribeCluster gave no cluster"))?;
    let endpoint = cluster
        .get("endpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("the EKS cluster has no endpoint"))?;
    let ca = cluster
        .get("certificateAuthority")
        .and_then(|c| c.get("data"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("the EKS cluster has no certificateAuthority.data"))?;
    Ok((api_server("EKS", endpoint)?, decode_ca("EKS", ca)?))
}

// ---------------------------------------------------------------- GKE

/// The GKE container API.
pub const GKE_API: &str = "https://container.googleapis.com";

/// `GET` of the cluster from the container API.
pub fn gke_cluster_request(cluster: &GkeCluster, token: &Secret) -> Result<HttpRequest> {
    let url = format!(
        "{GKE_API}/v1/projects/{}/locations/{}/clusters/{}",
        percent_encode(&cluster.project),
        percent_encode(&cluster.location),
        percent_encode(&cluster.name)
    );
    HttpRequest::get(url).header("Authorization", format!("Bearer {}", token.expose()))
}

/// The endpoint (as `https://`) and CA (PEM) of a GKE cluster.
pub fn parse_gke_cluster(response: &HttpResponse) -> Result<(String, String)> {
    let body: Value = json_body(response, ErrorFormat::Google)?;
    let endpoint = body
        .get("endpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("the GKE cluster has no endpoint"))?;
    let ca = body
        .get("masterAuth")
        .and_then(|m| m.get("clusterCaCertificate"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("the GKE cluster has no masterAuth.clusterCaCertificate"))?;
    Ok((api_server("GKE", endpoint)?, decode_ca("GKE", ca)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn aks_ids() {
        let id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1";
        assert_eq!(
            parse_aks(id).unwrap(),
            AksCluster {
                subscription: "00000000-0000-0000-0000-000000000000".into(),
                resource_group: "rg".into(),
                name: "c1".into()
            }
        );
        assert!(parse_aks(&id.to_lowercase()).is_ok(), "case-insensitive, as Flux");
        for bad in [
            "",
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1",
            &format!("{id}/x"),
            &id.replace("managedClusters", "clusters"),
            &id.replace("/rg/", "//"),
        ] {
            let err = parse_aks(bad).unwrap_err();
            assert!(err.to_string().contains("invalid AKS cluster ID"), "{bad}: {err}");
        }
    }

    #[test]
    fn eks_arns() {
        assert_eq!(
            parse_eks("arn:aws:eks:us-west-2:123456789012:cluster/my-cluster").unwrap(),
            EksCluster { region: "us-west-2".into(), name: "my-cluster".into() }
        );
        assert!(parse_eks("arn:aws-cn:eks:cn-north-1:123456789012:cluster/c").is_ok());
        for bad in [
            "",
            "arn:aws:eks:us-west-2:12x:cluster/c",
            "arn:aws:iam::1:role/r",
            "arn:aws:eks::1:cluster/c",
            "arn:aws:eks:r:1:cluster/",
        ] {
            assert_eq!(parse_eks(bad).unwrap_err().kind(), "invalid-input", "{bad}");
        }
    }

    #[test]
    fn gke_names() {
        assert_eq!(
            parse_gke("projects/p/locations/us-central1/clusters/c").unwrap().resource_name(),
            "projects/p/locations/us-central1/clusters/c"
        );
        for bad in [
            "",
            "projects/p/locations/l/clusters/",
            "projects/p/zones/l/clusters/c",
            "projects/p/locations/l/clusters/c/x",
        ] {
            let err = parse_gke(bad).unwrap_err();
            assert!(err.to_string().contains("invalid GKE cluster ID"), "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(canonical_address("Cluster.Example:6443").unwrap(), "https://cluster.example:6443");
        assert_eq!(canonical_address("https://cluster.example/").unwrap(), "https://cluster.example:443");
        assert_eq!(canonical_address("").unwrap_err(), Error::invalid("empty address"));
        assert!(canonical_address("http://cluster.example").is_err());
        assert_eq!(check_address("https://10.0.0.1:443").unwrap(), "https://10.0.0.1:443");
        for bad in ["http://c.example", "c.example", "https://u@c.example", "https://c.example?x"] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
    }

    fn kubeconfig(server: &str) -> String {
        let ca = STANDARD.encode(PEM);
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: other\n- cluster:\n    certificate-authority-data: {ca}\n    server: \"{server}\"\n  name: c1\ncontexts:\n- context:\n    cluster: c1\n    user: clusterUser_rg_c1\n  name: c1\ncurrent-context: c1\nkind: Config\npreferences: {{}}\nusers:\n- name: clusterUser_rg_c1\n  user:\n    token: secret\n"
        )
    }

    #[test]
    fn kubeconfigs() {
        let (server, ca) = kubeconfig_cluster(&kubeconfig("https://c1-abc.hcp.eastus.azmk8s.io:443")).unwrap();
        assert_eq!(server, "https://c1-abc.hcp.eastus.azmk8s.io:443");
        assert_eq!(decode_ca("t", &ca.unwrap()).unwrap(), PEM);
        let json = r#"{"clusters":[{"name":"a","cluster":{"server":"https://a.example"}}],"contexts":[],"users":[]}"#;
        assert_eq!(kubeconfig_cluster(json).unwrap(), ("https://a.example".into(), None));
        for bad in [
            "clusters:\n- cluster:\n    server: [x]\n  name: a\n",
            "clusters:\n- cluster:\n    server: *a\n",
            "nothing here",
            "clusters:\n- cluster:\n    server: \"a\\nb\"\n",
        ] {
            assert!(kubeconfig_cluster(bad).is_err(), "{bad:?}");
        }
    }

    fn credentials(servers: &[&str]) -> HttpResponse {
        let list: Vec<Value> = servers
            .iter()
            .map(|s| serde_json::json!({"name": "clusterUser", "value": STANDARD.encode(kubeconfig(s))}))
            .collect();
        resp(200, &serde_json::json!({ "kubeconfigs": list }).to_string())
    }

    #[test]
    fn aks_user_credentials() {
        let both = credentials(&["https://a.example:443", "https://b.example:443"]);
        assert_eq!(parse_user_credentials(&both, "id", None).unwrap().0, "https://a.example:443");
        assert_eq!(parse_user_credentials(&both, "id", Some("B.example")).unwrap().0, "https://b.example:443");
        let err = parse_user_credentials(&both, "id", Some("https://c.example")).unwrap_err();
        assert_eq!(
            err,
            Error::invalid(
                "no kubeconfig found for AKS cluster id matching the specified address 'https://c.example'. cluster addresses: ['https://a.example:443', 'https://b.example:443']"
            )
        );
        assert_eq!(parse_user_credentials(&credentials(&[]), "id", None).unwrap_err().kind(), "malformed-response");
        assert_eq!(
            parse_user_credentials(&resp(200, r#"{"kubeconfigs":[{"value":"!!"}]}"#), "id", None).unwrap_err().kind(),
            "malformed-response"
        );
        assert_eq!(
            parse_user_credentials(&resp(403, r#"{"error":{"code":"AuthorizationFailed"}}"#), "id", None)
                .unwrap_err()
                .kind(),
            "http-status"
        );
    }

    #[test]
    fn aks_requests_and_aad_profile() {
        let cluster = parse_aks("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my rg/providers/Microsoft.ContainerService/managedClusters/c?1").unwrap();
        let req = managed_cluster_request("https://management.azure.com", &cluster, &Secret::new("t")).unwrap();
        assert_eq!(
            req.url,
            "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my%20rg/providers/Microsoft.ContainerService/managedClusters/c%3F1?api-version=2022-03-01"
        );
        assert_eq!(req.header_value("authorization"), Some("Bearer t"));
        let req = user_credentials_request("https://management.azure.com", &cluster, &Secret::new("t")).unwrap();
        assert_eq!(req.method, "POST");
        assert!(req.url.contains("/managedClusters/c%3F1/listClusterUserCredential?api-version="));
        parse_managed_cluster(&resp(200, r#"{"properties":{"aadProfile":{"managed":true}}}"#), "id").unwrap();
        assert_eq!(parse_managed_cluster(&resp(200, r#"{"properties":{}}"#), "id").unwrap_err().kind(), "unsupported");
        assert_eq!(arm_scope(AzureCloud::Public, None).unwrap(), "https://management.core.windows.net//.default");
        assert_eq!(aks_cloud(None, Some("https://login.chinacloudapi.cn/")), AzureCloud::China);
        assert_eq!(arm_base(AzureCloud::UsGovernment, None).unwrap(), "https://management.usgovcloudapi.net");
    }

    #[test]
    fn eks_and_gke_lookups() {
        let body = serde_json::json!({"cluster": {"endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com", "certificateAuthority": {"data": STANDARD.encode(PEM)}}});
        assert_eq!(
            parse_describe_cluster(&resp(200, &body.to_string())).unwrap(),
            ("https://ABC.gr7.us-west-2.eks.amazonaws.com".into(), PEM.into())
        );
        assert!(parse_describe_cluster(&resp(200, r#"{"cluster":{"endpoint":"https://a.example"}}"#)).is_err());
        assert_eq!(eks_base("cn-north-1").unwrap(), "https://eks.cn-north-1.amazonaws.com.cn");
        assert!(eks_base("evil.example/x").is_err());
        let body =
            serde_json::json!({"endpoint": "34.1.2.3", "masterAuth": {"clusterCaCertificate": STANDARD.encode(PEM)}});
        assert_eq!(parse_gke_cluster(&resp(200, &body.to_string())).unwrap(), ("https://34.1.2.3".into(), PEM.into()));
        let body = serde_json::json!({"endpoint": "34.1.2.3/../x?y", "masterAuth": {"clusterCaCertificate": STANDARD.encode(PEM)}});
        assert!(parse_gke_cluster(&resp(200, &body.to_string())).is_err());
        let req =
            gke_cluster_request(&parse_gke("projects/p/locations/l/clusters/c").unwrap(), &Secret::new("t")).unwrap();
        assert_eq!(req.url, "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c");
    }
}
