//! Test support: the built component, small HTTP(S) servers and a CONNECT
//! proxy on 127.0.0.1, and a tracing capture.
//!
//! The servers are deliberately small: they read one request per
//! connection (`Connection: close`), hand it to the test's handler, and
//! write its answer. TLS uses the throw-away certificate in `fixtures/`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use cloudauth_runtime::{HttpConfig, LoadOptions, LoadedComponent, read_pem_certificates};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Builds the component once per test binary (the same code as `cargo xtask build`).
pub fn component_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match cloudauth_build::build_component() {
        Ok(path) => path,
        Err(e) => panic!("building the component failed: {e}"),
    })
}

/// The component, compiled without the disk cache, with this fuel per call.
pub fn component(fuel_per_call: Option<u64>) -> Arc<LoadedComponent> {
    let options = LoadOptions { cache_dir: None, fuel_per_call };
    Arc::new(LoadedComponent::load(component_path(), &options).expect("the component loads"))
}

/// The component with the default options (shared per binary: compiling takes a while).
pub fn default_component() -> Arc<LoadedComponent> {
    static COMPONENT: OnceLock<Arc<LoadedComponent>> = OnceLock::new();
    Arc::clone(COMPONENT.get_or_init(|| component(LoadOptions::default().fuel_per_call)))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A client configuration trusting the test CA, with `hosts` on port 443
/// sent to `https`, and `plain` (host, port) pairs sent to `http`.
pub fn http_config(https: Option<&Server>, hosts: &[&str]) -> HttpConfig {
    let mut config = HttpConfig {
        extra_roots: read_pem_certificates(&fixture("ca.pem")).expect("the test CA"),
        ..HttpConfig::default()
    };
    if let Some(server) = https {
        for host in hosts {
            config = config.override_host(host, 443, server.addr);
        }
    }
    config
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn host(&self) -> &str {
        self.header("host").unwrap_or_default()
    }

    /// The body's form fields.
    pub fn form(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(text: &str) -> String {
    let text = text.replace('+', " ");
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send the body chunked, without Content-Length.
    pub chunked: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
            chunked: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

pub type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A server on 127.0.0.1 and every request it saw.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests had this path.
    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path() == path).count()
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Starts an HTTPS server (TLS with the test certificate).
pub async fn https(handler: Handler) -> Server {
    serve(handler, Some(tls_acceptor())).await
}

/// Starts a plain HTTP server.
pub async fn http(handler: Handler) -> Server {
    serve(handler, None).await
}

async fn serve(handler: Handler, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(tcp).await {
                            answer(stream, handler, log).await;
                        }
                    }
                    None => answer(tcp, handler, log).await,
                }
            });
        }
    });
    Server { addr, seen }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, handler: Handler, log: Arc<Mutex<Vec<Seen>>>) {
    let Some(seen) = read_request(&mut stream).await else { return };
    log.lock().unwrap().push(seen.clone());
    let reply = handler(&seen);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for chunk in reply.body.chunks(16 * 1024) {
            let frame = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.to_vec(), b"\r\n".to_vec()].concat();
            if stream.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        let _ = stream.write_all(&[head.into_bytes(), reply.body].concat()).await;
    }
    let _ = stream.shutdown().await;
}

async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Seen> {
    let head = String::from_utf8(read_head(stream).await?).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Seen { method, target, headers, body })
}

/// A CONNECT proxy on 127.0.0.1 that tunnels every target to `upstream`,
/// or refuses with 403; records each CONNECT line and its
/// Proxy-Authorization.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    pub connects: Arc<Mutex<Vec<ConnectLine>>>,
}

/// The target of a CONNECT, and its Proxy-Authorization if any.
pub type ConnectLine = (String, Option<String>);

pub async fn connect_proxy(upstream: SocketAddr, refuse: bool) -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connects = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&connects);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else { return };
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let auth = head
                    .lines()
                    .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("proxy-authorization")))
                    .map(|(_, v)| v.trim().to_owned());
                log.lock().unwrap().push((line.clone(), auth));
                if refuse || !line.starts_with("CONNECT ") {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
                    return;
                }
                let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    ConnectProxy { addr, connects }
}

/// A JWT with these claims (unsigned: the component reads `exp`, the
/// services of these tests check nothing else).
pub fn jwt(claims: serde_json::Value) -> String {
    let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!("{}.{}.{}", enc(br#"{"alg":"RS256","typ":"JWT"}"#), enc(claims.to_string().as_bytes()), enc(b"signature"))
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// Captures what `tracing` writes, at every level.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A subscriber that writes every event, at TRACE and up, into `capture`.
pub fn capturing(capture: &Capture) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish()
}

/// 2026-01-01T00:00:00Z, the tests' "now".
pub const NOW: i64 = 1_767_225_600;

/// A clock the test moves.
#[derive(Clone)]
pub struct TestClock(pub Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    pub fn new() -> TestClock {
        TestClock(Arc::new(std::sync::atomic::AtomicI64::new(NOW)))
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
    pub fn clock(&self) -> cloudauth_runtime::Clock {
        let now = Arc::clone(&self.0);
        Arc::new(move || now.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// A runtime over the real HTTP client with `config`, a pool of `size`.
pub fn runtime(
    config: HttpConfig,
    size: usize,
    clock: &TestClock,
    runtime_config: cloudauth_runtime::RuntimeConfig,
) -> cloudauth_runtime::Runtime {
    let pool = cloudauth_runtime::Pool::new(default_component(), size);
    let http = cloudauth_runtime::HttpClient::new(config).expect("the HTTP client");
    cloudauth_runtime::Runtime::new(pool, Arc::new(http), runtime_config).with_clock(clock.clock())
}

/// Options with only these environment variables.
pub fn options(environment: &[(&str, &str)]) -> cloudauth_runtime::api::session::Options {
    cloudauth_runtime::api::session::Options {
        environment: environment.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        azure_environment: None,
        sts_endpoint: None,
        object_level_workload_identity: false,
        registry_username: None,
        registry_password: None,
        trusted_realm_hosts: Vec::new(),
        skip_cache: false,
        rules: None,
    }
}

pub const REGISTRY_USER: &str = "puller";
pub const REGISTRY_PASSWORD: &str = "s3cret-registry-password";
pub const REGISTRY_TOKEN: &str = "registry-bearer-token-value";

/// A distribution registry with token auth on its own host (`/v2/` then
/// `/token`, as the distribution token spec has it), accepting
/// REGISTRY_USER / REGISTRY_PASSWORD; `/v2/` answers after `delay`.
pub fn registry_handler(delay: Duration) -> Handler {
    Arc::new(move |seen: &Seen| {
        let host = seen.host().to_owned();
        match seen.path() {
            "/v2/" => Reply::json(
                401,
                serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            )
            .header("WWW-Authenticate", &format!("Bearer realm=\"https://{host}/token\",service=\"{host}\""))
            .header("Docker-Distribution-API-Version", "registry/2.0")
            .after(delay),
            "/token" if seen.header("authorization") == Some(basic(REGISTRY_USER, REGISTRY_PASSWORD).as_str()) => {
                Reply::json(200, serde_json::json!({"token": REGISTRY_TOKEN, "expires_in": 300}))
            }
            "/token" => Reply::json(
                401,
                serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]}),
            ),
            _ => Reply::json(404, serde_json::json!({"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})),
        }
    })
}

/// Options for the generic registry flow with the test's credentials.
pub fn registry_options(user: &str, password: &str) -> cloudauth_runtime::api::session::Options {
    let mut options = options(&[]);
    options.registry_username = Some(user.to_owned());
    options.registry_password = Some(password.to_owned());
    options
}

pub const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const CLIENT: &str = "cccccccc-0000-4000-8000-000000000002";
pub const ACR_USER: &str = "00000000-0000-0000-0000-000000000000";
/// Lifetime of the ACR refresh token the fake issues.
pub const ACR_LIFETIME: i64 = 3 * 3600;

/// The federated token (a projected service-account token) in a file.
pub fn federated_token() -> String {
    jwt(
        serde_json::json!({"iss": "https://oidc.example", "sub": "system:serviceaccount:flux-system:source-controller", "aud": "api://AzureADTokenExchange", "exp": NOW + 86_400}),
    )
}

pub fn entra_access_token() -> String {
    jwt(
        serde_json::json!({"aud": "https://containerregistry.azure.net", "tid": TENANT, "appid": CLIENT, "exp": NOW + 3600, "marker": "entra-access"}),
    )
}

pub fn acr_refresh_token() -> String {
    jwt(
        serde_json::json!({"iss": "Azure Container Registry", "aud": "myregistry.azurecr.io", "exp": NOW + ACR_LIFETIME, "grant_type": "refresh_token", "marker": "acr-refresh"}),
    )
}

/// Entra ID's token endpoint (client-assertion grant) and ACR's
/// `/oauth2/exchange`, answering as their documentation shows: Entra's
/// `{"token_type","expires_in","access_token"}`, ACR's `{"refresh_token"}`.
pub fn azure_handler() -> Handler {
    Arc::new(|seen: &Seen| match (seen.host(), seen.path()) {
        ("login.microsoftonline.com", path) if path == format!("/{TENANT}/oauth2/v2.0/token") => {
            if seen.form("client_assertion") != Some(federated_token())
                || seen.form("client_id").as_deref() != Some(CLIENT)
                || seen.form("grant_type").as_deref() != Some("client_credentials")
            {
                return Reply::json(
                    400,
                    serde_json::json!({"error": "invalid_client", "error_description": "AADSTS700213: No matching federated identity record found for presented assertion."}),
                );
            }
            Reply::json(
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": entra_access_token()}),
            )
        }
        ("myregistry.azurecr.io", "/oauth2/exchange") => {
            if seen.form("access_token") != Some(entra_access_token())
                || seen.form("service").as_deref() != Some("myregistry.azurecr.io")
            {
                return Reply::json(
                    401,
                    serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
                );
            }
            Reply::json(200, serde_json::json!({"refresh_token": acr_refresh_token()}))
        }
        _ => Reply::json(404, serde_json::json!({"error": "not_found"})),
    })
}

/// The Azure controller identity: client, tenant, and the token file.
pub fn azure_options(token_file: &std::path::Path) -> cloudauth_runtime::api::session::Options {
    options(&[
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_FEDERATED_TOKEN_FILE", token_file.to_str().unwrap()),
    ])
}

/// A temporary file holding the federated token.
pub fn federated_token_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cloudauth-runtime-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("azure-identity-token");
    std::fs::write(&file, federated_token()).unwrap();
    file
}
