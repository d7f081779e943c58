//! Byte-level `str` helpers for hot parsing paths (registry resolution,
//! host checks).
//!
//! Why: in the component (opt-level "z") the generic `core::str` pattern
//! machinery behind `split_once(char)`, `contains([char; N])`,
//! `strip_suffix(char)` or `find(&str)` is not inlined, and a registry
//! resolution spent most of its time in `CharSearcher`, `TwoWaySearcher` and
//! `next_code_point`. These helpers search for one ASCII byte (or an ASCII
//! string) in the bytes instead. An ASCII byte never occurs inside a
//! multi-byte UTF-8 sequence, so every index they split at is a char
//! boundary and each gives exactly what the `str` method it replaces gives,
//! for any input.

/// The index of the first `byte` in `s` (`s.find(byte as char)`).
pub(crate) fn find(s: &str, byte: u8) -> Option<usize> {
    s.as_bytes().iter().position(|&b| b == byte)
}

/// Whether `s` contains `byte`.
pub(crate) fn contains(s: &str, byte: u8) -> bool {
    find(s, byte).is_some()
}

/// `s.split_once(byte as char)`.
pub(crate) fn split_once(s: &str, byte: u8) -> Option<(&str, &str)> {
    let i = find(s, byte)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.rsplit_once(byte as char)`.
pub(crate) fn rsplit_once(s: &str, byte: u8) -> Option<(&str, &str)> {
    let i = s.as_bytes().iter().rposition(|&b| b == byte)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.split_once(separator)` for a non-empty `separator` (`"://"`); None
/// for an empty one. The whole separator is compared only where its first
/// byte is.
pub(crate) fn split_once_str<'a>(s: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let (bytes, sep) = (s.as_bytes(), separator.as_bytes());
    let first = *sep.first()?;
    let i = (0..bytes.len()).find(|&i| bytes[i] == first && bytes[i..].starts_with(sep))?;
    Some((s.get(..i)?, s.get(i + sep.len()..)?))
}

/// `s.strip_prefix(prefix)`.
pub(crate) fn strip_prefix<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.as_bytes().starts_with(prefix.as_bytes()) { s.get(prefix.len()..) } else { None }
}

/// `s.strip_suffix(suffix)`.
pub(crate) fn strip_suffix<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    if s.as_bytes().ends_with(suffix.as_bytes()) { s.get(..s.len() - suffix.len()) } else { None }
}

/// `s.strip_suffix(byte as char).unwrap_or(s)`: one trailing `byte` removed.
pub(crate) fn trim_one_end(s: &str, byte: u8) -> &str {
    match s.as_bytes().last() {
        Some(&b) if b == byte => s.get(..s.len() - 1).unwrap_or(s),
        _ => s,
    }
}

/// The pieces of `s` between `byte`s (`s.split(byte as char)`).
pub(crate) fn split(s: &str, byte: u8) -> Split<'_> {
    Split { rest: Some(s), byte }
}

/// The iterator of [`split`].
pub(crate) struct Split<'a> {
    /// What is left to split; None once the last piece is given.
    rest: Option<&'a str>,
    byte: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once(rest, self.byte) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// RFC 9110 `tchar`, the characters of a token (header names, auth
/// schemes). A `match` rather than a search of the 15 symbols: every header
/// of every signed request is checked with it.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// Whether `s` starts with `byte`.
pub(crate) fn starts_with(s: &str, byte: u8) -> bool {
    s.as_bytes().first() == Some(&byte)
}

/// Whether `host` is strictly under `suffix` at a label boundary: it ends
/// with `.` followed by `suffix` (`a.azurecr.io` is under `azurecr.io`;
/// `azurecr.io` and `xazurecr.io` are not). One comparison at a fixed
/// position, not a search.
pub(crate) fn is_under(host: &str, suffix: &str) -> bool {
    let (host, suffix) = (host.as_bytes(), suffix.as_bytes());
    host.len() > suffix.len() && host.ends_with(suffix) && host.get(host.len() - suffix.len() - 1) == Some(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each helper agrees with the `str` method it replaces.
    #[test]
    fn agree_with_str_methods() {
        let inputs = [
            "",
            "/",
            "//",
            ":",
            "://",
            "a",
            "a/b/c",
            "a:b:c",
            "oci://x/y",
            "a:/b://c",
            ":::///",
            "é/é:é",
            "x\u{2028}/y",
            "a@b@c",
            "host:5000/",
            "ab",
            "abab",
        ];
        for s in inputs {
            for (byte, c) in [(b'/', '/'), (b':', ':'), (b'@', '@'), (b'.', '.')] {
                assert_eq!(find(s, byte), s.find(c), "{s:?}");
                assert_eq!(contains(s, byte), s.contains(c), "{s:?}");
                assert_eq!(split_once(s, byte), s.split_once(c), "{s:?}");
                assert_eq!(rsplit_once(s, byte), s.rsplit_once(c), "{s:?}");
                assert_eq!(trim_one_end(s, byte), s.strip_suffix(c).unwrap_or(s), "{s:?}");
                assert_eq!(starts_with(s, byte), s.starts_with(c), "{s:?}");
                assert_eq!(split(s, byte).collect::<Vec<_>>(), s.split(c).collect::<Vec<_>>(), "{s:?}");
            }
            for pattern in ["://", "/", "ab", "", "é"] {
                if !pattern.is_empty() {
                    assert_eq!(split_once_str(s, pattern), s.split_once(pattern), "{s:?} {pattern:?}");
                }
                assert_eq!(strip_prefix(s, pattern), s.strip_prefix(pattern), "{s:?} {pattern:?}");
                assert_eq!(strip_suffix(s, pattern), s.strip_suffix(pattern), "{s:?} {pattern:?}");
            }
        }
    }

    #[test]
    fn label_aligned_suffixes() {
        assert!(is_under("a.azurecr.io", "azurecr.io"));
        assert!(is_under("a.b.azurecr.io", "azurecr.io"));
        assert!(is_under("a.b", "b"));
        assert!(!is_under("azurecr.io", "azurecr.io"));
        assert!(!is_under("xazurecr.io", "azurecr.io"));
        assert!(!is_under(".azurecr.io", "xazurecr.io"));
        assert!(!is_under("a.azurecr.io.evil", "azurecr.io"));
        assert!(!is_under("io", "azurecr.io"));
        assert!(!is_under("", ""));
        assert!(is_under("a.", ""));
    }

    /// `tchar` is exactly RFC 9110's list: `!#$%&'*+-.^_`|~`, digits and
    /// letters; every other byte, including every non-ASCII one, is not.
    #[test]
    fn tchar_is_the_rfc_set() {
        let rfc = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for b in 0..=u8::MAX {
            assert_eq!(is_tchar(b), rfc.as_bytes().contains(&b), "{b:#04x}");
        }
    }
}
