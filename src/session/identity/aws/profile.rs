//! The AWS shared `config` and `credentials` files in a session: the plan
//! waits for them ([`PendingProfile`], read by the configure step before
//! any request), then [`configure`] turns the profile into the identity,
//! STS region and endpoint options the guard, the cache and the flow use.
//!
//! Files are read where the Go SDK's chain reaches them: after static keys
//! and web identity in the environment, before container credentials and
//! IMDS (`aws::shared_config` has the rules). A profile that names no
//! credentials (only `region`, say) lets the chain go on.

use crate::aws::endpoint::{self, Service};
use crate::aws::shared_config::{self, Base, Location};
use crate::aws::sts;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, quoted};
use crate::http::HttpRequest;
use crate::secret::Secret;

use crate::session::request::Options;

use super::super::TokenSource;
use super::{AwsIdentity, AwsPlan, StsEndpoint, container_identity, default_session_name};

/// The shared files, not read yet, and what the rest of the chain would be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingProfile {
    pub location: Location,
    /// `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT` when set:
    /// they win over the profile's settings, as in the SDK.
    pub env_fips: Option<bool>,
    pub env_dualstack: Option<bool>,
    /// What the default chain goes on to without profile credentials
    /// (container credentials or IMDS), or why the container variables are
    /// broken (an error only if the chain gets there).
    pub rest: Result<AwsIdentity>,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, for `credential_source = EcsContainer`.
    pub ecs: Result<Option<AwsIdentity>>,
    /// The session's time, for the SDK's default session names.
    pub now: i64,
}

impl PendingProfile {
    /// The pending profile when the environment names files to read.
    pub fn plan(options: &Options, now: i64) -> Result<Option<PendingProfile>> {
        let Some(location) = shared_config::locate(|name| options.env(name))? else {
            return Ok(None);
        };
        let flag =
            |name: &str| -> Result<Option<bool>> { options.env(name)?.map(|_| options.env_flag(name)).transpose() };
        let ecs = match options.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            Ok(Some(_)) => {
                // The relative URI alone, as the SDK's EcsContainer source reads it.
                let mut only_relative = options.clone();
                only_relative.environment.retain(|(k, _)| k != "AWS_CONTAINER_CREDENTIALS_FULL_URI");
                container_identity(&only_relative)
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        Ok(Some(PendingProfile {
            location,
            env_fips: flag("AWS_USE_FIPS_ENDPOINT")?,
            env_dualstack: flag("AWS_USE_DUALSTACK_ENDPOINT")?,
            rest: container_identity(options).map(|c| c.unwrap_or(AwsIdentity::InstanceMetadata)),
            ecs,
            now,
        }))
    }

    /// The files to read, config first.
    pub fn files(&self) -> Vec<String> {
        self.location.files().map(|f| f.path.clone()).collect()
    }

    /// The cache key's controller identity: the profile and the files (a
    /// different profile or file never shares an entry).
    pub fn describe(&self) -> String {
        format!("aws-profile:{}@{}", self.location.profile, self.files().join(","))
    }
}

/// A profile that assumes roles: its base credentials, then the roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileIdentity {
    /// [`PendingProfile::describe`] of the plan it came from.
    pub key: String,
    pub profile: String,
    pub base: AwsIdentity,
    pub roles: Vec<ProfileRole>,
}

/// One `AssumeRole`, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRole {
    pub profile: String,
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: u32,
}

impl ProfileIdentity {
    /// The identity the credentials end up with: the last role.
    pub fn role_arn(&self) -> Option<&str> {
        self.roles.last().map(|r| r.role_arn.as_str())
    }
}

/// The AWS plan completed by the files' contents, given in the order of
/// [`PendingProfile::files`] (None: the file does not exist).
pub fn configure(mut plan: AwsPlan, contents: &[(String, Option<Secret>)]) -> Result<AwsPlan> {
    let AwsIdentity::SharedConfig(pending) = &plan.identity else {
        return Err(Error::invalid("this AWS plan waits for no shared config files"));
    };
    let pending = pending.as_ref().clone();
    let text = |file: &Option<shared_config::File>| -> Result<Option<&str>> {
        let Some(file) = file else { return Ok(None) };
        contents
            .iter()
            .find(|(path, _)| *path == file.path)
            .map(|(_, text)| text.as_ref().map(Secret::expose))
            .ok_or_else(|| Error::invalid(format!("the file {} was not handed over", file.path)))
    };
    let location = &pending.location;
    let profile = shared_config::resolve(location, text(&location.config)?, text(&location.credentials)?)?;
    let Some(profile) = profile else {
        plan.identity = pending.rest.clone()?;
        return finish(plan, None);
    };
    let name = profile.name.clone();
    let base = match profile.base {
        Base::Static { credentials, .. } => AwsIdentity::StaticKeys(credentials),
        Base::WebIdentity { profile, role_arn, token_file, session_name } => {
            let session_name = match session_name {
                Some(s) => s,
                None => default_session_name(pending.now)?,
            };
            sts::check_role_arn(&role_arn).map_err(|e| in_profile(&profile, e))?;
            sts::check_session_name(&session_name).map_err(|e| in_profile(&profile, e))?;
            AwsIdentity::WebIdentity { role_arn, session_name, token: TokenSource::File(token_file) }
        }
        Base::Environment { profile } => {
            return Err(Error::invalid(format!(
                "AWS profile {}: credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                quoted(&profile)
            )));
        }
        Base::InstanceMetadata { .. } => AwsIdentity::InstanceMetadata,
        Base::EcsContainer { profile } => pending.ecs.clone()?.ok_or_else(|| {
            Error::invalid(format!(
                "AWS profile {}: credential_source = EcsContainer, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not set",
                quoted(&profile)
            ))
        })?,
        Base::Chain => pending.rest.clone()?,
    };
    let mut roles = Vec::new();
    for role in profile.roles {
        let session_name = match role.session_name {
            Some(s) => s,
            None => default_session_name(pending.now)?,
        };
        sts::check_role_arn(&role.role_arn).map_err(|e| in_profile(&role.profile, e))?;
        sts::check_session_name(&session_name).map_err(|e| in_profile(&role.profile, e))?;
        roles.push(ProfileRole {
            profile: role.profile,
            role_arn: role.role_arn,
            session_name,
            external_id: role.external_id,
            duration_seconds: role.duration_seconds,
        });
    }
    if plan.region.is_empty()
        && let Some(region) = profile.region
    {
        plan.region = region;
    }
    if let StsEndpoint::Resolved(options) = &mut plan.sts {
        options.fips = pending.env_fips.or(profile.use_fips_endpoint).unwrap_or(false);
        options.dualstack = pending.env_dualstack.or(profile.use_dualstack_endpoint).unwrap_or(false);
    }
    plan.identity = if roles.is_empty() {
        base
    } else {
        AwsIdentity::Profile(Box::new(ProfileIdentity { key: pending.describe(), profile: name.clone(), base, roles }))
    };
    finish(plan, Some(&name))
}

/// The region is known now; the plan's STS calls must have an endpoint.
fn finish(plan: AwsPlan, profile: Option<&str>) -> Result<AwsPlan> {
    if plan.region.is_empty() {
        return Err(Error::invalid(match profile {
            Some(p) => format!(
                "no AWS region: set AWS_REGION in the Flux controller or region in the AWS profile {}",
                quoted(p)
            ),
            None => super::ERR_NO_CONTROLLER_REGION.to_owned(),
        }));
    }
    if plan.makes_sts_calls() {
        endpoint::resolve(Service::Sts, &plan.region, plan.sts_options())?;
    }
    Ok(plan)
}

fn in_profile(profile: &str, error: Error) -> Error {
    Error::invalid(format!("AWS profile {}: {}", quoted(profile), error.message()))
}

/// The `AssumeRole` request of `role`, signed by `credentials` at `now`, to
/// the plan's STS endpoint.
pub fn assume_role_request(
    plan: &AwsPlan,
    role: &ProfileRole,
    credentials: &AwsCredentials,
    now: i64,
) -> Result<HttpRequest> {
    let endpoint_url = match &plan.sts {
        StsEndpoint::Explicit(url) => Some(url.as_str()),
        StsEndpoint::Resolved(_) => None,
    };
    sts::assume_role_request(
        &sts::AssumeRoleParams {
            region: &plan.region,
            role_arn: &role.role_arn,
            role_session_name: &role.session_name,
            credentials,
            duration_seconds: Some(role.duration_seconds),
            external_id: role.external_id.as_deref(),
            endpoint: plan.sts_options(),
            endpoint_url,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::endpoint::EndpointOptions;
    use crate::http::HttpRequest;
    use crate::session::flow::{Carries, Outbound};
    use crate::session::guard::Guard;
    use crate::session::identity::ProviderIdentity;
    use crate::session::plan::{Plan, TargetPlan};
    use crate::session::request::Identity;

    const KEYS: &str = "[src]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMIEXAMPLEKEY\n";
    const ROLE: &str = "[profile r]\nrole_arn = arn:aws:iam::210987654321:role/reader\nsource_profile = src\nregion = eu-west-1\nuse_fips_endpoint = true\n";

    fn options(vars: &[(&str, &str)]) -> Options {
        let mut all = vec![("AWS_CONFIG_FILE", "/c"), ("AWS_SHARED_CREDENTIALS_FILE", "/k")];
        all.extend_from_slice(vars);
        Options { environment: all.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(), ..Options::default() }
    }

    fn configured(region: Option<&str>, vars: &[(&str, &str)], config: &str) -> Result<AwsPlan> {
        let plan = AwsPlan::plan(&Identity::Controller, &options(vars), region, 1_705_320_000)?;
        assert!(matches!(plan.identity, AwsIdentity::SharedConfig(_)), "{plan:?}");
        let contents = vec![("/c".to_owned(), Some(Secret::new(config))), ("/k".to_owned(), Some(Secret::new(KEYS)))];
        configure(plan, &contents)
    }

    fn sts_url(plan: &AwsPlan) -> String {
        let AwsIdentity::Profile(profile) = &plan.identity else { panic!("{plan:?}") };
        let keys = AwsCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("s"),
            session_token: None,
            expires_at: None,
        };
        assume_role_request(plan, &profile.roles[0], &keys, 1_705_320_000).unwrap().url
    }

    #[test]
    fn region_precedence_target_env_profile() {
        let p = |region, vars: &[(&str, &str)]| configured(region, vars, ROLE).unwrap();
        assert_eq!(sts_url(&p(None, &[("AWS_PROFILE", "r")])), "https://sts-fips.eu-west-1.amazonaws.com/");
        assert_eq!(
            sts_url(&p(None, &[("AWS_PROFILE", "r"), ("AWS_REGION", "us-east-2")])),
            "https://sts-fips.us-east-2.amazonaws.com/"
        );
        assert_eq!(
            sts_url(&p(Some("ap-south-1"), &[("AWS_PROFILE", "r")])),
            "https://sts-fips.ap-south-1.amazonaws.com/"
        );
    }

    #[test]
    fn environment_flags_win_over_the_profile() {
        let plan = configured(None, &[("AWS_PROFILE", "r"), ("AWS_USE_FIPS_ENDPOINT", "false")], ROLE).unwrap();
        assert_eq!(sts_url(&plan), "https://sts.eu-west-1.amazonaws.com/");
        let dual = ROLE.replace("use_fips_endpoint = true", "use_dualstack_endpoint = true");
        let plan = configured(None, &[("AWS_PROFILE", "r")], &dual).unwrap();
        assert_eq!(plan.sts, StsEndpoint::Resolved(EndpointOptions { dualstack: true, ..EndpointOptions::default() }));
        assert_eq!(sts_url(&plan), "https://sts.eu-west-1.api.aws/");
        // A configured sts-endpoint still wins, and is what gets signed.
        let mut explicit = options(&[("AWS_PROFILE", "r")]);
        explicit.sts_endpoint = Some("https://sts.amazonaws.com".into());
        let plan = AwsPlan::plan(&Identity::Controller, &explicit, None, 0).unwrap();
        let contents = vec![("/c".to_owned(), Some(Secret::new(ROLE))), ("/k".to_owned(), Some(Secret::new(KEYS)))];
        assert_eq!(sts_url(&configure(plan, &contents).unwrap()), "https://sts.amazonaws.com/");
    }

    #[test]
    fn the_guard_follows_the_profile() {
        let aws = configured(None, &[("AWS_PROFILE", "r")], ROLE).unwrap();
        let plan = Plan { target: TargetPlan::AccessToken { scopes: vec![] }, identity: ProviderIdentity::Aws(aws) };
        let guard = Guard::for_plan(&plan).unwrap();
        let signed = |url: &str| Outbound {
            request: HttpRequest::post(url).header("Authorization", "AWS4-HMAC-SHA256 x").unwrap(),
            carries: Carries::CloudCredential,
        };
        guard.check(&signed("https://sts-fips.eu-west-1.amazonaws.com/")).unwrap();
        for refused in
            ["https://sts.eu-west-1.amazonaws.com/", "https://sts.us-east-1.amazonaws.com/", "http://169.254.169.254/"]
        {
            assert!(guard.check(&signed(refused)).is_err(), "{refused}");
        }
        // Before the files are read, nothing may be sent.
        let pending = AwsPlan::plan(&Identity::Controller, &options(&[("AWS_PROFILE", "r")]), None, 0).unwrap();
        let plan =
            Plan { target: TargetPlan::AccessToken { scopes: vec![] }, identity: ProviderIdentity::Aws(pending) };
        let guard = Guard::for_plan(&plan).unwrap();
        assert!(guard.check(&signed("https://sts-fips.eu-west-1.amazonaws.com/")).is_err());
        // A role over the rest of the chain: IMDS and STS.
        let imds_role = "[default]\nrole_arn = arn:aws:iam::210987654321:role/reader\n";
        let aws = configured(Some("us-east-1"), &[], imds_role).unwrap();
        let AwsIdentity::Profile(profile) = &aws.identity else { panic!("{aws:?}") };
        assert_eq!(profile.base, AwsIdentity::InstanceMetadata);
        let plan = Plan { target: TargetPlan::AccessToken { scopes: vec![] }, identity: ProviderIdentity::Aws(aws) };
        let guard = Guard::for_plan(&plan).unwrap();
        guard.check(&signed("https://sts.us-east-1.amazonaws.com/")).unwrap();
        let metadata = Outbound {
            request: HttpRequest::get("http://169.254.169.254/latest/api/token"),
            carries: Carries::Metadata,
        };
        guard.check(&metadata).unwrap();
    }

    #[test]
    fn profiles_without_roles_become_the_base_identity() {
        let keys_only = configured(Some("us-east-1"), &[("AWS_PROFILE", "src")], "").unwrap();
        assert!(matches!(keys_only.identity, AwsIdentity::StaticKeys(ref c) if c.access_key_id == "AKIDEXAMPLE"));
        // Only a region: the chain goes on (IMDS), in the profile's region.
        let region_only = configured(None, &[], "[default]\nregion = ca-central-1\n").unwrap();
        assert_eq!(
            (region_only.identity, region_only.region.as_str()),
            (AwsIdentity::InstanceMetadata, "ca-central-1")
        );
        // No region anywhere: Flux's controller error, or one naming the profile.
        let err = configured(None, &[], "").unwrap_err();
        assert_eq!(err.message(), super::super::ERR_NO_CONTROLLER_REGION);
        let err = configured(None, &[], "[default]\n").unwrap_err();
        assert!(err.message().starts_with("no AWS region") && err.message().contains("\"default\""), "{err}");
        // The default session name is the Go SDK's.
        let plan = configured(None, &[("AWS_PROFILE", "r")], ROLE).unwrap();
        let AwsIdentity::Profile(profile) = &plan.identity else { panic!() };
        assert_eq!(profile.roles[0].session_name, "aws-go-sdk-1705320000000000000");
        assert_eq!(profile.roles[0].duration_seconds, 900);
        assert_eq!(profile.role_arn(), Some("arn:aws:iam::210987654321:role/reader"));
        assert_eq!(plan.describe().as_deref(), Some("aws-profile:r@/c,/k"));
    }
}
