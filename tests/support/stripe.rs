//! Helpers for the Stripe webhook tests of both tiers: a site with `stripe:` and coupons, the
//! event fixtures (shaped like Stripe's own, API version 2025-03-31.basil) and the money rows.

use crate::support;
use serde_json::Value;
use std::path::Path;

/// The endpoint secrets the tests configure (two: a rotation in progress).
pub(crate) const SECRETS: [&str; 2] = ["whsec_test_old_secret", "whsec_test_new_secret"];

/// The example site with `stripe:` (`prefer` as given) and coupons: `SEO20` for
/// seo-consultant, `FOUNDERS` for founder-community.
pub(crate) fn site(prefer: &str) -> tempfile::TempDir {
    let site = support::copy_site(&support::example_site());
    let cfg = site.path().join("partner-pages.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!("stripe:\n  prefer: {prefer}\n"));
    std::fs::write(&cfg, text).unwrap();
    for (code, coupon) in [
        ("seo-consultant", "SEO20"),
        ("founder-community", "FOUNDERS"),
    ] {
        let p = site.path().join(format!("partners/{code}.yaml"));
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&format!("coupons: [{coupon}]\n"));
        std::fs::write(&p, text).unwrap();
    }
    site
}

/// A fixture (`checkout.session.completed`, `invoice.paid`, `charge.refunded`) with `edits`
/// applied (JSON pointer -> value).
pub(crate) fn event(kind: &str, edits: &[(&str, Value)]) -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/stripe/{kind}.json"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (ptr, val) in edits {
        *v.pointer_mut(ptr)
            .unwrap_or_else(|| panic!("{ptr} in {kind}")) = val.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

/// One payment or refund row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Money {
    pub(crate) partner: String,
    pub(crate) kind: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) event: String,
    pub(crate) object: Option<String>,
    pub(crate) rule: String,
}

/// The payment and refund rows of a SQLite file (the `serve` database or wrangler's local D1).
pub(crate) fn money(db: &Path) -> Vec<Money> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT partner_code, event_name, amount_minor, currency, stripe_event_id, \
             stripe_object_id, attribution_rule FROM partner_events \
             WHERE event_name IN ('payment', 'refund') ORDER BY created_at, rowid",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Money {
            partner: r.get(0)?,
            kind: r.get(1)?,
            amount: r.get(2)?,
            currency: r.get(3)?,
            event: r.get(4)?,
            object: r.get(5)?,
            rule: r.get(6)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}
