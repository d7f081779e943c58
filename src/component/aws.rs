use super::exports::cloudauth::auth::aws::{
    CodecommitGitCredentials, EcrTokenParams, Endpoint, EndpointOptions, Guest, Service, WebIdentityParams,
};
use super::wit::{AccessToken, AwsCredentials, HttpRequest, HttpResponse, RegistryCredentials};
use super::{Component, WitResult};
use crate::aws::{codecommit, ecr, eks, endpoint, sts};
use crate::secret::Secret;

impl From<EndpointOptions> for endpoint::EndpointOptions {
    fn from(o: EndpointOptions) -> Self {
        endpoint::EndpointOptions { fips: o.fips, dualstack: o.dualstack, legacy: o.legacy }
    }
}

impl Guest for Component {
    fn resolve_endpoint(service: Service, region: String, options: EndpointOptions) -> WitResult<Endpoint> {
        let service = match service {
            Service::Sts => endpoint::Service::Sts,
            Service::Ecr => endpoint::Service::Ecr,
            Service::EcrPublic => endpoint::Service::EcrPublic,
        };
        let e = endpoint::resolve(service, &region, options.into())?;
        Ok(Endpoint { url: e.url, signing_region: e.signing_region })
    }

    fn sts_web_identity_request(params: WebIdentityParams) -> WitResult<HttpRequest> {
        let token = Secret::new(params.web_identity_token);
        let core = sts::WebIdentityParams {
            region: &params.region,
            role_arn: &params.role_arn,
            role_session_name: &params.role_session_name,
            web_identity_token: &token,
            duration_seconds: params.duration_seconds,
            policy_arns: &params.policy_arns,
            endpoint: params.endpoint.into(),
        };
        Ok(sts::web_identity_request(&core)?.into())
    }

    fn parse_sts_web_identity(response: HttpResponse) -> WitResult<AwsCredentials> {
        Ok(sts::parse_web_identity(&response.into())?.into())
    }

    fn ecr_token_request(params: EcrTokenParams, now: i64) -> WitResult<HttpRequest> {
        let credentials = params.credentials.into();
        let core = ecr::EcrTokenParams {
            region: &params.region,
            credentials: &credentials,
            registry_ids: &params.registry_ids,
            public: params.public,
            endpoint: params.endpoint.into(),
        };
        Ok(ecr::token_request(&core, now)?.into())
    }

    fn parse_ecr_token(response: HttpResponse, public: bool) -> WitResult<RegistryCredentials> {
        Ok(ecr::parse_token(&response.into(), public)?.into())
    }

    fn eks_token(
        cluster: String,
        region: String,
        credentials: AwsCredentials,
        now: i64,
        endpoint: EndpointOptions,
    ) -> WitResult<AccessToken> {
        Ok(eks::token(&cluster, &region, &credentials.into(), now, endpoint.into())?.into())
    }

    fn codecommit_credentials(
        url: String,
        credentials: AwsCredentials,
        now: i64,
    ) -> WitResult<CodecommitGitCredentials> {
        let c = codecommit::git_credentials(&url, &credentials.into(), now)?;
        Ok(CodecommitGitCredentials {
            username: c.username.expose().to_owned(),
            password: c.password.expose().to_owned(),
            expires_at: c.expires_at,
        })
    }
}
