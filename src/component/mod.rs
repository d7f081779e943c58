//! The WIT glue: converts between the generated WIT types and the pure core,
//! and nothing else. Each interface has its own file; shared conversions
//! live here.

mod aws;
mod azure;
mod gcp;
mod kubernetes;
mod oci;
mod policy;
mod resolve;
mod session;
mod sigv4;

wit_bindgen::generate!({
    path: "wit",
    world: "cloudauth",
});

use exports::cloudauth::auth::types as wit;

use crate::azure::cloud::{AzureCloud, AzureEnvironment};
use crate::credentials::{AccessToken, AwsCredentials, RegistryCredentials};
use crate::secret::Secret;

/// The component. Stateless: every export is a pure function.
pub(crate) struct Component;

export!(Component);

pub(crate) type WitResult<T> = Result<T, wit::Error>;

impl From<crate::Error> for wit::Error {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::InvalidInput(m) => wit::Error::InvalidInput(m),
            crate::Error::Unsupported(m) => wit::Error::Unsupported(m),
            crate::Error::HttpStatus { status, code, message } => {
                wit::Error::HttpStatus(wit::ServiceError { status, code, message })
            }
            crate::Error::MalformedResponse(m) => wit::Error::MalformedResponse(m),
        }
    }
}

impl From<crate::http::HttpRequest> for wit::HttpRequest {
    fn from(r: crate::http::HttpRequest) -> Self {
        wit::HttpRequest { method: r.method.to_owned(), url: r.url, headers: r.headers, body: r.body }
    }
}

/// A request coming in from the host (to be signed). The method must be a
/// plain HTTP token; it is kept as one of the methods SigV4 callers use.
pub(crate) fn request_from_wit(r: wit::HttpRequest) -> Result<crate::http::HttpRequest, crate::Error> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];
    let method = METHODS.iter().find(|m| **m == r.method).ok_or_else(|| {
        crate::Error::InvalidInput(format!("unsupported HTTP method {}", crate::error::quoted(&r.method)))
    })?;
    Ok(crate::http::HttpRequest { method, url: r.url, headers: r.headers, body: r.body })
}

impl From<wit::HttpResponse> for crate::http::HttpResponse {
    fn from(r: wit::HttpResponse) -> Self {
        crate::http::HttpResponse { status: r.status, headers: r.headers, body: r.body }
    }
}

impl From<AccessToken> for wit::AccessToken {
    fn from(t: AccessToken) -> Self {
        wit::AccessToken { token: t.token.expose().to_owned(), expires_at: t.expires_at }
    }
}

impl From<wit::AccessToken> for AccessToken {
    fn from(t: wit::AccessToken) -> Self {
        AccessToken { token: Secret::new(t.token), expires_at: t.expires_at }
    }
}

impl From<RegistryCredentials> for wit::RegistryCredentials {
    fn from(c: RegistryCredentials) -> Self {
        wit::RegistryCredentials {
            username: c.username,
            password: c.password.expose().to_owned(),
            expires_at: c.expires_at,
        }
    }
}

impl From<AwsCredentials> for wit::AwsCredentials {
    fn from(c: AwsCredentials) -> Self {
        wit::AwsCredentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key.expose().to_owned(),
            session_token: c.session_token.map(|s| s.expose().to_owned()),
            expires_at: c.expires_at,
        }
    }
}

impl From<wit::AwsCredentials> for AwsCredentials {
    fn from(c: wit::AwsCredentials) -> Self {
        AwsCredentials {
            access_key_id: c.access_key_id,
            secret_access_key: Secret::new(c.secret_access_key),
            session_token: c.session_token.map(Secret::new),
            expires_at: c.expires_at,
        }
    }
}

impl From<wit::AzureCloud> for AzureCloud {
    fn from(c: wit::AzureCloud) -> Self {
        match c {
            wit::AzureCloud::AzurePublic => AzureCloud::Public,
            wit::AzureCloud::AzureChina => AzureCloud::China,
            wit::AzureCloud::AzureUsGovernment => AzureCloud::UsGovernment,
            wit::AzureCloud::AzureCustom => AzureCloud::Custom,
        }
    }
}

impl From<AzureCloud> for wit::AzureCloud {
    fn from(c: AzureCloud) -> Self {
        match c {
            AzureCloud::Public => wit::AzureCloud::AzurePublic,
            AzureCloud::China => wit::AzureCloud::AzureChina,
            AzureCloud::UsGovernment => wit::AzureCloud::AzureUsGovernment,
            AzureCloud::Custom => wit::AzureCloud::AzureCustom,
        }
    }
}

impl From<wit::AzureEnvironment> for AzureEnvironment {
    fn from(e: wit::AzureEnvironment) -> Self {
        AzureEnvironment {
            resource_manager_endpoint: e.resource_manager_endpoint,
            token_audience: e.token_audience,
            container_registry_dns_suffix: e.container_registry_dns_suffix,
        }
    }
}
