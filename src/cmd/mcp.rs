use crate::cli::{GlobalArgs, McpArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: McpArgs) -> Result<()> {
    Err(Error::Internal("`mcp` is not implemented yet".into()))
}
