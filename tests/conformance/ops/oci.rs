//! `oci.*`: Docker registry token authentication.

use serde_json::{Map, Value};

use super::{called, output, request, response, token};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::oci::Challenge;

/// `{scheme, realm?, service?, scopes}`; realm and service are left out when none.
fn challenge_output(c: Challenge) -> Actual {
    let mut out = Map::new();
    out.insert("scheme".into(), Value::String(c.scheme));
    if let Some(realm) = c.realm {
        out.insert("realm".into(), Value::String(realm));
    }
    if let Some(service) = c.service {
        out.insert("service".into(), Value::String(service));
    }
    out.insert("scopes".into(), c.scopes.into());
    output(Value::Object(out))
}

pub fn challenge(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["header"])?;
    let header = input.str("header")?;
    let result = i.api.cloudauth_auth_oci().call_parse_challenge(&mut i.store, &header);
    called(result, challenge_output)
}

pub fn token_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["realm", "service", "scopes", "username", "password"])?;
    let (realm, service, scopes, username, password) = (
        input.str("realm")?,
        input.opt_str("service")?,
        input.strings("scopes")?,
        input.opt_str("username")?,
        input.opt_str("password")?,
    );
    let result = i.api.cloudauth_auth_oci().call_token_request(
        &mut i.store,
        &realm,
        service.as_deref(),
        &scopes,
        username.as_deref(),
        password.as_deref(),
    );
    called(result, request)
}

pub fn token_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(super::RESPONSE_FIELDS)?;
    let (resp, now) = (response(input)?, input.i64("now")?);
    let result = i.api.cloudauth_auth_oci().call_parse_token(&mut i.store, &resp, now);
    called(result, token)
}
