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
    // GET gives the visitor id of the cookie, for Checkout's client_reference_id.
    let mine = s.get("/stripe", &[("Cookie", &cookies)]);
    assert_eq!(mine.status, 200);
    assert_eq!(mine.header("cache-control"), Some("private, no-store"));
    let v: serde_json::Value = serde_json::from_slice(&mine.body).unwrap();
    assert_eq!(v, json!({ "visitor_id": vid }));
    let none: serde_json::Value = serde_json::from_slice(&s.get("/stripe", &[]).body).unwrap();
    assert_eq!(none, json!({ "visitor_id": null }));
    assert_eq!(s.send("PUT", "/stripe", &[], b"").status, 405);
}

/// The expected books, kept by the test from what it sent (not from the table).
#[derive(Default)]
struct Books {
    /// partner -> net of its payments minus its refunds.
    net: std::collections::BTreeMap<String, i64>,
    /// Stripe event id -> (partner, rule) of each payment.
    rules: std::collections::BTreeMap<String, (String, String)>,
}

#[test]
fn report_json_gives_net_revenue_per_partner_and_the_rule_of_each_payment() {
    let s = start();
    let t0 = now();
    let mut books = Books::default();
    let partners = ["seo-consultant", "founder-community", "nocode-agency"];
    // A small deterministic generator (no time, no randomness from outside).
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let send = |body: &[u8]| {
        let (status, text) = post(&s, body, &signed(body, now()));
        assert_eq!(status, 200, "{text}");
    };
    let visitor_of = |code: &str| -> String {
        let r = s.get(&format!("/go/{code}"), &[("User-Agent", BROWSER_UA)]);
        r.cookie_header()
            .split("; ")
            .find_map(|c| c.strip_prefix("pp_vid="))
            .expect("visitor cookie")
            .to_string()
    };
    let mut k = 0;
    // Sales through partner links, each with its own customer; some renew, one is partly refunded.
    for i in 0..9 {
        let partner = partners[i % 3];
        let vid = visitor_of(partner);
        let net = 1000 + 100 * next(40) as i64;
        let tax = next(3) as i64 * net / 5;
        let customer = format!("cus_gen_{i}");
        k += 1;
        let sale_event = format!("evt_sale_{i}");
        let sale = stripe::event(
            "checkout.session.completed",
            &[
                ("/id", json!(sale_event)),
                ("/created", json!(t0 + k)),
                ("/data/object/id", json!(format!("cs_gen_{i}"))),
                ("/data/object/amount_total", json!(net + tax)),
                ("/data/object/total_details/amount_tax", json!(tax)),
                ("/data/object/customer", json!(customer)),
                ("/data/object/payment_intent", json!(format!("pi_gen_{i}"))),
                ("/data/object/client_reference_id", json!(vid)),
            ],
        );
        send(&sale);
        *books.net.entry(partner.into()).or_default() += net;
        books
            .rules
            .insert(sale_event, (partner.into(), "visitor".into()));
        if i % 2 == 0 {
            let renewal_event = format!("evt_renewal_{i}");
            let excl = 900 + 10 * next(50) as i64;
            let renewal = stripe::event(
                "invoice.paid",
                &[
                    ("/id", json!(renewal_event)),
                    ("/created", json!(t0 + 100 + k)),
                    ("/data/object/id", json!(format!("in_gen_{i}"))),
                    ("/data/object/customer", json!(customer)),
                    ("/data/object/amount_paid", json!(excl + excl / 5)),
                    ("/data/object/total_excluding_tax", json!(excl)),
                    (
                        "/data/object/payments/data/0/payment/payment_intent",
                        json!(format!("pi_gen_renewal_{i}")),
                    ),
                ],
            );
            send(&renewal);
            *books.net.entry(partner.into()).or_default() += excl;
            books
                .rules
                .insert(renewal_event, (partner.into(), "customer".into()));
        }
        if i == 4 {
            // A third of the charge refunded: a third of the net (rounded half up).
            let gross = net + tax;
            let refunded = gross / 3;
            let refund = stripe::event(
                "charge.refunded",
                &[
                    ("/id", json!("evt_refund_gen")),
                    ("/created", json!(t0 + 200)),
                    ("/data/object/id", json!("ch_gen_4")),
                    ("/data/object/payment_intent", json!("pi_gen_4")),
                    ("/data/object/amount", json!(gross)),
                    ("/data/object/amount_refunded", json!(refunded)),
                    ("/data/object/customer", json!(customer)),
                ],
            );
            send(&refund);
            *books.net.entry(partner.into()).or_default() -= (refunded * net + gross / 2) / gross;
        }
    }
    // A coupon sale with no visitor id: founder-community's coupon.
    let coupon_sale = stripe::event(
        "checkout.session.completed",
        &[
            ("/id", json!("evt_coupon_sale")),
            ("/created", json!(t0 + 300)),
            ("/data/object/id", json!("cs_coupon")),
            ("/data/object/customer", json!("cus_coupon")),
            ("/data/object/payment_intent", json!("pi_coupon")),
            ("/data/object/client_reference_id", json!(null)),
            ("/data/object/discounts", json!([{"coupon": "founders"}])),
        ],
    );
    send(&coupon_sale);
    *books.net.entry("founder-community".into()).or_default() += 4900;
    books.rules.insert(
        "evt_coupon_sale".into(),
        ("founder-community".into(), "coupon".into()),
    );
    // A visitor of seo-consultant pays with founder-community's coupon: the link wins (the
    // site's default).
    let vid = visitor_of("seo-consultant");
    let disagreement = stripe::event(
        "checkout.session.completed",
        &[
            ("/id", json!("evt_disagree")),
            ("/created", json!(t0 + 301)),
            ("/data/object/id", json!("cs_disagree")),
            ("/data/object/customer", json!("cus_disagree")),
            ("/data/object/payment_intent", json!("pi_disagree")),
            ("/data/object/client_reference_id", json!(vid)),
            (
                "/data/object/discounts",
                json!([{"promotion_code": {"id": "FOUNDERS"}}]),
            ),
        ],
    );
    send(&disagreement);
    *books.net.entry("seo-consultant".into()).or_default() += 4900;
    books.rules.insert(
        "evt_disagree".into(),
        ("seo-consultant".into(), "visitor_over_coupon".into()),
    );

    let day = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let out = std::process::Command::new(crate::support::bin())
        .arg("--root")
        .arg(s.site.path())
        .args(["report", "--events"])
        .arg(&s.db)
        .args(["--since", &day(t0 - 86_400), "--until", &day(t0 + 86_400)])
        .args(["--now", &day(t0 + 86_400), "--format", "json"])
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rev = &report["revenue"];
    let got: std::collections::BTreeMap<String, i64> = rev["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["currency"], "eur");
            (
                l["partner"].as_str().unwrap().to_string(),
                l["net"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, books.net);
    let rules: std::collections::BTreeMap<String, (String, String)> = rev["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["stripe_event_id"].as_str().unwrap().to_string(),
                (
                    p["partner"].as_str().unwrap().to_string(),
                    p["rule"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(rules, books.rules);
    assert_eq!(rev["unmatched"], json!([]));
    // The Markdown report shows the same section.
    let md = std::process::Command::new(crate::support::bin())
        .arg("--root")
        .arg(s.site.path())
        .args(["report", "--events"])
        .arg(&s.db)
        .args(["--since", &day(t0 - 86_400), "--until", &day(t0 + 86_400)])
        .args(["--now", &day(t0 + 86_400)])
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("## Revenue (Stripe)"), "{md}");
    assert!(md.contains("visitor_over_coupon"), "{md}");

    let range = [
        "--since".to_string(),
        day(t0 - 86_400),
        "--until".into(),
        day(t0 + 86_400),
        "--now".into(),
        day(t0 + 86_400),
    ];
    let cli = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(crate::support::bin())
            .arg("--root")
            .arg(s.site.path())
            .args(args)
            .arg("--events")
            .arg(&s.db)
            .args(&range)
            .args(["--format", "json"])
            .env_remove("PARTNER_PAGES_ROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // The partner report: the partner's own customers and net revenue, nobody else's.
    let pr = cli(&["report", "--for-partner", "--partner", "founder-community"]);
    let lines = pr["revenue"]
        .as_array()
        .expect("revenue in the partner report");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["net"].as_i64(),
        books.net.get("founder-community").copied()
    );
    assert_eq!(
        lines[0]["paying_customers"], 4,
        "3 by link, 1 by coupon: {pr}"
    );
    // `leads`: the leads who paid say so; the disagreement's visitor paid 49.00 EUR.
    let leads = cli(&["leads", "--stage", "click"]);
    let paid: Vec<&serde_json::Value> = leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.get("paid").is_some())
        .collect();
    assert_eq!(paid.len(), 10, "9 link sales and the disagreement: {leads}");
    let disagreeing = paid
        .iter()
        .find(|l| l["visitor_id"] == json!(vid))
        .expect("the disagreement's visitor paid");
    assert_eq!(
        disagreeing["paid"],
        json!([{"currency": "eur", "payments": 1, "net": 4900}])
    );
    // The MCP tool answers the same revenue as the CLI.
    let mut c = crate::support::mcp::Client::spawn(s.site.path(), &s.db);
    c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let resp = c.call(
        "funnel_report",
        json!({"since": day(t0 - 86_400), "until": day(t0 + 86_400), "now": day(t0 + 86_400)}),
    );
    let answer: serde_json::Value =
        serde_json::from_str(crate::support::mcp::tool_text(&resp)).unwrap();
    assert_eq!(answer["revenue"], report["revenue"]);
    c.close();
}
