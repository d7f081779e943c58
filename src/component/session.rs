use super::exports::cloudauth::auth::session::{Guest, GuestSession, HttpResponse, SessionRequest, Step};
use super::{Component, WitResult};

/// The WIT resource wrapping a core session.
pub(crate) struct SessionResource;

impl Guest for Component {
    type Session = SessionResource;

    fn clear_cache() {}
}

impl GuestSession for SessionResource {
    fn start(request: SessionRequest) -> WitResult<super::exports::cloudauth::auth::session::Session> {
        let _ = request;
        crate::session::Session::start()?;
        unreachable!("start fails until sessions are built")
    }

    fn next(&self) -> Step {
        Step::Failed(crate::Error::Unsupported("not built yet".into()).into())
    }

    fn receive_http(&self, response: HttpResponse, now: i64) -> WitResult<()> {
        let _ = (response, now);
        Err(crate::Error::Unsupported("not built yet".into()).into())
    }

    fn receive_identity_token(&self, token: String, now: i64) -> WitResult<()> {
        let _ = (token, now);
        Err(crate::Error::Unsupported("not built yet".into()).into())
    }

    fn cache_key(&self) -> String {
        String::new()
    }

    fn from_cache(&self) -> bool {
        false
    }
}
