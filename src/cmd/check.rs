//! `check [FILES] [--json]`: load and validate the site, print every problem, write nothing.

use crate::cli::{CheckArgs, GlobalArgs};
use partner_pages::error::{Error, Result};

pub(crate) fn run(global: &GlobalArgs, args: CheckArgs) -> Result<()> {
    let links = match (&args.host_dir, args.links) {
        _ if args.no_link_check => partner_pages::check::Links::Never,
        (Some(dir), _) => partner_pages::check::Links::HostDir(dir.clone()),
        (None, true) => partner_pages::check::Links::Always,
        (None, false) => partner_pages::check::Links::Auto,
    };
    let mut checked = partner_pages::check::run_with(&global.root, &args.files, &links)?;
    let diags = std::mem::take(&mut checked.diagnostics);
    // Links were checked unless a warning says they were left to the build.
    let links = !diags
        .0
        .iter()
        .any(|d| d.message.starts_with("links not checked"));
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
        anstream::eprintln!("{}", diags.render(true));
    }
    if !global.quiet && !args.json {
        let warned = if diags.is_empty() {
            String::new()
        } else {
            format!(" ({})", diags.summary())
        };
        match (&checked.site, &checked.files) {
            (Some(site), None) => println!(
                "ok: {}, {}{}{warned}",
                count(site.partners.len(), "partner", "partners"),
                count(site.content.len(), "content page", "content pages"),
                if links && !diags.has_errors() {
                    ", every link has a target"
                } else {
                    ""
                }
            ),
            (_, Some(files)) => println!("ok: {}{warned}", count(files.len(), "file", "files")),
            (None, None) => {}
        }
    }
    Ok(())
}

/// `1 partner`, `2 partners`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
