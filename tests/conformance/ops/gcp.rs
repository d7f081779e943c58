//! `gcp.*`: STS token exchange, IAM impersonation, the metadata server.

use serde_json::Value;

use super::{RESPONSE_FIELDS, access_token, called, request, response};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::gcp::StsExchangeParams;

/// `options?` as JSON text. An object is passed exactly as the case file
/// writes it: google-auth serializes the dict in insertion order, so the key
/// order is part of the expected request and must not be lost to a sorted
/// map. A string is taken as the JSON text itself.
fn options(input: &Input) -> Result<Option<String>, Stop> {
    match input.raw_json("options") {
        None => Ok(None),
        Some(raw) => match serde_json::from_str::<Value>(&raw) {
            Ok(Value::String(text)) => Ok(Some(text)),
            _ => Ok(Some(raw)),
        },
    }
}

pub fn sts_exchange_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&[
        "audience",
        "scopes",
        "subject_token",
        "subject_token_type",
        "impersonation",
        "options",
        "client_id",
        "client_secret",
    ])?;
    let params = StsExchangeParams {
        audience: input.str("audience")?,
        scopes: input.strings("scopes")?,
        subject_token: input.str("subject_token")?,
        subject_token_type: input.opt_str("subject_token_type")?,
        impersonation: input.bool("impersonation")?,
        options: options(input)?,
        client_id: input.opt_str("client_id")?,
        client_secret: input.opt_str("client_secret")?,
    };
    let result = i.api.cloudauth_auth_gcp().call_sts_exchange_request(&mut i.store, &params);
    called(result, request)
}

pub fn sts_exchange_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_gcp().call_parse_sts_exchange(&mut i.store, &resp, now);
    called(result, access_token)
}

pub fn impersonation_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["service_account", "access_token", "scopes", "lifetime_seconds", "delegates"])?;
    let (account, token, scopes, lifetime, delegates) = (
        input.str("service_account")?,
        input.str("access_token")?,
        input.strings("scopes")?,
        input.opt_u32("lifetime_seconds")?,
        input.opt_strings("delegates")?,
    );
    let result = i.api.cloudauth_auth_gcp().call_impersonation_request(
        &mut i.store,
        &account,
        &token,
        &scopes,
        lifetime,
        &delegates,
    );
    called(result, request)
}

pub fn impersonation_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let resp = response(input)?;
    let result = i.api.cloudauth_auth_gcp().call_parse_impersonation(&mut i.store, &resp);
    called(result, access_token)
}

pub fn metadata_token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["scopes", "service_account"])?;
    let (scopes, account) = (input.opt_strings("scopes")?, input.opt_str("service_account")?);
    let result = i.api.cloudauth_auth_gcp().call_metadata_token_request(&mut i.store, &scopes, account.as_deref());
    called(result, request)
}

pub fn metadata_token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_gcp().call_parse_metadata_token(&mut i.store, &resp, now);
    called(result, access_token)
}
