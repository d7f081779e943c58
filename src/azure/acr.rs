//! Azure Container Registry: exchanging an Entra token for a refresh token,
//! and a refresh token for a repository-scoped access token, as
//! azure-containerregistry's authentication client does it (API version
//! 2021-07-01, form-encoded POSTs to the registry's own `/oauth2/*`).
//!
//! The refresh token is what `docker login` takes as the password of the
//! all-zero user, and what fluxcd/pkg hands out as registry credentials.

use crate::azure::entra::check_tenant_id;
use crate::credentials::{AccessToken, RegistryCredentials};
use crate::error::{Error, Result};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse, check_non_empty};
use crate::jwt;
use crate::response::ErrorFormat;
use crate::secret::Secret;
use crate::token::{MissingExpiry, TokenResponse, expiry, non_empty_token};

/// The API version azure-containerregistry 1.2 sends.
const API_VERSION: &str = "2021-07-01";

/// The docker user name that goes with an ACR refresh token.
pub const REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// A registry must be a bare `host[:port]`: it becomes the URL authority and
/// the `service`, and the Entra token goes to it.
fn registry_authority(registry: &str) -> Result<Authority> {
    Authority::parse(registry)
}

fn endpoint(registry: &Authority, path: &str) -> String {
    format!("https://{registry}/oauth2/{path}?api-version={API_VERSION}")
}

/// The exchange request: `grant_type=access_token` with the Entra token,
/// and the tenant when given (the form field `tenant`).
pub fn exchange_request(registry: &str, access_token: &Secret, tenant_id: Option<&str>) -> Result<HttpRequest> {
    let registry = registry_authority(registry)?;
    check_non_empty("access token", access_token.expose())?;
    let service = registry.to_string();
    let mut form = vec![("grant_type", "access_token"), ("service", service.as_str())];
    if let Some(tenant) = tenant_id {
        check_tenant_id(tenant)?;
        form.push(("tenant", tenant));
    }
    form.push(("access_token", access_token.expose()));
    HttpRequest::post(endpoint(&registry, "exchange")).form(&form)
}

/// Parses the exchange response into docker credentials. The expiry is the
/// refresh token's `exp` claim. A refresh token that is not a JWT with `exp`
/// is a malformed response, as in fluxcd/pkg (which fails to parse it);
/// azure-containerregistry instead treats such a token as expiring at once.
pub fn parse_exchange(response: &HttpResponse, now: i64) -> Result<RegistryCredentials> {
    let _ = now; // The expiry is absolute, in the token.
    let body = TokenResponse::read(response, ErrorFormat::Distribution)?;
    let refresh_token = non_empty_token(body.refresh_token, "refresh_token")?;
    let expires_at = jwt::expiry(refresh_token.expose())?;
    Ok(RegistryCredentials {
        username: REFRESH_TOKEN_USERNAME.to_owned(),
        password: refresh_token,
        expires_at: Some(expires_at),
    })
}

/// The access-token request. Several scopes go space-separated in one
/// `scope` field, as the distribution OAuth2 spec lists them and as the SDK
/// forwards a challenge's `scope` (a single string).
pub fn token_request(registry: &str, refresh_token: &Secret, scopes: &[String]) -> Result<HttpRequest> {
    let registry = registry_authority(registry)?;
    check_non_empty("refresh token", refresh_token.expose())?;
    let scope = join_scopes(scopes)?;
    let service = registry.to_string();
    HttpRequest::post(endpoint(&registry, "token")).form(&[
        ("service", service.as_str()),
        ("scope", scope.as_str()),
        ("refresh_token", refresh_token.expose()),
        ("grant_type", "refresh_token"),
    ])
}

/// Joins scopes with spaces; each must be a non-empty run of visible
/// characters, since a space inside one would split it into two.
fn join_scopes(scopes: &[String]) -> Result<String> {
    if scopes.is_empty() {
        return Err(Error::invalid("an ACR access token needs at least one scope"));
    }
    for scope in scopes {
        if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid("a scope is empty or contains whitespace or control characters"));
        }
    }
    Ok(scopes.join(" "))
}

/// Parses the access-token response. ACR sends only `access_token`; its
/// expiry is the token's `exp` claim (where the SDK reads it too). A token
/// that is not a JWT with `exp` falls back to the response's `expires_in`
/// (or `expires_on`), and is malformed without one.
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let mut body = TokenResponse::read(response, ErrorFormat::Distribution)?;
    let token = non_empty_token(body.access_token.take(), "access_token")?;
    let expires_at = match jwt::expiry(token.expose()) {
        Ok(exp) => exp,
        Err(_) if body.expires_in.is_some() || body.expires_on.is_some() => expiry(&body, now, MissingExpiry::Error)?,
        Err(e) => return Err(e),
    };
    Ok(AccessToken { token, expires_at })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn jwt_with(payload: &str) -> String {
        format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    fn form(req: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(&req.body).into_owned().collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn exchange_request_shape() {
        let req = exchange_request("MyRegistry.azurecr.io", &Secret::new("aad"), None).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://myregistry.azurecr.io/oauth2/exchange?api-version=2021-07-01");
        assert_eq!(req.header_value("Content-Type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(
            form(&req),
            pairs(&[("grant_type", "access_token"), ("service", "myregistry.azurecr.io"), ("access_token", "aad")])
        );

        let req = exchange_request("myregistry.azurecr.io:443", &Secret::new("aad"), Some("contoso.onmicrosoft.com"))
            .unwrap();
        assert_eq!(req.url, "https://myregistry.azurecr.io:443/oauth2/exchange?api-version=2021-07-01");
        assert_eq!(
            form(&req),
            pairs(&[
                ("grant_type", "access_token"),
                ("service", "myregistry.azurecr.io:443"),
                ("tenant", "contoso.onmicrosoft.com"),
                ("access_token", "aad")
            ])
        );
        assert!(!format!("{req:?}").contains("aad"));
    }

    #[test]
    fn rejects_bad_exchange_inputs() {
        for registry in [
            "",
            "myregistry.azurecr.io/evil?x=",
            "https://myregistry.azurecr.io",
            "u@myregistry.azurecr.io",
            "a b",
            "myregistry.azurecr.io\r\n",
            "myregistry.azurecr.io#x",
        ] {
            assert_eq!(
                exchange_request(registry, &Secret::new("t"), None).unwrap_err().kind(),
                "invalid-input",
                "{registry:?}"
            );
            assert_eq!(
                token_request(registry, &Secret::new("t"), &["repository:a:pull".into()]).unwrap_err().kind(),
                "invalid-input",
                "{registry:?}"
            );
        }
        for token in ["", "a\r\nb"] {
            assert_eq!(
                exchange_request("r.azurecr.io", &Secret::new(token), None).unwrap_err().kind(),
                "invalid-input"
            );
        }
        for tenant in ["", "../x", "a/b", "t\n"] {
            assert_eq!(
                exchange_request("r.azurecr.io", &Secret::new("t"), Some(tenant)).unwrap_err().kind(),
                "invalid-input",
                "{tenant:?}"
            );
        }
    }

    #[test]
    fn parses_exchange() {
        let token = jwt_with(r#"{"exp":4102444800,"iss":"Azure Container Registry"}"#);
        let creds =
            parse_exchange(&response(200, &format!(r#"{{"refresh_token": "{token}"}}"#)), 1_705_320_000).unwrap();
        assert_eq!(creds.username, REFRESH_TOKEN_USERNAME);
        assert_eq!(creds.password.expose(), token);
        assert_eq!(creds.expires_at, Some(4_102_444_800));
        assert!(!format!("{creds:?}").contains(&token));
    }

    #[test]
    fn exchange_errors() {
        let err = parse_exchange(
            &response(401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#),
            0,
        )
        .unwrap_err();
        assert!(matches!(&err, Error::HttpStatus { status: 401, code: Some(c), .. } if c == "UNAUTHORIZED"), "{err:?}");
        let err = parse_exchange(&response(400, r#"{"error":"invalid_request"}"#), 0).unwrap_err();
        assert!(
            matches!(&err, Error::HttpStatus { status: 400, code: Some(c), .. } if c == "invalid_request"),
            "{err:?}"
        );
        let err = parse_exchange(&response(502, "<html>Bad Gateway</html>"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 502, code: None, .. }), "{err:?}");

        let no_exp = jwt_with(r#"{"iss":"x"}"#);
        let string_exp = jwt_with(r#"{"exp":"soon"}"#);
        for body in [
            "<html>gateway</html>".to_owned(),
            String::new(),
            "{}".to_owned(),
            r#"{"refresh_token": ""}"#.to_owned(),
            r#"{"refresh_token": 5}"#.to_owned(),
            r#"{"refresh_token": "not-a-jwt"}"#.to_owned(),
            format!(r#"{{"refresh_token": "{no_exp}"}}"#),
            format!(r#"{{"refresh_token": "{string_exp}"}}"#),
            format!(r#"{{"refresh_token": "{no_exp}"#),
        ] {
            let err = parse_exchange(&response(200, &body), 0).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
            assert!(!err.to_string().contains("eyJ"), "{err}");
        }
    }

    #[test]
    fn token_request_shape() {
        let scopes = vec!["repository:foo:pull".to_owned()];
        let req = token_request("myregistry.azurecr.io", &Secret::new("rt"), &scopes).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://myregistry.azurecr.io/oauth2/token?api-version=2021-07-01");
        assert_eq!(
            form(&req),
            pairs(&[
                ("service", "myregistry.azurecr.io"),
                ("scope", "repository:foo:pull"),
                ("refresh_token", "rt"),
                ("grant_type", "refresh_token")
            ])
        );
        let scopes = vec!["repository:a/b:pull".to_owned(), "repository:c:pull,push".to_owned()];
        let req = token_request("myregistry.azurecr.io", &Secret::new("rt"), &scopes).unwrap();
        assert!(form(&req).contains(&("scope".to_owned(), "repository:a/b:pull repository:c:pull,push".to_owned())));
    }

    #[test]
    fn rejects_bad_scopes() {
        for scopes in [
            vec![],
            vec![String::new()],
            vec!["a b".to_owned()],
            vec!["a\n".to_owned()],
            vec!["ok".to_owned(), "\t".to_owned()],
        ] {
            assert_eq!(
                token_request("r.azurecr.io", &Secret::new("rt"), &scopes).unwrap_err().kind(),
                "invalid-input",
                "{scopes:?}"
            );
        }
        assert_eq!(token_request("r.azurecr.io", &Secret::new(""), &["s".into()]).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn parses_access_tokens() {
        let token = jwt_with(r#"{"exp":4102444800}"#);
        let t = parse_token(&response(200, &format!(r#"{{"access_token": "{token}"}}"#)), 1_705_320_000).unwrap();
        assert_eq!((t.token.expose(), t.expires_at), (token.as_str(), 4_102_444_800));
        // The claim wins over expires_in (even a broken one); expires_in serves a non-JWT token.
        let t =
            parse_token(&response(200, &format!(r#"{{"access_token": "{token}", "expires_in": 300}}"#)), 1_705_320_000)
                .unwrap();
        assert_eq!(t.expires_at, 4_102_444_800);
        let t = parse_token(&response(200, r#"{"access_token": "opaque", "expires_in": 300}"#), 1_705_320_000).unwrap();
        assert_eq!(t.expires_at, 1_705_320_300);

        let err = parse_token(&response(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#), 0).unwrap_err();
        assert!(matches!(&err, Error::HttpStatus { status: 401, code: Some(c), .. } if c == "UNAUTHORIZED"), "{err:?}");
        for body in [
            "<html>gateway</html>",
            "",
            "{}",
            r#"{"access_token": "opaque"}"#,
            r#"{"access_token": ""}"#,
            r#"{"access_token": null}"#,
            r#"{"access_token": "opaque", "expires_in": "x"}"#,
            r#"{"access_token": "opaque", "expires_in": -5}"#,
        ] {
            assert_eq!(parse_token(&response(200, body), 0).unwrap_err().kind(), "malformed-response", "{body}");
        }
    }
}
