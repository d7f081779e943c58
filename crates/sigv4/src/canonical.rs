//! The canonical request: the exact text both sides derive from a request
//! and sign. Any byte of difference from what AWS derives is a rejected
//! signature, so each part follows the SigV4 specification (and botocore,
//! where the specification leaves room).
//!
//! Everything is written into one buffer: the canonical request is built
//! once per signature, on the hot path of a signing proxy, so no part gets a
//! string of its own where appending to the request does.

/// The canonical URI of a request path.
///
/// `normalize` (every service but S3): remove `.`/`..` segments and empty
/// ones, then URI-encode each segment as given. The path on the wire is
/// already encoded once, so the result is encoded twice, which is what those
/// services compute.
///
/// Otherwise (S3): the path exactly as encoded once, segment by segment, so a
/// `%2F` inside an object key stays one segment.
#[cfg(test)]
pub fn uri(path: &str, normalize: bool) -> String {
    let mut out = String::new();
    push_uri(&mut out, path, normalize);
    out
}

/// [`uri`], appended to `out`.
pub fn push_uri(out: &mut String, path: &str, normalize: bool) {
    if normalize {
        push_normalized(out, path);
    } else if path.is_empty() {
        out.push('/');
    } else {
        // `/` is never encoded, so re-encoding the whole path re-encodes
        // each segment and keeps the separators.
        push_reencoded(out, path.as_bytes(), true);
    }
}

/// Removes dot segments and empty segments, keeping a leading and (when any
/// segment is left) a trailing slash, as botocore does for SigV4, and
/// encodes each segment kept.
fn push_normalized(out: &mut String, path: &str) {
    // Segments kept, as ranges of `path`; a short path needs no allocation
    // beyond this one.
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    out.push('/');
    for (i, segment) in kept.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        push_encoded(out, segment.as_bytes());
    }
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
}

/// Whether SigV4 leaves a byte as it is: the RFC 3986 unreserved characters.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn push_byte_encoded(out: &mut String, b: u8) {
    if is_unreserved(b) {
        out.push(char::from(b));
    } else {
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
    }
}

/// Encodes everything but the unreserved characters, upper-case hex.
pub fn push_encoded(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        push_byte_encoded(out, b);
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes what is percent-encoded and encodes it again the SigV4 way:
/// everything but the RFC 3986 unreserved characters, upper-case hex. An
/// input that was never encoded (a raw space, UTF-8) comes out encoded once;
/// a `%` not followed by two hex digits stands for itself. With `keep_slash`
/// a `/` stays as it is (path segments).
fn push_reencoded(out: &mut String, bytes: &[u8], keep_slash: bool) {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).copied().and_then(hex_value), bytes.get(i + 2).copied().and_then(hex_value))
        {
            push_byte_encoded(out, hi << 4 | lo);
            i += 3;
            continue;
        }
        if keep_slash && b == b'/' {
            out.push('/');
        } else {
            push_byte_encoded(out, b);
        }
        i += 1;
    }
}

fn reencoded(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_reencoded(&mut out, s.as_bytes(), false);
    out
}

/// A query parameter, name and value in canonical encoding. Ordered by name,
/// then value, byte-wise: the canonical query order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Param {
    name: String,
    value: String,
}

impl Param {
    /// A parameter from unencoded text (the ones the signer adds).
    pub fn new(name: &str, value: &str) -> Self {
        let encode = |s: &str| {
            let mut out = String::with_capacity(s.len());
            push_encoded(&mut out, s.as_bytes());
            out
        };
        Param { name: encode(name), value: encode(value) }
    }

    /// The name, as it goes into the URL.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends `name=value`, as it goes into the URL.
    pub fn push_pair(&self, out: &mut String) {
        out.push_str(&self.name);
        out.push('=');
        out.push_str(&self.value);
    }
}

/// The parameters of a query string as given (already encoded or not). Empty
/// pieces (`a=1&&b=2`) are dropped; a name without `=` has an empty value.
pub fn query_params(query: &str) -> Vec<Param> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            Param { name: reencoded(name), value: reencoded(value) }
        })
        .collect()
}

/// Appends the canonical query string: parameters sorted, `name=value`
/// joined by `&`.
pub fn push_query(out: &mut String, params: &mut [Param]) {
    params.sort_unstable();
    for (i, param) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        param.push_pair(out);
    }
}

#[cfg(test)]
fn query(mut params: Vec<Param>) -> String {
    let mut out = String::new();
    push_query(&mut out, &mut params);
    out
}

/// The headers to sign, sorted by lower-case name (stably: repeated headers
/// keep the order they came in), and the signed-headers list.
pub struct Headers<'a> {
    sorted: Vec<(&'a str, &'a str)>,
    /// `name;name;...`, lower case, each name once.
    pub signed: String,
}

fn lower_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().map(|b| b.to_ascii_lowercase()).cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// Sorts the headers to sign and lists their names.
pub fn headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers<'a> {
    let mut sorted: Vec<(&str, &str)> = headers.into_iter().collect();
    sorted.sort_by(|a, b| lower_cmp(a.0, b.0));
    let mut signed = String::with_capacity(sorted.iter().map(|(n, _)| n.len() + 1).sum());
    let mut previous: Option<&str> = None;
    for &(name, _) in &sorted {
        if previous.is_some_and(|p| p.eq_ignore_ascii_case(name)) {
            continue;
        }
        if previous.is_some() {
            signed.push(';');
        }
        push_lower(&mut signed, name);
        previous = Some(name);
    }
    Headers { sorted, signed }
}

/// Appends `s` in ASCII lower case. Byte-wise, in place: lowering ASCII
/// keeps UTF-8 valid, and decoding `chars()` here cost 4 % of a signature in
/// the component.
fn push_lower(out: &mut String, s: &str) {
    let start = out.len();
    out.push_str(s);
    out[start..].make_ascii_lowercase();
}

impl Headers<'_> {
    /// Appends the canonical headers block: `name:value\n` per name, names
    /// lower-case, values trimmed with inner runs of whitespace collapsed,
    /// repeated headers joined with `,` in the order they came.
    pub fn push_canonical(&self, out: &mut String) {
        let mut previous: Option<&str> = None;
        for &(name, value) in &self.sorted {
            if previous.is_some_and(|p| p.eq_ignore_ascii_case(name)) {
                out.push(',');
            } else {
                if previous.is_some() {
                    out.push('\n');
                }
                push_lower(out, name);
                out.push(':');
            }
            for (i, word) in value.split_ascii_whitespace().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
            previous = Some(name);
        }
        if previous.is_some() {
            out.push('\n');
        }
    }

    #[cfg(test)]
    fn canonical(&self) -> String {
        let mut out = String::new();
        self.push_canonical(&mut out);
        out
    }

    /// A generous capacity for the canonical block.
    fn capacity(&self) -> usize {
        self.sorted.iter().map(|(n, v)| n.len() + v.len() + 2).sum()
    }
}

/// The canonical request itself, in one buffer: method, URI, query (as
/// [`push_query`] writes it), headers, signed headers and payload hash.
pub fn request(
    method: &str,
    path: &str,
    normalize: bool,
    query: &mut [Param],
    headers: &Headers<'_>,
    payload_hash: &str,
) -> String {
    let query_len: usize = query.iter().map(|p| p.name.len() + p.value.len() + 2).sum();
    let mut out = String::with_capacity(
        method.len()
            + path.len() * 3
            + 1
            + query_len
            + headers.capacity()
            + headers.signed.len()
            + payload_hash.len()
            + 8,
    );
    out.push_str(method);
    out.push('\n');
    push_uri(&mut out, path, normalize);
    out.push('\n');
    push_query(&mut out, query);
    out.push('\n');
    headers.push_canonical(&mut out);
    out.push('\n');
    out.push_str(&headers.signed);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_uri_removes_dots_and_empty_segments() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/../../a", "/a"),
            ("/a/./b/../c/", "/a/c/"),
        ] {
            assert_eq!(uri(path, true), want, "{path:?}");
        }
    }

    #[test]
    fn normalized_uri_encodes_what_it_is_given() {
        assert_eq!(uri("/example space/", true), "/example%20space/");
        assert_eq!(uri("/ሴ", true), "/%E1%88%B4");
        assert_eq!(uri("/example/$delete", true), "/example/%24delete");
        // Already encoded on the wire: encoded a second time.
        assert_eq!(uri("/example%20space/", true), "/example%2520space/");
        let unreserved = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(uri(unreserved, true), unreserved);
    }

    #[test]
    fn s3_uri_keeps_the_path_encoded_once() {
        assert_eq!(uri("", false), "/");
        assert_eq!(uri("//example//", false), "//example//");
        assert_eq!(uri("/example1/example2/../..", false), "/example1/example2/../..");
        assert_eq!(uri("/my-object//example//photo.user", false), "/my-object//example//photo.user");
        assert_eq!(uri("/example space/", false), "/example%20space/");
        assert_eq!(uri("/example%20space/", false), "/example%20space/");
        assert_eq!(uri("/a%2fb/%7e$", false), "/a%2Fb/~%24");
    }

    #[test]
    fn query_is_reencoded_and_sorted_by_name_then_value() {
        let q = |s| query(query_params(s));
        assert_eq!(q(""), "");
        assert_eq!(q("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
        assert_eq!(q("Param1=value2&Param1=Value1"), "Param1=Value1&Param1=value2");
        assert_eq!(q("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"), "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
        assert_eq!(q("ሴ=bar"), "%E1%88%B4=bar");
        assert_eq!(q("Param1"), "Param1=");
        assert_eq!(q("a=&&b"), "a=&b=");
        assert_eq!(q("k=a b+c/d%2f%zz"), "k=a%20b%2Bc%2Fd%2F%25zz");
        assert_eq!(q("%FF=%41"), "%FF=A");
    }

    #[test]
    fn headers_are_lowercased_sorted_trimmed_and_joined() {
        let h = headers([
            ("Host", "example.amazonaws.com"),
            ("My-Header1", "value2"),
            ("My-Header2", "  \"a   b \t c\"  "),
            ("my-header1", "value2"),
            ("MY-HEADER1", " value1 "),
        ]);
        assert_eq!(
            h.canonical(),
            "host:example.amazonaws.com\nmy-header1:value2,value2,value1\nmy-header2:\"a b c\"\n"
        );
        assert_eq!(h.signed, "host;my-header1;my-header2");
    }
}
