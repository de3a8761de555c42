use crate::cli::{GlobalArgs, ServeArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: ServeArgs) -> Result<()> {
    Err(Error::Internal("`serve` is not implemented yet".into()))
}
