//! `Debug` of every type that holds a secret, and of built requests, never shows it.

use super::*;

/// Collects the Debug output (plain and pretty) of values that hold a
/// planted secret, and of every built request the credential headers'
/// values, which must not show however they are encoded (base64 in Basic).
#[derive(Default)]
pub(crate) struct DebugCheck {
    failures: Vec<String>,
    checked: usize,
}

impl DebugCheck {
    pub(crate) fn check(&mut self, what: &str, value: &dyn std::fmt::Debug) {
        self.check_against(what, value, &[]);
    }

    pub(crate) fn check_against(&mut self, what: &str, value: &dyn std::fmt::Debug, also_hidden: &[&str]) {
        for debug in [format!("{value:?}"), format!("{value:#?}")] {
            self.checked += 1;
            if debug.contains(MARKER) {
                self.failures.push(format!("{what}: {debug}"));
            } else if let Some(h) = also_hidden.iter().find(|h| h.len() >= 8 && debug.contains(*h)) {
                self.failures.push(format!("{what} shows the credential {h:?}: {debug}"));
            }
        }
    }

    /// A built request: its Debug hides the marker and every credential
    /// header value (and the credential after `Bearer `/`Basic `).
    pub(crate) fn request(&mut self, what: &str, request: &cloudauth::http::HttpRequest) {
        let credentials: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| {
                ["authorization", "x-amz-security-token", "proxy-authorization", "cookie"]
                    .iter()
                    .any(|s| n.eq_ignore_ascii_case(s))
            })
            .flat_map(|(_, v)| [v.as_str(), v.split_once(' ').map_or(v.as_str(), |(_, c)| c)])
            .collect();
        self.check_against(what, request, &credentials);
    }

    pub(crate) fn finish(self) {
        eprintln!("debug checks: {} formatted, {} failures", self.checked, self.failures.len());
        assert!(self.failures.is_empty(), "secrets in Debug output:\n  - {}", self.failures.join("\n  - "));
    }
}

/// `Debug` of every credential, request, signed request and builder
/// parameter type never shows a secret.
#[test]
fn debug_output_never_shows_secrets() {
    use cloudauth::aws::endpoint::EndpointOptions as NativeEndpointOptions;
    use cloudauth::aws::{ecr, eks, sigv4, sts};
    use cloudauth::azure::{acr, entra, imds};
    use cloudauth::credentials::{AccessToken, AwsCredentials, RegistryCredentials};
    use cloudauth::http::{HttpRequest as NativeRequest, HttpResponse as NativeResponse};
    use cloudauth::secret::Secret;
    use cloudauth::{gcp, kubernetes, oci};

    let mut d = DebugCheck::default();
    let secret = Secret::new(format!("{MARKER}-secret"));
    let jwt_secret = Secret::new(jwt(r#"{"exp":4102444800}"#));
    let session_token = Secret::new(format!("{MARKER}-session"));
    let aws = AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Secret::new(format!("{MARKER}wJalrXUtnFEMI")),
        session_token: Some(session_token.clone()),
        expires_at: Some(1),
    };

    // Secrets and credentials.
    d.check("Secret", &secret);
    d.check("Secret (Display)", &format_args!("{secret}"));
    d.check("AccessToken", &AccessToken { token: secret.clone(), expires_at: 1 });
    d.check(
        "RegistryCredentials",
        &RegistryCredentials { username: "AWS".into(), password: secret.clone(), expires_at: None },
    );
    d.check("AwsCredentials", &aws);

    // Requests and responses made by hand, with every credential carrier.
    let by_hand = NativeRequest::post(format!(
        "https://h.example/p?X-Amz-Credential=AKID&X-Amz-Signature={MARKER}&X-Amz-Security-Token={MARKER}"
    ))
    .header("Authorization", format!("Bearer {MARKER}"))
    .and_then(|r| r.header("AUTHORIZATION", format!("Basic {MARKER}")))
    .and_then(|r| r.header("x-amz-security-token", MARKER))
    .and_then(|r| r.header("Proxy-Authorization", MARKER))
    .and_then(|r| r.header("Cookie", format!("session={MARKER}")))
    .and_then(|r| r.form(&[("client_assertion", MARKER), ("password", MARKER)]))
    .expect("a valid request");
    d.request("HttpRequest", &by_hand);
    d.check(
        "HttpResponse",
        &NativeResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: format!(r#"{{"access_token": "{MARKER}"}}"#).into_bytes(),
        },
    );

    // Azure.
    let authority = entra::Authority::Host("https://login.microsoftonline.com".into());
    let entra_params = entra::AssertionTokenRequest {
        authority: &authority,
        tenant_id: "contoso.onmicrosoft.com",
        client_id: "client",
        scope: "https://management.azure.com/.default",
        client_assertion: &jwt_secret,
    };
    d.check("entra::AssertionTokenRequest", &entra_params);
    d.request("entra token request", &entra::token_request(&entra_params).expect("entra request"));
    d.request(
        "imds token request",
        &imds::token_request("https://management.azure.com/.default", &imds::ManagedIdentity::SystemAssigned)
            .expect("imds request"),
    );
    d.request(
        "acr exchange request",
        &acr::exchange_request("myregistry.azurecr.io", &jwt_secret, Some("contoso.onmicrosoft.com"))
            .expect("acr exchange"),
    );
    d.request(
        "acr token request",
        &acr::token_request("myregistry.azurecr.io", &secret, &["repository:a:pull".into()]).expect("acr token"),
    );

    // AWS.
    let policies = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()];
    let web_identity = sts::WebIdentityParams {
        region: "us-east-1",
        role_arn: "arn:aws:iam::123456789012:role/r",
        role_session_name: "session",
        web_identity_token: &jwt_secret,
        duration_seconds: None,
        policy_arns: &policies,
        endpoint: NativeEndpointOptions::default(),
    };
    d.check("sts::WebIdentityParams", &web_identity);
    d.request("sts web identity request", &sts::web_identity_request(&web_identity).expect("sts request"));
    let ids = vec!["123456789012".to_owned()];
    let ecr_params = ecr::EcrTokenParams {
        region: "us-east-1",
        credentials: &aws,
        registry_ids: &ids,
        public: false,
        endpoint: NativeEndpointOptions::default(),
    };
    d.check("ecr::EcrTokenParams", &ecr_params);
    d.request("ecr token request", &ecr::token_request(&ecr_params, NOW).expect("ecr request"));
    d.check(
        "eks token",
        &eks::token("my-cluster", "us-east-1", &aws, NOW, NativeEndpointOptions::default()).expect("eks token"),
    );
    let unsigned = vec!["x-amz-user-agent".to_owned()];
    let signing = sigv4::SigningParams {
        credentials: &aws,
        region: "us-east-1",
        service: "sts",
        now: NOW,
        normalize_path: true,
        sign_body_header: true,
        unsigned_headers: &unsigned,
    };
    d.check("sigv4::SigningParams", &signing);
    let to_sign = NativeRequest::post("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .expect("request");
    let signed = sigv4::sign(&to_sign, &signing).expect("signed");
    d.check_against("sigv4::Signed (header)", &signed, &[signed.signature.as_str()]);
    d.request("sigv4 signed request", &signed.request);
    let presigned = sigv4::presign(&to_sign, &signing, 60).expect("presigned");
    d.check_against("sigv4::Signed (presigned)", &presigned, &[presigned.signature.as_str()]);

    // Google Cloud.
    let scopes = vec!["https://www.googleapis.com/auth/cloud-platform".to_owned()];
    let exchange = gcp::sts::ExchangeParams {
        audience: "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/p",
        scopes: &scopes,
        subject_token: &jwt_secret,
        subject_token_type: None,
        impersonation: false,
        options: None,
        client_id: Some("client"),
        client_secret: Some(&secret),
    };
    d.check("gcp::sts::ExchangeParams", &exchange);
    d.request("gcp sts exchange request", &gcp::sts::exchange_request(&exchange).expect("gcp sts"));
    d.request(
        "gcp impersonation request",
        &gcp::iam::impersonation_request("sa@p.iam.gserviceaccount.com", &secret, &scopes, None, &[])
            .expect("impersonation"),
    );
    d.check(
        "gcp docker credentials",
        &gcp::registry_credentials(&AccessToken { token: secret.clone(), expires_at: 1 }),
    );

    // Kubernetes and registries.
    let audiences = vec!["sts.amazonaws.com".to_owned()];
    let k8s = kubernetes::TokenRequestParams {
        api_server: "https://10.0.0.1:6443",
        namespace: "default",
        service_account: "sa",
        audiences: &audiences,
        expiration_seconds: None,
        bearer_token: Some(&jwt_secret),
    };
    d.check("kubernetes::TokenRequestParams", &k8s);
    d.request("kubernetes token request", &kubernetes::token_request(&k8s).expect("k8s request"));
    let basic = oci::token::BasicAuth { username: "robot", password: &secret };
    d.check("oci::token::BasicAuth", &basic);
    d.request(
        "oci token request",
        &oci::token::token_request(
            "https://auth.docker.io/token",
            Some("registry.docker.io"),
            &["repository:a:pull".into()],
            Some(&basic),
        )
        .expect("oci request"),
    );

    // Session outcomes.
    use cloudauth::session::{Credentials, GitCredentials, RestConfig, Step};
    let git = Credentials::Git(GitCredentials {
        username: "x".into(),
        password: secret.clone(),
        bearer_token: secret.clone(),
        expires_at: 1,
    });
    d.check("session::Credentials::Git", &git);
    d.check("session::Step::Done", &Step::Done(git));
    d.check(
        "session::Credentials::RestConfig",
        &Credentials::RestConfig(RestConfig {
            host: "https://10.0.0.1".into(),
            ca_data: None,
            bearer_token: secret.clone(),
            expires_at: 1,
        }),
    );
    d.check("session::Credentials::Aws", &Credentials::Aws(aws.clone()));
    d.check("session::Step::SendHttp", &Step::SendHttp(by_hand.clone()));
    d.finish();
}
