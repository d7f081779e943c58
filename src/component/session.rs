//! WIT glue of the `session` interface: the resource wraps a core
//! [`crate::session::Session`] in a `RefCell`; everything else is plain
//! conversion.

use std::cell::RefCell;

use super::exports::cloudauth::auth::session as wit;
use super::{Component, WitResult};
use crate::secret::Secret;
use crate::session;

/// The WIT resource wrapping a core session.
pub(crate) struct SessionResource(RefCell<session::Session>);

impl wit::Guest for Component {
    type Session = SessionResource;

    fn clear_cache() {
        session::clear_cache();
    }

    fn environment_names() -> Vec<String> {
        session::ENVIRONMENT_NAMES.iter().map(|n| (*n).to_owned()).collect()
    }
}

impl wit::GuestSession for SessionResource {
    fn start(request: wit::SessionRequest) -> WitResult<wit::Session> {
        let core = session::Session::start(request.into())?;
        Ok(wit::Session::new(SessionResource(RefCell::new(core))))
    }

    fn next(&self) -> wit::Step {
        self.0.borrow().next().into()
    }

    fn receive_http(&self, response: wit::HttpResponse, now: i64) -> WitResult<()> {
        Ok(self.0.borrow_mut().receive_http(response.into(), now)?)
    }

    fn receive_identity_token(&self, token: String, now: i64) -> WitResult<()> {
        Ok(self.0.borrow_mut().receive_identity_token(Secret::new(token), now)?)
    }

    fn receive_file(&self, contents: Option<Vec<u8>>, now: i64) -> WitResult<()> {
        Ok(self.0.borrow_mut().receive_file(contents, now)?)
    }

    fn cache_key(&self) -> String {
        self.0.borrow().cache_key().to_owned()
    }

    fn from_cache(&self) -> bool {
        self.0.borrow().from_cache()
    }
}

impl From<wit::SessionRequest> for session::SessionRequest {
    fn from(r: wit::SessionRequest) -> Self {
        session::SessionRequest {
            target: r.target.into(),
            identity: r.identity.into(),
            options: r.options.into(),
            now: r.now,
        }
    }
}

impl From<wit::Target> for session::Target {
    fn from(t: wit::Target) -> Self {
        match t {
            wit::Target::Registry(reference) => session::Target::Registry(reference),
            wit::Target::Git(url) => session::Target::Git(url),
            wit::Target::Cluster(c) => session::Target::Cluster(session::Cluster {
                provider: c.provider.into(),
                resource_id: c.resource_id,
                address: c.address,
                ca_data: c.ca_data,
            }),
            wit::Target::AccessToken((provider, scopes)) => {
                session::Target::AccessToken { provider: provider.into(), scopes }
            }
            wit::Target::GithubApp(a) => session::Target::GitHubApp(session::GitHubAppTarget {
                url: a.url,
                app_id: a.app_id,
                installation_id: a.installation_id,
                installation_owner: a.installation_owner,
                private_key: Secret::new(a.private_key),
                base_url: a.base_url,
            }),
        }
    }
}

impl From<wit::Identity> for session::Identity {
    fn from(i: wit::Identity) -> Self {
        match i {
            wit::Identity::Controller => session::Identity::Controller,
            wit::Identity::ServiceAccount(sa) => session::Identity::ServiceAccount(session::ServiceAccount {
                namespace: sa.namespace,
                name: sa.name,
                annotations: sa.annotations,
            }),
        }
    }
}

impl From<wit::Options> for session::Options {
    fn from(o: wit::Options) -> Self {
        session::Options {
            environment: o.environment,
            azure_environment: o.azure_environment.map(Into::into),
            sts_endpoint: o.sts_endpoint,
            object_level_workload_identity: o.object_level_workload_identity,
            registry_username: o.registry_username,
            registry_password: o.registry_password.map(Secret::new),
            trusted_realm_hosts: o.trusted_realm_hosts,
            skip_cache: o.skip_cache,
            rules: o.rules,
        }
    }
}

impl From<session::Step> for wit::Step {
    fn from(s: session::Step) -> Self {
        match s {
            session::Step::SendHttp(request) => wit::Step::SendHttp(request.into()),
            session::Step::FetchIdentityToken(r) => wit::Step::FetchIdentityToken(wit::IdentityTokenRequest {
                audience: r.audience,
                service_account: r.service_account,
                file: r.file,
            }),
            session::Step::Done(credentials) => wit::Step::Done(credentials.into()),
            session::Step::Failed(error) => wit::Step::Failed(error.into()),
            session::Step::ReadFile(path) => wit::Step::ReadFile(path),
        }
    }
}

impl From<session::Credentials> for wit::Credentials {
    fn from(c: session::Credentials) -> Self {
        match c {
            session::Credentials::Registry(r) => wit::Credentials::Registry(r.into()),
            session::Credentials::Git(g) => wit::Credentials::Git(wit::GitCredentials {
                username: g.username.expose().to_owned(),
                password: g.password.expose().to_owned(),
                bearer_token: g.bearer_token.expose().to_owned(),
                expires_at: g.expires_at,
            }),
            session::Credentials::RestConfig(r) => wit::Credentials::RestConfig(wit::RestConfig {
                host: r.host,
                ca_data: r.ca_data,
                bearer_token: r.bearer_token.expose().to_owned(),
                expires_at: r.expires_at,
            }),
            session::Credentials::AccessToken(t) => wit::Credentials::AccessToken(t.into()),
            session::Credentials::Aws(a) => wit::Credentials::Aws(a.into()),
        }
    }
}
