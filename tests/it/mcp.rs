//! `partner-pages mcp` driven as an MCP client drives it: spawn the binary, JSON-RPC 2.0 over
//! stdio (initialize, notifications/initialized, tools/list, tools/call), and compare every
//! answer with the CLI's JSON for the same inputs.

use crate::support::leads::{site_with_events, NOW};
use serde_json::{json, Value};
use std::path::Path;

use crate::support::mcp::*;

#[test]
fn mcp_answers_malformed_lines_with_json_rpc_errors_and_keeps_serving() {
    let (site, db) = site_with_events();
    let mut c = Client::spawn(site.path(), &db);
    c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":9,\"x\":\"{}\"}}",
        "a".repeat(17 << 20)
    );
    for (line, code) in [
        (&b"{not json"[..], -32700),
        (b"\xff\xfe\x00garbage", -32700),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", -32700),
        (deep.as_bytes(), -32700),
        (long.as_bytes(), -32700),
        (b"[1,2,3]", -32600),
        (b"42", -32600),
    ] {
        let answer = c.send_raw(line);
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        assert_eq!(answer["id"], Value::Null, "{answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    let wrong_version = c.send_raw(br#"{"jsonrpc":"1.0","id":7,"method":"tools/list"}"#);
    assert_eq!(wrong_version["id"], 7, "{wrong_version}");
    assert_eq!(wrong_version["error"]["code"], -32600);
    // The session goes on.
    let again = c.call("list_partners", json!({}));
    assert!(tool_text(&again).contains("seo-consultant"));
    assert!(c.close().success());
}

#[test]
fn mcp_tools_write_nothing() {
    let (site, db) = site_with_events();
    let snapshot = |root: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot(site.path());
    let mut c = Client::spawn(site.path(), &db);
    c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    for (tool, args) in [
        ("list_partners", json!({})),
        ("funnel_report", json!({"now": NOW})),
        ("experiments", json!({"now": NOW})),
        ("leads", json!({"stage": "click", "now": NOW})),
        ("calendar_tasks", json!({"now": NOW})),
        ("check", json!({})),
    ] {
        let resp = c.call(tool, args);
        assert!(resp.get("result").is_some(), "{tool}: {resp}");
    }
    assert!(c.close().success());
    assert!(
        before == snapshot(site.path()),
        "a tool changed a file under the site root"
    );
}

#[test]
fn mcp_leads_pages_through_every_lead_exactly_once() {
    let (site, db) = site_with_events();
    let root = site.path();
    let events = db.to_str().unwrap();
    let mut c = Client::spawn(root, &db);
    c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    // The tool advertises its paging arguments.
    let tools = c.request("tools/list", json!({}));
    let leads_tool = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "leads")
        .expect("leads tool")
        .clone();
    let props = &leads_tool["inputSchema"]["properties"];
    assert!(
        props["limit"].is_object() && props["cursor"].is_object(),
        "{leads_tool}"
    );

    let full: Value = serde_json::from_str(&cli(
        root,
        &[
            "leads", "--events", events, "--stage", "click", "--last", "14d", "--now", NOW,
        ],
    ))
    .unwrap();
    let every = full["leads"].as_array().unwrap().clone();
    assert_eq!(every.len(), 6, "{full}");

    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({"stage": "click", "last": "14d", "now": NOW, "limit": 4});
        let mut flags = vec![
            "leads", "--events", events, "--stage", "click", "--last", "14d", "--now", NOW,
            "--limit", "4",
        ];
        if let Some(cur) = &cursor {
            args["cursor"] = json!(cur);
            flags.extend(["--cursor", cur.as_str()]);
        }
        let resp = c.call("leads", args);
        let text = tool_text(&resp).to_string();
        assert_eq!(
            text,
            cli(root, &flags),
            "page {pages}: the tool answers like the CLI"
        );
        let page: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(page["total"], 6);
        assert!(page["leads"].as_array().unwrap().len() <= 4);
        got.extend(page["leads"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages <= 10, "paging does not end");
    }
    assert_eq!(pages, 2);
    assert_eq!(
        got, every,
        "the pages give every lead exactly once, in order"
    );

    // Without `limit` the tool gives at most 200: all six here, no next page.
    let whole: Value = serde_json::from_str(tool_text(&c.call(
        "leads",
        json!({"stage": "click", "last": "14d", "now": NOW}),
    )))
    .unwrap();
    assert_eq!(whole["leads"], full["leads"]);
    assert_eq!(whole["next_cursor"], Value::Null);

    // A bad cursor or limit is a clear protocol error, and the server keeps answering.
    for args in [
        json!({"now": NOW, "cursor": "not-a-cursor"}),
        json!({"now": NOW, "cursor": ""}),
        json!({"now": NOW, "limit": 0}),
        json!({"now": NOW, "limit": 1001}),
    ] {
        let resp = c.call("leads", args.clone());
        assert_eq!(resp["error"]["code"], -32602, "{args}: {resp}");
        let msg = resp["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("cursor") || msg.contains("limit"),
            "{args}: the message names the argument: {msg}"
        );
    }
    let resp = c.call("leads", json!({"now": NOW, "limit": "ten"}));
    assert_eq!(
        resp["error"]["code"], -32602,
        "a limit that is no number: {resp}"
    );
    assert!(tool_text(&c.call("list_partners", json!({}))).contains("seo-consultant"));
    assert!(c.close().success());
}

/// The `experiments` tool answers the experiments section of `report --format json` for the same
/// range (with its version, source, range and as_of), one partner's test when asked, `[]` for a
/// partner without variants, and a tool error for a partner that does not exist.
#[test]
fn mcp_experiments_answers_the_report_s_experiments_section() {
    use crate::support::experiments::{events_with_variants, site_with_variants, TEST_NOW};
    let site = site_with_variants();
    let root = site.path();
    let db = events_with_variants(root);
    let events = db.to_str().unwrap();
    let mut c = Client::spawn(root, &db);
    c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let report: Value = serde_json::from_str(&cli(
        root,
        &[
            "report", "--events", events, "--last", "7d", "--now", TEST_NOW, "--format", "json",
        ],
    ))
    .unwrap();
    assert_eq!(report["experiments"].as_array().map(Vec::len), Some(1));
    let answer: Value = serde_json::from_str(tool_text(
        &c.call("experiments", json!({"last": "7d", "now": TEST_NOW})),
    ))
    .unwrap();
    let mut keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["as_of", "experiments", "range", "source", "version"]);
    for k in keys {
        assert_eq!(answer[k], report[k], "{k}");
    }
    let weekly = &answer["experiments"][0]["stages"][0]["pairs"][0]["intervals"];
    assert_eq!(
        weekly.as_array().map(Vec::len),
        answer["experiments"][0]["looks"].as_array().map(Vec::len),
        "an interval per weekly look"
    );
    let one: Value = serde_json::from_str(tool_text(&c.call(
        "experiments",
        json!({"partner": "seo-consultant", "last": "7d", "now": TEST_NOW}),
    )))
    .unwrap();
    assert_eq!(one["experiments"], report["experiments"]);
    let none: Value = serde_json::from_str(tool_text(&c.call(
        "experiments",
        json!({"partner": "founder-community", "last": "7d", "now": TEST_NOW}),
    )))
    .unwrap();
    assert_eq!(none["experiments"], json!([]));
    let unknown = c.call(
        "experiments",
        json!({"partner": "seo-consultnt", "now": TEST_NOW}),
    );
    assert_eq!(unknown["result"]["isError"], true, "{unknown}");
    let msg = unknown["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(
        msg.contains("seo-consultant"),
        "the error suggests the code: {msg}"
    );
    let bad = c.call("experiments", json!({"stage": "cta"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(c.close().success());
}
