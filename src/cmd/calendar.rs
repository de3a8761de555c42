//! `calendar`: plan the next weeks' tasks, write the task files, print the calendar.

use crate::cli::{CalendarArgs, CalendarFormat, GlobalArgs};
use partner_pages::calendar::{self, files::Outcome, run::Request};
use partner_pages::error::{Error, Result};
use partner_pages::text::plural;
use std::io::Write;

pub(super) fn run(global: &GlobalArgs, args: CalendarArgs) -> Result<()> {
    let site = partner_pages::load(&global.root, &partner_pages::LoadOptions::default())?;
    let events = partner_pages::report::resolve_events(&global.root, args.events.as_deref())?;
    let (cal, outcomes) = calendar::run::run(
        &site,
        &Request {
            events: &events,
            weeks: args.weeks,
            start: args.start.as_deref(),
            now: args.now.as_deref(),
            quiet: global.quiet,
        },
    )?;
    let text = match args.format {
        CalendarFormat::Md => calendar::to_markdown(&cal),
        CalendarFormat::Json => calendar::to_json(&cal)?,
        CalendarFormat::Ics => calendar::ics::render(&cal),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("cannot write the calendar to stdout", e))?;
    if !global.quiet {
        let (mut written, mut unchanged) = (0, 0);
        for (file, outcome) in &outcomes {
            match outcome {
                Outcome::Written | Outcome::Updated => written += 1,
                Outcome::Unchanged => unchanged += 1,
                Outcome::KeptEdited { edited, written: w } => {
                    if *w {
                        written += 1;
                    } else {
                        unchanged += 1;
                    }
                    eprintln!("kept your edits in {edited}; the generated version is {file}");
                }
            }
            if global.verbose > 0 {
                eprintln!("  {file}");
            }
        }
        eprintln!(
            "planned {} over {} from {}: {} written, {unchanged} unchanged",
            plural(cal.tasks.len() as u64, "task", "tasks"),
            plural(u64::from(cal.weeks), "week", "weeks"),
            cal.start,
            plural(written as u64, "file", "files"),
        );
    }
    Ok(())
}
