//! Google STS token exchange (workload identity federation): RFC 8693 with
//! Google's `options` extension, as google-auth's `sts.Client` sends it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::gcp::{check_scopes, python_json};
use crate::http::{HttpRequest, HttpResponse, check_non_empty, check_single_line};
use crate::response::ErrorFormat;
use crate::secret::Secret;
use crate::token::parse_access_token;

/// The STS token endpoint of the `googleapis.com` universe.
pub const TOKEN_URL: &str = "https://sts.googleapis.com/v1/token";
/// RFC 8693 token exchange.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// STS always issues an access token.
pub const REQUESTED_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The subject token type of a Kubernetes service-account token (an OIDC JWT).
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// The scope google-auth asks STS for when the federated token will only be
/// used to impersonate a service account (`iam._IAM_SCOPE`).
pub const IAM_SCOPE: &str = "https://www.googleapis.com/auth/iam";

/// Longest `options` JSON text accepted; Google's options are a few fields.
const MAX_OPTIONS: usize = 16 * 1024;

#[derive(Clone, Debug)]
pub struct ExchangeParams<'a> {
    /// The workload identity provider, `//iam.googleapis.com/projects/...`.
    pub audience: &'a str,
    pub scopes: &'a [String],
    pub subject_token: &'a Secret,
    /// Defaults to [`JWT_TOKEN_TYPE`].
    pub subject_token_type: Option<&'a str>,
    /// The token will be used for impersonation: ask for [`IAM_SCOPE`]
    /// instead of `scopes` (which then go to the impersonation request).
    pub impersonation: bool,
    /// A JSON object, as text.
    pub options: Option<&'a str>,
    /// OAuth client authentication, sent as HTTP Basic (google-auth's
    /// `ClientAuthType.basic`, the only type external accounts use).
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a Secret>,
}

/// Builds the token-exchange request. The form fields come in google-auth's
/// order; empty optional fields are left out, as google-auth does.
pub fn exchange_request(params: &ExchangeParams<'_>) -> Result<HttpRequest> {
    exchange_request_at(TOKEN_URL, params)
}

/// As [`exchange_request`], to the `token_url` of a credentials file
/// (checked to be `https://` by its reader and by the routing guard).
pub fn exchange_request_at(token_url: &str, params: &ExchangeParams<'_>) -> Result<HttpRequest> {
    check_non_empty("audience", params.audience)?;
    check_non_empty("subject token", params.subject_token.expose())?;
    let subject_token_type = params.subject_token_type.unwrap_or(JWT_TOKEN_TYPE);
    check_non_empty("subject token type", subject_token_type)?;
    let scope = if params.impersonation {
        // google-auth replaces the scopes with the IAM scope; the caller's
        // scopes are for the impersonated token and are only checked here.
        if !params.scopes.is_empty() {
            check_scopes(params.scopes)?;
        }
        IAM_SCOPE.to_owned()
    } else {
        check_scopes(params.scopes)?;
        params.scopes.join(" ")
    };
    let options = params.options.map(encode_options).transpose()?.flatten();
    let authorization = basic_authorization(params.client_id, params.client_secret)?;

    let mut form = vec![
        ("grant_type", GRANT_TYPE),
        ("audience", params.audience),
        ("scope", scope.as_str()),
        ("requested_token_type", REQUESTED_TOKEN_TYPE),
        ("subject_token", params.subject_token.expose()),
        ("subject_token_type", subject_token_type),
    ];
    if let Some(options) = &options {
        form.push(("options", options));
    }
    let request = HttpRequest::post(token_url).form(&form)?;
    match authorization {
        Some(value) => request.header("Authorization", value),
        None => Ok(request),
    }
}

/// The `options` value: `urllib.parse.quote(json.dumps(options))`. The form
/// encoding then escapes it once more. An empty object is left out, because
/// google-auth sends options only when the dict is truthy.
fn encode_options(text: &str) -> Result<Option<String>> {
    if text.len() > MAX_OPTIONS {
        return Err(Error::invalid(format!("options are longer than {MAX_OPTIONS} bytes")));
    }
    let json = python_json::redump_object("options", text)?;
    if json == "{}" {
        return Ok(None);
    }
    Ok(Some(percent_encoding::utf8_percent_encode(&json, PYTHON_QUOTE).to_string()))
}

/// `urllib.parse.quote(text)`, as google-auth quotes what it sends in a
/// form field that STS decodes once more (options, AWS subject tokens).
pub fn python_quote(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PYTHON_QUOTE).to_string()
}

/// What `urllib.parse.quote` escapes with its default `safe='/'`: all but
/// letters, digits and `_.-~/`.
const PYTHON_QUOTE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~').remove(b'/');

/// `Basic base64(id:secret)`, the secret empty when absent, as google-auth
/// writes it. A secret without an ID would be silently dropped by
/// google-auth; here it is an error. An ID with `:` cannot be told apart from
/// the secret (RFC 7617), so it is refused.
fn basic_authorization(client_id: Option<&str>, client_secret: Option<&Secret>) -> Result<Option<String>> {
    let Some(client_id) = client_id else {
        return match client_secret {
            Some(_) => Err(Error::invalid("a client secret needs a client ID")),
            None => Ok(None),
        };
    };
    check_non_empty("client ID", client_id)?;
    if client_id.contains(':') {
        return Err(Error::invalid("client ID contains ':'"));
    }
    let secret = client_secret.map(Secret::expose).unwrap_or_default();
    check_single_line("client secret", secret)?;
    Ok(Some(format!("Basic {}", BASE64.encode(format!("{client_id}:{secret}")))))
}

/// Parses the exchange response: OAuth2-shaped, errors either OAuth2
/// (`{"error": "invalid_grant"}`) or Google (`{"error": {"status": ...}}`).
pub fn parse_exchange(response: &HttpResponse, now: i64) -> Result<AccessToken> {
    parse_access_token(response, ErrorFormat::Google, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";

    fn scopes() -> Vec<String> {
        vec!["https://www.googleapis.com/auth/cloud-platform".to_owned()]
    }

    fn params<'a>(scopes: &'a [String], token: &'a Secret) -> ExchangeParams<'a> {
        ExchangeParams {
            audience: AUDIENCE,
            scopes,
            subject_token: token,
            subject_token_type: None,
            impersonation: false,
            options: None,
            client_id: None,
            client_secret: None,
        }
    }

    fn form(req: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(&req.body).into_owned().collect()
    }

    fn field(req: &HttpRequest, name: &str) -> Option<String> {
        form(req).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    #[test]
    fn builds_the_google_auth_request() {
        let scopes = vec![
            "https://www.googleapis.com/auth/cloud-platform".to_owned(),
            "https://www.googleapis.com/auth/userinfo.email".to_owned(),
        ];
        let token = Secret::new("eyJ.subject.sig");
        let req = exchange_request(&params(&scopes, &token)).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, TOKEN_URL);
        assert_eq!(req.headers, vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())]);
        let want: Vec<(String, String)> = [
            ("grant_type", GRANT_TYPE),
            ("audience", AUDIENCE),
            ("scope", "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email"),
            ("requested_token_type", REQUESTED_TOKEN_TYPE),
            ("subject_token", "eyJ.subject.sig"),
            ("subject_token_type", JWT_TOKEN_TYPE),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(form(&req), want);
    }

    #[test]
    fn impersonation_asks_for_the_iam_scope() {
        let scopes = scopes();
        let token = Secret::new("t");
        let req = exchange_request(&ExchangeParams { impersonation: true, ..params(&scopes, &token) }).unwrap();
        assert_eq!(field(&req, "scope").as_deref(), Some(IAM_SCOPE));
        let req = exchange_request(&ExchangeParams { impersonation: true, ..params(&[], &token) }).unwrap();
        assert_eq!(field(&req, "scope").as_deref(), Some(IAM_SCOPE));
    }

    #[test]
    fn client_basic_authentication() {
        let scopes = scopes();
        let token = Secret::new("t");
        let secret = Secret::new("wirecap-client-secret");
        let p = ExchangeParams {
            client_id: Some("wirecap-client-id"),
            client_secret: Some(&secret),
            ..params(&scopes, &token)
        };
        let req = exchange_request(&p).unwrap();
        assert_eq!(
            req.header_value("Authorization"),
            Some("Basic d2lyZWNhcC1jbGllbnQtaWQ6d2lyZWNhcC1jbGllbnQtc2VjcmV0")
        );
        assert!(!format!("{req:?}").contains("d2lyZWNhcC1jbGllbnQtaWQ6"));
        // No secret: `id:`.
        let p = ExchangeParams { client_id: Some("id"), ..params(&scopes, &token) };
        assert_eq!(exchange_request(&p).unwrap().header_value("Authorization"), Some("Basic aWQ6"));
        for p in [
            ExchangeParams { client_secret: Some(&secret), ..params(&scopes, &token) },
            ExchangeParams { client_id: Some(""), ..params(&scopes, &token) },
            ExchangeParams { client_id: Some("a:b"), ..params(&scopes, &token) },
            ExchangeParams { client_id: Some("a\r\nb"), ..params(&scopes, &token) },
        ] {
            assert_eq!(exchange_request(&p).unwrap_err().kind(), "invalid-input");
        }
        let newline = Secret::new("hunter2\n");
        let p = ExchangeParams { client_id: Some("id"), client_secret: Some(&newline), ..params(&scopes, &token) };
        let err = exchange_request(&p).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn options_are_python_json_quoted_then_form_encoded() {
        let scopes = scopes();
        let token = Secret::new("t");
        let p = ExchangeParams { options: Some(r#"{"userProject":"123","b":"é"}"#), ..params(&scopes, &token) };
        let req = exchange_request(&p).unwrap();
        // urllib.parse.quote(json.dumps({"userProject": "123", "b": "é"}))
        let want = "%7B%22userProject%22%3A%20%22123%22%2C%20%22b%22%3A%20%22%5Cu00e9%22%7D";
        assert_eq!(field(&req, "options").as_deref(), Some(want));
        let body = String::from_utf8(req.body.clone()).unwrap();
        assert!(body.ends_with("&options=%257B%2522userProject%2522%253A%2520%2522123%2522%252C%2520%2522b%2522%253A%2520%2522%255Cu00e9%2522%257D"), "{body}");
        // `/` stays unescaped by quote().
        let p = ExchangeParams { options: Some(r#"{"a":"x/y~z"}"#), ..params(&scopes, &token) };
        assert_eq!(field(&exchange_request(&p).unwrap(), "options").as_deref(), Some("%7B%22a%22%3A%20%22x/y~z%22%7D"));
        // An empty object is not sent.
        let p = ExchangeParams { options: Some(" { } "), ..params(&scopes, &token) };
        assert_eq!(field(&exchange_request(&p).unwrap(), "options"), None);
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_OPTIONS));
        for bad in ["", "[]", "null", "\"x\"", "{", "{\"a\":1}{", long.as_str()] {
            let p = ExchangeParams { options: Some(bad), ..params(&scopes, &token) };
            assert_eq!(exchange_request(&p).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn subject_token_type_is_passed_through() {
        let scopes = scopes();
        let token = Secret::new("t");
        let p = ExchangeParams {
            subject_token_type: Some("urn:ietf:params:aws:token-type:aws4_request"),
            ..params(&scopes, &token)
        };
        assert_eq!(
            field(&exchange_request(&p).unwrap(), "subject_token_type").as_deref(),
            Some("urn:ietf:params:aws:token-type:aws4_request")
        );
    }

    #[test]
    fn rejects_bad_input() {
        let scopes = scopes();
        let token = Secret::new("t");
        let empty = Secret::new("");
        let newline = Secret::new("secret-token\r\n");
        let bad_scopes = vec!["a b".to_owned()];
        for p in [
            ExchangeParams { audience: "", ..params(&scopes, &token) },
            ExchangeParams { audience: "//iam.googleapis.com/x\r\nEvil: 1", ..params(&scopes, &token) },
            ExchangeParams { subject_token: &empty, ..params(&scopes, &token) },
            ExchangeParams { subject_token: &newline, ..params(&scopes, &token) },
            ExchangeParams { subject_token_type: Some(""), ..params(&scopes, &token) },
            ExchangeParams { subject_token_type: Some("a\nb"), ..params(&scopes, &token) },
            params(&[], &token),
            params(&bad_scopes, &token),
            ExchangeParams { impersonation: true, ..params(&bad_scopes, &token) },
        ] {
            let err = exchange_request(&p).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{p:?}");
            assert!(!err.to_string().contains("secret-token"), "{err}");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_tokens_and_errors() {
        let t = parse_exchange(&resp(200, r#"{"access_token": "ya29.x", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3599}"#), 1_705_320_000).unwrap();
        assert_eq!((t.token.expose(), t.expires_at), ("ya29.x", 1_705_323_599));
        let t = parse_exchange(&resp(200, r#"{"access_token": "ya29.x", "expires_in": "3599"}"#), 0).unwrap();
        assert_eq!(t.expires_at, 3599);

        let err = parse_exchange(&resp(400, r#"{"error": "invalid_grant", "error_description": "bad audience"}"#), 0)
            .unwrap_err();
        assert!(
            matches!(&err, Error::HttpStatus { status: 400, code: Some(c), .. } if c == "invalid_grant"),
            "{err:?}"
        );
        let err = parse_exchange(
            &resp(403, r#"{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}}"#),
            0,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::HttpStatus { status: 403, code: Some(c), .. } if c == "PERMISSION_DENIED"),
            "{err:?}"
        );
        let err = parse_exchange(&resp(503, "<html>unavailable</html>"), 0).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 503, code: None, .. }), "{err:?}");

        let big =
            format!("{{\"access_token\": \"{}\", \"expires_in\": 1}}", "a".repeat(crate::http::MAX_RESPONSE_BODY));
        for body in [
            "",
            "<html>ok</html>",
            r#"{"access_token": "ya29.x", "expires_in": 35"#,
            r#"{"expires_in": 3599}"#,
            r#"{"access_token": "ya29.x"}"#,
            r#"{"access_token": 7, "expires_in": 3599}"#,
            r#"{"access_token": "ya29.x", "expires_in": true}"#,
            r#"{"access_token": "", "expires_in": 3599}"#,
            big.as_str(),
        ] {
            assert_eq!(parse_exchange(&resp(200, body), 0).unwrap_err().kind(), "malformed-response", "{body:.60}");
        }
    }
}
