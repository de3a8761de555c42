//! Collector stage: the Cloudflare Worker we generate, and the local collector of `serve`.
//!
//! Both implement the same API (DESIGN.md section 3); this module holds the rules they share.
//!
//! ## Wire protocol (the contract between beacon, Worker and `serve`)
//!
//! - `GET /go/<code>?campaign=<c>`: unknown code -> 404, nothing written. Unknown campaign ->
//!   `default`. Writes a `click` row (page_path `/go/<code>`), sets cookies
//!   `<prefix>_vid` (random visitor id, a UUID v4 unless already set) and
//!   `<prefix>_src` (`<code>.<campaign>`), both `Path=/; HttpOnly; Secure; SameSite=Lax;
//!   Max-Age=<window days * 86400>` (`Secure` dropped on http://localhost), then
//!   `302 Location: <base_path>/p/<code>/?campaign=<c>` (campaign omitted when `default`).
//!   A known bot user agent gets the redirect but no row and no cookie.
//! - `POST /e` (beacon; `Content-Type: text/plain`, body at most [`MAX_BEACON_BODY`] bytes):
//!   JSON `{"e": stage, "p": code?, "c": campaign?, "u": page path}`. `e` is one of
//!   `visit`, `lead_magnet`, `cta`, `activation` (activation only when the partner's trigger is
//!   `page` or `click`). The partner is `p`, else the `<prefix>_src` cookie; none or unknown
//!   -> 400. The campaign is `c`, else the cookie's, else `default`; unknown -> `default`. The
//!   visitor id is the `<prefix>_vid` cookie, set (with `<prefix>_src`) when missing. `u` must be
//!   a path starting with `/`, at most 512 bytes. Answers 204; malformed -> 400; too big -> 413;
//!   known bot UA -> 204 with nothing written.
//! - `POST /s` (server-to-server; body at most [`MAX_SERVER_BODY`] bytes): JSON
//!   `{"event": "activation"|"revenue", "partner": code, "campaign": c?, "visitor_id": id,
//!   "user_id": opaque?, "value": number?, "page_path": path?}` with headers
//!   `X-PP-Timestamp: <unix seconds>` and `X-PP-Signature: <hex HMAC-SHA256(secret,
//!   "<timestamp>.<body>")>`. The secret is `PP_SIGNING_SECRET` (a wrangler secret; an env var
//!   or `--secret-file` for `serve`). Missing/bad signature -> 401; timestamp more than
//!   [`SIGNATURE_WINDOW_SECS`] away from now -> 401 (replay); no secret configured -> 503.
//!   Answers 204.
//! - Every row: `id` a random UUID, `created_at` UTC ISO-8601 with milliseconds and `Z`.
//!   All SQL uses bound parameters.

/// Largest accepted beacon body.
pub const MAX_BEACON_BODY: usize = 1024;
/// Largest accepted server-to-server body.
pub const MAX_SERVER_BODY: usize = 4096;
/// Largest accepted `page_path`.
pub const MAX_PAGE_PATH: usize = 512;
/// How far a signed `/s` timestamp may be from now, either way.
pub const SIGNATURE_WINDOW_SECS: i64 = 300;
/// Header names of the `/s` signature.
pub const TIMESTAMP_HEADER: &str = "x-pp-timestamp";
pub const SIGNATURE_HEADER: &str = "x-pp-signature";
/// Environment variable / wrangler secret holding the `/s` signing secret.
pub const SECRET_ENV: &str = "PP_SIGNING_SECRET";

pub mod worker;

/// Substrings of user agents we do not count (lower-case match). The Worker gets the same list.
pub const BOT_UA_MARKERS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "headlesschrome",
    "lighthouse",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "facebookexternalhit",
    "preview",
    "httpclient",
    "okhttp",
    "axios/",
    "node-fetch",
    "scrapy",
    "ahrefs",
    "semrush",
];

/// Is this user agent a known bot? An empty user agent counts as a bot.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    ua.trim().is_empty() || BOT_UA_MARKERS.iter().any(|m| ua.contains(m))
}
