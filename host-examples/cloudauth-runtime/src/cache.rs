//! The host-side credential cache, shared by every pooled instance.
//!
//! Each instance of the component has its own cache; with a pool, a flow
//! would run again on every instance. So sessions run with the component's
//! cache off, and the host keeps one cache keyed by the session's
//! `cache-key()` (which covers provider, identity, target, scopes and the
//! options that change the result). The lifetime rule is the component's,
//! which is Flux's: an entry serves until 80% of the credentials' lifetime
//! (from when they were stored) has passed, and at most one hour;
//! credentials without an expiry are not stored. At most `capacity` entries
//! are kept; the one that expires first goes first.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::bindings::api::session::Credentials;

/// Longest an entry serves, in seconds (Flux's `TokenMaxDuration`).
pub const MAX_DURATION: i64 = 3600;

pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

#[derive(Clone)]
struct Entry {
    credentials: Credentials,
    expires_at: i64,
    /// When the entry stops serving.
    refresh_at: i64,
}

impl CredentialCache {
    pub fn new(capacity: usize) -> Self {
        CredentialCache { entries: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// The entry for `key` if it still serves at `now`, and its expiry.
    pub fn get(&self, key: &str, now: i64) -> Option<(Credentials, i64)> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some(entry) if now < entry.refresh_at => Some((entry.credentials.clone(), entry.expires_at)),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores credentials that expire at `expires_at`, if they have a
    /// lifetime worth keeping. Returns whether they were stored.
    pub fn put(&self, key: &str, credentials: &Credentials, expires_at: Option<i64>, now: i64) -> bool {
        let Some(expires_at) = expires_at else { return false };
        let lifetime = expires_at.saturating_sub(now);
        if lifetime <= 0 {
            return false;
        }
        let refresh_at = now.saturating_add((lifetime.saturating_mul(8) / 10).min(MAX_DURATION));
        let Ok(mut entries) = self.entries.lock() else { return false };
        entries.retain(|_, e| now < e.refresh_at);
        while entries.len() >= self.capacity && !entries.contains_key(key) {
            let Some(first) = entries.iter().min_by_key(|(_, e)| e.refresh_at).map(|(k, _)| k.clone()) else { break };
            entries.remove(&first);
        }
        entries.insert(key.to_owned(), Entry { credentials: credentials.clone(), expires_at, refresh_at });
        true
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// When credentials expire, whatever their kind.
pub fn expires_at(credentials: &Credentials) -> Option<i64> {
    match credentials {
        Credentials::Registry(c) => c.expires_at,
        Credentials::Git(c) => Some(c.expires_at),
        Credentials::RestConfig(c) => Some(c.expires_at),
        Credentials::AccessToken(c) => Some(c.expires_at),
        Credentials::Aws(c) => c.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::api::types::AccessToken;

    fn token(expires_at: i64) -> Credentials {
        Credentials::AccessToken(AccessToken { token: "t".into(), expires_at })
    }

    #[test]
    fn serves_until_80_percent_of_the_lifetime_and_at_most_an_hour() {
        let cache = CredentialCache::new(8);
        assert!(cache.put("k", &token(1000 + 100), Some(1100), 1000));
        assert!(cache.get("k", 1079).is_some());
        assert!(cache.get("k", 1080).is_none());
        assert!(cache.put("long", &token(1000 + 43200), Some(44200), 1000));
        assert!(cache.get("long", 1000 + 3599).is_some());
        assert!(cache.get("long", 1000 + 3600).is_none());
    }

    #[test]
    fn no_expiry_or_no_lifetime_is_not_stored() {
        let cache = CredentialCache::new(8);
        assert!(!cache.put("k", &token(0), None, 1000));
        assert!(!cache.put("k", &token(1000), Some(1000), 1000));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn capacity_evicts_the_first_to_expire() {
        let cache = CredentialCache::new(2);
        cache.put("a", &token(2000), Some(2000), 1000);
        cache.put("b", &token(1500), Some(1500), 1000);
        cache.put("c", &token(3000), Some(3000), 1000);
        assert!(cache.get("b", 1001).is_none());
        assert!(cache.get("a", 1001).is_some() && cache.get("c", 1001).is_some());
    }
}
