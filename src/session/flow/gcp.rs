//! Google Cloud flows: a Google access token (metadata server, or workload
//! identity: STS exchange of a service-account token, then impersonation
//! when the service account names a Google service account), then what the
//! target does with it (Artifact Registry credentials, or the token).

use crate::credentials::AccessToken;
use crate::error::{Error, Result};
use crate::gcp::{self, iam, metadata, sts};
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, success_body};
use crate::secret::Secret;

use super::super::identity::{GcpAudience, GcpIdentity};
use super::super::outcome::Credentials;
use super::super::plan::TargetPlan;
use super::gcp_file::FileToken;
use super::{Action, Carries, Machine, Poll, send, unexpected};

/// The subject token type of a Kubernetes service-account token.
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// The impersonated token lifetime Flux's Go library asks for.
const IMPERSONATION_LIFETIME: u32 = 3600;
/// The metadata server's attribute directory.
const METADATA_URL: &str = "http://metadata.google.internal/computeMetadata/v1/";

/// The GKE metadata values the workload identity audiences come from, in
/// the order Flux reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GkeValue {
    ProjectId,
    ClusterLocation,
    ClusterName,
}

impl GkeValue {
    fn path(self) -> &'static str {
        match self {
            GkeValue::ProjectId => "project/project-id",
            GkeValue::ClusterLocation => "instance/attributes/cluster-location",
            GkeValue::ClusterName => "instance/attributes/cluster-name",
        }
    }

    /// Flux's name for the value in its errors.
    fn what(self) -> &'static str {
        match self {
            GkeValue::ProjectId => "project ID",
            GkeValue::ClusterLocation => "location",
            GkeValue::ClusterName => "name",
        }
    }

    fn request(self) -> Result<HttpRequest> {
        HttpRequest::get(format!("{METADATA_URL}{}", self.path())).header("Metadata-Flavor", "Google")
    }

    /// The value: the whole body, trimmed, not empty.
    fn parse(self, response: &HttpResponse) -> Result<String> {
        let context = format!("failed to get GKE cluster {} from the metadata service", self.what());
        let body = success_body(response, ErrorFormat::Google).map_err(|e| with_context(e, &context))?;
        let value = std::str::from_utf8(body).map_err(|_| Error::malformed(format!("{context}: not UTF-8")))?.trim();
        if value.is_empty() {
            return Err(Error::malformed(format!("{context}: empty value")));
        }
        if value.len() > 256 || crate::http::has_control(value) {
            return Err(Error::malformed(format!("{context}: not a single short line")));
        }
        Ok(value.to_owned())
    }
}

/// Prefixes an error's message, keeping its kind (Flux's `%s: %w`).
fn with_context(error: Error, context: &str) -> Error {
    match error {
        Error::InvalidInput(m) => Error::InvalidInput(format!("{context}: {m}")),
        Error::Unsupported(m) => Error::Unsupported(format!("{context}: {m}")),
        Error::MalformedResponse(m) => Error::MalformedResponse(format!("{context}: {m}")),
        Error::HttpStatus { status, code, message } => {
            Error::HttpStatus { status, code, message: format!("{context}: {message}") }
        }
    }
}

/// Getting a Google access token.
pub struct GcpToken {
    identity: GcpIdentity,
    scopes: Vec<String>,
    state: TokenState,
    /// The machine of a credentials file, which drives the whole token.
    file: Option<FileToken>,
}

enum TokenState {
    Start,
    /// Waiting for the metadata server's token.
    AwaitingMetadataToken,
    /// Waiting for the GKE project ID.
    AwaitingProjectId,
    /// Waiting for the GKE cluster location.
    AwaitingClusterLocation {
        project: String,
    },
    /// Waiting for the GKE cluster name.
    AwaitingClusterName {
        project: String,
        location: String,
    },
    /// Waiting for the service-account token; then exchange for this audience.
    AwaitingServiceAccountToken {
        sts_audience: String,
    },
    /// Waiting for the STS exchange response.
    AwaitingSts,
    /// Waiting for the generateAccessToken response.
    AwaitingImpersonation,
    Finished,
}

impl GcpToken {
    pub fn new(identity: GcpIdentity, scopes: Vec<String>) -> Self {
        let file = match &identity {
            GcpIdentity::File { path, credentials } => {
                Some(FileToken::new(path.clone(), (**credentials).clone(), scopes.clone()))
            }
            _ => None,
        };
        GcpToken { identity, scopes, state: TokenState::Start, file }
    }

    /// Asks for the service-account token with `token_audience`.
    fn fetch_token(&mut self, token_audience: &str, sts_audience: String) -> Result<Poll<AccessToken>> {
        let GcpIdentity::WorkloadIdentity { token, .. } = &self.identity else {
            return Err(unexpected("Google token", "a workload identity step"));
        };
        let request = token.request(token_audience);
        self.state = TokenState::AwaitingServiceAccountToken { sts_audience };
        Ok(Poll::Pending(Action::FetchIdentityToken(request)))
    }

    fn impersonated(&self) -> Option<&str> {
        match &self.identity {
            GcpIdentity::WorkloadIdentity { impersonate, .. } => impersonate.as_deref(),
            _ => None,
        }
    }
}

impl Machine for GcpToken {
    type Output = AccessToken;

    fn begin(&mut self, now: i64) -> Result<Poll<AccessToken>> {
        if let Some(file) = &mut self.file {
            return file.begin(now);
        }
        if !matches!(self.state, TokenState::Start) {
            return Err(unexpected("Google token", "a second start"));
        }
        match &self.identity {
            GcpIdentity::Metadata => {
                let request = metadata::token_request(&self.scopes, None)?;
                self.state = TokenState::AwaitingMetadataToken;
                Ok(send(request, Carries::Metadata))
            }
            GcpIdentity::WorkloadIdentity { audience: GcpAudience::Gke, .. } => {
                self.state = TokenState::AwaitingProjectId;
                Ok(send(GkeValue::ProjectId.request()?, Carries::Metadata))
            }
            GcpIdentity::WorkloadIdentity { audience: GcpAudience::Federation(audience), .. } => {
                let audience = audience.clone();
                self.fetch_token(&audience, audience.clone())
            }
            GcpIdentity::CredentialsFile { path, .. } => {
                Err(Error::invalid(format!("the credentials file {path} has not been read")))
            }
            GcpIdentity::File { .. } => Err(unexpected("Google token", "a credentials file without its machine")),
        }
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<AccessToken>> {
        match &mut self.file {
            Some(file) => file.on_file(contents, now),
            None => Err(unexpected("Google token", "a file")),
        }
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<AccessToken>> {
        if let Some(file) = &mut self.file {
            return file.on_identity_token(token, now);
        }
        let TokenState::AwaitingServiceAccountToken { sts_audience } = &self.state else {
            return Err(unexpected("Google token", "an identity token"));
        };
        let request = sts::exchange_request(&sts::ExchangeParams {
            audience: sts_audience,
            scopes: &self.scopes,
            subject_token: token,
            subject_token_type: Some(JWT_TOKEN_TYPE),
            impersonation: self.impersonated().is_some(),
            options: None,
            client_id: None,
            client_secret: None,
        })?;
        self.state = TokenState::AwaitingSts;
        Ok(send(request, Carries::CloudCredential))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<AccessToken>> {
        if let Some(file) = &mut self.file {
            return file.on_http(response, now);
        }
        match std::mem::replace(&mut self.state, TokenState::Finished) {
            TokenState::AwaitingMetadataToken => Ok(Poll::Ready(metadata::parse_token(response, now)?)),
            TokenState::AwaitingProjectId => {
                let project = GkeValue::ProjectId.parse(response)?;
                self.state = TokenState::AwaitingClusterLocation { project };
                Ok(send(GkeValue::ClusterLocation.request()?, Carries::Metadata))
            }
            TokenState::AwaitingClusterLocation { project } => {
                let location = GkeValue::ClusterLocation.parse(response)?;
                self.state = TokenState::AwaitingClusterName { project, location };
                Ok(send(GkeValue::ClusterName.request()?, Carries::Metadata))
            }
            TokenState::AwaitingClusterName { project, location } => {
                let name = GkeValue::ClusterName.parse(response)?;
                let malformed = |e: Error| with_context(Error::malformed(e.to_string()), "GKE metadata");
                let pool = gcp::workload_identity_pool_audience(&project).map_err(malformed)?;
                let sts_audience = gcp::gke_sts_audience(&project, &location, &name).map_err(malformed)?;
                self.fetch_token(&pool, sts_audience)
            }
            TokenState::AwaitingSts => {
                let federated = sts::parse_exchange(response, now)?;
                let Some(email) = self.impersonated().map(str::to_owned) else {
                    return Ok(Poll::Ready(federated));
                };
                let request = iam::impersonation_request(
                    &email,
                    &federated.token,
                    &self.scopes,
                    Some(IMPERSONATION_LIFETIME),
                    &[],
                )?;
                self.state = TokenState::AwaitingImpersonation;
                Ok(send(request, Carries::CloudCredential))
            }
            TokenState::AwaitingImpersonation => Ok(Poll::Ready(iam::parse_impersonation(response)?)),
            other => {
                self.state = other;
                Err(unexpected("Google token", "an HTTP response"))
            }
        }
    }
}

/// A complete Google flow.
pub struct GcpFlow {
    token: GcpToken,
    /// Docker credentials rather than the token.
    registry: bool,
}

impl GcpFlow {
    pub fn new(identity: GcpIdentity, target: &TargetPlan) -> Result<Self> {
        let default_scopes = || gcp::DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let (registry, scopes) = match target {
            TargetPlan::Gar => (true, default_scopes()),
            TargetPlan::AccessToken { scopes } if scopes.is_empty() => (false, default_scopes()),
            TargetPlan::AccessToken { scopes } => (false, scopes.clone()),
            other => return Err(Error::unsupported(format!("Google Cloud does not serve {other:?}"))),
        };
        Ok(GcpFlow { token: GcpToken::new(identity, scopes), registry })
    }

    fn with_token(&self, token: AccessToken) -> Result<Poll<Credentials>> {
        Ok(Poll::Ready(if self.registry {
            Credentials::Registry(gcp::registry_credentials(&token))
        } else {
            Credentials::AccessToken(token)
        }))
    }
}

impl Machine for GcpFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.token.begin(now)?.then(|t| self.with_token(t))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        self.token.on_identity_token(token, now)?.then(|t| self.with_token(t))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        self.token.on_http(response, now)?.then(|t| self.with_token(t))
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        self.token.on_file(contents, now)?.then(|t| self.with_token(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn gke_metadata_values() {
        let req = GkeValue::ClusterLocation.request().unwrap();
        assert_eq!(req.url, "http://metadata.google.internal/computeMetadata/v1/instance/attributes/cluster-location");
        assert_eq!(req.header_value("Metadata-Flavor"), Some("Google"));
        assert_eq!(GkeValue::ProjectId.parse(&resp(200, "my-project\n")).unwrap(), "my-project");
        let err = GkeValue::ProjectId.parse(&resp(200, "  ")).unwrap_err();
        assert_eq!(
            err,
            Error::malformed("failed to get GKE cluster project ID from the metadata service: empty value")
        );
        match GkeValue::ClusterName.parse(&resp(404, "Not Found")).unwrap_err() {
            Error::HttpStatus { status: 404, message, .. } => {
                assert!(message.starts_with("failed to get GKE cluster name from the metadata service: "), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
