//! Helpers shared by the plain and the e2e tests of `report`.
//! `report` end to end: a generated event table read through every source format (SQLite file,
//! `sqlite3 .dump`, wrangler's local D1 state, `wrangler d1 export`, `wrangler d1 execute
//! --json`) gives the same report, which recommends the seed's two actions.

use crate::support::{self, example_site};
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const SINCE: &str = "2026-11-16";
pub(crate) const UNTIL: &str = "2026-11-23";
/// Read the week after every stage's horizon (14 days for activation), with a row in the table
/// that late, so the whole cohort is mature.
pub(crate) const NOW: &str = "2026-12-08T00:00:00Z";

/// One partner's traffic: how many visitors reach each stage.
pub(crate) struct Mix {
    pub(crate) code: &'static str,
    pub(crate) clicks_only: usize,
    pub(crate) visitors: usize,
    pub(crate) lead_magnet: usize,
    pub(crate) cta: usize,
    pub(crate) activation: usize,
}

/// The seed's two partners and two ordinary ones, on the example site's partners:
/// nocode-agency sends 300 clicks and gets 2 downloads; founder-community sends 40 clicks and
/// 9 activations.
pub(crate) const MIXES: [Mix; 4] = [
    Mix {
        code: "nocode-agency",
        clicks_only: 50,
        visitors: 250,
        lead_magnet: 2,
        cta: 1,
        activation: 0,
    },
    Mix {
        code: "founder-community",
        clicks_only: 2,
        visitors: 38,
        lead_magnet: 14,
        cta: 11,
        activation: 9,
    },
    Mix {
        code: "seo-consultant",
        clicks_only: 10,
        visitors: 150,
        lead_magnet: 40,
        cta: 12,
        activation: 3,
    },
    Mix {
        code: "ai-tools-directory",
        clicks_only: 0,
        visitors: 10,
        lead_magnet: 3,
        cta: 1,
        activation: 0,
    },
];

/// The rows, deterministic: (id, partner, campaign, event, path, visitor, created_at).
pub(crate) fn rows() -> Vec<[String; 7]> {
    let mut out = Vec::new();
    let mut n = 0usize;
    for m in &MIXES {
        for i in 0..m.clicks_only + m.visitors {
            n += 1;
            let vid = format!("{:08x}-0000-4000-8000-{:012x}", n, n * 7919);
            let day = 16 + (i % 7);
            let campaign = if i % 5 == 0 && m.code == "seo-consultant" {
                "webinar-dec"
            } else {
                "default"
            };
            // Alternate the two stored timestamp formats.
            let ts = |minute: usize| {
                if i % 2 == 0 {
                    format!("2026-11-{day}T09:{minute:02}:{:02}.000Z", i % 60)
                } else {
                    format!("2026-11-{day} 09:{minute:02}:{:02}", i % 60)
                }
            };
            let mut push = |event: &str, minute: usize| {
                out.push([
                    format!("{vid}-{event}-{minute}"),
                    m.code.to_string(),
                    campaign.to_string(),
                    event.to_string(),
                    format!("/p/{}/", m.code),
                    vid.clone(),
                    ts(minute),
                ]);
            };
            push("click", 0);
            if i >= m.clicks_only {
                let k = i - m.clicks_only;
                push("visit", 1);
                if k % 3 == 0 {
                    push("visit", 2); // a reload: still one visitor
                }
                if k < m.lead_magnet {
                    push("lead_magnet", 3);
                }
                if k < m.cta {
                    push("cta", 4);
                }
                if k < m.activation {
                    push("activation", 5);
                }
            }
        }
    }
    // A later visit: the table runs past the cohort's horizons.
    out.push(row(
        "late",
        "seo-consultant",
        "visit",
        Some("v-late"),
        "2026-12-07T12:00:00.000Z",
    ));
    // Rows the funnel must set apart.
    out.push(row(
        "x1",
        "unknown-partner",
        "visit",
        Some("v-x"),
        "2026-11-17T10:00:00.000Z",
    ));
    out.push(row(
        "x2",
        "seo-consultant",
        "visit",
        None,
        "2026-11-17T10:00:00.000Z",
    ));
    out
}

pub(crate) fn row(id: &str, code: &str, event: &str, vid: Option<&str>, at: &str) -> [String; 7] {
    [
        id.into(),
        code.into(),
        "default".into(),
        event.into(),
        "/".into(),
        vid.unwrap_or("\u{0}NULL").into(),
        at.into(),
    ]
}

/// Write the rows into a fresh SQLite file with the seed's schema.
pub(crate) fn sqlite_file(dir: &Path) -> PathBuf {
    let path = dir.join("events.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    let mut ins = conn
        .prepare("INSERT INTO partner_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .unwrap();
    for r in rows() {
        let vid = (r[5] != "\u{0}NULL").then(|| r[5].clone());
        ins.execute(rusqlite::params![r[0], r[1], r[2], r[3], r[4], vid, r[6]])
            .unwrap();
    }
    path
}

pub(crate) fn report(events: &str, format: &str, cwd: &Path) -> String {
    let out = Command::new(support::bin())
        .current_dir(cwd)
        .args(["--root"])
        .arg(example_site())
        .args([
            "report", "--events", events, "--since", SINCE, "--until", UNTIL, "--now", NOW,
            "--format", format,
        ])
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "report --events {events} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
