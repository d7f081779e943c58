//! Google registries: Container Registry (`gcr.io` and its subdomains such
//! as `us.gcr.io`) and Artifact Registry (`<location>-docker.pkg.dev`), as
//! fluxcd/pkg's `^(((.+\.)?gcr\.io)|(.+-docker\.pkg\.dev))$`, but with the
//! Artifact Registry location one DNS label.

use crate::host::Authority;

const CONTAINER_REGISTRY: &str = "gcr.io";
const ARTIFACT_REGISTRY_SUFFIX: &str = ".pkg.dev";
const ARTIFACT_REGISTRY_LABEL_SUFFIX: &str = "-docker";

/// Whether the host is a Google registry.
pub(super) fn is_registry(host: &Authority) -> bool {
    host.host() == CONTAINER_REGISTRY || host.is_under(CONTAINER_REGISTRY) || is_artifact_registry(host.host())
}

/// `<location>-docker.pkg.dev`, e.g. `europe-docker.pkg.dev`, `us-central1-docker.pkg.dev`.
fn is_artifact_registry(host: &str) -> bool {
    host.strip_suffix(ARTIFACT_REGISTRY_SUFFIX)
        .and_then(|label| label.strip_suffix(ARTIFACT_REGISTRY_LABEL_SUFFIX))
        .is_some_and(|location| !location.is_empty() && !location.contains('.'))
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
        ] {
            assert!(!google(host), "{host}");
        }
    }
}
