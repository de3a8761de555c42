//! Helpers shared by both test tiers: `tests/it` (plain `cargo test`, no external program) and
//! `tests/e2e` (the opt-in tier driving Chromium, workerd, Java, Python and Node; `bash scripts/test`).
//! Helpers that need an external program live in `tools.rs`, which only the e2e target includes.
#![allow(dead_code)]

pub(crate) mod build;
pub(crate) mod calendar;
pub(crate) mod collector;
pub(crate) mod experiments;
pub(crate) mod leads;
pub(crate) mod llms;
pub(crate) mod mcp;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod stripe;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether this run refreshes expected output instead of comparing with it: `INSTA_UPDATE=always`
/// (insta's own switch, also `1`) rewrites the insta snapshots, the bad-input corpus's
/// `expected.txt` files, the collector agreement fixtures and `schemas/` alike
/// (docs/contributing.md, "Refreshing expected output"). Review the diff before committing.
pub(crate) fn refreshing() -> bool {
    matches!(std::env::var("INSTA_UPDATE").as_deref(), Ok("always" | "1"))
}

/// How to refresh expected output, for failure messages.
pub(crate) const REFRESH: &str =
    "if the new output is right, refresh with `INSTA_UPDATE=always cargo test` and review the diff";

/// The built `partner-pages` binary.
pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_partner-pages"))
}

/// The repository root (scripts, schemas, node_modules, the built-in templates).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example site (`examples/aikit/`: config, partners, content; the built-in templates).
pub(crate) fn example_site() -> PathBuf {
    repo_root().join("examples/aikit")
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
    let site = copy_site(&example_site());
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

/// How a manifest keeps a path, computed here from its definition (SHA-256 of
/// `partner-pages manifest\0<path>`, hex), not by the code under test.
pub(crate) fn manifest_hash(path: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"partner-pages manifest\0");
    h.update(path.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

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
