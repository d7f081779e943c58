//! ECR and ECR Public GetAuthorizationToken: AWS credentials traded for a
//! docker login (`AWS` and a 12-hour password).
//!
//! The request is an AWS JSON 1.1 call signed with SigV4, byte for byte as
//! botocore sends it: the body is written by hand in `json.dumps`' spelling
//! (`", "` and `": "` separators), because the signature covers those bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::sigv4::{self, SigningParams};
use crate::credentials::{AwsCredentials, RegistryCredentials};
use crate::error::{Error, Result, quoted};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, json_body, optional_field};
use crate::secret::Secret;
use crate::time::DateTime;

/// The AWS JSON protocol version both services speak.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// `X-Amz-Target` of private ECR's GetAuthorizationToken.
const PRIVATE_TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";

/// `X-Amz-Target` of ECR Public's GetAuthorizationToken.
const PUBLIC_TARGET: &str = "SpencerFrontendService.GetAuthorizationToken";

/// The regions ECR Public's API runs in (botocore's `endpoints.json`).
const ECR_PUBLIC_REGIONS: &[&str] = &["us-east-1", "us-west-2"];

/// GetAuthorizationToken parameters.
#[derive(Clone, Debug)]
pub struct EcrTokenParams<'a> {
    pub region: &'a str,
    pub credentials: &'a AwsCredentials,
    /// Private ECR only: the registries (12-digit accounts) to get tokens for.
    pub registry_ids: &'a [String],
    /// ECR Public instead of private ECR.
    pub public: bool,
    pub endpoint: EndpointOptions,
}

/// The SigV4-signed GetAuthorizationToken request, signed at `now`.
pub fn token_request(params: &EcrTokenParams<'_>, now: i64) -> Result<HttpRequest> {
    let (service, target) = if params.public {
        // The region's shape first: a malformed region is the caller's
        // mistake (invalid-input), not a region ECR Public lacks.
        endpoint::resolve(Service::EcrPublic, params.region, params.endpoint)?;
        check_public(params)?;
        (Service::EcrPublic, PUBLIC_TARGET)
    } else {
        (Service::Ecr, PRIVATE_TARGET)
    };
    let body = request_body(params.registry_ids)?;
    let endpoint = endpoint::resolve(service, params.region, params.endpoint)?;
    let mut request = HttpRequest::post(format!("{}/", endpoint.url))
        .header("X-Amz-Target", target)?
        .header("Content-Type", CONTENT_TYPE)?;
    request.body = body.into_bytes();
    let signing = SigningParams {
        credentials: params.credentials,
        region: &endpoint.signing_region,
        service: service.signing_name(),
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    };
    Ok(sigv4::sign(&request, &signing)?.request)
}

/// ECR Public takes no input and serves from two regions only.
fn check_public(params: &EcrTokenParams<'_>) -> Result<()> {
    if !params.registry_ids.is_empty() {
        return Err(Error::invalid("ECR Public takes no registry ids"));
    }
    if !ECR_PUBLIC_REGIONS.contains(&params.region) {
        return Err(Error::unsupported(format!(
            "ECR Public has no API in region {} (only us-east-1 and us-west-2)",
            quoted(params.region)
        )));
    }
    Ok(())
}

/// `{}`, or `{"registryIds": ["123456789012", ...]}` as `json.dumps` writes it.
/// Registry ids are checked to be 12 digits, so they need no JSON escaping.
fn request_body(registry_ids: &[String]) -> Result<String> {
    if registry_ids.is_empty() {
        return Ok("{}".to_owned());
    }
    for id in registry_ids {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(format!("registry id {} is not a 12-digit account id", quoted(id))));
        }
    }
    let quoted: Vec<String> = registry_ids.iter().map(|id| format!("\"{id}\"")).collect();
    Ok(format!("{{\"registryIds\": [{}]}}", quoted.join(", ")))
}

/// One entry of `authorizationData`: the token and its expiry (Unix
/// seconds, with a fraction), each optional.
struct AuthorizationData<'a> {
    authorization_token: Option<&'a str>,
    expires_at: Option<f64>,
}

/// Reads an `authorizationData` entry. Looked up in a `Value` rather than
/// derived: the same checks, in less component (docs/size.md). A field that
/// is there but of the wrong type is an error, `null` is absent.
fn authorization_data(entry: &Value) -> Result<AuthorizationData<'_>> {
    let mistyped = |name: &str| Error::malformed(format!("{name} in authorizationData has the wrong type"));
    if !entry.is_object() {
        return Err(Error::malformed("an authorizationData entry is not an object"));
    }
    let authorization_token =
        optional_field(entry, "authorizationToken", Value::as_str).map_err(|_| mistyped("authorizationToken"))?;
    let expires_at = optional_field(entry, "expiresAt", Value::as_f64).map_err(|_| mistyped("expiresAt"))?;
    Ok(AuthorizationData { authorization_token, expires_at })
}

/// Parses a GetAuthorizationToken response into docker credentials. Every
/// entry of a private response carries the same token, so the first is
/// used (all are checked). ECR Public answers with a single object.
pub fn parse_token(response: &HttpResponse, public: bool) -> Result<RegistryCredentials> {
    let body: Value = json_body(response, ErrorFormat::AwsJson)?;
    let field = body.get("authorizationData");
    let data = if public {
        authorization_data(field.ok_or_else(|| Error::malformed("no authorizationData in the response"))?)?
    } else {
        let entries =
            field.and_then(Value::as_array).ok_or_else(|| Error::malformed("authorizationData is not a list"))?;
        let mut entries = entries.iter().map(authorization_data);
        let first = entries.next().ok_or_else(|| Error::malformed("authorizationData is empty"))??;
        for entry in entries {
            entry?;
        }
        first
    };
    let token = data.authorization_token.ok_or_else(|| Error::malformed("no authorizationToken in the response"))?;
    let (username, password) = decode_token(token)?;
    let expires_at = data.expires_at.map(expiry).transpose()?;
    Ok(RegistryCredentials { username, password, expires_at })
}

/// `base64("<user>:<password>")`, as docker's basic auth. Like fluxcd/pkg,
/// exactly one colon: the password is itself base64 and never has one.
fn decode_token(token: &str) -> Result<(String, Secret)> {
    let bytes = STANDARD.decode(token).map_err(|_| Error::malformed("authorizationToken is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::malformed("authorizationToken is not UTF-8"))?;
    let (user, password) =
        text.split_once(':').ok_or_else(|| Error::malformed("authorizationToken is not <user>:<password>"))?;
    if user.is_empty() || password.is_empty() || password.contains(':') {
        return Err(Error::malformed("authorizationToken is not <user>:<password>"));
    }
    if crate::http::has_control(&text) {
        return Err(Error::malformed("authorizationToken contains control characters"));
    }
    Ok((user.to_owned(), Secret::new(password)))
}

/// `expiresAt` in whole Unix seconds; it must be a time the component can represent.
fn expiry(secs: f64) -> Result<i64> {
    let out_of_range = || Error::malformed("expiresAt is out of range");
    if !(0.0..1e15).contains(&secs) {
        return Err(out_of_range());
    }
    let whole = secs.trunc() as i64;
    DateTime::from_unix(whole).map_err(|_| out_of_range())?;
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(session: bool) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: session.then(|| Secret::new("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")),
            expires_at: None,
        }
    }

    const NOW: i64 = 1_705_320_000;

    fn params<'a>(creds: &'a AwsCredentials, region: &'a str, ids: &'a [String]) -> EcrTokenParams<'a> {
        EcrTokenParams {
            region,
            credentials: creds,
            registry_ids: ids,
            public: false,
            endpoint: EndpointOptions::default(),
        }
    }

    fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
        req.header_value(name)
    }

    #[test]
    fn bodies_as_botocore_writes_them() {
        assert_eq!(request_body(&[]).unwrap(), "{}");
        assert_eq!(request_body(&["123456789012".into()]).unwrap(), r#"{"registryIds": ["123456789012"]}"#);
        assert_eq!(
            request_body(&["123456789012".into(), "210987654321".into()]).unwrap(),
            r#"{"registryIds": ["123456789012", "210987654321"]}"#
        );
        for bad in ["12345678901", "1234567890123", "12345678901a", "123456789012\"", "", "１２３４５６７８９０１２"]
        {
            assert_eq!(request_body(&[bad.to_owned()]).unwrap_err().kind(), "invalid-input", "{bad}");
        }
    }

    /// The botocore capture `ecr-us-east-1-registry_ids` (signed at 2024-01-15T12:00:00Z).
    #[test]
    fn private_request_matches_botocore() {
        let creds = credentials(true);
        let ids = ["123456789012".to_owned()];
        let req = token_request(&params(&creds, "us-east-1", &ids), NOW).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://api.ecr.us-east-1.amazonaws.com/");
        assert_eq!(req.body, br#"{"registryIds": ["123456789012"]}"#);
        assert_eq!(header(&req, "X-Amz-Target"), Some(PRIVATE_TARGET));
        assert_eq!(header(&req, "Content-Type"), Some(CONTENT_TYPE));
        assert_eq!(header(&req, "X-Amz-Date"), Some("20240115T120000Z"));
        assert_eq!(header(&req, "X-Amz-Security-Token"), creds.session_token.as_ref().map(Secret::expose));
        assert_eq!(
            header(&req, "Authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ecr/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
                 Signature=e0070a466ca35fc417d16dafff529e51e5f8f3dcc179a7cbd79f4869252eb788"
            )
        );
    }

    /// The botocore capture `ecr-public-us-east-1-no-session-token`.
    #[test]
    fn public_request_matches_botocore() {
        let creds = credentials(false);
        let p = EcrTokenParams { public: true, ..params(&creds, "us-east-1", &[]) };
        let req = token_request(&p, NOW).unwrap();
        assert_eq!(req.url, "https://api.ecr-public.us-east-1.amazonaws.com/");
        assert_eq!(req.body, b"{}");
        assert_eq!(header(&req, "X-Amz-Target"), Some(PUBLIC_TARGET));
        assert_eq!(header(&req, "X-Amz-Security-Token"), None);
        assert_eq!(
            header(&req, "Authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ecr-public/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                 Signature=f64bc4ad6e853ff20e4a0a94ff4ac6c1416c18814b39c6043ef6270dbd7da585"
            )
        );
    }

    /// The botocore capture `ecr-us-gov-east-1-fips-no-session-token`.
    #[test]
    fn fips_request_matches_botocore() {
        let creds = credentials(false);
        let p = EcrTokenParams {
            endpoint: EndpointOptions { fips: true, ..Default::default() },
            ..params(&creds, "us-gov-east-1", &[])
        };
        let req = token_request(&p, NOW).unwrap();
        assert_eq!(req.url, "https://api.ecr-fips.us-gov-east-1.amazonaws.com/");
        assert!(
            header(&req, "Authorization")
                .unwrap()
                .ends_with("Signature=1d73d48594652ab01875c51aa556b81692c459422f08c212d51f49da91f39e27")
        );
    }

    #[test]
    fn invalid_requests() {
        let creds = credentials(true);
        let ids = ["123456789012".to_owned()];
        let bad_ids = ["1234".to_owned()];
        let public_with_ids = EcrTokenParams { public: true, ..params(&creds, "us-east-1", &ids) };
        assert_eq!(token_request(&public_with_ids, NOW).unwrap_err().kind(), "invalid-input");
        let public_elsewhere = EcrTokenParams { public: true, ..params(&creds, "eu-west-1", &[]) };
        assert_eq!(token_request(&public_elsewhere, NOW).unwrap_err().kind(), "unsupported");
        assert_eq!(token_request(&params(&creds, "us-east-1", &bad_ids), NOW).unwrap_err().kind(), "invalid-input");
        let mut crlf = credentials(true);
        crlf.session_token = Some(Secret::new("token\r\nX-Evil: 1"));
        assert_eq!(token_request(&params(&crlf, "us-east-1", &[]), NOW).unwrap_err().kind(), "invalid-input");
        let mut crlf = credentials(false);
        crlf.access_key_id = "AKID\r\nX-Evil: 1".into();
        assert_eq!(token_request(&params(&crlf, "us-east-1", &[]), NOW).unwrap_err().kind(), "invalid-input");
        for region in ["us-east-1.evil.com", "", "US-EAST-1", "us-east-1\r\n"] {
            assert_eq!(
                token_request(&params(&creds, region, &[]), NOW).unwrap_err().kind(),
                "invalid-input",
                "{region:?}"
            );
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    fn encoded(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn parses_private_and_public_responses() {
        let token = encoded("AWS:cGFzc3dvcmQ=");
        let private = format!(
            r#"{{"authorizationData": [{{"authorizationToken": "{token}", "expiresAt": 1705406400.5, "proxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}}]}}"#
        );
        let c = parse_token(&resp(200, &private), false).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose(), c.expires_at),
            ("AWS", "cGFzc3dvcmQ=", Some(1_705_406_400))
        );
        assert!(!format!("{c:?}").contains("cGFzc3dvcmQ"));

        let public =
            format!(r#"{{"authorizationData": {{"authorizationToken": "{token}", "expiresAt": 1705406400}}}}"#);
        let c = parse_token(&resp(200, &public), true).unwrap();
        assert_eq!((c.username.as_str(), c.expires_at), ("AWS", Some(1_705_406_400)));

        let no_expiry = format!(r#"{{"authorizationData": [{{"authorizationToken": "{token}"}}]}}"#);
        assert_eq!(parse_token(&resp(200, &no_expiry), false).unwrap().expires_at, None);
    }

    #[test]
    fn malformed_responses() {
        let token = encoded("AWS:SECRETPW");
        let good_private =
            format!(r#"{{"authorizationData": [{{"authorizationToken": "{token}", "expiresAt": 1705406400.0}}]}}"#);
        let good_public =
            format!(r#"{{"authorizationData": {{"authorizationToken": "{token}", "expiresAt": 1705406400.0}}}}"#);
        let entry =
            |t: &str, e: &str| format!(r#"{{"authorizationData": [{{"authorizationToken": {t}, "expiresAt": {e}}}]}}"#);
        let cases: Vec<(String, bool)> = vec![
            (r#"{"authorizationData": []}"#.into(), false),
            (r#"{"authorizationData": null}"#.into(), false),
            (r#"{}"#.into(), false),
            ("".into(), false),
            (good_private[..good_private.len() - 5].to_owned(), false),
            ("<xml/>".into(), false),
            (good_public.clone(), false),
            (good_private.clone(), true),
            (entry("\"not base64!\"", "1"), false),
            (entry(&format!("\"{}\"", encoded("AWSSECRETPW")), "1"), false),
            (entry(&format!("\"{}\"", encoded(":SECRETPW")), "1"), false),
            (entry(&format!("\"{}\"", encoded("AWS:")), "1"), false),
            (entry(&format!("\"{}\"", encoded("AWS:SEC:RETPW")), "1"), false),
            (entry(&format!("\"{}\"", encoded("AWS:SECRET\r\nPW")), "1"), false),
            (entry(&format!("\"{}\"", STANDARD.encode([0x41, 0x3a, 0xff])), "1"), false),
            (entry("null", "1"), false),
            (entry("5", "1"), false),
            (entry(&format!("\"{token}\""), "\"tomorrow\""), false),
            (entry(&format!("\"{token}\""), "-1"), false),
            (entry(&format!("\"{token}\""), "1e300"), false),
            (entry(&format!("\"{token}\""), "253402300800"), false),
            (entry(&format!("\"{token}\""), "[]"), false),
            // Every entry is checked, as a typed parse would, not only the first.
            (format!(r#"{{"authorizationData": [{{"authorizationToken": "{token}"}}, {{"expiresAt": "x"}}]}}"#), false),
            (format!(r#"{{"authorizationData": [{{"authorizationToken": "{token}"}}, 7]}}"#), false),
            (r#"{"authorizationData": ["x"]}"#.into(), false),
            (r#"{"authorizationData": 5}"#.into(), true),
            (r#"[]"#.into(), true),
        ];
        for (body, public) in &cases {
            let err = parse_token(&resp(200, body), *public).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body} public={public}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        let oversized =
            HttpResponse { status: 200, headers: vec![], body: vec![b' '; crate::http::MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_token(&oversized, false).unwrap_err().kind(), "malformed-response");
    }

    #[test]
    fn error_responses() {
        let body = r#"{"__type": "AccessDeniedException", "message": "User is not authorized to perform: ecr:GetAuthorizationToken"}"#;
        match parse_token(&resp(400, body), false).unwrap_err() {
            Error::HttpStatus { status, code, .. } => {
                assert_eq!((status, code.as_deref()), (400, Some("AccessDeniedException")))
            }
            other => panic!("{other:?}"),
        }
        match parse_token(&resp(500, "<html>oops"), true).unwrap_err() {
            Error::HttpStatus { status, code, .. } => assert_eq!((status, code), (500, None)),
            other => panic!("{other:?}"),
        }
    }
}
