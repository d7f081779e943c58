//! STS AssumeRoleWithWebIdentity (IRSA-style workload identity): a
//! Kubernetes service-account token traded for temporary AWS credentials;
//! and AssumeRole (a shared config profile's `role_arn`): credentials
//! traded for a role's.
//!
//! AssumeRoleWithWebIdentity is an unsigned query-protocol POST (the web
//! identity token is the credential); AssumeRole is the same kind of POST
//! signed with SigV4 by the credentials it starts from. Both are built as
//! botocore builds them. The response is XML and is parsed as XML: the
//! credentials are read from their exact place in the document, never
//! searched for in the text.

use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::partition;
use crate::aws::sigv4::{self, SigningParams};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, quoted};
use crate::http::{HttpRequest, HttpResponse, check_non_empty};
use crate::response::xml::Node;
use crate::response::{ErrorFormat, parse_xml, success_body};
use crate::secret::Secret;
use crate::time::parse_rfc3339;

/// The STS API version of the query protocol.
const API_VERSION: &str = "2011-06-15";

/// botocore's content type for query-protocol bodies.
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The role session duration bounds STS accepts (15 minutes to 12 hours).
const MIN_DURATION: u32 = 900;
const MAX_DURATION: u32 = 43_200;

/// The STS limit on managed session policies.
const MAX_POLICY_ARNS: usize = 10;

/// AssumeRoleWithWebIdentity parameters.
#[derive(Clone, Debug)]
pub struct WebIdentityParams<'a> {
    pub region: &'a str,
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub web_identity_token: &'a Secret,
    pub duration_seconds: Option<u32>,
    pub policy_arns: &'a [String],
    pub endpoint: EndpointOptions,
}

/// The unsigned AssumeRoleWithWebIdentity request to the region's STS endpoint.
pub fn web_identity_request(params: &WebIdentityParams<'_>) -> Result<HttpRequest> {
    check_role_arn(params.role_arn)?;
    check_session_name(params.role_session_name)?;
    check_non_empty("web identity token", params.web_identity_token.expose())?;
    if let Some(d) = params.duration_seconds
        && !(MIN_DURATION..=MAX_DURATION).contains(&d)
    {
        return Err(Error::invalid(format!("duration of {d} s is outside {MIN_DURATION}..={MAX_DURATION}")));
    }
    if params.policy_arns.len() > MAX_POLICY_ARNS {
        return Err(Error::invalid(format!(
            "{} policy ARNs given, STS takes at most {MAX_POLICY_ARNS}",
            params.policy_arns.len()
        )));
    }
    for arn in params.policy_arns {
        check_policy_arn(arn)?;
    }
    let endpoint = endpoint::resolve(Service::Sts, params.region, params.endpoint)?;

    // botocore's order: the action, then the input members in model order.
    let policy_keys: Vec<String> =
        (1..=params.policy_arns.len()).map(|n| format!("PolicyArns.member.{n}.arn")).collect();
    let duration = params.duration_seconds.map(|d| d.to_string());
    let mut form: Vec<(&str, &str)> = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", API_VERSION),
        ("RoleArn", params.role_arn),
        ("RoleSessionName", params.role_session_name),
        ("WebIdentityToken", params.web_identity_token.expose()),
    ];
    form.extend(policy_keys.iter().map(String::as_str).zip(params.policy_arns.iter().map(String::as_str)));
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    HttpRequest::post(format!("{}/", endpoint.url)).form_with_content_type(&form, FORM_CONTENT_TYPE)
}

/// AssumeRole parameters: the role, and the credentials that sign the call.
#[derive(Clone, Debug)]
pub struct AssumeRoleParams<'a> {
    pub region: &'a str,
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub credentials: &'a AwsCredentials,
    pub duration_seconds: Option<u32>,
    pub external_id: Option<&'a str>,
    pub endpoint: EndpointOptions,
    /// A configured STS endpoint (`https://host`) in place of the resolved
    /// one; the signature is still scoped to the resolved signing region.
    pub endpoint_url: Option<&'a str>,
}

/// The AssumeRole request to the region's STS endpoint, signed with SigV4
/// at `now` by `params.credentials`. The body is the one botocore's
/// assume-role credential provider sends for a profile: the action and
/// version, then `RoleSessionName`, `ExternalId`, `DurationSeconds`,
/// `RoleArn` (its query serializer keeps the provider's order).
pub fn assume_role_request(params: &AssumeRoleParams<'_>, now: i64) -> Result<HttpRequest> {
    check_role_arn(params.role_arn)?;
    check_session_name(params.role_session_name)?;
    if let Some(d) = params.duration_seconds
        && !(MIN_DURATION..=MAX_DURATION).contains(&d)
    {
        return Err(Error::invalid(format!("duration of {d} s is outside {MIN_DURATION}..={MAX_DURATION}")));
    }
    if let Some(id) = params.external_id
        && !(2..=1224).contains(&id.len())
    {
        // STS: 2 to 1224 of [\w+=,.@:/-]; the value is not secret, but is
        // not quoted either: it may be long.
        return Err(Error::invalid("external id must be 2 to 1224 characters"));
    }
    if let Some(id) = params.external_id
        && !id.bytes().all(|b| is_iam_name_byte(b) || b == b':' || b == b'/')
    {
        return Err(Error::invalid("external id may only contain letters, digits and _+=,.@:/-"));
    }
    let endpoint = endpoint::resolve(Service::Sts, params.region, params.endpoint)?;
    let duration = params.duration_seconds.map(|d| d.to_string());
    let mut form: Vec<(&str, &str)> =
        vec![("Action", "AssumeRole"), ("Version", API_VERSION), ("RoleSessionName", params.role_session_name)];
    if let Some(id) = params.external_id {
        form.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    form.push(("RoleArn", params.role_arn));
    let base = params.endpoint_url.unwrap_or(&endpoint.url);
    let request = HttpRequest::post(format!("{base}/")).form_with_content_type(&form, FORM_CONTENT_TYPE)?;
    let signing = SigningParams {
        credentials: params.credentials,
        region: &endpoint.signing_region,
        service: "sts",
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    };
    Ok(sigv4::sign(&request, &signing)?.request)
}

/// Parses the AssumeRoleWithWebIdentity XML response into temporary credentials.
pub fn parse_web_identity(response: &HttpResponse) -> Result<AwsCredentials> {
    parse_credentials(response, "AssumeRoleWithWebIdentity")
}

/// Parses the AssumeRole XML response into temporary credentials.
pub fn parse_assume_role(response: &HttpResponse) -> Result<AwsCredentials> {
    parse_credentials(response, "AssumeRole")
}

/// `<{action}Response><{action}Result><Credentials>...`.
fn parse_credentials(response: &HttpResponse, action: &str) -> Result<AwsCredentials> {
    let body = success_body(response, ErrorFormat::AwsQueryXml)?;
    let doc = parse_xml(body, "STS response")?;
    let root = doc.root();
    if root.name() != format!("{action}Response") {
        return Err(Error::malformed(format!("STS response is not an {action}Response")));
    }
    let credentials = child(root, &format!("{action}Result")).and_then(|result| child(result, "Credentials"))?;
    let field = |name: &str| -> Result<String> {
        let text = child(credentials, name)?.text().trim();
        if text.is_empty() {
            return Err(Error::malformed(format!("STS response has an empty {name}")));
        }
        if crate::http::has_control(text) {
            return Err(Error::malformed(format!("STS response {name} contains control characters")));
        }
        Ok(text.to_owned())
    };
    Ok(AwsCredentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Some(Secret::new(field("SessionToken")?)),
        expires_at: Some(parse_rfc3339(&field("Expiration")?)?),
    })
}

/// The one child element of `parent` named `name`.
fn child<'a>(parent: Node<'a>, name: &str) -> Result<Node<'a>> {
    let mut matches = parent.children().filter(|c| c.name() == name);
    match (matches.next(), matches.next()) {
        (Some(node), None) => Ok(node),
        (None, _) => Err(Error::malformed(format!("STS response has no {name}"))),
        (Some(_), Some(_)) => Err(Error::malformed(format!("STS response has more than one {name}"))),
    }
}

/// Checks an IAM role ARN as STS takes it:
/// `arn:<partition>:iam::<12-digit account>:role/<path/><name>`.
/// [`web_identity_request`] applies it; callers may apply it earlier, to
/// refuse a bad ARN before a web identity token is fetched.
pub fn check_role_arn(arn: &str) -> Result<()> {
    let bad = || Error::invalid(format!("{} is not an IAM role ARN", quoted(arn)));
    let resource = iam_resource(arn, is_account_id).ok_or_else(bad)?;
    let path_and_name = resource.strip_prefix("role/").ok_or_else(bad)?;
    let (path, name) = path_and_name.rsplit_once('/').unwrap_or(("", path_and_name));
    let name_ok = (1..=64).contains(&name.len()) && name.bytes().all(is_iam_name_byte);
    // A role path is `/` or `/<printable ASCII>/`; the `role/` prefix holds its first slash.
    let path_ok = path.len() <= 511 && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !name_ok || !path_ok || path_and_name.contains("//") {
        return Err(bad());
    }
    Ok(())
}

/// `arn:<partition>:iam::<account or "aws">:policy/<path/><name>`.
fn check_policy_arn(arn: &str) -> Result<()> {
    let bad = || Error::invalid(format!("{} is not an IAM policy ARN", quoted(arn)));
    let resource = iam_resource(arn, |account| account == "aws" || is_account_id(account)).ok_or_else(bad)?;
    let rest = resource.strip_prefix("policy/").ok_or_else(bad)?;
    if rest.is_empty() || rest.len() > 2048 || !rest.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad());
    }
    Ok(())
}

/// The resource part of `arn:<known partition>:iam::<account>:<resource>`.
fn iam_resource(arn: &str, account_ok: impl Fn(&str) -> bool) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, partition_id, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let ok = scheme == "arn"
        && partition::by_id(partition_id).is_some()
        && service == "iam"
        && region.is_empty()
        && account_ok(account);
    ok.then_some(resource)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM names and STS session names: `[\w+=,.@-]`.
fn is_iam_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)
}

/// Checks a role session name as STS takes it: `[\w+=,.@-]{2,64}`.
/// [`web_identity_request`] applies it; callers may apply it earlier, to
/// refuse a bad name before a web identity token is fetched.
pub fn check_session_name(name: &str) -> Result<()> {
    if !(2..=64).contains(&name.len()) || !name.bytes().all(is_iam_name_byte) {
        return Err(Error::invalid(format!("role session name {} is not 2 to 64 of [A-Za-z0-9_+=,.@-]", quoted(name))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/wirecap-role";

    fn params<'a>(token: &'a Secret) -> WebIdentityParams<'a> {
        WebIdentityParams {
            region: "us-west-2",
            role_arn: ROLE,
            role_session_name: "wirecap-session",
            web_identity_token: token,
            duration_seconds: None,
            policy_arns: &[],
            endpoint: EndpointOptions::default(),
        }
    }

    fn form(req: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(&req.body).into_owned().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn minimal_request() {
        let token = Secret::new("eyJ.token+/=");
        let req = web_identity_request(&params(&token)).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://sts.us-west-2.amazonaws.com/");
        assert_eq!(req.headers, vec![("Content-Type".to_owned(), FORM_CONTENT_TYPE.to_owned())]);
        assert_eq!(
            form(&req),
            pairs(&[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", "2011-06-15"),
                ("RoleArn", ROLE),
                ("RoleSessionName", "wirecap-session"),
                ("WebIdentityToken", "eyJ.token+/="),
            ])
        );
        assert!(!format!("{req:?}").contains("eyJ.token"));
    }

    #[test]
    fn duration_policies_and_endpoint() {
        let token = Secret::new("t0k3n");
        let policies = [
            "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
            "arn:aws:iam::123456789012:policy/team/Mine".to_owned(),
        ];
        let p = WebIdentityParams {
            duration_seconds: Some(3600),
            policy_arns: &policies,
            endpoint: EndpointOptions { legacy: true, ..Default::default() },
            ..params(&token)
        };
        let req = web_identity_request(&p).unwrap();
        assert_eq!(req.url, "https://sts.amazonaws.com/");
        let f = form(&req);
        assert_eq!(f[5], ("PolicyArns.member.1.arn".to_owned(), policies[0].clone()));
        assert_eq!(f[6], ("PolicyArns.member.2.arn".to_owned(), policies[1].clone()));
        assert_eq!(f[7], ("DurationSeconds".to_owned(), "3600".to_owned()));

        let fips = WebIdentityParams {
            region: "us-gov-east-1",
            endpoint: EndpointOptions { fips: true, ..Default::default() },
            ..params(&token)
        };
        assert_eq!(web_identity_request(&fips).unwrap().url, "https://sts.us-gov-east-1.amazonaws.com/");
    }

    #[test]
    fn role_arns() {
        for ok in [
            ROLE,
            "arn:aws:iam::123456789012:role/path/to/my-role",
            "arn:aws-us-gov:iam::123456789012:role/r",
            "arn:aws-cn:iam::123456789012:role/service-role/a+b=c,d.e@f_g-h",
            "arn:aws-iso-b:iam::123456789012:role/x",
        ] {
            assert!(check_role_arn(ok).is_ok(), "{ok}");
        }
        for bad in [
            "wirecap-role",
            "",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam::1234567890123:role/r",
            "arn:aws:iam::aws:role/r",
            "arn:aws:sts::123456789012:role/r",
            "arn:aws:iam:us-east-1:123456789012:role/r",
            "arn:evil:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:user/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/path/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam::123456789012:role/with space",
            "arn:aws:iam::123456789012:role/r\r\nX-Evil: 1",
            "arn:aws:iam::123456789012:role/ünïcode",
        ] {
            assert_eq!(check_role_arn(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
        assert!(check_role_arn(&format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65))).is_err());
    }

    #[test]
    fn invalid_inputs() {
        let token = Secret::new("SECRETVALUE");
        let empty = Secret::new("");
        let newline = Secret::new("SECRET\nVALUE");
        let bad_policy = ["arn:aws:s3:::bucket".to_owned()];
        let many: Vec<String> = (0..11).map(|_| "arn:aws:iam::aws:policy/P".to_owned()).collect();
        let base = params(&token);
        let cases = [
            WebIdentityParams { role_session_name: "s", ..base.clone() },
            WebIdentityParams { role_session_name: "has space", ..base.clone() },
            WebIdentityParams { role_session_name: "a\r\nb", ..base.clone() },
            WebIdentityParams { role_session_name: &"s".repeat(65), ..base.clone() },
            WebIdentityParams { web_identity_token: &empty, ..base.clone() },
            WebIdentityParams { web_identity_token: &newline, ..base.clone() },
            WebIdentityParams { duration_seconds: Some(899), ..base.clone() },
            WebIdentityParams { duration_seconds: Some(43_201), ..base.clone() },
            WebIdentityParams { policy_arns: &bad_policy, ..base.clone() },
            WebIdentityParams { policy_arns: &many, ..base.clone() },
            WebIdentityParams { region: "us-west-2.evil.com", ..base.clone() },
            WebIdentityParams { region: "", ..base.clone() },
        ];
        for p in &cases {
            let err = web_identity_request(p).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{p:?}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        let edge = WebIdentityParams { duration_seconds: Some(43_200), role_session_name: "ab", ..base.clone() };
        assert!(web_identity_request(&edge).is_ok());
    }

    fn headers(req: &HttpRequest) -> Vec<(&str, &str)> {
        req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// botocore 1.43.11's signed AssumeRole for the same input, clock fixed
    /// at 1705320000 (`tests/cases/capture/botocore_sts_assume_role.py`): body,
    /// headers and signature byte for byte.
    #[test]
    fn assume_role_matches_botocore() {
        let keys = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
            expires_at: None,
        };
        let params = AssumeRoleParams {
            region: "us-west-2",
            role_arn: "arn:aws:iam::123456789012:role/deploy",
            role_session_name: "aws-go-sdk-1705320000000000000",
            credentials: &keys,
            duration_seconds: Some(900),
            external_id: None,
            endpoint: EndpointOptions::default(),
            endpoint_url: None,
        };
        let req = assume_role_request(&params, 1_705_320_000).unwrap();
        assert_eq!((req.method, req.url.as_str()), ("POST", "https://sts.us-west-2.amazonaws.com/"));
        assert_eq!(
            String::from_utf8(req.body.clone()).unwrap(),
            "Action=AssumeRole&Version=2011-06-15&RoleSessionName=aws-go-sdk-1705320000000000000&DurationSeconds=900&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy"
        );
        assert_eq!(
            headers(&req),
            [
                ("Content-Type", FORM_CONTENT_TYPE),
                ("X-Amz-Date", "20240115T120000Z"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-west-2/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=27029e6051c17313bf70c1312cb790677ba1758d9ef6e9e82a6a2fedef581dd0"
                )
            ]
        );
        let cn = AssumeRoleParams {
            region: "cn-north-1",
            role_arn: "arn:aws-cn:iam::123456789012:role/r",
            ..params.clone()
        };
        let req = assume_role_request(&cn, 1_705_320_000).unwrap();
        assert_eq!(req.url, "https://sts.cn-north-1.amazonaws.com.cn/");
        assert_eq!(
            req.header_value("Authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-north-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=b135f80a786932a581eb7d1801876b2d9d7d4fddd55b268952bdf4b4f926ff2a"
            )
        );

        let temporary = AwsCredentials {
            access_key_id: "ASIAEXAMPLESOURCE".into(),
            secret_access_key: Secret::new("source/secret+key"),
            session_token: Some(Secret::new("FwoGZXIvYXdzEXAMPLETOKEN//+=")),
            expires_at: Some(4_102_444_800),
        };
        let full = AssumeRoleParams {
            region: "eu-west-1",
            role_arn: "arn:aws:iam::210987654321:role/path/ecr-reader",
            role_session_name: "cloudauth-test",
            credentials: &temporary,
            duration_seconds: Some(3600),
            external_id: Some("ext-id:1234"),
            endpoint: EndpointOptions::default(),
            endpoint_url: None,
        };
        let req = assume_role_request(&full, 1_705_320_000).unwrap();
        assert_eq!(
            String::from_utf8(req.body.clone()).unwrap(),
            "Action=AssumeRole&Version=2011-06-15&RoleSessionName=cloudauth-test&ExternalId=ext-id%3A1234&DurationSeconds=3600&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fpath%2Fecr-reader"
        );
        assert_eq!(
            headers(&req),
            [
                ("Content-Type", FORM_CONTENT_TYPE),
                ("X-Amz-Date", "20240115T120000Z"),
                ("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLETOKEN//+="),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLESOURCE/20240115/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=af51b9c3f5cbb8dc9e89c61c8d1f18296cf986275b558b2bac21dd068270f9ea"
                )
            ]
        );
        assert!(!format!("{full:?}").contains("source/secret"));
    }

    /// The same request signed by the `aws-sigv4` crate (AWS's Rust SDK
    /// signer) has the same Authorization header.
    #[test]
    fn assume_role_signature_matches_aws_sigv4() {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let keys = AwsCredentials {
            access_key_id: "ASIAEXAMPLESOURCE".into(),
            secret_access_key: Secret::new("source/secret+key"),
            session_token: Some(Secret::new("FwoGZXIvYXdzEXAMPLETOKEN//+=")),
            expires_at: None,
        };
        let params = AssumeRoleParams {
            region: "ap-southeast-2",
            role_arn: "arn:aws:iam::123456789012:role/r",
            role_session_name: "s1",
            credentials: &keys,
            duration_seconds: None,
            external_id: None,
            endpoint: EndpointOptions::default(),
            endpoint_url: None,
        };
        let ours = assume_role_request(&params, 1_705_320_000).unwrap();
        let identity = aws_credential_types::Credentials::new(
            "ASIAEXAMPLESOURCE",
            "source/secret+key",
            Some("FwoGZXIvYXdzEXAMPLETOKEN//+=".into()),
            None,
            "test",
        )
        .into();
        let settings = SigningSettings::default();
        let signing = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("ap-southeast-2")
            .name("sts")
            .time(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_705_320_000))
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let headers = [("content-type", FORM_CONTENT_TYPE), ("host", "sts.ap-southeast-2.amazonaws.com")];
        let signable =
            SignableRequest::new("POST", ours.url.as_str(), headers.into_iter(), SignableBody::Bytes(&ours.body))
                .unwrap();
        let (instructions, _) = sign(signable, &signing).unwrap().into_parts();
        let theirs: Vec<(&str, &str)> = instructions.headers().collect();
        let authorization = theirs.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).unwrap().1;
        assert_eq!(ours.header_value("Authorization"), Some(authorization));
    }

    #[test]
    fn assume_role_to_a_configured_endpoint() {
        let keys = AwsCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("s"),
            session_token: None,
            expires_at: None,
        };
        let params = AssumeRoleParams {
            region: "us-east-1",
            role_arn: ROLE,
            role_session_name: "s1",
            credentials: &keys,
            duration_seconds: None,
            external_id: None,
            endpoint: EndpointOptions::default(),
            endpoint_url: Some("https://vpce-1a2b.sts.us-east-1.vpce.amazonaws.com"),
        };
        let req = assume_role_request(&params, 1_705_320_000).unwrap();
        assert_eq!(req.url, "https://vpce-1a2b.sts.us-east-1.vpce.amazonaws.com/");
        // The host signed is the one the request goes to.
        let resolved =
            assume_role_request(&AssumeRoleParams { endpoint_url: None, ..params.clone() }, 1_705_320_000).unwrap();
        assert_ne!(req.header_value("Authorization"), resolved.header_value("Authorization"));
        assert!(req.header_value("Authorization").unwrap().contains("/us-east-1/sts/aws4_request"));
    }

    #[test]
    fn assume_role_inputs_are_checked() {
        let keys = AwsCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("SECRETVALUE"),
            session_token: None,
            expires_at: None,
        };
        let base = AssumeRoleParams {
            region: "us-east-1",
            role_arn: ROLE,
            role_session_name: "s1",
            credentials: &keys,
            duration_seconds: None,
            external_id: None,
            endpoint: EndpointOptions::default(),
            endpoint_url: None,
        };
        let long = "x".repeat(1225);
        for p in [
            AssumeRoleParams { role_arn: "not-an-arn", ..base.clone() },
            AssumeRoleParams { role_session_name: "a b", ..base.clone() },
            AssumeRoleParams { duration_seconds: Some(899), ..base.clone() },
            AssumeRoleParams { duration_seconds: Some(43_201), ..base.clone() },
            AssumeRoleParams { external_id: Some("x"), ..base.clone() },
            AssumeRoleParams { external_id: Some(&long), ..base.clone() },
            AssumeRoleParams { external_id: Some("a b\r\nc"), ..base.clone() },
            AssumeRoleParams { region: "evil.example/", ..base.clone() },
        ] {
            let err = assume_role_request(&p, 0).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{p:?}");
            assert!(!err.to_string().contains("SECRETVALUE"));
        }
    }

    const ASSUME_ROLE_RESPONSE: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>DevUser123</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW</SessionToken>
      <Expiration>2100-01-01T00:00:00Z</Expiration>
    </Credentials>
    <PackedPolicySize>8</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    /// The STS API reference's AssumeRole example response.
    #[test]
    fn parses_assume_role() {
        let c = parse_assume_role(&resp(200, ASSUME_ROLE_RESPONSE)).unwrap();
        assert_eq!(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(c.expires_at, Some(4_102_444_800));
        assert!(c.session_token.as_ref().is_some_and(|t| t.expose().starts_with("AQoDYXdz")));
        for bad in [
            ASSUME_ROLE_RESPONSE.replace("AssumeRoleResponse", "AssumeRoleWithWebIdentityResponse"),
            ASSUME_ROLE_RESPONSE.replace("<AssumeRoleResult>", "<Other>").replace("</AssumeRoleResult>", "</Other>"),
            ASSUME_ROLE_RESPONSE[..200].to_owned(),
            ASSUME_ROLE_RESPONSE.replace("2100-01-01T00:00:00Z", "later"),
        ] {
            let err = parse_assume_role(&resp(200, &bad)).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{bad}");
            assert!(!err.to_string().contains("wJalr"), "{err}");
        }
        // A web identity response is not an AssumeRole one, and back.
        assert!(parse_web_identity(&resp(200, ASSUME_ROLE_RESPONSE)).is_err());
        let denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>";
        match parse_assume_role(&resp(403, denied)).unwrap_err() {
            Error::HttpStatus { status, code, .. } => {
                assert_eq!((status, code.as_deref()), (403, Some("AccessDenied")))
            }
            other => panic!("{other:?}"),
        }
    }

    const RESPONSE: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>secretKEY</SecretAccessKey>
      <SessionToken>session/token+value==</SessionToken>
      <Expiration>2100-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_credentials() {
        let c = parse_web_identity(&resp(200, RESPONSE)).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key.expose(), "secretKEY");
        assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("session/token+value=="));
        assert_eq!(c.expires_at, Some(4_102_444_800));
        assert!(!format!("{c:?}").contains("secretKEY"));
        // No namespace, or a prefix, is the same document.
        let bare = RESPONSE.replace(r#" xmlns="https://sts.amazonaws.com/doc/2011-06-15/""#, "");
        assert!(parse_web_identity(&resp(200, &bare)).is_ok());
    }

    #[test]
    fn malformed_responses() {
        let cases = [
            RESPONSE[..RESPONSE.len() / 2].to_owned(),
            String::new(),
            r#"{"AssumeRoleWithWebIdentityResponse": {"AssumeRoleWithWebIdentityResult": {"Credentials": {}}}}"#.to_owned(),
            RESPONSE.replace("<AccessKeyId>ASIAEXAMPLE</AccessKeyId>", ""),
            RESPONSE.replace("<SessionToken>session/token+value==</SessionToken>", "<SessionToken></SessionToken>"),
            RESPONSE.replace("2100-01-01T00:00:00Z", "tomorrow"),
            RESPONSE.replace("<Credentials>", "<Other>").replace("</Credentials>", "</Other>"),
            RESPONSE.replace("AssumeRoleWithWebIdentityResponse", "AssumeRoleResponse"),
            RESPONSE.replace("<Audience>", "<Credentials><AccessKeyId>B</AccessKeyId></Credentials><Audience>"),
            RESPONSE.replace("secretKEY", "secret&#10;KEY"),
            // A text mention is not an element: string search would be fooled.
            "<AssumeRoleWithWebIdentityResponse><!-- <AccessKeyId>X</AccessKeyId> --></AssumeRoleWithWebIdentityResponse>".to_owned(),
            // DTDs (entity expansion) are refused by the parser.
            format!("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>{RESPONSE}"),
        ];
        for body in &cases {
            let err = parse_web_identity(&resp(200, body)).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let invalid_utf8 = HttpResponse { status: 200, headers: vec![], body: vec![0xff, 0xfe, b'<'] };
        assert_eq!(parse_web_identity(&invalid_utf8).unwrap_err().kind(), "malformed-response");
        let oversized =
            HttpResponse { status: 200, headers: vec![], body: vec![b' '; crate::http::MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_web_identity(&oversized).unwrap_err().kind(), "malformed-response");
    }

    #[test]
    fn error_responses() {
        let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>No OpenIDConnect provider</Message></Error></ErrorResponse>";
        match parse_web_identity(&resp(400, body)).unwrap_err() {
            Error::HttpStatus { status, code, .. } => {
                assert_eq!((status, code.as_deref()), (400, Some("InvalidIdentityToken")))
            }
            other => panic!("{other:?}"),
        }
        // A 5xx without an XML body still reports the status.
        match parse_web_identity(&resp(503, "Service Unavailable")).unwrap_err() {
            Error::HttpStatus { status, code, .. } => assert_eq!((status, code), (503, None)),
            other => panic!("{other:?}"),
        }
        // A success body with a 403 is still an error.
        assert_eq!(parse_web_identity(&resp(403, RESPONSE)).unwrap_err().kind(), "http-status");
    }
}
