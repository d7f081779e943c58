//! Complete credential flows as a sans-IO state machine (see `wit/` interface
//! `session`). Not built yet.

use crate::error::{Error, Result};

/// One credential flow.
#[derive(Debug)]
pub struct Session {
    _private: (),
}

impl Session {
    pub fn start() -> Result<Session> {
        Err(Error::unsupported("sessions are not built yet"))
    }
}
