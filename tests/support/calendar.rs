//! Helpers shared by the plain and the e2e tests of `calendar`.
//! `calendar` and `build --events/--preview` end to end: the example site, an event table
//! generated for it (the seed's two example partners plus other traffic), and the real parsers
//! (Python `icalendar` and `jsonschema`, the Nu HTML checker).

use crate::support;
use std::path::{Path, PathBuf};

pub(crate) const NOW: &str = "2026-11-24T12:00:00Z";
pub(crate) const START: &str = "2026-11-30";

/// Visitors of one partner: the first `visits` of `clicks` clicking visitors view the page,
/// the first `lead_magnets` of those download, and so on.
pub(crate) struct Traffic {
    pub(crate) code: &'static str,
    pub(crate) campaign: &'static str,
    pub(crate) clicks: u32,
    pub(crate) visits: u32,
    pub(crate) lead_magnets: u32,
    pub(crate) ctas: u32,
    pub(crate) activations: u32,
    /// The experiment variant every row of this traffic carries (none: the control).
    pub(crate) variant: Option<&'static str>,
    /// Day of November 2026 the clicks start (08:00 UTC, one a minute).
    pub(crate) day: u32,
}

/// The seed's partner A (300 clicks, 2 downloads) is `seo-consultant`, partner B (40 clicks,
/// 9 activations) is `nocode-agency`; the two others are ordinary traffic inside the bands.
pub(crate) const SEED_TRAFFIC: &[Traffic] = &[
    Traffic {
        code: "seo-consultant",
        campaign: "default",
        clicks: 300,
        visits: 290,
        lead_magnets: 2,
        ctas: 1,
        activations: 0,
        variant: None,
        day: 1,
    },
    Traffic {
        code: "nocode-agency",
        campaign: "partner-summit",
        clicks: 40,
        visits: 38,
        lead_magnets: 12,
        ctas: 6,
        activations: 9,
        variant: None,
        day: 1,
    },
    Traffic {
        code: "founder-community",
        campaign: "default",
        clicks: 150,
        visits: 140,
        lead_magnets: 36,
        ctas: 11,
        activations: 3,
        variant: None,
        day: 1,
    },
    Traffic {
        code: "ai-tools-directory",
        campaign: "featured-listing",
        clicks: 120,
        visits: 112,
        lead_magnets: 30,
        ctas: 9,
        activations: 2,
        variant: None,
        day: 1,
    },
];

/// Write `partner_events` (the seed's schema) for `traffic` into a new SQLite file.
pub(crate) fn events_db(dir: &Path, traffic: &[Traffic]) -> PathBuf {
    let path = dir.join("events.db");
    let conn = rusqlite::Connection::open(&path).expect("open sqlite");
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .expect("schema");
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .expect("the later columns");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .expect("prepare");
        let mut n = 0u32;
        for t in traffic {
            // Day 1 is three weeks before NOW: past every stage's maturity horizon (14 days at
            // most).
            let base = chrono::NaiveDate::from_ymd_opt(2026, 11, t.day)
                .unwrap()
                .and_hms_opt(8, 0, 0)
                .unwrap();
            for i in 0..t.clicks {
                let vid = format!("{}-{}-{i}", t.code, t.variant.unwrap_or("c"));
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
                        ts,
                        t.variant
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
            "2026-11-24T10:00:00.000Z",
            None::<String>
        ])
        .expect("insert");
    }
    tx.commit().expect("commit");
    path
}

/// The example site with the seed traffic in `events.db` beside it.
pub(crate) fn seed_site() -> (tempfile::TempDir, PathBuf) {
    let site = support::copy_site(&support::example_site());
    let db = events_db(site.path(), SEED_TRAFFIC);
    (site, db)
}

pub(crate) fn calendar(root: &Path, db: &Path, format: &str) -> String {
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

pub(crate) fn tasks(json: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(json).expect("calendar JSON");
    v["tasks"].as_array().expect("tasks array").clone()
}

pub(crate) fn task<'a>(
    tasks: &'a [serde_json::Value],
    partner: &str,
    kind: &str,
) -> &'a serde_json::Value {
    tasks
        .iter()
        .find(|t| t["partner"] == partner && t["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} task for {partner} in {tasks:#?}"))
}

pub(crate) fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(crate) fn build(root: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["build", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = support::run(root, &args);
    assert!(
        o.status.success(),
        "build {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A partner file for the follow-through fixture (the example site's shape, no landing body).
pub(crate) fn extra_partner(code: &str, name: &str, audience: &str, promise: &str) -> String {
    format!(
        "name: {name}\ncode: {code}\naudience: {audience}\npromise: {promise}\ncampaigns: [default]\nlanding:\n  headline: {promise} for your team\n  proof: Used by 120 teams last quarter\nlead_magnet: {{ label: Get the {promise}, url: /llms-txt-guide/ }}\ncta: {{ label: Book a demo, kind: demo, url: /demo }}\nactivation:\n  event: runs_first_audit\n  description: Runs a first content audit in AIKit\n  trigger: {{ server: true }}\n"
    )
}

/// The test the follow-through fixture runs on `ai-tools-directory`.
pub(crate) const AI_TOOLS_VARIANTS: &str = "variants:\n  - id: control\n  - id: ten-minutes\n    promise: Agent-ready in ten minutes\n    landing: { headline: Make your site agent-ready in ten minutes }\n    cta: { label: Start the ten-minute setup }\n";

/// Every standing the calendar knows, on one site: `seo-consultant` mature and below its band
/// (the lead magnet), `nocode-agency` few visits with strong activation, `webinar-club` far
/// above its lead-magnet band, `slack-group` enough visitors but all from the last four days
/// (`too_early`), `founder-community` no visitor at all, `newsletter-swap` too few visitors,
/// and `ai-tools-directory` a test whose variant `ten-minutes` wins on the lead magnet.
pub(crate) fn follow_through_site() -> (tempfile::TempDir, PathBuf) {
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    for (code, name, audience, promise) in [
        (
            "webinar-club",
            "Webinar club",
            "Marketing leads who run monthly webinars",
            "Webinar promotion kit",
        ),
        (
            "slack-group",
            "Growth Slack group",
            "Growth marketers in a private Slack",
            "Growth experiment log",
        ),
        (
            "newsletter-swap",
            "Newsletter swap",
            "Readers of a weekly AI newsletter",
            "Prompt library",
        ),
    ] {
        std::fs::write(
            root.join(format!("partners/{code}.yaml")),
            extra_partner(code, name, audience, promise),
        )
        .unwrap();
    }
    let ai = root.join("partners/ai-tools-directory.yaml");
    let mut text = std::fs::read_to_string(&ai).unwrap();
    text.push_str(AI_TOOLS_VARIANTS);
    std::fs::write(&ai, text).unwrap();
    let t = |code, clicks, visits, lead_magnets, ctas, activations| Traffic {
        code,
        campaign: "default",
        clicks,
        visits,
        lead_magnets,
        ctas,
        activations,
        variant: None,
        day: 1,
    };
    let traffic = [
        t("seo-consultant", 300, 290, 2, 1, 0),
        Traffic {
            campaign: "partner-summit",
            ..t("nocode-agency", 40, 38, 12, 6, 9)
        },
        t("webinar-club", 310, 300, 150, 24, 6),
        Traffic {
            day: 20,
            ..t("slack-group", 155, 150, 40, 9, 2)
        },
        t("newsletter-swap", 32, 30, 7, 1, 0),
        Traffic {
            variant: Some("control"),
            ..t("ai-tools-directory", 310, 300, 45, 18, 4)
        },
        Traffic {
            variant: Some("ten-minutes"),
            ..t("ai-tools-directory", 310, 300, 120, 24, 6)
        },
    ];
    let db = events_db(root, &traffic);
    (site, db)
}

/// `calendar --weeks <weeks> --format json` at NOW from START.
pub(crate) fn calendar_weeks(root: &Path, db: &Path, weeks: u32) -> Vec<serde_json::Value> {
    let w = weeks.to_string();
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
            "--weeks",
            &w,
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "calendar --weeks {weeks} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tasks(&String::from_utf8(out.stdout).expect("utf-8"))
}
