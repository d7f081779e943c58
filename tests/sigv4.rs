//! Runs the official AWS Signature Version 4 test suites through the built
//! component (`sigv4` interface), as SPEC.md ("SigV4 suites") asks:
//!
//! ```text
//! cargo test --release --test sigv4 -- --nocapture
//! CLOUDAUTH_SIGV4=<dir> cargo test --release --test sigv4 -- --nocapture
//! ```
//!
//! `<dir>` (default `<workspace>/../shared/conformance/sigv4`) is either one
//! suite or a folder of suites. Two layouts are understood, wherever the
//! case folders sit below a suite:
//! - aws-c-auth (`context.json`, `request.txt`, `header-*` and `query-*`
//!   expectations): each case runs twice, header signing and presigning;
//! - botocore's aws4_testsuite (`NAME/NAME.req`, `.creq`, `.sts`, `.authz`,
//!   `.sreq`): header signing. These files carry no context: the access key,
//!   time, region and service are read from the expected `.authz` and `.sts`,
//!   the session token from the `.sreq`, and the secret is the suite's
//!   published example key.
//!
//! Each run compares the canonical request, the string to sign, the
//! signature and the signed request, prints `FAIL <suite>/<case>: <what
//! differs>` or `SKIP <suite>/<case>: <reason>`, and ends with
//! `sigv4: N passed, N failed, N skipped`. It exits non-zero on any failure
//! or when it finds no case. The only skips are the four botocore's own
//! runner skips (`CLOUDAUTH_SIGV4_NO_SKIP=1` runs them too).

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::api::sigv4::{Signed, SigningParams};
use support::api::types::{AwsCredentials, Error as WitError, HttpRequest};

/// The secret of the suites' `AKIDEXAMPLE` key (public AWS example).
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The cases botocore's `tests/unit/auth/test_sigv4.py` skips, and why.
const BOTOCORE_SKIPS: &[(&str, &str)] = &[
    ("normalize-path/get-space", "botocore skips it: Python's HTTP parser rejects the request line"),
    ("get-vanilla-query-order-key-case", "botocore skips it: repeated query keys are not supported by the SDKs"),
    ("get-vanilla-query-order-key", "botocore skips it: repeated query keys are not supported by the SDKs"),
    ("get-vanilla-query-order-value", "botocore skips it: repeated query keys are not supported by the SDKs"),
];

fn main() {
    let root = std::env::var_os("CLOUDAUTH_SIGV4")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/sigv4"));
    let no_skip = std::env::var_os("CLOUDAUTH_SIGV4_NO_SKIP").is_some();

    let cases = match discover(&root) {
        Ok(cases) => cases,
        Err(e) => {
            println!("FAIL {}: {e}", root.display());
            println!("sigv4: 0 passed, 1 failed");
            std::process::exit(1);
        }
    };

    let mut instance = support::instantiate();
    let mut tally = Tally::default();
    for case in &cases {
        let label = format!("{}/{}", case.suite, case.name);
        match case.layout {
            Layout::CAuth => {
                for mode in [Mode::Header, Mode::Query] {
                    if case.dir.join(mode.file("canonical-request.txt")).exists() {
                        let label = format!("{label}/{}", mode.name());
                        tally.record(&label, run_c_auth(&mut instance, &case.dir, mode));
                    }
                }
            }
            Layout::Botocore => {
                let skip = BOTOCORE_SKIPS.iter().find(|(name, _)| *name == case.name);
                match skip {
                    Some((_, reason)) if !no_skip => {
                        println!("SKIP {label}: {reason}");
                        tally.skipped += 1;
                    }
                    _ => tally.record(&label, run_botocore(&mut instance, &case.dir)),
                }
            }
        }
    }

    println!("sigv4: {} passed, {} failed, {} skipped", tally.passed, tally.failed, tally.skipped);
    if tally.failed > 0 || tally.passed == 0 {
        std::process::exit(1);
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Tally {
    fn record(&mut self, label: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(why) => {
                println!("FAIL {label}: {why}");
                self.failed += 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Finding the cases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    CAuth,
    Botocore,
}

struct Case {
    suite: String,
    /// Path of the case folder below its suite, `/`-separated.
    name: String,
    dir: PathBuf,
    layout: Layout,
}

fn layout_of(dir: &Path) -> Option<Layout> {
    if dir.join("context.json").is_file() && dir.join("request.txt").is_file() {
        return Some(Layout::CAuth);
    }
    let base = dir.file_name()?.to_str()?;
    dir.join(format!("{base}.req")).is_file().then_some(Layout::Botocore)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs)
}

/// `root` is one suite when it has its own LICENSE/NOTICE or case folders
/// right below it; otherwise each folder below it is a suite.
fn discover(root: &Path) -> Result<Vec<Case>, String> {
    let children = subdirs(root)?;
    let is_suite = root.join("LICENSE").exists()
        || root.join("NOTICE").exists()
        || children.iter().any(|d| layout_of(d).is_some());
    let suites = if is_suite { vec![root.to_path_buf()] } else { children };
    let mut cases = Vec::new();
    for suite in suites {
        let suite_name = suite
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| suite.display().to_string());
        collect_cases(&suite, &suite, &suite_name, &mut cases)?;
    }
    if cases.is_empty() {
        return Err("no SigV4 suite case found".into());
    }
    Ok(cases)
}

fn collect_cases(suite: &Path, dir: &Path, suite_name: &str, out: &mut Vec<Case>) -> Result<(), String> {
    for sub in subdirs(dir)? {
        match layout_of(&sub) {
            Some(layout) => {
                let rel = sub.strip_prefix(suite).unwrap_or(&sub);
                let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push(Case { suite: suite_name.to_owned(), name, dir: sub, layout });
            }
            None => collect_cases(suite, &sub, suite_name, out)?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Raw HTTP requests as the suites write them

/// A request in the suites' text form: request line, headers (with
/// obs-fold continuation lines), blank line, body.
#[derive(Debug)]
struct RawRequest {
    method: String,
    /// The request target as written: path and query, unencoded characters
    /// included (`/example space/`, `/ሴ`).
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.replace("\r\n", "\n");
        let (head, body) = match text.split_once("\n\n") {
            Some((head, body)) => (head, body),
            None => (text.trim_end_matches('\n'), ""),
        };
        let mut lines = head.split('\n');
        let request_line = lines.next().unwrap_or_default();
        // The target may hold spaces (get-space): method first, version last.
        let (method, rest) = request_line.split_once(' ').ok_or("request line has no target")?;
        let (target, version) = rest.rsplit_once(' ').ok_or("request line has no HTTP version")?;
        if !version.starts_with("HTTP/") {
            return Err(format!("request line ends with {version:?}, not an HTTP version"));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // obs-fold: the line continues the previous value, joined by one space.
                let (_, value) = headers.last_mut().ok_or("continuation line before any header")?;
                value.push(' ');
                value.push_str(line.trim());
            } else {
                let (name, value) = line.split_once(':').ok_or_else(|| format!("header line {line:?} has no colon"))?;
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        Ok(RawRequest { method: method.to_owned(), target: target.to_owned(), headers, body: body.as_bytes().to_vec() })
    }

    fn host(&self) -> Result<&str, String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| "request has no Host header".to_owned())
    }

    /// The component's request: `https://<Host>` and the target, raw.
    fn to_wit(&self) -> Result<HttpRequest, String> {
        Ok(HttpRequest {
            method: self.method.clone(),
            url: format!("https://{}{}", self.host()?, self.target),
            headers: self.headers.clone(),
            body: self.body.clone(),
        })
    }
}

/// Headers by lower-case name, values in order: header order across names
/// is free (the SDKs differ), order within a name is signed.
fn header_map(headers: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        map.entry(name.to_ascii_lowercase()).or_default().push(value.clone());
    }
    map
}

// ---------------------------------------------------------------------------
// Running a case

#[derive(Clone, Copy)]
enum Mode {
    Header,
    Query,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Header => "header",
            Mode::Query => "query",
        }
    }

    fn file(self, what: &str) -> String {
        format!("{}-{what}", self.name())
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path)
        .map(|s| s.replace("\r\n", "\n"))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// An expected text value (canonical request, string to sign, signature):
/// the file without its trailing newlines.
fn read_value(path: &Path) -> Result<String, String> {
    Ok(read(path)?.trim_end_matches('\n').to_owned())
}

fn credentials(access_key_id: String, secret_access_key: String, session_token: Option<String>) -> AwsCredentials {
    AwsCredentials { access_key_id, secret_access_key, session_token, expires_at: None }
}

fn call(
    instance: &mut support::Instance,
    request: &HttpRequest,
    params: &SigningParams,
    presign_expires: Option<u32>,
) -> Result<Signed, String> {
    let iface = instance.api.cloudauth_auth_sigv4();
    let result = match presign_expires {
        None => iface.call_sign_request(&mut instance.store, request, params),
        Some(expires) => iface.call_presign_request(&mut instance.store, request, params, expires),
    };
    let signed = match result {
        Ok(Ok(signed)) => signed,
        Ok(Err(e)) => return Err(format!("component refused: {}", describe_error(&e))),
        Err(trap) => return Err(format!("component trapped: {trap:#}")),
    };
    if presign_expires.is_none() {
        check_sign_headers(instance, request, params, &signed)?;
    }
    Ok(signed)
}

/// `sign-headers` on the same input: its headers, set on the request
/// (replacing same-named ones), must give `sign-request`'s headers exactly,
/// in order.
fn check_sign_headers(
    instance: &mut support::Instance,
    request: &HttpRequest,
    params: &SigningParams,
    signed: &Signed,
) -> Result<(), String> {
    let set = match instance.api.cloudauth_auth_sigv4().call_sign_headers(&mut instance.store, request, params) {
        Ok(Ok(set)) => set,
        Ok(Err(e)) => return Err(format!("sign-headers refused what sign-request signed: {}", describe_error(&e))),
        Err(trap) => return Err(format!("sign-headers trapped: {trap:#}")),
    };
    let mut applied = request.headers.clone();
    support::set_headers(&mut applied, set);
    if applied != signed.request.headers {
        return Err(format!(
            "sign-headers set on the request gives {applied:?}, sign-request gave {:?}",
            signed.request.headers
        ));
    }
    Ok(())
}

fn describe_error(e: &WitError) -> String {
    match e {
        WitError::InvalidInput(m) => format!("invalid-input: {m}"),
        WitError::Unsupported(m) => format!("unsupported: {m}"),
        WitError::HttpStatus(s) => format!("http-status {}", s.status),
        WitError::MalformedResponse(m) => format!("malformed-response: {m}"),
    }
}

/// Compares texts, naming the first differing line.
fn compare_text(what: &str, expected: &str, actual: &str) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let (mut e, mut a) = (expected.split('\n'), actual.split('\n'));
    for line in 1.. {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                return Err(format!(
                    "{what} differs at line {line}: expected {:?}, got {:?}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                ));
            }
        }
    }
    unreachable!()
}

/// The signing intermediates, then the signed request against the suite's
/// text form of it.
fn compare_signed(
    signed: &Signed,
    creq: &str,
    sts: &str,
    signature: &str,
    expected: &RawRequest,
    mode: Mode,
) -> Result<(), String> {
    compare_text("canonical request", creq, &signed.canonical_request)?;
    compare_text("string to sign", sts, &signed.string_to_sign)?;
    compare_text("signature", signature, &signed.signature)?;

    let actual = &signed.request;
    if actual.method != expected.method {
        return Err(format!("signed request method: expected {}, got {}", expected.method, actual.method));
    }
    let prefix = format!("https://{}", expected.host()?);
    let target = actual
        .url
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("signed request URL {:?} does not start with {prefix:?}", actual.url))?;
    match mode {
        // The URL is not touched by header signing.
        Mode::Header => {
            if target != expected.target {
                return Err(format!("signed request target: expected {:?}, got {target:?}", expected.target));
            }
        }
        // Parameter order differs between SDKs (aws-c-auth puts
        // X-Amz-SignedHeaders before X-Amz-Expires, botocore after): the
        // path must match and the parameters as a multiset.
        Mode::Query => {
            let split = |t: &str| -> (String, Vec<String>) {
                let (path, query) = t.split_once('?').unwrap_or((t, ""));
                let mut params: Vec<String> = query.split('&').filter(|p| !p.is_empty()).map(str::to_owned).collect();
                params.sort();
                (path.to_owned(), params)
            };
            let (want, got) = (split(&expected.target), split(target));
            if want != got {
                return Err(format!("signed request target: expected {:?}, got {target:?}", expected.target));
            }
        }
    }
    let (want, got) = (header_map(&expected.headers), header_map(&actual.headers));
    if want != got {
        let names: Vec<&String> = want.keys().chain(got.keys()).collect();
        for name in names {
            if want.get(name) != got.get(name) {
                return Err(format!(
                    "signed request header {name}: expected {:?}, got {:?}",
                    want.get(name),
                    got.get(name)
                ));
            }
        }
    }
    if actual.body != expected.body {
        return Err(format!(
            "signed request body: expected {:?}, got {:?}",
            String::from_utf8_lossy(&expected.body),
            String::from_utf8_lossy(&actual.body)
        ));
    }
    Ok(())
}

fn run_c_auth(instance: &mut support::Instance, dir: &Path, mode: Mode) -> Result<(), String> {
    let context: Value =
        serde_json::from_str(&read(&dir.join("context.json"))?).map_err(|e| format!("context.json: {e}"))?;
    let text = |v: &Value, key: &str| -> Result<String, String> {
        v.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("context.json: no string {key:?}"))
    };
    let flag = |key: &str| context.get(key).and_then(Value::as_bool).unwrap_or(false);
    let creds = context.get("credentials").ok_or("context.json: no credentials")?;
    let timestamp = text(&context, "timestamp")?;
    let now = cloudauth::time::parse_rfc3339(&timestamp).map_err(|e| format!("context.json timestamp: {e}"))?;
    let params = SigningParams {
        credentials: credentials(
            text(creds, "access_key_id")?,
            text(creds, "secret_access_key")?,
            creds.get("token").and_then(Value::as_str).map(str::to_owned),
        ),
        region: text(&context, "region")?,
        service: text(&context, "service")?,
        now,
        normalize_path: flag("normalize"),
        sign_body_header: flag("sign_body"),
        unsigned_headers: Vec::new(),
        omit_session_token: flag("omit_session_token"),
    };
    let expires = match mode {
        Mode::Header => None,
        Mode::Query => {
            let secs = context
                .get("expiration_in_seconds")
                .and_then(Value::as_u64)
                .ok_or("context.json: no expiration_in_seconds")?;
            Some(u32::try_from(secs).map_err(|_| "context.json: expiration_in_seconds too large")?)
        }
    };

    let request = RawRequest::parse(&read(&dir.join("request.txt"))?).map_err(|e| format!("request.txt: {e}"))?;
    let expected = RawRequest::parse(&read(&dir.join(mode.file("signed-request.txt")))?)
        .map_err(|e| format!("{}: {e}", mode.file("signed-request.txt")))?;
    let signed = call(instance, &request.to_wit()?, &params, expires)?;
    compare_signed(
        &signed,
        &read_value(&dir.join(mode.file("canonical-request.txt")))?,
        &read_value(&dir.join(mode.file("string-to-sign.txt")))?,
        &read_value(&dir.join(mode.file("signature.txt")))?,
        &expected,
        mode,
    )
}

fn run_botocore(instance: &mut support::Instance, dir: &Path) -> Result<(), String> {
    let base = dir.file_name().and_then(|n| n.to_str()).ok_or("case folder name is not UTF-8")?;
    let file = |ext: &str| dir.join(format!("{base}.{ext}"));
    let creq = read_value(&file("creq"))?;
    let sts = read_value(&file("sts"))?;
    let authz = read_value(&file("authz"))?;
    let mut expected = RawRequest::parse(&read(&file("sreq"))?).map_err(|e| format!("`.sreq`: {e}"))?;

    // Context from the expectations: `.sts` line 2 is the time, line 3 the
    // scope `date/region/service/aws4_request`; `.authz` names the key.
    let sts_lines: Vec<&str> = sts.split('\n').collect();
    let (amz_date, scope) = match sts_lines.as_slice() {
        [_, date, scope, _] => (*date, *scope),
        _ => return Err("`.sts` is not four lines".into()),
    };
    let (region, service) = match scope.split('/').collect::<Vec<_>>().as_slice() {
        [_, region, service, "aws4_request"] => (region.to_string(), service.to_string()),
        _ => {
            return Err(format!("`.sts` scope {scope:?} is not date/region/service/aws4_request"));
        }
    };
    let now = parse_amz_date(amz_date)?;
    let access_key_id = authz
        .split_once("Credential=")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(akid, _)| akid.to_owned())
        .ok_or("`.authz` has no Credential=")?;
    let signature = authz.rsplit_once("Signature=").map(|(_, s)| s.to_owned()).ok_or("`.authz` has no Signature=")?;
    // A token in the signed request is signed when the canonical request
    // lists it, else added after signing (post-sts-header-after).
    let token =
        expected.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token")).map(|(_, v)| v.clone());
    let omit_token = token.is_some() && !creq.contains("\nx-amz-security-token:");

    let params = SigningParams {
        credentials: credentials(access_key_id, SUITE_SECRET.to_owned(), token),
        region,
        service,
        now,
        // The suite is for SigV4 as every service but S3 uses it.
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: Vec::new(),
        omit_session_token: omit_token,
    };
    let request = RawRequest::parse(&read(&file("req"))?).map_err(|e| format!("`.req`: {e}"))?;
    let signed = call(instance, &request.to_wit()?, &params, None)?;
    // `.authz` is the value botocore's runner checks. The `.sreq` copy is not
    // always right: get-vanilla-with-session-token's carries get-vanilla's
    // signature. So the signed request must hold the `.authz` value.
    for (name, value) in &mut expected.headers {
        if name.eq_ignore_ascii_case("authorization") {
            value.clone_from(&authz);
        }
    }
    compare_signed(&signed, &creq, &sts, &signature, &expected, Mode::Header)
}

/// `YYYYMMDDTHHMMSSZ` to Unix seconds.
fn parse_amz_date(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(format!("{s:?} is not YYYYMMDDTHHMMSSZ"));
    }
    let rfc3339 = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    cloudauth::time::parse_rfc3339(&rfc3339).map_err(|e| e.to_string())
}
