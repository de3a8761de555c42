//! `leads` and `forget` end to end: a hand-built SQLite event table, the real binary, Python's
//! `csv` and `jsonschema` modules.

use crate::support;
use rusqlite::{params, Connection};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const NOW: &str = "2026-11-24T00:00:00Z";

/// One row: (visitor, partner, campaign, event, created_at, user_id, value).
type Row<'a> = (
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<f64>,
);

/// The hand-built table: one journey per next-step rule, plus rows the funnel sets apart.
/// With `--last 14d --now NOW` the range is [2026-11-10, 2026-11-24).
pub(crate) const ROWS: &[Row<'static>] = &[
    // Activated (server-side, with the product's user id), then revenue: hand to sales.
    (
        Some("v-act"),
        "nocode-agency",
        "partner-summit",
        "click",
        "2026-11-18T09:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-act"),
        "nocode-agency",
        "partner-summit",
        "visit",
        "2026-11-18T09:00:01.000Z",
        None,
        None,
    ),
    (
        Some("v-act"),
        "nocode-agency",
        "partner-summit",
        "lead_magnet",
        "2026-11-18 09:05:00",
        None,
        None,
    ),
    (
        Some("v-act"),
        "nocode-agency",
        "partner-summit",
        "cta",
        "2026-11-18T10:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-act"),
        "nocode-agency",
        "default",
        "activation",
        "2026-11-19T08:00:00.000Z",
        Some("acct-42"),
        None,
    ),
    (
        Some("v-act"),
        "nocode-agency",
        "default",
        "revenue",
        "2026-11-20T08:00:00.000Z",
        Some("acct-42"),
        Some(99.0),
    ),
    // Lead magnet 5 days ago, no CTA: nurture email. The campaign looks like a formula.
    (
        Some("v-nurture"),
        "seo-consultant",
        "=HYPERLINK(\"http://x.example\",\"y\")",
        "visit",
        "2026-11-18T12:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-nurture"),
        "seo-consultant",
        "=HYPERLINK(\"http://x.example\",\"y\")",
        "lead_magnet",
        "2026-11-18T12:10:00.000Z",
        None,
        None,
    ),
    // Lead magnet yesterday: wait for the CTA.
    (
        Some("v-wait"),
        "seo-consultant",
        "+1",
        "visit",
        "2026-11-22T15:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-wait"),
        "seo-consultant",
        "+1",
        "lead_magnet",
        "2026-11-22T15:02:00.000Z",
        None,
        None,
    ),
    // Demo booked 12 days ago without the download, no activation: follow up on the demo.
    (
        Some("v-demo"),
        "nocode-agency",
        "-2",
        "visit",
        "2026-11-12T10:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-demo"),
        "nocode-agency",
        "-2",
        "cta",
        "2026-11-12T10:30:00.000Z",
        None,
        None,
    ),
    // Clicked, never landed: check the landing page.
    (
        Some("v-click"),
        "founder-community",
        "@SUM(A1)",
        "click",
        "2026-11-20T07:00:00.000Z",
        None,
        None,
    ),
    // Visited only: nothing per lead.
    (
        Some("v-visit"),
        "ai-tools-directory",
        "default",
        "visit",
        "2026-11-21T18:00:00.000Z",
        None,
        None,
    ),
    // A journey that started before the range: not listed.
    (
        Some("v-old"),
        "seo-consultant",
        "default",
        "visit",
        "2026-11-01T10:00:00.000Z",
        None,
        None,
    ),
    (
        Some("v-old"),
        "seo-consultant",
        "default",
        "lead_magnet",
        "2026-11-12T10:00:00.000Z",
        None,
        None,
    ),
    // Set apart by the funnel rules: an unknown partner, a row without a visitor id.
    (
        Some("v-ghost"),
        "ghost",
        "default",
        "visit",
        "2026-11-20T10:00:00.000Z",
        None,
        None,
    ),
    (
        None,
        "seo-consultant",
        "default",
        "visit",
        "2026-11-20T10:00:00.000Z",
        None,
        None,
    ),
];

/// Write `rows` into a fresh SQLite file with the seed schema plus migration 0002.
pub(crate) fn event_db(dir: &Path, rows: &[Row]) -> PathBuf {
    let path = dir.join("partner-events.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    for (i, (vid, code, campaign, event, at, user, value)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, user_id, value) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![format!("row-{i:03}"), code, campaign, event, format!("/p/{code}/"), vid, at, user, value],
        )
        .unwrap();
    }
    path
}

/// A copy of the example site with the hand-built table in it.
pub(crate) fn site_with_events() -> (tempfile::TempDir, PathBuf) {
    let site = support::copy_site(&support::repo_root());
    let db = event_db(site.path(), ROWS);
    (site, db)
}

fn stdout_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn leads_json(site: &Path, db: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "leads",
        "--events",
        db.to_str().unwrap(),
        "--last",
        "14d",
        "--now",
        NOW,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&stdout_ok(&support::run(site, &args))).expect("leads JSON")
}

fn summary(v: &Value) -> Vec<(String, String, String, String)> {
    v["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["visitor_id"].as_str().unwrap().to_string(),
                l["partner"].as_str().unwrap().to_string(),
                l["last_stage"].as_str().unwrap().to_string(),
                l["next_step"]["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn s(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

#[test]
fn leads_lists_exactly_the_expected_journeys_stages_and_next_steps() {
    let (site, db) = site_with_events();
    let all = leads_json(site.path(), &db, &["--stage", "click"]);
    assert_eq!(
        summary(&all),
        vec![
            s("v-demo", "nocode-agency", "cta", "follow_up_cta"),
            s("v-act", "nocode-agency", "activation", "hand_to_sales"),
            s(
                "v-nurture",
                "seo-consultant",
                "lead_magnet",
                "nurture_email"
            ),
            s(
                "v-click",
                "founder-community",
                "click",
                "check_landing_page"
            ),
            s("v-visit", "ai-tools-directory", "visit", "no_action"),
            s("v-wait", "seo-consultant", "lead_magnet", "wait_for_cta"),
        ]
    );

    // The activated lead in full: stage times, the server-side user id, the YAML's promise/CTA.
    let act = &all["leads"][1];
    assert_eq!(act["user_id"], "acct-42");
    assert_eq!(act["campaign"], "partner-summit");
    assert_eq!(act["promise"], "Migration playbook");
    assert_eq!(act["cta"]["label"], "Book a migration demo");
    assert_eq!(act["first_touch"]["stage"], "click");
    assert_eq!(act["first_touch"]["at"], "2026-11-18T09:00:00.000Z");
    assert_eq!(act["stages"]["visit"], "2026-11-18T09:00:01.000Z");
    assert_eq!(act["stages"]["lead_magnet"], "2026-11-18T09:05:00.000Z");
    assert_eq!(act["stages"]["cta"], "2026-11-18T10:00:00.000Z");
    assert_eq!(act["stages"]["activation"], "2026-11-19T08:00:00.000Z");
    assert_eq!(act["revenue"], 99.0);
    let action = act["next_step"]["action"].as_str().unwrap();
    assert!(action.contains("No-code agency partners"), "{action}");
    assert!(
        !action.contains("25% recurring"),
        "the commission is private to the kit: {action}"
    );

    // A demo without the download: lead_magnet stays null, first touch is the visit.
    let demo = &all["leads"][0];
    assert_eq!(demo["stages"]["lead_magnet"], Value::Null);
    assert_eq!(demo["first_touch"]["stage"], "visit");
    assert_eq!(demo["user_id"], Value::Null);

    // The default stage (visit) drops the click-only journey; --stage cta keeps two.
    let visits = leads_json(site.path(), &db, &[]);
    assert_eq!(visits["stage"], "visit");
    assert_eq!(visits["leads"].as_array().unwrap().len(), 5);
    let cta = leads_json(site.path(), &db, &["--stage", "cta"]);
    let ids: Vec<_> = summary(&cta).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, vec!["v-demo", "v-act"]);
    let seo = leads_json(site.path(), &db, &["--partner", "seo-consultant"]);
    let ids: Vec<_> = summary(&seo).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, vec!["v-nurture", "v-wait"]);

    // The rows set apart are counted as the report counts them.
    assert_eq!(all["excluded"]["unknown_partner_rows"]["ghost"], 1);
    assert_eq!(all["excluded"]["no_visitor_rows"]["seo-consultant"], 1);
}

#[test]
fn leads_json_matches_its_schema() {
    let (site, db) = site_with_events();
    let out = stdout_ok(&support::run(
        site.path(),
        &[
            "leads",
            "--events",
            db.to_str().unwrap(),
            "--last",
            "14d",
            "--now",
            NOW,
            "--stage",
            "click",
        ],
    ));
    // A middle page too: a non-null next_cursor and fewer leads than the total.
    let page = leads_json(site.path(), &db, &["--stage", "click", "--limit", "2"]);
    assert!(page["next_cursor"].is_string(), "{page}");
    for text in [out, page.to_string()] {
        support::assert_valid_json("leads.schema.json", &text);
    }
}

/// Follow `next_cursor` from the first page with `--limit n`; every page's JSON.
fn cli_pages(site: &Path, db: &Path, n: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut extra = vec!["--stage", "click", "--limit", n];
        if let Some(c) = &cursor {
            extra.extend(["--cursor", c.as_str()]);
        }
        let page = leads_json(site, db, &extra);
        cursor = page["next_cursor"].as_str().map(String::from);
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() <= 10, "paging does not end: {pages:#?}");
    }
}

#[test]
fn leads_limit_and_cursor_page_through_every_lead_exactly_once() {
    let (site, db) = site_with_events();
    let all = leads_json(site.path(), &db, &["--stage", "click"]);
    let every = all["leads"].as_array().unwrap().clone();
    assert_eq!(every.len(), 6);
    assert_eq!(all["total"], 6);
    assert_eq!(all["next_cursor"], Value::Null, "no --limit: everything");
    for (n, want_pages) in [("1", 6), ("2", 3), ("4", 2), ("6", 1), ("1000", 1)] {
        let pages = cli_pages(site.path(), &db, n);
        assert_eq!(pages.len(), want_pages, "--limit {n}");
        let got: Vec<Value> = pages
            .iter()
            .flat_map(|p| p["leads"].as_array().unwrap().clone())
            .collect();
        assert_eq!(
            got, every,
            "--limit {n}: the pages are the full list, in order"
        );
        for p in &pages {
            assert_eq!(p["total"], 6);
            assert_eq!(p["excluded"], all["excluded"]);
        }
    }

    // Markdown and CSV: everything without --limit; with it, the page and the next cursor on
    // stderr.
    let db_s = db.to_str().unwrap();
    let base = [
        "leads", "--events", db_s, "--last", "14d", "--now", NOW, "--stage", "click",
    ];
    let md = stdout_ok(&support::run(
        site.path(),
        &[&base[..], &["--format", "md"]].concat(),
    ));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| `")).count(),
        6,
        "{md}"
    );
    let csv = stdout_ok(&support::run(
        site.path(),
        &[&base[..], &["--format", "csv"]].concat(),
    ));
    assert_eq!(csv.lines().count(), 7, "header + 6 leads: {csv}");
    let out = support::run(
        site.path(),
        &[&base[..], &["--format", "md", "--limit", "2"]].concat(),
    );
    let md = stdout_ok(&out);
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| `")).count(),
        2,
        "{md}"
    );
    assert!(
        md.contains("6 journeys") && md.contains("(2 on this page)"),
        "{md}"
    );
    let first = cli_pages(site.path(), &db, "2").remove(0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "--cursor {}",
            first["next_cursor"].as_str().unwrap()
        )),
        "{err}"
    );
}

#[test]
fn leads_refuses_a_bad_cursor_or_limit_with_exit_1() {
    let (site, db) = site_with_events();
    let db = db.to_str().unwrap();
    for (flag, value, says) in [
        (
            "--cursor",
            "not-a-cursor",
            "not a cursor from a previous leads answer",
        ),
        ("--cursor", "", "not a cursor from a previous leads answer"),
        ("--limit", "0", "must be 1 to 1000"),
        ("--limit", "1001", "must be 1 to 1000"),
    ] {
        let out = support::run(
            site.path(),
            &["leads", "--events", db, "--now", NOW, flag, value],
        );
        assert_eq!(out.status.code(), Some(1), "{flag} {value:?}");
        assert!(
            out.stdout.is_empty(),
            "nothing printed on stdout for {flag} {value:?}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flag} {value:?}: {err}");
    }
}

fn python(args: &[&str]) -> std::process::Output {
    let py = support::require_tool("python3", "Python 3 with csv and jsonschema");
    Command::new(py)
        .current_dir(support::repo_root())
        .args(args)
        .output()
        .expect("run python3")
}

#[test]
fn csv_round_trips_through_python_and_neutralises_formulas() {
    let (site, db) = site_with_events();
    let args = [
        "--events",
        db.to_str().unwrap(),
        "--last",
        "14d",
        "--now",
        NOW,
        "--stage",
        "click",
    ];
    let csv = support::run(
        site.path(),
        &[&["leads", "--format", "csv"][..], &args].concat(),
    );
    let csv_text = stdout_ok(&csv);
    assert!(csv_text.starts_with('\u{feff}'), "UTF-8 BOM first");
    let file = site.path().join("leads.csv");
    std::fs::write(&file, &csv_text).unwrap();
    let py = python(&["tests/py/read_csv.py", file.to_str().unwrap()]);
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let parsed: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(parsed["crlf_only"], true, "every record ends with CRLF");
    let rows = parsed["rows"].as_array().unwrap();

    let json: Value = serde_json::from_str(&stdout_ok(&support::run(
        site.path(),
        &[&["leads", "--format", "json"][..], &args].concat(),
    )))
    .unwrap();
    let leads = json["leads"].as_array().unwrap();
    assert_eq!(rows.len(), leads.len());
    for (row, lead) in rows.iter().zip(leads) {
        assert_eq!(row["visitor_id"], lead["visitor_id"]);
        assert_eq!(row["next_step_rule"], lead["next_step"]["rule"]);
        assert_eq!(row["next_step_action"], lead["next_step"]["action"]);
        let campaign = lead["campaign"].as_str().unwrap();
        let cell = row["campaign"].as_str().unwrap();
        if campaign.starts_with(['=', '+', '-', '@']) {
            assert_eq!(cell, format!("'{campaign}"), "formula neutralised");
        } else {
            assert_eq!(cell, campaign);
        }
    }
    let campaigns: Vec<&str> = rows
        .iter()
        .map(|r| r["campaign"].as_str().unwrap())
        .collect();
    for expected in [
        "'=HYPERLINK(\"http://x.example\",\"y\")",
        "'+1",
        "'-2",
        "'@SUM(A1)",
    ] {
        assert!(campaigns.contains(&expected), "{expected} in {campaigns:?}");
    }
    assert_eq!(rows[1]["user_id"], "acct-42");
}

#[test]
fn leads_refuses_an_unknown_stage_and_partner_with_a_hint() {
    let (site, db) = site_with_events();
    let db = db.to_str().unwrap();
    let out = support::run(
        site.path(),
        &["leads", "--events", db, "--stage", "purchase"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        // clap's own message, with the library's reason (the stages in order) after it.
        err.contains("'purchase' for '--stage")
            && err.contains("not a funnel stage")
            && err.contains("click, visit, lead_magnet, cta, activation"),
        "{err}"
    );
    let out = support::run(
        site.path(),
        &["leads", "--events", db, "--partner", "seo-consultnt"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seo-consultant"));
}

fn all_rows(db: &Path) -> Vec<(String, Option<String>)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, visitor_id FROM partner_events ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

#[test]
fn forget_removes_exactly_one_visitors_rows_and_nothing_else() {
    let (site, db) = site_with_events();
    let before = all_rows(&db);
    let out = support::run(
        site.path(),
        &["forget", "--db", db.to_str().unwrap(), "--visitor", "v-act"],
    );
    let text = stdout_ok(&out);
    assert!(text.contains("deleted 6 rows of visitor 'v-act'"), "{text}");
    let expected: Vec<_> = before
        .iter()
        .filter(|(_, v)| v.as_deref() != Some("v-act"))
        .cloned()
        .collect();
    assert_eq!(all_rows(&db), expected);
    assert_eq!(before.len() - expected.len(), 6);

    // The statement printed for D1 is plain SQL that SQLite runs; on a fresh copy of the table
    // it deletes the same rows.
    let line = text
        .lines()
        .find(|l| l.contains("npx wrangler d1 execute"))
        .expect("a D1 command");
    assert!(
        line.contains("execute partner-events --remote --command \""),
        "{line}"
    );
    let sql = line
        .split_once("--command \"")
        .unwrap()
        .1
        .trim_end_matches('"');
    let fresh = tempfile::tempdir().unwrap();
    let copy = event_db(fresh.path(), ROWS);
    Connection::open(&copy).unwrap().execute(sql, []).unwrap();
    assert_eq!(all_rows(&copy), expected);
}

#[test]
fn forget_also_deletes_from_the_local_caches_of_remote_d1() {
    let (site, db) = site_with_events();
    // The cache `report --events d1:partner-events` keeps, holding the same rows.
    let cache_dir = site.path().join(".partner-pages/cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    let cache = cache_dir.join("d1-partner-events.sqlite");
    std::fs::copy(&db, &cache).unwrap();
    let before = all_rows(&cache);
    let out = support::run(
        site.path(),
        &["forget", "--db", db.to_str().unwrap(), "--visitor", "v-act"],
    );
    let text = stdout_ok(&out);
    assert!(
        text.contains(&format!(
            "deleted 6 rows from the local D1 cache {}",
            cache.display()
        )),
        "{text}"
    );
    let left = all_rows(&cache);
    assert_eq!(before.len() - left.len(), 6);
    assert!(left.iter().all(|(_, v)| v.as_deref() != Some("v-act")));
    assert_eq!(left, all_rows(&db), "the cache and the file agree");
}

#[test]
fn forget_by_user_follows_the_visitor_joined_to_it() {
    let (site, db) = site_with_events();
    let out = support::run(
        site.path(),
        &["forget", "--db", db.to_str().unwrap(), "--user", "acct-42"],
    );
    let text = stdout_ok(&out);
    assert!(
        text.contains("deleted 6 rows of user 'acct-42'") && text.contains("v-act"),
        "{text}"
    );
    assert!(all_rows(&db)
        .iter()
        .all(|(_, v)| v.as_deref() != Some("v-act")));
    assert_eq!(all_rows(&db).len(), ROWS.len() - 6);
}

#[test]
fn forget_on_a_missing_file_or_schema_is_a_clear_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let out = support::run(
        dir.path(),
        &[
            "forget",
            "--db",
            missing.to_str().unwrap(),
            "--visitor",
            "v",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such event file"));
    assert!(!missing.exists(), "forget must not create the file");

    let empty = dir.path().join("empty.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let out = support::run(
        dir.path(),
        &["forget", "--db", empty.to_str().unwrap(), "--visitor", "v"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no partner_events table"));
}

#[test]
fn user_ids_never_reach_the_public_output() {
    let (site, db) = site_with_events();
    let root = site.path();
    // The id is in the table and `leads` (staff) shows it...
    let staff = leads_json(root, &db, &["--stage", "activation"]);
    assert_eq!(staff["leads"][0]["user_id"], "acct-42");
    // ...but no built file, annotated or preview, contains it.
    for extra in [&[][..], &["--preview"][..]] {
        let out_dir = root.join(if extra.is_empty() {
            "public"
        } else {
            "public-preview"
        });
        let mut args = vec![
            "build",
            "--events",
            db.to_str().unwrap(),
            "--now",
            NOW,
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        stdout_ok(&support::run(root, &args));
        let mut files = 0;
        for entry in walkdir::WalkDir::new(&out_dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() {
                files += 1;
                let bytes = std::fs::read(entry.path()).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains("acct-42"),
                    "user id in {}",
                    entry.path().display()
                );
            }
        }
        assert!(files > 10, "the build wrote its pages ({files} files)");
    }
}

/// `wrangler d1 … --local` in the built collector folder, with its own state folder.
fn wrangler(site: &Path, args: &[&str]) -> std::process::Output {
    let wrangler = support::require_tool("wrangler", "wrangler runs the D1 statement locally");
    Command::new(wrangler)
        .args(args)
        .arg("--persist-to")
        .arg(site.join("d1-state"))
        .current_dir(site.join("collector"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("run wrangler")
}

#[test]
fn forget_prints_a_d1_command_that_a_shell_and_wrangler_run_as_is() {
    // An id no one should send, but the command must survive it: quotes, $(), backticks, !.
    let nasty = "v'\"$(touch pwned)`id`!x";
    let mut rows: Vec<Row> = ROWS.to_vec();
    rows.push((
        Some(nasty),
        "seo-consultant",
        "default",
        "visit",
        "2026-11-20T11:00:00.000Z",
        None,
        None,
    ));
    rows.push((
        Some(nasty),
        "seo-consultant",
        "default",
        "cta",
        "2026-11-20T11:05:00.000Z",
        None,
        None,
    ));

    let site = support::copy_site(&support::repo_root());
    let root = site.path();
    stdout_ok(&support::run(root, &["build"]));
    let applied = wrangler(
        root,
        &["d1", "migrations", "apply", "partner-events", "--local"],
    );
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // The same rows in local D1 (through a SQL file, as `wrangler d1 execute --file` takes it)
    // and in a SQLite file for `forget`.
    let local = event_db(root, &rows);
    let dump: String = {
        let conn = Connection::open(&local).unwrap();
        let mut stmt = conn
            .prepare("SELECT 'INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, user_id, value) VALUES (' || quote(id) || ',' || quote(partner_code) || ',' || quote(campaign) || ',' || quote(event_name) || ',' || quote(page_path) || ',' || quote(visitor_id) || ',' || quote(created_at) || ',' || quote(user_id) || ',' || quote(value) || ');' FROM partner_events ORDER BY id")
            .unwrap();
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        lines.join("\n")
    };
    let sql_file = root.join("rows.sql");
    std::fs::write(&sql_file, dump).unwrap();
    let loaded = wrangler(
        root,
        &[
            "d1",
            "execute",
            "partner-events",
            "--local",
            "--file",
            sql_file.to_str().unwrap(),
        ],
    );
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );

    let out = stdout_ok(&support::run(
        root,
        &[
            "forget",
            "--db",
            local.to_str().unwrap(),
            "--visitor",
            nasty,
        ],
    ));
    assert!(out.contains("deleted 2 rows"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("d1 execute"))
        .unwrap()
        .trim();

    // Run the printed line through a shell, pointed at the local state instead of production.
    let wrangler_bin = support::require_tool("wrangler", "wrangler runs the D1 statement locally");
    let state = root.join("d1-state");
    let local_line = line
        .replacen("npx wrangler", wrangler_bin.to_str().unwrap(), 1)
        .replacen(
            "--remote",
            &format!("--local --persist-to {}", state.to_str().unwrap()),
            1,
        );
    let ran = Command::new("sh")
        .arg("-c")
        .arg(&local_line)
        .current_dir(root.join("collector"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{local_line}\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(
        !root.join("collector/pwned").exists(),
        "the shell ran part of the id"
    );

    // Local D1 now holds exactly the rows the SQLite file kept.
    let left = wrangler(
        root,
        &[
            "d1",
            "execute",
            "partner-events",
            "--local",
            "--json",
            "--command",
            "SELECT id FROM partner_events ORDER BY id",
        ],
    );
    assert!(
        left.status.success(),
        "{}",
        String::from_utf8_lossy(&left.stderr)
    );
    let v: Value = serde_json::from_slice(&left.stdout).expect("wrangler JSON");
    let d1_ids: Vec<String> = v[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let sqlite_ids: Vec<String> = all_rows(&local).into_iter().map(|(id, _)| id).collect();
    assert_eq!(d1_ids, sqlite_ids);
    assert_eq!(d1_ids.len(), ROWS.len());
}

#[test]
fn markdown_lists_one_table_row_per_lead() {
    let (site, db) = site_with_events();
    let md = stdout_ok(&support::run(
        site.path(),
        &[
            "leads",
            "--events",
            db.to_str().unwrap(),
            "--last",
            "14d",
            "--now",
            NOW,
            "--stage",
            "click",
            "--format",
            "md",
        ],
    ));
    assert!(
        md.starts_with("# Leads\n\n6 journeys from 2026-11-10T00:00:00.000Z"),
        "{md}"
    );
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), 6, "{md}");
    assert!(
        rows[1].starts_with("| `v-act` | acct-42 | No-code agency partners | partner-summit |"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("**hand_to_sales**"), "{}", rows[1]);
    // Every row has the header's 8 cells: no stray pipe from the data.
    for r in &rows {
        let cells = r.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 9, "{r}");
    }
}
