//! Host names and authorities (`host[:port]`), validated strictly. Every URL
//! the component builds from caller input gets its host through here, so a
//! value that is not a plain host cannot steer a request (or a token)
//! elsewhere: no userinfo, no path, no query, no whitespace, no empty labels.

use std::fmt;

use crate::error::{Error, Result, quoted};

/// A validated `host[:port]`, host in lower case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    /// Parses `host`, `host:port`, `[ipv6]` or `[ipv6]:port`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("{} is not a valid host: {why}", quoted(input)));
        if input.is_empty() {
            return Err(bad("empty"));
        }
        if input.len() > 261 {
            return Err(bad("too long"));
        }
        let (host, port) = if let Some(rest) = input.strip_prefix('[') {
            let (ip, after) = rest.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            if ip.is_empty()
                || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
                || ip.parse::<std::net::Ipv6Addr>().is_err()
            {
                return Err(bad("not an IPv6 address"));
            }
            let port = match after {
                "" => None,
                p => Some(
                    parse_port(p.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?)
                        .ok_or_else(|| bad("bad port"))?,
                ),
            };
            (format!("[{}]", ip.to_ascii_lowercase()), port)
        } else {
            let (host, port) = match input.rsplit_once(':') {
                Some((h, p)) => (h, Some(parse_port(p).ok_or_else(|| bad("bad port"))?)),
                None => (input, None),
            };
            check_dns_name(host).map_err(|why| bad(why))?;
            (host.to_ascii_lowercase(), port)
        };
        Ok(Authority { host, port })
    }

    /// The host, lower case, IPv6 in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// True when the host equals `suffix` or ends with `.suffix` (label-aligned).
    pub fn is_under(&self, suffix: &str) -> bool {
        let suffix = suffix.trim_start_matches('.');
        self.host.len() > suffix.len()
            && self.host.ends_with(suffix)
            && self.host.as_bytes()[self.host.len() - suffix.len() - 1] == b'.'
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n != 0)
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens,
/// each 1..=63 characters, 253 in all. Underscores are refused.
pub fn check_dns_name(host: &str) -> std::result::Result<(), &'static str> {
    if host.is_empty() {
        return Err("empty host");
    }
    if host.len() > 253 {
        return Err("host longer than 253 characters");
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("invalid character");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("label starts or ends with a hyphen");
        }
    }
    Ok(())
}

/// Parses an `https://host[:port]` base URL (an optional trailing `/` is
/// allowed, nothing else after the authority). Returns the authority.
pub fn parse_https_base(url: &str) -> Result<Authority> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| Error::invalid(format!("{} is not an https:// URL", quoted(url))))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(Error::invalid(format!("{} must be a bare https://host[:port]", quoted(url))));
    }
    Authority::parse(rest)
}

/// The authority of an `https://` URL, port 443 folded away. Userinfo,
/// backslashes and anything that is not a plain host are refused, so the
/// host checked is the host a client connects to.
pub fn https_authority(url: &str) -> Result<Authority> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| Error::invalid(format!("{} is not an https:// URL", without_query(url))))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    if authority.contains(['@', '\\', '%']) {
        return Err(Error::invalid(format!("{} has userinfo or escapes in its authority", without_query(url))));
    }
    let parsed = Authority::parse(authority)?;
    if parsed.port() == Some(443) {
        return Authority::parse(parsed.host());
    }
    Ok(parsed)
}

/// A URL for an error message: no query (it may hold a signature), cut.
fn without_query(url: &str) -> String {
    crate::error::excerpt(url.split(['?', '#']).next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hosts() {
        let a = Authority::parse("MyReg.AzureCR.io").unwrap();
        assert_eq!(a.to_string(), "myreg.azurecr.io");
        assert_eq!(Authority::parse("localhost:5000").unwrap().port(), Some(5000));
        assert_eq!(Authority::parse("[::1]:5000").unwrap().to_string(), "[::1]:5000");
        assert!(a.is_under("azurecr.io"));
        assert!(!a.is_under("cr.io"));
        assert!(!Authority::parse("azurecr.io").unwrap().is_under("azurecr.io"));
    }

    #[test]
    fn rejects_non_hosts() {
        for s in [
            "",
            "a..b",
            ".a",
            "a.",
            "a/b",
            "u@h",
            "h:",
            "h:0",
            "h:65536",
            "h:8x",
            "a b",
            "a\r\nb",
            "-a.b",
            "a_b.c",
            "[zz]",
            "[::1",
            "h:80:80",
            &"a".repeat(64),
        ] {
            assert!(Authority::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn https_bases() {
        assert_eq!(parse_https_base("https://login.microsoftonline.com/").unwrap().host(), "login.microsoftonline.com");
        for s in ["http://a", "https://a/b", "https://u@a", "https://a?x", "https://"] {
            assert!(parse_https_base(s).is_err(), "{s}");
        }
    }
}
