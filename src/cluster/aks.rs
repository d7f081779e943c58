//! AKS: the cluster resource ID, and the two Azure Resource Manager calls
//! Flux makes when the API server address or CA is not given.
//!
//! Flux (`auth/azure/provider.go`, `NewRESTConfig`) first GETs the managed
//! cluster, only to insist on Microsoft Entra ID integration
//! (`properties.aadProfile`): the REST config's bearer token is an Entra
//! token for the AKS server application ([`AKS_SCOPE`]), which only such
//! clusters accept. It then POSTs `listClusterUserCredential` and takes the
//! address and CA from the returned kubeconfigs: the first one, or the first
//! whose server matches the caller's address. The cluster's `fqdn`,
//! `privateFQDN` and `azurePortalFQDN` properties are not used.
//!
//! Both calls use an ARM token for the scope of [`arm_lookup_scope`].
//! Deviation from Flux: Flux sends them to `https://management.azure.com`
//! whatever the cloud (its ARM client gets no cloud option), which cannot
//! serve Azure China or US Government clusters; here they go to the cloud's
//! own ARM endpoint ([`cloud::arm_endpoint`]).
//!
//! The api-version is [`API_VERSION`], the stable `Microsoft.ContainerService`
//! version 2025-10-01 (azure-rest-api-specs
//! `specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01`,
//! whose `ManagedClustersGet` and `ManagedClustersListClusterUserCredentials`
//! examples show both calls). Flux uses whatever its vendored
//! `armcontainerservice` module pins.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{
    Discovered, api_server_address, canonical_address, decode_ca_data, error_text, kubeconfig, quote, wrap_error,
};
use crate::azure::cloud::{self, AKS_SCOPE, AzureCloud, AzureEnvironment, DEFAULT_SCOPE_SUFFIX};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, json_object, mistyped_field, opt_object, opt_str, optional_field};
use crate::secret::Secret;

/// The `Microsoft.ContainerService` api-version of both calls.
pub const API_VERSION: &str = "2025-10-01";

/// Flux's pattern for the cluster ID, quoted in its error message. cloudauth
/// checks each segment more strictly (see [`ClusterId::parse`]).
const CLUSTER_PATTERN: &str = r"(?i)^/subscriptions/([^/]{36})/resourceGroups/([^/]{1,200})/providers/Microsoft\.ContainerService/managedClusters/([^/]{1,200})$";

/// An AKS cluster resource ID:
/// `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterId {
    id: String,
    subscription_id: String,
    resource_group: String,
    name: String,
}

impl ClusterId {
    /// Parses an ID. The keywords match case-insensitively, as ARM matches
    /// them (and Flux's `(?i)` pattern). Each name must follow ARM's rules,
    /// stricter than Flux's pattern, because it goes into a request path:
    /// the subscription is a GUID; the resource group is 1 to 90 of ASCII
    /// letters, digits, `_-.()`, not ending in `.` (ARM also allows Unicode
    /// letters, which cloudauth refuses rather than escape); the cluster is
    /// 1 to 63 of letters, digits, `_-`, starting and ending alphanumeric.
    pub fn parse(id: &str) -> Result<Self> {
        let shape = || Error::invalid(format!("invalid AKS cluster ID: '{}'. must match {CLUSTER_PATTERN}", quote(id)));
        let segments: Vec<&str> = id.split('/').collect();
        let ["", subscriptions, subscription_id, resource_groups, resource_group, providers, namespace, kind, name] =
            segments.as_slice()
        else {
            return Err(shape());
        };
        let keywords = [
            (subscriptions, "subscriptions"),
            (resource_groups, "resourceGroups"),
            (providers, "providers"),
            (namespace, "Microsoft.ContainerService"),
            (kind, "managedClusters"),
        ];
        if !keywords.iter().all(|(got, want)| got.eq_ignore_ascii_case(want)) {
            return Err(shape());
        }
        let bad = |why: &str| Error::invalid(format!("invalid AKS cluster ID: '{}': {why}", quote(id)));
        if !is_guid(subscription_id) {
            return Err(bad("the subscription ID is not a GUID"));
        }
        if !is_resource_group(resource_group) {
            return Err(bad("the resource group name is not valid"));
        }
        if !is_cluster_name(name) {
            return Err(bad("the cluster name is not valid"));
        }
        Ok(ClusterId {
            id: id.to_owned(),
            subscription_id: (*subscription_id).to_owned(),
            resource_group: (*resource_group).to_owned(),
            name: (*name).to_owned(),
        })
    }

    pub fn subscription_id(&self) -> &str {
        &self.subscription_id
    }

    pub fn resource_group(&self) -> &str {
        &self.resource_group
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ID as the caller wrote it (Flux's error messages quote it so).
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The resource path, keywords spelled as the Azure SDK spells them.
    fn path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_resource_group(s: &str) -> bool {
    (1..=90).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.()".contains(&b))
        && !s.ends_with('.')
}

fn is_cluster_name(s: &str) -> bool {
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    (1..=63).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && edge_ok(s.bytes().next())
        && edge_ok(s.bytes().last())
}

/// The cloud Flux picks for the ARM lookup: the custom cloud when an
/// environment file is configured (`AZURE_ENVIRONMENT_FILEPATH`), else Azure
/// China when `AZURE_AUTHORITY_HOST` contains `chinacloudapi.cn`, US
/// Government when it contains `microsoftonline.us`, else the public cloud.
pub fn lookup_cloud(authority_host: Option<&str>, custom_environment: bool) -> AzureCloud {
    let authority_host = authority_host.unwrap_or_default();
    if custom_environment {
        AzureCloud::Custom
    } else if authority_host.contains("chinacloudapi.cn") {
        AzureCloud::China
    } else if authority_host.contains("microsoftonline.us") {
        AzureCloud::UsGovernment
    } else {
        AzureCloud::Public
    }
}

/// The scope of the ARM token for the lookup: the cloud's Resource Manager
/// *audience* plus `/.default`, hence the double slash
/// (`https://management.core.windows.net//.default`). A custom cloud's
/// audience is its environment's `tokenAudience`.
pub fn arm_lookup_scope(cloud: AzureCloud, environment: Option<&AzureEnvironment>) -> Result<String> {
    let audience = match cloud {
        AzureCloud::Public => "https://management.core.windows.net/",
        AzureCloud::China => "https://management.core.chinacloudapi.cn/",
        AzureCloud::UsGovernment => "https://management.core.usgovcloudapi.net/",
        AzureCloud::Custom => {
            let env = environment.ok_or_else(|| {
                Error::invalid("a custom Azure cloud needs its environment (resourceManagerEndpoint, tokenAudience)")
            })?;
            cloud::check_environment(env)?;
            env.token_audience.as_deref().unwrap_or_default()
        }
    };
    Ok(format!("{audience}{DEFAULT_SCOPE_SUFFIX}"))
}

/// The token scopes of an AKS REST config, one token each, in Flux's order
/// (its cache key lists them so): the AKS scope, then the ARM lookup scope
/// when the cluster must be looked up.
pub fn access_token_scopes(
    lookup: bool,
    cloud: AzureCloud,
    environment: Option<&AzureEnvironment>,
) -> Result<Vec<String>> {
    let mut scopes = vec![AKS_SCOPE.to_owned()];
    if lookup {
        scopes.push(arm_lookup_scope(cloud, environment)?);
    }
    Ok(scopes)
}

/// `GET` of the managed cluster, with the ARM token.
pub fn get_cluster_request(
    id: &ClusterId,
    cloud: AzureCloud,
    environment: Option<&AzureEnvironment>,
    arm_token: &Secret,
) -> Result<HttpRequest> {
    let url = format!("{}{}?api-version={API_VERSION}", cloud::arm_endpoint(cloud, environment)?, id.path());
    arm_request(HttpRequest::get(url), arm_token)
}

/// `POST .../listClusterUserCredential` (no body), with the ARM token.
pub fn list_user_credentials_request(
    id: &ClusterId,
    cloud: AzureCloud,
    environment: Option<&AzureEnvironment>,
    arm_token: &Secret,
) -> Result<HttpRequest> {
    let url = format!(
        "{}{}/listClusterUserCredential?api-version={API_VERSION}",
        cloud::arm_endpoint(cloud, environment)?,
        id.path()
    );
    arm_request(HttpRequest::post(url), arm_token)
}

fn arm_request(request: HttpRequest, token: &Secret) -> Result<HttpRequest> {
    if token.is_empty() {
        return Err(Error::invalid("the ARM access token is empty"));
    }
    request.header("Authorization", format!("Bearer {}", token.expose()))?.header("Accept", "application/json")
}

/// Checks the managed cluster `GET` response: the cluster must have
/// Microsoft Entra ID integration (`properties.aadProfile`), else Flux's
/// error (`unsupported`).
pub fn parse_cluster(response: &HttpResponse, id: &ClusterId) -> Result<()> {
    let has_aad_profile = has_aad_profile(response)
        .map_err(|e| wrap_error("failed to describe AKS cluster", e))?
        .ok_or_else(|| Error::malformed("failed to describe AKS cluster: the response has no properties"))?;
    if !has_aad_profile {
        return Err(Error::unsupported(format!(
            "AKS cluster {} does not have Microsoft Entra ID integration enabled. See docs for enabling: https://learn.microsoft.com/en-us/azure/aks/enable-authentication-microsoft-entra-id",
            quote(id.as_str())
        )));
    }
    Ok(())
}

/// Whether a managed cluster has `properties.aadProfile` (an object);
/// `None` without `properties`.
fn has_aad_profile(response: &HttpResponse) -> Result<Option<bool>> {
    let cluster = json_object(response, ErrorFormat::AzureResourceManager)?;
    match opt_object(&cluster, "properties")? {
        Some(properties) => Ok(Some(opt_object(properties, "aadProfile")?.is_some())),
        None => Ok(None),
    }
}

/// The `value` of each of `kubeconfigs` (a list of objects), all checked
/// before any is used.
fn kubeconfig_values(results: &Value) -> Result<Vec<Option<&str>>> {
    let kubeconfigs = optional_field(results, "kubeconfigs", Value::as_array)?.map_or(&[][..], Vec::as_slice);
    kubeconfigs
        .iter()
        .map(|result| if result.is_object() { opt_str(result, "value") } else { Err(mistyped_field("kubeconfigs")) })
        .collect()
}

/// Picks the cluster's address and CA from the `listClusterUserCredential`
/// response, as Flux does: each kubeconfig (base64 YAML) in order, its
/// current context's cluster; the first one when the caller gave no address,
/// else the first whose server has the same canonical form
/// ([`canonical_address`]) as the caller's address.
pub fn parse_user_credentials(response: &HttpResponse, id: &ClusterId, address: Option<&str>) -> Result<Discovered> {
    let wanted = match address.filter(|a| !a.is_empty()) {
        Some(a) => Some(canonical_address(a).map_err(|e| {
            Error::invalid(format!("failed to parse specified cluster address '{}': {}", quote(a), error_text(&e)))
        })?),
        None => None,
    };
    let results = json_object(response, ErrorFormat::AzureResourceManager)?;
    let mut servers = Vec::new();
    for (i, value) in kubeconfig_values(&results)?.into_iter().enumerate() {
        let cluster = parse_kubeconfig(value, i)?;
        let canonical = canonical_address(&cluster.server).map_err(|e| {
            Error::malformed(format!(
                "failed to parse address '{}' from kubeconfig[{i}]: {}",
                quote(&cluster.server),
                error_text(&e)
            ))
        })?;
        if wanted.as_ref().is_none_or(|w| *w == canonical) {
            let ca_data = cluster.ca_data_base64.ok_or_else(|| {
                Error::malformed(format!("kubeconfig[{i}] of AKS cluster has no certificate-authority-data"))
            })?;
            return Ok(Discovered {
                host: api_server_address(&cluster.server)?,
                ca_data: decode_ca_data(&format!("kubeconfig[{i}] certificate-authority-data"), &ca_data)?,
            });
        }
        servers.push(format!("'{}'", quote(&cluster.server)));
    }
    match address {
        Some(a) if wanted.is_some() => Err(Error::invalid(format!(
            "no kubeconfig found for AKS cluster {} matching the specified address '{}'. cluster addresses: [{}]",
            quote(id.as_str()),
            quote(a),
            servers.join(", ")
        ))),
        _ => Err(Error::malformed(format!("no kubeconfig found for AKS cluster {}", quote(id.as_str())))),
    }
}

/// One kubeconfig of the response: base64 (how JSON carries bytes) of YAML.
fn parse_kubeconfig(value: Option<&str>, index: usize) -> Result<kubeconfig::KubeconfigCluster> {
    let fail = |why: String| Error::malformed(format!("failed to parse kubeconfig[{index}]: {why}"));
    let value = value.ok_or_else(|| fail("no value".into()))?;
    let bytes = STANDARD.decode(value).map_err(|_| fail("the value is not base64".into()))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    kubeconfig::current_cluster(&text).map_err(|e| fail(error_text(&e).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kubeconfig::tests::AKS_KUBECONFIG;
    use crate::cluster::tests::TEST_PEM;
    use crate::http::MAX_RESPONSE_BODY;

    const SUB: &str = "00000000-0000-0000-0000-000000000000";
    const ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/myaks";
    const SERVER: &str = "https://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443";

    fn id() -> ClusterId {
        ClusterId::parse(ID).unwrap()
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    fn credentials(kubeconfigs: &[&str]) -> HttpResponse {
        let items: Vec<serde_json::Value> = kubeconfigs
            .iter()
            .map(|k| serde_json::json!({"name": "clusterUser", "value": STANDARD.encode(k)}))
            .collect();
        resp(200, &serde_json::json!({ "kubeconfigs": items }).to_string())
    }

    #[test]
    fn parses_cluster_ids() {
        let id = id();
        assert_eq!((id.subscription_id(), id.resource_group(), id.name()), (SUB, "rg1", "myaks"));
        // Keywords in any case, as the Flux test's `resourcegroups`.
        let lower = ID.to_ascii_lowercase().replace("myaks", "MyAks");
        let id = ClusterId::parse(&lower).unwrap();
        assert_eq!((id.resource_group(), id.name(), id.as_str()), ("rg1", "MyAks", lower.as_str()));
        let odd = format!(
            "/subscriptions/{SUB}/resourceGroups/My_RG-(1).x/providers/Microsoft.ContainerService/managedClusters/a_b-1"
        );
        assert!(ClusterId::parse(&odd).is_ok());
    }

    #[test]
    fn invalid_cluster_ids() {
        let shape = |s: &str| {
            assert_eq!(
                ClusterId::parse(s).unwrap_err(),
                Error::invalid(format!("invalid AKS cluster ID: '{}'. must match {CLUSTER_PATTERN}", quote(s))),
                "{s}"
            )
        };
        shape("invalid-cluster-id");
        shape("");
        shape(&format!("{ID}/"));
        shape(&format!("/{ID}"));
        shape(&ID.replace("managedClusters", "managedCluster"));
        shape(&ID.replace("Microsoft.ContainerService", "Microsoft.Compute"));
        shape(&ID.replace("/myaks", "/myaks/agentPools/x"));
        shape(&format!("https://management.azure.com{ID}"));
        let segment = |s: String, why: &str| {
            let err = ClusterId::parse(&s).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{s}");
            assert!(err.to_string().contains(why), "{s}: {err}");
        };
        for sub in
            ["0000", "00000000-0000-0000-0000-00000000000g", "00000000000000000000000000000000000a", "..", "%2e%2e"]
        {
            segment(ID.replace(SUB, sub), "subscription ID");
        }
        for rg in ["", "rg.", "..", "r g", "rg?x=1", "rg#", "rg%2F..", "rg\r\nX", "grüppe", &"r".repeat(91)] {
            segment(ID.replace("/rg1/", &format!("/{rg}/")), "resource group");
        }
        for name in ["", "-a", "a-", "_a", "a.b", "a b", "a?x", "a%20", "a\n", &"a".repeat(64)] {
            segment(ID.replace("/myaks", &format!("/{name}")), "cluster name");
        }
        // Control characters are escaped when echoed.
        let err = ClusterId::parse("bad\r\nX-Injected: 1").unwrap_err();
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn lookup_cloud_and_scopes() {
        assert_eq!(lookup_cloud(None, false), AzureCloud::Public);
        assert_eq!(lookup_cloud(Some("https://login.chinacloudapi.cn/"), false), AzureCloud::China);
        assert_eq!(lookup_cloud(Some("https://login.microsoftonline.us/"), false), AzureCloud::UsGovernment);
        assert_eq!(lookup_cloud(Some("https://login.microsoftonline.com/"), false), AzureCloud::Public);
        assert_eq!(lookup_cloud(Some("https://login.chinacloudapi.cn/"), true), AzureCloud::Custom);
        for (cloud, want) in [
            (AzureCloud::Public, "https://management.core.windows.net//.default"),
            (AzureCloud::China, "https://management.core.chinacloudapi.cn//.default"),
            (AzureCloud::UsGovernment, "https://management.core.usgovcloudapi.net//.default"),
        ] {
            assert_eq!(arm_lookup_scope(cloud, None).unwrap(), want);
        }
        let env = AzureEnvironment {
            resource_manager_endpoint: Some("https://management.azure.private/".into()),
            token_audience: Some("https://management.core.azure.private/".into()),
            container_registry_dns_suffix: None,
        };
        assert_eq!(
            arm_lookup_scope(AzureCloud::Custom, Some(&env)).unwrap(),
            "https://management.core.azure.private//.default"
        );
        assert_eq!(arm_lookup_scope(AzureCloud::Custom, None).unwrap_err().kind(), "invalid-input");
        let broken = AzureEnvironment { token_audience: None, ..env.clone() };
        assert_eq!(arm_lookup_scope(AzureCloud::Custom, Some(&broken)).unwrap_err().kind(), "invalid-input");
        assert_eq!(access_token_scopes(false, AzureCloud::Public, None).unwrap(), [AKS_SCOPE]);
        assert_eq!(
            access_token_scopes(true, AzureCloud::Public, None).unwrap(),
            [AKS_SCOPE, "https://management.core.windows.net//.default"]
        );
        let req = get_cluster_request(&id(), AzureCloud::Custom, Some(&env), &Secret::new("t")).unwrap();
        assert!(req.url.starts_with("https://management.azure.private/subscriptions/"), "{}", req.url);
    }

    #[test]
    fn builds_the_arm_requests() {
        let token = Secret::new("arm-secret-token");
        let get = get_cluster_request(&id(), AzureCloud::Public, None, &token).unwrap();
        assert_eq!(get.method, "GET");
        assert_eq!(get.url, format!("https://management.azure.com{ID}?api-version=2025-10-01"));
        assert_eq!(get.header_value("Authorization"), Some("Bearer arm-secret-token"));
        assert_eq!(get.header_value("Accept"), Some("application/json"));
        assert!(get.body.is_empty());
        assert!(!format!("{get:?}").contains("arm-secret-token"));
        let post = list_user_credentials_request(&id(), AzureCloud::China, None, &token).unwrap();
        assert_eq!(post.method, "POST");
        assert_eq!(
            post.url,
            format!("https://management.chinacloudapi.cn{ID}/listClusterUserCredential?api-version=2025-10-01")
        );
        assert!(post.body.is_empty());
        // The path is rebuilt from the parsed names with the SDK's spelling.
        let lower = ClusterId::parse(&ID.to_ascii_lowercase()).unwrap();
        let us = get_cluster_request(&lower, AzureCloud::UsGovernment, None, &token).unwrap();
        assert!(
            us.url.starts_with("https://management.usgovcloudapi.net/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/myaks?"),
            "{}",
            us.url
        );
        for bad in ["", "t\r\nX: y"] {
            let err = get_cluster_request(&id(), AzureCloud::Public, None, &Secret::new(bad)).unwrap_err();
            assert_eq!(err.kind(), "invalid-input");
            assert!(!err.to_string().contains("X: y"));
        }
    }

    #[test]
    fn managed_cluster_must_have_entra_integration() {
        parse_cluster(&resp(200, r#"{"properties":{"aadProfile":{"managed":true},"fqdn":"x"}}"#), &id()).unwrap();
        let err = parse_cluster(&resp(200, r#"{"properties":{"fqdn":"x"}}"#), &id()).unwrap_err();
        assert_eq!(
            err,
            Error::unsupported(format!(
                "AKS cluster {ID} does not have Microsoft Entra ID integration enabled. See docs for enabling: https://learn.microsoft.com/en-us/azure/aks/enable-authentication-microsoft-entra-id"
            ))
        );
        assert_eq!(
            parse_cluster(&resp(200, r#"{"properties":{"aadProfile":null}}"#), &id()).unwrap_err().kind(),
            "unsupported"
        );
        for bad in [
            r#"{}"#,
            r#"{"properties":"x"}"#,
            r#"{"properties":{"aadProfile":"x"}}"#,
            "[]",
            "<html>",
            r#"{"properties":"#,
        ] {
            let err = parse_cluster(&resp(200, bad), &id()).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{bad}");
            assert!(err.to_string().starts_with("malformed response: failed to describe AKS cluster: "), "{err}");
        }
        let err = parse_cluster(
            &resp(404, r#"{"error":{"code":"ResourceNotFound","message":"The Resource 'x' was not found."}}"#),
            &id(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::HttpStatus {
                status: 404,
                code: Some("ResourceNotFound".into()),
                message: "failed to describe AKS cluster: The Resource 'x' was not found.".into()
            }
        );
        let err = parse_cluster(&resp(502, "<html>Bad Gateway</html>"), &id()).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 502, code: None, .. }), "{err:?}");
        let big = HttpResponse { status: 200, headers: vec![], body: vec![b' '; MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_cluster(&big, &id()).unwrap_err().kind(), "malformed-response");
    }

    #[test]
    fn picks_the_first_kubeconfig() {
        let got = parse_user_credentials(&credentials(&[AKS_KUBECONFIG]), &id(), None).unwrap();
        assert_eq!(got, Discovered { host: SERVER.into(), ca_data: TEST_PEM.into() });
        let other = AKS_KUBECONFIG.replace("myaks-dns-1a2b3c4d.hcp", "myaks-priv.privatelink");
        let got = parse_user_credentials(&credentials(&[&other, AKS_KUBECONFIG]), &id(), Some("")).unwrap();
        assert!(got.host.contains("privatelink"), "{}", got.host);
    }

    #[test]
    fn matches_the_callers_address() {
        let private = AKS_KUBECONFIG.replace("myaks-dns-1a2b3c4d.hcp", "myaks-priv.privatelink");
        let resp = credentials(&[&private, AKS_KUBECONFIG]);
        for address in
            [SERVER, "https://MyAks-DNS-1a2b3c4d.hcp.eastus.azmk8s.io", "myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443"]
        {
            let got = parse_user_credentials(&resp, &id(), Some(address)).unwrap();
            assert_eq!(got.host, SERVER, "{address}");
        }
        let err = parse_user_credentials(&resp, &id(), Some("https://other.example")).unwrap_err();
        assert_eq!(
            err,
            Error::invalid(format!(
                "no kubeconfig found for AKS cluster {ID} matching the specified address 'https://other.example'. cluster addresses: ['https://myaks-priv.privatelink.eastus.azmk8s.io:443', '{SERVER}']"
            ))
        );
        let err = parse_user_credentials(&resp, &id(), Some("http://other.example")).unwrap_err();
        assert!(err.to_string().contains("failed to parse specified cluster address 'http://other.example'"), "{err}");
        assert!(err.to_string().contains("must use https scheme"), "{err}");
    }

    #[test]
    fn credential_response_errors() {
        let err = parse_user_credentials(&resp(200, r#"{"kubeconfigs":[]}"#), &id(), None).unwrap_err();
        assert_eq!(err, Error::malformed(format!("no kubeconfig found for AKS cluster {ID}")));
        assert_eq!(parse_user_credentials(&resp(200, "{}"), &id(), None).unwrap_err().kind(), "malformed-response");
        let http_server = AKS_KUBECONFIG.replace("https://myaks", "http://myaks");
        let no_ca = AKS_KUBECONFIG.replace("    certificate-authority-data:", "    x-ca:");
        let bad_ca = AKS_KUBECONFIG.replace("LS0tLS1CRUdJTi", "aGVsbG8gd29yb");
        for (body, why) in [
            (r#"{"kubeconfigs":[{"name":"clusterUser"}]}"#.to_owned(), "failed to parse kubeconfig[0]: no value"),
            (
                r#"{"kubeconfigs":[{"value":"!!"}]}"#.to_owned(),
                "failed to parse kubeconfig[0]: the value is not base64",
            ),
            (r#"{"kubeconfigs":[{"value":"/w=="}]}"#.to_owned(), "failed to parse kubeconfig[0]: not UTF-8"),
            (
                format!(r#"{{"kubeconfigs":[{{"value":"{}"}}]}}"#, STANDARD.encode("a: [")),
                "failed to parse kubeconfig[0]: kubeconfig has no current-context",
            ),
            (r#"{"kubeconfigs":"x"}"#.to_owned(), "missing or mistyped field"),
            (r#"{"kubeconfigs":[{"value":5}]}"#.to_owned(), "missing or mistyped field"),
        ] {
            let err = parse_user_credentials(&resp(200, &body), &id(), None).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
            assert!(err.to_string().contains(why), "{body}: {err}");
        }
        let err = parse_user_credentials(&credentials(&[&http_server]), &id(), None).unwrap_err();
        assert!(
            err.to_string().contains("failed to parse address 'http://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443' from kubeconfig[0]: the Kubernetes API server address"),
            "{err}"
        );
        let err = parse_user_credentials(&credentials(&[&no_ca]), &id(), None).unwrap_err();
        assert!(err.to_string().contains("no certificate-authority-data"), "{err}");
        let err = parse_user_credentials(&credentials(&[&bad_ca]), &id(), None).unwrap_err();
        assert!(err.to_string().contains("failed to decode kubeconfig[0] certificate-authority-data"), "{err}");
        let err = parse_user_credentials(
            &resp(403, r#"{"error":{"code":"AuthorizationFailed","message":"no access"}}"#),
            &id(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 403, code: Some(ref c), .. } if c == "AuthorizationFailed"));
    }

    #[test]
    fn kubeconfig_secrets_never_reach_errors() {
        let local = "current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nclusters:\n- name: k\n  cluster:\n    server: ftp://k\nusers:\n- name: u\n  user:\n    token: hunter2-token\n";
        let err = parse_user_credentials(&credentials(&[local]), &id(), None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let broken = "current-context: c\nusers:\n- token: hunter2-token\n  bad line hunter2\n";
        let err = parse_user_credentials(&credentials(&[broken]), &id(), None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
