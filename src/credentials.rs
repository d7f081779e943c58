//! What the flows produce: tokens and credentials, each with its expiry.
//! Secret parts are [`Secret`]s, so printing a credential never leaks it.

use crate::secret::Secret;

/// A bearer token and the Unix time (seconds) it expires at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: i64,
}

/// Docker login credentials for a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: Secret,
    /// None when the service gave no expiry.
    pub expires_at: Option<i64>,
}

/// AWS credentials: long-lived keys, or temporary ones with a session token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub expires_at: Option<i64>,
}
