use crate::cli::{ForgetArgs, GlobalArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: ForgetArgs) -> Result<()> {
    Err(Error::Internal("`forget` is not implemented yet".into()))
}
