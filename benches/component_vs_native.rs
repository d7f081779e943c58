//! Side-by-side benchmark, in one run: each operation through the component
//! in wasmtime, the same Rust code natively, and, for SigV4, the `aws-sigv4`
//! crate natively and botocore's `SigV4Auth.add_auth` through python3. Shared
//! machines make absolute times noisy; the ratios, measured side by side,
//! are the figures that carry over. docs/benchmarks.md has the results.
//!
//! `cargo bench --bench component_vs_native` (add `-- --quick` for a short
//! run, `-- --no-python` to skip botocore).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use cloudauth::aws::sigv4::{self, SessionTokenMode};
use cloudauth::credentials::AwsCredentials;
use cloudauth::http::{HttpRequest, HttpResponse};
use cloudauth::secret::Secret;
use support::{Cloudauth, CloudauthPre, api};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store};

const NOW: i64 = 1_705_320_000;
const DAY: i64 = 86_400;
const ASSERTION: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXSwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln";
const TOKEN_BODY: &str =
    r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QifQ.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln"}"#;
const ECR_REFERENCE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1";

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLE";
const ECR_URL: &str = "https://api.ecr.us-east-1.amazonaws.com/";
const ECR_TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";

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

/// One SigV4 case, as every signer gets it: the ECR GetAuthorizationToken
/// request with a session token, and a variation.
struct SigCase {
    name: &'static str,
    /// The `botocore_sigv4.py` case name.
    python: &'static str,
    token: String,
    extra_headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl SigCase {
    fn new(name: &'static str, python: &'static str) -> Self {
        SigCase { name, python, token: SESSION_TOKEN.into(), extra_headers: vec![], body: b"{}".to_vec() }
    }

    fn headers(&self) -> Vec<(String, String)> {
        let mut h = vec![
            ("X-Amz-Target".to_owned(), ECR_TARGET.to_owned()),
            ("Content-Type".to_owned(), "application/x-amz-json-1.1".to_owned()),
        ];
        h.extend(self.extra_headers.iter().cloned());
        h
    }

    fn credentials(&self) -> AwsCredentials {
        AwsCredentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: Secret::new(SECRET_KEY),
            session_token: Some(Secret::new(self.token.clone())),
            expires_at: None,
        }
    }

    fn request(&self) -> HttpRequest {
        HttpRequest { method: "POST", url: ECR_URL.into(), headers: self.headers(), body: self.body.clone() }
    }

    fn wit_request(&self) -> api::types::HttpRequest {
        api::types::HttpRequest {
            method: "POST".into(),
            url: ECR_URL.into(),
            headers: self.headers(),
            body: self.body.clone(),
        }
    }

    fn wit_params(&self, now: i64) -> api::sigv4::SigningParams {
        api::sigv4::SigningParams {
            credentials: api::types::AwsCredentials {
                access_key_id: ACCESS_KEY.into(),
                secret_access_key: SECRET_KEY.into(),
                session_token: Some(self.token.clone()),
                expires_at: None,
            },
            region: "us-east-1".into(),
            service: "ecr".into(),
            now,
            normalize_path: true,
            sign_body_header: false,
            unsigned_headers: vec![],
            omit_session_token: false,
        }
    }
}

fn sigv4_params<'a>(credentials: &'a AwsCredentials, now: i64) -> sigv4::SigningParams<'a> {
    sigv4::SigningParams {
        credentials,
        region: "us-east-1",
        service: "ecr",
        now,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    }
}

/// The `aws-sigv4` crate on the same request: the signature and the
/// headers to add (it does not copy the request; cloudauth returns a new one).
fn aws_sigv4_sign(case: &SigCase, headers: &[(String, String)], budget: Duration) -> Duration {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity =
        aws_credential_types::Credentials::new(ACCESS_KEY, SECRET_KEY, Some(case.token.clone()), None, "bench").into();
    let time = std::time::UNIX_EPOCH + Duration::from_secs(NOW as u64);
    measure(budget, || {
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("ecr")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            "POST",
            ECR_URL,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(&case.body),
        )
        .unwrap();
        black_box(sign(request, &params).unwrap().into_parts());
    })
}

/// botocore's time per call for each case, through python3; empty when
/// python3 or botocore cannot be had (the bench says so).
fn botocore_times(budget: Duration, cases: &[&str]) -> Vec<Option<Duration>> {
    let none = || vec![None; cases.len()];
    let python = |args: &[&str]| Command::new("python3").args(args).output();
    let have = |out: std::io::Result<std::process::Output>| out.is_ok_and(|o| o.status.success());
    if !have(python(&["-c", "import botocore"])) {
        eprintln!("botocore missing: python3 -m pip install --quiet botocore");
        let installed = have(python(&["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "botocore"]))
            || have(python(&[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--break-system-packages",
                "botocore",
            ]));
        if !installed {
            eprintln!("warning: could not install botocore; its column is left empty");
            return none();
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/botocore_sigv4.py");
    let seconds = format!("{}", budget.as_secs_f64());
    let mut args = vec![script, seconds.as_str()];
    args.extend_from_slice(cases);
    let out = match python(&args) {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!("warning: botocore bench failed: {}", String::from_utf8_lossy(&out.stderr));
            return none();
        }
        Err(e) => {
            eprintln!("warning: cannot run python3: {e}");
            return none();
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    cases
        .iter()
        .map(|case| {
            text.lines().find_map(|line| {
                let (name, micros) = line.split_once(' ')?;
                (name == *case).then(|| micros.parse::<f64>().ok().map(|m| Duration::from_secs_f64(m / 1e6)))?
            })
        })
        .collect()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

/// Records how large the instance's linear memories and tables grow.
#[derive(Default)]
struct Footprint {
    memory_bytes: usize,
    table_elements: usize,
}

impl ResourceLimiter for Footprint {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        self.memory_bytes = self.memory_bytes - current.min(self.memory_bytes) + desired;
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        self.table_elements = self.table_elements - current.min(self.table_elements) + desired;
        Ok(true)
    }
}

fn pooling_engine() -> Engine {
    let mut pool = PoolingAllocationConfig::default();
    // Room for the benchmark, not for a server: virtual address space is
    // reserved per slot up front.
    pool.total_component_instances(64)
        .total_core_instances(64)
        .total_memories(64)
        .total_tables(64)
        .max_memory_size(64 << 20);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).expect("pooling engine")
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let no_python = std::env::args().any(|a| a == "--no-python");
    let budget = if quick { Duration::from_millis(200) } else { Duration::from_secs(1) };
    let mut inst = support::instantiate();
    let store = &mut inst.store;
    let api = &inst.api;

    // ---- SigV4: component, same code native, aws-sigv4, botocore --------
    let mut token_1k = SigCase::new("session token of 1 KiB", "token-1k");
    token_1k.token = "A".repeat(1024);
    let mut headers_100 = SigCase::new("100 extra headers", "headers-100");
    headers_100.extra_headers = (0..100).map(|i| (format!("X-Bench-{i:03}"), format!("value {i}"))).collect();
    let mut body_1m = SigCase::new("1 MiB body hashed", "body-1m");
    body_1m.body = vec![b'x'; 1 << 20];
    let cases = [SigCase::new("ECR GetAuthorizationToken", "ecr"), token_1k, headers_100, body_1m];

    let python_cases: Vec<&str> = cases.iter().map(|c| c.python).collect();
    let botocore = if no_python { vec![None; cases.len()] } else { botocore_times(budget, &python_cases) };

    // Both exports: `sign-request` returns the whole signed request and the
    // debugging values; `sign-headers` only the headers signing sets, the
    // shape `aws-sigv4` gives (its `SigningInstructions`).
    struct SigRow {
        name: &'static str,
        native_warm: Duration,
        native_cold: Duration,
        request_warm: Duration,
        request_cold: Duration,
        headers_warm: Duration,
        headers_cold: Duration,
        aws: Duration,
        botocore: Option<Duration>,
    }
    let mut sig_rows = Vec::new();
    for (case, boto) in cases.iter().zip(&botocore) {
        let credentials = case.credentials();
        let request = case.request();
        let native_warm = measure(budget, || {
            black_box(sigv4::sign_with(&request, &sigv4_params(&credentials, NOW), SessionTokenMode::Signed).ok());
        });
        let mut day = 0;
        let native_cold = measure(budget, || {
            day += 1;
            let params = sigv4_params(&credentials, NOW + (day % 1000) * DAY);
            black_box(sigv4::sign_with(&request, &params, SessionTokenMode::Signed).ok());
        });
        let wit_request = case.wit_request();
        let wit_params = case.wit_params(NOW);
        let sig = api.cloudauth_auth_sigv4();
        let request_warm = measure(budget, || {
            black_box(sig.call_sign_request(&mut *store, &wit_request, &wit_params).unwrap().ok());
        });
        let mut cold_params = case.wit_params(NOW);
        let request_cold = measure(budget, || {
            day += 1;
            cold_params.now = NOW + (day % 1000) * DAY;
            black_box(sig.call_sign_request(&mut *store, &wit_request, &cold_params).unwrap().ok());
        });
        let headers_warm = measure(budget, || {
            black_box(sig.call_sign_headers(&mut *store, &wit_request, &wit_params).unwrap().ok());
        });
        let headers_cold = measure(budget, || {
            day += 1;
            cold_params.now = NOW + (day % 1000) * DAY;
            black_box(sig.call_sign_headers(&mut *store, &wit_request, &cold_params).unwrap().ok());
        });
        let aws = aws_sigv4_sign(case, &case.headers(), budget);
        sig_rows.push(SigRow {
            name: case.name,
            native_warm,
            native_cold,
            request_warm,
            request_cold,
            headers_warm,
            headers_cold,
            aws,
            botocore: *boto,
        });
    }

    println!("SigV4 sign-request (warm: signing key cached; cold: a new date, so a new key, every call)");
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} | {:>8} {:>8} {:>8} {:>9}",
        "case",
        "comp warm",
        "comp cold",
        "nat warm",
        "nat cold",
        "aws-sigv4",
        "botocore",
        "c/nat",
        "c/aws",
        "cold/aws",
        "boto/c"
    );
    for r in &sig_rows {
        let boto_text = r.botocore.map_or("-".to_owned(), |b| format!("{:.2}", micros(b)));
        let boto_ratio = r.botocore.map_or("-".to_owned(), |b| format!("{:.1}x", ratio(b, r.request_warm)));
        println!(
            "{:<28} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10} | {:>7.2}x {:>7.2}x {:>7.2}x {:>9}",
            r.name,
            micros(r.request_warm),
            micros(r.request_cold),
            micros(r.native_warm),
            micros(r.native_cold),
            micros(r.aws),
            boto_text,
            ratio(r.request_warm, r.native_warm),
            ratio(r.request_warm, r.aws),
            ratio(r.request_cold, r.aws),
            boto_ratio,
        );
    }
    println!(
        "(µs per call; c/nat and c/aws: component warm over native warm and over aws-sigv4; boto/c: botocore over component warm)"
    );
    println!();
    println!("SigV4 sign-headers: only the headers signing sets cross back, as aws-sigv4 returns them");
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} | {:>8} {:>8} {:>9}",
        "case", "comp warm", "comp cold", "aws-sigv4", "botocore", "c/aws", "cold/aws", "boto/c"
    );
    for r in &sig_rows {
        let boto_text = r.botocore.map_or("-".to_owned(), |b| format!("{:.2}", micros(b)));
        let boto_ratio = r.botocore.map_or("-".to_owned(), |b| format!("{:.1}x", ratio(b, r.headers_warm)));
        println!(
            "{:<28} {:>10.2} {:>10.2} {:>10.2} {:>10} | {:>7.2}x {:>7.2}x {:>9}",
            r.name,
            micros(r.headers_warm),
            micros(r.headers_cold),
            micros(r.aws),
            boto_text,
            ratio(r.headers_warm, r.aws),
            ratio(r.headers_cold, r.aws),
            boto_ratio,
        );
    }
    println!("(µs per call; c/aws: sign-headers warm over aws-sigv4; boto/c: botocore over sign-headers warm)");
    println!();

    // ---- Other operations: component and the same code native -----------
    let mut rows: Vec<(String, Duration, Duration)> = Vec::new();
    let mut row = |name: &str, native: Duration, wasm: Duration| rows.push((name.to_owned(), native, wasm));

    let native = measure(budget, || {
        black_box(cloudauth::registry::resolve_registry(black_box(ECR_REFERENCE), None).ok());
    });
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_resolve().call_resolve_registry(&mut *store, ECR_REFERENCE, None).unwrap().ok());
    });
    row("resolve ECR reference", native, wasm);

    // The longest reference the grammar accepts: a 255-character name, a
    // 128-character tag and a SHA-512 digest.
    let long_valid = format!(
        "{}.dkr.ecr.us-east-1.amazonaws.com/{}:{}@sha512:{}",
        "123456789012",
        "a".repeat(255 - 47),
        "t".repeat(128),
        "0".repeat(128)
    );
    let native = measure(budget, || {
        black_box(cloudauth::registry::resolve_registry(black_box(&long_valid), None).ok());
    });
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_resolve().call_resolve_registry(&mut *store, &long_valid, None).unwrap().ok());
    });
    row(&format!("resolve longest valid ({} ch)", long_valid.len()), native, wasm);

    let long = format!("{ECR_REFERENCE}{}", "a".repeat(2000 - ECR_REFERENCE.len()));
    let native = measure(budget, || {
        black_box(cloudauth::registry::resolve_registry(black_box(&long), None).ok());
    });
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_resolve().call_resolve_registry(&mut *store, &long, None).unwrap().ok());
    });
    row("resolve 2,000-ch (refused)", native, wasm);

    // The boundary alone: the cheapest export (an enum in, a short string out).
    let native = measure(budget, || {
        black_box(cloudauth::registry::service_account_audience(black_box(cloudauth::registry::Provider::Aws)).ok());
    });
    let wasm = measure(budget, || {
        black_box(
            api.cloudauth_auth_resolve()
                .call_service_account_audience(&mut *store, api::types::Provider::Aws)
                .unwrap()
                .ok(),
        );
    });
    row("empty call (audience)", native, wasm);

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
    row("build Entra token request", native, wasm);

    let response = HttpResponse { status: 200, headers: vec![], body: TOKEN_BODY.as_bytes().to_vec() };
    let native = measure(budget, || {
        black_box(cloudauth::azure::entra::parse_token(black_box(&response), NOW).ok());
    });
    let wit_response = api::types::HttpResponse { status: 200, headers: vec![], body: TOKEN_BODY.as_bytes().to_vec() };
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_azure().call_parse_entra_token(&mut *store, &wit_response, NOW).unwrap().ok());
    });
    row("parse Entra token response", native, wasm);

    let creds = SigCase::new("", "").credentials();
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
    let wit_creds = SigCase::new("", "").wit_params(NOW).credentials;
    let no_options = api::aws::EndpointOptions { fips: false, dualstack: false, legacy: false };
    let wit_params = api::aws::EcrTokenParams {
        region: "us-east-1".into(),
        credentials: wit_creds.clone(),
        registry_ids: vec![],
        public: false,
        endpoint: no_options,
    };
    let wasm = measure(budget, || {
        black_box(api.cloudauth_auth_aws().call_ecr_token_request(&mut *store, &wit_params, NOW).unwrap().ok());
    });
    row("ECR token request (aws.*)", native, wasm);

    let native = measure(budget, || {
        black_box(cloudauth::aws::eks::token("my-cluster", "us-east-1", &creds, NOW, Default::default()).ok());
    });
    let wasm = measure(budget, || {
        black_box(
            api.cloudauth_auth_aws()
                .call_eks_token(&mut *store, "my-cluster", "us-east-1", &wit_creds, NOW, no_options)
                .unwrap()
                .ok(),
        );
    });
    row("EKS token (presigned URL)", native, wasm);

    println!("{:<32} {:>10} {:>10} {:>8}", "operation", "native µs", "comp µs", "ratio");
    for (name, native, wasm) in &rows {
        println!("{name:<32} {:>10.2} {:>10.2} {:>7.2}x", micros(*native), micros(*wasm), ratio(*wasm, *native));
    }
    println!();

    // ---- Instantiation and memory ---------------------------------------
    let path = support::component_path();
    println!("instantiation from InstancePre (median of many; component imports nothing)");
    println!("  core: the component's own instantiation (InstancePre::instantiate)");
    println!("  + sigv4: and bindgen's typed exports of one interface, as a signing proxy loads them");
    println!("  + world: and bindgen's typed exports of every interface (CloudauthPre::instantiate),");
    println!("           each export's signature type-checked by wasmtime per instance");
    for (name, engine) in [("default allocator", Engine::default()), ("pooling allocator", pooling_engine())] {
        let component = Component::from_file(&engine, &path).expect("component");
        let linker: Linker<Footprint> = Linker::new(&engine);
        let instance_pre = linker.instantiate_pre(&component).expect("instantiate_pre");
        let sigv4_indices = api::sigv4::GuestIndices::new(&instance_pre).expect("sigv4 exports");
        let pre = CloudauthPre::new(instance_pre.clone()).expect("pre");
        let median_of = |mut instantiate: Box<dyn FnMut(&mut Store<Footprint>)>| {
            let mut samples = Vec::new();
            let deadline = Instant::now() + budget;
            while Instant::now() < deadline || samples.len() < 200 {
                let mut store = Store::new(&engine, Footprint::default());
                store.limiter(|f| f as &mut dyn ResourceLimiter);
                let start = Instant::now();
                instantiate(&mut store);
                samples.push(start.elapsed());
            }
            samples.sort();
            (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
        };
        let core = median_of(Box::new(|store| {
            black_box(instance_pre.instantiate(store).expect("instantiate"));
        }));
        let one = median_of(Box::new(|store| {
            let instance = instance_pre.instantiate(&mut *store).expect("instantiate");
            black_box(sigv4_indices.load(store, &instance).expect("sigv4 exports"));
        }));
        let world = median_of(Box::new(|store| {
            let instance: Cloudauth = pre.instantiate(store).expect("instantiate");
            black_box(instance);
        }));
        println!(
            "  {name:<18} median (p90) µs: core {:.2} ({:.2}) | + sigv4 {:.2} ({:.2}) | + world {:.2} ({:.2})",
            micros(core.0),
            micros(core.1),
            micros(one.0),
            micros(one.1),
            micros(world.0),
            micros(world.1)
        );

        // Memory of a live instance after real work: an ECR request signed.
        let mut store = Store::new(&engine, Footprint::default());
        store.limiter(|f| f as &mut dyn ResourceLimiter);
        let instance = pre.instantiate(&mut store).expect("instantiate");
        let case = SigCase::new("", "");
        let at_start = store.data().memory_bytes;
        instance
            .cloudauth_auth_sigv4()
            .call_sign_request(&mut store, &case.wit_request(), &case.wit_params(NOW))
            .unwrap()
            .unwrap();
        let after = store.data().memory_bytes;
        let per_gib = (1usize << 30) / after.max(1);
        println!(
            "  {:<18} linear memory {} KiB at start, {} KiB after a signature, \
             table {} elements: {} idle instances per GiB of linear memory",
            "",
            at_start / 1024,
            after / 1024,
            store.data().table_elements,
            per_gib
        );
    }
}
