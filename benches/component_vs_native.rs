//! Side-by-side benchmark: the same operations through the component in
//! wasmtime and natively, in one run, reported as a ratio. Absolute times on
//! shared CI machines are noise; the ratio is the figure that means something.
//!
//! `cargo bench --bench component_vs_native` (add `-- --quick` for a short run).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cloudauth::credentials::AwsCredentials;
use cloudauth::http::HttpResponse;
use cloudauth::secret::Secret;
use support::api;

const NOW: i64 = 1_705_320_000;
const ASSERTION: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXSwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln";
const TOKEN_BODY: &str =
    r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QifQ.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln"}"#;

/// Runs `f` repeatedly for about `budget` and returns the mean time per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut n: u32 = 0;
    while start.elapsed() < budget {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    start.elapsed() / n
}

fn aws_credentials() -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: Some(Secret::new("AQoDYXdzEPT//////////wEXAMPLE")),
        expires_at: None,
    }
}

fn wit_aws_credentials() -> api::types::AwsCredentials {
    api::types::AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("AQoDYXdzEPT//////////wEXAMPLE".into()),
        expires_at: None,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = if quick { Duration::from_millis(200) } else { Duration::from_secs(1) };
    let mut inst = support::instantiate();
    let store = &mut inst.store;
    let api = &inst.api;

    let mut rows: Vec<(&str, Duration, Duration)> = Vec::new();

    // Target resolution.
    let native = measure(budget, || {
        black_box(
            cloudauth::target::resolve_registry(black_box("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"), None)
                .ok(),
        );
    });
    let wasm = measure(budget, || {
        black_box(
            api.cloudauth_auth_resolve()
                .call_resolve_registry(&mut *store, "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", None)
                .unwrap()
                .ok(),
        );
    });
    rows.push(("resolve ECR reference", native, wasm));

    // Entra client-assertion token request.
    let authority = cloudauth::azure::entra::Authority::Cloud(cloudauth::azure::cloud::AzureCloud::Public);
    let assertion = Secret::new(ASSERTION);
    let native = measure(budget, || {
        let p = cloudauth::azure::entra::AssertionTokenRequest {
            authority: &authority,
            tenant_id: "72f988bf-0000-4000-8000-00000000a11e",
            client_id: "0d0e0a0d-beef-4000-8000-00000000c1d0",
            scope: "https://containerregistry.azure.net/.default",
            client_assertion: &assertion,
        };
        black_box(cloudauth::azure::entra::token_request(&p).ok());
    });
    let wit_authority = api::azure::Authority::Cloud(api::types::AzureCloud::AzurePublic);
    let wasm = measure(budget, || {
        black_box(
            api.cloudauth_auth_azure()
                .call_entra_token_request(
                    &mut *store,
                    &wit_authority,
                    "72f988bf-0000-4000-8000-00000000a11e",
                    "0d0e0a0d-beef-4000-8000-00000000c1d0",
                    "https://containerregistry.azure.net/.default",
                    ASSERTION,
                )
                .unwrap()
                .ok(),
        );
    });
    rows.push(("build Entra token request", native, wasm));

    // Token response parsing.
    let response = HttpResponse { status: 200, headers: vec![], body: TOKEN_BODY.as_bytes().to_vec() };
    let native = measure(budget, || {
        black_box(cloudauth::azure::entra::parse_token(black_box(&response), NOW).ok());
    });
    let wit_response = api::types::HttpResponse { status: 200, headers: vec![], body: TOKEN_BODY.as_bytes().to_vec() };
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_azure().call_parse_entra_token(&mut *store, &wit_response, NOW).unwrap().ok());
    });
    rows.push(("parse Entra token response", native, wasm));

    // SigV4-signed ECR GetAuthorizationToken.
    let creds = aws_credentials();
    let native = measure(budget, || {
        let p = cloudauth::aws::ecr::EcrTokenParams {
            region: "us-east-1",
            credentials: &creds,
            registry_ids: &[],
            public: false,
            endpoint: Default::default(),
        };
        black_box(cloudauth::aws::ecr::token_request(&p, NOW).ok());
    });
    let wit_params = api::aws::EcrTokenParams {
        region: "us-east-1".into(),
        credentials: wit_aws_credentials(),
        registry_ids: vec![],
        public: false,
        endpoint: api::aws::EndpointOptions { fips: false, dualstack: false, legacy: false },
    };
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_aws().call_ecr_token_request(&mut *store, &wit_params, NOW).unwrap().ok());
    });
    rows.push(("SigV4-signed ECR request", native, wasm));

    // EKS token (presigned STS URL).
    let native = measure(budget, || {
        black_box(cloudauth::aws::eks::token("my-cluster", "us-east-1", &creds, NOW, Default::default()).ok());
    });
    let wit_creds = wit_aws_credentials();
    let no_options = api::aws::EndpointOptions { fips: false, dualstack: false, legacy: false };
    let wasm = measure(budget, || {
        black_box(
            api.cloudauth_auth_aws()
                .call_eks_token(&mut *store, "my-cluster", "us-east-1", &wit_creds, NOW, no_options)
                .unwrap()
                .ok(),
        );
    });
    rows.push(("EKS token", native, wasm));

    println!("{:<28} {:>12} {:>12} {:>8}", "operation", "native", "component", "ratio");
    for (name, native, wasm) in rows {
        let ratio = wasm.as_secs_f64() / native.as_secs_f64().max(1e-12);
        println!(
            "{name:<28} {:>10.2}µs {:>10.2}µs {ratio:>7.2}x",
            native.as_secs_f64() * 1e6,
            wasm.as_secs_f64() * 1e6
        );
    }
}
