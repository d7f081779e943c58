use super::*;
use crate::azure::cloud::AzureCloud;
use crate::azure::entra;
use crate::azure::imds::ManagedIdentity;

fn sa(annotations: &[(&str, &str)]) -> Identity {
    Identity::ServiceAccount(ServiceAccount {
        namespace: "apps".into(),
        name: "puller".into(),
        annotations: annotations.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    })
}

fn env(vars: &[(&str, &str)]) -> Options {
    Options {
        environment: vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        object_level_workload_identity: true,
        ..Options::default()
    }
}

fn message(e: Error) -> String {
    match e {
        Error::InvalidInput(m) => m,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn aws_object_level() {
    let id = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::123456789012:role/puller")]);
    let plan = AwsPlan::plan(&id, &env(&[]), Some("us-west-2"), 0).unwrap();
    assert_eq!(
        plan.identity,
        AwsIdentity::WebIdentity {
            role_arn: "arn:aws:iam::123456789012:role/puller".into(),
            session_name: "puller.apps.us-west-2.fluxcd.io".into(),
            token: TokenSource::ServiceAccount { namespace: "apps".into(), name: "puller".into() },
        }
    );
    assert_eq!(plan.provider_identity(), "arn:aws:iam::123456789012:role/puller");
    assert!(
        AwsPlan::plan(
            &sa(&[(ROLE_ARN_KEY, "arn:aws-us-gov:iam::123456789012:role/a/b")]),
            &env(&[]),
            Some("us-gov-west-1"),
            0
        )
        .is_ok()
    );

    let err = message(AwsPlan::plan(&sa(&[]), &env(&[]), Some("us-west-2"), 0).unwrap_err());
    assert_eq!(
        err,
        r"failed to get provider identity from service account 'apps/puller' annotations: invalid eks.amazonaws.com/role-arn annotation: ''. must match ^arn:aws[\w-]*:iam::[0-9]{1,30}:role/(.{1,200})$"
    );
    for bad in [
        "arn:aws:iam::12x:role/a",
        "arn:aws:iam::1:role/",
        "arn:aws:s3::1:role/a",
        "arn:aws!:iam::1:role/a",
        "xarn:aws:iam::1:role/a",
    ] {
        assert!(AwsPlan::plan(&sa(&[(ROLE_ARN_KEY, bad)]), &env(&[]), Some("us-west-2"), 0).is_err(), "{bad}");
    }
    assert_eq!(message(AwsPlan::plan(&id, &env(&[]), None, 0).unwrap_err()), ERR_NO_OBJECT_REGION);
    let mut off = env(&[]);
    off.object_level_workload_identity = false;
    assert_eq!(message(AwsPlan::plan(&id, &off, Some("us-west-2"), 0).unwrap_err()), ERR_OBJECT_LEVEL_DISABLED);
}

#[test]
fn aws_controller_chain() {
    let keys = env(&[
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
    ]);
    let plan = AwsPlan::plan(&Identity::Controller, &keys, Some("us-east-1"), 0).unwrap();
    assert!(
        matches!(plan.identity, AwsIdentity::StaticKeys(ref c) if c.access_key_id == "AKID" && c.session_token.is_none())
    );

    let wi = env(&[
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ("AWS_REGION", "eu-west-1"),
    ]);
    let plan = AwsPlan::plan(&Identity::Controller, &wi, None, 1_700_000_000).unwrap();
    assert_eq!(plan.region, "eu-west-1");
    assert_eq!(
        plan.identity,
        AwsIdentity::WebIdentity {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            session_name: "aws-go-sdk-1700000000000000000".into(),
            token: TokenSource::File("/var/run/token".into()),
        }
    );
    // The cache identity does not move with the clock.
    let later = AwsPlan::plan(&Identity::Controller, &wi, None, 1_700_000_002).unwrap();
    assert_eq!(plan.describe(), later.describe());
    assert_eq!(plan.describe().as_deref(), Some("arn:aws:iam::123456789012:role/r"));
    let imds = AwsPlan::plan(&Identity::Controller, &env(&[]), Some("us-east-1"), 0).unwrap();
    assert_eq!(imds.identity, AwsIdentity::InstanceMetadata);
    assert_eq!(imds.describe(), None);
    assert_eq!(
        message(AwsPlan::plan(&Identity::Controller, &env(&[]), None, 0).unwrap_err()),
        ERR_NO_CONTROLLER_REGION
    );
    assert!(AwsPlan::plan(&Identity::Controller, &env(&[("AWS_ACCESS_KEY_ID", "A")]), Some("us-east-1"), 0).is_err());
    assert!(
        AwsPlan::plan(
            &Identity::Controller,
            &env(&[("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")]),
            Some("us-east-1"),
            0
        )
        .is_err()
    );
}

#[test]
fn rebase_keeps_path_and_query() {
    assert_eq!(
        rebase("https://sts.us-east-1.amazonaws.com/", "https://sts.amazonaws.com").unwrap(),
        "https://sts.amazonaws.com/"
    );
    assert_eq!(rebase("https://h/a?b=c", "https://x.sts.amazonaws.com").unwrap(), "https://x.sts.amazonaws.com/a?b=c");
    assert_eq!(rebase("https://h", "https://x").unwrap(), "https://x/");
    assert!(rebase("nourl", "https://x").is_err());
}

#[test]
fn sts_parameters_are_checked_at_plan_time() {
    // A session name over STS's 64 characters fails before any token is fetched.
    let long = Identity::ServiceAccount(ServiceAccount {
        namespace: "a-rather-long-namespace-name".into(),
        name: "and-a-rather-long-service-account-name".into(),
        annotations: vec![(ROLE_ARN_KEY.into(), "arn:aws:iam::123456789012:role/r".into())],
    });
    assert_eq!(AwsPlan::plan(&long, &env(&[]), Some("us-east-1"), 0).unwrap_err().kind(), "invalid-input");
    let bad_name = env(&[
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/f"),
        ("AWS_ROLE_SESSION_NAME", "a b"),
    ]);
    assert!(AwsPlan::plan(&Identity::Controller, &bad_name, Some("us-east-1"), 0).is_err());
    // Flux's pattern takes a 1-digit account; STS wants 12 digits.
    let short_account = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::1:role/r")]);
    let err = AwsPlan::plan(&short_account, &env(&[]), Some("us-east-1"), 0).unwrap_err();
    assert_eq!(err, Error::invalid("\"arn:aws:iam::1:role/r\" is not an IAM role ARN"));
    // A region without an STS endpoint fails too, also with an explicit endpoint.
    let id = sa(&[(ROLE_ARN_KEY, "arn:aws:iam::123456789012:role/r")]);
    let mut explicit = env(&[]);
    explicit.sts_endpoint = Some("https://sts.amazonaws.com".into());
    for options in [env(&[]), explicit] {
        assert!(AwsPlan::plan(&id, &options, Some("not-a-region"), 0).is_err());
        assert!(AwsPlan::plan(&id, &options, Some("us-east-1"), 0).is_ok());
    }
}

#[test]
fn aws_container_credentials() {
    let plan = |vars: &[(&str, &str)]| AwsPlan::plan(&Identity::Controller, &env(vars), Some("us-east-1"), 0);
    let pod_identity = plan(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"),
    ])
    .unwrap();
    assert!(matches!(
        pod_identity.identity,
        AwsIdentity::Container { ref endpoint, token: ContainerToken::File(_) } if endpoint.url == "http://169.254.170.23/v1/credentials"
    ));
    assert_eq!(pod_identity.describe().as_deref(), Some("container:http://169.254.170.23/v1/credentials"));
    // The relative URI wins over the full one (SDKs and Tools reference guide).
    let ecs = plan(&[
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
    ])
    .unwrap();
    assert!(matches!(
        ecs.identity,
        AwsIdentity::Container { ref endpoint, token: ContainerToken::None } if endpoint.url == "http://169.254.170.2/v2/credentials/abc"
    ));
    // Static keys and web identity come first.
    let keys = plan(&[
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
    ])
    .unwrap();
    assert!(matches!(keys.identity, AwsIdentity::StaticKeys(_)));
    // A host the SDKs do not allow, or a bad token, is invalid input.
    for bad in [
        vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example/v1/credentials")],
        vec![("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/no-slash")],
        vec![
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/creds"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nb"),
        ],
    ] {
        let err = plan(&bad).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{bad:?}");
        assert!(err.to_string().contains("AWS_CONTAINER"), "{err}");
    }
    let adc = env(&[("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/gcp/creds.json")]);
    assert_eq!(
        GcpIdentity::plan(&Identity::Controller, &adc).unwrap(),
        GcpIdentity::CredentialsFile {
            path: "/var/run/gcp/creds.json".into(),
            aws: Default::default(),
            well_known: false
        }
    );
    // Object-level identities do not read them.
    assert!(GcpIdentity::plan(&sa(&[]), &adc).is_ok());
    // Without the variable, gcloud's well-known file under HOME, as
    // golang.org/x/oauth2 finds it; at object level, never.
    let home = env(&[("HOME", "/home/dev/")]);
    assert_eq!(
        GcpIdentity::plan(&Identity::Controller, &home).unwrap(),
        GcpIdentity::CredentialsFile {
            path: "/home/dev/.config/gcloud/application_default_credentials.json".into(),
            aws: Default::default(),
            well_known: true
        }
    );
    let with_sa = GcpIdentity::plan(&sa(&[("iam.gke.io/gcp-service-account", "a@b.iam.gserviceaccount.com")]), &home);
    assert!(matches!(with_sa.unwrap(), GcpIdentity::WorkloadIdentity { .. }));
    assert_eq!(GcpIdentity::plan(&Identity::Controller, &env(&[])).unwrap(), GcpIdentity::Metadata);
}

#[test]
fn sts_endpoints() {
    for ok in [
        "https://sts.amazonaws.com",
        "https://sts.us-east-1.amazonaws.com",
        "https://sts-fips.us-east-1.amazonaws.com",
        "https://vpce-002b7cc8966426bc6-njisq19r.sts.us-east-1.vpce.amazonaws.com",
        "https://vpce-002b7cc8966426bc6-njisq19r-us-east-1a.sts.us-east-1.vpce.amazonaws.com",
    ] {
        assert_eq!(check_sts_endpoint(ok).unwrap(), ok);
    }
    for bad in [
        "http://sts.amazonaws.com",
        "https://sts.amazonaws.com/",
        "https://sts.amazonaws.com:443",
        "https://evil.example/sts.amazonaws.com",
        "https://sts.amazonaws.com.evil.example",
        "https://u@sts.amazonaws.com",
        "https://sts.a.b.amazonaws.com",
        "https://STS.amazonaws.com",
        "https://ec2.amazonaws.com",
    ] {
        let err = message(check_sts_endpoint(bad).unwrap_err());
        assert!(err.starts_with(&format!("invalid STS endpoint: '{bad}'. must match ^https://")), "{err}");
    }
}

#[test]
fn azure_modes() {
    let id = sa(&[
        ("azure.workload.identity/tenant-id", "72f988bf-0000-4000-8000-00000000a11e"),
        ("azure.workload.identity/client-id", "c1"),
    ]);
    let plan = AzureIdentity::plan(&id, &env(&[]), AzureCloud::China).unwrap();
    assert_eq!(plan.provider_identity(), "72f988bf-0000-4000-8000-00000000a11e/c1");
    assert!(matches!(
        plan,
        AzureIdentity::WorkloadIdentity { authority: entra::Authority::Cloud(AzureCloud::China), .. }
    ));

    let err = message(
        AzureIdentity::plan(&sa(&[("azure.workload.identity/client-id", "c")]), &env(&[]), AzureCloud::Public)
            .unwrap_err(),
    );
    assert!(
        err.ends_with("azure tenant ID is not set in the service account annotation azure.workload.identity/tenant-id"),
        "{err}"
    );
    let err = message(AzureIdentity::plan(&sa(&[]), &env(&[]), AzureCloud::Public).unwrap_err());
    assert!(err.ends_with("tenant-id"), "tenant is checked first: {err}");
    let err = message(
        AzureIdentity::plan(&sa(&[("azure.workload.identity/tenant-id", "t")]), &env(&[]), AzureCloud::Public)
            .unwrap_err(),
    );
    assert!(
        err.ends_with("azure client ID is not set in the service account annotation azure.workload.identity/client-id"),
        "{err}"
    );
    for bad in ["t/../x", "..", "a..b", "", "t?x", "t x"] {
        let annotations = [("azure.workload.identity/tenant-id", bad), ("azure.workload.identity/client-id", "c")];
        assert!(AzureIdentity::plan(&sa(&annotations), &env(&[]), AzureCloud::Public).is_err(), "{bad:?}");
    }

    let wi = env(&[
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
    ]);
    let plan = AzureIdentity::plan(&Identity::Controller, &wi, AzureCloud::Public).unwrap();
    assert!(
        matches!(plan, AzureIdentity::WorkloadIdentity { authority: entra::Authority::Host(ref h), token: TokenSource::File(ref f), .. } if h == "https://login.microsoftonline.us/" && f == "/f")
    );
    let mi = AzureIdentity::plan(&Identity::Controller, &env(&[("AZURE_CLIENT_ID", "c")]), AzureCloud::Public).unwrap();
    assert_eq!(mi, AzureIdentity::ManagedIdentity(ManagedIdentity::ClientId("c".into())));
    let mi = AzureIdentity::plan(&Identity::Controller, &env(&[]), AzureCloud::Custom).unwrap();
    assert_eq!(mi, AzureIdentity::ManagedIdentity(ManagedIdentity::SystemAssigned));
    // A custom cloud has no known authority host: workload identity needs AZURE_AUTHORITY_HOST.
    let wi_custom = env(&[("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/f")]);
    assert!(AzureIdentity::plan(&Identity::Controller, &wi_custom, AzureCloud::Custom).is_err());
    assert!(
        AzureIdentity::plan(
            &Identity::Controller,
            &env(&[("AZURE_AUTHORITY_HOST", "http://login.example")]),
            AzureCloud::Public
        )
        .is_err()
    );
    // EnvironmentCredential: a secret without tenant and client fails, naming it.
    let err = AzureIdentity::plan(&Identity::Controller, &env(&[("AZURE_CLIENT_SECRET", "s")]), AzureCloud::Public)
        .unwrap_err();
    assert!(err.to_string().contains("EnvironmentCredential"), "{err}");
    let secret = env(&[
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
    ]);
    let plan = AzureIdentity::plan(&Identity::Controller, &secret, AzureCloud::Public).unwrap();
    assert!(
        matches!(plan, AzureIdentity::ClientSecret { ref tenant_id, .. } if tenant_id == "t"),
        "the secret comes first"
    );
    assert!(!format!("{plan:?}").contains("\"s\""), "the secret is redacted: {plan:?}");
    let cert = env(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"), ("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t")]);
    let plan = AzureIdentity::plan(&Identity::Controller, &cert, AzureCloud::Public).unwrap();
    assert!(
        matches!(plan, AzureIdentity::ClientCertificate { ref path, send_chain: false, .. } if path == "/c.pem"),
        "{plan:?}"
    );
    let mut with = cert.clone();
    with.environment.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "true".into()));
    let chain = AzureIdentity::plan(&Identity::Controller, &with, AzureCloud::Public).unwrap();
    assert!(matches!(chain, AzureIdentity::ClientCertificate { send_chain: true, .. }));
    assert_ne!(chain.describe(), plan.describe());
    let mut bad = cert.clone();
    bad.environment.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "yes".into()));
    assert!(matches!(
        AzureIdentity::plan(&Identity::Controller, &bad, AzureCloud::Public).unwrap(),
        AzureIdentity::ClientCertificate { send_chain: false, .. }
    ));
    let mut password = cert.clone();
    password.environment.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD".into(), "p".into()));
    let err = AzureIdentity::plan(&Identity::Controller, &password, AzureCloud::Public).unwrap_err();
    assert_eq!(err.kind(), "unsupported");
    assert!(err.to_string().contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{err}");
    assert!(!err.to_string().contains("\"p\""), "{err}");
    // App Service managed identity, and the sources that are refused, not skipped.
    let app = env(&[
        ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
        ("IDENTITY_HEADER", "h"),
        ("AZURE_CLIENT_ID", "c"),
    ]);
    let plan = AzureIdentity::plan(&Identity::Controller, &app, AzureCloud::Public).unwrap();
    assert!(matches!(plan, AzureIdentity::AppService { id: ManagedIdentity::ClientId(ref c), .. } if c == "c"));
    for (vars, kind) in [
        (vec![("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")], "invalid-input"),
        (vec![("IDENTITY_ENDPOINT", "http://evil.example/msi/token"), ("IDENTITY_HEADER", "h")], "invalid-input"),
        (
            vec![
                ("IDENTITY_ENDPOINT", "https://10.0.0.4:2377/metadata/identity/oauth2/token"),
                ("IDENTITY_HEADER", "h"),
                ("IDENTITY_SERVER_THUMBPRINT", "t"),
            ],
            "unsupported",
        ),
        (
            vec![
                ("IDENTITY_ENDPOINT", "http://localhost:40342/metadata/identity/oauth2/token"),
                ("IMDS_ENDPOINT", "http://localhost:40342"),
            ],
            "unsupported",
        ),
        (vec![("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")], "unsupported"),
    ] {
        let err = AzureIdentity::plan(&Identity::Controller, &env(&vars), AzureCloud::Public).unwrap_err();
        assert_eq!(err.kind(), kind, "{vars:?}: {err}");
    }
}

#[test]
fn gcp_modes() {
    assert_eq!(GcpIdentity::plan(&Identity::Controller, &env(&[])).unwrap(), GcpIdentity::Metadata);
    let direct = GcpIdentity::plan(&sa(&[]), &env(&[])).unwrap();
    assert_eq!(
        direct,
        GcpIdentity::WorkloadIdentity {
            audience: GcpAudience::Gke,
            impersonate: None,
            token: TokenSource::ServiceAccount { namespace: "apps".into(), name: "puller".into() }
        }
    );
    let wip = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
    let plan = GcpIdentity::plan(
        &sa(&[(GCP_WIP_KEY, wip), (GCP_SA_KEY, "puller@my-project.iam.gserviceaccount.com")]),
        &env(&[]),
    )
    .unwrap();
    assert!(
        matches!(plan, GcpIdentity::WorkloadIdentity { audience: GcpAudience::Federation(ref a), impersonate: Some(_), .. } if a == &format!("//iam.googleapis.com/{wip}"))
    );
    assert_eq!(plan.provider_identity(), "puller@my-project.iam.gserviceaccount.com");

    let err = message(GcpIdentity::plan(&sa(&[(GCP_SA_KEY, "puller@evil.example")]), &env(&[])).unwrap_err());
    assert!(
        err.ends_with(&format!(
            "invalid iam.gke.io/gcp-service-account annotation: 'puller@evil.example'. must match {GCP_SA_PATTERN}"
        )),
        "{err}"
    );
    let err =
        message(GcpIdentity::plan(&sa(&[(GCP_WIP_KEY, "//iam.googleapis.com/projects/1/x")]), &env(&[])).unwrap_err());
    assert!(err.contains("invalid gcp.auth.fluxcd.io/workload-identity-provider annotation"), "{err}");
}
