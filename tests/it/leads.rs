//! `leads` and `forget` end to end: a hand-built SQLite event table, the real binary, Python's
//! `csv` and `jsonschema` modules.

use crate::support;
use rusqlite::Connection;
use serde_json::Value;
use std::path::Path;

use crate::support::leads::*;

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
fn contactable_leaves_out_the_leads_without_a_user_id() {
    let (site, db) = site_with_events();
    let all = leads_json(site.path(), &db, &["--stage", "click"]);
    let with_user: Vec<&str> = all["leads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["user_id"].is_string())
        .map(|l| l["visitor_id"].as_str().unwrap())
        .collect();
    assert!(with_user.len() >= 2 && with_user.len() < all["leads"].as_array().unwrap().len());
    let only = leads_json(site.path(), &db, &["--stage", "click", "--contactable"]);
    let got: Vec<&str> = only["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["visitor_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, with_user);
    // No follow-up is asked for a lead without a user id, in the full export either.
    for l in all["leads"].as_array().unwrap() {
        let rule = l["next_step"]["rule"].as_str().unwrap();
        if ["hand_to_sales", "follow_up_cta", "nurture_email"].contains(&rule) {
            assert!(l["user_id"].is_string(), "{l}");
        }
    }
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
            // A nurture email needs someone to send it to: this lead has no user id.
            s("v-nurture", "seo-consultant", "lead_magnet", "anonymous"),
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
    assert_eq!(demo["user_id"], "acct-7");

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
