//! The parts of a request URL that SigV4 signs: the authority (for `host`
//! when the request has no Host header), the path and the query.
//!
//! The URL is taken as the host gives it. A path or query may hold characters
//! that cannot appear on the wire as they are (a space, UTF-8): they stand for
//! themselves, the way the AWS test suites write requests, and the canonical
//! forms encode them.

use crate::error::{Error, Result};
use crate::host::Authority;
use crate::http::check_single_line;

/// An absolute `http(s)://host[:port][/path][?query]` URL, split.
#[derive(Debug)]
pub(super) struct RequestUrl<'a> {
    authority: Authority,
    default_port: u16,
    /// Everything from the first `/` after the authority up to `?`; may be empty.
    pub path: &'a str,
    /// Everything after the first `?`, when there is one.
    pub query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    /// Splits and checks a request URL. Errors never echo the URL: a URL to
    /// be presigned may already carry credentials in its query.
    pub fn parse(url: &'a str) -> Result<Self> {
        check_single_line("request URL", url)?;
        let (scheme, rest) =
            url.split_once("://").ok_or_else(|| Error::invalid("request URL is not absolute (no scheme://)"))?;
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else if scheme.eq_ignore_ascii_case("http") {
            80
        } else {
            return Err(Error::invalid("request URL scheme is not http or https"));
        };
        if rest.contains('#') {
            return Err(Error::invalid("request URL has a fragment"));
        }
        // A byte scan, not `find(['/', '?'])`: in the component, built for
        // size, the char-pattern searcher costs more than the rest of parsing.
        let end = rest.bytes().position(|b| b == b'/' || b == b'?').unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            // Userinfo would be a password; say no more about it.
            return Err(Error::invalid("request URL has userinfo"));
        }
        let authority = Authority::parse(authority)?;
        let (path, query) = match tail.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (tail, None),
        };
        Ok(RequestUrl { authority, default_port, path, query })
    }

    /// The `host` value to sign when the request has no Host header: the
    /// lower-case host, with the port unless it is the scheme's default (as
    /// HTTP clients write the header).
    pub fn host_header(&self) -> String {
        match self.authority.port() {
            Some(port) if port != self.default_port => format!("{}:{port}", self.authority.host()),
            _ => self.authority.host().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        let u = RequestUrl::parse("https://Example.amazonaws.com/a/b?x=1&y").unwrap();
        assert_eq!((u.path, u.query), ("/a/b", Some("x=1&y")));
        assert_eq!(u.host_header(), "example.amazonaws.com");

        let u = RequestUrl::parse("https://h.example?x=1").unwrap();
        assert_eq!((u.path, u.query), ("", Some("x=1")));

        let u = RequestUrl::parse("https://h.example").unwrap();
        assert_eq!((u.path, u.query), ("", None));

        let u = RequestUrl::parse("https://h.example/example space/ሴ").unwrap();
        assert_eq!(u.path, "/example space/ሴ");
    }

    #[test]
    fn host_header_omits_default_ports_only() {
        let host = |url| RequestUrl::parse(url).unwrap().host_header();
        assert_eq!(host("https://h.example:443/"), "h.example");
        assert_eq!(host("http://h.example:80/"), "h.example");
        assert_eq!(host("https://h.example:80/"), "h.example:80");
        assert_eq!(host("http://h.example:8080/"), "h.example:8080");
        assert_eq!(host("https://[::1]:8443/"), "[::1]:8443");
    }

    #[test]
    fn rejects_what_is_not_an_absolute_http_url() {
        for url in [
            "",
            "/relative",
            "h.example/path",
            "ftp://h.example/",
            "https:///path",
            "https://user@h.example/",
            "https://h.example:0/",
            "https://h.example:99999/",
            "https://h_x.example/",
            "https://h.example/#frag",
            "https://h.example/a\r\nX: y",
            "https://h.example/\0",
        ] {
            assert!(matches!(RequestUrl::parse(url), Err(Error::InvalidInput(_))), "{url:?}");
        }
    }

    #[test]
    fn errors_do_not_echo_secrets() {
        for url in ["ftp://h.example/?X-Amz-Security-Token=sekrit", "https://user:sekrit@h.example/"] {
            let err = RequestUrl::parse(url).unwrap_err();
            assert!(!err.to_string().contains("sekrit"), "{err}");
        }
    }
}
