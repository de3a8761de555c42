//! Collector stage, local server: the HTTP side of `partner-pages serve`.
//!
//! Takes: requests, the built output folder, the partner registry of the last good build and
//! a [`Store`]. Gives: the collector API of [`crate::collector`] (`/go/<code>`, `/e`, `/s`),
//! the static site with the right content types, and, in the dev loop, live reload over SSE
//! (`/__pp/reload`) and an error page while the last build is broken.

use crate::collector::registry::Registry;
use crate::collector::requests::{self, Refusal};
use crate::collector::store::Store;
use crate::collector::{cookies, rows};
use crate::collector::{
    is_bot, MAX_BEACON_BODY, MAX_SERVER_BODY, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::render::escape_html;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// Path of the live-reload event stream (served only by `serve`, never built).
pub const RELOAD_PATH: &str = "/__pp/reload";
/// The script `serve` adds to HTML responses when live reload is on (never to built files).
pub const RELOAD_JS: &str = "(function(){if(!window.EventSource)return;var s=new EventSource(\"/__pp/reload\");s.addEventListener(\"reload\",function(){s.close();location.reload()})})()";

/// Settings of one server.
pub struct ServerOptions {
    /// The folder served as the site (`public/` or `--out`), at the base path.
    pub out_dir: PathBuf,
    /// The host site's output, served at `/` around the partner pages (`serve --host-dir`).
    pub host_dir: Option<PathBuf>,
    /// `/s` signing secret; `None` answers `/s` with 503.
    pub secret: Option<Vec<u8>>,
    /// The key experiment variants are drawn and their cookies signed with.
    pub variant_secret: Vec<u8>,
    /// Stripe endpoint secrets; empty answers `/stripe` with 503.
    pub stripe_secrets: Vec<Vec<u8>>,
    /// Inject the reload script and serve the event stream.
    pub live_reload: bool,
    /// How long a request body (`/e`, `/s`) may take to arrive in full; a slower one gets 408
    /// and the connection is closed, so trickling clients cannot hold connections open.
    pub body_timeout: std::time::Duration,
}

/// Default of `serve --read-timeout`: the time a request head, or a collector request body
/// (at most 4 KB), may take to arrive.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Shared state of the server; the dev loop updates it after each build.
pub struct App {
    out_dir: PathBuf,
    host_dir: Option<PathBuf>,
    store: Store,
    secret: Option<Vec<u8>>,
    variant_secret: Vec<u8>,
    stripe_secrets: Vec<Vec<u8>>,
    /// The Stripe webhook's connection, opened on first use.
    stripe_db: std::sync::Mutex<Option<rusqlite::Connection>>,
    /// Live reload: `None` when off; taken at shutdown so open streams end.
    reload: std::sync::Mutex<Option<broadcast::Sender<()>>>,
    live_reload: bool,
    body_timeout: std::time::Duration,
    site: RwLock<SiteState>,
}

#[derive(Clone, Default)]
struct SiteState {
    registry: Arc<Registry>,
    /// The diagnostics of the last build, while it is broken.
    build_error: Option<String>,
}

impl App {
    /// The collector app over `store`, with no site built yet.
    pub fn new(opts: ServerOptions, store: Store) -> Arc<App> {
        Arc::new(App {
            out_dir: opts.out_dir,
            host_dir: opts.host_dir,
            store,
            secret: opts.secret,
            variant_secret: opts.variant_secret,
            stripe_secrets: opts.stripe_secrets,
            stripe_db: std::sync::Mutex::new(None),
            reload: std::sync::Mutex::new(opts.live_reload.then(|| broadcast::channel(16).0)),
            live_reload: opts.live_reload,
            body_timeout: opts.body_timeout,
            site: RwLock::new(SiteState::default()),
        })
    }

    /// A build succeeded: use its registry, drop any error page, reload the browsers.
    pub fn site_built(&self, registry: Registry) {
        let registry = registry.with_variant_secret(Some(self.variant_secret.clone()));
        self.set(|s| {
            s.registry = Arc::new(registry);
            s.build_error = None;
        });
    }

    /// A build failed: keep collecting with the last good registry, show `diagnostics` on
    /// HTML requests until the next good build.
    pub fn site_failed(&self, diagnostics: String) {
        self.set(|s| s.build_error = Some(diagnostics));
    }

    fn set(&self, f: impl FnOnce(&mut SiteState)) {
        match self.site.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
        if let Ok(guard) = self.reload.lock() {
            if let Some(tx) = guard.as_ref() {
                // No subscriber is fine: nobody is looking.
                let _ = tx.send(());
            }
        }
    }

    /// End the live-reload streams, so a graceful shutdown does not wait on them.
    pub fn stop_streams(&self) {
        if let Ok(mut guard) = self.reload.lock() {
            guard.take();
        }
    }

    fn state(&self) -> SiteState {
        match self.site.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Stop the writer after the server is done: commit what is queued.
    pub fn close(self: Arc<Self>) {
        if let Ok(app) = Arc::try_unwrap(self) {
            app.store.close();
        }
    }
}

/// The router: the reload stream plus one dispatcher, because the base path and the beacon
/// endpoint come from the site config and change with a rebuild.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(RELOAD_PATH, get(reload_stream))
        .fallback(dispatch)
        .with_state(app)
}

/// Serve `router` on `listener` until `shutdown` resolves, then let open requests finish.
///
/// `axum::serve` sets no timer, so a client trickling a request head would hold its connection
/// for ever; here a request head must arrive in full within `head_timeout` of the connection's
/// start (or of the previous answer, on a keep-alive connection), else the connection is
/// closed: a socket that sends no byte at all is closed too. Bodies have their own limit
/// ([`ServerOptions::body_timeout`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    head_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: the next accept may work.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Nagle only delays small answers.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // HTTP/1 only: the version sniffing of an HTTP/1-or-2 connection waits for the first
            // bytes with no timer, so a socket that never sends one would stay open for ever.
            // Here the head timer runs from the accept, and again on every idle keep-alive.
            let mut builder = Builder::new(TokioExecutor::new()).http1_only();
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            // A client that goes away or times out is not an error of the server.
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn reload_stream(State(app): State<Arc<App>>) -> Response {
    let rx = match app
        .reload
        .lock()
        .ok()
        .and_then(|g| g.as_ref().map(|tx| tx.subscribe()))
    {
        Some(rx) => rx,
        None => return plain(StatusCode::NOT_FOUND, "live reload is off (--no-watch)"),
    };
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {
                let ev = SseEvent::default().event("reload").data("reload");
                Some((Ok::<_, Infallible>(ev), rx))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let site = app.state();
    let reg = &site.registry;
    let path = req.uri().path().to_string();
    let rest = requests::route_path(reg, &path);
    let method = req.method().clone();
    let is_get = method == Method::GET || method == Method::HEAD;
    // The Worker's routing, in the Worker's order.
    if let Some(code) = rest.strip_prefix("/go/") {
        if !is_get {
            return not_allowed("GET, HEAD");
        }
        let head = method == Method::HEAD;
        return go(&app, reg, code, req.uri().query(), req.headers(), head).await;
    }
    if path == reg.endpoint {
        if method != Method::POST {
            return not_allowed("POST");
        }
        return beacon(&app, reg, req).await;
    }
    if rest == "/s" {
        if method != Method::POST {
            return not_allowed("POST");
        }
        return server_event(&app, reg, req).await;
    }
    if rest == crate::collector::stripe::STRIPE_PATH && reg.stripe.is_some() {
        if is_get {
            // The visitor id for Checkout's client_reference_id (the cookie is HttpOnly).
            let body = serde_json::json!({ "visitor_id": cookies(reg, req.headers()).visitor_id });
            let mut resp = (StatusCode::OK, body.to_string()).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            return resp;
        }
        if method != Method::POST {
            return not_allowed("GET, HEAD, POST");
        }
        return stripe_webhook(app.clone(), reg, req).await;
    }
    if !is_get {
        return not_allowed("GET, HEAD");
    }
    let local = strip_base(&path, &reg.base_path).to_string();
    // A landing page under test: the visitor's variant, under the same URL (no redirect).
    if !not_counted(reg, req.headers()) {
        let jar = cookies(reg, req.headers());
        if let Some(view) = cookies::landing_view(reg, rest, &jar, rows::new_uuid) {
            let file = format!("/{}", view.file);
            let mut resp = static_file(
                &app,
                &site,
                &app.out_dir,
                &path,
                &file,
                req.uri().query(),
                req.headers(),
            )
            .await;
            if resp.status() == StatusCode::OK {
                let secure = cookies::secure_for_host(header_str(req.headers(), "host"));
                let mut set = Vec::new();
                if view.set_vid {
                    set.push(format!(
                        "{}_vid={}; Path=/; HttpOnly;{} SameSite=Lax; Max-Age={}",
                        reg.cookie_prefix,
                        view.visitor_id,
                        if secure { " Secure;" } else { "" },
                        reg.max_age_secs
                    ));
                }
                if let Some(value) = &view.variant_cookie {
                    set.push(cookies::variant_cookie(reg, &view.partner, value, secure));
                }
                let h = resp.headers_mut();
                for c in set {
                    if let Ok(v) = HeaderValue::from_str(&c) {
                        h.append(header::SET_COOKIE, v);
                    }
                }
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                );
                h.insert(header::VARY, HeaderValue::from_static("Cookie"));
            }
            return resp;
        }
    }
    // Outside the base path, the host output (when served) answers with its own files, at the
    // host's base path (`host.base_path`); nothing is served outside that.
    let (dir, local) = match &app.host_dir {
        Some(host) if local == path && !reg.base_path.is_empty() => {
            if !crate::config::under(&path, &reg.host_base_path) {
                return plain(StatusCode::NOT_FOUND, "not found");
            }
            (
                host.clone(),
                crate::config::in_host(&path, &reg.host_base_path).to_string(),
            )
        }
        _ => (app.out_dir.clone(), local),
    };
    static_file(
        &app,
        &site,
        &dir,
        &path,
        &local,
        req.uri().query(),
        req.headers(),
    )
    .await
}

fn not_allowed(allow: &'static str) -> Response {
    let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// `/partners/p/x/` -> `/p/x/` when the base path is `/partners`; other paths unchanged.
fn strip_base<'a>(path: &'a str, base: &str) -> &'a str {
    if base.is_empty() {
        return path;
    }
    match path.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Not counted: a known bot, or a visitor who opted out under this site's config.
fn not_counted(reg: &Registry, headers: &HeaderMap) -> bool {
    is_bot(header_str(headers, "user-agent").unwrap_or(""))
        || requests::opted_out(
            reg,
            header_str(headers, "dnt"),
            header_str(headers, "sec-gpc"),
        )
}

fn cookies(reg: &Registry, headers: &HeaderMap) -> cookies::Cookies {
    cookies::parse_cookies(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
        &reg.cookie_prefix,
    )
}

fn refuse(r: Refusal) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    plain(status, r.reason())
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("{text}\n"),
    )
        .into_response()
}

/// Seconds a client is asked to wait before retrying an event that could not be stored.
const RETRY_AFTER_SECS: &str = "5";

/// Write the event; answer only once its batch has committed. A failed write is logged and
/// answered 503 with `Retry-After` (as the Worker does): nothing is acknowledged unless stored.
async fn record(app: &App, accepted: rows::Accepted) -> Result<(), Response> {
    let event = accepted.into_event(rows::new_uuid(), rows::timestamp(chrono::Utc::now()));
    app.store.insert(event).await.map_err(|e| {
        eprintln!("partner-pages serve: write failed: {e}");
        let mut resp = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the event could not be stored, retry later",
        );
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
        resp
    })
}

fn add_cookies(resp: &mut Response, reg: &Registry, headers: &HeaderMap, a: &rows::Accepted) {
    let secure = cookies::secure_for_host(header_str(headers, "host"));
    for c in cookies::set_cookie_values(reg, a, secure) {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

async fn go(
    app: &App,
    reg: &Registry,
    code: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let click = match requests::click(reg, code, query, &cookies(reg, headers), rows::new_uuid) {
        Ok(c) => c,
        Err(r) => return refuse(r),
    };
    let mut resp = (StatusCode::FOUND, [(header::CACHE_CONTROL, "no-store")]).into_response();
    if let Ok(loc) = HeaderValue::from_str(&click.location) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    // HEAD (link checkers, unfurlers) gets the same redirect but is not a click.
    if head || not_counted(reg, headers) {
        return resp;
    }
    // The click is committed before the redirect (a local commit is quick), but a person's
    // navigation is never refused because of the database: a failed write (logged by `record`)
    // still redirects, as the Worker does.
    if record(app, click.event.clone()).await.is_ok() {
        add_cookies(&mut resp, reg, headers, &click.event);
    }
    resp
}

/// The body, or 413 as soon as it is known to be over `limit`, or 408 (and the connection
/// closed) when it has not arrived in full within the body timeout.
async fn read_body(app: &App, req: Request, limit: usize) -> Result<(HeaderMap, Bytes), Response> {
    let (parts, body) = req.into_parts();
    let declared = header_str(&parts.headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(refuse(Refusal::TooLarge));
    }
    match tokio::time::timeout(app.body_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok((parts.headers, bytes)),
        Ok(Err(_)) => Err(refuse(Refusal::TooLarge)),
        Err(_) => {
            let mut resp = plain(StatusCode::REQUEST_TIMEOUT, "request body too slow");
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(resp)
        }
    }
}

async fn beacon(app: &App, reg: &Registry, req: Request) -> Response {
    let (headers, body) = match read_body(app, req, MAX_BEACON_BODY).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let no_content = StatusCode::NO_CONTENT.into_response();
    if not_counted(reg, &headers) {
        return no_content;
    }
    match requests::beacon(reg, &body, &cookies(reg, &headers), rows::new_uuid) {
        Ok(rows::BeaconOutcome::Record(accepted)) => {
            if let Err(e) = record(app, accepted.clone()).await {
                return e;
            }
            let mut resp = no_content;
            add_cookies(&mut resp, reg, &headers, &accepted);
            resp
        }
        Ok(rows::BeaconOutcome::Ignore) => no_content,
        Err(r) => refuse(r),
    }
}

async fn server_event(app: &App, reg: &Registry, req: Request) -> Response {
    let (headers, body) = match read_body(app, req, MAX_SERVER_BODY).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let checked = requests::verify_signature(
        app.secret.as_deref(),
        header_str(&headers, TIMESTAMP_HEADER),
        header_str(&headers, SIGNATURE_HEADER),
        &body,
        chrono::Utc::now().timestamp(),
    )
    .and_then(|()| requests::server_event(reg, &body));
    match checked {
        Ok(a) => match record(app, a).await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => e,
        },
        Err(r) => refuse(r),
    }
}

/// `POST <base>/stripe`: see [`crate::collector::stripe`].
async fn stripe_webhook(app: Arc<App>, reg: &Registry, req: Request) -> Response {
    use crate::collector::stripe;
    let limit = stripe::MAX_STRIPE_BODY;
    let (headers, body) = match read_body(&app, req, limit).await {
        Ok(b) => b,
        Err(resp) if resp.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("body over {limit} bytes: nothing stored"),
            )
        }
        Err(resp) => return resp,
    };
    let Some(rules) = reg.stripe.clone() else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    if app.stripe_secrets.is_empty() {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "no Stripe endpoint secret is configured",
        );
    }
    if let Err(why) = stripe::verify(
        &app.stripe_secrets,
        header_str(&headers, stripe::SIGNATURE_HEADER),
        &body,
        chrono::Utc::now().timestamp(),
    ) {
        return plain(StatusCode::BAD_REQUEST, &format!("{why}: nothing stored"));
    }
    let parsed = match stripe::parse(&body) {
        Ok(p) => p,
        Err(why) => return plain(StatusCode::BAD_REQUEST, &format!("{why}: nothing stored")),
    };
    let worker = app.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut guard = match worker.stripe_db.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if guard.is_none() {
            *guard = Some(crate::collector::store::open_connection(
                worker.store.path(),
            )?);
        }
        let conn = guard.as_mut().expect("opened above");
        let out = stripe::apply(conn, &rules, &parsed, &rows::new_uuid);
        if out.is_err() {
            // A broken connection is opened again on the next delivery.
            *guard = None;
        }
        out
    })
    .await;
    match done {
        Ok(Ok(outcome)) => {
            let text = match outcome {
                stripe::Outcome::Stored(rule) => format!("stored (rule {rule})"),
                stripe::Outcome::Credited(rule) => format!("credited (rule {rule})"),
                stripe::Outcome::Nothing(why) => why,
            };
            plain(StatusCode::OK, &text)
        }
        Ok(Err(e)) => {
            eprintln!("partner-pages serve: Stripe event not stored: {e}");
            let mut resp = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event could not be stored, retry later",
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
            resp
        }
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the webhook handler stopped",
        ),
    }
}

/// What a GET under the output folder resolved to.
enum Found {
    File(PathBuf, Vec<u8>),
    /// A folder asked for without its trailing slash.
    AddSlash,
    Missing,
}

fn resolve(out_dir: &Path, segments: &[String]) -> Found {
    let mut full = out_dir.to_path_buf();
    full.extend(segments);
    let Ok(meta) = std::fs::metadata(&full) else {
        return Found::Missing;
    };
    if meta.is_dir() {
        full.push("index.html");
    }
    // Symlinks are followed only when they stay inside the output folder.
    let inside = match (full.canonicalize(), out_dir.canonicalize()) {
        (Ok(f), Ok(root)) => f.starts_with(root),
        _ => false,
    };
    if !inside {
        return Found::Missing;
    }
    match std::fs::read(&full) {
        Ok(bytes) => Found::File(full, bytes),
        Err(_) => Found::Missing,
    }
}

#[allow(clippy::too_many_arguments)]
async fn static_file(
    app: &App,
    site: &SiteState,
    out_dir: &Path,
    raw_path: &str,
    local: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let Some(segments) = requests::safe_segments(local) else {
        return plain(StatusCode::BAD_REQUEST, "bad path");
    };
    let hidden = segments.iter().any(|s| is_hidden(s));
    let out_dir = out_dir.to_path_buf();
    let wants_dir = local.ends_with('/');
    let segs = segments.clone();
    let found = tokio::task::spawn_blocking(move || {
        if hidden {
            return Found::Missing;
        }
        let mut dir = out_dir.clone();
        dir.extend(&segs);
        if !wants_dir && !segs.is_empty() && dir.is_dir() {
            return Found::AddSlash;
        }
        resolve(&out_dir, &segs)
    })
    .await
    .unwrap_or(Found::Missing);

    let html_wanted = wants_dir
        || segments.last().is_some_and(|s| s.ends_with(".html"))
        || header_str(headers, "accept").is_some_and(|a| a.contains("text/html"));
    if let (Some(diagnostics), true) = (&site.build_error, html_wanted) {
        return html(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_page(diagnostics).into_bytes(),
            app.live_reload,
        );
    }
    match found {
        Found::AddSlash => {
            // One leading slash, whatever the request had: `//p` must not become the
            // scheme-relative `//p/` (another host for a browser).
            let mut loc = format!("/{}/", raw_path.trim_start_matches('/'));
            if let Some(q) = query {
                loc.push('?');
                loc.push_str(q);
            }
            let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(v) = HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Found::File(path, bytes) => {
            let ctype = content_type(&path);
            if ctype.starts_with("text/html") {
                html(StatusCode::OK, bytes, app.live_reload)
            } else {
                (
                    [
                        (header::CONTENT_TYPE, ctype),
                        (header::CACHE_CONTROL, "no-cache"),
                        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    ],
                    bytes,
                )
                    .into_response()
            }
        }
        Found::Missing => {
            let page = app
                .host_dir
                .as_ref()
                .unwrap_or(&app.out_dir)
                .join("404.html");
            match tokio::task::spawn_blocking(move || std::fs::read(page)).await {
                Ok(Ok(bytes)) if html_wanted => html(StatusCode::NOT_FOUND, bytes, app.live_reload),
                _ => plain(StatusCode::NOT_FOUND, "not found"),
            }
        }
    }
}

/// A dotfile or dot-folder (the build's `.partner-pages-manifest`, `.pp-tmp-*` temporaries,
/// `.assetsignore`, an editor's `.swp`): never served, as if absent. `.well-known` is the
/// exception (RFC 8615: `security.txt`, verification files).
fn is_hidden(segment: &str) -> bool {
    segment.starts_with('.') && segment != ".well-known"
}

/// An HTML response; with live reload on, the reload script goes before `</body>`.
fn html(status: StatusCode, mut bytes: Vec<u8>, live_reload: bool) -> Response {
    if live_reload {
        bytes = inject_reload(bytes);
    }
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Body::from(bytes),
    )
        .into_response()
}

fn inject_reload(bytes: Vec<u8>) -> Vec<u8> {
    let script = format!("<script>{RELOAD_JS}</script>");
    let mut bytes = allow_in_csp(bytes);
    let at = bytes
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(bytes.len());
    bytes.splice(at..at, script.into_bytes());
    bytes
}

/// Pages carry a CSP `<meta>` that allows only their own scripts by hash; add the reload
/// script's hash to it, in the served copy only.
fn allow_in_csp(bytes: Vec<u8>) -> Vec<u8> {
    let mut text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return e.into_bytes(),
    };
    let hash = crate::render::beacon::csp_sha256(RELOAD_JS);
    let Some(meta) = text.find("http-equiv=\"Content-Security-Policy\"") else {
        return text.into_bytes();
    };
    let tag_end = text[meta..].find('>').map_or(text.len(), |i| meta + i);
    let tag = &text[meta..tag_end];
    if let Some(i) = tag.find("script-src") {
        text.insert_str(meta + i + "script-src".len(), &format!(" {hash}"));
    } else if let Some(i) = tag.find("content=\"") {
        text.insert_str(
            meta + i + "content=\"".len(),
            &format!("script-src {hash}; "),
        );
    }
    text.into_bytes()
}

/// The page shown instead of a stale one while the build is broken.
pub fn error_page(diagnostics: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed - partner-pages serve</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem;color:#1a1a1a}}pre{{background:#fff4f4;border-left:4px solid #c00;padding:1rem;overflow:auto;font:14px/1.4 ui-monospace,monospace}}</style></head>\
         <body><h1>Build failed</h1><p>Fix the problem below and save: this page reloads by itself.</p><pre>{}</pre></body></html>\n",
        escape_html(diagnostics)
    )
}

/// Content type by extension; unknown files are served as bytes.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests;
