//! `aws.*`: STS, ECR, ECR Public, EKS and endpoint resolution.

use serde_json::json;

use super::{
    RESPONSE_FIELDS, aws_credentials, called, output, registry_credentials, request, response, token, unknown_name,
};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::aws::{EcrTokenParams, EndpointOptions, Service, WebIdentityParams};
use crate::support::api::types::AwsCredentials;

const NO_OPTIONS: EndpointOptions = EndpointOptions { fips: false, dualstack: false, legacy: false };

/// `endpoint?`: botocore's endpoint choice as one name.
fn endpoint_choice(input: &Input) -> Result<EndpointOptions, Stop> {
    const NAMES: &[&str] = &["regional", "legacy", "fips", "dualstack"];
    match input.opt_str("endpoint")?.as_deref() {
        None | Some("regional") => Ok(NO_OPTIONS),
        Some("legacy") => Ok(EndpointOptions { legacy: true, ..NO_OPTIONS }),
        Some("fips") => Ok(EndpointOptions { fips: true, ..NO_OPTIONS }),
        Some("dualstack") => Ok(EndpointOptions { dualstack: true, ..NO_OPTIONS }),
        Some(other) => Err(unknown_name("endpoint", other, NAMES)),
    }
}

/// `fips?`, `dualstack?`, `legacy?` as flags.
fn endpoint_flags(input: &Input) -> Result<EndpointOptions, Stop> {
    Ok(EndpointOptions {
        fips: input.bool("fips")?,
        dualstack: input.bool("dualstack")?,
        legacy: input.bool("legacy")?,
    })
}

/// Long-lived keys, or temporary ones with `session_token?`.
fn credentials(input: &Input) -> Result<AwsCredentials, Stop> {
    Ok(AwsCredentials {
        access_key_id: input.str("access_key_id")?,
        secret_access_key: input.str("secret_access_key")?,
        session_token: input.opt_str("session_token")?,
        expires_at: None,
    })
}

pub fn sts_web_identity_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&[
        "region",
        "role_arn",
        "role_session_name",
        "web_identity_token",
        "duration_seconds",
        "policy_arns",
        "endpoint",
    ])?;
    let params = WebIdentityParams {
        region: input.str("region")?,
        role_arn: input.str("role_arn")?,
        role_session_name: input.str("role_session_name")?,
        web_identity_token: input.str("web_identity_token")?,
        duration_seconds: input.opt_u32("duration_seconds")?,
        policy_arns: input.opt_strings("policy_arns")?,
        endpoint: endpoint_choice(input)?,
    };
    let result = i.api.cloudauth_auth_aws().call_sts_web_identity_request(&mut i.store, &params);
    called(result, request)
}

pub fn sts_web_identity_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let resp = response(input)?;
    let result = i.api.cloudauth_auth_aws().call_parse_sts_web_identity(&mut i.store, &resp);
    called(result, aws_credentials)
}

pub fn ecr_token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&[
        "region",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "registry_ids",
        "public",
        "fips",
        "dualstack",
    ])?;
    let params = EcrTokenParams {
        region: input.str("region")?,
        credentials: credentials(input)?,
        registry_ids: input.opt_strings("registry_ids")?,
        public: input.bool("public")?,
        endpoint: EndpointOptions { fips: input.bool("fips")?, dualstack: input.bool("dualstack")?, legacy: false },
    };
    let now = input.i64("now")?;
    let result = i.api.cloudauth_auth_aws().call_ecr_token_request(&mut i.store, &params, now);
    called(result, request)
}

pub fn ecr_token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["public", "status", "headers", "body"])?;
    let (resp, public) = (response(input)?, input.bool("public")?);
    let result = i.api.cloudauth_auth_aws().call_parse_ecr_token(&mut i.store, &resp, public);
    called(result, registry_credentials)
}

pub fn eks_token(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["cluster", "region", "access_key_id", "secret_access_key", "session_token", "endpoint"])?;
    let (cluster, region, creds, now, options) =
        (input.str("cluster")?, input.str("region")?, credentials(input)?, input.i64("now")?, endpoint_choice(input)?);
    let result = i.api.cloudauth_auth_aws().call_eks_token(&mut i.store, &cluster, &region, &creds, now, options);
    called(result, token)
}

pub fn endpoint(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["service", "region", "fips", "dualstack", "legacy"])?;
    let service = match input.str("service")?.as_str() {
        "sts" => Service::Sts,
        "ecr" => Service::Ecr,
        "ecr-public" => Service::EcrPublic,
        other => {
            return Err(unknown_name("service", other, &["sts", "ecr", "ecr-public"]));
        }
    };
    let (region, options) = (input.str("region")?, endpoint_flags(input)?);
    let result = i.api.cloudauth_auth_aws().call_resolve_endpoint(&mut i.store, service, &region, options);
    called(result, |e| output(json!({"url": e.url, "signing_region": e.signing_region})))
}

pub fn codecommit_credentials(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["url", "access_key_id", "secret_access_key", "session_token", "credentials_expire_at"])?;
    let credentials = AwsCredentials { expires_at: input.opt_i64("credentials_expire_at")?, ..credentials(input)? };
    let (url, now) = (input.str("url")?, input.i64("now")?);
    let result = i.api.cloudauth_auth_aws().call_codecommit_credentials(&mut i.store, &url, &credentials, now);
    called(result, |c| output(json!({"username": c.username, "password": c.password, "expires_at": c.expires_at})))
}
