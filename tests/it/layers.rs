//! The library's layering, read from its source: the command line stays in the binary, rendering
//! and writing know nothing of the readers, and no two library modules import each other
//! through any chain. Each rule names the imports that break it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules of the binary (`main.rs` declares them); every other top-level module is the
/// library's.
const BINARY: [&str; 4] = ["main", "cli", "cmd", "lib"];

/// Top-level module -> module it imports -> where (`file:line`), from `crate::` paths in code
/// outside `#[cfg(test)] mod tests` blocks and comments.
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
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let entry = out.entry(top.clone()).or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            for name in crate_paths(line) {
                if name != top {
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

/// The module names after `crate::` in a line, including those in `crate::{a, b::c}`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
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
