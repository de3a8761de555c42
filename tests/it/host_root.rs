//! `partner-pages.yaml` at the root of a real Hugo, Astro or Eleventy site: `init --host` sets it
//! up there (config, partners, our content beside the host's, `.gitignore`, the workflow at the
//! repository root), and `check` does not read the host's own `content/`.

use crate::support::{read, repo_root, run, run_ok};

/// A copy of a vendored theme's site (without our sub-folder site), as a user's repository.
fn host_copy(theme: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo_root().join("tests/fixtures/themes").join(theme);
    for entry in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(&from).unwrap();
        if rel.starts_with("partners-site") {
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

#[test]
fn init_host_sets_up_each_real_host_root_and_check_leaves_the_hosts_content_alone() {
    for (theme, output, host_content) in [
        ("papermod", "public", "content/archives.md"),
        ("eleventy-base-blog", "_site", "content/about.md"),
        ("astro-blog", "dist", "src/content/blog/first-post.md"),
    ] {
        let site = host_copy(theme);
        let root = site.path();
        // The host's own Markdown has fields of its generator (`layout:`, `eleventyNavigation`).
        assert!(root.join(host_content).is_file(), "{theme}: {host_content}");
        let before = read(root.join(".gitignore"));
        run_ok(root, &["init", "--host", root.to_str().unwrap()]);
        let config = read(root.join("partner-pages.yaml"));
        assert!(
            config.contains(&format!("  output: {output}\n")),
            "{theme}: {config}"
        );
        assert!(
            config.contains("content_dir: partner-content\n"),
            "{config}"
        );
        assert!(root.join("partners/newsletter-friends.yaml").is_file());
        assert!(root.join("partner-content/launch-checklist.md").is_file());
        let workflow = read(root.join(".github/workflows/partner-report.yml"));
        assert!(workflow.contains("partner-pages"), "{workflow}");
        let ignore = read(root.join(".gitignore"));
        assert!(
            ignore.starts_with(&before),
            "{theme}: the host's lines are kept: {ignore}"
        );
        for line in [
            "/kits",
            "/.kit-secret",
            "/.partner-pages",
            "*.db",
            "/collector",
        ] {
            assert!(
                ignore.lines().any(|l| l == line),
                "{theme}: {line} in {ignore}"
            );
        }
        let out = run_ok(root, &["check"]);
        let warned = String::from_utf8_lossy(&out.stderr);
        assert!(
            warned.contains(&format!(
                "links not checked: the host output `{output}` is not built yet"
            )),
            "{theme}: {warned}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok: 1 partner, 3 content pages (1 warning in 1 file)",
            "{theme}"
        );
        // A second run writes nothing.
        let again = run(root, &["init", "--host", root.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(1), "{theme}");
        assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
        assert_eq!(read(root.join(".gitignore")), ignore);
    }
}

#[test]
fn init_host_refuses_a_folder_that_is_no_host_site_and_content_dir_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["init", "--host", dir.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("not the root of a Hugo, Astro or Eleventy site"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );

    let site = host_copy("papermod");
    let root = site.path();
    run_ok(root, &["init", "--host", root.to_str().unwrap()]);
    let config = root.join("partner-pages.yaml");
    std::fs::write(
        &config,
        read(&config).replace("content_dir: partner-content", "content_dir: ../elsewhere"),
    )
    .unwrap();
    let out = run(root, &["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("partner-pages.yaml:16:14"), "{err}");
    assert!(err.contains("is not a folder for content pages"), "{err}");
    // Without `content_dir`, a config at the host's root still leaves `content/` to the host.
    std::fs::write(
        &config,
        read(&config).replace("content_dir: ../elsewhere\n", ""),
    )
    .unwrap();
    run_ok(root, &["check"]);
}
