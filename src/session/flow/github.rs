//! GitHub App flow: the app JWT, the installation looked up by its owner
//! when no id is given (organization first, then user, as fluxcd/pkg does),
//! then the installation token, handed out as Git credentials.

use crate::error::{Error, Result};
use crate::github_app::{self, GitHubApp, Installation};
use crate::http::HttpResponse;
use crate::secret::Secret;

use super::super::outcome::{Credentials, GitCredentials};
use super::{Carries, Machine, Poll, send, unexpected};

#[derive(Debug, PartialEq, Eq)]
enum State {
    Start,
    /// `GET orgs/{owner}/installation`.
    AwaitingOrgInstallation,
    /// `GET users/{owner}/installation`, after the organization lookup
    /// failed with this status.
    AwaitingUserInstallation {
        org_status: u16,
    },
    /// `POST app/installations/{id}/access_tokens`.
    AwaitingToken,
    Finished,
}

pub struct GitHubAppFlow {
    app: GitHubApp,
    /// The app JWT, made once per flow and used for every request (as Flux
    /// makes one per installation token).
    jwt: Option<Secret>,
    state: State,
}

impl GitHubAppFlow {
    pub fn new(app: GitHubApp) -> Self {
        GitHubAppFlow { app, jwt: None, state: State::Start }
    }

    fn jwt(&self) -> Result<&Secret> {
        self.jwt.as_ref().ok_or_else(|| unexpected("GitHub App", "a request before the JWT"))
    }

    fn token_request(&mut self, installation_id: u64) -> Result<Poll<Credentials>> {
        let request = self.app.token_request(installation_id, self.jwt()?)?;
        self.state = State::AwaitingToken;
        Ok(send(request, Carries::CloudCredential))
    }

    fn owner(&self) -> Result<&str> {
        match &self.app.installation {
            Installation::Owner(owner) => Ok(owner),
            Installation::Id(_) => Err(unexpected("GitHub App", "an installation lookup")),
        }
    }
}

impl Machine for GitHubAppFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        if self.state != State::Start {
            return Err(unexpected("GitHub App", "a second start"));
        }
        self.jwt = Some(self.app.jwt(now)?);
        match self.app.installation.clone() {
            Installation::Id(id) => self.token_request(id),
            Installation::Owner(owner) => {
                let request = self.app.org_installation_request(&owner, self.jwt()?)?;
                self.state = State::AwaitingOrgInstallation;
                Ok(send(request, Carries::CloudCredential))
            }
        }
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        match self.state {
            State::AwaitingOrgInstallation => match github_app::parse_installation(response) {
                Ok(id) => self.token_request(id),
                // Flux tries the owner as a user next, whatever the error.
                Err(_) => {
                    let request = self.app.user_installation_request(self.owner()?, self.jwt()?)?;
                    self.state = State::AwaitingUserInstallation { org_status: response.status };
                    Ok(send(request, Carries::CloudCredential))
                }
            },
            State::AwaitingUserInstallation { org_status } => match github_app::parse_installation(response) {
                Ok(id) => self.token_request(id),
                Err(e) => Err(both_failed(org_status, e)),
            },
            State::AwaitingToken => {
                let token = github_app::parse_token(response, now)?;
                self.state = State::Finished;
                Ok(Poll::Ready(Credentials::Git(GitCredentials {
                    username: Secret::new(github_app::USERNAME),
                    password: token.token,
                    // GitHub's Git endpoint takes Basic credentials (Flux
                    // returns the user and password only).
                    bearer_token: Secret::new(""),
                    expires_at: token.expires_at,
                })))
            }
            State::Start | State::Finished => Err(unexpected("GitHub App", "an HTTP response")),
        }
    }

    fn on_identity_token(&mut self, _token: &Secret, _now: i64) -> Result<Poll<Credentials>> {
        Err(unexpected("GitHub App", "an identity token"))
    }
}

/// Flux joins both lookup errors; the user lookup's status and code stay
/// the error's, its message says both.
fn both_failed(org_status: u16, user: Error) -> Error {
    let org = format!("failed to find organization installation: HTTP {org_status}");
    match user {
        Error::HttpStatus { status, code, message } => {
            Error::HttpStatus { status, code, message: format!("{org}; failed to find user installation: {message}") }
        }
        Error::MalformedResponse(m) => {
            Error::MalformedResponse(format!("{org}; failed to find user installation: {m}"))
        }
        other => other,
    }
}
