//! Image references, as the distribution project's reference grammar
//! (`github.com/distribution/reference`) defines them, plus the forms Flux
//! accepts for a registry: a bare `host[:port]` and an `oci://` or `https://`
//! URL.
//!
//! The parser decides which host a token will be sent to, so it refuses
//! rather than guesses: anything outside the grammar (userinfo, whitespace,
//! control characters, upper case in the path, `..`, empty labels, bad ports,
//! over-long names, malformed tags or digests) is `invalid-input`.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path
//! domain     := host [ ":" port ]           ; see crate::host::Authority
//! path       := component ( "/" component )*
//! component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := ( "sha256" | "sha384" | "sha512" ) ":" lower-case hex of the algorithm's size
//! ```
//!
//! The first path segment is a domain only when it contains `.` or `:`, is
//! `localhost`, or has upper case (distribution's rule); otherwise the name
//! is on Docker Hub, `docker.io`, where a single-segment name is an official
//! image under `library/`.

use crate::ascii;
use crate::error::{Error, Result, quoted};
use crate::host::Authority;

/// Docker Hub, the registry of a name without a domain.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The legacy spelling of Docker Hub that distribution rewrites to [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// Docker Hub's namespace of official images (`alpine` is `library/alpine`).
const OFFICIAL_NAMESPACE: &str = "library/";

/// Longest name (domain and path as written), distribution's `NameTotalLengthMax`.
pub const NAME_MAX: usize = 255;
/// Longest tag.
const TAG_MAX: usize = 128;
/// Longest input looked at: a maximal name, tag and SHA-512 digest, a scheme
/// and a trailing slash fit well within it.
const INPUT_MAX: usize = 1024;

/// URL schemes that name a registry.
const SCHEMES: &[&str] = &["oci", "https"];

/// A parsed image reference or registry address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The registry, normalized: lower case, `index.docker.io` as `docker.io`.
    pub registry: Authority,
    /// The repository path, `library/` added for official Docker Hub images;
    /// None when the input named only a registry.
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// `<algorithm>:<hex>`.
    pub digest: Option<String>,
}

/// Parses an image reference (`alpine`, `ghcr.io/o/app:v1`,
/// `host:5000/app@sha256:...`), a bare registry (`myreg.azurecr.io`,
/// `localhost:5000`) or an `oci://` / `https://` URL with an optional path.
pub fn parse_reference(input: &str) -> Result<Reference> {
    let Parsed { registry, remote } = parse(input)?;
    let Some(Remote { path, tag, digest }) = remote else {
        return Ok(Reference { registry, repository: None, tag: None, digest: None });
    };
    let on_docker_hub = registry.port().is_none() && registry.host() == DEFAULT_REGISTRY;
    let repository = if on_docker_hub && !ascii::contains(path, b'/') {
        format!("{OFFICIAL_NAMESPACE}{path}")
    } else {
        path.to_owned()
    };
    Ok(Reference {
        registry,
        repository: Some(repository),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

/// The registry of a reference, checked exactly as [`parse_reference`]
/// checks the whole reference, without copying the repository, tag or
/// digest out (target resolution looks only at the registry).
pub fn parse_registry(input: &str) -> Result<Authority> {
    Ok(parse(input)?.registry)
}

/// A checked reference, its parts borrowed from the input.
struct Parsed<'a> {
    registry: Authority,
    remote: Option<Remote<'a>>,
}

/// The whole parse works on bytes (`crate::ascii`): the input is checked to
/// be visible ASCII first, and in the component `core::str`'s pattern
/// searchers are not inlined and would dominate the time of a resolution.
fn parse(input: &str) -> Result<Parsed<'_>> {
    check_characters(input)?;
    let (domain, remote) = match split_scheme(input)? {
        Some(rest) => split_url(rest)?,
        None => split_plain(ascii::trim_one_end(input, b'/'))?,
    };
    let registry = match domain {
        Some(d) => Authority::parse(d)?,
        None => Authority::parse(DEFAULT_REGISTRY)?,
    };
    let registry = normalize_registry(registry)?;
    let Some(remote) = remote else {
        return Ok(Parsed { registry, remote: None });
    };
    let remote = parse_remote(remote)?;
    let written_name_len = domain.map_or(0, |d| d.len() + 1).saturating_add(remote.path.len());
    if written_name_len > NAME_MAX {
        return Err(Error::invalid(format!("the repository name is longer than {NAME_MAX} characters")));
    }
    Ok(Parsed { registry, remote: Some(remote) })
}

/// Only visible ASCII: no whitespace, control characters or non-ASCII
/// (which could hide a different host behind a look-alike).
fn check_characters(input: &str) -> Result<()> {
    if input.is_empty() {
        return Err(Error::invalid("the reference is empty"));
    }
    if input.len() > INPUT_MAX {
        return Err(Error::invalid(format!("the reference is longer than {INPUT_MAX} characters")));
    }
    if !input.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("the reference contains whitespace, control or non-ASCII characters"));
    }
    Ok(())
}

/// The part after `oci://` or `https://` (scheme case-insensitive); None for
/// input without a scheme. Any other scheme is refused.
fn split_scheme(input: &str) -> Result<Option<&str>> {
    let Some((scheme, rest)) = ascii::split_once_str(input, "://") else {
        return Ok(None);
    };
    if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(Error::invalid("only oci:// and https:// URLs name a registry"));
    }
    Ok(Some(rest))
}

/// `host[:port][/path]` of a URL: the authority is always the registry.
fn split_url(rest: &str) -> Result<(Option<&str>, Option<&str>)> {
    if rest.bytes().any(|b| b == b'?' || b == b'#') {
        return Err(Error::invalid("a registry URL cannot have a query or fragment"));
    }
    let (authority, path) = match ascii::split_once(rest, b'/') {
        Some((a, p)) => (a, ascii::trim_one_end(p, b'/')),
        None => (rest, ""),
    };
    reject_userinfo(authority)?;
    Ok((Some(authority), (!path.is_empty()).then_some(path)))
}

/// A reference or bare registry without a scheme.
fn split_plain(input: &str) -> Result<(Option<&str>, Option<&str>)> {
    match ascii::split_once(input, b'/') {
        Some((first, _)) => {
            reject_userinfo(first)?;
            if is_domain(first) { Ok((Some(first), input.get(first.len() + 1..))) } else { Ok((None, Some(input))) }
        }
        // `alpine@sha256:...` is a Docker Hub image pinned by digest; any
        // other `@` is userinfo. The digest itself is checked later.
        None if ascii::split_once(input, b'@')
            .is_some_and(|(name, digest)| !is_bare_host(name) && ascii::contains(digest, b':')) =>
        {
            Ok((None, Some(input)))
        }
        None => {
            reject_userinfo(input)?;
            if is_bare_host(input) { Ok((Some(input), None)) } else { Ok((None, Some(input))) }
        }
    }
}

/// `@` before the first `/` is userinfo (`user:pass@host`), never part of a
/// registry: refused, so that a credential-looking prefix cannot pick the host.
fn reject_userinfo(authority: &str) -> Result<()> {
    if ascii::contains(authority, b'@') {
        return Err(Error::invalid("a registry cannot have userinfo (`@` before the first `/`)"));
    }
    Ok(())
}

/// distribution's rule for the first segment of a name.
fn is_domain(segment: &str) -> bool {
    segment.bytes().any(|b| b == b'.' || b == b':' || b.is_ascii_uppercase()) || segment == "localhost"
}

/// A string without `/` names a registry when its host part looks like a
/// host: it has a dot, is `localhost`, or is a bracketed IPv6 literal.
/// Otherwise (`alpine`, `alpine:3.19`, `registry:5000`) it is an image on
/// Docker Hub, as distribution reads it.
fn is_bare_host(input: &str) -> bool {
    let host = ascii::split_once(input, b':').map_or(input, |(host, _)| host);
    ascii::starts_with(input, b'[') || ascii::contains(host, b'.') || host.eq_ignore_ascii_case("localhost")
}

/// Docker Hub's legacy host is Docker Hub.
fn normalize_registry(registry: Authority) -> Result<Authority> {
    if registry.port().is_none() && registry.host() == LEGACY_DEFAULT_REGISTRY {
        return Authority::parse(DEFAULT_REGISTRY);
    }
    Ok(registry)
}

/// The parts of `path[:tag][@digest]`.
struct Remote<'a> {
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

fn parse_remote(remote: &str) -> Result<Remote<'_>> {
    let (name, digest) = match ascii::split_once(remote, b'@') {
        Some((n, d)) => (n, Some(d)),
        None => (remote, None),
    };
    let (path, tag) = match ascii::split_once(name, b':') {
        Some((p, t)) => (p, Some(t)),
        None => (name, None),
    };
    check_path(path)?;
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    Ok(Remote { path, tag, digest })
}

fn check_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Error::invalid("the repository name is empty"));
    }
    for component in ascii::split(path, b'/') {
        if !is_path_component(component) {
            return Err(Error::invalid(format!(
                "{} is not a repository path component (lower-case letters and digits, joined by `.`, `_`, `__` or dashes)",
                quoted(component)
            )));
        }
    }
    Ok(())
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`, as one pass of
/// runs: alternately a run of letters and digits (never empty) and a run of
/// anything else (which must be one separator).
fn is_path_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let run_start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == run_start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let separator_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let valid = match &bytes[separator_start..i] {
            b"." | b"_" | b"__" => true,
            separator => separator.iter().all(|&b| b == b'-'),
        };
        if !valid {
            return false;
        }
    }
}

fn check_tag(tag: &str) -> Result<()> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let valid = !tag.is_empty()
        && tag.len() <= TAG_MAX
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if !valid {
        return Err(Error::invalid(format!(
            "{} is not a tag (up to {TAG_MAX} letters, digits, `_`, `.` or `-`, not starting with `.` or `-`)",
            quoted(tag)
        )));
    }
    Ok(())
}

/// The digest algorithms go-digest validates, with their hex lengths.
const DIGEST_ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha384", 96), ("sha512", 128)];

fn check_digest(digest: &str) -> Result<()> {
    let valid = ascii::split_once(digest, b':').is_some_and(|(algorithm, hex)| {
        DIGEST_ALGORITHMS.iter().any(|&(a, len)| a == algorithm && hex.len() == len)
            && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if !valid {
        return Err(Error::invalid("the digest is not sha256, sha384 or sha512 with its length of lower-case hex"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(input: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        let r = parse_reference(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        (r.registry.to_string(), r.repository, r.tag, r.digest)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn references() {
        assert_eq!(
            parse("myregistry.azurecr.io/app:v1"),
            ("myregistry.azurecr.io".into(), some("app"), some("v1"), None)
        );
        assert_eq!(parse("ghcr.io/o/app"), ("ghcr.io".into(), some("o/app"), None, None));
        assert_eq!(
            parse(&format!("alpine@{SHA256}")),
            ("docker.io".into(), some("library/alpine"), None, some(SHA256))
        );
        assert_eq!(parse(&format!("ghcr.io/o/app@{SHA256}")), ("ghcr.io".into(), some("o/app"), None, some(SHA256)));
        assert_eq!(
            parse(&format!("ghcr.io/o/app:v1.2_x-y@{SHA256}")),
            ("ghcr.io".into(), some("o/app"), some("v1.2_x-y"), some(SHA256))
        );
        assert_eq!(
            parse("registry.example.com:5000/team/app"),
            ("registry.example.com:5000".into(), some("team/app"), None, None)
        );
        assert_eq!(parse("localhost/app"), ("localhost".into(), some("app"), None, None));
        assert_eq!(parse("[::1]:5000/app"), ("[::1]:5000".into(), some("app"), None, None));
        assert_eq!(parse("10.0.0.1:5000/a/b/c"), ("10.0.0.1:5000".into(), some("a/b/c"), None, None));
        assert_eq!(parse("host.example/a.b_c__d---e/f"), ("host.example".into(), some("a.b_c__d---e/f"), None, None));
        assert_eq!(parse("EXAMPLE.com/app"), ("example.com".into(), some("app"), None, None));
        assert_eq!(parse("Registry/app"), ("registry".into(), some("app"), None, None));
        // Tags may have upper case.
        assert_eq!(parse("ghcr.io/o/app:V1_RC"), ("ghcr.io".into(), some("o/app"), some("V1_RC"), None));
    }

    #[test]
    fn docker_hub() {
        assert_eq!(parse("alpine"), ("docker.io".into(), some("library/alpine"), None, None));
        assert_eq!(parse("alpine:3.19"), ("docker.io".into(), some("library/alpine"), some("3.19"), None));
        assert_eq!(parse("registry:5000"), ("docker.io".into(), some("library/registry"), some("5000"), None));
        assert_eq!(parse("library/alpine"), ("docker.io".into(), some("library/alpine"), None, None));
        assert_eq!(parse("fluxcd/flux"), ("docker.io".into(), some("fluxcd/flux"), None, None));
        assert_eq!(parse("docker.io/alpine"), ("docker.io".into(), some("library/alpine"), None, None));
        assert_eq!(
            parse("index.docker.io/library/alpine:3"),
            ("docker.io".into(), some("library/alpine"), some("3"), None)
        );
        assert_eq!(parse("index.docker.io"), ("docker.io".into(), None, None, None));
        assert_eq!(parse("docker.io:443/alpine"), ("docker.io:443".into(), some("alpine"), None, None));
    }

    #[test]
    fn bare_hosts_and_urls() {
        for (input, registry, repository) in [
            ("myregistry.azurecr.io", "myregistry.azurecr.io", None),
            ("myregistry.azurecr.io/", "myregistry.azurecr.io", None),
            ("MyRegistry.AzureCR.io", "myregistry.azurecr.io", None),
            ("localhost", "localhost", None),
            ("localhost:5000", "localhost:5000", None),
            ("[::1]", "[::1]", None),
            ("[2001:DB8::1]:443", "[2001:db8::1]:443", None),
            ("oci://myregistry.azurecr.io", "myregistry.azurecr.io", None),
            ("oci://myregistry.azurecr.io/", "myregistry.azurecr.io", None),
            ("oci://myregistry.azurecr.io/charts/podinfo", "myregistry.azurecr.io", Some("charts/podinfo")),
            ("OCI://ghcr.io/o/app/", "ghcr.io", Some("o/app")),
            ("ghcr.io/o/app/", "ghcr.io", Some("o/app")),
            ("https://ghcr.io:443/o/app", "ghcr.io:443", Some("o/app")),
            ("https://registry", "registry", None),
            ("https://docker.io/alpine", "docker.io", Some("library/alpine")),
        ] {
            let r = parse_reference(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(r.registry.to_string(), registry, "{input}");
            assert_eq!(r.repository.as_deref(), repository, "{input}");
        }
    }

    #[test]
    fn refuses_malformed_references() {
        let long_label = format!("{}.example/app", "a".repeat(64));
        let long_name = format!("ghcr.io/{}", "a".repeat(NAME_MAX - "ghcr.io/".len() + 1));
        let long_tag = format!("ghcr.io/app:{}", "t".repeat(TAG_MAX + 1));
        let huge = "a".repeat(INPUT_MAX + 1);
        for input in [
            "",
            " ",
            "/",
            "//",
            "alpine\n",
            "ghcr.io/app\r\n:v1",
            "ghcr.io/app\0",
            "ghcr.io/app\t",
            "ghcr.io /app",
            "ghcr.io/my app",
            "gh\u{0441}r.io/app",
            "user:pass@myregistry.azurecr.io/app",
            "user@myregistry.azurecr.io",
            "user@docker/app",
            "oci://user:pass@ghcr.io/app",
            "https://ghcr.io/app?x=1",
            "https://ghcr.io/app#frag",
            "http://ghcr.io/app",
            "ftp://ghcr.io/app",
            "oci:/ghcr.io/app",
            "oci://",
            "oci:///app",
            "ghcr.io//app",
            "ghcr.io/app//x",
            "a..b.example/app",
            ".azurecr.io/app",
            "myreg.azurecr.io./app",
            "-bad.example/app",
            "ghcr.io/o/../app",
            "ghcr.io/o/a..b",
            "ghcr.io/o/.app",
            "ghcr.io/o/app.",
            "ghcr.io/o/a___b",
            "ghcr.io/o/-app",
            "ghcr.io/Owner/app",
            "ghcr.io/o/APP",
            "Alpine",
            "ghcr.io/app:",
            "ghcr.io/app:.v1",
            "ghcr.io/app:-v1",
            "ghcr.io/app:v1:v2",
            "ghcr.io/app:v/1",
            &long_tag,
            "ghcr.io/app@",
            "ghcr.io/app@sha256:abc",
            "ghcr.io/app@md5:0123456789abcdef0123456789abcdef",
            "ghcr.io/app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "ghcr.io/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
            &format!("ghcr.io/app@{SHA256}@{SHA256}"),
            "host:0/app",
            "host:65536/app",
            "host:99999999/app",
            "host:-1/app",
            "host:80:80/app",
            "host:/app",
            "myreg.azurecr.io:v1",
            "::1/app",
            "[::1/app",
            "[fe80::1%25eth0]/app",
            "[zz::1]/app",
            "1.2.3.4:5000@x",
            "host\\evil.example/app",
            "host%2eexample/app",
            &long_label,
            &long_name,
            &huge,
        ] {
            match parse_reference(input) {
                Err(Error::InvalidInput(_)) => {}
                other => panic!("{input:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn name_length_limit_is_inclusive() {
        let max = format!("ghcr.io/{}", "a".repeat(NAME_MAX - "ghcr.io/".len()));
        assert_eq!(max.len(), NAME_MAX);
        assert!(parse_reference(&max).is_ok());
        let tag = format!("ghcr.io/app:{}", "t".repeat(TAG_MAX));
        assert!(parse_reference(&tag).is_ok());
    }

    #[test]
    fn path_components() {
        for ok in ["a", "a1", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d__e"] {
            assert!(is_path_component(ok), "{ok}");
        }
        for bad in ["", ".", "a.", ".a", "a..b", "a._b", "a___b", "a-", "-a", "A", "a b", "a:b", "a@b"] {
            assert!(!is_path_component(bad), "{bad}");
        }
    }

    #[test]
    fn digests() {
        assert!(check_digest(SHA256).is_ok());
        assert!(check_digest(&format!("sha384:{}", "a".repeat(96))).is_ok());
        assert!(check_digest(&format!("sha512:{}", "0".repeat(128))).is_ok());
        for bad in [
            "",
            "sha256",
            "sha256:",
            ":abc",
            &format!("sha512:{}", "0".repeat(64)),
            &format!("SHA256:{}", "0".repeat(64)),
        ] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }
}
