use crate::cli::{CalendarArgs, GlobalArgs};
use crate::error::{Error, Result};

pub fn run(_global: &GlobalArgs, _args: CalendarArgs) -> Result<()> {
    Err(Error::Internal("`calendar` is not implemented yet".into()))
}
