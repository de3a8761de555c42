use crate::cli::{BuildArgs, GlobalArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: BuildArgs) -> Result<()> {
    Err(Error::Internal("`build` is not implemented yet".into()))
}
