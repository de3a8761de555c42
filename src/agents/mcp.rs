//! Agents stage: a Model Context Protocol server over stdio with read-only tools.
//!
//! Takes: the site root and a default event source. Gives: an MCP server (the official `rmcp`
//! SDK, JSON-RPC 2.0 over stdin/stdout) whose tools answer with exactly the JSON the CLI prints
//! for `--format json` (see [`tools`]). Nothing here writes files or events.
//!
//! Errors, as the MCP spec splits them: arguments that do not match a tool's input schema and
//! unknown tools are protocol errors (`-32602`); a tool that ran and failed on its input (a bad
//! range, a missing event file, a partner that does not exist) answers `isError: true` with the
//! same message the CLI prints, so the agent can read it and correct itself; bugs are `-32603`.
//! `check` finding problems is such a tool error too (the CLI exits 1): `isError: true`, with
//! the diagnostics JSON of `check --json` as the first text block and the summary as the second.

pub mod tools;

use crate::error::{Error, Result};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use std::path::PathBuf;
use tools::ToolError;

/// The server's state: where the site is and which events to read by default.
#[derive(Debug, Clone)]
pub struct Server {
    /// The site root.
    pub root: PathBuf,
    /// Default event source for the report, leads and calendar tools (`--events`).
    pub events: Option<String>,
}

const INSTRUCTIONS: &str = "Read-only tools over a partner-pages site: list_partners, \
funnel_report, experiments, leads, calendar_tasks and check. Every tool answers with the JSON \
of the matching CLI command's --format json (experiments: the experiments section of report's). \
Ranges: give `last` (7d, 24h, 4w) or `since`/`until` (UTC dates or RFC 3339 times), and `now` \
for reproducible answers.";

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("partner-pages", env!("CARGO_PKG_VERSION"))
                    .with_title("partner-pages"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        tools::list().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let server = self.clone();
        let name = request.name.to_string();
        let args = request.arguments.unwrap_or_default();
        // Tools read files and databases; keep that off the protocol task.
        let answer = tokio::task::spawn_blocking(move || tools::call(&server, &name, args)).await;
        let result = match answer {
            Ok(Ok(json)) => {
                // MCP's structuredContent is an object; `check` answers with an array, which
                // then travels as text only.
                let value = serde_json::from_str::<serde_json::Value>(&json)
                    .ok()
                    .filter(serde_json::Value::is_object);
                let mut r = CallToolResult::success(vec![ContentBlock::text(json)]);
                r.structured_content = value;
                r
            }
            Ok(Err(ToolError::BadArguments(msg))) => {
                return Err(McpError::invalid_params(msg, None));
            }
            Ok(Err(ToolError::UnknownTool(name))) => {
                return Err(McpError::invalid_params(
                    format!("unknown tool `{name}`; call tools/list for the tools"),
                    None,
                ));
            }
            Ok(Err(ToolError::Failed(e @ Error::Internal(_)))) => {
                return Err(McpError::internal_error(e.to_string(), None));
            }
            Ok(Err(ToolError::Failed(e))) => {
                CallToolResult::error(vec![ContentBlock::text(e.to_string())])
            }
            // The diagnostics stay machine-readable: the first block is `check --json`'s array.
            Ok(Err(ToolError::Problems { json, summary })) => {
                CallToolResult::error(vec![ContentBlock::text(json), ContentBlock::text(summary)])
            }
            Err(join) => {
                return Err(McpError::internal_error(
                    format!("the tool stopped unexpectedly: {join}"),
                    None,
                ));
            }
        };
        Ok(result.into())
    }
}

/// Serve MCP on stdin/stdout until the client closes the connection.
pub fn serve(server: Server) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    runtime.block_on(async move {
        let (transport, framing) = framed_stdio();
        let running = server
            .serve(transport)
            .await
            .map_err(|e| Error::user(format!("MCP session did not start: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Error::Internal(format!("MCP server task failed: {e}")))?;
        // The session is over: let the last answers reach stdout.
        let _ = framing.await;
        Ok(())
    })
}

/// The longest JSON-RPC line read; a longer one is answered with a parse error and skipped
/// (memory stays bounded whatever a client sends).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// stdin/stdout framed for the SDK, with what it leaves unanswered answered here, as JSON-RPC
/// 2.0 says: a line that is not JSON gets a parse error (`-32700`, `id: null`), JSON that is not
/// a JSON-RPC 2.0 object an invalid-request error (`-32600`), and a line over
/// [`MAX_LINE_BYTES`] a parse error. Only well-formed messages reach the SDK. The returned task
/// ends once the SDK's output and these answers are written.
fn framed_stdio() -> (
    (tokio::io::DuplexStream, tokio::io::DuplexStream),
    tokio::task::JoinHandle<()>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (mut to_sdk, sdk_in) = tokio::io::duplex(1 << 16);
    let (sdk_out, from_sdk) = tokio::io::duplex(1 << 16);
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut stdin = BufReader::new(tokio::io::stdin());
        while let Some(line) = read_line(&mut stdin, MAX_LINE_BYTES).await {
            let verdict = match line {
                Line::TooLong => Err(error_line(
                    -32700,
                    &format!("Parse error: a line longer than {MAX_LINE_BYTES} bytes"),
                    serde_json::Value::Null,
                )),
                Line::Text(bytes) => check_message(&bytes).map(|()| bytes),
            };
            match verdict {
                Ok(mut bytes) => {
                    bytes.push(b'\n');
                    if to_sdk.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Err(answer) => {
                    if answers.send(answer).is_err() {
                        break;
                    }
                }
            }
        }
        // stdin closed: the SDK sees the end of its input and stops.
        let _ = to_sdk.shutdown().await;
    });
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        let mut sdk_lines = BufReader::new(from_sdk).lines();
        let (mut sdk_open, mut answers_open) = (true, true);
        loop {
            let line = tokio::select! {
                l = sdk_lines.next_line(), if sdk_open => l.ok().flatten().or_else(|| {
                    sdk_open = false;
                    None
                }),
                a = answered.recv(), if answers_open => a.or_else(|| {
                    answers_open = false;
                    None
                }),
                else => break,
            };
            let Some(line) = line else { continue };
            if stdout
                .write_all(format!("{line}\n").as_bytes())
                .await
                .is_err()
                || stdout.flush().await.is_err()
            {
                break;
            }
        }
    });
    ((sdk_in, sdk_out), writer)
}

enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// The next line without its end (`\n` or `\r\n`), empty lines skipped; `None` at the end of
/// input. A line over `limit` bytes is consumed without being kept.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R, limit: usize) -> Option<Line> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let mut line = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match r.fill_buf().await {
                Ok(b) => b,
                Err(_) => return None,
            };
            if buf.is_empty() {
                if !any {
                    return None;
                }
                break;
            }
            any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if !too_long && line.len() + chunk.len() <= limit {
                line.extend_from_slice(chunk);
            } else {
                too_long = true;
                line = Vec::new();
            }
            let used = done.unwrap_or(chunk.len());
            r.consume(used);
            if done.is_some() {
                break;
            }
        }
        if too_long {
            return Some(Line::TooLong);
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Some(Line::Text(line));
    }
}

/// `Ok` for a JSON-RPC 2.0 message (an object with `"jsonrpc": "2.0"`), else the error line
/// to answer with.
fn check_message(bytes: &[u8]) -> std::result::Result<(), String> {
    use serde_json::Value;
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| error_line(-32700, &format!("Parse error: {e}"), Value::Null))?;
    let Value::Object(obj) = &value else {
        return Err(error_line(
            -32600,
            "Invalid Request: expected a JSON-RPC 2.0 object",
            Value::Null,
        ));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let id = match obj.get("id") {
            Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
            _ => Value::Null,
        };
        return Err(error_line(
            -32600,
            "Invalid Request: \"jsonrpc\" must be \"2.0\"",
            id,
        ));
    }
    Ok(())
}

fn error_line(code: i64, message: &str, id: serde_json::Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
}
