//! `report` end to end: a generated event table read through every source format (SQLite file,
//! `sqlite3 .dump`, wrangler's local D1 state, `wrangler d1 export`, `wrangler d1 execute
//! --json`) gives the same report, which recommends the seed's two actions.

use crate::support::{self, repo_root, require_tool};
use std::path::{Path, PathBuf};
use std::process::Command;

const SINCE: &str = "2026-11-16";
const UNTIL: &str = "2026-11-23";
/// Read the week after every stage's horizon (14 days for activation), with a row in the table
/// that late, so the whole cohort is mature.
const NOW: &str = "2026-12-08T00:00:00Z";

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
fn json_report_validates_against_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    support::assert_valid_json(
        "report.schema.json",
        &report(db.to_str().unwrap(), "json", dir.path()),
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
    support::assert_nu_clean(&[out_file]);
}

/// One scripted visitor: partner, campaign, beacon stages after the click, server-side event.
type Visit = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

const SCRIPT: [Visit; 6] = [
    (
        "seo-consultant",
        "webinar-dec",
        &["visit", "lead_magnet", "cta"],
        Some("activation"),
    ),
    ("seo-consultant", "default", &["visit", "visit"], None),
    ("nocode-agency", "default", &[], None),
    (
        "nocode-agency",
        "default",
        &["visit", "cta", "lead_magnet"],
        None,
    ),
    (
        "founder-community",
        "default",
        &["visit", "lead_magnet"],
        Some("revenue"),
    ),
    ("ai-tools-directory", "default", &["cta", "visit"], None),
];

fn script_rows() -> usize {
    SCRIPT
        .iter()
        .map(|(_, _, s, srv)| 1 + s.len() + usize::from(srv.is_some()))
        .sum()
}

fn cookie_of(set_cookies: &[String]) -> (String, String) {
    let pairs: Vec<&str> = set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect();
    let vid = pairs
        .iter()
        .find_map(|c| c.strip_prefix("pp_vid="))
        .expect("the click sets pp_vid")
        .to_string();
    (pairs.join("; "), vid)
}

fn server_body(partner: &str, event: &str, vid: &str) -> String {
    let value = (event == "revenue").then_some(49.0);
    serde_json::json!({"event": event, "partner": partner, "visitor_id": vid, "value": value})
        .to_string()
}

fn beacon_body(partner: &str, stage: &str) -> String {
    serde_json::json!({"e": stage, "u": format!("/p/{partner}/")}).to_string()
}

/// Reports for the last day, as of a minute from now (computed once per test run).
fn report_now(events: &str, cwd: &Path) -> serde_json::Value {
    static NOW: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let now = NOW.get_or_init(|| {
        (chrono::Utc::now() + chrono::Duration::minutes(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    });
    let out = Command::new(support::bin())
        .current_dir(cwd)
        .arg("--root")
        .arg(repo_root())
        .args([
            "report", "--events", events, "--last", "1d", "--now", now, "--format", "json",
        ])
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "report --events {events}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v = comparable(&String::from_utf8(out.stdout).unwrap());
    // The two tables were written seconds apart: the times their data ends (`as_of`) and
    // their cohorts mature (`ready`) differ by that much; every count must not.
    strip_times(&mut v);
    v
}

fn strip_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("as_of");
            m.remove("ready");
            m.values_mut().for_each(strip_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_times),
        _ => {}
    }
}

#[test]
fn events_written_by_the_worker_and_by_serve_give_the_same_report() {
    let sqlite3 = require_tool("sqlite3", "the sqlite3 command (apt-get install sqlite3)");
    let wrangler = require_tool("wrangler", "wrangler from node_modules (npm ci)");
    let ua = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36");
    let scratch = tempfile::tempdir().unwrap();

    // The real Worker in workerd with local D1.
    let worker = crate::worker::Collector::start(|_| {});
    for (partner, campaign, stages, server) in SCRIPT {
        let click = worker.request(
            "GET",
            &format!("/go/{partner}?campaign={campaign}"),
            &[ua],
            b"",
        );
        assert_eq!(click.status, 302);
        let set: Vec<String> = click
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.clone())
            .collect();
        let (cookie, vid) = cookie_of(&set);
        for stage in stages {
            // Distinct milliseconds, so the order of the stages is the order sent.
            std::thread::sleep(std::time::Duration::from_millis(5));
            let r = worker.beacon(&beacon_body(partner, stage), &[("Cookie", &cookie)]);
            assert_eq!(r.status, 204, "{partner} {stage}");
        }
        if let Some(event) = server {
            let r = worker.signed(
                &server_body(partner, event, &vid),
                crate::worker::now(),
                crate::worker::SECRET,
            );
            assert_eq!(r.status, 204);
        }
    }
    assert_eq!(worker.rows_at_least(script_rows()).len(), script_rows());

    // `partner-pages serve` with its SQLite file.
    let serve = crate::serve::Serve::start(&["--no-watch"]);
    for (partner, campaign, stages, server) in SCRIPT {
        let click = serve.get(&format!("/go/{partner}?campaign={campaign}"), &[ua]);
        assert_eq!(click.status, 302);
        let cookie = click.cookie_header();
        let vid = cookie
            .split("; ")
            .find_map(|c| c.strip_prefix("pp_vid="))
            .expect("pp_vid")
            .to_string();
        for stage in stages {
            std::thread::sleep(std::time::Duration::from_millis(5));
            let r = serve.beacon(&beacon_body(partner, stage), &[("Cookie", &cookie)]);
            assert_eq!(r.status, 204, "{partner} {stage}");
        }
        if let Some(event) = server {
            assert_eq!(
                serve
                    .server_event(&server_body(partner, event, &vid), crate::worker::now())
                    .status,
                204
            );
        }
    }
    let serve_db = serve.db.to_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while rusqlite::Connection::open(&serve.db)
        .and_then(|c| {
            c.query_row("SELECT count(*) FROM partner_events", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .unwrap_or(0)
        < script_rows() as i64
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let reference = report_now(&serve_db, scratch.path());
    let seo = reference["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "seo-consultant")
        .unwrap();
    assert_eq!(seo["figures"]["counts"]["visitors"], 2);
    assert_eq!(seo["figures"]["counts"]["lead_magnet"], 1);
    assert_eq!(seo["figures"]["counts"]["activation"], 1);
    let ai = reference["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "ai-tools-directory")
        .unwrap();
    assert_eq!(
        ai["figures"]["counts"]["cta"], 0,
        "a CTA before the visit does not count"
    );

    // serve's file through sqlite3 .dump.
    let dump = scratch.path().join("serve.sql");
    let out = Command::new(&sqlite3)
        .arg(&serve.db)
        .arg(".dump")
        .output()
        .unwrap();
    std::fs::write(&dump, &out.stdout).unwrap();
    assert_eq!(
        report_now(dump.to_str().unwrap(), scratch.path()),
        reference,
        "serve via sqlite3 .dump"
    );

    // The Worker's local D1 state, read directly from its --persist-to folder.
    let state = worker.site.path().join("d1-state");
    assert_eq!(
        report_now(state.to_str().unwrap(), scratch.path()),
        reference,
        "Worker's local D1 state"
    );
    // ... through `wrangler d1 export --local` and `wrangler d1 execute --local --json`.
    let export = scratch.path().join("worker.sql");
    // `wrangler d1 export` has no --persist-to: give it the state where it looks by default.
    let default_state = worker.site.path().join("collector/.wrangler/state");
    std::fs::create_dir_all(&default_state).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(state.join("v3"))
        .arg(&default_state)
        .status()
        .unwrap();
    assert!(copied.success());
    let out = Command::new(&wrangler)
        .current_dir(worker.site.path().join("collector"))
        .args(["d1", "export", "partner-events", "--local", "--output"])
        .arg(&export)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wrangler d1 export: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report_now(export.to_str().unwrap(), scratch.path()),
        reference,
        "Worker via wrangler d1 export"
    );
    let out = worker
        .wrangler_cmd(
            &wrangler,
            &[
                "d1",
                "execute",
                "partner-events",
                "--local",
                "--json",
                "--command",
                "SELECT * FROM partner_events",
            ],
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = scratch.path().join("worker.json");
    std::fs::write(&json, &out.stdout).unwrap();
    assert_eq!(
        report_now(json.to_str().unwrap(), scratch.path()),
        reference,
        "Worker via wrangler --json"
    );
}

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
    let site = support::copy_site(&repo_root());
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
    let site = support::copy_site(&repo_root());
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
