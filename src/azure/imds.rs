//! Azure instance metadata service (IMDS): managed-identity tokens, as
//! azure-identity's `ManagedIdentityCredential` (through msal) asks for them.
//!
//! IMDS is the v1 (resource-based) token endpoint on the link-local metadata
//! address, reached over plain http by design: the address is not routable,
//! and the `Metadata: true` header proves the request is not a forwarded
//! browser request (SSRF protection on the IMDS side).

use crate::azure::cloud::DEFAULT_SCOPE_SUFFIX;
use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, check_non_empty, with_query};
use crate::response::ErrorFormat;
use crate::token::parse_access_token;

/// The IMDS token endpoint.
pub const TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The API version azure-identity and msal use.
const API_VERSION: &str = "2018-02-01";

/// Which managed identity IMDS should use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagedIdentity {
    SystemAssigned,
    ClientId(String),
    ObjectId(String),
    ResourceId(String),
}

impl ManagedIdentity {
    /// The query parameter naming a user-assigned identity (msal's names for IMDS).
    fn query_param(&self) -> Option<(&'static str, &str)> {
        match self {
            ManagedIdentity::SystemAssigned => None,
            ManagedIdentity::ClientId(id) => Some(("client_id", id)),
            ManagedIdentity::ObjectId(id) => Some(("object_id", id)),
            ManagedIdentity::ResourceId(id) => Some(("msi_res_id", id)),
        }
    }
}

/// The resource IMDS issues a token for: a `/.default` scope minus the
/// suffix (azure-identity's `_scopes_to_resource`), or a bare resource as
/// given. IMDS serves one resource per request, so whitespace (a list of
/// scopes) is refused.
pub fn scope_to_resource(scope: &str) -> Result<&str> {
    let resource = scope.strip_suffix(DEFAULT_SCOPE_SUFFIX).unwrap_or(scope);
    check_non_empty("resource", resource)?;
    if resource.chars().any(char::is_whitespace) {
        return Err(Error::invalid("IMDS takes exactly one scope (the scope contains whitespace)"));
    }
    Ok(resource)
}

/// Builds the token request: `GET` with `api-version`, `resource` and the
/// identity in the query, and the `Metadata: true` header.
pub fn token_request(scope: &str, identity: &ManagedIdentity) -> Result<HttpRequest> {
    let resource = scope_to_resource(scope)?;
    let mut query = vec![("api-version", API_VERSION), ("resource", resource)];
    if let Some((name, id)) = identity.query_param() {
        check_non_empty(name, id)?;
        query.push((name, id));
    }
    HttpRequest::get(with_query(TOKEN_URL, &query)).header("Metadata", "true")
}

/// Parses the token response. IMDS sends `expires_in` as a string (and an
/// absolute `expires_on`); the expiry is `now + expires_in`, as msal computes it.
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::OAuth2, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_assigned() {
        let req = token_request("https://management.azure.com/.default", &ManagedIdentity::SystemAssigned).unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(
            req.url,
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com"
        );
        assert_eq!(req.headers, vec![("Metadata".to_owned(), "true".to_owned())]);
        assert!(req.body.is_empty());
    }

    #[test]
    fn user_assigned() {
        let cases = [
            (ManagedIdentity::ClientId("5a5a".into()), "&client_id=5a5a"),
            (ManagedIdentity::ObjectId("0b0b".into()), "&object_id=0b0b"),
            (
                ManagedIdentity::ResourceId("/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/my id".into()),
                "&msi_res_id=%2Fsubscriptions%2F0%2FresourceGroups%2Frg%2Fproviders%2FMicrosoft.ManagedIdentity%2FuserAssignedIdentities%2Fmy%20id",
            ),
            (ManagedIdentity::ClientId("a&resource=evil".into()), "&client_id=a%26resource%3Devil"),
        ];
        for (identity, tail) in cases {
            let req = token_request("https://containerregistry.azure.net/.default", &identity).unwrap();
            assert_eq!(
                req.url,
                format!("{TOKEN_URL}?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net{tail}")
            );
        }
    }

    #[test]
    fn resources() {
        assert_eq!(scope_to_resource("https://management.azure.com/.default").unwrap(), "https://management.azure.com");
        assert_eq!(scope_to_resource("https://management.azure.com").unwrap(), "https://management.azure.com");
        assert_eq!(
            scope_to_resource("https://management.azure.com//.default").unwrap(),
            "https://management.azure.com/"
        );
        assert_eq!(
            scope_to_resource("6dae42f8-4368-4678-94ff-3960e28e3630/.default").unwrap(),
            "6dae42f8-4368-4678-94ff-3960e28e3630"
        );
        for scope in ["", "/.default", "a b", "https://a/.default https://b/.default", "a\r\nMetadata: false", "a\0"] {
            assert_eq!(
                token_request(scope, &ManagedIdentity::SystemAssigned).unwrap_err().kind(),
                "invalid-input",
                "{scope:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_identities() {
        for identity in [
            ManagedIdentity::ClientId(String::new()),
            ManagedIdentity::ObjectId("a\nb".into()),
            ManagedIdentity::ResourceId("\r\n".into()),
        ] {
            assert_eq!(
                token_request("https://management.azure.com", &identity).unwrap_err().kind(),
                "invalid-input",
                "{identity:?}"
            );
        }
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_responses() {
        let ok = r#"{"access_token": "tok", "client_id": "f0f0", "expires_in": "86399", "expires_on": "1795619380", "ext_expires_in": "86399", "not_before": "1795532981", "resource": "https://management.azure.com", "token_type": "Bearer"}"#;
        let t = parse_token(&response(200, ok), 1_705_320_000).unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("tok", 1_705_406_399));
        // Only expires_on: the absolute time.
        let t = parse_token(&response(200, r#"{"access_token": "tok", "expires_on": "1795619380"}"#), 1_705_320_000)
            .unwrap();
        assert_eq!(t.expires_at, 1_795_619_380);

        let err =
            parse_token(&response(400, r#"{"error":"invalid_request","error_description":"Identity not found"}"#), 0)
                .unwrap_err();
        assert!(
            matches!(&err, Error::HttpStatus { status: 400, code: Some(c), .. } if c == "invalid_request"),
            "{err:?}"
        );
        let err = parse_token(&response(500, ""), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 500, code: None, .. }), "{err:?}");

        for body in [
            "<html>gateway</html>",
            "",
            r#"{"access_token": "tok"}"#,
            r#"{"access_token": "tok", "expires_in": "soon"}"#,
            r#"{"access_token": ["tok"], "expires_in": "1"}"#,
            &ok[..40],
        ] {
            assert_eq!(parse_token(&response(200, body), 0).unwrap_err().kind(), "malformed-response", "{body}");
        }
    }
}
