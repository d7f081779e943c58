//! Parsing `WWW-Authenticate` challenges (RFC 7235 section 4.1).
//!
//! A header holds one or more challenges, each an auth scheme followed by
//! either a token68 or comma-separated `name=value` parameters, whose values
//! are tokens or quoted strings with backslash escapes. Commas separate both
//! parameters and challenges, so a comma followed by `name=` continues the
//! current challenge and a comma followed by anything else starts the next.
//!
//! Choices, where the RFC leaves them to the client:
//! - Schemes are matched case-insensitively and reported as `Bearer` or
//!   `Basic`. When a header offers both, `Bearer` wins (token authentication
//!   is what registries mean; `Basic` is the fallback). A header offering
//!   neither is `unsupported`: cloudauth speaks no other scheme.
//! - Parameter names are case-insensitive; a name repeated within one
//!   challenge is refused (RFC 7235 says it MUST NOT happen, and two parsers
//!   disagreeing on which `realm` wins is how tokens get sent astray).
//! - `Bearer` without a non-empty `realm` is `invalid-input`: there is
//!   nowhere to ask for a token. The realm is not judged here; the token
//!   request checks it.
//! - `scope` is split on spaces, as the token spec joins scopes.

use crate::error::{Error, Result};

/// A parsed challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `Bearer` or `Basic`, canonically spelled.
    pub scheme: String,
    pub realm: Option<String>,
    pub service: Option<String>,
    pub scopes: Vec<String>,
}

/// Longest header accepted. Real challenges are well under 1 KiB; the bound
/// keeps a hostile server from making the parser work hard.
pub const MAX_HEADER: usize = 16 * 1024;
/// Most challenges, and most parameters per challenge, accepted.
const MAX_ITEMS: usize = 64;

/// Parses a `WWW-Authenticate` header value and picks the challenge to answer.
pub fn parse(header: &str) -> Result<Challenge> {
    if header.len() > MAX_HEADER {
        return Err(Error::invalid(format!("WWW-Authenticate header is longer than {MAX_HEADER} bytes")));
    }
    let challenges = parse_all(header)?;
    let pick = |scheme: &str| challenges.iter().find(|c| c.scheme.eq_ignore_ascii_case(scheme));
    if let Some(bearer) = pick("Bearer") {
        return bearer_challenge(bearer);
    }
    if let Some(basic) = pick("Basic") {
        return Ok(Challenge {
            scheme: "Basic".to_owned(),
            realm: basic.param("realm").map(str::to_owned),
            service: None,
            scopes: Vec::new(),
        });
    }
    Err(Error::unsupported("the WWW-Authenticate header offers neither Bearer nor Basic authentication"))
}

fn bearer_challenge(raw: &RawChallenge<'_>) -> Result<Challenge> {
    let realm = match raw.param("realm") {
        Some(r) if !r.is_empty() => r.to_owned(),
        _ => return Err(Error::invalid("Bearer challenge without a realm")),
    };
    let scopes = raw
        .param("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(Challenge {
        scheme: "Bearer".to_owned(),
        realm: Some(realm),
        service: raw.param("service").map(str::to_owned),
        scopes,
    })
}

/// One challenge as written: the scheme and its parameters (names lower-cased).
#[derive(Debug)]
struct RawChallenge<'a> {
    scheme: &'a str,
    params: Vec<(String, String)>,
}

impl RawChallenge<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn malformed(why: &str) -> Error {
    Error::invalid(format!("malformed WWW-Authenticate header: {why}"))
}

/// Every challenge in the header, in order.
fn parse_all(header: &str) -> Result<Vec<RawChallenge<'_>>> {
    let mut cur = Cursor { s: header, pos: 0 };
    let mut challenges = Vec::new();
    loop {
        cur.skip_list_separators();
        if cur.at_end() {
            break;
        }
        if challenges.len() == MAX_ITEMS {
            return Err(malformed("too many challenges"));
        }
        challenges.push(challenge(&mut cur)?);
    }
    if challenges.is_empty() {
        return Err(malformed("no challenge"));
    }
    Ok(challenges)
}

/// One challenge, leaving the cursor at the end or at the comma before the next.
fn challenge<'a>(cur: &mut Cursor<'a>) -> Result<RawChallenge<'a>> {
    let scheme = cur.token();
    if scheme.is_empty() {
        return Err(malformed("expected an auth scheme"));
    }
    let mut raw = RawChallenge { scheme, params: Vec::new() };
    let spaced = cur.skip_ws();
    if cur.at_end() || cur.peek() == Some(b',') {
        return Ok(raw);
    }
    if !spaced {
        return Err(malformed("no space after the auth scheme"));
    }
    if cur.token68() {
        return end_of_challenge(cur, raw);
    }
    loop {
        let (name, value) = param(cur)?;
        if raw.params.iter().any(|(n, _)| *n == name) {
            return Err(malformed("a parameter is repeated"));
        }
        if raw.params.len() == MAX_ITEMS {
            return Err(malformed("too many parameters"));
        }
        raw.params.push((name, value));
        cur.skip_ws();
        if cur.at_end() {
            return Ok(raw);
        }
        if cur.peek() != Some(b',') {
            return Err(malformed("expected ',' after a parameter"));
        }
        // A comma: another parameter if `name =` follows, else the next challenge.
        let comma = cur.pos;
        cur.skip_list_separators();
        if cur.at_end() || !cur.starts_param() {
            cur.pos = comma;
            return Ok(raw);
        }
    }
}

/// After a token68: nothing but the end or the next challenge.
fn end_of_challenge<'a>(cur: &mut Cursor<'a>, raw: RawChallenge<'a>) -> Result<RawChallenge<'a>> {
    cur.skip_ws();
    if cur.at_end() || cur.peek() == Some(b',') { Ok(raw) } else { Err(malformed("unexpected text after a token68")) }
}

/// `name BWS "=" BWS ( token / quoted-string )`.
fn param(cur: &mut Cursor<'_>) -> Result<(String, String)> {
    let name = cur.token();
    if name.is_empty() {
        return Err(malformed("expected a parameter name"));
    }
    cur.skip_ws();
    if cur.peek() != Some(b'=') {
        return Err(malformed("expected '=' after a parameter name"));
    }
    cur.pos += 1;
    cur.skip_ws();
    let value = if cur.peek() == Some(b'"') {
        cur.quoted_string()?
    } else {
        let v = cur.token();
        if v.is_empty() {
            return Err(malformed("a parameter has no value"));
        }
        v.to_owned()
    };
    Ok((name.to_ascii_lowercase(), value))
}

/// RFC 7235 `token68` characters (before the trailing `=` padding).
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// A position in the header. Every delimiter is ASCII, so the cursor only
/// ever stops on character boundaries; it reads with `get`, never indexes.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    /// Skips spaces and tabs; tells whether there were any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips whitespace and commas (empty list elements are allowed).
    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &'a str {
        let len = self.rest().bytes().take_while(|&b| crate::ascii::is_tchar(b)).count();
        let token = self.rest().get(..len).unwrap_or_default();
        self.pos += len;
        token
    }

    /// Whether a `name =` parameter starts here (without moving).
    fn starts_param(&self) -> bool {
        let mut probe = Cursor { s: self.s, pos: self.pos };
        let named = !probe.token().is_empty();
        probe.skip_ws();
        named && probe.peek() == Some(b'=')
    }

    /// Consumes a token68 when the whole item is one (and not `name=value`).
    fn token68(&mut self) -> bool {
        let rest = self.rest().as_bytes();
        let body = rest.iter().take_while(|&&b| is_token68_char(b)).count();
        let padding = rest.iter().skip(body).take_while(|&&b| b == b'=').count();
        let end = body + padding;
        let ends_item = matches!(rest.get(end), None | Some(b' ' | b'\t' | b','));
        if body == 0 || !ends_item {
            return false;
        }
        self.pos += end;
        true
    }

    /// A quoted string, unescaped: `"` *( qdtext / quoted-pair ) `"`.
    /// Control characters other than tab are refused, escaped or not.
    fn quoted_string(&mut self) -> Result<String> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1); // the opening quote
        while let Some((i, c)) = chars.next() {
            let c = match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => escaped,
                    None => break,
                },
                c => c,
            };
            if c.is_control() && c != '\t' {
                return Err(malformed("control character in a quoted string"));
            }
            out.push(c);
        }
        Err(malformed("unterminated quoted string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>, scopes: &[&str]) -> Challenge {
        Challenge {
            scheme: "Bearer".to_owned(),
            realm: Some(realm.to_owned()),
            service: service.map(str::to_owned),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    const DOCKER_HUB: &str = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull repository:c:pull,push""#;

    #[test]
    fn registry_challenges() {
        assert_eq!(
            parse(DOCKER_HUB).unwrap(),
            bearer(
                "https://auth.docker.io/token",
                Some("registry.docker.io"),
                &["repository:a/b:pull", "repository:c:pull,push"]
            )
        );
        assert_eq!(
            parse(r#"Bearer realm="https://r.test/token",service="r.test",scope="repository:team/app:pull""#).unwrap(),
            bearer("https://r.test/token", Some("r.test"), &["repository:team/app:pull"])
        );
        assert_eq!(parse(r#"Bearer realm="https://r.test/token""#).unwrap(), bearer("https://r.test/token", None, &[]));
    }

    #[test]
    fn rfc7235_syntax() {
        let want = bearer("https://r.test/t", Some("r.test"), &["a", "b"]);
        for header in [
            r#"bearer realm="https://r.test/t",service="r.test",scope="a b""#,
            r#"BEARER Realm="https://r.test/t", SERVICE = "r.test" ,scope="a  b ""#,
            "Bearer\trealm=\"https://r.test/t\",\tservice=r.test, scope=\"a b\"",
            r#"  Bearer realm="https://r.test/t",,service="r.test",scope="a b" , "#,
            r#"Bearer realm="https://r.test/t",service="r\.test",scope="\a b""#,
            r#"Bearer error="invalid_token",realm="https://r.test/t",service="r.test",scope="a b",error_description="x, y=\"z\"""#,
        ] {
            assert_eq!(parse(header).unwrap(), want, "{header}");
        }
        assert_eq!(parse(r#"Bearer realm="a\"b\\c,d""#).unwrap().realm.as_deref(), Some(r#"a"b\c,d"#));
        assert_eq!(parse(r#"Bearer realm="https://r.test/t",scope="""#).unwrap().scopes, Vec::<String>::new());
        assert_eq!(parse("Bearer realm=\"https://r.test/ü\"").unwrap().realm.as_deref(), Some("https://r.test/ü"));
    }

    #[test]
    fn basic_and_multiple_challenges() {
        let basic = parse(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(
            (basic.scheme.as_str(), basic.realm.as_deref(), basic.scopes.len()),
            ("Basic", Some("Registry Realm"), 0)
        );
        assert_eq!(parse("basic").unwrap().scheme, "Basic");
        let want = bearer("y", Some("s"), &[]);
        for header in [
            r#"Basic realm="x", Bearer realm="y",service="s""#,
            r#"Bearer realm="y", service="s", Basic realm="x""#,
            r#"Basic realm="x",Bearer realm="y",service="s""#,
            r#"Negotiate, Basic realm="x", Bearer realm="y", service=s"#,
            r#"Negotiate abc==, Bearer realm="y", service=s"#,
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="x", Bearer realm="y",service="s""#,
        ] {
            assert_eq!(parse(header).unwrap(), want, "{header}");
        }
        // The realm of another challenge is not this one's.
        assert_eq!(parse(r#"Basic realm="https://x", Bearer service="s""#).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn refusals() {
        for header in [
            "",
            "   ",
            ",",
            r#"Bearer service="x""#,
            r#"Bearer realm="""#,
            "Bearer",
            "Bearer abc==",
            r#"Bearer realm="a",realm="b""#,
            r#"Bearer realm="a",REALM="b""#,
            r#"Bearer realm="unterminated"#,
            r#"Bearer realm="a\"#,
            r#"Bearer realm=,service="x""#,
            r#"Bearer realm"#,
            r#"Bearer realm "x""#,
            r#"Bearer"realm="x""#,
            r#"Bearer realm="x" service="y""#,
            r#"Bearer realm="x"junk"#,
            "Bearer realm=\"a\r\nX-Injected: 1\"",
            "Bearer realm=\"a\\\nb\"",
            "Bearer realm=\"a\0\"",
            r#"=realm"#,
            r#"Bearer =x"#,
            r#"Bearer realm="x", ="y""#,
            "Bearer abc== junk",
        ] {
            assert_eq!(parse(header).unwrap_err().kind(), "invalid-input", "{header:?}");
        }
        for header in ["Negotiate", "Digest realm=\"x\", nonce=\"y\"", "Newauth abc=="] {
            assert_eq!(parse(header).unwrap_err().kind(), "unsupported", "{header:?}");
        }
    }

    #[test]
    fn limits() {
        let long = format!(r#"Bearer realm="https://r.test/{}""#, "a".repeat(MAX_HEADER));
        assert_eq!(parse(&long).unwrap_err().kind(), "invalid-input");
        let many_params: String = (0..=MAX_ITEMS).map(|i| format!("p{i}=v,")).collect();
        assert_eq!(parse(&format!("Bearer realm=x,{many_params}")).unwrap_err().kind(), "invalid-input");
        let many_challenges = "Basic, ".repeat(MAX_ITEMS + 1);
        assert_eq!(parse(&many_challenges).unwrap_err().kind(), "invalid-input");
    }

    /// Every prefix and suffix of valid headers, and every single-byte
    /// corruption, parses or fails cleanly: no panic, no slicing off a
    /// character boundary.
    #[test]
    fn never_panics() {
        let headers = [
            DOCKER_HUB,
            r#"Basic realm="x", Bearer realm="ü\"é",service=s , scope="a b""#,
            r#"Newauth abc==, Bearer realm="y", error="a\\b""#,
        ];
        for header in headers {
            for (i, _) in header.char_indices().chain([(header.len(), ' ')]) {
                let _ = parse(&header[..i]);
                let _ = parse(&header[i..]);
            }
            for i in 0..header.len() {
                for b in [b'"', b'\\', b',', b'=', b' ', b'\t', 0, b'\n', b'a'] {
                    let mut bytes = header.as_bytes().to_vec();
                    bytes[i] = b;
                    if let Ok(s) = std::str::from_utf8(&bytes) {
                        let _ = parse(s);
                    }
                }
            }
        }
    }
}
