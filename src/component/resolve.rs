use super::exports::cloudauth::auth::resolve::{AwsRegistry, Guest, RegistryTarget};
use super::wit::{AzureEnvironment, Provider};
use super::{Component, WitResult};
use crate::target;

impl From<target::Provider> for Provider {
    fn from(p: target::Provider) -> Self {
        match p {
            target::Provider::Azure => Provider::Azure,
            target::Provider::Aws => Provider::Aws,
            target::Provider::Gcp => Provider::Gcp,
            target::Provider::Generic => Provider::Generic,
        }
    }
}

impl From<Provider> for target::Provider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Azure => target::Provider::Azure,
            Provider::Aws => target::Provider::Aws,
            Provider::Gcp => target::Provider::Gcp,
            Provider::Generic => target::Provider::Generic,
        }
    }
}

impl Guest for Component {
    fn resolve_registry(reference: String, custom_cloud: Option<AzureEnvironment>) -> WitResult<RegistryTarget> {
        let env = custom_cloud.map(Into::into);
        let t = target::resolve_registry(&reference, env.as_ref())?;
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
        Ok(target::registry_scopes(&reference, env.as_ref())?)
    }

    fn service_account_audience(provider: Provider) -> WitResult<String> {
        Ok(target::service_account_audience(provider.into())?.to_owned())
    }
}
