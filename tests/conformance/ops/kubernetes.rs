//! `kubernetes.*`: the TokenRequest API.

use super::{RESPONSE_FIELDS, called, request, response, token};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;

pub fn token_request_request(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["api_server", "namespace", "service_account", "audiences", "expiration_seconds", "bearer_token"])?;
    let (server, namespace, account, audiences, expiration, bearer) = (
        input.str("api_server")?,
        input.str("namespace")?,
        input.str("service_account")?,
        input.strings("audiences")?,
        input.opt_i64("expiration_seconds")?,
        input.opt_str("bearer_token")?,
    );
    let result = i.api.cloudauth_auth_kubernetes().call_token_request(
        &mut i.store,
        &server,
        &namespace,
        &account,
        &audiences,
        expiration,
        bearer.as_deref(),
    );
    called(result, request)
}

pub fn token_request_response(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(RESPONSE_FIELDS)?;
    let resp = response(input)?;
    let result = i.api.cloudauth_auth_kubernetes().call_parse_token_request(&mut i.store, &resp);
    called(result, token)
}
