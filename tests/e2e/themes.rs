//! Partner pages inside real third-party themes, as a marketer would ship them: vendored copies
//! (with their licences) of Hugo PaperMod, Eleventy's base blog and Astro's blog starter in
//! `tests/fixtures/themes/`. Each host is built, our pages are built into it with the host's
//! shell, and headless Chromium opens a partner page at 1280 and 375 px: screenshots and a
//! contact sheet go to `target/e2e-artifacts/themes/`, and the computed styles are checked
//! (buttons that look like buttons, a headline larger than the text, no horizontal overflow,
//! no colour-contrast or landmark violation inside our content, no identity of the shell page).

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

fn hugo(dir: &Path) -> Command {
    let mut c = Command::new(require_tool("hugo", "Hugo (Debian package `hugo`)"));
    c.args(["--quiet", "--source"]).arg(dir);
    c
}

fn eleventy(dir: &Path) -> Command {
    let mut c = Command::new(require_tool(
        "eleventy",
        "Eleventy (pinned in package.json: npm ci)",
    ));
    c.arg("--quiet").current_dir(dir);
    c
}

fn astro(dir: &Path) -> Command {
    let mut c = Command::new(require_tool(
        "astro",
        "Astro (pinned in package.json: npm ci)",
    ));
    c.args(["build", "--silent"])
        .current_dir(dir)
        .env("ASTRO_TELEMETRY_DISABLED", "1");
    c
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
