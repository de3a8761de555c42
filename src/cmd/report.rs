//! `report`: the funnel as Markdown, JSON or HTML, on stdout or into `--out` (written atomically).

use crate::cli::{GlobalArgs, ReportArgs};
use crate::error::{Error, Result};
use crate::funnel::Range;
use crate::report;

pub fn run(global: &GlobalArgs, args: ReportArgs) -> Result<()> {
    let site = crate::load(&global.root, &crate::LoadOptions::default())?;
    let range = Range::from_args(&args.range)?;
    if let Some(code) = &args.range.partner {
        report::check_partner(&site, code)?;
    }
    let mut funnel = report::funnel_for(&site, &args.range.events, range, global.quiet)?;
    if let Some(code) = &args.range.partner {
        funnel = funnel.only(code);
    }
    let text = report::render(&funnel, args.format);
    match &args.out {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("cannot write the report to stdout", e))
        }
        Some(path) => crate::output::write_atomic(path, text.as_bytes()),
    }
}
