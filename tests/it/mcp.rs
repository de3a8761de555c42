//! `partner-pages mcp` driven as an MCP client drives it: spawn the binary, JSON-RPC 2.0 over
//! stdio (initialize, notifications/initialized, tools/list, tools/call), and compare every
//! answer with the CLI's JSON for the same inputs.

use crate::leads::{site_with_events, NOW};
use crate::support;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A minimal MCP client over the child's stdin/stdout.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    fn spawn(root: &Path, events: &Path) -> Client {
        let mut child = Command::new(support::bin())
            .arg("--root")
            .arg(root)
            .args(["mcp", "--events"])
            .arg(events)
            .env_remove("PARTNER_PAGES_ROOT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn partner-pages mcp");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            lines,
            next_id: 1,
        }
    }

    fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    /// Send a request and wait for the response with its id (notifications are skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            // A guard against a hung server, not a speed check.
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(300))
                .unwrap_or_else(|_| panic!("no answer to {method} (server closed or hung)"));
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON-RPC ({e}): {line}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{msg}");
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }

    /// Write `line` as is (it may not be JSON) and read the next message the server writes.
    fn send_raw(&mut self, line: &[u8]) -> Value {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("an answer to a malformed line (server closed or hung)");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Close stdin (the client hangs up) and wait for the server to exit.
    fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().expect("wait for the server")
    }
}

/// The JSON text a successful tools/call returned (its one text block).
fn tool_text(resp: &Value) -> &str {
    let result = &resp["result"];
    assert_eq!(result["isError"], false, "tool failed: {resp}");
    let text = result["content"][0]["text"].as_str().expect("text content");
    let parsed: Value = serde_json::from_str(text).expect("the text is JSON");
    if parsed.is_object() {
        assert_eq!(
            parsed, result["structuredContent"],
            "structuredContent is the text's JSON"
        );
    } else {
        // MCP's structuredContent must be an object; an array answer is text only.
        assert!(result.get("structuredContent").is_none(), "{resp}");
    }
    text
}

fn cli(root: &Path, args: &[&str]) -> String {
    let out = support::run(root, args);
    assert!(
        out.status.success(),
        "partner-pages {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

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

    // tools/list: the five tools, read-only, each with an object input schema that Python's
    // jsonschema accepts as a schema and that rejects what the server rejects.
    let list = c.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "list_partners",
            "funnel_report",
            "leads",
            "calendar_tasks",
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
    let py = Command::new(support::require_tool("python3", "Python 3 with jsonschema"))
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
