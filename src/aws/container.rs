//! AWS container credentials: the endpoint ECS tasks and EKS Pod Identity
//! give a workload (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` /
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with an authorization token from
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`), as the AWS SDKs and Tools reference
//! guide ("Container credential provider") describes them.
//!
//! The authorization token is a credential, so a full URI may only name a
//! host the SDKs allow: the ECS endpoint `169.254.170.2`, the EKS Pod
//! Identity agent `169.254.170.23` / `[fd00:ec2::23]`, or a loopback
//! address. Anything else is refused rather than sent the token.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::local_endpoint::{LocalEndpoint, is_loopback};
use crate::response::{ErrorFormat, json_object};
use crate::secret::Secret;

/// The ECS credentials endpoint a relative URI is resolved against.
pub const ECS_BASE: &str = "http://169.254.170.2";
/// The EKS Pod Identity agent (IPv4).
const EKS_IPV4: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 23);
/// The ECS endpoint (IPv4).
const ECS_IPV4: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 2);
/// The EKS Pod Identity agent (IPv6), `fd00:ec2::23`.
const EKS_IPV6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x23);

/// A validated container credentials endpoint.
pub type Endpoint = LocalEndpoint;

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`: a path on the ECS endpoint.
pub fn relative(path: &str) -> Result<Endpoint> {
    let bad = |why: &str| {
        Error::invalid(format!("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {path:?} is not a valid relative URI: {why}"))
    };
    if !path.starts_with('/') {
        return Err(bad("it must start with /"));
    }
    LocalEndpoint::parse(&format!("{ECS_BASE}{path}"), |h| h == "169.254.170.2").map_err(bad)
}

/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`: `http(s)://host[:port]/path`, the
/// host one the SDKs allow.
pub fn full(uri: &str) -> Result<Endpoint> {
    LocalEndpoint::parse(uri, is_allowed_host).map_err(|why| {
        Error::invalid(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI {uri:?} is not allowed: {why} (the host must be 169.254.170.2 (ECS), 169.254.170.23 or [fd00:ec2::23] (EKS Pod Identity), or a loopback address)"
        ))
    })
}

/// The hosts the SDKs send the authorization token to.
fn is_allowed_host(host: &str) -> bool {
    if is_loopback(host) {
        return true;
    }
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip == EKS_IPV6);
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip == ECS_IPV4 || ip == EKS_IPV4)
}

/// The authorization token: one line (the Go SDK refuses a token with CR or
/// LF), not empty. `what` names where it came from.
pub fn check_token(token: &Secret, what: &str) -> Result<()> {
    let value = token.expose();
    if value.is_empty() {
        return Err(Error::invalid(format!("AWS container credentials: {what} is empty")));
    }
    if value.contains(['\r', '\n']) || value.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::invalid(format!(
            "AWS container credentials: {what} contains a newline or control character"
        )));
    }
    Ok(())
}

/// `GET <endpoint>` with `Authorization: <token>` when there is one.
pub fn request(endpoint: &Endpoint, token: Option<&Secret>) -> Result<HttpRequest> {
    let request = HttpRequest::get(endpoint.url.clone()).header("Accept", "application/json")?;
    match token {
        Some(token) => {
            check_token(token, "the authorization token")?;
            request.header("Authorization", token.expose())
        }
        None => Ok(request),
    }
}

/// The credentials document: `AccessKeyId`, `SecretAccessKey`, `Token`,
/// `Expiration` (RFC 3339). Errors are `{"code", "message"}`.
pub fn parse(response: &HttpResponse) -> Result<AwsCredentials> {
    let doc = json_object(response, ErrorFormat::AwsJson)?;
    super::credentials_document::read(&doc, "the container credentials")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uri() {
        let e = relative("/v2/credentials/5a2f-uuid").unwrap();
        assert_eq!(e.url, "http://169.254.170.2/v2/credentials/5a2f-uuid");
        assert!(e.same_origin("http://169.254.170.2/other"));
        for bad in ["v2/credentials", "", "/a b", "/a\r\nX: y", "@evil.example/x"] {
            assert_eq!(relative(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn full_uri_hosts() {
        for ok in [
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://[FD00:EC2:0::23]:80/v1/credentials",
            "http://169.254.170.2/creds",
            "http://127.0.0.1:8080/creds",
            "http://127.1.2.3/creds",
            "http://[::1]:9000/creds",
            "http://localhost/creds",
            "https://localhost:8443/creds",
        ] {
            assert!(full(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://169.254.169.254/latest",
            "http://169.254.170.24/v1/credentials",
            "http://evil.example/creds",
            "http://169.254.170.23.evil.example/creds",
            "http://user@169.254.170.23/creds",
            "http://evil.example@169.254.170.23/creds",
            "http://169.254.170.23\\@evil.example/creds",
            "ftp://169.254.170.23/creds",
            "169.254.170.23/creds",
            "http://[fd00:ec2::24]/creds",
            "http://10.0.0.1/creds",
            "http://0.0.0.0/creds",
            "http://169.254.170.23/a b",
            "http://localhost.evil.example/creds",
        ] {
            assert_eq!(full(bad).unwrap_err().kind(), "invalid-input", "{bad}");
        }
    }

    #[test]
    fn requests() {
        let e = full("http://169.254.170.23/v1/credentials").unwrap();
        let r = request(&e, Some(&Secret::new("eyJhbGciOi.token.sig"))).unwrap();
        assert_eq!((r.method, r.url.as_str()), ("GET", "http://169.254.170.23/v1/credentials"));
        assert_eq!(r.header_value("Authorization"), Some("eyJhbGciOi.token.sig"));
        let r = request(&e, None).unwrap();
        assert_eq!(r.header_value("Authorization"), None);
        for bad in ["", "a\nb", "a\r", "t\n"] {
            assert_eq!(request(&e, Some(&Secret::new(bad))).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn responses() {
        let ok = r#"{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s","Token":"t","AccountId":"123456789012","Expiration":"2024-01-15T18:00:00Z"}"#;
        let c = parse(&HttpResponse::new(200, ok)).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.expires_at), ("ASIAEXAMPLE", Some(1_705_341_600)));
        assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("t"));
        for bad in [
            r#"{"SecretAccessKey":"s","Token":"t","Expiration":"2024-01-15T18:00:00Z"}"#,
            r#"{"AccessKeyId":"a","SecretAccessKey":"s","Token":"t"}"#,
            r#"{"AccessKeyId":"a","SecretAccessKey":"s","Token":"t","Expiration":"soon"}"#,
            "not json",
        ] {
            assert_eq!(parse(&HttpResponse::new(200, bad)).unwrap_err().kind(), "malformed-response", "{bad}");
        }
        let denied = r#"{"code":"AccessDeniedException","message":"denied"}"#;
        assert_eq!(parse(&HttpResponse::new(403, denied)).unwrap_err().kind(), "http-status");
    }
}
