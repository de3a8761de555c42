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
    assert!(
        text.contains("9 of 38 visitors went on to import a first client site (23.7%)"),
        "{text}"
    );
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
    // Partners A and B get three tasks each; the two whose intervals still cross a band edge
    // change nothing on their page (`keep-measuring`: a check first, then a brief on what
    // converts; no proposal, no "keep as is" email).
    assert_eq!(all.len(), 10, "{all:#?}");
    for code in ["founder-community", "ai-tools-directory"] {
        let mine: Vec<_> = all.iter().filter(|t| t["partner"] == code).collect();
        assert_eq!(mine.len(), 2, "{mine:#?}");
        assert_eq!(mine[0]["rule"], "keep-measuring", "{mine:#?}");
        assert_eq!(mine[0]["figures"]["action"]["rule"], "open_question");
        assert!(mine
            .iter()
            .all(|t| t["kind"] != "proposal" && t["kind"] != "email"));
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
fn week_two_measures_the_fix_of_week_one_and_co_marketing_moves_to_a_webinar() {
    let (site, db) = seed_site();
    let all = calendar_weeks(site.path(), &db, 2);
    let week = |w: u64, partner: &str, kind: &str| {
        all.iter()
            .find(|t| t["week"] == w && t["partner"] == partner && t["kind"] == kind)
            .unwrap_or_else(|| panic!("week {w} {partner} {kind}: {all:#?}"))
            .clone()
    };
    let fix = week(1, "seo-consultant", "proposal");
    assert_eq!(fix["target_stage"], "lead_magnet");
    let measure = week(2, "seo-consultant", "check");
    assert_eq!(measure["phase"], "measure");
    assert_eq!(measure["target_stage"], "lead_magnet");
    assert_eq!(measure["follows"], fix["id"]);
    assert_eq!(measure["date"], "2026-12-10");
    // Readable once 100 visitors (290 in 28 days: about 72 a week) arrived after the change
    // of 2026-11-30 and are a day old: 10 days later, plus the 1-day horizon.
    assert_eq!(measure["ready"], "2026-12-11", "{measure:#}");
    let reason = measure["reason"].as_str().unwrap();
    assert!(reason.contains("2 of 290 visitors: 0.7%"), "{reason}");
    assert!(
        all.iter().all(|t| !(t["partner"] == "seo-consultant"
            && t["week"] == 2
            && t["kind"] == "proposal")),
        "no second change while the first is measured"
    );
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
    assert_eq!(md.matches("](emails/").count(), 2, "{md}");
}

#[test]
fn rerun_with_the_same_data_and_dates_changes_no_byte() {
    let (site, db) = seed_site();
    let root = site.path();
    let first_out = calendar(root, &db, "md");
    let first = tree(root, &["content/briefs", "emails", "proposals"]);
    assert_eq!(first.len(), 8);
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
    for t in again.iter().filter(|t| t["kind"] != "check") {
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
        root.join("templates/calendar/email.txt"),
        "Hi {{ partner.nope }}\n",
    )
    .unwrap();
    let out = support::run(
        root,
        &["calendar", "--events", db.to_str().unwrap(), "--now", NOW],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("templates/calendar/email.txt"), "{err}");
    assert!(!root.join("content/briefs").exists() && !root.join("emails").exists());
}

#[test]
fn briefs_go_to_the_configured_content_folder() {
    let (site, db) = seed_site();
    let root = site.path();
    // The site's content moved to `site-pages/` (as at a host's root, where `content/` is the
    // host generator's).
    std::fs::rename(root.join("content"), root.join("site-pages")).unwrap();
    let config = root.join("partner-pages.yaml");
    let text = read(root, "partner-pages.yaml");
    std::fs::write(&config, format!("{text}content_dir: site-pages\n")).unwrap();
    for e in std::fs::read_dir(root.join("partners")).unwrap() {
        let path = e.unwrap().path();
        let yaml = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, yaml.replace("body: content/", "body: site-pages/")).unwrap();
    }
    support::run_ok(root, &["check"]);
    let all = tasks(&calendar(root, &db, "json"));
    let briefs: Vec<&str> = all
        .iter()
        .filter(|t| t["kind"] == "brief")
        .map(|t| t["file"].as_str().unwrap())
        .collect();
    assert_eq!(briefs.len(), 4, "{all:#?}");
    for file in &briefs {
        assert!(file.starts_with("site-pages/briefs/"), "{file}");
        assert!(read(root, file).contains("draft: true"), "{file}");
    }
    assert!(!root.join("content").exists(), "nothing under content/");
    // The briefs are draft content of the site: it still checks.
    support::run_ok(root, &["check"]);
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

/// Apply a unified diff (as `calendar` writes them: `--- a/<path>`, hunks with 3 lines of
/// context) to `text`, checking every context and removed line where the hunk says it is.
/// An independent reader of the format, so the plain tier checks that proposals stack; the
/// e2e tier applies the same files with `git apply`.
fn apply_patch(text: &str, patch: &str) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let diff = &patch[patch.find("\n--- a/").ok_or("no diff in the proposal")? + 1..];
    let mut offset: i64 = 0;
    let mut it = diff.lines().skip(2).peekable();
    while let Some(h) = it.next() {
        let head = h.strip_prefix("@@ -").ok_or(format!("not a hunk: {h}"))?;
        let old = head.split(' ').next().unwrap();
        let start: i64 = old.split(',').next().unwrap().parse().unwrap();
        let mut at = (start - 1 + offset).max(0) as usize;
        if old.ends_with(",0") {
            at = (start + offset) as usize;
        }
        let mut i = at;
        while let Some(l) = it.peek() {
            if l.starts_with("@@") {
                break;
            }
            let l = it.next().unwrap();
            let (sign, body) = l.split_at(1);
            match sign {
                " " | "-" => {
                    if lines.get(i).map(String::as_str) != Some(body) {
                        return Err(format!(
                            "line {} is {:?}, the patch expects {body:?}",
                            i + 1,
                            lines.get(i)
                        ));
                    }
                    if sign == "-" {
                        lines.remove(i);
                        offset -= 1;
                    } else {
                        i += 1;
                    }
                }
                "+" => {
                    lines.insert(i, body.to_string());
                    i += 1;
                    offset += 1;
                }
                "\\" => {}
                _ => return Err(format!("bad patch line {l:?}")),
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// The properties a plan of several weeks must have, on any site and data: per partner no
/// two tasks alike, every proposal applying after the partner's earlier ones (and the result
/// loading), emails a partner can receive as written.
fn assert_follow_through(root: &Path, all: &[serde_json::Value]) {
    let mut partners: Vec<&str> = all.iter().map(|t| t["partner"].as_str().unwrap()).collect();
    partners.dedup();
    partners.sort_unstable();
    partners.dedup();
    let mut seen = std::collections::BTreeSet::new();
    for t in all {
        for k in ["id", "file"] {
            assert!(
                seen.insert(t[k].to_string()),
                "two tasks share {k} {}",
                t[k]
            );
        }
    }
    for code in &partners {
        let mine: Vec<&serde_json::Value> = all.iter().filter(|t| t["partner"] == *code).collect();
        let mut titles = std::collections::BTreeSet::new();
        let mut bodies = std::collections::BTreeSet::new();
        for t in &mine {
            assert!(
                titles.insert(t["title"].as_str().unwrap()),
                "{code}: title twice: {t:#}"
            );
            let body = read(root, t["file"].as_str().unwrap());
            // Dates differ between weeks; what matters is that the text is not the same task.
            let undated: String = body
                .lines()
                .filter(|l| {
                    !l.starts_with("Subject:")
                        && !l.starts_with("title:")
                        && !l.starts_with("description:")
                })
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                bodies.insert(undated),
                "{code}: the same task file twice: {}",
                t["file"]
            );
        }
        // Proposals stack: each applies to the file as the earlier ones leave it.
        let mut proposals: Vec<&&serde_json::Value> =
            mine.iter().filter(|t| t["kind"] == "proposal").collect();
        proposals.sort_by_key(|t| t["date"].as_str().unwrap().to_string());
        let file = format!("partners/{code}.yaml");
        let mut text = read(root, &file);
        for p in proposals {
            let patch = read(root, p["file"].as_str().unwrap());
            text = apply_patch(&text, &patch).unwrap_or_else(|e| {
                panic!(
                    "{} does not apply after the earlier ones: {e}\n{patch}",
                    p["file"]
                )
            });
            let dir = tempfile::tempdir().unwrap();
            let copy = support::copy_site(root);
            std::fs::write(copy.path().join(&file), &text).unwrap();
            let loaded = partner_pages::load(copy.path(), &Default::default());
            assert!(
                loaded.is_ok(),
                "{file} after {}: {:?}",
                p["file"],
                loaded.err()
            );
            drop(dir);
        }
        // Emails: a concrete subject, no markup, no figures of nothing.
        for t in mine.iter().filter(|t| t["kind"] == "email") {
            let text = read(root, t["file"].as_str().unwrap());
            let subject = t["subject"].as_str().unwrap();
            assert!(
                text.starts_with(&format!(
                    "To: {}\nSubject: {subject}\n\n",
                    t["partner_name"].as_str().unwrap()
                )),
                "{text}"
            );
            let body = &text[text.find("\n\n").unwrap()..];
            for bad in ["`", "**", "](", "<a", "<p", "</", "\n#", "{{", "{%", "\n- "] {
                assert!(
                    !text.contains(bad),
                    "{}: markup {bad:?} in\n{text}",
                    t["file"]
                );
            }
            for zero in ["0 visitors", "0 visitor ", " 0 of ", "(0%)"] {
                assert!(
                    !text.contains(&format!(" {zero}")) && !text.contains(&format!("\n{zero}")),
                    "{}: {zero:?} in\n{text}",
                    t["file"]
                );
            }
            if t["figures"]["visitors"].as_u64().unwrap() > 0 {
                assert!(
                    subject.chars().any(|c| c.is_ascii_digit()),
                    "no figure in the subject {subject:?}"
                );
                let visitors = t["figures"]["visitors"].to_string();
                assert!(
                    body.contains(&visitors) || body.contains(" of "),
                    "no figure in\n{text}"
                );
            } else {
                assert!(
                    !text.to_lowercase().contains("thank"),
                    "a thank-you for nothing:\n{text}"
                );
            }
        }
    }
}

#[test]
fn four_weeks_follow_through_for_every_kind_of_partner() {
    let (site, db) = follow_through_site();
    let root = site.path();
    let all = calendar_weeks(root, &db, 4);
    assert_follow_through(root, &all);
    let of = |code: &str| -> Vec<&serde_json::Value> {
        all.iter().filter(|t| t["partner"] == code).collect()
    };
    let standing = |code: &str| of(code)[0]["figures"]["action"]["rule"].clone();
    assert_eq!(standing("seo-consultant"), "many_clicks_weak_lead_magnet");
    assert_eq!(standing("nocode-agency"), "few_visits_strong_activation");
    assert_eq!(standing("webinar-club"), "above_band");
    assert_eq!(standing("slack-group"), "too_early");
    assert_eq!(standing("newsletter-swap"), "insufficient_data");
    assert_eq!(standing("founder-community"), "insufficient_data");
    // Every partner gets four weeks of work, and no two weeks alike.
    for code in [
        "seo-consultant",
        "nocode-agency",
        "webinar-club",
        "slack-group",
        "newsletter-swap",
        "founder-community",
        "ai-tools-directory",
    ] {
        let mine = of(code);
        let weeks: Vec<Vec<String>> = (1..=4)
            .map(|w| {
                let mut k: Vec<String> = mine
                    .iter()
                    .filter(|t| t["week"] == w)
                    .map(|t| format!("{}/{}/{}", t["kind"], t["phase"], t["target_stage"]))
                    .collect();
                k.sort();
                k
            })
            .collect();
        for (i, w) in weeks.iter().enumerate() {
            assert!(!w.is_empty(), "{code}: week {} is empty: {weeks:?}", i + 1);
            assert!(
                !weeks[..i].contains(w),
                "{code}: week {} repeats: {weeks:?}",
                i + 1
            );
        }
        println!("{code}: {weeks:?}");
    }

    // Too early: wait until the ready date, no change to the page.
    let young = of("slack-group");
    assert!(young.iter().all(|t| t["kind"] != "proposal"), "{young:#?}");
    let wait = young.iter().find(|t| t["week"] == 1).unwrap();
    assert_eq!(
        (wait["kind"].as_str(), wait["phase"].as_str()),
        (Some("check"), Some("wait"))
    );
    let ready = wait["ready"].as_str().expect("a ready date");
    assert!(wait["title"].as_str().unwrap().contains(ready), "{wait:#}");
    assert!(wait["reason"].as_str().unwrap().contains(ready), "{wait:#}");
    assert!(read(root, wait["file"].as_str().unwrap()).contains(ready));

    // Above the band: the inventory the funnel's rule names, with the verdict's figures.
    let above = of("webinar-club");
    let email = above
        .iter()
        .find(|t| t["kind"] == "email" && t["week"] == 1)
        .unwrap();
    let text = read(root, email["file"].as_str().unwrap());
    for w in ["guest post", "webinar", "co-marketing", "higher commission"] {
        assert!(text.contains(w), "{w} not in\n{text}");
    }
    assert!(
        email["subject"]
            .as_str()
            .unwrap()
            .starts_with("150 of 300 visitors"),
        "{email:#}"
    );
    let because = email["figures"]["action"]["because"].as_str().unwrap();
    let cite = "150 of 300 visitors: 50% [44.4–55.6%] (band 20%–35%)";
    assert!(because.contains(cite), "{because}");
    assert!(
        email["reason"].as_str().unwrap().contains(cite),
        "{email:#}"
    );

    // Too little traffic: one ask over the four weeks; nobody at all: a launch, no ask.
    let asks = |code: &str| {
        of(code)
            .into_iter()
            .filter(|t| t["kind"] == "email")
            .map(|t| t["phase"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(asks("newsletter-swap"), vec!["ask"]);
    assert_eq!(asks("founder-community"), vec!["launch"]);

    // The experiment's winner is promoted in week 1, by a patch of the partner file.
    let ai = of("ai-tools-directory");
    let promote = ai.iter().find(|t| t["kind"] == "proposal").unwrap();
    assert_eq!(promote["week"], 1);
    assert_eq!(promote["rule"], "promote-winner");
    assert_eq!(promote["figures"]["experiment"]["winner"], "ten-minutes");
    let file = "partners/ai-tools-directory.yaml";
    let promoted = apply_patch(
        &read(root, file),
        &read(root, promote["file"].as_str().unwrap()),
    )
    .unwrap();
    let copy = support::copy_site(root);
    std::fs::write(copy.path().join(file), &promoted).unwrap();
    let site2 =
        partner_pages::load(copy.path(), &Default::default()).expect("loads after the promotion");
    let p = site2.partner("ai-tools-directory").unwrap();
    assert!(p.variants.is_empty(), "{promoted}");
    assert_eq!(p.promise, "Agent-ready in ten minutes");
    assert_eq!(
        p.landing.headline,
        "Make your site agent-ready in ten minutes"
    );
    assert_eq!(p.cta.label, "Start the ten-minute setup");
    assert_eq!(
        p.landing.proof,
        "The llms.txt setup used by 300 directory-listed tools"
    );
    let email = ai
        .iter()
        .find(|t| t["kind"] == "email" && t["week"] == 1)
        .unwrap();
    let text = read(root, email["file"].as_str().unwrap());
    assert!(
        text.contains("\"Agent-ready in ten minutes\": 120 of 300 visitors (40%)"),
        "{text}"
    );
    assert!(
        text.contains("\"Agent-ready llms.txt guide\": 45 of 300 visitors (15%)"),
        "{text}"
    );
}

#[test]
fn four_weeks_on_the_example_site_follow_through() {
    let (site, db) = seed_site();
    let all = calendar_weeks(site.path(), &db, 4);
    assert_follow_through(site.path(), &all);
    let seo: Vec<_> = all
        .iter()
        .filter(|t| t["partner"] == "seo-consultant" && t["kind"] == "proposal")
        .collect();
    assert_eq!(
        seo.len(),
        2,
        "the lead-magnet fix, then the next weak step: {seo:#?}"
    );
    assert_eq!(seo[1]["target_stage"], "cta");
}

#[test]
fn no_experiment_task_while_the_test_has_no_difference_yet() {
    let (site, db) = follow_through_site();
    // The same traffic in both variants: no winner.
    let traffic: Vec<Traffic> = ["control", "ten-minutes"]
        .into_iter()
        .map(|v| Traffic {
            code: "ai-tools-directory",
            campaign: "default",
            clicks: 130,
            visits: 120,
            lead_magnets: 30,
            ctas: 8,
            activations: 2,
            variant: Some(v),
            day: 1,
        })
        .collect();
    drop(db);
    let dir = tempfile::tempdir().unwrap();
    let db = events_db(dir.path(), &traffic);
    let all = calendar_weeks(site.path(), &db, 2);
    let ai: Vec<_> = all
        .iter()
        .filter(|t| t["partner"] == "ai-tools-directory")
        .collect();
    assert_eq!(
        ai[0]["figures"]["experiment"]["verdict"],
        "no_difference_yet"
    );
    assert!(
        ai.iter()
            .all(|t| !["promote-winner", "end-test", "fix-split"]
                .contains(&t["rule"].as_str().unwrap())),
        "{ai:#?}"
    );
}

/// The follow-through site with `ai-tools-directory`'s test fed `control` and `ten-minutes`
/// traffic: (visits, lead magnets) of each.
fn test_site(control: (u32, u32), other: (u32, u32)) -> (tempfile::TempDir, std::path::PathBuf) {
    let (site, old) = follow_through_site();
    std::fs::remove_file(old).unwrap();
    let traffic: Vec<Traffic> = [("control", control), ("ten-minutes", other)]
        .into_iter()
        .map(|(v, (visits, lead_magnets))| Traffic {
            code: "ai-tools-directory",
            campaign: "default",
            clicks: visits,
            visits,
            lead_magnets,
            ctas: 2,
            activations: 0,
            variant: Some(v),
            day: 1,
        })
        .collect();
    let db = events_db(site.path(), &traffic);
    (site, db)
}

#[test]
fn an_equivalent_test_ends_keeping_the_control() {
    // 27.5% in both variants, 3,000 visitors each: the interval fits inside ±5.5 points.
    let (site, db) = test_site((3000, 825), (3000, 825));
    let root = site.path();
    let all = calendar_weeks(root, &db, 2);
    let ai: Vec<_> = all
        .iter()
        .filter(|t| t["partner"] == "ai-tools-directory")
        .collect();
    let x = &ai[0]["figures"]["experiment"];
    assert_eq!(x["verdict"], "stop_equivalent", "{x:#}");
    let end = ai
        .iter()
        .find(|t| t["kind"] == "proposal")
        .expect("an end-test proposal");
    assert_eq!(
        (end["rule"].as_str(), end["week"].as_u64()),
        (Some("end-test"), Some(1))
    );
    let file = "partners/ai-tools-directory.yaml";
    let before = read(root, file);
    let after = apply_patch(&before, &read(root, end["file"].as_str().unwrap())).unwrap();
    assert_eq!(
        after,
        before.replace(AI_TOOLS_VARIANTS, ""),
        "only `variants:` goes"
    );
    let email = ai
        .iter()
        .find(|t| t["kind"] == "email" && t["rule"] == "end-test")
        .unwrap();
    let text = read(root, email["file"].as_str().unwrap());
    assert!(
        text.contains("we keep \"Agent-ready llms.txt guide\""),
        "{text}"
    );
    assert!(text.contains("825 of 3000 visitors (27.5%)"), "{text}");
}

#[test]
fn a_broken_split_gets_a_check_and_no_patch() {
    // 55/45 on a declared 50/50 test, the same rate in both.
    let (site, db) = test_site((1100, 300), (900, 245));
    let all = calendar_weeks(site.path(), &db, 1);
    let ai: Vec<_> = all
        .iter()
        .filter(|t| t["partner"] == "ai-tools-directory")
        .collect();
    assert_eq!(ai[0]["figures"]["experiment"]["verdict"], "invalid_split");
    let fix = ai
        .iter()
        .find(|t| t["rule"] == "fix-split")
        .expect("a fix-split task");
    assert_eq!(fix["kind"], "check");
    assert!(
        fix["reason"].as_str().unwrap().contains("1100/900"),
        "{fix:#}"
    );
    assert!(ai
        .iter()
        .all(|t| !(t["kind"] == "proposal" && t["rule"] != "fix-weakest-step")));
}

#[test]
fn next_weeks_run_measures_the_change_the_last_run_proposed_once_it_is_applied() {
    let (site, db) = seed_site();
    let root = site.path();
    let first = tasks(&calendar(root, &db, "json"));
    let proposal = task(&first, "seo-consultant", "proposal");
    assert_eq!(proposal["target_stage"], "lead_magnet");
    // A week later (same data: the table has nothing newer), before and after applying it.
    let next_week = |root: &Path| {
        let out = support::run(
            root,
            &[
                "calendar",
                "--events",
                db.to_str().unwrap(),
                "--now",
                "2026-11-28T12:00:00Z",
                "--start",
                "2026-12-07",
                "--format",
                "json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tasks(&String::from_utf8(out.stdout).unwrap())
    };
    let seo = |all: &[serde_json::Value]| -> Vec<(String, String)> {
        all.iter()
            .filter(|t| t["partner"] == "seo-consultant")
            .map(|t| {
                (
                    t["kind"].as_str().unwrap().into(),
                    t["phase"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let not_applied = next_week(root);
    assert!(
        seo(&not_applied).contains(&("proposal".into(), "act".into())),
        "not applied: the fix is still proposed: {:?}",
        seo(&not_applied)
    );
    let file = "partners/seo-consultant.yaml";
    let patched = apply_patch(
        &read(root, file),
        &read(root, proposal["file"].as_str().unwrap()),
    )
    .unwrap();
    std::fs::write(root.join(file), patched).unwrap();
    let applied = next_week(root);
    assert_eq!(
        seo(&applied),
        vec![("check".to_string(), "measure".to_string())]
    );
    let check = task(&applied, "seo-consultant", "check");
    assert_eq!(check["follows"], proposal["id"]);
    assert_eq!(check["target_stage"], "lead_magnet");
    assert_eq!(check["ready"], "2026-12-11", "{check:#}");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("change of 2026-11-30"),
        "{check:#}"
    );
    // The change comes after the table ends: nobody arrived since, the day it is readable.
    let reason = check["reason"].as_str().unwrap();
    assert!(
        reason.contains("visitors since 2026-11-30: none yet"),
        "{reason}"
    );

    // Two weeks later: 150 visitors arrived on Dec 1-2, 60 of them took the lead magnet; the
    // window's 40 visitors of Nov 25, before the change, none of whom took it, are not counted.
    let conn = rusqlite::Connection::open(&db).unwrap();
    for i in 0..40u32 {
        for (k, stage) in ["click", "visit"].into_iter().enumerate() {
            conn.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES (?1, 'seo-consultant', 'default', ?2, '/p/seo-consultant/', ?3, ?4)",
                rusqlite::params![format!("before-{i}-{k}"), stage, format!("before-{i}"), format!("2026-11-25T10:{i:02}:0{k}.000Z")],
            )
            .unwrap();
        }
    }
    for i in 0..150u32 {
        let at = |s: u32| {
            format!(
                "2026-12-0{}T09:{:02}:{:02}.000Z",
                1 + i / 75,
                (i % 75) / 2,
                s
            )
        };
        let vid = format!("after-{i}");
        let mut rows = vec![("click", at(0)), ("visit", at(2))];
        if i % 5 < 2 {
            rows.push(("lead_magnet", at(10)));
        }
        for (k, (stage, ts)) in rows.into_iter().enumerate() {
            conn.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES (?1, 'seo-consultant', 'default', ?2, '/p/seo-consultant/', ?3, ?4)",
                rusqlite::params![format!("after-{i}-{k}"), stage, vid, ts],
            )
            .unwrap();
        }
    }
    conn.execute(
        "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES ('end-2', 'seo-consultant', 'default', 'visit', '/', NULL, '2026-12-14T10:00:00.000Z')",
        [],
    )
    .unwrap();
    drop(conn);
    // The run before the patch was applied proposed the same change again for Dec 7; the
    // team applied the one of Nov 30.
    std::fs::remove_file(root.join("proposals/2026-12-07-seo-consultant.yaml.patch")).unwrap();
    let out = support::run(
        root,
        &[
            "calendar",
            "--events",
            db.to_str().unwrap(),
            "--now",
            "2026-12-14T12:00:00Z",
            "--start",
            "2026-12-14",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let later = tasks(&String::from_utf8(out.stdout).unwrap());
    let check = later
        .iter()
        .find(|t| t["partner"] == "seo-consultant" && t["phase"] == "measure")
        .unwrap_or_else(|| panic!("no measurement: {later:#?}"));
    let reason = check["reason"].as_str().unwrap();
    assert!(
        reason.contains("visitors since 2026-11-30: 150")
            && reason.contains("lead magnet 60 of 150 visitors: 40%"),
        "{reason}"
    );
    assert!(check["ready"].is_null(), "{check:#}");
    assert!(
        check["title"].as_str().unwrap().starts_with("Measure"),
        "{check:#}"
    );
}

#[test]
fn a_partner_asked_for_traffic_last_week_is_not_asked_again() {
    let (site, db) = follow_through_site();
    let root = site.path();
    let first = calendar_weeks(root, &db, 1);
    let ask = task(&first, "newsletter-swap", "email");
    assert_eq!(ask["phase"], "ask");
    let manifest = read(root, ".pp-calendar.json");
    assert!(manifest.contains("\"asks\""), "{manifest}");
    // The next Monday's run (the table has nothing newer).
    let out = support::run(
        root,
        &[
            "calendar",
            "--events",
            db.to_str().unwrap(),
            "--now",
            "2026-11-28T12:00:00Z",
            "--start",
            "2026-12-07",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let next = tasks(&String::from_utf8(out.stdout).unwrap());
    for code in ["newsletter-swap", "founder-community"] {
        let mine: Vec<_> = next.iter().filter(|t| t["partner"] == code).collect();
        assert!(
            mine.iter().all(|t| t["kind"] != "email"),
            "{code} asked twice: {mine:#?}"
        );
        assert_eq!(mine[0]["phase"], "measure", "{mine:#?}");
        assert_eq!(mine[0]["follows"], format!("2026-12-01-{code}-email"));
    }
    // Four weeks after the ask, a new ask is fair.
    let out = support::run(
        root,
        &[
            "calendar",
            "--events",
            db.to_str().unwrap(),
            "--now",
            "2026-11-28T12:00:00Z",
            "--start",
            "2027-01-04",
            "--format",
            "json",
        ],
    );
    let later = tasks(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(task(&later, "newsletter-swap", "email")["phase"], "ask");
}
