//! Invalid and unsupported requests fail at start, with Flux's texts.

use super::*;

#[test]
fn invalid_and_unsupported_requests_fail_at_start_with_flux_texts() {
    let gate_off = {
        let mut o = options(&[]);
        o.object_level_workload_identity = false;
        o
    };
    let role_pattern = r"^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$";
    let cases: Vec<(&str, SessionRequest, &str, String)> = vec![
        ("feature gate", registry("myregistry.azurecr.io/app", azure_sa(), gate_off), "invalid-input", "ObjectLevelWorkloadIdentity feature gate is not enabled".into()),
        (
            "role ARN missing",
            registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", sa("apps", "puller", &[]), options(&[])),
            "invalid-input",
            format!("failed to get provider identity from service account 'apps/puller' annotations: invalid eks.amazonaws.com/role-arn annotation: ''. must match {role_pattern}"),
        ),
        (
            "tenant missing",
            registry("myregistry.azurecr.io/app", sa("apps", "puller", &[("azure.workload.identity/client-id", CLIENT)]), options(&[])),
            "invalid-input",
            "failed to get provider identity from service account 'apps/puller' annotations: azure tenant ID is not set in the service account annotation azure.workload.identity/tenant-id".into(),
        ),
        (
            "client missing",
            registry("myregistry.azurecr.io/app", sa("apps", "puller", &[("azure.workload.identity/tenant-id", TENANT)]), options(&[])),
            "invalid-input",
            "failed to get provider identity from service account 'apps/puller' annotations: azure client ID is not set in the service account annotation azure.workload.identity/client-id".into(),
        ),
        (
            "bad GCP service account",
            registry("gcr.io/p/app", sa("apps", "puller", &[("iam.gke.io/gcp-service-account", "x@evil.example")]), options(&[])),
            "invalid-input",
            r"failed to get provider identity from service account 'apps/puller' annotations: invalid iam.gke.io/gcp-service-account annotation: 'x@evil.example'. must match ^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$".into(),
        ),
        (
            "bad workload identity provider",
            registry("gcr.io/p/app", sa("apps", "puller", &[("gcp.auth.fluxcd.io/workload-identity-provider", "projects/x")]), options(&[])),
            "invalid-input",
            r"failed to get provider identity from service account 'apps/puller' annotations: invalid gcp.auth.fluxcd.io/workload-identity-provider annotation: 'projects/x'. must match ^projects/\d{1,30}/locations/global/workloadIdentityPools/[^/]{1,100}/providers/[^/]{1,100}$".into(),
        ),
        (
            "controller region",
            access_token(Provider::Aws, &[], Identity::Controller, options(&[])),
            "invalid-input",
            "AWS_REGION environment variable is not set in the Flux controller. if you have properly configured IAM Roles for Service Accounts (IRSA) or EKS Pod Identity, please delete/replace the controller pod so the EKS admission controllers can inject this environment variable, or set it manually if the cluster is not EKS".into(),
        ),
        (
            "object region",
            access_token(Provider::Aws, &[], sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]), options(&[])),
            "invalid-input",
            "an AWS region is required for authenticating with a service account. please configure one in the object spec".into(),
        ),
        (
            "STS endpoint",
            {
                let mut r = registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Identity::Controller, options(&[]));
                r.options.sts_endpoint = Some("https://sts.amazonaws.com.evil.example".into());
                r
            },
            "invalid-input",
            r"invalid STS endpoint: 'https://sts.amazonaws.com.evil.example'. must match ^https://(.+\.)?sts(-fips)?(\.[^.]+)?(\.vpce)?\.amazonaws\.com$".into(),
        ),
        // A generic registry without configured credentials: nothing to
        // validate, nothing to give; decided before any request.
        (
            "generic registry without credentials",
            registry("registry.example.test/foo:v1", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry registry.example.test".into(),
        ),
        (
            "Docker Hub without credentials",
            registry("alpine", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry docker.io".into(),
        ),
        (
            "generic registry with a port, without credentials",
            registry("localhost:5000/app", Identity::Controller, options(&[])),
            "unsupported",
            "no credentials configured for generic registry localhost:5000".into(),
        ),
    ];
    let mut host = Host::new();
    for (name, request, want_kind, want_message) in cases {
        let err = host.start(&request).err().unwrap_or_else(|| panic!("{name}: started"));
        assert_eq!((kind(&err), message(&err)), (want_kind, want_message), "{name}");
    }
    // Shape errors and targets nobody serves.
    let shape: Vec<(&str, SessionRequest, &str)> = vec![
        ("bad reference", registry("Registry.Example/UPPER", Identity::Controller, options(&[])), "invalid-input"),
        (
            "generic with a service account",
            registry("ghcr.io/o/app", sa("apps", "puller", &[]), options(&[])),
            "unsupported",
        ),
        (
            "git outside Azure DevOps",
            SessionRequest {
                target: Target::Git("https://github.com/o/r".into()),
                identity: Identity::Controller,
                options: options(&[]),
                now: NOW,
            },
            "unsupported",
        ),
        (
            "CodeCommit over plain HTTP",
            SessionRequest {
                target: Target::Git("http://git-codecommit.us-east-1.amazonaws.com/v1/repos/r".into()),
                identity: Identity::Controller,
                options: options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
                now: NOW,
            },
            "invalid-input",
        ),
        (
            "CodeCommit look-alike host",
            SessionRequest {
                target: Target::Git("https://git-codecommit.us-east-1.amazonaws.com.evil.example/v1/repos/r".into()),
                identity: Identity::Controller,
                options: options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
                now: NOW,
            },
            "invalid-input",
        ),
        (
            "plain-http authority host",
            registry(
                "myregistry.azurecr.io/app",
                Identity::Controller,
                options(&[
                    ("AZURE_CLIENT_ID", CLIENT),
                    ("AZURE_TENANT_ID", TENANT),
                    ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
                    ("AZURE_AUTHORITY_HOST", "http://login.microsoftonline.com"),
                ]),
            ),
            "invalid-input",
        ),
        (
            "bad namespace",
            registry("myregistry.azurecr.io/app", sa("../kube-system", "x", &[]), options(&[])),
            "invalid-input",
        ),
        (
            "header injection in an annotation",
            registry(
                "myregistry.azurecr.io/app",
                sa(
                    "a",
                    "b",
                    &[("azure.workload.identity/tenant-id", "t\r\nX: y"), ("azure.workload.identity/client-id", "c")],
                ),
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "AKS ID",
            cluster(
                Provider::Azure,
                "/subscriptions/x/resourceGroups/rg",
                None,
                None,
                Identity::Controller,
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "EKS ARN",
            cluster(
                Provider::Aws,
                "my-cluster",
                Some("https://a.example"),
                Some(PEM),
                Identity::Controller,
                options(&[]),
            ),
            "invalid-input",
        ),
        (
            "GKE name",
            cluster(Provider::Gcp, "my-cluster", None, None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "plain-http address",
            cluster(Provider::Generic, "", Some("http://k.example"), None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "generic without address",
            cluster(Provider::Generic, "", None, None, Identity::Controller, options(&[])),
            "invalid-input",
        ),
        (
            "negative now",
            SessionRequest { now: -1, ..registry("ghcr.io/o/app", Identity::Controller, options(&[])) },
            "invalid-input",
        ),
    ];
    for (name, request, want_kind) in shape {
        let err = host.start(&request).err().unwrap_or_else(|| panic!("{name}: started"));
        assert_eq!(kind(&err), want_kind, "{name}: {}", message(&err));
    }
}
