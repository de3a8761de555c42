//! `check` end to end, driven by the bad-input corpus in `tests/fixtures/bad-input/` (one folder per case,
//! named `err_<what>` like minijinja's inputs, with the expected output beside it), and the
//! promise that a failed `build` leaves the previous `public/` untouched.

use crate::support::{self, copy_site, example_site, read, repo_root, run, run_ok, tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn corpus() -> PathBuf {
    repo_root().join("tests/fixtures/bad-input")
}

/// Every `err_*` case folder, sorted.
fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("tests/fixtures/bad-input exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("err_"))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 30, "the corpus lost cases: {}", out.len());
    out
}

/// Copy the case's files over `root` and delete what its `remove.txt` lists.
fn apply_case(case: &Path, root: &Path) {
    for entry in walkdir::WalkDir::new(case)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(case).unwrap();
        if rel == Path::new("expected.txt") || rel == Path::new("remove.txt") {
            continue;
        }
        let dest = root.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
    if let Ok(list) = std::fs::read_to_string(case.join("remove.txt")) {
        for line in list.lines().filter(|l| !l.trim().is_empty()) {
            std::fs::remove_file(root.join(line.trim())).unwrap();
        }
    }
}

/// A copy of the minimal valid site with the case applied.
fn broken_site(case: &Path) -> tempfile::TempDir {
    let site = copy_site(&corpus().join("_base"));
    apply_case(case, site.path());
    site
}

fn normalise(output: &[u8], root: &Path) -> String {
    String::from_utf8_lossy(output)
        .replace(&root.display().to_string(), "<root>")
        .replace("\r\n", "\n")
}

#[test]
fn the_corpus_base_site_is_valid() {
    let site = copy_site(&corpus().join("_base"));
    let out = run(site.path(), &["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok: 1 partner, 2 content pages, every link has a target\n"
    );
    let out = run(site.path(), &["check", "--links"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok: 1 partner, 2 content pages, every link has a target\n"
    );
}

/// Each case: exit code 1, nothing on stdout, and exactly `expected.txt` on stderr.
/// `INSTA_UPDATE=always` writes the expected files instead (review them before committing).
#[test]
fn every_bad_input_gives_its_exact_located_diagnostics() {
    let bless = crate::support::refreshing();
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let site = broken_site(&case);
        let out = run(site.path(), &["check", "--links"]);
        let stderr = normalise(&out.stderr, site.path());
        let expected_file = case.join("expected.txt");
        if bless {
            std::fs::write(&expected_file, &stderr).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{name}: exit code {:?}, want 1\n{stderr}",
                out.status.code()
            ));
        } else if !out.stdout.is_empty() {
            failures.push(format!(
                "{name}: stdout not empty: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        } else if stderr != expected {
            failures.push(format!(
                "{name}: output differs\n--- expected\n{expected}\n--- got\n{stderr}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed ({}):\n\n{}",
        failures.len(),
        crate::support::REFRESH,
        failures.join("\n\n")
    );
}

/// Every diagnostic of the corpus points at a line that exists and a column on it (except a
/// missing config file, which has no line to point at).
#[test]
fn every_diagnostic_points_at_a_real_line_and_column() {
    for case in cases() {
        let site = broken_site(&case);
        let out = run(site.path(), &["check", "--links", "--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", case.display());
        let diags: Vec<serde_json::Value> =
            serde_json::from_slice(&out.stdout).expect("JSON array");
        assert!(!diags.is_empty(), "{}", case.display());
        for d in diags {
            let file = d["file"].as_str().unwrap();
            let (line, column) = (
                d["line"].as_u64().unwrap() as usize,
                d["column"].as_u64().unwrap() as usize,
            );
            if !site.path().join(file).exists() {
                assert_eq!(line, 0, "{d}");
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(site.path().join(file)).unwrap())
                .into_owned();
            if text.is_empty() {
                assert_eq!(
                    (line, column),
                    (1, 1),
                    "an empty file is pointed at its start: {d}"
                );
                continue;
            }
            let src = text
                .lines()
                .nth(line.wrapping_sub(1))
                .unwrap_or_else(|| panic!("{}: no line {line} in {file}: {d}", case.display()));
            assert!(
                column >= 1 && column <= src.chars().count() + 1,
                "{}: column {column} not on line {line} of {file}: {d}",
                case.display()
            );
            assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert!(
                d["expected"].is_string(),
                "every diagnostic says what was expected: {d}"
            );
        }
    }
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                (std::fs::read(e.path()).unwrap(), meta.modified().unwrap()),
            )
        })
        .collect()
}

/// Build the valid site into `--out`, break the input with each case, build again: exit code 1
/// and the previous output is byte for byte (and mtime for mtime) what it was.
#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let site = copy_site(&corpus().join("_base"));
        let out_dir = tempfile::tempdir().unwrap();
        let public = out_dir.path().join("public");
        let public_arg = public.to_str().unwrap();
        let first = run(site.path(), &["build", "--out", public_arg]);
        assert!(
            first.status.success(),
            "{name}: the base site must build: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let before = snapshot(&public);
        assert!(!before.is_empty());

        apply_case(&case, site.path());
        let second = run(site.path(), &["build", "--out", public_arg]);
        if second.status.code() != Some(1) {
            failures.push(format!(
                "{name}: build exit code {:?}, want 1",
                second.status.code()
            ));
        }
        if snapshot(&public) != before {
            failures.push(format!("{name}: public/ changed after a failed build"));
        }
        let leftovers: Vec<_> = std::fs::read_dir(out_dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        if leftovers.len() != 1 {
            failures.push(format!("{name}: files left next to public/: {leftovers:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn check_on_the_example_site_says_ok_with_counts() {
    let out = run(&example_site(), &["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ok: 4 partners, "), "{stdout}");
    assert!(
        stdout.ends_with(" content pages, every link has a target\n"),
        "{stdout}"
    );
    // Every button of the example site leads to a page it builds.
    let links = run(&example_site(), &["check", "--links"]);
    assert!(
        links.status.success(),
        "{}",
        String::from_utf8_lossy(&links.stderr)
    );
    assert!(String::from_utf8_lossy(&links.stdout).ends_with(", every link has a target\n"));
}

#[test]
fn quiet_check_prints_nothing_on_success() {
    let out = run(&example_site(), &["check", "--quiet"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn json_lists_the_same_diagnostics_as_the_text() {
    let site = broken_site(&corpus().join("err_many_files"));
    let text = normalise(&run(site.path(), &["check"]).stderr, site.path());
    let out = run(site.path(), &["check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        text.lines().last().unwrap()
    );
    let diags: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let locations: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"]
            )
        })
        .collect();
    let in_text: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .map(str::to_owned)
        .collect();
    assert_eq!(locations, in_text);
    assert!(diags.len() >= 4, "several files, several errors: {diags:?}");
    for key in ["file", "line", "column", "message", "expected", "hint"] {
        assert!(diags[0].get(key).is_some(), "missing {key}: {}", diags[0]);
    }
}

#[test]
fn check_with_files_reports_only_those_files_and_the_config() {
    let site = broken_site(&corpus().join("err_many_files"));
    let out = run(site.path(), &["check", "--json", "partners/beta.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let diags: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let files: std::collections::BTreeSet<&str> =
        diags.iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec!["partner-pages.yaml", "partners/beta.yaml"]
    );

    let ok_site = copy_site(&corpus().join("_base"));
    let out = run(ok_site.path(), &["check", "partners/alpha.yaml"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok: 1 file\n");
    let missing = run(ok_site.path(), &["check", "partners/nope.yaml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file: partners/nope.yaml"));
}

#[test]
fn diagnostics_are_plain_text_when_not_on_a_terminal() {
    let site = broken_site(&corpus().join("err_unknown_field"));
    let out = run(site.path(), &["check"]);
    assert!(!out.stderr.contains(&0x1b), "no ANSI escapes in a pipe");
}

/// Colour follows the environment: `CLICOLOR_FORCE` turns it on in a pipe, `NO_COLOR` wins over
/// it, and a pipe without either is plain.
#[test]
fn diagnostics_colour_honours_no_color_and_clicolor() {
    let site = copy_site(&example_site());
    let file = site.path().join("partners/seo-consultant.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("promise:", "promis:")).unwrap();
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(support::bin());
        cmd.arg("--root").arg(site.path()).arg("check");
        for var in [
            "NO_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "PARTNER_PAGES_ROOT",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    };
    let plain = check(&[]);
    assert!(
        plain.starts_with("error: unknown field `promis`"),
        "{plain}"
    );
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let forced = check(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[31merror\x1b[0m"), "{forced:?}");
    assert_eq!(check(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]), plain);
}

/// The first line of what a failed command printed (the error itself).
fn first_error(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The Hugo fixture site with its host output written by hand (no Hugo needed): the pages its
/// partner links to, the shell page and the llms.txt the build merges into.
fn host_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let from = repo_root().join("tests/fixtures/hosts/hugo");
    for entry in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let dest = site.path().join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
    let public = site.path().join("public");
    for page in ["demo", "pricing", "about"] {
        std::fs::create_dir_all(public.join(page)).unwrap();
        std::fs::write(
            public.join(page).join("index.html"),
            format!("<!doctype html><html><head><title>{page}</title></head><body><main id=\"content\">{page}</main></body></html>"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(public.join("downloads")).unwrap();
    std::fs::write(public.join("downloads/checklist.pdf"), "%PDF-1.4\n").unwrap();
    std::fs::copy(site.path().join("static/llms.txt"), public.join("llms.txt")).unwrap();
    site
}

#[test]
fn check_refuses_what_build_refuses_with_the_same_message() {
    let site = host_site();
    let root = site.path().join("partners-site");
    let out = run(&root, &["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every link has a target"));
    // A host page where a partner page goes.
    let planted = site.path().join("public/partners/index.html");
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(&planted, "<!doctype html><title>Host partners page</title>").unwrap();
    let check = run(&root, &["check"]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let build = run(&root, &["build"]);
    assert_eq!(build.status.code(), Some(1));
    assert!(
        first_error(&check)
            .contains("exists and was not written by partner-pages; refusing to overwrite it"),
        "{}",
        first_error(&check)
    );
    assert_eq!(first_error(&check), first_error(&build));
    assert_eq!(
        read(&planted),
        "<!doctype html><title>Host partners page</title>"
    );
    std::fs::remove_file(&planted).unwrap();
    // A partner link to a host page that is gone.
    std::fs::remove_file(site.path().join("public/demo/index.html")).unwrap();
    let check = run(&root, &["check"]);
    assert_eq!(check.status.code(), Some(1));
    let build = run(&root, &["build"]);
    assert_eq!(build.status.code(), Some(1));
    assert!(
        first_error(&check).contains("`cta.url` links to `/demo/`"),
        "{}",
        first_error(&check)
    );
    assert_eq!(
        String::from_utf8_lossy(&check.stderr),
        String::from_utf8_lossy(&build.stderr)
    );
}

#[test]
fn a_host_under_a_sub_path_has_its_links_resolved_there_by_check_and_build() {
    // The host is served under /blog (e.g. a project site on GitHub Pages): its output folder
    // is what /blog/ serves, so its pages link to /blog/demo/ and the partner pages go to
    // public/partners, served at /blog/partners/.
    let site = host_site();
    let root = site.path().join("partners-site");
    let config = root.join("partner-pages.yaml");
    std::fs::write(
        &config,
        read(&config)
            .replace(
                "base_url: https://example.com/partners",
                "base_url: https://example.com/blog/partners",
            )
            .replace(
                "  output: ../public\n",
                "  output: ../public\n  base_path: /blog\n",
            )
            + "collector: { mode: route, route: \"example.com/blog/partners/go/*\" }\n",
    )
    .unwrap();
    let partner = root.join("partners/acme.yaml");
    let good = read(&partner)
        .replace("url: /downloads/", "url: /blog/downloads/")
        .replace("url: /demo/", "url: /blog/demo/")
        .replace("page: /pricing/", "page: /blog/pricing/");
    std::fs::write(&partner, &good).unwrap();
    let out = run(&root, &["check", "--links"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every link has a target"));
    run_ok(&root, &["build"]);
    let landing = read(site.path().join("public/partners/p/acme/index.html"));
    assert!(landing.contains("href=\"/blog/demo/\""), "{landing}");
    assert!(!site.path().join("public/blog").exists());

    // A link written as if the host were at the root, and one under the sub-path to a page
    // the host did not build: both refused, by `check` and `build` alike.
    for (url, message, hint) in [
        (
            "/demo/",
            "`cta.url` links to `/demo/`, which is not a page of the site",
            "the host site is served under `/blog` (`host.base_path`): `/blog/demo/`",
        ),
        (
            "/blog/dmeo/",
            "`cta.url` links to `/blog/dmeo/`, which is not a page of the site",
            "did you mean `/blog/demo/`?",
        ),
    ] {
        std::fs::write(
            &partner,
            good.replace("url: /blog/demo/", &format!("url: {url}")),
        )
        .unwrap();
        let before = tree(&site.path().join("public"));
        let check = run(&root, &["check", "--links"]);
        let plain = run(&root, &["check"]);
        let build = run(&root, &["build"]);
        let err = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(1), "{url}: {err}");
        assert_eq!(plain.status.code(), Some(1), "{url}");
        assert_eq!(build.status.code(), Some(1), "{url}");
        assert!(err.contains("partners/acme.yaml:10:"), "{url}: {err}");
        assert!(err.contains(message), "{url}: {err}");
        assert!(err.contains(hint), "{url}: {err}");
        assert_eq!(err, String::from_utf8_lossy(&build.stderr), "{url}");
        assert_eq!(err, String::from_utf8_lossy(&plain.stderr), "{url}");
        assert_eq!(
            tree(&site.path().join("public")),
            before,
            "{url}: output changed"
        );
    }

    // `serve` answers the host output under /blog/ (and nothing outside it), the partner
    // pages under /blog/partners/.
    std::fs::write(&partner, &good).unwrap();
    let stderr = site.path().join("serve.stderr");
    let mut child = std::process::Command::new(support::bin())
        .arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0", "--no-watch", "--db"])
        .arg(site.path().join("events.db"))
        .env_remove("PARTNER_PAGES_ROOT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    // Keep reading what it prints, so its writes to stdout never fail.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let Some(url) = line
        .trim()
        .strip_prefix("Serving http://")
        .map(str::to_string)
    else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve said {line:?}: {}", read(&stderr));
    };
    assert!(url.ends_with("/blog/partners/"), "{url}");
    let serve = support::serve::Serve {
        child,
        addr: url.split('/').next().unwrap().parse().unwrap(),
        db: site.path().join("events.db"),
        out: site.path().join("public/partners"),
        stderr,
        site,
    };
    let get = |path: &str| serve.get(path, &[]);
    assert_eq!(get("/blog/demo/").status, 200);
    assert!(get("/blog/demo/")
        .text()
        .contains("<main id=\"content\">demo</main>"));
    assert_eq!(get("/blog/partners/p/acme/").status, 200);
    assert_eq!(get("/demo/").status, 404);
}
