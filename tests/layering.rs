//! The core's modules depend on each other one way only: no two sibling
//! modules import each other, directly or around a loop. A circle makes two
//! modules one concept in two files (neither can be read, tested or moved
//! alone); when one appears, the shared part belongs in a module below both
//! (as `session::outcome` holds what the flows, the identities and the
//! guard all speak).
//!
//! This reads `src/` as text: every `crate::`, `super::` and `self::` path
//! outside comments and test modules is an edge from the file's module to
//! the deepest module the path names. A parent and its own children may use
//! each other (that is how Rust modules re-export and share); between
//! siblings, at every level, edges must form no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `src/lib.rs` is the crate.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| line.split(" // ").next().unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::`, `super::` or `self::` path in `code`, as segments
/// (`use crate::a::{b, c}` gives `crate::a`).
fn paths(code: &str) -> Vec<Vec<&str>> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    for (at, _) in code.match_indices("::") {
        let start = code[..at].trim_end_matches(is_path_char).len();
        let first = &code[start..];
        // Each path once: from its first segment only.
        let first_segment = first.split("::").next().unwrap_or("");
        if start + first_segment.len() != at || !matches!(first_segment, "crate" | "super" | "self") {
            continue;
        }
        let len = first.find(|c: char| !is_path_char(c)).unwrap_or(first.len());
        out.push(first[..len].split("::").filter(|s| !s.is_empty()).collect());
    }
    out
}

/// The deepest known module a path from `from` names.
fn target(from: &Module, path: &[&str], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = match path[0] {
        "crate" => Vec::new(),
        _ => from.clone(),
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        base.pop();
        while rest.first() == Some(&"super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    let full: Module = base.into_iter().chain(rest.iter().map(|s| (*s).to_owned())).collect();
    (0..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| modules.contains(m))
}

/// A cycle among `edges`, if there is one (depth-first search).
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_its_siblings_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    // Edges between siblings, grouped by their parent.
    let mut levels: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        if from.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read source");
        for path in paths(&code(&text)) {
            let Some(to) = target(&from, &path, &modules) else { continue };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // a parent and its descendants
            }
            levels
                .entry(from[..common].to_vec())
                .or_default()
                .entry(from[common].clone())
                .or_default()
                .insert(to[common].clone());
        }
    }
    assert!(levels.values().map(|l| l.len()).sum::<usize>() > 20, "the scan found too few modules: {levels:?}");
    for (parent, edges) in &levels {
        if let Some(found) = cycle(edges) {
            let parent = if parent.is_empty() { "crate".to_owned() } else { parent.join("::") };
            panic!("modules of {parent} import each other in a circle: {}", found.join(" -> "));
        }
    }
}

/// The scan itself: it finds the paths a file uses, resolves them, and
/// reports a circle when there is one.
#[test]
fn the_scan_sees_paths_and_circles() {
    let code = code("use crate::a::b;\n// use crate::c;\nfn f() { super::d::e(); x::y(); } // crate::g\n");
    let found: Vec<String> = paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(found, ["crate::a::b", "super::d::e"]);

    let modules: BTreeSet<Module> =
        [vec![], vec!["s".to_owned()], vec!["s".to_owned(), "d".to_owned()]].into_iter().collect();
    let from = vec!["s".to_owned(), "c".to_owned()];
    assert_eq!(target(&from, &["super", "d", "e"], &modules), Some(vec!["s".to_owned(), "d".to_owned()]));
    assert_eq!(target(&from, &["crate", "s", "x"], &modules), Some(vec!["s".to_owned()]));

    let edge = |a: &str, b: &str| (a.to_owned(), BTreeSet::from([b.to_owned()]));
    assert!(cycle(&BTreeMap::from([edge("a", "b"), edge("b", "c")])).is_none());
    let found = cycle(&BTreeMap::from([edge("a", "b"), edge("b", "c"), edge("c", "a")])).expect("a circle");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4);
}
