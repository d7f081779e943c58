//! Every request builder with CR, LF and NUL in each string parameter, and the builders that pick a host with hostile hosts.

use super::*;

impl Probe {
    /// Calls a builder and checks its outcome: a built request or value is
    /// safe to send; an error is clear and shows no secret.
    pub(crate) fn build(&mut self, b: &Builder, values: &[String], what: &str) -> Option<Result<Built, WitError>> {
        let label = format!("{} {what}", b.name);
        let input = values.join(" | ");
        let outcome = self.call(&label, input.as_bytes(), |i| (b.call)(i, values))?;
        match &outcome {
            Ok(Built::Request(r)) => {
                if let Some(problem) = request_problem(r) {
                    self.fail(format!("{label}: unsafe request: {problem}"), input.as_bytes());
                }
            }
            Ok(Built::Text(t)) => {
                if has_control(t) {
                    self.fail(format!("{label}: output with a control character: {t:?}"), input.as_bytes());
                }
            }
            Ok(Built::Texts(ts)) => {
                if let Some(t) = ts.iter().find(|t| t.chars().any(|c| c.is_control() && c != '\t')) {
                    self.fail(format!("{label}: output with a control character: {t:?}"), input.as_bytes());
                }
            }
            Err(e) => self.check_error(&label, input.as_bytes(), e),
        }
        Some(outcome)
    }
}

/// Every builder works with its valid parameters (so that the hostile
/// variants below test the parameter, not a broken baseline).
#[test]
fn builder_baselines_succeed() {
    let mut p = Probe::new("builder_baselines_succeed");
    for b in builders() {
        let values: Vec<String> = b.params.iter().map(|(_, v)| (*v).to_owned()).collect();
        if let Some(Err(e)) = p.build(&b, &values, "with valid parameters") {
            p.fail(format!("{}: the valid call failed: {}", b.name, describe(&e)), values.join(" | ").as_bytes());
        }
    }
    p.finish();
}

/// CR, LF and NUL at the start, middle and end of each string parameter
/// of every builder: `invalid-input`, never a trap, never a request with a
/// split header, never the secret in the error. The C1 control NEL is
/// tried too: refused, or harmless where it stays inside a header value.
#[test]
fn builders_refuse_control_characters_in_every_parameter() {
    const INJECTIONS: &[&str] = &["\r", "\n", "\r\n", "\0", "\r\nX-Injected: yes", "\n\n", "\u{85}"];
    let mut p = Probe::new("builders_refuse_control_characters_in_every_parameter");
    for b in builders() {
        let valid: Vec<String> = b.params.iter().map(|(_, v)| (*v).to_owned()).collect();
        for (n, (name, value)) in b.params.iter().enumerate() {
            let json_text = name.starts_with('~');
            // The middle of JSON text is inside its last string, where a
            // control character is never JSON whitespace.
            let middle = match json_text {
                true => value.rfind('"').unwrap_or(1) - 1,
                false => (1..value.len()).find(|&i| value.is_char_boundary(i) && i >= value.len() / 2).unwrap_or(0),
            };
            for injection in INJECTIONS {
                for (place, at) in [("start", 0), ("middle", middle), ("end", value.len())] {
                    let mut values = valid.clone();
                    values[n].insert_str(at, injection);
                    let what =
                        format!("with {injection:?} at the {place} of the {}", name.trim_start_matches(['*', '~']));
                    let outcome = p.build(&b, &values, &what);
                    // CR and LF outside a JSON string are JSON whitespace;
                    // NEL splits nothing (the built request was checked).
                    let strict = injection.contains(['\r', '\n', '\0']);
                    let json_whitespace = json_text && place != "middle" && !injection.contains(['\0', 'X']);
                    match outcome {
                        Some(Err(e)) if kind(&e) == "invalid-input" => {}
                        Some(Ok(_)) if json_whitespace || !strict => {}
                        Some(other) => {
                            let got = match other {
                                Ok(_) => "success".to_owned(),
                                Err(e) => describe(&e),
                            };
                            p.fail(
                                format!("{} {what}: expected invalid-input, got {got}", b.name),
                                values.join(" | ").as_bytes(),
                            );
                        }
                        None => {}
                    }
                }
            }
        }
    }
    p.finish();
}
