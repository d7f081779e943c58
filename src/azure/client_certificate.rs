//! Entra client certificates: the signed client assertion that
//! azure-identity's `ClientCertificateCredential` (through MSAL) sends in
//! place of a client secret, built from a PEM file holding the private key
//! and the certificate (`AZURE_CLIENT_CERTIFICATE_PATH`).
//!
//! The assertion follows Microsoft's "certificate credentials" document
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>):
//! a JWT with `aud` the token endpoint, `iss` and `sub` the client id, a
//! unique `jti`, `nbf`, `iat` and `exp`, whose header names the certificate
//! by its SHA-256 thumbprint (`x5t#S256`, base64url of the DER's SHA-256).
//! MSAL Go signs RS256 and names the certificate by `x5t` (its SHA-1
//! thumbprint); Microsoft's libraries are moving to PS256 with `x5t#S256`.
//! PS256 needs a random salt, and the component has no randomness, so the
//! assertion is RS256 (deterministic) with `x5t#S256`, which Entra accepts
//! for certificate credentials. The lifetime is MSAL's: ten minutes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::jws::RsaKey;
use crate::pem;
use crate::secret::Secret;

/// How long the assertion is valid (MSAL: ten minutes).
pub const ASSERTION_LIFETIME: i64 = 600;

/// The key and the certificates of a client certificate file.
#[derive(Debug)]
pub struct ClientCertificate {
    key: RsaKey,
    /// DER certificates, the key's own (the leaf) first, then the others in
    /// the order of the file (the chain `x5c` carries).
    chain: Vec<Vec<u8>>,
}

impl ClientCertificate {
    /// Reads the PEM text of a client certificate file: an RSA private key
    /// (PKCS#8 or PKCS#1, unencrypted) and at least the certificate for it,
    /// in any order. `what` names the file in errors; its contents are
    /// never quoted.
    pub fn from_pem(text: &Secret, what: &str) -> Result<ClientCertificate> {
        let key = RsaKey::from_pem(text.expose(), what)?;
        let mut certificates: Vec<Vec<u8>> = pem::blocks(text.expose(), what)?
            .into_iter()
            .filter(|block| block.label == "CERTIFICATE")
            .map(|block| block.der)
            .collect();
        if certificates.is_empty() {
            return Err(Error::invalid(format!("{what} holds no certificate (a PEM CERTIFICATE block)")));
        }
        // The leaf is the certificate that holds the key's public key, as
        // azure-identity's ParseCertificates picks it.
        let spki = key.public_key_spki_der()?;
        let leaf = certificates
            .iter()
            .position(|der| contains(der, &spki))
            .ok_or_else(|| Error::invalid(format!("{what}: no certificate in it is for its private key")))?;
        let leaf = certificates.remove(leaf);
        certificates.insert(0, leaf);
        Ok(ClientCertificate { key, chain: certificates })
    }

    /// `x5t#S256`: the base64url SHA-256 thumbprint of the certificate's DER.
    pub fn thumbprint_sha256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.chain[0]))
    }

    /// The client assertion for `client_id` at `token_url`, signed at `now`.
    /// With `send_chain` (`AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`) the header
    /// carries `x5c`, the certificates in standard base64, leaf first (for
    /// subject name / issuer authentication).
    pub fn assertion(&self, client_id: &str, token_url: &str, now: i64, send_chain: bool) -> Result<Secret> {
        let thumbprint = self.thumbprint_sha256();
        let mut header = Map::new();
        header.insert("alg".into(), Value::from("RS256"));
        header.insert("typ".into(), Value::from("JWT"));
        header.insert("x5t#S256".into(), Value::from(thumbprint.as_str()));
        if send_chain {
            header.insert("x5c".into(), self.chain.iter().map(|der| Value::from(STANDARD.encode(der))).collect());
        }
        let exp = now.checked_add(ASSERTION_LIFETIME).ok_or_else(|| Error::invalid("now is out of range"))?;
        let claims = json!({
            "aud": token_url,
            "exp": exp,
            "iat": now,
            "iss": client_id,
            "jti": jti(client_id, &thumbprint, now),
            "nbf": now,
            "sub": client_id,
        });
        self.key.sign_jwt(&header, &claims)
    }
}

/// A `jti` in the GUID form Entra shows, without randomness: the SHA-256 of
/// the client id, the certificate thumbprint and the time, shaped as a
/// version-4-style UUID. Entra refuses a replayed `jti` for the same client;
/// two assertions of one client and certificate differ in `now` (seconds),
/// and within one second the session's cache (and the host's, keyed by
/// `cache-key`) hands out the token already obtained instead of asking
/// again. A random UUID, as MSAL sends, would need a randomness import.
pub fn jti(client_id: &str, thumbprint: &str, now: i64) -> String {
    let mut hash = Sha256::new();
    for part in [client_id, thumbprint, &now.to_string()] {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    let mut b: [u8; 16] = hash.finalize()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT_AND_KEY: &str = include_str!("../../tests/data/test-client-cert-and-key.pem");
    const KEY_THEN_CHAIN: &str = include_str!("../../tests/data/test-client-key-then-chain.pem");
    const CERT: &str = include_str!("../../tests/data/test-client-cert.pem");
    const CA: &str = include_str!("../../tests/data/test-ca-cert.pem");
    const KEY: &str = include_str!("../../tests/data/test-rsa-pkcs8.pem");
    /// `openssl x509 -in test-client-cert.pem -noout -fingerprint -sha256`,
    /// 88:23:98:D3:..., as base64url.
    const THUMBPRINT: &str = "iCOY0-PqgF0wjIOm2RczQxe7KqoHa4Wy60Dv_GOZQRU";
    const URL: &str = "https://login.microsoftonline.com/t/oauth2/v2.0/token";

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn assertion_has_the_documented_header_and_claims() {
        let cert = ClientCertificate::from_pem(&Secret::new(CERT_AND_KEY), "the file").unwrap();
        assert_eq!(cert.thumbprint_sha256(), THUMBPRINT);
        let jwt = cert.assertion("c1", URL, 1_700_000_000, false).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode(parts[0]), json!({"alg": "RS256", "typ": "JWT", "x5t#S256": THUMBPRINT}));
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], URL);
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("c1"), Some("c1")));
        assert_eq!((claims["nbf"].as_i64(), claims["iat"].as_i64()), (Some(1_700_000_000), Some(1_700_000_000)));
        assert_eq!(claims["exp"].as_i64(), Some(1_700_000_600));
        let jti = claims["jti"].as_str().unwrap();
        assert_eq!(jti.len(), 36);
        assert_eq!(jti.as_bytes()[14], b'4');
        // Another second, another client: another jti.
        assert_ne!(jti, super::jti("c1", THUMBPRINT, 1_700_000_001));
        assert_ne!(jti, super::jti("c2", THUMBPRINT, 1_700_000_000));
    }

    #[test]
    fn finds_the_leaf_in_any_order_and_sends_the_chain() {
        let cert = ClientCertificate::from_pem(&Secret::new(KEY_THEN_CHAIN), "the file").unwrap();
        assert_eq!(cert.thumbprint_sha256(), THUMBPRINT);
        let jwt = cert.assertion("c1", URL, 0, true).unwrap();
        let header = decode(jwt.expose().split('.').next().unwrap());
        let der = |pem: &str| STANDARD.encode(&pem::blocks(pem, "x").unwrap()[0].der);
        assert_eq!(header["x5c"], json!([der(CERT), der(CA)]));
    }

    #[test]
    fn refuses_files_without_a_usable_pair() {
        let err = |text: &str| ClientCertificate::from_pem(&Secret::new(text), "AZURE_CLIENT_CERTIFICATE_PATH /c.pem");
        // Key only, certificate only, a certificate for another key.
        for (text, kind) in [(KEY, "invalid-input"), (CERT, "invalid-input"), ("", "invalid-input")] {
            let e = err(text).unwrap_err();
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.to_string().contains("AZURE_CLIENT_CERTIFICATE_PATH /c.pem"), "{e}");
        }
        let other = format!("{CA}{KEY}");
        assert!(err(&other).unwrap_err().to_string().contains("no certificate in it is for its private key"));
        let encrypted =
            format!("{CERT}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assert_eq!(err(&encrypted).unwrap_err().kind(), "unsupported");
        assert!(!format!("{:?}", err(CERT_AND_KEY).unwrap()).contains("MII"));
    }
}
