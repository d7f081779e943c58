//! Credential endpoints on the host itself or a link-local agent, named by
//! an environment variable: AWS container credentials
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) and App Service managed identity
//! (`IDENTITY_ENDPOINT`). They are plain HTTP by design and receive a
//! secret header, so the URL is parsed strictly and its host must be one
//! the caller allows; the routing guard then lets that secret go to exactly
//! this scheme and authority.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::host::Authority;

/// Longest URL accepted.
const MAX_URL: usize = 2048;

/// A validated `http(s)://host[:port]/path` endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LocalEndpoint {
    /// `http` or `https`.
    pub scheme: &'static str,
    pub authority: Authority,
    /// The whole URL as given.
    pub url: String,
}

impl LocalEndpoint {
    /// Parses `url`; `allowed` decides on its host (lower case, IPv6 in
    /// brackets). The error says what is wrong, without the URL.
    pub fn parse(url: &str, allowed: impl Fn(&str) -> bool) -> Result<LocalEndpoint, &'static str> {
        if url.len() > MAX_URL {
            return Err("too long");
        }
        if !url.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("whitespace, control or non-ASCII characters");
        }
        let (scheme, rest) = split_scheme(url).ok_or("not an http:// or https:// URL")?;
        let authority = authority_of(rest).ok_or("userinfo, escapes or no valid host")?;
        if !allowed(authority.host()) {
            return Err("a host that may not receive this credential");
        }
        if url.contains('#') {
            return Err("a fragment");
        }
        Ok(LocalEndpoint { scheme, authority, url: url.to_owned() })
    }

    /// Whether `url` goes to exactly this scheme and authority.
    pub fn same_origin(&self, url: &str) -> bool {
        split_scheme(url).is_some_and(|(scheme, rest)| {
            scheme == self.scheme && authority_of(rest).is_some_and(|a| a == self.authority)
        })
    }
}

fn split_scheme(url: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = url.strip_prefix("http://") {
        Some(("http", rest))
    } else {
        url.strip_prefix("https://").map(|rest| ("https", rest))
    }
}

fn authority_of(rest: &str) -> Option<Authority> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    if authority.contains(['@', '\\', '%']) {
        return None;
    }
    Authority::parse(authority).ok()
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, as literals (the component
/// resolves no names).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// A loopback address, or a link-local one (`169.254.0.0/16`, `[fe80::/10]`,
/// `[fd00:ec2::/32]`): where metadata and credential agents listen.
pub fn is_link_local_or_loopback(host: &str) -> bool {
    if is_loopback(host) {
        return true;
    }
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ip.parse::<Ipv6Addr>().is_ok_and(|ip| {
            let s = ip.segments();
            (s[0] & 0xffc0) == 0xfe80 || (s[0] == 0xfd00 && s[1] == 0x0ec2)
        });
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_link_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_origin() {
        let e = LocalEndpoint::parse("http://127.0.0.1:41741/MSI/token/", is_loopback).unwrap();
        assert_eq!((e.scheme, e.authority.to_string().as_str()), ("http", "127.0.0.1:41741"));
        assert!(e.same_origin("http://127.0.0.1:41741/MSI/token/?resource=x"));
        for other in [
            "http://127.0.0.1/MSI/token/",
            "https://127.0.0.1:41741/MSI/token/",
            "http://127.0.0.1:41741@evil.example/",
            "http://evil.example/",
            "ftp://127.0.0.1:41741/",
        ] {
            assert!(!e.same_origin(other), "{other}");
        }
        for bad in [
            "http://evil.example/x",
            "http://user@127.0.0.1/x",
            "http://127.0.0.1 /x",
            "127.0.0.1/x",
            "http://127.0.0.1/x#f",
            "http://localhost.evil.example/x",
            "http://10.0.0.1/x",
        ] {
            assert!(LocalEndpoint::parse(bad, is_loopback).is_err(), "{bad}");
        }
        for ok in ["http://localhost:8081/msi/token", "http://[::1]/x", "http://127.9.9.9/x"] {
            assert!(LocalEndpoint::parse(ok, is_loopback).is_ok(), "{ok}");
        }
    }
}
