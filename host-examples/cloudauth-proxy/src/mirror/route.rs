//! Which distribution API endpoint a mirror request asks for, and so which
//! repository scope its credentials must cover.
//!
//! Only the read side of the API is mirrored (the OCI distribution spec's
//! "pull" endpoints): the base `/v2/`, manifests, blobs, tags and referrers
//! of one repository. The repository name must match the distribution
//! grammar, which also keeps it from smuggling anything into the token
//! scope (`repository:<name>:pull`) it becomes.

/// A parsed request path.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// `/v2/`: the API version check clients make first.
    Base,
    /// A pull endpoint of one repository.
    Repository { name: &'a str },
}

/// Why a path is not mirrored.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a pull endpoint of the distribution API (or `_catalog`, which is
    /// not scoped to one repository).
    NotFound,
    /// The repository part does not follow the distribution name grammar.
    BadName,
}

/// The pull endpoints, each followed by one path segment (a tag or digest),
/// except `tags/list`.
const ENDPOINTS: &[&str] = &["/manifests/", "/blobs/", "/referrers/"];

pub fn parse(path: &str) -> Result<Endpoint<'_>, Refused> {
    if path == "/v2/" || path == "/v2" {
        return Ok(Endpoint::Base);
    }
    let rest = path.strip_prefix("/v2/").ok_or(Refused::NotFound)?;
    let name = if let Some(name) = rest.strip_suffix("/tags/list") {
        name
    } else {
        ENDPOINTS
            .iter()
            .filter_map(|marker| {
                let at = rest.rfind(marker)?;
                let reference = &rest[at + marker.len()..];
                (!reference.is_empty() && !reference.contains('/')).then_some(&rest[..at])
            })
            .max_by_key(|name| name.len())
            .ok_or(Refused::NotFound)?
    };
    if valid_name(name) { Ok(Endpoint::Repository { name }) } else { Err(Refused::BadName) }
}

/// The distribution grammar for repository names: path components of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`, at most 255 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.split('/').all(component)
}

fn component(c: &str) -> bool {
    let bytes = c.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_alnum(b) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or one or more `-`.
        let run = bytes[i..].iter().take_while(|&&s| s == b).count();
        let ok = match b {
            b'.' => run == 1,
            b'_' => run <= 2,
            b'-' => true,
            _ => false,
        };
        if !ok {
            return false;
        }
        i += run;
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_endpoints_name_their_repository() {
        assert_eq!(parse("/v2/"), Ok(Endpoint::Base));
        assert_eq!(parse("/v2/app/manifests/v1"), Ok(Endpoint::Repository { name: "app" }));
        assert_eq!(parse("/v2/team/app/blobs/sha256:ab"), Ok(Endpoint::Repository { name: "team/app" }));
        assert_eq!(parse("/v2/a/b/c/tags/list"), Ok(Endpoint::Repository { name: "a/b/c" }));
        assert_eq!(parse("/v2/a/referrers/sha256:ab"), Ok(Endpoint::Repository { name: "a" }));
        // A repository may itself be called `manifests`.
        assert_eq!(parse("/v2/x/manifests/manifests/v1"), Ok(Endpoint::Repository { name: "x/manifests" }));
    }

    #[test]
    fn other_paths_are_refused() {
        assert_eq!(parse("/v2/_catalog"), Err(Refused::NotFound));
        assert_eq!(parse("/v1/app/manifests/v1"), Err(Refused::NotFound));
        assert_eq!(parse("/v2/app/manifests/"), Err(Refused::NotFound));
        assert_eq!(parse("/v2/app/blobs/uploads/"), Err(Refused::NotFound));
        assert_eq!(parse("/"), Err(Refused::NotFound));
    }

    #[test]
    fn names_follow_the_distribution_grammar() {
        for good in ["a", "a/b", "a.b", "a_b", "a__b", "a---b", "0/9"] {
            assert!(valid_name(good), "{good}");
        }
        // Nothing that could change a token scope or a path gets through.
        for bad in ["", "A", "a:b", "a b", "a/", "/a", "a//b", "a..b", "a___b", ".a", "a-", "a/../b", "a%2fb", "a,b"] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(parse("/v2/a:push/manifests/v1"), Err(Refused::BadName));
        assert_eq!(parse("/v2/../x/manifests/v1"), Err(Refused::BadName));
    }
}
