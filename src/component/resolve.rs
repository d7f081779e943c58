use super::exports::cloudauth::auth::resolve::{AwsRegistry, Guest, RegistryTarget};
use super::wit::{AzureEnvironment, Provider};
use super::{Component, WitResult};
use crate::registry;

impl From<registry::Provider> for Provider {
    fn from(p: registry::Provider) -> Self {
        match p {
            registry::Provider::Azure => Provider::Azure,
            registry::Provider::Aws => Provider::Aws,
            registry::Provider::Gcp => Provider::Gcp,
            registry::Provider::Generic => Provider::Generic,
        }
    }
}

impl From<Provider> for registry::Provider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Azure => registry::Provider::Azure,
            Provider::Aws => registry::Provider::Aws,
            Provider::Gcp => registry::Provider::Gcp,
            Provider::Generic => registry::Provider::Generic,
        }
    }
}

impl Guest for Component {
    fn resolve_registry(reference: String, custom_cloud: Option<AzureEnvironment>) -> WitResult<RegistryTarget> {
        let env = custom_cloud.map(Into::into);
        let t = registry::resolve_registry(&reference, env.as_ref())?;
        Ok(RegistryTarget {
            provider: t.provider.into(),
            registry: t.registry,
            azure_cloud: t.azure_cloud.map(Into::into),
            aws: t.aws.map(|a| AwsRegistry {
                account_id: a.account_id,
                region: a.region,
                partition: a.partition.to_owned(),
                fips: a.fips,
                public: a.public,
            }),
        })
    }

    fn registry_scopes(reference: String, custom_cloud: Option<AzureEnvironment>) -> WitResult<Vec<String>> {
        let env = custom_cloud.map(Into::into);
        Ok(registry::registry_scopes(&reference, env.as_ref())?)
    }

    fn service_account_audience(provider: Provider) -> WitResult<String> {
        Ok(registry::service_account_audience(provider.into())?.to_owned())
    }
}
