//! The instance's cache of derived SigV4 signing keys.
//!
//! Deriving the key for a scope takes four HMAC-SHA256 (sixteen SHA-256
//! blocks); signing with it takes one more HMAC. A proxy signs many requests
//! with the same credentials, on the same day, for the same region and
//! service, so the derived key is kept, ready to sign: as an HMAC whose inner
//! and outer key blocks are already absorbed, so that a signature clones it
//! and hashes only the string to sign.
//!
//! An entry is found by access key id, date, region and service plus the
//! SHA-256 of the secret: the secret itself is never kept, and a rotated
//! secret under the same key id never matches an old entry. The cache holds
//! [`CAPACITY`] entries and replaces the oldest: scopes change every day, so
//! old entries only age out.

use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// HMAC refused a key. HMAC-SHA256 takes keys of any length, so this does
/// not happen; it is an error rather than a panic all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRejected;

impl std::fmt::Display for KeyRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HMAC key rejected")
    }
}

impl std::error::Error for KeyRejected {}

/// Entries kept. A signing proxy uses one or two scopes at a time; a host
/// signing for many accounts or regions still hits for the hot ones.
pub const CAPACITY: usize = 16;

/// A keyed HMAC-SHA256 with its key blocks absorbed: clone, update, finalize.
pub type SigningKey = Hmac<Sha256>;

/// What a key is derived from. The strings are not secret.
#[derive(Clone, Copy)]
pub struct KeyScope<'a> {
    pub access_key_id: &'a str,
    pub date_stamp: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

struct Entry {
    /// `access_key_id`, `date_stamp`, `region`, `service`, each followed by `/`
    /// (none of them may contain it).
    scope: String,
    secret_hash: [u8; 32],
    key: SigningKey,
}

struct Cache {
    entries: Vec<Entry>,
    /// Where the next new entry goes once the cache is full.
    next: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache { entries: Vec::new(), next: 0 });

fn matches(entry: &Entry, scope: &KeyScope<'_>, secret_hash: &[u8; 32]) -> bool {
    let mut rest = entry.scope.as_str();
    for part in [scope.access_key_id, scope.date_stamp, scope.region, scope.service] {
        match rest.strip_prefix(part).and_then(|r| r.strip_prefix('/')) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty() && entry.secret_hash == *secret_hash
}

/// The signing key for `scope` and `secret` (the secret access key as
/// given, without the `AWS4` prefix): from the cache, or derived and cached.
pub fn signing_key(scope: &KeyScope<'_>, secret: &str) -> Result<SigningKey, KeyRejected> {
    let secret_hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(entry) = cache.entries.iter().find(|e| matches(e, scope, &secret_hash)) {
        return Ok(entry.key.clone());
    }
    let key = derive(scope, secret)?;
    let mut id = String::with_capacity(
        scope.access_key_id.len() + scope.date_stamp.len() + scope.region.len() + scope.service.len() + 4,
    );
    for part in [scope.access_key_id, scope.date_stamp, scope.region, scope.service] {
        id.push_str(part);
        id.push('/');
    }
    let entry = Entry { scope: id, secret_hash, key: key.clone() };
    if cache.entries.len() < CAPACITY {
        cache.entries.push(entry);
    } else {
        let slot = cache.next;
        cache.entries[slot] = entry;
        cache.next = (slot + 1) % CAPACITY;
    }
    Ok(key)
}

/// Empties the cache: the next signature of every scope derives its key
/// again. For benchmarks of the cold path and tests.
pub fn clear() {
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.entries.clear();
    cache.next = 0;
}

#[cfg(test)]
pub fn len() -> usize {
    CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entries.len()
}

/// The signing key, ready to sign: see [`derive_bytes`].
fn derive(scope: &KeyScope<'_>, secret: &str) -> Result<SigningKey, KeyRejected> {
    keyed(&[&derive_bytes(scope, secret)?])
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn derive_bytes(scope: &KeyScope<'_>, secret: &str) -> Result<[u8; 32], KeyRejected> {
    // "AWS4" + secret without a String of its own.
    let mut mac = keyed(&[b"AWS4", secret.as_bytes()])?;
    mac.update(scope.date_stamp.as_bytes());
    let mut key: [u8; 32] = mac.finalize().into_bytes().into();
    for part in [scope.region.as_bytes(), scope.service.as_bytes(), b"aws4_request"] {
        let mut mac = keyed(&[&key])?;
        mac.update(part);
        key = mac.finalize().into_bytes().into();
    }
    Ok(key)
}

/// An HMAC keyed with the concatenation of `parts`.
fn keyed(parts: &[&[u8]]) -> Result<SigningKey, KeyRejected> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut block = [0u8; 64];
    // HMAC pads a key shorter than a block with zeros and hashes a longer
    // one first; the block is built the same way.
    let result = if len <= block.len() {
        let mut at = 0;
        for part in parts {
            block[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        let key = SigningKey::new_from_slice(&block);
        block.fill(0);
        key
    } else {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update(part);
        }
        SigningKey::new_from_slice(&hash.finalize())
    };
    result.map_err(|_| KeyRejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn scope<'a>(akid: &'a str, date: &'a str) -> KeyScope<'a> {
        KeyScope { access_key_id: akid, date_stamp: date, region: "us-east-1", service: "iam" }
    }

    fn sign(key: SigningKey, data: &str) -> [u8; 32] {
        let mut mac = key;
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The signing-key example of the AWS documentation ("Examples of how to
    /// derive a signing key").
    #[test]
    fn derives_the_documented_signing_key() {
        let key = derive_bytes(&scope("AKIDEXAMPLE", "20150830"), SECRET).unwrap();
        assert_eq!(hex(&key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    }

    /// A key built from a block-long secret (hashed first, as HMAC does) and
    /// from a short one signs like HMAC keyed with the plain bytes.
    #[test]
    fn long_and_short_secrets_key_like_plain_hmac() {
        for secret in ["s", &"x".repeat(60), &"y".repeat(61), &"z".repeat(200)] {
            let ours = sign(keyed(&[b"AWS4", secret.as_bytes()]).unwrap(), "data");
            let plain = sign(SigningKey::new_from_slice(format!("AWS4{secret}").as_bytes()).unwrap(), "data");
            assert_eq!(ours, plain, "{}", secret.len());
        }
    }

    /// The cache answers with the key of the same scope and secret only, and
    /// stays bounded. (One test: the cache is shared by the process.)
    #[test]
    fn cached_keys_match_scope_and_secret_and_stay_bounded() {
        let fresh = |s: &KeyScope<'_>, secret: &str| sign(derive(s, secret).unwrap(), "x");
        let cached = |s: &KeyScope<'_>, secret: &str| sign(signing_key(s, secret).unwrap(), "x");
        let a = scope("AKIDCACHETEST", "20150830");
        assert_eq!(cached(&a, SECRET), fresh(&a, SECRET));
        assert_eq!(cached(&a, SECRET), fresh(&a, SECRET));
        // A rotated secret under the same key id is another key.
        assert_eq!(cached(&a, "other-secret"), fresh(&a, "other-secret"));
        assert_ne!(cached(&a, "other-secret"), cached(&a, SECRET));
        // Another day, region or service is another key; parts are not
        // confused across the separators.
        let b = scope("AKIDCACHETEST", "20150831");
        assert_eq!(cached(&b, SECRET), fresh(&b, SECRET));
        let c = KeyScope { region: "us-east-1/iam", service: "", ..a };
        assert_eq!(cached(&c, SECRET), fresh(&c, SECRET));
        for day in 0..(3 * CAPACITY) {
            let date = format!("2016{:04}", day);
            let s = scope("AKIDCACHETEST", &date);
            assert_eq!(cached(&s, SECRET), fresh(&s, SECRET));
            assert!(len() <= CAPACITY);
        }
        assert_eq!(cached(&a, SECRET), fresh(&a, SECRET));
    }

    /// The cache keeps a hash of the secret, never the secret.
    #[test]
    fn entries_do_not_hold_the_secret() {
        let secret = "SECRETNOTKEPTINTHECACHE0123456789abcdefg";
        signing_key(&scope("AKIDNOSECRET", "20150830"), secret).unwrap();
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        for e in &cache.entries {
            assert!(!e.scope.contains(secret));
            assert_ne!(&e.secret_hash[..], &secret.as_bytes()[..32]);
        }
    }
}
