//! Which registry hosts belong to which cloud, written independently of
//! cloudauth's own tables so that the fuzz targets and
//! `tests/robustness/` (which includes this file) check the resolver
//! against a second opinion: a cloud token may only go to a host under that
//! cloud's registry domains.

/// A cloud that receives cloud tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloud {
    Azure,
    Aws,
    Gcp,
}

const AZURE_SUFFIXES: &[&str] = &[".azurecr.io", ".azurecr.cn", ".azurecr.us"];

/// The DNS suffixes of every AWS partition (botocore's `partitions.json`),
/// and ECR's dual-stack suffixes (AWS's ECR and ECS agent documentation).
const AWS_SUFFIXES: &[&str] = &[
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".amazonaws.eu",
    ".c2s.ic.gov",
    ".sc2s.sgov.gov",
    ".cloud.adc-e.uk",
    ".csp.hci.ic.gov",
    ".on.aws",
    ".on.amazonwebservices.com.cn",
    ".on.amazonwebservices.eu",
    ".on.aws.ic.gov",
    ".on.aws.scloud",
    ".on.cloud-aws.adc-e.uk",
    ".on.aws.hci.ic.gov",
];

/// ECR Public, and its dual-stack host.
const ECR_PUBLIC: &[&str] = &["public.ecr.aws", "ecr-public.aws.com"];

/// Artifact Registry on the S3NS sovereign cloud.
const GAR_S3NS: &str = "docker.s3nsregistry.fr";

/// `host[:port]` split (an IPv6 host in brackets); the port, if any, must
/// be digits.
fn split_port(registry: &str) -> Result<(&str, Option<&str>), String> {
    if registry.starts_with('[') {
        let end = registry.find(']').ok_or_else(|| format!("{registry:?} has an unclosed ["))?;
        let (host, rest) = registry.split_at(end + 1);
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok((host, None)),
            Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => Ok((host, Some(port))),
            _ => Err(format!("{registry:?} has a malformed port")),
        };
    }
    match registry.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => Ok((host, Some(port))),
        Some(_) => Err(format!("{registry:?} has a malformed port")),
        None => Ok((registry, None)),
    }
}

/// A plain lower-case DNS name with at least one label before `suffix`.
fn strictly_under(host: &str, suffix: &str) -> bool {
    host.len() > suffix.len() && host.ends_with(suffix)
}

/// Checks that a registry resolved to `cloud` is a host of that cloud.
/// `custom_suffix` is the Azure custom cloud's `containerRegistryDNSSuffix`
/// when one was given.
pub fn check_registry(cloud: Cloud, registry: &str, custom_suffix: Option<&str>) -> Result<(), String> {
    let (host, _port) = split_port(registry)?;
    let plain = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !host.split('.').any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'));
    if !plain {
        return Err(format!("{cloud:?} registry {registry:?} is not a plain lower-case DNS name"));
    }
    let ok = match cloud {
        Cloud::Azure => {
            let custom = custom_suffix.map(|s| format!(".{}", s.trim_start_matches('.').to_ascii_lowercase()));
            AZURE_SUFFIXES.iter().any(|s| strictly_under(host, s)) || custom.is_some_and(|s| strictly_under(host, &s))
        }
        Cloud::Aws => {
            let mut labels = host.split('.');
            let account = labels.next().unwrap_or_default();
            let service = labels.next().unwrap_or_default();
            ECR_PUBLIC.contains(&host)
                || (account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && service.starts_with("dkr")
                    && AWS_SUFFIXES.iter().any(|s| strictly_under(host, s)))
        }
        Cloud::Gcp => {
            host == "gcr.io"
                || host == GAR_S3NS
                || strictly_under(host, ".gcr.io")
                || host
                    .strip_suffix("-docker.pkg.dev")
                    .is_some_and(|location| !location.is_empty() && !location.contains('.'))
        }
    };
    if ok { Ok(()) } else { Err(format!("{registry:?} is not a {cloud:?} registry host")) }
}

/// Checks that the registry is the host the input names first: after an
/// optional `oci://` or `https://`, the input (case-insensitively) starts
/// with the host, followed by its end, `:` (port or tag), `/`, `?` or `#`
/// (where an authority ends). A cloud
/// token then goes to the host a reader of the reference would see first,
/// never to one hidden behind userinfo, a path or an encoding.
pub fn check_written_first(input: &str, registry: &str) -> Result<(), String> {
    let (host, _) = split_port(registry)?;
    let lower = input.to_ascii_lowercase();
    let rest = ["oci://", "https://"].iter().find_map(|s| lower.strip_prefix(s)).unwrap_or(&lower);
    let follows = rest.strip_prefix(host).map(|after| after.is_empty() || after.starts_with([':', '/', '?', '#']));
    if follows == Some(true) {
        Ok(())
    } else {
        Err(format!("{input:?} resolved to {registry:?}, which is not the host it names first"))
    }
}
