//! `check [FILES] [--json]`: load and validate the site, print every problem, write nothing.

use crate::cli::{CheckArgs, GlobalArgs};
use partner_pages::error::{Error, Result};

pub fn run(global: &GlobalArgs, args: CheckArgs) -> Result<()> {
    let checked = partner_pages::check::run(&global.root, &args.files)?;
    let diags = checked.diagnostics;
    if args.json {
        println!("{}", diags.to_json());
    }
    if diags.has_errors() {
        return Err(if args.json {
            Error::user(diags.summary())
        } else {
            Error::Input(diags)
        });
    }
    // Warnings only: shown, and the site is fine to build.
    if !diags.is_empty() && !args.json {
        use std::io::IsTerminal;
        eprintln!("{}", diags.render(std::io::stderr().is_terminal()));
    }
    if !global.quiet && !args.json {
        let warned = if diags.is_empty() {
            String::new()
        } else {
            format!(" ({})", diags.summary())
        };
        match (&checked.site, &checked.files) {
            (Some(site), None) => println!(
                "ok: {} partners, {} content pages{warned}",
                site.partners.len(),
                site.content.len()
            ),
            (_, Some(files)) => println!("ok: {} files{warned}", files.len()),
            (None, None) => {}
        }
    }
    Ok(())
}
