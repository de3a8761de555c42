use crate::cli::{GlobalArgs, McpArgs};
use crate::error::Result;
use crate::mcp::{serve, Server};

pub fn run(global: &GlobalArgs, args: McpArgs) -> Result<()> {
    serve(Server {
        root: global.root.clone(),
        events: args.events,
    })
}
