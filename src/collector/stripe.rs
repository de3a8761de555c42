//! Collector stage: Stripe webhooks, `POST <base>/stripe` (the Worker's twin is the Stripe
//! section of `templates/collector/worker.js`; both follow the rules below).
//!
//! Takes: the raw body and `Stripe-Signature` header of a webhook delivery, the endpoint
//! secrets, and the site's [`Rules`] (partners, coupons, which attribution wins). Gives: at
//! most one row per Stripe event in `partner_events` (event name `payment` or `refund`, the
//! payment columns of migration 0004), or a refusal that stores nothing.
//!
//! - Signature, exactly as Stripe specifies: the header is `t=<unix seconds>,v1=<hex>[,v1=...]`
//!   (other schemes such as `v0` ignored); accepted when some `v1` equals the hex HMAC-SHA256 of
//!   `"{t}.{raw body}"` under one of the endpoint secrets (several while a secret is rolled, or
//!   for test and live endpoints), compared in constant time, and `t` is at most
//!   [`TOLERANCE_SECS`] old. Anything else: 400, nothing stored. The body is parsed only after.
//! - Order of checks: body over [`MAX_STRIPE_BODY`] bytes -> 400; no secret configured -> 503;
//!   signature -> 400; not a Stripe event -> 400; other event types -> 200, nothing stored;
//!   a known event with an unknown currency or an amount that is not a non-negative integer
//!   -> 400, nothing stored.
//! - `checkout.session.completed`: skipped when `mode` is `setup` or `amount_total` is 0;
//!   amount `amount_total - total_details.amount_tax`. A subscription's session stands for its
//!   first invoice (its `invoice` id is the payment's object id, so the `invoice.paid` of that
//!   invoice does not count it twice). `invoice.paid`: `total_excluding_tax` when fully paid
//!   (`amount_remaining` 0), else `amount_paid`; its payment is read from `payments` (API
//!   versions since 2025-03-31) or the older `payment_intent` / `charge`.
//!   `charge.refunded`: a refund row of its own, negative, pointing at the payment (its object
//!   id), net of tax in the payment's proportion; from the charge's cumulative
//!   `amount_refunded`, so deliveries in any order add up to the refunded total. A refund of a
//!   charge no payment row knows is kept apart: partner code empty, rule `unknown_charge`.
//! - Each Stripe event id is stored once (unique index): a duplicate delivery answers 200 and
//!   stores nothing; so does a second event for an object already stored (a subscription's
//!   first invoice). The whole decision runs in one transaction, so a failed write (503) leaves
//!   nothing and Stripe's retry starts over.
//! - Attribution ([`decide`]): by visitor (our visitor id in `client_reference_id` or
//!   metadata `pp_visitor_id`: the latest stage row of that visitor within the attribution
//!   window), else by customer (the first attributed payment of the same Stripe customer, or
//!   the first `/s` row of the `user_id` in metadata `user_id`), and by coupon (a coupon or
//!   promotion code id listed in a partner's `coupons:`). When a link (visitor or customer)
//!   and a coupon name different partners, `stripe.prefer` decides (default `link`) and the
//!   rule says so (`visitor_over_coupon`, `coupon_over_customer`, ...). A payment no rule
//!   matches is stored with an empty partner code and rule `none`.

use crate::config::StripePrefer;
use crate::site::Site;
pub use crate::stage::UNKNOWN_CHARGE;
use crate::stage::{PAYMENT, REFUND};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Path of the webhook under the base path.
pub const STRIPE_PATH: &str = "/stripe";
/// Largest accepted webhook body (Stripe's events are a few KB; an invoice with many lines
/// stays far below).
pub const MAX_STRIPE_BODY: usize = 256 * 1024;
/// Oldest accepted signature timestamp, in seconds (Stripe's default tolerance).
pub const TOLERANCE_SECS: i64 = 300;
/// Environment variable / wrangler secret with the endpoint secret(s) (`whsec_...`), separated
/// by commas or white space.
pub const SECRET_ENV: &str = "PP_STRIPE_WEBHOOK_SECRET";
/// Header Stripe signs with.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// Metadata key of our visitor id (besides `client_reference_id`).
pub const VISITOR_METADATA: &str = "pp_visitor_id";
/// Metadata key of the product's user id (as sent on `/s`).
pub const USER_METADATA: &str = "user_id";

/// Currencies Stripe settles in (lower case, as Stripe writes them): the list reward rules use.
pub use crate::reward::money::CURRENCIES;

/// What the webhook needs from the site.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// Known partner codes and their campaigns.
    pub partners: BTreeMap<String, BTreeSet<String>>,
    /// Coupon id, upper case -> partner code.
    pub coupons: BTreeMap<String, String>,
    /// Which wins when a link and a coupon disagree.
    pub prefer: StripePrefer,
    /// The attribution window, in seconds.
    pub window_secs: i64,
}

impl Rules {
    /// The rules of a site with a `stripe:` section, else `None` (the endpoint answers 404).
    pub fn from_site(site: &Site) -> Option<Rules> {
        let cfg = site.config.stripe.as_ref()?;
        Some(Rules {
            partners: site
                .partners
                .iter()
                .map(|p| {
                    let c = p.all_campaigns().into_iter().map(String::from).collect();
                    (p.code.clone(), c)
                })
                .collect(),
            coupons: site
                .partners
                .iter()
                .flat_map(|p| {
                    p.coupons
                        .iter()
                        .map(|c| (c.to_ascii_uppercase(), p.code.clone()))
                })
                .collect(),
            prefer: cfg.prefer,
            window_secs: i64::from(site.config.attribution.window_days) * 86_400,
        })
    }
}

/// The endpoint secrets in `text`: separated by commas or white space, empty parts skipped.
pub fn parse_secrets(text: &str) -> Vec<Vec<u8>> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

/// Check a `Stripe-Signature` header as Stripe's libraries do. `Err` says why (the 400 text).
pub fn verify(
    secrets: &[Vec<u8>],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    use hmac::{Hmac, Mac};
    let header = header.ok_or("no Stripe-Signature header")?;
    let mut t: Option<&str> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        let Some((k, v)) = item.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" => t = Some(v),
            "v1" => {
                if let Some(sig) = hex32(v) {
                    v1.push(sig);
                }
            }
            _ => {}
        }
    }
    let t = t
        .filter(|t| (1..=12).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or("no valid timestamp in Stripe-Signature")?;
    if v1.is_empty() {
        return Err("no v1 signature in Stripe-Signature");
    }
    let matched = secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time; every candidate is tried.
        v1.iter()
            .fold(false, |ok, sig| mac.clone().verify_slice(sig).is_ok() | ok)
    });
    if !matched {
        return Err("no signature matches the body");
    }
    let ts: i64 = t
        .parse()
        .map_err(|_| "no valid timestamp in Stripe-Signature")?;
    if now - ts > TOLERANCE_SECS {
        return Err("timestamp outside the tolerance");
    }
    Ok(())
}

fn hex32(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// The hex HMAC-SHA256 Stripe would send for `payload` at `t` (tests and docs).
pub fn sign(secret: &[u8], t: i64, payload: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A payment read from an event.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentIn {
    /// `evt_...`
    pub event_id: String,
    /// The event's `created` (unix seconds): the row's time.
    pub created: i64,
    /// Net of tax, minor units.
    pub amount: i64,
    /// Lower case.
    pub currency: String,
    /// The Checkout Session, or the invoice it paid.
    pub object_id: String,
    /// `cus_...`
    pub customer: Option<String>,
    /// The PaymentIntent or charge.
    pub charge: Option<String>,
    /// Our visitor id, from `client_reference_id` or metadata.
    pub visitor: Option<String>,
    /// The product's user id, from metadata.
    pub user: Option<String>,
    /// Coupon and promotion code ids used.
    pub coupons: Vec<String>,
}

/// A refund read from a `charge.refunded` event.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundIn {
    /// `evt_...`
    pub event_id: String,
    /// The event's `created`.
    pub created: i64,
    /// `ch_...`
    pub charge: String,
    /// The charge's PaymentIntent.
    pub payment_intent: Option<String>,
    /// The charge's amount (tax included).
    pub amount: i64,
    /// Refunded so far, cumulative.
    pub refunded: i64,
    /// Lower case.
    pub currency: String,
    /// `cus_...`
    pub customer: Option<String>,
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Nothing to store (the reason is the 200's text).
    Ignore(String),
    /// A payment.
    Payment(PaymentIn),
    /// A refund.
    Refund(RefundIn),
}

/// Read a verified body. `Err` is a 400's text.
pub fn parse(body: &[u8]) -> Result<Parsed, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let event_id = v
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or("not a Stripe event: no `id`")?
        .to_string();
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or("not a Stripe event: no `type`")?;
    let created = v
        .get("created")
        .and_then(Value::as_i64)
        .ok_or("not a Stripe event: no integer `created`")?;
    let obj = v
        .pointer("/data/object")
        .filter(|o| o.is_object())
        .ok_or("not a Stripe event: no `data.object`")?;
    match kind {
        "checkout.session.completed" => session(obj, event_id, created),
        "invoice.paid" => invoice(obj, event_id, created),
        "charge.refunded" => refund(obj, event_id, created),
        other => Ok(Parsed::Ignore(format!("event type {other} is not used"))),
    }
}

fn amount(obj: &Value, ptr: &str) -> Result<Option<i64>, String> {
    match obj.pointer(ptr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(a) if a >= 0 => Ok(Some(a)),
            _ => Err(format!(
                "`{}` is {n}: expected a non-negative integer amount in minor units",
                &ptr[1..].replace('/', ".")
            )),
        },
        Some(_) => Err(format!(
            "`{}` is not a number: expected an integer amount in minor units",
            &ptr[1..].replace('/', ".")
        )),
    }
}

fn currency(obj: &Value) -> Result<String, String> {
    let c = obj.get("currency").and_then(Value::as_str).unwrap_or("");
    if CURRENCIES.contains(&c) {
        Ok(c.to_string())
    } else {
        Err(format!(
            "unknown currency `{c}`: expected a lower-case ISO 4217 code Stripe settles in"
        ))
    }
}

fn text(obj: &Value, ptr: &str) -> Option<String> {
    match obj.pointer(ptr) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        // An expanded object: its id.
        Some(o @ Value::Object(_)) => o
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .map(str::to_string),
        _ => None,
    }
}

fn first_text(obj: &Value, ptrs: &[&str]) -> Option<String> {
    ptrs.iter().find_map(|p| text(obj, p))
}

/// Coupon and promotion code ids of `discounts` (expanded objects or ids) and `discount`.
fn coupons(obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut take = |d: &Value| {
        for p in ["/coupon", "/promotion_code", "/source/coupon"] {
            if let Some(id) = text(d, p) {
                out.push(id);
            }
        }
    };
    if let Some(Value::Array(ds)) = obj.get("discounts") {
        ds.iter().for_each(&mut take);
    }
    if let Some(d @ Value::Object(_)) = obj.get("discount") {
        take(d);
    }
    if let Some(code) = text(obj, "/metadata/coupon") {
        out.push(code);
    }
    out
}

fn session(s: &Value, event_id: String, created: i64) -> Result<Parsed, String> {
    if s.get("mode").and_then(Value::as_str) == Some("setup") {
        return Ok(Parsed::Ignore("a setup session takes no payment".into()));
    }
    let total = amount(s, "/amount_total")?.unwrap_or(0);
    let tax = amount(s, "/total_details/amount_tax")?.unwrap_or(0);
    let currency = currency(s)?;
    if total == 0 {
        return Ok(Parsed::Ignore("the session's total is 0".into()));
    }
    let session_id = text(s, "/id").ok_or("the session has no `id`")?;
    let subscription = s.get("mode").and_then(Value::as_str) == Some("subscription");
    let object_id = match (subscription, text(s, "/invoice")) {
        (true, Some(inv)) => inv,
        _ => session_id,
    };
    Ok(Parsed::Payment(PaymentIn {
        event_id,
        created,
        amount: total.saturating_sub(tax),
        currency,
        object_id,
        customer: text(s, "/customer"),
        charge: text(s, "/payment_intent"),
        visitor: first_text(
            s,
            &[
                "/client_reference_id",
                "/metadata/pp_visitor_id",
                "/subscription_data/metadata/pp_visitor_id",
            ],
        ),
        user: text(s, "/metadata/user_id"),
        coupons: coupons(s),
    }))
}

fn invoice(i: &Value, event_id: String, created: i64) -> Result<Parsed, String> {
    let paid = amount(i, "/amount_paid")?.unwrap_or(0);
    let remaining = amount(i, "/amount_remaining")?.unwrap_or(0);
    let excl = amount(i, "/total_excluding_tax")?;
    let currency = currency(i)?;
    let net = match excl {
        Some(e) if remaining == 0 => e,
        _ => paid,
    };
    if net == 0 {
        return Ok(Parsed::Ignore("the invoice's total is 0".into()));
    }
    let id = text(i, "/id").ok_or("the invoice has no `id`")?;
    // Since 2025-03-31 the payment is in `payments`; before, on the invoice itself.
    let charge = first_text(
        i,
        &[
            "/payments/data/0/payment/payment_intent",
            "/payments/data/0/payment/charge",
            "/payment_intent",
            "/charge",
        ],
    );
    let meta = |key: &str| {
        first_text(
            i,
            &[
                &format!("/metadata/{key}"),
                &format!("/parent/subscription_details/metadata/{key}"),
                &format!("/subscription_details/metadata/{key}"),
            ],
        )
    };
    Ok(Parsed::Payment(PaymentIn {
        event_id,
        created,
        amount: net,
        currency,
        object_id: id,
        customer: text(i, "/customer"),
        charge,
        visitor: meta(VISITOR_METADATA),
        user: meta(USER_METADATA),
        coupons: coupons(i),
    }))
}

fn refund(c: &Value, event_id: String, created: i64) -> Result<Parsed, String> {
    let amount = amount(c, "/amount")?.unwrap_or(0);
    let refunded = amount_required(c, "/amount_refunded")?;
    let currency = currency(c)?;
    let charge = text(c, "/id").ok_or("the charge has no `id`")?;
    Ok(Parsed::Refund(RefundIn {
        event_id,
        created,
        charge,
        payment_intent: text(c, "/payment_intent"),
        amount,
        refunded,
        currency,
        customer: text(c, "/customer"),
    }))
}

fn amount_required(obj: &Value, ptr: &str) -> Result<i64, String> {
    amount(obj, ptr)?.ok_or_else(|| format!("`{}` is missing", &ptr[1..]))
}

/// Who a payment is credited to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Touch {
    /// Partner code.
    pub partner: String,
    /// Campaign.
    pub campaign: String,
    /// Our visitor id, when known.
    pub visitor: Option<String>,
    /// The product's user id, when known.
    pub user: Option<String>,
}

/// The attribution of a payment: the link's touch (with its rule, `visitor` or `customer`)
/// and the coupon's partner, decided by `prefer`. Gives the touch (none: unmatched) and the
/// rule to store.
pub fn decide(
    prefer: StripePrefer,
    link: Option<(Touch, &'static str)>,
    coupon: Option<String>,
) -> (Option<Touch>, String) {
    match (link, coupon) {
        (None, None) => (None, "none".into()),
        (Some((t, rule)), None) => (Some(t), rule.into()),
        (None, Some(p)) => (
            Some(Touch {
                partner: p,
                campaign: crate::partner::DEFAULT_CAMPAIGN.into(),
                ..Default::default()
            }),
            "coupon".into(),
        ),
        (Some((t, rule)), Some(p)) if t.partner == p => (Some(t), rule.into()),
        (Some((t, rule)), Some(p)) => match prefer {
            StripePrefer::Link => (Some(t), format!("{rule}_over_coupon")),
            StripePrefer::Coupon => (
                Some(Touch {
                    partner: p,
                    campaign: crate::partner::DEFAULT_CAMPAIGN.into(),
                    visitor: t.visitor,
                    user: t.user,
                }),
                format!("coupon_over_{rule}"),
            ),
        },
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A row was stored; the rule (or `unknown_charge`).
    Stored(String),
    /// An unmatched payment row of the same object was credited now.
    Credited(String),
    /// Nothing new (duplicate delivery, object already stored, refund already counted).
    Nothing(String),
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(super::rows::timestamp)
        .unwrap_or_else(|| super::rows::timestamp(chrono::Utc::now()))
}

/// Store what `parsed` asks for in one immediate transaction on `conn`.
pub fn apply(
    conn: &mut Connection,
    rules: &Rules,
    parsed: &Parsed,
    new_id: &dyn Fn() -> String,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let event_id = match parsed {
        Parsed::Ignore(why) => return Ok(Outcome::Nothing(why.clone())),
        Parsed::Payment(p) => &p.event_id,
        Parsed::Refund(r) => &r.event_id,
    };
    let seen: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM partner_events WHERE stripe_event_id = ?1",
            [event_id],
            |r| r.get(0),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(Outcome::Nothing(format!("event {event_id} already stored")));
    }
    let out = match parsed {
        Parsed::Payment(p) => payment(&tx, rules, p, new_id)?,
        Parsed::Refund(r) => refund_row(&tx, r, new_id)?,
        Parsed::Ignore(_) => unreachable!("returned above"),
    };
    tx.commit()?;
    Ok(out)
}

fn touch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Touch> {
    Ok(Touch {
        partner: r.get(0)?,
        campaign: r.get(1)?,
        visitor: r.get(2)?,
        user: r.get(3)?,
    })
}

/// The link side of the attribution: visitor, then customer (Stripe customer, then user id).
fn link(
    tx: &Connection,
    rules: &Rules,
    p: &PaymentIn,
) -> rusqlite::Result<Option<(Touch, &'static str)>> {
    let known = |t: &Touch| rules.partners.contains_key(&t.partner);
    if let Some(v) = p.visitor.as_deref().filter(|v| v.len() <= 128) {
        let since = iso(p.created - rules.window_secs);
        let t = tx
            .query_row(
                "SELECT partner_code, campaign, visitor_id, user_id FROM partner_events \
                 WHERE visitor_id = ?1 AND event_name IN ('click', 'visit', 'lead_magnet', 'cta', 'activation') \
                 AND created_at >= ?2 AND created_at <= ?3 ORDER BY created_at DESC LIMIT 1",
                rusqlite::params![v, since, iso(p.created + 60)],
                touch_row,
            )
            .optional()?;
        if let Some(t) = t.filter(known) {
            return Ok(Some((t, "visitor")));
        }
    }
    if let Some(c) = &p.customer {
        let t = tx
            .query_row(
                "SELECT partner_code, campaign, visitor_id, user_id FROM partner_events \
                 WHERE stripe_customer_id = ?1 AND event_name = 'payment' AND partner_code <> '' \
                 ORDER BY created_at LIMIT 1",
                [c],
                touch_row,
            )
            .optional()?;
        if let Some(t) = t.filter(known) {
            return Ok(Some((t, "customer")));
        }
    }
    if let Some(u) = &p.user {
        let t = tx
            .query_row(
                "SELECT partner_code, campaign, visitor_id, user_id FROM partner_events \
                 WHERE user_id = ?1 AND stripe_event_id IS NULL AND partner_code <> '' \
                 ORDER BY created_at LIMIT 1",
                [u],
                touch_row,
            )
            .optional()?;
        if let Some(t) = t.filter(known) {
            return Ok(Some((t, "customer")));
        }
    }
    Ok(None)
}

fn payment(
    tx: &Connection,
    rules: &Rules,
    p: &PaymentIn,
    new_id: &dyn Fn() -> String,
) -> rusqlite::Result<Outcome> {
    let link = link(tx, rules, p)?;
    let coupon = p
        .coupons
        .iter()
        .find_map(|c| rules.coupons.get(&c.to_ascii_uppercase()).cloned());
    let (touch, rule) = decide(rules.prefer, link, coupon);
    let touch = touch.unwrap_or_default();
    let user = touch.user.clone().or_else(|| p.user.clone());
    let visitor = touch.visitor.clone().or_else(|| p.visitor.clone());
    // A subscription's first invoice comes as a session and as `invoice.paid`: one row.
    let existing: Option<(String, String)> = tx
        .query_row(
            "SELECT id, partner_code FROM partner_events WHERE event_name = 'payment' AND stripe_object_id = ?1",
            [&p.object_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, partner)) = existing {
        if partner.is_empty() && !touch.partner.is_empty() {
            tx.execute(
                "UPDATE partner_events SET partner_code = ?2, campaign = ?3, visitor_id = ?4, \
                 user_id = ?5, attribution_rule = ?6, \
                 stripe_customer_id = coalesce(stripe_customer_id, ?7), \
                 stripe_charge_id = coalesce(stripe_charge_id, ?8) WHERE id = ?1",
                rusqlite::params![
                    id,
                    touch.partner,
                    touch.campaign,
                    visitor,
                    user,
                    rule,
                    p.customer,
                    p.charge
                ],
            )?;
            return Ok(Outcome::Credited(rule));
        }
        return Ok(Outcome::Nothing(format!(
            "payment {} already stored",
            p.object_id
        )));
    }
    let campaign = if touch.partner.is_empty() {
        crate::partner::DEFAULT_CAMPAIGN.to_string()
    } else {
        touch.campaign.clone()
    };
    tx.execute(
        &crate::model::event::insert_sql("INSERT"),
        rusqlite::params![
            new_id(),
            touch.partner,
            campaign,
            PAYMENT,
            STRIPE_PATH,
            visitor,
            iso(p.created),
            None::<f64>,
            user,
            None::<String>,
            p.amount,
            p.currency,
            p.event_id,
            p.object_id,
            p.customer,
            p.charge,
            rule
        ],
    )?;
    Ok(Outcome::Stored(rule))
}

fn refund_row(
    tx: &Connection,
    r: &RefundIn,
    new_id: &dyn Fn() -> String,
) -> rusqlite::Result<Outcome> {
    struct Paid {
        partner: String,
        campaign: String,
        visitor: Option<String>,
        user: Option<String>,
        object: String,
        customer: Option<String>,
        amount: i64,
        currency: String,
        rule: Option<String>,
    }
    let pi = r.payment_intent.clone().unwrap_or_default();
    let paid = tx
        .query_row(
            "SELECT partner_code, campaign, visitor_id, user_id, stripe_object_id, \
             stripe_customer_id, amount_minor, currency, attribution_rule FROM partner_events \
             WHERE event_name = 'payment' AND stripe_charge_id IN (?1, ?2) LIMIT 1",
            [&r.charge, &pi],
            |row| {
                Ok(Paid {
                    partner: row.get(0)?,
                    campaign: row.get(1)?,
                    visitor: row.get(2)?,
                    user: row.get(3)?,
                    object: row.get(4)?,
                    customer: row.get(5)?,
                    amount: row.get::<_, Option<i64>>(6)?.unwrap_or(0),
                    currency: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    rule: row.get(8)?,
                })
            },
        )
        .optional()?;
    let (target, already, row): (i64, i64, Paid) = match paid {
        Some(p) if p.currency == r.currency => {
            // Net of tax in the payment's proportion; never more than the payment.
            let target = if r.amount > 0 {
                ((i128::from(r.refunded) * i128::from(p.amount) + i128::from(r.amount) / 2)
                    / i128::from(r.amount)) as i64
            } else {
                r.refunded
            }
            .min(p.amount);
            let already: i64 = tx.query_row(
                "SELECT coalesce(-sum(amount_minor), 0) FROM partner_events \
                 WHERE event_name = 'refund' AND stripe_object_id = ?1",
                [&p.object],
                |x| x.get(0),
            )?;
            (target, already, p)
        }
        _ => {
            let already: i64 = tx.query_row(
                "SELECT coalesce(-sum(amount_minor), 0) FROM partner_events \
                 WHERE event_name = 'refund' AND partner_code = '' AND stripe_charge_id = ?1",
                [&r.charge],
                |x| x.get(0),
            )?;
            let unknown = Paid {
                partner: String::new(),
                campaign: crate::partner::DEFAULT_CAMPAIGN.into(),
                visitor: None,
                user: None,
                object: String::new(),
                customer: r.customer.clone(),
                amount: 0,
                currency: r.currency.clone(),
                rule: Some(UNKNOWN_CHARGE.into()),
            };
            (r.refunded, already, unknown)
        }
    };
    let delta = target - already;
    if delta <= 0 {
        return Ok(Outcome::Nothing(format!(
            "the refunds of {} are already counted",
            r.charge
        )));
    }
    let rule = row.rule.clone().unwrap_or_else(|| "none".into());
    tx.execute(
        &crate::model::event::insert_sql("INSERT"),
        rusqlite::params![
            new_id(),
            row.partner,
            row.campaign,
            REFUND,
            STRIPE_PATH,
            row.visitor,
            iso(r.created),
            None::<f64>,
            row.user,
            None::<String>,
            -delta,
            r.currency,
            r.event_id,
            (!row.object.is_empty()).then_some(row.object),
            row.customer,
            r.charge,
            rule
        ],
    )?;
    Ok(Outcome::Stored(rule))
}

#[cfg(test)]
#[path = "stripe_tests.rs"]
mod tests;
