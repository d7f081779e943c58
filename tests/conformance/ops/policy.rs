//! `policy.*`: `explain` and `evaluate` of a session request (the project's
//! own ops, documented in tests/cases/README.md).

use serde_json::{Map, Value, json};

use super::{called, output, unknown_name};
use crate::case::{Input, Stop};
use crate::compare::Actual;
use crate::support::Instance;
use crate::support::api::policy::{Carries, Decision, Explanation, IdentityMode, PrincipalKind};
use crate::support::api::session::{Cluster, Identity, Options, ServiceAccount, SessionRequest, Target};
use crate::support::api::types::Provider;

/// The fields of a session request.
const REQUEST_FIELDS: &[&str] = &[
    "target",
    "service_account",
    "environment",
    "sts_endpoint",
    "object_level_workload_identity",
    "registry_username",
    "registry_password",
    "trusted_realm_hosts",
    "request_rules",
];

fn provider(name: &str, field: &str) -> Result<Provider, Stop> {
    match name {
        "azure" => Ok(Provider::Azure),
        "aws" => Ok(Provider::Aws),
        "gcp" => Ok(Provider::Gcp),
        "generic" => Ok(Provider::Generic),
        other => Err(unknown_name(field, other, &["azure", "aws", "gcp", "generic"])),
    }
}

fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::Azure => "azure",
        Provider::Aws => "aws",
        Provider::Gcp => "gcp",
        Provider::Generic => "generic",
    }
}

fn fail(message: String) -> Stop {
    Stop::Fail(message)
}

fn string(v: &Value, field: &str) -> Result<String, Stop> {
    v.as_str().map(str::to_owned).ok_or_else(|| fail(format!("input.{field} is not a string")))
}

fn opt_string(v: Option<&Value>, field: &str) -> Result<Option<String>, Stop> {
    v.filter(|v| !v.is_null()).map(|v| string(v, field)).transpose()
}

fn pairs(v: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, Stop> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => {
            map.iter().map(|(k, v)| Ok((k.clone(), string(v, &format!("{field}.{k}"))?))).collect()
        }
        Some(_) => Err(fail(format!("input.{field} is not an object"))),
    }
}

/// `target`: `{"registry": ref}`, `{"git": url}`, `{"cluster": {provider,
/// resource_id, address?, ca_data?}}` or `{"access_token": {provider, scopes?}}`.
fn target(input: &Input) -> Result<Target, Stop> {
    let Some(map) = input.opt_object("target")? else {
        return Err(fail("input.target is missing".into()));
    };
    let [(kind, value)] = map.iter().collect::<Vec<_>>()[..] else {
        return Err(fail("input.target must have exactly one of registry, git, cluster, access_token".into()));
    };
    match kind.as_str() {
        "registry" => Ok(Target::Registry(string(value, "target.registry")?)),
        "git" => Ok(Target::Git(string(value, "target.git")?)),
        "cluster" => Ok(Target::Cluster(Cluster {
            provider: provider(&string(&value["provider"], "target.cluster.provider")?, "target.cluster.provider")?,
            resource_id: opt_string(value.get("resource_id"), "target.cluster.resource_id")?.unwrap_or_default(),
            address: opt_string(value.get("address"), "target.cluster.address")?,
            ca_data: opt_string(value.get("ca_data"), "target.cluster.ca_data")?,
        })),
        "access_token" => {
            let scopes = match value.get("scopes") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    items.iter().map(|s| string(s, "target.access_token.scopes")).collect::<Result<_, _>>()?
                }
                Some(_) => return Err(fail("input.target.access_token.scopes is not a list".into())),
            };
            let p =
                provider(&string(&value["provider"], "target.access_token.provider")?, "target.access_token.provider")?;
            Ok(Target::AccessToken((p, scopes)))
        }
        other => Err(fail(format!("input.target.{other}: not a target kind"))),
    }
}

/// The session request of a case; `rules`, when the field is given, is
/// its JSON text (a string is taken as the text itself).
fn session_request(input: &Input) -> Result<SessionRequest, Stop> {
    let identity = match input.opt_object("service_account")? {
        None => Identity::Controller,
        Some(sa) => Identity::ServiceAccount(ServiceAccount {
            namespace: opt_string(sa.get("namespace"), "service_account.namespace")?.unwrap_or_default(),
            name: opt_string(sa.get("name"), "service_account.name")?.unwrap_or_default(),
            annotations: pairs(sa.get("annotations"), "service_account.annotations")?,
        }),
    };
    let environment = match input.opt_object("environment")? {
        None => Vec::new(),
        Some(map) => pairs(Some(&Value::Object(map.clone())), "environment")?,
    };
    Ok(SessionRequest {
        target: target(input)?,
        identity,
        options: Options {
            environment,
            azure_environment: None,
            sts_endpoint: input.opt_str("sts_endpoint")?,
            object_level_workload_identity: input.bool("object_level_workload_identity")?,
            registry_username: input.opt_str("registry_username")?,
            registry_password: input.opt_str("registry_password")?,
            trusted_realm_hosts: input.opt_strings("trusted_realm_hosts")?,
            skip_cache: true,
            rules: rules_text(input, "request_rules")?,
        },
        now: input.opt_i64("now")?.unwrap_or(1_705_320_000),
    })
}

fn rules_text(input: &Input, field: &str) -> Result<Option<String>, Stop> {
    match input.opt_str(field) {
        Ok(text) => Ok(text),
        Err(_) => Ok(input.raw_json(field)),
    }
}

fn carries(c: Carries) -> &'static str {
    match c {
        Carries::Nothing => "nothing",
        Carries::Metadata => "metadata",
        Carries::CloudCredential => "cloud-credential",
        Carries::RegistryPassword => "registry-password",
        Carries::LocalCredential => "local-credential",
    }
}

fn kind(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::AwsRole => "aws-role",
        PrincipalKind::AwsAccessKey => "aws-access-key",
        PrincipalKind::AwsInstanceRole => "aws-instance-role",
        PrincipalKind::AzureClient => "azure-client",
        PrincipalKind::AzureManagedIdentity => "azure-managed-identity",
        PrincipalKind::GcpServiceAccount => "gcp-service-account",
        PrincipalKind::GcpWorkloadIdentityProvider => "gcp-workload-identity-provider",
        PrincipalKind::GcpWorkloadIdentityPool => "gcp-workload-identity-pool",
        PrincipalKind::KubernetesServiceAccount => "kubernetes-service-account",
        PrincipalKind::RegistryUser => "registry-user",
    }
}

fn explanation(e: Explanation) -> Actual {
    let mut out = Map::new();
    out.insert("provider".into(), provider_name(e.provider).into());
    out.insert("cloud".into(), e.cloud.into());
    out.insert("region".into(), e.region.into());
    out.insert("aws_accounts".into(), e.aws_accounts.into());
    out.insert("azure_tenants".into(), e.azure_tenants.into());
    out.insert("gcp_projects".into(), e.gcp_projects.into());
    let principals: Vec<Value> = e.principals.into_iter().map(|p| json!({"kind": kind(p.kind), "id": p.id})).collect();
    out.insert("principals".into(), principals.into());
    let identity = match e.identity_mode {
        IdentityMode::Controller => json!("controller"),
        IdentityMode::ServiceAccount((namespace, name)) => json!({"namespace": namespace, "name": name}),
    };
    out.insert("identity".into(), identity);
    out.insert("target_hosts".into(), e.target_hosts.into());
    let hosts: Vec<Value> = e
        .hosts
        .into_iter()
        .map(|c| json!({"host": c.host, "scheme": c.scheme, "carries": carries(c.carries), "optional": c.optional}))
        .collect();
    out.insert("hosts".into(), hosts.into());
    out.insert("scopes".into(), e.scopes.into());
    out.insert("audiences".into(), e.audiences.into());
    out.insert("lifetime".into(), e.lifetime.into());
    out.insert("run_time".into(), e.run_time.into());
    out.insert("cache_key".into(), e.cache_key.into());
    output(Value::Object(out))
}

fn decision(d: Decision) -> Actual {
    output(json!({"allowed": d.allowed, "denied_by": d.denied_by, "allowed_by": d.allowed_by}))
}

/// `policy.explain`: a session request; output the explanation.
pub fn explain(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    input.only(REQUEST_FIELDS)?;
    let request = session_request(input)?;
    called(i.api.cloudauth_auth_policy().call_explain(&mut i.store, &request), explanation)
}

/// `policy.evaluate`: a session request and `rules` (an object, or a
/// string holding the document's exact text); output the decision.
pub fn evaluate(input: &Input, i: &mut Instance) -> Result<Actual, Stop> {
    let mut fields = REQUEST_FIELDS.to_vec();
    fields.push("rules");
    input.only(&fields)?;
    let request = session_request(input)?;
    let rules = rules_text(input, "rules")?.ok_or_else(|| fail("input.rules is missing".into()))?;
    called(i.api.cloudauth_auth_policy().call_evaluate(&mut i.store, &request, &rules), decision)
}
