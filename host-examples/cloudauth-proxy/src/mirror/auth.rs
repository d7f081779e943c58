//! The mirror's side of registry authentication: answering the upstream's
//! challenge with the identity's credentials, and caching what that gives
//! per repository scope.
//!
//! Clients talk to the mirror without credentials. The first request for a
//! repository goes upstream bare; the upstream's `401` names its challenge
//! (RFC 7235 `WWW-Authenticate`, parsed by the component). For `Basic`, the
//! session's registry credentials are the answer; for `Bearer`, the
//! component builds the token request to the challenge's realm for
//! `repository:<name>:pull` with those credentials as basic auth, the
//! library sends it, and the component parses the token. Once the challenge
//! is known, a new repository gets its token before its first request.
//!
//! The realm is checked first: the credentials go only to the upstream's own
//! host or to a host in the identity's `trusted-realm-hosts`, as the
//! component's own generic-registry flow does. Concurrent requests for the
//! same scope wait for one token fetch (a per-scope lock), so a burst of
//! pulls runs one session, not one each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Mutex as AsyncMutex;

use crate::cloud::{Challenge, Cloud, ProxyError};
use crate::config::{Identity, Upstream};
use crate::secret::Secret;
use crate::time::now;

/// Seconds before its expiry a cached authorization stops being used, so
/// that a request never leaves with a token about to expire.
const EXPIRY_MARGIN: i64 = 30;

/// How long a `Basic` authorization built from credentials without an
/// expiry (a generic registry's configured password) is reused before a
/// session validates the credentials again.
const NO_EXPIRY_REUSE: i64 = 300;

/// An `Authorization` header value and until when to use it.
#[derive(Clone, Debug)]
pub struct Authorization {
    pub header: Secret,
    pub expires_at: i64,
}

/// One upstream and one identity: the learned challenge and a token per scope.
pub struct Authorizer {
    cloud: Arc<Cloud>,
    upstream: Upstream,
    identity: Identity,
    challenge: Mutex<Option<Challenge>>,
    scopes: Mutex<HashMap<String, Arc<AsyncMutex<Option<Authorization>>>>>,
}

impl Authorizer {
    pub fn new(cloud: Arc<Cloud>, upstream: Upstream, identity: Identity) -> Self {
        Authorizer { cloud, upstream, identity, challenge: Mutex::new(None), scopes: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, scope: &str) -> Arc<AsyncMutex<Option<Authorization>>> {
        let mut scopes = self.scopes.lock().expect("scope map poisoned");
        scopes.entry(scope.to_owned()).or_default().clone()
    }

    /// The authorization to send for `repository`: a cached one that is
    /// still good, else a fresh one when the upstream's challenge is known,
    /// else none (the request goes bare and learns the challenge).
    pub async fn current(&self, repository: &str) -> Result<Option<Authorization>, ProxyError> {
        let Some(challenge) = self.challenge.lock().expect("challenge poisoned").clone() else {
            return Ok(None);
        };
        let slot = self.slot(&scope(repository));
        let mut cached = slot.lock().await;
        if let Some(auth) = cached.as_ref()
            && now() < auth.expires_at - EXPIRY_MARGIN
        {
            return Ok(Some(auth.clone()));
        }
        let fresh = self.fetch(&challenge, repository).await?;
        *cached = Some(fresh.clone());
        Ok(Some(fresh))
    }

    /// The upstream refused `rejected` (or a bare request) with this
    /// `WWW-Authenticate` value: learn the challenge and get a new
    /// authorization, unless another request already replaced the rejected
    /// one while this one waited.
    pub async fn challenged(
        &self,
        repository: &str,
        www_authenticate: &str,
        rejected: Option<&Authorization>,
    ) -> Result<Authorization, ProxyError> {
        let challenge = self.cloud.parse_challenge(www_authenticate).await?;
        *self.challenge.lock().expect("challenge poisoned") = Some(challenge.clone());
        let slot = self.slot(&scope(repository));
        let mut cached = slot.lock().await;
        if let Some(auth) = cached.as_ref()
            && rejected.is_none_or(|r| r.header != auth.header)
            && now() < auth.expires_at - EXPIRY_MARGIN
        {
            return Ok(auth.clone());
        }
        let fresh = self.fetch(&challenge, repository).await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch(&self, challenge: &Challenge, repository: &str) -> Result<Authorization, ProxyError> {
        let reference = format!("{}/{repository}", self.upstream.authority);
        let login = self.cloud.registry_login(&self.identity, &reference).await?;
        match challenge.scheme.as_str() {
            "Basic" => {
                use base64::Engine as _;
                let pair = format!("{}:{}", login.username, login.password.expose());
                let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
                let expires_at = login.expires_at.unwrap_or_else(|| now() + NO_EXPIRY_REUSE);
                Ok(Authorization { header: Secret::new(header), expires_at })
            }
            "Bearer" => {
                let realm = challenge.realm.as_deref().ok_or_else(|| {
                    ProxyError::upstream(format!("{} sent a Bearer challenge without a realm", self.upstream))
                })?;
                self.check_realm(realm)?;
                let token =
                    self.cloud.registry_token(realm, challenge.service.as_deref(), &scope(repository), &login).await?;
                Ok(Authorization {
                    header: Secret::new(format!("Bearer {}", token.value.expose())),
                    expires_at: token.expires_at,
                })
            }
            other => Err(ProxyError::upstream(format!(
                "{} asks for {other} authentication, which the mirror cannot answer",
                self.upstream
            ))),
        }
    }

    fn check_realm(&self, realm: &str) -> Result<(), ProxyError> {
        check_realm(realm, &self.upstream, &self.identity).map_err(ProxyError::upstream)
    }
}

/// The realm must be `https://` (or the upstream's own scheme) on the
/// upstream's host or on a host in the identity's `trusted-realm-hosts`;
/// anywhere else the credentials are not sent.
fn check_realm(realm: &str, upstream: &Upstream, identity: &Identity) -> Result<(), String> {
    let authority = realm_authority(realm, &upstream.scheme)
        .ok_or_else(|| format!("{upstream} names the token realm {realm:?}, which is not an https:// URL"))?;
    let host = authority.rsplit_once(':').map_or(authority.as_str(), |(h, _)| h);
    let trusted = authority == upstream.authority
        || (host == upstream.host && !authority.contains(':') && upstream.scheme == "https")
        || identity.trusted_realm_hosts.iter().any(|t| *t == authority || *t == host);
    if trusted {
        Ok(())
    } else {
        Err(format!(
            "{upstream} names the token realm host {authority}, which is neither the registry nor in identity {}'s trusted-realm-hosts; its credentials are not sent there",
            identity.name
        ))
    }
}

/// The distribution token scope for pulling `repository`.
pub fn scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// The lower-case `host[:port]` of an `https://` URL (or of `scheme://`,
/// the upstream's own scheme), or `None`.
fn realm_authority(realm: &str, scheme: &str) -> Option<String> {
    let rest = realm.strip_prefix("https://").or_else(|| realm.strip_prefix(&format!("{scheme}://")))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains(['@', '\\', '%', ' ']) {
        return None;
    }
    Some(authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_authorities() {
        assert_eq!(
            realm_authority("https://Auth.example:8443/token?x=1", "https").as_deref(),
            Some("auth.example:8443")
        );
        assert_eq!(realm_authority("https://reg.example/oauth2/token", "https").as_deref(), Some("reg.example"));
        assert_eq!(realm_authority("http://reg.example/token", "https"), None);
        assert_eq!(realm_authority("http://127.0.0.1:5000/token", "http").as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(realm_authority("https://user@evil.example/", "https"), None);
        assert_eq!(realm_authority("https:///token", "https"), None);
    }

    fn identity(trusted: &[&str]) -> Identity {
        Identity {
            name: "a".into(),
            environment: vec![],
            service_account: None,
            registry_username: None,
            registry_password: None,
            trusted_realm_hosts: trusted.iter().map(|t| t.to_string()).collect(),
            sts_endpoint: None,
        }
    }

    #[test]
    fn credentials_go_only_to_the_registry_or_a_trusted_realm() {
        let upstream = Upstream { scheme: "https".into(), authority: "reg.example".into(), host: "reg.example".into() };
        assert!(check_realm("https://reg.example/oauth2/token", &upstream, &identity(&[])).is_ok());
        assert!(check_realm("https://auth.example/token", &upstream, &identity(&["auth.example"])).is_ok());
        let refused = check_realm("https://auth.example/token", &upstream, &identity(&[])).unwrap_err();
        assert_eq!(
            refused,
            "https://reg.example names the token realm host auth.example, which is neither the registry nor in identity a's trusted-realm-hosts; its credentials are not sent there"
        );
        // A look-alike, another port, plain http, user info: refused.
        assert!(check_realm("https://reg.example.evil/token", &upstream, &identity(&[])).is_err());
        assert!(check_realm("https://reg.example:8443/token", &upstream, &identity(&[])).is_err());
        assert!(check_realm("http://reg.example/token", &upstream, &identity(&[])).is_err());
        assert!(check_realm("https://x@reg.example/token", &upstream, &identity(&[])).is_err());
    }

    #[test]
    fn scopes_are_pull_only() {
        assert_eq!(scope("team/app"), "repository:team/app:pull");
    }
}
