//! Google registries: Container Registry (`gcr.io` and its subdomains such
//! as `us.gcr.io`) and Artifact Registry (`<location>-docker.pkg.dev`), as
//! fluxcd/pkg's `^(((.+\.)?gcr\.io)|(.+-docker\.pkg\.dev))$`, but with the
//! Artifact Registry location one DNS label, and Artifact Registry on the
//! S3NS sovereign cloud, `docker.s3nsregistry.fr` (that host exactly: it has
//! no location prefix, fluxcd/pkg PR 1201).

use crate::ascii;
use crate::host::Authority;

const CONTAINER_REGISTRY: &str = "gcr.io";
const ARTIFACT_REGISTRY_SUFFIX: &str = ".pkg.dev";
const ARTIFACT_REGISTRY_LABEL_SUFFIX: &str = "-docker";
/// Artifact Registry on S3NS (the French sovereign Google cloud).
const S3NS_ARTIFACT_REGISTRY: &str = "docker.s3nsregistry.fr";

/// Whether the host is a Google registry.
pub(super) fn is_registry(host: &Authority) -> bool {
    host.host() == CONTAINER_REGISTRY
        || host.is_under(CONTAINER_REGISTRY)
        || is_artifact_registry(host.host())
        || host.host() == S3NS_ARTIFACT_REGISTRY
}

/// `<location>-docker.pkg.dev`, e.g. `europe-docker.pkg.dev`, `us-central1-docker.pkg.dev`.
fn is_artifact_registry(host: &str) -> bool {
    ascii::strip_suffix(host, ARTIFACT_REGISTRY_SUFFIX)
        .and_then(|label| ascii::strip_suffix(label, ARTIFACT_REGISTRY_LABEL_SUFFIX))
        .is_some_and(|location| !location.is_empty() && !ascii::contains(location, b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(host: &str) -> bool {
        is_registry(&Authority::parse(host).unwrap())
    }

    #[test]
    fn google_registries() {
        for host in [
            "gcr.io",
            "us.gcr.io",
            "eu.gcr.io",
            "asia.gcr.io",
            "mirror.gcr.io",
            "GCR.IO:443",
            "foo-docker.pkg.dev",
            "us-docker.pkg.dev",
            "europe-docker.pkg.dev",
            "us-central1-docker.pkg.dev",
            "europe-west1-docker.pkg.dev",
            "docker.s3nsregistry.fr",
            "DOCKER.S3NSREGISTRY.FR",
        ] {
            assert!(google(host), "{host}");
        }
    }

    #[test]
    fn look_alikes() {
        for host in [
            "gcr.io.evil.example",
            "evilgcr.io",
            "gcr.com",
            "docker.pkg.dev",
            "pkg.dev",
            "us-docker.pkg.dev.evil.example",
            "evil.us-docker.pkg.dev",
            "us-python.pkg.dev",
            "us-dockerx.pkg.dev",
            "us-docker.pkg.dev2",
            "docker.io",
            // fluxcd/pkg's S3NS cases: only the host itself.
            "u-france-east1-docker.s3nsregistry.fr",
            "a.docker.s3nsregistry.fr",
            "s3nsregistry.fr",
            "docker.s3nsregistry.fr.evil.example",
        ] {
            assert!(!google(host), "{host}");
        }
    }
}
