use super::*;

fn env(suffix: Option<&str>) -> AzureEnvironment {
    AzureEnvironment {
        resource_manager_endpoint: Some("https://management.contoso.example".into()),
        token_audience: Some("https://management.core.contoso.example".into()),
        container_registry_dns_suffix: suffix.map(str::to_owned),
    }
}

fn resolve(reference: &str) -> RegistryTarget {
    resolve_registry(reference, None).unwrap_or_else(|e| panic!("{reference:?}: {e}"))
}

fn kind<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.err().map_or("ok", |e| e.kind())
}

#[test]
fn providers() {
    for (reference, provider, registry) in [
        ("myregistry.azurecr.io/app:v1", Provider::Azure, "myregistry.azurecr.io"),
        ("oci://myregistry.azurecr.us/charts/podinfo", Provider::Azure, "myregistry.azurecr.us"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            Provider::Aws,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        ),
        ("public.ecr.aws/nginx/nginx:latest", Provider::Aws, "public.ecr.aws"),
        ("gcr.io/p/app", Provider::Gcp, "gcr.io"),
        ("europe-docker.pkg.dev/p/r/app", Provider::Gcp, "europe-docker.pkg.dev"),
        ("alpine", Provider::Generic, "docker.io"),
        ("ghcr.io/o/app", Provider::Generic, "ghcr.io"),
        ("localhost:5000/app", Provider::Generic, "localhost:5000"),
        ("[::1]:5000/app", Provider::Generic, "[::1]:5000"),
        ("myreg.azurecr.de/app", Provider::Generic, "myreg.azurecr.de"),
        ("azurecr.io/app", Provider::Generic, "azurecr.io"),
    ] {
        let t = resolve(reference);
        assert_eq!((t.provider, t.registry.as_str()), (provider, registry), "{reference}");
        assert_eq!(t.azure_cloud.is_some(), provider == Provider::Azure, "{reference}");
        assert_eq!(t.aws.is_some(), provider == Provider::Aws, "{reference}");
    }
}

#[test]
fn a_cloud_name_in_the_path_is_not_the_host() {
    for reference in [
        "evil.com/x.azurecr.io",
        "evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
        "evil.com/gcr.io/app",
        "oci://evil.com/public.ecr.aws",
        "myregistry.azurecr.io.evil.example/app",
    ] {
        let t = resolve(reference);
        assert_eq!(t.provider, Provider::Generic, "{reference}");
        assert_eq!(kind(registry_scopes(reference, None)), "unsupported", "{reference}");
    }
    assert_eq!(resolve("evil.com/x.azurecr.io").registry, "evil.com");
}

#[test]
fn custom_cloud() {
    let e = env(Some("azurecr.contoso.example"));
    let t = resolve_registry("myreg.azurecr.contoso.example/app", Some(&e)).unwrap();
    assert_eq!((t.provider, t.azure_cloud), (Provider::Azure, Some(AzureCloud::Custom)));
    assert_eq!(
        registry_scopes("myreg.azurecr.contoso.example/app", Some(&e)).unwrap(),
        ["https://management.contoso.example/.default"]
    );
    // Public registries keep their cloud, but with an environment file the
    // scope is the file's for every registry host, as fluxcd/pkg takes it.
    let t = resolve_registry("myreg.azurecr.io/app", Some(&e)).unwrap();
    assert_eq!(t.azure_cloud, Some(AzureCloud::Public));
    assert_eq!(
        registry_scopes("myreg.azurecr.io/app", Some(&e)).unwrap(),
        ["https://management.contoso.example/.default"]
    );
    assert_eq!(registry_scopes("myreg.azurecr.io/app", None).unwrap(), [ACR_SCOPE]);
    // Without the environment the suffix means nothing.
    assert_eq!(resolve("myreg.azurecr.contoso.example/app").provider, Provider::Generic);
    // The bare suffix is not a registry.
    assert_eq!(resolve_registry("azurecr.contoso.example", Some(&e)).unwrap().provider, Provider::Generic);
}

#[test]
fn invalid_custom_cloud_is_refused() {
    let mut incomplete = env(Some("azurecr.contoso.example"));
    incomplete.token_audience = None;
    for reference in ["myreg.azurecr.contoso.example/app", "ghcr.io/o/app"] {
        assert_eq!(kind(resolve_registry(reference, Some(&incomplete))), "invalid-input", "{reference}");
        assert_eq!(kind(registry_scopes(reference, Some(&incomplete))), "invalid-input", "{reference}");
    }
    assert_eq!(kind(resolve_registry("ghcr.io/o/app", Some(&env(Some("com"))))), "invalid-input");
}

#[test]
fn scopes() {
    for reference in ["myreg.azurecr.io", "myreg.azurecr.cn/app", "myreg.azurecr.us/app"] {
        assert_eq!(registry_scopes(reference, None).unwrap(), [ACR_SCOPE], "{reference}");
    }
    assert_eq!(
        registry_scopes("us-docker.pkg.dev/p/r/app", None).unwrap(),
        ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"]
    );
    assert!(registry_scopes("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", None).unwrap().is_empty());
    assert!(registry_scopes("public.ecr.aws/o/app", None).unwrap().is_empty());
    assert_eq!(kind(registry_scopes("ghcr.io/o/app", None)), "unsupported");
    assert_eq!(kind(registry_scopes("alpine", None)), "unsupported");
    assert_eq!(kind(registry_scopes("user@myreg.azurecr.io", None)), "invalid-input");
}

#[test]
fn audiences() {
    assert_eq!(service_account_audience(Provider::Azure).unwrap(), "api://AzureADTokenExchange");
    assert_eq!(service_account_audience(Provider::Aws).unwrap(), "sts.amazonaws.com");
    assert_eq!(kind(service_account_audience(Provider::Gcp)), "unsupported");
    assert_eq!(kind(service_account_audience(Provider::Generic)), "unsupported");
    let names = [Provider::Azure, Provider::Aws, Provider::Gcp, Provider::Generic].map(Provider::name);
    assert_eq!(names, ["azure", "aws", "gcp", "generic"]);
}

/// A small deterministic generator (xorshift64*), so the property test needs
/// no extra dependency and fails reproducibly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces of valid and hostile references, glued at random.
const PIECES: &[&str] = &[
    "myreg.azurecr.io",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "public.ecr.aws",
    "gcr.io",
    "us-docker.pkg.dev",
    "ghcr.io",
    "localhost",
    "[::1]",
    "docker.io",
    "evil.example",
    "oci://",
    "https://",
    "/",
    "/",
    "/",
    ":",
    ":5000",
    "@",
    "app",
    "o",
    "library",
    ".",
    "..",
    "-",
    "_",
    "v1",
    "sha256",
    "user:pass",
    "A",
    "%2e",
    "?",
    "#",
    "\\",
];

const CONTROL: &[&str] = &["\n", "\r", "\0", "\t", "\u{7f}", "\u{1b}", " ", "\u{85}", "\u{2028}"];

fn random_reference(rng: &mut Rng) -> String {
    (0..1 + rng.below(8)).map(|_| rng.pick(PIECES)).collect()
}

/// Control characters and whitespace anywhere, or userinfo: an `@` before
/// the first `/`, except a slash-less Docker Hub name pinned by a valid
/// digest (`alpine@sha256:<64 hex>`).
fn hostile(s: &str) -> bool {
    let before_slash = s.split('/').next().unwrap_or_default();
    let pinned_hub_image = !s.contains('/')
        && s.split_once('@').is_some_and(|(_, d)| {
            d.strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        });
    s.chars().any(|c| c.is_control() || c.is_whitespace()) || (before_slash.contains('@') && !pinned_hub_image)
}

#[test]
fn property_no_control_character_or_userinfo_resolves() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut hostile_seen = 0;
    for _ in 0..50_000 {
        let mut s = random_reference(&mut rng);
        match rng.below(3) {
            0 => {
                let at = (0..=s.len()).filter(|&i| s.is_char_boundary(i)).nth(rng.below(s.len() + 1)).unwrap_or(0);
                s.insert_str(at, rng.pick(CONTROL));
            }
            1 => {
                let first_slash = s.find('/').unwrap_or(s.len());
                let at =
                    (0..=first_slash).filter(|&i| s.is_char_boundary(i)).nth(rng.below(first_slash + 1)).unwrap_or(0);
                s.insert(at, '@');
            }
            _ => {}
        }
        if hostile(&s) {
            hostile_seen += 1;
            assert!(resolve_registry(&s, None).is_err(), "{s:?} resolved");
            assert!(registry_scopes(&s, None).is_err(), "{s:?} has scopes");
        } else {
            // Whatever else: never a panic, and a success names a valid host.
            if let Ok(t) = resolve_registry(&s, None) {
                assert!(Authority::parse(&t.registry).is_ok(), "{s:?} -> {}", t.registry);
            }
        }
    }
    assert!(hostile_seen > 20_000);
}

#[test]
fn a_cloud_target_always_has_the_cloud_in_its_host() {
    // Every successful cloud resolution of a random input names a host under
    // one of the clouds' own domains.
    const OWNED: &[&str] = &[
        "azurecr.io",
        "azurecr.cn",
        "azurecr.us",
        "amazonaws.com",
        "amazonaws.com.cn",
        "amazonaws.eu",
        "c2s.ic.gov",
        "sc2s.sgov.gov",
        "cloud.adc-e.uk",
        "csp.hci.ic.gov",
        "on.aws",
        "ecr.aws",
        "gcr.io",
        "pkg.dev",
    ];
    let mut rng = Rng(42);
    for _ in 0..50_000 {
        let s = random_reference(&mut rng);
        if let Ok(t) = resolve_registry(&s, None)
            && t.provider != Provider::Generic
        {
            let host = Authority::parse(&t.registry).unwrap();
            assert!(OWNED.iter().any(|d| host.host() == *d || host.is_under(d)), "{s:?} -> {t:?}");
        }
    }
}

/// The registry string is what `Authority` displays, ports included.
#[test]
fn registry_is_written_as_authority_displays_it() {
    for host in ["h.example", "h.example:1", "h.example:443", "h.example:65535", "[::1]:5000", "localhost:10"] {
        let authority = Authority::parse(host).unwrap();
        assert_eq!(resolve_authority(&authority, None).unwrap().registry, authority.to_string(), "{host}");
        assert_eq!(authority.clone().into_host_port(), authority.to_string(), "{host}");
    }
}

/// `parse_registry` accepts and refuses exactly what `parse_reference`
/// does, with the same registry.
#[test]
fn parse_registry_checks_the_whole_reference() {
    let mut rng = Rng(7);
    for _ in 0..3_000 {
        let input = random_reference(&mut rng);
        match (parse_reference(&input), parse_registry(&input)) {
            (Ok(r), Ok(a)) => assert_eq!(r.registry, a, "{input:?}"),
            (Err(e1), Err(e2)) => assert_eq!(e1.to_string(), e2.to_string(), "{input:?}"),
            (r, a) => panic!("{input:?}: {r:?} vs {a:?}"),
        }
    }
}
