//! `cloudauth-host admission-webhook`: a Kubernetes validating admission
//! webhook that decides, through the component's `policy.evaluate`, whether
//! an object that makes Flux (or the kubelet) fetch cloud credentials is
//! allowed by a rules document (docs/policy.md).
//!
//! This module is the AdmissionReview logic (`admission.k8s.io/v1`): which
//! objects ask for which credentials ([`asks`]), and the review's answer
//! ([`answer`]). The TLS server that carries it is in `admission_server.rs`.
//!
//! Objects and what they ask for:
//!
//! | object | target | identity |
//! |---|---|---|
//! | `OCIRepository`, `HelmRepository` (`spec.type: oci`) | `spec.url` | `spec.provider`; `spec.serviceAccountName` |
//! | `ImageRepository` | `spec.image` | as above |
//! | `GitRepository` with `spec.provider: azure` | `spec.url` | as above |
//! | `ConfigMap` with `data.provider` (Flux's `kubeConfig.configMapRef`) | `data.cluster`, `data.address` | `data.serviceAccountName` |
//! | `Kustomization`, `HelmRelease` with `spec.kubeConfig.configMapRef` | the ConfigMap, decided when it is admitted | |
//! | `Pod` | every container image | the node's, or the pod's service account with the workload identity annotations the pod carries |
//! | `ServiceAccount` with workload identity annotations | a token of that provider | the account itself |
//!
//! A service account's annotations are only known where the admission
//! request gives them: a `ServiceAccount` review has them, so a forbidden
//! role or client id is refused when the account is created or changed;
//! a Flux object naming `spec.serviceAccountName` is evaluated with the
//! workload identity annotations of the object itself, when it has them, and
//! otherwise with the namespace rules only (a plain token request of that
//! provider for the account).

use serde_json::{Value, json};

/// `(namespace, name, annotations)` of a service account an object names.
pub type NamedServiceAccount = (String, String, Vec<(String, String)>);

/// One credential request an object implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// What in the object asks, for messages (`spec.url`).
    pub field: String,
    pub target: Target,
    /// The provider the object names, checked against the one cloudauth resolves.
    pub provider: Option<String>,
    /// The service account for object-level identity.
    pub service_account: Option<NamedServiceAccount>,
    /// A registry the object names without a cloud provider: evaluated with
    /// placeholder credentials, so that only the host rules apply.
    pub generic_registry: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Registry(String),
    Git(String),
    Cluster { provider: String, resource_id: String, address: Option<String> },
    AccessToken { provider: String },
}

/// What the webhook makes of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    /// The credential requests to decide.
    Asks(Vec<Ask>),
    /// Understood, and it fetches no cloud credential: allowed, with why.
    Nothing(String),
    /// Not an object this webhook evaluates: allowed, with a clear message.
    NotUnderstood(String),
}

/// The verdict on one ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub reasons: Vec<String>,
}

/// The workload identity annotation keys, per provider (fluxcd/pkg's).
const ANNOTATIONS: &[(&str, &str)] = &[
    ("eks.amazonaws.com/role-arn", "aws"),
    ("azure.workload.identity/client-id", "azure"),
    ("azure.workload.identity/tenant-id", "azure"),
    ("iam.gke.io/gcp-service-account", "gcp"),
    ("gcp.auth.fluxcd.io/workload-identity-provider", "gcp"),
];

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The workload identity annotations of an object's metadata.
fn identity_annotations(object: &Value) -> Vec<(String, String)> {
    let Some(map) = object.pointer("/metadata/annotations").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, _)| ANNOTATIONS.iter().any(|(key, _)| key == k))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// The uid of a review and what its object asks for.
pub fn read(review: &Value) -> Result<(String, Reading), String> {
    if review.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || review.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        return Err("not an admission.k8s.io/v1 AdmissionReview".into());
    }
    let request = review.get("request").ok_or("the AdmissionReview has no request")?;
    let uid = str_at(request, &["uid"]).ok_or("the AdmissionReview request has no uid")?.to_owned();
    if request.get("operation").and_then(Value::as_str) == Some("DELETE") {
        return Ok((uid, Reading::Nothing("a DELETE fetches no credentials".into())));
    }
    let object = request.get("object").filter(|o| o.is_object()).ok_or("the AdmissionReview request has no object")?;
    let namespace = str_at(request, &["namespace"]).or_else(|| str_at(object, &["metadata", "namespace"]));
    Ok((uid, reading(object, namespace.unwrap_or("default"))))
}

fn reading(object: &Value, namespace: &str) -> Reading {
    let group = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let group = group.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    let spec = object.get("spec").cloned().unwrap_or(Value::Null);
    let service_account =
        |name: Option<&str>| name.map(|n| (namespace.to_owned(), n.to_owned(), identity_annotations(object)));
    let source = |field: &str| -> Reading {
        let Some(url) = str_at(&spec, &[field]) else {
            return Reading::NotUnderstood(format!("{kind} has no spec.{field}"));
        };
        let provider = str_at(&spec, &["provider"]).unwrap_or("generic");
        let generic = provider == "generic";
        Reading::Asks(vec![Ask {
            field: format!("spec.{field}"),
            target: Target::Registry(url.to_owned()),
            provider: (!generic).then(|| provider.to_owned()),
            service_account: if generic { None } else { service_account(str_at(&spec, &["serviceAccountName"])) },
            generic_registry: generic,
        }])
    };
    match (group, kind) {
        ("source.toolkit.fluxcd.io", "OCIRepository") => source("url"),
        ("source.toolkit.fluxcd.io", "HelmRepository") => match str_at(&spec, &["type"]) {
            Some("oci") => source("url"),
            other => Reading::Nothing(format!(
                "HelmRepository of type {}: not an OCI registry, no cloud credentials",
                other.unwrap_or("default")
            )),
        },
        ("image.toolkit.fluxcd.io", "ImageRepository") => source("image"),
        ("source.toolkit.fluxcd.io", "GitRepository") => {
            match (str_at(&spec, &["provider"]), str_at(&spec, &["url"])) {
                (None | Some("generic"), _) => {
                    Reading::Nothing("GitRepository without a cloud provider: no cloud credentials".into())
                }
                (Some("azure"), Some(url)) => Reading::Asks(vec![Ask {
                    field: "spec.url".into(),
                    target: Target::Git(url.to_owned()),
                    provider: Some("azure".into()),
                    service_account: service_account(str_at(&spec, &["serviceAccountName"])),
                    generic_registry: false,
                }]),
                (Some(p), _) => Reading::NotUnderstood(format!(
                    "GitRepository with provider {p}: cloudauth issues Git credentials for provider azure only"
                )),
            }
        }
        ("kustomize.toolkit.fluxcd.io", "Kustomization") | ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            match str_at(&spec, &["kubeConfig", "configMapRef", "name"]) {
                Some(name) => Reading::Nothing(format!(
                    "{kind} takes its cluster from ConfigMap {namespace}/{name}: the ConfigMap is evaluated when it is admitted"
                )),
                None => Reading::Nothing(format!("{kind} without spec.kubeConfig.configMapRef: no cloud credentials")),
            }
        }
        ("", "ConfigMap") => {
            let data = object.get("data").cloned().unwrap_or(Value::Null);
            match str_at(&data, &["provider"]) {
                Some(provider @ ("aws" | "azure" | "gcp" | "generic")) => Reading::Asks(vec![Ask {
                    field: "data".into(),
                    target: Target::Cluster {
                        provider: provider.to_owned(),
                        resource_id: str_at(&data, &["cluster"]).unwrap_or_default().to_owned(),
                        address: str_at(&data, &["address"]).map(str::to_owned),
                    },
                    provider: Some(provider.to_owned()),
                    service_account: service_account(str_at(&data, &["serviceAccountName"])),
                    generic_registry: false,
                }]),
                _ => Reading::Nothing("ConfigMap without data.provider: not a Flux kubeconfig reference".into()),
            }
        }
        ("", "Pod") => pod_asks(object, &spec, namespace),
        ("", "ServiceAccount") => {
            let annotations = identity_annotations(object);
            let mut providers: Vec<&str> = ANNOTATIONS
                .iter()
                .filter(|(key, _)| annotations.iter().any(|(k, _)| k == key))
                .map(|(_, p)| *p)
                .collect();
            providers.dedup();
            let name = str_at(object, &["metadata", "name"]).unwrap_or_default();
            if providers.is_empty() {
                return Reading::Nothing("ServiceAccount without workload identity annotations".into());
            }
            Reading::Asks(
                providers
                    .into_iter()
                    .map(|p| Ask {
                        field: "metadata.annotations".into(),
                        target: Target::AccessToken { provider: p.to_owned() },
                        provider: Some(p.to_owned()),
                        service_account: Some((namespace.to_owned(), name.to_owned(), annotations.clone())),
                        generic_registry: false,
                    })
                    .collect(),
            )
        }
        _ => Reading::NotUnderstood(format!(
            "cloudauth does not evaluate {kind} ({}): it evaluates OCIRepository, HelmRepository, ImageRepository, GitRepository, Kustomization, HelmRelease, ConfigMap, Pod and ServiceAccount",
            if group.is_empty() { "core" } else { group }
        )),
    }
}

fn pod_asks(object: &Value, spec: &Value, namespace: &str) -> Reading {
    let annotations = identity_annotations(object);
    let service_account = str_at(spec, &["serviceAccountName"])
        .filter(|_| !annotations.is_empty())
        .map(|name| (namespace.to_owned(), name.to_owned(), annotations.clone()));
    let mut asks = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, container) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(image) = str_at(container, &["image"]) {
                asks.push(Ask {
                    field: format!("spec.{list}[{i}].image"),
                    target: Target::Registry(image.to_owned()),
                    provider: None,
                    service_account: service_account.clone(),
                    generic_registry: false,
                });
            }
        }
    }
    if asks.is_empty() {
        return Reading::NotUnderstood("Pod without container images".into());
    }
    Reading::Asks(asks)
}

/// The AdmissionReview answer for `uid`.
pub fn answer(uid: &str, verdicts: &[(Ask, Verdict)], reading_message: Option<&str>) -> Value {
    let allowed = verdicts.iter().all(|(_, v)| v.allowed);
    let mut lines: Vec<String> = Vec::new();
    if let Some(m) = reading_message {
        lines.push(m.to_owned());
    }
    for (ask, verdict) in verdicts {
        if verdict.allowed == allowed {
            let what = match &ask.target {
                Target::Registry(r) | Target::Git(r) => format!("{} {r}", ask.field),
                Target::Cluster { provider, .. } => format!("{} (cluster, provider {provider})", ask.field),
                Target::AccessToken { provider } => format!("{} ({provider} workload identity)", ask.field),
            };
            lines.push(format!("{what}: {}", verdict.reasons.join("; ")));
        }
    }
    let (code, verdict) = if allowed { (200, "allowed") } else { (403, "denied") };
    let message = format!("cloudauth: {verdict}: {}", lines.join(" | "));
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": uid, "allowed": allowed, "status": {"code": code, "message": message}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(object: Value) -> Value {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "operation": "CREATE", "namespace": "team-a", "object": object}})
    }

    #[test]
    fn flux_sources_ask_for_their_url_with_their_provider() {
        let (uid, r) = read(&review(json!({"apiVersion": "source.toolkit.fluxcd.io/v1beta2", "kind": "OCIRepository",
            "metadata": {"name": "app"}, "spec": {"url": "oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "provider": "aws", "serviceAccountName": "puller"}})))
        .unwrap();
        assert_eq!(uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        let Reading::Asks(asks) = r else { panic!("{r:?}") };
        assert_eq!(asks[0].target, Target::Registry("oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/app".into()));
        assert_eq!(asks[0].provider.as_deref(), Some("aws"));
        assert_eq!(asks[0].service_account, Some(("team-a".into(), "puller".into(), vec![])));
        let helm = read(&review(json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "spec": {"url": "https://charts.example"}}))).unwrap().1;
        assert!(matches!(helm, Reading::Nothing(_)));
        let git = read(&review(json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "spec": {"url": "https://github.com/o/r", "provider": "github"}}))).unwrap().1;
        assert!(matches!(git, Reading::NotUnderstood(m) if m.contains("provider github")));
    }

    #[test]
    fn pods_ask_for_every_image() {
        let r = read(&review(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}},
            "spec": {"serviceAccountName": "app", "initContainers": [{"image": "a.example/i"}], "containers": [{"image": "b.example/c"}, {"name": "x"}]}})))
        .unwrap()
        .1;
        let Reading::Asks(asks) = r else { panic!() };
        assert_eq!(
            asks.iter().map(|a| a.field.as_str()).collect::<Vec<_>>(),
            ["spec.initContainers[0].image", "spec.containers[0].image"]
        );
        assert_eq!(
            asks[0].service_account.as_ref().unwrap().2,
            vec![("eks.amazonaws.com/role-arn".to_owned(), "arn:aws:iam::1:role/r".to_owned())]
        );
    }

    #[test]
    fn unknown_objects_and_bad_reviews() {
        let r = read(&review(json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}))).unwrap().1;
        assert!(
            matches!(r, Reading::NotUnderstood(m) if m.starts_with("cloudauth does not evaluate Deployment (apps)"))
        );
        assert!(read(&json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"})).is_err());
        assert!(
            read(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u"}}))
                .is_err()
        );
    }
}
