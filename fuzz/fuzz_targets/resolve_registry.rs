//! Fuzzes `cloudauth::registry::resolve_registry` and `registry_scopes`: no
//! panic, and a cloud provider only for a host under that cloud's registry
//! domains, named first in the input. An input starting with `~` is
//! resolved with a custom Azure cloud whose registry suffix is
//! `azurecr.contoso.example`.
#![no_main]

use cloudauth::azure::cloud::AzureEnvironment;
use cloudauth::registry::{Provider, registry_scopes, resolve_registry};
use cloudauth_fuzz::check_message;
use cloudauth_fuzz::cloud_hosts::{Cloud, check_registry, check_written_first};
use libfuzzer_sys::fuzz_target;

const CUSTOM_SUFFIX: &str = "azurecr.contoso.example";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (input, env) = match text.strip_prefix('~') {
        Some(rest) => (
            rest,
            Some(AzureEnvironment {
                resource_manager_endpoint: Some("https://management.contoso.example".into()),
                token_audience: Some("https://management.core.contoso.example".into()),
                container_registry_dns_suffix: Some(CUSTOM_SUFFIX.into()),
            }),
        ),
        None => (text, None),
    };
    let resolved = resolve_registry(input, env.as_ref());
    let scopes = registry_scopes(input, env.as_ref());
    match &resolved {
        Ok(t) => {
            let cloud = match t.provider {
                Provider::Azure => Some(Cloud::Azure),
                Provider::Aws => Some(Cloud::Aws),
                Provider::Gcp => Some(Cloud::Gcp),
                Provider::Generic => None,
            };
            if let Some(cloud) = cloud {
                let custom = env.as_ref().map(|_| CUSTOM_SUFFIX);
                if let Err(why) = check_registry(cloud, &t.registry, custom) {
                    panic!("{input:?}: {why}");
                }
                if let Err(why) = check_written_first(input, &t.registry) {
                    panic!("{why}");
                }
                assert!(scopes.is_ok(), "{input:?}: {t:?} but scopes {scopes:?}");
            } else {
                assert!(
                    matches!(&scopes, Err(e) if e.kind() == "unsupported"),
                    "{input:?}: generic but scopes {scopes:?}"
                );
            }
            assert_eq!(t.azure_cloud.is_some(), t.provider == Provider::Azure, "{t:?}");
            assert_eq!(t.aws.is_some(), t.provider == Provider::Aws, "{t:?}");
        }
        Err(e) => {
            check_message(e);
            assert_eq!(scopes.as_ref().err(), Some(e), "{input:?}");
        }
    }
});
