//! `mcp` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `partner-pages mcp` driven as an MCP client drives it: spawn the binary, JSON-RPC 2.0 over
//! stdio (initialize, notifications/initialized, tools/list, tools/call), and compare every
//! answer with the CLI's JSON for the same inputs.

use crate::support;
use crate::support::leads::{site_with_events, NOW};
use serde_json::{json, Value};
use std::process::Command;

use crate::support::mcp::*;

#[test]
fn mcp_conversation_answers_like_the_cli() {
    let (site, db) = site_with_events();
    let root = site.path();
    let events = db.to_str().unwrap();
    let mut c = Client::spawn(root, &db);

    let init = c.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "partner-pages-test", "version": "0"}
        }),
    );
    assert_eq!(
        init["result"]["serverInfo"]["name"], "partner-pages",
        "{init}"
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    // tools/list: the six tools, read-only, each with an object input schema that Python's
    // jsonschema accepts as a schema and that rejects what the server rejects.
    let list = c.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "list_partners",
            "funnel_report",
            "experiments",
            "leads",
            "calendar_tasks",
            "partner_earnings",
            "check"
        ]
    );
    for t in tools {
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }
    let schemas = site.path().join("schemas.json");
    std::fs::write(
        &schemas,
        serde_json::to_string(&list["result"]["tools"]).unwrap(),
    )
    .unwrap();
    let py = Command::new(crate::tools::require_tool(
        "python3",
        "Python 3 with jsonschema",
    ))
    .current_dir(support::repo_root())
    .args(["tests/py/check_tool_schemas.py", schemas.to_str().unwrap()])
    .output()
    .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );

    // list_partners: the partners of the YAML.
    let partners: Value =
        serde_json::from_str(tool_text(&c.call("list_partners", json!({})))).unwrap();
    let codes: Vec<&str> = partners["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "ai-tools-directory",
            "founder-community",
            "nocode-agency",
            "seo-consultant"
        ]
    );

    // funnel_report == report --format json.
    let report = c.call("funnel_report", json!({"last": "14d", "now": NOW}));
    assert_eq!(
        tool_text(&report),
        cli(
            root,
            &["report", "--events", events, "--last", "14d", "--now", NOW, "--format", "json"]
        )
    );
    let one = c.call(
        "funnel_report",
        json!({"partner": "seo-consultant", "since": "2026-11-10", "until": "2026-11-24", "now": NOW}),
    );
    assert_eq!(
        tool_text(&one),
        cli(
            root,
            &[
                "report",
                "--events",
                events,
                "--partner",
                "seo-consultant",
                "--since",
                "2026-11-10",
                "--until",
                "2026-11-24",
                "--now",
                NOW,
                "--format",
                "json"
            ]
        )
    );

    // leads == leads --format json, with and without filters.
    let leads = c.call("leads", json!({"stage": "cta", "last": "14d", "now": NOW}));
    let leads_text = tool_text(&leads);
    assert_eq!(
        leads_text,
        cli(
            root,
            &[
                "leads", "--events", events, "--stage", "cta", "--last", "14d", "--now", NOW,
                "--format", "json"
            ]
        )
    );
    assert_eq!(
        serde_json::from_str::<Value>(leads_text).unwrap()["leads"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let by_partner = c.call(
        "leads",
        json!({"partner": "seo-consultant", "last": "14d", "now": NOW, "events": events}),
    );
    assert_eq!(
        tool_text(&by_partner),
        cli(
            root,
            &[
                "leads",
                "--events",
                events,
                "--partner",
                "seo-consultant",
                "--last",
                "14d",
                "--now",
                NOW
            ]
        )
    );

    // calendar_tasks == calendar --format json. The tool plans without writing; the CLI run
    // after it writes the task files under the names the tool announced.
    let cal = c.call("calendar_tasks", json!({"weeks": 2, "now": NOW}));
    let cal_text = tool_text(&cal).to_string();
    let cal_cli = cli(
        root,
        &[
            "calendar", "--events", events, "--weeks", "2", "--now", NOW, "--format", "json",
        ],
    );
    assert_eq!(cal_text, cal_cli);
    let cal_json: Value = serde_json::from_str(&cal_text).unwrap();
    let tasks = cal_json["tasks"].as_array().expect("tasks");
    assert!(!tasks.is_empty(), "{cal_json}");
    for t in tasks {
        let file = t["file"].as_str().expect("task file");
        assert!(root.join(file).is_file(), "calendar wrote {file}");
    }
    // A second dry run, with the files now on disk, still answers like the CLI.
    let again = c.call("calendar_tasks", json!({"weeks": 2, "now": NOW}));
    assert_eq!(tool_text(&again), cal_cli);

    // check == check --json, for one partner file and for the whole site.
    let check = c.call("check", json!({"file": "partners/seo-consultant.yaml"}));
    assert_eq!(
        tool_text(&check),
        cli(
            root,
            &[
                "check",
                "--json",
                root.join("partners/seo-consultant.yaml").to_str().unwrap()
            ]
        )
    );
    let check_all = c.call("check", json!({}));
    assert_eq!(tool_text(&check_all), cli(root, &["check", "--json"]));

    // A site with problems: a tool error (the CLI exits 1), the diagnostics still as the JSON
    // of `check --json`, then the one-line summary.
    let broken = root.join("partners/zz-broken.yaml");
    let yaml = std::fs::read_to_string(root.join("partners/seo-consultant.yaml"))
        .unwrap()
        .replace("code: seo-consultant", "code: zz-broken")
        .replace("campaigns:", "campaings:");
    std::fs::write(&broken, yaml).unwrap();
    let out = support::run(root, &["check", "--json", "partners/zz-broken.yaml"]);
    assert_eq!(out.status.code(), Some(1), "the CLI fails on the problem");
    let problems = c.call("check", json!({"file": "partners/zz-broken.yaml"}));
    let result = &problems["result"];
    assert_eq!(result["isError"], true, "{problems}");
    let text = result["content"][0]["text"]
        .as_str()
        .expect("diagnostics text");
    assert_eq!(text, String::from_utf8(out.stdout).unwrap());
    let diags: Value = serde_json::from_str(text).expect("diagnostics are JSON");
    let first = &diags[0];
    assert_eq!(first["file"], "partners/zz-broken.yaml", "{diags}");
    assert!(first["line"].as_u64().unwrap() >= 1, "{diags}");
    assert!(
        first["message"].as_str().unwrap().contains("campaings"),
        "{diags}"
    );
    assert_eq!(
        result["content"][1]["text"],
        format!(
            "{} error{} in 1 file",
            diags.as_array().unwrap().len(),
            if diags.as_array().unwrap().len() == 1 {
                ""
            } else {
                "s"
            }
        )
    );
    let whole = c.call("check", json!({}));
    assert_eq!(whole["result"]["isError"], true, "{whole}");
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(
        tool_text(&c.call("check", json!({}))),
        "[]\n",
        "fixed: no problem, no error"
    );

    // Bad arguments: protocol errors (-32602) for what the input schema rejects...
    for (tool, args) in [
        ("leads", json!({"stage": "purchase"})),
        ("leads", json!({"stage": 3})),
        (
            "funnel_report",
            json!({"last": "7d", "since": "2026-11-01"}),
        ),
        (
            "funnel_report",
            json!({"partner": "seo-consultant", "colour": "blue"}),
        ),
        ("calendar_tasks", json!({"weeks": 0})),
        ("list_partners", json!({"x": 1})),
        // Pulling from a remote D1 would write the local cache: refused.
        ("leads", json!({"events": "d1:partner-events"})),
        ("no_such_tool", json!({})),
    ] {
        let resp = c.call(tool, args.clone());
        assert_eq!(resp["error"]["code"], -32602, "{tool} {args}: {resp}");
        assert!(
            resp["error"]["message"].as_str().unwrap().len() > 10,
            "{resp}"
        );
    }
    // ...and tool errors with the CLI's message for inputs only the command can judge.
    let resp = c.call("leads", json!({"last": "7 days", "now": NOW}));
    assert_eq!(resp["result"]["isError"], true, "{resp}");
    let msg = resp["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        // Named as the tool's argument, not as the command line's flag.
        msg.contains("`last` 7 days: not a duration")
            && msg.contains("7d (days)")
            && !msg.contains("--"),
        "{msg}"
    );
    let resp = c.call(
        "funnel_report",
        json!({"partner": "seo-consultnt", "now": NOW}),
    );
    assert_eq!(resp["result"]["isError"], true, "{resp}");
    assert!(resp["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("did you mean `seo-consultant`"));

    // The server is still answering after the errors, and exits cleanly when the client leaves.
    let again = c.call("list_partners", json!({}));
    assert!(tool_text(&again).contains("seo-consultant"));
    assert!(c.close().success());
}
