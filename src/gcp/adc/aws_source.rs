//! The AWS credential source of an external account
//! (`credential_source.environment_id: aws1`), as google-auth's `aws`
//! module builds it: the subject token is an AWS STS `GetCallerIdentity`
//! request, SigV4-signed with the workload's AWS credentials and
//! serialized as JSON, which Google STS replays to AWS to learn who the
//! caller is. The AWS credentials never leave the component; only the
//! signature does.
//!
//! Region and credentials come from the environment (`AWS_REGION` or
//! `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` +
//! `AWS_SESSION_TOKEN`), else from EC2 instance metadata at the file's URLs,
//! each read with its own IMDSv2 session token when the file names
//! `imdsv2_session_token_url` (google-auth asks for one per value, with a
//! 300 s lifetime).

use crate::aws::sigv4::{self, SigningParams};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, quoted};
use crate::http::HttpRequest;
use crate::secret::Secret;

/// The one metadata endpoint google-auth lets these URLs name (its IPv6
/// twin, `[fd00:ec2::254]`, is not served: the routing guard knows only this one).
const IMDS: &str = "http://169.254.169.254/";
/// google-auth's IMDSv2 session token lifetime.
const TOKEN_TTL: &str = "300";

/// What the environment gives the AWS source (read at plan time, as
/// google-auth reads `os.environ`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsEnvironment {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    pub credentials: Option<AwsCredentials>,
}

/// The file's AWS source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSource {
    pub environment: AwsEnvironment,
    pub region_url: Option<String>,
    pub credentials_url: Option<String>,
    /// `regional_cred_verification_url`, with `{region}` in it.
    pub verification_url: String,
    pub imdsv2_url: Option<String>,
}

impl AwsSource {
    /// Reads the source; `what` names the file.
    pub fn parse(
        what: &str,
        environment: &AwsEnvironment,
        field: impl Fn(&str) -> Result<Option<String>>,
    ) -> Result<AwsSource> {
        let bad = |why: String| Error::invalid(format!("{what}: {why}"));
        match field("environment_id")?.as_deref() {
            Some("aws1") => {}
            Some(other) => {
                return Err(Error::unsupported(format!(
                    "{what}: AWS credential_source environment_id {} is not supported (only aws1)",
                    quoted(other)
                )));
            }
            None => return Err(bad("credential_source.environment_id is missing".into())),
        }
        let metadata = |name: &str| -> Result<Option<String>> {
            match field(name)? {
                Some(url) if !url.starts_with(IMDS) || url.contains(['@', '#', '\\']) || url.contains("..") => Err(
                    bad(format!("credential_source.{name} {} is not an EC2 metadata URL under {IMDS}", quoted(&url))),
                ),
                other => Ok(other),
            }
        };
        let verification_url = field("regional_cred_verification_url")?
            .ok_or_else(|| bad("credential_source.regional_cred_verification_url is missing".into()))?;
        if !verification_url.starts_with("https://") || verification_url.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("credential_source.regional_cred_verification_url is not an https:// URL".into()));
        }
        Ok(AwsSource {
            environment: environment.clone(),
            region_url: metadata("region_url")?,
            credentials_url: metadata("url")?,
            verification_url,
            imdsv2_url: metadata("imdsv2_session_token_url")?,
        })
    }

    /// `PUT` for an IMDSv2 session token.
    pub fn token_request(&self) -> Result<Option<HttpRequest>> {
        let Some(url) = &self.imdsv2_url else { return Ok(None) };
        let request = HttpRequest { method: "PUT", url: url.clone(), headers: Vec::new(), body: Vec::new() };
        request.header("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL).map(Some)
    }

    fn get(url: &str, token: Option<&Secret>) -> Result<HttpRequest> {
        let request = HttpRequest::get(url);
        match token {
            Some(t) => request.header("X-aws-ec2-metadata-token", t.expose()),
            None => Ok(request),
        }
    }

    /// `GET region_url`: the availability zone.
    pub fn region_request(&self, token: Option<&Secret>) -> Result<HttpRequest> {
        let url = self.region_url.as_deref().ok_or_else(|| {
            Error::invalid("no region: neither AWS_REGION nor AWS_DEFAULT_REGION is set and the file has no region_url")
        })?;
        Self::get(url, token)
    }

    /// `GET url`: the role name.
    pub fn role_request(&self, token: Option<&Secret>) -> Result<HttpRequest> {
        Self::get(self.credentials_base()?, token)
    }

    /// `GET url/<role>`: the role's credentials.
    pub fn credentials_request(&self, role: &str, token: Option<&Secret>) -> Result<HttpRequest> {
        Self::get(&format!("{}/{role}", self.credentials_base()?), token)
    }

    fn credentials_base(&self) -> Result<&str> {
        self.credentials_url.as_deref().ok_or_else(|| {
            Error::invalid(
                "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and the file has no url",
            )
        })
    }

    /// The subject token: the signed `GetCallerIdentity` request with
    /// `x-goog-cloud-target-resource` (the audience, added after signing),
    /// as `quote(json.dumps(..., separators=(",", ":"), sort_keys=True))`.
    pub fn subject_token(
        &self,
        region: &str,
        credentials: &AwsCredentials,
        audience: &str,
        now: i64,
    ) -> Result<Secret> {
        if crate::aws::partition::for_region(region).is_none() {
            return Err(Error::invalid(format!("{} is not an AWS region name", quoted(region))));
        }
        let url = self.verification_url.replace("{region}", region);
        let host = crate::host::https_authority(&url)?.to_string();
        let request = HttpRequest::post(&url).header("host", host.clone())?;
        let params = SigningParams {
            credentials,
            region,
            service: "sts",
            now,
            normalize_path: true,
            sign_body_header: false,
            unsigned_headers: &[],
        };
        let signed = sigv4::sign(&request, &params)?;
        let header = |name: &str| signed.request.header_value(name).unwrap_or_default().to_owned();
        let mut headers =
            vec![("Authorization", header("Authorization")), ("host", host), ("x-amz-date", header("X-Amz-Date"))];
        if credentials.session_token.is_some() {
            headers.push(("x-amz-security-token", header("X-Amz-Security-Token")));
        }
        headers.push(("x-goog-cloud-target-resource", audience.to_owned()));
        let mut json = String::from("{\"headers\":[");
        for (i, (key, value)) in headers.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str("{\"key\":");
            crate::gcp::python_json::write_str(&mut json, key);
            json.push_str(",\"value\":");
            crate::gcp::python_json::write_str(&mut json, value);
            json.push('}');
        }
        json.push_str("],\"method\":\"POST\",\"url\":");
        crate::gcp::python_json::write_str(&mut json, &url);
        json.push('}');
        Ok(Secret::new(crate::gcp::sts::python_quote(&json)))
    }
}

/// The region of an availability zone (`us-east-2b` → `us-east-2`), as
/// google-auth takes it: the zone without its last character.
pub fn region_of_zone(zone: &str) -> Result<String> {
    let zone = zone.trim();
    let region = zone.get(..zone.len().saturating_sub(1)).unwrap_or_default();
    if crate::aws::partition::for_region(region).is_none() {
        return Err(Error::malformed("the availability zone from the metadata server is not a zone name"));
    }
    Ok(region.to_owned())
}
