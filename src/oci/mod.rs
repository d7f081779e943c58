//! Docker registry token authentication (the distribution token spec):
//! `WWW-Authenticate` challenges and token requests.

pub mod challenge;
pub mod token;
