//! `leads`: one row per lead journey as JSON, CSV or Markdown on stdout.

use crate::cli::{GlobalArgs, LeadsArgs, LeadsFormat};
use crate::error::{Error, Result};
use crate::leads;

pub fn run(global: &GlobalArgs, args: LeadsArgs) -> Result<()> {
    let report = leads::from_flags(&global.root, &args.range, &args.stage)?;
    let text = match args.format {
        LeadsFormat::Json => leads::json(&report),
        LeadsFormat::Csv => leads::to_csv(&report),
        LeadsFormat::Md => leads::markdown(&report),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("cannot write the leads to stdout", e))
}
