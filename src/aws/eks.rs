//! EKS bearer tokens, as `aws eks get-token` makes them.
//!
//! The token is a presigned STS `GetCallerIdentity` URL: the cluster's
//! authenticator replays it to learn who signed it. The cluster name is
//! bound into the signature through the signed `x-k8s-aws-id` header, which
//! the authenticator adds back when it replays the URL, so a token for one
//! cluster is useless for another.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::sigv4::{self, SigningParams};
use crate::credentials::{AccessToken, AwsCredentials};
use crate::error::{Error, Result, quoted};
use crate::http::HttpRequest;
use crate::secret::Secret;

/// The token's version prefix.
const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header that names the cluster.
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// The presigned URL's lifetime, as awscli sets it (`URL_TIMEOUT`).
const URL_EXPIRES_IN: u32 = 60;

/// How long awscli says the token lasts (`TOKEN_EXPIRATION_MINS`): the
/// authenticator accepts a presigned URL for 15 minutes whatever it says.
const TOKEN_LIFETIME: i64 = 14 * 60;

/// The longest EKS cluster name.
const MAX_CLUSTER_NAME: usize = 100;

/// The EKS token for `cluster`, signed at `now` for the region's STS endpoint.
pub fn token(
    cluster: &str,
    region: &str,
    credentials: &AwsCredentials,
    now: i64,
    endpoint: EndpointOptions,
) -> Result<AccessToken> {
    check_cluster_name(cluster)?;
    let sts = endpoint::resolve(Service::Sts, region, endpoint)?;
    let expires_at = now.checked_add(TOKEN_LIFETIME).ok_or_else(|| Error::invalid("now is out of range"))?;
    // botocore moves the query-protocol body into the URL, then appends the
    // presigning parameters after it.
    let request = HttpRequest::get(format!("{}/?Action=GetCallerIdentity&Version=2011-06-15", sts.url))
        .header(CLUSTER_ID_HEADER, cluster)?;
    let signing = SigningParams {
        credentials,
        region: &sts.signing_region,
        service: Service::Sts.signing_name(),
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    };
    let presigned = sigv4::presign(&request, &signing, URL_EXPIRES_IN)?;
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(presigned.request.url));
    Ok(AccessToken { token: Secret::new(token), expires_at })
}

/// EKS cluster names: 1 to 100 of `[0-9A-Za-z][A-Za-z0-9-_]*`.
pub(crate) fn check_cluster_name(name: &str) -> Result<()> {
    let valid = (1..=MAX_CLUSTER_NAME).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Error::invalid(format!("{} is not an EKS cluster name", quoted(name))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_705_320_000;

    fn credentials(session: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: session.map(Secret::new),
            expires_at: None,
        }
    }

    fn url_of(token: &AccessToken) -> String {
        let encoded = token.token.expose().strip_prefix(TOKEN_PREFIX).unwrap();
        String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
    }

    /// The awscli 1.46.3 capture `us-east-1-no-session-token`.
    #[test]
    fn matches_aws_eks_get_token() {
        let t = token("my-cluster", "us-east-1", &credentials(None), NOW, EndpointOptions::default()).unwrap();
        assert_eq!(t.expires_at, NOW + 840);
        assert_eq!(
            t.token.expose(),
            "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjQwMTE1JTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDAxMTVUMTIwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9MWE3MzU4YzI0Y2JiOWVmZjQ5MDU4YjYxZWI0OTZlNjFlZWNiMjAxOGJjM2UwZGNiMTRmN2NlMDEwMWQ5Yzk2ZA"
        );
    }

    /// With a session token, `X-Amz-Security-Token` comes right after
    /// `X-Amz-SignedHeaders`, as botocore orders the presigning parameters.
    #[test]
    fn session_token_in_botocore_order() {
        let t =
            token("my-cluster", "us-west-2", &credentials(Some("a/b+c=")), NOW, EndpointOptions::default()).unwrap();
        let url = url_of(&t);
        let names: Vec<&str> =
            url.split_once('?').unwrap().1.split('&').map(|p| p.split_once('=').unwrap().0).collect();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-SignedHeaders",
                "X-Amz-Security-Token",
                "X-Amz-Signature"
            ]
        );
        assert!(url.starts_with("https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"));
        assert!(url.contains("&X-Amz-Security-Token=a%2Fb%2Bc%3D&"));
        assert!(url.contains("&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&"));
        assert!(!format!("{t:?}").contains("X-Amz"));
    }

    #[test]
    fn endpoint_options_choose_the_sts_host_and_signing_region() {
        let legacy = EndpointOptions { legacy: true, ..Default::default() };
        let url = url_of(&token("c", "eu-west-1", &credentials(None), NOW, legacy).unwrap());
        assert!(url.starts_with("https://sts.amazonaws.com/?"), "{url}");
        assert!(url.contains("%2Fus-east-1%2Fsts%2Faws4_request"), "{url}");
        let fips = EndpointOptions { fips: true, ..Default::default() };
        let url = url_of(&token("c", "us-east-2", &credentials(None), NOW, fips).unwrap());
        assert!(url.starts_with("https://sts-fips.us-east-2.amazonaws.com/?"), "{url}");
    }

    #[test]
    fn cluster_names() {
        for ok in ["a", "my-cluster", "Prod_2", "0abc", &"x".repeat(100)] {
            assert!(check_cluster_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", "a.b", "a b", "a/b", "a\r\nb", "ä", &"x".repeat(101)] {
            let err = token(bad, "us-east-1", &credentials(None), NOW, EndpointOptions::default()).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn invalid_inputs() {
        let kind = |region: &str, creds: &AwsCredentials, now: i64| {
            token("c", region, creds, now, EndpointOptions::default()).unwrap_err().kind()
        };
        for region in ["", "us-east-1.evil.com", "Us-east-1"] {
            assert_eq!(kind(region, &credentials(None), NOW), "invalid-input", "{region:?}");
        }
        assert_eq!(kind("us-east-1", &credentials(None), i64::MAX), "invalid-input");
        assert_eq!(kind("us-east-1", &credentials(None), -1), "invalid-input");
        let mut crlf = credentials(Some("token\r\nX-Evil: 1"));
        assert_eq!(kind("us-east-1", &crlf, NOW), "invalid-input");
        crlf.session_token = None;
        crlf.access_key_id = "AKID\nX".into();
        assert_eq!(kind("us-east-1", &crlf, NOW), "invalid-input");
    }
}
