//! Azure identities: workload identity federation, client secrets and
//! certificates, App Service and IMDS managed identities.

use crate::azure::cloud::{AzureCloud, authority_host};
use crate::azure::entra;
use crate::azure::imds::ManagedIdentity;
use crate::error::{Error, Result, excerpt};
use crate::local_endpoint::LocalEndpoint;
use crate::secret::Secret;
use crate::session::request::{Identity, Options, ServiceAccount};

use super::{TokenSource, object_level};

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
