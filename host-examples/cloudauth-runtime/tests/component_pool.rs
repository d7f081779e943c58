//! Loading the component once (the disk cache of the compiled artifact),
//! the pool's bounds, pure calls, and traps: a call that traps fails alone,
//! its instance is dropped and replaced, other calls go on.

mod support;

use std::time::Duration;

use cloudauth_runtime::api::types::{HttpResponse, Provider};
use cloudauth_runtime::{ErrorKind, LoadOptions, LoadedComponent, Pool};

#[test]
fn the_compiled_artifact_is_cached_on_disk_by_hash() {
    let dir = std::env::temp_dir().join(format!("cloudauth-runtime-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = LoadOptions { cache_dir: Some(dir.clone()), ..LoadOptions::default() };
    let first = LoadedComponent::load(support::component_path(), &options).unwrap();
    assert!(!first.loaded_from_cache());
    let wasm = std::fs::read(support::component_path()).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with(&format!("{}-", first.sha256())), "{name}");
    assert_eq!(first.sha256().len(), 64);
    assert_ne!(first.sha256(), "0".repeat(64));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    }

    let second = LoadedComponent::load(support::component_path(), &options).unwrap();
    assert!(second.loaded_from_cache());
    assert_eq!(second.sha256(), first.sha256());

    // A damaged artifact is compiled again, not trusted.
    drop((first, second));
    std::fs::write(&files[0], b"not a compiled component").unwrap();
    let third = LoadedComponent::load(support::component_path(), &options).unwrap();
    assert!(!third.loaded_from_cache());
    assert_ne!(std::fs::read(&files[0]).unwrap(), b"not a compiled component");

    // Other settings (no fuel) change the code, hence the key.
    let no_fuel = LoadOptions { cache_dir: Some(dir.clone()), fuel_per_call: None };
    let fourth = LoadedComponent::load(support::component_path(), &no_fuel).unwrap();
    assert!(!fourth.loaded_from_cache());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    // Other bytes (the same component with a custom section added) are another key.
    let mut other = wasm.clone();
    other.extend_from_slice(&[0x00, 0x04, 0x01, b'x', 0x00, 0x00]);
    let fifth = LoadedComponent::from_bytes(&other, &options).unwrap();
    assert!(!fifth.loaded_from_cache());
    assert_ne!(fifth.sha256(), third.sha256());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_version_comes_from_the_exports() {
    let component = support::default_component();
    assert_eq!(component.version(), Some("0.1.0"));
}

#[test]
fn a_missing_component_says_how_to_build_it() {
    let error = LoadedComponent::load("/nonexistent/cloudauth.wasm".as_ref(), &LoadOptions::default()).err().unwrap();
    assert_eq!(error.kind(), &ErrorKind::Setup);
    assert!(error.to_string().contains("cargo xtask build"), "{error}");
    let error = LoadedComponent::from_bytes(b"\0asm garbage", &LoadOptions { cache_dir: None, fuel_per_call: None })
        .err()
        .unwrap();
    assert_eq!(error.kind(), &ErrorKind::Setup);
}

#[tokio::test]
async fn pure_calls_run_on_pooled_instances_and_instances_are_reused() {
    let pool = Pool::new(support::default_component(), 2);
    for _ in 0..5 {
        let mut instance = pool.get().await.unwrap();
        let target = instance
            .call_checked("resolve-registry", |api, store| {
                api.cloudauth_auth_resolve().call_resolve_registry(
                    store,
                    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
                    None,
                )
            })
            .unwrap();
        assert_eq!(target.provider, Provider::Aws);
        assert_eq!(target.aws.unwrap().region, "eu-west-1");
    }
    assert_eq!(pool.stats().created, 1, "one instance serves calls made one after another");
    // A component error is an error, and does not break the instance.
    let mut instance = pool.get().await.unwrap();
    let error = instance
        .call_checked("resolve-registry", |api, store| {
            api.cloudauth_auth_resolve().call_resolve_registry(store, "user:pass@evil/app", None)
        })
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidInput);
    assert!(!instance.is_broken());
}

#[tokio::test]
async fn the_pool_is_bounded() {
    let pool = Pool::new(support::default_component(), 2);
    let a = pool.get().await.unwrap();
    let _b = pool.get().await.unwrap();
    assert!(pool.try_get().is_none(), "a third instance while two are out");
    let waiting = tokio::time::timeout(Duration::from_millis(100), pool.get()).await;
    assert!(waiting.is_err(), "get waits while the pool is exhausted");
    drop(a);
    let c = tokio::time::timeout(Duration::from_secs(5), pool.get()).await;
    assert!(c.is_ok(), "an instance given back is available again");
    assert_eq!(pool.stats().created, 2);
}

/// A token response of 1 MiB, the most the component accepts: valid JSON
/// whose token is there, padded with one long unknown field. The component
/// parses it correctly, but it costs far more fuel than a real answer.
fn hostile_token_response() -> HttpResponse {
    let mut body = String::from(r#"{"token":"t","pad":""#);
    body.push_str(&"a".repeat((1 << 20) - body.len() - 2));
    body.push_str("\"}");
    HttpResponse { status: 200, headers: vec![], body: body.into_bytes() }
}

fn real_token_response() -> HttpResponse {
    let body = r#"{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}"#;
    HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// The fuel one `oci.parse-token` call burns on `response`.
async fn fuel_of(response: &HttpResponse) -> u64 {
    let pool = Pool::new(support::component(Some(u64::MAX)), 1);
    let mut instance = pool.get().await.unwrap();
    instance
        .call("oci.parse-token", |api, store| {
            api.cloudauth_auth_oci()
                .call_parse_token(&mut *store, response, 1_767_225_600)?
                .expect("the answer parses");
            Ok(u64::MAX - store.get_fuel()?)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_fails_that_call_only_and_the_instance_is_replaced() {
    // A fuel budget between what a real answer and the hostile one cost:
    // real calls pass, the hostile one runs out and traps.
    let (real, hostile) = (real_token_response(), hostile_token_response());
    let (real_fuel, hostile_fuel) = (fuel_of(&real).await, fuel_of(&hostile).await);
    assert!(hostile_fuel > 100 * real_fuel, "real {real_fuel}, hostile {hostile_fuel}");
    let budget = real_fuel * 10;
    let pool = Pool::new(support::component(Some(budget)), 2);

    // Good calls run alongside the one that traps.
    let good = |pool: Pool, response: HttpResponse| async move {
        let mut ok = 0;
        for _ in 0..20 {
            let mut instance = pool.get().await.unwrap();
            let parsed = instance.call_checked("oci.parse-token", |api, store| {
                api.cloudauth_auth_oci().call_parse_token(store, &response, 1_767_225_600)
            });
            if parsed.is_ok_and(|t| t.expires_at == 1_767_225_600 + 300) {
                ok += 1;
            }
            tokio::task::yield_now().await;
        }
        ok
    };
    let good_calls = tokio::spawn(good(pool.clone(), real.clone()));
    let mut instance = pool.get().await.unwrap();
    let error = instance
        .call_checked("oci.parse-token", |api, store| api.cloudauth_auth_oci().call_parse_token(store, &hostile, 0))
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Trap);
    let text = error.to_string();
    assert!(text.contains("the component trapped in `oci.parse-token`"), "{text}");
    assert!(text.contains("fuel"), "the trap says why: {text}");
    assert!(text.contains("dropped and will be replaced"), "{text}");
    assert!(instance.is_broken());
    // The broken instance refuses further calls instead of entering wasm again.
    let again = instance.call("oci.parse-token", |_, _| Ok(()));
    assert_eq!(again.unwrap_err().kind(), &ErrorKind::Trap);
    drop(instance);
    assert_eq!(good_calls.await.unwrap(), 20, "every other call succeeded");
    assert_eq!(pool.stats().discarded, 1, "{:?}", pool.stats());

    // The pool goes on: the next calls get working instances.
    for _ in 0..3 {
        let mut instance = pool.get().await.unwrap();
        let token = instance
            .call_checked("oci.parse-token", |api, store| api.cloudauth_auth_oci().call_parse_token(store, &real, 0))
            .unwrap();
        assert_eq!(token.expires_at, 1_767_225_600 + 300, "issued_at + expires_in");
    }
    let stats = pool.stats();
    assert_eq!(stats.discarded, 1, "{stats:?}");
    assert!(stats.created >= 2, "a new instance replaced the dropped one: {stats:?}");
}
