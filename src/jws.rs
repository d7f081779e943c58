//! Signing compact JWTs with RS256 (RFC 7515, RSASSA-PKCS1-v1_5 with
//! SHA-256), for the grants whose assertion the client signs itself: a
//! Google service-account key's JWT-bearer grant, an Azure client
//! certificate's client assertion, a GitHub App's JWT.
//!
//! PKCS#1 v1.5 signatures are deterministic, so signing needs no
//! randomness and the component still imports nothing. The private key is
//! the host's own (from a file or an input it passed); it is parsed per
//! signature and never printed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::BoxedUint;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::Value;
use sha2::Sha256;

use crate::der::{self, DerError};
use crate::error::{Error, Result};
use crate::pem;
use crate::secret::Secret;

/// Smallest RSA key accepted: every issuer here requires 2048 bits.
const MIN_BITS: u32 = 2048;
/// Largest: 8192 bits keeps the cost of one signature bounded.
const MAX_BITS: u32 = 8192;

fn bad_key(what: &str) -> Error {
    Error::invalid(format!("{what} is not an RSA private key"))
}

fn bad_size(what: &str, bits: u32) -> Error {
    Error::invalid(format!("{what} is a {bits}-bit RSA key; {MIN_BITS} to {MAX_BITS} bits are accepted"))
}

/// An RSA private key for RS256.
pub struct RsaKey(SigningKey<Sha256>);

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaKey(<redacted>)")
    }
}

impl RsaKey {
    /// The first private key in PEM text: PKCS#8 (`PRIVATE KEY`) or PKCS#1
    /// (`RSA PRIVATE KEY`). `what` names the key in errors; the key itself
    /// is never quoted.
    pub fn from_pem(text: &str, what: &str) -> Result<RsaKey> {
        let blocks = pem::blocks(text, what)?;
        let labels = ["PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];
        let block = blocks
            .iter()
            .find(|block| labels.contains(&block.label.as_str()))
            .ok_or_else(|| Error::invalid(format!("{what} holds no PEM private key")))?;
        let parts = match block.label.as_str() {
            "PRIVATE KEY" => der::read_pkcs8(&block.der),
            "RSA PRIVATE KEY" => der::read_pkcs1(&block.der),
            _ => {
                return Err(Error::unsupported(format!("{what} is an encrypted private key, which is not supported")));
            }
        };
        let parts = parts.map_err(|e| match e {
            DerError::MultiPrime => Error::unsupported(format!(
                "{what} is a multi-prime RSA key (PKCS#1 version 1), which is not supported"
            )),
            DerError::Malformed(_) => bad_key(what),
        })?;
        // Checked before the key is built: validating a huge key is costly.
        let bits = der::bit_len(parts.n);
        if bits > MAX_BITS {
            return Err(bad_size(what, bits));
        }
        // As rsa's own PKCS#1 decoder did: n's precision is its byte length,
        // and d, p and q must fit in it.
        let precision = parts.n.len() as u32 * 8;
        let uint = |bytes: &[u8], precision: u32| BoxedUint::from_be_slice(bytes, precision).map_err(|_| bad_key(what));
        let key = rsa::PrivateKey::from_components(
            uint(parts.n, precision)?,
            uint(parts.e, parts.e.len() as u32 * 8)?,
            uint(parts.d, precision)?,
            vec![uint(parts.p, precision)?, uint(parts.q, precision)?],
        )
        .map_err(|_| bad_key(what))?;
        let bits = key.n_bits_precision();
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(bad_size(what, bits));
        }
        Ok(RsaKey(SigningKey::new(key)))
    }

    /// The public key's SubjectPublicKeyInfo (DER): a certificate for this
    /// key holds exactly these bytes, which is how the certificate that
    /// goes with the key is found without an X.509 parser.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>> {
        let private: &rsa::PrivateKey = self.0.as_ref();
        Ok(der::rsa_spki(&private.n().to_be_bytes(), &private.e().to_be_bytes()))
    }

    /// The compact JWS `base64url(header).base64url(claims).base64url(sig)`.
    /// `header` is completed with `"alg":"RS256"` and `"typ":"JWT"` where it
    /// lacks them; the members keep their order (serde_json's map is sorted).
    pub fn sign_jwt(&self, header: &serde_json::Map<String, Value>, claims: &Value) -> Result<Secret> {
        let mut header = header.clone();
        header.entry("alg").or_insert_with(|| Value::from("RS256"));
        header.entry("typ").or_insert_with(|| Value::from("JWT"));
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default());
        self.sign_parts(&encode(&Value::Object(header)), &encode(claims))
    }

    /// Signs `header.claims`, both already base64url: for issuers whose
    /// exact JSON text matters (google-auth writes Python's `json.dumps`).
    pub fn sign_parts(&self, header: &str, claims: &str) -> Result<Secret> {
        let mut jwt = String::with_capacity(header.len() + claims.len() + 350);
        jwt.push_str(header);
        jwt.push('.');
        jwt.push_str(claims);
        let signature =
            self.0.try_sign(jwt.as_bytes()).map_err(|_| Error::invalid("the RSA key could not sign the JWT"))?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        Ok(Secret::new(jwt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2048-bit test key, in both PEM forms (made with `openssl genpkey`).
    pub const PKCS8: &str = include_str!("../tests/data/test-rsa-pkcs8.pem");
    pub const PKCS1: &str = include_str!("../tests/data/test-rsa-pkcs1.pem");

    #[test]
    fn signs_as_openssl_does() {
        // `printf %s <header.claims> | openssl dgst -sha256 -sign test-rsa-pkcs8.pem`, base64url.
        let expected = "rS-UWUagKYIq-5MjnjY8sCCEv8050Hy4fp0sUq1fQefGlfGIG-M3oObN8VLyVLQ4AZXkEy__aT8qiLM_x2oullVldRyjMWnNQ5J6r9UEbA7OFBs29ddn0dhzglh02sLiaeZLYp8Ub_scVzCWev05xiCXdylaLtWyRTOXgRlRR_u_r3shUs8t9aubJYLuKQyujPRJIwNoaS7bTg1-KvXwDjjeHou7KrNm-f0IQoyBGJJuXiWLjeBI5-pYHnJxdXiptC4Y-Odw90qUp0pH5pbVfSXg2Yu1klPQWJBXb5B-73kRMK-UaV2B8mUOvl0-6rN9Mihjb2rpEK21wq9G5M-t4A";
        assert_signs_with(&[PKCS8, PKCS1], expected);
    }

    /// Each PEM form of one key signs `{"iss":"test"}` with `signature`.
    fn assert_signs_with(pems: &[&str], signature: &str) {
        for pem in pems {
            let key = RsaKey::from_pem(pem, "the key").unwrap();
            let jwt = key.sign_jwt(&serde_json::Map::new(), &serde_json::json!({"iss": "test"})).unwrap();
            assert_eq!(jwt.expose(), format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0ZXN0In0.{signature}"));
        }
    }

    /// A 3072-bit test key (`openssl genpkey -algorithm RSA -pkeyopt
    /// rsa_keygen_bits:3072`, then `openssl pkey -traditional`).
    const PKCS8_3072: &str = include_str!("../tests/data/test-rsa3072-pkcs8.pem");
    const PKCS1_3072: &str = include_str!("../tests/data/test-rsa3072-pkcs1.pem");

    fn pem(label: &str, der: &[u8]) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    fn der_of(text: &str) -> Vec<u8> {
        pem::blocks(text, "test").unwrap().remove(0).der
    }

    #[test]
    fn signs_with_a_3072_bit_key_as_openssl_does() {
        // `printf %s <header.claims> | openssl dgst -sha256 -sign test-rsa3072-pkcs8.pem`, base64url.
        let expected = "M3sVfb2kvnKXsxBvyCjmOp03B6Efgrk9JeCQm3Rdot0HrngAHaXw7ZenYfDE3_OLZA0VEF28xQveAY8HCKMwYqQNHa9WC0A-FGyJFW1tW6fYlWuGK4UmOuCeZthyzKEdyLOlXQrSxbzxujaRxkcd3nDt0rafIs_Zcfk6AFdIJ585Q1670OY1-OPI9VWgNiEKJgWpVJjsKkX15pDlA2-Tz_P2hr5xF3S6kTXtBY8Qm6RWRaF-q8o6c3DQhcCMUwAM1oAtMeDVC2EqZjbaVKYqhCRa2ukZE-5LuEr62S0wXt3FJDLLMm8AsdWPwBG4_uREIuPAVkkfilZeuAJJrnfqCGmR1gtXdsCbizbrcRAKw84tqL39oXQo1twjt6t6yApWo5DGbJTDqxu-nlM3tTBbxAmiJcG2J65Y4Pve0VO0Gis4m2zXOCjZRNX1WoNUQ0ojhwQO_YP-7Nx3e7VqZQQUHmahQOlpvHc0rxDY1BxSrjo_0oBIJEakJefgOr1Mre_B";
        assert_signs_with(&[PKCS8_3072, PKCS1_3072], expected);
    }

    #[test]
    fn public_key_spki_is_openssls() {
        use crate::der::tests::{SPKI_2048, SPKI_3072};
        for (pem, expected) in
            [(PKCS8, SPKI_2048), (PKCS1, SPKI_2048), (PKCS8_3072, SPKI_3072), (PKCS1_3072, SPKI_3072)]
        {
            let spki = RsaKey::from_pem(pem, "the key").unwrap().public_key_spki_der().unwrap();
            assert_eq!(base64::engine::general_purpose::STANDARD.encode(spki), expected);
        }
    }

    #[test]
    fn refuses_malformed_der_as_not_an_rsa_key() {
        // The PKCS#1 key starts 26 bytes into the PKCS#8 one.
        for (label, good, at) in [("RSA PRIVATE KEY", der_of(PKCS1), 0), ("PRIVATE KEY", der_of(PKCS8), 26)] {
            let len = good.len() - 4;
            assert_eq!(good[..4], [0x30, 0x82, (len >> 8) as u8, len as u8]);
            let body = &good[4..];
            let mut negative = good.clone();
            // The modulus INTEGER's first content byte is its 0x00 sign byte.
            assert_eq!(negative[at + 7..at + 12], [0x02, 0x82, 0x01, 0x01, 0x00]);
            negative[at + 11] = 0xFF;
            let cases: Vec<(&str, Vec<u8>)> = vec![
                ("truncated", good[..good.len() - 1].to_vec()),
                ("truncated header", good[..3].to_vec()),
                ("garbage", b"not a key at all".to_vec()),
                ("overlong length", [&[0x30, 0x83, 0x00, (len >> 8) as u8, len as u8][..], body].concat()),
                ("length past the end", [&[0x30, 0x82, ((len + 1) >> 8) as u8, (len + 1) as u8][..], body].concat()),
                ("trailing byte", [&good[..], &[0]].concat()),
                ("negative integer", negative),
                ("indefinite length", [&[0x30, 0x80][..], body, &[0, 0]].concat()),
            ];
            for (case, der) in cases {
                let e = RsaKey::from_pem(&pem(label, &der), "the key").unwrap_err();
                assert_eq!(e.kind(), "invalid-input", "{label}: {case}");
                assert_eq!(e.to_string(), "invalid input: the key is not an RSA private key", "{label}: {case}");
            }
        }
        // Well-formed DER whose numbers are not a key.
        let mut wrong = der_of(PKCS1);
        let last = wrong.len() - 1;
        wrong[last] ^= 1; // the coefficient is not checked: still a key
        assert!(RsaKey::from_pem(&pem("RSA PRIVATE KEY", &wrong), "k").is_ok());
        let mut wrong = der_of(PKCS1);
        wrong[300] ^= 1; // inside d
        let e = RsaKey::from_pem(&pem("RSA PRIVATE KEY", &wrong), "the key").unwrap_err();
        assert_eq!(e.to_string(), "invalid input: the key is not an RSA private key");
    }

    #[test]
    fn refuses_multi_prime_and_out_of_range_keys() {
        let mut multi = der_of(PKCS1);
        assert_eq!(multi[4..7], [0x02, 0x01, 0x00]);
        multi[6] = 1;
        let e = RsaKey::from_pem(&pem("RSA PRIVATE KEY", &multi), "the key").unwrap_err();
        assert_eq!(e.kind(), "unsupported");
        assert_eq!(
            e.to_string(),
            "unsupported: the key is a multi-prime RSA key (PKCS#1 version 1), which is not supported"
        );

        // `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 | openssl pkey -traditional`.
        let small = include_str!("../tests/data/test-rsa1024-pkcs1.pem");
        let e = RsaKey::from_pem(small, "the key").unwrap_err();
        assert_eq!(e.to_string(), "invalid input: the key is a 1024-bit RSA key; 2048 to 8192 bits are accepted");

        // Too large is refused by its modulus alone, before any arithmetic.
        let tlv = |tag: u8, content: &[u8]| {
            let len = match content.len() {
                short @ 0..0x80 => vec![short as u8],
                long => vec![0x82, (long >> 8) as u8, long as u8],
            };
            [&[tag][..], &len, content].concat()
        };
        let int = |len: usize| tlv(0x02, &vec![0x7F; len]);
        let parts = [tlv(0x02, &[0]), int(1125), int(3), int(1125), int(563), int(563), int(563), int(563), int(563)];
        let huge = tlv(0x30, &parts.concat());
        let e = RsaKey::from_pem(&pem("RSA PRIVATE KEY", &huge), "the key").unwrap_err();
        assert_eq!(e.to_string(), "invalid input: the key is a 8999-bit RSA key; 2048 to 8192 bits are accepted");
    }

    #[test]
    fn never_panics_on_truncated_or_flipped_keys() {
        for text in [PKCS1, PKCS8] {
            let der = der_of(text);
            let label = if text == PKCS1 { "RSA PRIVATE KEY" } else { "PRIVATE KEY" };
            for len in 1..der.len() {
                let e = RsaKey::from_pem(&pem(label, &der[..len]), "the key").unwrap_err();
                assert_eq!(e.to_string(), "invalid input: the key is not an RSA private key", "prefix {len}");
            }
            // Every third byte flipped: refused as invalid input, or (in the
            // unchecked CRT values) still the same key.
            for i in (0..der.len()).step_by(3) {
                let mut bytes = der.clone();
                bytes[i] ^= 0x01;
                match RsaKey::from_pem(&pem(label, &bytes), "the key") {
                    Ok(key) => assert_eq!(key.public_key_spki_der().unwrap(), crate::der::tests::spki_2048()),
                    // The version byte flipped makes a multi-prime key.
                    Err(e) if e.kind() == "unsupported" => assert!(e.to_string().contains("multi-prime"), "byte {i}"),
                    Err(e) => assert_eq!(e.kind(), "invalid-input", "byte {i}"),
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_usable_key() {
        let cert = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        assert_eq!(RsaKey::from_pem(cert, "the key").unwrap_err().kind(), "invalid-input");
        let junk = "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n";
        let e = RsaKey::from_pem(junk, "the key").unwrap_err();
        assert_eq!(e.to_string(), "invalid input: the key is not an RSA private key");
        let enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(RsaKey::from_pem(enc, "the key").unwrap_err().kind(), "unsupported");
        assert!(format!("{:?}", RsaKey::from_pem(PKCS8, "k").unwrap()).contains("redacted"));
    }
}
