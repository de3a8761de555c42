use crate::cli::{GlobalArgs, InitArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: InitArgs) -> Result<()> {
    Err(Error::Internal("`init` is not implemented yet".into()))
}
