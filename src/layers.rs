//! The import rule of ARCHITECTURE.md "Layers", checked: this test reads every
//! `crate::<module>` path in `src/` (comments stripped) and fails on an import
//! the table below does not allow, and on any circle between top-level modules.
//! A module may import only modules of a lower layer, plus the same-layer
//! imports listed in `ALSO`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first.
const LAYERS: &[&[&str]] = &[
    &["clock", "digest", "random", "secret", "telemetry"],
    &["store"],
    &["tokens", "audit"],
    &["config"],
    &["error", "clients", "federation"],
    &["web"],
    &["app"],
    &["oauth", "accounts", "ops"],
    &["delegation", "sweep"],
    &["openapi", "outbox"],
    &["routes"],
    &["startup"],
    &["cli"],
];

/// Imports allowed within one layer: (importer, imported).
const ALSO: &[(&str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `text` names, through `crate::x` and `use crate::{x, ...}`.
fn imported(text: &str) -> BTreeSet<String> {
    let text = without_comments(text);
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name = item.trim().split("::").next().unwrap_or_default();
                found.insert(name.trim().to_string());
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Every import between distinct top-level modules: importer → imported.
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src/");
        let first = relative.components().next().expect("a path");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if ["lib", "main", "layers", "test_rows"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for target in imported(&text) {
            if target != module && layer_of(&target).is_some() {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

fn forbidden(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (from, targets) in edges {
        let Some(from_layer) = layer_of(from) else {
            wrong.push(format!("{from} is in no layer of src/layers.rs"));
            continue;
        };
        for to in targets {
            let to_layer = layer_of(to).expect("only known modules are kept");
            let allowed = to_layer < from_layer || ALSO.contains(&(from.as_str(), to.as_str()));
            if !allowed {
                wrong.push(format!(
                    "{from} (layer {from_layer}) imports {to} (layer {to_layer})"
                ));
            }
        }
    }
    wrong
}

/// A circle through `start`, if any, as the path that closes it.
fn circle_from(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in edges.get(&at).into_iter().flatten() {
            if next == start {
                let mut closed = path.clone();
                closed.push(next.clone());
                return Some(closed);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn every_import_between_top_level_modules_runs_down_the_layers_and_none_closes_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    assert!(edges.len() > 10, "the source tree was not read: {edges:?}");
    let wrong = forbidden(&edges);
    assert!(
        wrong.is_empty(),
        "imports the layers forbid:\n{}",
        wrong.join("\n")
    );
    for module in edges.keys() {
        if let Some(circle) = circle_from(&edges, module) {
            panic!(
                "top-level modules import each other in a circle: {}",
                circle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_rule_catches_an_import_up_the_layers_and_a_circle() {
    let upward: BTreeMap<String, BTreeSet<String>> =
        [("store".to_string(), ["oauth".to_string()].into())].into();
    assert_eq!(
        forbidden(&upward),
        vec!["store (layer 1) imports oauth (layer 7)"]
    );
    let circle: BTreeMap<String, BTreeSet<String>> = [
        ("oauth".to_string(), ["delegation".to_string()].into()),
        ("delegation".to_string(), ["oauth".to_string()].into()),
    ]
    .into();
    assert!(circle_from(&circle, "oauth").is_some());
    let text = "use crate::{web::form::OAuthForm, store};\n// crate::cli in a comment\nlet x = crate::clock::now();";
    let names: Vec<String> = imported(text).into_iter().collect();
    assert_eq!(names, vec!["clock", "store", "web"]);
}
