//! `leads`: one row per lead journey as JSON, CSV or Markdown on stdout.

use crate::cli::{GlobalArgs, LeadsArgs, LeadsFormat};
use crate::error::{Error, Result};
use crate::leads;

pub fn run(global: &GlobalArgs, args: LeadsArgs) -> Result<()> {
    // Paging arguments are checked before any event is read.
    let limit = args.limit.map(leads::page::check_limit).transpose()?;
    let cursor = args
        .cursor
        .as_deref()
        .map(leads::page::Cursor::parse)
        .transpose()?;
    let mut report = leads::from_flags(&global.root, &args.range, &args.stage)?;
    leads::page::apply(&mut report, cursor.as_ref(), limit);
    if let (Some(next), LeadsFormat::Csv | LeadsFormat::Md) = (&report.next_cursor, args.format) {
        // JSON carries it; CSV and Markdown have no place for it.
        eprintln!(
            "partner-pages leads: {} of {} leads shown; next page: --cursor {next}",
            report.leads.len(),
            report.total
        );
    }
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
