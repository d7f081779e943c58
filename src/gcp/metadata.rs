//! The GCE (and GKE) metadata server's access tokens, as google-auth's
//! `compute_engine` credentials ask for them.

use crate::credentials::AccessToken;
use crate::error::Result;
use crate::gcp::{check_scope, check_service_account};
use crate::http::{HttpRequest, HttpResponse, with_query};
use crate::response::ErrorFormat;
use crate::token::parse_access_token;

/// The service-accounts directory of the metadata server. Plain HTTP to a
/// link-local name is how every Google SDK reaches it.
const SERVICE_ACCOUNTS_URL: &str = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/";

/// The account the instance (or the pod's Kubernetes service account) runs as.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Builds the token request. `scopes`, when given, are joined with commas
/// into one `scopes` query parameter; none means the account's own scopes.
/// The account is `default` or a service account e-mail (it lands in the path).
pub fn token_request(scopes: &[String], service_account: Option<&str>) -> Result<HttpRequest> {
    let account = service_account.unwrap_or(DEFAULT_ACCOUNT);
    if account != DEFAULT_ACCOUNT {
        check_service_account(account)?;
    }
    scopes.iter().try_for_each(|s| check_scope(s))?;
    let base = format!("{SERVICE_ACCOUNTS_URL}{account}/token");
    let url = if scopes.is_empty() { base } else { with_query(&base, &[("scopes", &scopes.join(","))]) };
    HttpRequest::get(url).header("Metadata-Flavor", "Google")
}

/// Parses a token response (`access_token`, `expires_in`). The server
/// answers errors in plain text, so they carry the status only.
pub fn parse_token(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::Google, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn builds_the_google_auth_request() {
        let scopes = vec![
            "https://www.googleapis.com/auth/cloud-platform".to_owned(),
            "https://www.googleapis.com/auth/userinfo.email".to_owned(),
        ];
        let req = token_request(&scopes, None).unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(
            req.url,
            "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform%2Chttps%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email"
        );
        assert_eq!(req.headers, vec![("Metadata-Flavor".to_owned(), "Google".to_owned())]);
        assert!(req.body.is_empty());
    }

    #[test]
    fn account_and_no_scopes() {
        let req = token_request(&[], Some("sa@p.iam.gserviceaccount.com")).unwrap();
        assert_eq!(
            req.url,
            "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/sa@p.iam.gserviceaccount.com/token"
        );
        let req = token_request(&[], Some("default")).unwrap();
        assert!(req.url.ends_with("/service-accounts/default/token"));
    }

    #[test]
    fn rejects_bad_input() {
        for account in [
            "",
            "../../project/project-id",
            "default/../x",
            "default?x=1",
            "Default",
            "sa@p.iam.gserviceaccount.com#",
            "default\r\n",
        ] {
            assert_eq!(token_request(&[], Some(account)).unwrap_err().kind(), "invalid-input", "{account:?}");
        }
        for scope in ["", "a,b", "a b", "a\r\nb"] {
            assert!(token_request(&[scope.to_owned()], None).is_err(), "{scope:?}");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_tokens_and_errors() {
        let t = parse_token(
            &resp(200, r#"{"access_token": "ya29.c.x", "expires_in": 3599, "token_type": "Bearer"}"#),
            1_705_320_000,
        )
        .unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("ya29.c.x", 1_705_323_599));
        let err = parse_token(&resp(404, "Not Found"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 404, code: None, .. }), "{err:?}");
        let err = parse_token(&resp(500, "Internal error\r\n"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 500, code: None, .. }), "{err:?}");
        for body in [
            "",
            "<html>captive portal</html>",
            r#"{"access_token": "ya29"#,
            r#"{"access_token": "ya29"}"#,
            r#"{"expires_in": 1}"#,
            r#"{"access_token": ["x"], "expires_in": 1}"#,
        ] {
            assert_eq!(parse_token(&resp(200, body), 0).unwrap_err().kind(), "malformed-response", "{body}");
        }
    }
}
