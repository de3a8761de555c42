//! `mcp`: Model Context Protocol server over stdio with read-only tools.
