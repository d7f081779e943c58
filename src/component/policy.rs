//! WIT glue of the `policy` interface: plain conversions around
//! `session::explain` (the core) and `policy` (the rules).

use super::exports::cloudauth::auth::policy as wit;
use super::{Component, WitResult};
use crate::policy::Decision;
use crate::session::explain::{self, Contact, Explanation, Principal, PrincipalKind};
use crate::session::flow::Carries;

impl wit::Guest for Component {
    fn explain(request: wit::SessionRequest) -> WitResult<wit::Explanation> {
        Ok(explain::explain(&request.into())?.into())
    }

    fn evaluate(request: wit::SessionRequest, rules: String) -> WitResult<wit::Decision> {
        Ok(explain::evaluate(&request.into(), &rules)?.into())
    }
}

impl From<Explanation> for wit::Explanation {
    fn from(e: Explanation) -> Self {
        wit::Explanation {
            provider: e.provider.into(),
            cloud: e.cloud,
            region: e.region,
            aws_accounts: e.aws_accounts,
            azure_tenants: e.azure_tenants,
            gcp_projects: e.gcp_projects,
            principals: e.principals.into_iter().map(Into::into).collect(),
            identity_mode: match e.service_account {
                Some(sa) => wit::IdentityMode::ServiceAccount(sa),
                None => wit::IdentityMode::Controller,
            },
            target_hosts: e.target_hosts,
            hosts: e.contacts.into_iter().map(Into::into).collect(),
            scopes: e.scopes,
            audiences: e.audiences,
            lifetime: e.lifetime,
            run_time: e.run_time.into_iter().map(|(c, what)| format!("{}: {what}", c.key())).collect(),
            cache_key: e.cache_key,
        }
    }
}

impl From<Contact> for wit::Contact {
    fn from(c: Contact) -> Self {
        wit::Contact {
            host: c.host,
            scheme: c.scheme.to_owned(),
            carries: match c.carries {
                Carries::Nothing => wit::Carries::Nothing,
                Carries::Metadata => wit::Carries::Metadata,
                Carries::CloudCredential => wit::Carries::CloudCredential,
                Carries::RegistryPassword => wit::Carries::RegistryPassword,
                Carries::LocalCredential => wit::Carries::LocalCredential,
            },
            optional: c.optional,
        }
    }
}

impl From<Principal> for wit::Principal {
    fn from(p: Principal) -> Self {
        let kind = match p.kind {
            PrincipalKind::AwsRole => wit::PrincipalKind::AwsRole,
            PrincipalKind::AwsAccessKey => wit::PrincipalKind::AwsAccessKey,
            PrincipalKind::AwsInstanceRole => wit::PrincipalKind::AwsInstanceRole,
            PrincipalKind::AzureClient => wit::PrincipalKind::AzureClient,
            PrincipalKind::AzureManagedIdentity => wit::PrincipalKind::AzureManagedIdentity,
            PrincipalKind::GcpServiceAccount => wit::PrincipalKind::GcpServiceAccount,
            PrincipalKind::GcpWorkloadIdentityProvider => wit::PrincipalKind::GcpWorkloadIdentityProvider,
            PrincipalKind::GcpWorkloadIdentityPool => wit::PrincipalKind::GcpWorkloadIdentityPool,
            PrincipalKind::KubernetesServiceAccount => wit::PrincipalKind::KubernetesServiceAccount,
            PrincipalKind::RegistryUser => wit::PrincipalKind::RegistryUser,
        };
        wit::Principal { kind, id: p.id }
    }
}

impl From<Decision> for wit::Decision {
    fn from(d: Decision) -> Self {
        wit::Decision { allowed: d.allowed, denied_by: d.denied_by, allowed_by: d.allowed_by }
    }
}
