//! Helpers shared by the plain and the e2e tests of experiments.

use crate::support;

pub(crate) const VARIANTS: &str = "variants:\n  - id: control\n  - id: speed\n    promise: Audit in ten minutes\n    landing: { headline: Audit AI content in ten minutes }\n    cta: { label: Start an audit }\n";
pub(crate) const CONTROL_HEADLINE: &str = "Ship AI content your clients can trust";
pub(crate) const SPEED_HEADLINE: &str = "Audit AI content in ten minutes";

pub(crate) fn site_with_variants() -> tempfile::TempDir {
    let site = support::copy_site(&support::example_site());
    let file = site.path().join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&file).expect("example partner");
    text.push_str(VARIANTS);
    std::fs::write(&file, text).unwrap();
    site
}

pub(crate) fn shown(body: &str) -> &'static str {
    match (
        body.contains(SPEED_HEADLINE),
        body.contains(CONTROL_HEADLINE),
    ) {
        (true, false) => "speed",
        (false, true) => "control",
        _ => panic!("the page shows neither or both headlines"),
    }
}

/// "Now" of the event table below: its last look ends here.
pub(crate) const TEST_NOW: &str = "2026-11-24T00:00:00Z";
/// Days of traffic before [`TEST_NOW`]: six weekly looks.
pub(crate) const TEST_DAYS: i64 = 42;
/// Visitors per variant and day.
pub(crate) const PER_DAY: i64 = 10;

/// A known truth, counted rather than drawn: every day 10 visitors per variant; a lead magnet
/// for 2 in 10 of the control's visitors and 4 in 10 of `speed`'s (a 20-point lift), a CTA for
/// 1 in 10 of both (no difference), no activation.
pub(crate) fn events_with_variants(dir: &std::path::Path) -> std::path::PathBuf {
    events_with_forged_variants(dir, 0)
}

/// [`events_with_variants`] plus, every day of the test, `forged` visitors whose rows have no
/// variant (what the collectors store for a forged or unsigned variant cookie), each of them
/// taking the lead magnet and the CTA: counted in any arm, they would skew the test.
pub(crate) fn events_with_forged_variants(
    dir: &std::path::Path,
    forged: i64,
) -> std::path::PathBuf {
    let path = dir.join(format!("experiment-events-{forged}.db"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    let end = partner_pages::events::Ts::parse(TEST_NOW).unwrap().0;
    let day = partner_pages::events::MS_PER_DAY;
    let mut ins = conn
        .prepare(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) \
             VALUES (?1, 'seo-consultant', 'default', ?2, '/p/seo-consultant/', ?3, ?4, ?5)",
        )
        .unwrap();
    let mut n = 0;
    for d in 0..TEST_DAYS {
        for (variant, lead_magnets) in [("control", 2), ("speed", 4), ("forged", forged)] {
            let stored = (variant != "forged").then_some(variant);
            let people = if variant == "forged" { forged } else { PER_DAY };
            for i in 0..people {
                let vid = format!("{variant}-{d}-{i}");
                let at = end - (TEST_DAYS - d) * day + i * 3_600_000;
                let mut row = |event: &str, at: i64| {
                    n += 1;
                    let ts = partner_pages::events::Ts(at).to_string();
                    ins.execute(rusqlite::params![format!("r{n}"), event, vid, ts, stored])
                        .unwrap();
                };
                row("visit", at);
                if i < lead_magnets {
                    row("lead_magnet", at + 60_000);
                }
                if i == people - 1 || variant == "forged" {
                    row("cta", at + 120_000);
                }
            }
        }
    }
    path
}

/// The variant key both collectors run with in the variant-cookie tests (`PP_VARIANT_SECRET`).
pub(crate) const VARIANT_KEY: &str = "test-variant-secret";
/// The tested partner of [`site_with_variants`].
pub(crate) const TESTED: &str = "seo-consultant";

/// What a collector must do with one variant cookie, as the shared rules say.
#[derive(Debug, Clone)]
pub(crate) struct CookieCase {
    /// What the cookie is, for messages.
    pub(crate) what: String,
    /// The visitor id of the case (each case its own visitor).
    pub(crate) visitor: String,
    /// The `Cookie` header sent.
    pub(crate) cookie: String,
    /// The variant the landing page shows.
    pub(crate) shown: String,
    /// The signed cookie value the landing page sets, if any.
    pub(crate) landing_sets: Option<String>,
    /// The `variant` column of the case's beacon and click rows.
    pub(crate) recorded: Option<String>,
    /// The signed cookie value the beacon and the click set, if any.
    pub(crate) event_sets: Option<String>,
}

/// Variant cookies a client can send, genuine and made up, with what the rules of the local
/// collector expect for each ([`partner_pages::collector::rules`], keyed with [`VARIANT_KEY`]).
/// Both collectors must do exactly this.
pub(crate) fn variant_cookie_cases(site: &std::path::Path) -> Vec<CookieCase> {
    use partner_pages::collector::{cookies, registry, requests, rows};
    let loaded = partner_pages::load(site, &Default::default()).expect("site loads");
    let reg = registry::Registry::from_site(&loaded)
        .with_variant_secret(Some(VARIANT_KEY.as_bytes().to_vec()));
    let key = VARIANT_KEY.as_bytes();
    type Value<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;
    let values: Vec<(&str, Value)> = vec![
        ("no variant cookie", Box::new(|_| None)),
        (
            "signed speed",
            Box::new(|v| Some(cookies::signed_variant(key, TESTED, v, "speed"))),
        ),
        (
            "signed control",
            Box::new(|v| Some(cookies::signed_variant(key, TESTED, v, "control"))),
        ),
        ("unsigned speed", Box::new(|_| Some("speed".into()))),
        ("unsigned control", Box::new(|_| Some("control".into()))),
        ("empty", Box::new(|_| Some(String::new()))),
        (
            "another visitor's signature",
            Box::new(|_| {
                Some(cookies::signed_variant(
                    key,
                    TESTED,
                    "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "speed",
                ))
            }),
        ),
        (
            "another partner's signature",
            Box::new(|v| Some(cookies::signed_variant(key, "nocode-agency", v, "speed"))),
        ),
        (
            "a guessed key",
            Box::new(|v| Some(cookies::signed_variant(b"guess", TESTED, v, "speed"))),
        ),
        (
            "an undeclared variant, signed",
            Box::new(|v| Some(cookies::signed_variant(key, TESTED, v, "winner"))),
        ),
        (
            "upper-case signature",
            Box::new(|v| {
                let s = cookies::signed_variant(key, TESTED, v, "speed");
                Some(format!("speed.{}", s["speed.".len()..].to_uppercase()))
            }),
        ),
        (
            "speed's signature on control",
            Box::new(|v| {
                Some(cookies::signed_variant(key, TESTED, v, "speed").replace("speed.", "control."))
            }),
        ),
        (
            "one digit short",
            Box::new(|v| {
                let s = cookies::signed_variant(key, TESTED, v, "speed");
                Some(s[..s.len() - 1].to_string())
            }),
        ),
        (
            "one digit more",
            Box::new(|v| {
                Some(format!(
                    "{}0",
                    cookies::signed_variant(key, TESTED, v, "speed")
                ))
            }),
        ),
    ];
    let mut out = Vec::new();
    for (i, (what, value)) in values.iter().enumerate() {
        let visitor = format!("{i:08x}-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
        let mut cookie = format!("pp_vid={visitor}");
        if let Some(v) = value(&visitor) {
            cookie.push_str(&format!("; pp_x_{TESTED}={v}"));
        }
        let jar = cookies::parse_cookies([cookie.as_str()], "pp");
        let view = cookies::landing_view(&reg, &format!("/p/{TESTED}/"), &jar, || unreachable!())
            .expect("a landing view of the tested partner");
        let body = format!(r#"{{"e":"visit","p":"{TESTED}","u":"/p/{TESTED}/"}}"#);
        let event = match requests::beacon(&reg, body.as_bytes(), &jar, || unreachable!()) {
            Ok(rows::BeaconOutcome::Record(a)) => a,
            other => panic!("{what}: the rules record no visit: {other:?}"),
        };
        let click = requests::click(&reg, TESTED, None, &jar, || unreachable!()).expect("a click");
        assert_eq!(
            (&click.event.variant, &click.event.variant_cookie),
            (&event.variant, &event.variant_cookie),
            "{what}: a click and a visit assign alike"
        );
        out.push(CookieCase {
            what: what.to_string(),
            visitor,
            cookie,
            shown: view.variant,
            landing_sets: view.variant_cookie,
            recorded: event.variant,
            event_sets: event.variant_cookie,
        });
    }
    // The corpus covers both outcomes: kept and recorded, refused and recorded as none.
    assert!(out.iter().filter(|c| c.recorded.is_none()).count() >= 10);
    assert_eq!(
        out.iter()
            .filter(|c| c.recorded.is_some() && c.event_sets.is_none())
            .count(),
        2
    );
    out
}

/// The value a collector set for the variant cookie among `set_cookie` headers.
pub(crate) fn set_variant_value(set_cookie: &[&str]) -> Option<String> {
    set_cookie.iter().find_map(|c| {
        c.strip_prefix(&format!("pp_x_{TESTED}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_string())
    })
}
