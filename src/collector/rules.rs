//! Collector stage, request rules of the local collector: pure functions, no I/O.
//!
//! Takes: the partner registry (from a loaded [`Site`]) and the parts of a request (body bytes,
//! headers, the path). Gives: an event ready to store, or a [`Refusal`] with its HTTP status.
//! The wire protocol these rules implement is written in [`crate::collector`]; the Worker
//! implements the same rules in JavaScript.

use crate::collector::{MAX_BEACON_BODY, MAX_PAGE_PATH, MAX_SERVER_BODY, SIGNATURE_WINDOW_SECS};
use crate::events::Event;
use crate::partner::{DEFAULT_CAMPAIGN, REVENUE};
use crate::site::Site;
use std::collections::{BTreeMap, BTreeSet};

/// Longest accepted visitor id (cookie or `/s` body). Ours are 36 characters.
pub const MAX_VISITOR_ID: usize = 64;
/// Longest accepted `/s` `user_id`.
pub const MAX_USER_ID: usize = 256;

/// What the collector needs to know about the site, compiled from the partner registry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    pub partners: BTreeMap<String, PartnerRule>,
    /// Path part of `base_url`, "" or "/partners".
    pub base_path: String,
    /// `collector.endpoint`, the beacon's URL as seen from pages (default `/e`).
    pub endpoint: String,
    /// Cookie names are `<prefix>_vid` and `<prefix>_src`.
    pub cookie_prefix: String,
    /// Cookies' Max-Age: the attribution window in seconds.
    pub max_age_secs: u64,
    pub honor_dnt: bool,
    pub honor_gpc: bool,
}

/// One partner, as far as the collector cares.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRule {
    /// Every allowed campaign, `default` included.
    pub campaigns: BTreeSet<String>,
    /// The beacon may send `activation` (trigger `page:` or `click:`).
    pub beacon_activation: bool,
}

impl Registry {
    pub fn from_site(site: &Site) -> Registry {
        let c = &site.config;
        Registry {
            partners: site
                .partners
                .iter()
                .map(|p| {
                    let rule = PartnerRule {
                        campaigns: p.all_campaigns().into_iter().map(String::from).collect(),
                        beacon_activation: p.activation.trigger.page.is_some()
                            || p.activation.trigger.click.is_some(),
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
        }
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
    pub partner: String,
    pub campaign: String,
    pub stage: String,
    pub page_path: String,
    pub visitor_id: String,
    /// Set `<prefix>_vid` / `<prefix>_src` on the response (the visitor had no id yet).
    pub set_cookies: bool,
    pub value: Option<f64>,
    pub user_id: Option<String>,
}

impl Accepted {
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
        }
    }
}

/// The attribution cookies a request carried (only well-formed values are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookies {
    pub visitor_id: Option<String>,
    /// `(partner, campaign)` from `<prefix>_src`.
    pub source: Option<(String, String)>,
}

/// Read our two cookies from the `Cookie` header values.
pub fn parse_cookies<'a>(headers: impl IntoIterator<Item = &'a str>, prefix: &str) -> Cookies {
    let vid_name = format!("{prefix}_vid");
    let src_name = format!("{prefix}_src");
    let mut out = Cookies::default();
    for header in headers {
        for pair in header.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            if name == vid_name && valid_visitor_id(value) {
                out.visitor_id = Some(value.to_string());
            } else if name == src_name {
                if let Some((p, c)) = value.split_once('.') {
                    if is_token(p) && is_token(c) {
                        out.source = Some((p.to_string(), c.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// Visitor ids are opaque, but bounded and cookie-safe: `[A-Za-z0-9_-]`, 1..=64.
pub fn valid_visitor_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_VISITOR_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Does the request opt out (Do-Not-Track / Global Privacy Control) under this site's config?
pub fn opted_out(reg: &Registry, dnt: Option<&str>, gpc: Option<&str>) -> bool {
    (reg.honor_dnt && dnt.is_some_and(|v| v.trim() == "1"))
        || (reg.honor_gpc && gpc.is_some_and(|v| v.trim() == "1"))
}

/// A `GET /go/<code>` that passed: the click to record and where to send the visitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    pub event: Accepted,
    /// `Location` of the 302: `<base_path>/p/<code>/?campaign=<c>` (no query for `default`).
    pub location: String,
}

/// Rules of `GET /go/<code>?campaign=`: a registered code, the campaign mapped to a known one.
pub fn click(
    reg: &Registry,
    code: &str,
    query: Option<&str>,
    cookies: &Cookies,
    new_visitor_id: impl FnOnce() -> String,
) -> Result<Click, Refusal> {
    if !reg.partners.contains_key(code) {
        return Err(Refusal::NotFound);
    }
    let wanted = query.and_then(|q| query_param(q, "campaign"));
    let campaign = reg.campaign(code, wanted.as_deref());
    let mut location = format!("{}/p/{}/", reg.base_path, code);
    if campaign != DEFAULT_CAMPAIGN {
        location.push_str("?campaign=");
        location.push_str(&percent_encode(&campaign));
    }
    let (visitor_id, _) = visitor(cookies, new_visitor_id);
    Ok(Click {
        event: Accepted {
            partner: code.to_string(),
            campaign,
            stage: "click".into(),
            page_path: format!("/go/{code}"),
            visitor_id,
            // A click always (re)writes both cookies: it is the partner's link, and the
            // visitor id keeps its value but gets a fresh Max-Age.
            set_cookies: true,
            value: None,
            user_id: None,
        },
        location,
    })
}

fn visitor(cookies: &Cookies, new_visitor_id: impl FnOnce() -> String) -> (String, bool) {
    match &cookies.visitor_id {
        Some(id) => (id.clone(), false),
        None => (new_visitor_id(), true),
    }
}

/// The beacon's body, `{"e": stage, "p": code?, "c": campaign?, "u": path}`.
#[derive(Debug, serde::Deserialize)]
struct BeaconBody {
    e: String,
    #[serde(default)]
    p: Option<String>,
    #[serde(default)]
    c: Option<String>,
    u: String,
}

/// Rules of `POST /e`.
pub fn beacon(
    reg: &Registry,
    body: &[u8],
    cookies: &Cookies,
    new_visitor_id: impl FnOnce() -> String,
) -> Result<Accepted, Refusal> {
    if body.len() > MAX_BEACON_BODY {
        return Err(Refusal::TooLarge);
    }
    let b: BeaconBody = serde_json::from_slice(body)
        .map_err(|e| bad(format!("body is not the beacon's JSON: {e}")))?;
    let partner = match (&b.p, &cookies.source) {
        (Some(p), _) => p.clone(),
        (None, Some((p, _))) => p.clone(),
        (None, None) => return Err(bad("no partner: neither `p` nor the source cookie")),
    };
    let Some(rule) = reg.partners.get(&partner) else {
        return Err(bad("unknown partner code"));
    };
    match b.e.as_str() {
        "visit" | "lead_magnet" | "cta" => {}
        "activation" if rule.beacon_activation => {}
        "activation" => {
            return Err(bad(
                "this partner's activation is server-side: send it to /s",
            ))
        }
        _ => return Err(bad("unknown stage")),
    }
    check_page_path(&b.u)?;
    // The cookie's campaign belongs to the cookie's partner only.
    let wanted = b.c.clone().or_else(|| {
        cookies
            .source
            .as_ref()
            .filter(|(p, _)| *p == partner)
            .map(|(_, c)| c.clone())
    });
    let campaign = reg.campaign(&partner, wanted.as_deref());
    let (visitor_id, set_cookies) = visitor(cookies, new_visitor_id);
    Ok(Accepted {
        partner,
        campaign,
        stage: b.e,
        page_path: b.u,
        visitor_id,
        set_cookies,
        value: None,
        user_id: None,
    })
}

fn check_page_path(path: &str) -> Result<(), Refusal> {
    if !path.starts_with('/') {
        return Err(bad("the page path must start with /"));
    }
    if path.len() > MAX_PAGE_PATH {
        return Err(bad(format!(
            "the page path is longer than {MAX_PAGE_PATH} bytes"
        )));
    }
    Ok(())
}

/// The server-to-server body of `POST /s`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerBody {
    event: String,
    partner: String,
    #[serde(default)]
    campaign: Option<String>,
    visitor_id: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    page_path: Option<String>,
}

/// Rules of the body of `POST /s` (call [`verify_signature`] first).
pub fn server_event(reg: &Registry, body: &[u8]) -> Result<Accepted, Refusal> {
    if body.len() > MAX_SERVER_BODY {
        return Err(Refusal::TooLarge);
    }
    let b: ServerBody = serde_json::from_slice(body)
        .map_err(|e| bad(format!("body is not the server event JSON: {e}")))?;
    if b.event != "activation" && b.event != REVENUE {
        return Err(bad("unknown event: expected `activation` or `revenue`"));
    }
    if !reg.partners.contains_key(&b.partner) {
        return Err(bad("unknown partner code"));
    }
    if !valid_visitor_id(&b.visitor_id) {
        return Err(bad(format!(
            "visitor_id must be 1 to {MAX_VISITOR_ID} characters of A-Z a-z 0-9 - _"
        )));
    }
    if let Some(u) = &b.user_id {
        if u.is_empty() || u.len() > MAX_USER_ID {
            return Err(bad(format!("user_id must be 1 to {MAX_USER_ID} bytes")));
        }
    }
    if b.value.is_some_and(|v| !v.is_finite()) {
        return Err(bad("value must be a finite number"));
    }
    let page_path = b.page_path.unwrap_or_else(|| "/s".to_string());
    check_page_path(&page_path)?;
    let campaign = reg.campaign(&b.partner, b.campaign.as_deref());
    Ok(Accepted {
        partner: b.partner,
        campaign,
        stage: b.event,
        page_path,
        visitor_id: b.visitor_id,
        set_cookies: false,
        value: b.value,
        user_id: b.user_id,
    })
}

/// Check `X-PP-Signature` = hex HMAC-SHA256(secret, "<timestamp>.<body>") and that
/// `X-PP-Timestamp` is within [`SIGNATURE_WINDOW_SECS`] of `now` (unix seconds).
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
    let ts_text = timestamp.ok_or_else(|| unauthorized("missing X-PP-Timestamp"))?;
    let sig_text = signature.ok_or_else(|| unauthorized("missing X-PP-Signature"))?;
    let ts: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| unauthorized("X-PP-Timestamp is not unix seconds"))?;
    if now.abs_diff(ts) > SIGNATURE_WINDOW_SECS.unsigned_abs() {
        return Err(unauthorized(
            "timestamp outside the allowed window (replay?)",
        ));
    }
    let sig = hex_decode(sig_text.trim()).ok_or_else(|| unauthorized("bad signature"))?;
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|_| unauthorized("bad signature"))?;
    mac.update(ts_text.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sig)
        .map_err(|_| unauthorized("bad signature"))
}

/// Hex signature of a `/s` body, as the product's backend computes it (for docs and tests).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
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
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// The two `Set-Cookie` values for a visitor. `Secure` is dropped only for plain-http
/// localhost, where browsers would otherwise still accept it but other clients would not.
pub fn set_cookie_values(
    reg: &Registry,
    visitor_id: &str,
    partner: &str,
    campaign: &str,
    secure: bool,
) -> [String; 2] {
    let attrs = format!(
        "Path=/; Max-Age={}; HttpOnly;{} SameSite=Lax",
        reg.max_age_secs,
        if secure { " Secure;" } else { "" }
    );
    [
        format!("{}_vid={}; {}", reg.cookie_prefix, visitor_id, attrs),
        format!(
            "{}_src={}.{}; {}",
            reg.cookie_prefix, partner, campaign, attrs
        ),
    ]
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

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
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

/// A random UUID v4 (row ids and visitor ids: random, never derived from the request).
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `created_at` of a row: UTC ISO-8601 with milliseconds and `Z`.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registry {
        let mut partners = BTreeMap::new();
        partners.insert(
            "seo".to_string(),
            PartnerRule {
                campaigns: ["default", "webinar"].map(String::from).into(),
                beacon_activation: false,
            },
        );
        partners.insert(
            "founders".to_string(),
            PartnerRule {
                campaigns: ["default"].map(String::from).into(),
                beacon_activation: true,
            },
        );
        Registry {
            partners,
            base_path: "/partners".into(),
            endpoint: "/e".into(),
            cookie_prefix: "pp".into(),
            max_age_secs: 30 * 86_400,
            honor_dnt: true,
            honor_gpc: true,
        }
    }

    fn fixed_id() -> String {
        "new-visitor".into()
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
        assert_eq!(c.event.page_path, "/go/seo");
        assert_eq!(c.event.visitor_id, "new-visitor");
        assert!(c.event.set_cookies);
    }

    #[test]
    fn click_with_unknown_campaign_maps_to_default_without_query() {
        let c = click(
            &reg(),
            "seo",
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
        let r = click(&reg(), "../etc", None, &Cookies::default(), fixed_id);
        assert_eq!(r.unwrap_err(), Refusal::NotFound);
    }

    #[test]
    fn click_keeps_an_existing_visitor_id() {
        let cookies = parse_cookies(["pp_vid=abc-123; other=1"], "pp");
        let c = click(&reg(), "seo", None, &cookies, fixed_id).unwrap();
        assert_eq!(c.event.visitor_id, "abc-123");
    }

    #[test]
    fn cookies_with_unsafe_values_are_ignored() {
        let c = parse_cookies(["pp_vid=a b;pp_src=seo", "pp_vid=x'--"], "pp");
        assert_eq!(c, Cookies::default());
        let c = parse_cookies(["pp_src=seo.webinar; pp_vid=v1"], "pp");
        assert_eq!(c.visitor_id.as_deref(), Some("v1"));
        assert_eq!(c.source, Some(("seo".into(), "webinar".into())));
    }

    #[test]
    fn beacon_takes_partner_and_campaign_from_the_source_cookie() {
        let cookies = parse_cookies(["pp_vid=v1; pp_src=seo.webinar"], "pp");
        let a = beacon(
            &reg(),
            br#"{"e":"visit","u":"/p/seo/"}"#,
            &cookies,
            fixed_id,
        )
        .unwrap();
        assert_eq!(
            (a.partner.as_str(), a.campaign.as_str()),
            ("seo", "webinar")
        );
        assert_eq!(a.visitor_id, "v1");
        assert!(!a.set_cookies);
    }

    #[test]
    fn beacon_does_not_lend_a_cookie_campaign_to_another_partner() {
        let cookies = parse_cookies(["pp_vid=v1; pp_src=seo.webinar"], "pp");
        let a = beacon(
            &reg(),
            br#"{"e":"visit","p":"founders","u":"/p/founders/"}"#,
            &cookies,
            fixed_id,
        )
        .unwrap();
        assert_eq!(a.campaign, "default");
    }

    #[test]
    fn beacon_without_visitor_cookie_gets_a_new_id_and_cookies() {
        let a = beacon(
            &reg(),
            br#"{"e":"cta","p":"seo","c":"webinar","u":"/p/seo/"}"#,
            &Cookies::default(),
            fixed_id,
        )
        .unwrap();
        assert_eq!(a.visitor_id, "new-visitor");
        assert!(a.set_cookies);
        assert_eq!(a.campaign, "webinar");
    }

    #[test]
    fn beacon_refusals_have_their_status() {
        let r = reg();
        let none = Cookies::default();
        let cases: &[(&[u8], u16)] = &[
            (br#"{"e":"visit","p":"nope","u":"/"}"#, 400),
            (br#"{"e":"purchase","p":"seo","u":"/"}"#, 400),
            (br#"{"e":"activation","p":"seo","u":"/"}"#, 400),
            (br#"{"e":"visit","u":"/"}"#, 400),
            (br#"{"e":"visit","p":"seo","u":"relative"}"#, 400),
            (br#"{"e":"visit","p":"seo"}"#, 400),
            (b"not json", 400),
            (br#"{"e":1,"p":"seo","u":"/"}"#, 400),
        ];
        for (body, status) in cases {
            let got = beacon(&r, body, &none, fixed_id).unwrap_err();
            assert_eq!(got.status(), *status, "{}", String::from_utf8_lossy(body));
        }
        let long_path = format!(r#"{{"e":"visit","p":"seo","u":"/{}"}}"#, "a".repeat(600));
        assert_eq!(
            beacon(&r, long_path.as_bytes(), &none, fixed_id)
                .unwrap_err()
                .status(),
            400
        );
        let big = vec![b' '; MAX_BEACON_BODY + 1];
        assert_eq!(
            beacon(&r, &big, &none, fixed_id).unwrap_err(),
            Refusal::TooLarge
        );
    }

    #[test]
    fn beacon_activation_is_allowed_for_page_and_click_triggers() {
        let a = beacon(
            &reg(),
            br#"{"e":"activation","p":"founders","u":"/pricing"}"#,
            &Cookies::default(),
            fixed_id,
        )
        .unwrap();
        assert_eq!(a.stage, "activation");
    }

    #[test]
    fn sql_looking_values_pass_through_verbatim() {
        let body = br#"{"e":"visit","p":"seo","u":"/x'); DROP TABLE partner_events;--"}"#;
        let a = beacon(&reg(), body, &Cookies::default(), fixed_id).unwrap();
        assert_eq!(a.page_path, "/x'); DROP TABLE partner_events;--");
    }

    #[test]
    fn server_event_requires_known_event_partner_and_visitor() {
        let r = reg();
        let ok = server_event(
            &r,
            br#"{"event":"revenue","partner":"seo","visitor_id":"v1","value":49.5,"user_id":"u-7"}"#,
        )
        .unwrap();
        assert_eq!(ok.value, Some(49.5));
        assert_eq!(ok.campaign, "default");
        assert_eq!(ok.page_path, "/s");
        for body in [
            &br#"{"event":"visit","partner":"seo","visitor_id":"v1"}"#[..],
            br#"{"event":"activation","partner":"nope","visitor_id":"v1"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":"a b"}"#,
            br#"{"event":"activation","partner":"seo"}"#,
            br#"{"event":"activation","partner":"seo","visitor_id":"v1","extra":1}"#,
        ] {
            assert_eq!(server_event(&r, body).unwrap_err().status(), 400);
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
        let [vid, src] = set_cookie_values(&reg(), "v1", "seo", "webinar", true);
        assert_eq!(
            vid,
            "pp_vid=v1; Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(src.starts_with("pp_src=seo.webinar; "));
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
        assert_ne!(a, new_uuid());
    }

    #[test]
    fn timestamps_are_utc_milliseconds_with_z() {
        let t = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
    }
}
