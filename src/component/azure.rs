use super::exports::cloudauth::auth::azure::{Authority, Guest, ManagedIdentity};
use super::wit::{AccessToken, AzureCloud, AzureEnvironment, HttpRequest, HttpResponse, RegistryCredentials};
use super::{Component, WitResult};
use crate::azure::{acr, cloud, entra, imds};
use crate::secret::Secret;

impl Guest for Component {
    fn entra_token_request(
        authority: Authority,
        tenant_id: String,
        client_id: String,
        scope: String,
        client_assertion: String,
    ) -> WitResult<HttpRequest> {
        let authority = match authority {
            Authority::Cloud(c) => entra::Authority::Cloud(c.into()),
            Authority::Host(h) => entra::Authority::Host(h),
        };
        let assertion = Secret::new(client_assertion);
        let params = entra::AssertionTokenRequest {
            authority: &authority,
            tenant_id: &tenant_id,
            client_id: &client_id,
            scope: &scope,
            client_assertion: &assertion,
        };
        Ok(entra::token_request(&params)?.into())
    }

    fn parse_entra_token(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(entra::parse_token(&response.into(), now)?.into())
    }

    fn imds_token_request(scope: String, identity: ManagedIdentity) -> WitResult<HttpRequest> {
        let identity = match identity {
            ManagedIdentity::SystemAssigned => imds::ManagedIdentity::SystemAssigned,
            ManagedIdentity::ClientId(v) => imds::ManagedIdentity::ClientId(v),
            ManagedIdentity::ObjectId(v) => imds::ManagedIdentity::ObjectId(v),
            ManagedIdentity::ResourceId(v) => imds::ManagedIdentity::ResourceId(v),
        };
        Ok(imds::token_request(&scope, &identity)?.into())
    }

    fn parse_imds_token(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(imds::parse_token(&response.into(), now)?.into())
    }

    fn acr_exchange_request(
        registry: String,
        access_token: String,
        tenant_id: Option<String>,
    ) -> WitResult<HttpRequest> {
        Ok(acr::exchange_request(&registry, &Secret::new(access_token), tenant_id.as_deref())?.into())
    }

    fn parse_acr_exchange(response: HttpResponse, now: i64) -> WitResult<RegistryCredentials> {
        Ok(acr::parse_exchange(&response.into(), now)?.into())
    }

    fn acr_token_request(registry: String, refresh_token: String, scopes: Vec<String>) -> WitResult<HttpRequest> {
        Ok(acr::token_request(&registry, &Secret::new(refresh_token), &scopes)?.into())
    }

    fn parse_acr_token(response: HttpResponse, now: i64) -> WitResult<AccessToken> {
        Ok(acr::parse_token(&response.into(), now)?.into())
    }

    fn arm_scope(cloud: AzureCloud, environment: Option<AzureEnvironment>) -> WitResult<String> {
        let env = environment.map(Into::into);
        Ok(cloud::arm_scope(cloud.into(), env.as_ref())?)
    }

    fn aks_scope() -> String {
        cloud::AKS_SCOPE.to_owned()
    }

    fn devops_scope() -> String {
        cloud::DEVOPS_SCOPE.to_owned()
    }
}
