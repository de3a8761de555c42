//! The public pipeline a host site generator can call: load -> render -> write.
//!
//! Takes: a site root and [`BuildOptions`]. Gives: `public/` (or `out`), `<root>/collector/` and
//! the private partner kits (`<root>/kits/`, see `kits`) on disk and a [`BuildReport`].
//! Nothing is written unless the whole site loads and renders.
//!
//! ```no_run
//! let report = partner_pages::build(std::path::Path::new("."), &Default::default())?;
//! println!("{} pages", report.pages);
//! # Ok::<(), partner_pages::Error>(())
//! ```

pub mod check;
pub(crate) mod stamp;

pub mod annotate;

use crate::collector::worker;
use crate::error::Result;
use crate::output::OutputFile;
use crate::output::{self, WriteStats};
use crate::render::{render_site, render_site_into, RenderOptions, Streamed};
use crate::site::{load, LoadOptions};
use std::path::{Path, PathBuf};

/// Default output folder of the static site, relative to the site root.
pub const PUBLIC_DIR: &str = "public";
/// Output folder of the collector bundle, relative to the site root.
pub const COLLECTOR_DIR: &str = "collector";
/// Default output folder of a staff preview build (`--preview`), relative to the site root.
pub const PREVIEW_DIR: &str = "preview";

/// Options of one build. Construct with `..Default::default()` so new fields do not break you.
#[derive(Default)]
pub struct BuildOptions<'a> {
    /// Static site output folder (default `<root>/public`); e.g. a sub-folder of a host site.
    pub out: Option<PathBuf>,
    /// Overrides `base_url` of the config (its path is the base path of every link).
    pub base_url: Option<String>,
    /// Plugin mode: merge our llms.txt sections into this host llms.txt (overrides `llms.merge`;
    /// a relative path is relative to the site root).
    pub llms_merge: Option<PathBuf>,
    /// Options of the render stage (progress, funnel variables).
    pub render: RenderOptions<'a>,
    /// Annotate partner pages with the funnel of this event source (`build --events`).
    pub events: Option<String>,
    /// End of the annotation window, RFC 3339 (`--now`; default: the current time).
    pub now: Option<String>,
    /// Staff build: the funnel overlay on each landing page and `annotations.json`
    /// (needs `events`; the output defaults to `<root>/preview`).
    pub preview: bool,
    /// The host site's output folder (overrides `host.output` of the config).
    pub host: Option<PathBuf>,
    /// Do not fail the build on a link to a page that is in neither output.
    pub skip_link_check: bool,
    /// Write only the partner registry files of `host.data` (before the host builds).
    pub data_only: bool,
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildReport {
    /// HTML pages in the static output.
    pub pages: usize,
    /// Files produced (static site and collector), manifest not counted.
    pub files: usize,
    /// What writing did: files written, unchanged, removed.
    pub stats: WriteStats,
    /// The static site's folder.
    pub out_dir: PathBuf,
    /// The collector bundle's folder.
    pub collector_dir: PathBuf,
    /// The private kits folder (`kits.dir`): one kit per partner, never published.
    pub kits_dir: PathBuf,
    /// Wall time of each stage (`load`, `render`, `write`), for `-v` and benchmarks.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// What the build did but you should know (printed as `warning:` lines).
    pub warnings: Vec<String>,
}

/// Load, render and write the site at `root`.
pub fn build(root: &Path, opts: &BuildOptions) -> Result<BuildReport> {
    let mut clock = std::time::Instant::now();
    let mut timings = Vec::with_capacity(3);
    let mut lap = |stage: &'static str| {
        let now = std::time::Instant::now();
        timings.push((stage, now - clock));
        clock = now;
    };
    if opts.data_only {
        return write_host_data_only(root, opts);
    }
    let dirs = Dirs::new(root, opts);
    let out_dir = dirs.out.clone();
    let collector_dir = root.join(COLLECTOR_DIR);
    // Where the kits go and whether they are hosted come from the config: read before the
    // fast path (a changed secret or a moved kits folder is a change). The fast path itself
    // hashes the config too; this read is only what it needs for its key.
    let kits_key = crate::kits::stamp_key(root);
    let kits_dir = root.join(&kits_key.dir);
    // The no-change fast path; builds annotated with events depend on more than files, and
    // builds in a host site on the host's output (shell page, link targets).
    let inputs =
        (opts.events.is_none() && !opts.preview && opts.render.funnel.is_empty() && !dirs.plugin)
            .then(|| {
                stamp::inputs(&stamp::Key {
                    root,
                    out_dir: &out_dir,
                    base_url: opts.base_url.as_deref(),
                    llms_merge: opts.llms_merge.as_deref(),
                    kits: &kits_key.fingerprint,
                })
            })
            .flatten();
    // An interrupted build leaves temporaries to sweep: not fresh.
    let interrupted = [&out_dir, &collector_dir, &kits_dir]
        .iter()
        .any(|d| d.join(output::WRITING).exists());
    let fresh = inputs
        .as_ref()
        .filter(|_| !interrupted)
        .and_then(|h| stamp::fresh(&stamp::state_dir(root), h));
    if let Some(fresh) = fresh {
        // A link added since is not an input: still refused.
        refuse_links(dirs.host.as_deref().unwrap_or(&dirs.out))?;
        lap("stamp");
        return Ok(BuildReport {
            pages: fresh.pages,
            files: fresh.files,
            stats: WriteStats {
                unchanged: fresh.files,
                ..WriteStats::default()
            },
            out_dir,
            collector_dir,
            kits_dir,
            timings,
            warnings: Vec::new(),
        });
    }
    let mut site = load(
        root,
        &LoadOptions {
            base_url: opts.base_url.clone(),
        },
    )?;
    if let Some(host) = &opts.llms_merge {
        site.config.llms.merge = Some(host.to_string_lossy().into_owned());
    }
    let kits_dir = root.join(&site.config.kits.dir);
    crate::kits::check_place(root, &kits_dir, &out_dir, &collector_dir)?;
    check_published(root, &dirs, &collector_dir, &kits_dir)?;
    let mut warnings = Vec::new();
    if let Some(host) = &dirs.host {
        if site.config.collector.mode == crate::config::CollectorMode::Assets {
            warnings.extend(worker::host_assets_ignore_warning(host));
        }
    }
    lap("load");
    let annotations = annotate::for_build(&site, opts)?;
    // Opened before rendering: each page is staged as soon as it is rendered (the site never
    // sits in memory at once) and nothing reaches the output folders before the commits below.
    // Dropped on an error, a folder removes what it staged.
    let out = output::Folder::open(&out_dir)?;
    let collector = output::Folder::open(&collector_dir)?;
    let kits = output::Folder::open(&kits_dir)?;
    let put = |f: OutputFile| out.put(&f);
    let put_kit = |f: OutputFile| kits.put(&f);
    let mut streamed = match (opts.preview, &annotations) {
        (true, Some(a)) => {
            // A staff preview: pages get the overlay after rendering, so render in memory.
            let mut rendered = render_site(&site, &a.render_options(opts.render.progress))?;
            annotate::apply_preview(&mut rendered.public, a)?;
            for f in &rendered.public {
                out.put(f)?;
            }
            for f in &rendered.kits {
                kits.put(f)?;
            }
            Streamed {
                public: rendered.public.into_iter().map(|f| f.path).collect(),
                kits: rendered.kits.into_iter().map(|f| f.path).collect(),
            }
        }
        (_, Some(a)) => render_site_into(
            &site,
            &a.render_options(opts.render.progress),
            &put,
            &put_kit,
        )?,
        (_, None) => render_site_into(&site, &opts.render, &put, &put_kit)?,
    };
    // Checked (markers, H1) before anything is written; written after the site.
    let llms_host = crate::render::llms::merge::prepare(&site)?;
    // The Worker bundle: collector/, and what the Worker needs in public/.
    for f in worker::public_files(&site) {
        if let Err(at) = streamed.public.binary_search(&f.path) {
            out.put(&f)?;
            streamed.public.insert(at, f.path);
        } else {
            return Err(crate::Error::Internal(format!(
                "{} is rendered twice (site and collector)",
                f.path
            )));
        }
    }
    if !opts.skip_link_check {
        let targets = crate::links::Targets {
            rendered: streamed.public.iter().map(String::as_str).collect(),
            host: dirs.host.clone(),
            out: lexical_absolute(&out_dir),
        };
        let problems = crate::links::check(&site, &targets);
        if !problems.is_empty() {
            return Err(problems.into());
        }
    }
    let mut collector_files = worker::render(&site)?;
    // The Worker serves the whole host output when there is one, else the partner output.
    let served = dirs.host.as_deref().unwrap_or(&out_dir);
    let assets_dir = assets_dir_from(&collector_dir, served);
    if assets_dir != worker::DEFAULT_ASSETS_DIR {
        // The Worker serves the static site from wherever `out` put it.
        let toml = worker::wrangler_toml(&site, &assets_dir);
        if let Some(f) = collector_files
            .iter_mut()
            .find(|f| f.path == worker::WRANGLER_TOML)
        {
            f.bytes = toml.into_bytes();
        }
    }
    collector_files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in &collector_files {
        collector.put(f)?;
    }
    lap("render");
    // Never leave a stamp that claims the output of an earlier build.
    stamp::remove(&stamp::state_dir(root))?;
    // An earlier version's stamp in the output names every file, hosted kits included.
    stamp::remove_legacy(&out_dir)?;
    let public_paths: Vec<&str> = streamed.public.iter().map(String::as_str).collect();
    let collector_paths = paths(&collector_files);
    let kit_paths: Vec<&str> = streamed.kits.iter().map(String::as_str).collect();
    let mut stats = out.commit(&public_paths)?;
    stats += collector.commit(&collector_paths)?;
    stats += kits.commit(&kit_paths)?;
    if let Some(host) = llms_host {
        host.write()?;
    }
    write_host_data(&site)?;
    if let Some(host) = &dirs.host {
        if site.config.collector.mode == crate::config::CollectorMode::Assets {
            assets_ignore(&site, host)?;
        }
    }
    let pages = streamed.page_count();
    if let Some(h) = inputs {
        let host = site.config.llms.merge.as_ref().map(|m| site.root.join(m));
        stamp::write(
            &stamp::state_dir(root),
            &stamp::finish(h, host.as_deref()),
            host.as_deref(),
            pages,
            &[
                (&out_dir, public_paths),
                (&collector_dir, collector_paths),
                (&kits_dir, kit_paths),
            ],
        )?;
    }
    lap("write");
    Ok(BuildReport {
        pages,
        files: streamed.public.len() + collector_files.len() + streamed.kits.len(),
        stats,
        out_dir,
        collector_dir,
        kits_dir,
        timings,
        warnings,
    })
}

fn paths(files: &[OutputFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// What `check` runs of the build's own checks: render the site in memory (nothing written),
/// refuse what the build would refuse to overwrite in the output folder, and check its links
/// against what it rendered and the host output (`host`, else the config's `host.output`).
pub fn check_links(
    site: &crate::Site,
    host: Option<PathBuf>,
) -> Result<crate::diagnostics::Diagnostics> {
    let opts = BuildOptions {
        host,
        ..Default::default()
    };
    // A missing kit secret is a warning of `check` (the secret may live only where the site is
    // built): check the rest as if the kits stayed private.
    let private;
    let site = if matches!(site.kit_hosting, crate::kits::Hosting::NoSecret(_)) {
        private = crate::Site {
            kit_hosting: crate::kits::Hosting::Private,
            ..site.clone()
        };
        &private
    } else {
        site
    };
    let dirs = Dirs::new(&site.root, &opts);
    // What the build would refuse to overwrite in the output folder, with the build's message.
    let dry = output::DryRun::open(&dirs.out)?;
    let streamed = render_site_into(site, &RenderOptions::default(), &|f| dry.check(&f), &|_| {
        Ok(())
    })?;
    let targets = crate::links::Targets {
        rendered: streamed.public.iter().map(String::as_str).collect(),
        host: dirs.host,
        out: lexical_absolute(&dirs.out),
    };
    Ok(crate::links::check(site, &targets))
}

/// The output folders of a build.
struct Dirs {
    /// Where the partner pages go.
    out: PathBuf,
    /// The host site's output (served at `/`), absolute: from the options, `host.output`, or
    /// the folder above `out` when `out` ends with the base path (`public/partners`).
    host: Option<PathBuf>,
    /// A build inside a host site (host output or shell page): no no-change fast path.
    plugin: bool,
}

impl Dirs {
    fn new(root: &Path, opts: &BuildOptions) -> Dirs {
        let peek = crate::config::peek(root);
        let base_url = opts.base_url.clone().or(peek.base_url).unwrap_or_default();
        // The partner pages' folder in the host output: below the host's own base path.
        let base_path = crate::config::in_host(
            crate::config::base_path_of(&base_url),
            peek.host_base_path.as_deref().unwrap_or(""),
        )
        .trim_end_matches('/');
        let abs = |p: PathBuf| lexical_absolute(&p);
        let host = opts
            .host
            .clone()
            .or_else(|| peek.host_output.map(|h| root.join(h)))
            .map(abs);
        let out = match (&opts.out, &host) {
            (Some(out), _) => out.clone(),
            (None, Some(h)) if !opts.preview && !base_path.is_empty() => {
                h.join(base_path.trim_start_matches('/'))
            }
            _ => root.join(if opts.preview {
                PREVIEW_DIR
            } else {
                PUBLIC_DIR
            }),
        };
        let host = host.or_else(|| crate::links::host_of(&abs(out.clone()), base_path));
        let out = if host.is_some() { abs(out) } else { out };
        Dirs {
            plugin: host.is_some() || peek.shell_page.is_some(),
            out,
            host,
        }
    }
}

/// The published folders (the host output, the partner output) hold none of the site's own
/// files: not the site root (partner files, the kit secret, event databases), not
/// `collector/`, not the private kits; and no symbolic link, which a web server or a deploy
/// would follow out of the folder. Checked before anything is written.
fn check_published(root: &Path, dirs: &Dirs, collector_dir: &Path, kits_dir: &Path) -> Result<()> {
    let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| lexical_absolute(p));
    let published: Vec<&Path> = dirs
        .host
        .iter()
        .map(PathBuf::as_path)
        .chain([dirs.out.as_path()])
        .collect();
    for dir in &published {
        let d = real(dir);
        for (inner, what) in [
            (
                root,
                "the site itself (partner files, the kit secret, event databases)",
            ),
            (collector_dir, "the collector folder"),
            (kits_dir, "the private partner kits"),
        ] {
            if real(inner).starts_with(&d) {
                return Err(crate::Error::user_hint(
                    format!(
                        "the published folder {} holds {what} ({}): it would be public",
                        dir.display(),
                        inner.display()
                    ),
                    "point `host.output` (or `--host-dir`, `--out`) at the folder the host generator writes, beside the site's own files",
                ));
            }
        }
    }
    refuse_links(dirs.host.as_deref().unwrap_or(&dirs.out))
}

/// Refuse a symbolic link anywhere in the served folder (links are not followed).
fn refuse_links(served: &Path) -> Result<()> {
    let links: Vec<PathBuf> = walkdir::WalkDir::new(served)
        .min_depth(1)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path_is_symlink())
        .map(|e| e.path().to_path_buf())
        .take(5)
        .collect();
    if let Some(first) = links.first() {
        let more = if links.len() > 1 {
            format!(" (and {} more)", links.len() - 1)
        } else {
            String::new()
        };
        return Err(crate::Error::user_hint(
            format!(
                "{} is a symbolic link{more}: a web server or a deploy of {} would publish what it points to",
                first.display(),
                served.display()
            ),
            "replace the link with a copy of the file or folder, or remove it; the published folder holds only plain files",
        ));
    }
    Ok(())
}

/// `p` as an absolute path with `.` and `..` resolved by name (the folders need not exist).
fn lexical_absolute(p: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `build --data-only`: load the site, write the `host.data` files, nothing else.
fn write_host_data_only(root: &Path, opts: &BuildOptions) -> Result<BuildReport> {
    let site = load(
        root,
        &LoadOptions {
            base_url: opts.base_url.clone(),
        },
    )?;
    write_host_data(&site)?;
    Ok(BuildReport {
        pages: 0,
        files: site.config.host.data.len(),
        stats: WriteStats::default(),
        out_dir: PathBuf::new(),
        collector_dir: root.join(COLLECTOR_DIR),
        kits_dir: PathBuf::new(),
        timings: Vec::new(),
        warnings: Vec::new(),
    })
}

/// The partner registry for host templates, at each `host.data` path (same bytes each time).
fn write_host_data(site: &crate::Site) -> Result<()> {
    if site.config.host.data.is_empty() {
        return Ok(());
    }
    let bytes = crate::render::llms::registry::host_data_json(site)?;
    for rel in &site.config.host.data {
        let path = site.root.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            continue; // unchanged: do not wake the host's file watcher
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        output::write_atomic(&path, &bytes)?;
    }
    Ok(())
}

/// In mode `assets` the Worker serves the host output: wrangler reads `.assetsignore` at its
/// root, so ours goes there, unless the host has its own (then it is left alone).
fn assets_ignore(site: &crate::Site, host: &Path) -> Result<()> {
    let Some(file) = crate::collector::worker::public_files(site)
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let path = host.join(&file.path);
    match std::fs::read(&path) {
        Ok(old) if old == file.bytes => Ok(()),
        Ok(old) if !old.starts_with(crate::collector::worker::ASSETS_IGNORE_HEADER.as_bytes()) => {
            Ok(())
        }
        _ if host.is_dir() => output::write_atomic(&path, &file.bytes),
        _ => Ok(()),
    }
}

/// The static output folder as wrangler.toml's `[assets] directory` sees it from `collector/`:
/// always a relative path (`../public`, `../../elsewhere/out`), so the generated collector holds
/// no path of the machine that built it.
fn assets_dir_from(collector_dir: &Path, out_dir: &Path) -> String {
    let (from, to) = (lexical_absolute(collector_dir), lexical_absolute(out_dir));
    let (from, to): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod assets_dir_tests {
    use super::assets_dir_from;
    use std::path::Path;

    #[test]
    fn wrangler_assets_follow_the_out_folder() {
        let c = Path::new("/site/collector");
        assert_eq!(assets_dir_from(c, Path::new("/site/public")), "../public");
        assert_eq!(
            assets_dir_from(c, Path::new("/site/dist/partners")),
            "../dist/partners"
        );
        assert_eq!(
            assets_dir_from(c, Path::new("/elsewhere/out")),
            "../../elsewhere/out"
        );
    }
}
