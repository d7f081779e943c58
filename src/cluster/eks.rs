//! EKS: the cluster ARN, the `DescribeCluster` call Flux makes when the API
//! server address or CA is not given, and the REST config's lifetime.
//!
//! Flux (`auth/aws/provider.go`, `NewRESTConfig`) always needs the ARN: its
//! region is the STS region of the AWS credentials and of the token, its
//! name goes into the token ([`crate::aws::eks::token`]) and the lookup.
//! `DescribeCluster` is `GET /clusters/<name>` on the regional EKS endpoint
//! ([`endpoint::resolve`] with [`Service::Eks`]), SigV4-signed for service
//! `eks` with the credentials; the answer's `cluster.endpoint` and
//! `cluster.certificateAuthority.data` (base64 PEM) fill in what is missing.

use serde_json::Value;

use super::{Discovered, decode_ca_data, discovered_address, quote, wrap_error};
use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::partition;
use crate::aws::sigv4::{self, SigningParams};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, json_object, opt_object, opt_str};

/// Flux's pattern for the ARN, quoted in its error message. cloudauth checks
/// each part more strictly (see [`ClusterArn::parse`]).
const CLUSTER_PATTERN: &str = r"^arn:aws[\w-]*:eks:([^:]{1,100}):[0-9]{1,30}:cluster/(.{1,200})$";

/// How long Flux says an EKS REST config lasts: 15 minutes, the life of the
/// presigned token as the EKS authenticator enforces it (the EKS
/// best-practices guide, which Flux cites).
pub const REST_CONFIG_LIFETIME: i64 = 15 * 60;

/// An EKS cluster ARN: `arn:<partition>:eks:<region>:<account>:cluster/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterArn {
    arn: String,
    partition: &'static str,
    region: String,
    account_id: String,
    name: String,
}

impl ClusterArn {
    /// Parses an ARN. The region must be a region name of a known partition
    /// and the partition must be that region's (the region picks the hosts
    /// the credentials and token go to); the account is 12 digits; the name
    /// follows EKS's rules (1 to 100 of letters, digits, `-_`, starting
    /// alphanumeric), so it can go into the request path as is.
    pub fn parse(arn: &str) -> Result<Self> {
        let shape =
            || Error::invalid(format!("invalid EKS cluster ARN: '{}'. must match {CLUSTER_PATTERN}", quote(arn)));
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition_id, "eks", region, account_id, resource] = parts.as_slice() else {
            return Err(shape());
        };
        let name = resource.strip_prefix("cluster/").ok_or_else(shape)?;
        let bad = |why: &str| Error::invalid(format!("invalid EKS cluster ARN: '{}': {why}", quote(arn)));
        let partition = partition::for_region(region).ok_or_else(|| bad("the region is not an AWS region name"))?;
        if partition.id != *partition_id {
            return Err(bad(&format!("region {region} is in partition {}", partition.id)));
        }
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the account ID is not 12 digits"));
        }
        crate::aws::eks::check_cluster_name(name).map_err(|_| bad("the cluster name is not valid"))?;
        Ok(ClusterArn {
            arn: arn.to_owned(),
            partition: partition.id,
            region: (*region).to_owned(),
            account_id: (*account_id).to_owned(),
            name: name.to_owned(),
        })
    }

    /// The partition id (`aws`, `aws-cn`, ...).
    pub fn partition(&self) -> &'static str {
        self.partition
    }

    /// The region: the STS region of the flow, and the EKS endpoint's.
    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The cluster name, as the token and the lookup take it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
}

/// The SigV4-signed `DescribeCluster` request for the cluster, signed at
/// `now` with the credentials of the flow, as botocore sends it.
pub fn describe_cluster_request(
    arn: &ClusterArn,
    credentials: &AwsCredentials,
    now: i64,
    options: EndpointOptions,
) -> Result<HttpRequest> {
    let endpoint = endpoint::resolve(Service::Eks, &arn.region, options)?;
    let request = HttpRequest::get(format!("{}/clusters/{}", endpoint.url, arn.name));
    let signing = SigningParams {
        credentials,
        region: &endpoint.signing_region,
        service: Service::Eks.signing_name(),
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    };
    Ok(sigv4::sign(&request, &signing)?.request)
}

/// The fields of `cluster` in a `DescribeCluster` response that are read.
struct EksCluster<'a> {
    endpoint: Option<&'a str>,
    /// `certificateAuthority.data`.
    ca_data: Option<&'a str>,
    status: Option<&'a str>,
}

/// `cluster` of a `DescribeCluster` response, `None` when absent.
fn eks_cluster(output: &Value) -> Result<Option<EksCluster<'_>>> {
    let Some(cluster) = opt_object(output, "cluster")? else { return Ok(None) };
    let ca_data = match opt_object(cluster, "certificateAuthority")? {
        Some(ca) => opt_str(ca, "data")?,
        None => None,
    };
    Ok(Some(EksCluster { endpoint: opt_str(cluster, "endpoint")?, ca_data, status: opt_str(cluster, "status")? }))
}

/// The cluster's address and CA from the `DescribeCluster` response. Errors
/// carry Flux's context, `failed to describe EKS cluster '<arn>': ...`; a
/// cluster still being created (no endpoint yet) says its status.
pub fn parse_describe_cluster(response: &HttpResponse, arn: &ClusterArn) -> Result<Discovered> {
    let what = format!("failed to describe EKS cluster '{}'", arn.as_str());
    let output =
        json_object(response, ErrorFormat::AwsJson).map_err(|e| wrap_error(&what, with_error_type(e, response)))?;
    let cluster = eks_cluster(&output).map_err(|e| wrap_error(&what, e))?;
    let missing = |field: &str| Error::malformed(format!("{what}: the response has no {field}"));
    let cluster = cluster.ok_or_else(|| missing("cluster"))?;
    let status = cluster.status.map(|s| format!(" (status {})", quote(s))).unwrap_or_default();
    let endpoint = cluster.endpoint.filter(|e| !e.is_empty()).ok_or_else(|| missing(&format!("endpoint{status}")))?;
    let ca_data = cluster
        .ca_data
        .filter(|d| !d.is_empty())
        .ok_or_else(|| missing(&format!("certificateAuthority.data{status}")))?;
    Ok(Discovered {
        host: discovered_address(&what, endpoint)?,
        ca_data: decode_ca_data("EKS CA certificate", ca_data)?,
    })
}

/// REST-JSON services name the error in the `x-amzn-ErrorType` header
/// (`ResourceNotFoundException:http://...`) rather than in the body.
fn with_error_type(error: Error, response: &HttpResponse) -> Error {
    match error {
        Error::HttpStatus { status, code: None, message } => {
            let code = response
                .header_value("x-amzn-ErrorType")
                .and_then(|t| t.split([':', '#']).next())
                .map(str::trim)
                .filter(|c| !c.is_empty() && c.len() <= 100 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
                .map(str::to_owned);
            Error::HttpStatus { status, code, message }
        }
        other => other,
    }
}

/// When an EKS REST config expires: [`REST_CONFIG_LIFETIME`] after `now`.
/// Flux takes `now` when it starts building the REST config, before the
/// lookup and the token; the session should pass the time of its first
/// step for the REST config (the `DescribeCluster` request, or the token
/// when there is no lookup). The token's own `expires_at` (14 minutes, as
/// `aws eks get-token` says) is not used.
pub fn rest_config_expiry(now: i64) -> Result<i64> {
    now.checked_add(REST_CONFIG_LIFETIME).ok_or_else(|| Error::invalid("now is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::{TEST_PEM, TEST_PEM_BASE64};
    use crate::http::MAX_RESPONSE_BODY;
    use crate::secret::Secret;

    const ARN: &str = "arn:aws:eks:us-west-2:123456789012:cluster/my-cluster";
    /// 2024-01-15T12:00:00Z.
    const NOW: i64 = 1_705_320_000;

    fn arn() -> ClusterArn {
        ClusterArn::parse(ARN).unwrap()
    }

    fn credentials(session: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: session.map(Secret::new),
            expires_at: None,
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_arns() {
        let a = arn();
        assert_eq!(
            (a.partition(), a.region(), a.account_id(), a.name(), a.as_str()),
            ("aws", "us-west-2", "123456789012", "my-cluster", ARN)
        );
        let cn = ClusterArn::parse("arn:aws-cn:eks:cn-north-1:123456789012:cluster/Prod_1").unwrap();
        assert_eq!((cn.partition(), cn.name()), ("aws-cn", "Prod_1"));
        assert!(ClusterArn::parse("arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/c").is_ok());
        assert!(ClusterArn::parse("arn:aws-iso-b:eks:us-isob-east-1:123456789012:cluster/c").is_ok());
    }

    #[test]
    fn invalid_arns() {
        let shape = |s: &str| {
            assert_eq!(
                ClusterArn::parse(s).unwrap_err(),
                Error::invalid(format!("invalid EKS cluster ARN: '{}'. must match {CLUSTER_PATTERN}", quote(s))),
                "{s}"
            )
        };
        for s in [
            "",
            "my-cluster",
            "arn:aws:eks:us-west-2:123456789012:my-cluster",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:eks:us-west-2:123456789012",
            "arn:aws:eks:us-west-2:123456789012:nodegroup/c/n",
            "ARN:aws:eks:us-west-2:123456789012:cluster/c",
        ] {
            shape(s);
        }
        for (s, why) in [
            ("arn:aws:eks:us-west-2.evil.com:123456789012:cluster/c", "region"),
            ("arn:aws:eks::123456789012:cluster/c", "region"),
            ("arn:aws:eks:US-WEST-2:123456789012:cluster/c", "region"),
            ("arn:aws-cn:eks:us-west-2:123456789012:cluster/c", "partition aws"),
            ("arn:aws:eks:cn-north-1:123456789012:cluster/c", "partition aws-cn"),
            ("arn:awsx:eks:us-west-2:123456789012:cluster/c", "partition aws"),
            ("arn:aws:eks:us-west-2:12345678901:cluster/c", "account"),
            ("arn:aws:eks:us-west-2:1234567890123:cluster/c", "account"),
            ("arn:aws:eks:us-west-2:12345678901a:cluster/c", "account"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/../x", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/a/b", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/a?x=1", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/a:b", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/a%2F", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/-a", "name"),
            ("arn:aws:eks:us-west-2:123456789012:cluster/a\r\nX: y", "name"),
        ] {
            let err = ClusterArn::parse(s).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{s}");
            assert!(err.to_string().contains(why), "{s}: {err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        let long = format!("arn:aws:eks:us-west-2:123456789012:cluster/{}", "a".repeat(101));
        assert_eq!(ClusterArn::parse(&long).unwrap_err().kind(), "invalid-input");
    }

    /// Signatures from botocore 1.43.11 (`eks.describe_cluster(name="my-cluster")`
    /// with these credentials, the clock frozen at 2024-01-15T12:00:00Z).
    #[test]
    fn matches_botocore_describe_cluster() {
        let cases = [
            (
                ARN,
                None,
                EndpointOptions::default(),
                "https://eks.us-west-2.amazonaws.com/clusters/my-cluster",
                "us-west-2",
                "host;x-amz-date",
                "154bc0461ef557e467e21464acc1fe9c373b7dd01eb6fd6f36339926079ce4dc",
            ),
            (
                ARN,
                Some("FwoGZXIvYXdzEBYaDH/sess+token="),
                EndpointOptions::default(),
                "https://eks.us-west-2.amazonaws.com/clusters/my-cluster",
                "us-west-2",
                "host;x-amz-date;x-amz-security-token",
                "7dae774b2ee99127b9fdfbc7b42180dd219e49de85f234521b5f87636a2a2b43",
            ),
            (
                "arn:aws:eks:us-east-1:123456789012:cluster/my-cluster",
                None,
                EndpointOptions { fips: true, ..Default::default() },
                "https://fips.eks.us-east-1.amazonaws.com/clusters/my-cluster",
                "us-east-1",
                "host;x-amz-date",
                "7e92bc538b08b46feb980495f6232996ebefe12068ab277afe7c718365c49bdf",
            ),
            (
                "arn:aws-cn:eks:cn-north-1:123456789012:cluster/my-cluster",
                None,
                EndpointOptions::default(),
                "https://eks.cn-north-1.amazonaws.com.cn/clusters/my-cluster",
                "cn-north-1",
                "host;x-amz-date",
                "dd7789db1552559b8ecffb3ade71b86b7a50deb545a30aafaa728d1f75ef3fcd",
            ),
        ];
        for (arn, session, options, url, region, signed, signature) in cases {
            let req = describe_cluster_request(&ClusterArn::parse(arn).unwrap(), &credentials(session), NOW, options)
                .unwrap();
            assert_eq!((req.method, req.url.as_str()), ("GET", url));
            assert_eq!(req.header_value("X-Amz-Date"), Some("20240115T120000Z"));
            assert_eq!(req.header_value("X-Amz-Security-Token"), session);
            assert_eq!(
                req.header_value("Authorization").unwrap(),
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/{region}/eks/aws4_request, SignedHeaders={signed}, Signature={signature}"
                )
            );
            assert!(req.body.is_empty());
            let dbg = format!("{req:?}");
            assert!(!dbg.contains(signature) && !dbg.contains("sess+token"), "{dbg}");
        }
    }

    #[test]
    fn describe_request_errors() {
        let kind = |creds: &AwsCredentials, now: i64| {
            describe_cluster_request(&arn(), creds, now, EndpointOptions::default()).unwrap_err().kind()
        };
        assert_eq!(kind(&credentials(Some("t\r\nX: y")), NOW), "invalid-input");
        let mut no_secret = credentials(None);
        no_secret.secret_access_key = Secret::new("");
        assert_eq!(kind(&no_secret, NOW), "invalid-input");
        assert_eq!(kind(&credentials(None), -1), "invalid-input");
        assert_eq!(kind(&credentials(None), i64::MAX), "invalid-input");
    }

    #[test]
    fn parses_describe_cluster() {
        let body = format!(
            r#"{{"cluster":{{"name":"my-cluster","arn":"{ARN}","endpoint":"https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com","certificateAuthority":{{"data":"{TEST_PEM_BASE64}"}},"status":"ACTIVE","version":"1.30"}}}}"#
        );
        let got = parse_describe_cluster(&resp(200, &body), &arn()).unwrap();
        assert_eq!(
            got,
            Discovered {
                host: "https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com".into(),
                ca_data: TEST_PEM.into()
            }
        );
    }

    #[test]
    fn describe_cluster_errors() {
        let creating = r#"{"cluster":{"name":"c","status":"CREATING","certificateAuthority":{}}}"#;
        let err = parse_describe_cluster(&resp(200, creating), &arn()).unwrap_err();
        assert_eq!(
            err,
            Error::malformed(format!(
                "failed to describe EKS cluster '{ARN}': the response has no endpoint (status CREATING)"
            ))
        );
        let no_ca = r#"{"cluster":{"endpoint":"https://x.eks.amazonaws.com"}}"#;
        let err = parse_describe_cluster(&resp(200, no_ca), &arn()).unwrap_err();
        assert!(err.to_string().contains("no certificateAuthority.data"), "{err}");
        let bad_ca = r#"{"cluster":{"endpoint":"https://x.eks.amazonaws.com","certificateAuthority":{"data":"%%"}}}"#;
        let err = parse_describe_cluster(&resp(200, bad_ca), &arn()).unwrap_err();
        assert!(err.to_string().contains("failed to decode EKS CA certificate: not valid base64"), "{err}");
        let ca = format!(r#""certificateAuthority":{{"data":"{TEST_PEM_BASE64}"}}"#);
        for endpoint in ["http://x.eks.amazonaws.com", "https://x.eks.amazonaws.com/?q", "https://u@x", "https://x y"] {
            let body = format!(r#"{{"cluster":{{"endpoint":"{endpoint}",{ca}}}}}"#);
            let err = parse_describe_cluster(&resp(200, &body), &arn()).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{endpoint}");
            assert!(err.to_string().contains("failed to describe EKS cluster"), "{err}");
        }
        for body in ["{}", r#"{"cluster":null}"#, r#"{"cluster":{"endpoint":5}}"#, "[", "<html>", r#"{"cluster":"x"}"#]
        {
            let err = parse_describe_cluster(&resp(200, body), &arn()).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
            assert!(err.to_string().contains(&format!("failed to describe EKS cluster '{ARN}'")), "{err}");
        }
        let big = HttpResponse { status: 200, headers: vec![], body: vec![b' '; MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_describe_cluster(&big, &arn()).unwrap_err().kind(), "malformed-response");
    }

    #[test]
    fn describe_cluster_http_errors() {
        let not_found = HttpResponse {
            status: 404,
            headers: vec![(
                "x-amzn-ErrorType".into(),
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.eks/".into(),
            )],
            body: br#"{"message":"No cluster found for name: my-cluster."}"#.to_vec(),
        };
        assert_eq!(
            parse_describe_cluster(&not_found, &arn()).unwrap_err(),
            Error::HttpStatus {
                status: 404,
                code: Some("ResourceNotFoundException".into()),
                message: format!("failed to describe EKS cluster '{ARN}': No cluster found for name: my-cluster."),
            }
        );
        let denied = resp(403, r#"{"__type":"AccessDeniedException","Message":"not authorized"}"#);
        assert!(matches!(
            parse_describe_cluster(&denied, &arn()).unwrap_err(),
            Error::HttpStatus { status: 403, code: Some(ref c), .. } if c == "AccessDeniedException"
        ));
        let html = HttpResponse {
            status: 503,
            headers: vec![("x-amzn-ErrorType".into(), "bad value\u{7f}".into())],
            body: b"<html>unavailable</html>".to_vec(),
        };
        assert!(matches!(
            parse_describe_cluster(&html, &arn()).unwrap_err(),
            Error::HttpStatus { status: 503, code: None, .. }
        ));
    }

    #[test]
    fn expiry_is_fifteen_minutes() {
        assert_eq!(rest_config_expiry(NOW).unwrap(), NOW + 900);
        assert_eq!(rest_config_expiry(i64::MAX).unwrap_err().kind(), "invalid-input");
    }
}
