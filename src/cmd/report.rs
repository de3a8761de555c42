//! `report`: the funnel as Markdown, JSON or HTML, on stdout or into `--out` (written atomically).

use crate::cli::{GlobalArgs, ReportArgs, ReportFormat};
use partner_pages::error::{Error, Result};
use partner_pages::report;

pub(super) fn run(global: &GlobalArgs, args: ReportArgs) -> Result<()> {
    let site = partner_pages::load(&global.root, &partner_pages::LoadOptions::default())?;
    let format = match args.format {
        ReportFormat::Md => report::Format::Md,
        ReportFormat::Html => report::Format::Html,
        ReportFormat::Json => report::Format::Json,
    };
    if args.for_partner {
        // Before the events are looked for: a missing or unknown partner is the first error.
        report::partner::partner_of(&site, args.range.partner.as_deref())?;
    }
    let events = report::resolve_events(&global.root, args.range.events.as_deref())?;
    let req = report::Request {
        events: &events,
        range: args.range.spec(),
        partner: args.range.partner.as_deref(),
        quiet: global.quiet,
    };
    let text = if args.for_partner {
        report::partner::render(&report::partner::run(&site, &req)?, format)
    } else {
        let mut r = report::run(&site, &req)?;
        if !matches!(format, report::Format::Json) && site.partners.iter().any(|p| p.rule.is_some())
        {
            // Earnings next to the funnel, in the team's Markdown and HTML (not in the JSON).
            let source = report::open_source(&site, &events)?;
            r.earnings =
                partner_pages::ledger::for_team_report(&site, &source, req.partner, r.as_of)?;
        }
        report::render(&r, format)
    };
    match &args.out {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("cannot write the report to stdout", e))
        }
        Some(path) => partner_pages::output::write_atomic(path, text.as_bytes()),
    }
}
