//! A Google access token from a credentials file
//! (`GOOGLE_APPLICATION_CREDENTIALS`, parsed by `gcp::adc`): the base token
//! (a service-account key's JWT-bearer grant, an authorized user's refresh
//! grant, or an external account's subject token exchanged at STS), then
//! impersonation when the file asks for it.

use crate::credentials::AccessToken;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::gcp::adc::{self, AwsSource, Base, Credentials, ExternalAccount, SubjectTokenSource, TokenFormat};
use crate::gcp::{iam, sts};
use crate::http::HttpResponse;
use crate::response::{ErrorFormat, success_body};
use crate::secret::Secret;

use super::ec2_metadata;
use super::{Action, Carries, Machine, Poll, send, unexpected};

pub struct FileToken {
    path: String,
    credentials: Credentials,
    scopes: Vec<String>,
    state: State,
}

enum State {
    Start,
    /// Building an AWS subject token (`aws_source`).
    Aws(AwsProgress),
    /// A grant's token response (service account or authorized user).
    AwaitingGrant,
    /// The subject token file.
    AwaitingSubjectFile,
    /// The subject token URL's response.
    AwaitingSubjectUrl,
    AwaitingSts,
    AwaitingImpersonation,
    Finished,
}

/// How far an AWS subject token is: what is known, and what the pending
/// metadata request will tell.
struct AwsProgress {
    region: Option<String>,
    credentials: Option<AwsCredentials>,
    token: Option<Secret>,
    role: Option<String>,
    awaiting: AwsAwaiting,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AwsAwaiting {
    /// An IMDSv2 session token, then the region.
    TokenForRegion,
    Region,
    /// An IMDSv2 session token, then the role.
    TokenForCredentials,
    Role,
    Credentials,
}

impl FileToken {
    pub fn new(path: String, credentials: Credentials, scopes: Vec<String>) -> Self {
        FileToken { path, credentials, scopes, state: State::Start }
    }

    /// The scopes the base token is asked for: with impersonation, the
    /// IAM scope for a key (google-auth re-scopes it) and none for a user
    /// (its refresh token carries its own).
    fn base_scopes(&self) -> Vec<String> {
        match (&self.credentials.base, &self.credentials.impersonation) {
            (_, None) => self.scopes.clone(),
            (Base::ServiceAccount(_), Some(_)) => vec![sts::IAM_SCOPE.to_owned()],
            (_, Some(_)) => Vec::new(),
        }
    }

    fn exchange(&mut self, subject: &Secret) -> Result<Poll<AccessToken>> {
        let Base::ExternalAccount(account) = &self.credentials.base else {
            return Err(unexpected("credentials file", "a subject token"));
        };
        let options = account
            .workforce_pool_user_project
            .as_ref()
            .map(|project| serde_json::json!({ "userProject": project }).to_string());
        let request = sts::exchange_request_at(
            &account.token_url,
            &sts::ExchangeParams {
                audience: &account.audience,
                scopes: &self.scopes,
                subject_token: subject,
                subject_token_type: Some(&account.subject_token_type),
                impersonation: self.credentials.impersonation.is_some(),
                options: options.as_deref(),
                client_id: account.client_id.as_deref(),
                client_secret: account.client_secret.as_ref(),
            },
        )?;
        self.state = State::AwaitingSts;
        Ok(send(request, Carries::CloudCredential))
    }

    /// Impersonates with the base token, or is done with it.
    fn with_base(&mut self, token: AccessToken) -> Result<Poll<AccessToken>> {
        let Some(imp) = &self.credentials.impersonation else {
            return Ok(Poll::Ready(token));
        };
        let request = iam::impersonation_request_with(
            &imp.service_account,
            &token.token,
            &self.scopes,
            imp.lifetime,
            imp.delegates.as_deref(),
        )?;
        self.state = State::AwaitingImpersonation;
        Ok(send(request, Carries::CloudCredential))
    }

    fn aws_source(&self) -> Result<&AwsSource> {
        match &self.credentials.base {
            Base::ExternalAccount(ExternalAccount { source: SubjectTokenSource::Aws(source), .. }) => Ok(source),
            _ => Err(unexpected("credentials file", "an AWS metadata answer")),
        }
    }

    /// The next metadata request, or the subject token when region and
    /// credentials are known. google-auth takes a new IMDSv2 session token
    /// for the region and another for the credentials.
    fn aws_next(&mut self, mut p: AwsProgress, now: i64) -> Result<Poll<AccessToken>> {
        let source = self.aws_source()?.clone();
        let (request, awaiting) = match (&p.region, &p.credentials, p.awaiting) {
            (None, _, AwsAwaiting::Region) if p.token.is_none() && source.imdsv2_url.is_some() => {
                (source.token_request()?, AwsAwaiting::TokenForRegion)
            }
            (None, _, _) => (Some(source.region_request(p.token.as_ref())?), AwsAwaiting::Region),
            (Some(_), None, AwsAwaiting::Region) if source.imdsv2_url.is_some() => {
                (source.token_request()?, AwsAwaiting::TokenForCredentials)
            }
            (Some(_), None, AwsAwaiting::Region | AwsAwaiting::TokenForCredentials) => {
                (Some(source.role_request(p.token.as_ref())?), AwsAwaiting::Role)
            }
            (Some(_), None, _) => {
                let role = p.role.as_deref().ok_or_else(|| unexpected("credentials file", "no role"))?;
                (Some(source.credentials_request(role, p.token.as_ref())?), AwsAwaiting::Credentials)
            }
            (Some(region), Some(credentials), _) => {
                let Base::ExternalAccount(account) = &self.credentials.base else {
                    return Err(unexpected("credentials file", "an AWS subject token"));
                };
                let subject = source.subject_token(region, credentials, &account.audience, now)?;
                return self.exchange(&subject);
            }
        };
        let request = request.ok_or_else(|| unexpected("credentials file", "an IMDSv2 step without its URL"))?;
        p.awaiting = awaiting;
        self.state = State::Aws(p);
        Ok(send(request, Carries::Metadata))
    }

    /// A metadata answer for the AWS source.
    fn aws_answer(&mut self, mut p: AwsProgress, response: &HttpResponse, now: i64) -> Result<Poll<AccessToken>> {
        match p.awaiting {
            AwsAwaiting::TokenForRegion | AwsAwaiting::TokenForCredentials => {
                p.token = Some(ec2_metadata::parse_token(response)?);
                if p.awaiting == AwsAwaiting::TokenForRegion {
                    p.awaiting = AwsAwaiting::Region;
                }
            }
            AwsAwaiting::Region => {
                let body = success_body(response, ErrorFormat::AwsJson)?;
                let zone =
                    std::str::from_utf8(body).map_err(|_| Error::malformed("the availability zone is not UTF-8"))?;
                p.region = Some(adc::region_of_zone(zone)?);
                // The credentials get a session token of their own.
                p.token = None;
            }
            AwsAwaiting::Role => p.role = Some(ec2_metadata::parse_role(response)?),
            AwsAwaiting::Credentials => p.credentials = Some(ec2_metadata::parse_credentials(response)?),
        }
        self.aws_next(p, now)
    }

    fn source_format(&self) -> Option<&TokenFormat> {
        match &self.credentials.base {
            Base::ExternalAccount(account) => match &account.source {
                SubjectTokenSource::File { format, .. } | SubjectTokenSource::Url { format, .. } => Some(format),
                SubjectTokenSource::Aws(_) => None,
            },
            _ => None,
        }
    }
}

impl Machine for FileToken {
    type Output = AccessToken;

    fn begin(&mut self, now: i64) -> Result<Poll<AccessToken>> {
        if !matches!(self.state, State::Start) {
            return Err(unexpected("credentials file", "a second start"));
        }
        let scopes = self.base_scopes();
        match &self.credentials.base {
            Base::ServiceAccount(key) => {
                let request = adc::jwt_grant_request(key, &scopes, now)?;
                self.state = State::AwaitingGrant;
                Ok(send(request, Carries::CloudCredential))
            }
            Base::AuthorizedUser(user) => {
                let request = adc::refresh_grant_request(user, &scopes)?;
                self.state = State::AwaitingGrant;
                Ok(send(request, Carries::CloudCredential))
            }
            Base::ExternalAccount(account) => match &account.source {
                SubjectTokenSource::File { path, .. } => {
                    self.state = State::AwaitingSubjectFile;
                    Ok(Poll::Pending(Action::ReadFile(path.clone())))
                }
                SubjectTokenSource::Url { endpoint, headers, .. } => {
                    let request = adc::subject_token_request(endpoint, headers)?;
                    self.state = State::AwaitingSubjectUrl;
                    Ok(send(request, Carries::LocalCredential))
                }
                SubjectTokenSource::Aws(source) => {
                    let progress = AwsProgress {
                        region: source.environment.region.clone(),
                        credentials: source.environment.credentials.clone(),
                        token: None,
                        role: None,
                        awaiting: AwsAwaiting::Region,
                    };
                    self.aws_next(progress, now)
                }
            },
        }
    }

    fn on_identity_token(&mut self, _token: &Secret, _now: i64) -> Result<Poll<AccessToken>> {
        Err(unexpected("credentials file", "an identity token"))
    }

    fn on_file(&mut self, contents: Option<&Secret>, _now: i64) -> Result<Poll<AccessToken>> {
        if !matches!(self.state, State::AwaitingSubjectFile) {
            return Err(unexpected("credentials file", "a file"));
        }
        let Base::ExternalAccount(account) = &self.credentials.base else {
            return Err(unexpected("credentials file", "a file"));
        };
        let SubjectTokenSource::File { path, format } = &account.source else {
            return Err(unexpected("credentials file", "a file"));
        };
        let from = format!("the file {} (credential_source.file of {})", crate::error::quoted(path), self.path);
        let Some(contents) = contents else {
            self.state = State::Finished;
            return Err(Error::invalid(format!("{from} does not exist")));
        };
        let subject = adc::subject_token(contents.expose(), format, &from)?;
        self.exchange(&subject)
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<AccessToken>> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::AwaitingGrant => {
                let token = adc::parse_grant(response, now)?;
                self.with_base(token)
            }
            State::AwaitingSubjectUrl => {
                let format = self.source_format().cloned().unwrap_or(TokenFormat::Text);
                let subject = adc::subject_token_response(response, &format, "the credential_source url")?;
                self.exchange(&subject)
            }
            State::AwaitingSts => {
                let token = sts::parse_exchange(response, now)?;
                self.with_base(token)
            }
            State::AwaitingImpersonation => Ok(Poll::Ready(iam::parse_impersonation(response)?)),
            State::Aws(progress) => self.aws_answer(progress, response, now),
            other => {
                self.state = other;
                Err(unexpected("credentials file", "an HTTP response"))
            }
        }
    }
}
