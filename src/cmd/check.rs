//! `check [FILES] [--json]`: load and validate the site, print every problem, write nothing.

use crate::cli::{CheckArgs, GlobalArgs};
use crate::diagnostics::Diagnostics;
use crate::error::{Error, Result};
use crate::site::{self, LoadOptions};
use std::path::{Path, PathBuf};

pub fn run(global: &GlobalArgs, args: CheckArgs) -> Result<()> {
    let root = &global.root;
    let only = only_files(root, &args.files)?;
    let result = site::load(root, &LoadOptions::default());
    let diags = select(&result, &only);
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
        match (&result, &only) {
            (Ok(site), None) => println!(
                "ok: {} partners, {} content pages",
                site.partners.len(),
                site.content.len()
            ),
            (_, Some(files)) => println!("ok: {} files", files.len()),
            (Err(_), None) => {}
        }
    }
    Ok(())
}

/// The problems `check FILES` reports: all of them, or those of FILES (and the config).
/// The MCP `check` tool answers with the same [`Diagnostics::to_json`].
pub fn diagnostics(root: &Path, files: &[PathBuf]) -> Result<Diagnostics> {
    let only = only_files(root, files)?;
    Ok(select(&site::load(root, &LoadOptions::default()), &only))
}

fn select(
    result: &std::result::Result<crate::Site, Diagnostics>,
    only: &Option<Vec<PathBuf>>,
) -> Diagnostics {
    match (result, only) {
        (Ok(site), _) => crate::render::check(site),
        (Err(d), None) => d.clone(),
        // Config problems matter to every partner file, so they are always shown.
        (Err(d), Some(files)) => Diagnostics(
            d.0.iter()
                .filter(|x| {
                    files.contains(&x.file) || x.file == Path::new(crate::config::CONFIG_FILE)
                })
                .cloned()
                .collect(),
        ),
    }
}

/// The FILES arguments as paths relative to the site root (how diagnostics name files).
fn only_files(root: &Path, files: &[PathBuf]) -> Result<Option<Vec<PathBuf>>> {
    if files.is_empty() {
        return Ok(None);
    }
    let root_abs = root
        .canonicalize()
        .map_err(|e| Error::io(format!("cannot open the site root {}", root.display()), e))?;
    let mut out = Vec::new();
    for f in files {
        // A path relative to the current folder, or else to the site root.
        let candidate = if f.exists() { f.clone() } else { root.join(f) };
        let abs = candidate.canonicalize().map_err(|_| {
            Error::user_hint(
                format!("no such file: {}", f.display()),
                "pass partner files like partners/<code>.yaml",
            )
        })?;
        let rel = abs.strip_prefix(&root_abs).map_err(|_| {
            Error::user_hint(
                format!(
                    "{} is not inside the site root {}",
                    f.display(),
                    root.display()
                ),
                "pass --root for the site the file belongs to",
            )
        })?;
        out.push(rel.to_path_buf());
    }
    Ok(Some(out))
}
