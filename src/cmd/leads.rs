use crate::cli::{GlobalArgs, LeadsArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: LeadsArgs) -> Result<()> {
    Err(Error::Internal("`leads` is not implemented yet".into()))
}
