//! Clusters: EKS, AKS and GKE REST configs, and their start errors.

use super::*;

/// A PEM bundle of one (fake) certificate: base64 inside, as the cluster
/// module's CA check requires.
pub(crate) const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBfakeCA==\n-----END CERTIFICATE-----\n";
pub(crate) const AKS_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1";
pub(crate) const AKS_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";
pub(crate) const ARM_SCOPE: &str = "https://management.core.windows.net//.default";

pub(crate) fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub(crate) fn cluster(
    provider: Provider,
    id: &str,
    address: Option<&str>,
    ca: Option<&str>,
    identity: Identity,
    options: Options,
) -> SessionRequest {
    SessionRequest {
        target: Target::Cluster(Cluster {
            provider,
            resource_id: id.to_owned(),
            address: address.map(Into::into),
            ca_data: ca.map(Into::into),
        }),
        identity,
        options,
        now: NOW,
    }
}

fn rest(host: &str, ca: Option<&str>, token: &str, expires_at: i64) -> Credentials {
    Credentials::RestConfig(RestConfig {
        host: host.into(),
        ca_data: ca.map(Into::into),
        bearer_token: token.into(),
        expires_at,
    })
}

fn aks_kubeconfigs(server: &str) -> String {
    let kubeconfig = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: c1\ncontexts:\n- context:\n    cluster: c1\n    user: clusterUser_rg_c1\n  name: c1\ncurrent-context: c1\nkind: Config\npreferences: {{}}\nusers:\n- name: clusterUser_rg_c1\n  user:\n    exec:\n      command: kubelogin\n",
        b64(PEM)
    );
    json!({"kubeconfigs": [{"name": "clusterUser", "value": b64(&kubeconfig)}]}).to_string()
}

fn arm_call(method: &str, path: &str, token: &str) -> Value {
    json!({"method": method, "url": format!("https://management.azure.com{path}?api-version=2025-10-01"), "headers": {"Authorization": format!("Bearer {token}"), "Accept": "application/json"}})
}

pub(crate) fn cluster_scenarios() -> Vec<Scenario> {
    let (entra_status, entra_body, entra_access) = entra_token();
    let entra = || response(entra_status, &[], &entra_body);
    let entra_for = |scope: &str| {
        with_form(cases::request("azure.entra-token.request.json", "azure-workload-identity-token-0"), "scope", scope)
    };
    let server = "https://c1-dns-abc123.hcp.eastus.azmk8s.io:443";
    let credentials_path = format!("{AKS_ID}/listClusterUserCredential");
    let mut out = Vec::new();

    // AKS, object-level, looked up through ARM: one service-account token
    // serves both Entra exchanges (AKS scope, then ARM scope).
    out.push(scenario(
        "aks-service-account-lookup",
        cluster(Provider::Azure, AKS_ID, None, None, azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_for(AKS_SCOPE), entra(), Some("{}")),
            Exchange::http(entra_for(ARM_SCOPE), entra(), Some("{}")),
            Exchange::http(
                arm_call("GET", AKS_ID, &entra_access),
                response(200, &[], r#"{"name":"c1","properties":{"aadProfile":{"managed":true}}}"#),
                Some("not json"),
            ),
            Exchange::http(
                arm_call("POST", &credentials_path, &entra_access),
                response(200, &[], &aks_kubeconfigs(server)),
                Some(r#"{"kubeconfigs": []}"#),
            ),
        ],
        Outcome::Done(rest(server, Some(PEM), &entra_access, NOW + 3599)),
    ));
    // AKS with address and CA: the AKS token only, no lookup, no ID needed.
    out.push(scenario(
        "aks-address-and-ca",
        cluster(Provider::Azure, "", Some("https://c1.example:443"), Some(PEM), azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_for(AKS_SCOPE), entra(), None),
        ],
        Outcome::Done(rest("https://c1.example:443", Some(PEM), &entra_access, NOW + 3599)),
    ));
    // AKS, controller-level managed identity: two IMDS tokens.
    let (imds_status, imds_body) = cases::response("azure.imds-token.response.json", "imds-0");
    let imds_token = json_field(&imds_body, "access_token");
    let imds_expires = NOW + json_field(&imds_body, "expires_in").parse::<i64>().unwrap();
    let imds = |resource: &str| json!({"method": "GET", "url": format!("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}"), "headers": {"Metadata": "true"}});
    out.push(scenario(
        "aks-managed-identity-lookup-with-address",
        cluster(
            Provider::Azure,
            AKS_ID,
            Some("https://C1-DNS-ABC123.hcp.eastus.azmk8s.io"),
            None,
            Identity::Controller,
            options(&[]),
        ),
        vec![
            Exchange::http(imds("6dae42f8-4368-4678-94ff-3960e28e3630"), response(imds_status, &[], &imds_body), None),
            Exchange::http(imds("https://management.core.windows.net/"), response(imds_status, &[], &imds_body), None),
            Exchange::http(
                arm_call("GET", AKS_ID, &imds_token),
                response(200, &[], r#"{"properties":{"aadProfile":{}}}"#),
                None,
            ),
            Exchange::http(
                arm_call("POST", &credentials_path, &imds_token),
                response(200, &[], &aks_kubeconfigs(server)),
                None,
            ),
        ],
        // The given address is kept as given (Flux); the CA comes from the kubeconfig.
        Outcome::Done(rest("https://C1-DNS-ABC123.hcp.eastus.azmk8s.io", Some(PEM), &imds_token, imds_expires)),
    ));
    out.push(scenario(
        "aks-without-entra-integration",
        cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[])),
        vec![
            Exchange::http(imds("6dae42f8-4368-4678-94ff-3960e28e3630"), response(imds_status, &[], &imds_body), None),
            Exchange::http(imds("https://management.core.windows.net/"), response(imds_status, &[], &imds_body), None),
            Exchange::http(arm_call("GET", AKS_ID, &imds_token), response(200, &[], r#"{"properties":{}}"#), None),
        ],
        Outcome::Failed { kind: "unsupported", code: None },
    ));

    // EKS with address and CA and static keys: no request at all; the
    // token is the awscli one, the REST config lives 15 minutes (Flux).
    let eks_case = cases::case("aws.eks-token.json", "us-east-1-no-session-token");
    let eks_token = eks_case["expect"]["output"]["token"].as_str().unwrap().to_owned();
    out.push(scenario(
        "eks-static-keys-address-and-ca",
        cluster(
            Provider::Aws,
            "arn:aws:eks:us-east-1:123456789012:cluster/my-cluster",
            Some("https://ABC.gr7.us-east-1.eks.amazonaws.com"),
            Some(PEM),
            Identity::Controller,
            options(&[
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", eks_case["input"]["secret_access_key"].as_str().unwrap()),
            ]),
        ),
        vec![],
        Outcome::Done(rest("https://ABC.gr7.us-east-1.eks.amazonaws.com", Some(PEM), &eks_token, NOW + 900)),
    ));
    // EKS, object-level, described through the EKS API.
    let eks_case = cases::case("aws.eks-token.json", "us-west-2-default");
    let eks_token = eks_case["expect"]["output"]["token"].as_str().unwrap().to_owned();
    let sts_expect = with_form(
        cases::request("aws.sts-web-identity.request.json", "minimal"),
        "RoleSessionName",
        "puller.apps.us-west-2.fluxcd.io",
    );
    let describe = json!({"cluster": {"name": "my-cluster", "endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com", "certificateAuthority": {"data": b64(PEM)}}});
    out.push(scenario(
        "eks-service-account-describe",
        cluster(Provider::Aws, "arn:aws:eks:us-west-2:123456789012:cluster/my-cluster", None, None, sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]), options(&[])),
        vec![
            Exchange::token("sts.amazonaws.com", Some(("apps", "puller")), None, &web_identity_token()),
            Exchange::http(sts_expect, sts_reply_with("aws.eks-token.json", "us-west-2-default"), None),
            Exchange::http(
                json!({"method": "GET", "url": "https://eks.us-west-2.amazonaws.com/clusters/my-cluster", "headers": {"X-Amz-Date": "20240115T120000Z"}}),
                response(200, &[], &describe.to_string()),
                Some("{}"),
            ),
        ],
        Outcome::Done(rest("https://ABC.gr7.us-west-2.eks.amazonaws.com", Some(PEM), &eks_token, NOW + 900)),
    ));

    // GKE at controller level, described through the container API.
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let md_token = json_field(&md_body, "access_token");
    let gke = json!({"name": "c", "endpoint": "34.118.1.2", "masterAuth": {"clusterCaCertificate": b64(PEM)}});
    out.push(scenario(
        "gke-metadata-describe",
        cluster(Provider::Gcp, "projects/my-project/locations/us-central1/clusters/my-cluster", None, None, Identity::Controller, options(&[])),
        vec![
            Exchange::http(cases::request("gcp.metadata-token.request.json", "scopes-1"), response(md_status, &[], &md_body), None),
            Exchange::http(
                json!({"method": "GET", "url": "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster?alt=json&prettyPrint=false", "headers": {"Authorization": format!("Bearer {md_token}")}}),
                response(200, &[], &gke.to_string()),
                Some("{}"),
            ),
        ],
        Outcome::Done(rest("https://34.118.1.2", Some(PEM), &md_token, NOW + 3599)),
    ));

    // Any cluster: the Kubernetes token for the address as audience.
    let sa_token = jwt(&json!({"sub": "system:serviceaccount:apps:deployer", "exp": FAR}));
    out.push(scenario(
        "generic-cluster-service-account",
        cluster(
            Provider::Generic,
            "",
            Some("https://kubernetes.example:6443"),
            Some(PEM),
            sa("apps", "deployer", &[]),
            options(&[]),
        ),
        vec![Exchange::token("https://kubernetes.example:6443", Some(("apps", "deployer")), None, &sa_token)],
        Outcome::Done(rest("https://kubernetes.example:6443", Some(PEM), &sa_token, FAR)),
    ));
    out
}

#[test]
fn cluster_start_errors_have_flux_texts() {
    let mut host = Host::new();
    let err = host
        .start(&cluster(Provider::Aws, "my-cluster", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("EKS");
    assert_eq!(
        message(&err),
        r"invalid EKS cluster ARN: 'my-cluster'. must match ^arn:aws[\w-]*:eks:([^:]{1,100}):[0-9]{1,30}:cluster/(.{1,200})$"
    );
    let err = host
        .start(&cluster(Provider::Gcp, "c", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("GKE");
    assert_eq!(
        message(&err),
        "invalid GKE cluster ID: 'c'. must match ^projects/[^/]{1,200}/locations/[^/]{1,200}/clusters/[^/]{1,200}$"
    );
    let err = host
        .start(&cluster(Provider::Azure, "c", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("AKS");
    assert!(
        message(&err).starts_with("invalid AKS cluster ID: 'c'. must match (?i)^/subscriptions/"),
        "{}",
        message(&err)
    );
    let err = host
        .start(&cluster(Provider::Generic, "", None, None, Identity::Controller, options(&[])))
        .map(drop)
        .expect_err("generic");
    assert_eq!(message(&err), "cluster address is required to create a REST config");
    // Segments that go into a request path are validated, never escaped.
    for (provider, id, why) in [
        (Provider::Azure, AKS_ID.replace("/c1", "/c%3F1"), "the cluster name is not valid"),
        (Provider::Azure, AKS_ID.replace("/rg/", "/my rg/"), "the resource group name is not valid"),
        (Provider::Azure, AKS_ID.replace("00000000-", "0000000x-"), "the subscription ID is not a GUID"),
        (
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/c..x".into(),
            "the cluster name is not valid",
        ),
        (Provider::Aws, "arn:aws:eks:us-east-1:123456789012:cluster/c?x".into(), "the cluster name is not valid"),
        (
            Provider::Aws,
            "arn:aws-cn:eks:us-east-1:123456789012:cluster/c".into(),
            "region us-east-1 is in partition aws",
        ),
    ] {
        let keys = options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        let err = host.start(&cluster(provider, &id, None, None, Identity::Controller, keys)).map(drop).expect_err(&id);
        assert_eq!(kind(&err), "invalid-input", "{id}");
        assert!(message(&err).ends_with(why), "{id}: {}", message(&err));
    }
    // The caller's CA must be a PEM bundle of certificates, checked at start.
    let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let err = host
        .start(&cluster(
            Provider::Generic,
            "",
            Some("https://k.example"),
            Some(key),
            Identity::Controller,
            options(&[]),
        ))
        .map(drop)
        .expect_err("a key as CA");
    assert_eq!(kind(&err), "invalid-input");
    assert!(!message(&err).contains("AAAA"), "{}", message(&err));
}

#[test]
fn aks_address_must_match_a_kubeconfig() {
    let mut host = Host::new();
    let request =
        cluster(Provider::Azure, AKS_ID, Some("https://other.example"), None, Identity::Controller, options(&[]));
    let s = host.start(&request).unwrap();
    let (status, body) = cases::response("azure.imds-token.response.json", "imds-0");
    host.http(s, &response(status, &[], &body), NOW).unwrap();
    host.http(s, &response(status, &[], &body), NOW).unwrap();
    host.http(s, &response(200, &[], r#"{"properties":{"aadProfile":{}}}"#), NOW).unwrap();
    let err =
        host.http(s, &response(200, &[], &aks_kubeconfigs("https://c1.hcp.eastus.azmk8s.io:443")), NOW).unwrap_err();
    assert_eq!(
        message(&err),
        format!(
            "no kubeconfig found for AKS cluster {AKS_ID} matching the specified address 'https://other.example'. cluster addresses: ['https://c1.hcp.eastus.azmk8s.io:443']"
        )
    );
}
