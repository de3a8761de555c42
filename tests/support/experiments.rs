//! Helpers shared by the plain and the e2e tests of experiments.

use crate::support;

pub(crate) const VARIANTS: &str = "variants:\n  - id: control\n  - id: speed\n    promise: Audit in ten minutes\n    landing: { headline: Audit AI content in ten minutes }\n    cta: { label: Start an audit }\n";
pub(crate) const CONTROL_HEADLINE: &str = "Ship AI content your clients can trust";
pub(crate) const SPEED_HEADLINE: &str = "Audit AI content in ten minutes";

pub(crate) fn site_with_variants() -> tempfile::TempDir {
    let site = support::copy_site(&support::example_site());
    let file = site.path().join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&file).expect("example partner");
    text.push_str(VARIANTS);
    std::fs::write(&file, text).unwrap();
    site
}

pub(crate) fn shown(body: &str) -> &'static str {
    match (
        body.contains(SPEED_HEADLINE),
        body.contains(CONTROL_HEADLINE),
    ) {
        (true, false) => "speed",
        (false, true) => "control",
        _ => panic!("the page shows neither or both headlines"),
    }
}

/// "Now" of the event table below: its last look ends here.
pub(crate) const TEST_NOW: &str = "2026-11-24T00:00:00Z";
/// Days of traffic before [`TEST_NOW`]: six weekly looks.
pub(crate) const TEST_DAYS: i64 = 42;
/// Visitors per variant and day.
pub(crate) const PER_DAY: i64 = 10;

/// A known truth, counted rather than drawn: every day 10 visitors per variant; a lead magnet
/// for 2 in 10 of the control's visitors and 4 in 10 of `speed`'s (a 20-point lift), a CTA for
/// 1 in 10 of both (no difference), no activation. Every fifth control visitor's rows have no
/// variant (rows from before the column existed read as the control).
pub(crate) fn events_with_variants(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("experiment-events.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    let end = partner_pages::events::Ts::parse(TEST_NOW).unwrap().0;
    let day = partner_pages::events::MS_PER_DAY;
    let mut ins = conn
        .prepare(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) \
             VALUES (?1, 'seo-consultant', 'default', ?2, '/p/seo-consultant/', ?3, ?4, ?5)",
        )
        .unwrap();
    let mut n = 0;
    for d in 0..TEST_DAYS {
        for (variant, lead_magnets) in [("control", 2), ("speed", 4)] {
            for i in 0..PER_DAY {
                let vid = format!("{variant}-{d}-{i}");
                let at = end - (TEST_DAYS - d) * day + i * 3_600_000;
                let stored = (variant == "speed" || i % 5 != 0).then_some(variant);
                let mut row = |event: &str, at: i64| {
                    n += 1;
                    let ts = partner_pages::events::Ts(at).to_string();
                    ins.execute(rusqlite::params![format!("r{n}"), event, vid, ts, stored])
                        .unwrap();
                };
                row("visit", at);
                if i < lead_magnets {
                    row("lead_magnet", at + 60_000);
                }
                if i == PER_DAY - 1 {
                    row("cta", at + 120_000);
                }
            }
        }
    }
    path
}
