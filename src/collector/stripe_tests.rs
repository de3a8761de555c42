use super::*;
use serde_json::json;

const SESSION: &str = include_str!("../../tests/fixtures/stripe/checkout.session.completed.json");
const INVOICE: &str = include_str!("../../tests/fixtures/stripe/invoice.paid.json");
const REFUND: &str = include_str!("../../tests/fixtures/stripe/charge.refunded.json");

/// A fixture with `edits` applied (JSON pointer -> value).
fn fixture(text: &str, edits: &[(&str, Value)]) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(text).unwrap();
    for (ptr, val) in edits {
        *v.pointer_mut(ptr).unwrap_or_else(|| panic!("{ptr}")) = val.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

fn header(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

#[test]
fn signatures_are_checked_as_stripe_specifies() {
    let secrets = parse_secrets("whsec_old, whsec_new\n");
    assert_eq!(secrets, vec![b"whsec_old".to_vec(), b"whsec_new".to_vec()]);
    let body = b"{\"id\":\"evt_1\"}";
    let now = 1_764_000_000;
    // Either secret; several v1 (a rotation) with one matching; v0 ignored.
    assert_eq!(
        verify(&secrets, Some(&header(b"whsec_new", now, body)), body, now),
        Ok(())
    );
    let several = format!(
        "t={now},v1={},v0=abc,v1={}",
        "0".repeat(64),
        sign(b"whsec_old", now, body)
    );
    assert_eq!(verify(&secrets, Some(&several), body, now), Ok(()));
    // Tampered body, wrong secret, no v1, no t, no header.
    let h = header(b"whsec_new", now, body);
    assert!(verify(&secrets, Some(&h), b"{\"id\":\"evt_2\"}", now).is_err());
    assert!(verify(&secrets, Some(&header(b"whsec_x", now, body)), body, now).is_err());
    assert!(verify(&secrets, Some(&format!("t={now}")), body, now).is_err());
    let no_t = format!("v1={}", sign(b"whsec_new", now, body));
    assert!(verify(&secrets, Some(&no_t), body, now).is_err());
    assert!(verify(&secrets, None, body, now).is_err());
    // 300 s old is accepted, 301 s is not.
    assert_eq!(verify(&secrets, Some(&h), body, now + 300), Ok(()));
    assert_eq!(
        verify(&secrets, Some(&h), body, now + 301),
        Err("timestamp outside the tolerance")
    );
    // No secret at all accepts nothing.
    assert!(verify(&[], Some(&h), body, now).is_err());
}

#[test]
fn the_three_event_types_read_net_of_tax() {
    let Parsed::Payment(p) = parse(&fixture(SESSION, &[])).unwrap() else {
        panic!()
    };
    assert_eq!((p.amount, p.currency.as_str()), (4900, "eur"));
    assert_eq!(p.object_id, "cs_test_a1B2c3D4e5F6g7H8i9J0");
    assert_eq!(p.charge.as_deref(), Some("pi_3QkPaymentIntent0001"));
    assert_eq!(p.visitor.as_deref(), Some("@VISITOR@"));
    let Parsed::Payment(i) = parse(&fixture(INVOICE, &[])).unwrap() else {
        panic!()
    };
    assert_eq!(
        (i.amount, i.object_id.as_str()),
        (2000, "in_1QkRenewal000000000001")
    );
    // The current API version's invoice payments, not the charge.
    assert_eq!(i.charge.as_deref(), Some("pi_3QkRenewalIntent0001"));
    // Partly paid: what was paid.
    let Parsed::Payment(part) = parse(&fixture(
        INVOICE,
        &[
            ("/data/object/amount_remaining", json!(400)),
            ("/data/object/amount_paid", json!(2000)),
        ],
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!(part.amount, 2000);
    let Parsed::Refund(r) = parse(&fixture(REFUND, &[])).unwrap() else {
        panic!()
    };
    assert_eq!((r.amount, r.refunded), (5880, 2940));
    // Setup sessions, zero totals and other types are ignored.
    for body in [
        fixture(SESSION, &[("/data/object/mode", json!("setup"))]),
        fixture(SESSION, &[("/data/object/amount_total", json!(0))]),
        fixture(SESSION, &[("/type", json!("customer.created"))]),
    ] {
        assert!(matches!(parse(&body), Ok(Parsed::Ignore(_))), "{body:?}");
    }
}

#[test]
fn bad_amounts_and_currencies_are_refused_with_their_field() {
    let e = parse(&fixture(
        SESSION,
        &[("/data/object/amount_total", json!(58.8))],
    ))
    .unwrap_err();
    assert!(e.contains("amount_total") && e.contains("integer"), "{e}");
    let e = parse(&fixture(
        SESSION,
        &[("/data/object/amount_total", json!("5880"))],
    ))
    .unwrap_err();
    assert!(e.contains("not a number"), "{e}");
    let e = parse(&fixture(
        INVOICE,
        &[("/data/object/currency", json!("xyz"))],
    ))
    .unwrap_err();
    assert!(e.contains("unknown currency `xyz`"), "{e}");
    let e = parse(&fixture(
        REFUND,
        &[("/data/object/amount_refunded", json!(-1))],
    ))
    .unwrap_err();
    assert!(e.contains("amount_refunded"), "{e}");
    assert!(parse(b"[1]").is_err());
    assert!(parse(b"not json").is_err());
}

#[test]
fn link_or_coupon_as_the_site_says() {
    let t = |p: &str| Touch {
        partner: p.into(),
        campaign: "launch".into(),
        visitor: Some("v".into()),
        user: None,
    };
    let link = StripePrefer::Link;
    let coupon = StripePrefer::Coupon;
    assert_eq!(decide(link, None, None), (None, "none".into()));
    assert_eq!(decide(link, Some((t("a"), "visitor")), None).1, "visitor");
    assert_eq!(decide(link, None, Some("b".into())).1, "coupon");
    assert_eq!(
        decide(link, Some((t("a"), "visitor")), Some("a".into())).1,
        "visitor"
    );
    let (who, rule) = decide(link, Some((t("a"), "customer")), Some("b".into()));
    assert_eq!(
        (who.unwrap().partner.as_str(), rule.as_str()),
        ("a", "customer_over_coupon")
    );
    let (who, rule) = decide(coupon, Some((t("a"), "visitor")), Some("b".into()));
    let who = who.unwrap();
    assert_eq!(
        (who.partner.as_str(), rule.as_str()),
        ("b", "coupon_over_visitor")
    );
    assert_eq!(who.campaign, "default");
}

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(crate::model::event::SCHEMA_SQL).unwrap();
    crate::model::event::add_missing_columns(&conn).unwrap();
    conn
}

fn rules(prefer: StripePrefer) -> Rules {
    let mut partners = BTreeMap::new();
    for p in ["alice", "bob"] {
        partners.insert(p.to_string(), BTreeSet::from(["default".to_string()]));
    }
    Rules {
        partners,
        coupons: BTreeMap::from([("BOB20".to_string(), "bob".to_string())]),
        prefer,
        window_secs: 30 * 86_400,
    }
}

fn visit(conn: &Connection, visitor: &str, partner: &str, at: &str) {
    conn.execute(
        "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES (?1, ?2, 'default', 'visit', '/p/', ?3, ?4)",
        rusqlite::params![format!("{visitor}-{at}"), partner, visitor, at],
    )
    .unwrap();
}

fn counter() -> impl Fn() -> String {
    let n = std::cell::Cell::new(0);
    move || {
        n.set(n.get() + 1);
        format!("row-{}", n.get())
    }
}

fn money(conn: &Connection) -> Vec<(String, String, i64, String)> {
    conn.prepare("SELECT partner_code, event_name, amount_minor, attribution_rule FROM partner_events WHERE amount_minor IS NOT NULL ORDER BY created_at, id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn deliver(conn: &mut Connection, rules: &Rules, body: &[u8], ids: &dyn Fn() -> String) -> Outcome {
    apply(conn, rules, &parse(body).unwrap(), ids).unwrap()
}

#[test]
fn each_event_lands_once_and_refunds_point_at_their_payment() {
    let mut conn = db();
    let r = rules(StripePrefer::Link);
    let ids = counter();
    visit(&conn, "vis-1", "alice", "2025-11-24T10:00:00.000Z");
    let sale = fixture(
        SESSION,
        &[("/data/object/client_reference_id", json!("vis-1"))],
    );
    assert_eq!(
        deliver(&mut conn, &r, &sale, &ids),
        Outcome::Stored("visitor".into())
    );
    for _ in 0..2 {
        assert!(matches!(
            deliver(&mut conn, &r, &sale, &ids),
            Outcome::Nothing(_)
        ));
    }
    // A renewal of the same customer follows it.
    assert_eq!(
        deliver(&mut conn, &r, INVOICE.as_bytes(), &ids),
        Outcome::Stored("customer".into())
    );
    // Half refunded, then in full; an older delivery after the newer adds nothing.
    let half = fixture(REFUND, &[]);
    let full = fixture(
        REFUND,
        &[
            ("/id", json!("evt_refund_full")),
            ("/data/object/amount_refunded", json!(5880)),
        ],
    );
    assert_eq!(
        deliver(&mut conn, &r, &half, &ids),
        Outcome::Stored("visitor".into())
    );
    assert_eq!(
        deliver(&mut conn, &r, &full, &ids),
        Outcome::Stored("visitor".into())
    );
    let late = fixture(REFUND, &[("/id", json!("evt_refund_late"))]);
    assert!(matches!(
        deliver(&mut conn, &r, &late, &ids),
        Outcome::Nothing(_)
    ));
    let rows = money(&conn);
    let alice: i64 = rows.iter().filter(|r| r.0 == "alice").map(|r| r.2).sum();
    // 4900 + 2000 - 4900 (net of tax: 2940 and 5880 of 5880 gross are 2450 and 4900 net).
    assert_eq!(alice, 2000, "{rows:?}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.1 == "refund")
            .map(|r| r.2)
            .collect::<Vec<_>>(),
        [-2450, -2450]
    );
    let object: String = conn
        .query_row(
            "SELECT stripe_object_id FROM partner_events WHERE event_name = 'refund' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(object, "cs_test_a1B2c3D4e5F6g7H8i9J0");
}

#[test]
fn unknown_charges_and_unmatched_payments_are_kept_apart() {
    let mut conn = db();
    let r = rules(StripePrefer::Link);
    let ids = counter();
    let refund = fixture(
        REFUND,
        &[
            ("/data/object/id", json!("ch_nobody")),
            ("/data/object/payment_intent", json!("pi_nobody")),
        ],
    );
    assert_eq!(
        deliver(&mut conn, &r, &refund, &ids),
        Outcome::Stored(UNKNOWN_CHARGE.into())
    );
    let sale = fixture(
        SESSION,
        &[
            ("/data/object/client_reference_id", json!("no-such-visitor")),
            ("/data/object/customer", json!(null)),
        ],
    );
    assert_eq!(
        deliver(&mut conn, &r, &sale, &ids),
        Outcome::Stored("none".into())
    );
    let rows = money(&conn);
    assert_eq!(
        rows,
        vec![
            (String::new(), "payment".into(), 4900, "none".into()),
            (String::new(), "refund".into(), -2940, UNKNOWN_CHARGE.into()),
        ]
    );
}

#[test]
fn coupons_and_disagreements_follow_the_setting() {
    for (prefer, who, rule) in [
        (StripePrefer::Link, "alice", "visitor_over_coupon"),
        (StripePrefer::Coupon, "bob", "coupon_over_visitor"),
    ] {
        let mut conn = db();
        let r = rules(prefer);
        let ids = counter();
        visit(&conn, "vis-1", "alice", "2025-11-24T10:00:00.000Z");
        let both = fixture(
            SESSION,
            &[
                ("/data/object/client_reference_id", json!("vis-1")),
                (
                    "/data/object/discounts",
                    json!([{"coupon": null, "promotion_code": "bob20"}]),
                ),
            ],
        );
        assert_eq!(
            deliver(&mut conn, &r, &both, &ids),
            Outcome::Stored(rule.into())
        );
        assert_eq!(money(&conn)[0].0, who);
        // A coupon alone.
        let alone = fixture(
            SESSION,
            &[
                ("/id", json!("evt_coupon_only")),
                ("/data/object/id", json!("cs_coupon_only")),
                ("/data/object/client_reference_id", json!(null)),
                ("/data/object/customer", json!("cus_other")),
                (
                    "/data/object/discounts",
                    json!([{"coupon": {"id": "BOB20"}}]),
                ),
            ],
        );
        assert_eq!(
            deliver(&mut conn, &r, &alone, &ids),
            Outcome::Stored("coupon".into())
        );
    }
}

#[test]
fn a_subscriptions_first_invoice_counts_once_and_a_visit_too_old_does_not_attribute() {
    let mut conn = db();
    let r = rules(StripePrefer::Link);
    let ids = counter();
    // The visit is 40 days before the sale: outside the 30-day window.
    visit(&conn, "vis-old", "alice", "2025-10-15T10:00:00.000Z");
    let first = fixture(
        INVOICE,
        &[
            ("/id", json!("evt_first_invoice")),
            ("/data/object/id", json!("in_first")),
            ("/data/object/customer", json!("cus_new")),
            ("/data/object/billing_reason", json!("subscription_create")),
        ],
    );
    // invoice.paid first (no visitor on it): unmatched.
    assert_eq!(
        deliver(&mut conn, &r, &first, &ids),
        Outcome::Stored("none".into())
    );
    visit(&conn, "vis-2", "bob", "2025-11-20T10:00:00.000Z");
    let session = fixture(
        SESSION,
        &[
            ("/data/object/mode", json!("subscription")),
            ("/data/object/invoice", json!("in_first")),
            ("/data/object/customer", json!("cus_new")),
            ("/data/object/client_reference_id", json!("vis-2")),
        ],
    );
    // The session credits the same row instead of adding one.
    assert_eq!(
        deliver(&mut conn, &r, &session, &ids),
        Outcome::Credited("visitor".into())
    );
    let rows = money(&conn);
    assert_eq!(
        rows,
        vec![("bob".into(), "payment".into(), 2000, "visitor".into())]
    );
    let old = fixture(
        SESSION,
        &[
            ("/id", json!("evt_old")),
            ("/data/object/id", json!("cs_old")),
            ("/data/object/customer", json!(null)),
            ("/data/object/client_reference_id", json!("vis-old")),
        ],
    );
    assert_eq!(
        deliver(&mut conn, &r, &old, &ids),
        Outcome::Stored("none".into())
    );
}
