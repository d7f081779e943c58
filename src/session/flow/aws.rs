//! AWS flows: credentials (static keys, STS web identity, container
//! credentials or EC2 IMDSv2), then what the target does with them (ECR
//! GetAuthorizationToken, CodeCommit Git credentials, or the credentials
//! themselves).

use crate::aws::endpoint::EndpointOptions;
use crate::aws::{codecommit, container, ecr, sts};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::registry::AwsRegistry;
use crate::secret::Secret;

use super::super::check_identity_token;
use super::super::identity::profile as aws_profile;
use super::super::identity::{AWS_AUDIENCE, AwsIdentity, AwsPlan, ContainerToken};
use super::super::outcome::{Credentials, GitCredentials};
use super::super::plan::TargetPlan;
use super::{Action, Carries, Machine, Poll, ec2_metadata, send, unexpected};

/// Getting AWS credentials.
pub struct AwsCredentialsMachine {
    plan: AwsPlan,
    state: CredentialsState,
}

enum CredentialsState {
    Start,
    /// Waiting for the web identity token.
    AwaitingWebIdentityToken,
    /// Waiting for the AssumeRoleWithWebIdentity response.
    AwaitingSts,
    /// Waiting for the IMDSv2 session token.
    AwaitingImdsToken,
    /// Waiting for the instance profile's role name.
    AwaitingImdsRole {
        token: Secret,
    },
    /// Waiting for the role's credentials.
    AwaitingImdsCredentials,
    /// Waiting for `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
    AwaitingContainerTokenFile,
    /// Waiting for the container credentials endpoint.
    AwaitingContainerCredentials,
    /// A shared config profile: getting its base credentials.
    ProfileBase(Box<AwsCredentialsMachine>),
    /// Waiting for the AssumeRole response of the profile's role `index`.
    AwaitingAssumeRole {
        index: usize,
    },
    Finished,
}

impl AwsCredentialsMachine {
    pub fn new(plan: AwsPlan) -> Self {
        AwsCredentialsMachine { plan, state: CredentialsState::Start }
    }
}

impl AwsCredentialsMachine {
    /// A profile's base credentials: pending, or ready for the first role.
    fn after_base(&mut self, poll: Poll<AwsCredentials>, now: i64) -> Result<Poll<AwsCredentials>> {
        match poll {
            Poll::Pending(action) => Ok(Poll::Pending(action)),
            Poll::Ready(credentials) => self.assume_role(0, credentials, now),
        }
    }

    /// Assumes the profile's role `index` with `credentials`, or, past the
    /// last role, is done with them.
    fn assume_role(&mut self, index: usize, credentials: AwsCredentials, now: i64) -> Result<Poll<AwsCredentials>> {
        let AwsIdentity::Profile(profile) = &self.plan.identity else {
            return Err(unexpected("AWS credentials", "a role to assume"));
        };
        let Some(role) = profile.roles.get(index) else {
            self.state = CredentialsState::Finished;
            return Ok(Poll::Ready(credentials));
        };
        // Credentials that expired on the way cannot sign the next call.
        if credentials.expires_at.is_some_and(|t| t <= now) {
            return Err(Error::malformed(format!(
                "the credentials for assuming {} had already expired",
                role.role_arn
            )));
        }
        let request = aws_profile::assume_role_request(&self.plan, role, &credentials, now)?;
        self.state = CredentialsState::AwaitingAssumeRole { index };
        Ok(send(request, Carries::CloudCredential))
    }
}

impl Machine for AwsCredentialsMachine {
    type Output = AwsCredentials;

    fn begin(&mut self, now: i64) -> Result<Poll<AwsCredentials>> {
        if !matches!(self.state, CredentialsState::Start) {
            return Err(unexpected("AWS credentials", "a second start"));
        }
        match &self.plan.identity {
            AwsIdentity::StaticKeys(credentials) => {
                self.state = CredentialsState::Finished;
                Ok(Poll::Ready(credentials.clone()))
            }
            AwsIdentity::WebIdentity { token, .. } => {
                let action = token.action(AWS_AUDIENCE)?;
                self.state = CredentialsState::AwaitingWebIdentityToken;
                Ok(Poll::Pending(action))
            }
            AwsIdentity::InstanceMetadata => {
                self.state = CredentialsState::AwaitingImdsToken;
                Ok(send(ec2_metadata::token_request()?, Carries::Metadata))
            }
            AwsIdentity::Container { token: ContainerToken::File(path), .. } => {
                self.state = CredentialsState::AwaitingContainerTokenFile;
                Ok(Poll::Pending(Action::ReadFile(path.clone())))
            }
            AwsIdentity::Container { endpoint, token } => {
                let token = match token {
                    ContainerToken::Value(t) => Some(t),
                    _ => None,
                };
                let request = container::request(endpoint, token)?;
                self.state = CredentialsState::AwaitingContainerCredentials;
                Ok(send(request, Carries::LocalCredential))
            }
            AwsIdentity::SharedConfig(_) => {
                Err(Error::invalid("the AWS shared config files have not been read (the session reads them first)"))
            }
            AwsIdentity::Profile(profile) => {
                let mut base =
                    AwsCredentialsMachine::new(AwsPlan { identity: profile.base.clone(), ..self.plan.clone() });
                let poll = base.begin(now)?;
                self.state = CredentialsState::ProfileBase(Box::new(base));
                self.after_base(poll, now)
            }
        }
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<AwsCredentials>> {
        if let CredentialsState::ProfileBase(base) = &mut self.state {
            let poll = base.on_file(contents, now)?;
            return self.after_base(poll, now);
        }
        let (
            CredentialsState::AwaitingContainerTokenFile,
            AwsIdentity::Container { endpoint, token: ContainerToken::File(path) },
        ) = (&self.state, &self.plan.identity)
        else {
            return Err(unexpected("AWS credentials", "a file"));
        };
        let token = contents.ok_or_else(|| {
            Error::invalid(format!(
                "AWS container credentials: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path} does not exist"
            ))
        })?;
        container::check_token(token, &format!("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}"))?;
        let request = container::request(endpoint, Some(token))?;
        self.state = CredentialsState::AwaitingContainerCredentials;
        Ok(send(request, Carries::LocalCredential))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<AwsCredentials>> {
        if let CredentialsState::ProfileBase(base) = &mut self.state {
            let poll = base.on_identity_token(token, now)?;
            return self.after_base(poll, now);
        }
        if !matches!(self.state, CredentialsState::AwaitingWebIdentityToken) {
            return Err(unexpected("AWS credentials", "an identity token"));
        }
        let request = self.plan.sts_request(token)?;
        self.state = CredentialsState::AwaitingSts;
        Ok(send(request, Carries::CloudCredential))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<AwsCredentials>> {
        if let CredentialsState::ProfileBase(base) = &mut self.state {
            let poll = base.on_http(response, now)?;
            return self.after_base(poll, now);
        }
        match std::mem::replace(&mut self.state, CredentialsState::Finished) {
            CredentialsState::AwaitingAssumeRole { index } => {
                let credentials = sts::parse_assume_role(response)?;
                self.assume_role(index + 1, credentials, now)
            }
            // The web identity token from an Actions CI.
            CredentialsState::AwaitingWebIdentityToken => {
                self.state = CredentialsState::AwaitingWebIdentityToken;
                let token = crate::actions_oidc::parse(response)?;
                check_identity_token(&token, now)?;
                self.on_identity_token(&token, now)
            }
            CredentialsState::AwaitingSts => Ok(Poll::Ready(sts::parse_web_identity(response)?)),
            CredentialsState::AwaitingImdsToken => {
                let token = ec2_metadata::parse_token(response)?;
                let request = ec2_metadata::role_request(&token)?;
                self.state = CredentialsState::AwaitingImdsRole { token };
                Ok(send(request, Carries::Metadata))
            }
            CredentialsState::AwaitingImdsRole { token } => {
                let role = ec2_metadata::parse_role(response)?;
                let request = ec2_metadata::credentials_request(&token, &role)?;
                self.state = CredentialsState::AwaitingImdsCredentials;
                Ok(send(request, Carries::Metadata))
            }
            CredentialsState::AwaitingImdsCredentials => Ok(Poll::Ready(ec2_metadata::parse_credentials(response)?)),
            CredentialsState::AwaitingContainerCredentials => Ok(Poll::Ready(container::parse(response)?)),
            other => {
                self.state = other;
                Err(unexpected("AWS credentials", "an HTTP response"))
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum FlowState {
    /// Getting the credentials.
    Credentials,
    /// Waiting for the GetAuthorizationToken response.
    AwaitingEcrToken,
    Finished,
}

/// What an AWS flow does with the credentials.
enum Purpose {
    /// Get a token for this registry.
    Registry(AwsRegistry),
    /// Sign Git credentials for this CodeCommit URL.
    CodeCommit(String),
    /// Hand out the credentials themselves.
    Credentials,
}

/// A complete AWS flow.
pub struct AwsFlow {
    credentials: AwsCredentialsMachine,
    purpose: Purpose,
    state: FlowState,
    now: i64,
}

impl AwsFlow {
    pub fn new(plan: AwsPlan, target: &TargetPlan) -> Result<Self> {
        let purpose = match target {
            TargetPlan::Ecr(registry) => Purpose::Registry(registry.clone()),
            TargetPlan::CodeCommit { url } => Purpose::CodeCommit(url.clone()),
            TargetPlan::AccessToken { .. } => Purpose::Credentials,
            other => return Err(Error::unsupported(format!("AWS does not serve {other:?}"))),
        };
        Ok(AwsFlow { credentials: AwsCredentialsMachine::new(plan), purpose, state: FlowState::Credentials, now: 0 })
    }

    fn with_credentials(&mut self, credentials: AwsCredentials) -> Result<Poll<Credentials>> {
        let registry = match &self.purpose {
            Purpose::Registry(registry) => registry,
            Purpose::Credentials => {
                self.state = FlowState::Finished;
                return Ok(Poll::Ready(Credentials::Aws(credentials)));
            }
            Purpose::CodeCommit(url) => {
                let git = codecommit::git_credentials(url, &credentials, self.now)?;
                self.state = FlowState::Finished;
                return Ok(Poll::Ready(Credentials::Git(GitCredentials {
                    username: git.username,
                    password: git.password,
                    bearer_token: Secret::new(""),
                    expires_at: git.expires_at,
                })));
            }
        };
        let request = ecr::token_request(
            &ecr::EcrTokenParams {
                region: &registry.region,
                credentials: &credentials,
                // Flux asks for the caller's default registry.
                registry_ids: &[],
                public: registry.public,
                endpoint: EndpointOptions { fips: registry.fips, ..EndpointOptions::default() },
            },
            self.now,
        )?;
        self.state = FlowState::AwaitingEcrToken;
        Ok(send(request, Carries::CloudCredential))
    }
}

impl Machine for AwsFlow {
    type Output = Credentials;

    fn begin(&mut self, now: i64) -> Result<Poll<Credentials>> {
        self.now = now;
        self.credentials.begin(now)?.then(|c| self.with_credentials(c))
    }

    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Credentials>> {
        if self.state != FlowState::Credentials {
            return Err(unexpected("AWS", "an identity token"));
        }
        self.now = now;
        self.credentials.on_identity_token(token, now)?.then(|c| self.with_credentials(c))
    }

    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Credentials>> {
        if self.state != FlowState::Credentials {
            return Err(unexpected("AWS", "a file"));
        }
        self.now = now;
        self.credentials.on_file(contents, now)?.then(|c| self.with_credentials(c))
    }

    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Credentials>> {
        self.now = now;
        match self.state {
            FlowState::Credentials => self.credentials.on_http(response, now)?.then(|c| self.with_credentials(c)),
            FlowState::AwaitingEcrToken => {
                let public = matches!(&self.purpose, Purpose::Registry(r) if r.public);
                let credentials = ecr::parse_token(response, public)?;
                self.state = FlowState::Finished;
                Ok(Poll::Ready(Credentials::Registry(credentials)))
            }
            FlowState::Finished => Err(unexpected("AWS", "an HTTP response")),
        }
    }
}
