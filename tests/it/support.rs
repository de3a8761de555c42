//! Shared helpers for end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `partner-pages` binary.
pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_partner-pages"))
}

/// The repository root (the example site).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `partner-pages <args>` with `--root root`.
pub(crate) fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .expect("run partner-pages")
}

/// Run `partner-pages <args>` with `--root root` and assert that it exits 0 (the failure message
/// shows the exit code and stderr).
pub(crate) fn run_ok(root: &Path, args: &[&str]) -> Output {
    let out = run(root, args);
    assert!(
        out.status.success(),
        "partner-pages {args:?} exited {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A file's text; a missing or non-UTF-8 file fails the test with its path.
pub(crate) fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// Copy a site (config, partners, content, templates) into a fresh temp dir.
pub(crate) fn copy_site(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(from).unwrap();
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let keep = matches!(
            first.as_deref(),
            None | Some("partner-pages.yaml" | "partners" | "content" | "templates" | "static")
        );
        if !keep {
            continue;
        }
        let dest = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
    dir
}

/// A required external tool. Missing -> the test fails with a clear message (never a silent
/// pass). `bash scripts/test` installs every tool the tests need.
pub(crate) fn require_tool(name: &str, hint: &str) -> PathBuf {
    let local = repo_root().join("node_modules/.bin").join(name);
    if local.exists() {
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

/// Every file under `dir` (relative path with `/` -> bytes), manifest included, without the build
/// stamp (it holds mtimes: bookkeeping, not output).
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| e.file_name() != ".partner-pages-stamp")
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy();
            (rel.replace('\\', "/"), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// A copy of the example site plus `n` generated partners.
pub(crate) fn big_site(n: usize) -> tempfile::TempDir {
    let site = copy_site(&repo_root());
    for i in 0..n {
        let yaml = format!(
            "name: Partner {i:05}\ncode: partner-{i:05}\naudience: Readers of letter {i}\n\
             promise: Playbook {i}\ncampaigns: [default, launch]\nlanding:\n  headline: Ship with partner {i}\n  \
             proof: Used by {i} teams\nlead_magnet: {{ label: Get it, url: /content-qa-checklist/ }}\n\
             cta: {{ label: Start now, kind: demo, url: /demo }}\nactivation:\n  event: runs_audit\n  \
             description: Runs an audit\n  trigger: {{ server: true }}\ncommission: 10% of revenue\n"
        );
        std::fs::write(
            site.path().join(format!("partners/partner-{i:05}.yaml")),
            yaml,
        )
        .unwrap();
    }
    site
}

/// Two kit secrets for the tests of hosted partner kits.
pub(crate) const KIT_SECRET_A: &str = "kit-secret-for-tests-one-0123456789";
pub(crate) const KIT_SECRET_B: &str = "kit-secret-for-tests-two-9876543210";

/// The token of a hosted kit, computed here from its definition (HMAC-SHA256 of the code under
/// the secret, first 128 bits in hex), not by the code under test.
pub(crate) fn kit_token(secret: &str, code: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"partner-pages kit\0");
    mac.update(code.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Append `kits: { hosted: true }` to the site config.
pub(crate) fn opt_in_hosted_kits(root: &Path) {
    let config = root.join("partner-pages.yaml");
    std::fs::write(&config, format!("{}kits:\n  hosted: true\n", read(&config))).unwrap();
}

/// `partner-pages build` with the kit secret in the environment (or none).
pub(crate) fn build_with_kit_secret(root: &Path, secret: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--root")
        .arg(root)
        .arg("build")
        .env_remove("PARTNER_PAGES_ROOT")
        .env_remove("PARTNER_PAGES_KIT_SECRET");
    if let Some(s) = secret {
        cmd.env("PARTNER_PAGES_KIT_SECRET", s);
    }
    cmd.output().expect("run partner-pages build")
}
