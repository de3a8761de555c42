//! `calendar` and `build --events/--preview` end to end: the example site, an event table
//! generated for it (the seed's two example partners plus other traffic), and the real parsers
//! (Python `icalendar` and `jsonschema`, the Nu HTML checker).

use crate::support;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-11-24T12:00:00Z";
const START: &str = "2026-11-30";

/// Visitors of one partner: the first `visits` of `clicks` clicking visitors view the page,
/// the first `lead_magnets` of those download, and so on.
struct Traffic {
    code: &'static str,
    campaign: &'static str,
    clicks: u32,
    visits: u32,
    lead_magnets: u32,
    ctas: u32,
    activations: u32,
}

/// The seed's partner A (300 clicks, 2 downloads) is `seo-consultant`, partner B (40 clicks,
/// 9 activations) is `nocode-agency`; the two others are ordinary traffic inside the bands.
const SEED_TRAFFIC: &[Traffic] = &[
    Traffic {
        code: "seo-consultant",
        campaign: "default",
        clicks: 300,
        visits: 290,
        lead_magnets: 2,
        ctas: 1,
        activations: 0,
    },
    Traffic {
        code: "nocode-agency",
        campaign: "partner-summit",
        clicks: 40,
        visits: 38,
        lead_magnets: 12,
        ctas: 6,
        activations: 9,
    },
    Traffic {
        code: "founder-community",
        campaign: "default",
        clicks: 150,
        visits: 140,
        lead_magnets: 36,
        ctas: 11,
        activations: 3,
    },
    Traffic {
        code: "ai-tools-directory",
        campaign: "featured-listing",
        clicks: 120,
        visits: 112,
        lead_magnets: 30,
        ctas: 9,
        activations: 2,
    },
];

/// Write `partner_events` (the seed's schema) for `traffic` into a new SQLite file.
fn events_db(dir: &Path, traffic: &[Traffic]) -> PathBuf {
    let path = dir.join("events.db");
    let conn = rusqlite::Connection::open(&path).expect("open sqlite");
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .expect("schema");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO partner_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .expect("prepare");
        // Three weeks before NOW: past every stage's maturity horizon (14 days at most).
        let base = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let mut n = 0u32;
        for t in traffic {
            for i in 0..t.clicks {
                let vid = format!("{}-{i}", t.code);
                let at = base + chrono::Duration::seconds(i64::from(i) * 60);
                let mut row = |stage: &str, offset: i64, path: &str| {
                    n += 1;
                    let ts = (at + chrono::Duration::seconds(offset))
                        .format("%Y-%m-%dT%H:%M:%S.000Z")
                        .to_string();
                    ins.execute(rusqlite::params![
                        format!("ev-{n}"),
                        t.code,
                        t.campaign,
                        stage,
                        path,
                        vid,
                        ts
                    ])
                    .expect("insert");
                };
                let page = format!("/p/{}/", t.code);
                row("click", 0, &format!("/go/{}", t.code));
                if i < t.visits {
                    row("visit", 2, &page);
                    if i < t.lead_magnets {
                        row("lead_magnet", 10, &page);
                    }
                    if i < t.ctas {
                        row("cta", 20, &page);
                    }
                    if i < t.activations {
                        row("activation", 30, "/app");
                    }
                }
            }
        }
        // An anonymous row the day NOW falls on: the table runs until then (never funneled).
        ins.execute(rusqlite::params![
            "ev-end",
            "founder-community",
            "default",
            "visit",
            "/p/founder-community/",
            None::<String>,
            "2026-11-24T10:00:00.000Z"
        ])
        .expect("insert");
    }
    tx.commit().expect("commit");
    path
}

/// The example site with the seed traffic in `events.db` beside it.
fn seed_site() -> (tempfile::TempDir, PathBuf) {
    let site = support::copy_site(&support::repo_root());
    let db = events_db(site.path(), SEED_TRAFFIC);
    (site, db)
}

fn calendar(root: &Path, db: &Path, format: &str) -> String {
    let out = support::run(
        root,
        &[
            "calendar",
            "--events",
            db.to_str().unwrap(),
            "--now",
            NOW,
            "--start",
            START,
            "--format",
            format,
        ],
    );
    assert!(
        out.status.success(),
        "calendar failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn tasks(json: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(json).expect("calendar JSON");
    v["tasks"].as_array().expect("tasks array").clone()
}

fn task<'a>(tasks: &'a [serde_json::Value], partner: &str, kind: &str) -> &'a serde_json::Value {
    tasks
        .iter()
        .find(|t| t["partner"] == partner && t["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} task for {partner} in {tasks:#?}"))
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

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

fn python(script: &str, args: &[&Path]) -> std::process::Output {
    let py = support::require_tool("python3", "Python 3 with icalendar and jsonschema");
    Command::new(py)
        .arg(support::repo_root().join(script))
        .args(args)
        .output()
        .expect("run python")
}

#[test]
fn seed_partner_a_gets_a_headline_and_proof_block_update() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let p = task(&all, "seo-consultant", "proposal");
    assert_eq!(p["rule"], "fix-weakest-step");
    assert_eq!(p["target_stage"], "lead_magnet");
    assert_eq!(
        p["figures"]["action"]["rule"],
        "many_clicks_weak_lead_magnet"
    );
    assert_eq!(p["figures"]["visitors"], 290);
    assert_eq!(p["figures"]["clicks"], 300);
    let file = p["file"].as_str().unwrap();
    assert_eq!(file, "proposals/2026-11-30-seo-consultant.yaml.patch");
    let patch = read(root, file);
    assert!(
        patch.contains("\n-  headline: Ship AI content your clients can trust\n"),
        "{patch}"
    );
    assert!(patch.contains("\n+  headline: "), "{patch}");
    assert!(
        patch.contains("\n-  proof: 40-point checklist used on 1,200 client audits\n"),
        "{patch}"
    );
    assert!(patch.contains("\n+  proof: "), "{patch}");
    assert!(
        patch.contains("many_clicks_weak_lead_magnet"),
        "the patch names the rule: {patch}"
    );
    assert!(
        patch.contains("2 of 290") || patch.contains("0.7%"),
        "the patch states the figures: {patch}"
    );

    // The patch is a real, reviewable change: git applies it, and the result still loads.
    let git = support::require_tool("git", "git, to apply the proposal");
    let check = Command::new(&git)
        .current_dir(root)
        .args(["apply", "--check", file])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "git apply --check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let apply = Command::new(&git)
        .current_dir(root)
        .args(["apply", file])
        .output()
        .unwrap();
    assert!(apply.status.success());
    let loaded =
        partner_pages::load(root, &Default::default()).expect("site loads after the patch");
    let seo = loaded.partner("seo-consultant").unwrap();
    assert_ne!(
        seo.landing.headline,
        "Ship AI content your clients can trust"
    );
    assert!(
        seo.landing.headline.contains("Content QA checklist"),
        "{}",
        seo.landing.headline
    );

    // Partner A's brief targets the lead-magnet step; the build never publishes it.
    let brief = task(&all, "seo-consultant", "brief");
    assert_eq!(brief["target_stage"], "lead_magnet");
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
    let site = support::copy_site(&support::repo_root());
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
fn ics_parses_with_one_event_per_task_on_the_right_dates() {
    let (site, db) = seed_site();
    let root = site.path();
    let ics = calendar(root, &db, "ics");
    let json = calendar(root, &db, "json");
    let dir = tempfile::tempdir().unwrap();
    let (ics_path, json_path) = (dir.path().join("c.ics"), dir.path().join("c.json"));
    std::fs::write(&ics_path, &ics).unwrap();
    std::fs::write(&json_path, &json).unwrap();
    let out = python("tests/py/check_ics.py", &[&ics_path, &json_path]);
    assert!(
        out.status.success(),
        "check_ics.py:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok: 10 events");
}

#[test]
fn json_validates_against_the_committed_schema() {
    let (site, db) = seed_site();
    let json = calendar(site.path(), &db, "json");
    support::assert_valid_json("calendar.schema.json", &json);
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
    let site = support::copy_site(&support::repo_root());
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

fn build(root: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["build", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = support::run(root, &args);
    assert!(
        o.status.success(),
        "build {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
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
fn preview_build_has_an_overlay_and_annotations_and_passes_the_html_checker() {
    let (site, db) = seed_site();
    let root = site.path();
    let dir = tempfile::tempdir().unwrap();
    build(
        root,
        dir.path(),
        &["--events", db.to_str().unwrap(), "--now", NOW, "--preview"],
    );
    let ann: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("annotations.json")).expect("annotations.json"),
    )
    .unwrap();
    assert_eq!(
        ann["partners"]["seo-consultant"]["figures"]["counts"]["visitors"],
        290
    );
    assert_eq!(
        ann["partners"]["nocode-agency"]["action"]["rule"],
        "few_visits_strong_activation"
    );
    let pages: Vec<PathBuf> = [
        "seo-consultant",
        "nocode-agency",
        "founder-community",
        "ai-tools-directory",
    ]
    .iter()
    .map(|c| dir.path().join(format!("p/{c}/index.html")))
    .collect();
    let seo = std::fs::read_to_string(&pages[0]).unwrap();
    assert!(seo.contains("class=\"pp-preview\""), "{seo}");
    assert!(seo.contains("many_clicks_weak_lead_magnet"));
    assert!(
        seo.contains("20%–35%") || seo.contains("20.0%–35.0%"),
        "the band is shown: {seo}"
    );

    support::assert_nu_clean(&pages);
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
