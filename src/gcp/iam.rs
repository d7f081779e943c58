//! IAM Credentials generateAccessToken: service-account impersonation, as
//! google-auth's `impersonated_credentials` sends it.

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::gcp::{check_scopes, check_service_account, python_json};
use crate::http::{HttpRequest, HttpResponse, check_non_empty};
use crate::response::{ErrorFormat, json_object, opt_string};
use crate::secret::Secret;
use crate::time::parse_rfc3339;
use crate::token::non_empty_token;

/// The IAM Credentials API of the `googleapis.com` universe.
const ENDPOINT: &str = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/";

/// google-auth's default lifetime, one hour.
pub const DEFAULT_LIFETIME: u32 = 3600;
/// The longest lifetime IAM grants (12 hours, with the org policy that allows it).
pub const MAX_LIFETIME: u32 = 43_200;

/// Builds a generateAccessToken request for `service_account`, authorized by
/// `access_token` (the federated or source token).
///
/// The body is what google-auth writes with `json.dumps`: `delegates` is
/// `null` when there are none, the lifetime is `"<seconds>s"`. Delegates are
/// passed through as given (`projects/-/serviceAccounts/<email>`).
pub fn impersonation_request(
    service_account: &str,
    access_token: &Secret,
    scopes: &[String],
    lifetime_seconds: Option<u32>,
    delegates: &[String],
) -> Result<HttpRequest> {
    let delegates = if delegates.is_empty() { None } else { Some(delegates) };
    impersonation_request_with(service_account, access_token, scopes, lifetime_seconds, delegates)
}

/// As [`impersonation_request`], with `delegates` `None` written as `null`
/// and `Some([])` as `[]`: google-auth passes a credentials file's list on
/// as it is.
pub fn impersonation_request_with(
    service_account: &str,
    access_token: &Secret,
    scopes: &[String],
    lifetime_seconds: Option<u32>,
    delegates: Option<&[String]>,
) -> Result<HttpRequest> {
    check_service_account(service_account)?;
    check_non_empty("access token", access_token.expose())?;
    check_scopes(scopes)?;
    let lifetime = lifetime_seconds.unwrap_or(DEFAULT_LIFETIME);
    if !(1..=MAX_LIFETIME).contains(&lifetime) {
        return Err(Error::invalid(format!("lifetime of {lifetime} s is outside 1..={MAX_LIFETIME}")));
    }
    delegates.unwrap_or_default().iter().try_for_each(|d| check_non_empty("delegate", d))?;

    let mut body = String::from("{\"delegates\": ");
    match delegates {
        None => body.push_str("null"),
        Some(delegates) => python_json::write_str_list(&mut body, delegates),
    }
    body.push_str(", \"scope\": ");
    python_json::write_str_list(&mut body, scopes);
    body.push_str(&format!(", \"lifetime\": \"{lifetime}s\"}}"));

    let mut request = HttpRequest::post(format!("{ENDPOINT}{service_account}:generateAccessToken"))
        .header("Content-Type", "application/json")?
        .header("authorization", format!("Bearer {}", access_token.expose()))?;
    request.body = body.into_bytes();
    Ok(request)
}

/// Parses a generateAccessToken response: `accessToken` and an RFC 3339
/// `expireTime`. Errors are Google-shaped (`error.status`).
pub fn parse_impersonation(response: &HttpResponse) -> Result<AccessToken> {
    let body = json_object(response, ErrorFormat::Google)?;
    let access_token = opt_string(&body, "accessToken")?;
    let expire_time = opt_string(&body, "expireTime")?;
    let expire_time = expire_time.ok_or_else(|| Error::malformed("no expireTime in the response"))?;
    let expires_at = parse_rfc3339(&expire_time)?;
    let token = non_empty_token(access_token, "accessToken")?;
    Ok(AccessToken { token, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SA: &str = "wirecap-sa@my-project.iam.gserviceaccount.com";

    fn scopes() -> Vec<String> {
        vec!["https://www.googleapis.com/auth/cloud-platform".to_owned()]
    }

    #[test]
    fn builds_the_google_auth_request() {
        let req = impersonation_request(SA, &Secret::new("ya29.fed"), &scopes(), None, &[]).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.url,
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/wirecap-sa@my-project.iam.gserviceaccount.com:generateAccessToken"
        );
        assert_eq!(req.header_value("Content-Type"), Some("application/json"));
        assert_eq!(req.header_value("Authorization"), Some("Bearer ya29.fed"));
        // json.dumps({"delegates": None, "scope": [...], "lifetime": "3600s"})
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"delegates": null, "scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"}"#
        );
        assert!(!format!("{req:?}").contains("ya29.fed"));
    }

    #[test]
    fn delegates_and_lifetime() {
        let delegates = vec!["projects/-/serviceAccounts/b@p.iam.gserviceaccount.com".to_owned()];
        let req = impersonation_request(SA, &Secret::new("t"), &scopes(), Some(43_200), &delegates).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["delegates"][0], "projects/-/serviceAccounts/b@p.iam.gserviceaccount.com");
        assert_eq!(body["lifetime"], "43200s");
        let req = impersonation_request(SA, &Secret::new("t"), &scopes(), Some(1), &[]).unwrap();
        assert!(std::str::from_utf8(&req.body).unwrap().ends_with(r#""lifetime": "1s"}"#));
    }

    #[test]
    fn rejects_bad_input() {
        let token = Secret::new("secret-token");
        let sa_cases = [
            "a@b.iam.gserviceaccount.com/../../x",
            "",
            "default",
            "a@p.iam.gserviceaccount.com?alt=x",
            "a@p.iam.gserviceaccount.com\r\n",
        ];
        for sa in sa_cases {
            assert_eq!(
                impersonation_request(sa, &token, &scopes(), None, &[]).unwrap_err().kind(),
                "invalid-input",
                "{sa:?}"
            );
        }
        for lifetime in [0, MAX_LIFETIME + 1, u32::MAX] {
            assert!(impersonation_request(SA, &token, &scopes(), Some(lifetime), &[]).is_err());
        }
        assert!(impersonation_request(SA, &token, &[], None, &[]).is_err());
        assert!(impersonation_request(SA, &token, &["a b".to_owned()], None, &[]).is_err());
        assert!(impersonation_request(SA, &token, &scopes(), None, &["".to_owned()]).is_err());
        for bad in ["", "secret-token\r\nX-Evil: 1", "secret-token\n"] {
            let err = impersonation_request(SA, &Secret::new(bad), &scopes(), None, &[]).unwrap_err();
            assert_eq!(err.kind(), "invalid-input");
            assert!(!err.to_string().contains("secret-token"), "{err}");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_tokens_and_errors() {
        let t = parse_impersonation(&resp(
            200,
            "{\n  \"accessToken\": \"ya29.c.x\",\n  \"expireTime\": \"2100-01-01T00:00:00Z\"\n}",
        ))
        .unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("ya29.c.x", 4_102_444_800));

        let err = parse_impersonation(&resp(403, r#"{"error": {"code": 403, "message": "Permission 'iam.serviceAccounts.getAccessToken' denied", "status": "PERMISSION_DENIED"}}"#)).unwrap_err();
        assert!(
            matches!(&err, Error::HttpStatus { status: 403, code: Some(c), .. } if c == "PERMISSION_DENIED"),
            "{err:?}"
        );
        let err = parse_impersonation(&resp(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 502, code: None, .. }), "{err:?}");

        for body in [
            "",
            "<html></html>",
            r#"{"accessToken": "ya29.x", "expireTime": "2100-01-01T00:00:00Z""#,
            r#"{"expireTime": "2100-01-01T00:00:00Z"}"#,
            r#"{"accessToken": "ya29.x"}"#,
            r#"{"accessToken": "", "expireTime": "2100-01-01T00:00:00Z"}"#,
            r#"{"accessToken": 1, "expireTime": "2100-01-01T00:00:00Z"}"#,
            r#"{"accessToken": "ya29.x", "expireTime": 4102444800}"#,
            r#"{"accessToken": "ya29.x", "expireTime": "tomorrow"}"#,
            r#"{"access_token": "ya29.x", "expires_in": 3600}"#,
        ] {
            assert_eq!(parse_impersonation(&resp(200, body)).unwrap_err().kind(), "malformed-response", "{body}");
        }
    }
}
