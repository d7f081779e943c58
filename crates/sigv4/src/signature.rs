//! The cryptographic half of SigV4: the credential scope, the string to sign,
//! the derived signing key and the signature. SHA-256 and HMAC come from
//! RustCrypto; only hex encoding is done here. Derived keys are cached per
//! instance ([`key_cache`](crate::key_cache)).

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::key_cache::{self, KeyRejected, KeyScope};

/// The algorithm name, in the `Authorization` header and `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// When and where a signature is valid: `date/region/service/aws4_request`.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `date/region/service/aws4_request`.
    credential_scope: String,
    /// Where the date and the region end in `credential_scope`.
    date_end: usize,
    region_end: usize,
}

/// A signing time in UTC, as the caller's calendar gives it. The year has
/// four digits (cloudauth's `DateTime` keeps years within 1970..=9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningTime {
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Scope {
    pub fn new(time: &SigningTime, region: &str, service: &str) -> Self {
        // `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` written digit by digit: this is
        // on every signature, and `format!` costs more than hashing a block
        // in wasm.
        let mut amz_date = String::with_capacity(16);
        push_digits(&mut amz_date, time.year, 4);
        push_digits(&mut amz_date, time.month, 2);
        push_digits(&mut amz_date, time.day, 2);
        let date_end = amz_date.len();
        amz_date.push('T');
        push_digits(&mut amz_date, time.hour, 2);
        push_digits(&mut amz_date, time.minute, 2);
        push_digits(&mut amz_date, time.second, 2);
        amz_date.push('Z');
        let mut credential_scope = String::with_capacity(date_end + region.len() + service.len() + 15);
        credential_scope.push_str(&amz_date[..date_end]);
        credential_scope.push('/');
        credential_scope.push_str(region);
        let region_end = credential_scope.len();
        credential_scope.push('/');
        credential_scope.push_str(service);
        credential_scope.push_str("/aws4_request");
        Scope { amz_date, credential_scope, date_end, region_end }
    }

    /// `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> &str {
        &self.credential_scope
    }

    /// `YYYYMMDD`.
    pub fn date_stamp(&self) -> &str {
        &self.credential_scope[..self.date_end]
    }

    fn region(&self) -> &str {
        &self.credential_scope[self.date_end + 1..self.region_end]
    }

    fn service(&self) -> &str {
        let rest = &self.credential_scope[self.region_end + 1..];
        &rest[..rest.len() - "/aws4_request".len()]
    }

    /// The string to sign for a canonical request.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        let mut out =
            String::with_capacity(ALGORITHM.len() + self.amz_date.len() + self.credential_scope.len() + 3 + 64);
        out.push_str(ALGORITHM);
        out.push('\n');
        out.push_str(&self.amz_date);
        out.push('\n');
        out.push_str(&self.credential_scope);
        out.push('\n');
        push_hex(&mut out, &Sha256::digest(canonical_request.as_bytes()));
        out
    }

    /// The hex signature of a string to sign, with the key derived from the
    /// secret access key for this scope (cached without an access key id;
    /// see [`Scope::sign_for`]).
    pub fn sign(&self, secret_access_key: &str, string_to_sign: &str) -> Result<String, KeyRejected> {
        self.sign_for("", secret_access_key, string_to_sign)
    }

    /// [`Scope::sign`], with the signing key cached under the access key id too.
    pub fn sign_for(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        string_to_sign: &str,
    ) -> Result<String, KeyRejected> {
        let scope =
            KeyScope { access_key_id, date_stamp: self.date_stamp(), region: self.region(), service: self.service() };
        let mut mac = key_cache::signing_key(&scope, secret_access_key)?;
        mac.update(string_to_sign.as_bytes());
        let mut out = String::with_capacity(64);
        push_hex(&mut out, &mac.finalize().into_bytes());
        Ok(out)
    }
}

/// Lower-case hex SHA-256, as SigV4 writes hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    push_hex(&mut out, &Sha256::digest(data));
    out
}

/// `value` in decimal, zero-padded to `width` digits (more if it needs them).
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let (mut n, mut i) = (value, digits.len());
    while n > 0 || digits.len() - i < width {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_payload_hash() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn string_to_sign_layout() {
        let time = SigningTime { year: 2015, month: 8, day: 30, hour: 12, minute: 36, second: 0 };
        let scope = Scope::new(&time, "us-east-1", "service");
        assert_eq!(scope.credential_scope(), "20150830/us-east-1/service/aws4_request");
        assert_eq!((scope.date_stamp(), scope.region(), scope.service()), ("20150830", "us-east-1", "service"));
        assert_eq!(
            scope.string_to_sign(""),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// The AWS documentation's example ("Create a signature for an AWS API
    /// request", IAM ListUsers): its string to sign and its signature.
    #[test]
    fn signs_the_documented_example() {
        let time = SigningTime { year: 2015, month: 8, day: 30, hour: 12, minute: 36, second: 0 };
        let scope = Scope::new(&time, "us-east-1", "iam");
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        let want = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        assert_eq!(scope.sign(secret, sts).unwrap(), want);
        // Again, from the cache, and under an access key id.
        assert_eq!(scope.sign(secret, sts).unwrap(), want);
        assert_eq!(scope.sign_for("AKIDEXAMPLE", secret, sts).unwrap(), want);
    }
}
