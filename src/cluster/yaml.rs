//! A small, strict reader for the YAML subset that kubeconfig files use:
//! block mappings, block sequences (also "compact", at the indentation of
//! their key) and single-line scalars (plain, single- or double-quoted).
//!
//! A YAML crate would add more to the component than all of cloudauth's AKS
//! code, and only a few values of a kubeconfig matter. So the reader builds a
//! tree of those constructs and turns anything else it meets in a *value*
//! (block and flow collections in flow style, block scalars, multi-line
//! scalars, anchors, aliases, tags) into [`Node::Unsupported`]: the value is
//! skipped by its indentation, and whoever needs it gets a clear error. The
//! structure itself is never guessed at: tabs in indentation, misaligned
//! lines, exotic keys, directives and document markers are errors.
//!
//! Kubeconfigs carry secrets (tokens, client keys), so no error message ever
//! quotes the document: they name line numbers only.

use crate::error::{Error, Result};

/// A parsed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// An empty value, `null` or `~`.
    Null,
    /// A scalar, as text (numbers and booleans are not interpreted).
    Scalar(String),
    /// A block mapping, in document order (duplicates are kept; lookups reject them).
    Map(Vec<(String, Node)>),
    /// A block sequence.
    Seq(Vec<Node>),
    /// A value in a construct the reader does not support, and why.
    Unsupported(&'static str),
}

impl Node {
    /// The value of `key` in a mapping: `Ok(None)` when absent, an error when
    /// this is not a mapping or has the key twice (YAML forbids that; a
    /// reader that picked one would be guessing).
    pub(crate) fn get(&self, key: &str) -> Result<Option<&Node>> {
        let Node::Map(entries) = self else {
            return Err(Error::malformed(format!("kubeconfig: expected a mapping holding {key:?}")));
        };
        let mut found = entries.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        let first = found.next();
        if found.next().is_some() {
            return Err(Error::malformed(format!("kubeconfig: key {key:?} appears twice")));
        }
        Ok(first)
    }

    /// The text of a scalar; `what` names the value in errors.
    pub(crate) fn as_str(&self, what: &str) -> Result<&str> {
        match self {
            Node::Scalar(s) => Ok(s),
            Node::Unsupported(why) => {
                Err(Error::malformed(format!("kubeconfig: {what} uses {why}, which is not supported")))
            }
            _ => Err(Error::malformed(format!("kubeconfig: {what} is not a string"))),
        }
    }
}

/// Deepest nesting read. Kubeconfigs nest about six levels; the cap keeps
/// recursion bounded on hostile input.
const MAX_DEPTH: usize = 24;

/// Parses a document whose root is a mapping. Only the root keys in `wanted`
/// are read; the values of the others are skipped unread (they may hold
/// constructs the reader does not support, and secrets nobody needs).
pub(crate) fn parse_root(text: &str, wanted: &[&str]) -> Result<Node> {
    let lines = lines(text)?;
    let mut parser = Parser { lines, pos: 0 };
    let Some(first) = parser.peek() else {
        return Err(Error::malformed("kubeconfig is empty"));
    };
    if first.indent != 0 || first.is_seq_item() {
        return Err(Error::malformed(format!("kubeconfig line {}: the document is not a mapping", first.number)));
    }
    let root = parser.map(0, None, Some(wanted), 0)?;
    if let Some(line) = parser.peek() {
        return Err(Error::malformed(format!("kubeconfig line {}: unexpected content", line.number)));
    }
    Ok(root)
}

/// One line with content: 1-based number, indentation, text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    /// `- item` or a bare `-`.
    fn is_seq_item(&self) -> bool {
        self.text == "-" || self.text.starts_with("- ")
    }
}

/// Splits into content lines, dropping blank and comment-only lines, and
/// rejects what no kubeconfig needs: control characters, tabs in
/// indentation, directives and document markers.
fn lines(text: &str) -> Result<Vec<Line<'_>>> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let number = i + 1;
        let bad = |why: &str| Err(Error::malformed(format!("kubeconfig line {number}: {why}")));
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return bad("control character");
        }
        let text = line.trim_start_matches(' ');
        let indent = line.len() - text.len();
        if text.starts_with('\t') {
            return bad("tab in indentation");
        }
        if text.trim_end().is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 0 && (text.starts_with("---") || text.starts_with("...") || text.starts_with('%')) {
            return bad("directives and document markers are not supported");
        }
        out.push(Line { number, indent, text: text.trim_end() });
    }
    Ok(out)
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// Skips every following line indented deeper than `indent`: the rest
    /// of a value that is not read.
    fn skip_deeper(&mut self, indent: usize) {
        while self.peek().is_some_and(|l| l.indent > indent) {
            self.pos += 1;
        }
    }

    /// A block (mapping or sequence) whose first line is the next one.
    fn block(&mut self, depth: usize) -> Result<Node> {
        let Some(line) = self.peek() else { return Ok(Node::Null) };
        if depth > MAX_DEPTH {
            self.skip_deeper(line.indent.saturating_sub(1));
            return Ok(Node::Unsupported("nesting too deep"));
        }
        if line.is_seq_item() { self.seq(line.indent, depth) } else { self.map(line.indent, None, None, depth) }
    }

    /// A block mapping at `indent`. `first` is an entry already read from
    /// the line of a sequence item (`- key: value`). With `wanted`, only
    /// those keys' values are read.
    fn map(
        &mut self,
        indent: usize,
        first: Option<(String, Node)>,
        wanted: Option<&[&str]>,
        depth: usize,
    ) -> Result<Node> {
        let mut entries: Vec<(String, Node)> = first.into_iter().collect();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && line.is_seq_item()) {
                break;
            }
            if line.indent > indent {
                return Err(Error::malformed(format!("kubeconfig line {}: unexpected indentation", line.number)));
            }
            let (key, rest) = split_key(line.text)
                .ok_or_else(|| Error::malformed(format!("kubeconfig line {}: expected `key: value`", line.number)))?;
            self.pos += 1;
            if wanted.is_some_and(|w| !w.contains(&key)) {
                self.skip_value(indent);
                continue;
            }
            let value = self.value(rest, indent, depth)?;
            entries.push((key.to_owned(), value));
        }
        Ok(Node::Map(entries))
    }

    /// Skips the value of a key at `indent`: deeper lines, and the items of
    /// a compact sequence at the key's own indentation.
    fn skip_value(&mut self, indent: usize) {
        while self.peek().is_some_and(|l| l.indent > indent || (l.indent == indent && l.is_seq_item())) {
            self.pos += 1;
        }
    }

    /// The value after `key:` on a line at `indent`: inline, or the block
    /// on the following lines.
    fn value(&mut self, rest: &str, indent: usize, depth: usize) -> Result<Node> {
        if rest.is_empty() {
            return match self.peek() {
                Some(next) if next.indent > indent => self.block(depth + 1),
                Some(next) if next.indent == indent && next.is_seq_item() => self.seq(indent, depth + 1),
                _ => Ok(Node::Null),
            };
        }
        Ok(self.inline(rest, indent))
    }

    /// A value written on the line of its key or item. A following line
    /// indented deeper would continue it (a multi-line scalar or flow
    /// collection), which is not supported.
    fn inline(&mut self, text: &str, indent: usize) -> Node {
        let node = scalar(text);
        if self.peek().is_some_and(|l| l.indent > indent) {
            self.skip_deeper(indent);
            if !matches!(node, Node::Unsupported(_)) {
                return Node::Unsupported("a multi-line value");
            }
        }
        node
    }

    /// A block sequence whose items start at `indent`.
    fn seq(&mut self, indent: usize, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            self.skip_value(indent);
            return Ok(Node::Unsupported("nesting too deep"));
        }
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !line.is_seq_item()) {
                break;
            }
            if line.indent > indent {
                return Err(Error::malformed(format!("kubeconfig line {}: unexpected indentation", line.number)));
            }
            self.pos += 1;
            let after_dash = &line.text[1..];
            let rest = after_dash.trim_start_matches(' ');
            // Where the item's content starts: a compact mapping's keys align there.
            let content_indent = indent + 1 + (after_dash.len() - rest.len());
            let item = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.block(depth + 1)?,
                    _ => Node::Null,
                }
            } else if rest == "-" || rest.starts_with("- ") {
                self.skip_deeper(indent);
                Node::Unsupported("a sequence nested on one line")
            } else if let Some((key, value)) = split_key(rest) {
                let value = self.value(value, content_indent, depth + 1)?;
                self.map(content_indent, Some((key.to_owned(), value)), None, depth + 1)?
            } else {
                self.inline(rest, indent)
            };
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
}

/// Splits `key: value` (or `key:`) with a plain key. Quoted, complex and
/// otherwise decorated keys are not kubeconfig's and give None.
fn split_key(text: &str) -> Option<(&str, &str)> {
    if text.starts_with(['"', '\'', '?', '{', '[', '&', '*', '!', '|', '>', '%', '@', '`', '#', '-']) {
        return None;
    }
    let (key, rest) = match text.find(": ") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text.strip_suffix(':')?, ""),
    };
    let key = key.trim_end();
    if key.is_empty() || key.contains(" #") {
        return None;
    }
    Some((key, rest.trim_start()))
}

/// A single-line scalar, or why it is not one this reader supports.
fn scalar(text: &str) -> Node {
    let text = text.trim();
    match text.chars().next() {
        None | Some('#') => Node::Null,
        Some('"') => double_quoted(&text[1..]),
        Some('\'') => single_quoted(&text[1..]),
        Some('|' | '>') => Node::Unsupported("a block scalar"),
        Some('{' | '[') => Node::Unsupported("a flow collection"),
        Some('&' | '*') => Node::Unsupported("an anchor or alias"),
        Some('!') => Node::Unsupported("a tag"),
        Some('@' | '`' | '%') => Node::Unsupported("a reserved indicator"),
        Some(_) => plain(text),
    }
}

/// A plain scalar, without its trailing comment.
fn plain(text: &str) -> Node {
    let end = text.find(" #").or_else(|| text.find("\t#")).unwrap_or(text.len());
    let value = text[..end].trim_end();
    if value.contains(": ") || value.ends_with(':') {
        // `a: b: c` is not YAML; a plain scalar cannot hold `: `.
        return Node::Unsupported("a mapping on one line");
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => Node::Null,
        _ => Node::Scalar(value.to_owned()),
    }
}

/// After the opening `"`: the string up to the closing quote, which must be
/// on this line, followed by nothing but a comment.
fn double_quoted(text: &str) -> Node {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return quoted_end(out, &text[i + 1..]),
            '\\' => {
                let escaped = match chars.next().map(|(_, e)| e) {
                    Some('\\') => '\\',
                    Some('"') => '"',
                    Some('/') => '/',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    _ => return Node::Unsupported("an escape sequence"),
                };
                out.push(escaped);
            }
            c => out.push(c),
        }
    }
    Node::Unsupported("a multi-line value")
}

/// After the opening `'`: the string up to the closing quote (`''` is a quote).
fn single_quoted(text: &str) -> Node {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let Some(i) = rest.find('\'') else { return Node::Unsupported("a multi-line value") };
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                out.push('\'');
                rest = after;
            }
            None => return quoted_end(out, rest),
        }
    }
}

/// What may follow a closing quote: spaces and a comment.
fn quoted_end(value: String, after: &str) -> Node {
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        Node::Scalar(value)
    } else {
        Node::Unsupported("text after a quoted string")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Scalar(v.to_owned())
    }

    fn map(entries: &[(&str, Node)]) -> Node {
        Node::Map(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    fn all(text: &str) -> Result<Node> {
        let keys = ["a", "b", "c", "clusters", "list", "x"];
        parse_root(text, &keys)
    }

    #[test]
    fn mappings_sequences_and_scalars() {
        let doc =
            "a: one\nb:\n  c: two # comment\n  x: 'it''s'\nlist:\n- p\n- q: 1\n  r: \"s\\\"t\"\n-\n  deep: yes\nc: ~\n";
        let got = all(doc).unwrap();
        let want = map(&[
            ("a", s("one")),
            ("b", map(&[("c", s("two")), ("x", s("it's"))])),
            ("list", Node::Seq(vec![s("p"), map(&[("q", s("1")), ("r", s("s\"t"))]), map(&[("deep", s("yes"))])])),
            ("c", Node::Null),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn indented_sequences_and_crlf() {
        let doc = "clusters:\r\n  - name: a\r\n    x: 1\r\n  -   name: b\r\n      x: 2\r\n";
        let got = all(doc).unwrap();
        let want = map(&[(
            "clusters",
            Node::Seq(vec![map(&[("name", s("a")), ("x", s("1"))]), map(&[("name", s("b")), ("x", s("2"))])]),
        )]);
        assert_eq!(got, want);
    }

    #[test]
    fn unwanted_root_keys_are_skipped_unread() {
        let doc = "users:\n- name: u\n  user:\n    token: secret\n    installHint: |2\n\n      text: here\n    flow: {a: [b]}\nx: kept\n";
        assert_eq!(all(doc).unwrap(), map(&[("x", s("kept"))]));
    }

    #[test]
    fn unsupported_values_are_marked_and_skipped() {
        let cases = [
            ("a: |\n  text\n  more\nx: 1\n", "a block scalar"),
            ("a: >-\n  folded\nx: 1\n", "a block scalar"),
            ("a: {k: v}\nx: 1\n", "a flow collection"),
            ("a: [1, 2]\nx: 1\n", "a flow collection"),
            ("a: &anchor v\nx: 1\n", "an anchor or alias"),
            ("a: *alias\nx: 1\n", "an anchor or alias"),
            ("a: !!str v\nx: 1\n", "a tag"),
            ("a: plain\n  continued\nx: 1\n", "a multi-line value"),
            ("a: \"open\n  close\"\nx: 1\n", "a multi-line value"),
            ("a: 'open\nx: 1\n", "a multi-line value"),
            ("a: \"\\u0041\"\nx: 1\n", "an escape sequence"),
            ("a: \"q\" tail\nx: 1\n", "text after a quoted string"),
            ("a: b: c\nx: 1\n", "a mapping on one line"),
        ];
        for (doc, why) in cases {
            let node = all(doc).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
            assert_eq!(node.get("a").unwrap(), Some(&Node::Unsupported(why)), "{doc:?}");
            assert_eq!(node.get("x").unwrap(), Some(&s("1")), "{doc:?}");
            let err = node.get("a").unwrap().unwrap().as_str("a").unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
    }

    #[test]
    fn structural_errors() {
        for doc in [
            "",
            "\n# only a comment\n",
            "- a\n- b\n",
            "  a: 1\n",
            "a: 1\n\tb: 2\n",
            "a:\n\t- b\n",
            "---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.2\na: 1\n",
            "a: 1\nnot a key\n",
            "\"quoted\": 1\n",
            "? complex\n",
            "{\"current-context\": \"c\"}\n",
            "a: 1\u{0}\n",
            "a: 1\u{1b}[31m\n",
            "a:\n  - x\n  b: 1\n",
        ] {
            let err = all(doc).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{doc:?}");
        }
    }

    #[test]
    fn errors_name_lines_not_content() {
        let err = all("a: 1\ntoken-is-secret\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn duplicate_keys_are_rejected_on_lookup() {
        let node = all("a: 1\na: 2\n").unwrap();
        assert!(node.get("a").is_err());
        assert!(s("x").get("a").is_err());
        assert!(map(&[]).get("a").unwrap().is_none());
        assert!(map(&[("a", Node::Seq(vec![]))]).get("a").unwrap().unwrap().as_str("a").is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut doc = String::from("a:\n");
        for i in 1..200 {
            doc.push_str(&" ".repeat(i));
            doc.push_str("k:\n");
        }
        doc.push_str("x: 1\n");
        let node = all(&doc).unwrap();
        assert_eq!(node.get("x").unwrap(), Some(&s("1")));
        let mut seqs = String::from("a:\n");
        for i in 0..200 {
            seqs.push_str(&" ".repeat(i * 2));
            seqs.push_str("-\n");
        }
        seqs.push_str("x: 1\n");
        assert_eq!(all(&seqs).unwrap().get("x").unwrap(), Some(&s("1")));
    }

    #[test]
    fn scalars() {
        assert_eq!(scalar("https://h:443 # c"), s("https://h:443"));
        assert_eq!(scalar("a#b"), s("a#b"));
        assert_eq!(scalar("null"), Node::Null);
        assert_eq!(scalar("\"\""), s(""));
        assert_eq!(scalar("'a''b' # c"), s("a'b"));
        assert_eq!(scalar("\"a\\\\b\\/c\""), s("a\\b/c"));
        assert_eq!(scalar("\"tail\\"), Node::Unsupported("an escape sequence"));
        assert_eq!(split_key("key:"), Some(("key", "")));
        assert_eq!(split_key("k:v"), None);
        assert_eq!(split_key("- a: b"), None);
        assert_eq!(split_key(": v"), None);
    }
}
