//! `check [FILES] [--json]`: load and validate the site, print every problem, write nothing.

use crate::cli::{CheckArgs, GlobalArgs};
use partner_pages::error::{Error, Result};

pub(crate) fn run(global: &GlobalArgs, args: CheckArgs) -> Result<()> {
    let mut checked = partner_pages::check::run(&global.root, &args.files)?;
    let mut diags = std::mem::take(&mut checked.diagnostics);
    // Every check `build` runs, with its messages: links (against the host's pages when there
    // is a host output) and files of the output folder a build would refuse to overwrite. Only
    // a host output that is not built yet leaves the links to the build, with a warning.
    let links = match (&checked.site, &args.host_dir) {
        (_, Some(_)) => true,
        (Some(site), None) => match &site.config.host.output {
            Some(out) if !args.links && !site.root.join(out).is_dir() => {
                diags.push(
                    partner_pages::diagnostics::Diagnostic::new(
                        partner_pages::config::CONFIG_FILE,
                        0,
                        0,
                        format!("links not checked: the host output `{out}` is not built yet"),
                    )
                    .hint("build the host site first; `partner-pages build` checks them")
                    .warning(),
                );
                false
            }
            _ => true,
        },
        (None, None) => false,
    };
    if let (true, false, Some(site)) = (links, diags.has_errors(), &checked.site) {
        let problems = partner_pages::build::check_links(site, args.host_dir.clone())?;
        diags.0.extend(problems.0.into_iter().filter(|d| {
            checked
                .files
                .as_ref()
                .is_none_or(|files| files.contains(&d.file))
        }));
        diags.sort();
    }
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
