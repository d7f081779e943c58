//! The patterns of a rules document. They are globs implemented here, never
//! regular expressions: `.`, `+`, `(`, `[`, `^`, `$` and `?` are literal
//! characters, so a pattern cannot mean more than it shows.
//!
//! - [`HostPattern`]: `host[:port]`, or `*.` followed by one; the wildcard
//!   stands for exactly one whole DNS label (`*.example.com` matches
//!   `a.example.com`, not `example.com`, `a.b.example.com` or
//!   `aexample.com`). Hosts are ASCII: internationalized names are written
//!   in their `xn--` form, so a look-alike in another script cannot match.
//! - [`Glob`]: printable ASCII in which `*` stands for any run of
//!   characters (ARNs, e-mails, ids). Matching is linear in practice (the
//!   classic single-backtrack glob), so a hostile pattern cannot make it slow.

use crate::host::Authority;

/// Longest pattern accepted.
pub const MAX_PATTERN: usize = 1024;

/// A host pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    /// `*.` was given: one label, then `base`.
    wildcard: bool,
    base: Authority,
}

impl HostPattern {
    /// Parses a host pattern; the error says what is wrong.
    pub fn parse(pattern: &str) -> Result<HostPattern, String> {
        if !pattern.is_ascii() {
            return Err("a host pattern is ASCII: write internationalized names in their xn-- form".into());
        }
        let (wildcard, rest) = match pattern.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        if rest.contains('*') {
            return Err("`*` may only stand alone as the first label (`*.example.com`)".into());
        }
        let base = Authority::parse(rest).map_err(|e| e.to_string())?;
        if wildcard && base.host().starts_with('[') {
            return Err("an IP address cannot take a wildcard".into());
        }
        if wildcard && !base.host().contains('.') {
            return Err("`*.` needs at least two labels after it (`*.com` would match every .com host)".into());
        }
        Ok(HostPattern { wildcard, base })
    }

    /// Whether `host` (a validated authority) matches.
    pub fn matches(&self, host: &Authority) -> bool {
        if host.port() != self.base.port() {
            return false;
        }
        if !self.wildcard {
            return host.host() == self.base.host();
        }
        match host.host().split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == self.base.host(),
            None => false,
        }
    }
}

/// A `*` glob over printable ASCII.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// Parses a glob; `allowed` says which characters (besides `*`) it may hold.
    pub fn parse(pattern: &str, allowed: impl Fn(u8) -> bool, what: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("empty pattern".into());
        }
        if pattern.len() > MAX_PATTERN {
            return Err(format!("longer than {MAX_PATTERN} characters"));
        }
        if !pattern.is_ascii() {
            return Err(format!("{what} are ASCII; the pattern has other characters"));
        }
        if pattern.contains("**") {
            return Err("`**` is not a pattern (`*` already matches any run of characters)".into());
        }
        if let Some(c) = pattern.bytes().find(|&b| b != b'*' && !allowed(b)) {
            return Err(format!("{:?} cannot appear in {what}", c as char));
        }
        Ok(Glob(pattern.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` matches; `*` matches any run, every other byte itself.
    pub fn matches(&self, text: &str) -> bool {
        let (p, t) = (self.0.as_bytes(), text.as_bytes());
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(b'*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(&c) if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
}

/// Characters of principals: printable ASCII without spaces.
pub fn principal_char(b: u8) -> bool {
    b.is_ascii_graphic()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> Authority {
        Authority::parse(h).unwrap()
    }

    #[test]
    fn host_wildcards_match_one_whole_label() {
        let p = HostPattern::parse("*.azurecr.io").unwrap();
        assert!(p.matches(&host("team.azurecr.io")));
        assert!(p.matches(&host("TEAM.AzureCR.io")));
        for no in [
            "azurecr.io",
            "a.b.azurecr.io",
            "evilazurecr.io",
            "team.azurecr.io.evil.example",
            "team.azurecr.io:5000",
            "team-azurecr.io",
        ] {
            assert!(!p.matches(&host(no)), "{no}");
        }
        let exact = HostPattern::parse("ghcr.io").unwrap();
        assert!(exact.matches(&host("ghcr.io")) && !exact.matches(&host("x.ghcr.io")));
        let port = HostPattern::parse("localhost:5000").unwrap();
        assert!(port.matches(&host("localhost:5000")) && !port.matches(&host("localhost")));
    }

    #[test]
    fn malformed_host_patterns() {
        for bad in [
            "",
            "*",
            "*.com",
            "a*.example.com",
            "*a.example.com",
            "x.*.example.com",
            "*.*.example.com",
            "**.example.com",
            "example.com/",
            "https://example.com",
            "ex ample.com",
            "exämple.com",
            "ｅxample.com",
            "*.[::1]",
            "example..com",
            "example.com.*",
            "(.*)\\.example\\.com",
            "user@example.com",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert!(HostPattern::parse("xn--exmple-cua.com").is_ok());
    }

    #[test]
    fn globs_are_literal_except_star() {
        let g = |p: &str| Glob::parse(p, principal_char, "principals").unwrap();
        assert!(g("arn:aws:iam::123456789012:role/*").matches("arn:aws:iam::123456789012:role/a/b"));
        assert!(!g("arn:aws:iam::123456789012:role/*").matches("arn:aws:iam::999999999999:role/a"));
        assert!(g("*@p.iam.gserviceaccount.com").matches("x@p.iam.gserviceaccount.com"));
        assert!(!g("*@p.iam.gserviceaccount.com").matches("x@p.iam.gserviceaccount.com.evil"));
        // Regular-expression syntax means itself.
        assert!(!g("arn:aws:iam::.*:role/x").matches("arn:aws:iam::123:role/x"));
        assert!(g("arn:aws:iam::.*:role/x").matches("arn:aws:iam::.123:role/x"));
        assert!(!g("a.c").matches("abc"));
        assert!(!g("a?c").matches("abc") && g("a?c").matches("a?c"));
        assert!(!g("[ab]").matches("a") && !g("^a$").matches("a") && !g("a+").matches("aa"));
        assert!(g("*a*b*").matches("xaxxbx") && !g("*a*b*").matches("xbxa"));
        assert!(g("abc").matches("abc") && !g("abc").matches("abcd") && !g("abc").matches("ab"));
        // A pathological pattern stays fast.
        let hostile = format!("{}b", "*a".repeat(500));
        assert!(!Glob::parse(&hostile, principal_char, "p").unwrap().matches(&"a".repeat(10_000)));
    }

    #[test]
    fn malformed_globs() {
        for bad in ["", "a**b", "rôle", "a b", "a\nb", &"a".repeat(MAX_PATTERN + 1)] {
            assert!(Glob::parse(bad, principal_char, "principals").is_err(), "{bad:?}");
        }
    }
}
