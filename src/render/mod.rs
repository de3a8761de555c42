//! Render stage: a loaded [`crate::site::Site`] becomes a list of output files in memory.
//!
//! Takes: the site and [`RenderOptions`]. Gives: [`Rendered`] (the files for `public/`), every
//! page rendered and every path checked before anything is written; [`crate::output`] writes
//! them atomically afterwards. The Worker bundle is not rendered here: [`crate::build()`] adds it
//! from `collector::worker`.

pub(crate) mod links;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use crate::output::OutputFile;
use crate::site::Site;
use std::collections::{BTreeMap, BTreeSet};

pub mod beacon;
pub mod llms;
pub(crate) mod pages;
pub(crate) mod shell;
pub(crate) mod templates;

/// Everything a build produces, in memory, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Files for `public/` (or the output folder asked for).
    pub public: Vec<OutputFile>,
    /// Files for the private kits folder (`kits.dir`): never published.
    pub kits: Vec<OutputFile>,
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
    /// A stage of `total` steps starts.
    fn start(&self, stage: &str, total: usize);
    /// `n` more steps are done.
    fn advance(&self, n: usize);
    /// The stage is over.
    fn finish(&self);
}

/// Options of the render stage. Extend with new fields; construct with `..Default::default()`.
#[derive(Default)]
pub struct RenderOptions<'a> {
    /// Funnel figures per partner code, passed to `landing.html` as `funnel` (`build
    /// --events`). Partners without an entry get `funnel = none`.
    pub funnel: BTreeMap<String, serde_json::Value>,
    /// Where to report progress (none: silent).
    pub progress: Option<&'a dyn Progress>,
}

/// Render the whole site in memory: pages, kits, index, content pages, sitemap and the agent
/// files (`render::llms`).
pub fn render_site(site: &Site, opts: &RenderOptions) -> Result<Rendered> {
    let files = std::sync::Mutex::new(Vec::new());
    let kits = std::sync::Mutex::new(Vec::new());
    render_site_into(
        site,
        opts,
        &|f| {
            files.lock().unwrap_or_else(|e| e.into_inner()).push(f);
            Ok(())
        },
        &|f| {
            kits.lock().unwrap_or_else(|e| e.into_inner()).push(f);
            Ok(())
        },
    )?;
    let sorted = |m: std::sync::Mutex<Vec<OutputFile>>| {
        let mut v = m.into_inner().unwrap_or_else(|e| e.into_inner());
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    };
    Ok(Rendered {
        public: sorted(files),
        kits: sorted(kits),
    })
}

/// Receives each `public/` file as soon as it is rendered, on the render threads.
pub type Sink<'s> = &'s (dyn Fn(OutputFile) -> Result<()> + Sync);

/// What [`render_site_into`] gives back once the whole site rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Every path handed to the sink, sorted, checked (plain relative, no duplicates).
    pub public: Vec<String>,
    /// Every path handed to the kits sink, sorted, checked.
    pub kits: Vec<String>,
}

impl Streamed {
    /// Number of HTML pages in `public/`.
    pub fn page_count(&self) -> usize {
        self.public.iter().filter(|p| p.ends_with(".html")).count()
    }
}

/// Render the whole site, handing each `public/` file to `sink` and each file of the private kits
/// folder to `kits` as soon as it is rendered (the partner pages on all cores), so the site
/// never sits in memory at once. Paths are checked
/// once everything has rendered: an `Err` may come after the sink took files, so a sink must
/// only stage them (see [`crate::output::Folder`]), never publish them before this returns.
/// After the first error the sink gets nothing more; rendering goes on to report every
/// template problem.
pub fn render_site_into(
    site: &Site,
    opts: &RenderOptions,
    sink: Sink,
    kits: Sink,
) -> Result<Streamed> {
    if let crate::kits::Hosting::NoSecret(d) = &site.kit_hosting {
        return Err(one((**d).clone()));
    }
    let templates = templates::Templates::load(&site.root)?;
    let beacon = beacon::beacon(site);
    let pages = pages::Pages::new(site, &templates, &beacon).map_err(|d| one(*d))?;

    if let Some(p) = opts.progress {
        p.start("rendering", site.partners.len());
    }
    // The agent files (a Markdown mirror per page, llms-full.txt, partners.json) need only the
    // site: made on their own thread while the partner pages render on the others.
    let (partners, agents) = std::thread::scope(|s| {
        let agents = s.spawn(|| {
            let mut paths = Vec::with_capacity(site.partners.len() + site.content.len() + 4);
            llms::render_each(site, &mut |f| {
                paths.push(f.path.clone());
                sink(f)
            })
            .map(|()| paths)
        });
        let partners = render_partners(site, &pages, opts, sink, kits);
        let agents = agents
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (partners, agents)
    });
    if let Some(p) = opts.progress {
        p.finish();
    }
    let mut diags = Diagnostics::default();
    for d in partners.diags {
        diags.push(d);
    }
    if let Some(e) = partners.error {
        if diags.is_empty() {
            return Err(e);
        }
    }
    let mut paths = partners.paths;
    let kit_paths = partners.kit_paths;
    paths.reserve(site.content.len() + 16);
    let mut rest = Vec::with_capacity(site.content.len() + 2);
    match pages.index() {
        Ok(f) => rest.push(f),
        Err(d) => diags.push(*d),
    }
    for c in pages::published(site) {
        match pages.content(c) {
            Ok(f) => rest.push(f),
            Err(d) => diags.push(*d),
        }
    }
    rest.push(pages::sitemap(site));
    if !diags.is_empty() {
        return Err(dedup(diags).into());
    }
    rest.extend(beacon::public_files(&beacon));
    rest.extend(pages.shell_css());
    paths.extend(agents?);
    for f in rest {
        paths.push(f.path.clone());
        sink(f)?;
    }
    Ok(Streamed {
        public: checked_paths("public", paths)?,
        kits: checked_paths(&site.config.kits.dir, kit_paths)?,
    })
}

/// For `check`: render everything in memory, write nothing; the template problems found, and
/// as warnings the uses of private partner fields in templates of public pages and a missing
/// kit secret (the secret may exist only where the site is built).
pub fn check(site: &Site) -> Diagnostics {
    let mut out = Diagnostics::default();
    let without_hosting;
    let site = match &site.kit_hosting {
        crate::kits::Hosting::NoSecret(d) => {
            out.push((**d).clone().warning());
            without_hosting = Site {
                kit_hosting: crate::kits::Hosting::Private,
                ..site.clone()
            };
            &without_hosting
        }
        _ => site,
    };
    match render_site_into(site, &RenderOptions::default(), &|_| Ok(()), &|_| Ok(())) {
        Ok(_) => {}
        Err(Error::Input(d)) => out.0.extend(d.0),
        Err(e) => out.push(Diagnostic::new(
            crate::config::CONFIG_FILE,
            0,
            0,
            format!("rendering failed: {e}"),
        )),
    }
    if let Ok(t) = templates::Templates::load(&site.root) {
        out.0.extend(t.private_field_uses(pages::PUBLIC_TEMPLATES));
    }
    out.0.extend(terms_notes(site));
    out
}

/// For `check`: a warning for each partner whose free `commission:` text does not quote its
/// reward rule (the kit shows the rule's terms; the text would say something else).
fn terms_notes(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &site.partners {
        let (Some(text), Some(rule)) = (&p.commission, &p.rule) else {
            continue;
        };
        if crate::reward::commission_agrees(text, rule) {
            continue;
        }
        // No figure in the words: `check` answers reach agents (MCP), and terms are private.
        let d = crate::load::at_field(
            &site.root,
            &p.source,
            &["commission"],
            "`commission` does not quote the figure of the partner's `reward:` rule",
        )
        .expected("commission text that agrees with the reward rule, or no `commission:` (the kit then shows the rule's terms)")
        .hint("the kit shows the rule's terms; update or remove `commission:` so nobody reads two different offers")
        .warning();
        out.push(d);
    }
    out
}

/// What the partner pages gave: the paths handed to the sink, template problems, the first
/// error of the sink.
struct PartnerPages {
    paths: Vec<String>,
    /// Paths handed to the kits sink.
    kit_paths: Vec<String>,
    diags: Vec<Diagnostic>,
    error: Option<Error>,
}

/// Landing page and kit of every partner, in code order, rendered on all cores; each file goes
/// to its sink (the kit's to `kits`, a hosted kit's copy to `sink`) from the thread that
/// rendered it, so writing overlaps rendering.
fn render_partners(
    site: &Site,
    pages: &pages::Pages,
    opts: &RenderOptions,
    sink: Sink,
    kits: Sink,
) -> PartnerPages {
    use std::sync::atomic::{AtomicBool, Ordering};
    // One thread per core: staging a file is CPU work in the kernel (inode allocation), not a
    // wait, so more threads only contend for the file system's locks.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let chunk = site.partners.len().div_ceil(threads).max(64);
    // Set on the first problem: nothing more goes to the sink.
    let failed = AtomicBool::new(false);
    let render_chunk = |partners: &[crate::partner::Partner]| {
        let mut out = PartnerPages {
            paths: Vec::with_capacity(partners.len() * 2),
            kit_paths: Vec::with_capacity(partners.len() * 2),
            diags: Vec::new(),
            error: None,
        };
        for (i, p) in partners.iter().enumerate() {
            let landing = pages.landing(p, opts.funnel.get(&p.code));
            let kit = pages.kit(p);
            // The pages of a test's variants (not the control's, which is the landing page).
            let variants: Result<Vec<_>, _> = p
                .variants
                .iter()
                .skip(1)
                .map(|v| pages.variant(p, &v.id))
                .collect();
            let files = match (landing, kit, variants) {
                (Ok(landing), Ok(kit), Ok(variants)) => {
                    let mut files = vec![(false, landing), (true, kit.html), (true, kit.markdown)];
                    files.extend(kit.hosted.map(|h| (false, h)));
                    files.extend(variants.into_iter().map(|v| (false, v)));
                    files
                }
                (landing, kit, variants) => {
                    failed.store(true, Ordering::Relaxed);
                    out.diags.extend(landing.err().map(|d| *d));
                    out.diags.extend(kit.err().map(|d| *d));
                    out.diags.extend(variants.err().map(|d| *d));
                    Vec::new()
                }
            };
            for (private, f) in files {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let (paths, to) = if private {
                    (&mut out.kit_paths, kits)
                } else {
                    (&mut out.paths, sink)
                };
                paths.push(f.path.clone());
                if let Err(e) = to(f) {
                    failed.store(true, Ordering::Relaxed);
                    out.error = Some(e);
                }
            }
            if out.error.is_some() {
                break;
            }
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
            .map(|part| s.spawn(|| render_chunk(part)))
            .collect();
        let mut all = PartnerPages {
            paths: Vec::with_capacity(site.partners.len() * 2),
            kit_paths: Vec::with_capacity(site.partners.len() * 2),
            diags: Vec::new(),
            error: None,
        };
        for h in handles {
            let part = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            all.paths.extend(part.paths);
            all.kit_paths.extend(part.kit_paths);
            all.diags.extend(part.diags);
            all.error = all.error.or(part.error);
        }
        all
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

/// [`checked`] for paths only (the files already went to the sink).
fn checked_paths(root: &str, paths: Vec<String>) -> Result<Vec<String>> {
    let files: Vec<OutputFile> = paths.into_iter().map(|p| OutputFile::new(p, [])).collect();
    Ok(checked(root, files)?.into_iter().map(|f| f.path).collect())
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

pub use crate::text::html::escape_html;
