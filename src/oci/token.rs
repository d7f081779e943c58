//! Registry token requests and responses (the distribution token spec): a
//! `GET` to the challenge's realm with `service` and one `scope` per scope,
//! optionally with basic credentials.
//!
//! The realm comes from a registry's challenge, so it is checked like any
//! untrusted URL: `https://` (or `http://` for anonymous requests only), a
//! valid host, no userinfo or fragment, no whitespace or control characters.
//! Plain http is allowed without credentials because insecure registries
//! (`localhost:5000` in development) serve their token endpoint that way and
//! an anonymous request carries no secret; with credentials it is refused,
//! since the password would cross the network in the clear.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse, check_single_line, percent_encode};
use crate::response::{ErrorFormat, json_object, opt_string};
use crate::secret::Secret;
use crate::time::parse_rfc3339;
use crate::token::{NumberOrString, expires_after, non_empty_token};

/// Basic credentials for the token server.
#[derive(Clone, Debug)]
pub struct BasicAuth<'a> {
    pub username: &'a str,
    pub password: &'a Secret,
}

/// The lifetime of a token whose response has no `expires_in` (token spec).
pub const DEFAULT_LIFETIME: i64 = 60;

/// Longest realm URL accepted.
const MAX_REALM: usize = 4096;

/// Builds the token request.
pub fn token_request(
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    basic: Option<&BasicAuth<'_>>,
) -> Result<HttpRequest> {
    let base = check_realm(realm, basic.is_some())?;
    let mut query: Vec<(&str, &str)> = Vec::with_capacity(scopes.len() + 1);
    if let Some(service) = service.filter(|s| !s.is_empty()) {
        check_single_line("service", service)?;
        query.push(("service", service));
    }
    for scope in scopes {
        if scope.is_empty() {
            return Err(Error::invalid("a scope is empty"));
        }
        check_single_line("scope", scope)?;
        query.push(("scope", scope));
    }
    let request = HttpRequest::get(append_query(base, &query));
    match basic {
        Some(basic) => request.header("Authorization", basic_authorization(basic)?),
        None => Ok(request),
    }
}

/// Checks the realm and returns it, ready to take more query parameters.
fn check_realm(realm: &str, with_credentials: bool) -> Result<&str> {
    let bad = |why: &str| Error::invalid(format!("token realm {why}"));
    if realm.len() > MAX_REALM {
        return Err(bad("is too long"));
    }
    let (scheme, rest) = realm.split_once("://").ok_or_else(|| bad("is not an absolute URL"))?;
    if scheme.eq_ignore_ascii_case("http") {
        if with_credentials {
            return Err(bad("is plain http: credentials are only sent over https"));
        }
    } else if !scheme.eq_ignore_ascii_case("https") {
        return Err(bad("is not an https:// URL"));
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(bad("has userinfo"));
    }
    Authority::parse(authority).map_err(|_| bad("has no valid host"))?;
    if path_and_query.bytes().any(|b| !b.is_ascii_graphic() || b == b'#') {
        return Err(bad("has a fragment, space, control or non-ASCII character"));
    }
    Ok(realm)
}

/// Appends percent-encoded pairs to a URL that may already have a query.
fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = String::from(base);
    for (name, value) in pairs {
        if !url.contains('?') {
            url.push('?');
        } else if !url.ends_with(['?', '&']) {
            url.push('&');
        }
        url.push_str(&percent_encode(name));
        url.push('=');
        url.push_str(&percent_encode(value));
    }
    url
}

/// `Basic base64(user:password)` (RFC 7617). A `:` in the user name would
/// move the split point, so it is refused.
fn basic_authorization(basic: &BasicAuth<'_>) -> Result<String> {
    if basic.username.contains(':') {
        return Err(Error::invalid("a basic-auth user name cannot contain ':'"));
    }
    check_single_line("user name", basic.username)?;
    check_single_line("password", basic.password.expose())?;
    let pair = format!("{}:{}", basic.username, basic.password.expose());
    Ok(format!("Basic {}", STANDARD.encode(pair)))
}

/// Parses a token response: `token`, else `access_token` (the OAuth2 alias).
/// The token expires `expires_in` seconds (60 when absent) after `issued_at`
/// when the server gives it, else after `now`, as the token spec says.
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    let body = json_object(response, ErrorFormat::Distribution)?;
    let token = opt_string(&body, "token")?;
    let access_token = opt_string(&body, "access_token")?;
    let expires_in = NumberOrString::field(&body, "expires_in")?;
    let issued_at = opt_string(&body, "issued_at")?;
    let token = non_empty_token(token.filter(|t| !t.is_empty()).or(access_token), "token")?;
    let lifetime = match &expires_in {
        Some(v) => v.as_i64().ok_or_else(|| Error::malformed("expires_in is not a number"))?,
        None => DEFAULT_LIFETIME,
    };
    let issued_at = match &issued_at {
        Some(t) => parse_rfc3339(t).map_err(|_| Error::malformed("issued_at is not an RFC 3339 time"))?,
        None => now,
    };
    let expires_at = expires_after(issued_at, lifetime).map_err(|e| match e {
        Error::InvalidInput(m) => Error::malformed(m),
        e => e,
    })?;
    Ok(AccessToken { token, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    fn basic<'a>(username: &'a str, password: &'a Secret) -> BasicAuth<'a> {
        BasicAuth { username, password }
    }

    #[test]
    fn anonymous_request() {
        let req = token_request(
            "https://registry.example.test/token",
            Some("registry.example.test"),
            &scopes(&["repository:foo:pull"]),
            None,
        )
        .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(
            req.url,
            "https://registry.example.test/token?service=registry.example.test&scope=repository%3Afoo%3Apull"
        );
        assert!(req.headers.is_empty() && req.body.is_empty());

        let req = token_request(
            "https://auth.docker.io/token",
            Some("registry.docker.io"),
            &scopes(&["repository:a:pull", "repository:b:pull"]),
            None,
        )
        .unwrap();
        assert_eq!(
            req.url,
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull"
        );
        // No service, no scopes.
        assert_eq!(token_request("https://r.test/token", None, &[], None).unwrap().url, "https://r.test/token");
        assert_eq!(token_request("https://r.test/token", Some(""), &[], None).unwrap().url, "https://r.test/token");
    }

    #[test]
    fn realm_with_query() {
        let s = scopes(&["repository:a:pull"]);
        let url = |realm: &str| token_request(realm, Some("r"), &s, None).unwrap().url;
        assert_eq!(
            url("https://r.test/token?tenant=x"),
            "https://r.test/token?tenant=x&service=r&scope=repository%3Aa%3Apull"
        );
        assert_eq!(url("https://r.test/token?"), "https://r.test/token?service=r&scope=repository%3Aa%3Apull");
        assert_eq!(url("https://r.test/token?a=b&"), "https://r.test/token?a=b&service=r&scope=repository%3Aa%3Apull");
        assert_eq!(url("https://r.test?x=1"), "https://r.test?x=1&service=r&scope=repository%3Aa%3Apull");
        assert_eq!(url("HTTPS://R.test:8443/t"), "HTTPS://R.test:8443/t?service=r&scope=repository%3Aa%3Apull");
    }

    #[test]
    fn basic_credentials() {
        let password = Secret::new("s3cr3t-p@ss");
        let req = token_request(
            "https://registry.example.test/token",
            Some("registry.example.test"),
            &scopes(&["repository:team/app:pull"]),
            Some(&basic("wirecap", &password)),
        )
        .unwrap();
        assert_eq!(
            req.url,
            "https://registry.example.test/token?service=registry.example.test&scope=repository%3Ateam%2Fapp%3Apull"
        );
        assert_eq!(req.header_value("Authorization"), Some("Basic d2lyZWNhcDpzM2NyM3QtcEBzcw=="));
        assert!(!format!("{req:?}").contains("d2lyZWNhcDpzM2NyM3QtcEBzcw"));
        // A password may contain ':'; an empty one is allowed.
        let colon = Secret::new("a:b");
        assert_eq!(
            token_request("https://r.test/t", None, &[], Some(&basic("u", &colon)))
                .unwrap()
                .header_value("Authorization"),
            Some("Basic dTphOmI=")
        );
        let empty = Secret::new("");
        assert_eq!(
            token_request("https://r.test/t", None, &[], Some(&basic("u", &empty)))
                .unwrap()
                .header_value("Authorization"),
            Some("Basic dTo=")
        );
    }

    #[test]
    fn plain_http() {
        let s = scopes(&["repository:foo:pull"]);
        let p = Secret::new("p");
        assert_eq!(
            token_request(
                "http://registry.example.test/token",
                Some("registry.example.test"),
                &s,
                Some(&basic("u", &p))
            )
            .unwrap_err()
            .kind(),
            "invalid-input"
        );
        assert_eq!(
            token_request("HTTP://registry.example.test/token", None, &s, Some(&basic("u", &p))).unwrap_err().kind(),
            "invalid-input"
        );
        let req = token_request("http://localhost:5000/token", Some("localhost:5000"), &s, None).unwrap();
        assert_eq!(req.url, "http://localhost:5000/token?service=localhost%3A5000&scope=repository%3Afoo%3Apull");
    }

    #[test]
    fn rejects_bad_inputs() {
        let s = scopes(&["repository:foo:pull"]);
        for realm in [
            "",
            "registry.example.test/token",
            "ftp://r.test/token",
            "https://",
            "https:///token",
            "https://u:p@r.test/token",
            "https://evil.test@r.test/token",
            "https://r.test/token#frag",
            "https://r.test/to ken",
            "https://r.test/token\r\nX: y",
            "https://r.test/tökèn",
            "https://r_test/token",
            "https://r.test:99999/token",
            "//r.test/token",
            &format!("https://r.test/{}", "a".repeat(MAX_REALM)),
        ] {
            assert_eq!(token_request(realm, Some("r"), &s, None).unwrap_err().kind(), "invalid-input", "{realm:?}");
        }
        for (service, scope) in [(Some("a\r\nb"), "s"), (Some("r"), ""), (Some("r"), "s\n"), (Some("r\0"), "s")] {
            assert_eq!(
                token_request("https://r.test/t", service, &scopes(&[scope]), None).unwrap_err().kind(),
                "invalid-input",
                "{service:?} {scope:?}"
            );
        }
        let p = Secret::new("p");
        for user in ["a:b", "a\r\nb", ":"] {
            assert_eq!(
                token_request("https://r.test/t", None, &s, Some(&basic(user, &p))).unwrap_err().kind(),
                "invalid-input",
                "{user:?}"
            );
        }
        let p = Secret::new("p\r\nX-Evil: 1");
        assert_eq!(
            token_request("https://r.test/t", None, &s, Some(&basic("u", &p))).unwrap_err().kind(),
            "invalid-input"
        );
    }

    #[test]
    fn scope_characters_are_encoded() {
        let req = token_request(
            "https://r.test/t",
            Some("r"),
            &scopes(&["repository:a&b=c:pull", "repository:x y:pull,push"]),
            None,
        )
        .unwrap();
        assert_eq!(
            req.url,
            "https://r.test/t?service=r&scope=repository%3Aa%26b%3Dc%3Apull&scope=repository%3Ax%20y%3Apull%2Cpush"
        );
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_responses() {
        let now = 1_705_320_000;
        let parse =
            |body: &str| parse_token(&response(200, body), now).map(|t| (t.token.expose().to_owned(), t.expires_at));
        assert_eq!(
            parse(r#"{"token": "t", "access_token": "t", "expires_in": 300, "issued_at": "2024-01-15T12:00:00Z"}"#)
                .unwrap(),
            ("t".into(), now + 300)
        );
        assert_eq!(parse(r#"{"access_token": "a"}"#).unwrap(), ("a".into(), now + 60));
        assert_eq!(
            parse(r#"{"token": "t", "access_token": "a", "expires_in": "120"}"#).unwrap(),
            ("t".into(), now + 120)
        );
        assert_eq!(parse(r#"{"token": "", "access_token": "a", "expires_in": null}"#).unwrap(), ("a".into(), now + 60));
        // issued_at, when given, is the base of the lifetime.
        assert_eq!(
            parse(r#"{"token": "t", "expires_in": 300, "issued_at": "2024-01-15T11:59:00Z"}"#).unwrap(),
            ("t".into(), now + 240)
        );
        assert_eq!(
            parse(r#"{"token": "t", "issued_at": "2024-01-15T12:00:00.5+01:00"}"#).unwrap(),
            ("t".into(), now - 3600 + 60)
        );
    }

    #[test]
    fn response_errors() {
        let err = parse_token(
            &response(401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#),
            0,
        )
        .unwrap_err();
        assert!(matches!(&err, Error::HttpStatus { status: 401, code: Some(c), .. } if c == "UNAUTHORIZED"), "{err:?}");
        let err = parse_token(&response(403, r#"{"details":"denied"}"#), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 403, code: None, .. }), "{err:?}");
        let err = parse_token(&response(404, "<html>404</html>"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 404, code: None, .. }), "{err:?}");
        let big = HttpResponse { status: 200, headers: vec![], body: vec![b' '; crate::http::MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_token(&big, 0).unwrap_err().kind(), "malformed-response");
        for body in [
            r#"{"expires_in":300}"#,
            r#"{"token": "", "access_token": ""}"#,
            r#"{"token": 5}"#,
            r#"{"token": "t", "expires_in": "soon"}"#,
            r#"{"token": "t", "expires_in": -1}"#,
            r#"{"token": "t", "expires_in": 1e300}"#,
            r#"{"token": "t", "issued_at": "yesterday"}"#,
            r#"{"token": "t", "issued_at": 1705320000}"#,
            r#"{"token": "a\nb"}"#,
            "<html>gateway</html>",
            "",
            "[]",
            r#"{"token": "t""#,
        ] {
            assert_eq!(parse_token(&response(200, body), 0).unwrap_err().kind(), "malformed-response", "{body}");
        }
        // Expiry arithmetic cannot overflow.
        assert_eq!(
            parse_token(&response(200, r#"{"token": "t"}"#), i64::MAX).unwrap_err().kind(),
            "malformed-response"
        );
    }
}
