//! `check [FILES] [--json]`: load and validate the site, print every problem, write nothing.

use crate::cli::{CheckArgs, GlobalArgs};
use partner_pages::error::{Error, Result};

pub fn run(global: &GlobalArgs, args: CheckArgs) -> Result<()> {
    let checked = partner_pages::check::run(&global.root, &args.files)?;
    let diags = checked.diagnostics;
    if args.json {
        println!("{}", diags.to_json());
    }
    if !diags.is_empty() {
        return Err(if args.json {
            Error::user(diags.summary())
        } else {
            Error::Input(diags)
        });
    }
    if !global.quiet && !args.json {
        match (&checked.site, &checked.files) {
            (Some(site), None) => println!(
                "ok: {} partners, {} content pages",
                site.partners.len(),
                site.content.len()
            ),
            (_, Some(files)) => println!("ok: {} files", files.len()),
            (None, None) => {}
        }
    }
    Ok(())
}
