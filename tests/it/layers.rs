//! The library's layering, read from its source: the folders of `src/` are the pipeline's steps
//! and a step imports only earlier steps and the shared leaves (`model`, `text`); the command
//! line stays in the binary; no two library modules import each other through any chain. Each
//! rule names the imports that break it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules of the binary (`main.rs` declares them); every other top-level module is the
/// library's.
const BINARY: [&str; 4] = ["main", "cli", "cmd", "lib"];

/// The pipeline's steps, in order: a folder of `src/` each (`build` is `build.rs` and `build/`).
/// `text` and `model` are the shared leaves: every step may use them, they use no step (`model`
/// uses `text` for the words of its messages). `build`
/// comes late because it runs the whole pipeline: render, the Worker bundle and, with
/// `--events`, the decisions it annotates pages with.
const STEPS: [&str; 9] = [
    "text",
    "model",
    "load",
    "render",
    "collector",
    "read",
    "act",
    "build",
    "agents",
];

/// Modules that sit inside a step's folder under a name of their own (`src/load/config.rs` is
/// the module `config`); any other file of a step folder belongs to the step's own module.
const NAMED: [&str; 28] = [
    "diagnostics",
    "html",
    "number",
    "url",
    "words",
    "error",
    "stage",
    "escape",
    "config",
    "content",
    "partner",
    "site",
    "kits",
    "links",
    "check",
    "output",
    "stamp",
    "events",
    "experiment",
    "funnel",
    "calendar",
    "leads",
    "report",
    "schema",
    "schemas",
    "mcp",
    "model",
    "text",
];

/// The step of a module: the folder it sits in.
fn step_of(module: &str) -> Option<&'static str> {
    let step = match module {
        "diagnostics" | "error" | "output" | "schema" | "stage" | "model" => "model",
        "escape" | "html" | "number" | "url" | "words" | "text" => "text",
        "config" | "content" | "kits" | "partner" | "site" | "load" => "load",
        "links" | "render" => "render",
        "check" | "stamp" | "build" => "build",
        "collector" => "collector",
        "events" | "experiment" | "funnel" | "read" => "read",
        "calendar" | "leads" | "report" | "schemas" | "act" => "act",
        "mcp" | "agents" => "agents",
        _ => return None,
    };
    Some(step)
}

/// The module a file of `src/` belongs to, from its path.
fn module_of(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').map(|p| p.trim_end_matches(".rs")).collect();
    match parts.as_slice() {
        [step, name, ..] if STEPS.contains(step) && NAMED.contains(name) => name.to_string(),
        [first, ..] => first.to_string(),
        [] => String::new(),
    }
}

/// The module a `crate::` path names: `crate::read::funnel::X` and `crate::funnel::X` are both
/// `funnel`.
fn resolve(path: &[String]) -> Option<String> {
    let first = path.first()?;
    match path.get(1) {
        Some(second) if STEPS.contains(&first.as_str()) && NAMED.contains(&second.as_str()) => {
            Some(second.clone())
        }
        _ => Some(first.clone()),
    }
}

/// Module -> module it imports -> where (`file:line`), from `crate::` paths in code outside
/// `#[cfg(test)] mod tests` blocks and comments.
fn imports() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = module_of(&rel);
        let text = std::fs::read_to_string(&file).unwrap();
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let entry = out.entry(module.clone()).or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            for name in crate_paths(line).iter().filter_map(|p| resolve(p)) {
                if name != module {
                    entry
                        .entry(name)
                        .or_default()
                        .push(format!("src/{rel}:{}", n + 1));
                }
            }
        }
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module paths after `crate::` in a line (up to two segments), including those in
/// `crate::{a, b::c}` and `crate::read::{funnel, events}`.
fn crate_paths(line: &str) -> Vec<Vec<String>> {
    fn segment(s: &str) -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    }
    fn group_items(rest: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let end = rest.find('}').unwrap_or(rest.len());
        for item in rest[..end].split(',') {
            let item = item.trim();
            let first = segment(item);
            if first.is_empty() {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(first.clone());
            if prefix.is_empty() {
                if let Some(next) = item[first.len()..].strip_prefix("::") {
                    let second = segment(next);
                    if !second.is_empty() {
                        path.push(second);
                    }
                }
            }
            out.push(path);
        }
    }
    let mut paths = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            group_items(group, &[], &mut paths);
            continue;
        }
        let first = segment(rest);
        if first.is_empty() {
            continue;
        }
        let after = &rest[first.len()..];
        let mut path = vec![first];
        if let Some(next) = after.strip_prefix("::") {
            if let Some(group) = next.strip_prefix('{') {
                let before = paths.len();
                group_items(group, &path, &mut paths);
                if paths.len() == before {
                    paths.push(path); // `crate::cli::{Args, Command}`: items, not modules
                }
                continue;
            }
            let second = segment(next);
            if !second.is_empty() {
                path.push(second);
            }
        }
        paths.push(path);
    }
    paths
}

/// Every import of a later step (or, from a shared leaf, of any step), with its lines.
fn step_violations(imports: &BTreeMap<String, BTreeMap<String, Vec<String>>>) -> Vec<String> {
    let rank = |s: &str| STEPS.iter().position(|x| *x == s).unwrap();
    let mut found = Vec::new();
    for (module, uses) in imports {
        let Some(from) = step_of(module) else {
            continue; // the binary (main, cli, cmd), lib.rs and test helpers
        };
        for (used, at) in uses {
            let Some(to) = step_of(used) else { continue };
            let allowed = match from {
                "text" => to == "text",
                "model" => to == "model" || to == "text",
                _ => to == "model" || to == "text" || rank(to) <= rank(from),
            };
            if !allowed {
                found.push(format!(
                    "{module} (step {from}) uses {used} (step {to}) at {at:?}"
                ));
            }
        }
    }
    found
}

#[test]
fn a_step_imports_only_earlier_steps_and_the_shared_leaves() {
    let imports = imports();
    let found = step_violations(&imports);
    assert!(found.is_empty(), "{found:#?}");
    // The parser sees real edges both ways of writing a path.
    assert!(imports["report"].contains_key("funnel"));
    assert_eq!(
        crate_paths("use crate::read::{funnel, events::Event}; crate::model::error::Error"),
        vec![
            vec!["read".to_string(), "funnel".to_string()],
            vec!["read".to_string(), "events".to_string()],
            vec!["model".to_string(), "error".to_string()],
        ]
    );
    // A planted import of a later step is found, with its line.
    let mut planted = imports.clone();
    planted
        .entry("collector".into())
        .or_default()
        .insert("events".into(), vec!["src/collector/x.rs:1".into()]);
    let found = step_violations(&planted);
    assert!(
        found.iter().any(
            |f| f.contains("collector (step collector) uses events (step read)")
                && f.contains("src/collector/x.rs:1")
        ),
        "{found:#?}"
    );
}

#[test]
fn the_library_does_not_use_the_command_line() {
    let imports = imports();
    let mut found = Vec::new();
    for (module, uses) in &imports {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        for cli in ["cli", "cmd"] {
            if let Some(at) = uses.get(cli) {
                found.push(format!("{module} uses crate::{cli} at {at:?}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    // The parser sees the binary's own imports, so it can find such a line.
    assert!(imports["cmd"].contains_key("cli"));
}

#[test]
fn rendering_and_writing_know_nothing_of_the_readers() {
    let imports = imports();
    let mut found = Vec::new();
    for (module, forbidden) in [
        ("render", &["report", "calendar", "leads"][..]),
        ("output", &["render"][..]),
    ] {
        for f in forbidden {
            if let Some(at) = imports[module].get(*f) {
                found.push(format!("{module} uses crate::{f} at {at:?}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// No strongly connected group of library modules (Tarjan's algorithm over the import graph).
#[test]
fn no_import_cycle_between_library_modules() {
    let imports = imports();
    let library: BTreeSet<&str> = imports
        .keys()
        .map(String::as_str)
        .filter(|m| !BINARY.contains(m) && *m != "test_rng")
        .collect();
    let edges = |m: &str| -> Vec<&str> {
        imports[m]
            .keys()
            .map(String::as_str)
            .filter(|n| library.contains(n))
            .collect()
    };
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, edges: &dyn Fn(&str) -> Vec<&'a str>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in edges(v) {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                group.push(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.cycles.push(group);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        cycles: Vec::new(),
    };
    for m in &library {
        if !state.index.contains_key(m) {
            visit(m, &edges, &mut state);
        }
    }
    let explain: Vec<String> = state
        .cycles
        .iter()
        .flat_map(|group| {
            group.iter().flat_map(|a| {
                let imports = &imports;
                group.iter().filter_map(move |b| {
                    imports[*a]
                        .get(*b)
                        .map(|at| format!("{a} -> {b} at {:?}", &at[..at.len().min(2)]))
                })
            })
        })
        .collect();
    assert!(state.cycles.is_empty(), "import cycles: {explain:#?}");
    // The graph is not empty: the check reads real edges.
    assert!(edges("report").contains(&"funnel"));
}
