//! `leads`: one row per lead journey as JSON, CSV or Markdown on stdout, written as the leads
//! come (memory does not grow with the output).

use crate::cli::{GlobalArgs, LeadsArgs, LeadsFormat};
use partner_pages::error::{Error, Result};
use partner_pages::leads;

pub(super) fn run(global: &GlobalArgs, args: LeadsArgs) -> Result<()> {
    let events = partner_pages::report::resolve_events(&global.root, args.range.events.as_deref())?;
    // Paging arguments are checked before any event is read.
    let limit = args.limit.map(leads::page::check_limit).transpose()?;
    let cursor = args
        .cursor
        .as_deref()
        .map(leads::page::Cursor::parse)
        .transpose()?;
    let paging = leads::Paging {
        cursor: cursor.as_ref(),
        limit,
    };
    let site = partner_pages::load(&global.root, &partner_pages::LoadOptions::default())?;
    let stream = leads::run(
        &site,
        &leads::Request {
            events: &events,
            range: args.range.spec(),
            partner: args.range.partner.as_deref(),
            stage: args.stage,
            paging,
            contactable: args.contactable,
        },
    )?;
    if let (Some(next), LeadsFormat::Csv | LeadsFormat::Md) =
        (&stream.head.next_cursor, args.format)
    {
        // JSON carries it; CSV and Markdown have no place for it.
        eprintln!(
            "partner-pages leads: {} of {} leads shown; next page: --cursor {next}",
            stream.shown, stream.head.total
        );
    }
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match args.format {
        LeadsFormat::Json => leads::write_json(stream, &mut out)?,
        LeadsFormat::Csv => leads::write_csv(stream, &mut out)?,
        LeadsFormat::Md => leads::write_markdown(stream, &mut out)?,
    }
    out.flush()
        .map_err(|e| Error::io("cannot write the leads to stdout", e))
}
