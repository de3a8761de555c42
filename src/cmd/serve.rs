//! `serve`: build, serve the output with the local collector, rebuild on change (live reload).

use crate::cli::{GlobalArgs, ServeArgs};
use partner_pages::build::BuildOptions;
use partner_pages::collector::registry::Registry;
use partner_pages::collector::server::{self, App, ServerOptions};
use partner_pages::collector::store::Store;
use partner_pages::collector::stripe;
use partner_pages::collector::{SECRET_ENV, VARIANT_SECRET_ENV};
use partner_pages::error::{Error, Result};
use partner_pages::site::LoadOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Inputs watched for a rebuild, relative to the site root (and the content folder).
const WATCHED_DIRS: [&str; 2] = ["partners", "templates"];

/// The folders watched for a rebuild: [`WATCHED_DIRS`] and the content folder of the config.
fn watched_dirs(root: &std::path::Path) -> Vec<String> {
    let mut dirs: Vec<String> = WATCHED_DIRS.iter().map(|d| d.to_string()).collect();
    dirs.push(partner_pages::config::peek(root).content_dir(root));
    dirs
}
/// Quiet time after the last file event before rebuilding (editors write in bursts).
const DEBOUNCE: Duration = Duration::from_millis(200);

pub(super) fn run(global: &GlobalArgs, args: ServeArgs) -> Result<()> {
    let root = &global.root;
    let peek = partner_pages::config::peek(root);
    let host = args
        .output
        .host_dir
        .clone()
        .or_else(|| peek.host_output.as_ref().map(|h| root.join(h)));
    let base_url = args.output.base_url.clone().or(peek.base_url);
    let base_path =
        partner_pages::config::base_path_of(base_url.as_deref().unwrap_or("")).to_string();
    if host.is_some() && base_path.is_empty() {
        return Err(Error::user_hint(
            "the partner pages need their own folder in the host site, but base_url has no path",
            "give base_url a path, e.g. https://example.com/partners, or pass --base-url",
        ));
    }
    // The partner pages' folder in the host output: below the host's own base path.
    let in_host =
        partner_pages::config::in_host(&base_path, peek.host_base_path.as_deref().unwrap_or(""));
    let out = match (&args.output.out, &host) {
        (Some(out), _) => out.clone(),
        (None, Some(h)) => h.join(in_host.trim_start_matches('/')),
        (None, None) => root.join("public"),
    };
    let builder = Builder {
        root: root.clone(),
        out,
        host: host.clone(),
        shell_page: peek.shell_page.map(|p| root.join(p)),
        base_url: args.output.base_url.clone(),
        quiet: global.quiet,
    };
    let secret = read_secret(args.secret_file.as_deref())?;
    let (variant_secret, variant_secret_set) = variant_secret();
    let stripe_secrets = read_stripe_secrets(args.stripe_secret_file.as_deref())?;
    // Like the site's other files (partners/, public/, collector/), a relative --db lives in the
    // site root, not in whatever folder the command was started from; absolute paths stay.
    let db = global.root.join(&args.db);
    let store = Store::open(&db)
        .map_err(|e| Error::user_hint(e.to_string(), "pass --db with a writable path"))?;
    let watch = !args.no_watch;
    let read_timeout = Duration::from_secs(args.read_timeout);
    let app = App::new(
        ServerOptions {
            out_dir: builder.out.clone(),
            host_dir: host.clone(),
            secret: secret.clone(),
            variant_secret,
            stripe_secrets: stripe_secrets.clone(),
            live_reload: watch,
            body_timeout: read_timeout,
        },
        store,
    );
    let first = builder.build_into(&app);
    if !first && !watch {
        return Err(Error::user_hint(
            "the site does not build",
            "fix the errors above, or run without --no-watch to fix them live",
        ));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let served = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.interface.as_str(), args.port))
            .await
            .map_err(|e| {
                Error::io(
                    format!("cannot listen on {}:{}", args.interface, args.port),
                    e,
                )
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the listening address", e))?;
        let base_path = app_base_path(&builder);
        // Tests and scripts read this line to find the port: keep its shape.
        println!("Serving http://{addr}{base_path}/");
        if !global.quiet {
            println!(
                "  collector: GET /go/<code>, POST /e, POST /s -> {}",
                db.display()
            );
            if secret.is_none() {
                println!("  POST /s answers 503: set ${SECRET_ENV} or pass --secret-file");
            }
            if !variant_secret_set {
                println!(
                    "  variant cookies are signed with a key made for this run: set ${VARIANT_SECRET_ENV} to keep visitors on their variant across restarts"
                );
            }
            if peek_stripe(&builder) {
                println!(
                    "  Stripe webhook: POST {base_path}{}{}",
                    stripe::STRIPE_PATH,
                    if stripe_secrets.is_empty() {
                        format!(
                            " answers 503: set ${} or pass --stripe-secret-file",
                            stripe::SECRET_ENV
                        )
                    } else {
                        String::new()
                    }
                );
            }
            if let Some(h) = &host {
                println!("  host site: {} at /", h.display());
            }
            if watch {
                println!(
                    "  watching partners/, {}/, templates/, partner-pages.yaml",
                    partner_pages::config::peek(root).content_dir(root)
                );
                if let Some(shell) = &builder.shell_page {
                    println!("  and the shell page {}", shell.display());
                }
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if watch {
            watch_and_rebuild(builder.clone(), app.clone())?;
        }
        let shutdown_app = app.clone();
        server::serve(
            listener,
            server::router(app.clone()),
            read_timeout,
            async move {
                shutdown_signal().await;
                shutdown_app.stop_streams();
            },
        )
        .await;
        Ok(())
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    // Every acknowledged event is already committed; this commits what is still queued.
    app.close();
    served
}

fn app_base_path(builder: &Builder) -> String {
    partner_pages::site::load(&builder.root, &builder.load_options())
        .map(|s| s.config.base_path().to_string())
        .unwrap_or_default()
}

fn peek_stripe(builder: &Builder) -> bool {
    partner_pages::site::load(&builder.root, &builder.load_options())
        .is_ok_and(|s| s.config.stripe.is_some())
}

/// The Stripe endpoint secrets: `--stripe-secret-file` (one or more, separated by commas or
/// white space), else `$PP_STRIPE_WEBHOOK_SECRET`.
fn read_stripe_secrets(file: Option<&Path>) -> Result<Vec<Vec<u8>>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::io(
                format!("cannot read the Stripe secret file {}", path.display()),
                e,
            )
        })?;
        let secrets = stripe::parse_secrets(&text);
        if secrets.is_empty() {
            return Err(Error::user_hint(
                format!("the Stripe secret file {} is empty", path.display()),
                "paste the endpoint's signing secret (whsec_...) from the Stripe dashboard, one per line",
            ));
        }
        return Ok(secrets);
    }
    Ok(std::env::var(stripe::SECRET_ENV)
        .map(|v| stripe::parse_secrets(&v))
        .unwrap_or_default())
}

/// The `/s` secret: `--secret-file` (trailing newline trimmed), else `$PP_SIGNING_SECRET`.
fn read_secret(file: Option<&Path>) -> Result<Option<Vec<u8>>> {
    if let Some(path) = file {
        let text = std::fs::read(path)
            .map_err(|e| Error::io(format!("cannot read the secret file {}", path.display()), e))?;
        let trimmed = text.trim_ascii_end();
        if trimmed.is_empty() {
            return Err(Error::user_hint(
                format!("the secret file {} is empty", path.display()),
                "write a long random string into it, e.g. `openssl rand -hex 32`",
            ));
        }
        return Ok(Some(trimmed.to_vec()));
    }
    Ok(std::env::var_os(SECRET_ENV)
        .map(|v| v.into_encoded_bytes())
        .filter(|v| !v.is_empty()))
}

/// The key experiment variants are drawn and signed with: `$PP_VARIANT_SECRET`, else a random
/// key made for this process (a restart then draws every visitor again). Whether it was set.
fn variant_secret() -> (Vec<u8>, bool) {
    match std::env::var_os(VARIANT_SECRET_ENV).filter(|v| !v.is_empty()) {
        Some(v) => (v.into_encoded_bytes(), true),
        None => {
            let mut key = Vec::with_capacity(32);
            key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            (key, false)
        }
    }
}

/// Builds the site and tells the server how it went.
#[derive(Clone)]
struct Builder {
    root: PathBuf,
    out: PathBuf,
    /// The host output served around the partner pages.
    host: Option<PathBuf>,
    /// The host page the partner pages are put into: a host rebuild changes it.
    shell_page: Option<PathBuf>,
    base_url: Option<String>,
    quiet: bool,
}

impl Builder {
    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            base_url: self.base_url.clone(),
        }
    }

    /// Build once; on success the server takes the new registry, on failure it shows the
    /// diagnostics. Returns whether the build succeeded.
    fn build_into(&self, app: &App) -> bool {
        let started = Instant::now();
        match self.build() {
            Ok(registry) => {
                app.site_built(registry);
                if !self.quiet {
                    eprintln!("built in {} ms", started.elapsed().as_millis());
                }
                true
            }
            Err(diagnostics) => {
                eprintln!("{diagnostics}");
                app.site_failed(diagnostics);
                false
            }
        }
    }

    /// The build pipeline; gives the registry the collector checks requests against.
    /// (The site is loaded twice, here and in `build`: loading is cheap next to rendering.)
    fn build(&self) -> std::result::Result<Registry, String> {
        let site = partner_pages::site::load(&self.root, &self.load_options())
            .map_err(|d| d.to_string())?;
        let opts = BuildOptions {
            out: Some(self.out.clone()),
            base_url: self.base_url.clone(),
            host: self.host.clone(),
            ..Default::default()
        };
        partner_pages::build::build(&self.root, &opts).map_err(|e| e.to_string())?;
        Ok(Registry::from_site(&site))
    }
}

/// Watch the inputs; rebuild after a quiet [`DEBOUNCE`].
fn watch_and_rebuild(builder: Builder, app: Arc<App>) -> Result<()> {
    use notify::{RecursiveMode, Watcher};
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev| {
        let _ = tx.send(ev);
    })
    .map_err(|e| Error::user(format!("cannot watch files: {e}")))?;
    let root = builder.root.clone();
    // The root itself, flat: the config file, and watched folders created later.
    watcher
        .watch(&root, RecursiveMode::NonRecursive)
        .map_err(|e| Error::user(format!("cannot watch {}: {e}", root.display())))?;
    for dir in watched_dirs(&root) {
        let path = root.join(dir);
        if path.is_dir() {
            watcher
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| Error::user(format!("cannot watch {}: {e}", path.display())))?;
        }
    }
    // The shell page's folder, flat: the host's rebuilds rewrite the page.
    if let Some(dir) = builder.shell_page.as_ref().and_then(|p| p.parent()) {
        if dir.is_dir() {
            let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
        }
    }
    // The thread owns the watcher: it lives as long as the process serves.
    std::thread::Builder::new()
        .name("pp-watch".into())
        .spawn(move || rebuild_loop(builder, app, rx, watcher))
        .map_err(|e| Error::Internal(format!("cannot start the watcher thread: {e}")))?;
    Ok(())
}

type WatchEvent = notify::Result<notify::Event>;

fn rebuild_loop(
    builder: Builder,
    app: Arc<App>,
    rx: std::sync::mpsc::Receiver<WatchEvent>,
    mut watcher: notify::RecommendedWatcher,
) {
    use notify::Watcher;
    let relevant = |ev: &WatchEvent| match ev {
        Ok(ev) if ev.kind.is_access() => false,
        Ok(ev) => ev.paths.iter().any(|p| {
            is_input(&builder.root, p)
                || builder
                    .shell_page
                    .as_deref()
                    .is_some_and(|s| same_file(s, p))
        }),
        Err(_) => false,
    };
    while let Ok(ev) = rx.recv() {
        if !relevant(&ev) {
            continue;
        }
        // Let the burst settle.
        loop {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        // A watched folder created after start (e.g. templates/) gets its own watch.
        for dir in watched_dirs(&builder.root) {
            let path = builder.root.join(dir);
            if path.is_dir() {
                let _ = watcher.watch(&path, notify::RecursiveMode::Recursive);
            }
        }
        if !builder.quiet {
            eprintln!("change detected, rebuilding");
        }
        builder.build_into(&app);
    }
}

/// The shell page as the watcher reports it (maybe canonical).
fn same_file(shell: &Path, path: &Path) -> bool {
    shell == path
        || shell
            .canonicalize()
            .is_ok_and(|s| path.canonicalize().is_ok_and(|p| p == s))
}

/// Is `path` one of the inputs: the config file, or anything under a watched folder?
fn is_input(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        // Some platforms report canonical paths; compare those too.
        return root
            .canonicalize()
            .ok()
            .and_then(|r| path.strip_prefix(r).ok().map(is_input_rel))
            .unwrap_or(false);
    };
    is_input_rel(rel)
}

fn is_input_rel(rel: &Path) -> bool {
    let mut parts = rel.components();
    match parts.next().and_then(|c| c.as_os_str().to_str()) {
        Some(partner_pages::config::CONFIG_FILE) => parts.next().is_none(),
        Some(first) => WATCHED_DIRS.contains(&first),
        None => false,
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_site_inputs_trigger_a_rebuild() {
        let root = Path::new("/site");
        assert!(is_input(root, Path::new("/site/partners/seo.yaml")));
        assert!(is_input(root, Path::new("/site/templates/page.html")));
        assert!(is_input(root, Path::new("/site/partner-pages.yaml")));
        assert!(!is_input(root, Path::new("/site/public/index.html")));
        assert!(!is_input(root, Path::new("/site/partner-events.db-wal")));
        assert!(!is_input(root, Path::new("/elsewhere/partners/x.yaml")));
    }
}
