//! App Service and Azure Functions managed identity: the local token
//! endpoint the platform names in `IDENTITY_ENDPOINT`, authenticated with
//! the `IDENTITY_HEADER` secret, as Microsoft's "Managed identities for App
//! Service and Azure Functions" REST protocol (api-version `2019-08-01`)
//! and azure-identity's `AppServiceCredential` use it.
//!
//! The endpoint is a loopback URL (`http://localhost:<port>/msi/token`), and
//! the header is a secret, so only a loopback host is accepted.

use crate::azure::imds::{ManagedIdentity, scope_to_resource};
use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, check_non_empty, with_query};
use crate::local_endpoint::{LocalEndpoint, is_loopback};
use crate::response::ErrorFormat;
use crate::secret::Secret;
use crate::token::parse_access_token;

/// The protocol version azure-identity's `AppServiceCredential` asks for.
const API_VERSION: &str = "2019-08-01";

/// `IDENTITY_ENDPOINT`, checked: a loopback `http(s)` URL without a query
/// (the request adds its own).
pub fn endpoint(url: &str) -> Result<LocalEndpoint> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "App Service managed identity: IDENTITY_ENDPOINT {url:?} is not allowed: {why} (it must be a loopback URL)"
        ))
    };
    let endpoint = LocalEndpoint::parse(url, is_loopback).map_err(bad)?;
    if url.contains('?') {
        return Err(bad("a query"));
    }
    Ok(endpoint)
}

/// `GET <endpoint>?api-version=2019-08-01&resource=<resource>[&client_id=..]`
/// with `X-IDENTITY-HEADER`.
pub fn token_request(
    endpoint: &LocalEndpoint,
    header: &Secret,
    scope: &str,
    identity: &ManagedIdentity,
) -> Result<HttpRequest> {
    let resource = scope_to_resource(scope)?;
    check_non_empty("IDENTITY_HEADER", header.expose())?;
    let mut query = vec![("api-version", API_VERSION), ("resource", resource)];
    match identity {
        ManagedIdentity::SystemAssigned => {}
        ManagedIdentity::ClientId(id) => query.push(("client_id", id)),
        ManagedIdentity::ObjectId(id) => query.push(("principal_id", id)),
        ManagedIdentity::ResourceId(id) => query.push(("mi_res_id", id)),
    }
    HttpRequest::get(with_query(&endpoint.url, &query)).header("X-IDENTITY-HEADER", header.expose())
}

/// The response: `access_token` and `expires_on` (Unix seconds, a string).
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::OAuth2, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request() {
        let e = endpoint("http://localhost:8081/msi/token").unwrap();
        let r = token_request(
            &e,
            &Secret::new("853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a"),
            "https://management.azure.com/.default",
            &ManagedIdentity::ClientId("c1".into()),
        )
        .unwrap();
        assert_eq!(
            r.url,
            "http://localhost:8081/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com&client_id=c1"
        );
        assert_eq!(r.header_value("X-IDENTITY-HEADER"), Some("853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a"));
        assert!(token_request(&e, &Secret::new("a\r\nb"), "s/.default", &ManagedIdentity::SystemAssigned).is_err());
        for bad in ["http://evil.example/msi/token", "http://localhost:8081/msi/token?x=1", "localhost/msi"] {
            let err = endpoint(bad).unwrap_err();
            assert!(err.to_string().contains("IDENTITY_ENDPOINT"), "{err}");
        }
    }

    #[test]
    fn response() {
        let ok = r#"{"access_token":"eyJ0eXAi.x.y","expires_on":"1705323600","resource":"https://management.azure.com","token_type":"Bearer","client_id":"c1"}"#;
        let t = parse_token(&HttpResponse::new(200, ok), 1_705_320_000).unwrap();
        assert_eq!(t.expires_at, 1_705_323_600);
        assert_eq!(parse_token(&HttpResponse::new(200, "{}"), 0).unwrap_err().kind(), "malformed-response");
        assert_eq!(
            parse_token(&HttpResponse::new(400, r#"{"error":"invalid_request"}"#), 0).unwrap_err().kind(),
            "http-status"
        );
    }
}
