//! JSON text exactly as Python's `json.dumps` writes it, for the bodies
//! google-auth sends.
//!
//! google-auth serializes with the defaults: `", "` and `": "` separators,
//! `ensure_ascii=True` (everything outside printable ASCII becomes a
//! lower-case `\uXXXX` escape, non-BMP characters a surrogate pair), keys in
//! insertion order. The STS `options` parameter is that text percent-encoded,
//! so every byte matters: [`redump_object`] re-reads the caller's JSON text and
//! writes it back as `json.dumps(json.loads(text))` would, keeping key order
//! (which a `serde_json::Map` would sort), Python's integer and float forms,
//! and Python's rule that a repeated key keeps its first position and its
//! last value.

use crate::error::{Error, Result};

/// Deepest nesting of objects and arrays accepted in caller JSON.
const MAX_DEPTH: usize = 32;

/// Longest integer Python's `json.loads` converts (its `int` digit limit).
const MAX_INT_DIGITS: usize = 4300;

/// Appends `s` as a JSON string literal, escaped as `ensure_ascii=True` does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for unit in s.encode_utf16() {
        write_unit(out, unit);
    }
    out.push('"');
}

/// Appends a JSON array of strings, `["a", "b"]`.
pub fn write_str_list(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_str(out, item);
    }
    out.push(']');
}

/// One UTF-16 code unit of a string, escaped as Python's `ESCAPE_ASCII` does.
fn write_unit(out: &mut String, unit: u16) {
    match unit {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x20..=0x7e => out.push(char::from(unit as u8)),
        _ => out.push_str(&format!("\\u{unit:04x}")),
    }
}

/// Re-serializes JSON text that must hold an object, as
/// `json.dumps(json.loads(text))` does.
pub fn redump_object(what: &str, text: &str) -> Result<String> {
    let mut parser = Parser { what, text, pos: 0 };
    parser.skip_whitespace();
    if parser.peek() != Some(b'{') {
        return Err(Error::invalid(format!("{what} is not a JSON object")));
    }
    let out = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != text.len() {
        return Err(parser.error("text after the JSON value"));
    }
    Ok(out)
}

/// A strict RFC 8259 reader that writes Python's form as it reads.
struct Parser<'a> {
    what: &'a str,
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, why: &str) -> Error {
        Error::invalid(format!("{} is not valid JSON: {why} at byte {}", self.what, self.pos))
    }

    /// The unread text; empty if `pos` is ever off a character boundary.
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Result<()> {
        match self.bump() {
            Some(b) if b == want => Ok(()),
            _ => Err(self.error(&format!("expected {:?}", char::from(want)))),
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<String> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let mut out = String::new();
                self.string(&mut out)?;
                Ok(out)
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("truncated")),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<String> {
        if !self.rest().starts_with(word) {
            return Err(self.error("unknown literal"));
        }
        self.pos += word.len();
        Ok(word.to_owned())
    }

    fn object(&mut self, depth: usize) -> Result<String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.expect(b'{')?;
        self.skip_whitespace();
        let mut members: Vec<(String, String)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                let mut key = String::new();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a string key"));
                }
                self.string(&mut key)?;
                self.skip_whitespace();
                self.expect(b':')?;
                let value = self.value(depth)?;
                // A dict keeps a repeated key where it first appeared, with the last value.
                match members.iter_mut().find(|(k, _)| *k == key) {
                    Some(member) => member.1 = value,
                    None => members.push((key, value)),
                }
                self.skip_whitespace();
                match self.bump() {
                    Some(b',') => continue,
                    Some(b'}') => break,
                    _ => return Err(self.error("expected ',' or '}'")),
                }
            }
        }
        let mut out = String::from("{");
        for (i, (key, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
        }
        out.push('}');
        Ok(out)
    }

    fn array(&mut self, depth: usize) -> Result<String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.expect(b'[')?;
        self.skip_whitespace();
        let mut out = String::from("[");
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                if out.len() > 1 {
                    out.push_str(", ");
                }
                out.push_str(&self.value(depth)?);
                self.skip_whitespace();
                match self.bump() {
                    Some(b',') => continue,
                    Some(b']') => break,
                    _ => return Err(self.error("expected ',' or ']'")),
                }
            }
        }
        out.push(']');
        Ok(out)
    }

    /// Reads a string literal, writing it re-escaped. Escapes are decoded to
    /// UTF-16 code units and written back one by one, which is what Python
    /// does to surrogate pairs and lone surrogates alike.
    fn string(&mut self, out: &mut String) -> Result<()> {
        self.expect(b'"')?;
        out.push('"');
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(self.error("unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let unit = match self.bump() {
                        Some(b'"') => 0x22,
                        Some(b'\\') => 0x5c,
                        Some(b'/') => 0x2f,
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => 0x0a,
                        Some(b'r') => 0x0d,
                        Some(b't') => 0x09,
                        Some(b'u') => self.hex4()?,
                        _ => return Err(self.error("invalid escape")),
                    };
                    write_unit(out, unit);
                }
                c if u32::from(c) < 0x20 => return Err(self.error("control character in string")),
                c => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        write_unit(out, *unit);
                    }
                }
            }
        }
        out.push('"');
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let digit =
                self.bump().and_then(|b| char::from(b).to_digit(16)).ok_or_else(|| self.error("invalid \\u escape"))?;
            unit = (unit << 4) | digit as u16;
        }
        Ok(unit)
    }

    /// Reads a number: an integer stays as Python's `int` prints it, a
    /// fraction or exponent becomes a `float` printed by `repr`.
    fn number(&mut self) -> Result<String> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.bump() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digits()?;
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digits()?;
            is_float = true;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if is_float {
            let value: f64 = text.parse().map_err(|_| self.error("invalid number"))?;
            return Ok(float_repr(value));
        }
        let digits = text.trim_start_matches('-');
        if digits.len() > MAX_INT_DIGITS {
            return Err(self.error("integer too long"));
        }
        // Python's int has no negative zero.
        Ok(if digits == "0" { digits.to_owned() } else { text.to_owned() })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Result<()> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            return Err(self.error("invalid number"));
        }
        Ok(())
    }
}

/// A float as `json.dumps` writes it: `repr` (shortest round-trip digits,
/// fixed notation for decimal exponents -4..16, else `1e+16` / `1e-05`), and
/// `Infinity` for values that overflowed on reading.
fn float_repr(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exponent) = shortest_digits(value.abs());
    let point = exponent + 1; // digits are 0.d1d2... * 10^point
    let mut out = String::from(sign);
    if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(&format!("e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.unsigned_abs()));
    } else if point <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let point = point as usize;
        if point < digits.len() {
            let (int, frac) = digits.split_at(point);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str(&digits);
            out.push_str(&"0".repeat(point - digits.len()));
            out.push_str(".0");
        }
    }
    out
}

/// The shortest digits that read back as `value` (> 0, finite), and the
/// decimal exponent of the first. Python's `repr` takes, of the shortest
/// forms that read back, the one nearest the exact value (ties to even);
/// serde_json's float writer (Schubfach, `zmij`) picks the same one. Using
/// it instead of core's `{:e}` keeps core's float formatting out of the
/// component (docs/size.md).
fn shortest_digits(value: f64) -> (String, i32) {
    let text = serde_json::Number::from_f64(value).map(|n| n.to_string()).unwrap_or_default();
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    let leading_zeros = (all.len() - significant.len()) as i32;
    (significant.trim_end_matches('0').to_owned(), int.len() as i32 - 1 - leading_zeros + exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digits as core's formatting finds them, rounded to the nearest
    /// when another candidate of that length reads back (what
    /// `shortest_digits` did before it used serde_json's writer).
    fn shortest_digits_by_core(value: f64) -> (String, i32) {
        let split = |scientific: String| -> (String, i32) {
            let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
            (mantissa.chars().filter(char::is_ascii_digit).collect(), exponent.parse().unwrap_or(0))
        };
        let (digits, exponent) = split(format!("{value:e}"));
        let precision = digits.len().saturating_sub(1);
        let nearest = format!("{value:.precision$e}");
        if nearest.parse::<f64>() == Ok(value) { split(nearest) } else { (digits, exponent) }
    }

    #[test]
    fn shortest_digits_agree_with_core_nearest_rounding() {
        // A fixed xorshift sequence of bit patterns, plus edge values.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values = vec![f64::MIN_POSITIVE, f64::MAX, 5e-324, 1e16, 1e15, 9007199254740993.0, 0.1, 1e-5, 1e-4];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(f64::from_bits(x >> 1));
            values.push((x % 1_000_000_007) as f64 / 1000.0);
        }
        for v in values.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
            assert_eq!(shortest_digits(v), shortest_digits_by_core(v), "{v:e}");
        }
    }

    fn redump(text: &str) -> String {
        redump_object("options", text).unwrap()
    }

    #[test]
    fn python_separators_and_key_order() {
        // json.dumps({"userProject": "123", "b": [1, true, null], "a": {}})
        assert_eq!(
            redump(r#"{"userProject":"123","b":[1,true,null],"a":{}}"#),
            r#"{"userProject": "123", "b": [1, true, null], "a": {}}"#
        );
        assert_eq!(redump(" {\n\t\"z\" : 1 , \"a\" : [ ] } "), r#"{"z": 1, "a": []}"#);
        assert_eq!(redump("{}"), "{}");
    }

    #[test]
    fn ensure_ascii_escapes() {
        // json.dumps({"k": "é/\u00e9😀\x7f\x01\"\\\n\t\b\f\r"})
        assert_eq!(
            redump("{\"k\": \"\u{e9}/\\u00e9\u{1F600}\u{7f}\\u0001\\\"\\\\\\n\\t\\b\\f\\r\"}"),
            r#"{"k": "\u00e9/\u00e9\ud83d\ude00\u007f\u0001\"\\\n\t\b\f\r"}"#
        );
        // Escaped printable ASCII comes back unescaped; `\/` becomes `/`.
        assert_eq!(redump(r#"{"\u0041\/": "\uD83D\uDE00"}"#), r#"{"A/": "\ud83d\ude00"}"#);
        // Python keeps lone surrogates.
        assert_eq!(redump(r#"{"k": "\ud800x"}"#), r#"{"k": "\ud800x"}"#);
    }

    #[test]
    fn repeated_keys_keep_first_position_and_last_value() {
        assert_eq!(redump(r#"{"a": 1, "b": 2, "a": 3}"#), r#"{"a": 3, "b": 2}"#);
    }

    #[test]
    fn numbers_as_python_prints_them() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("-12", "-12"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("1.0", "1.0"),
            ("-0.0", "-0.0"),
            ("1.5", "1.5"),
            ("1E5", "100000.0"),
            ("1e15", "1000000000000000.0"),
            ("1e16", "1e+16"),
            ("1.5e300", "1.5e+300"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1.25e-7", "1.25e-07"),
            ("123456789012345678.0", "1.2345678901234568e+17"),
            ("0.1", "0.1"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("1e-400", "0.0"),
            // Two shortest forms read back; Python takes the nearer, ties to even.
            ("1343828553889946.25", "1343828553889946.2"),
            ("1501493317432043.3166737990246292685", "1501493317432043.2"),
            ("34832329703385.312", "34832329703385.312"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ] {
            assert_eq!(redump(&format!("{{\"n\": {input}}}")), format!("{{\"n\": {want}}}"), "{input}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_json_object() {
        let deep = format!("{}{}", "{\"a\":".repeat(40), "}".repeat(40));
        for text in [
            "",
            "null",
            "[]",
            "\"x\"",
            "1",
            "{",
            "{\"a\"}",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{a:1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":-}",
            "{\"a\":1e}",
            "{\"a\":NaN}",
            "{\"a\":Infinity}",
            "{\"a\":tru}",
            "{\"a\":\"\n\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12g4\"}",
            "{\"a\":\"abc",
            "{\"a\":[1 2]}",
            "{'a':1}",
            &deep,
        ] {
            let err = redump_object("options", text).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{text:?}");
        }
        let long = format!("{{\"n\": {}}}", "9".repeat(MAX_INT_DIGITS + 1));
        assert!(redump_object("options", &long).is_err());
    }

    #[test]
    fn string_lists() {
        let mut out = String::new();
        write_str_list(&mut out, &["a".to_owned(), "ü\"".to_owned()]);
        assert_eq!(out, r#"["a", "\u00fc\""]"#);
        out.clear();
        write_str_list(&mut out, &[]);
        assert_eq!(out, "[]");
    }
}
