use super::exports::cloudauth::auth::oci::{Challenge, Guest};
use super::wit::{AccessToken, HttpRequest, HttpResponse};
use super::{Component, WitResult};
use crate::oci::{challenge, token};
use crate::secret::Secret;

impl Guest for Component {
    fn parse_challenge(header: String) -> WitResult<Challenge> {
        let c = challenge::parse(&header)?;
        Ok(Challenge { scheme: c.scheme, realm: c.realm, service: c.service, scopes: c.scopes })
    }

    fn token_request(
        realm: String,
        service: Option<String>,
        scopes: Vec<String>,
        username: Option<String>,
        password: Option<String>,
    ) -> WitResult<HttpRequest> {
        if username.is_none() && password.is_some() {
            return Err(crate::Error::InvalidInput("a password needs a user name".to_owned()).into());
        }
        let password = Secret::new(password.unwrap_or_default());
        let basic = username.as_deref().map(|username| token::BasicAuth { username, password: &password });
        Ok(token::token_request(&realm, service.as_deref(), &scopes, basic.as_ref())?.into())
    }

    fn parse_token(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(token::parse_token(&response.into(), now)?.into())
    }
}
