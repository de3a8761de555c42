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
    pub root: PathBuf,
    /// Default event source for the report, leads and calendar tools (`--events`).
    pub events: Option<String>,
}

const INSTRUCTIONS: &str = "Read-only tools over a partner-pages site: list_partners, \
funnel_report, leads, calendar_tasks and check. Every tool answers with the JSON of the \
matching CLI command's --format json. Ranges: give `last` (7d, 24h, 4w) or `since`/`until` \
(UTC dates or RFC 3339 times), and `now` for reproducible answers.";

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
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::user(format!("MCP session did not start: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Error::Internal(format!("MCP server task failed: {e}")))?;
        Ok(())
    })
}
