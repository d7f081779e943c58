//! Reading claims from a JWT without verifying it. cloudauth never trusts a
//! claim for authorization; it only reads `exp` to know when a token it was
//! handed (an ACR refresh token, a service-account token) stops working.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::{Error, Result};

/// Largest JWT accepted; real ones are a few KiB.
const MAX_JWT: usize = 64 * 1024;

/// The decoded claims (payload) of a compact JWT.
pub fn claims(token: &str) -> Result<serde_json::Map<String, Value>> {
    if token.len() > MAX_JWT {
        return Err(Error::malformed("JWT is too large"));
    }
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::malformed("token is not a JWT (three dot-separated parts)"));
    };
    // Tolerate padding, which some issuers add although RFC 7515 forbids it.
    let payload = payload.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| Error::malformed("JWT payload is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::malformed("JWT payload is not a JSON object")),
    }
}

/// The `exp` claim (Unix seconds).
pub fn expiry(token: &str) -> Result<i64> {
    let claims = claims(token)?;
    let exp = claims.get("exp").ok_or_else(|| Error::malformed("JWT has no exp claim"))?;
    exp.as_i64()
        .or_else(|| exp.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
        .ok_or_else(|| Error::malformed("JWT exp claim is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("eyJhbGciOiJub25lIn0.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn reads_exp() {
        assert_eq!(expiry(&jwt(r#"{"exp":4102444800}"#)).unwrap(), 4102444800);
        assert_eq!(expiry(&jwt(r#"{"exp":1.7e9}"#)).unwrap(), 1_700_000_000);
    }

    #[test]
    fn rejects_non_jwts() {
        for t in ["", "a.b", "a.b.c.d", "a.!!!.c", &jwt("[1]"), &jwt(r#"{"exp":"x"}"#), &jwt("{}")] {
            assert_eq!(expiry(t).unwrap_err().kind(), "malformed-response", "{t}");
        }
    }
}
