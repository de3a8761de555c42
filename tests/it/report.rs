//! `report` end to end: a generated event table read through every source format (SQLite file,
//! `sqlite3 .dump`, wrangler's local D1 state, `wrangler d1 export`, `wrangler d1 execute
//! --json`) gives the same report, which recommends the seed's two actions.

use crate::support::{self, example_site};

use crate::support::report::*;

#[test]
fn report_recommends_the_seeds_two_actions() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let json = report(db.to_str().unwrap(), "json", dir.path());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let partner = |code: &str| {
        v["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .unwrap()
            .clone()
    };
    let agency = partner("nocode-agency");
    assert_eq!(agency["figures"]["counts"]["clicks"], 300);
    assert_eq!(agency["figures"]["counts"]["visitors"], 250);
    assert_eq!(agency["figures"]["counts"]["lead_magnet"], 2);
    assert_eq!(agency["action"]["rule"], "many_clicks_weak_lead_magnet");
    assert!(agency["action"]["action"]
        .as_str()
        .unwrap()
        .contains("headline"));
    assert!(agency["action"]["because"]
        .as_str()
        .unwrap()
        .contains("lead magnet 2 of "));

    let founders = partner("founder-community");
    assert_eq!(founders["figures"]["counts"]["clicks"], 40);
    assert_eq!(founders["figures"]["counts"]["activation"], 9);
    assert_eq!(founders["action"]["rule"], "few_visits_strong_activation");
    assert!(founders["action"]["action"]
        .as_str()
        .unwrap()
        .contains("guest post"));

    assert_eq!(
        partner("ai-tools-directory")["action"]["rule"],
        "insufficient_data"
    );
    assert_eq!(v["excluded"]["unknown_partner_rows"]["unknown-partner"], 1);
    assert_eq!(v["excluded"]["no_visitor_rows"]["seo-consultant"], 1);

    // People get the same decisions in Markdown.
    let md = report(db.to_str().unwrap(), "md", dir.path());
    assert!(md.contains("`many_clicks_weak_lead_magnet`"), "{md}");
    assert!(md.contains("`few_visits_strong_activation`"), "{md}");
    assert!(
        md.contains("unknown partner code `unknown-partner`"),
        "{md}"
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    for format in ["md", "json", "html"] {
        let a = report(db.to_str().unwrap(), format, dir.path());
        let b = report(db.to_str().unwrap(), format, dir.path());
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn unknown_partner_flag_suggests_the_closest_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let out = support::run(
        &example_site(),
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--partner",
            "seo-consultnat",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `seo-consultant`"), "{err}");
}

#[test]
fn a_file_of_another_format_names_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    std::fs::write(&csv, "id,partner_code\n1,seo\n").unwrap();
    let out = support::run(
        &example_site(),
        &["report", "--events", csv.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not an event source") && err.contains("wrangler d1 export"),
        "{err}"
    );

    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE events (id TEXT);")
        .unwrap();
    let out = support::run(
        &example_site(),
        &["report", "--events", other.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no table partner_events (tables found: events)"),
        "{err}"
    );
}

use std::path::{Path, PathBuf};

/// A table none of whose rows names a partner of the site.
fn foreign_table(dir: &Path) -> PathBuf {
    let path = dir.join("foreign.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    for (i, code) in ["other-shop", "other-shop", "acme-affiliate"]
        .iter()
        .enumerate()
    {
        conn.execute(
            "INSERT INTO partner_events VALUES (?1, ?2, 'default', 'visit', '/', ?3, '2026-11-18T10:00:00.000Z')",
            rusqlite::params![format!("f{i}"), code, format!("v{i}")],
        )
        .unwrap();
    }
    path
}

#[test]
fn a_table_of_unknown_partners_is_refused_with_the_codes_found_and_expected() {
    let site = support::copy_site(&example_site());
    let db = foreign_table(site.path());
    let db = db.to_str().unwrap();
    let range = ["--since", SINCE, "--until", UNTIL, "--now", NOW];
    for args in [
        vec!["report", "--events", db],
        vec!["leads", "--events", db],
    ]
    .into_iter()
    .map(|mut a| {
        a.extend(range);
        a
    })
    .chain([vec![
        "calendar",
        "--events",
        db,
        "--now",
        "2026-11-24T00:00:00Z",
    ]]) {
        let out = support::run(site.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("acme-affiliate (1 rows), other-shop (2 rows)"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("seo-consultant") && err.contains("nocode-agency"),
            "{args:?}: {err}"
        );
    }
    // Nothing half-written: the calendar wrote no task file.
    for dir in ["content/briefs", "emails", "proposals"] {
        assert!(!site.path().join(dir).exists(), "{dir} was written");
    }
}

#[test]
fn without_events_the_serve_database_is_read_or_the_error_says_what_to_pass() {
    let site = support::copy_site(&example_site());
    let _ = std::fs::remove_file(site.path().join("partner-events.db"));
    for cmd in ["report", "leads", "calendar"] {
        let out = support::run(site.path(), &[cmd, "--now", NOW]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains("no event source: none given") && err.contains("partner-events.db"),
            "{cmd}: {err}"
        );
    }
    // With the database `serve` writes, that is the default.
    sqlite_file(site.path());
    std::fs::rename(
        site.path().join("events.db"),
        site.path().join("partner-events.db"),
    )
    .unwrap();
    let out = support::run(
        site.path(),
        &[
            "report", "--since", SINCE, "--until", UNTIL, "--now", NOW, "--format", "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["source"].as_str().unwrap().contains("partner-events.db"));
    assert_eq!(
        v["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["figures"]["counts"]["visitors"].as_u64().unwrap())
            .sum::<u64>(),
        448
    );
}
