//! The no-change fast path of `build`: a second build with nothing changed is skipped (all
//! unchanged, nothing rewritten), and every kind of change still gives a real rebuild.

use crate::support::{self, copy_site, example_site, read, run};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// The stamp, in the site's state folder (never in the published output).
const STAMP: &str = ".partner-pages/build-stamp";

/// `build -v` that must succeed; returns stderr (summary and stage timings).
fn build(root: &Path, extra: &[&str]) -> String {
    let args: Vec<&str> = ["-v", "build"].iter().chain(extra).copied().collect();
    String::from_utf8_lossy(&support::run_ok(root, &args).stderr).into_owned()
}

/// (written, unchanged, removed) of the summary line.
fn counts(summary: &str) -> (usize, usize, usize) {
    let line = summary
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no summary in {summary}"));
    let inner = &line[line.find('(').unwrap() + 1..line.find(')').unwrap()];
    let n: Vec<usize> = inner
        .split(", ")
        .map(|p| p.split(' ').next().unwrap().parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

/// The fast path prints only its `stamp` stage; a real build loads the site.
fn was_skipped(summary: &str) -> bool {
    let stages: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(!stages.is_empty(), "no stage timings in {summary}");
    !stages.contains(&"load")
}

/// Every file of the two output folders with its mtime.
fn mtimes(root: &Path) -> BTreeMap<String, SystemTime> {
    ["public", "collector", ".partner-pages"]
        .iter()
        .flat_map(|d| walkdir::WalkDir::new(root.join(d)).sort_by_file_name())
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap();
            let time = e.metadata().unwrap().modified().unwrap();
            (rel.to_string_lossy().into_owned(), time)
        })
        .collect()
}

/// A site built once, its first summary's (written, unchanged, removed).
fn built_site() -> (tempfile::TempDir, (usize, usize, usize)) {
    let site = copy_site(&example_site());
    let first = build(site.path(), &[]);
    assert!(!was_skipped(&first), "first build is a real one: {first}");
    let c = counts(&first);
    assert!(c.0 > 10 && c.1 == 0, "{first}");
    (site, c)
}

#[test]
fn second_build_reports_all_unchanged_and_rewrites_nothing() {
    let (site, (written, _, _)) = built_site();
    let before = mtimes(site.path());
    assert!(before.contains_key(STAMP));
    // A coarse-mtime file system would hide a rewrite: wait past its granularity.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = build(site.path(), &[]);
    assert!(was_skipped(&second), "{second}");
    assert_eq!(counts(&second), (0, written, 0), "{second}");
    assert!(second.contains("built 12 pages"), "{second}");
    assert_eq!(mtimes(site.path()), before, "nothing was rewritten");
}

#[test]
fn stamp_is_beside_the_site_and_not_in_the_published_output() {
    let (site, _) = built_site();
    let public = site.path().join("public");
    assert!(site.path().join(STAMP).is_file());
    // The state folder keeps itself out of git.
    assert_eq!(read(site.path().join(".partner-pages/.gitignore")), "*\n");
    let names: Vec<String> = walkdir::WalkDir::new(&public)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("stamp")),
        "no stamp in public/: {names:?}"
    );
    // A stamp an earlier version left in public/ (it names every file) goes at the next build.
    std::fs::write(public.join(".partner-pages-stamp"), "old").unwrap();
    std::fs::write(
        site.path().join("partners/seo-consultant.yaml"),
        read(site.path().join("partners/seo-consultant.yaml")) + "\n",
    )
    .unwrap();
    build(site.path(), &[]);
    assert!(!public.join(".partner-pages-stamp").exists());
}

#[test]
fn editing_a_partner_rebuilds_its_page() {
    let (site, _) = built_site();
    let yaml = site.path().join("partners/seo-consultant.yaml");
    let text = read(&yaml).replace(
        "Ship AI content your clients can trust",
        "Fast path headline",
    );
    std::fs::write(&yaml, text).unwrap();
    let out = build(site.path(), &[]);
    assert!(!was_skipped(&out), "{out}");
    assert!(counts(&out).0 >= 1, "{out}");
    assert!(
        read(site.path().join("public/p/seo-consultant/index.html")).contains("Fast path headline")
    );
    assert!(was_skipped(&build(site.path(), &[])), "stamp renewed");
}

#[test]
fn adding_a_content_file_rebuilds_with_its_page() {
    let (site, _) = built_site();
    std::fs::write(
        site.path().join("content/fast-path-notes.md"),
        "---\ntitle: Fast path notes\ndescription: Notes on the fast path.\nkind: tutorial\n---\n\nSome notes.\n",
    )
    .unwrap();
    let out = build(site.path(), &[]);
    assert!(!was_skipped(&out), "{out}");
    assert!(out.contains("built 13 pages"), "{out}");
    assert!(read(site.path().join("public/fast-path-notes/index.html")).contains("Some notes."));
}

#[test]
fn changing_a_site_template_rebuilds_the_pages() {
    let (site, _) = built_site();
    // The example site uses the built-in templates: the override starts from the default.
    let tpl = site.path().join("templates/landing.html");
    let text = read(support::repo_root().join("templates/landing.html")).replacen(
        "<article class=\"landing pp-landing\">",
        "<article class=\"landing pp-landing\"><!-- fast-path-marker -->",
        1,
    );
    assert!(
        text.contains("fast-path-marker"),
        "landing.html changed shape"
    );
    std::fs::create_dir_all(tpl.parent().unwrap()).unwrap();
    std::fs::write(&tpl, text).unwrap();
    let out = build(site.path(), &[]);
    assert!(!was_skipped(&out), "{out}");
    assert!(
        read(site.path().join("public/p/seo-consultant/index.html")).contains("fast-path-marker")
    );
}

#[test]
fn a_deleted_output_file_is_written_again() {
    let (site, _) = built_site();
    let page = site.path().join("public/p/nocode-agency/index.html");
    let bytes = read(&page);
    std::fs::remove_file(&page).unwrap();
    let out = build(site.path(), &[]);
    assert!(!was_skipped(&out), "{out}");
    assert_eq!(counts(&out).0, 1, "{out}");
    assert_eq!(read(&page), bytes);
}

#[test]
fn an_output_file_edited_by_hand_is_restored() {
    let (site, _) = built_site();
    let page = site.path().join("kits/nocode-agency/index.html");
    let bytes = read(&page);
    // Same size, different bytes: only the mtime tells.
    std::fs::write(&page, bytes.replacen('<', "[", 1)).unwrap();
    let out = build(site.path(), &[]);
    assert!(!was_skipped(&out), "{out}");
    assert_eq!(counts(&out).0, 1, "{out}");
    assert_eq!(read(&page), bytes);
}

#[test]
fn a_base_url_change_rebuilds_and_changing_back_too() {
    let (site, _) = built_site();
    let page = site.path().join("public/p/seo-consultant/index.html");
    let out = build(site.path(), &["--base-url", "https://other.example/sub/"]);
    assert!(!was_skipped(&out), "{out}");
    assert!(read(&page).contains("https://other.example/sub/p/seo-consultant/"));
    let again = build(site.path(), &["--base-url", "https://other.example/sub/"]);
    assert!(was_skipped(&again), "{again}");
    let back = build(site.path(), &[]);
    assert!(!was_skipped(&back), "{back}");
    assert!(read(&page).contains("https://aikit.example/p/seo-consultant/"));
}

#[test]
fn a_failed_build_does_not_renew_the_stamp() {
    let (site, _) = built_site();
    let yaml = site.path().join("partners/seo-consultant.yaml");
    let good = read(&yaml);
    std::fs::write(
        &yaml,
        good.replace("code: seo-consultant", "code: Bad Code"),
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(site.path(), &["build"]);
    assert_eq!(out.status.code(), Some(1), "the broken input is seen again");
    // Back to the inputs of the output on disk: that output is still current.
    std::fs::write(&yaml, good).unwrap();
    assert!(was_skipped(&build(site.path(), &[])));
}

#[test]
fn a_hand_edit_of_the_merged_host_llms_txt_rebuilds() {
    let (site, _) = built_site();
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().join("llms.txt");
    let original = "# Host docs\n\n> The host's own summary.\n";
    std::fs::write(&host, original).unwrap();
    let merge = ["--llms-merge", host.to_str().unwrap()];
    let out = build(site.path(), &merge);
    assert!(!was_skipped(&out), "another option: {out}");
    let merged = read(&host);
    assert!(
        merged.contains(partner_pages::render::llms::MARKER_START),
        "{merged}"
    );
    assert!(
        was_skipped(&build(site.path(), &merge)),
        "merged host is the stamped one"
    );
    // The host site regenerates its llms.txt without our block.
    std::fs::write(&host, original).unwrap();
    let out = build(site.path(), &merge);
    assert!(!was_skipped(&out), "{out}");
    assert_eq!(read(&host), merged);
}
