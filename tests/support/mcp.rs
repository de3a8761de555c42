//! Helpers shared by the plain and the e2e tests of `mcp`.
//! `partner-pages mcp` driven as an MCP client drives it: spawn the binary, JSON-RPC 2.0 over
//! stdio (initialize, notifications/initialized, tools/list, tools/call), and compare every
//! answer with the CLI's JSON for the same inputs.

use crate::support;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A minimal MCP client over the child's stdin/stdout.
pub(crate) struct Client {
    pub(crate) child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) lines: Receiver<String>,
    pub(crate) next_id: u64,
}

impl Client {
    pub(crate) fn spawn(root: &Path, events: &Path) -> Client {
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

    pub(crate) fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    /// Send a request and wait for the response with its id (notifications are skipped).
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
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
    pub(crate) fn send_raw(&mut self, line: &[u8]) -> Value {
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

    pub(crate) fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Close stdin (the client hangs up) and wait for the server to exit.
    pub(crate) fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().expect("wait for the server")
    }
}

/// The JSON text a successful tools/call returned (its one text block).
pub(crate) fn tool_text(resp: &Value) -> &str {
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

pub(crate) fn cli(root: &Path, args: &[&str]) -> String {
    let out = support::run(root, args);
    assert!(
        out.status.success(),
        "partner-pages {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
