//! The credential cache of a component instance, and its keys.
//!
//! Keys are built as fluxcd/pkg builds them: `name=value` lines joined by
//! `\n`, hashed with SHA-256, lower-case hex. The access-token key lists the
//! provider, the service account and its provider identity and token
//! audiences, the scopes and the STS endpoint; a registry key combines it
//! with the registry input (the ACR host, the ECR region or
//! `public.ecr.aws`, `gcp`), a Git key with `azure-devops` or the
//! CodeCommit URL. For a request
//! Flux could make, the key is Flux's key. cloudauth adds what Flux keeps
//! in its process environment but a session receives per call: the
//! controller identity (AWS key id or role, Azure client and tenant), and
//! for generic registries the registry, repository, user and a hash of the
//! password.
//!
//! Lifetime follows Flux's token cache: an entry is reused until 80% of the
//! credentials' lifetime (counted from when they were stored) has passed,
//! and at most one hour; credentials without an expiry, or with no lifetime
//! left, are not stored. Generic registry credentials have no expiry (they
//! are the host's own, validated), so each such session validates them
//! again. The cache holds at most [`CAPACITY`] entries and evicts the least
//! recently used.

use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::cluster::ClusterKind;
use super::identity::AZURE_AUDIENCE;
use super::identity::ProviderIdentity;
use super::identity::{AWS_AUDIENCE, StsEndpoint};
use super::outcome::Credentials;
use super::plan::{Plan, TargetPlan};
use super::request::{Identity, SessionRequest};

/// Most entries kept.
pub const CAPACITY: usize = 256;
/// Longest an entry is reused, in seconds (Flux's `TokenMaxDuration`).
pub const MAX_DURATION: i64 = 3600;

/// Hex SHA-256 of the lines joined by `\n`.
pub fn hash_parts(parts: &[String]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache key of a session.
pub fn key(plan: &Plan, request: &SessionRequest) -> String {
    let access_token = || hash_parts(&access_token_parts(plan, request, &plan.token_scopes(), None));
    match &plan.target {
        TargetPlan::Cluster(cluster) => {
            let ca = cluster.ca.as_deref();
            let mut token_scopes = vec![plan.token_scopes()];
            if let ClusterKind::Aks { lookup: Some(lookup) } = &cluster.kind {
                token_scopes.push(vec![lookup.arm_scope.clone()]);
            }
            let mut parts: Vec<String> = token_scopes
                .iter()
                .enumerate()
                .map(|(i, scopes)| {
                    format!("accessToken{i}CacheKey={}", hash_parts(&access_token_parts(plan, request, scopes, ca)))
                })
                .collect();
            if !cluster.id.is_empty() {
                parts.push(format!("cluster={}", cluster.id));
            }
            if let Some(address) = &cluster.address {
                parts.push(format!("address={address}"));
            }
            hash_parts(&parts)
        }
        TargetPlan::Acr { registry, .. } => combine(access_token(), "artifactRepositoryCacheKey", registry),
        TargetPlan::Ecr(ecr) => {
            let input = if ecr.public { "public.ecr.aws" } else { ecr.region.as_str() };
            combine(access_token(), "artifactRepositoryCacheKey", input)
        }
        TargetPlan::Gar => combine(access_token(), "artifactRepositoryCacheKey", "gcp"),
        TargetPlan::AccessToken { .. } => access_token(),
        TargetPlan::AzureDevOps => combine(access_token(), "gitRepositoryCacheKey", "azure-devops"),
        // Flux's own key for the app's installation token (auth/githubapp).
        TargetPlan::GitHubApp(app) => app.cache_key(),
        // The credentials sign the URL, so each URL has its own entry (Flux).
        TargetPlan::CodeCommit { url } => combine(access_token(), "gitRepositoryCacheKey", url),
        TargetPlan::GenericRegistry(registry) => {
            let mut parts = vec![
                "provider=generic".to_owned(),
                format!("registry={}", registry.registry),
                format!("repository={}", registry.repository.as_deref().unwrap_or_default()),
            ];
            parts.push(format!("username={}", registry.username));
            parts.push(format!("passwordSHA256={}", hash_parts(&[registry.password.expose().to_owned()])));
            let trusted: Vec<String> = registry.trusted_realms.iter().map(ToString::to_string).collect();
            if !trusted.is_empty() {
                parts.push(format!("trustedRealmHosts={}", trusted.join(",")));
            }
            hash_parts(&parts)
        }
    }
}

fn combine(access_token_key: String, name: &str, input: &str) -> String {
    hash_parts(&[format!("accessTokenCacheKey={access_token_key}"), format!("{name}={input}")])
}

/// Flux's access-token key parts, in Flux's order, then cloudauth's own.
fn access_token_parts(plan: &Plan, request: &SessionRequest, scopes: &[String], ca: Option<&str>) -> Vec<String> {
    let mut parts = vec![format!("provider={}", plan.identity.provider().name())];
    if let Identity::ServiceAccount(sa) = &request.identity {
        let (provider_identity, audience) = match &plan.identity {
            ProviderIdentity::Azure(id) => (id.provider_identity(), AZURE_AUDIENCE.to_owned()),
            ProviderIdentity::Aws(id) => (id.provider_identity(), AWS_AUDIENCE.to_owned()),
            ProviderIdentity::Gcp(id) => (id.provider_identity(), id.key_audience()),
            ProviderIdentity::Generic(_) => {
                (format!("system:serviceaccount:{}:{}", sa.namespace, sa.name), plan.token_scopes().join(","))
            }
        };
        parts.push(format!("providerIdentity={provider_identity}"));
        parts.push(format!("serviceAccountName={}", sa.name));
        parts.push(format!("serviceAccountNamespace={}", sa.namespace));
        parts.push(format!("serviceAccountTokenAudiences={audience}"));
    }
    if !scopes.is_empty() {
        parts.push(format!("scopes={}", scopes.join(",")));
    }
    if let (ProviderIdentity::Aws(aws), TargetPlan::Ecr(_) | TargetPlan::Cluster(_) | TargetPlan::CodeCommit { .. }) =
        (&plan.identity, &plan.target)
    {
        parts.push(format!("stsRegion={}", aws.region));
    }
    if let ProviderIdentity::Aws(aws) = &plan.identity
        && let StsEndpoint::Explicit(endpoint) = &aws.sts
    {
        parts.push(format!("stsEndpoint={endpoint}"));
    }
    if let Some(ca) = ca {
        parts.push(format!("caData={ca}"));
    }
    if request.identity == Identity::Controller {
        let controller = match &plan.identity {
            ProviderIdentity::Azure(id) => id.describe(),
            ProviderIdentity::Aws(id) => id.describe(),
            ProviderIdentity::Gcp(id) => id.describe(),
            ProviderIdentity::Generic(_) => None,
        };
        if let Some(controller) = controller {
            parts.push(format!("controllerIdentity={controller}"));
        }
    }
    parts
}

struct Entry {
    key: String,
    credentials: Credentials,
    stored_at: i64,
    valid_until: i64,
    last_used: u64,
}

/// A bounded LRU map from keys to credentials with their reuse deadline.
pub struct Cache {
    entries: Vec<Entry>,
    /// A counter ordering uses, for LRU eviction.
    uses: u64,
    capacity: usize,
}

impl Cache {
    pub const fn new(capacity: usize) -> Self {
        Cache { entries: Vec::new(), uses: 0, capacity }
    }

    /// Unexpired credentials under `key`, if any. An entry is valid from
    /// when it was stored until its deadline; a `now` outside that (also a
    /// clock that went back) is a miss.
    pub fn get(&mut self, key: &str, now: i64) -> Option<Credentials> {
        let index = self.entries.iter().position(|e| e.key == key)?;
        let entry = self.entries.get_mut(index)?;
        if now < entry.stored_at || now >= entry.valid_until {
            self.entries.swap_remove(index);
            return None;
        }
        self.uses = self.uses.wrapping_add(1);
        entry.last_used = self.uses;
        Some(entry.credentials.clone())
    }

    /// Stores credentials, when they have a lifetime worth keeping.
    pub fn put(&mut self, key: &str, credentials: &Credentials, now: i64) {
        let Some(deadline) = reuse_deadline(credentials, now) else { return };
        self.entries.retain(|e| e.key != key && now >= e.stored_at && now < e.valid_until);
        if self.entries.len() >= self.capacity
            && let Some(lru) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.last_used).map(|(i, _)| i)
        {
            self.entries.swap_remove(lru);
        }
        if self.capacity == 0 {
            return;
        }
        self.uses = self.uses.wrapping_add(1);
        self.entries.push(Entry {
            key: key.to_owned(),
            credentials: credentials.clone(),
            stored_at: now,
            valid_until: deadline,
            last_used: self.uses,
        });
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Until when stored credentials are reused: 80% of their remaining
/// lifetime, at most [`MAX_DURATION`]. None when not worth storing.
pub fn reuse_deadline(credentials: &Credentials, now: i64) -> Option<i64> {
    let lifetime = credentials.expires_at()?.checked_sub(now)?;
    let reuse = (lifetime.checked_mul(8)? / 10).min(MAX_DURATION);
    if reuse <= 0 {
        return None;
    }
    now.checked_add(reuse)
}

/// The instance-wide cache. A wasm32-unknown-unknown component instance is
/// single-threaded, so the lock is never contended; natively it keeps tests
/// that run in parallel safe.
static CACHE: Mutex<Cache> = Mutex::new(Cache::new(CAPACITY));

fn with_cache<T>(f: impl FnOnce(&mut Cache) -> T) -> T {
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut cache)
}

pub fn lookup(key: &str, now: i64) -> Option<Credentials> {
    with_cache(|c| c.get(key, now))
}

pub fn store(key: &str, credentials: &Credentials, now: i64) {
    with_cache(|c| c.put(key, credentials, now))
}

/// Drops every cached credential.
pub fn clear() {
    with_cache(Cache::clear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{AccessToken, RegistryCredentials};
    use crate::secret::Secret;

    fn token(expires_at: i64) -> Credentials {
        Credentials::AccessToken(AccessToken { token: Secret::new("t"), expires_at })
    }

    #[test]
    fn reuse_is_80_percent_capped_at_an_hour() {
        assert_eq!(reuse_deadline(&token(1000), 0), Some(800));
        assert_eq!(reuse_deadline(&token(86_400), 0), Some(3600));
        assert_eq!(reuse_deadline(&token(1), 0), None);
        assert_eq!(reuse_deadline(&token(0), 10), None);
        assert_eq!(reuse_deadline(&token(i64::MAX), -10), None);
        let no_expiry = Credentials::Registry(RegistryCredentials {
            username: "u".into(),
            password: Secret::new("p"),
            expires_at: None,
        });
        assert_eq!(reuse_deadline(&no_expiry, 0), None);
    }

    #[test]
    fn hit_expiry_and_clock_skew() {
        let mut cache = Cache::new(4);
        cache.put("k", &token(1000), 0);
        assert_eq!(cache.get("k", 799), Some(token(1000)));
        assert_eq!(cache.get("k", 800), None, "expired at 80% of the lifetime");
        assert!(cache.is_empty());
        cache.put("k", &token(1000), 100);
        assert_eq!(cache.get("k", 99), None, "a clock that went back is a miss");
        assert_eq!(cache.get("other", 100), None);
    }

    #[test]
    fn bounded_and_lru() {
        let mut cache = Cache::new(3);
        for k in ["a", "b", "c"] {
            cache.put(k, &token(10_000), 0);
        }
        assert!(cache.get("a", 1).is_some());
        cache.put("d", &token(10_000), 2);
        assert_eq!(cache.len(), 3);
        assert!(cache.get("b", 3).is_none(), "b was the least recently used");
        assert!(cache.get("a", 3).is_some() && cache.get("c", 3).is_some() && cache.get("d", 3).is_some());
        cache.put("a", &token(20_000), 4);
        assert_eq!(cache.len(), 3, "a replaced, not duplicated");
        assert_eq!(cache.get("a", 5), Some(token(20_000)));
        cache.clear();
        assert!(cache.is_empty());
        let mut none = Cache::new(0);
        none.put("a", &token(10_000), 0);
        assert!(none.is_empty());
    }

    #[test]
    fn flux_key_format() {
        // sha256("provider=azure\nscopes=https://containerregistry.azure.net/.default")
        let parts = ["provider=azure".to_owned(), "scopes=https://containerregistry.azure.net/.default".to_owned()];
        let key = hash_parts(&parts);
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(hash_parts(&["a".into(), "b".into()]), hash_parts(&["a\nb".into()]));
        // The SHA-256 of the empty string, to pin the hash and hex encoding.
        assert_eq!(hash_parts(&[]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
