//! Render stage: a loaded [`Site`](crate::site::Site) becomes a list of output files in memory.
//!
//! Takes: the site and [`RenderOptions`]. Gives: [`Rendered`] (files for `public/` and for
//! `collector/`), every page rendered and every path checked before anything is written;
//! [`crate::output`] writes them atomically afterwards.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use crate::site::Site;
use std::collections::{BTreeMap, BTreeSet};

pub mod annotate;
pub mod beacon;
pub mod llms;
pub mod pages;
pub mod templates;

/// One file of the build output, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output root, `/`-separated, e.g. `p/seo-consultant/index.html`.
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

/// Everything a build produces, in memory, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Files for `public/` (or `--out`).
    pub public: Vec<OutputFile>,
    /// Files for `<root>/collector/`.
    pub collector: Vec<OutputFile>,
}

impl Rendered {
    /// Number of HTML pages in `public/`.
    pub fn page_count(&self) -> usize {
        self.public
            .iter()
            .filter(|f| f.path.ends_with(".html"))
            .count()
    }
}

/// Reports rendering progress (a terminal progress bar in the CLI; nothing in tests).
pub trait Progress: Sync {
    fn start(&self, stage: &str, total: usize);
    fn advance(&self, n: usize);
    fn finish(&self);
}

/// Options of the render stage. Extend with new fields; construct with `..Default::default()`.
#[derive(Default)]
pub struct RenderOptions<'a> {
    /// Funnel figures per partner code, passed to `landing.html` as `funnel` (issue 7:
    /// `build --events`). Partners without an entry get `funnel = none`.
    pub funnel: BTreeMap<String, serde_json::Value>,
    pub progress: Option<&'a dyn Progress>,
}

/// Render the whole site in memory: pages, kits, index, content pages, sitemap, the agent files
/// (`render::llms`) and the collector bundle (`collector::worker`).
pub fn render_site(site: &Site, opts: &RenderOptions) -> Result<Rendered> {
    let templates = templates::Templates::load(&site.root)?;
    let beacon = beacon::beacon(site);
    let pages = pages::Pages::new(site, &templates, &beacon).map_err(|d| one(*d))?;

    let mut diags = Diagnostics::default();
    let mut public = Vec::with_capacity(site.partners.len() * 2 + site.content.len() + 2);
    if let Some(p) = opts.progress {
        p.start("rendering", site.partners.len());
    }
    for result in render_partners(site, &pages, opts) {
        match result {
            Ok(f) => public.push(f),
            Err(d) => diags.push(*d),
        }
    }
    if let Some(p) = opts.progress {
        p.finish();
    }
    match pages.index() {
        Ok(f) => public.push(f),
        Err(d) => diags.push(*d),
    }
    for c in pages::published(site) {
        match pages.content(c) {
            Ok(f) => public.push(f),
            Err(d) => diags.push(*d),
        }
    }
    public.push(pages::sitemap(site));
    if !diags.is_empty() {
        return Err(dedup(diags).into());
    }

    public.extend(llms::render(site)?);
    public.extend(beacon::public_files(&beacon));
    public.extend(crate::collector::worker::public_files(site));
    let collector = crate::collector::worker::render(site)?;
    Ok(Rendered {
        public: checked("public", public)?,
        collector: checked("collector", collector)?,
    })
}

/// For `check`: render everything in memory, write nothing; the template problems found.
pub fn check(site: &Site) -> Diagnostics {
    match render_site(site, &RenderOptions::default()) {
        Ok(_) => Diagnostics::default(),
        Err(Error::Input(d)) => d,
        Err(e) => Diagnostics(vec![Diagnostic::new(
            crate::config::CONFIG_FILE,
            0,
            0,
            format!("rendering failed: {e}"),
        )]),
    }
}

/// Landing page and kit of every partner, in code order, rendered on all cores.
fn render_partners(
    site: &Site,
    pages: &pages::Pages,
    opts: &RenderOptions,
) -> Vec<Result<OutputFile, Box<Diagnostic>>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let chunk = site.partners.len().div_ceil(threads).max(64);
    let render_chunk = |partners: &[crate::partner::Partner]| {
        let mut out = Vec::with_capacity(partners.len() * 2);
        for (i, p) in partners.iter().enumerate() {
            out.push(pages.landing(p, opts.funnel.get(&p.code)));
            out.push(pages.kit(p));
            if let Some(progress) = opts.progress {
                if i % 64 == 63 {
                    progress.advance(64);
                }
            }
        }
        if let Some(progress) = opts.progress {
            progress.advance(partners.len() % 64);
        }
        out
    };
    if site.partners.len() <= chunk {
        return render_chunk(&site.partners);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = site
            .partners
            .chunks(chunk)
            .map(|part| s.spawn(move || render_chunk(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Sort by path and refuse duplicate or unsafe paths (a content slug `p` would collide with
/// partner pages; `..` would escape the output folder).
fn checked(root: &str, mut files: Vec<OutputFile>) -> Result<Vec<OutputFile>> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut diags = Diagnostics::default();
    for f in &files {
        let bad = f.path.is_empty()
            || f.path.starts_with('/')
            || f.path.contains('\\')
            || f.path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..");
        if bad {
            diags.push(Diagnostic::new(
                root,
                0,
                0,
                format!("refusing to write `{}`: not a plain relative path", f.path),
            ));
        }
    }
    for pair in files.windows(2) {
        if pair[0].path == pair[1].path {
            diags.push(
                Diagnostic::new(
                    root,
                    0,
                    0,
                    format!("two pages would be written to `{}`", pair[0].path),
                )
                .hint("rename one of the content files (its file name is its URL slug)"),
            );
        }
    }
    if diags.is_empty() {
        Ok(files)
    } else {
        Err(Error::Input(dedup(diags)))
    }
}

fn one(d: Diagnostic) -> Error {
    let mut diags = Diagnostics::default();
    diags.push(d);
    Error::Input(diags)
}

/// The same template error hits every partner: report each distinct problem once.
fn dedup(diags: Diagnostics) -> Diagnostics {
    let mut seen = BTreeSet::new();
    let mut out = Diagnostics::default();
    for d in diags.0 {
        let key = (
            d.location(),
            d.message
                .split(" (while rendering")
                .next()
                .unwrap_or("")
                .to_string(),
        );
        if seen.insert(key) {
            out.push(d);
        }
    }
    out
}

/// Escape `& < > " '` for HTML text and attribute values, the same set the templates escape.
/// For the few pages built outside templates (report HTML, preview overlay, serve's error page).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
