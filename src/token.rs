//! JSON token responses, shared by every OAuth2-shaped endpoint: Entra, IMDS,
//! ACR, Google STS, the GCE metadata server and registry token servers.

use serde_json::Value;

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::response::{ErrorFormat, json_object, opt_string, optional_field};
use crate::secret::Secret;

/// Longest lifetime accepted from a service, in seconds (one year). A larger
/// value is a broken response, and would overflow arithmetic further on.
pub const MAX_LIFETIME: i64 = 366 * 24 * 3600;

/// A number that some services send as a JSON string (IMDS sends
/// `"expires_in": "86399"`).
#[derive(Debug, Clone)]
pub enum NumberOrString {
    Number(serde_json::Number),
    String(String),
}

impl NumberOrString {
    /// An optional number-or-string field of a JSON object: absent and
    /// `null` are `None`, anything but a number or a string is mistyped.
    pub fn field(object: &Value, name: &str) -> Result<Option<NumberOrString>> {
        optional_field(object, name, |v| match v {
            Value::Number(n) => Some(NumberOrString::Number(n.clone())),
            Value::String(s) => Some(NumberOrString::String(s.clone())),
            _ => None,
        })
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            NumberOrString::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
            NumberOrString::String(s) => s.trim().parse().ok(),
        }
    }
}

/// The fields of an OAuth2 token response that cloudauth reads.
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: Option<String>,
    /// Registry token servers use `token` (and `access_token` as an alias).
    pub token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<NumberOrString>,
    pub expires_on: Option<NumberOrString>,
}

impl TokenResponse {
    /// Reads a 2xx JSON token response (a `Value` look-up, docs/size.md).
    pub fn read(response: &HttpResponse, format: ErrorFormat) -> Result<TokenResponse> {
        let body = json_object(response, format)?;
        Ok(TokenResponse {
            access_token: opt_string(&body, "access_token")?,
            token: opt_string(&body, "token")?,
            refresh_token: opt_string(&body, "refresh_token")?,
            expires_in: NumberOrString::field(&body, "expires_in")?,
            expires_on: NumberOrString::field(&body, "expires_on")?,
        })
    }
}

/// How to compute expiry when the response has no `expires_in`.
#[derive(Clone, Copy, Debug)]
pub enum MissingExpiry {
    /// The response must carry a lifetime.
    Error,
    /// Use this lifetime in seconds (the registry token spec says 60).
    Default(i64),
}

/// Parses a 2xx JSON token response with `access_token` and `expires_in`
/// (or `expires_on`, absolute Unix seconds, as IMDS adds).
pub fn parse_access_token(response: &HttpResponse, format: ErrorFormat, now: i64) -> Result<AccessToken> {
    let body = TokenResponse::read(response, format)?;
    let expires_at = expiry(&body, now, MissingExpiry::Error)?;
    let token = non_empty_token(body.access_token, "access_token")?;
    Ok(AccessToken { token, expires_at })
}

/// Rejects a missing or empty token field.
pub fn non_empty_token(value: Option<String>, field: &str) -> Result<Secret> {
    match value {
        Some(t) if !t.is_empty() => {
            if t.chars().any(char::is_control) {
                return Err(Error::malformed(format!("{field} contains control characters")));
            }
            Ok(Secret::new(t))
        }
        Some(_) => Err(Error::malformed(format!("{field} is empty"))),
        None => Err(Error::malformed(format!("no {field} in the response"))),
    }
}

/// The expiry of a token response: `now + expires_in`, else `expires_on`.
pub fn expiry(body: &TokenResponse, now: i64, missing: MissingExpiry) -> Result<i64> {
    if let Some(v) = &body.expires_in {
        let secs = v.as_i64().ok_or_else(|| Error::malformed("expires_in is not a number"))?;
        return expires_after(now, secs);
    }
    if let Some(v) = &body.expires_on {
        return v.as_i64().ok_or_else(|| Error::malformed("expires_on is not a number"));
    }
    match missing {
        MissingExpiry::Default(secs) => expires_after(now, secs),
        MissingExpiry::Error => Err(Error::malformed("the response gives no expires_in")),
    }
}

/// `now + lifetime`, rejecting negative or absurd lifetimes.
pub fn expires_after(now: i64, lifetime: i64) -> Result<i64> {
    if !(0..=MAX_LIFETIME).contains(&lifetime) {
        return Err(Error::malformed(format!("token lifetime of {lifetime} s is out of range")));
    }
    now.checked_add(lifetime).ok_or_else(|| Error::invalid("now is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> HttpResponse {
        HttpResponse::new(200, body)
    }

    #[test]
    fn expires_in_as_number_or_string() {
        let t = parse_access_token(&ok(r#"{"access_token":"a","expires_in":3599}"#), ErrorFormat::OAuth2, 100).unwrap();
        assert_eq!(t.expires_at, 3699);
        let t = parse_access_token(
            &ok(r#"{"access_token":"a","expires_in":"10","expires_on":"5"}"#),
            ErrorFormat::OAuth2,
            100,
        )
        .unwrap();
        assert_eq!(t.expires_at, 110);
        let t =
            parse_access_token(&ok(r#"{"access_token":"a","expires_on":"5000"}"#), ErrorFormat::OAuth2, 100).unwrap();
        assert_eq!(t.expires_at, 5000);
        let t = parse_access_token(&ok(r#"{"access_token":"a","expires_in":10.0}"#), ErrorFormat::OAuth2, 100).unwrap();
        assert_eq!(t.expires_at, 110);
        let t = parse_access_token(
            &ok(r#"{"access_token":"a","expires_in":null,"expires_on":7}"#),
            ErrorFormat::OAuth2,
            100,
        )
        .unwrap();
        assert_eq!(t.expires_at, 7);
        for body in [r#"{"access_token":"a","expires_in":true}"#, r#"{"access_token":"a","expires_in":[1]}"#] {
            let err = parse_access_token(&ok(body), ErrorFormat::OAuth2, 100).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
        }
    }

    #[test]
    fn bad_token_responses() {
        for body in [
            r#"{"expires_in":3599}"#,
            r#"{"access_token":"","expires_in":3599}"#,
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","expires_in":-1}"#,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            r#"{"access_token":"a","expires_in":99999999999999}"#,
            r#"{"access_token":5,"expires_in":1}"#,
            r#"{"access_token":"a\nb","expires_in":1}"#,
            r#"[]"#,
            r#"{"access_token":"a","#,
        ] {
            let err = parse_access_token(&ok(body), ErrorFormat::OAuth2, 100).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}: {err}");
        }
    }
}
