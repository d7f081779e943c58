//! OIDC ID tokens from an Actions-style CI (GitHub Actions, Forgejo
//! Actions): a job with `id-token: write` gets `ACTIONS_ID_TOKEN_REQUEST_URL`
//! and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; `GET <url>&audience=<aud>` with
//! `Authorization: bearer <token>` answers `{"value": "<jwt>"}` (GitHub's
//! "Configuring OpenID Connect in cloud providers" docs, fluxcd/pkg
//! `auth/actionsoidc`). The ID token then stands where a service-account
//! token would: AWS web identity, an Entra client assertion.

use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, percent_encode};
use crate::local_endpoint::{LocalEndpoint, is_loopback};
use crate::response::{ErrorFormat, json_object, opt_str};
use crate::secret::Secret;

/// `ACTIONS_ID_TOKEN_REQUEST_URL`, checked: `https://` (plain `http://`
/// only on loopback, for a local CI runner), no userinfo or fragment.
pub fn endpoint(url: &str) -> Result<LocalEndpoint> {
    let bad = |why: &str| Error::invalid(format!("Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL is not usable: {why}"));
    let endpoint = LocalEndpoint::parse(url, |_| true).map_err(bad)?;
    if endpoint.scheme != "https" && !is_loopback(endpoint.authority.host()) {
        return Err(bad("it must be an https:// URL"));
    }
    Ok(endpoint)
}

/// The token request for `audience`: the URL with `audience` appended to
/// its query, the request token as a bearer credential.
pub fn request(endpoint: &LocalEndpoint, request_token: &Secret, audience: &str) -> Result<HttpRequest> {
    let separator = if endpoint.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}audience={}", endpoint.url, percent_encode(audience));
    HttpRequest::get(url)
        .header("Accept", "application/json")?
        .header("Authorization", format!("bearer {}", request_token.expose()))
}

/// The ID token in `value`.
pub fn parse(response: &HttpResponse) -> Result<Secret> {
    let body = json_object(response, ErrorFormat::OAuth2)?;
    match opt_str(&body, "value")? {
        Some(v) if !v.is_empty() => Ok(Secret::new(v.to_owned())),
        _ => Err(Error::malformed("Actions OIDC: the token response did not contain a token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response() {
        let e = endpoint("https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0").unwrap();
        let r = request(&e, &Secret::new("req-token"), "sts.amazonaws.com").unwrap();
        assert_eq!(
            r.url,
            "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0&audience=sts.amazonaws.com"
        );
        assert_eq!(r.header_value("Authorization"), Some("bearer req-token"));
        let e = endpoint("http://127.0.0.1:8080/token").unwrap();
        let r = request(&e, &Secret::new("t"), "api://AzureADTokenExchange").unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8080/token?audience=api%3A%2F%2FAzureADTokenExchange");
        for bad in ["http://ci.example/token", "ftp://ci.example/x", "https://u@ci.example/x", "https://ci.example/x#f"]
        {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(parse(&HttpResponse::new(200, r#"{"count":1,"value":"eyJ.a.b"}"#)).unwrap().expose(), "eyJ.a.b");
        for bad in [r#"{"value":""}"#, "{}", "nope"] {
            assert_eq!(parse(&HttpResponse::new(200, bad)).unwrap_err().kind(), "malformed-response");
        }
        assert_eq!(parse(&HttpResponse::new(403, "{}")).unwrap_err().kind(), "http-status");
    }
}
