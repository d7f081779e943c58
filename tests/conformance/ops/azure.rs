//! `azure.*`: Entra ID, IMDS and ACR.

use super::{RESPONSE_FIELDS, access_token, called, registry_credentials, request, response, unknown_name};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::azure::{Authority, ManagedIdentity};
use crate::support::api::types::AzureCloud;

/// SPEC's cloud names, as fluxcd/pkg spells them, and the WIT cases.
const CLOUDS: &[(&str, AzureCloud)] = &[
    ("AzurePublic", AzureCloud::AzurePublic),
    ("AzureChina", AzureCloud::AzureChina),
    ("AzureUSGovernment", AzureCloud::AzureUsGovernment),
    ("AzureCustom", AzureCloud::AzureCustom),
];

fn cloud_of(name: &str) -> Result<AzureCloud, Stop> {
    CLOUDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .ok_or_else(|| unknown_name("cloud", name, &CLOUDS.iter().map(|(n, _)| *n).collect::<Vec<_>>()))
}

/// The SPEC name of a cloud, for `registry.resolve` outputs.
pub(crate) fn cloud_name(cloud: AzureCloud) -> &'static str {
    CLOUDS.iter().find(|(_, c)| *c == cloud).map(|(n, _)| *n).unwrap_or("?")
}

/// `cloud?` (default `AzurePublic`) or `authority_host?`; both at once
/// cannot be expressed as one `authority`.
fn authority(input: &Input) -> Result<Authority, Stop> {
    match (input.opt_str("cloud")?, input.opt_str("authority_host")?) {
        (Some(_), Some(_)) => Err(Stop::Inexpressible("input.cloud and input.authority_host are exclusive".into())),
        (None, Some(host)) => Ok(Authority::Host(host)),
        (cloud, None) => Ok(Authority::Cloud(cloud_of(cloud.as_deref().unwrap_or("AzurePublic"))?)),
    }
}

/// `client_id?` / `object_id?` / `resource_id?`: at most one; none is the
/// system-assigned identity.
fn managed_identity(input: &Input) -> Result<ManagedIdentity, Stop> {
    let chosen = [
        input.opt_str("client_id")?.map(ManagedIdentity::ClientId),
        input.opt_str("object_id")?.map(ManagedIdentity::ObjectId),
        input.opt_str("resource_id")?.map(ManagedIdentity::ResourceId),
    ];
    let mut chosen = chosen.into_iter().flatten();
    match (chosen.next(), chosen.next()) {
        (None, _) => Ok(ManagedIdentity::SystemAssigned),
        (Some(identity), None) => Ok(identity),
        (Some(_), Some(_)) => {
            Err(Stop::Inexpressible("input.client_id, object_id and resource_id are exclusive".into()))
        }
    }
}

pub fn entra_token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["cloud", "authority_host", "tenant_id", "client_id", "scope", "client_assertion"])?;
    let authority = authority(input)?;
    let (tenant, client, scope, assertion) =
        (input.str("tenant_id")?, input.str("client_id")?, input.str("scope")?, input.str("client_assertion")?);
    let result = i.api.cloudauth_auth_azure().call_entra_token_request(
        &mut i.store,
        &authority,
        &tenant,
        &client,
        &scope,
        &assertion,
    );
    called(result, request)
}

pub fn entra_token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_azure().call_parse_entra_token(&mut i.store, &resp, now);
    called(result, access_token)
}

pub fn imds_token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["scope", "client_id", "object_id", "resource_id"])?;
    let (scope, identity) = (input.str("scope")?, managed_identity(input)?);
    let result = i.api.cloudauth_auth_azure().call_imds_token_request(&mut i.store, &scope, &identity);
    called(result, request)
}

pub fn imds_token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_azure().call_parse_imds_token(&mut i.store, &resp, now);
    called(result, access_token)
}

pub fn acr_exchange_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["registry", "access_token", "tenant_id"])?;
    let (registry, token, tenant) = (input.str("registry")?, input.str("access_token")?, input.opt_str("tenant_id")?);
    let result =
        i.api.cloudauth_auth_azure().call_acr_exchange_request(&mut i.store, &registry, &token, tenant.as_deref());
    called(result, request)
}

pub fn acr_exchange_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_azure().call_parse_acr_exchange(&mut i.store, &resp, now);
    called(result, registry_credentials)
}

pub fn acr_token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["registry", "refresh_token", "scopes"])?;
    let (registry, refresh, scopes) = (input.str("registry")?, input.str("refresh_token")?, input.strings("scopes")?);
    let result = i.api.cloudauth_auth_azure().call_acr_token_request(&mut i.store, &registry, &refresh, &scopes);
    called(result, request)
}

pub fn acr_token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_azure().call_parse_acr_token(&mut i.store, &resp, now);
    called(result, access_token)
}
