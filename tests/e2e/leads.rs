//! `leads` and `forget` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `leads` and `forget` end to end: a hand-built SQLite event table, the real binary, Python's
//! `csv` and `jsonschema` modules.

use crate::support;
use rusqlite::Connection;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

use crate::support::leads::*;

#[test]
fn leads_json_matches_its_schema() {
    let (site, db) = site_with_events();
    let out = stdout_ok(&support::run(
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
        ],
    ));
    // A middle page too: a non-null next_cursor and fewer leads than the total.
    let page = leads_json(site.path(), &db, &["--stage", "click", "--limit", "2"]);
    assert!(page["next_cursor"].is_string(), "{page}");
    for text in [out, page.to_string()] {
        crate::tools::assert_valid_json("leads.schema.json", &text);
    }
}

fn python(args: &[&str]) -> std::process::Output {
    let py = crate::tools::require_tool("python3", "Python 3 with csv and jsonschema");
    Command::new(py)
        .current_dir(support::repo_root())
        .args(args)
        .output()
        .expect("run python3")
}

#[test]
fn csv_round_trips_through_python_and_neutralises_formulas() {
    let (site, db) = site_with_events();
    let args = [
        "--events",
        db.to_str().unwrap(),
        "--last",
        "14d",
        "--now",
        NOW,
        "--stage",
        "click",
    ];
    let csv = support::run(
        site.path(),
        &[&["leads", "--format", "csv"][..], &args].concat(),
    );
    let csv_text = stdout_ok(&csv);
    assert!(csv_text.starts_with('\u{feff}'), "UTF-8 BOM first");
    let file = site.path().join("leads.csv");
    std::fs::write(&file, &csv_text).unwrap();
    let py = python(&["tests/py/read_csv.py", file.to_str().unwrap()]);
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let parsed: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(parsed["crlf_only"], true, "every record ends with CRLF");
    let rows = parsed["rows"].as_array().unwrap();

    let json: Value = serde_json::from_str(&stdout_ok(&support::run(
        site.path(),
        &[&["leads", "--format", "json"][..], &args].concat(),
    )))
    .unwrap();
    let leads = json["leads"].as_array().unwrap();
    assert_eq!(rows.len(), leads.len());
    for (row, lead) in rows.iter().zip(leads) {
        assert_eq!(row["visitor_id"], lead["visitor_id"]);
        assert_eq!(row["next_step_rule"], lead["next_step"]["rule"]);
        assert_eq!(row["next_step_action"], lead["next_step"]["action"]);
        let campaign = lead["campaign"].as_str().unwrap();
        let cell = row["campaign"].as_str().unwrap();
        if campaign.starts_with(['=', '+', '-', '@']) {
            assert_eq!(cell, format!("'{campaign}"), "formula neutralised");
        } else {
            assert_eq!(cell, campaign);
        }
    }
    let campaigns: Vec<&str> = rows
        .iter()
        .map(|r| r["campaign"].as_str().unwrap())
        .collect();
    for expected in [
        "'=HYPERLINK(\"http://x.example\",\"y\")",
        "'+1",
        "'-2",
        "'@SUM(A1)",
    ] {
        assert!(campaigns.contains(&expected), "{expected} in {campaigns:?}");
    }
    assert_eq!(rows[1]["user_id"], "acct-42");
}

/// `wrangler d1 … --local` in the built collector folder, with its own state folder.
fn wrangler(site: &Path, args: &[&str]) -> std::process::Output {
    let wrangler = crate::tools::require_tool("wrangler", "wrangler runs the D1 statement locally");
    Command::new(wrangler)
        .args(args)
        .arg("--persist-to")
        .arg(site.join("d1-state"))
        .current_dir(site.join("collector"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("run wrangler")
}

#[test]
fn forget_prints_a_d1_command_that_a_shell_and_wrangler_run_as_is() {
    // An id no one should send, but the command must survive it: quotes, $(), backticks, !.
    let nasty = "v'\"$(touch pwned)`id`!x";
    let mut rows: Vec<Row> = ROWS.to_vec();
    rows.push((
        Some(nasty),
        "seo-consultant",
        "default",
        "visit",
        "2026-11-20T11:00:00.000Z",
        None,
        None,
    ));
    rows.push((
        Some(nasty),
        "seo-consultant",
        "default",
        "cta",
        "2026-11-20T11:05:00.000Z",
        None,
        None,
    ));

    let site = support::copy_site(&support::example_site());
    let root = site.path();
    stdout_ok(&support::run(root, &["build"]));
    let applied = wrangler(
        root,
        &["d1", "migrations", "apply", "partner-events", "--local"],
    );
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // The same rows in local D1 (through a SQL file, as `wrangler d1 execute --file` takes it)
    // and in a SQLite file for `forget`.
    let local = event_db(root, &rows);
    let dump: String = {
        let conn = Connection::open(&local).unwrap();
        let mut stmt = conn
            .prepare("SELECT 'INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, user_id, value) VALUES (' || quote(id) || ',' || quote(partner_code) || ',' || quote(campaign) || ',' || quote(event_name) || ',' || quote(page_path) || ',' || quote(visitor_id) || ',' || quote(created_at) || ',' || quote(user_id) || ',' || quote(value) || ');' FROM partner_events ORDER BY id")
            .unwrap();
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        lines.join("\n")
    };
    let sql_file = root.join("rows.sql");
    std::fs::write(&sql_file, dump).unwrap();
    let loaded = wrangler(
        root,
        &[
            "d1",
            "execute",
            "partner-events",
            "--local",
            "--file",
            sql_file.to_str().unwrap(),
        ],
    );
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );

    let out = stdout_ok(&support::run(
        root,
        &[
            "forget",
            "--db",
            local.to_str().unwrap(),
            "--visitor",
            nasty,
        ],
    ));
    assert!(out.contains("deleted 2 rows"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("d1 execute"))
        .unwrap()
        .trim();

    // Run the printed line through a shell, pointed at the local state instead of production.
    let wrangler_bin =
        crate::tools::require_tool("wrangler", "wrangler runs the D1 statement locally");
    let state = root.join("d1-state");
    let local_line = line
        .replacen("npx wrangler", wrangler_bin.to_str().unwrap(), 1)
        .replacen(
            "--remote",
            &format!("--local --persist-to {}", state.to_str().unwrap()),
            1,
        );
    let ran = Command::new("sh")
        .arg("-c")
        .arg(&local_line)
        .current_dir(root.join("collector"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{local_line}\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(
        !root.join("collector/pwned").exists(),
        "the shell ran part of the id"
    );

    // Local D1 now holds exactly the rows the SQLite file kept.
    let left = wrangler(
        root,
        &[
            "d1",
            "execute",
            "partner-events",
            "--local",
            "--json",
            "--command",
            "SELECT id FROM partner_events ORDER BY id",
        ],
    );
    assert!(
        left.status.success(),
        "{}",
        String::from_utf8_lossy(&left.stderr)
    );
    let v: Value = serde_json::from_slice(&left.stdout).expect("wrangler JSON");
    let d1_ids: Vec<String> = v[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let sqlite_ids: Vec<String> = all_rows(&local).into_iter().map(|(id, _)| id).collect();
    assert_eq!(d1_ids, sqlite_ids);
    assert_eq!(d1_ids.len(), ROWS.len());
}
