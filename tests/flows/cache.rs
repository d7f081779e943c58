//! The component's cache: hits, expiry, bounds and keys.

use super::*;

fn sha256_hex(parts: &[String]) -> String {
    Sha256::digest(parts.join("\n").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the managed-identity ACR flow in `host`; returns the session.
fn acr_managed_identity(host: &mut Host, request: &SessionRequest) -> wasmtime::component::ResourceAny {
    let s = host.start(request).unwrap();
    if host.served_from_cache(s) {
        return s;
    }
    let (status, body) = cases::response("azure.imds-token.response.json", "imds-0");
    host.http(s, &response(status, &[], &body), request.now).unwrap();
    let (status, body) = cases::response("azure.acr-exchange.response.json", "exchange");
    host.http(s, &response(status, &[], &body), request.now).unwrap();
    assert!(matches!(host.next(s), Step::Done(_)));
    s
}

fn cached(o: Options) -> Options {
    Options { skip_cache: false, ..o }
}

#[test]
fn cache_hits_expire_and_obey_skip_and_clear() {
    let mut host = Host::new();
    let request = registry("myregistry.azurecr.io/app", Identity::Controller, cached(options(&[])));
    let first = acr_managed_identity(&mut host, &request);
    assert!(!host.served_from_cache(first));
    let done = host.next(first);

    // Hit: done at start, the same credentials and key.
    let hit = host.start(&SessionRequest { now: NOW + 10, ..request.clone() }).unwrap();
    assert!(host.served_from_cache(hit));
    assert_eq!(format!("{:?}", host.next(hit)), format!("{done:?}"));
    assert_eq!(host.cache_key(hit), host.cache_key(first));
    assert_eq!(kind(&host.http(hit, &response(200, &[], "{}"), NOW).unwrap_err()), "invalid-input");

    // The refresh token lives until 2100, so the one-hour cap decides.
    assert!(host.hit(&SessionRequest { now: NOW + 3599, ..request.clone() }));
    assert!(!host.hit(&SessionRequest { now: NOW + 3600, ..request.clone() }));

    // skip-cache neither uses nor fills the cache.
    let mut host = Host::new();
    let skip = registry("myregistry.azurecr.io/app", Identity::Controller, options(&[]));
    acr_managed_identity(&mut host, &skip);
    assert!(!host.hit(&request));
    acr_managed_identity(&mut host, &request);
    assert!(!host.hit(&skip), "skip-cache ignores a cached entry");
    assert!(host.hit(&request));
    host.clear_cache();
    assert!(!host.hit(&request));
}

/// A generic registry's outcome has no expiry, so it is never cached:
/// every session validates the credentials again.
#[test]
fn generic_registry_results_are_not_cached() {
    let mut host = Host::new();
    let request =
        registry("registry.example.test/app", Identity::Controller, cached(with_basic(options(&[]), "u", "p")));
    for _ in 0..2 {
        let s = host.start(&request).unwrap();
        assert!(!host.served_from_cache(s));
        let Step::SendHttp(ping) = host.next(s) else { panic!("no ping") };
        assert_eq!(ping.url, "https://registry.example.test/v2/");
        host.http(s, &response(200, &[], "{}"), NOW).unwrap();
        assert_eq!(format!("{:?}", host.next(s)), format!("{:?}", Step::Done(registry_credentials("u", "p", None))));
    }
}

#[test]
fn cache_reuses_until_80_percent_of_the_lifetime() {
    // A token of 300 s is reused for 240 s.
    let mut host = Host::new();
    let request = access_token(
        Provider::Generic,
        &["https://kubernetes.example"],
        sa("apps", "puller", &[]),
        cached(options(&[])),
    );
    let token = jwt(&json!({"sub": "system:serviceaccount:apps:puller", "exp": NOW + 300}));
    let s = host.start(&request).unwrap();
    host.token(s, &token, NOW).unwrap();
    assert!(host.hit(&SessionRequest { now: NOW + 239, ..request.clone() }));
    assert!(!host.hit(&SessionRequest { now: NOW + 240, ..request.clone() }));
    // A clock that went back is a miss too.
    let s = host.start(&request).unwrap();
    host.token(s, &token, NOW).unwrap();
    assert!(!host.hit(&SessionRequest { now: NOW - 1, ..request.clone() }));
}

#[test]
fn cache_is_bounded() {
    let mut host = Host::new();
    let token = jwt(&json!({"exp": FAR}));
    let request = |i: usize| {
        access_token(Provider::Generic, &[&format!("aud-{i}")], sa("apps", "puller", &[]), cached(options(&[])))
    };
    for i in 0..=256 {
        let s = host.start(&request(i)).unwrap();
        assert!(!host.served_from_cache(s));
        host.token(s, &token, NOW).unwrap();
    }
    // 257 entries were stored into 256 places: the least recently used went.
    assert!(!host.hit(&request(0)), "the oldest entry was evicted");
    assert!(host.hit(&request(256)));
    assert!(host.hit(&request(1)));
}

#[test]
fn cache_keys_follow_flux_and_separate_what_differs() {
    let mut host = Host::new();
    let mut key = |request: &SessionRequest| {
        let s = host.start(request).unwrap_or_else(|e| panic!("{}", message(&e)));
        host.cache_key(s)
    };
    // Flux's keys, where Flux could make the same request.
    let access = sha256_hex(&["provider=azure".into(), format!("scopes={ACR_SCOPE}")]);
    let want = sha256_hex(&[
        format!("accessTokenCacheKey={access}"),
        "artifactRepositoryCacheKey=myregistry.azurecr.io".into(),
    ]);
    assert_eq!(key(&registry("myregistry.azurecr.io/app:v1", Identity::Controller, options(&[]))), want);
    let access = sha256_hex(&[
        "provider=azure".into(),
        format!("providerIdentity={TENANT}/{CLIENT}"),
        "serviceAccountName=workload-sa".into(),
        "serviceAccountNamespace=default".into(),
        "serviceAccountTokenAudiences=api://AzureADTokenExchange".into(),
        format!("scopes={ACR_SCOPE}"),
    ]);
    let want = sha256_hex(&[
        format!("accessTokenCacheKey={access}"),
        "artifactRepositoryCacheKey=myregistry.azurecr.io".into(),
    ]);
    assert_eq!(
        key(&registry("oci://myregistry.azurecr.io/other", azure_sa(), options(&[]))),
        want,
        "the repository does not matter"
    );
    let access = sha256_hex(&[
        "provider=aws".into(),
        format!("providerIdentity={ROLE_ARN}"),
        "serviceAccountName=puller".into(),
        "serviceAccountNamespace=apps".into(),
        "serviceAccountTokenAudiences=sts.amazonaws.com".into(),
        "stsRegion=us-east-1".into(),
    ]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), "artifactRepositoryCacheKey=us-east-1".into()]);
    assert_eq!(
        key(&registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
            options(&[])
        )),
        want
    );
    // CodeCommit: the STS region from the URL, and the URL itself (Flux's
    // ParseGitRepository), since the credentials sign it.
    let url = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/my-repo";
    let access = sha256_hex(&[
        "provider=aws".into(),
        format!("providerIdentity={ROLE_ARN}"),
        "serviceAccountName=puller".into(),
        "serviceAccountNamespace=apps".into(),
        "serviceAccountTokenAudiences=sts.amazonaws.com".into(),
        "stsRegion=us-east-1".into(),
    ]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), format!("gitRepositoryCacheKey={url}")]);
    let git = |url: &str| SessionRequest {
        target: Target::Git(url.into()),
        identity: sa("apps", "puller", &[("eks.amazonaws.com/role-arn", ROLE_ARN)]),
        options: options(&[]),
        now: NOW,
    };
    assert_eq!(key(&git(url)), want);
    assert_ne!(key(&git("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/other")), want);
    let access = sha256_hex(&["provider=gcp".into()]);
    let want = sha256_hex(&[format!("accessTokenCacheKey={access}"), "artifactRepositoryCacheKey=gcp".into()]);
    assert_eq!(key(&registry("gcr.io/p/app", Identity::Controller, options(&[]))), want);

    // Flux's REST config key: one access-token key per token, the cluster, the address.
    let k0 = sha256_hex(&["provider=azure".into(), format!("scopes={AKS_SCOPE}")]);
    let k1 = sha256_hex(&["provider=azure".into(), format!("scopes={ARM_SCOPE}")]);
    let want = sha256_hex(&[
        format!("accessToken0CacheKey={k0}"),
        format!("accessToken1CacheKey={k1}"),
        format!("cluster={AKS_ID}"),
    ]);
    assert_eq!(key(&cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[]))), want);
    let k0 = sha256_hex(&[
        "provider=aws".into(),
        "stsRegion=us-east-1".into(),
        format!("caData={PEM}"),
        "controllerIdentity=accessKeyID=AKID".into(),
    ]);
    let arn = "arn:aws:eks:us-east-1:123456789012:cluster/c";
    let want = sha256_hex(&[
        format!("accessToken0CacheKey={k0}"),
        format!("cluster={arn}"),
        "address=https://c.example".into(),
    ]);
    let eks = cluster(
        Provider::Aws,
        arn,
        Some("https://c.example"),
        Some(PEM),
        Identity::Controller,
        options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
    );
    assert_eq!(key(&eks), want);

    // Everything that changes the result changes the key.
    let with_sts = {
        let mut o = options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        o.sts_endpoint = Some("https://sts.amazonaws.com".into());
        o
    };
    let requests = vec![
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[])),
        registry("other.azurecr.io/app", Identity::Controller, options(&[])),
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[("AZURE_CLIENT_ID", CLIENT)])),
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "default",
                "other-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
            ),
            options(&[]),
        ),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "other-ns",
                "workload-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
            ),
            options(&[]),
        ),
        registry(
            "myregistry.azurecr.io/app",
            sa(
                "default",
                "workload-sa",
                &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", "other-client")],
            ),
            options(&[]),
        ),
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID2"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry(
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", Identity::Controller, with_sts),
        registry(
            "public.ecr.aws/o/app",
            Identity::Controller,
            options(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]),
        ),
        registry("gcr.io/p/app", sa("apps", "puller", &[("iam.gke.io/gcp-service-account", GSA)]), options(&[])),
        registry("gcr.io/p/app", sa("apps", "puller", &[]), options(&[])),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u", "p")),
        registry("registry.example.test/bar", Identity::Controller, with_basic(options(&[]), "u", "p")),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u2", "p")),
        registry("registry.example.test/foo", Identity::Controller, with_basic(options(&[]), "u", "p2")),
        access_token(Provider::Azure, &[], Identity::Controller, options(&[])),
        access_token(Provider::Azure, &[DEVOPS_SCOPE], Identity::Controller, options(&[])),
        SessionRequest {
            target: Target::Git("https://dev.azure.com/o/p/_git/r".into()),
            identity: Identity::Controller,
            options: options(&[]),
            now: NOW,
        },
        cluster(Provider::Azure, AKS_ID, None, None, Identity::Controller, options(&[])),
        cluster(Provider::Azure, AKS_ID, Some("https://c1.example"), None, Identity::Controller, options(&[])),
        cluster(Provider::Azure, AKS_ID, Some("https://c1.example"), Some(PEM), Identity::Controller, options(&[])),
        cluster(
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/c",
            None,
            None,
            Identity::Controller,
            options(&[]),
        ),
        cluster(
            Provider::Gcp,
            "projects/my-project/locations/us-central1/clusters/d",
            None,
            None,
            Identity::Controller,
            options(&[]),
        ),
    ];
    let keys: Vec<String> = requests.iter().map(&mut key).collect();
    for (i, a) in keys.iter().enumerate() {
        assert_eq!(a.len(), 64);
        for (j, b) in keys.iter().enumerate().skip(i + 1) {
            assert_ne!(a, b, "requests {i} and {j} share a key");
        }
    }
    // The same request, at another time and with another skip-cache, has the same key.
    let mut again = requests[3].clone();
    again.now = NOW + 1000;
    again.options.skip_cache = false;
    assert_eq!(key(&again), keys[3]);
}
