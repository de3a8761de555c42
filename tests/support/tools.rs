//! Helpers that run an external program (Python, Java, Node, wrangler): only the e2e target
//! includes this module, so a plain `cargo test` cannot depend on a tool by accident.

use crate::support::repo_root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A required external tool. Missing -> the test fails with a clear message (never a silent
/// pass). `bash scripts/test` installs every tool the tests need.
pub(crate) fn require_tool(name: &str, hint: &str) -> PathBuf {
    let local = repo_root().join("node_modules/.bin").join(name);
    if local.exists() {
        if name == "wrangler" {
            assert_wrangler_patched();
        }
        return local;
    }
    if let Ok(out) = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
    {
        if out.status.success() {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!("required test component `{name}` is missing: {hint}. Run `bash scripts/test`, which installs it.");
}

/// The pinned wrangler's dev proxy, as `scripts/patch-wrangler.mjs` leaves it: unpatched, a
/// request that loses its pooled connection to the Worker hangs silently until the browser's
/// timeout.
fn assert_wrangler_patched() {
    let proxy = repo_root().join("node_modules/wrangler/wrangler-dist/ProxyWorker.js");
    let text = std::fs::read_to_string(&proxy).unwrap_or_default();
    assert!(
        text.contains("partner-pages patch: dev proxy connection loss"),
        "{} is not patched: run `node scripts/patch-wrangler.mjs` (or `bash scripts/test`, which does)",
        proxy.display()
    );
}

/// Validate the JSON `document` against the committed schema `schemas/<schema>` with Python's
/// `jsonschema` (draft 2020-12, formats checked; `tests/py/validate_json.py`). Returns the
/// validator's error lines, empty when the document is valid.
pub(crate) fn schema_errors(schema: &str, document: &str) -> String {
    let python = require_tool(
        "python3",
        "Python 3 with jsonschema (tests/requirements.txt)",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("document.json");
    std::fs::write(&file, document).expect("write the JSON document");
    let out = Command::new(python)
        .arg(repo_root().join("tests/py/validate_json.py"))
        .arg(repo_root().join("schemas").join(schema))
        .arg(&file)
        .output()
        .expect("run tests/py/validate_json.py");
    let errors = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => String::new(),
        Some(1) if !errors.trim().is_empty() => errors,
        _ => panic!("validate_json.py could not run on {schema}:\n{errors}"),
    }
}

/// Assert that the JSON `document` is valid against `schemas/<schema>`.
pub(crate) fn assert_valid_json(schema: &str, document: &str) {
    let errors = schema_errors(schema, document);
    assert!(
        errors.is_empty(),
        "not valid against schemas/{schema}:\n{errors}"
    );
}

/// Assert that the W3C Nu HTML checker (npm `vnu-jar`, run with Java) finds no error in `files`.
pub(crate) fn assert_nu_clean<P: AsRef<Path>>(files: &[P]) {
    assert!(!files.is_empty(), "no HTML file to check");
    let java = require_tool(
        "java",
        "a Java runtime for the Nu HTML checker (apt-get install default-jre-headless)",
    );
    let jar = repo_root().join("node_modules/vnu-jar/build/dist/vnu.jar");
    assert!(
        jar.is_file(),
        "required test component vnu-jar is missing ({}). Run `bash scripts/test`, which installs it.",
        jar.display()
    );
    let out = Command::new(java)
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "gnu"])
        .args(files.iter().map(AsRef::as_ref))
        .output()
        .expect("run java -jar vnu.jar");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "W3C Nu checker found errors:\n{report}"
    );
}
