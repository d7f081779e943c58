//! AWS identities: IRSA web identity, EKS Pod Identity and container
//! credentials, static keys and the shared config profiles (`profile`).

pub mod profile;

use crate::aws::container;
use crate::aws::endpoint::{self, EndpointOptions, Service};
use crate::aws::sts;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, excerpt};
use crate::host::Authority;
use crate::http::HttpRequest;
use crate::secret::Secret;
use crate::session::request::{Identity, Options};

use self::profile::{PendingProfile, ProfileIdentity};
use super::{TokenSource, object_level};

/// How AWS credentials are obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsIdentity {
    /// Keys from the environment, used as they are.
    StaticKeys(AwsCredentials),
    /// STS AssumeRoleWithWebIdentity with a token from `token`.
    WebIdentity { role_arn: String, session_name: String, token: TokenSource },
    /// The EC2 instance metadata service (IMDSv2).
    InstanceMetadata,
    /// Container credentials (ECS, EKS Pod Identity): a GET to the
    /// endpoint with the authorization token, if any.
    Container { endpoint: container::Endpoint, token: ContainerToken },
    /// The shared `config` / `credentials` files, not read yet: the session
    /// reads them before any request (`super::configure`) and replaces this
    /// with what the profile says.
    SharedConfig(Box<PendingProfile>),
    /// A shared config profile that assumes roles: its base credentials,
    /// then `AssumeRole` for each role.
    Profile(Box<ProfileIdentity>),
}

/// Where the container credentials' authorization token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerToken {
    /// No token (ECS task roles need none).
    None,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Value(Secret),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read when the flow runs
    /// (EKS Pod Identity rotates it).
    File(String),
}

/// The STS endpoint: resolved from the region, or configured explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StsEndpoint {
    Resolved(EndpointOptions),
    /// A validated `https://host` (Flux's `sts-endpoint` / `STSEndpoint`).
    Explicit(String),
}

impl StsEndpoint {
    /// The options the STS request is built with: an explicit endpoint
    /// replaces the resolved address afterwards, so it resolves plainly.
    pub fn request_options(&self) -> EndpointOptions {
        match self {
            StsEndpoint::Resolved(options) => *options,
            StsEndpoint::Explicit(_) => EndpointOptions::default(),
        }
    }
}

/// An AWS identity plan and where its STS calls go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsPlan {
    pub identity: AwsIdentity,
    /// The STS region.
    pub region: String,
    pub sts: StsEndpoint,
}

pub(super) const ROLE_ARN_KEY: &str = "eks.amazonaws.com/role-arn";
const ROLE_ARN_PATTERN: &str = r"^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$";
const STS_ENDPOINT_PATTERN: &str = r"^https://(.+\.)?sts(-fips)?(\.[^.]+)?(\.vpce)?\.amazonaws\.com$";

pub(super) const ERR_NO_CONTROLLER_REGION: &str = "AWS_REGION environment variable is not set in the Flux controller. if you have properly configured IAM Roles for Service Accounts (IRSA) or EKS Pod Identity, please delete/replace the controller pod so the EKS admission controllers can inject this environment variable, or set it manually if the cluster is not EKS";
pub(super) const ERR_NO_OBJECT_REGION: &str =
    "an AWS region is required for authenticating with a service account. please configure one in the object spec";

impl AwsPlan {
    /// Plans the AWS identity. `region` is the one the target implies (the
    /// ECR or EKS region), which Flux uses as the STS region; without it the
    /// region is `AWS_REGION` (for an object-level identity too, since a
    /// session request has no region field of its own).
    ///
    /// Controller level follows the Go SDK's chain: static keys
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
    /// then web identity (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
    /// `AWS_ROLE_SESSION_NAME`), then EC2 IMDSv2.
    pub fn plan(identity: &Identity, options: &Options, region: Option<&str>, now: i64) -> Result<Self> {
        let sts = sts_endpoint(options)?;
        let object = object_level(identity, options, |sa| role_arn(sa.annotation(ROLE_ARN_KEY).unwrap_or_default()))?;
        let region = match (region, options.env("AWS_REGION")?) {
            (Some(r), _) | (None, Some(r)) => Some(r.to_owned()),
            (None, None) if object.is_some() => return Err(Error::invalid(ERR_NO_OBJECT_REGION)),
            (None, None) => None,
        };
        let identity = match (object, &region) {
            (Some((sa, role_arn)), Some(region)) => {
                let session_name = format!("{}.{}.{region}.fluxcd.io", sa.name, sa.namespace);
                AwsIdentity::WebIdentity { role_arn, session_name, token: TokenSource::of(sa) }
            }
            _ => controller_aws_identity(options, now)?,
        };
        let region = match region {
            Some(region) => region,
            // The profile may name it: `aws_profile::configure` decides.
            None if matches!(identity, AwsIdentity::SharedConfig(_)) => String::new(),
            None => return Err(Error::invalid(ERR_NO_CONTROLLER_REGION)),
        };
        if let AwsIdentity::WebIdentity { role_arn, session_name, .. } = &identity {
            // STS's own checks (IAM role ARN, session name of 2 to 64
            // characters, a region with an STS endpoint), now rather than
            // after the host fetched a token.
            sts::check_role_arn(role_arn)?;
            sts::check_session_name(session_name)?;
            endpoint::resolve(Service::Sts, &region, sts.request_options())?;
        }
        Ok(AwsPlan { identity, region, sts })
    }

    /// The AssumeRoleWithWebIdentity request with `token`, to the configured
    /// STS endpoint when there is one (the request is unsigned: the token is
    /// the credential, so only its address changes).
    pub fn sts_request(&self, token: &Secret) -> Result<HttpRequest> {
        let AwsIdentity::WebIdentity { role_arn, session_name, .. } = &self.identity else {
            return Err(Error::invalid("this AWS identity makes no STS web identity request"));
        };
        let mut request = sts::web_identity_request(&sts::WebIdentityParams {
            region: &self.region,
            role_arn,
            role_session_name: session_name,
            web_identity_token: token,
            duration_seconds: None,
            policy_arns: &[],
            endpoint: self.sts.request_options(),
        })?;
        if let StsEndpoint::Explicit(base) = &self.sts {
            request.url = rebase(&request.url, base)?;
        }
        Ok(request)
    }

    /// True when the credentials come from STS calls (web identity or
    /// roles), which need the region's STS endpoint.
    pub fn makes_sts_calls(&self) -> bool {
        matches!(self.identity, AwsIdentity::WebIdentity { .. } | AwsIdentity::Profile(_))
    }

    /// The endpoint options STS requests are built with.
    pub fn sts_options(&self) -> EndpointOptions {
        self.sts.request_options()
    }

    /// The identity part of the cache key, when the identity is not the
    /// default one (IMDS).
    pub fn describe(&self) -> Option<String> {
        match &self.identity {
            AwsIdentity::SharedConfig(pending) => Some(pending.describe()),
            AwsIdentity::Profile(profile) => Some(profile.key.clone()),
            AwsIdentity::StaticKeys(c) => Some(format!("accessKeyID={}", c.access_key_id)),
            // The role alone, as Flux keys it: the session name does not change
            // what the credentials can do, and the SDK's default one carries
            // the time, which would make every key new.
            AwsIdentity::WebIdentity { role_arn, .. } => Some(role_arn.clone()),
            AwsIdentity::InstanceMetadata => None,
            AwsIdentity::Container { endpoint, .. } => Some(format!("container:{}", endpoint.url)),
        }
    }

    /// The Flux provider identity of an object-level plan: the role ARN.
    pub fn provider_identity(&self) -> String {
        match &self.identity {
            AwsIdentity::WebIdentity { role_arn, .. } => role_arn.clone(),
            _ => String::new(),
        }
    }
}

/// `url` with its scheme and authority replaced by `base` (`https://host`).
pub(super) fn rebase(url: &str, base: &str) -> Result<String> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| Error::invalid("the STS request has no absolute URL"))?;
    let path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    Ok(format!("{base}{path}"))
}

fn controller_aws_identity(options: &Options, now: i64) -> Result<AwsIdentity> {
    let key_id = options.env("AWS_ACCESS_KEY_ID")?;
    let secret = options.env("AWS_SECRET_ACCESS_KEY")?;
    match (key_id, secret) {
        (Some(key_id), Some(secret)) => {
            return Ok(AwsIdentity::StaticKeys(AwsCredentials {
                access_key_id: key_id.to_owned(),
                secret_access_key: Secret::new(secret),
                session_token: options.env("AWS_SESSION_TOKEN")?.map(Secret::new),
                expires_at: None,
            }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::invalid("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"));
        }
        (None, None) => {}
    }
    let token_file = match options.env("AWS_WEB_IDENTITY_TOKEN_FILE")? {
        Some(file) => Some(TokenSource::File(file.to_owned())),
        // An Actions CI's ID token is the web identity token
        // (aws-actions/configure-aws-credentials' OIDC).
        None if options.env("AWS_ROLE_ARN")?.is_some() => TokenSource::actions(options)?,
        None => None,
    };
    match (options.env("AWS_ROLE_ARN")?, token_file) {
        (Some(arn), Some(token)) => {
            let role_arn = role_arn(arn).map_err(Error::invalid)?;
            let session_name = match options.env("AWS_ROLE_SESSION_NAME")? {
                Some(name) => name.to_owned(),
                // The Go SDK's default: `aws-go-sdk-` and the time in nanoseconds.
                None => default_session_name(now)?,
            };
            Ok(AwsIdentity::WebIdentity { role_arn, session_name, token })
        }
        (Some(_), None) => Err(Error::invalid(
            "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE (or an Actions OIDC token, ACTIONS_ID_TOKEN_REQUEST_URL) is not",
        )),
        (None, Some(_)) => Err(Error::invalid("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")),
        (None, None) => match PendingProfile::plan(options, now)? {
            // The shared files come next in the chain.
            Some(pending) => Ok(AwsIdentity::SharedConfig(Box::new(pending))),
            None => Ok(container_identity(options)?.unwrap_or(AwsIdentity::InstanceMetadata)),
        },
    }
}

/// The Go SDK's default role session name: `aws-go-sdk-` and the time in
/// nanoseconds.
pub(super) fn default_session_name(now: i64) -> Result<String> {
    let nanos = now.checked_mul(1_000_000_000).ok_or_else(|| Error::invalid("now is out of range"))?;
    Ok(format!("aws-go-sdk-{nanos}"))
}

/// Container credentials, as the SDKs and Tools reference guide orders
/// them: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on the ECS endpoint),
/// else `AWS_CONTAINER_CREDENTIALS_FULL_URI` (an allowed host only); the
/// token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. None when neither URI is set.
pub(super) fn container_identity(options: &Options) -> Result<Option<AwsIdentity>> {
    let endpoint = match (
        options.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")?,
        options.env("AWS_CONTAINER_CREDENTIALS_FULL_URI")?,
    ) {
        (Some(path), _) => container::relative(path)?,
        (None, Some(uri)) => container::full(uri)?,
        (None, None) => return Ok(None),
    };
    let token = match (
        options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")?,
        options.env("AWS_CONTAINER_AUTHORIZATION_TOKEN")?,
    ) {
        (Some(file), _) => ContainerToken::File(file.to_owned()),
        (None, Some(value)) => {
            let token = Secret::new(value);
            container::check_token(&token, "AWS_CONTAINER_AUTHORIZATION_TOKEN")?;
            ContainerToken::Value(token)
        }
        (None, None) => ContainerToken::None,
    };
    Ok(Some(AwsIdentity::Container { endpoint, token }))
}

/// Flux's role ARN check, `^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$`.
fn role_arn(arn: &str) -> Result<String, String> {
    let bad = || format!("invalid {ROLE_ARN_KEY} annotation: '{}'. must match {ROLE_ARN_PATTERN}", excerpt(arn));
    let rest = arn.strip_prefix("arn:aws").ok_or_else(bad)?;
    let (partition_suffix, rest) = rest.split_once(":iam::").ok_or_else(bad)?;
    let (account, role) = rest.split_once(":role/").ok_or_else(bad)?;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let role_len = role.chars().count();
    let ok = partition_suffix.bytes().all(word)
        && (1..=30).contains(&account.len())
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=200).contains(&role_len)
        && !role.contains('\n');
    if ok { Ok(arn.to_owned()) } else { Err(bad()) }
}

/// The STS endpoint: the explicit one if configured (checked with Flux's
/// pattern), else resolved per region with the Go SDK's environment
/// switches.
fn sts_endpoint(options: &Options) -> Result<StsEndpoint> {
    if let Some(endpoint) = &options.sts_endpoint {
        return check_sts_endpoint(endpoint).map(StsEndpoint::Explicit);
    }
    Ok(StsEndpoint::Resolved(EndpointOptions {
        fips: options.env_flag("AWS_USE_FIPS_ENDPOINT")?,
        dualstack: options.env_flag("AWS_USE_DUALSTACK_ENDPOINT")?,
        legacy: false,
    }))
}

/// Flux's `ValidateSTSEndpoint`: `https://`, a host under `amazonaws.com`
/// whose last or second-to-last label before an optional `.vpce` is `sts`
/// or `sts-fips`, nothing after the host.
pub fn check_sts_endpoint(endpoint: &str) -> Result<String> {
    let bad =
        || Error::invalid(format!("invalid STS endpoint: '{}'. must match {STS_ENDPOINT_PATTERN}", excerpt(endpoint)));
    let host = endpoint.strip_prefix("https://").ok_or_else(bad)?;
    if host.contains(':') {
        return Err(bad());
    }
    let authority = Authority::parse(host).map_err(|_| bad())?;
    if authority.host() != host {
        return Err(bad());
    }
    let rest = host.strip_suffix(".amazonaws.com").ok_or_else(bad)?;
    let rest = rest.strip_suffix(".vpce").unwrap_or(rest);
    let labels: Vec<&str> = rest.split('.').collect();
    let is_sts = |l: &&str| *l == "sts" || *l == "sts-fips";
    let n = labels.len();
    let ok = labels.last().is_some_and(is_sts) || (n >= 2 && labels.get(n - 2).is_some_and(is_sts));
    if ok { Ok(endpoint.to_owned()) } else { Err(bad()) }
}
