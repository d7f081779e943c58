//! `registry.*`: target resolution.

use serde_json::{Map, Value};

use super::azure::cloud_name;
use super::{called, output};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::resolve::RegistryTarget;
use crate::support::api::types::{AzureEnvironment, Provider};

/// `custom_cloud?`: the keys of fluxcd/pkg's environment file that the WIT
/// record carries. The file's other keys are not the component's business.
fn custom_cloud(input: &Input) -> Result<Option<AzureEnvironment>, Stop> {
    let Some(file) = input.opt_object("custom_cloud")? else {
        return Ok(None);
    };
    let key = |name: &str| match file.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Stop::Fail(format!("input.custom_cloud.{name} is not a string"))),
    };
    Ok(Some(AzureEnvironment {
        resource_manager_endpoint: key("resourceManagerEndpoint")?,
        token_audience: key("tokenAudience")?,
        container_registry_dns_suffix: key("containerRegistryDNSSuffix")?,
    }))
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Azure => "azure",
        Provider::Aws => "aws",
        Provider::Gcp => "gcp",
        Provider::Generic => "generic",
    }
}

/// `{provider, registry}`, plus `cloud` for Azure and `account_id?`,
/// `region`, `partition`, `fips`, `public` for AWS.
fn target_output(t: RegistryTarget) -> Actual {
    let mut out = Map::new();
    out.insert("provider".into(), provider_name(t.provider).into());
    out.insert("registry".into(), t.registry.into());
    if let Some(cloud) = t.azure_cloud {
        out.insert("cloud".into(), cloud_name(cloud).into());
    }
    if let Some(aws) = t.aws {
        if let Some(account) = aws.account_id {
            out.insert("account_id".into(), account.into());
        }
        out.insert("region".into(), aws.region.into());
        out.insert("partition".into(), aws.partition.into());
        out.insert("fips".into(), aws.fips.into());
        out.insert("public".into(), aws.public.into());
    }
    output(Value::Object(out))
}

pub fn resolve(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["reference", "custom_cloud"])?;
    let (reference, cloud) = (input.str("reference")?, custom_cloud(input)?);
    let result = i.api.cloudauth_auth_resolve().call_resolve_registry(&mut i.store, &reference, cloud.as_ref());
    called(result, target_output)
}

pub fn scope(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(&["reference", "custom_cloud"])?;
    let (reference, cloud) = (input.str("reference")?, custom_cloud(input)?);
    let result = i.api.cloudauth_auth_resolve().call_registry_scopes(&mut i.store, &reference, cloud.as_ref());
    called(result, |scopes| output(serde_json::json!({ "scopes": scopes })))
}
