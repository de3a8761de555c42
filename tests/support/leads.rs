//! Helpers shared by the plain and the e2e tests of `leads` and `forget`.
//! `leads` and `forget` end to end: a hand-built SQLite event table, the real binary, Python's
//! `csv` and `jsonschema` modules.

use crate::support;
use rusqlite::{params, Connection};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub(crate) const NOW: &str = "2026-11-24T00:00:00Z";

/// One row: (visitor, partner, campaign, event, created_at, user_id, value).
pub(crate) type Row<'a> = (
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
    // Demo booked 12 days ago without the download, no activation, signed in (a user id):
    // follow up on the demo.
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
        Some("acct-7"),
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
    let site = support::copy_site(&support::example_site());
    let db = event_db(site.path(), ROWS);
    (site, db)
}

pub(crate) fn stdout_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

pub(crate) fn leads_json(site: &Path, db: &Path, extra: &[&str]) -> Value {
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

pub(crate) fn all_rows(db: &Path) -> Vec<(String, Option<String>)> {
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
