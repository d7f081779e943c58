//! EC2 instance metadata (IMDSv2) role credentials, the last link of the
//! AWS SDKs' default chain: a session token from `PUT /latest/api/token`,
//! then the instance profile's role name, then its credentials.
//!
//! Only the AWS session flow uses these requests, so they live here rather
//! than with the general AWS request builders.

use crate::aws::credentials_document;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, json_object, opt_str, success_body};
use crate::secret::Secret;

/// The metadata service, link-local, plain HTTP by design.
pub const BASE_URL: &str = "http://169.254.169.254";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// The session token lifetime the Go SDK asks for (6 hours).
const TOKEN_TTL_SECONDS: &str = "21600";
/// Longest IMDS session token accepted.
const MAX_TOKEN: usize = 4096;

/// `PUT /latest/api/token`: a session token for the next two requests.
pub fn token_request() -> Result<HttpRequest> {
    let request =
        HttpRequest { method: "PUT", url: format!("{BASE_URL}{TOKEN_PATH}"), headers: Vec::new(), body: Vec::new() };
    request.header("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)
}

/// The session token: the whole body, one line of visible characters.
pub fn parse_token(response: &HttpResponse) -> Result<Secret> {
    let body = text(response)?;
    if body.is_empty() || body.len() > MAX_TOKEN || !body.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::malformed("the IMDS session token is empty, too long or not plain text"));
    }
    Ok(Secret::new(body))
}

/// `GET .../security-credentials/`: the instance profile's role name.
pub fn role_request(token: &Secret) -> Result<HttpRequest> {
    HttpRequest::get(format!("{BASE_URL}{CREDENTIALS_PATH}")).header("X-aws-ec2-metadata-token", token.expose())
}

/// The role name: the first line, an IAM role name (`[\w+=,.@-]{1,64}`),
/// since it becomes a path segment of the next request.
pub fn parse_role(response: &HttpResponse) -> Result<String> {
    let body = text(response)?;
    let role = body.lines().next().unwrap_or_default().trim();
    let ok =
        (1..=64).contains(&role.len()) && role.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !ok {
        return Err(Error::malformed("IMDS gave no valid instance profile role name"));
    }
    Ok(role.to_owned())
}

/// `GET .../security-credentials/<role>`: the role's temporary credentials.
pub fn credentials_request(token: &Secret, role: &str) -> Result<HttpRequest> {
    HttpRequest::get(format!("{BASE_URL}{CREDENTIALS_PATH}{role}")).header("X-aws-ec2-metadata-token", token.expose())
}

/// Parses the credentials document (`Code` must be `Success`).
pub fn parse_credentials(response: &HttpResponse) -> Result<AwsCredentials> {
    let doc = json_object(response, ErrorFormat::AwsJson)?;
    if opt_str(&doc, "Code")? != Some("Success") {
        return Err(Error::malformed("IMDS credentials document does not say Code: Success"));
    }
    credentials_document::read(&doc, "IMDS credentials")
}

fn text(response: &HttpResponse) -> Result<String> {
    let body = success_body(response, ErrorFormat::AwsJson)?;
    String::from_utf8(body.to_vec()).map_err(|_| Error::malformed("IMDS answered with a body that is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn requests() {
        let put = token_request().unwrap();
        assert_eq!((put.method, put.url.as_str()), ("PUT", "http://169.254.169.254/latest/api/token"));
        assert_eq!(put.header_value("x-aws-ec2-metadata-token-ttl-seconds"), Some("21600"));
        let token = Secret::new("AQAEAtoken==");
        let get = role_request(&token).unwrap();
        assert_eq!(get.url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
        assert_eq!(get.header_value("X-aws-ec2-metadata-token"), Some("AQAEAtoken=="));
        let get = credentials_request(&token, "node-role").unwrap();
        assert_eq!(get.url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/node-role");
        assert!(role_request(&Secret::new("a\r\nX: y")).is_err());
    }

    #[test]
    fn responses() {
        assert_eq!(parse_token(&resp(200, "AQAEAtoken==")).unwrap().expose(), "AQAEAtoken==");
        assert!(parse_token(&resp(200, "")).is_err());
        assert!(parse_token(&resp(200, "a b")).is_err());
        assert_eq!(parse_token(&resp(403, "Forbidden")).unwrap_err().kind(), "http-status");
        assert_eq!(parse_role(&resp(200, "node-role\nother")).unwrap(), "node-role");
        for bad in ["", "../../x", "a/b", "role?x", &"r".repeat(65)] {
            assert_eq!(parse_role(&resp(200, bad)).unwrap_err().kind(), "malformed-response", "{bad:?}");
        }
        let ok = r#"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t","Expiration":"2024-01-15T18:00:00Z"}"#;
        let c = parse_credentials(&resp(200, ok)).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.expires_at), ("ASIA1", Some(1_705_341_600)));
        for bad in [
            r#"{"Code":"Failure","AccessKeyId":"a","SecretAccessKey":"s","Token":"t","Expiration":"2024-01-15T18:00:00Z"}"#,
            r#"{"Code":"Success","SecretAccessKey":"s","Token":"t","Expiration":"2024-01-15T18:00:00Z"}"#,
            r#"{"Code":"Success","AccessKeyId":"a","SecretAccessKey":"s","Token":"t","Expiration":"soon"}"#,
            "not json",
        ] {
            assert_eq!(parse_credentials(&resp(200, bad)).unwrap_err().kind(), "malformed-response", "{bad}");
        }
    }
}
