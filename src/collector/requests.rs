//! Collector stage, the protocol checks of requests: pure functions, no I/O.
//!
//! Takes: the [`Registry`] and the parts of a request (body bytes, headers, the path, the
//! query). Gives: an [`Accepted`] event ready to store (or a click to record and its redirect),
//! or a [`Refusal`] with its HTTP status: the beacon body (`POST /e`), the page and visitor ids,
//! the `/s` signature and body, the `/go/<code>` query and the paths the collector serves. The
//! wire protocol these checks implement is written in [`crate::collector`]; the Worker
//! implements the same checks in JavaScript.

use super::cookies::{assign_variant, deterministic_variant, encode_uri_component, Cookies};
use super::registry::Registry;
use super::rows::{Accepted, BeaconOutcome, SetCookies};
use crate::collector::{
    MAX_BEACON_BODY, MAX_JSON_DEPTH, MAX_PAGE_PATH, MAX_SERVER_BODY, SIGNATURE_WINDOW_SECS,
};
use crate::partner::DEFAULT_CAMPAIGN;
use crate::stage::{Stage, REVENUE};

/// Longest accepted `/s` `visitor_id` (bytes). Cookie ids are stricter, see [`parse_cookies`](super::cookies::parse_cookies).
pub const MAX_SERVER_VISITOR_ID: usize = 128;
/// Longest accepted `/s` `user_id`.
pub const MAX_USER_ID: usize = 256;

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

/// The stages a beacon (`POST /e`) may send, in funnel order (a click is the `/go/` route's).
pub const BEACON_STAGES: [Stage; 4] = [
    Stage::Visit,
    Stage::LeadMagnet,
    Stage::Cta,
    Stage::Activation,
];

/// The events a signed `/s` body may carry.
pub const SERVER_EVENTS: [&str; 2] = [Stage::Activation.as_str(), REVENUE];

/// [`valid_page_id`] as a regular expression (the Worker's test of page and visitor ids).
pub const PAGE_ID_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

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
        Some(e) if BEACON_STAGES.iter().any(|st| st.as_str() == e) => e,
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
        Some(e) if SERVER_EVENTS.contains(&e) => e,
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

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some((digit(p[0])? << 4) | digit(p[1])?))
        .collect()
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

pub(crate) fn percent_decode(s: &str) -> Option<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::cookies::parse_cookies;
    use crate::collector::registry::fixture::*;
    use crate::collector::rows::new_uuid;

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

    #[test]
    fn click_keeps_an_existing_visitor_id() {
        let cookies = parse_cookies([&*format!("pp_vid={VID1}; other=1")], "pp");
        let c = click(&reg(), "seo", None, &cookies, fixed_id).unwrap();
        assert_eq!(c.event.visitor_id, VID1);
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
}
