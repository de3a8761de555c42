use crate::cli::{GlobalArgs, ReportArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: ReportArgs) -> Result<()> {
    Err(Error::Internal("`report` is not implemented yet".into()))
}
