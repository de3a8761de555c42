//! `report` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `report` end to end: a generated event table read through every source format (SQLite file,
//! `sqlite3 .dump`, wrangler's local D1 state, `wrangler d1 export`, `wrangler d1 execute
//! --json`) gives the same report, which recommends the seed's two actions.

use crate::support::{self, example_site, repo_root};
use crate::tools::require_tool;
use std::path::Path;
use std::process::Command;

use crate::support::report::*;

/// The JSON report without its `source` line (the only field that names the format).
fn comparable(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_object_mut().unwrap().remove("source");
    v
}

#[test]
fn json_report_validates_against_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    crate::tools::assert_valid_json(
        "report.schema.json",
        &report(db.to_str().unwrap(), "json", dir.path()),
    );
    // The schema's rule names are the code's.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = schema["$defs"]["Rule"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["const"].as_str().unwrap())
        .collect();
    let code: Vec<&str> = partner_pages::funnel::RULES
        .iter()
        .map(|r| r.name.as_str())
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
fn html_report_is_self_contained_and_passes_the_nu_checker() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let out_file = dir.path().join("report.html");
    let out = support::run(
        &example_site(),
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
    crate::tools::assert_nu_clean(&[out_file]);
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
        .arg(example_site())
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
    let serve = crate::support::serve::Serve::start(&["--no-watch"]);
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

/// A report with a running test (its `experiments` section) is valid against the committed
/// schema too: every field of the section is described and closed.
#[test]
fn json_report_with_an_experiment_validates_against_the_committed_schema() {
    let site = crate::support::experiments::site_with_variants();
    let db = site.path().join("events.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    let mut ins = conn
        .prepare(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, \
             visitor_id, created_at, variant) VALUES (?1, 'seo-consultant', 'default', ?2, \
             '/p/seo-consultant/', ?3, ?4, ?5)",
        )
        .unwrap();
    let mut n = 0;
    // 400 visitors over three weeks, half per variant; `speed` converts more often.
    for v in 0..400u32 {
        let variant = if v % 2 == 0 { "control" } else { "speed" };
        let day = 1 + v % 21;
        let vid = format!("00000000-0000-4000-8000-{v:012}");
        let at = format!("2026-10-{day:02}T10:00:00.000Z");
        let mut add = |event: &str, at: &str| {
            n += 1;
            ins.execute(rusqlite::params![format!("r{n}"), event, vid, at, variant])
                .unwrap();
        };
        add("visit", &at);
        if v % 3 == 0 || (variant == "speed" && v % 5 == 1) {
            add("lead_magnet", &format!("2026-10-{day:02}T10:05:00.000Z"));
        }
    }
    drop(ins);
    drop(conn);
    let out = std::process::Command::new(crate::support::bin())
        .args(["--root"])
        .arg(site.path())
        .args(["report", "--events"])
        .arg(&db)
        .args(["--since", "2026-10-01", "--until", "2026-10-29", "--now"])
        .args(["2026-11-20", "--format", "json"])
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tests = v["experiments"].as_array().expect("an experiments section");
    assert_eq!(tests[0]["partner"], "seo-consultant");
    crate::tools::assert_valid_json("report.schema.json", &json);
}
