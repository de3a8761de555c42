//! Load + validate stage: the whole site (config, partners, content) read from a root folder.
//!
//! Takes: a site root. Gives: a [`Site`] with partners sorted by code and content by slug,
//! or every problem found at once as [`Diagnostics`].

use crate::config::{Config, CONFIG_FILE};
use crate::content::ContentPage;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::partner::Partner;
use std::path::{Path, PathBuf};

/// Everything the render stage needs, loaded and validated.
#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    /// Sorted by code; drafts removed.
    pub partners: Vec<Partner>,
    /// Sorted by slug; includes sections and drafts (render decides what to publish).
    pub content: Vec<ContentPage>,
}

impl Site {
    pub fn partner(&self, code: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.code == code)
    }

    pub fn content_by_source(&self, source: &str) -> Option<&ContentPage> {
        self.content.iter().find(|c| c.source == Path::new(source))
    }
}

/// Options that override the config file from the command line.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub base_url: Option<String>,
}

/// Load and validate the site at `root`. Reports every problem in the tree at once.
pub fn load(root: &Path, opts: &LoadOptions) -> Result<Site, Diagnostics> {
    let mut diags = Diagnostics::default();
    let config_path = root.join(CONFIG_FILE);
    let mut config = match std::fs::read_to_string(&config_path) {
        Ok(text) => match serde_saphyr::from_str::<Config>(&text) {
            Ok(c) => Some(c),
            Err(e) => {
                diags.push(Diagnostic::new(CONFIG_FILE, 0, 0, e.to_string()));
                None
            }
        },
        Err(e) => {
            diags.push(
                Diagnostic::new(
                    CONFIG_FILE,
                    0,
                    0,
                    format!("cannot read the site config: {e}"),
                )
                .hint("run `partner-pages init` to create a site, or pass --root"),
            );
            None
        }
    };
    if let (Some(c), Some(url)) = (config.as_mut(), &opts.base_url) {
        c.base_url = url.trim_end_matches('/').to_string();
    }

    let mut partners = Vec::new();
    let partners_dir = root.join("partners");
    if partners_dir.is_dir() {
        let mut files: Vec<_> = walkdir::WalkDir::new(&partners_dir)
            .max_depth(1)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.path()
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml")
            })
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for path in files {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            match std::fs::read_to_string(&path) {
                Ok(text) => match serde_saphyr::from_str::<Partner>(&text) {
                    Ok(mut p) => {
                        p.source = rel;
                        if !p.draft {
                            partners.push(p);
                        }
                    }
                    Err(e) => diags.push(Diagnostic::new(rel, 0, 0, e.to_string())),
                },
                Err(e) => diags.push(Diagnostic::new(rel, 0, 0, format!("cannot read: {e}"))),
            }
        }
    }
    partners.sort_by(|a, b| a.code.cmp(&b.code));

    let content = crate::content::load_all(root, &mut diags);

    match config {
        Some(config) if diags.is_empty() => Ok(Site {
            root: root.to_path_buf(),
            config,
            partners,
            content,
        }),
        _ => Err(diags),
    }
}
