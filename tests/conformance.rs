//! The conformance runner: every case of `shared/conformance/SPEC.md`,
//! through the built component.
//!
//! ```text
//! CLOUDAUTH_CASES=<dir> CLOUDAUTH_OPS=<regex> cargo test --release --test conformance -- --nocapture
//! ```
//!
//! Reads every `*.json` case file of the directory (default: the shared
//! cases beside the checkout), in name order, and runs each case through a
//! fresh instance of the component in wasmtime. Prints one `FAIL <file>
//! <id>: <what differs>` line per failing case and closes with `N passed, N
//! failed`. Exits non-zero when a case failed, a file names an unknown op,
//! or a file cannot be read or parsed. `CLOUDAUTH_OPS` keeps only the files
//! whose `op` matches (an unanchored regex search).
//!
//! Modules: `case` reads files and inputs, `ops` maps each op onto its WIT
//! call, `compare` checks the result against the expectation.

#[path = "conformance/case.rs"]
mod case;
#[path = "conformance/compare.rs"]
mod compare;
#[path = "conformance/ops/mod.rs"]
mod ops;
mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use regex::Regex;
use serde_json::value::RawValue;

use case::Stop;
use compare::Actual;

fn main() -> ExitCode {
    // Arguments from `cargo test` (`--nocapture`, filters) mean nothing here.
    let dir = match std::env::var_os("CLOUDAUTH_CASES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"),
    };
    let filter = match std::env::var("CLOUDAUTH_OPS") {
        Ok(pattern) => match Regex::new(&pattern) {
            Ok(re) => Some(re),
            Err(e) => {
                eprintln!("conformance: CLOUDAUTH_OPS is not a regex: {e}");
                return ExitCode::from(2);
            }
        },
        Err(_) => None,
    };
    // Build and load the component once, before any case, so that a build
    // failure is reported as such and not as a failure of every case.
    if let Err(e) = catch_unwind(|| drop(support::instantiate())) {
        eprintln!("conformance: cannot load the component: {}", panic_text(&e));
        return ExitCode::from(2);
    }
    eprintln!("conformance: cases from {}", dir.display());

    let mut tally = Tally::default();
    match case_files(&dir) {
        Ok(files) => {
            for file in files {
                run_file(&file, filter.as_ref(), &mut tally);
            }
        }
        Err(e) => tally.fail(&dir.display().to_string(), "-", &format!("cannot read the directory: {e}")),
    }
    if tally.passed + tally.failed == 0 {
        match &filter {
            Some(re) => eprintln!("conformance: no case file's op matches CLOUDAUTH_OPS={re}"),
            None => eprintln!("conformance: no case files in {}", dir.display()),
        }
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn fail(&mut self, file: &str, id: &str, why: &str) {
        println!("FAIL {file} {id}: {why}");
        self.failed += 1;
    }
}

/// The `*.json` files of `dir`, sorted by name.
fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn run_file(path: &Path, filter: Option<&Regex>, tally: &mut Tally) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return tally.fail(&name, "-", &format!("cannot read the file: {e}")),
    };
    // A file that cannot be parsed has no op to filter on: it always fails.
    let file = match case::parse_file(&text) {
        Ok(file) => file,
        Err(e) => return tally.fail(&name, "-", &format!("malformed case file: {e}")),
    };
    if filter.is_some_and(|re| !re.is_match(&file.op)) {
        return;
    }
    let Some(run) = ops::find(&file.op) else {
        let why = format!("unknown op {:?} (known: the {} ops of SPEC.md)", file.op, ops::names().count());
        if file.cases.is_empty() {
            return tally.fail(&name, "-", &why);
        }
        for (index, raw) in file.cases.iter().enumerate() {
            tally.fail(&name, &case::case_id(raw, index), &why);
        }
        return;
    };
    for (index, raw) in file.cases.iter().enumerate() {
        let id = case::case_id(raw, index);
        // `run_case` does not panic on any input; this only keeps a runner
        // bug from losing the summary.
        match catch_unwind(AssertUnwindSafe(|| run_case(run, raw))) {
            Ok(Ok(())) => tally.passed += 1,
            Ok(Err(why)) => tally.fail(&name, &id, &why),
            Err(panic) => tally.fail(&name, &id, &format!("runner panic: {}", panic_text(&panic))),
        }
    }
}

/// Runs one case on a fresh instance: a trap in an earlier case cannot
/// affect it.
fn run_case(
    run: fn(&case::Input, &mut support::Instance) -> Result<Actual, Stop>,
    raw: &RawValue,
) -> Result<(), String> {
    let case = case::parse_case(raw).map_err(|e| format!("malformed case: {e}"))?;
    let mut instance = support::instantiate();
    let actual = match run(&case.input, &mut instance) {
        Ok(actual) => actual,
        Err(Stop::Fail(why)) => return Err(why),
        Err(Stop::Inexpressible(why)) => Actual::Error {
            kind: "invalid-input",
            code: None,
            message: format!("(runner: not expressible in WIT) {why}"),
        },
    };
    compare::check(&case.expect, &actual)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}
