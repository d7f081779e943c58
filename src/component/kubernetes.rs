use super::exports::cloudauth::auth::kubernetes::Guest;
use super::wit::{AccessToken, HttpRequest, HttpResponse};
use super::{Component, WitResult};
use crate::kubernetes;
use crate::secret::Secret;

impl Guest for Component {
    fn token_request(
        api_server: String,
        namespace: String,
        service_account: String,
        audiences: Vec<String>,
        expiration_seconds: Option<i64>,
        bearer_token: Option<String>,
    ) -> WitResult<HttpRequest> {
        let bearer = bearer_token.map(Secret::new);
        let params = kubernetes::TokenRequestParams {
            api_server: &api_server,
            namespace: &namespace,
            service_account: &service_account,
            audiences: &audiences,
            expiration_seconds,
            bearer_token: bearer.as_ref(),
        };
        Ok(kubernetes::token_request(&params)?.into())
    }

    fn parse_token_request(response: HttpResponse) -> WitResult<AccessToken> {
        Ok(kubernetes::parse_token_request(&response.into())?.into())
    }
}
