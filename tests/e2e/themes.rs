//! Partner pages inside real third-party themes, as a marketer would ship them: vendored copies
//! (with their licences) of Hugo PaperMod, Eleventy's base blog and Astro's blog starter in
//! `tests/fixtures/themes/`. Each host is built, our pages are built into it with the host's
//! shell, and headless Chromium opens a partner page at 1280 and 375 px: screenshots and a
//! contact sheet go to `target/e2e-artifacts/themes/`, and the computed styles are checked
//! (buttons that look like buttons, a headline larger than the text, no horizontal overflow,
//! no colour-contrast or landmark violation inside our content, no identity of the shell page).

use crate::hosts::{astro, eleventy, hugo};
use crate::support::{self, repo_root};
use crate::tools::require_tool;
use crate::worker::{free_port, try_http};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One vendored theme: its fixture folder, how it builds, its output folder.
struct Theme {
    name: &'static str,
    build: fn(&Path) -> Command,
    output: &'static str,
}

const THEMES: [Theme; 3] = [
    Theme {
        name: "papermod",
        build: hugo,
        output: "public",
    },
    Theme {
        name: "eleventy-base-blog",
        build: eleventy,
        output: "_site",
    },
    Theme {
        name: "astro-blog",
        build: astro,
        output: "dist",
    },
];

/// Where the screenshots and the contact sheet are kept after the run.
fn artifacts() -> PathBuf {
    repo_root().join("target/e2e-artifacts/themes")
}

/// A copy of the theme's fixture in a temporary folder, with the pinned `node_modules`.
fn fixture(theme: &Theme) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo_root().join("tests/fixtures/themes").join(theme.name);
    for entry in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(&from).unwrap();
        let dest = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
    std::os::unix::fs::symlink(
        repo_root().join("node_modules"),
        dir.path().join("node_modules"),
    )
    .unwrap();
    dir
}

fn ok(what: &str, cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A static server on the host output, killed (its process group) on drop.
struct Static(Child);

impl Static {
    fn start(dir: &Path) -> (Static, u16) {
        let python = require_tool("python3", "Python serves the host output");
        let port = free_port();
        let mut cmd = Command::new(python);
        cmd.args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .arg("--directory")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let server = Static(cmd.spawn().expect("spawn python3"));
        let start = Instant::now();
        while try_http(port, "GET", "/", &[], b"").is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the static server never answered"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        (server, port)
    }
}

impl Drop for Static {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn node(script: &str, args: &[&str]) -> Value {
    let node = require_tool("node", "Node.js runs the Chromium driver (playwright-core)");
    let out = Command::new(node)
        .arg(repo_root().join(script))
        .args(args)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// What a marketer would check by eye, from the measures of `tests/browser/theme.mjs`.
fn assert_native(theme: &str, width: &str, seen: &Value) {
    let at = format!("{theme} at {width} px");
    let buttons = seen["buttons"].as_array().unwrap();
    let stages: Vec<&str> = buttons.iter().filter_map(|b| b["stage"].as_str()).collect();
    assert_eq!(stages, ["lead_magnet", "cta"], "{at}: {seen}");
    for b in buttons {
        for side in b["padding"].as_array().unwrap() {
            assert!(side.as_f64().unwrap() >= 8.0, "{at}: padding {b}");
        }
        assert!(
            b["background"].as_bool().unwrap() || b["border"].as_bool().unwrap(),
            "{at}: a button with neither background nor border: {b}"
        );
        assert!(b["height"].as_f64().unwrap() >= 44.0, "{at}: {b}");
    }
    let headline = seen["headline_px"].as_f64().unwrap();
    let body = seen["body_px"].as_f64().unwrap();
    assert!(
        headline > body && body > 0.0,
        "{at}: headline {headline} px, text {body} px"
    );
    if width == "375" {
        assert!(
            seen["scroll_width"].as_u64() <= seen["inner_width"].as_u64(),
            "{at}: the page scrolls sideways: {seen}"
        );
        assert_eq!(seen["overflow"], serde_json::json!([]), "{at}");
    }
    assert_eq!(seen["axe"], serde_json::json!([]), "{at}: axe-core");
    let head = &seen["head"];
    assert_eq!(head["json_ld"], 0, "{at}: the shell page's JSON-LD: {head}");
    assert_eq!(
        head["hreflang"], 0,
        "{at}: the shell page's hreflang: {head}"
    );
    assert_eq!(
        head["aria_current"], 0,
        "{at}: a current-page marker: {head}"
    );
    assert_eq!(head["active_class"], 0, "{at}: an active nav link: {head}");
    assert_eq!(head["titles"], 1, "{at}: {head}");
    assert_eq!(
        head["canonical"], "https://example.com/partners/p/acme/",
        "{at}: {head}"
    );
}

#[test]
fn partner_pages_look_native_in_three_real_themes() {
    let shots = artifacts();
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    for theme in &THEMES {
        let site = fixture(theme);
        let dir = site.path();
        ok(&format!("{} build", theme.name), &mut (theme.build)(dir));
        let shell_page = support::read(dir.join(theme.output).join(if theme.name == "papermod" {
            "archives/index.html"
        } else {
            "about/index.html"
        }));
        let built = support::run(&dir.join("partners-site"), &["build"]);
        assert!(
            built.status.success(),
            "partner-pages build in {}:\n{}",
            theme.name,
            String::from_utf8_lossy(&built.stderr)
        );
        if theme.name == "papermod" {
            // The shell page really carries what must not leak (or the test proves nothing).
            for own in ["application/ld+json", "hreflang=\"fr\"", "class=\"active\""] {
                assert!(shell_page.contains(own), "PaperMod's Archive lacks {own}");
            }
        }
        let (_server, port) = Static::start(&dir.join(theme.output));
        let seen = node(
            "tests/browser/theme.mjs",
            &[
                "--base",
                &format!("http://127.0.0.1:{port}"),
                "--page",
                "/partners/p/acme/",
                "--name",
                theme.name,
                "--out",
                shots.to_str().unwrap(),
            ],
        );
        assert_eq!(seen["page_errors"], serde_json::json!([]), "{}", theme.name);
        for width in ["1280", "375"] {
            assert_native(theme.name, width, &seen["widths"][width]);
        }
    }
    let sheet = node(
        "tests/browser/theme.mjs",
        &["--sheet", shots.to_str().unwrap()],
    );
    assert_eq!(
        sheet["shots"].as_array().unwrap().len(),
        6,
        "two screenshots per theme: {sheet}"
    );
    assert!(shots.join("contact-sheet.png").is_file());
}

#[test]
fn init_host_at_the_root_of_each_theme_builds_and_its_workflow_passes_the_schema() {
    let validator = require_tool(
        "action-validator",
        "npm package @action-validator/cli (package.json)",
    );
    for theme in &THEMES {
        let site = fixture(theme);
        let dir = site.path();
        std::fs::remove_dir_all(dir.join("partners-site")).unwrap();
        let init = support::run(dir, &["init", "--host", dir.to_str().unwrap()]);
        assert!(
            init.status.success(),
            "init --host in {}:\n{}",
            theme.name,
            String::from_utf8_lossy(&init.stderr)
        );
        ok(&format!("{} build", theme.name), &mut (theme.build)(dir));
        let built = support::run(dir, &["build"]);
        assert!(
            built.status.success(),
            "partner-pages build at the root of {}:\n{}",
            theme.name,
            String::from_utf8_lossy(&built.stderr)
        );
        let landing = dir
            .join(theme.output)
            .join("partners/p/newsletter-friends/index.html");
        assert!(landing.is_file(), "{}: {}", theme.name, landing.display());
        let workflow = dir.join(".github/workflows/partner-report.yml");
        let out = Command::new(&validator).arg(&workflow).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}{}",
            theme.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn papermod_under_its_sub_path_has_its_links_checked_there() {
    // PaperMod's own example site: baseURL https://adityatelange.github.io/hugo-PaperMod/, so
    // every page Hugo writes links to /hugo-PaperMod/... and public/ is what that path serves.
    let theme = &THEMES[0];
    let site = fixture(theme);
    let dir = site.path();
    let base = "https://adityatelange.github.io/hugo-PaperMod/";
    ok(
        "hugo with the sub-path",
        hugo(dir).args(["--baseURL", base]),
    );
    let demo = support::read(dir.join("public/demo/index.html"));
    assert!(
        demo.contains("href=\"https://adityatelange.github.io/hugo-PaperMod/pricing/\""),
        "Hugo wrote the sub-path into its links"
    );
    let root = dir.join("partners-site");
    let config = root.join("partner-pages.yaml");
    std::fs::write(
        &config,
        support::read(&config)
            .replace(
                "base_url: https://example.com/partners",
                "base_url: https://adityatelange.github.io/hugo-PaperMod/partners",
            )
            .replace(
                "  output: ../public\n",
                "  output: ../public\n  base_path: /hugo-PaperMod\n",
            )
            + "collector: { mode: route, route: \"adityatelange.github.io/hugo-PaperMod/partners/go/*\" }\n",
    )
    .unwrap();
    let partner = root.join("partners/acme.yaml");
    let good = support::read(&partner)
        .replace("url: /downloads/", "url: /hugo-PaperMod/downloads/")
        .replace("url: /demo/", "url: /hugo-PaperMod/demo/")
        .replace("page: /pricing/", "page: /hugo-PaperMod/pricing/");
    std::fs::write(&partner, &good).unwrap();
    let check = support::run(&root, &["check", "--links"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("every link has a target"));
    let built = support::run(&root, &["build"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let landing = support::read(dir.join("public/partners/p/acme/index.html"));
    assert!(
        landing.contains("href=\"/hugo-PaperMod/demo/\""),
        "{landing}"
    );
    assert!(
        landing.contains("/hugo-PaperMod/partners/pp-shell.css"),
        "our stylesheet under the sub-path"
    );
    assert!(!dir.join("public/hugo-PaperMod").exists());

    // The same link written from the origin's root is refused by check and build alike, and
    // the host output stays as it was.
    std::fs::write(
        &partner,
        good.replace("url: /hugo-PaperMod/demo/", "url: /demo/"),
    )
    .unwrap();
    let before = support::tree(&dir.join("public"));
    let check = support::run(&root, &["check", "--links"]);
    let build = support::run(&root, &["build"]);
    let err = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert_eq!(build.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`cta.url` links to `/demo/`, which is not a page of the site"),
        "{err}"
    );
    assert!(err.contains("`/hugo-PaperMod/demo/`"), "{err}");
    assert_eq!(err, String::from_utf8_lossy(&build.stderr));
    assert_eq!(support::tree(&dir.join("public")), before);
}
