//! Collector stage, request rules of the local collector: pure functions, no I/O.
//!
//! Takes: the partner registry (from a loaded [`Site`]) and the parts of a request (body bytes,
//! headers, the path). Gives: an event ready to store, or a [`Refusal`] with its HTTP status.
//! The wire protocol these rules implement is written in [`crate::collector`]; the Worker
//! implements the same rules in JavaScript.

use crate::collector::{
    MAX_BEACON_BODY, MAX_JSON_DEPTH, MAX_PAGE_PATH, MAX_SERVER_BODY, SIGNATURE_WINDOW_SECS,
};
use crate::model::event::Event;
use crate::partner::DEFAULT_CAMPAIGN;
use crate::site::Site;
use crate::stage::REVENUE;
use std::collections::{BTreeMap, BTreeSet};

/// Longest accepted `/s` `visitor_id` (bytes). Cookie ids are stricter, see [`parse_cookies`].
pub const MAX_SERVER_VISITOR_ID: usize = 128;
/// Longest accepted `/s` `user_id`.
pub const MAX_USER_ID: usize = 256;

/// What the collector needs to know about the site, compiled from the partner registry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    /// Partners by code.
    pub partners: BTreeMap<String, PartnerRule>,
    /// Path part of `base_url`, "" or "/partners".
    pub base_path: String,
    /// `collector.endpoint`, the beacon's URL as seen from pages (default `/e`).
    pub endpoint: String,
    /// Cookie names are `<prefix>_vid` and `<prefix>_src`.
    pub cookie_prefix: String,
    /// Cookies' Max-Age: the attribution window in seconds.
    pub max_age_secs: u64,
    /// Record nothing for requests with `DNT: 1` (`privacy.honor_dnt`).
    pub honor_dnt: bool,
    /// Record nothing for requests with `Sec-GPC: 1` (`privacy.honor_gpc`).
    pub honor_gpc: bool,
    /// The key variant assignments are drawn and signed with ([`crate::collector::VARIANT_SECRET_ENV`]);
    /// without it no partner's test runs (no variant is assigned or recorded).
    pub variant_secret: Option<Vec<u8>>,
    /// The Stripe webhook's rules; `None` without `stripe:` in the config (404).
    pub stripe: Option<crate::collector::stripe::Rules>,
}

/// One partner, as far as the collector cares.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRule {
    /// Every allowed campaign, `default` included.
    pub campaigns: BTreeSet<String>,
    /// Site path of the landing page, without the base path (`/p/<code>/`).
    pub landing: String,
    /// `page:` activation trigger.
    pub page: Option<String>,
    /// `click:` activation trigger name.
    pub click: Option<String>,
    /// The experiment's variants and weights, the control first; empty without a test.
    pub variants: Vec<(String, f64)>,
}

impl Registry {
    /// Compile the collector's rules from a loaded site.
    pub fn from_site(site: &Site) -> Registry {
        let c = &site.config;
        Registry {
            partners: site
                .partners
                .iter()
                .map(|p| {
                    let rule = PartnerRule {
                        campaigns: p.all_campaigns().into_iter().map(String::from).collect(),
                        landing: p.landing_path(),
                        page: p.activation.trigger.page.clone(),
                        click: p.activation.trigger.click.clone(),
                        variants: p.variant_weights(),
                    };
                    (p.code.clone(), rule)
                })
                .collect(),
            base_path: c.base_path().to_string(),
            endpoint: c.collector.endpoint.clone(),
            cookie_prefix: c.attribution.cookie_prefix.clone(),
            max_age_secs: u64::from(c.attribution.window_days) * 86_400,
            honor_dnt: c.privacy.honor_dnt,
            honor_gpc: c.privacy.honor_gpc,
            variant_secret: None,
            stripe: crate::collector::stripe::Rules::from_site(site),
        }
    }

    /// The same registry, drawing and signing variant assignments with `secret`.
    pub fn with_variant_secret(mut self, secret: Option<Vec<u8>>) -> Registry {
        self.variant_secret = secret;
        self
    }

    /// The registered campaign, or `default` for an unknown or missing one.
    fn campaign(&self, partner: &str, wanted: Option<&str>) -> String {
        match (self.partners.get(partner), wanted) {
            (Some(rule), Some(c)) if rule.campaigns.contains(c) => c.to_string(),
            _ => DEFAULT_CAMPAIGN.to_string(),
        }
    }
}

/// Why a request is refused. Nothing is written for any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed body, unknown partner or stage (400).
    BadRequest(String),
    /// `GET /go/<code>` with an unknown code, or a path outside the site (404).
    NotFound,
    /// Body over the limit (413).
    TooLarge,
    /// Missing, bad or stale signature on `/s` (401).
    Unauthorized(String),
    /// `/s` without a configured secret (503).
    NoSecret,
}

impl Refusal {
    /// The HTTP status the refusal answers with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::NotFound => 404,
            Refusal::TooLarge => 413,
            Refusal::Unauthorized(_) => 401,
            Refusal::NoSecret => 503,
        }
    }

    /// A one-line reason for the response body (never echoes the request).
    pub fn reason(&self) -> &str {
        match self {
            Refusal::BadRequest(r) | Refusal::Unauthorized(r) => r,
            Refusal::NotFound => "not found",
            Refusal::TooLarge => "body too large",
            Refusal::NoSecret => "server-side events are disabled: no signing secret configured",
        }
    }
}

fn bad(reason: impl Into<String>) -> Refusal {
    Refusal::BadRequest(reason.into())
}

/// An event that passed the rules; [`Accepted::into_event`] stamps its id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The partner's code.
    pub partner: String,
    /// The campaign (`default` when none or an undeclared one was given).
    pub campaign: String,
    /// The stage the event records (`click`, `visit`, `lead_magnet`, `cta`, `activation`, `revenue`).
    pub stage: String,
    /// The page the event happened on (site path).
    pub page_path: String,
    /// The visitor id: the cookie's, or a new one.
    pub visitor_id: String,
    /// Cookies to set on the response.
    pub set: SetCookies,
    /// Revenue value (`revenue` events from `/s` only).
    pub value: Option<f64>,
    /// The product's opaque user id (`/s` events only).
    pub user_id: Option<String>,
    /// The experiment variant recorded with the event: the signed cookie's, or a fresh
    /// assignment; `None` for a partner without a test, and for a forged variant cookie.
    pub variant: Option<String>,
    /// The value of a variant cookie (`<prefix>_x_<code>`) to set: a fresh signed assignment.
    pub variant_cookie: Option<String>,
}

/// Which attribution cookies a response sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetCookies {
    /// Set the visitor id cookie (`<prefix>_vid`).
    pub vid: bool,
    /// Set the first-touch source cookie (`<prefix>_src`).
    pub src: bool,
}

impl Accepted {
    /// The stored row: this event with its id and creation time.
    pub fn into_event(self, id: String, created_at: String) -> Event {
        Event {
            id,
            partner_code: self.partner,
            campaign: self.campaign,
            event_name: self.stage,
            page_path: self.page_path,
            visitor_id: Some(self.visitor_id),
            created_at,
            value: self.value,
            user_id: self.user_id,
            variant: self.variant,
            pay: Default::default(),
        }
    }
}

/// What the beacon route does with a valid request.
#[derive(Debug, Clone, PartialEq)]
// One per request, moved once: boxing the row would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum BeaconOutcome {
    /// Record this event.
    Record(Accepted),
    /// Valid, but not this partner's activation (e.g. a host page's beacon): 204, no row.
    Ignore,
}

/// The attribution cookies a request carried (only well-formed values are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookies {
    /// A valid `<prefix>_vid` ([`valid_cookie_visitor_id`]).
    pub visitor_id: Option<String>,
    /// `(partner, campaign)` from `<prefix>_src` (`<code>.<campaign URI-encoded>`).
    pub source: Option<(String, String)>,
    /// Experiment assignments from `<prefix>_x_<code>` cookies: code -> variant id (checked
    /// against the registry when used).
    pub variants: BTreeMap<String, String>,
}

/// Read our two cookies from the `Cookie` header values; the first cookie of a name wins.
pub fn parse_cookies<'a>(headers: impl IntoIterator<Item = &'a str>, prefix: &str) -> Cookies {
    let vid_name = format!("{prefix}_vid");
    let src_name = format!("{prefix}_src");
    let (mut vid, mut src) = (None, None);
    let variant_prefix = format!("{prefix}_x_");
    let mut variants = BTreeMap::new();
    for header in headers {
        for pair in header.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name == vid_name && vid.is_none() {
                vid = Some(value);
            } else if name == src_name && src.is_none() {
                src = Some(value);
            } else if let Some(code) = name.strip_prefix(&variant_prefix) {
                variants
                    .entry(code.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
    }
    Cookies {
        visitor_id: vid.filter(|v| valid_cookie_visitor_id(v)).map(String::from),
        source: src.and_then(|v| {
            let (code, campaign) = v.split_once('.')?;
            if code.is_empty() {
                return None;
            }
            let campaign = String::from_utf8(percent_decode(campaign)?).ok()?;
            Some((code.to_string(), campaign))
        }),
        variants,
    }
}

/// HMAC-SHA256 of `message` under `secret`.
fn hmac_sha256(secret: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return [0; 32];
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Where a visitor falls in `[0, 1)` for partner `code`: the first four bytes (big-endian) of
/// HMAC-SHA256(secret, `bucket/<code>/<visitor id>`), divided by 2^32. Keyed, so a client
/// cannot pick a visitor id that lands in the variant it wants. The Worker computes the same
/// (`bucket` in `worker.js`).
pub fn bucket(secret: &[u8], code: &str, visitor_id: &str) -> f64 {
    let mac = hmac_sha256(secret, format!("bucket/{code}/{visitor_id}").as_bytes());
    f64::from(u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]])) / 4_294_967_296.0
}

/// The variant a visitor without a valid variant cookie gets: drawn from the keyed
/// [`bucket`] of its visitor id, in proportion to the weights (the same arithmetic as `pick`
/// in `worker.js`).
pub fn deterministic_variant<'a>(
    variants: &'a [(String, f64)],
    secret: &[u8],
    code: &str,
    visitor_id: &str,
) -> Option<&'a str> {
    let total: f64 = variants.iter().map(|(_, w)| w).sum();
    let mut t = bucket(secret, code, visitor_id) * total;
    for (id, w) in variants {
        if t < *w {
            return Some(id);
        }
        t -= w;
    }
    variants.last().map(|(id, _)| id.as_str())
}

/// The value of the variant cookie: `<variant>.<hex HMAC-SHA256(secret,
/// "variant/<code>/<visitor id>/<variant>")>`, binding the variant to this visitor and partner.
pub fn signed_variant(secret: &[u8], code: &str, visitor_id: &str, variant: &str) -> String {
    let mac = hmac_sha256(
        secret,
        format!("variant/{code}/{visitor_id}/{variant}").as_bytes(),
    );
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("{variant}.{hex}")
}

/// The variant a cookie value names, when its signature is this visitor's and partner's
/// under `secret` (64 lower-case hex digits, compared in constant time) and the variant is
/// declared; else `None` (forged, unsigned, another visitor's, or a variant since removed).
pub fn verified_variant<'a>(
    variants: &'a [(String, f64)],
    secret: &[u8],
    code: &str,
    visitor_id: &str,
    value: &str,
) -> Option<&'a str> {
    use hmac::{Hmac, Mac};
    let (id, hex) = value.rsplit_once('.')?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let sig = hex_decode(hex)?;
    let (declared, _) = variants.iter().find(|(v, _)| v == id)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).ok()?;
    mac.update(format!("variant/{code}/{visitor_id}/{id}").as_bytes());
    mac.verify_slice(&sig).ok()?;
    Some(declared)
}

/// A visitor's variant for one partner's test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The variant shown to the visitor.
    pub shown: String,
    /// The variant recorded with the visitor's events: `None` when the request carried a
    /// forged or unsigned variant cookie (the visitor chose nothing we can trust).
    pub recorded: Option<String>,
    /// The signed cookie value to set (a fresh assignment), or `None` to keep the cookie.
    pub cookie: Option<String>,
}

/// The variant of `visitor_id` for partner `code`: a variant cookie signed for this visitor
/// and partner is kept; without one, a fresh assignment is drawn, recorded and signed; a
/// forged or unsigned cookie gets a fresh signed assignment too, but its event records no
/// variant. `None` for a partner without variants, or when no variant secret is set.
pub fn assign_variant(
    reg: &Registry,
    code: &str,
    cookies: &Cookies,
    visitor_id: &str,
) -> Option<Assignment> {
    let rule = reg.partners.get(code)?;
    let secret = reg.variant_secret.as_deref()?;
    let held = cookies.variants.get(code);
    if let Some(value) = held {
        if let Some(id) = verified_variant(&rule.variants, secret, code, visitor_id, value) {
            return Some(Assignment {
                shown: id.to_string(),
                recorded: Some(id.to_string()),
                cookie: None,
            });
        }
    }
    let fresh = deterministic_variant(&rule.variants, secret, code, visitor_id)?;
    Some(Assignment {
        shown: fresh.to_string(),
        recorded: held.is_none().then(|| fresh.to_string()),
        cookie: Some(signed_variant(secret, code, visitor_id, fresh)),
    })
}

/// A request for a landing page of a partner running a test: which file to serve (relative to
/// the output folder) and the cookies to set. `rest` is the path without the base path.
#[derive(Debug, Clone, PartialEq)]
pub struct LandingView {
    /// The partner's code.
    pub partner: String,
    /// The variant shown: the cookie's, or a new assignment.
    pub variant: String,
    /// `p/<code>/v/<id>/index.html`, or `p/<code>/index.html` for the control.
    pub file: String,
    /// The visitor id (the cookie's, or a new one).
    pub visitor_id: String,
    /// Set the visitor cookie (a first view without one).
    pub set_vid: bool,
    /// The signed variant cookie value to set (`<prefix>_x_<code>`), for a fresh assignment.
    pub variant_cookie: Option<String>,
}

/// The variant view of `/p/<code>/` (or `/p/<code>/index.html`) for a partner with variants;
/// `None` for any other path. The visitor id is the cookie's, else a new one.
pub fn landing_view(
    reg: &Registry,
    rest: &str,
    cookies: &Cookies,
    new_visitor_id: impl FnOnce() -> String,
) -> Option<LandingView> {
    let page = rest.strip_suffix("index.html").unwrap_or(rest);
    let code = page.strip_prefix("/p/")?.strip_suffix('/')?;
    let rule = reg.partners.get(code)?;
    if rule.variants.is_empty() {
        return None;
    }
    let (visitor_id, set_vid) = match &cookies.visitor_id {
        Some(v) => (v.clone(), false),
        None => (new_visitor_id(), true),
    };
    let assigned = assign_variant(reg, code, cookies, &visitor_id)?;
    let variant = assigned.shown;
    let control = rule.variants.first().map(|(id, _)| id.as_str()) == Some(variant.as_str());
    let file = if control {
        format!("p/{code}/index.html")
    } else {
        crate::render::pages::variant_file(code, &variant)
    };
    Some(LandingView {
        partner: code.to_string(),
        variant,
        file,
        visitor_id,
        set_vid,
        variant_cookie: assigned.cookie,
    })
}

/// The `Set-Cookie` header of a variant assignment; `value` is its signed value
/// ([`signed_variant`]).
pub fn variant_cookie(reg: &Registry, code: &str, value: &str, secure: bool) -> String {
    format!(
        "{}_x_{code}={value}; Path=/; HttpOnly;{} SameSite=Lax; Max-Age={}",
        reg.cookie_prefix,
        if secure { " Secure;" } else { "" },
        reg.max_age_secs
    )
}

/// A visitor id we accept from a cookie: exactly the format the collectors issue, a lower-case
/// UUID v4 ([`valid_page_id`]); anything else is ignored and a new id is issued.
pub fn valid_cookie_visitor_id(id: &str) -> bool {
    valid_page_id(id)
}

/// A beacon page id (`v`) we adopt as the visitor id: exactly what `crypto.randomUUID()`
/// gives, a lower-case UUID v4 (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`).
pub fn valid_page_id(id: &str) -> bool {
    let b = id.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => *c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => hex(c),
        })
}

/// Does the request opt out (Do-Not-Track / Global Privacy Control) under this site's config?
pub fn opted_out(reg: &Registry, dnt: Option<&str>, gpc: Option<&str>) -> bool {
    (reg.honor_dnt && dnt == Some("1")) || (reg.honor_gpc && gpc == Some("1"))
}

/// Path after the base path, for the collector routes: `/partners/go/x` -> `/go/x` when the
/// base path is `/partners`; a path outside the base path is returned as is.
pub fn route_path<'a>(reg: &Registry, path: &'a str) -> &'a str {
    if reg.base_path.is_empty() {
        return path;
    }
    match path.strip_prefix(reg.base_path.as_str()) {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// A `GET /go/<code>` that passed: the click to record and where to send the visitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    /// The click row to record.
    pub event: Accepted,
    /// `Location` of the 302: `<base_path>/p/<code>/?campaign=<c>` (no query for `default`).
    pub location: String,
}

/// Rules of `GET /go/<code>?campaign=`: a registered code, the campaign mapped to a known one.
/// `code` is the path after `/go/` (one trailing slash allowed).
pub fn click(
    reg: &Registry,
    code: &str,
    query: Option<&str>,
    cookies: &Cookies,
    new_visitor_id: impl FnOnce() -> String,
) -> Result<Click, Refusal> {
    let code = code.strip_suffix('/').unwrap_or(code);
    let Some(rule) = reg.partners.get(code) else {
        return Err(Refusal::NotFound);
    };
    let wanted = query.and_then(|q| query_param(q, "campaign"));
    let campaign = reg.campaign(code, wanted.as_deref());
    let mut location = format!("{}{}", reg.base_path, rule.landing);
    if campaign != DEFAULT_CAMPAIGN {
        location.push_str("?campaign=");
        location.push_str(&encode_uri_component(&campaign));
    }
    let visitor_id = cookies.visitor_id.clone().unwrap_or_else(new_visitor_id);
    let (variant, variant_cookie) = match assign_variant(reg, code, cookies, &visitor_id) {
        Some(a) => (a.recorded, a.cookie),
        None => (None, None),
    };
    Ok(Click {
        event: Accepted {
            partner: code.to_string(),
            campaign,
            stage: "click".into(),
            page_path: format!("{}/go/{code}", reg.base_path),
            visitor_id,
            // A click (re)writes both: it is the partner's link, and the visitor id keeps
            // its value with a fresh Max-Age.
            set: SetCookies {
                vid: true,
                src: true,
            },
            value: None,
            user_id: None,
            variant,
            variant_cookie,
        },
        location,
    })
}

type Json = serde_json::Map<String, serde_json::Value>;

/// The deepest nesting of `[`/`{` in `body`, counted on the bytes outside JSON strings (the
/// Worker counts the same way, so both refuse the same bodies before parsing them).
pub fn json_depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn json_object(body: &[u8]) -> Result<Json, Refusal> {
    if json_depth(body) > MAX_JSON_DEPTH {
        return Err(bad(format!(
            "body nested more than {MAX_JSON_DEPTH} levels deep"
        )));
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(o)) => Ok(o),
        _ => Err(bad("body must be a JSON object")),
    }
}

/// An optional string field: absent -> None, a string -> Some, anything else (null too) -> 400.
fn opt_str<'a>(msg: &'a Json, key: &str) -> Result<Option<&'a str>, Refusal> {
    match msg.get(key) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

/// Like [`opt_str`], but `null` counts as absent (the `/s` body, written by backends).
fn nullable_str<'a>(msg: &'a Json, key: &str) -> Result<Option<&'a str>, Refusal> {
    match msg.get(key) {
        Some(serde_json::Value::Null) => Ok(None),
        _ => opt_str(msg, key),
    }
}

fn is_path(u: &str) -> bool {
    u.starts_with('/') && u.len() <= MAX_PAGE_PATH
}

fn trim_slash(p: &str) -> &str {
    if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    }
}

/// Rules of `POST /e`, after the size limit and the bot / DNT / GPC check.
pub fn beacon(
    reg: &Registry,
    body: &[u8],
    cookies: &Cookies,
    new_visitor_id: impl FnOnce() -> String,
) -> Result<BeaconOutcome, Refusal> {
    if body.len() > MAX_BEACON_BODY {
        return Err(Refusal::TooLarge);
    }
    let msg = json_object(body)?;
    let u = match msg.get("u") {
        Some(serde_json::Value::String(u)) if is_path(u) => u.as_str(),
        _ => {
            return Err(bad(format!(
                "u must be a path starting with / of at most {MAX_PAGE_PATH} bytes"
            )))
        }
    };
    let (p, c, n) = (
        opt_str(&msg, "p")?,
        opt_str(&msg, "c")?,
        opt_str(&msg, "n")?,
    );
    let page_id = match opt_str(&msg, "v")? {
        Some(v) if !valid_page_id(v) => {
            return Err(bad("v must be a lower-case UUID v4 (the beacon's page id)"))
        }
        v => v,
    };
    let stage = match msg.get("e").and_then(|e| e.as_str()) {
        Some(e @ ("visit" | "lead_magnet" | "cta" | "activation")) => e,
        _ => return Err(bad("unknown stage")),
    };
    let src = cookies.source.as_ref();
    let code = p
        .filter(|p| !p.is_empty())
        .or(src.map(|(code, _)| code.as_str()));
    let Some((code, rule)) = code.and_then(|c| reg.partners.get_key_value(c)) else {
        return Err(bad("unknown partner"));
    };
    // The cookie's campaign belongs to the cookie's partner only.
    let wanted = c
        .filter(|c| !c.is_empty())
        .or(src.filter(|(p, _)| p == code).map(|(_, c)| c.as_str()));
    let campaign = reg.campaign(code, wanted);
    if stage == "activation" {
        let matches = match (&rule.page, &rule.click, n) {
            (Some(page), _, None) => trim_slash(u) == trim_slash(page),
            (_, Some(name), Some(n)) => n == name,
            _ => false,
        };
        if !matches {
            return Ok(BeaconOutcome::Ignore);
        }
    }
    // The cookie wins; without one, the page's id (so every event of a direct visit sent
    // before the first answer set the cookie gets the same visitor), else a new id.
    let (visitor_id, set) = match &cookies.visitor_id {
        Some(v) => (v.clone(), SetCookies::default()),
        None => (
            page_id.map_or_else(new_visitor_id, String::from),
            SetCookies {
                vid: true,
                src: src.is_none(),
            },
        ),
    };
    let (variant, variant_cookie) = match assign_variant(reg, code, cookies, &visitor_id) {
        Some(a) => (a.recorded, a.cookie),
        None => (None, None),
    };
    Ok(BeaconOutcome::Record(Accepted {
        partner: code.clone(),
        campaign,
        stage: stage.to_string(),
        page_path: u.to_string(),
        visitor_id,
        set,
        value: None,
        user_id: None,
        variant,
        variant_cookie,
    }))
}

/// Rules of the body of `POST /s`, after [`verify_signature`].
pub fn server_event(reg: &Registry, body: &[u8]) -> Result<Accepted, Refusal> {
    if body.len() > MAX_SERVER_BODY {
        return Err(Refusal::TooLarge);
    }
    let msg = json_object(body)?;
    let event = match msg.get("event").and_then(|e| e.as_str()) {
        Some(e @ ("activation" | "revenue")) => e,
        _ => return Err(bad("unknown event")),
    };
    let Some(partner) = msg
        .get("partner")
        .and_then(|p| p.as_str())
        .filter(|p| reg.partners.contains_key(*p))
    else {
        return Err(bad("unknown partner"));
    };
    let visitor_id = match msg.get("visitor_id").and_then(|v| v.as_str()) {
        Some(v) if !v.is_empty() && v.len() <= MAX_SERVER_VISITOR_ID => v,
        _ => {
            return Err(bad(format!(
                "visitor_id must be a string of 1 to {MAX_SERVER_VISITOR_ID} bytes"
            )))
        }
    };
    let user_id = match msg.get("user_id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(u)) if u.len() <= MAX_USER_ID => Some(u.clone()),
        Some(_) => {
            return Err(bad(format!(
                "user_id must be a string of at most {MAX_USER_ID} bytes"
            )))
        }
    };
    let value = match msg.get("value") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match v.as_f64().filter(|v| v.is_finite()) {
            Some(v) => Some(v),
            None => return Err(bad("value must be a finite number")),
        },
    };
    if event == REVENUE && value.is_none() {
        return Err(bad("revenue needs a value"));
    }
    let page_path = match nullable_str(&msg, "page_path") {
        Ok(None) => "/s",
        Ok(Some(p)) if is_path(p) => p,
        _ => return Err(bad("page_path must be a path")),
    };
    let campaign = nullable_str(&msg, "campaign")?;
    Ok(Accepted {
        partner: partner.to_string(),
        campaign: reg.campaign(partner, campaign),
        stage: event.to_string(),
        page_path: page_path.to_string(),
        visitor_id: visitor_id.to_string(),
        set: SetCookies::default(),
        value,
        user_id,
        // A backend has no cookie: the visitor's drawn assignment (none without the key).
        variant: reg.partners.get(partner).and_then(|r| {
            let secret = reg.variant_secret.as_deref()?;
            deterministic_variant(&r.variants, secret, partner, visitor_id).map(String::from)
        }),
        variant_cookie: None,
    })
}

/// Check `X-PP-Signature` = hex HMAC-SHA256(secret, `"<timestamp>.<body>"`) over the exact
/// body bytes, then that `X-PP-Timestamp` is within [`SIGNATURE_WINDOW_SECS`] of `now`.
pub fn verify_signature(
    secret: Option<&[u8]>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    use hmac::{Hmac, Mac};
    let secret = secret.ok_or(Refusal::NoSecret)?;
    let unauthorized = |r: &str| Refusal::Unauthorized(r.to_string());
    let ts_text = timestamp.unwrap_or("");
    let sig_text = signature.unwrap_or("");
    let ts_ok = (1..=12).contains(&ts_text.len()) && ts_text.bytes().all(|b| b.is_ascii_digit());
    let sig = hex_decode(sig_text).filter(|s| s.len() == 32);
    let (true, Some(sig)) = (ts_ok, sig) else {
        return Err(unauthorized("missing or malformed signature"));
    };
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|_| unauthorized("bad signature"))?;
    mac.update(ts_text.as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sig)
        .map_err(|_| unauthorized("bad signature"))?;
    let ts: i64 = ts_text.parse().map_err(|_| unauthorized("bad signature"))?;
    if now.abs_diff(ts) > SIGNATURE_WINDOW_SECS.unsigned_abs() {
        return Err(unauthorized("stale timestamp"));
    }
    Ok(())
}

/// Hex signature of a `/s` body, as the product's backend computes it (for docs and tests).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some((digit(p[0])? << 4) | digit(p[1])?))
        .collect()
}

/// The `Set-Cookie` values of an accepted event, as the Worker writes them. `Secure` is
/// dropped only for plain-http localhost (`serve` is plain http).
pub fn set_cookie_values(reg: &Registry, a: &Accepted, secure: bool) -> Vec<String> {
    let attrs = format!(
        "Path=/; HttpOnly;{} SameSite=Lax; Max-Age={}",
        if secure { " Secure;" } else { "" },
        reg.max_age_secs
    );
    let mut out = Vec::new();
    if a.set.vid {
        out.push(format!(
            "{}_vid={}; {attrs}",
            reg.cookie_prefix, a.visitor_id
        ));
    }
    if a.set.src {
        out.push(format!(
            "{}_src={}.{}; {attrs}",
            reg.cookie_prefix,
            a.partner,
            encode_uri_component(&a.campaign)
        ));
    }
    if let Some(value) = &a.variant_cookie {
        out.push(variant_cookie(reg, &a.partner, value, secure));
    }
    out
}

/// Cookies get `Secure` unless the request's host is localhost / a loopback address.
pub fn secure_for_host(host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    !(name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "::1")
}

/// The value of `name` in a query string (`a=1&campaign=x`), percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != name {
            return None;
        }
        let bytes = percent_decode(&v.replace('+', " "))?;
        String::from_utf8(bytes).ok()
    })
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// JavaScript's `encodeURIComponent`, so cookies and redirects match the Worker's bytes.
fn encode_uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The segments of a request path under the output folder, or `None` when the path could
/// reach outside it: `..` or `.` segments (also percent-encoded), backslashes, NUL, encoded
/// slashes, drive letters, bytes that are not UTF-8. An empty list is the root.
pub fn safe_segments(raw_path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for seg in raw_path.split('/') {
        let bytes = percent_decode(seg)?;
        let seg = String::from_utf8(bytes).ok()?;
        if seg.is_empty() {
            continue;
        }
        if seg == "."
            || seg == ".."
            || seg.contains(['/', '\\', '\0', ':'])
            || seg.chars().any(char::is_control)
        {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// A random UUID v4 (row ids and visitor ids: random, never derived from the request), in the
/// lower-case hyphenated form the collector accepts back as a visitor id.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// `created_at` of a row: UTC ISO-8601 with milliseconds and `Z`.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-variant-secret";

    /// The same figures as the Worker's `bucket`, `pick` and `signedVariant` (worker.js),
    /// computed by Node 22 running those functions on the same inputs: a visitor gets the same
    /// variant and cookie from `serve` and the Worker.
    #[test]
    fn variant_buckets_and_signatures_match_the_worker() {
        let cases = [
            (
                "0b7f3c1e-2d4a-4f6b-8c9d-1e2f3a4b5c6d",
                0.113_562_808_139_249_68,
                "control",
                "b",
            ),
            ("user-42", 0.670_466_264_476_999_6, "control", "c"),
            ("é", 0.852_900_619_851_425_3, "speed", "a"),
        ];
        let two = [("control".to_string(), 70.0), ("speed".to_string(), 30.0)];
        let three: Vec<(String, f64)> = ["a", "b", "c"]
            .iter()
            .map(|x| (x.to_string(), 1.0))
            .collect();
        for (vid, b, of_two, of_three) in cases {
            assert_eq!(bucket(KEY, "seo-consultant", vid), b, "{vid}");
            assert_eq!(
                deterministic_variant(&two, KEY, "seo-consultant", vid),
                Some(of_two)
            );
            assert_eq!(deterministic_variant(&three, KEY, "x", vid), Some(of_three));
        }
        assert_eq!(
            signed_variant(
                KEY,
                "seo-consultant",
                "0b7f3c1e-2d4a-4f6b-8c9d-1e2f3a4b5c6d",
                "speed"
            ),
            "speed.071b7c17feefc60cc8db452f1f91cb69fa32ca256d33b4d6bc34f46739870039"
        );
        // Another key draws other buckets: the assignment cannot be predicted without it.
        assert_ne!(
            bucket(b"other", "seo-consultant", "user-42"),
            0.670_466_264_476_999_6
        );
    }

    fn tested_reg() -> Registry {
        let mut r = reg().with_variant_secret(Some(KEY.to_vec()));
        if let Some(rule) = r.partners.get_mut("seo") {
            rule.variants = vec![("control".into(), 70.0), ("speed".into(), 30.0)];
        }
        r
    }

    #[test]
    fn variant_shares_follow_the_weights_and_the_signed_cookie_sticks() {
        let r = tested_reg();
        let mut speed = 0;
        for i in 0..20_000u32 {
            let vid = format!("{i:08x}-0000-4000-8000-000000000000");
            let a = assign_variant(&r, "seo", &Cookies::default(), &vid).unwrap();
            assert_eq!(a.recorded.as_deref(), Some(a.shown.as_str()));
            assert_eq!(
                a.cookie.as_deref(),
                Some(signed_variant(KEY, "seo", &vid, &a.shown).as_str())
            );
            speed += u32::from(a.shown == "speed");
        }
        let share = f64::from(speed) / 20_000.0;
        assert!((share - 0.3).abs() < 0.015, "{share}");
        // A cookie signed for this visitor and partner wins, and is kept.
        let vid = VID1;
        let signed = signed_variant(KEY, "seo", vid, "speed");
        let jar = parse_cookies([&*format!("pp_x_seo={signed}; pp_x_other=z")], "pp");
        let held = assign_variant(&r, "seo", &jar, vid).unwrap();
        assert_eq!(
            held,
            Assignment {
                shown: "speed".into(),
                recorded: Some("speed".into()),
                cookie: None
            }
        );
        // Landing views: the control's own file, a variant's file, nothing for other pages.
        let with_vid = parse_cookies([format!("pp_vid={vid}").as_str()], "pp");
        let view = landing_view(&r, "/p/seo/", &with_vid, || unreachable!()).unwrap();
        let drawn = deterministic_variant(&r.partners["seo"].variants, KEY, "seo", vid).unwrap();
        assert_eq!(view.variant, drawn);
        assert!(!view.set_vid && view.variant_cookie.is_some());
        let held = parse_cookies([format!("pp_vid={vid}; pp_x_seo={signed}").as_str()], "pp");
        let view = landing_view(&r, "/p/seo/index.html", &held, || unreachable!()).unwrap();
        assert_eq!(
            (view.file.as_str(), view.variant_cookie),
            ("p/seo/v/speed/index.html", None)
        );
        let control = signed_variant(KEY, "seo", vid, "control");
        let held = parse_cookies([format!("pp_vid={vid}; pp_x_seo={control}").as_str()], "pp");
        let view = landing_view(&r, "/p/seo/", &held, || unreachable!()).unwrap();
        assert_eq!(view.file, "p/seo/index.html");
        let fresh = landing_view(&r, "/p/seo/", &Cookies::default(), || "new".into()).unwrap();
        assert!(fresh.set_vid && fresh.variant_cookie.is_some() && fresh.visitor_id == "new");
        assert!(landing_view(&r, "/p/seo/kit/", &held, || "x".into()).is_none());
        assert!(landing_view(&r, "/p/other/", &held, || "x".into()).is_none());
    }

    /// Every cookie a client could make up without the key: shown a fresh signed assignment,
    /// recorded as no variant.
    #[test]
    fn forged_or_unsigned_variant_cookies_record_no_variant_and_get_a_signed_assignment() {
        let r = tested_reg();
        let vid = VID1;
        let drawn = deterministic_variant(&r.partners["seo"].variants, KEY, "seo", vid).unwrap();
        let good = signed_variant(KEY, "seo", vid, "speed");
        let forged = [
            "speed".to_string(),
            "control".to_string(),
            String::new(),
            signed_variant(KEY, "seo", VID2, "speed"),
            signed_variant(KEY, "founders", vid, "speed"),
            signed_variant(b"a guessed key", "seo", vid, "speed"),
            signed_variant(KEY, "seo", vid, "nope"),
            good.to_uppercase(),
            good.replace("speed.", "control."),
            format!("{good}0"),
            good[..good.len() - 1].to_string(),
            format!("x.{good}"),
        ];
        for value in &forged {
            let jar = parse_cookies([&*format!("pp_vid={vid}; pp_x_seo={value}")], "pp");
            let a = assign_variant(&r, "seo", &jar, vid).unwrap();
            assert_eq!(
                a,
                Assignment {
                    shown: drawn.to_string(),
                    recorded: None,
                    cookie: Some(signed_variant(KEY, "seo", vid, drawn)),
                },
                "{value}"
            );
            let body = br#"{"e":"visit","p":"seo","u":"/p/seo/"}"#;
            let row = record(beacon(&r, body, &jar, fixed_id));
            assert_eq!(row.variant, None, "{value}");
            let set = set_cookie_values(&r, &row, false);
            assert!(
                set.iter().any(|c| c.starts_with(&format!(
                    "pp_x_seo={}; ",
                    signed_variant(KEY, "seo", vid, drawn)
                ))),
                "{value}: {set:?}"
            );
            let c = click(&r, "seo", None, &jar, fixed_id).unwrap();
            assert_eq!(c.event.variant, None, "{value}");
        }
        // The genuine cookie is recorded, and the backend's event gets the drawn variant.
        let jar = parse_cookies([&*format!("pp_vid={vid}; pp_x_seo={good}")], "pp");
        let body = br#"{"e":"visit","p":"seo","u":"/p/seo/"}"#;
        let row = record(beacon(&r, body, &jar, fixed_id));
        assert_eq!(
            (row.variant.as_deref(), row.variant_cookie),
            (Some("speed"), None)
        );
        let s = format!(r#"{{"event":"activation","partner":"seo","visitor_id":"{vid}"}}"#);
        assert_eq!(
            server_event(&r, s.as_bytes()).unwrap().variant.as_deref(),
            Some(drawn)
        );
        // Without the key no test runs: no variant, no cookie, the control page.
        let keyless = tested_reg().with_variant_secret(None);
        assert_eq!(assign_variant(&keyless, "seo", &jar, vid), None);
        assert!(landing_view(&keyless, "/p/seo/", &jar, || "x".into()).is_none());
        let row = record(beacon(&keyless, body, &jar, fixed_id));
        assert_eq!((row.variant, row.variant_cookie), (None, None));
        assert_eq!(server_event(&keyless, s.as_bytes()).unwrap().variant, None);
    }

    fn reg() -> Registry {
        let rule =
            |campaigns: &[&str], page: Option<&str>, click: Option<&str>, code: &str| PartnerRule {
                campaigns: campaigns.iter().map(|c| c.to_string()).collect(),
                landing: format!("/p/{code}/"),
                page: page.map(String::from),
                click: click.map(String::from),
                variants: Vec::new(),
            };
        let mut partners = BTreeMap::new();
        partners.insert(
            "seo".into(),
            rule(&["default", "webinar"], None, None, "seo"),
        );
        partners.insert(
            "founders".into(),
            rule(&["default"], Some("/pricing"), None, "founders"),
        );
        partners.insert(
            "tools".into(),
            rule(&["default"], None, Some("copy-snippet"), "tools"),
        );
        Registry {
            partners,
            base_path: "/partners".into(),
            endpoint: "/partners/e".into(),
            cookie_prefix: "pp".into(),
            max_age_secs: 30 * 86_400,
            honor_dnt: true,
            honor_gpc: true,
            variant_secret: None,
            stripe: None,
        }
    }

    fn fixed_id() -> String {
        "new-visitor".into()
    }

    fn record(r: Result<BeaconOutcome, Refusal>) -> Accepted {
        match r {
            Ok(BeaconOutcome::Record(a)) => a,
            other => panic!("expected a row, got {other:?}"),
        }
    }

    #[test]
    fn click_on_known_code_redirects_to_base_path_landing_with_campaign() {
        let c = click(
            &reg(),
            "seo",
            Some("campaign=webinar"),
            &Cookies::default(),
            fixed_id,
        )
        .unwrap();
        assert_eq!(c.location, "/partners/p/seo/?campaign=webinar");
        assert_eq!(c.event.campaign, "webinar");
        assert_eq!(c.event.page_path, "/partners/go/seo");
        assert_eq!(c.event.visitor_id, "new-visitor");
        assert_eq!(
            c.event.set,
            SetCookies {
                vid: true,
                src: true
            }
        );
    }

    #[test]
    fn click_with_unknown_campaign_maps_to_default_without_query() {
        let c = click(
            &reg(),
            "seo/",
            Some("campaign=%3Cscript%3E"),
            &Cookies::default(),
            fixed_id,
        )
        .unwrap();
        assert_eq!(c.event.campaign, "default");
        assert_eq!(c.location, "/partners/p/seo/");
    }

    #[test]
    fn click_on_unknown_code_is_not_found() {
        for code in ["../etc", "nope", "__proto__", "seo/x"] {
            let r = click(&reg(), code, None, &Cookies::default(), fixed_id);
            assert_eq!(r.unwrap_err(), Refusal::NotFound, "{code}");
        }
    }

    const VID1: &str = "6f1c2a3b-4d5e-4f60-9a1b-2c3d4e5f6a7b";
    const VID2: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";

    #[test]
    fn click_keeps_an_existing_visitor_id() {
        let cookies = parse_cookies([&*format!("pp_vid={VID1}; other=1")], "pp");
        let c = click(&reg(), "seo", None, &cookies, fixed_id).unwrap();
        assert_eq!(c.event.visitor_id, VID1);
    }

    #[test]
    fn cookies_with_unsafe_values_are_ignored_and_the_first_wins() {
        let c = parse_cookies(["pp_vid=a b c d e;pp_src=seo", "pp_vid=x'--"], "pp");
        assert_eq!(c, Cookies::default());
        assert_eq!(parse_cookies(["pp_vid=short"], "pp").visitor_id, None);
        // Only the format the collectors issue: a lower-case UUID v4.
        for chosen in [
            "visitor1",
            "abc-DEF-123-x",
            "0B7E4F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
            "0b7e4f3a-1c2d-1e5f-8a9b-0c1d2e3f4a5b",
            "0b7e4f3a1c2d4e5f8a9b0c1d2e3f4a5b",
            &"a".repeat(64),
        ] {
            let c = parse_cookies([&*format!("pp_vid={chosen}")], "pp");
            assert_eq!(c.visitor_id, None, "{chosen}");
        }
        let c = parse_cookies(
            [&*format!(
                "pp_src=seo.webinar%2D1; pp_vid={VID1}; pp_vid={VID2}"
            )],
            "pp",
        );
        assert_eq!(c.visitor_id.as_deref(), Some(VID1));
        assert_eq!(c.source, Some(("seo".into(), "webinar-1".into())));
    }

    #[test]
    fn route_path_strips_the_base_path_on_a_segment_boundary() {
        let r = reg();
        assert_eq!(route_path(&r, "/partners/go/seo"), "/go/seo");
        assert_eq!(route_path(&r, "/partnersx/go/seo"), "/partnersx/go/seo");
        assert_eq!(route_path(&r, "/go/seo"), "/go/seo");
    }

    #[test]
    fn beacon_takes_partner_and_campaign_from_the_source_cookie() {
        let cookies = parse_cookies([&*format!("pp_vid={VID1}; pp_src=seo.webinar")], "pp");
        let a = record(beacon(
            &reg(),
            br#"{"e":"visit","u":"/p/seo/"}"#,
            &cookies,
            fixed_id,
        ));
        assert_eq!(
            (a.partner.as_str(), a.campaign.as_str()),
            ("seo", "webinar")
        );
        assert_eq!(a.visitor_id, VID1);
        assert_eq!(a.set, SetCookies::default());
    }

    #[test]
    fn beacon_does_not_lend_a_cookie_campaign_to_another_partner() {
        let cookies = parse_cookies([&*format!("pp_vid={VID1}; pp_src=seo.webinar")], "pp");
        let body = br#"{"e":"visit","p":"founders","u":"/p/founders/"}"#;
        let a = record(beacon(&reg(), body, &cookies, fixed_id));
        assert_eq!(a.campaign, "default");
    }

    #[test]
    fn beacon_without_visitor_cookie_gets_a_new_id_and_cookies() {
        let body = br#"{"e":"cta","p":"seo","c":"webinar","u":"/p/seo/"}"#;
        let a = record(beacon(&reg(), body, &Cookies::default(), fixed_id));
        assert_eq!(a.visitor_id, "new-visitor");
        assert_eq!(
            a.set,
            SetCookies {
                vid: true,
                src: true
            }
        );
        assert_eq!(a.campaign, "webinar");
        // A source cookie is kept: only the visitor id is set.
        let cookies = parse_cookies(["pp_src=founders.default"], "pp");
        let a = record(beacon(&reg(), body, &cookies, fixed_id));
        assert_eq!(
            a.set,
            SetCookies {
                vid: true,
                src: false
            }
        );
    }

    const PAGE_ID: &str = "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn beacon_without_cookie_adopts_the_page_id_and_the_cookie_wins_over_it() {
        let body = format!(r#"{{"e":"cta","p":"seo","u":"/p/seo/","v":"{PAGE_ID}"}}"#);
        let a = record(beacon(
            &reg(),
            body.as_bytes(),
            &Cookies::default(),
            fixed_id,
        ));
        assert_eq!(a.visitor_id, PAGE_ID);
        assert_eq!(
            a.set,
            SetCookies {
                vid: true,
                src: true
            }
        );
        let cookies = parse_cookies([&*format!("pp_vid={VID1}")], "pp");
        let a = record(beacon(&reg(), body.as_bytes(), &cookies, fixed_id));
        assert_eq!(a.visitor_id, VID1);
        assert_eq!(a.set, SetCookies::default());
    }

    #[test]
    fn bodies_nested_deeper_than_the_limit_are_refused_before_parsing() {
        assert_eq!(json_depth(br#"{"a":[1,{"b":"[[[[{{"}],"c":"\"["}"#), 3);
        let nested = |n: usize| {
            format!(
                r#"{{"e":"visit","p":"seo","u":"/p/seo/","x":{}1{}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let at_limit = nested(MAX_JSON_DEPTH - 1);
        assert!(beacon(&reg(), at_limit.as_bytes(), &Cookies::default(), fixed_id).is_ok());
        for n in [MAX_JSON_DEPTH, 400] {
            let body = nested(n);
            let r = beacon(&reg(), body.as_bytes(), &Cookies::default(), fixed_id).unwrap_err();
            assert_eq!(r.status(), 400);
            assert!(r.reason().contains("nested"), "{}", r.reason());
        }
        let deep_server = format!(
            r#"{{"event":"activation","partner":"seo","visitor_id":"v","x":{}{}}}"#,
            "{\"a\":".repeat(400),
            "}".repeat(400)
        );
        assert!(server_event(&reg(), deep_server.as_bytes()).is_err());
    }

    #[test]
    fn malformed_page_ids_are_refused() {
        assert!(valid_page_id(PAGE_ID));
        assert!(valid_page_id(&new_uuid()));
        for bad_id in [
            "",
            "visitor1",
            "0B7E4F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
            "0b7e4f3a-1c2d-3e5f-8a9b-0c1d2e3f4a5b",
            "0b7e4f3a-1c2d-4e5f-7a9b-0c1d2e3f4a5b",
            "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5",
            "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5bb",
            "0b7e4f3a11c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5g",
            "0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a\u{e9}",
        ] {
            assert!(!valid_page_id(bad_id), "{bad_id}");
            let body = serde_json::json!({"e":"visit","p":"seo","u":"/","v":bad_id}).to_string();
            let got = beacon(&reg(), body.as_bytes(), &Cookies::default(), fixed_id);
            assert_eq!(got.unwrap_err().status(), 400, "{bad_id}");
        }
        for not_string in ["null", "5", "[]", "{}"] {
            let body = format!(r#"{{"e":"visit","p":"seo","u":"/","v":{not_string}}}"#);
            let got = beacon(&reg(), body.as_bytes(), &Cookies::default(), fixed_id);
            assert_eq!(got.unwrap_err().status(), 400, "{not_string}");
        }
    }

    #[test]
    fn beacon_refusals_have_their_status() {
        let r = reg();
        let none = Cookies::default();
        let cases: &[&[u8]] = &[
            br#"{"e":"visit","p":"nope","u":"/"}"#,
            br#"{"e":"visit","p":"__proto__","u":"/"}"#,
            br#"{"e":"purchase","p":"seo","u":"/"}"#,
            br#"{"e":"visit","u":"/"}"#,
            br#"{"e":"visit","p":"seo","u":"relative"}"#,
            br#"{"e":"visit","p":"seo"}"#,
            br#"{"e":"visit","p":7,"u":"/"}"#,
            br#"{"e":"visit","p":"seo","c":null,"u":"/"}"#,
            br#"["visit"]"#,
            b"not json",
            br#"{"e":1,"p":"seo","u":"/"}"#,
        ];
        for body in cases {
            let got = beacon(&r, body, &none, fixed_id).unwrap_err();
            assert_eq!(got.status(), 400, "{}", String::from_utf8_lossy(body));
        }
        let long_path = format!(r#"{{"e":"visit","p":"seo","u":"/{}"}}"#, "a".repeat(600));
        let got = beacon(&r, long_path.as_bytes(), &none, fixed_id);
        assert_eq!(got.unwrap_err().status(), 400);
        let big = vec![b' '; MAX_BEACON_BODY + 1];
        assert_eq!(
            beacon(&r, &big, &none, fixed_id).unwrap_err(),
            Refusal::TooLarge
        );
    }

    #[test]
    fn beacon_activation_is_written_only_when_it_matches_the_trigger() {
        let r = reg();
        let none = Cookies::default();
        let go = |body: &[u8]| beacon(&r, body, &none, fixed_id);
        // page trigger, with or without the trailing slash
        record(go(br#"{"e":"activation","p":"founders","u":"/pricing/"}"#));
        assert_eq!(
            go(br#"{"e":"activation","p":"founders","u":"/other"}"#),
            Ok(BeaconOutcome::Ignore)
        );
        // click trigger by name
        record(go(
            br#"{"e":"activation","p":"tools","n":"copy-snippet","u":"/p/tools/"}"#,
        ));
        assert_eq!(
            go(br#"{"e":"activation","p":"tools","n":"other","u":"/p/tools/"}"#),
            Ok(BeaconOutcome::Ignore)
        );
        // server trigger: never from the beacon
        assert_eq!(
            go(br#"{"e":"activation","p":"seo","u":"/pricing"}"#),
            Ok(BeaconOutcome::Ignore)
        );
    }

    #[test]
    fn sql_looking_values_pass_through_verbatim() {
        let body = br#"{"e":"visit","p":"seo","u":"/x'); DROP TABLE partner_events;--"}"#;
        let a = record(beacon(&reg(), body, &Cookies::default(), fixed_id));
        assert_eq!(a.page_path, "/x'); DROP TABLE partner_events;--");
    }

    #[test]
    fn server_event_requires_known_event_partner_and_visitor() {
        let r = reg();
        let ok = server_event(
            &r,
            br#"{"event":"revenue","partner":"seo","visitor_id":"v 1","value":49.5,"user_id":"u-7","extra":1}"#,
        )
        .unwrap();
        assert_eq!(ok.value, Some(49.5));
        assert_eq!(ok.campaign, "default");
        assert_eq!(ok.page_path, "/s");
        assert_eq!(ok.visitor_id, "v 1");
        let ok = server_event(
            &r,
            br#"{"event":"activation","partner":"seo","visitor_id":"v1","user_id":null,"campaign":"webinar","page_path":"/app"}"#,
        )
        .unwrap();
        assert_eq!(
            (ok.campaign.as_str(), ok.page_path.as_str()),
            ("webinar", "/app")
        );
        let long_vid = format!(
            r#"{{"event":"activation","partner":"seo","visitor_id":"{}"}}"#,
            "v".repeat(129)
        );
        for body in [
            &br#"{"event":"visit","partner":"seo","visitor_id":"v1"}"#[..],
            br#"{"event":"activation","partner":"nope","visitor_id":"v1"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":""}"#,
            br#"{"event":"activation","partner":"seo"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":"v1","user_id":5}"#,
            br#"{"event":"revenue","partner":"seo","visitor_id":"v1"}"#,
            br#"{"event":"revenue","partner":"seo","visitor_id":"v1","value":"9"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":"v1","page_path":"x"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":"v1","campaign":3}"#,
            long_vid.as_bytes(),
        ] {
            let got = server_event(&r, body).unwrap_err();
            assert_eq!(got.status(), 400, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn signature_is_checked_against_body_and_timestamp() {
        let body = br#"{"event":"activation"}"#;
        let now = 1_700_000_000;
        let sig = sign(b"s3cret", now, body);
        let ts = now.to_string();
        assert_eq!(
            verify_signature(Some(b"s3cret"), Some(&ts), Some(&sig), body, now),
            Ok(())
        );
        let upper = sig.to_uppercase();
        assert_eq!(
            verify_signature(Some(b"s3cret"), Some(&ts), Some(&upper), body, now),
            Ok(())
        );
        let check = |secret: Option<&[u8]>, ts: Option<&str>, sig: Option<&str>, body: &[u8]| {
            verify_signature(secret, ts, sig, body, now).map_err(|e| e.status())
        };
        assert_eq!(check(None, Some(&ts), Some(&sig), body), Err(503));
        assert_eq!(check(Some(b"other"), Some(&ts), Some(&sig), body), Err(401));
        assert_eq!(
            check(Some(b"s3cret"), Some(&ts), Some(&sig), b"{}"),
            Err(401)
        );
        assert_eq!(check(Some(b"s3cret"), None, Some(&sig), body), Err(401));
        assert_eq!(check(Some(b"s3cret"), Some(&ts), None, body), Err(401));
        assert_eq!(
            check(Some(b"s3cret"), Some(&ts), Some("zz"), body),
            Err(401)
        );
        assert_eq!(
            check(Some(b"s3cret"), Some(" 1"), Some(&sig), body),
            Err(401)
        );
        // The same signature replayed after the window.
        let later = verify_signature(Some(b"s3cret"), Some(&ts), Some(&sig), body, now + 301);
        assert_eq!(later.map_err(|e| e.status()), Err(401));
    }

    #[test]
    fn dnt_and_gpc_follow_the_config() {
        let mut r = reg();
        assert!(opted_out(&r, Some("1"), None));
        assert!(opted_out(&r, None, Some("1")));
        assert!(!opted_out(&r, Some("0"), None));
        r.honor_dnt = false;
        assert!(!opted_out(&r, Some("1"), None));
    }

    #[test]
    fn cookies_are_secure_except_on_localhost() {
        assert!(!secure_for_host(Some("localhost:8080")));
        assert!(!secure_for_host(Some("127.0.0.1:5000")));
        assert!(!secure_for_host(Some("[::1]:80")));
        assert!(secure_for_host(Some("aikit.example")));
        let c = click(
            &reg(),
            "seo",
            Some("campaign=webinar"),
            &Cookies::default(),
            fixed_id,
        )
        .unwrap();
        assert_eq!(
            set_cookie_values(&reg(), &c.event, true),
            [
                "pp_vid=new-visitor; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=2592000",
                "pp_src=seo.webinar; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=2592000",
            ]
        );
        assert!(!set_cookie_values(&reg(), &c.event, false)[0].contains("Secure"));
    }

    #[test]
    fn traversal_paths_are_refused() {
        for p in [
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/..%2f..%2fetc/passwd",
            "/a/..%5c..%5cetc",
            "/a%00.html",
            "/%2E%2E",
            "/C:/Windows",
            "/bad%zz",
            "/%ff",
        ] {
            assert_eq!(safe_segments(p), None, "{p}");
        }
        assert_eq!(
            safe_segments("/p/seo%20x/index.html").unwrap(),
            vec!["p", "seo x", "index.html"]
        );
        assert!(safe_segments("/").unwrap().is_empty());
    }

    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = new_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(
            a.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(valid_cookie_visitor_id(&a));
        assert_ne!(a, new_uuid());
    }

    #[test]
    fn timestamps_are_utc_milliseconds_with_z() {
        let t = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
    }
}
