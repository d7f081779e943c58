//! Configuration a plan waits for: credential files that name the identity
//! and the endpoints it talks to (`GOOGLE_APPLICATION_CREDENTIALS` or
//! gcloud's well-known file; AWS shared `config` and `credentials` files).
//!
//! The routing guard is computed from the plan alone, and such a file
//! decides part of the plan, so the session reads these files first (its
//! `read-file` steps, before any request), then [`configure`] turns the plan
//! and the contents into the complete plan, and only then are the guard and
//! the flow made from it. Files a flow reads on every run (token files) are
//! not configuration: flows ask for those themselves.

use crate::error::{Error, Result, quoted};
use crate::gcp::adc;
use crate::secret::Secret;

use super::identity::ProviderIdentity;
use super::identity::profile as aws_profile;
use super::identity::{AwsIdentity, GcpIdentity};
use super::plan::Plan;

/// The files the plan waits for, in the order they are read.
pub fn files(plan: &Plan) -> Vec<String> {
    match &plan.identity {
        ProviderIdentity::Gcp(GcpIdentity::CredentialsFile { path, .. }) => vec![path.clone()],
        ProviderIdentity::Aws(aws) => match &aws.identity {
            AwsIdentity::SharedConfig(pending) => pending.files(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The complete plan, given the contents of every file [`files`] named
/// (None: the file does not exist).
pub fn configure(mut plan: Plan, contents: Vec<(String, Option<Secret>)>) -> Result<Plan> {
    let identity = match (&plan.identity, contents.as_slice()) {
        (ProviderIdentity::Gcp(GcpIdentity::CredentialsFile { path, aws, well_known }), [(read, text)])
            if read == path =>
        {
            let what = if *well_known {
                format!("the application default credentials file {}", quoted(path))
            } else {
                format!("the GOOGLE_APPLICATION_CREDENTIALS file {}", quoted(path))
            };
            match text {
                // gcloud's file is optional: without it, the metadata server.
                None if *well_known => ProviderIdentity::Gcp(GcpIdentity::Metadata),
                None => return Err(Error::invalid(format!("{what} does not exist"))),
                Some(text) => {
                    let credentials = adc::Credentials::parse(&what, text.expose(), aws)?;
                    ProviderIdentity::Gcp(GcpIdentity::File { path: path.clone(), credentials: Box::new(credentials) })
                }
            }
        }
        (ProviderIdentity::Aws(aws), _) if matches!(aws.identity, AwsIdentity::SharedConfig(_)) => {
            ProviderIdentity::Aws(aws_profile::configure(aws.clone(), &contents)?)
        }
        _ => return Err(Error::invalid("the files handed over are not the ones the plan waits for")),
    };
    plan.identity = identity;
    Ok(plan)
}
