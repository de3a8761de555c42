//! `calendar` and `build --events/--preview` end to end: the example site, an event table
//! generated for it (the seed's two example partners plus other traffic), and the real parsers
//! (Python `icalendar` and `jsonschema`, the Nu HTML checker).

use crate::support;
use std::collections::BTreeMap;
use std::path::Path;

use crate::support::calendar::*;

/// Every file under `dirs` of `root`, path -> bytes.
fn tree(root: &Path, dirs: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for d in dirs {
        let base = root.join(d);
        for e in walkdir::WalkDir::new(&base)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            // The build stamp holds mtimes: bookkeeping, not output.
            .filter(|e| e.file_name() != ".partner-pages-stamp")
        {
            if e.file_type().is_file() {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

#[test]
fn seed_partner_b_gets_a_co_marketing_brief_and_email() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let brief = task(&all, "nocode-agency", "brief");
    assert_eq!(brief["rule"], "co-marketing");
    assert_eq!(brief["format"], "guest-post");
    assert_eq!(
        brief["figures"]["action"]["rule"],
        "few_visits_strong_activation"
    );
    let text = read(root, brief["file"].as_str().unwrap());
    assert!(text.starts_with("---\n"), "{text}");
    for needle in [
        "draft: true",
        "partner: nocode-agency",
        "target_stage: \"activation\"",
        "promise: \"Migration playbook\"",
        "objections:",
        "activation: { count: 9,",
        "rule: co-marketing",
    ] {
        assert!(text.contains(needle), "brief lacks `{needle}`:\n{text}");
    }
    let email = task(&all, "nocode-agency", "email");
    assert_eq!(email["rule"], "co-marketing");
    let text = read(root, email["file"].as_str().unwrap());
    assert!(text.contains("guest post"), "{text}");
    assert!(text.contains("9 activations from 38 visitors"), "{text}");
    assert!(
        text.contains("https://aikit.example/go/nocode-agency?campaign=partner-summit"),
        "the email carries the tracked link of the campaign that converted:\n{text}"
    );
    // Co-marketing proposal: a tracked campaign for the slot, not a landing rewrite.
    let p = read(
        root,
        task(&all, "nocode-agency", "proposal")["file"]
            .as_str()
            .unwrap(),
    );
    assert!(p.contains("guest-post-2026-11-30"), "{p}");
    assert!(!p.contains("+  headline:"), "{p}");
}

#[test]
fn every_task_names_its_rule_and_figures() {
    let (site, db) = seed_site();
    let all = tasks(&calendar(site.path(), &db, "json"));
    // Partners A and B get three tasks each; the two within their bands keep their page
    // (`build-on-strength`: a brief and an email, no proposal).
    assert_eq!(all.len(), 10, "{all:#?}");
    for code in ["founder-community", "ai-tools-directory"] {
        let mine: Vec<_> = all.iter().filter(|t| t["partner"] == code).collect();
        assert_eq!(mine.len(), 2, "{mine:#?}");
        assert!(mine
            .iter()
            .all(|t| t["rule"] == "build-on-strength" && t["kind"] != "proposal"));
    }
    for t in &all {
        assert!(!t["rule"].as_str().unwrap().is_empty());
        assert!(t["reason"].as_str().unwrap().contains("visitors"), "{t:#}");
        assert!(t["figures"]["action"]["rule"]
            .as_str()
            .is_some_and(|r| !r.is_empty()));
    }
}

#[test]
fn partners_under_min_visitors_only_get_a_traffic_email() {
    let site = support::copy_site(&support::example_site());
    let mut traffic: Vec<Traffic> = Vec::new();
    for t in SEED_TRAFFIC {
        let mut t = Traffic { ..*t };
        if t.code == "founder-community" {
            t = Traffic {
                clicks: 30,
                visits: 25,
                lead_magnets: 4,
                ctas: 1,
                activations: 0,
                ..t
            };
        }
        traffic.push(t);
    }
    let db = events_db(site.path(), &traffic);
    let all = tasks(&calendar(site.path(), &db, "json"));
    let mine: Vec<_> = all
        .iter()
        .filter(|t| t["partner"] == "founder-community")
        .collect();
    assert_eq!(mine.len(), 1, "{mine:#?}");
    assert_eq!(mine[0]["kind"], "email");
    assert_eq!(mine[0]["rule"], "collect-traffic");
    assert!(!site
        .path()
        .join("content/briefs")
        .read_dir()
        .unwrap()
        .any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains("founder-community")
        }));
}

#[test]
fn weeks_move_on_to_the_next_weak_step_and_alternate_co_marketing_formats() {
    let (site, db) = seed_site();
    let out = support::run(
        site.path(),
        &[
            "calendar",
            "--events",
            db.to_str().unwrap(),
            "--now",
            NOW,
            "--start",
            START,
            "--weeks",
            "2",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = tasks(&String::from_utf8(out.stdout).unwrap());
    let week = |w: u64, partner: &str, kind: &str| {
        all.iter()
            .find(|t| t["week"] == w && t["partner"] == partner && t["kind"] == kind)
            .unwrap_or_else(|| panic!("week {w} {partner} {kind}"))
            .clone()
    };
    assert_eq!(
        week(1, "seo-consultant", "brief")["target_stage"],
        "lead_magnet"
    );
    assert_ne!(
        week(2, "seo-consultant", "brief")["target_stage"],
        "lead_magnet"
    );
    assert_eq!(week(2, "seo-consultant", "brief")["date"], "2026-12-09");
    assert_eq!(week(1, "nocode-agency", "brief")["format"], "guest-post");
    assert_eq!(week(2, "nocode-agency", "brief")["format"], "webinar");
}

#[test]
fn markdown_calendar_lists_every_task_with_its_file() {
    let (site, db) = seed_site();
    let md = calendar(site.path(), &db, "md");
    assert!(
        md.starts_with("# AIKit Partners content calendar\n"),
        "{md}"
    );
    assert!(md.contains("## Week 1"));
    assert_eq!(md.matches("](content/briefs/").count(), 4, "{md}");
    assert_eq!(md.matches("](emails/").count(), 4, "{md}");
}

#[test]
fn rerun_with_the_same_data_and_dates_changes_no_byte() {
    let (site, db) = seed_site();
    let root = site.path();
    let first_out = calendar(root, &db, "md");
    let first = tree(root, &["content/briefs", "emails", "proposals"]);
    assert_eq!(first.len(), 10);
    let manifest = std::fs::read(root.join(".pp-calendar.json")).expect("the manifest");
    let second_out = calendar(root, &db, "md");
    assert_eq!(first_out, second_out);
    assert_eq!(
        first,
        tree(root, &["content/briefs", "emails", "proposals"])
    );
    assert_eq!(
        manifest,
        std::fs::read(root.join(".pp-calendar.json")).unwrap(),
        "the manifest is unchanged too"
    );
}

/// The seed traffic with more of it: the same tasks (so the same file names), other figures.
fn more_traffic() -> Vec<Traffic> {
    SEED_TRAFFIC
        .iter()
        .map(|t| Traffic {
            clicks: t.clicks + 20,
            visits: t.visits + 20,
            ..*t
        })
        .collect()
}

/// The task files a fresh copy of the site gets from `traffic`: what "the new version" is.
fn fresh_files(traffic: &[Traffic]) -> BTreeMap<String, Vec<u8>> {
    let site = support::copy_site(&support::example_site());
    let db = events_db(site.path(), traffic);
    calendar(site.path(), &db, "json");
    tree(site.path(), &["content/briefs", "emails", "proposals"])
}

#[test]
fn an_unedited_task_file_is_rewritten_in_place_when_the_data_changes() {
    let (site, db) = seed_site();
    let root = site.path();
    calendar(root, &db, "json");
    let first = tree(root, &["content/briefs", "emails", "proposals"]);

    let data = tempfile::tempdir().unwrap();
    let more = events_db(data.path(), &more_traffic());
    let want = fresh_files(&more_traffic());
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>(),
        "the new data plans the same task files"
    );
    let changed: Vec<_> = want.keys().filter(|k| want[*k] != first[*k]).collect();
    assert!(!changed.is_empty(), "the new data changes some files");

    let again = tasks(&calendar(root, &more, "json"));
    assert_eq!(
        tree(root, &["content/briefs", "emails", "proposals"]),
        want,
        "every unedited file holds the new version, in place, and no -2 copy exists"
    );
    for t in &again {
        assert!(
            want.contains_key(t["file"].as_str().unwrap()),
            "the calendar points at the rewritten file: {t}"
        );
    }
}

#[test]
fn an_edited_task_file_is_kept_and_new_data_goes_to_a_suffixed_copy() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let rel = task(&all, "seo-consultant", "brief")["file"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = read(root, &rel).replace("## Goal", "## Goal\n\nOur editor's own angle.");
    std::fs::write(root.join(&rel), &edited).unwrap();

    let data = tempfile::tempdir().unwrap();
    let more = events_db(data.path(), &more_traffic());
    let want = fresh_files(&more_traffic());
    let again = tasks(&calendar(root, &more, "json"));
    assert_eq!(read(root, &rel), edited, "the edit survived new data");
    let copy = rel.replace(".md", "-2.md");
    assert_eq!(
        task(&again, "seo-consultant", "brief")["file"],
        copy.as_str()
    );
    assert_eq!(
        std::fs::read(root.join(&copy)).unwrap(),
        want[&rel],
        "the copy is the new version"
    );
    // Every other (unedited) file took the new data in place.
    let mut got = tree(root, &["content/briefs", "emails", "proposals"]);
    assert_eq!(got.remove(&copy), Some(want[&rel].clone()));
    got.insert(rel.clone(), want[&rel].clone());
    assert_eq!(got, want);
}

#[test]
fn an_edited_brief_is_never_overwritten() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let rel = task(&all, "seo-consultant", "brief")["file"]
        .as_str()
        .unwrap()
        .to_string();
    let generated = read(root, &rel);
    let edited = generated.replace("## Goal", "## Goal\n\nOur editor's own angle.");
    std::fs::write(root.join(&rel), &edited).unwrap();

    let again = tasks(&calendar(root, &db, "json"));
    assert_eq!(read(root, &rel), edited, "the edit survived");
    let new_rel = task(&again, "seo-consultant", "brief")["file"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(new_rel, rel.replace(".md", "-2.md"));
    assert_eq!(
        read(root, &new_rel),
        generated,
        "the new version is what we would have written"
    );

    // A third run finds its own version in -2 and writes nothing new.
    let before = tree(root, &["content/briefs"]);
    calendar(root, &db, "json");
    assert_eq!(before, tree(root, &["content/briefs"]));
}

#[test]
fn site_templates_override_the_brief_template() {
    let (site, db) = seed_site();
    let root = site.path();
    std::fs::create_dir_all(root.join("templates/calendar")).unwrap();
    std::fs::write(
        root.join("templates/calendar/brief.md"),
        "---\ntitle: {{ task.title | yaml }}\ndraft: true\n---\nHOUSE STYLE for {{ partner.code }}: {{ task.rule }}\n",
    )
    .unwrap();
    let all = tasks(&calendar(root, &db, "json"));
    let text = read(
        root,
        task(&all, "nocode-agency", "brief")["file"]
            .as_str()
            .unwrap(),
    );
    assert!(
        text.contains("HOUSE STYLE for nocode-agency: co-marketing"),
        "{text}"
    );
    // The other templates keep their defaults.
    let email = read(
        root,
        task(&all, "nocode-agency", "email")["file"]
            .as_str()
            .unwrap(),
    );
    assert!(email.contains("Hi No-code agency partners team"), "{email}");
}

#[test]
fn a_broken_task_template_fails_before_any_file_is_written() {
    let (site, db) = seed_site();
    let root = site.path();
    std::fs::create_dir_all(root.join("templates/calendar")).unwrap();
    std::fs::write(
        root.join("templates/calendar/email.md"),
        "Hi {{ partner.nope }}\n",
    )
    .unwrap();
    let out = support::run(
        root,
        &["calendar", "--events", db.to_str().unwrap(), "--now", NOW],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("templates/calendar/email.md"), "{err}");
    assert!(!root.join("content/briefs").exists() && !root.join("emails").exists());
}

#[test]
fn build_never_publishes_draft_briefs() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let out = support::run(root, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = root.join("public");
    for t in all.iter().filter(|t| t["kind"] == "brief") {
        let slug = Path::new(t["file"].as_str().unwrap())
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(!public.join(&slug).exists(), "{slug} was published");
        for (path, bytes) in tree(&public, &["."]) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&slug),
                "{path} mentions the draft {slug}"
            );
        }
    }
}

#[test]
fn build_with_events_is_byte_identical_to_build_without() {
    let (site, db) = seed_site();
    let root = site.path();
    let dir = tempfile::tempdir().unwrap();
    let (plain, annotated) = (dir.path().join("plain"), dir.path().join("annotated"));
    build(root, &plain, &[]);
    build(
        root,
        &annotated,
        &["--events", db.to_str().unwrap(), "--now", NOW],
    );
    let (a, b) = (tree(&plain, &["."]), tree(&annotated, &["."]));
    assert!(
        a.keys().any(|k| k.contains("p/seo-consultant")),
        "{:?}",
        a.keys()
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs with --events");
    }
}

#[test]
fn a_template_that_opts_in_shows_the_funnel() {
    let (site, db) = seed_site();
    let root = site.path();
    let landing =
        std::fs::read_to_string(support::repo_root().join("templates/landing.html")).unwrap();
    let opted_in = landing.replace(
        "{% endblock %}\n{% block scripts %}",
        "{% if funnel %}<p class=\"funnel\">{{ funnel.figures.counts.visitors }} visitors, rule {{ funnel.action.rule }}</p>{% endif %}\n{% endblock %}\n{% block scripts %}",
    );
    assert_ne!(
        landing, opted_in,
        "landing.html changed shape; update this test"
    );
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(root.join("templates/landing.html"), opted_in).unwrap();
    let dir = tempfile::tempdir().unwrap();
    build(
        root,
        dir.path(),
        &["--events", db.to_str().unwrap(), "--now", NOW],
    );
    let page = std::fs::read_to_string(dir.path().join("p/seo-consultant/index.html")).unwrap();
    assert!(
        page.contains("290 visitors, rule many_clicks_weak_lead_magnet"),
        "{page}"
    );
    build(root, dir.path(), &[]);
    let page = std::fs::read_to_string(dir.path().join("p/seo-consultant/index.html")).unwrap();
    assert!(
        !page.contains("class=\"funnel\""),
        "no funnel without --events"
    );
}

#[test]
fn bad_plan_flags_are_user_errors_that_write_nothing() {
    let (site, db) = seed_site();
    let root = site.path();
    let db = db.to_str().unwrap();
    for (args, needle) in [
        (vec!["--weeks", "0"], "--weeks 0: expected 1 to 52"),
        (
            vec!["--start", "next monday"],
            "--start next monday: not a date",
        ),
        (vec!["--now", "yesterday"], "--now yesterday"),
    ] {
        let mut all = vec!["calendar", "--events", db];
        all.extend(args);
        let out = support::run(root, &all);
        assert_eq!(out.status.code(), Some(1), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
        assert!(!root.join("content/briefs").exists() && !root.join("emails").exists());
    }
    let out = support::run(root, &["build", "--now", NOW]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("need `--events`"));
}
