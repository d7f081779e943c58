use super::exports::cloudauth::auth::gcp::{Guest, StsExchangeParams};
use super::wit::{AccessToken, HttpRequest, HttpResponse, RegistryCredentials};
use super::{Component, WitResult};
use crate::gcp::{self, iam, metadata, sts};
use crate::secret::Secret;

impl Guest for Component {
    fn sts_exchange_request(params: StsExchangeParams) -> WitResult<HttpRequest> {
        let subject_token = Secret::new(params.subject_token);
        let client_secret = params.client_secret.map(Secret::new);
        let core = sts::ExchangeParams {
            audience: &params.audience,
            scopes: &params.scopes,
            subject_token: &subject_token,
            subject_token_type: params.subject_token_type.as_deref(),
            impersonation: params.impersonation,
            options: params.options.as_deref(),
            client_id: params.client_id.as_deref(),
            client_secret: client_secret.as_ref(),
        };
        Ok(sts::exchange_request(&core)?.into())
    }

    fn parse_sts_exchange(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(sts::parse_exchange(&response.into(), now)?.into())
    }

    fn impersonation_request(
        service_account: String,
        access_token: String,
        scopes: Vec<String>,
        lifetime_seconds: Option<u32>,
        delegates: Vec<String>,
    ) -> WitResult<HttpRequest> {
        Ok(iam::impersonation_request(
            &service_account,
            &Secret::new(access_token),
            &scopes,
            lifetime_seconds,
            &delegates,
        )?
        .into())
    }

    fn parse_impersonation(response: HttpResponse) -> WitResult<AccessToken> {
        Ok(iam::parse_impersonation(&response.into())?.into())
    }

    fn metadata_token_request(scopes: Vec<String>, service_account: Option<String>) -> WitResult<HttpRequest> {
        Ok(metadata::token_request(&scopes, service_account.as_deref())?.into())
    }

    fn parse_metadata_token(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(metadata::parse_token(&response.into(), now)?.into())
    }

    fn docker_credentials(token: AccessToken) -> RegistryCredentials {
        gcp::registry_credentials(&token.into()).into()
    }
}
