//! `report` end to end: a generated event table read through every source format (SQLite file,
//! `sqlite3 .dump`, wrangler's local D1 state, `wrangler d1 export`, `wrangler d1 execute
//! --json`) gives the same report, which recommends the seed's two actions.

use crate::support::{self, repo_root, require_tool};
use std::path::{Path, PathBuf};
use std::process::Command;

const SINCE: &str = "2026-11-16";
const UNTIL: &str = "2026-11-23";

/// One partner's traffic: how many visitors reach each stage.
struct Mix {
    code: &'static str,
    clicks_only: usize,
    visitors: usize,
    lead_magnet: usize,
    cta: usize,
    activation: usize,
}

/// The seed's two partners and two ordinary ones, on the example site's partners:
/// nocode-agency sends 300 clicks and gets 2 downloads; founder-community sends 40 clicks and
/// 9 activations.
const MIXES: [Mix; 4] = [
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
fn rows() -> Vec<[String; 7]> {
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

fn row(id: &str, code: &str, event: &str, vid: Option<&str>, at: &str) -> [String; 7] {
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
fn sqlite_file(dir: &Path) -> PathBuf {
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

fn report(events: &str, format: &str, cwd: &Path) -> String {
    let out = Command::new(support::bin())
        .current_dir(cwd)
        .args(["--root"])
        .arg(repo_root())
        .args([
            "report", "--events", events, "--since", SINCE, "--until", UNTIL, "--format", format,
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

/// The JSON report without its `source` line (the only field that names the format).
fn comparable(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_object_mut().unwrap().remove("source");
    v
}

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
fn json_report_validates_against_the_committed_schema() {
    let python = require_tool(
        "python3",
        "Python 3 with jsonschema (tests/requirements.txt)",
    );
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let json_path = dir.path().join("report.json");
    std::fs::write(&json_path, report(db.to_str().unwrap(), "json", dir.path())).unwrap();
    let out = Command::new(python)
        .arg(repo_root().join("tests/py/report_schema_check.py"))
        .arg(repo_root().join("schemas/report.schema.json"))
        .arg(&json_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "schema validation failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The schema's rule names are the code's.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = schema["$defs"]["action"]["properties"]["rule"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let code: Vec<&str> = partner_pages::funnel::RULES
        .iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, code);
}

#[test]
fn every_source_format_gives_the_same_report() {
    let sqlite3 = require_tool("sqlite3", "the sqlite3 command (apt-get install sqlite3)");
    let wrangler = require_tool("wrangler", "wrangler from node_modules (npm ci)");
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let reference = comparable(&report(db.to_str().unwrap(), "json", dir.path()));

    // sqlite3's own dump.
    let dump = dir.path().join("dump.sql");
    let out = Command::new(&sqlite3)
        .arg(&db)
        .arg(".dump")
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&dump, &out.stdout).unwrap();
    assert_eq!(
        comparable(&report(dump.to_str().unwrap(), "json", dir.path())),
        reference,
        "sqlite3 .dump"
    );

    // wrangler's local D1: load the dump, then read it back three ways.
    let wr = dir.path().join("collector");
    std::fs::create_dir_all(&wr).unwrap();
    std::fs::write(
        wr.join("wrangler.toml"),
        "name = \"report-test\"\nmain = \"w.js\"\ncompatibility_date = \"2025-01-01\"\n\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"partner-events\"\ndatabase_id = \"00000000-0000-4000-8000-000000000006\"\n",
    )
    .unwrap();
    std::fs::write(
        wr.join("w.js"),
        "export default { fetch() { return new Response('ok') } }\n",
    )
    .unwrap();
    let run_wrangler = |args: &[&str]| {
        let out = Command::new(&wrangler)
            .current_dir(&wr)
            .args(args)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "wrangler {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run_wrangler(&[
        "d1",
        "execute",
        "partner-events",
        "--local",
        "--file",
        dump.to_str().unwrap(),
    ]);

    // 1. The local state, found from the database name (run from the site folder).
    assert_eq!(
        comparable(&report("partner-events", "json", dir.path())),
        reference,
        "local D1 state"
    );
    // 2. `wrangler d1 export --local`.
    let export = dir.path().join("export.sql");
    run_wrangler(&[
        "d1",
        "export",
        "partner-events",
        "--local",
        "--output",
        export.to_str().unwrap(),
    ]);
    assert_eq!(
        comparable(&report(export.to_str().unwrap(), "json", dir.path())),
        reference,
        "wrangler d1 export"
    );
    // 3. `wrangler d1 execute --json`.
    let json = run_wrangler(&[
        "d1",
        "execute",
        "partner-events",
        "--local",
        "--json",
        "--command",
        "SELECT * FROM partner_events",
    ]);
    let json_path = dir.path().join("events.json");
    std::fs::write(&json_path, json).unwrap();
    assert_eq!(
        comparable(&report(json_path.to_str().unwrap(), "json", dir.path())),
        reference,
        "wrangler --json"
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
        &repo_root(),
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
    let out = support::run(&repo_root(), &["report", "--events", csv.to_str().unwrap()]);
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
        &repo_root(),
        &["report", "--events", other.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no table partner_events (tables found: events)"),
        "{err}"
    );
}

#[test]
fn html_report_is_self_contained_and_passes_the_nu_checker() {
    let java = require_tool(
        "java",
        "a Java runtime for the Nu HTML checker (apt-get install default-jre-headless)",
    );
    let vnu = repo_root().join("node_modules/vnu-jar/build/dist/vnu.jar");
    assert!(
        vnu.exists(),
        "the Nu HTML checker is missing at {}: run `npm ci`",
        vnu.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let out_file = dir.path().join("report.html");
    let out = support::run(
        &repo_root(),
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--format",
            "html",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&out_file).unwrap();
    // One SVG chart per partner, plus the average.
    assert_eq!(html.matches("<svg ").count(), MIXES.len() + 1);
    assert!(!html.contains("<script") && !html.contains("<link ") && !html.contains("@import"));
    assert!(
        !html
            .replace("http://www.w3.org/2000/svg", "")
            .contains("http"),
        "external reference"
    );
    let check = Command::new(java)
        .arg("-jar")
        .arg(&vnu)
        .arg("--errors-only")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "Nu HTML checker: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
