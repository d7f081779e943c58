//! The cryptographic half of SigV4: the credential scope, the string to sign,
//! the derived signing key and the signature. SHA-256 and HMAC come from
//! RustCrypto; only hex encoding is done here.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::time::DateTime;

/// The algorithm name, in the `Authorization` header and `X-Amz-Algorithm`.
pub(super) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// When and where a signature is valid: `date/region/service/aws4_request`.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    date_stamp: String,
    region: String,
    service: String,
}

impl Scope {
    pub fn new(time: &DateTime, region: &str, service: &str) -> Self {
        Scope {
            amz_date: time.amz_date(),
            date_stamp: time.date_stamp(),
            region: region.to_owned(),
            service: service.to_owned(),
        }
    }

    /// `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date_stamp, self.region, self.service)
    }

    /// The string to sign for a canonical request.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        format!(
            "{ALGORITHM}\n{}\n{}\n{}",
            self.amz_date,
            self.credential_scope(),
            sha256_hex(canonical_request.as_bytes())
        )
    }

    /// The hex signature of a string to sign, with the key derived from the
    /// secret for this scope.
    pub fn sign(&self, secret_access_key: &Secret, string_to_sign: &str) -> Result<String> {
        let secret = format!("AWS4{}", secret_access_key.expose());
        let key = hmac_sha256(secret.as_bytes(), self.date_stamp.as_bytes())?;
        let key = hmac_sha256(&key, self.region.as_bytes())?;
        let key = hmac_sha256(&key, self.service.as_bytes())?;
        let key = hmac_sha256(&key, b"aws4_request")?;
        Ok(hex(&hmac_sha256(&key, string_to_sign.as_bytes())?))
    }
}

/// Lower-case hex SHA-256, as SigV4 writes hashes.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    // HMAC takes keys of any length; the error is unreachable but not a panic.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Error::invalid("HMAC key rejected"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_payload_hash() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    /// The signing-key example of the AWS documentation ("Examples of how to
    /// derive a signing key"), checked through the signature of an empty string.
    #[test]
    fn derives_the_documented_signing_key() {
        let key = hmac_sha256(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20150830").unwrap();
        let key = hmac_sha256(&key, b"us-east-1").unwrap();
        let key = hmac_sha256(&key, b"iam").unwrap();
        let key = hmac_sha256(&key, b"aws4_request").unwrap();
        assert_eq!(hex(&key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    }

    #[test]
    fn string_to_sign_layout() {
        let time = DateTime::from_unix(1_440_938_160).unwrap();
        let scope = Scope::new(&time, "us-east-1", "service");
        assert_eq!(scope.credential_scope(), "20150830/us-east-1/service/aws4_request");
        assert_eq!(
            scope.string_to_sign(""),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
