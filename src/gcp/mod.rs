//! Google Cloud: STS token exchange, IAM Credentials impersonation, the GCE
//! metadata server, and Artifact Registry / GCR docker credentials.

pub mod iam;
pub mod metadata;
pub mod sts;

use crate::credentials::{AccessToken, RegistryCredentials};

/// The scopes Flux asks for: cloud-platform and userinfo.email.
pub const DEFAULT_SCOPES: &[&str] = &["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"];

/// Docker credentials for Artifact Registry and GCR.
pub fn registry_credentials(token: &AccessToken) -> RegistryCredentials {
    RegistryCredentials {
        username: "oauth2accesstoken".to_owned(),
        password: token.token.clone(),
        expires_at: Some(token.expires_at),
    }
}
