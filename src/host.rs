//! Host names and authorities (`host[:port]`), validated strictly. Every URL
//! the component builds from caller input gets its host through here, so a
//! value that is not a plain host cannot steer a request (or a token)
//! elsewhere: no userinfo, no path, no query, no whitespace, no empty labels.

use std::fmt;

use crate::ascii;
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
        let (host, port) = if let Some(rest) = ascii::strip_prefix(input, "[") {
            let (ip, after) = ascii::split_once(rest, b']').ok_or_else(|| bad("unclosed ["))?;
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
            (bracketed_lower(ip), port)
        } else {
            let (host, port) = match ascii::rsplit_once(input, b':') {
                Some((h, p)) => (h, Some(parse_port(p).ok_or_else(|| bad("bad port"))?)),
                None => (input, None),
            };
            check_dns_name(host).map_err(bad)?;
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

    /// True when the host ends with `.suffix` (label-aligned, strictly
    /// under it); leading dots of `suffix` are ignored.
    pub fn is_under(&self, suffix: &str) -> bool {
        ascii::is_under(&self.host, trim_leading_dots(suffix))
    }

    /// `host[:port]`, as [`Display`](fmt::Display) writes it, reusing the
    /// host's buffer: registry resolution returns it, and in the component
    /// `format!` and a second copy of the host cost more than the rest.
    pub fn into_host_port(self) -> String {
        let mut out = self.host;
        if let Some(port) = self.port {
            out.push(':');
            push_decimal(&mut out, port);
        }
        out
    }
}

/// `s.trim_start_matches('.')`, on bytes.
fn trim_leading_dots(s: &str) -> &str {
    let dots = s.bytes().take_while(|&b| b == b'.').count();
    s.get(dots..).unwrap_or(s)
}

/// `[` ip in lower case `]`, built in one buffer instead of `format!`.
fn bracketed_lower(ip: &str) -> String {
    let mut out = String::with_capacity(ip.len() + 2);
    out.push('[');
    out.push_str(ip);
    out.push(']');
    out.make_ascii_lowercase();
    out
}

/// Appends `n` in decimal, without the formatting machinery.
fn push_decimal(out: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let (mut n, mut i) = (n, digits.len());
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // The digits are ASCII, so this never fails.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
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
///
/// Label by label on bytes (`crate::ascii::split`), rather than
/// `split('.')` and `str` prefix tests, which the component does not inline.
pub fn check_dns_name(host: &str) -> std::result::Result<(), &'static str> {
    if host.is_empty() {
        return Err("empty host");
    }
    if host.len() > 253 {
        return Err("host longer than 253 characters");
    }
    for label in ascii::split(host, b'.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("invalid character");
        }
        if ascii::starts_with(label, b'-') || label.as_bytes().last() == Some(&b'-') {
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
