use crate::cli::{CheckArgs, GlobalArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: CheckArgs) -> Result<()> {
    Err(Error::Internal("`check` is not implemented yet".into()))
}
