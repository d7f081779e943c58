//! The audiences of GCP workload identity, derived as fluxcd/pkg `auth/gcp`
//! derives them.
//!
//! Two set-ups exist. On GKE the Kubernetes service-account token is issued
//! for the project's workload identity pool, `<project>.svc.id.goog`, and STS
//! takes the `identitynamespace:<pool>:<cluster URL>` audience. Elsewhere
//! (workload identity federation) the service account names a provider,
//! `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`
//! (Flux's `gcp.auth.fluxcd.io/workload-identity-provider` annotation), and
//! `//iam.googleapis.com/` + that name is the audience of both the token and
//! the exchange.

use crate::error::{Error, Result, quoted};
use crate::kubernetes::check_dns1123_label;

/// The host prefix of IAM resource names used as audiences.
const IAM_RESOURCE_PREFIX: &str = "//iam.googleapis.com/";

/// GKE: the audience of the Kubernetes service-account token, the project's
/// workload identity pool.
pub fn workload_identity_pool_audience(project_id: &str) -> Result<String> {
    check_project_id(project_id)?;
    Ok(format!("{project_id}.svc.id.goog"))
}

/// GKE: the STS audience, the pool and the cluster's identity provider.
pub fn gke_sts_audience(project_id: &str, location: &str, cluster: &str) -> Result<String> {
    let pool = workload_identity_pool_audience(project_id)?;
    check_dns1123_label("GKE cluster location", location)?;
    check_dns1123_label("GKE cluster name", cluster)?;
    Ok(format!(
        "identitynamespace:{pool}:https://container.googleapis.com/v1/projects/{project_id}/locations/{location}/clusters/{cluster}"
    ))
}

/// Workload identity federation: the audience of both the Kubernetes token
/// and the STS exchange, from the provider's resource name (with or without
/// the `//iam.googleapis.com/` prefix).
pub fn workload_identity_provider_audience(provider: &str) -> Result<String> {
    let name = provider.strip_prefix(IAM_RESOURCE_PREFIX).unwrap_or(provider);
    let bad = || {
        Error::invalid(format!(
            "{} is not a workload identity provider: want projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>",
            quoted(provider)
        ))
    };
    let parts: Vec<&str> = name.split('/').collect();
    let [projects, number, locations, global, pools, pool, providers, id] = parts.as_slice() else {
        return Err(bad());
    };
    let fixed_ok = (*projects, *locations, *global, *pools, *providers)
        == ("projects", "locations", "global", "workloadIdentityPools", "providers");
    let number_ok = (1..=30).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    if !fixed_ok || !number_ok || !is_resource_id(pool) || !is_resource_id(id) {
        return Err(bad());
    }
    Ok(format!("{IAM_RESOURCE_PREFIX}{name}"))
}

/// Pool and provider IDs as Flux's pattern takes them (`[^/]{1,100}`), less
/// control characters, which no audience may carry.
fn is_resource_id(id: &str) -> bool {
    (1..=100).contains(&id.chars().count()) && !id.chars().any(|c| c == '/' || c.is_control())
}

/// A project ID: 6 to 30 lower-case letters, digits and hyphens, starting
/// with a letter and not ending with a hyphen. Legacy domain-scoped IDs
/// (`example.com:project`) are refused: their pool name is not derivable.
fn check_project_id(project_id: &str) -> Result<()> {
    let b = project_id.as_bytes();
    let ok = (6..=30).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.last() != Some(&b'-')
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        return Err(Error::invalid(format!("{} is not a Google Cloud project ID", quoted(project_id))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gke_audiences() {
        assert_eq!(workload_identity_pool_audience("my-project").unwrap(), "my-project.svc.id.goog");
        assert_eq!(
            gke_sts_audience("my-project", "us-central1", "my-cluster").unwrap(),
            "identitynamespace:my-project.svc.id.goog:https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster"
        );
        for bad in [
            "",
            "short",
            "My-project",
            "1project",
            "project-",
            "my_project",
            "example.com:my-project",
            "my-project/x",
            &"a".repeat(31),
        ] {
            assert!(workload_identity_pool_audience(bad).is_err(), "{bad:?}");
        }
        for (location, cluster) in
            [("us-central1/..", "c"), ("", "c"), ("us-central1", "C"), ("us-central1", "c\n"), ("us-central1", "a/b")]
        {
            assert!(gke_sts_audience("my-project", location, cluster).is_err(), "{location:?} {cluster:?}");
        }
    }

    #[test]
    fn provider_audiences() {
        let want = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
        let name = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
        assert_eq!(workload_identity_provider_audience(name).unwrap(), want);
        assert_eq!(workload_identity_provider_audience(want).unwrap(), want);
        // Flux's pattern allows any characters but `/` in the IDs.
        let odd = "projects/1/locations/global/workloadIdentityPools/My_Pool/providers/p.1";
        assert_eq!(workload_identity_provider_audience(odd).unwrap(), format!("//iam.googleapis.com/{odd}"));
        let long = format!("projects/1/locations/global/workloadIdentityPools/{}/providers/p", "é".repeat(100));
        assert!(workload_identity_provider_audience(&long).is_ok());
        assert!(workload_identity_provider_audience(&long.replace("/providers", "é/providers")).is_err());
        for bad in [
            "",
            "projects/my-project/locations/global/workloadIdentityPools/my-pool/providers/my-provider",
            "projects/123/locations/us/workloadIdentityPools/my-pool/providers/my-provider",
            "projects/123/locations/global/workloadIdentityPools/my-pool/providers/",
            "projects/123/locations/global/workloadIdentityPools/my-pool/providers/p/extra",
            "projects/123/locations/global/workloadIdentityPools/a\tb/providers/p",
            "projects/123/locations/global/workloadIdentityPools/pool/providers/p\n",
            "//evil.example/projects/123/locations/global/workloadIdentityPools/pool/providers/p",
            "/projects/123/locations/global/workloadIdentityPools/pool/providers/p",
            "projects/1234567890123456789012345678901/locations/global/workloadIdentityPools/pool/providers/p",
        ] {
            assert_eq!(workload_identity_provider_audience(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }
}
