//! Collector stage: the Cloudflare Worker we generate, and the local collector of `serve`.
//!
//! Both implement the same API; this module holds the rules they share.
//!
//! ## Wire protocol (the contract between beacon, Worker and `serve`)
//!
//! Paths below are relative to the site's base path (`/go/x` is `<base_path>/go/x`); the beacon
//! endpoint is `collector.endpoint` exactly as configured (default `/e`). "Not counted" means:
//! the user agent is a known bot ([`is_bot`]), or `privacy.honor_dnt` and header `DNT: 1`, or
//! `privacy.honor_gpc` and header `Sec-GPC: 1`. A request that is not counted gets its normal
//! answer but writes no row and sets no cookie.
//!
//! - `GET /go/<code>?campaign=<c>`: unknown code -> 404, nothing written. Unknown campaign ->
//!   `default`. Writes a `click` row (page_path `<base_path>/go/<code>`), sets cookies
//!   `<prefix>_vid` (random visitor id, a UUID v4 unless a valid one is already set: valid is
//!   exactly the format the collectors issue, a lower-case UUID v4, [`requests::valid_page_id`];
//!   any other value is ignored as if absent) and `<prefix>_src` (`<code>.<campaign>`, the campaign
//!   URI-component-encoded; always overwritten by a click), both `Path=/; HttpOnly; Secure;
//!   SameSite=Lax; Max-Age=<window days * 86400>` (`Secure` dropped on plain http to
//!   localhost / 127.0.0.1 / `[::1]`), then `302 Location: <base_path>/p/<code>/?campaign=<c>`
//!   (campaign omitted when `default`; only ever the registered landing page) with
//!   `Cache-Control: no-store`. Not counted, or `HEAD` -> the same redirect, no row, no
//!   cookie. Other methods -> 405.
//! - `POST /e` (beacon; `Content-Type: text/plain`, body at most [`MAX_BEACON_BODY`] bytes):
//!   JSON object `{"e": stage, "p": code?, "c": campaign?, "u": page path, "n": name?,
//!   "v": page id?}`. Checked in this order: too big -> 413; not counted -> 204; not a JSON
//!   object (or nested deeper than [`MAX_JSON_DEPTH`]), `u` not a string starting with `/` or
//!   over [`MAX_PAGE_PATH`] bytes, `p`/`c`/`n`
//!   present but not strings, `v` present but not a lower-case UUID v4
//!   ([`requests::valid_page_id`]) -> 400; `e` not one of `visit`, `lead_magnet`, `cta`, `activation` -> 400. The
//!   partner is `p`, else the `<prefix>_src` cookie's code; none or unknown -> 400. The
//!   campaign is `c`, else the cookie's campaign when the cookie names the same partner, else
//!   `default`; unknown -> `default`. `activation` is written only when it matches the
//!   partner's trigger: `page` trigger and no `n` and `u` equal to the trigger page (both
//!   compared without a trailing `/`, so `/pricing/` matches `/pricing`), or `click` trigger and
//!   `n` equal to its name; otherwise 204 and nothing written (a beacon on a shared host page
//!   cannot know the visitor's partner). The visitor id is a valid `<prefix>_vid` cookie (the
//!   cookie always wins), else `v`, else a new one; without the cookie, `<prefix>_vid` (to that
//!   id) and (when missing) `<prefix>_src` are set as above. So on a direct visit (no `/go/`,
//!   no cookie yet) every event of the page, even one sent before the first answer set the
//!   cookie, gets the same visitor id.
//!   page_path = `u`. Answers 204. Other methods -> 405.
//! - `POST /s` (server-to-server; body at most [`MAX_SERVER_BODY`] bytes): JSON
//!   `{"event": "activation"|"revenue", "partner": code, "campaign": c?, "visitor_id": id,
//!   "user_id": opaque?, "value": number?, "page_path": path?}` with headers
//!   `X-PP-Timestamp: <unix seconds>` and `X-PP-Signature: <hex HMAC-SHA256(secret,
//!   "<timestamp>.<body>")>` over the exact body bytes. The secret is `PP_SIGNING_SECRET` (a
//!   wrangler secret; an env var or `--secret-file` for `serve`). Checked in this order: too big
//!   -> 413; no secret configured -> 503; missing/malformed/bad signature -> 401; timestamp
//!   more than [`SIGNATURE_WINDOW_SECS`] away from now -> 401 (replay); then 400 for: not a JSON
//!   object (or nested deeper than [`MAX_JSON_DEPTH`]), unknown `event`, unknown `partner`, `visitor_id` not a string of 1..=128 bytes,
//!   `user_id` not a string of at most 256 bytes, `value` not a finite number, `revenue`
//!   without `value`, `page_path` not a path (as `u` above). Unknown campaign -> `default`;
//!   page_path defaults to `/s`. Not subject to the bot / DNT / GPC rules (it is signed, and
//!   backends use curl-like agents). Writes `value` and `user_id` too (migration 0002); `/go`
//!   and `/e` rows write only the original seven columns. Answers 204. Other methods -> 405.
//! - Experiments (partners with `variants:`): `GET /p/<code>/` (or `.../index.html`) answers
//!   the visitor's variant's page under that URL, `Cache-Control: private, no-store`. The
//!   variant is kept in the cookie `<prefix>_x_<code>` = `<variant>.<hex HMAC-SHA256(key,
//!   "variant/<code>/<visitor id>/<variant>")>` (attributes as above), the key being
//!   [`VARIANT_SECRET_ENV`]. A cookie whose signature is this visitor's and partner's (64
//!   lower-case hex digits, checked in constant time) naming a declared variant is kept and its
//!   variant recorded. Without a variant cookie, the variant is drawn: the first 4 bytes
//!   (big-endian) of HMAC-SHA256(key, `bucket/<code>/<visitor id>`) / 2^32, times the weights'
//!   sum, walked through the weights; it is recorded and its signed cookie set. Any other
//!   variant cookie (forged, unsigned, another visitor's) is shown a freshly drawn variant and
//!   gets its signed cookie, but the event records no variant (NULL). `/go/` and `/e` apply the
//!   same rules to their row; `/s` records the drawn variant. Without the key no variant is
//!   drawn, shown or recorded (the Worker logs it; `serve` makes a key per process).
//! - `POST /stripe` (only with `stripe:` in the config): Stripe's webhooks, verified with the
//!   `Stripe-Signature` scheme and stored as `payment` / `refund` rows with the payment columns
//!   (migration 0004); `GET /stripe` answers `{"visitor_id": ...}` from the visitor cookie, for
//!   Checkout's `client_reference_id`. The rules are in [`stripe`].
//! - Storage: `/e` and `/s` answer 204 only once the row is written (`serve`: its SQLite commit;
//!   the Worker: the D1 `INSERT`); a failed write -> 503 with `Retry-After: 5`, no row, logged.
//!   `/go/` never depends on the write: the Worker redirects first and writes the click in
//!   `ctx.waitUntil`; `serve` commits it first; a failed click write (logged) still redirects,
//!   without cookies in `serve`.
//! - Every row: `id` a random UUID, `created_at` UTC ISO-8601 with milliseconds and `Z`.
//!   All SQL uses bound parameters; values are stored verbatim.
//! - Beacon (`crate::render::beacon`): sends `visit` on load only on pages whose script tag
//!   carries `data-partner` (landing pages); `lead_magnet` / `cta` on clicks of
//!   `[data-pp]` elements; `{"e":"activation","u":path}` on load when the path is a `page:`
//!   trigger; `{"e":"activation","n":name,...}` on clicks of `[data-pp-click=name]` for `click:`
//!   trigger names. `p` is the script's `data-partner`, `c` the page's `?campaign=`, `v` a
//!   page id made once per page load with `crypto.randomUUID()` (omitted where the browser
//!   has none, e.g. a plain-http page outside localhost).

/// Largest accepted beacon body.
pub const MAX_BEACON_BODY: usize = 1024;
/// Largest accepted server-to-server body.
pub const MAX_SERVER_BODY: usize = 4096;
/// Largest accepted `page_path`.
pub const MAX_PAGE_PATH: usize = 512;
/// Deepest nesting of arrays and objects in a `/e` or `/s` body (the bodies we define are flat
/// objects, depth 1). Both collectors count it on the raw bytes, before parsing, the same way
/// ([`requests::json_depth`]); deeper -> 400.
pub const MAX_JSON_DEPTH: usize = 16;
/// How far a signed `/s` timestamp may be from now, either way.
pub const SIGNATURE_WINDOW_SECS: i64 = 300;
/// Header names of the `/s` signature.
pub const TIMESTAMP_HEADER: &str = "x-pp-timestamp";
/// Header carrying the HMAC-SHA256 signature of a server-side (`/s`) request.
pub const SIGNATURE_HEADER: &str = "x-pp-signature";
/// Environment variable / wrangler secret holding the `/s` signing secret.
pub const SECRET_ENV: &str = "PP_SIGNING_SECRET";
/// Environment variable / wrangler secret holding the key experiment variants are drawn and
/// their cookies signed with (never built into any file: builds stay byte-identical).
pub const VARIANT_SECRET_ENV: &str = "PP_VARIANT_SECRET";

pub(crate) mod worker;

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

// The local collector of `serve`: the registry, the protocol checks of requests, cookies and
// variant assignment, rows, the SQLite writer and the HTTP server.
pub mod cookies;
pub mod registry;
pub mod requests;
pub mod rows;
pub mod server;
pub mod store;
pub mod stripe;
