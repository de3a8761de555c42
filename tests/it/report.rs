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
        .contains("2 lead-magnet downloads"));

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
