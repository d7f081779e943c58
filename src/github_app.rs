//! GitHub App installation tokens, as fluxcd/pkg `auth/githubapp` gets
//! them (through go-github): an RS256 app JWT, an optional lookup of the
//! installation by its owner, then `POST app/installations/{id}/access_tokens`.
//! The token is the password of Git credentials with the user
//! `x-access-token`.
//!
//! The inputs are Flux's secret keys (`githubAppID`,
//! `githubAppInstallationID`, `githubAppInstallationOwner`,
//! `githubAppPrivateKey`, `githubAppBaseURL`) with Flux's checks and texts.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, quoted};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse};
use crate::jws::RsaKey;
use crate::response::{ErrorFormat, json_object, mistyped_field, req_str};
use crate::secret::Secret;

/// The Git user name of installation-token credentials (Flux's
/// `AccessTokenUsername`).
pub const USERNAME: &str = "x-access-token";
/// The API of github.com, go-github's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com/";
/// What go-github sends: its v3 media type and the API version it pins.
pub const ACCEPT: &str = "application/vnd.github.v3+json";
pub const API_VERSION: &str = "2022-11-28";
/// Flux backdates `iat` by 30 s for clock drift and gives the JWT two
/// minutes from then (GitHub accepts at most ten).
pub const IAT_BACKDATE: i64 = 30;
pub const JWT_LIFETIME: i64 = 120;

/// A GitHub App configuration, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitHubApp {
    pub app_id: u64,
    pub installation: Installation,
    /// The PEM private key, as given (Flux's cache key hashes it).
    pub private_key: Secret,
    /// `githubAppBaseURL` as given (empty: not set), for the cache key.
    pub base_url_input: String,
    /// The API base: `https://host[:port]/[path/]`, ending in `/`.
    pub base_url: String,
    /// The API host.
    pub api: Authority,
}

/// Which installation: by id, or looked up by its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Installation {
    Id(u64),
    Owner(String),
}

/// The raw inputs, named as Flux's secret keys.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    pub app_id: &'a str,
    pub installation_id: Option<&'a str>,
    pub installation_owner: Option<&'a str>,
    pub private_key: &'a Secret,
    pub base_url: Option<&'a str>,
}

impl GitHubApp {
    /// Flux's `New` checks, in its order and with its texts (an id that is
    /// not a number counts as missing there, since `ParseInt` errors are
    /// dropped; here it is named instead). The key is parsed as well, so
    /// a bad key fails before anything is sent.
    pub fn new(inputs: &Inputs<'_>) -> Result<GitHubApp> {
        const NO_APP: &str = "app ID must be provided to use github app authentication";
        let app_id = parse_id(inputs.app_id, "githubAppID", NO_APP)?;
        let owner = inputs.installation_owner.filter(|o| !o.is_empty());
        let id = inputs.installation_id.filter(|i| !i.is_empty());
        let installation = match (id, owner) {
            (None, None) => {
                return Err(Error::invalid(
                    "app installation owner or ID must be provided to use github app authentication",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "only one of app installation owner or ID must be provided to use github app authentication",
                ));
            }
            (Some(id), None) => Installation::Id(parse_id(
                id,
                "githubAppInstallationID",
                "app installation owner or ID must be provided to use github app authentication",
            )?),
            (None, Some(owner)) => Installation::Owner(check_owner(owner)?.to_owned()),
        };
        if inputs.private_key.is_empty() {
            return Err(Error::invalid("private key must be provided to use github app authentication"));
        }
        RsaKey::from_pem(inputs.private_key.expose(), "could not parse private key: githubAppPrivateKey")?;
        let base_url_input = inputs.base_url.unwrap_or_default().to_owned();
        let (base_url, api) = base_url(inputs.base_url.filter(|b| !b.is_empty()).unwrap_or(DEFAULT_BASE_URL))?;
        Ok(GitHubApp { app_id, installation, private_key: inputs.private_key.clone(), base_url_input, base_url, api })
    }

    /// The app JWT at `now`: `iat` 30 s back, `exp` two minutes after `iat`,
    /// `iss` the app id (golang-jwt's RS256 header, `{"alg","typ"}`).
    pub fn jwt(&self, now: i64) -> Result<Secret> {
        let key = RsaKey::from_pem(self.private_key.expose(), "could not parse private key: githubAppPrivateKey")?;
        let iat = now.checked_sub(IAT_BACKDATE).ok_or_else(|| Error::invalid("now is out of range"))?;
        let claims = json!({"iss": self.app_id.to_string(), "iat": iat, "exp": iat + JWT_LIFETIME});
        key.sign_jwt(&serde_json::Map::new(), &claims)
    }

    /// Flux's cache key: its fields joined by `,`, SHA-256, hex.
    pub fn cache_key(&self) -> String {
        let (owner, id) = match &self.installation {
            Installation::Id(id) => (String::new(), *id),
            Installation::Owner(owner) => (owner.clone(), 0),
        };
        let raw = [
            format!("githubAppID={}", self.app_id),
            format!("githubAppInstallationOwner={owner}"),
            format!("githubAppInstallationID={id}"),
            format!("githubAppBaseURL={}", self.base_url_input),
            format!("githubAppPrivateKey={}", self.private_key.expose()),
            "reflectSlug=false".to_owned(),
        ]
        .join(",");
        Sha256::digest(raw.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn request(&self, method_post: bool, path: &str, jwt: &Secret) -> Result<HttpRequest> {
        let url = format!("{}{path}", self.base_url);
        let request = if method_post { HttpRequest::post(url) } else { HttpRequest::get(url) };
        request
            .header("Accept", ACCEPT)?
            .header("Authorization", format!("Bearer {}", jwt.expose()))?
            .header("X-GitHub-Api-Version", API_VERSION)
    }

    /// `GET orgs/{owner}/installation` (go-github's `FindOrganizationInstallation`).
    pub fn org_installation_request(&self, owner: &str, jwt: &Secret) -> Result<HttpRequest> {
        self.request(false, &format!("orgs/{}/installation", check_owner(owner)?), jwt)
    }

    /// `GET users/{owner}/installation` (`FindUserInstallation`).
    pub fn user_installation_request(&self, owner: &str, jwt: &Secret) -> Result<HttpRequest> {
        self.request(false, &format!("users/{}/installation", check_owner(owner)?), jwt)
    }

    /// `POST app/installations/{id}/access_tokens` (`CreateInstallationToken`,
    /// without options: no body).
    pub fn token_request(&self, installation_id: u64, jwt: &Secret) -> Result<HttpRequest> {
        self.request(true, &format!("app/installations/{installation_id}/access_tokens"), jwt)
    }
}

/// The id of an installation response (`GET .../installation`).
pub fn parse_installation(response: &HttpResponse) -> Result<u64> {
    let body = json_object(response, ErrorFormat::GitHub)?;
    let id = body.get("id").and_then(serde_json::Value::as_u64).ok_or_else(|| mistyped_field("id"))?;
    if id == 0 {
        return Err(Error::malformed("the installation has id 0"));
    }
    Ok(id)
}

/// An installation token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallationToken {
    pub token: Secret,
    pub expires_at: i64,
}

/// The `POST .../access_tokens` response: `token` and `expires_at`
/// (RFC 3339). A token that has already expired is an error.
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<InstallationToken> {
    let body = json_object(response, ErrorFormat::GitHub)?;
    let token = req_str(&body, "token")?;
    let expires_at = req_str(&body, "expires_at")?;
    if token.is_empty() || token.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::malformed("the installation token is empty or not one word"));
    }
    let expires_at = crate::time::parse_rfc3339(expires_at)?;
    if expires_at <= now {
        return Err(Error::malformed("the installation token has already expired"));
    }
    Ok(InstallationToken { token: Secret::new(token.to_owned()), expires_at })
}

fn parse_id(value: &str, key: &str, missing: &str) -> Result<u64> {
    if value.is_empty() {
        return Err(Error::invalid(missing));
    }
    match value.parse::<u64>() {
        Ok(id) if id > 0 && value.bytes().all(|b| b.is_ascii_digit()) && id <= i64::MAX as u64 => Ok(id),
        _ => Err(Error::invalid(format!("{key} must be a positive integer: {missing}"))),
    }
}

/// An account login (user or organization): letters, digits and `-` (GitHub
/// logins), at most 100 characters; it becomes a path segment.
fn check_owner(owner: &str) -> Result<&str> {
    let ok = (1..=100).contains(&owner.len()) && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(owner)
    } else {
        Err(Error::invalid(format!(
            "githubAppInstallationOwner {} is not a GitHub account name (letters, digits and '-')",
            quoted(owner)
        )))
    }
}

/// The API base URL: Flux adds a trailing `/` and uses the URL as given
/// (its path is kept: `https://ghe.example.com/api/v3`). It must be
/// `https://` (Flux also takes `http://`; the JWT and the token are
/// credentials), with no user information, query or fragment, and a path
/// of plain segments (no `.`/`..`, no escapes).
pub fn base_url(url: &str) -> Result<(String, Authority)> {
    let bad = |why: &str| Error::invalid(format!("githubAppBaseURL {} {why}", quoted(url)));
    let rest = url.strip_prefix("https://").ok_or_else(|| bad("must be an https:// URL"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains(['@', '\\', '%']) {
        return Err(bad("must not carry user information or escapes"));
    }
    let api = Authority::parse(authority).map_err(|_| bad("has no valid host"))?;
    let path = path.trim_end_matches('/');
    let segment_ok = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    if !path.is_empty() && !path.strip_prefix('/').is_some_and(|p| p.split('/').all(segment_ok)) {
        return Err(bad("must have a plain path (no query, fragment, escapes or dot segments)"));
    }
    Ok((format!("https://{api}{path}/"), api))
}

/// The Git host an API host serves: `github.com` for `api.github.com`,
/// `<name>.ghe.com` for `api.<name>.ghe.com` (GitHub Enterprise Cloud with
/// data residency), else the API host itself (GitHub Enterprise Server,
/// `https://<host>/api/v3`).
pub fn git_host(api: &Authority) -> String {
    let host = api.to_string();
    match host.strip_prefix("api.") {
        Some(rest) if rest == "github.com" || rest.ends_with(".ghe.com") => rest.to_owned(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const KEY: &str = include_str!("../tests/data/test-rsa-pkcs1.pem");

    fn app(id: &str, inst: Option<&str>, owner: Option<&str>, key: &str, base: Option<&str>) -> Result<GitHubApp> {
        let key = Secret::new(key);
        GitHubApp::new(&Inputs {
            app_id: id,
            installation_id: inst,
            installation_owner: owner,
            private_key: &key,
            base_url: base,
        })
    }

    #[test]
    fn checks_inputs_as_flux_does() {
        let msg = |r: Result<GitHubApp>| r.unwrap_err().to_string();
        assert!(
            msg(app("", Some("1"), None, KEY, None))
                .ends_with("app ID must be provided to use github app authentication")
        );
        assert!(msg(app("x", Some("1"), None, KEY, None)).contains("githubAppID must be a positive integer"));
        assert!(
            msg(app("1", None, None, KEY, None))
                .ends_with("app installation owner or ID must be provided to use github app authentication")
        );
        assert!(
            msg(app("1", Some("2"), Some("o"), KEY, None)).ends_with(
                "only one of app installation owner or ID must be provided to use github app authentication"
            )
        );
        assert!(
            msg(app("1", Some("2"), None, "", None))
                .ends_with("private key must be provided to use github app authentication")
        );
        assert!(msg(app("1", Some("2"), None, "junk", None)).contains("could not parse private key"));
        assert!(msg(app("1", None, Some("a/b"), KEY, None)).contains("githubAppInstallationOwner"));
        let ok = app("1", Some("2"), None, KEY, None).unwrap();
        assert_eq!((ok.base_url.as_str(), ok.api.to_string().as_str()), (DEFAULT_BASE_URL, "api.github.com"));
        assert!(!format!("{ok:?}").contains("PRIVATE"));
    }

    #[test]
    fn base_urls() {
        for (given, want) in [
            ("https://github.example.com/api/v3", "https://github.example.com/api/v3/"),
            ("https://github.example.com/api/v3/", "https://github.example.com/api/v3/"),
            ("https://api.github.com", "https://api.github.com/"),
            ("https://GHE.example.com:8443/", "https://ghe.example.com:8443/"),
        ] {
            assert_eq!(base_url(given).unwrap().0, want, "{given}");
        }
        for bad in [
            "http://github.example.com/api/v3",
            "https://u@github.example.com",
            "https://github.example.com/api/../x",
            "https://github.example.com/api?x=1",
            "https://github.example.com/a%2f",
            "https://github.example.com#x",
            "github.example.com",
            "https:///api",
        ] {
            assert_eq!(base_url(bad).unwrap_err().kind(), "invalid-input", "{bad}");
        }
        let api = |h: &str| git_host(&Authority::parse(h).unwrap());
        assert_eq!(api("api.github.com"), "github.com");
        assert_eq!(api("api.octocorp.ghe.com"), "octocorp.ghe.com");
        assert_eq!(api("ghe.example.com"), "ghe.example.com");
        assert_eq!(api("api.example.com"), "api.example.com");
    }

    #[test]
    fn jwt_claims_as_flux_makes_them() {
        let a = app("123456", Some("42"), None, KEY, None).unwrap();
        let jwt = a.jwt(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        let decode =
            |p: &str| serde_json::from_slice::<serde_json::Value>(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
        assert_eq!(decode(parts[0]), json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(decode(parts[1]), json!({"iss": "123456", "iat": 1_699_999_970, "exp": 1_700_000_090}));
        let r = a.token_request(42, &jwt).unwrap();
        assert_eq!((r.method, r.url.as_str()), ("POST", "https://api.github.com/app/installations/42/access_tokens"));
        assert_eq!(r.header_value("authorization"), Some(format!("Bearer {}", jwt.expose()).as_str()));
        assert!(r.body.is_empty());
        assert!(!format!("{r:?}").contains(parts[2]));
    }

    #[test]
    fn cache_key_is_fluxs() {
        // sha256("githubAppID=1,githubAppInstallationOwner=,githubAppInstallationID=2,githubAppBaseURL=,githubAppPrivateKey=k,reflectSlug=false")
        let raw =
            "githubAppID=1,githubAppInstallationOwner=,githubAppInstallationID=2,githubAppBaseURL=,githubAppPrivateKey="
                .to_owned()
                + KEY + ",reflectSlug=false";
        let want: String = Sha256::digest(raw.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(app("1", Some("2"), None, KEY, None).unwrap().cache_key(), want);
    }

    #[test]
    fn parses_token_responses() {
        let ok = r#"{"token":"ghs_16C7e42F292c6912E7710c838347Ae178B4a","expires_at":"2016-07-11T22:14:10Z","permissions":{"issues":"write"}}"#;
        let t = parse_token(&HttpResponse::new(201, ok), 1_468_270_000).unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("ghs_16C7e42F292c6912E7710c838347Ae178B4a", 1_468_275_250));
        assert_eq!(parse_token(&HttpResponse::new(201, ok), 1_468_275_250).unwrap_err().kind(), "malformed-response");
        for body in [
            "{}",
            "[]",
            "{",
            r#"{"token":"","expires_at":"2016-07-11T22:14:10Z"}"#,
            r#"{"token":"a","expires_at":"soon"}"#,
        ] {
            assert_eq!(
                parse_token(&HttpResponse::new(201, body), 0).unwrap_err().kind(),
                "malformed-response",
                "{body}"
            );
        }
        let e = parse_token(
            &HttpResponse::new(
                401,
                r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
            ),
            0,
        )
        .unwrap_err();
        assert_eq!(e, Error::HttpStatus { status: 401, code: None, message: "Bad credentials".into() });
        assert_eq!(
            parse_installation(&HttpResponse::new(200, r#"{"id":1,"account":{"login":"octocat"}}"#)).unwrap(),
            1
        );
        assert_eq!(
            parse_installation(&HttpResponse::new(200, r#"{"id":"1"}"#)).unwrap_err().kind(),
            "malformed-response"
        );
    }
}
