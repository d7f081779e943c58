//! The conformance cases the flow tests reuse: a flow's requests must be the
//! very requests the matching conformance cases expect, and canned responses
//! are the cases' captured responses.
//!
//! Cases are read from `CLOUDAUTH_CASES` when set and holding the file, else
//! from the shared cases beside the checkout (as the conformance runner
//! does).

use std::path::{Path, PathBuf};

use serde_json::Value;

fn dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CLOUDAUTH_CASES") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"));
    dirs
}

/// One case of a case file, by id.
pub fn case(file: &str, id: &str) -> Value {
    let path = dirs()
        .into_iter()
        .map(|d| d.join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("conformance case file {file} not found (set CLOUDAUTH_CASES)"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no case {id} in {file}"))
}

/// A string input of a case.
pub fn input(file: &str, id: &str, field: &str) -> String {
    case(file, id)["input"][field].as_str().unwrap_or_else(|| panic!("{file} {id}: no string input {field}")).to_owned()
}

/// The request a case expects.
pub fn request(file: &str, id: &str) -> Value {
    let c = case(file, id);
    assert!(c["expect"]["request"].is_object(), "{file} {id} expects no request");
    c["expect"]["request"].clone()
}

/// The captured response of a response case: status and body.
pub fn response(file: &str, id: &str) -> (u16, String) {
    let c = case(file, id);
    let status = c["input"]["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("{file} {id}: no status"));
    let body = c["input"]["body"].as_str().unwrap_or_else(|| panic!("{file} {id}: no body")).to_owned();
    (status, body)
}
