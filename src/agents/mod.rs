//! Step 7, agents: the MCP server, a face over the same library calls as the command line.

pub mod mcp;
