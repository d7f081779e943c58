//! The canonical request: the exact text both sides derive from a request
//! and sign. Any byte of difference from what AWS derives is a rejected
//! signature, so each part follows the SigV4 specification (and botocore,
//! where the specification leaves room).

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

use crate::http::{percent_encode, percent_encode_bytes};

/// The canonical URI of a request path.
///
/// `normalize` (every service but S3): remove `.`/`..` segments and empty
/// ones, then URI-encode each segment as given. The path on the wire is
/// already encoded once, so the result is encoded twice, which is what those
/// services compute.
///
/// Otherwise (S3): the path exactly as encoded once, segment by segment, so a
/// `%2F` inside an object key stays one segment.
pub(super) fn uri(path: &str, normalize: bool) -> String {
    if normalize {
        map_segments(&remove_dot_segments(path), percent_encode)
    } else if path.is_empty() {
        "/".to_owned()
    } else {
        map_segments(path, reencode)
    }
}

fn map_segments(path: &str, encode: impl Fn(&str) -> String) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// Removes dot segments and empty segments, keeping a leading and (when any
/// segment is left) a trailing slash, as botocore does for SigV4.
fn remove_dot_segments(path: &str) -> String {
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
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    out
}

/// Decodes what is percent-encoded and encodes it again the SigV4 way:
/// everything but the RFC 3986 unreserved characters, upper-case hex. An
/// input that was never encoded (a raw space, UTF-8) comes out encoded once.
fn reencode(s: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(s).collect();
    percent_encode_bytes(&bytes)
}

/// A query parameter, name and value in canonical encoding. Ordered by name,
/// then value, byte-wise: the canonical query order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Param {
    name: String,
    value: String,
}

impl Param {
    /// A parameter from unencoded text (the ones the signer adds).
    pub fn new(name: &str, value: &str) -> Self {
        Param { name: percent_encode(name), value: percent_encode(value) }
    }

    /// The name, as it goes into the URL.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name=value`, as it goes into the URL.
    pub fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// The parameters of a query string as given (already encoded or not). Empty
/// pieces (`a=1&&b=2`) are dropped; a name without `=` has an empty value.
pub(super) fn query_params(query: &str) -> Vec<Param> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            Param { name: reencode(name), value: reencode(value) }
        })
        .collect()
}

/// The canonical query string: parameters sorted, `name=value` joined by `&`.
pub(super) fn query(mut params: Vec<Param>) -> String {
    params.sort();
    params.iter().map(Param::pair).collect::<Vec<_>>().join("&")
}

/// The canonical headers block and the signed-headers list.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Headers {
    /// `name:value\n` per header, names lower-case and sorted.
    pub canonical: String,
    /// `name;name;...`, the same names.
    pub signed: String,
}

/// Canonicalizes the headers to sign: names lower-cased, values trimmed with
/// inner runs of whitespace collapsed, repeated headers joined with `,` in
/// the order they came.
pub(super) fn headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        by_name.entry(name.to_ascii_lowercase()).or_default().push(value);
    }
    let mut canonical = String::new();
    for (name, values) in &by_name {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(&values.join(","));
        canonical.push('\n');
    }
    let signed = by_name.keys().map(String::as_str).collect::<Vec<_>>().join(";");
    Headers { canonical, signed }
}

/// The canonical request itself.
pub(super) fn request(method: &str, uri: &str, query: &str, headers: &Headers, payload_hash: &str) -> String {
    format!("{method}\n{uri}\n{query}\n{}\n{}\n{payload_hash}", headers.canonical, headers.signed)
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
        assert_eq!(h.canonical, "host:example.amazonaws.com\nmy-header1:value2,value2,value1\nmy-header2:\"a b c\"\n");
        assert_eq!(h.signed, "host;my-header1;my-header2");
    }
}
