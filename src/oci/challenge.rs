//! Parsing `WWW-Authenticate` challenges.

use crate::error::{Error, Result};

/// A parsed challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `Bearer` or `Basic`, canonically spelled.
    pub scheme: String,
    pub realm: Option<String>,
    pub service: Option<String>,
    pub scopes: Vec<String>,
}

pub fn parse(header: &str) -> Result<Challenge> {
    let _ = header;
    Err(Error::unsupported("not built yet"))
}
