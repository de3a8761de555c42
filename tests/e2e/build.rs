//! `build` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `build` and `init` end to end: output layout, determinism, atomic writes, escaping,
//! base paths, template overrides, HTML validity (W3C Nu) and accessibility (axe-core).

use crate::support::{copy_site, example_site, repo_root, tree};

use crate::support::build::*;

#[test]
fn example_pages_pass_the_w3c_nu_html_checker() {
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    // The public pages and the private kits (a partner opens those too).
    let mut pages = Vec::new();
    for dir in ["public", "kits"] {
        let dir = site.path().join(dir);
        pages.extend(
            tree(&dir)
                .into_keys()
                .filter(|p| p.ends_with(".html"))
                .map(|p| dir.join(p)),
        );
    }
    assert!(pages.len() >= 12, "{pages:?}");
    crate::tools::assert_nu_clean(&pages);
}

#[test]
fn example_pages_have_no_serious_axe_violations_in_chromium() {
    let node = crate::tools::require_tool("node", "Node.js 20");
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    // The public pages and the private kits (a partner opens those too).
    for dir in ["public", "kits"] {
        let dir = site.path().join(dir);
        let html_pages = tree(&dir)
            .into_keys()
            .filter(|p| p.ends_with(".html"))
            .count();
        assert!(html_pages >= 4, "{}", dir.display());
        let out = std::process::Command::new(&node)
            .arg(repo_root().join("tests/browser/validate.mjs"))
            .arg(&dir)
            .current_dir(repo_root())
            .output()
            .expect("run node tests/browser/validate.mjs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "axe-core / CSP check failed:\n{stdout}\n{stderr}"
        );
        // Every page was checked in both colour schemes.
        assert_eq!(stdout.lines().count(), 2 * html_pages, "{stdout}");
    }
}
