//! Application default credentials files (`GOOGLE_APPLICATION_CREDENTIALS`),
//! read as google-auth reads them, and the token requests they lead to.
//!
//! A file names both the identity and the endpoints it talks to (its
//! `token_uri`, STS `token_url`, impersonation URL, subject-token URL), so
//! it is parsed before any request: the session's routing guard is computed
//! from the parsed file ([`Credentials::cloud_hosts`]), and a field that
//! cannot be used fails here, naming the file and the field. Secrets (keys,
//! refresh tokens, client secrets) are [`Secret`]s and never quoted.
//!
//! Request bytes follow google-auth: the JWT-bearer assertion's header and
//! claims are `json.dumps` text (key order and `", "` separators included),
//! and the form fields come in its order. Captured cases:
//! `tests/cases/session.request.gcp-credentials-file.json`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::credentials::AccessToken;
use crate::error::{Error, Result, quoted};
use crate::gcp::{check_scopes, check_service_account, python_json, sts};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse};
use crate::jws::RsaKey;
use crate::local_endpoint::{self, LocalEndpoint};
use crate::response::{ErrorFormat, success_body};
use crate::secret::Secret;
use crate::token::parse_access_token;

/// google-auth's default OAuth 2.0 token endpoint.
pub const OAUTH2_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// RFC 7523 JWT-bearer grant.
const JWT_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// google-auth's assertion lifetime (`_DEFAULT_TOKEN_LIFETIME_SECS`).
const ASSERTION_LIFETIME: i64 = 3600;
/// The IAM Credentials URL an impersonation URL must have, around the e-mail.
const IMPERSONATION_PREFIX: &str = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/";
const IMPERSONATION_SUFFIX: &str = ":generateAccessToken";
/// The one universe served (`googleapis.com`); others have other hosts.
const UNIVERSE: &str = "googleapis.com";
/// Longest field accepted from the file (a private key is under 4 KiB).
const MAX_FIELD: usize = 16 * 1024;
/// Most headers a URL credential source may set.
const MAX_HEADERS: usize = 32;

/// How the base token is obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant, reason = "one per credentials file, never in a collection")]
pub enum Base {
    /// `service_account`: a JWT-bearer grant signed with the key.
    ServiceAccount(ServiceAccountKey),
    /// `authorized_user`: a refresh-token grant.
    AuthorizedUser(AuthorizedUser),
    /// `external_account`: a subject token exchanged at Google STS.
    ExternalAccount(ExternalAccount),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountKey {
    pub client_email: String,
    /// PEM; parsed at load time, signed with per request.
    pub private_key: Secret,
    pub private_key_id: Option<String>,
    pub token_uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizedUser {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
    pub token_uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalAccount {
    pub audience: String,
    pub subject_token_type: String,
    pub token_url: String,
    pub source: SubjectTokenSource,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// Workforce pools: STS `options` `{"userProject": ...}`.
    pub workforce_pool_user_project: Option<String>,
}

/// Where an external account's subject token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectTokenSource {
    /// A file the host reads (each flow: the token rotates).
    File { path: String, format: TokenFormat },
    /// A `GET` to a URL with the file's headers.
    Url { endpoint: LocalEndpoint, headers: Vec<(String, String)>, format: TokenFormat },
    /// A signed AWS `GetCallerIdentity` request.
    Aws(AwsSource),
}

/// How the subject token is read from the file or the response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    Text,
    /// A JSON object; the token is this field.
    Json(String),
}

/// A service account to impersonate with the base token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impersonation {
    pub service_account: String,
    /// None is sent as `null` (google-auth's default), `Some([])` as `[]`.
    pub delegates: Option<Vec<String>>,
    pub lifetime: Option<u32>,
}

/// A parsed credentials file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub base: Base,
    pub impersonation: Option<Impersonation>,
}

impl Credentials {
    /// Parses a credentials file; `what` names it in errors ("the
    /// GOOGLE_APPLICATION_CREDENTIALS file \"/path\"").
    pub fn parse(what: &str, text: &str, aws: &AwsEnvironment) -> Result<Credentials> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| Error::invalid(format!("{what} is not valid JSON")))?;
        let Value::Object(info) = value else {
            return Err(Error::invalid(format!("{what} is not a JSON object")));
        };
        let file = File { what, info: &info, aws };
        file.credentials(true)
    }

    /// Hosts that may receive the file's credentials (https only).
    pub fn cloud_hosts(&self) -> Result<Vec<Authority>> {
        let mut hosts = vec![match &self.base {
            Base::ServiceAccount(key) => https_host(&key.token_uri)?,
            Base::AuthorizedUser(user) => https_host(&user.token_uri)?,
            Base::ExternalAccount(account) => https_host(&account.token_url)?,
        }];
        if self.impersonation.is_some() {
            hosts.push(https_host(IMPERSONATION_PREFIX)?);
        }
        Ok(hosts)
    }

    /// The endpoint a URL subject-token source asks, if any.
    pub fn source_endpoint(&self) -> Option<&LocalEndpoint> {
        match &self.base {
            Base::ExternalAccount(ExternalAccount { source: SubjectTokenSource::Url { endpoint, .. }, .. }) => {
                Some(endpoint)
            }
            _ => None,
        }
    }

    /// Whether an AWS source reads EC2 instance metadata (plain HTTP to
    /// `169.254.169.254`, carrying nothing secret).
    pub fn reads_instance_metadata(&self) -> bool {
        matches!(&self.base, Base::ExternalAccount(ExternalAccount { source: SubjectTokenSource::Aws(_), .. }))
    }

    /// Who the credentials are, for the cache key and `policy.explain`: the
    /// impersonated or key's service account, the client, or the audience.
    pub fn principal(&self) -> String {
        if let Some(imp) = &self.impersonation {
            return imp.service_account.clone();
        }
        match &self.base {
            Base::ServiceAccount(key) => key.client_email.clone(),
            Base::AuthorizedUser(user) => format!("authorized_user:{}", user.client_id),
            Base::ExternalAccount(account) => account.audience.clone(),
        }
    }
}

fn https_host(url: &str) -> Result<Authority> {
    crate::host::https_authority(url)
}

/// One JSON object of the file (the file itself, or its `source_credentials`).
struct File<'a> {
    what: &'a str,
    info: &'a Map<String, Value>,
    aws: &'a AwsEnvironment,
}

impl File<'_> {
    fn bad(&self, why: impl std::fmt::Display) -> Error {
        Error::invalid(format!("{}: {why}", self.what))
    }

    /// A string field; None when absent or null.
    fn opt(&self, field: &str) -> Result<Option<&str>> {
        match self.info.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= MAX_FIELD => Ok(Some(s)),
            Some(Value::String(_)) => Err(self.bad(format!("{field} is longer than {MAX_FIELD} bytes"))),
            Some(_) => Err(self.bad(format!("{field} is not a string"))),
        }
    }

    fn required(&self, field: &str) -> Result<&str> {
        match self.opt(field)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(self.bad(format!("{field} is missing"))),
        }
    }

    /// A URL field, `https://` (checked again by the guard).
    fn url(&self, field: &str, default: &str) -> Result<String> {
        let url = self.opt(field)?.filter(|s| !s.is_empty()).unwrap_or(default);
        https_host(url).map_err(|_| self.bad(format!("{field} {} is not an https:// URL", quoted(url))))?;
        Ok(url.to_owned())
    }

    fn credentials(&self, top: bool) -> Result<Credentials> {
        if let Some(universe) = self.opt("universe_domain")?
            && universe != UNIVERSE
        {
            return Err(Error::unsupported(format!(
                "{}: universe_domain {} is not supported (only {UNIVERSE})",
                self.what,
                quoted(universe)
            )));
        }
        let kind = self.required("type")?;
        let base = match kind {
            "service_account" => Base::ServiceAccount(self.service_account()?),
            "authorized_user" => Base::AuthorizedUser(self.authorized_user()?),
            "external_account" => return self.external_account(),
            "impersonated_service_account" if top => return self.impersonated(),
            "impersonated_service_account" => {
                return Err(self.bad("source_credentials may not be impersonated_service_account again"));
            }
            "external_account_authorized_user" | "gdch_service_account" => {
                return Err(Error::unsupported(format!("{}: type {kind} is not supported", self.what)));
            }
            other => return Err(self.bad(format!("unknown type {}", quoted(other)))),
        };
        Ok(Credentials { base, impersonation: None })
    }

    fn service_account(&self) -> Result<ServiceAccountKey> {
        let client_email = self.required("client_email")?.to_owned();
        check_service_account(&client_email).map_err(|e| self.bad(e.message()))?;
        let private_key = Secret::new(self.required("private_key")?);
        // Parsed now so that a bad key fails before any request.
        RsaKey::from_pem(private_key.expose(), &format!("{}: private_key", self.what))?;
        let private_key_id = self.opt("private_key_id")?.filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(id) = &private_key_id
            && !id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(self.bad("private_key_id is not visible ASCII"));
        }
        Ok(ServiceAccountKey {
            client_email,
            private_key,
            private_key_id,
            token_uri: self.url("token_uri", OAUTH2_TOKEN_URL)?,
        })
    }

    fn authorized_user(&self) -> Result<AuthorizedUser> {
        Ok(AuthorizedUser {
            client_id: self.required("client_id")?.to_owned(),
            client_secret: Secret::new(self.required("client_secret")?),
            refresh_token: Secret::new(self.required("refresh_token")?),
            token_uri: self.url("token_uri", OAUTH2_TOKEN_URL)?,
        })
    }

    fn external_account(&self) -> Result<Credentials> {
        let source = match self.info.get("credential_source") {
            Some(Value::Object(source)) => self.subject_token_source(source)?,
            _ => return Err(self.bad("credential_source is missing or not an object")),
        };
        let account = ExternalAccount {
            audience: self.required("audience")?.to_owned(),
            subject_token_type: self.required("subject_token_type")?.to_owned(),
            token_url: self.url("token_url", sts::TOKEN_URL)?,
            source,
            client_id: self.opt("client_id")?.map(str::to_owned),
            client_secret: self.opt("client_secret")?.map(Secret::new),
            workforce_pool_user_project: self.opt("workforce_pool_user_project")?.map(str::to_owned),
        };
        let impersonation = match self.opt("service_account_impersonation_url")? {
            Some(url) => {
                let lifetime = match self.info.get("service_account_impersonation") {
                    Some(Value::Object(o)) => match o.get("token_lifetime_seconds") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(
                            v.as_u64()
                                .and_then(|n| u32::try_from(n).ok())
                                .ok_or_else(|| self.bad("token_lifetime_seconds is not a whole number"))?,
                        ),
                    },
                    _ => None,
                };
                Some(Impersonation { service_account: self.impersonated_account(url)?, delegates: None, lifetime })
            }
            None => None,
        };
        Ok(Credentials { base: Base::ExternalAccount(account), impersonation })
    }

    fn subject_token_source(&self, source: &Map<String, Value>) -> Result<SubjectTokenSource> {
        let nested = File { what: self.what, info: source, aws: self.aws };
        let format = match source.get("format") {
            None | Some(Value::Null) => TokenFormat::Text,
            Some(Value::Object(f)) => {
                let f = File { what: self.what, info: f, aws: self.aws };
                match f.opt("type")?.unwrap_or("text") {
                    "text" => TokenFormat::Text,
                    "json" => TokenFormat::Json(f.required("subject_token_field_name")?.to_owned()),
                    other => {
                        return Err(
                            self.bad(format!("credential_source.format.type {} is not text or json", quoted(other)))
                        );
                    }
                }
            }
            Some(_) => return Err(self.bad("credential_source.format is not an object")),
        };
        if source.contains_key("executable") {
            return Err(Error::unsupported(format!(
                "{}: an executable credential_source is not supported (the component runs no programs)",
                self.what
            )));
        }
        if source.contains_key("environment_id") {
            let field = |name: &str| nested.opt(name).map(|v| v.map(str::to_owned));
            return Ok(SubjectTokenSource::Aws(AwsSource::parse(self.what, self.aws, field)?));
        }
        if source.contains_key("certificate") {
            return Err(Error::unsupported(format!("{}: an X.509 credential_source is not supported", self.what)));
        }
        match (nested.opt("file")?, nested.opt("url")?) {
            (Some(path), None) if !path.is_empty() => Ok(SubjectTokenSource::File { path: path.to_owned(), format }),
            (None, Some(url)) => {
                // https anywhere; plain http only to a link-local or loopback
                // address (a metadata endpoint), as no secret of ours goes there.
                let endpoint = LocalEndpoint::parse(url, |_| true)
                    .map_err(|why| self.bad(format!("credential_source.url is not usable: {why}")))?;
                if endpoint.scheme == "http" && !local_endpoint::is_link_local_or_loopback(endpoint.authority.host()) {
                    return Err(
                        self.bad("credential_source.url is plain http:// to a host that is not link-local or loopback")
                    );
                }
                let headers = match source.get("headers") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Object(h)) if h.len() <= MAX_HEADERS => h
                        .iter()
                        .map(|(k, v)| match v {
                            Value::String(v) => Ok((k.clone(), v.clone())),
                            _ => Err(self.bad(format!("credential_source.headers.{} is not a string", quoted(k)))),
                        })
                        .collect::<Result<_>>()?,
                    Some(_) => return Err(self.bad("credential_source.headers is not an object of at most 32 strings")),
                };
                Ok(SubjectTokenSource::Url { endpoint, headers, format })
            }
            _ => Err(self.bad("credential_source needs exactly one of file and url")),
        }
    }

    fn impersonated(&self) -> Result<Credentials> {
        let account = self.impersonated_account(self.required("service_account_impersonation_url")?)?;
        let delegates = match self.info.get("delegates") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|d| d.as_str().map(str::to_owned).ok_or_else(|| self.bad("delegates holds a non-string")))
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => return Err(self.bad("delegates is not a list")),
        };
        let source = match self.info.get("source_credentials") {
            Some(Value::Object(source)) => {
                let what = format!("{} (source_credentials)", self.what);
                File { what: &what, info: source, aws: self.aws }.credentials(false)?
            }
            _ => return Err(self.bad("source_credentials is missing or not an object")),
        };
        if source.impersonation.is_some() {
            return Err(self.bad("source_credentials may not impersonate again"));
        }
        Ok(Credentials {
            base: source.base,
            impersonation: Some(Impersonation { service_account: account, delegates, lifetime: None }),
        })
    }

    /// The e-mail in an IAM Credentials generateAccessToken URL.
    fn impersonated_account(&self, url: &str) -> Result<String> {
        let email = url
            .strip_prefix(IMPERSONATION_PREFIX)
            .and_then(|rest| rest.strip_suffix(IMPERSONATION_SUFFIX))
            .ok_or_else(|| {
                self.bad(format!(
                    "service_account_impersonation_url {} is not {IMPERSONATION_PREFIX}<e-mail>{IMPERSONATION_SUFFIX}",
                    quoted(url)
                ))
            })?;
        check_service_account(email).map_err(|e| self.bad(e.message()))?;
        Ok(email.to_owned())
    }
}

/// The JWT-bearer grant of a service-account key, as google-auth's
/// `service_account.Credentials` sends it: assertion claims `iat`, `exp`
/// (one hour), `iss`, `aud` (the token URI), `scope`.
pub fn jwt_grant_request(key: &ServiceAccountKey, scopes: &[String], now: i64) -> Result<HttpRequest> {
    let signer = RsaKey::from_pem(key.private_key.expose(), "the service account's private_key")?;
    let mut header = String::from("{\"typ\": \"JWT\", \"alg\": \"RS256\"");
    if let Some(id) = &key.private_key_id {
        header.push_str(", \"kid\": ");
        python_json::write_str(&mut header, id);
    }
    header.push('}');
    let exp = now.checked_add(ASSERTION_LIFETIME).ok_or_else(|| Error::invalid("now is out of range"))?;
    let mut claims = format!("{{\"iat\": {now}, \"exp\": {exp}, \"iss\": ");
    python_json::write_str(&mut claims, &key.client_email);
    claims.push_str(", \"aud\": ");
    python_json::write_str(&mut claims, &key.token_uri);
    claims.push_str(", \"scope\": ");
    python_json::write_str(&mut claims, &scopes.join(" "));
    claims.push('}');
    let assertion = signer.sign_parts(&URL_SAFE_NO_PAD.encode(header), &URL_SAFE_NO_PAD.encode(claims))?;
    HttpRequest::post(&key.token_uri).form(&[("assertion", assertion.expose()), ("grant_type", JWT_GRANT_TYPE)])
}

/// The refresh-token grant of an authorized user, as google-auth's
/// `_client.refresh_grant` sends it; `scope` only when there are scopes.
pub fn refresh_grant_request(user: &AuthorizedUser, scopes: &[String]) -> Result<HttpRequest> {
    let scope = scopes.join(" ");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", user.client_id.as_str()),
        ("client_secret", user.client_secret.expose()),
        ("refresh_token", user.refresh_token.expose()),
    ];
    if !scopes.is_empty() {
        check_scopes(scopes)?;
        form.push(("scope", &scope));
    }
    HttpRequest::post(&user.token_uri).form(&form)
}

/// The token of a grant response (OAuth2 errors: `invalid_grant`, ...).
pub fn parse_grant(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::Google, now)
}

/// The `GET` of a URL subject-token source.
pub fn subject_token_request(endpoint: &LocalEndpoint, headers: &[(String, String)]) -> Result<HttpRequest> {
    headers
        .iter()
        .try_fold(HttpRequest::get(&endpoint.url), |request, (name, value)| request.header(name, value.clone()))
}

/// The subject token in a file's contents or a URL source's response body,
/// as google-auth's `identity_pool` reads it. Surrounding whitespace is
/// trimmed (google-auth would send a trailing newline on to STS, which
/// refuses it).
pub fn subject_token(text: &str, format: &TokenFormat, from: &str) -> Result<Secret> {
    let token = match format {
        TokenFormat::Text => text.trim().to_owned(),
        TokenFormat::Json(field) => {
            let bad = || {
                Error::invalid(format!("unable to parse the subject token from {from} using the key {}", quoted(field)))
            };
            let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
            value.get(field.as_str()).and_then(Value::as_str).ok_or_else(bad)?.trim().to_owned()
        }
    };
    if token.is_empty() {
        return Err(Error::invalid(format!("the subject token in {from} is empty")));
    }
    if token.len() > 64 * 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(format!(
            "the subject token in {from} is too long or not one line of visible ASCII"
        )));
    }
    Ok(Secret::new(token))
}

/// The body of a URL source's response, as text.
pub fn subject_token_response(response: &HttpResponse, format: &TokenFormat, url: &str) -> Result<Secret> {
    let body = success_body(response, ErrorFormat::OAuth2)?;
    let text = std::str::from_utf8(body).map_err(|_| Error::malformed("the subject token response is not UTF-8"))?;
    subject_token(text, format, url).map_err(|e| Error::malformed(e.message()))
}

mod aws_source;

pub use aws_source::{AwsEnvironment, AwsSource, region_of_zone};

#[cfg(test)]
mod tests;
