use crate::cli::{GlobalArgs, McpArgs};
use partner_pages::error::Result;
use partner_pages::mcp::{serve, Server};

pub(super) fn run(global: &GlobalArgs, args: McpArgs) -> Result<()> {
    serve(Server {
        root: global.root.clone(),
        events: args.events,
    })
}
