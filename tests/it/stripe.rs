//! `POST /stripe` of `serve` (plain tier): real server process, real SQLite, events signed with
//! the Stripe scheme by our own signer (the e2e tier signs with Stripe's library).

use crate::support::serve::{now, Serve, BROWSER_UA};
use crate::support::stripe::{self, money, SECRETS};
use partner_pages::collector::stripe::sign;
use serde_json::json;

fn start() -> Serve {
    let site = stripe::site("link");
    let secrets = site.path().join("stripe-secrets.txt");
    std::fs::write(&secrets, format!("{}\n{}\n", SECRETS[0], SECRETS[1])).unwrap();
    let arg = secrets.display().to_string();
    Serve::start_in(site, &["--no-watch", "--stripe-secret-file", &arg], true)
}

fn post(s: &Serve, body: &[u8], header: &str) -> (u16, String) {
    let r = s.send(
        "POST",
        "/stripe",
        &[
            ("Stripe-Signature", header),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    (r.status, r.text())
}

fn signed(body: &[u8], t: i64) -> String {
    format!("t={t},v1={}", sign(SECRETS[1].as_bytes(), t, body))
}

#[test]
fn serve_stores_each_stripe_payment_once_and_refunds_as_negative_rows() {
    let s = start();
    // A visitor comes through a partner link: the site passes the visitor id to Checkout.
    let click = s.get("/go/seo-consultant", &[("User-Agent", BROWSER_UA)]);
    assert_eq!(click.status, 302);
    let cookies = click.cookie_header();
    let vid = cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("pp_vid="))
        .expect("visitor cookie")
        .to_string();
    let t = now();
    let sale = stripe::event(
        "checkout.session.completed",
        &[
            ("/created", json!(t)),
            ("/data/object/client_reference_id", json!(vid)),
        ],
    );
    // Three deliveries of the same event, one row.
    for i in 0..3 {
        let (status, text) = post(&s, &sale, &signed(&sale, now()));
        assert_eq!(status, 200, "delivery {i}: {text}");
    }
    let rows = money(&s.db);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            rows[0].partner.as_str(),
            rows[0].amount,
            rows[0].rule.as_str()
        ),
        ("seo-consultant", 4900, "visitor")
    );
    // A tampered body, a 301-second-old timestamp, no header, an unknown secret: 400, no row.
    let tampered = String::from_utf8(sale.clone())
        .unwrap()
        .replace("4900", "9900");
    let refund = stripe::event("charge.refunded", &[("/created", json!(t))]);
    for (body, header) in [
        (tampered.as_bytes().to_vec(), signed(&sale, now())),
        (refund.clone(), signed(&refund, now() - 301)),
        (refund.clone(), String::new()),
        (
            refund.clone(),
            format!("t={t},v1={}", sign(b"whsec_other", t, &refund)),
        ),
    ] {
        let (status, text) = post(&s, &body, &header);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("nothing stored"), "{text}");
    }
    assert_eq!(money(&s.db).len(), 1);
    // The older secret still verifies (rotation); the refund lands once, negative, pointing
    // at the payment, net of tax in the payment's proportion (2940 of 5880 gross: 2450 net).
    let old = format!("t={t},v1={}", sign(SECRETS[0].as_bytes(), t, &refund));
    for _ in 0..3 {
        assert_eq!(post(&s, &refund, &old).0, 200);
    }
    let rows = money(&s.db);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[1].kind.as_str(), rows[1].amount), ("refund", -2450));
    assert_eq!(rows[1].object, rows[0].object);
    // Bad input: unknown currency, fractional amount, body over the limit: 400, nothing stored.
    let bad_currency = stripe::event("invoice.paid", &[("/data/object/currency", json!("zzz"))]);
    let fractional = stripe::event(
        "invoice.paid",
        &[("/data/object/total_excluding_tax", json!(20.5))],
    );
    for (body, want) in [
        (bad_currency, "unknown currency `zzz`"),
        (fractional, "total_excluding_tax"),
    ] {
        let (status, text) = post(&s, &body, &signed(&body, now()));
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(want), "{text}");
    }
    let big = vec![b' '; partner_pages::collector::stripe::MAX_STRIPE_BODY + 1];
    let (status, text) = post(&s, &big, &signed(&big, now()));
    assert_eq!(status, 400, "{text}");
    // Another event type: 200, nothing stored.
    let other = stripe::event(
        "invoice.paid",
        &[
            ("/type", json!("customer.created")),
            ("/id", json!("evt_other")),
        ],
    );
    assert_eq!(post(&s, &other, &signed(&other, now())).0, 200);
    assert_eq!(money(&s.db).len(), 2);
    // GET is not allowed.
    assert_eq!(s.get("/stripe", &[]).status, 405);
}
