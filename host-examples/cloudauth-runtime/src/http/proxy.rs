//! `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, read the way Go's
//! `net/http` (`golang.org/x/net/http/httpproxy`) reads them, since the
//! credential flows cloudauth replaces ran in Go programs (Flux, the
//! kubelet's providers) and operators configured them that way:
//!
//! * upper-case names win over lower-case ones;
//! * a proxy without a scheme is `http://`; only `http://` proxies are
//!   supported (an `https://` or `socks5://` proxy is a clear error at start,
//!   not a silent direct connection);
//! * requests to `localhost` and loopback addresses never use a proxy;
//! * `NO_PROXY` is a comma-separated list of `*` (no proxy at all), IP
//!   addresses, CIDR ranges, and host names, each optionally with `:port`;
//!   `example.com` matches it and its subdomains, `.example.com` (or
//!   `*.example.com`) only its subdomains.
//!
//! HTTPS goes through the proxy in a `CONNECT` tunnel, so the proxy sees the
//! host and port only; plain HTTP (the metadata services) is sent to the
//! proxy in absolute form. Proxy credentials from the URL's userinfo go in
//! `Proxy-Authorization: Basic`, and never appear in logs or errors.

use std::net::IpAddr;

use base64::Engine as _;

use crate::error::{Error, ErrorKind};
use crate::secret::Secret;

/// Which proxy, if any, each request uses.
#[derive(Clone, Debug, Default)]
pub struct ProxyConfig {
    /// For `http://` URLs (`HTTP_PROXY`).
    pub http: Option<Proxy>,
    /// For `https://` URLs (`HTTPS_PROXY`).
    pub https: Option<Proxy>,
    /// Hosts reached directly (`NO_PROXY`).
    pub no_proxy: NoProxy,
}

/// An HTTP proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Basic ...` from the URL's userinfo.
    pub authorization: Option<Secret<String>>,
}

impl Proxy {
    /// Parses `http://[user:pass@]host[:port][/]` (scheme optional, port 80
    /// by default, as Go).
    pub fn parse(url: &str) -> Result<Proxy, String> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(format!("the proxy scheme {scheme}:// is not supported; use an http:// proxy"));
            }
            None => url,
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).ok_or("the proxy URL has no valid host and port")?;
        let port = port.unwrap_or(80);
        let authorization = userinfo.map(|userinfo| {
            let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let pair = format!("{}:{}", percent_decode(user), percent_decode(pass));
            Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
        });
        Ok(Proxy { host, port, authorization })
    }

    /// `host:port`, for logs and errors (never the credentials).
    pub fn address(&self) -> String {
        join_host_port(&self.host, self.port)
    }
}

impl ProxyConfig {
    /// From the process environment.
    pub fn from_env() -> Result<ProxyConfig, Error> {
        ProxyConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// From variables looked up by `get` (upper-case names first).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<ProxyConfig, Error> {
        let any = |names: [&str; 2]| names.iter().find_map(|n| get(n).filter(|v| !v.trim().is_empty()));
        let proxy = |names: [&str; 2]| -> Result<Option<Proxy>, Error> {
            match any(names) {
                None => Ok(None),
                Some(url) => Proxy::parse(url.trim())
                    .map(Some)
                    .map_err(|e| Error::new(ErrorKind::Setup, format!("{}: {e}", names[0]))),
            }
        };
        Ok(ProxyConfig {
            http: proxy(["HTTP_PROXY", "http_proxy"])?,
            https: proxy(["HTTPS_PROXY", "https_proxy"])?,
            no_proxy: NoProxy::parse(&any(["NO_PROXY", "no_proxy"]).unwrap_or_default()),
        })
    }

    /// The proxy for a request to `host:port`, or `None` for a direct
    /// connection.
    pub fn proxy_for(&self, https: bool, host: &str, port: u16) -> Option<&Proxy> {
        let proxy = if https { self.https.as_ref() } else { self.http.as_ref() }?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return None;
        }
        (!self.no_proxy.matches(&host, port)).then_some(proxy)
    }
}

/// The parsed `NO_PROXY` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Ip(IpAddr, Option<u16>),
    Cidr(IpAddr, u8),
    /// The name without a leading dot; `subdomains_only` for `.name`.
    Domain {
        name: String,
        subdomains_only: bool,
        port: Option<u16>,
    },
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        for item in list.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()) {
            if item == "*" {
                no_proxy.all = true;
                continue;
            }
            if let Some((net, bits)) = item.split_once('/') {
                if let (Ok(ip), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    no_proxy.entries.push(Entry::Cidr(ip, bits));
                }
                continue;
            }
            if let Ok(ip) = item.parse::<IpAddr>() {
                no_proxy.entries.push(Entry::Ip(ip, None));
                continue;
            }
            let Some((host, port)) = split_host_port(&item) else { continue };
            if let Ok(ip) = host.parse::<IpAddr>() {
                no_proxy.entries.push(Entry::Ip(ip, port));
                continue;
            }
            let host = host.strip_prefix('*').unwrap_or(&host);
            let (name, subdomains_only) = match host.strip_prefix('.') {
                Some(name) => (name.to_owned(), true),
                None => (host.to_owned(), false),
            };
            if !name.is_empty() {
                no_proxy.entries.push(Entry::Domain { name, subdomains_only, port });
            }
        }
        no_proxy
    }

    /// True when `host` (lower case, no brackets) on `port` is reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match (entry, ip) {
            (Entry::Ip(want, want_port), Some(ip)) => *want == ip && want_port.is_none_or(|p| p == port),
            (Entry::Cidr(net, bits), Some(ip)) => in_cidr(ip, *net, *bits),
            (Entry::Domain { name, subdomains_only, port: want_port }, None) => {
                let subdomain = host.strip_suffix(name.as_str()).is_some_and(|rest| rest.ends_with('.'));
                let hit = subdomain || (!subdomains_only && host == name);
                hit && want_port.is_none_or(|p| p == port)
            }
            _ => false,
        })
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// `host[:port]` or `[v6][:port]`; the host in lower case, brackets removed.
pub(crate) fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?.parse().ok()?)),
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port.parse().ok()?)),
            _ => (text, None),
        }
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// `host:port`, bracketing IPv6 addresses.
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ProxyConfig, Error> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxyConfig::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn parses_proxy_urls() {
        let p = Proxy::parse("http://proxy.corp:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.authorization.is_none()), ("proxy.corp", 3128, true));
        assert_eq!(Proxy::parse("proxy.corp").unwrap().port, 80);
        assert_eq!(Proxy::parse("http://[::1]:8080/").unwrap().address(), "[::1]:8080");
        let auth = Proxy::parse("http://al%40ice:s3cret@proxy:3128").unwrap();
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("al@ice:s3cret"));
        assert_eq!(auth.authorization.as_ref().unwrap().expose(), &expected);
        assert!(!format!("{auth:?}").contains("s3cret"));
        assert!(Proxy::parse("socks5://proxy:1080").unwrap_err().contains("socks5"));
        assert!(Proxy::parse("https://proxy:443").is_err());
        assert!(Proxy::parse("http://:80").is_err());
    }

    #[test]
    fn upper_case_wins_and_bad_proxies_fail_at_start() {
        let c = config(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")]).unwrap();
        assert_eq!(c.https.unwrap().host, "upper");
        let c = config(&[("https_proxy", "http://lower:2")]).unwrap();
        assert_eq!(c.https.unwrap().host, "lower");
        let e = config(&[("HTTPS_PROXY", "socks5://p:1")]).unwrap_err();
        assert!(e.to_string().starts_with("HTTPS_PROXY: "), "{e}");
    }

    #[test]
    fn no_proxy_rules() {
        let c = config(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("HTTP_PROXY", "http://p:3128"),
            ("NO_PROXY", "internal.example, .svc.local, 169.254.169.254, 10.0.0.0/8, reg.example:5000, *.wild.test"),
        ])
        .unwrap();
        let via = |https, host, port| c.proxy_for(https, host, port).is_some();
        assert!(via(true, "myregistry.azurecr.io", 443));
        assert!(!via(true, "internal.example", 443));
        assert!(!via(true, "a.internal.example", 443));
        assert!(via(true, "notinternal.example", 443));
        assert!(via(true, "svc.local", 443));
        assert!(!via(true, "api.svc.local", 443));
        assert!(!via(false, "169.254.169.254", 80));
        assert!(!via(true, "10.1.2.3", 443));
        assert!(via(true, "11.1.2.3", 443));
        assert!(!via(true, "reg.example", 5000));
        assert!(via(true, "reg.example", 443));
        assert!(!via(true, "a.wild.test", 443));
        assert!(via(true, "wild.test", 443));
        // Loopback is never proxied.
        assert!(!via(true, "127.0.0.1", 443));
        assert!(!via(true, "localhost", 443));
        assert!(!via(true, "[::1]", 443));
        let all = config(&[("HTTPS_PROXY", "http://p:3128"), ("no_proxy", "*")]).unwrap();
        assert!(all.proxy_for(true, "example.com", 443).is_none());
        let none = config(&[("NO_PROXY", "example.com")]).unwrap();
        assert!(none.proxy_for(true, "other.com", 443).is_none());
        // http:// URLs use HTTP_PROXY only.
        let https_only = config(&[("HTTPS_PROXY", "http://p:3128")]).unwrap();
        assert!(https_only.proxy_for(false, "metadata.google.internal", 80).is_none());
    }
}
