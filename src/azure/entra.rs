//! Entra ID (Azure AD) client-credentials tokens with a client assertion:
//! the request azure-identity's `WorkloadIdentityCredential` and
//! `ClientAssertionCredential` send (through msal), a POST to
//! `<authority>/<tenant>/oauth2/v2.0/token`.

use crate::azure::cloud::{AzureCloud, authority_host};
use crate::credentials::AccessToken;
use crate::error::{Error, Result, quoted};
use crate::host::parse_https_base;
use crate::http::{HttpRequest, HttpResponse, check_non_empty};
use crate::response::ErrorFormat;
use crate::secret::Secret;
use crate::token::parse_access_token;

/// Where the token endpoint lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authority {
    Cloud(AzureCloud),
    /// An explicit `https://` authority host.
    Host(String),
}

impl Authority {
    /// The authority base URL, `https://host[:port]`, without a trailing `/`.
    ///
    /// An explicit host is treated as azure-identity's `normalize_authority`
    /// treats it: `https://` is kept, a host without a scheme gets `https://`,
    /// and plain `http://` (or any other scheme) is refused, since the
    /// request carries a credential. Unlike azure-identity, a path, query,
    /// userinfo or anything but a bare `host[:port]` is refused too: the
    /// tenant is appended as a path, and a base with its own path or query
    /// would send the assertion somewhere the caller did not name.
    pub fn base_url(&self) -> Result<String> {
        let host = match self {
            Authority::Cloud(cloud) => return Ok(authority_host(*cloud)?.to_owned()),
            Authority::Host(host) => host,
        };
        let rest = match split_scheme(host) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
            Some(_) => {
                return Err(Error::invalid(format!("authority host {} must be an https:// URL", quoted(host))));
            }
            None => host,
        };
        // azure-identity strips every trailing `/`.
        let authority = parse_https_base(&format!("https://{}", rest.trim_end_matches('/')))?;
        Ok(format!("https://{authority}"))
    }
}

/// `scheme://rest`, when the value has a scheme.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let is_scheme = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    // `host:port//x` is not a scheme; let the host check reject it.
    is_scheme.then_some((scheme, rest))
}

/// Parameters of a client-assertion token request.
#[derive(Clone, Debug)]
pub struct AssertionTokenRequest<'a> {
    pub authority: &'a Authority,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub client_assertion: &'a Secret,
}

/// The assertion type of a JWT client assertion (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Builds the token request.
pub fn token_request(params: &AssertionTokenRequest<'_>) -> Result<HttpRequest> {
    let url = token_url(params.authority, params.tenant_id)?;
    check_non_empty("client id", params.client_id)?;
    check_non_empty("scope", params.scope)?;
    check_non_empty("client assertion", params.client_assertion.expose())?;
    HttpRequest::post(url).form(&[
        ("client_assertion", params.client_assertion.expose()),
        ("client_assertion_type", JWT_BEARER),
        ("client_id", params.client_id),
        ("grant_type", "client_credentials"),
        ("scope", params.scope),
    ])
}

/// The token endpoint of a tenant, `<authority>/<tenant>/oauth2/v2.0/token`
/// (also the `aud` of a certificate's client assertion).
pub fn token_url(authority: &Authority, tenant_id: &str) -> Result<String> {
    let base = authority.base_url()?;
    check_tenant_id(tenant_id)?;
    Ok(format!("{base}/{tenant_id}/oauth2/v2.0/token"))
}

/// Parameters of a client-secret token request.
#[derive(Clone, Debug)]
pub struct SecretTokenRequest<'a> {
    pub authority: &'a Authority,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub client_secret: &'a Secret,
}

/// Builds the token request of azure-identity's `ClientSecretCredential`
/// (`EnvironmentCredential` with `AZURE_CLIENT_SECRET`): the client
/// credentials grant with `client_secret` (RFC 6749 section 4.4, Microsoft
/// identity platform "client credentials flow", first case).
pub fn secret_token_request(params: &SecretTokenRequest<'_>) -> Result<HttpRequest> {
    let base = params.authority.base_url()?;
    check_tenant_id(params.tenant_id)?;
    check_non_empty("client id", params.client_id)?;
    check_non_empty("scope", params.scope)?;
    check_non_empty("client secret", params.client_secret.expose())?;
    let url = format!("{base}/{}/oauth2/v2.0/token", params.tenant_id);
    HttpRequest::post(url).form(&[
        ("client_id", params.client_id),
        ("client_secret", params.client_secret.expose()),
        ("grant_type", "client_credentials"),
        ("scope", params.scope),
    ])
}

/// Parses the token response (`access_token`, `expires_in`; Entra errors
/// carry their code in `error`).
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::OAuth2, now)
}

/// Longest tenant id accepted: a DNS name is at most 253 characters.
const MAX_TENANT_ID: usize = 253;

/// A tenant is a GUID or a domain (`contoso.onmicrosoft.com`, also
/// `organizations`): azure-identity allows only letters, digits, `-` and
/// `.`. It becomes a path segment, so dot-only segments (`.`, `..`) and empty
/// labels are refused as well.
pub fn check_tenant_id(tenant_id: &str) -> Result<()> {
    let bad = || Error::invalid("tenant id must be a GUID or a domain name (letters, digits, '-' and '.')");
    if tenant_id.is_empty() || tenant_id.len() > MAX_TENANT_ID {
        return Err(bad());
    }
    let label_ok = |label: &str| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !tenant_id.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-0000-4000-8000-00000000a11e";
    const CLIENT: &str = "0d0e0a0d-beef-4000-8000-00000000c1d0";
    const SCOPE: &str = "https://containerregistry.azure.net/.default";

    fn request(
        authority: Authority,
        tenant_id: &str,
        client_id: &str,
        scope: &str,
        assertion: &str,
    ) -> Result<HttpRequest> {
        let assertion = Secret::new(assertion);
        token_request(&AssertionTokenRequest {
            authority: &authority,
            tenant_id,
            client_id,
            scope,
            client_assertion: &assertion,
        })
    }

    fn host(h: &str) -> Authority {
        Authority::Host(h.to_owned())
    }

    fn form(req: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(&req.body).into_owned().collect()
    }

    #[test]
    fn builds_the_token_request() {
        let req = request(Authority::Cloud(AzureCloud::Public), TENANT, CLIENT, SCOPE, "a.b.c").unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"));
        assert_eq!(req.header_value("content-type"), Some("application/x-www-form-urlencoded"));
        let pairs: Vec<(&str, &str)> = vec![
            ("client_assertion", "a.b.c"),
            ("client_assertion_type", JWT_BEARER),
            ("client_id", CLIENT),
            ("grant_type", "client_credentials"),
            ("scope", SCOPE),
        ];
        let want: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        assert_eq!(form(&req), want);
        assert!(!format!("{req:?}").contains("a.b.c"));
    }

    #[test]
    fn authorities() {
        let url = |a: Authority| request(a, "contoso.onmicrosoft.com", CLIENT, SCOPE, "x").map(|r| r.url);
        assert_eq!(
            url(Authority::Cloud(AzureCloud::China)).unwrap(),
            "https://login.chinacloudapi.cn/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            url(Authority::Cloud(AzureCloud::UsGovernment)).unwrap(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        for h in [
            "https://login.example.test",
            "https://login.example.test/",
            "https://login.example.test//",
            "login.example.test/",
            "HTTPS://Login.Example.Test",
            "login.example.test",
        ] {
            assert_eq!(
                url(host(h)).unwrap(),
                "https://login.example.test/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "{h}"
            );
        }
        assert_eq!(
            url(host("https://login.example.test:8443")).unwrap(),
            "https://login.example.test:8443/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        for h in [
            "http://login.microsoftonline.com",
            "HTTP://login.microsoftonline.com",
            "ftp://login.microsoftonline.com",
            "https://login.microsoftonline.com/adfs",
            "https://login.microsoftonline.com?x=1",
            "https://login.microsoftonline.com#x",
            "https://user@login.microsoftonline.com",
            "https://",
            "https:///",
            "/",
            "",
            " https://login.microsoftonline.com",
            "https://login.microsoftonline.com\r\nX: y",
            "login.microsoftonline.com/x",
            "evil.example@login.microsoftonline.com",
        ] {
            assert_eq!(url(host(h)).unwrap_err().kind(), "invalid-input", "{h:?}");
        }
        assert_eq!(url(Authority::Cloud(AzureCloud::Custom)).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn tenants() {
        for t in [TENANT, "contoso.onmicrosoft.com", "organizations", "A-B"] {
            assert!(check_tenant_id(t).is_ok(), "{t}");
        }
        for t in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a?b",
            "a#b",
            "a%2fb",
            "a b",
            "a\r\nb",
            "a..b",
            ".a",
            "a.",
            "a_b",
            "ä",
            &"a".repeat(254),
        ] {
            assert_eq!(
                request(Authority::Cloud(AzureCloud::Public), t, CLIENT, SCOPE, "x").unwrap_err().kind(),
                "invalid-input",
                "{t:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_fields() {
        let public = || Authority::Cloud(AzureCloud::Public);
        for (client, scope, assertion) in [
            ("", SCOPE, "x"),
            ("a\nb", SCOPE, "x"),
            (CLIENT, "", "x"),
            (CLIENT, "s\r\n", "x"),
            (CLIENT, SCOPE, ""),
            (CLIENT, SCOPE, "a\nb"),
        ] {
            let err = request(public(), TENANT, client, scope, assertion).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{client:?} {scope:?}");
        }
        // Form encoding keeps reserved characters in the body, not the URL.
        let req = request(public(), TENANT, "a&b=c", "s t", "x").unwrap();
        assert!(form(&req).contains(&("client_id".to_owned(), "a&b=c".to_owned())));
        assert!(form(&req).contains(&("scope".to_owned(), "s t".to_owned())));
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_responses() {
        let ok = r#"{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "tok"}"#;
        let t = parse_token(&response(200, ok), 1_705_320_000).unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("tok", 1_705_323_599));

        let err = parse_token(&response(400, r#"{"error": "invalid_client", "error_description": "AADSTS700213"}"#), 0)
            .unwrap_err();
        assert_eq!(
            err,
            Error::HttpStatus { status: 400, code: Some("invalid_client".into()), message: "AADSTS700213".into() }
        );
        let err = parse_token(&response(503, "<html>busy</html>"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 503, code: None, .. }), "{err:?}");

        for body in [
            "<html>gateway</html>",
            "",
            "{",
            r#"{"access_token": "tok"}"#,
            r#"{"expires_in": 10}"#,
            r#"{"access_token": 1, "expires_in": 10}"#,
            &ok[..ok.len() - 2],
        ] {
            assert_eq!(parse_token(&response(200, body), 0).unwrap_err().kind(), "malformed-response", "{body}");
        }
    }
}
