//! The provider flows: explicit state machines, one enum of states per
//! flow, behind one small trait.
//!
//! A machine is driven by three events: `begin` (once), an HTTP response,
//! or an identity token. Each event answers with what the host must do next
//! ([`Poll::Pending`]) or the machine's result ([`Poll::Ready`]). Machines
//! compose: a registry flow runs a provider-token machine and continues with
//! its result, so "get an Azure token" is written once and reused by ACR,
//! access tokens and Git.
//!
//! The session (`super::Session`) guarantees that a machine only sees the
//! event it asked for; the machines still refuse an event that does not fit
//! their state, so a bug there is an error, not a wrong request.

pub mod aws;
pub mod azure;
pub mod cluster;
mod ec2_metadata;
pub mod gcp;
pub mod gcp_file;
pub mod generic;
pub mod github;

use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::secret::Secret;

use super::identity::ProviderIdentity;
use super::outcome::Credentials;
pub use super::outcome::{Action, Carries, Outbound};
use super::plan::{Plan, TargetPlan};

/// A machine's answer to an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll<T> {
    Pending(Action),
    Ready(T),
}

impl<T> Poll<T> {
    /// Continues with the result when ready; passes a pending action through.
    pub fn then<U>(self, next: impl FnOnce(T) -> Result<Poll<U>>) -> Result<Poll<U>> {
        match self {
            Poll::Pending(action) => Ok(Poll::Pending(action)),
            Poll::Ready(value) => next(value),
        }
    }
}

/// A sans-IO state machine.
pub trait Machine {
    type Output;
    /// Starts the machine; called once.
    fn begin(&mut self, now: i64) -> Result<Poll<Self::Output>>;
    /// The response to the request the machine asked to send.
    fn on_http(&mut self, response: &HttpResponse, now: i64) -> Result<Poll<Self::Output>>;
    /// The identity token the machine asked for.
    fn on_identity_token(&mut self, token: &Secret, now: i64) -> Result<Poll<Self::Output>>;
    /// The contents of the file the machine asked for (None: missing).
    /// Only machines that read files override it.
    fn on_file(&mut self, contents: Option<&Secret>, now: i64) -> Result<Poll<Self::Output>> {
        let _ = (contents, now);
        Err(unexpected("this", "a file"))
    }
}

/// A complete flow: a machine that ends in credentials.
pub type Flow = Box<dyn Machine<Output = Credentials> + Send>;

/// An event reached a machine in a state that does not expect it.
pub fn unexpected(machine: &str, event: &str) -> Error {
    Error::invalid(format!("the {machine} flow did not expect {event} now"))
}

/// Sends a request that carries `carries`.
pub fn send<T>(request: HttpRequest, carries: Carries) -> Poll<T> {
    Poll::Pending(Action::Send(Outbound { request, carries }))
}

/// Builds the flow of a plan.
pub fn build(plan: &Plan) -> Result<Flow> {
    if let TargetPlan::Cluster(cluster) = &plan.target {
        return cluster::build(cluster, &plan.identity);
    }
    match (&plan.identity, &plan.target) {
        (ProviderIdentity::Azure(identity), target) => Ok(Box::new(azure::AzureFlow::new(identity.clone(), target)?)),
        (ProviderIdentity::Aws(identity), target) => Ok(Box::new(aws::AwsFlow::new(identity.clone(), target)?)),
        (ProviderIdentity::Gcp(identity), target) => Ok(Box::new(gcp::GcpFlow::new(identity.clone(), target)?)),
        (ProviderIdentity::Generic(_), TargetPlan::GitHubApp(app)) => {
            Ok(Box::new(github::GitHubAppFlow::new(app.clone())))
        }
        (ProviderIdentity::Generic(_), TargetPlan::GenericRegistry(registry)) => {
            Ok(Box::new(generic::RegistryFlow::new(registry.clone())))
        }
        (ProviderIdentity::Generic(Some(source)), TargetPlan::AccessToken { scopes }) => {
            Ok(Box::new(generic::KubernetesTokenFlow::new(source.clone(), scopes.first().cloned().unwrap_or_default())))
        }
        (ProviderIdentity::Generic(_), _) => {
            Err(Error::unsupported("the generic provider serves registries and access tokens only"))
        }
    }
}
