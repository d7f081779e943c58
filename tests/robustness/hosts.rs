//! Hostile and look-alike hosts and references: resolve-registry and the session never route a token to a host the target does not allow.

use super::*;

/// Cloud registry hosts, with a look-alike twist applied by [`confuse`].
const CLOUD_HOSTS: &[&str] = &[
    "myregistry.azurecr.io",
    "reg.azurecr.cn",
    "reg.azurecr.us",
    "myreg.westeurope.data.azurecr.io",
    "myregistry.azurecr.contoso.example",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
    "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "123456789012.dkr-ecr.us-west-2.on.aws",
    "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
    "public.ecr.aws",
    "gcr.io",
    "us.gcr.io",
    "europe-west1-docker.pkg.dev",
];

/// Hosts of no cloud.
const OTHER_HOSTS: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "ghcr.io",
    "localhost",
    "localhost:5000",
    "[::1]:5000",
    "127.0.0.1:5000",
    "evil.example",
    "registry.example.test:443",
    "169.254.169.254",
];

/// Look-alike characters: Cyrillic, full-width and other confusables.
const CONFUSABLES: &[(char, &str)] = &[
    ('a', "\u{430}"),
    ('e', "\u{435}"),
    ('o', "\u{43e}"),
    ('c', "\u{441}"),
    ('p', "\u{440}"),
    ('i', "\u{456}"),
    ('s', "\u{455}"),
    ('.', "\u{3002}"),
    ('.', "\u{ff0e}"),
    ('.', "\u{2024}"),
    ('.', "%2e"),
    ('.', "%2E"),
    ('.', "\\."),
    ('-', "\u{2010}"),
    ('1', "l"),
    ('0', "o"),
];

const INVISIBLES: &[&str] =
    &["\u{200b}", "\u{200d}", "\u{ad}", "\u{feff}", "\u{202e}", "\u{0}", "\t", " ", "\r\n", "%00", "%0d%0a"];

const PORTS: &[&str] = &[
    ":443",
    ":5000",
    ":0",
    ":65535",
    ":65536",
    ":99999",
    ":-1",
    ":",
    ":443:443",
    ":0x1bb",
    ": 443",
    ":\u{96a}\u{96a}\u{96b}",
    ":00443",
    ":+443",
    ":1e3",
];

const IPV6_ODDITIES: &[&str] = &[
    "[::1]",
    "[::ffff:169.254.169.254]",
    "[fe80::1%25eth0]",
    "[fe80::1%eth0]",
    "[::1",
    "::1]",
    "::1",
    "[]",
    "[[::1]]",
    "[::1]]",
    "[1:2:3:4:5:6:7:8:9]",
    "[::g]",
    "[::1]:",
    "[::1]:0",
    "[::1]x",
    "[ ::1 ]",
    "[0:0:0:0:0:0:0:1]",
    "[::1].azurecr.io",
    "[myregistry.azurecr.io]",
    "[v1.azurecr.io]",
    "[::1]@myregistry.azurecr.io",
];

const SCHEMES: &[&str] = &[
    "",
    "",
    "",
    "oci://",
    "https://",
    "OCI://",
    "HTTPS://",
    "http://",
    "docker://",
    "oci:/",
    "oci:///",
    "//",
    "https:\\\\",
    "oci://oci://",
    " oci://",
];

const USERINFO: &[&str] =
    &["", "", "", "user:pass@", "evil.example@", "@", ":@", "myregistry.azurecr.io@", "user@", "a%40b@", "u:p@[::1]@"];

const PATHS: &[&str] = &[
    "",
    "",
    "/",
    "/app",
    "/app:v1",
    "/org/app:latest",
    "/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "/app:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "/../x",
    "//x",
    "/APP",
    "/app:",
    "/app:-v",
    "/a?b=c",
    "/a#frag",
    "/%2e%2e/x",
    "\\app",
    "/app@evil.example",
    "/app@sha256:zz",
    "/evil.example/app",
    "/app:\u{430}",
];

/// A host made to look like (or hide behind) another.
fn confuse(rng: &mut Rng, host: &str) -> String {
    let evil = *rng.pick(&["evil.example", "evil", "x.evil.example", "169.254.169.254"]);
    match rng.below(14) {
        0 => host.to_owned(),
        1 => format!("{host}.{evil}"),
        2 => format!("{evil}.{host}"),
        3 => format!("{evil}{host}"),
        4 => format!("{host}."),
        5 => host.chars().map(|c| if rng.chance(3) { c.to_ascii_uppercase() } else { c }).collect(),
        6 => {
            let (from, to) = *rng.pick(CONFUSABLES);
            let spots: Vec<usize> = host.match_indices(from).map(|(i, _)| i).collect();
            match spots.as_slice() {
                [] => host.to_owned(),
                s => {
                    let at = *rng.pick(s);
                    format!("{}{to}{}", &host[..at], &host[at + from.len_utf8()..])
                }
            }
        }
        7 => {
            let at = (0..=host.len()).filter(|&i| host.is_char_boundary(i)).nth(rng.below(host.len() + 1)).unwrap_or(0);
            format!("{}{}{}", &host[..at], rng.pick(INVISIBLES), &host[at..])
        }
        8 => host.bytes().map(|b| format!("%{b:02X}")).collect(),
        9 => format!("{host}{}", rng.pick(PORTS)),
        10 => rng.pick(IPV6_ODDITIES).to_string(),
        11 => format!("{}.{host}", "a".repeat(63 + rng.below(2))),
        12 => format!("{}{host}", "a.".repeat(120 + rng.below(10))),
        _ => format!("xn--{host}"),
    }
}

/// A hostile reference: scheme, userinfo, host, port and path, each maybe
/// twisted, then maybe mutated byte by byte.
fn hostile_reference(rng: &mut Rng) -> String {
    let host = if rng.chance(4) { *rng.pick(OTHER_HOSTS) } else { *rng.pick(CLOUD_HOSTS) };
    let mut host = confuse(rng, host);
    if rng.chance(4) {
        host = confuse(rng, &host);
    }
    let mut reference = format!("{}{}{host}{}", rng.pick(SCHEMES), rng.pick(USERINFO), rng.pick(PATHS));
    if rng.chance(8) {
        reference = format!("{}/{reference}", rng.pick(OTHER_HOSTS));
    }
    if rng.chance(5) {
        let specials = [
            ":", "@", "/", "[", "]", "%", "#", "?", "\\", " ", "\t", "\0", "\r", "\n", ".", "..", "\u{430}",
            "\u{ff0f}", "\u{2044}", "%2f", "@@",
        ];
        for _ in 0..1 + rng.below(3) {
            let at = (0..=reference.len())
                .filter(|&i| reference.is_char_boundary(i))
                .nth(rng.below(reference.len() + 1))
                .unwrap_or(0);
            let special = *rng.pick(&specials);
            reference.insert_str(at, special);
        }
    }
    reference
}

/// A custom cloud whose registries are `*.azurecr.contoso.example`.
fn contoso() -> AzureEnvironment {
    let v: Vec<String> = CUSTOM_ENV_PARAMS.iter().map(|(_, v)| (*v).to_owned()).collect();
    custom_env(&v)
}

fn cloud_of(provider: Provider) -> Option<Cloud> {
    match provider {
        Provider::Azure => Some(Cloud::Azure),
        Provider::Aws => Some(Cloud::Aws),
        Provider::Gcp => Some(Cloud::Gcp),
        Provider::Generic => None,
    }
}

impl Probe {
    /// Resolves a reference and checks that a cloud provider comes only with
    /// a host of that cloud, named first in the reference.
    fn resolve(&mut self, reference: &str, env: Option<&AzureEnvironment>) {
        let label = format!(
            "resolve {:?}{}",
            reference.chars().take(120).collect::<String>(),
            if env.is_some() { " (custom cloud)" } else { "" }
        );
        let input = reference.as_bytes();
        let Some(resolved) = self.call(&label, input, |i| {
            i.api.cloudauth_auth_resolve().call_resolve_registry(&mut i.store, reference, env)
        }) else {
            return;
        };
        let Some(scopes) = self
            .call(&label, input, |i| i.api.cloudauth_auth_resolve().call_registry_scopes(&mut i.store, reference, env))
        else {
            return;
        };
        match &resolved {
            Err(e) => {
                self.check_error(&label, input, e);
                if kind(e) != "invalid-input" {
                    self.fail(format!("{label}: {}", describe(e)), input);
                }
                if scopes.as_ref().err().map(kind) != Some(kind(e)) {
                    self.fail(
                        format!(
                            "{label}: resolve failed ({}) but registry-scopes gave {:?}",
                            describe(e),
                            scopes.as_ref().map_err(describe)
                        ),
                        input,
                    );
                }
            }
            Ok(t) => {
                if !reference.bytes().all(|b| b.is_ascii_graphic()) {
                    self.fail(
                        format!(
                            "{label}: a reference with whitespace, control or non-ASCII characters resolved to {:?}",
                            t.registry
                        ),
                        input,
                    );
                }
                if t.registry.chars().any(|c| c.is_ascii_uppercase() || !c.is_ascii_graphic()) {
                    self.fail(format!("{label}: registry {:?} is not lower-case ASCII", t.registry), input);
                }
                match cloud_of(t.provider) {
                    Some(cloud) => {
                        let custom = env.and_then(|e| e.container_registry_dns_suffix.as_deref());
                        if let Err(why) = check_registry(cloud, &t.registry, custom) {
                            self.fail(format!("{label}: {why}"), input);
                        }
                        if let Err(why) = check_written_first(reference, &t.registry) {
                            self.fail(format!("{label}: {why}"), input);
                        }
                        if let Err(e) = &scopes {
                            self.fail(
                                format!("{label}: {:?} registry but registry-scopes gave {}", t.provider, describe(e)),
                                input,
                            );
                        }
                    }
                    None => {
                        if !matches!(&scopes, Err(e) if kind(e) == "unsupported") {
                            self.fail(
                                format!(
                                    "{label}: generic registry but registry-scopes gave {:?}",
                                    scopes.as_ref().map_err(describe)
                                ),
                                input,
                            );
                        }
                    }
                }
                let host = t
                    .registry
                    .rsplit_once(':')
                    .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(t.registry.as_str(), |(h, _)| h);
                let consistent = match t.provider {
                    Provider::Azure => {
                        let custom_suffix = env
                            .and_then(|e| e.container_registry_dns_suffix.as_deref())
                            .map(|s| format!(".{}", s.trim_start_matches('.').to_ascii_lowercase()));
                        let under_custom = custom_suffix.is_some_and(|s| host.ends_with(&s));
                        t.aws.is_none()
                            && t.azure_cloud.is_some()
                            && (t.azure_cloud == Some(types::AzureCloud::AzureCustom)) == under_custom
                    }
                    Provider::Aws => {
                        t.azure_cloud.is_none()
                            && t.aws.as_ref().is_some_and(|a| {
                                a.public == (host == "public.ecr.aws")
                                    && (a.public
                                        || (a.account_id.as_deref() == host.split('.').next()
                                            && host.split('.').any(|l| l == a.region)))
                            })
                    }
                    Provider::Gcp | Provider::Generic => t.azure_cloud.is_none() && t.aws.is_none(),
                };
                if !consistent {
                    self.fail(
                        format!(
                            "{label}: inconsistent target {:?} {:?} {:?} {:?}",
                            t.provider, t.registry, t.azure_cloud, t.aws
                        ),
                        input,
                    );
                }
            }
        }
    }
}

/// A generated corpus of hostile references: look-alike hosts, userinfo,
/// confusables, percent-encoding, IPv6 oddities, bad ports, over-long
/// input. A cloud provider comes only with a host of that cloud.
#[test]
fn resolve_registry_never_gives_a_cloud_to_a_foreign_host() {
    const REFERENCES: usize = 12_000;
    let mut p = Probe::new("resolve_registry_never_gives_a_cloud_to_a_foreign_host");
    let mut rng = Rng::new(0x4E57);
    let env = contoso();
    for n in 0..REFERENCES {
        let reference = hostile_reference(&mut rng);
        p.resolve(&reference, (n % 4 == 0).then_some(&env));
    }
    // Every host and twist combination once, plain.
    for host in CLOUD_HOSTS.iter().chain(OTHER_HOSTS) {
        for path in PATHS {
            for scheme in SCHEMES {
                p.resolve(&format!("{scheme}{host}{path}"), None);
            }
            for userinfo in USERINFO {
                p.resolve(&format!("{userinfo}{host}{path}"), Some(&env));
            }
        }
        for port in PORTS {
            p.resolve(&format!("{host}{port}/app"), None);
        }
    }
    for odd in IPV6_ODDITIES {
        for path in PATHS {
            p.resolve(&format!("{odd}{path}"), None);
            p.resolve(&format!("oci://{odd}{path}"), None);
        }
    }
    // Over-long input: at and past every limit.
    for len in [253, 254, 255, 256, 1023, 1024, 1025, 4096, 100_000, MAX_BODY] {
        let label = "a".repeat(len.saturating_sub(14));
        p.resolve(&format!("{label}.azurecr.io"), None);
        p.resolve(&format!("myregistry.azurecr.io/{label}"), None);
        p.resolve(&format!("myregistry.azurecr.io/app:{label}"), None);
        p.resolve(&"a.".repeat(len / 2), None);
        p.resolve(&"/".repeat(len), None);
        p.resolve(&"@".repeat(len), None);
        p.resolve(&"[".repeat(len), None);
        p.resolve(&":".repeat(len), None);
    }
    p.finish();
}

/// A hostile custom cloud: its registry suffix decides which hosts are
/// Azure, so it is checked as strictly as a host; a cloud result always
/// lies under the suffix it was given.
#[test]
fn resolve_registry_with_hostile_custom_clouds() {
    let suffixes = [
        "azurecr.contoso.example",
        ".azurecr.contoso.example",
        "io",
        "com",
        "azurecr.io",
        "evil.example",
        ".",
        "..",
        "",
        "*.contoso.example",
        "contoso.example.",
        "contoso..example",
        "-contoso.example",
        "contoso.example:443",
        "contoso.example/x",
        "user@contoso.example",
        "CONTOSO.EXAMPLE",
        "c\u{43e}ntoso.example",
        "contoso.example\r\nX: y",
        "contoso.example\0",
        "[::1]",
        "169.254.169.254",
    ];
    let endpoints = [
        "https://management.contoso.example",
        "https://management.contoso.example/",
        "http://management.contoso.example",
        "https://user@management.contoso.example",
        "https://management.contoso.example\r\n",
        "management.contoso.example",
        "https://",
        "",
        "https://[::1]:443/x",
    ];
    let mut p = Probe::new("resolve_registry_with_hostile_custom_clouds");
    let mut rng = Rng::new(0xC0);
    for suffix in suffixes {
        for endpoint in endpoints {
            let env = AzureEnvironment {
                resource_manager_endpoint: Some(endpoint.into()),
                token_audience: Some("https://management.core.contoso.example".into()),
                container_registry_dns_suffix: Some(suffix.into()),
            };
            let hosts = [
                format!("myreg.{}", suffix.trim_start_matches('.')),
                format!("myreg{suffix}"),
                "myregistry.azurecr.io".into(),
                "evil.example".into(),
                suffix.to_owned(),
            ];
            for host in &hosts {
                p.resolve(&format!("{host}/app:v1"), Some(&env));
                let twisted = confuse(&mut rng, host);
                p.resolve(&twisted, Some(&env));
            }
        }
    }
    p.finish();
}

/// The builders that choose where a token goes (the Entra authority, the
/// ACR registry, the API server, the token realm) with hostile hosts: a
/// request, if built, goes to the host the parameter names first.
#[test]
fn builders_send_tokens_only_to_the_named_host() {
    let mut p = Probe::new("builders_send_tokens_only_to_the_named_host");
    let mut rng = Rng::new(0xDE57);
    let all = builders();
    let destinations: Vec<&Builder> = all
        .iter()
        .filter(|b| {
            [
                "azure.entra-token-request (authority host)",
                "azure.acr-exchange-request",
                "azure.acr-token-request",
                "kubernetes.token-request",
                "oci.token-request",
            ]
            .contains(&b.name)
        })
        .collect();
    assert_eq!(destinations.len(), 5);
    for b in destinations {
        let valid: Vec<String> = b.params.iter().map(|(_, v)| (*v).to_owned()).collect();
        let base = valid[0].clone();
        let (scheme, rest) = base.split_once("://").map_or(("", base.as_str()), |(s, r)| (s, r));
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        for n in 0..1500 {
            let twisted = confuse(&mut rng, host);
            let userinfo = if n % 5 == 0 { *rng.pick(USERINFO) } else { "" };
            let tail = if n % 7 == 0 {
                (*rng.pick(&[
                    "#@evil.example",
                    "?@evil.example",
                    "\\@evil.example",
                    "/..",
                    "@evil.example",
                    "%2F%2Fevil.example",
                    "/\\evil.example",
                ]))
                .to_owned()
            } else {
                String::new()
            };
            let scheme = if n % 11 == 0 {
                (*rng.pick(&["http", "HTTPS", "https:", "", "file", "javascript"])).to_owned()
            } else {
                scheme.to_owned()
            };
            let separator = if scheme.is_empty() { "" } else { "://" };
            let slash = if path.is_empty() { "" } else { "/" };
            let destination = format!("{scheme}{separator}{userinfo}{twisted}{tail}{slash}{path}");
            let mut values = valid.clone();
            values[0] = destination.clone();
            if let Some(Ok(Built::Request(r))) = p.build(b, &values, &format!("to {destination:?}")) {
                let authority = url_authority(&r.url);
                if !plain_authority(authority) {
                    p.fail(
                        format!("{}: {destination:?} built a request to {:?}", b.name, r.url),
                        destination.as_bytes(),
                    );
                } else if let Err(why) = check_written_first(&destination, &authority.to_ascii_lowercase()) {
                    p.fail(format!("{}: {why} (URL {:?})", b.name, r.url), destination.as_bytes());
                }
            }
        }
    }
    p.finish();
}
