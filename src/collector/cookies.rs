//! Collector stage, the visitor's cookies and the variant assignment they carry: pure
//! functions, no I/O.
//!
//! Takes: the `Cookie` headers of a request, the [`Registry`] and its variant key. Gives: the
//! well-formed attribution cookies ([`Cookies`]), each tested partner's variant (a signed
//! cookie kept, else a bucket drawn from the key and the visitor id: the same figures as the
//! Worker's), the landing page's variant view, and the `Set-Cookie` values a response sends.

use super::registry::Registry;
use super::requests::{hex_decode, percent_decode, valid_page_id};
use super::rows::Accepted;
use std::collections::BTreeMap;

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

/// JavaScript's `encodeURIComponent`, so cookies and redirects match the Worker's bytes.
pub(crate) fn encode_uri_component(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::registry::fixture::*;
    use crate::collector::requests::{beacon, click, server_event};

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
}
