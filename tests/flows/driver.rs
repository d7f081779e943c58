//! Driving sessions through the built component, and the table runner.
//!
//! A [`Scenario`] is a session request, the exchanges the host is expected
//! to carry out (each emitted request or identity-token request, checked,
//! with the canned answer), and the outcome. [`Scenario::run`] drives it
//! step by step and checks, at every step, that asking twice gives the same
//! step and that input of the wrong kind is refused without changing the
//! session. [`Scenario::run_failures`] replays it and, at each step in turn,
//! answers with a failure (401, 403, 500, 503, a malformed body, an expired
//! or empty identity token) and checks the error that comes out.

use serde_json::{Value, json};
use wasmtime::component::ResourceAny;

use super::compare::{self, Actual};
use super::support::api::session::{Credentials, IdentityTokenRequest, SessionRequest, Step};
use super::support::api::types::{Error, HttpRequest, HttpResponse};
use super::support::{self, Instance};

/// One component instance, acting as the host.
pub struct Host {
    pub i: Instance,
}

impl Host {
    pub fn new() -> Host {
        Host { i: support::instantiate() }
    }

    pub fn start(&mut self, request: &SessionRequest) -> Result<ResourceAny, Error> {
        self.i.api.cloudauth_auth_session().session().call_start(&mut self.i.store, request).expect("start trapped")
    }

    pub fn next(&mut self, s: ResourceAny) -> Step {
        self.i.api.cloudauth_auth_session().session().call_next(&mut self.i.store, s).expect("next trapped")
    }

    pub fn http(&mut self, s: ResourceAny, response: &HttpResponse, now: i64) -> Result<(), Error> {
        self.i
            .api
            .cloudauth_auth_session()
            .session()
            .call_receive_http(&mut self.i.store, s, response, now)
            .expect("receive-http trapped")
    }

    pub fn token(&mut self, s: ResourceAny, token: &str, now: i64) -> Result<(), Error> {
        self.i
            .api
            .cloudauth_auth_session()
            .session()
            .call_receive_identity_token(&mut self.i.store, s, token, now)
            .expect("receive-identity-token trapped")
    }

    pub fn file(&mut self, s: ResourceAny, contents: Option<&str>, now: i64) -> Result<(), Error> {
        self.i
            .api
            .cloudauth_auth_session()
            .session()
            .call_receive_file(&mut self.i.store, s, contents.map(str::as_bytes), now)
            .expect("receive-file trapped")
    }

    pub fn file_bytes(&mut self, s: ResourceAny, contents: Option<&[u8]>, now: i64) -> Result<(), Error> {
        self.i
            .api
            .cloudauth_auth_session()
            .session()
            .call_receive_file(&mut self.i.store, s, contents, now)
            .expect("receive-file trapped")
    }

    pub fn cache_key(&mut self, s: ResourceAny) -> String {
        self.i.api.cloudauth_auth_session().session().call_cache_key(&mut self.i.store, s).expect("cache-key trapped")
    }

    pub fn served_from_cache(&mut self, s: ResourceAny) -> bool {
        self.i.api.cloudauth_auth_session().session().call_from_cache(&mut self.i.store, s).expect("from-cache trapped")
    }

    /// Starts `request` and tells whether it was served from the cache.
    pub fn hit(&mut self, request: &SessionRequest) -> bool {
        let s = self.start(request).unwrap_or_else(|e| panic!("start failed: {}", message(&e)));
        self.served_from_cache(s)
    }

    pub fn clear_cache(&mut self) {
        self.i.api.cloudauth_auth_session().call_clear_cache(&mut self.i.store).expect("clear-cache trapped")
    }
}

/// The WIT error kind.
pub fn kind(e: &Error) -> &'static str {
    match e {
        Error::InvalidInput(_) => "invalid-input",
        Error::Unsupported(_) => "unsupported",
        Error::HttpStatus(_) => "http-status",
        Error::MalformedResponse(_) => "malformed-response",
    }
}

/// The message (or service message) of an error.
pub fn message(e: &Error) -> String {
    match e {
        Error::InvalidInput(m) | Error::Unsupported(m) | Error::MalformedResponse(m) => m.clone(),
        Error::HttpStatus(s) => s.message.clone(),
    }
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

/// Checks a request against a SPEC-style expectation (`method`, `url`,
/// `headers`, `absent_headers`, `form` / `json` / `body`).
pub fn check_request(expected: &Value, actual: &HttpRequest) -> Result<(), String> {
    let actual = Actual::Request(compare::Request {
        method: actual.method.clone(),
        url: actual.url.clone(),
        headers: actual.headers.clone(),
        body: actual.body.clone(),
    });
    compare::check(&json!({ "request": expected }), &actual)
}

/// What the host is expected to do, and what it answers.
pub enum Exchange {
    /// An identity token is asked for; the host hands over `reply`.
    Token { expect: IdentityTokenRequest, reply: String },
    /// A file is to be read; the host hands over `reply` (None: missing).
    /// `missing` is the error kind a missing file gives at this step (None
    /// when a missing file is an answer the flow goes on with).
    File { path: String, reply: Option<String>, missing: Option<&'static str> },
    /// A request is to be sent; it must match `expect`; the host hands over `reply`.
    Http {
        expect: Value,
        reply: HttpResponse,
        /// A 2xx body the step must reject as `malformed-response`, if the step parses one.
        malformed: Option<String>,
    },
}

impl Exchange {
    pub fn token(audience: &str, service_account: Option<(&str, &str)>, file: Option<&str>, reply: &str) -> Exchange {
        Exchange::Token {
            expect: IdentityTokenRequest {
                audience: audience.to_owned(),
                service_account: service_account.map(|(n, s)| (n.to_owned(), s.to_owned())),
                file: file.map(str::to_owned),
            },
            reply: reply.to_owned(),
        }
    }

    pub fn file(path: &str, reply: Option<&str>, missing: Option<&'static str>) -> Exchange {
        Exchange::File { path: path.to_owned(), reply: reply.map(str::to_owned), missing }
    }

    pub fn http(expect: Value, reply: HttpResponse, malformed: Option<&str>) -> Exchange {
        Exchange::Http { expect, reply, malformed: malformed.map(str::to_owned) }
    }
}

/// How a scenario ends.
pub enum Outcome {
    /// Done with exactly these credentials.
    Done(Credentials),
    /// Failed with this error kind (and service code).
    Failed { kind: &'static str, code: Option<&'static str> },
}

pub struct Scenario {
    pub name: &'static str,
    pub request: SessionRequest,
    pub exchanges: Vec<Exchange>,
    pub outcome: Outcome,
    /// `now` for the receives (the request carries its own).
    pub now: i64,
}

fn same_step(a: &Step, b: &Step) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn describe(step: &Step) -> String {
    match step {
        Step::SendHttp(r) => format!("send-http {} {}", r.method, r.url.split('?').next().unwrap_or_default()),
        Step::FetchIdentityToken(r) => format!("fetch-identity-token {r:?}"),
        Step::ReadFile(p) => format!("read-file {p}"),
        Step::Done(_) => "done".into(),
        Step::Failed(e) => format!("failed {}: {}", kind(e), message(e)),
    }
}

impl Scenario {
    /// Drives the scenario; returns the host and session at the end.
    pub fn run(&self) -> (Host, ResourceAny) {
        let mut host = Host::new();
        let s = host
            .start(&self.request)
            .unwrap_or_else(|e| panic!("{}: start failed: {} {}", self.name, kind(&e), message(&e)));
        let last = self.exchanges.len();
        for (k, exchange) in self.exchanges.iter().enumerate() {
            let step = host.next(s);
            assert!(same_step(&step, &host.next(s)), "{} step {k}: asking twice changed the step", self.name);
            let result = match exchange {
                Exchange::Token { expect, reply } => {
                    let Step::FetchIdentityToken(asked) = &step else {
                        panic!("{} step {k}: expected fetch-identity-token, got {}", self.name, describe(&step));
                    };
                    assert_eq!(
                        format!("{asked:?}"),
                        format!("{expect:?}"),
                        "{} step {k}: identity token request",
                        self.name
                    );
                    let wrong = host
                        .http(s, &response(200, &[], "{}"), self.now)
                        .expect_err("an HTTP response while a token is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    let wrong = host.file(s, None, self.now).expect_err("a file while a token is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    assert!(
                        same_step(&step, &host.next(s)),
                        "{} step {k}: wrong-order input changed the session",
                        self.name
                    );
                    host.token(s, reply, self.now)
                }
                Exchange::Http { expect, reply, .. } => {
                    let Step::SendHttp(request) = &step else {
                        panic!("{} step {k}: expected send-http, got {}", self.name, describe(&step));
                    };
                    if let Err(diff) = check_request(expect, request) {
                        panic!("{} step {k}: request differs: {diff}", self.name);
                    }
                    let wrong = host
                        .token(s, "eyJhbGciOiJub25lIn0.e30.sig", self.now)
                        .expect_err("a token while a response is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    let wrong = host.file(s, Some("x"), self.now).expect_err("a file while a response is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    assert!(
                        same_step(&step, &host.next(s)),
                        "{} step {k}: wrong-order input changed the session",
                        self.name
                    );
                    host.http(s, reply, self.now)
                }
                Exchange::File { path, reply, .. } => {
                    let Step::ReadFile(asked) = &step else {
                        panic!("{} step {k}: expected read-file, got {}", self.name, describe(&step));
                    };
                    assert_eq!(asked, path, "{} step {k}: file", self.name);
                    let wrong = host
                        .token(s, "eyJhbGciOiJub25lIn0.e30.sig", self.now)
                        .expect_err("a token while a file is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    let wrong = host
                        .http(s, &response(200, &[], "{}"), self.now)
                        .expect_err("an HTTP response while a file is awaited");
                    assert_eq!(kind(&wrong), "invalid-input", "{} step {k}", self.name);
                    assert!(
                        same_step(&step, &host.next(s)),
                        "{} step {k}: wrong-order input changed the session",
                        self.name
                    );
                    host.file(s, reply.as_deref(), self.now)
                }
            };
            let final_failure = k + 1 == last && matches!(self.outcome, Outcome::Failed { .. });
            match (result, final_failure) {
                (Ok(()), false) => {}
                (Err(e), true) => {
                    let end = host.next(s);
                    assert!(
                        matches!(&end, Step::Failed(f) if format!("{f:?}") == format!("{e:?}")),
                        "{}: the receive error and the failed step differ",
                        self.name
                    );
                }
                (Ok(()), true) => panic!("{} step {k}: expected the receive to fail", self.name),
                (Err(e), false) => panic!("{} step {k}: receive failed: {} {}", self.name, kind(&e), message(&e)),
            }
        }
        let end = host.next(s);
        match (&self.outcome, &end) {
            (Outcome::Done(want), Step::Done(got)) => {
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{}: credentials", self.name)
            }
            (Outcome::Failed { kind: k, code }, Step::Failed(e)) => {
                assert_eq!(kind(e), *k, "{}: {}", self.name, message(e));
                if let Some(code) = code {
                    assert!(
                        matches!(e, Error::HttpStatus(s) if s.code.as_deref() == Some(*code)),
                        "{}: code {e:?}",
                        self.name
                    );
                }
            }
            _ => panic!("{}: unexpected end {}", self.name, describe(&end)),
        }
        assert_finished(&mut host, s, self.name, self.now);
        (host, s)
    }

    /// Replays the scenario, failing each step in turn.
    pub fn run_failures(&self) {
        for (k, exchange) in self.exchanges.iter().enumerate() {
            let failures: Vec<(String, Failure)> = match exchange {
                Exchange::Token { .. } => vec![
                    ("expired identity token".into(), Failure::Token(expired_jwt(self.now), "invalid-input")),
                    ("empty identity token".into(), Failure::Token(String::new(), "invalid-input")),
                    ("identity token with a newline".into(), Failure::Token("a\nb".into(), "invalid-input")),
                ],
                Exchange::File { missing, .. } => {
                    let mut f =
                        vec![("file that is not UTF-8".into(), Failure::File(Some(vec![0xff, 0xfe]), "invalid-input"))];
                    if let Some(kind) = missing {
                        f.push(("missing file".into(), Failure::File(None, kind)));
                    }
                    f
                }
                Exchange::Http { malformed, .. } => {
                    let mut f: Vec<(String, Failure)> = [401u16, 403, 500, 503]
                        .iter()
                        .map(|&status| {
                            (
                                format!("HTTP {status}"),
                                Failure::Http(response(status, &[], r#"{"message":"no"}"#), "http-status"),
                            )
                        })
                        .collect();
                    if let Some(body) = malformed {
                        f.push((
                            "malformed body".into(),
                            Failure::Http(response(200, &[], body), "malformed-response"),
                        ));
                    }
                    f
                }
            };
            for (what, failure) in failures {
                let name = format!("{} step {k} {what}", self.name);
                let mut host = Host::new();
                let s = host.start(&self.request).unwrap_or_else(|e| panic!("{name}: start failed: {}", message(&e)));
                for earlier in &self.exchanges[..k] {
                    let r = match earlier {
                        Exchange::Token { reply, .. } => host.token(s, reply, self.now),
                        Exchange::Http { reply, .. } => host.http(s, reply, self.now),
                        Exchange::File { reply, .. } => host.file(s, reply.as_deref(), self.now),
                    };
                    r.unwrap_or_else(|e| panic!("{name}: replay failed: {}", message(&e)));
                }
                let (result, want) = match &failure {
                    Failure::Token(token, want) => (host.token(s, token, self.now), *want),
                    Failure::Http(resp, want) => (host.http(s, resp, self.now), *want),
                    Failure::File(bytes, want) => (host.file_bytes(s, bytes.as_deref(), self.now), *want),
                };
                let err = result.expect_err(&name);
                assert_eq!(kind(&err), want, "{name}: {}", message(&err));
                if let (Failure::Http(resp, "http-status"), Error::HttpStatus(se)) = (&failure, &err) {
                    assert_eq!(se.status, resp.status, "{name}");
                }
                match host.next(s) {
                    Step::Failed(e) => assert_eq!(format!("{e:?}"), format!("{err:?}"), "{name}"),
                    other => panic!("{name}: expected failed, got {}", describe(&other)),
                }
                assert_finished(&mut host, s, &name, self.now);
            }
        }
    }
}

enum Failure {
    Token(String, &'static str),
    Http(HttpResponse, &'static str),
    File(Option<Vec<u8>>, &'static str),
}

/// After done or failed, every receive is an error and changes nothing.
fn assert_finished(host: &mut Host, s: ResourceAny, name: &str, now: i64) {
    let end = host.next(s);
    let e = host.http(s, &response(200, &[], "{}"), now).expect_err("receive-http after the end");
    assert_eq!(kind(&e), "invalid-input", "{name}");
    let e = host.token(s, "eyJhbGciOiJub25lIn0.e30.sig", now).expect_err("receive-identity-token after the end");
    assert_eq!(kind(&e), "invalid-input", "{name}");
    let e = host.file(s, Some("x"), now).expect_err("receive-file after the end");
    assert_eq!(kind(&e), "invalid-input", "{name}");
    assert!(same_step(&end, &host.next(s)), "{name}: a receive after the end changed the session");
}

/// A JWT (unsigned, dummy signature) with these claims.
pub fn jwt(claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// A service-account token that expired a second before `now`.
pub fn expired_jwt(now: i64) -> String {
    jwt(&json!({ "sub": "system:serviceaccount:default:workload-sa", "exp": now - 1 }))
}
