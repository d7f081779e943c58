//! What a session asks of the host (an [`Action`]: a request to send, with
//! what it [`Carries`], a token to fetch, a file to read), and what it
//! finally produces. The flows, the identities and the routing guard all
//! speak this vocabulary, so it depends on none of them.

pub use crate::cluster::RestConfig;
use crate::credentials::{AccessToken, AwsCredentials, RegistryCredentials};
use crate::error::Error;
use crate::http::HttpRequest;
use crate::secret::Secret;

/// The host must fetch an identity token (a Kubernetes service-account
/// token, or the host's own projected token file) and hand it to
/// [`super::Session::receive_identity_token`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityTokenRequest {
    /// The audience the token must carry.
    pub audience: String,
    /// Whose token, `(namespace, name)`; None for the host's own.
    pub service_account: Option<(String, String)>,
    /// For the host's own identity: the token file the SDK convention names
    /// (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AZURE_FEDERATED_TOKEN_FILE`).
    pub file: Option<String>,
}

/// Credentials for a Git server over HTTPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitCredentials {
    /// A secret too: CodeCommit's carries the AWS session token.
    pub username: Secret,
    pub password: Secret,
    /// The same token, for hosts that send `Authorization: Bearer`; empty
    /// where the server takes Basic credentials only (CodeCommit).
    pub bearer_token: Secret,
    pub expires_at: i64,
}

/// The outcome of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    Registry(RegistryCredentials),
    Git(GitCredentials),
    RestConfig(RestConfig),
    AccessToken(AccessToken),
    /// AWS has no bearer token: an `access-token` target for AWS gives the
    /// temporary (or static) credentials themselves.
    Aws(AwsCredentials),
}

impl Credentials {
    /// When the credentials stop working, if known.
    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Credentials::Registry(c) => c.expires_at,
            Credentials::Git(c) => Some(c.expires_at),
            Credentials::RestConfig(c) => Some(c.expires_at),
            Credentials::AccessToken(t) => Some(t.expires_at),
            Credentials::Aws(c) => c.expires_at,
        }
    }
}

/// What the host must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this request and hand the response to `receive_http`.
    SendHttp(HttpRequest),
    /// Fetch an identity token and hand it to `receive_identity_token`.
    FetchIdentityToken(IdentityTokenRequest),
    /// Finished: the credentials.
    Done(Credentials),
    /// Finished: the error.
    Failed(Error),
    /// Read this file (a credentials or config file an SDK convention
    /// names) and hand its contents, or that it is missing, to
    /// `receive_file`. A missing file is an answer: the chain goes on as
    /// the SDKs' chains do.
    ReadFile(String),
}

/// What a request may carry, and so where the routing guard lets it go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    /// Nothing secret, to a link-local metadata endpoint (plain HTTP).
    Metadata,
    /// Nothing secret, to a host of the target or the provider.
    Nothing,
    /// A cloud credential (service-account token, cloud token, signed request).
    CloudCredential,
    /// The host-supplied registry password.
    RegistryPassword,
    /// A secret header for the host-local credential endpoint the
    /// environment named (AWS container credentials, App Service managed
    /// identity), to exactly that endpoint (plain HTTP allowed: it is
    /// link-local or loopback).
    LocalCredential,
}

/// A request with what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub request: HttpRequest,
    pub carries: Carries,
}

/// What the host must do for a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(Outbound),
    FetchIdentityToken(IdentityTokenRequest),
    /// Read a file of the host (path as the SDK convention names it).
    ReadFile(String),
}
