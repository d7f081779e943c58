//! The configuration file: which services run, which upstream each one
//! fronts, and which identity's credentials it injects.
//!
//! One small TOML file, read and validated completely at start: a proxy that
//! would only find out at the first request that its identity names a
//! missing token file, or that its upstream is not a host, fails before it
//! listens, with the file, the entry and the field in the message.
//!
//! ```toml
//! [identities.builder]
//! environment = { AZURE_CLIENT_ID = "...", AZURE_TENANT_ID = "...", AZURE_FEDERATED_TOKEN_FILE = "/var/run/token" }
//!
//! [[mirror]]
//! listen = "127.0.0.1:5000"
//! upstream = "myreg.azurecr.io"
//! identity = "builder"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

use crate::secret::Secret;

/// The whole file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    /// The component; default `$CLOUDAUTH_WASM`, else the workspace's build.
    component: Option<PathBuf>,
    /// PEM certificates trusted for upstreams, besides Mozilla's roots.
    ca_file: Option<PathBuf>,
    #[serde(default)]
    identities: BTreeMap<String, IdentityFile>,
    #[serde(default)]
    mirror: Vec<MirrorFile>,
    ext_authz: Option<ExtAuthzFile>,
    #[serde(default)]
    sigv4: Vec<Sigv4File>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct IdentityFile {
    /// The variables the cloud SDKs read (`AWS_*`, `AZURE_*`, ...), handed to
    /// the flow as its environment. The proxy's own environment is not used:
    /// each identity says exactly what it is.
    #[serde(default)]
    environment: BTreeMap<String, String>,
    /// Object-level identity: a Kubernetes service account.
    service_account: Option<ServiceAccountFile>,
    /// For generic registries: basic credentials for the token server.
    registry_username: Option<String>,
    registry_password_file: Option<PathBuf>,
    #[serde(default)]
    trusted_realm_hosts: Vec<String>,
    /// An explicit AWS STS endpoint (`https://`).
    sts_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ServiceAccountFile {
    namespace: String,
    name: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// The account's token (a projected service-account token file).
    token_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MirrorFile {
    listen: String,
    upstream: String,
    identity: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ExtAuthzFile {
    listen: String,
    /// Envoy's `http_service.path_prefix`: the check request's path is this
    /// prefix followed by the original request's path.
    #[serde(default)]
    path_prefix: String,
    #[serde(default, rename = "route")]
    routes: Vec<RouteFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RouteFile {
    /// The original request's host (`:authority`), without port.
    host: String,
    /// The original request's path starts with this (default `/`).
    #[serde(default = "slash")]
    path_prefix: String,
    identity: String,
    /// Exactly one of `registry` (an image reference: `Basic` credentials),
    /// `access-token` (`Bearer`) or `cluster` (`Bearer`, the token of a
    /// Kubernetes cluster's REST config, for routes to its API server).
    registry: Option<String>,
    access_token: Option<AccessTokenFile>,
    cluster: Option<ClusterFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ClusterFile {
    provider: String,
    /// AKS resource ID, EKS cluster ARN or GKE resource name.
    resource_id: String,
    /// The API server address; with `ca-file`, no cloud lookup is needed.
    address: Option<String>,
    ca_file: Option<PathBuf>,
}

fn slash() -> String {
    "/".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AccessTokenFile {
    provider: String,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Sigv4File {
    listen: String,
    /// `https://<service endpoint>`; requests are forwarded there, signed.
    upstream: String,
    /// The signing name, e.g. `s3`, `sqs`, `execute-api`.
    service: String,
    region: String,
    identity: String,
    /// Sign `UNSIGNED-PAYLOAD` and stream the body (default: for `s3`).
    unsigned_payload: Option<bool>,
}

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    pub component: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub mirrors: Vec<Mirror>,
    pub ext_authz: Option<ExtAuthz>,
    pub sigv4: Vec<Sigv4>,
}

/// Whose credentials: what a session is started with.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The name in `[identities.<name>]`, for logs and errors.
    pub name: String,
    pub environment: Vec<(String, String)>,
    pub service_account: Option<ServiceAccount>,
    pub registry_username: Option<String>,
    pub registry_password: Option<Secret>,
    pub trusted_realm_hosts: Vec<String>,
    pub sts_endpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub annotations: Vec<(String, String)>,
    pub token_file: PathBuf,
}

/// A registry mirror: `/v2/` on `listen` goes to `upstream`.
#[derive(Debug, Clone)]
pub struct Mirror {
    pub listen: SocketAddr,
    pub upstream: Upstream,
    pub identity: Identity,
}

/// An upstream reached over `https://` (plain `http://` only on loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub scheme: String,
    /// `host[:port]`, lower case.
    pub authority: String,
    /// The host alone.
    pub host: String,
}

impl Upstream {
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base())
    }
}

#[derive(Debug, Clone)]
pub struct ExtAuthz {
    pub listen: SocketAddr,
    pub path_prefix: String,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub host: String,
    pub path_prefix: String,
    pub identity: Identity,
    pub target: RouteTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// Registry credentials, sent as `Basic`.
    Registry(String),
    /// A provider's access token, sent as `Bearer`.
    AccessToken { provider: String, scopes: Vec<String> },
    /// A cluster's bearer token, sent as `Bearer`.
    Cluster { provider: String, resource_id: String, address: Option<String>, ca_data: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Sigv4 {
    pub listen: SocketAddr,
    pub upstream: Upstream,
    pub service: String,
    pub region: String,
    pub identity: Identity,
    pub unsigned_payload: bool,
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new("."))).with_context(|| format!("config file {}", path.display()))
}

/// Parses and validates a configuration; relative file names are taken
/// relative to `base` (the file's directory).
pub fn parse(text: &str, base: &Path) -> Result<Config> {
    let file: File = toml::from_str(text).map_err(|e| anyhow!("{}", e.to_string().trim_end()))?;
    let resolve = |p: &Path| if p.is_absolute() { p.to_owned() } else { base.join(p) };

    let mut identities = BTreeMap::new();
    for (name, spec) in &file.identities {
        let identity = identity(name, spec, &resolve).with_context(|| format!("identities.{name}"))?;
        identities.insert(name.clone(), identity);
    }
    let find = |name: &str| -> Result<Identity> {
        identities.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = identities.keys().map(String::as_str).collect();
            anyhow!(
                "identity: no [identities.{name}] (known: {})",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )
        })
    };

    let mut listens: BTreeMap<SocketAddr, String> = BTreeMap::new();
    let mut claim = |addr: &str, what: String| -> Result<SocketAddr> {
        let socket: SocketAddr = addr
            .parse()
            .map_err(|_| anyhow!("listen: `{addr}` is not an IP address and port such as 127.0.0.1:5000"))?;
        if let Some(other) = listens.insert(socket, what.clone()) {
            bail!("listen: {socket} is already used by {other}");
        }
        Ok(socket)
    };

    let mut mirrors = Vec::new();
    for (i, m) in file.mirror.iter().enumerate() {
        let at = format!("mirror[{i}]");
        let mirror = (|| -> Result<Mirror> {
            Ok(Mirror {
                listen: claim(&m.listen, at.clone())?,
                upstream: registry_upstream(&m.upstream).context("upstream")?,
                identity: find(&m.identity)?,
            })
        })()
        .with_context(|| at.clone())?;
        mirrors.push(mirror);
    }

    let ext_authz = match &file.ext_authz {
        None => None,
        Some(e) => Some(
            (|| -> Result<ExtAuthz> {
                let listen = claim(&e.listen, "ext-authz".to_owned())?;
                if !e.path_prefix.is_empty() && (!e.path_prefix.starts_with('/') || e.path_prefix.ends_with('/')) {
                    bail!(
                        "path-prefix: `{}` must start with `/` and not end with one (Envoy's path_prefix)",
                        e.path_prefix
                    );
                }
                if e.routes.is_empty() {
                    bail!("no [[ext-authz.route]]: every check would be denied");
                }
                let mut routes = Vec::new();
                for (i, r) in e.routes.iter().enumerate() {
                    routes.push(route(r, &find, &resolve).with_context(|| format!("route[{i}]"))?);
                }
                Ok(ExtAuthz { listen, path_prefix: e.path_prefix.clone(), routes })
            })()
            .context("ext-authz")?,
        ),
    };

    let mut sigv4 = Vec::new();
    for (i, s) in file.sigv4.iter().enumerate() {
        let at = format!("sigv4[{i}]");
        let proxy = (|| -> Result<Sigv4> {
            let listen = claim(&s.listen, at.clone())?;
            let upstream = url_upstream(&s.upstream).context("upstream")?;
            if !is_name(&s.service) {
                bail!("service: `{}` is not a SigV4 signing name such as s3, sqs or execute-api", s.service);
            }
            if !is_name(&s.region) {
                bail!("region: `{}` is not a region such as us-east-1", s.region);
            }
            Ok(Sigv4 {
                listen,
                upstream,
                unsigned_payload: s.unsigned_payload.unwrap_or(s.service == "s3"),
                service: s.service.clone(),
                region: s.region.clone(),
                identity: find(&s.identity)?,
            })
        })()
        .with_context(|| at.clone())?;
        sigv4.push(proxy);
    }

    if mirrors.is_empty() && ext_authz.is_none() && sigv4.is_empty() {
        bail!("nothing to run: add a [[mirror]], an [ext-authz] or a [[sigv4]]");
    }
    let component = file.component.as_deref().map(resolve);
    if let Some(c) = &component
        && !c.is_file()
    {
        bail!("component: no file at {}", c.display());
    }
    let ca_file = file.ca_file.as_deref().map(resolve);
    if let Some(c) = &ca_file
        && !c.is_file()
    {
        bail!("ca-file: no file at {}", c.display());
    }
    Ok(Config { component, ca_file, mirrors, ext_authz, sigv4 })
}

fn identity(name: &str, spec: &IdentityFile, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<Identity> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("the name `{name}` may only hold letters, digits, `-` and `_`");
    }
    for (key, value) in &spec.environment {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            bail!("environment: `{key}` is not an environment variable name (upper case, digits, `_`)");
        }
        if value.contains(['\n', '\r', '\0']) {
            bail!("environment: {key} holds a line break or NUL");
        }
    }
    // Token files the flow will read: missing ones are found now, not at
    // the first pull.
    for key in ["AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE"] {
        if let Some(file) = spec.environment.get(key)
            && !Path::new(file).is_file()
        {
            bail!("environment: {key} names {file}, which is not a file");
        }
    }
    let registry_password = match (&spec.registry_username, &spec.registry_password_file) {
        (None, None) => None,
        (Some(_), None) => bail!("registry-username is set without registry-password-file"),
        (None, Some(_)) => bail!("registry-password-file is set without registry-username"),
        (Some(_), Some(file)) => {
            let file = resolve(file);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("registry-password-file: cannot read {}", file.display()))?;
            let password = text.trim_end_matches(['\n', '\r']);
            if password.is_empty() || password.contains(['\n', '\r']) {
                bail!("registry-password-file: {} must hold one non-empty line", file.display());
            }
            Some(Secret::new(password.to_owned()))
        }
    };
    for host in &spec.trusted_realm_hosts {
        parse_authority(host).with_context(|| format!("trusted-realm-hosts: `{host}`"))?;
    }
    if let Some(endpoint) = &spec.sts_endpoint
        && !endpoint.starts_with("https://")
    {
        bail!("sts-endpoint: `{endpoint}` must be an https:// URL");
    }
    let service_account = match &spec.service_account {
        None => None,
        Some(sa) => {
            let token_file = resolve(&sa.token_file);
            if !token_file.is_file() {
                bail!("service-account.token-file: {} is not a file", token_file.display());
            }
            Some(ServiceAccount {
                namespace: sa.namespace.clone(),
                name: sa.name.clone(),
                annotations: sa.annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                token_file,
            })
        }
    };
    Ok(Identity {
        name: name.to_owned(),
        environment: spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        service_account,
        registry_username: spec.registry_username.clone(),
        registry_password,
        trusted_realm_hosts: spec.trusted_realm_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
        sts_endpoint: spec.sts_endpoint.clone(),
    })
}

fn route(r: &RouteFile, find: &dyn Fn(&str) -> Result<Identity>, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<Route> {
    parse_authority(&r.host).context("host")?;
    if r.host.contains(':') {
        bail!("host: `{}` must be a host without port (Envoy's Host header is matched without it)", r.host);
    }
    if !r.path_prefix.starts_with('/') {
        bail!("path-prefix: `{}` must start with `/`", r.path_prefix);
    }
    let target = match (&r.registry, &r.access_token, &r.cluster) {
        (Some(reference), None, None) => {
            if reference.is_empty() || reference.contains(char::is_whitespace) {
                bail!("registry: `{reference}` is not an image reference");
            }
            RouteTarget::Registry(reference.clone())
        }
        (None, Some(token), None) => {
            if !["azure", "aws", "gcp", "generic"].contains(&token.provider.as_str()) {
                bail!("access-token.provider: `{}` is not one of azure, gcp, generic", token.provider);
            }
            if token.provider == "aws" {
                bail!("access-token.provider: aws has no bearer token; use a [[sigv4]] proxy for AWS services");
            }
            RouteTarget::AccessToken { provider: token.provider.clone(), scopes: token.scopes.clone() }
        }
        (None, None, Some(cluster)) => {
            if !["azure", "aws", "gcp", "generic"].contains(&cluster.provider.as_str()) {
                bail!("cluster.provider: `{}` is not one of azure, aws, gcp, generic", cluster.provider);
            }
            if cluster.resource_id.is_empty() {
                bail!("cluster.resource-id: empty");
            }
            let ca_data = match &cluster.ca_file {
                None => None,
                Some(file) => {
                    let file = resolve(file);
                    Some(
                        std::fs::read_to_string(&file)
                            .with_context(|| format!("cluster.ca-file: cannot read {}", file.display()))?,
                    )
                }
            };
            RouteTarget::Cluster {
                provider: cluster.provider.clone(),
                resource_id: cluster.resource_id.clone(),
                address: cluster.address.clone(),
                ca_data,
            }
        }
        _ => bail!("give exactly one of `registry`, `access-token` or `cluster`"),
    };
    Ok(Route {
        host: r.host.to_ascii_lowercase(),
        path_prefix: r.path_prefix.clone(),
        identity: find(&r.identity)?,
        target,
    })
}

/// A registry as docker names it (`host[:port]`), reached over https; an
/// explicit `http://` is allowed for loopback only.
fn registry_upstream(text: &str) -> Result<Upstream> {
    if text.contains("://") {
        return url_upstream(text);
    }
    let (authority, host) = parse_authority(text)?;
    Ok(Upstream { scheme: "https".to_owned(), authority, host })
}

/// `https://host[:port]` (no path, query or user info); `http://` only for
/// loopback.
fn url_upstream(text: &str) -> Result<Upstream> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| anyhow!("`{text}` is not a URL such as https://s3.us-east-1.amazonaws.com"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        bail!("`{text}` must be scheme://host[:port] only, without path, query or user info");
    }
    let (authority, host) = parse_authority(rest)?;
    match scheme {
        "https" => {}
        "http" if host == "localhost" || host.starts_with("127.") || host == "[::1]" => {}
        "http" => bail!("`{text}`: plain http is only allowed to loopback; credentials would travel in clear"),
        other => bail!("`{text}`: scheme {other} is not https"),
    }
    Ok(Upstream { scheme: scheme.to_owned(), authority, host })
}

/// `host[:port]`: a DNS name or IP address, an optional port 1-65535.
fn parse_authority(text: &str) -> Result<(String, String)> {
    let lower = text.to_ascii_lowercase();
    let (host, port) = match lower.rsplit_once(':') {
        _ if lower.ends_with(']') => (lower.as_str(), None),
        Some((h, p)) => (h, Some(p)),
        None => (lower.as_str(), None),
    };
    if let Some(port) = port
        && !matches!(port.parse::<u16>(), Ok(1..))
    {
        bail!("`{text}`: `{port}` is not a port");
    }
    let ok_name = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let ok_ip6 =
        host.starts_with('[') && host.ends_with(']') && host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok();
    if !ok_name && !ok_ip6 {
        bail!("`{text}` is not a host[:port]");
    }
    Ok((lower.clone(), host.to_owned()))
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests;
