//! The INI dialect of the AWS shared `config` and `credentials` files, read
//! line by line as the Go SDK v2 (`internal/ini`, which Flux's
//! `LoadDefaultConfig` uses) reads it:
//!
//! - blank lines and lines whose first non-blank character is `#` or `;`
//!   are comments;
//! - `[name]` or `[type name]` (e.g. `[profile dev]`) opens a section; the
//!   name is trimmed and one space separates type and name;
//! - `key = value` (or `key: value`, whichever separator comes first) at the
//!   start of a line sets a key, lower-cased; a later value replaces an
//!   earlier one; keys before the first section are ignored;
//! - everything from the first `#` or `;` on a section or key line is a
//!   comment (so a value cannot contain either, as in the Go SDK);
//! - a value wrapped in matching quotes loses them; `\"`, `\'` and `\n`
//!   are unescaped;
//! - an indented `key = value` under a key with an empty value makes it a
//!   nested section (`s3 =` / `  max_concurrent_requests = 10`); under a
//!   key with a value it is dropped; an indented line without a separator
//!   continues a non-empty value (joined with a newline).
//!
//! Anything else is an error naming the line number, never quoting it (the
//! credentials file holds secrets). A trailing CR is dropped from each line,
//! so files written on Windows read the same.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A value: a string, or a nested section (only the first nested key is
/// kept, as in the Go SDK; cloudauth reads no nested keys).
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Nested,
}

impl std::fmt::Debug for Value {
    /// Values may be secrets: only their length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => write!(f, "Text(<{} bytes>)", t.len()),
            Value::Nested => f.write_str("Nested"),
        }
    }
}

/// One section's keys.
pub type Section = BTreeMap<String, Value>;

/// The sections of a file by full name (`profile dev`, `default`, `sso-session x`).
pub type Sections = BTreeMap<String, Section>;

/// Parses a file's text. `path` names the file in errors.
pub fn parse(text: &str, path: &str) -> Result<Sections> {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    let mut key: Option<String> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || is_comment(line) {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if let Some(name) = section_name(line) {
            sections.entry(name.clone()).or_default();
            current = Some(name);
            key = None;
        } else if !indented && let Some((k, v)) = split_property(trim_comment(line).trim_end_matches([' ', '\t'])) {
            let Some(section) = current.as_ref().and_then(|name| sections.get_mut(name)) else {
                continue; // The Go SDK ignores keys outside a section.
            };
            let k = k.to_ascii_lowercase();
            section.insert(k.clone(), Value::Text(unescape(v)));
            key = Some(k);
        } else if indented {
            let Some(value) = current
                .as_ref()
                .and_then(|name| sections.get_mut(name))
                .zip(key.as_ref())
                .and_then(|(section, k)| section.get_mut(k))
            else {
                continue; // Nothing to continue: ignored, as in the Go SDK.
            };
            let content = line.trim_start_matches([' ', '\t']);
            match (value, split_property(content).is_some()) {
                // A sub-property: nests an empty value, else is dropped.
                (value @ Value::Text(_), true) if *value == Value::Text(String::new()) => *value = Value::Nested,
                // A continuation of a non-empty value.
                (Value::Text(t), false) if !t.is_empty() => {
                    t.push('\n');
                    t.push_str(content);
                }
                _ => {}
            }
        } else {
            return Err(Error::invalid(format!(
                "line {} of {path} is not a [section], a key = value line, an indented continuation or a comment",
                index + 1
            )));
        }
    }
    Ok(sections)
}

fn is_comment(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    trimmed.starts_with('#') || trimmed.starts_with(';')
}

/// The text before the first `#` or `;`.
fn trim_comment(line: &str) -> &str {
    line.find(['#', ';']).map_or(line, |i| &line[..i])
}

/// `[ name ]` or `[ type name ]` (after the comment), as `name` or `type name`.
fn section_name(line: &str) -> Option<String> {
    let trimmed = trim_comment(line).trim_end_matches([' ', '\t']);
    let inner = trimmed.strip_prefix('[')?.strip_suffix(']')?.trim();
    Some(match inner.split_once([' ', '\t']) {
        Some((kind, name)) => format!("{kind} {}", name.trim_start_matches([' ', '\t'])),
        None => inner.to_owned(),
    })
}

/// `key = value` or `key: value`, split at whichever comes first, both trimmed.
fn split_property(s: &str) -> Option<(&str, &str)> {
    let at = s.find(['=', ':'])?;
    Some((s[..at].trim(), s[at + 1..].trim()))
}

/// The Go SDK's legacy value conversions: surrounding quotes removed,
/// escaped quotes and `\n` expanded.
fn unescape(value: &str) -> String {
    let quoted = value.len() > 2
        && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')));
    let inner = if quoted { &value[1..value.len() - 1] } else { value };
    inner.replace("\\\"", "\"").replace("\\'", "'").replace("\\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sections: &Sections, section: &str, key: &str) -> Option<String> {
        match sections.get(section)?.get(key)? {
            Value::Text(t) => Some(t.clone()),
            Value::Nested => Some("<nested>".into()),
        }
    }

    /// aws-sdk-go-v2 `internal/ini/testdata/valid/nested_fields` and its
    /// `_expected` table: an empty value followed by indented keys is a
    /// nested section; later sections are unaffected.
    #[test]
    fn go_sdk_nested_fields() {
        let file = "[foo]\naws_access_key_id =\n\taws_secret_access_key = valid\naws_session_token = valid\n[bar]\naws_access_key_id = valid\naws_secret_access_key = valid\naws_session_token = valid\n[baz]\naws_access_key_id = valid\naws_secret_access_key = valid\naws_session_token = valid";
        let s = parse(file, "f").unwrap();
        assert_eq!(s.get("foo").unwrap().get("aws_access_key_id"), Some(&Value::Nested));
        assert_eq!(text(&s, "foo", "aws_session_token").as_deref(), Some("valid"));
        assert_eq!(text(&s, "foo", "aws_secret_access_key"), None);
        for name in ["bar", "baz"] {
            for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] {
                assert_eq!(text(&s, name, key).as_deref(), Some("valid"), "{name}.{key}");
            }
        }
    }

    /// aws-sdk-go-v2 `testdata/valid/op_sep_in_values_expected`: separators
    /// and brackets inside a value stay in the value.
    #[test]
    fn go_sdk_separators_in_values() {
        let file = "[default]\nsepInValue = =:[foo]]bar[\noutput = json\n[assumerole]\nsepInValue==:[foo]]bar[\noutput = json\n";
        let s = parse(file, "f").unwrap();
        for name in ["default", "assumerole"] {
            assert_eq!(text(&s, name, "sepinvalue").as_deref(), Some("=:[foo]]bar["), "{name}");
            assert_eq!(text(&s, name, "output").as_deref(), Some("json"));
        }
    }

    /// aws-sdk-go-v2 `testdata/valid/issue_259` (aligned `=`) and the mixed
    /// case keys table: keys are lower-cased, values kept.
    #[test]
    fn go_sdk_alignment_and_key_case() {
        let file = "[foo-profile]\naws_access_key_id        = accesskey\naws_secret_access_key    = secret\nAWS_Session_Token        = token\nx_principal_arn          = arn:aws:sts::myarn";
        let s = parse(file, "f").unwrap();
        assert_eq!(text(&s, "foo-profile", "aws_access_key_id").as_deref(), Some("accesskey"));
        assert_eq!(text(&s, "foo-profile", "aws_session_token").as_deref(), Some("token"));
        assert_eq!(text(&s, "foo-profile", "x_principal_arn").as_deref(), Some("arn:aws:sts::myarn"));
    }

    #[test]
    fn comments_sections_and_duplicates() {
        let file = "# top\n; also\nglobal = ignored\n[ profile   dev ] ; trailing\nregion = us-west-2 # note\nregion=eu-west-1\n  # indented comment\n[default]\nkey: value\n[profile dev]\nextra = 1\n[DEFAULT]\nA = 1\n";
        let s = parse(file, "f").unwrap();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["DEFAULT", "default", "profile dev"]);
        // A repeated key: the later value; a repeated section: merged.
        assert_eq!(text(&s, "profile dev", "region").as_deref(), Some("eu-west-1"));
        assert_eq!(text(&s, "profile dev", "extra").as_deref(), Some("1"));
        assert_eq!(text(&s, "default", "key").as_deref(), Some("value"));
        assert_eq!(text(&s, "DEFAULT", "a").as_deref(), Some("1"));
        assert!(!s.values().any(|sec| sec.contains_key("global")));
    }

    #[test]
    fn values_quotes_continuations_and_crlf() {
        let file = "[default]\r\nq1 = \"quoted value\"\r\nq2 = 'single'\r\nq3 = \"\"\r\nesc = a\\\"b\\nc\r\nmulti = first\r\n  second = line\r\n\tthird\r\ns3 =\r\n  max_concurrent_requests = 10\r\n  other = 2\r\nafter = x\r\n";
        let s = parse(file, "f").unwrap();
        assert_eq!(text(&s, "default", "q1").as_deref(), Some("quoted value"));
        assert_eq!(text(&s, "default", "q2").as_deref(), Some("single"));
        assert_eq!(text(&s, "default", "q3").as_deref(), Some("\"\""), "two quotes are not a quoted value");
        assert_eq!(text(&s, "default", "esc").as_deref(), Some("a\"b\nc"));
        assert_eq!(text(&s, "default", "multi").as_deref(), Some("first\nthird"));
        assert_eq!(text(&s, "default", "s3").as_deref(), Some("<nested>"));
        assert_eq!(text(&s, "default", "after").as_deref(), Some("x"));
    }

    #[test]
    fn bad_lines_are_errors_without_their_text() {
        for file in [
            "[default]\nthis line has no separator SECRETVALUE\n",
            "[default\n",
            "[default]garbage SECRETVALUE\n",
            "[default]\naws_secret_access_key\n",
        ] {
            let err = parse(file, "/home/u/.aws/credentials").unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{file:?}");
            let message = err.to_string();
            assert!(message.contains("/home/u/.aws/credentials") && message.contains("line "), "{message}");
            assert!(!message.contains("SECRET"), "{message}");
        }
        assert_eq!(parse("", "f").unwrap(), Sections::new());
        assert!(format!("{:?}", parse("[a]\nk = SECRET\n", "f").unwrap()).contains("<6 bytes>"));
    }
}
