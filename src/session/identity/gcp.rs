//! GCP identities: the metadata server, credentials files and workload
//! identity federation.

use crate::credentials::AwsCredentials;
use crate::error::{Result, excerpt};
use crate::secret::Secret;
use crate::session::request::{Identity, Options, ServiceAccount};

use super::{TokenSource, object_level};

/// The audience of a GCP workload identity exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpAudience {
    /// Workload identity federation: `//iam.googleapis.com/projects/...`,
    /// the audience of both the service-account token and the exchange.
    Federation(String),
    /// GKE: the pool and provider come from the GKE metadata server.
    Gke,
}

/// How a Google token is obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpIdentity {
    /// The GCE metadata server (the node's or the host's service account).
    Metadata,
    /// STS exchange of a service-account token, then impersonation of
    /// `impersonate` when set (else the federated token is used directly).
    WorkloadIdentity { audience: GcpAudience, impersonate: Option<String>, token: TokenSource },
    /// A credentials file, not read yet: the session reads it before any
    /// request and replaces this with [`GcpIdentity::File`]
    /// (`super::configure`). `GOOGLE_APPLICATION_CREDENTIALS`'s file must
    /// exist; gcloud's well-known file (`well_known`) may not, and then the
    /// metadata server serves, as in the SDKs' default chain.
    CredentialsFile { path: String, aws: crate::gcp::adc::AwsEnvironment, well_known: bool },
    /// A credentials file, read and parsed.
    File { path: String, credentials: Box<crate::gcp::adc::Credentials> },
}

/// gcloud's application default credentials (`gcloud auth
/// application-default login`), under HOME.
const WELL_KNOWN_FILE: &str = ".config/gcloud/application_default_credentials.json";

pub(super) const GCP_SA_KEY: &str = "iam.gke.io/gcp-service-account";
pub(super) const GCP_SA_PATTERN: &str = r"^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$";
pub(super) const GCP_WIP_KEY: &str = "gcp.auth.fluxcd.io/workload-identity-provider";
const GCP_WIP_PATTERN: &str =
    r"^projects/\d{1,30}/locations/global/workloadIdentityPools/[^/]{1,100}/providers/[^/]{1,100}$";

impl GcpIdentity {
    /// Plans the Google identity: the metadata server at controller level,
    /// else the service account's workload identity.
    pub fn plan(identity: &Identity, options: &Options) -> Result<Self> {
        let object = object_level(identity, options, |sa| Ok((gcp_audience(sa)?, gcp_service_account(sa)?)))?;
        if object.is_none() {
            // Application default credentials, in golang.org/x/oauth2's
            // order (Flux's): the variable's file (an empty variable counts
            // as unset), then gcloud's well-known file under HOME, then the
            // metadata server.
            let file = match options.env("GOOGLE_APPLICATION_CREDENTIALS")? {
                Some(path) => Some((path.to_owned(), false)),
                None => {
                    options.env("HOME")?.map(|home| (format!("{}/{WELL_KNOWN_FILE}", home.trim_end_matches('/')), true))
                }
            };
            if let Some((path, well_known)) = file {
                return Ok(GcpIdentity::CredentialsFile { path, aws: gcp_aws_environment(options)?, well_known });
            }
        }
        Ok(match object {
            Some((sa, (audience, impersonate))) => {
                GcpIdentity::WorkloadIdentity { audience, impersonate, token: TokenSource::of(sa) }
            }
            None => GcpIdentity::Metadata,
        })
    }

    /// The Flux provider identity of an object-level plan: the e-mail, or
    /// empty for direct access.
    pub fn provider_identity(&self) -> String {
        match self {
            GcpIdentity::WorkloadIdentity { impersonate: Some(email), .. } => email.clone(),
            _ => String::new(),
        }
    }

    /// The controller identity the cache key names: the credentials file
    /// (its path: the file is only read on a cache miss).
    pub fn describe(&self) -> Option<String> {
        match self {
            GcpIdentity::CredentialsFile { path, .. } | GcpIdentity::File { path, .. } => {
                Some(format!("gcp-credentials-file:{path}"))
            }
            _ => None,
        }
    }

    /// The service-account token audience as the cache key names it. On GKE
    /// it is only known after the metadata lookup, and it is fixed per
    /// cluster, so a stable marker stands in for it.
    pub fn key_audience(&self) -> String {
        match self {
            GcpIdentity::WorkloadIdentity { audience: GcpAudience::Federation(a), .. } => a.clone(),
            _ => "gke-workload-identity-pool".to_owned(),
        }
    }
}

/// What an AWS credential source of a Google credentials file takes from
/// the environment, as google-auth reads it.
fn gcp_aws_environment(options: &Options) -> Result<crate::gcp::adc::AwsEnvironment> {
    let region = match options.env("AWS_REGION")? {
        Some(r) => Some(r),
        None => options.env("AWS_DEFAULT_REGION")?,
    };
    let credentials = match (options.env("AWS_ACCESS_KEY_ID")?, options.env("AWS_SECRET_ACCESS_KEY")?) {
        (Some(id), Some(secret)) => Some(AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: options.env("AWS_SESSION_TOKEN")?.map(Secret::new),
            expires_at: None,
        }),
        _ => None,
    };
    Ok(crate::gcp::adc::AwsEnvironment { region: region.map(str::to_owned), credentials })
}

fn gcp_service_account(sa: &ServiceAccount) -> Result<Option<String>, String> {
    let email = sa.annotation(GCP_SA_KEY).unwrap_or_default();
    if email.is_empty() {
        return Ok(None);
    }
    let ok = email.strip_suffix(".iam.gserviceaccount.com").and_then(|s| s.split_once('@')).is_some_and(
        |(user, project)| {
            let part =
                |s: &str| (1..=100).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            part(user) && part(project)
        },
    );
    if ok {
        Ok(Some(email.to_owned()))
    } else {
        Err(format!("invalid {GCP_SA_KEY} annotation: '{}'. must match {GCP_SA_PATTERN}", excerpt(email)))
    }
}

fn gcp_audience(sa: &ServiceAccount) -> Result<GcpAudience, String> {
    let wip = sa.annotation(GCP_WIP_KEY).unwrap_or_default();
    if wip.is_empty() {
        return Ok(GcpAudience::Gke);
    }
    let bad = || format!("invalid {GCP_WIP_KEY} annotation: '{}'. must match {GCP_WIP_PATTERN}", excerpt(wip));
    if !wip.starts_with("projects/") {
        return Err(bad());
    }
    crate::gcp::workload_identity_provider_audience(wip).map(GcpAudience::Federation).map_err(|_| bad())
}
