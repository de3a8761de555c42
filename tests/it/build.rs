//! `build` and `init` end to end: output layout, determinism, atomic writes, escaping,
//! base paths, template overrides, HTML validity (W3C Nu) and accessibility (axe-core).

use crate::support::{self, copy_site, example_site, read, run, tree};

use crate::support::build::*;

#[test]
fn example_site_builds_every_page_kind() {
    let site = copy_site(&example_site());
    let summary = build_ok(site.path(), &[]);
    assert!(summary.contains("built 12 pages"), "{summary}");
    let public = site.path().join("public");
    assert!(
        site.path().join("kits/seo-consultant/index.html").is_file(),
        "the kit is private, beside public/"
    );
    assert!(!public.join("p/seo-consultant/kit").exists());
    for p in [
        "index.html",
        "sitemap.xml",
        "p/seo-consultant/index.html",
        "cost-reduction-guide/index.html",
        "llms-txt-guide/index.html",
        "migration-playbook/index.html",
    ] {
        assert!(public.join(p).is_file(), "missing {p}");
    }
    assert!(
        !public.join("seo-checklist").exists(),
        "sections are not published as pages"
    );
    let landing = read(public.join("p/seo-consultant/index.html"));
    assert!(landing.contains(r#"data-pp="lead_magnet""#));
    assert!(landing.contains(r#"<a class="button pp-button" href="/demo" data-pp="cta">"#));
    assert!(landing
        .contains(r#"<link rel="canonical" href="https://aikit.example/p/seo-consultant/">"#));
    assert!(landing.contains(r#"<script data-partner="seo-consultant">"#));
    assert_eq!(landing.matches("<h1").count(), 1, "one h1");
}

#[test]
fn two_builds_give_identical_bytes() {
    let a = copy_site(&example_site());
    let b = copy_site(&example_site());
    build_ok(a.path(), &[]);
    build_ok(b.path(), &[]);
    let (ta, tb) = (
        tree(&a.path().join("public")),
        tree(&b.path().join("public")),
    );
    assert!(ta.len() > 10);
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{path} differs between two builds");
    }
}

#[test]
fn unchanged_files_are_not_rewritten() {
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    let page = site.path().join("public/p/seo-consultant/index.html");
    let before = std::fs::metadata(&page).unwrap().modified().unwrap();
    // A coarse-mtime file system would hide a rewrite: wait past its granularity.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let summary = build_ok(site.path(), &[]);
    assert!(summary.contains("(0 written, "), "{summary}");
    assert_eq!(
        std::fs::metadata(&page).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn removed_partner_pages_are_removed_and_host_files_kept() {
    let site = copy_site(&example_site());
    let public = site.path().join("public");
    std::fs::create_dir_all(public.join("p")).unwrap();
    std::fs::write(public.join("host.html"), "host page").unwrap();
    std::fs::write(public.join("p/host-note.txt"), "host note").unwrap();
    build_ok(site.path(), &[]);
    let kit = site.path().join("kits/founder-community");
    assert!(kit.join("index.html").is_file());

    std::fs::remove_file(site.path().join("partners/founder-community.yaml")).unwrap();
    let summary = build_ok(site.path(), &[]);
    // Landing page and the kit's two files at least (agent files of the partner go too).
    assert!(!kit.exists(), "the removed partner's kit is removed");
    assert!(
        !summary.contains(" 0 removed") && !summary.contains(" 1 removed"),
        "{summary}"
    );
    assert!(!public.join("p/founder-community").exists());
    assert_eq!(read(public.join("host.html")), "host page");
    assert_eq!(read(public.join("p/host-note.txt")), "host note");
    assert!(!read(public.join("sitemap.xml")).contains("founder-community"));
}

#[test]
fn failed_build_leaves_previous_output_untouched() {
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    let before = tree(&site.path().join("public"));

    // A template error.
    let tdir = site.path().join("templates");
    std::fs::create_dir_all(&tdir).unwrap();
    std::fs::write(tdir.join("kit.html"), "{% extends \"base.html\" %}\n{% block main %}\n{{ partner.no_such_field }}\n{% endblock %}\n").unwrap();
    std::fs::write(
        site.path().join("partners/seo-consultant.yaml"),
        read(site.path().join("partners/seo-consultant.yaml"))
            .replace("Ship AI content", "Ship better AI content"),
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--> templates/kit.html:3:"), "{stderr}");
    assert_eq!(tree(&site.path().join("public")), before);

    // Bad YAML.
    std::fs::remove_file(tdir.join("kit.html")).unwrap();
    std::fs::write(
        site.path().join("partners/zz-broken.yaml"),
        "name: [unclosed\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(tree(&site.path().join("public")), before);
}

#[test]
fn a_folder_in_the_way_fails_the_build_before_any_write() {
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    std::fs::write(
        site.path().join("partners/seo-consultant.yaml"),
        read(site.path().join("partners/seo-consultant.yaml"))
            .replace("Ship AI content", "Ship better AI content"),
    )
    .unwrap();
    // sitemap.xml changes too (a new partner); make its target unwritable.
    std::fs::write(
        site.path().join("partners/new-partner.yaml"),
        read(site.path().join("partners/founder-community.yaml"))
            .replace("code: founder-community", "code: new-partner"),
    )
    .unwrap();
    let public = site.path().join("public");
    std::fs::create_dir_all(public.join("p/new-partner/index.html")).unwrap();
    let before = tree(&public);
    let out = run(site.path(), &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("p/new-partner/index.html"), "{stderr}");
    assert_eq!(tree(&public), before, "nothing written, no temporary left");
}

#[test]
fn script_in_a_headline_is_shown_as_text() {
    let site = copy_site(&example_site());
    let file = site.path().join("partners/seo-consultant.yaml");
    std::fs::write(
        &file,
        read(&file).replace(
            "headline: Ship AI content your clients can trust",
            "headline: \"<script>alert(1)</script> & co\"",
        ),
    )
    .unwrap();
    build_ok(site.path(), &[]);
    let landing = read(site.path().join("public/p/seo-consultant/index.html"));
    assert!(
        landing.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>"),
        "{landing}"
    );
    assert!(!landing.contains("<script>alert(1)"));
}

#[test]
fn sub_folder_build_prefixes_every_link_with_the_base_path() {
    let site = copy_site(&example_site());
    let out_dir = site.path().join("host/public/partners");
    let args = [
        "--out",
        out_dir.to_str().unwrap(),
        "--base-url",
        "https://host.example/partners/",
    ];
    // The example's links are host paths (`/demo`): the host output here is empty, so the link
    // check (against `host/public`, the folder above the base path) refuses the build.
    let refused = run(site.path(), &[&["build"][..], &args].concat());
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("`cta.url` links to `/demo`, which is not a page of the site"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing written");
    build_ok(site.path(), &[&args[..], &["--no-link-check"]].concat());
    let landing = read(out_dir.join("p/seo-consultant/index.html"));
    assert!(landing.contains(
        r#"<link rel="canonical" href="https://host.example/partners/p/seo-consultant/">"#
    ));
    // Links written in partner files are host paths: no prefix (pages of ours get one).
    assert!(landing.contains(r#"href="/demo" data-pp="cta""#));
    assert!(landing.contains(r#"<a class="brand" href="/partners/">"#));
    assert!(landing.contains(r#"href="/partners/p/seo-consultant/index.html.md""#));
    let kit = read(site.path().join("kits/seo-consultant/index.html"));
    assert!(kit.contains("https://host.example/partners/go/seo-consultant?campaign=webinar-dec"));
    assert!(read(out_dir.join("sitemap.xml"))
        .contains("<loc>https://host.example/partners/p/nocode-agency/</loc>"));
    assert!(!site.path().join("public").exists());
}

#[test]
fn a_site_template_overrides_the_default() {
    let site = copy_site(&example_site());
    let tdir = site.path().join("templates");
    // The example site's templates/ holds the defaults; start from none.
    let _ = std::fs::remove_dir_all(&tdir);
    std::fs::create_dir_all(&tdir).unwrap();
    std::fs::write(
        tdir.join("kit.html"),
        "{% extends \"base.html\" %}{% block main %}<h1>Custom kit for {{ partner.name }}</h1>{% endblock %}\n",
    )
    .unwrap();
    build_ok(site.path(), &[]);
    let kit = read(site.path().join("kits/nocode-agency/index.html"));
    assert!(
        kit.contains("<h1>Custom kit for No-code agency partners</h1>"),
        "{kit}"
    );
    let landing = read(site.path().join("public/p/nocode-agency/index.html"));
    assert!(
        landing.contains("data-pp=\"lead_magnet\""),
        "other templates stay the defaults"
    );
}

#[test]
fn flags_of_later_issues_are_refused_clearly() {
    let site = copy_site(&example_site());
    let out = run(site.path(), &["build", "--preview"]);
    assert_eq!(out.status.code(), Some(1));
    // `--preview` annotates pages with funnel figures (issue 7): without events it is refused.
    assert!(String::from_utf8_lossy(&out.stderr).contains("they need `--events`"));
    assert!(!site.path().join("public").exists());
}

#[test]
fn init_scaffolds_a_site_that_builds_and_refuses_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("my-site");
    let out = std::process::Command::new(support::bin())
        .args(["init"])
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("templates/"));
    assert!(
        !site.join("templates").exists(),
        "templates are embedded, not copied"
    );
    // A fresh site checks clean, with the weekly report workflow and a .gitignore for the
    // private and cached files.
    let out = support::run(&site, &["check"]);
    assert!(
        out.status.success(),
        "check on a fresh init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let workflow = support::read(site.join(".github/workflows/partner-report.yml"));
    assert!(
        workflow.contains("--events \"d1:$D1_DATABASE\""),
        "{workflow}"
    );
    assert!(
        workflow.contains("D1_DATABASE: partner-events\n"),
        "{workflow}"
    );
    let ignore = support::read(site.join(".gitignore"));
    for line in ["/kits", "/.partner-pages", "*.db"] {
        assert!(ignore.lines().any(|l| l == line), "{line} not in {ignore}");
    }
    build_ok(&site, &[]);
    assert!(site
        .join("public/p/newsletter-friends/index.html")
        .is_file());
    assert!(site.join("public/launch-checklist/index.html").is_file());
    assert!(
        !site.join("public/.github").exists(),
        "the workflow is not part of the site"
    );

    let again = std::process::Command::new(support::bin())
        .arg("init")
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
}

#[test]
fn init_workflow_adds_the_weekly_job_to_an_existing_site_without_overwriting() {
    let site = copy_site(&example_site());
    // The job reads the site's own D1 database.
    let config = site.path().join("partner-pages.yaml");
    let text = support::read(&config).replace("database: partner-events", "database: aikit-events");
    std::fs::write(&config, text).unwrap();
    let out = run(site.path(), &["init", "--workflow"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = site.path().join(".github/workflows/partner-report.yml");
    let written = support::read(&file);
    assert!(
        written.contains("  D1_DATABASE: aikit-events\n"),
        "{written}"
    );
    assert!(!written.contains("D1_DATABASE: partner-events"));

    // A second run, or a file of the user's, is never overwritten.
    std::fs::write(&file, "# mine\n").unwrap();
    let again = run(site.path(), &["init", "--workflow"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    assert_eq!(support::read(&file), "# mine\n");
}

#[test]
fn check_reports_template_errors_without_writing() {
    let site = copy_site(&example_site());
    let tdir = site.path().join("templates");
    std::fs::create_dir_all(&tdir).unwrap();
    std::fs::write(tdir.join("landing.html"), "<p>\n{{ partner.headline }}\n").unwrap();
    let out = run(site.path(), &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("templates/landing.html:2:"), "{stderr}");
    assert!(!site.path().join("public").exists());
}

/// A page with the parts owned elsewhere replaced by markers: the CSS (templates/style.css),
/// the beacon (render/beacon.rs) and their CSP hashes, which change with them.
fn redacted(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    // Style block.
    if let (Some(a), Some(b)) = (rest.find("<style>"), rest.find("</style>")) {
        out.push_str(&rest[..a + "<style>".len()]);
        out.push_str("/* templates/style.css */");
        rest = &rest[b..];
    }
    // Inline scripts.
    while let Some(a) = rest.find("<script") {
        let Some(gt) = rest[a..].find('>') else { break };
        let Some(end) = rest[a..].find("</script>") else {
            break;
        };
        out.push_str(&rest[..a + gt + 1]);
        out.push_str("/* beacon */");
        rest = &rest[a + end..];
    }
    out.push_str(rest);
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(a) = rest.find("'sha256-") {
        cleaned.push_str(&rest[..a]);
        cleaned.push_str("'sha256-[hash]'");
        let after = &rest[a + 1..];
        rest = &after[after.find('\'').map(|i| i + 1).unwrap_or(after.len())..];
    }
    cleaned.push_str(rest);
    cleaned
}

#[test]
fn example_pages_match_their_snapshots() {
    let site = copy_site(&example_site());
    build_ok(site.path(), &[]);
    let public = site.path().join("public");
    for (name, path) in [
        (
            "landing_seo_consultant",
            "public/p/seo-consultant/index.html",
        ),
        ("kit_seo_consultant", "kits/seo-consultant/index.html"),
        ("index", "public/index.html"),
        ("content_llms_txt_guide", "public/llms-txt-guide/index.html"),
    ] {
        insta::assert_snapshot!(name, redacted(&read(site.path().join(path))));
    }
    insta::assert_snapshot!(
        "kit_seo_consultant_markdown",
        read(site.path().join("kits/seo-consultant/index.md"))
    );
    insta::assert_snapshot!("sitemap", read(public.join("sitemap.xml")));
}

#[test]
fn noindex_drafts_and_sections_stay_out_of_the_sitemap_and_index() {
    let site = copy_site(&example_site());
    let file = site.path().join("partners/nocode-agency.yaml");
    std::fs::write(&file, format!("{}noindex: true\n", read(&file))).unwrap();
    let briefs = site.path().join("content/briefs");
    std::fs::create_dir_all(&briefs).unwrap();
    std::fs::write(
        briefs.join("next-week.md"),
        "---\ntitle: Brief for next week\ndraft: true\n---\n\nNot for publication.\n",
    )
    .unwrap();
    std::fs::write(
        briefs.join("agency-faq.md"),
        "---\ntitle: Agency FAQ\nkind: tutorial\n---\n\nPublished from a sub-folder.\n",
    )
    .unwrap();
    build_ok(site.path(), &[]);
    let public = site.path().join("public");
    let landing = read(public.join("p/nocode-agency/index.html"));
    assert!(landing.contains(r#"<meta name="robots" content="noindex">"#));
    let sitemap = read(public.join("sitemap.xml"));
    assert!(!sitemap.contains("nocode-agency"), "{sitemap}");
    assert!(!sitemap.contains("/kit/"), "{sitemap}");
    assert!(!sitemap.contains("seo-checklist"), "sections are not pages");
    assert!(
        sitemap.contains("<loc>https://aikit.example/agency-faq/</loc>"),
        "{sitemap}"
    );
    assert!(
        !public.join("next-week").exists(),
        "drafts are not published"
    );
    assert!(public.join("agency-faq/index.html").is_file());
    let index = read(public.join("index.html"));
    assert!(
        !index.contains("/p/nocode-agency/"),
        "noindex partners are not listed"
    );
    assert!(index.contains("/agency-faq/"));
}
