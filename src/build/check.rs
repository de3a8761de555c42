//! Check stage: load and validate the site (or some partner files), render everything in
//! memory, write nothing.
//!
//! Takes: a site root and the partner files to check (none: the whole site). Gives: a
//! [`Checked`] with every problem found ([`Diagnostics`]); what `check` prints and the MCP
//! `check` tool answers.

use crate::diagnostics::Diagnostics;
use crate::error::{Error, Result};
use crate::site::{self, LoadOptions, Site};
use std::path::{Path, PathBuf};

/// What a check found.
#[derive(Debug)]
pub struct Checked {
    /// Every problem (empty: valid).
    pub diagnostics: Diagnostics,
    /// The site, when it loaded.
    pub site: Option<Site>,
    /// The files checked, relative to the site root (`None`: the whole site).
    pub files: Option<Vec<PathBuf>>,
}

/// Check the site at `root`, or only `files` (paths relative to the current folder or to the
/// root) and the config, with the build's own checks (links, the output folder) as
/// [`Links::Auto`] says.
pub fn run(root: &Path, files: &[PathBuf]) -> Result<Checked> {
    run_with(root, files, &Links::Auto)
}

/// When `check` runs the build's link and output-folder checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Links {
    /// Whenever the site stands alone or its host output exists; a warning when the configured
    /// host output is not built yet.
    Auto,
    /// Always, against the config's host output (`check --links`).
    Always,
    /// Always, against this host output folder (`check --host-dir DIR`).
    HostDir(PathBuf),
    /// Never (`check --no-link-check`, as `build --no-link-check`): links and the output
    /// folder are left to the build.
    Never,
}

/// [`run`] with the choice of when the link and output-folder checks run.
pub fn run_with(root: &Path, files: &[PathBuf], links: &Links) -> Result<Checked> {
    let only = only_files(root, files)?;
    let result = site::load(root, &LoadOptions::default());
    let mut diagnostics = select(&result, &only);
    let site = result.ok();
    if let (false, Some(site)) = (diagnostics.has_errors(), &site) {
        let host = match links {
            Links::HostDir(dir) => Some(Some(dir.clone())),
            Links::Always => Some(None),
            Links::Never => None,
            Links::Auto => match &site.config.host.output {
                Some(out) if !site.root.join(out).is_dir() => {
                    diagnostics.push(
                        crate::diagnostics::Diagnostic::new(
                            crate::config::CONFIG_FILE,
                            0,
                            0,
                            format!("links not checked: the host output `{out}` is not built yet"),
                        )
                        .hint("build the host site first; `partner-pages build` checks them")
                        .warning(),
                    );
                    None
                }
                _ => Some(None),
            },
        };
        if let Some(host) = host {
            let problems = crate::build::check_links(site, host)?;
            diagnostics.0.extend(
                problems
                    .0
                    .into_iter()
                    .filter(|d| only.as_ref().is_none_or(|files| files.contains(&d.file))),
            );
            diagnostics.sort();
        }
    }
    Ok(Checked {
        diagnostics,
        site,
        files: only,
    })
}

fn select(
    result: &std::result::Result<Site, Diagnostics>,
    only: &Option<Vec<PathBuf>>,
) -> Diagnostics {
    match (result, only) {
        (Ok(site), _) => {
            let mut d = crate::render::check(site);
            d.0.extend(publish_warnings(site));
            d
        }
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

/// What the host output would publish of ours: a host `.assetsignore` that lets our dotfiles
/// through (the Worker serves the host output in mode `assets`).
fn publish_warnings(site: &Site) -> Vec<crate::diagnostics::Diagnostic> {
    let Some(host) = &site.config.host.output else {
        return Vec::new();
    };
    if site.config.collector.mode != crate::config::CollectorMode::Assets {
        return Vec::new();
    }
    crate::collector::worker::host_assets_ignore_warning(&site.root.join(host))
        .map(|w| {
            crate::diagnostics::Diagnostic::new(Path::new(host).join(".assetsignore"), 0, 0, w)
                .warning()
        })
        .into_iter()
        .collect()
}

/// The files to check as paths relative to the site root (how diagnostics name files).
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
                "check files of the site they belong to (the site root is where partner-pages.yaml is)",
            )
        })?;
        out.push(rel.to_path_buf());
    }
    Ok(Some(out))
}
