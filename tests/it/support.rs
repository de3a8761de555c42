//! Shared helpers for end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `partner-pages` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_partner-pages"))
}

/// The repository root (the example site).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `partner-pages <args>` with `--root root`.
pub fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .expect("run partner-pages")
}

/// Copy a site (config, partners, content, templates) into a fresh temp dir.
pub fn copy_site(from: &Path) -> tempfile::TempDir {
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
pub fn require_tool(name: &str, hint: &str) -> PathBuf {
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
