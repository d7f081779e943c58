//! `cloudauth-host admission-webhook`, tested as the API server calls it:
//! AdmissionReview `admission.k8s.io/v1` POSTs over TLS (the request shape
//! of the Kubernetes documentation, "Dynamic Admission Control", webhook
//! request and response), to the binary on 127.0.0.1, verified against the
//! test CA (`tests/fixtures/admission`), allow and deny.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

fn component() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| cloudauth_build::build_component().unwrap_or_else(|e| panic!("building the component: {e}")))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission")
}

const RULES: &str = r#"{
  "version": 1,
  "allow": {
    "providers": ["aws", "azure", "gcp", "generic"],
    "hosts": ["*.azurecr.io", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "ghcr.io", "dev.azure.com"],
    "awsAccounts": ["123456789012"]
  },
  "deny": { "hosts": ["evil.azurecr.io"] },
  "namespaces": {
    "team-a": { "objectLevelIdentity": true, "principals": ["arn:aws:iam::123456789012:role/team-a-*"] }
  }
}"#;

/// The webhook process; killed when dropped.
struct Webhook {
    child: Child,
    port: u16,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(rules: &str) -> Result<Webhook, String> {
    let dir = std::env::temp_dir().join(format!("cloudauth-admission-{}-{}", std::process::id(), rules.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules_file = dir.join("rules.json");
    std::fs::write(&rules_file, rules).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudauth-host"))
        .args(["admission-webhook", "--listen", "127.0.0.1:0", "--component"])
        .arg(component())
        .arg("--rules")
        .arg(&rules_file)
        .arg("--tls-cert")
        .arg(fixtures().join("server.pem"))
        .arg("--tls-key")
        .arg(fixtures().join("server.key"))
        .env_clear()
        // The controllers' own identity: IRSA, as on EKS.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/flux-controller")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        .env("HOME", &dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("cloudauth-host runs");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let Some(addr) = line.trim().strip_prefix("cloudauth admission webhook listening on https://") else {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        let _ = child.wait();
        return Err(format!("{line}{rest}"));
    };
    let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    Ok(Webhook { child, port })
}

/// POSTs `body` as the API server does, over TLS verified with the test CA.
fn post(webhook: &Webhook, body: &str) -> (u16, Value) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(fixtures().join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("cloudauth-webhook.flux-system.svc").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", webhook.port)).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    write!(
        tls,
        "POST /validate?timeout=10s HTTP/1.1\r\nHost: cloudauth-webhook.flux-system.svc:443\r\nContent-Type: application/json\r\nAccept: application/json, */*\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// An AdmissionReview as the API server sends it (Kubernetes docs).
fn review(group: &str, version: &str, kind: &str, resource: &str, namespace: &str, object: Value) -> String {
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let gvr = json!({"group": group, "version": version, "resource": resource});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": object["metadata"]["name"], "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "admin", "uid": "014fbff9a07c", "groups": ["system:authenticated", "my-admin-group"], "extra": {"some-key": ["some-value1"]}},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
    .to_string()
}

fn oci_repository(namespace: &str, url: &str, provider: &str, service_account: Option<&str>) -> String {
    let mut spec = json!({"interval": "5m", "url": url, "provider": provider, "ref": {"tag": "latest"}});
    if let Some(sa) = service_account {
        spec["serviceAccountName"] = sa.into();
    }
    let object = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": "app", "namespace": namespace}, "spec": spec});
    review("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories", namespace, object)
}

fn answer(v: &Value) -> (bool, String) {
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    (v["response"]["allowed"].as_bool().unwrap(), v["response"]["status"]["message"].as_str().unwrap().to_owned())
}

#[test]
fn allows_and_denies_flux_objects_and_pods_over_tls() {
    let webhook = start(RULES).unwrap();
    let ecr = "oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/app";

    let (status, v) = post(&webhook, &oci_repository("team-a", "oci://team.azurecr.io/app", "azure", None));
    assert_eq!(status, 200);
    let (allowed, message) = answer(&v);
    assert!(allowed, "{message}");
    assert!(message.contains(r#"allow.hosts[0] "*.azurecr.io" matches host team.azurecr.io"#), "{message}");

    let (_, v) = post(&webhook, &oci_repository("team-a", "oci://evil.azurecr.io/app", "azure", None));
    let (allowed, message) = answer(&v);
    assert!(!allowed);
    assert_eq!(v["response"]["status"]["code"], 403);
    assert!(message.contains(r#"deny.hosts[0] "evil.azurecr.io" matches host evil.azurecr.io"#), "{message}");

    // The object names a provider the registry is not of.
    let (_, v) = post(&webhook, &oci_repository("team-a", ecr, "azure", None));
    let (allowed, message) = answer(&v);
    assert!(!allowed && message.contains("names provider azure, but cloudauth resolves provider aws"), "{message}");

    // May team-a assume the admin role? The annotations come with the object.
    let mut with_role: Value = serde_json::from_str(&oci_repository("team-a", ecr, "aws", Some("puller"))).unwrap();
    with_role["request"]["object"]["metadata"]["annotations"] =
        json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::999999999999:role/admin"});
    let (_, v) = post(&webhook, &with_role.to_string());
    let (allowed, message) = answer(&v);
    assert!(!allowed);
    assert!(
        message
            .contains("principal arn:aws:iam::999999999999:role/admin matches nothing in namespaces.team-a.principals"),
        "{message}"
    );
    with_role["request"]["object"]["metadata"]["annotations"] =
        json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/team-a-pull"});
    assert!(answer(&post(&webhook, &with_role.to_string()).1).0);

    // Object-level identity from a namespace the rules do not list.
    let mut other: Value = with_role.clone();
    other["request"]["namespace"] = "team-b".into();
    let (allowed, message) = answer(&post(&webhook, &other.to_string()).1);
    assert!(!allowed && message.contains("namespace team-b may not use object-level identity"), "{message}");

    // A ServiceAccount with a forbidden role, as the API server sends it.
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "puller", "namespace": "team-a",
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::999999999999:role/admin"}}});
    let (allowed, message) =
        answer(&post(&webhook, &review("", "v1", "ServiceAccount", "serviceaccounts", "team-a", sa)).1);
    assert!(!allowed && message.contains("arn:aws:iam::999999999999:role/admin"), "{message}");

    // A Pod: every image; a generic registry only meets the host rules.
    let pod = |images: &[&str]| {
        let containers: Vec<Value> =
            images.iter().enumerate().map(|(i, image)| json!({"name": format!("c{i}"), "image": image})).collect();
        review(
            "",
            "v1",
            "Pod",
            "pods",
            "team-a",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "team-a"}, "spec": {"containers": containers}}),
        )
    };
    let (allowed, message) = answer(
        &post(&webhook, &pod(&["123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", "ghcr.io/fluxcd/flux:2"])).1,
    );
    assert!(allowed, "{message}");
    let (allowed, message) = answer(&post(&webhook, &pod(&["ghcr.io/fluxcd/flux:2", "quay.io/evil/miner:1"])).1);
    assert!(
        !allowed
            && message
                .contains("spec.containers[1].image quay.io/evil/miner:1: host quay.io matches nothing in allow.hosts"),
        "{message}"
    );
    let (allowed, message) = answer(&post(&webhook, &pod(&["999999999999.dkr.ecr.us-east-1.amazonaws.com/app:1"])).1);
    assert!(!allowed && message.contains("AWS account 999999999999"), "{message}");

    // Azure DevOps Git, and a Kustomization's kubeConfig reference.
    let git = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "repo", "namespace": "team-a"},
        "spec": {"url": "https://dev.azure.com/org/project/_git/repo", "provider": "azure"}});
    let (allowed, message) = answer(
        &post(&webhook, &review("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories", "team-a", git)).1,
    );
    assert!(allowed, "{message}");
    let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "apps", "namespace": "team-a"},
        "spec": {"kubeConfig": {"configMapRef": {"name": "prod-cluster"}}}});
    let (allowed, message) = answer(
        &post(&webhook, &review("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations", "team-a", ks))
            .1,
    );
    assert!(allowed && message.contains("ConfigMap team-a/prod-cluster"), "{message}");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "prod-cluster", "namespace": "team-a"},
        "data": {"provider": "aws", "cluster": "arn:aws:eks:us-east-1:999999999999:cluster/prod"}});
    let (allowed, message) = answer(&post(&webhook, &review("", "v1", "ConfigMap", "configmaps", "team-a", cm)).1);
    assert!(!allowed && message.contains("AWS account 999999999999"), "{message}");

    // Objects it does not evaluate get a clear message, and are allowed.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "team-a"}, "spec": {}});
    let (allowed, message) =
        answer(&post(&webhook, &review("apps", "v1", "Deployment", "deployments", "team-a", deployment)).1);
    assert!(allowed && message.contains("cloudauth does not evaluate Deployment (apps)"), "{message}");

    // Not an AdmissionReview: 400.
    let (status, v) = post(&webhook, r#"{"apiVersion":"v1","kind":"Status"}"#);
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("AdmissionReview"));
}

#[test]
fn a_malformed_rules_document_fails_at_start_with_its_path() {
    let err = start(r#"{"version":1,"allow":{"hosts":["a*.example.com"]}}"#).err().expect("start must fail");
    assert!(err.contains("rules: $.allow.hosts[0]"), "{err}");
}
